"""Small generated datasets for 2-D classification pictures and a 1-D line fit.

Every generator returns ``X: (N, 2) float64`` and ``y: (N,) int64`` and is a pure
function of its arguments. They draw from the legacy ``np.random.RandomState`` on
purpose: NumPy freezes that stream (NEP 19), so a seed gives the same numbers on
every NumPy version, which graders and worked examples rely on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "make_xor",
    "make_ring",
    "make_three_modes",
    "make_spirals",
    "line_inputs",
    "line_targets",
]


def _split_counts(n: int, parts: int) -> list[int]:
    """n split into `parts` near-equal counts (the first ones get the remainder)."""
    if n < parts:
        raise ValueError(f"need at least {parts} points, got n={n}")
    return [n // parts + (i < n % parts) for i in range(parts)]


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    # Classes come out generated in blocks; shuffle so that slicing X[:k] is a fair sample.
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_xor(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """XOR: class 0 in the first and third quadrants, class 1 in the second and fourth.

    Points are uniform in [-1, 1]^2 pushed 0.1 away from both axes, so there is a
    visible gap between the quadrants and a good model can reach 100% accuracy.
    """
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    X += 0.1 * np.sign(X)
    y = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    return X, y


def make_ring(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ring: class 1 when 1 <= ||x||_2 <= 2, class 0 elsewhere in [-3, 3]^2.

    Uniform sampling would give only ~26% ring points, so points are drawn uniformly
    and kept until each class has half of the n (rejection sampling).
    """
    rng = np.random.RandomState(seed)
    want = {1: n // 2, 0: n - n // 2}
    kept: dict[int, list[np.ndarray]] = {0: [], 1: []}
    have = {0: 0, 1: 0}
    while have[0] < want[0] or have[1] < want[1]:
        cand = rng.uniform(-3.0, 3.0, size=(2 * n + 16, 2))
        r = np.linalg.norm(cand, axis=1)
        labels = ((r >= 1.0) & (r <= 2.0)).astype(np.int64)
        for c in (0, 1):
            take = cand[labels == c][: want[c] - have[c]]
            kept[c].append(take)
            have[c] += len(take)
    X = np.concatenate(kept[0] + kept[1])
    y = np.concatenate([np.zeros(want[0], np.int64), np.ones(want[1], np.int64)])
    return _shuffled(X, y, rng)


def make_three_modes(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class 1: three Gaussian blobs at x1 = -3, 0, 3; class 0: two blobs at x1 = -1.5, 1.5.

    Along the x1 axis the classes alternate 1, 0, 1, 0, 1, so no straight line separates
    them, yet a small MLP can. Blob standard deviation is 0.35, so blobs barely touch.
    """
    rng = np.random.RandomState(seed)
    centres = {1: [(-3.0, 0.0), (0.0, 0.0), (3.0, 0.0)], 0: [(-1.5, 0.0), (1.5, 0.0)]}
    n_class = {1: n // 2, 0: n - n // 2}
    X_parts, y_parts = [], []
    for c in (0, 1):
        for centre, count in zip(centres[c], _split_counts(n_class[c], len(centres[c])), strict=True):
            X_parts.append(np.asarray(centre) + 0.35 * rng.standard_normal((count, 2)))
            y_parts.append(np.full(count, c, dtype=np.int64))
    return _shuffled(np.concatenate(X_parts), np.concatenate(y_parts), rng)


def make_spirals(n: int = 400, n_classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class, radius growing from 0 to 1.

    Arm k at radius r has angle 4r + 2*pi*k/K plus N(0, 0.2^2) noise, i.e. each arm
    winds about two-thirds of a turn; X lies in roughly [-1, 1]^2.
    """
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    rng = np.random.RandomState(seed)
    X_parts, y_parts = [], []
    for k, count in enumerate(_split_counts(n, n_classes)):
        r = np.linspace(0.0, 1.0, count)
        angle = 4.0 * r + 2.0 * np.pi * k / n_classes + 0.2 * rng.standard_normal(count)
        X_parts.append(np.column_stack([r * np.cos(angle), r * np.sin(angle)]))
        y_parts.append(np.full(count, k, dtype=np.int64))
    return _shuffled(np.concatenate(X_parts), np.concatenate(y_parts), rng)


def line_inputs(n: int, seed: int) -> np.ndarray:
    """x: (n,) float64, uniform in [-3, 3]."""
    return np.random.RandomState(seed).uniform(-3.0, 3.0, size=n)


def line_targets(x: np.ndarray, seed: int, theta: Sequence[float] = (2.0, -1.0),
                 noise: float = 0.5) -> np.ndarray:
    """y = theta[0] * x + theta[1] + noise * eps, eps ~ N(0, 1): (n,) float64.

    Kept apart from line_inputs so that a grader can compute targets outside the
    student's kernel: the student only ever sees x.
    """
    x = np.asarray(x, dtype=np.float64)
    eps = np.random.RandomState(seed).standard_normal(x.shape)
    return theta[0] * x + theta[1] + noise * eps
