"""Judging sequence models: is a language model causal?

A model that predicts the character at position t + 1 may read the characters up to t
and nothing after. The usual bug that breaks this is inputs and targets misaligned by
one, so the model is shown the very character it must predict; its loss then looks
wonderful. The hidden test hands the kernel pairs of words that share a prefix and
differ after it, and reports the model's predictions (log-probabilities, one row per
position) for both. The rows whose context lies inside the shared prefix are listed in
the reference's spec (``agree``); here they must be equal for the two words.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def check_causal(student: Any, reference: Any, spec: dict, profile: str) -> tuple[bool, str]:
    """student: (predictions for words A, predictions for words B), each (P, V); spec["agree"]: rows."""
    if not (isinstance(student, tuple) and len(student) == 2):
        return False, "expected the predictions for two sets of words"
    first, second = (np.asarray(v) for v in student)
    expected = tuple(np.asarray(reference[0]).shape)
    if first.shape != expected or second.shape != expected:
        return False, f"predictions have shapes {first.shape} and {second.shape}, expected {expected} for both"
    first, second = first.astype(np.float64), second.astype(np.float64)
    if not (np.all(np.isfinite(first)) and np.all(np.isfinite(second))):
        return False, "predictions contain NaN or inf"
    rows = np.asarray(spec["agree"], dtype=np.int64)
    gap = np.abs(first[rows] - second[rows]).max(axis=1)
    changed = gap > float(spec.get("atol", 1e-6))
    if changed.any():
        return False, (
            f"{int(changed.sum())} of {rows.size} predictions changed when only LATER characters changed "
            f"(first at row {int(rows[np.argmax(changed)])}): the model reads characters it should predict. "
            "Check that the inputs are the tokens BEFORE the targets (inputs = tokens[:, :-1], targets = tokens[:, 1:])."
        )
    return True, f"causal: {rows.size} predictions depend only on earlier characters"
