"""A student's own `tinytorch` package root: their finished modules plus the published reference.

A module is the student's when their notebook's `#| export` cells hold no `raise NotImplementedError()`
stub line any more (the line nbgrader puts where a solution goes). Otherwise only the published
reference (`release/_reference/`, the modules the instructor chose to publish) can stand in; a
module that is neither finished nor published is missing, and the student is told how to fix it.
Never the instructor's full `tinytorch/`: what a student runs is what a student has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tito.build.partial import copy_package_inits, partial_reference
from tito.course import MODULE_DIR, Module, published_root, relpath, select
from tito.errors import TitoError
from tito.build.student_module import export_problems, student_module_files
from tito.source import is_exported

STUB_LINE = re.compile(r"^\s*raise NotImplementedError\(\)\s*$")
STUDENT, REFERENCE, MISSING = "student", "reference", "missing"


@dataclass(frozen=True)
class Choice:
    """Where one module of a build comes from: the student's notebook, the published reference,
    or nowhere (missing)."""

    module: Module
    owner: str  # STUDENT, REFERENCE or MISSING
    reason: str
    path: Path | None = None  # where the student's notebook of this module is (or would be)
    notebook: nbformat.NotebookNode | None = field(default=None, compare=False, repr=False)  # STUDENT: its code


def stub_lines(notebook: nbformat.NotebookNode) -> int:
    """How many `raise NotImplementedError()` stub lines the notebook's export cells still hold."""
    return sum(1 for cell in notebook.cells if is_exported(cell)
               for line in cell.source.splitlines() if STUB_LINE.match(line))


def notebook_path(notebooks: Path, module: Module) -> Path:
    """The student's notebook of `module` in a folder laid out like release/."""
    return notebooks / module.name / f"{module.name}.ipynb"


def copies(path: Path) -> list[Path]:
    """The other notebooks in the folder of a module's notebook `path`: a copy Jupyter made
    (`01_tensor-Copy1.ipynb`), a download saved twice (`01_tensor (1).ipynb`), a renamed one.
    The tools, nbgrader and grading read `path` only."""
    folder = path.parent
    return sorted(p for p in folder.glob("*.ipynb") if p.name != path.name) if folder.is_dir() else []


def misnamed(path: Path) -> str:
    """Why a module's notebook `path` is missing although its folder holds notebooks, and what to
    do ("" when it is there, or when the folder holds none)."""
    others = copies(path)
    if path.is_file() or not others:
        return ""
    names = ", ".join(p.name for p in others)
    action = (f"rename it to {path.name}" if len(others) == 1
              else f"keep the one you work in as {path.name}")
    return f"no {path.name} in {path.parent.name}/ but {names}: {action} (tito, nbgrader and grading read that name only)"


def unreadable_folders(folder: Path) -> list[str]:
    """`misnamed`'s message for every module folder under `folder` (laid out like release/) whose
    notebook is missing but that holds other notebooks, known modules or not: in a student kit a
    module is known by its notebook, so a renamed one makes the module vanish."""
    problems = []
    for directory in sorted(folder.iterdir()) if folder.is_dir() else []:
        if MODULE_DIR.match(directory.name):
            problem = misnamed(directory / f"{directory.name}.ipynb")
            if problem:
                problems.append(problem)
    return problems


def select_module(modules: list[Module], name: str, notebooks: Path) -> Module:
    """The module called `name` (`01_tensor`, `01` or `tensor`); when there is none, a module
    folder under `notebooks` whose notebook was renamed or copied is named, with what to do."""
    try:
        return select(modules, name)[0]
    except TitoError as error:
        for directory in sorted(notebooks.iterdir()) if notebooks.is_dir() else []:
            match = MODULE_DIR.match(directory.name)
            if match and name in (directory.name, match["number"], match["title"]):
                problem = misnamed(directory / f"{directory.name}.ipynb")
                if problem:
                    raise TitoError(f"module {directory.name}: {problem}") from None
        raise error


def read_finished(path: Path, module: Module) -> tuple[nbformat.NotebookNode | None, str]:
    """The notebook at `path` if it is finished (None otherwise), and why."""
    if not path.is_file():
        return None, misnamed(path) or f"no notebook {path.name}"
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except Exception as error:
        return None, f"unreadable notebook ({type(error).__name__})"
    stubs = stub_lines(notebook)
    if stubs:
        return None, f"unfinished: {stubs} `raise NotImplementedError()` stub(s) left"
    problems = export_problems(notebook, module)
    if problems:
        return None, f"its module cannot be built: {problems[0]}"
    return notebook, "finished (no stubs left in its export cells)"


def choose(module: Module, notebooks: Path, *, prefer_reference: bool) -> Choice:
    """Whose code `module` will be. `prefer_reference`: the published reference wins over a
    finished notebook (as in grading, where earlier modules are the reference); otherwise the
    student's finished work wins (their own build)."""
    path = notebook_path(notebooks, module)
    notebook, why = read_finished(path, module)
    if path.is_file() and copies(path):
        why += f" ({', '.join(p.name for p in copies(path))} beside it: not read)"
    published = module.published_target.is_file()
    if published and (prefer_reference or notebook is None):
        reason = "the published reference" if notebook else f"{why}; the published reference"
        return Choice(module, REFERENCE, reason, path)
    if notebook is not None:
        return Choice(module, STUDENT, why, path, notebook)
    return Choice(module, MISSING, f"{why}; its reference is not published", path)


def how_to_get(root: Path, choice: Choice) -> str:
    """What a student does about a missing module."""
    return (f"finish it in {relpath(root, choice.path)} "
            "or ask your instructor to publish its reference")


def write_stack(root: Path, dest: Path, choices: list[Choice]) -> Path:
    """Write `dest/tinytorch/`: each STUDENT module from the student's export cells, each
    REFERENCE module from the published reference; MISSING modules are left out. Returns `dest`,
    a package root."""
    root = root.resolve()
    published = published_root(root)
    partial_reference(root, dest, [c.module for c in choices if c.owner == REFERENCE], origin=published)
    for choice in choices:
        if choice.owner == STUDENT:
            for relative, text in student_module_files(choice.notebook, choice.module).items():
                copy_package_inits(published, dest, relative)
                (dest / relative).write_text(text, encoding="utf-8")
    return dest
