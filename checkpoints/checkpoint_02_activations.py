"""Checkpoint 02 (after module 02, activations).

Question: "Can I add nonlinearity that stays finite for any input?"

Uses `tinytorch.core.tensor` and `tinytorch.core.activations`. Each nonlinearity must give the
textbook values, keep the tensor's shape and dtype, and stay finite (no overflow, no NaN, no
numpy warning) for inputs as extreme as +-1000, where the naive formulas overflow.
"""

import math
import warnings

import numpy as np
import pytest

from tinytorch.core.tensor import Tensor
from tinytorch.core.activations import (GELU, ReLU, Sigmoid, Softmax, Tanh, gelu, log_softmax,
                                        relu, sigmoid, softmax, tanh)

EXTREMES = np.array([-1000.0, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1000.0], dtype=np.float32)


def values(tensor) -> np.ndarray:
    assert isinstance(tensor, Tensor), f"expected a Tensor, got {type(tensor).__name__}"
    return np.asarray(tensor.data)


@pytest.fixture
def strict_numpy():
    """Overflow, invalid operations and division by zero raise; so does any warning."""
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_relu_values():
    x = Tensor([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    np.testing.assert_array_equal(values(relu(x)), [[0, 0, 0, 0.5, 2]])
    np.testing.assert_array_equal(values(ReLU()(x)), [[0, 0, 0, 0.5, 2]])


def test_sigmoid_values():
    np.testing.assert_allclose(values(sigmoid(Tensor([0.0]))), [0.5])
    x = np.array([-3.0, -1.0, 0.5, 2.0], dtype=np.float32)
    expected = 1 / (1 + np.exp(-x.astype(np.float64)))
    np.testing.assert_allclose(values(sigmoid(Tensor(x))), expected, rtol=1e-6)
    np.testing.assert_allclose(values(Sigmoid()(Tensor(x))), expected, rtol=1e-6)


def test_tanh_values():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=np.float32)
    np.testing.assert_allclose(values(tanh(Tensor(x))), np.tanh(x.astype(np.float64)), rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(values(Tanh()(Tensor(x))), np.tanh(x.astype(np.float64)), rtol=1e-6,
                               atol=1e-7)


def test_gelu_values_in_both_forms():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(values(gelu(Tensor(x))), exact, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(values(GELU()(Tensor(x))), exact, rtol=1e-12, atol=1e-15)
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(values(gelu(Tensor(x), approximate="tanh")), tanh_form, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(values(GELU(approximate="tanh")(Tensor(x))), tanh_form, rtol=1e-12, atol=1e-15)


def test_softmax_values():
    x = Tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    e = np.exp([1.0, 2.0, 3.0])
    expected = np.array([e / e.sum(), [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(values(softmax(x)), expected, rtol=1e-6)
    np.testing.assert_allclose(values(Softmax()(x)), expected, rtol=1e-6)
    np.testing.assert_allclose(values(log_softmax(x)), np.log(expected), rtol=1e-6)


def test_softmax_along_an_axis():
    x = Tensor([[1.0, 5.0], [3.0, 5.0]])
    columns = values(softmax(x, axis=0))
    np.testing.assert_allclose(columns.sum(axis=0), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(columns[:, 1], [0.5, 0.5], rtol=1e-6)
    np.testing.assert_allclose(values(Softmax(axis=0)(x)), columns, rtol=1e-6)


def test_extreme_inputs_stay_finite(strict_numpy):
    x = Tensor(EXTREMES)
    s = values(sigmoid(x))
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    assert s[0] == 0.0 and s[-1] == 1.0, f"sigmoid(-+1000) should saturate to 0 and 1, got {s}"
    assert s[4] == 0.5
    t = values(tanh(x))
    assert np.all(np.isfinite(t)) and t[0] == -1.0 and t[-1] == 1.0
    r = values(relu(x))
    np.testing.assert_array_equal(r, np.maximum(EXTREMES, 0))
    for form in ("none", "tanh"):
        g = values(gelu(x, approximate=form))
        assert np.all(np.isfinite(g)), f"gelu ({form}) must stay finite, got {g}"
        assert g[0] == 0.0 and g[-1] == 1000.0, f"gelu ({form}) of -+1000 should be 0 and 1000, got {g}"


def test_softmax_of_huge_scores_is_finite(strict_numpy):
    equal = values(softmax(Tensor([[1000.0, 1000.0, 1000.0]])))
    np.testing.assert_allclose(equal, [[1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    spread = values(softmax(Tensor([[-1000.0, 0.0, 1000.0]])))
    assert np.all(np.isfinite(spread))
    np.testing.assert_allclose(spread, [[0.0, 0.0, 1.0]], atol=1e-30)
    logs = values(log_softmax(Tensor([[-1000.0, 0.0, 1000.0]])))
    assert np.all(np.isfinite(logs)), "log_softmax must not take log(0)"
    np.testing.assert_allclose(logs, [[-2000.0, -1000.0, 0.0]], rtol=1e-6)


def test_softmax_ignores_a_shift(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    base = values(softmax(Tensor(x)))
    for shift in (-500.0, 100.0, 500.0):
        np.testing.assert_allclose(values(softmax(Tensor(x + np.float32(shift)))), base,
                                   rtol=2e-3, atol=1e-6)


def test_random_inputs_at_any_scale(checkpoint_seed, strict_numpy):
    rng = np.random.default_rng(checkpoint_seed)
    for scale in (1.0, 30.0, 1000.0):
        x = (rng.standard_normal((8, 6)) * scale).astype(np.float32)
        x64 = x.astype(np.float64)
        s = values(sigmoid(Tensor(x)))
        with np.errstate(over="ignore"):
            np.testing.assert_allclose(s, 1 / (1 + np.exp(-x64)), rtol=1e-5, atol=1e-30)
        np.testing.assert_allclose(values(tanh(Tensor(x))), np.tanh(x64), rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(values(relu(Tensor(x))), np.maximum(x, 0))
        p = values(softmax(Tensor(x)))
        assert np.all(np.isfinite(p)) and np.all(p >= 0)
        np.testing.assert_allclose(p.sum(axis=-1), np.ones(8), rtol=1e-5)
        shifted = x64 - x64.max(axis=-1, keepdims=True)
        expected = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        np.testing.assert_allclose(values(log_softmax(Tensor(x))), expected, rtol=1e-5, atol=1e-5)


def test_sigmoid_is_symmetric(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    x = rng.uniform(-15, 15, 50).astype(np.float32)
    np.testing.assert_allclose(values(sigmoid(Tensor(x))) + values(sigmoid(Tensor(-x))),
                               np.ones(50), rtol=1e-6)


def test_shape_and_dtype_are_kept():
    for dtype in (np.float32, np.float64):
        x = Tensor(np.linspace(-3, 3, 24).reshape(2, 3, 4).astype(dtype))
        for fn in (relu, sigmoid, tanh, gelu, softmax, ReLU(), Sigmoid(), Tanh(), GELU(), Softmax()):
            out = fn(x)
            assert out.shape == (2, 3, 4), f"{fn} changed the shape"
            assert out.dtype == dtype, f"{fn} turned {np.dtype(dtype)} into {out.dtype}"


def test_activations_are_layers_without_parameters():
    for layer in (ReLU(), Sigmoid(), Tanh(), GELU(), Softmax()):
        assert callable(layer)
        assert list(layer.parameters()) == []


def test_activations_pass_the_graph_on():
    x = Tensor([[-1.0, 2.0]], requires_grad=True)
    for fn in (relu, sigmoid, tanh, gelu, softmax, log_softmax):
        out = fn(x)
        assert out.requires_grad and not out.is_leaf, f"{fn.__name__} dropped the graph"
