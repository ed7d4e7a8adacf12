"""A lint finding: one problem, located precisely enough to fix without searching."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """`file` is repo-relative; `cell` is the notebook cell index; `line` is 1-based in the cell of a
    notebook, in the file otherwise (a source `.py`, where the cell is named for context). Plain
    data, so reports can serialise it.
    """

    rule: str  # e.g. "release-parse"
    module: str  # e.g. "05_autograd"
    file: str
    cell: int | None
    grade_id: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        """`release/05_autograd/05_autograd.ipynb: cell 12 (test-add) line 3: [release-parse] ...`, or
        for a file that is not a notebook `source/05_autograd/05_autograd.py:57: cell 12 (test-add): [...] ...`
        (`file:line:`, which editors and terminals open at the line)."""
        if not self.file.endswith(".ipynb") and self.line is not None:
            where = f"{self.file}:{self.line}"
            if self.cell is not None:
                where += f": cell {self.cell}" + (f" ({self.grade_id})" if self.grade_id else "")
            return f"{where}: [{self.rule}] {self.message}"
        where = self.file
        if self.cell is not None:
            where += f": cell {self.cell}"
            if self.grade_id:
                where += f" ({self.grade_id})"
        if self.line is not None:
            where += f" line {self.line}"
        return f"{where}: [{self.rule}] {self.message}"
