"""The spec of 06_optimizers: its cases, each bound to a graded cell by grade id.

Cells covered:
- optimizers-checkpoint: checkpoint 06 as values, "Can I use gradients to make a model
  better?" (cases with points);
- optimizers-validation (Optimizer.__init__), optimizers-zero-grad-step (zero_grad, step),
  optimizers-sgd-plain, optimizers-sgd-momentum-decay (SGD), optimizers-no-graph-chain (SGD
  updates outside the graph), optimizers-rmsprop-test (RMSprop), optimizers-adam-exact,
  optimizers-adam-details (Adam), optimizers-convergence (SGD, momentum, RMSprop and Adam
  minimise): public cases for what each cell's
  visible test asserts, hidden cases for what its former hidden tests checked.

Uses modules 01-05 (reference) and `tt.optimizers` (under grade). Trajectories are float64 and
compared tightly: every update rule is fixed by its definition. The convergence cases compare
end points within the tolerance their notebook test allows (1e-4, 1e-3), so a variant that
converges as well (plain SGD for momentum, say) is not told apart there.
"""

import itertools

import numpy as np

from casekit import arr, dtype_name, f64, message_of, registry, type_name

CASES = []
case = registry(CASES)

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


@case("optimizers-checkpoint", points=2, rtol=1e-10, atol=1e-12)
def sgd_plain(tt, rng):
    p, loss = _quadratic(tt, [1.0, -2.0, 3.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    path = _trajectory(tt, tt.optimizers.SGD([p], lr=0.1), [p], loss, 3)
    q, loss_q = _quadratic(tt, [0.5, -0.5], [2.0, 0.5], [1.0, 3.0])
    default = tt.optimizers.SGD([q])
    return {"path": path, "default lr path": _trajectory(tt, default, [q], loss_q, 2),
            "default lr": float(default.lr)}


@case("optimizers-checkpoint", points=3, rtol=1e-10, atol=1e-12)
def sgd_momentum(tt, rng):
    p, loss = _quadratic(tt, [1.0, -2.0, 0.5], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    path = _trajectory(tt, tt.optimizers.SGD([p], lr=0.1, momentum=0.9), [p], loss, 6)
    Tensor = tt.tensor.Tensor
    constant = Tensor(np.array([0.0]), requires_grad=True)
    example = _trajectory(tt, tt.optimizers.SGD([constant], lr=0.1, momentum=0.9), [constant],
                          lambda: constant.sum(), 3)  # gradient 1 every step: -0.1, -0.29, -0.561
    return {"path": path, "docstring example": example}


@case("optimizers-checkpoint", points=2, rtol=1e-10, atol=1e-12)
def sgd_weight_decay(tt, rng):
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


@case("optimizers-checkpoint", points=2, rtol=1e-10, atol=1e-12)
def sgd_momentum_and_decay(tt, rng):
    p, loss = _quadratic(tt, [1.0, -1.0, 2.0, 0.0], [1.0, 3.0, 0.5, 2.0], [0.5, 0.5, -1.0, 1.0])
    optimizer = tt.optimizers.SGD([p], lr=0.05, momentum=0.8, weight_decay=0.1)
    return {"path": _trajectory(tt, optimizer, [p], loss, 8)}


@case("optimizers-checkpoint", points=2, rtol=1e-9, atol=1e-12)
def rmsprop(tt, rng):
    start = rng.uniform(-1, 1, 6)
    target = rng.uniform(2, 3, 6) * rng.choice([-1.0, 1.0], 6)
    scale = rng.uniform(0.1, 10, 6)
    out = {}
    for name, settings in (("defaults", {}), ("alpha and decay", {"alpha": 0.9, "weight_decay": 0.05}),
                           ("momentum", {"momentum": 0.9})):
        p, loss = _quadratic(tt, start, scale, target)
        out[f"{name} path"] = _trajectory(tt, tt.optimizers.RMSprop([p], lr=0.01, **settings), [p], loss, 10)
    return out


@case("optimizers-checkpoint", points=3, rtol=1e-9, atol=1e-12)
def adam(tt, rng):
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


@case("optimizers-checkpoint", points=2, rtol=1e-9, atol=1e-12)
def adam_betas_and_decay(tt, rng):
    start = rng.uniform(-1, 1, 5)
    target = rng.uniform(-2, 2, 5)
    scale = rng.uniform(0.5, 4, 5)
    p, loss = _quadratic(tt, start, scale, target)
    betas = tt.optimizers.Adam([p], lr=0.03, betas=(0.5, 0.9), eps=1e-6)
    q, loss_q = _quadratic(tt, start, scale, target)
    decay = tt.optimizers.Adam([q], lr=0.02, weight_decay=0.05)
    return {"betas path": _trajectory(tt, betas, [p], loss, 10),
            "decay path": _trajectory(tt, decay, [q], loss_q, 10)}


@case("optimizers-checkpoint", points=1, rtol=1e-9, atol=1e-12)
def adam_counts_steps_per_parameter(tt, rng):
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


@case("optimizers-checkpoint", points=1, rtol=0, atol=0)
def zero_grad_and_unused_parameters(tt, rng):
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


@case("optimizers-checkpoint", points=1, rtol=0, atol=0)
def validation(tt, rng):
    Tensor = tt.tensor.Tensor
    p = Tensor([1.0], requires_grad=True)
    return {"SGD empty": message_of(tt.optimizers.SGD, [], lr=0.1),
            "Adam empty": message_of(tt.optimizers.Adam, [], lr=0.1),
            "negative lr": message_of(tt.optimizers.SGD, [p], lr=-0.5),
            "zero lr": message_of(tt.optimizers.Adam, [p], lr=0)}


@case("optimizers-checkpoint", points=1, rtol=1e-5, atol=1e-6)
def updates_stay_outside_the_graph(tt, rng):
    Tensor, layers, act = tt.tensor.Tensor, tt.layers, tt.activations
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


# =========================================================================== the graded cells
# Each case below turns the test of one graded cell into values (public cases: its visible test;
# hidden cases: what its hidden tests checked). A case calls only what that cell is about: the
# base class, SGD or Adam (plus the reference modules 01-05).


def _recorder(tt, calls):
    """A subclass of the student's Optimizer whose update records what `step` hands it."""

    class Recorder(tt.optimizers.Optimizer):
        def update(self, index, parameter, grad):
            calls.append((index, parameter, grad))

    return Recorder


def _signed(rng, size, low=0.5, high=3.0):
    """Values of both signs, bounded away from zero, as float64."""
    return rng.uniform(low, high, size) * rng.choice([-1.0, 1.0], size)


def _by_hand(tt, optimizer, parameter, grads):
    """Set each gradient by hand, step, and record the parameter after each step (float64)."""
    path = []
    for g in grads:
        parameter.grad = tt.tensor.Tensor(np.array(g, dtype=np.float64))
        optimizer.step()
        path.append(f64(arr(parameter)).ravel())
    return np.array(path)


# ----------------------------------------------------------------- optimizers-validation

@case("optimizers-validation")
def base_keeps_a_list(tt, rng):
    Tensor = tt.tensor.Tensor
    params = [Tensor(rng.standard_normal(int(rng.integers(1, 4))), requires_grad=True)
              for _ in range(int(rng.integers(2, 6)))]
    lr = float(rng.uniform(0.01, 2.0))
    optimizer = tt.optimizers.Optimizer((p for p in params), lr=lr)
    kept = list(optimizer.parameters)
    return {"type": type_name(optimizer.parameters), "count": len(kept),
            "same objects": [a is b for a, b in zip(kept, params)], "lr": float(optimizer.lr)}


@case("optimizers-validation")
def base_refuses(tt, rng):
    p = tt.tensor.Tensor(np.array([1.0]), requires_grad=True)
    return {"empty": message_of(tt.optimizers.Optimizer, [], lr=0.1),
            "zero lr": message_of(tt.optimizers.Optimizer, [p], lr=0)}


@case("optimizers-validation", hidden=True)
def base_refuses_negative_lr(tt, rng):
    p = tt.tensor.Tensor(np.array([1.0]), requires_grad=True)
    negative = -float(rng.integers(1, 100)) / 8  # exact in binary: the message shows it in full
    return {"negative": message_of(tt.optimizers.Optimizer, [p], lr=negative),
            "minus half": message_of(tt.optimizers.Optimizer, [p], lr=-0.5),
            "zero float": message_of(tt.optimizers.Optimizer, [p], lr=0.0)}


@case("optimizers-validation", hidden=True)
def base_subclass_messages(tt, rng):
    Rule = type(f"CustomRule{int(rng.integers(10, 100))}", (tt.optimizers.Optimizer,), {})
    p = tt.tensor.Tensor(np.array([1.0]), requires_grad=True)
    kept = Rule((p,), lr=2)
    return {"list": message_of(Rule, [], lr=1.0), "tuple": message_of(Rule, (), lr=1.0),
            "iterator": message_of(Rule, iter([]), lr=1.0),
            "empty and negative": message_of(Rule, [], lr=-1.0),
            "from tuple type": type_name(kept.parameters),
            "from tuple": len(kept.parameters) == 1 and kept.parameters[0] is p}


# ----------------------------------------------------------------- optimizers-zero-grad-step

@case("optimizers-zero-grad-step")
def step_hands_update_arrays(tt, rng):
    Tensor = tt.tensor.Tensor
    shapes = [(2,), (1,), (1, 2), (3,), (2, 2)][: int(rng.integers(3, 6))]
    params = [Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    has_grad = rng.random(len(params)) < 0.5
    has_grad[int(rng.integers(0, len(params) - 1))] = False  # a skipped one before ...
    has_grad[-1] = True                                       # ... one that is updated
    grads = {i: rng.standard_normal(p.shape) for i, p in enumerate(params) if has_grad[i]}
    calls = []
    optimizer = _recorder(tt, calls)(params, lr=0.1)
    for i, g in grads.items():
        params[i].grad = Tensor(g)
    optimizer.step()
    out = {"indices": np.array([index for index, _, _ in calls], dtype=np.int64),
           "same parameters": [parameter is params[index] for index, parameter, _ in calls],
           "grad types": ",".join(type_name(g) for _, _, g in calls)}
    for k, (_, _, g) in enumerate(calls[:5]):
        out[f"grad {k}"] = arr(g, np.float64)
        out[f"grad {k} shape"] = np.array(np.shape(g))
    optimizer.zero_grad()
    out["cleared"] = [p.grad is None for p in params]
    calls.clear()
    optimizer.step()
    out["calls after zero_grad"] = len(calls)
    return out


@case("optimizers-zero-grad-step", hidden=True)
def step_with_a_variable(tt, rng):
    Tensor, Variable = tt.tensor.Tensor, tt.autograd.Variable
    calls = []
    wrapped = Variable(_signed(rng, 2), requires_grad=True)
    plain = Tensor(rng.standard_normal(3), requires_grad=True)
    optimizer = _recorder(tt, calls)([plain, wrapped], lr=1.0)
    (wrapped * wrapped).sum().backward()  # gradient 2 * wrapped
    optimizer.step()
    out = {"indices": np.array([index for index, _, _ in calls], dtype=np.int64),
           "grad types": ",".join(type_name(g) for _, _, g in calls)}
    if calls:
        out["grad"] = arr(calls[0][2], np.float64)
    optimizer.zero_grad()
    out["cleared"] = [wrapped.grad is None, plain.grad is None]
    return out


@case("optimizers-zero-grad-step", hidden=True)
def zero_grad_only_own_parameters(tt, rng):
    Tensor = tt.tensor.Tensor
    mine = Tensor(rng.standard_normal(2), requires_grad=True)
    outsider = Tensor(np.array([1.0]), requires_grad=True)
    kept = rng.standard_normal(1)
    outsider.grad = Tensor(kept)
    mine.grad = Tensor(rng.standard_normal(2))
    _recorder(tt, [])([mine], lr=1.0).zero_grad()
    return {"mine cleared": mine.grad is None, "outsider grad": arr(outsider.grad, np.float64)}


# ----------------------------------------------------------------- optimizers-sgd-plain

@case("optimizers-sgd-plain", rtol=1e-10, atol=1e-12)
def sgd_plain_by_hand(tt, rng):
    Tensor = tt.tensor.Tensor
    n = int(rng.integers(2, 6))
    p = Tensor(_signed(rng, n), requires_grad=True)
    values = p.data
    lr = float(rng.uniform(0.05, 0.5))
    optimizer = tt.optimizers.SGD([p], lr=lr)
    first, second = _signed(rng, n), _signed(rng, n)
    path = _by_hand(tt, optimizer, p, [first, first])
    in_place = p.data is values
    path = np.concatenate([path, _by_hand(tt, optimizer, p, [second])])
    return {"path": path, "in place": in_place, "grad after": arr(p.grad, np.float64),
            "dtype": dtype_name(p)}


@case("optimizers-sgd-plain", hidden=True, rtol=1e-6, atol=1e-5)
def sgd_float32_default_lr(tt, rng):
    Tensor = tt.tensor.Tensor
    matrix = Tensor(rng.uniform(-4, 4, (2, 2)).astype(np.float32), requires_grad=True)
    offset = Tensor(rng.uniform(-1, 1, 1).astype(np.float32), requires_grad=True)
    optimizer = tt.optimizers.SGD([matrix, offset])
    matrix.grad = Tensor((_signed(rng, (2, 2), 1, 100)).astype(np.float32))
    offset.grad = Tensor(_signed(rng, 1, 1, 100).astype(np.float32))
    optimizer.step()
    return {"lr": float(optimizer.lr), "matrix": arr(matrix), "offset": arr(offset),
            "dtypes": f"{dtype_name(matrix)},{dtype_name(offset)}"}


@case("optimizers-sgd-plain", hidden=True, rtol=0, atol=0)
def sgd_leaves_gradless_alone(tt, rng):
    start = rng.standard_normal(3)
    untouched = tt.tensor.Tensor(start.copy(), requires_grad=True)
    tt.optimizers.SGD([untouched], lr=1.0).step()
    return {"values": arr(untouched)}


# ----------------------------------------------------------------- optimizers-sgd-momentum-decay

@case("optimizers-sgd-momentum-decay", rtol=1e-10, atol=1e-12)
def sgd_momentum_constant_gradient(tt, rng):
    n = int(rng.integers(1, 4))
    p = tt.tensor.Tensor(np.zeros(n), requires_grad=True)
    optimizer = tt.optimizers.SGD([p], lr=float(rng.uniform(0.05, 0.5)),
                                  momentum=float(rng.uniform(0.5, 0.95)))
    g = _signed(rng, n)
    path = _by_hand(tt, optimizer, p, [g, g, g])
    return {"path": path, "velocity": arr(optimizer.velocities[0], np.float64)}


@case("optimizers-sgd-momentum-decay", rtol=1e-10, atol=1e-12)
def sgd_weight_decay_by_hand(tt, rng):
    Tensor = tt.tensor.Tensor
    q = Tensor(_signed(rng, 2), requires_grad=True)        # gradient zero: decay alone
    r = Tensor(_signed(rng, 3), requires_grad=True)        # decay added to a gradient
    optimizer = tt.optimizers.SGD([q, r], lr=float(rng.uniform(0.1, 0.9)),
                                  weight_decay=float(rng.uniform(0.05, 0.5)))
    q.grad = Tensor(np.zeros(2))
    g = _signed(rng, 3)
    r.grad = Tensor(g.copy())
    path = []
    for _ in range(2):
        optimizer.step()
        path.append(np.concatenate([arr(q), arr(r)]))
    return {"path": f64(path), "grads after": np.concatenate([arr(q.grad), arr(r.grad)])}


@case("optimizers-sgd-momentum-decay", hidden=True, rtol=1e-10, atol=1e-12)
def sgd_momentum_sign_changes(tt, rng):
    p = tt.tensor.Tensor(_signed(rng, 2), requires_grad=True)
    optimizer = tt.optimizers.SGD([p], lr=float(rng.uniform(0.1, 0.5)),
                                  momentum=float(rng.uniform(0.3, 0.8)))
    size = rng.uniform(1, 4, 3)
    grads = [[size[0], 0.0], [-size[1], 0.0], [size[2], 0.0]]
    return {"path": _by_hand(tt, optimizer, p, grads)}


@case("optimizers-sgd-momentum-decay", hidden=True, rtol=1e-10, atol=1e-12)
def sgd_momentum_and_decay_variable(tt, rng):
    start = _signed(rng, 2)
    lr, momentum, decay = float(rng.uniform(0.05, 0.2)), 0.9, float(rng.uniform(0.2, 0.8))
    g = _signed(rng, 2)
    out = {}
    for name, make in (("tensor", tt.tensor.Tensor), ("variable", tt.autograd.Variable)):
        p = make(start.copy(), requires_grad=True)
        optimizer = tt.optimizers.SGD([p], lr=lr, momentum=momentum, weight_decay=decay)
        out[name] = _by_hand(tt, optimizer, p, [g, g])
    return out


@case("optimizers-sgd-momentum-decay", hidden=True, rtol=1e-10, atol=1e-12)
def sgd_velocity_per_parameter(tt, rng):
    Tensor = tt.tensor.Tensor
    first = Tensor(np.zeros(1), requires_grad=True)
    second = Tensor(np.zeros(2), requires_grad=True)
    optimizer = tt.optimizers.SGD([first, second], lr=float(rng.uniform(0.2, 1.0)), momentum=0.5)
    first.grad, second.grad = Tensor(_signed(rng, 1)), Tensor(_signed(rng, 2))
    path = []
    for _ in range(2):
        optimizer.step()
        path.append(np.concatenate([arr(first), arr(second)]))
    return {"path": f64(path)}


# ----------------------------------------------------------------- optimizers-no-graph-chain

@case("optimizers-no-graph-chain", rtol=0, atol=0)
def sgd_parameter_stays_a_leaf(tt, rng):
    Tensor, order = tt.tensor.Tensor, tt.autograd.topological_order
    start = _signed(rng, int(rng.integers(2, 5)))
    p = Tensor(start.copy(), requires_grad=True)
    optimizer = tt.optimizers.SGD([p], lr=0.05, momentum=0.9)
    fresh, sizes = [], []
    for _ in range(50):
        optimizer.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        fresh.append(bool(np.allclose(arr(p.grad), 2 * arr(p), rtol=1e-12, atol=0)))
        optimizer.step()
        sizes.append(len(order(loss)))
    return {"gradient of this step": fresh, "graph sizes": np.array(sizes, dtype=np.int64),
            "same tensor": optimizer.parameters[0] is p, "leaf": bool(p.is_leaf),
            "no op": p._op is None, "no parents": p._parents == (), "requires_grad": bool(p.requires_grad),
            "closer": np.abs(arr(p)) < np.abs(start)}


@case("optimizers-no-graph-chain", hidden=True, rtol=0, atol=0)
def dense_parameters_stay_leaves(tt, rng):
    Tensor, order = tt.tensor.Tensor, tt.autograd.topological_order
    layer = tt.layers.Dense(3, 2, rng=rng)
    weights, bias = layer.weights, layer.bias
    batch = Tensor(rng.uniform(-2, 2, (2, 3)).astype(np.float32))
    out = {}
    for name, optimizer in (("decay", tt.optimizers.SGD(layer.parameters(), lr=0.01, weight_decay=0.1)),
                            ("momentum", tt.optimizers.SGD(layer.parameters(), lr=0.01, momentum=0.5))):
        sizes = []
        for _ in range(20):
            optimizer.zero_grad()
            energy = (layer(batch) * layer(batch)).mean()
            energy.backward()
            optimizer.step()
            sizes.append(len(order(energy)))
        out[f"{name} graph sizes"] = np.array(sizes, dtype=np.int64)
    out["leaves"] = [t.is_leaf and t._parents == () for t in (weights, bias)]
    out["dtypes"] = f"{dtype_name(weights)},{dtype_name(bias)}"
    out["same tensors"] = layer.weights is weights and layer.bias is bias
    return out


# ----------------------------------------------------------------- optimizers-rmsprop-test

@case("optimizers-rmsprop-test", rtol=1e-10, atol=1e-12)
def rmsprop_three_steps_by_hand(tt, rng):
    n = int(rng.integers(1, 4))
    p = tt.tensor.Tensor(rng.uniform(-1, 1, n), requires_grad=True)
    optimizer = tt.optimizers.RMSprop([p], lr=float(rng.uniform(0.001, 0.05)))
    first = _signed(rng, n)
    grads = [first, -first * rng.uniform(0.5, 2.0, n), _signed(rng, n)]  # the sign flips once
    out = {"defaults": f"{optimizer.alpha},{optimizer.eps},{optimizer.weight_decay},{optimizer.momentum}",
           "default lr": float(tt.optimizers.RMSprop([p]).lr)}
    for k, g in enumerate(grads, start=1):
        out[f"p {k}"] = _by_hand(tt, optimizer, p, [g])[0]
        out[f"s {k}"] = arr(optimizer.square_averages[0], np.float64)
    constant = tt.tensor.Tensor(np.zeros(1), requires_grad=True)
    out["docstring example"] = _by_hand(tt, tt.optimizers.RMSprop([constant], lr=0.01), constant,
                                        [np.ones(1)] * 3)  # -0.0999999990, -0.170888..., -0.228913...
    return out


@case("optimizers-rmsprop-test", rtol=1e-10, atol=1e-12)
def rmsprop_weight_decay_and_momentum(tt, rng):
    Tensor = tt.tensor.Tensor
    p = Tensor(_signed(rng, 2), requires_grad=True)
    decay = tt.optimizers.RMSprop([p], lr=float(rng.uniform(0.005, 0.05)),
                                  weight_decay=float(rng.uniform(0.1, 1.0)))
    p.grad = Tensor(np.zeros(2))
    decay.step()
    q = Tensor(_signed(rng, 2), requires_grad=True)
    moving = tt.optimizers.RMSprop([q], lr=float(rng.uniform(0.005, 0.05)), momentum=0.9)
    first = _signed(rng, 2)
    path = _by_hand(tt, moving, q, [first, first * rng.uniform(0.5, 2.0, 2), -first])
    return {"decay p": f64(arr(p)), "grad after": arr(p.grad), "momentum path": path,
            "velocity": arr(moving.velocities[0], np.float64)}


@case("optimizers-rmsprop-test", hidden=True, rtol=1e-5, atol=1e-6)
def rmsprop_float32_and_skips(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(rng.uniform(-2, 2, 3).astype(np.float32), requires_grad=True)
    b_start = rng.uniform(-2, 2, (1, 2)).astype(np.float32)
    b = Tensor(b_start.copy(), requires_grad=True)
    optimizer = tt.optimizers.RMSprop([a, b], lr=float(rng.uniform(0.001, 0.01)), alpha=0.9)
    values = a.data
    for _ in range(2):
        a.grad = Tensor(_signed(rng, 3).astype(np.float32))
        optimizer.step()  # b has no gradient: skipped
    return {"a": arr(a), "b": arr(b), "b average": arr(optimizer.square_averages[1]),
            "dtypes": f"{dtype_name(a)},{dtype_name(optimizer.square_averages[0])}",
            "in place": a.data is values, "leaf": bool(a.is_leaf)}


@case("optimizers-rmsprop-test", hidden=True, rtol=1e-10, atol=1e-12)
def rmsprop_custom_alpha_and_eps(tt, rng):
    p = tt.tensor.Tensor(np.zeros(2), requires_grad=True)
    optimizer = tt.optimizers.RMSprop([p], lr=float(rng.uniform(0.5, 1.5)), alpha=0.5, eps=1.0)
    grads = [_signed(rng, 2, 1.0, 3.0), np.zeros(2), _signed(rng, 2, 0.1, 0.5)]
    return {"path": _by_hand(tt, optimizer, p, grads),
            "s": arr(optimizer.square_averages[0], np.float64)}


# ----------------------------------------------------------------- optimizers-adam-exact

@case("optimizers-adam-exact", rtol=1e-10, atol=1e-12)
def adam_three_steps_by_hand(tt, rng):
    n = int(rng.integers(1, 4))
    p = tt.tensor.Tensor(rng.uniform(-1, 1, n), requires_grad=True)
    optimizer = tt.optimizers.Adam([p], lr=float(rng.uniform(0.01, 0.5)))
    first = _signed(rng, n)
    grads = [first, -first * rng.uniform(0.5, 2.0, n), _signed(rng, n)]  # the sign flips once
    out = {}
    for k, g in enumerate(grads, start=1):
        out[f"p {k}"] = _by_hand(tt, optimizer, p, [g])[0]
        out[f"m {k}"] = arr(optimizer.first_moments[0], np.float64)
        out[f"v {k}"] = arr(optimizer.second_moments[0], np.float64)
        out[f"steps {k}"] = int(optimizer.steps)
    return out


@case("optimizers-adam-exact", hidden=True, rtol=1e-10, atol=1e-12)
def adam_first_step_any_scale(tt, rng):
    p = tt.tensor.Tensor(rng.uniform(-1, 1, 4), requires_grad=True)
    optimizer = tt.optimizers.Adam([p], lr=float(rng.uniform(0.005, 0.05)))
    scales = np.array([1e-3, 2.0, 50.0, 0.0]) * rng.uniform(0.5, 2.0, 4) * rng.choice([-1.0, 1.0], 4)
    return {"p": _by_hand(tt, optimizer, p, [scales])[0]}


@case("optimizers-adam-exact", hidden=True, rtol=1e-10, atol=1e-12)
def adam_constant_gradient_equal_steps(tt, rng):
    p = tt.tensor.Tensor(np.zeros(1), requires_grad=True)
    optimizer = tt.optimizers.Adam([p], lr=float(rng.uniform(0.1, 1.0)), betas=(0.8, 0.99), eps=0.0)
    g = _signed(rng, 1, 1.0, 5.0)
    return {"path": _by_hand(tt, optimizer, p, [g, g, g])}


@case("optimizers-adam-exact", hidden=True, rtol=1e-10, atol=1e-12)
def adam_custom_betas_and_eps(tt, rng):
    p = tt.tensor.Tensor(np.zeros(1), requires_grad=True)
    optimizer = tt.optimizers.Adam([p], lr=float(rng.uniform(0.5, 1.5)), betas=(0.5, 0.5), eps=1.0)
    return {"path": _by_hand(tt, optimizer, p, [_signed(rng, 1, 1.0, 3.0), np.zeros(1)])}


# ----------------------------------------------------------------- optimizers-adam-details

@case("optimizers-adam-details", rtol=1e-5, atol=1e-6)
def adam_skips_and_keeps_float32(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(rng.uniform(-2, 2, 2).astype(np.float32), requires_grad=True)
    b_start = rng.uniform(-2, 2, (1, 1)).astype(np.float32)
    b = Tensor(b_start.copy(), requires_grad=True)
    optimizer = tt.optimizers.Adam([a, b], lr=float(rng.uniform(0.005, 0.05)))
    a.grad = Tensor(_signed(rng, 2).astype(np.float32))
    optimizer.step()  # b has no gradient: skipped, its own t stays 0
    return {"steps": int(optimizer.steps), "parameter steps": np.array(optimizer.parameter_steps),
            "a": arr(a), "b": arr(b), "b moment": arr(optimizer.first_moments[1]),
            "dtypes": f"{dtype_name(a)},{dtype_name(optimizer.first_moments[0])}",
            "leaf": bool(a.is_leaf)}


@case("optimizers-adam-details", rtol=1e-10, atol=1e-12)
def adam_weight_decay_first_step(tt, rng):
    Tensor = tt.tensor.Tensor
    p = Tensor(_signed(rng, 2), requires_grad=True)   # gradient zero: decay alone
    q = Tensor(_signed(rng, 2), requires_grad=True)   # decay added to a gradient
    optimizer = tt.optimizers.Adam([p, q], lr=float(rng.uniform(0.01, 0.2)),
                                   weight_decay=float(rng.uniform(0.1, 1.0)))
    p.grad = Tensor(np.zeros(2))
    q.grad = Tensor(_signed(rng, 2))
    optimizer.step()
    return {"p": f64(arr(p)), "q": f64(arr(q)), "m": arr(optimizer.first_moments[0], np.float64),
            "grads after": np.concatenate([arr(p.grad), arr(q.grad)])}


@case("optimizers-adam-details", hidden=True, rtol=1e-10, atol=1e-12)
def adam_late_parameter_own_t(tt, rng):
    Tensor = tt.tensor.Tensor
    early = Tensor(np.zeros(1), requires_grad=True)
    late = Tensor(np.zeros(1), requires_grad=True)
    optimizer = tt.optimizers.Adam([early, late], lr=float(rng.uniform(0.01, 0.2)))
    for _ in range(2):
        early.grad = Tensor(_signed(rng, 1))
        optimizer.step()
    late.grad = Tensor(_signed(rng, 1))
    early.grad = None
    optimizer.step()
    return {"steps": int(optimizer.steps), "parameter steps": np.array(optimizer.parameter_steps),
            "late": f64(arr(late)), "early": f64(arr(early))}


@case("optimizers-adam-details", hidden=True, rtol=1e-7, atol=1e-12)
def adam_variable_buffers_in_place(tt, rng):
    Tensor = tt.tensor.Tensor
    wrapped = tt.autograd.Variable(_signed(rng, 2), requires_grad=True)
    optimizer = tt.optimizers.Adam([wrapped], lr=float(rng.uniform(0.01, 0.2)),
                                   weight_decay=float(rng.uniform(0.1, 1.0)))
    wrapped.grad = Tensor(_signed(rng, 2))
    optimizer.step()
    after = f64(arr(wrapped))
    m, v = optimizer.first_moments[0], optimizer.second_moments[0]
    wrapped.grad = Tensor(_signed(rng, 2))
    optimizer.step()
    return {"after 1": after, "after 2": f64(arr(wrapped)), "steps": int(optimizer.steps),
            "same buffers": optimizer.first_moments[0] is m and optimizer.second_moments[0] is v,
            "m": arr(m, np.float64), "v": arr(v, np.float64)}


# ----------------------------------------------------------------- optimizers-convergence

@case("optimizers-convergence", rtol=0, atol=1e-4)
def bowl_convergence(tt, rng):
    Tensor = tt.tensor.Tensor
    target = rng.normal(size=3)
    start = target + rng.uniform(1.0, 2.0, 3) * rng.choice([-1.0, 1.0], 3)
    curvature, goal = Tensor(np.array([1.0, 4.0, 10.0])), Tensor(target)
    out = {}
    for name, make in (("SGD", lambda ps: tt.optimizers.SGD(ps, lr=0.04)),
                       ("momentum", lambda ps: tt.optimizers.SGD(ps, lr=0.02, momentum=0.9)),
                       ("RMSprop", lambda ps: tt.optimizers.RMSprop(ps, lr=0.05)),
                       ("Adam", lambda ps: tt.optimizers.Adam(ps, lr=0.1))):
        p = Tensor(start.copy(), requires_grad=True)
        optimizer = make([p])
        for _ in range(300):
            optimizer.zero_grad()
            (curvature * (p - goal) ** 2).sum().backward()
            optimizer.step()
        out[f"{name} end"] = f64(arr(p))
        out[f"{name} leaf"] = bool(p.is_leaf)
    return out


@case("optimizers-convergence", hidden=True, rtol=0, atol=1e-3)
def regression_recovers_weights(tt, rng):
    Tensor = tt.tensor.Tensor
    design = rng.normal(size=(64, 3))
    true_w = _signed(rng, (3, 1), 0.25, 2.0)
    observed = design @ true_w + float(rng.uniform(-1, 1))
    out = {}
    for name, make, steps in (("Adam", lambda ps: tt.optimizers.Adam(ps, lr=0.05), 600),
                              ("momentum", lambda ps: tt.optimizers.SGD(ps, lr=0.05, momentum=0.9), 300)):
        model = tt.layers.Dense(3, 1, rng=rng)
        model.weights = Tensor(model.weights.data.astype(np.float64), requires_grad=True)
        model.bias = Tensor(model.bias.data.astype(np.float64), requires_grad=True)
        optimizer = make(model.parameters())
        mse = tt.losses.MeanSquaredError()
        for _ in range(steps):
            optimizer.zero_grad()
            mse(model(Tensor(design)), Tensor(observed)).backward()
            optimizer.step()
        out[f"{name} weights"] = f64(arr(model.weights)).ravel()
        out[f"{name} bias"] = f64(arr(model.bias))
    return out


@case("optimizers-convergence", hidden=True, rtol=1e-12, atol=0)
def sgd_diverges_above_two_over_curvature(tt, rng):
    p = tt.tensor.Tensor(_signed(rng, 1), requires_grad=True)
    optimizer = tt.optimizers.SGD([p], lr=1.5)
    for _ in range(5):
        optimizer.zero_grad()
        (p * p).sum().backward()
        optimizer.step()
    return {"values": f64(arr(p))}  # multiplied by 1 - 3 = -2 at each step
