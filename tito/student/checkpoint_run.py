"""A pytest plugin for the checkpoint run of `tito check` (`-p tito.student.checkpoint_run`).

Two things the check needs from the run and pytest's terminal output does not give reliably:
- a time limit per test: a loop that never ends in the student's module stops the test after
  `--tito-test-timeout` seconds with a failure that names the function it was stopped in and
  where, instead of hanging the whole check;
- each failure's place and the first lines of its message (numpy's asserts put the values they
  compared there), written as JSON to `--tito-failures`, with paths relative to the student's
  package root (`tinytorch/core/tensor.py:12`) or to the course (`checkpoints/...`).

The timer is SIGALRM's, so it needs the main thread of a POSIX process (pytest's); it fires
between Python bytecodes, which is where such a loop spends its time.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

MESSAGE_LINES = 6  # of a failure's message, as the check shows a notebook cell's


class CheckpointTimeout(Exception):
    """A checkpoint test ran longer than its limit."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tito", "tito check's checkpoint run")
    group.addoption("--tito-test-timeout", type=int, default=0, metavar="S", help="seconds per test (0: none)")
    group.addoption("--tito-failures", default=None, metavar="PATH", help="write the failures here as JSON")


def _where(frame, roots: list[Path]) -> str:
    return f"{_relative(Path(frame.f_code.co_filename), roots)}:{frame.f_lineno}"


def _relative(path: Path, roots: list[Path]) -> str:
    for root in roots:
        if path.resolve().is_relative_to(root):
            return path.resolve().relative_to(root).as_posix()
    return path.as_posix()


def _roots(config: pytest.Config) -> list[Path]:
    package_root = config.getoption("--tinytorch-root", None)
    return [Path(p).resolve() for p in (package_root, config.rootpath) if p]


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_Run(config), "tito-checkpoint-run")


class _Run:
    """The limit on each test and the failures' record, for one pytest run."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.limit = config.getoption("--tito-test-timeout")
        self.roots = _roots(config)
        self.failures: list[dict] = []
        self.stopped_at = ""  # where the last test that ran out of time was stopped

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        if not self.limit:
            yield
            return
        previous = signal.signal(signal.SIGALRM, self._stop)
        signal.setitimer(signal.ITIMER_REAL, self.limit)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def _stop(self, signum, frame):
        self.stopped_at = _where(frame, self.roots)
        raise CheckpointTimeout(f"the test ran longer than {self.limit} s; it was stopped in "
                                f"`{frame.f_code.co_qualname}` ({self.stopped_at}): "
                                "look for a loop that never ends there")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        crash = getattr(report.longrepr, "reprcrash", None)
        if not (report.failed and crash is not None):
            return
        where = f"{_relative(Path(crash.path), self.roots)}:{crash.lineno}"
        message = crash.message
        if Path(crash.path).resolve() == Path(__file__).resolve():  # raised by _stop: where it stopped
            where, message = self.stopped_at, message.replace(f"{__name__}.", "", 1)
        lines = [line.rstrip() for line in message.splitlines() if line.strip()]
        self.failures.append({"test": report.nodeid, "where": where, "message": "\n".join(lines[:MESSAGE_LINES])})

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        target = self.config.getoption("--tito-failures")
        if target:
            Path(target).write_text(json.dumps(self.failures), encoding="utf-8")
