"""Run a notebook top to bottom in a fresh kernel and report what each code cell did.

Reused by the lint (source and release runs) and by the autograder, so it knows nothing about
either: the caller chooses the environment, the working directory and the per-cell timeout.
"""

from __future__ import annotations

import asyncio
import atexit
import math
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from tito import UNDER_TITO
from tito.source import grade_id, is_graded_test, points

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PER_CELL, OVERALL = "per-cell", "overall"  # which time limit stopped a cell
TIMEOUT_ERROR = {
    "ename": "CellTimeoutError",
    "evalue": "no reply from the kernel before the per-cell timeout",
    "traceback": ["CellTimeoutError: no reply from the kernel before the per-cell timeout"],
}


class _Client(NotebookClient):
    """NotebookClient with an overall time limit, that remembers which cells hit a limit and
    whether the user pressed Ctrl+C.

    On a timeout nbclient interrupts the kernel, so the cell's output says KeyboardInterrupt;
    the outcome should say what happened instead. Once the overall limit has run out, the cells
    left are not run. nbclient's own SIGINT handler kills the kernel and lets the run go on as if
    the kernel had died by itself; ours does the same and remembers it, so the caller can stop.
    """

    def __init__(self, *args, total_timeout: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.timed_out: dict[str, str] = {}  # cell id -> which limit: PER_CELL or OVERALL
        self.not_run: set[str] = set()  # cells skipped after the overall limit ran out
        self.interrupted = False
        self.deadline = time.monotonic() + total_timeout if total_timeout else None

    def _remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def _get_timeout(self, cell):
        per_cell, remaining = super()._get_timeout(cell), self._remaining()
        if remaining is None:
            return per_cell
        return max(1, min(per_cell or math.inf, math.ceil(remaining)))

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        remaining = self._remaining()
        if cell.cell_type == "code" and remaining is not None and remaining <= 0:
            self.not_run.add(cell.get("id", ""))
            return cell
        return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

    async def _async_handle_timeout(self, timeout, cell=None):  # nbclient 0.10/0.11 hook
        if cell is not None:
            remaining = self._remaining()
            self.timed_out[cell.get("id", "")] = OVERALL if remaining is not None and remaining <= 1 else PER_CELL
        return await super()._async_handle_timeout(timeout, cell)

    async def async_start_new_kernel(self, **kwargs):
        await super().async_start_new_kernel(**kwargs)
        try:  # replaces nbclient's handler, added just before (it is removed with it at the end)
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._on_ctrl_c)
        except (RuntimeError, NotImplementedError):  # not the main thread (the lint's workers)
            pass

    def _on_ctrl_c(self) -> None:
        """nbclient's own handler, remembering the interrupt."""
        self.interrupted = True
        self._async_cleanup_kernel_future = asyncio.ensure_future(self._async_cleanup_kernel())
        atexit.unregister(self._cleanup_kernel)


@dataclass(frozen=True)
class CellOutcome:
    """One executed code cell: what nbgrader would score it on (an error or not)."""

    index: int  # position among all cells of the notebook
    grade_id: str | None
    graded: bool  # a graded test cell (grade true, solution false)
    points: float
    passed: bool  # ran without an error
    ename: str | None = None
    evalue: str | None = None
    traceback: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class NotebookRun:
    """All code cells' outcomes; `kernel_error` is set when the kernel died or never started."""

    outcomes: list[CellOutcome]
    notebook: nbformat.NotebookNode
    kernel_error: str | None = None

    @property
    def graded(self) -> list[CellOutcome]:
        return [o for o in self.outcomes if o.graded]

    @property
    def errors(self) -> list[CellOutcome]:
        return [o for o in self.outcomes if not o.passed]


def kernel_env(pythonpath: list[Path], extra: dict[str, str] | None = None) -> dict[str, str]:
    """The current environment with `pythonpath` first on PYTHONPATH (then any inherited one)."""
    env = dict(os.environ)
    inherited = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(p) for p in pythonpath] + inherited)
    env.update(extra or {})
    return env


def execute_notebook(
    notebook: nbformat.NotebookNode | Path,
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: int = 60,
    total_timeout: int | None = None,
    extensions: tuple[str, ...] = (),
    kernel_name: str = "python3",
) -> NotebookRun:
    """Execute every cell (errors do not stop the run) and return per-cell outcomes.

    `timeout` limits each cell, `total_timeout` (if given) the whole notebook: the cell running
    when it runs out is interrupted and the cells after it are not run. `env` replaces the
    kernel's whole environment (jupyter_client's `start_kernel(env=...)`), so build it with
    `kernel_env`; UNDER_TITO is always added. `extensions` are IPython extensions the kernel loads
    at start (importable in `env`). The input notebook is not modified. Ctrl+C
    (SIGINT) stops the kernel and raises KeyboardInterrupt here, at once.
    """
    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, Path) else nbformat.from_dict(notebook)
    _ensure_ids(nb)
    client = _Client(
        nb,
        timeout=timeout,
        allow_errors=True,
        kernel_name=kernel_name,
        interrupt_on_timeout=True,  # a hung cell is interrupted and the run goes on
        error_on_timeout=TIMEOUT_ERROR,
        resources={"metadata": {"path": str(cwd)}},
        total_timeout=total_timeout,
        extra_arguments=[f"--IPKernelApp.extensions={name}" for name in extensions],
    )
    kernel_error = None
    try:
        # the kernel's own stderr (launch chatter) is dropped; cell stderr still arrives as output
        client.execute(env={**(env or os.environ), UNDER_TITO: "1"}, cwd=str(cwd), stderr=subprocess.DEVNULL)
    except DeadKernelError as error:
        kernel_error = f"DeadKernelError: {error}"
    except Exception as error:  # a kernel that cannot start: report it, do not crash the batch
        kernel_error = f"{type(error).__name__}: {error}"
    if client.interrupted:
        raise KeyboardInterrupt
    outcomes = [_limited(_outcome(i, c, kernel_error), client, c.id, timeout, total_timeout)
                for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    return NotebookRun(outcomes, nb, kernel_error)


def _ensure_ids(nb: nbformat.NotebookNode) -> None:
    """Cells need ids to be told apart (old notebooks may lack them)."""
    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 5), 5)
    for index, cell in enumerate(nb.cells):
        if not cell.get("id"):
            cell.id = f"cell-{index}"


def _limited(outcome: CellOutcome, client: _Client, cell_id: str, timeout: int,
             total_timeout: int | None) -> CellOutcome:
    """The outcome of a cell a time limit stopped or skipped, saying which limit."""
    if client.timed_out.get(cell_id) == PER_CELL:
        return replace(outcome, passed=False, ename="CellTimeoutError",
                       evalue=f"no reply from the kernel within the {timeout} s per-cell timeout")
    if client.timed_out.get(cell_id) == OVERALL:
        return replace(outcome, passed=False, ename="CellTimeoutError",
                       evalue=f"the notebook's {total_timeout} s overall time limit ran out in this cell")
    if cell_id in client.not_run:
        return replace(outcome, passed=False, ename="NotExecuted",
                       evalue=f"not run: the notebook's {total_timeout} s overall time limit had run out")
    return outcome


def _outcome(index: int, cell: nbformat.NotebookNode, kernel_error: str | None) -> CellOutcome:
    """A cell passed if it produced no error output and was actually run."""
    common = dict(index=index, grade_id=grade_id(cell), graded=is_graded_test(cell), points=points(cell))
    stderr = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr")
    error = next((o for o in cell.outputs if o.output_type == "error"), None)
    if error is not None:
        traceback = ANSI.sub("", "\n".join(error.get("traceback", [])))
        return CellOutcome(**common, passed=False, ename=error.ename, evalue=error.evalue, traceback=traceback, stderr=stderr)
    if cell.get("execution_count") is None and cell.source.strip():
        reason = kernel_error or "the cell was not executed"
        return CellOutcome(**common, passed=False, ename="NotExecuted", evalue=reason, stderr=stderr)
    return CellOutcome(**common, passed=True, stderr=stderr)
