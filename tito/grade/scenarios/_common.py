"""What every scenario file shares: the registry decorator, the `tt` loader and value helpers.

Scenario files run inside the sandbox next to `inner/run_scenarios.py`, so this file (copied
beside them as `_common.py`) may use only the standard library and numpy, and it never imports
tinytorch itself: the runner hands each scenario a `TT` loader that imports the course modules
up to the one under grade, and no later ones.

A scenario asks one capability question and answers with VALUES (numbers, numeric or boolean
arrays, short strings) instead of asserting; the supervisor runs the same scenario on the
reference package and compares. So a scenario must be deterministic (local seeded generators
only, never numpy's global one), pure (no files, no network) and fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

# Course order (docs/curriculum.md): a scenario of module k may import modules 1..k only.
MODULES = {"tensor": 1, "activations": 2, "layers": 3, "losses": 4, "autograd": 5,
           "optimizers": 6, "training": 7}
PACKAGE = "tinytorch.core"


@dataclass(frozen=True)
class Scenario:
    """One registered scenario: its name, its points and how its values are compared."""

    name: str
    fn: Callable
    points: float
    rtol: float
    atol: float
    budget: float  # seconds of wall-clock time before the runner gives up on it

    def __call__(self, tt):
        return self.fn(tt)


def registry(scenarios: list) -> Callable:
    """A decorator that appends scenarios to `scenarios` (each file keeps its own list).

    Usage in a scenario file:

        SCENARIOS = []
        scenario = registry(SCENARIOS)

        @scenario(points=2, rtol=1e-10, atol=1e-12)
        def polynomial(tt): ...
    """

    def scenario(points: float, *, rtol: float = 1e-6, atol: float = 1e-9,
                 budget: float = 10.0, name: str | None = None):
        def register(fn):
            found = Scenario(name or fn.__name__, fn, float(points), float(rtol), float(atol), float(budget))
            if any(s.name == found.name for s in scenarios):
                raise ValueError(f"scenario {found.name!r} registered twice")
            scenarios.append(found)
            return fn

        return register

    return scenario


class TT:
    """`tt.tensor`, `tt.autograd`, ...: the course modules, imported on first use, up to `limit`."""

    def __init__(self, limit: int):
        self._limit = limit

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in MODULES:
            raise AttributeError(f"no course module called {name!r}")
        if MODULES[name] > self._limit:
            raise AttributeError(f"a scenario of module {self._limit:02d} may not use module "
                                 f"{MODULES[name]:02d} ({name})")
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
