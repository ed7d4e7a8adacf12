"""Which build of the course a grade was computed with.

A grade depends on more than the submission: the reference package the cases are compared with,
the module's spec, its release notebook (the authority for locked cells), the code that runs
inside the sandbox and the grading settings of nbgrader_config.py (its limits, the cases'
timeout, what stands in for earlier modules; not the rest of the file: a late-penalty policy
changes no grade's points). A module's build id is a digest of all
of them, so a result records what it was computed with, `tito autograde` can tell a result made
stale by a course change from a current one, and a remote worker can refuse a task meant for a
different build instead of grading it against stale references.

The digest covers only what grading module M reads: the reference of M and the modules before
it, not a later module's, so publishing or fixing module 07 leaves module 01's grades current.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from tito.course import Module, published_root
from tito.grade import config as grading_config
from tito.grade.inner import script

INNER_SCRIPTS = ("run_notebook.py", "checks_child.py", "run_cases.py", "casekit.py", "valuepack.py")
CONFIG = "nbgrader_config.py"


def module_build_id(root: Path, modules: list[Module], module: Module) -> str:
    """16 hex digits naming everything grading `module` reads besides the submission."""
    digest = hashlib.sha256()
    digest.update(_grading_settings(root, _mtime(root / CONFIG)).encode() + b"\0")
    for label, path in _inputs(root, modules, module):
        digest.update(label.encode() + b"\0")
        digest.update(_bytes(path) + b"\0")
    return digest.hexdigest()[:16]


def course_build_id(root: Path, modules: list[Module]) -> str:
    """The whole course's build: every module's build id, in course order."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(f"{module.name}={module_build_id(root, modules, module)}\n".encode())
    return digest.hexdigest()[:16]


def _inputs(root: Path, modules: list[Module], module: Module) -> list[tuple[str, Path]]:
    """(label, file) pairs in a stable order; a missing file hashes as empty, which differs from
    any present one, so deleting a file changes the id too."""
    upto = [m for m in modules if m.number <= module.number]
    published = published_root(root)
    inputs = [("release", module.release_ipynb), ("spec", module.cases_py)]
    for earlier in upto:
        for target in earlier.export_targets:
            relative = target.relative_to(root)
            inputs.append((f"reference:{earlier.name}:{relative.as_posix()}", target))
            inputs.append((f"published:{earlier.name}:{relative.as_posix()}", published / relative))
    inputs += [(f"inner:{name}", script(name)) for name in INNER_SCRIPTS]
    return inputs


@functools.lru_cache(maxsize=8)
def _grading_settings(root: Path, mtime: int) -> str:
    """The settings that change a grade, as text (the secret file's location is not one of
    them, and differs between the supervisor and a remote worker); read once per version of
    the file."""
    settings = grading_config.load(root)
    return f"{settings.limits!r} cases_timeout={settings.cases_timeout!r} earlier={settings.earlier_modules}"


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def _bytes(path: Path) -> bytes:
    try:
        return b"present\0" + path.read_bytes()
    except FileNotFoundError:
        return b"absent"
