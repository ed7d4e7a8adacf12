"""session: one sandbox session per submission: the cases in a pristine child, then the cells.

The runner starts, imports numpy and forks a child for the cases before a single cell runs; it
collects what the child wrote, kills whatever the child left running, wipes every place the
child could write (so nothing it leaves can reach the notebook's cells) and only then runs the
cells. When a session brings no case results back (only code that attacks the runner does
that), the submission is graded the separate way: the notebook and the cases each in a sandbox of
their own, so that neither can cost the other's points.

A timeout that the host's load caused is not the student's: a cell whose process waited for a
CPU longer than it ran before its timeout (`ExecuteOutcome.starved`), or a case that timed out
while runnable tasks on the host waited for a CPU during at least `OVERLOAD_PRESSURE` of the
session's wall time (the kernel's CPU pressure, /proc/pressure/cpu) and the cases used less than
that share of a CPU (`ExecuteOutcome.checks_cpu`), makes the whole submission be graded again,
up to `REGRADES` times, each with a note; if the host is still overloaded
after that, the last grading stands and a note says so.
"""

from __future__ import annotations

import shutil
import time

from tito.grade.checks import VALUES_CAP, CheckRun, fail_all, run_checks, score_checks, stage_runner
from tito.grade.execute import SessionChecks, execute
from tito.grade.job import Job
from tito.grade.sandbox import cpu_pressure
from tito.grade.stages import plan

REGRADES = 2  # times a submission is graded again after a timeout the host's load caused
OVERLOAD_PRESSURE = 0.5  # share of the wall time with some task waiting for a CPU: overloaded
REGRADE_PAUSE = 2.0  # seconds to let the host's load pass before grading again
# how a case that ran out of time reads: past its own budget (the case runner), or cut off when the
# whole run hit its limit (`checks._run_problem`)
CASE_TIMEOUTS = ("timed out after", "time limit before this case finished")


def run(job: Job, context) -> None:
    for attempt in range(REGRADES + 1):
        folder = job.scratch / "session"
        if attempt:  # from a clean slate: what the last attempt's code wrote is gone, the plan redone
            for used in (folder, job.scratch / "notebook", job.scratch / "checks"):
                shutil.rmtree(used, ignore_errors=True)
            plan.run(job, context)
        pressure, clock = cpu_pressure(), time.monotonic()
        case_timeouts = _session(job, context, folder)
        overloaded = list(job.outcome.starved)
        if case_timeouts and pressure is not None:
            share = (cpu_pressure() - pressure) / max(time.monotonic() - clock, 1e-6)
            used = _cases_cpu_share(job)
            if share >= OVERLOAD_PRESSURE and (used is None or used < OVERLOAD_PRESSURE):
                overloaded.append(f"case(s) {', '.join(case_timeouts)} timed out while the host was overloaded: "
                                  f"tasks waited for a CPU during {share:.0%} of the session"
                                  + (f" and the cases ran {used:.0%} of their time" if used is not None else ""))
        if not overloaded:
            return
        if attempt == REGRADES:
            job.notes.append(f"graded {REGRADES + 1} times, the host overloaded each time; this last grading "
                             f"stands: {'; '.join(overloaded)}")
            return
        job.notes.append(f"graded again: {'; '.join(overloaded)}")
        time.sleep(REGRADE_PAUSE)


def _session(job: Job, context, scratch) -> list[str]:
    """Grade once; the names of the cases that timed out."""
    checks_plan, timeout, timings = job.plan, context.settings.cases_timeout, job.result.timings
    request = None
    if not checks_plan.failure:
        stage_runner(job.module, scratch / "runner")
        request = SessionChecks(args=checks_plan.case_args(), out=checks_plan.out, timeout=timeout,
                                values_cap=VALUES_CAP,
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
    if not cases_run:
        job.checks = fail_all(checks_plan)[0]
        return []
    job.checks = score_checks(checks_plan, cases_run, None, timeout)[0]
    return _timed_out(job.checks)


def _cases_cpu_share(job: Job) -> float | None:
    """CPU seconds the cases used per second of their wall time (None: not measured). A case that
    hangs on a CPU of its own uses about 1: it was not starved, its timeout stands."""
    outcome = job.outcome
    wall = job.result.timings.get("checks") or 0.0
    if outcome is None or outcome.checks_cpu is None or wall <= 0:
        return None
    return outcome.checks_cpu / wall


def _timed_out(checks) -> list[str]:
    """The cases that timed out: alone past their budget, or when the whole run hit its limit."""
    return [c.name for c in checks if any(marker in c.message for marker in CASE_TIMEOUTS)]


def _separately(job: Job, context) -> list[str]:
    timings, scratch = job.result.timings, job.scratch
    clock = time.perf_counter()
    job.outcome = _execute(job, context, scratch / "notebook", None)
    timings["startup"] = job.outcome.startup
    timings["execute"] = time.perf_counter() - clock
    clock = time.perf_counter()
    job.checks, _ = run_checks(job.module, job.prepared.notebook, sandbox=context.sandbox,
                                  scratch=scratch / "checks", partial_lib=job.lib, oracle=context.oracle,
                               seed=job.seed, timeout=context.settings.cases_timeout)
    timings["checks"] = time.perf_counter() - clock
    return _timed_out(job.checks)


def _execute(job: Job, context, scratch, request):
    return execute([c.to_json() for c in job.cells], sandbox=context.sandbox, scratch=scratch, lib=job.lib,
                   checks=request)
