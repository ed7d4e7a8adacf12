"""`nbgrader export` for this course: nbgrader's CSV, with no cell a spreadsheet reads as a formula.

Roster names, emails and student ids come from students and LMS files. nbgrader's own
CsvExportPlugin writes them as they are, unquoted: a last name `=HYPERLINK("http://x")` or
`@SUM(1+1)` is a live formula in Excel, LibreOffice and Google Sheets, and a comma in a name
shifts every later column. This plugin writes the same columns and rows through Python's `csv`
module (RFC 4180 quoting, CRLF line ends) and neutralises every cell as OWASP's CSV-injection advice says: text
that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (and, as ASVS adds, a NUL or a
line feed) gets a single quote in front, so the spreadsheet shows it as text; a real negative
number (`-2.5`) stays a number. `defusedcsv` was not used: it leaves a leading tab or CR alone and
rewrites `|` inside cells.

nbgrader_config.py registers it (`c.ExportApp.plugin_class`), so stock `nbgrader export` and
`tito grades` (tito/report/grades.py, which also writes grades_canvas.csv with `neutralise`)
both write it.
"""

from __future__ import annotations

import csv
import re

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins.export import ExportPlugin

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
NEGATIVE_NUMBER = re.compile(r"-(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
KEYS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
        "raw_score", "late_submission_penalty", "score", "max_score"]  # nbgrader's CsvExportPlugin's


def neutralise(value: object) -> str:
    """The cell's text, with a `'` in front when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not NEGATIVE_NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_rows(handle, rows) -> None:
    """Rows as RFC 4180 CSV, every cell neutralised.

    Lines end in CRLF, as RFC 4180 says: Python's `csv` quotes a cell holding a CR only when the
    line terminator holds one, and an unquoted CR starts a new row in a spreadsheet.
    """
    csv.writer(handle, lineterminator="\r\n").writerows([neutralise(cell) for cell in row] for row in rows)


class SafeCsvExportPlugin(ExportPlugin):
    """nbgrader's CsvExportPlugin (same columns, rows and defaults), safe to open in a spreadsheet."""

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades.csv"
        students = [str(item) for item in self.student]
        assignments = [str(item) for item in self.assignment]
        self.log.info("Exporting grades to %s", dest)
        if assignments:
            self.log.info("Exporting only assignments: %s", assignments)
        if students:
            self.log.info("Exporting only students: %s", students)
        with open(dest, "w", encoding="utf-8", newline="") as handle:
            write_rows(handle, [KEYS, *self.rows(gradebook, assignments, students)])

    @staticmethod
    def rows(gradebook: Gradebook, assignments: list[str], students: list[str]):
        """One row per assignment and student, as nbgrader's CsvExportPlugin computes it."""
        for assignment in gradebook.assignments:
            if assignments and assignment.name not in assignments:
                continue
            for student in gradebook.students:
                if students and student.id not in students:
                    continue
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:  # nothing submitted: a score of zero, as nbgrader writes it
                    timestamp, raw, penalty, score = "", 0.0, 0.0, 0.0
                else:
                    timestamp, raw = submission.timestamp, submission.score
                    penalty = submission.late_submission_penalty
                    score = max(0.0, submission.score - penalty)
                yield ["" if value is None else str(value) for value in (
                    assignment.name, assignment.duedate, timestamp, student.id, student.last_name,
                    student.first_name, student.email, raw, penalty, score, assignment.max_score)]
