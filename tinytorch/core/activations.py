import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor


def relu(x) -> Tensor:
    """max(0, x): passes positive values, blocks negative ones."""
    x = as_tensor(x)
    return Tensor.from_op(np.maximum(x.data, 0), "relu", (x,))


def sigmoid(x) -> Tensor:
    """1 / (1 + e^-x), computed without overflow for any x.

    The textbook formula overflows in e^-x for x << 0. Both branches below only ever exponentiate
    -|x|, which lies in (0, 1], so sigmoid(-1000) is exactly 0 and sigmoid(1000) exactly 1.
    """
    x = as_tensor(x)
    e = np.exp(-np.abs(x.data))
    out = np.where(x.data >= 0, 1 / (1 + e), e / (1 + e))
    return Tensor.from_op(out.astype(x.dtype, copy=False), "sigmoid", (x,))


def tanh(x) -> Tensor:
    """(e^x - e^-x) / (e^x + e^-x), squashing into (-1, 1); numpy's version is already stable."""
    x = as_tensor(x)
    return Tensor.from_op(np.tanh(x.data), "tanh", (x,))


def softmax(x, axis: int = -1) -> Tensor:
    """e^x / sum(e^x) along `axis`: turns scores into probabilities.

    Subtracting the row maximum first changes nothing mathematically (it cancels in the ratio)
    but keeps every exponent <= 0, so large scores cannot overflow. The maximum is a constant
    here, so no gradient flows through it (none is needed: it cancels).
    """
    x = as_tensor(x)
    shifted = x - Tensor(x.data.max(axis=axis, keepdims=True))
    exps = shifted.exp()
    return exps / exps.sum(axis=axis, keepdims=True)


def log_softmax(x, axis: int = -1) -> Tensor:
    """log(softmax(x)) without ever taking the log of an underflowed 0."""
    x = as_tensor(x)
    shifted = x - Tensor(x.data.max(axis=axis, keepdims=True))
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()


class Activation:
    """Base class: an activation is a function with no parameters, called like a layer."""

    def __call__(self, x) -> Tensor:
        return self.forward(x)

    def forward(self, x) -> Tensor:
        raise NotImplementedError

    def parameters(self) -> list:
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(Activation):
    def forward(self, x) -> Tensor:
        return relu(x)


class Sigmoid(Activation):
    def forward(self, x) -> Tensor:
        return sigmoid(x)


class Tanh(Activation):
    def forward(self, x) -> Tensor:
        return tanh(x)


class Softmax(Activation):
    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x) -> Tensor:
        return softmax(x, axis=self.axis)
