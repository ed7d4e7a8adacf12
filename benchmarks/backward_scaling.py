"""Backward time per graph node: does a backward pass cost the same per node at any graph size?

Chains: `x = x * 1.0001 + 0.0` repeated, on a float64 scalar, gives two recorded operations per
repetition; chains of 1,000, 10,000 and 100,000 nodes are built, and only `backward()` is timed.
A linear-time engine costs the same per node at every size (the ratio of the largest size's cost
per node to the smallest's is about 1); a quadratic one, or one whose recursion degrades with
depth, shows a growing ratio. Each gradient is checked against 1.0001^(nodes / 2).

Diamond: `p = p * 0.5 + p * 0.5` repeated 40 times: 2^40 paths from the output to the leaf. An
engine that walks each path separately never finishes; one that visits each node once takes
microseconds, and the gradient is exactly 1.

The garbage collector is switched off while timing (building a 100,000-node graph otherwise
triggers collections inside the timed region) and PyTorch's eager autograd is timed on the same
graphs for scale.
"""

from __future__ import annotations

import gc
import statistics
import time

import numpy as np

SIZES = (1_000, 10_000, 100_000)
DIAMOND_LEVELS = 40


def _time_backward(build, repeats: int) -> tuple[list[float], object]:
    times, leaf = [], None
    for _ in range(repeats):
        leaf, out = build()
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            out.backward()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
        del out
    return times, leaf


def tinytorch_chain(nodes: int):
    from tinytorch.core.tensor import Tensor

    def build():
        leaf = Tensor(np.array(1.0), requires_grad=True)
        x = leaf
        for _ in range(nodes // 2):
            x = x * 1.0001 + 0.0
        return leaf, x
    return build


def torch_chain(nodes: int):
    import torch

    def build():
        leaf = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
        x = leaf
        for _ in range(nodes // 2):
            x = x * 1.0001 + 0.0
        return leaf, x
    return build


def tinytorch_diamond():
    from tinytorch.core.tensor import Tensor

    def build():
        leaf = Tensor(np.array(1.0), requires_grad=True)
        p = leaf
        for _ in range(DIAMOND_LEVELS):
            p = p * 0.5 + p * 0.5
        return leaf, p
    return build


def run(repeats: int = 5) -> dict:
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    chains = {}
    for nodes in SIZES:
        reps = max(repeats, min(50, 100_000 // nodes))  # small graphs: more repeats, less noise
        times, leaf = _time_backward(tinytorch_chain(nodes), reps)
        expected = 1.0001 ** (nodes // 2)
        grad = float(np.asarray(leaf.grad.data))
        row = {"tinytorch_us": statistics.median(times) / nodes * 1e6,
               "tinytorch_min_us": min(times) / nodes * 1e6,
               "grad_error": abs(grad - expected) / expected}
        if have_torch:
            t_times, _ = _time_backward(torch_chain(nodes), reps)
            row["torch_us"] = statistics.median(t_times) / nodes * 1e6
            row["torch_min_us"] = min(t_times) / nodes * 1e6
        chains[nodes] = row
    d_times, leaf = _time_backward(tinytorch_diamond(), repeats)
    return {"chains": chains, "diamond_s": statistics.median(d_times),
            "diamond_grad": float(np.asarray(leaf.grad.data)), "have_torch": have_torch}


def report(results: dict) -> list[str]:
    chains = results["chains"]
    lines = ["## Backward time per graph node (chains of `x = x * 1.0001 + 0.0`, float64 scalar)", ""]
    torch_column = " torch us/node, median (min) |" if results["have_torch"] else ""
    header = "| nodes | tinytorch us/node, median (min) |" + torch_column + " gradient rel. error |"
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for nodes, row in chains.items():
        line = f"| {nodes:,} | {row['tinytorch_us']:.2f} ({row['tinytorch_min_us']:.2f}) |"
        if results["have_torch"]:
            line += f" {row['torch_us']:.2f} ({row['torch_min_us']:.2f}) |"
        lines.append(line + f" {row['grad_error']:.1e} |")
    smallest, largest = chains[min(chains)], chains[max(chains)]
    lines += ["", f"tinytorch's cost per node, largest / smallest chain: "
                  f"**{largest['tinytorch_us'] / smallest['tinytorch_us']:.2f}** by medians, "
                  f"{largest['tinytorch_min_us'] / smallest['tinytorch_min_us']:.2f} by minima "
                  f"(1.0 = perfectly linear)."]
    lines.append(f"Diamond of {DIAMOND_LEVELS} levels (2^{DIAMOND_LEVELS} paths, "
                 f"{3 * DIAMOND_LEVELS} nodes): backward {results['diamond_s'] * 1e6:.0f} us, "
                 f"gradient {results['diamond_grad']!r} (exact: 1.0).")
    return lines
