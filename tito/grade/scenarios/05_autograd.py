"""Checkpoint 05 as values: "Can I automatically compute gradients for learning?"

Uses `tt.tensor`, `tt.activations`, `tt.layers`, `tt.losses` (reference) and `tt.autograd`
(under grade). Gradients are compared in float64 wherever the inputs allow it.
"""

import numpy as np

from _common import arr, f64, grad, registry

MODULE = "autograd"
SCENARIOS = []
scenario = registry(SCENARIOS)


@scenario(points=2, rtol=1e-10, atol=1e-12)
def polynomial(tt):
    Tensor = tt.tensor.Tensor
    tt.autograd  # the engine registers itself on import
    x = Tensor([[2.0, 3.0]], requires_grad=True)
    y = x * x + 2 * x + 1
    y.backward()
    z = Tensor(np.array([-1.5, 0.0, 0.5, 4.0]), requires_grad=True)
    (z * z * z - z / 2).sum().backward()
    w = Tensor([[1.0, 2.0]], requires_grad=True)
    (w * 3).backward(Tensor([[1.0, 0.5]]))
    return {"grad x": grad(x), "grad shape": np.array(x.grad.shape), "y": arr(y),
            "grad z (cubic)": grad(z), "explicit seed": grad(w)}


@scenario(points=2, rtol=1e-5, atol=1e-8)
def dense_sigmoid_mse(tt):
    Tensor, Dense = tt.tensor.Tensor, tt.layers.Dense
    tt.autograd
    rng = np.random.default_rng(501)
    layer = Dense(input_size=3, output_size=2, rng=np.random.default_rng(0))
    layer.weights.data = rng.standard_normal((3, 2))  # float64 parameters
    layer.bias.data = rng.standard_normal(2)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    target = Tensor(rng.uniform(0, 1, (4, 2)))
    loss = tt.losses.MeanSquaredError()(tt.activations.Sigmoid()(layer(x)), target)
    loss.backward()
    return {"loss": arr(loss), "grad weights": grad(layer.weights), "grad bias": grad(layer.bias),
            "grad input": grad(x), "bias grad shape": np.array(layer.bias.grad.shape)}


@scenario(points=1, rtol=1e-12, atol=1e-12)
def chain_rule(tt):
    Tensor = tt.tensor.Tensor
    tt.autograd
    x = Tensor([[1.0]], requires_grad=True)
    u = x * 2
    z = u * u
    z.backward()
    a = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    ((a * 3 + 1) ** 2).exp().sum().backward()
    return {"grad x": grad(x), "grad a": grad(a)}


@scenario(points=2, rtol=1e-12, atol=1e-12)
def accumulation_and_zero_grad(tt):
    Tensor = tt.tensor.Tensor
    tt.autograd
    param = Tensor([[1.0, 2.0]], requires_grad=True)
    (param * 2).sum().backward()
    first = grad(param)
    (param * 3).sum().backward()
    second = grad(param)
    param.zero_grad()
    cleared = param.grad is None or not np.any(arr(param.grad))
    (param * 4).sum().backward()
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data[...] = 100.0  # gradients must never share memory
    return {"first": first, "accumulated": second, "cleared": cleared, "after zero_grad": grad(param),
            "grad b after editing grad a": grad(b),
            "grad requires_grad": bool(param.grad.requires_grad)}


@scenario(points=2, rtol=1e-12, atol=1e-12)
def several_paths(tt):
    Tensor = tt.tensor.Tensor
    tt.autograd
    a = Tensor([[2.0]], requires_grad=True)
    b = Tensor([[3.0]], requires_grad=True)
    c = a * b + a * a + b * b
    c.backward()
    x, y = Tensor(2.0, requires_grad=True), Tensor(3.0, requires_grad=True)
    f = (x + y) * (x - y)
    f.backward()
    s = Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    t = s * s
    (t + t * s + s).sum().backward()
    return {"grad a": grad(a), "grad b": grad(b), "grad x": grad(x), "grad y": grad(y),
            "f": arr(f), "shared node": grad(s)}


@scenario(points=2, rtol=1e-12, atol=1e-12, budget=8)
def diamond_41_levels(tt):
    Tensor = tt.tensor.Tensor
    tt.autograd
    leaf = Tensor(1.0, requires_grad=True)
    p = leaf
    for _ in range(41):  # 2^41 paths: only a linear-time backward finishes (41: odd, so a
        # sign error in a rule cannot cancel out)
        p = p * 0.5 + p * 0.5
    p.backward()
    return {"grad leaf": grad(leaf)}


@scenario(points=2, rtol=1e-12, atol=1e-12)
def broadcast_gradients(tt):
    Tensor = tt.tensor.Tensor
    tt.autograd
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    row = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    column = Tensor(np.array([[1.0], [2.0], [3.0], [4.0]]), requires_grad=True)
    scale = Tensor(np.array(2.0), requires_grad=True)
    ((x + row) * column * scale).sum().backward()
    batch = Tensor(np.arange(12.0).reshape(2, 3, 2), requires_grad=True)
    middle = Tensor(np.array([[1.0], [2.0], [3.0]]), requires_grad=True)  # (3, 1) against (2, 3, 2)
    (batch * middle).sum().backward()
    return {"grad row": grad(row), "grad column": grad(column), "grad scale": grad(scale),
            "grad x": grad(x), "grad middle": grad(middle), "grad batch": grad(batch),
            "shapes": np.array([*row.grad.shape, *column.grad.shape, len(scale.grad.shape)])}


@scenario(points=1, rtol=1e-9, atol=1e-12)
def long_chain_10002(tt):
    Tensor = tt.tensor.Tensor
    tt.autograd
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(5_001):  # 10,002 recorded operations: no recursion limit may stop it
        y = y * 1.0001 + 0.0
    y.backward()
    return {"grad x": grad(x), "y": arr(y)}


@scenario(points=2, rtol=1e-10, atol=1e-12)
def elementwise_rules(tt):
    Tensor, act = tt.tensor.Tensor, tt.activations
    tt.autograd
    x = Tensor(np.array([0.5, 1.0, 2.0]), requires_grad=True)
    (x.exp() + x.log() + x ** 3 + 1 / x - x / 4 - (-x)).sum().backward()
    y = Tensor(np.array([-1.0, 0.5, 3.0, -0.0]), requires_grad=True)
    (act.sigmoid(y) + act.tanh(y) + act.relu(y)).sum().backward()
    z = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    (z ** 0.5 * 2 - z.sqrt()).sum().backward()
    q = Tensor(np.array([2.0, -3.0]), requires_grad=True)
    r = Tensor(np.array([4.0, 0.5]), requires_grad=True)
    (q / r - r * q).sum().backward()
    return {"exp log pow div neg": grad(x), "activations": grad(y), "sqrt": grad(z),
            "quotient numerator": grad(q), "quotient denominator": grad(r)}


@scenario(points=1, rtol=1e-10, atol=1e-12)
def matmul_and_reductions(tt):
    Tensor = tt.tensor.Tensor
    tt.autograd
    rng = np.random.default_rng(502)
    a = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    v = Tensor(rng.standard_normal(4), requires_grad=True)
    (a @ b).sum().backward()
    ((a @ v) * Tensor(np.array([1.0, 2.0, 3.0]))).sum().backward()
    batch = Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 5)), requires_grad=True)
    ((batch @ w) ** 2).mean().backward()
    m = Tensor(np.array([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0], [7.0, 7.0, 1.0]]), requires_grad=True)
    (m.mean() + m.max(axis=1).sum() + m.reshape(9, 1).T[0, ::2].sum() + m.max()
     + m.sum(axis=0, keepdims=True).sum() + m.transpose()[[0, 0, 2], 1].sum()).backward()
    return {"grad a": grad(a), "grad b": grad(b), "grad v": grad(v), "grad batch": grad(batch),
            "grad w": grad(w), "grad m": grad(m)}


@scenario(points=1, rtol=1e-10, atol=1e-12)
def cross_entropy_gradient(tt):
    Tensor = tt.tensor.Tensor
    tt.autograd
    rng = np.random.default_rng(503)
    logits = Tensor(rng.standard_normal((6, 4)), requires_grad=True)
    labels = rng.integers(0, 4, 6)
    tt.losses.CrossEntropyLoss()(logits, Tensor(labels)).backward()
    soft_logits = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    targets = rng.uniform(0.1, 1.0, (3, 4))
    tt.losses.cross_entropy(soft_logits, Tensor(targets / targets.sum(axis=1, keepdims=True))).backward()
    return {"labels": grad(logits), "probabilities": grad(soft_logits)}


@scenario(points=1, rtol=1e-6, atol=1e-8)
def no_grad_and_gradient_checks(tt):
    Tensor, autograd, act = tt.tensor.Tensor, tt.autograd, tt.activations
    rng = np.random.default_rng(504)
    w = Tensor([1.0, 2.0], requires_grad=True)
    with autograd.no_grad():
        out = w * 3 + 1
    resumed = (w * 3).requires_grad
    try:
        with autograd.no_grad():
            raise KeyError("inside")
    except KeyError:
        pass
    numeric = autograd.numerical_gradient(lambda t: (t ** 2).sum(), Tensor([1.0, 2.0, 3.0]))
    a = Tensor(rng.standard_normal((4, 3)))
    c = Tensor(rng.standard_normal((4, 2)))
    match, difference = autograd.check_gradients(lambda x: (act.sigmoid(a @ x) * c).sum() + (x * x).mean(),
                                                 rng.standard_normal((3, 2)))
    return {"no_grad records nothing": (not out.requires_grad) and out.is_leaf, "values": arr(out),
            "resumes": resumed, "resumes after raise": (w * 3).requires_grad,
            "numerical gradient": f64(numeric), "numerical dtype": str(np.asarray(numeric).dtype),
            "check matches": bool(match), "check difference small": bool(float(difference) < 1e-6)}


@scenario(points=1, rtol=1e-10, atol=1e-12)
def variable_face(tt):
    autograd = tt.autograd
    Variable = autograd.Variable

    def g(variable):
        return float(np.asarray(variable.grad.data.data).reshape(()))

    x = Variable(2.0, requires_grad=True)
    y = x ** 2 + 3 * x + 1
    y.backward()
    p, q = Variable(2.0, requires_grad=True), Variable(3.0, requires_grad=True)
    autograd.add(autograd.multiply(p, q), p).backward()
    m, n = Variable(2.0, requires_grad=True), Variable(3.0, requires_grad=True)
    autograd.multiply(autograd.add(m, n), autograd.subtract(m, n)).backward()
    r, s = Variable(2.0, requires_grad=True), Variable(4.0, requires_grad=True)
    (autograd.divide(r, s) + r / s + autograd.divide(1, s) + autograd.subtract(5, r)).backward()
    return {"polynomial": g(x), "xy + x": np.array([g(p), g(q)]), "x^2 - y^2": np.array([g(m), g(n)]),
            "quotients": np.array([g(r), g(s)]), "value": float(np.asarray(y.data.data))}
