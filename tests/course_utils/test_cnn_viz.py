"""Filter, feature-map and convolution-step plots (course_utils.cnn_viz), with the Agg backend."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from course_utils.cnn_viz import layer_outputs, show_conv_step, show_feature_maps, show_filters


def _shown(fig: Figure) -> list[np.ndarray]:
    return [np.asarray(ax.images[0].get_array()) for ax in fig.axes if ax.images]


def test_show_filters_grey_on_one_symmetric_scale() -> None:
    w = torch.zeros(5, 1, 3, 3)
    w[0, 0, 0, 0], w[1, 0, 1, 1] = 2.0, -0.5
    fig = show_filters(w, ncols=4, title="conv1")
    shown = _shown(fig)
    assert len(shown) == 5 and shown[0].shape == (3, 3)
    limits = {ax.images[0].get_clim() for ax in fig.axes if ax.images}
    assert limits == {(-2.0, 2.0)}, "one scale, symmetric around zero, shared by every filter"
    assert fig._suptitle.get_text() == "conv1"


def test_show_filters_colour_and_bad_shape() -> None:
    rng = np.random.default_rng(0)
    fig = show_filters(rng.normal(size=(2, 3, 5, 5)))
    shown = _shown(fig)
    assert shown[0].shape == (5, 5, 3) and shown[0].min() == 0 and shown[0].max() == 1
    with pytest.raises(ValueError, match="F, C, kh, kw"):
        show_filters(np.zeros((3, 3)))


def test_show_feature_maps_limit_and_batch_axis() -> None:
    maps = torch.rand(1, 40, 6, 6)
    fig = show_feature_maps(maps, limit=10, ncols=5)
    assert len(_shown(fig)) == 10
    with pytest.raises(ValueError, match="C, H, W"):
        show_feature_maps(np.zeros((2, 3, 4, 4)))


def test_layer_outputs_names_and_shapes() -> None:
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
    outputs = layer_outputs(model, torch.randn(2, 1, 8, 8))
    assert [name for name, _ in outputs] == ["0 Conv2d", "1 ReLU", "2 MaxPool2d", "3 Flatten"]
    assert [tuple(t.shape) for _, t in outputs] == [(2, 4, 8, 8), (2, 4, 8, 8), (2, 4, 4, 4), (2, 64)]
    assert not outputs[0][1].requires_grad


def test_show_conv_step_on_the_worked_example() -> None:
    x = np.array([[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]])
    k = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
    fig = show_conv_step(x, k, position=0)
    assert "= 6" in fig._suptitle.get_text()
    output_texts = [t.get_text() for t in fig.axes[2].texts]
    assert output_texts == ["6"], "only the positions computed so far are filled in"
    fig = show_conv_step(x, k, position=8)
    assert [t.get_text() for t in fig.axes[2].texts] == ["6", "-9", "-8", "-3", "-2", "-3", "-3", "0", "-2"]
    padded = show_conv_step(x, k, position=0, stride=2, pad=1)
    assert "= -7" in padded._suptitle.get_text() and len(padded.axes[0].texts) == 49
    with pytest.raises(ValueError, match="position"):
        show_conv_step(x, k, position=9)
