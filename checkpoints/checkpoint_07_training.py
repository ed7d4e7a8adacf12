"""Checkpoint 07 (after module 07, training).

Question: "Can I train a network that recognises handwritten digits?"

Uses every module. The DataLoader must cut a dataset into reproducible, shuffled mini-batches that
cover every sample once per epoch; the training loop must lower the loss; evaluation must not
touch the graph; a `Trainer` must continue a run across calls through the same loop as `fit`;
and a 64-64-10 MLP trained for 20 epochs on scikit-learn's 1,797 handwritten
digits (8x8 pixels; shipped with the package, no download) must reach at least 95% accuracy on the
held-out fifth, for every seed. With the reference package, seeds 0-1,999 all reached at least
98.0% (median 98.9%), in about 0.4 s per run.
"""

import time

import numpy as np
import pytest

from tinytorch.core.tensor import Tensor
from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Dense, Sequential
from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.autograd import no_grad
from tinytorch.core.optimizers import SGD
from tinytorch.core.training import (DataLoader, Trainer, accuracy, evaluate, fit, load_digits,
                                     train_epoch)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_digits_are_loaded_and_split(digits):
    x_train, y_train, x_test, y_test = digits
    assert x_train.shape == (1438, 64) and x_test.shape == (359, 64)
    assert y_train.shape == (1438,) and y_test.shape == (359,)
    assert x_train.dtype == np.float32
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert set(np.unique(y_train)) == set(range(10)) and set(np.unique(y_test)) <= set(range(10))
    # Same seed, same split.
    again = load_digits()
    np.testing.assert_array_equal(again[0], x_train)
    np.testing.assert_array_equal(again[3], y_test)


def test_loader_covers_every_sample_once_per_epoch(checkpoint_seed):
    inputs = np.arange(50, dtype=np.float32).reshape(25, 2)
    targets = np.arange(25)
    loader = DataLoader(inputs, targets, batch_size=8, shuffle=True, seed=checkpoint_seed)
    assert len(loader) == 4
    epochs = []
    for _ in range(2):
        batches = list(loader)
        assert [len(x.data) for x, _ in batches] == [8, 8, 8, 1]
        for x, y in batches:
            assert isinstance(x, Tensor) and isinstance(y, Tensor)
            np.testing.assert_array_equal(np.asarray(x.data)[:, 0], 2 * np.asarray(y.data))
        order = np.concatenate([np.asarray(y.data) for _, y in batches]).astype(int)
        assert sorted(order) == list(range(25)), "every sample exactly once per epoch"
        epochs.append(order)
    assert not np.array_equal(epochs[0], epochs[1]), "the order is reshuffled every epoch"
    replay = DataLoader(inputs, targets, batch_size=8, shuffle=True, seed=checkpoint_seed)
    np.testing.assert_array_equal(
        np.concatenate([np.asarray(y.data) for _, y in replay]).astype(int), epochs[0],
        err_msg="the same seed must give the same batches")


def test_loader_without_shuffle_keeps_the_order():
    loader = DataLoader(np.zeros((10, 3)), np.arange(10), batch_size=4, shuffle=False)
    order = np.concatenate([np.asarray(y.data) for _, y in loader])
    np.testing.assert_array_equal(order, np.arange(10))


def test_loader_rejects_mismatched_data():
    with pytest.raises(ValueError):
        DataLoader(np.zeros((10, 3)), np.zeros(9))


def test_accuracy():
    logits = Tensor([[0.1, 2.0, 0.3], [5.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 3.0, 2.0]])
    assert accuracy(logits, np.array([1, 0, 2, 0])) == 0.75
    assert accuracy(logits, Tensor([1, 0, 2, 1])) == 1.0


def test_evaluate_records_no_graph(digits):
    x_train, y_train, _, _ = digits
    model = Sequential(Dense(64, 16), ReLU(), Dense(16, 10))
    score = evaluate(model, x_train[:100], y_train[:100])
    assert 0.0 <= score <= 1.0
    with no_grad():
        expected = accuracy(model(Tensor(x_train[:100])), y_train[:100])
    assert score == pytest.approx(expected)
    assert model(Tensor(x_train[:2])).requires_grad, "recording resumes after evaluation"


def test_one_epoch_lowers_the_loss(digits):
    x_train, y_train, _, _ = digits
    model = Sequential(Dense(64, 32), ReLU(), Dense(32, 10))
    loader = DataLoader(x_train, y_train, batch_size=32, seed=0)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    with no_grad():
        before = CrossEntropyLoss()(model(Tensor(x_train)), Tensor(y_train)).item()
    mean_loss = train_epoch(model, loader, CrossEntropyLoss(), optimizer)
    assert np.isfinite(mean_loss) and mean_loss < before
    with no_grad():
        after = CrossEntropyLoss()(model(Tensor(x_train)), Tensor(y_train)).item()
    assert after < 0.5 * before, f"one epoch took the loss only from {before:.3f} to {after:.3f}"


@pytest.mark.slow
def test_mlp_recognises_handwritten_digits(digits, checkpoint_seed):
    x_train, y_train, x_test, y_test = digits
    start = time.perf_counter()
    model = Sequential(Dense(64, 64), ReLU(), Dense(64, 10))  # seeded initial weights
    loader = DataLoader(x_train, y_train, batch_size=32, seed=checkpoint_seed)
    loss_fn = CrossEntropyLoss()
    # 15 epochs at a high learning rate, then 5 at a tenth of it (a step decay): the last few
    # noisy mini-batch steps of a high rate can cost a couple of points of test accuracy, so
    # the rate is lowered for the end, as any training recipe does.
    fast = fit(model, loader, loss_fn, SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=15)
    slow = fit(model, loader, loss_fn, SGD(model.parameters(), lr=0.01, momentum=0.9), epochs=5,
               validation=(x_test, y_test))
    elapsed = time.perf_counter() - start
    assert len(fast["loss"]) == 15 and len(slow["val_accuracy"]) == 5
    assert slow["loss"][-1] < 0.1 * fast["loss"][0]
    test_accuracy = evaluate(model, x_test, y_test)
    assert test_accuracy == pytest.approx(slow["val_accuracy"][-1])
    assert test_accuracy >= 0.95, f"test accuracy {test_accuracy:.3f} after 20 epochs"
    assert elapsed < 15, f"training took {elapsed:.1f} s"


def test_a_trainer_continues_a_run_through_the_same_loop_as_fit(digits, checkpoint_seed):
    x_train, y_train, x_test, y_test = digits

    def pieces():
        model = Sequential(Dense(64, 32, rng=np.random.default_rng(checkpoint_seed)), ReLU(),
                           Dense(32, 10, rng=np.random.default_rng(checkpoint_seed + 1)))
        return (model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1, momentum=0.9),
                DataLoader(x_train, y_train, batch_size=32, seed=checkpoint_seed))

    model, loss_fn, optimizer, loader = pieces()
    trainer = Trainer(model, loss_fn, optimizer, loader, validation=(x_test, y_test))
    trainer.fit(2)
    history = trainer.fit(1)
    assert history is trainer.history and trainer.epochs == 3
    same, same_loss, same_optimizer, same_loader = pieces()
    in_one_call = fit(same, same_loader, same_loss, same_optimizer, epochs=3, validation=(x_test, y_test))
    assert history == in_one_call, "Trainer.fit must train exactly as fit does"
    assert trainer.evaluate() == history["val_accuracy"][-1] >= 0.9
    assert trainer.evaluate(x_train, y_train) == evaluate(model, x_train, y_train)
