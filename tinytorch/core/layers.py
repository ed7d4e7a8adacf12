import numpy as np

from tinytorch.core.tensor import Tensor, as_tensor


class Module:
    """Base class of everything with parameters: finds them, zeroes them, calls `forward`.

    Parameters are discovered from the attributes: any Tensor that requires a gradient, any
    sub-Module, and lists or tuples of those. Subclasses only write `__init__` and `forward`.
    """

    def __call__(self, *inputs) -> Tensor:
        return self.forward(*inputs)

    def forward(self, *inputs) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def parameters(self) -> list:
        """Every trainable tensor in this module and its children, each exactly once."""
        found, seen = [], set()
        for value in vars(self).values():
            for parameter in _parameters_in(value):
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    found.append(parameter)
        return found

    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.zero_grad()


def _parameters_in(value) -> list:
    """The parameters held by one attribute value (a tensor, a module, or a list of them)."""
    if isinstance(value, Tensor):
        return [value] if value.requires_grad else []
    if hasattr(value, "parameters") and callable(value.parameters):
        return list(value.parameters())
    if isinstance(value, (list, tuple)):
        return [p for item in value for p in _parameters_in(item)]
    return []


class Dense(Module):
    """A fully connected layer: y = x @ W + b.

    `weights` has shape (input_size, output_size), so a batch of rows multiplies from the left
    with no transpose. The initial weights are drawn uniformly from +-sqrt(6 / (in + out))
    (Glorot): large enough that signals do not vanish, small enough that they do not explode.
    """

    def __init__(self, input_size: int, output_size: int, bias: bool = True, rng=None):
        limit = np.sqrt(6.0 / (input_size + output_size))
        uniform = np.random.uniform if rng is None else rng.uniform
        self.input_size = input_size
        self.output_size = output_size
        self.weights = Tensor(uniform(-limit, limit, (input_size, output_size)).astype(np.float32),
                              requires_grad=True)
        self.bias = Tensor(np.zeros(output_size, dtype=np.float32), requires_grad=True) if bias else None

    def forward(self, x) -> Tensor:
        out = as_tensor(x) @ self.weights
        return out + self.bias if self.bias is not None else out

    @property
    def weight(self) -> Tensor:
        """PyTorch's name for `weights` (same tensor; note our layout is (in, out))."""
        return self.weights

    @weight.setter
    def weight(self, value: Tensor) -> None:
        self.weights = value

    def __repr__(self) -> str:
        return f"Dense(input_size={self.input_size}, output_size={self.output_size})"


Linear = Dense


class Sequential(Module):
    """Layers applied one after another: Sequential(Dense(4, 8), ReLU(), Dense(8, 2))."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"
