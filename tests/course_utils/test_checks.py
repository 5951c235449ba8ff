"""Teaching assertions for visible tests (course_utils.checks)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_utils.checks import (
    check_close,
    check_dtype_kind,
    check_equal,
    check_finite,
    check_shape,
    check_type,
)


def _message(call) -> str:
    with pytest.raises(AssertionError) as info:
        call()
    return str(info.value)


def test_check_type() -> None:
    check_type(np.zeros(2), np.ndarray, "X")
    check_type(3, (int, float), "n")
    msg = _message(lambda: check_type([1, 2], np.ndarray, "X"))
    assert "`X` should be a numpy.ndarray, but it is a list" in msg and "np.array" in msg
    msg = _message(lambda: check_type(torch.tensor(1.0), float, "loss"))
    assert "torch.Tensor" in msg and ".item()" in msg


def test_none_suggests_a_missing_return() -> None:
    for call in (lambda: check_shape(None, (2,), "W"), lambda: check_close(None, 1.0, "loss"),
                 lambda: check_type(None, int, "n")):
        assert "forget a `return`" in _message(call)


def test_check_shape_wildcards_and_hints() -> None:
    check_shape(np.zeros((5, 3)), (5, 3), "scores")
    check_shape(np.zeros((5, 3)), (None, 3), "scores")
    check_shape(torch.zeros(2, 4), (2, None), "t")
    check_shape([[1, 2, 3]], (1, 3), "nested list")
    msg = _message(lambda: check_shape(np.zeros((3, 5)), (5, 3), "scores"))
    assert "expected: (5, 3)" in msg and "got:      (3, 5)" in msg and "transposed" in msg
    assert "keepdims" in _message(lambda: check_shape(np.zeros(5), (5, 1), "s"))
    assert "extra axis" in _message(lambda: check_shape(np.zeros((5, 1)), (5,), "s"))
    assert "(any, 3)" in _message(lambda: check_shape(np.zeros((4, 2)), (None, 3), "s"))
    assert "did you" not in _message(lambda: check_shape(np.zeros((4, 2)), (None, 3), "s"))
    assert "my hint" in _message(lambda: check_shape(np.zeros(2), (3,), "s", hint="my hint"))


def test_check_dtype_kind() -> None:
    check_dtype_kind(np.zeros(2), "f", "x")
    check_dtype_kind(np.zeros(2, dtype=np.uint8), "i", "pixels")
    check_dtype_kind(torch.zeros(2, dtype=torch.int64), "i", "labels")
    check_dtype_kind(np.zeros(2) > 1, "b", "mask")
    msg = _message(lambda: check_dtype_kind(np.zeros(3), "i", "y_pred"))
    assert "should hold integers" in msg and "float64" in msg and "argmax" in msg
    assert "floating-point" in _message(lambda: check_dtype_kind(np.arange(3), "f", "x"))
    with pytest.raises(ValueError):
        check_dtype_kind(np.zeros(1), "x", "x")


def test_check_close_accepts_numbers_lists_and_tensors() -> None:
    check_close(1.0 + 1e-9, 1.0, "loss")
    check_close([1.0, 2.0], np.array([1.0, 2.0]), "v")
    check_close(torch.tensor([1.0, 2.0], requires_grad=True) * 1, [1.0, 2.0], "t")
    check_close(np.array([np.nan]), np.array([np.nan]), "both nan")


def test_check_close_message_order_and_content() -> None:
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    actual = expected.copy()
    actual[1, 0] = 3.5
    msg = _message(lambda: check_close(actual, expected, "out", hint="did you forget the bias?"))
    parts = ["shape: (2, 2)", "max abs error: 0.5", "index (1, 0): got 3.5, expected 3",
             "Hint: did you forget the bias?"]
    positions = [msg.index(p) for p in parts]
    assert positions == sorted(positions)
    assert "1 of 4 entries differ" in msg


def test_check_close_shape_mismatch_comes_first() -> None:
    msg = _message(lambda: check_close(np.zeros((3, 2)), np.zeros((2, 3)), "W"))
    assert "wrong shape" in msg and "max abs error" not in msg


def test_check_close_guesses_common_mistakes() -> None:
    x = np.array([1.0, -2.0, 3.0])
    assert "wrong sign" in _message(lambda: check_close(-x, x, "dx"))
    assert "divide by" in _message(lambda: check_close(x / 4, x, "loss"))
    assert "same constant" in _message(lambda: check_close(x + 0.3, x, "z"))
    assert "NaN" in _message(lambda: check_close(np.array([np.nan, 1.0]), np.array([0.0, 1.0]), "p"))
    # a single number gets no "constant factor" story
    assert "times the expected" not in _message(lambda: check_close(2.5, 2.0, "loss"))


@given(arrays(np.float64, st.integers(1, 6), elements=st.floats(-1e3, 1e3)))
def test_check_close_agrees_with_tolerances(x) -> None:
    check_close(x * (1 + 1e-9), x, "x")
    bumped = x.copy()
    bumped[0] += 1e-3 + 1e-5 * abs(x[0])  # well outside atol + rtol * |x|
    with pytest.raises(AssertionError, match="index 0"):
        check_close(bumped, x, "x")


def test_check_equal() -> None:
    check_equal(np.array([1, 2, 3]), [1, 2, 3], "labels")
    check_equal(torch.tensor([0, 1]), np.array([0, 1]), "pred")
    check_equal("relu", "relu", "name")
    check_equal(7, 7, "count")
    msg = _message(lambda: check_equal(np.array([0, 1, 2, 2]), [0, 1, 1, 2], "y_pred"))
    assert "1 of 4 entries" in msg and "index 2: got 2, expected 1" in msg
    assert "should be 4, but it is 5" in _message(lambda: check_equal(5, 4, "count"))
    assert "'relu'" in _message(lambda: check_equal("tanh", "relu", "name"))
    assert "wrong shape" in _message(lambda: check_equal([1, 2], [1, 2, 3], "v"))


def test_check_finite() -> None:
    check_finite(np.array([1.0, 2.0]), "x")
    check_finite(np.array([1, 2]), "ints")
    msg = _message(lambda: check_finite(np.array([1.0, np.nan, np.inf, np.nan]), "probs"))
    assert "2 NaN and 1 infinite" in msg and "index 1" in msg and "subtract the row max" in msg
    assert "1 NaN" in _message(lambda: check_finite(torch.tensor(float("nan")), "loss"))
