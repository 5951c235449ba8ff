"""Judging language models: the nll metric on grader-held targets, and the causality check."""

from __future__ import annotations

import numpy as np
import pytest

from autograde.judge.checks import judge_check
from autograde.judge.labels import load_labels


def _nll_entry(**bounds):
    return {"spec": {"metric": "nll", "labels": "names_val_next_chars", **bounds}, "value": None}


def test_nll_is_computed_by_the_grader_and_normalises_the_rows_itself():
    y = load_labels("names_val_next_chars")
    assert y.ndim == 1 and y.max() < 29
    uniform = np.zeros((len(y), 29))
    result = judge_check("nll", _nll_entry(max=3.0), uniform, "cpu")
    assert not result.passed and f"{np.log(29):.4f}" in result.message  # log 29 = 3.367 > 3.0
    # Unnormalised scores gain nothing: a constant added to a row changes no probability.
    assert f"{np.log(29):.4f}" in judge_check("nll", _nll_entry(), uniform - 5.0, "cpu").message


def test_nll_between_the_floor_and_the_target_passes_and_a_peeking_model_fails():
    y = load_labels("names_val_next_chars")
    confident = np.full((len(y), 29), -10.0)
    confident[np.arange(len(y)), y] = 0.0  # nearly all the probability on the true next character
    peeking = judge_check("nll", _nll_entry(max={"cpu": 2.2}, min=1.0), confident, "cpu")
    assert not peeking.passed and "below the required 1.0000" in peeking.message
    soft = np.log(np.full((len(y), 29), 0.85 / 28))
    soft[np.arange(len(y)), y] = np.log(0.15)
    result = judge_check("nll", _nll_entry(max={"cpu": 2.2}, min=1.0), soft, "cpu")  # −log 0.15 = 1.8971
    assert result.passed and "1.8971" in result.message, result.message
    assert not judge_check("nll", _nll_entry(max={"cpu": 1.8}, min=1.0), soft, "cpu").passed


@pytest.mark.parametrize("student, fragment", [
    (np.zeros((5, 29)), "one row of scores per label"),
    (np.zeros(5), "one row of scores per label"),
    (None, "one row of scores per label"),
])
def test_nll_refuses_predictions_of_the_wrong_shape(student, fragment):
    result = judge_check("nll", _nll_entry(max=3.0), student, "cpu")
    assert not result.passed and fragment in result.message


def test_nll_refuses_too_few_classes_and_nans():
    y = load_labels("names_val_next_chars")
    assert "one row of scores per label" in judge_check("nll", _nll_entry(), np.zeros((len(y), 5)), "cpu").message
    nan = np.zeros((len(y), 29))
    nan[3, 3] = np.nan
    assert "NaN" in judge_check("nll", _nll_entry(), nan, "cpu").message


def _causal_entry(rows, shape=(6, 4)):
    return {"spec": {"kind": "causal", "agree": rows}, "value": (np.zeros(shape), np.zeros(shape))}


def test_causal_passes_when_shared_prefix_rows_agree_and_later_rows_differ():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 4))
    b = a.copy()
    b[3:] += 1.0  # rows 3-5 see the changed characters
    result = judge_check("causal", _causal_entry([0, 1, 2]), (a, b), "cpu")
    assert result.passed, result.message


def test_causal_fails_a_model_that_reads_later_characters():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(6, 4))
    b = a.copy()
    b[2] += 1e-3  # row 2 should only see the shared prefix
    result = judge_check("causal", _causal_entry([0, 1, 2]), (a, b), "cpu")
    assert not result.passed and "row 2" in result.message and "tokens[:, :-1]" in result.message


@pytest.mark.parametrize("student, fragment", [
    (np.zeros((6, 4)), "two sets"),
    ((np.zeros((6, 4)), np.zeros((5, 4))), "expected (6, 4)"),
    ((np.zeros((6, 4)), np.full((6, 4), np.nan)), "NaN"),
])
def test_causal_refuses_malformed_results(student, fragment):
    result = judge_check("causal", _causal_entry([0]), student, "cpu")
    assert not result.passed and fragment in result.message
