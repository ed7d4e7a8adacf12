"""A real Dask cluster on this machine: `dask scheduler` and `dask worker`s as subprocesses.

What the distributed grading tests and the benchmark run against (no LocalCluster, no mock):
each worker is its own process (`--no-nanny`, so killing its pid kills the worker for good),
one thread (unless told otherwise), tito's grading code imported when it starts (`--preload tito.grade.worker`), its cwd and local directory in a private folder, talking TCP on 127.0.0.1. `hide`
lists folders the workers must not see: each worker starts in a mount namespace of its own
(`unshare --mount`, root only) where a tmpfs covers them, which proves a worker grades without
access to the course directory. Leaving the context stops every process it started and fails if
one of them is still alive.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DASK = Path(sys.executable).parent / "dask"
START_TIMEOUT = 60.0  # seconds for the scheduler to listen and the workers to join
STOP_TIMEOUT = 10.0  # seconds a process gets to exit on SIGTERM before SIGKILL


class DaskProcesses:
    def __init__(self, home: Path, workers: int, hide: tuple[Path, ...] = (), env: dict[str, str] | None = None,
                 threads: int = 1):
        self.home, self.count, self.hide, self.threads = Path(home), workers, tuple(hide), threads
        self.env = env or dict(os.environ, PYTHONPATH=str(REPO))
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.address = ""

    def __enter__(self) -> "DaskProcesses":
        self.home.mkdir(parents=True, exist_ok=True)
        try:
            self._start_scheduler()
            for _ in range(self.count):
                self.start_worker()
            if self.count:
                self.wait_for_workers(self.count)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start_worker(self, env: dict[str, str] | None = None) -> subprocess.Popen:
        name = f"worker{len(self.workers)}"
        folder = self.home / name
        folder.mkdir()
        command = [str(DASK), "worker", self.address, "--nthreads", str(self.threads), "--no-nanny", "--no-dashboard",
                   "--name", name, "--local-directory", str(folder), "--death-timeout", "30",
                   "--preload", "tito.grade.worker"]
        if self.hide:  # `unshare` execs (no fork): the pid is the worker's
            mounts = " && ".join(f"mount -t tmpfs -o size=1m tito-hidden {shlex.quote(str(p))}" for p in self.hide)
            command = ["unshare", "--mount", "sh", "-c", f'{mounts} && exec "$@"', "sh", *command]
        worker = subprocess.Popen(command, cwd=folder, env=env or self.env, stdout=subprocess.DEVNULL,
                                  stderr=(folder / "log").open("wb"))
        self.workers.append(worker)
        return worker

    def wait_for_workers(self, count: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=START_TIMEOUT, set_as_default=False) as client:
            client.wait_for_workers(count, timeout=START_TIMEOUT)

    def processes(self) -> list[subprocess.Popen]:
        return [p for p in (self.scheduler, *self.workers) if p is not None]

    def stop(self) -> None:
        """SIGTERM every process started here, SIGKILL what outlives STOP_TIMEOUT; then check."""
        for process in reversed(self.processes()):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in self.processes():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        alive = [p.pid for p in self.processes() if p.poll() is None]
        if alive:
            raise RuntimeError(f"dask processes {alive} outlived SIGKILL")
        deadline = time.monotonic() + STOP_TIMEOUT  # a killed worker's sandboxes and oracle die after it
        while processes_in(self.home) and time.monotonic() < deadline:
            time.sleep(0.2)
        if processes_in(self.home):
            raise RuntimeError(f"processes left running in {self.home}: {processes_in(self.home)}")

    def _start_scheduler(self) -> None:
        info = self.home / "scheduler.json"
        self.scheduler = subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(info)], cwd=self.home, env=self.env, stdout=subprocess.DEVNULL,
            stderr=(self.home / "scheduler.log").open("wb"))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.scheduler.poll() is not None:
                raise RuntimeError(f"dask scheduler exited: {(self.home / 'scheduler.log').read_text()[-2000:]}")
            try:
                self.address = json.loads(info.read_text())["address"]
                return
            except (OSError, ValueError, KeyError):  # not written yet, or half written
                time.sleep(0.1)
        raise RuntimeError(f"dask scheduler did not start within {START_TIMEOUT} s")


def processes_in(folder: Path) -> list[str]:
    """Every process whose command line names `folder` or whose cwd is in it (pid: command)."""
    folder = str(Path(folder).resolve())
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if folder in command or cwd == folder or cwd.startswith(folder + "/"):
            found.append(f"{proc.name}: {command[:200]}")
    return found
