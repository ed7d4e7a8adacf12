"""Checkpoint 03 as values: "Can I stack layers into a network?"

Uses `tt.tensor`, `tt.activations` (reference) and `tt.layers` (under grade). Weights come from
local seeded generators or are set explicitly, never from numpy's global generator.
"""

import numpy as np

from _common import arr, dtype_name, registry, type_name

MODULE = "layers"
SCENARIOS = []
scenario = registry(SCENARIOS)


@scenario(points=4, rtol=1e-6, atol=1e-7)
def dense_initialisation(tt):
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


@scenario(points=4, rtol=1e-5, atol=1e-6)
def dense_forward(tt):
    Tensor, Dense, Linear = tt.tensor.Tensor, tt.layers.Dense, tt.layers.Linear
    rng, init = np.random.default_rng(304), np.random.default_rng(0)  # data; initialisation
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


@scenario(points=4, rtol=0, atol=0)
def parameter_discovery(tt):
    Tensor, layers = tt.tensor.Tensor, tt.layers
    Dense, Module = layers.Dense, layers.Module
    ReLU = tt.activations.ReLU
    rng = np.random.default_rng(306)

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


@scenario(points=4, rtol=1e-5, atol=1e-6)
def sequential(tt):
    Tensor, layers, act = tt.tensor.Tensor, tt.layers, tt.activations
    rng, init = np.random.default_rng(307), np.random.default_rng(1)  # data; initialisation
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


@scenario(points=2, rtol=0, atol=0)
def zero_grad(tt):
    Tensor, layers, act = tt.tensor.Tensor, tt.layers, tt.activations
    rng = np.random.default_rng(308)
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


@scenario(points=2, rtol=0, atol=0)
def graph_recording(tt):
    Tensor, layers = tt.tensor.Tensor, tt.layers
    rng = np.random.default_rng(309)
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
