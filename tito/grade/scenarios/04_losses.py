"""Checkpoint 04 as values: "Can I measure how wrong a prediction is?"

Uses `tt.tensor`, `tt.activations`, `tt.layers` (reference) and `tt.losses` (under grade).
"""

import warnings

import numpy as np

from _common import arr, dtype_name, registry, type_name

MODULE = "losses"
SCENARIOS = []
scenario = registry(SCENARIOS)


def _quietly(fn, *args):
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        result = fn(*args)
    return result, sum(issubclass(w.category, RuntimeWarning) for w in caught)


@scenario(points=4, rtol=1e-5, atol=1e-7)
def mean_squared_error(tt):
    Tensor, losses = tt.tensor.Tensor, tt.losses
    rng = np.random.default_rng(401)
    p = rng.standard_normal((16, 3)).astype(np.float32)
    t = rng.standard_normal((16, 3)).astype(np.float32)
    loss = losses.MeanSquaredError()(Tensor(p), Tensor(t))
    predictions = Tensor([[1.0, 2.0], [3.0, 4.0]])
    return {"random": arr(loss), "shape": np.array(loss.shape, dtype=np.int64), "dtype": dtype_name(loss),
            "type": type_name(loss),
            "example": arr(losses.mean_squared_error(Tensor([1.0, 2.0, 3.0]), Tensor([1.0, 2.0, 5.0]))),
            "ones": arr(losses.MeanSquaredError()(predictions, Tensor([[1.0, 1.0], [1.0, 1.0]]))),
            "zero": arr(losses.MeanSquaredError()(predictions, predictions)),
            "arrays": arr(losses.mean_squared_error(np.array([0.0, 0.0]), np.array([3.0, -4.0]))),
            "float64": arr(losses.mean_squared_error(Tensor(p.astype(np.float64)), Tensor(t.astype(np.float64))))}


@scenario(points=4, rtol=1e-5, atol=1e-6)
def cross_entropy_labels(tt):
    Tensor, losses = tt.tensor.Tensor, tt.losses
    rng = np.random.default_rng(402)
    logits = (rng.standard_normal((32, 10)) * 3).astype(np.float32)
    labels = rng.integers(0, 10, 32)
    ce = losses.CrossEntropyLoss()
    small = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [0.0, 0.0, 3.0]], dtype=np.float32)
    loss = ce(Tensor(logits), Tensor(labels))
    return {"random": arr(loss), "dtype": dtype_name(loss), "shape": np.array(loss.shape, dtype=np.int64),
            "uniform": arr(ce(Tensor(np.zeros((4, 10), dtype=np.float32)), Tensor([0, 3, 7, 9]))),
            "example": arr(losses.cross_entropy(Tensor([[2.0, 0.0]]), Tensor([0]))),
            "label tensor": arr(ce(Tensor(small), Tensor([0, 1, 2]))),
            "label array": arr(ce(Tensor(small), np.array([0, 1, 2]))),
            "label list": arr(ce(Tensor(small), [0, 1, 2])),
            "float64": arr(ce(Tensor(logits.astype(np.float64)), Tensor(labels)))}


@scenario(points=3, rtol=1e-5, atol=1e-6)
def cross_entropy_probabilities(tt):
    Tensor, losses = tt.tensor.Tensor, tt.losses
    rng = np.random.default_rng(403)
    logits = rng.standard_normal((6, 4))
    raw = rng.uniform(0.1, 1.0, (6, 4))
    soft = raw / raw.sum(axis=1, keepdims=True)
    labels = np.array([0, 1, 2, 3, 0, 1])
    one_hot = np.eye(4)[labels]
    ce = losses.CrossEntropyLoss()
    return {"soft": arr(ce(Tensor(logits), Tensor(soft))),
            "one-hot equals labels": bool(np.isclose(arr(ce(Tensor(logits), Tensor(one_hot))),
                                                     arr(ce(Tensor(logits), Tensor(labels))))),
            "one-hot": arr(ce(Tensor(logits), Tensor(one_hot))),
            "unnormalised": arr(ce(Tensor(logits), Tensor(raw)))}


@scenario(points=3, rtol=1e-6, atol=1e-6)
def cross_entropy_stable(tt):
    Tensor, losses = tt.tensor.Tensor, tt.losses
    ce = losses.CrossEntropyLoss()
    logits = Tensor([[1000.0, 0.0, -1000.0]])
    right, warned_right = _quietly(ce, logits, Tensor([0]))
    wrong, warned_wrong = _quietly(ce, logits, Tensor([2]))
    huge, warned_huge = _quietly(ce, Tensor(np.array([[1e4, -1e4], [-1e4, 1e4]], dtype=np.float32)), Tensor([1, 0]))
    return {"right": arr(right), "wrong": arr(wrong), "huge": arr(huge),
            "warnings": warned_right + warned_wrong + warned_huge,
            "confidence order": np.array([float(arr(ce(Tensor(np.eye(5, dtype=np.float32)[[1, 3]] * c), Tensor([1, 3]))))
                                          for c in (8.0, 2.0, 0.0, -2.0)])}


@scenario(points=4, rtol=1e-4, atol=1e-6)
def binary_cross_entropy(tt):
    Tensor, losses = tt.tensor.Tensor, tt.losses
    bce = losses.BinaryCrossEntropy()
    p = np.array([0.9, 0.2, 0.7], dtype=np.float32)
    t = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    worst, warned = _quietly(bce, Tensor([0.0, 1.0]), Tensor([1.0, 0.0]))
    best, warned_best = _quietly(bce, Tensor([1.0, 0.0]), Tensor([1.0, 0.0]))
    rng = np.random.default_rng(404)
    probabilities = rng.uniform(0.05, 0.95, (8, 1))
    targets = (rng.uniform(size=(8, 1)) > 0.5).astype(np.float64)
    return {"example": arr(losses.binary_cross_entropy(Tensor([0.9, 0.2]), Tensor([1.0, 0.0]))),
            "half": arr(bce(Tensor([0.5, 0.5]), Tensor([1.0, 0.0]))), "mixed": arr(bce(Tensor(p), Tensor(t))),
            "worst": arr(worst), "best": arr(best), "warnings": warned + warned_best,
            "random float64": arr(bce(Tensor(probabilities), Tensor(targets)))}


@scenario(points=2, rtol=1e-5, atol=1e-6)
def classes_and_graph(tt):
    Tensor, losses, layers, act = tt.tensor.Tensor, tt.losses, tt.layers, tt.activations
    rng = np.random.default_rng(405)
    net = layers.Sequential(layers.Dense(4, 8, rng=np.random.default_rng(0)), act.Sigmoid(),
                            layers.Dense(8, 3, rng=np.random.default_rng(1)))
    x = Tensor(rng.standard_normal((10, 4)).astype(np.float32))
    labels = rng.integers(0, 3, 10)
    loss = losses.CrossEntropyLoss()(net(x), Tensor(labels))
    regression = losses.MSELoss()(net(x), Tensor(np.zeros((10, 3), dtype=np.float32)))
    return {"network ce": arr(loss), "network mse": arr(regression),
            "ce op": f"{loss._op}/{len(loss._parents)}",
            "recorded": np.array([loss.requires_grad, regression.requires_grad,
                                  (not loss.is_leaf), (not regression.is_leaf)]),
            "aliases": np.array([issubclass(losses.MSELoss, losses.MeanSquaredError),
                                 issubclass(losses.CrossEntropy, losses.CrossEntropyLoss),
                                 issubclass(losses.BCELoss, losses.BinaryCrossEntropy)]),
            "log_softmax_rows": arr(losses.log_softmax_rows(np.array([[1000.0, -1000.0], [1.0, 2.0]])))}
