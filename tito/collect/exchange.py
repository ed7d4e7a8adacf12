"""`nbgrader collect` for courses that use nbgrader's exchange (JupyterHub, a shared folder).

nbgrader does the work (newest submission per student, timestamps, the before-due-date rule);
this wrapper loads the course's nbgrader_config.py, runs nbgrader's own collect through its
Python API, and reports per student what changed under submitted/ (nbgrader only logs it), and
which collected students the gradebook does not know.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from tito.collect._nbgrader import scripts_on_path
from tito.collect.lms import module_name
from tito.errors import TitoError


@dataclass
class Collected:
    student: str
    status: str  # "new" | "updated" | "unchanged"
    timestamp: str | None
    on_roster: bool


@dataclass
class ExchangeReport:
    module: str
    exchange_root: str
    success: bool
    log: str = ""
    students: list[Collected] = field(default_factory=list)

    def with_status(self, *statuses: str) -> list[Collected]:
        return [s for s in self.students if s.status in statuses]


def collect_from_exchange(root: Path, module: str, *, update: bool = True, config=None) -> ExchangeReport:
    """Run nbgrader's collect for `module` with the course's configuration (or `config`, a
    traitlets Config that replaces it) and report what it changed under submitted/."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from tito.release import load_config

    root = Path(root).resolve()
    name = module_name(root, module)
    config = load_config(root) if config is None else config
    config.NbGraderAPI.log_level = logging.WARNING
    scripts_on_path()
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    exchange_root = str(api.exchange.Collect(coursedir=coursedir, authenticator=api.authenticator, parent=api).root)
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    before = _stamps(submitted, name)
    result = api.collect(name, update=update)
    log = (result.get("log") or "") + (result.get("error") or "")
    if not result.get("success"):
        raise TitoError(f"{name}: nbgrader collect failed (exchange {exchange_root}):\n{log.strip()}")
    after = _stamps(submitted, name)
    known = _gradebook_students(coursedir.db_url, coursedir.course_id)
    report = ExchangeReport(name, exchange_root, True, log)
    for student in sorted(after):
        status = ("new" if student not in before else "unchanged" if before[student] == after[student]
                  else "updated")
        report.students.append(Collected(student, status, after[student], student in known))
    return report


def _stamps(submitted: Path, module: str) -> dict[str, str | None]:
    """student -> timestamp.txt content, for every submitted/<student>/<module>/."""
    found = {}
    for folder in sorted(submitted.glob(f"*/{module}")) if submitted.is_dir() else []:
        if folder.is_dir():
            stamp = folder / "timestamp.txt"
            found[folder.parent.name] = stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else None
    return found


def _gradebook_students(db_url: str, course_id: str) -> set[str]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url, course_id) as gradebook:
        return {student.id for student in gradebook.students}
