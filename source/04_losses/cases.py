"""The spec of 04_losses: its cases, each bound to a graded cell by grade id.

Cells covered, each by public cases (what its visible test asserts) and hidden ones (what its
former hidden tests checked): losses-mse-values (mean_squared_error), losses-log-softmax-values
(log_softmax_rows), losses-cross-entropy-indices, -probs, -stable and -graph (cross_entropy),
losses-bce-values (binary_cross_entropy), losses-classes-aliases (the Loss classes and aliases);
these carry no points. The checkpoint cell, losses-checkpoint, is scored case by case with
points: checkpoint 04 as values, "Can I measure how wrong a prediction is?"

Uses `tt.tensor`, `tt.activations`, `tt.layers` (reference) and `tt.losses` (under grade).
"""

import warnings

import numpy as np

from casekit import arr, dtype_name, registry, type_name

CASES = []
case = registry(CASES)


def _quietly(fn, *args):
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        result = fn(*args)
    return result, sum(issubclass(w.category, RuntimeWarning) for w in caught)


def _shape(tensor) -> np.ndarray:
    return np.array(tensor.shape, dtype=np.int64)


def _sizes(rng, low=2, high=6) -> tuple[int, int]:
    """A small (rows, columns) shape drawn from rng."""
    return int(rng.integers(low, high)), int(rng.integers(low, high))


# ------------------------------------------------------------------ losses-mse-values

@case("losses-mse-values", rtol=1e-6, atol=1e-7)
def mse_example(tt, rng):
    Tensor, losses = tt.tensor.Tensor, tt.losses
    loss = losses.mean_squared_error(Tensor([1.0, 2.0, 3.0]), Tensor([1.0, 2.0, 5.0]))
    return {"value": arr(loss), "type": type_name(loss), "shape": _shape(loss), "dtype": dtype_name(loss)}


@case("losses-mse-values", rtol=1e-5, atol=1e-6)
def mse_random(tt, rng):
    Tensor, mse = tt.tensor.Tensor, tt.losses.mean_squared_error
    p = rng.standard_normal(_sizes(rng)).astype(np.float32)
    t = rng.standard_normal(p.shape).astype(np.float32)
    loss = mse(Tensor(p), Tensor(t))
    return {"value": arr(loss), "swapped": arr(mse(Tensor(t), Tensor(p))), "shape": _shape(loss),
            "dtype": dtype_name(loss)}


@case("losses-mse-values", rtol=1e-5, atol=1e-6)
def mse_lists_and_arrays(tt, rng):
    mse = tt.losses.mean_squared_error
    same = rng.uniform(-4, 4, (2, 2)).round(2).tolist()
    batch = rng.uniform(-4, 4, _sizes(rng)).astype(np.float32)
    zero = mse(same, same)
    result = mse(batch, np.zeros_like(batch))
    return {"lists": arr(zero), "lists dtype": dtype_name(zero), "arrays": arr(result),
            "arrays dtype": dtype_name(result),
            "example arrays": arr(mse(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32),
                                      np.zeros((2, 2), dtype=np.float32)))}


@case("losses-mse-values", rtol=1e-5, atol=1e-6)
def mse_records_graph(tt, rng):
    Tensor, mse = tt.tensor.Tensor, tt.losses.mean_squared_error
    p = Tensor(rng.uniform(-2, 2, 3).astype(np.float32), requires_grad=True)
    loss = mse(p, rng.uniform(-2, 2, 3).round(2).tolist())
    example = mse(Tensor([0.5, -1.0], requires_grad=True), [1.5, 1.0])
    return {"value": arr(loss), "requires_grad": bool(loss.requires_grad), "example": arr(example),
            "example requires_grad": bool(example.requires_grad)}


@case("losses-mse-values", hidden=True, rtol=1e-10, atol=1e-12)
def mse_float64(tt, rng):
    mse = tt.losses.mean_squared_error
    a, b = rng.standard_normal((2, 3, 5))
    loss = mse(a, b)
    return {"value": arr(loss), "dtype": dtype_name(loss), "swapped": arr(mse(b, a)),
            "one element": arr(mse([3.0], [-1.0]))}


# ------------------------------------------------------------------ losses-log-softmax-values

@case("losses-log-softmax-values", rtol=1e-6, atol=1e-6)
def log_softmax_example(tt, rng):
    out = tt.losses.log_softmax_rows(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype=np.float32))
    return {"values": arr(out), "type": type_name(out), "shape": _shape(out), "dtype": dtype_name(out),
            "probability sums": np.exp(arr(out, np.float64)).sum(axis=-1)}


@case("losses-log-softmax-values", rtol=1e-5, atol=1e-5)
def log_softmax_random(tt, rng):
    logits = (rng.standard_normal(_sizes(rng)) * 3).astype(np.float32)
    out = tt.losses.log_softmax_rows(logits)
    return {"values": arr(out), "shape": _shape(out), "dtype": dtype_name(out),
            "probability sums": np.exp(arr(out, np.float64)).sum(axis=-1)}


@case("losses-log-softmax-values", rtol=1e-6, atol=1e-6)
def log_softmax_extremes(tt, rng):
    f = tt.losses.log_softmax_rows
    big = f(np.array([[1000.0, -1000.0], [1000.0, 1000.0]], dtype=np.float32))
    gap = np.float32(rng.uniform(300.0, 1000.0))
    drawn = f(np.array([[gap, -gap, 0.0]], dtype=np.float32))
    return {"values": arr(big), "finite": bool(np.isfinite(arr(big)).all()), "dtype": dtype_name(big),
            "drawn gap": arr(drawn), "drawn finite": bool(np.isfinite(arr(drawn)).all())}


@case("losses-log-softmax-values", hidden=True, rtol=1e-10, atol=1e-10)
def log_softmax_float64(tt, rng):
    f = tt.losses.log_softmax_rows
    z = rng.standard_normal((4, 6)) * 3
    got = f(z)
    return {"values": arr(got), "dtype": dtype_name(got), "shifted by 500": arr(f(z + 500.0)),
            "one row": arr(f(np.array([0.0, np.log(3.0)])))}


@case("losses-log-softmax-values", hidden=True, rtol=1e-7, atol=1e-7)
def log_softmax_float32_extreme(tt, rng):
    out = tt.losses.log_softmax_rows(np.float32([[-1000.0, 1000.0, 0.0]]))
    return {"values": arr(out), "dtype": dtype_name(out)}


# ------------------------------------------------------------------ losses-cross-entropy-indices

@case("losses-cross-entropy-indices", rtol=1e-6, atol=1e-7)
def ce_indices_example(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    logits = Tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    loss = ce(logits, np.array([0, 2]))
    return {"value": arr(loss), "type": type_name(loss), "shape": _shape(loss), "dtype": dtype_name(loss),
            "tensor labels": arr(ce(logits, Tensor([0, 2]))), "list labels": arr(ce(logits, [0, 2]))}


@case("losses-cross-entropy-indices", rtol=1e-5, atol=1e-6)
def ce_indices_random(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    rows, classes = int(rng.integers(3, 9)), int(rng.integers(2, 7))
    logits = Tensor((rng.standard_normal((rows, classes)) * 2).astype(np.float32))
    labels = rng.integers(0, classes, rows)
    loss = ce(logits, labels)
    return {"int labels": arr(loss), "dtype": dtype_name(loss), "shape": _shape(loss),
            "tensor labels": arr(ce(logits, Tensor(labels))), "list labels": arr(ce(logits, labels.tolist()))}


@case("losses-cross-entropy-indices", rtol=1e-6, atol=1e-7)
def ce_indices_known_values(tt, rng):
    ce = tt.losses.cross_entropy
    rows, classes = _sizes(rng, 2, 8)
    return {"two classes": arr(ce([[2.0, 0.0]], [0])),
            "uniform": arr(ce(np.zeros((4, 5), dtype=np.float32), [0, 1, 2, 4])),
            "uniform drawn": arr(ce(np.zeros((rows, classes), dtype=np.float32),
                                    rng.integers(0, classes, rows).tolist()))}


@case("losses-cross-entropy-indices", hidden=True, rtol=1e-10, atol=1e-12)
def ce_indices_float64(tt, rng):
    ce = tt.losses.cross_entropy
    z = rng.standard_normal((6, 4)) * 2
    loss = ce(z, rng.integers(0, 4, 6))
    return {"value": arr(loss), "dtype": dtype_name(loss), "shape": _shape(loss),
            "square": arr(ce(np.array([[0.0, 1.0], [2.0, 0.0]]), [1, 1]))}


@case("losses-cross-entropy-indices", hidden=True, rtol=1e-5, atol=1e-6)
def ce_indices_float32_tensors(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    z = (rng.standard_normal((6, 4)) * 2).astype(np.float32)
    loss = ce(Tensor(z), Tensor(rng.integers(0, 4, 6)))
    return {"value": arr(loss), "dtype": dtype_name(loss)}


# ------------------------------------------------------------------ losses-cross-entropy-probs

@case("losses-cross-entropy-probs", rtol=1e-6, atol=1e-7)
def ce_one_hot_example(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    logits = Tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    by_probs = ce(logits, Tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    return {"one-hot": arr(by_probs), "shape": _shape(by_probs), "dtype": dtype_name(by_probs),
            "indices": arr(ce(logits, [0, 2]))}


@case("losses-cross-entropy-probs", rtol=1e-5, atol=1e-6)
def ce_one_hot_random(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    rows, classes = _sizes(rng, 2, 7)
    logits = Tensor((rng.standard_normal((rows, classes)) * 2).astype(np.float32))
    labels = rng.integers(0, classes, rows)
    by_probs = ce(logits, Tensor(np.eye(classes, dtype=np.float32)[labels]))
    return {"one-hot": arr(by_probs), "dtype": dtype_name(by_probs), "indices": arr(ce(logits, labels))}


@case("losses-cross-entropy-probs", rtol=1e-5, atol=1e-6)
def ce_soft_targets(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    rows, classes = _sizes(rng, 2, 7)
    logits = (rng.standard_normal((rows, classes)) * 2).astype(np.float32)
    soft = rng.dirichlet(np.ones(classes), rows).astype(np.float32)
    loss = ce(Tensor(logits), Tensor(soft))
    return {"example": arr(ce([[0.0, np.log(3.0)]], [[0.25, 0.75]])), "drawn": arr(loss),
            "dtype": dtype_name(loss)}


@case("losses-cross-entropy-probs", hidden=True, rtol=1e-10, atol=1e-12)
def ce_soft_float64(tt, rng):
    ce = tt.losses.cross_entropy
    z = rng.standard_normal((5, 3))
    loss = ce(z, rng.dirichlet(np.ones(3), 5))
    return {"value": arr(loss), "dtype": dtype_name(loss),
            "smoothed uniform": arr(ce(np.zeros((2, 4)), np.full((2, 4), 0.25)))}


# ------------------------------------------------------------------ losses-cross-entropy-stable

@case("losses-cross-entropy-stable", rtol=1e-6, atol=1e-6)
def ce_extreme_indices(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    logits = Tensor(np.array([[1000.0, -1000.0]], dtype=np.float32))
    right, wrong = ce(logits, [0]), ce(logits, [1])
    return {"right": arr(right), "wrong": arr(wrong),
            "finite": bool(np.isfinite(arr(right)) and np.isfinite(arr(wrong))),
            "both rows": arr(ce([[1000.0, -1000.0], [-1000.0, 1000.0]], [1, 1]))}


@case("losses-cross-entropy-stable", rtol=1e-6, atol=1e-6)
def ce_extreme_one_hot(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    logits = Tensor(np.array([[1000.0, -1000.0]], dtype=np.float32))
    return {"wrong": arr(ce(logits, [[0.0, 1.0]])), "right": arr(ce(logits, [[1.0, 0.0]]))}


@case("losses-cross-entropy-stable", rtol=1e-6, atol=1e-6)
def ce_extreme_drawn(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    high, low = rng.uniform(300.0, 1000.0), rng.uniform(-1000.0, -300.0)
    logits = Tensor(np.array([[high, low], [low, high]], dtype=np.float32))
    wrong = ce(logits, [1, 0])
    return {"wrong": arr(wrong), "finite": bool(np.isfinite(arr(wrong))), "right": arr(ce(logits, [0, 1])),
            "one-hot": arr(ce(logits, [[0.0, 1.0], [0.0, 1.0]]))}


@case("losses-cross-entropy-stable", hidden=True, rtol=1e-6, atol=1e-6)
def ce_extreme_more(tt, rng):
    ce = tt.losses.cross_entropy
    return {"three classes": arr(ce([[500.0, 0.0, -500.0]], [2])), "1e4": arr(ce([[1e4, -1e4]], [1])),
            "1e5 float64": arr(ce(np.array([[1e5, 0.0]]), [1])),
            "both very negative": arr(ce([[-1000.0, -1000.0]], [0]))}


# ------------------------------------------------------------------ losses-cross-entropy-graph

@case("losses-cross-entropy-graph", rtol=0, atol=0)
def ce_graph_record(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    rows, classes = _sizes(rng)
    logits = Tensor(rng.uniform(-2, 2, (rows, classes)).astype(np.float32), requires_grad=True)
    targets = Tensor(rng.integers(0, classes, rows))
    loss = ce(logits, targets)
    return {"requires_grad": bool(loss.requires_grad), "op": str(loss._op), "parents": len(loss._parents),
            "parent 0 is logits": loss._parents[0] is logits, "parent 1 is targets": loss._parents[1] is targets,
            "empty ctx": bool(loss._ctx == {})}


@case("losses-cross-entropy-graph", rtol=0, atol=0)
def ce_graph_constant(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    rows, classes = _sizes(rng)
    plain = ce(Tensor(rng.uniform(-2, 2, (rows, classes)).astype(np.float32)),
               Tensor(rng.integers(0, classes, rows)))
    return {"op is None": plain._op is None, "requires_grad": bool(plain.requires_grad)}


@case("losses-cross-entropy-graph", hidden=True, rtol=0, atol=0)
def ce_graph_soft_targets(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    logits = Tensor(rng.uniform(-2, 2, (2, 2)).astype(np.float32), requires_grad=True)
    soft = Tensor(rng.dirichlet(np.ones(2), 2).astype(np.float32))
    loss = ce(logits, soft)
    return {"op": str(loss._op), "parent 0 is logits": loss._parents[0] is logits,
            "parent 1 is targets": loss._parents[1] is soft}


@case("losses-cross-entropy-graph", hidden=True, rtol=0, atol=0)
def ce_graph_array_targets(tt, rng):
    Tensor, ce = tt.tensor.Tensor, tt.losses.cross_entropy
    logits = Tensor(rng.uniform(-2, 2, (2, 2)).astype(np.float32), requires_grad=True)
    labels = rng.integers(0, 2, 2)
    loss = ce(logits, labels)
    return {"parent 1 type": type_name(loss._parents[1]), "parent 1 values": arr(loss._parents[1])}


# ------------------------------------------------------------------ losses-bce-values

@case("losses-bce-values", rtol=1e-5, atol=1e-6)
def bce_example(tt, rng):
    Tensor, bce = tt.tensor.Tensor, tt.losses.binary_cross_entropy
    loss = bce(Tensor([0.9, 0.2]), Tensor([1.0, 0.0]))
    return {"value": arr(loss), "type": type_name(loss), "shape": _shape(loss), "dtype": dtype_name(loss),
            "coin flip": arr(bce([0.5, 0.5, 0.5], [1.0, 0.0, 1.0]))}


@case("losses-bce-values", rtol=1e-5, atol=1e-6)
def bce_random(tt, rng):
    Tensor, bce = tt.tensor.Tensor, tt.losses.binary_cross_entropy
    size = int(rng.integers(4, 12))
    p = rng.uniform(0.05, 0.95, size).astype(np.float32)
    t = rng.integers(0, 2, size).astype(np.float32)
    t[:2] = [1.0, 0.0]  # both terms of the formula always count
    loss = bce(Tensor(p), Tensor(t))
    return {"value": arr(loss), "shape": _shape(loss), "dtype": dtype_name(loss)}


@case("losses-bce-values", rtol=1e-5, atol=1e-6)
def bce_certain(tt, rng):
    bce = tt.losses.binary_cross_entropy
    right, wrong = bce([1.0, 0.0], [1.0, 0.0]), bce([0.0, 1.0], [1.0, 0.0])
    eps = float(10 ** rng.uniform(-4, -2))
    return {"right": arr(right), "right finite": bool(np.isfinite(arr(right))),
            "wrong": arr(wrong), "wrong finite": bool(np.isfinite(arr(wrong))),
            "eps 1e-3": arr(bce([0.0], [1.0], eps=1e-3)),
            "drawn eps": arr(bce([0.0, 1.0], [1.0, 0.0], eps=eps))}


@case("losses-bce-values", hidden=True, rtol=1e-10, atol=1e-12)
def bce_float64(tt, rng):
    bce = tt.losses.binary_cross_entropy
    p = rng.uniform(0.05, 0.95, 20)
    t = rng.integers(0, 2, 20).astype(np.float64)
    t[:2] = [1.0, 0.0]
    loss = bce(p, t)
    return {"value": arr(loss), "dtype": dtype_name(loss)}


@case("losses-bce-values", hidden=True, rtol=1e-5, atol=1e-6)
def bce_soft_and_graph(tt, rng):
    Tensor, bce = tt.tensor.Tensor, tt.losses.binary_cross_entropy
    q = round(float(rng.uniform(0.1, 0.9)), 3)
    recorded = bce(Tensor([rng.uniform(0.1, 0.9)], requires_grad=True), [1.0])
    return {"soft 0.3": arr(bce([0.3], [0.3])), "soft drawn": arr(bce([q], [q])),
            "requires_grad": bool(recorded.requires_grad), "recorded value": arr(recorded)}


# ------------------------------------------------------------------ losses-classes-aliases

@case("losses-classes-aliases", rtol=1e-6, atol=1e-6)
def classes_forward(tt, rng):
    Tensor, losses = tt.tensor.Tensor, tt.losses
    p = rng.standard_normal(_sizes(rng)).astype(np.float32)
    return {"mse": arr(losses.MeanSquaredError()(Tensor([1.0, 2.0, 3.0]), Tensor([1.0, 2.0, 5.0]))),
            "mse drawn": arr(losses.MeanSquaredError()(Tensor(p), Tensor(np.zeros_like(p)))),
            "ce": arr(losses.CrossEntropyLoss()([[1000.0, -1000.0]], [1])),
            "bce": arr(losses.BinaryCrossEntropy()([0.5], [1.0]))}


@case("losses-classes-aliases", rtol=0, atol=0)
def classes_types_and_aliases(tt, rng):
    losses = tt.losses
    made = (losses.MeanSquaredError(), losses.CrossEntropyLoss(), losses.BinaryCrossEntropy())
    return {"are losses": np.array([isinstance(m, losses.Loss) for m in made]),
            "aliases": np.array([losses.MSELoss is losses.MeanSquaredError,
                                 losses.CrossEntropy is losses.CrossEntropyLoss,
                                 losses.BCELoss is losses.BinaryCrossEntropy])}


@case("losses-classes-aliases", hidden=True, rtol=1e-10, atol=1e-12)
def classes_aliases_float64(tt, rng):
    losses = tt.losses
    z = rng.standard_normal((4, 3))
    p = rng.uniform(0.1, 0.9, 5)
    return {"CrossEntropy": arr(losses.CrossEntropy()(z, rng.integers(0, 3, 4))),
            "MSELoss forward": arr(losses.MSELoss().forward(z, z * 2)),
            "BCELoss": arr(losses.BCELoss()(p, np.ones(5)))}


@case("losses-classes-aliases", hidden=True, rtol=0, atol=0)
def classes_repr(tt, rng):
    return {"repr": repr(tt.losses.MSELoss())}


# ------------------------------------------------------------------ losses-checkpoint

@case("losses-checkpoint", points=4, rtol=1e-5, atol=1e-7)
def mean_squared_error(tt, rng):
    Tensor, losses = tt.tensor.Tensor, tt.losses
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


@case("losses-checkpoint", points=4, rtol=1e-5, atol=1e-6)
def cross_entropy_labels(tt, rng):
    Tensor, losses = tt.tensor.Tensor, tt.losses
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


@case("losses-checkpoint", points=3, rtol=1e-5, atol=1e-6)
def cross_entropy_probabilities(tt, rng):
    Tensor, losses = tt.tensor.Tensor, tt.losses
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


@case("losses-checkpoint", points=3, rtol=1e-6, atol=1e-6)
def cross_entropy_stable(tt, rng):
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


@case("losses-checkpoint", points=4, rtol=1e-4, atol=1e-6)
def binary_cross_entropy(tt, rng):
    Tensor, losses = tt.tensor.Tensor, tt.losses
    bce = losses.BinaryCrossEntropy()
    p = np.array([0.9, 0.2, 0.7], dtype=np.float32)
    t = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    worst, warned = _quietly(bce, Tensor([0.0, 1.0]), Tensor([1.0, 0.0]))
    best, warned_best = _quietly(bce, Tensor([1.0, 0.0]), Tensor([1.0, 0.0]))
    probabilities = rng.uniform(0.05, 0.95, (8, 1))
    targets = (rng.uniform(size=(8, 1)) > 0.5).astype(np.float64)
    return {"example": arr(losses.binary_cross_entropy(Tensor([0.9, 0.2]), Tensor([1.0, 0.0]))),
            "half": arr(bce(Tensor([0.5, 0.5]), Tensor([1.0, 0.0]))), "mixed": arr(bce(Tensor(p), Tensor(t))),
            "worst": arr(worst), "best": arr(best), "warnings": warned + warned_best,
            "random float64": arr(bce(Tensor(probabilities), Tensor(targets)))}


@case("losses-checkpoint", points=2, rtol=1e-5, atol=1e-6)
def classes_and_graph(tt, rng):
    Tensor, losses, layers, act = tt.tensor.Tensor, tt.losses, tt.layers, tt.activations
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
