# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 03: Layers - from single operations to networks
#
# Modules 01 and 02 gave you tensors that compute and activations that bend. A neural network is
# more than a pile of operations, though: it is a set of *parameters* (the numbers training will
# change) arranged in *layers* (functions that use them), stacked one after another. This module
# builds exactly that structure.
#
# ## Learning goals
# - Write a `Module` base class that finds every trainable tensor of a model on its own, however
#   deeply it is nested, and lists each one exactly once.
# - Build the fully connected layer `Dense` (alias `Linear`): `y = x W + b`, with weights stored as
#   `(input_size, output_size)` and a bias that broadcasts over the batch.
# - Understand why the *scale* of the initial weights decides whether a deep network can learn at
#   all, and implement Glorot-uniform initialisation with reproducible seeding.
# - Chain layers with `Sequential` into a multi-layer perceptron.
#
# ## Build -> Use -> Analyse
# 1. **Build**: `Module.parameters`, `Dense`, `Sequential`.
# 2. **Use**: stack them into a small network with the activations of module 02 and count its
#    parameters.
# 3. **Analyse**: push a batch through a 20-layer stack and measure how the variance of the
#    activations behaves with too-small, Glorot and too-large initial weights.
#
# Everything here is the *forward* pass. The parameters you create require gradients, and every
# computation goes through `Tensor` operations, so the graph is recorded; module 05 (autograd)
# will walk it backwards. No test in this module calls `backward()`.

# %% nbgrader={"grade": false, "grade_id": "layers-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.layers
#| export
import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor
from tinytorch.core.activations import ReLU, Sigmoid

# %% [markdown]
# ## Where this code lives
#
# You work in this notebook; the `#| export` cells become `tinytorch/core/layers.py`, so later
# modules (and you) can write `from tinytorch.core.layers import Dense, Sequential`. Your code
# uses only `tinytorch.core.tensor` (module 01); the given `MLP` takes its default activations
# `ReLU` and `Sigmoid` from module 02, and the demos also borrow `tanh` from there.

# %% [markdown]
# ## Step 1: `Module`, the container that knows its parameters
#
# ### The idea
# Training updates a model's parameters: `p <- p - lr * dL/dp` for every trainable tensor `p`.
# The optimizer therefore needs the complete list of them. Writing that list by hand for each model
# is tedious and easy to get wrong, so models *discover* their parameters from their own attributes.
# PyTorch's `nn.Module.parameters()` does the same through attribute registration; we use a simpler
# rule that needs no registration at all:
#
# | attribute value | parameters it contributes |
# |---|---|
# | a `Tensor` with `requires_grad=True` | itself |
# | a `Tensor` without it | none: it is a constant (a fixed mask, a scale) |
# | anything with a `parameters()` method (a sub-module, an activation) | whatever that method returns |
# | a list or tuple | the parameters of each item, in order (lists may nest) |
# | anything else (numbers, strings, `None`, numpy arrays) | none |
#
# ### Each parameter exactly once
# The same tensor can be reachable twice: a layer used at two places in a model, or *weight
# tying* (a language model that reuses its embedding matrix as its output layer). If `parameters()`
# listed such a tensor twice, an optimizer would update it twice per step (and Adam would keep two
# sets of moments for it). So the walk keeps the first occurrence only.
#
# Identity, not equality, is what counts here: two different tensors may hold equal numbers and
# are still two parameters. Python's `in` on a list compares with `==`, which for tensors is
# element-wise and returns a tensor, not a bool; track what you have seen by `id(...)` instead.
#
# ### Worked example
# A module with attributes `w` (requires grad), `c` (a constant tensor), `blocks = [child_a, child_b]`
# and `tied = w` has the parameters `[w] + child_a.parameters() + child_b.parameters()`: `c` is not
# trainable, and `tied` is `w` again.
#
# `Module` also gives every model two conveniences: calling it runs `forward` (so `layer(x)` works
# like a function), and `zero_grad()` clears the gradients of all its parameters at once (used
# before each backward pass from module 05 on).

# %% nbgrader={"grade": false, "grade_id": "layers-module", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Module:
    """Base class of everything with parameters: finds them, zeroes them, calls `forward`.

    Parameters are discovered from the attributes: any Tensor that requires a gradient, any
    sub-Module, and lists or tuples of those. Subclasses only write `__init__` and `forward`;
    calling a module calls its `forward` with the same arguments, keywords included
    (`block(x, mask=causal)`), as in PyTorch.
    """

    def __call__(self, *inputs, **options) -> Tensor:
        return self.forward(*inputs, **options)

    def forward(self, *inputs, **options) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def parameters(self) -> list:
        """Every trainable tensor in this module and its children, each exactly once.

        Steps: visit this module's attributes in the order they were assigned (`vars(self)` is
        a dict of them); ask `_parameters_in` which parameters each value holds; append each one
        to the result unless the very same tensor object is already in it.

        Hint: remember the tensors you have seen by `id`, in a set. Do not test `p in found`:
        `in` compares with `==`, which is element-wise for tensors.

        Example: attributes w (requires grad), c (constant), kids = [a, b], tied = w
        -> [w, *a.parameters(), *b.parameters()].
        """
        ### BEGIN SOLUTION
        found, seen = [], set()
        for value in vars(self).values():
            for parameter in _parameters_in(value):
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    found.append(parameter)
        return found
        ### END SOLUTION

    def zero_grad(self) -> None:
        """Forget the gradient of every parameter (each Tensor has its own `zero_grad()`)."""
        ### BEGIN SOLUTION
        for parameter in self.parameters():
            parameter.zero_grad()
        ### END SOLUTION


Layer = Module  # the base class's name in the original TinyTorch course


# %% nbgrader={"grade": false, "grade_id": "layers-parameters-in", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def _parameters_in(value) -> list:
    """The parameters held by one attribute value (a tensor, a module, or a list of them).

    Check the cases in this order and return a list:
    1. a Tensor: [value] if it requires a gradient, else [] (it is a constant);
    2. anything with a callable `parameters` attribute (a Module, an activation): that list;
    3. a list or tuple: the parameters of every item, in order (call yourself on each item,
       since items may be lists again);
    4. anything else: [].

    Example: [Tensor(1.0, requires_grad=True), Tensor(2.0), "relu"] -> [the first tensor].
    """
    ### BEGIN SOLUTION
    if isinstance(value, Tensor):
        return [value] if value.requires_grad else []
    if hasattr(value, "parameters") and callable(value.parameters):
        return list(value.parameters())
    if isinstance(value, (list, tuple)):
        return [p for item in value for p in _parameters_in(item)]
    return []
    ### END SOLUTION


# %% [markdown]
# Let us try the discovery on a hand-made module: a constant tensor, a list of children, and a
# tied weight.

# %%
class Scale(Module):
    """y = x * s with one trainable scalar s (a toy layer for this demo)."""

    def __init__(self, s):
        self.s = Tensor(s, requires_grad=True)
        self.note = "demo"                  # not a tensor: ignored

    def forward(self, x):
        return as_tensor(x) * self.s


class Toy(Module):
    def __init__(self):
        self.first = Scale(2.0)
        self.mask = Tensor([1.0, 0.0, 1.0])  # a constant: no gradient wanted
        self.blocks = [Scale(3.0), (Scale(4.0),)]
        self.tied = self.first.s             # the same tensor again

    def forward(self, x):
        x = self.first(x) * self.mask
        for block in (self.blocks[0], self.blocks[1][0]):
            x = block(x)
        return x


toy = Toy()
print("parameters:", [p.item() for p in toy.parameters()])   # 2, 3, 4: the tied one appears once
print("output    :", toy([1.0, 1.0, 1.0]))

# %% [markdown]
# ### Test: parameter discovery
# Constants, numbers and strings are skipped; sub-modules, lists and tuples are searched; a tensor
# reachable twice is listed once.

# %% nbgrader={"grade": true, "grade_id": "layers-module-parameters", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_module_parameters():
    class Affine(Module):
        def __init__(self):
            self.w = Tensor([[1.0, 2.0]], requires_grad=True)
            self.b = Tensor([0.5], requires_grad=True)
            self.scale = Tensor([3.0])
            self.name = "affine"
            self.size = 2

    layer = Affine()
    params = layer.parameters()
    assert isinstance(params, list), f"parameters() must return a list, got {type(params)}"
    assert len(params) == 2, f"expected w and b, got {len(params)} tensors"
    assert params[0] is layer.w and params[1] is layer.b, "parameters in attribute order, the tensors themselves"

    class Net(Module):
        def __init__(self):
            self.first = Affine()
            self.blocks = [Affine(), (Affine(),)]
            self.tied = self.first.w
            self.extra = Tensor([1.0], requires_grad=True)

    net = Net()
    params = net.parameters()
    expected = [net.first.w, net.first.b, net.blocks[0].w, net.blocks[0].b,
                net.blocks[1][0].w, net.blocks[1][0].b, net.extra]
    assert len(params) == len(expected), f"expected {len(expected)} parameters, got {len(params)}"
    assert all(p is e for p, e in zip(params, expected)), "wrong tensors or wrong order"
    assert Module().parameters() == []


test_module_parameters()

# %% [markdown]
# ### Test: `zero_grad`
# Gradients are assigned by hand here (autograd comes in module 05).

# %% nbgrader={"grade": true, "grade_id": "layers-module-zero-grad", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
def test_module_zero_grad():
    class Pair(Module):
        def __init__(self):
            self.a = Tensor([1.0, 2.0], requires_grad=True)
            self.b = Tensor([3.0], requires_grad=True)

    pair = Pair()
    pair.a.grad = Tensor([0.1, 0.2])
    pair.b.grad = Tensor([5.0])
    result = pair.zero_grad()
    assert result is None
    assert pair.a.grad is None and pair.b.grad is None
    np.testing.assert_array_equal(pair.a.data, [1.0, 2.0])
    np.testing.assert_array_equal(pair.b.data, [3.0])


test_module_zero_grad()

# %% [markdown]
# ## Step 2: `Dense`, the fully connected layer
#
# ### The math
# A dense layer connects every input feature to every output feature:
#
# $$y = x\,W + b, \qquad x \in \mathbb{R}^{N \times n_{in}},\; W \in \mathbb{R}^{n_{in} \times n_{out}},\; b \in \mathbb{R}^{n_{out}},\; y \in \mathbb{R}^{N \times n_{out}}$$
#
# Each row of `x` is one example of the batch. We store `W` as `(input_size, output_size)` so the
# batch multiplies from the left with no transpose. PyTorch's `nn.Linear` stores the transpose,
# `(out_features, in_features)`, and computes `x @ W.T + b`; the numbers are the same, only the layout
# differs. The bias has shape `(output_size,)` and broadcasting adds it to every row: the same
# offset for every example of the batch.
#
# **Worked example.** With `x = [[1, 2]]`, `W = [[1, 0, 1], [0, 1, 1]]`, `b = [0, 0, 10]`:
# `x W = [[1, 2, 3]]`, and adding `b` gives `[[1, 2, 13]]`. A batch of five such rows would get the
# same `b` added to each.
#
# **Parameter count.** `n_in * n_out` weights plus `n_out` biases: `Dense(784, 128)` holds
# 100,352 + 128 = 100,480 numbers. Computing it costs about `2 * N * n_in * n_out` floating-point
# operations, which is why matrix multiplication dominates the run time of an MLP.
#
# ### Why the initial scale matters
# Take one output `y_j = sum_i x_i W_ij` with independent, zero-mean inputs and weights. Its variance is
#
# $$\mathrm{Var}(y_j) = n_{in}\,\mathrm{Var}(W)\,\mathrm{Var}(x).$$
#
# Every layer multiplies the variance of the signal by `n_in * Var(W)`. Through `L` layers that
# factor is raised to the power `L`: slightly below 1 and the signal fades to nothing (every
# input produces the same, zero output); slightly above 1 and it explodes (and in float32 overflows to
# `inf`). The gradients flowing backwards obey the same rule with `n_out` in place of `n_in`.
# Glorot and Bengio (2010) compromise between the two directions with
# `Var(W) = 2 / (n_in + n_out)`. A uniform distribution on `[-a, a]` has variance `a^2 / 3`, hence
#
# $$W \sim \mathcal{U}\!\left[-\sqrt{\tfrac{6}{n_{in} + n_{out}}},\; +\sqrt{\tfrac{6}{n_{in} + n_{out}}}\right].$$
#
# For `Dense(784, 128)` the bound is `sqrt(6 / 912) = 0.0811`. The biases start at zero: they do not
# multiply anything, so they cannot blow up the signal. (PyTorch's `nn.Linear` default is a Kaiming
# uniform variant with bound `1/sqrt(n_in)`; the reasoning is the same.) Section "Analyse" below
# measures what happens when this scale is wrong.
#
# ### Reproducible initialisation
# Experiments must be repeatable. `Dense` accepts `rng`, a numpy `Generator`
# (`np.random.default_rng(0)`): the weights come from that generator and the global random state is
# left alone. Without `rng` it draws from numpy's global generator, so `np.random.seed(0)` before
# building a model also makes it reproducible. Draw the whole matrix in one call of the
# generator's `uniform(low, high, size)`, so that the same seed gives the same weights as anyone
# else's implementation.
#
# The weights are stored as float32, the dtype networks train in (module 01's dtype policy).

# %% nbgrader={"grade": false, "grade_id": "layers-dense", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Dense(Module):
    """A fully connected layer: y = x @ W + b.

    `weights` has shape (input_size, output_size), so a batch of rows multiplies from the left
    with no transpose. The initial weights are drawn uniformly from +-sqrt(6 / (in + out))
    (Glorot): large enough that signals do not vanish, small enough that they do not explode.
    """

    def __init__(self, input_size: int, output_size: int, bias: bool = True, rng=None, *, use_bias=None):
        """Create the weights W (input_size, output_size) and the bias b (output_size,).

        Steps:
        1. Store `input_size` and `output_size` as attributes (`__repr__` uses them).
        2. The Glorot bound: limit = square root of 6 / (input_size + output_size).
        3. Draw W in ONE call of `uniform(-limit, limit, (input_size, output_size))`, from `rng`
           when one is given (a numpy Generator), else from `np.random` (the global generator).
        4. `self.weights`: W as float32, in a Tensor with requires_grad=True.
        5. `self.bias`: float32 zeros of shape (output_size,) in a Tensor with requires_grad=True,
           or None when `bias` is False.

        Example: Dense(784, 128, rng=np.random.default_rng(0)) has weights of shape (784, 128),
        all within +-0.0811, and 128 zero biases.
        """
        if use_bias is not None:  # TinyTorch's name for `bias`: either keyword can turn it off
            bias = bias and use_bias
        ### BEGIN SOLUTION
        limit = np.sqrt(6.0 / (input_size + output_size))
        uniform = np.random.uniform if rng is None else rng.uniform
        self.input_size = input_size
        self.output_size = output_size
        self.weights = Tensor(uniform(-limit, limit, (input_size, output_size)).astype(np.float32),
                              requires_grad=True)
        self.bias = Tensor(np.zeros(output_size, dtype=np.float32), requires_grad=True) if bias else None
        ### END SOLUTION

    def forward(self, x) -> Tensor:
        """x @ W + b for a batch x of shape (N, input_size); the result has shape (N, output_size).

        Accept anything tensor-like for x (turn it into a Tensor with `as_tensor`). Use Tensor
        operations, not numpy on `.data`, so that the graph is recorded for module 05. The bias
        (shape (output_size,)) broadcasts over the rows; leave it out when it is None.

        Example: x = [[1, 2]], W = [[1, 0, 1], [0, 1, 1]], b = [0, 0, 10] -> [[1, 2, 13]].
        """
        ### BEGIN SOLUTION
        out = as_tensor(x) @ self.weights
        return out + self.bias if self.bias is not None else out
        ### END SOLUTION

    @property
    def weight(self) -> Tensor:
        """PyTorch's name for `weights` (same tensor; note our layout is (in, out))."""
        return self.weights

    @weight.setter
    def weight(self, value: Tensor) -> None:
        self.weights = value

    def __repr__(self) -> str:
        return f"Dense(input_size={self.input_size}, output_size={self.output_size})"


Linear = Dense

# %% [markdown]
# A layer from a seeded generator, its parameters, and one forward pass over a batch of two:

# %%
layer = Dense(3, 2, rng=np.random.default_rng(0))
print(layer, "with", sum(p.size for p in layer.parameters()), "parameters")
print("weights:", layer.weights)
print("bias   :", layer.bias)
batch = Tensor([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
print("output :", layer(batch))
print("Glorot bound for (3, 2):", np.sqrt(6.0 / 5), " largest |w|:", np.abs(layer.weights.data).max())

# %% [markdown]
# ### Test: initialisation
# Shapes, dtypes, `requires_grad`, zero bias, the Glorot draw from the given generator, and the
# parameters a layer reports (with and without bias).

# %% nbgrader={"grade": true, "grade_id": "layers-dense-init", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_dense_init():
    layer = Dense(4, 3, rng=np.random.default_rng(0))
    assert isinstance(layer, Module)
    assert layer.input_size == 4 and layer.output_size == 3
    W, b = layer.weights, layer.bias
    assert isinstance(W, Tensor) and isinstance(b, Tensor)
    assert W.shape == (4, 3), f"weights must be (input_size, output_size), got {W.shape}"
    assert b.shape == (3,), f"bias must be (output_size,), got {b.shape}"
    assert W.dtype == np.float32 and b.dtype == np.float32
    assert W.requires_grad and b.requires_grad
    np.testing.assert_array_equal(b.data, np.zeros(3, dtype=np.float32))
    limit = np.sqrt(6.0 / (4 + 3))
    expected = np.random.default_rng(0).uniform(-limit, limit, (4, 3)).astype(np.float32)
    np.testing.assert_allclose(W.data, expected, rtol=1e-6, atol=0)

    params = layer.parameters()
    assert len(params) == 2 and {id(p) for p in params} == {id(W), id(b)}
    assert sum(p.size for p in params) == 4 * 3 + 3

    no_bias = Dense(4, 3, bias=False, rng=np.random.default_rng(0))
    assert no_bias.bias is None
    assert len(no_bias.parameters()) == 1 and no_bias.parameters()[0] is no_bias.weights


test_dense_init()

# %% [markdown]
# ### Test: seeding and the Glorot bound
# The same generator seed gives the same layer; so does the same global seed (the test restores
# numpy's global random state afterwards). A large layer fills the interval `[-limit, limit]` with
# the standard deviation of a uniform distribution, `limit / sqrt(3)`.

# %% nbgrader={"grade": true, "grade_id": "layers-dense-seed", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_dense_seeding():
    a = Dense(6, 5, rng=np.random.default_rng(0))
    b = Dense(6, 5, rng=np.random.default_rng(0))
    c = Dense(6, 5, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.weights.data, b.weights.data)
    assert not np.array_equal(a.weights.data, c.weights.data)

    state = np.random.get_state()
    try:
        np.random.seed(7)
        d = Dense(6, 5)
        np.random.seed(7)
        e = Dense(6, 5)
        np.random.seed(7)
        limit = np.sqrt(6.0 / 11)
        expected = np.random.uniform(-limit, limit, (6, 5)).astype(np.float32)
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(d.weights.data, e.weights.data)
    np.testing.assert_allclose(d.weights.data, expected, rtol=1e-6, atol=0)

    big = Dense(300, 100, rng=np.random.default_rng(0))
    limit = np.sqrt(6.0 / 400)
    w = big.weights.data
    assert np.abs(w).max() <= np.float32(limit), "a weight lies outside the Glorot bound"
    assert np.abs(w).max() > 0.99 * limit, "the weights should fill the whole interval"
    np.testing.assert_allclose(w.mean(), 0.0, atol=0.01 * limit)
    np.testing.assert_allclose(w.std(), limit / np.sqrt(3), rtol=0.02)


test_dense_seeding()

# %% [markdown]
# ### Test: the forward pass
# Hand-set weights make the outputs exact. The bias is added to every row of the batch, plain lists
# and arrays are accepted, and the output is a recorded Tensor (it requires a gradient because the
# weights do).

# %% nbgrader={"grade": true, "grade_id": "layers-dense-forward", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_dense_forward():
    layer = Dense(3, 2, rng=np.random.default_rng(0))
    layer.weights = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    layer.bias = Tensor([0.5, -1.0], requires_grad=True)
    x = Tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    y = layer(x)
    assert isinstance(y, Tensor), f"forward must return a Tensor, got {type(y)}"
    assert y.shape == (2, 2) and y.dtype == np.float32
    np.testing.assert_array_equal(y.data, np.array([[-3.5, -5.0], [5.5, 7.0]], dtype=np.float32))
    assert y.requires_grad, "use Tensor operations so the graph is recorded"

    zeros = layer(np.zeros((4, 3), dtype=np.float32))
    assert zeros.shape == (4, 2)
    np.testing.assert_array_equal(zeros.data, np.tile(np.float32([0.5, -1.0]), (4, 1)))
    np.testing.assert_array_equal(layer.forward([[1.0, 0.0, -1.0]]).data, [[-3.5, -5.0]])

    plain = Dense(3, 2, bias=False, rng=np.random.default_rng(0))
    plain.weights = Tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    np.testing.assert_array_equal(plain(x).data, [[-4.0, -4.0], [5.0, 8.0]])


test_dense_forward()

# %% [markdown]
# ### Test: the PyTorch names
# `Linear` is the same class as `Dense`, and `.weight` is the same tensor as `.weights` (reading
# and assigning).

# %% nbgrader={"grade": true, "grade_id": "layers-linear-alias", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
def test_linear_alias():
    layer = Linear(2, 3, rng=np.random.default_rng(0))
    assert Linear is Dense
    assert isinstance(layer, Dense)
    assert layer.weight is layer.weights
    assert layer.weight.shape == (2, 3)
    new = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    layer.weight = new
    assert layer.weights is new
    np.testing.assert_array_equal(layer(Tensor([[1.0, 2.0]])).data, [[3.0, 3.0, 3.0]])


test_linear_alias()

# %% [markdown]
# ## Step 3: `Sequential`, layers one after another
#
# An MLP is a composition: `f(x) = layer_3(relu(layer_1(x)))`. `Sequential` holds its layers in a
# list and applies them in order, so `Sequential(Dense(4, 8), ReLU(), Dense(8, 2))` maps a batch
# of shape `(N, 4)` to `(N, 8)`, keeps `(N, 8)` through the ReLU, and ends at `(N, 2)`. Anything
# callable fits in the list: layers, activations from module 02, even other `Sequential`s.
#
# It needs no parameter bookkeeping of its own: its layers live in a list attribute, and
# `Module.parameters()` already searches lists. PyTorch's `nn.Sequential` works the same way.
# An empty `Sequential` is the identity. The original TinyTorch course passed the layers as one
# list, `Sequential([Dense(4, 8), ReLU()])`; the given constructor accepts that form too.

# %% nbgrader={"grade": false, "grade_id": "layers-sequential", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Sequential(Module):
    """Layers applied one after another: Sequential(Dense(4, 8), ReLU(), Dense(8, 2))."""

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = layers[0]  # the original TinyTorch's form, Sequential([a, b])
        self.layers = list(layers)

    def forward(self, x) -> Tensor:
        """Feed x through every layer in order: each layer's output is the next layer's input.

        Example: for Sequential(a, b, c) the result is c(b(a(x))); with no layers, x itself.
        """
        ### BEGIN SOLUTION
        for layer in self.layers:
            x = layer(x)
        return x
        ### END SOLUTION

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"

# %% [markdown]
# The most common stack has a name: an MLP, `Dense` layers with an activation after each. `MLP`
# (also called `create_mlp`, its name in the original TinyTorch course) builds that `Sequential`
# from the layer sizes. It is given: it only composes what you wrote. As in that course, the
# output goes through a `Sigmoid` unless you pass `output_activation=None`, which is what a
# classifier trained with cross-entropy (module 04) wants: raw scores.

# %% nbgrader={"grade": false, "grade_id": "layers-mlp-builder", "locked": true, "schema_version": 3, "solution": false, "task": false}
#| export
class MLP(Sequential):
    """Dense layers with `activation` between them: MLP(3, [4, 2], 1) is
    Dense(3, 4), ReLU, Dense(4, 2), ReLU, Dense(2, 1), Sigmoid.

    `activation` and `output_activation` are classes (one fresh instance per use); `rng` is
    handed to every `Dense`, in order, so one seeded generator makes the whole network repeatable.
    """

    def __init__(self, input_size: int, hidden_sizes, output_size: int, activation=ReLU,
                 output_activation=Sigmoid, rng=None):
        sizes = [input_size, *hidden_sizes, output_size]
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [Dense(n_in, n_out, rng=rng), activation()]
        layers.pop()  # the last Dense is followed by the output activation instead
        if output_activation is not None:
            layers.append(output_activation())
        super().__init__(*layers)


create_mlp = MLP


# %% [markdown]
# ## Use: a small multi-layer perceptron
# Four inputs, a hidden layer of eight ReLU units, two outputs. Its parameters are found through
# the list of layers; the ReLU contributes none.

# %%
from tinytorch.core.activations import ReLU

mlp = Sequential(Dense(4, 8, rng=np.random.default_rng(0)), ReLU(), Dense(8, 2, rng=np.random.default_rng(1)))
print(mlp)
print("parameter shapes:", [p.shape for p in mlp.parameters()])
print("parameter count :", sum(p.size for p in mlp.parameters()), "= 4*8 + 8 + 8*2 + 2")
print("output          :", mlp(np.ones((3, 4), dtype=np.float32)))

# %% [markdown]
# ### Test: `Sequential`
# Order matters (`2x + 1` is not `2(x + 1)`), an empty `Sequential` is the identity, and the
# parameters of all layers are found, a shared layer's once.

# %% nbgrader={"grade": true, "grade_id": "layers-sequential-forward", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_sequential():
    class Times(Module):
        def __init__(self, factor):
            self.factor = factor

        def forward(self, x):
            return x * self.factor

    class AddOne(Module):
        def forward(self, x):
            return x + 1.0

    x = Tensor([[1.0, -2.0, 3.0]])
    np.testing.assert_array_equal(Sequential(Times(2.0), AddOne())(x).data, [[3.0, -3.0, 7.0]])
    np.testing.assert_array_equal(Sequential(AddOne(), Times(2.0))(x).data, [[4.0, -2.0, 8.0]])
    np.testing.assert_array_equal(Sequential()(x).data, x.data)

    d1 = Dense(3, 4, rng=np.random.default_rng(0))
    d2 = Dense(4, 2, rng=np.random.default_rng(1))
    net = Sequential(d1, Times(0.5), d2)
    assert len(net) == 3 and net[0] is d1 and net[2] is d2
    params = net.parameters()
    assert len(params) == 4
    assert {id(p) for p in params} == {id(d1.weights), id(d1.bias), id(d2.weights), id(d2.bias)}
    assert net(x).shape == (1, 2)
    assert len(Sequential(d1, d1).parameters()) == 2, "a layer used twice has its parameters listed once"


test_sequential()

# %% [markdown]
# ### Test: a network with known weights
# A 4-8-2 MLP has 58 parameters, all trainable; a 2-2-1 MLP with hand-set weights computes exact
# values (the third example has a negative pre-activation that the ReLU blocks).

# %% nbgrader={"grade": true, "grade_id": "layers-mlp", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_mlp():
    from tinytorch.core.activations import ReLU

    rng = np.random.default_rng(0)
    net = Sequential(Dense(4, 8, rng=rng), ReLU(), Dense(8, 2, rng=rng))
    params = net.parameters()
    assert len(params) == 4
    assert sum(p.size for p in params) == 58
    assert all(p.requires_grad for p in params)
    out = net(Tensor(np.ones((5, 4), dtype=np.float32)))
    assert out.shape == (5, 2) and out.dtype == np.float32

    net = Sequential(Dense(2, 2, rng=rng), ReLU(), Dense(2, 1, rng=rng))
    net[0].weights = Tensor([[1.0, -1.0], [2.0, 1.0]], requires_grad=True)
    net[0].bias = Tensor([0.0, 1.0], requires_grad=True)
    net[2].weights = Tensor([[3.0], [-2.0]], requires_grad=True)
    net[2].bias = Tensor([0.5], requires_grad=True)
    y = net(Tensor([[1.0, 1.0], [-1.0, 0.5], [-2.0, 0.0]]))
    assert y.shape == (3, 1)
    np.testing.assert_array_equal(y.data, np.array([[7.5], [-4.5], [-5.5]], dtype=np.float32))
    assert any(p is net[0].weights for p in net.parameters()), "parameters are found afresh on each call"


test_mlp()

# %% [markdown]
# ## Analyse: how the initial scale decides what a deep network sees
#
# The variance argument of Step 2 predicts that each layer multiplies the variance of the signal by
# `n_in * Var(W)`. Glorot makes that factor 1 for a square layer. Halve the bound and the factor
# becomes 1/4; double it and it becomes 4. After 20 layers that is `4^-20 = 9e-13` or
# `4^20 = 1.1e12`. Let us measure it: a batch of 512 standard-normal inputs through 20 `Dense(256, 256)`
# layers, first purely linear (to see the multiplication cleanly), then with `tanh` after each layer.

# %%
from tinytorch.core.activations import tanh


def activation_variances(factor, depth=20, width=256, activation=None, seed=0):
    """Variance of the activations after each layer when every Glorot weight is multiplied by `factor`."""
    rng = np.random.default_rng(seed)
    h = Tensor(np.random.default_rng(seed + 1).standard_normal((512, width)).astype(np.float32))
    variances = []
    for _ in range(depth):
        layer = Dense(width, width, rng=rng)
        layer.weights = Tensor(layer.weights.data * np.float32(factor), requires_grad=True)
        h = layer(h)
        if activation is not None:
            h = activation(h)
        variances.append(float(h.data.var()))
    return variances, h.data


inits = [("too small (bound x 0.5)", 0.5), ("Glorot", 1.0), ("too large (bound x 2)", 2.0)]
header = "  ".join(f"{'layer ' + str(i):>8s}" for i in (1, 5, 10, 20))
print(f"linear stack, variance of h   {header}   predicted at 20")
for name, factor in inits:
    v, _ = activation_variances(factor)
    print(f"  {name:26s}  " + "  ".join(f"{v[i]:8.2e}" for i in (0, 4, 9, 19)) + f"   {factor ** 40:8.2e}")

print(f"\ntanh stack, variance of h     {header}   share |h| > 0.95")
for name, factor in inits:
    v, h = activation_variances(factor, activation=tanh)
    print(f"  {name:26s}  " + "  ".join(f"{v[i]:8.2e}" for i in (0, 4, 9, 19))
          + f"   {np.mean(np.abs(h) > 0.95):8.1%}")

# %% [markdown]
# **What the numbers say.**
#
# - *Linear stack.* The measured variances follow the prediction `factor^(2L)` almost exactly: with
#   Glorot the signal keeps its size through all 20 layers; with half the bound it shrinks by a
#   factor of 4 per layer, to about `1e-12`; with twice the bound it grows by 4 per layer, to about
#   `1e12`. A few more layers, or a wider network with a careless init such as `uniform(-1, 1)`
#   (factor `256/3` per layer!), and float32 overflows to `inf`.
# - *Tanh stack.* Too small: the signal dies just as before; every example reaches the output as
#   (nearly) the same zero vector, so the network cannot tell its inputs apart. Glorot: the variance
#   decays only slowly (tanh shrinks values a bit at each layer). Too large: the variance cannot
#   explode because tanh caps it, but a sizeable share of units sits in the flat tails of tanh, where the derivative `1 - tanh^2` is close to
#   0. In module 05 you will see what that means: gradients passing through saturated units vanish,
#   and the early layers stop learning.
#
# The same multiplication by `n * Var(W)` per layer governs the gradients on the way back, which is
# why a good initial scale is not a detail but a precondition for training deep networks.
# (For ReLU networks, which zero half of their inputs, He/Kaiming initialisation doubles the variance
# to `2 / n_in` to compensate.)

# %% [markdown]
# ## Summary
#
# - `Module.parameters()` finds every trainable tensor by walking attributes, sub-modules and lists,
#   and lists each tensor once, by identity. `zero_grad()` clears all their gradients.
# - `Dense` (alias `Linear`, with `.weight` for `.weights`) computes `x W + b` with `W` stored as
#   `(input_size, output_size)` and the bias broadcast over the batch.
# - Glorot-uniform initialisation, bound `sqrt(6 / (n_in + n_out))`, keeps the variance of signals
#   stable through depth; you measured vanishing and exploding activations when the scale is off.
#   Seeding with `rng=np.random.default_rng(seed)` or `np.random.seed` makes models reproducible.
# - `Sequential` composes layers and activations into a network.
#
# ## Checkpoint unlocked
#
# **`checkpoints/checkpoint_03_layers.py`: "Can I stack layers into a network?"**
#
# Run it from the course root with `make checkpoints`, or on its own with
# `.venv/bin/python -m pytest checkpoints/checkpoint_03_layers.py`.
#
# Next, module 04 (losses) turns the outputs of such a network into a single number that says how
# wrong it is.


# %% [markdown]
# ## Checkpoint cell (20 points)
#
# This last graded cell asks the checkpoint's question of your own code, in a few lines. When your
# notebook is graded, its 20 points are decided differently: the autograder exports your module,
# runs the checkpoint's cases on it in a sandbox (with the published reference standing in for
# the earlier modules), on inputs drawn for your submission, and compares the values with the
# reference's outside your notebook. Passing here is a good sign; the comparison is what counts.

# %% nbgrader={"grade": true, "grade_id": "layers-checkpoint", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_checkpoint_layers():
    """Can I stack layers into a network?"""
    from tinytorch.core.activations import ReLU as CheckpointReLU

    rng = np.random.default_rng(3)
    network = Sequential(Dense(3, 4, rng=rng), CheckpointReLU(), Dense(4, 2, rng=rng))
    assert len(network.parameters()) == 4
    assert sum(p.size for p in network.parameters()) == 3 * 4 + 4 + 4 * 2 + 2
    first, last = network[0], network[2]
    first.weights.data[...] = 0.5
    last.weights.data[...] = 1.0
    out = network(Tensor(np.array([[1.0, 2.0, 3.0]], dtype=np.float32)))
    assert out.shape == (1, 2)
    np.testing.assert_allclose(out.data, [[12.0, 12.0]])


test_checkpoint_layers()


# %% [markdown]
# ## Check your work
#
# Save the notebook (Ctrl+S), then run the cell below. It runs the same check as
# `tito check 03_layers` in a terminal: your saved notebook, top to bottom in a fresh kernel that
# sees only the earlier modules (as grading does), then the module's checkpoint on the code of
# your export cells. It lists which visible tests pass, the first failure of the others and what
# to try next. At grading, each test cell's points also need the grader's own cases for it (some
# of them hidden) to agree with the reference. When tito or nbgrader runs this notebook, the
# cell only says it was skipped.

# %%
from tito.student import check_module

check_module("03_layers")
