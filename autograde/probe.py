"""Kernel side of the grading contract: hand results out as plain data.

Hidden tests call :func:`report` or :func:`report_gradient`. They never
decide anything: they compute the student's result on inputs the student has
not seen and display it under a private MIME type. The grader reads those
outputs in its own process and compares them with the reference solution's.

Only JSON goes out: numbers, strings, and arrays as ``{"dtype", "shape",
"data"}`` with base64 bytes. Nothing is pickled and no live object leaves
the kernel, so an object that lies about equality has nothing to lie to.
This module must stay importable with NumPy alone.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np

MIME_TYPE = "application/vnd.dl-course.probe+json"

# Hidden inputs are drawn per course: `autograde build` starts every hidden-test block of
# a course's source notebook with ``set_course_salt(S)``, S derived from that course's
# secret, so each new course run (each cohort) gets new hidden inputs, and the reference
# is computed on the same draw. Outside a built course (benchmarks, tests) S is 0.
_course_salt = 0

# Numeric dtypes the grader accepts; anything else (object arrays, strings) is refused there.
_ARRAY_KINDS = "biuf"


def encode(value: Any) -> Any:
    """Turn a result into JSON-able data: numbers, strings, lists of those, or arrays."""
    value = encode_ready(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(f"returned an array of dtype {value.dtype}, expected numbers")
        array = np.array(value, order="C", copy=True)  # ascontiguousarray would turn 0-d into 1-d
        return {
            "__ndarray__": True,
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "data": base64.b64encode(array.tobytes()).decode("ascii"),
        }
    if isinstance(value, (tuple, list)):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, str):
        return value
    if value is None:
        return None
    raise TypeError(f"returned a {type(value).__name__}, expected a number or an array")


def set_course_salt(salt: int) -> None:
    """Fix the course's draw of hidden inputs (written into hidden tests by the build)."""
    global _course_salt
    _course_salt = int(salt)


def hidden_seed(n: int) -> int:
    """Seed number ``n`` of this course's hidden inputs: a 32-bit int, new for each course."""
    return int(np.random.SeedSequence([_course_salt, int(n)]).generate_state(1)[0])


def hidden_rng(n: int) -> np.random.Generator:
    """A NumPy generator for hidden input ``n``: ``np.random.default_rng(hidden_seed(n))``."""
    return np.random.default_rng(hidden_seed(n))


def _emit(payload: dict) -> None:
    from IPython.display import display

    display({MIME_TYPE: payload, "text/plain": f"[result for hidden check {payload['check']!r}]"}, raw=True)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def report(check: str, compute: Callable[[], Any], **spec: Any) -> None:
    """Run ``compute()`` and hand its result to the grader under the name ``check``.

    ``spec`` says how the grader should judge it (``rtol``, ``metric`` ...). The
    grader reads it only from the reference solution's run, never from a
    student's, so a student cannot loosen a tolerance.
    """
    payload: dict[str, Any] = {"check": check, "spec": spec}
    try:
        payload["value"] = encode(compute())
    except Exception as exc:  # the student's bug becomes a failed check, not a crash
        payload["error"] = _describe(exc)
    _emit(payload)


def report_gradient(
    check: str,
    f: Callable[[np.ndarray], Any],
    grad: Callable[[np.ndarray], Any],
    x: np.ndarray,
    *,
    h: float = 1e-6,
    num_checks: int | None = None,
    seed: int = 0,
    **spec: Any,
) -> None:
    """Hand out an analytic gradient and the loss at x ± h·e_i, for a numerical check.

    The grader forms the centred differences (f(x+h e_i) − f(x−h e_i)) / 2h in
    its own process and compares them with ``grad(x)``; it also compares
    ``grad(x)`` with the reference gradient. ``num_checks`` limits the check to
    that many random coordinates of a large ``x``.
    """
    x = np.array(x, dtype=np.float64)
    if num_checks is None or num_checks >= x.size:
        flat = np.arange(x.size)
    else:
        flat = np.random.default_rng(seed).choice(x.size, size=num_checks, replace=False)

    def compute():
        analytic = np.asarray(encode_ready(grad(x.copy())), dtype=np.float64)
        plus, minus = [], []
        for i in flat:
            step = np.zeros(x.size)
            step[i] = h
            plus.append(float(f(x + step.reshape(x.shape))))
            minus.append(float(f(x - step.reshape(x.shape))))
        return (analytic, np.array(flat), np.array(plus), np.array(minus), np.float64(h))

    report(check, compute, kind="gradient", **spec)


def encode_ready(value: Any) -> Any:
    """Detach a torch tensor so NumPy can read it; leave anything else alone."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def _array_leaves(value: Any) -> list:
    """Every array (or tensor) inside ``value``, in a fixed order: tuples, lists and dicts opened."""
    value = encode_ready(value)
    if isinstance(value, np.ndarray):
        return [value.copy()]
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _array_leaves(item)]
    if isinstance(value, dict):
        return [leaf for key in sorted(value, key=str) for leaf in _array_leaves(value[key])]
    return []


def report_call(check: str, fn: Callable[..., Any], *args: Any, own_inputs: bool = False, **spec: Any) -> None:
    """Report ``fn(*args)`` as ``check``, and whether ``fn`` keeps its hands off its inputs.

    Three results go to the grader, each compared there with the reference's:

    - ``check``: the result of ``fn(*args)``;
    - ``check`` + " (called again)": the result of a second call on the *same* objects,
      so a backward pass that overwrote its cache on the first call is caught;
    - ``check`` + ": inputs unchanged": every array inside ``args`` (caches included)
      after both calls, compared exactly with the reference's (its inputs, untouched).

    ``own_inputs=True`` is for arguments the student's own code made (a cache from their
    forward pass): those differ from the reference's by rounding, or in structure, so the
    third result is instead the number of input arrays whose bytes changed during the two
    calls (the reference's: 0).

    Pass fresh arrays: ``args`` are used as they are, not copied. The third result is a
    gate: leaving the inputs alone earns nothing by itself (a wrong function that happens
    not to touch them gets no credit for it), changing them costs its share.
    """
    before = [np.array(leaf, copy=True) for leaf in _array_leaves(args)] if own_inputs else []
    report(check, lambda: fn(*args), **spec)
    report(f"{check} (called again)", lambda: fn(*args), **spec)
    if own_inputs:
        # Bytes, not ==: NaN-safe, and nothing a student can overload (np.array drops subclasses).
        report(f"{check}: inputs unchanged",
               lambda: sum(np.array(a, copy=True).tobytes() != b.tobytes() or np.shape(a) != b.shape
                           for a, b in zip(_array_leaves(args), before)), kind="equal", gate=True)
    else:
        report(f"{check}: inputs unchanged", lambda: tuple(_array_leaves(args)), kind="equal", gate=True)


def report_choice(check: str, answer: Any) -> None:
    """Hand a multiple-choice answer (a letter) to the grader, which compares it with the reference's.

    The right letter is only in the reference solution's run, outside the student's kernel;
    case and surrounding spaces do not matter.
    """
    report(check, lambda: answer.strip().lower() if isinstance(answer, str) else answer, kind="choice")
