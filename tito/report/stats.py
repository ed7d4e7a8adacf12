"""The numbers of the instructor's report, computed from the results (no plotting, no HTML)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from tito.grade.model import GradeResult
from tito.results import Entry, review_flags

STAGES = ("prepare", "execute", "checks", "record")
SUBSTAGES = {"startup"}  # measured inside "execute": stacking it too would count it twice


@dataclass
class ModuleSummary:
    module: str
    students: int  # distinct students with a result (or on the roster, when a gradebook is present)
    submissions: int
    graded: int
    errors: int
    flagged: int
    late: int
    max_score: float | None
    mean: float | None  # `module_mean`; the median is over the same points
    median: float | None
    percents: list[float] = field(default_factory=list)  # each submission's points, in percent of the module's maximum


@dataclass
class PassRate:
    module: str
    name: str  # a grade id, or a case's name ("hidden: <name>" for a hidden case)
    passed: int
    total: int
    cell: str = ""  # the graded cell a case belongs to (empty for a cell's own rate)
    hidden: bool = False  # a hidden case

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass
class CellCases:
    """The pass rates of the cases bound to one graded cell of one module."""

    module: str
    cell: str
    cases: list[PassRate]

    @property
    def hidden(self) -> int:
        return sum(c.hidden for c in self.cases)


def module_mean(entries: list[Entry]) -> float | None:
    """A module's mean, the one every table shows: the mean of its submissions' points
    (`Entry.points`: the score after the late penalty, 0 for a submission that could not be
    graded); students without a submission do not count. It is the mean of the module's column
    of grades_canvas.csv. None without a submission."""
    return statistics.fmean(e.points for e in entries) if entries else None


def module_summaries(entries: list[Entry], roster: int | None = None) -> list[ModuleSummary]:
    summaries = []
    for module in sorted({e.module for e in entries}):
        mine = [e for e in entries if e.module == module]
        graded = [e for e in mine if e.result.status == "graded"]
        maxima = [e.result.max_score for e in graded]
        top = max(maxima) if maxima else None
        summaries.append(
            ModuleSummary(
                module=module,
                students=roster if roster is not None else len({e.student for e in mine}),
                submissions=len(mine),
                graded=len(graded),
                errors=len(mine) - len(graded),
                flagged=sum(bool(review_flags(e.result)) for e in mine),
                late=sum(e.lateness.late for e in mine),
                max_score=top,
                mean=module_mean(mine),
                median=statistics.median(e.points for e in mine) if mine else None,
                percents=[100 * e.points / top for e in mine] if top else [],
            )
        )
    return summaries


def cell_pass_rates(results: list[GradeResult]) -> list[PassRate]:
    """Per graded test cell, over graded submissions, in notebook order within module order."""
    return _rates(results, lambda r: [("", c.grade_id, c.passed, False) for c in r.cells])


def case_pass_rates(results: list[GradeResult]) -> list[PassRate]:
    """Per differential case (whether it agreed with the reference), over graded submissions:
    module order, then the cells' notebook order, then the cases' order within their cell.
    Hidden cases are named "hidden: <name>" (the report is the instructor's)."""
    rates = _rates(results, lambda r: [(c.cell, c.name, c.passed, c.hidden) for c in r.checks])
    order: dict[tuple[str, str], int] = {}
    for result in results:
        for cell in result.cells:
            order.setdefault((result.module, cell.grade_id), len(order))
    first = {id(rate): index for index, rate in enumerate(rates)}
    rates.sort(key=lambda r: (r.module, order.get((r.module, r.cell), len(order)), first[id(r)]))
    return rates


def cases_by_cell(rates: list[PassRate]) -> list[CellCases]:
    """`case_pass_rates` grouped by (module, cell), in the same order."""
    groups: dict[tuple[str, str], CellCases] = {}
    for rate in rates:
        groups.setdefault((rate.module, rate.cell), CellCases(rate.module, rate.cell, [])).cases.append(rate)
    return list(groups.values())


def _rates(results: list[GradeResult], items) -> list[PassRate]:
    """`items(result)` lists (cell, name, passed, hidden): a case of a cell, or a cell (cell "")."""
    rates: dict[tuple, PassRate] = {}
    for result in sorted(results, key=lambda r: r.module):
        if result.status != "graded":
            continue
        for cell, name, passed, hidden in items(result):
            label = f"hidden: {name}" if hidden else name
            rate = rates.setdefault((result.module, cell, label), PassRate(result.module, label, 0, 0, cell, hidden))
            rate.total += 1
            rate.passed += bool(passed)
    return list(rates.values())


def stage_names(results: list[GradeResult]) -> list[str]:
    """The timing stages present, in pipeline order, then any others alphabetically
    ("total" and sub-stages such as "startup" excluded)."""
    present = {k for r in results for k in r.timings if k != "total" and k not in SUBSTAGES}
    return [s for s in STAGES if s in present] + sorted(present - set(STAGES))


def total_time(result: GradeResult) -> float | None:
    if not result.timings:
        return None
    if "total" in result.timings:
        return float(result.timings["total"])
    return float(sum(v for k, v in result.timings.items() if isinstance(v, (int, float)) and k not in SUBSTAGES))
