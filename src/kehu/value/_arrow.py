"""numpy -> Arrow without pyarrow's pandas check.

pa.array(), pa.scalar() and compute functions given Python scalars first ask whether the
input is a pandas object, and to ask they import pandas (0.3-0.5 s) if it is installed:
longer than kehu value needs to score 100k customers. Building arrays from their buffers
never asks.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_TYPES = {np.dtype(np.float64): pa.float64(), np.dtype(np.int64): pa.int64(),
          np.dtype(np.int32): pa.int32(), np.dtype(np.bool_): None}


def numeric_array(values: np.ndarray) -> pa.Array:
    """A float64 or int64/int32 Arrow array sharing the numpy array's memory."""
    values = np.ascontiguousarray(values)
    if values.dtype.kind == "f":
        values = values.astype(np.float64, copy=False)
    elif values.dtype.kind in "iu" and values.dtype not in _TYPES:
        values = values.astype(np.int64)
    arrow_type = _TYPES.get(values.dtype)
    if arrow_type is None:
        raise TypeError(f"no Arrow type for {values.dtype}")
    return pa.Array.from_buffers(arrow_type, values.size, [None, pa.py_buffer(values)])


def texts(values: np.ndarray) -> tuple[list[str], str]:
    """The values as a list of str (objects made str) and all of them joined."""
    items = values.tolist()
    try:
        return items, "".join(items)
    except TypeError:  # not all str
        items = [str(v) for v in items]
        return items, "".join(items)


def needs_quotes(values: np.ndarray) -> bool:
    """Whether some of the values, as text, holds a comma, a quote or a line break."""
    joined = texts(values)[1]
    return any(c in joined for c in (",", '"', "\n", "\r"))


def string_array(values: np.ndarray) -> pa.Array:
    """A UTF-8 Arrow string array from a numpy array of str (or objects, made str).

    Encoding each string and joining them is several times faster than numpy's fixed-width
    string functions on a million ids, and needs no more memory than the text itself."""
    items, joined = texts(values)
    lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
    try:
        data = joined.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: let the id that holds it say so
        data = b""
    del joined
    if len(data) != int(lengths.sum()):
        # Not all ASCII: characters and bytes differ, so encode the ids one by one. ASCII
        # ids (the usual C0000123) are encoded all at once, five times faster.
        encoded = [v.encode("utf-8") for v in items]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        data = b"".join(encoded)
        del encoded
    del items
    large = len(data) >= 2**31
    offsets = np.zeros(lengths.size + 1, dtype=np.int64 if large else np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.large_string() if large else pa.string(), lengths.size,
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])

