"""The API the seeds fix (shared/seeds/), exercised as plain tests against the reference package.

- seed 000: the differentiation checkpoint, one test per scenario;
- seed 001: the Variable tests of the autograd module source;
- seed 004: the Variable examples of the module README (and its gradient-rule table);
- seed 002: the autograd demo notebook's flows (which died there with "unhashable type: 'Tensor'");
- the aliases the wider TinyTorch world uses.
"""

import numpy as np
import pytest

from tinytorch.core.activations import ReLU, Sigmoid
from tinytorch.core.autograd import (Variable, add, backward, check_gradients, divide, multiply,
                                     no_grad, numerical_gradient, subtract)
from tinytorch.core.layers import Dense, Linear
from tinytorch.core.losses import (BCELoss, BinaryCrossEntropy, CrossEntropy, CrossEntropyLoss,
                                   MeanSquaredError, MSELoss)
from tinytorch.core.tensor import Tensor


# ---------------------------------------------------------------------------------------------
# Seed 000: checkpoint "Can I automatically compute gradients for learning?"
# ---------------------------------------------------------------------------------------------

def test_seed000_basic_gradient_of_a_non_scalar_output():
    x = Tensor([[2.0, 3.0]], requires_grad=True)
    y = x * x + 2 * x + 1
    y.backward()                                   # non-scalar: seeded with ones
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.data, [[6.0, 8.0]])   # 2x + 2


def test_seed000_network_gradients_reach_weights_bias_and_input():
    layer, activation, loss_fn = Dense(input_size=2, output_size=1), Sigmoid(), MeanSquaredError()
    layer.weights.requires_grad = True
    layer.bias.requires_grad = True
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    out = activation(layer(x))
    loss = loss_fn(out, Tensor([[0.5]]))
    loss.backward()
    assert layer.weights.grad.shape == (2, 1)
    assert layer.bias.grad.shape == (1,)
    assert x.grad.shape == (1, 2)
    # by hand: dL/dh = 2 (s - 0.5) s (1 - s)
    s = out.data
    dh = 2 * (s - 0.5) * s * (1 - s)
    np.testing.assert_allclose(layer.weights.grad.data, x.data.T @ dh, rtol=1e-5)
    np.testing.assert_allclose(layer.bias.grad.data, dh.sum(axis=0), rtol=1e-5)
    np.testing.assert_allclose(x.grad.data, dh @ layer.weights.data.T, rtol=1e-5)


def test_seed000_chain_rule():
    x = Tensor([[1.0]], requires_grad=True)
    u = x * 2
    z = u * u
    z.backward()
    np.testing.assert_array_equal(x.grad.data, [[8.0]])


def test_seed000_multi_layer_network_gradients():
    layer1, layer2, layer3, relu = Dense(3, 5), Dense(5, 2), Dense(2, 1), ReLU()
    for layer in (layer1, layer2, layer3):
        layer.weights.requires_grad = True
        layer.bias.requires_grad = True
    rng = np.random.default_rng(0)
    batch = Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    prediction = layer3(relu(layer2(relu(layer1(batch)))))
    MeanSquaredError()(prediction, Tensor(rng.normal(size=(2, 1)))).backward()
    for layer in (layer1, layer2, layer3):
        assert layer.weights.grad is not None and layer.weights.grad.shape == layer.weights.shape
        assert layer.bias.grad is not None and layer.bias.grad.shape == layer.bias.shape
    assert batch.grad.shape == (2, 3)


def test_seed000_gradient_accumulation():
    param = Tensor([[1.0, 2.0]], requires_grad=True)
    (param * 2).sum().backward()
    first = param.grad.data.copy()
    (param * 3).sum().backward()
    np.testing.assert_array_equal(param.grad.data, first + 3.0)
    np.testing.assert_array_equal(param.grad.data, [[5.0, 5.0]])


def test_seed000_gradient_zeroing():
    param = Tensor([[1.0, 2.0]], requires_grad=True)
    (param * 2).sum().backward()
    param.zero_grad()
    (param * 4).sum().backward()
    np.testing.assert_array_equal(param.grad.data, [[4.0, 4.0]])


def test_seed000_graph_with_several_paths():
    a, b = Tensor([[2.0]], requires_grad=True), Tensor([[3.0]], requires_grad=True)
    c = a * b + a * a + b * b
    c.backward()
    np.testing.assert_array_equal(a.grad.data, [[7.0]])    # b + 2a
    np.testing.assert_array_equal(b.grad.data, [[8.0]])    # a + 2b


def test_seed000_repeated_forward_backward_cycles():
    large = Tensor(np.random.default_rng(1).normal(size=(100, 100)), requires_grad=True)
    for i in range(3):
        (large * (i + 1)).sum().backward()
        assert large.grad.shape == (100, 100)
        np.testing.assert_array_equal(large.grad.data, np.full((100, 100), i + 1.0))
        large.zero_grad()
        assert large.grad is None


# ---------------------------------------------------------------------------------------------
# Seed 001: the Variable tests
# ---------------------------------------------------------------------------------------------

def item(variable) -> float:
    """The seeds' way of reading a value: Variable.data is a Tensor, Tensor.data an ndarray."""
    return variable.data.data.item()


def test_seed001_variable_class():
    x = Variable(5.0, requires_grad=True)
    assert x.requires_grad is True and x.is_leaf is True and x.grad is None
    assert isinstance(x.data, Tensor) and item(x) == 5.0
    assert x.shape == () and x.size == 1
    y = Variable([1, 2, 3], requires_grad=True)
    assert y.shape == (3,) and y.size == 3
    assert Variable(10.0, requires_grad=False).requires_grad is False
    assert Variable(1.0).requires_grad is True          # the default
    x.grad = Variable(1.0)
    assert isinstance(x.grad, Variable) and item(x.grad) == 1.0
    x.zero_grad()
    assert x.grad is None


def test_seed001_add():
    x, y = Variable(2.0), Variable(3.0)
    z = add(x, y)
    assert isinstance(z, Variable)
    assert item(z) == 5.0 and z.requires_grad is True and z.is_leaf is False
    z.backward()
    assert isinstance(x.grad, Variable)
    assert item(x.grad) == 1.0 and item(y.grad) == 1.0
    a = Variable(5.0)
    b = add(a, 3.0)
    assert item(b) == 8.0
    b.backward()
    assert item(a.grad) == 1.0


def test_seed001_multiply():
    x, y = Variable(2.0), Variable(3.0)
    z = multiply(x, y)
    assert item(z) == 6.0 and z.requires_grad is True
    z.backward()
    assert (item(x.grad), item(y.grad)) == (3.0, 2.0)
    a = Variable(4.0)
    b = multiply(a, 2.0)
    assert item(b) == 8.0
    b.backward()
    assert item(a.grad) == 2.0


def test_seed001_subtract():
    x, y = Variable(5.0), Variable(3.0)
    z = subtract(x, y)
    assert item(z) == 2.0 and z.requires_grad is True
    z.backward()
    assert (item(x.grad), item(y.grad)) == (1.0, -1.0)
    a = Variable(4.0)
    b = subtract(a, 2.0)
    assert item(b) == 2.0
    b.backward()
    assert item(a.grad) == 1.0


def test_seed001_divide_and_the_slash_operator():
    x, y = Variable(6.0), Variable(4.0)
    z = x / y                                   # the seed used `/` without defining divide
    assert isinstance(z, Variable) and item(z) == 1.5
    z.backward()
    assert item(x.grad) == 0.25 and item(y.grad) == -6.0 / 16.0
    a = Variable(4.0)
    assert item(divide(a, 2.0)) == 2.0
    b = 8.0 / a
    assert item(b) == 2.0
    b.backward()
    assert item(a.grad) == -0.5                 # -8 / a^2


def test_seed001_scalars_on_either_side():
    x = Variable(3.0)
    for result, expected in [(add(2.0, x), 5.0), (subtract(10.0, x), 7.0), (multiply(2.0, x), 6.0),
                             (divide(9.0, x), 3.0), (2.0 + x, 5.0), (10.0 - x, 7.0), (2.0 * x, 6.0),
                             (x - 1.0, 2.0), (-x, -3.0), (x ** 2, 9.0)]:
        assert isinstance(result, Variable)
        assert item(result) == expected


def test_seed001_chain_rule():
    x, y = Variable(3.0), Variable(2.0)
    result = multiply(add(x, y), subtract(x, y))
    assert item(result) == 5.0
    result.backward()
    assert item(x.grad) == pytest.approx(6.0, abs=1e-6)
    assert item(y.grad) == pytest.approx(-4.0, abs=1e-6)
    x2 = Variable(1.0)
    result2 = multiply(multiply(add(x2, 1.0), add(x2, 2.0)), add(x2, 3.0))
    assert item(result2) == 24.0
    result2.backward()
    assert item(x2.grad) == pytest.approx(26.0, abs=1e-6)     # 3x^2 + 12x + 11


def test_seed001_linear_regression_training_loop():
    w, b = Variable(0.1), Variable(0.0)
    data = list(zip([1.0, 2.0, 3.0, 4.0], [3.0, 5.0, 7.0, 9.0]))     # y = 2x + 1
    for _ in range(100):
        total = Variable(0.0)
        for x_value, y_value in data:
            x, target = Variable(x_value, requires_grad=False), Variable(y_value, requires_grad=False)
            error = subtract(add(multiply(w, x), b), target)
            total = add(total, multiply(error, error))
        w.zero_grad()
        b.zero_grad()
        total.backward()
        w.data = Tensor(w.data.data - 0.01 * w.grad.data.data)
        b.data = Tensor(b.data.data - 0.01 * b.grad.data.data)
        assert w.is_leaf and b.is_leaf and w.requires_grad     # assigning .data makes a fresh leaf
    assert abs(item(w) - 2.0) < 0.1
    assert abs(item(b) - 1.0) < 0.1
    prediction = add(multiply(w, Variable(5.0, requires_grad=False)), b)
    assert abs(item(prediction) - 11.0) < 0.5


def test_seed001_grad_fn_and_repr():
    x = Variable(2.0)
    assert x.grad_fn is None
    z = add(x, 1.0)
    assert z.grad_fn.__name__ == "add_rule"
    assert multiply(x, x).grad_fn.__name__ == "mul_rule"
    assert repr(x) == "Variable(2.0, requires_grad=True)"
    assert repr(z) == "Variable(3.0, requires_grad=True, grad_fn=add_rule)"


def test_seed001_backward_is_importable_from_autograd():
    x = Tensor([1.0, 2.0], requires_grad=True)
    backward((x * x).sum())
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


# ---------------------------------------------------------------------------------------------
# Seed 004: the README's Variable examples
# ---------------------------------------------------------------------------------------------

def test_seed004_what_you_will_build():
    x, y = Variable(5.0, requires_grad=True), Variable(3.0, requires_grad=True)
    z = x * y + x ** 2
    z.backward()
    assert item(x.grad) == 13.0         # y + 2x
    assert item(y.grad) == 5.0          # x


def test_seed004_differentiable_operations():
    def f(x, y):
        return x ** 2 + 2 * x * y + y ** 2

    x, y = Variable(2.0, requires_grad=True), Variable(3.0, requires_grad=True)
    f(x, y).backward()
    assert (item(x.grad), item(y.grad)) == (10.0, 10.0)     # 2x + 2y


def test_seed004_computational_graph_example():
    x, y = Variable(2.0), Variable(3.0)
    f = (x + y) * (x - y)
    assert item(f) == -5.0
    f.backward()
    assert (item(x.grad), item(y.grad)) == (4.0, -6.0)


def test_seed004_manual_tests():
    x = Variable(2.0, requires_grad=True)
    y = x ** 2 + 3 * x + 1
    y.backward()
    assert item(x.grad) == 7.0
    x, y = Variable(2.0, requires_grad=True), Variable(3.0, requires_grad=True)
    w = x * y + x
    w.backward()
    assert (item(x.grad), item(y.grad)) == (4.0, 2.0)


def test_seed001_module_docstring_example():
    x, y = Variable(3.0, requires_grad=True), Variable(4.0, requires_grad=True)
    (x ** 2 + 2 * x * y + y ** 2).backward()
    assert item(x.grad) == 14.0


@pytest.mark.parametrize("rule,fn,derivative", [
    ("add", lambda x: x + 3.0, lambda x: 1.0),
    ("mul", lambda x: x * 3.0, lambda x: 3.0),
    ("pow", lambda x: x ** 3, lambda x: 3 * x ** 2),
    ("exp", lambda x: x.as_tensor().exp(), np.exp),
    ("log", lambda x: x.as_tensor().log(), lambda x: 1 / x),
    ("relu", lambda x: ReLU()(x), lambda x: float(x > 0)),
    ("sigmoid", lambda x: Sigmoid()(x), lambda x: 1 / (1 + np.exp(-x)) * (1 - 1 / (1 + np.exp(-x)))),
])
@pytest.mark.parametrize("value", [-0.7, 1.3])
def test_seed004_gradient_rules_table(rule, fn, derivative, value):
    if rule == "log" and value < 0:
        value = -value
    x = Variable(np.float64(value))
    fn(x).backward()
    assert item(x.grad) == pytest.approx(derivative(value), rel=1e-12)


def test_seed004_integration_with_dense_and_relu():
    x = Variable([[1.0, 2.0, 3.0]])
    layer, relu = Dense(3, 2, rng=np.random.default_rng(0)), ReLU()
    layer.bias = Tensor(np.array([0.5, -100.0], dtype=np.float32), requires_grad=True)
    output = relu(layer(x))
    output.sum().backward()
    mask = np.array([[1.0, 0.0]], dtype=np.float32)   # the second unit is dead (bias -100)
    np.testing.assert_array_equal(layer.bias.grad.data, mask[0])
    np.testing.assert_array_equal(layer.weights.grad.data, x.data.data.T @ mask)
    np.testing.assert_array_equal(x.grad.data.data, mask @ layer.weights.data.T)


def test_seed004_two_dense_layers_with_a_variable_input():
    x = Variable([[1.0, 2.0, 3.0]])
    layer1, layer2, relu = Dense(3, 4), Dense(4, 1), ReLU()
    layer2(relu(layer1(x))).sum().backward()
    assert layer1.weights.grad.shape == (3, 4) and layer2.weights.grad.shape == (4, 1)


# ---------------------------------------------------------------------------------------------
# Seed 002: the demo notebook's flows
# ---------------------------------------------------------------------------------------------

def test_seed002_square():
    x = Tensor([3.0], requires_grad=True)
    (x ** 2).backward()
    np.testing.assert_array_equal(x.grad.data, [6.0])


def test_seed002_multivariable():
    x, y = Tensor([2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    z = x * y + x ** 2
    z.backward()
    np.testing.assert_array_equal(z.data, [10.0])
    np.testing.assert_array_equal(x.grad.data, [7.0])
    np.testing.assert_array_equal(y.grad.data, [2.0])


def test_seed002_sum_of_squares():
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = (x ** 2).sum()
    y.backward()
    assert y.data == 30.0
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0, 6.0, 8.0])


def test_seed002_chains():
    x = Tensor([2.0], requires_grad=True)
    ((x ** 2) ** 2).backward()
    np.testing.assert_array_equal(x.grad.data, [32.0])
    x = Tensor([2.0], requires_grad=True)
    z = (x ** 2 + 1) ** 3
    np.testing.assert_array_equal(z.data, [125.0])
    z.backward()
    np.testing.assert_array_equal(x.grad.data, [300.0])      # 3 (x^2+1)^2 * 2x


def test_seed002_multiple_paths():
    x = Tensor([3.0], requires_grad=True)
    (x ** 2 + x * 3).backward()
    np.testing.assert_array_equal(x.grad.data, [9.0])


def test_seed002_building_a_graph():
    x, y = Tensor([2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    a = x * y
    b = a + x ** 2
    c = b * 2
    assert (a.data[0], b.data[0], c.data[0]) == (6.0, 10.0, 20.0)
    c.backward()
    assert (x.grad.data[0], y.grad.data[0]) == (14.0, 4.0)


def test_seed002_matrix_graph():
    A = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    B = Tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    C = A @ B
    loss = C.sum()
    np.testing.assert_array_equal(C.data, [[19.0, 22.0], [43.0, 50.0]])
    assert loss.data == 134.0
    loss.backward()
    np.testing.assert_array_equal(A.grad.data, [[11.0, 15.0], [11.0, 15.0]])
    np.testing.assert_array_equal(B.grad.data, [[4.0, 4.0], [6.0, 6.0]])


def test_seed002_linear_regression_with_no_grad_updates(grad_mode_guard):
    rng = np.random.default_rng(42)
    X_data = rng.normal(size=(100, 1)) * 2
    y_data = 3 * X_data + 2 + rng.normal(size=(100, 1)) * 0.5
    X, y_true = Tensor(X_data), Tensor(y_data)
    w = Tensor(rng.normal(size=(1, 1)), requires_grad=True)
    b = Tensor(np.zeros((1, 1)), requires_grad=True)
    losses = []
    for _ in range(500):
        loss = ((X @ w + b - y_true) ** 2).mean()
        w.zero_grad()
        b.zero_grad()
        loss.backward()
        with no_grad():
            w.data -= 0.01 * w.grad.data
            b.data -= 0.01 * b.grad.data
        losses.append(loss.item())
        assert w.is_leaf and b.is_leaf
    assert all(later <= earlier for earlier, later in zip(losses, losses[1:]))
    least_squares = np.linalg.lstsq(np.hstack([X_data, np.ones_like(X_data)]), y_data, rcond=None)[0]
    np.testing.assert_allclose([w.data[0, 0], b.data[0, 0]], least_squares.ravel(), atol=1e-3)
    assert abs(w.data[0, 0] - 3.0) < 0.1 and abs(b.data[0, 0] - 2.0) < 0.1


def test_seed002_two_layer_network(grad_mode_guard):
    rng = np.random.default_rng(42)
    X_data = rng.normal(size=(200, 2))
    y_data = (X_data[:, 0] ** 2 + X_data[:, 1] ** 2 > 1).astype(float).reshape(-1, 1)
    X_train, y_train = Tensor(X_data[:150]), Tensor(y_data[:150])
    X_test, y_test = Tensor(X_data[150:]), Tensor(y_data[150:])
    W1 = Tensor(rng.normal(size=(2, 10)) * 0.1, requires_grad=True)
    b1 = Tensor(np.zeros((1, 10)), requires_grad=True)
    W2 = Tensor(rng.normal(size=(10, 1)) * 0.1, requires_grad=True)
    b2 = Tensor(np.zeros((1, 1)), requires_grad=True)
    params = [W1, b1, W2, b2]

    def relu(x):
        return x * (x.data > 0)         # the demo's ReLU: a Tensor times a boolean ndarray

    losses = []
    for _ in range(300):
        loss = ((relu(X_train @ W1 + b1) @ W2 + b2 - y_train) ** 2).mean()
        for p in params:
            p.zero_grad()
        loss.backward()
        with no_grad():
            for p in params:
                p.data -= 0.1 * p.grad.data
        losses.append(loss.item())
    with no_grad():
        predictions = ((relu(X_test @ W1 + b1) @ W2 + b2).data > 0.5).astype(float)
    assert losses[-1] < 0.5 * losses[0]
    assert (predictions == y_test.data).mean() >= 0.8


def test_seed002_gradient_checking_a_simple_function():
    def f(x):
        return ((x ** 2) * 3 + x).sum()

    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    match, difference = check_gradients(f, x, epsilon=1e-5, tolerance=1e-5)
    assert match and difference < 1e-5
    x.zero_grad()
    f(x).backward()
    np.testing.assert_array_equal(x.grad.data, [7.0, 13.0, 19.0])      # 6x + 1
    np.testing.assert_allclose(numerical_gradient(f, x), [7.0, 13.0, 19.0], atol=1e-6)


def test_seed002_gradient_checking_a_matrix_function():
    def matrix_func(A):
        B = Tensor([[2.0, 3.0], [4.0, 5.0]], requires_grad=False)
        return ((A @ B) ** 2).sum()

    match, difference = check_gradients(matrix_func, Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True))
    assert match is True and difference < 1e-5


def test_seed002_pitfall_forgetting_to_zero_gradients():
    x = Tensor([2.0], requires_grad=True)
    (x ** 2).backward()
    np.testing.assert_array_equal(x.grad.data, [4.0])
    (x * 3).backward()
    np.testing.assert_array_equal(x.grad.data, [7.0])       # accumulated
    x.zero_grad()
    (x * 3).backward()
    np.testing.assert_array_equal(x.grad.data, [3.0])


def test_seed002_pitfall_non_scalar_backward_follows_seed000_and_seeds_ones():
    # The demo expected a RuntimeError; the checkpoint (seed 000), which is the contract, calls
    # backward() on a non-scalar and expects the gradient of its sum.
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x * 2).backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 2), 2.0))


def test_seed002_pitfall_no_grad_forward_cannot_be_differentiated(grad_mode_guard):
    x = Tensor([2.0], requires_grad=True)
    with no_grad():
        y = x ** 2
    with pytest.raises(RuntimeError, match="does not require gradients"):
        y.backward()
    (x ** 2).backward()
    np.testing.assert_array_equal(x.grad.data, [4.0])


# ---------------------------------------------------------------------------------------------
# Aliases
# ---------------------------------------------------------------------------------------------

def test_aliases():
    assert Linear is Dense
    assert MSELoss is MeanSquaredError
    assert CrossEntropy is CrossEntropyLoss
    assert BCELoss is BinaryCrossEntropy


def test_weight_is_the_same_tensor_as_weights():
    layer = Linear(3, 2)
    assert layer.weight is layer.weights
    replacement = Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    layer.weight = replacement
    assert layer.weights is replacement
    assert layer.parameters()[0] is replacement
