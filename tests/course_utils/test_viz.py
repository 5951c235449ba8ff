"""Plots (course_utils.viz), drawn with the Agg backend and inspected through matplotlib's API."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from course_utils.viz import (
    plot_decision_regions,
    plot_line_fit,
    plot_loss_curve,
    show_images,
    show_templates,
)


def _shown(fig: Figure) -> list[np.ndarray]:
    """The arrays drawn by imshow, in axes order."""
    return [np.asarray(ax.images[0].get_array()) for ax in fig.axes if ax.images]


def test_show_images_grayscale_grid_with_class_names() -> None:
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(10, 28, 28)).astype(np.uint8)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    names = ["cat", "dog", "bird"]
    fig = show_images(X, y, names, ncols=4, title="pets")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 12  # 3 rows of 4; the two spare axes stay blank
    shown = _shown(fig)
    assert len(shown) == 10
    np.testing.assert_allclose(shown[3], X[3] / 255.0)
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == [names[i] for i in y]
    assert fig._suptitle.get_text() == "pets"


def test_show_images_colour_channels_first_and_flat() -> None:
    rng = np.random.RandomState(1)
    colour = rng.rand(3, 8, 8, 3)
    np.testing.assert_allclose(_shown(show_images(colour))[2], colour[2])  # [0, 1] floats as is
    chw = colour.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(_shown(show_images(chw))[1], colour[1])
    flat = rng.randint(0, 256, size=(2, 16)).astype(np.uint8)
    assert _shown(show_images(flat))[0].shape == (4, 4)
    wide = np.array([[[-2.0, 0.0], [2.0, 6.0]]])  # outside [0, 1]: min-max scaled
    np.testing.assert_allclose(_shown(show_images(wide))[0], [[0.0, 0.25], [0.5, 1.0]])
    with pytest.raises(ValueError, match="2 images but 3 labels"):
        show_images(flat, [0, 1, 2])


def test_show_images_with_true_labels_shows_guess_and_truth() -> None:
    X = np.zeros((3, 4, 4), dtype=np.uint8)
    names = ["cat", "dog", "bird"]
    fig = show_images(X, [1, 2, 0], names, true_labels=[1, 0, 0])
    axes = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in axes] == ["guess: dog\ntrue: dog", "guess: bird\ntrue: cat",
                                               "guess: cat\ntrue: cat"]
    red = to_rgba("C3")
    assert [to_rgba(ax.title.get_color()) == red for ax in axes] == [False, True, False]
    with pytest.raises(ValueError, match="3 images but 2 true labels"):
        show_images(X, [1, 2, 0], true_labels=[1, 0])
    with pytest.raises(ValueError, match="needs labels"):
        show_images(X, true_labels=[1, 0, 0])


def test_show_templates_drops_bias_and_scales_each_row() -> None:
    rng = np.random.RandomState(2)
    W = rng.randn(3, 4 * 5 + 1)
    W[:, -1] = 1e6  # a bias this large would dominate the scaling if it were kept
    fig = show_templates(W, (4, 5), class_names=["a", "b", "c"])
    shown = _shown(fig)
    assert len(shown) == 3 and shown[0].shape == (4, 5)
    row = W[1, :-1]
    np.testing.assert_allclose(shown[1], ((row - row.min()) / (row.max() - row.min())).reshape(4, 5))
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["a", "b", "c"]
    # cs231n's (D, C) layout is recognised
    assert len(_shown(show_templates(W.T, (4, 5)))) == 3
    colour = show_templates(rng.randn(2, 32 * 32 * 3), (32, 32, 3))
    assert _shown(colour)[0].shape == (32, 32, 3)
    with pytest.raises(ValueError, match="needs 20"):
        show_templates(rng.randn(3, 7), (4, 5))


def test_plot_decision_regions_queries_a_padded_grid() -> None:
    rng = np.random.RandomState(3)
    X = rng.uniform(-1, 1, size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    grids = []

    def predict(P):
        grids.append(P)
        return (P[:, 0] > 0).astype(int)

    fig = plot_decision_regions(predict, X, y, resolution=30, padding=0.5)
    grid = grids[0]
    assert grid.shape == (900, 2)
    assert grid[:, 0].min() == pytest.approx(X[:, 0].min() - 0.5)
    assert grid[:, 1].max() == pytest.approx(X[:, 1].max() + 0.5)
    ax = fig.axes[0]
    offsets = [c.get_offsets() for c in ax.collections if len(c.get_offsets()) == 50]
    np.testing.assert_allclose(offsets[0], X)
    assert ax.get_title() == "accuracy 100.0%"

    _, given_ax = plt.subplots()
    fig2 = plot_decision_regions(lambda P: np.zeros(len(P), int), X, y, ax=given_ax, resolution=10)
    assert fig2 is given_ax.figure
    assert given_ax.get_title() == f"accuracy {(y == 0).mean():.1%}"
    with pytest.raises(ValueError, match="one integer label per row"):
        plot_decision_regions(lambda P: np.zeros(3), X, y, resolution=10)


def test_plot_loss_curve_smoothing_and_validation() -> None:
    losses = np.array([5.0, 3.0, 4.0, 2.0, 1.0, 1.5])
    fig = plot_loss_curve(losses, val_losses=[3.5, 1.2], smooth=3)
    raw, smoothed, val = fig.axes[0].lines
    np.testing.assert_allclose(raw.get_ydata(), losses)
    # trailing mean over 3 steps (the first two average what exists so far)
    expected = [5.0, 4.0, 4.0, 3.0, 7 / 3, 1.5]
    np.testing.assert_allclose(smoothed.get_ydata(), expected)
    np.testing.assert_allclose(val.get_xdata(), [3.0, 6.0])
    np.testing.assert_allclose(val.get_ydata(), [3.5, 1.2])
    plain = plot_loss_curve([1.0, 0.5])
    assert len(plain.axes[0].lines) == 1


def test_plot_line_fit_draws_the_model_line() -> None:
    x = np.array([-2.0, 0.0, 1.0, 3.0])
    y = np.array([-5.0, -1.0, 1.0, 5.0])
    fig = plot_line_fit(x, y, (2.0, -1.0))
    ax = fig.axes[0]
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_xdata(), [-2.0, 3.0])
    np.testing.assert_allclose(line.get_ydata(), [-5.0, 5.0])
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.column_stack([x, y]))
    assert "y = 2 x - 1" in line.get_label()
