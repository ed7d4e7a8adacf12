"""score: every graded cell's points, decided here, outside the sandbox.

A graded cell earns its points only when its test passed in the notebook (nbgrader's rule: no
error, nothing on stderr) AND every case bound to it agrees with the reference. The notebook's
verdict alone is worth nothing: the student's code shares that process and could forge it, but
it cannot change what the reference computes out here. The checkpoint cell's cases carry points:
it scores the points of those that agree, and its notebook verdict is feedback only.
"""

from __future__ import annotations

import re

from tito.grade.job import Job
from tito.grade.model import CellResult, CheckResult

NO_CASES = "this graded cell has no cases in the module's spec (a course bug: tell your instructor)"
# A frame of IPython's traceback: `Cell In[3], line 158, in Tensor.__add__(self, other)` or
# `File ~/x.py:42, in Tensor.__pow__(self, other)`; the name is the frame's qualified function name.
FRAME = re.compile(r"^(?:Cell In\[\d+\], line \d+|File .+?:\d+), in ([^\s(]+)\(", re.M)


def run(job: Job, context) -> None:
    outcomes = {o.index: o for o in job.outcome.cells}
    result = job.result
    result.checks = job.checks
    for index, cell in enumerate(job.prepared.notebook.cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            cases = [c for c in job.checks if c.cell == meta["grade_id"]]
            result.cells.append(score_cell(meta, outcomes.get(index), cases))


def raised_in(traceback: str) -> str | None:
    """The function whose frame raised the error: the innermost frame of IPython's traceback."""
    frames = FRAME.findall(traceback or "")
    return frames[-1][:200] if frames else None  # student code shapes the traceback: capped


def score_cell(meta: dict, outcome, cases: list[CheckResult]) -> CellResult:
    """The cell's points and verdict; an error names the function that raised it (for feedback)."""
    cell = _points(meta, outcome, cases)
    if outcome is not None and outcome.ename:
        cell.raised_in = raised_in(outcome.traceback)
    return cell


def _points(meta: dict, outcome, cases: list[CheckResult]) -> CellResult:
    grade_id, max_points = meta["grade_id"], float(meta.get("points", 0))
    hidden = any(c.hidden for c in cases)
    if outcome is None or not outcome.ran:
        ename = outcome.ename if outcome else "NotRun"
        evalue = outcome.evalue if outcome else "the cell was not executed"
        weighted = sum(c.points for c in cases if c.max_points)
        if cases and all(c.max_points for c in cases):  # the checkpoint cell: its cases decide
            return CellResult(grade_id, max_points, min(weighted, max_points), weighted >= max_points,
                              ename, evalue, False, hidden, False)
        return CellResult(grade_id, max_points, 0.0, False, ename, evalue, False, hidden)
    stderr = bool(outcome.stderr.strip())
    notebook_passed = outcome.ename is None and not stderr
    notebook_error = outcome.evalue if outcome.ename else (
        "output on stderr: " + outcome.stderr[:500] if stderr else None)
    if cases and all(c.max_points for c in cases):
        points = float(sum(c.points for c in cases))
        ename, evalue = (outcome.ename or "stderr", notebook_error) if not notebook_passed else _disagreement(cases)
        return CellResult(grade_id, max_points, min(points, max_points), points >= max_points,
                          ename, evalue, stderr, hidden, notebook_passed)
    if not cases:
        return CellResult(grade_id, max_points, 0.0, False, "NoCases", NO_CASES, stderr, hidden, notebook_passed)
    if not notebook_passed:
        return CellResult(grade_id, max_points, 0.0, False, outcome.ename, notebook_error, stderr, hidden,
                          notebook_passed)
    ename, evalue = _disagreement(cases)
    passed = ename is None
    return CellResult(grade_id, max_points, max_points if passed else 0.0, passed, ename, evalue, stderr, hidden,
                      notebook_passed)


def _disagreement(cases: list[CheckResult]) -> tuple[str | None, str | None]:
    """(ename, message) of the first case that disagrees with the reference, or (None, None)."""
    failed = [c for c in cases if not c.passed]
    if not failed:
        return None, None
    first = failed[0]
    label = "a hidden case" if first.hidden else f"case {first.name}"
    more = f" ({len(failed) - 1} more case{'s' if len(failed) > 2 else ''} disagree)" if len(failed) > 1 else ""
    return "ReferenceMismatch", f"{label}: {first.message}{more}"
