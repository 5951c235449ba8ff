"""Assertions for visible tests that explain what went wrong.

Each check raises AssertionError with three parts a student can act on: what was
expected, what came instead, and the mistake that most often causes the difference.
They accept NumPy arrays, Python numbers and lists, and torch tensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._arrays import as_numpy, is_tensor, type_name

__all__ = [
    "check_type",
    "check_shape",
    "check_dtype_kind",
    "check_close",
    "check_equal",
    "check_finite",
    "check_choice",
]


def _fail(lines: list[str], hint: str | None = None) -> None:
    if hint:
        lines.append(f"Hint: {hint}")
    raise AssertionError("\n".join(lines))


def _not_none(value: Any, name: str) -> None:
    if value is None:
        _fail([f"`{name}` is None.",
               "Did your function forget a `return` statement, or return the result of an "
               "in-place operation (like list.sort())?"])


def _shape_of(value: Any) -> tuple[int, ...]:
    if is_tensor(value):
        return tuple(value.shape)
    return np.shape(value)


def _fmt_shape(shape: Sequence[int | None]) -> str:
    inner = ", ".join("any" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def _fmt_index(index: tuple[int, ...]) -> str:
    return str(index[0]) if len(index) == 1 else str(tuple(int(i) for i in index))


def check_type(value: Any, types: type | tuple[type, ...], name: str) -> None:
    """Assert isinstance(value, types)."""
    _not_none(value, name)
    if isinstance(value, types):
        return
    wanted = types if isinstance(types, tuple) else (types,)
    names = " or ".join(f"{t.__module__.split('.')[0] + '.' if t.__module__ != 'builtins' else ''}"
                        f"{t.__qualname__}" for t in wanted)
    hint = None
    if np.ndarray in wanted and isinstance(value, (list, tuple)):
        hint = "wrap it with np.array(...), or use NumPy operations instead of a Python loop."
    elif np.ndarray in wanted and is_tensor(value):
        hint = "this part works in NumPy; convert with .detach().cpu().numpy() or avoid torch here."
    elif is_tensor(value) and any(t in wanted for t in (float, int)):
        hint = "call .item() to turn a one-element tensor into a Python number."
    _fail([f"`{name}` should be a {names}, but it is a {type_name(value)}."], hint)


def _shape_hint(actual: tuple[int, ...], expected: Sequence[int | None]) -> str | None:
    if len(actual) == len(expected) == 2 and _matches(actual[::-1], expected):
        return "it looks transposed: check the order of the operands in your matrix product."
    if len(actual) == len(expected) + 1 and 1 in actual:
        return ("there is an extra axis of length 1: did you use keepdims=True, or index with "
                "a list instead of an int?")
    if len(actual) + 1 == len(expected):
        return ("one axis is missing: a reduction (sum, mean, max) without keepdims=True "
                "drops the axis it reduces over.")
    if len(actual) == len(expected) and np.prod(actual) == np.prod(
            [d if d is not None else a for d, a in zip(expected, actual, strict=True)]):
        return "the number of elements is right but the layout is not: check your reshape."
    return None


def _matches(actual: Sequence[int], expected: Sequence[int | None]) -> bool:
    return len(actual) == len(expected) and all(e is None or a == e for a, e in zip(actual, expected, strict=True))


def check_shape(value: Any, expected_shape: Sequence[int | None], name: str,
                hint: str | None = None) -> None:
    """Assert value's shape equals expected_shape; None in expected_shape matches any length."""
    _not_none(value, name)
    actual = _shape_of(value)
    if _matches(actual, tuple(expected_shape)):
        return
    _fail([f"`{name}` has the wrong shape.",
           f"  expected: {_fmt_shape(tuple(expected_shape))}",
           f"  got:      {_fmt_shape(actual)}"],
          hint or _shape_hint(actual, tuple(expected_shape)))


_KINDS = {
    "f": ("floating-point numbers", "f",
          "integer arrays truncate: did you create it with np.zeros(..., dtype=int) or from "
          "integer data? Use .astype(np.float64) before doing maths."),
    "i": ("integers", "iu",
          "labels and indices must be integers: np.argmax returns integers, np.max returns "
          "values; use .astype(np.int64) if you rounded floats yourself."),
    "b": ("booleans", "b", "a comparison such as scores > 0 gives booleans directly."),
}


def check_dtype_kind(value: Any, kind: str, name: str) -> None:
    """Assert the array's dtype is of `kind`: "f" floating, "i" integer (signed or unsigned), "b" bool."""
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of 'f', 'i', 'b'; got {kind!r}")
    _not_none(value, name)
    dtype = as_numpy(value).dtype
    words, accepted, hint = _KINDS[kind]
    if dtype.kind in accepted:
        return
    _fail([f"`{name}` should hold {words}, but its dtype is {dtype}."], hint)


def _guess(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str | None:
    """Name a likely mistake from how actual relates to expected, if it is a simple relation."""
    if np.allclose(actual, -expected, rtol=rtol, atol=atol):
        return "the values have the wrong sign: check the sign of your update or gradient."
    nz = np.abs(expected) > atol
    if actual.size > 1 and nz.any():  # with one number any mismatch is "a constant factor"
        ratio = actual[nz] / expected[nz]
        k = float(ratio.flat[0])
        if k != 0 and np.allclose(ratio, k, rtol=1e-6) and np.allclose(actual, k * expected, rtol=rtol, atol=atol):
            return (f"every value is {k:.6g} times the expected one: did you forget to divide by "
                    "N (average over the batch), or divide twice?")
    diff = actual - expected
    if diff.size > 1 and np.allclose(diff, diff.flat[0], rtol=0, atol=max(atol, 1e-9)) and diff.flat[0] != 0:
        return (f"every value is off by the same constant {float(diff.flat[0]):.6g}: a missing "
                "or extra bias / regularisation term?")
    return None


def check_close(actual: Any, expected: Any, name: str, *, rtol: float = 1e-6, atol: float = 1e-8,
                hint: str | None = None) -> None:
    """Assert |actual - expected| <= atol + rtol * |expected| elementwise (np.isclose).

    The message reports the shape first, then the largest absolute and relative
    errors, then the first differing index with both values, then the hint.
    """
    _not_none(actual, name)
    a = as_numpy(actual)
    e = as_numpy(expected)
    if a.shape != e.shape:
        _fail([f"`{name}` has the wrong shape.",
               f"  expected: {_fmt_shape(e.shape)}", f"  got:      {_fmt_shape(a.shape)}"],
              hint or _shape_hint(a.shape, e.shape))
    if a.dtype.kind not in "biuf" or e.dtype.kind not in "biuf":
        raise TypeError(f"check_close compares numbers; got dtypes {a.dtype} and {e.dtype}")
    a = a.astype(np.float64)
    e = e.astype(np.float64)
    close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return
    abs_err = np.abs(a - e)
    rel_err = abs_err / np.maximum(np.abs(e), 1e-300)
    first = tuple(np.argwhere(~close)[0]) if a.ndim else ()
    lines = [f"`{name}` is not close enough to the expected value.",
             f"  shape: {_fmt_shape(a.shape)} (as expected)",
             f"  max abs error: {np.nanmax(abs_err):.3g}, max relative error: {np.nanmax(rel_err):.3g}"
             f" (allowed: rtol={rtol:g}, atol={atol:g})"]
    if a.ndim:
        lines.append(f"  {int((~close).sum())} of {a.size} entries differ; first at index "
                     f"{_fmt_index(first)}: got {a[first]:.8g}, expected {e[first]:.8g}")
    else:
        lines.append(f"  got {float(a):.8g}, expected {float(e):.8g}")
    if np.isnan(a).any() and not np.isnan(e).any():
        hint = hint or "your result contains NaN: look for log(0), 0/0 or an overflowing exp."
    _fail(lines, hint or _guess(a, e, rtol, atol))


def check_equal(actual: Any, expected: Any, name: str, hint: str | None = None) -> None:
    """Assert exact equality, for integers, labels, counts and strings."""
    _not_none(actual, name)
    if isinstance(expected, (str, bool)) or expected is None:
        if actual != expected:
            _fail([f"`{name}` should be {expected!r}, but it is {actual!r}."], hint)
        return
    a = as_numpy(actual)
    e = as_numpy(expected)
    if a.shape != e.shape:
        _fail([f"`{name}` has the wrong shape.",
               f"  expected: {_fmt_shape(e.shape)}", f"  got:      {_fmt_shape(a.shape)}"],
              hint or _shape_hint(a.shape, e.shape))
    equal = a == e
    if np.all(equal):
        return
    if a.ndim == 0:
        _fail([f"`{name}` should be {e.item()!r}, but it is {a.item()!r}."], hint)
    first = tuple(np.argwhere(~equal)[0])
    _fail([f"`{name}` differs from the expected values in {int((~equal).sum())} of {a.size} entries.",
           f"  first at index {_fmt_index(first)}: got {a[first].item()!r}, expected {e[first].item()!r}"],
          hint)


def check_finite(value: Any, name: str) -> None:
    """Assert there is no NaN or infinity in value."""
    _not_none(value, name)
    a = as_numpy(value)
    if a.dtype.kind not in "fc":
        return  # integers and booleans cannot hold NaN or inf
    finite = np.isfinite(a)
    if finite.all():
        return
    n_nan = int(np.isnan(a).sum())
    n_inf = int((~finite).sum()) - n_nan
    where = f" (first at index {_fmt_index(tuple(np.argwhere(~finite)[0]))})" if a.ndim else ""
    _fail([f"`{name}` contains {n_nan} NaN and {n_inf} infinite value(s){where}."],
          "common causes are exp() overflowing (subtract the row max before exp in softmax), "
          "log(0) (add a small epsilon or use log-softmax) and a learning rate that is too large.")


def check_choice(answer: Any, options: str | Sequence[str], name: str) -> None:
    """Assert that ``answer`` is one of ``options`` (a string of letters, or a list of strings).

    Only the form is checked here: whether the choice is right is decided at grading,
    outside the notebook.
    """
    allowed = list(options)
    shown = ", ".join(f'"{o}"' for o in allowed)
    if not isinstance(answer, str) or answer.strip().lower() not in [o.lower() for o in allowed]:
        _fail([f"`{name}` should be one of {shown}; it is {answer!r}."],
              f'set it to one letter in quotes, e.g. {name} = "{allowed[0]}"')
