"""Decode what a kernel handed out, trusting nothing about it."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np

_ALLOWED_KINDS = "biuf"
MAX_ELEMENTS = 50_000_000


class DecodeError(ValueError):
    """A result that is not well-formed plain data."""


def decode(data: Any, *, depth: int = 0) -> Any:
    """Inverse of :func:`autograde.probe.encode`, with every field validated."""
    if depth > 8:
        raise DecodeError("result is nested too deeply")
    if data is None or isinstance(data, (bool, str)):
        return data
    if isinstance(data, (int, float)):
        return np.float64(data)
    if not isinstance(data, dict):
        raise DecodeError(f"unexpected {type(data).__name__} in result")
    if "__tuple__" in data:
        items = data["__tuple__"]
        if not isinstance(items, list):
            raise DecodeError("malformed tuple")
        return tuple(decode(item, depth=depth + 1) for item in items)
    if data.get("__ndarray__") is not True:
        raise DecodeError("result is neither a number nor an array")
    try:
        dtype = np.dtype(str(data["dtype"]))
        shape = tuple(int(n) for n in data["shape"])
        raw = base64.b64decode(str(data["data"]), validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise DecodeError(f"malformed array ({exc})") from None
    if dtype.kind not in _ALLOWED_KINDS or dtype.hasobject:
        raise DecodeError(f"array of dtype {dtype} is not numeric")
    if any(n < 0 for n in shape) or int(np.prod(shape, dtype=np.int64)) > MAX_ELEMENTS:
        raise DecodeError(f"array shape {shape} is not allowed")
    if len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise DecodeError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
