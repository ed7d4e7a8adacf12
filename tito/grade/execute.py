"""Execute a prepared notebook's code cells in the sandbox: the supervisor's side.

The runner (`inner/run_notebook.py`) reports each cell as JSON lines on its stdout; this module
reads them as they come, enforces the per-cell timeout (SIGINT, then SIGKILL after a grace
period, as Jupyter's interrupt and restart) and the notebook timeout, and turns whatever happened
into an `ExecuteOutcome`. It never raises for anything the student's code did: a dead kernel,
garbage on stdout, a hang or an exhausted limit all become a recorded reason.

The lines are untrusted (student code shares the runner's process): they are parsed with a size
cap, checked against the expected sequence of cells, and only their plain fields are kept.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tito.grade.cpu_watch import CpuWatch
from tito.grade.inner import script
from tito.grade.sandbox import Sandbox

GRACE = 3.0  # seconds a cell gets to stop after the SIGINT at its timeout
RUNNER = "run_notebook.py"
CHECKS_CHILD = "checks_child.py"  # imported by the runner when it runs the cases first
RUNNER_DIR = "runner"  # /scratch/runner: the inner scripts, the spec, cells.json (read-only)
CHECKS_EVENT_BYTES = 16 * 2**20  # room on one channel line for the "checks" event
OUTPUTS_KEPT = 1000  # outputs of one cell that are kept (the runner keeps no more either)
RUNNER_STARTUP = 60.0  # seconds the runner may take to start (interpreter, imports), checks apart
CAPTURE = ".tito"  # the runner's fd captures of the current cell, under scratch
OOM_MARKERS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory",
               "Unable to allocate", "failed to allocate")


@dataclass
class CellOutcome:
    index: int
    grade_id: str | None
    ename: str | None = None
    evalue: str | None = None
    traceback: str = ""
    stdout: str = ""
    stderr: str = ""
    outputs: list[dict] = field(default_factory=list)
    ran: bool = False

    @property
    def passed(self) -> bool:
        """nbgrader's rule: no error and no stderr."""
        return self.ran and self.ename is None and not self.stderr


@dataclass
class ExecuteOutcome:
    cells: list[CellOutcome]
    failure: str | None  # why the run as a whole stopped early, if it did
    wall: float = 0.0
    startup: float = 0.0  # seconds until the first cell started (interpreter, imports, and the checks if they ran)
    malformed: int = 0  # lines on the runner's channel that were not a valid, expected event
    checks: dict | None = None  # the runner's "checks" event, when it ran the checks first
    # cells that timed out while their process was starved of CPU by the host (it waited on a run
    # queue longer than it ran): one line each, for the session stage to regrade
    starved: list[str] = field(default_factory=list)
    checks_cpu: float | None = None  # CPU seconds the cases used (the runner's reaped children)

    def cell(self, index: int) -> CellOutcome:
        return next(c for c in self.cells if c.index == index)


@dataclass(frozen=True)
class SessionChecks:
    """Run the module's cases in the same sandbox session, before the cells (see
    `inner/checks_child.py`): the case runner's arguments and results folder as the sandbox sees
    them (the spec and the runner are staged in the runner folder by `checks.stage_runner`, the
    student's module under `checks/` by `checks.plan_checks`), and their limits."""

    args: list[str]
    out: str
    timeout: float
    values_cap: int
    isolate: bool  # only in a real sandbox: kill what the cases left, wipe what they wrote


def execute(cells: list[dict], *, sandbox: Sandbox, scratch: Path, lib: Path | None,
            checks: SessionChecks | None = None) -> ExecuteOutcome:
    """Run `cells` ({"index", "source", "grade_id"}; code cells in notebook order) in `sandbox`.

    `scratch` is this submission's fresh directory; `lib` (the earlier modules, holding
    `tinytorch/`) is copied to `scratch/lib` and put on PYTHONPATH. The runner's folder, `lib/`
    and `checks/` are mounted read-only: student code can write its working directory, /tmp and
    /dev/shm, none of which is on `sys.path`. With `checks`, the runner runs the module's cases
    first and the outcome carries their event.
    """
    return _Supervisor(cells, sandbox, Path(scratch), lib, checks).run()


class _Supervisor:
    def __init__(self, cells: list[dict], sandbox: Sandbox, scratch: Path, lib: Path | None,
                 checks: SessionChecks | None):
        self.sandbox = sandbox
        self.session_checks = checks
        self.checks: dict | None = None
        self.limits = sandbox.limits
        self.scratch = scratch
        self.lib = lib
        self.cells = [{"index": int(c["index"]), "source": str(c.get("source", "")),
                       "grade_id": c.get("grade_id")} for c in cells]
        self.outcomes = {c["index"]: CellOutcome(c["index"], c["grade_id"]) for c in self.cells}
        self.order = [c["index"] for c in self.cells]
        if len(set(self.order)) != len(self.order):
            raise ValueError(f"cell indexes must be unique (prepare drops duplicates): {self.order}")
        self.next = 0  # position in self.order of the next cell expected to start
        self.current: int | None = None  # index of the cell running now
        self.malformed = 0
        self.ended = False
        self.last_done: int | None = None
        self.max_line = 8 * self.limits.output_bytes + CHECKS_EVENT_BYTES
        self.stderr = b""
        self.runner_pid: int | None = None  # the sandboxed runner's host pid, found at the first cell
        self.cell_cpu: CpuWatch | None = None  # the running cell's time on and waiting for a CPU
        self.starved: list[str] = []
        self.checks_cpu: float | None = None

    # ------------------------------------------------------------------ setup

    def _write_scratch(self) -> list[str]:
        runner = self.scratch / RUNNER_DIR
        runner.mkdir(parents=True, exist_ok=True)
        (runner / "cells.json").write_text(json.dumps(self.cells), encoding="utf-8")
        for name in (RUNNER, CHECKS_CHILD):
            shutil.copyfile(script(name), runner / name)
        if self.lib is not None:
            shutil.copytree(self.lib, self.scratch / "lib", dirs_exist_ok=True)
        argv = ["python", "-X", "faulthandler", f"/scratch/{RUNNER_DIR}/{RUNNER}",
                "--output-bytes", str(self.limits.output_bytes), "--outputs-kept", str(OUTPUTS_KEPT),
                "--line-bytes", str(self.max_line), "--capture-dir", f"/scratch/{CAPTURE}"]
        if self.session_checks is not None:
            c = self.session_checks
            argv += ["--checks", json.dumps(c.args), "--checks-out", c.out, "--checks-timeout", f"{c.timeout:g}",
                     "--values-cap", str(c.values_cap)] + (["--isolate", "1"] if c.isolate else [])
        return argv + [f"/scratch/{RUNNER_DIR}/cells.json"]

    def _readonly(self) -> list[Path]:
        """What the sandbox mounts read-only: everything the runner imports or reads."""
        return [self.scratch / name for name in (RUNNER_DIR, "lib", "checks") if (self.scratch / name).is_dir()]

    # ------------------------------------------------------------------ main loop

    def run(self) -> ExecuteOutcome:
        argv = self._write_scratch()
        env = {"PYTHONPATH": "/scratch/lib"} if self.lib is not None else {}
        start = time.monotonic()
        for folder in self._readonly():
            _readable(folder)
        proc = self.sandbox.popen(self.scratch, argv, env=env, stdin=subprocess.DEVNULL, readonly=self._readonly())
        failure = None
        startup = None
        notebook_deadline = start + self.limits.notebook_timeout
        checks_budget = self.session_checks.timeout + 5.0 if self.session_checks else 0.0
        cell_deadline = start + max(self.limits.cell_timeout, RUNNER_STARTUP) + checks_budget
        interrupted_at: float | None = None
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ, "stdout")
        selector.register(proc.stderr, selectors.EVENT_READ, "stderr")
        buffer = b""
        discarding = False
        exited_at: float | None = None
        try:
            while proc.stdout in [k.fileobj for k in selector.get_map().values()]:
                now = time.monotonic()
                if exited_at is None and proc.poll() is not None:
                    exited_at = now  # drain what is left; a stray child may hold the pipe open
                if exited_at is not None and now > exited_at + 1.0:
                    break
                if now >= notebook_deadline:
                    failure = self._notebook_timeout(proc)
                    break
                if interrupted_at is not None and now >= interrupted_at + GRACE:
                    failure = self._kill_hung_cell(proc)
                    break
                if self.cell_cpu is not None and interrupted_at is None:
                    self.cell_cpu.sample()
                if interrupted_at is None and now >= cell_deadline:
                    if self.current is None:
                        self.sandbox.kill(proc)
                        failure = f"the runner did not start within {cell_deadline - start:.0f} s"
                        break
                    self._check_starved()
                    self.sandbox.interrupt(proc)
                    interrupted_at = now
                wait = min(notebook_deadline, cell_deadline if interrupted_at is None else interrupted_at + GRACE) - now
                for key, _ in selector.select(max(0.01, min(wait, 0.5))):
                    chunk = _read(key.fileobj)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    if key.data == "stderr":
                        room = self.limits.output_bytes - len(self.stderr)
                        if room > 0:
                            self.stderr += chunk[:room]
                        continue
                    buffer += chunk
                    lines = buffer.split(b"\n")
                    buffer = lines.pop()
                    for line in lines:
                        if discarding:  # the tail of an over-long line
                            discarding = False
                            continue
                        event = self._event(line)
                        if event == "checks":  # the runner goes on to start IPython
                            self.checks_cpu = self._children_cpu(proc)
                            cell_deadline = time.monotonic() + max(self.limits.cell_timeout, RUNNER_STARTUP)
                        elif event == "start":
                            startup = time.monotonic() - start if startup is None else startup
                            self._cell_started(proc)
                            cell_deadline = time.monotonic() + self.limits.cell_timeout
                            interrupted_at = None
                        elif event == "done":
                            if interrupted_at is not None:
                                self._mark_interrupted(self.last_done)
                            interrupted_at = None
                            cell_deadline = notebook_deadline
                    if len(buffer) > self.max_line:
                        self.malformed += 1
                        buffer = b""
                        discarding = True
                if self.ended:
                    break
            if failure is None:
                failure = self._finish(proc)
        finally:
            selector.close()
            self.sandbox.kill(proc)
            for stream in (proc.stdout, proc.stderr):
                stream.close()
        self._mark_not_run(failure)
        return ExecuteOutcome(cells=[self.outcomes[i] for i in self.order], failure=failure,
                              wall=time.monotonic() - start, startup=startup or 0.0,
                              malformed=self.malformed, checks=self.checks, starved=self.starved,
                              checks_cpu=self.checks_cpu)

    # ------------------------------------------------------------------ events

    def _event(self, line: bytes) -> str | None:
        """Apply one line if it is the next expected event; count it as malformed otherwise."""
        try:
            event = json.loads(line)
            kind = event["event"]
        except (ValueError, TypeError, KeyError, RecursionError):
            self.malformed += 1
            return None
        if not isinstance(event, dict):
            self.malformed += 1
            return None
        if kind == "checks" and self.session_checks is not None and self.checks is None \
                and self.current is None and self.next == 0:
            self.checks = event
            return "checks"
        if kind == "start" and self.current is None and self.next < len(self.order) \
                and event.get("index") == self.order[self.next]:
            self.current = self.order[self.next]
            self.next += 1
            return "start"
        if kind == "done" and self.current is not None and event.get("index") == self.current:
            self._record(self.outcomes[self.current], event)
            self.last_done, self.current = self.current, None
            return "done"
        if kind == "end" and self.current is None and self.next == len(self.order):
            self.ended = True
            return "end"
        self.malformed += 1
        return None

    def _record(self, outcome: CellOutcome, event: dict) -> None:
        cap = self.limits.output_bytes
        outcome.ran = True
        outcome.ename = _text(event.get("ename"), 1000) or None
        outcome.evalue = _text(event.get("evalue"), 10000) if outcome.ename else None
        outcome.traceback = _text(event.get("traceback"), cap)
        outcome.stdout = _text(event.get("stdout"), cap + 200)  # (+ the runner's truncation note)
        outcome.stderr = _text(event.get("stderr"), cap + 200)
        outputs = event.get("outputs")
        outcome.outputs = [o for o in outputs if _valid_output(o)][:OUTPUTS_KEPT] if isinstance(outputs, list) else []

    # ------------------------------------------------------------------ overload

    def _cell_started(self, proc: subprocess.Popen) -> None:
        if self.runner_pid is None:
            self.runner_pid = self.sandbox.command_pid(proc)
        self.cell_cpu = CpuWatch.begin(self.runner_pid) if self.runner_pid else None

    def _children_cpu(self, proc: subprocess.Popen) -> float | None:
        """CPU seconds of the runner's reaped children (the cases' forks, which the runner and
        the case runner wait for), from /proc/<runner>/stat (cutime + cstime)."""
        if self.runner_pid is None:
            self.runner_pid = self.sandbox.command_pid(proc)
        try:
            with open(f"/proc/{self.runner_pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError, TypeError):
            return None

    def _check_starved(self) -> None:
        """At a cell's timeout: did its process wait for a CPU longer than it ran? Then the host
        was overloaded (a neighbour's processes, other work) and the timeout says nothing about the
        student's code: noted for the session stage, which grades the submission again."""
        if self.current is None or self.cell_cpu is None:
            return
        totals = self.cell_cpu.totals()
        if totals is None:
            return
        ran, waited = totals
        if waited > ran:
            self.starved.append(f"cell {self.current} timed out after {self.limits.cell_timeout:g} s while the "
                                f"host was overloaded: it ran {ran:.1f} s and waited {waited:.1f} s for a CPU")

    # ------------------------------------------------------------------ endings

    def _mark_interrupted(self, index: int) -> None:
        outcome = self.outcomes[index]
        outcome.ename = "CellTimeoutError"
        outcome.evalue = f"the cell ran longer than the {self.limits.cell_timeout:g} s per-cell timeout and was interrupted"

    def _kill_hung_cell(self, proc: subprocess.Popen) -> str:
        self.sandbox.kill(proc)
        index = self.current
        outcome = self.outcomes[index]
        self._read_captures(outcome)
        outcome.ename = "CellTimeoutError"
        outcome.evalue = (f"the cell ran longer than the {self.limits.cell_timeout:g} s per-cell timeout, "
                          f"ignored the interrupt and was killed after {GRACE:g} s more")
        outcome.ran = True
        self.current = None
        return f"cell {index} timed out and ignored the interrupt; the kernel was killed"

    def _notebook_timeout(self, proc: subprocess.Popen) -> str:
        self.sandbox.kill(proc)
        reason = f"notebook timeout after {self.limits.notebook_timeout:g} s"
        if self.current is not None:
            outcome = self.outcomes[self.current]
            self._read_captures(outcome)
            outcome.ran = True
            outcome.ename = "NotebookTimeoutError"
            outcome.evalue = f"the notebook ran longer than its {self.limits.notebook_timeout:g} s limit during this cell"
            reason += f" in cell {self.current}"
            self.current = None
        return reason

    def _finish(self, proc: subprocess.Popen) -> str | None:
        """The channel closed or said "end": did the runner finish, or die?"""
        if self.ended:
            # every cell has reported: nothing the runner does from here on counts, so the caller
            # kills it now rather than wait for the interpreter's teardown (IPython's atexit
            # handlers, freeing the student's objects: 0.3-0.5 s per submission, measured) or for
            # a student's own atexit handler
            return None
        try:
            returncode = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.sandbox.kill(proc)
            returncode = proc.returncode
        sig = self.sandbox.exit_signal(returncode)
        if self.current is None:
            detail = self.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            where = "before the first cell" if self.next == 0 else f"between cells (after cell {self.order[self.next - 1]})"
            why = _death(returncode, sig, self.limits)
            return f"kernel {why} {where}" + (f": {' / '.join(detail)}" if detail else "")
        index = self.current
        outcome = self.outcomes[index]
        self._read_captures(outcome)
        outcome.ran = True
        text = outcome.stderr + outcome.stdout + self.stderr.decode("utf-8", "replace")
        if sig in (None, signal.SIGABRT, signal.SIGSEGV, signal.SIGKILL) and any(m in text for m in OOM_MARKERS):
            reason = f"out of memory in cell {index} (limit {self.limits.memory_bytes / 2**30:g} GiB)"
        else:
            reason = f"kernel {_death(returncode, sig, self.limits)} in cell {index}"
        outcome.ename = "DeadKernelError"
        outcome.evalue = reason
        self.current = None
        return reason

    def _read_captures(self, outcome: CellOutcome) -> None:
        """What a cell that never reported had written to its capture files.

        Read after the sandbox is dead, and carefully: the student controlled that directory
        (a symlink out of scratch or a FIFO there must not make the supervisor read or hang)."""
        cap = self.limits.output_bytes
        root = self.scratch.resolve()
        for name in ("stdout", "stderr"):
            path = self.scratch / CAPTURE / name
            try:
                if root not in path.resolve().parents or path.is_symlink() or not path.is_file():
                    continue
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                try:
                    data = os.read(fd, cap) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
                finally:
                    os.close(fd)
            except OSError:
                continue
            setattr(outcome, name, getattr(outcome, name) + data.decode("utf-8", "replace"))

    def _mark_not_run(self, failure: str | None) -> None:
        for index in self.order:
            outcome = self.outcomes[index]
            if not outcome.ran:
                outcome.ename = "NotRun"
                outcome.evalue = f"not run: {failure}" if failure else "not run: the runner stopped early"


# ---------------------------------------------------------------------- helpers

SIGNAL_NAMES = {s.value: s.name for s in signal.Signals}


def _death(returncode: int | None, sig: int | None, limits) -> str:
    if sig == signal.SIGXCPU:
        return f"exceeded the CPU time limit ({limits.cpu_seconds} s, signal SIGXCPU)"
    if sig is not None:
        return f"died (signal {sig}: {SIGNAL_NAMES.get(sig, '?')})"
    return f"exited (status {returncode})"


def _readable(tree: Path) -> None:
    """Readable (never writable) by the sandbox's uid, whatever the modes of the copies were."""
    for directory, _, files in os.walk(tree):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o644)


def _read(stream) -> bytes:
    try:
        return os.read(stream.fileno(), 65536)
    except OSError:
        return b""


def _text(value, cap: int) -> str:
    if value is None:
        return ""
    return (value if isinstance(value, str) else str(value))[:cap]


KEPT_MIMETYPES = ("text/plain", "image/png")  # the supervisor's allow-list (the runner's is advisory)
MAX_TEXT_CHARS = 2 * 2**20  # of one text/plain value (the runner truncates at the output cap)
MAX_PNG_CHARS = 8 * 2**20  # of one base64 PNG (6 MB of image)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _valid_output(output) -> bool:
    """An nbformat output the supervisor keeps: a stream, an error, or a display whose data holds
    only text/plain and a base64 PNG, with no metadata (what an untampered runner sends).

    The runner's own allow-list runs inside the sandbox, where student code can switch it off;
    this one decides. A display carrying any other mimetype (text/html, application/javascript,
    image/svg+xml, ...) is dropped whole: only tampering makes one."""
    if not isinstance(output, dict):
        return False
    kind = output.get("output_type")
    if kind == "stream":
        return output.get("name") in ("stdout", "stderr") and isinstance(output.get("text"), str)
    if kind in ("display_data", "execute_result"):
        data, metadata = output.get("data"), output.get("metadata", {})
        if not isinstance(data, dict) or not data or metadata != {}:
            return False
        if kind == "execute_result" and not _count(output.get("execution_count")):
            return False
        return all(_valid_data(mime, value) for mime, value in data.items())
    if kind == "error":
        traceback = output.get("traceback")
        return (isinstance(output.get("ename"), str) and isinstance(output.get("evalue", ""), str)
                and isinstance(traceback, list) and all(isinstance(line, str) for line in traceback))
    return False


def _count(value) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _valid_data(mime, value) -> bool:
    if mime not in KEPT_MIMETYPES or not isinstance(value, str):
        return False
    if mime == "text/plain":
        return len(value) <= MAX_TEXT_CHARS
    return len(value) <= MAX_PNG_CHARS and _is_png(value)


def _is_png(value: str) -> bool:
    import base64

    try:
        raw = base64.b64decode(value.replace("\n", ""), validate=True)
    except (ValueError, TypeError):
        return False
    return raw.startswith(PNG_SIGNATURE)
