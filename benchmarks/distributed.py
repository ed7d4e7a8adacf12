"""Grading on Dask vs the local pool: the same honest class, three ways, side by side in one run.

The workload: an all-correct synthetic class (`tito.synth`), `students` x `modules`, written once
into a throwaway copy of the course (`benchmarks.grading.make_course`: every module published, a
fresh gradebook), whose course secret is created before the copy is duplicated, so the three
graders start from byte-identical courses and draw the same case inputs:

- local: `tito.grade.run.autograde(..., workers=W)`, the local pool (threads of this process);
- LocalCluster: `autograde(..., local_cluster=W)`, a `distributed.LocalCluster` (one worker
  of W threads, in the grading process) started by the call, its start-up included in the wall time;
- TCP workers: a `dask worker` process of W threads and a `dask scheduler`
  (`benchmarks.dask_processes`), as on a worker machine, cwd in a temporary folder, talking TCP
  on 127.0.0.1, in a mount namespace where a tmpfs covers the course copies (root only;
  otherwise it merely runs elsewhere), so it grades from the course bundle and the tasks alone.
  They are started, and warmed up by grading one
  submission of a fourth copy, before the clock: worker machines run all term, and pay their
  first run's one-time costs (imports, the first reference process) once. Both are reported apart.

Each grades the whole class once, in one `autograde` call, in the order local, LocalCluster,
TCP, with the load average noted before each. Then the three gradebooks are read with SQL
(totals and every graded cell, as in `benchmarks.grading`) and every result.json is compared
(timings aside): any difference fails the benchmark, after the figures are printed. Where the time
goes comes from each result's `timings` (worker seconds per submission) against W x wall.

`python -m benchmarks.distributed [--students N] [--modules 01_tensor,03_layers] [--workers W]
[--keep]`; `python -m benchmarks --only distributed` runs it with the defaults below.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.dask_processes import DaskProcesses
from benchmarks.grading import HONEST, gradebook_cells, gradebook_totals, make_course

SEED = 13
DEFAULT_STUDENTS = 8
DEFAULT_MODULES = ("01_tensor", "03_layers")
TARGET_RATIO = 0.9  # throughput of each Dask way / the local pool's
STAGES = ("read", "prepare", "select", "plan", "session", "startup", "execute", "checks", "score", "review", "keep", "total",
          "record")  # the keys of `GradeResult.timings` (record: the supervisor's gradebook transaction)
SIDES = ("local pool", "LocalCluster", "TCP workers, no course access")


class GradeMismatch(RuntimeError):
    """The three ways of grading did not record the same grades."""


def run(students: int = DEFAULT_STUDENTS, modules: tuple[str, ...] = DEFAULT_MODULES, *,
        workers: int | None = None, keep: bool = False) -> dict:
    from tito.grade import config as grading_config
    from tito.grade.course_bundle import pack
    from tito.grade.sandbox import Sandbox
    from tito.grade.secret import course_secret
    from tito.synth.generate import generate_class

    missing = Sandbox.missing_layers()
    if missing:
        return {"skipped": f"this machine cannot sandbox student code ({', '.join(missing)})"}
    workers = workers or os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="tito-bench-distributed-"))
    results = {"students": students, "modules": list(modules), "workers": workers, "work": str(work),
               "kept": keep, "hidden": os.geteuid() == 0}
    try:
        first = make_course(work / "course-local")
        generate_class(first, students, seed=SEED, modules=list(modules), mix=HONEST)
        course_secret(grading_config.load(first).secret_file)
        roots = dict(zip(SIDES, [first, work / "course-localcluster", work / "course-tcp"]))
        warm_up = work / "course-warm-up"
        for root in [*list(roots.values())[1:], warm_up]:
            shutil.copytree(first, root)
        from tito import course

        results["bundle_bytes"] = len(pack(first, course.discover(first)))
        results["task_bytes"] = _mean_submission_bytes(first)
        sides = {}
        sides[SIDES[0]] = _grade(roots[SIDES[0]], workers=workers)
        sides[SIDES[1]] = _grade(roots[SIDES[1]], local_cluster=workers)
        clock = time.perf_counter()
        hide = (*roots.values(), warm_up) if results["hidden"] else ()
        with DaskProcesses(work / "dask", 1, hide=hide, threads=workers) as cluster:
            results["tcp_start"] = time.perf_counter() - clock
            results["tcp_warm_up"] = _grade(warm_up, scheduler=cluster.address, students=["s001"],
                                            selected=[course.select(course.discover(warm_up), modules[0])[0]])["wall"]
            sides[SIDES[2]] = _grade(roots[SIDES[2]], scheduler=cluster.address)
        results["sides"] = sides
        results["load_after"] = _load()
        results["differences"] = _differences(roots)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    if results["differences"]:
        print("\n".join(report(results)), flush=True)
        raise GradeMismatch(f"the three ways disagree: {results['differences'][:10]}")
    return results


def _grade(root: Path, **how) -> dict:
    from rich.console import Console

    from tito import course
    from tito.grade.run import autograde

    load = _load()
    started = time.perf_counter()
    summary = autograde(root, course.discover(root), console=Console(file=io.StringIO()), **how)
    wall = time.perf_counter() - started
    return {"wall": wall, "load": load, "count": len(summary.graded),
            "errors": [f"{r.student}/{r.module}: {r.reason}" for r in summary.graded if r.status != "graded"],
            "timings": [dict(r.timings) for r in summary.graded]}


def _differences(roots: dict[str, Path]) -> list[str]:
    """Every way in which the other sides' grades differ from the local pool's."""
    base_root = roots[SIDES[0]]
    base = (gradebook_totals(base_root), gradebook_cells(base_root), _results(base_root))
    found = []
    for side in SIDES[1:]:
        other = (gradebook_totals(roots[side]), gradebook_cells(roots[side]), _results(roots[side]))
        for label, mine, theirs in zip(("total", "cell", "result.json"), base, other):
            found += [f"{side}: {label} {key}" for key in sorted(set(mine) | set(theirs), key=str)
                      if mine.get(key) != theirs.get(key)]
    return found


def _results(root: Path) -> dict[str, dict]:
    found = {}
    for path in (root / "autograded").glob("*/*/result.json"):
        data = json.loads(path.read_text())
        data.pop("timings")
        found[f"{data['student']}/{data['module']}"] = data
    return found


def _mean_submission_bytes(root: Path) -> float:
    sizes = [sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
             for folder in (root / "submitted").glob("*/*")]
    return sum(sizes) / max(len(sizes), 1)


def _load() -> float:
    return os.getloadavg()[0]


def report(results: dict) -> list[str]:
    title = "## Grading on Dask: local pool vs LocalCluster vs TCP workers without the course (same class)"
    if "skipped" in results:
        return [title, "", f"Skipped: {results['skipped']}."]
    workers, sides = results["workers"], results["sides"]
    base = sides[SIDES[0]]
    n = base["count"]
    lines = [title, "",
             f"{n} submissions: {results['students']} students x {len(results['modules'])} modules "
             f"({', '.join(results['modules'])}), every one correct; {workers} workers on each side "
             "(threads: the LocalCluster's worker in the grading process, the TCP worker a process of its own). Course bundle sent to each worker: "
             f"{results['bundle_bytes'] / 1024:.0f} KiB; a task carries {results['task_bytes'] / 1024:.0f} KiB "
             "of submitted files on average.", "",
             "| grader | wall s | submissions / s | throughput / local pool | worker s / submission | "
             "overhead s / submission | load before |",
             "|---|---|---|---|---|---|---|"]
    for side in SIDES:
        figures = sides[side]
        worked = sum(t.get("total", 0.0) for t in figures["timings"])
        overhead = (figures["wall"] * workers - worked) / n
        lines.append(f"| {side} | {figures['wall']:.1f} | {n / figures['wall']:.3f} | "
                     f"**{base['wall'] / figures['wall']:.2f}x** | {worked / n:.2f} | {overhead:.2f} | "
                     f"{figures['load']:.2f} |")
    ratios = [base["wall"] / sides[s]["wall"] for s in SIDES[1:]]
    lines += ["", f"Target: each Dask way >= {TARGET_RATIO:g}x the local pool's throughput: "
                  f"{'met' if min(ratios) >= TARGET_RATIO else 'NOT met'}. Grades: "
                  + ("identical on all three (gradebook totals, every graded cell, every result.json)."
                     if not results["differences"] else f"{len(results['differences'])} DIFFERENCES."),
              "Worker s / submission: the stages' time on the worker (`timings['total']`); overhead: "
              f"{workers} x wall minus that, per submission (start-up, the bundle, dispatch, the tail, idle "
              "workers). The LocalCluster's wall includes starting it; the TCP worker's start-up "
              f"({results['tcp_start']:.1f} s, the scheduler and the worker joined) and warm-up "
              f"({results['tcp_warm_up']:.1f} s to grade one submission on the fresh workers) are not, as "
              "worker machines run all term. The TCP worker "
              + ("ran in a mount namespace where tmpfs covered the course copies." if results["hidden"]
                 else "could see the course (not root: no mount namespace); they did not use it."),
              f"Load average (1 min) at the end: {results['load_after']:.2f}.", "",
              "Where the worker time goes (mean s per submission, from each result's timings):", "",
              "| stage | " + " | ".join(SIDES) + " |", "|---|" + "---|" * len(SIDES)]
    for stage in STAGES:
        lines.append(f"| {stage} | " + " | ".join(
            f"{sum(t.get(stage, 0.0) for t in sides[side]['timings']) / n:.3f}" for side in SIDES) + " |")
    for side in SIDES:
        for error in sides[side]["errors"][:3]:
            lines.append(f"- {side} could not grade {error}")
    for difference in results["differences"][:10]:
        lines.append(f"- DIFFERENCE {difference}")
    if results.get("kept"):
        lines.append(f"Course copies kept in {results['work']}.")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=DEFAULT_STUDENTS)
    parser.add_argument("--modules", default=",".join(DEFAULT_MODULES), help="comma-separated module names")
    parser.add_argument("--workers", type=int, default=None, help="workers on each side (default: one per core)")
    parser.add_argument("--keep", action="store_true", help="keep the course copies (path printed)")
    args = parser.parse_args(argv)
    from benchmarks.environment import load_average, machine_summary

    print("\n".join(f"- {line}" for line in machine_summary()) + "\n", flush=True)
    print("\n".join(report(run(args.students, tuple(args.modules.split(",")), workers=args.workers,
                                keep=args.keep))))
    print(f"\nAt the end: {load_average()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
