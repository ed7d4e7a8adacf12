# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.16.0
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
"""
# Module 01: Tensor, an array that remembers how it was made

Every number a neural network touches (inputs, weights, activations, gradients) lives in a
*tensor*: an n-dimensional array of numbers with one element type. In this module you build
TinyTorch's `Tensor` on top of numpy. Numpy does the arithmetic in fast compiled loops; your class
adds three things a deep-learning framework needs and numpy does not have:

1. a **dtype policy**, so that models train in float32 while gradient checks keep float64;
2. **operators that behave** inside Python's data model: comparisons that give boolean tensors,
   tensors that still work as set members and dict keys, `ndarray * Tensor` that gives a Tensor;
3. a **record of every operation** (which operation, on which inputs, with which settings), so
   that module 05 can run the computation backwards and compute gradients.

## Learning goals

- Describe a tensor by its shape, number of dimensions, size and dtype, and pick a dtype on purpose.
- Implement element-wise arithmetic with broadcasting, matrix multiplication, reductions along
  axes, reshaping, transposing and indexing.
- Explain the `__eq__`/`__hash__` pitfall and the `__array_ufunc__` hook, and avoid both bugs.
- Record each operation as a graph node with `Tensor.from_op`, following the contract that the
  autograd module relies on.

## Build, Use, Analyse

- **Build**: the dtype policy (`_to_array`, `as_tensor`), then the `Tensor` class, method group by
  method group.
- **Use**: after the class, one section per group: an explanation, a small demo, a graded test.
- **Analyse**: measure why float64 matters for gradient checks, and what float32 buys in speed.

## How to work through this notebook

A Python class cannot be split across notebook cells, so the whole `Tensor` class is one cell.
Its methods that contain `raise NotImplementedError()` are yours. Each method's docstring says
what to do. Work group by group: fill in a group, re-run the class cell, then run the section
below it that tests that group. The tests are locked and worth points; when your work is graded,
each test's points also need the grader's own cases for it (some hidden) to agree with the
reference.
"""

# %% nbgrader={"grade": false, "grade_id": "tensor-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.tensor
#| export
import numpy as np

# %% [markdown]
"""
## 1. What a tensor is

A tensor is a block of numbers arranged along some number of *axes* (dimensions):

| example | shape | ndim | size |
|---|---|---|---|
| a loss value | `()` | 0 | 1 |
| a bias vector of 10 classes | `(10,)` | 1 | 10 |
| a batch of 32 flattened 28x28 images | `(32, 784)` | 2 | 25,088 |
| a batch of 32 RGB images | `(32, 3, 28, 28)` | 4 | 75,264 |

`shape` lists the length of each axis, `ndim` is the number of axes, and `size` the number of
elements (the product of the shape). Numpy stores the elements in one contiguous block of memory,
row after row, and describes the layout with *strides* (how many bytes to skip to move one step
along each axis). That is why reshaping and transposing are nearly free: they change the
description, not the numbers.

Every element of one tensor has the same type, the **dtype**. Our `Tensor` keeps its numbers in a
numpy array (`.data`) and adds the dtype policy and the graph record around it.

## 2. The dtype policy

| input | stored as |
|---|---|
| a floating numpy array or numpy float (float16, float32, float64) | its own dtype, unchanged |
| Python numbers, lists, integer or boolean arrays | float32 |
| any input with an explicit `dtype=` | that dtype |

**Why float32 by default.** Neural networks do not need 16 significant digits; they need speed
and memory. A float32 takes half the bytes of a float64, so twice as many values fit in the
caches, and matrix multiplication is typically up to about twice as fast on a CPU (measured in the
Analyse section). PyTorch makes the same choice: `torch.tensor([1, 2.5])` is float32.

**Why floating arrays keep their dtype.** Some computations need float64, and the most important
one in this course is the *gradient check* of module 05. It estimates a derivative by central
differences, `(f(x + e) - f(x - e)) / 2e` with a tiny `e` such as 1e-6. The two values of `f` are
almost equal, and each carries a rounding error of about `machine epsilon * |f|`. Dividing by
`2e` magnifies that error: with float32 (epsilon about 1.2e-7) the estimate is off by about
`1.2e-7 / 2e-6`, around 0.06, which is useless; with float64 (epsilon about 2.2e-16) the error
is around 1e-10. If `Tensor(np.float64 array)` silently became float32, every gradient check would
fail for reasons that have nothing to do with the gradient.

**Python numbers take the dtype of the tensor they meet.** In `x * 0.1`, the `0.1` becomes a
constant tensor (a node of the graph) with `x`'s dtype. For a float64 `x` this matters: the
float32 nearest to 0.1 is 0.100000001490116..., an error of 1.5e-8 relative, far above float64's
precision. For a float16 `x` it keeps the result in float16 instead of promoting it to float32.
The helper `as_tensor(value, like=tensor)` applies this rule.

Numpy itself promotes when two *arrays* of different precision meet (float32 with float64 gives
float64); we keep that behaviour.

Implement the policy in `_to_array` below. It refers to the `Tensor` class, defined two cells
further down; that is fine in Python, because the name is looked up only when the function runs.
"""

# %% nbgrader={"grade": false, "grade_id": "tensor-to-array", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def _to_array(data, dtype=None) -> np.ndarray:
    """Turn anything array-like into the ndarray a Tensor stores.

    Dtype policy: an explicit `dtype` wins; floating numpy arrays keep their precision (float64
    stays float64, so gradient checks keep their accuracy); everything else (Python numbers,
    lists, integer and boolean arrays) becomes float32, the dtype neural networks train in.

    Steps:
      1. If `data` is a Tensor, continue with the numpy array it holds.
      2. If `dtype` is given, convert to exactly that dtype.
      3. If `data` is a numpy array or numpy scalar (`np.generic`) of a floating kind
         (`data.dtype.kind == "f"`), return it as an array with its dtype unchanged.
      4. Anything else becomes a float32 array.
    Hint: `np.asarray` converts without copying when nothing has to change.

    Example: `_to_array([1, 2])` is `array([1., 2.], dtype=float32)`, `_to_array(np.zeros(2))`
    stays float64 and `_to_array(0, dtype=bool)` is `array(False)`.
    """
    ### BEGIN SOLUTION
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind == "f":
        return np.asarray(data)
    return np.asarray(data, dtype=np.float32)
    ### END SOLUTION

# %% [markdown]
"""
## 3. The Tensor class: a map of your work

| group | methods you implement | tested in section |
|---|---|---|
| recording the graph (do this first: every operation calls it) | `from_op` | 5-9, in detail 11 |
| comparisons | `__eq__`, `__ne__`, `__lt__`, `__le__`, `__gt__`, `__ge__` | 10 |
| element-wise arithmetic | `__add__`, `__sub__`, `__mul__`, `__truediv__`, `__neg__`, `__pow__` | 5 |
| element-wise math | `exp`, `log` | 6 |
| linear algebra | `__matmul__` | 7 |
| reductions | `sum`, `mean`, `max` | 8 |
| shape and indexing | `reshape`, `transpose`, `__getitem__` | 9 |

Everything else is written for you: the properties (`shape`, `ndim`, `size`, `dtype`), the
*reflected* operators (`2 * x` calls `x.__rmul__(2)`, which reuses your `__mul__`), `sqrt` (a
power), `abs(t)` (a product with the sign), `.T`, and `backward`/`zero_grad`, which hand over
to module 05.

### Recording the graph: `Tensor.from_op`

Every operation computes its result with numpy and then wraps it with
`Tensor.from_op(data, op, parents, **ctx)`:

- `data` is the numpy result;
- `op` names the operation;
- `parents` is the tuple of input tensors, in order (`a - b` has parents `(a, b)`, never `(b, a)`);
- `ctx` holds whatever the gradient of that operation will need and cannot read from the inputs.

When at least one parent requires a gradient (and recording is switched on), the result gets
`requires_grad=True`, `_op=op`, `_parents=parents` and `_ctx=ctx`. Otherwise it is a plain leaf:
`_op` is None, `_parents` is `()` and `_ctx` is None. Why not always record? A record keeps its
parents alive: a chain of a thousand operations would hold on to a thousand arrays that nobody
needs when no gradient is wanted. Module 05's `no_grad()` switches recording off by setting
`Tensor.grad_enabled = False`.

**The contract with module 05.** The autograd module looks up a gradient rule by the name in
`_op` and reads `_ctx` by key, so these names are fixed:

| operation | `op` | parents | `ctx` |
|---|---|---|---|
| `a + b`, `a - b`, `a * b`, `a / b` | `"add"`, `"sub"`, `"mul"`, `"div"` | `(a, b)` | none |
| `-a` | `"neg"` | `(a,)` | none |
| `a ** n` (n a number) | `"pow"` | `(a,)` | `exponent=n` |
| `a.exp()`, `a.log()` | `"exp"`, `"log"` | `(a,)` | none |
| `a @ b` | `"matmul"` | `(a, b)` | none |
| `a.sum(axis, keepdims)` | `"sum"` | `(a,)` | `axis=`, `keepdims=` |
| `a.max(axis, keepdims)` | `"max"` | `(a,)` | `axis=`, `keepdims=` |
| `a.reshape(shape)` | `"reshape"` | `(a,)` | none |
| `a.transpose(axes)` | `"transpose"` | `(a,)` | `axes=` (a tuple, or None) |
| `a[index]` | `"getitem"` | `(a,)` | `index=` |

`mean` has no entry: it is a sum times a constant, so it records a `"sum"` and a `"mul"` and needs
no gradient rule of its own. When a Python number takes part (`a * 2`), it first becomes a constant
tensor (which does not require a gradient) and is a parent like any other.

### Two Python traps, and how the class avoids them

**`__eq__` and `__hash__`.** We want `a == b` to compare element-wise and return a boolean tensor,
as numpy does. But Python has a rule: a class that defines `__eq__` and not `__hash__` gets
`__hash__ = None`, so its instances become unhashable. The graph walk of module 05, and any user
who puts tensors in a set or uses them as dict keys, would die with
`TypeError: unhashable type: 'Tensor'` (a real course's autograd demo failed in every cell this
way). The class therefore sets `__hash__ = object.__hash__`: hashing by identity, which is what a
graph node needs (two different tensors holding equal numbers are still two nodes). Sets and dicts
stay correct, because distinct live objects never share an identity hash, so they never fall back
to `==`. A list, however, does: `t in [u, v]` calls `bool(u == t)`, which is ambiguous for
tensors of more than one element, exactly like numpy arrays. Test membership with `is`, or
use a set.

**`ndarray * Tensor`.** For `x * t` Python first asks `x.__mul__(t)`. If `x` is a numpy array,
numpy happily treats the unknown object `t` as a scalar of type `object` and builds an *object
array* whose every element is a Tensor: wrong type, no graph, slow. The class attribute
`__array_ufunc__ = None` tells numpy that Tensor does not take part in numpy's element-wise
functions; numpy's operator then returns `NotImplemented` and Python calls `t.__rmul__(x)`, which
gives a proper Tensor. Section 10 shows both traps on small classes.
"""

# %% nbgrader={"grade": false, "grade_id": "tensor-class", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
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
        """Element-wise `self == other`: a Tensor of dtype bool, never a single Python bool.

        `other` may be a Tensor, an array or a number. Compare the raw numpy values (the helper
        `_raw` unwraps a Tensor and leaves anything else alone) and wrap the boolean array in a
        Tensor with `dtype=bool`; without it the policy would turn True/False into 1.0/0.0.
        Comparisons are not differentiable, so nothing is recorded.
        Example: `Tensor([1, 2]) == 2` holds `[False, True]`.
        """
        ### BEGIN SOLUTION
        return Tensor(self._data == _raw(other), dtype=bool)
        ### END SOLUTION

    def __ne__(self, other):
        """Element-wise `self != other`, as a boolean Tensor (see `__eq__`)."""
        ### BEGIN SOLUTION
        return Tensor(self._data != _raw(other), dtype=bool)
        ### END SOLUTION

    def __lt__(self, other):
        """Element-wise `self < other`, as a boolean Tensor (see `__eq__`)."""
        ### BEGIN SOLUTION
        return Tensor(self._data < _raw(other), dtype=bool)
        ### END SOLUTION

    def __le__(self, other):
        """Element-wise `self <= other`, as a boolean Tensor (see `__eq__`)."""
        ### BEGIN SOLUTION
        return Tensor(self._data <= _raw(other), dtype=bool)
        ### END SOLUTION

    def __gt__(self, other):
        """Element-wise `self > other`, as a boolean Tensor (see `__eq__`)."""
        ### BEGIN SOLUTION
        return Tensor(self._data > _raw(other), dtype=bool)
        ### END SOLUTION

    def __ge__(self, other):
        """Element-wise `self >= other`, as a boolean Tensor (see `__eq__`)."""
        ### BEGIN SOLUTION
        return Tensor(self._data >= _raw(other), dtype=bool)
        ### END SOLUTION

    def __bool__(self) -> bool:
        return bool(self._data)

    # ------------------------------------------------------------------ recording the graph
    @classmethod
    def from_op(cls, data: np.ndarray, op: str, parents: tuple, **ctx) -> "Tensor":
        """Wrap the result of operation `op` on `parents`, recording the graph when gradients flow.

        The record is only kept when some parent requires a gradient and recording is enabled, so
        plain forward computations (and everything under `no_grad`) cost nothing extra.

        Steps:
          1. Make a new tensor of this class from `data` (the dtype policy applies).
          2. If recording is on (`cls.grad_enabled`) and at least one parent has
             `requires_grad`, set the new tensor's `requires_grad` to True and store the
             operation's name in `_op`, the `parents` tuple, as given, in `_parents`, and the
             keyword arguments (a dict) in `_ctx`.
          3. Return the new tensor; without a record it keeps the defaults of a leaf.
        Example: for `a = Tensor([1.0], requires_grad=True)`, the result `r` of
        `Tensor.from_op(np.array([2.0]), "mul", (a, a))` has `r._op == "mul"` and `r._ctx == {}`,
        and its two parents are `a` itself.
        """
        ### BEGIN SOLUTION
        out = cls(data)
        if cls.grad_enabled and any(parent.requires_grad for parent in parents):
            out.requires_grad = True
            out._op = op
            out._parents = parents
            out._ctx = ctx
        return out
        ### END SOLUTION

    def detach(self) -> "Tensor":
        """The same numbers, cut off from the graph."""
        return Tensor(self._data)

    # ------------------------------------------------------------------ element-wise arithmetic
    def __add__(self, other) -> "Tensor":
        """Element-wise `self + other` with numpy broadcasting; records op "add".

        Steps:
          1. Make `other` a Tensor with `as_tensor`, passing `like=self` so that a Python number
             takes this tensor's dtype (a Tensor passes through unchanged).
          2. Add the two numpy arrays (numpy broadcasts the shapes).
          3. Return `Tensor.from_op(result, "add", (self, other))`: both operands are parents,
             in this order.
        Example: `Tensor([[1, 2], [3, 4]]) + Tensor([10, 20])` holds `[[11, 22], [13, 24]]`.
        """
        ### BEGIN SOLUTION
        other = as_tensor(other, like=self)
        return Tensor.from_op(self._data + other._data, "add", (self, other))
        ### END SOLUTION

    def __sub__(self, other) -> "Tensor":
        """Element-wise `self - other`, like `__add__`; records op "sub" with parents (self, other)."""
        ### BEGIN SOLUTION
        other = as_tensor(other, like=self)
        return Tensor.from_op(self._data - other._data, "sub", (self, other))
        ### END SOLUTION

    def __mul__(self, other) -> "Tensor":
        """Element-wise `self * other` (not a matrix product), like `__add__`; records op "mul"."""
        ### BEGIN SOLUTION
        other = as_tensor(other, like=self)
        return Tensor.from_op(self._data * other._data, "mul", (self, other))
        ### END SOLUTION

    def __truediv__(self, other) -> "Tensor":
        """Element-wise `self / other`, like `__add__`; records op "div"."""
        ### BEGIN SOLUTION
        other = as_tensor(other, like=self)
        return Tensor.from_op(self._data / other._data, "div", (self, other))
        ### END SOLUTION

    def __neg__(self) -> "Tensor":
        """`-self`; records op "neg" with the single parent `(self,)` (note the comma)."""
        ### BEGIN SOLUTION
        return Tensor.from_op(-self._data, "neg", (self,))
        ### END SOLUTION

    def __pow__(self, exponent: float) -> "Tensor":
        """Raise to a constant power (the exponent is a number, not a tensor).

        Records op "pow" with parent `(self,)` and the exponent in the context: pass
        `exponent=exponent` to `from_op`, because the gradient n * a^(n-1) needs n.
        Example: `Tensor([2.0, 3.0]) ** 2` holds `[4., 9.]`.
        """
        if isinstance(exponent, Tensor):
            raise TypeError("Tensor ** Tensor is not supported: the exponent must be a number")
        if isinstance(exponent, np.generic):
            exponent = exponent.item()  # a numpy scalar would promote float32 to float64
        ### BEGIN SOLUTION
        return Tensor.from_op(self._data ** exponent, "pow", (self,), exponent=exponent)
        ### END SOLUTION

    def __radd__(self, other) -> "Tensor":
        return as_tensor(other, like=self) + self

    def __rsub__(self, other) -> "Tensor":
        return as_tensor(other, like=self) - self

    def __rmul__(self, other) -> "Tensor":
        return as_tensor(other, like=self) * self

    def __rtruediv__(self, other) -> "Tensor":
        return as_tensor(other, like=self) / self

    def exp(self) -> "Tensor":
        """e to the power of each element (`np.exp`); records op "exp" with parent `(self,)`."""
        ### BEGIN SOLUTION
        return Tensor.from_op(np.exp(self._data), "exp", (self,))
        ### END SOLUTION

    def log(self) -> "Tensor":
        """Natural logarithm of each element (`np.log`); records op "log" with parent `(self,)`."""
        ### BEGIN SOLUTION
        return Tensor.from_op(np.log(self._data), "log", (self,))
        ### END SOLUTION

    def sqrt(self) -> "Tensor":
        return self ** 0.5

    def __abs__(self) -> "Tensor":
        """`abs(t)`: x times the constant sign(x), so module 05 needs no rule of its own for it.

        The gradient is then sign(x), 0 at x = 0, as PyTorch's. (-0.0 stays -0.0: it equals 0.)
        """
        return self * Tensor(np.sign(self._data))

    # ------------------------------------------------------------------ linear algebra
    def __matmul__(self, other) -> "Tensor":
        """Matrix product `self @ other`, with numpy's rules; records op "matmul".

        Shapes (m, k) @ (k, n) give (m, n). A 1-d operand acts as a row vector on the left or a
        column vector on the right, and that axis is dropped from the result; leading axes of
        3-d and larger operands are a batch and broadcast. Make `other` a Tensor exactly as in
        `__add__`, multiply with numpy's `@`, and record both operands as parents.
        Example: `Tensor([[1, 2]]) @ Tensor([[3], [4]])` holds `[[11.]]`.
        """
        ### BEGIN SOLUTION
        other = as_tensor(other, like=self)
        return Tensor.from_op(self._data @ other._data, "matmul", (self, other))
        ### END SOLUTION

    def __rmatmul__(self, other) -> "Tensor":
        return as_tensor(other, like=self) @ self

    def matmul(self, other) -> "Tensor":
        return self @ other

    # ------------------------------------------------------------------ reductions
    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Add up the elements along `axis`; records op "sum" with ctx `axis=` and `keepdims=`.

        `axis=None` sums everything into a 0-d tensor; an int or a tuple of ints sums along those
        axes (negative axes count from the end); `keepdims=True` keeps each summed axis with size 1,
        so the result still broadcasts against the input. Numpy's `sum` takes the same arguments.
        Pass both settings to `from_op` as keyword arguments: the gradient rule needs them to
        spread the gradient back over the summed axes.
        Example: `Tensor([[1, 2], [3, 4]]).sum(axis=0)` holds `[4., 6.]`.
        """
        ### BEGIN SOLUTION
        return Tensor.from_op(self._data.sum(axis=axis, keepdims=keepdims), "sum", (self,),
                              axis=axis, keepdims=keepdims)
        ### END SOLUTION

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        """The sum divided by the number of elements reduced (a composition: no rule of its own).

        Steps:
          1. Find the axes being reduced: all of them when `axis` is None, else `axis` itself
             (`np.atleast_1d` turns an int or a tuple into an array of axes).
          2. `count` is the product of the lengths of those axes in `self.shape`.
          3. Return your own `self.sum(...)` (same axis and keepdims) multiplied by `1.0 / count`.
             Build it from Tensor operations, not numpy's `mean`, so that the graph records a
             "sum" and a "mul" and module 05 can differentiate it with no extra rule.
        Example: `Tensor([[1, 2], [3, 4]]).mean(axis=1)` holds `[1.5, 3.5]`.
        """
        ### BEGIN SOLUTION
        axes = range(self.ndim) if axis is None else np.atleast_1d(axis)
        count = int(np.prod([self.shape[a] for a in axes]))
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / count)
        ### END SOLUTION

    def max(self, axis=None, keepdims: bool = False) -> "Tensor":
        """The largest element along `axis`, with the same arguments and ctx as `sum`; op "max".

        Example: `Tensor([[1, 5], [4, 2]]).max(axis=1, keepdims=True)` holds `[[5.], [4.]]`.
        """
        ### BEGIN SOLUTION
        return Tensor.from_op(self._data.max(axis=axis, keepdims=keepdims), "max", (self,),
                              axis=axis, keepdims=keepdims)
        ### END SOLUTION

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape) -> "Tensor":
        """The same elements, in row-major order, arranged in a new shape; records op "reshape".

        Both `t.reshape(2, 3)` and `t.reshape((2, 3))` work (the first line below turns either
        into one tuple); one length may be -1, meaning "whatever is left". No ctx is needed: the
        gradient is reshaped back to the parent's shape, which the parent knows.
        Example: `Tensor([1, 2, 3, 4]).reshape(2, -1)` holds `[[1., 2.], [3., 4.]]`.
        """
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        ### BEGIN SOLUTION
        return Tensor.from_op(self._data.reshape(shape), "reshape", (self,))
        ### END SOLUTION

    def transpose(self, *axes) -> "Tensor":
        """Permute the axes (reverse them when none are given); records op "transpose", ctx `axes=`.

        The first two lines below turn `t.transpose(1, 0)`, `t.transpose((1, 0))` and
        `t.transpose()` into a tuple of axes, or None for "reverse all". Transpose the numpy array
        with those axes and record them as `axes=`: the gradient is permuted back with the
        inverse permutation.
        Example: a tensor of shape (2, 3, 4) transposed with (2, 0, 1) has shape (4, 2, 3).
        """
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        axes = tuple(axes) or None
        ### BEGIN SOLUTION
        return Tensor.from_op(self._data.transpose(axes), "transpose", (self,), axes=axes)
        ### END SOLUTION

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    def __getitem__(self, index) -> "Tensor":
        """`self[index]` with numpy's indexing rules; records op "getitem" with ctx `index=`.

        The first line below turns Tensors inside the index (class labels, masks) into numpy
        index arrays. Index the numpy array with the result and record that same index as
        `index=`: the gradient rule puts the gradient back at exactly those positions.
        Example: `Tensor([[1, 2], [3, 4]])[:, 1]` holds `[2., 4.]`.
        """
        index = _raw_index(index)
        ### BEGIN SOLUTION
        return Tensor.from_op(self._data[index], "getitem", (self,), index=index)
        ### END SOLUTION

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

# %% [markdown]
"""
### Helpers: numbers meet tensors

`as_tensor(value, like=None)` is how every operation turns its other operand into a Tensor. It
applies the last rule of the dtype policy: a Python number that meets a tensor takes that tensor's
dtype. Two small helpers, already written, unwrap Tensors for comparisons and for indexing.
"""

# %% nbgrader={"grade": false, "grade_id": "tensor-as-tensor", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def as_tensor(value, like: Tensor = None) -> Tensor:
    """Return `value` as a Tensor, converting numbers with the dtype of `like`.

    Python numbers take the dtype of the tensor they meet (`float32_tensor * 2` stays float32);
    wrappers such as autograd's `Variable` hand over the Tensor they wrap.

    Steps:
      1. A Tensor is returned as it is (the very same object: it may be a graph node).
      2. An object with a callable `as_tensor` method (module 05's `Variable`) is asked for the
         Tensor it wraps: return the result of calling that method.
      3. When `like` is given and `value` is a Python number (`int`, `float` or `bool`), make a
         Tensor with `dtype=like.dtype`.
      4. Anything else goes through the normal policy: `Tensor(value)`.
    Hint: `getattr(value, "as_tensor", None)` finds the method without raising.
    Example: `as_tensor(2, like=Tensor(np.zeros(3)))` is a float64 Tensor holding 2.0.
    """
    ### BEGIN SOLUTION
    if isinstance(value, Tensor):
        return value
    unwrap = getattr(value, "as_tensor", None)
    if callable(unwrap):
        return unwrap()
    if like is not None and isinstance(value, (int, float, bool)):
        return Tensor(value, dtype=like.dtype)
    return Tensor(value)
    ### END SOLUTION


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

# %% [markdown]
"""
## 4. Creating tensors

Implement `_to_array` and `as_tensor` (and nothing else is needed for this section). A few
things to notice in the demo: a list of integers becomes float32; a float64 array stays float64;
`dtype=` overrides the policy; a Python number that meets a float64 tensor becomes float64.
"""

# %%
x = Tensor([[1, 2, 3], [4, 5, 6]])
print(x, "shape", x.shape, "ndim", x.ndim, "size", x.size)
print("float64 array stays:", Tensor(np.linspace(0, 1, 3)).dtype)
print("explicit dtype wins:", Tensor([1, 2], dtype=np.float64).dtype)
print("a number meeting a float64 tensor:", as_tensor(0.1, like=Tensor(np.zeros(1))).dtype)
print("the same number alone:", as_tensor(0.1).dtype)

# %% nbgrader={"grade": true, "grade_id": "tensor-creation", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_tensor_creation():
    t = Tensor([[1, 2, 3], [4, 5, 6]])
    assert isinstance(t.data, np.ndarray)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6
    assert t.dtype == np.float32, f"a list of ints must become float32, got {t.dtype}"
    np.testing.assert_array_equal(t.data, np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))

    # the policy, case by case
    assert Tensor(np.arange(4)).dtype == np.float32, "integer arrays become float32"
    assert Tensor(np.array([True, False])).dtype == np.float32, "boolean arrays become float32"
    assert Tensor(np.zeros(3)).dtype == np.float64, "float64 arrays keep float64"
    assert Tensor(np.zeros(3, dtype=np.float16)).dtype == np.float16, "float16 arrays keep float16"
    scalar = Tensor(2.5)
    assert scalar.shape == () and scalar.dtype == np.float32 and scalar.item() == 2.5
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64, "an explicit dtype wins"
    assert Tensor(np.zeros(2), dtype=np.float32).dtype == np.float32, "an explicit dtype wins"
    flags = Tensor([1, 0], dtype=bool)
    assert flags.dtype == np.bool_ and flags.data.tolist() == [True, False]

    # a Tensor of a Tensor has the same numbers and dtype
    copy = Tensor(Tensor(np.array([1.5, 2.5])))
    assert copy.dtype == np.float64
    np.testing.assert_array_equal(copy.data, [1.5, 2.5])

    # a fresh tensor is a leaf without gradient
    assert t.requires_grad is False and t.grad is None and t.is_leaf
    assert t._op is None and t._parents == () and t._ctx is None
    assert Tensor([1.0], requires_grad=True).requires_grad is True

    # as_tensor: numbers take the dtype of the tensor they meet
    f64 = Tensor(np.ones(2))
    assert as_tensor(f64) is f64, "a Tensor must pass through unchanged"
    two = as_tensor(2, like=f64)
    assert isinstance(two, Tensor) and two.dtype == np.float64 and two.item() == 2.0
    assert as_tensor(0.1, like=f64).item() == 0.1, "0.1 must not be rounded through float32"
    assert as_tensor(3, like=Tensor([1.0])).dtype == np.float32
    assert as_tensor([1, 2]).dtype == np.float32


test_tensor_creation()

# %% [markdown]
"""
## 5. Element-wise arithmetic and broadcasting

`a + b`, `a - b`, `a * b`, `a / b`, `-a` and `a ** n` work element by element: the result at each
position depends only on the inputs at that position. When the shapes differ, numpy
**broadcasts** them:

1. line the shapes up from the right;
2. two lengths are compatible if they are equal or one of them is 1;
3. a missing axis on the left counts as length 1; every length-1 axis is stretched to match.

```
(2, 3) + (3,)     ->  (2, 3)      the row is added to each of the 2 rows
(2, 1) + (3,)     ->  (2, 3)      a column against a row: an outer sum
(4, 3) + (2, 3)   ->  error       3 matches 3, but 4 against 2 is neither equal nor 1
```

No copy is made: numpy reads the stretched operand with a stride of 0. This is how a `Dense`
layer adds one bias vector of shape `(n,)` to a whole batch of shape `(batch, n)`. It has a
consequence for module 05: a bias used by every row of the batch receives the gradient of every
row, so its gradient must be summed back to shape `(n,)`.

Python numbers work on either side: `x * 2` calls `x.__mul__(2)`; `2 * x` finds that `int` cannot
multiply a Tensor and calls `x.__rmul__(2)`, which is written for you and reuses your `__mul__`.
`2 - x` and `2 / x` must keep their order, which the reflected methods do by making the number a
tensor first.

Implement `__add__`, `__sub__`, `__mul__`, `__truediv__`, `__neg__` and `__pow__` (and `from_op`,
which every operation calls; section 11 tests it in detail).
"""

# %%
batch = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
bias = Tensor([0.5, 0.5, 0.5])
print("batch + bias:\n", batch + bias)
print("column * row, an outer product:\n", Tensor([[1.0], [2.0]]) * Tensor([1.0, 10.0, 100.0]))
print("10 - batch keeps the order:", (10 - batch).data[0], "and the dtype:", (10 - batch).dtype)
print("batch ** 2:", (batch ** 2).data[1])

# %% nbgrader={"grade": true, "grade_id": "tensor-arithmetic", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_tensor_arithmetic():
    a = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    row = Tensor([10.0, 20.0, 30.0])
    a_np = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    row_np = np.array([10.0, 20.0, 30.0], dtype=np.float32)

    cases = [(a + row, a_np + row_np), (a - row, a_np - row_np), (a * row, a_np * row_np),
             (a / row, a_np / row_np), (-a, -a_np), (a ** 2, a_np ** 2)]
    for result, expected in cases:
        assert isinstance(result, Tensor), f"operations must return a Tensor, got {type(result)}"
        assert result.shape == expected.shape and result.dtype == np.float32
        np.testing.assert_allclose(result.data, expected, rtol=1e-6)

    # broadcasting a column against a row
    outer = Tensor([[1.0], [2.0]]) + Tensor([10.0, 20.0, 30.0])
    assert outer.shape == (2, 3)
    np.testing.assert_array_equal(outer.data, [[11, 21, 31], [12, 22, 32]])

    # Python numbers on either side, order kept, dtype of the tensor kept
    for result, expected in [(a + 1, a_np + 1), (1 + a, 1 + a_np), (a - 1, a_np - 1),
                             (10 - a, 10 - a_np), (a * 3, a_np * 3), (3 * a, 3 * a_np),
                             (a / 4, a_np / 4), (12 / a, 12 / a_np)]:
        assert isinstance(result, Tensor) and result.dtype == np.float32, "numbers keep float32"
        np.testing.assert_allclose(result.data, expected, rtol=1e-6)

    f64 = Tensor(np.array([0.5, 2.0]))
    for result in (f64 + 1, f64 * 0.1, 0.1 * f64, f64 / 3, f64 ** 3, -f64):
        assert result.dtype == np.float64, "float64 tensors stay float64"
    np.testing.assert_array_equal((f64 * 0.1).data, np.array([0.5, 2.0]) * 0.1)

    try:
        Tensor(np.ones((4, 3))) + Tensor(np.ones((2, 3)))
    except ValueError:
        pass
    else:
        raise AssertionError("incompatible shapes must raise numpy's ValueError")
    try:
        a ** Tensor(2.0)
    except TypeError:
        pass
    else:
        raise AssertionError("a Tensor exponent is not supported")


test_tensor_arithmetic()

# %% [markdown]
"""
## 6. Element-wise math: `exp` and `log`

`exp` and `log` are the building blocks of sigmoid, softmax and cross-entropy (modules 02 and 04).
They are also where floating point bites: `exp` overflows to `inf` above about 88.7 in float32 and
709.8 in float64, and `log(0)` is `-inf`. Module 02 shows how to rearrange formulas so that
neither ever happens; here you only wrap numpy's functions and record the operation.

`sqrt` is given: it is `self ** 0.5`, so it needs no gradient rule of its own. So is `abs(t)`:
it is `t` times the constant `sign(t)`.
"""

# %%
values = Tensor(np.array([0.0, 1.0, 2.0]))
print("exp:", values.exp().data)
print("log(exp(x)) gives x back:", values.exp().log().data)
print("sqrt:", Tensor([4.0, 9.0]).sqrt().data)

# %% nbgrader={"grade": true, "grade_id": "tensor-exp-log", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_tensor_exp_log():
    x = Tensor(np.array([-2.0, 0.0, 0.5, 3.0]))
    e = x.exp()
    assert isinstance(e, Tensor) and e.shape == (4,) and e.dtype == np.float64
    np.testing.assert_allclose(e.data, np.exp([-2.0, 0.0, 0.5, 3.0]), rtol=1e-12)
    back = e.log()
    assert isinstance(back, Tensor) and back.dtype == np.float64
    np.testing.assert_allclose(back.data, [-2.0, 0.0, 0.5, 3.0], rtol=1e-12, atol=1e-15)
    positive = Tensor([[1.0, 10.0], [20.0, 0.5]])
    assert positive.log().dtype == np.float32 and positive.log().shape == (2, 2)
    np.testing.assert_allclose(positive.log().data, np.log([[1.0, 10.0], [20.0, 0.5]]), rtol=1e-6)
    assert positive.exp().dtype == np.float32
    np.testing.assert_allclose(positive.exp().data, np.exp([[1.0, 10.0], [20.0, 0.5]]), rtol=1e-6)


test_tensor_exp_log()

# %% [markdown]
"""
## 7. Matrix multiplication

For `A` of shape `(m, k)` and `B` of shape `(k, n)`, the product `C = A @ B` has shape `(m, n)`
and `C[i, j] = sum over p of A[i, p] * B[p, j]`: each output is the dot product of a row of `A`
with a column of `B`. The inner lengths must agree. Worked example:

```
[[1, 2],   @  [[5, 6],   =  [[1*5 + 2*7, 1*6 + 2*8],   =  [[19, 22],
 [3, 4]]       [7, 8]]       [3*5 + 4*7, 3*6 + 4*8]]       [43, 50]]
```

It costs `m * k * n` multiply-adds, and it is where a neural network spends most of its time: a
`Dense` layer computes `x @ W + b` for a whole batch `x` of shape `(batch, in)` and weights `W`
of shape `(in, out)`. Numpy hands the work to an optimised BLAS library, which is why a Python
framework can still be fast.

Numpy's rules, which we keep: a 1-d operand on the left is a row vector, on the right a column
vector, and that axis is dropped from the result; operands with more than 2 axes are stacks
(batches) of matrices whose leading axes broadcast.
"""

# %%
A = Tensor([[1.0, 2.0], [3.0, 4.0]])
B = Tensor([[5.0, 6.0], [7.0, 8.0]])
print("A @ B:\n", A @ B)
print("matrix @ vector:", (A @ Tensor([1.0, 1.0])).data, "shape", (A @ Tensor([1.0, 1.0])).shape)
print("a batch of 5 matrices @ one matrix:", (Tensor(np.ones((5, 3, 2))) @ B).shape)

# %% nbgrader={"grade": true, "grade_id": "tensor-matmul", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_tensor_matmul():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    b = Tensor([[5.0, 6.0], [7.0, 8.0]])
    c = a @ b
    assert isinstance(c, Tensor) and c.shape == (2, 2) and c.dtype == np.float32
    np.testing.assert_array_equal(c.data, [[19.0, 22.0], [43.0, 50.0]])
    np.testing.assert_array_equal(a.matmul(b).data, c.data)

    wide = Tensor(np.arange(6, dtype=np.float64).reshape(2, 3))
    tall = Tensor(np.arange(12, dtype=np.float64).reshape(3, 4))
    product = wide @ tall
    assert product.shape == (2, 4) and product.dtype == np.float64
    np.testing.assert_array_equal(product.data, np.arange(6.0).reshape(2, 3) @ np.arange(12.0).reshape(3, 4))

    # vectors: row on the left, column on the right, that axis dropped
    assert (Tensor([1.0, 1.0]) @ b).shape == (2,)
    np.testing.assert_array_equal((Tensor([1.0, 1.0]) @ b).data, [12.0, 14.0])
    np.testing.assert_array_equal((a @ Tensor([1.0, -1.0])).data, [-1.0, -1.0])
    assert (Tensor([1.0, 2.0]) @ Tensor([3.0, 4.0])).shape == ()

    # a numpy array on the left still gives a Tensor
    left = np.eye(2) @ a
    assert isinstance(left, Tensor)
    np.testing.assert_array_equal(left.data, a.data)
    try:
        wide @ wide
    except ValueError:
        pass
    else:
        raise AssertionError("(2, 3) @ (2, 3) must raise numpy's ValueError")


test_tensor_matmul()

# %% [markdown]
"""
## 8. Reductions: `sum`, `mean`, `max`

A reduction collapses one or more axes into a single number per remaining position. For a matrix
of shape `(batch, features)`:

| call | result shape | meaning |
|---|---|---|
| `x.sum()` | `()` | the total |
| `x.sum(axis=0)` | `(features,)` | one total per feature, over the batch |
| `x.sum(axis=1)` | `(batch,)` | one total per example |
| `x.sum(axis=1, keepdims=True)` | `(batch, 1)` | the same, kept as a column |

`keepdims=True` keeps the reduced axis with length 1, so the result broadcasts against the
input: `x / x.sum(axis=1, keepdims=True)` divides each row by its own total. Softmax (module 02)
is built exactly like that, and it needs `max` too: subtracting each row's maximum keeps `exp`
from overflowing.

`mean` is a sum times a constant. Writing it as a composition of recorded operations, instead of
calling numpy's `mean`, means module 05 can differentiate it with no rule of its own (micrograd's
`-` and `/` follow the same idea). A loss is usually a mean: the mean squared error is
`((prediction - target) ** 2).mean()`.
"""

# %%
scores = Tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
print("total:", scores.sum().item(), " per column:", scores.sum(axis=0).data, " per row:", scores.sum(axis=1).data)
print("row means as a column:\n", scores.mean(axis=1, keepdims=True).data)
print("each row divided by its total:\n", (scores / scores.sum(axis=1, keepdims=True)).data)
print("row maxima:", scores.max(axis=-1).data)

# %% nbgrader={"grade": true, "grade_id": "tensor-reductions", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_tensor_reductions():
    x = Tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])

    total = x.sum()
    assert isinstance(total, Tensor) and total.shape == () and total.dtype == np.float32
    assert total.item() == 21.0
    np.testing.assert_array_equal(x.sum(axis=0).data, [5.0, 7.0, 9.0])
    np.testing.assert_array_equal(x.sum(axis=1).data, [9.0, 12.0])
    np.testing.assert_array_equal(x.sum(axis=-1).data, [9.0, 12.0])
    kept = x.sum(axis=1, keepdims=True)
    assert kept.shape == (2, 1)
    np.testing.assert_array_equal(kept.data, [[9.0], [12.0]])
    assert x.sum(axis=(0, 1)).item() == 21.0

    m = x.mean()
    assert isinstance(m, Tensor) and m.shape == () and m.dtype == np.float32 and m.item() == 3.5
    np.testing.assert_allclose(x.mean(axis=0).data, [2.5, 3.5, 4.5], rtol=1e-6)
    np.testing.assert_allclose(x.mean(axis=1, keepdims=True).data, [[3.0], [4.0]], rtol=1e-6)
    assert Tensor(np.array([1.0, 2.0])).mean().dtype == np.float64

    top = x.max()
    assert isinstance(top, Tensor) and top.shape == () and top.item() == 6.0
    np.testing.assert_array_equal(x.max(axis=0).data, [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(x.max(axis=1, keepdims=True).data, [[5.0], [6.0]])


test_tensor_reductions()

# %% [markdown]
"""
## 9. Shape and indexing: `reshape`, `transpose`, `[...]`

- **reshape** keeps the elements in row-major order and changes how they are grouped: 6 numbers
  can be `(6,)`, `(2, 3)`, `(3, 2)` or `(1, 6)`. One length may be `-1` ("whatever is left"):
  flattening a batch of images is `images.reshape(batch, -1)`. Numpy returns a view when it can,
  so no numbers move.
- **transpose** permutes the axes. With no arguments it reverses them (a matrix's rows become
  columns); with `(2, 0, 1)` the new axis 0 is the old axis 2, and so on. `.T` is the no-argument
  form. Numpy only swaps strides, so this too is free.
- **indexing** follows numpy: an int picks and drops an axis, a slice keeps it, a tuple indexes
  several axes, and an integer array picks rows ("fancy" indexing: `probabilities[rows, labels]`
  picks each example's probability of its true class in module 04). A Tensor inside the index is
  converted for you (float labels become integers).

What must each record keep for module 05? Reshape needs nothing: the gradient is reshaped back to
the parent's shape, which the parent knows. Transpose keeps `axes`, to permute the gradient back.
Indexing keeps the `index`, to put each gradient value back where it was picked from.
"""

# %%
flat = Tensor(np.arange(6.0))
grid = flat.reshape(2, 3)
print("reshape(2, 3):\n", grid.data)
print("transposed:\n", grid.T.data)
print("row 1:", grid[1].data, " column 2:", grid[:, 2].data, " element (1, 2):", grid[1, 2].item())
print("rows picked by labels:", grid[Tensor([1, 0, 1])].shape)

# %% nbgrader={"grade": true, "grade_id": "tensor-shape-indexing", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_tensor_shape_indexing():
    flat = Tensor(np.arange(6, dtype=np.float64))
    grid = flat.reshape(2, 3)
    assert isinstance(grid, Tensor) and grid.shape == (2, 3) and grid.dtype == np.float64
    np.testing.assert_array_equal(grid.data, [[0, 1, 2], [3, 4, 5]])
    assert flat.reshape((3, 2)).shape == (3, 2)
    assert flat.reshape(-1, 2).shape == (3, 2)
    assert grid.reshape(-1).shape == (6,)
    np.testing.assert_array_equal(grid.reshape(6).data, np.arange(6.0))

    t = grid.transpose()
    assert isinstance(t, Tensor) and t.shape == (3, 2)
    np.testing.assert_array_equal(t.data, [[0, 3], [1, 4], [2, 5]])
    np.testing.assert_array_equal(grid.T.data, t.data)
    np.testing.assert_array_equal(grid.transpose(1, 0).data, t.data)
    cube = Tensor(np.arange(24, dtype=np.float64).reshape(2, 3, 4))
    assert cube.transpose(2, 0, 1).shape == (4, 2, 3)
    assert cube.transpose((1, 2, 0)).shape == (3, 4, 2)
    assert cube.T.shape == (4, 3, 2)

    row = grid[1]
    assert isinstance(row, Tensor) and row.shape == (3,)
    np.testing.assert_array_equal(row.data, [3, 4, 5])
    np.testing.assert_array_equal(grid[:, 1].data, [1, 4])
    assert grid[1, 2].shape == () and grid[1, 2].item() == 5.0
    np.testing.assert_array_equal(grid[0, 1:].data, [1, 2])
    picked = grid[Tensor([1, 0, 1])]
    assert picked.shape == (3, 3)
    np.testing.assert_array_equal(picked.data, [[3, 4, 5], [0, 1, 2], [3, 4, 5]])


test_tensor_shape_indexing()

# %% [markdown]
"""
## 10. Comparisons, hashing, and numpy on the left

Here are the two traps of section 3, reproduced on tiny classes, so you can see them happen.
"""

# %%
class ComparesOnly:
    """Defines __eq__ and nothing else: Python sets __hash__ to None."""

    def __eq__(self, other):
        return False


try:
    {ComparesOnly()}
except TypeError as error:
    print("a class with only __eq__:", error)


class NumpyUnaware:
    """No __array_ufunc__ = None: numpy takes this object for a scalar of type object."""

    def __rmul__(self, other):
        return f"rmul({other!r})"


print("ndarray * an object numpy does not know:", repr(np.ones(2) * NumpyUnaware()))

# %% [markdown]
"""
The first line shows the unhashable class. The second shows numpy building an object array: it
called `__rmul__` once per element, each time with a single float, instead of once with the whole
array. For a Tensor that would mean one tiny Tensor per element. `Tensor` avoids both: it keeps identity hashing
(`__hash__ = object.__hash__`) and declares `__array_ufunc__ = None`. Implement the six comparison
methods; each returns a boolean Tensor.
"""

# %%
a = Tensor([1.0, 2.0, 3.0])
b = Tensor([3.0, 2.0, 1.0])
print("a == b:", a == b, "\na > 1:", a > 1)
print("tensors as dict keys:", {a: "a", b: "b"}[b])
print("ndarray * Tensor:", np.array([2.0, 2.0, 2.0]) * a)

# %% nbgrader={"grade": true, "grade_id": "tensor-comparisons-hashing", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_tensor_comparisons_hashing():
    a = Tensor([1.0, 2.0, 3.0])
    b = Tensor([3.0, 2.0, 1.0])
    eq = a == b
    assert isinstance(eq, Tensor), f"== must return a Tensor, got {type(eq)}"
    assert eq.dtype == np.bool_ and eq.data.tolist() == [False, True, False]
    assert (a != b).data.tolist() == [True, False, True]
    assert (a < b).data.tolist() == [True, False, False]
    assert (a <= b).data.tolist() == [True, True, False]
    assert (a > b).data.tolist() == [False, False, True]
    assert (a >= b).data.tolist() == [False, True, True]
    assert (a > 1.5).data.tolist() == [False, True, True]
    assert (a == 2).dtype == np.bool_ and (a == 2).data.tolist() == [False, True, False]
    assert (a <= np.array([1.0, 1.0, 1.0])).data.tolist() == [True, False, False]

    # tensors stay hashable by identity
    assert len({a, b, a}) == 2
    lookup = {a: "a", b: "b"}
    assert lookup[a] == "a" and lookup[b] == "b"
    assert hash(a) == hash(a)
    assert Tensor(a.data) not in {a, b}, "a different tensor with equal numbers is another node"

    # numpy on the left hands over to Tensor
    for result, expected in [(np.full(3, 2.0) * a, [2.0, 4.0, 6.0]), (np.ones(3) + a, [2.0, 3.0, 4.0]),
                             (np.ones(3) - a, [0.0, -1.0, -2.0]), (np.full(3, 6.0) / a, [6.0, 3.0, 2.0])]:
        assert isinstance(result, Tensor), f"ndarray (op) Tensor must be a Tensor, got {type(result)}"
        np.testing.assert_allclose(result.data, expected)


test_tensor_comparisons_hashing()

# %% [markdown]
"""
## 11. The graph record

With `requires_grad=True` on an input, every result remembers its operation, its inputs and its
context. The demo builds `loss = ((w * x).sum() - 1) ** 2` and walks the record back from the
loss. This walk is what module 05 does, with a gradient rule at every step.
"""

# %%
w = Tensor([0.5, -1.0], requires_grad=True)
x = Tensor([2.0, 3.0])
loss = ((w * x).sum() - 1) ** 2
node = loss
while node._parents:
    print(f"{node._op:>4}  ctx={node._ctx}  parents require grad: {[p.requires_grad for p in node._parents]}")
    node = node._parents[0]
print("leaf:", node, "is w:", node is w)
print("without requires_grad nothing is recorded:", (x * x)._op, (x * x)._parents)

# %% nbgrader={"grade": true, "grade_id": "tensor-graph-records", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_tensor_graph_records():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = Tensor([[0.5, -1.0], [2.0, 1.0]], requires_grad=True)

    def check(out, op, parents, **ctx):
        assert isinstance(out, Tensor) and out.requires_grad is True, f"{op}: result must require grad"
        assert out._op == op, f"expected op {op!r}, got {out._op!r}"
        assert isinstance(out._parents, tuple) and len(out._parents) == len(parents), f"{op}: parents {out._parents!r}"
        assert all(p is q for p, q in zip(out._parents, parents)), f"{op}: parents must be the inputs, in order"
        assert out._ctx == ctx, f"{op}: expected ctx {ctx}, got {out._ctx}"
        assert not out.is_leaf

    check(a + b, "add", (a, b))
    check(a - b, "sub", (a, b))
    check(b - a, "sub", (b, a))
    check(a * b, "mul", (a, b))
    check(a / b, "div", (a, b))
    check(-a, "neg", (a,))
    check(a ** 3, "pow", (a,), exponent=3)
    check(a.exp(), "exp", (a,))
    check(a.log(), "log", (a,))
    check(a @ b, "matmul", (a, b))
    check(a.sum(), "sum", (a,), axis=None, keepdims=False)
    check(a.sum(axis=0, keepdims=True), "sum", (a,), axis=0, keepdims=True)
    check(a.max(axis=1), "max", (a,), axis=1, keepdims=False)
    check(a.reshape(4), "reshape", (a,))
    check(a.transpose(), "transpose", (a,), axes=None)
    check(a.transpose(1, 0), "transpose", (a,), axes=(1, 0))
    check(a[0], "getitem", (a,), index=0)
    check(a[:, 1], "getitem", (a,), index=(slice(None), 1))

    # a Python number becomes a constant parent with the tensor's dtype
    doubled = a * 2
    check(doubled, "mul", (a, doubled._parents[1]))
    constant = doubled._parents[1]
    assert isinstance(constant, Tensor) and constant.requires_grad is False
    assert constant.dtype == np.float32 and constant.item() == 2.0
    flipped = 1 - a
    assert flipped._op == "sub" and flipped._parents[1] is a and flipped._parents[0].item() == 1.0

    # one input requiring a gradient is enough
    plain = Tensor([[1.0, 1.0], [1.0, 1.0]])
    check(plain + a, "add", (plain, a))

    # no record without requires_grad, and the inputs are never modified
    c = plain * plain + 1
    assert c.requires_grad is False and c._op is None and c._parents == () and c._ctx is None
    assert a.is_leaf and a._op is None and a._parents == () and a.requires_grad is True

    # no record while recording is switched off (what module 05's no_grad does)
    Tensor.grad_enabled = False
    try:
        off = a * b
    finally:
        Tensor.grad_enabled = True
    assert off.requires_grad is False and off._op is None and off._parents == ()

    # mean has no op of its own: it must be built from contract ops and lead back to its input
    contract = {"add", "sub", "mul", "div", "neg", "pow", "exp", "log", "matmul", "sum", "max",
                "reshape", "transpose", "getitem"}

    def ops_back_to(output, source):
        ops, pending, visited, reached = [], [output], set(), False
        while pending:
            current = pending.pop()
            if id(current) not in visited:
                visited.add(id(current))
                reached = reached or current is source
                if current._op is not None:
                    ops.append(current._op)
                    pending.extend(current._parents)
        assert reached, "the result's graph must lead back to the input"
        return ops

    mean_ops = ops_back_to(a.mean(), a)
    assert "sum" in mean_ops and set(mean_ops) <= contract, f"mean recorded {mean_ops}"


test_tensor_graph_records()

# %% [markdown]
"""
## 12. Analyse: precision and speed

### Why gradient checks need float64, measured

Module 05 checks every gradient rule against central differences. Here is that estimate for
`f(x) = sum(x^3)`, whose true gradient is `3 x^2`, computed with your Tensor in float32 and in
float64, for three step sizes `e`. Shrinking `e` reduces the truncation error (about `e^2`) but
magnifies the rounding error (about `epsilon * |f| / e`); the best `e` and the best accuracy
depend on the dtype's epsilon.
"""

# %%
def central_differences(f, point: np.ndarray, step: float) -> np.ndarray:
    """Estimate the gradient of the scalar function f at `point`, one coordinate at a time."""
    grad = np.zeros(point.shape)
    for i in range(point.size):
        shift = np.zeros_like(point)
        shift.flat[i] = step
        grad.flat[i] = (f(Tensor(point + shift)).item() - f(Tensor(point - shift)).item()) / (2 * step)
    return grad


def cube_sum(t):
    return (t * t * t).sum()


start = np.array([0.5, 1.5, 2.0, 3.0])
exact = 3 * start ** 2
print(f"{'step':>8} {'float32 error':>15} {'float64 error':>15}")
for step in (1e-2, 1e-4, 1e-6):
    errors = [np.max(np.abs(central_differences(cube_sum, start.astype(dtype), step) - exact))
              for dtype in (np.float32, np.float64)]
    print(f"{step:>8.0e} {errors[0]:>15.2e} {errors[1]:>15.2e}")
print("machine epsilon: float32", np.finfo(np.float32).eps, " float64", np.finfo(np.float64).eps)

# %% [markdown]
"""
With `e = 1e-6` (what PyTorch's `gradcheck` uses), the float32 estimate is wrong by an amount
of order 1 on gradients between 0.75 and 27: useless. Float64 is right to about eight digits. Even
float32's best step size leaves an error thousands of times larger than float64's. Module 05's
checks therefore always run in float64, which works only because your dtype policy lets float64
arrays stay float64.

### What float32 buys, measured

Training does not need that precision, and float32 is faster. A 256x256 matrix product with your
`__matmul__`, best of several runs:
"""

# %%
import time


def best_time(fn, repeats: int = 15) -> float:
    fn()  # warm up: the first call starts BLAS threads and touches fresh memory
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    return min(times)


rng = np.random.default_rng(0)
m64 = rng.standard_normal((256, 256))
left64, right64 = Tensor(m64), Tensor(m64.T.copy())
left32, right32 = Tensor(m64.astype(np.float32)), Tensor(m64.T.astype(np.float32))
t64 = best_time(lambda: left64 @ right64)
t32 = best_time(lambda: left32 @ right32)
print(f"float64: {t64 * 1e3:.2f} ms   float32: {t32 * 1e3:.2f} ms   float64 / float32: {t64 / t32:.1f}x")
print(f"memory per matrix: float64 {left64.data.nbytes / 1024:.0f} KiB, float32 {left32.data.nbytes / 1024:.0f} KiB")

# %% [markdown]
"""
Expect float32 to be up to about twice as fast, and always half the memory. The ratio depends on
the machine, its BLAS library and threads, and on what else is running: timings on a busy machine
are noisy, which is why we take the best of several runs. That is the whole dtype policy in two measurements: float32
where speed matters, float64 where accuracy matters, and no silent conversion between them.

## 13. Summary

You built TinyTorch's `Tensor`:

- a dtype policy: float32 by default, floating arrays keep their dtype, numbers take the dtype of
  the tensor they meet;
- element-wise arithmetic with broadcasting, `exp`/`log`, matrix multiplication, reductions with
  `axis`/`keepdims`, reshape, transpose and indexing, all computed by numpy;
- comparisons that return boolean tensors while tensors stay hashable, and `ndarray * Tensor`
  that returns a Tensor;
- a graph record on every operation (`_op`, `_parents`, `_ctx`), following the contract that
  module 05 turns into gradients.

Next, module 02 uses these operations to build activation functions that stay finite for any
input.

### Checkpoint unlocked

`checkpoints/checkpoint_01_tensor.py` asks: *"Can I store numbers in n-dimensional arrays and
compute with them?"* Run it against the reference package with `make checkpoints`, or on its own:

```bash
.venv/bin/python -m pytest checkpoints/checkpoint_01_tensor.py
```
"""


# %% [markdown]
# ## Checkpoint cell (20 points)
#
# This last graded cell asks the checkpoint's question of your own code, in a few lines. When your
# notebook is graded, its 20 points are decided differently: the autograder exports your module,
# runs the checkpoint's cases on it in a sandbox (with the published reference standing in for
# the earlier modules), on inputs drawn for your submission, and compares the values with the
# reference's outside your notebook. Passing here is a good sign; the comparison is what counts.

# %% nbgrader={"grade": true, "grade_id": "tensor-checkpoint", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_checkpoint_tensor():
    """Can I store numbers in n-dimensional arrays and compute with them?"""
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    b = Tensor([10.0, 20.0])
    result = ((a + b) * 2 - 1) @ a.T
    plain = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(result.data, ((plain + [10.0, 20.0]) * 2 - 1) @ plain.T)
    assert result.dtype == np.float32
    assert a.sum(axis=0).shape == (2,) and a.mean().item() == 2.5
    assert a.reshape(4)[3].item() == 4.0


test_checkpoint_tensor()


# %% [markdown]
# ## Check your work
#
# Save the notebook (Ctrl+S), then run the cell below. It runs the same check as
# `tito check 01_tensor` in a terminal: your saved notebook, top to bottom in a fresh kernel that
# sees only the earlier modules (as grading does), then the module's checkpoint on the code of
# your export cells. It lists which visible tests pass, the first failure of the others and what
# to try next. At grading, each test cell's points also need the grader's own cases for it (some
# of them hidden) to agree with the reference. When tito or nbgrader runs this notebook, the
# cell only says it was skipped.

# %%
from tito.student import check_module

check_module("01_tensor")
