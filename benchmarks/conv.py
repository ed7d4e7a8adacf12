"""Two convolution layers, forward and backward: tinytorch (module 08) vs PyTorch eager, side by side.

The workload: batches of 64 seeded random float32 images of 1 x 28 x 28 (MNIST's shape),
Conv2d(1, 16, 3) -> ReLU -> Conv2d(16, 32, 3) (no padding: 26 x 26, then 24 x 24), the sum of the
output as the loss, then backward to every weight, bias and nothing else (the images need no
gradient). One step is zero_grad, forward, backward; a timed run is 20 steps over 20 different
batches. Both sides start from the same weights, and their weight gradients are compared once (a
check that they do the same work).

Thread counts are set for both libraries at once (threadpoolctl for numpy's BLAS, torch's own
pool with `torch.set_num_threads`); within each repeat the two run one after the other, in an
order that alternates between repeats. A profile of tinytorch's step (cProfile, one thread) says
where its time goes, and the matrix-product floor says how much of it no numpy code can save: the
second layer's three products (forward, weight gradient, columns' gradient) timed alone, once in
the layout module 08 teaches (a batch of (C*k*k, H_out*W_out) column blocks) and once in the
layouts OpenBLAS runs fastest on this machine (one product over the whole batch, each operand in
the orientation that timed best), beside PyTorch's whole step.
"""

from __future__ import annotations

import cProfile
import gc
import pstats
import statistics
import time

import numpy as np

from benchmarks.speed_table import speed_table

BATCH, STEPS, SIZE = 64, 20, 28
CHANNELS = (1, 16, 32)
KERNEL = 3


def make_data(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((STEPS, BATCH, CHANNELS[0], SIZE, SIZE), dtype=np.float32)


def initial_weights(seed: int = 1):
    """PyTorch's initialisation (uniform in +-1/sqrt(fan_in)) for both layers, as float32."""
    rng = np.random.default_rng(seed)
    out = []
    for c_in, c_out in zip(CHANNELS[:-1], CHANNELS[1:]):
        bound = 1 / np.sqrt(c_in * KERNEL * KERNEL)
        out.append((rng.uniform(-bound, bound, (c_out, c_in, KERNEL, KERNEL)).astype(np.float32),
                    rng.uniform(-bound, bound, c_out).astype(np.float32)))
    return out


class TinytorchRun:
    name = "tinytorch"

    def __init__(self, images, weights):
        from tinytorch.core.activations import ReLU
        from tinytorch.core.layers import Sequential
        from tinytorch.core.spatial import Conv2d
        from tinytorch.core.tensor import Tensor

        self.Tensor, self.images = Tensor, images
        self.model = Sequential(Conv2d(1, 16, KERNEL), ReLU(), Conv2d(16, 32, KERNEL))
        for layer, (w, b) in zip((self.model[0], self.model[2]), weights):
            layer.weight.data, layer.bias.data = w.copy(), b.copy()

    def steps(self, count: int = STEPS) -> None:
        for batch in self.images[:count]:
            self.model.zero_grad()
            self.model(self.Tensor(batch)).sum().backward()

    def weight_gradients(self) -> list[np.ndarray]:
        return [self.model[0].weight.grad.data, self.model[2].weight.grad.data]


class TorchRun:
    name = "torch"

    def __init__(self, images, weights):
        import torch

        self.torch, self.F = torch, torch.nn.functional
        self.images = torch.from_numpy(images)
        self.params = [torch.tensor(a, requires_grad=True) for w, b in weights for a in (w, b)]

    def steps(self, count: int = STEPS) -> None:
        F, (w1, b1, w2, b2) = self.F, self.params
        for batch in self.images[:count]:
            for p in self.params:
                p.grad = None
            F.conv2d(F.relu(F.conv2d(batch, w1, b1)), w2, b2).sum().backward()

    def weight_gradients(self) -> list[np.ndarray]:
        return [self.params[0].grad.numpy(), self.params[2].grad.numpy()]


def _timed(run) -> float:
    gc.collect()
    start = time.perf_counter()
    run.steps()
    return time.perf_counter() - start


def profile(images, weights, top: int = 8) -> list[tuple[str, float, float]]:
    """(function, seconds of its own, share of the step) for tinytorch's busiest functions, one thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        run = TinytorchRun(images, weights)
        run.steps(2)
        profiler = cProfile.Profile()
        profiler.enable()
        run.steps()
        profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(entry[2] for entry in stats.values())
    rows = sorted(((f"{name} ({file.rsplit('/', 1)[-1]}:{line})" if line else name, entry[2])
                   for (file, line, name), entry in stats.items()), key=lambda row: -row[1])
    return [(name, seconds / STEPS, seconds / total) for name, seconds in rows[:top]]


def _median_ms(product, repeats: int) -> float:
    product()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        product()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def _second_layer_operands(seed: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns (N, C*k*k, P), weight matrix (C_out, C*k*k), output gradient (N, C_out, P) of layer 2."""
    rng = np.random.default_rng(seed)
    c_in, c_out = CHANNELS[1], CHANNELS[2]
    positions = (SIZE - 2 * (KERNEL - 1)) ** 2
    cols = rng.random((BATCH, c_in * KERNEL * KERNEL, positions), dtype=np.float32)
    weight = rng.random((c_out, c_in * KERNEL * KERNEL), dtype=np.float32)
    grad = rng.random((BATCH, c_out, positions), dtype=np.float32)
    return cols, weight, grad


def matrix_product_floor(repeats: int = 21) -> dict:
    """ms for the second layer's three products alone, in the taught layout and in the fastest one.

    The taught layout is what `conv2d` and `conv2d_rule` multiply (numpy loops over the batch):
    W_m @ cols, G @ cols^T summed over the batch, W_m^T @ G. The fastest is the best orientation
    found for each product over the whole batch at once (positions x channels operands).
    """
    cols, weight, grad = _second_layer_operands()
    wide_cols = np.ascontiguousarray(cols.transpose(1, 0, 2)).reshape(cols.shape[1], -1)  # (C*k*k, N*P)
    rows_grad = np.ascontiguousarray(grad.transpose(0, 2, 1)).reshape(-1, grad.shape[1])  # (N*P, C_out)
    taught = {"forward": lambda: weight @ cols,
              "weight": lambda: (grad @ cols.transpose(0, 2, 1)).sum(axis=0),
              "columns": lambda: weight.T @ grad}
    fastest = {"forward": lambda: wide_cols.T @ weight.T,
               "weight": lambda: wide_cols @ rows_grad,
               "columns": lambda: rows_grad @ weight}
    _check_same_products(taught, fastest, cols.shape, grad.shape)
    return {layout: {name: _median_ms(product, repeats) for name, product in products.items()}
            for layout, products in (("taught", taught), ("fastest", fastest))}


def _check_same_products(taught: dict, fastest: dict, cols_shape: tuple, grad_shape: tuple) -> None:
    """Both layouts must compute the same three results, or the floor compares unlike work."""
    (batch, rows, positions), channels = cols_shape, grad_shape[1]
    as_taught = {"forward": lambda out: out.reshape(batch, positions, channels).transpose(0, 2, 1),
                 "weight": lambda out: out.T,
                 "columns": lambda out: out.reshape(batch, positions, rows).transpose(0, 2, 1)}
    for name, product in taught.items():
        expected, got = product(), as_taught[name](fastest[name]())
        if not np.allclose(got, expected, rtol=1e-4, atol=1e-3):
            raise AssertionError(f"the fastest layout's {name} product differs from the taught one")


def run(threads=(1, 2), repeats: int = 7) -> dict:
    from threadpoolctl import threadpool_limits

    try:
        import torch
    except ImportError:
        torch = None
    images, weights = make_data(), initial_weights()
    kinds = [TinytorchRun] + ([TorchRun] if torch is not None else [])

    agreement = None
    if torch is not None:
        with threadpool_limits(limits=1):
            torch.set_num_threads(1)
            ours, theirs = TinytorchRun(images, weights), TorchRun(images, weights)
            ours.steps(1), theirs.steps(1)
            agreement = max(float(np.abs(a - b).max() / np.abs(b).max())
                            for a, b in zip(ours.weight_gradients(), theirs.weight_gradients()))

    results = {"threads": {}, "floor": {}, "agreement": agreement, "repeats": repeats}
    for n in threads:
        with threadpool_limits(limits=n):
            if torch is not None:
                torch.set_num_threads(n)
            runs = [kind(images, weights) for kind in kinds]
            for r in runs:  # warm-up: first calls allocate, load kernels, fill caches
                r.steps(3)
            times = {r.name: [] for r in runs}
            for repeat in range(repeats):
                for r in (runs if repeat % 2 == 0 else runs[::-1]):
                    times[r.name].append(_timed(r) / STEPS)
            results["floor"][n] = matrix_product_floor()
        results["threads"][n] = {name: {"median": statistics.median(t), "min": min(t)} for name, t in times.items()}
    results["profile"] = profile(images, weights)
    return results


def _floor_report(results: dict) -> list[str]:
    """The matrix-product floor beside PyTorch's whole step, per thread count."""
    lines = ["", "The floor: the second layer's three matrix products alone (forward, weight gradient, "
                 "columns' gradient), ms, median of 21; no numpy step can take less than the layout's sum:", "",
             "| threads | layout | forward | weight | columns | sum | sum / torch's whole step |",
             "|---|---|---|---|---|---|---|"]
    for n, layouts in results["floor"].items():
        torch_step = results["threads"][n].get("torch", {}).get("median")
        for layout, products in layouts.items():
            total = sum(products.values())
            versus = f"{total / (1000 * torch_step):.2f}" if torch_step else "-"
            lines.append(f"| {n} | {layout} | " + " | ".join(f"{products[k]:.2f}" for k in ("forward", "weight", "columns"))
                         + f" | {total:.2f} | {versus} |")
    return lines


def report(results: dict) -> list[str]:
    lines = ["## Two conv layers, forward + backward (batch 64, 1x28x28 -> 16 -> 32 channels, 3x3, float32)", ""]
    lines += speed_table(results["threads"], "ms per step")
    lines += ["", f"{results['repeats']} timed runs of {STEPS} steps per contender and thread count, interleaved "
                  "(order alternating), after a 3-step warm-up."]
    if results["agreement"] is not None:
        lines.append(f"Same weights, same batch: the weight gradients of tinytorch and PyTorch differ by at most "
                     f"{results['agreement']:.1e} (relative to the largest).")
    lines += _floor_report(results)
    lines += ["", "Where tinytorch's step goes (cProfile, 1 thread, own time per step):", "",
              "| function | ms per step | share |", "|---|---|---|"]
    lines += [f"| `{name}` | {1000 * seconds:.2f} | {share:.0%} |" for name, seconds, share in results["profile"]]
    return lines
