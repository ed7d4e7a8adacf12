"""PyTorch as the oracle: the same computation in both libraries, in float64, must agree to 1e-10.

- every operation of the table (tests/strategies.py): forward and gradients;
- random expression graphs: a DAG of random operations over a few random leaves, with
  broadcasting and reused intermediates, generated from a seed;
- Dense + ReLU + cross-entropy against torch.nn.functional;
- SGD with momentum, RMSprop and Adam trajectories against torch.optim over 20 steps.
Our Dense stores weights as (in, out); torch's Linear as (out, in): the tests transpose.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from strategies import OPS                                     # noqa: E402
from tinytorch.core import activations as act                 # noqa: E402
from tinytorch.core.layers import Dense, Sequential           # noqa: E402
from tinytorch.core.losses import cross_entropy               # noqa: E402
from tinytorch.core.optimizers import SGD, Adam, RMSprop               # noqa: E402
from tinytorch.core.tensor import Tensor                      # noqa: E402

pytestmark = pytest.mark.oracle

# The tensors here are tiny: one thread is fastest, and on a loaded two-core machine torch's
# intra-op pool spends tens of milliseconds per call waiting for its other threads.
torch.set_num_threads(1)

F = torch.nn.functional
RTOL = 1e-10


def assert_agree(ours, theirs, what=""):
    """Equal to 1e-10 relative to the size of the reference (elements near 0 are not held to a
    relative bound their summation order cannot meet)."""
    ours = np.asarray(ours.data if isinstance(ours, Tensor) else ours)
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    scale = max(float(np.max(np.abs(theirs), initial=0.0)), 1e-300)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def torch_leaf(array):
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", [op for op in OPS if op.torch is not None], ids=repr)
def test_every_table_operation_agrees_with_torch(op):
    inputs = op.inputs()
    ours = [Tensor(x, requires_grad=True) for x in inputs]
    theirs = [torch_leaf(x) for x in inputs]
    out, reference = op.tiny(*ours), op.torch(torch, *theirs)
    assert_agree(out, reference, "forward")
    weights = np.random.default_rng(1).uniform(-1, 1, size=out.shape)
    out.backward(gradient=weights)
    reference.backward(torch.from_numpy(np.asarray(weights)))
    for index, (a, b) in enumerate(zip(ours, theirs)):
        assert_agree(a.grad, b.grad, f"gradient of input {index}")


# ---------------------------------------------------------------------------------------------
# Random expression graphs
# ---------------------------------------------------------------------------------------------

# Each instruction is (op, operand indices, parameters); both backends interpret the same program.
BACKENDS = {
    "tinytorch": {
        "leaf": lambda a: Tensor(a, requires_grad=True),
        "const": lambda a: Tensor(a),
        "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
        "div": lambda x, y: x / (y * y + 1.0),
        "scale": lambda x, c: x * c + (1.0 - c),
        "neg": lambda x: -x, "tanh": act.tanh, "sigmoid": act.sigmoid, "relu": act.relu,
        "exp": lambda x: act.tanh(x).exp(), "log": lambda x: (x * x + 1.0).log(),
        "square": lambda x: x ** 2, "cube": lambda x: x ** 3,
        "rsqrt": lambda x: (x * x + 1.0) ** -0.5, "sqrt": lambda x: (x * x + 1.0).sqrt(),
        "sum": lambda x, axis: x.sum(axis=axis, keepdims=True),
        "mean": lambda x, axis: x.mean(axis=axis, keepdims=True),
        "max": lambda x, axis: x.max(axis=axis, keepdims=True),
        "softmax": lambda x: act.softmax(x, axis=-1),
        "log_softmax": lambda x: act.log_softmax(x, axis=-1),
        "gather": lambda x, index: x[..., index],
        "transpose": lambda x, perm, inverse, c: (x.transpose(perm) * c).transpose(inverse),
        "flatten": lambda x, c: (x.reshape(-1) * c).reshape(x.shape),
        "matmul": lambda x, w: x @ w,
        "weigh": lambda x, c: (x * c).sum(),
    },
    "torch": {
        "leaf": lambda a: torch_leaf(a),
        "const": lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64)),
        "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
        "div": lambda x, y: x / (y * y + 1.0),
        "scale": lambda x, c: x * c + (1.0 - c),
        "neg": lambda x: -x, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
        "exp": lambda x: torch.exp(torch.tanh(x)), "log": lambda x: torch.log(x * x + 1.0),
        "square": lambda x: x ** 2, "cube": lambda x: x ** 3,
        "rsqrt": lambda x: (x * x + 1.0) ** -0.5, "sqrt": lambda x: torch.sqrt(x * x + 1.0),
        "sum": lambda x, axis: x.sum(dim=axis, keepdim=True),
        "mean": lambda x, axis: x.mean(dim=axis, keepdim=True),
        "max": lambda x, axis: torch.amax(x, dim=axis, keepdim=True),
        "softmax": lambda x: torch.softmax(x, dim=-1),
        "log_softmax": lambda x: torch.log_softmax(x, dim=-1),
        "gather": lambda x, index: x[..., torch.from_numpy(index)],
        "transpose": lambda x, perm, inverse, c: (x.permute(*perm) * c).permute(*inverse),
        "flatten": lambda x, c: (x.reshape(-1) * c).reshape(x.shape),
        "matmul": lambda x, w: x @ w,
        "weigh": lambda x, c: (x * c).sum(),
    },
}

UNARY = ["neg", "tanh", "sigmoid", "relu", "exp", "log", "square", "cube", "rsqrt", "sqrt",
         "softmax", "log_softmax"]
BINARY = ["add", "sub", "mul", "div"]
REDUCE = ["sum", "mean", "max"]


def random_program(seed: int):
    """A random DAG: 2-4 leaves whose shapes broadcast to a random base shape, 6-24 operations
    whose operands are drawn from every earlier node (so intermediates are reused), and a scalar
    output that weighs every node, so that every path carries a gradient."""
    rng = np.random.default_rng(seed)
    base = tuple(int(n) for n in rng.integers(2, 5, size=rng.integers(1, 4)))
    program, shapes, leaves = [], [], []

    def new_leaf(shape):
        program.append(("leaf", (), (rng.normal(size=shape),)))
        shapes.append(shape)
        leaves.append(len(shapes) - 1)
        return len(shapes) - 1

    for _ in range(rng.integers(2, 5)):
        dropped = int(rng.integers(0, len(base) + 1))
        shape = tuple(1 if rng.random() < 0.25 else n for n in base[dropped:])
        new_leaf(shape)

    for _ in range(rng.integers(6, 25)):
        # recent nodes are likelier operands, but any earlier node may be reused
        pick = lambda: int(min(len(shapes) - 1, rng.geometric(0.35) - 1)) if rng.random() < 0.7 \
            else int(rng.integers(len(shapes)))
        x = len(shapes) - 1 - pick()
        shape = shapes[x]
        kind = rng.choice(["unary", "binary", "binary", "reduce", "structural"])
        if kind == "binary":
            y = int(rng.integers(len(shapes)))
            program.append((str(rng.choice(BINARY)), (x, y), ()))
            shape = np.broadcast_shapes(shape, shapes[y])
        elif kind == "reduce" and shape:
            axis = int(rng.integers(-len(shape), len(shape)))
            program.append((str(rng.choice(REDUCE)), (x,), (axis,)))
            shape = tuple(1 if i == axis % len(shape) else n for i, n in enumerate(shape))
        elif kind == "structural" and shape:
            choice = rng.choice(["gather", "transpose", "flatten", "matmul", "scale"])
            if choice == "gather":      # integer index with repeats along the last axis
                program.append(("gather", (x,), (rng.integers(0, shape[-1], size=shape[-1]),)))
            elif choice == "transpose":
                perm = tuple(int(i) for i in rng.permutation(len(shape)))
                constant = rng.normal(size=tuple(shape[i] for i in perm))
                program.append(("transpose", (x,), (perm, tuple(int(i) for i in np.argsort(perm)),
                                                    ("const", constant))))
            elif choice == "flatten":
                program.append(("flatten", (x,), (("const", rng.normal(size=int(np.prod(shape)))),)))
            elif choice == "matmul":    # against a fresh square leaf: the shape is kept
                w = new_leaf((shape[-1], shape[-1]))
                program.append(("matmul", (x, w), ()))
            else:
                program.append(("scale", (x,), (float(rng.uniform(-2, 2)),)))
        else:
            program.append((str(rng.choice(UNARY)), (x,), ()))
        shapes.append(tuple(shape))

    weights = [rng.uniform(-1, 1, size=s) for s in shapes]
    return program, weights, leaves


def run(program, weights, backend):
    ops = BACKENDS[backend]
    nodes = []
    for name, operands, params in program:
        params = [ops["const"](p[1]) if isinstance(p, tuple) and p and p[0] == "const" else p
                  for p in params]
        if name == "leaf":
            nodes.append(ops["leaf"](*params))
        else:
            nodes.append(ops[name](*[nodes[i] for i in operands], *params))
    out = ops["weigh"](nodes[0], ops["const"](weights[0]))
    for node, weight in zip(nodes[1:], weights[1:]):
        out = out + ops["weigh"](node, ops["const"](weight))
    return nodes, out


@pytest.mark.parametrize("seed", range(40))
def test_random_expression_graph_agrees_with_torch(seed):
    program, weights, leaves = random_program(seed)
    ours, our_out = run(program, weights, "tinytorch")
    theirs, their_out = run(program, weights, "torch")
    for index, (a, b) in enumerate(zip(ours, theirs)):
        assert_agree(a, b, f"node {index} ({program[index][0]})")
    assert_agree(our_out, their_out, "output")
    our_out.backward()
    their_out.backward()
    for index in leaves:
        assert_agree(ours[index].grad, theirs[index].grad, f"gradient of leaf {index}")


def test_random_programs_cover_every_operation():
    used = {name for seed in range(40) for name, _, _ in random_program(seed)[0]}
    assert used == set(BACKENDS["torch"]) - {"const", "weigh"}


# ---------------------------------------------------------------------------------------------
# A network: Dense + ReLU + cross-entropy
# ---------------------------------------------------------------------------------------------

def float64_mlp(rng, sizes=(5, 7, 3)):
    """Our Sequential(Dense, ReLU, Dense) in float64, and the same weights for torch as (out, in)."""
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layer = Dense(n_in, n_out)
        layer.weights = Tensor(rng.normal(size=(n_in, n_out)), requires_grad=True)
        layer.bias = Tensor(rng.normal(size=n_out), requires_grad=True)
        layers.append(layer)
    model = Sequential(layers[0], act.ReLU(), layers[1])
    torch_params = [torch_leaf(p.data.T if p.ndim == 2 else p.data) for p in model.parameters()]
    return model, torch_params


def torch_mlp(params, x):
    w1, b1, w2, b2 = params
    return F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)


@pytest.mark.parametrize("targets", ["labels", "probabilities"])
def test_dense_relu_cross_entropy_agrees_with_torch_functional(targets):
    rng = np.random.default_rng(3)
    model, torch_params = float64_mlp(rng)
    x = rng.normal(size=(6, 5))
    y = rng.integers(0, 3, size=6) if targets == "labels" else rng.dirichlet(np.ones(3), size=6)
    loss = cross_entropy(model(Tensor(x)), Tensor(y))
    reference = F.cross_entropy(torch_mlp(torch_params, torch.from_numpy(x)), torch.from_numpy(y))
    assert_agree(loss, reference, "loss")
    loss.backward()
    reference.backward()
    for ours, theirs in zip(model.parameters(), torch_params):
        assert_agree(ours.grad.data.T if ours.ndim == 2 else ours.grad, theirs.grad, "parameter gradient")


# ---------------------------------------------------------------------------------------------
# Optimizer trajectories
# ---------------------------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": (lambda ps: SGD(ps, lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    "sgd-momentum": (lambda ps: SGD(ps, lr=0.05, momentum=0.9),
                     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    "sgd-momentum-decay": (lambda ps: SGD(ps, lr=0.05, momentum=0.8, weight_decay=0.01),
                           lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, weight_decay=0.01)),
    "rmsprop": (lambda ps: RMSprop(ps, lr=0.01), lambda ps: torch.optim.RMSprop(ps, lr=0.01)),
    "rmsprop-alpha-eps-decay": (lambda ps: RMSprop(ps, lr=0.005, alpha=0.9, eps=1e-6, weight_decay=0.01),
                                lambda ps: torch.optim.RMSprop(ps, lr=0.005, alpha=0.9, eps=1e-6,
                                                               weight_decay=0.01)),
    "rmsprop-momentum": (lambda ps: RMSprop(ps, lr=0.002, momentum=0.9),
                         lambda ps: torch.optim.RMSprop(ps, lr=0.002, momentum=0.9)),
    "adam": (lambda ps: Adam(ps, lr=0.01), lambda ps: torch.optim.Adam(ps, lr=0.01)),
    "adam-betas-decay": (lambda ps: Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01),
                         lambda ps: torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.99), eps=1e-6,
                                                     weight_decay=0.01)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_trajectory_over_20_steps_agrees_with_torch_optim(name):
    rng = np.random.default_rng(11)
    model, torch_params = float64_mlp(rng)
    ours_opt, theirs_opt = OPTIMIZERS[name][0](model.parameters()), OPTIMIZERS[name][1](torch_params)
    x, y = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    for step in range(20):
        ours_opt.zero_grad()
        theirs_opt.zero_grad()
        cross_entropy(model(Tensor(x)), Tensor(y)).backward()
        F.cross_entropy(torch_mlp(torch_params, torch.from_numpy(x)), torch.from_numpy(y)).backward()
        ours_opt.step()
        theirs_opt.step()
        for ours, theirs in zip(model.parameters(), torch_params):
            assert_agree(ours.data.T if ours.ndim == 2 else ours, theirs, f"{name}, step {step + 1}")


def test_adam_bias_correction_counts_the_steps_of_each_parameter_like_torch():
    a, late = Tensor(np.array([1.0, -2.0]), requires_grad=True), Tensor(np.array([0.5]), requires_grad=True)
    ta, tlate = torch_leaf([1.0, -2.0]), torch_leaf([0.5])
    ours, theirs = Adam([a, late], lr=0.1), torch.optim.Adam([ta, tlate], lr=0.1)
    for step in range(4):          # `late` is not used in the first two steps: its grad is None
        ours.zero_grad()
        theirs.zero_grad()
        ((a * a).sum() + ((late * late).sum() if step >= 2 else 0.0)).backward()
        ((ta * ta).sum() + ((tlate * tlate).sum() if step >= 2 else 0.0)).backward()
        ours.step()
        theirs.step()
    assert_agree(a, ta, "a")
    assert_agree(late, tlate, "late")   # ours 0.3585, torch 0.3012 (first step of `late` is lr)
