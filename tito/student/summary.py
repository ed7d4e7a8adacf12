"""The words of a check's summary, shared by `tito check` (a terminal) and `check_module` (a
notebook), so a student reads the same verdicts, hints and next step in both places.

Only what the check ran is described: the visible tests of the student's notebook and the public
checkpoint. The grader's own cases (some hidden) are never run by a check, so they are only ever
mentioned as such.
"""

from __future__ import annotations

import html

from tito.student.check import CheckReport
from tito.student.command import tito_command
from tito.student.stack import REFERENCE

TABLE_HEADER = ("test cell", "points", "result", "first failure", "try next")


def preamble(report: CheckReport) -> list[str]:
    """What comes before the table: an export cell that does not parse (the cause of the
    NameErrors below it), where the earlier modules came from, a dead kernel."""
    lines = [f"{problem} (fix this first: what the cell defines does not exist, so the tests that "
             "use it fail)" for problem in report.unparsable]
    if report.copies:
        lines.append(f"not checked: {', '.join(report.copies)} beside {report.notebook} (the check, "
                     "nbgrader and grading read the module's own notebook only)")
    if report.earlier:
        lines.append("earlier modules: " + ", ".join(
            f"{c.module.name} ({'published reference' if c.owner == REFERENCE else 'your notebook'})"
            for c in report.earlier))
    if report.kernel_error:
        lines.append(f"the kernel failed: {report.kernel_error}")
    return lines


def cell_rows(report: CheckReport) -> list[tuple[str, str, str, str, str]]:
    """One row per graded test cell, in TABLE_HEADER's order."""
    return [(c.grade_id, f"{c.points:g}", "passed" if c.passed else "failed", c.message, c.hint)
            for c in report.cells]


def totals_line(report: CheckReport) -> str:
    passed = sum(c.points for c in report.cells if c.passed)
    total = sum(c.points for c in report.cells)
    return (f"visible tests: {sum(c.passed for c in report.cells)}/{len(report.cells)} cells passed "
            f"({passed:g}/{total:g} points; grading also runs its own cases)")


def checkpoint_lines(report: CheckReport) -> list[str]:
    """The checkpoint's verdict, then its first distinct failures (indented)."""
    point = report.checkpoint
    if point is None:
        return ["checkpoint: none for this module"]
    if point.problem:
        return [f"checkpoint {point.file}: not run: {point.problem}"]
    verdict = "passed" if point.passed else "failed"
    return [f"checkpoint {point.file}: {verdict} ({point.summary})"] + [_indented(line, "  ") for line in point.failures]


def _indented(text: str, prefix: str) -> str:
    """`text` after `prefix`, its further lines (a message's values) indented under it."""
    first, *rest = text.splitlines() or [""]
    return "\n".join([prefix + first] + [f"{prefix}    {line}" for line in rest])


def next_step(report: CheckReport, again: str) -> str:
    """What to do now; `again` says how to check again (a command, or a cell to rerun)."""
    failed = [c for c in report.cells if not c.passed]
    if report.unparsable:
        return f"next: fix {report.unparsable[0].split(':')[0]} so that it parses, then {again}"
    if failed:
        return f"next: {failed[0].hint} (cell {failed[0].grade_id}), then {again}"
    if report.checkpoint is not None and not report.checkpoint.passed:
        return "next: your visible tests pass but the checkpoint does not: read its first failure above"
    return f"all good. next: `{tito_command()} submit {report.module} --zip` (or without --zip through the exchange)"


def conclusion(report: CheckReport, again: str) -> list[str]:
    """What comes after the table: totals, the checkpoint, the next step."""
    return [totals_line(report), *checkpoint_lines(report), next_step(report, again)]


def as_text(report: CheckReport, again: str) -> str:
    """The whole summary as plain text (a terminal, a log, a notebook's text/plain)."""
    rows = []
    for grade_id, points, result, message, hint in cell_rows(report):
        detail = f": {message}; try: {hint}" if result == "failed" else ""
        rows.append(_indented(f"{result:6}  {grade_id} ({points} points){detail}", "  "))
    return "\n".join(preamble(report) + rows + conclusion(report, again))


def as_html(report: CheckReport, again: str) -> str:
    """The summary as a small HTML table between paragraphs (a notebook's text/html); all escaped."""
    colour = {"passed": "#1a7f37", "failed": "#cf222e"}
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in TABLE_HEADER)
    rows = []
    for row in cell_rows(report):
        cells = [html.escape(value) for value in row]
        cells[2] = f"<b style='color:{colour[row[2]]}'>{cells[2]}</b>"
        rows.append("<tr>" + "".join(f"<td style='text-align:left;white-space:pre-wrap'>{c}</td>" for c in cells) + "</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return _paragraphs(preamble(report)) + table + _paragraphs(conclusion(report, again))


def _paragraphs(lines: list[str]) -> str:
    return "".join(f"<div style='white-space:pre-wrap'>{html.escape(line)}</div>" for line in lines)
