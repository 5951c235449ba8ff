"""Loss surfaces in two dimensions, optimiser paths on them, and the widgets of notebook 04.

A :class:`Surface` is a function of two parameters w = (w1, w2) with its gradient,
small enough to draw as contour lines. :func:`run_rule` walks on it with any update
rule of the form ``rule(w, dw, config) -> (next_w, config)`` (the student writes
those in notebook 04; nothing here implements one), and :func:`plot_paths` draws
the walks. :func:`learning_rate_widget` and :func:`capacity_widget` are the two
sliders of the notebook: the step size of gradient descent, and the degree of a
polynomial fitted to noisy data.

matplotlib and ipywidgets are imported inside the functions, as in the rest of
course_utils, so importing this module costs NumPy only.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import ipywidgets
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "Surface",
    "ravine",
    "banana",
    "four_wells",
    "saddle",
    "run_rule",
    "plot_surface",
    "plot_paths",
    "learning_rate_widget",
    "polynomial_features",
    "fit_polynomial",
    "capacity_errors",
    "capacity_widget",
]

Rule = Callable[[np.ndarray, np.ndarray, dict], tuple[np.ndarray, dict]]


@dataclass(frozen=True)
class Surface:
    """A loss L(w) of two parameters. f: (..., 2) -> (...); grad: (..., 2) -> (..., 2).

    ``extent`` = (w1_min, w1_max, w2_min, w2_max) is the window worth drawing;
    ``minima`` lists the local minima (for markers and for judging convergence).
    """

    name: str
    f: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    extent: tuple[float, float, float, float]
    minima: tuple[tuple[float, float], ...] = field(default=())

    def __call__(self, w: Any) -> np.ndarray:
        return self.f(np.asarray(w, dtype=np.float64))

    @property
    def min_value(self) -> float:
        """The lowest value over the listed minima (0 if none are listed)."""
        if not self.minima:
            return 0.0
        return float(min(self(np.array(m)) for m in self.minima))


def ravine(a: float = 1.0, b: float = 10.0) -> Surface:
    """L = ½(a w1² + b w2²): a bowl b/a times steeper across than along.

    Gradient descent diverges once the step size exceeds 2 / max(a, b).
    """
    def f(w):
        return 0.5 * (a * w[..., 0] ** 2 + b * w[..., 1] ** 2)

    def grad(w):
        return np.stack([a * w[..., 0], b * w[..., 1]], axis=-1)

    return Surface(f"ravine (a={a:g}, b={b:g})", f, grad, (-5.0, 5.0, -3.0, 3.0), ((0.0, 0.0),))


def banana(b: float = 10.0) -> Surface:
    """Rosenbrock's function L = (1 − w1)² + b (w2 − w1²)²: a curved valley, minimum at (1, 1)."""
    def f(w):
        return (1 - w[..., 0]) ** 2 + b * (w[..., 1] - w[..., 0] ** 2) ** 2

    def grad(w):
        x, y = w[..., 0], w[..., 1]
        return np.stack([-2 * (1 - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)], axis=-1)

    return Surface(f"banana (b={b:g})", f, grad, (-2.0, 2.0, -1.0, 3.0), ((1.0, 1.0),))


def _well_minima(t: float) -> list[float]:
    """Real roots of 4x³ − 4x + t = 0 where 12x² − 4 > 0: the minima of (x² − 1)² + t x."""
    roots = np.roots([4.0, 0.0, -4.0, t])
    return sorted(float(r.real) for r in roots if abs(r.imag) < 1e-9 and 12 * r.real**2 - 4 > 0)


def four_wells(tilt: tuple[float, float] = (0.3, 0.15)) -> Surface:
    """L = (w1² − 1)² + (w2² − 1)² + t1 w1 + t2 w2: four local minima of different depths.

    The tilt makes the wells unequal, so where gradient descent ends depends on where it starts.
    """
    t1, t2 = tilt

    def f(w):
        x, y = w[..., 0], w[..., 1]
        return (x**2 - 1) ** 2 + (y**2 - 1) ** 2 + t1 * x + t2 * y

    def grad(w):
        x, y = w[..., 0], w[..., 1]
        return np.stack([4 * x * (x**2 - 1) + t1, 4 * y * (y**2 - 1) + t2], axis=-1)

    minima = tuple((x, y) for x in _well_minima(t1) for y in _well_minima(t2))
    return Surface("four wells", f, grad, (-2.0, 2.0, -2.0, 2.0), minima)


def saddle() -> Surface:
    """L = ½ w1² + ¼ w2⁴ − ½ w2²: minima at (0, ±1) and a saddle point at the origin."""
    def f(w):
        x, y = w[..., 0], w[..., 1]
        return 0.5 * x**2 + 0.25 * y**4 - 0.5 * y**2

    def grad(w):
        x, y = w[..., 0], w[..., 1]
        return np.stack([x, y**3 - y], axis=-1)

    return Surface("saddle", f, grad, (-2.0, 2.0, -1.8, 1.8), ((0.0, -1.0), (0.0, 1.0)))


def run_rule(surface: Surface, rule: Rule, start: Any, config: Mapping[str, Any] | None = None,
             steps: int = 100, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Apply ``rule(w, dw, config) -> (next_w, config)`` ``steps`` times from ``start``.

    Returns the path, shape (k + 1, 2) with k <= steps: the walk stops early once it
    leaves the surface's window by a factor of 100 or stops being finite (it diverged).
    ``noise`` > 0 adds Gaussian noise of that standard deviation to every gradient,
    a stand-in for the noise of minibatch gradients. ``config`` is copied, not changed.
    """
    rng = np.random.default_rng(seed)
    cfg = dict(config or {})
    w = np.asarray(start, dtype=np.float64).copy()
    x0, x1, y0, y1 = surface.extent
    limit = 100 * max(abs(x0), abs(x1), abs(y0), abs(y1))
    path = [w.copy()]
    for _ in range(steps):
        dw = surface.grad(w)
        if noise:
            dw = dw + noise * rng.standard_normal(2)
        w, cfg = rule(w, dw, cfg)
        w = np.asarray(w, dtype=np.float64).copy()
        path.append(w)
        if not np.all(np.isfinite(w)) or np.abs(w).max() > limit:
            break
    return np.array(path)


def _grid_values(surface: Surface, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x0, x1, y0, y1 = surface.extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    return gx, gy, surface(np.stack([gx, gy], axis=-1))


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def _draw_surface(ax: Axes, surface: Surface, levels: int, resolution: int) -> None:
    gx, gy, Z = _grid_values(surface, resolution)
    # Levels at quantiles of the values on the grid: evenly many lines in flat and steep parts.
    lv = np.unique(np.quantile(Z, np.linspace(0.0, 1.0, levels) ** 2))
    ax.contour(gx, gy, Z, levels=lv, cmap="viridis", linewidths=0.8)
    for m in surface.minima:
        ax.plot(*m, marker="*", color="k", markersize=10, linestyle="none")
    x0, x1, y0, y1 = surface.extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")


def plot_surface(surface: Surface, ax: Axes | None = None, levels: int = 25,
                 resolution: int = 200) -> Figure:
    """Contour lines of the surface, its minima marked with stars."""
    fig, ax = _axes(ax, (5.0, 4.0))
    _draw_surface(ax, surface, levels, resolution)
    ax.set_title(surface.name)
    return fig


def _draw_path(ax: Axes, path: np.ndarray, label: str | None, color: Any = None) -> None:
    path = np.asarray(path, dtype=np.float64)
    line, = ax.plot(path[:, 0], path[:, 1], ".-", color=color, markersize=3, linewidth=1.2, label=label)
    ax.plot(path[0, 0], path[0, 1], "o", color=line.get_color(), markersize=6)


def plot_paths(surface: Surface, paths: Mapping[str, np.ndarray], ax: Axes | None = None,
               levels: int = 25, legend: bool = True) -> Figure:
    """The surface's contours with one path per entry of ``paths`` (label -> (k, 2) array).

    A circle marks each start. Paths that leave the window are clipped by the axes.
    """
    fig, ax = _axes(ax, (5.5, 4.5))
    _draw_surface(ax, surface, levels, 200)
    for label, path in paths.items():
        _draw_path(ax, path, label)
    if paths and legend:
        ax.legend(fontsize=8, loc="upper right")
    ax.set_title(surface.name)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _verdict(surface: Surface, path: np.ndarray, steps: int) -> str:
    """In words: did the walk diverge, converge, or stop short?"""
    losses = surface(path)
    gap0, gap = losses[0] - surface.min_value, losses[-1] - surface.min_value
    if len(path) < steps + 1 or not np.isfinite(gap) or gap > gap0:
        return "diverges: every step overshoots the valley and lands higher than before"
    if gap <= 1e-3 * max(gap0, 1e-12):
        return f"converges: the loss is within 0.1% of the minimum after {steps} steps"
    return (f"too small: after {steps} steps the loss has come down {1 - gap / gap0:.1%} of the way; "
            "it would get there, slowly")


def learning_rate_widget(surface: Surface, rule: Rule, start: Any, lr: float = 0.01,
                         lr_range: tuple[float, float] = (1e-3, 1.0), steps: int = 50,
                         config: Mapping[str, Any] | None = None) -> ipywidgets.VBox:
    """A log-scale slider for the learning rate of ``rule`` on ``surface``, starting at ``start``.

    Each move reruns ``steps`` steps with ``{**config, "lr": slider value}`` and redraws the
    path on the contour plot beside the loss per step, with a one-line verdict (diverges,
    converges, too small). The VBox carries its parts as attributes for tests and notebooks:
    ``slider``, ``verdict`` (Label), ``image`` (Image) and ``path()``.
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    lo, hi = lr_range
    slider = widgets.FloatLogSlider(value=lr, base=10, min=np.log10(lo), max=np.log10(hi), step=0.02,
                                    description="learning rate", readout_format=".3g",
                                    style={"description_width": "initial"},
                                    layout=widgets.Layout(width="480px"))
    verdict = widgets.Label()
    image = widgets.Image(format="png", layout=widgets.Layout(width="860px"))

    def path() -> np.ndarray:
        return run_rule(surface, rule, start, {**(config or {}), "lr": slider.value}, steps)

    def redraw(_change: Any = None) -> None:
        p = path()
        verdict.value = f"η = {slider.value:.3g}: {_verdict(surface, p, steps)}"
        fig = Figure(figsize=(10.5, 4.0), dpi=80)
        ax_path, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
        _draw_surface(ax_path, surface, 25, 150)
        _draw_path(ax_path, p, None, color="C3")
        ax_path.set_title(f"{surface.name}, η = {slider.value:.3g}")
        losses = surface(p) - surface.min_value
        ax_loss.semilogy(np.arange(len(p)), np.maximum(losses, 1e-16), "C3.-", markersize=3)
        ax_loss.set_xlim(0, steps)
        ax_loss.set_xlabel("step")
        ax_loss.set_ylabel("L(w) − L(w*)")
        ax_loss.set_title("distance to the minimum, in loss")
        fig.tight_layout()
        image.value = _png(fig)

    slider.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([slider, verdict, image])
    box.slider, box.verdict, box.image, box.path = slider, verdict, image, path
    return box


def polynomial_features(x: Any, degree: int) -> np.ndarray:
    """Legendre polynomials P_0(x) ... P_degree(x) of x in [−1, 1]: (N,) -> (N, degree + 1).

    The same functions as 1, x, ..., x^degree span, but far better conditioned for least squares.
    """
    return np.polynomial.legendre.legvander(np.asarray(x, dtype=np.float64).reshape(-1), degree)


def fit_polynomial(x: Any, y: Any, degree: int) -> np.ndarray:
    """Least-squares coefficients (degree + 1,) of the polynomial of that degree through (x, y)."""
    A = polynomial_features(x, degree)
    return np.linalg.lstsq(A, np.asarray(y, dtype=np.float64).reshape(-1), rcond=None)[0]


def capacity_errors(x_train: Any, y_train: Any, x_val: Any, y_val: Any,
                    degrees: range) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation mean squared error of the least-squares polynomial of each degree."""
    train, val = [], []
    for d in degrees:
        coef = fit_polynomial(x_train, y_train, d)
        train.append(np.mean((polynomial_features(x_train, d) @ coef - y_train) ** 2))
        val.append(np.mean((polynomial_features(x_val, d) @ coef - y_val) ** 2))
    return np.array(train), np.array(val)


def capacity_widget(x_train: Any, y_train: Any, x_val: Any, y_val: Any, max_degree: int = 15,
                    degree: int = 1, truth: Callable[[np.ndarray], np.ndarray] | None = None) -> ipywidgets.VBox:
    """A slider for the degree of a polynomial fitted by least squares to (x_train, y_train).

    x in [−1, 1]. Left: the data and the fitted curve (and ``truth`` if given); right: the
    training and validation errors of every degree, the current one marked. The label
    names the regime: underfitting, about right, overfitting. Attributes: ``slider``,
    ``verdict``, ``image``.
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    x_train, y_train = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (x_train, y_train))
    x_val, y_val = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (x_val, y_val))
    degrees = range(max_degree + 1)
    train_err, val_err = capacity_errors(x_train, y_train, x_val, y_val, degrees)
    best = int(np.argmin(val_err))
    slider = widgets.IntSlider(value=degree, min=0, max=max_degree, description="degree")
    verdict = widgets.Label()
    image = widgets.Image(format="png", layout=widgets.Layout(width="860px"))
    grid = np.linspace(-1, 1, 300)
    y_lo, y_hi = y_train.min(), y_train.max()
    pad = 0.5 * (y_hi - y_lo)

    def regime(d: int) -> str:
        if val_err[d] <= 1.25 * val_err[best]:
            return "about right: the validation error is close to the best of all degrees"
        if d < best:
            return "underfitting: too simple, both errors are high"
        return "overfitting: the curve chases the noise, training error low but validation error high"

    def redraw(_change: Any = None) -> None:
        d = slider.value
        verdict.value = (f"degree {d}: training MSE {train_err[d]:.3f}, validation MSE {val_err[d]:.3f}: "
                         f"{regime(d)}")
        fig = Figure(figsize=(10.5, 3.8), dpi=80)
        ax_fit, ax_err = fig.subplots(1, 2)
        ax_fit.scatter(x_val, y_val, s=10, color="C1", alpha=0.5, label="validation")
        ax_fit.scatter(x_train, y_train, s=22, color="C0", edgecolors="k", linewidths=0.4, label="training")
        if truth is not None:
            ax_fit.plot(grid, truth(grid), "k--", linewidth=1, label="truth")
        coef = fit_polynomial(x_train, y_train, d)
        ax_fit.plot(grid, polynomial_features(grid, d) @ coef, "C3", linewidth=2, label=f"degree {d}")
        ax_fit.set_ylim(y_lo - pad, y_hi + pad)
        ax_fit.legend(fontsize=8, loc="upper left")
        ax_fit.set_xlabel("x")
        ax_err.semilogy(list(degrees), np.maximum(train_err, 1e-12), "o-", color="C0", markersize=3, label="training")
        ax_err.semilogy(list(degrees), val_err, "o-", color="C1", markersize=3, label="validation")
        ax_err.axvline(d, color="C3", linewidth=1)
        # Interpolating degrees have training error ~0 and validation error in the millions: clip both.
        ax_err.set_ylim(0.3 * train_err[train_err > 1e-6].min(), 30 * max(val_err[0], train_err[0]))
        ax_err.set_xlabel("degree (capacity)")
        ax_err.set_ylabel("mean squared error")
        ax_err.legend(fontsize=8)
        fig.tight_layout()
        image.value = _png(fig)

    slider.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([slider, verdict, image])
    box.slider, box.verdict, box.image = slider, verdict, image
    return box
