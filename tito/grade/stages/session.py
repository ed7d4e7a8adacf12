"""session: one sandbox session per submission: the cases in a pristine child, then the cells.

The runner starts, imports numpy and forks a child for the cases before a single cell runs; it
collects what the child wrote, kills whatever the child left running, wipes every place the
child could write (so nothing it leaves can reach the notebook's cells) and only then runs the
cells. When a session brings no case results back (only code that attacks the runner does
that), the submission is graded the separate way: the notebook and the cases each in a sandbox of
their own, so that neither can cost the other's points.
"""

from __future__ import annotations

import time

from tito.grade.checks import VALUES_CAP, CheckRun, fail_all, run_checks, score_checks, stage_runner
from tito.grade.execute import SessionChecks, execute
from tito.grade.job import Job


def run(job: Job, context) -> None:
    plan, timeout, timings = job.plan, context.settings.cases_timeout, job.result.timings
    scratch = job.scratch / "session"
    request = None
    if not plan.failure:
        stage_runner(job.module, scratch / "runner")
        request = SessionChecks(args=plan.case_args(), out=plan.out, timeout=timeout, values_cap=VALUES_CAP,
                                isolate=context.sandbox.isolated)
    clock = time.perf_counter()
    outcome = _execute(job, context, scratch, request)
    wall = time.perf_counter() - clock
    cases_run = CheckRun.from_event(outcome.checks) if outcome.checks is not None else None
    if request is not None and cases_run is None:
        return _separately(job, context)
    cases_wall = cases_run.wall if cases_run else 0.0
    timings["startup"] = max(0.0, outcome.startup - cases_wall)
    timings["execute"] = wall - cases_wall
    timings["checks"] = cases_wall
    job.outcome = outcome
    job.checks = score_checks(plan, cases_run, None, timeout)[0] if cases_run else fail_all(plan)[0]


def _separately(job: Job, context) -> None:
    timings = job.result.timings
    clock = time.perf_counter()
    job.outcome = _execute(job, context, job.scratch / "notebook", None)
    timings["startup"] = job.outcome.startup
    timings["execute"] = time.perf_counter() - clock
    clock = time.perf_counter()
    job.checks, _ = run_checks(job.module, job.prepared.notebook, sandbox=context.sandbox,
                               scratch=job.scratch / "checks", partial_lib=job.lib, oracle=context.oracle,
                               seed=job.seed, timeout=context.settings.cases_timeout)
    timings["checks"] = time.perf_counter() - clock


def _execute(job: Job, context, scratch, request):
    return execute([c.to_json() for c in job.cells], sandbox=context.sandbox, scratch=scratch, lib=job.lib,
                   checks=request)
