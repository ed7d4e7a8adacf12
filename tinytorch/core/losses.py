import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor


def mean_squared_error(predictions, targets) -> Tensor:
    """mean((predictions - targets)^2): the regression loss, built from tensor operations."""
    predictions, targets = as_tensor(predictions), as_tensor(targets)
    return ((predictions - targets) ** 2).mean()


def log_softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-probabilities, stable for any logits (the max is subtracted before exp)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy(logits, targets) -> Tensor:
    """Mean negative log-probability of the right class, computed from raw scores.

    `targets` holds class indices (shape (N,)) or a probability per class (shape (N, C)).
    Taking logits rather than probabilities lets us use log-softmax directly, which is exact
    where log(softmax(x)) would compute log(0) = -inf for very confident wrong answers. It is
    one operation in the graph (its gradient is simply softmax - targets).
    """
    logits, targets = as_tensor(logits), as_tensor(targets)
    log_probs = log_softmax_rows(logits.data)
    if targets.shape == logits.shape:
        picked = (log_probs * targets.data).sum(axis=-1)
    else:
        labels = targets.data.astype(np.intp)
        picked = log_probs[np.arange(len(labels)), labels]
    return Tensor.from_op(np.asarray(-picked.mean(), dtype=logits.dtype), "cross_entropy", (logits, targets))


def binary_cross_entropy(probabilities, targets, eps: float = 1e-7) -> Tensor:
    """-mean(t log p + (1 - t) log(1 - p)) for probabilities p in (0, 1); eps keeps log finite."""
    p, t = as_tensor(probabilities), as_tensor(targets)
    return -(t * (p + eps).log() + (1 - t) * (1 - p + eps).log()).mean()


class Loss:
    """Base class: a loss is called as loss_fn(predictions, targets) and returns a scalar Tensor."""

    def __call__(self, predictions, targets) -> Tensor:
        return self.forward(predictions, targets)

    def forward(self, predictions, targets) -> Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MeanSquaredError(Loss):
    def forward(self, predictions, targets) -> Tensor:
        return mean_squared_error(predictions, targets)


class CrossEntropyLoss(Loss):
    def forward(self, logits, targets) -> Tensor:
        return cross_entropy(logits, targets)


class BinaryCrossEntropy(Loss):
    def forward(self, probabilities, targets) -> Tensor:
        return binary_cross_entropy(probabilities, targets)


MSELoss = MeanSquaredError
CrossEntropy = CrossEntropyLoss
BCELoss = BinaryCrossEntropy
