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
# # Module 04: Losses - one number that says how wrong the network is
#
# A network from module 03 maps inputs to outputs. To *improve* it, training needs a single number
# that is small when the outputs are good and large when they are bad, and that changes smoothly
# with the parameters: the loss. Module 05 differentiates it, module 06 walks downhill along that
# gradient. This module writes the three losses almost every network is trained with.
#
# ## Learning goals
# - Mean squared error for regression, written as a composition of tensor operations (so it needs
#   no gradient rule of its own).
# - Cross-entropy for classification, computed straight from raw scores (*logits*) with a fused,
#   numerically stable log-softmax, for class-index targets and for probability targets.
# - Binary cross-entropy on probabilities, kept finite with a small `eps`.
# - The `Loss` classes (`MeanSquaredError`, `CrossEntropyLoss`, `BinaryCrossEntropy`) and their
#   aliases (`MSELoss`, `CrossEntropy`, `BCELoss`, `BinaryCrossEntropyLoss`).
#
# ## Build -> Use -> Analyse
# 1. **Build**: `mean_squared_error`, `log_softmax_rows`, `cross_entropy`, `binary_cross_entropy`.
# 2. **Use**: score the predictions of a `Dense` layer from module 03 with the `Loss` classes.
# 3. **Analyse**: measure in float32 where `log(softmax(x))` breaks down (underflow to 0, then
#    `log 0 = -inf`) and why the fused log-softmax never does.
#
# Losses come before autograd: every test here is about the forward value. But the losses are
# built so that module 05 can differentiate them: MSE and BCE from recorded tensor operations,
# cross-entropy as one recorded operation whose gradient rule module 05 supplies.

# %% nbgrader={"grade": false, "grade_id": "losses-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.losses
#| export
import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor
from tinytorch.core.activations import log_softmax  # re-exported: the original course had it here

# %% [markdown]
# ## Where this code lives
#
# The `#| export` cells become `tinytorch/core/losses.py`
# (`from tinytorch.core.losses import CrossEntropyLoss`). The package code uses only module 01;
# it also re-exports module 02's `log_softmax`, which the original TinyTorch course imported from
# here. The demos also use `Dense` (module 03) and `softmax` (module 02).

# %% [markdown]
# ## Step 1: Mean squared error
#
# For predictions $\hat y$ and targets $y$ with $n$ elements in total,
#
# $$\mathrm{MSE}(\hat y, y) = \frac{1}{n} \sum_{i} (\hat y_i - y_i)^2 .$$
#
# Squaring makes every error count positively and punishes large errors much more than small ones
# (an error of 2 costs four times an error of 1). The mean, rather than the sum, keeps the loss on
# the same scale whatever the batch size, so the learning rate need not change with it.
#
# **Worked example.** Predictions `[1, 2, 3]`, targets `[1, 2, 5]`: errors `[0, 0, -2]`, squares
# `[0, 0, 4]`, mean `4/3 = 1.3333`.
#
# **Why a composition.** Write it with `Tensor` operations only (subtraction, power, mean). Each
# of them records itself in the graph (module 01), so module 05 differentiates MSE with the rules it
# already has for `sub`, `pow`, `sum` and `mul`; no new calculus is needed. PyTorch's
# `nn.MSELoss()` computes the same mean by default (`reduction="mean"`).

# %% nbgrader={"grade": false, "grade_id": "losses-mse", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def mean_squared_error(predictions, targets) -> Tensor:
    """mean((predictions - targets)^2): the regression loss, built from tensor operations.

    Steps: turn both arguments into Tensors (`as_tensor`); take the difference, square it, and
    average over all elements. Use Tensor operations only, so that the graph is recorded and
    module 05 can differentiate the loss with the rules it has for those operations.

    Example: predictions [1, 2, 3], targets [1, 2, 5] -> (0 + 0 + 4) / 3 = 1.3333 (a 0-d Tensor).
    """
    ### BEGIN SOLUTION
    predictions, targets = as_tensor(predictions), as_tensor(targets)
    return ((predictions - targets) ** 2).mean()
    ### END SOLUTION


# %%
predictions = Tensor([1.0, 2.0, 3.0], requires_grad=True)
loss = mean_squared_error(predictions, [1.0, 2.0, 5.0])
print("MSE:", loss, " (4/3 =", 4 / 3, ")")
print("last recorded op:", loss._op, "- the mean is a sum times 1/n, all ops module 05 knows")

# %% [markdown]
# ### Test: mean squared error
# Exact values, a 0-d float32 Tensor, lists and arrays accepted, and the result stays in the graph.

# %% nbgrader={"grade": true, "grade_id": "losses-mse-values", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_mean_squared_error():
    loss = mean_squared_error(Tensor([1.0, 2.0, 3.0]), Tensor([1.0, 2.0, 5.0]))
    assert isinstance(loss, Tensor), f"the loss must be a Tensor, got {type(loss)}"
    assert loss.shape == (), f"the loss is a scalar (shape ()), got {loss.shape}"
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.item(), 4.0 / 3.0, rtol=1e-6)

    same = mean_squared_error([[1.0, -2.0], [0.5, 4.0]], [[1.0, -2.0], [0.5, 4.0]])
    assert same.item() == 0.0
    batch = mean_squared_error(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), np.zeros((2, 2), dtype=np.float32))
    np.testing.assert_allclose(batch.item(), 7.5, rtol=1e-6)

    p = Tensor([0.5, -1.0], requires_grad=True)
    loss = mean_squared_error(p, [1.5, 1.0])
    np.testing.assert_allclose(loss.item(), 2.5, rtol=1e-6)
    assert loss.requires_grad, "use Tensor operations so that the loss is part of the graph"


test_mean_squared_error()

# %% [markdown]
# ## Step 2: Log-softmax, computed stably
#
# A classifier outputs one raw score per class, the *logits* $z$. Softmax turns them into
# probabilities, $p_k = e^{z_k} / \sum_j e^{z_j}$, and cross-entropy needs $\log p_k$. Taking the
# log of the softmax output is the obvious way and the wrong one: when one class is far behind, its
# probability underflows to exactly `0.0` in floating point, and `log 0 = -inf`. Work in log space
# instead:
#
# $$\log p_k = z_k - \log \sum_j e^{z_j} = (z_k - m) - \log \sum_j e^{z_j - m}, \qquad m = \max_j z_j .$$
#
# Subtracting the row maximum $m$ changes nothing mathematically, but after it every exponent is
# `<= 0` (no overflow) and one of them is exactly `0`, so the sum lies between 1 and the number of
# classes $C$: its log is between 0 and $\log C$, never `log 0`. The tiny probabilities are never
# formed; their logs come out as plain differences such as `-2000`.
#
# **Worked example.** `z = [1000, -1000]`: `m = 1000`, shifted `[0, -2000]`, `exp` gives `[1, 0]`,
# the log of the sum is `log 1 = 0`, so log-probabilities `[0, -2000]`, exactly. Going through
# softmax instead gives `[1, 0]` and then `[0, -inf]`.
#
# This helper works on numpy arrays (the rows are the last axis): cross-entropy below uses it
# inside a single recorded operation, so it needs no graph of its own. PyTorch fuses the same way:
# `nn.CrossEntropyLoss` is `log_softmax` followed by `nll_loss`, never `log(softmax)`.

# %% nbgrader={"grade": false, "grade_id": "losses-log-softmax", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def log_softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-probabilities, stable for any logits (the max is subtracted before exp).

    Works on a numpy array; the rows are the last axis. Keep the reduced axis (keepdims) so
    that row results broadcast back over the row.
    Steps:
    1. shift: subtract each row's maximum from the row (now every entry is <= 0);
    2. log-sum: the log of the sum over the row of exp(shifted) (between 0 and log C);
    3. the result is the shifted row minus its log-sum.

    Example: [[1000, -1000]] -> [[0, -2000]], where log(softmax) would give [[0, -inf]].
    """
    ### BEGIN SOLUTION
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    ### END SOLUTION


# %%
scores = np.array([[1.0, 2.0, 3.0], [1000.0, -1000.0, 0.0]], dtype=np.float32)
log_probs = log_softmax_rows(scores)
print("log-probabilities:\n", log_probs)
print("probabilities sum to:", np.exp(log_probs).sum(axis=-1))

# %% [markdown]
# ### Test: log-softmax
# Values against the textbook formula (in float64, where it is safe for small logits), rows that
# exponentiate to probabilities summing to 1, exact results at +-1000, and the dtype kept.

# %% nbgrader={"grade": true, "grade_id": "losses-log-softmax-values", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_log_softmax_rows():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    out = log_softmax_rows(logits)
    assert isinstance(out, np.ndarray), f"expected a numpy array, got {type(out)}"
    assert out.shape == (2, 3) and out.dtype == np.float32
    x = logits.astype(np.float64)
    expected = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    np.testing.assert_allclose(np.exp(out.astype(np.float64)).sum(axis=1), [1.0, 1.0], rtol=1e-6)

    big = log_softmax_rows(np.array([[1000.0, -1000.0], [1000.0, 1000.0]], dtype=np.float32))
    assert np.isfinite(big).all()
    np.testing.assert_array_equal(big[0], np.float32([0.0, -2000.0]))
    np.testing.assert_allclose(big[1], [np.log(0.5), np.log(0.5)], rtol=1e-6)


test_log_softmax_rows()

# %% [markdown]
# ## Step 3: Cross-entropy from logits
#
# ### The math
# For one example with log-probabilities $\log p$ (from the logits) and the true class $y$, the
# loss is $-\log p_y$: zero when the network gives the right class probability 1, growing without
# bound as that probability goes to 0. Over a batch of $N$ rows we take the mean:
#
# $$\mathrm{CE} = -\frac{1}{N} \sum_{n} \log p_{n, y_n}.$$
#
# Targets come in two forms, and `cross_entropy` accepts both:
# - **class indices**, shape `(N,)`: `[0, 2]` means "row 0 is class 0, row 1 is class 2". Pick one
#   log-probability per row: integer-array indexing with the row numbers `0..N-1` and the labels.
#   Labels may arrive as floats (a `Tensor([0, 2])` is float32 by module 01's dtype policy), so
#   convert them to integers first.
# - **probabilities**, the same shape `(N, C)` as the logits (one-hot rows, or soft labels such as
#   label smoothing): the loss of a row is $-\sum_k t_k \log p_k$. With a one-hot row this is the
#   same number as the index form.
#
# The shape tells the two apart: targets shaped like the logits are probabilities.
#
# **Worked example.** Logits `[[2, 0]]`, target class 0: `log p_0 = 2 - log(e^2 + e^0) = -0.1269`,
# so the loss is `0.1269`. A network that knows nothing (all logits equal) scores `log C` whatever
# the labels: `log 10 = 2.303` for ten classes, a handy sanity check at the start of training.
#
# ### One operation in the graph
# Cross-entropy is recorded as a single node: `Tensor.from_op(value, "cross_entropy", (logits, targets))`
# with no extra context. That is a contract with module 05, whose rule for this op is the famously
# simple gradient `(softmax(logits) - targets) / N` (with targets as one-hot rows when they are
# indices). Building it from many small ops would also work, but would record the unstable
# intermediate steps and cost more memory. The value itself is a 0-d array with the logits' dtype.

# %% nbgrader={"grade": false, "grade_id": "losses-cross-entropy", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def cross_entropy(logits, targets) -> Tensor:
    """Mean negative log-probability of the right class, computed from raw scores.

    `targets` holds class indices (shape (N,)) or a probability per class (shape (N, C)).
    Taking logits rather than probabilities lets us use log-softmax directly, which is exact
    where log(softmax(x)) would compute log(0) = -inf for very confident wrong answers. It is
    one operation in the graph (its gradient is simply softmax - targets).

    Steps:
    1. Make both arguments Tensors; get the log-probabilities of the logits' numbers (numpy)
       with `log_softmax_rows`.
    2. Targets of the same shape as the logits are probabilities: the loss of each row is minus
       the sum over classes of target * log-probability. Otherwise they are class indices:
       convert them to integers and pick row n's log-probability at column targets[n].
    3. The value is the mean over the rows (negated), as a 0-d numpy array of the logits' dtype.
    4. Record it as ONE operation: `Tensor.from_op(value, "cross_entropy", (logits, targets))`,
       with the two Tensors from step 1 as parents and no keyword context.

    Example: logits [[2, 0]] and target [0] -> -log(e^2 / (e^2 + 1)) = 0.1269.
    """
    ### BEGIN SOLUTION
    logits, targets = as_tensor(logits), as_tensor(targets)
    log_probs = log_softmax_rows(logits.data)
    if targets.shape == logits.shape:
        picked = (log_probs * targets.data).sum(axis=-1)
    else:
        labels = targets.data.astype(np.intp)
        picked = log_probs[np.arange(len(labels)), labels]
    return Tensor.from_op(np.asarray(-picked.mean(), dtype=logits.dtype), "cross_entropy", (logits, targets))
    ### END SOLUTION


# %%
logits = Tensor([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]], requires_grad=True)
labels = Tensor([0, 1, 0])
loss = cross_entropy(logits, labels)
print("cross-entropy with class indices  :", loss.item())
print("the same with one-hot targets     :", cross_entropy(logits, [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]).item())
print("recorded as", loss._op, "with parents", [type(p).__name__ for p in loss._parents], "and ctx", loss._ctx)
print("uniform logits over 10 classes    :", cross_entropy(np.zeros((4, 10), dtype=np.float32), [3, 1, 4, 1]).item(),
      "= log 10 =", np.log(10))

# %% [markdown]
# ### Test: cross-entropy with class indices
# Compared with the float64 formula; labels given as integers, as a float Tensor, or as a list.

# %% nbgrader={"grade": true, "grade_id": "losses-cross-entropy-indices", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_cross_entropy_indices():
    logits = Tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    loss = cross_entropy(logits, np.array([0, 2]))
    assert isinstance(loss, Tensor), f"the loss must be a Tensor, got {type(loss)}"
    assert loss.shape == () and loss.dtype == np.float32
    x = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    expected = -(logp[0, 0] + logp[1, 2]) / 2
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)
    np.testing.assert_allclose(cross_entropy(logits, Tensor([0, 2])).item(), expected, rtol=1e-6)
    np.testing.assert_allclose(cross_entropy(logits, [0, 2]).item(), expected, rtol=1e-6)

    np.testing.assert_allclose(cross_entropy([[2.0, 0.0]], [0]).item(), np.log1p(np.exp(-2.0)), rtol=1e-6)
    uniform = cross_entropy(np.zeros((4, 5), dtype=np.float32), [0, 1, 2, 4])
    np.testing.assert_allclose(uniform.item(), np.log(5.0), rtol=1e-6)


test_cross_entropy_indices()

# %% [markdown]
# ### Test: cross-entropy with probability targets
# One-hot rows give the index result; soft targets give $-\sum_k t_k \log p_k$.

# %% nbgrader={"grade": true, "grade_id": "losses-cross-entropy-probs", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_cross_entropy_probabilities():
    logits = Tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    one_hot = Tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    by_probs = cross_entropy(logits, one_hot)
    by_index = cross_entropy(logits, [0, 2])
    assert by_probs.shape == () and by_probs.dtype == np.float32
    np.testing.assert_allclose(by_probs.item(), by_index.item(), rtol=1e-6)

    soft = cross_entropy([[0.0, np.log(3.0)]], [[0.25, 0.75]])
    np.testing.assert_allclose(soft.item(), -(0.25 * np.log(0.25) + 0.75 * np.log(0.75)), rtol=1e-5)


test_cross_entropy_probabilities()

# %% [markdown]
# ### Test: stability at extreme logits
# At logits `[[1000, -1000]]` the right answer costs exactly 0 and the wrong one exactly 2000,
# for both kinds of targets; nothing is `inf` or `nan`.

# %% nbgrader={"grade": true, "grade_id": "losses-cross-entropy-stable", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_cross_entropy_stable():
    logits = Tensor(np.array([[1000.0, -1000.0]], dtype=np.float32))
    right = cross_entropy(logits, [0])
    wrong = cross_entropy(logits, [1])
    assert np.isfinite(right.item()) and np.isfinite(wrong.item()), "loss must stay finite"
    assert right.item() == 0.0, f"confident and right costs 0, got {right.item()}"
    assert wrong.item() == 2000.0, f"confident and wrong costs 2000, got {wrong.item()}"
    assert cross_entropy(logits, [[0.0, 1.0]]).item() == 2000.0
    assert cross_entropy(logits, [[1.0, 0.0]]).item() == 0.0
    both = cross_entropy([[1000.0, -1000.0], [-1000.0, 1000.0]], [1, 1])
    assert both.item() == 1000.0


test_cross_entropy_stable()

# %% [markdown]
# ### Test: the graph record
# One node, op `"cross_entropy"`, parents exactly `(logits, targets)`, empty context; nothing is
# recorded when the logits do not require a gradient.

# %% nbgrader={"grade": true, "grade_id": "losses-cross-entropy-graph", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_cross_entropy_graph():
    logits = Tensor([[1.0, 2.0], [0.5, -0.5]], requires_grad=True)
    targets = Tensor([1, 0])
    loss = cross_entropy(logits, targets)
    assert loss.requires_grad
    assert loss._op == "cross_entropy", f"recorded op must be 'cross_entropy', got {loss._op!r}"
    assert len(loss._parents) == 2
    assert loss._parents[0] is logits and loss._parents[1] is targets, "parents are (logits, targets)"
    assert loss._ctx == {}, f"no context is recorded, got {loss._ctx}"
    plain = cross_entropy(Tensor([[1.0, 2.0]]), Tensor([1]))
    assert plain._op is None and not plain.requires_grad


test_cross_entropy_graph()

# %% [markdown]
# ## Step 4: Binary cross-entropy
#
# For a yes/no question the network outputs one probability $p \in (0, 1)$ per example (usually a
# sigmoid of a score) and the target is $t \in \{0, 1\}$ (or a soft value in between):
#
# $$\mathrm{BCE}(p, t) = -\frac{1}{n} \sum_i \big[t_i \log p_i + (1 - t_i) \log(1 - p_i)\big].$$
#
# For `t = 1` only the first term counts and the loss is `-log p`; for `t = 0` only the second,
# `-log(1 - p)`. A sigmoid in float32 can return exactly `0.0` or `1.0` (module 02), and then one of
# the logs is `log 0 = -inf`; worse, `0 * log 0` is `nan`. Adding a small `eps = 1e-7` inside both
# logs caps the loss at `-log(eps) = 16.1` per example and keeps it finite. (PyTorch's `BCELoss`
# clamps the log at -100 instead; its `BCEWithLogitsLoss` takes scores and avoids the problem the
# way our cross-entropy does.)
#
# **Worked example.** `p = [0.9, 0.2]`, `t = [1, 0]`: `-(log 0.9 + log 0.8) / 2 = (0.1054 + 0.2231) / 2 = 0.1643`.
#
# As with MSE, write it with `Tensor` operations (`log`, `*`, `+`, `-`, `mean`) so module 05 can
# differentiate it.

# %% nbgrader={"grade": false, "grade_id": "losses-bce", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def binary_cross_entropy(probabilities, targets, eps: float = 1e-7) -> Tensor:
    """-mean(t log p + (1 - t) log(1 - p)) for probabilities p in (0, 1); eps keeps log finite.

    Steps: make both arguments Tensors; add `eps` inside each log, i.e. take log(p + eps) and
    log(1 - p + eps), so p = 0 or p = 1 gives a large but finite loss instead of inf or nan;
    combine with Tensor operations and return the negated mean.

    Example: p = [0.9, 0.2], t = [1, 0] -> -(log 0.9 + log 0.8) / 2 = 0.1643.
    """
    ### BEGIN SOLUTION
    p, t = as_tensor(probabilities), as_tensor(targets)
    return -(t * (p + eps).log() + (1 - t) * (1 - p + eps).log()).mean()
    ### END SOLUTION


# %%
print("BCE, fairly right :", binary_cross_entropy([0.9, 0.2], [1.0, 0.0]).item())
print("BCE, coin flip    :", binary_cross_entropy([0.5, 0.5], [1.0, 0.0]).item(), "= log 2")
print("BCE, certain+wrong:", binary_cross_entropy([0.0, 1.0], [1.0, 0.0]).item(), "= -log(1e-7), finite")

# %% [markdown]
# ### Test: binary cross-entropy
# Exact values, `log 2` for a coin flip, near 0 when certain and right, `-log(eps)` (finite) when
# certain and wrong, and a custom `eps`.

# %% nbgrader={"grade": true, "grade_id": "losses-bce-values", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_binary_cross_entropy():
    loss = binary_cross_entropy(Tensor([0.9, 0.2]), Tensor([1.0, 0.0]))
    assert isinstance(loss, Tensor), f"the loss must be a Tensor, got {type(loss)}"
    assert loss.shape == () and loss.dtype == np.float32
    np.testing.assert_allclose(loss.item(), -(np.log(0.9) + np.log(0.8)) / 2, rtol=1e-5)
    np.testing.assert_allclose(binary_cross_entropy([0.5, 0.5, 0.5], [1.0, 0.0, 1.0]).item(), np.log(2.0), rtol=1e-5)

    right = binary_cross_entropy([1.0, 0.0], [1.0, 0.0])
    assert np.isfinite(right.item()) and abs(right.item()) < 1e-6
    wrong = binary_cross_entropy([0.0, 1.0], [1.0, 0.0])
    assert np.isfinite(wrong.item())
    np.testing.assert_allclose(wrong.item(), -np.log(1e-7), rtol=1e-4)
    np.testing.assert_allclose(binary_cross_entropy([0.0], [1.0], eps=1e-3).item(), -np.log(1e-3), rtol=1e-5)


test_binary_cross_entropy()

# %% [markdown]
# ## Step 5: The `Loss` classes
#
# Layers are objects you call; losses are too, so training code reads the same for every task:
# `loss = loss_fn(model(x), y)`. Each class only forwards to the function you wrote. The aliases are
# the names the wider PyTorch world uses (`nn.MSELoss`, `nn.CrossEntropyLoss`, `nn.BCELoss`), and
# the original TinyTorch course's `BinaryCrossEntropyLoss`, so code written for any of them reads
# naturally here. This cell is given: it has nothing new to implement.

# %% nbgrader={"grade": false, "grade_id": "losses-classes", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| export
class Loss:
    """Base class: a loss is called as loss_fn(predictions, targets) and returns a scalar Tensor."""

    def __call__(self, predictions, targets) -> Tensor:
        return self.forward(predictions, targets)

    def forward(self, predictions, targets) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MeanSquaredError(Loss):
    def forward(self, predictions, targets) -> Tensor:
        return mean_squared_error(predictions, targets)


class CrossEntropyLoss(Loss):
    def forward(self, logits, targets) -> Tensor:
        return cross_entropy(logits, targets)


class BinaryCrossEntropy(Loss):
    def forward(self, probabilities, targets) -> Tensor:
        return binary_cross_entropy(probabilities, targets)


MSELoss = MeanSquaredError
CrossEntropy = CrossEntropyLoss
BCELoss = BinaryCrossEntropy
BinaryCrossEntropyLoss = BinaryCrossEntropy

# %% [markdown]
# ## Use: scoring a freshly initialised classifier
# A `Dense` layer from module 03 maps 64 features to 10 class scores. Before any training its
# logits are small, its softmax is nearly uniform, so its cross-entropy should be close to
# `log 10 = 2.30`: a quick check practitioners run on every new model. The regression loss of the
# same outputs against zeros is simply their mean square.

# %%
from tinytorch.core.layers import Dense

rng = np.random.default_rng(0)
model = Dense(64, 10, rng=rng)
features = rng.standard_normal((32, 64)).astype(np.float32) * 0.1
labels = rng.integers(0, 10, size=32)
scores = model(features)
print(f"{CrossEntropyLoss()}: {CrossEntropyLoss()(scores, labels).item():.4f}   log 10 = {np.log(10):.4f}")
print(f"{MSELoss()}: {MSELoss()(scores, np.zeros((32, 10), dtype=np.float32)).item():.4f}")

# %% [markdown]
# ### Test: the classes and their aliases

# %% nbgrader={"grade": true, "grade_id": "losses-classes-aliases", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_loss_classes():
    mse = MeanSquaredError()
    np.testing.assert_allclose(mse(Tensor([1.0, 2.0, 3.0]), Tensor([1.0, 2.0, 5.0])).item(), 4.0 / 3.0, rtol=1e-6)
    ce = CrossEntropyLoss()
    assert ce([[1000.0, -1000.0]], [1]).item() == 2000.0
    bce = BinaryCrossEntropy()
    np.testing.assert_allclose(bce([0.5], [1.0]).item(), np.log(2.0), rtol=1e-5)
    assert isinstance(mse, Loss) and isinstance(ce, Loss) and isinstance(bce, Loss)
    assert MSELoss is MeanSquaredError
    assert CrossEntropy is CrossEntropyLoss
    assert BCELoss is BinaryCrossEntropy


test_loss_classes()

# %% [markdown]
# ## Analyse: why `log(softmax(x))` fails in float32 and log-softmax does not
#
# Take two classes with logits `[0, -g]` and let the gap `g` grow. The exact log-probability of the
# second class is `-g - log(1 + e^-g)`, which is essentially `-g`. Compute it both ways in float32
# (the dtype networks train in):
#
# - through softmax: form the probability `e^-g / (1 + e^-g)`, then take its log;
# - fused: `log_softmax_rows`, which never forms the probability.
#
# The max is subtracted in both, so neither overflows; the difference is only in the log.

# %%
float32 = np.finfo(np.float32)
print(f"float32: smallest normal {float32.tiny:.3e} = e^{np.log(float32.tiny):.1f}; "
      f"smallest subnormal {float32.smallest_subnormal:.3e} = e^{np.log(float32.smallest_subnormal):.1f}\n")
print(f"{'gap':>6s} {'p (float32)':>12s} {'log(softmax)':>14s} {'log_softmax':>12s} {'exact':>12s}")
for gap in [10, 50, 87, 95, 100, 103, 104, 200, 1000]:
    z = np.array([[0.0, -gap]], dtype=np.float32)
    shifted = z - z.max(axis=-1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):            # log(0) would print a RuntimeWarning
        naive = np.log(probs)[0, 1]
    fused = log_softmax_rows(z)[0, 1]
    exact = -gap - np.log1p(np.exp(-float(gap)))
    print(f"{gap:6d} {probs[0, 1]:12.3e} {naive:14.6f} {fused:12.6f} {exact:12.6f}")

with np.errstate(divide="ignore"):
    naive_loss = -np.log(np.float32(0.0))
print("\ncross-entropy of a confident wrong answer (gap 1000): through softmax", naive_loss,
      "| fused", cross_entropy(np.float32([[0.0, -1000.0]]), [1]).item())
with np.errstate(over="ignore"):
    print("and without the max shift, exp(89) in float32 is already", np.exp(np.float32(89.0)))

# %% [markdown]
# **What the numbers say.**
#
# - Up to a gap of about 87 both ways agree: `e^-87` is still a normal float32 number.
# - Beyond that the probability is *subnormal*: float32 can still represent it, but with fewer and
#   fewer significant bits. At a gap of 100 the log through softmax is already off in the second
#   decimal, at 103 it is wrong by 0.28.
# - From a gap of about 104 on, `e^-g` is below the smallest subnormal (`1.4e-45 = e^-103.3`): the
#   probability is exactly `0.0` and its log is `-inf`. A cross-entropy built that way returns `inf`
#   for one confident mistake, and its gradient becomes `nan`, which then spreads through every
#   parameter at the next update.
# - The fused log-softmax is exact at every gap: it computes `-g` as a difference of logits and only
#   ever takes the log of a number between 1 and the number of classes.
#
# Gaps of 100 are not exotic: logits of a confident network easily differ by that much, and a badly
# scaled initialisation (module 03's analysis) produces them from the first step. That is why every
# framework's cross-entropy takes logits, and why you should feed `cross_entropy` raw scores, never
# the output of a softmax.

# %% [markdown]
# ## Summary
#
# - `mean_squared_error`: the mean of squared differences, composed of tensor operations.
# - `log_softmax_rows`: log-probabilities as shifted logits minus a log-sum-exp, finite for any input.
# - `cross_entropy`: mean negative log-probability of the right class from logits, with class-index
#   or probability targets, recorded as one `"cross_entropy"` operation with parents
#   `(logits, targets)`. Exact at logits of +-1000.
# - `binary_cross_entropy`: for probabilities, with `eps` keeping the logs finite.
# - `MeanSquaredError` / `CrossEntropyLoss` / `BinaryCrossEntropy`, alias `MSELoss` / `CrossEntropy` /
#   `BCELoss`: callable loss objects.
# - Measured: in float32, `log(softmax)` loses accuracy beyond a logit gap of about 87 and returns
#   `-inf` beyond about 104; the fused form is exact throughout.
#
# ## Checkpoint unlocked
#
# **`checkpoints/checkpoint_04_losses.py`: "Can I measure how wrong a prediction is?"**
#
# Run it from the course root with `make checkpoints`, or on its own with
# `.venv/bin/python -m pytest checkpoints/checkpoint_04_losses.py`.
#
# Next, module 05 (autograd) computes how the loss changes with every parameter, using the graph
# these losses record.


# %% [markdown]
# ## Checkpoint cell (20 points)
#
# This last graded cell asks the checkpoint's question of your own code, in a few lines. When your
# notebook is graded, its 20 points are decided differently: the autograder exports your module,
# runs the checkpoint's cases on it in a sandbox (with the published reference standing in for
# the earlier modules), on inputs drawn for your submission, and compares the values with the
# reference's outside your notebook. Passing here is a good sign; the comparison is what counts.

# %% nbgrader={"grade": true, "grade_id": "losses-checkpoint", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_checkpoint_losses():
    """Can I measure how wrong a prediction is?"""
    mse = MeanSquaredError()(Tensor([[1.0, 2.0], [3.0, 4.0]]), Tensor([[1.0, 0.0], [3.0, 6.0]]))
    np.testing.assert_allclose(mse.data, 2.0)
    logits = Tensor(np.array([[2.0, 0.0, -2.0], [1000.0, -1000.0, 0.0]]))
    loss = CrossEntropyLoss()(logits, Tensor(np.array([0, 1])))
    row = np.array([2.0, 0.0, -2.0])
    first = -(row[0] - np.log(np.exp(row).sum()))
    np.testing.assert_allclose(loss.data, (first + 2000.0) / 2)
    bce = BinaryCrossEntropy()(Tensor([0.5, 0.5]), Tensor([1.0, 0.0]))
    np.testing.assert_allclose(bce.data, np.log(2.0), rtol=1e-6)


test_checkpoint_losses()


# %% [markdown]
# ## Check your work
#
# Save the notebook (Ctrl+S), then run the cell below. It runs the same check as
# `tito check 04_losses` in a terminal: your saved notebook, top to bottom in a fresh kernel that
# sees only the earlier modules (as grading does), then the module's checkpoint on the code of
# your export cells. It lists which visible tests pass, the first failure of the others and what
# to try next. At grading, each test cell's points also need the grader's own cases for it (some
# of them hidden) to agree with the reference. When tito or nbgrader runs this notebook, the
# cell only says it was skipped.

# %%
from tito.student import check_module

check_module("04_losses")
