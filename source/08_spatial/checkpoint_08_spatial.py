"""Checkpoint 08 (after module 08, spatial).

Question: "Can I build a network that sees patterns in images?"

Uses `tinytorch.core.spatial` and the modules before it. A convolution must compute the sum over
each window (with stride and padding), its gradients and max pooling's must agree with central
differences in float64, the layers must have PyTorch's shapes, and a small CNN must learn to tell
vertical from horizontal bars wherever they are in the image. A checkpoint asks the module's
capability question of any tinytorch build (`--tinytorch-root`), under several seeds; it lives in
the module's folder and is handed to students in their kit's checkpoints/.
"""

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Dense, Sequential
from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.autograd import check_gradients
from tinytorch.core.optimizers import Adam
from tinytorch.core.spatial import Conv2d, Flatten, MaxPool2d, conv2d, max_pool2d


def test_conv2d_is_the_sum_over_each_window():
    x = np.random.standard_normal((2, 3, 7, 6))
    w, b = np.random.standard_normal((4, 3, 3, 3)), np.random.standard_normal(4)
    y = conv2d(x, w, b, stride=2, padding=1)
    assert y.shape == (2, 4, 4, 3)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.array([[[[b[o] + np.sum(w[o] * padded[n, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3])
                            for j in range(3)] for i in range(4)] for o in range(4)] for n in range(2)])
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-12)


def test_gradients_match_central_differences():
    w = np.random.standard_normal((2, 2, 3, 3))
    for stride, padding in ((1, 0), (2, 1), (1, 2)):
        match, difference = check_gradients(
            lambda t: (conv2d(t, w, stride=stride, padding=padding) ** 2).sum(),
            Tensor(np.random.standard_normal((2, 2, 6, 5))))
        assert match, f"conv2d input gradient (stride {stride}, padding {padding}) off by {difference:.2e}"
    x = np.random.standard_normal((1, 2, 5, 5))
    match, difference = check_gradients(lambda t: (conv2d(x, t, padding=1) ** 2).sum(), Tensor(w))
    assert match, f"conv2d weight gradient off by {difference:.2e}"
    distinct = np.random.permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6) / 10.0  # no ties
    match, difference = check_gradients(lambda t: (max_pool2d(t, 2) ** 2).sum(), Tensor(distinct))
    assert match, f"max_pool2d gradient off by {difference:.2e}"


def test_layers_have_pytorch_shapes():
    conv = Conv2d(3, 8, 3, padding=1)
    assert conv.weight.shape == (8, 3, 3, 3) and conv.bias.shape == (8,)
    assert np.abs(conv.weight.data).max() <= 1 / np.sqrt(27)
    model = Sequential(conv, ReLU(), MaxPool2d(2), Flatten(), Dense(8 * 4 * 4, 10))
    assert len(model.parameters()) == 4
    assert model(np.random.standard_normal((5, 3, 8, 8)).astype(np.float32)).shape == (5, 10)


def test_a_cnn_tells_vertical_from_horizontal_bars():
    rng = np.random.default_rng(np.random.randint(2**31))
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
    assert (model(images).data.argmax(axis=1) == labels).all()
