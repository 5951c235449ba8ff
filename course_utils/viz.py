"""Plots used throughout the course: image grids, learned templates, decision regions, curves.

Each function draws with pyplot and returns the matplotlib Figure without calling
plt.show(). In Jupyter the figure appears when the cell finishes; if the call is the
last line of a cell, end it with ``;`` (or assign the result) to avoid a second copy.
pyplot is imported inside the functions so that importing course_utils stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._arrays import as_numpy

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "show_images",
    "show_templates",
    "plot_decision_regions",
    "plot_loss_curve",
    "plot_line_fit",
]


def _to_hwc(images: np.ndarray) -> np.ndarray:
    """Images as (N, H, W) or (N, H, W, 3); accepts channels-first (N, C, H, W) too."""
    if images.ndim == 4 and images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
        images = images.transpose(0, 2, 3, 1)  # torch's (N, C, H, W) -> (N, H, W, C)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim == 2:  # flattened square images (N, H*W)
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"cannot reshape flattened images of length {images.shape[1]} to squares")
        images = images.reshape(len(images), side, side)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise ValueError(f"images must be (N, H, W) or (N, H, W, 3); got shape {images.shape}")
    return images


def _display_range(image: np.ndarray) -> np.ndarray:
    """A float image in [0, 1]: uint8 divided by 255, floats outside [0, 1] min-max scaled."""
    if image.dtype == np.uint8:
        return image.astype(np.float64) / 255.0
    image = image.astype(np.float64)
    lo, hi = float(image.min()), float(image.max())
    if lo >= 0.0 and hi <= 1.0:
        return image
    return (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)


def _grid(n: int, ncols: int, cell: float = 1.4) -> tuple[Figure, np.ndarray]:
    import matplotlib.pyplot as plt

    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols, cell * nrows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig, axes.ravel()


def show_images(images: Any, labels: Any = None, class_names: Sequence[str] | None = None,
                ncols: int = 8, cmap: str = "gray", title: str | None = None,
                true_labels: Any = None) -> Figure:
    """A grid of images. images: (N, H, W), (N, H, W, 3) or (N, C, H, W); uint8 or float.

    labels: (N,) ints, shown as titles (through class_names when given).
    true_labels: (N,) ints; when given, ``labels`` are read as a model's guesses and each
    title shows both, "guess / true:", in red where they differ (a gallery of mistakes).
    """
    images = _to_hwc(as_numpy(images))
    labels_arr = None if labels is None else as_numpy(labels).reshape(-1)
    true_arr = None if true_labels is None else as_numpy(true_labels).reshape(-1)
    if true_arr is not None and labels_arr is None:
        raise ValueError("true_labels needs labels (the guesses) to compare with")
    for name, arr in (("labels", labels_arr), ("true labels", true_arr)):
        if arr is not None and len(arr) != len(images):
            raise ValueError(f"{len(images)} images but {len(arr)} {name}")

    def name_of(label: Any) -> str:
        return class_names[int(label)] if class_names is not None else str(label)

    fig, axes = _grid(len(images), ncols, cell=1.4 if true_arr is None else 1.6)
    for i, (ax, image) in enumerate(zip(axes, images, strict=False)):  # spare axes stay blank
        ax.imshow(_display_range(image), cmap=cmap if image.ndim == 2 else None,
                  vmin=0.0, vmax=1.0, interpolation="nearest")
        if true_arr is not None:
            wrong = int(labels_arr[i]) != int(true_arr[i])
            ax.set_title(f"guess: {name_of(labels_arr[i])}\ntrue: {name_of(true_arr[i])}", fontsize=8,
                         color="C3" if wrong else "black")
        elif labels_arr is not None:
            ax.set_title(name_of(labels_arr[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_templates(W: Any, image_shape: Sequence[int], class_names: Sequence[str] | None = None) -> Figure:
    """Each row of W: (C, D) drawn as an image of image_shape, min-max scaled per template.

    A trailing bias column (D == prod(image_shape) + 1) is dropped. W stored as
    (D, C), the layout of scores = X @ W, is recognised and transposed.
    """
    W = as_numpy(W, dtype=np.float64)
    size = int(np.prod(image_shape))
    if W.ndim != 2:
        raise ValueError(f"W must be 2-D (C, D); got shape {W.shape}")
    if W.shape[1] not in (size, size + 1) and W.shape[0] in (size, size + 1):
        W = W.T
    if W.shape[1] == size + 1:
        W = W[:, :size]
    if W.shape[1] != size:
        raise ValueError(f"W has rows of length {W.shape[1]}; image_shape {tuple(image_shape)} needs {size}")
    templates = []
    for row in W:
        lo, hi = row.min(), row.max()
        scaled = (row - lo) / (hi - lo) if hi > lo else np.zeros_like(row)
        templates.append(scaled.reshape(image_shape))
    labels = None if class_names is None else np.arange(len(templates))
    ncols = min(len(templates), 10)
    return show_images(np.stack(templates), labels, class_names, ncols=ncols, cmap="gray")


def _axes(ax: Axes | None, figsize: tuple[float, float] = (5.0, 4.0)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def plot_decision_regions(predict: Callable[[np.ndarray], Any], X: Any, y: Any, ax: Axes | None = None,
                          resolution: int = 200, padding: float = 0.5) -> Figure:
    """Colour the plane by predict's class and overlay the points.

    predict: (M, 2) float64 -> (M,) int labels. X: (N, 2), y: (N,).
    """
    X = as_numpy(X, dtype=np.float64)
    y = as_numpy(y).astype(np.int64).reshape(-1)
    fig, ax = _axes(ax)
    x0 = np.linspace(X[:, 0].min() - padding, X[:, 0].max() + padding, resolution)
    x1 = np.linspace(X[:, 1].min() - padding, X[:, 1].max() + padding, resolution)
    xx, yy = np.meshgrid(x0, x1)
    grid = np.column_stack([xx.ravel(), yy.ravel()])  # (resolution**2, 2)
    Z = as_numpy(predict(grid)).reshape(-1)
    if Z.shape[0] != grid.shape[0]:
        raise ValueError(f"predict returned {Z.shape[0]} labels for {grid.shape[0]} points; "
                         "it should return one integer label per row")
    Z = Z.astype(np.int64).reshape(xx.shape)
    n_classes = int(max(Z.max(), y.max())) + 1
    cmap = "tab10"
    ax.contourf(xx, yy, Z, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, vmin=0, vmax=9, alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=0, vmax=9, s=14, edgecolors="k", linewidths=0.4)
    ax.set_xlim(x0[0], x0[-1])
    ax.set_ylim(x1[0], x1[-1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    accuracy = float((as_numpy(predict(X)).reshape(-1) == y).mean())
    ax.set_title(f"accuracy {accuracy:.1%}")
    return fig


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over `window` steps; the first entries average what exists so far."""
    csum = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (csum[1:] - csum[np.arange(1, len(values) + 1) - counts]) / counts


def plot_loss_curve(losses: Sequence[float] | Any, val_losses: Sequence[float] | Any = None,
                    ax: Axes | None = None, smooth: int | None = None) -> Figure:
    """Training loss per step, optionally smoothed, with validation losses if given.

    smooth: window of a trailing moving average drawn over the faint raw curve.
    val_losses may be shorter (one per epoch): its points are spread evenly so the
    last one lines up with the last training step.
    """
    losses = as_numpy(losses, dtype=np.float64).reshape(-1)
    fig, ax = _axes(ax)
    steps = np.arange(1, len(losses) + 1)
    if smooth and smooth > 1:
        ax.plot(steps, losses, color="C0", alpha=0.3, linewidth=1, label="train (raw)")
        ax.plot(steps, _moving_average(losses, smooth), color="C0", label=f"train (mean of {smooth})")
    else:
        ax.plot(steps, losses, color="C0", label="train")
    if val_losses is not None:
        val = as_numpy(val_losses, dtype=np.float64).reshape(-1)
        val_steps = np.linspace(len(losses) / len(val), len(losses), len(val))
        ax.plot(val_steps, val, "o-", color="C1", label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    return fig


def plot_line_fit(x: Any, y: Any, theta: Sequence[float] | Any, ax: Axes | None = None) -> Figure:
    """Data points and the line y = theta[0] * x + theta[1]. x, y: (N,)."""
    x = as_numpy(x, dtype=np.float64).reshape(-1)
    y = as_numpy(y, dtype=np.float64).reshape(-1)
    slope, intercept = (float(t) for t in as_numpy(theta, dtype=np.float64).reshape(-1)[:2])
    fig, ax = _axes(ax)
    ax.scatter(x, y, s=12, alpha=0.7, label="data")
    xs = np.array([x.min(), x.max()])
    ax.plot(xs, slope * xs + intercept, color="C3",
            label=f"y = {slope:.3g} x {'+' if intercept >= 0 else '-'} {abs(intercept):.3g}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    return fig
