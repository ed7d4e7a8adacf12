"""Where a tinytorch epoch spends its time: cProfile over one epoch of the MLP benchmark.

Self time ("tottime") is the time spent in a function's own code, including the numpy calls it
makes directly: an `a @ b` inside `matmul_rule` counts as `matmul_rule`'s self time, because
numpy's operators are not Python functions and cProfile does not see them. cProfile also adds a
fixed cost to every Python call, so the shares of small, often-called functions are inflated; the
un-profiled epoch time is in the MLP table.
"""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path


def run(threads: int = 1, top: int = 15) -> dict:
    from threadpoolctl import threadpool_limits

    from benchmarks.mlp_epoch import TinytorchRun, initial_weights, make_data

    x, labels = make_data()
    with threadpool_limits(limits=threads):
        runner = TinytorchRun(x, labels, initial_weights())
        runner.epoch(batches=30)
        profiler = cProfile.Profile()
        profiler.enable()
        runner.epoch()
        profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    rows = []
    for (filename, line, function), (_, calls, tottime, cumtime, _) in stats.stats.items():
        rows.append({"where": _where(filename, line, function), "calls": calls,
                     "tottime": tottime, "cumtime": cumtime, "file": filename})
    rows.sort(key=lambda r: r["tottime"], reverse=True)
    by_file = {}
    for r in rows:
        key = _file_label(r["file"])
        by_file[key] = by_file.get(key, 0.0) + r["tottime"]
    return {"threads": threads, "total": total, "top": rows[:top],
            "by_file": sorted(by_file.items(), key=lambda kv: kv[1], reverse=True)}


def _file_label(filename: str) -> str:
    path = Path(filename)
    if "tinytorch" in path.parts:
        return "tinytorch/" + "/".join(path.parts[path.parts.index("tinytorch") + 1:])
    if filename.startswith("~") or filename == "<built-in>":
        return "builtins (numpy reductions, isinstance, ...)"
    if "numpy" in path.parts:
        return "numpy (Python-level wrappers)"
    return path.name


def _where(filename: str, line: int, function: str) -> str:
    if filename == "~":
        return function
    return f"{_file_label(filename)}:{line} {function}"


def report(results: dict) -> list[str]:
    total = results["total"]
    lines = [f"## Profile of one tinytorch epoch (cProfile, {results['threads']} thread; "
             f"profiled total {total:.2f} s)", "",
             "| function (self time) | calls | self s | share | cumulative s |", "|---|---|---|---|---|"]
    for r in results["top"]:
        lines.append(f"| `{r['where']}` | {r['calls']:,} | {r['tottime']:.3f} | "
                     f"{r['tottime'] / total:.1%} | {r['cumtime']:.3f} |")
    lines += ["", "Self time by file:", ""]
    lines += [f"- {label}: {t:.3f} s ({t / total:.1%})" for label, t in results["by_file"][:8]]
    return lines
