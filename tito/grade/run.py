"""`tito autograde`: grade every new or changed submission on a pool of workers.

The workers are threads of this process (`tito.grade.pool`, the default) or a Dask cluster
(`tito.grade.distributed`: `--scheduler`, `--cluster`). Workers only compute (each submission
runs in its own sandboxed processes) and hand back a result and an executed notebook as data; the
supervisor's main thread is the only writer: for each finished submission it commits the
gradebook transaction, writes the executed notebook, then
`autograded/<student>/<module>/result.json` atomically. A run killed at any moment therefore
resumes where it stopped: a submission counts as graded only once its result.json exists with
the digest of the files that were graded and the build of the module they were graded with
(`tito.grade.course_build`): a change of the course (reference, spec, release, limits) makes the
results it affects stale, and they are graded again.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from tito.course import Module
from tito.errors import TitoError
from tito.grade import config as grading_config
from tito.grade import gradebook, run_lock
from tito.grade.course_build import module_build_id
from tito.grade.model import INTERNAL_ERROR, GradeResult, Submission
from tito.grade.pipeline import Graded, GradingContext, checkpoint_cell_id, write_notebook
from tito.grade.pool import LocalPool
from tito.grade.sandbox import Limits, Sandbox, process_alive
from tito.terminal import escape, visible

NEW, CHANGED, STALE = "new", "changed", "stale"  # why a submission is graded (None: its result is current)


@dataclass
class RunSummary:
    graded: list[GradeResult] = field(default_factory=list)
    skipped: int = 0
    wall: float = 0.0
    stale: dict[str, int] = field(default_factory=dict)  # module -> results a course change made stale

    @property
    def internal_errors(self) -> list[GradeResult]:
        """The submissions our own code failed to grade: the instructor's to look at, never the student's."""
        return [r for r in self.graded if internal_error_cause(r) is not None]


def find_submissions(root: Path, modules: list[Module], students: list[str] | None = None) -> list[Submission]:
    """Every submitted/<student>/<module>/ folder of a known module, in a stable order."""
    submitted = root / "submitted"
    names = {m.name for m in modules}
    found = []
    if not submitted.is_dir():
        return found
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if students and student_dir.name not in students:
            continue
        for module_dir in sorted(p for p in student_dir.iterdir() if p.is_dir() and p.name in names):
            found.append(Submission(student_dir.name, module_dir.name, module_dir, _timestamp(module_dir)))
    return found


def result_path(root: Path, student: str, module: str) -> Path:
    return root / "autograded" / student / module / "result.json"


def load_result(root: Path, student: str, module: str) -> GradeResult | None:
    path = result_path(root, student, module)
    try:
        return GradeResult.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def why_grade(root: Path, submission: Submission, build: str) -> str | None:
    """NEW (no result yet), CHANGED (the files differ from those graded), STALE (graded with another
    build of the module), or None: the result is current."""
    previous = load_result(root, submission.student, submission.module)
    if previous is None:
        return NEW
    if previous.digest != submission.digest():
        return CHANGED
    return STALE if previous.build != build else None


def internal_error_cause(result: GradeResult) -> str | None:
    """The exception that made our code fail on a submission (the last line of the traceback kept
    in the reason), or None when the result is not an internal grading error."""
    if result.status != "error" or not (result.reason or "").startswith(INTERNAL_ERROR):
        return None
    lines = [line.strip() for line in result.reason.splitlines()[1:] if line.strip()]
    return lines[-1] if lines else "(no traceback recorded)"


def run_notes(summary: RunSummary) -> list[str]:
    """What the instructor must know after a run: the results a course change made stale (graded
    again), and every submission our own code failed to grade, with its cause."""
    lines = []
    if summary.stale:
        per_module = ", ".join(f"{module} {count}" for module, count in sorted(summary.stale.items()))
        lines.append(f"{sum(summary.stale.values())} stale result(s) graded again: the course changed since "
                     f"they were graded (reference, spec, release notebook or limits): {per_module}")
    failed = summary.internal_errors
    if failed:
        lines.append(f"{len(failed)} internal grading error(s), a fault of the grader, not of the students "
                     "(the traceback is in each result.json):")
        lines += [f"  {visible(r.student)}/{visible(r.module)}: {visible(internal_error_cause(r))}  "
                  f"({visible(result_path(Path(), r.student, r.module).as_posix())})" for r in failed]
    return lines


@run_lock.one_run_at_a_time
def autograde(root: Path, modules: list[Module], *, selected: list[Module] | None = None,
              students: list[str] | None = None, workers: int | None = None, unsafe: bool = False,
              force: bool = False, limits: Limits | None = None, console: Console | None = None,
              db_url: str | None = None, published: list[Module] | None = None,
              scheduler: str | None = None, local_cluster: int | None = None) -> RunSummary:
    """Grade what is new or changed; returns what was graded (and how many were up to date).

    The whole run holds the gradebook's run lock (`run_lock`; the course's gradebook unless
    `db_url` is given): a second run against it refuses at once. `scheduler` (a Dask scheduler's
    address) or `local_cluster` (the worker threads of a Dask LocalCluster) grade on Dask instead
    of this process's threads.

    The limits come from nbgrader_config.py (`tito.grade.config`) unless `limits` is given;
    `published` overrides c.PublishedReference.modules (the demo grades as if every module were
    published; a course never needs to)."""
    from tito.release.generate import _put_scripts_on_path

    _put_scripts_on_path()  # nbgrader runs `alembic` from the venv when it opens a new gradebook
    console = console or Console(stderr=True)
    started = time.perf_counter()
    settings = grading_config.load(root)
    sandbox = Sandbox(limits or settings.limits, unsafe=unsafe)
    gradebook.check_usable(db_url)
    chosen = selected or modules
    builds = {m.name: module_build_id(root, modules, m) for m in chosen}
    todo, summary = [], RunSummary()
    for submission in find_submissions(root, chosen, students):
        why = why_grade(root, submission, builds[submission.module])
        if why is None and not force:
            summary.skipped += 1
            continue
        if why == STALE:
            summary.stale[submission.module] = summary.stale.get(submission.module, 0) + 1
        todo.append(submission)
    if not todo:
        summary.wall = time.perf_counter() - started
        return summary
    remove_stale_work(root)
    context = GradingContext(root, modules, sandbox, work=root / ".tito" / f"work-{os.getpid()}",
                             settings=settings, published=published)
    refusals = [context.refusal(m) for m in chosen if any(s.module == m.name for s in todo)]
    if any(refusals):
        context.cleanup()
        raise TitoError("; ".join(r for r in refusals if r))
    context.work.mkdir(parents=True, exist_ok=True)
    checkpoint_cells = _checkpoint_cells(chosen)
    try:
        with gradebook.open_gradebook(db_url) as book:
            _ensure_assignments(book, chosen)
            pool = _pool(context, workers or os.cpu_count() or 1, scheduler, local_cluster)
            summary.graded = _run_pool(pool, todo, book, checkpoint_cells, console, builds)
    finally:
        context.cleanup()
    summary.wall = time.perf_counter() - started
    return summary


def remove_stale_work(root: Path) -> list[Path]:
    """Remove the scratch areas (`.tito/work-<pid>`) of grading runs that were killed before
    they could clean up (a SIGKILL leaves each in-flight submission's copy behind); a run whose
    process is still alive keeps its own. Returns what was removed."""
    removed = []
    for work in sorted((root / ".tito").glob("work-*")):
        pid = work.name.removeprefix("work-")
        if work.is_dir() and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(work, ignore_errors=True)
            removed.append(work)
    return removed


def _pool(context: GradingContext, workers: int, scheduler: str | None, local_cluster: int | None):
    """Where submissions are graded: this process's threads, or a Dask cluster."""
    if scheduler is None and local_cluster is None:
        return LocalPool(context, workers)
    from tito.grade.distributed import DaskPool

    return DaskPool(context, scheduler=scheduler, local_workers=local_cluster)


def _run_pool(pool, todo, book, checkpoint_cells, console, builds) -> list[GradeResult]:
    graded = []
    columns = (TextColumn("[bold]autograde"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[status]}"))
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("grading", total=len(todo), status="")
        with pool:
            pending = {}
            queue = list(todo)
            while queue or pending:
                while queue and len(pending) < pool.capacity():
                    submission = queue.pop(0)
                    pending[pool.submit(submission)] = submission
                    progress.update(task, status=f"grading {escape(submission.student)}/{escape(submission.module)}")
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    submission = pending.pop(future)
                    outcome = future.result()
                    outcome.result.build = builds[outcome.result.module]
                    _commit(pool.context.root, book, outcome, submission, checkpoint_cells)
                    graded.append(outcome.result)
                    progress.console.print(_line(outcome.result), highlight=False)
                    progress.advance(task)
    return graded


def _commit(root: Path, book, graded: Graded, submission: Submission, checkpoint_cells) -> None:
    """Gradebook first (one transaction), then the executed notebook, then result.json: the file
    marks the submission done."""
    result = graded.result
    clock = time.perf_counter()
    gradebook.record(book, result, submission.module, submission.timestamp, checkpoint_cells)
    result.timings["record"] = time.perf_counter() - clock
    path = result_path(root, result.student, result.module)
    if graded.notebook is not None:
        write_notebook(path.parent, result.module, graded.notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(result.to_json(), indent=1, sort_keys=True))
    temporary.replace(path)


def _line(result: GradeResult) -> str:
    """One submission's line, in rich markup; the student and module are folder names (escaped)."""
    flags = f"  [yellow]{len(result.flags)} flag(s)[/yellow]" if [f for f in result.flags if f.kind != "note"] else ""
    name = f"{escape(result.student)}/{escape(result.module)}"
    cause = internal_error_cause(result)
    if cause is not None:
        return f"  {name}: [red]{INTERNAL_ERROR}[/red]: {escape(cause)}"
    if result.status == "error":
        reason = ((result.reason or "").splitlines() or [""])[0]
        return f"  {name}: [red]not gradable[/red]: {escape(reason)}"
    return (f"  {name}: {result.score:g}/{result.max_score:g}"
            f"  ({result.timings.get('total', 0):.1f} s){flags}")


def _checkpoint_cells(modules: list[Module]) -> set[str]:
    return {checkpoint_cell_id(m.name) for m in modules}


def _ensure_assignments(book, modules: list[Module]) -> None:
    """Grading needs nbgrader's record of each assignment, which `tito release` creates."""
    from nbgrader.api import MissingEntry

    for module in modules:
        try:
            book.find_notebook(module.name, module.name)
        except MissingEntry:
            raise TitoError(f"gradebook has no assignment {module.name}: run `make release` first "
                            "(nbgrader generate_assignment records its graded cells)") from None


def _timestamp(folder: Path) -> str | None:
    stamp = folder / "timestamp.txt"
    try:
        return stamp.read_text().strip() or None if stamp.is_file() else None
    except (OSError, UnicodeDecodeError):
        return None
