"""Where a tinytorch epoch spends its time: phases of a step, and cProfile over one epoch.

Phases: one epoch of the MLP benchmark at 1 thread with a clock read between the phases of every
step (zero_grad, forward, loss, backward, update), for tinytorch and PyTorch; the total per phase
divided by the number of steps. Reading the clock costs well under a microsecond.

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


PHASES = ("zero_grad", "forward", "loss", "backward", "update")


def tinytorch_phases(run) -> dict:
    from time import perf_counter

    Tensor, model, loss_fn, optimizer = run.Tensor, run.model, run.loss_fn, run.optimizer
    totals = dict.fromkeys(PHASES, 0.0)
    steps = 0
    for start in range(0, len(run.x), 128):
        inputs, targets = Tensor(run.x[start:start + 128]), Tensor(run.labels[start:start + 128])
        t0 = perf_counter()
        optimizer.zero_grad()
        t1 = perf_counter()
        logits = model(inputs)
        t2 = perf_counter()
        loss = loss_fn(logits, targets)
        t3 = perf_counter()
        loss.backward()
        t4 = perf_counter()
        optimizer.step()
        t5 = perf_counter()
        for phase, took in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            totals[phase] += took
        steps += 1
    return {phase: total / steps for phase, total in totals.items()}


def torch_phases(run) -> dict:
    from time import perf_counter

    F, fc1, fc2, optimizer = run.F, run.fc1, run.fc2, run.optimizer
    totals = dict.fromkeys(PHASES, 0.0)
    steps = 0
    for start in range(0, len(run.x), 128):
        inputs, targets = run.x[start:start + 128], run.labels[start:start + 128]
        t0 = perf_counter()
        optimizer.zero_grad()
        t1 = perf_counter()
        logits = fc2(F.relu(fc1(inputs)))
        t2 = perf_counter()
        loss = F.cross_entropy(logits, targets)
        t3 = perf_counter()
        loss.backward()
        t4 = perf_counter()
        optimizer.step()
        t5 = perf_counter()
        for phase, took in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            totals[phase] += took
        steps += 1
    return {phase: total / steps for phase, total in totals.items()}


def run(threads: int = 1, top: int = 15, phase_threads=(1, 2)) -> dict:
    from threadpoolctl import threadpool_limits

    from benchmarks.mlp_epoch import TinytorchRun, TorchRun, initial_weights, make_data

    try:
        import torch
    except ImportError:
        torch = None
    x, labels = make_data()
    phases = {}
    for n in phase_threads:
        with threadpool_limits(limits=n):
            runner = TinytorchRun(x, labels, initial_weights())
            runner.epoch(batches=30)
            phases[f"tinytorch, {n} thread{'s' if n > 1 else ''}"] = tinytorch_phases(runner)
            if torch is not None:
                torch.set_num_threads(n)
                other = TorchRun(x, labels, initial_weights())
                other.epoch(batches=30)
                phases[f"torch, {n} thread{'s' if n > 1 else ''}"] = torch_phases(other)
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
    return {"threads": threads, "total": total, "top": rows[:top], "phases": phases,
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
    phases = results["phases"]
    names = list(phases)
    lines = ["## Phases of a training step (mean over one epoch, microseconds)", "",
             "| phase | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for phase in PHASES + ("step",):
        cells = [sum(phases[n].values()) if phase == "step" else phases[n][phase] for n in names]
        lines.append(f"| {phase} | " + " | ".join(f"{c * 1e6:.0f}" for c in cells) + " |")
    lines += ["", f"## Profile of one tinytorch epoch (cProfile, {results['threads']} thread; "
             f"profiled total {total:.2f} s)", "",
             "| function (self time) | calls | self s | share | cumulative s |", "|---|---|---|---|---|"]
    for r in results["top"]:
        lines.append(f"| `{r['where']}` | {r['calls']:,} | {r['tottime']:.3f} | "
                     f"{r['tottime'] / total:.1%} | {r['cumtime']:.3f} |")
    lines += ["", "Self time by file:", ""]
    lines += [f"- {label}: {t:.3f} s ({t / total:.1%})" for label, t in results["by_file"][:8]]
    return lines
