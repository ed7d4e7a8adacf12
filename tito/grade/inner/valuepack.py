"""Named arrays as bytes and back: the one format the cases' values cross processes in.

A case's child hands its values to the case runner, the runner to the supervisor, the reference
process its answers to the supervisor, all as a value pack. The supervisor unpacks bytes that
student code may have written, so `unpack` trusts nothing: it refuses (ValueError, with the
reason) anything but numbers, booleans and strings (numpy kinds b, i, u, f, U), and never calls
pickle. It replaced `np.savez`/`np.load`, whose zip member and header per array cost about a
tenth of a millisecond each, some 45 ms per submission over its ~250 values on both sides.

Layout: MAGIC; the index's length (4 bytes, little-endian); the index, JSON
`[[name, dtype, shape], ...]`; then each array's bytes in index order, C order, each starting at
a multiple of ALIGN from the start of the data (zero padding between). Nothing may follow.

Standard library and numpy only: this file runs inside the sandbox too (copied beside
`run_cases.py`).
"""

from __future__ import annotations

import json
import math
import re
import struct

import numpy as np

MAGIC = b"TTVALUES1\n"
ALIGN = 8
KINDS = "biufU"  # bool, signed and unsigned integers, floats, unicode strings
DTYPE = re.compile(r"^[<>|=][biuf][1-9]$|^[<>|=]U[1-9][0-9]{0,7}$")  # dtype.str: '<f8', '|b1', '<U12'
MAX_DIMS = 32
MAX_SIZE = 2**40  # of one dimension (an empty array may still name a vast one)
_LENGTH = struct.Struct("<I")


def pack(values: dict[str, np.ndarray]) -> bytes:
    """The arrays of `values` (numbers, booleans, strings) as one value pack."""
    index, chunks, position = [], [], 0
    for name, value in values.items():
        array = np.asarray(value, order="C")  # (0-d stays 0-d, unlike ascontiguousarray)
        if array.dtype.kind not in KINDS:
            raise TypeError(f"value {name!r} has dtype {array.dtype}; a value pack holds numbers, booleans and strings")
        padding = -position % ALIGN
        chunks += [b"\0" * padding, array.tobytes()]
        position += padding + array.nbytes
        index.append([name, array.dtype.str, list(array.shape)])
    header = json.dumps(index, separators=(",", ":")).encode()
    start = len(MAGIC) + _LENGTH.size + len(header)
    lead = b"\0" * (-start % ALIGN)  # so that the first array starts aligned too
    return b"".join([MAGIC, _LENGTH.pack(len(header) + len(lead)), header, lead, *chunks])


def unpack(data: bytes, *, max_arrays: int) -> dict[str, np.ndarray]:
    """{name: read-only array} of a value pack; ValueError saying what is wrong with it otherwise."""
    data = memoryview(data)
    if bytes(data[:len(MAGIC)]) != MAGIC:
        raise ValueError("not a value pack (it does not start with the format's mark)")
    start = len(MAGIC) + _LENGTH.size
    if len(data) < start:
        raise ValueError("cut short before its index")
    (length,) = _LENGTH.unpack(data[len(MAGIC):start])
    if start + length > len(data):
        raise ValueError("cut short inside its index")
    index = _read_index(bytes(data[start:start + length]).rstrip(b"\0"), max_arrays)
    values, position, body = {}, 0, data[start + length:]
    for name, dtype, shape in index:
        position += -position % ALIGN
        count = math.prod(shape)
        end = position + count * dtype.itemsize
        if end > len(body):
            raise ValueError(f"{name}: its {count} values run past the end of the data")
        values[name] = np.frombuffer(body, dtype=dtype, count=count, offset=position).reshape(shape)
        position = end
    if position != len(body):
        raise ValueError(f"{len(body) - position} bytes after the last array")
    return values


def _read_index(text: bytes, max_arrays: int) -> list[tuple[str, np.dtype, tuple[int, ...]]]:
    try:
        index = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"its index is not JSON ({error})") from None
    if not isinstance(index, list):
        raise ValueError("its index is not a list")
    if len(index) > max_arrays:
        raise ValueError(f"it holds {len(index)} arrays (cap {max_arrays})")
    entries, seen = [], set()
    for entry in index:
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)):
            raise ValueError(f"index entry {str(entry)[:80]!r} is not [name, dtype, shape]")
        name, dtype, shape = entry
        if name in seen:
            raise ValueError(f"{name}: named twice")
        seen.add(name)
        entries.append((name, _dtype(name, dtype), _shape(name, shape)))
    return entries


def _dtype(name: str, text) -> np.dtype:
    if not isinstance(text, str) or not DTYPE.match(text):
        raise ValueError(f"{name}: dtype {str(text)[:40]!r} refused (numbers, booleans and strings only)")
    try:
        dtype = np.dtype(text)
    except TypeError:  # a size the kind does not come in ('<f3')
        raise ValueError(f"{name}: dtype {text!r} refused (not a numpy dtype)") from None
    if dtype.kind not in KINDS or dtype.hasobject or dtype.itemsize == 0:
        raise ValueError(f"{name}: dtype {text!r} refused (numbers, booleans and strings only)")
    return dtype


def _shape(name: str, shape) -> tuple[int, ...]:
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS
            or not all(type(n) is int and 0 <= n < MAX_SIZE for n in shape)):
        raise ValueError(f"{name}: shape {str(shape)[:80]} is not a list of at most {MAX_DIMS} sizes")
    return tuple(shape)
