"""The operation table (tests/strategies.py) at its first levels, and the gradient checkers.

Every differentiable operation of the reference package is checked the same way:
  - its forward pass equals a numpy formula (float64, to 1e-12);
  - its gradient equals central differences (float64, eps 1e-6, atol 1e-5, rtol 1e-3: the
    settings of torch.autograd.gradcheck), contracted with random upstream weights;
  - float32 inputs give float32 values and float32 gradients;
  - without any input requiring a gradient, nothing is recorded.
The oracle level (PyTorch) is in test_tinytorch_oracle.py, the hypothesis level in
test_tinytorch_properties.py.
"""

import numpy as np
import pytest

from strategies import ATOL, OPS, RTOL, autograd_and_numeric
from tinytorch.core.autograd import (GRADIENT_RULES, check_gradients, numerical_gradient,
                                     topological_order)
from tinytorch.core.tensor import Tensor


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", OPS, ids=repr)
def test_forward_matches_numpy_formula(op):
    inputs = op.inputs()
    out = op.tiny(*[Tensor(x) for x in inputs])
    expected = op.numpy(*inputs)
    assert isinstance(out, Tensor)
    assert out.shape == np.shape(expected)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("op", OPS, ids=repr)
def test_gradient_matches_central_differences_in_float64(op):
    _, grads, numeric = autograd_and_numeric(op.tiny, op.inputs())
    for index, (grad, expected, shape) in enumerate(zip(grads, numeric, op.shapes)):
        assert grad is not None, f"input {index} received no gradient"
        assert grad.shape == shape, f"input {index}: gradient shape {grad.shape} != input shape {shape}"
        assert grad.dtype == np.float64
        np.testing.assert_allclose(grad.data, expected, atol=ATOL, rtol=RTOL,
                                   err_msg=f"{op.name}: gradient of input {index}")


@pytest.mark.parametrize("op", OPS, ids=repr)
def test_float32_inputs_give_float32_values_and_gradients(op):
    inputs64 = op.inputs()
    leaves = [Tensor(x.astype(np.float32), requires_grad=True) for x in inputs64]
    out = op.tiny(*leaves)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, op.numpy(*inputs64), rtol=2e-5, atol=2e-6)
    out.backward()
    for leaf in leaves:
        assert leaf.grad.dtype == np.float32
        assert leaf.grad.shape == leaf.shape


@pytest.mark.parametrize("op", OPS, ids=repr)
def test_nothing_is_recorded_when_no_input_requires_grad(op):
    out = op.tiny(*[Tensor(x) for x in op.inputs()])
    assert out.requires_grad is False
    assert out.is_leaf and out._parents == () and out._ctx is None
    with pytest.raises(RuntimeError):
        out.backward()


def test_the_table_exercises_every_gradient_rule():
    used = set()
    for op in OPS:
        out = op.tiny(*[Tensor(x, requires_grad=True) for x in op.inputs()])
        used |= {node._op for node in topological_order(out) if not node.is_leaf}
    assert used == set(GRADIENT_RULES)


# ---------------------------------------------------------------------------------------------
# numerical_gradient
# ---------------------------------------------------------------------------------------------

def test_numerical_gradient_of_a_cube_is_three_x_squared():
    x = np.array([-1.5, 0.5, 2.0])
    grad = numerical_gradient(lambda t: (t ** 3).sum(), Tensor(x))
    assert isinstance(grad, np.ndarray)
    assert grad.shape == (3,) and grad.dtype == np.float64
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=0, atol=1e-8)


def test_numerical_gradient_is_exactly_the_central_difference_formula():
    # For x^3 the central difference is 3x^2 + eps^2 (the x^3 error term has no x in it).
    x = np.array([[1.0, -2.0], [0.25, 3.0]])
    grad = numerical_gradient(lambda t: (t ** 3).sum(), Tensor(x), epsilon=1e-3)
    np.testing.assert_allclose(grad, 3 * x ** 2 + 1e-6, rtol=0, atol=1e-9)


def test_numerical_gradient_sums_a_non_scalar_output():
    x = np.array([[1.0, 2.0, 3.0]])
    grad = numerical_gradient(lambda t: t * t, Tensor(x))
    assert grad.shape == (1, 3)
    np.testing.assert_allclose(grad, 2 * x, rtol=0, atol=1e-8)


def test_numerical_gradient_computes_in_float64_for_a_float32_input():
    x = Tensor([0.5, 1.0])          # float32 by the dtype policy
    assert x.dtype == np.float32
    grad = numerical_gradient(lambda t: t.exp().sum(), x)
    assert grad.dtype == np.float64
    # float32 central differences with eps 1e-6 are off by ~1e-2; float64 by ~1e-9.
    np.testing.assert_allclose(grad, np.exp([0.5, 1.0]), rtol=0, atol=1e-8)


def test_numerical_gradient_leaves_its_input_alone():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    before = x.data.copy()
    numerical_gradient(lambda t: (t * t).sum(), x)
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None


def test_numerical_gradient_accepts_lists():
    np.testing.assert_allclose(numerical_gradient(lambda t: (t * t).sum(), [1.0, -3.0]), [2.0, -6.0],
                               rtol=0, atol=1e-8)


def test_numerical_gradient_of_a_function_returning_a_python_float_is_float64_accurate():
    x = Tensor(np.array([1.0, 2.0]))
    grad = numerical_gradient(lambda t: (t * t).sum().item(), x)
    np.testing.assert_allclose(grad, [2.0, 4.0], rtol=0, atol=1e-8)  # currently [1.907, 3.815]


# ---------------------------------------------------------------------------------------------
# check_gradients
# ---------------------------------------------------------------------------------------------

def smooth(t):
    return (t ** 3 + t.exp() * 2.0 - t).sum()


def test_check_gradients_accepts_a_correct_gradient():
    match, difference = check_gradients(smooth, Tensor(np.array([[-1.0, 0.5], [1.5, 2.0]])))
    assert match is True
    assert isinstance(difference, float)
    assert 0.0 <= difference < 1e-8


def test_check_gradients_checks_a_float32_input_in_float64_and_leaves_it_alone():
    x = Tensor([[-1.0, 0.5], [1.5, 2.0]], requires_grad=True)
    match, difference = check_gradients(smooth, x)
    assert match is True and difference < 1e-8
    assert x.grad is None and x.dtype == np.float32


def test_check_gradients_of_a_non_scalar_function_checks_its_sum():
    match, difference = check_gradients(lambda t: t * t * t, Tensor(np.array([1.0, -2.0, 0.5])))
    assert match is True and difference < 1e-8


def test_check_gradients_rejects_a_wrong_rule(monkeypatch):
    x = np.array([0.0, 1.0, 1.5])
    monkeypatch.setitem(GRADIENT_RULES, "exp", lambda node, grad: (2.0 * grad * node.data,))
    match, difference = check_gradients(lambda t: t.exp().sum(), Tensor(x))
    assert match is False
    # analytic 2e^x against numeric e^x: the largest gap is at the largest x.
    assert difference == pytest.approx(np.exp(1.5), rel=1e-6)


def test_check_gradients_tolerance_is_an_absolute_tolerance_plus_rtol_1e_3(monkeypatch):
    # A rule off by an absolute 1e-4 where the true gradient is ~0: passes at tolerance 1e-3 only.
    original = GRADIENT_RULES["pow"]
    monkeypatch.setitem(GRADIENT_RULES, "pow", lambda node, grad: (original(node, grad)[0] + 1e-4,))
    x = Tensor(np.array([0.0, 1e-3]))
    match_loose, difference = check_gradients(lambda t: (t ** 2).sum(), x, tolerance=1e-3)
    match_strict, _ = check_gradients(lambda t: (t ** 2).sum(), x, tolerance=1e-5)
    assert (match_loose, match_strict) == (True, False)
    assert difference == pytest.approx(1e-4, rel=1e-4)
