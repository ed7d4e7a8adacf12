"""The value pack: the format the cases' values cross processes in (`tito/grade/inner/valuepack.py`).

Round trips keep every dtype, shape and value it allows; everything else is refused with the
reason, and nothing in it is ever unpickled: the supervisor unpacks bytes student code wrote.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tito.grade.inner.valuepack import ALIGN, MAGIC, pack, unpack

DTYPES = st.sampled_from(["<f8", "<f4", "<f2", "<i8", "<i4", "|i1", "<u2", "|u1", "|b1", "<U7"])


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=20),
                       DTYPES.flatmap(lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0))),
                       max_size=6))
def test_a_round_trip_keeps_names_dtypes_shapes_and_values(values):
    back = unpack(pack(values), max_arrays=10)
    assert list(back) == list(values)
    for name, array in values.items():
        assert back[name].dtype == array.dtype and back[name].shape == array.shape
        np.testing.assert_array_equal(back[name], array)


def test_arrays_start_aligned_and_come_back_read_only():
    data = pack({"a": np.array([1], dtype=np.int8), "b": np.arange(3.0), "c": np.asfortranarray(np.ones((2, 3)))})
    back = unpack(data, max_arrays=3)
    assert all(array.ctypes.data % ALIGN == 0 or array.nbytes == 0 for array in back.values())
    assert not back["b"].flags.writeable and back["c"].flags.c_contiguous


def test_an_object_array_is_never_packed():
    with pytest.raises(TypeError) as refused:
        pack({"x": np.array([object()], dtype=object)})
    assert str(refused.value) == "value 'x' has dtype object; a value pack holds numbers, booleans and strings"


def forged(index, body: bytes = b"") -> bytes:
    """A pack with a hand-written index (as student code could write one)."""
    header = json.dumps(index).encode()
    return MAGIC + struct.pack("<I", len(header)) + header + body


@pytest.mark.parametrize("data, reason", [
    (b"PK\x03\x04", "not a value pack (it does not start with the format's mark)"),
    (MAGIC + b"\x01", "cut short before its index"),
    (MAGIC + struct.pack("<I", 99) + b"[]", "cut short inside its index"),
    (forged({"x": 1}), "its index is not a list"),
    (MAGIC + struct.pack("<I", 3) + b"[[[", "its index is not JSON (Expecting value: line 1 column 4 (char 3))"),
    (forged([["x", "<f8"]]), "index entry \"['x', '<f8']\" is not [name, dtype, shape]"),
    (forged([["x", "|O8", [1]]], bytes(8)), "x: dtype '|O8' refused (numbers, booleans and strings only)"),
    (forged([["x", "<V8", [1]]], bytes(8)), "x: dtype '<V8' refused (numbers, booleans and strings only)"),
    (forged([["x", "<M8", [1]]], bytes(8)), "x: dtype '<M8' refused (numbers, booleans and strings only)"),
    (forged([["x", "<f3", [1]]], bytes(8)), "x: dtype '<f3' refused (not a numpy dtype)"),
    (forged([["x", "<U0", [1]]]), "x: dtype '<U0' refused (numbers, booleans and strings only)"),
    (forged([["x", "<f8", [-1]]]), "x: shape [-1] is not a list of at most 32 sizes"),
    (forged([["x", "<f8", [1.5]]]), "x: shape [1.5] is not a list of at most 32 sizes"),
    (forged([["x", "<f8", [True]]]), "x: shape [True] is not a list of at most 32 sizes"),
    (forged([["x", "<f8", [0, 2**40]]]), "x: shape [0, 1099511627776] is not a list of at most 32 sizes"),
    (forged([["x", "<f8", [1] * 33]]), f"x: shape {str([1] * 33)[:80]} is not a list of at most 32 sizes"),
    (forged([["x", "<f8", [2]]], bytes(8)), "x: its 2 values run past the end of the data"),
    (forged([["x", "<f8", [1]], ["x", "<f8", [1]]], bytes(16)), "x: named twice"),
    (forged([["x", "<f8", [1]]], bytes(9)), "1 bytes after the last array"),
    (forged([["x", "<f8", []]] * 4), "it holds 4 arrays (cap 3)"),
])
def test_what_is_refused_and_why(data, reason):
    with pytest.raises(ValueError) as refused:
        unpack(data, max_arrays=3)
    assert str(refused.value) == reason
