"""Write grading results into nbgrader's gradebook, one submission per transaction.

We use nbgrader's own ORM (nbgrader.api), so formgrader, `nbgrader generate_feedback` and
`nbgrader export` see exactly our scores. nbgrader's convenience methods commit after every row;
here the whole submission (student, submission, every grade, flags) is written in one
transaction, so a grading run killed at any instant leaves either the old rows or the new ones,
never half of a submission.

Integrity flags live in a table of our own, `tito_flags`, in the same database.

The gradebook is the course's `c.CourseDirectory.db_url`: an SQLite file beside the course by
default, or a PostgreSQL database (`postgresql+psycopg://...`, docs/database.md); nbgrader's ORM
and our one-transaction-per-submission writes are the same on both.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import Column, MetaData, String, Table, Text, delete, insert, select
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from tito.errors import TitoError
from tito.grade.model import GradeResult

_metadata = MetaData()
flags_table = Table(
    "tito_flags", _metadata,
    Column("student", String(128), nullable=False),
    Column("module", String(128), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("evidence", Text, nullable=False),
)


class GradebookError(TitoError):
    """The gradebook cannot be used (corrupt, locked, missing the assignment): never overwritten."""


def course_db_url(root: Path, config=None) -> str:
    """The gradebook of the course at `root`: c.CourseDirectory.db_url, or gradebook.db beside it.
    `config` is the course's nbgrader config when the caller has already loaded it."""
    from tito.release import load_config

    config = config if config is not None else load_config(root)
    return str(config.CourseDirectory.get("db_url") or f"sqlite:///{root / 'gradebook.db'}")


def db_path(db_url: str) -> Path | None:
    """The file of an SQLite gradebook; None for a database server (or SQLite in memory)."""
    return Path(db_url[len("sqlite:///"):]) if db_url.startswith("sqlite:///") else None


def describe(db_url: str) -> str:
    """The gradebook as messages name it: an SQLite file's path, or the URL without its password."""
    from sqlalchemy.engine import make_url

    path = db_path(db_url)
    if path is not None:
        return str(path)
    try:  # unquoted: a unix socket's folder reads as a path
        return unquote(make_url(db_url).render_as_string(hide_password=True))
    except ArgumentError:
        return "c.CourseDirectory.db_url (not a database URL)"


def check_usable(db_url: str) -> None:
    """Refuse, with a clear message, a gradebook file that is not a healthy SQLite database."""
    path = db_path(db_url)
    if path is None or not path.exists():
        return
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as connection:
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise GradebookError(f"{path}: not a usable SQLite gradebook ({error}); restore it from a backup "
                                 "or move it away; tito will not overwrite it") from None
        raise GradebookError(f"{path}: the gradebook is locked by another program (formgrader, an "
                             "nbgrader command, an open sqlite3 shell?); nothing was written: run again once it is "
                             "closed") from None
    except sqlite3.DatabaseError as error:
        raise GradebookError(f"{path}: not a usable SQLite gradebook ({error}); restore it from a backup "
                             "or move it away; tito will not overwrite it") from None
    if verdict != "ok":
        raise GradebookError(f"{path}: the gradebook is corrupt (integrity check: {verdict}); "
                             "restore it from a backup; tito will not overwrite it")


@contextmanager
def open_gradebook(db_url: str):
    """nbgrader's Gradebook, with database failures turned into a GradebookError naming the
    gradebook (an SQLite file or a database server's URL, never its password)."""
    from nbgrader.api import Gradebook

    check_usable(db_url)
    try:
        with Gradebook(db_url) as gradebook:
            _metadata.create_all(gradebook.engine)
            yield gradebook
    except (OperationalError, DatabaseError) as error:
        raise GradebookError(f"{describe(db_url)}: database error ({error.orig}); nothing was written for the "
                             "failed submission") from None


def record(gradebook, result: GradeResult, notebook_name: str, timestamp: str | None,
           checkpoint_cells: set[str]) -> None:
    """Write one submission's grades and flags atomically."""
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    session = gradebook.db
    try:
        assignment = gradebook.find_assignment(result.module)
        student = session.get(Student, result.student)
        if student is None:
            student = Student(id=result.student)
            session.add(student)
        submission = (session.query(SubmittedAssignment)
                      .filter_by(assignment_id=assignment.id, student_id=result.student).one_or_none())
        if submission is None:
            with session.no_autoflush:  # mirror nbgrader's add_submission, without its commits
                submission = SubmittedAssignment(assignment=assignment, student=student)
                rows = [submission]
                for notebook in assignment.notebooks:
                    submitted_notebook = SubmittedNotebook(notebook=notebook, assignment=submission)
                    rows.append(submitted_notebook)
                    rows += [Grade(cell_id=cell.id, notebook=submitted_notebook)
                             for cell in list(notebook.grade_cells) + list(notebook.task_cells)]
                    rows += [Comment(cell_id=cell.id, notebook=submitted_notebook)
                             for cell in list(notebook.solution_cells) + list(notebook.task_cells)]
                # SQLAlchemy 2 no longer cascades through backrefs: add every row explicitly
                session.add_all(rows)
            session.flush()  # new Grade rows learn their cells
        submission.timestamp = _parse_timestamp(timestamp)
        scores = {cell.grade_id: cell.points for cell in result.cells}
        flagged = any(flag.kind != "note" for flag in result.flags)  # a note (a renamed file) is no review
        for submitted_notebook in submission.notebooks:
            if submitted_notebook.notebook.name != notebook_name:
                continue
            names = {cell.id: cell.name for cell in submitted_notebook.notebook.grade_cells}
            for grade in submitted_notebook.grades:
                name = names[grade.cell_id]
                grade.auto_score = float(scores.get(name, 0.0))
                # a flagged submission's checkpoint points wait for a human, as nbgrader marks
                # grades that need review
                grade.needs_manual_grade = grade.manual_score is not None or (flagged and name in checkpoint_cells)
        session.execute(delete(flags_table).where(flags_table.c.student == result.student,
                                                  flags_table.c.module == result.module))
        for flag in result.flags:
            session.execute(insert(flags_table).values(student=result.student, module=result.module,
                                                       kind=flag.kind, evidence=flag.evidence))
        session.commit()
    except Exception:
        session.rollback()
        raise


def read_flags(gradebook) -> list[dict]:
    rows = gradebook.db.execute(select(flags_table)).mappings().all()
    return [dict(row) for row in rows]


def _parse_timestamp(timestamp: str | None) -> datetime | None:
    if not timestamp:
        return None
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(timestamp)
    except Exception:
        return datetime.now(timezone.utc).replace(tzinfo=None)
