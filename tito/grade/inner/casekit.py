"""The vocabulary of a module's spec (`source/NN_name/cases.py`): cases, the `tt` loader, values.

A spec file runs in two places: inside the sandbox on the student's module (beside
`run_cases.py`, which imports it as `casekit`), and in the supervisor's trusted reference
process on the full reference package. So this file uses only the standard library and numpy,
and never imports tinytorch itself: the runner hands each case a `TT` loader that imports the
course modules up to the one under grade, and no later ones.

A case belongs to one graded cell of the notebook (its nbgrader `grade_id`) and answers with
VALUES (numbers, numeric or boolean arrays, short strings) instead of asserting; the supervisor
runs the same case with the same inputs on the reference package and compares, outside the
sandbox. Its inputs come from `rng`, a generator seeded per submission from a course secret the
sandbox never sees: the case code is public, the numbers it is run on are not known in advance.
A case must be deterministic given `rng` (never numpy's global generator), pure (no files, no
network) and fast.
"""

from __future__ import annotations

import importlib
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

PACKAGE = "tinytorch.core"


@dataclass(frozen=True)
class Case:
    """One registered case: its name, the graded cell it belongs to, and how it is compared.

    `points`: a cell whose cases carry points (the checkpoint cell) is scored by them, case by
    case; a cell whose cases carry none earns its points only when every case agrees.
    `hidden`: the student learns that a hidden case of the cell disagreed, never its values.
    """

    name: str
    fn: Callable
    cell: str
    points: float | None
    hidden: bool
    rtol: float
    atol: float
    budget: float  # seconds of wall-clock time before the runner gives up on it

    def __call__(self, tt, seed: int):
        return self.fn(tt, case_rng(seed, self.name))


def case_rng(seed: int, name: str) -> np.random.Generator:
    """The generator of one case: the submission's seed and the case's name, so that adding a
    case never changes the inputs of another."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def registry(cases: list) -> Callable:
    """A decorator that appends cases to `cases` (each spec file keeps its own list).

    Usage in a spec file:

        CASES = []
        case = registry(CASES)

        @case("activations-relu-test")
        def relu_values(tt, rng): ...

        @case("activations-relu-test", hidden=True)
        def relu_any_shape(tt, rng): ...

        @case("activations-checkpoint", points=3, rtol=1e-6)
        def relu_checkpoint(tt, rng): ...
    """

    def case(cell: str, *, points: float | None = None, hidden: bool = False, rtol: float = 1e-6,
             atol: float = 1e-9, budget: float = 10.0, name: str | None = None):
        def register(fn):
            found = Case(name or fn.__name__, fn, cell, None if points is None else float(points),
                         bool(hidden), float(rtol), float(atol), float(budget))
            if any(c.name == found.name for c in cases):
                raise ValueError(f"case {found.name!r} registered twice")
            cases.append(found)
            return fn

        return register

    return case


class TT:
    """`tt.tensor`, `tt.autograd`, ...: the course modules, imported on first use, up to the one
    under grade (`modules` is the course order, `limit` the key of the module under grade)."""

    def __init__(self, modules: list[str], limit: str):
        self._allowed = modules[: modules.index(limit) + 1]
        self._limit = limit

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._allowed:
            raise AttributeError(f"a case of module {self._limit!r} may not use module {name!r} "
                                 f"(it may use: {', '.join(self._allowed)})")
        return importlib.import_module(f"{PACKAGE}.{name}")


# --------------------------------------------------------------------------- value helpers

def arr(value, dtype=None) -> np.ndarray:
    """The numbers behind a Tensor, a Variable (whose `.data` is a Tensor), an array or a number.

    Always a fresh copy, so nothing the student's code does later can change a recorded value.
    """
    for _ in range(3):  # Variable -> Tensor -> ndarray
        if isinstance(value, (np.ndarray, np.generic, int, float, bool, list, tuple)):
            break
        value = value.data
    out = np.array(value, dtype=dtype, copy=True)
    if out.dtype.kind not in "biuf":
        raise TypeError(f"expected numbers, got an array of dtype {out.dtype}")
    return out


def grad(tensor, dtype=np.float64) -> np.ndarray:
    """The accumulated gradient of `tensor` (raises when backward left none)."""
    if tensor.grad is None:
        raise AssertionError("backward() left this tensor without a gradient (.grad is None)")
    return arr(tensor.grad, dtype)


def f64(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def dtype_name(tensor) -> str:
    return str(np.dtype(tensor.dtype))


def type_name(value) -> str:
    return type(value).__name__


def recorded_ops(output, source) -> tuple[bool, list]:
    """(whether the graph recorded behind `output` reaches `source`, the ops met on the way):
    a walk over `_op`/`_parents`, each node once (by identity: a Tensor with `__eq__` need not be
    hashable)."""
    ops, pending, visited, reached = [], [output], set(), False
    while pending:
        node = pending.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        reached = reached or node is source
        if node._op is not None:
            ops.append(node._op)
            pending.extend(node._parents)
    return reached, ops


def raises(fn, *args, **kwargs) -> str:
    """The name of the exception `fn(*args, **kwargs)` raises, or "none"."""
    try:
        fn(*args, **kwargs)
    except Exception as error:  # the exception's class is the answer
        return type(error).__name__
    return "none"


def message_of(fn, *args, **kwargs) -> str:
    """`Type: message` of the exception `fn` raises ("none" when it raises none), capped."""
    try:
        fn(*args, **kwargs)
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:200]
    return "none"
