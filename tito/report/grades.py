"""Grade exports from nbgrader's gradebook: `grades.csv` (nbgrader's own) and `grades_canvas.csv`.

The gradebook is authoritative, so both exports read it and nothing else. `tito autograde` writes
one Grade per graded cell of the release notebook (`tito.grade.gradebook.record`), its auto_score
the cell's points as grading decided them: the checkpoint cell's (`<name>-checkpoint`) are the
points of its cases that agreed with the reference. The cases themselves have no rows there
(they are in each `result.json`, which the report reads). The checkpoint grade of a submission
with flags is marked as needing a manual grade, which changes no score in these exports.

`grades_canvas.csv` follows the layout of a Canvas gradebook export, which Canvas imports back:

    Student,ID,SIS User ID,SIS Login ID,Section,01_tensor (100),...
        Points Possible,,,,,100,...
    "Lovelace, Ada",,ada,ada,,87.5,...

`Student` is "Last, First" (the student id when the gradebook has no name), `ID` nbgrader's
`lms_user_id` (Canvas's own user id, when the roster import filled it), `SIS User ID` and
`SIS Login ID` the nbgrader student id (the hub login), `Section` empty. Each module column holds
the submission's total score after its late penalty, as nbgrader's own export computes it; a
student without a submission gets an empty cell (Canvas leaves such grades untouched).

Both exports first assess every submission's late penalty in the gradebook under the course's
policy (`tito.late.assess`: the due dates, extensions and policy as they are now), so the
`late_submission_penalty` column and the Canvas scores follow them.

Neither file holds a cell a spreadsheet would read as a formula: names, ids and emails come from
students, so every cell goes through `tito.report.nbgrader_export.neutralise` (a `'` before text
that starts with `=`, `+`, `-`, `@`, a tab or a CR; real negative numbers stay numbers). grades.csv
is written by that module's SafeCsvExportPlugin, which nbgrader_config.py also registers for stock
`nbgrader export`.
"""

from __future__ import annotations

import logging
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tito.errors import TitoError
from tito.grade.gradebook import course_db_url, db_path
from tito.late import assess
from tito.release import load_config
from tito.results import open_course_gradebook

CANVAS_FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "    Points Possible"  # Canvas's own spelling, indentation included


def export_grades(root: Path) -> Path:
    """`grades.csv` through the course's export plugin (nbgrader's CSV, formulas neutralised).

    This is what `nbgrader export` runs (ExportApp opens the gradebook and calls the plugin); the
    course config may narrow it (`ExportPlugin.assignment`, `ExportPlugin.student`).
    """
    from tito.report.nbgrader_export import SafeCsvExportPlugin

    config = load_config(root)
    dest = root / "grades.csv"
    with _gradebook(root, config) as gradebook, _atomic(dest) as tmp:
        assess(gradebook, config)
        plugin = SafeCsvExportPlugin(config=config)
        plugin.log.setLevel(logging.WARNING)
        plugin.to = str(tmp)
        plugin.export(gradebook)
    return dest


def export_canvas(root: Path) -> Path:
    """`grades_canvas.csv`: one row per student, one column per module (see the module docstring)."""
    from tito.report.nbgrader_export import write_rows

    config = load_config(root)
    dest = root / "grades_canvas.csv"
    with _gradebook(root, config) as gradebook:
        assess(gradebook, config)
        rows = canvas_rows(gradebook)
    with _atomic(dest) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        write_rows(handle, rows)
    return dest


def canvas_rows(gradebook) -> list[list[str]]:
    """Header, the Points Possible row, then one row per student (sorted by name, then id)."""
    assignments = sorted(gradebook.assignments, key=lambda a: a.name)
    header = CANVAS_FIXED + [f"{a.name} ({_number(a.max_score)})" for a in assignments]
    possible = [POINTS_POSSIBLE, "", "", "", ""] + [_number(a.max_score) for a in assignments]
    scores: dict[tuple[str, str], float] = {}
    for assignment in assignments:
        for submission in gradebook.assignment_submissions(assignment.name):
            penalty = submission.late_submission_penalty or 0.0
            scores[assignment.name, submission.student.id] = max(0.0, submission.score - penalty)
    students = sorted(gradebook.students, key=lambda s: (_display(s).lower(), s.id))
    rows = [header, possible]
    for student in students:
        fixed = [_display(student), student.lms_user_id or "", student.id, student.id, ""]
        cells = [_number(scores[a.name, student.id]) if (a.name, student.id) in scores else "" for a in assignments]
        rows.append(fixed + cells)
    return rows


def _display(student) -> str:
    last, first = (student.last_name or "").strip(), (student.first_name or "").strip()
    if last and first:
        return f"{last}, {first}"
    return last or first or student.id


def _number(value: float | None) -> str:
    """Scores as Canvas reads them: 87.5, 100, 33.33 (two decimals at most, no exponent)."""
    if value is None:
        return ""
    text = f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@contextmanager
def _gradebook(root: Path, config):
    """nbgrader's Gradebook of the course; refuses to create an empty one where none exists."""
    with open_course_gradebook(root, config) as gradebook:
        if gradebook is None:
            raise TitoError(f"{db_path(course_db_url(root, config))}: no gradebook yet; run `tito autograde` first")
        yield gradebook


@contextmanager
def _atomic(dest: Path):
    """A temporary path beside `dest`, renamed onto it only if the block succeeds."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
