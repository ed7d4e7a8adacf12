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
# # Module 09: Attention, the transformer from its parts
#
# An MLP looks at one example at a time, as one flat vector. Text, code, music and DNA are
# *sequences*: what a token means depends on the others around it, near or far. Attention lets
# every position of a sequence gather information from every other position, with weights it
# computes from the data itself. Stacked with small MLPs and normalisation, it is the
# transformer, the architecture behind today's language models. This module builds one from the
# framework you wrote, and trains it to reverse sequences of digits.
#
# ## Learning goals
# - Turn token ids into vectors (`Embedding`) and tell the model where each token sits
#   (sinusoidal positions).
# - Normalise each token's features (`LayerNorm`) and explain why transformers need it.
# - Write scaled dot-product attention with a boolean mask, and the causal mask that hides the
#   future.
# - Split attention into heads (`MultiHeadAttention`) and assemble a pre-norm `TransformerBlock`.
# - Train a tiny transformer to reverse digit sequences, and measure what attention costs.
#
# ## Build, use, analyse
# 1. **Build**: `Embedding`, `sinusoidal_positions`, `LayerNorm`, `causal_mask`,
#    `scaled_dot_product_attention`, `MultiHeadAttention`, `TransformerBlock`.
# 2. **Use**: a `TransformerModel` (given) learns to reverse sequences of digits.
# 3. **Analyse**: where a trained model attends, and how the cost of attention grows with the
#    sequence length.
#
# ## Where the code goes
# Your `#| export` cells become `tinytorch/core/attention.py`:
#
# ```python
# from tinytorch.core.attention import MultiHeadAttention, TransformerBlock, scaled_dot_product_attention
# ```
#
# Everything here is a composition of operations you already differentiate (matrix products,
# sums, `exp`, `reshape`, `transpose`, indexing): module 05's engine computes every gradient of
# this module with no new rule.

# %% nbgrader={"grade": false, "grade_id": "attention-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.attention
#| export
import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor
from tinytorch.core.activations import relu, softmax
from tinytorch.core.layers import Dense, Module

# %% [markdown]
# ## Step 1: `Embedding`, from token ids to vectors
#
# A sequence of digits arrives as integers, `[3, 1, 4, 1, 5]`. Feeding the integers themselves
# to a layer would tell it that 4 is "more" than 3, which means nothing for symbols. Instead each
# of the `num_embeddings` possible tokens owns a row of a learned table `weight`, of shape
# `(num_embeddings, embedding_dim)`, and a token is replaced by its row: a lookup, `weight[ids]`.
#
# An index array of shape `(batch, length)` gives vectors of shape `(batch, length,
# embedding_dim)`. The lookup is module 01's indexing, so module 05 already differentiates it:
# each row's gradient is the sum of the gradients of every place it was used (`np.add.at`).
# Rows are initialised from a standard normal distribution, as PyTorch's `nn.Embedding` does,
# and the layout is PyTorch's too (one row per token).
#
# Ids arrive as numpy integers, Python lists or Tensors (which store float32), so the lookup
# accepts whole numbers of any dtype and refuses the rest with a clear message: an id of 2.5, or
# one outside `0 .. num_embeddings - 1`, is a bug in the data, and numpy would otherwise either
# truncate it or, for -1, silently pick the last row.

# %% nbgrader={"grade": false, "grade_id": "attention-embedding", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Embedding(Module):
    """A learned vector per token id: `Embedding(10, 4)(ids)` replaces each id by a row of `weight`."""

    def __init__(self, num_embeddings: int, embedding_dim: int, rng=None):
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        normal = np.random.standard_normal if rng is None else rng.standard_normal
        self.weight = Tensor(normal((num_embeddings, embedding_dim)).astype(np.float32), requires_grad=True)

    def forward(self, ids) -> Tensor:
        """The rows of `weight` picked by `ids`: shape `ids.shape + (embedding_dim,)`.

        TODO:
        1. Get the ids as a numpy array: `ids.data` for a Tensor, `np.asarray(ids)` otherwise.
        2. If any id is not a whole number, raise
           `TypeError(f"Embedding ids must be whole numbers, got {value}")` naming the first one.
        3. Convert them to integers (`astype(np.intp)`). If any lies outside
           0 .. num_embeddings - 1, raise
           `IndexError(f"Embedding id {value} is out of range for {self.num_embeddings} embeddings")`
           naming the first one.
        4. Return `self.weight` indexed by the integer array (Tensor indexing records the graph).

        Example: with weight [[0, 0], [1, 1], [2, 2]], ids [[2, 0]] give [[[2, 2], [0, 0]]].
        """
        ### BEGIN SOLUTION
        values = np.asarray(ids.data if isinstance(ids, Tensor) else ids)
        fractional = values != np.floor(values)
        if np.any(fractional):
            raise TypeError(f"Embedding ids must be whole numbers, got {values[fractional][0]}")
        ids = values.astype(np.intp)
        outside = (ids < 0) | (ids >= self.num_embeddings)
        if np.any(outside):
            raise IndexError(f"Embedding id {ids[outside][0]} is out of range for "
                             f"{self.num_embeddings} embeddings")
        return self.weight[ids]
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"


# %%
table = Embedding(5, 3, rng=np.random.default_rng(0))
vectors = table(np.array([[4, 0, 4]]))
print(vectors.shape)                       # (1, 3, 3)
print(np.array_equal(vectors.data[0, 0], vectors.data[0, 2]))  # the same token, the same row

# %% nbgrader={"grade": true, "grade_id": "attention-embedding-test", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_embedding():
    table = Embedding(4, 2, rng=np.random.default_rng(0))
    vectors = table([[3, 1, 3]])
    assert isinstance(vectors, Tensor), f"Embedding must return a Tensor, got {type(vectors)}"
    assert vectors.shape == (1, 3, 2), f"ids of shape (1, 3) give vectors of shape (1, 3, 2), got {vectors.shape}"
    np.testing.assert_array_equal(vectors.data[0], table.weight.data[[3, 1, 3]])
    assert vectors.dtype == np.float32
    # Tensors hold float32: whole numbers are fine ids
    np.testing.assert_array_equal(table(Tensor([2.0])).data, table.weight.data[[2]])
    # the gradient of a row is the sum over the places it was used
    vectors.sum().backward()
    np.testing.assert_array_equal(table.weight.grad.data, [[0, 0], [1, 1], [0, 0], [2, 2]])
    for bad, error, message in (([1.5], TypeError, "Embedding ids must be whole numbers, got 1.5"),
                                ([4], IndexError, "Embedding id 4 is out of range for 4 embeddings"),
                                ([-1], IndexError, "Embedding id -1 is out of range for 4 embeddings")):
        try:
            table(bad)
        except error as caught:
            assert str(caught) == message, f"expected the message {message!r}, got {str(caught)!r}"
        else:
            raise AssertionError(f"ids {bad} must raise {error.__name__}")


test_embedding()

# %% [markdown]
# ## Step 2: positions, the sinusoidal encoding
#
# Attention (Step 4) compares every token with every other one and sums what it finds: shuffle
# the input and the output is shuffled the same way. On its own it cannot tell "3 1" from "1 3".
# So each position gets a vector of its own, added to the token's embedding.
#
# We use the fixed sinusoidal encoding of the original transformer paper rather than a learned
# table of positions. Why: it has no parameters (nothing for a small dataset to overfit or
# leave untrained at positions it rarely sees), the same formula gives every position up to any
# length, and its values are exact, so your table is checked number for number. For position
# $p$ and feature pair $i$ (features $2i$ and $2i + 1$) of a width $d$:
#
# $$PE[p, 2i] = \sin\left(p / 10000^{2i/d}\right), \qquad PE[p, 2i+1] = \cos\left(p / 10000^{2i/d}\right).$$
#
# Each pair is a clock hand turning at its own speed, from once every $2\pi$ positions (the
# first pair) to almost never (the last): together they give every position a distinct
# pattern, and a fixed offset $k$ is the same rotation at every position, which attention can
# learn to look for. `PositionalEncoding` (given) adds the first `length` rows to its input.

# %% nbgrader={"grade": false, "grade_id": "attention-positions", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def sinusoidal_positions(length: int, dim: int) -> Tensor:
    """The (length, dim) float32 table of sinusoidal position vectors (a constant Tensor).

    TODO:
    1. If `dim` is odd, raise `ValueError(f"the width of sinusoidal positions must be even, got {dim}")`.
    2. The angles: positions 0 .. length-1 as a column, divided by 10000 ** (2i / dim) for
       i = 0 .. dim/2 - 1 as a row (compute in float64; `np.arange`, broadcasting).
    3. Fill a (length, dim) array: the sines of the angles in the even columns (`0::2`), the
       cosines in the odd ones (`1::2`). Return it as a float32 Tensor.

    Example: sinusoidal_positions(2, 2) holds [[0, 1], [sin(1), cos(1)]] = [[0, 1], [0.841, 0.540]].
    """
    ### BEGIN SOLUTION
    if dim % 2:
        raise ValueError(f"the width of sinusoidal positions must be even, got {dim}")
    frequencies = 1.0 / 10000.0 ** (np.arange(0, dim, 2) / dim)
    angles = np.arange(length)[:, None] * frequencies[None, :]
    table = np.empty((length, dim))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles)
    return Tensor(table.astype(np.float32))
    ### END SOLUTION


class PositionalEncoding(Module):
    """Adds the sinusoidal vector of each position to a batch of shape (..., length, embed_dim)."""

    def __init__(self, embed_dim: int, max_len: int = 512):
        self.max_len = max_len
        self.table = sinusoidal_positions(max_len, embed_dim)

    def forward(self, x) -> Tensor:
        x = as_tensor(x)
        length = x.shape[-2]
        if length > self.max_len:
            raise ValueError(f"sequence of length {length} is longer than max_len={self.max_len}")
        return x + self.table[:length]


# %%
positions = sinusoidal_positions(50, 16).data
print(positions[:3, :4].round(3))
similarity = positions @ positions.T
print("position 10 is most similar to itself:", similarity[10].argmax() == 10)

# %% nbgrader={"grade": true, "grade_id": "attention-positions-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_sinusoidal_positions():
    table = sinusoidal_positions(3, 4)
    assert isinstance(table, Tensor), f"sinusoidal_positions must return a Tensor, got {type(table)}"
    assert table.shape == (3, 4) and table.dtype == np.float32, f"got shape {table.shape}, dtype {table.dtype}"
    expected = [[0.0, 1.0, 0.0, 1.0],
                [np.sin(1.0), np.cos(1.0), np.sin(0.01), np.cos(0.01)],
                [np.sin(2.0), np.cos(2.0), np.sin(0.02), np.cos(0.02)]]
    np.testing.assert_allclose(table.data, expected, rtol=1e-6, atol=1e-7)
    assert not table.requires_grad, "the positions are a constant: nothing learns them"
    try:
        sinusoidal_positions(3, 5)
    except ValueError as caught:
        assert str(caught) == "the width of sinusoidal positions must be even, got 5"
    else:
        raise AssertionError("an odd width must raise ValueError")


test_sinusoidal_positions()

# %% [markdown]
# ## Step 3: `LayerNorm`, one token at a time
#
# A deep stack of layers works best when the numbers flowing through it stay near mean 0 and
# variance 1: then no layer's activations explode or vanish, and one learning rate suits every
# layer. Layer normalisation rescales each token's feature vector on its own:
#
# $$y = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} \cdot \gamma + \beta,$$
#
# where $\mu$ and $\sigma^2$ are the mean and the (biased, divide by $n$) variance over the last
# dimensions, `normalized_shape`, and $\gamma$ (`weight`, ones at first) and $\beta$ (`bias`,
# zeros) give the layer back the freedom to choose any scale and shift. $\epsilon = 10^{-5}$
# keeps a constant vector (variance 0) from dividing by zero. Unlike batch normalisation nothing
# is averaged across the batch, so it behaves the same in training and in use, and for sequences
# of any length. The names and defaults are PyTorch's `nn.LayerNorm(normalized_shape, eps=1e-5)`.
#
# Written with Tensor operations (mean, subtraction, multiplication, `sqrt`, division), it needs
# no gradient rule of its own.

# %% nbgrader={"grade": false, "grade_id": "attention-layernorm", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class LayerNorm(Module):
    """Normalises the last dimensions (`normalized_shape`) of each example to mean 0, variance 1."""

    def __init__(self, normalized_shape, eps: float = 1e-5):
        self.normalized_shape = (normalized_shape,) if np.ndim(normalized_shape) == 0 else tuple(normalized_shape)
        self.eps = eps
        self.weight = Tensor(np.ones(self.normalized_shape, dtype=np.float32), requires_grad=True)
        self.bias = Tensor(np.zeros(self.normalized_shape, dtype=np.float32), requires_grad=True)

    def forward(self, x) -> Tensor:
        """(x - mean) / sqrt(variance + eps) * weight + bias, over the last dimensions.

        TODO:
        1. Make `x` a Tensor. If its last dimensions are not `self.normalized_shape`, raise
           `ValueError(f"LayerNorm{self.normalized_shape} got an input of shape {x.shape}")`.
        2. The axes: the last len(normalized_shape) ones, as a tuple of negative numbers.
        3. With Tensor operations (keepdims=True, so the statistics broadcast): subtract the
           mean; the variance is the mean of the squared differences (divide by n, not n - 1);
           divide by the square root of variance + eps; multiply by `self.weight`, add
           `self.bias`.

        Example: LayerNorm(2)([[1, 3]]) holds about [[-1, 1]] (mean 2, variance 1).
        """
        ### BEGIN SOLUTION
        x = as_tensor(x)
        if x.shape[x.ndim - len(self.normalized_shape):] != self.normalized_shape:
            raise ValueError(f"LayerNorm{self.normalized_shape} got an input of shape {x.shape}")
        axes = tuple(range(-len(self.normalized_shape), 0))
        centred = x - x.mean(axis=axes, keepdims=True)
        variance = (centred * centred).mean(axis=axes, keepdims=True)
        return centred / (variance + self.eps).sqrt() * self.weight + self.bias
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"LayerNorm({self.normalized_shape}, eps={self.eps})"


# %%
norm = LayerNorm(4)
out = norm(Tensor([[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 10.0, 10.0]]))
print(out.data.round(4))   # the constant row stays finite: eps keeps it from dividing by zero

# %% nbgrader={"grade": true, "grade_id": "attention-layernorm-test", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_layernorm():
    norm = LayerNorm(2)
    out = norm(Tensor([[1.0, 3.0], [5.0, 5.0]]))
    assert isinstance(out, Tensor) and out.shape == (2, 2), f"got {type(out)} of shape {getattr(out, 'shape', None)}"
    scale = 1 / np.sqrt(1 + 1e-5)
    np.testing.assert_allclose(out.data, [[-scale, scale], [0.0, 0.0]], rtol=1e-6, atol=1e-7)
    assert norm.weight.shape == (2,) and norm.bias.shape == (2,)
    # weight and bias scale and shift every normalised value
    norm.weight = Tensor(np.array([2.0, 2.0], dtype=np.float32), requires_grad=True)
    norm.bias = Tensor(np.array([0.5, -0.5], dtype=np.float32), requires_grad=True)
    np.testing.assert_allclose(norm(Tensor([[1.0, 3.0]])).data, [[0.5 - 2 * scale, -0.5 + 2 * scale]], rtol=1e-6)
    # two normalised dimensions: the statistics cover both
    wide = LayerNorm((2, 2))(Tensor(np.arange(8.0).reshape(2, 2, 2)))
    np.testing.assert_allclose(wide.data.mean(axis=(1, 2)), [0.0, 0.0], atol=1e-6)
    try:
        LayerNorm(3)(Tensor(np.ones((2, 4))))
    except ValueError as caught:
        assert str(caught) == "LayerNorm(3,) got an input of shape (2, 4)", str(caught)
    else:
        raise AssertionError("a last dimension of 4 must not pass a LayerNorm(3)")


test_layernorm()

# %% [markdown]
# ## Step 4: scaled dot-product attention
#
# Each position asks a question (its *query* vector $q$), every position advertises what it
# holds (its *key* $k$) and what it will hand over (its *value* $v$). How well query $i$
# matches key $j$ is the dot product $q_i \cdot k_j$; a softmax over $j$ turns the scores of
# row $i$ into weights that add up to 1, and the output of position $i$ is the weighted average
# of the values:
#
# $$\text{Attention}(Q, K, V) = \text{softmax}\left(\frac{Q K^\top}{\sqrt{d}}\right) V.$$
#
# Why divide by $\sqrt{d}$: the dot product of two random vectors of width $d$ with unit
# variance entries has variance $d$. Unscaled, wide vectors give huge scores, the softmax
# saturates to a single 1, and its gradient vanishes. The scale brings the variance back to 1.
#
# Shapes: `query` is `(..., Lq, d)`, `key` `(..., Lk, d)`, `value` `(..., Lk, dv)`; the leading
# dimensions (batch, heads) broadcast, so one batched matrix product serves every head of every
# example. The result is `(..., Lq, dv)`.
#
# ### Masks: where attention is allowed
# A `mask` is a boolean array that broadcasts against the scores `(..., Lq, Lk)`: **True where
# query i may attend to key j**. It is the convention of PyTorch's
# `F.scaled_dot_product_attention`. (Careful: `nn.MultiheadAttention`'s `attn_mask` means the
# opposite, True is blocked.) A blocked score becomes $-\infty$ before the softmax, so its
# weight is exactly 0. Adding a constant array, 0 where allowed and $-\infty$ elsewhere, does
# it with operations the engine knows. A query that may attend to nothing would divide 0 by 0,
# so that mask is an error.
#
# The *causal* mask lets position i see positions 0 .. i only: the lower triangle, `np.tril`. A
# model that predicts the next token must not peek at it.

# %% nbgrader={"grade": false, "grade_id": "attention-causal-mask", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def causal_mask(length: int) -> np.ndarray:
    """The (length, length) boolean mask that lets position i attend to positions 0 .. i.

    TODO: return the lower triangle (diagonal included) of a square of True, as a bool array
    (`np.tril`, `np.ones` with dtype=bool).

    Example: causal_mask(3) is [[T, F, F], [T, T, F], [T, T, T]].
    """
    ### BEGIN SOLUTION
    return np.tril(np.ones((length, length), dtype=bool))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "attention-causal-mask-test", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
def test_causal_mask():
    mask = causal_mask(3)
    assert isinstance(mask, np.ndarray) and mask.dtype == bool, f"expected a bool ndarray, got {type(mask)}"
    np.testing.assert_array_equal(mask, [[True, False, False], [True, True, False], [True, True, True]])
    assert causal_mask(1).tolist() == [[True]]


test_causal_mask()

# %% nbgrader={"grade": false, "grade_id": "attention-sdpa", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def _swap_last_axes(x: Tensor) -> Tensor:
    """x with its last two axes exchanged (K -> K^T for every batch and head)."""
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return x.transpose(axes)


def _blocked_scores(mask, dtype) -> Tensor:
    """The constant added to the scores: 0 where the mask allows attention, -inf where it blocks."""
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"mask must be a boolean array (True where attention is allowed), got {mask.dtype}")
    if not mask.any(axis=-1).all():
        raise ValueError("mask lets some query attend to no key: every row needs at least one True")
    return Tensor(np.where(mask, 0.0, -np.inf).astype(dtype))


def scaled_dot_product_attention(query, key, value, mask=None) -> Tensor:
    """softmax(query @ key^T / sqrt(d) [+ mask]) @ value, for any leading (batch, head) dimensions.

    TODO:
    1. Make the three inputs Tensors. d is the last dimension of `query`.
    2. The scores: query times key with its last two axes swapped (`_swap_last_axes`), times
       1 / sqrt(d) (a Python float keeps the dtype).
    3. If a mask is given, add `_blocked_scores(mask, scores.dtype)` to the scores (it checks the
       mask and holds -inf where attention is blocked).
    4. Softmax along the last axis (module 02's `softmax`), times `value`.

    Example: one query [[1, 0]] and keys [[1, 0], [0, 1]] score 1/sqrt(2) and 0, so the weights
    are about [0.67, 0.33]; with values [[10], [0]] the output is about [[6.7]].
    """
    ### BEGIN SOLUTION
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    scores = (query @ _swap_last_axes(key)) * (1.0 / np.sqrt(query.shape[-1]))
    if mask is not None:
        scores = scores + _blocked_scores(mask, scores.dtype)
    return softmax(scores, axis=-1) @ value
    ### END SOLUTION


# %%
q = Tensor([[1.0, 0.0]])
k = Tensor([[1.0, 0.0], [0.0, 1.0]])
v = Tensor([[10.0], [0.0]])
print(scaled_dot_product_attention(q, k, v).data)                    # about 6.7
print(scaled_dot_product_attention(q, k, v, mask=np.array([[False, True]])).data)  # only key 1: 0

# %% nbgrader={"grade": true, "grade_id": "attention-sdpa-test", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_scaled_dot_product_attention():
    query = Tensor([[1.0, 0.0]])
    key = Tensor([[1.0, 0.0], [0.0, 1.0]])
    value = Tensor([[10.0], [0.0]])
    out = scaled_dot_product_attention(query, key, value)
    assert isinstance(out, Tensor) and out.shape == (1, 1), f"expected a (1, 1) Tensor, got {getattr(out, 'shape', out)}"
    weight = 1 / (1 + np.exp(-1 / np.sqrt(2)))  # softmax of [1/sqrt(2), 0], first entry
    np.testing.assert_allclose(out.data, [[10 * weight]], rtol=1e-6)
    # a mask that allows only the second key
    masked = scaled_dot_product_attention(query, key, value, mask=np.array([[False, True]]))
    np.testing.assert_allclose(masked.data, [[0.0]], atol=1e-7)
    # batches and heads broadcast; a causal mask (lower triangle) keeps position 0 to itself
    rng = np.random.default_rng(0)
    q, k, v = (Tensor(rng.standard_normal((2, 3, 4, 5))) for _ in range(3))
    out = scaled_dot_product_attention(q, k, v, mask=np.tril(np.ones((4, 4), dtype=bool)))
    assert out.shape == (2, 3, 4, 5), f"got shape {out.shape}"
    np.testing.assert_allclose(out.data[:, :, 0], v.data[:, :, 0], rtol=1e-12)
    # gradients reach all three inputs
    q, k, v = (Tensor(rng.standard_normal((3, 2)), requires_grad=True) for _ in range(3))
    scaled_dot_product_attention(q, k, v).sum().backward()
    assert q.grad is not None and k.grad is not None and v.grad is not None
    # d(sum of outputs)/d(value row j) is the total weight on key j; each query's weights add up to 1
    np.testing.assert_allclose(v.grad.data.sum(axis=0), [3.0, 3.0], rtol=1e-12)
    try:
        scaled_dot_product_attention(q, k, v, mask=np.ones((3, 3)))
    except TypeError as caught:
        assert str(caught) == "mask must be a boolean array (True where attention is allowed), got float64"
    else:
        raise AssertionError("a float mask must raise TypeError")


test_scaled_dot_product_attention()

# %% [markdown]
# ## Step 5: `MultiHeadAttention`, several questions at once
#
# One attention asks one kind of question per position. Multi-head attention projects the
# input into `num_heads` smaller queries, keys and values (each of width `embed_dim /
# num_heads`), lets each head attend on its own, then concatenates the heads and mixes them with
# one more projection:
#
# 1. `q_proj`, `k_proj`, `v_proj` (`Dense(embed_dim, embed_dim)`) make Q, K, V of shape
#    `(batch, length, embed_dim)`;
# 2. split the last dimension into heads: reshape to `(batch, length, heads, head_dim)`, then
#    move the heads forward, `(batch, heads, length, head_dim)`;
# 3. `scaled_dot_product_attention` on that, all heads in one batched product;
# 4. merge back: `(batch, length, heads, head_dim)`, then `(batch, length, embed_dim)`;
# 5. `out_proj`.
#
# The names are PyTorch's (`embed_dim`, `num_heads`, `out_proj`); PyTorch packs the three input
# projections into one `in_proj_weight`, and we keep them apart, which reads better and is as fast.
# `key` and `value` default to `query`: self-attention, where a sequence attends to itself.
# `mask` follows Step 4's convention (True = allowed), for every head alike.

# %% nbgrader={"grade": false, "grade_id": "attention-mha", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class MultiHeadAttention(Module):
    """`num_heads` attentions side by side, on projections of width embed_dim / num_heads."""

    def __init__(self, embed_dim: int, num_heads: int, rng=None):
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim={embed_dim} is not divisible by num_heads={num_heads}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.q_proj = Dense(embed_dim, embed_dim, rng=rng)
        self.k_proj = Dense(embed_dim, embed_dim, rng=rng)
        self.v_proj = Dense(embed_dim, embed_dim, rng=rng)
        self.out_proj = Dense(embed_dim, embed_dim, rng=rng)

    def split_heads(self, x: Tensor) -> Tensor:
        """(batch, length, embed_dim) -> (batch, num_heads, length, head_dim).

        TODO: reshape to (batch, length, num_heads, head_dim), then transpose the axes
        (0, 2, 1, 3). Example: with 2 heads, the features [a, b, c, d] of a token become
        [a, b] in head 0 and [c, d] in head 1.
        """
        ### BEGIN SOLUTION
        batch, length, _ = x.shape
        return x.reshape(batch, length, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)
        ### END SOLUTION

    def merge_heads(self, x: Tensor) -> Tensor:
        """(batch, num_heads, length, head_dim) -> (batch, length, embed_dim): undoes `split_heads`.

        TODO: transpose the axes (0, 2, 1, 3), then reshape to (batch, length, embed_dim).
        """
        ### BEGIN SOLUTION
        batch, _, length, _ = x.shape
        return x.transpose(0, 2, 1, 3).reshape(batch, length, self.embed_dim)
        ### END SOLUTION

    def forward(self, query, key=None, value=None, mask=None) -> Tensor:
        """Multi-head attention of `query` (batch, Lq, embed_dim) over `key` and `value` (batch, Lk, embed_dim).

        TODO:
        1. Make `query` a Tensor; `key` defaults to `query` and `value` to `key`.
        2. If `query` is not 3-D with last dimension embed_dim, raise
           `ValueError(f"MultiHeadAttention({self.embed_dim}, {self.num_heads}) expects (batch, length, {self.embed_dim}), got {query.shape}")`.
        3. Project with q_proj, k_proj, v_proj and `split_heads` each.
        4. `scaled_dot_product_attention` of the three, with `mask`.
        5. `merge_heads`, then `out_proj`.
        """
        ### BEGIN SOLUTION
        query = as_tensor(query)
        key = query if key is None else as_tensor(key)
        value = key if value is None else as_tensor(value)
        if query.ndim != 3 or query.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiHeadAttention({self.embed_dim}, {self.num_heads}) expects "
                             f"(batch, length, {self.embed_dim}), got {query.shape}")
        heads = scaled_dot_product_attention(self.split_heads(self.q_proj(query)),
                                             self.split_heads(self.k_proj(key)),
                                             self.split_heads(self.v_proj(value)), mask)
        return self.out_proj(self.merge_heads(heads))
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"MultiHeadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"


# %%
attention = MultiHeadAttention(8, 2, rng=np.random.default_rng(0))
x = Tensor(np.random.default_rng(1).standard_normal((2, 5, 8)))
print(attention(x, mask=causal_mask(5)).shape)   # (2, 5, 8)

# %% nbgrader={"grade": true, "grade_id": "attention-mha-test", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_multi_head_attention():
    rng = np.random.default_rng(0)
    attention = MultiHeadAttention(4, 2, rng=rng)
    x = Tensor(rng.standard_normal((1, 3, 4)))
    heads = attention.split_heads(x)
    assert heads.shape == (1, 2, 3, 2), f"split_heads: expected (1, 2, 3, 2), got {heads.shape}"
    np.testing.assert_array_equal(heads.data[0, 1, 2], x.data[0, 2, 2:])
    np.testing.assert_array_equal(attention.merge_heads(heads).data, x.data)
    out = attention(x)
    assert isinstance(out, Tensor) and out.shape == (1, 3, 4), f"got {getattr(out, 'shape', out)}"
    # by hand: head h attends with its own slice of the projections
    project = lambda layer: x.data[0] @ layer.weights.data + layer.bias.data
    q, k, v = project(attention.q_proj), project(attention.k_proj), project(attention.v_proj)
    merged = []
    for h in (slice(0, 2), slice(2, 4)):
        scores = q[:, h] @ k[:, h].T / np.sqrt(2)
        weights = np.exp(scores - scores.max(axis=1, keepdims=True))
        merged.append(weights / weights.sum(axis=1, keepdims=True) @ v[:, h])
    expected = np.concatenate(merged, axis=1) @ attention.out_proj.weights.data + attention.out_proj.bias.data
    np.testing.assert_allclose(out.data[0], expected, rtol=1e-5, atol=1e-6)
    # with a causal mask the first position sees only itself, whatever follows it
    causal = np.tril(np.ones((3, 3), dtype=bool))
    changed = Tensor(np.concatenate([x.data[:, :1], rng.standard_normal((1, 2, 4))], axis=1))
    np.testing.assert_allclose(attention(changed, mask=causal).data[0, 0],
                               attention(x, mask=causal).data[0, 0], rtol=1e-6)
    try:
        attention(Tensor(np.ones((3, 4))))
    except ValueError as caught:
        assert str(caught) == "MultiHeadAttention(4, 2) expects (batch, length, 4), got (3, 4)", str(caught)
    else:
        raise AssertionError("a 2-D input must raise ValueError")


test_multi_head_attention()

# %% [markdown]
# ## Step 6: the `TransformerBlock`
#
# A transformer block alternates two sub-layers, each wrapped in a residual connection: attention
# (tokens exchange information) and a small MLP applied to every token on its own (each token
# thinks about what it gathered), `Dense(embed_dim, hidden_dim)`, ReLU, `Dense(hidden_dim,
# embed_dim)`, with `hidden_dim = 4 * embed_dim` by default.
#
# Where the normalisation goes is a choice. The original transformer normalised *after* each
# residual sum (post-norm). We normalise *before* each sub-layer, **pre-norm**, as GPT-2 and most
# models since do:
#
# $$x \leftarrow x + \text{MHA}(\text{LN}_1(x)), \qquad x \leftarrow x + \text{MLP}(\text{LN}_2(x)).$$
#
# Why: the residual path from input to output is then a plain sum that no normalisation rescales,
# so gradients reach the first block intact however deep the stack, and training is stable
# without the learning-rate warm-up post-norm needs. PyTorch builds the same block as
# `nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0, norm_first=True)`;
# we keep its attribute names (`self_attn`, `linear1`, `linear2`, `norm1`, `norm2`), and leave
# dropout out (our models are tiny, and grading needs every run to be repeatable).

# %% nbgrader={"grade": false, "grade_id": "attention-block", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class TransformerBlock(Module):
    """A pre-norm transformer block: x + attention(norm1(x)), then + mlp(norm2(x))."""

    def __init__(self, embed_dim: int, num_heads: int, hidden_dim: int = None, rng=None):
        hidden_dim = 4 * embed_dim if hidden_dim is None else hidden_dim
        self.norm1 = LayerNorm(embed_dim)
        self.self_attn = MultiHeadAttention(embed_dim, num_heads, rng=rng)
        self.norm2 = LayerNorm(embed_dim)
        self.linear1 = Dense(embed_dim, hidden_dim, rng=rng)
        self.linear2 = Dense(hidden_dim, embed_dim, rng=rng)

    def forward(self, x, mask=None) -> Tensor:
        """One pre-norm block on x of shape (batch, length, embed_dim); the shape is kept.

        TODO:
        1. Make `x` a Tensor.
        2. Attention sub-layer: add to x the self-attention (`self.self_attn`, with `mask`) of
           `self.norm1(x)`.
        3. MLP sub-layer: add to the result `linear2(relu(linear1(norm2(result))))`.
        Normalise only the input of each sub-layer, never the residual sum itself.
        """
        ### BEGIN SOLUTION
        x = as_tensor(x)
        x = x + self.self_attn(self.norm1(x), mask=mask)
        return x + self.linear2(relu(self.linear1(self.norm2(x))))
        ### END SOLUTION

    def __repr__(self) -> str:
        return (f"TransformerBlock(embed_dim={self.linear1.input_size}, "
                f"num_heads={self.self_attn.num_heads}, hidden_dim={self.linear1.output_size})")


# %%
block = TransformerBlock(8, 2, rng=np.random.default_rng(0))
print(block, len(block.parameters()), "parameter tensors")

# %% nbgrader={"grade": true, "grade_id": "attention-block-test", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_transformer_block():
    rng = np.random.default_rng(0)
    block = TransformerBlock(4, 2, hidden_dim=6, rng=rng)
    x = Tensor(rng.standard_normal((2, 3, 4)))
    out = block(x)
    assert isinstance(out, Tensor) and out.shape == (2, 3, 4), f"got {getattr(out, 'shape', out)}"
    # the same computation, sub-layer by sub-layer
    middle = x + block.self_attn(block.norm1(x))
    expected = middle + block.linear2(relu(block.linear1(block.norm2(middle))))
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-6, atol=1e-7)
    # causal: the first position does not depend on the others
    causal = np.tril(np.ones((3, 3), dtype=bool))
    changed = Tensor(np.concatenate([x.data[:, :1], rng.standard_normal((2, 2, 4))], axis=1))
    np.testing.assert_allclose(block(changed, mask=causal).data[:, 0],
                               block(x, mask=causal).data[:, 0], rtol=1e-6)
    # every parameter gets a gradient
    block(x).sum().backward()
    assert all(p.grad is not None for p in block.parameters()), "some parameter got no gradient"
    assert len(block.parameters()) == 16


test_transformer_block()

# %% [markdown]
# ## Use: a transformer that reverses sequences
#
# `TransformerModel` (given) stacks the parts: embed the tokens, add the positions, run
# `num_layers` blocks, normalise once more (pre-norm blocks leave their output unnormalised), and
# project every position to one score per token of the vocabulary. With `causal=True` every block
# gets the causal mask, for models that predict the next token; reversing needs to see the whole
# input, so we leave it off.
#
# The task: read 8 digits, write them backwards. Position i of the output must copy the token at
# position 7 - i: a pure routing problem that attention solves by looking *where* the answer is,
# which an MLP on one token at a time could never do. No data is downloaded: every batch is drawn
# fresh, and the loss is module 04's cross-entropy over every position.

# %% nbgrader={"grade": false, "grade_id": "attention-model", "locked": true, "schema_version": 3, "solution": false, "task": false}
#| export
class TransformerModel(Module):
    """Token ids (batch, length) -> scores (batch, length, vocab_size): embedding, positions,
    `num_layers` pre-norm blocks, a final LayerNorm and a linear head."""

    def __init__(self, vocab_size: int, embed_dim: int, num_heads: int, num_layers: int,
                 max_len: int = 512, hidden_dim: int = None, causal: bool = False, rng=None):
        self.embedding = Embedding(vocab_size, embed_dim, rng=rng)
        self.positions = PositionalEncoding(embed_dim, max_len)
        self.blocks = [TransformerBlock(embed_dim, num_heads, hidden_dim, rng=rng) for _ in range(num_layers)]
        self.norm = LayerNorm(embed_dim)
        self.head = Dense(embed_dim, vocab_size, rng=rng)
        self.causal = causal

    def forward(self, ids) -> Tensor:
        x = self.positions(self.embedding(ids))
        mask = causal_mask(x.shape[-2]) if self.causal else None
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.norm(x))


# %%
import time

from tinytorch.core.autograd import no_grad
from tinytorch.core.losses import cross_entropy
from tinytorch.core.optimizers import Adam

LENGTH, DIGITS = 8, 10
data_rng = np.random.default_rng(0)
model = TransformerModel(DIGITS, 32, 2, num_layers=1, rng=np.random.default_rng(0))
optimizer = Adam(model.parameters(), lr=0.01)
test_inputs = data_rng.integers(0, DIGITS, (500, LENGTH))
started = time.perf_counter()
for step in range(150):
    inputs = data_rng.integers(0, DIGITS, (64, LENGTH))
    targets = inputs[:, ::-1].reshape(-1)
    loss = cross_entropy(model(inputs).reshape(-1, DIGITS), Tensor(targets))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
with no_grad():
    predictions = model(test_inputs).data.argmax(axis=-1)
print(f"150 steps in {time.perf_counter() - started:.1f} s, final loss {loss.item():.4f}")
print(f"token accuracy on unseen sequences: {np.mean(predictions == test_inputs[:, ::-1]):.3f}")
print("input   ", test_inputs[0], "\noutput  ", predictions[0])

# %% [markdown]
# ## Analyse
#
# ### Where does the model look?
# The attention weights of the trained block show the mechanism: for output position i, the
# weight should sit on input position 7 - i, an anti-diagonal. We recompute them from the
# block's own projections for one sequence.

# %%
with no_grad():
    block = model.blocks[0]
    x = block.norm1(model.positions(model.embedding(test_inputs[:1])))
    attention = block.self_attn
    q, k = attention.split_heads(attention.q_proj(x)), attention.split_heads(attention.k_proj(x))
    weights = softmax(q @ k.transpose(0, 1, 3, 2) * (1 / np.sqrt(attention.head_dim)), axis=-1).data[0]
for head, head_weights in enumerate(weights):
    print(f"head {head}: most attended input position per output position:", head_weights.argmax(axis=-1))

# %% [markdown]
# ### What attention costs
# Every query meets every key: the scores of one head are a length x length matrix. Doubling the
# length doubles the cost of the projections and the MLP (per token work), but quadruples the
# scores and their softmax. At short lengths the projections dominate; past a length of a few
# times the width, the quadratic part does. Timed below for one block of width 32, forward and
# backward.

# %%
timing_block = TransformerBlock(32, 2, rng=np.random.default_rng(0))
timing_block(Tensor(np.zeros((4, 16, 32), dtype=np.float32)))  # a first call warms numpy up
for length in (16, 64, 256):
    x = Tensor(np.random.default_rng(0).standard_normal((4, length, 32)).astype(np.float32), requires_grad=True)
    started = time.perf_counter()
    timing_block(x, causal_mask(length)).sum().backward()
    print(f"length {length:4d}: {1000 * (time.perf_counter() - started):7.1f} ms, "
          f"{4 * 2 * length * length:9d} attention scores")

# %% [markdown]
# ## Summary
# - `Embedding` looks token ids up in a learned table; the sinusoidal positions tell attention
#   where each token is, with no parameters.
# - `LayerNorm` rescales every token's features to mean 0 and variance 1, then lets `weight` and
#   `bias` choose the scale.
# - Attention is `softmax(Q K^T / sqrt(d)) V`; a boolean mask (True = allowed) blocks scores with
#   -inf, and the causal mask is `np.tril`.
# - Multi-head attention splits the width into heads with a reshape and a transpose; a pre-norm
#   block adds attention and an MLP to a residual stream.
# - All of it is built from operations module 05 already differentiates: no new gradient rule.
#
# ## Checkpoint
# This module unlocks `source/09_attention/checkpoint_09_attention.py`, which asks:
# **"Can I build a transformer that learns to reverse a sequence?"** Run it with
#
# ```
# make checkpoints
# ```
#
# or on its own: `.venv/bin/python -m pytest source/09_attention/checkpoint_09_attention.py`.

# %% [markdown]
# ## Checkpoint cell (20 points)
#
# This last graded cell asks the checkpoint's question of your own code, in a few lines. When your
# notebook is graded, its 20 points are decided differently: the autograder exports your module,
# runs the checkpoint's cases on it in a sandbox (with the published reference standing in for
# the earlier modules), on inputs drawn for your submission, and compares the values with the
# reference's outside your notebook. Passing here is a good sign; the comparison is what counts.

# %% nbgrader={"grade": true, "grade_id": "attention-checkpoint", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_checkpoint_attention():
    """Can I build a transformer that learns to reverse a sequence?"""
    from tinytorch.core.losses import cross_entropy
    from tinytorch.core.optimizers import Adam

    rng = np.random.default_rng(0)
    model = TransformerModel(5, 16, 2, num_layers=1, rng=rng)
    optimizer = Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        inputs = rng.integers(0, 5, (32, 5))
        loss = cross_entropy(model(inputs).reshape(-1, 5), Tensor(inputs[:, ::-1].reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    test_inputs = rng.integers(0, 5, (200, 5))
    accuracy = np.mean(model(test_inputs).data.argmax(axis=-1) == test_inputs[:, ::-1])
    assert accuracy >= 0.9, f"after 150 steps the model reverses only {accuracy:.0%} of the tokens"


test_checkpoint_attention()

# %% [markdown]
# ## Check your work
#
# Save the notebook (Ctrl+S), then run the cell below. It runs the same check as
# `tito check 09_attention` in a terminal: your saved notebook, top to bottom in a fresh kernel that
# sees only the earlier modules (as grading does), then the module's checkpoint on the code of
# your export cells. It lists which visible tests pass, the first failure of the others and what
# to try next. At grading, each test cell's points also need the grader's own cases for it (some
# of them hidden) to agree with the reference. When tito or nbgrader runs this notebook, the
# cell only says it was skipped.

# %%
from tito.student import check_module

check_module("09_attention")
