"""file-ref: no cell uses `__file__`; a notebook kernel does not define it (seed 003's NameError)."""

from __future__ import annotations

from tito.lint.context import ModuleContext, code_cells
from tito.lint.findings import Finding

RULE = "file-ref"


def check(ctx: ModuleContext) -> list[Finding]:
    findings = []
    for index, cell in code_cells(ctx.source):
        for number, line in enumerate(cell.source.splitlines(), start=1):
            if "__file__" in line:
                findings.append(ctx.source_finding(RULE, index, number, "uses __file__, which is undefined in a notebook kernel"))
    return findings
