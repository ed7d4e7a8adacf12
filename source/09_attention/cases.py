"""The spec of 09_attention: its cases, each bound to a graded cell by grade id.

attention-double-test (double): a public case (what its visible test asserts) and a hidden one;
these carry no points: the cell scores its 10 when its test passes and all its cases agree. The
checkpoint cell, attention-checkpoint, is scored case by case: its cases' points add up to its 20.

Uses `tt.attention` (under grade). See source/AUTHORING.md.
"""

import numpy as np

from casekit import arr, registry

CASES = []
case = registry(CASES)


@case("attention-double-test")
def double_values(tt, rng):
    x = rng.standard_normal(5).astype(np.float32)
    return {"double(x)": arr(tt.attention.double(x)), "dtype": str(tt.attention.double([1, 2]).dtype)}


@case("attention-double-test", hidden=True)
def double_any_shape(tt, rng):
    return {"double of a matrix": arr(tt.attention.double(rng.standard_normal((3, 4))))}


@case("attention-checkpoint", points=15)
def checkpoint_double(tt, rng):
    return {"double(arange)": arr(tt.attention.double(np.arange(float(rng.integers(2, 9)))))}


@case("attention-checkpoint", points=5)
def checkpoint_double_numbers(tt, rng):
    return {"double(number)": arr(tt.attention.double(float(rng.uniform(-10, 10))))}
