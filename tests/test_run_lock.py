"""One `tito autograde` per gradebook (tito/grade/run_lock.py), on SQLite and on a real PostgreSQL.

The holder is a real process (this one, or a child that we SIGKILL); the refused run is a real
`python -m tito autograde`. The run that grades while another tries is in
tests/test_gradebook_postgres.py (PostgreSQL) and test_grade_run.py's killed run (SQLite).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tito.errors import TitoError
from tito.grade import run_lock
from tito.grade.gradebook import describe
from tito_helpers import make_course

HOLD = ("import sys, time\nfrom tito.grade import run_lock\n"
        "with run_lock.held(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(600)\n")


@pytest.fixture(params=["sqlite", "postgresql"])
def gradebook_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gradebook.db'}"
    server = request.getfixturevalue("postgres")
    return server.create_database(f"lock_{request.node.callspec.id}_{os.getpid()}_{time.monotonic_ns()}")


def refusal(db_url: str, pid: int) -> str:
    """The refusal's text up to the holder's start time (which the test cannot know to the second)."""
    return (f"{describe(db_url)}: another `tito autograde` is grading into this gradebook "
            f"(pid {pid} on {socket.gethostname()} started ")


def squeezed(text: str) -> str:
    """Without whitespace: the CLI's console folds long lines."""
    return "".join(text.split())


@pytest.mark.slow  # a `tito autograde` process starting up
def test_a_second_autograde_process_refuses_while_a_run_holds_the_gradebook(gradebook_url, tmp_path):
    root = make_course(tmp_path / "course")
    with (root / "nbgrader_config.py").open("a") as config:
        config.write(f"c.CourseDirectory.db_url = {gradebook_url!r}\n")
    with run_lock.held(gradebook_url):
        started = time.monotonic()
        second = subprocess.run([sys.executable, "-m", "tito", "autograde"], cwd=root, capture_output=True,
                                text=True, timeout=120)
    assert second.returncode == 1
    assert squeezed(refusal(gradebook_url, os.getpid())) in squeezed(second.stderr)
    assert squeezed("nothing was graded: run again once it has finished") in squeezed(second.stderr)
    assert time.monotonic() - started < 30, "the second run must refuse at once, not wait"


def test_a_sigkilled_holder_leaves_no_lock_behind(gradebook_url):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, gradebook_url], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])))
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(run_lock.GradebookBusy) as refused:
            with run_lock.held(gradebook_url):
                pass
        assert str(refused.value).startswith(refusal(gradebook_url, holder.pid))
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the kernel drops a dead process's flock at once; a server notices its client's socket close
    # within moments: never a stale lock
    deadline = time.monotonic() + 10
    while True:
        try:
            with run_lock.held(gradebook_url):
                break
        except run_lock.GradebookBusy:
            assert time.monotonic() < deadline, "the killed holder's lock was never released"
            time.sleep(0.1)


def test_a_finished_run_releases_the_lock(gradebook_url):
    with run_lock.held(gradebook_url):
        pass
    with run_lock.held(gradebook_url):
        pass


def test_a_gradebook_on_another_database_is_refused_by_name():
    with pytest.raises(TitoError) as refused:
        with run_lock.held("mysql+pymysql://grader:secret@db.example/course"):
            pass
    assert str(refused.value) == ("mysql+pymysql://grader:***@db.example/course: tito autograde can lock only "
                                  "SQLite and PostgreSQL gradebooks, not mysql; use one of those in "
                                  "c.CourseDirectory.db_url")


def test_an_unreachable_server_is_an_error_naming_it_without_its_password(tmp_path):
    url = f"postgresql+psycopg://grader:secret@/course?host={tmp_path}"  # no server listens there
    with pytest.raises(TitoError) as refused:
        with run_lock.held(url):
            pass
    message = str(refused.value)
    assert message.startswith(f"postgresql+psycopg://grader:***@/course?host={tmp_path}: cannot lock the "
                              "gradebook for this run (")
    assert f'socket "{tmp_path}/.s.PGSQL.5432" failed: No such file or directory Is the server running' in message
    assert message.endswith("; nothing was graded") and "secret" not in message
