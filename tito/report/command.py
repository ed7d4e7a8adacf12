"""`tito grades` and `tito report`: write the files, print what was written."""

from __future__ import annotations

import csv
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tito.course import relpath


def run_grades(root: Path, console: Console | None = None) -> list[Path]:
    """grades.csv (nbgrader's export) and grades_canvas.csv; prints a per-module table whose mean
    is the report's (`stats.module_mean`)."""
    from tito.report.grades import export_canvas, export_grades
    from tito.report.stats import module_mean
    from tito.results import load_results

    console = console or Console(highlight=False)
    written = [export_grades(root), export_canvas(root)]
    with open(written[1], encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, possible, students = rows[0], rows[1], rows[2:]
    loaded = load_results(root)
    table = Table("module", "points possible", "submissions", "late", "mean")
    for index, module in enumerate(_modules(header), start=5):
        entries = loaded.of_module(module)
        submitted = sum(index < len(row) and row[index] != "" for row in students)
        table.add_row(escape(header[index]), possible[index], f"{submitted}/{len(students)}",
                      str(sum(e.lateness.late for e in entries)), _one_decimal(module_mean(entries)))
    console.print(table)
    for path in written:
        console.print(f"wrote {escape(relpath(root, path))}")
    return written


def run_report(root: Path, console: Console | None = None) -> Path:
    """report/index.html and its figures; prints the module summary."""
    from tito.report.html import write_report
    from tito.report.stats import module_summaries
    from tito.results import load_results

    console = console or Console(highlight=False)
    index = write_report(root)
    loaded = load_results(root)
    table = Table("module", "submissions", "graded", "not graded", "flagged", "late", "mean", "median")
    for s in module_summaries(loaded.entries):
        errors = f"[yellow]{s.errors}[/yellow]" if s.errors else "0"
        flagged = f"[magenta]{s.flagged}[/magenta]" if s.flagged else "0"
        table.add_row(escape(s.module), str(s.submissions), str(s.graded), errors, flagged, str(s.late),
                      _one_decimal(s.mean), _one_decimal(s.median))
    console.print(table)
    if loaded.unreadable:
        console.print(f"[yellow]{len(loaded.unreadable)} unreadable result file(s)[/yellow]: listed in the report")
    figures = sorted(p.name for p in index.parent.glob("*.png"))
    console.print(f"wrote {escape(relpath(root, index))} ({len(figures)} figure(s): {', '.join(figures) or 'none'})")
    return index


def _modules(header: list[str]) -> list[str]:
    """The module names of grades_canvas.csv's columns (`01_tensor (120)` -> `01_tensor`)."""
    return [column.rsplit(" (", 1)[0] for column in header[5:]]


def _one_decimal(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
