"""Numerical gradients and gradient checks.

Centred differences, df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h), have error O(h^2)
instead of O(h) for one-sided ones. All arithmetic is in float64 on a copy of x:
in float32 the rounding error of f divided by h = 1e-6 would swamp the gradient.
`f` must compute from the array it is given (not from a captured global), because
it receives that float64 copy.

Entries whose true derivative is near zero cannot be resolved to a small *relative*
error: rounding in f contributes about 1e-16 * |f| / h ~ 1e-10 * |f| of absolute noise.
The checks therefore treat an entry whose absolute difference is at most `atol`
(default 1e-8) as agreeing, and apply the relative tolerance to the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._arrays import as_numpy

__all__ = [
    "numerical_gradient",
    "numerical_gradient_array",
    "rel_error",
    "GradCheckReport",
    "check_gradient",
    "sparse_gradient_check",
]

_TINY = 1e-12


def _float64_copy(x: Any) -> np.ndarray:
    return np.array(as_numpy(x), dtype=np.float64, copy=True)


def _centred_diff(f: Callable[[np.ndarray], Any], x: np.ndarray, index: tuple,
                  h: float, dout: np.ndarray | None = None) -> float:
    """One partial derivative at `index`; x is perturbed in place and restored."""
    old = x[index]
    x[index] = old + h
    f_plus = as_numpy(f(x), dtype=np.float64)
    x[index] = old - h
    f_minus = as_numpy(f(x), dtype=np.float64)
    x[index] = old
    if dout is None:
        return float((f_plus - f_minus).sum() / (2 * h))
    return float(((f_plus - f_minus) * dout).sum() / (2 * h))


def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, h: float = 1e-6) -> np.ndarray:
    """df/dx by centred differences for a scalar function f. x: any shape; result: x.shape, float64."""
    xc = _float64_copy(x)
    grad = np.zeros_like(xc)
    for index in np.ndindex(xc.shape):
        grad[index] = _centred_diff(f, xc, index, h)
    return grad


def numerical_gradient_array(f: Callable[[np.ndarray], Any], x: Any, dout: Any,
                             h: float = 1e-6) -> np.ndarray:
    """Gradient of sum(f(x) * dout) w.r.t. x, for an array-valued f (what a backward pass computes).

    dout: f(x).shape, the upstream gradient; result: x.shape, float64.
    """
    xc = _float64_copy(x)
    d = as_numpy(dout, dtype=np.float64)
    grad = np.zeros_like(xc)
    for index in np.ndindex(xc.shape):
        grad[index] = _centred_diff(f, xc, index, h, d)
    return grad


def _elementwise_rel_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), _TINY)


def rel_error(a: Any, b: Any) -> float:
    """max_i |a_i - b_i| / max(|a_i| + |b_i|, 1e-12).

    Scale-free above the floor (multiplying both by 1000 changes nothing), 0 for equal arrays and
    at most 1, reached when the entries have opposite signs or one is 0; so ~1 means
    unrelated and 1e-7 or less means "the same up to finite-difference noise". The
    1e-12 floor applies where |a_i| + |b_i| is below it: such entries (0 against 1e-16,
    say) are noise, so they are measured against 1e-12 rather than their own size, and
    only there is the error not scale-free.
    """
    a = as_numpy(a, dtype=np.float64)
    b = as_numpy(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs equal shapes, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(_elementwise_rel_error(a, b).max())


# Entries whose analytic and numeric values are both this small are finite-difference noise:
# their relative error says nothing, so it is not shown (the atol rule still judges them).
_SHOWN_FLOOR = 1e-6


@dataclass
class GradCheckReport:
    """Outcome of a gradient check.

    rel_error is the largest relative error (as in rel_error()) among the checked entries,
    shown as it is, even when tiny: about 1e-7 or less is what a correct float64 gradient
    gives, 1e-2 or more means a bug. Entries where both values are below 1e-6 are left out
    of it (their ratio is noise). passed: every entry agrees within tol relatively, or within
    atol absolutely. worst_index is where the largest error occurs, with both values there.
    """

    rel_error: float
    worst_index: tuple
    analytic: float
    numeric: float
    checked: int
    name: str = "gradient"
    tol: float = 1e-7
    atol: float = 1e-8
    passed: bool = True

    def __str__(self) -> str:
        verdict = "OK" if self.passed else "FAILED"
        return (
            f"{self.name}: {verdict}, relative error {self.rel_error:.1e} over {self.checked} entries "
            f"(tolerance {self.tol:.0e}; in float64 about 1e-7 or less is healthy, 1e-2 or more means a bug); "
            f"worst at index {self.worst_index}: analytic {self.analytic:.8g}, numeric {self.numeric:.8g}"
        )


def _compare(analytic: np.ndarray, numeric: np.ndarray, indices: list[tuple],
             name: str, tol: float, atol: float) -> GradCheckReport:
    errors = [float(_elementwise_rel_error(analytic[i], numeric[i])) for i in indices]
    # The verdict: an entry fails when it differs by more than atol AND by more than tol relatively.
    failing = [k for k, i in enumerate(indices) if abs(analytic[i] - numeric[i]) > atol and errors[k] > tol]
    shown = [k for k, i in enumerate(indices) if abs(analytic[i]) + abs(numeric[i]) >= _SHOWN_FLOOR]
    candidates = failing or shown
    worst = max(candidates, key=lambda k: errors[k]) if candidates else None
    index = indices[worst] if worst is not None else (indices[0] if indices else ())
    report = GradCheckReport(
        rel_error=errors[worst] if worst is not None else 0.0,
        worst_index=tuple(int(i) for i in index),
        analytic=float(analytic[index]) if indices else 0.0,
        numeric=float(numeric[index]) if indices else 0.0,
        checked=len(indices),
        name=name,
        tol=tol,
        atol=atol,
        passed=not failing,
    )
    if not report.passed:
        raise AssertionError(
            f"{report}\nThe analytic {name} disagrees with centred differences. Check the "
            f"backward formula for the entries around index {report.worst_index}."
        )
    return report


def _prepare(x: Any, analytic: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    xc = _float64_copy(x)
    grad = as_numpy(analytic, dtype=np.float64)
    if grad.shape != xc.shape:
        raise AssertionError(
            f"{name} has shape {grad.shape} but the input has shape {xc.shape}; "
            "a gradient always has the same shape as the thing it differentiates with respect to."
        )
    return xc, grad


def check_gradient(f: Callable[[np.ndarray], Any], x: Any, analytic: Any, *, tol: float = 1e-7,
                   h: float = 1e-6, name: str = "gradient", atol: float = 1e-8) -> GradCheckReport:
    """Compare `analytic` with numerical_gradient(f, x, h) on every entry.

    Raises AssertionError naming the worst index and both values when an entry's
    relative error exceeds tol (entries that differ by at most atol always pass).
    """
    xc, grad = _prepare(x, analytic, name)
    numeric = numerical_gradient(f, xc, h)
    return _compare(grad, numeric, list(np.ndindex(xc.shape)), name, tol, atol)


def sparse_gradient_check(f: Callable[[np.ndarray], Any], x: Any, analytic: Any, *,
                          num_checks: int = 20, seed: int = 0, h: float = 1e-6, tol: float = 1e-7,
                          name: str = "gradient", atol: float = 1e-8) -> GradCheckReport:
    """Like check_gradient, but only at `num_checks` distinct random entries.

    For large weight matrices, where every entry would cost two forward passes.
    """
    xc, grad = _prepare(x, analytic, name)
    rng = np.random.RandomState(seed)
    flat = rng.choice(xc.size, size=min(num_checks, xc.size), replace=False)
    indices = [tuple(int(i) for i in np.unravel_index(k, xc.shape)) for k in flat]
    numeric = np.zeros_like(xc)
    for index in indices:
        numeric[index] = _centred_diff(f, xc, index, h)
    return _compare(grad, numeric, indices, name, tol, atol)
