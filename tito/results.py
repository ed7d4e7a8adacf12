"""The one reader of what grading decided: `autograded/<student>/<module>/result.json` and the gradebook.

Feedback pages, the instructor's report and the grade commands all start here and get plain data:
each readable result as an `Entry` (the `GradeResult`, and from nbgrader's gradebook when the
submission came in, its due date and late penalty, `tito.late`), the students' names and the
roster. A result file that cannot be read (corrupt JSON, a schema mismatch, names that disagree
with its folders) never stops the others: it becomes an `Unreadable` entry with a reason, which the
report lists. A course without a gradebook (or with one that cannot be read) still has its
results; the lateness is then unknown and `Results.gradebook_note` says why, if not obvious.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tito.grade.gradebook import course_db_url, db_path
from tito.grade.model import GradeResult

RESULT_FILE = "result.json"
# One path component, no dot-dot, no separators: student ids and module names become folder
# names of feedback/ and links of the report.
SAFE_NAME = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._@+-]{1,128}$")


NOTE = "note"  # a Flag of this kind is information (e.g. "graded x.ipynb, expected y.ipynb"), not for review


def review_flags(result: GradeResult) -> list:
    """The flags a reviewer must look at (every kind but "note")."""
    return [f for f in result.flags if f.kind != NOTE]


def notes(result: GradeResult) -> list:
    return [f for f in result.flags if f.kind == NOTE]


@dataclass(frozen=True)
class Lateness:
    """When a submission came in and what that cost, as nbgrader's gradebook records it (UTC)."""

    submitted: datetime | None = None  # the submission's timestamp (None: not recorded)
    due: datetime | None = None  # the due date, the student's extension included (None: no due date)
    seconds_late: float = 0.0
    penalty: float = 0.0  # points taken off the score (nbgrader's late_submission_penalty)

    @property
    def late(self) -> bool:
        return self.seconds_late > 0


UNKNOWN = Lateness()


@dataclass(frozen=True)
class Entry:
    """One readable result and its lateness."""

    result: GradeResult
    lateness: Lateness = UNKNOWN

    @property
    def student(self) -> str:
        return self.result.student

    @property
    def module(self) -> str:
        return self.result.module

    @property
    def points(self) -> float:
        """The score that counts (what the exports hold): a graded submission's score minus its
        late penalty, never below 0; a submission that could not be graded counts 0."""
        if self.result.status != "graded":
            return 0.0
        return max(0.0, self.result.score - self.lateness.penalty)


@dataclass(frozen=True)
class Unreadable:
    path: Path
    reason: str


@dataclass
class Results:
    """Every result found, sorted by (module, student), the files that could not be read, and
    what the gradebook says about the students."""

    entries: list[Entry] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # student id -> "First Last", for those with a name
    roster: list[str] | None = None  # every student id of the gradebook (None: no gradebook read)
    gradebook_note: str | None = None  # why the gradebook was not read, when it exists

    @property
    def results(self) -> list[GradeResult]:
        return [e.result for e in self.entries]

    def students(self) -> list[str]:
        """The roster's students and anyone with a result, sorted."""
        return sorted(set(self.roster or ()) | {e.student for e in self.entries})

    def of_module(self, module: str) -> list[Entry]:
        return [e for e in self.entries if e.module == module]


def is_safe_name(name: object) -> bool:
    return isinstance(name, str) and bool(SAFE_NAME.match(name))


def feedback_path(root: Path, student: str, module: str) -> Path:
    """Where a result's feedback page is written (`tito feedback`) and linked from (the report)."""
    return root / "feedback" / student / module / f"{module}.html"


def result_paths(root: Path) -> list[Path]:
    autograded = root / "autograded"
    return sorted(autograded.glob(f"*/*/{RESULT_FILE}")) if autograded.is_dir() else []


def read_result(path: Path) -> GradeResult:
    """One result.json; ValueError (with the reason) when it is not a sound GradeResult."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read it: {error}") from error
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    try:
        result = GradeResult.from_json(data)
    except TypeError as error:
        raise ValueError(f"not a GradeResult: {error}") from error
    student, module = path.parent.parent.name, path.parent.name
    if (result.student, result.module) != (student, module):
        raise ValueError(f"names {result.student!r}/{result.module!r} but sits in {student}/{module}/")
    if not (is_safe_name(result.student) and is_safe_name(result.module)):
        raise ValueError("student or module name is not a plain file name")
    if result.status not in ("graded", "error"):
        raise ValueError(f"unknown status {result.status!r}")
    return result


def load_results(root: Path) -> Results:
    """Every result.json under `root`, with what the gradebook (when there is one) adds."""
    loaded = Results()
    found = []
    for path in result_paths(root):
        try:
            found.append(read_result(path))
        except ValueError as error:
            loaded.unreadable.append(Unreadable(path, str(error)))
    lateness: dict[tuple[str, str], Lateness] = {}
    try:
        lateness = _read_gradebook(root, loaded)
    except Exception as error:  # feedback and the report must not depend on a healthy gradebook
        loaded.gradebook_note = f"gradebook not read ({type(error).__name__}: {error}); names, roster and lateness left out"
    loaded.entries = sorted((Entry(r, lateness.get((r.student, r.module), UNKNOWN)) for r in found),
                            key=lambda e: (e.module, e.student))
    return loaded


def _read_gradebook(root: Path, loaded: Results) -> dict[tuple[str, str], Lateness]:
    """Fill `loaded`'s names and roster; return each submission's lateness by (student, module)."""
    if not (root / "nbgrader_config.py").is_file():
        return {}
    from tito.release import load_config

    with open_course_gradebook(root, load_config(root)) as gradebook:
        if gradebook is None:
            return {}
        students = {s.id: " ".join(p for p in (s.first_name, s.last_name) if p) for s in gradebook.students}
        lateness = {}
        for assignment in gradebook.assignments:
            for submission in gradebook.assignment_submissions(assignment.name):
                lateness[submission.student.id, assignment.name] = Lateness(
                    submitted=submission.timestamp, due=submission.duedate,
                    seconds_late=float(submission.total_seconds_late),
                    penalty=float(submission.late_submission_penalty or 0.0))
    loaded.roster = sorted(students)
    loaded.names = {k: v for k, v in students.items() if v}
    return lateness


@contextmanager
def open_course_gradebook(root: Path, config):
    """nbgrader's Gradebook of the course, or None where none exists (never creates an empty one)."""
    from nbgrader.api import Gradebook

    url = course_db_url(root, config)
    path = db_path(url)
    if path is not None and not path.is_file():
        yield None
        return
    course_id = str(config.CourseDirectory.get("course_id") or "default_course")
    with Gradebook(url, course_id) as gradebook:
        yield gradebook
