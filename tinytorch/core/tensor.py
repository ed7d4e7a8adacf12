import numpy as np


def _to_array(data, dtype=None) -> np.ndarray:
    """Turn anything array-like into the ndarray a Tensor stores.

    Dtype policy: an explicit `dtype` wins; floating numpy arrays keep their precision (float64
    stays float64, so gradient checks keep their accuracy); everything else (Python numbers,
    lists, integer and boolean arrays) becomes float32, the dtype neural networks train in.
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind == "f":
        return np.asarray(data)
    return np.asarray(data, dtype=np.float32)


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    `data` holds the numbers (a numpy array). When `requires_grad` is set, every operation on the
    tensor records its inputs (`_parents`), its name (`_op`) and whatever the gradient rule will
    need later (`_ctx`). Module 05 (autograd) walks that record backwards to fill in `.grad`.
    """

    __slots__ = ("_data", "requires_grad", "grad", "_op", "_parents", "_ctx", "__weakref__")

    # numpy must hand `ndarray * Tensor` to Tensor.__rmul__ instead of building an object array.
    __array_ufunc__ = None
    # Switched off inside `autograd.no_grad()`: no graph is recorded while it is False.
    grad_enabled = True
    # The backward engine (module 05 registers its `backward` function here).
    backward_engine = None

    def __init__(self, data, dtype=None, requires_grad: bool = False):
        """Wrap `data` (number, list, ndarray or Tensor) following the dtype policy of `_to_array`."""
        self._data = _to_array(data, dtype)
        self.requires_grad = requires_grad
        self.grad = None
        self._op = None
        self._parents = ()
        self._ctx = None

    # ------------------------------------------------------------------ basic properties
    @property
    def data(self) -> np.ndarray:
        """The underlying numpy array."""
        return self._data

    @data.setter
    def data(self, value) -> None:
        # Optimizers assign new values here; the graph is not involved.
        self._data = _to_array(value)

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        """A tensor the user made, rather than the result of an operation."""
        return self._op is None

    def numpy(self) -> np.ndarray:
        return self._data

    def item(self) -> float:
        return self._data.item()

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        grad = f", requires_grad=True" if self.requires_grad else ""
        op = f", op={self._op}" if self._op else ""
        return f"Tensor({np.array2string(self._data, precision=4, separator=', ')}, dtype={self.dtype}{grad}{op})"

    # Tensors compare element-wise (like numpy), but keep identity hashing so that they can live in
    # sets and dict keys: defining __eq__ alone would silently make the class unhashable.
    __hash__ = object.__hash__

    def __eq__(self, other):
        return Tensor(self._data == _raw(other), dtype=bool)

    def __ne__(self, other):
        return Tensor(self._data != _raw(other), dtype=bool)

    def __lt__(self, other):
        return Tensor(self._data < _raw(other), dtype=bool)

    def __le__(self, other):
        return Tensor(self._data <= _raw(other), dtype=bool)

    def __gt__(self, other):
        return Tensor(self._data > _raw(other), dtype=bool)

    def __ge__(self, other):
        return Tensor(self._data >= _raw(other), dtype=bool)

    def __bool__(self) -> bool:
        return bool(self._data)

    # ------------------------------------------------------------------ recording the graph
    @classmethod
    def from_op(cls, data: np.ndarray, op: str, parents: tuple, **ctx) -> "Tensor":
        """Wrap the result of operation `op` on `parents`, recording the graph when gradients flow.

        The record is only kept when some parent requires a gradient and recording is enabled, so
        plain forward computations (and everything under `no_grad`) cost nothing extra.
        """
        out = cls(data)
        if cls.grad_enabled and any(parent.requires_grad for parent in parents):
            out.requires_grad = True
            out._op = op
            out._parents = parents
            out._ctx = ctx
        return out

    def detach(self) -> "Tensor":
        """The same numbers, cut off from the graph."""
        return Tensor(self._data)

    # ------------------------------------------------------------------ element-wise arithmetic
    def __add__(self, other) -> "Tensor":
        other = as_tensor(other, like=self)
        return Tensor.from_op(self._data + other._data, "add", (self, other))

    def __sub__(self, other) -> "Tensor":
        other = as_tensor(other, like=self)
        return Tensor.from_op(self._data - other._data, "sub", (self, other))

    def __mul__(self, other) -> "Tensor":
        other = as_tensor(other, like=self)
        return Tensor.from_op(self._data * other._data, "mul", (self, other))

    def __truediv__(self, other) -> "Tensor":
        other = as_tensor(other, like=self)
        return Tensor.from_op(self._data / other._data, "div", (self, other))

    def __neg__(self) -> "Tensor":
        return Tensor.from_op(-self._data, "neg", (self,))

    def __pow__(self, exponent: float) -> "Tensor":
        """Raise to a constant power (the exponent is a number, not a tensor)."""
        if isinstance(exponent, Tensor):
            raise TypeError("Tensor ** Tensor is not supported: the exponent must be a number")
        return Tensor.from_op(self._data ** exponent, "pow", (self,), exponent=exponent)

    def __radd__(self, other) -> "Tensor":
        return as_tensor(other, like=self) + self

    def __rsub__(self, other) -> "Tensor":
        return as_tensor(other, like=self) - self

    def __rmul__(self, other) -> "Tensor":
        return as_tensor(other, like=self) * self

    def __rtruediv__(self, other) -> "Tensor":
        return as_tensor(other, like=self) / self

    def exp(self) -> "Tensor":
        return Tensor.from_op(np.exp(self._data), "exp", (self,))

    def log(self) -> "Tensor":
        return Tensor.from_op(np.log(self._data), "log", (self,))

    def sqrt(self) -> "Tensor":
        return self ** 0.5

    # ------------------------------------------------------------------ linear algebra
    def __matmul__(self, other) -> "Tensor":
        other = as_tensor(other, like=self)
        return Tensor.from_op(self._data @ other._data, "matmul", (self, other))

    def __rmatmul__(self, other) -> "Tensor":
        return as_tensor(other, like=self) @ self

    def matmul(self, other) -> "Tensor":
        return self @ other

    # ------------------------------------------------------------------ reductions
    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        return Tensor.from_op(self._data.sum(axis=axis, keepdims=keepdims), "sum", (self,),
                              axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        """The sum divided by the number of elements reduced (a composition: no rule of its own)."""
        axes = range(self.ndim) if axis is None else np.atleast_1d(axis)
        count = int(np.prod([self.shape[a] for a in axes]))
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / count)

    def max(self, axis=None, keepdims: bool = False) -> "Tensor":
        return Tensor.from_op(self._data.max(axis=axis, keepdims=keepdims), "max", (self,),
                              axis=axis, keepdims=keepdims)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape) -> "Tensor":
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return Tensor.from_op(self._data.reshape(shape), "reshape", (self,))

    def transpose(self, *axes) -> "Tensor":
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        axes = tuple(axes) or None
        return Tensor.from_op(self._data.transpose(axes), "transpose", (self,), axes=axes)

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    def __getitem__(self, index) -> "Tensor":
        index = _raw_index(index)
        return Tensor.from_op(self._data[index], "getitem", (self,), index=index)

    # ------------------------------------------------------------------ gradients
    def backward(self, gradient=None) -> None:
        """Fill `.grad` of every leaf this tensor depends on (see module 05, autograd).

        With no `gradient`, the output is seeded with ones: for a scalar that is d(out)/d(out) = 1,
        for a non-scalar it means "the gradient of out.sum()".
        """
        engine = Tensor.backward_engine
        if engine is None:
            from tinytorch.core import autograd  # registers itself as the engine on import
            engine = autograd.backward
        engine(self, gradient)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (the next backward starts from zero)."""
        self.grad = None


def as_tensor(value, like: Tensor = None) -> Tensor:
    """Return `value` as a Tensor, converting numbers with the dtype of `like`.

    Python numbers take the dtype of the tensor they meet (`float32_tensor * 2` stays float32);
    wrappers such as autograd's `Variable` hand over the Tensor they wrap.
    """
    if isinstance(value, Tensor):
        return value
    unwrap = getattr(value, "as_tensor", None)
    if callable(unwrap):
        return unwrap()
    if like is not None and isinstance(value, (int, float, bool)):
        return Tensor(value, dtype=like.dtype)
    return Tensor(value)


def _raw(value):
    """The numpy value behind a Tensor (or the value itself), for comparisons."""
    return value.data if isinstance(value, Tensor) else value


def _raw_index(index):
    """Indices may themselves be Tensors (e.g. class labels); numpy needs integer arrays."""
    if isinstance(index, Tensor):
        return index.data.astype(np.intp) if index.dtype.kind == "f" else index.data
    if isinstance(index, tuple):
        return tuple(_raw_index(part) for part in index)
    return index
