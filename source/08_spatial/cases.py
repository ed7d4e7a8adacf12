"""The spec of 08_spatial: its cases, each bound to a graded cell by grade id.

Cells covered: spatial-windows-test, spatial-im2col-test, spatial-col2im-test, spatial-conv2d-test,
spatial-conv2d-rule-test, spatial-max-pool-test, spatial-max-pool-rule-test and spatial-layers-test
(public and hidden cases without points: a cell needs all of its cases to agree), and
spatial-checkpoint, checkpoint 08 as values: "Can I build a network that sees patterns in
images?" (cases with points).

Uses modules 01-07 (reference) and `tt.spatial` (under grade).

The gradient rules are called directly, on a node each case builds with `Tensor.from_op` and the
context the forward pass is documented to record (the columns and the winners computed here by
plain loops), so a bug in `conv2d` or `max_pool2d` costs their own cells, not the rules'. Every
draw includes what tells right from wrong: overlapping windows (a stride below k), a stride of 2,
a padding of at least 1, a nonzero bias and a batch of at least two images.
"""

import numpy as np

from casekit import arr, dtype_name, f64, grad, registry, type_name

CASES = []
case = registry(CASES)


def _images(rng, n=(2, 4), c=(1, 4), size=(5, 9), dtype=np.float64):
    """A random batch (N, C, H, W) with H != W possible."""
    shape = (int(rng.integers(*n)), int(rng.integers(*c)), int(rng.integers(*size)), int(rng.integers(*size)))
    return rng.standard_normal(shape).astype(dtype)


def _columns(x, k, s):
    """im2col by plain loops: (N, C*k*k, H_out*W_out), rows in (channel, row, column) order."""
    n, c, height, width = x.shape
    out_h, out_w = (height - k) // s + 1, (width - k) // s + 1
    cols = np.zeros((n, c * k * k, out_h * out_w), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            cols[:, :, i * out_w + j] = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(n, -1)
    return cols


def _pad(x, p):
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))


def _winners(x, k, s):
    """The index of each window's first maximum in the flattened window, by plain loops."""
    n, c, height, width = x.shape
    out_h, out_w = (height - k) // s + 1, (width - k) // s + 1
    winners = np.zeros((n, c, out_h, out_w), dtype=np.int64)
    for index in np.ndindex(n, c, out_h, out_w):
        a, b, i, j = index
        winners[index] = x[a, b, i * s:i * s + k, j * s:j * s + k].argmax()
    return winners


def _settings(rng):
    """(k, stride) pairs: overlapping windows (stride 1, k >= 2) and a stride of 2, in random order."""
    pairs = [(int(rng.integers(2, 4)), 1), (int(rng.integers(2, 4)), 2)]
    return [pairs[i] for i in rng.permutation(2)]


# --------------------------------------------------------------------------- spatial-windows-test

@case("spatial-windows-test", rtol=0, atol=0)
def windows_values(tt, rng):
    x = _images(rng)
    out = {}
    for k, s in _settings(rng):
        view = tt.spatial.windows(x, k, s)
        out[f"shape k={k} s={s}"] = np.array(np.shape(view))
        out[f"windows k={k} s={s}"] = arr(view).ravel()
    return out


@case("spatial-windows-test", hidden=True, rtol=0, atol=0)
def windows_edge_sizes(tt, rng):
    x = _images(rng, size=(4, 7), dtype=np.float32)
    whole = min(x.shape[2:])
    return {"k=1": arr(tt.spatial.windows(x, 1, 1)).ravel(),
            "k=H": arr(tt.spatial.windows(x, whole, 1)).ravel(),
            "k=H shape": np.array(np.shape(tt.spatial.windows(x, whole, 1))),
            "stride 3": arr(tt.spatial.windows(x, 2, 3)).ravel(),
            "stride 3 shape": np.array(np.shape(tt.spatial.windows(x, 2, 3))),
            "is a view": bool(np.shares_memory(tt.spatial.windows(x, 2, 1), x))}


# --------------------------------------------------------------------------- spatial-im2col-test

@case("spatial-im2col-test", rtol=0, atol=0)
def im2col_values(tt, rng):
    x = _images(rng)
    out = {}
    for k, s in _settings(rng):
        cols = tt.spatial.im2col(x, k, s)
        out[f"shape k={k} s={s}"] = np.array(np.shape(cols))
        out[f"columns k={k} s={s}"] = arr(cols)
    return out


@case("spatial-im2col-test", hidden=True, rtol=0, atol=0)
def im2col_float32_and_k1(tt, rng):
    x = _images(rng, c=(2, 4), dtype=np.float32)
    one = tt.spatial.im2col(x, 1, 1)
    return {"k=1": arr(one), "dtype": str(np.asarray(one).dtype),
            "k=3 s=3": arr(tt.spatial.im2col(x, 3, 3))}


# --------------------------------------------------------------------------- spatial-col2im-test

@case("spatial-col2im-test", rtol=1e-12, atol=1e-12)
def col2im_values(tt, rng):
    x = _images(rng)
    out = {}
    for k, s in _settings(rng):
        g = rng.standard_normal(_columns(x, k, s).shape)
        image = tt.spatial.col2im(g, x.shape, k, s)
        out[f"shape k={k} s={s}"] = np.array(np.shape(image))
        out[f"image k={k} s={s}"] = arr(image)
    return out


@case("spatial-col2im-test", hidden=True, rtol=1e-6, atol=1e-6)
def col2im_counts_and_dtype(tt, rng):
    x = _images(rng, dtype=np.float32)
    k = int(rng.integers(2, 4))
    ones = np.ones(_columns(x, k, 1).shape, dtype=np.float32)
    counts = tt.spatial.col2im(ones, x.shape, k, 1)
    skipping = tt.spatial.col2im(np.ones(_columns(x, 2, 3).shape, dtype=np.float32), x.shape, 2, 3)
    return {"counts": arr(counts), "dtype": str(np.asarray(counts).dtype), "stride 3 > k": arr(skipping)}


# --------------------------------------------------------------------------- spatial-conv2d-test

def _conv_values(tt, rng, dtype):
    x = _images(rng, dtype=dtype)
    c_out, k = int(rng.integers(2, 5)), int(rng.integers(2, 4))
    w = rng.standard_normal((c_out, x.shape[1], k, k)).astype(dtype)
    b = rng.uniform(0.5, 2.0, c_out).astype(dtype) * rng.choice([-1, 1], c_out)
    stride, padding = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    Tensor = tt.tensor.Tensor
    xt, wt, bt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    y = tt.spatial.conv2d(xt, wt, bt, stride=stride, padding=padding)
    return {"type": type_name(y), "dtype": dtype_name(y), "values": arr(y), "op": str(y._op),
            "parents are x, w, b": bool(len(y._parents) == 3 and y._parents[0] is xt and y._parents[1] is wt
                                        and y._parents[2] is bt),
            "ctx stride": int(y._ctx["stride"]), "ctx padding": int(y._ctx["padding"]),
            "ctx cols": arr(y._ctx["cols"]),
            "stride 1 no padding": arr(tt.spatial.conv2d(x, w, b)),
            "no bias": arr(tt.spatial.conv2d(x, w, stride=2, padding=1))}


@case("spatial-conv2d-test", rtol=1e-10, atol=1e-12)
def conv2d_values(tt, rng):
    return _conv_values(tt, rng, np.float64)


@case("spatial-conv2d-test", hidden=True, rtol=1e-5, atol=1e-5)
def conv2d_float32(tt, rng):
    return _conv_values(tt, rng, np.float32)


@case("spatial-conv2d-test", hidden=True, rtol=1e-10, atol=1e-12)
def conv2d_one_by_one(tt, rng):
    x = _images(rng)
    w = rng.standard_normal((3, x.shape[1], 1, 1))
    y = tt.spatial.conv2d(x, w)
    return {"1x1": arr(y), "no bias parents": len(tt.spatial.conv2d(tt.tensor.Tensor(x, requires_grad=True), w)._parents)}


# --------------------------------------------------------------------------- spatial-conv2d-rule-test

def _conv_rule(tt, rng, with_bias, needs=(True, True, True)):
    Tensor = tt.tensor.Tensor
    x = _images(rng)
    c_out, k = int(rng.integers(2, 5)), int(rng.integers(2, 4))
    stride, padding = int(rng.integers(1, k)), int(rng.integers(1, 3))  # stride < k: windows overlap
    w, b = rng.standard_normal((c_out, x.shape[1], k, k)), rng.standard_normal(c_out)
    cols = _columns(_pad(x, padding), k, stride)
    out_h = (x.shape[2] + 2 * padding - k) // stride + 1
    out_w = (x.shape[3] + 2 * padding - k) // stride + 1
    g = rng.standard_normal((x.shape[0], c_out, out_h, out_w))
    parents = [Tensor(x, requires_grad=needs[0]), Tensor(w, requires_grad=needs[1])]
    if with_bias:
        parents.append(Tensor(b, requires_grad=needs[2]))
    node = Tensor.from_op(np.zeros(g.shape), "conv2d", tuple(parents), stride=stride, padding=padding, cols=cols)
    grads = tt.spatial.conv2d_rule(node, g)
    out = {"count": len(grads)}
    for name, value, needed in zip(("x", "weight", "bias"), grads, needs):
        if needed:
            out[name] = arr(value)
    return out


@case("spatial-conv2d-rule-test", rtol=1e-10, atol=1e-12)
def conv2d_rule_values(tt, rng):
    return _conv_rule(tt, rng, with_bias=True)


@case("spatial-conv2d-rule-test", hidden=True, rtol=1e-10, atol=1e-12)
def conv2d_rule_without_bias(tt, rng):
    return _conv_rule(tt, rng, with_bias=False)


@case("spatial-conv2d-rule-test", hidden=True, rtol=1e-10, atol=1e-12)
def conv2d_rule_weight_only(tt, rng):
    return _conv_rule(tt, rng, with_bias=True, needs=(False, True, True))


# --------------------------------------------------------------------------- spatial-max-pool-test

def _distinct(rng, dtype=np.float64, **sizes):
    """Images of distinct values (no ties), so every window has one maximum."""
    x = _images(rng, **sizes)
    return (rng.permutation(x.size).reshape(x.shape) / 7.0 - x.size / 14.0).astype(dtype)


@case("spatial-max-pool-test", rtol=0, atol=0)
def max_pool_values(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(_distinct(rng), requires_grad=True)
    k = int(rng.integers(2, 4))
    y = tt.spatial.max_pool2d(x, k)
    return {"type": type_name(y), "values": arr(y), "op": str(y._op), "parent is x": bool(y._parents[0] is x),
            "ctx kernel_size": int(y._ctx["kernel_size"]), "ctx stride": int(y._ctx["stride"]),
            "ctx winners": arr(y._ctx["winners"]), "dtype": dtype_name(y)}


@case("spatial-max-pool-test", hidden=True, rtol=0, atol=0)
def max_pool_overlapping_and_ties(tt, rng):
    x = _distinct(rng, dtype=np.float32)
    ties = np.round(_images(rng, size=(4, 7))).astype(np.float32)  # small integers: many ties
    overlapping = tt.spatial.max_pool2d(tt.tensor.Tensor(x, requires_grad=True), 3, stride=1)
    tied = tt.spatial.max_pool2d(tt.tensor.Tensor(ties, requires_grad=True), 2)
    return {"overlapping": arr(overlapping), "overlapping winners": arr(overlapping._ctx["winners"]),
            "tied": arr(tied), "tied winners": arr(tied._ctx["winners"]), "dtype": dtype_name(overlapping)}


# --------------------------------------------------------------------------- spatial-max-pool-rule-test

def _pool_rule(tt, rng, k, stride):
    Tensor = tt.tensor.Tensor
    x = _distinct(rng)
    winners = _winners(x, k, stride)
    g = rng.standard_normal(winners.shape)
    node = Tensor.from_op(np.zeros(g.shape), "max_pool2d", (Tensor(x, requires_grad=True),),
                          kernel_size=k, stride=stride, winners=winners)
    result = tt.spatial.max_pool2d_rule(node, g)
    return {"count": len(result), "x": arr(result[0])}


@case("spatial-max-pool-rule-test", rtol=1e-12, atol=1e-12)
def max_pool_rule_values(tt, rng):
    k = int(rng.integers(2, 4))
    return _pool_rule(tt, rng, k, k)


@case("spatial-max-pool-rule-test", hidden=True, rtol=1e-12, atol=1e-12)
def max_pool_rule_overlapping(tt, rng):
    return _pool_rule(tt, rng, int(rng.integers(2, 4)), 1)


# --------------------------------------------------------------------------- spatial-layers-test

@case("spatial-layers-test", rtol=1e-5, atol=1e-6)  # float32 sums: BLAS may add in another order
def layers_conv_init_and_forward(tt, rng):
    c_in, c_out, k = int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(2, 4))
    seed = int(rng.integers(0, 2**31))
    conv = tt.spatial.Conv2d(c_in, c_out, k, stride=1, padding=1, rng=np.random.default_rng(seed))
    x = rng.standard_normal((2, c_in, 6, 5)).astype(np.float32)
    return {"weight": arr(conv.weight), "bias": arr(conv.bias), "weight dtype": dtype_name(conv.weight),
            "requires grad": bool(conv.weight.requires_grad and conv.bias.requires_grad),
            "parameters": len(conv.parameters()), "forward": arr(conv(x)),
            "no bias": bool(tt.spatial.Conv2d(c_in, c_out, (k, k), bias=False).bias is None)}


@case("spatial-layers-test", hidden=True, rtol=1e-5, atol=1e-6)
def layers_pool_flatten_sequential(tt, rng):
    layers, spatial = tt.layers, tt.spatial
    x = rng.standard_normal((3, 2, 7, 6)).astype(np.float32)
    conv = spatial.Conv2d(2, 3, 3, stride=2, rng=np.random.default_rng(int(rng.integers(0, 2**31))))
    pooled = spatial.MaxPool2d(2)(x)
    overlapping = spatial.MaxPool2d(3, stride=1)(x)
    flat = spatial.Flatten()(x)
    model = layers.Sequential(conv, spatial.MaxPool2d(2), spatial.Flatten())
    return {"strided conv": arr(conv(x)), "pooled": arr(pooled), "overlapping": arr(overlapping),
            "flat": arr(flat), "model": arr(model(x)), "model parameters": len(model.parameters())}


# --------------------------------------------------------------------------- spatial-checkpoint

def _small_cnn(tt, rng):
    """Conv(1->3, k=3, padding 1) -> ReLU -> MaxPool(2) -> Flatten -> Dense(3*3*3 -> 2), float64."""
    spatial, layers, act = tt.spatial, tt.layers, tt.activations
    conv = spatial.Conv2d(1, 3, 3, padding=1, rng=rng)
    dense = layers.Dense(27, 2, rng=rng)
    for tensor in (conv.weight, conv.bias, dense.weights, dense.bias):
        tensor.data = rng.uniform(-0.5, 0.5, tensor.shape)
    return layers.Sequential(conv, act.ReLU(), spatial.MaxPool2d(2), spatial.Flatten(), dense)


def _bars(rng, count):
    """Vertical (class 0) and horizontal (class 1) bars of ones at random places in 6x6 images."""
    images, labels = np.zeros((count, 1, 6, 6)), np.arange(count) % 2
    for image, label, place in zip(images, labels, rng.integers(0, 6, count)):
        if label == 0:
            image[0, :, place] = 1.0
        else:
            image[0, place, :] = 1.0
    return images + 0.1 * rng.standard_normal(images.shape), labels


@case("spatial-checkpoint", points=8, rtol=1e-8, atol=1e-10)
def checkpoint_cnn_gradients(tt, rng):
    model = _small_cnn(tt, rng)
    images, labels = _bars(rng, 6)
    x = tt.tensor.Tensor(images, requires_grad=True)
    loss = tt.losses.CrossEntropyLoss()(model(x), labels)
    loss.backward()
    out = {"loss": float(arr(loss)), "input gradient": grad(x)}
    for index, parameter in enumerate(model.parameters()):
        out[f"parameter {index} gradient"] = grad(parameter)
    return out


@case("spatial-checkpoint", points=6, rtol=1e-6, atol=1e-8)
def checkpoint_cnn_learns_bars(tt, rng):
    model = _small_cnn(tt, rng)
    images, labels = _bars(rng, 16)
    optimizer, loss_fn = tt.optimizers.Adam(model.parameters(), lr=0.05), tt.losses.CrossEntropyLoss()
    losses = []
    for _ in range(8):
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        losses.append(float(arr(loss)))
    return {"losses": f64(losses), "final scores": arr(model(images))}


@case("spatial-checkpoint", points=6, rtol=1e-10, atol=1e-12)
def checkpoint_conv_pool_pipeline(tt, rng):
    spatial = tt.spatial
    x = _distinct(rng, c=(1, 3), size=(6, 9))
    w = rng.standard_normal((2, x.shape[1], 3, 3))
    features = spatial.max_pool2d(spatial.conv2d(x, w, rng.standard_normal(2), padding=1), 2)
    flat = spatial.Flatten()(features)
    return {"features": arr(features), "flat shape": np.array(np.shape(flat)), "flat": arr(flat)}
