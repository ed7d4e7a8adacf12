"""`tito feedback`: write every feedback page and print one table of what was written."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tito.course import relpath
from tito.feedback_pages.page import load, write_feedback
from tito.results import review_flags


def run(root: Path, console: Console | None = None, module: str | None = None, student: str | None = None) -> list[Path]:
    """Pages for every readable result (optionally one module / one student); returns their paths."""
    console = console or Console(highlight=False)
    loaded, policy = load(root)
    table = Table("student", "module", "status", "score", "flags", "page")
    written = []
    for entry in loaded.entries:
        result = entry.result
        if (module and result.module != module) or (student and result.student != student):
            continue
        path = write_feedback(root, result, lateness=entry.lateness, policy=policy)
        written.append(path)
        score = f"{result.score:g} / {result.max_score:g}" if result.status == "graded" else "-"
        status = "graded" if result.status == "graded" else "[yellow]error[/yellow]"
        review = review_flags(result)
        flags = f"[magenta]{len(review)}[/magenta]" if review else ""
        table.add_row(escape(result.student), escape(result.module), status, score, flags, escape(relpath(root, path)))
    if written:
        console.print(table)
    console.print(f"{len(written)} feedback page(s) written under {relpath(root, root / 'feedback')}/")
    if loaded.gradebook_note:
        console.print(f"[yellow]{escape(loaded.gradebook_note)}[/yellow]", soft_wrap=True)
    for bad in loaded.unreadable:
        console.print(f"[yellow]skipped[/yellow] {escape(relpath(root, bad.path))}: {escape(bad.reason)}", soft_wrap=True)
    return written
