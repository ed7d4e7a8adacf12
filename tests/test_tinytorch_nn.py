"""Layers, losses, optimizers and training: behaviour, exact first steps by hand, and an MLP that
learns the digits."""

import re

import numpy as np
import pytest

from strategies import autograd_and_numeric
from tinytorch.core.activations import Activation, ReLU, Sigmoid, Softmax, Tanh, relu, softmax
from tinytorch.core.layers import Dense, Module, Sequential
from tinytorch.core.losses import (BinaryCrossEntropy, CrossEntropyLoss, Loss, MeanSquaredError,
                                   cross_entropy)
from tinytorch.core.optimizers import SGD, Adam, Optimizer
from tinytorch.core.tensor import Tensor
from tinytorch.core.training import (DataLoader, accuracy, digits_file, evaluate, fit, load_digits, train_epoch,
                                     train_test_split)


# ---------------------------------------------------------------------------------------------
# Dense
# ---------------------------------------------------------------------------------------------

def test_dense_weights_are_in_by_out_float32_glorot_and_the_bias_starts_at_zero():
    layer = Dense(30, 20, rng=np.random.default_rng(0))
    assert layer.weights.shape == (30, 20) and layer.weights.dtype == np.float32
    assert layer.weights.requires_grad and layer.weights.is_leaf
    limit = np.sqrt(6.0 / 50)
    assert np.all(np.abs(layer.weights.data) <= limit)
    assert np.abs(layer.weights.data).max() > 0.9 * limit       # uniform over the whole range
    assert layer.bias.shape == (20,) and layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.bias.data, np.zeros(20))
    assert (layer.input_size, layer.output_size) == (30, 20)


def test_dense_initialisation_is_reproducible_from_a_generator_or_the_global_seed():
    a, b = Dense(4, 3, rng=np.random.default_rng(5)), Dense(4, 3, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.weights.data, b.weights.data)
    np.random.seed(3)
    c = Dense(4, 3)
    np.random.seed(3)
    d = Dense(4, 3)
    np.testing.assert_array_equal(c.weights.data, d.weights.data)


def test_dense_forward_is_x_at_w_plus_b(rng):
    layer = Dense(4, 3, rng=rng)
    layer.bias = Tensor(np.array([1.0, -2.0, 0.5], dtype=np.float32), requires_grad=True)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    out = layer(Tensor(x))
    assert out.shape == (5, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, x @ layer.weights.data + layer.bias.data)
    np.testing.assert_array_equal(layer(x).data, out.data)          # plain arrays are accepted


def test_dense_without_bias(rng):
    layer = Dense(4, 3, bias=False, rng=rng)
    assert layer.bias is None
    assert layer.parameters() == [layer.weights]
    x = rng.normal(size=(2, 4)).astype(np.float32)
    np.testing.assert_array_equal(layer(Tensor(x)).data, x @ layer.weights.data)


def test_dense_gradients_match_central_differences_in_float64(rng):
    x, w, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)

    def forward(x, w, b):
        layer = Dense(4, 3)
        layer.weights, layer.bias = w, b
        return Sigmoid()(layer(x))

    _, grads, numeric = autograd_and_numeric(forward, [x, w, b])
    for grad, expected in zip(grads, numeric):
        np.testing.assert_allclose(grad.data, expected, atol=1e-5, rtol=1e-3)


def test_dense_repr():
    assert repr(Dense(3, 2)) == "Dense(input_size=3, output_size=2)"


# ---------------------------------------------------------------------------------------------
# Module: parameter discovery
# ---------------------------------------------------------------------------------------------

class Net(Module):
    def __init__(self):
        self.first = Dense(2, 3)
        self.blocks = [Dense(3, 3), (Dense(3, 3), ReLU())]
        self.shared = self.first                               # the same layer twice
        self.scale = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
        self.frozen = Tensor(np.ones(3, dtype=np.float32))     # no gradient: not a parameter
        self.name = "net"
        self.sizes = [2, 3]

    def forward(self, x):
        x = self.first(x)
        for block in self.blocks:
            x = block[0](x) if isinstance(block, tuple) else block(x)
        return x * self.scale


def test_module_finds_every_parameter_once_in_attribute_order():
    net = Net()
    expected = [net.first.weights, net.first.bias,
                net.blocks[0].weights, net.blocks[0].bias,
                net.blocks[1][0].weights, net.blocks[1][0].bias,
                net.scale]
    found = net.parameters()
    assert len(found) == len(expected)
    assert all(a is b for a, b in zip(found, expected))


def test_nested_modules_and_zero_grad():
    outer = Sequential(Net(), Dense(3, 1))
    assert len(outer.parameters()) == 9
    outer(Tensor(np.ones((2, 2)))).sum().backward()
    assert all(p.grad is not None for p in outer.parameters())
    outer.zero_grad()
    assert all(p.grad is None for p in outer.parameters())


def test_module_without_forward_says_so():
    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match=re.escape("Empty must define forward()")):
        Empty()(Tensor(1.0))


def test_module_call_passes_every_input():
    class Pair(Module):
        def forward(self, a, b):
            return a * b

    assert Pair()(Tensor(2.0), Tensor(3.0)).item() == 6.0


# ---------------------------------------------------------------------------------------------
# Sequential and activations as layers
# ---------------------------------------------------------------------------------------------

def test_sequential_applies_layers_in_order(rng):
    layers = [Dense(4, 8, rng=rng), ReLU(), Dense(8, 2, rng=rng), Softmax()]
    model = Sequential(*layers)
    x = Tensor(rng.normal(size=(3, 4)).astype(np.float32))
    np.testing.assert_array_equal(model(x).data, softmax(layers[2](relu(layers[0](x)))).data)
    assert len(model) == 4 and model[0] is layers[0] and model[-1] is layers[-1]
    assert all(a is b for a, b in zip(model.parameters(),
                                      [layers[0].weights, layers[0].bias, layers[2].weights, layers[2].bias]))


def test_sequential_repr():
    model = Sequential(Dense(4, 8), ReLU(), Dense(8, 2))
    assert repr(model) == ("Sequential(\n  Dense(input_size=4, output_size=8),\n  ReLU(),\n"
                           "  Dense(input_size=8, output_size=2)\n)")


@pytest.mark.parametrize("cls", [ReLU, Sigmoid, Tanh, Softmax])
def test_activation_classes_have_no_parameters_and_a_plain_repr(cls):
    assert cls().parameters() == []
    assert repr(cls()) == f"{cls.__name__}()"


def test_softmax_class_takes_an_axis():
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    np.testing.assert_allclose(Softmax(axis=0)(Tensor(x)).data, np.exp(x) / np.exp(x).sum(axis=0), rtol=1e-15)


def test_base_classes_refuse_to_compute():
    with pytest.raises(NotImplementedError):
        Activation()(Tensor(1.0))
    with pytest.raises(NotImplementedError):
        Loss()(Tensor(1.0), Tensor(1.0))


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------

def test_loss_classes_return_scalars_with_exact_values():
    p = Tensor(np.array([[0.5, 1.0], [2.0, -1.0]]))
    t = Tensor(np.array([[1.0, 1.0], [0.0, 1.0]]))
    mse = MeanSquaredError()(p, t)
    assert mse.shape == () and mse.item() == (0.25 + 0 + 4 + 4) / 4
    logits = Tensor(np.log(np.array([[1.0, 3.0], [2.0, 2.0]])))
    ce = CrossEntropyLoss()(logits, Tensor([1, 0]))
    assert ce.shape == () and ce.item() == pytest.approx(-(np.log(0.75) + np.log(0.5)) / 2, rel=1e-15)
    probs = Tensor(np.array([0.25, 0.5]))
    bce = BinaryCrossEntropy()(probs, Tensor(np.array([1.0, 0.0])))
    assert bce.item() == pytest.approx(-(np.log(0.25 + 1e-7) + np.log(0.5 + 1e-7)) / 2, rel=1e-15)
    assert repr(MeanSquaredError()) == "MeanSquaredError()"


def test_cross_entropy_is_one_recorded_operation_whose_gradient_is_softmax_minus_onehot():
    logits = Tensor(np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]), requires_grad=True)
    loss = cross_entropy(logits, Tensor([1, 2]))
    assert loss._op == "cross_entropy" and loss._parents[0] is logits
    loss.backward()
    probabilities = np.exp(logits.data) / np.exp(logits.data).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(logits.grad.data, (probabilities - np.eye(3)[[1, 2]]) / 2, rtol=1e-14)


def test_cross_entropy_gradient_matches_its_forward_for_unnormalised_target_rows():
    targets = np.array([[0.5, 0.2, 0.1], [0.0, 1.0, 1.0]])     # rows sum to 0.8 and 2
    _, (grad,), (numeric,) = autograd_and_numeric(lambda x: cross_entropy(x, Tensor(targets)),
                                                  [np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])])
    np.testing.assert_allclose(grad.data, numeric, atol=1e-5, rtol=1e-3)


# ---------------------------------------------------------------------------------------------
# Optimizers: first steps by hand
# ---------------------------------------------------------------------------------------------

def parameter(values, grad=None):
    p = Tensor(np.array(values, dtype=np.float64), requires_grad=True)
    if grad is not None:
        p.grad = Tensor(np.array(grad, dtype=np.float64))
    return p


def test_sgd_step():
    p = parameter([1.0, 2.0], grad=[0.5, -1.0])
    SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.data, [1.0 - 0.1 * 0.5, 2.0 + 0.1 * 1.0])


def test_sgd_momentum_two_steps():
    p = parameter([1.0, 2.0], grad=[0.5, -1.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    opt.step()                                             # v1 = g1
    np.testing.assert_array_equal(p.data, [0.95, 2.1])
    p.grad = Tensor(np.array([1.0, 1.0]))
    opt.step()                                             # v2 = 0.9 v1 + g2
    v2 = 0.9 * np.array([0.5, -1.0]) + np.array([1.0, 1.0])
    np.testing.assert_allclose(p.data, np.array([0.95, 2.1]) - 0.1 * v2, rtol=1e-15)


def test_sgd_weight_decay_adds_decay_times_parameter_to_the_gradient():
    p = parameter([1.0, -2.0], grad=[0.0, 0.0])
    SGD([p], lr=0.5, weight_decay=0.1).step()
    np.testing.assert_allclose(p.data, [1.0 - 0.5 * 0.1, -2.0 + 0.5 * 0.2], rtol=1e-15)


def test_adam_first_step_moves_every_coordinate_by_the_learning_rate():
    g = np.array([0.5, -1e-3, 20.0])
    p = parameter([1.0, 2.0, 3.0], grad=g)
    Adam([p], lr=0.01).step()
    m_hat, v_hat = (0.1 * g) / (1 - 0.9), (0.001 * g * g) / (1 - 0.999)
    expected = np.array([1.0, 2.0, 3.0]) - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(p.data, expected, rtol=1e-15)
    np.testing.assert_allclose(p.data, [0.99, 2.01, 2.99], rtol=1e-7)    # ~ lr * sign(g)


def test_adam_second_step_by_hand():
    g1, g2 = np.array([0.5, -1.0]), np.array([0.1, 0.3])
    p = parameter([1.0, 2.0], grad=g1)
    opt = Adam([p], lr=0.1, betas=(0.8, 0.9), eps=1e-6)
    opt.step()
    p.grad = Tensor(g2)
    opt.step()
    expected = np.array([1.0, 2.0])
    m = v = np.zeros(2)
    for t, g in enumerate([g1, g2], start=1):
        m, v = 0.8 * m + 0.2 * g, 0.9 * v + 0.1 * g * g
        expected = expected - 0.1 * (m / (1 - 0.8 ** t)) / (np.sqrt(v / (1 - 0.9 ** t)) + 1e-6)
    np.testing.assert_allclose(p.data, expected, rtol=1e-14)
    assert opt.steps == 2


def test_optimizers_skip_parameters_without_a_gradient_and_zero_grad_clears():
    with_grad, without = parameter([1.0], grad=[1.0]), parameter([5.0])
    for opt in (SGD([with_grad, without], lr=0.1, momentum=0.9),
                Adam([with_grad, without], lr=0.1, weight_decay=0.1)):
        opt.step()
        np.testing.assert_array_equal(without.data, [5.0])
    opt.zero_grad()
    assert with_grad.grad is None and without.grad is None


def test_optimizers_update_the_models_own_tensors_and_keep_float32():
    model = Sequential(Dense(3, 2, rng=np.random.default_rng(0)))
    params = model.parameters()
    before = [p.data.copy() for p in params]
    opt = Adam(p for p in model.parameters())                 # any iterable of parameters
    model(Tensor(np.ones((4, 3), dtype=np.float32))).sum().backward()
    opt.step()
    for p, old in zip(model.parameters(), before):
        assert p.dtype == np.float32
        assert not np.array_equal(p.data, old)
    assert all(a is b for a, b in zip(opt.parameters, params))


@pytest.mark.parametrize("cls", [SGD, Adam])
def test_optimizer_arguments_are_validated(cls):
    with pytest.raises(ValueError, match=re.escape(f"{cls.__name__} got an empty parameter list")):
        cls([], lr=0.1)
    with pytest.raises(ValueError, match=re.escape("learning rate must be positive, got 0")):
        cls([parameter([1.0])], lr=0)
    with pytest.raises(ValueError, match=re.escape("learning rate must be positive, got -0.5")):
        cls([parameter([1.0])], lr=-0.5)


def test_the_optimizer_base_class_has_no_update_rule():
    p = parameter([1.0], grad=[1.0])
    with pytest.raises(NotImplementedError):
        Optimizer([p], lr=0.1).step()


# ---------------------------------------------------------------------------------------------
# DataLoader and helpers
# ---------------------------------------------------------------------------------------------

def loader_data(n=10):
    inputs = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return inputs, np.arange(n)          # target i belongs to row i


def test_dataloader_batches_in_order_without_shuffling():
    inputs, targets = loader_data()
    loader = DataLoader(inputs, targets, batch_size=4, shuffle=False)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [x.shape for x, _ in batches] == [(4, 2), (4, 2), (2, 2)]
    np.testing.assert_array_equal(np.concatenate([x.data for x, _ in batches]), inputs)
    x, y = batches[0]
    assert x.dtype == np.float32
    assert y.dtype == np.float32                       # integer labels follow the dtype policy
    np.testing.assert_array_equal(y.data, [0, 1, 2, 3])


def test_dataloader_shuffles_reproducibly_every_epoch_and_keeps_pairs_together():
    inputs, targets = loader_data(20)
    first, second = (DataLoader(inputs, targets, batch_size=6, seed=7) for _ in range(2))
    epochs_a = [[y.data.copy() for _, y in first] for _ in range(3)]
    epochs_b = [[y.data.copy() for _, y in second] for _ in range(3)]
    for a, b in zip(epochs_a, epochs_b):                # same seed, same batches
        for batch_a, batch_b in zip(a, b):
            np.testing.assert_array_equal(batch_a, batch_b)
    orders = [np.concatenate(epoch) for epoch in epochs_a]
    for order in orders:                                # every sample exactly once per epoch
        np.testing.assert_array_equal(np.sort(order), np.arange(20))
    assert not np.array_equal(orders[0], orders[1])     # a new order each epoch
    assert not np.array_equal(orders[0], np.arange(20))
    for x, y in DataLoader(inputs, targets, batch_size=6, seed=1):
        np.testing.assert_array_equal(x.data, inputs[y.data.astype(int)])


def test_dataloader_validates_its_arguments():
    with pytest.raises(ValueError, match=re.escape("inputs and targets differ in length: 3 vs 2")):
        DataLoader(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=re.escape("batch_size must be at least 1, got 0")):
        DataLoader(np.zeros((3, 2)), np.zeros(3), batch_size=0)


def test_train_test_split_is_a_seeded_partition():
    inputs, targets = loader_data(10)
    x_train, y_train, x_test, y_test = train_test_split(inputs, targets, test_fraction=0.25, seed=3)
    assert (len(x_train), len(x_test)) == (8, 2)              # round(10 * 0.75) = 8
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_test])), np.arange(10))
    np.testing.assert_array_equal(x_train, inputs[y_train])
    again = train_test_split(inputs, targets, test_fraction=0.25, seed=3)
    np.testing.assert_array_equal(again[1], y_train)


def test_accuracy_is_the_fraction_of_rows_whose_largest_score_is_the_label():
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert accuracy(scores, np.array([1, 0, 0, 0])) == 0.75
    assert accuracy(Tensor(scores), Tensor([1, 1, 1, 1])) == 0.5


def test_evaluate_records_no_graph_and_matches_accuracy(grad_mode_guard):
    modes = []

    class Spy(Module):
        def __init__(self):
            self.layer = Dense(2, 3, rng=np.random.default_rng(0))

        def forward(self, x):
            modes.append(Tensor.grad_enabled)
            return self.layer(x)

    model, rng = Spy(), np.random.default_rng(1)
    inputs, labels = rng.normal(size=(10, 2)).astype(np.float32), rng.integers(0, 3, size=10)
    result = evaluate(model, inputs, labels, batch_size=3)
    assert modes == [False] * 4 and Tensor.grad_enabled is True
    assert result == pytest.approx(accuracy(model.layer(Tensor(inputs)), labels), abs=1e-12)


def test_train_epoch_returns_the_mean_batch_loss_and_fit_keeps_a_history():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(64, 2)).astype(np.float32)
    labels = (inputs[:, 0] > inputs[:, 1]).astype(np.int64)
    model = Sequential(Dense(2, 8, rng=rng), ReLU(), Dense(8, 2, rng=rng))
    loader = DataLoader(inputs, labels, batch_size=16, seed=0)
    history = fit(model, loader, CrossEntropyLoss(), SGD(model.parameters(), lr=0.5), epochs=10,
                  validation=(inputs, labels))
    assert len(history["loss"]) == len(history["val_accuracy"]) == 10
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_accuracy"][-1] >= 0.9
    assert fit(model, loader, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), epochs=2)["val_accuracy"] == []
    # train_epoch's value is the mean of the losses of its batches (before each step)
    frozen = Sequential(Dense(2, 2, rng=rng))

    class NoStep(SGD):
        def step(self):
            pass

    loader = DataLoader(inputs, labels, batch_size=16, shuffle=False)
    mean = train_epoch(frozen, loader, CrossEntropyLoss(), NoStep(frozen.parameters(), lr=0.1))
    expected = np.mean([cross_entropy(frozen(x), y).item() for x, y in loader])
    assert mean == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# The digits
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_load_digits_shapes_dtypes_and_split(digits):
    x_train, y_train, x_test, y_test = digits
    assert x_train.shape == (1438, 64) and x_test.shape == (359, 64)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert set(np.unique(y_train)) == set(range(10))
    np.testing.assert_array_equal(load_digits()[1], y_train)         # the split is seeded


def test_load_digits_reads_exactly_what_scikit_learn_loads(digits):
    """The file is read directly (no scikit-learn import); it must be scikit-learn's own data."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    order = np.random.default_rng(0).permutation(len(bunch.target))
    x_train, y_train, x_test, y_test = digits
    np.testing.assert_array_equal(x_train, (bunch.data[order[:1438]] / 16.0).astype(np.float32))
    np.testing.assert_array_equal(y_test, bunch.target[order[1438:]])
    assert digits_file().name == "digits.csv.gz" and digits_file().is_file()


def test_an_mlp_learns_the_digits_to_at_least_95_percent(digits):
    x_train, y_train, x_test, y_test = digits
    rng = np.random.default_rng(0)
    model = Sequential(Dense(64, 64, rng=rng), ReLU(), Dense(64, 10, rng=rng))
    history = fit(model, DataLoader(x_train, y_train, batch_size=32, seed=0), CrossEntropyLoss(),
                  SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=15)
    assert history["loss"][-1] < 0.1
    assert evaluate(model, x_test, y_test) >= 0.95
