"""release-parse: every released code cell parses.

nbgrader reports success even when its stub lands where Python cannot parse it (seed 003);
a student then cannot even define the class. This rule reads the release itself.
"""

from __future__ import annotations

from tito.lint.context import ModuleContext, code_cells
from tito.lint.findings import Finding
from tito.lint.rules.python import parse

RULE = "release-parse"


def check(ctx: ModuleContext) -> list[Finding]:
    if ctx.release is None:
        return [ctx.release_finding("release-missing", None, None, "missing; run `tito release`")]
    findings = []
    for index, cell in code_cells(ctx.release):
        try:
            parse(cell.source)
        except SyntaxError as error:
            findings.append(ctx.release_finding(RULE, index, error.lineno, f"released cell does not parse: {error.msg}"))
    return findings
