"""Numerical gradients and gradient checks (course_utils.gradcheck), against torch autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_utils.gradcheck import (
    GradCheckReport,
    check_gradient,
    numerical_gradient,
    numerical_gradient_array,
    rel_error,
    sparse_gradient_check,
)

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
shapes = st.tuples(st.integers(1, 4), st.integers(1, 4))


@st.composite
def array_pairs(draw):
    shape = draw(shapes)
    return draw(arrays(np.float64, shape, elements=finite)), draw(arrays(np.float64, shape, elements=finite))


@given(array_pairs())
def test_rel_error_is_symmetric_and_bounded(pair) -> None:
    a, b = pair
    assert rel_error(a, b) == rel_error(b, a)
    assert 0.0 <= rel_error(a, b) <= 1.0


@given(arrays(np.float64, shapes, elements=finite))
def test_rel_error_is_zero_on_equal_arrays(a) -> None:
    assert rel_error(a, a.copy()) == 0.0


@given(array_pairs(), st.floats(1e-3, 1e3))
def test_rel_error_is_scale_free(pair, k: float) -> None:
    a, b = pair
    # Scale-free above the 1e-12 floor (pairs that are both exactly 0 included); below it the floor
    # decides, by design (see test_rel_error_floor_is_absolute). k >= 1e-3 keeps 1e-9 above the floor.
    size = np.abs(a) + np.abs(b)
    assume(np.all((size == 0) | (size >= 1e-9)))
    assert rel_error(k * a, k * b) == pytest.approx(rel_error(a, b), abs=1e-9)


def test_rel_error_floor_is_absolute() -> None:
    # Entries whose sizes add up to less than 1e-12 are divided by 1e-12, not by their own size:
    # a numerical gradient of 1e-16 against an analytic 0 is noise, not a 100 % error.
    assert rel_error(np.array([0.0]), np.array([1e-16])) == pytest.approx(1e-4)
    assert rel_error(np.array([0.0]), np.array([0.0])) == 0.0


def test_rel_error_examples() -> None:
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 4e-6])) == pytest.approx(1e-6, rel=1e-6)
    assert rel_error([1.0], [-1.0]) == 1.0  # opposite signs: unrelated
    assert rel_error([0.0], [0.0]) == 0.0
    with pytest.raises(ValueError, match="equal shapes"):
        rel_error(np.zeros(3), np.zeros(4))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_numerical_gradient_of_random_quadratics(n: int, seed: int) -> None:
    rng = np.random.RandomState(seed)
    A = rng.randn(n, n)
    b = rng.randn(n)
    x = rng.uniform(-5, 5, size=n)
    f = lambda v: 0.5 * v @ A @ v + b @ v
    exact = 0.5 * (A + A.T) @ x + b
    np.testing.assert_allclose(numerical_gradient(f, x), exact, rtol=1e-6, atol=1e-6)


def _softmax_loss(W, X, y):
    scores = X @ W  # (N, C)
    scores = scores - scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(y)), y].mean()


TORCH_CASES = {
    "softmax cross-entropy": (
        lambda W, X, y: _softmax_loss(W, X, y),
        lambda W, X, y: torch.nn.functional.cross_entropy(X @ W, y),
    ),
    "tanh layer": (
        lambda W, X, y: np.tanh(X @ W).sum() ** 2 / 10,
        lambda W, X, y: torch.tanh(X @ W).sum() ** 2 / 10,
    ),
    "sigmoid + L2": (
        lambda W, X, y: (1 / (1 + np.exp(-(X @ W)))).mean() + 0.1 * (W**2).sum(),
        lambda W, X, y: torch.sigmoid(X @ W).mean() + 0.1 * (W**2).sum(),
    ),
}


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradients_match_torch_autograd(case: str, seed: int) -> None:
    f_np, f_torch = TORCH_CASES[case]
    rng = np.random.RandomState(seed)
    X = rng.randn(6, 4)
    W = rng.randn(4, 3)
    y = rng.randint(0, 3, size=6)
    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    f_torch(Wt, torch.tensor(X), torch.tensor(y)).backward()
    report = check_gradient(lambda w: f_np(w, X, y), W, Wt.grad.numpy(), tol=1e-7, name=case)
    assert report.checked == W.size and report.rel_error <= 1e-7


@pytest.mark.parametrize("seed", [0, 1])
def test_numerical_gradient_array_matches_torch(seed: int) -> None:
    rng = np.random.RandomState(seed)
    x = rng.randn(5, 4)
    W = rng.randn(4, 3)
    dout = rng.randn(5, 3)
    xt = torch.tensor(x, requires_grad=True)
    (dx_torch,) = torch.autograd.grad(torch.tanh(xt @ torch.tensor(W)), xt, torch.tensor(dout))
    dx = numerical_gradient_array(lambda v: np.tanh(v @ W), x, dout)
    assert rel_error(dx, dx_torch.numpy()) < 1e-7


def test_input_is_left_untouched_and_float32_is_upcast() -> None:
    x = np.array([[0.5, -1.25], [2.0, 3.0]], dtype=np.float32)
    before = x.copy()
    seen_dtypes = set()

    def f(v):
        seen_dtypes.add(v.dtype)
        return (v**2).sum()

    grad = numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    assert seen_dtypes == {np.dtype(np.float64)} and grad.dtype == np.float64
    np.testing.assert_allclose(grad, 2 * before, rtol=1e-8)


def test_torch_tensor_input_and_output() -> None:
    x = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    grad = numerical_gradient(lambda v: torch.as_tensor(v).pow(3).sum(), x)
    np.testing.assert_allclose(grad, 3 * x.numpy() ** 2, rtol=1e-7)


def test_wrong_gradient_reports_the_worst_index() -> None:
    rng = np.random.RandomState(0)
    x = rng.randn(4, 3)
    grad = np.cos(x)
    grad[2, 1] += 0.5  # one wrong entry
    with pytest.raises(AssertionError) as info:
        check_gradient(lambda v: np.sin(v).sum(), x, grad, name="dx")
    message = str(info.value)
    assert "dx" in message and "(2, 1)" in message and "FAILED" in message
    assert f"{grad[2, 1]:.8g}" in message and f"{np.cos(x[2, 1]):.8g}" in message


def test_report_for_a_correct_gradient() -> None:
    x = np.linspace(-1, 1, 7)
    report = check_gradient(lambda v: np.exp(v).sum(), x, np.exp(x), name="dexp")
    assert isinstance(report, GradCheckReport)
    assert report.passed and report.checked == 7 and report.rel_error < 1e-7
    assert report.numeric == pytest.approx(report.analytic, rel=1e-7)
    assert "dexp: OK" in str(report) and "7 entries" in str(report)


def test_entries_near_zero_are_judged_by_atol() -> None:
    # d/dx x^3 = 3x^2 is ~2e-4 at x = 0.0078: rounding noise alone gives a relative
    # error near 1e-6 there, which must not fail a correct gradient.
    x = np.array([[0.0078, 1.5, -2.0], [0.3, -0.9, 2.2]])
    report = check_gradient(lambda v: (v**3).sum(), x, 3 * x**2)
    assert report.passed
    with pytest.raises(AssertionError):  # ...but a real error of 1e-4 is still caught
        check_gradient(lambda v: (v**3).sum(), x, 3 * x**2 + np.array([[1e-4, 0, 0], [0, 0, 0]]))


def test_gradient_shape_mismatch_is_explained() -> None:
    with pytest.raises(AssertionError, match=r"shape \(3,\) but the input has shape \(3, 1\)"):
        check_gradient(lambda v: v.sum(), np.ones((3, 1)), np.ones(3))


def test_sparse_gradient_check() -> None:
    rng = np.random.RandomState(1)
    W = rng.randn(30, 20)
    f = lambda v: np.tanh(v).sum()
    grad = 1 - np.tanh(W) ** 2
    calls = 0

    def counted(v):
        nonlocal calls
        calls += 1
        return f(v)

    report = sparse_gradient_check(counted, W, grad, num_checks=15, seed=3)
    assert report.checked == 15 and calls == 30  # two evaluations per checked entry
    again = sparse_gradient_check(f, W, grad, num_checks=15, seed=3)
    assert again.worst_index == report.worst_index
    with pytest.raises(AssertionError):
        sparse_gradient_check(f, W, 2 * grad, num_checks=5)
    wrong = grad.copy()
    wrong[7, 11] = 5.0
    with pytest.raises(AssertionError, match=r"\(7, 11\)"):
        sparse_gradient_check(f, W, wrong, num_checks=W.size)


def test_a_healthy_check_shows_its_real_relative_error_and_the_scale():
    # A correct float64 gradient agrees to about 1e-9, not exactly: the student should see that figure
    # (it used to print 0.00e+00, since differences within atol counted as zero).
    x = np.random.default_rng(0).normal(size=(6, 5))
    report = check_gradient(lambda v: (v ** 3).sum(), x, 3 * x ** 2)
    assert report.passed and 0 < report.rel_error < 1e-7
    assert f"{report.rel_error:.1e}" in str(report) and "1e-2 or more means a bug" in str(report)
    with pytest.raises(AssertionError, match="FAILED, relative error"):
        check_gradient(lambda v: (v ** 3).sum(), x, 3 * x ** 2 + 1e-3)
