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
# Module 02: Activations, nonlinearity that stays finite

A layer of a neural network multiplies by a matrix and adds a bias. Stack two such layers and you
get `W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)`: one matrix and one bias again. However many
linear layers you stack, the network can only draw straight lines. An **activation function**,
applied element-wise between the layers, breaks that: with a nonlinearity in between, a network
with enough hidden units can approximate any continuous function.

In this module you write the activations every framework has, and GELU, the one of
transformers, as functions on the `Tensor` of module 01 and as small layer-like classes.

## Learning goals

- Implement ReLU, sigmoid, tanh, GELU, softmax and log-softmax, and know where each is used.
- See why the textbook formulas of sigmoid and softmax overflow, and rewrite them so that they
  stay exact for inputs like -1000 and 1000, with no overflow warning.
- Record each activation in the graph, so that module 05 can differentiate it: ReLU, sigmoid,
  tanh and GELU get their own gradient rule; softmax is built from tensor operations that already
  have one.

## Build, Use, Analyse

- **Build**: `relu`, `sigmoid`, `tanh`, `gelu`, `softmax`, `log_softmax`, then the classes `ReLU`,
  `Sigmoid`, `Tanh`, `GELU`, `Softmax`.
- **Use**: a demo and a graded test after each one.
- **Analyse**: measure where and why the naive sigmoid overflows, what it does to gradients, and
  what the stable version costs.

Fill in each function where it says `raise NotImplementedError()`, run its cell, then run the demo
and the test below it. The tests are locked and worth points; at grading, each test's
points also need the grader's own cases for it (some hidden) to agree with the reference.
"""

# %% nbgrader={"grade": false, "grade_id": "activations-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.activations
#| export
import math

import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor

# %% [markdown]
"""
First, the claim of the introduction, checked with module 01's `Tensor`: two linear layers with
nothing in between are exactly one linear layer.
"""

# %%
demo_rng = np.random.default_rng(0)
W1, W2 = Tensor(demo_rng.standard_normal((3, 4))), Tensor(demo_rng.standard_normal((4, 2)))
inputs = Tensor(demo_rng.standard_normal((5, 3)))
two_layers = (inputs @ W1) @ W2
one_layer = inputs @ (W1 @ W2)
print("two linear layers == one linear layer:", np.allclose(two_layers.data, one_layer.data))

# %% [markdown]
"""
## 1. ReLU: the default choice for hidden layers

```
relu(x) = max(0, x)
```

Positive values pass unchanged, negative values become 0. Its derivative is 1 for positive inputs
and 0 for negative ones, which is why it trains well: for every unit that is "on", the gradient
passes through undamped, however deep the network. It is also the cheapest activation there is:
one comparison per element. (Its weakness: a unit whose input is negative for every example gets
no gradient at all and stays "dead".)

Worked example: `relu([-2, -0.5, 0, 1.5])` is `[0, 0, 0, 1.5]`.

Every activation in this module follows the same three steps:

1. accept anything array-like: `as_tensor(x)` turns a list or number into a Tensor and returns a
   Tensor unchanged;
2. compute the result with numpy on the raw array (`x.data`), keeping `x`'s dtype;
3. wrap it with `Tensor.from_op(result, op_name, (x,))`: the input is the only parent, and no
   context is needed (the gradient rule of module 05 reads the input or the output itself).

PyTorch has the same pair as here: the function `torch.relu` and the layer `torch.nn.ReLU`.
"""

# %% nbgrader={"grade": false, "grade_id": "activations-relu", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def relu(x) -> Tensor:
    """max(0, x): passes positive values, blocks negative ones.

    Steps: make `x` a Tensor with `as_tensor`; take the element-wise maximum of its array and 0
    (`np.maximum`; a Python 0 keeps the array's dtype); record the result with `Tensor.from_op`
    under the op name "relu", with `(x,)` as the only parent and no ctx. Never modify `x` itself.
    Example: `relu(Tensor([-2.0, 0.0, 3.0]))` holds `[0., 0., 3.]` (float32).
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    return Tensor.from_op(np.maximum(x.data, 0), "relu", (x,))
    ### END SOLUTION

# %%
print(relu(Tensor([-2.0, -0.5, 0.0, 1.5])))
print(relu([[-1, 2], [3, -4]]))

# %% nbgrader={"grade": true, "grade_id": "activations-relu-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_relu():
    x = Tensor([[-2.0, -0.5, 0.0], [0.5, 2.0, 100.0]])
    y = relu(x)
    assert isinstance(y, Tensor), f"relu must return a Tensor, got {type(y)}"
    assert y.shape == (2, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y.data, [[0.0, 0.0, 0.0], [0.5, 2.0, 100.0]])
    np.testing.assert_array_equal(x.data, [[-2.0, -0.5, 0.0], [0.5, 2.0, 100.0]], err_msg="the input must not change")

    y64 = relu(Tensor(np.array([-1.0, 3.0])))
    assert y64.dtype == np.float64 and y64.data.tolist() == [0.0, 3.0]
    from_list = relu([-1, 2])
    assert isinstance(from_list, Tensor) and from_list.dtype == np.float32
    assert from_list.data.tolist() == [0.0, 2.0]

    w = Tensor([-1.0, 1.0], requires_grad=True)
    out = relu(w)
    assert out.requires_grad is True and out._op == "relu", f"expected op 'relu', got {out._op!r}"
    assert len(out._parents) == 1 and out._parents[0] is w, "the input is the only parent"
    assert out._ctx == {}
    plain = relu(Tensor([1.0]))
    assert plain.requires_grad is False and plain._op is None


test_relu()

# %% [markdown]
"""
## 2. Sigmoid, and why the textbook formula overflows

```
sigmoid(x) = 1 / (1 + e^(-x))
```

Sigmoid squashes any number into (0, 1), so it can be read as a probability: it is the output of
a binary classifier and the gate of an LSTM. Its derivative is `sigmoid(x) (1 - sigmoid(x))`, at most
0.25, which is why deep stacks of sigmoids train slowly (measured in the Analyse section).

**The problem.** For `x = -1000` the formula computes `e^1000`. The largest float64 is about
`e^709.78` (float32: `e^88.72`), so `np.exp` returns `inf` and writes
`RuntimeWarning: overflow encountered in exp`. Then `1 / (1 + inf)` is 0, which happens to be the
right answer, but:

- the warning goes to stderr, and nbgrader scores a graded cell that writes to stderr 0 points;
- with `np.errstate(over="raise")`, which careful code uses to catch bugs, it is an error;
- the other textbook form, `e^x / (1 + e^x)`, gives `inf / inf = nan` at `x = 1000`, and a NaN
  spreads to every weight it touches during training;
- in float32, the dtype we train in, it starts already at `x = -88.73`: a large pre-activation is
  enough.

**The fix.** Both forms are the same function; multiply the textbook one by `e^x / e^x` to get
the second. Each is safe on one side: for `x >= 0`, `1 / (1 + e^-x)` only exponentiates a number
`<= 0`; for `x < 0`, `e^x / (1 + e^x)` does. Both use the same quantity `e = e^(-|x|)`, which
always lies in (0, 1]:

```
                 1 / (1 + e)    where x >= 0
sigmoid(x)  =                                    with  e = e^(-|x|)
                 e / (1 + e)    where x <  0
```

Worked example: at `x = -1000`, `e = e^-1000` underflows quietly to 0 (underflow is harmless and
numpy does not warn about it), so `sigmoid = 0 / (1 + 0) = 0`, exactly. At `x = 1000`,
`sigmoid = 1 / (1 + 0) = 1`, exactly. `np.where(condition, a, b)` picks `a` where the condition
holds and `b` elsewhere; it evaluates both, which is fine because neither can overflow.

PyTorch's `torch.sigmoid` is stable in the same way. Module 05's rule computes the gradient from
the *output*, `s (1 - s)`, so it never exponentiates anything either.
"""

# %% nbgrader={"grade": false, "grade_id": "activations-sigmoid", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def sigmoid(x) -> Tensor:
    """1 / (1 + e^-x), computed without overflow for any x.

    The textbook formula overflows in e^-x for x << 0. The stable version only ever exponentiates
    -|x|, which is <= 0, so sigmoid(-1000) is exactly 0 and sigmoid(1000) exactly 1.

    Steps:
      1. Make `x` a Tensor with `as_tensor`.
      2. Compute `e`, the exponential of minus the absolute value of the array (`np.exp`, `np.abs`).
      3. Where the input is >= 0 the result is 1 / (1 + e); elsewhere it is e / (1 + e).
         `np.where` chooses element by element.
      4. Make sure the result has `x`'s dtype (`astype` with `copy=False` costs nothing when it
         already has), and record it with `Tensor.from_op` under the op name "sigmoid", with
         `(x,)` as the only parent and no ctx.
    Example: `sigmoid(Tensor([-1000.0, 0.0, 1000.0]))` holds `[0., 0.5, 1.]`, with no warning.
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    e = np.exp(-np.abs(x.data))
    out = np.where(x.data >= 0, 1 / (1 + e), e / (1 + e))
    return Tensor.from_op(out.astype(x.dtype, copy=False), "sigmoid", (x,))
    ### END SOLUTION

# %%
print(sigmoid(Tensor([-5.0, -1.0, 0.0, 1.0, 5.0])))
print("extremes:", sigmoid(Tensor([-1000.0, 1000.0])).data, "(no warning above)")

# %% nbgrader={"grade": true, "grade_id": "activations-sigmoid-test", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_sigmoid():
    import warnings

    v = np.array([-5.0, -1.0, 0.0, 1.0, 5.0])
    y = sigmoid(Tensor(v))
    assert isinstance(y, Tensor), f"sigmoid must return a Tensor, got {type(y)}"
    assert y.shape == (5,) and y.dtype == np.float64
    np.testing.assert_allclose(y.data, 1 / (1 + np.exp(-v)), rtol=1e-12)
    assert y.data[2] == 0.5
    np.testing.assert_allclose(sigmoid(Tensor(-v)).data, 1 - y.data, rtol=0, atol=1e-15)

    # extreme inputs: exact results and no overflow, in float64 and float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            extreme = sigmoid(Tensor(np.array([-1000.0, 1000.0])))
            extreme32 = sigmoid(Tensor([-1000.0, 1000.0]))
    assert extreme.data.tolist() == [0.0, 1.0], f"expected exactly [0, 1], got {extreme.data}"
    assert extreme32.dtype == np.float32 and extreme32.data.tolist() == [0.0, 1.0]

    y32 = sigmoid(Tensor([[-2.0, 0.0], [2.0, 4.0]]))
    assert y32.shape == (2, 2) and y32.dtype == np.float32, "float32 in, float32 out"
    np.testing.assert_allclose(y32.data, 1 / (1 + np.exp(-np.array([[-2.0, 0.0], [2.0, 4.0]]))), rtol=1e-6)

    w = Tensor([-1.0, 1.0], requires_grad=True)
    out = sigmoid(w)
    assert out.requires_grad is True and out._op == "sigmoid", f"expected op 'sigmoid', got {out._op!r}"
    assert len(out._parents) == 1 and out._parents[0] is w and out._ctx == {}
    assert sigmoid(Tensor([1.0]))._op is None


test_sigmoid()

# %% [markdown]
"""
## 3. Tanh: a zero-centred sigmoid

```
tanh(x) = (e^x - e^(-x)) / (e^x + e^(-x)) = 2 sigmoid(2x) - 1
```

Tanh squashes into (-1, 1). Because its outputs are centred on 0 (sigmoid's are all positive), the
next layer's inputs are balanced, which often makes training faster than with sigmoid; it is the
activation of classic recurrent networks. Its derivative is `1 - tanh(x)^2`, again computed from
the output.

Written as above, tanh would overflow exactly like sigmoid. But numpy's `np.tanh` is already
implemented stably (`np.tanh(1000.0)` is 1.0, with no warning), so here the only work is to use it
and record the operation as "tanh".
"""

# %% nbgrader={"grade": false, "grade_id": "activations-tanh", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def tanh(x) -> Tensor:
    """(e^x - e^-x) / (e^x + e^-x), squashing into (-1, 1); numpy's version is already stable.

    Steps: `as_tensor`, then `np.tanh` on the array, recorded with `Tensor.from_op` under the op
    name "tanh" with `(x,)` as the only parent and no ctx.
    Example: `tanh(Tensor([-1000.0, 0.0, 1000.0]))` holds `[-1., 0., 1.]`.
    """
    ### BEGIN SOLUTION
    x = as_tensor(x)
    return Tensor.from_op(np.tanh(x.data), "tanh", (x,))
    ### END SOLUTION

# %%
print(tanh(Tensor([-1000.0, -1.0, 0.0, 1.0, 1000.0])))
print("tanh(x) == 2 sigmoid(2x) - 1:", np.allclose(tanh(Tensor([0.3, -2.0])).data, (2 * sigmoid(Tensor([0.6, -4.0])) - 1).data))

# %% nbgrader={"grade": true, "grade_id": "activations-tanh-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_tanh():
    import warnings

    v = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    y = tanh(Tensor(v))
    assert isinstance(y, Tensor), f"tanh must return a Tensor, got {type(y)}"
    assert y.shape == (5,) and y.dtype == np.float64
    np.testing.assert_allclose(y.data, (np.exp(v) - np.exp(-v)) / (np.exp(v) + np.exp(-v)), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(tanh(Tensor(-v)).data, -y.data)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            extreme = tanh(Tensor([-1000.0, 1000.0]))
    assert extreme.dtype == np.float32 and extreme.data.tolist() == [-1.0, 1.0]

    w = Tensor([[0.5, -0.5]], requires_grad=True)
    out = tanh(w)
    assert out.requires_grad is True and out._op == "tanh", f"expected op 'tanh', got {out._op!r}"
    assert len(out._parents) == 1 and out._parents[0] is w and out._ctx == {}
    assert tanh(Tensor([1.0]))._op is None


test_tanh()

# %% [markdown]
"""
## 4. GELU: a smooth ReLU, the activation of transformers

ReLU switches a unit off abruptly at 0. GELU (Gaussian Error Linear Unit, Hendrycks and Gimpel,
2016) switches it off smoothly: it multiplies `x` by the probability that a standard normal
variable is smaller than `x`,

```
gelu(x) = x Phi(x),    Phi(x) = (1 + erf(x / sqrt(2))) / 2
```

where `Phi` is the normal distribution's cumulative distribution function and `erf` the error
function. For large positive `x`, `Phi(x)` is 1 and GELU is `x`, like ReLU; for large negative
`x`, `Phi(x)` is 0 and GELU is 0, like ReLU; in between it is a smooth curve with a small dip
below zero (its minimum is about -0.17, at `x` about -0.75). Being smooth, its slope changes
gradually instead of jumping from 0 to 1, and a unit with a slightly negative input still gets a
gradient. BERT, GPT-2 and most transformers since use it between their layers.

Worked example: `Phi(1) = 0.8413`, so `gelu(1) = 0.8413`; `Phi(-1) = 0.1587`, so
`gelu(-1) = -0.1587`; `gelu(0) = 0`.

**The tanh approximation.** The GELU paper also gave a formula built from `tanh`, for when speed
matters more than exactness (`erf` costs more to compute), within about 0.0005 of the exact one
for every `x`:

```
Phi(x) ~ (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2
```

GPT-2 was trained with it, so its weights expect it. PyTorch offers both:
`torch.nn.functional.gelu(x, approximate="none")` (the default, exact) and
`approximate="tanh"`; so does ours, under the same names.

**Finite for any input.** Neither form overflows: `erf` saturates at -1 and 1 without
computing anything large, numpy's `tanh` is stable (section 3), and at `x = +-1000` the cube is
only `1e9`, far below the largest float32. So `gelu(-1000)` is exactly 0 (well, `-0.`) and
`gelu(1000)` exactly 1000.

**numpy has no `erf`.** Python's standard library does (`math.erf`), one number at a time. The
given helper `erf` below applies it to every element of an array: exact, but one Python call per
element (section 9 measures what that costs, and why the tanh form is faster).

**The graph.** GELU gets its own node, "gelu", with `x` as its parent. Module 05's rule needs
the slope `Phi(x) + x Phi'(x)`, so the node also keeps, in its ctx, which form was computed
(`approximate`) and the values of `Phi(x)` (`cdf`), in `x`'s dtype.
"""

# %% nbgrader={"grade": false, "grade_id": "activations-gelu-helpers", "locked": true, "schema_version": 3, "solution": false, "task": false}
#| export
GELU_APPROXIMATIONS = ("none", "tanh")


def erf(values: np.ndarray) -> np.ndarray:
    """The error function of every element, in float64.

    numpy has no erf; the standard library's `math.erf` is exact but takes one number, so each
    element is one Python call (about 0.1 microseconds: slow for large arrays, fine here)."""
    return np.vectorize(math.erf, otypes=[np.float64])(values)


def _gelu_approximation(approximate: str) -> str:
    """`approximate` checked against PyTorch's two names, so a typo fails here, not silently."""
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return approximate

# %% nbgrader={"grade": false, "grade_id": "activations-gelu", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def gelu(x, approximate: str = "none") -> Tensor:
    """x Phi(x), with Phi the standard normal CDF: exact (erf) or PyTorch's tanh approximation.

    Steps:
      1. Make `x` a Tensor with `as_tensor`.
      2. Compute `cdf`, the values of Phi on the array: with approximate "none",
         (1 + erf(x / sqrt(2))) / 2 with the given `erf`; with "tanh",
         (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2 with `np.tanh`. Take the square roots
         with `math.sqrt` (a Python float keeps a float32 array float32; a numpy float64 would
         not), and give `cdf` `x`'s dtype (`astype` with `copy=False`).
      3. Record `x` times `cdf` with `Tensor.from_op` under the op name "gelu", with `(x,)` as the
         only parent and two ctx entries, `approximate=approximate` and `cdf=cdf`: module 05's
         rule reads both.
    Never modify `x` itself.
    Example: `gelu(Tensor(np.array([-1.0, 0.0, 1.0])))` holds about `[-0.1587, 0., 0.8413]`;
    with `approximate="tanh"`, about `[-0.1588, 0., 0.8412]`.
    """
    approximate = _gelu_approximation(approximate)
    ### BEGIN SOLUTION
    x = as_tensor(x)
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (x.data + 0.044715 * x.data ** 3)
        cdf = 0.5 * (1 + np.tanh(inner))
    else:
        cdf = 0.5 * (1 + erf(x.data / math.sqrt(2)))
    cdf = cdf.astype(x.dtype, copy=False)
    return Tensor.from_op(x.data * cdf, "gelu", (x,), approximate=approximate, cdf=cdf)
    ### END SOLUTION

# %%
points = Tensor(np.array([-3.0, -1.0, -0.75, 0.0, 1.0, 3.0]))
print("exact:", np.round(gelu(points).data, 4))
print("tanh: ", np.round(gelu(points, approximate="tanh").data, 4))
print("relu: ", relu(points).data)
print("extremes:", gelu(Tensor([-1000.0, 1000.0])).data, "(no warning above)")

# %% nbgrader={"grade": true, "grade_id": "activations-gelu-test", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_gelu():
    import warnings

    v = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])
    y = gelu(Tensor(v))
    assert isinstance(y, Tensor), f"gelu must return a Tensor, got {type(y)}"
    assert y.shape == (7,) and y.dtype == np.float64
    exact = np.array([0.5 * a * (1 + math.erf(a / math.sqrt(2))) for a in v])
    np.testing.assert_allclose(y.data, exact, rtol=1e-12, atol=1e-15, err_msg="the exact (erf) form")
    assert y.data[3] == 0.0
    approx = gelu(Tensor(v), approximate="tanh")
    tanh_form = 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v ** 3)))
    np.testing.assert_allclose(approx.data, tanh_form, rtol=1e-12, atol=1e-15, err_msg="the tanh form")
    assert np.max(np.abs(approx.data - y.data)) < 1e-3, "the two forms differ by less than 0.001"
    np.testing.assert_array_equal(v, [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])

    # extreme inputs: exact results and no overflow, in both forms and both dtypes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            for form in ("none", "tanh"):
                extreme = gelu(Tensor(np.array([-1000.0, 1000.0])), approximate=form)
                extreme32 = gelu(Tensor([-1000.0, 1000.0]), approximate=form)
                assert extreme.data.tolist() == [0.0, 1000.0], f"{form}: expected [0, 1000], got {extreme.data}"
                assert extreme32.dtype == np.float32 and extreme32.data.tolist() == [0.0, 1000.0]

    y32 = gelu(Tensor([[-1.0, 2.0]]))
    assert y32.shape == (1, 2) and y32.dtype == np.float32, "float32 in, float32 out"
    np.testing.assert_allclose(y32.data, [[-0.15865525, 1.9544997]], rtol=1e-6)
    assert gelu(Tensor([[-1.0, 2.0]]), approximate="tanh").dtype == np.float32
    assert gelu([0, 1]).dtype == np.float32

    w = Tensor([-1.0, 1.0], requires_grad=True)
    out = gelu(w, approximate="tanh")
    assert out.requires_grad is True and out._op == "gelu", f"expected op 'gelu', got {out._op!r}"
    assert len(out._parents) == 1 and out._parents[0] is w, "the input is the only parent"
    assert sorted(out._ctx) == ["approximate", "cdf"], f"ctx must hold approximate and cdf, got {sorted(out._ctx)}"
    assert out._ctx["approximate"] == "tanh"
    np.testing.assert_allclose(out._ctx["cdf"], out.data / w.data, rtol=1e-6)
    assert gelu(Tensor([1.0]))._op is None


test_gelu()

# %% [markdown]
"""
## 5. Softmax: scores into probabilities

A classifier's last layer produces one score (a *logit*) per class. Softmax turns each row of
scores into a probability distribution: positive numbers that sum to 1, larger for larger scores.

```
softmax(x)_i = e^(x_i) / sum over j of e^(x_j)
```

Worked example: scores `[1, 2, 3]` give `e^1, e^2, e^3 = 2.72, 7.39, 20.09`, total 30.19, so the
probabilities are `[0.090, 0.245, 0.665]`.

**The problem.** Scores of 1000 are not unusual in a badly initialised or diverging network.
`e^1000` is `inf`, and `inf / inf` is NaN.

**The fix.** Subtracting the same constant `c` from every score of a row changes nothing:

```
e^(x_i - c) / sum_j e^(x_j - c)  =  e^(x_i) e^(-c) / (e^(-c) sum_j e^(x_j))  =  softmax(x)_i
```

Choose `c` = the row's maximum. Then every exponent is `<= 0`, so nothing can overflow, and the
largest term is `e^0 = 1`, so the sum is at least 1 and the division is safe. For `[1000, 999, 0]`
the shifted scores are `[0, -1, -1000]` and the result is `[0.731, 0.269, 0.0]`.

Two design points:

- the maximum is a **constant**: take it from the raw array and wrap it in a plain Tensor. No
  gradient needs to flow through it, because it cancels out of the result;
- everything else is built from module 01's **tensor operations** (subtract, `exp`, `sum` with
  `keepdims=True`, divide). Each of them is recorded, so module 05 can differentiate softmax with
  the rules it already has: no new gradient rule is needed.

`axis` says which axis holds the classes: the last one (`-1`) for a batch of rows. PyTorch calls
it `dim` (`torch.softmax(x, dim=-1)`), so `softmax`, `log_softmax` and `Softmax` accept either
name; the given helper below picks the one that was passed, before your code runs.
"""

# %% nbgrader={"grade": false, "grade_id": "activations-dim-keyword", "locked": true, "schema_version": 3, "solution": false, "task": false}
#| export
def _axis_or_dim(axis: int, dim) -> int:
    """The axis to work along, passed as numpy's `axis` or as PyTorch's `dim`, so code from both runs."""
    if dim is None:
        return axis
    if axis not in (-1, dim):
        raise TypeError(f"got axis={axis} and dim={dim}: pass one of them (dim is PyTorch's name for axis)")
    return dim

# %% nbgrader={"grade": false, "grade_id": "activations-softmax", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def softmax(x, axis: int = -1, *, dim: int = None) -> Tensor:
    """e^x / sum(e^x) along `axis`: turns scores into probabilities.

    Subtracting the row maximum first changes nothing mathematically (it cancels in the ratio)
    but keeps every exponent <= 0, so large scores cannot overflow. The maximum is a constant
    here, so no gradient flows through it (none is needed: it cancels).

    Steps:
      1. Make `x` a Tensor with `as_tensor`.
      2. Take the maximum of the raw array along `axis` with `keepdims=True` (so it broadcasts)
         and wrap it in a plain `Tensor`: a constant.
      3. With Tensor operations only: subtract that constant from `x`, exponentiate (`.exp()`),
         and divide by the sum of the exponentials along `axis`, again with `keepdims=True`.
    Example: `softmax(Tensor([[1.0, 2.0, 3.0]]))` holds about `[[0.090, 0.245, 0.665]]`, and
    `softmax(Tensor([[1000.0, 1000.0]]))` holds `[[0.5, 0.5]]`.
    """
    axis = _axis_or_dim(axis, dim)
    ### BEGIN SOLUTION
    x = as_tensor(x)
    shifted = x - Tensor(x.data.max(axis=axis, keepdims=True))
    exps = shifted.exp()
    return exps / exps.sum(axis=axis, keepdims=True)
    ### END SOLUTION

# %%
scores = Tensor([[1.0, 2.0, 3.0], [1000.0, 999.0, 0.0]])
probabilities = softmax(scores)
print(probabilities)
print("row sums:", probabilities.sum(axis=1).data)

# %% nbgrader={"grade": true, "grade_id": "activations-softmax-test", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_softmax():
    import warnings

    x = Tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    p = softmax(x)
    assert isinstance(p, Tensor), f"softmax must return a Tensor, got {type(p)}"
    assert p.shape == (2, 3) and p.dtype == np.float32
    e = np.exp(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(p.data[0], e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(p.data[1], [1 / 3, 1 / 3, 1 / 3], rtol=1e-6)
    np.testing.assert_allclose(p.data.sum(axis=1), [1.0, 1.0], rtol=1e-6)

    # large scores: finite, exact where the answer is exact, no overflow
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            shifted = softmax(x + 100)
            big = softmax(Tensor([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0]]))
            big64 = softmax(Tensor(np.array([[1000.0, 999.0]])))
    np.testing.assert_allclose(shifted.data, p.data, rtol=1e-6, err_msg="adding a constant must not change softmax")
    assert np.all(np.isfinite(big.data)), f"softmax must stay finite, got {big.data}"
    assert big.data[0].tolist() == [1.0, 0.0, 0.0]
    np.testing.assert_allclose(big.data[1], [1 / 3, 1 / 3, 1 / 3], rtol=1e-6)
    assert big64.dtype == np.float64
    np.testing.assert_allclose(big64.data, [[1 / (1 + np.exp(-1.0)), 1 / (1 + np.exp(1.0))]], rtol=1e-12)

    # the axis argument
    columns = softmax(Tensor([[1.0, 5.0], [3.0, 5.0]]), axis=0)
    np.testing.assert_allclose(columns.data.sum(axis=0), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(columns.data[:, 1], [0.5, 0.5], rtol=1e-6)
    vector = softmax(Tensor([0.0, np.log(3.0)]))
    assert vector.shape == (2,)
    np.testing.assert_allclose(vector.data, [0.25, 0.75], rtol=1e-6)


test_softmax()

# %% [markdown]
"""
## 6. Log-softmax: the log of a probability, without the log of zero

Cross-entropy (module 04) needs `log(softmax(x))`. Computing softmax first and then the log fails
quietly: for scores `[0, -1000]` the probabilities are `[1, e^-1000]`, and `e^-1000` underflows
to exactly 0, so the log is `-inf` (with a divide-by-zero warning) and the gradient is NaN. The
true answer is a perfectly ordinary number, -1000.

Take the log of the shifted formula instead (with `c` the row maximum, as before):

```
log softmax(x)_i = (x_i - c) - log( sum_j e^(x_j - c) )
```

The sum is at least 1 (one of its terms is `e^0`), so its log is finite and `>= 0`; nothing is
ever the log of 0. For `[0, -1000]`: the shifted scores are `[0, -1000]`, the sum is `1 + 0 = 1`,
its log is 0, and the result is `[0, -1000]`, exact. This "log-sum-exp" trick is also how
PyTorch's `log_softmax` and `cross_entropy` are computed.
"""

# %% nbgrader={"grade": false, "grade_id": "activations-log-softmax", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def log_softmax(x, axis: int = -1, *, dim: int = None) -> Tensor:
    """log(softmax(x)) without ever taking the log of an underflowed 0.

    Steps:
      1. Make `x` a Tensor and subtract the constant row maximum exactly as in `softmax`.
      2. With Tensor operations: exponentiate the shifted scores, sum along `axis` with
         `keepdims=True`, take `.log()` of that sum, and subtract it from the shifted scores.
    Do not call `softmax` and then `.log()`: that is the unstable way described above.
    Example: `log_softmax(Tensor([[0.0, -1000.0]]))` holds `[[0., -1000.]]`, exactly.
    """
    axis = _axis_or_dim(axis, dim)
    ### BEGIN SOLUTION
    x = as_tensor(x)
    shifted = x - Tensor(x.data.max(axis=axis, keepdims=True))
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()
    ### END SOLUTION

# %%
print(log_softmax(Tensor([[1.0, 2.0, 3.0], [0.0, -1000.0, 1000.0]])))
print("exp(log_softmax) sums to 1:", log_softmax(Tensor([[1.0, 2.0, 3.0]])).exp().sum().item())

# %% nbgrader={"grade": true, "grade_id": "activations-log-softmax-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_log_softmax():
    import warnings

    x = Tensor(np.array([[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]]))
    ls = log_softmax(x)
    assert isinstance(ls, Tensor), f"log_softmax must return a Tensor, got {type(ls)}"
    assert ls.shape == (2, 3) and ls.dtype == np.float64
    raw = x.data
    expected = raw - np.log(np.exp(raw).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(ls.data, expected, rtol=1e-12)
    np.testing.assert_allclose(np.exp(ls.data).sum(axis=1), [1.0, 1.0], rtol=1e-12)
    assert np.all(ls.data < 0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            extreme = log_softmax(Tensor(np.array([[0.0, -1000.0], [1000.0, -1000.0]])))
            extreme32 = log_softmax(Tensor([[1000.0, 1000.0]]))
    assert np.all(np.isfinite(extreme.data)), f"log_softmax must stay finite, got {extreme.data}"
    np.testing.assert_array_equal(extreme.data, [[0.0, -1000.0], [0.0, -2000.0]])
    assert extreme32.dtype == np.float32
    np.testing.assert_allclose(extreme32.data, [[-np.log(2.0), -np.log(2.0)]], rtol=1e-6)


test_log_softmax()

# %% [markdown]
"""
## 7. Activations as layers

Module 03 builds networks by stacking layers: `Sequential(Dense(784, 128), ReLU(), Dense(128, 10))`.
For that, an activation must look like a layer: an object you *call* on a tensor, with a
`parameters()` method (an activation has none). The base class `Activation` provides that
interface; each subclass only writes `forward`, which calls the function you already wrote.
`Softmax` also remembers its `axis`, and `GELU` its `approximate` (checked when the layer is
made, so `GELU("exact")` fails at once rather than at its first call).

This mirrors PyTorch, where `torch.nn.ReLU()` is a module whose `forward` calls `torch.relu`
and `torch.nn.GELU(approximate="tanh")` one that calls `torch.nn.functional.gelu`.
"""

# %% nbgrader={"grade": false, "grade_id": "activations-base", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| export
class Activation:
    """Base class: an activation is a function with no parameters, called like a layer."""

    def __call__(self, x) -> Tensor:
        return self.forward(x)

    def forward(self, x) -> Tensor:
        raise NotImplementedError

    def parameters(self) -> list:
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

# %% nbgrader={"grade": false, "grade_id": "activations-classes", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class ReLU(Activation):
    def forward(self, x) -> Tensor:
        """Apply the function `relu` to `x`."""
        ### BEGIN SOLUTION
        return relu(x)
        ### END SOLUTION


class Sigmoid(Activation):
    def forward(self, x) -> Tensor:
        """Apply the function `sigmoid` to `x`."""
        ### BEGIN SOLUTION
        return sigmoid(x)
        ### END SOLUTION


class Tanh(Activation):
    def forward(self, x) -> Tensor:
        """Apply the function `tanh` to `x`."""
        ### BEGIN SOLUTION
        return tanh(x)
        ### END SOLUTION


class GELU(Activation):
    def __init__(self, approximate: str = "none"):
        self.approximate = _gelu_approximation(approximate)

    def forward(self, x) -> Tensor:
        """Apply the function `gelu` to `x`, in the form given to the constructor."""
        ### BEGIN SOLUTION
        return gelu(x, approximate=self.approximate)
        ### END SOLUTION


class Softmax(Activation):
    def __init__(self, axis: int = -1, *, dim: int = None):
        self.axis = _axis_or_dim(axis, dim)

    def forward(self, x) -> Tensor:
        """Apply the function `softmax` to `x`, along the axis given to the constructor."""
        ### BEGIN SOLUTION
        return softmax(x, axis=self.axis)
        ### END SOLUTION

# %%
layers = [ReLU(), Sigmoid(), Tanh(), GELU(), GELU(approximate="tanh"), Softmax()]
batch = Tensor([[-1.0, 0.0, 2.0]])
for layer in layers:
    print(f"{layer!r:>10} -> {layer(batch).data}  parameters: {layer.parameters()}")

# %% nbgrader={"grade": true, "grade_id": "activations-classes-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_activation_classes():
    x = Tensor([[-1.0, 0.0, 2.0], [3.0, -4.0, 0.5]])
    expected_relu = np.maximum(x.data, 0)
    np.testing.assert_array_equal(ReLU()(x).data, expected_relu)
    np.testing.assert_allclose(Sigmoid()(x).data, 1 / (1 + np.exp(-x.data.astype(np.float64))), rtol=1e-6)
    np.testing.assert_allclose(Tanh()(x).data, np.tanh(x.data), rtol=1e-6)
    rows = Softmax()(x)
    np.testing.assert_allclose(rows.data.sum(axis=1), [1.0, 1.0], rtol=1e-6)
    cols = Softmax(axis=0)(x)
    np.testing.assert_allclose(cols.data.sum(axis=0), [1.0, 1.0, 1.0], rtol=1e-6)
    assert Softmax().axis == -1 and Softmax(axis=0).axis == 0
    exact = np.array([[0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in row] for row in x.data.astype(np.float64)])
    np.testing.assert_allclose(GELU()(x).data, exact, rtol=1e-6, atol=1e-7)
    assert GELU().approximate == "none" and GELU("tanh").approximate == "tanh"
    np.testing.assert_array_equal(GELU("tanh")(x).data, gelu(x, approximate="tanh").data)

    for layer in (ReLU(), Sigmoid(), Tanh(), GELU(), Softmax()):
        assert isinstance(layer, Activation)
        out = layer(x)
        assert isinstance(out, Tensor) and out.shape == (2, 3) and out.dtype == np.float32
        assert layer.parameters() == []
    assert repr(ReLU()) == "ReLU()" and repr(Softmax()) == "Softmax()"

    w = Tensor([1.0, -1.0], requires_grad=True)
    assert ReLU()(w)._op == "relu" and Sigmoid()(w)._op == "sigmoid" and Tanh()(w)._op == "tanh"
    assert GELU()(w)._op == "gelu" and GELU("tanh")(w)._ctx["approximate"] == "tanh"
    assert ReLU()([-2, 2]).data.tolist() == [0.0, 2.0]


test_activation_classes()

# %% [markdown]
"""
## 8. The graph of an activation

ReLU, sigmoid, tanh and GELU each record one node with its own name: module 05 has a gradient
rule for each (`relu`: 1 where the input was positive; `sigmoid`: `s (1 - s)`; `tanh`: `1 - t^2`;
`gelu`: `Phi(x) + x Phi'(x)`, from the `cdf` the node keeps).
Softmax and log-softmax record only operations from module 01, so they are differentiable with no
new rule. The demo lists the operations a softmax records.
"""

# %%
logits = Tensor([[2.0, 1.0, 0.1]], requires_grad=True)
node, ops = softmax(logits), []
stack, seen = [node], set()
while stack:
    current = stack.pop()
    if id(current) in seen or current._op is None:
        continue
    seen.add(id(current))
    ops.append(current._op)
    stack.extend(current._parents)
print("softmax records:", ops)

# %% nbgrader={"grade": true, "grade_id": "activations-graph-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_activation_graphs():
    known = {"add", "sub", "mul", "div", "neg", "pow", "exp", "log", "matmul", "sum", "max",
             "reshape", "transpose", "getitem", "relu", "sigmoid", "tanh"}

    def recorded_ops(output, source):
        """The ops recorded between `output` and `source`; fails if `source` is unreachable."""
        ops, stack, seen, reached = [], [output], set(), False
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            reached = reached or node is source
            if node._op is not None:
                ops.append(node._op)
                stack.extend(node._parents)
        assert reached, "the output's graph must lead back to the input"
        return ops

    x = Tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]], requires_grad=True)
    for function in (softmax, log_softmax):
        out = function(x)
        assert out.requires_grad is True, f"{function.__name__} must record its graph"
        ops = recorded_ops(out, x)
        assert ops and set(ops) <= known, f"{function.__name__} records ops module 05 does not know: {set(ops) - known}"
        assert "exp" in ops, f"{function.__name__} must exponentiate with Tensor.exp"

    plain = Tensor([[1.0, 2.0]])
    for function in (relu, sigmoid, tanh, softmax, log_softmax):
        out = function(plain)
        assert out.requires_grad is False and out._op is None, f"{function.__name__} recorded without requires_grad"

    Tensor.grad_enabled = False
    try:
        quiet = [function(x) for function in (relu, sigmoid, tanh, softmax, log_softmax)]
    finally:
        Tensor.grad_enabled = True
    assert all(q._op is None and not q.requires_grad for q in quiet), "nothing is recorded when recording is off"


test_activation_graphs()

# %% [markdown]
"""
## 9. Analyse: why the naive sigmoid overflows, measured

Below, the textbook sigmoid `1 / (1 + e^-x)` and its derivative `e^-x / (1 + e^-x)^2` are
evaluated on 2001 inputs from -1000 to 1000, in float32 and in float64, next to your stable
`sigmoid`. Warnings are recorded instead of printed, and counted. For each dtype the table shows:
where `e^-x` starts to overflow (the largest float is `e^log(max)`), how many inputs overflow,
how many warnings the textbook functions raise (numpy warns once per call, not once per element),
how many NaN the textbook derivative produces, how many warnings your version raises, and the
largest difference between the two sigmoids where the textbook one is finite.
"""

# %%
import warnings


def naive_sigmoid(values: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-values))


def naive_sigmoid_derivative(values: np.ndarray) -> np.ndarray:
    return np.exp(-values) / (1 + np.exp(-values)) ** 2


print(f"{'dtype':>8} {'overflow below':>15} {'inputs overflowing':>19} {'naive warnings':>15} "
      f"{'NaN derivatives':>16} {'stable warnings':>16} {'max |naive - stable|':>21}")
for dtype in (np.float32, np.float64):
    grid = np.linspace(-1000, 1000, 2001).astype(dtype)
    with warnings.catch_warnings(record=True) as naive_warnings:
        warnings.simplefilter("always")
        naive = naive_sigmoid(grid)
        derivative = naive_sigmoid_derivative(grid)
    with warnings.catch_warnings(record=True) as stable_warnings:
        warnings.simplefilter("always")
        stable = sigmoid(Tensor(grid)).data
    with np.errstate(over="ignore"):
        overflowing = int(np.isinf(np.exp(-grid)).sum())
    finite = np.isfinite(naive)
    print(f"{np.dtype(dtype).name:>8} {-np.log(np.finfo(dtype).max):>15.2f} {overflowing:>19} "
          f"{len(naive_warnings):>15} {int(np.isnan(derivative).sum()):>16} {len(stable_warnings):>16} "
          f"{np.max(np.abs(naive[finite] - stable[finite])):>21.1e}")
print("first warning:", naive_warnings[0].message if naive_warnings else None)

# %% [markdown]
"""
What the numbers say:

- **Where.** `e^-x` overflows for every `x` below `-log(max float)`: -88.72 in float32 and
  -709.78 in float64. In float32, the dtype networks train in, almost half the grid overflows: a
  pre-activation of -100 is not exotic.
- **What happens to the value.** `1 / (1 + inf)` is 0, so the textbook sigmoid's *value* is right
  after all, and the last column shows it agrees with yours to within rounding. The damage is
  the warning: nbgrader scores a cell that writes to stderr 0, and `np.errstate(over="raise")`
  turns it into an error.
- **What happens to the gradient.** The textbook derivative computes `inf / inf` and returns NaN
  for every overflowing input. One NaN in a gradient makes the weights NaN after the next update,
  and then every output of the network. Your stable sigmoid, with module 05's rule `s (1 - s)`
  computed from the output, never produces either.

### The same story for softmax
"""

# %%
wide_scores = np.array([1000.0, 999.0, 0.0])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    naive_softmax = np.exp(wide_scores) / np.exp(wide_scores).sum()
print("naive softmax: ", naive_softmax, f"({len(caught)} warnings: {sorted({str(w.message) for w in caught})})")
print("stable softmax:", softmax(Tensor(wide_scores)).data)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    log_of_softmax = np.log(softmax(Tensor(np.array([0.0, -1000.0]))).data)
print("log(softmax([0, -1000])):", log_of_softmax, f"({len(caught)} warning)", " log_softmax:", log_softmax(Tensor(np.array([0.0, -1000.0]))).data)

# %% [markdown]
"""
### What stability costs, and why ReLU won

The stable sigmoid evaluates both branches and then chooses element by element with `np.where`,
so it does more work than the textbook formula. Timed on a million float32 values (best of several
runs; the ratios depend on the machine and its load), next to ReLU and to GELU in its two forms.
The last line is the largest slope of each activation at
a few inputs: sigmoid's slope is at most 0.25 and almost 0 once `|x|` reaches 10, so each sigmoid
layer shrinks the gradient that passes through it; ReLU passes it unchanged for every positive
input. That, and its speed, is why hidden layers use ReLU.
"""

# %%
import time


def best_time(fn, repeats: int = 7) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    return min(times)


million = Tensor(np.random.default_rng(0).standard_normal(1_000_000).astype(np.float32) * 10)
with np.errstate(over="ignore"):
    t_naive = best_time(lambda: naive_sigmoid(million.data))
t_stable = best_time(lambda: sigmoid(million))
t_relu = best_time(lambda: relu(million))
t_gelu = best_time(lambda: gelu(million), repeats=2)
t_gelu_tanh = best_time(lambda: gelu(million, approximate="tanh"))
print(f"naive sigmoid {t_naive * 1e3:.1f} ms, stable sigmoid {t_stable * 1e3:.1f} ms "
      f"({t_stable / t_naive:.1f}x), relu {t_relu * 1e3:.1f} ms")
print(f"gelu exact (erf) {t_gelu * 1e3:.1f} ms, gelu tanh {t_gelu_tanh * 1e3:.1f} ms "
      f"({t_gelu / t_gelu_tanh:.0f}x faster)")
at = np.array([0.0, 2.0, 5.0, 10.0])
s = sigmoid(Tensor(at)).data
print("inputs:", at, " sigmoid slope:", np.round(s * (1 - s), 6), " relu slope:", (at > 0).astype(float))

# %% [markdown]
"""
On the machines this course was built on, the stable sigmoid was between about 5 and 25 times
slower than the textbook one (the ratio swings with the machine's load), mostly because of
`np.where`: choosing between two arrays by a mask of random signs costs more than the arithmetic.
That is still milliseconds per million values, small next to the matrix multiplications of a
layer; NaN weights cost the whole training run. The trade is worth it.

The exact GELU is the slowest line, by far: the given `erf` calls Python once per element, while
the tanh form runs numpy's compiled loops. This is the trade the tanh approximation was invented
for; PyTorch's compiled `erf` makes the exact form cheap, so it is PyTorch's default. The two
forms differ by less than 0.0005 anywhere, but a model trained with one should be run with it.

*Challenge (ungraded):* write a sigmoid that is just as stable and gives the same bits, without
`np.where`. Hint: the numerator is 1 for `x >= 0` and `e^x` for `x < 0`; which single numpy
expression is `e^x` for negative `x` and `e^0` for the others? Time it against yours.

## 10. Summary

You built TinyTorch's activations:

- `relu`, the cheap default for hidden layers;
- `sigmoid`, stable for any input by exponentiating only `-|x|`;
- `tanh`, via numpy's stable implementation;
- `gelu`, the smooth ReLU of transformers, exact with `erf` or approximated with `tanh` as in
  PyTorch, finite for any input;
- `softmax` and `log_softmax`, stable by subtracting each row's maximum, built from tensor
  operations so that module 05 can differentiate them without new rules;
- the layer-like classes `ReLU`, `Sigmoid`, `Tanh`, `GELU` and `Softmax` that module 03 stacks
  into networks.

### Checkpoint unlocked

`checkpoints/checkpoint_02_activations.py` asks: *"Can I add nonlinearity that stays finite for
any input?"* Run it against the reference package with `make checkpoints`, or on its own:

```bash
.venv/bin/python -m pytest checkpoints/checkpoint_02_activations.py
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

# %% nbgrader={"grade": true, "grade_id": "activations-checkpoint", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_checkpoint_activations():
    """Can I add nonlinearity that stays finite for any input?"""
    x = Tensor(np.array([[-1000.0, -1.0, 0.0, 1.0, 1000.0]]))
    np.testing.assert_array_equal(ReLU()(x).data, [[0.0, 0.0, 0.0, 1.0, 1000.0]])
    np.testing.assert_allclose(Sigmoid()(x).data, [[0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1.0)), 1.0]])
    np.testing.assert_allclose(Tanh()(x).data, np.tanh(x.data))
    for form in ("none", "tanh"):
        np.testing.assert_allclose(GELU(form)(x).data, [[0.0, -0.1587, 0.0, 0.8413, 1000.0]], atol=2e-4)
    probabilities = Softmax()(x).data
    assert np.all(np.isfinite(probabilities))
    np.testing.assert_allclose(probabilities.sum(axis=-1), [1.0])


test_checkpoint_activations()


# %% [markdown]
# ## Check your work
#
# Save the notebook (Ctrl+S), then run the cell below. It runs the same check as
# `tito check 02_activations` in a terminal: your saved notebook, top to bottom in a fresh kernel that
# sees only the earlier modules (as grading does), then the module's checkpoint on the code of
# your export cells. It lists which visible tests pass, the first failure of the others and what
# to try next. At grading, each test cell's points also need the grader's own cases for it (some
# of them hidden) to agree with the reference. When tito or nbgrader runs this notebook, the
# cell only says it was skipped.

# %%
from tito.student import check_module

check_module("02_activations")
