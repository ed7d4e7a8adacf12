"""A real PostgreSQL server for the tests: `initdb` and `pg_ctl` in a temporary directory.

The server listens only on a unix socket in that directory (no TCP port to collide with another
test run), trusts local connections as user `postgres`, and runs with fsync off (a test server
holds nothing worth a disk flush). PostgreSQL refuses to run as root and the tests run as root in
CI, so as root the server runs as the `postgres` user that Debian's package creates, on a
directory chowned to it; as anyone else it runs as that user.

`tests/conftest.py` starts one per session (`postgres` fixture); each test asks it for a database
of its own (`create_database`), so tests share the server but never their rows.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

SERVER_USER = "postgres"


def find_bin_dir() -> Path | None:
    """Where initdb, pg_ctl and postgres are: Debian keeps them off PATH, per major version."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                      key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return versions[-1].parent if versions else None


def missing_reason() -> str | None:
    """Why this machine cannot start a PostgreSQL server, or None when it can."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return "PostgreSQL's initdb is not installed (`make setup` installs Debian's postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root, and there is no `{SERVER_USER}` user to run the server as"
    return None


class PostgresServer:
    """One server in its own directory; `start()`, `create_database()`, `stop()`."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.base = Path(tempfile.mkdtemp(prefix="tito-pg-"))  # short: a socket path has ~100 chars
        self.data = self.base / "data"
        self.log = self.base / "server.log"

    def start(self) -> None:
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVER_USER)
            os.chown(self.base, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", SERVER_USER, "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-k {self.base} -c listen_addresses='' -c fsync=off -c max_connections=50"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Stop the server (fast shutdown: no client is owed anything) and remove its directory."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one database, as a course writes it in nbgrader_config.py."""
        return f"postgresql+psycopg://{SERVER_USER}@/{database}?host={self.base}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"{name!r}: use a lowercase identifier as a test database name")
        self.sql("postgres", f"CREATE DATABASE {name}")
        return self.url(name)

    def sql(self, database: str, statement: str, *params) -> list[tuple]:
        """Run one statement on `database` outside any ORM; returns its rows (if it has any)."""
        import psycopg

        with psycopg.connect(host=str(self.base), user=SERVER_USER, dbname=database, autocommit=True) as connection:
            cursor = connection.execute(statement, params or None)
            return cursor.fetchall() if cursor.description else []

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, cwd=self.base, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{log}")
