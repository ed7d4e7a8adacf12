import contextlib

import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor
from tinytorch.core.losses import log_softmax_rows


# ---------------------------------------------------------------------------------------------
# Gradient rules: one small function per recorded operation.
# Each takes the output node and d(loss)/d(output) and returns d(loss)/d(input) for each parent,
# in the order of `node._parents` (None where no gradient is needed). Shapes may still be
# broadcast: the engine sums them back to each parent's shape (see `unbroadcast`).
# ---------------------------------------------------------------------------------------------

def add_rule(node, grad):
    """z = a + b: dz/da = 1, dz/db = 1."""
    return grad, grad


def sub_rule(node, grad):
    """z = a - b: dz/da = 1, dz/db = -1."""
    return grad, -grad


def mul_rule(node, grad):
    """z = a * b: dz/da = b, dz/db = a."""
    a, b = node._parents
    return (grad * b.data if a.requires_grad else None,
            grad * a.data if b.requires_grad else None)


def div_rule(node, grad):
    """z = a / b: dz/da = 1 / b, dz/db = -a / b^2."""
    a, b = node._parents
    return (grad / b.data if a.requires_grad else None,
            -grad * a.data / (b.data * b.data) if b.requires_grad else None)


def neg_rule(node, grad):
    """z = -a: dz/da = -1."""
    return (-grad,)


def pow_rule(node, grad):
    """z = a^n (n a constant): dz/da = n a^(n-1)."""
    (a,) = node._parents
    n = node._ctx["exponent"]
    return (grad * n * a.data ** (n - 1),)


def exp_rule(node, grad):
    """z = e^a: dz/da = e^a, which is z itself."""
    return (grad * node.data,)


def log_rule(node, grad):
    """z = log a: dz/da = 1 / a."""
    (a,) = node._parents
    return (grad / a.data,)


def matmul_rule(node, grad):
    """Z = A @ B: dL/dA = dL/dZ @ B^T, dL/dB = A^T @ dL/dZ (vectors act as 1-row / 1-column matrices)."""
    a, b = node._parents
    A = a.data[np.newaxis, :] if a.ndim == 1 else a.data
    B = b.data[:, np.newaxis] if b.ndim == 1 else b.data
    G = grad.reshape(np.broadcast_shapes(A.shape[:-2], B.shape[:-2]) + (A.shape[-2], B.shape[-1]))
    grad_a = grad_b = None
    if a.requires_grad:
        grad_a = G @ np.swapaxes(B, -1, -2)
        grad_a = grad_a[..., 0, :] if a.ndim == 1 else grad_a
    if b.requires_grad:
        grad_b = np.swapaxes(A, -1, -2) @ G
        grad_b = grad_b[..., :, 0] if b.ndim == 1 else grad_b
    return grad_a, grad_b


def sum_rule(node, grad):
    """z = sum(a): every element of a contributes once, so dz/da = 1 everywhere (grad is spread back)."""
    (a,) = node._parents
    axis, keepdims = node._ctx["axis"], node._ctx["keepdims"]
    if axis is not None and not keepdims:
        grad = np.expand_dims(grad, axis)
    return (np.broadcast_to(grad, a.shape),)


def max_rule(node, grad):
    """z = max(a): only the largest element moves z (ties share the gradient equally)."""
    (a,) = node._parents
    axis, keepdims = node._ctx["axis"], node._ctx["keepdims"]
    out, grad = node.data, np.asarray(grad)
    if axis is not None and not keepdims:
        out, grad = np.expand_dims(out, axis), np.expand_dims(grad, axis)
    winners = (a.data == out)
    return (grad * winners / winners.sum(axis=axis, keepdims=True),)


def reshape_rule(node, grad):
    """Reshaping moves no numbers: the gradient takes the input's shape back."""
    (a,) = node._parents
    return (np.reshape(grad, a.shape),)


def transpose_rule(node, grad):
    """Transposing permutes axes: the gradient is permuted back by the inverse permutation."""
    axes = node._ctx["axes"]
    return (np.transpose(grad, None if axes is None else np.argsort(axes)),)


def getitem_rule(node, grad):
    """Indexing picks elements: each picked element gets its gradient, repeats add up."""
    (a,) = node._parents
    full = np.zeros(a.shape, dtype=np.result_type(a.dtype, grad.dtype))
    np.add.at(full, node._ctx["index"], grad)
    return (full,)


def relu_rule(node, grad):
    """z = max(0, a): dz/da = 1 where a > 0, else 0."""
    (a,) = node._parents
    return (grad * (a.data > 0),)


def sigmoid_rule(node, grad):
    """z = sigmoid(a): dz/da = z (1 - z), computed from the output so it never overflows."""
    return (grad * node.data * (1 - node.data),)


def tanh_rule(node, grad):
    """z = tanh(a): dz/da = 1 - z^2."""
    return (grad * (1 - node.data * node.data),)


def cross_entropy_rule(node, grad):
    """L = mean(-log softmax(x)[target]): dL/dx = (softmax(x) - onehot(target)) / N."""
    logits, targets = node._parents
    delta = np.exp(log_softmax_rows(logits.data))
    if targets.shape == logits.shape:
        delta = delta - targets.data
    else:
        delta[np.arange(len(delta)), targets.data.astype(np.intp)] -= 1
    return grad * delta / len(delta), None


GRADIENT_RULES = {
    "add": add_rule, "sub": sub_rule, "mul": mul_rule, "div": div_rule, "neg": neg_rule,
    "pow": pow_rule, "exp": exp_rule, "log": log_rule, "matmul": matmul_rule,
    "sum": sum_rule, "max": max_rule, "reshape": reshape_rule, "transpose": transpose_rule,
    "getitem": getitem_rule, "relu": relu_rule, "sigmoid": sigmoid_rule, "tanh": tanh_rule,
    "cross_entropy": cross_entropy_rule,
}


# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------

def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a gradient back down to `shape`, undoing numpy broadcasting.

    If `b` of shape (3,) was added to a (4, 3) batch, it was used 4 times, so its gradient is the
    sum of the 4 rows. Broadcasting adds leading axes and stretches size-1 axes; we sum over both.
    """
    grad = np.asarray(grad)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return np.broadcast_to(grad, shape) if grad.shape != shape else grad


def topological_order(root: Tensor) -> list:
    """Every node that `root` depends on, each listed after all of its inputs.

    An explicit stack instead of recursion: a chain of 100,000 operations is as easy as 10.
    Nodes are tracked by id(), so the walk never depends on how tensors hash or compare.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((parent, False) for parent in node._parents
                     if parent.requires_grad and id(parent) not in visited)
    return order


def backward(output: Tensor, gradient=None) -> None:
    """Reverse-mode differentiation: accumulate d(output)/d(leaf) into every leaf's `.grad`.

    Each node is visited exactly once, after every node that uses it has passed its gradient
    down, so a node reached by many paths gets the sum of all of them (linear time, even on
    graphs where the number of paths grows exponentially).
    """
    if not output.requires_grad:
        raise RuntimeError("backward() called on a tensor that does not require gradients: "
                           "no input of this computation has requires_grad=True")
    seed = np.ones_like(output.data) if gradient is None else _gradient_seed(gradient, output)
    pending = {id(output): seed}
    for node in reversed(topological_order(output)):
        grad = pending.pop(id(node), None)
        if grad is None:
            continue
        if node.is_leaf:
            _accumulate(node, grad)
            continue
        for parent, parent_grad in zip(node._parents, GRADIENT_RULES[node._op](node, grad)):
            if parent_grad is None or not parent.requires_grad:
                continue
            parent_grad = unbroadcast(parent_grad, parent.shape)
            key = id(parent)
            # Out-of-place sum: the first gradient may be shared with a sibling (add passes the
            # same array to both inputs), so adding into it in place would corrupt the other.
            pending[key] = parent_grad if key not in pending else pending[key] + parent_grad


def _gradient_seed(gradient, output: Tensor) -> np.ndarray:
    """The caller's d(loss)/d(output), as an array of the output's shape and dtype."""
    seed = np.asarray(as_tensor(gradient).data, dtype=output.dtype)
    if seed.shape != output.shape:
        raise ValueError(f"backward(gradient): gradient shape {seed.shape} does not match "
                         f"the output shape {output.shape}")
    return seed


def _accumulate(leaf: Tensor, grad: np.ndarray) -> None:
    """Add to a leaf's gradient, in its own dtype, in a fresh array nobody else holds."""
    grad = np.array(grad, dtype=leaf.dtype, copy=True)
    leaf.grad = Tensor(grad if leaf.grad is None else leaf.grad.data + grad)


Tensor.backward_engine = backward  # Tensor.backward() now runs this engine


@contextlib.contextmanager
def no_grad():
    """Run code without recording the graph (evaluation, parameter updates).

    Usable as `with no_grad():` or as a decorator. The previous mode is restored even if the
    block raises.
    """
    previous = Tensor.grad_enabled
    Tensor.grad_enabled = False
    try:
        yield
    finally:
        Tensor.grad_enabled = previous


# ---------------------------------------------------------------------------------------------
# Checking gradients numerically
# ---------------------------------------------------------------------------------------------

def numerical_gradient(f, x, epsilon: float = 1e-6) -> np.ndarray:
    """d f(x) / dx by central differences, (f(x + e) - f(x - e)) / 2e, in float64.

    float64 matters: in float32 the rounding error of f divided by a tiny 2e swamps the result.
    `f` must return a scalar (or a tensor, which is summed).
    """
    point = np.array(as_tensor(x).data, dtype=np.float64)
    grad = np.zeros_like(point)
    with no_grad():
        for index in np.ndindex(point.shape):
            original = point[index]
            point[index] = original + epsilon
            upper = float(np.sum(as_tensor(f(Tensor(point.copy()))).data))
            point[index] = original - epsilon
            lower = float(np.sum(as_tensor(f(Tensor(point.copy()))).data))
            point[index] = original
            grad[index] = (upper - lower) / (2 * epsilon)
    return grad


def check_gradients(f, x, epsilon: float = 1e-6, tolerance: float = 1e-5):
    """Compare autograd with central differences at x (in float64). Returns (match, max_difference).

    The comparison is PyTorch gradcheck's: |analytic - numeric| <= tolerance + 1e-3 * |numeric|.
    """
    point = Tensor(np.array(as_tensor(x).data, dtype=np.float64), requires_grad=True)
    output = as_tensor(f(point))
    output.sum().backward() if output.size > 1 else output.backward()
    analytic = np.zeros_like(point.data) if point.grad is None else point.grad.data
    numeric = numerical_gradient(f, point, epsilon)
    difference = float(np.max(np.abs(analytic - numeric), initial=0.0))
    match = bool(np.allclose(analytic, numeric, atol=tolerance, rtol=1e-3))
    return match, difference


# ---------------------------------------------------------------------------------------------
# Variable: the classic face of autograd, a gradient-tracking wrapper around a Tensor
# ---------------------------------------------------------------------------------------------

class Variable:
    """A Tensor wrapper in the style of early PyTorch: `.data` is a Tensor, `.grad` a Variable.

    It runs on the same engine as Tensor: every Variable holds one graph node (`as_tensor()`).
    Assigning `.data` (as a hand-written update step does) replaces the values and makes the
    Variable a fresh leaf, so the next forward pass records a new graph.
    """

    __hash__ = object.__hash__

    def __init__(self, data, requires_grad: bool = True):
        values = data.as_tensor().data if isinstance(data, Variable) else as_tensor(data).data
        self._node = Tensor(values, requires_grad=requires_grad)

    @classmethod
    def wrap(cls, node: Tensor) -> "Variable":
        """A Variable around an existing graph node (the result of an operation)."""
        variable = cls.__new__(cls)
        variable._node = node
        return variable

    def as_tensor(self) -> Tensor:
        return self._node

    @property
    def data(self) -> Tensor:
        return self._node

    @data.setter
    def data(self, value) -> None:
        self._node = Tensor(as_tensor(value).data, requires_grad=self.requires_grad)

    @property
    def requires_grad(self) -> bool:
        return self._node.requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._node.requires_grad = value

    @property
    def grad(self):
        grad = self._node.grad
        return None if grad is None else Variable(grad, requires_grad=False)

    @grad.setter
    def grad(self, value) -> None:
        self._node.grad = None if value is None else Tensor(as_tensor(value).data)

    @property
    def grad_fn(self):
        """The gradient rule of the operation that made this Variable (None for a leaf)."""
        return GRADIENT_RULES.get(self._node._op)

    @property
    def is_leaf(self) -> bool:
        return self._node.is_leaf

    @property
    def shape(self) -> tuple:
        return self._node.shape

    @property
    def size(self) -> int:
        return self._node.size

    def backward(self, gradient=None) -> None:
        self._node.backward(gradient)

    def zero_grad(self) -> None:
        self._node.zero_grad()

    def sum(self) -> "Variable":
        return Variable.wrap(self._node.sum())

    def mean(self) -> "Variable":
        return Variable.wrap(self._node.mean())

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        return subtract(self, other)

    def __rsub__(self, other):
        return subtract(other, self)

    def __mul__(self, other):
        return multiply(self, other)

    def __rmul__(self, other):
        return multiply(other, self)

    def __truediv__(self, other):
        return divide(self, other)

    def __rtruediv__(self, other):
        return divide(other, self)

    def __neg__(self):
        return Variable.wrap(-self._node)

    def __pow__(self, exponent):
        return Variable.wrap(self._node ** exponent)

    def __matmul__(self, other):
        return Variable.wrap(self._node @ as_tensor(other))

    def __repr__(self) -> str:
        grad_fn = f", grad_fn={self.grad_fn.__name__}" if self.grad_fn else ""
        return f"Variable({self._node.data.tolist()}, requires_grad={self.requires_grad}{grad_fn})"


def _operands(a, b):
    """Both operands as graph nodes; plain numbers become constants of the other's dtype."""
    if isinstance(a, (Variable, Tensor)):
        a = as_tensor(a)
        return a, as_tensor(b, like=a)
    b = as_tensor(b)
    return as_tensor(a, like=b), b


def add(a, b) -> Variable:
    """a + b, tracked for gradients."""
    a, b = _operands(a, b)
    return Variable.wrap(a + b)


def subtract(a, b) -> Variable:
    """a - b, tracked for gradients."""
    a, b = _operands(a, b)
    return Variable.wrap(a - b)


def multiply(a, b) -> Variable:
    """a * b, tracked for gradients."""
    a, b = _operands(a, b)
    return Variable.wrap(a * b)


def divide(a, b) -> Variable:
    """a / b, tracked for gradients."""
    a, b = _operands(a, b)
    return Variable.wrap(a / b)
