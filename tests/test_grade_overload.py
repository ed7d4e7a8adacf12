"""A timeout the host's load caused is not the student's: detected, then regraded.

`execute` notes a cell that timed out while its process waited for a CPU longer than it ran
(`ExecuteOutcome.starved`); the session stage grades such a submission again, with a note.
The starvation here is real: two busy processes run on the one CPU the sandbox is pinned to,
and once the busy cell begins the test gives its sandbox the smallest CPU share; it stops them at
the end.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from tito.grade.execute import execute
from tito.grade.sandbox import Limits, Sandbox, process_alive

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(Sandbox.missing_layers()), reason="this machine cannot sandbox student code")]

LIMITS = Limits(cell_timeout=3.0, notebook_timeout=120.0)
CELLS = [{"index": 1, "source": "print('started')", "grade_id": None},
         {"index": 3, "source": "import time\ntime.sleep(0.3)\nwhile True:\n    pass", "grade_id": "busy"}]
# the starved notebook: the busy cell says when it begins, and the test starves it from then on, so
# the whole of its timeout is spent at the smallest share beside the hogs, however loaded the host
# was before (no other cell runs starved, so none can time out)
STARVED_CELLS = [CELLS[0],
                 {"index": 3, "source": "open('/scratch/busy', 'w').close()\nwhile True:\n    pass",
                  "grade_id": "busy"}]
STARVED = re.compile(r"cell 3 timed out after 3 s while the host was overloaded: "
                     r"it ran (\d+\.\d) s and waited (\d+\.\d) s for a CPU")


class Hogs:
    """Two busy processes on CPU 0, started when `trigger` appears (at once without one), in a
    session of their own: the kernel's autogroups then weigh them apart from this test process,
    which supervises the sandbox and must keep its share of the CPU."""

    def __init__(self, trigger: Path | None = None):
        self.trigger, self.procs, self.stop = trigger, [], threading.Event()
        self.thread = threading.Thread(target=self._start, daemon=True)

    def _start(self):
        while self.trigger is not None and not self.trigger.exists() and not self.stop.is_set():
            time.sleep(0.01)
        if not self.stop.is_set():
            for _ in range(2):
                self.procs.append(subprocess.Popen(["taskset", "-c", "0", sys.executable,
                                                    "-c", "import sys\nprint(flush=True)\nwhile True: pass"],
                                                   stdout=subprocess.PIPE, start_new_session=True))
            for proc in self.procs:
                proc.stdout.readline()  # it runs its loop now

    def __enter__(self):
        self.thread.start()
        if self.trigger is None:
            self.thread.join()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        for proc in self.procs:
            proc.kill()
            proc.wait()
            proc.stdout.close()


class StarveWhen:
    """The smallest CPU share for this process's running sandboxes once `signal` appears. (The
    ordinary share is not starved by the hogs: the kernel's autogroups weigh their session as one,
    so a sandbox keeps half a CPU beside any number of them, which is the fairness the cgroups are
    for; and a sandbox started at the smallest share may not reach its first cell on a loaded host.)"""

    def __init__(self, signal: Path):
        self.signal, self.stop, self.starved = signal, threading.Event(), False
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self.signal.exists():
            if self.stop.wait(0.005):
                return
        for folder in glob.glob(f"/sys/fs/cgroup/**/tito-{os.getpid()}-*", recursive=True):
            for control, smallest in (("cpu.shares", "2"), ("cpu.weight", "1")):
                if os.path.exists(os.path.join(folder, control)):
                    Path(folder, control).write_text(smallest)
                    self.starved = True

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


@pytest.fixture
def one_cpu():
    """This process (and so the sandboxes it starts) on CPU 0 only."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    yield
    os.sched_setaffinity(0, before)


def test_a_cell_starved_of_cpu_is_noted(tmp_path, one_cpu):
    # from the moment the busy cell begins, the smallest CPU share beside two busy processes on the
    # same CPU: the cell waits for the CPU far longer than it runs, however quiet the rest of the host is
    if Sandbox.missing_limits() and os.environ.get("CI") != "true":
        pytest.skip(f"no cgroups: {Sandbox.missing_limits()}")
    scratch = tmp_path / "scratch"
    with Hogs() as hogs, StarveWhen(scratch / "busy") as starve:
        outcome = execute(STARVED_CELLS, sandbox=Sandbox(LIMITS), scratch=scratch, lib=None)
    assert len(hogs.procs) == 2 and starve.starved
    assert outcome.cell(1).stdout == "started\n"
    assert outcome.cell(3).ename == "CellTimeoutError"
    assert len(outcome.starved) == 1, outcome.starved
    ran, waited = map(float, STARVED.fullmatch(outcome.starved[0]).groups())
    assert waited >= ran and ran + waited >= 1.5  # (the note rounds to 0.1 s; the detector compared exactly)


def test_a_starved_sandbox_dies_when_killed_and_its_cgroup_goes(tmp_path, one_cpu):
    """A killed process must run to die. Four processes of a sandbox at the smallest CPU share,
    each holding 200 MiB, beside the two busy processes: the kill lifts the share, so all of them
    are gone and the cgroup removed when `kill` returns (before, they outlived its 10 s wait and
    the cgroup stayed behind, in every later test's way)."""
    if Sandbox.missing_limits():
        pytest.skip(f"no cgroups: {Sandbox.missing_limits()}")
    scratch = tmp_path / "scratch"
    sandbox = Sandbox(Limits(memory_bytes=2 * 2**30))
    code = ("import os\n"
            "for _ in range(3):\n"
            "    if os.fork() == 0: break\n"
            "block = bytearray(200 * 2**20)\n"
            "for j in range(0, len(block), 4096): block[j] = 1\n"
            "open(f'/scratch/ready{os.getpid()}', 'w').close()\n"
            "while True: pass")
    proc = sandbox.popen(scratch, ["python", "-c", code])
    group = sandbox.cgroup(proc)
    folders = list(group.folders)
    with Hogs(scratch / "go"):
        deadline = time.monotonic() + 120
        while len(list(scratch.glob("ready*"))) < 4:
            assert time.monotonic() < deadline, "the sandbox's processes did not start"
            time.sleep(0.05)
        # the smallest share only now (on a loaded host it would keep them from starting at all)
        control, smallest = ("cpu.weight", "1") if group.hierarchy.version == 2 else ("cpu.shares", "2")
        (folders[0] / control).write_text(smallest)
        (scratch / "go").touch()
        time.sleep(1.0)  # the hogs are running: the sandbox is starved now
        pids = group.pids()
        sandbox.kill(proc)
        assert len(pids) >= 5 and [pid for pid in pids if process_alive(pid)] == []
        assert [folder for folder in folders if folder.exists()] == []


def test_a_cell_that_really_runs_too_long_is_not(tmp_path):
    """The same cell on a host whose other work (the tests beside this one) cannot starve it: its
    sandbox's CPU share is the largest cgroup v1 allows."""
    if Sandbox.missing_limits() and os.environ.get("CI") != "true":
        pytest.skip(f"no cgroups: {Sandbox.missing_limits()}")
    outcome = execute(CELLS, sandbox=Sandbox(Limits(cell_timeout=3.0, notebook_timeout=120.0, cpu_share=262144)),
                      scratch=tmp_path / "scratch", lib=None)
    assert outcome.cell(3).ename == "CellTimeoutError"
    assert outcome.starved == []


# ---------------------------------------------------------------- the session stage regrades


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    from tito.course import discover
    from tito.grade import pipeline

    modules = list(discover(REPO))
    ctx = pipeline.GradingContext(REPO, modules, Sandbox(), work=tmp_path_factory.mktemp("work"), published=modules)
    yield ctx
    ctx.cleanup()


def grade(context, tmp_path, starved_runs: int, monkeypatch):
    """Grade module 01's solution; the first `starved_runs` sessions report a starved cell."""
    from tito.grade import pipeline
    from tito.grade.model import Submission
    from tito.grade.stages import session
    from tito.source import read_source

    calls, cases_cpu = [], []
    real = session._execute

    def execute_(job, ctx, scratch, request):
        outcome = real(job, ctx, scratch, request)
        calls.append(scratch.name)
        cases_cpu.append(outcome.checks_cpu)
        if len(calls) <= starved_runs:
            outcome.starved = ["cell 5 timed out after 60 s while the host was overloaded: it ran 6.0 s and "
                               "waited 54.0 s for a CPU"]
        return outcome

    monkeypatch.setattr(session, "_execute", execute_)
    monkeypatch.setattr(session, "REGRADE_PAUSE", 0.0)
    module = context.module("01_tensor")
    folder = tmp_path / "submitted" / "s1" / module.name
    folder.mkdir(parents=True)
    nbformat.write(read_source(module.source_py), folder / f"{module.name}.ipynb")
    result = pipeline.grade_one(context, Submission("s1", module.name, folder), tmp_path / "autograded")
    # the cases' CPU time is measured (what tells a starved case from one that hangs on its own)
    assert all(cpu is not None and 0 < cpu < 4 * result.timings["checks"] + 1 for cpu in cases_cpu), cases_cpu
    return result, calls


def test_a_starved_session_is_graded_again_with_a_note(context, tmp_path, monkeypatch):
    result, calls = grade(context, tmp_path, 1, monkeypatch)
    assert calls == ["session"] * 2
    assert result.score == result.max_score == 120
    assert [(f.kind, f.evidence) for f in result.flags] == [
        ("note", "graded again: cell 5 timed out after 60 s while the host was overloaded: it ran 6.0 s and "
                 "waited 54.0 s for a CPU")]


def test_an_overload_that_persists_keeps_the_last_grading(context, tmp_path, monkeypatch):
    result, calls = grade(context, tmp_path, 10, monkeypatch)
    assert calls == ["session"] * 3
    line = "cell 5 timed out after 60 s while the host was overloaded: it ran 6.0 s and waited 54.0 s for a CPU"
    assert [(f.kind, f.evidence) for f in result.flags] == [
        ("note", f"graded again: {line}"), ("note", f"graded again: {line}"),
        ("note", f"graded 3 times, the host overloaded each time; this last grading stands: {line}")]
    assert result.score == 120


def test_a_case_timeout_counts_as_overload_only_when_the_cases_were_starved():
    from types import SimpleNamespace

    from tito.grade.stages import session

    def job(cpu, wall):
        return SimpleNamespace(outcome=SimpleNamespace(checks_cpu=cpu), result=SimpleNamespace(timings={"checks": wall}))

    assert session._cases_cpu_share(job(9.5, 10.0)) == 0.95  # a case spinning on its own CPU: not starved
    assert session._cases_cpu_share(job(1.0, 10.0)) == 0.1
    assert session._cases_cpu_share(job(None, 10.0)) is None
