"""The class roster: a CSV into nbgrader's gradebook, and the roster as the collectors see it.

Accepted CSV headers (case, spaces and underscores do not matter; a UTF-8 BOM from Excel is fine):

    ours / nbgrader's `db student import`: id, first_name, last_name, email[, lms_user_id]
    Canvas gradebook export:  Student ("Last, First"), ID (Canvas' numeric user id, kept as
                              lms_user_id), SIS User ID / SIS Login ID (the student id), Section...
    Canvas people / other:    Name ("First Last"), Login ID, Email, ...

Bad rows are rejected one by one, each with `file:line: problem`; good rows are imported.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from tito.collect._nbgrader import scripts_on_path
from tito.errors import TitoError

# student ids become directory names (submitted/<id>/) and nbgrader keys
VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# normalised header -> our field, in order of preference per field
ID_HEADERS = ("id", "studentid", "sisloginid", "sisuserid", "loginid", "username", "userid")
CANVAS_ID_HEADER = "id"  # in a Canvas export (has a "student" column), "ID" is Canvas' own user id
FIRST_HEADERS = ("firstname", "givenname", "first")
LAST_HEADERS = ("lastname", "familyname", "surname", "last")
EMAIL_HEADERS = ("email", "emailaddress", "mail")
LMS_HEADERS = ("lmsuserid", "canvasid", "canvasuserid")
FULL_NAME_LAST_FIRST = ("student", "sortablename")  # "Last, First"
FULL_NAME = ("name", "fullname", "displayname")  # "First Last"
SKIPPED_ROWS = re.compile(r"^\s*(points possible|student, test|test student)\s*$", re.I)


@dataclass(frozen=True)
class RosterEntry:
    id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lms_user_id: str | None = None


@dataclass
class Roster:
    """The students the collectors match files against (from a CSV or the gradebook)."""

    entries: list[RosterEntry] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # "file:line: problem"
    skipped: list[str] = field(default_factory=list)  # rows that are not students (Canvas' "Points Possible")

    def ids(self) -> set[str]:
        return {e.id for e in self.entries}

    def get(self, student_id: str) -> RosterEntry | None:
        return next((e for e in self.entries if e.id == student_id), None)


@dataclass
class RosterImport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _norm(header: str | None) -> str:
    return re.sub(r"[\s_\-]+", "", (header or "").strip().lower())


def read_roster_csv(path: Path) -> Roster:
    """Parse a roster CSV; rows with problems land in `rejected`, never silently dropped."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise TitoError(f"{path}: not UTF-8 text (byte {error.start}); export the roster as UTF-8 CSV") from None
    except OSError as error:
        raise TitoError(f"{path}: cannot read the roster: {error.strerror}") from None
    rows = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(rows)
    except StopIteration:
        raise TitoError(f"{path}:1: the roster is empty (expected a header: id,first_name,last_name,email)") from None
    columns = _columns(path, header)
    roster, seen = Roster(), {}
    for row in rows:
        line = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path}:{line}"
        name_column = columns.get("lastfirst", columns.get("name"))
        if name_column is not None and name_column < len(row) and SKIPPED_ROWS.match(row[name_column]):
            roster.skipped.append(f"{where}: {row[name_column].strip()!r} is not a student (skipped)")
            continue
        try:
            entry = _entry(row, header, columns)
        except ValueError as problem:
            roster.rejected.append(f"{where}: {problem}")
            continue
        if entry.id in seen:
            roster.rejected.append(f"{where}: student id {entry.id!r} already on line {seen[entry.id]}")
            continue
        seen[entry.id] = line
        roster.entries.append(entry)
    return roster


def _columns(path: Path, header: list[str]) -> dict[str, int]:
    normalised = [_norm(h) for h in header]
    canvas = any(h in normalised for h in FULL_NAME_LAST_FIRST)

    def find(names: tuple[str, ...]) -> int | None:
        for name in names:
            if name in normalised:
                return normalised.index(name)
        return None

    id_names = tuple(n for n in ID_HEADERS if not (canvas and n == CANVAS_ID_HEADER))
    columns = {"id": find(id_names), "first": find(FIRST_HEADERS), "last": find(LAST_HEADERS),
               "email": find(EMAIL_HEADERS), "lms": find(LMS_HEADERS), "lastfirst": find(FULL_NAME_LAST_FIRST),
               "name": find(FULL_NAME)}
    if canvas and columns["lms"] is None and CANVAS_ID_HEADER in normalised:
        columns["lms"] = normalised.index(CANVAS_ID_HEADER)
    if columns["id"] is None:
        raise TitoError(f"{path}:1: no student id column in the header ({', '.join(header)}); expected one of "
                        "id, student_id, SIS Login ID, SIS User ID, Login ID, username")
    return {k: v for k, v in columns.items() if v is not None}


def _entry(row: list[str], header: list[str], columns: dict[str, int]) -> RosterEntry:
    if len(row) > len(header):
        raise ValueError(f"{len(row)} fields but the header has {len(header)} (an unquoted comma?)")

    def cell(key: str) -> str | None:
        index = columns.get(key)
        value = row[index].strip() if index is not None and index < len(row) else ""
        return value or None

    student_id = cell("id")
    if student_id is None:
        raise ValueError("no student id")
    if not VALID_ID.match(student_id):
        raise ValueError(f"student id {student_id!r} is not usable as a folder name "
                         "(letters, digits and . _ @ + - only, not starting with a symbol, at most 128)")
    first, last = cell("first"), cell("last")
    if first is None and last is None:
        first, last = _split_name(cell("lastfirst"), cell("name"))
    email = cell("email")
    if email is not None and not EMAIL.match(email):
        raise ValueError(f"email {email!r} is not an email address")
    return RosterEntry(student_id, first, last, email, cell("lms"))


def _split_name(last_first: str | None, full: str | None) -> tuple[str | None, str | None]:
    if last_first and "," in last_first:
        last, first = (part.strip() for part in last_first.split(",", 1))
        return first or None, last or None
    name = last_first or full
    if not name:
        return None, None
    parts = name.rsplit(" ", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def import_roster(csv_path: Path, db_url: str, course_id: str | None = None) -> RosterImport:
    """Add or update every good row of the CSV as an nbgrader student; report bad rows.

    Fields missing from the CSV (say, no email column) are left as they are in the gradebook.
    """
    from nbgrader.api import Gradebook, MissingEntry

    roster = read_roster_csv(Path(csv_path))
    scripts_on_path()
    report = RosterImport(rejected=list(roster.rejected), skipped=list(roster.skipped))
    kwargs = {"course_id": course_id} if course_id else {}
    with Gradebook(db_url, **kwargs) as gradebook:
        for entry in roster.entries:
            fields = {k: getattr(entry, k) for k in ("first_name", "last_name", "email", "lms_user_id")
                      if getattr(entry, k) is not None}
            try:
                student = gradebook.find_student(entry.id)
            except MissingEntry:
                gradebook.update_or_create_student(entry.id, **fields)
                report.added += 1
                continue
            if all(getattr(student, k) == v for k, v in fields.items()):
                report.unchanged += 1
            else:
                gradebook.update_or_create_student(entry.id, **fields)
                report.updated += 1
    return report


def roster_from_gradebook(db_url: str, course_id: str | None = None) -> Roster:
    """The students nbgrader knows (`nbgrader db student list`)."""
    from nbgrader.api import Gradebook

    scripts_on_path()
    with Gradebook(db_url, **({"course_id": course_id} if course_id else {})) as gradebook:
        return Roster([RosterEntry(s.id, s.first_name, s.last_name, s.email, s.lms_user_id)
                       for s in gradebook.students])


def load_roster(roster: "Roster | Path | str | list") -> Roster:
    """A Roster from a Roster, a CSV path, a database URL (`sqlite:///...`), or a list of entries/dicts/ids."""
    if isinstance(roster, Roster):
        return roster
    if isinstance(roster, list):
        entries = [e if isinstance(e, RosterEntry) else RosterEntry(e) if isinstance(e, str) else RosterEntry(**e)
                   for e in roster]
        return Roster(entries)
    if isinstance(roster, str) and "://" in roster:
        return roster_from_gradebook(roster)
    return read_roster_csv(Path(roster))
