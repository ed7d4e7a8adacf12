"""The plain data that flows through grading: what a submission is and what grading found.

Everything here is JSON-serialisable on purpose: results cross the sandbox boundary as JSON,
are stored beside the autograded notebook (`autograded/<student>/<module>/result.json`), and are
read back by feedback and reports. No pickles anywhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Submission:
    """One student's work on one module, as found under submitted/."""

    student: str
    module: str  # e.g. "05_autograd"
    folder: Path  # submitted/<student>/<module>/
    timestamp: str | None = None  # ISO 8601, from nbgrader's timestamp.txt when present

    @property
    def notebook(self) -> Path:
        return self.folder / f"{self.module}.ipynb"

    def digest(self) -> str:
        """sha256 over every file of the submission (names and bytes): 'changed' means this changed."""
        sha = hashlib.sha256()
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            sha.update(path.relative_to(self.folder).as_posix().encode() + b"\0")
            sha.update(path.read_bytes() if path.stat().st_size <= 64 * 2**20 else b"<large>")
            sha.update(b"\0")
        return sha.hexdigest()


@dataclass
class CellResult:
    """One graded cell: its points, decided outside the sandbox (see `tito.grade.stages.score`).

    `ename`/`evalue` say why it lost points: the notebook's error, or "ReferenceMismatch" and the
    first case that disagreed with the reference."""

    grade_id: str
    max_points: float
    points: float
    passed: bool
    ename: str | None = None
    evalue: str | None = None  # the failing assertion's message, capped
    stderr: bool = False
    has_hidden_tests: bool = False  # the cell has hidden cases (their values are never shown)
    notebook_passed: bool = False  # the notebook's own verdict: feedback, never points alone
    raised_in: str | None = None  # the function of the innermost frame of the cell's error (e.g. "Tensor.__pow__")


@dataclass
class CheckResult:
    """One differential case: the student's values compared with the reference's, outside.

    `cell` is the graded cell the case belongs to. A case with points (the checkpoint cell's)
    scores them when it agrees; a case without (`max_points` 0) only gates its cell."""

    name: str
    max_points: float
    points: float
    passed: bool
    message: str = ""
    cell: str = ""
    hidden: bool = False


@dataclass
class Flag:
    """Something a reviewer must look at: tampering, touching the grading machinery, mismatches."""

    kind: str  # e.g. "restored-locked-cell", "grading-machinery", "tests-pass-checks-fail"
    evidence: str


INTERNAL_ERROR = "internal grading error"  # how a reason starts when our code, not the submission, failed


@dataclass
class GradeResult:
    """Everything grading decided about one submission."""

    student: str
    module: str
    digest: str
    status: str  # "graded" | "error" (the submission could not be graded; `reason` says why)
    reason: str | None = None
    cells: list[CellResult] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    # the module's build id (tito.grade.course_build) it was graded with: a course change makes the
    # result stale and `tito autograde` grades it again; "" for results written before builds were kept
    build: str = ""

    # The differential checks' points are carried by the module's checkpoint cell (one of
    # `cells`), which is how they reach nbgrader's gradebook; they are not counted twice here.
    @property
    def score(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.cells)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "GradeResult":
        data = dict(data)
        data["cells"] = [CellResult(**c) for c in data.get("cells", [])]
        data["checks"] = [CheckResult(**c) for c in data.get("checks", [])]
        data["flags"] = [Flag(**f) for f in data.get("flags", [])]
        return cls(**data)
