"""`nbgrader collect` for courses that use nbgrader's exchange (JupyterHub, a shared folder).

nbgrader's rules stay (newest submission per student, timestamps, the before-due-date rule,
CourseDirectory.ignore/include/max_file_size/max_dir_size); what it trusts does not. Anyone who
can write the exchange can name a folder `inbound/<student>+<module>+<timestamp>`, and stock
nbgrader only logs an owner warning and follows symbolic links as the instructor. Here
(`SafeExchangeCollect`, also usable by stock `nbgrader collect` and formgrader through
`c.ExchangeFactory.collect = "tito.collect.exchange.SafeExchangeCollect"`):

- a folder is collected only when it and every file and folder inside it are owned by the unix
  user of the student the folder names (`c.SafeExchangeCollect.unix_user`, default `{student}`:
  JupyterHub's unix users are named like the student ids; `c.SafeExchangeCollect.unix_users`
  maps single students explicitly). Anything else is refused, never collected, and reported with
  the student, the folder and why; the student's newest folder that passes is collected instead;
- nothing is followed: the folder and each entry are opened with O_NOFOLLOW, checked with fstat
  on the very descriptor that is read (no race between the check and the copy), and symbolic
  links, FIFOs, sockets and devices are left out (reported as notes), their targets never read;
- the submission time is not only the student's word. The folder's name and its timestamp.txt
  are written by the student's own process, so either can claim any time; the kernel's change
  time (ctime) of the folder and of every entry in it cannot be set back by their owner. A folder
  whose entries changed more than `timestamp_slack` seconds after the time it claims is taken as
  submitted when they last changed, and `submitted/<student>/<module>/timestamp.txt` is written
  by the collect: the later of the folder's (so corrected) time and the timestamp.txt it holds.
  Each correction is a note in the report.

`collect_from_exchange` runs it with the course's nbgrader_config.py and reports per student what
changed under submitted/, which collected students the gradebook does not know, and every refusal.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import pwd
import shutil
import stat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect, groupby
from nbgrader.utils import capture_log
from traitlets import Bool, Dict, Int, Unicode

from tito.collect._nbgrader import scripts_on_path
from tito.collect.lms import module_name
from tito.errors import TitoError


@dataclass
class Collected:
    student: str
    status: str  # "new" | "updated" | "unchanged"
    timestamp: str | None
    on_roster: bool
    notes: list[str] = field(default_factory=list)  # what was left out of the copy, a corrected time, and why


@dataclass
class Refusal:
    """An inbound folder that was not collected."""

    student: str  # the student the folder names ("" when the name does not parse)
    folder: str  # the folder's name in <exchange>/<course>/inbound/
    reason: str


@dataclass
class ExchangeReport:
    module: str
    exchange_root: str
    success: bool
    log: str = ""
    students: list[Collected] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

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
    coursedir.assignment_id = name
    app = SafeExchangeCollect(coursedir=coursedir, authenticator=api.authenticator, parent=api)
    app.update = update
    app.fail_on_refusal = False  # reported below instead
    exchange_root = str(app.root)
    submitted = Path(coursedir.root) / coursedir.submitted_directory
    before = _stamps(submitted, name)
    result = capture_log(app)  # nbgrader's: runs app.start(), returns success/log/error
    log = (result.get("log") or "") + (result.get("error") or "")
    if not result.get("success"):
        raise TitoError(f"{name}: nbgrader collect failed (exchange {exchange_root}):\n{log.strip()}")
    after = _stamps(submitted, name)
    known = _gradebook_students(coursedir.db_url, coursedir.course_id)
    report = ExchangeReport(name, exchange_root, True, log, refused=list(app.refused))
    for student in sorted(after):
        status = ("new" if student not in before else "unchanged" if before[student] == after[student]
                  else "updated")
        report.students.append(Collected(student, status, after[student], student in known,
                                         list(app.notes.get(student, []))))
    return report


# ----------------------------------------------------------------------------------------------
# the collect itself

_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW
_FILE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW  # O_NONBLOCK: a FIFO never blocks the open


class _Refused(Exception):
    """A submission that must not be collected; the message is the report's reason."""


class SafeExchangeCollect(ExchangeCollect):
    """nbgrader's ExchangeCollect that refuses folders not owned by the student they name and
    never follows a link (see the module docstring)."""

    unix_user = Unicode(
        "{student}",
        help="The unix user who must own a student's inbound folder and every file in it; "
             "`{student}` is replaced by the student id (JupyterHub: unix users named like the ids).",
    ).tag(config=True)

    unix_users = Dict(
        value_trait=Unicode(), default_value={},
        help="Explicit student id -> unix user name, for students whose user is not `unix_user`.",
    ).tag(config=True)

    fail_on_refusal = Bool(
        True,
        help="After collecting everything else, end with an error (the exit status of stock "
             "`nbgrader collect`, an error in formgrader) when a folder was refused; "
             "`tito collect exchange` reports the refusals itself.",
    )

    timestamp_slack = Int(
        300,
        help="Seconds a submission's files may have changed (ctime) after the time the submission "
             "claims before the change time is taken as its time instead (nbgrader submit writes "
             "its files within a second; the slack covers a file server whose clock differs).",
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.refused: list[Refusal] = []
        self.notes: dict[str, list[str]] = {}
        self.restamped: dict[str, str] = {}  # inbound folder -> why its time is not its claim

    def user_of(self, student: str) -> str:
        return self.unix_users.get(student) or self.unix_user.format(student=student)

    def refuse(self, student: str, folder: str, reason: str) -> None:
        self.refused.append(Refusal(student, folder, reason))
        self.log.error("refused %s (student %s): %s", folder, student or "?", reason)

    # -- which folders: nbgrader's rules, over the folders that pass the owner check

    def init_src(self):
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        try:
            names = sorted(os.listdir(self.inbound_path))
        except OSError as error:
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path} ({error})")
        wanted = self.coursedir.student_id if self.coursedir.student_id else "*"
        pattern = f"{wanted}+{self.coursedir.assignment_id}+*"
        records = []
        for name in names:
            if not fnmatch.fnmatchcase(name, pattern):
                continue
            try:
                record = self._path_to_record(name)
            except Exception:  # nbgrader's parse: ExchangeError, ValueError, OverflowError
                self.refuse("", name, "the name is not <student>+<module>+<timestamp>[+<random>]")
                continue
            try:
                self._check_folder(record["username"], name)
            except _Refused as refusal:
                self.refuse(record["username"], name, str(refusal))
                continue
            self._hold_to_change_time(record)
            records.append(record)
        usergroups = groupby(records, lambda item: item["username"])
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                self.duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None
        self.src_records = []
        for group in usergroups.values():
            ordered = self._sort_by_timestamp(group)
            if self.duedate is not None and self.before_duedate:
                early = [r for r in ordered if r["timestamp"] <= self.duedate]
                self.src_records.append(early[0] if early else ordered[0])
            else:
                self.src_records.append(ordered[0])

    def _hold_to_change_time(self, record: dict) -> None:
        """The folder's time is its claim, or when its entries last changed if that is later
        than the claim by more than the slack (a claim that its owner wrote after the fact)."""
        changed = _last_change(os.path.join(self.inbound_path, record["filename"]))
        if changed is not None and (changed - record["timestamp"]).total_seconds() > self.timestamp_slack:
            self.restamped[record["filename"]] = (
                f"claims {_stamp(record['timestamp'])}, but its files last changed at {_stamp(changed)}: "
                f"collected as submitted then")
            record["timestamp"] = changed

    def _uid_of(self, student: str) -> tuple[str, int]:
        if not student or student in (".", "..") or student.startswith(".") or "/" in student or "\0" in student:
            raise _Refused(f"{student!r} is not a student id")
        user = self.user_of(student)
        try:
            return user, pwd.getpwnam(user).pw_uid
        except KeyError:
            raise _Refused(f"there is no unix user {user} for student {student} "
                           "(c.SafeExchangeCollect.unix_user / unix_users)") from None

    def _check_folder(self, student: str, name: str) -> None:
        user, uid = self._uid_of(student)
        try:
            info = os.lstat(os.path.join(self.inbound_path, name))
        except OSError as error:
            raise _Refused(f"cannot be read ({error.strerror})") from None
        if stat.S_ISLNK(info.st_mode):
            raise _Refused("a symbolic link, not a folder; not followed")
        if not stat.S_ISDIR(info.st_mode):
            raise _Refused("not a folder")
        if info.st_uid != uid:
            raise _Refused(f"the folder is owned by {_owner(info.st_uid)}, not by {user}, "
                           f"the unix user of student {student}")

    # -- the copy

    def init_dest(self):
        pass

    def copy_files(self):
        if not self.src_records:
            self.log.warning(f"No submissions of '{self.coursedir.assignment_id}' for course "
                             f"'{self.coursedir.course_id}' to collect")
        for rec in self.src_records:
            student = rec["username"]
            dest = self.coursedir.format_path(self.coursedir.submitted_directory, student,
                                              self.coursedir.assignment_id)
            if os.path.isdir(dest):
                try:
                    existing = self.coursedir.get_existing_timestamp(dest)
                except Exception:  # a timestamp.txt that does not parse: take the exchange's
                    existing = None
                newer = existing is None or rec["timestamp"] > existing
                if not ((self.update and newer) or (self.before_duedate and existing != rec["timestamp"])):
                    self.log.info(f"No newer submission to collect: {student} {self.coursedir.assignment_id}")
                    continue
            try:
                notes = self._copy(student, rec["filename"], dest)
            except _Refused as refusal:
                self.refuse(student, rec["filename"], str(refusal))
                continue
            if rec["filename"] in self.restamped:
                notes.append(f"{rec['filename']}: {self.restamped[rec['filename']]}")
            notes += _write_timestamp(dest, rec["timestamp"])
            self.notes[student] = notes
            self.log.info(f"Collected submission: {student} {self.coursedir.assignment_id}")
        if self.refused and self.fail_on_refusal:
            self.fail(f"refused {len(self.refused)} inbound folder(s), not collected: " + "; ".join(
                f"{r.folder} (student {r.student or '?'}): {r.reason}" for r in self.refused))

    def _copy(self, student: str, name: str, dest: str) -> list[str]:
        """Copy inbound/<name> to dest, reading only what `student`'s unix user owns; the
        previous dest is replaced only when the whole copy succeeded."""
        user, uid = self._uid_of(student)
        notes: list[str] = []
        staging = f"{dest}.collecting"
        if os.path.lexists(staging):
            shutil.rmtree(staging)
        parent = os.path.dirname(dest)
        made_parent = not os.path.isdir(parent)
        os.makedirs(parent, exist_ok=True)
        inbound = os.open(self.inbound_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                top = os.open(name, _DIR_FLAGS, dir_fd=inbound)
            except OSError as error:
                raise _Refused(f"cannot open the folder without following links ({error.strerror})") from None
            try:
                info = os.fstat(top)
                if info.st_uid != uid:
                    raise _Refused(f"the folder is owned by {_owner(info.st_uid)}, not by {user}, "
                                   f"the unix user of student {student}")
                budget = [1000 * self.coursedir.max_dir_size]
                self._copy_dir(top, "", staging, user, uid, student, notes, budget)
            finally:
                os.close(top)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            if made_parent:  # a refused student leaves no trace under submitted/
                try:
                    os.rmdir(parent)
                except OSError:
                    pass
            raise
        finally:
            os.close(inbound)
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        os.replace(staging, dest)
        return notes

    def _copy_dir(self, fd, rel, target, user, uid, student, notes, budget) -> None:
        os.mkdir(target)
        if self.coursedir.groupshared:
            os.chmod(target, 0o2770)
        for entry in sorted(os.listdir(fd)):
            path = f"{rel}{entry}"
            if any(fnmatch.fnmatch(entry, glob) for glob in self.coursedir.ignore or []):
                continue
            try:
                info = os.stat(entry, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(info.st_mode):
                notes.append(f"{path}: a symbolic link, left out (not followed)")
                continue
            if info.st_uid != uid:
                raise _Refused(f"{path} is owned by {_owner(info.st_uid)}, not by {user}, "
                               f"the unix user of student {student}")
            if stat.S_ISDIR(info.st_mode):
                child = self._open(entry, fd, _DIR_FLAGS, path)
                try:
                    self._check_owner(child, path, user, uid, student)
                    self._copy_dir(child, f"{path}/", os.path.join(target, entry), user, uid, student,
                                   notes, budget)
                finally:
                    os.close(child)
            elif stat.S_ISREG(info.st_mode):
                include = self.coursedir.include
                if include and not any(fnmatch.fnmatch(entry, glob) for glob in include):
                    continue
                self._copy_file(entry, fd, path, os.path.join(target, entry), user, uid, student, notes,
                                budget)
            else:
                notes.append(f"{path}: not a regular file, left out")

    def _open(self, entry, fd, flags, path) -> int:
        try:
            return os.open(entry, flags, dir_fd=fd)
        except OSError as error:
            raise _Refused(f"{path} changed while it was collected ({error.strerror})") from None

    def _check_owner(self, fd, path, user, uid, student) -> os.stat_result:
        info = os.fstat(fd)
        if info.st_uid != uid:
            raise _Refused(f"{path} is owned by {_owner(info.st_uid)}, not by {user}, "
                           f"the unix user of student {student}")
        return info

    def _copy_file(self, entry, fd, path, target, user, uid, student, notes, budget) -> None:
        source = self._open(entry, fd, _FILE_FLAGS, path)
        try:
            info = self._check_owner(source, path, user, uid, student)
            if not stat.S_ISREG(info.st_mode):
                notes.append(f"{path}: not a regular file, left out")
                return
            if self.coursedir.max_file_size and info.st_size > 1000 * self.coursedir.max_file_size:
                notes.append(f"{path}: larger than CourseDirectory.max_file_size, left out")
                return
            budget[0] -= info.st_size
            if budget[0] < 0:
                raise _Refused(f"larger than CourseDirectory.max_dir_size ({self.coursedir.max_dir_size} KB)")
            os.set_blocking(source, True)
            mode = 0o660 if self.coursedir.groupshared else 0o644
            out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode)
            with os.fdopen(out, "wb") as handle:
                while chunk := os.read(source, 1 << 20):
                    handle.write(chunk)
            os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
        finally:
            os.close(source)


def _last_change(folder: str) -> datetime | None:
    """The latest change time (ctime, which no owner can set back) of a folder and everything
    in it, links themselves included (never followed); None if it cannot be read."""
    try:
        latest = os.lstat(folder).st_ctime
        for directory, names, files in os.walk(folder, followlinks=False):
            for name in names + files:
                try:
                    latest = max(latest, os.lstat(os.path.join(directory, name)).st_ctime)
                except OSError:
                    continue
    except OSError:
        return None
    return datetime.fromtimestamp(latest, timezone.utc).replace(tzinfo=None)  # naive UTC, as nbgrader's


def _stamp(moment: datetime) -> str:
    """nbgrader's timestamp format (what `nbgrader submit` writes), for a naive UTC datetime."""
    return f"{moment:%Y-%m-%d %H:%M:%S.%f} UTC"


def _write_timestamp(dest: str, moment: datetime) -> list[str]:
    """Make the collected timestamp.txt the later of `moment` and the one the student sent;
    a note when it is not the student's."""
    from nbgrader.utils import parse_utc

    path = os.path.join(dest, "timestamp.txt")
    try:
        with open(path, encoding="utf-8") as handle:
            sent = handle.read(200).strip()
        claimed = parse_utc(sent)
    except (OSError, ValueError, OverflowError, TypeError):
        sent, claimed = None, None
    if claimed is not None and claimed >= moment:
        return []
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(_stamp(moment))
    if sent is None:
        return [f"timestamp.txt: missing or unreadable; written as {_stamp(moment)}"]
    return [f"timestamp.txt: said {sent}, earlier than the folder's time; written as {_stamp(moment)}"]


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


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
