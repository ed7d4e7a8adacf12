"""Checkpoint 07 as values: "Can I train a network that recognises handwritten digits?"

Uses modules 01-06 (reference) and `tt.training` (under grade).

The training scenarios run in float64 on a few digits rows with `shuffle=False`, so that their
loss curves depend only on the loop itself: a correct loop that sums in a different order still
agrees to about 1e-12, and the shuffling order is judged once, by its own scenario.
The digits come from scikit-learn's data file directly (read once, before the scenarios fork), so
a bug in the student's `load_digits` costs only the `load_digits` scenario.
"""

import gzip
import importlib.util
import os

import numpy as np

from _common import arr, f64, raises, registry, type_name

MODULE = "training"
SCENARIOS = []
scenario = registry(SCENARIOS)


def _digits_rows(count: int) -> np.ndarray:
    """The first `count` rows of scikit-learn's digits file (64 pixels 0-16, then the label),
    read straight from the package data: importing scikit-learn would cost seconds."""
    package = importlib.util.find_spec("sklearn").submodule_search_locations[0]
    with gzip.open(os.path.join(package, "datasets", "data", "digits.csv.gz"), "rt") as handle:
        return np.loadtxt([next(handle) for _ in range(count)], delimiter=",")


_DIGITS = _digits_rows(120)
ROWS = _DIGITS[:, :64] / 16.0  # float64
LABELS = _DIGITS[:, 64].astype(np.int64)


def _model(tt, hidden=16):
    """A 64-hidden-10 MLP with float64 parameters drawn from a local generator."""
    layers, act = tt.layers, tt.activations
    rng = np.random.default_rng(701)
    first, second = layers.Dense(64, hidden, rng=rng), layers.Dense(hidden, 10, rng=rng)
    for layer in (first, second):
        layer.weights.data = rng.uniform(-0.3, 0.3, layer.weights.shape)
        layer.bias.data = np.zeros(layer.bias.shape)
    return layers.Sequential(first, act.ReLU(), second)


def _params(model) -> np.ndarray:
    return np.concatenate([f64(arr(p)).ravel() for p in model.parameters()])


def _labels(batches) -> np.ndarray:
    return np.concatenate([arr(y).ravel() for _, y in batches]).astype(np.int64)


@scenario(points=3, rtol=0, atol=0)
def loader_batches(tt):
    DataLoader = tt.training.DataLoader
    inputs = np.arange(50, dtype=np.float32).reshape(25, 2)
    targets = np.arange(25)
    loader = DataLoader(inputs, targets, batch_size=8, shuffle=False)
    batches = list(loader)
    exact = DataLoader(np.zeros((12, 3)), np.arange(12), batch_size=4, shuffle=False)
    return {"len": len(loader), "len exact": len(exact), "len one": len(DataLoader(inputs, targets, batch_size=100)),
            "batch sizes": np.array([len(arr(x)) for x, _ in batches]),
            "types": ",".join(sorted({type_name(x) + "/" + type_name(y) for x, y in batches})),
            "order": _labels(batches),
            "pairs kept": bool(all(np.array_equal(arr(x)[:, 0], 2 * arr(y)) for x, y in batches)),
            "first batch": arr(batches[0][0]), "second epoch": _labels(list(loader)),
            "mismatched lengths": raises(DataLoader, np.zeros((10, 3)), np.zeros(9)),
            "zero batch size": raises(DataLoader, np.zeros((10, 3)), np.zeros(10), batch_size=0)}


@scenario(points=3, rtol=0, atol=0)
def loader_shuffles_by_seed(tt):
    DataLoader = tt.training.DataLoader
    inputs = np.arange(50, dtype=np.float32).reshape(25, 2)
    targets = np.arange(25)
    loader = DataLoader(inputs, targets, batch_size=8, shuffle=True, seed=7)
    first, second = _labels(list(loader)), _labels(list(loader))
    replay = _labels(list(DataLoader(inputs, targets, batch_size=8, shuffle=True, seed=7)))
    return {"epoch 1": first, "epoch 2": second, "replay": replay,
            "covers every sample": bool(sorted(first) == list(range(25)) and sorted(second) == list(range(25))),
            "default shuffles": not np.array_equal(_labels(list(DataLoader(inputs, targets, batch_size=5, seed=3))),
                                                   np.arange(25))}


@scenario(points=3, rtol=0, atol=0)
def split(tt):
    split = tt.training.train_test_split
    inputs = np.arange(20).reshape(10, 2)
    targets = np.arange(10) * 10
    x_train, y_train, x_test, y_test = split(inputs, targets, test_fraction=0.3, seed=3)
    parts = split(np.arange(17.0), np.arange(17), test_fraction=0.25, seed=11)
    default = split(np.arange(9.0), np.arange(9))
    return {"x train": np.asarray(x_train), "y train": np.asarray(y_train),
            "x test": np.asarray(x_test), "y test": np.asarray(y_test),
            "17 rows": np.concatenate([np.asarray(part, dtype=np.float64) for part in parts]),
            "17 sizes": np.array([len(part) for part in parts]),
            "default": np.concatenate([np.asarray(part, dtype=np.float64) for part in default])}


@scenario(points=2, rtol=1e-6, atol=1e-7, budget=30)  # a student's loader may import scikit-learn: slow
def load_digits(tt):
    x_train, y_train, x_test, y_test = tt.training.load_digits()
    other = tt.training.load_digits(test_fraction=0.5, seed=4)
    return {"shapes": np.array([*np.shape(x_train), *np.shape(y_train), *np.shape(x_test), *np.shape(y_test)]),
            "x dtype": str(np.asarray(x_train).dtype), "y kind": np.asarray(y_train).dtype.kind,
            "range": np.array([np.min(x_train), np.max(x_train)], dtype=np.float64),
            "first rows": f64(np.asarray(x_train)[:3]), "test labels": np.asarray(y_test)[:40].astype(np.int64),
            "label counts": np.bincount(np.asarray(y_train).astype(np.int64), minlength=10),
            "other sizes": np.array([len(part) for part in other]),
            "other labels": np.asarray(other[1])[:20].astype(np.int64)}


@scenario(points=2, rtol=1e-12, atol=0)
def accuracy(tt):
    Tensor, accuracy = tt.tensor.Tensor, tt.training.accuracy
    logits = Tensor([[0.1, 2.0, 0.3], [5.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 3.0, 2.0]])
    rng = np.random.default_rng(702)
    scores = rng.standard_normal((50, 7))
    labels = rng.integers(0, 7, 50)
    return {"array labels": accuracy(logits, np.array([0, 0, 2, 0])),
            "tensor labels": accuracy(logits, Tensor([1, 0, 2, 1])),
            "example": accuracy(np.array([[2, 1, 0], [0, 1, 3], [5, 0, 1]]), [0, 2, 1]),
            "random": accuracy(Tensor(scores), labels), "float labels": accuracy(scores, labels.astype(np.float32)),
            "type": type_name(accuracy(logits, np.array([1, 0, 2, 1])))}


@scenario(points=3, rtol=1e-7, atol=1e-10)
def train_epoch(tt):
    model = _model(tt)
    loader = tt.training.DataLoader(ROWS[:96], LABELS[:96], batch_size=16, shuffle=False)
    optimizer = tt.optimizers.SGD(model.parameters(), lr=0.2, momentum=0.5)
    loss_fn = tt.losses.CrossEntropyLoss()
    curve = [tt.training.train_epoch(model, loader, loss_fn, optimizer) for _ in range(4)]
    mse_model = tt.layers.Dense(64, 1, rng=np.random.default_rng(703))
    mse_model.weights.data = np.zeros((64, 1))
    mse_loader = tt.training.DataLoader(ROWS[:30], ROWS[:30, 20:21], batch_size=7, shuffle=False)
    mse = tt.training.train_epoch(mse_model, mse_loader, tt.losses.MeanSquaredError(),
                                  tt.optimizers.SGD(mse_model.parameters(), lr=0.1))
    return {"loss curve": np.array(curve), "type": type_name(curve[0]), "parameters": _params(model),
            "partial batches (mse)": float(mse), "mse parameters": _params(mse_model)}


@scenario(points=2, rtol=1e-12, atol=1e-12)
def evaluate(tt):
    Tensor = tt.tensor.Tensor
    model = _model(tt, hidden=12)
    rows, labels = ROWS[:50], LABELS[:50]
    small = tt.training.evaluate(model, rows, labels, batch_size=7)
    whole = tt.training.evaluate(model, rows, labels)
    after = model(Tensor(rows[:2]))
    trained = _model(tt, hidden=12)
    optimizer = tt.optimizers.SGD(trained.parameters(), lr=0.3)
    for _ in range(15):
        optimizer.zero_grad()
        tt.losses.CrossEntropyLoss()(trained(Tensor(ROWS[:100])), Tensor(LABELS[:100])).backward()
        optimizer.step()
    return {"batch 7": float(small), "default batch": float(whole),
            "recording resumes": after.requires_grad and tt.tensor.Tensor.grad_enabled,
            "trained held-out": float(tt.training.evaluate(trained, ROWS[100:], LABELS[100:], batch_size=8)),
            "trained train": float(tt.training.evaluate(trained, ROWS[:100], LABELS[:100]))}


@scenario(points=2, rtol=1e-7, atol=1e-10)
def fit(tt):
    model = _model(tt)
    loader = tt.training.DataLoader(ROWS[:80], LABELS[:80], batch_size=20, shuffle=False)
    optimizer = tt.optimizers.Adam(model.parameters(), lr=0.01)
    history = tt.training.fit(model, loader, tt.losses.CrossEntropyLoss(), optimizer, epochs=3,
                              validation=(ROWS[80:], LABELS[80:]))
    small = _model(tt, hidden=8)
    plain = tt.training.fit(small, loader, tt.losses.CrossEntropyLoss(),
                            tt.optimizers.SGD(small.parameters(), lr=0.1), epochs=2)
    return {"keys": ",".join(sorted(history)), "loss": np.array(history["loss"], dtype=np.float64),
            "val_accuracy": np.array(history["val_accuracy"], dtype=np.float64),
            "no validation": len(plain["val_accuracy"]), "plain loss": np.array(plain["loss"], dtype=np.float64),
            "parameters": _params(model)}
