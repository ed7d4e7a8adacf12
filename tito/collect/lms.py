"""Submissions downloaded from an LMS (a folder or a .zip) into submitted/<student>/<module>/.

Which student a file belongs to, tried in this order:

1. a folder named after a roster id:      `s001/lab.ipynb`, `downloads/s001/05_autograd.ipynb`
2. Canvas' bulk-download name:            `<lastfirst>[_late]_<canvas user id>_<submission id>_<file>`,
                                          e.g. `doe_jane_12345_67890_05_autograd.ipynb`, matched by the
                                          Canvas user id (the roster's lms_user_id) or else by the name
3. a roster id at the start of the name:  `s001_05_autograd.ipynb`, `s001-lab5.ipynb`, `s001.ipynb`

Every file of the download ends up in the report with one status and a reason:

    matched        copied to submitted/<student>/<module>/<module>.ipynb
    renamed        copied, and the student's file name was not <module>.ipynb
    duplicate      the student has a newer file in this download; this one was not copied
    kept-existing  submitted/ already holds a newer (or different, same-time) submission: not overwritten
    unchanged      submitted/ already holds exactly this file
    rejected       not copied: no roster student matches, not a notebook, a path escaping the
                   download (zip-slip), a symbolic link, larger than the cap, unreadable

The submission time (timestamp.txt, nbgrader's format) is the zip entry's time or the file's
modification time. Zip entries carry no time zone; they are taken as UTC (Canvas writes UTC).
Nothing is ever extracted by its own name: bytes are read and written to a path we build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import unicodedata
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Callable

from tito import course
from tito.collect.roster import Roster, RosterEntry, load_roster
from tito.errors import TitoError

MAX_BYTES = 20 * 2**20  # the same cap grading applies to a notebook
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's Exchange.timestamp_format
CANVAS = re.compile(r"^(?P<name>[a-z][a-z_'\-]*?)(?:_(?P<late>late))?_(?P<lms>\d+)_(?P<sub>\d+)_(?P<file>.+)$", re.I)
STATUSES = ("matched", "renamed", "duplicate", "kept-existing", "unchanged", "rejected")


@dataclass
class FileResult:
    """What happened to one file of the download."""

    file: str  # its path inside the download (zip entry name or path relative to the folder)
    status: str  # one of STATUSES
    student: str | None = None
    reason: str = ""
    dest: str | None = None  # course-relative path written (matched / renamed)
    timestamp: str | None = None  # the file's submission time (nbgrader's format)


@dataclass
class ImportReport:
    module: str
    source: str
    files: list[FileResult] = field(default_factory=list)

    def with_status(self, *statuses: str) -> list[FileResult]:
        return [f for f in self.files if f.status in statuses]

    @property
    def imported(self) -> list[FileResult]:
        return self.with_status("matched", "renamed")

    @property
    def rejected(self) -> list[FileResult]:
        return self.with_status("rejected")

    def counts(self) -> dict[str, int]:
        return {status: len(self.with_status(status)) for status in STATUSES}


@dataclass
class _Item:
    name: str
    size: int
    mtime: datetime
    read: Callable[[], bytes] | None  # None when the item is rejected before reading
    problem: str | None = None


@dataclass
class _Candidate:
    item: _Item
    student: str
    how: str  # how the student was matched, for the report
    submitted_name: str  # the student's own file name (LMS prefix removed)
    order: tuple  # newest last: (mtime, submission id, name)
    note: str = ""


def import_lms(source: Path, root: Path, module: str, roster, *, max_bytes: int = MAX_BYTES) -> ImportReport:
    """Import an LMS download for `module` (see the module docstring); returns the report.

    `roster`: a Roster, a roster CSV path, a gradebook URL, or a list of ids / RosterEntry.
    """
    source, root = Path(source), Path(root).resolve()
    name = module_name(root, module)
    students = load_roster(roster)
    if not students.entries:
        raise TitoError("the roster is empty: no file could be matched (import the roster first)")
    report = ImportReport(name, str(source))
    with _download(source, max_bytes) as items:
        candidates = [c for c in (_match(item, students, report) for item in items) if c is not None]
        by_student: dict[str, list[_Candidate]] = {}
        for candidate in candidates:
            by_student.setdefault(candidate.student, []).append(candidate)
        for student, group in by_student.items():
            group.sort(key=lambda c: c.order)
            newest = group[-1]
            for older in group[:-1]:
                report.files.append(FileResult(
                    older.item.name, "duplicate", student,
                    f"{student} has a newer file in this download: {newest.item.name} ({_format(newest.item.mtime)})",
                    None, _format(older.item.mtime)))
            report.files.append(_store(newest, root, name))
    order = {item.name: index for index, item in enumerate(items)}
    report.files.sort(key=lambda f: order.get(f.file, len(order)))
    return report


def module_name(root: Path, module: str) -> str:
    """The course module's full name (`05_autograd` from `05`, `autograd` or itself)."""
    modules = course.discover(root) if (root / "source").is_dir() else []
    if modules:
        return course.select(modules, module)[0].name
    if not course.MODULE_DIR.match(module):
        raise TitoError(f"{module!r} is not a module name like 05_autograd (and {root} has no source/ to look it up)")
    return module


# ----------------------------------------------------------------------------------------------
# reading the download


@contextmanager
def _download(source: Path, max_bytes: int):
    """The download's items; a zip stays open (entries are read one at a time, when stored)."""
    if source.is_dir():
        yield list(_folder_items(source, max_bytes))
    elif source.is_file() and zipfile.is_zipfile(source):
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as error:
            raise TitoError(f"{source}: cannot open the zip: {error}") from None
        with archive:
            yield list(_zip_items(archive, max_bytes))
    elif source.is_file():
        raise TitoError(f"{source}: not a zip file or a folder")
    else:
        raise TitoError(f"{source}: no such file or folder")


def _zip_items(archive: zipfile.ZipFile, max_bytes: int):
    for info in archive.infolist():
        if info.is_dir():
            continue
        item = _Item(info.filename, info.file_size, datetime(*info.date_time, tzinfo=timezone.utc), None)
        if _escapes(info.filename):
            item.problem = "the path escapes the download folder (zip-slip); not extracted"
        elif stat.S_ISLNK(info.external_attr >> 16):
            item.problem = "a symbolic link, not a file"
        elif info.file_size > max_bytes:
            item.problem = _too_big(info.file_size, max_bytes)
        else:
            item.read = _zip_reader(archive, info, max_bytes)
        yield item


def _zip_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            with archive.open(info) as handle:
                data = handle.read(max_bytes + 1)  # never more than the cap, whatever the header says
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
            raise _Unreadable(f"damaged inside the zip ({error})") from None
        if len(data) > max_bytes:
            raise _Unreadable(_too_big(len(data), max_bytes))
        return data
    return read


class _Unreadable(Exception):
    """A file of the download that cannot be read; the message is the report's reason."""


def _escapes(name: str) -> bool:
    path = name.replace("\\", "/")
    return (path.startswith("/") or re.match(r"^[A-Za-z]:", path) is not None
            or ".." in PurePosixPath(path).parts)


def _folder_items(source: Path, max_bytes: int):
    for directory, dirnames, filenames in os.walk(source, followlinks=False):
        base = Path(directory)
        for name in sorted(dirnames):
            if (base / name).is_symlink():
                rel = (base / name).relative_to(source).as_posix()
                yield _Item(rel, 0, _mtime(base / name, follow=False), None, "a symbolic link to a folder; not followed")
        dirnames.sort()
        for name in sorted(filenames):
            path = base / name
            rel = path.relative_to(source).as_posix()
            info = path.lstat()
            item = _Item(rel, info.st_size, _mtime(path, follow=False), None)
            if stat.S_ISLNK(info.st_mode):
                item.problem = "a symbolic link, not a file; not followed"
            elif not stat.S_ISREG(info.st_mode):
                item.problem = "not a regular file"
            elif info.st_size > max_bytes:
                item.problem = _too_big(info.st_size, max_bytes)
            else:
                item.read = path.read_bytes
            yield item


def _mtime(path: Path, follow: bool = True) -> datetime:
    seconds = path.stat().st_mtime if follow else path.lstat().st_mtime
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _too_big(size: int, cap: int) -> str:
    return f"{_size(size)}, larger than the {_size(cap)} cap for a notebook"


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MB" if count >= 2**20 else f"{count / 2**10:.1f} KB"


# ----------------------------------------------------------------------------------------------
# whose file is it


def _letters(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _match(item: _Item, roster: Roster, report: ImportReport) -> _Candidate | None:
    def reject(reason: str, student: str | None = None) -> None:
        report.files.append(FileResult(item.name, "rejected", student, reason, None, _format(item.mtime)))

    path = PurePosixPath(item.name.replace("\\", "/"))
    filename = path.name
    if item.problem:
        return reject(item.problem)
    if "__MACOSX" in path.parts or filename.startswith("._") or filename == ".DS_Store":
        return reject("macOS metadata, not a submission")
    if not filename.lower().endswith(".ipynb"):
        suffix = Path(filename).suffix or "no extension"
        return reject(f"not a notebook ({suffix})")
    ids = roster.ids()
    order_base = (item.mtime,)
    # 1. a folder named after the student
    for part in reversed(path.parts[:-1]):
        if part in ids:
            return _Candidate(item, part, f"folder {part}/", filename, order_base + (0, item.name))
    # 2. Canvas
    canvas = CANVAS.match(filename)
    if canvas:
        student, how = _canvas_student(canvas, roster)
        if student == "":
            return reject(how)
        if student:
            note = "marked late by Canvas" if canvas["late"] else ""
            return _Candidate(item, student, how, canvas["file"], order_base + (int(canvas["sub"]), item.name), note)
    # 3. a roster id at the start of the name
    stem = filename[: -len(".ipynb")]
    for student in sorted(ids, key=len, reverse=True):
        if stem == student:
            return _Candidate(item, student, f"file name {filename}", filename, order_base + (0, item.name))
        if stem.startswith(student) and stem[len(student)] in "_-":
            rest = filename[len(student) + 1:]
            return _Candidate(item, student, f"id prefix {student}", rest, order_base + (0, item.name))
    if canvas:
        return reject(f"no roster student has Canvas id {canvas['lms']} or the name {canvas['name']!r}")
    return reject("no roster student matches the file name (expected <student_id>_<file>.ipynb, "
                  "<student_id>/<file>.ipynb or a Canvas download name)")


def _canvas_student(match: re.Match, roster: Roster) -> tuple[str | None, str]:
    """(student, how) by Canvas user id, else by name; ("", reason) when the name is ambiguous;
    (None, "") when nothing matches."""
    by_lms = [e for e in roster.entries if e.lms_user_id and e.lms_user_id == match["lms"]]
    if by_lms:
        return by_lms[0].id, f"Canvas user id {match['lms']}"
    name = _letters(match["name"])
    by_name = [e for e in roster.entries if name and name in _name_keys(e)]
    if len(by_name) == 1:
        return by_name[0].id, f"Canvas name {match['name']!r}"
    if len(by_name) > 1:
        who = ", ".join(sorted(e.id for e in by_name))
        return "", f"the Canvas name {match['name']!r} fits several roster students ({who}) and no one has Canvas id {match['lms']}"
    return None, ""


def _name_keys(entry: RosterEntry) -> set[str]:
    first, last = _letters(entry.first_name or ""), _letters(entry.last_name or "")
    return {last + first, first + last} - {""}


# ----------------------------------------------------------------------------------------------
# writing


def _store(candidate: _Candidate, root: Path, module: str) -> FileResult:
    item, student = candidate.item, candidate.student
    expected_name = f"{module}.ipynb"
    renamed = candidate.submitted_name != expected_name
    folder = root / "submitted" / student / module
    notebook = folder / expected_name
    rel = notebook.relative_to(root).as_posix()
    stamp = _format(item.mtime)
    try:
        data = item.read()
    except (_Unreadable, OSError) as error:
        return FileResult(item.name, "rejected", student, str(error), None, stamp)
    notes = [n for n in (candidate.note, _json_note(data)) if n]
    result = FileResult(item.name, "renamed" if renamed else "matched", student, "", rel, stamp)
    if notebook.is_file():
        existing_time = _existing_time(folder, notebook)
        if notebook.read_bytes() == data:
            result.status, result.dest = "unchanged", None
            result.reason = f"{rel} already holds this exact file"
            return result
        if existing_time >= item.mtime:
            result.status, result.dest = "kept-existing", None
            relation = "newer" if existing_time > item.mtime else "different, same-time"
            result.reason = (f"{rel} already holds a {relation} submission ({_format(existing_time)}) "
                             f"than this file ({stamp}); not overwritten")
            return result
        notes.append(f"replaced an older submission ({_format(existing_time)})")
    _write(notebook, data)
    _write(folder / "timestamp.txt", stamp.encode())
    how = f"matched {student} by {candidate.how}"
    if renamed:
        how += f"; renamed {candidate.submitted_name} -> {expected_name}"
    result.reason = "; ".join([how, *notes])
    return result


def _json_note(data: bytes) -> str:
    try:
        json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "not valid notebook JSON: grading will record an error for it" if data else "the file is empty"
    return ""


def _existing_time(folder: Path, notebook: Path) -> datetime:
    from nbgrader.utils import parse_utc

    stamp = folder / "timestamp.txt"
    if stamp.is_file():
        try:
            return parse_utc(stamp.read_text(encoding="utf-8").strip()).replace(tzinfo=timezone.utc)
        except (ValueError, OverflowError):
            pass
    return _mtime(notebook)


def _format(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{hashlib.sha1(data).hexdigest()[:8]}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
