"""Looking inside a convolutional network: its filters and the feature maps they produce.

As in :mod:`course_utils.viz`, each plot draws with pyplot and returns the Figure
without calling plt.show(); torch and matplotlib are imported inside the functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._arrays import as_numpy
from .viz import _grid  # the same panel grid as show_images

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from matplotlib.figure import Figure


__all__ = ["show_filters", "show_feature_maps", "layer_outputs", "show_conv_step"]


def show_filters(weight: Any, ncols: int = 8, title: str | None = None, cell: float = 1.0) -> Figure:
    """Convolution filters as images. weight: (F, C, kh, kw), e.g. ``conv.weight``.

    One input channel: a diverging colour map on one symmetric scale shared by all
    filters (red positive, blue negative, white zero), so filters can be compared.
    Three channels: colour images, each min-max scaled. Otherwise each filter's
    channels are averaged.
    """
    w = as_numpy(weight, dtype=np.float64)
    if w.ndim != 4:
        raise ValueError(f"weight must be (F, C, kh, kw), got shape {w.shape}")
    fig, axes = _grid(len(w), ncols, cell)
    if w.shape[1] == 3:
        for ax, f in zip(axes, w):
            img = f.transpose(1, 2, 0)
            lo, hi = img.min(), img.max()
            ax.imshow((img - lo) / (hi - lo) if hi > lo else np.zeros_like(img))
    else:
        maps = w.mean(axis=1)  # (F, kh, kw)
        scale = float(np.abs(maps).max()) or 1.0
        for ax, f in zip(axes, maps):
            ax.imshow(f, cmap="RdBu_r", vmin=-scale, vmax=scale)
    for i, ax in enumerate(axes[: len(w)]):
        ax.set_title(str(i), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_feature_maps(maps: Any, ncols: int = 8, title: str | None = None, limit: int = 32,
                      cell: float = 1.2) -> Figure:
    """The activation maps of one image, maps: (C, H, W) (or (1, C, H, W)), each on its own scale."""
    m = as_numpy(maps, dtype=np.float64)
    if m.ndim == 4 and m.shape[0] == 1:
        m = m[0]
    if m.ndim != 3:
        raise ValueError(f"maps must be (C, H, W), got shape {m.shape}")
    m = m[:limit]
    fig, axes = _grid(len(m), ncols, cell)
    for i, (ax, fmap) in enumerate(zip(axes, m)):
        ax.imshow(fmap, cmap="viridis")
        ax.set_title(str(i), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def layer_outputs(model: torch.nn.Module, x: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
    """Run x through a Sequential model one layer at a time: [(layer name, output), ...].

    Works without gradients and in the model's current mode (call model.eval() first
    for a trained model). Each name is the layer's index and class, e.g. "3 MaxPool2d".
    """
    import torch

    outputs = []
    with torch.no_grad():
        for name, layer in model.named_children():
            x = layer(x)
            outputs.append((f"{name} {type(layer).__name__}", x))
    return outputs


def show_conv_step(x: Any, kernel: Any, position: int = 0, stride: int = 1, pad: int = 0) -> Figure:
    """One step of a 2-D convolution (cross-correlation, as in deep learning), drawn.

    x: (H, W), kernel: (kh, kw). Three panels: the zero-padded input with the window at
    output ``position`` (counted row by row) outlined, the kernel, and the output with
    every value up to that position filled in and the current one outlined.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    x, k = as_numpy(x, dtype=np.float64), as_numpy(kernel, dtype=np.float64)
    x_pad = np.pad(x, pad)
    kh, kw = k.shape
    h_out, w_out = (x_pad.shape[0] - kh) // stride + 1, (x_pad.shape[1] - kw) // stride + 1
    if not 0 <= position < h_out * w_out:
        raise ValueError(f"position must be in 0..{h_out * w_out - 1}, got {position}")
    out = np.full((h_out, w_out), np.nan)
    for p in range(position + 1):
        i, j = divmod(p, w_out)
        out[i, j] = np.sum(x_pad[i * stride:i * stride + kh, j * stride:j * stride + kw] * k)
    i, j = divmod(position, w_out)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), gridspec_kw={"width_ratios": [x_pad.shape[1], kw + 1, w_out + 1]})
    panels = [(x_pad, "input" + (f" (zero-padded by {pad})" if pad else "")), (k, "kernel"), (out, "output")]
    for ax, (grid, name) in zip(axes, panels):
        ax.imshow(np.nan_to_num(grid, nan=0.0), cmap="Greys", alpha=0.25)
        for (r, c), value in np.ndenumerate(grid):
            if not np.isnan(value):
                ax.text(c, r, f"{value:g}", ha="center", va="center", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(name)
    if pad:
        axes[0].add_patch(Rectangle((pad - 0.5, pad - 0.5), x.shape[1], x.shape[0], fill=False, ls=":", lw=1))
    axes[0].add_patch(Rectangle((j * stride - 0.5, i * stride - 0.5), kw, kh, fill=False, ec="C3", lw=2.5))
    axes[2].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="C3", lw=2.5))
    fig.suptitle(f"output[{i}, {j}] = sum(window * kernel) = {out[i, j]:g}   (stride {stride}, padding {pad})")
    fig.tight_layout()
    return fig
