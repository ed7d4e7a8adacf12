"""metadata: nbgrader cell metadata that autograding relies on.

A duplicated grade_id stops nbgrader's whole autograde batch; a graded test that is unlocked can
be edited by students, and one without points grades nothing. A cell named like a test but not
graded (seed 001's test-subtract-operation) silently counts for nothing.
"""

from __future__ import annotations

from tito.lint.context import ModuleContext
from tito.lint.findings import Finding
from tito.source import is_graded_test, nbgrader_meta

RULE = "metadata"


def check(ctx: ModuleContext) -> list[Finding]:
    findings, seen = [], {}
    for index, cell in enumerate(ctx.source.cells):
        meta = nbgrader_meta(cell)
        if not meta:
            continue
        gid = meta.get("grade_id")
        if gid in seen:
            findings.append(ctx.source_finding(RULE, index, None, f"grade_id {gid!r} already used by cell {seen[gid]}"))
        elif gid:
            seen[gid] = index
        findings += [ctx.source_finding(RULE, index, None, msg) for msg in _cell_problems(cell, meta)]
    return findings


def _cell_problems(cell, meta: dict) -> list[str]:
    problems = []
    if not meta.get("grade_id"):
        problems.append("nbgrader cell without a grade_id")
    if is_graded_test(cell):
        if not meta.get("locked"):
            problems.append('graded test cell is not locked ("locked": true); students could edit it')
        value = meta.get("points")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            problems.append(f"graded test cell needs points > 0 (has {value!r})")
    elif cell.cell_type == "code" and str(meta.get("grade_id", "")).startswith("test") and not meta.get("grade") and not meta.get("task"):
        problems.append('cell named like a test is not graded ("grade": false); it earns no points')
    return problems
