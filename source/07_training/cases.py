"""The spec of 07_training: its cases, each bound to a graded cell by grade id.

Cells covered: training-dataloader-batches, training-dataloader-shuffle, training-split-test,
training-digits-test, training-accuracy-test, training-train-epoch-test, training-evaluate-test,
training-fit-digits and training-trainer-test (public and hidden cases without points: a cell needs all of its cases to
agree), and training-checkpoint, checkpoint 07 as values: "Can I train a network that recognises
handwritten digits?" (cases with points).

Uses modules 01-06 (reference) and `tt.training` (under grade).

The training scenarios run in float64 on a few digits rows with `shuffle=False`, so that their
loss curves depend only on the loop itself: a correct loop that sums in a different order still
agrees to about 1e-12, and the shuffling order is judged once, by its own scenario.
The digits come from scikit-learn's data file directly (read once, before the scenarios fork), so
a bug in the student's `load_digits` costs only the cases that call it (training-digits-test and
the checkpoint's `load_digits` scenario).
"""

import gzip
import importlib.util
import os

import numpy as np

from casekit import arr, dtype_name, f64, message_of, raises, registry, type_name

CASES = []
case = registry(CASES)


def _digits_rows(count: int) -> np.ndarray:
    """The first `count` rows of scikit-learn's digits file (64 pixels 0-16, then the label),
    read straight from the package data: importing scikit-learn would cost seconds."""
    package = importlib.util.find_spec("sklearn").submodule_search_locations[0]
    with gzip.open(os.path.join(package, "datasets", "data", "digits.csv.gz"), "rt") as handle:
        return np.loadtxt([next(handle) for _ in range(count)], delimiter=",")


_DIGITS = _digits_rows(120)
ROWS = _DIGITS[:, :64] / 16.0  # float64
LABELS = _DIGITS[:, 64].astype(np.int64)


def _model(tt, rng, hidden=16):
    """A 64-hidden-10 MLP with float64 parameters drawn from a local generator."""
    layers, act = tt.layers, tt.activations
    first, second = layers.Dense(64, hidden, rng=rng), layers.Dense(hidden, 10, rng=rng)
    for layer in (first, second):
        layer.weights.data = rng.uniform(-0.3, 0.3, layer.weights.shape)
        layer.bias.data = np.zeros(layer.bias.shape)
    return layers.Sequential(first, act.ReLU(), second)


def _params(model) -> np.ndarray:
    return np.concatenate([f64(arr(p)).ravel() for p in model.parameters()])


def _labels(batches) -> np.ndarray:
    return np.concatenate([arr(y).ravel() for _, y in batches]).astype(np.int64)


def _partial_size(rng, most=5, batches=(1, 4)):
    """(n, batch_size) with a last, partial batch: n = batch_size * k + r, 0 < r < batch_size."""
    size = int(rng.integers(2, most + 1))
    return size * int(rng.integers(*batches)) + int(rng.integers(1, size)), size


def _inputs(batches) -> np.ndarray:
    return np.concatenate([arr(x) for x, _ in batches])


def _labelled(rng, rows, classes, right):
    """Random scores and labels of which exactly `right` rows are the argmax (no ties)."""
    scores = rng.standard_normal((rows, classes))
    labels = scores.argmax(axis=1)
    wrong = rng.choice(rows, rows - right, replace=False)
    labels[wrong] = (labels[wrong] + rng.integers(1, classes, len(wrong))) % classes
    return scores, labels


def _global_state():
    state = np.random.get_state()
    return state[0], state[1].copy(), state[2:]


def _same_state(before, after) -> bool:
    return before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2] == after[2]


# --------------------------------------------------------------------------- training-dataloader-batches

@case("training-dataloader-batches", rtol=0, atol=0)
def loader_cuts_batches(tt, rng):
    n, size = _partial_size(rng)
    inputs, targets = rng.standard_normal((n, 2)).astype(np.float32), rng.permutation(n)
    loader = tt.training.DataLoader(inputs, targets, batch_size=size, shuffle=False)
    batches = list(loader)
    return {"len": len(loader), "batches": len(batches),
            "types": ",".join(sorted({type_name(x) + "/" + type_name(y) for x, y in batches})),
            "shapes": np.array([np.shape(arr(x)) for x, _ in batches]), "inputs": _inputs(batches),
            "targets": _labels(batches), "dtype": dtype_name(batches[0][0]),
            "second epoch": _labels(list(loader))}


@case("training-dataloader-batches", hidden=True, rtol=0, atol=0)
def loader_batch_size_table(tt, rng):
    table, labels = rng.standard_normal((12, 2)), rng.integers(0, 3, 12)
    out = {}
    for size in (4, 5, 1, 12, 100):
        loader = tt.training.DataLoader(table, labels, batch_size=size, shuffle=False)
        batches = list(loader)
        out[f"len {size}"] = len(loader)
        out[f"sizes {size}"] = np.array([len(arr(x)) for x, _ in batches])
        out[f"inputs {size}"] = _inputs(batches)
        out[f"targets {size}"] = _labels(batches)
    return out


@case("training-dataloader-batches", hidden=True, rtol=0, atol=0)
def loader_dtypes_and_shapes(tt, rng):
    DataLoader = tt.training.DataLoader
    first = next(iter(DataLoader(rng.standard_normal((6, 2)), np.arange(6), batch_size=4, shuffle=False)))
    single = list(DataLoader(np.ones((1, 3)), np.zeros(1), batch_size=8, shuffle=False))
    images = rng.standard_normal((5, 2, 2)).astype(np.float32)
    image_batches = list(DataLoader(images, np.arange(5), batch_size=2, shuffle=False))
    return {"float64 dtype": dtype_name(first[0]), "one example": len(single),
            "one example shape": np.array(np.shape(arr(single[0][0]))),
            "image shapes": np.array([np.shape(arr(x)) for x, _ in image_batches]),
            "images": _inputs(image_batches)}


# --------------------------------------------------------------------------- training-dataloader-shuffle

@case("training-dataloader-shuffle", rtol=0, atol=0)
def loader_shuffles_each_epoch(tt, rng):
    n, size = _partial_size(rng, 4, (3, 6))  # at least 7 examples: two equal epochs would be a bug, not luck
    inputs = rng.standard_normal((n, 2)).astype(np.float32)
    loader = tt.training.DataLoader(inputs, np.arange(n), batch_size=size, seed=int(rng.integers(0, 2**31)))
    first, second = list(loader), list(loader)
    return {"len": len(loader), "epoch 1": _labels(first), "epoch 2": _labels(second),
            "epoch 1 inputs": _inputs(first),
            "pairs kept": bool(np.array_equal(_inputs(first), inputs[_labels(first)])),
            "every example once": bool(sorted(_labels(first)) == list(range(n)))}


@case("training-dataloader-shuffle", hidden=True, rtol=0, atol=0)
def loader_seeded_reproducible(tt, rng):
    DataLoader = tt.training.DataLoader
    inputs, targets = np.arange(50, dtype=np.float32).reshape(25, 2), np.arange(25)
    seed = int(rng.integers(0, 2**31))

    def epoch(seed_value, size=4):
        return list(DataLoader(inputs, targets, batch_size=size, seed=seed_value))

    before = _global_state()
    first, again, other = epoch(seed), epoch(seed), epoch(seed + 1)
    untouched = _same_state(before, _global_state())
    three = DataLoader(inputs, targets, batch_size=6, seed=seed + 2)
    return {"seed": _labels(first), "same seed": _labels(again), "other seed": _labels(other),
            "sizes": np.array([len(arr(y)) for _, y in first]), "global state untouched": untouched,
            "three epochs": np.concatenate([_labels(list(three)) for _ in range(3)])}


# --------------------------------------------------------------------------- training-split-test

@case("training-split-test", rtol=0, atol=0)
def split_seeded(tt, rng):
    n = 10 * int(rng.integers(1, 4)) + int(rng.choice([1, 4, 7, 8]))  # n * 0.7 rounds up: floor differs
    inputs, targets = rng.standard_normal((n, 2)), rng.permutation(n) * 100
    parts = tt.training.train_test_split(inputs, targets, test_fraction=0.3, seed=int(rng.integers(0, 2**31)))
    return {"shapes": np.array([s for part in parts for s in np.shape(part)]),
            "x train": np.asarray(parts[0]), "y train": np.asarray(parts[1]),
            "x test": np.asarray(parts[2]), "y test": np.asarray(parts[3])}


@case("training-split-test", hidden=True, rtol=0, atol=0)
def split_defaults_and_rounding(tt, rng):
    split = tt.training.train_test_split
    inputs, targets = rng.standard_normal((7, 2)).astype(np.float32), np.arange(7)
    default = split(inputs, targets)
    seed = int(rng.integers(0, 2**31))
    out = {"default y train": np.asarray(default[1]), "default x test": np.asarray(default[2]),
           "default x dtype": str(np.asarray(default[0]).dtype),
           "seed": np.concatenate([np.asarray(part).ravel() for part in split(inputs, targets, 0.4, seed=seed)]),
           "same seed": np.concatenate([np.asarray(part).ravel() for part in split(inputs, targets, 0.4, seed=seed)]),
           "other seed": np.concatenate([np.asarray(p).ravel() for p in split(inputs, targets, 0.4, seed=seed + 1)])}
    for n, fraction in ((7, 0.2), (7, 0.4), (9, 0.25), (13, 0.1), (1797, 0.5)):
        out[f"sizes {n} {fraction}"] = np.array([len(p) for p in split(np.arange(n), np.arange(n), fraction)])
    return out


# --------------------------------------------------------------------------- training-digits-test

def _digits_values(parts, rng) -> dict:
    x_train, y_train, x_test, y_test = (np.asarray(part) for part in parts)
    return {"shapes": np.array([s for part in (x_train, y_train, x_test, y_test) for s in part.shape]),
            "x dtypes": f"{x_train.dtype}/{x_test.dtype}", "y dtypes": f"{y_train.dtype}/{y_test.dtype}",
            "range": np.array([x_train.min(), x_train.max(), x_test.min(), x_test.max()], dtype=np.float64),
            "y train": y_train.astype(np.int64), "y test": y_test.astype(np.int64),
            "train rows": f64(x_train[rng.choice(len(x_train), 8, replace=False)]),
            "test rows": f64(x_test[rng.choice(len(x_test), 8, replace=False)]),
            "train row sums": f64(x_train).sum(axis=1), "test row sums": f64(x_test).sum(axis=1)}


@case("training-digits-test", rtol=1e-6, atol=1e-7, budget=30)  # a student's loader may import scikit-learn
def digits_default_split(tt, rng):
    return _digits_values(tt.training.load_digits(), rng)


@case("training-digits-test", hidden=True, rtol=1e-6, atol=1e-7, budget=30)
def digits_half_split(tt, rng):
    return _digits_values(tt.training.load_digits(test_fraction=0.5, seed=int(rng.integers(0, 10_000))), rng)


# --------------------------------------------------------------------------- training-accuracy-test

@case("training-accuracy-test", rtol=1e-12, atol=0)
def accuracy_of_scores(tt, rng):
    Tensor, accuracy = tt.tensor.Tensor, tt.training.accuracy
    scores, labels = _labelled(rng, 20, 4, 15)
    value = accuracy(scores, labels)
    best = scores.argmax(axis=1)
    return {"value": value, "type": type_name(value), "tensors": accuracy(Tensor(scores), Tensor(labels)),
            "float32 labels": accuracy(Tensor(scores), labels.astype(np.float32)),
            "one row": accuracy(scores[:1], [int(best[0])]), "all wrong": accuracy(scores, (best + 1) % 4)}


@case("training-accuracy-test", hidden=True, rtol=1e-12, atol=0)
def accuracy_lists_and_ties(tt, rng):
    Tensor, accuracy = tt.tensor.Tensor, tt.training.accuracy
    scores, labels = _labelled(rng, 50, 10, 12)
    narrow = scores.astype(np.float32)
    tied = rng.integers(0, 2, (10, 5)).astype(np.float64)
    tied[:, 0] = tied[:, 3] = 2.0  # two maxima per row: argmax takes the first
    tie_labels = rng.permutation(np.array([0] * 6 + [3] * 4))
    return {"arrays": accuracy(scores, labels), "lists": accuracy(scores.tolist(), labels.tolist()),
            "float32 tensors": accuracy(Tensor(narrow), Tensor(narrow.argmax(axis=1))),
            "ties": accuracy(np.array([[1.0, 1.0], [0.0, 0.0]]), np.array([0, 0])),
            "many ties": accuracy(tied, tie_labels),
            "tensor type": type_name(accuracy(Tensor(scores), Tensor(labels)))}


# --------------------------------------------------------------------------- training-train-epoch-test

class _Recorded:
    """A model that notes every forward call."""

    def __init__(self, layer, events):
        self.layer, self.events = layer, events

    def __call__(self, x):
        self.events.append("forward")
        return self.layer(x)


def _spy(tt, events):
    SGD = tt.optimizers.SGD

    class Spy(SGD):
        def zero_grad(self):
            events.append("zero_grad")
            SGD.zero_grad(self)

        def step(self):
            events.append("step" if all(p.grad is not None for p in self.parameters) else "step without grad")
            SGD.step(self)

    return Spy


@case("training-train-epoch-test", rtol=1e-10, atol=1e-12)
def train_epoch_steps(tt, rng):
    Tensor, events = tt.tensor.Tensor, []
    layer = tt.layers.Dense(3, 1, rng=rng)
    layer.weights = Tensor(rng.uniform(-0.5, 0.5, (3, 1)), requires_grad=True)
    layer.bias = Tensor(np.zeros(1), requires_grad=True)
    xs = rng.uniform(-1, 1, (7, 3))
    ys = xs @ rng.uniform(-2, 2, (3, 1)) + rng.uniform(-1, 1, (7, 1))
    loader = tt.training.DataLoader(xs, ys, batch_size=3, shuffle=False)  # batches of 3, 3, 1
    mean = tt.training.train_epoch(_Recorded(layer, events), loader, tt.losses.MeanSquaredError(),
                                   _spy(tt, events)(layer.parameters(), lr=0.1))
    return {"mean loss": mean, "type": type_name(mean), "weights": arr(layer.weights),
            "bias": arr(layer.bias), "events": ",".join(events)}


@case("training-train-epoch-test", hidden=True, rtol=1e-10, atol=1e-12)
def train_epoch_batches_of_one(tt, rng):
    Tensor, seen = tt.tensor.Tensor, []
    slope = tt.layers.Dense(1, 1, bias=False, rng=rng)
    slope.weights = Tensor(rng.uniform(-0.5, 0.5, (1, 1)), requires_grad=True)
    xs, ys = rng.uniform(0.5, 1.5, (4, 1)), rng.uniform(-1, 2, (4, 1))
    MSE = tt.losses.MeanSquaredError

    class Recording(MSE):
        def forward(self, predictions, targets):
            loss = super().forward(predictions, targets)
            seen.append(loss.item())
            return loss

    mean = tt.training.train_epoch(slope, tt.training.DataLoader(xs, ys, batch_size=1, shuffle=False),
                                   Recording(), tt.optimizers.SGD(slope.parameters(), lr=0.1))
    return {"weights": arr(slope.weights), "losses": np.array(seen), "mean": mean,
            "leaf": slope.weights.is_leaf}


# --------------------------------------------------------------------------- training-evaluate-test

def _spied_model(Tensor, weights, seen):
    def model(x):
        out = x @ weights
        seen.append((type_name(x), len(arr(x)), Tensor.grad_enabled, out.requires_grad))
        return out

    return model


@case("training-evaluate-test", rtol=1e-12, atol=0)
def evaluate_chunks(tt, rng):
    Tensor, seen = tt.tensor.Tensor, []
    weights = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    inputs = rng.standard_normal((11, 3))
    labels = (inputs @ arr(weights)).argmax(axis=1)
    wrong = rng.choice(11, 3, replace=False)
    labels[wrong] = (labels[wrong] + rng.integers(1, 4, 3)) % 4  # 8 of 11 right
    value = tt.training.evaluate(_spied_model(Tensor, weights, seen), inputs, labels, batch_size=4)
    return {"value": value, "type": type_name(value), "chunks": np.array([s[1] for s in seen]),
            "input types": ",".join(sorted({s[0] for s in seen})),
            "recording during": any(s[2] for s in seen), "graph recorded": any(s[3] for s in seen),
            "recording after": bool(Tensor.grad_enabled), "no grad": weights.grad is None}


@case("training-evaluate-test", hidden=True, rtol=1e-12, atol=0)
def evaluate_default_chunks(tt, rng):
    Tensor, sizes = tt.tensor.Tensor, []
    layer = tt.layers.Dense(5, 3, rng=rng)
    rows, labels = rng.standard_normal((1100, 5)), rng.integers(0, 3, 1100)

    def model(x):
        sizes.append(len(arr(x)))
        return layer(x)

    value = tt.training.evaluate(model, rows, labels)
    return {"value": value, "chunks": np.array(sizes), "no grad": layer.weights.grad is None,
            "recording after": bool(Tensor.grad_enabled)}


@case("training-evaluate-test", hidden=True, rtol=1e-12, atol=0)
def evaluate_weighs_short_chunk(tt, rng):
    Tensor = tt.tensor.Tensor
    weights = Tensor(rng.standard_normal((3, 4)))
    inputs = rng.standard_normal((7, 3))
    labels = (inputs @ arr(weights)).argmax(axis=1)
    wrong = np.array([2, 3, 4, 5])  # chunks of 3: 2/3, 0/3, 1/1 right; 3/7 overall, not their mean
    labels[wrong] = (labels[wrong] + rng.integers(1, 4, 4)) % 4
    return {"value": tt.training.evaluate(lambda x: x @ weights, inputs, labels, batch_size=3)}


# --------------------------------------------------------------------------- training-fit-digits

@case("training-fit-digits", rtol=1e-7, atol=1e-10)
def fit_history_on_digits(tt, rng):
    model = _model(tt, rng)
    loader = tt.training.DataLoader(ROWS[:80], LABELS[:80], batch_size=20, shuffle=False)
    history = tt.training.fit(model, loader, tt.losses.CrossEntropyLoss(),
                              tt.optimizers.Adam(model.parameters(), lr=0.01), epochs=3,
                              validation=(ROWS[80:], LABELS[80:]))
    final = tt.training.evaluate(model, ROWS[80:], LABELS[80:])
    return {"keys": ",".join(sorted(history)), "loss": np.array(history["loss"], dtype=np.float64),
            "val_accuracy": np.array(history["val_accuracy"], dtype=np.float64),
            "loss falls": bool(history["loss"][-1] < history["loss"][0]), "final": float(final),
            "final is last": bool(final == history["val_accuracy"][-1]), "parameters": _params(model)}


@case("training-fit-digits", hidden=True, rtol=1e-7, atol=1e-10)
def fit_without_validation(tt, rng):
    toggles, labels = np.array([[0.0, 1.0], [1.0, 0.0]] * 4), np.array([1, 0] * 4)
    layer = tt.layers.Dense(2, 2, rng=rng)
    layer.weights.data = rng.uniform(-1, 1, (2, 2))
    layer.bias.data = np.zeros(2)
    history = tt.training.fit(layer, tt.training.DataLoader(toggles, labels, batch_size=4, shuffle=False),
                              tt.losses.CrossEntropyLoss(), tt.optimizers.SGD(layer.parameters(), lr=0.5),
                              epochs=3)
    return {"val entries": len(history["val_accuracy"]), "loss": np.array(history["loss"], dtype=np.float64),
            "loss falls": bool(history["loss"][2] < history["loss"][0]), "weights": arr(layer.weights)}


@case("training-fit-digits", hidden=True, rtol=1e-7, atol=1e-10)
def fit_then_held_out(tt, rng):
    model = _model(tt, rng, hidden=24)
    history = tt.training.fit(model, tt.training.DataLoader(ROWS[:100], LABELS[:100], batch_size=25, shuffle=False),
                              tt.losses.CrossEntropyLoss(), tt.optimizers.Adam(model.parameters(), lr=0.005),
                              epochs=4)
    return {"loss": np.array(history["loss"], dtype=np.float64), "val entries": len(history["val_accuracy"]),
            "held out": float(tt.training.evaluate(model, ROWS[100:], LABELS[100:]))}


# --------------------------------------------------------------------------- training-trainer-test

def _line(tt, rng):
    """A float64 Dense(3, 1) from random weights, and a loader over 7 rows of noisy linear data."""
    Tensor = tt.tensor.Tensor
    layer = tt.layers.Dense(3, 1, rng=rng)
    layer.weights = Tensor(rng.uniform(-0.5, 0.5, (3, 1)), requires_grad=True)
    layer.bias = Tensor(np.zeros(1), requires_grad=True)
    xs = rng.uniform(-1, 1, (7, 3))
    ys = xs @ rng.uniform(-2, 2, (3, 1)) + rng.uniform(-1, 1, (7, 1))
    return layer, tt.training.DataLoader(xs, ys, batch_size=3, shuffle=False)


@case("training-trainer-test", rtol=1e-10, atol=1e-12)
def trainer_continues_across_calls(tt, rng):
    layer, loader = _line(tt, rng)
    trainer = tt.training.Trainer(layer, tt.losses.MeanSquaredError(),
                                  tt.optimizers.SGD(layer.parameters(), lr=0.1, momentum=0.5), loader)
    first = trainer.fit(2)
    after_two = _params(layer)
    second = trainer.fit(1)
    return {"keys": ",".join(sorted(trainer.history)), "returns its history": first is trainer.history and second is first,
            "loss": np.array(trainer.history["loss"], dtype=np.float64),
            "loss types": ",".join(sorted({type_name(v) for v in trainer.history["loss"]})),
            "val entries": len(trainer.history["val_accuracy"]), "epochs": int(trainer.epochs),
            "after two": after_two, "after three": _params(layer)}


@case("training-trainer-test", rtol=1e-7, atol=1e-10)
def trainer_validation_and_evaluate(tt, rng):
    model = _model(tt, rng)
    loader = tt.training.DataLoader(ROWS[:80], LABELS[:80], batch_size=20, shuffle=False)
    trainer = tt.training.Trainer(model, tt.losses.CrossEntropyLoss(),
                                  tt.optimizers.Adam(model.parameters(), lr=0.01), loader,
                                  validation=(ROWS[80:], LABELS[80:]))
    trainer.fit(2)
    trainer.fit(1)
    bare = tt.training.Trainer(model, tt.losses.CrossEntropyLoss(),
                               tt.optimizers.SGD(model.parameters(), lr=0.1), loader)
    return {"loss": np.array(trainer.history["loss"], dtype=np.float64),
            "val_accuracy": np.array(trainer.history["val_accuracy"], dtype=np.float64),
            "evaluate": float(trainer.evaluate()), "evaluate train": float(trainer.evaluate(ROWS[:80], LABELS[:80])),
            "no validation": message_of(bare.evaluate), "parameters": _params(model)}


@case("training-trainer-test", hidden=True, rtol=0, atol=1e-6)
def trainer_learns_a_line(tt, rng):
    Tensor = tt.tensor.Tensor
    slope, intercept = float(rng.uniform(-2, 2)), float(rng.uniform(-1, 1))
    line = tt.layers.Dense(1, 1, rng=rng)
    line.weights = Tensor(np.zeros((1, 1)), requires_grad=True)
    line.bias = Tensor(np.zeros(1), requires_grad=True)
    xs = np.array([[0.5], [1.0], [1.5], [2.0]])
    loader = tt.training.DataLoader(xs, slope * xs + intercept, batch_size=2, shuffle=False)
    trainer = tt.training.Trainer(line, tt.losses.MeanSquaredError(), tt.optimizers.SGD(line.parameters(), lr=0.2), loader)
    for _ in range(3):
        trainer.fit(100)
    return {"weight": f64(arr(line.weights)).ravel(), "bias": f64(arr(line.bias)), "epochs": int(trainer.epochs),
            "last loss": float(trainer.history["loss"][-1])}


# --------------------------------------------------------------------------- training-checkpoint

@case("training-checkpoint", points=2, rtol=0, atol=0)
def loader_batches(tt, rng):
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


@case("training-checkpoint", points=3, rtol=0, atol=0)
def loader_shuffles_by_seed(tt, rng):
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


@case("training-checkpoint", points=2, rtol=0, atol=0)
def split(tt, rng):
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


@case("training-checkpoint", points=2, rtol=1e-6, atol=1e-7, budget=30)  # a student's loader may import scikit-learn: slow
def load_digits(tt, rng):
    x_train, y_train, x_test, y_test = tt.training.load_digits()
    other = tt.training.load_digits(test_fraction=0.5, seed=4)
    return {"shapes": np.array([*np.shape(x_train), *np.shape(y_train), *np.shape(x_test), *np.shape(y_test)]),
            "x dtype": str(np.asarray(x_train).dtype), "y kind": np.asarray(y_train).dtype.kind,
            "range": np.array([np.min(x_train), np.max(x_train)], dtype=np.float64),
            "first rows": f64(np.asarray(x_train)[:3]), "test labels": np.asarray(y_test)[:40].astype(np.int64),
            "label counts": np.bincount(np.asarray(y_train).astype(np.int64), minlength=10),
            "other sizes": np.array([len(part) for part in other]),
            "other labels": np.asarray(other[1])[:20].astype(np.int64)}


@case("training-checkpoint", points=2, rtol=1e-12, atol=0)
def accuracy(tt, rng):
    Tensor, accuracy = tt.tensor.Tensor, tt.training.accuracy
    logits = Tensor([[0.1, 2.0, 0.3], [5.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 3.0, 2.0]])
    scores = rng.standard_normal((50, 7))
    labels = rng.integers(0, 7, 50)
    return {"array labels": accuracy(logits, np.array([0, 0, 2, 0])),
            "tensor labels": accuracy(logits, Tensor([1, 0, 2, 1])),
            "example": accuracy(np.array([[2, 1, 0], [0, 1, 3], [5, 0, 1]]), [0, 2, 1]),
            "random": accuracy(Tensor(scores), labels), "float labels": accuracy(scores, labels.astype(np.float32)),
            "type": type_name(accuracy(logits, np.array([1, 0, 2, 1])))}


@case("training-checkpoint", points=3, rtol=1e-7, atol=1e-10)
def train_epoch(tt, rng):
    model = _model(tt, rng)
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


@case("training-checkpoint", points=2, rtol=1e-12, atol=1e-12)
def evaluate(tt, rng):
    Tensor = tt.tensor.Tensor
    model = _model(tt, rng, hidden=12)
    rows, labels = ROWS[:50], LABELS[:50]
    small = tt.training.evaluate(model, rows, labels, batch_size=7)
    whole = tt.training.evaluate(model, rows, labels)
    after = model(Tensor(rows[:2]))
    trained = _model(tt, rng, hidden=12)
    optimizer = tt.optimizers.SGD(trained.parameters(), lr=0.3)
    for _ in range(15):
        optimizer.zero_grad()
        tt.losses.CrossEntropyLoss()(trained(Tensor(ROWS[:100])), Tensor(LABELS[:100])).backward()
        optimizer.step()
    return {"batch 7": float(small), "default batch": float(whole),
            "recording resumes": after.requires_grad and tt.tensor.Tensor.grad_enabled,
            "trained held-out": float(tt.training.evaluate(trained, ROWS[100:], LABELS[100:], batch_size=8)),
            "trained train": float(tt.training.evaluate(trained, ROWS[:100], LABELS[:100]))}


@case("training-checkpoint", points=2, rtol=1e-7, atol=1e-10)
def fit(tt, rng):
    model = _model(tt, rng)
    loader = tt.training.DataLoader(ROWS[:80], LABELS[:80], batch_size=20, shuffle=False)
    optimizer = tt.optimizers.Adam(model.parameters(), lr=0.01)
    history = tt.training.fit(model, loader, tt.losses.CrossEntropyLoss(), optimizer, epochs=3,
                              validation=(ROWS[80:], LABELS[80:]))
    small = _model(tt, rng, hidden=8)
    plain = tt.training.fit(small, loader, tt.losses.CrossEntropyLoss(),
                            tt.optimizers.SGD(small.parameters(), lr=0.1), epochs=2)
    return {"keys": ",".join(sorted(history)), "loss": np.array(history["loss"], dtype=np.float64),
            "val_accuracy": np.array(history["val_accuracy"], dtype=np.float64),
            "no validation": len(plain["val_accuracy"]), "plain loss": np.array(plain["loss"], dtype=np.float64),
            "parameters": _params(model)}


@case("training-checkpoint", points=2, rtol=1e-7, atol=1e-10)
def trainer(tt, rng):
    model = _model(tt, rng)
    loader = tt.training.DataLoader(ROWS[:80], LABELS[:80], batch_size=16, seed=int(rng.integers(0, 1000)))
    trainer = tt.training.Trainer(model, tt.losses.CrossEntropyLoss(),
                                  tt.optimizers.SGD(model.parameters(), lr=0.2, momentum=0.5), loader,
                                  validation=(ROWS[80:], LABELS[80:]))
    trainer.fit(1)
    trainer.fit(2)
    return {"loss": np.array(trainer.history["loss"], dtype=np.float64),
            "val_accuracy": np.array(trainer.history["val_accuracy"], dtype=np.float64),
            "epochs": int(trainer.epochs), "evaluate": float(trainer.evaluate()), "parameters": _params(model)}
