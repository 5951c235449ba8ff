"""The comparisons behind every hidden check.

Each takes the reference's value and spec (trusted: produced by the reference
solution when the course was built) and the student's value (decoded, still
only data) and returns a :class:`CheckResult`. Messages say which check
failed and how (shape, relative error, index) but never the expected values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_utils.gradcheck import rel_error

from .labels import load_labels
from .policy import check_policy
from .sequence import check_causal


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    message: str
    weight: float = 1.0
    flag: str | None = None  # for the instructor: a result that passed but deserves a look
    mistakes: tuple[str, ...] = ()  # the known mistakes (mutant names) a failed result matches
    mistake: str | None = None  # ... and the sentence that names it for the student
    gate: bool = False  # a condition, not an achievement: costs its weight when failed, earns nothing passed


def _profile_value(bound: Any, profile: str) -> float | None:
    if isinstance(bound, dict):
        bound = bound.get(profile)
    return None if bound is None else float(bound)


def _as_array(value: Any) -> np.ndarray | None:
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    return None


def _describe_shape(value: Any) -> str:
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    array = _as_array(value)
    if array is None:
        return type(value).__name__
    return f"shape {array.shape}" if array.shape else "a scalar"


def _compare_close(student: Any, reference: Any, rtol: float, atol: float, exact: bool, where: str = "") -> str | None:
    """None when equal within tolerance, else what differs (without the expected values)."""
    if isinstance(reference, tuple):
        if not isinstance(student, tuple) or len(student) != len(reference):
            return f"returned {_describe_shape(student)}{where}, expected a tuple of {len(reference)}"
        for i, (s, r) in enumerate(zip(student, reference)):
            problem = _compare_close(s, r, rtol, atol, exact, where=f" in item {i}")
            if problem:
                return problem
        return None
    ref, got = _as_array(reference), _as_array(student)
    if ref is None:
        return None if student == reference else f"returned a different value{where}"
    if got is None:
        return f"returned {_describe_shape(student)}{where}, expected {_describe_shape(reference)}"
    if got.shape != ref.shape:
        return f"returned {_describe_shape(got)}{where}, expected {_describe_shape(ref)}"
    if ref.dtype.kind in "iub" and got.dtype.kind == "f":
        return f"returned floats{where} where whole numbers (labels, counts) were expected"
    got64, ref64 = got.astype(np.float64), ref.astype(np.float64)
    if not np.all(np.isfinite(got64)) and np.all(np.isfinite(ref64)):
        return f"result{where} contains NaN or inf"
    if got.size == 0:
        return None
    # Where the expected value is inf or NaN, only the same inf or a NaN agrees (arithmetic
    # on inf gives NaN, which compares as "no difference" below); elsewhere, compare numbers.
    special = ~np.isfinite(ref64)
    if special.any():
        same = (got64 == ref64) | (np.isnan(got64) & np.isnan(ref64))
        if not same[special].all():
            index = tuple(int(i) for i in np.argwhere(special & ~same)[0])
            return f"result{where} is finite where inf or NaN was expected, or the reverse (first at index {index})"
        got64, ref64 = np.where(special, 0.0, got64), np.where(special, 0.0, ref64)
    if not np.all(np.isfinite(got64)):
        return f"result{where} contains NaN or inf"
    if exact:
        wrong = got64 != ref64
        if wrong.any():
            index = tuple(int(i) for i in np.argwhere(wrong)[0])
            return f"{int(wrong.sum())} of {wrong.size} entries{where} differ from the reference (first at index {index})"
        return None
    excess = np.abs(got64 - ref64) - (atol + rtol * np.abs(ref64))
    if (excess > 0).any():
        worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
        index = tuple(int(i) for i in worst)
        return (
            f"values{where} differ from the reference solution: relative error "
            f"{rel_error(got64, ref64):.1e} (allowed about {rtol:.0e}), worst at index {index}"
        )
    return None


def _check_close(student, reference, spec, profile) -> tuple[bool, str]:
    problem = _compare_close(
        student, reference, float(spec.get("rtol", 1e-6)), float(spec.get("atol", 1e-8)), exact=False
    )
    return problem is None, problem or "matches the reference solution"


def _check_equal(student, reference, spec, profile) -> tuple[bool, str]:
    problem = _compare_close(student, reference, 0.0, 0.0, exact=True)
    return problem is None, problem or "matches the reference solution"


def _check_gradient(student, reference, spec, profile) -> tuple[bool, str]:
    if not (isinstance(student, tuple) and len(student) == 5):
        return False, "the gradient check produced malformed data"
    analytic, index, plus, minus, h = (np.asarray(v, dtype=np.float64) for v in student)
    problem = _compare_close(
        analytic, reference[0], float(spec.get("rtol", 1e-6)), float(spec.get("atol", 1e-8)), exact=False
    )
    if problem:
        return False, f"gradient {problem.replace('values', 'entries')}"
    # Centred differences of the student's own loss, formed here in float64.
    ref_index, ref_h = np.asarray(reference[1]), float(reference[4])
    if index.shape != ref_index.shape or not np.array_equal(index, ref_index) or float(h) != ref_h:
        return False, "the gradient check was run at other points than asked"
    if plus.shape != index.shape or minus.shape != index.shape:
        return False, "the gradient check produced malformed data"
    numeric = (plus - minus) / (2 * ref_h)
    checked = analytic.reshape(-1)[ref_index.astype(np.int64)]
    # As in course_utils.check_gradient: entries that agree to within numeric_atol count as
    # agreeing, so a gradient that is nearly zero somewhere is not failed on rounding noise.
    differ = np.abs(checked - numeric) > float(spec.get("numeric_atol", 1e-8))
    error = rel_error(checked[differ], numeric[differ]) if differ.any() else 0.0
    tol = float(spec.get("numeric_tol", 1e-5))
    if not np.isfinite(error) or error > tol:
        return False, (
            f"gradient disagrees with the numerical gradient of your own loss: relative error "
            f"{error:.1e} (allowed {tol:.0e})"
        )
    return True, f"gradient matches the reference and the numerical gradient (relative error {error:.1e})"


_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": lambda pred, y: float(np.mean(pred == y)),
    "mse": lambda pred, y: float(np.mean((pred.astype(np.float64) - y) ** 2)),
    "nll": lambda scores, y: _mean_nll(scores, y),
}
# Metrics whose predictions are one row of scores per label, (N, V), rather than one value each.
_ROW_METRICS = {"nll"}


def _mean_nll(scores: np.ndarray, y: np.ndarray) -> float:
    """Mean −log softmax(scores)[y] in nats. The rows are normalised here, so unnormalised scores gain nothing."""
    s = scores.astype(np.float64)
    top = s.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(s - top).sum(axis=1))
    return float(np.mean(log_z - s[np.arange(len(y)), y]))


def _check_metric(student, reference, spec, profile) -> tuple[bool, str]:
    metric = str(spec["metric"])
    labels = load_labels(str(spec["labels"]))
    predictions = _as_array(student)
    if metric in _ROW_METRICS:
        if predictions is None or predictions.ndim != 2 or len(predictions) != len(labels) \
                or predictions.shape[1] <= int(labels.max(initial=0)):
            return False, (f"predictions have {_describe_shape(student)}, expected one row of scores per "
                           f"label: shape ({len(labels)}, number of classes)")
    elif predictions is None or predictions.shape != labels.shape:
        return False, f"predictions have {_describe_shape(student)}, expected shape {labels.shape}"
    if not np.all(np.isfinite(predictions.astype(np.float64))):
        return False, "predictions contain NaN or inf"
    score = _METRICS[metric](predictions, labels)
    low, high = _profile_value(spec.get("min"), profile), _profile_value(spec.get("max"), profile)
    if low is not None and not score >= low:
        return False, f"{metric} {score:.4f} is below the required {low:.4f} ({profile} profile)"
    if high is not None and not score <= high:
        return False, f"{metric} {score:.4f} is above the allowed {high:.4f} ({profile} profile)"
    message = f"{metric} {score:.4f} meets the {profile} profile's target"
    # Beyond what an honest model of this task reaches: memorised evaluation data, or a leak.
    plausible = _profile_value(spec.get("plausible_max"), profile)
    if plausible is not None and score > plausible:
        return True, message, (f"{metric} {score:.4f} is above the {plausible:.4f} that models of this task "
                               "reach honestly; look at how this submission got it")
    return True, message


def _check_choice(student, reference, spec, profile) -> tuple[bool, str]:
    # The message never names the right letter: feedback goes back to students.
    if not isinstance(student, str):
        return False, "the answer is not a letter"
    return (True, "right answer") if student == reference else (False, f"{student!r} is not the right answer")


_KINDS = {"close": _check_close, "choice": _check_choice, "equal": _check_equal, "gradient": _check_gradient, "metric": _check_metric}
_KINDS["causal"] = check_causal  # sequence.py: a prediction must not depend on later characters
_KINDS["policy"] = check_policy  # policy.py: the grader plays a CartPole policy from its weights, on secret seeds


def judge_check(name: str, reference: dict, student_value: Any, profile: str) -> CheckResult:
    """Judge one decoded student value against the reference entry ``{"spec", "value"}``."""
    spec = reference["spec"]
    kind = "metric" if "metric" in spec else spec.get("kind", "close")
    passed, message, *flag = _KINDS[kind](student_value, reference["value"], spec, profile)
    return CheckResult(name, passed, message, float(spec.get("weight", 1.0)), flag[0] if flag else None)
