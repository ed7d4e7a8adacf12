"""Grade one submission: run it through the declared stages (`tito.grade.stages.STAGES`).

Everything a student can do wrong ends here as a GradeResult with a reason; nothing propagates
as an exception to the batch. Grading writes nothing the course keeps: the result and the
executed notebook come back as data (`Graded`), and the caller (the supervisor's main thread)
writes the gradebook and autograded/. So the same function runs in the supervisor's pool and on
a remote worker (`tito.grade.distributed`).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from tito.grade.context import GradingContext
from tito.grade.job import Job, Ungradable
from tito.grade.model import INTERNAL_ERROR, CellResult, Flag, GradeResult, Submission
from tito.grade.stages import STAGES

__all__ = ["GradingContext", "Graded", "checkpoint_cell_id", "grade", "grade_one", "graded_cells", "not_graded",
           "write_notebook"]


@dataclass
class Graded:
    """What grading one submission gives back: the result and, unless not asked for, the executed
    notebook (bytes of an .ipynb) for autograded/."""

    result: GradeResult
    notebook: bytes | None = None


def checkpoint_cell_id(module_name: str) -> str:
    """The graded cell whose cases carry points: `<name>-checkpoint`, e.g. `autograd-checkpoint`
    for 05_autograd (each module's last graded cell)."""
    return module_name.split("_", 1)[1] + "-checkpoint"


def graded_cells(notebook) -> list:
    return [c for c in notebook.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def grade_one(context: GradingContext, submission: Submission, autograded_dir: Path | None = None) -> GradeResult:
    """Grade one submission in this process, its seed from the context's secret, and write the
    executed notebook to `autograded_dir` if given (tests and benchmarks; `tito autograde` uses
    `grade` and writes from its main thread)."""
    graded = grade(context, submission, context.seed(submission), keep=autograded_dir is not None)
    if graded.notebook is not None:
        write_notebook(autograded_dir, submission.module, graded.notebook)
    return graded.result


def grade(context: GradingContext, submission: Submission, seed: int, *, keep: bool = True) -> Graded:
    """Grade one submission with the case inputs drawn from `seed` (the supervisor computes it:
    `GradingContext.seed`); always returns a result (status "error" with a reason
    if ungradable), and the executed notebook if `keep` and the stages got that far."""
    module = context.module(submission.module)
    started = time.perf_counter()
    result = GradeResult(student=submission.student, module=module.name, digest=submission.digest(),
                         status="graded", versions=dict(context.versions))
    scratch = Path(tempfile.mkdtemp(prefix=f"{submission.student}-{module.name}-", dir=context.work))
    job = Job(submission, module, result, scratch, seed, keep)
    try:
        for stage in STAGES:
            clock = time.perf_counter()
            stage.run(job, context)
            result.timings.setdefault(stage.__name__.rsplit(".", 1)[-1], time.perf_counter() - clock)
    except Ungradable as error:
        _ungradable(result, context, module, str(error), job.notes)
    except Exception:  # a bug of ours must not stop the batch either: record it loudly
        _ungradable(result, context, module, f"{INTERNAL_ERROR} (reported to the instructor):\n"
                    + traceback.format_exc(limit=8), job.notes)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        result.timings["total"] = time.perf_counter() - started
    return Graded(result, job.executed)


def not_graded(context: GradingContext, submission: Submission, reason: str) -> GradeResult:
    """The result of a submission the stages never finished with, for a reason outside them (every
    worker that took it died): recorded like an ungradable file, so the batch goes on."""
    module = context.module(submission.module)
    result = GradeResult(student=submission.student, module=module.name, digest=submission.digest(),
                         status="graded", versions=dict(context.versions))
    return _ungradable(result, context, module, reason, [])


def write_notebook(folder: Path, module: str, notebook: bytes) -> Path:
    """`folder/<module>.ipynb`, written atomically (a reader never sees half a notebook)."""
    path = folder / f"{module}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".ipynb.tmp")
    temporary.write_bytes(notebook)
    temporary.replace(path)
    return path


def _ungradable(result: GradeResult, context: GradingContext, module, reason: str, notes: list[str]) -> GradeResult:
    result.status, result.reason = "error", reason
    first = reason.splitlines()[0][:300] if reason else reason
    try:
        cells = graded_cells(context.release(module))
    except Exception:  # no release to name the cells: the reason still says what is wrong
        cells = []
    result.cells = [CellResult(c.metadata["nbgrader"]["grade_id"], float(c.metadata["nbgrader"].get("points", 0)),
                               0.0, False, "NotGraded", first) for c in cells]
    result.checks = []
    result.flags = [Flag("note", note) for note in notes]
    return result
