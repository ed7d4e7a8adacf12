"""Who the student is, for `tito submit`: the id the course knows them by, never their login.

A login name is the wrong id on a shared machine, in a container (`root`) or on a laptop
(`jane`), and a submission under the wrong id is one the instructor cannot match. So the id is
given (`--student ID`), or set once in the course folder (`tito config student-id ID`, kept in
`.tito/student-id`, which the kit's .gitignore keeps out of version control), or asked for at a
terminal and then kept there; without any of these, submitting stops and says how to set it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Callable

from tito.errors import TitoError
from tito.student.command import tito_command

STUDENT_ID_FILE = Path(".tito") / "student-id"
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.@-]*$")  # no "_" (the LMS import splits there), no "+" (nbgrader's exchange does)


def checked(student: str) -> str:
    """`student` if it is an id both the LMS import and nbgrader's exchange can match; else raises."""
    if not STUDENT_ID.match(student):
        raise TitoError(f"{student!r} is not a student id the LMS import can match "
                        "(letters, digits, '.', '@', '-'; no '_', '+' or spaces)")
    return student


def configured(root: Path) -> str | None:
    """The id set in the course folder, if any."""
    path = root / STUDENT_ID_FILE
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def configure(root: Path, student: str) -> Path:
    """Keep `student` as this course folder's student id; returns the file it is kept in."""
    path = root / STUDENT_ID_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(checked(student) + "\n", encoding="utf-8")
    return path


def student_id(root: Path, given: str | None, ask: Callable[[str], str] | None) -> str:
    """The id to submit under: `given`, else the configured one, else one asked for with `ask`
    (None when nobody can answer: not a terminal) and then kept."""
    if given:
        return checked(given)
    kept = configured(root)
    if kept:
        return checked(kept)
    if ask is None:
        raise TitoError("no student id: pass --student ID, or set it once for this course folder with "
                        f"`{tito_command()} config student-id ID` (the id your course knows you by)")
    answer = ask("your student id (the id your course knows you by, e.g. s001): ").strip()
    configure(root, answer)
    return answer


def terminal_prompt() -> Callable[[str], str] | None:
    """`input` when a person is at the terminal, else None."""
    return input if sys.stdin.isatty() else None
