"""The spec of 02_activations: its cases, each bound to a graded cell by grade id.

Cells covered (public cases, then hidden ones, none with points: such a cell earns its points
only when all of its cases agree with the reference):
  activations-relu-test         relu: values, dtypes, lists, 0-d, float16, the recorded node
  activations-sigmoid-test      sigmoid: float64/float32 values, extremes without warnings, node
  activations-tanh-test         tanh: values, odd symmetry, extremes, node
  activations-gelu-test         gelu: exact and tanh forms, float64/float32, extremes, node and ctx
  activations-softmax-test      softmax: rows, shift invariance, large scores, axis, 1-d
  activations-log-softmax-test  log_softmax: values, extremes exact and finite, axis, lists
  activations-classes-test      ReLU, Sigmoid, Tanh, GELU, Softmax as layers
  activations-graph-test        what the five functions record (and do not record)
and, with points, activations-checkpoint: checkpoint 02 as values, "Can I add nonlinearity that
stays finite for any input?"

Uses `tt.tensor` (reference) and `tt.activations` (under grade). A case calls only the functions
its cell's test is about.
"""

import warnings

import numpy as np

from casekit import arr, dtype_name, recorded_ops, registry, type_name

CASES = []
case = registry(CASES)

EXTREMES = np.array([-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0], dtype=np.float32)


def _quietly(fn, *args, **kwargs):
    """(result, number of numpy RuntimeWarnings: overflow, invalid, divide by zero) of fn(*args).

    Underflow is not counted: exp(-1000) rounding to 0 is the right answer, and how many
    intermediate values underflow depends on harmless details of a stable formula."""
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"):
        warnings.simplefilter("always")
        result = fn(*args, **kwargs)
    return result, sum(issubclass(w.category, RuntimeWarning) for w in caught)


def _shape(tensor):
    return np.array(tensor.shape, dtype=np.int64)


def _signed(rng, shape, low, high):
    """Magnitudes drawn from [low, high], half of them negative (both signs always present),
    in a random order."""
    size = int(np.prod(shape))
    values = rng.uniform(low, high, size) * np.where(np.arange(size) % 2 == 0, -1.0, 1.0)
    return rng.permutation(values).reshape(shape)


def _node(fn, Tensor, rng):
    """What `fn` records for one input that requires a gradient, and for one that does not."""
    w = Tensor(_signed(rng, 2, 0.5, 2.0).astype(np.float32), requires_grad=True)
    out = fn(w)
    plain = fn(Tensor([1.0]))
    return {"requires_grad": bool(out.requires_grad), "op": str(out._op),
            "parents": len(out._parents), "parent is input": bool(out._parents[0] is w),
            "ctx empty": bool(out._ctx == {}), "plain requires_grad": bool(plain.requires_grad),
            "plain op": str(plain._op)}


KNOWN_OPS = {"add", "sub", "mul", "div", "neg", "pow", "exp", "log", "matmul", "sum", "max",
             "reshape", "transpose", "getitem", "relu", "sigmoid", "tanh"}


def _graph_facts(out, source) -> dict:
    reached, ops = recorded_ops(out, source)
    return {"requires_grad": bool(out.requires_grad), "reaches input": bool(reached),
            "records ops": bool(ops), "ops known": set(map(str, ops)) <= KNOWN_OPS,
            "uses exp": "exp" in ops}


# --------------------------------------------------------------------------- activations-relu-test

@case("activations-relu-test", rtol=0, atol=0)
def relu_values(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    edges = np.array([[-2.0, -0.5, 0.0], [0.5, 2.0, 100.0]], dtype=np.float32)
    data = _signed(rng, (int(rng.integers(2, 5)), int(rng.integers(2, 6))), 0.1, 5.0).astype(np.float32)
    x, e = Tensor(data.copy()), Tensor(edges.copy())
    y, ye = act.relu(x), act.relu(e)
    return {"type": type_name(y), "shape": _shape(y), "dtype": dtype_name(y), "values": arr(y),
            "edges": arr(ye), "edges dtype": dtype_name(ye),
            "input unchanged": bool(np.array_equal(arr(x), data) and np.array_equal(arr(e), edges))}


@case("activations-relu-test", rtol=0, atol=0)
def relu_float64_and_lists(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    y64 = act.relu(Tensor(_signed(rng, 4, 0.1, 5.0)))
    ints = [int(v) for v in _signed(rng, 4, 1, 9).round()]
    from_list = act.relu(ints)
    return {"float64 dtype": dtype_name(y64), "float64": arr(y64),
            "list type": type_name(from_list), "list dtype": dtype_name(from_list),
            "list": arr(from_list)}


@case("activations-relu-test", rtol=0, atol=0)
def relu_graph(tt, rng):
    return _node(tt.activations.relu, tt.tensor.Tensor, rng)


@case("activations-relu-test", hidden=True, rtol=0, atol=0)
def relu_any_shape(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    ramp = _signed(rng, (2, 3, 4), 0.05, 3.0)
    rectified = act.relu(Tensor(ramp))
    scalar = act.relu(Tensor(-float(rng.uniform(0.5, 5.0))))
    half = act.relu(Tensor(_signed(rng, 4, 0.5, 4.0).astype(np.float16)))
    huge = act.relu(Tensor(np.array([1e300, -1e300])))
    w = Tensor([-1.0, 1.0], requires_grad=True)
    return {"shape": _shape(rectified), "values": arr(rectified),
            "twice": arr(act.relu(act.relu(Tensor(ramp)))),
            "0-d shape": _shape(scalar), "0-d item": float(scalar.item()),
            "float16 dtype": dtype_name(half), "float16": arr(half), "huge": arr(huge),
            "parent is input": bool(act.relu(w)._parents[0] is w)}


# --------------------------------------------------------------------------- activations-sigmoid-test

@case("activations-sigmoid-test", rtol=1e-10, atol=1e-300)
def sigmoid_float64(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    v = np.concatenate([_signed(rng, 6, 0.1, 6.0), [0.0]])
    y = act.sigmoid(Tensor(v))
    return {"type": type_name(y), "shape": _shape(y), "dtype": dtype_name(y), "values": arr(y),
            "exactly half at 0": bool(arr(y)[-1] == 0.5), "mirrored": arr(act.sigmoid(Tensor(-v)))}


@case("activations-sigmoid-test", rtol=0, atol=0)
def sigmoid_extremes(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    big = float(rng.uniform(750.0, 1000.0))
    inputs = [-1000.0, 1000.0, -big, big]
    y64, warned64 = _quietly(act.sigmoid, Tensor(np.array(inputs)))
    y32, warned32 = _quietly(act.sigmoid, Tensor(inputs))
    return {"float64": arr(y64), "float64 dtype": dtype_name(y64), "float64 warnings": warned64,
            "float32": arr(y32), "float32 dtype": dtype_name(y32), "float32 warnings": warned32}


@case("activations-sigmoid-test", rtol=1e-6, atol=1e-7)
def sigmoid_float32(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    data = _signed(rng, (2, 2), 0.1, 6.0).astype(np.float32)
    y = act.sigmoid(Tensor(data))
    fixed = act.sigmoid(Tensor([[-2.0, 0.0], [2.0, 4.0]]))
    return {"shape": _shape(y), "dtype": dtype_name(y), "values": arr(y), "fixed": arr(fixed),
            "fixed dtype": dtype_name(fixed)}


@case("activations-sigmoid-test", rtol=0, atol=0)
def sigmoid_graph(tt, rng):
    return _node(tt.activations.sigmoid, tt.tensor.Tensor, rng)


@case("activations-sigmoid-test", hidden=True, rtol=1e-10, atol=1e-300)
def sigmoid_wide_float64(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    v = np.concatenate([_signed(rng, 20, 0.5, 40.0), [-50.0, 50.0]])
    infinite, warned = _quietly(act.sigmoid, Tensor(np.array([-np.inf, np.inf])))
    zeros = act.sigmoid(Tensor(np.zeros((2, 3, 4))))
    return {"values": arr(act.sigmoid(Tensor(v))), "infinite": arr(infinite),
            "infinite warnings": warned, "zeros shape": _shape(zeros), "zeros": arr(zeros)}


@case("activations-sigmoid-test", hidden=True, rtol=1e-6, atol=1e-7)
def sigmoid_wide_float32(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    v = np.sort(np.concatenate([np.linspace(-500, 500, 11), _signed(rng, 6, 100.0, 500.0)]))
    y, warned = _quietly(act.sigmoid, Tensor(v.astype(np.float32)))
    data = arr(y)
    from_list = act.sigmoid([0, 0])
    return {"dtype": dtype_name(y), "values": data, "warnings": warned,
            "finite": bool(np.all(np.isfinite(data))),
            "in [0, 1]": bool(np.all((data >= 0) & (data <= 1))),
            "monotone": bool(np.all(np.diff(data) >= 0)),
            "list dtype": dtype_name(from_list), "list": arr(from_list)}


# --------------------------------------------------------------------------- activations-tanh-test

@case("activations-tanh-test", rtol=1e-10, atol=1e-15)
def tanh_float64(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    v = np.concatenate([_signed(rng, 6, 0.05, 3.0), [0.0]])
    y = act.tanh(Tensor(v))
    mirrored = act.tanh(Tensor(-v))
    return {"type": type_name(y), "shape": _shape(y), "dtype": dtype_name(y), "values": arr(y),
            "odd": bool(np.array_equal(arr(mirrored), -arr(y)))}


@case("activations-tanh-test", rtol=0, atol=0)
def tanh_extremes(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    big = float(rng.uniform(100.0, 1000.0))
    y, warned = _quietly(act.tanh, Tensor([-1000.0, 1000.0, -big, big]))
    return {"values": arr(y), "dtype": dtype_name(y), "warnings": warned}


@case("activations-tanh-test", rtol=0, atol=0)
def tanh_graph(tt, rng):
    return _node(tt.activations.tanh, tt.tensor.Tensor, rng)


@case("activations-tanh-test", hidden=True, rtol=1e-10, atol=1e-15)
def tanh_grid(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    grid = np.sort(_signed(rng, 41, 0.01, 5.0))
    from_list = act.tanh([[1, 2], [3, 4]])
    scalar = act.tanh(Tensor(0.0))
    return {"values": arr(act.tanh(Tensor(grid))), "list shape": _shape(from_list),
            "list dtype": dtype_name(from_list), "0-d item": float(scalar.item())}


# --------------------------------------------------------------------------- activations-gelu-test
# Float64 values are compared to 1e-10 relative and 1e-13 absolute: Phi(x) = (1 + erf) / 2 loses
# digits to cancellation for negative x, so a correct student who writes it another way (erfc,
# another order) differs from the reference by rounding there.

def _gelu_both(act, x):
    return {"exact": arr(act.gelu(x)), "tanh": arr(act.gelu(x, approximate="tanh"))}


@case("activations-gelu-test", rtol=1e-10, atol=1e-13)
def gelu_float64(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    v = np.concatenate([_signed(rng, 8, 0.1, 4.0), [0.0]])
    data = v.copy()
    x = Tensor(data)
    y = act.gelu(x)
    return {"type": type_name(y), "shape": _shape(y), "dtype": dtype_name(y), "values": arr(y),
            "zero at 0": bool(arr(y)[-1] == 0.0), "default is exact": arr(act.gelu(Tensor(v), approximate="none")),
            "input unchanged": bool(np.array_equal(arr(x), v))}


@case("activations-gelu-test", rtol=1e-10, atol=1e-13)
def gelu_tanh_float64(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    v = np.concatenate([_signed(rng, 8, 0.1, 4.0), [0.0]])
    y = act.gelu(Tensor(v), approximate="tanh")
    return {"type": type_name(y), "dtype": dtype_name(y), "values": arr(y),
            "example": arr(act.gelu(Tensor(np.array([-1.0, 0.0, 1.0])), approximate="tanh"))}


@case("activations-gelu-test", rtol=0, atol=0)
def gelu_extremes(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    big = float(rng.uniform(100.0, 1000.0))
    inputs = [-1000.0, 1000.0, -big, big]
    out = {}
    for form in ("none", "tanh"):
        y64, warned64 = _quietly(act.gelu, Tensor(np.array(inputs)), approximate=form)
        y32, warned32 = _quietly(act.gelu, Tensor(inputs), approximate=form)
        out.update({f"{form} float64": arr(y64), f"{form} float64 warnings": warned64,
                    f"{form} float32": arr(y32), f"{form} float32 dtype": dtype_name(y32),
                    f"{form} float32 warnings": warned32})
    return out


@case("activations-gelu-test", rtol=1e-6, atol=1e-7)
def gelu_float32(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    x = Tensor(_signed(rng, (2, 3), 0.1, 4.0).astype(np.float32))
    out = {f"{key}": value for key, value in _gelu_both(act, x).items()}
    out["exact dtype"], out["tanh dtype"] = dtype_name(act.gelu(x)), dtype_name(act.gelu(x, approximate="tanh"))
    out["fixed"] = arr(act.gelu(Tensor([[-1.0, 2.0]])))
    from_list = act.gelu([0, 1])
    out["list dtype"], out["list"] = dtype_name(from_list), arr(from_list)
    return out


@case("activations-gelu-test", rtol=1e-6, atol=1e-7)
def gelu_graph(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    w = Tensor(_signed(rng, 3, 0.5, 2.0).astype(np.float32), requires_grad=True)
    out = {}
    for form in ("none", "tanh"):
        node = act.gelu(w, approximate=form)
        ctx = node._ctx or {}
        out.update({f"{form} requires_grad": bool(node.requires_grad), f"{form} op": str(node._op),
                    f"{form} parents": len(node._parents), f"{form} parent is input": bool(node._parents[0] is w),
                    f"{form} ctx keys": ",".join(sorted(map(str, ctx))),
                    f"{form} ctx approximate": str(ctx.get("approximate")),
                    f"{form} ctx cdf": np.asarray(ctx.get("cdf"), dtype=np.float64),
                    f"{form} ctx cdf dtype": str(np.asarray(ctx.get("cdf")).dtype)})
    plain = act.gelu(Tensor([1.0]))
    out["plain requires_grad"], out["plain op"] = bool(plain.requires_grad), str(plain._op)
    return out


@case("activations-gelu-test", hidden=True, rtol=1e-10, atol=1e-13)
def gelu_wide(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    grid = np.sort(_signed(rng, 24, 0.01, 8.0)).reshape(2, 3, 4)
    out = {f"grid {key}": value for key, value in _gelu_both(act, Tensor(grid)).items()}
    out["grid shape"] = _shape(act.gelu(Tensor(grid)))
    scalar = act.gelu(Tensor(float(rng.uniform(0.5, 3.0))))
    out["0-d shape"], out["0-d item"] = _shape(scalar), float(scalar.item())
    node = act.gelu(Tensor(grid, requires_grad=True))
    out["cdf"] = np.asarray((node._ctx or {}).get("cdf"), dtype=np.float64)
    return out


# --------------------------------------------------------------------------- activations-softmax-test

@case("activations-softmax-test", rtol=1e-5, atol=1e-7)
def softmax_rows(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    scores = rng.uniform(-3.0, 3.0, (3, 4))
    scores[1] = rng.uniform(-3.0, 3.0)  # a row of equal scores: 1/4 each
    scores = scores.astype(np.float32)
    p = act.softmax(Tensor(scores))
    shifted, warned = _quietly(act.softmax, Tensor(scores + np.float32(100)))
    return {"type": type_name(p), "shape": _shape(p), "dtype": dtype_name(p), "values": arr(p),
            "row sums": arr(p).sum(axis=1), "example": arr(act.softmax(Tensor([[1.0, 2.0, 3.0]]))),
            "shifted by 100": arr(shifted), "shifted warnings": warned}


@case("activations-softmax-test", rtol=1e-6, atol=0)
def softmax_large_scores(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    big = float(rng.uniform(500.0, 1000.0))
    scores = [[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 1000.0], [big, -big, 0.0], [-big, -big, -big]]
    p, warned = _quietly(act.softmax, Tensor(scores))
    return {"values": arr(p), "finite": bool(np.all(np.isfinite(arr(p)))), "warnings": warned,
            "dtype": dtype_name(p)}


@case("activations-softmax-test", rtol=1e-10, atol=1e-300)
def softmax_large_float64(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    top = rng.uniform(800.0, 1200.0, (2, 1))
    scores = np.concatenate([top, top - rng.uniform(0.5, 3.0, (2, 1))], axis=1)
    p, warned = _quietly(act.softmax, Tensor(scores))
    return {"values": arr(p), "dtype": dtype_name(p), "warnings": warned,
            "example": arr(act.softmax(Tensor(np.array([[1000.0, 999.0]]))))}


@case("activations-softmax-test", rtol=1e-5, atol=1e-7)
def softmax_axis(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    scores = rng.uniform(-3.0, 3.0, (3, 4))
    scores[:, 2] = rng.uniform(-3.0, 3.0)  # a column of equal scores: 1/3 each
    columns = act.softmax(Tensor(scores.astype(np.float32)), axis=0)
    vector = act.softmax(Tensor(rng.uniform(-3.0, 3.0, 5).astype(np.float32)))
    example = act.softmax(Tensor([0.0, np.log(3.0)]))
    return {"columns": arr(columns), "column sums": arr(columns).sum(axis=0),
            "fixed columns": arr(act.softmax(Tensor([[1.0, 5.0], [3.0, 5.0]]), axis=0)),
            "1-d shape": _shape(vector), "1-d": arr(vector), "1-d example": arr(example)}


@case("activations-softmax-test", hidden=True, rtol=1e-10, atol=1e-300)
def softmax_huge_float64(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    huge = rng.standard_normal((4, 3, 5)) * 1000
    q, warned = _quietly(act.softmax, Tensor(huge), axis=1)
    data = arr(q)
    moderate = rng.standard_normal((3, 4))
    return {"shape": _shape(q), "dtype": dtype_name(q), "finite": bool(np.all(np.isfinite(data))),
            "warnings": warned, "sums": data.sum(axis=1), "argmax": data.argmax(axis=1),
            "values": data, "moderate": arr(act.softmax(Tensor(moderate)))}


@case("activations-softmax-test", hidden=True, rtol=1e-6, atol=1e-7)
def softmax_from_list(tt, rng):
    out = tt.activations.softmax([[0, 0]])
    return {"values": arr(out), "dtype": dtype_name(out), "shape": _shape(out)}


# --------------------------------------------------------------------------- activations-log-softmax-test

@case("activations-log-softmax-test", rtol=1e-10, atol=1e-12)
def log_softmax_float64(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    x = rng.uniform(-3.0, 3.0, (2, 3))
    ls = act.log_softmax(Tensor(x))
    data = arr(ls)
    return {"type": type_name(ls), "shape": _shape(ls), "dtype": dtype_name(ls), "values": data,
            "exp sums": np.exp(data).sum(axis=1), "all negative": bool(np.all(data < 0))}


@case("activations-log-softmax-test", rtol=1e-12, atol=0)
def log_softmax_extremes(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    a, b = rng.uniform(800.0, 1200.0, 2)
    scores = np.array([[0.0, -1000.0], [1000.0, -1000.0], [0.0, -a], [b, -b]])
    ls, warned = _quietly(act.log_softmax, Tensor(scores))
    data = arr(ls)
    return {"values": data, "finite": bool(np.all(np.isfinite(data))), "warnings": warned,
            "dtype": dtype_name(ls)}


@case("activations-log-softmax-test", rtol=1e-6, atol=1e-7)
def log_softmax_float32(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    level = float(rng.uniform(500.0, 1000.0))
    ties, warned = _quietly(act.log_softmax, Tensor([[1000.0, 1000.0], [level, level]]))
    return {"ties": arr(ties), "dtype": dtype_name(ties), "warnings": warned}


@case("activations-log-softmax-test", hidden=True, rtol=1e-9, atol=1e-10)
def log_softmax_wide_columns(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    wide = rng.standard_normal((5, 4)) * 500
    columns, warned = _quietly(act.log_softmax, Tensor(wide), axis=0)
    data = arr(columns)
    return {"values": data, "finite": bool(np.all(np.isfinite(data))), "warnings": warned,
            "exp sums": np.exp(data).sum(axis=0)}


@case("activations-log-softmax-test", hidden=True, rtol=1e-6, atol=1e-7)
def log_softmax_from_list(tt, rng):
    out = tt.activations.log_softmax([0.0, float(np.log(3.0))])
    return {"values": arr(out), "shape": _shape(out), "dtype": dtype_name(out)}


# --------------------------------------------------------------------------- activations-classes-test

@case("activations-classes-test", rtol=1e-5, atol=1e-7)
def classes_as_layers(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    x = Tensor(_signed(rng, (2, 3), 0.1, 4.0).astype(np.float32))
    out = {}
    for name in ("ReLU", "Sigmoid", "Tanh", "GELU", "Softmax"):
        layer = getattr(act, name)()
        result = layer(x)
        out[name] = arr(result)
        out[f"{name} type"] = type_name(result)
        out[f"{name} shape"] = _shape(result)
        out[f"{name} dtype"] = dtype_name(result)
        out[f"{name} is Activation"] = isinstance(layer, act.Activation)
        out[f"{name} no parameters"] = bool(layer.parameters() == [])
    out["Softmax axis 0"] = arr(act.Softmax(axis=0)(x))
    out["GELU tanh"] = arr(act.GELU(approximate="tanh")(x))
    out["GELU approximate"] = f"{act.GELU().approximate}/{act.GELU('tanh').approximate}"
    out["default axis"] = int(act.Softmax().axis)
    out["axis 0"] = int(act.Softmax(axis=0).axis)
    out["ReLU repr"], out["Softmax repr"] = repr(act.ReLU())[:80], repr(act.Softmax())[:80]
    out["ReLU list"] = arr(act.ReLU()([-2, 2]))
    return out


@case("activations-classes-test", rtol=0, atol=0)
def classes_record_ops(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    w = Tensor([1.0, -1.0], requires_grad=True)
    return {name: str(getattr(act, name)()(w)._op) for name in ("ReLU", "Sigmoid", "Tanh", "GELU")}


@case("activations-classes-test", hidden=True, rtol=1e-10, atol=1e-300)
def classes_3d(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    x = Tensor(_signed(rng, (2, 3, 4), 0.05, 2.0))
    w = Tensor([1.0, -1.0], requires_grad=True)
    p = arr(act.Softmax(axis=1)(x))
    return {"Softmax axis 1": p, "sums": p.sum(axis=1), "ReLU forward": arr(act.ReLU().forward(x)),
            "Sigmoid parent": bool(act.Sigmoid()(w)._parents[0] is w),
            "Tanh parent": bool(act.Tanh()(w)._parents[0] is w)}


# --------------------------------------------------------------------------- activations-graph-test

@case("activations-graph-test", rtol=0, atol=0)
def graph_softmax_records(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    x = Tensor(rng.uniform(-3.0, 3.0, (2, 3)).astype(np.float32), requires_grad=True)
    out = {}
    for name in ("softmax", "log_softmax"):
        out.update({f"{name} {key}": value for key, value in _graph_facts(getattr(act, name)(x), x).items()})
    return out


@case("activations-graph-test", rtol=0, atol=0)
def graph_plain_input(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    plain = Tensor(rng.uniform(-3.0, 3.0, (1, 2)).astype(np.float32))
    out = {}
    for name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"):
        result = getattr(act, name)(plain)
        out[f"{name} requires_grad"], out[f"{name} op"] = bool(result.requires_grad), str(result._op)
    return out


@case("activations-graph-test", rtol=0, atol=0)
def graph_recording_off(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    x = Tensor(rng.uniform(-3.0, 3.0, (2, 3)).astype(np.float32), requires_grad=True)
    out = {}
    Tensor.grad_enabled = False
    try:
        for name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"):
            result = getattr(act, name)(x)
            out[f"{name} requires_grad"], out[f"{name} op"] = bool(result.requires_grad), str(result._op)
    finally:
        Tensor.grad_enabled = True
    return out


@case("activations-graph-test", hidden=True, rtol=0, atol=0)
def graph_chain_and_columns(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    x = Tensor(rng.uniform(-3.0, 3.0, (2, 3)).astype(np.float32), requires_grad=True)
    deep = act.relu(act.sigmoid(act.tanh(x)))
    middle = deep._parents[0]
    inner = middle._parents[0]
    reached, ops = recorded_ops(act.softmax(x, axis=0), x)
    return {"outer op": str(deep._op), "middle op": str(middle._op), "inner op": str(inner._op),
            "inner parent is input": bool(inner._parents[0] is x),
            "columns reach input": bool(reached), "columns ops known": set(map(str, ops)) <= KNOWN_OPS}


# --------------------------------------------------------------------------- activations-checkpoint

@case("activations-checkpoint", points=3, rtol=1e-6, atol=1e-7)
def relu(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    data = rng.standard_normal((5, 4)).astype(np.float32)
    x = Tensor(data.copy())
    out = act.relu(x)
    return {"values": arr(out), "exact": arr(act.relu(Tensor([-2.0, 0.0, 3.0]))),
            "dtype": dtype_name(out), "float64 dtype": dtype_name(act.relu(Tensor(data.astype(np.float64)))),
            "type": type_name(out), "input unchanged": bool(np.array_equal(arr(x), data)),
            "from list": arr(act.relu([-1.0, 2.0]))}


@case("activations-checkpoint", points=3, rtol=1e-6, atol=1e-7)
def sigmoid_stable(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    moderate = rng.uniform(-8, 8, (3, 5)).astype(np.float32)
    extreme, warned = _quietly(act.sigmoid, Tensor(EXTREMES))
    return {"moderate": arr(act.sigmoid(Tensor(moderate))), "extremes": arr(extreme),
            "finite": bool(np.all(np.isfinite(arr(extreme)))), "warnings": warned,
            "dtype": dtype_name(extreme),
            "float64": arr(act.sigmoid(Tensor(moderate.astype(np.float64)))),
            "float64 dtype": dtype_name(act.sigmoid(Tensor(moderate.astype(np.float64))))}


@case("activations-checkpoint", points=2, rtol=1e-6, atol=1e-7)
def tanh(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    data = rng.uniform(-4, 4, (4, 3)).astype(np.float32)
    extreme, warned = _quietly(act.tanh, Tensor(EXTREMES))
    return {"values": arr(act.tanh(Tensor(data))), "extremes": arr(extreme), "warnings": warned,
            "dtype": dtype_name(extreme)}


@case("activations-checkpoint", points=2, rtol=1e-6, atol=1e-7)
def gelu_finite(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    moderate = Tensor(rng.uniform(-4, 4, (3, 4)).astype(np.float32))
    out = {}
    for form in ("none", "tanh"):
        extreme, warned = _quietly(act.gelu, Tensor(EXTREMES), approximate=form)
        out.update({f"{form} moderate": arr(act.gelu(moderate, approximate=form)),
                    f"{form} extremes": arr(extreme), f"{form} warnings": warned,
                    f"{form} layer": arr(act.GELU(form)(moderate)), f"{form} dtype": dtype_name(extreme)})
    return out


@case("activations-checkpoint", points=3, rtol=1e-5, atol=1e-7)
def softmax_stable(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    scores = rng.standard_normal((4, 6)).astype(np.float32) * 3
    big, warned = _quietly(act.softmax, Tensor([[1000.0, 1000.0], [-1000.0, 0.0], [1e4, -1e4]]))
    rows = act.softmax(Tensor(scores))
    return {"rows": arr(rows), "row sums": arr(rows).sum(axis=-1),
            "axis 0": arr(act.softmax(Tensor(scores), axis=0)),
            "example": arr(act.softmax(Tensor([[1.0, 2.0, 3.0]]))),
            "big": arr(big), "warnings": warned, "dtype": dtype_name(rows),
            "1-d": arr(act.softmax(Tensor([0.0, np.log(3.0)])))}


@case("activations-checkpoint", points=3, rtol=1e-5, atol=1e-6)
def log_softmax_stable(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    scores = rng.standard_normal((3, 5)) * 4  # float64
    extreme, warned = _quietly(act.log_softmax, Tensor([[0.0, -1000.0], [1000.0, -1000.0]]))
    return {"values": arr(act.log_softmax(Tensor(scores))),
            "axis 0": arr(act.log_softmax(Tensor(scores), axis=0)),
            "extreme": arr(extreme), "warnings": warned,
            "float32 dtype": dtype_name(act.log_softmax(Tensor(scores.astype(np.float32))))}


@case("activations-checkpoint", points=2, rtol=1e-6, atol=1e-7)
def activation_classes(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    x = Tensor(rng.standard_normal((3, 4)).astype(np.float32))
    out = {}
    for name in ("ReLU", "Sigmoid", "Tanh", "GELU", "Softmax"):
        layer = getattr(act, name)()
        out[name] = arr(layer(x))
        out[f"{name} forward"] = arr(layer.forward(x))
        out[f"{name} parameters"] = len(layer.parameters())
    out["Softmax axis 0"] = arr(act.Softmax(axis=0)(x))
    return out


@case("activations-checkpoint", points=2, rtol=0, atol=0)
def graph_recording(tt, rng):
    Tensor, act = tt.tensor.Tensor, tt.activations
    x = Tensor([[-1.0, 0.5, 2.0]], requires_grad=True)
    out = {}
    for name in ("relu", "sigmoid", "tanh"):
        result = getattr(act, name)(x)
        out[name] = f"{result._op}/{len(result._parents)}/{result._parents[0] is x}"
    for name in ("softmax", "log_softmax"):
        result = getattr(act, name)(x)
        out[f"{name} requires_grad"] = result.requires_grad and not result.is_leaf
    constant = act.sigmoid(Tensor([1.0]))
    out["constant records nothing"] = (not constant.requires_grad) and constant.is_leaf
    return out
