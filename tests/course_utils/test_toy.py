"""Generated 2-D classification sets and the 1-D line-fit data (course_utils.toy)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC

from course_utils.toy import (
    line_inputs,
    line_targets,
    make_ring,
    make_spirals,
    make_three_modes,
    make_xor,
)

GENERATORS = [make_xor, make_ring, make_three_modes, make_spirals]


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n", [7, 400])
def test_shapes_dtypes_and_determinism(make, n: int) -> None:
    X, y = make(n=n, seed=3)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    X2, y2 = make(n=n, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(n=n, seed=4)
    assert not np.array_equal(X, X3)


def test_xor_labels_follow_the_quadrants() -> None:
    X, y = make_xor(1000, seed=1)
    expected = np.where(X[:, 0] * X[:, 1] > 0, 0, 1)  # quadrants I and III are class 0
    np.testing.assert_array_equal(y, expected)
    assert np.abs(X).min() >= 0.1  # the gap around the axes
    assert 0.4 < y.mean() < 0.6


def test_ring_labels_and_balance() -> None:
    X, y = make_ring(401, seed=2)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_array_equal(y, ((r >= 1) & (r <= 2)).astype(np.int64))
    assert y.sum() == 200  # n // 2 points on the ring
    assert np.abs(X).max() <= 3.0
    assert 0 < y[:100].sum() < 100  # shuffled, not in class blocks


def test_three_modes_is_not_linearly_separable_but_learnable() -> None:
    X, y = make_three_modes(400, seed=0)
    assert np.bincount(y).tolist() == [200, 200]
    linear = LinearSVC(C=100.0, max_iter=20_000).fit(X, y).score(X, y)
    assert linear < 0.8
    knn = KNeighborsClassifier(5).fit(X[:300], y[:300]).score(X[300:], y[300:])
    assert knn > 0.95


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_spirals_classes_are_balanced_and_learnable(n_classes: int) -> None:
    X, y = make_spirals(300, n_classes=n_classes, seed=0)
    counts = np.bincount(y, minlength=n_classes)
    assert counts.max() - counts.min() <= 1 and len(counts) == n_classes
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1.0 + 1e-12
    knn = KNeighborsClassifier(3).fit(X[::2], y[::2]).score(X[1::2], y[1::2])
    assert knn > 0.8
    with pytest.raises(ValueError):
        make_spirals(10, n_classes=1)


def test_line_inputs_range_and_determinism() -> None:
    x = line_inputs(500, seed=0)
    assert x.shape == (500,) and x.dtype == np.float64
    assert x.min() >= -3 and x.max() <= 3 and x.min() < -2.9 and x.max() > 2.9
    np.testing.assert_array_equal(x, line_inputs(500, seed=0))


def test_line_targets_follow_the_model() -> None:
    x = line_inputs(20_000, seed=1)
    exact = line_targets(x, seed=5, theta=(0.5, 3.0), noise=0.0)
    np.testing.assert_allclose(exact, 0.5 * x + 3.0)
    y = line_targets(x, seed=5)  # defaults: theta = (2, -1), noise = 0.5
    slope, intercept = np.polyfit(x, y, 1)  # independent least-squares oracle
    assert slope == pytest.approx(2.0, abs=0.01)
    assert intercept == pytest.approx(-1.0, abs=0.02)
    assert np.std(y - (2.0 * x - 1.0)) == pytest.approx(0.5, rel=0.03)
    np.testing.assert_array_equal(y, line_targets(x, seed=5))
    assert not np.array_equal(y, line_targets(x, seed=6))
