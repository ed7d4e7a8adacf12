"""`tito grades` and `tito report`: write the files, print what was written."""

from __future__ import annotations

import csv
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tito.course import relpath


def run_grades(root: Path, console: Console | None = None) -> list[Path]:
    """grades.csv (nbgrader's export) and grades_canvas.csv; prints a per-module table."""
    from tito.report.grades import export_canvas, export_grades

    console = console or Console(highlight=False)
    written = [export_grades(root), export_canvas(root)]
    with open(written[1], encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, possible, students = rows[0], rows[1], rows[2:]
    table = Table("module", "points possible", "submissions", "mean")
    for index in range(5, len(header)):
        scores = [float(row[index]) for row in students if index < len(row) and row[index] != ""]
        mean = f"{sum(scores) / len(scores):.1f}" if scores else "-"
        table.add_row(escape(header[index]), possible[index], f"{len(scores)}/{len(students)}", mean)
    console.print(table)
    for path in written:
        console.print(f"wrote {escape(relpath(root, path))}")
    return written


def run_report(root: Path, console: Console | None = None) -> Path:
    """report/index.html and its figures; prints the module summary."""
    from tito.report.html import write_report
    from tito.report.results import load_results
    from tito.report.stats import module_summaries

    console = console or Console(highlight=False)
    index = write_report(root)
    loaded = load_results(root)
    table = Table("module", "submissions", "graded", "not graded", "flagged", "mean", "median")
    for s in module_summaries(loaded.results):
        fmt = (lambda v: "-" if v is None else f"{v:.1f}")
        errors = f"[yellow]{s.errors}[/yellow]" if s.errors else "0"
        flagged = f"[magenta]{s.flagged}[/magenta]" if s.flagged else "0"
        table.add_row(escape(s.module), str(s.submissions), str(s.graded), errors, flagged, fmt(s.mean), fmt(s.median))
    console.print(table)
    if loaded.unreadable:
        console.print(f"[yellow]{len(loaded.unreadable)} unreadable result file(s)[/yellow]: listed in the report")
    figures = sorted(p.name for p in index.parent.glob("*.png"))
    console.print(f"wrote {escape(relpath(root, index))} ({len(figures)} figure(s): {', '.join(figures) or 'none'})")
    return index
