"""source-exec and release-exec: run the notebooks and judge each graded cell.

source-exec: the instructor notebook, top to bottom in a fresh kernel with the course root
first on PYTHONPATH, must raise nowhere: the solution passes every test.

release-exec: the student notebook, in a fresh kernel whose PYTHONPATH starts with a partial
reference holding only the EARLIER modules (so this module's reference cannot be imported),
from the release folder. Every graded test must fail, and only because of a stub
(`NotImplementedError`); any other error is a broken test or a missing import, and a pass means
the test does not test the student's work.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tito.build.partial import partial_reference
from tito.errors import TitoError
from tito.execute import CellOutcome, NotebookRun, execute_notebook, kernel_env
from tito.lint.context import ModuleContext
from tito.lint.findings import Finding

STUB_ERROR = "NotImplementedError"


def run_source(ctx: ModuleContext) -> NotebookRun:
    cwd = ctx.module.source_py.parent
    return execute_notebook(ctx.source, cwd=cwd, env=kernel_env([ctx.root]), timeout=ctx.timeout)


def run_release(ctx: ModuleContext) -> NotebookRun | None:
    if ctx.release is None:
        return None  # release-parse reports the missing release
    with tempfile.TemporaryDirectory(prefix="tito-partial-") as tmp:
        try:
            reference = partial_reference(ctx.root, Path(tmp), ctx.earlier)
        except TitoError as error:  # an earlier module not exported yet: a finding, not a crash
            return NotebookRun([], ctx.release, f"no partial reference: {error}")
        env = kernel_env([reference])
        return execute_notebook(ctx.release, cwd=ctx.module.release_dir, env=env, timeout=ctx.timeout)


def run_graded_only(ctx: ModuleContext) -> NotebookRun:
    """The source notebook as the autograder runs it: only the cells grading executes, with the
    partial reference (earlier modules) on the path."""
    import nbformat

    from tito.grade.selection import cells_to_run

    solutions = [i for i, c in enumerate(ctx.source.cells) if c.metadata.get("nbgrader", {}).get("solution")]
    keep = set(cells_to_run(ctx.source, solutions))
    subset = nbformat.from_dict(dict(ctx.source))
    subset.cells = [c for i, c in enumerate(ctx.source.cells) if i in keep or c.cell_type != "code"]
    with tempfile.TemporaryDirectory(prefix="tito-partial-") as tmp:
        try:
            reference = partial_reference(ctx.root, Path(tmp), ctx.earlier)
        except TitoError as error:
            return NotebookRun([], subset, f"no partial reference: {error}")
        return execute_notebook(subset, cwd=ctx.module.source_py.parent, env=kernel_env([reference]),
                                timeout=ctx.timeout)


def graded_only_findings(ctx: ModuleContext, run: NotebookRun | None) -> list[Finding]:
    """tests-self-contained: every graded test passes when grading skips the narrative's demos."""
    if run is None:
        return []
    findings = [_kernel_finding(ctx, ctx.source_file, run, "tests-self-contained")] if run.kernel_error else []
    by_grade_id = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(ctx.source.cells)}
    for outcome in run.graded:
        if not outcome.passed:
            index = by_grade_id.get(outcome.grade_id, outcome.index)
            findings.append(ctx.source_finding(
                "tests-self-contained", index, None,
                f"graded test fails when only the cells grading runs are executed (it depends on a demo "
                f"cell, or on this module's reference): {_error(outcome)}"))
    return findings


def source_findings(ctx: ModuleContext, run: NotebookRun) -> list[Finding]:
    findings = [_kernel_finding(ctx, ctx.source_file, run, "source-exec")] if run.kernel_error else []
    for outcome in run.errors:
        what = "graded test fails on the solution" if outcome.graded else "cell raises on the solution"
        findings.append(ctx.source_finding("source-exec", outcome.index, None, f"{what}: {_error(outcome)}"))
    for outcome in run.graded:
        if outcome.passed and outcome.stderr:
            first = outcome.stderr.strip().splitlines()[0] if outcome.stderr.strip() else ""
            findings.append(ctx.source_finding(
                "source-exec", outcome.index, None,
                f"graded test writes to stderr, which nbgrader scores 0: {first}"))
    return findings


def release_findings(ctx: ModuleContext, run: NotebookRun | None) -> list[Finding]:
    if run is None:
        return []
    findings = [_kernel_finding(ctx, ctx.release_file, run, "release-exec")] if run.kernel_error else []
    for outcome in run.graded:
        if outcome.passed:
            findings.append(ctx.release_finding(
                "release-passes-without-solution", outcome.index, None,
                "graded test passes on the unsolved release; it does not test the student's work"))
        elif outcome.ename != STUB_ERROR:
            findings.append(ctx.release_finding(
                "release-wrong-failure", outcome.index, None,
                f"graded test fails with {_error(outcome)} instead of {STUB_ERROR}"))
    return findings


def _error(outcome: CellOutcome) -> str:
    return f"{outcome.ename}: {outcome.evalue}" if outcome.evalue else str(outcome.ename)


def _kernel_finding(ctx: ModuleContext, file: str, run: NotebookRun, rule: str) -> Finding:
    return Finding(rule, ctx.module.name, file, None, None, None, f"could not run the notebook: {run.kernel_error}")
