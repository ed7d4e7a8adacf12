"""The spec of 09_attention: its cases, each bound to a graded cell by grade id.

Cells covered (public cases first, then hidden ones):
- attention-embedding-test: Embedding lookups, the gradient of the table, the errors for ids;
- attention-positions-test: the sinusoidal table, the odd-width error, PositionalEncoding;
- attention-layernorm-test: LayerNorm values and gradients (input, weight, bias), dtypes, errors;
- attention-causal-mask-test: causal_mask;
- attention-sdpa-test: scaled_dot_product_attention values and gradients, masks, mask errors;
- attention-mha-test: split_heads / merge_heads, MultiHeadAttention values and gradients,
  cross-attention, masks, the shape error;
- attention-block-test: TransformerBlock values and gradients, causality;
- attention-checkpoint: checkpoint 09 as values, "Can I build a transformer that learns to
  reverse a sequence?" (with points).

Uses `tt.tensor` (reference) and `tt.attention` (under grade), and `tt.losses` and
`tt.optimizers` for the checkpoint's training. Weights come from generators seeded from `rng`
(every `__init__` is given code), inputs are float64, so values agree to float64 rounding.
"""

import numpy as np

from casekit import arr, dtype_name, grad, message_of, registry, type_name

CASES = []
case = registry(CASES)


def _seed(rng) -> int:
    return int(rng.integers(2**31))


def _leaf(tt, values):
    return tt.tensor.Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def _gradients(module, prefix="grad") -> dict:
    """The gradient of every parameter, by position (after a backward)."""
    return {f"{prefix} {i}": grad(p) for i, p in enumerate(module.parameters())}


# ------------------------------------------------------------------ attention-embedding-test

@case("attention-embedding-test", rtol=0, atol=0)
def embedding_lookup(tt, rng):
    n, dim = int(rng.integers(3, 8)), int(rng.integers(2, 5))
    table = tt.attention.Embedding(n, dim, rng=np.random.default_rng(_seed(rng)))
    ids = rng.integers(0, n, (int(rng.integers(1, 4)), int(rng.integers(4, 7))))
    ids[0, :2] = n - 1  # a repeated id, and the last row
    vectors = table(ids)
    vectors.sum().backward()
    return {"type": type_name(vectors), "dtype": dtype_name(vectors), "shape": np.array(vectors.shape),
            "vectors": arr(vectors), "table": arr(table.weight), "table gradient": grad(table.weight),
            "from a Tensor of ids": arr(table(tt.tensor.Tensor(ids[0].astype(np.float32))))}


@case("attention-embedding-test", hidden=True, rtol=0, atol=0)
def embedding_bad_ids(tt, rng):
    n = int(rng.integers(3, 8))
    table = tt.attention.Embedding(n, 2, rng=np.random.default_rng(_seed(rng)))
    fraction = float(rng.integers(0, n)) + 0.5
    return {"fractional id": message_of(table, [0, fraction]),
            "id too large": message_of(table, [[0], [n + int(rng.integers(0, 3))]]),
            "negative id": message_of(table, np.array([-int(rng.integers(1, 4))])),
            "one id": arr(table(int(rng.integers(0, n)))),
            "3-d ids": arr(table(rng.integers(0, n, (2, 2, 3))))}


# ------------------------------------------------------------------ attention-positions-test

@case("attention-positions-test", rtol=1e-6, atol=1e-7)
def positions_table(tt, rng):
    length, dim = int(rng.integers(2, 40)), 2 * int(rng.integers(1, 9))
    table = tt.attention.sinusoidal_positions(length, dim)
    return {"type": type_name(table), "dtype": dtype_name(table), "shape": np.array(table.shape),
            "table": arr(table), "requires grad": bool(table.requires_grad)}


@case("attention-positions-test", hidden=True, rtol=1e-6, atol=1e-7)
def positions_added(tt, rng):
    dim, length = 2 * int(rng.integers(1, 5)), int(rng.integers(2, 6))
    encoding = tt.attention.PositionalEncoding(dim, max_len=length + 2)
    x = rng.standard_normal((2, length, dim)).astype(np.float32)
    return {"odd width": message_of(tt.attention.sinusoidal_positions, 4, 2 * int(rng.integers(1, 5)) + 1),
            "x + positions": arr(encoding(tt.tensor.Tensor(x))),
            "one position": arr(tt.attention.sinusoidal_positions(1, dim)),
            "too long": message_of(encoding, tt.tensor.Tensor(np.zeros((1, length + 3, dim))))}


# ------------------------------------------------------------------ attention-layernorm-test

def _layernorm_run(tt, rng, shape, normalized_shape):
    norm = tt.attention.LayerNorm(normalized_shape)
    norm.weight = _leaf(tt, rng.uniform(0.5, 2.0, norm.weight.shape))
    norm.bias = _leaf(tt, rng.standard_normal(norm.bias.shape))
    x = _leaf(tt, rng.standard_normal(shape) * rng.uniform(0.5, 5.0) + rng.uniform(-3, 3))
    out = norm(x)
    (out * _leaf(tt, rng.standard_normal(shape))).sum().backward()
    return {"out": arr(out), "x gradient": grad(x), "weight gradient": grad(norm.weight),
            "bias gradient": grad(norm.bias)}


@case("attention-layernorm-test", rtol=1e-7, atol=1e-9)
def layernorm_values_and_gradients(tt, rng):
    dim = int(rng.integers(2, 7))
    found = _layernorm_run(tt, rng, (int(rng.integers(1, 4)), int(rng.integers(2, 5)), dim), dim)
    fresh = tt.attention.LayerNorm(dim)
    return {**found, "initial weight": arr(fresh.weight), "initial bias": arr(fresh.bias)}


@case("attention-layernorm-test", rtol=1e-5, atol=1e-6)
def layernorm_float32(tt, rng):
    """float32 in, float32 out; compared to float32's precision (the order of operations may differ)."""
    rows = rng.standard_normal((3, int(rng.integers(2, 7)))).astype(np.float32)
    rows[1] = 7.0  # a constant row: variance 0, eps keeps it finite
    out = tt.attention.LayerNorm(rows.shape[1])(tt.tensor.Tensor(rows))
    return {"dtype": dtype_name(out), "out": arr(out, np.float64)}


@case("attention-layernorm-test", hidden=True, rtol=1e-7, atol=1e-9)
def layernorm_two_dimensions(tt, rng):
    inner = (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
    found = _layernorm_run(tt, rng, (2, *inner), inner)
    norm = tt.attention.LayerNorm(3, eps=float(rng.uniform(0.1, 1.0)))
    tiny = tt.tensor.Tensor(rng.standard_normal((2, 3)) * 0.01)
    return {**found, "large eps": arr(norm(tiny)),
            "wrong shape": message_of(tt.attention.LayerNorm(3), tt.tensor.Tensor(np.ones((2, 4))))}


# ------------------------------------------------------------------ attention-causal-mask-test

@case("attention-causal-mask-test", rtol=0, atol=0)
def causal_mask_values(tt, rng):
    mask = tt.attention.causal_mask(int(rng.integers(2, 9)))
    return {"type": type_name(mask), "dtype": str(mask.dtype), "mask": np.asarray(mask)}


@case("attention-causal-mask-test", hidden=True, rtol=0, atol=0)
def causal_mask_one(tt, rng):
    return {"length 1": np.asarray(tt.attention.causal_mask(1)),
            "length 12": np.asarray(tt.attention.causal_mask(12))}


# ------------------------------------------------------------------ attention-sdpa-test

def _sdpa_run(tt, rng, lead, lq, lk, d, dv, mask):
    q = _leaf(tt, rng.standard_normal((*lead, lq, d)))
    k = _leaf(tt, rng.standard_normal((*lead, lk, d)))
    v = _leaf(tt, rng.standard_normal((*lead, lk, dv)))
    out = tt.attention.scaled_dot_product_attention(q, k, v, mask)
    (out * _leaf(tt, rng.standard_normal(out.shape))).sum().backward()
    return {"out": arr(out), "query gradient": grad(q), "key gradient": grad(k), "value gradient": grad(v)}


def _random_mask(rng, lq, lk):
    """A random boolean mask where every query may attend to at least one key."""
    mask = rng.random((lq, lk)) < 0.5
    mask[np.arange(lq), rng.integers(0, lk, lq)] = True
    return mask


@case("attention-sdpa-test", rtol=1e-9, atol=1e-11)
def sdpa_values_and_gradients(tt, rng):
    length, d = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    plain = _sdpa_run(tt, rng, (2,), length, length, d, d, None)
    causal = _sdpa_run(tt, rng, (2, 3), length, length, d, d, np.tril(np.ones((length, length), dtype=bool)))
    return {**{f"no mask: {k}": v for k, v in plain.items()}, **{f"causal: {k}": v for k, v in causal.items()}}


@case("attention-sdpa-test", hidden=True, rtol=1e-9, atol=1e-11)
def sdpa_cross_attention_and_masks(tt, rng):
    lq, lk, d, dv = int(rng.integers(1, 5)), int(rng.integers(2, 7)), int(rng.integers(2, 5)), int(rng.integers(1, 4))
    found = _sdpa_run(tt, rng, (3,), lq, lk, d, dv, _random_mask(rng, lq, lk))
    attend = tt.attention.scaled_dot_product_attention
    q = tt.tensor.Tensor(rng.standard_normal((1, 2)) * 300)  # huge scores: the softmax must not overflow
    k = tt.tensor.Tensor(rng.standard_normal((3, 2)) * 300)
    v = tt.tensor.Tensor(rng.standard_normal((3, 2)))
    blocked = np.ones((2, 3), dtype=bool)
    blocked[int(rng.integers(0, 2))] = False
    return {**found, "huge scores": arr(attend(q, k, v)), "unbatched 2-d": arr(attend(k, k, v)),
            "float mask": message_of(attend, k, k, v, np.ones((3, 3))),
            "row with no key": message_of(attend, k[:2], k, v, blocked)}


# ------------------------------------------------------------------ attention-mha-test

def _mha(tt, rng, embed_dim, heads):
    return tt.attention.MultiHeadAttention(embed_dim, heads, rng=np.random.default_rng(_seed(rng)))


@case("attention-mha-test", rtol=1e-9, atol=1e-11)
def mha_self_attention(tt, rng):
    heads = int(rng.integers(2, 4))  # two heads at least: a scrambled split then shows
    embed_dim = heads * int(rng.integers(1, 4))
    attention = _mha(tt, rng, embed_dim, heads)
    x = _leaf(tt, rng.standard_normal((2, int(rng.integers(2, 6)), embed_dim)))
    split = attention.split_heads(x)
    out = attention(x)
    (out * _leaf(tt, rng.standard_normal(out.shape))).sum().backward()
    return {"split shape": np.array(split.shape), "split": arr(split),
            "merge(split(x))": arr(attention.merge_heads(split)), "out": arr(out), "x gradient": grad(x),
            **_gradients(attention)}


@case("attention-mha-test", hidden=True, rtol=1e-9, atol=1e-11)
def mha_cross_attention_with_mask(tt, rng):
    attention = _mha(tt, rng, 6, 3)
    lq, lk = int(rng.integers(1, 5)), int(rng.integers(2, 6))
    query = _leaf(tt, rng.standard_normal((2, lq, 6)))
    memory = _leaf(tt, rng.standard_normal((2, lk, 6)))
    values = _leaf(tt, rng.standard_normal((2, lk, 6)))
    out = attention(query, memory, values, _random_mask(rng, lq, lk))
    out.sum().backward()
    return {"out": arr(out), "query gradient": grad(query), "key gradient": grad(memory),
            "value gradient": grad(values),
            "2-d input": message_of(attention, tt.tensor.Tensor(np.ones((lq, 6)))),
            "wrong width": message_of(attention, tt.tensor.Tensor(np.ones((1, lq, 4))))}


# ------------------------------------------------------------------ attention-block-test

def _block(tt, rng, embed_dim=4, heads=2, hidden=6):
    return tt.attention.TransformerBlock(embed_dim, heads, hidden, rng=np.random.default_rng(_seed(rng)))


@case("attention-block-test", rtol=1e-8, atol=1e-10)
def block_values_and_gradients(tt, rng):
    block = _block(tt, rng, hidden=int(rng.integers(3, 9)))
    x = _leaf(tt, rng.standard_normal((2, int(rng.integers(2, 6)), 4)))
    out = block(x)
    (out * _leaf(tt, rng.standard_normal(out.shape))).sum().backward()
    return {"out": arr(out), "x gradient": grad(x), **_gradients(block)}


@case("attention-block-test", hidden=True, rtol=1e-8, atol=1e-10)
def block_causal(tt, rng):
    block = _block(tt, rng, embed_dim=6, heads=3)
    length = int(rng.integers(3, 6))
    x = rng.standard_normal((1, length, 6))
    changed = x.copy()
    changed[:, -1] += rng.standard_normal(6)
    mask = np.tril(np.ones((length, length), dtype=bool))
    out = block(tt.tensor.Tensor(x), mask)
    out_changed = block(tt.tensor.Tensor(changed), mask)
    return {"out": arr(out),
            "earlier positions unchanged": bool(np.allclose(arr(out)[:, :-1], arr(out_changed)[:, :-1],
                                                            rtol=1e-12, atol=1e-12)),
            "last position changed": bool(not np.allclose(arr(out)[:, -1], arr(out_changed)[:, -1]))}


# ------------------------------------------------------------------ attention-checkpoint

@case("attention-checkpoint", points=6, rtol=1e-8, atol=1e-10)
def checkpoint_block_forward(tt, rng):
    block = _block(tt, rng, embed_dim=8, heads=2, hidden=16)
    length = int(rng.integers(3, 7))
    out = block(tt.tensor.Tensor(rng.standard_normal((2, length, 8))), tt.attention.causal_mask(length))
    return {"block output": arr(out)}


@case("attention-checkpoint", points=4, rtol=0, atol=0)
def checkpoint_causal(tt, rng):
    length = int(rng.integers(3, 7))
    model = tt.attention.TransformerModel(5, 8, 2, num_layers=1, causal=True,
                                          rng=np.random.default_rng(_seed(rng)))
    ids = rng.integers(0, 5, (1, length))
    changed = ids.copy()
    changed[0, -1] = (ids[0, -1] + 1) % 5
    before, after = arr(model(ids)), arr(model(changed))
    return {"the past ignores the future": bool(np.allclose(before[:, :-1], after[:, :-1], rtol=1e-6, atol=1e-7)),
            "the last position sees its token": bool(not np.allclose(before[:, -1], after[:, -1]))}


@case("attention-checkpoint", points=5, rtol=1e-8, atol=1e-10)
def checkpoint_gradients(tt, rng):
    model = tt.attention.TransformerModel(6, 8, 2, num_layers=2, rng=np.random.default_rng(_seed(rng)))
    for parameter in model.parameters():  # float64: a small slip (eps outside the root) always shows
        parameter.data = arr(parameter).astype(np.float64)
    ids = rng.integers(0, 6, (3, 4))
    loss = tt.losses.cross_entropy(model(ids).reshape(-1, 6), tt.tensor.Tensor(ids[:, ::-1].reshape(-1)))
    loss.backward()
    return {"loss": float(loss.item()), **_gradients(model)}


@case("attention-checkpoint", points=5, rtol=0, atol=0)
def checkpoint_learns_reversal(tt, rng):
    model = tt.attention.TransformerModel(5, 16, 2, num_layers=1, rng=np.random.default_rng(_seed(rng)))
    optimizer = tt.optimizers.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(150):
        ids = rng.integers(0, 5, (32, 5))
        loss = tt.losses.cross_entropy(model(ids).reshape(-1, 5), tt.tensor.Tensor(ids[:, ::-1].reshape(-1)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    test = rng.integers(0, 5, (200, 5))
    accuracy = float(np.mean(arr(model(test)).argmax(axis=-1) == test[:, ::-1]))
    return {"reverses at least 90% of the tokens": bool(accuracy >= 0.9),
            "the loss fell below a tenth": bool(np.mean(losses[-5:]) < 0.1 * losses[0])}
