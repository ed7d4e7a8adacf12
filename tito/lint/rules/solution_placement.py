"""solution-placement: solution regions sit inside function bodies, balanced, where declared.

nbgrader puts its stub at the indentation of the `BEGIN SOLUTION` line. Inside a function body
that is always a valid statement and the signature and docstring stay visible; anywhere else
(column 0 in a method, around a whole `def`) students get a stub that does not parse or lose
the signature. A code cell marked `"solution": true` with no markers is blanked whole.
"""

from __future__ import annotations

import ast
import re

from tito.lint.context import ModuleContext, code_cells
from tito.lint.findings import Finding
from tito.lint.rules.python import try_parse
from tito.source import nbgrader_meta

RULE = "solution-placement"
MARKER = re.compile(r"^(?P<indent>\s*)###\s*(?P<kind>BEGIN|END) SOLUTION\s*$")
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def check(ctx: ModuleContext) -> list[Finding]:
    findings = []
    for index, cell in code_cells(ctx.source):
        markers = _markers(cell.source)
        findings += [ctx.source_finding(RULE, index, line, msg) for line, msg in _problems(cell, markers)]
    return findings


def _markers(source: str) -> list[tuple[int, str, int]]:
    """(line, BEGIN|END, indentation) of every solution marker line."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = MARKER.match(line)
        if match:
            found.append((number, match["kind"], len(match["indent"].expandtabs())))
    return found


def _problems(cell, markers: list[tuple[int, str, int]]) -> list[tuple[int | None, str]]:
    is_solution = bool(nbgrader_meta(cell).get("solution"))
    if not markers:
        if is_solution:
            return [(None, 'cell is marked "solution": true but has no ### BEGIN SOLUTION; nbgrader would blank it whole')]
        return []
    if not is_solution:
        return [(markers[0][0], 'solution markers in a cell not marked "solution": true; nbgrader refuses it')]
    problems = _balance(markers)
    tree = try_parse(cell.source)
    if tree is None:
        return problems + [(None, "the solution cell does not parse")]
    begins = [(line, indent) for line, kind, indent in markers if kind == "BEGIN"]
    return problems + [(line, msg) for line, indent in begins if (msg := _placement(tree, line, indent))]


def _balance(markers: list[tuple[int, str, int]]) -> list[tuple[int, str]]:
    """Each BEGIN is closed by an END before the next BEGIN."""
    problems, open_line = [], None
    for line, kind, _ in markers:
        if kind == "BEGIN" and open_line is not None:
            problems.append((line, f"BEGIN SOLUTION inside the region opened at line {open_line}"))
        elif kind == "END" and open_line is None:
            problems.append((line, "END SOLUTION without a BEGIN SOLUTION"))
        open_line = line if kind == "BEGIN" else None
    if open_line is not None:
        problems.append((open_line, "BEGIN SOLUTION never closed by END SOLUTION"))
    return problems


def _placement(tree: ast.Module, line: int, indent: int) -> str | None:
    """None when the BEGIN line is inside a function body, indented deeper than its `def`."""
    enclosing = [
        node for node in ast.walk(tree)
        if isinstance(node, FUNCTIONS) and node.lineno < line <= _last_line(node)
    ]
    if not enclosing:
        return "BEGIN SOLUTION outside any function body; put regions inside functions so the stub parses and the signature stays"
    innermost = max(enclosing, key=lambda node: node.lineno)
    if indent <= innermost.col_offset:
        return (f"BEGIN SOLUTION at column {indent} inside `{innermost.name}` (def at column "
                f"{innermost.col_offset}); nbgrader's stub would not parse")
    return None


def _last_line(node: ast.AST) -> int:
    """A function's last line: its last statement (trailing END markers are comments after it)."""
    return node.end_lineno or node.lineno
