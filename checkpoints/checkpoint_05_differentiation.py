"""Checkpoint 05 (after module 05, autograd).

Question: "Can I automatically compute gradients for learning?"

Uses `tinytorch.core.tensor`, `.activations`, `.layers`, `.losses` and `.autograd`. Calling
`backward()` must fill `.grad` of every tensor created with `requires_grad=True` with the exact
derivative: through the chain rule, through layers, activations and losses, along every path of a
graph (summed), back through broadcasting; gradients accumulate until `zero_grad()`, long chains
and deep diamonds cost linear time, and both faces of autograd (Tensor and the classic Variable)
agree with calculus and with central differences.
"""

import gc
import math
import time
import weakref

import numpy as np
import pytest

from tinytorch.core.tensor import Tensor
from tinytorch.core.activations import ReLU, Sigmoid, sigmoid, tanh
from tinytorch.core.layers import Dense
from tinytorch.core.losses import CrossEntropyLoss, MeanSquaredError
from tinytorch.core.autograd import (Variable, add, check_gradients, divide, multiply, no_grad,
                                     numerical_gradient, subtract)


def grad_of(tensor) -> np.ndarray:
    """The gradient accumulated in `tensor`, as a numpy array (fails if there is none)."""
    assert tensor.grad is not None, "backward() left this tensor without a gradient"
    return np.asarray(tensor.grad.data)


def assert_close(actual, expected, rtol=1e-5):
    """float32 results against float64 expectations: relative, with an absolute floor scaled to
    the size of the expected values (a gradient entry of 1e-9 next to entries of 1 is zero)."""
    expected = np.asarray(expected, dtype=np.float64)
    floor = rtol * max(float(np.max(np.abs(expected), initial=0.0)), 1e-12)
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol, atol=floor)


# --------------------------------------------------------------------------- calculus by hand

def test_polynomial_on_a_non_scalar_output():
    # y = x^2 + 2x + 1 element-wise; backward() on a non-scalar seeds it with ones,
    # so each x receives dy/dx = 2x + 2.
    x = Tensor([[2.0, 3.0]], requires_grad=True)
    y = x * x + 2 * x + 1
    assert y.shape == (1, 2)
    y.backward()
    assert x.grad is not None
    np.testing.assert_array_equal(grad_of(x), [[6.0, 8.0]])
    assert x.grad.shape == x.shape


def test_chain_rule_through_an_intermediate():
    # u = 2x, z = u * u = 4x^2, dz/dx = dz/du * du/dx = 2u * 2 = 8x = 8 at x = 1.
    x = Tensor([[1.0]], requires_grad=True)
    u = x * 2
    z = u * u
    z.backward()
    np.testing.assert_array_equal(grad_of(x), [[8.0]])


def test_several_paths_add_up():
    # c = ab + a^2 + b^2: dc/da = b + 2a = 7, dc/db = a + 2b = 8 at (a, b) = (2, 3).
    a = Tensor([[2.0]], requires_grad=True)
    b = Tensor([[3.0]], requires_grad=True)
    c = a * b + a * a + b * b
    c.backward()
    np.testing.assert_array_equal(grad_of(a), [[7.0]])
    np.testing.assert_array_equal(grad_of(b), [[8.0]])


def test_one_tensor_used_on_two_paths_of_different_shape():
    # f = (x + y) * (x - y) = x^2 - y^2: df/dx = 2x = 4, df/dy = -2y = -6 at (2, 3).
    x = Tensor(2.0, requires_grad=True)
    y = Tensor(3.0, requires_grad=True)
    f = (x + y) * (x - y)
    assert f.item() == -5.0
    f.backward()
    assert grad_of(x).item() == 4.0 and grad_of(y).item() == -6.0


def test_rules_of_every_elementwise_operation():
    x = Tensor(np.array([0.5, 1.0, 2.0]), requires_grad=True)  # float64
    (x.exp() + x.log() + x ** 3 + 1 / x - x / 4).sum().backward()
    v = np.array([0.5, 1.0, 2.0])
    assert_close(grad_of(x), np.exp(v) + 1 / v + 3 * v ** 2 - 1 / v ** 2 - 0.25, rtol=1e-12)
    y = Tensor(np.array([-1.0, 0.5, 3.0]), requires_grad=True)
    (sigmoid(y) + tanh(y) + ReLU()(y)).sum().backward()
    w = np.array([-1.0, 0.5, 3.0])
    s = 1 / (1 + np.exp(-w))
    assert_close(grad_of(y), s * (1 - s) + (1 - np.tanh(w) ** 2) + (w > 0), rtol=1e-12)


def test_an_explicit_output_gradient_weights_each_element():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    y = x * 3
    y.backward(Tensor([[1.0, 0.5]]))
    np.testing.assert_array_equal(grad_of(x), [[3.0, 1.5]])


def test_matmul_and_reductions():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = Tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    (a @ b).sum().backward()
    # d sum(AB)/dA = ones @ B^T, d sum(AB)/dB = A^T @ ones
    np.testing.assert_array_equal(grad_of(a), [[11.0, 15.0], [11.0, 15.0]])
    np.testing.assert_array_equal(grad_of(b), [[4.0, 4.0], [6.0, 6.0]])
    m = Tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]], requires_grad=True)
    (m.mean() + m.max(axis=1).sum() + m.reshape(3, 2).T[0].sum()).backward()
    # mean: 1/6 each; max of each row: 1 at (0, 1) and (1, 0); reshape(3,2).T[0] picks 1, 2, 0
    expected = np.full((2, 3), 1 / 6) + [[0, 1, 0], [1, 0, 0]] + [[1, 0, 1], [0, 1, 0]]
    assert_close(grad_of(m), expected, rtol=1e-6)


def test_gradients_are_summed_back_over_broadcasting():
    x = Tensor(np.ones((4, 3), dtype=np.float32), requires_grad=True)
    row = Tensor([1.0, 2.0, 3.0], requires_grad=True)           # (3,) used by every row
    column = Tensor([[1.0], [2.0], [3.0], [4.0]], requires_grad=True)  # (4, 1) used by every column
    scale = Tensor(2.0, requires_grad=True)                       # () used everywhere
    ((x + row) * column * scale).sum().backward()
    assert row.grad.shape == (3,) and column.grad.shape == (4, 1) and scale.grad.shape == ()
    np.testing.assert_array_equal(grad_of(row), [20.0, 20.0, 20.0])       # 2 * (1+2+3+4)
    np.testing.assert_array_equal(grad_of(column), [[18.0], [18.0], [18.0], [18.0]])  # 2 * (2+3+4)
    assert grad_of(scale).item() == float(((np.ones((4, 3)) + [1, 2, 3]) * [[1], [2], [3], [4]]).sum())
    np.testing.assert_array_equal(grad_of(x), np.tile([[2.0], [4.0], [6.0], [8.0]], (1, 3)))


# --------------------------------------------------------------------------- networks

def test_dense_sigmoid_mse_by_hand():
    layer = Dense(input_size=2, output_size=1)
    layer.weights.data = np.array([[0.5], [-0.25]], dtype=np.float32)
    layer.bias.data = np.array([0.1], dtype=np.float32)
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    loss = MeanSquaredError()(Sigmoid()(layer(x)), Tensor([[0.5]]))
    loss.backward()
    # h = 0.5 - 0.5 + 0.1 = 0.1, s = sigmoid(h), loss = (s - 0.5)^2,
    # dloss/dh = 2 (s - 0.5) s (1 - s); then dW = x^T dh, db = dh, dx = dh W^T.
    s = 1 / (1 + math.exp(-0.1))
    assert loss.item() == pytest.approx((s - 0.5) ** 2, rel=1e-5)
    dh = 2 * (s - 0.5) * s * (1 - s)
    assert_close(grad_of(layer.weights), [[dh * 1.0], [dh * 2.0]])
    assert_close(grad_of(layer.bias), [dh])
    assert_close(grad_of(x), [[dh * 0.5, dh * -0.25]])
    assert layer.weights.grad.shape == (2, 1) and layer.bias.grad.shape == (1,)


def test_dense_sigmoid_mse_for_any_initialisation():
    layer, activation, loss_fn = Dense(input_size=2, output_size=1), Sigmoid(), MeanSquaredError()
    layer.weights.requires_grad = True
    layer.bias.requires_grad = True
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    loss = loss_fn(activation(layer(x)), Tensor([[0.5]]))
    loss.backward()
    w = np.asarray(layer.weights.data, dtype=np.float64)
    h = float(np.array([1.0, 2.0]) @ w[:, 0] + float(layer.bias.data[0]))
    s = 1 / (1 + math.exp(-h))
    dh = 2 * (s - 0.5) * s * (1 - s)
    assert_close(grad_of(layer.weights), [[dh], [2 * dh]])
    assert_close(grad_of(layer.bias), [dh])
    assert_close(grad_of(x), [[dh * w[0, 0], dh * w[1, 0]]])


def manual_backprop(x, layers, pre_activations, target):
    """Gradients of MSE(Dense3(relu(Dense2(relu(Dense1(x))))), target), in float64, by hand.

    `pre_activations` are the tensors tinytorch computed before each ReLU, so the ReLU masks are
    the ones the forward pass actually used."""
    ws = [np.asarray(layer.weights.data, dtype=np.float64) for layer in layers]
    z1, z2 = (np.asarray(z.data, dtype=np.float64) for z in pre_activations)
    h0 = np.asarray(x, dtype=np.float64)
    h1, h2 = np.maximum(z1, 0), np.maximum(z2, 0)
    prediction = h2 @ ws[2] + np.asarray(layers[2].bias.data, dtype=np.float64)
    d3 = 2 * (prediction - target) / prediction.size
    d2 = (d3 @ ws[2].T) * (z2 > 0)
    d1 = (d2 @ ws[1].T) * (z1 > 0)
    return {"w": [h0.T @ d1, h1.T @ d2, h2.T @ d3], "b": [d1.sum(0), d2.sum(0), d3.sum(0)],
            "x": d1 @ ws[0].T}


@pytest.mark.parametrize("batch", [2, 16])
def test_multilayer_network_gradients(batch):
    layer1, layer2, layer3 = Dense(3, 5), Dense(5, 2), Dense(2, 1)
    relu, loss_fn = ReLU(), MeanSquaredError()
    for layer in (layer1, layer2, layer3):
        layer.bias.data = np.random.uniform(-0.5, 0.5, layer.bias.shape).astype(np.float32)
    batch_input = Tensor(np.random.randn(batch, 3), requires_grad=True)  # float64, as numpy gives
    batch_target = np.random.randn(batch, 1)
    z1 = layer1(batch_input)
    z2 = layer2(relu(z1))
    loss = loss_fn(layer3(relu(z2)), Tensor(batch_target))
    loss.backward()
    expected = manual_backprop(batch_input.data, (layer1, layer2, layer3), (z1, z2), batch_target)
    for i, layer in enumerate((layer1, layer2, layer3)):
        assert layer.weights.grad is not None and layer.bias.grad is not None, f"layer {i + 1}"
        assert layer.weights.grad.shape == layer.weights.shape
        assert layer.bias.grad.shape == layer.bias.shape
        assert_close(grad_of(layer.weights), expected["w"][i], rtol=1e-4)
        assert_close(grad_of(layer.bias), expected["b"][i], rtol=1e-4)
    assert batch_input.grad.shape == (batch, 3)
    assert_close(grad_of(batch_input), expected["x"], rtol=1e-4)


def test_cross_entropy_gradient_is_softmax_minus_onehot(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    logits = Tensor(rng.standard_normal((6, 4)), requires_grad=True)  # float64
    labels = rng.integers(0, 4, 6)
    CrossEntropyLoss()(logits, Tensor(labels)).backward()
    z = logits.data - logits.data.max(axis=1, keepdims=True)
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert_close(grad_of(logits), (softmax - np.eye(4)[labels]) / 6, rtol=1e-10)


# --------------------------------------------------------------------------- accumulation

def test_gradients_accumulate_until_cleared():
    param = Tensor([[1.0, 2.0]], requires_grad=True)
    (param * 2).sum().backward()
    first = grad_of(param).copy()
    np.testing.assert_array_equal(first, [[2.0, 2.0]])
    (param * 3).sum().backward()
    np.testing.assert_array_equal(grad_of(param), [[5.0, 5.0]])
    # Clearing starts afresh.
    param.zero_grad()
    (param * 4).sum().backward()
    np.testing.assert_array_equal(grad_of(param), [[4.0, 4.0]])


def test_repeated_cycles_on_a_large_parameter():
    large = Tensor(np.random.randn(100, 100), requires_grad=True)
    for cycle in range(3):
        (large * (cycle + 1)).sum().backward()
        assert large.grad is not None and large.grad.shape == large.shape
        np.testing.assert_array_equal(grad_of(large), np.full((100, 100), cycle + 1.0))
        # A gradient is a plain value: it records no graph of its own.
        assert not large.grad.requires_grad
        large.zero_grad()
        assert large.grad is None or not np.any(grad_of(large))


def test_gradients_never_alias():
    # a and b receive the same upstream gradient from `+`; changing one must not change the other.
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data[...] = 100.0
    np.testing.assert_array_equal(grad_of(b), [1.0, 1.0])


def test_the_graph_is_released_after_use():
    x = Tensor(np.ones((50, 50)), requires_grad=True)
    hidden = x * 2
    try:
        probe = weakref.ref(hidden)
    except TypeError:
        pytest.skip("this Tensor class does not support weak references")
    loss = (hidden * hidden).sum()
    loss.backward()
    del hidden, loss
    gc.collect()
    assert probe() is None, "an intermediate result outlived its graph (leaked through x?)"
    np.testing.assert_array_equal(grad_of(x), np.full((50, 50), 8.0))


# --------------------------------------------------------------------------- graph shapes and cost

def test_diamond_graph_takes_linear_time():
    # Each level uses p twice, so there are 2^40 paths from the top to the leaf; a backward pass
    # that recursed once per path would never finish. The exact gradient is 1 (0.5 + 0.5 per level).
    leaf = Tensor(1.0, requires_grad=True)
    p = leaf
    for _ in range(40):
        p = p * 0.5 + p * 0.5
    start = time.perf_counter()
    p.backward()
    assert time.perf_counter() - start < 2.0
    assert grad_of(leaf).item() == 1.0


@pytest.mark.seed_independent  # no random state; the slowest test here, so it runs once
def test_long_chain_has_no_recursion_limit():
    x = Tensor(np.array(1.0), requires_grad=True)  # float64
    y = x
    for _ in range(10_000):  # 20,000 operations
        y = y * 1.0001 + 0.0
    y.backward()
    assert grad_of(x).item() == pytest.approx(1.0001 ** 10_000, rel=1e-9)


def test_no_grad_records_nothing():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        out = w * 3 + 1
    assert not out.requires_grad and out.is_leaf
    np.testing.assert_array_equal(np.asarray(out.data), [4.0, 7.0])
    assert (w * 3).requires_grad, "recording must resume after the block"
    try:
        with no_grad():
            raise KeyError("boom")
    except KeyError:
        pass
    assert (w * 3).requires_grad, "recording must resume even when the block raised"


# --------------------------------------------------------------------------- checking gradients

def test_numerical_gradient_in_float64():
    numeric = numerical_gradient(lambda t: (t ** 2).sum(), Tensor([1.0, 2.0, 3.0]))  # float32 input
    np.testing.assert_allclose(numeric, [2.0, 4.0, 6.0], atol=1e-7)


def test_check_gradients_agrees_with_autograd(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    a = Tensor(rng.standard_normal((4, 3)))
    c = Tensor(rng.standard_normal((4, 2)))

    def f(x):
        return (sigmoid(a @ x) * c).sum() + (x * x).mean()

    match, difference = check_gradients(f, rng.standard_normal((3, 2)))
    assert match, f"autograd and central differences differ by {difference}"
    assert difference < 1e-6


# --------------------------------------------------------------------------- the Variable face

def variable_grad(variable) -> float:
    assert variable.grad is not None
    return float(np.asarray(variable.grad.data.data).reshape(()))


def test_variable_polynomial():
    x = Variable(2.0, requires_grad=True)
    y = x ** 2 + 3 * x + 1
    assert float(np.asarray(y.data.data)) == 11.0
    assert not y.is_leaf and x.is_leaf
    y.backward()
    assert variable_grad(x) == 7.0  # 2x + 3


def test_variable_functions_and_operators():
    x, y = Variable(2.0, requires_grad=True), Variable(3.0, requires_grad=True)
    w = add(multiply(x, y), x)  # xy + x
    w.backward()
    assert (variable_grad(x), variable_grad(y)) == (4.0, 2.0)
    x, y = Variable(2.0, requires_grad=True), Variable(3.0, requires_grad=True)
    f = multiply(add(x, y), subtract(x, y))  # x^2 - y^2
    f.backward()
    assert (variable_grad(x), variable_grad(y)) == (4.0, -6.0)
    x, y = Variable(2.0, requires_grad=True), Variable(4.0, requires_grad=True)
    q = divide(x, y) + x / y  # 2 x / y
    q.backward()
    assert variable_grad(x) == pytest.approx(0.5) and variable_grad(y) == pytest.approx(-0.25)
    x, y = Variable(2.0, requires_grad=True), Variable(3.0, requires_grad=True)
    g = x ** 2 + 2 * x * y + y ** 2  # (x + y)^2
    g.backward()
    assert (variable_grad(x), variable_grad(y)) == (10.0, 10.0)


def test_variables_flow_through_layers():
    x = Variable([[1.0, 2.0, 3.0]], requires_grad=False)
    layer1, layer2 = Dense(3, 4), Dense(4, 1)
    out = layer2(ReLU()(layer1(x)))
    out.sum().backward()
    assert layer1.weights.grad is not None and layer2.weights.grad is not None
    assert layer1.weights.grad.shape == (3, 4) and layer2.bias.grad.shape == (1,)
    assert_close(grad_of(layer2.bias), [1.0])
