"""Fairness: an honest submission's grading time beside a CPU hog, in the same 2-worker batch.

The batch is two submissions of one module graded at once by two workers (`pipeline.grade_one`
on a thread pool, as `tito autograde` does), in a throwaway work folder of this course:

- *honest neighbour*: the honest submission (the instructor's solution, student `honest`) beside
  another honest one (`neighbour`);
- *hog neighbour*: the same honest submission beside a hog: the solution plus a cell of the
  student's that starts 8 busy processes, each in its own session (`setsid`), and a last cell
  that sleeps, so the hog burns CPU for the whole of the honest grading.

The figure is the honest submission's grading time (its `timings["total"]`, wall clock, the
checks included), the median of `--repeats` batches per scenario; the ratio hog / honest is what
the issue's target (within 2x) is about. Both scenarios run twice: with the per-sandbox cgroups
(a CPU share and a memory limit, `tito.grade.sandbox.Cgroup`) and without them (the fallback on a
host whose cgroups are not writable). The honest submission's score must stay full throughout:
a timeout the hog caused would cost it points (or be graded again, with a note).

`python -m benchmarks.fairness [--module 04_losses] [--repeats 3] [--hogs 8]`; also
`python -m benchmarks --only fairness`. Needs root and the sandbox (as grading does).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = 2.0
HOG = ("import subprocess as _subprocess, sys as _sys\n"
       "for _ in range({hogs}):\n"
       "    _subprocess.Popen(['setsid', _sys.executable, '-c', 'while True: pass'])\n")
LINGER = "import time as _time\n_time.sleep({seconds})\n"


def _notebooks(module, hogs: int, linger: float):
    import nbformat

    from tito.source import read_source

    honest = read_source(module.source_py)
    hog = read_source(module.source_py)
    first = next(i for i, c in enumerate(hog.cells) if c.cell_type == "code")
    hog.cells.insert(first + 1, nbformat.v4.new_code_cell(HOG.format(hogs=hogs)))
    hog.cells.append(nbformat.v4.new_code_cell(LINGER.format(seconds=linger)))
    return honest, hog


def _hogs_running() -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    count += f.read().endswith(b"while True: pass\0")
            except OSError:
                pass
    return count


def _wait_for_hogs(hogs: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while _hogs_running() < hogs and time.monotonic() < deadline:
        time.sleep(0.05)


def _batch(context, module, work: Path, honest, other, tag: str, hogs: int = 0) -> dict:
    """Grade `honest` and `other` at once on two workers; the honest one's result."""
    import nbformat

    from tito.grade import pipeline
    from tito.grade.model import Submission

    submissions = []
    for student, notebook in (("honest", honest), (f"other-{tag}", other)):
        folder = work / tag / "submitted" / student / module.name
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{module.name}.ipynb")
        submissions.append(Submission(student, module.name, folder))
    with ThreadPoolExecutor(max_workers=2) as pool:
        # the other one first: the hog's processes are running when the honest one starts
        other_future = pool.submit(pipeline.grade_one, context, submissions[1], None)
        if hogs:
            _wait_for_hogs(hogs)
        honest_result = pool.submit(pipeline.grade_one, context, submissions[0], None).result()
        other_result = other_future.result()
    return {"total": honest_result.timings.get("total", 0.0), "execute": honest_result.timings.get("execute", 0.0),
            "checks": honest_result.timings.get("checks", 0.0), "score": honest_result.score,
            "max": honest_result.max_score, "notes": [f.evidence for f in honest_result.flags if f.kind == "note"],
            "other_total": other_result.timings.get("total", 0.0)}


def run(module_name: str = "04_losses", repeats: int = 3, hogs: int = 8) -> dict:
    from tito.course import discover
    from tito.grade import pipeline
    from tito.grade import sandbox as sandbox_module
    from tito.grade.sandbox import Sandbox

    modules = list(discover(REPO))
    module = next(m for m in modules if m.name == module_name)
    results: dict = {"module": module_name, "repeats": repeats, "hogs": hogs, "cgroups": {}, "load": []}
    saved = list(sandbox_module._CGROUP)
    try:
        for mode in ("with cgroups", "without cgroups"):
            if mode == "without cgroups":
                sandbox_module._CGROUP[:] = [None]
                sandbox_module._CGROUP_PROBLEM[0] = "disabled by the benchmark"
            sandbox = Sandbox()
            results["cgroups"][mode] = (f"cgroup v{sandbox.cgroups.version}" if sandbox.cgroups else
                                        "none: " + "; ".join(Sandbox.missing_limits()))
            with tempfile.TemporaryDirectory(prefix="tito-fairness-") as tmp:
                work = Path(tmp)
                context = pipeline.GradingContext(REPO, modules, sandbox, work=work / "work", published=modules)
                (work / "work").mkdir(exist_ok=True)
                try:
                    honest, hog = _notebooks(module, hogs, linger=30.0)
                    context.published_lib(module)  # built once, outside the timings
                    for scenario, other in (("honest neighbour", honest), ("hog neighbour", hog)):
                        runs = []
                        for repeat in range(repeats):
                            runs.append(_batch(context, module, work, honest, other,
                                               f"{mode[:4]}-{scenario[:3]}-{repeat}",
                                               hogs if other is hog else 0))
                            results["load"].append(os.getloadavg()[0])
                            print(f"  {mode}, {scenario}, #{repeat + 1}: honest graded in "
                                  f"{runs[-1]['total']:.1f} s, {runs[-1]['score']:g}/{runs[-1]['max']:g}",
                                  file=sys.stderr, flush=True)
                        results.setdefault(mode, {})[scenario] = runs
                finally:
                    context.cleanup()
    finally:
        sandbox_module._CGROUP[:] = saved
    return results


def report(results: dict) -> list[str]:
    lines = [f"## Fairness: an honest submission beside a CPU hog ({results['module']}, 2 workers)", "",
             f"The honest submission's grading time (median of {results['repeats']} batches, wall clock, "
             f"checks included); the hog starts {results['hogs']} busy processes in their own sessions. "
             f"Target: hog / honest within {TARGET:g}x.", "",
             "| sandboxes | honest neighbour (s) | hog neighbour (s) | ratio | honest score beside the hog | notes |",
             "|---|---|---|---|---|---|"]
    verdicts = []
    for mode in ("with cgroups", "without cgroups"):
        scenarios = results.get(mode)
        if not scenarios:
            continue
        calm = statistics.median(r["total"] for r in scenarios["honest neighbour"])
        busy = statistics.median(r["total"] for r in scenarios["hog neighbour"])
        scores = sorted({f"{r['score']:g}/{r['max']:g}" for r in scenarios["hog neighbour"]})
        notes = sum(len(r["notes"]) for r in scenarios["hog neighbour"])
        ratio = busy / calm if calm else float("inf")
        lines.append(f"| {mode} ({results['cgroups'][mode]}) | {calm:.1f} | {busy:.1f} | {ratio:.1f}x | "
                     f"{', '.join(scores)} | {notes} regrade note(s) |")
        verdicts.append((mode, ratio))
    loads = results.get("load") or [0.0]
    lines += ["", f"Load average during the runs: {min(loads):.1f} to {max(loads):.1f} "
                  f"({os.cpu_count()} cores; other work shares this machine)."]
    for mode, ratio in verdicts:
        lines.append(f"- {mode}: {'within' if ratio <= TARGET else 'OVER'} the {TARGET:g}x target ({ratio:.1f}x).")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fairness", description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="04_losses")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--hogs", type=int, default=8)
    args = parser.parse_args(argv)
    print("\n".join(report(run(args.module, args.repeats, args.hogs))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
