"""Grading throughput: stock `nbgrader autograde` vs `tito autograde`, on the same honest class.

The workload: an all-correct synthetic class (`tito.synth`, mix with no bugs, stubs, broken files
or late work), `submissions` submissions spread over every module (default 100: 12 students x 9
modules = 108; modules differ a lot in cost, 05_autograd being the dearest). It is written once
into a throwaway copy of the course (source, release, reference package, config; `tito release`
creates a fresh gradebook holding every assignment), and that copy is duplicated before anyone
grades, so both sides start from byte-identical submitted/ files and gradebooks. Module by module
(as a course grades each module after its deadline), the two graders run back to back, in an
order that alternates between modules, so the other work on this shared machine weighs on both:

- stock: `nbgrader autograde <module> --force`, the CLI, one call per module for all students (as
  instructors run it), cwd the course copy and the venv's bin/ first on PATH, timed wall-clock;
- ours: `tito.grade.run.autograde(..., selected=[module])` in this process on the other copy,
  default workers (one per core), sandboxed, every graded cell's differential cases included
  (the reference's answers computed per submission, for its seed, by the run's reference
  process), timed wall-clock.

Then both gradebooks are read with SQL: the total per (student, module) is the sum of
coalesce(manual_score, auto_score) over its grades, and every graded cell's score is compared
too. Any difference fails the benchmark (after the figures are printed).

Where our time goes comes from each GradeResult's `timings`: prepare, startup (the sandboxed
interpreter and its imports until the first cell starts, the checks apart), execute minus startup
(student code and tests), checks (the module's differential cases, in a forked child of the same
sandboxed runner, before the cells), plan (the seed and the reference's answers), record (the gradebook transaction, in the supervisor). The floor is the student code's own CPU time: per module, the
cells grading runs (`tito.grade.selection.cells_to_run`) of the instructor's notebook, executed
in-process in a fresh subprocess, timed around the cell executions only (interpreter start,
numpy and the partial reference imported before the clock starts), times the number of
submissions; divided by the worker count, it is the wall time no parallel grader can beat.

Options: the submission count is `TINYTORCH_BENCH_GRADING_SUBMISSIONS` under `python -m benchmarks`
(default 100); `python -m benchmarks.grading [--submissions N] [--quick] [--keep]` runs this one
alone (`--quick`: 2 students x 01_tensor and 03_layers, a smoke run of about a minute).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUBMISSIONS_ENV = "TINYTORCH_BENCH_GRADING_SUBMISSIONS"
DEFAULT_SUBMISSIONS = 100
QUICK_MODULES = ("01_tensor", "03_layers")
HONEST = {"bug": 0, "stubs": 0, "broken": 0, "late": 0}
SEED = 11
TARGET_RATIO = 6.0

TOTALS_SQL = """
select s.student_id, a.name, sum(coalesce(g.manual_score, g.auto_score, 0)), count(g.id)
from grade g join submitted_notebook n on g.notebook_id = n.id
join submitted_assignment s on n.assignment_id = s.id join assignment a on s.assignment_id = a.id
group by s.student_id, a.name
"""
CELLS_SQL = """
select s.student_id, a.name, c.name, g.auto_score, g.manual_score
from grade g join base_cell c on g.cell_id = c.id join submitted_notebook n on g.notebook_id = n.id
join submitted_assignment s on n.assignment_id = s.id join assignment a on s.assignment_id = a.id
"""


class ScoreMismatch(AssertionError):
    """Stock nbgrader and tito gave different scores to the same submission."""


# --------------------------------------------------------------------------- the course copies

def make_course(dest: Path, python: str = sys.executable) -> Path:
    """A copy of the course with its release and a fresh gradebook (what `make release` leaves),
    at the end of term: every module's reference published, so every module can be graded."""
    for name in ("source", "release", "tinytorch"):
        shutil.copytree(REPO / name, dest / name,
                        ignore=shutil.ignore_patterns("*.ipynb", "__pycache__") if name == "source"
                        else shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "nbgrader_config.py", dest)
    from tito import course

    names = [m.name for m in course.discover(REPO)]
    with (dest / "nbgrader_config.py").open("a") as config:
        config.write(f"c.PublishedReference.modules = {names!r}\n")
    subprocess.run([python, "-m", "tito", "release"], cwd=dest, check=True, capture_output=True)
    return dest


def bin_env() -> dict[str, str]:
    """The environment stock nbgrader runs in: the venv's scripts first on PATH."""
    venv_bin = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""))


def gradebook_totals(root: Path) -> dict[tuple[str, str], float]:
    with sqlite3.connect(root / "gradebook.db") as db:
        return {(student, module): float(total) for student, module, total, _ in db.execute(TOTALS_SQL)}


def gradebook_cells(root: Path) -> dict[tuple[str, str, str], float | None]:
    """(student, module, graded cell) -> coalesce(manual_score, auto_score)."""
    with sqlite3.connect(root / "gradebook.db") as db:
        return {(s, m, c): (manual if manual is not None else auto) for s, m, c, auto, manual in db.execute(CELLS_SQL)}


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


# --------------------------------------------------------------------------- the floor

FLOOR_SCRIPT = r"""
import json, random, sys, time
import nbformat, numpy
notebook_path, lib, solutions = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path.insert(0, lib)
import importlib, pkgutil
try:  # the partial reference (earlier modules): imported before the clock starts
    import tinytorch
    for info in pkgutil.walk_packages(tinytorch.__path__, "tinytorch."):
        importlib.import_module(info.name)
except ImportError:
    pass
from tito.grade.selection import cells_to_run
notebook = nbformat.read(notebook_path, as_version=4)
chosen = cells_to_run(notebook, solutions)
codes = [(i, compile(notebook.cells[i].source, f"<cell {i}>", "exec")) for i in chosen]
namespace = {"__name__": "__main__"}
errors, cpu, wall = [], 0.0, 0.0
for index, code in codes:
    random.seed(index); numpy.random.seed(index)
    c0, w0 = time.process_time(), time.perf_counter()
    try:
        exec(code, namespace)
    except BaseException as error:
        errors.append(f"cell {index}: {type(error).__name__}: {error}")
    cpu += time.process_time() - c0
    wall += time.perf_counter() - w0
print("\n" + json.dumps({"cpu": cpu, "wall": wall, "cells": len(codes), "errors": errors}))
"""


def measure_floor(root: Path, module) -> dict:
    """CPU seconds of one reference run of the cells grading executes (no startup, no imports)."""
    import nbformat

    from tito.build.partial import modules_before, partial_reference
    from tito.course import discover

    notebook = nbformat.read(module.source_ipynb, as_version=4)
    solutions = [i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("solution")]
    with tempfile.TemporaryDirectory(prefix="tito-floor-") as tmp:
        lib = partial_reference(root, Path(tmp) / "lib", modules_before(discover(root), module))
        env = dict(bin_env(), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONHASHSEED="0", MPLBACKEND="Agg")
        done = subprocess.run([sys.executable, "-c", FLOOR_SCRIPT, str(module.source_ipynb), str(lib),
                               json.dumps(solutions)], cwd=module.source_ipynb.parent, env=env,
                              capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"floor run of {module.name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the two graders

def run_stock(root: Path, module: str, log: Path) -> dict:
    """`nbgrader autograde <module> --force` for every student of that module: one CLI call."""
    cpu0, started = _child_cpu(), time.perf_counter()
    with log.open("a") as out:
        done = subprocess.run(["nbgrader", "autograde", module, "--force"], cwd=root, env=bin_env(),
                              stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader autograde {module} failed (exit {done.returncode}); see {log}")
    return {"wall": time.perf_counter() - started, "cpu": _child_cpu() - cpu0}


def run_ours(root: Path, module: str, workers: int | None) -> dict:
    """`tito autograde <module>`: every student of that module on the pool."""
    from rich.console import Console

    from tito import course
    from tito.grade.run import autograde

    everything = course.discover(root)
    selected = [m for m in everything if m.name == module]
    quiet = Console(file=io.StringIO(), stderr=False)
    self0, started = _self_cpu(), time.perf_counter()
    summary = autograde(root, everything, selected=selected, workers=workers, force=True, console=quiet)
    # (the sandboxes' CPU time is not measurable from here: their processes are killed or reaped
    # inside their own pid namespaces, so RUSAGE_CHILDREN misses most of it)
    return {"wall": time.perf_counter() - started, "supervisor_cpu": _self_cpu() - self0,
            "graded": summary.graded}


# --------------------------------------------------------------------------- the measurement

def plan(submissions: int, quick: bool = False) -> tuple[int, list[str]]:
    """(students, modules): every module (or the quick pair), enough students for `submissions`."""
    from tito import course

    names = list(QUICK_MODULES) if quick else [m.name for m in course.discover(REPO)]
    return max(1, math.ceil(submissions / len(names))), names


def run(submissions: int | None = None, *, quick: bool = False, workers: int | None = None,
        keep: bool = False) -> dict:
    from tito.grade.sandbox import Sandbox
    from tito.synth.generate import generate_class

    if submissions is None:
        submissions = int(os.environ.get(SUBMISSIONS_ENV, "4" if quick else DEFAULT_SUBMISSIONS))
    missing = Sandbox.missing_layers()
    if missing:
        return {"skipped": f"this machine cannot sandbox student code ({', '.join(missing)})"}
    students, modules = plan(submissions, quick)
    work = Path(tempfile.mkdtemp(prefix="tito-bench-grading-"))
    results = {"students": students, "modules": modules, "work": str(work), "kept": keep}
    try:
        stock_root = make_course(work / "stock")
        generate_class(stock_root, students, seed=SEED, modules=modules, mix=HONEST)
        ours_root = work / "ours"
        shutil.copytree(stock_root, ours_root)  # same submitted/ files, same fresh gradebook
        for name in modules:
            if not (ours_root / "source" / name / f"{name}.ipynb").is_file():
                raise RuntimeError(f"{name}: the course copy has no source notebook")

        from tito import course

        by_name = {m.name: m for m in course.discover(stock_root)}
        results["floor"] = {name: measure_floor(stock_root, by_name[name]) for name in modules}

        # Module by module, as a course grades each module after its deadline; within a module the
        # two graders run back to back, in an order that alternates between modules, so that the
        # other work on this shared machine weighs on both alike.
        log, stock, ours, graded, loads = work / "nbgrader.log", {}, {}, [], {}
        for position, name in enumerate(modules):
            loads[name] = _load()
            for side in (("stock", "ours") if position % 2 == 0 else ("ours", "stock")):
                if side == "stock":
                    stock[name] = run_stock(stock_root, name, log)
                else:
                    ours[name] = run_ours(ours_root, name, workers)
                    graded += ours[name].pop("graded")
        results["loads"] = loads
        results["load_after"] = _load()
        results["stock"] = {"wall": sum(r["wall"] for r in stock.values()),
                            "cpu": sum(r["cpu"] for r in stock.values()),
                            "per_module": {m: r["wall"] for m, r in stock.items()}}
        results["ours"] = {"wall": sum(r["wall"] for r in ours.values()),
                           "supervisor_cpu": sum(r["supervisor_cpu"] for r in ours.values()),
                           "per_module": {m: r["wall"] for m, r in ours.items()},
                           "workers": workers or os.cpu_count() or 1}
        results["count"] = len(graded)
        results["timings"] = [dict(r.timings, module=r.module, status=r.status) for r in graded]
        results["ours_lost"] = [f"{r.student}/{r.module} {c.grade_id}: {c.ename}: {(c.evalue or '')[:200]}"
                                for r in graded for c in r.cells if c.points < c.max_points]
        results["ours_errors"] = [f"{r.student}/{r.module}: {r.reason}" for r in graded if r.status != "graded"]

        stock_totals, ours_totals = gradebook_totals(stock_root), gradebook_totals(ours_root)
        stock_cells, ours_cells = gradebook_cells(stock_root), gradebook_cells(ours_root)
        keys = sorted(set(stock_totals) | set(ours_totals))
        results["totals"] = {"submissions": len(keys),
                             "full_marks": sum(1 for k in keys if stock_totals.get(k) == ours_totals.get(k) == 120.0),
                             "mismatches": [(k, stock_totals.get(k), ours_totals.get(k)) for k in keys
                                            if stock_totals.get(k) != ours_totals.get(k)]}
        cell_keys = sorted(set(stock_cells) | set(ours_cells))
        results["cells"] = {"cells": len(cell_keys),
                            "mismatches": [(k, stock_cells.get(k, "missing"), ours_cells.get(k, "missing"))
                                           for k in cell_keys if stock_cells.get(k, "missing") != ours_cells.get(k, "missing")]}
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    if results["totals"]["mismatches"] or results["cells"]["mismatches"] or results["ours_errors"] \
            or len(keys) != results["count"]:
        print("\n".join(report(results)), flush=True)
        raise ScoreMismatch(f"stock nbgrader and tito disagree: {results['totals']['mismatches'][:10]} "
                            f"{results['cells']['mismatches'][:10]} {results['ours_errors'][:3]}")
    return results


def report(results: dict) -> list[str]:
    title = "## Grading throughput: stock `nbgrader autograde` vs `tito autograde` (same honest class)"
    if "skipped" in results:
        return [title, "", f"Skipped: {results['skipped']}."]
    n = results["count"]
    workers = results["ours"]["workers"]
    stock, ours = results["stock"], results["ours"]
    ratio = stock["wall"] / ours["wall"]
    lines = [title, "",
             f"{n} submissions: {results['students']} students x {len(results['modules'])} modules "
             f"({', '.join(results['modules'])}), every one correct.", "",
             "| grader | wall s | s / submission | submissions / s |",
             "|---|---|---|---|",
             f"| stock nbgrader (one `autograde` call per module) | {stock['wall']:.1f} | {stock['wall'] / n:.2f} | "
             f"{n / stock['wall']:.3f} |",
             f"| tito autograde ({workers} workers, sandboxed, with checks) | {ours['wall']:.1f} | {ours['wall'] / n:.2f} | "
             f"{n / ours['wall']:.3f} |",
             "", f"Throughput ratio, tito / stock: **{ratio:.2f}x** (target >= {TARGET_RATIO:g}x: "
                 f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}). Stock nbgrader and its kernels used "
                 f"{stock['cpu']:.0f} CPU s ({stock['cpu'] / n:.2f} s per submission).",
             "Load average (1 min) at the start of each module: "
             + ", ".join(f"{m} {v:.2f}" for m, v in results["loads"].items())
             + f"; at the end {results['load_after']:.2f}.", ""]


    timings = results["timings"]
    stages = {
        "prepare": [t.get("prepare", 0.0) for t in timings],
        "plan (seed, reference's answers, student's module)": [t.get("plan", 0.0) for t in timings],
        "startup (sandboxed interpreter + imports)": [t.get("startup", 0.0) for t in timings],
        "execute - startup (student code + tests)": [t.get("execute", 0.0) - t.get("startup", 0.0) for t in timings],
        "checks (differential, forked in the same sandbox)": [t.get("checks", 0.0) for t in timings],
        "record (gradebook, supervisor)": [t.get("record", 0.0) for t in timings],
    }
    total = sum(t.get("total", 0.0) + t.get("record", 0.0) for t in timings)
    stages["other (read, select, scoring, review, autograded notebook)"] = [
        t.get("total", 0.0) - t.get("prepare", 0.0) - t.get("plan", 0.0) - t.get("execute", 0.0) - t.get("checks", 0.0)
        for t in timings]
    lines += ["Where tito's time goes (worker seconds, summed over submissions; the pool runs "
              f"{workers} at once):", "",
              "| stage | sum s | mean s / submission | share |", "|---|---|---|---|"]
    for name, values in stages.items():
        lines.append(f"| {name} | {sum(values):.1f} | {sum(values) / n:.3f} | {sum(values) / total:.1%} |")
    lines.append(f"| total | {total:.1f} | {total / n:.3f} | 100% |")
    idle = ours["wall"] * workers - total
    lines += ["", f"Pool: {workers} workers x {ours['wall']:.1f} s wall = {ours['wall'] * workers:.1f} worker-s, "
                  f"of which {total:.1f} s grading and {idle:.1f} s idle or scheduling (tail, supervisor); "
                  f"the supervisor process itself used {ours['supervisor_cpu']:.1f} CPU s. Checks include "
                  "computing the reference values once per module (a fresh course has no cache).", ""]

    per_module = {}
    for t in timings:
        per_module.setdefault(t["module"], []).append(t.get("total", 0.0))
    floor = results["floor"]
    counts = {m: len(v) for m, v in per_module.items()}
    floor_cpu = sum(floor[m]["cpu"] * counts.get(m, 0) for m in floor)
    lines += ["| module | submissions | stock wall s | tito wall s | ratio | tito worker s / submission | "
              "floor: reference cells CPU s / submission |", "|---|---|---|---|---|---|---|"]
    for m in results["modules"]:
        lines.append(f"| {m} | {counts.get(m, 0)} | {stock['per_module'][m]:.1f} | {ours['per_module'][m]:.1f} | "
                     f"{stock['per_module'][m] / ours['per_module'][m]:.2f} | "
                     f"{sum(per_module.get(m, [0])) / max(counts.get(m, 1), 1):.2f} | {floor[m]['cpu']:.3f} |")
    lines += ["", f"Floor (the student code's own CPU time: the cells grading runs of the reference notebook, "
                  f"in-process, no startup or imports): {floor_cpu:.1f} CPU s for the {n} submissions, "
                  f"{floor_cpu / n:.3f} s each; over {workers} workers **{floor_cpu / workers:.1f} s** wall "
                  f"(tito's wall is {ours['wall'] / (floor_cpu / workers):.1f}x that, stock's "
                  f"{stock['wall'] / floor_cpu:.1f}x the serial floor {floor_cpu:.1f} s)."]
    errors = [f"{m}: {e}" for m, f in floor.items() for e in f["errors"]]
    if errors:
        lines.append("Floor run errors (the floor is then too low): " + "; ".join(errors[:5]))
    totals, cells = results["totals"], results["cells"]
    lines += ["", f"Scores: {totals['submissions']} (student, module) totals compared, "
                  f"{len(totals['mismatches'])} differ; {cells['cells']} graded cells compared, "
                  f"{len(cells['mismatches'])} differ; {totals['full_marks']} submissions have full marks "
                  "on both sides."]
    for key, a, b in (totals["mismatches"][:10]):
        lines.append(f"- MISMATCH {key[0]}/{key[1]}: stock {a}, tito {b}")
    for key, a, b in (cells["mismatches"][:10]):
        lines.append(f"- MISMATCH {'/'.join(key)}: stock {a}, tito {b}")
    for lost in results.get("ours_lost", [])[:10]:
        lines.append(f"- tito: {lost}")
    for error in results.get("ours_errors", [])[:5]:
        lines.append(f"- tito could not grade {error}")
    if results.get("kept"):
        lines.append(f"Course copies kept in {results['work']}.")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grading", description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=None,
                        help=f"how many submissions (default ${SUBMISSIONS_ENV} or {DEFAULT_SUBMISSIONS})")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 students x 2 cheap modules")
    parser.add_argument("--workers", type=int, default=None, help="tito's workers (default: one per core)")
    parser.add_argument("--keep", action="store_true", help="keep the course copies (path printed)")
    args = parser.parse_args(argv)
    from benchmarks.environment import load_average, machine_summary

    print("\n".join(f"- {line}" for line in machine_summary()) + "\n", flush=True)
    print("\n".join(report(run(args.submissions, quick=args.quick, workers=args.workers, keep=args.keep))))
    print(f"\nAt the end: {load_average()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
