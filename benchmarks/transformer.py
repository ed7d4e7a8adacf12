"""A transformer block, forward and backward: tinytorch vs PyTorch eager, side by side.

The workload: one pre-norm block (module 09's `TransformerBlock`; PyTorch's
`nn.TransformerEncoderLayer(norm_first=True, dropout=0, activation="relu", batch_first=True)`),
batch 32, sequence 64, width 128, 4 heads, MLP width 512, float32, with the causal mask. A step is
the forward pass and the backward pass of a fixed upstream gradient into every parameter and the
input; no optimizer. Both sides start from the same weights (copied, transposed for PyTorch's
(out, in) layout) and see the same input, and their outputs and input gradients are compared
(reported as a check that they do the same work).

Thread counts are set for both libraries at once (threadpoolctl for every BLAS/OpenMP library in
the process, `torch.set_num_threads` for PyTorch's pool). Within each repeat the contenders run one
after the other, in an order that alternates between repeats, so machine noise hits both.

The profile splits tinytorch's step into forward and backward, and lists where cProfile sees the
self time (numpy's operators are not Python functions: an `a @ b` inside `matmul_rule` is that
rule's self time). The last part times the training that tests/test_tinytorch_attention.py asserts:
a tiny transformer reversing digit sequences to 99% token accuracy, on one thread.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import statistics
import time

import numpy as np

from benchmarks.speed_table import speed_table

BATCH, LENGTH, WIDTH, HEADS, HIDDEN = 32, 64, 128, 4, 512
STEPS_PER_TIMING = 5


def make_inputs(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, LENGTH, WIDTH)).astype(np.float32)
    upstream = rng.standard_normal((BATCH, LENGTH, WIDTH)).astype(np.float32)
    return x, upstream


class TinytorchRun:
    name = "tinytorch"

    def __init__(self, x, upstream):
        from tinytorch.core.attention import TransformerBlock, causal_mask
        from tinytorch.core.tensor import Tensor

        self.Tensor = Tensor
        self.block = TransformerBlock(WIDTH, HEADS, HIDDEN, rng=np.random.default_rng(1))
        self.mask = causal_mask(LENGTH)
        self.x, self.upstream = x, upstream

    def forward(self):
        self.block.zero_grad()
        self.input = self.Tensor(self.x, requires_grad=True)
        return self.block(self.input, self.mask)

    def step(self):
        out = self.forward()
        out.backward(self.upstream)
        return out.data, self.input.grad.data


class TorchRun:
    name = "torch"

    def __init__(self, x, upstream, ours):
        import torch

        self.torch = torch
        layer = torch.nn.TransformerEncoderLayer(WIDTH, HEADS, dim_feedforward=HIDDEN, dropout=0.0,
                                                 activation="relu", batch_first=True, norm_first=True)
        copy_block(torch, ours, layer)
        self.layer = layer
        self.mask = torch.from_numpy(~np.tril(np.ones((LENGTH, LENGTH), dtype=bool)))  # True = blocked
        self.x, self.upstream = torch.from_numpy(x), torch.from_numpy(upstream)

    def forward(self):
        self.layer.zero_grad()
        self.input = self.x.clone().requires_grad_(True)
        return self.layer(self.input, src_mask=self.mask)

    def step(self):
        out = self.forward()
        out.backward(self.upstream)
        return out.detach().numpy(), self.input.grad.numpy()


def copy_block(torch, ours, theirs) -> None:
    """Our block's weights into PyTorch's layer: Dense (in, out) -> Linear (out, in), and the three
    attention projections into the packed `in_proj_weight`."""
    attention = ours.self_attn
    projections = (attention.q_proj, attention.k_proj, attention.v_proj)
    with torch.no_grad():
        theirs.self_attn.in_proj_weight.copy_(torch.from_numpy(np.concatenate([p.weights.data.T for p in projections])))
        theirs.self_attn.in_proj_bias.copy_(torch.from_numpy(np.concatenate([p.bias.data for p in projections])))
        for mine, its in ((attention.out_proj, theirs.self_attn.out_proj), (ours.linear1, theirs.linear1),
                          (ours.linear2, theirs.linear2)):
            its.weight.copy_(torch.from_numpy(mine.weights.data.T.copy()))
            its.bias.copy_(torch.from_numpy(mine.bias.data.copy()))


def _timed(run) -> float:
    """Seconds per step, over STEPS_PER_TIMING steps."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(STEPS_PER_TIMING):
        run.step()
    return (time.perf_counter() - start) / STEPS_PER_TIMING


def _phases(run, steps: int = 10) -> dict:
    """Seconds per step in the forward and in the backward pass."""
    forward = backward = 0.0
    for _ in range(steps):
        t0 = time.perf_counter()
        out = run.forward()
        t1 = time.perf_counter()
        out.backward(run.upstream)
        t2 = time.perf_counter()
        forward, backward = forward + t1 - t0, backward + t2 - t1
    return {"forward": forward / steps, "backward": backward / steps}


def _profile(run, top: int = 10) -> list[tuple[str, float, int]]:
    """(function, share of the profiled time, calls) for the `top` functions by self time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(STEPS_PER_TIMING):
        run.step()
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(row[2] for row in stats.values())
    rows = sorted(((f"{func[2]} ({func[0].rsplit('/', 1)[-1]}:{func[1]})", row[2] / total, row[1])
                   for func, row in stats.items()), key=lambda r: -r[1])
    return rows[:top]


def train_reversal(length: int = 16, digits: int = 10, steps: int = 300, seed: int = 0):
    """A 2-block transformer (width 32, 2 heads) trained with Adam (lr 0.005) on fresh random
    batches of 64 sequences of `length` digits, checked every 25 steps on 1000 unseen sequences
    until 99% of their tokens are reversed right. Returns (token accuracy, seconds, steps)."""
    from tinytorch.core.attention import TransformerModel
    from tinytorch.core.autograd import no_grad
    from tinytorch.core.losses import cross_entropy
    from tinytorch.core.optimizers import Adam
    from tinytorch.core.tensor import Tensor

    rng = np.random.default_rng(seed)
    model = TransformerModel(digits, 32, 2, num_layers=2, rng=rng)
    optimizer = Adam(model.parameters(), lr=0.005)
    test = rng.integers(0, digits, (1000, length))
    started = time.perf_counter()
    for step in range(1, steps + 1):
        ids = rng.integers(0, digits, (64, length))
        loss = cross_entropy(model(ids).reshape(-1, digits), Tensor(ids[:, ::-1].reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 25 == 0:
            with no_grad():
                accuracy = float(np.mean(model(test).data.argmax(axis=-1) == test[:, ::-1]))
            if accuracy >= 0.99:
                break
    return accuracy, time.perf_counter() - started, step


def run(threads=(1, 2), repeats: int = 7) -> dict:
    from threadpoolctl import threadpool_limits

    try:
        import torch
    except ImportError:
        torch = None
    x, upstream = make_inputs()
    results = {"threads": {}, "repeats": repeats, "agreement": None}
    for n in threads:
        with threadpool_limits(limits=n):
            if torch is not None:
                torch.set_num_threads(n)
            ours = TinytorchRun(x, upstream)
            runs = [ours] + ([TorchRun(x, upstream, ours.block)] if torch is not None else [])
            if torch is not None and results["agreement"] is None:
                (out_a, grad_a), (out_b, grad_b) = runs[0].step(), runs[1].step()
                results["agreement"] = (float(np.max(np.abs(out_a - out_b)) / np.max(np.abs(out_b))),
                                        float(np.max(np.abs(grad_a - grad_b)) / np.max(np.abs(grad_b))))
            for r in runs:  # warm-up: first calls allocate, load kernels, fill caches
                r.step()
            times = {r.name: [] for r in runs}
            for repeat in range(repeats):
                for r in (runs if repeat % 2 == 0 else runs[::-1]):
                    times[r.name].append(_timed(r))
            results["threads"][n] = {name: {"median": statistics.median(t), "min": min(t)}
                                     for name, t in times.items()}
            if n == 1:
                results["phases"] = {r.name: _phases(r) for r in runs}
                results["profile"] = _profile(ours)
    with threadpool_limits(limits=1):
        results["reversal"] = train_reversal()
    return results


def report(results: dict) -> list[str]:
    lines = [f"## A transformer block, forward + backward (batch {BATCH}, sequence {LENGTH}, width {WIDTH}, "
             f"{HEADS} heads, MLP {HIDDEN}, causal mask, float32)", ""]
    lines += speed_table(results["threads"], "ms/step")
    lines += ["", f"{results['repeats']} timings of {STEPS_PER_TIMING} steps per contender and thread count, "
                  f"interleaved (order alternating), after a warm-up step."]
    if results["agreement"] is not None:
        out, grad = results["agreement"]
        lines.append(f"Same weights, same input: outputs differ by at most {out:.1e} and input gradients by "
                     f"{grad:.1e} (relative to their largest element; float32).")
    lines += ["", "Per step at 1 thread (ms): " + "; ".join(
        f"{name} forward {1000 * p['forward']:.1f}, backward {1000 * p['backward']:.1f}"
        for name, p in results["phases"].items()), "",
        "Where tinytorch's time goes (cProfile self time, 1 thread):", "",
        "| function | share | calls |", "|---|---|---|"]
    lines += [f"| `{name}` | {share:.0%} | {calls} |" for name, share, calls in results["profile"]]
    accuracy, seconds, steps = results["reversal"]
    lines += ["", f"Reversing 16-digit sequences (2 blocks, width 32, 2 heads, batches of 64, Adam, 1 thread): "
                  f"{accuracy:.1%} token accuracy on 1000 unseen sequences after {steps} steps, in {seconds:.1f} s."]
    return lines
