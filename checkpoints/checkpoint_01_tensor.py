"""Checkpoint 01 (after module 01, tensor).

Question: "Can I store numbers in n-dimensional arrays and compute with them?"

Uses only `tinytorch.core.tensor`. A tensor has to hold numbers of any shape in a predictable
dtype, compute element-wise with numpy's broadcasting (with plain numbers and numpy arrays on
either side), multiply matrices, reduce, reshape and index, and record which tensors require
gradients so that a later module can differentiate.
"""

import numpy as np
import pytest

from tinytorch.core.tensor import Tensor


def values(tensor) -> np.ndarray:
    assert isinstance(tensor, Tensor), f"expected a Tensor, got {type(tensor).__name__}"
    return np.asarray(tensor.data)


def test_tensors_hold_numbers_of_any_shape():
    scalar, vector, matrix = Tensor(5.0), Tensor([1.0, 2.0, 3.0]), Tensor([[1, 2], [3, 4]])
    assert (scalar.shape, scalar.ndim, scalar.size) == ((), 0, 1)
    assert (vector.shape, vector.ndim, vector.size) == ((3,), 1, 3)
    assert (matrix.shape, matrix.ndim, matrix.size) == ((2, 2), 2, 4)
    assert scalar.item() == 5.0
    np.testing.assert_array_equal(values(matrix), [[1, 2], [3, 4]])
    cube = Tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    assert cube.shape == (2, 3, 4) and cube.ndim == 3 and len(cube) == 2


def test_dtype_policy():
    # Python numbers, lists and integer arrays become float32, the dtype networks train in.
    assert Tensor(3).dtype == np.float32
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.float32
    # Floating numpy arrays keep their precision (gradient checks need float64).
    assert Tensor(np.zeros(3, dtype=np.float64)).dtype == np.float64
    assert Tensor(np.zeros(3, dtype=np.float32)).dtype == np.float32
    # An explicit dtype wins.
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    # A number meeting a tensor takes the tensor's dtype.
    x32 = Tensor(np.ones(2, dtype=np.float32))
    assert (x32 * 2).dtype == np.float32 and (2.5 + x32).dtype == np.float32
    x64 = Tensor(np.ones(2, dtype=np.float64))
    assert (x64 * 2).dtype == np.float64


def test_elementwise_arithmetic_exact():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    b = Tensor([[10.0, 20.0], [30.0, 40.0]])
    np.testing.assert_array_equal(values(a + b), [[11, 22], [33, 44]])
    np.testing.assert_array_equal(values(b - a), [[9, 18], [27, 36]])
    np.testing.assert_array_equal(values(a * b), [[10, 40], [90, 160]])
    np.testing.assert_array_equal(values(b / a), [[10, 10], [10, 10]])
    np.testing.assert_array_equal(values(-a), [[-1, -2], [-3, -4]])
    np.testing.assert_array_equal(values(a ** 2), [[1, 4], [9, 16]])


def test_numbers_on_either_side():
    x = Tensor([1.0, 2.0, 4.0])
    np.testing.assert_array_equal(values(x + 1), [2, 3, 5])
    np.testing.assert_array_equal(values(1 + x), [2, 3, 5])
    np.testing.assert_array_equal(values(x - 1), [0, 1, 3])
    np.testing.assert_array_equal(values(1 - x), [0, -1, -3])
    np.testing.assert_array_equal(values(x * 2), [2, 4, 8])
    np.testing.assert_array_equal(values(2 * x), [2, 4, 8])
    np.testing.assert_array_equal(values(x / 2), [0.5, 1, 2])
    np.testing.assert_array_equal(values(8 / x), [8, 4, 2])


def test_numpy_arrays_on_either_side_give_tensors():
    # Without care, `ndarray * Tensor` makes numpy build an object array of Tensors.
    x = Tensor([1.0, 2.0, 3.0])
    array = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    for result, expected in [(array * x, [2, 4, 6]), (array + x, [3, 4, 5]),
                             (array - x, [1, 0, -1]), (array / x, [2, 1, 2 / 3])]:
        assert isinstance(result, Tensor), f"ndarray op Tensor gave {type(result).__name__}"
        assert result.dtype != object
        np.testing.assert_allclose(values(result), expected, rtol=1e-6)


def test_broadcasting():
    rows = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (2, 3)
    np.testing.assert_array_equal(values(rows + Tensor([10.0, 20.0, 30.0])),
                                  [[11, 22, 33], [14, 25, 36]])
    np.testing.assert_array_equal(values(rows * Tensor([[2.0], [3.0]])),
                                  [[2, 4, 6], [12, 15, 18]])
    outer = Tensor([[1.0], [2.0]]) * Tensor([1.0, 10.0, 100.0])
    assert outer.shape == (2, 3)
    np.testing.assert_array_equal(values(outer), [[1, 10, 100], [2, 20, 200]])


def test_elementwise_matches_numpy_on_random_data(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.uniform(0.5, 2.0, (5,)).astype(np.float32)
    ta, tb = Tensor(a), Tensor(b)
    np.testing.assert_allclose(values(ta + tb), a + b, rtol=1e-6)
    np.testing.assert_allclose(values(ta - tb), a - b, rtol=1e-6)
    np.testing.assert_allclose(values(ta * tb), a * b, rtol=1e-6)
    np.testing.assert_allclose(values(ta / tb), a / b, rtol=1e-6)
    np.testing.assert_allclose(values(tb.exp()), np.exp(b), rtol=1e-6)
    np.testing.assert_allclose(values(tb.log()), np.log(b), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(values(tb.sqrt()), np.sqrt(b), rtol=1e-6)
    np.testing.assert_allclose(values(tb ** 3), b ** 3, rtol=1e-5)


def test_matrix_multiplication():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    b = Tensor([[5.0, 6.0], [7.0, 8.0]])
    np.testing.assert_array_equal(values(a @ b), [[19, 22], [43, 50]])
    np.testing.assert_array_equal(values(a.matmul(b)), [[19, 22], [43, 50]])
    # matrix @ vector and a batch of rows times a weight matrix
    np.testing.assert_array_equal(values(a @ Tensor([1.0, 1.0])), [3, 7])
    batch = Tensor(np.ones((3, 2), dtype=np.float32))
    assert (batch @ Tensor(np.ones((2, 4), dtype=np.float32))).shape == (3, 4)
    # with a numpy array on either side
    np.testing.assert_array_equal(values(np.eye(2, dtype=np.float32) @ a), values(a))


def test_matmul_matches_numpy(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    a = rng.standard_normal((6, 7)).astype(np.float32)
    b = rng.standard_normal((7, 3)).astype(np.float32)
    result = Tensor(a) @ Tensor(b)
    assert result.shape == (6, 3) and result.dtype == np.float32
    np.testing.assert_allclose(values(result), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-5)


def test_reductions():
    x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 9.0]])
    assert values(x.sum()).item() == 24.0
    np.testing.assert_array_equal(values(x.sum(axis=0)), [5, 7, 12])
    np.testing.assert_array_equal(values(x.sum(axis=1)), [6, 18])
    assert x.sum(axis=1, keepdims=True).shape == (2, 1)
    assert values(x.mean()).item() == 4.0
    np.testing.assert_allclose(values(x.mean(axis=0)), [2.5, 3.5, 6.0])
    np.testing.assert_allclose(values(x.mean(axis=1)), [2.0, 6.0])
    assert values(x.max()).item() == 9.0
    np.testing.assert_array_equal(values(x.max(axis=1)), [3, 9])
    assert x.max(axis=0, keepdims=True).shape == (1, 3)


def test_reshape_transpose_index():
    x = Tensor(np.arange(6, dtype=np.float32))
    m = x.reshape(2, 3)
    assert m.shape == (2, 3)
    assert x.reshape((3, 2)).shape == (3, 2)
    assert x.reshape(-1, 2).shape == (3, 2)
    np.testing.assert_array_equal(values(m.T), [[0, 3], [1, 4], [2, 5]])
    np.testing.assert_array_equal(values(m.transpose()), values(m.T))
    cube = Tensor(np.zeros((2, 3, 4), dtype=np.float32))
    assert cube.transpose(1, 0, 2).shape == (3, 2, 4)
    np.testing.assert_array_equal(values(m[1]), [3, 4, 5])
    np.testing.assert_array_equal(values(m[:, 1]), [1, 4])
    assert values(m[1, 2]).item() == 5.0
    # Indices may themselves be tensors, e.g. class labels picking one score per row.
    labels = Tensor([2, 0])
    np.testing.assert_array_equal(values(m[np.arange(2), labels]), [2, 3])


def test_comparisons_are_elementwise_and_tensors_stay_hashable():
    a, b = Tensor([1.0, 2.0, 3.0]), Tensor([3.0, 2.0, 1.0])
    np.testing.assert_array_equal(values(a == b), [False, True, False])
    np.testing.assert_array_equal(values(a < b), [True, False, False])
    np.testing.assert_array_equal(values(a >= 2), [False, True, True])
    # Element-wise == must not cost hashability: graphs keep tensors in sets and dicts.
    seen = {a, b}
    assert len(seen) == 2 and a in seen
    assert {a: "a"}[a] == "a"


def test_operations_do_not_modify_inputs(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    raw = rng.standard_normal((3, 3)).astype(np.float32)
    x = Tensor(raw.copy())
    for result in (x + 1, x * 2, x - x, x @ x, x.sum(axis=0), x.reshape(9), x.T, -x):
        assert isinstance(result, Tensor)
    np.testing.assert_array_equal(values(x), raw)


def test_graph_recording_follows_requires_grad():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0])
    assert a.requires_grad and not b.requires_grad
    assert a.is_leaf and a.grad is None
    product = a * b
    assert product.requires_grad, "a result of a tensor that requires grad must require grad"
    assert not product.is_leaf
    np.testing.assert_array_equal(values(product), [3, 8])
    # Computing with constants only records nothing.
    plain = b * b + 1
    assert not plain.requires_grad and plain.is_leaf
    # detach keeps the numbers and drops the history.
    cut = product.detach()
    assert not cut.requires_grad and cut.is_leaf
    np.testing.assert_array_equal(values(cut), [3, 8])
    # The chain survives several operations.
    deep = ((a + 1) * 2).sum()
    assert deep.requires_grad and not deep.is_leaf


def test_data_can_be_replaced_in_place_of_the_numbers():
    # Optimizers (module 06) write new values through `.data`.
    w = Tensor([1.0, 2.0], requires_grad=True)
    w.data = np.array([5.0, 6.0], dtype=np.float32)
    np.testing.assert_array_equal(values(w), [5, 6])
    assert w.requires_grad and w.is_leaf
    np.testing.assert_array_equal(np.asarray(w.numpy()), [5, 6])


@pytest.mark.parametrize("shape", [(1,), (7,), (2, 3), (2, 3, 4), (1, 1, 5)])
def test_shapes_round_trip(shape, checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    array = rng.standard_normal(shape).astype(np.float32)
    x = Tensor(array)
    assert x.shape == shape
    np.testing.assert_array_equal(values(x.reshape(-1).reshape(*shape)), array)
    np.testing.assert_allclose(values(x.sum()).item(), array.astype(np.float64).sum(),
                               rtol=1e-5, atol=1e-5)
