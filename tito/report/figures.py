"""The report's PNG figures, drawn with matplotlib's object API on the Agg canvas.

No pyplot: no global figure state, no GUI backend, safe in worker threads. Every function returns
the path it wrote, or None when there is nothing to draw (no graded submission, no case, no
timings); the HTML only references figures that exist. Warnings and log records that
matplotlib emits while drawing are collected into `notes` instead of reaching stderr.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from tito.grade.model import GradeResult
from tito.report.stats import CellCases, ModuleSummary, PassRate, stage_names, total_time

DPI = 110
PASS_COLOR, FAIL_COLOR = "#2f7d4f", "#c0392b"
STAGE_COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3"]


class _Collect(logging.Handler):
    def __init__(self, notes: list[str]):
        super().__init__(logging.WARNING)
        self.notes = notes

    def emit(self, record: logging.LogRecord) -> None:
        self.notes.append(f"matplotlib: {record.getMessage()}")


@contextmanager
def quiet(notes: list[str]):
    """Route matplotlib's warnings and log records into `notes` (nothing reaches stderr)."""
    logger = logging.getLogger("matplotlib")
    handler, propagate = _Collect(notes), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        notes.extend(f"{w.category.__name__}: {w.message}" for w in caught)
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    return path


def score_distribution(summaries: list[ModuleSummary], path: Path) -> Path | None:
    """Box plot of the score (percent of the maximum) per module, every submission as a dot."""
    data = [(s.module, s.percents) for s in summaries if s.percents]
    if not data:
        return None
    fig = _figure(max(5.0, 1.1 * len(data) + 2.5), 4.2)
    ax = fig.add_subplot()
    positions = np.arange(1, len(data) + 1)
    ax.boxplot([d for _, d in data], positions=positions, widths=0.55, showfliers=False,
               medianprops=dict(color="#1d2330", linewidth=1.5))
    jitter = np.random.default_rng(0)  # fixed: the same figure for the same results
    for x, (_, values) in zip(positions, data):
        xs = x + jitter.uniform(-0.18, 0.18, size=len(values))
        ax.scatter(xs, values, s=14, alpha=0.6, color="#4c72b0", zorder=3, linewidths=0)
    ax.set_xticks(positions, [m for m, _ in data], rotation=30, ha="right")
    ax.set_ylim(-3, 103)
    ax.set_ylabel("score (% of maximum)")
    ax.set_title("Score distribution per module (graded submissions)")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def pass_rates(rates: list[PassRate], path: Path, title: str) -> Path | None:
    """Horizontal bars: share of graded submissions passing each graded cell."""
    if not rates:
        return None
    fig = _figure(9.0, 1.4 + 0.27 * len(rates))
    ax = fig.add_subplot()
    ys = np.arange(len(rates))[::-1]
    values = [100 * r.rate for r in rates]
    colors = [PASS_COLOR if v >= 50 else FAIL_COLOR for v in values]
    ax.barh(ys, values, color=colors, height=0.7)
    for y, rate, value in zip(ys, rates, values):
        ax.text(min(value, 100) + 1, y, f"{rate.passed}/{rate.total}", va="center", fontsize=8)
    ax.set_yticks(ys, [f"{r.module} · {r.name}" for r in rates], fontsize=8)
    ax.set_xlim(0, 112)
    ax.set_xlabel("passed (% of graded submissions)")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def case_pass_rates(groups: list[CellCases], path: Path) -> Path | None:
    """One row per graded cell, one dot per case bound to it at the share of graded submissions
    whose values agreed with the reference's (hollow: a hidden case), so that a cell where one
    case fails more than the others stands out. The table in the report names every case."""
    if not groups:
        return None
    fig = _figure(9.0, 1.6 + 0.27 * len(groups))
    ax = fig.add_subplot()
    ys = np.arange(len(groups))[::-1]
    for y, group in zip(ys, groups):
        for hidden in (False, True):
            values = [100 * c.rate for c in group.cases if c.hidden == hidden]
            if values:
                colors = [PASS_COLOR if v >= 50 else FAIL_COLOR for v in values]
                ax.scatter(values, [y] * len(values), s=24, facecolors="none" if hidden else colors,
                           edgecolors=colors, linewidths=1.2, alpha=0.8, zorder=3)
        lowest = 100 * min(c.rate for c in group.cases)
        ax.text(104, y, f"{len(group.cases)} cases, lowest {lowest:.0f}%", va="center", fontsize=8)
    ax.set_yticks(ys, [f"{g.module} · {g.cell or '(no cell)'}" for g in groups], fontsize=8)
    ax.set_xlim(-4, 135)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("agreed with the reference (% of graded submissions)")
    ax.set_title("Pass rate per case, by graded cell (hollow: hidden case)")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def grading_times(results: list[GradeResult], path: Path) -> Path | None:
    """Left: total grading time of each submission per module; right: mean time per stage."""
    timed = [r for r in results if total_time(r) is not None]
    if not timed:
        return None
    modules = sorted({r.module for r in timed})
    stages = stage_names(timed)
    fig = _figure(11.0, max(3.4, 1.6 + 0.45 * len(modules)))
    left, right = fig.subplots(1, 2, sharey=True)
    ys = {m: len(modules) - 1 - i for i, m in enumerate(modules)}
    jitter = np.random.default_rng(0)
    for status, color in (("graded", "#4c72b0"), ("error", "#d97706")):
        mine = [r for r in timed if r.status == status]
        if mine:
            yy = [ys[r.module] + jitter.uniform(-0.2, 0.2) for r in mine]
            left.scatter([total_time(r) for r in mine], yy, s=16, alpha=0.7, color=color, label=status, linewidths=0)
    left.set_yticks(list(ys.values()), list(ys.keys()))
    left.set_xlabel("seconds per submission (total)")
    left.set_xlim(left=0)
    left.set_title("Grading time per submission")
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
    left.grid(axis="x", alpha=0.3)
    starts = np.zeros(len(modules))
    for i, stage in enumerate(stages):
        means = np.array([np.mean([float(r.timings.get(stage, 0.0)) for r in timed if r.module == m]) for m in modules])
        right.barh([ys[m] for m in modules], means, left=starts, height=0.6,
                   color=STAGE_COLORS[i % len(STAGE_COLORS)], label=stage)
        starts += means
    right.set_xlabel("mean seconds per stage")
    right.set_title("Where the time goes")
    if stages:
        right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(len(stages), 5), fontsize=8, frameon=False)
    right.grid(axis="x", alpha=0.3)
    return _save(fig, path)
