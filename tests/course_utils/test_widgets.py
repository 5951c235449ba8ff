"""The interactive linear-boundary widget and the progress helper (course_utils.widgets)."""

from __future__ import annotations

import ipywidgets
import numpy as np
import pytest

from course_utils.widgets import linear_accuracy, linear_boundary_widget, progress


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(200, 2))
    y = (X[:, 0] - 0.5 * X[:, 1] > 0.3).astype(np.int64)
    return X, y


def _oracle(X, y, w1, w2, b) -> float:
    return float(np.mean(((w1 * X[:, 0] + w2 * X[:, 1] + b) > 0) == (y == 1)))


def test_accuracy_label_follows_the_sliders() -> None:
    X, y = _data()
    box = linear_boundary_widget(X, y)
    assert isinstance(box, ipywidgets.VBox)
    sliders = box.children[0].children
    assert [s.description for s in sliders] == ["w1", "w2", "b"]
    assert f"{_oracle(X, y, 1.0, 1.0, 0.0):.1%}" in box.accuracy_label.value
    first_png = box.image.value
    assert first_png[:4] == b"\x89PNG"

    box.w1.value, box.w2.value, box.b.value = 1.0, -0.5, -0.3  # the true boundary
    assert box.accuracy() == 1.0
    assert box.accuracy_label.value.startswith("accuracy: 100.0% (200/200")
    assert box.image.value != first_png  # the picture was redrawn

    box.w1.value = -1.0
    expected = _oracle(X, y, -1.0, -0.5, -0.3)
    assert box.accuracy() == pytest.approx(expected)
    assert f"{expected:.1%}" in box.accuracy_label.value


def test_vertical_and_degenerate_lines_still_draw() -> None:
    X, y = _data()
    box = linear_boundary_widget(X, y, w1=1.0, w2=0.0, b=0.0)
    assert box.image.value[:4] == b"\x89PNG"
    box.w1.value = 0.0  # w = 0: no line at all, everything is class 0
    assert box.accuracy() == pytest.approx(float(np.mean(y == 0)))


def test_linear_accuracy_and_input_validation() -> None:
    X, y = _data()
    assert linear_accuracy(X, y, 1.0, -0.5, -0.3) == 1.0
    assert linear_accuracy(X, 1 - y, 1.0, -0.5, -0.3) == 0.0
    with pytest.raises(ValueError, match="labels 0 and 1"):
        linear_boundary_widget(X, y + 1)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        linear_boundary_widget(X[:, :1], y)


def test_progress_wraps_an_iterable() -> None:
    bar = progress(range(5), disable=True)
    assert list(bar) == [0, 1, 2, 3, 4]
