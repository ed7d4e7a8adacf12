"""Which checkpoints a tinytorch build can answer, and whose code each of its modules is.

Checkpoint NN tests modules 01..NN. On a student's own build (`tito build`) a module is the
student's (exported from their notebook), the published reference (their notebook is not
finished and the instructor published that module), or absent (neither). A checkpoint whose
modules are not all there cannot even be imported: it is skipped, saying which module is
missing. A checkpoint whose own module is the published reference would test the instructor's
code and pass on an unfinished notebook: it is skipped too, saying so. Earlier modules may be
the reference; the run's summary lists where each module came from.

Used by checkpoints/conftest.py; the reference package itself (the default root) is never judged.
"""

from __future__ import annotations

from pathlib import Path

from tito.course import Module
from tito.student.command import tito_command

YOURS, PUBLISHED, ABSENT = "yours", "published reference", "not in this build"


def origins(modules: list[Module], package_root: Path) -> dict[str, str]:
    """Each module's origin in the package root `package_root` (which holds `tinytorch/`): absent
    when one of its files is missing, the published reference when every file is the published one."""
    origin_of = {}
    for module in modules:
        files = [package_root / target.relative_to(module.root) for target in module.export_targets]
        if not all(file.is_file() for file in files):
            origin_of[module.name] = ABSENT
        elif all(published.is_file() and file.read_bytes() == published.read_bytes()
                 for file, published in zip(files, module.published_targets)):
            origin_of[module.name] = PUBLISHED
        else:
            origin_of[module.name] = YOURS
    return origin_of


def skip_reason(number: int, modules: list[Module], found: dict[str, str]) -> str | None:
    """Why checkpoint `number` cannot test the student's work in this build (None: it can)."""
    needed = [m for m in modules if m.number <= number]
    absent = [m.name for m in needed if found.get(m.name) == ABSENT]
    if absent:
        return (f"needs {', '.join(absent)}, not in this build (neither your finished notebook nor a "
                f"published reference: `{tito_command()} build` says why)")
    own = next((m for m in needed if m.number == number), None)
    if own is not None and found.get(own.name) == PUBLISHED:
        return (f"{own.name} in this build is the published reference, not your work (your notebook of it "
                "is not finished): this checkpoint would test the instructor's code")
    return None


def summary(found: dict[str, str]) -> str:
    """One line: where each module of the build came from."""
    return "modules under test: " + ", ".join(f"{name} ({origin})" for name, origin in found.items())
