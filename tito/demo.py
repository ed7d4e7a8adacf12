"""The main job's grading half: a synthetic class through the whole grading cycle.

`tito demo` builds and lints the course first (tito.cli), then calls `run_cycle`: write a
synthetic class into submitted/, import its roster, autograde everything in the sandbox on a local
worker pool into the SQLite gradebook, write feedback, grades and the report, and print a summary
that checks every score against the one the synthetic class expects.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tito import course
from tito.grade.model import GradeResult
from tito.grade.pipeline import checkpoint_cell_id, graded_cells


def expected_score(entry, instructor, scenario_points: dict[str, float], checkpoint_id: str) -> float | None:
    """The score a synthetic submission must get, or None where the class leaves it undetermined.

    Test cells score all or nothing (nbgrader's rule); the checkpoint cell scores the points of the
    differential scenarios that pass.
    """
    if entry.expected_status == "error":
        return 0.0
    if entry.expected_failed_checks is None:
        return None
    failed_cells = set(entry.expected_failed_cells)
    failed_checks = set(scenario_points) if "*" in entry.expected_failed_checks else set(entry.expected_failed_checks)
    total = 0.0
    for cell in graded_cells(instructor):
        meta = cell.metadata["nbgrader"]
        if meta["grade_id"] == checkpoint_id:
            total += sum(points for name, points in scenario_points.items() if name not in failed_checks)
        elif meta["grade_id"] not in failed_cells:
            total += float(meta["points"])
    return total


def scenario_points(module: course.Module) -> dict[str, float]:
    from tito.grade.checks import reference_values

    return {spec["scenario"]: float(spec["points"]) for spec in reference_values(module)["scenarios"]}


def compare_with_expected(root: Path, results: list[GradeResult], manifest) -> list[tuple[GradeResult, float | None]]:
    """Each result with the score its synthetic submission expects (None: not determined)."""
    import nbformat

    modules = {m.name: m for m in course.discover(root)}
    points = {name: scenario_points(module) for name, module in modules.items()}
    instructors = {name: nbformat.read(module.source_ipynb, as_version=4) for name, module in modules.items()}
    paired = []
    for result in results:
        entry = manifest.expected(result.student, result.module)
        paired.append((result, expected_score(entry, instructors[result.module], points[result.module],
                                              checkpoint_cell_id(result.module))))
    return paired


def run_cycle(root: Path, *, students: int, seed: int, workers: int | None, console: Console) -> int:
    from tito.collect.roster import import_roster
    from tito.feedback_pages import run as write_feedback
    from tito.grade.run import autograde, find_submissions, load_result
    from tito.report import run_grades, run_report
    from tito.synth.generate import ROSTER, generate_class

    modules = course.discover(root)
    console.rule(f"[bold]a synthetic class of {students} students (seed {seed})")
    manifest = generate_class(root, students, seed)
    import_roster(root / ROSTER, _db_url(root), course_id="tinytorch")
    _set_due_dates(root, manifest.due_dates)
    console.print(f"{len(manifest.entries())} submissions written to submitted/, roster imported")
    console.rule("[bold]autograde (sandboxed, parallel)")
    summary = autograde(root, modules, workers=workers, console=console)
    console.print(f"graded {len(summary.graded)} submissions in {summary.wall:.0f} s "
                  f"({summary.skipped} unchanged)")
    console.rule("[bold]feedback, grades, report")
    write_feedback(root, Console(quiet=True))
    run_grades(root, console)
    run_report(root, console)
    results = [load_result(root, s.student, s.module) for s in find_submissions(root, modules)]
    paired = compare_with_expected(root, [r for r in results if r], manifest)
    return _print_summary(console, modules, paired)


def _print_summary(console: Console, modules, paired) -> int:
    table = Table("module", "submissions", "graded", "not gradable", "flagged", "mean score", "median",
                  "sec/submission", "as expected", title="course cycle summary")
    mismatches = []
    for module in modules:
        rows = [(r, e) for r, e in paired if r.module == module.name]
        if not rows:
            continue
        scores = [r.score for r, _ in rows]
        maximum = rows[0][0].max_score
        determined = [(r, e) for r, e in rows if e is not None]
        matched = sum(1 for r, e in determined if abs(r.score - e) < 1e-9)
        mismatches += [(r, e) for r, e in determined if abs(r.score - e) >= 1e-9]
        table.add_row(module.name, str(len(rows)), str(sum(r.status == "graded" for r, _ in rows)),
                      str(sum(r.status == "error" for r, _ in rows)),
                      str(sum(any(f.kind != "note" for f in r.flags) for r, _ in rows)),
                      f"{statistics.mean(scores):.1f} / {maximum:g}", f"{statistics.median(scores):g}",
                      f"{statistics.mean(r.timings.get('total', 0) for r, _ in rows):.1f}",
                      f"{matched}/{len(determined)}")
    console.print(table)
    for result, expected in mismatches:
        console.print(f"[red]unexpected score[/red] {result.student}/{result.module}: {result.score:g}, "
                      f"expected {expected:g}")
    return 1 if mismatches else 0


def _set_due_dates(root: Path, due_dates: dict[str, str]) -> None:
    """Give nbgrader each module's due date, so it computes lateness itself (formgrader, export)."""
    from tito.grade.gradebook import open_gradebook

    with open_gradebook(_db_url(root)) as book:
        for module, due in due_dates.items():
            book.update_or_create_assignment(module, duedate=due)


def _db_url(root: Path) -> str:
    from tito.grade.run import _db_url as course_db_url

    return course_db_url(root)
