"""The instructor's report: `report/index.html` with its PNG figures beside it.

Input: every `autograded/*/*/result.json` (and, when present, the gradebook for student names and
the roster size). Works with no flags, with modules whose submissions all failed to grade, with a
single submission and with no submission at all; a figure with nothing to draw is left out and
the page says so.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from tito.course import relpath
from tito.feedback_pages.page import feedback_path
from tito.report import figures
from tito.report.results import Results, load_results, review_flags
from tito.report.results import notes as grading_notes
from tito.report.stats import case_pass_rates, cases_by_cell, cell_pass_rates, module_summaries, total_time

REPORT_DIR = "report"
EVIDENCE_CAP = 3000
RETIRED_FIGURES = ("checks.png",)  # drawn by earlier versions (per checkpoint scenario): removed


@dataclass(frozen=True)
class Figure:
    file: str  # relative to report/
    title: str
    alt: str


def write_report(root: Path) -> Path:
    """Write report/index.html and its figures; returns the index path."""
    out = root / REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    loaded = load_results(root)
    names, roster, gradebook_note = _roster(root)
    notes: list[str] = [gradebook_note] if gradebook_note else []
    results = loaded.results
    summaries = module_summaries(results, roster=len(roster) if roster else None)
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
        totals=_totals(loaded, roster),
        summaries=[_summary_row(s, results) for s in summaries],
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


def _totals(loaded: Results, roster: dict) -> dict:
    results = loaded.results
    return dict(
        students=len(roster) if roster else len({r.student for r in results}),
        submitted=len({r.student for r in results}),
        submissions=len(results),
        graded=sum(r.status == "graded" for r in results),
        errors=sum(r.status != "graded" for r in results),
        flagged=sum(bool(review_flags(r)) for r in results),
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
        max_score=summary.max_score,
        mean=summary.mean,
        median=summary.median,
        mean_pct=statistics.fmean(summary.percents) if summary.percents else None,
        median_time=statistics.median(times) if times else None,
    )


def _flagged_row(root: Path, out: Path, result, names: dict) -> dict:
    page = feedback_path(root, result.student, result.module)
    link = Path(os.path.relpath(page, out)).as_posix() if page.is_file() else None
    flags = []
    for flag in result.flags:
        evidence = flag.evidence or ""
        if len(evidence) > EVIDENCE_CAP:
            evidence = evidence[:EVIDENCE_CAP] + f"\n[... {len(evidence) - EVIDENCE_CAP} more characters]"
        flags.append(dict(kind=flag.kind, evidence=evidence))
    score = f"{_num(result.score)} / {_num(result.max_score)}" if result.status == "graded" else "not graded"
    return dict(student=result.student, name=names.get(result.student, ""), module=result.module,
                score=score, flags=flags, link=link)


def _roster(root: Path) -> tuple[dict[str, str], dict[str, str], str | None]:
    """(id -> "First Last" for students with a name, the whole roster, a note if unreadable)."""
    if not (root / "nbgrader_config.py").is_file():
        return {}, {}, None
    from tito.grade.gradebook import course_db_url, db_path
    from tito.release import load_config
    from tito.report.grades import _gradebook

    try:
        config = load_config(root)
        path = db_path(course_db_url(root, config))
        if path is not None and not path.is_file():  # no SQLite gradebook yet (a server's is always there)
            return {}, {}, None
        with _gradebook(root, config) as gradebook:
            students = {s.id: " ".join(p for p in (s.first_name, s.last_name) if p) for s in gradebook.students}
    except Exception as error:  # the report must not depend on a healthy gradebook
        return {}, {}, f"gradebook not read ({type(error).__name__}: {error}); names and roster left out"
    return {k: v for k, v in students.items() if v}, students, None


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
