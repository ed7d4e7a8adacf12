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
# # Module 08: Spatial, networks that see patterns in images
#
# The network of module 07 read each 8x8 digit as a row of 64 unrelated numbers. Shift a digit one
# pixel to the right and, for a `Dense` layer, it is a different input altogether: the weights
# that learned a stroke at one place know nothing about the same stroke one pixel over. Images
# have structure that a flat row throws away: nearby pixels belong together, and a pattern (an
# edge, a loop, a corner) means the same wherever it appears.
#
# A **convolution** builds that in. It slides one small filter (say 3x3) over the whole image and
# takes, at every position, the weighted sum of the pixels under it. The same few weights are used
# at every position (weight sharing), so a filter that detects a vertical stroke detects it
# anywhere, and a layer needs 9 weights per filter instead of one per pixel pair. **Max pooling**
# then keeps the strongest response in each small patch, so the next layer sees a smaller map that
# barely changes when the pattern moves by a pixel. Stack convolutions, pooling and a final `Dense`
# layer, and you have a convolutional neural network (CNN), the architecture that made computer
# vision work.
#
# ## Learning goals
# - Cut an image into its sliding windows without copying a pixel (numpy stride tricks), and lay
#   them out as a matrix (im2col), so that a convolution becomes one matrix multiplication.
# - Derive the gradient of a convolution and write it: the weight gradient is another matrix
#   product; the input gradient sends each window's gradient back to its pixels (col2im), adding
#   where windows overlap.
# - Write max pooling and its gradient, which routes everything to the winner of each window.
# - Wrap it all in the layers `Conv2d`, `MaxPool2d` and `Flatten`, with PyTorch's names,
#   shapes and initialisation, and train a small CNN on the handwritten digits.
#
# ## Build, use, analyse
# 1. **Build**: `windows`, `im2col`, `col2im`, `conv2d` and its gradient rule, `max_pool2d` and
#    its gradient rule, the layers `Conv2d`, `MaxPool2d`, `Flatten`.
# 2. **Use**: a CNN on module 07's digits, trained with `fit`.
# 3. **Analyse**: parameters and arithmetic of a convolution against a `Dense` layer; where the
#    time of a training step goes.
#
# ## Where the code goes
# Your `#| export` cells become `tinytorch/core/spatial.py`:
#
# ```python
# from tinytorch.core.spatial import Conv2d, MaxPool2d, Flatten
# ```
#
# Images are batches of shape `(N, C, H, W)`: N images, C channels (1 for grey, 3 for colour, or
# the feature maps of an earlier layer), H rows, W columns, as in PyTorch. The two new operations
# are recorded in the graph like every other (`Tensor.from_op`, module 01), and this module
# registers their gradient rules in module 05's `GRADIENT_RULES`, so `backward()` handles them.

# %% nbgrader={"grade": false, "grade_id": "spatial-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.spatial
#| export
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinytorch.core.tensor import Tensor, as_tensor
from tinytorch.core.layers import Module
from tinytorch.core.autograd import GRADIENT_RULES

# %% [markdown]
# ## Step 1: the windows of an image, without a copy
#
# A 3x3 filter sliding over a 5x5 image with stride 1 stops at 3 x 3 positions; with stride 2 at
# 2 x 2. In general an input of H rows and a kernel of k rows give
# $H_{out} = \lfloor (H - k) / s \rfloor + 1$ positions down (and the same across), where $s$ is
# the stride, the step between two positions.
#
# numpy can show us every window at once without copying anything. An array is a block of memory
# plus *strides*: how many bytes to skip to move one step along each axis. The window at position
# (i, j) starts i rows and j columns in, and moving inside a window moves through the image itself,
# so a 6-D view `(N, C, H_out, W_out, k, k)` is just the image's memory read with repeated strides.
# `np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))` builds that view for stride 1;
# slicing its two position axes with `::s` keeps every s-th window. A view costs nothing, but it
# is read-only and its windows overlap: writing to it would be a mistake, so numpy forbids it.
#
# Example: for `x = np.arange(16.).reshape(1, 1, 4, 4)`, `windows(x, 2, 2)` has shape
# `(1, 1, 2, 2, 2, 2)`, and the window at position (1, 0) is `[[8, 9], [12, 13]]`.

# %% nbgrader={"grade": false, "grade_id": "spatial-windows", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def windows(x: np.ndarray, kernel_size: int, stride: int = 1) -> np.ndarray:
    """Every k x k window of a batch of images, as a view of shape (N, C, H_out, W_out, k, k).

    A view, not a copy: window (i, j) of image n, channel c is `x[n, c, i*s : i*s+k, j*s : j*s+k]`,
    read through strides. `x` has shape (N, C, H, W); `k` is `kernel_size`, `s` the stride.

    TODO: return the view.

    Steps:
    1. `sliding_window_view` over the last two axes (`axis=(2, 3)`) with window shape (k, k): the
       windows at every position (stride 1).
    2. Keep every `stride`-th position along the two position axes (axes 2 and 3) by slicing.

    Example: x of shape (1, 1, 4, 4) holding 0..15, k=2, stride=2 -> shape (1, 1, 2, 2, 2, 2);
    the window at (0, 1) holds [[2, 3], [6, 7]].
    """
    ### BEGIN SOLUTION
    return sliding_window_view(x, (kernel_size, kernel_size), axis=(2, 3))[:, :, ::stride, ::stride]
    ### END SOLUTION


# %%
image = np.arange(16.0).reshape(1, 1, 4, 4)
print(image[0, 0])
print("windows(image, 2, 2):", windows(image, 2, 2).shape)
print(windows(image, 2, 2)[0, 0, 1, 0])
print("shares the image's memory:", np.shares_memory(windows(image, 3), image))

# %% nbgrader={"grade": true, "grade_id": "spatial-windows-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_windows():
    """Shapes for several strides, the windows' contents, and no copy."""
    x = np.arange(2 * 3 * 5 * 6, dtype=np.float64).reshape(2, 3, 5, 6)
    view = windows(x, 3, 1)
    assert view.shape == (2, 3, 3, 4, 3, 3), f"stride 1: expected (2, 3, 3, 4, 3, 3), got {view.shape}"
    np.testing.assert_array_equal(view[1, 2, 2, 1], x[1, 2, 2:5, 1:4])
    assert np.shares_memory(view, x), "windows must be a view of x (sliding_window_view), not a copy"
    strided = windows(x, 2, 2)
    assert strided.shape == (2, 3, 2, 3, 2, 2), f"k=2, stride 2: expected (2, 3, 2, 3, 2, 2), got {strided.shape}"
    np.testing.assert_array_equal(strided[0, 1, 1, 2], x[0, 1, 2:4, 4:6])
    # 5 rows, k=3, stride 2: positions 0 and 2 (the last row is used); 6 columns: 0 and 2 (column 5 is not)
    assert windows(x, 3, 2).shape == (2, 3, 2, 2, 3, 3)


test_windows()

# %% [markdown]
# ## Step 2: im2col, a convolution as one matrix product
#
# At each position, a convolution with weight `W` of shape `(C_out, C, k, k)` computes, for every
# output channel o,
#
# $$ y[n, o, i, j] = b[o] + \sum_{c, u, v} W[o, c, u, v] \; x[n, c, i s + u, j s + v]. $$
#
# That sum is a dot product between the flattened filter (C k k numbers) and the flattened window.
# Lay out every window of an image as one *column* of a matrix of shape `(C k k, H_out W_out)`
# ("image to columns", **im2col**) and all the dot products at once are one matrix product:
# `W.reshape(C_out, C k k) @ columns` has shape `(C_out, H_out W_out)`, which is the output
# image, row-major. Matrix products are what numpy (through BLAS) does fastest, which is why
# im2col is how many frameworks compute convolutions.
#
# The price is memory: every pixel is copied into up to k x k columns. Unlike `windows`, this is a
# real copy (`reshape` of a strided view must copy), laid out so that the product reads it fast.
#
# The row order matters, because it has to match `W.reshape(C_out, -1)`: channel first, then the
# row u inside the window, then the column v. The column order is the output's row-major order
# (i, then j). So from the view `(N, C, H_out, W_out, k, k)`, move the window axes in front of the
# position axes, `(N, C, k, k, H_out, W_out)`, then reshape to `(N, C k k, H_out W_out)`.

# %% nbgrader={"grade": false, "grade_id": "spatial-im2col", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def im2col(x: np.ndarray, kernel_size: int, stride: int = 1) -> np.ndarray:
    """The windows of a batch of images as columns: an array of shape (N, C*k*k, H_out*W_out).

    Column p of image n is the window at output position p (row-major over H_out, W_out),
    flattened in the order (channel, window row, window column), which is the order of
    `weight.reshape(C_out, -1)`. The result is a fresh array, not a view.

    TODO: return the columns.

    Steps:
    1. The view `windows(x, kernel_size, stride)`, of shape (N, C, H_out, W_out, k, k).
    2. Transpose its axes to (N, C, k, k, H_out, W_out).
    3. Reshape to (N, C*k*k, H_out*W_out).

    Example: x of shape (1, 1, 3, 3) holding 0..8, k=2, stride=1 -> shape (1, 4, 4); the first
    column is the top-left window [0, 1, 3, 4], the second the window one column over, [1, 2, 4, 5].
    """
    ### BEGIN SOLUTION
    view = windows(x, kernel_size, stride)
    n, c, out_h, out_w = view.shape[:4]
    return view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kernel_size * kernel_size, out_h * out_w)
    ### END SOLUTION


# %%
print(im2col(np.arange(9.0).reshape(1, 1, 3, 3), 2)[0])

# %% nbgrader={"grade": true, "grade_id": "spatial-im2col-test", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_im2col():
    """The worked example, a matrix product that equals the convolution's sum, and strides."""
    cols = im2col(np.arange(9.0).reshape(1, 1, 3, 3), 2)
    assert cols.shape == (1, 4, 4), f"expected (1, 4, 4), got {cols.shape}"
    np.testing.assert_array_equal(cols[0], [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 4))
    weight = rng.standard_normal((4, 3, 3, 3))
    cols = im2col(x, 3, 2)
    assert cols.shape == (2, 27, 2), f"(N, C*k*k, H_out*W_out) = (2, 27, 2), got {cols.shape}"
    out = weight.reshape(4, -1) @ cols[1]  # image 1: (C_out, H_out*W_out)
    # output channel 3 at position (1, 0): the window at rows 2-4, columns 0-2
    expected = np.sum(weight[3] * x[1, :, 2:5, 0:3])
    np.testing.assert_allclose(out[3, 1], expected, rtol=1e-12)
    assert not np.shares_memory(cols, x)


test_im2col()

# %% [markdown]
# ## Step 3: col2im, the way back
#
# The backward pass needs the opposite move. Given a gradient for every entry of the columns, what
# is the gradient of each pixel? A pixel was copied into every window that covers it, so its
# gradient is the **sum** of the gradients of all its copies. `col2im` takes columns of shape
# `(N, C k k, H_out W_out)` and scatter-adds each entry back to the pixel it came from, giving an
# image of the original shape. Pixels that no window covers (the last column of an image whose
# width does not fit the stride) get 0.
#
# The obvious loop over N x C x H_out x W_out windows is far too slow in Python. Turn it around:
# loop over the k x k offsets (u, v) inside the window instead. For a fixed offset, the entries of
# all windows go to the pixels `u, u + s, u + 2s, ...` down and `v, v + s, ...` across: one slice
# of the image with step s, of shape `(N, C, H_out, W_out)`. So k x k vectorised additions
# (`+=` on a strided slice) do the whole scatter. Offsets that overlap add up, which is exactly
# the sum we need.
#
# `col2im` is the adjoint of `im2col`: for any image x and columns g,
# `sum(im2col(x) * g) == sum(x * col2im(g))`. That identity is a good test, and it is the reason
# col2im is the gradient of im2col.

# %% nbgrader={"grade": false, "grade_id": "spatial-col2im", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def col2im(cols: np.ndarray, image_shape: tuple, kernel_size: int, stride: int = 1) -> np.ndarray:
    """Add the entries of columns (N, C*k*k, H_out*W_out) back into an image of `image_shape`.

    Each entry goes to the pixel `im2col` copied it from; entries for the same pixel add up.

    TODO: return a new array of shape `image_shape` (dtype of `cols`).

    Steps:
    1. From `image_shape` = (N, C, H, W), the positions: H_out = (H - k) // s + 1, W_out likewise.
    2. Reshape `cols` to (N, C, k, k, H_out, W_out) (undoing im2col's reshape).
    3. Start from zeros of `image_shape`. For every offset (u, v) in the window, add
       `cols[:, :, u, v]` (shape (N, C, H_out, W_out)) into the image rows u, u+s, ... (H_out of
       them) and columns v, v+s, ... (W_out of them): one slice with step s per axis.

    Example: cols = ones((1, 4, 4)), image_shape (1, 1, 3, 3), k=2, stride=1 -> each pixel counts
    the windows covering it: [[1, 2, 1], [2, 4, 2], [1, 2, 1]].
    """
    ### BEGIN SOLUTION
    n, c, height, width = image_shape
    k, s = kernel_size, stride
    out_h, out_w = (height - k) // s + 1, (width - k) // s + 1
    cols = cols.reshape(n, c, k, k, out_h, out_w)
    image = np.zeros(image_shape, dtype=cols.dtype)
    for u in range(k):
        for v in range(k):
            image[:, :, u:u + s * out_h:s, v:v + s * out_w:s] += cols[:, :, u, v]
    return image
    ### END SOLUTION


# %%
print(col2im(np.ones((1, 4, 4)), (1, 1, 3, 3), 2)[0, 0])

# %% nbgrader={"grade": true, "grade_id": "spatial-col2im-test", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_col2im():
    """Counting windows, the adjoint identity with im2col, strides that skip pixels."""
    counts = col2im(np.ones((1, 4, 4)), (1, 1, 3, 3), 2, 1)
    assert counts.shape == (1, 1, 3, 3), f"expected shape (1, 1, 3, 3), got {counts.shape}"
    np.testing.assert_array_equal(counts[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 6))
    for k, s in ((3, 1), (3, 2), (2, 2)):
        g = rng.standard_normal(im2col(x, k, s).shape)
        back = col2im(g, x.shape, k, s)
        assert back.shape == x.shape
        np.testing.assert_allclose(np.sum(im2col(x, k, s) * g), np.sum(x * back), rtol=1e-12,
                                   err_msg=f"col2im is not the adjoint of im2col for k={k}, stride={s}")
    # k=2, stride 2 on 7 columns: column 6 is in no window
    np.testing.assert_array_equal(col2im(np.ones((1, 4, 9)), (1, 1, 7, 7), 2, 2)[0, 0, :, 6], 0)


test_col2im()

# %% [markdown]
# ## Step 4: the convolution, forward
#
# Now `conv2d(x, weight, bias, stride, padding)`, PyTorch's `torch.nn.functional.conv2d`:
#
# 1. **Padding** adds `padding` rows of zeros above and below and columns left and right, so that a
#    3x3 filter with `padding=1` keeps the image size (and pixels at the border are seen by as many
#    windows as the others). `np.pad` with `((0, 0), (0, 0), (p, p), (p, p))` pads only H and W.
# 2. The columns of the padded input, `im2col`.
# 3. One matrix product, `weight.reshape(C_out, -1) @ columns`, for all N images at once: numpy's
#    `@` broadcasts a matrix against a stack of matrices, giving `(N, C_out, H_out W_out)`.
# 4. The bias, one number per output channel, added to every position of its channel.
# 5. Reshape to `(N, C_out, H_out, W_out)` and record the operation.
#
# The backward rule (step 5) needs the columns again, to compute the weight gradient. Computing
# them is a copy of k x k times the input, so we keep them: the record saves `stride`, `padding`
# and `cols` in the node's context. (This is the classic trade of memory for time: PyTorch saves
# the input instead and recomputes.)
#
# Bad shapes are caught before any arithmetic by a given check, `_check_conv2d`, which names the
# problem (a missing batch axis, a channel count that does not match the weight, a kernel larger
# than the padded image).

# %% nbgrader={"grade": false, "grade_id": "spatial-conv2d", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def _check_conv2d(x_shape: tuple, weight_shape: tuple, stride: int, padding: int) -> None:
    """Raise a ValueError naming what is wrong with a convolution's shapes or settings."""
    if len(x_shape) != 4:
        raise ValueError(f"conv2d expects a batch of images of shape (N, C, H, W), got shape {x_shape}")
    if len(weight_shape) != 4 or weight_shape[2] != weight_shape[3]:
        raise ValueError(f"conv2d expects a weight of shape (C_out, C_in, k, k), got shape {weight_shape}")
    if x_shape[1] != weight_shape[1]:
        raise ValueError(f"conv2d: the input has {x_shape[1]} channels but the weight of shape "
                         f"{weight_shape} expects {weight_shape[1]}")
    if stride < 1 or padding < 0:
        raise ValueError(f"conv2d: stride must be >= 1 and padding >= 0, got stride={stride}, padding={padding}")
    k = weight_shape[2]
    if min(x_shape[2], x_shape[3]) + 2 * padding < k:
        raise ValueError(f"conv2d: a {k}x{k} kernel does not fit the {x_shape[2]}x{x_shape[3]} input "
                         f"padded by {padding}")


def _pad(x: np.ndarray, padding: int) -> np.ndarray:
    """Zeros around the rows and columns of a batch of images (the batch and channel axes are left alone)."""
    return x if padding == 0 else np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def conv2d(x, weight, bias=None, stride: int = 1, padding: int = 0) -> Tensor:
    """2-D convolution (cross-correlation, as in every framework): y[n, o] = b[o] + sum over c of
    W[o, c] slid over x[n, c].

    `x`: (N, C_in, H, W); `weight`: (C_out, C_in, k, k); `bias`: (C_out,) or None. The result has
    shape (N, C_out, H_out, W_out) with H_out = (H + 2 padding - k) // stride + 1.

    TODO: compute the convolution with im2col and one matrix product, and record it.

    Steps:
    1. `x`, `weight` (and `bias` if given) as Tensors (`as_tensor`).
    2. Pad x's values with `_pad`, then `cols = im2col(padded, k, stride)`.
    3. `weight.data.reshape(C_out, -1) @ cols`: shape (N, C_out, H_out*W_out). Add the bias values
       as a column (shape (C_out, 1)) if there is a bias.
    4. Reshape to (N, C_out, H_out, W_out) (H_out, W_out from the padded size, as in col2im).
    5. Return `Tensor.from_op(out, "conv2d", parents, stride=stride, padding=padding, cols=cols)`,
       where `parents` is (x, weight) or (x, weight, bias).

    Example: x = ones((1, 1, 3, 3)), weight = ones((1, 1, 2, 2)), bias = [10.] -> [[[[14, 14], [14, 14]]]].
    """
    _check_conv2d(np.shape(x), np.shape(weight), stride, padding)
    ### BEGIN SOLUTION
    x, weight = as_tensor(x), as_tensor(weight)
    out_channels, _, k, _ = weight.shape
    padded = _pad(x.data, padding)
    cols = im2col(padded, k, stride)
    out = weight.data.reshape(out_channels, -1) @ cols
    parents = (x, weight)
    if bias is not None:
        bias = as_tensor(bias)
        out = out + bias.data.reshape(out_channels, 1)
        parents = (x, weight, bias)
    out_h, out_w = (padded.shape[2] - k) // stride + 1, (padded.shape[3] - k) // stride + 1
    out = out.reshape(len(padded), out_channels, out_h, out_w)
    return Tensor.from_op(out, "conv2d", parents, stride=stride, padding=padding, cols=cols)
    ### END SOLUTION


# %% [markdown]
# A filter that takes the difference of two neighbouring columns answers where the image gets
# brighter from left to right: a vertical edge detector.

# %%
edge = np.zeros((1, 1, 5, 6), dtype=np.float32)
edge[..., 3:] = 1.0  # dark left half, bright right half
detector = np.array([[[[-1.0, 1.0], [-1.0, 1.0]]]], dtype=np.float32)  # shape (1, 1, 2, 2)
print(conv2d(edge, detector).data[0, 0])

# %% nbgrader={"grade": true, "grade_id": "spatial-conv2d-test", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_conv2d():
    """The worked example, a direct sum, padding and stride, the record, and bad shapes."""
    y = conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), np.array([10.0]))
    assert isinstance(y, Tensor), f"conv2d must return a Tensor, got {type(y)}"
    np.testing.assert_array_equal(y.data, np.full((1, 1, 2, 2), 14.0))
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    y = conv2d(x, w, b, stride=2, padding=1)
    assert y.shape == (2, 4, 3, 3), f"(6 + 2 - 3) // 2 + 1 = 3 rows, (5 + 2 - 3) // 2 + 1 = 3 columns; got {y.shape}"
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = b[2] + np.sum(w[2] * padded[1, :, 2:5, 4:7])  # image 1, channel 2, position (1, 2)
    np.testing.assert_allclose(y.data[1, 2, 1, 2], expected, rtol=1e-12)
    assert conv2d(x, w).shape == (2, 4, 4, 3), "no padding, stride 1, no bias"
    xt, wt = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    y = conv2d(xt, wt, stride=2)
    assert y._op == "conv2d", f"record the operation as 'conv2d', got {y._op!r}"
    assert len(y._parents) == 2 and y._parents[0] is xt and y._parents[1] is wt, "parents: (x, weight)"
    assert y._ctx["stride"] == 2 and y._ctx["padding"] == 0
    np.testing.assert_array_equal(y._ctx["cols"], im2col(x, 3, 2))
    assert len(conv2d(xt, wt, Tensor(b, requires_grad=True))._parents) == 3
    assert y.dtype == np.float64 and conv2d(x.astype(np.float32), w.astype(np.float32)).dtype == np.float32


test_conv2d()

# %% [markdown]
# ## Step 5: the convolution, backward
#
# In matrix form the forward pass of one image is $Y = W_m X_{col} + b$, with
# $W_m$ = `weight.reshape(C_out, C k k)` and $X_{col}$ the columns. That is module 05's matrix
# product, so its gradient rule carries over. With $G$ the incoming gradient reshaped like $Y$,
# `(N, C_out, H_out W_out)`:
#
# - **weight**: $\partial L / \partial W_m = \sum_n G_n X_{col,n}^T$, a `(C_out, C k k)` matrix,
#   reshaped back to `(C_out, C, k, k)`. The sum over the batch is there because the same weights
#   were used for every image (and the sum over positions is inside the product: weight sharing
#   means the gradients of all positions add up).
# - **bias**: $\partial L / \partial b_o$ is the sum of $G$ over the batch and all positions of
#   channel o.
# - **input**: $\partial L / \partial X_{col,n} = W_m^T G_n$, the gradient of every column entry;
#   `col2im` adds those back into the (padded) image, and cutting the padding off gives the
#   gradient of x (the padded zeros are constants).
#
# Check the shapes as you go: they leave only one way to write each product.
#
# The rule is registered in module 05's table under the name the forward pass records
# (`GRADIENT_RULES["conv2d"] = conv2d_rule`), so `backward()` finds it like any other rule.

# %% nbgrader={"grade": false, "grade_id": "spatial-conv2d-rule", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def conv2d_rule(node, grad):
    """Gradients of y = conv2d(x, W, b) for x, W (and b), from the columns the forward pass saved.

    `node._parents` is (x, weight) or (x, weight, bias); `node._ctx` holds `stride`, `padding` and
    `cols` (the im2col columns of the padded x, shape (N, C*k*k, H_out*W_out)); `grad` has the
    output's shape (N, C_out, H_out, W_out).

    TODO: return a tuple with one gradient per parent (None for one that needs no gradient).

    Steps:
    1. G = `grad` reshaped to (N, C_out, H_out*W_out); W_m = the weight's values reshaped to (C_out, -1).
    2. Weight: `G @ cols` with the last two axes of cols swapped, summed over the batch axis,
       reshaped to the weight's shape.
    3. Input: `W_m.T @ G` (columns' gradient), then `col2im` into the padded shape
       (N, C, H + 2p, W + 2p), then drop p rows and columns on each side.
    4. Bias (only when there are three parents): `grad` summed over axes 0, 2 and 3.

    Example: x = ones((1, 1, 3, 3)), W = ones((1, 1, 2, 2)), grad = ones((1, 1, 2, 2))
    -> x: [[1, 2, 1], [2, 4, 2], [1, 2, 1]], W: [[4, 4], [4, 4]], b: [4].
    """
    ### BEGIN SOLUTION
    x, weight = node._parents[:2]
    stride, padding, cols = node._ctx["stride"], node._ctx["padding"], node._ctx["cols"]
    out_channels, _, k, _ = weight.shape
    g = grad.reshape(len(grad), out_channels, -1)
    grad_x = grad_w = None
    if weight.requires_grad:
        grad_w = (g @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(weight.shape)
    if x.requires_grad:
        n, c, height, width = x.shape
        padded_shape = (n, c, height + 2 * padding, width + 2 * padding)
        grad_cols = weight.data.reshape(out_channels, -1).T @ g
        grad_x = col2im(grad_cols, padded_shape, k, stride)[:, :, padding:padding + height, padding:padding + width]
    if len(node._parents) == 2:
        return grad_x, grad_w
    return grad_x, grad_w, grad.sum(axis=(0, 2, 3))
    ### END SOLUTION


GRADIENT_RULES["conv2d"] = conv2d_rule

# %% [markdown]
# The worked example, and a check against central differences in float64 (module 05's
# `check_gradients`):

# %%
from tinytorch.core.autograd import check_gradients

x = Tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
w = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
b = Tensor(np.zeros(1), requires_grad=True)
conv2d(x, w, b).backward()
print(x.grad.data[0, 0], w.grad.data[0, 0], b.grad.data, sep="\n")
rng = np.random.default_rng(0)
demo_weight = rng.standard_normal((2, 2, 3, 3))
print("gradient check (match, largest difference):",
      check_gradients(lambda t: (conv2d(t, demo_weight, stride=2, padding=1) ** 2).sum(),
                      Tensor(rng.standard_normal((1, 2, 5, 4)))))

# %% nbgrader={"grade": true, "grade_id": "spatial-conv2d-rule-test", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_conv2d_rule():
    """The worked example, then stride 2 and padding 1 against central differences in float64."""
    x = Tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    w = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    b = Tensor(np.zeros(1), requires_grad=True)
    y = Tensor.from_op(np.zeros((1, 1, 2, 2)), "conv2d", (x, w, b), stride=1, padding=0,
                       cols=np.ones((1, 4, 4)))
    gx, gw, gb = conv2d_rule(y, np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(gx, [[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]])
    np.testing.assert_array_equal(gw, np.full((1, 1, 2, 2), 4.0))
    np.testing.assert_array_equal(gb, [4.0])

    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 5, 4))
    w = rng.standard_normal((3, 2, 3, 3))
    b = rng.standard_normal(3)
    g = rng.standard_normal((2, 3, 3, 2))  # the output of stride 2, padding 1
    xt, wt, bt = (Tensor(v.copy(), requires_grad=True) for v in (x, w, b))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    node = Tensor.from_op(np.zeros(g.shape), "conv2d", (xt, wt, bt), stride=2, padding=1,
                          cols=im2col(padded, 3, 2))
    gx, gw, gb = conv2d_rule(node, g)

    def loss(x, w, b):  # sum(g * conv(x, w, b)) written as plain loops: independent of your code
        p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        return sum(g[n, o, i, j] * (b[o] + np.sum(w[o] * p[n, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3]))
                   for n in range(2) for o in range(3) for i in range(3) for j in range(2))

    for name, value, analytic in (("x", x, gx), ("weight", w, gw), ("bias", b, gb)):
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            step = np.zeros_like(value)
            step[index] = 1e-6
            args = {"x": x, "weight": w, "bias": b}
            args[name] = value + step
            upper = loss(args["x"], args["weight"], args["bias"])
            args[name] = value - step
            numeric[index] = (upper - loss(args["x"], args["weight"], args["bias"])) / 2e-6
        assert np.shape(analytic) == value.shape, f"the {name} gradient has shape {np.shape(analytic)}, expected {value.shape}"
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8, err_msg=f"gradient of {name}")
    no_bias = Tensor.from_op(np.zeros(g.shape), "conv2d", (xt, wt), stride=2, padding=1, cols=im2col(padded, 3, 2))
    assert len(conv2d_rule(no_bias, g)) == 2, "one gradient per parent"


test_conv2d_rule()

# %% [markdown]
# ## Step 6: max pooling
#
# `max_pool2d(x, kernel_size, stride)` keeps the largest value of every k x k window of every
# channel (PyTorch's `torch.nn.functional.max_pool2d`). The stride defaults to the kernel size, so
# windows tile the image without overlapping and a 2x2 pool halves the height and the width. An
# odd row or column left over at the border is dropped, as in PyTorch.
#
# Its gradient routes each output's gradient to the one input that won its window; every other
# input of the window gets nothing (moving it a little does not change the maximum). So the
# forward pass remembers, for every window, *where* the maximum was: the position 0 .. k*k - 1 of
# the winner inside the flattened window, `argmax`. When a window holds the maximum twice, the
# first in row-major order wins, like in PyTorch.
#
# Steps: the windows view `(N, C, H_out, W_out, k, k)`, reshaped to `(..., k*k)` (a copy);
# `argmax` over the last axis; the maxima picked with `np.take_along_axis` (the winners with a new
# last axis of length 1 select one entry per window); record `"max_pool2d"` with the context
# `kernel_size`, `stride` and `winners` (the argmax array, shape `(N, C, H_out, W_out)`).

# %% nbgrader={"grade": false, "grade_id": "spatial-max-pool", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def _check_pool(x_shape: tuple, kernel_size: int, stride) -> None:
    """Raise a ValueError naming what is wrong with a pooling's input or settings."""
    if len(x_shape) != 4:
        raise ValueError(f"max_pool2d expects a batch of images of shape (N, C, H, W), got shape {x_shape}")
    if kernel_size < 1 or (stride is not None and stride < 1):
        raise ValueError(f"max_pool2d: kernel_size and stride must be >= 1, got {kernel_size} and {stride}")
    if min(x_shape[2], x_shape[3]) < kernel_size:
        raise ValueError(f"max_pool2d: a {kernel_size}x{kernel_size} window does not fit the "
                         f"{x_shape[2]}x{x_shape[3]} input")


def max_pool2d(x, kernel_size: int, stride=None) -> Tensor:
    """The maximum of every k x k window of every channel: (N, C, H, W) -> (N, C, H_out, W_out).

    `stride` defaults to `kernel_size` (non-overlapping windows). The record keeps, per window,
    the index of its maximum in the flattened window, for the gradient rule.

    TODO: return the pooled Tensor, recorded as "max_pool2d" with the context kernel_size=,
    stride= and winners= (the argmax per window).

    Steps:
    1. `x` as a Tensor; the stride is `kernel_size` when None.
    2. The windows of x's values, reshaped to (N, C, H_out, W_out, k*k).
    3. `winners`: their argmax over the last axis. The maxima: `np.take_along_axis` of the
       windows with `winners[..., None]`, then drop the last axis.

    Example: x holding [[1, 5, 0, 0], [2, 3, 0, 7], [9, 9, 1, 1], [0, 0, 1, 1]] (shape (1, 1, 4, 4)),
    k=2 -> [[5, 7], [9, 1]], winners [[1, 3], [0, 0]].
    """
    _check_pool(np.shape(x), kernel_size, stride)
    ### BEGIN SOLUTION
    x = as_tensor(x)
    stride = kernel_size if stride is None else stride
    view = windows(x.data, kernel_size, stride)
    flat = view.reshape(view.shape[:4] + (kernel_size * kernel_size,))
    winners = flat.argmax(axis=-1)
    out = np.take_along_axis(flat, winners[..., np.newaxis], axis=-1)[..., 0]
    return Tensor.from_op(out, "max_pool2d", (x,), kernel_size=kernel_size, stride=stride, winners=winners)
    ### END SOLUTION


# %%
pool_input = np.array([[[[1, 5, 0, 0], [2, 3, 0, 7], [9, 9, 1, 1], [0, 0, 1, 1]]]], dtype=np.float32)
pooled = max_pool2d(pool_input, 2)
print(pooled.data[0, 0])

# %% nbgrader={"grade": true, "grade_id": "spatial-max-pool-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_max_pool2d():
    """The worked example with its winners, odd sizes, overlapping windows, and the record."""
    x = Tensor(np.array([[[[1, 5, 0, 0], [2, 3, 0, 7], [9, 9, 1, 1], [0, 0, 1, 1]]]], dtype=np.float32),
               requires_grad=True)
    y = max_pool2d(x, 2)
    assert isinstance(y, Tensor) and y.shape == (1, 1, 2, 2), f"expected a Tensor of shape (1, 1, 2, 2), got {y!r}"
    np.testing.assert_array_equal(y.data[0, 0], [[5, 7], [9, 1]])
    assert y._op == "max_pool2d" and y._parents[0] is x
    assert y._ctx["kernel_size"] == 2 and y._ctx["stride"] == 2
    np.testing.assert_array_equal(y._ctx["winners"][0, 0], [[1, 3], [0, 0]], err_msg="the first maximum wins a tie")
    rng = np.random.default_rng(4)
    data = rng.standard_normal((2, 3, 7, 5))
    odd = max_pool2d(data, 2)
    assert odd.shape == (2, 3, 3, 2), f"7x5 pooled by 2 drops the last row and column: (2, 3, 3, 2), got {odd.shape}"
    np.testing.assert_array_equal(odd.data[1, 2, 2, 1], data[1, 2, 4:6, 2:4].max())
    overlapping = max_pool2d(data, 3, stride=1)
    assert overlapping.shape == (2, 3, 5, 3)
    np.testing.assert_array_equal(overlapping.data[0, 1, 4, 2], data[0, 1, 4:7, 2:5].max())
    assert overlapping.dtype == np.float64


test_max_pool2d()

# %% [markdown]
# ## Step 7: max pooling, backward
#
# The gradient of each window is zero except at its winner, which receives the output's gradient.
# Build those window gradients as an array of shape `(N, C, H_out, W_out, k*k)`: a one-hot row per
# window (`np.arange(k*k) == winners[..., None]`) times the output gradient (`grad[..., None]`).
# Then send them back to their pixels. That is col2im's job once more: reshape to
# `(N, C, H_out, W_out, k, k)`, move the window axes in front of the positions and flatten, as
# in im2col, and `col2im` adds each entry to its pixel. With overlapping windows a pixel can win
# several windows, and then its gradients add up.

# %% nbgrader={"grade": false, "grade_id": "spatial-max-pool-rule", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def max_pool2d_rule(node, grad):
    """Gradient of y = max_pool2d(x): each output's gradient goes to the winner of its window.

    `node._parents` is (x,); `node._ctx` holds `kernel_size`, `stride` and `winners` (the index
    of each window's maximum in the flattened window, shape (N, C, H_out, W_out)).

    TODO: return a 1-tuple with the gradient of x (x's shape).

    Steps:
    1. One-hot window gradients of shape (N, C, H_out, W_out, k*k), `grad` at each window's winner.
    2. Reshape to (N, C, H_out, W_out, k, k), transpose to (N, C, k, k, H_out, W_out) and reshape to
       im2col's layout (N, C*k*k, H_out*W_out).
    3. `col2im` into x's shape.

    Example: winners [[1, 3], [0, 0]] of a 4x4 input, k=2, grad [[1, 2], [3, 4]] ->
    [[0, 1, 0, 0], [0, 0, 0, 2], [3, 0, 4, 0], [0, 0, 0, 0]].
    """
    ### BEGIN SOLUTION
    (x,) = node._parents
    k, stride, winners = node._ctx["kernel_size"], node._ctx["stride"], node._ctx["winners"]
    n, c, out_h, out_w = winners.shape
    window_grads = (np.arange(k * k) == winners[..., np.newaxis]) * grad[..., np.newaxis]
    cols = window_grads.reshape(n, c, out_h, out_w, k, k).transpose(0, 1, 4, 5, 2, 3)
    return (col2im(cols.reshape(n, c * k * k, out_h * out_w), x.shape, k, stride),)
    ### END SOLUTION


GRADIENT_RULES["max_pool2d"] = max_pool2d_rule

# %%
pooled_input = Tensor(pool_input, requires_grad=True)
max_pool2d(pooled_input, 2).backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
print(pooled_input.grad.data[0, 0])

# %% nbgrader={"grade": true, "grade_id": "spatial-max-pool-rule-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_max_pool2d_rule():
    """The worked example, overlapping windows that share a winner, and a float64 gradient check."""
    x = Tensor(np.zeros((1, 1, 4, 4)), requires_grad=True)
    node = Tensor.from_op(np.zeros((1, 1, 2, 2)), "max_pool2d", (x,), kernel_size=2, stride=2,
                          winners=np.array([[[[1, 3], [0, 0]]]]))
    result = max_pool2d_rule(node, np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert isinstance(result, tuple) and len(result) == 1, "return a 1-tuple"
    np.testing.assert_array_equal(result[0][0, 0], [[0, 1, 0, 0], [0, 0, 0, 2], [3, 0, 4, 0], [0, 0, 0, 0]])
    # a 3x3 input, 2x2 windows with stride 1: the centre (index 3 in the first window, 2 in the
    # second, 1 in the third, 0 in the last) wins all four windows and collects their gradients
    x = Tensor(np.zeros((1, 1, 3, 3)), requires_grad=True)
    node = Tensor.from_op(np.zeros((1, 1, 2, 2)), "max_pool2d", (x,), kernel_size=2, stride=1,
                          winners=np.array([[[[3, 2], [1, 0]]]]))
    (gx,) = max_pool2d_rule(node, np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    np.testing.assert_array_equal(gx[0, 0], [[0, 0, 0], [0, 10, 0], [0, 0, 0]])
    rng = np.random.default_rng(5)
    data = rng.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) / 7.0  # distinct values: no ties
    g = rng.standard_normal((2, 2, 2, 2))
    x = Tensor(data, requires_grad=True)
    flat = np.stack([data[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].reshape(2, 2, 4) for i in range(2) for j in range(2)], axis=2)
    node = Tensor.from_op(np.zeros(g.shape), "max_pool2d", (x,), kernel_size=2, stride=2,
                          winners=flat.argmax(axis=-1).reshape(2, 2, 2, 2))
    (gx,) = max_pool2d_rule(node, g)
    expected = np.zeros_like(data)
    for n, ch, i, j in np.ndindex(g.shape):
        window = data[n, ch, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
        u, v = np.unravel_index(window.argmax(), (2, 2))
        expected[n, ch, 2 * i + u, 2 * j + v] += g[n, ch, i, j]
    np.testing.assert_array_equal(gx, expected)


test_max_pool2d_rule()

# %% [markdown]
# ## Step 8: the layers
#
# The functions become layers with PyTorch's names and signatures, so code written for
# `torch.nn` reads the same here:
#
# - `Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, rng=None)`
#   holds `weight` of shape `(out_channels, in_channels, k, k)` and `bias` of shape
#   `(out_channels,)`. PyTorch initialises both uniformly in $\pm 1/\sqrt{\text{fan\_in}}$, where
#   fan_in $= C_{in} k^2$ is the number of inputs each output sums; we do the same. Draw the weight
#   in one call, then the bias in one call, from `rng` when given, else from `np.random`, as
#   `Dense` does (module 03). `kernel_size` may also be a square pair `(k, k)`; the given helper
#   `_square` turns it into k. `weights` is another name for `weight` (the course's spelling).
# - `MaxPool2d(kernel_size, stride=None)`: `max_pool2d` as a layer (no parameters).
# - `Flatten()`: `(N, C, H, W)` to `(N, C H W)`, keeping the batch axis, so that a `Dense` layer
#   can follow. It is a `reshape`, which module 05 already differentiates.

# %% nbgrader={"grade": false, "grade_id": "spatial-layers", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def _square(size, name: str) -> int:
    """A kernel size given as k or (k, k), as an int; anything else is an error."""
    if isinstance(size, (tuple, list)):
        if len(size) != 2 or size[0] != size[1]:
            raise ValueError(f"{name} must be an int or a square pair (k, k), got {size!r}")
        size = size[0]
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"{name} must be a positive int, got {size!r}")
    return int(size)


class Conv2d(Module):
    """A 2-D convolution layer with `weight` (C_out, C_in, k, k) and `bias` (C_out,), as in PyTorch."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride: int = 1,
                 padding: int = 0, bias: bool = True, rng=None):
        """Create the weight and the bias, both uniform in +-1/sqrt(in_channels * k * k).

        TODO:
        1. Store `in_channels`, `out_channels`, `kernel_size` (as an int, through `_square`),
           `stride` and `padding` as attributes.
        2. bound = 1 / sqrt(in_channels * k * k).
        3. Draw the weight in ONE call of `uniform(-bound, bound, (out_channels, in_channels, k, k))`
           from `rng` when given, else `np.random`; store it as float32 in a Tensor with
           requires_grad=True in `self.weight`.
        4. `self.bias`: ONE more call, `uniform(-bound, bound, out_channels)`, float32, requires_grad,
           or None when `bias` is False.

        Example: Conv2d(1, 16, 3, rng=np.random.default_rng(0)) has a weight of shape (16, 1, 3, 3)
        and 16 biases, all within +-1/3.
        """
        ### BEGIN SOLUTION
        k = _square(kernel_size, "kernel_size")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = k, stride, padding
        bound = 1.0 / np.sqrt(in_channels * k * k)
        uniform = np.random.uniform if rng is None else rng.uniform
        self.weight = Tensor(uniform(-bound, bound, (out_channels, in_channels, k, k)).astype(np.float32),
                             requires_grad=True)
        self.bias = (Tensor(uniform(-bound, bound, out_channels).astype(np.float32), requires_grad=True)
                     if bias else None)
        ### END SOLUTION

    def forward(self, x) -> Tensor:
        """conv2d of x with this layer's weight, bias, stride and padding."""
        ### BEGIN SOLUTION
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)
        ### END SOLUTION

    @property
    def weights(self) -> Tensor:
        """The course's name for `weight` (the same tensor)."""
        return self.weight

    @weights.setter
    def weights(self, value: Tensor) -> None:
        self.weight = value

    def __repr__(self) -> str:
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding})")


class MaxPool2d(Module):
    """Max pooling as a layer: `max_pool2d` with a fixed window (stride = window by default)."""

    def __init__(self, kernel_size, stride=None):
        self.kernel_size = _square(kernel_size, "kernel_size")
        self.stride = None if stride is None else _square(stride, "stride")

    def forward(self, x) -> Tensor:
        """max_pool2d of x with this layer's kernel size and stride."""
        ### BEGIN SOLUTION
        return max_pool2d(x, self.kernel_size, self.stride)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size})"


class Flatten(Module):
    """(N, C, H, W) -> (N, C*H*W): one row per example, for the Dense layer that follows."""

    def forward(self, x) -> Tensor:
        """x reshaped to (N, -1), with Tensor.reshape so the graph is recorded.

        Example: a Tensor of shape (2, 3, 4, 4) -> shape (2, 48); rows keep their order.
        """
        ### BEGIN SOLUTION
        x = as_tensor(x)
        return x.reshape(len(x), -1)
        ### END SOLUTION

    def __repr__(self) -> str:
        return "Flatten()"


# %%
from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Dense, Sequential

cnn = Sequential(Conv2d(1, 8, 3, padding=1, rng=np.random.default_rng(0)), ReLU(), MaxPool2d(2),
                 Flatten(), Dense(8 * 4 * 4, 10, rng=np.random.default_rng(0)))
print(cnn)
print("parameters:", [p.shape for p in cnn.parameters()])
print("output:", cnn(np.zeros((5, 1, 8, 8), dtype=np.float32)).shape)

# %% nbgrader={"grade": true, "grade_id": "spatial-layers-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_layers():
    """Conv2d's shapes, initialisation and forward; MaxPool2d; Flatten; all three in a Sequential."""
    from tinytorch.core.layers import Dense, Sequential

    conv = Conv2d(2, 4, 3, stride=1, padding=1, rng=np.random.default_rng(0))
    assert conv.weight.shape == (4, 2, 3, 3) and conv.bias.shape == (4,)
    assert conv.weight.dtype == np.float32 and conv.weight.requires_grad and conv.bias.requires_grad
    bound = 1 / np.sqrt(2 * 3 * 3)
    expected = np.random.default_rng(0)
    np.testing.assert_array_equal(conv.weight.data, expected.uniform(-bound, bound, (4, 2, 3, 3)).astype(np.float32))
    np.testing.assert_array_equal(conv.bias.data, expected.uniform(-bound, bound, 4).astype(np.float32))
    assert Conv2d(2, 4, (3, 3), bias=False).bias is None
    assert conv.weights is conv.weight
    x = np.random.default_rng(1).standard_normal((3, 2, 6, 6)).astype(np.float32)
    y = conv(x)
    assert y.shape == (3, 4, 6, 6), f"padding 1 keeps 6x6: got {y.shape}"
    np.testing.assert_allclose(y.data, conv2d(x, conv.weight, conv.bias, 1, 1).data, rtol=1e-6)
    pooled = MaxPool2d(2)(y)
    assert pooled.shape == (3, 4, 3, 3)
    flat = Flatten()(pooled)
    assert flat.shape == (3, 36)
    np.testing.assert_array_equal(flat.data[2], pooled.data[2].ravel())
    model = Sequential(conv, MaxPool2d(2), Flatten(), Dense(36, 5, rng=np.random.default_rng(2)))
    assert len(model.parameters()) == 4
    assert model(x).shape == (3, 5)


test_layers()

# %% [markdown]
# ## Use: a CNN reads the digits
#
# Module 07's digits, now as images: `(N, 64)` rows reshaped to `(N, 1, 8, 8)`. A small network:
# a 3x3 convolution to 16 channels (padding 1 keeps 8x8), ReLU, a 2x2 pool (4x4), a second
# convolution to 32 channels, ReLU, a pool (2x2), then `Flatten` and a `Dense` layer to the 10
# classes. Training is module 07's `fit`, with module 04's cross-entropy and module 06's Adam;
# nothing there needed to change for images.
#
# Two epochs here, to keep the notebook quick; the package's test suite trains the same network
# for longer (25 epochs, about 10 s) and demands at least 98.5% test accuracy (it reaches 99.2%),
# against about 98% for module 07's MLP.

# %%
import time

from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.optimizers import Adam
from tinytorch.core.training import DataLoader, evaluate, fit, load_digits


def digit_cnn(seed: int = 0) -> Sequential:
    """Conv 1->16, pool, conv 16->32, pool, Dense 128->10; every weight from one seeded generator."""
    rng = np.random.default_rng(seed)
    return Sequential(Conv2d(1, 16, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                      Conv2d(16, 32, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                      Flatten(), Dense(32 * 2 * 2, 10, rng=rng))


x_train, y_train, x_test, y_test = load_digits()
images_train, images_test = x_train.reshape(-1, 1, 8, 8), x_test.reshape(-1, 1, 8, 8)
model = digit_cnn(seed=0)
started = time.perf_counter()
history = fit(model, DataLoader(images_train, y_train, batch_size=32, seed=0), CrossEntropyLoss(),
              Adam(model.parameters(), lr=0.005), epochs=2, validation=(images_test, y_test))
print(f"2 epochs in {time.perf_counter() - started:.1f} s; test accuracy {history['val_accuracy'][-1]:.3f}")

# %% [markdown]
# ## Analyse
#
# ### Parameters and arithmetic
# The first convolution has 16 filters of 1 x 3 x 3 weights plus 16 biases: 160 parameters,
# however large the image. A `Dense` layer from the 64 pixels to a 16 x 8 x 8 map of the same size
# would need 64 x 1024 + 1024 = 66,560. Weight sharing is what makes convolutions cheap to store
# and quick to learn from few examples. The arithmetic is another matter: every output value is a
# dot product of length C k k, so a convolution costs
# $N \cdot C_{out} \cdot H_{out} W_{out} \cdot C_{in} k^2$ multiply-adds, a big matrix product.

# %%
for layer in model.layers:
    if isinstance(layer, Conv2d):
        print(layer, "parameters:", layer.weight.size + layer.bias.size)

# %% [markdown]
# ### Where the time goes
# Time one training step of the CNN, forward and backward, by operation. im2col copies the input
# k x k times; the matrix products do the arithmetic; col2im adds the column gradients back. On a
# typical CPU the products take most of the time, and the copies the rest: the price of turning a
# convolution into a matrix product. (`benchmarks/conv.py` compares this with PyTorch.)

# %%
batch = images_train[:64]
cols = im2col(np.pad(batch, ((0, 0), (0, 0), (1, 1), (1, 1))), 3)
timings = {}
for name, run in (("im2col", lambda: im2col(np.pad(batch, ((0, 0), (0, 0), (1, 1), (1, 1))), 3)),
                  ("forward (whole model)", lambda: model(batch)),
                  ("col2im", lambda: col2im(cols, (64, 1, 10, 10), 3))):
    started = time.perf_counter()
    for _ in range(20):
        run()
    timings[name] = (time.perf_counter() - started) / 20
for name, seconds in timings.items():
    print(f"{name:>22}: {1000 * seconds:6.2f} ms")

# %% [markdown]
# ## Summary
# - `windows` shows every k x k window of an image as a view, without a copy; `im2col` copies them
#   into columns so that a convolution is one matrix product per image.
# - The convolution's gradient is two more matrix products (weight and input) and a sum (bias);
#   `col2im`, the adjoint of `im2col`, adds the column gradients back into the image.
# - Max pooling keeps each window's maximum; its gradient goes to the winner, again through
#   `col2im`.
# - `Conv2d`, `MaxPool2d` and `Flatten` are layers with PyTorch's names, and module 07's `fit`
#   trains a CNN with them.
#
# ## Checkpoint
# This module unlocks `source/08_spatial/checkpoint_08_spatial.py`, which asks:
# **"Can I build a network that sees patterns in images?"** Run it with `make checkpoints`.

# %% [markdown]
# ## Checkpoint cell (20 points)
#
# This last graded cell asks the checkpoint's question of your own code, in a few lines. When your
# notebook is graded, its 20 points are decided differently: the autograder exports your module,
# runs the checkpoint's cases on it in a sandbox (with the published reference standing in for
# the earlier modules), on inputs drawn for your submission, and compares the values with the
# reference's outside your notebook. Passing here is a good sign; the comparison is what counts.

# %% nbgrader={"grade": true, "grade_id": "spatial-checkpoint", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_checkpoint_spatial():
    """Can I build a network that sees patterns in images?"""
    from tinytorch.core.activations import ReLU
    from tinytorch.core.autograd import check_gradients
    from tinytorch.core.layers import Dense, Sequential
    from tinytorch.core.losses import CrossEntropyLoss
    from tinytorch.core.optimizers import Adam

    rng = np.random.default_rng(0)
    weight = rng.standard_normal((2, 1, 3, 3))
    match, difference = check_gradients(lambda t: (max_pool2d(conv2d(t, weight, padding=1), 2) ** 2).sum(),
                                        Tensor(rng.standard_normal((2, 1, 6, 6))))
    assert match, f"conv2d + max_pool2d gradients differ from central differences by {difference:.2e}"
    # vertical bars (class 0) against horizontal bars (class 1), at random places
    images = np.zeros((40, 1, 6, 6), dtype=np.float32)
    labels = np.arange(40) % 2
    for image, label, place in zip(images, labels, rng.integers(0, 6, 40)):
        if label == 0:
            image[0, :, place] = 1.0
        else:
            image[0, place, :] = 1.0
    model = Sequential(Conv2d(1, 8, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Flatten(),
                       Dense(8 * 3 * 3, 2, rng=rng))
    optimizer, loss_fn = Adam(model.parameters(), lr=0.05), CrossEntropyLoss()
    for _ in range(40):
        optimizer.zero_grad()
        loss_fn(model(images), labels).backward()
        optimizer.step()
    assert (model(images).data.argmax(axis=1) == labels).all(), "the CNN should tell the bars apart"


test_checkpoint_spatial()

# %% [markdown]
# ## Check your work
#
# Save the notebook (Ctrl+S), then run the cell below. It runs the same check as
# `tito check 08_spatial` in a terminal: your saved notebook, top to bottom in a fresh kernel that
# sees only the earlier modules (as grading does), then the module's checkpoint on the code of
# your export cells. It lists which visible tests pass, the first failure of the others and what
# to try next. At grading, each test cell's points also need the grader's own cases for it (some
# of them hidden) to agree with the reference. When tito or nbgrader runs this notebook, the
# cell only says it was skipped.

# %%
from tito.student import check_module

check_module("08_spatial")
