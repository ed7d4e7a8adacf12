"""How long a sandboxed cell ran on a CPU and how long it waited for one.

The kernel's own accounting (/proc/<pid>/task/*/schedstat) adds a wait to a task's total only
when the task next gets a CPU. A process starved outright, never scheduled again before its
timeout, therefore shows no wait at all, and its timeout would look like the student's. The
watch closes that gap by sampling as the supervisor polls: an interval that began with the
process runnable and in which no thread of it ran was spent waiting, whatever the counters say.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

# shortest interval judged: a running task's counter moves at the scheduler's tick (1-10 ms), so
# a shorter interval without progress proves nothing
MIN_INTERVAL = 0.05


def schedstat(pid: int) -> tuple[float, float] | None:
    """(on-CPU seconds, run-queue wait seconds) summed over `pid`'s threads; None if gone."""
    run = wait = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as f:
                fields = f.read().split()
            run, wait = run + int(fields[0]), wait + int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    return run / 1e9, wait / 1e9


def runnable(pid: int) -> bool:
    """Whether `pid`'s main thread is on a CPU or waiting for one (state R)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"R"
    except (OSError, IndexError):
        return False


@dataclass
class CpuWatch:
    """One cell's CPU time and CPU wait, from its start until `totals` is read."""

    pid: int
    start: tuple[float, float]  # (run, wait) when the cell started
    last_time: float
    last_run: float
    last_runnable: bool
    stalled: float = 0.0  # seconds sampled as runnable without running

    @classmethod
    def begin(cls, pid: int) -> "CpuWatch | None":
        now = schedstat(pid)
        if now is None:
            return None
        return cls(pid, now, time.monotonic(), now[0], runnable(pid))

    def sample(self) -> None:
        """Called as the supervisor polls (every half second at most while a cell runs)."""
        moment = time.monotonic()
        if moment - self.last_time < MIN_INTERVAL:
            return
        now = schedstat(self.pid)
        if now is None:
            return
        if self.last_runnable and now[0] == self.last_run:
            self.stalled += moment - self.last_time
        self.last_time, self.last_run, self.last_runnable = moment, now[0], runnable(self.pid)

    def totals(self) -> tuple[float, float] | None:
        """(seconds ran, seconds waited) since the cell started; the wait is the larger of the
        kernel's accounted wait and the sampled stalls (both are waits, the second not yet counted)."""
        self.sample()
        now = schedstat(self.pid)
        if now is None:
            return None
        return now[0] - self.start[0], max(now[1] - self.start[1], self.stalled)
