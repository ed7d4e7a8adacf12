# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 07: Training, a network that reads handwritten digits
#
# Six modules built the parts: tensors, activations, layers, losses, gradients, optimizers. This
# module assembles them into the thing they are for: a training run. By the end, a small network
# written entirely in your own framework recognises handwritten digits it has never seen, at
# better than 95% accuracy.
#
# ## Learning goals
# - Feed data to a model in shuffled mini-batches, reproducibly (`DataLoader` with a seed).
# - Hold out test data and explain why accuracy must be measured on data the model never trained on.
# - Write the training loop (`train_epoch`), evaluation without a graph (`evaluate`) and `fit`,
#   and wrap them in a `Trainer` object that remembers a run's pieces and its history.
# - Train a multi-layer perceptron on scikit-learn's handwritten digits to >= 95% test accuracy.
# - Read a learning curve and a confusion matrix; see how batch size and learning rate change the
#   outcome.
#
# ## Build, use, analyse
# 1. **Build**: `DataLoader`, `train_test_split`, `load_digits`, `accuracy`, `train_epoch`,
#    `evaluate`, `fit`, `Trainer`.
# 2. **Use**: train a 64-64-10 network with ReLU, cross-entropy and Adam.
# 3. **Analyse**: the learning curve, which digits get confused, and a small sweep over batch
#    size and learning rate.
#
# ## Where the code goes
# Your `#| export` cells become `tinytorch/core/training.py`:
#
# ```python
# from tinytorch.core.training import DataLoader, load_digits, fit, evaluate, Trainer
# ```
#
# It uses `Tensor` (module 01) and `no_grad` (module 05); the network, the loss and the optimizer
# come from modules 02, 03, 04 and 06. It re-exports module 04's `MSELoss` and `CrossEntropyLoss`,
# which the original TinyTorch course imported from its training module.

# %% nbgrader={"grade": false, "grade_id": "training-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.training
#| export
import importlib.util
from pathlib import Path

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.core.losses import CrossEntropyLoss, MSELoss  # re-exported, see above
from tinytorch.core.autograd import no_grad

# %% [markdown]
# ## Step 1: the `DataLoader`, mini-batches
#
# ### Why batches
# The loss of a network is an average over the whole dataset, so its exact gradient needs a pass
# over all of it: one step per epoch, slow. A gradient from a random *mini-batch* of, say, 32
# examples is a noisy but unbiased estimate of the same thing, at a fraction of the cost, so we get
# dozens of steps per pass instead of one. (The noise even helps: it shakes the parameters out of
# sharp, poorly generalising minima.)
#
# ### Why shuffle, and why a seed
# If the data arrive sorted (all the zeros, then all the ones...), every batch is lopsided and
# training zigzags from class to class. So the order is shuffled, afresh in every epoch, so that
# the batches differ from epoch to epoch. A *seeded* generator (`np.random.default_rng(seed)`)
# makes those shuffles reproducible: the same seed gives exactly the same run, which is what makes
# a result (and a test) repeatable. The loader owns its generator instead of using numpy's global
# random state, so nothing else in the program can change its order.
#
# ### The last batch
# 10 examples in batches of 4 give batches of 4, 4 and 2: the last one is partial, and nothing
# is dropped. The number of batches is therefore $\lceil n / b \rceil$. Example: with
# `shuffle=False`, 10 examples and `batch_size=4`, the batches hold the examples
# `[0, 1, 2, 3]`, `[4, 5, 6, 7]`, `[8, 9]`.
#
# ### Iteration with a generator
# `__iter__` is a generator: each `yield` hands one `(inputs, targets)` pair of Tensors to the
# `for` loop and pauses until the next one is requested, so no copy of the whole shuffled dataset
# is ever made. PyTorch's `torch.utils.data.DataLoader(dataset, batch_size, shuffle, generator=...)`
# plays the same role (and adds worker processes, samplers and collation).

# %% nbgrader={"grade": false, "grade_id": "training-dataloader", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
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
        """The number of batches per epoch, counting a last, partial batch.

        TODO: return the number of examples divided by `self.batch_size`, rounded UP, as an int
        (10 examples in batches of 4 make 3 batches). Integer arithmetic avoids float rounding.
        """
        ### BEGIN SOLUTION
        return -(-len(self.inputs) // self.batch_size)
        ### END SOLUTION

    def __iter__(self):
        """Yield one epoch of `(inputs, targets)` batches, each a pair of Tensors.

        TODO:
        1. The order of the examples: when `self.shuffle` is set, a fresh permutation of
           0..n-1 drawn from the loader's own generator, `self.rng.permutation(n)` (one draw per
           epoch, so each epoch is shuffled differently, and reproducibly); otherwise 0..n-1 in order.
        2. Walk through that order `self.batch_size` indices at a time (the last slice may be
           shorter) and `yield` a Tensor of the selected inputs and a Tensor of the selected
           targets.

        Example: 10 examples, batch_size=4, shuffle=False yields batches holding the examples
        0-3, 4-7 and 8-9.
        """
        ### BEGIN SOLUTION
        order = self.rng.permutation(len(self.inputs)) if self.shuffle else np.arange(len(self.inputs))
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            yield Tensor(self.inputs[batch]), Tensor(self.targets[batch])
        ### END SOLUTION


# %% [markdown]
# Ten examples whose input rows are (i, 10 i) and whose target is i, so each batch shows which
# examples it holds.

# %%
demo_inputs = np.array([[i, 10 * i] for i in range(10)], dtype=np.float32)
demo_targets = np.arange(10)
loader = DataLoader(demo_inputs, demo_targets, batch_size=4, shuffle=False)
print("batches per epoch:", len(loader))
for inputs, targets in loader:
    print("inputs", inputs.shape, "targets", targets.data)
shuffled = DataLoader(demo_inputs, demo_targets, batch_size=4, seed=0)
for epoch in (1, 2):
    print(f"epoch {epoch}:", [batch_targets.data.astype(int).tolist() for _, batch_targets in shuffled])

# %% [markdown]
# Notice that the targets arrive as float32 tensors: integer arrays become float32 under the
# dtype policy of module 01. `CrossEntropyLoss` and `accuracy` turn them back into class indices.

# %% nbgrader={"grade": true, "grade_id": "training-dataloader-batches", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_dataloader_batches():
    """Batch count, shapes, contents and the last partial batch, without shuffling."""
    inputs = np.arange(20, dtype=np.float32).reshape(10, 2)
    targets = np.arange(10)
    loader = DataLoader(inputs, targets, batch_size=4, shuffle=False)
    assert len(loader) == 3, f"10 examples in batches of 4 make 3 batches, got {len(loader)}"
    batches = list(loader)
    assert len(batches) == 3
    for batch_inputs, batch_targets in batches:
        assert isinstance(batch_inputs, Tensor) and isinstance(batch_targets, Tensor)
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    np.testing.assert_array_equal(batches[0][0].data, inputs[:4])
    np.testing.assert_array_equal(batches[2][0].data, inputs[8:])
    np.testing.assert_array_equal(batches[1][1].data, [4, 5, 6, 7])
    assert batches[0][0].dtype == np.float32
    # a second epoch without shuffling is the same again
    np.testing.assert_array_equal(next(iter(loader))[1].data, [0, 1, 2, 3])


test_dataloader_batches()

# %% nbgrader={"grade": true, "grade_id": "training-dataloader-shuffle", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_dataloader_shuffle():
    """Seeded shuffling: reproducible, different every epoch, every example exactly once."""
    inputs = np.arange(10, dtype=np.float32).reshape(10, 1)
    targets = np.arange(10)
    loader = DataLoader(inputs, targets, batch_size=3, seed=7)
    assert len(loader) == 4
    epoch1 = np.concatenate([t.data for _, t in loader]).astype(int)
    epoch2 = np.concatenate([t.data for _, t in loader]).astype(int)
    expected = np.random.default_rng(7)
    np.testing.assert_array_equal(epoch1, expected.permutation(10))
    np.testing.assert_array_equal(epoch2, expected.permutation(10))
    assert not np.array_equal(epoch1, epoch2), "each epoch is shuffled afresh"
    assert sorted(epoch1) == list(range(10))
    # inputs and targets are shuffled together
    for batch_inputs, batch_targets in DataLoader(inputs, targets, batch_size=3, seed=3):
        np.testing.assert_array_equal(batch_inputs.data[:, 0], batch_targets.data)


test_dataloader_shuffle()

# %% [markdown]
# ## Step 2: holding data out, and the digits
#
# ### Why a test set
# A network with thousands of parameters can memorise its training data. Accuracy on the data it
# trained on says how well it memorised; accuracy on data it never saw says how well it
# *generalises*, which is what we care about. So before training we set aside a test set and never
# let the optimizer near it.
#
# `train_test_split` shuffles the indices once with a seeded generator (the data may be sorted by
# class) and cuts them: the first $\mathrm{round}(n (1 - f))$ shuffled examples train, the rest
# test, where $f$ is `test_fraction`. Example: $n = 10$, $f = 0.3$: 7 train, 3 test.
#
# ### The digits
# scikit-learn ships a small dataset of handwritten digits *inside the package* (no download):
# 1,797 images of 8x8 pixels, each pixel an integer intensity from 0 to 16, labelled 0-9. It is a
# plain gzipped CSV file, `datasets/data/digits.csv.gz` in scikit-learn's folder, one image per
# row: 64 pixel values, then the label. We read that file ourselves rather than through
# `sklearn.datasets.load_digits`: importing scikit-learn loads SciPy and takes about a second,
# far longer than reading the file. Knowing your data down to its file format is part of the job.
# We divide by 16, so inputs lie in $[0, 1]$:
# inputs of a similar, small scale keep the first layer's outputs in the range where its
# initialisation was designed to work. With the default 20% held out: 1,438 training and 359
# test images.

# %% nbgrader={"grade": false, "grade_id": "training-split", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def train_test_split(inputs, targets, test_fraction: float = 0.2, seed: int = 0):
    """Shuffle once with a fixed seed, then hold out the last `test_fraction` for testing.

    Returns (train_inputs, train_targets, test_inputs, test_targets).

    TODO:
    1. Shuffle the indices 0..n-1 with `np.random.default_rng(seed).permutation(n)`.
    2. The number of training examples is n * (1 - test_fraction), rounded to the nearest
       integer (`round`), as an int.
    3. The first that-many shuffled indices select the training rows, the rest the test rows;
       index `inputs` and `targets` with the same index arrays so pairs stay together.

    Example: 10 examples and test_fraction=0.3 give 7 training and 3 test examples.
    """
    ### BEGIN SOLUTION
    order = np.random.default_rng(seed).permutation(len(inputs))
    cut = int(round(len(inputs) * (1 - test_fraction)))
    train, test = order[:cut], order[cut:]
    return inputs[train], targets[train], inputs[test], targets[test]
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "training-digits", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def digits_file() -> Path:
    """The digits' CSV file inside scikit-learn's package folder.

    Found without importing scikit-learn (`find_spec` only locates the package), since the import
    alone takes about a second.
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-learn is not installed (pip install scikit-learn): it ships the digits")
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"


def load_digits(test_fraction: float = 0.2, seed: int = 0):
    """scikit-learn's 1,797 handwritten digits (8x8 images, shipped with the package: no download).

    Returns (x_train, y_train, x_test, y_test): pixels scaled to [0, 1] as float32 rows of 64,
    labels as integers 0-9.

    TODO:
    1. Read the file `digits_file()` names with `np.loadtxt`, comma-separated (numpy unpacks a
       `.gz` file by itself): an array of shape (1797, 65), one image per row, 64 pixel values
       0-16 and then the label.
    2. Divide the pixels by 16.0 and convert them to float32; convert the labels to int64.
    3. Split with your `train_test_split`, passing `test_fraction` and `seed` on.
    """
    ### BEGIN SOLUTION
    rows = np.loadtxt(digits_file(), delimiter=",")
    inputs = (rows[:, :64] / 16.0).astype(np.float32)
    return train_test_split(inputs, rows[:, 64].astype(np.int64), test_fraction, seed)
    ### END SOLUTION


# %% [markdown]
# The first training images and their labels:

# %%
import matplotlib.pyplot as plt

x_train, y_train, x_test, y_test = load_digits()
print("train", x_train.shape, x_train.dtype, "test", x_test.shape, "labels", y_train[:10])
print("examples per digit in the training set:", np.bincount(y_train))
figure, axes = plt.subplots(1, 8, figsize=(8, 1.4))
for axis, image, label in zip(axes, x_train, y_train):
    axis.imshow(image.reshape(8, 8), cmap="gray_r")
    axis.set_title(str(label))
    axis.axis("off")
plt.show()

# %% nbgrader={"grade": true, "grade_id": "training-split-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_train_test_split():
    """Sizes, the seeded order, pairs kept together, nothing lost or shared."""
    inputs = np.arange(20).reshape(10, 2)
    targets = np.arange(10) * 100
    x_train, y_train, x_test, y_test = train_test_split(inputs, targets, test_fraction=0.3, seed=1)
    assert x_train.shape == (7, 2) and y_train.shape == (7,)
    assert x_test.shape == (3, 2) and y_test.shape == (3,)
    order = np.random.default_rng(1).permutation(10)
    np.testing.assert_array_equal(y_train, order[:7] * 100)
    np.testing.assert_array_equal(y_test, order[7:] * 100)
    assert np.array_equal(x_train[:, 0] // 2 * 100, y_train), "rows and labels stay paired"
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == sorted(targets.tolist())


test_train_test_split()

# %% nbgrader={"grade": true, "grade_id": "training-digits-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_load_digits():
    """Shapes, dtypes, scaling and the seeded split of scikit-learn's digits."""
    x_train, y_train, x_test, y_test = load_digits()
    assert x_train.shape == (1438, 64) and y_train.shape == (1438,)
    assert x_test.shape == (359, 64) and y_test.shape == (359,)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert sorted(set(y_train.tolist())) == list(range(10))

    raw = np.loadtxt(digits_file(), delimiter=",")
    order = np.random.default_rng(0).permutation(1797)
    np.testing.assert_array_equal(x_test, (raw[order[1438:], :64] / 16.0).astype(np.float32))
    np.testing.assert_array_equal(y_train, raw[order[:1438], 64])


test_load_digits()

# %% [markdown]
# ## Step 3: accuracy
#
# A classifier's network outputs one score (logit) per class; its prediction is the class with the
# highest score, the `argmax` over the last axis. Accuracy is the fraction of rows whose
# prediction equals the label. Example: scores `[[2, 1, 0], [0, 1, 3], [5, 0, 1]]` predict classes
# 0, 2, 0; with labels `[0, 2, 1]` the accuracy is 2/3.
#
# The loss is what we optimise (it is smooth, so it has useful gradients); accuracy is what we
# report (it is what a user cares about, but it is a step function with zero gradient almost
# everywhere). `accuracy` accepts Tensors or plain arrays, and labels in any numeric dtype
# (a DataLoader hands them over as float32).

# %% nbgrader={"grade": false, "grade_id": "training-accuracy", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def accuracy(logits, labels) -> float:
    """The fraction of rows whose highest score is the right label.

    TODO:
    1. Get numpy arrays: the `.data` of a Tensor, `np.asarray` of anything else (for both
       `logits` and `labels`).
    2. Predictions: the index of the largest score along the last axis (`argmax`).
    3. Compare with the labels converted to int64, and return the mean as a Python float.

    Example: scores [[2, 1, 0], [0, 1, 3], [5, 0, 1]] and labels [0, 2, 1] give 2/3.
    """
    ### BEGIN SOLUTION
    scores = logits.data if isinstance(logits, Tensor) else np.asarray(logits)
    labels = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    return float(np.mean(scores.argmax(axis=-1) == labels.astype(np.int64)))
    ### END SOLUTION


# %%
print(accuracy(np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 3.0], [5.0, 0.0, 1.0]]), [0, 2, 1]))

# %% nbgrader={"grade": true, "grade_id": "training-accuracy-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_accuracy():
    scores = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 3.0], [5.0, 0.0, 1.0], [0.1, 0.3, 0.2]])
    labels = np.array([0, 2, 1, 1])
    value = accuracy(scores, labels)
    assert type(value) is float, f"return a Python float, got {type(value).__name__}"
    assert value == 0.75
    # Tensors, with float32 labels as a DataLoader produces them
    assert accuracy(Tensor(scores), Tensor(labels)) == 0.75
    assert accuracy(Tensor(scores), Tensor(labels).data.astype(np.float32)) == 0.75
    assert accuracy(scores[:1], [0]) == 1.0
    assert accuracy(scores, [1, 1, 1, 0]) == 0.0


test_accuracy()

# %% [markdown]
# ## Step 4: the training loop
#
# ### One epoch
# An epoch is one pass over the training data. For every batch the four moves of module 06:
#
# 1. `optimizer.zero_grad()`: clear the previous batch's gradients;
# 2. forward: `model(inputs)` and the loss against the targets;
# 3. `loss.backward()`: gradients for every parameter;
# 4. `optimizer.step()`: update.
#
# `train_epoch` returns the average of the batch losses (each as a Python number via `.item()`,
# so no tensor, and no graph, is kept alive after its step). Averaging over batches is what
# most frameworks report; it weighs a short last batch like a full one, a harmless simplification
# for monitoring.
#
# Worked example (the one the test uses): the model $y = w x + b$ with $w = b = 0$, data
# $x = (1, 2, 3)$, $y = (2, 4, 6)$, batches of 2 without shuffling, mean squared error and SGD with
# $\eta = 0.1$. Batch 1: predictions 0, loss $(4 + 16)/2 = 10$, gradients
# $\partial L/\partial w = \mathrm{mean}(2(0 - y)x) = -10$ and $\partial L/\partial b = -6$, so $w = 1$,
# $b = 0.6$. Batch 2: prediction $3.6$, loss $2.4^2 = 5.76$; gradients $-14.4$ and $-4.8$ give $w = 2.44$,
# $b = 1.08$. The epoch reports $(10 + 5.76)/2 = 7.88$.
#
# ### Evaluation, without a graph
# Measuring accuracy needs only the forward pass. Under `no_grad()` (module 05) no operation
# records its inputs, so evaluation costs no memory for a graph, and nothing can accidentally
# backpropagate through test data. We evaluate in chunks (`batch_size=512`) so that memory stays
# bounded on large datasets, and combine the chunks by counting correct answers (a plain average of
# per-chunk accuracies would overweight a short last chunk). PyTorch's idiom is the same:
# `model.eval()` plus `with torch.no_grad():`.
#
# ### fit
# `fit` runs `epochs` epochs and keeps a history: the training loss of every epoch and, when
# validation data `(inputs, labels)` is given, the accuracy on it after every epoch. That history is
# the learning curve we analyse below.

# %% nbgrader={"grade": false, "grade_id": "training-train-epoch", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def train_epoch(model, loader: DataLoader, loss_fn, optimizer) -> float:
    """One pass over the data: forward, loss, backward, step for every batch. Returns the mean loss.

    TODO: for every `(inputs, targets)` batch of `loader`:
    clear the gradients (`optimizer.zero_grad()`), compute the loss of `model(inputs)` against
    the targets with `loss_fn`, call `backward()` on it, take an optimizer step, and keep the
    loss as a Python number (`.item()`). Return the mean of those numbers as a float.
    """
    ### BEGIN SOLUTION
    losses = []
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "training-evaluate", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def evaluate(model, inputs, labels, batch_size: int = 512) -> float:
    """Accuracy on held-out data, without recording any graph.

    TODO: inside `with no_grad():`, walk through `inputs` in chunks of `batch_size` rows. For
    each chunk compute the logits `model(Tensor(chunk))` and count its correct rows (its
    `accuracy` times its number of rows). Return the total count divided by the number of
    inputs, as a float.
    """
    ### BEGIN SOLUTION
    correct = 0
    with no_grad():
        for start in range(0, len(inputs), batch_size):
            logits = model(Tensor(np.asarray(inputs[start:start + batch_size])))
            correct += accuracy(logits, labels[start:start + batch_size]) * len(logits.data)
    return correct / len(inputs)
    ### END SOLUTION


# %% nbgrader={"grade": false, "grade_id": "training-fit", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def fit(model, loader: DataLoader, loss_fn, optimizer, epochs: int, validation=None) -> dict:
    """Train for `epochs`; returns the history of training loss (and validation accuracy).

    TODO: start from {"loss": [], "val_accuracy": []}. For each epoch append the result of
    `train_epoch` to "loss"; when `validation` is given (a pair `(inputs, labels)`), also append
    `evaluate(model, inputs, labels)` to "val_accuracy". Return the history.
    """
    ### BEGIN SOLUTION
    history = {"loss": [], "val_accuracy": []}
    for _ in range(epochs):
        history["loss"].append(train_epoch(model, loader, loss_fn, optimizer))
        if validation is not None:
            history["val_accuracy"].append(evaluate(model, *validation))
    return history
    ### END SOLUTION


# %% [markdown]
# The worked example above, run through `train_epoch`:

# %%
from tinytorch.core.layers import Dense
from tinytorch.core.losses import MeanSquaredError
from tinytorch.core.optimizers import SGD

line = Dense(1, 1, rng=np.random.default_rng(0))
line.weights = Tensor(np.zeros((1, 1)), requires_grad=True)
line.bias = Tensor(np.zeros(1), requires_grad=True)
xs, ys = np.array([[1.0], [2.0], [3.0]]), np.array([[2.0], [4.0], [6.0]])
mean_loss = train_epoch(line, DataLoader(xs, ys, batch_size=2, shuffle=False), MeanSquaredError(),
                        SGD(line.parameters(), lr=0.1))
print(f"mean loss {mean_loss:.4f}, w = {line.weights.data[0, 0]:.4f}, b = {line.bias.data[0]:.4f}")

# %% nbgrader={"grade": true, "grade_id": "training-train-epoch-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_train_epoch():
    """The worked example: exact parameters and mean loss; the four moves in the right order."""
    from tinytorch.core.layers import Dense
    from tinytorch.core.losses import MeanSquaredError
    from tinytorch.core.optimizers import SGD

    events = []

    class Model:
        def __init__(self):
            self.layer = Dense(1, 1, rng=np.random.default_rng(0))
            self.layer.weights = Tensor(np.zeros((1, 1)), requires_grad=True)
            self.layer.bias = Tensor(np.zeros(1), requires_grad=True)

        def __call__(self, x):
            events.append("forward")
            return self.layer(x)

    class Spy(SGD):
        def zero_grad(self):
            events.append("zero_grad")
            SGD.zero_grad(self)

        def step(self):
            assert all(p.grad is not None for p in self.parameters), "call backward before step"
            events.append("step")
            SGD.step(self)

    model = Model()
    optimizer = Spy(model.layer.parameters(), lr=0.1)
    loader = DataLoader(np.array([[1.0], [2.0], [3.0]]), np.array([[2.0], [4.0], [6.0]]),
                        batch_size=2, shuffle=False)
    mean_loss = train_epoch(model, loader, MeanSquaredError(), optimizer)
    assert type(mean_loss) is float, f"return a Python float, got {type(mean_loss).__name__}"
    np.testing.assert_allclose(mean_loss, 7.88, rtol=1e-12)
    np.testing.assert_allclose(model.layer.weights.data, [[2.44]], rtol=1e-12)
    np.testing.assert_allclose(model.layer.bias.data, [1.08], rtol=1e-12)
    assert events == ["zero_grad", "forward", "step"] * 2, events


test_train_epoch()

# %% nbgrader={"grade": true, "grade_id": "training-evaluate-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_evaluate():
    """Accuracy over chunks, computed under no_grad: no graph is recorded."""
    seen = []
    weights = Tensor(np.array([[1.0, 0.0], [0.0, 1.0]]), requires_grad=True)

    def model(x):
        assert isinstance(x, Tensor), "call the model on a Tensor"
        out = x @ weights
        seen.append((len(x.data), Tensor.grad_enabled, out.requires_grad))
        return out

    inputs = np.array([[1, 0], [0, 1], [1, 0], [2, 1], [0, 3], [5, 1], [1, 2], [0, 1], [3, 1], [1, 1.5]])
    labels = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 0])   # 8 of 10 right
    value = evaluate(model, inputs, labels, batch_size=4)
    assert type(value) is float, f"return a Python float, got {type(value).__name__}"
    np.testing.assert_allclose(value, 0.8, rtol=1e-12)
    assert [size for size, _, _ in seen] == [4, 4, 2], "chunks of batch_size rows"
    assert not any(enabled for _, enabled, _ in seen), "evaluate must run under no_grad()"
    assert not any(recorded for _, _, recorded in seen), "no graph may be recorded"
    assert Tensor.grad_enabled, "recording must be switched back on afterwards"


test_evaluate()

# %% [markdown]
# ## Use: a network that reads handwritten digits
#
# Everything together: a multi-layer perceptron 64 -> 64 -> 10 with a ReLU between the layers, the
# stable cross-entropy of module 04 on its raw scores (logits), and Adam (module 06). Every source
# of randomness is an explicit, seeded generator: the weight initialisation
# (`Dense(..., rng=...)`) and the shuffling (`DataLoader(..., seed=...)`). So this run gives the
# same numbers every time, whatever anything else in the program does with numpy's global random
# state. That is what lets a test demand 95% and never fail by bad luck.

# %%
import time

from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Sequential
from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.optimizers import Adam


def digit_classifier(seed: int = 0) -> Sequential:
    """A 64-64-10 MLP whose initial weights come from one seeded generator."""
    rng = np.random.default_rng(seed)
    return Sequential(Dense(64, 64, rng=rng), ReLU(), Dense(64, 10, rng=rng))


x_train, y_train, x_test, y_test = load_digits()
model = digit_classifier(seed=0)
print(model)
print("accuracy before training:", evaluate(model, x_test, y_test))
started = time.perf_counter()
history = fit(model, DataLoader(x_train, y_train, batch_size=32, seed=0), CrossEntropyLoss(),
              Adam(model.parameters(), lr=0.005), epochs=20, validation=(x_test, y_test))
print(f"trained 20 epochs in {time.perf_counter() - started:.1f} s")
print(f"final training loss {history['loss'][-1]:.4f}, test accuracy {history['val_accuracy'][-1]:.3f}")

# %% nbgrader={"grade": true, "grade_id": "training-fit-digits", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_fit_digits():
    """An MLP trained with fixed seeds reaches >= 95% test accuracy (deterministic: explicit rngs)."""
    from tinytorch.core.activations import ReLU
    from tinytorch.core.layers import Dense, Sequential
    from tinytorch.core.losses import CrossEntropyLoss
    from tinytorch.core.optimizers import Adam

    x_train, y_train, x_test, y_test = load_digits()
    rng = np.random.default_rng(0)
    model = Sequential(Dense(64, 64, rng=rng), ReLU(), Dense(64, 10, rng=rng))
    loader = DataLoader(x_train, y_train, batch_size=32, seed=0)
    history = fit(model, loader, CrossEntropyLoss(), Adam(model.parameters(), lr=0.005),
                  epochs=20, validation=(x_test, y_test))
    assert set(history) == {"loss", "val_accuracy"}
    assert len(history["loss"]) == 20 and len(history["val_accuracy"]) == 20
    assert history["loss"][-1] < 0.25 * history["loss"][0], "the training loss should fall"
    final = evaluate(model, x_test, y_test)
    assert final == history["val_accuracy"][-1]
    assert final >= 0.95, f"test accuracy {final:.3f} < 0.95"


test_fit_digits()

# %% [markdown]
# ## Step 5: a `Trainer`, one object for one training run
#
# ### Why an object
# `fit` needs four things on every call (model, loss, optimizer, loader), and its history covers
# only that call. A real run is rarely one call: you train a few epochs, look at the curve, train
# some more, evaluate on held-out data. A script then has to carry the four pieces around and glue
# the histories of its calls together. A `Trainer` keeps them in one place:
#
# ```python
# trainer = Trainer(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.005),
#                   DataLoader(x_train, y_train, seed=0), validation=(x_test, y_test))
# trainer.fit(5)          # 5 epochs: trainer.history["loss"] has 5 entries
# trainer.fit(5)          # 5 more, continuing where the first call stopped: now 10
# trainer.evaluate()      # accuracy on the validation data; trainer.evaluate(x, y) on any data
# ```
#
# ### No second loop
# The `Trainer` does not train anything itself. `Trainer.fit` calls the `fit` you wrote, which
# calls `train_epoch`: one loop, whichever way you train, so a fix or an improvement to the loop
# reaches both, and `trainer.fit(2); trainer.fit(1)` gives exactly the numbers of
# `fit(..., epochs=3)` (the optimizer's state and the loader's generator carry over between calls,
# as they do between epochs). What the object adds is memory: the pieces of the run, its
# validation data, and one history across every call (`epochs`, given, counts its entries).
# `evaluate` with no arguments measures the validation data; with none to fall back on, it says so.
#
# Libraries built on PyTorch offer the same object in bigger forms (PyTorch Lightning's `Trainer`,
# with callbacks, checkpoints, logging and devices); PyTorch itself leaves the loop to you. The core
# is what you write here.

# %% nbgrader={"grade": false, "grade_id": "training-trainer", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Trainer:
    """One training run: the model, its loss, optimizer and data, and the history of every epoch.

    It owns no loop: `fit` runs the module's `fit` function (so both train the same way) and adds
    each call's epochs to one history, so training can continue across calls.
    """

    def __init__(self, model, loss_fn, optimizer, loader: DataLoader, validation=None):
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.loader = loader
        self.validation = validation
        self.history = dict(loss=[], val_accuracy=[])

    @property
    def epochs(self) -> int:
        """How many epochs this trainer has run, over all its calls to `fit`."""
        return len(self.history["loss"])

    def fit(self, epochs: int) -> dict:
        """Train `epochs` more epochs; returns `self.history`, which now covers them too.

        TODO: call the module's function `fit` with this trainer's model, loader, loss function,
        optimizer and validation data. Add the entries of the history it returns to the end of
        the lists of `self.history`, key by key (`extend`: a list of numbers stays flat), and
        return `self.history` itself.
        """
        ### BEGIN SOLUTION
        run = fit(self.model, self.loader, self.loss_fn, self.optimizer, epochs, self.validation)
        for key, values in run.items():
            self.history[key].extend(values)
        return self.history
        ### END SOLUTION

    def evaluate(self, inputs=None, labels=None) -> float:
        """Accuracy of the model on `(inputs, labels)`, by default on the validation data.

        TODO: return the module's `evaluate` of this trainer's model on `inputs` and `labels`
        (the given lines above your code have already put the validation data there if none
        was passed).
        """
        if inputs is None:
            if self.validation is None:
                raise ValueError("Trainer.evaluate: no inputs given and no validation data to fall back on")
            inputs, labels = self.validation
        ### BEGIN SOLUTION
        return evaluate(self.model, inputs, labels)
        ### END SOLUTION


# %% [markdown]
# The digit classifier again, trained by a `Trainer` in two calls of 5 epochs. Its history has 10
# entries, and they are the numbers a single `fit(..., epochs=10)` gives with the same seeds.

# %%
trained_by_parts = digit_classifier(seed=0)
trainer = Trainer(trained_by_parts, CrossEntropyLoss(), Adam(trained_by_parts.parameters(), lr=0.005),
                  DataLoader(x_train, y_train, batch_size=32, seed=0), validation=(x_test, y_test))
trainer.fit(5)
trainer.fit(5)
in_one_call = digit_classifier(seed=0)
one_history = fit(in_one_call, DataLoader(x_train, y_train, batch_size=32, seed=0), CrossEntropyLoss(),
                  Adam(in_one_call.parameters(), lr=0.005), epochs=10, validation=(x_test, y_test))
print(f"{trainer.epochs} epochs, test accuracy {trainer.evaluate():.3f}")
print("same losses as one call of fit:", trainer.history["loss"] == one_history["loss"])

# %% nbgrader={"grade": true, "grade_id": "training-trainer-test", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_trainer():
    """The worked example through a Trainer, training continued across calls, evaluation."""
    from tinytorch.core.layers import Dense
    from tinytorch.core.losses import CrossEntropyLoss, MeanSquaredError
    from tinytorch.core.optimizers import SGD

    def line_run():
        line = Dense(1, 1, rng=np.random.default_rng(0))
        line.weights = Tensor(np.zeros((1, 1)), requires_grad=True)
        line.bias = Tensor(np.zeros(1), requires_grad=True)
        loader = DataLoader(np.array([[1.0], [2.0], [3.0]]), np.array([[2.0], [4.0], [6.0]]),
                            batch_size=2, shuffle=False)
        return line, loader, MeanSquaredError(), SGD(line.parameters(), lr=0.1)

    line, loader, loss_fn, optimizer = line_run()
    trainer = Trainer(line, loss_fn, optimizer, loader)
    history = trainer.fit(1)
    assert history is trainer.history, "fit returns the trainer's own history"
    assert set(history) == {"loss", "val_accuracy"} and trainer.epochs == 1
    np.testing.assert_allclose(history["loss"], [7.88], rtol=1e-12)
    np.testing.assert_allclose(line.weights.data, [[2.44]], rtol=1e-12)
    np.testing.assert_allclose(line.bias.data, [1.08], rtol=1e-12)

    # two more epochs in a second call: the same numbers as one call of fit with epochs=3
    trainer.fit(2)
    assert trainer.epochs == 3 and history["val_accuracy"] == []
    same_line, *pieces = line_run()
    reference = fit(same_line, *pieces, epochs=3)
    assert trainer.history["loss"] == reference["loss"], "Trainer.fit must run the module's fit"
    np.testing.assert_array_equal(line.weights.data, same_line.weights.data)

    # a small model trained to a known result: the data lie on y = 2x, so w -> 2 and b -> 0
    trainer.fit(297)
    assert trainer.epochs == 300 and all(type(value) is float for value in trainer.history["loss"])
    np.testing.assert_allclose(line.weights.data, [[2.0]], atol=1e-6)
    np.testing.assert_allclose(line.bias.data, [0.0], atol=1e-6)

    # validation: one accuracy per epoch; evaluate() measures the validation data
    toggles, labels = np.array([[0.0, 1.0], [1.0, 0.0]] * 4), np.array([1, 0] * 4)
    switch = Dense(2, 2, rng=np.random.default_rng(1))
    classifier = Trainer(switch, CrossEntropyLoss(), SGD(switch.parameters(), lr=0.5),
                         DataLoader(toggles, labels, batch_size=4, shuffle=False), validation=(toggles, labels))
    classifier.fit(20)
    assert len(classifier.history["val_accuracy"]) == 20
    assert classifier.evaluate() == classifier.history["val_accuracy"][-1] == 1.0
    assert classifier.evaluate(toggles[:2], np.array([0, 0])) == 0.5
    try:
        trainer.evaluate()
    except ValueError as error:
        assert "no validation data" in str(error), str(error)
    else:
        raise AssertionError("evaluate() without data and without validation data must raise ValueError")


test_trainer()

# %% [markdown]
# ## Analyse
#
# ### The learning curve
# The training loss falls quickly for a few epochs, then slowly; the test accuracy rises to a
# plateau. Had we trained far longer, the training loss would keep falling while the test accuracy
# stalled or dropped a little: the network would start memorising rather than generalising
# (overfitting). The plateau tells you when more epochs stop paying.

# %%
epochs = np.arange(1, len(history["loss"]) + 1)
figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
left.plot(epochs, history["loss"], marker="o")
left.set_yscale("log")
left.set_xlabel("epoch")
left.set_ylabel("training loss (cross-entropy)")
right.plot(epochs, history["val_accuracy"], marker="o", color="tab:green")
right.axhline(0.95, color="gray", linestyle="--", linewidth=1)
right.set_xlabel("epoch")
right.set_ylabel("test accuracy")
figure.tight_layout()
plt.show()
with no_grad():
    train_accuracy = accuracy(model(Tensor(x_train)), y_train)
print(f"training accuracy {train_accuracy:.3f} vs test accuracy {history['val_accuracy'][-1]:.3f}")

# %% [markdown]
# ### Which digits get confused?
# A single accuracy number hides *which* mistakes the model makes. The confusion matrix counts, for
# every true digit (row), how often each digit was predicted (column); a perfect classifier has
# numbers only on the diagonal. `np.add.at` adds 1 at every (true, predicted) pair, repeats
# included.

# %%
with no_grad():
    predictions = model(Tensor(x_test)).data.argmax(axis=1)
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (y_test, predictions), 1)
print("true \\ predicted " + " ".join(f"{d:3d}" for d in range(10)))
for digit, row in enumerate(confusion):
    print(f"{digit:16d} " + " ".join(f"{n:3d}" for n in row))
off_diagonal = confusion - np.diag(np.diag(confusion))
pairs = sorted(((int(off_diagonal[t, p]), t, p) for t in range(10) for p in range(10) if off_diagonal[t, p]),
               reverse=True)
print("most frequent mistakes (count, true, predicted):", pairs[:4])

wrong = np.flatnonzero(predictions != y_test)[:8]
if len(wrong):
    figure, axes = plt.subplots(1, len(wrong), figsize=(1.1 * len(wrong), 1.5), squeeze=False)
    for axis, index in zip(axes[0], wrong):
        axis.imshow(x_test[index].reshape(8, 8), cmap="gray_r")
        axis.set_title(f"{y_test[index]} as {predictions[index]}", fontsize=8)
        axis.axis("off")
    plt.show()

# %% [markdown]
# At 8x8 pixels some mistakes are understandable even to a human: look at the misread images above.
#
# ### Batch size and learning rate
# Two settings shape every training run. Smaller batches give more (noisier) steps per epoch;
# larger batches give fewer, more accurate steps, each using the matrix multiply more efficiently.
# The learning rate sets the step length: too small and 10 epochs are not enough, too large and
# training becomes erratic. A quick sweep, 10 epochs each, same initial weights:

# %%
learning_rates = (0.001, 0.01, 0.1)
print(f"{'batch':>6} {'steps/epoch':>12} " + " ".join(f"lr={lr:<7g}" for lr in learning_rates) + "  seconds")
for batch_size in (8, 32, 128, 512):
    results, started = [], time.perf_counter()
    for lr in learning_rates:
        sweep_model = digit_classifier(seed=0)
        fit(sweep_model, DataLoader(x_train, y_train, batch_size=batch_size, seed=0),
            CrossEntropyLoss(), Adam(sweep_model.parameters(), lr=lr), epochs=10)
        results.append(evaluate(sweep_model, x_test, y_test))
    steps = len(DataLoader(x_train, y_train, batch_size=batch_size))
    print(f"{batch_size:6d} {steps:12d} " + " ".join(f"{acc:10.3f}" for acc in results)
          + f"  {time.perf_counter() - started:7.1f}")

# %% [markdown]
# What to look for in the table:
# - With a fixed number of epochs, large batches take few steps (3 per epoch at 512), so they
#   need a larger learning rate to get anywhere; small batches take many steps and do well even
#   with a small learning rate.
# - A learning rate that works for one batch size can be too large for another: with batches of 8,
#   `lr=0.1` makes Adam's noisy steps too long.
# - Time: fewer steps per epoch mean less Python overhead per example, so larger batches are
#   usually faster per epoch, which is why large-scale training uses the largest batch that still
#   generalises, with the learning rate scaled to match. Look at the last column, though: on a
#   small machine numpy's matrix multiply may split a 512-row product over several threads, and
#   for matrices this small the coordination can cost more than it saves (on a 2-core machine we
#   measured batch 512 many times slower with two BLAS threads than with one). Speed is a property
#   of the machine as well as of the algorithm; the thread count (e.g. `OPENBLAS_NUM_THREADS`)
#   is fixed when numpy starts.
#
# ## Summary
# - A `DataLoader` cuts data into shuffled mini-batches; its own seeded generator makes every epoch's
#   order reproducible, and the last partial batch is kept.
# - A held-out test set measures generalisation; `train_test_split` makes one, reproducibly.
# - `train_epoch` is the four moves (zero_grad, forward + loss, backward, step) per batch;
#   `evaluate` runs the forward pass under `no_grad` and counts correct answers; `fit` records the
#   learning curve.
# - A `Trainer` keeps a run's model, loss, optimizer, data and history in one object and continues
#   training across calls, through the same `fit`: one loop, two ways to call it.
# - A 64-64-10 MLP built from your own modules reads handwritten digits at about 98% accuracy, and
#   because every random choice is seeded, it does so every time.
#
# ## Checkpoint
# This module unlocks `checkpoints/checkpoint_07_training.py`, which asks:
# **"Can I train a network that recognises handwritten digits?"** Run it with
#
# ```
# make checkpoints
# ```
#
# or on its own: `.venv/bin/python -m pytest checkpoints/checkpoint_07_*.py`.
#
# That completes the core of TinyTorch: tensors, activations, layers, losses, automatic
# differentiation, optimizers and training, each written by you and each tested on its own.
# Modules 08 and 09 build on it the architectures most students come for: convolutional networks
# (`08_spatial`) and attention with a small transformer (`09_attention`).


# %% [markdown]
# ## Checkpoint cell (20 points)
#
# This last graded cell asks the checkpoint's question of your own code, in a few lines. When your
# notebook is graded, its 20 points are decided differently: the autograder exports your module,
# runs the checkpoint's cases on it in a sandbox (with the published reference standing in for
# the earlier modules), on inputs drawn for your submission, and compares the values with the
# reference's outside your notebook. Passing here is a good sign; the comparison is what counts.

# %% nbgrader={"grade": true, "grade_id": "training-checkpoint", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_checkpoint_training():
    """Can I train a network that recognises handwritten digits?"""
    from tinytorch.core.activations import ReLU
    from tinytorch.core.layers import Dense, Sequential
    from tinytorch.core.losses import CrossEntropyLoss
    from tinytorch.core.optimizers import Adam

    x_train, y_train, x_test, y_test = load_digits(seed=0)
    rng = np.random.default_rng(0)
    model = Sequential(Dense(64, 32, rng=rng), ReLU(), Dense(32, 10, rng=rng))
    loader = DataLoader(x_train, y_train, batch_size=32, seed=0)
    history = fit(model, loader, CrossEntropyLoss(), Adam(model.parameters(), lr=0.01), epochs=8)
    assert len(loader) == 45 and len(history["loss"]) == 8
    assert history["loss"][-1] < history["loss"][0]
    assert evaluate(model, x_test, y_test) >= 0.9


test_checkpoint_training()


# %% [markdown]
# ## Check your work
#
# Save the notebook (Ctrl+S), then run the cell below. It runs the same check as
# `tito check 07_training` in a terminal: your saved notebook, top to bottom in a fresh kernel that
# sees only the earlier modules (as grading does), then the module's checkpoint on the code of
# your export cells. It lists which visible tests pass, the first failure of the others and what
# to try next. At grading, each test cell's points also need the grader's own cases for it (some
# of them hidden) to agree with the reference. When tito or nbgrader runs this notebook, the
# cell only says it was skipped.

# %%
from tito.student import check_module

check_module("07_training")
