"""A lint finding: one problem, located precisely enough to fix without searching."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Finding:
    """`file` is repo-relative; `cell` is the notebook cell index; `line` is 1-based in the cell."""

    file: str
    cell: int | None
    line: int | None
    rule: str
    module: str
    grade_id: str | None
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
