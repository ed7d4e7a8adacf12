"""Checkpoint 03 (after module 03, layers).

Question: "Can I stack layers into a network?"

Uses `tinytorch.core.tensor`, `.activations` and `.layers`. A Dense layer computes x @ W + b on a
batch of rows, starts from weights that break symmetry and keep the signal's scale, and exposes
its parameters; Sequential chains layers; a Module finds every parameter of a network built from
nested modules and lists, each exactly once.
"""

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.core.activations import ReLU, Sigmoid
from tinytorch.core.layers import Dense, Linear, Module, Sequential


def values(tensor) -> np.ndarray:
    assert isinstance(tensor, Tensor), f"expected a Tensor, got {type(tensor).__name__}"
    return np.asarray(tensor.data)


def test_dense_has_weights_and_bias_of_the_right_shapes():
    layer = Dense(input_size=3, output_size=4)
    assert isinstance(layer.weights, Tensor) and isinstance(layer.bias, Tensor)
    assert layer.weights.shape == (3, 4), "weights are laid out (input_size, output_size)"
    assert layer.bias.shape == (4,)
    assert layer.weights.requires_grad and layer.bias.requires_grad
    assert layer.weights.dtype == np.float32 and layer.bias.dtype == np.float32
    np.testing.assert_array_equal(values(layer.bias), np.zeros(4))
    positional = Dense(5, 2)
    assert positional.weights.shape == (5, 2)


def test_dense_computes_x_times_w_plus_b():
    layer = Dense(input_size=2, output_size=3)
    layer.weights.data = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    layer.bias.data = np.array([0.5, -0.5, 1.0], dtype=np.float32)
    out = layer(Tensor([[1.0, 1.0], [2.0, 0.0], [0.0, -1.0]]))
    assert out.shape == (3, 3)
    np.testing.assert_array_equal(values(out), [[5.5, 6.5, 10.0],
                                                [2.5, 3.5, 7.0],
                                                [-3.5, -5.5, -5.0]])


def test_dense_without_bias():
    layer = Dense(3, 2, bias=False)
    assert layer.bias is None
    assert len(layer.parameters()) == 1
    x = np.ones((4, 3), dtype=np.float32)
    np.testing.assert_allclose(values(layer(Tensor(x))), x @ values(layer.weights), rtol=1e-6)


def test_dense_matches_numpy_on_random_batches(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    layer = Dense(7, 5)
    layer.bias.data = rng.standard_normal(5).astype(np.float32)
    x = rng.standard_normal((11, 7)).astype(np.float32)
    expected = x.astype(np.float64) @ values(layer.weights) + values(layer.bias)
    out = layer(Tensor(x))
    assert out.shape == (11, 5) and out.dtype == np.float32
    np.testing.assert_allclose(values(out), expected, rtol=1e-4, atol=1e-5)
    # Each row is computed independently of the rest of the batch.
    np.testing.assert_allclose(values(layer(Tensor(x[3:4]))), values(out)[3:4], rtol=1e-5, atol=1e-6)


def test_initial_weights_break_symmetry_and_keep_the_scale():
    # Equal weights would make every unit learn the same thing; too large or too small weights
    # make signals explode or vanish through depth. Aim: unit-variance in, about unit-variance out.
    layer = Dense(256, 256)
    w = values(layer.weights)
    assert np.all(np.isfinite(w))
    assert len(np.unique(w)) > 0.99 * w.size, "initial weights must differ from each other"
    assert abs(float(w.mean())) < 0.01
    x = np.random.default_rng(0).standard_normal((512, 256)).astype(np.float32)
    spread = float(values(layer(Tensor(x))).std())
    assert 0.5 < spread < 2.0, f"a unit-variance input came out with std {spread:.3f}"
    # Two layers are initialised independently.
    assert not np.array_equal(w, values(Dense(256, 256).weights))


def test_aliases():
    assert Linear is Dense or issubclass(Linear, Dense)
    layer = Linear(3, 2)
    assert layer.weight is layer.weights


def test_sequential_chains_layers():
    first, second = Dense(4, 8), Dense(8, 3)
    net = Sequential(first, ReLU(), second, Sigmoid())
    assert len(net) == 4 and net[0] is first and net[2] is second
    x = Tensor(np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32))
    hidden = np.maximum(values(first(x)), 0)
    expected = 1 / (1 + np.exp(-(hidden.astype(np.float64) @ values(second.weights)
                                 + values(second.bias))))
    out = net(x)
    assert out.shape == (6, 3)
    np.testing.assert_allclose(values(out), expected, rtol=1e-5, atol=1e-6)
    assert len(net.parameters()) == 4


def test_deep_network_forward_stays_finite(checkpoint_seed):
    net = Sequential(Dense(32, 64), ReLU(), Dense(64, 64), ReLU(), Dense(64, 64), ReLU(),
                     Dense(64, 10))
    x = Tensor(np.random.default_rng(checkpoint_seed).standard_normal((16, 32)).astype(np.float32))
    out = values(net(x))
    assert out.shape == (16, 10) and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    assert 0.05 < float(out.std()) < 20.0


class TwoTower(Module):
    """A custom module: sub-modules in attributes and in a list, one layer used twice."""

    def __init__(self):
        self.shared = Dense(4, 4)
        self.towers = [Sequential(Dense(4, 3), ReLU()), Sequential(self.shared, Dense(4, 3))]
        self.head = Dense(6, 1)
        self.scale = Tensor([2.0], requires_grad=True)
        self.constant = Tensor([1.0])  # does not require grad: not a parameter
        self.name = "two towers"

    def forward(self, x):
        left = self.towers[0](x)
        right = self.towers[1](self.shared(x))
        both = Tensor(np.concatenate([left.data, right.data], axis=1))
        return self.head(both) * self.scale


def test_module_finds_every_parameter_once():
    model = TwoTower()
    params = model.parameters()
    # shared (2) + tower0 Dense (2) + tower1 Dense (2) + head (2) + scale (1); shared counted once
    assert len(params) == 9
    assert len({id(p) for p in params}) == 9
    assert any(p is model.shared.weights for p in params)
    assert any(p is model.scale for p in params)
    assert not any(p is model.constant for p in params)
    assert all(p.requires_grad for p in params)
    out = model(Tensor(np.ones((5, 4), dtype=np.float32)))
    assert out.shape == (5, 1)


def test_module_zero_grad_clears_every_parameter():
    model = Sequential(Dense(3, 4), ReLU(), Dense(4, 2))
    for parameter in model.parameters():
        parameter.grad = Tensor(np.ones(parameter.shape, dtype=np.float32))
    model.zero_grad()
    for parameter in model.parameters():
        assert parameter.grad is None or not np.any(values(parameter.grad))


def test_a_layer_output_is_part_of_the_graph():
    layer = Dense(2, 2)
    out = layer(Tensor([[1.0, 2.0]]))
    assert out.requires_grad and not out.is_leaf, "parameters require grad, so outputs do too"
