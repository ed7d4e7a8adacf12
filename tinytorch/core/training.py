import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.core.autograd import no_grad


class DataLoader:
    """Cuts a dataset into mini-batches of Tensors, reshuffled every epoch.

    A seeded generator makes the order reproducible: the same seed gives the same batches,
    so a training run can be repeated exactly.
    """

    def __init__(self, inputs, targets, batch_size: int = 32, shuffle: bool = True, seed=None):
        self.inputs, self.targets = np.asarray(inputs), np.asarray(targets)
        if len(self.inputs) != len(self.targets):
            raise ValueError(f"inputs and targets differ in length: {len(self.inputs)} vs {len(self.targets)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-len(self.inputs) // self.batch_size)

    def __iter__(self):
        order = self.rng.permutation(len(self.inputs)) if self.shuffle else np.arange(len(self.inputs))
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            yield Tensor(self.inputs[batch]), Tensor(self.targets[batch])


def train_test_split(inputs, targets, test_fraction: float = 0.2, seed: int = 0):
    """Shuffle once with a fixed seed, then hold out the last `test_fraction` for testing."""
    order = np.random.default_rng(seed).permutation(len(inputs))
    cut = int(round(len(inputs) * (1 - test_fraction)))
    train, test = order[:cut], order[cut:]
    return inputs[train], targets[train], inputs[test], targets[test]


def load_digits(test_fraction: float = 0.2, seed: int = 0):
    """scikit-learn's 1,797 handwritten digits (8x8 images, shipped with the package: no download).

    Returns (x_train, y_train, x_test, y_test): pixels scaled to [0, 1] as float32 rows of 64,
    labels as integers 0-9.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    inputs = (digits.data / 16.0).astype(np.float32)
    return train_test_split(inputs, digits.target.astype(np.int64), test_fraction, seed)


def accuracy(logits, labels) -> float:
    """The fraction of rows whose highest score is the right label."""
    scores = logits.data if isinstance(logits, Tensor) else np.asarray(logits)
    labels = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    return float(np.mean(scores.argmax(axis=-1) == labels.astype(np.int64)))


def train_epoch(model, loader: DataLoader, loss_fn, optimizer) -> float:
    """One pass over the data: forward, loss, backward, step for every batch. Returns the mean loss."""
    losses = []
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))


def evaluate(model, inputs, labels, batch_size: int = 512) -> float:
    """Accuracy on held-out data, without recording any graph."""
    correct = 0
    with no_grad():
        for start in range(0, len(inputs), batch_size):
            logits = model(Tensor(np.asarray(inputs[start:start + batch_size])))
            correct += accuracy(logits, labels[start:start + batch_size]) * len(logits.data)
    return correct / len(inputs)


def fit(model, loader: DataLoader, loss_fn, optimizer, epochs: int, validation=None) -> dict:
    """Train for `epochs`; returns the history of training loss (and validation accuracy)."""
    history = {"loss": [], "val_accuracy": []}
    for _ in range(epochs):
        history["loss"].append(train_epoch(model, loader, loss_fn, optimizer))
        if validation is not None:
            history["val_accuracy"].append(evaluate(model, *validation))
    return history
