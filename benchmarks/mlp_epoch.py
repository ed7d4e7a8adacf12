"""One training epoch of a 784-128-10 MLP: tinytorch vs PyTorch eager, side by side.

The workload: 60,000 seeded random float32 inputs in [0, 1) (MNIST's shape), random labels 0-9,
mini-batches of 128 in a fixed order (469 steps, the last of 96 rows), Dense(784, 128) -> ReLU ->
Dense(128, 10) -> cross-entropy, SGD with lr 0.1. Every step is zero_grad, forward, loss,
backward, update, exactly as a training loop runs it.

Both start from the same initial weights and see the same batches, so their losses agree step by
step (reported as a check that the two sides do the same work). A third column, `numpy`, is the
same epoch written by hand in numpy with no graph at all: the floor any numpy engine can reach.

Thread counts are set for both libraries at once (threadpoolctl for every BLAS/OpenMP library in
the process, `torch.set_num_threads` for PyTorch's own pool). Within each repeat the contenders run
one after the other, in an order that alternates between repeats, so machine noise hits both.
"""

from __future__ import annotations

import gc
import statistics
import time

import numpy as np

N_SAMPLES, N_IN, N_HIDDEN, N_OUT = 60_000, 784, 128, 10
BATCH, LR = 128, 0.1


def make_data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((N_SAMPLES, N_IN), dtype=np.float32)
    labels = rng.integers(0, N_OUT, N_SAMPLES)
    return x, labels


def initial_weights(seed: int = 1):
    """Glorot-uniform weights in tinytorch's (in, out) layout, zero biases."""
    rng = np.random.default_rng(seed)
    out = []
    for fan_in, fan_out in ((N_IN, N_HIDDEN), (N_HIDDEN, N_OUT)):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        out.append((rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32),
                    np.zeros(fan_out, dtype=np.float32)))
    return out


# --------------------------------------------------------------------------- tinytorch

class TinytorchRun:
    name = "tinytorch"

    def __init__(self, x, labels, weights):
        from tinytorch.core.activations import ReLU
        from tinytorch.core.layers import Dense, Sequential
        from tinytorch.core.losses import CrossEntropyLoss
        from tinytorch.core.optimizers import SGD
        from tinytorch.core.tensor import Tensor

        self.Tensor = Tensor
        self.model = Sequential(Dense(N_IN, N_HIDDEN), ReLU(), Dense(N_HIDDEN, N_OUT))
        for layer, (w, b) in zip((self.model[0], self.model[2]), weights):
            layer.weights.data = w.copy()
            layer.bias.data = b.copy()
        self.loss_fn = CrossEntropyLoss()
        self.optimizer = SGD(self.model.parameters(), lr=LR)
        self.x = x
        self.labels = labels.astype(np.float32)  # tinytorch's dtype policy for label tensors

    def epoch(self, batches: int | None = None) -> list[float]:
        Tensor, model, loss_fn, optimizer = self.Tensor, self.model, self.loss_fn, self.optimizer
        losses = []
        for step, start in enumerate(range(0, len(self.x), BATCH)):
            if batches is not None and step == batches:
                break
            inputs = Tensor(self.x[start:start + BATCH])
            targets = Tensor(self.labels[start:start + BATCH])
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.data)
        return [float(v) for v in losses]


# --------------------------------------------------------------------------- PyTorch eager

class TorchRun:
    name = "torch"

    def __init__(self, x, labels, weights):
        import torch
        import torch.nn.functional as F

        self.torch, self.F = torch, F
        self.fc1 = torch.nn.Linear(N_IN, N_HIDDEN)
        self.fc2 = torch.nn.Linear(N_HIDDEN, N_OUT)
        with torch.no_grad():
            for layer, (w, b) in zip((self.fc1, self.fc2), weights):
                layer.weight.copy_(torch.from_numpy(w.T.copy()))  # torch stores (out, in)
                layer.bias.copy_(torch.from_numpy(b))
        self.optimizer = torch.optim.SGD([*self.fc1.parameters(), *self.fc2.parameters()], lr=LR)
        self.x = torch.from_numpy(x)
        self.labels = torch.from_numpy(labels.astype(np.int64))

    def epoch(self, batches: int | None = None) -> list[float]:
        F, fc1, fc2, optimizer = self.F, self.fc1, self.fc2, self.optimizer
        losses = []
        for step, start in enumerate(range(0, len(self.x), BATCH)):
            if batches is not None and step == batches:
                break
            inputs = self.x[start:start + BATCH]
            targets = self.labels[start:start + BATCH]
            optimizer.zero_grad()
            loss = F.cross_entropy(fc2(F.relu(fc1(inputs))), targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
        return [float(v) for v in losses]


# --------------------------------------------------------------------------- numpy floor

class NumpyRun:
    """The same epoch by hand: no graph, no objects, the minimum of array operations."""

    name = "numpy"

    def __init__(self, x, labels, weights):
        (self.w1, self.b1), (self.w2, self.b2) = [(w.copy(), b.copy()) for w, b in weights]
        self.x, self.labels = x, labels

    def epoch(self, batches: int | None = None) -> list[float]:
        w1, b1, w2, b2 = self.w1, self.b1, self.w2, self.b2
        losses = []
        for step, start in enumerate(range(0, len(self.x), BATCH)):
            if batches is not None and step == batches:
                break
            x, y = self.x[start:start + BATCH], self.labels[start:start + BATCH]
            n = len(x)
            z1 = x @ w1 + b1
            h = np.maximum(z1, 0)
            z2 = h @ w2 + b2
            shifted = z2 - z2.max(axis=1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            rows = np.arange(n)
            losses.append(-log_probs[rows, y].mean())
            dz2 = np.exp(log_probs)
            dz2[rows, y] -= 1
            dz2 /= n
            dw2, db2 = h.T @ dz2, dz2.sum(axis=0)
            dz1 = (dz2 @ w2.T) * (z1 > 0)
            dw1, db1 = x.T @ dz1, dz1.sum(axis=0)
            w1 -= LR * dw1
            b1 -= LR * db1
            w2 -= LR * dw2
            b2 -= LR * db2
        return [float(v) for v in losses]


# --------------------------------------------------------------------------- the measurement

def _timed_epoch(run) -> float:
    gc.collect()
    start = time.perf_counter()
    run.epoch()
    return time.perf_counter() - start


def run(threads=(1, 2), repeats: int = 7, include_numpy: bool = True) -> dict:
    from threadpoolctl import threadpool_limits

    try:
        import torch
    except ImportError:
        torch = None
    x, labels = make_data()
    weights = initial_weights()
    kinds = [TinytorchRun] + ([TorchRun] if torch is not None else []) + \
            ([NumpyRun] if include_numpy else [])

    # The two sides compute the same thing: same first 20 losses from the same weights.
    agreement = None
    if torch is not None:
        with threadpool_limits(limits=1):
            torch.set_num_threads(1)
            a = TinytorchRun(x, labels, weights).epoch(batches=20)
            b = TorchRun(x, labels, weights).epoch(batches=20)
        agreement = max(abs(p - q) / abs(q) for p, q in zip(a, b))

    results = {"threads": {}, "loss_agreement": agreement, "repeats": repeats,
               "steps": -(-N_SAMPLES // BATCH)}
    for n in threads:
        with threadpool_limits(limits=n):
            if torch is not None:
                torch.set_num_threads(n)
            runs = [kind(x, labels, weights) for kind in kinds]
            for r in runs:  # warm-up: first calls allocate, load kernels, fill caches
                r.epoch(batches=30)
            times = {r.name: [] for r in runs}
            for repeat in range(repeats):
                order = runs if repeat % 2 == 0 else runs[::-1]
                for r in order:
                    times[r.name].append(_timed_epoch(r))
        results["threads"][n] = {name: {"median": statistics.median(t), "min": min(t), "all": t}
                                 for name, t in times.items()}
    return results


def report(results: dict) -> list[str]:
    lines = ["## One epoch of a 784-128-10 MLP (60,000 samples, batch 128, float32, SGD lr 0.1)", ""]
    names = list(next(iter(results["threads"].values())))
    header = "| threads | " + " | ".join(f"{n} median (min) s" for n in names)
    has_torch = "torch" in names
    if has_torch:
        header += " | tinytorch / torch |"
    if "numpy" in names:
        header += " tinytorch / numpy floor |"
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for n, timing in results["threads"].items():
        row = f"| {n} | " + " | ".join(f"{timing[k]['median']:.3f} ({timing[k]['min']:.3f})"
                                       for k in names)
        if has_torch:
            row += f" | **{timing['tinytorch']['median'] / timing['torch']['median']:.2f}** |"
        if "numpy" in names:
            row += f" {timing['tinytorch']['median'] / timing['numpy']['median']:.2f} |"
        lines.append(row)
    lines += ["", f"{results['repeats']} timed epochs per contender and thread count, interleaved "
                  f"(order alternating), after a 30-step warm-up; {results['steps']} steps per epoch."]
    if results["loss_agreement"] is not None:
        lines.append(f"Same weights, same batches: the first 20 losses of tinytorch and PyTorch differ "
                     f"by at most {results['loss_agreement']:.1e} (relative).")
    return lines
