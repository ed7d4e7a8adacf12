"""The spec of 05_autograd: its cases, each bound to a graded cell by grade id.

Cells covered (public cases check what the cell's visible test asserts, hidden ones what its
former hidden tests checked):
- autograd-elementwise-rules: add, sub, mul, div, neg, pow, exp and log rules, called on nodes;
- autograd-array-rules: matmul, sum, max, reshape, transpose and getitem rules;
- autograd-activation-rules: relu, sigmoid, tanh and cross_entropy rules;
- autograd-unbroadcast: `unbroadcast`;
- autograd-topological-order: `topological_order` (order-free facts: count, validity, members);
- autograd-backward-checkpoint, autograd-backward-graphs: the engine, through `Tensor.backward`;
- autograd-no-grad: `no_grad`;
- autograd-gradient-checks: `numerical_gradient`, `check_gradients`;
- autograd-variable: `add`, `subtract`, `multiply`, `divide` on `Variable`s;
- autograd-checkpoint: checkpoint 05 as values, "Can I automatically compute gradients for
  learning?" (these cases carry the cell's 20 points).

Uses `tt.tensor`, `tt.activations`, `tt.layers`, `tt.losses` (reference) and `tt.autograd`
(under grade). Gradients are compared in float64 wherever the inputs allow it. A rule's entry for
a constant input may be None or an array, so cases only record the entries the tests check.
"""

import warnings

import numpy as np

from casekit import arr, dtype_name, f64, grad, registry, type_name

CASES = []
case = registry(CASES)


def _quietly(fn, *args, **kwargs):
    """(result, number of numpy RuntimeWarnings: overflow, invalid, divide by zero) of fn(*args)."""
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    return result, sum(issubclass(w.category, RuntimeWarning) for w in caught)


def _signed(rng, shape, low=0.5, high=2.0):
    """Magnitudes in [low, high], half of each sign (shuffled): no zeros, no tiny values."""
    size = int(np.prod(shape))
    signs = rng.permutation(np.resize([-1.0, 1.0], size)).reshape(shape)
    return rng.uniform(low, high, shape) * signs


def _distinct(rng, shape, spacing=0.5):
    """Signed values at least spacing/2 apart and spacing/4 away from 0 (no ties, no kinks)."""
    size = int(np.prod(shape))
    grid = (np.arange(size) - (size - 1) / 2 + (size % 2) / 2) * spacing  # odd sizes: shifted off 0
    return (rng.permutation(grid) + rng.uniform(-spacing / 4, spacing / 4, size)).reshape(shape)


def _dims(rng, count, low=2, high=6):
    """`count` different lengths in [low, high): a transposed shape can never fit by accident."""
    return [int(n) for n in rng.choice(np.arange(low, high), count, replace=False)]


def _grads(result):
    """A rule's entries as float64 arrays (every entry must be an array here)."""
    return [arr(entry, np.float64) for entry in result]


def _g(variable):
    """A Variable's gradient as a Python float (`.grad` is a Variable whose `.data` is a Tensor)."""
    return float(np.asarray(variable.grad.data.data).reshape(()))


def _v(variable):
    return float(np.asarray(variable.data.data).reshape(()))


def _rule_name(variable):
    return "none" if variable.grad_fn is None else getattr(variable.grad_fn, "__name__", "?")


# ------------------------------------------------------------------ autograd-elementwise-rules

@case("autograd-elementwise-rules", rtol=1e-10, atol=1e-12)
def add_sub_neg_rules(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    n = int(rng.integers(3, 6))
    a = Tensor(_signed(rng, n), requires_grad=True)
    b = Tensor(_signed(rng, n), requires_grad=True)
    g = _signed(rng, n, 0.5, 50.0)
    added, subtracted, negated = ag.add_rule(a + b, g), ag.sub_rule(a - b, g), ag.neg_rule(-a, g)
    return {"entries": np.array([len(added), len(subtracted), len(negated)]),
            "add a": arr(added[0], np.float64), "add b": arr(added[1], np.float64),
            "sub a": arr(subtracted[0], np.float64), "sub b": arr(subtracted[1], np.float64),
            "neg a": arr(negated[0], np.float64)}


@case("autograd-elementwise-rules", rtol=1e-10, atol=1e-12)
def mul_div_rules(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    n = int(rng.integers(3, 6))
    a = Tensor(_signed(rng, n), requires_grad=True)
    b = Tensor(_signed(rng, n), requires_grad=True)
    g = _signed(rng, n, 0.5, 50.0)
    mul_a, mul_b = _grads(ag.mul_rule(a * b, g))
    div_a, div_b = _grads(ag.div_rule(a / b, g))
    return {"mul a": mul_a, "mul b": mul_b, "div a": div_a, "div b": div_b}


@case("autograd-elementwise-rules", rtol=1e-10, atol=1e-12)
def pow_exp_log_rules(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    n = int(rng.integers(3, 6))
    p = Tensor(rng.uniform(0.5, 4.0, n), requires_grad=True)  # positive: square roots and logs
    s = Tensor(_signed(rng, n), requires_grad=True)
    g = _signed(rng, n, 0.5, 50.0)
    (cube,) = ag.pow_rule(s ** 3, g)
    (root,) = ag.pow_rule(p ** 0.5, g)
    (exp,) = ag.exp_rule(s.exp(), g)
    (log,) = ag.log_rule(p.log(), g)
    return {"pow 3": arr(cube, np.float64), "pow 0.5": arr(root, np.float64),
            "exp": arr(exp, np.float64), "log": arr(log, np.float64)}


@case("autograd-elementwise-rules", rtol=1e-10, atol=1e-12)
def mul_rule_constant_operand(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    n = int(rng.integers(3, 6))
    a = Tensor(_signed(rng, n), requires_grad=True)
    c = Tensor(_signed(rng, n))  # a constant: its entry may be None
    g = _signed(rng, n, 0.5, 50.0)
    return {"a * c, grad a": arr(ag.mul_rule(a * c, g)[0], np.float64),
            "c * a, grad a": arr(ag.mul_rule(c * a, g)[1], np.float64)}


@case("autograd-elementwise-rules", rtol=0, atol=0)
def rules_leave_grad_alone(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    a = Tensor(rng.uniform(0.5, 2.0, 3), requires_grad=True)
    b = Tensor(_signed(rng, 3), requires_grad=True)
    g = _signed(rng, 3, 0.5, 50.0)
    before = g.copy()
    calls = [(ag.add_rule, a + b), (ag.sub_rule, a - b), (ag.mul_rule, a * b), (ag.div_rule, a / b),
             (ag.neg_rule, -a), (ag.pow_rule, a ** 3), (ag.exp_rule, a.exp()), (ag.log_rule, a.log())]
    unchanged = []
    for rule, node in calls:
        rule(node, g)
        unchanged.append(bool(np.array_equal(g, before)))
        g[...] = before
    return {"grad unchanged (add sub mul div neg pow exp log)": np.array(unchanged)}


@case("autograd-elementwise-rules", rtol=1e-6, atol=1e-7)
def pow_rule_float32(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    x32 = Tensor(rng.uniform(-3.0, 3.0, 2).tolist(), requires_grad=True)  # a list: float32
    g32 = rng.uniform(0.5, 2.0, 2).astype(np.float32)
    (result,) = ag.pow_rule(x32 ** 2, g32)
    (ones,) = ag.pow_rule(x32 ** 2, np.ones(2, dtype=np.float32))
    return {"dtype": dtype_name(np.asarray(result)), "values": arr(result), "ones dtype":
            dtype_name(np.asarray(ones)), "ones": arr(ones)}


@case("autograd-elementwise-rules", hidden=True, rtol=1e-10, atol=1e-12)
def div_rule_matrices(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    shape = tuple(_dims(rng, 2))
    m = Tensor(_signed(rng, shape), requires_grad=True)
    n = Tensor(_signed(rng, shape, 0.25, 4.0), requires_grad=True)
    gm = _signed(rng, shape, 0.5, 4.0)
    grad_m, grad_n = _grads(ag.div_rule(m / n, gm))
    divisor = float(rng.uniform(1.5, 3.0))
    by_constant = ag.div_rule(m / Tensor(np.full(shape, divisor)), gm)[0]
    return {"grad m": grad_m, "grad n": grad_n, "constant divisor": arr(by_constant, np.float64)}


@case("autograd-elementwise-rules", hidden=True, rtol=1e-10, atol=1e-12)
def pow_rule_negative_and_unit(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    m = Tensor(_signed(rng, (2, 2)), requires_grad=True)
    gm = _signed(rng, (2, 2), 0.5, 4.0)
    return {"pow -2": arr(ag.pow_rule(m ** -2, gm)[0], np.float64),
            "pow 1": arr(ag.pow_rule(m ** 1, gm)[0], np.float64)}


@case("autograd-elementwise-rules", hidden=True, rtol=1e-10, atol=1e-12)
def sub_reversed_and_neg_matrix(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    m = Tensor(_signed(rng, (2, 2)), requires_grad=True)
    n = Tensor(_signed(rng, (2, 2)), requires_grad=True)
    gm = _signed(rng, (2, 2), 0.5, 4.0)
    grad_n, grad_m = _grads(ag.sub_rule(n - m, gm))
    scale = float(rng.uniform(1.0, 5.0))
    return {"n - m, grad n": grad_n, "n - m, grad m": grad_m,
            "neg": arr(ag.neg_rule(-m, np.array(scale) * np.ones((2, 2)))[0], np.float64)}


@case("autograd-elementwise-rules", hidden=True, rtol=1e-10, atol=0)
def exp_log_rules_wide_range(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    m = Tensor(_signed(rng, (2, 2)), requires_grad=True)
    gm = _signed(rng, (2, 2), 0.5, 4.0)
    wide = Tensor(10.0 ** rng.uniform([0.5, 5.5], [1.5, 6.5]).reshape(1, 2), requires_grad=True)
    return {"exp": arr(ag.exp_rule((m * 0.5).exp(), gm)[0], np.float64),
            "log": arr(ag.log_rule(wide.log(), np.array([[1.0, 1.0]]))[0], np.float64)}


@case("autograd-elementwise-rules", hidden=True, rtol=1e-10, atol=1e-12)
def mul_rule_same_parent(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    m = Tensor(_signed(rng, (2, 2)), requires_grad=True)
    gm = _signed(rng, (2, 2), 0.5, 4.0)
    first, second = _grads(ag.mul_rule(m * m, gm))
    return {"first": first, "second": second}


# ------------------------------------------------------------------ autograd-array-rules

@case("autograd-array-rules", rtol=1e-10, atol=1e-12)
def matmul_rule_matrices(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    n, k, m = _dims(rng, 3)
    A = Tensor(rng.standard_normal((n, k)), requires_grad=True)
    B = Tensor(rng.standard_normal((k, m)), requires_grad=True)
    grad_A, grad_B = _grads(ag.matmul_rule(A @ B, rng.standard_normal((n, m))))
    return {"grad A": grad_A, "grad B": grad_B, "shapes": np.array([*grad_A.shape, *grad_B.shape])}


@case("autograd-array-rules", rtol=1e-10, atol=1e-12)
def matmul_rule_vectors(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    n, k, m = _dims(rng, 3)
    v = Tensor(rng.standard_normal(k), requires_grad=True)
    A = Tensor(rng.standard_normal((n, k)), requires_grad=True)
    B = Tensor(rng.standard_normal((k, m)), requires_grad=True)
    vB_v, vB_B = _grads(ag.matmul_rule(v @ B, rng.standard_normal(m)))
    Av_A, Av_v = _grads(ag.matmul_rule(A @ v, rng.standard_normal(n)))
    return {"v @ B, grad v": vB_v, "v @ B, grad B": vB_B, "A @ v, grad A": Av_A, "A @ v, grad v": Av_v,
            "shapes": np.array([vB_v.ndim, *vB_B.shape, *Av_A.shape, Av_v.ndim])}


@case("autograd-array-rules", rtol=1e-12, atol=1e-14)
def sum_rule_axes(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    r, c = _dims(rng, 2)
    A = Tensor(rng.standard_normal((r, c)), requires_grad=True)
    (everything,) = ag.sum_rule(A.sum(), np.array(rng.uniform(0.5, 3.0)))
    (columns,) = ag.sum_rule(A.sum(axis=0), rng.standard_normal(c))
    (rows,) = ag.sum_rule(A.sum(axis=1, keepdims=True), rng.standard_normal((r, 1)))
    return {"all": arr(everything, np.float64), "axis 0": arr(columns, np.float64),
            "axis 1 keepdims": arr(rows, np.float64)}


@case("autograd-array-rules", rtol=1e-12, atol=1e-14)
def max_rule_ties(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    data = rng.uniform(-1.0, 1.0, (2, 3))
    i, j = rng.choice(3, 2, replace=False)
    data[0, i] = data[0, j] = rng.uniform(2.0, 3.0)  # row 0: a tie, and the overall maximum twice
    M = Tensor(data, requires_grad=True)
    (per_row,) = ag.max_rule(M.max(axis=1), rng.uniform(0.5, 4.0, 2))
    (overall,) = ag.max_rule(M.max(), np.array(rng.uniform(0.5, 4.0)))
    return {"axis 1": arr(per_row, np.float64), "all": arr(overall, np.float64)}


@case("autograd-array-rules", rtol=0, atol=0)
def reshape_transpose_rules(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    r, c = _dims(rng, 2)
    A = Tensor(rng.standard_normal((r, c)), requires_grad=True)
    g = rng.standard_normal((c, r))
    (reshaped,) = ag.reshape_rule(A.reshape(c, r), g)
    (transposed,) = ag.transpose_rule(A.T, g)
    p, q, s = _dims(rng, 3)
    X = Tensor(np.zeros((p, q, s)), requires_grad=True)
    axes = [(1, 2, 0), (2, 0, 1)][int(rng.integers(2))]  # never its own inverse
    g3 = rng.standard_normal(tuple((p, q, s)[axis] for axis in axes))
    (permuted,) = ag.transpose_rule(X.transpose(*axes), g3)
    return {"reshape": arr(reshaped, np.float64), "T": arr(transposed, np.float64),
            "3-d": arr(permuted, np.float64), "3-d shape": np.array(np.shape(permuted))}


@case("autograd-array-rules", rtol=1e-12, atol=1e-14)
def getitem_rule_repeats(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    A = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    (picked,) = ag.getitem_rule(A[[0, 0, 1], [2, 2, 0]], _signed(rng, 3))
    (row,) = ag.getitem_rule(A[1], _signed(rng, 3))
    return {"repeats add up": arr(picked, np.float64), "row": arr(row, np.float64)}


@case("autograd-array-rules", hidden=True, rtol=1e-10, atol=1e-12)
def matmul_rule_batched(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    P = Tensor(rng.standard_normal((2, 2, 3)), requires_grad=True)
    Q = Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    grad_P, grad_Q = _grads(ag.matmul_rule(P @ Q, rng.standard_normal((2, 2, 4))))
    return {"grad P": grad_P, "grad Q": grad_Q}


@case("autograd-array-rules", hidden=True, rtol=1e-10, atol=1e-12)
def matmul_rule_dot_and_constant(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    v = Tensor(rng.standard_normal(3), requires_grad=True)
    w = Tensor(rng.standard_normal(3), requires_grad=True)
    grad_v, grad_w = _grads(ag.matmul_rule(v @ w, np.array(rng.uniform(0.5, 3.0))))
    A = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    constant = Tensor(rng.standard_normal((3, 2)))
    grad_A = ag.matmul_rule(A @ constant, rng.standard_normal((2, 2)))[0]
    return {"dot, grad v": grad_v, "dot, grad w": grad_w, "constant right, grad A": arr(grad_A, np.float64)}


@case("autograd-array-rules", hidden=True, rtol=1e-12, atol=1e-14)
def sum_rule_several_axes(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    C = Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    (two_axes,) = ag.sum_rule(C.sum(axis=(0, 2)), rng.standard_normal(3))
    (last,) = ag.sum_rule(C.sum(axis=-1), rng.standard_normal((2, 3)))
    return {"axes (0, 2)": arr(two_axes, np.float64), "axis -1": arr(last, np.float64)}


@case("autograd-array-rules", hidden=True, rtol=1e-12, atol=1e-14)
def max_rule_keepdims_and_all_equal(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    data = rng.uniform(-1.0, 1.0, (2, 3))
    column = int(rng.integers(3))
    data[:, column] = rng.uniform(-1.0, 1.0)  # a tie down one column
    M = Tensor(data, requires_grad=True)
    (columns,) = ag.max_rule(M.max(axis=0, keepdims=True), rng.uniform(0.5, 4.0, (1, 3)))
    T = Tensor(np.full((2, 2), rng.uniform(-5.0, 5.0)), requires_grad=True)
    (flat,) = ag.max_rule(T.max(), np.array(1.0))
    return {"axis 0 keepdims": arr(columns, np.float64), "all equal": arr(flat, np.float64)}


@case("autograd-array-rules", hidden=True, rtol=0, atol=0)
def transpose_reshape_getitem_more(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    C = Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    A = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    v = Tensor(rng.standard_normal(3), requires_grad=True)
    return {"transpose (0, 2, 1)": arr(ag.transpose_rule(C.transpose(0, 2, 1), rng.standard_normal((2, 4, 3)))[0]),
            "transpose ()": arr(ag.transpose_rule(C.transpose(), rng.standard_normal((4, 3, 2)))[0]),
            "slice": arr(ag.getitem_rule(A[:, 1:], rng.standard_normal((2, 2)))[0]),
            "same index thrice": arr(ag.getitem_rule(v[np.array([2, 2, 2])], np.array([1.0, 2.0, 4.0]))[0]),
            "reshape -1": arr(ag.reshape_rule(C.reshape(-1), rng.standard_normal(24))[0])}


# ------------------------------------------------------------------ autograd-activation-rules

@case("autograd-activation-rules", rtol=0, atol=0)
def relu_rule_values(tt, rng):
    Tensor, ag, act = tt.tensor.Tensor, tt.autograd, tt.activations
    x = Tensor(rng.permutation(np.concatenate([_signed(rng, 4), [0.0]])), requires_grad=True)  # 0: slope 0
    g = rng.uniform(0.5, 4.0, 5)
    (result,) = ag.relu_rule(act.relu(x), g)
    return {"values": arr(result, np.float64)}


@case("autograd-activation-rules", rtol=1e-10, atol=1e-13)
def sigmoid_tanh_rule_values(tt, rng):
    Tensor, ag, act = tt.tensor.Tensor, tt.autograd, tt.activations
    x = Tensor(_signed(rng, 4, 0.1, 4.0), requires_grad=True)
    g = _signed(rng, 4, 0.5, 4.0)
    return {"sigmoid": arr(ag.sigmoid_rule(act.sigmoid(x), g)[0], np.float64),
            "tanh": arr(ag.tanh_rule(act.tanh(x), g)[0], np.float64)}


@case("autograd-activation-rules", rtol=0, atol=0)
def saturated_slopes(tt, rng):
    Tensor, ag, act = tt.tensor.Tensor, tt.autograd, tt.activations
    big = Tensor(np.array([-1000.0, -rng.uniform(800.0, 900.0), rng.uniform(800.0, 900.0), 1000.0]),
                 requires_grad=True)
    s, t = act.sigmoid(big), act.tanh(big)
    (sigmoid_slope,), sigmoid_warnings = _quietly(ag.sigmoid_rule, s, np.ones(4))
    (tanh_slope,), tanh_warnings = _quietly(ag.tanh_rule, t, np.ones(4))
    return {"sigmoid": arr(sigmoid_slope, np.float64), "sigmoid warnings": sigmoid_warnings,
            "tanh": arr(tanh_slope, np.float64), "tanh warnings": tanh_warnings}


@case("autograd-activation-rules", rtol=1e-10, atol=1e-13)
def cross_entropy_rule_labels(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    n, c = _dims(rng, 2, 2, 6)
    logits = Tensor(rng.standard_normal((n, c)) * 2, requires_grad=True)
    labels = Tensor(rng.integers(0, c, n))
    result = ag.cross_entropy_rule(tt.losses.cross_entropy(logits, labels), np.array(1.0))
    grad_logits = arr(result[0], np.float64)
    return {"entries": len(result), "grad logits": grad_logits, "shape": np.array(grad_logits.shape),
            "row sums": grad_logits.sum(axis=1)}


@case("autograd-activation-rules", hidden=True, rtol=1e-10, atol=1e-13)
def cross_entropy_rule_probabilities(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    logits = Tensor(rng.standard_normal((3, 3)) * 2, requires_grad=True)
    soft = rng.uniform(0.1, 1.0, (2, 3))
    probs = np.vstack([soft / soft.sum(axis=1, keepdims=True), np.eye(3)[rng.integers(3)]])
    upstream = np.array(rng.uniform(1.5, 3.0))
    result = ag.cross_entropy_rule(tt.losses.cross_entropy(logits, Tensor(probs)), upstream)
    return {"grad logits": arr(result[0], np.float64)}


@case("autograd-activation-rules", hidden=True, rtol=1e-10, atol=1e-13)
def cross_entropy_rule_huge_logits(tt, rng):
    Tensor, ag = tt.tensor.Tensor, tt.autograd
    big = rng.uniform(800.0, 1200.0, 2)
    huge = Tensor(np.array([[big[0], -big[0]], [-big[1], big[1]]]), requires_grad=True)
    labels = Tensor(rng.integers(0, 2, 2))
    result, warned = _quietly(ag.cross_entropy_rule, tt.losses.cross_entropy(huge, labels), np.array(1.0))
    return {"grad logits": arr(result[0], np.float64), "warnings": warned}


@case("autograd-activation-rules", hidden=True, rtol=0, atol=0)
def relu_rule_matrix_negative_zero(tt, rng):
    Tensor, ag, act = tt.tensor.Tensor, tt.autograd, tt.activations
    data = _signed(rng, (2, 2))
    data[int(rng.integers(2)), int(rng.integers(2))] = -0.0
    m = Tensor(data, requires_grad=True)
    (result,) = ag.relu_rule(act.relu(m), rng.uniform(0.5, 4.0, (2, 2)))
    return {"values": arr(result, np.float64)}


@case("autograd-activation-rules", hidden=True, rtol=1e-6, atol=1e-7)
def sigmoid_rule_float32(tt, rng):
    Tensor, ag, act = tt.tensor.Tensor, tt.autograd, tt.activations
    x32 = Tensor(_signed(rng, 2, 0.1, 3.0).tolist(), requires_grad=True)  # a list: float32
    (result,) = ag.sigmoid_rule(act.sigmoid(x32), np.ones(2, dtype=np.float32))
    return {"dtype": dtype_name(np.asarray(result)), "values": arr(result)}


@case("autograd-activation-rules", hidden=True, rtol=0, atol=0)
def tanh_saturated_and_sigmoid_at_zero(tt, rng):
    Tensor, ag, act = tt.tensor.Tensor, tt.autograd, tt.activations
    x = Tensor(np.array([-1.0, 1.0]) * rng.uniform(50.0, 60.0, 2), requires_grad=True)
    (tanh_slope,) = ag.tanh_rule(act.tanh(x), np.ones(2))
    upstream = float(rng.integers(1, 9)) * 4.0
    (sigmoid_slope,) = ag.sigmoid_rule(act.sigmoid(Tensor(np.array([0.0]), requires_grad=True)),
                                       np.array([upstream]))
    return {"tanh": arr(tanh_slope, np.float64), "sigmoid at 0": arr(sigmoid_slope, np.float64)}


# ------------------------------------------------------------------ autograd-unbroadcast

@case("autograd-unbroadcast", rtol=1e-10, atol=1e-12)
def unbroadcast_2d(tt, rng):
    unbroadcast = tt.autograd.unbroadcast
    n, m = _dims(rng, 2)
    g = rng.standard_normal((n, m))
    out = {}
    for label, shape in (("(m,)", (m,)), ("(1, m)", (1, m)), ("(n, 1)", (n, 1)), ("(n, m)", (n, m)),
                         ("()", ())):
        result = unbroadcast(g, shape)
        out[f"{label} shape"] = np.array(np.shape(result), dtype=np.int64)
        out[label] = arr(result, np.float64)
    return out


@case("autograd-unbroadcast", rtol=1e-5, atol=1e-6)
def unbroadcast_float32(tt, rng):
    unbroadcast = tt.autograd.unbroadcast
    ones = unbroadcast(np.ones((2, 5), dtype=np.float32), (5,))
    m = int(rng.integers(3, 6))
    g32 = rng.standard_normal((4, m)).astype(np.float32)
    result = unbroadcast(g32, (m,))
    return {"ones": arr(ones), "ones dtype": dtype_name(np.asarray(ones)),
            "values": arr(result), "dtype": dtype_name(np.asarray(result))}


@case("autograd-unbroadcast", hidden=True, rtol=1e-10, atol=1e-12)
def unbroadcast_3d(tt, rng):
    unbroadcast = tt.autograd.unbroadcast
    h = rng.standard_normal((2, 3, 4))
    k = rng.standard_normal((5, 4, 3))
    out = {}
    for label, grad_in, shape in (("(3, 1)", h, (3, 1)), ("(1, 4, 1)", k, (1, 4, 1)),
                                  ("(1,)", rng.standard_normal(6), (1,)), ("(2, 1, 4)", h, (2, 1, 4)),
                                  ("(4,)", h, (4,))):
        result = unbroadcast(grad_in, shape)
        out[f"{label} shape"] = np.array(np.shape(result), dtype=np.int64)
        out[label] = arr(result, np.float64)
    return out


@case("autograd-unbroadcast", hidden=True, rtol=1e-5, atol=1e-6)
def unbroadcast_float32_to_ones(tt, rng):
    result = tt.autograd.unbroadcast(rng.standard_normal((3, 2)).astype(np.float32), (1, 1))
    return {"values": arr(result), "dtype": dtype_name(np.asarray(result)),
            "shape": np.array(np.shape(result), dtype=np.int64)}


# ------------------------------------------------------------------ autograd-topological-order

def _order_facts(order, root, named=None):
    """What every correct order shares: its size, validity (each node once, after its inputs that
    require a gradient), the root last, and (for small graphs) which named nodes it holds."""
    position = {id(node): i for i, node in enumerate(order)}
    valid = len(position) == len(order) and all(
        id(parent) in position and position[id(parent)] < position[id(node)]
        for node in order for parent in node._parents if parent.requires_grad)
    facts = {"count": len(order), "valid": bool(valid), "root last": bool(order) and order[-1] is root}
    if named is not None:
        names = {id(node): name for name, node in named.items()}
        facts["members"] = ",".join(sorted(names.get(id(node), "?") for node in order))
    return facts


@case("autograd-topological-order", rtol=0, atol=0)
def order_small_graph(tt, rng):
    Tensor, topological_order = tt.tensor.Tensor, tt.autograd.topological_order
    x = Tensor(_signed(rng, 1), requires_grad=True)
    w = Tensor(_signed(rng, 1), requires_grad=True)
    c = Tensor(_signed(rng, 1))  # a constant: not part of the order
    u = x * w
    v = u + x
    out = v * c
    facts = _order_facts(topological_order(out), out, {"x": x, "w": w, "c": c, "u": u, "v": v, "out": out})
    single = topological_order(x)
    facts["leaf alone"] = len(single) == 1 and single[0] is x
    return facts


@case("autograd-topological-order", rtol=0, atol=0)
def order_diamonds(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(np.array([rng.uniform(0.5, 2.0)]), requires_grad=True)
    p = x
    for _ in range(int(rng.integers(36, 45))):  # 2^levels paths, 3 * levels + 1 nodes
        p = p * 0.5 + p * 0.5
    return _order_facts(tt.autograd.topological_order(p), p)


@case("autograd-topological-order", rtol=0, atol=0)
def order_deep_chain(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(np.array([rng.uniform(0.5, 2.0)]), requires_grad=True)
    y = x
    for _ in range(3_000 + int(rng.integers(0, 50))):  # 3x deeper than Python's recursion limit
        y = -y
    order = tt.autograd.topological_order(y)
    facts = _order_facts(order, y)
    facts["leaf first"] = bool(order) and order[0] is x
    return facts


@case("autograd-topological-order", rtol=0, atol=0)
def order_unhashable_nodes(tt, rng):
    Tensor = tt.tensor.Tensor

    class Unhashable(Tensor):  # no hash, element-wise ==: the order must key nodes by id()
        __hash__ = None

    leaf = Unhashable(_signed(rng, 2), requires_grad=True)
    scaled = leaf * float(rng.uniform(1.5, 3.0))
    z = scaled + leaf
    order = tt.autograd.topological_order(z)
    facts = _order_facts(order, z, {"leaf": leaf, "scaled": scaled, "z": z})
    facts["leaf first"] = bool(order) and order[0] is leaf
    return facts


@case("autograd-topological-order", hidden=True, rtol=0, atol=0)
def order_shared_subexpression(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(_signed(rng, 1), requires_grad=True)
    b = Tensor(_signed(rng, 1), requires_grad=True)
    shared = a * b
    left = shared.exp()
    right = shared * a
    both = left + right
    top = both + shared
    named = {"a": a, "b": b, "shared": shared, "left": left, "right": right, "both": both, "top": top}
    return _order_facts(tt.autograd.topological_order(top), top, named)


@case("autograd-topological-order", hidden=True, rtol=0, atol=0)
def order_constant_branch(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(_signed(rng, 1), requires_grad=True)
    frozen = Tensor(_signed(rng, 1))
    doubled = frozen * 2.0  # constant: records nothing
    top = doubled * a
    named = {"a": a, "frozen": frozen, "doubled": doubled, "top": top}
    return _order_facts(tt.autograd.topological_order(top), top, named)


@case("autograd-topological-order", hidden=True, rtol=0, atol=0)
def order_unhashable_leaves(tt, rng):
    Tensor = tt.tensor.Tensor

    class Unhashable(Tensor):
        __hash__ = None

    leaves = [Unhashable(_signed(rng, 2), requires_grad=True) for _ in range(5)]
    total = leaves[0]
    for item in leaves[1:]:
        total = total + item * item
    named = {f"leaf {i}": leaf for i, leaf in enumerate(leaves)}
    return _order_facts(tt.autograd.topological_order(total), total, named)


# ------------------------------------------------------------------ autograd-backward-checkpoint

@case("autograd-backward-checkpoint", rtol=1e-6, atol=1e-6)
def backward_polynomial(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor([_signed(rng, 2, 0.5, 3.0).tolist()], requires_grad=True)  # a list: float32, (1, 2)
    y = x * x + 2 * x + 1
    y.backward()  # a non-scalar output, seeded with ones
    return {"grad type": type_name(x.grad), "grad shape": np.array(x.grad.shape), "grad dtype": dtype_name(x.grad),
            "grad": grad(x)}


@case("autograd-backward-checkpoint", rtol=1e-5, atol=1e-7)
def backward_dense_sigmoid_mse(tt, rng):
    Tensor = tt.tensor.Tensor
    n_in, n_out = int(rng.integers(2, 5)), int(rng.integers(1, 3))
    layer = tt.layers.Dense(input_size=n_in, output_size=n_out, rng=rng)
    inputs = Tensor([_signed(rng, n_in).tolist()], requires_grad=True)
    target = Tensor([rng.uniform(0.0, 1.0, n_out).tolist()])
    loss = tt.losses.MeanSquaredError()(tt.activations.Sigmoid()(layer(inputs)), target)
    loss.backward()
    return {"grad weights": grad(layer.weights), "grad bias": grad(layer.bias), "grad inputs": grad(inputs),
            "shapes": np.array([*layer.weights.grad.shape, *layer.bias.grad.shape, *inputs.grad.shape]),
            "dtypes": f"{dtype_name(layer.weights.grad)} {dtype_name(layer.bias.grad)}"}


@case("autograd-backward-checkpoint", rtol=1e-6, atol=1e-6)
def backward_chain_rule(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor([[float(_signed(rng, 1)[0])]], requires_grad=True)
    u = x * 2
    z = u * u
    z.backward()
    return {"grad x": grad(x)}


@case("autograd-backward-checkpoint", rtol=1e-4, atol=1e-6)
def backward_three_layers(tt, rng):
    Tensor, Dense = tt.tensor.Tensor, tt.layers.Dense
    layers = [Dense(3, 5, rng=rng), Dense(5, 2, rng=rng), Dense(2, 1, rng=rng)]
    relu = tt.activations.ReLU()
    batch = Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    target = Tensor(rng.standard_normal((4, 1)).astype(np.float32))
    prediction = layers[2](relu(layers[1](relu(layers[0](batch)))))
    tt.losses.MeanSquaredError()(prediction, target).backward()
    out = {"grad batch": grad(batch)}
    for i, layer in enumerate(layers, start=1):
        out[f"layer {i} weights"] = grad(layer.weights)
        out[f"layer {i} bias"] = grad(layer.bias)
    return out


@case("autograd-backward-checkpoint", rtol=1e-6, atol=1e-6)
def backward_accumulates_and_zero_grad(tt, rng):
    Tensor = tt.tensor.Tensor
    first_k, second_k, third_k = (float(k) for k in rng.uniform(1.0, 5.0, 3))
    param = Tensor([_signed(rng, 2).tolist()], requires_grad=True)
    (param * first_k).sum().backward()
    first = grad(param)
    (param * second_k).sum().backward()
    accumulated = grad(param)
    param.zero_grad()
    (param * third_k).sum().backward()
    return {"first": first, "accumulated": accumulated, "after zero_grad": grad(param)}


@case("autograd-backward-checkpoint", rtol=1e-6, atol=1e-6)
def backward_several_paths(tt, rng):
    Tensor = tt.tensor.Tensor
    first, second = _signed(rng, 2, 0.5, 3.0)
    a = Tensor([[first]], requires_grad=True)
    b = Tensor([[second]], requires_grad=True)
    c = a * b + a * a + b * b
    c.backward()
    return {"grad a": grad(a), "grad b": grad(b)}


@case("autograd-backward-checkpoint", hidden=True, rtol=1e-10, atol=1e-12)
def backward_repeated_with_zero_grad(tt, rng):
    Tensor = tt.tensor.Tensor
    big = Tensor(rng.standard_normal((12, 15)), requires_grad=True)
    out = {}
    for i in range(3):
        k = float(rng.uniform(0.5, 4.0))
        (big * k).sum().backward()
        out[f"grad {i}"] = grad(big)
        big.zero_grad()
        out[f"cleared {i}"] = big.grad is None
    return out


@case("autograd-backward-checkpoint", hidden=True, rtol=1e-6, atol=1e-6)
def backward_powers_and_cubic(tt, rng):
    Tensor = tt.tensor.Tensor
    first, second = _signed(rng, 2, 0.5, 3.0)
    a = Tensor([[first]], requires_grad=True)
    b = Tensor([[second]], requires_grad=True)
    (a * b + a ** 2 + b ** 2).backward()
    x = Tensor([_signed(rng, 3, 0.5, 2.0).tolist()], requires_grad=True)
    y = x * x * x - x
    y.backward()
    return {"grad a": grad(a), "grad b": grad(b), "cubic": grad(x)}


@case("autograd-backward-checkpoint", hidden=True, rtol=1e-5, atol=1e-7)
def backward_dense_batch(tt, rng):
    Tensor = tt.tensor.Tensor
    layer = tt.layers.Dense(input_size=3, output_size=2, rng=rng)
    inputs = Tensor(_signed(rng, (2, 3), 0.1, 2.0).astype(np.float32))
    targets = Tensor(rng.integers(0, 2, (2, 2)).astype(np.float32))
    loss = tt.losses.MeanSquaredError()(tt.activations.Sigmoid()(layer(inputs)), targets)
    loss.backward()
    return {"grad weights": grad(layer.weights), "grad bias": grad(layer.bias)}


# ------------------------------------------------------------------ autograd-backward-graphs

@case("autograd-backward-graphs", rtol=0, atol=0)
def backward_diamonds(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(np.array([rng.uniform(0.5, 2.0)]), requires_grad=True)
    p = x
    for _ in range(int(rng.integers(36, 45))):  # 2^levels paths: only a linear-time engine finishes
        p = p * 0.5 + p * 0.5
    p.backward()
    return {"p": arr(p), "grad x": grad(x)}


@case("autograd-backward-graphs", rtol=0, atol=0)
def backward_deep_chain(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(np.array([rng.uniform(0.5, 2.0)]), requires_grad=True)
    y = x
    for _ in range(2 * int(rng.integers(1_500, 1_525))):  # past the recursion limit; even: dy/dx = 1
        y = -y
    y.backward()
    return {"y": arr(y), "grad x": grad(x)}


@case("autograd-backward-graphs", rtol=1e-10, atol=1e-12)
def backward_broadcast_shapes(tt, rng):
    Tensor = tt.tensor.Tensor
    n, m = _dims(rng, 2)
    X = Tensor(rng.standard_normal((n, m)), requires_grad=True)
    bias = Tensor(rng.standard_normal(m), requires_grad=True)
    column = Tensor(rng.standard_normal((n, 1)), requires_grad=True)
    scale = Tensor(np.array(rng.uniform(0.5, 3.0)), requires_grad=True)
    ((X + bias) * column * scale).sum().backward()
    return {"grad X": grad(X), "grad bias": grad(bias), "grad column": grad(column), "grad scale": grad(scale),
            "shapes": np.array([*bias.grad.shape, *column.grad.shape, len(scale.grad.shape)])}


@case("autograd-backward-graphs", rtol=0, atol=0)
def backward_no_aliasing(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(_signed(rng, 1), requires_grad=True)
    b = Tensor(_signed(rng, 1), requires_grad=True)
    c = a + b
    (c + a).backward()  # add hands one array to both inputs: adding into it in place corrupts b
    return {"grad a": grad(a), "grad b": grad(b)}


@case("autograd-backward-graphs", rtol=1e-10, atol=1e-12)
def backward_explicit_gradient(tt, rng):
    Tensor = tt.tensor.Tensor
    n = int(rng.integers(2, 5))
    v = Tensor(_signed(rng, n), requires_grad=True)
    (v * float(rng.uniform(1.5, 4.0))).backward(_signed(rng, n, 0.5, 10.0))
    return {"grad v": grad(v)}


@case("autograd-backward-graphs", rtol=0, atol=0)
def backward_without_requires_grad(tt, rng):
    Tensor = tt.tensor.Tensor
    constant = Tensor(_signed(rng, 2).tolist())
    try:
        constant.backward()
    except Exception as error:
        kind, message = type(error).__name__, str(error)
    else:
        kind, message = "none", ""
    return {"raises": kind, "message starts right": message.startswith(
        "backward() called on a tensor that does not require gradients")}


@case("autograd-backward-graphs", hidden=True, rtol=0, atol=0)
def backward_weighted_diamonds(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(np.array([rng.uniform(0.5, 4.0)]), requires_grad=True)
    p = x
    for _ in range(int(rng.integers(18, 23))):
        p = p * 0.25 + p * 0.25 + p * 0.5
    p.backward()
    return {"grad x": grad(x)}


@case("autograd-backward-graphs", hidden=True, rtol=0, atol=0)
def backward_fan_in(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(np.array([rng.uniform(0.5, 2.0)]), requires_grad=True)
    total = x
    for _ in range(int(rng.integers(950, 1050))):
        total = total + x
    total.backward()
    return {"grad x": grad(x)}


@case("autograd-backward-graphs", hidden=True, rtol=1e-12, atol=1e-12)
def backward_shared_node_and_saved_grad(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(_signed(rng, 2, 0.3, 1.2), requires_grad=True)
    shared = a * a
    k = float(rng.uniform(1.5, 4.0))
    (shared.exp().sum() + (shared * k).sum() + shared.sum()).backward()
    first = grad(a)
    saved = a.grad.data
    saved_copy = np.array(saved, copy=True)
    (a * 2.0).sum().backward()
    return {"first": first, "saved grad untouched": bool(np.array_equal(saved, saved_copy)),
            "accumulated": grad(a)}


@case("autograd-backward-graphs", hidden=True, rtol=1e-12, atol=1e-12)
def backward_constant_times_weight_seeded(tt, rng):
    Tensor = tt.tensor.Tensor
    w = Tensor(_signed(rng, (1, 2)), requires_grad=True)
    frozen = Tensor(_signed(rng, (2, 1)))
    (frozen * w).backward(_signed(rng, (2, 2), 0.5, 3.0))
    return {"grad w": grad(w), "shape": np.array(w.grad.shape)}


@case("autograd-backward-graphs", hidden=True, rtol=0, atol=0)
def backward_no_aliasing_chain(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(_signed(rng, 1), requires_grad=True)
    b = Tensor(_signed(rng, 1), requires_grad=True)
    d = a + b
    e = d + b
    (e + a + d).backward()
    return {"grad a": grad(a), "grad b": grad(b)}


# ------------------------------------------------------------------ autograd-no-grad
# The reference runs every case in one process: each case switches recording back on at the end.

@case("autograd-no-grad", rtol=1e-6, atol=1e-7)
def no_grad_block(tt, rng):
    Tensor, no_grad = tt.tensor.Tensor, tt.autograd.no_grad
    try:
        x = Tensor(_signed(rng, 2).tolist(), requires_grad=True)
        k = float(rng.uniform(1.5, 4.0))
        with no_grad():
            y = x * k
            inside = Tensor.grad_enabled
        after = Tensor.grad_enabled
        z = x * k
        return {"enabled inside": inside is False, "enabled after": after is True,
                "y requires_grad": bool(y.requires_grad), "y is leaf": bool(y.is_leaf), "y": arr(y),
                "z requires_grad": bool(z.requires_grad), "z op": str(z._op)}
    finally:
        Tensor.grad_enabled = True


@case("autograd-no-grad", rtol=0, atol=0)
def no_grad_nested(tt, rng):
    Tensor, no_grad = tt.tensor.Tensor, tt.autograd.no_grad
    try:
        with no_grad():
            with no_grad():
                pass
            after_inner = Tensor.grad_enabled
        return {"after inner": after_inner is False, "after outer": Tensor.grad_enabled is True}
    finally:
        Tensor.grad_enabled = True


@case("autograd-no-grad", rtol=0, atol=0)
def no_grad_restores_after_raise(tt, rng):
    Tensor, no_grad = tt.tensor.Tensor, tt.autograd.no_grad
    try:
        try:
            with no_grad():
                raise KeyError("boom")
        except KeyError:
            pass
        return {"enabled after raise": Tensor.grad_enabled is True}
    finally:
        Tensor.grad_enabled = True


@case("autograd-no-grad", rtol=0, atol=0)
def no_grad_as_decorator(tt, rng):
    Tensor, no_grad = tt.tensor.Tensor, tt.autograd.no_grad
    try:
        x = Tensor(_signed(rng, 2).tolist(), requires_grad=True)

        @no_grad()
        def double(t):
            return t * 2

        result = double(x)
        return {"requires_grad": bool(result.requires_grad), "enabled after": Tensor.grad_enabled is True}
    finally:
        Tensor.grad_enabled = True


@case("autograd-no-grad", hidden=True, rtol=0, atol=0)
def no_grad_restores_previous_off(tt, rng):
    Tensor, no_grad = tt.tensor.Tensor, tt.autograd.no_grad
    try:
        Tensor.grad_enabled = False
        with no_grad():
            pass
        return {"still off": Tensor.grad_enabled is False}
    finally:
        Tensor.grad_enabled = True


@case("autograd-no-grad", hidden=True, rtol=1e-6, atol=1e-7)
def no_grad_update_then_backward(tt, rng):
    Tensor, no_grad = tt.tensor.Tensor, tt.autograd.no_grad
    try:
        w = Tensor([float(rng.uniform(1.5, 4.0))], requires_grad=True)
        with no_grad():
            w.data = w.data - 1.0
            q = (w * w).sum()
        recorded = bool(q.requires_grad)
        (w * w).sum().backward()
        return {"recorded inside": recorded, "grad w": grad(w)}
    finally:
        Tensor.grad_enabled = True


# ------------------------------------------------------------------ autograd-gradient-checks

def _weighted(Tensor, out):
    """A non-uniform upstream gradient, so every output element matters differently."""
    return out * Tensor(np.linspace(0.5, 2.0, out.size).reshape(out.shape))


def _check_all(tt, checks):
    """check_gradients on each (fn, values): whether it matched, and whether the difference is tiny."""
    Tensor, check_gradients = tt.tensor.Tensor, tt.autograd.check_gradients
    matches, small, kinds = [], [], set()
    for fn, values in checks:
        match, difference = check_gradients(lambda t, fn=fn: _weighted(Tensor, fn(t)), Tensor(values))
        kinds.add(f"{type(match).__name__}/{type(difference).__name__}")
        matches.append(match is True)
        small.append(bool(float(difference) < 1e-6))
    return {"match": np.array(matches), "difference < 1e-6": np.array(small), "types": ",".join(sorted(kinds))}


def _inputs(rng):
    """S: signed, no ties, away from kinks; X: positive (log, powers, division); M, stack: any."""
    return (_distinct(rng, (2, 3)), rng.uniform(0.5, 2.0, (2, 3)), rng.standard_normal((3, 4)),
            rng.standard_normal((5, 3, 2)))


@case("autograd-gradient-checks", rtol=1e-7, atol=1e-9)
def numerical_gradient_values(tt, rng):
    Tensor, numerical_gradient = tt.tensor.Tensor, tt.autograd.numerical_gradient
    values = _signed(rng, 3, 0.5, 2.0)
    x = Tensor(values.copy())
    num = numerical_gradient(lambda t: (t * t * t).sum(), x)
    return {"type": type_name(num), "dtype": dtype_name(np.asarray(num)), "shape": np.array(np.shape(num)),
            "cubic": f64(num), "x unchanged": bool(np.array_equal(arr(x), values)),
            "non-scalar output": f64(numerical_gradient(lambda t: t * 2.0, x)),
            "python float output": f64(numerical_gradient(lambda t: (t * t).sum().item(), x))}


@case("autograd-gradient-checks", rtol=1e-7, atol=1e-9)
def numerical_gradient_float32_input(tt, rng):
    Tensor = tt.tensor.Tensor
    x32 = Tensor(rng.uniform(-1.5, 1.5, 2).astype(np.float32))
    num = tt.autograd.numerical_gradient(lambda t: t.exp(), x32)
    return {"dtype": dtype_name(np.asarray(num)), "values": f64(num)}


@case("autograd-gradient-checks", rtol=0, atol=0)
def check_gradients_every_rule(tt, rng):
    Tensor, act, cross_entropy = tt.tensor.Tensor, tt.activations, tt.losses.cross_entropy
    S, X, M, stack = _inputs(rng)
    labels = rng.integers(0, 3, 2)
    return _check_all(tt, [
        (lambda t: Tensor(np.ones((4, 2, 3))) + t + Tensor(S[0]), S),  # add (broadcast)
        (lambda t: Tensor(S) - t - 1.0, S),  # sub
        (lambda t: t * t * Tensor(S), S),  # mul
        (lambda t: Tensor(S) / t + t / 3.0, X),  # div
        (lambda t: -t, S),  # neg
        (lambda t: t ** 3 + t ** 0.5 + t ** -1, X),  # pow
        (lambda t: t.exp(), S),
        (lambda t: t.log(), X),
        (lambda t: t @ Tensor(M), S),  # matmul
        (lambda t: t @ Tensor(M[:, 0]), S),  # matmul (vector)
        (lambda t: Tensor(stack) @ t, S),  # matmul (batched)
        (lambda t: t.sum(axis=0), S),
        (lambda t: t.sum(axis=1, keepdims=True), S),
        (lambda t: t.mean(), S),
        (lambda t: t.max(axis=1), S),
        (lambda t: t.reshape(3, 2), S),
        (lambda t: t.T, S),
        (lambda t: t[[0, 0, 1], [2, 2, 0]], S),  # getitem (repeats)
        (lambda t: act.relu(t), S),
        (lambda t: act.sigmoid(t), S),
        (lambda t: act.tanh(t), S),
        (lambda t: cross_entropy(t, Tensor(labels)), S),
    ])


@case("autograd-gradient-checks", rtol=0, atol=0)
def check_gradients_float32_input(tt, rng):
    Tensor = tt.tensor.Tensor
    x32 = Tensor(rng.uniform([3.5, -2.0], [5.0, -0.5]).astype(np.float32))
    match, difference = tt.autograd.check_gradients(lambda t: t.exp() * 3.0, x32)
    return {"match": match is True, "difference < 1e-6": bool(float(difference) < 1e-6),
            "input still float32": dtype_name(x32), "input grad untouched": x32.grad is None}


@case("autograd-gradient-checks", rtol=1e-6, atol=1e-9)
def check_gradients_catches_detach(tt, rng):
    Tensor = tt.tensor.Tensor
    S = _distinct(rng, (2, 3))
    match, difference = tt.autograd.check_gradients(lambda t: (t * t.detach()).sum(), Tensor(S))
    return {"match": match is True, "difference": float(difference)}  # max |S|: half of d(x^2)/dx is hidden


@case("autograd-gradient-checks", hidden=True, rtol=0, atol=0)
def check_gradients_more_rules(tt, rng):
    Tensor, act, cross_entropy = tt.tensor.Tensor, tt.activations, tt.losses.cross_entropy
    S, X, M, _ = _inputs(rng)
    soft = rng.uniform(0.1, 1.0, 3)
    probs = np.vstack([soft / soft.sum(), np.eye(3)[rng.integers(3)]])
    return _check_all(tt, [
        (lambda t: t[:, 1], S),  # getitem (row)
        (lambda t: t[Tensor(S > 0, dtype=bool)], S),  # getitem (mask)
        (lambda t: Tensor(M[:, 1]) @ t.reshape(3, 2), S),  # matmul (left vector)
        (lambda t: t.max(), S),
        (lambda t: t.reshape(1, 2, 3).sum(axis=(0, 2)), S),
        (lambda t: t.reshape(1, 2, 3).transpose(2, 0, 1), S),
        (lambda t: cross_entropy(t, Tensor(probs)), S),  # probabilities
        (lambda t: act.sigmoid(t @ Tensor(M)).log().sum(axis=1) * act.tanh(t).max(axis=1), S),  # composite
        (lambda t: 1.0 / t, X),
        (lambda t: t.sqrt(), X),
    ])


@case("autograd-gradient-checks", hidden=True, rtol=1e-7, atol=1e-9)
def numerical_gradient_epsilon(tt, rng):
    Tensor = tt.tensor.Tensor
    num = tt.autograd.numerical_gradient(lambda t: (t * t).sum(), Tensor(_signed(rng, (2, 2), 0.5, 4.0)),
                                         epsilon=1e-4)
    return {"shape": np.array(np.shape(num)), "values": f64(num)}


@case("autograd-gradient-checks", hidden=True, rtol=1e-6, atol=1e-9)
def check_gradients_detached_scaled(tt, rng):
    Tensor = tt.tensor.Tensor
    values = _signed(rng, 2, 0.5, 3.0)
    match, difference = tt.autograd.check_gradients(lambda t: (t * t.detach() * 3.0).sum(), Tensor(values))
    return {"match": match is True, "difference": float(difference)}


@case("autograd-gradient-checks", hidden=True, rtol=0, atol=0)
def check_gradients_constant_output(tt, rng):
    Tensor = tt.tensor.Tensor
    match, difference = tt.autograd.check_gradients(lambda t: t * 0.0 + 1.0, Tensor(_signed(rng, 2)))
    return {"match": match is True, "difference is 0": float(difference) == 0.0}


# ------------------------------------------------------------------ autograd-variable

@case("autograd-variable", rtol=1e-6, atol=1e-7)
def variable_multiply(tt, rng):
    ag = tt.autograd
    first, second, third = (float(v) for v in _signed(rng, 3, 0.5, 4.0))
    x, y = ag.Variable(first, requires_grad=True), ag.Variable(second, requires_grad=True)
    z = ag.multiply(x, y)
    facts = {"type": type_name(z), "value": _v(z), "requires_grad": bool(z.requires_grad),
             "is leaf": bool(z.is_leaf), "grad_fn": _rule_name(z)}
    z.backward()
    a = ag.Variable(third, requires_grad=True)
    b = ag.multiply(a, 2.0)
    facts.update({"grad type": type_name(x.grad), "grad x": _g(x), "grad y": _g(y), "by number": _v(b),
                  "by number dtype": dtype_name(b.data)})
    b.backward()
    facts["by number, grad"] = _g(a)
    return facts


@case("autograd-variable", rtol=1e-6, atol=1e-7)
def variable_add(tt, rng):
    ag = tt.autograd
    first, second = (float(v) for v in _signed(rng, 2, 0.5, 4.0))
    x, y = ag.Variable(first), ag.Variable(second)
    z = ag.add(x, y)
    facts = {"value": _v(z), "grad_fn": _rule_name(z)}
    z.backward()
    facts.update({"grad x": _g(x), "grad y": _g(y)})
    return facts


@case("autograd-variable", rtol=1e-6, atol=1e-7)
def variable_subtract(tt, rng):
    ag = tt.autograd
    first, second, third, number = (float(v) for v in _signed(rng, 4, 0.5, 8.0))
    x, y = ag.Variable(first), ag.Variable(second)
    z = ag.subtract(x, y)
    out = {"value": _v(z), "requires_grad": bool(z.requires_grad)}
    z.backward()
    out.update({"grad x": _g(x), "grad y": _g(y)})
    a = ag.Variable(third)
    right = ag.subtract(a, number)
    right.backward()
    b = ag.Variable(third)
    left = ag.subtract(number, b)
    left.backward()
    out.update({"minus number": _v(right), "minus number, grad": _g(a), "number minus": _v(left),
                "number minus, grad": _g(b)})
    return out


@case("autograd-variable", rtol=1e-6, atol=1e-7)
def variable_divide(tt, rng):
    ag = tt.autograd
    first, second, third = (float(v) for v in _signed(rng, 3, 0.5, 4.0))
    x, y = ag.Variable(first), ag.Variable(second)
    z = ag.divide(x, y)
    out = {"value": _v(z), "grad_fn": _rule_name(z)}
    z.backward()
    out.update({"grad x": _g(x), "grad y": _g(y)})
    w = ag.Variable(third)
    (1.0 / w).backward()  # the `/` operator calls divide
    out["1 / w, grad"] = _g(w)
    return out


@case("autograd-variable", rtol=1e-5, atol=1e-6)
def variable_operator_chains(tt, rng):
    ag = tt.autograd
    first, second, third, fourth = (float(v) for v in _signed(rng, 4, 0.5, 3.0))
    x, y = ag.Variable(first), ag.Variable(second)
    difference_of_squares = (x + y) * (x - y)
    difference_of_squares.backward()
    out = {"(x + y)(x - y)": _v(difference_of_squares), "grad x": _g(x), "grad y": _g(y)}
    t = ag.Variable(third)
    cubic = ag.multiply(ag.multiply(ag.add(t, 1.0), ag.add(t, 2.0)), ag.add(t, 3.0))
    cubic.backward()
    u = ag.Variable(fourth)
    (u ** 2 + 3 * u + 1).backward()
    out.update({"(t + 1)(t + 2)(t + 3)": _v(cubic), "cubic grad": _g(t), "u^2 + 3u + 1, grad": _g(u)})
    return out


@case("autograd-variable", rtol=1e-5, atol=1e-6)
def variable_linear_regression(tt, rng):
    ag = tt.autograd
    Tensor = tt.tensor.Tensor
    xs = rng.uniform(0.5, 2.0, 4).tolist()
    slope, intercept = rng.uniform(1.0, 3.0), rng.uniform(-1.0, 1.0)
    ys = [slope * x + intercept + noise for x, noise in zip(xs, rng.uniform(-0.1, 0.1, 4))]
    w, b = ag.Variable(0.1, requires_grad=True), ag.Variable(0.0, requires_grad=True)
    losses = []
    for _ in range(40):
        total = ag.Variable(0.0, requires_grad=False)
        for x_value, y_value in zip(xs, ys):
            prediction = ag.add(ag.multiply(w, ag.Variable(x_value, requires_grad=False)), b)
            error = ag.subtract(prediction, ag.Variable(y_value, requires_grad=False))
            total = ag.add(total, ag.multiply(error, error))
        w.zero_grad()
        b.zero_grad()
        total.backward()
        w.data = Tensor(w.data.data - 0.02 * w.grad.data.data)
        b.data = Tensor(b.data.data - 0.02 * b.grad.data.data)
        losses.append(_v(total))
    return {"w": _v(w), "b": _v(b), "losses": np.array(losses[::8])}


@case("autograd-variable", hidden=True, rtol=1e-6, atol=1e-7)
def variable_number_operands(tt, rng):
    ag = tt.autograd
    k = float(rng.uniform(1.5, 4.0))
    x = ag.Variable(float(rng.uniform(0.5, 4.0)))
    (x / k).backward()
    y = ag.Variable(float(rng.uniform(0.5, 4.0)))
    (k - y).backward()
    return {"x / k, grad": _g(x), "k - y, grad": _g(y)}


@case("autograd-variable", hidden=True, rtol=1e-6, atol=1e-7)
def variable_vector_times_scalar(tt, rng):
    ag = tt.autograd
    v = ag.Variable(_signed(rng, 3, 0.5, 3.0).tolist())
    s = ag.Variable(float(rng.uniform(0.5, 3.0)))
    (v * s).sum().backward()
    return {"grad v": arr(v.grad.data.data, np.float64), "grad s": _g(s), "grad s shape": np.array(s.grad.shape)}


@case("autograd-variable", hidden=True, rtol=1e-12, atol=1e-12)
def variable_divide_with_tensors(tt, rng):
    ag, Tensor = tt.autograd, tt.tensor.Tensor
    t = Tensor(_signed(rng, 2, 0.5, 4.0))
    q = ag.Variable(_signed(rng, 2, 0.5, 4.0))
    r = ag.divide(q, t)
    kind = type_name(r)
    r.backward()
    p = ag.Variable(_signed(rng, 2, 0.5, 4.0))
    ag.divide(t, p).backward()
    return {"type": kind, "q / t, grad q": arr(q.grad.data.data, np.float64),
            "t / p, grad p": arr(p.grad.data.data, np.float64)}


@case("autograd-variable", hidden=True, rtol=1e-6, atol=1e-7)
def variable_constant_and_neg_sqrt(tt, rng):
    ag = tt.autograd
    k = ag.Variable(float(rng.uniform(1.0, 5.0)), requires_grad=False)
    product = ag.multiply(k, 2.0)
    x = ag.Variable(float(rng.uniform(1.0, 9.0)))
    (-x + x ** 0.5).backward()
    return {"constant product requires_grad": bool(product.requires_grad), "-x + sqrt x, grad": _g(x)}


# ------------------------------------------------------------------ autograd-checkpoint

@case("autograd-checkpoint", points=2, rtol=1e-10, atol=1e-12)
def polynomial(tt, rng):
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


@case("autograd-checkpoint", points=2, rtol=1e-5, atol=1e-8)
def dense_sigmoid_mse(tt, rng):
    Tensor, Dense = tt.tensor.Tensor, tt.layers.Dense
    tt.autograd
    layer = Dense(input_size=3, output_size=2, rng=np.random.default_rng(0))
    layer.weights.data = rng.standard_normal((3, 2))  # float64 parameters
    layer.bias.data = rng.standard_normal(2)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    target = Tensor(rng.uniform(0, 1, (4, 2)))
    loss = tt.losses.MeanSquaredError()(tt.activations.Sigmoid()(layer(x)), target)
    loss.backward()
    return {"loss": arr(loss), "grad weights": grad(layer.weights), "grad bias": grad(layer.bias),
            "grad input": grad(x), "bias grad shape": np.array(layer.bias.grad.shape)}


@case("autograd-checkpoint", points=1, rtol=1e-12, atol=1e-12)
def chain_rule(tt, rng):
    Tensor = tt.tensor.Tensor
    tt.autograd
    x = Tensor([[1.0]], requires_grad=True)
    u = x * 2
    z = u * u
    z.backward()
    a = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    ((a * 3 + 1) ** 2).exp().sum().backward()
    return {"grad x": grad(x), "grad a": grad(a)}


@case("autograd-checkpoint", points=2, rtol=1e-12, atol=1e-12)
def accumulation_and_zero_grad(tt, rng):
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


@case("autograd-checkpoint", points=2, rtol=1e-12, atol=1e-12)
def several_paths(tt, rng):
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


@case("autograd-checkpoint", points=2, rtol=1e-12, atol=1e-12, budget=8)
def diamond_41_levels(tt, rng):
    Tensor = tt.tensor.Tensor
    tt.autograd
    leaf = Tensor(1.0, requires_grad=True)
    p = leaf
    for _ in range(41):  # 2^41 paths: only a linear-time backward finishes (41: odd, so a
        # sign error in a rule cannot cancel out)
        p = p * 0.5 + p * 0.5
    p.backward()
    return {"grad leaf": grad(leaf)}


@case("autograd-checkpoint", points=2, rtol=1e-12, atol=1e-12)
def broadcast_gradients(tt, rng):
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


@case("autograd-checkpoint", points=1, rtol=1e-9, atol=1e-12)
def long_chain_10002(tt, rng):
    Tensor = tt.tensor.Tensor
    tt.autograd
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(5_001):  # 10,002 recorded operations: no recursion limit may stop it
        y = y * 1.0001 + 0.0
    y.backward()
    return {"grad x": grad(x), "y": arr(y)}


@case("autograd-checkpoint", points=2, rtol=1e-10, atol=1e-12)
def elementwise_rules(tt, rng):
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


@case("autograd-checkpoint", points=1, rtol=1e-10, atol=1e-12)
def matmul_and_reductions(tt, rng):
    Tensor = tt.tensor.Tensor
    tt.autograd
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


@case("autograd-checkpoint", points=1, rtol=1e-10, atol=1e-12)
def cross_entropy_gradient(tt, rng):
    Tensor = tt.tensor.Tensor
    tt.autograd
    logits = Tensor(rng.standard_normal((6, 4)), requires_grad=True)
    labels = rng.integers(0, 4, 6)
    tt.losses.CrossEntropyLoss()(logits, Tensor(labels)).backward()
    soft_logits = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    targets = rng.uniform(0.1, 1.0, (3, 4))
    tt.losses.cross_entropy(soft_logits, Tensor(targets / targets.sum(axis=1, keepdims=True))).backward()
    return {"labels": grad(logits), "probabilities": grad(soft_logits)}


@case("autograd-checkpoint", points=1, rtol=1e-6, atol=1e-8)
def no_grad_and_gradient_checks(tt, rng):
    Tensor, autograd, act = tt.tensor.Tensor, tt.autograd, tt.activations
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


@case("autograd-checkpoint", points=1, rtol=1e-10, atol=1e-12)
def variable_face(tt, rng):
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
