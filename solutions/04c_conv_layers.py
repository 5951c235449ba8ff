# %% [markdown]
# # 04c · Convolution and pooling layers, forward and backward
#
# Notebook 03 wrote layers as pairs of functions: a **forward** pass that computes the
# output and keeps a **cache** of what the backward pass will need, and a **backward**
# pass that turns the upstream gradient `dout` into the gradients of the layer's inputs
# and parameters. Here you write the two layers that make a convolutional network, the
# same way:
#
# * `conv_forward_naive` and `conv_backward_naive`: a convolution layer with a stride and
#   zero padding, and all three of its gradients `dx`, `dw`, `db`;
# * `max_pool_forward_naive` and `max_pool_backward_naive`: max pooling over windows of
#   any height and width.
#
# Then you plug your layers into PyTorch, as `torch.autograd.Function`s, build a small
# CNN from them and train it on Fashion-MNIST next to the same network made of PyTorch's
# own layers: the two loss curves coincide, because the layers compute the same function
# and the same gradients. Notebook 05 then takes PyTorch's layers for granted, makes the
# convolution fast and trains real architectures.
#
# **Shapes.** Images come in batches, channels first, as in PyTorch: `x` is
# $(N, C, H, W)$ (examples, channels, height, width); a layer's filters `w` are
# $(F, C, HH, WW)$ (filters, input channels, filter height, filter width) and its biases
# `b` are $(F,)$. Everything here is float64, so that gradient checks can be strict.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits
from torch import nn

import course_utils as cu

cu.seed_everything(0)
# The arrays in this notebook are small: several BLAS threads would spend more time
# synchronising than computing, so NumPy gets one.
blas_threads = threadpool_limits(1, user_api="blas")


def torch_grads(f, inputs, dout):
    """Gradients of sum(f(*inputs) * dout) with respect to every input, by PyTorch's autograd, as arrays."""
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in inputs]
    f(*tensors).backward(torch.as_tensor(dout, dtype=torch.float64))
    return [t.grad.numpy() for t in tensors]


# %% [markdown]
# ## 1. The convolution layer
#
# A dense layer connects every input to every output. A convolution layer connects each
# output only to a small **window** of the input, and uses the **same weights** at every
# window position: a filter $w_f$ of shape $(C, HH, WW)$ slides over the image, and at
# each position its output is the sum of the window times the filter, plus a bias. For
# example $n$, filter $f$ and output position $(i, j)$, with stride $S$ and an input
# `x_pad` padded with $P$ zeros on every side:
#
# $$ \text{out}[n, f, i, j] = b_f + \sum_{c=0}^{C-1} \sum_{k=0}^{HH-1} \sum_{l=0}^{WW-1}
#    x_{\text{pad}}[n,\ c,\ iS + k,\ jS + l]\; w[f, c, k, l] . $$
#
# The filter spans **all** $C$ input channels; each filter makes one output channel, so
# the output has $F$ channels.
#
# **Cross-correlation, not convolution.** In mathematics a convolution flips the kernel
# (rows and columns reversed) before sliding it. Deep-learning libraries do not flip: the
# formula above, which is what `torch.nn.functional.conv2d` computes, is strictly a
# cross-correlation. Your layer must not flip either, or it will not agree with PyTorch.
#
# **The size of the output.** The padded input has $H + 2P$ rows. The window's first row
# can start at $0, S, 2S, \dots$ as long as the window still fits, i.e. at a start
# $s \le H + 2P - HH$. That leaves $\lfloor (H + 2P - HH) / S \rfloor + 1$ starts:
#
# $$ H' = \left\lfloor \frac{H + 2P - HH}{S} \right\rfloor + 1, \qquad
#    W' = \left\lfloor \frac{W + 2P - WW}{S} \right\rfloor + 1 . $$
#
# When $S$ does not divide $H + 2P - HH$ the last rows are never reached and are simply
# dropped (PyTorch does the same: the floor). With $S = 1$ and $P = (HH - 1)/2$ the
# output keeps the input's size: a 3 × 3 filter with $P = 1$ ("same" padding).
#
# **A worked example.** One 4 × 4 input channel and the 2 × 2 filter
# $w = \begin{pmatrix} 1 & 0 \\ 0 & -1 \end{pmatrix}$ (top-left minus bottom-right: a
# diagonal-difference detector), no bias, stride 1, no padding:
#
# $$ x = \begin{pmatrix} 3 & 1 & 0 & 2 \\ 1 & 4 & 2 & 0 \\ 0 & 2 & 5 & 1 \\ 2 & 0 & 1 & 3 \end{pmatrix}
#    \quad\longrightarrow\quad
#    \text{out} = \begin{pmatrix} -1 & -1 & 0 \\ -1 & -1 & 1 \\ 0 & 1 & 2 \end{pmatrix} , $$
#
# a $\lfloor (4 - 2)/1 \rfloor + 1 = 3$ by 3 output. The top-left value is
# $3 \cdot 1 + 1 \cdot 0 + 1 \cdot 0 + 4 \cdot (-1) = -1$; a flipped kernel would give
# $+1$. With stride 2 and padding 1 the padded input is 6 × 6, the output
# $\lfloor (4 + 2 - 2)/2 \rfloor + 1 = 3$ by 3, and its top-left window holds three
# padding zeros and the 3: $0 \cdot 1 + 3 \cdot (-1) = -3$.
#
# The worked example, checked with PyTorch's own layer (`F.conv2d` takes a batch of inputs
# and a stack of filters, hence the two extra axes):

# %%
x_ex = np.array([[3, 1, 0, 2], [1, 4, 2, 0], [0, 2, 5, 1], [2, 0, 1, 3]], dtype=float)
w_ex = np.array([[1, 0], [0, -1]], dtype=float)
out_ex = F.conv2d(torch.tensor(x_ex)[None, None], torch.tensor(w_ex)[None, None])[0, 0].numpy()
out_ex_s2p1 = F.conv2d(torch.tensor(x_ex)[None, None], torch.tensor(w_ex)[None, None], stride=2, padding=1)[0, 0]
print("stride 1, no padding:\n", out_ex)
print("stride 2, padding 1:\n", out_ex_s2p1.numpy())
assert np.array_equal(out_ex, [[-1, -1, 0], [-1, -1, 1], [0, 1, 2]]) and out_ex_s2p1[0, 0] == -3

# %% [markdown]
# ### Exercise 1: `conv_forward_naive`
#
# "Naive" means loops, but only over the output positions $(i, j)$: at each position,
# take the window of **every** example and channel at once,
# `x_pad[:, :, i*S : i*S + HH, j*S : j*S + WW]` of shape $(N, C, HH, WW)$, and multiply it
# with **every** filter in one NumPy call. `np.tensordot(window, w, axes=([1, 2, 3],
# [1, 2, 3]))` sums over the channel, row and column axes and returns an $(N, F)$ array,
# to which you add `b`; `np.einsum("nckl,fckl->nf", window, w)` is the same. (Looping
# over examples and filters too would be correct, but it makes one small NumPy call per
# example, filter and position instead of one per position: far slower, and section 5
# trains a network with your layer.)
#
# 1. Compute $H'$ and $W'$ with the formula above.
# 2. Pad only the two spatial axes: `np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))`.
#    (`np.pad(x, pad)` would pad the batch and channel axes too.)
# 3. Fill `out[:, :, i, j]` for every output position.
#
# Return `(out, cache)`, with whatever the backward pass will need in `cache`, and leave
# your arguments unchanged.

# %% solution="conv_forward"
def conv_forward_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1,
                       pad: int = 0) -> tuple[np.ndarray, tuple]:
    """Cross-correlation of x (N, C, H, W) with filters w (F, C, HH, WW), plus b (F,) -> (N, F, H', W'), cache."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    ### BEGIN SOLUTION
    H_out = (H + 2 * pad - HH) // stride + 1
    W_out = (W + 2 * pad - WW) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]  # (N, C, HH, WW)
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b  # (N, F)
    cache = (x, w, b, stride, pad)
    return out, cache
    ### END SOLUTION


# %% tests="test_conv_forward" points=3
out, _ = conv_forward_naive(x_ex[None, None], w_ex[None, None], np.zeros(1))
cu.check_shape(out, (1, 1, 3, 3), "conv_forward_naive on the worked example",
               hint="H' = (H + 2P − HH) // S + 1 = (4 + 0 − 2) // 1 + 1 = 3")
cu.check_close(out[0, 0, 0, 0], -1.0, "the top-left output of the worked example",
               hint="sum(window * w) WITHOUT flipping the kernel: +1 here means you flipped the kernel "
                    "(a true convolution); PyTorch's conv2d is a cross-correlation")
cu.check_close(out[0, 0], [[-1, -1, 0], [-1, -1, 1], [0, 1, 2]], "the whole worked example",
               hint="window (i, j) starts at row i·stride and column j·stride of the padded input")
out, _ = conv_forward_naive(x_ex[None, None], w_ex[None, None], np.array([0.5]), stride=2, pad=1)
cu.check_close(out[0, 0], [[-2.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.5, 0.5, 3.5]],
               "the worked example with stride 2, padding 1 and bias 0.5",
               hint="pad H and W only, on both sides; window (i, j) starts at (i·stride, j·stride) of the "
                    "PADDED input; out has (H + 2P − HH) // S + 1 rows; add b[f] everywhere")
rng = np.random.default_rng(0)
x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
for stride, pad in [(1, 0), (2, 1), (3, 2)]:
    expected = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=stride, padding=pad).numpy()
    out, _ = conv_forward_naive(x, w, b, stride, pad)
    cu.check_shape(out, expected.shape, f"conv_forward_naive with stride {stride}, pad {pad}",
                   hint="H' = (H + 2P − HH) // S + 1 and W' = (W + 2P − WW) // S + 1: the floor drops the "
                        "positions where the window would not fit")
    cu.check_close(out, expected, f"stride {stride}, pad {pad} vs torch.nn.functional.conv2d", rtol=1e-9,
                   hint="each window spans ALL channels, x_pad[:, :, rows, cols], and meets every filter; rows "
                        "use HH and i, columns WW and j (a 3×2 kernel here)")
x_before = x.copy()
conv_forward_naive(x, w, b, 2, 1)
cu.check_close(x, x_before, "x after conv_forward_naive", rtol=0, atol=0, hint="do not modify x in place")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call


def _forward(*args):
    return conv_forward_naive(*args)[0]


_rng = hidden_rng(4301)
_x, _w, _b = _rng.normal(size=(2, 3, 6, 7)), _rng.normal(size=(4, 3, 3, 2)), _rng.normal(size=4)
# report_call also reports a second call on the same arrays, and the arrays after both calls.
report_call("unseen inputs, stride 1, no padding, a 3×2 kernel", _forward, _x.copy(), _w.copy(), _b.copy(), 1, 0,
            rtol=1e-9)
report_call("unseen inputs, stride 2, padding 1", _forward, _x.copy(), _w.copy(), _b.copy(), 2, 1, rtol=1e-9)
report_call("stride 3, padding 2: windows that do not tile the input", _forward, _x.copy(), _w.copy(), _b.copy(), 3, 2,
            rtol=1e-9)
_x1, _w1 = _rng.normal(size=(1, 2, 5, 4)), _rng.normal(size=(3, 2, 5, 4))
report_call("a filter as large as the input", _forward, _x1, _w1, _rng.normal(size=3), 1, 0, rtol=1e-9)
_x2, _w2 = _rng.normal(size=(3, 2, 9, 5)) * 100, _rng.normal(size=(2, 2, 1, 1))
report_call("a 1×1 convolution with stride 2 on large values", _forward, _x2, _w2, _rng.normal(size=2), 2, 0,
            rtol=1e-9)
report("output shape: 10×13 input, 4×3 filters, stride 3, padding 2",
       lambda: np.array(_forward(_rng.normal(size=(1, 2, 10, 13)), _rng.normal(size=(5, 2, 4, 3)), np.zeros(5), 3,
                                 2).shape), kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# **Question.** A network whose convolution layers *flip* their kernels (true
# convolutions) is trained from random weights on the same data as one built with
# PyTorch's `conv2d`, which does not flip. Which is true?
#
# * (a) The flipping network cannot learn edge detectors, because its filters point the
#   wrong way.
# * (b) Both can compute exactly the same functions: whatever filter one network learns,
#   the other can learn its flipped copy, so the choice only matters when comparing with
#   someone else's layer (or loading their weights).
# * (c) The flipping network needs twice as many filters to compute the same functions.
#
# Set `flip_answer` to "a", "b" or "c".

# %% solution="choice_flip"
### BEGIN SOLUTION
flip_answer = "b"
### END SOLUTION

# %% tests="test_choice_flip" points=1
cu.check_choice(flip_answer, "abc", "flip_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", flip_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. What a filter does
#
# A filter responds where the image looks like it. The **Sobel** filter
#
# $$ w_{\text{vertical}} = \begin{pmatrix} 1 & 0 & -1 \\ 2 & 0 & -2 \\ 1 & 0 & -1 \end{pmatrix} $$
#
# subtracts the column on the right of each pixel from the column on its left (the middle
# row counted twice): it is 0 where the image is flat and large where the brightness
# changes from left to right, on **vertical edges**. Its transpose does the same for
# horizontal edges. Below, both hand-made filters run through your `conv_forward_naive`
# (one layer of two filters, padding 1 to keep the 28 × 28 size) on a pair of trousers
# from Fashion-MNIST. Red is a positive response (bright on the left of the edge), blue a
# negative one; the last picture is the edge strength
# $\sqrt{\text{vertical}^2 + \text{horizontal}^2}$.

# %%
X_train_raw, y_train_raw = cu.load_fashion_mnist("train")  # uint8 (55000, 28, 28), int64 (55000,)
trousers = X_train_raw[np.flatnonzero(y_train_raw == 1)[0]].astype(np.float64) / 255  # (28, 28) in [0, 1]
sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=np.float64)
edge_filters = np.stack([sobel, sobel.T])[:, None]  # (2, 1, 3, 3): vertical and horizontal edges

with cu.needs_your_code():
    edges, _ = conv_forward_naive(trousers[None, None], edge_filters, np.zeros(2), stride=1, pad=1)  # (1, 2, 28, 28)
    vertical, horizontal = edges[0]
    strength = np.hypot(vertical, horizontal)
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4))
    limit = np.abs(edges).max()
    for ax, img, title in zip(axes, [trousers, vertical, horizontal, strength],
                              ["trousers", "vertical-edge filter", "horizontal-edge filter", "edge strength"]):
        if title == "trousers" or title == "edge strength":
            ax.imshow(img, cmap="gray")
        else:
            ax.imshow(img, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(title)
        ax.set_axis_off()
    plt.show()
    flat = F.max_pool2d(torch.tensor(trousers)[None, None], 3, stride=1, padding=1)[0, 0].numpy() == 0
    print(f"pixels whose 3×3 neighbourhood is all black: {flat.sum()}; "
          f"largest response there: {np.abs(edges[0][:, flat]).max():.1f}")
    print(f"total |response|: vertical filter {np.abs(vertical).sum():.0f}, "
          f"horizontal filter {np.abs(horizontal).sum():.0f}")
    assert np.abs(edges[0][:, flat]).max() == 0, "a filter whose weights sum to 0 gives exactly 0 on a flat region"
    assert np.abs(vertical).sum() > 1.5 * np.abs(horizontal).sum(), \
        "trousers are mostly long vertical edges: the vertical filter should respond more than the horizontal one"

# %% [markdown]
# The weights of each filter sum to 0, so on the flat black background both responses are
# exactly 0. The trousers are long vertical shapes: the vertical-edge filter lights up
# along both legs (red on one side of each leg, blue on the other) and responds more than
# one and a half times as much in total as the horizontal one, which sees mostly the
# waistband and the hems. A CNN does not get hand-made filters: it *learns* its filters,
# by gradient descent, and for that it needs the backward pass.
#
# ## 3. The backward pass
#
# The backward pass receives `dout` $= \partial L / \partial \text{out}$, of shape
# $(N, F, H', W')$, and must return $\partial L / \partial x$, $\partial L / \partial w$
# and $\partial L / \partial b$. Every output value is a sum of products, so every input
# and weight that took part in it receives `dout` of that output times the thing it was
# multiplied with; and because the same weights and inputs take part in **many**
# outputs, those contributions **add up** (the multivariate chain rule, as for a node used
# twice in notebook 03):
#
# * **bias**: $b_f$ is added to every output of channel $f$, for every example and
#   position:
#   $$ \frac{\partial L}{\partial b_f} = \sum_{n} \sum_{i, j} \text{dout}[n, f, i, j] ; $$
# * **weights**: $w[f, c, k, l]$ multiplies $x_{\text{pad}}[n, c, iS + k, jS + l]$ in
#   output $(n, f, i, j)$, for every example and position:
#   $$ \frac{\partial L}{\partial w[f, c, k, l]} = \sum_{n} \sum_{i, j}
#      \text{dout}[n, f, i, j]\; x_{\text{pad}}[n, c, iS + k, jS + l] ; $$
#   at one position, that is `dout[:, :, i, j]` (shape $(N, F)$) against the window
#   $(N, C, HH, WW)$, summed over the batch:
#   `np.tensordot(dout[:, :, i, j], window, axes=([0], [0]))`, shape $(F, C, HH, WW)$;
# * **input**: window $(i, j)$ of example $n$ receives $\sum_f \text{dout}[n, f, i, j]\,
#   w[f]$: `np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))`, shape $(N, C, HH, WW)$.
#   Windows overlap whenever $S < HH$, so **add** (`+=`) it into a gradient of the padded
#   input, `dx_pad`, of the same shape as `x_pad`. The padding zeros are constants, not
#   inputs: at the end, **crop** them away,
#   `dx = dx_pad[:, :, pad:pad + H, pad:pad + W]`. (Beware `dx_pad[:, :, pad:-pad,
#   pad:-pad]`: with `pad = 0` it is empty.)
#
# **A worked example.** The 3 × 3 top-left corner of the worked example's input, the same
# filter $\begin{pmatrix} 1 & 0 \\ 0 & -1 \end{pmatrix}$, stride 1, no padding, and
# $\text{dout} = \begin{pmatrix} 1 & 2 \\ 0 & -1 \end{pmatrix}$:
#
# * $\partial L / \partial b = 1 + 2 + 0 - 1 = 2$;
# * $\partial L / \partial w[0, 0] = \sum_{i,j} \text{dout}[i, j]\, x[i, j] =
#   1 \cdot 3 + 2 \cdot 1 + 0 \cdot 1 - 1 \cdot 4 = 1$, and in all
#   $\partial L / \partial w = \begin{pmatrix} 1 & -1 \\ 7 & 3 \end{pmatrix}$;
# * $\partial L / \partial x$: each output puts its `dout` times the filter on its window:
#   $\begin{pmatrix} 1 & 2 & 0 \\ 0 & -2 & -2 \\ 0 & 0 & 1 \end{pmatrix}$ (the centre
#   receives $-1$ from output $(0, 0)$ and $-1$ from output $(1, 1)$).
#
# ### Exercise 2: `conv_backward_naive`
#
# Loop over the output positions again, and leave `dout` and the cache unchanged.

# %% solution="conv_backward"
def conv_backward_naive(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dout: (N, F, H', W') -> dx (N, C, H, W), dw (F, C, HH, WW), db (F,)."""
    ### BEGIN SOLUTION
    x, w, b, stride, pad = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            dw += np.tensordot(dout[:, :, i, j], x_pad[:, :, rows, cols], axes=([0], [0]))  # (F, C, HH, WW)
            dx_pad[:, :, rows, cols] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))  # (N, C, HH, WW)
    db = dout.sum(axis=(0, 2, 3))
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db
    ### END SOLUTION


# %% tests="test_conv_backward" points=4
x_small, dout_small = x_ex[None, None, :3, :3], np.array([[1.0, 2.0], [0.0, -1.0]])[None, None]
_, cache = conv_forward_naive(x_small, w_ex[None, None], np.zeros(1))
dx, dw, db = conv_backward_naive(dout_small, cache)
cu.check_shape(db, (1,), "db of the worked example", hint="one bias per filter: sum dout over axes 0, 2 and 3")
cu.check_close(db, [2.0], "db of the worked example",
               hint="b is added at every position of every example: SUM dout over the batch and over all "
                    "positions (not the mean)")
cu.check_shape(dw, (1, 1, 2, 2), "dw of the worked example", hint="dw has the shape of w")
cu.check_close(dw[0, 0], [[1, -1], [7, 3]], "dw of the worked example",
               hint="dw[f, c, k, l] = Σ over examples and positions of dout[n, f, i, j] · x_pad[n, c, i·S + k, "
                    "j·S + l]: each window, weighted by its dout, added up")
cu.check_shape(dx, (1, 1, 3, 3), "dx of the worked example",
               hint="dx has the shape of x: crop the padding, dx = dx_pad[:, :, pad:pad + H, pad:pad + W] "
                    "(dx_pad[:, :, pad:-pad, pad:-pad] is empty when pad = 0)")
cu.check_close(dx[0, 0], [[1, 2, 0], [0, -2, -2], [0, 0, 1]], "dx of the worked example",
               hint="each output adds dout · w onto ITS window of dx_pad; overlapping windows ADD up (+=)")
rng = np.random.default_rng(1)
for stride, pad in [(1, 1), (2, 1), (2, 0)]:
    x, w, b = rng.normal(size=(2, 3, 5, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    out, cache = conv_forward_naive(x, w, b, stride, pad)
    dout = rng.normal(size=out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    cu.check_shape(dx, x.shape, f"dx with stride {stride}, pad {pad}",
                   hint="crop the padding: dx = dx_pad[:, :, pad:pad + H, pad:pad + W] (dx_pad[:, :, pad:-pad, "
                        "pad:-pad] is empty when pad = 0)")
    # 1. Numerical gradients of the scalar sum(out * dout), in float64.
    print(cu.check_gradient(lambda v: np.sum(conv_forward_naive(v, w, b, stride, pad)[0] * dout), x, dx,
                            name=f"dx, stride {stride}, pad {pad}"))
    print(cu.check_gradient(lambda v: np.sum(conv_forward_naive(x, v, b, stride, pad)[0] * dout), w, dw,
                            name=f"dw, stride {stride}, pad {pad}"))
    print(cu.check_gradient(lambda v: np.sum(conv_forward_naive(x, w, v, stride, pad)[0] * dout), b, db,
                            name=f"db, stride {stride}, pad {pad}"))
    # 2. PyTorch's autograd on the same computation.
    dx_t, dw_t, db_t = torch_grads(lambda x_, w_, b_: F.conv2d(x_, w_, b_, stride=stride, padding=pad), [x, w, b],
                                   dout)
    cu.check_close(dx, dx_t, f"dx vs torch.autograd, stride {stride}, pad {pad}", rtol=1e-9)
    cu.check_close(dw, dw_t, f"dw vs torch.autograd, stride {stride}, pad {pad}", rtol=1e-9)
    cu.check_close(db, db_t, f"db vs torch.autograd, stride {stride}, pad {pad}", rtol=1e-9)
# The cache and dout must survive a backward pass: PyTorch may call it on a cache it still needs.
out, cache = conv_forward_naive(x, w, b, 2, 1)
dout = rng.normal(size=out.shape)
first = conv_backward_naive(dout.copy(), cache)
again = conv_backward_naive(dout.copy(), cache)
for name, a, b_ in zip(["dx", "dw", "db"], first, again):
    cu.check_close(b_, a, f"{name} of a second backward pass on the same cache", rtol=0, atol=0,
                   hint="do not modify the cache (x, w) in place, and start dx_pad and dw from zeros each call")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report, report_call, report_gradient


def _backward_args(x, w, b, stride, pad, rng):
    # The cache comes from the student's own forward pass; report_call then checks that the
    # backward pass leaves dout and that cache alone and gives the same result when called again.
    H_out = (x.shape[2] + 2 * pad - w.shape[2]) // stride + 1
    W_out = (x.shape[3] + 2 * pad - w.shape[3]) // stride + 1
    dout = rng.normal(size=(x.shape[0], w.shape[0], H_out, W_out))
    return conv_backward_naive, dout, conv_forward_naive(x.copy(), w.copy(), b.copy(), stride, pad)[1]


_rng = hidden_rng(4302)
for _shape_x, _shape_w, _stride, _pad, _what in [
    ((2, 3, 5, 6), (4, 3, 3, 3), 1, 1, "stride 1, padding 1"),
    ((2, 2, 7, 6), (3, 2, 3, 2), 2, 2, "stride 2, padding 2, a 3×2 kernel"),
    ((3, 2, 8, 8), (2, 2, 3, 3), 3, 0, "stride 3: the last rows and columns are in no window"),
    ((2, 4, 4, 5), (3, 4, 1, 1), 1, 0, "a 1×1 convolution"),
    ((1, 1, 6, 6), (1, 1, 4, 4), 1, 0, "one channel, one filter, heavily overlapping windows"),
]:
    _args = (_rng.normal(size=_shape_x), _rng.normal(size=_shape_w), _rng.normal(size=_shape_w[0]), _stride, _pad)
    report_call(f"dx, dw, db on unseen inputs: {_what}", *_backward_args(*_args, _rng), rtol=1e-9, own_inputs=True)

_x, _w, _b = _rng.normal(size=(2, 2, 5, 7)), _rng.normal(size=(3, 2, 3, 2)), _rng.normal(size=3)
_dout = _rng.normal(size=(2, 3, 3, 4))  # stride 2, padding 1


def _loss(x, w, b):
    return np.sum(conv_forward_naive(x, w, b, 2, 1)[0] * _dout)


def _grads(x, w, b):
    return conv_backward_naive(_dout, conv_forward_naive(x, w, b, 2, 1)[1])


report_gradient("dx agrees with the numerical gradient (stride 2, padding 1)", lambda v: _loss(v, _w, _b),
                lambda v: _grads(v, _w, _b)[0], _x, rtol=1e-9, h=1e-5, numeric_tol=1e-7)
report_gradient("dw agrees with the numerical gradient (stride 2, padding 1)", lambda v: _loss(_x, v, _b),
                lambda v: _grads(_x, v, _b)[1], _w, rtol=1e-9, h=1e-5, numeric_tol=1e-7)
report_gradient("db agrees with the numerical gradient (stride 2, padding 1)", lambda v: _loss(_x, _w, v),
                lambda v: _grads(_x, _w, v)[2], _b, rtol=1e-9, h=1e-5, numeric_tol=1e-7,
                seed=hidden_seed(4303))
report("the gradients' shapes for a 9×8 input, 4×3 filters, stride 2, padding 2",
       lambda: np.array([a.shape for a in conv_backward_naive(
           np.ones((2, 5, 5, 5)), conv_forward_naive(np.ones((2, 3, 9, 8)), np.ones((5, 3, 4, 3)), np.zeros(5), 2,
                                                     2)[1])[:2]]), kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# **The backward pass of a convolution is a convolution.** Look at the formula for
# $\partial L / \partial w$ again: it slides `dout` over the padded input, exactly as the
# forward pass slides a filter (for stride 1, $\partial L / \partial w_f$ is the
# cross-correlation of `x_pad` with `dout[:, f]`, summed over the batch). And
# $\partial L / \partial x$ spreads every `dout` value over its window, weighted by the
# filter: a **transposed convolution**, which PyTorch provides as `conv_transpose2d`
# (generative networks use it to *enlarge* images). Your gradients agree with both:

# %%
with cu.needs_your_code():
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(2, 3, 9, 8)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    out, cache = conv_forward_naive(x, w, b, stride=2, pad=1)
    dout = rng.normal(size=out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)
    dx_transposed = F.conv_transpose2d(torch.tensor(dout), torch.tensor(w), stride=2, padding=1,
                                       output_padding=((9 + 2 - 3) % 2, (8 + 2 - 3) % 2)).numpy()
    _, cache1 = conv_forward_naive(x, w, b, stride=1, pad=1)
    dout1 = rng.normal(size=(2, 4, 9, 8))
    dw1 = conv_backward_naive(dout1, cache1)[1]
    x_pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    # Batch and channel axes swap roles: the C channels of x_pad become a batch, the N examples are summed over.
    dw_as_conv = F.conv2d(torch.tensor(x_pad).transpose(0, 1), torch.tensor(dout1).transpose(0, 1)).transpose(0, 1)
    print("dx (stride 2) vs conv_transpose2d(dout, w): relative error", f"{cu.rel_error(dx, dx_transposed):.1e}")
    print("dw (stride 1) vs x_pad ⋆ dout:               relative error", f"{cu.rel_error(dw1, dw_as_conv):.1e}")
    assert cu.rel_error(dx, dx_transposed) < 1e-9 and cu.rel_error(dw1, dw_as_conv) < 1e-9, \
        "conv_backward_naive disagrees with the convolutions that compute the same gradients"

# %% [markdown]
# **Question.** In $\partial L / \partial w$ and $\partial L / \partial b$ you summed over
# the examples of the batch *and* over every output position. Why a sum over positions,
# when a dense layer's `dW` (notebook 03) sums only over the examples? And why a sum, not a
# mean?

# %% [markdown] answer="explain_dw_sums" points=1
# *Model answer.* Parameter sharing: the same filter weight $w[f, c, k, l]$ and the same
# bias $b_f$ are used at every output position $(i, j)$ of every example, so the loss
# depends on that one parameter through all those outputs. The multivariate chain rule
# adds the contributions of every path from the parameter to the loss, hence the sum over
# examples and positions. (A dense layer's weight is used once per example, so its
# gradient sums over examples only.) It is a sum because that is the derivative:
# averaging would compute the gradient of a different loss (divided by $H' W'$), and
# would disagree with the numerical gradient. Any averaging over the batch belongs in the
# loss (the mean cross-entropy), and reaches the layer through `dout`.

# %% [markdown]
# **Question.** A convolution with 3 × 3 filters, stride 3 and no padding runs on an
# 8 × 8 input. Which entries of `dx` are always 0, whatever `dout` and `w` are?
#
# * (a) none: every input is in some window;
# * (b) the last two rows and the last two columns;
# * (c) the first and the last row and column;
# * (d) every third row and every third column.
#
# Set `uncovered_answer` to "a", "b", "c" or "d".

# %% solution="choice_uncovered"
### BEGIN SOLUTION
uncovered_answer = "b"
### END SOLUTION

# %% tests="test_choice_uncovered" points=1
cu.check_choice(uncovered_answer, "abcd", "uncovered_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", uncovered_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Max pooling
#
# A **pooling** layer shrinks each channel on its own. **Max pooling** keeps the largest
# value of each window: with windows of $P_H \times P_W$ (`pool_height` × `pool_width`)
# moved by `stride` $S$ (no padding), the output has
#
# $$ H' = \left\lfloor \frac{H - P_H}{S} \right\rfloor + 1, \qquad
#    W' = \left\lfloor \frac{W - P_W}{S} \right\rfloor + 1 $$
#
# positions (the convolution's formula with $P = 0$), and as many channels as its input.
# It has no parameters. The usual choice, 2 × 2 windows with stride 2, halves the width
# and the height:
#
# $$ \begin{pmatrix} 2 & 0 & 1 & 3 & 1 & 0 \\ 4 & 1 & 0 & 2 & 5 & 1 \\ 0 & 3 & 2 & 1 & 0 & 2 \\
#    1 & 2 & 6 & 0 & 3 & 1 \end{pmatrix}
#    \ \xrightarrow{\ 2 \times 2,\ \text{stride } 2\ }\
#    \begin{pmatrix} 4 & 3 & 5 \\ 3 & 6 & 3 \end{pmatrix} . $$
#
# **Backward.** Inside a window only the largest input reaches the output, with slope 1;
# nudging any other input of the window does not change the output at all. So each
# upstream gradient `dout[n, c, i, j]` goes, whole, to the **one** input that was the
# maximum of window $(i, j)$, and the other inputs of that window get nothing from it.
# When windows overlap (stride smaller than the window), an input can be the maximum of
# several windows: its gradient is the **sum** of theirs (`+=`).
#
# **Ties.** If a window's maximum appears more than once, the max is not differentiable
# there, and a rule must choose. Ours, the one `np.argmax` and PyTorch's CPU max pooling
# follow: the **first** maximum in reading order (row by row, left to right) gets the
# whole gradient, the others nothing. Giving the gradient to every tied maximum would
# multiply it. The tests use inputs without ties, except one test that checks this rule.
#
# ### Exercise 3: max pooling, forward and backward
#
# Loop over the output positions; handle the whole batch and every channel at once. For
# the backward pass, `window.reshape(N, C, -1)` puts each window's values on one axis,
# its `.argmax(axis=2)` is the position of the first maximum, and
# `np.arange(pool_height * pool_width) == first[..., None]` is a one-hot mask of it
# (`np.unravel_index` is another way).

# %% solution="max_pool"
def max_pool_forward_naive(x: np.ndarray, pool_height: int = 2, pool_width: int = 2,
                           stride: int = 2) -> tuple[np.ndarray, tuple]:
    """Max over pool_height × pool_width windows moved by stride. x: (N, C, H, W) -> (N, C, H', W'), cache."""
    N, C, H, W = x.shape
    ### BEGIN SOLUTION
    H_out = (H - pool_height) // stride + 1
    W_out = (W - pool_width) // stride + 1
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + pool_height, j * stride:j * stride + pool_width]
            out[:, :, i, j] = window.max(axis=(2, 3))
    cache = (x, pool_height, pool_width, stride)
    return out, cache
    ### END SOLUTION


def max_pool_backward_naive(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dout: (N, C, H', W') -> dx: (N, C, H, W); each gradient goes to its window's (first) maximum."""
    ### BEGIN SOLUTION
    x, pool_height, pool_width, stride = cache
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + pool_height)
            cols = slice(j * stride, j * stride + pool_width)
            window = x[:, :, rows, cols].reshape(N, C, pool_height * pool_width)
            first = window.argmax(axis=2)  # (N, C): the first maximum in reading order
            mask = np.arange(pool_height * pool_width) == first[..., None]  # (N, C, pool_height·pool_width)
            dx[:, :, rows, cols] += (mask * dout[:, :, i, j, None]).reshape(N, C, pool_height, pool_width)
    return dx
    ### END SOLUTION


# %% tests="test_max_pool" points=3
x_pool = np.array([[2, 0, 1, 3, 1, 0], [4, 1, 0, 2, 5, 1], [0, 3, 2, 1, 0, 2], [1, 2, 6, 0, 3, 1]],
                  dtype=float)[None, None]
out, cache = max_pool_forward_naive(x_pool)
cu.check_shape(out, (1, 1, 2, 3), "max_pool_forward_naive of the 4×6 example",
               hint="H' = (4 − 2) // 2 + 1 = 2, W' = (6 − 2) // 2 + 1 = 3")
cu.check_close(out[0, 0], [[4, 3, 5], [3, 6, 3]], "max pooling the 4×6 example",
               hint="the MAXIMUM of each window; window (i, j) covers rows i·stride … i·stride + pool_height − 1")
dx = max_pool_backward_naive(np.arange(1.0, 7.0).reshape(1, 1, 2, 3), cache)
cu.check_close(dx[0, 0], [[0, 0, 0, 2, 0, 0], [1, 0, 0, 0, 3, 0], [0, 4, 0, 0, 0, 0], [0, 0, 5, 0, 6, 0]],
               "max_pool_backward_naive of the 4×6 example, dout = [[1, 2, 3], [4, 5, 6]]",
               hint="each window's gradient goes ONLY to the position of its maximum; the other inputs of the "
                    "window get 0 (spreading it over the window, or averaging it, is average pooling's gradient)")
ties = np.array([[1.0, 5.0], [5.0, 5.0]])[None, None]
cu.check_close(max_pool_backward_naive(np.ones((1, 1, 1, 1)), max_pool_forward_naive(ties)[1])[0, 0],
               [[0, 1], [0, 0]], "backward of a window whose maximum 5 appears three times",
               hint="with ties, ONE input gets the gradient: the first maximum in reading order (as argmax "
                    "picks), not every maximum")
rng = np.random.default_rng(3)
x = rng.normal(size=(2, 3, 7, 8))
for pool_height, pool_width, stride in [(2, 2, 2), (3, 2, 1), (2, 3, 2)]:
    out, cache = max_pool_forward_naive(x, pool_height, pool_width, stride)
    x_t = torch.tensor(x, requires_grad=True)
    out_t = F.max_pool2d(x_t, (pool_height, pool_width), stride)
    cu.check_shape(out, tuple(out_t.shape), f"forward with {pool_height}×{pool_width} windows, stride {stride}",
                   hint="H' = (H − pool_height) // stride + 1 and W' = (W − pool_width) // stride + 1")
    cu.check_close(out, out_t.detach().numpy(), f"forward, {pool_height}×{pool_width} windows, stride {stride}, "
                   "vs torch", rtol=1e-12,
                   hint="rows use pool_height, columns pool_width; windows start every `stride` rows and columns")
    dout = rng.normal(size=out.shape)
    dx = max_pool_backward_naive(dout, cache)
    out_t.backward(torch.tensor(dout))
    cu.check_close(dx, x_t.grad.numpy(), f"backward, {pool_height}×{pool_width} windows, stride {stride}, "
                   "vs torch.autograd", rtol=1e-12,
                   hint="overlapping windows (stride 1 here) can share their maximum: ADD the gradients (+=)")
    print(cu.check_gradient(lambda v: np.sum(max_pool_forward_naive(v, pool_height, pool_width, stride)[0] * dout),
                            x, dx, name=f"dx, {pool_height}×{pool_width} windows, stride {stride}"))
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report_call, report_gradient


def _pool(x, *params):
    return max_pool_forward_naive(x, *params)[0]


def _pool_backward_args(x, params, rng):
    # The cache comes from the student's own forward pass (own_inputs below).
    out, cache = max_pool_forward_naive(x.copy(), *params)
    return max_pool_backward_naive, rng.normal(size=out.shape), cache


_rng = hidden_rng(4304)
for _shape, _params, _what in [
    ((2, 3, 6, 8), (2, 2, 2), "2×2 windows, stride 2"),
    ((2, 2, 7, 7), (3, 2, 1), "3×2 windows, stride 1 (overlapping)"),
    ((1, 3, 7, 9), (2, 3, 2), "2×3 windows, stride 2, not tiling the input"),
    ((3, 1, 5, 5), (5, 5, 1), "one window as large as the input"),
]:
    _x = _rng.normal(size=_shape)
    report_call(f"forward: {_what}", _pool, _x.copy(), *_params, rtol=1e-12)
    report_call(f"backward: {_what}", *_pool_backward_args(_x, _params, _rng), rtol=1e-12, own_inputs=True)
_xn = -np.abs(_rng.normal(size=(2, 2, 4, 6))) - 1.0  # every value negative: a maximum below 0
report_call("all-negative inputs: forward", _pool, _xn.copy(), 2, 2, 2, rtol=1e-12)
report_call("all-negative inputs: backward", *_pool_backward_args(_xn, (2, 2, 2), _rng), rtol=1e-12, own_inputs=True)
report_call("keyword arguments: forward", lambda x: max_pool_forward_naive(x, pool_height=3, pool_width=2,
                                                                           stride=2)[0], _xn.copy(), rtol=1e-12)
_xo, _douto = _rng.normal(size=(1, 2, 6, 6)), _rng.normal(size=(1, 2, 4, 5))  # 3×2 windows, stride 1
report_gradient("dx agrees with the numerical gradient (3×2 windows, stride 1)",
                lambda v: np.sum(max_pool_forward_naive(v, 3, 2, 1)[0] * _douto),
                lambda v: max_pool_backward_naive(_douto, max_pool_forward_naive(v, 3, 2, 1)[1]), _xo, rtol=1e-12,
                h=1e-6, numeric_tol=1e-7, seed=hidden_seed(4305))
# The one check with ties: small integers tie often; the rule stated above (first maximum in reading order).
_xt = _rng.integers(0, 3, size=(2, 2, 6, 6)).astype(float)
report_call("windows with tied maxima: the first maximum in reading order gets the gradient",
            *_pool_backward_args(_xt, (2, 2, 2), _rng), rtol=1e-12, own_inputs=True)
### END HIDDEN TESTS

# %% [markdown]
# **Question.** A 2 × 2 max pooling with stride 2 sits on top of a convolution layer (with
# a ReLU between them). In one backward pass, which of the convolution's outputs receive a
# gradient from the pooling layer, and what does that mean for the update of the
# convolution's filters?

# %% [markdown] answer="explain_pool_routing" points=1
# *Model answer.* Only one output in each 2 × 2 window, the one that was the maximum
# (the first one if several tie), so at most a quarter of the convolution's outputs get a
# nonzero gradient; the other three quarters get exactly 0. Since
# $\partial L / \partial w$ sums `dout` times the input window over all positions, only
# the positions that won their pooling window contribute to the filters' update in that
# step: each filter is adjusted to respond better (or worse) where it was already the
# strongest response of its neighbourhood. (And a ReLU whose input was negative passes
# nothing back either.)

# %% [markdown]
# ## 5. Your layers inside PyTorch
#
# PyTorch's autograd knows the derivative of every operation it provides. To use your own
# layer in a PyTorch model, you tell it both halves: a `torch.autograd.Function` has a
# `forward` that computes the output from tensors (here by calling your NumPy forward,
# and keeping your cache on the context object `ctx`), and a `backward` that receives
# `dout` and returns one gradient per input of `forward` (`None` for the stride and other
# settings, which have no gradient). `Function.apply(...)` then works like any PyTorch
# operation: `loss.backward()` calls your `conv_backward_naive` when it reaches your
# layer. This is how new operations are added to PyTorch, usually with the two halves
# written in C++ or CUDA instead of NumPy.

# %%
class YourConv2d(torch.autograd.Function):
    """conv_forward_naive and conv_backward_naive as a PyTorch operation (CPU, float64 tensors)."""

    @staticmethod
    def forward(ctx, x, w, b, stride, pad):
        out, ctx.layer_cache = conv_forward_naive(x.detach().numpy(), w.detach().numpy(), b.detach().numpy(),
                                                  stride, pad)
        return torch.from_numpy(np.ascontiguousarray(out))

    @staticmethod
    def backward(ctx, dout):
        dx, dw, db = conv_backward_naive(dout.detach().numpy(), ctx.layer_cache)
        return (torch.from_numpy(np.ascontiguousarray(dx)), torch.from_numpy(np.ascontiguousarray(dw)),
                torch.from_numpy(np.ascontiguousarray(db)), None, None)


class YourMaxPool2d(torch.autograd.Function):
    """max_pool_forward_naive and max_pool_backward_naive as a PyTorch operation."""

    @staticmethod
    def forward(ctx, x, pool_height, pool_width, stride):
        out, ctx.layer_cache = max_pool_forward_naive(x.detach().numpy(), pool_height, pool_width, stride)
        return torch.from_numpy(np.ascontiguousarray(out))

    @staticmethod
    def backward(ctx, dout):
        dx = max_pool_backward_naive(dout.detach().numpy(), ctx.layer_cache)
        return torch.from_numpy(np.ascontiguousarray(dx)), None, None, None


# %% [markdown]
# PyTorch has its own gradient checker, `torch.autograd.gradcheck`: it compares the
# `backward` of an operation with centred differences of its `forward`, in float64.
# Through the wrappers it checks your layers once more:

# %%
with cu.needs_your_code():
    gen = torch.Generator().manual_seed(0)
    x_check = torch.randn(2, 2, 6, 5, dtype=torch.float64, generator=gen, requires_grad=True)
    w_check = torch.randn(3, 2, 3, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    b_check = torch.randn(3, dtype=torch.float64, generator=gen, requires_grad=True)
    conv_ok = torch.autograd.gradcheck(YourConv2d.apply, (x_check, w_check, b_check, 2, 1))
    pool_ok = torch.autograd.gradcheck(YourMaxPool2d.apply, (x_check, 2, 2, 2))
    print("torch.autograd.gradcheck: YourConv2d", conv_ok, "YourMaxPool2d", pool_ok)

# %% [markdown]
# ### A small CNN, twice
#
# The network: a convolution of 8 filters 3 × 3 with padding 1 (28 × 28 stays
# 28 × 28), a ReLU, a 2 × 2 max pooling with stride 2 (14 × 14), and a linear layer from
# the $8 \cdot 14 \cdot 14 = 1568$ features to the 10 classes. `TinyCNN(your_layers=True)`
# runs the convolution and the pooling with your functions, `TinyCNN(your_layers=False)`
# with PyTorch's `F.conv2d` and `F.max_pool2d`; the parameters are the same
# `nn.Conv2d` and `nn.Linear` either way, created from the same seed.
#
# Both train on the same 1,000 Fashion-MNIST images, for 2 epochs of 20 minibatches of 50,
# with SGD and momentum, the minibatches in the same order: a fixed amount of work, a few
# seconds with your layers.

# %%
class TinyCNN(nn.Module):
    """conv 3×3 (8 filters, padding 1) → ReLU → max pool 2×2 → linear 1568 → 10, in float64."""

    def __init__(self, your_layers: bool, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.your_layers = your_layers
        self.conv = nn.Conv2d(1, 8, 3, padding=1, dtype=torch.float64)
        self.fc = nn.Linear(8 * 14 * 14, 10, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 1, 28, 28) -> class scores (N, 10)."""
        if self.your_layers:
            h = torch.relu(YourConv2d.apply(x, self.conv.weight, self.conv.bias, 1, 1))
            h = YourMaxPool2d.apply(h, 2, 2, 2)
        else:
            h = torch.relu(F.conv2d(x, self.conv.weight, self.conv.bias, stride=1, padding=1))
            h = F.max_pool2d(h, 2, 2)
        return self.fc(h.flatten(1))


def train_tiny_cnn(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int = 2, batch_size: int = 50,
                   lr: float = 0.05, seed: int = 0) -> list[float]:
    """SGD with momentum on the cross-entropy; the same seed gives the same minibatches. Returns every loss."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    order = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        for batch in torch.randperm(len(X), generator=order).split(batch_size):
            loss = F.cross_entropy(model(X[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


X_small = torch.tensor(X_train_raw[:1000, None] / 255.0)  # (1000, 1, 28, 28) float64 in [0, 1]
y_small = torch.as_tensor(y_train_raw[:1000])

# %%
with cu.needs_your_code():
    your_model = TinyCNN(your_layers=True)
    start = time.perf_counter()
    your_losses = train_tiny_cnn(your_model, X_small, y_small)
    your_seconds = time.perf_counter() - start
    print(f"your layers: {len(your_losses)} steps in {your_seconds:.1f} s, last loss {your_losses[-1]:.4f}")

# %%
torch_model = TinyCNN(your_layers=False)
start = time.perf_counter()
torch_losses = train_tiny_cnn(torch_model, X_small, y_small)
torch_seconds = time.perf_counter() - start
print(f"PyTorch's layers: {len(torch_losses)} steps in {torch_seconds:.2f} s, last loss {torch_losses[-1]:.4f}")

# %% [markdown]
# The two loss curves, and how far apart they ever get:

# %%
with cu.needs_your_code():
    plt.figure(figsize=(6, 3.5))
    plt.plot(torch_losses, lw=4, alpha=0.4, label="PyTorch's conv2d and max_pool2d")
    plt.plot(your_losses, "k--", lw=1, label="your layers")
    plt.xlabel("step")
    plt.ylabel("cross-entropy of the minibatch")
    plt.legend()
    plt.show()
    gap = np.max(np.abs(np.array(your_losses) - np.array(torch_losses)))
    X_val_raw, y_val = cu.load_fashion_mnist("val")
    X_val = torch.tensor(X_val_raw[:2000, None] / 255.0)
    with torch.no_grad():
        your_pred = your_model(X_val).argmax(dim=1).numpy()
        torch_pred = torch_model(X_val).argmax(dim=1).numpy()
    your_acc = float(np.mean(your_pred == y_val[:2000]))
    print(f"largest gap between the two curves: {gap:.1e}")
    print(f"validation accuracy (2,000 images): your layers {your_acc:.3f}, PyTorch's "
          f"{np.mean(torch_pred == y_val[:2000]):.3f}; the models disagree on {np.sum(your_pred != torch_pred)} images")
    print(f"training time on this machine, now: your layers {your_seconds:.1f} s, PyTorch's {torch_seconds:.2f} s")
    # Lines of Python of one forward pass on 50 images (the same on every machine, unlike the seconds).
    your_lines = cu.python_lines(your_model, X_small[:50])[1]
    torch_lines = cu.python_lines(torch_model, X_small[:50])[1]
    print(f"lines of Python in one forward pass of 50 images: your layers {your_lines:,d}, PyTorch's {torch_lines}")
    assert gap < 1e-8, (f"the two loss curves differ by up to {gap:.1e}: they should agree to rounding, since the "
                        "layers compute the same function and gradients")
    assert np.array_equal(your_pred, torch_pred), "the two trained models should make the same predictions"
    print(f"loss: first step {your_losses[0]:.3f} (ln 10 = {np.log(10):.3f}), mean of the last 10 steps "
          f"{np.mean(your_losses[-10:]):.3f}")
    assert abs(your_losses[0] - np.log(10)) < 0.2, "the untrained network should start near ln 10, a uniform guess"
    assert np.mean(your_losses[-10:]) < 1.2, "the loss should fall well below ln 10 = 2.3 in 40 steps"
    assert your_acc > 0.7, f"validation accuracy {your_acc:.3f}: 40 steps on 1,000 images reach above 0.7"
    assert your_lines >= 28 * 28, (f"a forward pass through your layers ran {your_lines} lines of Python: a loop over "
                                   "the 28 × 28 output positions of the convolution runs at least one per position")
    assert torch_lines < 10, f"PyTorch's layers should run no Python of their own, the model ran {torch_lines} lines"

# %% [markdown]
# The curves lie on top of each other, to rounding, and the trained models make the same
# prediction on every validation image: your layers compute the same function and the same
# gradients as PyTorch's. The untrained network starts at a loss near
# $\ln 10 \approx 2.3$, that of a uniform guess over 10 classes; after only 40 steps on
# 1,000 images its last 10 minibatches average below 1.2, and it is right on more than
# 70 % of 2,000 validation images it never saw.
#
# The two training times printed above are this machine's, measured while the cells ran;
# they change with the machine and with whatever else it is doing. What does not change is
# the Python each model runs (counted above): one forward pass through your layers runs at
# least one line for each of the 28 × 28 output positions of the convolution, while
# PyTorch's layers run no Python of their own, only the few lines of `TinyCNN.forward`.
# Each line of Python costs the interpreter's overhead; PyTorch's layers run compiled loops
# instead and, for large inputs, turn the convolution into one big matrix product.
# Notebook 05 does that last trick in NumPy, **im2col**, and from then on uses PyTorch's
# layers to build and train real CNNs.
#
# ## Summary
#
# * A convolution layer slides each filter, spanning all input channels, over the padded
#   input: $H' = \lfloor (H + 2P - HH)/S \rfloor + 1$ positions down, and one output
#   channel per filter. Deep-learning "convolution" does not flip the kernel.
# * Its backward pass follows from the chain rule with shared parameters: `db` sums `dout`
#   over examples and positions, `dw` sums each window times its `dout`, and `dx` adds
#   `dout` times the filter back onto every window (`+=`), then drops the padding. Both are
#   convolutions themselves.
# * Max pooling keeps each window's maximum; its backward pass sends each gradient to
#   that one input (the first, in a tie) and adds where windows overlap.
# * A `torch.autograd.Function` puts any forward/backward pair into PyTorch; yours trained
#   a CNN exactly as PyTorch's own layers did.
