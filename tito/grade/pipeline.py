"""Grade one submission: read, prepare, execute in the sandbox, check, flag, score.

Everything a student can do wrong ends here as a GradeResult with a reason; nothing propagates
as an exception to the batch. The gradebook is written by the caller (the supervisor's main
thread), never from here.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path

import nbformat

from tito.build.partial import modules_before, partial_reference
from tito.course import Module
from tito.grade import integrity
from tito.grade.checks import (CHECKS_TIMEOUT, VALUES_CAP, CheckRun, fail_all, plan_checks, run_checks,
                               score_checks)
from tito.grade.execute import SessionChecks, execute
from tito.grade.model import CellResult, Flag, GradeResult, Submission
from tito.grade.prepare import Prepared, SubmissionError, prepare, read_submission
from tito.grade.sandbox import Sandbox
from tito.grade.selection import cells_to_run


def checkpoint_cell_id(module_name: str) -> str:
    """The graded cell whose points the differential checks decide: `<name>-checkpoint`,
    e.g. `autograd-checkpoint` for 05_autograd (each module's last graded cell)."""
    return module_name.split("_", 1)[1] + "-checkpoint"

VERSIONED_PACKAGES = ("numpy", "nbgrader", "ipython", "nbformat", "tinytorch-course")


@dataclass
class GradingContext:
    """What every submission of a run shares: the course, the sandbox, partial references."""

    root: Path
    modules: list[Module]
    sandbox: Sandbox
    work: Path = field(default=None)  # scratch area for this run

    def __post_init__(self):
        if self.work is None:
            self.work = Path(tempfile.mkdtemp(prefix="tito-grade-"))
        self._partials: dict[str, Path] = {}
        self._instructors: dict[str, nbformat.NotebookNode] = {}
        # the pool's workers ask for these at the same moment when a run starts: one builds, the
        # others wait (two builders writing one partial/ folder left a worker copying truncated
        # files, and that submission's cells failed)
        self._lock = threading.Lock()

    def module(self, name: str) -> Module:
        return next(m for m in self.modules if m.name == name)

    def partial_lib(self, module: Module) -> Path:
        """The reference of the modules before `module` only (never its own), built once per run."""
        with self._lock:
            if module.name not in self._partials:
                dest = self.work / "partial" / module.name
                partial_reference(self.root, dest, modules_before(self.modules, module))
                self._partials[module.name] = dest
            return self._partials[module.name]

    def instructor(self, module: Module) -> nbformat.NotebookNode:
        """The instructor's notebook (solutions and hidden tests): the authority on locked cells."""
        with self._lock:
            if module.name not in self._instructors:
                if not module.source_ipynb.is_file():
                    from tito.build import notebooks

                    notebooks.build(module)
                self._instructors[module.name] = nbformat.read(module.source_ipynb, as_version=4)
            return self._instructors[module.name]

    @cached_property
    def versions(self) -> dict[str, str]:
        found = {"python": platform.python_version()}
        for package in VERSIONED_PACKAGES:
            try:
                found[package] = metadata.version(package)
            except metadata.PackageNotFoundError:
                pass
        return found

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def graded_cells(notebook) -> list:
    return [c for c in notebook.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def grade_one(context: GradingContext, submission: Submission, autograded_dir: Path | None = None) -> GradeResult:
    """Grade one submission; always returns a result (status "error" with a reason if ungradable)."""
    module = context.module(submission.module)
    started = time.perf_counter()
    result = GradeResult(student=submission.student, module=module.name, digest=submission.digest(),
                         status="graded", versions=dict(context.versions))
    instructor = context.instructor(module)
    scratch = Path(tempfile.mkdtemp(prefix=f"{submission.student}-{module.name}-", dir=context.work))
    try:
        try:
            submitted, notes = read_submission(submission)
        except SubmissionError as error:
            return _ungradable(result, instructor, str(error))
        prepared = prepare(instructor, submitted)
        result.timings["prepare"] = time.perf_counter() - started
        _grade_prepared(context, module, prepared, result, scratch, autograded_dir)
        for note in notes:
            result.flags.append(Flag("note", note))
    except Exception:  # a bug of ours must not stop the batch either: record it loudly
        _ungradable(result, instructor, "internal grading error (reported to the instructor):\n"
                    + traceback.format_exc(limit=8))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        result.timings["total"] = time.perf_counter() - started
    return result


def _grade_prepared(context, module, prepared: Prepared, result: GradeResult, scratch: Path,
                    autograded_dir: Path | None) -> None:
    cells = [{"index": i, "source": prepared.notebook.cells[i].source,
              "grade_id": prepared.notebook.cells[i].metadata.get("nbgrader", {}).get("grade_id")}
             for i in cells_to_run(prepared.notebook, prepared.student_cells)]
    outcome, checks = _run_session(context, module, prepared.notebook, cells, scratch, result.timings)
    result.checks = checks
    by_index = {o.index: o for o in outcome.cells}
    for index, cell in enumerate(prepared.notebook.cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            result.cells.append(_score_cell(cell, by_index.get(index), checks, checkpoint_cell_id(module.name)))
    student_sources = [(i, prepared.notebook.cells[i].source) for i in prepared.student_cells
                       if prepared.notebook.cells[i].cell_type == "code"]
    result.flags = (prepared.flags + integrity.scan(student_sources, module=module.export_module)
                    + integrity.cross_check(result.cells, checks))
    if outcome.failure:
        result.flags.append(Flag("execution", outcome.failure))
    if autograded_dir is not None:
        _write_autograded(prepared.notebook, outcome, autograded_dir / f"{module.name}.ipynb")


def _run_session(context, module, notebook, cells: list[dict], scratch: Path, timings: dict):
    """One sandbox session: the differential checks in a pristine child first, then the cells.

    When the session brings no checks back (the runner died or was killed before it reported
    them: only code that attacks the runner does that), the submission is graded the separate
    way instead, the notebook and the checks each in a sandbox of their own, so that neither can
    cost the other's points. Returns (the notebook's ExecuteOutcome, the CheckResults)."""
    plan = plan_checks(module, notebook, scratch / "session", context.partial_lib(module))
    request = None if plan.failure else SessionChecks(
        scenario=plan.scenario, out=plan.out, timeout=CHECKS_TIMEOUT, values_cap=VALUES_CAP,
        kill_strays=context.sandbox.isolated)
    clock = time.perf_counter()
    outcome = _execute(context, module, cells, scratch / "session", request)
    wall = time.perf_counter() - clock
    run = CheckRun.from_event(outcome.checks) if outcome.checks is not None else None
    if request is not None and run is None:
        return _run_separately(context, module, notebook, cells, scratch, timings)
    checks_wall = run.wall if run else 0.0
    timings["startup"] = max(0.0, outcome.startup - checks_wall)
    timings["execute"] = wall - checks_wall
    timings["checks"] = checks_wall
    checks = score_checks(plan, run, None, CHECKS_TIMEOUT)[0] if run else fail_all(plan)[0]
    return outcome, checks


def _run_separately(context, module, notebook, cells: list[dict], scratch: Path, timings: dict):
    clock = time.perf_counter()
    outcome = _execute(context, module, cells, scratch / "notebook", None)
    timings["startup"] = outcome.startup
    timings["execute"] = time.perf_counter() - clock
    clock = time.perf_counter()
    checks, _raw = run_checks(module, notebook, sandbox=context.sandbox, scratch=scratch / "checks",
                              partial_lib=context.partial_lib(module))
    timings["checks"] = time.perf_counter() - clock
    return outcome, checks


def _execute(context, module, cells: list[dict], scratch: Path, checks: SessionChecks | None):
    return execute(cells, sandbox=context.sandbox, scratch=scratch, lib=context.partial_lib(module), checks=checks)


def _score_cell(cell, outcome, checks, checkpoint_id: str) -> CellResult:
    """nbgrader's rule for a test cell (error or stderr: 0, else full), except the checkpoint cell,
    whose points are the differential checks' points."""
    meta = cell.metadata["nbgrader"]
    grade_id, max_points = meta["grade_id"], float(meta.get("points", 0))
    hidden = "### BEGIN HIDDEN TESTS" in cell.source
    if outcome is None or not outcome.ran:
        ename = outcome.ename if outcome else "NotRun"
        evalue = outcome.evalue if outcome else "the cell was not executed"
        return CellResult(grade_id, max_points, 0.0, False, ename, evalue, False, hidden)
    stderr = bool(outcome.stderr.strip())
    passed = outcome.ename is None and not stderr
    if grade_id == checkpoint_id and checks:
        points = float(sum(c.points for c in checks))
        evalue = outcome.evalue if outcome.ename else None
        return CellResult(grade_id, max_points, min(points, max_points), points >= max_points,
                          outcome.ename, evalue, stderr, hidden)
    evalue = outcome.evalue if outcome.ename else ("output on stderr: " + outcome.stderr[:500] if stderr else None)
    return CellResult(grade_id, max_points, max_points if passed else 0.0, passed, outcome.ename, evalue,
                      stderr, hidden)


def _ungradable(result: GradeResult, instructor, reason: str) -> GradeResult:
    result.status, result.reason = "error", reason
    result.cells = [CellResult(c.metadata["nbgrader"]["grade_id"], float(c.metadata["nbgrader"].get("points", 0)),
                               0.0, False, "NotGraded", reason.splitlines()[0][:300])
                    for c in graded_cells(instructor)]
    result.checks = []
    return result


def _write_autograded(notebook, outcome, path: Path) -> None:
    """The executed notebook as nbgrader's formgrader expects it (hidden tests stay in: instructors only)."""
    executed = nbformat.from_dict(json.loads(json.dumps(notebook)))
    by_index = {o.index: o for o in outcome.cells}
    for index, cell in enumerate(executed.cells):
        if cell.cell_type == "code" and index in by_index:
            cell.outputs = [nbformat.from_dict(o) for o in by_index[index].outputs]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".ipynb.tmp")
    nbformat.write(executed, temporary)
    temporary.replace(path)
