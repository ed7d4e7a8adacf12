"""The main job's grading half: a synthetic class through the whole grading cycle.

`tito demo` builds and lints the course first (tito.cli), then calls `run_cycle`: write a
synthetic class into submitted/, import its roster, autograde everything in the sandbox on a local
worker pool into the SQLite gradebook, write feedback, grades and the report, and print a summary
that checks every score against the one the synthetic class expects.
"""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tito import course
from tito.errors import TitoError
from tito.grade.gradebook import course_db_url
from tito.grade.model import GradeResult
from tito.grade.pipeline import graded_cells


def expected_score(entry, release, specs: list[dict]) -> float | None:
    """The score a synthetic submission must get, or None where the class leaves it undetermined.

    A cell scores its points when its notebook test passes and none of its cases is expected to
    fail; the checkpoint cell (whose cases carry points) scores the points of its cases that pass.
    """
    if entry.expected_status == "error":
        return 0.0
    if entry.expected_failed_checks is None:
        return None
    failed_cells = set(entry.expected_failed_cells)
    every = "*" in entry.expected_failed_checks
    failed_checks = {s["case"] for s in specs} if every else set(entry.expected_failed_checks)
    total = 0.0
    for cell in graded_cells(release):
        meta = cell.metadata["nbgrader"]
        cases = [s for s in specs if s["cell"] == meta["grade_id"]]
        if cases and all(s["points"] for s in cases):
            total += sum(s["points"] for s in cases if s["case"] not in failed_checks)
        elif meta["grade_id"] not in failed_cells and not any(s["case"] in failed_checks for s in cases):
            total += float(meta["points"])
    return total


def case_specs(root: Path) -> dict[str, list[dict]]:
    """Every module's cases (name, cell, points, ...), as the reference process reports them."""
    from tito.grade.oracle import Oracle

    oracle = Oracle(root)
    try:
        return {m.name: oracle.answers(m, 0)["cases"] for m in course.discover(root)}
    finally:
        oracle.close()


def compare_with_expected(root: Path, results: list[GradeResult], manifest) -> list[tuple[GradeResult, float | None]]:
    """Each result with the score its synthetic submission expects (None: not determined)."""
    import nbformat

    modules = {m.name: m for m in course.discover(root)}
    specs = case_specs(root)
    releases = {name: nbformat.read(module.release_ipynb, as_version=4) for name, module in modules.items()}
    paired = []
    for result in results:
        entry = manifest.expected(result.student, result.module)
        paired.append((result, expected_score(entry, releases[result.module], specs[result.module])))
    return paired


REBUILD_HINT = ("`make demo REBUILD=1` (`tito demo --rebuild`) replaces submitted/, autograded/, feedback/ "
                "and the gradebook with a fresh synthetic class")
# what a class leaves in the course; `--rebuild` removes them all before the build (the release
# then writes a new gradebook)
CLASS_STATE = ("submitted", "autograded", "feedback", "gradebook.db", "synthetic_class.json", "roster.csv")


def clear_class(root: Path) -> list[str]:
    """Remove the previous class, its grades and its gradebook (`tito demo --rebuild`); returns what
    was removed. Real submissions go too: the option says so."""
    removed = []
    for name in CLASS_STATE:
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed


def run_cycle(root: Path, *, students: int, seed: int, workers: int | None, console: Console) -> int:
    from tito.collect.roster import import_roster
    from tito.feedback_pages import run as write_feedback
    from tito.grade.run import autograde, find_submissions, load_result, run_notes
    from tito.report import run_grades, run_report
    from tito.report.stats import module_summaries
    from tito.results import load_results
    from tito.synth.generate import ROSTER, ForeignFiles, generate_class

    modules = course.discover(root)
    console.rule(f"[bold]a synthetic class of {students} students (seed {seed})")
    try:
        manifest = generate_class(root, students, seed)
    except ForeignFiles as error:
        raise TitoError(f"{error} {REBUILD_HINT}.") from None
    import_roster(root / ROSTER, course_db_url(root), course_id="tinytorch")
    _set_due_dates(root, manifest.due_dates)
    console.print(f"{len(manifest.entries())} submissions written to submitted/, roster imported")
    console.rule("[bold]autograde (sandboxed, parallel)")
    # the synthetic class has every module at once, so the demo grades as if the references of
    # all modules were published (a real course publishes each after its deadline)
    summary = autograde(root, modules, workers=workers, console=console, published=modules)
    console.print(f"graded {len(summary.graded)} submissions in {summary.wall:.0f} s "
                  f"({summary.skipped} unchanged)")
    for line in run_notes(summary):
        console.print(line, markup=False, soft_wrap=True)
    console.rule("[bold]feedback, grades, report")
    write_feedback(root, Console(quiet=True))
    run_grades(root, console)
    run_report(root, console)
    results = [load_result(root, s.student, s.module) for s in find_submissions(root, modules)]
    paired = compare_with_expected(root, [r for r in results if r], manifest)
    summaries = module_summaries(load_results(root).entries)
    return _print_summary(console, modules, paired, summaries) or (1 if summary.internal_errors else 0)


def _print_summary(console: Console, modules, paired, summaries) -> int:
    """One row per module (its mean and median as the report computes them), every score checked."""
    by_module = {s.module: s for s in summaries}
    table = Table("module", "submissions", "graded", "not gradable", "flagged", "mean score", "median",
                  "sec/submission", "as expected", title="course cycle summary")
    mismatches = []
    for module in modules:
        rows = [(r, e) for r, e in paired if r.module == module.name]
        if not rows:
            continue
        summary = by_module[module.name]
        determined = [(r, e) for r, e in rows if e is not None]
        matched = sum(1 for r, e in determined if abs(r.score - e) < 1e-9)
        mismatches += [(r, e) for r, e in determined if abs(r.score - e) >= 1e-9]
        table.add_row(module.name, str(len(rows)), str(sum(r.status == "graded" for r, _ in rows)),
                      str(sum(r.status == "error" for r, _ in rows)),
                      str(sum(any(f.kind != "note" for f in r.flags) for r, _ in rows)),
                      f"{summary.mean:.1f} / {summary.max_score or 0:g}", f"{summary.median:g}",
                      f"{statistics.mean(r.timings.get('total', 0) for r, _ in rows):.1f}",
                      f"{matched}/{len(determined)}")
    console.print(table)
    for result, expected in mismatches:
        console.print(f"[red]unexpected score[/red] {result.student}/{result.module}: {result.score:g}, "
                      f"expected {expected:g}")
    if mismatches:
        console.print(f"if the course changed since this class was written, {REBUILD_HINT}", markup=False)
    return 1 if mismatches else 0


def _set_due_dates(root: Path, due_dates: dict[str, str]) -> None:
    """Give nbgrader each module's due date, so it computes lateness itself (formgrader, export)."""
    from tito.grade.gradebook import open_gradebook

    with open_gradebook(course_db_url(root)) as book:
        for module, due in due_dates.items():
            book.update_or_create_assignment(module, duedate=due)
