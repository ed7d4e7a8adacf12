"""Module 08 (tinytorch.core.spatial): convolution, max pooling and the layers around them.

- gradients of conv2d (input, weight, bias) and max_pool2d against central differences in
  float64, over a table of shapes, strides and paddings;
- PyTorch as the oracle (torch.nn.functional.conv2d and max_pool2d): forward values and every
  gradient agree to 1e-10 in float64 (skipped cleanly without torch);
- the layers' PyTorch shapes and initialisation, their composition, and the errors bad input gets;
- a small CNN on scikit-learn's digits reaches at least 98.5% test accuracy (slow).
"""

import time

import numpy as np
import pytest

from tinytorch.core.activations import ReLU
from tinytorch.core.autograd import GRADIENT_RULES, numerical_gradient
from tinytorch.core.layers import Dense, Sequential
from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.optimizers import Adam
from tinytorch.core.spatial import (Conv2d, Flatten, MaxPool2d, col2im, conv2d, im2col, max_pool2d,
                                    windows)
from tinytorch.core.tensor import Tensor
from tinytorch.core.training import DataLoader, evaluate, fit, load_digits

# (batch, in channels, height, width, out channels, kernel, stride, padding)
CONV_SHAPES = [
    (1, 1, 5, 5, 1, 3, 1, 0),
    (2, 3, 7, 6, 4, 3, 2, 1),
    (3, 2, 6, 6, 2, 2, 2, 0),
    (2, 2, 5, 7, 3, 3, 1, 2),
    (1, 4, 8, 5, 2, 1, 1, 0),
    (2, 1, 9, 9, 3, 5, 3, 2),
    (2, 2, 4, 4, 2, 4, 1, 1),
]
# (batch, channels, height, width, kernel, stride)
POOL_SHAPES = [(1, 1, 4, 4, 2, None), (2, 3, 7, 5, 2, None), (2, 2, 6, 6, 3, 1), (1, 2, 9, 8, 3, 2),
               (2, 1, 5, 5, 5, None)]


def _conv_inputs(shape, seed=0):
    n, c, h, w, out, k, _, _ = shape
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c, h, w)), rng.standard_normal((out, c, k, k)), rng.standard_normal(out)


def _distinct(shape, seed=0):
    """Values all different (no ties in any window), spaced 0.1 apart."""
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) / 10.0


def _numeric(f, values):
    return numerical_gradient(lambda t: f(t), Tensor(values))


# ---------------------------------------------------------------------------------------------
# Gradients against central differences (float64)
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
def test_conv2d_gradients_match_central_differences(shape):
    x, w, b = _conv_inputs(shape)
    stride, padding = shape[6], shape[7]
    upstream = np.random.default_rng(1).standard_normal(conv2d(x, w, b, stride, padding).shape)

    def loss(x, w, b):
        return (conv2d(x, w, b, stride, padding) * Tensor(upstream)).sum()

    xt, wt, bt = (Tensor(v, requires_grad=True) for v in (x, w, b))
    loss(xt, wt, bt).backward()
    for analytic, numeric in ((xt.grad.data, _numeric(lambda t: loss(t, w, b), x)),
                              (wt.grad.data, _numeric(lambda t: loss(x, t, b), w)),
                              (bt.grad.data, _numeric(lambda t: loss(x, w, t), b))):
        assert analytic.dtype == np.float64
        np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("shape", POOL_SHAPES, ids=str)
def test_max_pool2d_gradient_matches_central_differences(shape):
    n, c, h, w, k, stride = shape
    x = _distinct((n, c, h, w))
    upstream = np.random.default_rng(2).standard_normal(max_pool2d(x, k, stride).shape)
    xt = Tensor(x, requires_grad=True)
    (max_pool2d(xt, k, stride) * Tensor(upstream)).sum().backward()
    numeric = _numeric(lambda t: (max_pool2d(t, k, stride) * Tensor(upstream)).sum(), x)
    np.testing.assert_allclose(xt.grad.data, numeric, rtol=1e-7, atol=1e-8)


def test_a_cnn_backpropagates_through_every_layer():
    rng = np.random.default_rng(3)
    model = Sequential(Conv2d(2, 3, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Conv2d(3, 2, 2, rng=rng),
                       Flatten(), Dense(2 * 2 * 2, 3, rng=rng))
    for parameter in model.parameters():
        parameter.data = parameter.data.astype(np.float64)
    x, labels = _distinct((2, 2, 6, 6)) - 3.6, np.array([0, 2])
    xt = Tensor(x, requires_grad=True)
    CrossEntropyLoss()(model(xt), labels).backward()
    numeric = _numeric(lambda t: CrossEntropyLoss()(model(t), labels), x)
    np.testing.assert_allclose(xt.grad.data, numeric, rtol=1e-6, atol=1e-9)
    assert {"conv2d", "max_pool2d"} <= set(GRADIENT_RULES)


# ---------------------------------------------------------------------------------------------
# PyTorch as the oracle (float64, 1e-10)
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def _agree(ours, theirs, what):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    scale = max(float(np.abs(theirs).max(initial=0.0)), 1e-300)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10 * scale, err_msg=what)


@pytest.mark.oracle
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no-bias"])
@pytest.mark.parametrize("shape", CONV_SHAPES, ids=str)
def test_conv2d_agrees_with_torch(torch, shape, with_bias):
    x, w, b = _conv_inputs(shape, seed=4)
    stride, padding = shape[6], shape[7]
    ours = [Tensor(v, requires_grad=True) for v in (x, w, b)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    out = conv2d(ours[0], ours[1], ours[2] if with_bias else None, stride, padding)
    reference = torch.nn.functional.conv2d(theirs[0], theirs[1], theirs[2] if with_bias else None,
                                           stride=stride, padding=padding)
    _agree(out.data, reference, "forward")
    upstream = np.random.default_rng(5).standard_normal(out.shape)
    out.backward(upstream)
    reference.backward(torch.tensor(upstream))
    for name, mine, theirs_ in zip(("x", "weight", "bias"), ours, theirs):
        if name == "bias" and not with_bias:
            assert mine.grad is None
            continue
        _agree(mine.grad.data, theirs_.grad, f"gradient of {name}")


@pytest.mark.oracle
@pytest.mark.parametrize("shape", POOL_SHAPES, ids=str)
def test_max_pool2d_agrees_with_torch(torch, shape):
    n, c, h, w, k, stride = shape
    x = _distinct((n, c, h, w), seed=6)
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = max_pool2d(ours, k, stride)
    reference = torch.nn.functional.max_pool2d(theirs, k, stride)
    _agree(out.data, reference, "forward")
    upstream = np.random.default_rng(7).standard_normal(out.shape)
    out.backward(upstream)
    reference.backward(torch.tensor(upstream))
    _agree(ours.grad.data, theirs.grad, "gradient")


@pytest.mark.oracle
def test_max_pool2d_ties_go_to_the_first_maximum_like_torch(torch):
    x = np.round(np.random.default_rng(8).standard_normal((2, 2, 6, 6)))  # small integers: many ties
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    max_pool2d(ours, 2).backward(np.ones((2, 2, 3, 3)))
    torch.nn.functional.max_pool2d(theirs, 2).backward(torch.ones(2, 2, 3, 3, dtype=torch.float64))
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


@pytest.mark.oracle
def test_a_cnn_agrees_with_the_same_torch_network(torch):
    rng = np.random.default_rng(9)
    ours = Sequential(Conv2d(1, 4, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2), Flatten(), Dense(4 * 3 * 3, 5, rng=rng))
    for parameter in ours.parameters():
        parameter.data = parameter.data.astype(np.float64)
    conv, dense = ours[0], ours[4]
    theirs = [torch.tensor(p.data, requires_grad=True) for p in (conv.weight, conv.bias, dense.weights, dense.bias)]
    x, labels = rng.standard_normal((3, 1, 6, 6)), np.array([4, 0, 2])
    loss = CrossEntropyLoss()(ours(x), labels)
    hidden = torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.conv2d(
        torch.tensor(x), theirs[0], theirs[1], padding=1)), 2)
    reference = torch.nn.functional.cross_entropy(hidden.flatten(1) @ theirs[2] + theirs[3], torch.tensor(labels))
    _agree(np.asarray(loss.data), reference, "loss")
    loss.backward()
    reference.backward()
    for mine, other in zip((conv.weight, conv.bias, dense.weights, dense.bias), theirs):
        _agree(mine.grad.data, other.grad, "parameter gradient")


@pytest.mark.oracle
def test_conv2d_initialisation_has_torchs_bounds(torch):
    ours = Conv2d(3, 8, 5, rng=np.random.default_rng(0))
    theirs = torch.nn.Conv2d(3, 8, 5)
    bound = 1 / np.sqrt(3 * 5 * 5)
    assert ours.weight.shape == tuple(theirs.weight.shape) and ours.bias.shape == tuple(theirs.bias.shape)
    for tensor in (theirs.weight, theirs.bias):  # torch's kaiming_uniform(a=sqrt(5)) comes to the same bound
        assert float(tensor.detach().abs().max()) <= bound
    for tensor in (ours.weight, ours.bias):
        assert tensor.dtype == np.float32 and np.abs(tensor.data).max() <= bound
        assert np.abs(tensor.data).max() > 0.8 * bound  # drawn from the whole range


# ---------------------------------------------------------------------------------------------
# The building blocks and the layers
# ---------------------------------------------------------------------------------------------

def test_windows_is_a_view_and_im2col_col2im_are_adjoint():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 3, 7, 6))
    for k, s in ((1, 1), (2, 1), (3, 2), (2, 3), (6, 1)):
        assert np.shares_memory(windows(x, k, s), x)
        cols = im2col(x, k, s)
        g = rng.standard_normal(cols.shape)
        np.testing.assert_allclose(np.sum(cols * g), np.sum(x * col2im(g, x.shape, k, s)), rtol=1e-12)


def test_float32_stays_float32():
    x = np.random.default_rng(11).standard_normal((2, 1, 8, 8)).astype(np.float32)
    model = Sequential(Conv2d(1, 4, 3, padding=1, rng=np.random.default_rng(0)), ReLU(), MaxPool2d(2), Flatten())
    xt = Tensor(x, requires_grad=True)
    out = model(xt)
    assert out.dtype == np.float32 and out.shape == (2, 64)
    out.sum().backward()
    assert xt.grad.dtype == np.float32 and model[0].weight.grad.dtype == np.float32


def test_layers_names_and_parameters():
    conv = Conv2d(3, 8, (3, 3), stride=2, padding=1, bias=False)
    assert conv.bias is None and conv.parameters() == [conv.weight] and conv.weights is conv.weight
    assert repr(conv) == "Conv2d(3, 8, kernel_size=3, stride=2, padding=1)"
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2)" and MaxPool2d(2).parameters() == []
    assert Flatten()(np.zeros((4, 2, 3, 3))).shape == (4, 18)
    assert conv(np.zeros((1, 3, 9, 9), dtype=np.float32)).shape == (1, 8, 5, 5)


@pytest.mark.parametrize("call, message", [
    (lambda: conv2d(np.zeros((3, 8, 8)), np.zeros((1, 3, 3, 3))),
     "conv2d expects a batch of images of shape (N, C, H, W), got shape (3, 8, 8)"),
    (lambda: conv2d(np.zeros((1, 1, 8, 8)), np.zeros((4, 3, 3, 3))),
     "conv2d: the input has 1 channels but the weight of shape (4, 3, 3, 3) expects 3"),
    (lambda: conv2d(np.zeros((1, 1, 8, 8)), np.zeros((4, 1, 3, 2))),
     "conv2d expects a weight of shape (C_out, C_in, k, k), got shape (4, 1, 3, 2)"),
    (lambda: conv2d(np.zeros((1, 1, 2, 8)), np.zeros((4, 1, 5, 5)), padding=1),
     "conv2d: a 5x5 kernel does not fit the 2x8 input padded by 1"),
    (lambda: conv2d(np.zeros((1, 1, 8, 8)), np.zeros((4, 1, 3, 3)), stride=0),
     "conv2d: stride must be >= 1 and padding >= 0, got stride=0, padding=0"),
    (lambda: max_pool2d(np.zeros((8, 8)), 2),
     "max_pool2d expects a batch of images of shape (N, C, H, W), got shape (8, 8)"),
    (lambda: max_pool2d(np.zeros((1, 1, 3, 8)), 4), "max_pool2d: a 4x4 window does not fit the 3x8 input"),
    (lambda: Conv2d(1, 2, (3, 5)), "kernel_size must be an int or a square pair (k, k), got (3, 5)"),
    (lambda: MaxPool2d(0), "kernel_size must be a positive int, got 0"),
], ids=["no-batch-axis", "channels", "non-square-weight", "kernel-too-big", "stride-0", "pool-2d", "pool-too-big",
        "non-square-kernel", "pool-0"])
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == message


# ---------------------------------------------------------------------------------------------
# The digits (slow)
# ---------------------------------------------------------------------------------------------

def digit_cnn(seed: int) -> Sequential:
    """The notebook's CNN: conv 1->16, pool, conv 16->32, pool, Dense 128->10 (5,258 parameters)."""
    rng = np.random.default_rng(seed)
    return Sequential(Conv2d(1, 16, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                      Conv2d(16, 32, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                      Flatten(), Dense(32 * 2 * 2, 10, rng=rng))


@pytest.mark.slow
def test_a_small_cnn_reads_the_digits_at_98_5_percent():
    """scikit-learn's digits (module 07's loader reads the file `sklearn.datasets.load_digits` reads),
    the default split (1,438 train, 359 test, seed 0), 25 epochs of Adam: 99.2% with seed 0, in
    about 9 s on one core (docs/benchmarks.md)."""
    x_train, y_train, x_test, y_test = load_digits(seed=0)
    model = digit_cnn(seed=0)
    started = time.perf_counter()
    fit(model, DataLoader(x_train.reshape(-1, 1, 8, 8), y_train, batch_size=32, seed=0), CrossEntropyLoss(),
        Adam(model.parameters(), lr=0.002), epochs=25)
    seconds = time.perf_counter() - started
    accuracy = evaluate(model, x_test.reshape(-1, 1, 8, 8), y_test)
    print(f"digits CNN: test accuracy {accuracy:.4f} after 25 epochs in {seconds:.1f} s")
    assert accuracy >= 0.985, f"test accuracy {accuracy:.4f} < 0.985"
