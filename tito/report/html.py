"""The instructor's report: `report/index.html` with its PNG figures beside it.

Input: `tito.results` (every `autograded/*/*/result.json` and, when present, the gradebook for
names, the roster, submission times and late penalties, which `tito.late` assesses first). The
page holds the per-module summary (`stats.module_mean` is its mean), one row per student with
each module's points, lateness, flags and a link to the feedback page, the figures, the case
tables, flagged and ungradable submissions, and the time it was written. Links are relative
(`../feedback/<student>/<module>/<module>.html`), so report/ and feedback/ work opened from disk.
Works with no flags, with modules whose submissions all failed to grade, with a single
submission and with no submission at all; a figure with nothing to draw is left out and the page
says so.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import jinja2

from tito.course import relpath
from tito.late import format_delay, load_assessed
from tito.report import figures
from tito.report.stats import case_pass_rates, cases_by_cell, cell_pass_rates, module_summaries, total_time
from tito.results import Entry, Results, feedback_path, review_flags
from tito.results import notes as grading_notes

REPORT_DIR = "report"
EVIDENCE_CAP = 3000
RETIRED_FIGURES = ("checks.png",)  # drawn by earlier versions (per checkpoint scenario): removed


@dataclass(frozen=True)
class Figure:
    file: str  # relative to report/
    title: str
    alt: str


def write_report(root: Path, now: datetime | None = None) -> Path:
    """Write report/index.html and its figures (late penalties assessed first); returns the index path."""
    out = root / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    loaded = load_assessed(root)
    names = loaded.names
    notes: list[str] = [loaded.gradebook_note] if loaded.gradebook_note else []
    results = loaded.results
    summaries = module_summaries(loaded.entries, roster=len(loaded.roster) if loaded.roster else None)
    cells, cases = cell_pass_rates(results), cases_by_cell(case_pass_rates(results))

    wanted = [
        ("scores.png", "Score distribution per module", "box plot of scores per module",
         lambda p: figures.score_distribution(summaries, p)),
        ("cells.png", "Pass rate per graded test cell", "bar chart of pass rates per test cell",
         lambda p: figures.pass_rates(cells, p, "Pass rate per graded test cell")),
        ("cases.png", "Pass rate per case, by graded cell", "pass rate of every case, one row per graded cell",
         lambda p: figures.case_pass_rates(cases, p)),
        ("timings.png", "Grading time per submission", "grading time per submission and per stage",
         lambda p: figures.grading_times(results, p)),
    ]
    drawn, missing = [], []
    for file in RETIRED_FIGURES:
        (out / file).unlink(missing_ok=True)
    with figures.quiet(notes):
        for file, title, alt, draw in wanted:
            (out / file).unlink(missing_ok=True)  # a figure of an earlier run must not linger
            if draw(out / file):
                drawn.append(Figure(file, title, alt))
            else:
                missing.append(title)

    context = dict(
        root=str(root),
        generated=_utc(now or datetime.now(timezone.utc)),
        totals=_totals(loaded),
        summaries=[_summary_row(s, results) for s in summaries],
        modules=[dict(module=s.module, max_score=s.max_score) for s in summaries],
        students=_student_rows(root, out, loaded, summaries),
        figures=drawn,
        missing_figures=missing,
        cells=cells,
        case_modules=_case_modules(cases),
        flagged=[_flagged_row(root, out, r, names) for r in results if review_flags(r)],
        grading_notes=[dict(student=r.student, module=r.module, text=n.evidence) for r in results for n in grading_notes(r)],
        errors=[dict(student=r.student, name=names.get(r.student, ""), module=r.module, reason=r.reason or "no reason recorded")
                for r in results if r.status != "graded"],
        unreadable=[dict(path=relpath(root, u.path), reason=u.reason) for u in loaded.unreadable],
        notes=sorted(set(notes)),
        pct=_pct,
        num=_num,
    )
    html = _environment().get_template("report.html").render(**context)
    index = out / "index.html"
    tmp = out / ".index.html.tmp"
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, index)
    return index


def _case_modules(groups: list) -> list[dict]:
    """The case tables: one per module, one row group per graded cell."""
    modules: dict[str, dict] = {}
    for group in groups:
        entry = modules.setdefault(group.module, dict(module=group.module, cells=[], cases=0, hidden=0))
        entry["cells"].append(group)
        entry["cases"] += len(group.cases)
        entry["hidden"] += group.hidden
    return list(modules.values())


def _totals(loaded: Results) -> dict:
    results = loaded.results
    return dict(
        students=len(loaded.roster) if loaded.roster else len({r.student for r in results}),
        submitted=len({r.student for r in results}),
        submissions=len(results),
        graded=sum(r.status == "graded" for r in results),
        errors=sum(r.status != "graded" for r in results),
        flagged=sum(bool(review_flags(r)) for r in results),
        late=sum(e.lateness.late for e in loaded.entries),
        unreadable=len(loaded.unreadable),
        modules=len({r.module for r in results}),
    )


def _summary_row(summary, results) -> dict:
    times = [t for r in results if r.module == summary.module and (t := total_time(r)) is not None]
    return dict(
        module=summary.module,
        students=summary.students,
        submissions=summary.submissions,
        graded=summary.graded,
        errors=summary.errors,
        flagged=summary.flagged,
        late=summary.late,
        max_score=summary.max_score,
        mean=summary.mean,
        median=summary.median,
        mean_pct=statistics.fmean(summary.percents) if summary.percents else None,
        median_time=statistics.median(times) if times else None,
    )


def _student_rows(root: Path, out: Path, loaded: Results, summaries) -> list[dict]:
    """One row per student (roster and anyone with a result): each module's cell, then the total."""
    by_key = {(e.student, e.module): e for e in loaded.entries}
    rows = []
    for student in loaded.students():
        cells = [_student_cell(root, out, by_key.get((student, s.module))) for s in summaries]
        mine = [e for e in loaded.entries if e.student == student]
        rows.append(dict(student=student, name=loaded.names.get(student, ""), cells=cells,
                         total=_num(sum(e.points for e in mine)) if mine else "-"))
    return rows


def _student_cell(root: Path, out: Path, entry: Entry | None) -> dict:
    """One student's module: points (after the late penalty) or why there are none, lateness, flags, page."""
    if entry is None:
        return dict(status="missing", points="-", late="", flags=0, link=None)
    result, lateness = entry.result, entry.lateness
    late = ""
    if lateness.late:
        late = f"late {format_delay(lateness.seconds_late)}"
        if lateness.penalty:
            late += f": -{_num(lateness.penalty)}"
    return dict(status=result.status, points=_num(entry.points) if result.status == "graded" else "not graded",
                late=late, flags=len(review_flags(result)), link=_link(root, out, result))


def _link(root: Path, out: Path, result) -> str | None:
    """The feedback page, relative to report/ (so both folders work opened from disk), if written."""
    page = feedback_path(root, result.student, result.module)
    return Path(os.path.relpath(page, out)).as_posix() if page.is_file() else None


def _flagged_row(root: Path, out: Path, result, names: dict) -> dict:
    link = _link(root, out, result)
    flags = []
    for flag in result.flags:
        evidence = flag.evidence or ""
        if len(evidence) > EVIDENCE_CAP:
            evidence = evidence[:EVIDENCE_CAP] + f"\n[... {len(evidence) - EVIDENCE_CAP} more characters]"
        flags.append(dict(kind=flag.kind, evidence=evidence))
    score = f"{_num(result.score)} / {_num(result.max_score)}" if result.status == "graded" else "not graded"
    return dict(student=result.student, name=names.get(result.student, ""), module=result.module,
                score=score, flags=flags, link=link)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    text = f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
