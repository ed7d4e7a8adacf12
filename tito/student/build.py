"""`tito build`: the student's own `tinytorch` from their notebooks' `#| export` cells.

A module whose notebook is finished (no `raise NotImplementedError()` stub left in its export
cells) is the student's; any other comes from the published reference if the instructor
published it, and is otherwise missing (the table says how to get it). With every module
available the whole stack imports and every checkpoint can run on it:
`TINYTORCH_ROOT=<out> make checkpoints`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tito.course import Module
from tito.errors import TitoError
from tito.student.command import tito_command
from tito.student.stack import Choice, choose, write_stack

DEFAULT_OUT = Path(".tito") / "student-build"


def plan(modules: list[Module], notebooks: Path) -> list[Choice]:
    """Whose code each module will be, and why: the student's finished work first."""
    return [choose(module, notebooks, prefer_reference=False) for module in modules]


def build(root: Path, modules: list[Module], notebooks: Path, out: Path) -> list[Choice]:
    """Write `out/tinytorch/` (replacing an earlier build) and return the plan it followed."""
    choices = plan(modules, notebooks)
    package = out / "tinytorch"
    if package.exists():
        if not (package / "__init__.py").is_file():
            raise TitoError(f"{package} exists and is not a tinytorch build; choose another --out")
        shutil.rmtree(package)
    write_stack(root, out, choices)
    return choices


def run_checkpoints(root: Path, out: Path) -> int:
    """The course's checkpoints on the build at `out` (what `make checkpoints` runs): those of the
    modules the build has reached, the others skipped with the reason (checkpoints/conftest.py).
    Returns pytest's exit code; its output goes to the terminal as it comes."""
    if not (out / "tinytorch" / "__init__.py").is_file():
        raise TitoError(f"{out}: no build there; run `{tito_command()} build` first")
    command = [sys.executable, "-m", "pytest", "checkpoints", "-q", "-rs", f"--tinytorch-root={out}",
               "-p", "no:cacheprovider"]
    return subprocess.run(command, cwd=root).returncode
