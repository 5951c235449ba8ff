"""Interactive widgets for the notebooks, and a progress bar that suits the front end.

ipywidgets and matplotlib are imported inside the functions: importing course_utils
must stay fast, and scripts that never build a widget should not pay for them.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np

from ._arrays import as_numpy

if TYPE_CHECKING:  # pragma: no cover
    import ipywidgets

__all__ = ["linear_boundary_widget", "linear_accuracy", "progress"]


def progress(iterable: Any = None, **kwargs: Any) -> Any:
    """tqdm.auto.tqdm: a widget bar in Jupyter, a text bar in a terminal."""
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)


def linear_accuracy(X: Any, y: Any, w1: float, w2: float, b: float) -> float:
    """Accuracy of predicting class 1 where w1*x1 + w2*x2 + b > 0. X: (N, 2), y: (N,) in {0, 1}."""
    X = as_numpy(X, dtype=np.float64)
    y = as_numpy(y).reshape(-1)
    pred = (X @ np.array([w1, w2]) + b > 0).astype(np.int64)
    return float((pred == y).mean())


def _render(X: np.ndarray, y: np.ndarray, w1: float, w2: float, b: float,
            extent: tuple[float, float, float, float]) -> bytes:
    # A bare Figure (not pyplot) so that redraws never pile up in pyplot's figure list,
    # rendered to PNG so the picture shows the same in Jupyter, VS Code and Colab.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.8, 4.2), dpi=90)
    ax = fig.add_subplot()
    x_lo, x_hi, y_lo, y_hi = extent
    gx, gy = np.meshgrid(np.linspace(x_lo, x_hi, 200), np.linspace(y_lo, y_hi, 200))
    region = (w1 * gx + w2 * gy + b > 0).astype(float)  # (200, 200), 1 where class 1
    ax.imshow(region, origin="lower", extent=extent, cmap="coolwarm", vmin=-0.5, vmax=1.5,
              alpha=0.35, aspect="auto", interpolation="nearest")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", vmin=0, vmax=1, s=14,
               edgecolors="k", linewidths=0.4)
    xs = np.array([x_lo, x_hi])
    if abs(w2) > 1e-12:
        ax.plot(xs, -(w1 * xs + b) / w2, "k-", linewidth=2)
    elif abs(w1) > 1e-12:
        ax.axvline(-b / w1, color="k", linewidth=2)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(f"${w1:+.2f}\\,x_1 {w2:+.2f}\\,x_2 {b:+.2f} = 0$")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def linear_boundary_widget(X: Any, y: Any, w1: float = 1.0, w2: float = 1.0,
                           b: float = 0.0) -> ipywidgets.VBox:
    """Sliders for w1, w2, b of the classifier "class 1 where w . x + b > 0" on 2-D data.

    X: (N, 2), y: (N,) in {0, 1}. Every slider move redraws the points, the line
    w . x + b = 0 and the two decision regions, and updates the accuracy.
    The returned VBox also carries the parts as attributes, for tests and for
    notebooks that want to read them: ``w1``, ``w2``, ``b`` (FloatSliders),
    ``accuracy_label`` (Label), ``image`` (Image) and ``accuracy()``.
    """
    import ipywidgets as widgets

    X = as_numpy(X, dtype=np.float64)
    y = as_numpy(y).astype(np.int64).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) != len(y):
        raise ValueError(f"X must be (N, 2) and y (N,); got {X.shape} and {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must contain only the labels 0 and 1")
    pad = 0.5
    extent = (X[:, 0].min() - pad, X[:, 0].max() + pad, X[:, 1].min() - pad, X[:, 1].max() + pad)
    reach = float(np.abs(X).max()) + pad  # a bias this large can move the line off the data

    def slider(name: str, value: float, limit: float) -> widgets.FloatSlider:
        return widgets.FloatSlider(value=value, min=-limit, max=limit, step=0.05, description=name,
                                   continuous_update=True, readout_format=".2f")

    s_w1, s_w2 = slider("w1", w1, 5.0), slider("w2", w2, 5.0)
    s_b = slider("b", b, round(5.0 * reach, 1))
    label = widgets.Label()
    # A fixed width keeps the browser from stretching (and blurring) the PNG across the output area.
    image = widgets.Image(format="png", layout=widgets.Layout(width="480px"))

    def accuracy() -> float:
        return linear_accuracy(X, y, s_w1.value, s_w2.value, s_b.value)

    def redraw(_change: Any = None) -> None:
        acc = accuracy()
        label.value = f"accuracy: {acc:.1%} ({int(round(acc * len(y)))}/{len(y)} points correct)"
        image.value = _render(X, y, s_w1.value, s_w2.value, s_b.value, extent)

    for s in (s_w1, s_w2, s_b):
        s.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([s_w1, s_w2, s_b]), label, image])
    box.w1, box.w2, box.b = s_w1, s_w2, s_b
    box.accuracy_label, box.image, box.accuracy = label, image, accuracy
    return box
