"""The spec of 01_tensor: its cases, each bound to a graded cell by grade id.

Cells covered, in notebook order (public cases first, then the hidden ones that replace the
cell's former hidden tests):

- tensor-creation             `_to_array` (the dtype policy), the constructor, `as_tensor`
- tensor-arithmetic           `+ - * / -x **` with broadcasting and numbers on either side
- tensor-exp-log              `exp`, `log` (float64 and float32)
- tensor-matmul               `@`, vectors, batches, numpy on the left, shape errors
- tensor-reductions           `sum`, `mean`, `max` with axis and keepdims
- tensor-shape-indexing       `reshape`, `transpose`, `[...]`
- tensor-comparisons-hashing  the six comparisons, identity hashing, numpy on the left
- tensor-graph-records        `from_op` and the graph record of every operation
- tensor-checkpoint           checkpoint 01 as values: "Can I store numbers in n-dimensional
                              arrays and compute with them?" (cases with points, summing to 20)

A case uses only the functions its cell is about (and the given code around them), so a missing
function costs one cell. Uses `tt.tensor` only (no autograd: `backward` is module 05's).
"""

import numpy as np

from casekit import arr, dtype_name, raises, recorded_ops, registry, type_name

CASES = []
case = registry(CASES)


def _signed(rng, shape, low=0.5, high=3.0):
    """Values of magnitude in [low, high), both signs present (so never near zero)."""
    size = int(np.prod(shape))
    signs = rng.permutation(np.resize([1.0, -1.0], size))
    return (signs * rng.uniform(low, high, size)).reshape(shape)


def _kind(result) -> str:
    """What a result is, in one line: its type, dtype and shape ("Tensor float32 (2, 3)")."""
    return f"{type_name(result)} {dtype_name(result)} {tuple(int(n) for n in result.shape)}"


def _nonzero_ints(rng, shape, top=5):
    """Integers in [-top, -1] or [1, top], both signs present: exact products, no zero."""
    size = int(np.prod(shape))
    signs = rng.permutation(np.resize([1, -1], size))
    return (signs * rng.integers(1, top + 1, size)).reshape(shape).astype(np.float64)


# --------------------------------------------------------------------------- tensor-creation

@case("tensor-creation", rtol=0, atol=0)
def creation_from_a_list(tt, rng):
    Tensor = tt.tensor.Tensor
    t = Tensor(rng.integers(-9, 10, (2, 3)).tolist())  # a list of ints
    return {"data type": type_name(t.data), "shape": np.array(t.shape), "ndim": t.ndim,
            "size": t.size, "dtype": dtype_name(t), "values": arr(t)}


@case("tensor-creation", rtol=0, atol=0)
def creation_dtype_policy(tt, rng):
    Tensor = tt.tensor.Tensor
    ints = rng.integers(-5, 6, 4)
    flags = rng.permutation([1, 0, 1, 0, 1])
    number = float(rng.integers(1, 80)) / 8  # exact in float32
    scalar = Tensor(number)
    explicit = Tensor(flags.tolist(), dtype=bool)
    return {"int array": dtype_name(Tensor(ints)), "int array values": arr(Tensor(ints)),
            "bool array": dtype_name(Tensor(flags.astype(bool))),
            "float64 array": dtype_name(Tensor(rng.standard_normal(3))),
            "float32 array": dtype_name(Tensor(rng.standard_normal(3).astype(np.float32))),
            "float16 array": dtype_name(Tensor(np.zeros(3, dtype=np.float16))),
            "scalar ndim": scalar.ndim, "scalar dtype": dtype_name(scalar), "scalar item": scalar.item(),
            "explicit float64 on a list": dtype_name(Tensor(ints.tolist(), dtype=np.float64)),
            "explicit float32 on float64": dtype_name(Tensor(rng.standard_normal(2), dtype=np.float32)),
            "explicit bool": dtype_name(explicit), "explicit bool values": arr(explicit)}


@case("tensor-creation", rtol=0, atol=0)
def creation_from_a_tensor(tt, rng):
    Tensor = tt.tensor.Tensor
    values = rng.uniform(-4, 4, 3)
    copy = Tensor(Tensor(values))
    return {"dtype": dtype_name(copy), "values": arr(copy), "type": type_name(copy)}


@case("tensor-creation", rtol=0, atol=0)
def creation_fresh_leaf(tt, rng):
    Tensor = tt.tensor.Tensor
    t = Tensor(rng.standard_normal((2, 2)).tolist())
    asked = Tensor([float(rng.standard_normal())], requires_grad=True)
    return {"requires_grad is False": t.requires_grad is False, "grad is None": t.grad is None,
            "is_leaf": t.is_leaf is True, "op is None": t._op is None,
            "parents type": type_name(t._parents), "parents": len(t._parents),
            "ctx is None": t._ctx is None, "requires_grad=True kept": asked.requires_grad is True}


@case("tensor-creation", rtol=1e-13, atol=0)
def creation_as_tensor_numbers(tt, rng):
    Tensor, as_tensor = tt.tensor.Tensor, tt.tensor.as_tensor
    f64 = Tensor(rng.uniform(-2, 2, 2))
    whole, fraction = int(rng.integers(2, 50)), float(rng.uniform(0.05, 0.95))
    two = as_tensor(whole, like=f64)
    return {"a Tensor passes through": as_tensor(f64) is f64,
            "int like float64 type": type_name(two), "int like float64 dtype": dtype_name(two),
            "int like float64 item": two.item(),
            "0.1 like float64": as_tensor(0.1, like=f64).item(),  # not rounded through float32
            "fraction like float64": as_tensor(fraction, like=f64).item(),
            "int like float32 dtype": dtype_name(as_tensor(whole, like=Tensor([1.0]))),
            "list dtype": dtype_name(as_tensor(rng.integers(0, 9, 2).tolist()))}


@case("tensor-creation", hidden=True, rtol=0, atol=0)
def creation_hidden_shapes_and_numpy_scalars(tt, rng):
    Tensor = tt.tensor.Tensor
    brick = Tensor(np.ones(tuple(rng.integers(2, 5, 3)), dtype=np.float64))
    value = float(rng.integers(1, 80)) / 8
    whole = int(rng.integers(1, 100))
    return {"brick shape": np.array(brick.shape), "brick ndim": brick.ndim, "brick size": brick.size,
            "brick len": len(brick),
            "np.float64 dtype": dtype_name(Tensor(np.float64(value))),
            "np.float64 ndim": Tensor(np.float64(value)).ndim,
            "np.float32 dtype": dtype_name(Tensor(np.float32(value))),
            "np.int64 dtype": dtype_name(Tensor(np.int64(whole))), "np.int64 item": Tensor(np.int64(whole)).item(),
            "True dtype": dtype_name(Tensor(True)), "True item": Tensor(True).item(),
            "nested floats dtype": dtype_name(Tensor([[value, value + 1]]))}


@case("tensor-creation", hidden=True, rtol=0, atol=0)
def creation_hidden_as_tensor_more(tt, rng):
    Tensor, as_tensor = tt.tensor.Tensor, tt.tensor.as_tensor
    f64 = Tensor(rng.uniform(-2, 2, 2))
    half = Tensor(np.zeros(2, dtype=np.float16))
    variable_like = type("VariableLike", (), {"as_tensor": lambda self: f64})()
    return {"number like float16": dtype_name(as_tensor(float(rng.integers(1, 9)) / 2, like=half)),
            "True like float64": dtype_name(as_tensor(True, like=f64)),
            "int array": dtype_name(as_tensor(rng.integers(0, 9, 2))),
            "float64 array": dtype_name(as_tensor(rng.standard_normal(2))),
            "wrapper hands over its Tensor": as_tensor(variable_like, like=Tensor([1.0])) is f64}


@case("tensor-creation", hidden=True, rtol=0, atol=0)
def creation_hidden_data_setter(tt, rng):
    Tensor = tt.tensor.Tensor
    reassigned = Tensor(np.zeros(2))
    reassigned.data = rng.integers(-9, 10, 2).tolist()
    return {"dtype": dtype_name(reassigned), "values": arr(reassigned)}


# --------------------------------------------------------------------------- tensor-arithmetic

@case("tensor-arithmetic", rtol=1e-6, atol=1e-7)
def arithmetic_elementwise(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(_signed(rng, (2, 3)).tolist())
    row = Tensor(_signed(rng, (3,)).tolist())
    out = {}
    for label, result in [("a + row", a + row), ("a - row", a - row), ("a * row", a * row),
                          ("a / row", a / row), ("-a", -a), ("a ** 2", a ** 2)]:
        out[f"{label} kind"] = _kind(result)
        out[label] = arr(result)
    outer = Tensor(_signed(rng, (2, 1)).tolist()) + row
    out["column + row kind"] = _kind(outer)
    out["column + row"] = arr(outer)
    return out


@case("tensor-arithmetic", rtol=1e-6, atol=1e-7)
def arithmetic_with_numbers(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(_signed(rng, (2, 3)).tolist())
    k, m = int(rng.integers(2, 10)), float(rng.integers(2, 40)) / 4
    out = {}
    for label, result in [("a + k", a + k), ("k + a", k + a), ("a - k", a - k), ("m - a", m - a),
                          ("a * m", a * m), ("k * a", k * a), ("a / k", a / k), ("m / a", m / a)]:
        out[f"{label} kind"] = _kind(result)
        out[label] = arr(result)
    return out


@case("tensor-arithmetic", rtol=1e-13, atol=0)
def arithmetic_float64_stays(tt, rng):
    Tensor = tt.tensor.Tensor
    f64 = Tensor(rng.uniform(0.5, 2.0, 3))
    out = {}
    for label, result in [("f64 + 1", f64 + 1), ("f64 * 0.1", f64 * 0.1), ("0.1 * f64", 0.1 * f64),
                          ("f64 / 3", f64 / 3), ("f64 ** 3", f64 ** 3), ("-f64", -f64)]:
        out[f"{label} dtype"] = dtype_name(result)
        out[label] = arr(result)  # 0.1 must not be rounded through float32
    return out


@case("tensor-arithmetic", rtol=0, atol=0)
def arithmetic_errors(tt, rng):
    Tensor = tt.tensor.Tensor
    rows = int(rng.integers(3, 6))
    a = Tensor(rng.standard_normal((2, 3)).tolist())
    return {"incompatible shapes": raises(lambda: Tensor(np.ones((rows, 3))) + Tensor(np.ones((2, 3)))),
            "Tensor exponent": raises(lambda: a ** Tensor(2.0))}


@case("tensor-arithmetic", hidden=True, rtol=1e-12, atol=1e-12)
def arithmetic_hidden_broadcast_3d(tt, rng):
    Tensor = tt.tensor.Tensor
    stacked = Tensor(rng.standard_normal((2, 3, 4)))
    plane = Tensor(rng.standard_normal((3, 4)))
    scales = Tensor(_signed(rng, (2, 1, 1)))
    return {"stacked - plane": arr(stacked - plane), "stacked * scales": arr(stacked * scales)}


@case("tensor-arithmetic", hidden=True, rtol=1e-6, atol=1e-7)
def arithmetic_hidden_powers(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(rng.uniform(0.5, 6.0, (2, 3)).tolist())
    return {"a ** 0.5": arr(a ** 0.5), "a ** -1": arr(a ** -1), "sqrt": arr(a.sqrt())}


@case("tensor-arithmetic", hidden=True, rtol=0, atol=0)
def arithmetic_hidden_dtypes(tt, rng):
    Tensor = tt.tensor.Tensor
    half = Tensor(rng.uniform(1, 4, 2).astype(np.float16))
    mixed = Tensor(rng.uniform(1, 4, 2).tolist()) + Tensor(rng.uniform(1, 4, 2))
    return {"float16 * 2": dtype_name(half * 2), "2 + float16": dtype_name(2 + half),
            "float32 + float64": dtype_name(mixed)}


# --------------------------------------------------------------------------- tensor-exp-log

@case("tensor-exp-log", rtol=1e-12, atol=1e-15)
def exp_log_float64(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(np.array([rng.uniform(-3, -0.5), 0.0, rng.uniform(0.1, 1), rng.uniform(1, 3)]))
    e = x.exp()
    back = e.log()
    return {"exp kind": _kind(e), "exp": arr(e), "log kind": _kind(back), "log(exp(x))": arr(back)}


@case("tensor-exp-log", rtol=1e-6, atol=1e-7)
def exp_log_float32(tt, rng):
    Tensor = tt.tensor.Tensor
    positive = Tensor(rng.uniform(0.5, 20, (2, 2)).tolist())
    logged, exped = positive.log(), positive.exp()
    return {"log kind": _kind(logged), "log": arr(logged), "exp kind": _kind(exped), "exp": arr(exped)}


@case("tensor-exp-log", hidden=True, rtol=1e-12, atol=1e-14)
def exp_log_hidden_round_trip(tt, rng):
    Tensor = tt.tensor.Tensor
    ramp = rng.uniform(0.1, 2.4, (2, 3, 4))
    up, down = Tensor(ramp).exp(), Tensor(-ramp).exp()
    return {"exp(log(x))": arr(Tensor(ramp).log().exp()), "exp shape": np.array(up.shape),
            "exp(x) * exp(-x)": arr(up) * arr(down)}


@case("tensor-exp-log", hidden=True, rtol=0, atol=0)
def exp_log_hidden_scalars(tt, rng):
    Tensor = tt.tensor.Tensor
    return {"exp(0)": Tensor(0.0).exp().item(), "log(1)": Tensor(1.0).log().item(),
            "0-d shape": np.array(Tensor(0.0).exp().shape, dtype=np.int64)}


# --------------------------------------------------------------------------- tensor-matmul

@case("tensor-matmul", rtol=0, atol=0)
def matmul_small(tt, rng):
    Tensor = tt.tensor.Tensor
    a, b = Tensor(_nonzero_ints(rng, (2, 2)).tolist()), Tensor(_nonzero_ints(rng, (2, 2)).tolist())
    row, column = Tensor(_nonzero_ints(rng, (2,)).tolist()), Tensor(_nonzero_ints(rng, (2,)).tolist())
    c = a @ b
    return {"a @ b kind": _kind(c), "a @ b": arr(c), "a.matmul(b)": arr(a.matmul(b)),
            "row @ b kind": _kind(row @ b), "row @ b": arr(row @ b), "a @ column": arr(a @ column),
            "row @ column kind": _kind(row @ column), "row @ column": arr(row @ column)}


@case("tensor-matmul", rtol=1e-10, atol=1e-12)
def matmul_float64(tt, rng):
    Tensor = tt.tensor.Tensor
    product = Tensor(rng.standard_normal((2, 3))) @ Tensor(rng.standard_normal((3, 4)))
    return {"kind": _kind(product), "values": arr(product)}


@case("tensor-matmul", rtol=1e-6, atol=1e-6)
def matmul_numpy_on_the_left(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(_nonzero_ints(rng, (2, 2)).tolist())
    left = np.eye(2) @ a
    random_left = rng.uniform(-2, 2, (3, 2)) @ a
    return {"eye @ a type": type_name(left), "eye @ a": arr(left),
            "ndarray @ a type": type_name(random_left), "ndarray @ a": arr(random_left)}


@case("tensor-matmul", rtol=0, atol=0)
def matmul_shape_mismatch(tt, rng):
    Tensor = tt.tensor.Tensor
    wide = Tensor(rng.standard_normal((2, 3)))
    return {"(2, 3) @ (2, 3)": raises(lambda: wide @ wide)}


@case("tensor-matmul", hidden=True, rtol=1e-10, atol=1e-12)
def matmul_hidden_batched(tt, rng):
    Tensor = tt.tensor.Tensor
    batched = Tensor(rng.standard_normal((4, 2, 3))) @ Tensor(rng.standard_normal((3, 4)))
    wavy = Tensor(rng.standard_normal((5, 7))) @ Tensor(rng.standard_normal((7, 3)))
    return {"batched shape": np.array(batched.shape), "batched": arr(batched), "5x7 @ 7x3": arr(wavy)}


# --------------------------------------------------------------------------- tensor-reductions

def _counts(rng, shape=(2, 3)):
    """Whole numbers from 1 to 9 as a list (float32 by the policy; exact sums, never zero)."""
    return rng.integers(1, 10, shape).astype(np.float64).tolist()


@case("tensor-reductions", rtol=1e-6, atol=1e-6)
def reductions_sum(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(_counts(rng))
    total, kept = x.sum(), x.sum(axis=1, keepdims=True)
    return {"total kind": _kind(total), "total": total.item(),
            "axis 0": arr(x.sum(axis=0)), "axis 1": arr(x.sum(axis=1)), "axis -1": arr(x.sum(axis=-1)),
            "keepdims kind": _kind(kept), "keepdims": arr(kept),
            "axis (0, 1)": x.sum(axis=(0, 1)).item()}


@case("tensor-reductions", rtol=1e-6, atol=1e-6)
def reductions_mean(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(_counts(rng))
    m = x.mean()
    return {"kind": _kind(m), "mean": m.item(), "axis 0": arr(x.mean(axis=0)), "axis 1 keepdims": arr(x.mean(axis=1, keepdims=True)),
            "float64 dtype": dtype_name(Tensor(rng.uniform(1, 2, 2)).mean())}


@case("tensor-reductions", rtol=0, atol=0)
def reductions_max(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(_counts(rng))
    top = x.max()
    return {"kind": _kind(top), "max": top.item(),
            "axis 0": arr(x.max(axis=0)), "axis 1 keepdims": arr(x.max(axis=1, keepdims=True))}


@case("tensor-reductions", hidden=True, rtol=1e-10, atol=1e-12)
def reductions_hidden_3d(tt, rng):
    Tensor = tt.tensor.Tensor
    counting = Tensor(rng.uniform(0.5, 3.0, (2, 3, 4)))
    return {"sum (0, 2)": arr(counting.sum(axis=(0, 2))), "mean (0, 2)": arr(counting.mean(axis=(0, 2))),
            "mean -1 keepdims": arr(counting.mean(axis=-1, keepdims=True)),
            "mean (1, 2) keepdims shape": np.array(counting.mean(axis=(1, 2), keepdims=True).shape),
            "max axis 1": arr(counting.max(axis=1)),
            "max (0, 1) shape": np.array(counting.max(axis=(0, 1)).shape)}


@case("tensor-reductions", hidden=True, rtol=1e-6, atol=1e-6)
def reductions_hidden_negatives(tt, rng):
    Tensor = tt.tensor.Tensor
    negatives = Tensor(rng.uniform(-4.0, -0.5, 3).tolist())
    return {"max": negatives.max().item(), "sum": negatives.sum().item(), "mean": negatives.mean().item()}


# --------------------------------------------------------------------------- tensor-shape-indexing

@case("tensor-shape-indexing", rtol=0, atol=0)
def shape_reshape(tt, rng):
    Tensor = tt.tensor.Tensor
    flat = Tensor(rng.standard_normal(6))
    grid = flat.reshape(2, 3)
    return {"kind": _kind(grid), "reshape(2, 3)": arr(grid), "reshape((3, 2))": arr(flat.reshape((3, 2))),
            "reshape(-1, 2)": arr(flat.reshape(-1, 2)),
            "grid.reshape(-1) shape": np.array(grid.reshape(-1).shape),
            "grid.reshape(6)": arr(grid.reshape(6))}


@case("tensor-shape-indexing", rtol=0, atol=0)
def shape_transpose(tt, rng):
    Tensor = tt.tensor.Tensor
    grid = Tensor(rng.standard_normal((2, 3)))
    cube = Tensor(rng.standard_normal((2, 3, 4)))
    t = grid.transpose()
    return {"kind": _kind(t), "transpose()": arr(t), "T": arr(grid.T),
            "transpose(1, 0)": arr(grid.transpose(1, 0)),
            "cube (2, 0, 1) shape": np.array(cube.transpose(2, 0, 1).shape),
            "cube ((1, 2, 0)) shape": np.array(cube.transpose((1, 2, 0)).shape),
            "cube T shape": np.array(cube.T.shape)}


@case("tensor-shape-indexing", rtol=0, atol=0)
def shape_indexing(tt, rng):
    Tensor = tt.tensor.Tensor
    grid = Tensor(rng.standard_normal((2, 3)))
    row = grid[1]
    picked = grid[Tensor(rng.integers(0, 2, 3).tolist())]
    return {"grid[1] kind": _kind(row), "grid[1]": arr(row),
            "grid[:, 1]": arr(grid[:, 1]), "grid[1, 2] kind": _kind(grid[1, 2]),
            "grid[1, 2]": grid[1, 2].item(), "grid[0, 1:]": arr(grid[0, 1:]),
            "grid[labels] kind": _kind(picked), "grid[labels]": arr(picked)}


@case("tensor-shape-indexing", hidden=True, rtol=0, atol=0)
def shape_hidden_reshape_transpose(tt, rng):
    Tensor = tt.tensor.Tensor
    cube = Tensor(rng.standard_normal((2, 3, 4)))
    return {"cube.transpose(2, 0, 1)": arr(cube.transpose(2, 0, 1)), "cube.reshape(4, -1)": arr(cube.reshape(4, -1)),
            "cube.reshape([6, 4]) shape": np.array(cube.reshape([6, 4]).shape)}


@case("tensor-shape-indexing", hidden=True, rtol=0, atol=0)
def shape_hidden_indexing(tt, rng):
    Tensor = tt.tensor.Tensor
    values = rng.standard_normal((2, 3))
    grid, cube = Tensor(values), Tensor(rng.standard_normal((2, 3, 4)))
    rows = rng.integers(0, 2, 2)
    labels = Tensor(rng.integers(0, 3, 2).astype(np.float64))  # float labels
    return {"grid[int array]": arr(grid[rows]),
            "grid[rows, float labels]": arr(grid[Tensor([0, 1]), labels]),
            "grid[mask]": arr(grid[values > np.median(values)]),
            "cube[1, :, -1]": arr(cube[1, :, -1]), "cube[..., 0] shape": np.array(cube[..., 0].shape)}


# --------------------------------------------------------------------------- tensor-comparisons-hashing

@case("tensor-comparisons-hashing", rtol=0, atol=0)
def comparisons_elementwise(tt, rng):
    Tensor = tt.tensor.Tensor
    values = rng.integers(-5, 6, 9).astype(np.float64)
    shifted = values + rng.permutation(np.resize([-1.0, 0.0, 1.0], 9))  # <, == and > all present
    a, b = Tensor(values.tolist()), Tensor(shifted.tolist())
    eq = a == b
    present = int(values[rng.integers(0, 9)])
    out = {"== kind": _kind(eq), "==": arr(eq)}
    for label, result in [("!=", a != b), ("<", a < b), ("<=", a <= b), (">", a > b), (">=", a >= b)]:
        out[label] = arr(result)
    out["> number"] = arr(a > float(np.median(values)) + 0.5)
    out["== int kind"] = _kind(a == present)
    out["== int"] = arr(a == present)
    out["<= ndarray"] = arr(a <= values + rng.permutation(np.resize([-1.0, 0.0, 1.0], 9)))
    return out


@case("tensor-comparisons-hashing", rtol=0, atol=0)
def comparisons_hashing(tt, rng):
    Tensor = tt.tensor.Tensor
    a, b = Tensor(rng.standard_normal(3).tolist()), Tensor(rng.standard_normal(3).tolist())
    lookup = {a: "a", b: "b"}
    return {"len({a, b, a})": len({a, b, a}), "lookup a": lookup[a], "lookup b": lookup[b],
            "hash stable": hash(a) == hash(a),
            "equal numbers, other node": Tensor(a.data) in {a, b}}


@case("tensor-comparisons-hashing", rtol=1e-6, atol=1e-7)
def comparisons_numpy_on_the_left(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(_signed(rng, (3,)).tolist())
    left = rng.uniform(-3, 3, 3)
    out = {}
    for label, result in [("ndarray * a", left * a), ("ndarray + a", left + a),
                          ("ndarray - a", left - a), ("ndarray / a", left / a)]:
        out[f"{label} type"] = type_name(result)
        out[label] = arr(result)
    return out


@case("tensor-comparisons-hashing", hidden=True, rtol=0, atol=0)
def comparisons_hidden_grid(tt, rng):
    Tensor = tt.tensor.Tensor
    values = rng.permutation(np.arange(1.0, 9.0))[:4].reshape(2, 2)  # distinct
    grid, flipped = Tensor(values.tolist()), Tensor(values.T.tolist())  # no transpose: another cell's
    return {"grid > grid.T": arr(grid > flipped), "grid == grid": arr(grid == grid),
            "grid != grid": arr(grid != grid), "(grid >= m) shape": np.array((grid >= float(values[0, 0])).shape),
            "float64 < float32": arr(Tensor(values[0]) < Tensor(values[1].tolist()))}


@case("tensor-comparisons-hashing", hidden=True, rtol=0, atol=0)
def comparisons_hidden_dict_of_nodes(tt, rng):
    Tensor = tt.tensor.Tensor
    tensors = [Tensor(rng.standard_normal(2)) for _ in range(4)]
    order = rng.permutation(4)
    nodes = {}
    for i in order:
        nodes[tensors[i]] = len(nodes)
    return {"ranks": np.array([nodes[t] for t in tensors]), "size": len(nodes)}


@case("tensor-comparisons-hashing", hidden=True, rtol=1e-6, atol=1e-7)
def comparisons_hidden_numpy_scalar_on_the_left(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(_signed(rng, (3,)).tolist())
    scaled = np.float64(rng.integers(2, 9)) * a
    return {"type": type_name(scaled), "values": arr(scaled)}


# --------------------------------------------------------------------------- tensor-graph-records

CONTRACT = {"add", "sub", "mul", "div", "neg", "pow", "exp", "log", "matmul", "sum", "max",
            "reshape", "transpose", "getitem"}


def _text(value) -> str:
    """A recorded value as text, equal when `==` finds the values equal (3 and 3.0 alike, False
    and 0 alike, a tuple unlike a list); anything unexpected shows as its type."""
    if value is None or value is Ellipsis or isinstance(value, str):
        return repr(value)
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        number = float(value)
        return repr(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, tuple):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, slice):
        return f"slice({_text(value.start)}, {_text(value.stop)}, {_text(value.step)})"
    if type(value) is dict:
        return "{" + ", ".join(f"{k}={_text(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))) + "}"
    return f"<{type(value).__name__}>"


def _record(out, names: dict) -> str:
    """What `check` of the notebook's test looks at, as one line: the type, the op, the parents
    (by name, "?" for any other tensor), requires_grad, is_leaf and the ctx."""
    parents = out._parents
    if isinstance(parents, tuple):
        who = ", ".join(next((n for n, t in names.items() if t is p), "?") for p in parents)
    else:
        who = f"<{type(parents).__name__}>"
    return (f"{type_name(out)} op={_text(out._op)} parents=({who}) requires_grad={out.requires_grad is True} "
            f"leaf={out.is_leaf is True} ctx={_text(out._ctx)}")


def _mean_facts(reduced, source) -> str:
    reached, ops = recorded_ops(reduced, source)
    within = all(type(op) is str and op in CONTRACT for op in ops)
    has_sum = any(type(op) is str and op == "sum" for op in ops)
    return f"requires_grad={reduced.requires_grad is True} reaches input={reached} sum={has_sum} contract ops={within}"


def _pair(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor(rng.uniform(0.5, 4.0, (2, 2)).tolist(), requires_grad=True)  # positive: log is fine
    b = Tensor(_signed(rng, (2, 2)).tolist(), requires_grad=True)
    return a, b


@case("tensor-graph-records", rtol=0, atol=0)
def graph_each_operation(tt, rng):
    a, b = _pair(tt, rng)
    names = {"a": a, "b": b}
    ops = {"a + b": a + b, "a - b": a - b, "b - a": b - a, "a * b": a * b, "a / b": a / b, "-a": -a,
           "a ** 3": a ** 3, "exp": a.exp(), "log": a.log(), "a @ b": a @ b, "sum()": a.sum(),
           "sum(0, keepdims)": a.sum(axis=0, keepdims=True), "max(1)": a.max(axis=1),
           "reshape(4)": a.reshape(4), "transpose()": a.transpose(), "transpose(1, 0)": a.transpose(1, 0),
           "a[0]": a[0], "a[:, 1]": a[:, 1]}
    return {label: _record(result, names) for label, result in ops.items()}


@case("tensor-graph-records", rtol=0, atol=0)
def graph_numbers_become_constants(tt, rng):
    a, _ = _pair(tt, rng)
    k = int(rng.integers(2, 9))
    doubled, flipped = a * k, 1 - a
    constant = doubled._parents[1]
    return {"a * k": _record(doubled, {"a": a, "k": constant}),
            "constant type": type_name(constant), "constant requires_grad is False": constant.requires_grad is False,
            "constant dtype": dtype_name(constant), "constant item": constant.item(),
            "1 - a": _record(flipped, {"a": a}), "1 - a first parent": flipped._parents[0].item()}


@case("tensor-graph-records", rtol=0, atol=0)
def graph_one_input_is_enough(tt, rng):
    Tensor = tt.tensor.Tensor
    a, _ = _pair(tt, rng)
    plain = Tensor(rng.uniform(-1, 1, (2, 2)).tolist())
    return {"plain + a": _record(plain + a, {"plain": plain, "a": a}),
            "a + plain": _record(a + plain, {"plain": plain, "a": a})}


@case("tensor-graph-records", rtol=0, atol=0)
def graph_no_record_without_grad(tt, rng):
    Tensor = tt.tensor.Tensor
    a, b = _pair(tt, rng)
    plain = Tensor(rng.uniform(-1, 1, (2, 2)).tolist())
    c = plain * plain + 1
    Tensor.grad_enabled = False
    try:
        off = a * b
    finally:
        Tensor.grad_enabled = True
    return {"plain * plain + 1": _record(c, {}), "a after use": _record(a, {}),
            "a requires_grad": a.requires_grad is True, "recording off": _record(off, {})}


@case("tensor-graph-records", rtol=0, atol=0)
def graph_mean_is_a_composition(tt, rng):
    a, _ = _pair(tt, rng)
    return {"mean()": _mean_facts(a.mean(), a)}


@case("tensor-graph-records", hidden=True, rtol=0, atol=0)
def graph_hidden_from_op(tt, rng):
    Tensor = tt.tensor.Tensor
    a, _ = _pair(tt, rng)
    plain = Tensor(rng.uniform(-1, 1, (2, 2)).tolist())
    scale = int(rng.integers(2, 9))
    direct = Tensor.from_op(rng.standard_normal(2), "custom", (a, plain), scale=scale)
    quiet = Tensor.from_op(rng.standard_normal(1), "custom", (plain,), scale=scale)
    return {"direct": _record(direct, {"a": a, "plain": plain}), "direct dtype": dtype_name(direct),
            "quiet": _record(quiet, {"plain": plain})}


@case("tensor-graph-records", hidden=True, rtol=0, atol=0)
def graph_hidden_mean_axes(tt, rng):
    a, _ = _pair(tt, rng)
    return {"mean(0)": _mean_facts(a.mean(axis=0), a),
            "mean(1, keepdims)": _mean_facts(a.mean(axis=1, keepdims=True), a),
            "mean((0, 1))": _mean_facts(a.mean(axis=(0, 1)), a)}


@case("tensor-graph-records", hidden=True, rtol=0, atol=0)
def graph_hidden_block(tt, rng):
    Tensor = tt.tensor.Tensor
    block = Tensor(rng.uniform(0.5, 2.0, (2, 3, 4)), requires_grad=True)
    names = {"block": block}
    reciprocal = 3.0 / block
    return {"transpose(2, 0, 1)": _record(block.transpose(2, 0, 1), names),
            "sum((0, 2))": _record(block.sum(axis=(0, 2)), names), "max()": _record(block.max(), names),
            "** 0.5": _record(block ** 0.5, names), "3.0 / block": _record(reciprocal, names),
            "3.0 / block numerator dtype": dtype_name(reciprocal._parents[0]),
            "3.0 / block numerator requires_grad": reciprocal._parents[0].requires_grad is True}


@case("tensor-graph-records", hidden=True, rtol=0, atol=0)
def graph_hidden_gather_and_left_matmul(tt, rng):
    Tensor = tt.tensor.Tensor
    a, _ = _pair(tt, rng)
    rows = rng.permutation(2)
    gathered = a[Tensor(rows.tolist())]
    index = gathered._ctx["index"]
    left = rng.uniform(-1, 1, (2, 2)) @ a
    return {"gathered op": _text(gathered._op), "gathered parent is a": gathered._parents[0] is a,
            "index values": arr(index), "index kind": np.asarray(index).dtype.kind,
            "ndarray @ a op": _text(left._op), "ndarray @ a second parent is a": left._parents[1] is a,
            "ndarray @ a first parent requires_grad": left._parents[0].requires_grad is True}


# --------------------------------------------------------------------------- tensor-checkpoint

@case("tensor-checkpoint", points=3, rtol=0, atol=0)
def construction_and_dtype(tt, rng):
    Tensor = tt.tensor.Tensor
    scalar, vector = Tensor(5.0), Tensor([1.0, 2.0, 3.0])
    matrix, cube = Tensor([[1, 2], [3, 4]]), Tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    x32, x64 = Tensor(np.ones(2, dtype=np.float32)), Tensor(np.ones(2, dtype=np.float64))
    return {
        "shapes": np.array([len(t.shape) for t in (scalar, vector, matrix, cube)]),
        "vector shape": np.array(vector.shape), "matrix shape": np.array(matrix.shape),
        "cube shape": np.array(cube.shape), "cube ndim": cube.ndim, "cube size": cube.size,
        "len cube": len(cube), "scalar item": scalar.item(), "matrix": arr(matrix),
        "dtype int": dtype_name(Tensor(3)), "dtype list": dtype_name(Tensor([1, 2, 3])),
        "dtype int array": dtype_name(Tensor(np.arange(3))),
        "dtype float64 array": dtype_name(Tensor(np.zeros(3))),
        "dtype float32 array": dtype_name(Tensor(np.zeros(3, dtype=np.float32))),
        "dtype explicit": dtype_name(Tensor([1, 2], dtype=np.float64)),
        "dtype bool explicit": dtype_name(Tensor(0, dtype=bool)),
        "dtype float32 * 2": dtype_name(x32 * 2), "dtype 2.5 + float32": dtype_name(2.5 + x32),
        "dtype float64 * 2": dtype_name(x64 * 2),
    }


@case("tensor-checkpoint", points=3, rtol=1e-6, atol=1e-7)
def elementwise_arithmetic(tt, rng):
    Tensor = tt.tensor.Tensor
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.uniform(0.5, 2.0, (4, 5)).astype(np.float32)
    ta, tb = Tensor(a), Tensor(b)
    before = a.copy()
    out = {
        "a + b": arr(ta + tb), "a - b": arr(ta - tb), "a * b": arr(ta * tb), "a / b": arr(ta / tb),
        "-a": arr(-ta), "b ** 3": arr(tb ** 3), "b ** 0.5": arr(tb ** 0.5), "sqrt b": arr(tb.sqrt()),
        "exp b": arr(tb.exp()), "log b": arr(tb.log()),
        "dtype a * b": dtype_name(ta * tb), "dtype b ** 2": dtype_name(tb ** 2),
        "dtype b ** np.float64(2)": dtype_name(tb ** np.float64(2.0)),
        "a unchanged": bool(np.array_equal(arr(ta), before)),
    }
    d = Tensor(rng.standard_normal(6))  # float64 stays float64
    out["float64 d * d"] = arr(d * d)
    out["dtype float64 d * d"] = dtype_name(d * d)
    return out


@case("tensor-checkpoint", points=2, rtol=1e-6, atol=1e-7)
def numbers_and_arrays_on_either_side(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor([1.0, 2.0, 4.0])
    array = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    out = {"x + 1": arr(x + 1), "1 + x": arr(1 + x), "x - 1": arr(x - 1), "1 - x": arr(1 - x),
           "x * 2": arr(x * 2), "2 * x": arr(2 * x), "x / 2": arr(x / 2), "8 / x": arr(8 / x)}
    for label, result in [("array * x", array * x), ("array + x", array + x),
                          ("array - x", array - x), ("array / x", array / x),
                          ("x * array", x * array)]:
        out[f"type {label}"] = type_name(result)
        out[label] = arr(result)
    return out


@case("tensor-checkpoint", points=2, rtol=0, atol=0)
def broadcasting(tt, rng):
    Tensor = tt.tensor.Tensor
    rows = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    outer = Tensor([[1.0], [2.0]]) * Tensor([1.0, 10.0, 100.0])
    cube = Tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4)) + Tensor(np.arange(4, dtype=np.float32))
    return {"rows + vector": arr(rows + Tensor([10.0, 20.0, 30.0])),
            "rows * column": arr(rows * Tensor([[2.0], [3.0]])),
            "outer": arr(outer), "outer shape": np.array(outer.shape),
            "cube + vector": arr(cube), "rows - scalar tensor": arr(rows - Tensor(1.0))}


@case("tensor-checkpoint", points=3, rtol=1e-5, atol=1e-5)
def matrix_multiplication(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    b = Tensor([[5.0, 6.0], [7.0, 8.0]])
    m = rng.standard_normal((6, 7)).astype(np.float32)
    n = rng.standard_normal((7, 3)).astype(np.float32)
    batch = rng.standard_normal((2, 3, 4))
    weights = rng.standard_normal((4, 5))
    random_product = Tensor(m) @ Tensor(n)
    return {"a @ b": arr(a @ b), "a.matmul(b)": arr(a.matmul(b)),
            "a @ vector": arr(a @ Tensor([1.0, 1.0])), "vector @ a": arr(Tensor([1.0, 2.0]) @ a),
            "eye @ a": arr(np.eye(2, dtype=np.float32) @ a), "type eye @ a": type_name(np.eye(2) @ a),
            "random": arr(random_product), "random dtype": dtype_name(random_product),
            "batched": arr(Tensor(batch) @ Tensor(weights)),
            "batched shape": np.array((Tensor(batch) @ Tensor(weights)).shape)}


@case("tensor-checkpoint", points=3, rtol=1e-6, atol=1e-6)
def reductions(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 9.0]])
    cube = Tensor(rng.standard_normal((2, 3, 4)))
    return {"sum": arr(x.sum()), "sum shape": np.array(x.sum().shape, dtype=np.int64),
            "sum axis 0": arr(x.sum(axis=0)), "sum axis 1": arr(x.sum(axis=1)),
            "sum keepdims": arr(x.sum(axis=1, keepdims=True)),
            "mean": arr(x.mean()), "mean axis 0": arr(x.mean(axis=0)), "mean axis 1": arr(x.mean(axis=1)),
            "mean keepdims": arr(x.mean(axis=-1, keepdims=True)),
            "max": arr(x.max()), "max axis 1": arr(x.max(axis=1)),
            "max keepdims": arr(x.max(axis=0, keepdims=True)),
            "cube sum (0, 2)": arr(cube.sum(axis=(0, 2))), "cube mean (1, 2)": arr(cube.mean(axis=(1, 2))),
            "cube max -1": arr(cube.max(axis=-1)), "dtype mean": dtype_name(x.mean())}


@case("tensor-checkpoint", points=2, rtol=0, atol=0)
def shape_and_indexing(tt, rng):
    Tensor = tt.tensor.Tensor
    x = Tensor(np.arange(6, dtype=np.float32))
    m = x.reshape(2, 3)
    cube = Tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    labels = Tensor([2, 0])
    return {"reshape 2 3": arr(m), "reshape tuple": arr(x.reshape((3, 2))),
            "reshape -1": arr(x.reshape(-1, 2)), "T": arr(m.T), "transpose()": arr(m.transpose()),
            "transpose 1 0 2": arr(cube.transpose(1, 0, 2)), "transpose (2, 0, 1)": arr(cube.transpose((2, 0, 1))),
            "m[1]": arr(m[1]), "m[:, 1]": arr(m[:, 1]), "m[1, 2]": arr(m[1, 2]),
            "m[rows, labels]": arr(m[np.arange(2), labels]), "m[mask]": arr(m[arr(m) > 2]),
            "x unchanged": arr(x)}


@case("tensor-checkpoint", points=1, rtol=0, atol=0)
def comparisons_and_hashing(tt, rng):
    Tensor = tt.tensor.Tensor
    a, b = Tensor([1.0, 2.0, 3.0]), Tensor([3.0, 2.0, 1.0])
    seen = {a, b, a}
    return {"a == b": arr(a == b), "a != b": arr(a != b), "a < b": arr(a < b),
            "a <= b": arr(a <= b), "a > b": arr(a > b), "a >= 2": arr(a >= 2),
            "dtype ==": dtype_name(a == b), "type ==": type_name(a == b),
            "set size": len(seen), "dict lookup": {a: "a", b: "b"}[a]}


@case("tensor-checkpoint", points=1, rtol=0, atol=0)
def graph_recording(tt, rng):
    Tensor = tt.tensor.Tensor
    a = Tensor([[1.0, 2.0]], requires_grad=True)
    b = Tensor([[3.0, 4.0]])
    product = a * b
    plain = b * b + 1
    cut = product.detach()
    ops = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b, "neg": -a, "pow": a ** 2,
           "exp": a.exp(), "log": a.log(), "matmul": a @ b.T, "sum": a.sum(axis=1),
           "max": a.max(keepdims=True), "reshape": a.reshape(2, 1), "transpose": a.transpose(),
           "getitem": a[0, 1], "radd": 1 + a, "rmul": 2 * a}
    out = {"product requires_grad": product.requires_grad, "product is_leaf": product.is_leaf,
           "leaf is_leaf": a.is_leaf, "leaf grad is None": a.grad is None,
           "plain requires_grad": plain.requires_grad, "plain is_leaf": plain.is_leaf,
           "cut requires_grad": cut.requires_grad, "cut values": arr(cut),
           "mean recorded": a.mean().requires_grad and not a.mean().is_leaf}
    for name, result in ops.items():
        out[f"op {name}"] = f"{result._op}/{len(result._parents)}/{result.requires_grad}"
        out[f"first parent is a: {name}"] = result._parents[0] is a or result._parents[-1] is a
    out["ctx pow"] = repr(sorted((ops["pow"]._ctx or {}).items()))
    out["ctx sum"] = repr(sorted((ops["sum"]._ctx or {}).items()))
    out["ctx max"] = repr(sorted((ops["max"]._ctx or {}).items()))
    out["ctx transpose"] = repr(ops["transpose"]._ctx.get("axes"))
    out["ctx getitem"] = repr(ops["getitem"]._ctx.get("index"))
    w = Tensor([1.0, 2.0], requires_grad=True)
    w.data = np.array([5.0, 6.0], dtype=np.float32)
    out["data setter"] = arr(w)
    out["data setter leaf"] = w.is_leaf and w.requires_grad
    return out
