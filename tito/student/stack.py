"""A student's own `tinytorch` package root: their exported modules plus the published reference.

A module is the student's when their notebook's `#| export` cells hold no `raise NotImplementedError()`
stub line any more (the line nbgrader puts where a solution goes); otherwise the reference stands in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tito.build.partial import copy_package_inits, partial_reference
from tito.course import Module
from tito.grade.checks import student_module_source
from tito.source import is_exported

STUB_LINE = re.compile(r"^\s*raise NotImplementedError\(\)\s*$")


@dataclass(frozen=True)
class Choice:
    """Where one module of a build comes from."""

    module: Module
    owner: str  # "student" or "reference"
    reason: str
    notebook: Path | None = None


def stub_lines(notebook: nbformat.NotebookNode) -> int:
    """How many `raise NotImplementedError()` stub lines the notebook's export cells still hold."""
    return sum(1 for cell in notebook.cells if is_exported(cell)
               for line in cell.source.splitlines() if STUB_LINE.match(line))


def write_stack(root: Path, dest: Path, modules: list[Module], student: dict[Module, nbformat.NotebookNode]) -> Path:
    """Write `dest/tinytorch/`: each module in `student` from the student's export cells, every
    other module of `modules` from the published reference. Returns `dest`, a package root."""
    root = root.resolve()
    partial_reference(root, dest, [m for m in modules if m not in student])
    for module, notebook in student.items():
        relative = module.export_target.relative_to(root)
        copy_package_inits(root, dest, relative)
        (dest / relative).write_text(student_module_source(notebook, module), encoding="utf-8")
    return dest
