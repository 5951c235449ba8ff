# %% [markdown]
# # 05 · Convolutional neural networks
#
# The networks of notebooks 03 and 04 flatten an image into a long vector and connect
# every pixel to every hidden unit. They never learn that neighbouring pixels belong
# together, or that a sleeve looks the same at the top and at the bottom of the picture.
# A **convolutional** network builds both ideas into its layers: small filters that look
# at a few neighbouring pixels at a time, the same filters slid over the whole image.
#
# You will implement:
#
# * `conv_output_size` and `conv_param_count`, the two formulas every CNN designer uses;
# * `conv_forward_naive`, a convolution layer with loops (stride and zero padding), and
#   `conv_forward_fast`, the same layer as one matrix product (**im2col**), with no
#   Python loop over examples, channels, filters or positions;
# * `max_pool_forward` and `max_pool_backward`;
# * `ResidualBlock`, the building block of ResNets, in PyTorch;
# * `build_cnn` and `train_cnn`: a CNN for Fashion-MNIST and the recipe that trains it
#   with a fixed amount of work, on the GPU when there is one. The grader trains your
#   model with your recipe and scores its predictions on the test set.
#
# Along the way: pictures of what a convolution computes, the classic architectures
# (LeNet-5, AlexNet, VGG, ResNet), and the filters and feature maps of your trained
# network. An optional last section trains a ResNet on CIFAR-10 when you have it.
#
# **Shapes.** Images come in batches, channels first, as in PyTorch: `x` is
# $(N, C, H, W)$ (examples, channels, height, width); a layer's filters `w` are
# $(F, C, HH, WW)$ (filters, input channels, filter height, filter width) and its biases
# `b` are $(F,)$.

# %%
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits
from torch import nn

import course_utils as cu
from course_utils import cnn_viz, train

cu.seed_everything(0)
# NumPy's matrix products in this notebook are small: with several BLAS threads they spend
# more time synchronising than computing, so one thread is faster (PyTorch is not affected).
blas_threads = threadpool_limits(1, user_api="blas")
device = cu.best_device()
print("training device:", device)

# %% [markdown]
# ## 1. Why convolutions?
#
# Take a small colour image, 32 × 32 × 3 = 3072 numbers. A fully connected hidden unit
# has one weight per number, 3072 weights; 100 such units need 307,200. For a
# 200 × 200 photo it would be 120,000 weights *per unit*. Worse than the size, a dense
# layer has no idea where each pixel is: shuffle the pixels of every image the same way
# and it learns exactly as well, so it must discover from data alone that neighbouring
# pixels matter together, separately at every position.
#
# A **convolution layer** makes three assumptions that hold for images:
#
# * **locality**: a unit looks only at a small patch (its *receptive field*), say
#   5 × 5 pixels, because edges, corners and textures are local;
# * **parameter sharing**: the same small set of weights, a **filter**, is used at every
#   position, because a pattern worth detecting at one place is worth detecting anywhere;
# * hence **translation equivariance**: shift the input and the output shifts the same
#   way. (Pooling, section 6, then adds a little invariance to small shifts.)
#
# A filter always spans the **full depth** of its input: on a 32 × 32 × 3 image a
# 5 × 5 filter has 5 × 5 × 3 = 75 weights (and one bias). Sliding it over every position
# gives a 28 × 28 **activation map** (or feature map). A layer has several filters; with
# 6 filters of 5 × 5 we get 6 maps, an output of 28 × 28 × 6, for only
# 6 × 76 = 456 parameters.
#
# Equivariance is easy to see. Below, a filter that responds to vertical edges is run
# over a Fashion-MNIST image and over the same image shifted 6 pixels to the right
# (PyTorch's `F.conv2d` computes it here; soon you will write your own).

# %%
X_train_raw, y_train_raw = cu.load_fashion_mnist("train")  # uint8 (55000, 28, 28), int64 (55000,)
X_val_raw, y_val = cu.load_fashion_mnist("val")  # uint8 (5000, 28, 28), int64 (5000,)
image = X_train_raw[0].astype(np.float64) / 255
shifted = np.roll(image, 6, axis=1)
edge_kernel = torch.tensor([[1.0, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=torch.float64)
responses = [F.conv2d(torch.tensor(img)[None, None], edge_kernel[None, None])[0, 0].numpy() for img in (image, shifted)]
fig, axes = plt.subplots(1, 4, figsize=(12, 3))
for ax, img, title in zip(axes, [image, responses[0], shifted, responses[1]],
                          ["image", "vertical-edge map", "image shifted right", "its edge map: shifted too"]):
    ax.imshow(img, cmap="gray" if "image" in title else "RdBu_r")
    ax.set_title(title)
    ax.set_axis_off()
plt.show()
shift_equivariant = np.allclose(responses[1][:, 6:], responses[0][:, :-6])
print("the map of the shifted image equals the shifted map:", shift_equivariant)
assert shift_equivariant, "the edge map of the shifted image should be the edge map, shifted"

# %% [markdown]
# ## 2. What a convolution computes
#
# One filter, one position: multiply the filter's weights with the input values under
# it, elementwise, add everything up, add the bias. For input $x$ of shape $(C, H, W)$,
# a filter $w$ of shape $(C, HH, WW)$ and bias $b$, output position $(i, j)$ is
#
# $$ \text{out}[i, j] = b + \sum_{c=0}^{C-1} \sum_{k=0}^{HH-1} \sum_{l=0}^{WW-1}
#    x[c,\ i + k,\ j + l]\; w[c, k, l] . $$
#
# With a batch and $F$ filters, $\text{out}[n, f, i, j]$ uses example $n$ and filter $f$.
#
# **A worked example.** A 5 × 5 input and the 3 × 3 kernel
# $\begin{pmatrix} 1 & 0 & -1 \\ 1 & 0 & -1 \\ 1 & 0 & -1 \end{pmatrix}$
# (left column minus right column: a vertical-edge detector), no bias:
#
# $$ x = \begin{pmatrix} 7 & 2 & 3 & 3 & 8 \\ 4 & 5 & 3 & 8 & 4 \\ 3 & 3 & 2 & 8 & 4 \\
#    2 & 8 & 7 & 2 & 7 \\ 5 & 4 & 4 & 5 & 4 \end{pmatrix} $$
#
# At the top-left position the window is the first three rows and columns:
# $7 \cdot 1 + 2 \cdot 0 + 3 \cdot (-1) + 4 \cdot 1 + 5 \cdot 0 + 3 \cdot (-1) +
# 3 \cdot 1 + 3 \cdot 0 + 2 \cdot (-1) = (7 + 4 + 3) - (3 + 3 + 2) = \mathbf{6}$.
# Sliding the window one step at a time gives a 3 × 3 output,
# $\begin{pmatrix} 6 & -9 & -8 \\ -3 & -2 & -3 \\ -3 & 0 & -2 \end{pmatrix}$.
#
# **Convolution or cross-correlation?** In mathematics a convolution flips the kernel
# (rows and columns reversed) before sliding it. Deep-learning libraries do *not* flip:
# what they call convolution is, strictly, a cross-correlation, as in the formula above.
# For learned filters it makes no difference (the network would simply learn the
# flipped filter), but to agree with PyTorch your code must not flip. With the flip the
# top-left value above would be −6.
#
# Move the slider to walk the window over the input; try a stride of 2 and a padding
# of 1 (next section).

# %%
x_ex = np.array([[7, 2, 3, 3, 8], [4, 5, 3, 8, 4], [3, 3, 2, 8, 4], [2, 8, 7, 2, 7], [5, 4, 4, 5, 4]], dtype=float)
k_ex = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float)


def conv_step(position=0, stride=1, pad=0):
    positions = ((5 - 3 + 2 * pad) // stride + 1) ** 2
    cnn_viz.show_conv_step(x_ex, k_ex, min(position, positions - 1), stride, pad)
    plt.show()


widgets.interact(conv_step, position=widgets.IntSlider(0, 0, 24), stride=widgets.IntSlider(1, 1, 2),
                 pad=widgets.IntSlider(0, 0, 1));

# %% [markdown]
# ## 3. Stride, padding and the size of the output
#
# Two settings change where the window goes:
#
# * the **stride** $S$ is the step between two positions: $S = 2$ skips every other
#   position and roughly halves the width and height of the output;
# * **zero padding** $P$ adds $P$ rows or columns of zeros on *each* side of the input,
#   so that the window can be centred on the border pixels too.
#
# For an input of width $W_1$ and a filter of width $F$, the window fits at
#
# $$ W_2 = \frac{W_1 - F + 2P}{S} + 1 $$
#
# positions across, and the same formula with heights gives $H_2$. The depth of the
# output is the number of filters, $D_2 = K$. Examples:
#
# * 32 × 32 input, 5 × 5 filters, $S = 1$, $P = 0$: $(32 - 5)/1 + 1 = 28$;
# * 7 × 7 input, 3 × 3 filter, $S = 2$: $(7 - 3)/2 + 1 = 3$; with $S = 3$ it would be
#   $4/3 + 1$, not a whole number: the filter does not tile the input. PyTorch then
#   drops the positions that do not fit, which is rounding the division *down*;
# * $P = (F - 1)/2$ with $S = 1$ keeps the size: 3 × 3 filters with $P = 1$, 5 × 5 with
#   $P = 2$ ("same" padding).
#
# **Parameters.** Each of the $K$ filters has $F \cdot F \cdot D_1$ weights, where $D_1$ is
# the depth of the input, plus one bias: $F \cdot F \cdot D_1 \cdot K$ weights and $K$
# biases in all. The input's width and height do not appear: that is parameter sharing.
# A fully connected layer from $D_1$ numbers to $K$ is the special case $F = 1$ on a
# 1 × 1 input.
#
# ### Exercise 1: the two formulas

# %% solution="conv_sizes"
def conv_output_size(W: int, F: int, P: int = 0, S: int = 1) -> int:
    """Positions of an F-wide window on a W-wide input with padding P and stride S: (W − F + 2P) // S + 1."""
    ### BEGIN SOLUTION
    return (W - F + 2 * P) // S + 1
    ### END SOLUTION


def conv_param_count(F: int, D_in: int, K: int) -> int:
    """Learnable parameters of a conv layer with K filters of F × F over D_in input channels (biases included)."""
    ### BEGIN SOLUTION
    return F * F * D_in * K + K
    ### END SOLUTION


# %% tests="test_conv_sizes" points=2
cu.check_equal(conv_output_size(32, 5), 28, "conv_output_size(32, 5)",
               hint="(W − F + 2P) / S + 1 = (32 − 5) / 1 + 1: the + 1 counts the first position")
cu.check_equal(conv_output_size(5, 3), 3, "conv_output_size(5, 3), the worked example")
cu.check_equal(conv_output_size(7, 3, S=2), 3, "conv_output_size(7, 3, S=2)", hint="(7 − 3) / 2 + 1 = 3")
cu.check_equal(conv_output_size(32, 5, P=2), 32, "conv_output_size(32, 5, P=2)",
               hint="padding adds P zeros on EACH side: the input becomes W + 2P wide")
cu.check_equal(conv_output_size(7, 3, S=3), 2, "conv_output_size(7, 3, S=3)",
               hint="(7 − 3) / 3 is not whole: round down with //, as PyTorch does")
cu.check_type(conv_output_size(7, 3, S=3), (int, np.integer), "conv_output_size(7, 3, S=3)")
# One input channel first: there a forgotten depth cannot show, a forgotten bias can.
cu.check_equal(conv_param_count(3, 1, 32), 320, "conv_param_count(3, 1, 32)",
               hint="3 · 3 · 1 weights per filter, times 32 filters, plus one bias per filter")
cu.check_equal(conv_param_count(5, 3, 6), 456, "conv_param_count(5, 3, 6): six 5×5 filters on an RGB image",
               hint="a filter spans ALL the input channels: 5 · 5 · 3 weights per filter, times 6 filters, plus 6 "
                    "biases")
cu.check_equal(conv_param_count(1, 9216, 128), 1_179_776, "a dense layer 9216 -> 128 as a 1×1 'convolution'",
               hint="F · F · D_in · K weights plus K biases")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report

_rng = hidden_rng(5101)
# Layers drawn for this course: width, filter, padding, stride, with the window always fitting.
_F = _rng.integers(1, 8, size=12)
_cases = [(int(f + _rng.integers(0, 60)), int(f), int(_rng.integers(0, 4)), int(_rng.integers(1, 5))) for f in _F]
_cases += [(10, 3, 0, 3), (11, 5, 1, 3), (56, 1, 0, 2), (7, 7, 0, 1)]  # strides that do not tile, F = 1, F = W
report("output sizes for unseen layers", lambda: np.array([conv_output_size(*c) for c in _cases]), kind="equal")
report("output size with keyword arguments",
       lambda: np.array([conv_output_size(W=w, F=f, P=p, S=st) for w, f, p, st in _cases[:4]]), kind="equal")
_layers = [(int(f), int(d), int(k)) for f, d, k in zip(_rng.integers(1, 12, size=6), _rng.integers(1, 600, size=6),
                                                       _rng.integers(1, 1200, size=6))]
_layers += [(1, 4096, 1000), (11, 3, 96)]
report("parameter counts for unseen layers", lambda: np.array([conv_param_count(*c) for c in _layers]), kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# Try the formulas on the classic PyTorch MNIST example, which section 8 builds: two
# 3 × 3 convolutions without padding (1 → 32 → 64 channels) turn 28 × 28 into
# 26 × 26 and then 24 × 24, a 2 × 2 max pool (section 6) halves that to 12 × 12, and
# $64 \cdot 12 \cdot 12 = 9216$ numbers go into a dense layer of 128 units, then 10.

# %%
with cu.needs_your_code():
    side = conv_output_size(conv_output_size(28, 3), 3) // 2
    classic_counts = {"conv 1→32": conv_param_count(3, 1, 32), "conv 32→64": conv_param_count(3, 32, 64),
                      f"dense {64 * side * side}→128": conv_param_count(1, 64 * side * side, 128),
                      "dense 128→10": conv_param_count(1, 128, 10)}
    for name, count in classic_counts.items():
        print(f"{name:18} {count:>10,}")
    classic_total = sum(classic_counts.values())
    dense_share = classic_counts[f"dense {64 * side * side}→128"] / classic_total
    print(f"{'total':18} {classic_total:>10,}   (the first dense layer: {dense_share:.1%})")
    assert side == 12 and round(classic_total / 1e6, 1) == 1.2 and round(100 * dense_share) == 98, (
        f"the text below says 98 % of about 1.2 million parameters; here {dense_share:.1%} of {classic_total:,}")

# %% [markdown]
# 98 % of those 1.2 million parameters sit in the first dense layer: the convolutions
# are cheap in parameters (though not in computation, as we will see).
#
# ## 4. A convolution layer with loops
#
# Now the whole layer: a batch `x` of shape $(N, C, H, W)$, filters `w` of shape
# $(F, C, HH, WW)$, biases `b` of shape $(F,)$, a stride and a padding. The output has
# shape $(N, F, H', W')$ with $H'$ and $W'$ from your `conv_output_size`.
#
# 1. Pad only the two spatial axes: `np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))`.
#    (`np.pad(x, pad)` would pad the batch and channel axes too.)
# 2. Loop over examples $n$, filters $f$ and output positions $(i, j)$. The window of
#    output $(i, j)$ starts at row $i \cdot S$ and column $j \cdot S$ of the padded input
#    and spans all channels: `x_pad[n, :, i*S : i*S + HH, j*S : j*S + WW]`.
# 3. `out[n, f, i, j]` is the sum of `window * w[f]` plus `b[f]`. No flipping.
#
# ### Exercise 2: `conv_forward_naive`

# %% solution="conv_naive"
def conv_forward_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Convolution (cross-correlation) with loops. x: (N, C, H, W), w: (F, C, HH, WW), b: (F,) -> (N, F, H', W')."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = conv_output_size(H, HH, pad, stride), conv_output_size(W, WW, pad, stride)
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))
    ### BEGIN SOLUTION
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    ### END SOLUTION
    return out


# %% tests="test_conv_naive" points=3
out = conv_forward_naive(x_ex[None, None], k_ex[None, None], np.zeros(1))
cu.check_shape(out, (1, 1, 3, 3), "conv_forward_naive on the worked example",
               hint="a 3×3 window fits at (5 − 3) + 1 = 3 positions across and down")
cu.check_close(out[0, 0, 0, 0], 6.0, "the top-left output of the worked example",
               hint="sum(window * kernel) WITHOUT flipping the kernel; −6 means the kernel was flipped")
cu.check_close(out[0, 0], [[6, -9, -8], [-3, -2, -3], [-3, 0, -2]], "the whole worked example")
# One setting at a time, so that the hint can name the one that is wrong.
cu.check_close(conv_forward_naive(x_ex[None, None], k_ex[None, None], np.array([0.5]))[0, 0],
               [[6.5, -8.5, -7.5], [-2.5, -1.5, -2.5], [-2.5, 0.5, -1.5]], "the worked example with bias 0.5",
               hint="add the filter's bias b[f] to every output of filter f")
cu.check_close(conv_forward_naive(x_ex[None, None], k_ex[None, None], np.zeros(1), stride=2)[0, 0],
               [[6, -8], [-3, -2]], "the worked example with stride 2",
               hint="with a stride, window (i, j) starts at row i·stride and column j·stride")
cu.check_close(conv_forward_naive(x_ex[None, None], k_ex[None, None], np.zeros(1), pad=1)[0, 0],
               F.conv2d(torch.tensor(x_ex)[None, None], torch.tensor(k_ex)[None, None], padding=1)[0, 0].numpy(),
               "the worked example with padding 1",
               hint="pad the two spatial axes only: np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))); "
                    "np.pad(x, pad) pads the batch and channel axes too")
out = conv_forward_naive(x_ex[None, None], k_ex[None, None], np.array([0.5]), stride=2, pad=1)
cu.check_close(out[0, 0], [[-6.5, -3.5, 11.5], [-15.5, -1.5, 18.5], [-11.5, 5.5, 7.5]],
               "the worked example with stride 2, padding 1 and bias 0.5",
               hint="window (i, j) starts at (i·stride, j·stride) of the PADDED input")
rng = np.random.default_rng(0)
x, w, b = rng.normal(size=(2, 3, 7, 8)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
for stride, pad in [(1, 0), (2, 1), (3, 2)]:
    expected = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=stride, padding=pad).numpy()
    cu.check_close(conv_forward_naive(x, w, b, stride, pad), expected, f"stride {stride}, pad {pad} vs torch.conv2d",
                   rtol=1e-9, hint="each window spans ALL input channels: x_pad[n, :, rows, cols] * w[f]")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report_call

_rng = hidden_rng(5201)
_x, _w, _b = _rng.normal(size=(2, 2, 6, 9)), _rng.normal(size=(3, 2, 3, 4)), _rng.normal(size=3)
# report_call also reports a second call on the same arrays, and the arrays after both calls.
report_call("unseen inputs, stride 1, no padding", conv_forward_naive, _x.copy(), _w.copy(), _b.copy(), rtol=1e-9)
report_call("unseen inputs, stride 2, padding 1", conv_forward_naive, _x.copy(), _w.copy(), _b.copy(), 2, 1,
            rtol=1e-9)
report_call("stride 3, padding 2, a rectangular kernel", conv_forward_naive, _x.copy(), _w.copy(), _b.copy(), 3, 2,
            rtol=1e-9)
_x1, _w1 = _rng.normal(size=(1, 3, 5, 5)), _rng.normal(size=(2, 3, 5, 5))
report_call("a filter as large as the input", conv_forward_naive, _x1, _w1, _rng.normal(size=2), rtol=1e-9)
_x2, _w2 = _rng.normal(size=(3, 1, 4, 4)) * 1e3, _rng.normal(size=(2, 1, 2, 2))
report_call("large inputs, more examples than filters", conv_forward_naive, _x2, _w2, np.zeros(2), 2, 0, rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# Your layer already detects edges. Here is a Fashion-MNIST image through the vertical
# kernel of the worked example and its transpose, a horizontal-edge detector (red:
# positive responses, blue: negative).

# %%
with cu.needs_your_code():
    edges = conv_forward_naive(image[None, None], np.stack([k_ex, k_ex.T])[:, None], np.zeros(2), pad=1)
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    for ax, img, title in zip(axes, [image, edges[0, 0], edges[0, 1]], ["image", "vertical edges", "horizontal edges"]):
        ax.imshow(img, cmap="gray" if title == "image" else "RdBu_r")
        ax.set_title(title)
        ax.set_axis_off()
    plt.show()

# %% [markdown]
# ## 5. A fast convolution: im2col
#
# Four nested Python loops run one small NumPy operation per output value: fine for a
# 28 × 28 image, hopeless for a training set. The standard trick turns the whole layer
# into **one matrix product**, which NumPy hands to an optimised BLAS library.
#
# **im2col** ("image to columns") copies every receptive field into a row of a big
# matrix:
#
# * `cols` has one row per (example, output position), $N \cdot H' \cdot W'$ rows, and
#   one column per weight of a filter, $C \cdot HH \cdot WW$ columns;
# * the filters, reshaped to `w.reshape(F, C * HH * WW)`, have one row per filter;
# * `cols @ w_rows.T + b` is then every output at once, $(N \cdot H' \cdot W', F)$, to be
#   reshaped to $(N, H', W', F)$ and transposed to $(N, F, H', W')$.
#
# The one thing to get right is the order: a row of `cols` must list its window's values
# in the same order as a row of `w_rows`, i.e. channel first, then filter row, then
# filter column.
#
# To build `cols` without loops, `np.lib.stride_tricks.sliding_window_view(x_pad, (HH, WW),
# axis=(2, 3))` gives every window position at stride 1 as an array of shape
# $(N, C, H_p - HH + 1, W_p - WW + 1, HH, WW)$ without copying anything (it is a *view*
# of `x_pad`); `[:, :, ::stride, ::stride]` keeps the positions a stride visits; a
# `transpose` and a `reshape` make the matrix (the reshape does the copy). Below, the
# `cols` of the worked example: 9 positions, 9 values each.
#
# The price is memory: each input value is copied into up to $HH \cdot WW$ rows. GPU
# libraries use the same idea, or cleverer ones (FFT, Winograd), without materialising
# the whole matrix. Another loop-light way, if you prefer: loop over the $HH \cdot WW$
# kernel offsets only and accumulate one `np.tensordot` per offset.

# %%
windows = np.lib.stride_tricks.sliding_window_view(x_ex, (3, 3))  # (3, 3, 3, 3): position, then window
print("cols of the worked example (one window per row):\n", windows.reshape(9, 9))
print("cols @ kernel:", windows.reshape(9, 9) @ k_ex.reshape(9))

# %% [markdown]
# ### Exercise 3: `conv_forward_fast`
#
# Same inputs and outputs as `conv_forward_naive`, no Python loop over positions,
# examples, channels or filters.
#
# **Precision.** Your result is compared with the reference to a relative error of
# $10^{-5}$ (and an absolute one of $10^{-5}$ for values near zero). Computing in float64, as
# NumPy does for float64 inputs, is the default; if you convert to float32 for speed (half
# the memory, often twice as fast), that is accepted too. `conv_forward_naive` stays in
# float64: there the check is to $10^{-9}$.
#
# **No loops, checked without a stopwatch.** "Is it fast?" gets a different answer on a
# laptop, on Colab and on a grading machine busy with other notebooks, so the test does not
# time your function. It counts the lines of Python your function runs, with
# `cu.python_lines(f, *args)` (lines inside NumPy count nothing), once on a small layer
# and once on a layer with more examples, channels and filters and a larger image. A Python
# loop over any of those runs its body once per item, so its count grows; one matrix
# product runs the same few lines whatever the size. That count is the same on every
# machine. (Looping over the $HH \cdot WW$ kernel offsets is fine: the kernel is 3 × 3 in
# both layers.)

# %% solution="conv_fast"
def conv_forward_fast(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Convolution as one matrix product (im2col). x: (N, C, H, W), w: (F, C, HH, WW), b: (F,) -> (N, F, H', W')."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = conv_output_size(H, HH, pad, stride), conv_output_size(W, WW, pad, stride)
    ### BEGIN SOLUTION
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(x_pad, (HH, WW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]  # (N, C, H_out, W_out, HH, WW), still a view
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * H_out * W_out, C * HH * WW)
    out = cols @ w.reshape(F, C * HH * WW).T + b  # (N·H_out·W_out, F)
    return out.reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2)
    ### END SOLUTION


# %% tests="test_conv_fast" points=3
out = conv_forward_fast(x_ex[None, None], k_ex[None, None], np.zeros(1))
cu.check_shape(out, (1, 1, 3, 3), "conv_forward_fast on the worked example")
cu.check_close(out[0, 0], [[6, -9, -8], [-3, -2, -3], [-3, 0, -2]], "the worked example",
               hint="do not flip the kernel; w.reshape(F, -1) lists each filter channel first, then rows, then columns")
rng = np.random.default_rng(1)
x, w, b = rng.normal(size=(3, 4, 9, 7)), rng.normal(size=(5, 4, 3, 3)), rng.normal(size=5)
for stride, pad in [(1, 0), (1, 1), (2, 1), (3, 0)]:
    cu.check_close(conv_forward_fast(x, w, b, stride, pad), conv_forward_naive(x, w, b, stride, pad),
                   f"conv_forward_fast vs conv_forward_naive, stride {stride}, pad {pad}", rtol=1e-5, atol=1e-5,
                   hint="the columns of cols must be in the order of w.reshape(F, -1): channel, then row, then "
                        "column" if stride == 1 else
                        "a stride keeps every stride-th window position ([::stride]), not the first H' × W'")
# No Python loop: as many lines of Python on a layer with 3 times the examples, 2.5 times the channels,
# 3 times the filters and a 3 times taller and wider image (the 3 × 3 kernel stays).
small = (rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(2, 2, 3, 3)), rng.normal(size=2), 1, 1)
large = (rng.normal(size=(6, 5, 15, 12)), rng.normal(size=(6, 5, 3, 3)), rng.normal(size=6), 1, 1)
lines_small, lines_large = cu.check_vectorised(
    conv_forward_fast, small, large, "conv_forward_fast", grew="the batch, the channels, the filters and the image",
    hint="a Python loop over output positions, examples, channels or filters runs its body once per item: build "
         "the im2col matrix with sliding_window_view and do ONE matrix product")
print(f"conv_forward_fast ran {lines_small} lines of Python on the small layer and {lines_large} on the large one")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(5202)
_x, _w, _b = _rng.normal(size=(3, 2, 8, 11)), _rng.normal(size=(4, 2, 3, 5)), _rng.normal(size=4)
# float32 arithmetic is allowed here (the notebook says so): relative 1e-5, absolute 1e-5.
_tol = {"rtol": 1e-5, "atol": 1e-5}
report_call("unseen inputs, stride 1, no padding", conv_forward_fast, _x.copy(), _w.copy(), _b.copy(), **_tol)
report_call("unseen inputs, stride 2, padding 2", conv_forward_fast, _x.copy(), _w.copy(), _b.copy(), 2, 2, **_tol)
report_call("stride 3, padding 1", conv_forward_fast, _x.copy(), _w.copy(), _b.copy(), 3, 1, **_tol)
_x1, _w1 = _rng.normal(size=(2, 5, 6, 6)), _rng.normal(size=(3, 5, 1, 1))
report_call("a 1×1 convolution", conv_forward_fast, _x1, _w1, _rng.normal(size=3), **_tol)
_x2, _w2 = _rng.normal(size=(1, 3, 5, 7)), _rng.normal(size=(6, 3, 5, 7))
report_call("a filter as large as the input", conv_forward_fast, _x2, _w2, _rng.normal(size=6), **_tol)
_x3, _w3 = _rng.normal(size=(5, 2, 7, 6)), _rng.normal(size=(2, 2, 2, 3))
report_call("more examples than filters, stride 2", conv_forward_fast, _x3, _w3, _rng.normal(size=2), 2, 1, **_tol)
from course_utils.loops import is_vectorised

# Lines of Python run, not seconds: the same on every machine however busy it is.
_small = (_rng.normal(size=(2, 3, 6, 5)), _rng.normal(size=(2, 3, 3, 3)), _rng.normal(size=2), 1, 1)
_large = (_rng.normal(size=(7, 6, 17, 14)), _rng.normal(size=(7, 6, 3, 3)), _rng.normal(size=7), 1, 1)


report("no Python loop: as many lines of Python on a larger layer",
       lambda: is_vectorised(conv_forward_fast, _small, _large), kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# Your two functions on one 3 × 3 layer of 8 filters, on a batch of 4 three-channel
# images of growing size: the lines of Python each one runs (the same on every machine)
# and the time it took on this machine, now.

# %%
rng = np.random.default_rng(3)
naive_lines, fast_lines = {}, {}
with cu.needs_your_code():
    print(f"{'':9} {'lines of Python':^24} | {'time on this machine, now':^32}")
    print(f"{'image':9} {'naive':>12} {'fast':>11} | {'naive':>12} {'fast':>10} {'ratio':>8}")
    for side in (8, 16, 32):
        x, w, b = rng.normal(size=(4, 3, side, side)), rng.normal(size=(8, 3, 3, 3)), np.zeros(8)
        naive_lines[side] = cu.python_lines(conv_forward_naive, x, w, b, 1, 1)[1]
        fast_lines[side] = cu.python_lines(conv_forward_fast, x, w, b, 1, 1)[1]
        t_naive = cu.best_time(lambda: conv_forward_naive(x, w, b, 1, 1))
        t_fast = cu.best_time(lambda: conv_forward_fast(x, w, b, 1, 1), repeats=10)
        print(f"{side:3d} × {side:<3d} {naive_lines[side]:12,d} {fast_lines[side]:11d} | {1e3 * t_naive:9.1f} ms "
              f"{1e3 * t_fast:7.2f} ms {t_naive / t_fast:7.0f}×")
    # What the text below says, counted in lines of Python, which no busy machine changes.
    growth = naive_lines[32] / naive_lines[8]
    assert growth > 10, (f"conv_forward_naive ran {growth:.1f} times more lines at 32 × 32 than at 8 × 8; a loop over "
                         "output positions runs about 16 times more (16 times more outputs)")
    assert cu.lines_stay_flat(fast_lines[8], fast_lines[32]), (
        f"conv_forward_fast ran {fast_lines[8]} lines at 8 × 8 and {fast_lines[32]} at 32 × 32: it should not grow")

# %% [markdown]
# The loops run their body once per output value, so the Python they run grows with the
# number of outputs: more than ten times as many lines at 32 × 32 as at 8 × 8 (there are 16
# times as many outputs), and each line costs the interpreter's overhead. The matrix product
# runs the same few lines at every size and leaves the arithmetic to BLAS. The times and the
# ratio in the last columns are this machine's, measured while the cell ran: they change
# from one machine to the next and with whatever else the machine is doing, but the ratio
# usually grows with the image, because the fixed cost of the fast version's few lines
# weighs less and less.

# %% [markdown]
# ## 6. Pooling
#
# A **pooling** layer shrinks each activation map on its own, channel by channel: it
# makes the following layers cheaper, lets their filters see a larger part of the image,
# and makes the network a little less sensitive to small shifts (a maximum does not care
# exactly where in its window the feature was). **Max pooling** keeps the largest value
# of each window; a 2 × 2 window with stride 2 is the usual choice and halves the width
# and the height. On one 4 × 4 map:
#
# $$ \begin{pmatrix} 1 & 1 & 2 & 4 \\ 5 & 6 & 7 & 8 \\ 3 & 2 & 1 & 0 \\ 1 & 2 & 3 & 4 \end{pmatrix}
#    \ \xrightarrow{\ \text{max pool } 2 \times 2,\ \text{stride } 2\ }\
#    \begin{pmatrix} 6 & 8 \\ 3 & 4 \end{pmatrix} . $$
#
# The output width is $(W_1 - F)/S + 1$ (the convolution formula with $P = 0$) and the
# depth does not change. Pooling has **no parameters**. (Average pooling takes the mean
# instead; AlexNet used overlapping 3 × 3 windows with stride 2.)
#
# **Backward.** Within a window, only the largest input reaches the output, and it
# reaches it with slope 1; the others do not affect it at all. So the backward pass sends
# each upstream gradient `dout[n, c, i, j]` to the **one** input position that held the
# maximum of window $(i, j)$, and zero to the rest of the window. Two details:
#
# * when windows overlap (stride < pool size), one input can be the maximum of several
#   windows: its gradient is the **sum** of theirs, so accumulate with `+=`;
# * when a window holds the maximum twice (ties), the gradient goes to one of them only,
#   the first in reading order, as `argmax` and PyTorch choose; giving it to both would
#   double it.
#
# ### Exercise 4: max pooling, forward and backward
#
# Loops over output positions $(i, j)$ are fine here, as long as each step handles the
# whole batch and every channel at once. For the backward pass, `window.reshape(N, C, -1)`
# puts each window's values on one axis; its `argmax(axis=2)` is the position of the
# first maximum, and `np.arange(pool * pool) == first[..., None]` makes a one-hot mask of
# it.

# %% solution="max_pool"
def max_pool_forward(x: np.ndarray, pool: int = 2, stride: int = 2) -> tuple[np.ndarray, tuple]:
    """Max over pool × pool windows moved by stride. x: (N, C, H, W) -> out (N, C, H', W'), cache."""
    N, C, H, W = x.shape
    H_out, W_out = conv_output_size(H, pool, 0, stride), conv_output_size(W, pool, 0, stride)
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    ### BEGIN SOLUTION
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + pool, j * stride:j * stride + pool]
            out[:, :, i, j] = window.max(axis=(2, 3))
    ### END SOLUTION
    cache = (x, pool, stride)
    return out, cache


def max_pool_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dout: (N, C, H', W') -> dx: (N, C, H, W); each gradient goes to its window's (first) maximum."""
    x, pool, stride = cache
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    ### BEGIN SOLUTION
    for i in range(H_out):
        for j in range(W_out):
            rows, cols = slice(i * stride, i * stride + pool), slice(j * stride, j * stride + pool)
            window = x[:, :, rows, cols].reshape(N, C, pool * pool)
            first = window.argmax(axis=2)  # (N, C)
            mask = np.arange(pool * pool) == first[..., None]  # (N, C, pool·pool), one True per window
            dx[:, :, rows, cols] += (mask * dout[:, :, i, j, None]).reshape(N, C, pool, pool)
    ### END SOLUTION
    return dx


# %% tests="test_max_pool" points=3
x_pool = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=float)[None, None]
out, cache = max_pool_forward(x_pool)
cu.check_shape(out, (1, 1, 2, 2), "max_pool_forward of the 4×4 example", hint="(4 − 2) / 2 + 1 = 2")
cu.check_close(out[0, 0], [[6, 8], [3, 4]], "max pooling the 4×4 example",
               hint="the MAXIMUM of each 2×2 window, windows starting every `stride` rows and columns")
cu.check_close(max_pool_forward(-x_pool)[0][0, 0], [[-1, -2], [-1, 0]], "max pooling the example with its signs flipped",
               hint="a window of negative values has a negative maximum: take window.max(...), do not start "
                    "a running maximum from 0")
x_kept = x_pool.copy()
dx = max_pool_backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
cu.check_close(cache[0], x_kept, "the input kept in the cache, after max_pool_backward",
               hint="dx must be a NEW array of zeros (np.zeros_like(x)); writing into the cached x destroys it")
cu.check_close(dx[0, 0], [[0, 0, 0, 0], [0, 1, 0, 2], [3, 0, 0, 0], [0, 0, 0, 4]], "max_pool_backward by hand",
               hint="each window's gradient goes ONLY to the position of its maximum (6, 8, 3 and 4 here); "
                    "the other cells of the window get 0")
ties = np.array([[5.0, 5.0], [1.0, 5.0]])[None, None]
cu.check_close(max_pool_backward(np.ones((1, 1, 1, 1)), max_pool_forward(ties)[1])[0, 0], [[1, 0], [0, 0]],
               "backward of a window whose maximum appears three times",
               hint="with ties, ONE input gets the gradient (the first maximum, as argmax picks), not every maximum")
rng = np.random.default_rng(2)
x, dout = rng.normal(size=(2, 3, 7, 7)), rng.normal(size=(2, 3, 3, 3))
for pool, stride in [(2, 2), (3, 2)]:
    out, cache = max_pool_forward(x, pool, stride)
    dx = max_pool_backward(dout, cache)
    x_t = torch.tensor(x, requires_grad=True)
    out_t = F.max_pool2d(x_t, pool, stride)
    out_t.backward(torch.tensor(dout))
    cu.check_close(out, out_t.detach().numpy(), f"forward, pool {pool}, stride {stride} vs torch", rtol=1e-12)
    cu.check_close(dx, x_t.grad.numpy(), f"backward, pool {pool}, stride {stride} vs torch.autograd", rtol=1e-12,
                   hint="overlapping windows (pool 3, stride 2) can share their maximum: ADD the gradients (+=)")
    print(cu.check_gradient(lambda v: np.sum(max_pool_forward(v, pool, stride)[0] * dout), x, dx,
                            name=f"dx, pool {pool}, stride {stride}"))
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report, report_call, report_gradient


def _pool_forward(x, pool=2, stride=2):
    return max_pool_forward(x, pool, stride)[0]


def _pool_backward(dout, x, pool=2, stride=2):
    # The cache comes from the student's own forward pass; report_call then checks that the
    # backward pass leaves dout and that cache's x alone and gives the same dx when called again.
    cache = max_pool_forward(x.copy(), pool, stride)[1]
    return max_pool_backward, dout, cache


_rng = hidden_rng(5203)
_x, _dout = _rng.normal(size=(2, 2, 6, 8)), _rng.normal(size=(2, 2, 3, 4))
report_call("forward on unseen inputs", _pool_forward, _x.copy(), rtol=1e-12)
report_call("backward on unseen inputs", *_pool_backward(_dout.copy(), _x), rtol=1e-12)
_xo, _douto = _rng.normal(size=(1, 3, 9, 9)), _rng.normal(size=(1, 3, 4, 4))
report_call("overlapping windows: forward", _pool_forward, _xo.copy(), 3, 2, rtol=1e-12)
report_call("overlapping windows: backward", *_pool_backward(_douto.copy(), _xo, 3, 2), rtol=1e-12)
report_gradient("dx agrees with the numerical gradient", lambda v: np.sum(max_pool_forward(v, 3, 2)[0] * _douto),
                lambda v: max_pool_backward(_douto, max_pool_forward(v, 3, 2)[1]), _xo, rtol=1e-12, h=1e-6,
                numeric_tol=1e-7, seed=hidden_seed(5204))
_xt = _rng.integers(0, 3, size=(2, 2, 6, 6)).astype(float)  # many ties
_doutt = _rng.normal(size=(2, 2, 3, 3))
report_call("windows with tied maxima", *_pool_backward(_doutt.copy(), _xt), rtol=1e-12)
report_call("a window that does not tile the input", _pool_forward, _x[:, :, :5, :7].copy(), rtol=1e-12)
_xn = -np.abs(_rng.normal(size=(2, 3, 4, 6))) - 1.0  # every value negative: a maximum below 0
report_call("all-negative inputs: forward", _pool_forward, _xn.copy(), rtol=1e-12)
report_call("all-negative inputs: backward", *_pool_backward(_rng.normal(size=(2, 3, 2, 3)), _xn), rtol=1e-12)
report_call("pool 3, stride 3, large values", _pool_forward, _rng.normal(size=(1, 2, 9, 9)) * 1e6, 3, 3, rtol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Architectures
#
# A convolutional network for classification follows a simple pattern:
#
# $$ \text{INPUT} \to \big[(\text{CONV} \to \text{RELU}) \times N \to \text{POOL?}\big] \times M
#    \to (\text{FC} \to \text{RELU}) \times K \to \text{FC} \to \text{SOFTMAX} $$
#
# The convolutions extract features; each pool halves the resolution; the final fully
# connected (FC) layers turn the features into class scores. The history of ImageNet
# classification (1.2 million photos, 1000 classes; the error counts a photo as right
# when the true class is among the network's top 5 guesses) is largely a story of
# choosing $N$, $M$, $K$ and the filters:
#
# | network | year | layers with weights | parameters | idea | ImageNet top-5 error |
# | --- | --- | --- | --- | --- | --- |
# | LeNet-5 | 1998 | 5 | 62 thousand | conv, subsample, conv, subsample, FC: read digits on cheques | (digits) |
# | AlexNet | 2012 | 8 | 62 million | the same recipe, much bigger, on GPUs, with ReLU and dropout | 15.3 % |
# | VGG-16 | 2014 | 16 | 138 million | only 3 × 3 convolutions, stacked deep | 7.3 % |
# | ResNet | 2015 | 18 to 152 | 12 to 60 million | residual connections make very deep nets trainable | 3.6 % |
#
# The trend: **smaller filters, more layers, fewer pooling and fully connected
# layers**. VGG uses nothing but 3 × 3 convolutions, in stacks of two or three between
# pools, where AlexNet had 11 × 11 and 5 × 5 filters. ResNets replace the big FC layers
# by a global average over each final map, followed by a single FC layer.
#
# **Question.** Why can a stack of two 3 × 3 convolutions (stride 1, each with $C$ input
# and $C$ output channels) replace one 5 × 5 convolution? Say which input pixels one
# output of the stack depends on, count the weights of both options (biases aside), and
# name one more thing the stack gains and one thing it costs. What changes with three
# 3 × 3 layers?

# %% [markdown] answer="explain_stacked_3x3" points=2
# *Model answer.* An output of the second layer looks at a 3 × 3 patch of the first
# layer's outputs; each of those looks at a 3 × 3 patch of the input, shifted by one pixel
# from its neighbour, so together they cover (3 + 2) × (3 + 2) = **5 × 5 input pixels**,
# the receptive field of one 5 × 5 filter (each extra 3 × 3 layer at stride 1 widens it by
# 2). Weights: one 5 × 5 layer has $25 C^2$, two 3 × 3 layers $2 \cdot 9 C^2 = 18 C^2$,
# 28 % fewer. Three 3 × 3 layers see 7 × 7 for $27 C^2$ instead of $49 C^2$ (45 % fewer).
# **Gain:** a ReLU between the layers, so the stack computes more complicated functions
# of the patch than one linear filter and one ReLU (and the same parameter budget buys
# more depth). **Cost:** an extra layer of activations to compute and keep in memory for
# the backward pass, and one more layer for the gradient to pass through.

# %% [markdown]
# Let us build three of them and count. `torch.device("meta")` creates layers that have
# shapes but no memory, so even VGG-16's 138 million parameters cost nothing here;
# `summarize` pushes a meta input through the layers and prints each output shape.

# %%
def summarize(model: nn.Module, input_shape: tuple, show: bool = True) -> int:
    """Print every top-level layer's output shape and parameter count; return the total count."""
    x = torch.empty(input_shape, device="meta")
    total = 0
    if show:
        print(f"{'layer':30}{'output shape':>22}{'parameters':>14}")
    for name, layer in model.named_children():
        x = layer(x)
        count = sum(p.numel() for p in layer.parameters())
        total += count
        if show:
            print(f"{name + ' ' + type(layer).__name__:30}{str(tuple(x.shape)):>22}{count:>14,}")
    if show:
        print(f"{'total':30}{'':>22}{total:>14,}")
    return total


def lenet5() -> nn.Sequential:
    """LeNet-5 as usually written today (1 × 32 × 32 input, tanh, average pooling)."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),  # C1, S2
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),  # C3, S4
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Tanh(),  # C5 (a 5×5 conv on a 5×5 map is a dense layer)
        nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))


def alexnet() -> nn.Sequential:
    """AlexNet (3 × 227 × 227 input), on one device: the 2012 original split its layers over two GPUs."""
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000))


def vgg16() -> nn.Sequential:
    """VGG-16 (configuration D, 3 × 224 × 224 input): 13 convolutions 3 × 3, 5 max pools, 3 FC layers."""
    layers, channels = [], 3
    for width, repeats in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        for _ in range(repeats):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 1000))


with torch.device("meta"):
    print("LeNet-5")
    lenet_total = summarize(lenet5(), (1, 1, 32, 32))
    print("\nAlexNet")
    alexnet_total = summarize(alexnet(), (1, 3, 227, 227))
    vgg_total = summarize(vgg16(), (1, 3, 224, 224), show=False)
print(f"\nVGG-16: {vgg_total:,} parameters")
# The table above rounds these counts: 62 thousand, 62 million, 138 million.
assert (round(lenet_total, -3), round(alexnet_total, -6), round(vgg_total, -6)) == (62_000, 62_000_000, 138_000_000), (
    f"the table's counts disagree with the models: {lenet_total:,}, {alexnet_total:,}, {vgg_total:,}")

# %% [markdown]
# Your formulas give the same count for AlexNet, layer by layer (the FC layers as
# 1 × 1 convolutions on 1 × 1 inputs):

# %%
alexnet_layers = [(11, 3, 96), (5, 96, 256), (3, 256, 384), (3, 384, 384), (3, 384, 256),
                  (1, 9216, 4096), (1, 4096, 4096), (1, 4096, 1000)]
with cu.needs_your_code():
    formula_total = sum(conv_param_count(*layer) for layer in alexnet_layers)
    print(f"your formula: {formula_total:,}   PyTorch: {alexnet_total:,}")
    side = 227
    for F_, S_, P_ in [(11, 4, 0), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)]:
        side = conv_output_size(side, F_, P_, S_)
    print("AlexNet's last maps are", side, "×", side, "(6 × 6 × 256 = 9216 inputs to the first FC layer)")
    assert formula_total == alexnet_total and side == 6, (
        "conv_param_count and conv_output_size should agree with PyTorch here: did they pass their test?")

# %% [markdown]
# ### Residual connections
#
# Deeper should be better, but a plain stack of 56 layers trains *worse* than one of 20,
# even on its training set: not overfitting, but an optimisation problem. The ResNet
# authors' remedy: let each block learn only a **correction** to its input,
#
# $$ \text{out} = \operatorname{ReLU}\big(\mathcal{F}(x) + x\big), \qquad
#    \mathcal{F}(x) = \operatorname{BN}(\operatorname{conv}(\operatorname{ReLU}(\operatorname{BN}(\operatorname{conv}(x))))) . $$
#
# If the best block is close to doing nothing, $\mathcal{F}$ only has to be close to
# zero, which is easy; and in the backward pass the $+\,x$ hands the upstream gradient
# straight to the layers below, however deep the network. **Batch normalisation** (BN)
# rescales each channel to zero mean and unit variance over the batch (then applies a
# learned scale and shift); it makes deep networks train faster and with larger
# learning rates.
#
# When a block changes the shape, with a stride of 2 or a different number of output
# channels, $x$ cannot be added as it is: the **shortcut** becomes a 1 × 1 convolution
# with the same stride (no bias) followed by batch norm, which projects $x$ to the new
# shape. Otherwise the shortcut is the identity.
#
# ### Exercise 5: `ResidualBlock`
#
# The layers of $\mathcal{F}$ are given. Create `self.shortcut`: `nn.Identity()` when the
# shape is unchanged, otherwise `nn.Sequential(nn.Conv2d(in_channels, out_channels, 1,
# stride=stride, bias=False), nn.BatchNorm2d(out_channels))`. Then write `forward`.

# %% solution="residual_block"
class ResidualBlock(nn.Module):
    """relu(F(x) + shortcut(x)) with F = conv3×3(stride) → BN → ReLU → conv3×3 → BN. x: (N, C_in, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        ### BEGIN SOLUTION
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, H, W) -> (N, C_out, H', W') with H' = ceil(H / stride)."""
        ### BEGIN SOLUTION
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))
        ### END SOLUTION


# %% tests="test_residual_block" points=2
torch.manual_seed(0)
x = torch.randn(2, 8, 6, 6)
for c_in, c_out, stride, shape in [(8, 8, 1, (2, 8, 6, 6)), (8, 16, 2, (2, 16, 3, 3)), (8, 8, 2, (2, 8, 3, 3)),
                                   (8, 16, 1, (2, 16, 6, 6))]:
    try:
        out = ResidualBlock(c_in, c_out, stride)(x)
    except RuntimeError as exc:  # F(x) and the shortcut have different shapes and cannot be added
        raise AssertionError(f"ResidualBlock({c_in}, {c_out}, stride={stride})(x) failed: {exc}\nHint: with a "
                             "stride OR a change of channels, the shortcut must be the 1×1 conv + BN projection "
                             "(a stride alone, or new channels alone, already changes the shape)") from None
    cu.check_shape(out, shape, f"ResidualBlock({c_in}, {c_out}, stride={stride})(x)",
                   hint="with a stride or a change of channels the shortcut must be the 1×1 conv + BN projection")
block = ResidualBlock(4, 8, stride=2)
cu.check_equal(sum(p.numel() for p in block.parameters()), 944, "parameters of ResidualBlock(4, 8, stride=2)",
               hint="3·3·4·8 + 3·3·8·8 weights in the convolutions, 2 per channel in each BN, "
                    "and 1·1·4·8 + 2·8 in the projection shortcut (a 1×1 conv without bias, then BN)")
cu.check_equal(sum(p.numel() for p in ResidualBlock(8, 8).parameters()), 1184, "parameters of ResidualBlock(8, 8)",
               hint="an unchanged shape needs no projection: the shortcut is nn.Identity()")
assert (ResidualBlock(8, 8)(-x.abs()) >= 0).all(), (
    "ResidualBlock(8, 8) returned negative values for a negative input. Hint: the last ReLU comes AFTER the "
    "addition: relu(F(x) + shortcut(x)), not relu(F(x)) + shortcut(x)")
# With BN's scale set to 0, F(x) = 0 and the block is relu(0 + x) = relu(x): a block can easily do "nothing".
block = ResidualBlock(8, 8).eval()
nn.init.zeros_(block.bn2.weight)
cu.check_close(block(x).detach(), torch.relu(x), "ResidualBlock(8, 8) with F(x) = 0",
               hint="forward returns relu(F(x) + shortcut(x)): add the shortcut (here the input itself) to F(x)")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report


def _filled(block, seed):
    # Every weight and statistic set from a seeded generator by the layer's ROLE, not its name, so the
    # result depends on what the block computes (and not on what its layers are called or how they were
    # initialised): the 3×3 convolutions and the batch norms in the order they were created, the 1×1
    # convolution of the projection. Biases the reference does not have start at 0.
    block = block.double()
    convs3 = [m for m in block.modules() if isinstance(m, nn.Conv2d) and m.kernel_size != (1, 1)]
    convs1 = [m for m in block.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1)]
    norms = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
    roles = [("conv3", convs3), ("conv1", convs1), ("bn", norms)]
    with torch.no_grad():
        for r, (_, modules) in enumerate(roles):
            for k, module in enumerate(modules):
                rng = np.random.default_rng([seed, r, k])
                module.weight.copy_(torch.as_tensor(rng.normal(size=tuple(module.weight.shape))))
                if module.bias is not None:
                    module.bias.copy_(torch.as_tensor(rng.normal(size=tuple(module.bias.shape)) if r == 2 else 0.0))
                if isinstance(module, nn.BatchNorm2d):
                    module.running_mean.copy_(torch.as_tensor(rng.normal(size=tuple(module.running_mean.shape))))
                    module.running_var.copy_(torch.as_tensor(np.abs(rng.normal(size=tuple(module.running_var.shape)))
                                                             + 0.5))
    return block


_xr = torch.as_tensor(hidden_rng(5205).normal(size=(3, 6, 7, 5)))
for _args in [(6, 6, 1), (6, 10, 2), (6, 6, 2), (6, 10, 1), (6, 4, 1)]:
    report(f"ResidualBlock{_args}: output in eval mode",
           lambda a=_args: _filled(ResidualBlock(*a), hidden_seed(5206)).eval()(_xr), rtol=1e-9)
    report(f"ResidualBlock{_args}: output in training mode",
           lambda a=_args: _filled(ResidualBlock(*a), hidden_seed(5207)).train()(_xr), rtol=1e-9)
    report(f"ResidualBlock{_args}: parameter count",
           lambda a=_args: np.array(sum(p.numel() for p in ResidualBlock(*a).parameters())), kind="equal")


def _input_after_block():
    x = _xr.clone()
    _filled(ResidualBlock(6, 6, 1), hidden_seed(5208)).eval()(x)
    return x


report("the block leaves its input unchanged", _input_after_block, kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# With your block, a whole ResNet-18 is a few lines: a 7 × 7 stem with stride 2 and a
# max pool, four stages of two blocks (64, 128, 256 and 512 channels, each stage after the
# first starting with stride 2), a global average pool and one FC layer. The count matches
# the 11,689,512 parameters of the published ResNet-18.

# %%
def resnet(blocks_per_stage=(2, 2, 2, 2), widths=(64, 128, 256, 512), in_channels=3, classes=1000,
           stem: nn.Module | None = None) -> nn.Sequential:
    """A ResNet from ResidualBlocks; the default stem is ImageNet's (7×7 conv stride 2, 3×3 max pool stride 2)."""
    stem = stem or nn.Sequential(nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False),
                                 nn.BatchNorm2d(widths[0]), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1))
    stages, channels = [], widths[0]
    for i, (width, blocks) in enumerate(zip(widths, blocks_per_stage)):
        stage = [ResidualBlock(channels, width, stride=1 if i == 0 else 2)]
        stage += [ResidualBlock(width, width) for _ in range(blocks - 1)]
        stages.append(nn.Sequential(*stage))
        channels = width
    return nn.Sequential(stem, *stages, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))


with cu.needs_your_code(), torch.device("meta"):
    resnet18_total = summarize(resnet(), (1, 3, 224, 224))
    assert resnet18_total == 11_689_512, f"ResNet-18 should have 11,689,512 parameters, not {resnet18_total:,}"

# %% [markdown]
# The shortcut's effect on training is visible before any training. Below, 1 to 32 blocks
# are stacked, once as residual blocks and once as the same layers without the $+\,x$; we
# push a random batch through, backpropagate a loss, and measure the gradient that
# reaches the first convolution (note the logarithmic axes).
#
# * Through the **plain** stack every block *multiplies* the gradient by a factor of its
#   own, and the factors compound: from 1 to 32 blocks the gradient grows by more than
#   three orders of magnitude, so no single learning rate suits all depths.
# * Through the **residual** stack it grows too, but only about in proportion to the depth
#   (roughly 30-fold from 1 to 32 blocks): each block *adds* its correction to an identity
#   path instead of multiplying.
# * The third curve is a common refinement (Goyal et al., 2017): set the scale of each
#   block's last batch norm to 0 when the network is created. Every block then starts as
#   the identity, $\mathcal{F}(x) = 0$, and the gradient is the same at every depth;
#   training moves the blocks away from the identity only as far as it pays.

# %%
class PlainBlock(ResidualBlock):
    """The same layers as ResidualBlock, without the shortcut."""

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))


def first_layer_gradient(block_type, depth, channels=8, seed=0):
    """The gradient norm at the first convolution of conv → depth blocks → average pool → linear."""
    torch.manual_seed(seed)  # the same first and last layers and the same batch at every depth
    first, last = nn.Conv2d(3, channels, 3, padding=1), nn.Linear(channels, 10)
    x, y = torch.randn(8, 3, 8, 8), torch.randint(0, 10, (8,))
    net = nn.Sequential(first, *[block_type(channels, channels) for _ in range(depth)], nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), last)
    F.cross_entropy(net(x), y).backward()
    return first.weight.grad.norm().item()


def zero_init_residual(channels_in, channels_out):
    """A ResidualBlock whose last batch norm starts with scale 0: F(x) = 0, the block is relu(x)."""
    block = ResidualBlock(channels_in, channels_out)
    nn.init.zeros_(block.bn2.weight)
    return block


# Tensors this small are faster on one thread than on several that must keep in step.
threads = torch.get_num_threads()
torch.set_num_threads(1)
depths = [1, 2, 4, 8, 16, 32]
stacks = {"plain": PlainBlock, "residual": ResidualBlock, "residual, last BN scale 0": zero_init_residual}
with cu.needs_your_code():
    gradients = {name: np.array([first_layer_gradient(block_type, d) for d in depths])
                 for name, block_type in stacks.items()}
    plt.figure(figsize=(6, 3.5))
    for name, norms in gradients.items():
        plt.loglog(depths, norms, "o-", label=name)
        print(f"{name:26}", "  ".join(f"{g:8.2e}" for g in norms))
    plt.xticks(depths, [str(d) for d in depths])
    plt.xlabel("blocks")
    plt.ylabel("gradient norm at the first conv")
    plt.legend()
    plt.show()
    growth = {name: norms[-1] / norms[0] for name, norms in gradients.items()}
    print("growth from 1 to 32 blocks:", ", ".join(f"{name} ×{g:,.1f}" for name, g in growth.items()))
    assert growth["plain"] > 1e3, f"the text says the plain stack's gradient grows over 1000-fold, not ×{growth['plain']:.1f}"
    assert 15 < growth["residual"] < 60, f"the text says about 30-fold for the residual stack, not ×{growth['residual']:.1f}"
    ratios = gradients["residual"] / gradients["residual"][0]
    assert np.all((ratios >= np.array(depths) / 4) & (ratios <= 4 * np.array(depths))), (
        f"the text says the residual stack's gradient grows about in proportion to depth: {ratios.round(1)}")
    assert np.allclose(gradients["residual, last BN scale 0"], gradients["residual, last BN scale 0"][0], rtol=1e-5), (
        "with the last BN scale at 0 every block is the identity: the gradient should not depend on depth")
torch.set_num_threads(threads)

# %% [markdown]
# **Question.** In the third curve every residual block starts with the scale of its last
# batch norm at 0. Right after initialisation, what does such a network of 32 blocks
# compute?
#
# * (a) zero for every input: the blocks' outputs are multiplied by 0;
# * (b) the same function as the network without any blocks (first convolution, average
#   pool, linear layer), apart from one ReLU after the first convolution;
# * (c) a random function, different at every depth, which is why its gradient does not
#   grow.
#
# Set `zero_init_answer` to "a", "b" or "c".

# %% solution="choice_zero_init"
### BEGIN SOLUTION
zero_init_answer = "b"
### END SOLUTION

# %% tests="test_choice_zero_init" points=1
cu.check_choice(zero_init_answer, "abc", "zero_init_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", zero_init_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 8. A CNN for Fashion-MNIST, in PyTorch
#
# Time to train a real one. The classic PyTorch example for MNIST digits is:
#
# | layer | output | parameters |
# | --- | --- | --- |
# | conv 1 → 32, 3 × 3, ReLU | 32 × 26 × 26 | 320 |
# | conv 32 → 64, 3 × 3, ReLU | 64 × 24 × 24 | 18,496 |
# | max pool 2 × 2, dropout 0.25 | 64 × 12 × 12 | 0 |
# | flatten, FC 9216 → 128, ReLU, dropout 0.5 | 128 | 1,179,776 |
# | FC 128 → 10, log-softmax | 10 | 1,290 |
#
# trained with the **negative log-likelihood** loss (`F.nll_loss`: with the log-softmax
# output it is exactly the softmax cross-entropy of notebook 02), an optimiser, a
# learning-rate scheduler, and a train loop and a test loop over the data, on whatever
# `device` is available.
#
# Its weak spot is cost. The second convolution runs at full 24 × 24 resolution:
# $24 \cdot 24 \cdot 64 \cdot 32 \cdot 9 \approx 10.6$ million multiply-adds per image,
# nearly 90 % of the network's work. We adjust it the way later networks did:
#
# * **pad** the convolutions (`padding=1`) and **pool after each one**: the second
#   convolution then runs at 14 × 14, the FC layer gets $7 \cdot 7$ positions;
# * add **batch normalisation** after each convolution: it trains faster, which matters
#   when the time is short;
# * use fewer channels (16 and 32) when time is short on a CPU.
#
# That is about 10 times less computation per image, and it learns at least as much per
# pass over the data.

# %%
def macs_per_image(model: nn.Module, input_shape=(1, 1, 28, 28)) -> int:
    """Multiply-adds of the conv and linear layers for one image (everything else is cheap)."""
    total, x = 0, torch.zeros(input_shape)
    for layer in model:
        out = layer(x)
        if isinstance(layer, nn.Conv2d):
            total += out[0].numel() * layer.weight[0].numel()
        elif isinstance(layer, nn.Linear):
            total += layer.weight.numel()
        x = out
    return total


classic = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                        nn.Linear(128, 10), nn.LogSoftmax(dim=1))
adjusted = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
for name, net in [("classic", classic), ("adjusted", adjusted)]:
    print(f"{name:9} {sum(p.numel() for p in net.parameters()):>10,} parameters "
          f"{macs_per_image(net.eval()) / 1e6:8.2f} million multiply-adds per image")
second_conv_share = 24 * 24 * 64 * 32 * 9 / macs_per_image(classic)
cost_ratio = macs_per_image(classic) / macs_per_image(adjusted)
print(f"the classic second convolution: {second_conv_share:.1%} of its network's work; "
      f"the adjusted network: {cost_ratio:.1f} times less work per image")
assert 0.85 < second_conv_share < 0.9 and 8 < cost_ratio < 12, "the text says: nearly 90 %, about 10 times less"

# %% [markdown]
# ### Data on the device, batches sliced from it
#
# Fashion-MNIST is small: 55,000 images of 28 × 28 bytes are 43 MB. So we move the whole
# training set to the device **once**, as one tensor, and cut every minibatch out of it
# with a fresh random permutation each epoch. PyTorch's `DataLoader` over a dataset
# instead fetches examples one by one in Python and stacks them into a batch, and on a
# GPU copies every batch from the host again: for small images that overhead can cost
# more than the network itself. The fastest published MNIST and CIFAR-10 training runs
# all keep their data on the GPU this way.
#
# `course_utils.train` has the pieces:
#
# * `train.images_to_tensor(images, device)`: uint8 images → float (N, C, H, W) in
#   [0, 1], on the device;
# * `train.TensorBatches(X, y, batch_size=..., seed=...)`: iterate over `(xb, yb)`
#   minibatches, a new random order each epoch;
# * `train.predict(model, X)` and `train.accuracy(model, X, y)`: evaluation in batches, in
#   eval mode, without gradients.

# %%
from torch.utils.data import DataLoader, TensorDataset

X_demo = train.images_to_tensor(X_train_raw[:20000])  # (20000, 1, 28, 28) float32 in [0, 1]
y_demo = torch.as_tensor(y_train_raw[:20000])
torch.set_num_threads(1)  # a fair race: neither side may use more than one core
start = time.perf_counter()
for _batch in DataLoader(TensorDataset(X_demo, y_demo), batch_size=256, shuffle=True):
    pass
t_loader = time.perf_counter() - start
start = time.perf_counter()
for _batch in train.TensorBatches(X_demo, y_demo, batch_size=256):
    pass
t_slices = time.perf_counter() - start
torch.set_num_threads(threads)
print(f"one pass over 20,000 images: DataLoader {1e3 * t_loader:.0f} ms, sliced tensors {1e3 * t_slices:.0f} ms")
xb, yb = next(iter(train.TensorBatches(X_demo, y_demo, batch_size=256)))
print("a batch:", tuple(xb.shape), xb.dtype, tuple(yb.shape), yb.dtype)

# %% [markdown]
# ### A fixed amount of work, and a safety net
#
# A grade must not depend on how busy the grading machine is. So the recipe does a
# **fixed amount of work**, a number of epochs decided in advance, with fixed seeds: on
# a quiet machine or on one grading many notebooks at once it takes the same steps and
# ends with the same model, only sooner or later. The reference recipe does 2 epochs
# (430 steps) on a CPU, about 20 s on a quiet 2-core laptop, and 15 epochs on a GPU.
#
# A clock still has a job: a **safety net**. `train.Deadline(seconds, device)` starts a
# clock; check `deadline.expired()` **between batches** and return when it says so, so
# that a recipe that would run far too long (a typo in the number of epochs, a model
# 100 times too big) still hands back a partly trained model instead of hitting the
# grader's cell timeout. The grader sets it to 200 s on a CPU and 150 s on a GPU, far
# above what the work needs: it should never fire. On a GPU the work is queued and runs
# later; `expired()` waits for it before reading the clock.
#
# A learning-rate schedule helps more than anything else when the number of steps is
# small: a short **warm-up** (the rate grows from 0 over the first steps, while the
# weights are still random and the gradients unreliable), then a **decay** to 0 (big
# steps to make progress, small ones to settle). It follows the **steps**, never the
# clock, so that the run is the same however fast the machine is:
#
# $$ \text{progress} = \frac{\text{step}}{\text{total steps}}, \qquad
#    \eta = \eta_{\max} \cdot \begin{cases} \text{progress} / w & \text{progress} < w \\
#    \tfrac12 \big(1 + \cos\big(\pi\, \tfrac{\text{progress} - w}{1 - w}\big)\big) & \text{otherwise}
#    \end{cases} $$
#
# `torch.optim.lr_scheduler.LambdaLR(optimizer, factor)` multiplies the base rate by
# `factor(step)` after every `scheduler.step()`.

# %%
def warmup_cosine(progress: float, warmup: float = 0.15) -> float:
    """The learning-rate factor at progress in [0, 1]: linear warm-up, then a half cosine down to 0."""
    progress = min(progress, 1.0)
    if progress < warmup:
        return progress / warmup
    return 0.5 * (1 + np.cos(np.pi * (progress - warmup) / (1 - warmup)))


ps = np.linspace(0, 1, 201)
factors = np.array([warmup_cosine(p) for p in ps])
plt.figure(figsize=(5, 2.8))
plt.plot(ps, factors)
plt.xlabel("progress (steps done / steps planned)")
plt.ylabel("learning rate / base rate")
plt.show()
# The picture: from 0, up to the full rate at the end of the warm-up (15 %), down to 0 at the end.
assert factors[0] == 0 and abs(ps[factors.argmax()] - 0.15) < 0.01 and abs(factors.max() - 1) < 1e-9, "warm-up"
assert abs(factors[-1]) < 1e-12, "the rate should end at 0"

# %% [markdown]
# ### Exercise 6: the model and the recipe
#
# **`build_cnn()`** returns an `nn.Module` that maps a batch of images (N, 1, 28, 28),
# floats in [0, 1], to **log-probabilities** (N, 10) (end with `nn.LogSoftmax(dim=1)`). Use
# the adjusted network above: two blocks of conv 3 × 3 (padding 1) → batch norm → ReLU →
# max pool 2 × 2, then flatten, dropout, FC → ReLU → dropout, FC → log-softmax. Channels
# 16 and 32, 128 hidden units and dropout 0.25 train fast enough on a CPU.
#
# **`train_cnn(model, X, y, time_limit_s=...)`** trains the model in place, where `X`
# (N, 1, 28, 28) and `y` (N,) already live on the model's device, and returns the loss
# of every minibatch as a list of floats. A recipe that works:
#
# * start a `train.Deadline(time_limit_s, X.device)` first thing (the safety net);
# * `torch.manual_seed(seed)` (dropout), `train.TensorBatches(X, y, batch_size, seed=seed)`:
#   the same `seed` must give the same run;
# * `epochs=None` means: 2 on a CPU, 15 on a GPU (many cheap epochs buy the last
#   percent);
# * AdamW (`torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)`) with base
#   rate 5e-3, and `LambdaLR` with `warmup_cosine(step / total_steps)`;
# * `model.train()`, then for every batch: **check the deadline** (return if it has
#   expired), forward, `F.nll_loss`, `optimizer.zero_grad()`, `loss.backward()`,
#   `optimizer.step()`, `scheduler.step()`, append `loss.item()`.
#
# You may change anything (architecture, batch size, learning rate, epochs) as long as
# the work fits well inside the safety net: the grader wants **0.87 test accuracy on a
# CPU** and **0.91 on a GPU**.
#
# Three cells follow. The first test checks, in a few seconds, the model's output and the
# recipe's contract on a few hundred images: the safety net, the number of steps, the
# seed, and that every update uses its own minibatch's gradient. The next cell trains
# your model once on the whole training set, with your recipe and the grader's safety
# net. The last test reports its validation accuracy; the grader then scores the same
# model on its own copy of the test images: a random part of them in a random order, each
# given a few grey levels of noise, new for every course run. A network that learned the
# classes does not notice; a table of the public test images' bytes finds nothing.

# %% solution="cnn"
def build_cnn() -> nn.Module:
    """A CNN for (N, 1, 28, 28) images in [0, 1] -> log-probabilities (N, 10)."""
    ### BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),  # (N, 16, 14, 14)
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # (N, 32, 7, 7)
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(128, 10),
        nn.LogSoftmax(dim=1),
    )
    ### END SOLUTION


def train_cnn(model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, time_limit_s: float, epochs: int | None = None,
              batch_size: int = 256, lr: float = 5e-3, seed: int = 0) -> list[float]:
    """Train model in place on X (N, 1, 28, 28), y (N,), both on the model's device, for a fixed number of
    epochs (None: 2 on a CPU, 15 on a GPU); stop early only if time_limit_s runs out (a safety net).

    The same seed gives the same run. Returns the loss of every minibatch.
    """
    ### BEGIN SOLUTION
    deadline = train.Deadline(time_limit_s, X.device)
    if epochs is None:
        epochs = 2 if X.device.type == "cpu" else 15
    torch.manual_seed(seed)
    batches = train.TensorBatches(X, y, batch_size=batch_size, seed=seed)
    total_steps = epochs * len(batches)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: warmup_cosine(step / total_steps))
    losses = []
    model.train()
    for _ in range(epochs):
        for xb, yb in batches:
            if deadline.expired():
                return losses
            loss = F.nll_loss(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
    return losses
    ### END SOLUTION


# %% tests="test_cnn" points=2
from torch.optim.optimizer import register_optimizer_step_pre_hook

torch.manual_seed(0)
probe_model = build_cnn().to(device)
log_probs = probe_model(torch.rand(3, 1, 28, 28, device=device))
cu.check_shape(log_probs, (3, 10), "build_cnn()(a batch of 3 images)",
               hint="after the second pool the maps are 32 × 7 × 7: the first FC layer takes 32 * 7 * 7 inputs")
cu.check_close(log_probs.exp().sum(dim=1).detach(), torch.ones(3, device=device), "exp(output) summed over classes",
               rtol=1e-5, hint="the model must output LOG-probabilities for F.nll_loss: end with nn.LogSoftmax(dim=1)")
# A safety net of 0 s: the recipe must notice at once, between batches, and return.
X_few = train.images_to_tensor(X_train_raw[:2048], device)
y_few = torch.as_tensor(y_train_raw[:2048], device=device)
losses_none = train_cnn(build_cnn().to(device), X_few, y_few, time_limit_s=0.0, epochs=3)
assert len(losses_none) <= 1, (f"with time_limit_s=0 the recipe ran {len(losses_none)} batches: check "
                               "deadline.expired() before every batch and return when it is True")
# A fixed amount of work: one loss per minibatch of every epoch asked for, and the same run for the same seed.
few_runs = []
for run in range(2):
    torch.manual_seed(1)
    few_model = build_cnn().to(device)  # the same initial weights for both runs
    torch.rand(5 * run)  # whatever else happened before: the recipe's randomness must come from its `seed`
    few_runs.append(train_cnn(few_model, X_few[:600], y_few[:600], time_limit_s=60.0, epochs=3, batch_size=100,
                              seed=3))
cu.check_equal(len(few_runs[0]), 18, "losses returned for 3 epochs of 600 images in batches of 100",
               hint="train for exactly `epochs` epochs and append loss.item() after every minibatch")
cu.check_close(few_runs[1], few_runs[0], "the losses of a second run with the same seed", rtol=1e-4, atol=1e-4,
               hint="seed everything random in the recipe from `seed`: torch.manual_seed(seed) for dropout, "
                    "and TensorBatches(..., seed=seed) for the order of the minibatches")


def gradients_added_and_used(model, X, y, **recipe):
    """The first layer's gradient from each backward pass, and its gradient when each optimiser step begins."""
    first = next(model.parameters())
    added, used = [], []
    hook = first.register_hook(lambda grad: added.append(grad.detach().flatten().clone()))
    step_hook = register_optimizer_step_pre_hook(lambda optimizer, args, kwargs: used.append(
        first.grad.detach().flatten().clone()))
    try:
        train_cnn(model, X, y, **recipe)
    finally:
        hook.remove()
        step_hook.remove()
    return added, used


torch.manual_seed(2)
added, used = gradients_added_and_used(build_cnn().to(device), X_few[:300], y_few[:300], time_limit_s=60.0, epochs=1,
                                       batch_size=100, seed=0)
cu.check_equal(len(used), 3, "optimiser steps for one epoch of 300 images in batches of 100",
               hint="one optimizer.step() per minibatch")
# Clipping may shorten a gradient, never turn it: compare directions.
agreement = [float(F.cosine_similarity(u, a, dim=0)) for u, a in zip(used, added[-len(used):])]
cu.check_close(agreement, [1.0] * len(used), "the direction of each step's gradient vs its own minibatch's", atol=1e-4,
               hint="call optimizer.zero_grad() before loss.backward(): PyTorch ADDS new gradients to old ones")
print("All visible tests passed: the recipe keeps its contract. The next cell trains the model.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report

_pick = hidden_rng(5301).permutation(len(y_val))[:3000]
_Xb = train.images_to_tensor(X_val_raw[_pick], device)
_yb = torch.as_tensor(y_val[_pick], device=device)
report("the recipe returns at once when the safety net is 0 s",
       lambda: len(train_cnn(build_cnn().to(device), _Xb, _yb, time_limit_s=0.0, epochs=5, batch_size=100)) <= 1,
       kind="equal")


def _small_run(seed, epochs=2, batch_size=150, stir=0):
    torch.manual_seed(hidden_seed(5302))
    model = build_cnn().to(device)
    torch.rand(stir)  # moves the global generator on: the recipe must seed its own randomness from `seed`
    return np.array(train_cnn(model, _Xb[:900], _yb[:900], time_limit_s=100.0, epochs=epochs,
                              batch_size=batch_size, seed=seed))


report("one loss per minibatch: 3 epochs of 900 images in batches of 150",
       lambda: len(_small_run(hidden_seed(5303) % 1000, epochs=3)), kind="equal")
_seed = hidden_seed(5304) % 1000
report("the same seed gives the same run", lambda: float(np.max(np.abs(_small_run(_seed) - _small_run(_seed, stir=7)))),
       rtol=0, atol=1e-3)


def _directions_agree():
    torch.manual_seed(hidden_seed(5306))
    added, used = gradients_added_and_used(build_cnn().to(device), _Xb[:450], _yb[:450], time_limit_s=100.0,
                                           epochs=1, batch_size=150, seed=hidden_seed(5307) % 1000)
    return len(used) == 3 and all(float(F.cosine_similarity(u, a, dim=0)) > 0.9999
                                  for u, a in zip(used, added[-len(used):]))


report("each update uses only its own minibatch's gradient", _directions_agree, kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# The full run: your model and your recipe on the 55,000 training images, with the grader's
# safety net (about 20 s on a quiet 2-core laptop, a few seconds on a GPU). The model it
# makes, `cnn_model`, is the one the grader scores and the one the rest of the notebook
# looks inside.

# %%
TIME_LIMIT_S = 200.0 if device.type == "cpu" else 150.0  # the grader's safety net
with cu.needs_your_code():
    X_fit = train.images_to_tensor(cu.load_fashion_mnist_images("train"), device)
    y_fit = torch.as_tensor(y_train_raw, device=device)
    cu.seed_everything(0)
    cnn_model = build_cnn().to(device)
    start = time.perf_counter()
    cnn_losses = train_cnn(cnn_model, X_fit, y_fit, time_limit_s=TIME_LIMIT_S)
    train_seconds = time.perf_counter() - start
    val_acc = train.accuracy(cnn_model, train.images_to_tensor(X_val_raw, device), y_val)
    print(f"trained on {device}: {len(cnn_losses)} minibatches in {train_seconds:.1f} s "
          f"(safety net {TIME_LIMIT_S:.0f} s); validation accuracy {val_acc:.4f}")
    if train_seconds >= TIME_LIMIT_S:
        print("The safety net stopped this run: the grader would stop it too. Do less work per run.")

# %% tests="test_cnn_accuracy" points=3
assert "val_acc" in globals(), ("train the model first: implement build_cnn and train_cnn, pass the test above, "
                                "then run the training cell")
print(f"validation accuracy {val_acc:.4f}; the grader asks for test accuracy 0.87 on a CPU, 0.91 on a GPU")
assert val_acc > 0.8, (f"validation accuracy {val_acc:.3f}, far below the target: does the loss go down (plot "
                       "cnn_losses)? Common causes: a learning rate that never leaves 0 (LambdaLR starts the "
                       "warm-up at factor 0: call scheduler.step() after every optimizer.step()), a learning "
                       "rate far too large, or too few epochs.")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_seed, report
from course_utils import perturb

# Test images perturbed per course (a subset, in a random order, with noise of a few grey levels;
# no shift, which costs a CNN trained without shifted images several points): the grader orders
# the labels the same way from the same seed.
_eval_seed, _eval_size = hidden_seed(5305), 8000
report("test accuracy of your model trained with your recipe",
       lambda: train.predict(cnn_model, train.images_to_tensor(
           perturb.perturbed_images(cu.load_fashion_mnist_images("test"), _eval_seed, _eval_size), device)),
       metric="accuracy", labels=f"fashion_mnist_test_perturbed:{_eval_seed}:{_eval_size}",
       min={"cpu": 0.87, "gpu": 0.91}, plausible_max={"cpu": 0.95, "gpu": 0.96})
### END HIDDEN TESTS

# %% [markdown]
# The loss of every minibatch of that run, smoothed: it falls fast during the warm-up and
# then more slowly, ending far below where it started.

# %%
with cu.needs_your_code():
    cu.plot_loss_curve(cnn_losses, smooth=20)
    plt.title(f"build_cnn on Fashion-MNIST ({device.type})")
    plt.show()
    first_losses, last_losses = np.mean(cnn_losses[:20]), np.mean(cnn_losses[-20:])
    print(f"mean loss of the first 20 minibatches {first_losses:.3f}, of the last 20 {last_losses:.3f}")
    assert last_losses < first_losses / 2, "the loss should end far below where it started"

# %% [markdown]
# ## 9. What the network learned
#
# **Filters.** The first layer's filters look straight at pixels, so we can draw them:
# each is a 3 × 3 grid of weights (red positive, blue negative). Expect oriented edge
# and line detectors and a few blob-like ones. In big networks trained on photos
# (AlexNet's 11 × 11 colour filters are the famous example) the first layer learns
# oriented edges at many angles and colour blobs, much like the simple cells of the
# visual cortex; deeper layers combine them into textures, then parts (eyes, wheels,
# collars), then whole objects. Only the first layer can be drawn this simply; deeper
# filters mix many channels.

# %%
with cu.needs_your_code():
    first_conv = next(m for m in cnn_model.modules() if isinstance(m, nn.Conv2d))
    cnn_viz.show_filters(first_conv.weight, title=f"first-layer filters ({first_conv.kernel_size[0]} × "
                                                  f"{first_conv.kernel_size[1]})")
    plt.show()

# %% [markdown]
# **Feature maps.** The outputs of the first and the last convolution (after their
# ReLU) for one validation image. With the recipe's network, the first convolution's
# 16 maps are 28 × 28 and still recognisably the image, filtered for edges in different
# directions; the second convolution's 32 maps run on the pooled image, at 14 × 14, and
# are coarser: they say *where* a feature is rather than what the image looks like.
# (This picture walks the layers of an `nn.Sequential`; for a model of your own class it
# says so and skips.)

# %%
with cu.needs_your_code():
    cnn_model.eval()
    if not isinstance(cnn_model, nn.Sequential):
        print("The feature maps below walk an nn.Sequential model layer by layer; build_cnn returns "
              f"a {type(cnn_model).__name__}, so they are skipped.")
    else:
        sample = train.images_to_tensor(X_val_raw[:1], device)
        relu_maps = [(name, out[0]) for name, out in cnn_viz.layer_outputs(cnn_model, sample)
                     if out.dim() == 4 and "ReLU" in name]
        plt.imshow(X_val_raw[0], cmap="gray")
        plt.title(f"a validation image: {cu.FASHION_MNIST_CLASSES[y_val[0]]}")
        plt.axis("off")
        plt.show()
        first_maps, last_maps = relu_maps[0][1], relu_maps[-1][1]
        for which, (name, maps) in [("first", relu_maps[0]), ("last", relu_maps[-1])]:
            cnn_viz.show_feature_maps(maps, title=f"after the {which} convolution's ReLU, layer {name} "
                                                  f"({' × '.join(map(str, maps.shape))})")
            plt.show()
        assert last_maps.shape[-1] < first_maps.shape[-1], "the last maps should be coarser than the first"

# %% [markdown]
# And the validation images the network gets wrong, titled with its guess:

# %%
with cu.needs_your_code():
    X_val = train.images_to_tensor(X_val_raw, device)
    val_pred = train.predict(cnn_model, X_val)
    wrong = np.flatnonzero(val_pred != y_val)[:16]
    cu.show_images(X_val_raw[wrong], val_pred[wrong], class_names=cu.FASHION_MNIST_CLASSES)
    plt.show()

# %% [markdown]
# ## 10. Optional: a ResNet on CIFAR-10
#
# CIFAR-10 has 50,000 colour photos of 32 × 32 in ten classes (airplane, automobile, bird,
# cat, deer, dog, frog, horse, ship, truck): much harder than Fashion-MNIST. It is not
# installed with the course; this section runs only when it is on your machine. To get it
# (170 MB), run `cu.load_cifar10()` once, or set `DOWNLOAD_CIFAR = True` below.
#
# A small ResNet built from your `ResidualBlock` (a 3 × 3 stem instead of ImageNet's
# 7 × 7 with a max pool, which would shrink 32 × 32 images too fast), trained with your
# own `train_cnn` recipe for 10 epochs, cut short by its safety net after two minutes on a
# GPU, one on a CPU. This section is meant for a GPU, where two minutes reach roughly
# 85–90 % test accuracy; a CPU gets through only a small part of one epoch in its minute
# (one step of 256 images takes seconds), and the result there depends on the machine. Beyond that: **data augmentation**
# (random crops and horizontal flips of the training images), **transfer learning**
# (start from a network trained on ImageNet and fine-tune it) and a **hyperparameter
# search** are the usual next steps.

# %%
DOWNLOAD_CIFAR = False
CIFAR_LIMIT_S = 120 if device.type == "cuda" else 60
try:
    cu.fetch("cifar-10", download=DOWNLOAD_CIFAR)
    have_cifar = True
except cu.DatasetNotFoundError:
    have_cifar = False
    print("CIFAR-10 is not here; skipping this section. Run cu.load_cifar10() once (it downloads 170 MB), "
          "or set DOWNLOAD_CIFAR = True.")

if have_cifar:
    with cu.needs_your_code():
        X_c, y_c = cu.load_cifar10("trainval")
        X_ct_raw, y_ct = cu.load_cifar10("test")
        X_c, y_c = train.images_to_tensor(X_c, device), torch.as_tensor(y_c, device=device)
        mean, std = X_c.mean(dim=(0, 2, 3), keepdim=True), X_c.std(dim=(0, 2, 3), keepdim=True)
        X_c, X_ct = (X_c - mean) / std, (train.images_to_tensor(X_ct_raw, device) - mean) / std
        torch.manual_seed(0)
        stem = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        cifar_net = nn.Sequential(*resnet((1, 1, 1), (32, 64, 128), classes=10, stem=stem), nn.LogSoftmax(dim=1))
        cifar_net = cifar_net.to(device)
        start = time.perf_counter()
        cifar_losses = train_cnn(cifar_net, X_c, y_c, time_limit_s=CIFAR_LIMIT_S, epochs=10, batch_size=256, lr=2e-3)
        print(f"{len(cifar_losses)} minibatches in {time.perf_counter() - start:.0f} s; "
              f"CIFAR-10 test accuracy {train.accuracy(cifar_net, X_ct, y_ct):.3f}")

# %% [markdown]
# ## Summary
#
# * A convolution layer slides small filters, each spanning the full input depth, over
#   the input: local connections and shared weights. Output width
#   $(W - F + 2P)/S + 1$, depth = number of filters, $F \cdot F \cdot D_1 \cdot K + K$
#   parameters whatever the image size.
# * Deep-learning "convolution" does not flip the kernel. Loops make the definition
#   clear; im2col makes it one matrix product, orders of magnitude faster.
# * Max pooling halves the maps and has no parameters; its gradient goes to the (first)
#   maximum of each window, summed where windows overlap.
# * Architectures went from LeNet-5 to AlexNet, VGG and ResNet: smaller filters, more
#   depth, fewer pooling and FC layers; residual connections make depth trainable.
# * To train fast: keep the data on the device and slice batches from it, pool early,
#   normalise, and give the learning rate a warm-up and a decay that finish on time.
#
# Next, `06_rnns`: networks for sequences.
