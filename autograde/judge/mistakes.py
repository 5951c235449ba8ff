"""Name the mistake: match a failed result against the results of known student bugs.

A signature is what one mutant (a real student mistake, with a ``why`` written for
students) returned on one hidden check, on this course's hidden inputs
(:mod:`autograde.run.mistakes` computes them). A student's failed result *matches*
a signature when the check's own comparison, with the signature in the reference's
place, would have passed it. Only value comparisons can match (``close``, ``equal``
and the analytic half of ``gradient``); a metric or an evaluated policy says
nothing about which bug caused it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import _compare_close
from .codec import decode

_MATCHABLE = {"close", "equal", "gradient"}


def _leaves(value: Any) -> list[np.ndarray]:
    if isinstance(value, tuple):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, (np.ndarray, np.generic)):
        return [np.asarray(value, dtype=np.float64).reshape(-1)]
    return []


def _distance(student: Any, signature: Any) -> float:
    """Relative distance between two results of the same structure (inf if they differ in shape)."""
    a, b = _leaves(student), _leaves(signature)
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        return float("inf")
    if not a:
        return 0.0
    x, y = np.concatenate(a), np.concatenate(b)
    with np.errstate(all="ignore"):  # inf and NaN results are compared too; equal ones are at distance 0
        gap = np.where((x == y) | (np.isnan(x) & np.isnan(y)), 0.0, np.abs(x - y) / np.maximum(1e-12, np.abs(x) + np.abs(y)))
    return float(np.nan_to_num(gap, nan=np.inf).max(initial=0.0))


def _matches(kind: str, spec: dict, student: Any, signature: Any) -> bool:
    rtol, atol = float(spec.get("rtol", 1e-6)), float(spec.get("atol", 1e-8))
    if kind == "gradient":
        if not (isinstance(student, tuple) and isinstance(signature, tuple) and student and signature):
            return False
        student, signature = student[0], signature[0]
    return _compare_close(student, signature, rtol, atol, exact=kind == "equal") is None


def known_mistakes(spec: dict, student: Any, signatures: list[dict]) -> list[dict]:
    """The signatures ``student`` matches, closest first; ties (the same mistake) all kept."""
    kind = "metric" if "metric" in spec else spec.get("kind", "close")
    if kind not in _MATCHABLE or not signatures:
        return []
    scored = []
    for signature in signatures:
        try:
            value = decode(signature["value"])
            if _matches(kind, spec, student, value):
                scored.append((_distance(student, value), signature))
        except Exception:  # noqa: BLE001 -- a signature the judge cannot use names nothing
            continue
    if not scored:
        return []
    best = min(distance for distance, _ in scored)
    return [s for distance, s in scored if distance <= best * (1 + 1e-9) + 1e-15]


def describe(matched: list[dict]) -> str:
    """One sentence for the student: the mistake, in the words written for students."""
    whys = list(dict.fromkeys(s["why"].rstrip(".") for s in matched))
    return "your result is exactly what a known mistake gives: " + "; or ".join(whys) + "."
