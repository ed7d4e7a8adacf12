"""Reading an instructor source (`source/NN/NN.py`, jupytext percent) into notebook cells.

Shared by export, notebooks and lint so that all three see the very same cells, numbered the
way the derived `.ipynb` numbers them.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat

from tito.course import EXPORT
from tito.errors import TitoError

DIRECTIVE = re.compile(r"^\s*#\|")
SOLUTION_MARKER = re.compile(r"^\s*###\s*(BEGIN|END) SOLUTION\s*$")
HIDDEN_MARKER = re.compile(r"^\s*###\s*(BEGIN|END) HIDDEN TESTS\s*$")


def read_source(path: Path) -> nbformat.NotebookNode:
    """Parse a percent script into a notebook; a parse failure names the file."""
    try:
        return jupytext.read(path, fmt="py:percent")
    except Exception as error:  # jupytext raises many types; the file name is what matters
        raise TitoError(f"{path}: jupytext cannot read it: {error}") from error


def nbgrader_meta(cell: nbformat.NotebookNode) -> dict:
    """The cell's nbgrader metadata (empty dict when it has none)."""
    return dict(cell.get("metadata", {}).get("nbgrader", {}))


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_graded_test(cell: nbformat.NotebookNode) -> bool:
    """A graded test cell: nbgrader `grade` true and `solution` false (autograded tests)."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def points(cell: nbformat.NotebookNode) -> float:
    value = nbgrader_meta(cell).get("points", 0)
    return float(value) if isinstance(value, (int, float)) else 0.0


def is_exported(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and any(EXPORT.match(line) for line in cell.source.splitlines())
