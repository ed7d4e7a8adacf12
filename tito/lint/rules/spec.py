"""spec: the module's spec of cases (`source/NN_name/cases.py`) grades every graded cell, and the
notebook holds nothing secret.

Every graded point is decided outside the sandbox by the cases bound to its cell, so a graded cell
without a case could never be scored, and a case bound to no cell (a typo in its grade id) would
never count. The checkpoint cell is scored by its cases' points: they must add up to the cell's.
Hidden tests in a notebook would be read by student code at grading time: hidden coverage belongs
in hidden cases, whose expected values never leave the grader.

The spec is read statically (its `@case("<grade id>", points=...)` decorators); that it runs on
the reference under any seed is for the tests (`tests/test_specs.py`).
"""

from __future__ import annotations

import ast

from tito.lint.context import ModuleContext
from tito.lint.findings import Finding
from tito.source import is_graded_test, nbgrader_meta

RULE = "spec"
HIDDEN = "### BEGIN HIDDEN TESTS"


def check(ctx: ModuleContext) -> list[Finding]:
    module = ctx.module
    spec_file = module.rel(module.cases_py)
    findings = [ctx.source_finding(RULE, index, _line_of(cell.source, HIDDEN), "hidden tests in the notebook: "
                                   f"student code can read them at grading time; move them to hidden cases in {spec_file}")
                for index, cell in enumerate(ctx.source.cells) if HIDDEN in cell.source]
    if not module.cases_py.is_file():
        return findings + [Finding(RULE, module.name, spec_file, None, None, None,
                                   "missing: every module needs its spec of cases (see source/AUTHORING.md)")]
    try:
        cases = declared_cases(module.cases_py.read_text(encoding="utf-8"))
    except SyntaxError as error:
        return findings + [Finding(RULE, module.name, spec_file, None, None, error.lineno,
                                   f"does not parse: {error.msg}")]
    graded = {nbgrader_meta(c)["grade_id"]: (i, nbgrader_meta(c)) for i, c in enumerate(ctx.source.cells)
              if is_graded_test(c)}
    checkpoint = module.title + "-checkpoint"
    for cell, line, _ in cases:
        if cell not in graded:
            findings.append(Finding(RULE, module.name, spec_file, None, None, line,
                                    f"case bound to {cell!r}, which is no graded cell of {module.name}"))
    for gid, (index, meta) in graded.items():
        own = [(line, points) for cell, line, points in cases if cell == gid]
        if not own:
            findings.append(ctx.source_finding(RULE, index, None, f"graded cell without cases in {spec_file}: "
                                               "nothing could score it"))
        elif gid == checkpoint:
            findings += _checkpoint_points(ctx, index, meta, own, spec_file)
        else:
            findings += [Finding(RULE, module.name, spec_file, None, gid, line,
                                 f"a case of {gid} carries points: only the checkpoint cell's cases do "
                                 "(an ordinary cell scores its own points when all its cases agree)")
                         for line, points in own if points is not None]
    return findings


def _line_of(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), start=1) if text in line)


def _checkpoint_points(ctx, index: int, meta: dict, own: list, spec_file: str) -> list[Finding]:
    if any(points is None for _, points in own):
        return [ctx.source_finding(RULE, index, None, f"every case of the checkpoint cell needs points= in {spec_file}")]
    total = sum(points for _, points in own)
    if total != float(meta.get("points", 0)):
        return [ctx.source_finding(RULE, index, None, f"the checkpoint's cases carry {total:g} points in {spec_file}, "
                                   f"the cell {float(meta.get('points', 0)):g}: a perfect submission would not get them all")]
    return []


def declared_cases(text: str) -> list[tuple[str, int, float | None]]:
    """(grade id, line, points or None) of every `@case(...)` decorator of a spec file."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name)
                    and decorator.func.id == "case" and decorator.args
                    and isinstance(decorator.args[0], ast.Constant) and isinstance(decorator.args[0].value, str)):
                points = next((k.value for k in decorator.keywords if k.arg == "points"), None)
                value = points.value if isinstance(points, ast.Constant) else None
                found.append((decorator.args[0].value, decorator.lineno,
                              None if value is None else float(value)))
    return found


def case_lines(text: str) -> dict[str, int]:
    """Each case's name (its `name=` or its function's name, as casekit names it) -> the line of
    its `@case(...)` decorator in a spec file."""
    found = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "case":
                    named = next((k.value.value for k in decorator.keywords
                                  if k.arg == "name" and isinstance(k.value, ast.Constant)), None)
                    found[named or node.name] = decorator.lineno
    return found
