"""Checkpoint 04 (after module 04, losses).

Question: "Can I measure how wrong a prediction is?"

Uses `tinytorch.core.tensor`, `.activations`, `.layers` and `.losses`. A loss turns a batch of
predictions and targets into one number that is zero (or minimal) when the prediction is right,
grows as it gets worse, and stays finite for the most confident wrong answers.
"""

import warnings

import numpy as np
import pytest

from tinytorch.core.tensor import Tensor
from tinytorch.core.activations import Sigmoid
from tinytorch.core.layers import Dense, Sequential
from tinytorch.core.losses import (BCELoss, BinaryCrossEntropy, CrossEntropyLoss, MSELoss,
                                   MeanSquaredError)


def scalar(loss) -> float:
    """The loss as a Python float; it must be a Tensor holding exactly one number."""
    assert isinstance(loss, Tensor), f"a loss returns a Tensor, got {type(loss).__name__}"
    assert loss.size == 1, f"a loss is one number, got shape {loss.shape}"
    return float(np.asarray(loss.data).reshape(()))


def reference_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log softmax(logits)[label], in float64, stable."""
    z = logits.astype(np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), labels].mean())


@pytest.fixture
def strict_numpy():
    with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_mean_squared_error_values():
    mse = MeanSquaredError()
    predictions = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert scalar(mse(predictions, Tensor([[1.0, 1.0], [1.0, 1.0]]))) == 3.5  # (0+1+4+9)/4
    assert scalar(mse(predictions, predictions)) == 0.0
    assert scalar(mse(Tensor([0.0, 0.0]), Tensor([3.0, -4.0]))) == 12.5
    assert MSELoss is MeanSquaredError or issubclass(MSELoss, MeanSquaredError)


def test_mean_squared_error_matches_numpy(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    p = rng.standard_normal((16, 3)).astype(np.float32)
    t = rng.standard_normal((16, 3)).astype(np.float32)
    expected = float(np.mean((p.astype(np.float64) - t) ** 2))
    assert scalar(MeanSquaredError()(Tensor(p), Tensor(t))) == pytest.approx(expected, rel=1e-5)


def test_cross_entropy_values():
    ce = CrossEntropyLoss()
    # Uniform scores over C classes: the model is guessing, the loss is log C.
    assert scalar(ce(Tensor(np.zeros((4, 10), dtype=np.float32)), Tensor([0, 3, 7, 9]))) \
        == pytest.approx(np.log(10), rel=1e-6)
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]], dtype=np.float32)
    labels = np.array([0, 2])
    assert scalar(ce(Tensor(logits), Tensor(labels))) == pytest.approx(
        reference_cross_entropy(logits, labels), rel=1e-6)


def test_cross_entropy_takes_labels_in_any_form():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 3.0]], dtype=np.float32)
    labels = np.array([0, 1, 2])
    expected = reference_cross_entropy(logits, labels)
    ce = CrossEntropyLoss()
    one_hot = np.eye(3, dtype=np.float32)[labels]
    for targets in (Tensor(labels), Tensor([0, 1, 2]), labels, Tensor(one_hot)):
        assert scalar(ce(Tensor(logits), targets)) == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_matches_numpy(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    logits = (rng.standard_normal((32, 10)) * 3).astype(np.float32)
    labels = rng.integers(0, 10, 32)
    loss = scalar(CrossEntropyLoss()(Tensor(logits), Tensor(labels)))
    assert loss == pytest.approx(reference_cross_entropy(logits, labels), rel=1e-5)


def test_cross_entropy_is_finite_for_confident_mistakes(strict_numpy):
    ce = CrossEntropyLoss()
    logits = Tensor([[1000.0, 0.0, -1000.0]])
    assert scalar(ce(logits, Tensor([0]))) == pytest.approx(0.0, abs=1e-6)
    wrong = scalar(ce(logits, Tensor([2])))
    assert np.isfinite(wrong), "a confident wrong answer must cost a finite (large) loss"
    assert wrong == pytest.approx(2000.0, rel=1e-6)


def test_binary_cross_entropy_values(strict_numpy):
    bce = BinaryCrossEntropy()
    assert scalar(bce(Tensor([0.5, 0.5]), Tensor([1.0, 0.0]))) == pytest.approx(np.log(2), rel=1e-4)
    p, t = np.array([0.9, 0.2, 0.7], dtype=np.float32), np.array([1.0, 0.0, 0.0])
    p64 = p.astype(np.float64)
    expected = float(-np.mean(t * np.log(p64) + (1 - t) * np.log(1 - p64)))
    assert scalar(bce(Tensor(p), Tensor(t))) == pytest.approx(expected, rel=1e-4)
    assert scalar(bce(Tensor([1.0, 0.0]), Tensor([1.0, 0.0]))) == pytest.approx(0.0, abs=1e-5)
    # Certain and wrong: log(0) would be -inf; the loss must stay finite and large.
    worst = scalar(bce(Tensor([0.0, 1.0]), Tensor([1.0, 0.0])))
    assert np.isfinite(worst) and worst > 10
    assert BCELoss is BinaryCrossEntropy or issubclass(BCELoss, BinaryCrossEntropy)


def test_losses_grow_as_predictions_get_worse(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    target = rng.standard_normal((8, 2)).astype(np.float32)
    noise = rng.standard_normal((8, 2)).astype(np.float32)
    mse = [scalar(MeanSquaredError()(Tensor(target + s * noise), Tensor(target)))
           for s in (0.0, 0.5, 1.0, 2.0)]
    assert mse[0] == 0.0 and mse == sorted(mse) and len(set(mse)) == 4
    labels = rng.integers(0, 5, 8)
    confidence = [scalar(CrossEntropyLoss()(Tensor(np.eye(5, dtype=np.float32)[labels] * c),
                                            Tensor(labels))) for c in (8.0, 2.0, 0.0, -2.0)]
    assert confidence == sorted(confidence) and len(set(confidence)) == 4


def test_a_network_prediction_can_be_scored(checkpoint_seed):
    rng = np.random.default_rng(checkpoint_seed)
    net = Sequential(Dense(4, 8), Sigmoid(), Dense(8, 3))
    x = Tensor(rng.standard_normal((10, 4)).astype(np.float32))
    labels = rng.integers(0, 3, 10)
    logits = net(x)
    loss = CrossEntropyLoss()(logits, Tensor(labels))
    assert scalar(loss) == pytest.approx(reference_cross_entropy(np.asarray(logits.data), labels),
                                         rel=1e-5)
    assert scalar(loss) > 0
    assert loss.requires_grad, "the loss of a network must stay connected to its parameters"
    regression = MeanSquaredError()(net(x), Tensor(np.zeros((10, 3), dtype=np.float32)))
    assert scalar(regression) >= 0 and regression.requires_grad
