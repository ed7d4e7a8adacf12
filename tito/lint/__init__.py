"""The release lint: proves a release is sound before any student sees it.

`lint(modules, selected, execute=True)` returns a `LintReport` of `Finding`s, each naming the
rule, the file, the cell, the line and the problem.
"""

from tito.lint.findings import Finding
from tito.lint.runner import LintReport, ModuleSummary, lint

__all__ = ["Finding", "LintReport", "ModuleSummary", "lint"]
