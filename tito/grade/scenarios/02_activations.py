"""Checkpoint 02 as values: "Can I add nonlinearity that stays finite for any input?"

Uses `tt.tensor` (reference) and `tt.activations` (under grade).
"""

import warnings

import numpy as np

from _common import arr, dtype_name, registry, type_name

MODULE = "activations"
SCENARIOS = []
scenario = registry(SCENARIOS)

EXTREMES = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0], dtype=np.float32)


def _quietly(fn, *args, **kwargs):
    """(result, number of numpy RuntimeWarnings: overflow, invalid, divide by zero) of fn(*args).

    Underflow is not counted: exp(-1000) rounding to 0 is the right answer, and how many
    intermediate values underflow depends on harmless details of a stable formula."""
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    return result, sum(issubclass(w.category, RuntimeWarning) for w in caught)


@scenario(points=3, rtol=1e-6, atol=1e-7)
def relu(tt):
    Tensor, act = tt.tensor.Tensor, tt.activations
    rng = np.random.default_rng(201)
    data = rng.standard_normal((5, 4)).astype(np.float32)
    x = Tensor(data.copy())
    out = act.relu(x)
    return {"values": arr(out), "exact": arr(act.relu(Tensor([-2.0, 0.0, 3.0]))),
            "dtype": dtype_name(out), "float64 dtype": dtype_name(act.relu(Tensor(data.astype(np.float64)))),
            "type": type_name(out), "input unchanged": bool(np.array_equal(arr(x), data)),
            "from list": arr(act.relu([-1.0, 2.0]))}


@scenario(points=4, rtol=1e-6, atol=1e-7)
def sigmoid_stable(tt):
    Tensor, act = tt.tensor.Tensor, tt.activations
    rng = np.random.default_rng(202)
    moderate = rng.uniform(-8, 8, (3, 5)).astype(np.float32)
    extreme, warned = _quietly(act.sigmoid, Tensor(EXTREMES))
    return {"moderate": arr(act.sigmoid(Tensor(moderate))), "extremes": arr(extreme),
            "finite": bool(np.all(np.isfinite(arr(extreme)))), "warnings": warned,
            "dtype": dtype_name(extreme),
            "float64": arr(act.sigmoid(Tensor(moderate.astype(np.float64)))),
            "float64 dtype": dtype_name(act.sigmoid(Tensor(moderate.astype(np.float64))))}


@scenario(points=2, rtol=1e-6, atol=1e-7)
def tanh(tt):
    Tensor, act = tt.tensor.Tensor, tt.activations
    rng = np.random.default_rng(203)
    data = rng.uniform(-4, 4, (4, 3)).astype(np.float32)
    extreme, warned = _quietly(act.tanh, Tensor(EXTREMES))
    return {"values": arr(act.tanh(Tensor(data))), "extremes": arr(extreme), "warnings": warned,
            "dtype": dtype_name(extreme)}


@scenario(points=4, rtol=1e-5, atol=1e-7)
def softmax_stable(tt):
    Tensor, act = tt.tensor.Tensor, tt.activations
    rng = np.random.default_rng(204)
    scores = rng.standard_normal((4, 6)).astype(np.float32) * 3
    big, warned = _quietly(act.softmax, Tensor([[1000.0, 1000.0], [-1000.0, 0.0], [1e4, -1e4]]))
    rows = act.softmax(Tensor(scores))
    return {"rows": arr(rows), "row sums": arr(rows).sum(axis=-1),
            "axis 0": arr(act.softmax(Tensor(scores), axis=0)),
            "example": arr(act.softmax(Tensor([[1.0, 2.0, 3.0]]))),
            "big": arr(big), "warnings": warned, "dtype": dtype_name(rows),
            "1-d": arr(act.softmax(Tensor([0.0, np.log(3.0)])))}


@scenario(points=3, rtol=1e-5, atol=1e-6)
def log_softmax_stable(tt):
    Tensor, act = tt.tensor.Tensor, tt.activations
    rng = np.random.default_rng(205)
    scores = rng.standard_normal((3, 5)) * 4  # float64
    extreme, warned = _quietly(act.log_softmax, Tensor([[0.0, -1000.0], [1000.0, -1000.0]]))
    return {"values": arr(act.log_softmax(Tensor(scores))),
            "axis 0": arr(act.log_softmax(Tensor(scores), axis=0)),
            "extreme": arr(extreme), "warnings": warned,
            "float32 dtype": dtype_name(act.log_softmax(Tensor(scores.astype(np.float32))))}


@scenario(points=2, rtol=1e-6, atol=1e-7)
def activation_classes(tt):
    Tensor, act = tt.tensor.Tensor, tt.activations
    rng = np.random.default_rng(206)
    x = Tensor(rng.standard_normal((3, 4)).astype(np.float32))
    out = {}
    for name in ("ReLU", "Sigmoid", "Tanh", "Softmax"):
        layer = getattr(act, name)()
        out[name] = arr(layer(x))
        out[f"{name} forward"] = arr(layer.forward(x))
        out[f"{name} parameters"] = len(layer.parameters())
    out["Softmax axis 0"] = arr(act.Softmax(axis=0)(x))
    return out


@scenario(points=2, rtol=0, atol=0)
def graph_recording(tt):
    Tensor, act = tt.tensor.Tensor, tt.activations
    x = Tensor([[-1.0, 0.5, 2.0]], requires_grad=True)
    out = {}
    for name in ("relu", "sigmoid", "tanh"):
        result = getattr(act, name)(x)
        out[name] = f"{result._op}/{len(result._parents)}/{result._parents[0] is x}"
    for name in ("softmax", "log_softmax"):
        result = getattr(act, name)(x)
        out[f"{name} requires_grad"] = result.requires_grad and not result.is_leaf
    constant = act.sigmoid(Tensor([1.0]))
    out["constant records nothing"] = (not constant.requires_grad) and constant.is_leaf
    return out
