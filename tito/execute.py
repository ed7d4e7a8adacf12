"""Run a notebook top to bottom in a fresh kernel and report what each code cell did.

Reused by the lint (source and release runs) and by the autograder, so it knows nothing about
either: the caller chooses the environment, the working directory and the per-cell timeout.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from tito import UNDER_TITO
from tito.source import grade_id, is_graded_test, points

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TIMEOUT_ERROR = {
    "ename": "CellTimeoutError",
    "evalue": "no reply from the kernel before the per-cell timeout",
    "traceback": ["CellTimeoutError: no reply from the kernel before the per-cell timeout"],
}


class _Client(NotebookClient):
    """NotebookClient that remembers which cells hit the timeout.

    On a timeout nbclient interrupts the kernel, so the cell's output says KeyboardInterrupt;
    the outcome should say what happened instead.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timed_out: set[str] = set()

    async def _async_handle_timeout(self, timeout, cell=None):  # nbclient 0.10/0.11 hook
        if cell is not None:
            self.timed_out.add(cell.get("id", ""))
        return await super()._async_handle_timeout(timeout, cell)


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
    kernel_name: str = "python3",
) -> NotebookRun:
    """Execute every cell (errors do not stop the run) and return per-cell outcomes.

    `env` replaces the kernel's whole environment (jupyter_client's `start_kernel(env=...)`),
    so build it with `kernel_env`; UNDER_TITO is always added. The input notebook is not modified.
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
    )
    kernel_error = None
    try:
        # the kernel's own stderr (launch chatter) is dropped; cell stderr still arrives as output
        client.execute(env={**(env or os.environ), UNDER_TITO: "1"}, cwd=str(cwd), stderr=subprocess.DEVNULL)
    except DeadKernelError as error:
        kernel_error = f"DeadKernelError: {error}"
    except Exception as error:  # a kernel that cannot start: report it, do not crash the batch
        kernel_error = f"{type(error).__name__}: {error}"
    outcomes = [_outcome(i, c, kernel_error) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    outcomes = [_mark_timeout(o, timeout) if nb.cells[o.index].id in client.timed_out else o for o in outcomes]
    return NotebookRun(outcomes, nb, kernel_error)


def _ensure_ids(nb: nbformat.NotebookNode) -> None:
    """Cells need ids to be told apart (old notebooks may lack them)."""
    nb.nbformat, nb.nbformat_minor = 4, max(nb.get("nbformat_minor", 5), 5)
    for index, cell in enumerate(nb.cells):
        if not cell.get("id"):
            cell.id = f"cell-{index}"


def _mark_timeout(outcome: CellOutcome, timeout: int) -> CellOutcome:
    return replace(outcome, passed=False, ename="CellTimeoutError",
                   evalue=f"no reply from the kernel within the {timeout} s per-cell timeout")


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
