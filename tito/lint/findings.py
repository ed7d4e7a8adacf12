"""A lint finding: one problem, located precisely enough to fix without searching."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """`file` is repo-relative; `cell` is the notebook cell index; `line` is 1-based in the cell
    (or in the file, for a file that is not a notebook). Plain data, so reports can serialise it.
    """

    rule: str  # e.g. "release-parse"
    module: str  # e.g. "05_autograd"
    file: str
    cell: int | None
    grade_id: str | None
    line: int | None
    message: str

    def __str__(self) -> str:
        """`source/05_autograd/05_autograd.ipynb: cell 12 (test-add) line 3: [release-parse] ...`"""
        where = self.file
        if self.cell is not None:
            where += f": cell {self.cell}"
            if self.grade_id:
                where += f" ({self.grade_id})"
        if self.line is not None:
            where += f" line {self.line}"
        return f"{where}: [{self.rule}] {self.message}"
