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


def string_array(values: np.ndarray) -> pa.Array:
    """A UTF-8 Arrow string array from a numpy array of str (or objects, made str)."""
    text = values.astype(str) if values.dtype.kind != "U" else values
    encoded = np.char.encode(text, "utf-8")
    lengths = np.char.str_len(encoded).astype(np.int64)
    width = max(encoded.itemsize, 1)
    matrix = np.ascontiguousarray(encoded).view(np.uint8).reshape(encoded.size, -1) \
        if encoded.size else np.zeros((0, width), np.uint8)
    data = matrix[np.arange(matrix.shape[1])[None, :] < lengths[:, None]]
    large = int(lengths.sum()) >= 2**31
    offsets = np.zeros(encoded.size + 1, dtype=np.int64 if large else np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.large_string() if large else pa.string(), encoded.size,
                                 [None, pa.py_buffer(offsets), pa.py_buffer(data)])
