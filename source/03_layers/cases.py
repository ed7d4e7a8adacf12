"""The spec of 03_layers: its cases, each bound to a graded cell by grade id.

Cells covered (public cases, then hidden ones: the old hidden tests, as values):
- layers-module-parameters: Module.parameters (order, constants skipped, nesting, de-duplication
  by identity); layers-module-zero-grad: Module.zero_grad;
- layers-dense-init: Dense shapes, dtypes, the Glorot draw from `rng=`, parameters with and
  without bias; layers-dense-seed: seeding through a generator and through numpy's global seed;
- layers-dense-forward: x @ W + b on hand-set weights; layers-linear-alias: Linear and `.weight`;
- layers-sequential-forward: Sequential order, identity, container, parameters; layers-mlp;
- layers-checkpoint: checkpoint 03 as values, "Can I stack layers into a network?" (with points).

Uses `tt.tensor`, `tt.activations` (reference) and `tt.layers` (under grade). Weights come from
local generators seeded from `rng` or are set explicitly. Only the dense-seed cases touch numpy's
global generator, because global seeding is what they check: they seed it and restore its state.
"""

import numpy as np

from casekit import arr, dtype_name, registry, type_name

CASES = []
case = registry(CASES)


def _positions(found, expected) -> np.ndarray:
    """Where each found tensor is in `expected`, by identity (-1: not there)."""
    return np.array([next((i for i, e in enumerate(expected) if e is p), -1) for p in found], dtype=np.int64)


def _seed(rng) -> int:
    return int(rng.integers(2**31))


def _with_global_seed(seed, fn):
    """fn() right after np.random.seed(seed); numpy's global state is restored afterwards."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        return fn()
    finally:
        np.random.set_state(state)


def _sizes(rng, low=2, high=9):
    """Two different layer sizes (a transposed weight matrix then always shows)."""
    n_in, n_out = rng.choice(np.arange(low, high), 2, replace=False)
    return int(n_in), int(n_out)


# ------------------------------------------------------------------ layers-module-parameters

def _affine(tt, rng):
    Tensor, Module = tt.tensor.Tensor, tt.layers.Module

    class Affine(Module):
        def __init__(self):
            self.w = Tensor(rng.standard_normal((1, 2)).astype(np.float32), requires_grad=True)
            self.b = Tensor(rng.standard_normal(1).astype(np.float32), requires_grad=True)
            self.scale = Tensor(rng.standard_normal(1).astype(np.float32))
            self.name = "affine"
            self.size = 2

    return Affine


@case("layers-module-parameters", rtol=0, atol=0)
def parameters_flat(tt, rng):
    layer = _affine(tt, rng)()
    params = layer.parameters()
    return {"type": type_name(params), "count": len(params), "order": _positions(params, [layer.w, layer.b])}


@case("layers-module-parameters", rtol=0, atol=0)
def parameters_nested(tt, rng):
    Tensor, Module, Affine = tt.tensor.Tensor, tt.layers.Module, _affine(tt, rng)

    class Net(Module):
        def __init__(self):
            self.first = Affine()
            self.blocks = [Affine(), (Affine(),)]
            self.tied = self.first.w
            self.extra = Tensor(rng.standard_normal(1).astype(np.float32), requires_grad=True)

    net = Net()
    params = net.parameters()
    expected = [net.first.w, net.first.b, net.blocks[0].w, net.blocks[0].b,
                net.blocks[1][0].w, net.blocks[1][0].b, net.extra]
    return {"count": len(params), "order": _positions(params, expected)}


@case("layers-module-parameters", rtol=0, atol=0)
def parameters_empty(tt, rng):
    params = tt.layers.Module().parameters()
    return {"type": type_name(params), "count": len(params)}


def _holder(tt):
    class Holder(tt.layers.Module):
        def __init__(self, *values):
            self.values = list(values)

    return Holder


@case("layers-module-parameters", hidden=True, rtol=0, atol=0)
def parameters_nested_lists(tt, rng):
    Tensor = tt.tensor.Tensor
    t1 = Tensor(rng.standard_normal(2).astype(np.float32), requires_grad=True)
    t2 = Tensor(rng.standard_normal(1).astype(np.float32), requires_grad=True)
    constant = Tensor(rng.standard_normal(1).astype(np.float32))
    got = _holder(tt)([[t1], [t2, t1]], None, np.ones(3), float(rng.standard_normal()), constant).parameters()
    return {"count": len(got), "order": _positions(got, [t1, t2])}


@case("layers-module-parameters", hidden=True, rtol=0, atol=0)
def parameters_shared_module(tt, rng):
    shared = _affine(tt, rng)()
    got = _holder(tt)(shared, [shared]).parameters()
    return {"count": len(got), "order": _positions(got, [shared.w, shared.b])}


@case("layers-module-parameters", hidden=True, rtol=0, atol=0)
def parameters_duck_typed(tt, rng):
    class NoParams:
        def parameters(self):
            return []

    got = _holder(tt)(NoParams(), "text").parameters()
    return {"type": type_name(got), "count": len(got)}


@case("layers-module-parameters", hidden=True, rtol=0, atol=0)
def parameters_equal_but_distinct(tt, rng):
    Tensor = tt.tensor.Tensor
    value = rng.standard_normal(1).astype(np.float32)
    a, b = Tensor(value.copy(), requires_grad=True), Tensor(value.copy(), requires_grad=True)
    got = _holder(tt)(a, b).parameters()
    return {"count": len(got), "order": _positions(got, [a, b])}


# ------------------------------------------------------------------ layers-module-zero-grad

def _pair(tt, rng):
    Tensor = tt.tensor.Tensor

    class Pair(tt.layers.Module):
        def __init__(self):
            self.a = Tensor(rng.standard_normal(2).astype(np.float32), requires_grad=True)
            self.b = Tensor(rng.standard_normal(1).astype(np.float32), requires_grad=True)

    return Pair


@case("layers-module-zero-grad", rtol=0, atol=0)
def zero_grad_clears(tt, rng):
    Tensor = tt.tensor.Tensor
    pair = _pair(tt, rng)()
    a, b = arr(pair.a), arr(pair.b)
    pair.a.grad = Tensor(rng.standard_normal(2).astype(np.float32))
    pair.b.grad = Tensor(rng.standard_normal(1).astype(np.float32))
    result = pair.zero_grad()
    return {"returns None": result is None, "grads cleared": np.array([pair.a.grad is None, pair.b.grad is None]),
            "a": arr(pair.a), "b": arr(pair.b),
            "data unchanged": bool(np.array_equal(arr(pair.a), a) and np.array_equal(arr(pair.b), b))}


@case("layers-module-zero-grad", hidden=True, rtol=0, atol=0)
def zero_grad_nested_only_parameters(tt, rng):
    Tensor, Pair = tt.tensor.Tensor, _pair(tt, rng)

    class Outer(tt.layers.Module):
        def __init__(self):
            self.inner = [Pair()]
            self.constant = Tensor(rng.standard_normal(1).astype(np.float32))

    outer = Outer()
    outer.inner[0].a.grad = Tensor(np.ones(2, dtype=np.float32))
    outer.inner[0].b.grad = Tensor(np.ones(1, dtype=np.float32))
    outer.constant.grad = Tensor(rng.standard_normal(1).astype(np.float32))
    outer.zero_grad()
    kept = outer.constant.grad
    return {"inner cleared": np.array([outer.inner[0].a.grad is None, outer.inner[0].b.grad is None]),
            "constant kept": kept is not None,
            "constant grad": arr(kept) if kept is not None else np.full(1, np.nan)}


# ------------------------------------------------------------------ layers-dense-init

@case("layers-dense-init", rtol=1e-6, atol=1e-9)
def dense_init_shapes_and_draw(tt, rng):
    Tensor, layers = tt.tensor.Tensor, tt.layers
    n_in, n_out = _sizes(rng)
    layer = layers.Dense(n_in, n_out, rng=np.random.default_rng(_seed(rng)))
    W, b = layer.weights, layer.bias
    return {"is Module": isinstance(layer, layers.Module), "sizes": np.array([layer.input_size, layer.output_size]),
            "types": f"{type_name(W)}/{type_name(b)}", "is Tensor": isinstance(W, Tensor) and isinstance(b, Tensor),
            "weights shape": np.array(W.shape), "bias shape": np.array(b.shape),
            "dtypes": f"{dtype_name(W)}/{dtype_name(b)}", "requires_grad": np.array([W.requires_grad, b.requires_grad]),
            "weights": arr(W), "bias": arr(b)}


@case("layers-dense-init", rtol=0, atol=0)
def dense_init_parameters(tt, rng):
    n_in, n_out = _sizes(rng)
    layer = tt.layers.Dense(n_in, n_out, rng=np.random.default_rng(_seed(rng)))
    params = layer.parameters()
    return {"count": len(params), "order": _positions(params, [layer.weights, layer.bias]),
            "size": sum(p.size for p in params)}


@case("layers-dense-init", rtol=1e-6, atol=1e-9)
def dense_init_without_bias(tt, rng):
    n_in, n_out = _sizes(rng)
    layer = tt.layers.Dense(n_in, n_out, bias=False, rng=np.random.default_rng(_seed(rng)))
    params = layer.parameters()
    return {"bias is None": layer.bias is None, "count": len(params),
            "order": _positions(params, [layer.weights]), "weights": arr(layer.weights)}


@case("layers-dense-init", hidden=True, rtol=1e-6, atol=1e-9)
def dense_init_sizes(tt, rng):
    out = {}
    for n_in, n_out in [(1, 1), (10, 7), (2, 9)]:
        layer = tt.layers.Dense(n_in, n_out, rng=np.random.default_rng(_seed(rng)))
        out[f"{n_in}x{n_out} weights shape"] = np.array(layer.weights.shape)
        out[f"{n_in}x{n_out} bias shape"] = np.array(layer.bias.shape)
        out[f"{n_in}x{n_out} weights"] = arr(layer.weights)
        out[f"{n_in}x{n_out} bias dtype"] = dtype_name(layer.bias)
        out[f"{n_in}x{n_out} bias zero"] = not arr(layer.bias).any()
        out[f"{n_in}x{n_out} size"] = sum(p.size for p in layer.parameters())
    return out


# ------------------------------------------------------------------ layers-dense-seed

@case("layers-dense-seed", rtol=1e-6, atol=1e-9)
def dense_seed_generator(tt, rng):
    Dense = tt.layers.Dense
    seed = _seed(rng)
    other = seed + 1 + int(rng.integers(1000))
    a, b = Dense(6, 5, rng=np.random.default_rng(seed)), Dense(6, 5, rng=np.random.default_rng(seed))
    c = Dense(6, 5, rng=np.random.default_rng(other))
    return {"same seed same weights": bool(np.array_equal(arr(a.weights), arr(b.weights))),
            "other seed differs": not np.array_equal(arr(a.weights), arr(c.weights)), "weights": arr(a.weights)}


@case("layers-dense-seed", rtol=1e-6, atol=1e-9)
def dense_seed_global(tt, rng):
    Dense = tt.layers.Dense
    seed = _seed(rng)
    d = _with_global_seed(seed, lambda: Dense(6, 5))
    e = _with_global_seed(seed, lambda: Dense(6, 5))
    return {"same global seed same weights": bool(np.array_equal(arr(d.weights), arr(e.weights))),
            "weights": arr(d.weights)}


@case("layers-dense-seed", rtol=1e-5, atol=1e-7)
def dense_seed_glorot_bound(tt, rng):
    w = arr(tt.layers.Dense(300, 100, rng=np.random.default_rng(_seed(rng))).weights)
    limit = np.sqrt(6.0 / 400)
    return {"shape": np.array(w.shape), "within bound": bool(np.abs(w).max() <= np.float32(limit)),
            "fills interval": bool(np.abs(w).max() > 0.99 * limit), "max |w|": float(np.abs(w).max()),
            "mean": float(w.astype(np.float64).mean()), "std": float(w.astype(np.float64).std()),
            "corner": w[:4, :6]}


@case("layers-dense-seed", hidden=True, rtol=0, atol=0)
def dense_seed_leaves_global_state(tt, rng):
    Dense = tt.layers.Dense

    def build():
        before = np.random.get_state()
        Dense(8, 4, rng=np.random.default_rng(_seed(rng)))
        after = np.random.get_state()
        return bool(np.array_equal(before[1], after[1]) and before[2] == after[2])

    return {"global state untouched": _with_global_seed(_seed(rng), build)}


@case("layers-dense-seed", hidden=True, rtol=1e-6, atol=1e-9)
def dense_seed_global_reseeded(tt, rng):
    Dense = tt.layers.Dense
    seed = _seed(rng)
    other = seed + 1 + int(rng.integers(1000))
    f = _with_global_seed(seed, lambda: Dense(3, 2))
    g = _with_global_seed(other, lambda: Dense(3, 2))
    h = _with_global_seed(seed, lambda: Dense(3, 2))
    return {"same seed same weights": bool(np.array_equal(arr(f.weights), arr(h.weights))),
            "other seed differs": not np.array_equal(arr(f.weights), arr(g.weights)), "weights": arr(f.weights)}


@case("layers-dense-seed", hidden=True, rtol=1e-5, atol=1e-7)
def dense_seed_tall_bound(tt, rng):
    w = arr(tt.layers.Dense(1000, 10, rng=np.random.default_rng(_seed(rng))).weights)
    return {"shape": np.array(w.shape), "within bound": bool(np.abs(w).max() <= np.float32(np.sqrt(6.0 / 1010))),
            "max |w|": float(np.abs(w).max()), "corner": w[:6, :4]}


# ------------------------------------------------------------------ layers-dense-forward

def _dense(tt, rng, n_in, n_out, bias=True):
    """A Dense layer whose weights (and bias) are set by assignment, drawn from `rng`."""
    Tensor = tt.tensor.Tensor
    layer = tt.layers.Dense(n_in, n_out, bias=bias, rng=np.random.default_rng(0))
    layer.weights = Tensor(rng.standard_normal((n_in, n_out)).astype(np.float32), requires_grad=True)
    if bias:
        layer.bias = Tensor(rng.standard_normal(n_out).astype(np.float32), requires_grad=True)
    return layer


@case("layers-dense-forward", rtol=1e-5, atol=1e-6)
def dense_forward_batch(tt, rng):
    Tensor = tt.tensor.Tensor
    n_in, n_out = _sizes(rng)
    layer = _dense(tt, rng, n_in, n_out)
    y = layer(Tensor(rng.standard_normal((4, n_in)).astype(np.float32)))
    return {"type": type_name(y), "shape": np.array(y.shape), "dtype": dtype_name(y), "values": arr(y),
            "requires_grad": bool(y.requires_grad)}


@case("layers-dense-forward", rtol=0, atol=0)
def dense_forward_exact(tt, rng):
    Tensor = tt.tensor.Tensor
    layer = tt.layers.Dense(3, 2, rng=np.random.default_rng(0))
    layer.weights = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    layer.bias = Tensor([0.5, -1.0], requires_grad=True)
    return {"values": arr(layer(Tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])))}


@case("layers-dense-forward", rtol=1e-5, atol=1e-6)
def dense_forward_zero_input(tt, rng):
    n_in, n_out = _sizes(rng)
    layer = _dense(tt, rng, n_in, n_out)
    zeros = layer(np.zeros((int(rng.integers(2, 6)), n_in), dtype=np.float32))
    return {"shape": np.array(zeros.shape), "values": arr(zeros)}


@case("layers-dense-forward", rtol=1e-5, atol=1e-6)
def dense_forward_list_input(tt, rng):
    n_in, n_out = _sizes(rng)
    layer = _dense(tt, rng, n_in, n_out)
    y = layer.forward(np.round(rng.uniform(-3, 3, (2, n_in)), 2).tolist())
    return {"shape": np.array(y.shape), "values": arr(y)}


@case("layers-dense-forward", rtol=1e-5, atol=1e-6)
def dense_forward_without_bias(tt, rng):
    Tensor = tt.tensor.Tensor
    n_in, n_out = _sizes(rng)
    plain = _dense(tt, rng, n_in, n_out, bias=False)
    y = plain(Tensor(rng.standard_normal((3, n_in)).astype(np.float32)))
    return {"shape": np.array(y.shape), "values": arr(y)}


@case("layers-dense-forward", hidden=True, rtol=1e-5, atol=1e-6)
def dense_forward_random_bias(tt, rng):
    Tensor = tt.tensor.Tensor
    layer = _dense(tt, rng, 4, 3)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    y = layer(Tensor(x))
    single = layer(x[0])
    return {"shape": np.array(y.shape), "dtype": dtype_name(y), "values": arr(y),
            "single shape": np.array(single.shape), "single": arr(single)}


@case("layers-dense-forward", hidden=True, rtol=1e-6, atol=1e-7)
def dense_forward_bias_broadcast(tt, rng):
    Tensor = tt.tensor.Tensor
    wide = tt.layers.Dense(2, 5, rng=np.random.default_rng(0))
    wide.bias = Tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
    return {"values": arr(wide(np.zeros((3, 2), dtype=np.float32)))}


# ------------------------------------------------------------------ layers-linear-alias

@case("layers-linear-alias", rtol=1e-5, atol=1e-6)
def linear_alias(tt, rng):
    Tensor, Dense, Linear = tt.tensor.Tensor, tt.layers.Dense, tt.layers.Linear
    n_in, n_out = _sizes(rng)
    layer = Linear(n_in, n_out, rng=np.random.default_rng(_seed(rng)))
    before = {"Linear is Dense": Linear is Dense, "is Dense": isinstance(layer, Dense),
              "weight is weights": layer.weight is layer.weights, "weight shape": np.array(layer.weight.shape)}
    new = Tensor(rng.standard_normal((n_in, n_out)).astype(np.float32), requires_grad=True)
    layer.weight = new
    x = rng.standard_normal((2, n_in)).astype(np.float32)
    return {**before, "assigned": layer.weights is new, "forward": arr(layer(Tensor(x)))}


@case("layers-linear-alias", hidden=True, rtol=0, atol=0)
def linear_alias_parameters_and_repr(tt, rng):
    Tensor, Linear = tt.tensor.Tensor, tt.layers.Linear
    n_in, n_out = _sizes(rng)
    layer = Linear(n_in, n_out, rng=np.random.default_rng(_seed(rng)))
    new = Tensor(np.ones((n_in, n_out), dtype=np.float32), requires_grad=True)
    layer.weight = new
    n_in, n_out = int(rng.integers(100, 1000)), int(rng.integers(10, 200))
    return {"new is a parameter": any(p is new for p in layer.parameters()),
            "repr": repr(Linear(n_in, n_out, rng=np.random.default_rng(0)))}


# ------------------------------------------------------------------ layers-sequential-forward

def _toys(tt):
    class Times(tt.layers.Module):
        def __init__(self, factor):
            self.factor = factor

        def forward(self, x):
            return x * self.factor

    class AddOne(tt.layers.Module):
        def forward(self, x):
            return x + 1.0

    return Times, AddOne


@case("layers-sequential-forward", rtol=1e-6, atol=1e-7)
def sequential_order(tt, rng):
    Tensor, Sequential, (Times, AddOne) = tt.tensor.Tensor, tt.layers.Sequential, _toys(tt)
    x = Tensor(rng.standard_normal((1, 3)).astype(np.float32))
    factor = float(rng.uniform(1.5, 4.0))
    return {"times then add": arr(Sequential(Times(factor), AddOne())(x)),
            "add then times": arr(Sequential(AddOne(), Times(factor))(x))}


@case("layers-sequential-forward", rtol=0, atol=0)
def sequential_empty(tt, rng):
    x = tt.tensor.Tensor(rng.standard_normal((2, 3)).astype(np.float32))
    return {"identity": arr(tt.layers.Sequential()(x))}


@case("layers-sequential-forward", rtol=0, atol=0)
def sequential_container(tt, rng):
    Tensor, layers, (Times, _) = tt.tensor.Tensor, tt.layers, _toys(tt)
    d1 = layers.Dense(3, 4, rng=np.random.default_rng(_seed(rng)))
    d2 = layers.Dense(4, 2, rng=np.random.default_rng(_seed(rng)))
    net = layers.Sequential(d1, Times(0.5), d2)
    params = net.parameters()
    out = net(Tensor(rng.standard_normal((1, 3)).astype(np.float32)))
    return {"len": len(net), "indexing": np.array([net[0] is d1, net[2] is d2]), "count": len(params),
            "order": _positions(params, [d1.weights, d1.bias, d2.weights, d2.bias]),
            "output shape": np.array(out.shape)}


@case("layers-sequential-forward", rtol=0, atol=0)
def sequential_shared_layer(tt, rng):
    d1 = tt.layers.Dense(3, 4, rng=np.random.default_rng(_seed(rng)))
    params = tt.layers.Sequential(d1, d1).parameters()
    return {"count": len(params), "order": _positions(params, [d1.weights, d1.bias])}


@case("layers-sequential-forward", hidden=True, rtol=1e-6, atol=1e-7)
def sequential_nested(tt, rng):
    Tensor, Sequential, (Times, AddOne) = tt.tensor.Tensor, tt.layers.Sequential, _toys(tt)
    inner = Sequential(AddOne(), Times(float(rng.uniform(1.5, 4.0))))
    outer = Sequential(inner, AddOne(), Times(-1.0))
    return {"values": arr(outer(Tensor(rng.standard_normal(2).astype(np.float32))))}


@case("layers-sequential-forward", hidden=True, rtol=1e-6, atol=1e-7)
def sequential_repeated(tt, rng):
    Tensor, Sequential, (Times, _) = tt.tensor.Tensor, tt.layers.Sequential, _toys(tt)
    net = Sequential(*[Times(float(f)) for f in rng.uniform(1.5, 3.0, 3)])
    return {"values": arr(net(Tensor(rng.standard_normal(2).astype(np.float32))))}


@case("layers-sequential-forward", hidden=True, rtol=0, atol=0)
def sequential_shared_nested(tt, rng):
    layers = tt.layers
    d3 = layers.Dense(2, 2, rng=np.random.default_rng(_seed(rng)))
    params = layers.Sequential(layers.Sequential(d3), d3, [d3]).parameters()
    return {"count": len(params), "order": _positions(params, [d3.weights, d3.bias])}


# ------------------------------------------------------------------ layers-mlp

@case("layers-mlp", rtol=0, atol=0)
def mlp_parameters(tt, rng):
    Tensor, layers, ReLU = tt.tensor.Tensor, tt.layers, tt.activations.ReLU
    init = np.random.default_rng(_seed(rng))
    net = layers.Sequential(layers.Dense(4, 8, rng=init), ReLU(), layers.Dense(8, 2, rng=init))
    params = net.parameters()
    out = net(Tensor(np.ones((5, 4), dtype=np.float32)))
    return {"count": len(params), "size": sum(p.size for p in params),
            "requires_grad": np.array([p.requires_grad for p in params]),
            "output shape": np.array(out.shape), "output dtype": dtype_name(out)}


def _mlp_221(tt):
    """The 2-2-1 network of the test, weights set by hand (initialised from its own generator)."""
    Tensor, layers, ReLU = tt.tensor.Tensor, tt.layers, tt.activations.ReLU
    init = np.random.default_rng(0)
    net = layers.Sequential(layers.Dense(2, 2, rng=init), ReLU(), layers.Dense(2, 1, rng=init))
    net[0].weights = Tensor([[1.0, -1.0], [2.0, 1.0]], requires_grad=True)
    net[0].bias = Tensor([0.0, 1.0], requires_grad=True)
    net[2].weights = Tensor([[3.0], [-2.0]], requires_grad=True)
    net[2].bias = Tensor([0.5], requires_grad=True)
    return net


@case("layers-mlp", rtol=0, atol=0)
def mlp_known_weights(tt, rng):
    net = _mlp_221(tt)
    y = net(tt.tensor.Tensor([[1.0, 1.0], [-1.0, 0.5], [-2.0, 0.0]]))
    return {"shape": np.array(y.shape), "values": arr(y),
            "parameters found afresh": any(p is net[0].weights for p in net.parameters())}


@case("layers-mlp", rtol=1e-5, atol=1e-6)
def mlp_random_inputs(tt, rng):
    net = _mlp_221(tt)  # hidden pre-activations: x0 + 2 x1 and 1 - x0 + x1
    x0, gap = rng.uniform(-3, 3, 3), rng.uniform(1.5, 3, 3)
    rows = np.stack([x0, x0 + gap], axis=1)  # 3 x0 + 2 gap and 1 + gap > 0; for -rows: both flip sign
    return {"values": arr(net(tt.tensor.Tensor(np.concatenate([rows, -rows]).astype(np.float32))))}


@case("layers-mlp", hidden=True, rtol=1e-4, atol=1e-5)
def mlp_deep(tt, rng):
    Tensor, layers, ReLU = tt.tensor.Tensor, tt.layers, tt.activations.ReLU
    init = np.random.default_rng(_seed(rng))
    deep = layers.Sequential(layers.Dense(784, 128, rng=init), ReLU(), layers.Dense(128, 64, rng=init), ReLU(),
                             layers.Dense(64, 10, rng=init))
    params = deep.parameters()
    sizes = {"count": len(params), "size": sum(p.size for p in params)}
    for at, (n_in, n_out) in zip((0, 2, 4), ((784, 128), (128, 64), (64, 10))):
        limit = np.sqrt(6.0 / (n_in + n_out))
        deep[at].weights = Tensor(rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32), requires_grad=True)
        deep[at].bias = Tensor(rng.uniform(-0.1, 0.1, n_out).astype(np.float32), requires_grad=True)
    out = deep(rng.standard_normal((7, 784)).astype(np.float32))
    return {**sizes, "shape": np.array(out.shape), "finite": bool(np.isfinite(arr(out)).all()), "values": arr(out)}


# ------------------------------------------------------------------ layers-checkpoint


@case("layers-checkpoint", points=4, rtol=1e-6, atol=1e-7)
def dense_initialisation(tt, rng):
    Dense = tt.layers.Dense
    layer = Dense(5, 3, rng=np.random.default_rng(301))
    wide = Dense(784, 128, rng=np.random.default_rng(302))
    bare = Dense(4, 2, bias=False, rng=np.random.default_rng(303))
    w = arr(wide.weights)
    return {"weights": arr(layer.weights), "bias": arr(layer.bias),
            "weights shape": np.array(layer.weights.shape), "bias shape": np.array(layer.bias.shape),
            "weights dtype": dtype_name(layer.weights), "bias dtype": dtype_name(layer.bias),
            "requires_grad": np.array([layer.weights.requires_grad, layer.bias.requires_grad]),
            "wide within limit": bool(np.all(np.abs(w) <= np.sqrt(6 / 912) + 1e-7)),
            "wide std": float(w.std()), "wide first row": w[0, :8],
            "no bias": bare.bias is None, "no bias weights": arr(bare.weights),
            "sizes": np.array([layer.input_size, layer.output_size])}


def _set(layer, weights, bias=None):
    layer.weights.data = np.asarray(weights, dtype=np.float32)
    if bias is not None:
        layer.bias.data = np.asarray(bias, dtype=np.float32)
    return layer


@case("layers-checkpoint", points=4, rtol=1e-5, atol=1e-6)
def dense_forward(tt, rng):
    Tensor, Dense, Linear = tt.tensor.Tensor, tt.layers.Dense, tt.layers.Linear
    init = np.random.default_rng(0)  # data; initialisation
    example = _set(Dense(2, 3, rng=init), [[1, 0, 1], [0, 1, 1]], [0, 0, 10])
    layer = _set(Dense(4, 3, rng=init), rng.standard_normal((4, 3)), rng.standard_normal(3))
    batch = rng.standard_normal((6, 4)).astype(np.float32)
    bare = _set(Dense(4, 2, bias=False, rng=init), rng.standard_normal((4, 2)))
    out = layer(Tensor(batch))
    alias = Linear(3, 2, rng=np.random.default_rng(305))
    return {"example": arr(example(Tensor([[1.0, 2.0]]))), "batch": arr(out),
            "batch shape": np.array(out.shape), "dtype": dtype_name(out), "type": type_name(out),
            "from array": arr(layer(batch)), "from list": arr(example([[1.0, 2.0], [0.0, -1.0]])),
            "no bias": arr(bare(Tensor(batch))),
            "Linear is Dense": Linear is Dense or issubclass(Linear, Dense),
            "weight alias": alias.weight is alias.weights, "alias forward": arr(alias(Tensor(np.ones((2, 3)))))}


@case("layers-checkpoint", points=4, rtol=0, atol=0)
def parameter_discovery(tt, rng):
    Tensor, layers = tt.tensor.Tensor, tt.layers
    Dense, Module = layers.Dense, layers.Module
    ReLU = tt.activations.ReLU

    class TwoTower(Module):
        def __init__(self):
            self.shared = Dense(4, 4, rng=rng)
            self.towers = [Dense(4, 3, rng=rng), [Dense(4, 3, rng=rng), ReLU()]]
            self.head = Dense(6, 1, rng=rng)
            self.scale = Tensor([2.0], requires_grad=True)
            self.tied = self.shared.weights
            self.constant = Tensor([1.0])
            self.name = "two towers"
            self.pair = (self.head, Tensor([3.0], requires_grad=True))

        def forward(self, x):
            return self.head(x) * self.scale

    model = TwoTower()
    params = model.parameters()
    expected = [model.shared.weights, model.shared.bias,
                model.towers[0].weights, model.towers[0].bias,
                model.towers[1][0].weights, model.towers[1][0].bias,
                model.head.weights, model.head.bias, model.scale, model.pair[1]]
    position = [next((i for i, e in enumerate(expected) if e is p), -1) for p in params]
    return {"count": len(params), "distinct": len({id(p) for p in params}),
            "order": np.array(position), "constant excluded": not any(p is model.constant for p in params),
            "dense parameters": len(Dense(2, 2, rng=rng).parameters()),
            "dense without bias": len(Dense(2, 2, bias=False, rng=rng).parameters()),
            "type": type_name(params)}


@case("layers-checkpoint", points=4, rtol=1e-5, atol=1e-6)
def sequential(tt, rng):
    Tensor, layers, act = tt.tensor.Tensor, tt.layers, tt.activations
    init = np.random.default_rng(1)  # data; initialisation
    first, second = layers.Dense(4, 8, rng=init), layers.Dense(8, 2, rng=init)
    _set(first, rng.standard_normal((4, 8)) * 0.5, rng.standard_normal(8))
    _set(second, rng.standard_normal((8, 2)), rng.standard_normal(2))
    model = layers.Sequential(first, act.ReLU(), second)
    deep = layers.Sequential(*[layer for _ in range(6)
                               for layer in (_set(layers.Dense(16, 16, rng=init),
                                                  rng.standard_normal((16, 16)) * 0.4), act.Tanh())])
    x = rng.standard_normal((5, 4)).astype(np.float32)
    deep_out = deep(Tensor(rng.standard_normal((3, 16)).astype(np.float32)))
    params = model.parameters()
    return {"output": arr(model(Tensor(x))), "len": len(model), "second is second": model[2] is second,
            "parameter shapes": np.array([s for p in params for s in p.shape] + [len(params)]),
            "parameters are the layers'": all(p is q for p, q in zip(params, [first.weights, first.bias,
                                                                              second.weights, second.bias])),
            "empty": arr(layers.Sequential()(Tensor(x))), "deep": arr(deep_out),
            "deep finite": bool(np.all(np.isfinite(arr(deep_out)))), "deep parameters": len(deep.parameters())}


@case("layers-checkpoint", points=2, rtol=0, atol=0)
def zero_grad(tt, rng):
    Tensor, layers, act = tt.tensor.Tensor, tt.layers, tt.activations
    model = layers.Sequential(layers.Dense(3, 4, rng=rng), act.ReLU(), layers.Dense(4, 2, rng=rng))
    for parameter in model.parameters():
        parameter.grad = Tensor(np.ones(parameter.shape, dtype=np.float32))
    model.zero_grad()
    cleared = [p.grad is None or not np.any(arr(p.grad)) for p in model.parameters()]
    layer = layers.Dense(2, 2, rng=rng)
    layer.weights.grad = Tensor(np.ones((2, 2), dtype=np.float32))
    layer.zero_grad()
    return {"cleared": np.array(cleared), "layer cleared": layer.weights.grad is None or not np.any(arr(layer.weights.grad)),
            "count": len(cleared)}


@case("layers-checkpoint", points=2, rtol=0, atol=0)
def graph_recording(tt, rng):
    Tensor, layers = tt.tensor.Tensor, tt.layers
    layer = layers.Dense(2, 2, rng=rng)
    out = layer(Tensor([[1.0, 2.0]]))
    bare = layers.Dense(2, 2, bias=False, rng=rng)(Tensor([[1.0, 2.0]]))

    def reaches(node, target):
        stack, seen = [node], set()
        while stack:
            current = stack.pop()
            if current is target:
                return True
            if id(current) not in seen:
                seen.add(id(current))
                stack.extend(current._parents)
        return False

    return {"requires_grad": out.requires_grad, "is_leaf": out.is_leaf,
            "reaches weights": reaches(out, layer.weights), "reaches bias": reaches(out, layer.bias),
            "bare requires_grad": bare.requires_grad}
