"""Checkpoint 06 as values: "Can I use gradients to make a model better?"

Uses modules 01-05 (reference) and `tt.optimizers` (under grade). Trajectories are float64 and
compared tightly: every update rule is fixed by its definition.
"""

import itertools

import numpy as np

from _common import arr, dtype_name, f64, message_of, registry, type_name

MODULE = "optimizers"
SCENARIOS = []
scenario = registry(SCENARIOS)

CUBE = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))  # (8, 3)


def _trajectory(tt, optimizer, params, loss_of, steps):
    """Parameter values after each of `steps` steps (clear, forward, backward, update)."""
    path = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss_of().backward()
        optimizer.step()
        path.append(np.concatenate([f64(arr(p)).ravel() for p in params]))
    return np.array(path)


def _quadratic(tt, start, scale, target):
    Tensor = tt.tensor.Tensor
    p = Tensor(np.array(start, dtype=np.float64), requires_grad=True)
    loss = lambda: (Tensor(np.array(scale)) * (p - Tensor(np.array(target))) ** 2).sum()
    return p, loss


@scenario(points=2, rtol=1e-10, atol=1e-12)
def sgd_plain(tt):
    p, loss = _quadratic(tt, [1.0, -2.0, 3.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    path = _trajectory(tt, tt.optimizers.SGD([p], lr=0.1), [p], loss, 3)
    q, loss_q = _quadratic(tt, [0.5, -0.5], [2.0, 0.5], [1.0, 3.0])
    default = tt.optimizers.SGD([q])
    return {"path": path, "default lr path": _trajectory(tt, default, [q], loss_q, 2),
            "default lr": float(default.lr)}


@scenario(points=4, rtol=1e-10, atol=1e-12)
def sgd_momentum(tt):
    p, loss = _quadratic(tt, [1.0, -2.0, 0.5], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    path = _trajectory(tt, tt.optimizers.SGD([p], lr=0.1, momentum=0.9), [p], loss, 6)
    Tensor = tt.tensor.Tensor
    constant = Tensor(np.array([0.0]), requires_grad=True)
    example = _trajectory(tt, tt.optimizers.SGD([constant], lr=0.1, momentum=0.9), [constant],
                          lambda: constant.sum(), 3)  # gradient 1 every step: -0.1, -0.29, -0.561
    return {"path": path, "docstring example": example}


@scenario(points=2, rtol=1e-10, atol=1e-12)
def sgd_weight_decay(tt):
    Tensor = tt.tensor.Tensor
    p = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    c = np.array([0.5, 3.0])
    path = _trajectory(tt, tt.optimizers.SGD([p], lr=0.1, weight_decay=0.01), [p],
                       lambda: (p * Tensor(c)).sum(), 3)
    q = Tensor(np.array([0.2]), requires_grad=True)
    given = []
    optimizer = tt.optimizers.SGD([q], lr=0.5, weight_decay=0.5)
    (q * 2).sum().backward()
    before = f64(arr(q.grad))
    optimizer.step()
    given.append(f64(arr(q.grad)))
    return {"path": path, "gradient untouched": np.concatenate([before, *given])}


@scenario(points=2, rtol=1e-10, atol=1e-12)
def sgd_momentum_and_decay(tt):
    p, loss = _quadratic(tt, [1.0, -1.0, 2.0, 0.0], [1.0, 3.0, 0.5, 2.0], [0.5, 0.5, -1.0, 1.0])
    optimizer = tt.optimizers.SGD([p], lr=0.05, momentum=0.8, weight_decay=0.1)
    return {"path": _trajectory(tt, optimizer, [p], loss, 8)}


@scenario(points=4, rtol=1e-9, atol=1e-12)
def adam(tt):
    rng = np.random.default_rng(601)
    start = rng.uniform(-1, 1, 6)
    target = rng.uniform(2, 3, 6) * rng.choice([-1.0, 1.0], 6)
    scale = rng.uniform(0.1, 10, 6)
    p, loss = _quadratic(tt, start, scale, target)
    path = _trajectory(tt, tt.optimizers.Adam([p], lr=0.05), [p], loss, 12)
    Tensor = tt.tensor.Tensor
    q = Tensor(np.array([0.0]), requires_grad=True)
    signs = iter([1.0, -1.0])
    example = _trajectory(tt, tt.optimizers.Adam([q], lr=0.1), [q],
                          lambda: (q * next(signs)).sum(), 2)  # -0.0999999990, -0.0947368...
    return {"path": path, "docstring example": example}


@scenario(points=2, rtol=1e-9, atol=1e-12)
def adam_betas_and_decay(tt):
    rng = np.random.default_rng(602)
    start = rng.uniform(-1, 1, 5)
    target = rng.uniform(-2, 2, 5)
    scale = rng.uniform(0.5, 4, 5)
    p, loss = _quadratic(tt, start, scale, target)
    betas = tt.optimizers.Adam([p], lr=0.03, betas=(0.5, 0.9), eps=1e-6)
    q, loss_q = _quadratic(tt, start, scale, target)
    decay = tt.optimizers.Adam([q], lr=0.02, weight_decay=0.05)
    return {"betas path": _trajectory(tt, betas, [p], loss, 10),
            "decay path": _trajectory(tt, decay, [q], loss_q, 10)}


@scenario(points=1, rtol=1e-9, atol=1e-12)
def adam_counts_steps_per_parameter(tt):
    Tensor = tt.tensor.Tensor
    a = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    b = Tensor(np.array([2.0]), requires_grad=True)
    optimizer = tt.optimizers.Adam([a, b], lr=0.1)
    path = []
    for step in range(4):
        optimizer.zero_grad()
        loss = (a * a).sum() if step < 2 else (a * a).sum() + (b * b * 3).sum()
        loss.backward()
        optimizer.step()
        path.append(np.concatenate([arr(a), arr(b)]))
    return {"path": f64(path)}


@scenario(points=1, rtol=0, atol=0)
def zero_grad_and_unused_parameters(tt):
    Tensor = tt.tensor.Tensor
    out = {}
    for name in ("SGD", "Adam"):
        used = Tensor([1.0, 2.0], requires_grad=True)
        unused = Tensor([5.0], requires_grad=True)
        optimizer = getattr(tt.optimizers, name)([used, unused], lr=0.1)
        (used * used).sum().backward()
        optimizer.step()
        optimizer.zero_grad()
        out[f"{name} unused"] = arr(unused)
        out[f"{name} cleared"] = used.grad is None or not np.any(arr(used.grad))
        out[f"{name} parameters"] = type_name(optimizer.parameters)
    generator = tt.optimizers.SGD((p for p in [Tensor([1.0], requires_grad=True)]), lr=0.1)
    out["generator kept"] = len(generator.parameters)
    return out


@scenario(points=1, rtol=0, atol=0)
def validation(tt):
    Tensor = tt.tensor.Tensor
    p = Tensor([1.0], requires_grad=True)
    return {"SGD empty": message_of(tt.optimizers.SGD, [], lr=0.1),
            "Adam empty": message_of(tt.optimizers.Adam, [], lr=0.1),
            "negative lr": message_of(tt.optimizers.SGD, [p], lr=-0.5),
            "zero lr": message_of(tt.optimizers.Adam, [p], lr=0)}


@scenario(points=1, rtol=1e-5, atol=1e-6)
def updates_stay_outside_the_graph(tt):
    Tensor, layers, act = tt.tensor.Tensor, tt.layers, tt.activations
    rng = np.random.default_rng(603)
    out = {}
    for name, make in [("sgd", lambda ps: tt.optimizers.SGD(ps, lr=0.05, momentum=0.9)),
                       ("adam", lambda ps: tt.optimizers.Adam(ps, lr=0.01))]:
        model = layers.Sequential(layers.Dense(3, 6, rng=np.random.default_rng(0)), act.Tanh(),
                                  layers.Dense(6, 1, rng=np.random.default_rng(1)))
        params = model.parameters()
        ids = [id(p) for p in params]
        optimizer = make(params)
        x = Tensor(rng.standard_normal((8, 3)).astype(np.float32))
        y = Tensor(rng.standard_normal((8, 1)).astype(np.float32))
        losses = []
        for _ in range(30):
            optimizer.zero_grad()
            loss = tt.losses.MeanSquaredError()(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        after = model.parameters()
        out[f"{name} same tensors"] = [id(p) for p in after] == ids
        out[f"{name} leaves"] = all(p.is_leaf and p.requires_grad for p in after)
        out[f"{name} dtypes"] = ",".join(dtype_name(p) for p in after)
        out[f"{name} losses"] = np.array(losses)
    cube_targets = Tensor(CUBE @ np.array([[0.5], [-1.0], [0.25]]) + 0.3)
    model = layers.Dense(3, 1, rng=np.random.default_rng(2))
    model.weights.data = np.zeros((3, 1))
    model.bias.data = np.zeros(1)
    optimizer = tt.optimizers.SGD(model.parameters(), lr=0.25)
    for _ in range(8):
        optimizer.zero_grad()
        tt.losses.MeanSquaredError()(model(Tensor(CUBE)), cube_targets).backward()
        optimizer.step()
    out["cube solution"] = np.concatenate([f64(arr(model.weights)).ravel(), f64(arr(model.bias))])
    return out
