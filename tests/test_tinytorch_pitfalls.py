"""The known pitfalls of toy autograd engines (DESIGN.md section 5, ANCHORS.md), one test each that
would catch it, and the rules of the backward engine (no_grad, seeding, errors, accumulation).
"""

import gc
import re
import warnings
import weakref

import numpy as np
import pytest

from tinytorch.core import activations as act
from tinytorch.core.autograd import (GRADIENT_RULES, Variable, check_gradients, no_grad,
                                     topological_order)
from tinytorch.core.layers import Dense, Sequential
from tinytorch.core.losses import binary_cross_entropy, cross_entropy
from tinytorch.core.optimizers import SGD, Adam
from tinytorch.core.tensor import Tensor


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# ---------------------------------------------------------------------------------------------
# Recursion depth: a long chain
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("operations", [
    10_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_backward_through_a_long_chain_of_operations(operations):
    x = leaf(1.0)
    y = x
    for _ in range(operations // 2):
        y = y * 0.9999 + 0.0001          # two recorded operations per iteration
    assert len(topological_order(y)) == operations + 1
    y.backward()                          # a recursive engine raises RecursionError here
    assert x.grad.data == pytest.approx(0.9999 ** (operations // 2), rel=1e-9)
    del y                                 # freeing the chain must not recurse either
    gc.collect()


# ---------------------------------------------------------------------------------------------
# Per-path backward: a diamond graph
# ---------------------------------------------------------------------------------------------

def diamond(depth: int):
    """p <- p*0.5 + p*0.5, `depth` times: 2^depth paths from the output back to x."""
    x = leaf(1.0)
    p = x
    for _ in range(depth):
        p = p * 0.5 + p * 0.5
    return x, p


def test_diamond_40_levels_deep_has_gradient_exactly_one():
    x, p = diamond(40)
    p.backward()
    assert p.data == 1.0
    assert x.grad.data == 1.0          # per-path backward: 2^40 path visits, or a wrong sum


@pytest.mark.parametrize("depth", [20, 40])
def test_backward_visits_each_node_of_a_diamond_once(monkeypatch, depth):
    calls = []
    for name, rule in list(GRADIENT_RULES.items()):
        monkeypatch.setitem(GRADIENT_RULES, name,
                            lambda node, grad, rule=rule: calls.append(id(node)) or rule(node, grad))
    x, p = diamond(depth)
    order = topological_order(p)
    assert len(order) == 3 * depth + 1         # two multiplies and one add per level, and x
    assert len({id(node) for node in order}) == len(order)
    p.backward()
    assert len(calls) == 3 * depth             # one gradient rule call per operation: linear
    assert len(set(calls)) == len(calls)
    assert x.grad.data == 1.0


# ---------------------------------------------------------------------------------------------
# __eq__ and hashing
# ---------------------------------------------------------------------------------------------

def test_tensors_hash_by_identity_and_live_in_sets_and_dict_keys():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    assert len({a, b}) == 2
    table = {a: "a", b: "b"}
    assert table[a] == "a" and table[b] == "b"
    assert a in {a} and b not in {a}
    before = hash(a)
    a.data = [5.0, 6.0]
    assert hash(a) == before and a in table


def test_tensor_equality_is_element_wise():
    a, b = Tensor([1.0, 2.0, 3.0]), Tensor([1.0, 5.0, 3.0])
    for result, expected in [(a == b, [True, False, True]), (a != b, [False, True, False]),
                             (a < b, [False, True, False]), (a <= b, [True, True, True]),
                             (a > b, [False, False, False]), (a >= b, [True, False, True]),
                             (a == 2.0, [False, True, False])]:
        assert isinstance(result, Tensor) and result.dtype == np.bool_
        np.testing.assert_array_equal(result.data, expected)


def test_equal_valued_intermediates_stay_distinct_nodes():
    a = leaf([3.0])
    b, c = a * 1.0, a * 1.0                    # equal values, two different nodes
    (b * 2.0 + c * 5.0).backward()
    np.testing.assert_array_equal(a.grad.data, [7.0])


# ---------------------------------------------------------------------------------------------
# Broadcast gradients summed back to each input's shape
# ---------------------------------------------------------------------------------------------

def test_bias_of_shape_3_added_to_a_batch_of_4_gets_the_sum_of_rows(rng):
    x, bias = leaf(rng.normal(size=(4, 3))), leaf([0.1, 0.2, 0.3])
    upstream = rng.normal(size=(4, 3))
    (x + bias).backward(gradient=upstream)
    assert bias.grad.shape == (3,)
    np.testing.assert_allclose(bias.grad.data, upstream.sum(axis=0), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(x.grad.data, upstream)


def test_column_times_row_gets_gradients_summed_over_the_stretched_axis(rng):
    column, row = leaf(rng.normal(size=(4, 1))), leaf(rng.normal(size=(1, 5)))
    upstream = rng.normal(size=(4, 5))
    out = column * row
    assert out.shape == (4, 5)
    out.backward(gradient=upstream)
    assert column.grad.shape == (4, 1) and row.grad.shape == (1, 5)
    np.testing.assert_allclose(column.grad.data, (upstream * row.data).sum(axis=1, keepdims=True),
                               rtol=1e-14, atol=0)
    np.testing.assert_allclose(row.grad.data, (upstream * column.data).sum(axis=0, keepdims=True),
                               rtol=1e-14, atol=0)


def test_scalar_with_a_matrix_gets_a_scalar_gradient(rng):
    scalar, matrix = leaf(2.5), leaf(rng.normal(size=(3, 4)))
    upstream = rng.normal(size=(3, 4))
    (scalar * matrix).backward(gradient=upstream)
    assert scalar.grad.shape == ()
    assert scalar.grad.data == pytest.approx(np.sum(upstream * matrix.data), rel=1e-14)
    np.testing.assert_array_equal(matrix.grad.data, upstream * 2.5)


def test_size_one_and_missing_axes_on_both_sides():
    a, b = leaf(np.ones((2, 1, 3))), leaf(np.ones((4, 1)))
    (a + b).backward()                          # output (2, 4, 3)
    np.testing.assert_array_equal(a.grad.data, np.full((2, 1, 3), 4.0))
    np.testing.assert_array_equal(b.grad.data, np.full((4, 1), 6.0))


# ---------------------------------------------------------------------------------------------
# Gradient aliasing
# ---------------------------------------------------------------------------------------------

def test_gradients_of_the_two_inputs_of_an_add_are_not_the_same_array():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    upstream = np.array([10.0, 20.0])
    (a + b).backward(gradient=upstream)
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data += 100.0                        # in place, on one of them
    upstream[:] = -1.0                          # and on the caller's seed
    np.testing.assert_array_equal(a.grad.data, [110.0, 120.0])
    np.testing.assert_array_equal(b.grad.data, [10.0, 20.0])


def test_a_node_reached_twice_does_not_corrupt_its_siblings_gradient():
    # add hands the same array to both of its inputs; summing into it in place would double the
    # gradient of the sibling q.
    t, u = leaf([1.0]), leaf([1.0])
    p, q = t * 1.0, u * 1.0
    out = (p + q) + p
    out.backward(gradient=np.array([3.0]))
    np.testing.assert_array_equal(t.grad.data, [6.0])
    np.testing.assert_array_equal(u.grad.data, [3.0])


def test_accumulation_across_two_backward_calls_is_exact_and_keeps_old_gradients_intact():
    a = leaf([[1.0, 2.0]])
    (a * 2.0).sum().backward()
    first = a.grad
    (a * 3.0).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[5.0, 5.0]])
    np.testing.assert_array_equal(first.data, [[2.0, 2.0]])   # the old gradient object is untouched


# ---------------------------------------------------------------------------------------------
# ndarray on the left
# ---------------------------------------------------------------------------------------------

LEFT_OPERATORS = {"+": lambda n, t: n + t, "-": lambda n, t: n - t, "*": lambda n, t: n * t,
                  "/": lambda n, t: n / t, "@": lambda n, t: n @ t}


@pytest.mark.parametrize("symbol", sorted(LEFT_OPERATORS))
def test_ndarray_on_the_left_of_a_tensor_gives_a_tensor(symbol):
    fn = LEFT_OPERATORS[symbol]
    array = np.array([[1.0, 2.0], [3.0, 4.0]])
    values = np.array([[2.0, -1.0], [0.5, 4.0]])
    t = leaf(values)
    out = fn(array, t)
    assert isinstance(out, Tensor), f"ndarray {symbol} Tensor gave {type(out).__name__}"
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, fn(array, values), rtol=1e-15)
    out.backward()
    expected = {"+": np.ones((2, 2)), "-": -np.ones((2, 2)), "*": array,
                "/": -array / values ** 2, "@": array.T @ np.ones((2, 2))}[symbol]
    np.testing.assert_allclose(t.grad.data, expected, rtol=1e-15)


@pytest.mark.parametrize("symbol", sorted(LEFT_OPERATORS))
def test_ndarray_on_the_left_of_a_variable_gives_a_variable(symbol):
    fn = LEFT_OPERATORS[symbol]
    array = np.array([[1.0, 2.0], [3.0, 4.0]])
    values = np.array([[2.0, -1.0], [0.5, 4.0]])
    out = fn(array, Variable(values))        # today: an object ndarray of 4 Variables (@: ValueError)
    assert isinstance(out, Variable)
    np.testing.assert_allclose(out.data.data, fn(array, values), rtol=1e-15)


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.float32(2.0), np.int64(2)])
def test_numpy_scalar_on_the_left_of_a_tensor_gives_a_tensor(scalar):
    out = scalar * leaf([1.0, 2.0])
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.data, [2.0, 4.0])


# ---------------------------------------------------------------------------------------------
# Numerical stability (warnings are errors inside these tests)
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def strict_numerics():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_at_plus_minus_1000_is_exactly_0_and_1(strict_numerics, dtype):
    x = leaf([-1000.0, 0.0, 1000.0], dtype)
    out = act.sigmoid(x)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, [0.0, 0.5, 1.0])
    out.backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.25, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_at_logits_plus_minus_1000_is_finite_and_exact(strict_numerics, dtype):
    logits = leaf([[1000.0, -1000.0], [-1000.0, 1000.0]], dtype)
    loss = cross_entropy(logits, Tensor([1, 1]))
    assert loss.dtype == dtype
    assert loss.data == 1000.0              # (2000 + 0) / 2
    loss.backward()
    np.testing.assert_array_equal(logits.grad.data, [[0.5, -0.5], [0.0, 0.0]])


def test_cross_entropy_with_probability_targets_at_plus_minus_1000(strict_numerics):
    logits = leaf([[1000.0, -1000.0]])
    loss = cross_entropy(logits, Tensor(np.array([[0.25, 0.75]])))
    assert loss.data == 1500.0              # 0.75 * 2000
    loss.backward()
    np.testing.assert_array_equal(logits.grad.data, [[0.75, -0.75]])


def test_softmax_and_log_softmax_at_1000(strict_numerics):
    np.testing.assert_array_equal(act.softmax(Tensor(np.array([1000.0, 0.0]))).data, [1.0, 0.0])
    np.testing.assert_array_equal(act.softmax(Tensor(np.array([1000.0, 1000.0]))).data, [0.5, 0.5])
    np.testing.assert_array_equal(act.softmax(Tensor(np.array([-1000.0, -1000.0]))).data, [0.5, 0.5])
    np.testing.assert_array_equal(act.log_softmax(Tensor(np.array([1000.0, 0.0]))).data, [0.0, -1000.0])
    x = leaf([[1000.0, 0.0, -1000.0]])
    act.softmax(x).backward(gradient=np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0, 0.0]])
    y = leaf([[1000.0, 0.0]])
    act.log_softmax(y).backward(gradient=np.array([[1.0, 0.0]]))
    np.testing.assert_array_equal(y.grad.data, [[0.0, 0.0]])   # d log p0 = onehot(0) - softmax


def test_binary_cross_entropy_at_probabilities_0_and_1_is_finite(strict_numerics):
    p = leaf([0.0, 1.0, 0.0, 1.0])
    t = Tensor(np.array([0.0, 1.0, 1.0, 0.0]))
    loss = binary_cross_entropy(p, t)
    eps = 1e-7
    expected = -np.mean([np.log(1 + eps), np.log(1 + eps), np.log(eps), np.log(eps)])
    assert loss.data == pytest.approx(expected, rel=1e-12)
    loss.backward()
    assert np.all(np.isfinite(p.grad.data))


# ---------------------------------------------------------------------------------------------
# Optimizers must not chain graphs across steps
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make_optimizer", [
    lambda ps: SGD(ps, lr=0.1), lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3),
    lambda ps: Adam(ps, lr=0.01, weight_decay=1e-3),
], ids=["sgd", "sgd-momentum", "adam"])
def test_optimizer_steps_keep_parameters_leaves_and_graphs_do_not_grow(make_optimizer):
    rng = np.random.default_rng(0)
    model = Sequential(Dense(3, 4, rng=rng), act.ReLU(), Dense(4, 2, rng=rng))
    params = model.parameters()
    optimizer = make_optimizer(params)
    x, labels = Tensor(rng.normal(size=(8, 3))), Tensor(rng.integers(0, 2, size=8))
    graph_sizes, previous = [], []   # weak references to the nodes of the previous step's graph
    for _ in range(100):
        optimizer.zero_grad()
        loss = cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        for p in params:
            assert p.is_leaf and p._parents == () and p._op is None and p.requires_grad
        # the live graph of this step holds no tensor of the previous step
        assert all(ref() is None for ref in previous), "a tensor of the previous step is still referenced"
        previous = [weakref.ref(n) for n in topological_order(loss) if not any(n is p for p in params)]
        graph_sizes.append(len(previous))
    assert len(set(graph_sizes)) == 1


# ---------------------------------------------------------------------------------------------
# Gradient checks in float32
# ---------------------------------------------------------------------------------------------

def test_central_differences_in_float32_are_useless_and_in_float64_accurate():
    def f(t):
        return (t ** 3 + t.exp()).sum()

    point, exact = 1.3, 3 * 1.3 ** 2 + np.exp(1.3)

    def central(dtype):
        eps = dtype(1e-6)
        upper = f(Tensor(np.array([point], dtype=dtype) + eps)).data
        lower = f(Tensor(np.array([point], dtype=dtype) - eps)).data
        return float((upper - lower) / (2 * eps))

    assert abs(central(np.float32) - exact) > 1e-3
    assert abs(central(np.float64) - exact) < 1e-8
    match, difference = check_gradients(f, Tensor([point]))   # a float32 tensor, checked in float64
    assert match and difference < 1e-8


# ---------------------------------------------------------------------------------------------
# The rules of the engine
# ---------------------------------------------------------------------------------------------

def test_no_grad_records_nothing(grad_mode_guard):
    x = leaf([[1.0, -2.0]])
    with no_grad():
        assert Tensor.grad_enabled is False
        outs = [x * 2, x + x, x ** 2, x.exp(), x @ Tensor(np.ones((2, 1))), x.sum(), x[0],
                x.reshape(2), x.T, act.relu(x), act.sigmoid(x), act.softmax(x),
                cross_entropy(x, Tensor([1]))]
    assert Tensor.grad_enabled is True
    for out in outs:
        assert out.requires_grad is False and out.is_leaf and out._parents == ()
    with pytest.raises(RuntimeError):
        outs[0].backward()


def test_no_grad_restores_the_mode_after_an_exception(grad_mode_guard):
    with pytest.raises(KeyError):
        with no_grad():
            raise KeyError("boom")
    assert Tensor.grad_enabled is True


def test_nested_no_grad_and_no_grad_as_a_decorator(grad_mode_guard):
    with no_grad():
        with no_grad():
            pass
        assert Tensor.grad_enabled is False      # the inner block restores the outer mode

    @no_grad()
    def double(t):
        return t * 2

    assert double(leaf([1.0])).requires_grad is False
    assert Tensor.grad_enabled is True


def test_backward_on_a_non_scalar_seeds_ones():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    (x * x).backward()
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)


def test_backward_on_a_tensor_that_does_not_require_grad_raises():
    message = ("backward() called on a tensor that does not require gradients: "
               "no input of this computation has requires_grad=True")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        (Tensor([1.0, 2.0]) * 2).backward()
    with pytest.raises(RuntimeError, match=re.escape(message)):
        Tensor(3.0).backward()


def test_backward_with_a_gradient_of_the_wrong_shape_raises():
    x = leaf(np.ones((2, 2)))
    with pytest.raises(ValueError, match=re.escape(
            "backward(gradient): gradient shape (3,) does not match the output shape (2, 2)")):
        (x * 2).backward(gradient=np.ones(3))
    assert x.grad is None


@pytest.mark.parametrize("gradient", [np.array([1.0, -2.0]), [1.0, -2.0], Tensor([1.0, -2.0])])
def test_backward_with_an_explicit_gradient(gradient):
    x = leaf([3.0, 4.0])
    (x * x).backward(gradient=gradient)
    np.testing.assert_array_equal(x.grad.data, [6.0, -16.0])


@pytest.mark.parametrize("gradient", [0.1, [0.1]], ids=["number", "list"])
def test_backward_with_a_python_gradient_keeps_float64_precision(gradient):
    x = leaf([1.0]) if isinstance(gradient, list) else leaf(1.0)
    (x * 1.0).backward(gradient=gradient)
    assert x.grad.data.ravel()[0] == 0.1


def test_backward_on_a_leaf_seeds_its_own_gradient():
    x = leaf([3.0, 4.0])
    x.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_only_leaves_that_require_grad_keep_a_gradient():
    x, c = leaf([2.0]), Tensor([5.0])
    hidden = x * c
    (hidden * hidden).backward()
    np.testing.assert_array_equal(x.grad.data, [100.0])   # 2 * (5x) * 5
    assert hidden.grad is None and c.grad is None
    assert hidden.requires_grad and not hidden.is_leaf


def test_zero_grad_forgets_and_the_next_backward_starts_fresh():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    x.zero_grad()
    assert x.grad is None
    (x * 4.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 4.0])


def test_the_graph_is_kept_so_a_second_backward_accumulates_again():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_detach_cuts_the_graph():
    x = leaf([3.0])
    constant = x.detach()
    assert constant.requires_grad is False and constant.is_leaf
    np.testing.assert_array_equal(constant.data, x.data)
    (constant * x).backward()
    np.testing.assert_array_equal(x.grad.data, [3.0])     # not 2x: the detached factor is a constant


def test_tensor_to_the_power_of_a_tensor_is_refused():
    with pytest.raises(TypeError, match=re.escape(
            "Tensor ** Tensor is not supported: the exponent must be a number")):
        leaf([2.0]) ** Tensor(2.0)
