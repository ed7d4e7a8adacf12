"""The shared vocabulary of the tinytorch tests: what they generate and what they differentiate.

1. Hypothesis strategies: shapes, pairs of broadcastable shapes, bounded float64 arrays.
2. The operation table (minitorch style): every differentiable operation of the reference package,
   each with a numpy formula, the same computation in PyTorch, the input shapes and the input
   domain on which it is smooth (away from kinks, poles and ties). The same table is run at
   every level: forward against numpy, gradient check in float64, float32 dtype policy,
   PyTorch oracle, and as the pool the random expression graphs draw from.
3. The numerical reference: central differences in float64, written here independently of
   `tinytorch.core.autograd.numerical_gradient` (which is itself under test).

Tests import it as `import strategies` (pytest puts tests/ on sys.path: rootdir import mode).
"""

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinytorch.core import activations as act
from tinytorch.core import losses
from tinytorch.core import spatial
from tinytorch.core.tensor import Tensor

# ---------------------------------------------------------------------------------------------
# 1. Shapes and arrays
# ---------------------------------------------------------------------------------------------

MAX_DIMS = 3
MAX_SIDE = 4


def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE):
    """Array shapes, scalars () included by default; sides start at 1 (no empty arrays)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(max_dims: int = MAX_DIMS, max_side: int = MAX_SIDE):
    """Pairs (shape_a, shape_b) that numpy broadcasts together: missing leading axes, size-1 axes.

    Returns a strategy of `(shape_a, shape_b, result_shape)`.
    """
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims,
                                             min_side=1, max_side=max_side).map(
        lambda drawn: (drawn.input_shapes[0], drawn.input_shapes[1], drawn.result_shape))


@dataclass(frozen=True)
class Domain:
    """An interval of inputs [low, high], optionally keeping |x| >= gap (away from a kink or pole)."""

    low: float = -2.0
    high: float = 2.0
    gap: float = 0.0

    def elements(self):
        """Hypothesis floats in this domain."""
        if self.gap and self.low < -self.gap and self.high > self.gap:
            return st.one_of(st.floats(self.low, -self.gap), st.floats(self.gap, self.high))
        low = max(self.low, self.gap) if self.low >= 0 else self.low
        return st.floats(low, self.high, allow_nan=False, allow_infinity=False)

    def arrays(self, shape, dtype=np.float64):
        """Hypothesis arrays of `shape` with elements in this domain."""
        return hnp.arrays(dtype, shape, elements=self.elements())

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        """A seeded float64 sample of `shape` from this domain (for the fixed table tests)."""
        values = rng.uniform(self.low, self.high, size=shape)
        if self.gap:
            values = np.where(values >= 0, np.maximum(values, self.gap), np.minimum(values, -self.gap))
            values = np.clip(values, self.low, self.high)
        return np.asarray(values, dtype=np.float64)


ANY = Domain(-2.0, 2.0)
POSITIVE = Domain(0.5, 3.0)
NONZERO = Domain(-3.0, 3.0, gap=0.5)      # divisors
AWAY_FROM_KINK = Domain(-2.0, 2.0, gap=0.1)  # relu: central differences must not straddle 0
PROBABILITY = Domain(0.05, 0.95)


def arrays(shape, low: float = -3.0, high: float = 3.0):
    """float64 arrays of `shape` with bounded values (no nan, no inf)."""
    return Domain(low, high).arrays(shape)


# ---------------------------------------------------------------------------------------------
# 2. The operation table
# ---------------------------------------------------------------------------------------------

def _gelu_exact(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


@dataclass(frozen=True)
class Op:
    """One differentiable operation: `tiny` (tinytorch, on Tensors), `numpy` (the formula, on float64
    arrays), `torch` (called as torch(T, *tensors) with T the torch module; None if no counterpart)."""

    name: str
    tiny: Callable
    numpy: Callable
    torch: Callable | None
    shapes: tuple
    domains: tuple = field(default=None)

    def __post_init__(self):
        if self.domains is None:
            object.__setattr__(self, "domains", (ANY,) * len(self.shapes))

    def inputs(self, seed: int = 0) -> list:
        """The fixed float64 inputs of the table tests."""
        rng = np.random.default_rng(seed)
        return [domain.sample(rng, shape) for domain, shape in zip(self.domains, self.shapes)]

    def __repr__(self) -> str:
        return self.name


# Constants some operations close over (class labels, index arrays), fixed once for every level.
_CONST = np.random.default_rng(7)
LABELS = np.array([2, 0, 3, 3, 1])                                    # 5 rows, 4 classes, repeats
TARGET_PROBS = _CONST.dirichlet(np.ones(4), size=5)                   # rows sum to 1
MASK = np.array([True, False, True, True])
ROW_INDEX = np.array([2, 0, 2, 2, 1])                                  # repeated indices

BINARY = {
    # name: (tinytorch, numpy, domain of a, domain of b)
    "add": (lambda a, b: a + b, np.add, ANY, ANY),
    "sub": (lambda a, b: a - b, np.subtract, ANY, ANY),
    "mul": (lambda a, b: a * b, np.multiply, ANY, ANY),
    "div": (lambda a, b: a / b, np.divide, ANY, NONZERO),
}

BROADCAST_CASES = [
    ((3, 4), (3, 4)),
    ((4, 3), (3,)),        # a bias added to a batch
    ((4, 1), (1, 5)),      # outer sum / product
    ((), (2, 3)),          # a 0-d tensor with a matrix
    ((2, 1, 3), (4, 1)),   # missing leading axis and size-1 axes on both sides
]


def _softmax(x, axis=-1):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def _torch_permute(perm):
    return lambda T, x: x.permute(*perm)


def _build_table() -> list:
    ops = []
    add = ops.append

    for name, (tiny, ref, da, db) in BINARY.items():
        torch_fn = {"add": lambda T, a, b: a + b, "sub": lambda T, a, b: a - b,
                    "mul": lambda T, a, b: a * b, "div": lambda T, a, b: a / b}[name]
        for sa, sb in BROADCAST_CASES:
            add(Op(f"{name}{sa}{sb}", tiny, ref, torch_fn, (sa, sb), (da, db)))

    # Python numbers on either side (the reflected operators)
    add(Op("x+2.5", lambda x: x + 2.5, lambda x: x + 2.5, lambda T, x: x + 2.5, ((3, 4),)))
    add(Op("2.5+x", lambda x: 2.5 + x, lambda x: 2.5 + x, lambda T, x: 2.5 + x, ((3, 4),)))
    add(Op("2.5-x", lambda x: 2.5 - x, lambda x: 2.5 - x, lambda T, x: 2.5 - x, ((3, 4),)))
    add(Op("-1.5*x", lambda x: -1.5 * x, lambda x: -1.5 * x, lambda T, x: -1.5 * x, ((3, 4),)))
    add(Op("x/2", lambda x: x / 2, lambda x: x / 2, lambda T, x: x / 2, ((3, 4),)))
    add(Op("1.5/x", lambda x: 1.5 / x, lambda x: 1.5 / x, lambda T, x: 1.5 / x, ((3, 4),), (NONZERO,)))

    add(Op("neg", lambda x: -x, np.negative, lambda T, x: -x, ((3, 4),)))
    add(Op("x**2", lambda x: x ** 2, lambda x: x * x, lambda T, x: x ** 2, ((3, 4),)))
    add(Op("x**3", lambda x: x ** 3, lambda x: x * x * x, lambda T, x: x ** 3, ((3, 4),)))
    add(Op("x**0.5", lambda x: x ** 0.5, np.sqrt, lambda T, x: x ** 0.5, ((3, 4),), (POSITIVE,)))
    add(Op("x**-1.5", lambda x: x ** -1.5, lambda x: 1 / (x * np.sqrt(x)), lambda T, x: x ** -1.5,
           ((3, 4),), (POSITIVE,)))
    add(Op("sqrt", lambda x: x.sqrt(), np.sqrt, lambda T, x: T.sqrt(x), ((3, 4),), (POSITIVE,)))
    add(Op("exp", lambda x: x.exp(), np.exp, lambda T, x: T.exp(x), ((3, 4),)))
    add(Op("log", lambda x: x.log(), np.log, lambda T, x: T.log(x), ((3, 4),), (POSITIVE,)))

    matmul_cases = [
        ((3, 4), (4, 2)),         # matrix @ matrix
        ((4,), (4,)),             # vector . vector -> 0-d
        ((4,), (4, 2)),           # vector @ matrix
        ((3, 4), (4,)),           # matrix @ vector
        ((2, 3, 4), (2, 4, 5)),   # batched
        ((2, 3, 4), (4, 5)),      # batch @ shared matrix
        ((4,), (2, 4, 3)),        # vector @ batch
        ((2, 3, 4), (4,)),        # batch @ vector
        ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dimensions
    ]
    for sa, sb in matmul_cases:
        add(Op(f"matmul{sa}{sb}", lambda a, b: a @ b, np.matmul, lambda T, a, b: a @ b, (sa, sb)))
    add(Op("matmul-method", lambda a, b: a.matmul(b), np.matmul, lambda T, a, b: a @ b, ((3, 4), (4, 2))))

    for axis in (None, 0, -1, (0, 2)):
        for keepdims in (False, True):
            tag = f"(axis={axis},keepdims={keepdims})"
            dim = tuple(range(3)) if axis is None else axis
            add(Op("sum" + tag, lambda x, a=axis, k=keepdims: x.sum(axis=a, keepdims=k),
                   lambda x, a=axis, k=keepdims: np.sum(x, axis=a, keepdims=k),
                   lambda T, x, d=dim, k=keepdims: T.sum(x, dim=d, keepdim=k), ((2, 3, 4),)))
            add(Op("mean" + tag, lambda x, a=axis, k=keepdims: x.mean(axis=a, keepdims=k),
                   lambda x, a=axis, k=keepdims: np.mean(x, axis=a, keepdims=k),
                   lambda T, x, d=dim, k=keepdims: T.mean(x, dim=d, keepdim=k), ((2, 3, 4),)))
            add(Op("max" + tag, lambda x, a=axis, k=keepdims: x.max(axis=a, keepdims=k),
                   lambda x, a=axis, k=keepdims: np.max(x, axis=a, keepdims=k),
                   lambda T, x, d=dim, k=keepdims: T.amax(x, dim=d, keepdim=k), ((2, 3, 4),)))

    add(Op("reshape(6,4)", lambda x: x.reshape(6, 4), lambda x: np.reshape(x, (6, 4)),
           lambda T, x: x.reshape(6, 4), ((2, 3, 4),)))
    add(Op("reshape((-1,))", lambda x: x.reshape((-1,)), np.ravel, lambda T, x: x.reshape(-1), ((2, 3, 4),)))
    add(Op("reshape(4,-1)", lambda x: x.reshape(4, -1), lambda x: np.reshape(x, (4, 6)),
           lambda T, x: x.reshape(4, -1), ((2, 3, 4),)))
    add(Op("T(2d)", lambda x: x.T, np.transpose, lambda T, x: x.T, ((3, 4),)))
    add(Op("T(3d)", lambda x: x.T, np.transpose, _torch_permute((2, 1, 0)), ((2, 3, 4),)))
    add(Op("transpose(2,0,1)", lambda x: x.transpose(2, 0, 1), lambda x: np.transpose(x, (2, 0, 1)),
           _torch_permute((2, 0, 1)), ((2, 3, 4),)))
    add(Op("transpose((1,0,2))", lambda x: x.transpose((1, 0, 2)), lambda x: np.transpose(x, (1, 0, 2)),
           _torch_permute((1, 0, 2)), ((2, 3, 4),)))

    getitems = [
        ("[1]", 1),
        ("[1:3]", slice(1, 3)),
        ("[:, ::2]", (slice(None), slice(None, None, 2))),
        ("[-1, 1:]", (-1, slice(1, None))),
        ("[..., 1]", (Ellipsis, 1)),
        ("[None]", None),
        ("[[0,0,2]]", [0, 0, 2]),                          # repeated indices add up
        ("[array(2,0,2,2,1)]", ROW_INDEX),
        ("[[0,1,1],[2,2,0]]", ([0, 1, 1], [2, 2, 0])),     # paired integer arrays, one repeat
        ("[mask]", MASK),
    ]
    for tag, index in getitems:
        add(Op(f"getitem{tag}", lambda x, i=index: x[i], lambda x, i=index: x[i],
               lambda T, x, i=index: x[_torch_index(T, i)], ((4, 3),)))
    add(Op("getitem[Tensor(float labels)]", lambda x: x[Tensor([1.0, 1.0, 0.0])],
           lambda x: x[np.array([1, 1, 0])], lambda T, x: x[T.tensor([1, 1, 0])], ((4, 3),)))

    add(Op("relu", act.relu, lambda x: np.where(x > 0, x, 0.0), lambda T, x: T.relu(x),
           ((3, 4),), (AWAY_FROM_KINK,)))
    add(Op("sigmoid", act.sigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda T, x: T.sigmoid(x),
           ((3, 4),), (Domain(-4, 4),)))
    add(Op("tanh", act.tanh, lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
           lambda T, x: T.tanh(x), ((3, 4),)))
    add(Op("gelu", act.gelu, _gelu_exact, lambda T, x: T.nn.functional.gelu(x), ((3, 4),), (Domain(-4, 4),)))
    add(Op("gelu(tanh)", lambda x: act.gelu(x, approximate="tanh"), _gelu_tanh,
           lambda T, x: T.nn.functional.gelu(x, approximate="tanh"), ((3, 4),), (Domain(-4, 4),)))
    add(Op("GELU()", lambda x: act.GELU()(x), _gelu_exact, lambda T, x: T.nn.functional.gelu(x), ((3, 4),)))
    for axis in (-1, 0):
        add(Op(f"softmax(axis={axis})", lambda x, a=axis: act.softmax(x, axis=a),
               lambda x, a=axis: _softmax(x, a), lambda T, x, a=axis: T.softmax(x, dim=a), ((3, 4),)))
        add(Op(f"log_softmax(axis={axis})", lambda x, a=axis: act.log_softmax(x, axis=a),
               lambda x, a=axis: np.log(_softmax(x, a)), lambda T, x, a=axis: T.log_softmax(x, dim=a),
               ((3, 4),)))
    add(Op("ReLU()", lambda x: act.ReLU()(x), lambda x: np.maximum(x, 0.0), lambda T, x: T.relu(x),
           ((3, 4),), (AWAY_FROM_KINK,)))
    add(Op("Softmax()", lambda x: act.Softmax()(x), _softmax, lambda T, x: T.softmax(x, dim=-1), ((3, 4),)))

    add(Op("cross_entropy(labels)", lambda x: losses.cross_entropy(x, Tensor(LABELS)),
           lambda x: -np.mean(np.log(_softmax(x))[np.arange(5), LABELS]),
           lambda T, x: T.nn.functional.cross_entropy(x, T.from_numpy(LABELS)), ((5, 4),)))
    add(Op("cross_entropy(probabilities)", lambda x: losses.cross_entropy(x, Tensor(TARGET_PROBS)),
           lambda x: -np.mean(np.sum(TARGET_PROBS * np.log(_softmax(x)), axis=-1)),
           lambda T, x: T.nn.functional.cross_entropy(x, T.from_numpy(TARGET_PROBS)), ((5, 4),)))
    add(Op("CrossEntropyLoss()", lambda x: losses.CrossEntropyLoss()(x, LABELS),
           lambda x: -np.mean(np.log(_softmax(x))[np.arange(5), LABELS]),
           lambda T, x: T.nn.functional.cross_entropy(x, T.from_numpy(LABELS)), ((5, 4),)))
    add(Op("mse", losses.mean_squared_error, lambda p, t: np.mean((p - t) ** 2),
           lambda T, p, t: T.nn.functional.mse_loss(p, t), ((4, 3), (4, 3))))
    add(Op("mse(broadcast target)", losses.mean_squared_error, lambda p, t: np.mean((p - t) ** 2),
           lambda T, p, t: ((p - t) ** 2).mean(), ((4, 3), (3,))))
    eps = 1e-7
    add(Op("bce", losses.binary_cross_entropy,
           lambda p, t: -np.mean(t * np.log(p + eps) + (1 - t) * np.log(1 - p + eps)),
           lambda T, p, t: -(t * T.log(p + eps) + (1 - t) * T.log(1 - p + eps)).mean(),
           ((4, 3), (4, 3)), (PROBABILITY, Domain(0.0, 1.0))))

    for stride, padding in ((1, 0), (2, 1)):
        add(Op(f"conv2d(stride={stride},padding={padding})",
               lambda x, w, b, s=stride, p=padding: spatial.conv2d(x, w, b, stride=s, padding=p),
               lambda x, w, b, s=stride, p=padding: _conv2d(x, w, b, s, p),
               lambda T, x, w, b, s=stride, p=padding: T.nn.functional.conv2d(x, w, b, stride=s, padding=p),
               ((2, 2, 6, 5), (3, 2, 3, 3), (3,))))
    add(Op("conv2d(no bias)", lambda x, w: spatial.conv2d(x, w), lambda x, w: _conv2d(x, w, 0.0, 1, 0),
           lambda T, x, w: T.nn.functional.conv2d(x, w), ((2, 3, 4, 4), (2, 3, 2, 2))))
    for kernel, stride in ((2, None), (3, 1)):  # tiling windows, then overlapping ones
        add(Op(f"max_pool2d({kernel},stride={stride})", lambda x, k=kernel, s=stride: spatial.max_pool2d(x, k, s),
               lambda x, k=kernel, s=stride: _max_pool2d(x, k, s or k),
               lambda T, x, k=kernel, s=stride: T.nn.functional.max_pool2d(x, k, s), ((2, 2, 5, 6),)))
    add(Op("Flatten()", lambda x: spatial.Flatten()(x), lambda x: np.reshape(x, (2, -1)),
           lambda T, x: T.flatten(x, 1), ((2, 3, 2, 2),)))
    return ops


def _conv2d(x, w, b, stride, padding):
    """y[n, o, i, j] = b[o] + sum(w[o] * window), by loops over the output positions."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    k = w.shape[-1]
    out_h, out_w = (x.shape[2] - k) // stride + 1, (x.shape[3] - k) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + np.reshape(b, (1, -1, 1, 1))


def _max_pool2d(x, k, stride):
    out_h, out_w = (x.shape[2] - k) // stride + 1, (x.shape[3] - k) // stride + 1
    return np.array([[[[x[n, c, i * stride:i * stride + k, j * stride:j * stride + k].max()
                        for j in range(out_w)] for i in range(out_h)]
                      for c in range(x.shape[1])] for n in range(x.shape[0])])


def _torch_index(T, index):
    """The same index for a torch tensor (torch wants tensors, not lists, for integer arrays)."""
    if isinstance(index, tuple):
        return tuple(_torch_index(T, part) for part in index)
    if isinstance(index, (list, np.ndarray)):
        return T.as_tensor(np.asarray(index))
    return index


OPS = _build_table()
OPS_BY_NAME = {op.name: op for op in OPS}
assert len(OPS_BY_NAME) == len(OPS), "operation names must be unique"


# ---------------------------------------------------------------------------------------------
# 3. The numerical reference
# ---------------------------------------------------------------------------------------------

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3   # torch.autograd.gradcheck's defaults


def central_differences(f: Callable, arrays: list, which: int, eps: float = EPS) -> np.ndarray:
    """d f(*arrays) / d arrays[which] by (f(x + e) - f(x - e)) / 2e, element by element, in float64.

    `f` takes float64 arrays and returns a float.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    point = arrays[which]
    grad = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        original = point[index]
        point[index] = original + eps
        upper = f(*arrays)
        point[index] = original - eps
        lower = f(*arrays)
        point[index] = original
        grad[index] = (upper - lower) / (2 * eps)
    return grad


def autograd_and_numeric(fn: Callable, inputs: list, seed: int = 0):
    """Differentiate `fn` (tinytorch, Tensors -> Tensor) at float64 `inputs` both ways.

    The output is contracted with random weights W (backward(gradient=W)), so an operation whose
    gradient of plain `sum()` is trivially zero (softmax) is still checked. Returns
    (output, [autograd grad per input], [numeric grad per input]).
    """
    leaves = [Tensor(np.array(x, dtype=np.float64), requires_grad=True) for x in inputs]
    out = fn(*leaves)
    weights = np.random.default_rng(seed).uniform(-1.0, 1.0, size=out.shape)
    out.backward(gradient=weights)

    def scalar(*arrays):
        return float(np.sum(fn(*[Tensor(a) for a in arrays]).data * weights))

    numeric = [central_differences(scalar, inputs, i) for i in range(len(inputs))]
    return out, [leaf.grad for leaf in leaves], numeric
