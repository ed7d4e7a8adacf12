"""`tito build`: the student's own `tinytorch` from their notebooks' `#| export` cells.

Modules whose notebook is missing or still holds `raise NotImplementedError()` stubs in its export
cells come from the published reference, so the whole stack always imports and every checkpoint
can run on it: `TINYTORCH_ROOT=<out> make checkpoints`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from tito.course import Module
from tito.errors import TitoError
from tito.grade.checks import export_problems
from tito.student.stack import Choice, stub_lines, write_stack

DEFAULT_OUT = Path(".tito") / "student-build"


def plan(modules: list[Module], notebooks: Path) -> list[Choice]:
    """Whose code each module will be, and why."""
    choices = []
    for module in modules:
        path = notebooks / module.name / f"{module.name}.ipynb"
        if not path.is_file():
            choices.append(Choice(module, "reference", f"no notebook {path.name}"))
            continue
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception as error:
            choices.append(Choice(module, "reference", f"unreadable notebook ({type(error).__name__})", path))
            continue
        stubs = stub_lines(nb)
        problems = export_problems(nb)
        if stubs:
            choices.append(Choice(module, "reference", f"unfinished: {stubs} `raise NotImplementedError()` stub(s) left", path))
        elif problems:
            choices.append(Choice(module, "reference", f"an export cell does not parse: {problems[0]}", path))
        else:
            choices.append(Choice(module, "student", "finished (no stubs left in its export cells)", path))
    return choices


def build(root: Path, modules: list[Module], notebooks: Path, out: Path) -> list[Choice]:
    """Write `out/tinytorch/` (replacing an earlier build) and return the plan it followed."""
    choices = plan(modules, notebooks)
    package = out / "tinytorch"
    if package.exists():
        if not (package / "__init__.py").is_file():
            raise TitoError(f"{package} exists and is not a tinytorch build; choose another --out")
        shutil.rmtree(package)
    student = {c.module: nbformat.read(str(c.notebook), as_version=4) for c in choices if c.owner == "student"}
    write_stack(root, out, modules, student)
    return choices
