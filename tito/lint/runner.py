"""`tito lint`: run the static rules on every module, then execute the notebooks in parallel.

Static rules are cheap and run first; notebook executions (two per module) share a small
thread pool of kernels, since each kernel is its own process.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tito.course import CONFIG_FILE, Module
from tito.errors import TitoError
from tito.lint import context
from tito.lint.context import ModuleContext
from tito.lint.findings import Finding
from tito.lint.rules import (blank_release, execution, file_ref, imports, leak, metadata, release_parse,
                              solution_placement, spec)
from tito.source import is_graded_test, points

STATIC_RULES = (release_parse, solution_placement, metadata, file_ref, imports, leak, spec)


@dataclass
class ModuleSummary:
    """What the CLI prints per module when the lint is clean."""

    module: str
    graded_cells: int
    points: float
    source_passed: int | None = None  # graded cells passing on the solution (None: not executed)
    release_failed: int | None = None  # graded cells failing by NotImplementedError in the release


@dataclass
class LintReport:
    findings: list[Finding] = field(default_factory=list)
    summaries: list[ModuleSummary] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def lint(modules: list[Module], selected: list[Module] | None = None, *, execute: bool = True,
         workers: int = 2, timeout: int = 60) -> LintReport:
    """Lint `selected` (default: all) of the course `modules`; findings are sorted by place."""
    contexts, report = [], LintReport()
    published = _published(modules, report)
    for module in selected or modules:
        try:
            contexts.append(context.load(module, modules, timeout, published))
        except TitoError as error:
            report.findings.append(Finding("source-read", module.name, module.rel(module.source_py), None, None, None, str(error)))
    for ctx in contexts:
        for rule in STATIC_RULES:
            report.findings += rule.check(ctx)
    runs = _execute_all(contexts, workers) if execute else {}
    for ctx in contexts:
        report.findings += _judge(ctx, runs)
        report.summaries.append(_summary(ctx, runs))
    report.findings.sort(key=lambda f: (f.module, f.file, -1 if f.cell is None else f.cell, f.line or 0, f.rule))
    return report


def _published(modules: list[Module], report: LintReport) -> tuple[Module, ...]:
    """The modules whose reference the course publishes; a bad setting is a finding, and then
    nothing counts as published (so any reference under release/ is reported as a leak)."""
    from tito.release import published_modules

    if not modules:
        return ()
    try:
        return tuple(published_modules(modules[0].root, modules))
    except TitoError as error:
        report.findings.append(Finding("config", modules[0].name, CONFIG_FILE, None, None, None, str(error)))
        return ()


def _execute_all(contexts: list[ModuleContext], workers: int) -> dict[tuple[str, str], object]:
    """Run the source and release notebook of every module, and its cases on the blank release,
    `workers` at a time."""
    jobs = [(ctx, kind) for ctx in contexts for kind in ("source", "release", "graded-only", "blank-cases")]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {(ctx.module.name, kind): pool.submit(_run, ctx, kind) for ctx, kind in jobs}
        return {key: future.result() for key, future in futures.items()}


def _run(ctx: ModuleContext, kind: str):
    runners = {"source": execution.run_source, "release": execution.run_release,
               "graded-only": execution.run_graded_only, "blank-cases": blank_release.run_cases}
    return runners[kind](ctx)


def _judge(ctx: ModuleContext, runs: dict) -> list[Finding]:
    name = ctx.module.name
    if (name, "source") not in runs:
        return []
    return (execution.source_findings(ctx, runs[name, "source"])
            + execution.release_findings(ctx, runs[name, "release"])
            + execution.graded_only_findings(ctx, runs.get((name, "graded-only")))
            + blank_release.findings(ctx, runs.get((name, "blank-cases"))))


def _summary(ctx: ModuleContext, runs: dict) -> ModuleSummary:
    graded = [c for c in ctx.source.cells if is_graded_test(c)]
    summary = ModuleSummary(ctx.module.name, len(graded), sum(points(c) for c in graded))
    source, release = runs.get((ctx.module.name, "source")), runs.get((ctx.module.name, "release"))
    if source is not None:
        summary.source_passed = sum(o.passed for o in source.graded)
    if release is not None:
        summary.release_failed = sum(o.ename == execution.STUB_ERROR for o in release.graded)
    return summary
