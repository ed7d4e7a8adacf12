"""One `tito autograde` at a time per gradebook: a second run refuses at once, naming the first.

Two runs grading into one gradebook would grade the same submissions twice and race on their rows
and on `autograded/`. So a run holds a lock on its gradebook from start to end:

- SQLite: an exclusive `flock` on `<gradebook file>.autograde-lock` beside the database; the
  holder writes its pid, host and start time into the file for the refusal to quote.
- PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a connection of its own, which
  names the run in its `application_name`; the refused run finds the holder in `pg_locks` and
  `pg_stat_activity`.

The kernel releases a `flock` and the server an advisory lock when the holder's process dies, so a
run killed by SIGKILL never leaves a stale lock behind. Formgrader and stock nbgrader commands take
no run lock: they are not grading runs, and `gradebook.record` writes only a grade's `auto_score`
and review mark, never a score entered by hand.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

from tito.errors import TitoError
from tito.grade import gradebook

# pg_try_advisory_lock(key1, key2), the advisory lock of `tito autograde` in its database:
# "tito" in ASCII, 1 for the autograde run. pg_locks shows the two keys as classid and objid.
_KEY = dict(a=0x7469746F, b=1)
CONNECT_TIMEOUT = 10  # seconds
_TRY_LOCK = text("SELECT pg_try_advisory_lock(:a, :b)")
# A holder whose machine vanishes (power cut, network gone) closes no socket: the server finds its
# connection dead, and drops the lock, after ~1 minute of unanswered TCP keepalives instead of the
# system's default of two hours. (Over a unix socket the server sees the close at once.)
_KEEPALIVES = text("SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3")
_HOLDER = text(
    "SELECT a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :a AND l.objid = :b AND l.objsubid = 2 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")


class GradebookBusy(TitoError):
    """Another `tito autograde` holds the gradebook."""


@dataclass(frozen=True)
class Holder:
    """The run that holds a gradebook, as far as it can be known."""

    pid: int | None = None
    host: str | None = None
    started: str | None = None

    @classmethod
    def this_process(cls) -> Holder:
        started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        return cls(os.getpid(), socket.gethostname(), started)

    def describe(self) -> str:
        parts = [f"pid {self.pid}" if self.pid else "pid unknown"]
        if self.host:
            parts.append(f"on {self.host}")
        if self.started:
            parts.append(f"started {self.started}")
        return " ".join(parts)


def one_run_at_a_time(autograde):
    """Decorate `autograde(root, modules, ..., db_url=None, ...)`: the whole run holds its
    gradebook's lock (the course's gradebook unless `db_url` is given)."""

    @functools.wraps(autograde)
    def run(root: Path, *args, db_url: str | None = None, **kwargs):
        db_url = db_url or gradebook.course_db_url(root)
        with held(db_url):
            return autograde(root, *args, db_url=db_url, **kwargs)

    return run


@contextmanager
def held(db_url: str):
    """Hold the run lock of the gradebook at `db_url` for the block; raises GradebookBusy at once
    when another run holds it."""
    dialect = db_url.split(":", 1)[0].split("+", 1)[0]
    if dialect == "sqlite":
        path = gradebook.db_path(db_url)
        if path is None:  # an in-memory database belongs to this process alone
            yield
            return
        with _file_lock(sqlite_lock_file(path), db_url):
            yield
    elif dialect == "postgresql":
        with _advisory_lock(db_url):
            yield
    else:
        raise TitoError(f"{gradebook.describe(db_url)}: tito autograde can lock only SQLite and PostgreSQL "
                        f"gradebooks, not {dialect}; use one of those in c.CourseDirectory.db_url")


def sqlite_lock_file(database: Path) -> Path:
    """The lock file of an SQLite gradebook: beside it, kept after the run (like the gradebook
    itself, runtime state that is never committed)."""
    return database.with_name(database.name + ".autograde-lock")


def _refusal(db_url: str, holder: Holder) -> GradebookBusy:
    return GradebookBusy(f"{gradebook.describe(db_url)}: another `tito autograde` is grading into this "
                         f"gradebook ({holder.describe()}); nothing was graded: run again once it has finished")


@contextmanager
def _file_lock(lock_path: Path, db_url: str):
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as lock_file:  # closing it (or dying) releases the lock
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            raise _refusal(db_url, _read_holder(lock_file.read())) from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(json.dumps(Holder.this_process().__dict__))
        lock_file.flush()
        yield  # the holder's line stays: harmless, the next holder overwrites it


def _read_holder(text: str) -> Holder:
    try:
        fields = json.loads(text)
        return Holder(fields.get("pid"), fields.get("host"), fields.get("started"))
    except (ValueError, AttributeError):  # the holder had not yet written its line
        return Holder()


@contextmanager
def _advisory_lock(db_url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    me = Holder.this_process()
    name = f"tito autograde pid {me.pid} on {me.host}"[:63]  # PostgreSQL keeps 63 bytes of it
    # an unreachable server is an error within seconds, not after the system's TCP timeout
    # (the URL's own ?connect_timeout= wins)
    timeout = make_url(db_url).query.get("connect_timeout", CONNECT_TIMEOUT)
    engine = create_engine(db_url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                           connect_args={"application_name": name, "connect_timeout": timeout})
    try:
        try:
            connection = engine.connect()
        except DBAPIError as error:
            raise _unlockable(db_url, error) from None
        with connection:  # closing it (NullPool: for real) releases the lock
            try:
                connection.execute(_KEEPALIVES)
                taken = connection.execute(_TRY_LOCK, _KEY).scalar()
                holder = None if taken else _advisory_holder(connection)
            except DBAPIError as error:
                raise _unlockable(db_url, error) from None
            if holder is not None:
                raise _refusal(db_url, holder)
            yield
    finally:
        engine.dispose()


def _unlockable(db_url: str, error) -> gradebook.GradebookError:
    reason = " ".join(str(error.orig).split())  # libpq's message spans lines
    return gradebook.GradebookError(f"{gradebook.describe(db_url)}: cannot lock the gradebook for this run "
                                    f"({reason}); nothing was graded")


def _advisory_holder(connection) -> Holder:
    """The run holding the advisory lock, from the name its connection gave itself."""
    row = connection.execute(_HOLDER, _KEY).first()
    if row is None:  # released in between, or hidden from this database user
        return Holder()
    name, since = row
    pid, _, host = (name or "").removeprefix("tito autograde pid ").partition(" on ")
    started = since.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if since else None
    return Holder(int(pid) if pid.isdigit() else None, host or None, started)
