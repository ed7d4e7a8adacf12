"""blank-release-scores: the untouched release scores 0.

Grading scores an ordinary graded cell only when its notebook test passes (release-exec proves no
test passes on the release), but the checkpoint cell is scored by its cases alone: a checkpoint
case that agrees with the reference on the blank release (it checks given code, a constant, or
nothing the student writes) hands every student its points for nothing. So the module's cases run
on the release's export cells as grading runs them (the reference of the earlier modules beside
them, compared with the module's reference outside), and each agreeing case with points is a
finding at its line of `cases.py`.

The release is the instructor's own code, so the cases may run without isolation on a machine
that cannot sandbox (`Sandbox(unsafe=True)`); grading never does.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tito.build.partial import partial_reference
from tito.errors import TitoError
from tito.grade.model import CheckResult
from tito.lint.context import ModuleContext
from tito.lint.findings import Finding
from tito.lint.rules.spec import case_lines

RULE = "blank-release-scores"
SEED = 1  # any seed: a case that agrees on the blank release does so under every seed that matters


def run_cases(ctx: ModuleContext) -> list[CheckResult] | str | None:
    """The module's cases on the blank release (None without a release or a spec; a string says
    why they could not run, which release-exec and spec report better)."""
    from tito.grade import config as grading_config
    from tito.grade.checks import run_checks
    from tito.grade.oracle import Oracle
    from tito.grade.sandbox import Sandbox

    if ctx.release is None or not ctx.module.cases_py.is_file():
        return None
    settings = grading_config.load(ctx.root)
    oracle = Oracle(ctx.root)
    try:
        with tempfile.TemporaryDirectory(prefix="tito-blank-") as tmp:
            lib = partial_reference(ctx.root, Path(tmp) / "lib", ctx.earlier)
            checks, _ = run_checks(ctx.module, ctx.release, sandbox=Sandbox(settings.limits, unsafe=True),
                                   scratch=Path(tmp) / "scratch", partial_lib=lib, oracle=oracle, seed=SEED,
                                   timeout=settings.cases_timeout)
    except TitoError as error:
        return str(error)
    finally:
        oracle.close()
    return checks


def findings(ctx: ModuleContext, checks: list[CheckResult] | str | None) -> list[Finding]:
    if not isinstance(checks, list):
        return []
    spec_file = ctx.module.rel(ctx.module.cases_py)
    lines = case_lines(ctx.module.cases_py.read_text(encoding="utf-8"))
    free = [c for c in checks if c.passed and c.max_points]
    total = sum(c.max_points for c in free)
    return [Finding(RULE, ctx.module.name, spec_file, None, c.cell, lines.get(c.name),
                    f"case {c.name} agrees with the reference on the untouched release: a blank submission "
                    f"would score its {c.max_points:g} point(s) ({total:g} in all); make it call what the "
                    "student writes") for c in free]
