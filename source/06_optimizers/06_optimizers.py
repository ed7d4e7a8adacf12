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
# # Module 06: Optimizers, from gradients to better models
#
# Module 05 gave every parameter a gradient: the direction in which the loss rises fastest.
# A gradient on its own changes nothing. This module writes the code that *acts* on it, the
# optimizer, the part of a training loop that actually changes the model.
#
# ## Learning goals
# - State the gradient descent update and explain what the learning rate controls.
# - Write an `Optimizer` base class that clears gradients and updates parameters **outside** the
#   computation graph, and explain what goes wrong when an update is itself recorded.
# - Add momentum and weight decay to SGD, and compute their effect by hand.
# - Implement RMSprop, which gives every parameter its own step size from a running average of
#   its squared gradients, and see why its first steps are too large.
# - Implement Adam, including the bias correction of its running averages, and check it against
#   numbers worked out on paper.
# - Measure how SGD, momentum, RMSprop and Adam cope with a badly scaled (ill-conditioned) problem.
#
# ## Build, use, analyse
# 1. **Build**: `Optimizer` (`zero_grad`, `step`), `SGD` (momentum, weight decay), `RMSprop`,
#    `Adam`.
# 2. **Use**: minimise a quadratic bowl with autograd supplying the gradients, the same loop
#    that trains a network in module 07.
# 3. **Analyse**: count the steps each method needs on a long, narrow valley, and what each
#    costs in memory.
#
# ## Where the code goes
# Your `#| export` cells become `tinytorch/core/optimizers.py`:
#
# ```python
# from tinytorch.core.optimizers import SGD, RMSprop, Adam
# ```
#
# This module builds on `Tensor` (module 01) for the parameters and on the autograd engine
# (module 05) for the gradients it consumes.

# %% nbgrader={"grade": false, "grade_id": "optimizers-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.optimizers
#| export
import numpy as np

from tinytorch.core.tensor import Tensor

# %% [markdown]
# ## Step 1: the `Optimizer` base class
#
# ### The idea
# Training minimises a loss $L(\theta)$ over the parameters $\theta$. The gradient
# $\nabla_\theta L$ points uphill, so a small step the other way lowers the loss:
#
# $$\theta \leftarrow \theta - \eta \, \nabla_\theta L$$
#
# $\eta$ (the *learning rate*, `lr`) sets the step length. Too small and training crawls; too
# large and every step overshoots the minimum and the loss grows.
#
# Worked example: $L(w) = w^2$ at $w = 3$ has gradient $2w = 6$. With $\eta = 0.1$ one step gives
# $w = 3 - 0.1 \cdot 6 = 2.4$, and the loss falls from 9 to 5.76. With $\eta = 1.5$ the step gives
# $w = 3 - 9 = -6$: the loss grew to 36, a first taste of a learning rate that is too large.
#
# ### One training step, four moves
# Every optimizer in every framework is used in the same rhythm:
#
# 1. `optimizer.zero_grad()`: forget last step's gradients. The engine *adds* into `.grad` (that
#    is how a parameter used twice gets both contributions), so stale gradients would pile up.
# 2. forward: compute the loss (the graph is recorded).
# 3. `loss.backward()`: fill `.grad` of every parameter.
# 4. `optimizer.step()`: change every parameter that received a gradient.
#
# The base class does the bookkeeping common to all optimizers (keeping the parameter list,
# validating the learning rate, `zero_grad`, looping over parameters in `step`); each subclass
# only writes `update`, the rule for one parameter.
#
# ### The pitfall: an update must not become part of the graph
# It is tempting to write the update with tensor arithmetic, as a new tensor computed from the
# old parameter and its gradient. That is a recorded operation. The "parameter" is now the *output* of
# an operation whose parents are the previous parameter, which was itself the output of the step
# before it, and so on. After 1,000 steps the parameter hangs at the end of a chain of 1,000
# updates:
#
# - memory grows every step, because every old parameter value stays alive in the graph;
# - the next `backward()` walks through every past update as well, so steps get slower and slower;
# - gradients flow to tensors the model no longer uses, while the tensor the model does use is
#   no longer a leaf, and a non-leaf never receives a `.grad` of its own.
#
# The cure is to treat the update as what it is: bookkeeping on numbers, not part of the model.
# We compute with the numpy arrays and write the result into `parameter.data`, in place. The
# tensor object the model holds stays the same leaf forever; only its numbers change.
# PyTorch does the same: `optimizer.step()` runs under `torch.no_grad()` and uses in-place
# operations such as `param.add_(...)`.
#
# Two further details:
# - `step` hands `update` a plain numpy array. A gradient is stored as a `Tensor` (or, for the
#   `Variable` wrapper of module 05, as a `Variable`); `np.asarray` gives the array behind either.
# - Parameters whose `.grad` is `None` took no part in the last backward pass and are skipped.

# %% nbgrader={"grade": false, "grade_id": "optimizers-base", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class Optimizer:
    """Base class: holds the parameters, clears their gradients, and updates them in `step()`.

    Updates write into `parameter.data` directly, outside the graph: a step must never become
    part of the next step's computation (that would chain every iteration into one ever-growing
    graph).
    """

    def __init__(self, parameters, lr: float):
        """Keep the parameters and the learning rate, refusing settings that cannot train.

        TODO:
        1. Store the parameters as a list in `self.parameters` (they may arrive as a generator,
           which can be read only once).
        2. If there are none, raise ValueError("<class name> got an empty parameter list"), using
           the name of the actual class being built, e.g. "SGD got an empty parameter list".
        3. If lr <= 0, raise ValueError("learning rate must be positive, got <lr>"), e.g.
           "learning rate must be positive, got -0.5". Check the list first, then lr.
        4. Store the learning rate in `self.lr`.

        Hint: `type(self).__name__` is the name of the subclass, even inside the base class.
        """
        ### BEGIN SOLUTION
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if lr <= 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        self.lr = lr
        ### END SOLUTION

    def zero_grad(self) -> None:
        """Clear every gradient before the next backward pass (gradients accumulate otherwise).

        TODO: set the `.grad` of every parameter to None ("no gradient yet").
        """
        ### BEGIN SOLUTION
        for parameter in self.parameters:
            parameter.grad = None
        ### END SOLUTION

    def step(self) -> None:
        """Apply the update rule to every parameter that has a gradient.

        TODO: walk over `self.parameters` together with their positions (`enumerate`). Skip a
        parameter whose `.grad` is None. Otherwise call `self.update(index, parameter, grad)`
        where `grad` is the gradient as a plain numpy array: `np.asarray` of the gradient's
        `.data` gives it for a Tensor and for a Variable alike.
        """
        ### BEGIN SOLUTION
        for index, parameter in enumerate(self.parameters):
            if parameter.grad is not None:
                self.update(index, parameter, np.asarray(parameter.grad.data))
        ### END SOLUTION

    def update(self, index: int, parameter: Tensor, grad: np.ndarray) -> None:
        """The rule for one parameter (number `index` in the list); each subclass defines it."""
        raise NotImplementedError


# %% [markdown]
# A quick look at the base class with a stand-in update rule that only reports what it is given.
# (Until you have written the methods above, this cell stops with `NotImplementedError`.)

# %%
class Reporter(Optimizer):
    def update(self, index, parameter, grad):
        print(f"update(index={index}, grad={grad}) of type {type(grad).__name__}")


first = Tensor(np.array([1.0, 2.0]), requires_grad=True)
second = Tensor(np.array([3.0]), requires_grad=True)
reporter = Reporter([first, second], lr=0.1)
first.grad = Tensor(np.array([0.5, -0.5]))
reporter.step()            # only `first` has a gradient
reporter.zero_grad()
print("after zero_grad:", first.grad, second.grad)
try:
    Reporter([], lr=0.1)
except ValueError as error:
    print("ValueError:", error)

# %% nbgrader={"grade": true, "grade_id": "optimizers-validation", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_optimizer_validation():
    """The constructor keeps a list of parameters and refuses settings that cannot train."""
    a = Tensor(np.array([1.0]), requires_grad=True)
    b = Tensor(np.array([2.0]), requires_grad=True)
    optimizer = Optimizer((p for p in [a, b]), lr=0.5)
    assert isinstance(optimizer.parameters, list), "store the parameters as a list"
    assert len(optimizer.parameters) == 2
    assert optimizer.parameters[0] is a and optimizer.parameters[1] is b
    assert optimizer.lr == 0.5

    try:
        Optimizer([], lr=0.1)
    except ValueError as error:
        assert str(error) == "Optimizer got an empty parameter list", str(error)
    else:
        raise AssertionError("an empty parameter list must raise ValueError")

    try:
        Optimizer([a], lr=0)
    except ValueError as error:
        assert str(error) == "learning rate must be positive, got 0", str(error)
    else:
        raise AssertionError("lr=0 must raise ValueError")


test_optimizer_validation()

# %% nbgrader={"grade": true, "grade_id": "optimizers-zero-grad-step", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_zero_grad_and_step():
    """`step` calls `update` once per parameter that has a gradient, with the gradient as an ndarray."""
    calls = []

    class Recorder(Optimizer):
        def update(self, index, parameter, grad):
            calls.append((index, parameter, grad))

    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([3.0]), requires_grad=True)
    c = Tensor(np.array([[4.0, 5.0]]), requires_grad=True)
    optimizer = Recorder([a, b, c], lr=0.1)
    a.grad = Tensor(np.array([0.5, -1.5]))
    c.grad = Tensor(np.array([[2.0, 3.0]]))
    optimizer.step()
    assert [index for index, _, _ in calls] == [0, 2], "skip parameters whose grad is None"
    assert calls[0][1] is a and calls[1][1] is c
    for _, _, grad in calls:
        assert type(grad) is np.ndarray, "update receives a numpy array, not a Tensor"
    np.testing.assert_array_equal(calls[0][2], [0.5, -1.5])
    np.testing.assert_array_equal(calls[1][2], [[2.0, 3.0]])

    optimizer.zero_grad()
    assert a.grad is None and b.grad is None and c.grad is None
    calls.clear()
    optimizer.step()
    assert calls == [], "after zero_grad there is nothing to update"


test_zero_grad_and_step()

# %% [markdown]
# ## Step 2: stochastic gradient descent, with momentum and weight decay
#
# ### Plain SGD
# $$p \leftarrow p - \eta\, g$$
# "Stochastic" because in training $g$ is computed on a small random batch, so it is a noisy
# estimate of the true gradient. Example: $p = [1, -2]$, $g = [0.5, 1]$, $\eta = 0.1$ gives
# $p = [0.95, -2.1]$.
#
# ### Momentum
# Think of a ball rolling downhill: it keeps some of its speed. SGD with momentum $\mu$ keeps a
# *velocity* $v$ per parameter (it starts at zero):
#
# $$v \leftarrow \mu\, v + g, \qquad p \leftarrow p - \eta\, v$$
#
# Where successive gradients agree, the velocity builds up (with a constant gradient it tends to
# $g / (1 - \mu)$, ten times $g$ for $\mu = 0.9$); where they flip sign from step to step, as they
# do across a narrow valley, they cancel. Worked example: $\mu = 0.9$, $\eta = 0.1$, gradient always
# 1, starting from $p = 0$:
#
# | step | $v$ | $p$ |
# |---|---|---|
# | 1 | 1 | -0.1 |
# | 2 | 0.9 + 1 = 1.9 | -0.29 |
# | 3 | 1.71 + 1 = 2.71 | -0.561 |
#
# The velocity is *state*: it must survive from one `step` to the next, which is why `SGD` keeps one
# buffer per parameter in `self.velocities` and updates it in place. This is PyTorch's convention
# too (`torch.optim.SGD` with `dampening=0`).
#
# ### Weight decay
# Weight decay adds the penalty $\frac{\lambda}{2}\lVert p\rVert^2$ to the loss, which discourages large weights
# (a simple guard against overfitting). Its gradient is $\lambda p$, so the optimizer simply uses
# $g + \lambda p$ in place of $g$. Example: $\lambda = 0.1$, $\eta = 0.5$, $p = 2$, $g = 0$: the
# effective gradient is 0.2 and $p$ becomes 1.9; one more step gives $1.9 - 0.5 \cdot 0.19 = 1.805$.
# With no gradient at all, weights shrink geometrically towards zero: hence the name.
#
# Every update is written into the existing array of `parameter.data` (in place). The `velocities`
# are plain numpy arrays: none of this is recorded in any graph.

# %% nbgrader={"grade": false, "grade_id": "optimizers-sgd", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
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
        """Move one parameter against its gradient, with weight decay and momentum when they are set.

        TODO:
        1. Weight decay: when `self.weight_decay` is not zero, the gradient becomes
           grad + weight_decay * p, where p is the parameter's values as a numpy array
           (`np.asarray(parameter.data)` works for a Tensor and for a Variable).
           Make a new array here: never modify the `grad` you were given.
        2. Momentum: when `self.momentum` is not zero, take this parameter's velocity buffer
           `self.velocities[index]`, update it IN PLACE (v <- momentum * v + g, with `*=` and `+=`
           so that the stored buffer remembers it), and use v as the step direction.
        3. Subtract lr * direction from `parameter.data` in place (`-=`), outside the graph.

        Example: lr=0.1, momentum=0.9 and a gradient of 1.0 at every step move p = 0 to
        -0.1, -0.29 and -0.561 after one, two and three steps.
        """
        ### BEGIN SOLUTION
        if self.weight_decay:
            grad = grad + self.weight_decay * np.asarray(parameter.data)
        if self.momentum:
            velocity = self.velocities[index]
            velocity *= self.momentum
            velocity += grad
            grad = velocity
        parameter.data -= self.lr * grad
        ### END SOLUTION


# %% [markdown]
# SGD on $L(w) = w^2$ from $w = 3$, with autograd computing the gradient $2w$. Each plain step
# multiplies $w$ by $1 - 2\eta = 0.8$. Notice that `w` stays a leaf: the optimizer never adds to
# the graph.

# %%
w = Tensor(np.array([3.0]), requires_grad=True)
sgd = SGD([w], lr=0.1)
for step in range(1, 4):
    sgd.zero_grad()
    loss = (w * w).sum()
    loss.backward()
    sgd.step()
    print(f"step {step}: loss before the step {loss.item():.4f}, w = {w.data[0]:.4f}, leaf: {w.is_leaf}")

# %% nbgrader={"grade": true, "grade_id": "optimizers-sgd-plain", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_sgd_plain():
    """p <- p - lr * g, in place, exact after one, two and three steps."""
    p = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    values = p.data
    optimizer = SGD([p], lr=0.1)
    p.grad = Tensor(np.array([0.5, 1.0]))
    optimizer.step()
    np.testing.assert_allclose(p.data, [0.95, -2.1], rtol=1e-12)
    assert p.data is values, "update the existing array in place (parameter.data -= ...)"
    optimizer.step()                      # the same gradient again
    np.testing.assert_allclose(p.data, [0.9, -2.2], rtol=1e-12)
    p.grad = Tensor(np.array([-1.0, 2.0]))
    optimizer.step()
    np.testing.assert_allclose(p.data, [1.0, -2.4], rtol=1e-12)
    assert np.array_equal(p.grad.data, [-1.0, 2.0]), "step must not change the gradient"
    assert p.dtype == np.float64


test_sgd_plain()

# %% nbgrader={"grade": true, "grade_id": "optimizers-sgd-momentum-decay", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_sgd_momentum_and_weight_decay():
    """The hand-computed tables of the text: momentum 0.9 and weight decay 0.1."""
    p = Tensor(np.array([0.0]), requires_grad=True)
    optimizer = SGD([p], lr=0.1, momentum=0.9)
    expected = [-0.1, -0.29, -0.561]
    for value in expected:
        p.grad = Tensor(np.array([1.0]))
        optimizer.step()
        np.testing.assert_allclose(p.data, [value], rtol=1e-12)
    np.testing.assert_allclose(optimizer.velocities[0], [2.71], rtol=1e-12)

    q = Tensor(np.array([2.0]), requires_grad=True)
    decay = SGD([q], lr=0.5, weight_decay=0.1)
    q.grad = Tensor(np.array([0.0]))
    decay.step()
    np.testing.assert_allclose(q.data, [1.9], rtol=1e-12)
    decay.step()
    np.testing.assert_allclose(q.data, [1.805], rtol=1e-12)
    assert np.array_equal(q.grad.data, [0.0]), "weight decay must not modify the stored gradient"


test_sgd_momentum_and_weight_decay()

# %% [markdown]
# ### Checking the pitfall: the parameter stays a leaf
# The next test trains for many steps with real backward passes and checks what the text above
# promised: the parameter is the same leaf tensor it was at the start (no recorded operation, no
# parents), the model's graph has the same size at step 1 and at step 50, and each gradient
# is that step's gradient, not a sum over the history.

# %% nbgrader={"grade": true, "grade_id": "optimizers-no-graph-chain", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_updates_stay_outside_the_graph():
    from tinytorch.core.autograd import topological_order

    p = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    optimizer = SGD([p], lr=0.05, momentum=0.9)
    graph_sizes = []
    for _ in range(50):
        optimizer.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        np.testing.assert_allclose(p.grad.data, 2 * p.data, rtol=1e-12)  # this step's gradient only
        optimizer.step()
        graph_sizes.append(len(topological_order(loss)))
    assert optimizer.parameters[0] is p, "the optimizer must keep updating the same tensor"
    assert p.is_leaf and p._op is None and p._parents == (), "the parameter must stay a leaf"
    assert p.requires_grad
    assert len(set(graph_sizes)) == 1, f"the graph grows from step to step: {graph_sizes[:3]}..."
    assert np.all(np.abs(p.data) < np.array([1.0, 2.0])), "the loss should have decreased"


test_updates_stay_outside_the_graph()

# %% [markdown]
# ## Step 3: RMSprop, a step size per parameter
#
# ### The idea
# One learning rate for every parameter is a compromise: a weight with consistently large
# gradients wants small steps, a weight with tiny gradients wants large ones. RMSprop (Hinton,
# lecture notes, 2012) divides each coordinate's gradient by the root of a running mean of its
# squares (RMS: root mean square), kept per parameter in a buffer $s$ that starts at zero:
#
# $$s \leftarrow \alpha\, s + (1-\alpha)\, g^2, \qquad p \leftarrow p - \eta\, \frac{g}{\sqrt{s} + \epsilon}$$
#
# $\alpha = 0.99$ makes $s$ an average over roughly the last 100 steps. Where gradients are large,
# $\sqrt{s}$ is large and the step shrinks; where they are tiny, it grows: each coordinate moves by
# about $\eta$ per step, whatever the scale of its gradient. $\epsilon = 10^{-8}$ only keeps a
# coordinate whose gradients were all zero from dividing by zero. Note that $\epsilon$ is added to
# $\sqrt{s}$, outside the root, as PyTorch does.
#
# ### Worked example, and the flaw Adam fixes
# $\eta = 0.01$, $p = 0$, $\alpha = 0.99$, gradient 1 at every step:
#
# | step | $s$ | $\sqrt{s}$ | step length $\eta\, g / (\sqrt{s} + \epsilon)$ | $p$ |
# |---|---|---|---|---|
# | 1 | 0.01 | 0.1 | 0.0999999990 | -0.0999999990 |
# | 2 | 0.0199 | 0.141067 | 0.0708881 | -0.170888 |
# | 3 | 0.029701 | 0.172340 | 0.0580249 | -0.228913 |
#
# The first step is **ten times** $\eta$: $s$ starts at zero, so after one step it holds only
# $(1-\alpha)\, g^2 = g^2 / 100$, and $\sqrt{s}$ is a tenth of the gradient's true size. Only after
# a few hundred steps does $s$ reach $g^2$ and the step settle to $\eta$. Adam (next) corrects
# exactly this start-up bias.
#
# ### Weight decay and momentum
# As in SGD: weight decay uses $g + \lambda p$ in place of $g$ (before $s$ is updated). With
# `momentum` $\mu > 0$, a velocity buffer accumulates the scaled steps,
# $b \leftarrow \mu\, b + g / (\sqrt{s} + \epsilon)$, and $p \leftarrow p - \eta\, b$. These are
# the semantics of `torch.optim.RMSprop(params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0,
# momentum=0)`, with the same defaults. (Its `centered` variant, which also subtracts the mean
# gradient, is not written here.)

# %% nbgrader={"grade": false, "grade_id": "optimizers-rmsprop", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
class RMSprop(Optimizer):
    """RMSprop: each coordinate's step divided by the root of a running mean of its squared gradients.

    s <- alpha s + (1 - alpha) g^2;  p <- p - lr * g / (sqrt(s) + eps). Large gradients get small
    steps and small gradients large ones. PyTorch's semantics and defaults, momentum included.
    """

    def __init__(self, parameters, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0):
        super().__init__(parameters, lr)
        self.alpha = alpha
        self.eps = eps
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.square_averages = [np.zeros_like(p.data) for p in self.parameters]
        self.velocities = [np.zeros_like(p.data) for p in self.parameters]

    def update(self, index: int, parameter: Tensor, grad: np.ndarray) -> None:
        """RMSprop's rule for one parameter.

        TODO:
        1. Weight decay, as in SGD: when `self.weight_decay` is not zero, use the new array
           grad + weight_decay * (the parameter's values as a numpy array).
        2. Update this parameter's running mean of squares IN PLACE (`*=` and `+=`):
           s = self.square_averages[index]:  s <- alpha * s + (1 - alpha) * g * g
        3. The step direction is g / (sqrt(s) + eps): eps is added after the square root.
        4. Momentum: when `self.momentum` is not zero, update `self.velocities[index]` IN PLACE
           (b <- momentum * b + direction) and use b as the direction.
        5. Subtract lr * direction from `parameter.data` in place.

        Example: lr=0.01 and p = 0 with a gradient of 1 at every step give p = -0.0999999990,
        -0.170888... and -0.228913... after one, two and three steps.
        """
        ### BEGIN SOLUTION
        if self.weight_decay:
            grad = grad + self.weight_decay * np.asarray(parameter.data)
        square_average = self.square_averages[index]
        square_average *= self.alpha
        square_average += (1 - self.alpha) * grad * grad
        direction = grad / (np.sqrt(square_average) + self.eps)
        if self.momentum:
            velocity = self.velocities[index]
            velocity *= self.momentum
            velocity += direction
            direction = velocity
        parameter.data -= self.lr * direction
        ### END SOLUTION


# %% [markdown]
# RMSprop on two coordinates whose gradients differ by a factor of 1,000: both move by the same
# amount, ten times $\eta$ at the first step (the start-up bias), less at each step after.

# %%
p = Tensor(np.array([0.0, 0.0]), requires_grad=True)
rmsprop = RMSprop([p], lr=0.01)
for step in range(1, 4):
    p.grad = Tensor(np.array([0.001, 1.0]))
    rmsprop.step()
    print(f"step {step}: p = {p.data}, s = {rmsprop.square_averages[0]}")

# %% nbgrader={"grade": true, "grade_id": "optimizers-rmsprop-test", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_rmsprop():
    """The worked example, then weight decay, momentum, float32 and parameters without gradients."""
    p = Tensor(np.array([0.0]), requires_grad=True)
    values = p.data
    optimizer = RMSprop([p], lr=0.01)
    assert (optimizer.lr, optimizer.alpha, optimizer.eps) == (0.01, 0.99, 1e-8), "PyTorch's defaults"
    assert optimizer.weight_decay == 0.0 and optimizer.momentum == 0.0
    for expected_s, expected_p in ((0.01, -0.01 / (0.1 + 1e-8)),
                                   (0.0199, -0.01 / (0.1 + 1e-8) - 0.01 / (np.sqrt(0.0199) + 1e-8)),
                                   (0.029701, -0.22891301058529684)):
        p.grad = Tensor(np.array([1.0]))
        optimizer.step()
        np.testing.assert_allclose(optimizer.square_averages[0], [expected_s], rtol=1e-12)
        np.testing.assert_allclose(p.data, [expected_p], rtol=1e-9)
    assert p.data is values, "update the existing array in place (parameter.data -= ...)"
    assert p.is_leaf

    # weight decay: g = 0 + 0.5 * 2 = 1, so the first step is 10 lr, as above
    q = Tensor(np.array([2.0]), requires_grad=True)
    decay = RMSprop([q], lr=0.01, weight_decay=0.5)
    q.grad = Tensor(np.array([0.0]))
    decay.step()
    np.testing.assert_allclose(q.data, [2.0 - 0.01 / (0.1 + 1e-8)], rtol=1e-12)
    assert np.array_equal(q.grad.data, [0.0]), "weight decay must not modify the stored gradient"

    # momentum 0.9, gradient 1: directions 10 then 1 / sqrt(0.0199), accumulated in the velocity
    m = Tensor(np.array([0.0]), requires_grad=True)
    moving = RMSprop([m], lr=0.01, momentum=0.9)
    for _ in range(2):
        m.grad = Tensor(np.array([1.0]))
        moving.step()
    velocity = 0.9 / (0.1 + 1e-8) + 1 / (np.sqrt(0.0199) + 1e-8)
    np.testing.assert_allclose(moving.velocities[0], [velocity], rtol=1e-12)
    np.testing.assert_allclose(m.data, [-0.01 / (0.1 + 1e-8) - 0.01 * velocity], rtol=1e-12)

    # float32 stays float32; a parameter without a gradient is left alone
    a = Tensor(np.array([1.0, -1.0], dtype=np.float32), requires_grad=True)
    b = Tensor(np.array([3.0], dtype=np.float32), requires_grad=True)
    two = RMSprop([a, b], lr=0.001, alpha=0.9)
    a.grad = Tensor(np.array([4.0, -0.4], dtype=np.float32))
    two.step()
    step = 0.001 / np.sqrt(0.1)       # |g| / sqrt(0.1 g^2): the same for both coordinates
    np.testing.assert_allclose(a.data, [1.0 - step, -1.0 + step], rtol=1e-6)
    assert a.dtype == np.float32 and two.square_averages[0].dtype == np.float32
    np.testing.assert_array_equal(b.data, [3.0])
    np.testing.assert_array_equal(two.square_averages[1], [0.0])


test_rmsprop()

# %% [markdown]
# ## Step 4: Adam
#
# ### The idea
# Adam (Kingma and Ba, 2015) keeps two running averages per parameter: RMSprop's mean of squared
# gradients, and a mean of the gradients themselves, which plays the part of momentum:
#
# $$m \leftarrow \beta_1 m + (1-\beta_1)\, g \qquad \text{(the mean of recent gradients: direction)}$$
# $$v \leftarrow \beta_2 v + (1-\beta_2)\, g^2 \qquad \text{(the mean of recent squared gradients: scale)}$$
#
# and steps by $\eta\, m / \sqrt{v}$. Dividing by the root-mean-square gradient makes the step size
# roughly $\eta$ in every coordinate, whatever the scale of its gradient.
#
# ### Bias correction
# $m$ and $v$ start at zero, so early on they are far too small: RMSprop's first step was ten
# times too long for that reason. With a constant gradient $g$,
# after $t$ steps $m = (1-\beta_1^t)\, g$: after the first step only $0.1\,g$ for $\beta_1 = 0.9$.
# Dividing by $1-\beta_1^t$ (and $v$ by $1-\beta_2^t$) removes exactly that shrinkage:
#
# $$\hat m = \frac{m}{1-\beta_1^t}, \qquad \hat v = \frac{v}{1-\beta_2^t}, \qquad
# p \leftarrow p - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}$$
#
# $t$ is the number of steps taken so far, counted from 1. $\epsilon = 10^{-8}$ only prevents a
# division by zero.
#
# ### Worked example
# $\eta = 0.1$, $p = 0$, default betas $(0.9, 0.999)$, gradients $1$ then $-1$:
#
# - step 1: $m = 0.1$, $v = 0.001$; $\hat m = 0.1/0.1 = 1$, $\hat v = 0.001/0.001 = 1$;
#   $p = -0.1 \cdot 1/(1 + 10^{-8}) = -0.099999999$. The very first Adam step moves every
#   coordinate by almost exactly $\eta$, whatever the size of its gradient.
# - step 2: $m = 0.09 - 0.1 = -0.01$, $v = 0.000999 + 0.001 = 0.001999$;
#   $\hat m = -0.01 / 0.19 = -0.0526316$, $\hat v = 0.001999 / 0.001999 = 1$;
#   $p = -0.099999999 + 0.00526316 = -0.0947368$.
#
# Without the correction, step 1 would give $0.1 \cdot 0.1/\sqrt{0.001} = 0.316$, more than three
# times the intended step.
#
# `Adam.step` counts the calls (`steps`), then reuses the base class's loop; each parameter keeps
# its own $t$ (`parameter_steps`), counted only on steps where it had a gradient. PyTorch's `torch.optim.Adam` uses the same formulas; its `weight_decay` is also the L2 form
# ($g + \lambda p$), while `AdamW` decays the weights separately.
#
# Why count $t$ per parameter rather than once per `step()` call (as Keras does)? The two agree
# whenever every parameter gets a gradient at every step. They differ for a parameter that sits
# out the first steps: its averages start at zero later, and a global $t$ would correct them as if
# they had been running all along. Its first step would then be larger than $\eta$: about
# $1.35\,\eta$ if it joins at step 200, and up to $(1-\beta_1)/\sqrt{1-\beta_2} \approx 3.2\,\eta$
# if it joins much later. Counting per parameter, as PyTorch does, makes every parameter's first
# step exactly the intended size.

# %% nbgrader={"grade": false, "grade_id": "optimizers-adam", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
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
        self.parameter_steps = [0 for _ in self.parameters]
        self.first_moments = [np.zeros_like(p.data) for p in self.parameters]
        self.second_moments = [np.zeros_like(p.data) for p in self.parameters]

    def step(self) -> None:
        """Count the step (bias correction needs t), then update every parameter with a gradient.

        TODO: add one to `self.steps`, then let the base class's `step` (via `super()`) call
        `update` for each parameter.
        """
        ### BEGIN SOLUTION
        self.steps += 1
        super().step()
        ### END SOLUTION

    def update(self, index: int, parameter: Tensor, grad: np.ndarray) -> None:
        """Adam's rule for one parameter, at its own step t (the steps on which it had a gradient).

        TODO:
        0. Count this parameter's step: add one to `self.parameter_steps[index]`; that is t.
        1. Weight decay, as in SGD: when `self.weight_decay` is not zero, use the new array
           grad + weight_decay * (the parameter's values as a numpy array).
        2. Update this parameter's buffers IN PLACE (with `*=` and `+=`):
           m = self.first_moments[index]:   m <- beta1 * m + (1 - beta1) * g
           v = self.second_moments[index]:  v <- beta2 * v + (1 - beta2) * g * g
        3. Bias-corrected estimates: m_hat = m / (1 - beta1 ** t), v_hat = v / (1 - beta2 ** t).
        4. Subtract lr * m_hat / (sqrt(v_hat) + eps) from `parameter.data` in place.

        Example: lr=0.1 and p = 0 with gradients 1 then -1 give p = -0.099999999 after step 1
        and p = -0.0947368... after step 2.
        """
        ### BEGIN SOLUTION
        self.parameter_steps[index] += 1
        t = self.parameter_steps[index]
        if self.weight_decay:
            grad = grad + self.weight_decay * np.asarray(parameter.data)
        m, v = self.first_moments[index], self.second_moments[index]
        m *= self.beta1
        m += (1 - self.beta1) * grad
        v *= self.beta2
        v += (1 - self.beta2) * grad * grad
        m_hat = m / (1 - self.beta1 ** t)
        v_hat = v / (1 - self.beta2 ** t)
        parameter.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        ### END SOLUTION


# %% [markdown]
# Adam's first steps on two coordinates whose gradients differ by a factor of 1,000: both move
# by almost the same amount, $\eta$. SGD would move the second one 1,000 times further.

# %%
p = Tensor(np.array([0.0, 0.0]), requires_grad=True)
adam = Adam([p], lr=0.1)
for step in range(1, 4):
    p.grad = Tensor(np.array([0.001, 1.0]))
    adam.step()
    print(f"step {adam.steps}: p = {p.data}")

# %% nbgrader={"grade": true, "grade_id": "optimizers-adam-exact", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_adam_worked_example():
    """The worked example of the text, then a third step, all exact (no randomness involved)."""
    p = Tensor(np.array([0.0]), requires_grad=True)
    optimizer = Adam([p], lr=0.1)
    p.grad = Tensor(np.array([1.0]))
    optimizer.step()
    assert optimizer.steps == 1
    np.testing.assert_allclose(p.data, [-0.1 / (1 + 1e-8)], rtol=1e-12)
    np.testing.assert_allclose(optimizer.first_moments[0], [0.1], rtol=1e-12)
    np.testing.assert_allclose(optimizer.second_moments[0], [0.001], rtol=1e-12)

    p.grad = Tensor(np.array([-1.0]))
    optimizer.step()
    # m = -0.01, v = 0.001999, m_hat = -0.01 / 0.19, v_hat = 1
    np.testing.assert_allclose(optimizer.first_moments[0], [-0.01], rtol=1e-10)
    np.testing.assert_allclose(optimizer.second_moments[0], [0.001999], rtol=1e-12)
    np.testing.assert_allclose(p.data, [-0.0947368411578948], rtol=1e-12)

    p.grad = Tensor(np.array([3.0]))
    optimizer.step()
    # m = 0.291, v = 0.010997001, m_hat = 0.291 / 0.271, v_hat = 0.010997001 / 0.002997001
    np.testing.assert_allclose(p.data, [-0.15079386123842264], rtol=1e-12)
    assert optimizer.steps == 3


test_adam_worked_example()

# %% nbgrader={"grade": true, "grade_id": "optimizers-adam-details", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
def test_adam_state_and_weight_decay():
    """Buffers per parameter, the step counters, weight decay, float32 kept, parameters skipped."""
    a = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    b = Tensor(np.array([[3.0]], dtype=np.float32), requires_grad=True)
    optimizer = Adam([a, b], lr=0.01)
    a.grad = Tensor(np.array([0.5, -0.5], dtype=np.float32))
    optimizer.step()                      # b has no gradient: skipped, and its own t stays 0
    assert optimizer.steps == 1 and optimizer.parameter_steps == [1, 0]
    np.testing.assert_allclose(a.data, [0.99, 2.01], rtol=1e-6)
    np.testing.assert_array_equal(b.data, [[3.0]])
    np.testing.assert_array_equal(optimizer.first_moments[1], [[0.0]])
    assert a.dtype == np.float32 and optimizer.first_moments[0].dtype == np.float32
    assert a.is_leaf

    # weight decay: g = 0 + 0.5 * 2 = 1 at the first step, so p moves by lr
    p = Tensor(np.array([2.0]), requires_grad=True)
    decay = Adam([p], lr=0.1, weight_decay=0.5)
    p.grad = Tensor(np.array([0.0]))
    decay.step()
    np.testing.assert_allclose(p.data, [2.0 - 0.1 / (1 + 1e-8)], rtol=1e-12)
    np.testing.assert_allclose(decay.first_moments[0], [0.1], rtol=1e-12)
    assert np.array_equal(p.grad.data, [0.0]), "weight decay must not modify the stored gradient"


test_adam_state_and_weight_decay()

# %% [markdown]
# ## Use: minimising a quadratic bowl with autograd
#
# Now the full loop, with the autograd engine computing the gradient of
# $L(p) = \sum_i c_i (p_i - t_i)^2$, a bowl whose bottom is the target $t$. The curvatures
# $c = (1, 4, 10)$ make some directions steeper than others. The start and the target come from a
# seeded generator, so the run is the same every time, whatever the global random state.

# %%
def minimise(optimizer_class, steps, **settings):
    """Run `steps` optimizer steps on the bowl; return the distance to the bottom after each step."""
    rng = np.random.default_rng(2)
    target = rng.normal(size=3)
    p = Tensor(rng.normal(size=3), requires_grad=True)
    curvature, goal = Tensor(np.array([1.0, 4.0, 10.0])), Tensor(target)
    optimizer = optimizer_class([p], **settings)
    distances = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = (curvature * (p - goal) ** 2).sum()
        loss.backward()
        optimizer.step()
        distances.append(float(np.max(np.abs(p.data - target))))
    return distances


for name, cls, settings in (("SGD", SGD, dict(lr=0.04)),
                            ("SGD + momentum", SGD, dict(lr=0.02, momentum=0.9)),
                            ("RMSprop", RMSprop, dict(lr=0.05)),
                            ("Adam", Adam, dict(lr=0.1))):
    distances = minimise(cls, 300, **settings)
    print(f"{name:15s} distance after 10, 100, 300 steps: "
          + ", ".join(f"{distances[k - 1]:.1e}" for k in (10, 100, 300)))

# %% nbgrader={"grade": true, "grade_id": "optimizers-convergence", "locked": true, "points": 15, "schema_version": 3, "solution": false, "task": false}
def test_quadratic_bowl_convergence():
    """Every optimizer finds the bottom of a seeded bowl (deterministic under any global seed)."""
    def distance_to_bottom(optimizer_class, steps, **settings):
        rng = np.random.default_rng(2)
        target = rng.normal(size=3)
        p = Tensor(rng.normal(size=3), requires_grad=True)
        curvature, goal = Tensor(np.array([1.0, 4.0, 10.0])), Tensor(target)
        optimizer = optimizer_class([p], **settings)
        start = float(np.max(np.abs(p.data - target)))
        for _ in range(steps):
            optimizer.zero_grad()
            loss = (curvature * (p - goal) ** 2).sum()
            loss.backward()
            optimizer.step()
        assert p.is_leaf
        return start, float(np.max(np.abs(p.data - target)))

    for cls, settings in ((SGD, dict(lr=0.04)),
                          (SGD, dict(lr=0.02, momentum=0.9)),
                          (RMSprop, dict(lr=0.05)),
                          (Adam, dict(lr=0.1))):
        start, end = distance_to_bottom(cls, 300, **settings)
        assert start > 1.0
        assert end < 1e-4, f"{cls.__name__}({settings}) ends {end:.2e} from the minimum"


test_quadratic_bowl_convergence()

# %% [markdown]
# ## Analyse: a long, narrow valley
#
# The bowl above was friendly. Real loss surfaces are often much steeper in some directions than
# in others. Take
#
# $$L(x, y) = \tfrac12 (x^2 + \kappa\, y^2), \qquad \kappa = 100,$$
#
# whose *condition number* (largest over smallest curvature) is $\kappa$. Plain gradient descent is
# stable only for $\eta < 2/\kappa$ (the steep direction would otherwise overshoot and blow up), and
# at that step size the flat direction $x$ shrinks by only a factor $1 - \eta$ per step: roughly
# $\kappa$ steps per factor $e$. Momentum lets the flat direction build up speed while the
# oscillations across the valley cancel; in theory it needs about $\sqrt{\kappa}$ steps per factor
# $e$ instead of $\kappa$. Adam rescales each coordinate by its own gradient size, which undoes
# much of the bad scaling of an axis-aligned valley like this one.
#
# We count the steps until both coordinates are within $10^{-3}$ of the minimum, starting from
# $(1, 1)$. It runs in well under a second.

# %%
def steps_to_converge(optimizer, scales, start, tolerance=1e-3, max_steps=5000):
    """Optimise 0.5 * sum(scales * p^2) from `start`; return (steps needed or None, loss history)."""
    p = Tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = optimizer([p])
    scale = Tensor(np.array(scales, dtype=np.float64))
    history = []
    for step in range(max_steps):
        if np.max(np.abs(p.data)) < tolerance:
            return step, history
        opt.zero_grad()
        loss = (scale * p * p).sum() * 0.5
        history.append(loss.item())
        loss.backward()
        opt.step()
    return None, history


kappa = 100.0
contenders = {
    "SGD lr=0.019 (just under 2/kappa)": lambda ps: SGD(ps, lr=0.019),
    "SGD lr=0.01": lambda ps: SGD(ps, lr=0.01),
    "SGD+momentum 0.9, lr=0.01": lambda ps: SGD(ps, lr=0.01, momentum=0.9),
    "SGD+momentum 0.8, lr=0.019": lambda ps: SGD(ps, lr=0.019, momentum=0.8),
    "RMSprop lr=0.01": lambda ps: RMSprop(ps, lr=0.01),
    "Adam lr=0.01": lambda ps: Adam(ps, lr=0.01),
    "Adam lr=0.05": lambda ps: Adam(ps, lr=0.05),
    "Adam lr=0.5": lambda ps: Adam(ps, lr=0.5),
}
histories = {}
print(f"{'optimizer':32s} steps to |p| < 1e-3 on kappa = {kappa:g}")
for name, make in contenders.items():
    steps, histories[name] = steps_to_converge(make, [1.0, kappa], [1.0, 1.0])
    print(f"{name:32s} {steps}")
steps, _ = steps_to_converge(lambda ps: SGD(ps, lr=0.021), [1.0, kappa], [1.0, 1.0], max_steps=200)
print(f"{'SGD lr=0.021 (just above 2/kappa)':32s} {steps} (diverges)")

# %% [markdown]
# What the table says:
# - Plain SGD cannot go faster than its stability limit allows: 361 steps at the best step size,
#   twice as many at half of it, and just above $2/\kappa$ it diverges.
# - Momentum needs 3 to 6 times fewer steps at the same or a smaller learning rate.
# - RMSprop, like Adam, moves each coordinate by about its learning rate whatever the gradient's
#   size, so the valley's bad scaling barely matters: `lr=0.01` took 143 steps. Its first steps are
#   ten times longer than that (no bias correction), which here happens to help.
# - Adam with a well chosen learning rate is fastest here, but its learning rate means something
#   different: each step moves a coordinate by *at most about* $\eta$, whatever the gradient. From a
#   distance of 1, `lr=0.01` therefore needs at least 100 steps, and took 269. A learning rate is
#   not portable from one optimizer to another.
#
# On a log scale the loss curves show it: the straight lines of plain SGD are slow geometric decay,
# limited by the flat direction; momentum shows the ripples of a ball rolling from side to side
# of the valley while it speeds along it.

# %%
import matplotlib.pyplot as plt

figure, axes = plt.subplots(figsize=(7, 4))
for name, history in histories.items():
    axes.semilogy(np.maximum(history, 1e-12), label=name)
axes.set_xlabel("step")
axes.set_ylabel("loss")
axes.set_title(f"0.5 (x^2 + {kappa:g} y^2) from (1, 1)")
axes.legend(fontsize=7)
figure.tight_layout()
plt.show()

# %% [markdown]
# ### What the extra speed costs: memory
# Plain SGD stores nothing beyond the parameters; momentum and RMSprop store one extra array per
# parameter (the velocity, the mean of squares; RMSprop with momentum two); Adam stores two (the first and second moments). For the 784-128-10 network of a
# typical MNIST exercise that is:

# %%
shapes = [(784, 128), (128,), (128, 10), (10,)]
layer_params = [Tensor(np.zeros(shape, dtype=np.float32), requires_grad=True) for shape in shapes]
parameter_bytes = sum(t.data.nbytes for t in layer_params)
momentum, adam = SGD(layer_params, lr=0.1, momentum=0.9), Adam(layer_params)
rmsprop = RMSprop(layer_params)
states = {
    "SGD": 0,
    "SGD + momentum": sum(v.nbytes for v in momentum.velocities),
    "RMSprop": sum(s.nbytes for s in rmsprop.square_averages),
    "Adam": sum(m.nbytes + v.nbytes for m, v in zip(adam.first_moments, adam.second_moments)),
}
print(f"parameters: {parameter_bytes / 1024:.0f} KiB")
for name, state in states.items():
    print(f"{name:15s} optimizer state {state / 1024:6.0f} KiB ({state / parameter_bytes:.0f}x the parameters)")

# %% [markdown]
# For a model with billions of parameters, Adam's two extra copies are a real cost, which is
# why large-model training often keeps them in lower precision or shards them across devices.
#
# Questions to think about:
# - Increase `kappa` to 1,000. How do the step counts of SGD and momentum change? Does the
#   $\kappa$ versus $\sqrt{\kappa}$ estimate hold?
# - Rotate the valley by 45 degrees ($L = \frac12 (x+y)^2 + \frac{\kappa}{2} (x-y)^2$). Adam's
#   per-coordinate scaling no longer lines up with the valley: what happens to its advantage?
#
# ## Summary
# - An optimizer turns gradients into parameter updates: `zero_grad`, forward, `backward`, `step`.
# - Updates happen on the numbers (`parameter.data`, in place), never as recorded operations, so
#   parameters stay leaves and each step's graph is as small as the first.
# - SGD steps along $-g$; momentum accumulates a velocity that speeds up consistent directions and
#   damps oscillation; weight decay adds $\lambda p$ to the gradient.
# - RMSprop divides each gradient by the root of a running mean of its squares, so every
#   coordinate moves by about the learning rate; its first steps are too long, because that mean
#   starts at zero.
# - Adam divides a running mean of the gradient by the root of a running mean of its square, with a
#   bias correction that makes its first steps the right size.
# - Ill-conditioning limits plain SGD to $\eta < 2/\kappa$; momentum and a well tuned Adam need several
#   times fewer steps, at the price of one or two extra arrays per parameter.
#
# ## Checkpoint
# This module unlocks `checkpoints/checkpoint_06_optimization.py`, which asks:
# **"Can I use gradients to make a model better?"** Run it with
#
# ```
# make checkpoints
# ```
#
# or on its own: `.venv/bin/python -m pytest checkpoints/checkpoint_06_*.py`.
#
# Next, module 07 puts everything together: data loading, a training loop, and a network that
# learns to read handwritten digits.


# %% [markdown]
# ## Checkpoint cell (20 points)
#
# This last graded cell asks the checkpoint's question of your own code, in a few lines. When your
# notebook is graded, its 20 points are decided differently: the autograder exports your module,
# runs the checkpoint's cases on it in a sandbox (with the published reference standing in for
# the earlier modules), on inputs drawn for your submission, and compares the values with the
# reference's outside your notebook. Passing here is a good sign; the comparison is what counts.

# %% nbgrader={"grade": true, "grade_id": "optimizers-checkpoint", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_checkpoint_optimization():
    """Can I use gradients to make a model better?"""
    from tinytorch.core.losses import MeanSquaredError as CheckpointMSE

    w = Tensor(np.array([[0.0]]), requires_grad=True)
    x, y = Tensor(np.array([[1.0], [2.0], [3.0]])), Tensor(np.array([[2.0], [4.0], [6.0]]))
    for optimizer in (SGD([w], lr=0.05, momentum=0.9), RMSprop([w], lr=0.05), Adam([w], lr=0.1)):
        w.data = np.array([[0.0]])
        for _ in range(200):
            optimizer.zero_grad()
            CheckpointMSE()(x @ w, y).backward()
            optimizer.step()
        np.testing.assert_allclose(w.data, [[2.0]], atol=1e-2)
        assert w.is_leaf


test_checkpoint_optimization()


# %% [markdown]
# ## Check your work
#
# Save the notebook (Ctrl+S), then run the cell below. It runs the same check as
# `tito check 06_optimizers` in a terminal: your saved notebook, top to bottom in a fresh kernel that
# sees only the earlier modules (as grading does), then the module's checkpoint on the code of
# your export cells. It lists which visible tests pass, the first failure of the others and what
# to try next. At grading, each test cell's points also need the grader's own cases for it (some
# of them hidden) to agree with the reference. When tito or nbgrader runs this notebook, the
# cell only says it was skipped.

# %%
from tito.student import check_module

check_module("06_optimizers")
