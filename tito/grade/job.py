"""One submission on its way through the grading stages (`tito.grade.stages`).

Each stage reads what the stages before it filled in and fills in its own fields; the order is
declared once, in `stages.STAGES`. A stage that finds the submission cannot be graded raises
`Ungradable` with the reason the student will read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tito.course import Module
from tito.grade.checks import CheckPlan
from tito.grade.execute import ExecuteOutcome
from tito.grade.model import CheckResult, GradeResult, Submission
from tito.grade.prepare import Prepared


class Ungradable(Exception):
    """The submission cannot be graded; the message is the reason recorded for the student."""


@dataclass(frozen=True)
class CellToRun:
    """A code cell the sandbox executes: its position in the prepared notebook, its code and,
    for a graded cell, its grade id."""

    index: int
    source: str
    grade_id: str | None

    def to_json(self) -> dict:
        return {"index": self.index, "source": self.source, "grade_id": self.grade_id}


@dataclass
class Job:
    submission: Submission
    module: Module
    result: GradeResult
    scratch: Path  # this submission's private folder (removed when it is done)
    seed: int  # the case inputs' seed, computed by the supervisor (`tito.grade.secret`)
    keep: bool = True  # whether to produce the executed notebook for autograded/
    submitted: nbformat.NotebookNode | None = None  # read
    notes: list[str] = field(default_factory=list)  # read
    prepared: Prepared | None = None  # prepare
    cells: list[CellToRun] = field(default_factory=list)  # select
    lib: Path | None = None  # plan: the earlier modules the student's code runs beside
    plan: CheckPlan | None = None  # plan
    outcome: ExecuteOutcome | None = None  # session
    checks: list[CheckResult] = field(default_factory=list)  # session
    executed: bytes | None = None  # keep: the executed notebook, for the supervisor to write
