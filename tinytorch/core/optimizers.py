import numpy as np

from tinytorch.core.tensor import Tensor


class Optimizer:
    """Base class: holds the parameters, clears their gradients, and updates them in `step()`.

    Updates write into `parameter.data` directly, outside the graph: a step must never become
    part of the next step's computation (that would chain every iteration into one ever-growing
    graph).
    """

    def __init__(self, parameters, lr: float):
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if lr <= 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.lr = lr

    def zero_grad(self) -> None:
        """Clear every gradient before the next backward pass (gradients accumulate otherwise)."""
        for parameter in self.parameters:
            parameter.grad = None

    def step(self) -> None:
        for index, parameter in enumerate(self.parameters):
            if parameter.grad is not None:
                self.update(index, parameter, parameter.grad.data)

    def update(self, index: int, parameter: Tensor, grad: np.ndarray) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: p <- p - lr * g, optionally with momentum and weight decay.

    Momentum keeps a running velocity v <- momentum * v + g and steps along v, which smooths the
    noise of mini-batch gradients. Weight decay adds `weight_decay * p` to the gradient (L2).
    """

    def __init__(self, parameters, lr: float = 0.01, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(parameters, lr)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocities = [np.zeros_like(p.data) for p in self.parameters]

    def update(self, index: int, parameter: Tensor, grad: np.ndarray) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * parameter.data
        if self.momentum:
            velocity = self.velocities[index]
            velocity *= self.momentum
            velocity += grad
            grad = velocity
        parameter.data -= self.lr * grad


class Adam(Optimizer):
    """Adam: per-parameter step sizes from running averages of the gradient and its square.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  p <- p - lr * m_hat / (sqrt(v_hat) + eps),
    where m_hat, v_hat correct the bias of averages that start at zero.
    """

    def __init__(self, parameters, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(parameters, lr)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.steps = 0
        self.first_moments = [np.zeros_like(p.data) for p in self.parameters]
        self.second_moments = [np.zeros_like(p.data) for p in self.parameters]

    def step(self) -> None:
        self.steps += 1
        super().step()

    def update(self, index: int, parameter: Tensor, grad: np.ndarray) -> None:
        if self.weight_decay:
            grad = grad + self.weight_decay * parameter.data
        m, v = self.first_moments[index], self.second_moments[index]
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * grad * grad
        m_hat = m / (1 - self.beta1 ** self.steps)
        v_hat = v / (1 - self.beta2 ** self.steps)
        parameter.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
