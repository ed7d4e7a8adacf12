"""Checkpoint 01 as values: "Can I store numbers in n-dimensional arrays and compute with them?"

Uses `tt.tensor` only (no autograd: `backward` is module 05's).
"""

import numpy as np

from _common import arr, dtype_name, registry, type_name

MODULE = "tensor"
SCENARIOS = []
scenario = registry(SCENARIOS)


@scenario(points=3, rtol=0, atol=0)
def construction_and_dtype(tt):
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


@scenario(points=3, rtol=1e-6, atol=1e-7)
def elementwise_arithmetic(tt):
    Tensor = tt.tensor.Tensor
    rng = np.random.default_rng(101)
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


@scenario(points=2, rtol=1e-6, atol=1e-7)
def numbers_and_arrays_on_either_side(tt):
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


@scenario(points=2, rtol=0, atol=0)
def broadcasting(tt):
    Tensor = tt.tensor.Tensor
    rows = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    outer = Tensor([[1.0], [2.0]]) * Tensor([1.0, 10.0, 100.0])
    cube = Tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4)) + Tensor(np.arange(4, dtype=np.float32))
    return {"rows + vector": arr(rows + Tensor([10.0, 20.0, 30.0])),
            "rows * column": arr(rows * Tensor([[2.0], [3.0]])),
            "outer": arr(outer), "outer shape": np.array(outer.shape),
            "cube + vector": arr(cube), "rows - scalar tensor": arr(rows - Tensor(1.0))}


@scenario(points=3, rtol=1e-5, atol=1e-5)
def matrix_multiplication(tt):
    Tensor = tt.tensor.Tensor
    rng = np.random.default_rng(102)
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


@scenario(points=3, rtol=1e-6, atol=1e-6)
def reductions(tt):
    Tensor = tt.tensor.Tensor
    x = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 9.0]])
    rng = np.random.default_rng(103)
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


@scenario(points=2, rtol=0, atol=0)
def shape_and_indexing(tt):
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


@scenario(points=1, rtol=0, atol=0)
def comparisons_and_hashing(tt):
    Tensor = tt.tensor.Tensor
    a, b = Tensor([1.0, 2.0, 3.0]), Tensor([3.0, 2.0, 1.0])
    seen = {a, b, a}
    return {"a == b": arr(a == b), "a != b": arr(a != b), "a < b": arr(a < b),
            "a <= b": arr(a <= b), "a > b": arr(a > b), "a >= 2": arr(a >= 2),
            "dtype ==": dtype_name(a == b), "type ==": type_name(a == b),
            "set size": len(seen), "dict lookup": {a: "a", b: "b"}[a]}


@scenario(points=1, rtol=0, atol=0)
def graph_recording(tt):
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
