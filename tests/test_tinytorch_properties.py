"""Property tests (hypothesis) over random shapes and broadcasting, and the dtype policy.

Strategies live in tests/strategies.py; the profile (derandomized in CI) in tests/conftest.py.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import strategies as S
from tinytorch.core import activations as act
from tinytorch.core.autograd import topological_order, unbroadcast
from tinytorch.core.tensor import Tensor

BINARY_NAMES = sorted(S.BINARY)


# ---------------------------------------------------------------------------------------------
# Broadcasting: every binary operation, random shapes
# ---------------------------------------------------------------------------------------------

@st.composite
def binary_case(draw):
    """(name, a, b): a binary operation with float64 operands of two broadcastable shapes."""
    name = draw(st.sampled_from(BINARY_NAMES))
    _, _, domain_a, domain_b = S.BINARY[name]
    shape_a, shape_b, _ = draw(S.broadcastable_shapes())
    return name, draw(domain_a.arrays(shape_a)), draw(domain_b.arrays(shape_b))


@given(binary_case())
def test_binary_ops_broadcast_like_numpy_and_sum_gradients_back_to_each_input(case):
    name, a, b = case
    fn, reference = S.BINARY[name][:2]
    out, grads, numeric = S.autograd_and_numeric(fn, [a, b])
    assert out.shape == np.broadcast_shapes(a.shape, b.shape)
    np.testing.assert_allclose(out.data, reference(a, b), rtol=1e-15, atol=0)
    for grad, expected, operand in zip(grads, numeric, (a, b)):
        assert grad.shape == operand.shape
        assert grad.dtype == np.float64
        np.testing.assert_allclose(grad.data, expected, atol=S.ATOL, rtol=S.RTOL)


@given(binary_case(), st.sampled_from(["left", "right"]))
def test_only_the_input_that_requires_grad_receives_one(case, side):
    name, a, b = case
    fn = S.BINARY[name][0]
    ta, tb = Tensor(a, requires_grad=side == "left"), Tensor(b, requires_grad=side == "right")
    fn(ta, tb).backward()
    wanted, other = (ta, tb) if side == "left" else (tb, ta)
    assert wanted.grad is not None and wanted.grad.shape == wanted.shape
    assert other.grad is None


@st.composite
def matmul_case(draw):
    """Operands of a matmul: vectors, matrices and batches whose batch axes broadcast."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b, _ = draw(S.broadcastable_shapes(max_dims=2, max_side=3))
    vector_a, vector_b = draw(st.booleans()), draw(st.booleans())
    shape_a = (k,) if vector_a else batch_a + (n, k)
    shape_b = (k,) if vector_b else batch_b + (k, m)
    return draw(S.arrays(shape_a)), draw(S.arrays(shape_b))


@given(matmul_case())
def test_matmul_of_any_rank_matches_numpy_and_its_gradients_match_central_differences(case):
    a, b = case
    out, grads, numeric = S.autograd_and_numeric(lambda x, y: x @ y, [a, b])
    expected = np.matmul(a, b)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    for grad, reference, operand in zip(grads, numeric, (a, b)):
        assert grad.shape == operand.shape
        np.testing.assert_allclose(grad.data, reference, atol=S.ATOL, rtol=S.RTOL)


@st.composite
def reduction_case(draw):
    """(method, x, axis, keepdims) with axis None, one axis (maybe negative) or a tuple of axes."""
    x = draw(S.arrays(draw(S.shapes(min_dims=1))))
    axes = draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=x.ndim,
                         unique_by=lambda a: a % x.ndim))
    axis = draw(st.sampled_from([None, axes[0], tuple(axes)]))
    return draw(st.sampled_from(["sum", "mean", "max"])), x, axis, draw(st.booleans())


@given(reduction_case())
def test_reductions_over_any_axes_match_numpy_and_central_differences(case):
    method, x, axis, keepdims = case
    if method == "max":   # keep the order hypothesis chose, but no ties or near-ties (kinks)
        x = np.argsort(np.argsort(x, axis=None)).reshape(x.shape) * 0.25 - 1.0
    fn = lambda t: getattr(t, method)(axis=axis, keepdims=keepdims)
    out, (grad,), (numeric,) = S.autograd_and_numeric(fn, [x])
    expected = getattr(np, method)(x, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-15)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad.data, numeric, atol=S.ATOL, rtol=S.RTOL)


@given(st.data())
def test_max_shares_the_gradient_equally_between_tied_maxima(data):
    size = data.draw(st.integers(1, 6))
    ties = data.draw(st.integers(1, size))
    x = np.zeros(size)
    x[:size - ties] = -1.0          # `ties` elements share the maximum 0
    t = Tensor(x, requires_grad=True)
    t.max().backward()
    np.testing.assert_array_equal(t.grad.data, np.where(x == 0, 1.0 / ties, 0.0))


@given(st.data())
def test_indexing_with_repeated_integers_adds_the_gradient_per_occurrence(data):
    x = data.draw(S.arrays(data.draw(S.shapes(min_dims=1, max_dims=2))))
    index = data.draw(hnp.arrays(np.intp, data.draw(st.integers(1, 8)),
                                 elements=st.integers(-x.shape[0], x.shape[0] - 1)))
    t = Tensor(x, requires_grad=True)
    picked = t[index]
    np.testing.assert_array_equal(picked.data, x[index])
    upstream = data.draw(S.arrays(picked.shape))
    picked.backward(gradient=upstream)
    expected = np.zeros_like(x)
    for position, row in enumerate(index):
        expected[row] += upstream[position]
    np.testing.assert_allclose(t.grad.data, expected, rtol=1e-15, atol=0)


@given(S.shapes(min_dims=1), st.data())
def test_reshape_and_transpose_route_every_gradient_element_back_to_its_place(shape, data):
    x = data.draw(S.arrays(shape))
    perm = data.draw(st.permutations(range(len(shape))))
    t = Tensor(x, requires_grad=True)
    out = t.transpose(perm).reshape(-1)
    upstream = data.draw(S.arrays(out.shape))
    out.backward(gradient=upstream)
    # the gradient is the upstream vector put back where each element came from
    np.testing.assert_array_equal(t.grad.data, np.transpose(upstream.reshape(np.transpose(x, perm).shape),
                                                            np.argsort(perm)))


@given(S.broadcastable_shapes(), st.data())
def test_unbroadcast_sums_over_new_leading_axes_and_stretched_axes(shapes, data):
    shape, _, result = shapes
    grad = data.draw(S.arrays(result))
    reduced = unbroadcast(grad, shape)
    assert reduced.shape == shape
    # reference: the gradient of sum(broadcast_to(x, result) * grad) with respect to x
    leading = len(result) - len(shape)
    expected = grad.sum(axis=tuple(range(leading))) if leading else grad
    expected = expected.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)
    np.testing.assert_allclose(reduced, expected.reshape(shape), rtol=1e-12, atol=1e-12)


@given(st.integers(0, 2 ** 32 - 1))
def test_topological_order_lists_each_node_once_after_all_of_its_inputs(seed):
    rng = np.random.default_rng(seed)
    nodes = [Tensor(rng.normal(size=3), requires_grad=True) for _ in range(3)]
    for _ in range(rng.integers(1, 25)):
        a, b = rng.choice(len(nodes), size=2)
        nodes.append([lambda x, y: x + y, lambda x, y: x * y, lambda x, y: x - y][rng.integers(3)](
            nodes[a], nodes[b]))
    order = topological_order(nodes[-1])
    position = {id(node): i for i, node in enumerate(order)}
    assert len(position) == len(order)
    assert order[-1] is nodes[-1]
    for node in order:
        for parent in node._parents:
            assert position[id(parent)] < position[id(node)]


# ---------------------------------------------------------------------------------------------
# The dtype policy
# ---------------------------------------------------------------------------------------------

FLOAT_DTYPES = [np.float32, np.float64]
OPERATORS = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
}


@given(S.shapes(), st.sampled_from(FLOAT_DTYPES), st.data())
def test_floating_arrays_keep_their_precision(shape, dtype, data):
    x = data.draw(hnp.arrays(dtype, shape, elements=st.floats(-3, 3, width=32)))
    t = Tensor(x)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, x)


@given(st.one_of(
    st.integers(-100, 100),
    st.floats(-1e3, 1e3),
    st.booleans(),
    st.lists(st.integers(-100, 100), min_size=1, max_size=5),
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=5),
    hnp.arrays(st.sampled_from([np.int8, np.int32, np.int64, np.uint8, np.bool_]), S.shapes()),
))
def test_python_numbers_lists_and_integer_or_boolean_arrays_become_float32(value):
    t = Tensor(value)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.asarray(value, dtype=np.float32))


@given(st.sampled_from(FLOAT_DTYPES), st.sampled_from(sorted(OPERATORS)),
       st.one_of(st.integers(1, 9), st.floats(0.5, 4.0)), st.booleans())
def test_a_python_scalar_takes_the_dtype_of_the_tensor_it_meets(dtype, symbol, scalar, scalar_first):
    t = Tensor(np.array([1.5, -2.0, 3.0], dtype=dtype), requires_grad=True)
    fn = OPERATORS[symbol]
    out = fn(scalar, t) if scalar_first else fn(t, scalar)
    assert out.dtype == dtype
    out.backward()
    assert t.grad.dtype == dtype


@pytest.mark.parametrize("exponent", [np.float64(2.0), np.int64(2)], ids=["float64", "int64"])
def test_a_numpy_scalar_exponent_keeps_the_tensors_dtype_like_a_numpy_scalar_factor(exponent):
    t = Tensor(np.array([1.5, -2.0], dtype=np.float32), requires_grad=True)
    assert (t * exponent).dtype == np.float32
    assert (t ** exponent).dtype == np.float32


@given(st.sampled_from(FLOAT_DTYPES), S.shapes(), st.data())
def test_every_operation_of_one_dtype_stays_in_that_dtype(dtype, shape, data):
    t = Tensor(data.draw(S.Domain(0.5, 2.0).arrays(shape)).astype(dtype), requires_grad=True)
    y = ((t * 2 + 1) / t - t ** 2).exp().log() - 0.5
    y = act.softmax(act.sigmoid(act.relu(y) + act.tanh(y)).reshape(-1))
    out = y @ Tensor(np.ones(y.shape, dtype=dtype)) + y.max() + y.mean()
    assert out.dtype == dtype
    out.backward()
    assert t.grad.dtype == dtype and t.grad.shape == shape


@pytest.mark.parametrize("low,high", [(np.float32, np.float64), (np.float64, np.float32)])
def test_mixed_precision_computes_in_float64_but_each_gradient_keeps_its_leafs_dtype(low, high):
    a = Tensor(np.array([1.0, 2.0], dtype=low), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0], dtype=high), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == low and b.grad.dtype == high
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 2.0])


def test_explicit_dtype_wins_and_assigning_data_follows_the_policy():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(np.float64(2.5)).dtype == np.float64     # a numpy float scalar keeps its precision
    assert Tensor(2.5).dtype == np.float32                 # a Python float does not
    t = Tensor(np.zeros(2))
    t.data = [1, 2]
    assert t.dtype == np.float32
    t.data = np.array([1.0, 2.0])
    assert t.dtype == np.float64
