"""`tito notebooks`: source/NN/NN.py -> source/NN/NN.ipynb, byte for byte reproducible.

nbgrader reads notebooks, so the percent script is converted first. The output must not depend
on when or with which jupytext version it was built: cells get stable ids (nbgrader keeps them in
the release) and jupytext's own metadata is dropped. A file is rewritten only when its content
changes, so timestamps stay meaningful.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from tito.course import Module
from tito.source import read_source

VALID_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
KEPT_CELL_METADATA = ("nbgrader", "tags", "editable", "deletable", "slideshow")
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def to_notebook(module: Module) -> nbformat.NotebookNode:
    """The normalised notebook of a module's source (in memory; nothing written)."""
    notebook = read_source(module.source_py)
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    notebook.metadata = nbformat.from_dict(NOTEBOOK_METADATA)
    for cell in notebook.cells:
        _normalise_cell(cell)
    assign_ids(notebook)
    return notebook


def _normalise_cell(cell: nbformat.NotebookNode) -> None:
    """Keep only metadata nbgrader and Jupyter use; drop trailing blank lines."""
    cell.metadata = nbformat.from_dict({k: v for k, v in cell.metadata.items() if k in KEPT_CELL_METADATA})
    cell.source = cell.source.rstrip()
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None


def assign_ids(notebook: nbformat.NotebookNode) -> None:
    """Stable, unique nbformat 4.5 ids: a valid grade_id, else `cell-<index>`."""
    used: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        wanted = cell.metadata.get("nbgrader", {}).get("grade_id")
        candidate = wanted if isinstance(wanted, str) and VALID_ID.match(wanted) else f"cell-{index}"
        cell.id = _unique(candidate, used)
        used.add(cell.id)


def _unique(candidate: str, used: set[str]) -> str:
    """`candidate`, or `candidate-2`, `-3`... when taken (ids stay within 64 chars)."""
    if candidate not in used:
        return candidate
    suffix = 2
    while f"{candidate[:58]}-{suffix}" in used:
        suffix += 1
    return f"{candidate[:58]}-{suffix}"


def render(module: Module) -> str:
    """The exact text of `source/NN/NN.ipynb`."""
    text = nbformat.writes(to_notebook(module), version=4)
    return text if text.endswith("\n") else text + "\n"


def build(module: Module) -> bool:
    """Write the module's source notebook if its content changed; True when written."""
    return write_if_changed(module.source_ipynb, render(module))


def write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
