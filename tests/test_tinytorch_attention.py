"""Module 09 (tinytorch.core.attention) against PyTorch and against central differences, in float64.

- Embedding, LayerNorm, scaled_dot_product_attention (no mask, causal, random boolean masks,
  cross-attention), MultiHeadAttention and the pre-norm TransformerBlock: forward values and
  every gradient agree with torch to 1e-10 (torch.nn.functional.embedding, nn.LayerNorm,
  F.scaled_dot_product_attention, nn.MultiheadAttention, nn.TransformerEncoderLayer with
  norm_first=True); oracle tests skip when torch is absent;
- the same layers' gradients against `check_gradients` (central differences, float64);
- the errors for bad input, word for word;
- a tiny transformer learns to reverse digit sequences to >= 99% token accuracy in under a
  minute on one core (slow; the training is `benchmarks.transformer.train_reversal`, which the
  benchmark times).

Our Dense stores weights as (in, out), torch's Linear as (out, in): the weights are transposed
when copied. Our masks are True where attention is allowed, as in F.scaled_dot_product_attention;
nn.MultiheadAttention and nn.TransformerEncoderLayer take the opposite (True = blocked), so they
get the negated mask.
"""

import numpy as np
import pytest

from benchmarks.transformer import train_reversal
from tinytorch.core.attention import (Embedding, LayerNorm, MultiHeadAttention, PositionalEncoding,
                                      TransformerBlock, causal_mask,
                                      scaled_dot_product_attention, sinusoidal_positions)
from tinytorch.core.autograd import check_gradients
from tinytorch.core.tensor import Tensor

RTOL = 1e-10


def float64(module):
    """The module with every parameter in float64 (gradient checks and oracle comparisons)."""
    for parameter in module.parameters():
        parameter.data = parameter.data.astype(np.float64)
    return module


def leaf(array) -> Tensor:
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True)


def random_mask(rng, lq, lk) -> np.ndarray:
    """A random boolean mask in which every query may attend to at least one key."""
    mask = rng.random((lq, lk)) < 0.5
    mask[np.arange(lq), rng.integers(0, lk, lq)] = True
    return mask


# ---------------------------------------------------------------------------------------------
# PyTorch as the oracle
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def assert_agree(ours, theirs, what=""):
    """Equal to 1e-10 relative to the size of the reference."""
    ours = np.asarray(ours.data if isinstance(ours, Tensor) else ours)
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    scale = max(float(np.max(np.abs(theirs), initial=0.0)), 1e-300)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def torch_leaf(torch, array):
    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def copy_dense(torch, ours, theirs):
    """Our Dense (weights (in, out)) into a torch Linear (weight (out, in))."""
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weights.data.T.copy()))
        theirs.bias.copy_(torch.from_numpy(ours.bias.data.copy()))


def copy_attention(torch, ours: MultiHeadAttention, theirs):
    """Our three projections into torch's packed in_proj_weight / in_proj_bias, and out_proj."""
    projections = (ours.q_proj, ours.k_proj, ours.v_proj)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.from_numpy(np.concatenate([p.weights.data.T for p in projections])))
        theirs.in_proj_bias.copy_(torch.from_numpy(np.concatenate([p.bias.data for p in projections])))
    copy_dense(torch, ours.out_proj, theirs.out_proj)


def assert_attention_gradients_agree(torch, ours: MultiHeadAttention, theirs):
    width = ours.embed_dim
    packed = theirs.in_proj_weight.grad.numpy()
    packed_bias = theirs.in_proj_bias.grad.numpy()
    for i, projection in enumerate((ours.q_proj, ours.k_proj, ours.v_proj)):
        assert_agree(projection.weights.grad, torch.from_numpy(packed[i * width:(i + 1) * width].T.copy()), f"proj {i}")
        if projection is not ours.k_proj:
            assert_agree(projection.bias.grad, torch.from_numpy(packed_bias[i * width:(i + 1) * width].copy()), f"bias {i}")
    # The key bias adds q . b to every score of a query's row, which the softmax ignores: its
    # gradient is exactly 0, and both libraries leave only rounding noise (~1e-16) there.
    np.testing.assert_allclose(ours.k_proj.bias.grad.data, 0.0, atol=1e-12)
    np.testing.assert_allclose(packed_bias[width:2 * width], 0.0, atol=1e-12)
    assert_agree(ours.out_proj.weights.grad, theirs.out_proj.weight.grad.T, "out_proj weight")
    assert_agree(ours.out_proj.bias.grad, theirs.out_proj.bias.grad, "out_proj bias")


@pytest.mark.oracle
def test_embedding_agrees_with_torch(torch):
    rng = np.random.default_rng(0)
    table = float64(Embedding(7, 3, rng=rng))
    ids = rng.integers(0, 7, (4, 5))
    weight = torch_leaf(torch, table.weight.data)
    ours, theirs = table(ids), torch.nn.functional.embedding(torch.from_numpy(ids), weight)
    assert_agree(ours, theirs, "forward")
    upstream = rng.standard_normal(ours.shape)
    ours.backward(upstream)
    theirs.backward(torch.from_numpy(upstream))
    assert_agree(table.weight.grad, weight.grad, "weight gradient")


@pytest.mark.oracle
@pytest.mark.parametrize("normalized_shape", [5, (3, 5)])
def test_layer_norm_agrees_with_torch(torch, normalized_shape):
    rng = np.random.default_rng(1)
    ours = LayerNorm(normalized_shape)
    theirs = torch.nn.LayerNorm(normalized_shape, dtype=torch.float64)
    assert theirs.eps == ours.eps == 1e-5
    ours.weight, ours.bias = leaf(rng.uniform(0.5, 2, ours.weight.shape)), leaf(rng.standard_normal(ours.bias.shape))
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
        theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    x = rng.standard_normal((2, 4, 3, 5)) * 4 + 2
    ours_x, theirs_x = leaf(x), torch_leaf(torch, x)
    out, reference = ours(ours_x), theirs(theirs_x)
    assert_agree(out, reference, "forward")
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    reference.backward(torch.from_numpy(upstream))
    assert_agree(ours_x.grad, theirs_x.grad, "input gradient")
    assert_agree(ours.weight.grad, theirs.weight.grad, "weight gradient")
    assert_agree(ours.bias.grad, theirs.bias.grad, "bias gradient")


@pytest.mark.oracle
@pytest.mark.parametrize("masking", ["none", "causal", "random", "cross"])
def test_scaled_dot_product_attention_agrees_with_torch(torch, masking):
    rng = np.random.default_rng(2)
    lq, lk = (3, 6) if masking == "cross" else (5, 5)
    q, k, v = rng.standard_normal((2, 3, lq, 4)), rng.standard_normal((2, 3, lk, 4)), rng.standard_normal((2, 3, lk, 6))
    mask = {"none": None, "causal": causal_mask(lq), "random": random_mask(rng, lq, lk),
            "cross": random_mask(rng, lq, lk)}[masking]
    ours = [leaf(a) for a in (q, k, v)]
    theirs = [torch_leaf(torch, a) for a in (q, k, v)]
    out = scaled_dot_product_attention(*ours, mask=mask)
    reference = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=None if mask is None else torch.from_numpy(mask))
    assert_agree(out, reference, "forward")
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    reference.backward(torch.from_numpy(upstream))
    for name, mine, its in zip(("query", "key", "value"), ours, theirs):
        assert_agree(mine.grad, its.grad, f"{name} gradient")


@pytest.mark.oracle
@pytest.mark.parametrize("masked", [False, True])
def test_multi_head_attention_agrees_with_torch(torch, masked):
    rng = np.random.default_rng(3)
    ours = float64(MultiHeadAttention(8, 2, rng=rng))
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True, dtype=torch.float64)
    copy_attention(torch, ours, theirs)
    query, memory = rng.standard_normal((3, 4, 8)), rng.standard_normal((3, 6, 8))
    mask = random_mask(rng, 4, 6) if masked else None
    ours_q, ours_m = leaf(query), leaf(memory)
    theirs_q, theirs_m = torch_leaf(torch, query), torch_leaf(torch, memory)
    out = ours(ours_q, ours_m, ours_m, mask)
    reference, _ = theirs(theirs_q, theirs_m, theirs_m, need_weights=False,
                          attn_mask=None if mask is None else torch.from_numpy(~mask))
    assert_agree(out, reference, "forward")
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    reference.backward(torch.from_numpy(upstream))
    assert_agree(ours_q.grad, theirs_q.grad, "query gradient")
    assert_agree(ours_m.grad, theirs_m.grad, "key/value gradient")
    assert_attention_gradients_agree(torch, ours, theirs)


@pytest.mark.oracle
def test_transformer_block_agrees_with_torchs_pre_norm_encoder_layer(torch):
    rng = np.random.default_rng(4)
    ours = float64(TransformerBlock(8, 2, hidden_dim=12, rng=rng))
    theirs = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.0, activation="relu",
                                              batch_first=True, norm_first=True, dtype=torch.float64)
    copy_attention(torch, ours.self_attn, theirs.self_attn)
    copy_dense(torch, ours.linear1, theirs.linear1)
    copy_dense(torch, ours.linear2, theirs.linear2)
    x = rng.standard_normal((3, 5, 8))
    ours_x, theirs_x = leaf(x), torch_leaf(torch, x)
    mask = causal_mask(5)
    out = ours(ours_x, mask)
    reference = theirs(theirs_x, src_mask=torch.from_numpy(~mask))
    assert_agree(out, reference, "forward")
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    reference.backward(torch.from_numpy(upstream))
    assert_agree(ours_x.grad, theirs_x.grad, "input gradient")
    assert_attention_gradients_agree(torch, ours.self_attn, theirs.self_attn)
    for name in ("linear1", "linear2"):
        assert_agree(getattr(ours, name).weights.grad, getattr(theirs, name).weight.grad.T, f"{name} weight")
        assert_agree(getattr(ours, name).bias.grad, getattr(theirs, name).bias.grad, f"{name} bias")
    for name in ("norm1", "norm2"):
        assert_agree(getattr(ours, name).weight.grad, getattr(theirs, name).weight.grad, f"{name} weight")
        assert_agree(getattr(ours, name).bias.grad, getattr(theirs, name).bias.grad, f"{name} bias")


# ---------------------------------------------------------------------------------------------
# Central differences (float64)
# ---------------------------------------------------------------------------------------------

def assert_gradient_checks(f, x):
    match, difference = check_gradients(f, x)
    assert match, f"autograd and central differences differ by {difference:.2e}"


def test_layer_norm_gradient_matches_central_differences():
    rng = np.random.default_rng(5)
    norm = LayerNorm(4)
    norm.weight, norm.bias = leaf(rng.uniform(0.5, 2, 4)), leaf(rng.standard_normal(4))
    weights = rng.standard_normal((3, 4))
    assert_gradient_checks(lambda x: (norm(x) * Tensor(weights)).sum(), rng.standard_normal((3, 4)))


@pytest.mark.parametrize("argument", [0, 1, 2])
def test_attention_gradients_match_central_differences(argument):
    rng = np.random.default_rng(6)
    inputs = [rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 3))]
    mask, weights = random_mask(rng, 3, 5), Tensor(rng.standard_normal((2, 3, 3)))

    def f(x):
        args = [Tensor(a) for a in inputs]
        args[argument] = x
        return (scaled_dot_product_attention(*args, mask=mask) * weights).sum()

    assert_gradient_checks(f, inputs[argument])


def test_block_gradients_match_central_differences():
    rng = np.random.default_rng(7)
    block = float64(TransformerBlock(4, 2, hidden_dim=6, rng=rng))
    weights = Tensor(rng.standard_normal((2, 3, 4)))
    assert_gradient_checks(lambda x: (block(x, causal_mask(3)) * weights).sum(), rng.standard_normal((2, 3, 4)))
    # and one parameter: the first layer norm's weight, through attention and the residual stream
    x = Tensor(rng.standard_normal((2, 3, 4)))

    def with_norm_weight(w):
        block.norm1.weight = w
        return (block(x, causal_mask(3)) * weights).sum()

    assert_gradient_checks(with_norm_weight, rng.uniform(0.5, 2, 4))


def test_embedding_gradient_matches_central_differences():
    rng = np.random.default_rng(8)
    ids, weights = rng.integers(0, 5, (3, 4)), Tensor(rng.standard_normal((3, 4, 2)))
    table = Embedding(5, 2, rng=rng)

    def f(w):
        table.weight = w
        return (table(ids) * weights).sum()

    assert_gradient_checks(f, rng.standard_normal((5, 2)))


# ---------------------------------------------------------------------------------------------
# Values, shapes and errors
# ---------------------------------------------------------------------------------------------

def test_sinusoidal_positions_follow_the_formula():
    table = sinusoidal_positions(6, 8).data
    position, pair = np.arange(6)[:, None], np.arange(4)[None, :]
    angles = position / 10000 ** (2 * pair / 8)
    np.testing.assert_allclose(table[:, 0::2], np.sin(angles), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(table[:, 1::2], np.cos(angles), rtol=1e-6, atol=1e-7)
    x = Tensor(np.zeros((2, 6, 8), dtype=np.float32))
    np.testing.assert_array_equal(PositionalEncoding(8, max_len=10)(x).data, np.broadcast_to(table, (2, 6, 8)))


def test_a_masked_key_gets_exactly_zero_weight_and_zero_gradient():
    rng = np.random.default_rng(9)
    q, k, v = leaf(rng.standard_normal((1, 2))), leaf(rng.standard_normal((3, 2))), leaf(rng.standard_normal((3, 2)))
    out = scaled_dot_product_attention(q, k, v, mask=np.array([[True, False, True]]))
    out.sum().backward()
    np.testing.assert_array_equal(v.grad.data[1], [0.0, 0.0])
    np.testing.assert_array_equal(k.grad.data[1], [0.0, 0.0])
    assert np.all(np.isfinite(q.grad.data))


def test_float32_in_float32_out():
    block = TransformerBlock(8, 2, rng=np.random.default_rng(0))
    out = block(Tensor(np.ones((1, 3, 8), dtype=np.float32)), causal_mask(3))
    assert out.dtype == np.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda: Embedding(3, 2)([0.5]), TypeError, "Embedding ids must be whole numbers, got 0.5"),
    (lambda: Embedding(3, 2)([[0, 3]]), IndexError, "Embedding id 3 is out of range for 3 embeddings"),
    (lambda: sinusoidal_positions(4, 3), ValueError, "the width of sinusoidal positions must be even, got 3"),
    (lambda: PositionalEncoding(4, max_len=2)(Tensor(np.zeros((1, 3, 4)))), ValueError,
     "sequence of length 3 is longer than max_len=2"),
    (lambda: LayerNorm((2, 3))(Tensor(np.ones((3, 2)))), ValueError, "LayerNorm(2, 3) got an input of shape (3, 2)"),
    (lambda: scaled_dot_product_attention(Tensor(np.ones((2, 2))), Tensor(np.ones((2, 2))), Tensor(np.ones((2, 2))),
                                          mask=np.tril(np.ones((2, 2)))), TypeError,
     "mask must be a boolean array (True where attention is allowed), got float64"),
    (lambda: scaled_dot_product_attention(Tensor(np.ones((2, 2))), Tensor(np.ones((2, 2))), Tensor(np.ones((2, 2))),
                                          mask=np.array([[True, False], [False, False]])), ValueError,
     "mask lets some query attend to no key: every row needs at least one True"),
    (lambda: MultiHeadAttention(10, 3), ValueError, "embed_dim=10 is not divisible by num_heads=3"),
    (lambda: MultiHeadAttention(4, 2)(Tensor(np.ones((2, 4)))), ValueError,
     "MultiHeadAttention(4, 2) expects (batch, length, 4), got (2, 4)"),
])
def test_bad_input_is_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert str(caught.value) == message


# ---------------------------------------------------------------------------------------------
# Learning: reversing digit sequences
# ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_tiny_transformer_learns_to_reverse_digits_in_under_a_minute_on_one_core():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        accuracy, seconds, steps = train_reversal()
    assert accuracy >= 0.99, f"token accuracy {accuracy:.3f} after {steps} steps"
    assert seconds < 60, f"{seconds:.1f} s"
