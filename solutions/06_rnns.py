# %% [markdown]
# # 06 · Recurrent neural networks
#
# Every network so far took one input of a fixed size, an image, and gave one output, its
# class. Text, speech, music, a patient's measurements over a week: much of the world
# comes as **sequences** of varying length, where what comes first changes the meaning of
# what comes after. A **recurrent** network reads a sequence one element at a time and
# carries a memory, its **hidden state**, from one step to the next.
#
# You will implement:
#
# * `rnn_step_forward` / `rnn_step_backward`: one step of a vanilla RNN,
#   $h' = \tanh(x W_x + h W_h + b)$;
# * `rnn_forward` / `rnn_backward`: the same cell unrolled over a whole sequence, and
#   **backpropagation through time**;
# * `clip_grad_norm`: gradient clipping by global norm, the cure for exploding gradients;
# * `embedding_forward` / `embedding_backward`: the input layer that turns characters into
#   vectors;
# * `temporal_softmax_loss`: a softmax loss at every time step, with a mask for padding;
# * `lm_inputs_targets` and `char_rnn_loss`: a character-level **language model** on the
#   first names of the US census, with all its gradients;
# * `softmax_with_temperature` and `sample_names`: new names, sampled at a temperature;
# * `train_char_rnn` and `char_log_probs`: training it, and its predictions for
#   held-out names. The grader trains your model with your recipe and computes its loss
#   on the validation names itself: it must beat a bigram count model by at least
#   0.15 nats per character;
# * `CharLSTM`: the same language model with PyTorch's LSTM.
#
# **Shapes.** A minibatch holds $N$ sequences of $T$ steps. Inputs are $x$ of shape
# $(N, T, D)$, hidden states $h$ of shape $(N, T, H)$; one step's input is $(N, D)$ and
# its hidden state $(N, H)$. Weights multiply from the right, as in `x @ Wx`:
# $W_x$ is $(D, H)$, $W_h$ is $(H, H)$, $b$ is $(H,)$.

# %%
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from threadpoolctl import threadpool_limits
from torch import nn

import course_utils as cu

cu.seed_everything(0)
# The matrices of a small RNN are tiny: one BLAS thread is faster than several that must keep in step.
blas_threads = threadpool_limits(1, user_api="blas")
device = cu.best_device()
print("device for the LSTM:", device)

# %% [markdown]
# ## 1. Sequences in, sequences out
#
# A network can read one thing or a sequence, and answer with one thing or a sequence.
# The four shapes:
#
# * **one to one**: one input, one output, the networks of notebooks 01–05 (image
#   classification);
# * **one to many**: one input, a sequence out (image captioning: an image in, a sentence
#   out);
# * **many to one**: a sequence in, one output (the sentiment of a review, the speaker of
#   a recording);
# * **many to many**: a sequence in, a sequence out, either after reading the whole
#   input (translation) or one output per input step (labelling every frame of a video;
#   predicting the next character of a word, which is what we will do).
#
# Below, red boxes are inputs, green ones hidden states, blue ones outputs; every arrow
# is a learned transformation, and arrows of the same kind share their weights.

# %%
def draw_box(ax, x, y, color, label="", size=0.6):
    ax.add_patch(FancyBboxPatch((x - size / 2, y - size / 2), size, size, boxstyle="round,pad=0.05",
                                facecolor=color, edgecolor="black", lw=1))
    ax.text(x, y, label, ha="center", va="center", fontsize=10)


def draw_arrow(ax, start, end, label="", color="black"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=color, lw=1.2))
    if label:
        ax.text((start[0] + end[0]) / 2 + 0.08, (start[1] + end[1]) / 2 + 0.08, label, fontsize=8, color=color)


RED, GREEN, BLUE = "#f4a6a6", "#a6d8a6", "#a6c8f4"
shapes = {"one to one": ([0], [0], 1), "one to many": ([0], [0, 1, 2], 3), "many to one": ([0, 1, 2], [2], 3),
          "many to many": ([0, 1, 2], [0, 1, 2], 3)}
fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
for ax, (title, (ins, outs, steps)) in zip(axes, shapes.items()):
    for t in range(steps):
        draw_box(ax, t, 1, GREEN)
        if t:
            draw_arrow(ax, (t - 0.65, 1), (t - 0.35, 1))
    for t in ins:
        draw_box(ax, t, 0, RED)
        draw_arrow(ax, (t, 0.35), (t, 0.65))
    for t in outs:
        draw_box(ax, t, 2, BLUE)
        draw_arrow(ax, (t, 1.35), (t, 1.65))
    ax.set_xlim(-0.7, 2.7)
    ax.set_ylim(-0.6, 2.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title)
plt.show()

# %% [markdown]
# ## 2. Recurrence
#
# A recurrent network applies **the same function at every step**. It reads the input
# $x_t$ and its previous state $h_{t-1}$ and computes a new state,
#
# $$ h_t = \tanh\big(x_t W_x + h_{t-1} W_h + b\big), $$
#
# starting from a given $h_0$ (often zeros). An output at step $t$, scores for the next
# character say, is read from $h_t$ by an ordinary affine layer, $y_t = h_t W_y + b_y$.
# The weights $W_x, W_h, b, W_y, b_y$ are the same at every step, so one network handles
# sequences of any length, and the state $h_t$ is the only path by which step 1 can
# influence step 10.
#
# (The syllabus writes the same thing with column vectors,
# $h_{t} = \tanh(W_{hh} h_{t-1} + W_{xh} x_t + b)$; our $W_h$ and $W_x$ are the transposes
# of $W_{hh}$ and $W_{xh}$, so that a batch of row vectors is one matrix product.)
#
# **Unrolling.** Drawn for a sequence of $T$ steps, the network is a deep feed-forward
# network, one layer per time step, in which every layer has the same weights:

# %%
T_draw = 4
fig, ax = plt.subplots(figsize=(10, 3.6))
draw_box(ax, -1.2, 1, GREEN, "$h_0$")
for t in range(1, T_draw + 1):
    draw_box(ax, t * 1.6 - 1.2, 0, RED, f"$x_{t}$")
    draw_box(ax, t * 1.6 - 1.2, 1, GREEN, f"$h_{t}$")
    draw_box(ax, t * 1.6 - 1.2, 2, BLUE, f"$y_{t}$")
    draw_arrow(ax, (t * 1.6 - 1.2, 0.35), (t * 1.6 - 1.2, 0.65), "$W_x$", "firebrick")
    draw_arrow(ax, (t * 1.6 - 2.45, 1), (t * 1.6 - 1.55, 1), "$W_h$", "darkgreen")
    draw_arrow(ax, (t * 1.6 - 1.2, 1.35), (t * 1.6 - 1.2, 1.65), "$W_y$", "navy")
ax.text(T_draw * 1.6 + 0.2, 1, "…", fontsize=16, va="center")
ax.set_xlim(-1.8, T_draw * 1.6 + 0.6)
ax.set_ylim(-0.6, 2.6)
ax.set_aspect("equal")
ax.set_axis_off()
ax.set_title("an RNN unrolled over 4 steps: the same $W_x$, $W_h$, $W_y$ at every step")
plt.show()

# %% [markdown]
# Training the unrolled network is ordinary backpropagation on that graph. Two things
# are new, and both come from sharing the weights:
#
# * the gradient of a shared weight is the **sum** of its gradients at every step;
# * the state $h_t$ feeds both the output $y_t$ and the next state $h_{t+1}$, so its
#   gradient has two parts: what comes down from $y_t$, and what comes back from the
#   future through $h_{t+1}$.
#
# This is **backpropagation through time** (BPTT). We build it in two pieces, one step
# and then the loop.
#
# ### One step
#
# Write $a = x W_x + h_{\text{prev}} W_h + b$ and $h' = \tanh(a)$. Given the upstream
# gradient $\partial L / \partial h'$ (`dh_next`, shape $(N, H)$):
#
# $$ \frac{\partial L}{\partial a} = \frac{\partial L}{\partial h'} \odot (1 - h'^2), \qquad
#    \frac{\partial L}{\partial x} = \frac{\partial L}{\partial a} W_x^\top, \qquad
#    \frac{\partial L}{\partial h_{\text{prev}}} = \frac{\partial L}{\partial a} W_h^\top, $$
# $$ \frac{\partial L}{\partial W_x} = x^\top \frac{\partial L}{\partial a}, \qquad
#    \frac{\partial L}{\partial W_h} = h_{\text{prev}}^\top \frac{\partial L}{\partial a}, \qquad
#    \frac{\partial L}{\partial b} = \sum_{n} \frac{\partial L}{\partial a_n} . $$
#
# The derivative of $\tanh$ is $1 - \tanh^2$, and $\tanh(a)$ is $h'$, which the forward
# pass has already computed: keep $h'$ in the cache and use $1 - h'^2$ (not
# $1 - \tanh(h')^2$, which applies tanh twice).
#
# ### Exercise 1: one RNN step

# %% solution="rnn_step"
def rnn_step_forward(x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """h_next = tanh(x Wx + h_prev Wh + b). x: (N, D), h_prev: (N, H), Wx: (D, H), Wh: (H, H), b: (H,)."""
    ### BEGIN SOLUTION
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)  # (N, H)
    ### END SOLUTION
    cache = (x, h_prev, Wx, Wh, h_next)
    return h_next, cache


def rnn_step_backward(dh_next: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """dh_next: (N, H) -> dx (N, D), dh_prev (N, H), dWx (D, H), dWh (H, H), db (H,)."""
    x, h_prev, Wx, Wh, h_next = cache
    ### BEGIN SOLUTION
    da = dh_next * (1 - h_next**2)  # through the tanh
    dx = da @ Wx.T
    dh_prev = da @ Wh.T
    dWx = x.T @ da
    dWh = h_prev.T @ da
    db = da.sum(axis=0)
    ### END SOLUTION
    return dx, dh_prev, dWx, dWh, db


# %% tests="test_rnn_step" points=3
# A tiny case by hand: D = H = 1, so every product is a product of numbers.
h1, _ = rnn_step_forward(np.array([[1.0]]), np.array([[0.5]]), np.array([[0.4]]), np.array([[-0.6]]), np.array([0.2]))
cu.check_close(h1, [[np.tanh(0.4 - 0.3 + 0.2)]], "rnn_step_forward, D = H = 1",
               hint="h_next = tanh(x @ Wx + h_prev @ Wh + b)")
rng = np.random.default_rng(0)
N, D, H = 3, 4, 5
x, h_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H))
Wx, Wh, b = rng.normal(size=(D, H)) / 2, rng.normal(size=(H, H)) / 2, rng.normal(size=H)
h_next, cache = rnn_step_forward(x, h_prev, Wx, Wh, b)
cu.check_shape(h_next, (N, H), "h_next")
dh_next = rng.normal(size=(N, H))
grads = rnn_step_backward(dh_next, cache)
for name, g, arg in zip(["dx", "dh_prev", "dWx", "dWh", "db"], grads, [x, h_prev, Wx, Wh, b]):
    cu.check_shape(g, arg.shape, name, hint="a gradient has the shape of what it differentiates")
# Against PyTorch's autograd, one gradient at a time, each with the formula it should follow.
args = [x, h_prev, Wx, Wh, b]
xt, ht, Wxt, Wht, bt = (torch.tensor(a, requires_grad=True) for a in args)
torch.tanh(xt @ Wxt + ht @ Wht + bt).backward(torch.tensor(dh_next))
step_hints = {"dx": "dx = da @ Wx.T with da = dh_next * (1 - h_next**2): h_next from the cache IS tanh(a); do not "
                    "skip this slope, and do not take tanh of h_next again",
              "dh_prev": "dh_prev = da @ Wh.T: the TRANSPOSE of Wh (Wh is square, so the shapes agree without it)",
              "dWx": "dWx = x.T @ da", "dWh": "dWh = h_prev.T @ da",
              "db": "db = da.sum(axis=0): the bias is used once per example, so SUM over the batch (not the mean)"}
for (name, hint), g, t in zip(step_hints.items(), grads, [xt, ht, Wxt, Wht, bt]):
    cu.check_close(g, t.grad.numpy(), f"{name} vs torch.autograd", rtol=1e-10, hint=hint)
# And against a float64 numerical gradient of sum(h_next * dh_next), one argument at a time.
for i, name in enumerate(["dx", "dh_prev", "dWx", "dWh", "db"]):
    def f(v, i=i):
        return np.sum(rnn_step_forward(*args[:i], v, *args[i + 1:])[0] * dh_next)
    print(cu.check_gradient(f, args[i], grads[i], name=name))
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report_call, report_gradient

_r = hidden_rng(601)
_x, _h, _Wx, _Wh, _b = (_r.normal(size=s) for s in [(4, 3), (4, 6), (3, 6), (6, 6), (6,)])
_dh = _r.normal(size=(4, 6))
report_call("rnn_step_forward on unseen inputs", lambda *a: rnn_step_forward(*a)[0],
            _x.copy(), _h.copy(), _Wx.copy(), _Wh.copy(), _b.copy(), rtol=1e-10)
report_call("rnn_step_backward on unseen inputs", rnn_step_backward, _dh.copy(),
            rnn_step_forward(_x.copy(), _h.copy(), _Wx.copy(), _Wh.copy(), _b.copy())[1], rtol=1e-9)
_args = [_x, _h, _Wx, _Wh, _b]
for _i, _name in enumerate(["dx", "dh_prev", "dWx", "dWh", "db"]):
    report_gradient(f"rnn_step_backward: {_name} vs the numerical gradient",
                    lambda v, i=_i: np.sum(rnn_step_forward(*_args[:i], v, *_args[i + 1:])[0] * _dh),
                    lambda v, i=_i: rnn_step_backward(_dh, rnn_step_forward(*_args[:i], v, *_args[i + 1:])[1])[i],
                    _args[_i], rtol=1e-9, numeric_tol=1e-7)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Backpropagation through time
#
# **Forward.** Loop over the steps: $h_t$ = `rnn_step_forward(x[:, t], h_{t-1}, ...)`,
# store it in `h[:, t]`, keep every step's cache in a list.
#
# **Backward.** The upstream gradient `dh` has shape $(N, T, H)$: `dh[:, t]` is what the
# outputs read from $h_t$ send back (from the loss at step $t$). Go **backwards** in time,
# carrying `dh_prev`, the gradient that step $t + 1$ sends to $h_t$ (zero after the last
# step). At step $t$ the total gradient of $h_t$ is the sum of its two parts,
#
# $$ \frac{\partial L}{\partial h_t} = \underbrace{\texttt{dh[:, t]}}_{\text{from } y_t}
#    + \underbrace{\texttt{dh\_prev}}_{\text{from } h_{t+1}}, $$
#
# which goes through `rnn_step_backward`; it returns `dx[:, t]`, the new `dh_prev` (for
# step $t - 1$) and this step's share of `dWx`, `dWh` and `db`, which you **add up**. After
# step 0, `dh_prev` is the gradient of the initial state, `dh0`.
#
# ### Exercise 2: `rnn_forward` and `rnn_backward`

# %% solution="rnn_sequence"
def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                b: np.ndarray) -> tuple[np.ndarray, list]:
    """The RNN over a whole sequence. x: (N, T, D), h0: (N, H) -> h: (N, T, H), cache (one per step)."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))
    cache = []
    ### BEGIN SOLUTION
    h_t = h0
    for t in range(T):
        h_t, step_cache = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
        h[:, t] = h_t
        cache.append(step_cache)
    ### END SOLUTION
    return h, cache


def rnn_backward(dh: np.ndarray, cache: list) -> tuple[np.ndarray, ...]:
    """BPTT. dh: (N, T, H), the gradient from the outputs at every step -> dx, dh0, dWx, dWh, db."""
    N, T, H = dh.shape
    x0, _, Wx, Wh, _ = cache[0]
    dx = np.zeros((N, T, x0.shape[1]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H)
    dh_prev = np.zeros((N, H))
    ### BEGIN SOLUTION
    for t in reversed(range(T)):
        dx_t, dh_prev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_prev, cache[t])
        dx[:, t] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    ### END SOLUTION
    dh0 = dh_prev
    return dx, dh0, dWx, dWh, db


# %% tests="test_rnn_sequence" points=4
rng = np.random.default_rng(1)
N, T, D, H = 2, 5, 3, 4
x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
Wx, Wh, b = rng.normal(size=(D, H)) / 2, rng.normal(size=(H, H)) / 2, rng.normal(size=H) / 2
h, cache = rnn_forward(x, h0, Wx, Wh, b)
cu.check_shape(h, (N, T, H), "h from rnn_forward")
cu.check_close(h[:, 0], rnn_step_forward(x[:, 0], h0, Wx, Wh, b)[0], "h[:, 0]", hint="step 0 starts from h0")
cu.check_close(h[:, 3], rnn_step_forward(x[:, 3], h[:, 2], Wx, Wh, b)[0], "h[:, 3]",
               hint="step t reads h[:, t - 1], the state the previous step computed")
dh = rng.normal(size=(N, T, H))
grads = rnn_backward(dh, cache)
args = [x, h0, Wx, Wh, b]
for i, name in enumerate(["dx", "dh0", "dWx", "dWh", "db"]):
    cu.check_shape(grads[i], args[i].shape, name)
# The same RNN in PyTorch, unrolled with a Python loop; autograd does BPTT for us.
xt, h0t, Wxt, Wht, bt = (torch.tensor(a, requires_grad=True) for a in args)
h_t, states = h0t, []
for t in range(T):
    h_t = torch.tanh(xt[:, t] @ Wxt + h_t @ Wht + bt)
    states.append(h_t)
torch.stack(states, dim=1).backward(torch.tensor(dh))
through_time = ("at step t, the gradient of h_t is dh[:, t] PLUS what step t + 1 sent back (dh_prev), walking "
                "BACKWARDS from step T − 1 to 0")
for name, g, t in zip(["dx", "dh0", "dWx", "dWh", "db"], grads, [xt, h0t, Wxt, Wht, bt]):
    cu.check_close(g, t.grad.numpy(), f"{name} vs torch.autograd", rtol=1e-10,
                   hint=through_time if name in ("dx", "dh0") else
                   f"{name} is the SUM of every step's {name}: accumulate with += over the steps")
for i, name in enumerate(["dx", "dh0", "dWx", "dWh", "db"]):
    def f(v, i=i):
        return np.sum(rnn_forward(*args[:i], v, *args[i + 1:])[0] * dh)
    print(cu.check_gradient(f, args[i], grads[i], name=name))
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report_call, report_gradient

_r = hidden_rng(602)
_x, _h0 = _r.normal(size=(3, 7, 2)), _r.normal(size=(3, 5))
_Wx, _Wh, _b = _r.normal(size=(2, 5)) / 2, _r.normal(size=(5, 5)) / 2, _r.normal(size=5) / 2
_dh = _r.normal(size=(3, 7, 5))
report_call("rnn_forward on unseen inputs", lambda *a: rnn_forward(*a)[0],
            _x.copy(), _h0.copy(), _Wx.copy(), _Wh.copy(), _b.copy(), rtol=1e-10)
report_call("rnn_backward on unseen inputs", rnn_backward, _dh.copy(),
            rnn_forward(_x.copy(), _h0.copy(), _Wx.copy(), _Wh.copy(), _b.copy())[1], rtol=1e-9)
_dh_last = np.zeros_like(_dh)
_dh_last[:, -1] = _dh[:, -1]  # a loss on the last step only: every earlier gradient comes through the recurrence
report_call("rnn_backward with a loss on the last step only", rnn_backward, _dh_last.copy(),
            rnn_forward(_x.copy(), _h0.copy(), _Wx.copy(), _Wh.copy(), _b.copy())[1], rtol=1e-9)
_args = [_x, _h0, _Wx, _Wh, _b]
for _i, _name in enumerate(["dx", "dh0", "dWx", "dWh", "db"]):
    report_gradient(f"rnn_backward: {_name} vs the numerical gradient",
                    lambda v, i=_i: np.sum(rnn_forward(*_args[:i], v, *_args[i + 1:])[0] * _dh),
                    lambda v, i=_i: rnn_backward(_dh, rnn_forward(*_args[:i], v, *_args[i + 1:])[1])[i],
                    _args[_i], rtol=1e-9, numeric_tol=1e-7)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Vanishing and exploding gradients
#
# How much does the loss at the last step care about the input at step $t$? Backward
# through one step multiplies the gradient by the step's Jacobian,
# $\partial h_t / \partial h_{t-1} = \operatorname{diag}(1 - h_t^2)\, W_h^\top$ (as a
# matrix acting on column gradients). Back through $k$ steps that is a product of $k$
# such matrices, and a product of many matrices behaves like a power:
#
# * if $W_h$ is "small" (largest singular value below 1), or the tanh units are saturated
#   ($1 - h^2 \approx 0$), the gradient **vanishes** exponentially: the network cannot
#   learn that something 20 steps ago matters;
# * if $W_h$ is "large", the gradient can **explode** exponentially, and one update
#   throws the weights far away.
#
# Below, your `rnn_forward` and `rnn_backward` on 40 steps of tiny random inputs (so the
# state stays near 0, where tanh has slope 1), with a loss on the last step only, and
# $W_h = s \cdot Q$ for a random rotation $Q$ (all its singular values are 1, so $s$ is
# the scale). The plot shows $\lVert \partial L / \partial x_t \rVert$: how much each
# step's input still counts, going back in time from the end. The dashed curve has the
# large weights of $s = 1.5$ but inputs of size 1.

# %%
def input_gradients(scale: float, input_size: float = 1e-6, T: int = 40, H: int = 32, seed: int = 0) -> np.ndarray:
    """dL/dx: (T, H) when L reads only the last hidden state; Wh = scale · a random rotation, Wx = I."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    x = rng.normal(scale=input_size, size=(1, T, H))
    h, cache = rnn_forward(x, np.zeros((1, H)), np.eye(H), scale * Q, np.zeros(H))
    dh = np.zeros_like(h)
    dh[:, -1] = rng.normal(size=H) / np.sqrt(H)
    return rnn_backward(dh, cache)[0][0]


scales = [0.5, 0.9, 1.0, 1.1, 1.5]
with cu.needs_your_code():
    curves = {s: np.linalg.norm(input_gradients(s), axis=1) for s in scales}
    saturated = np.linalg.norm(input_gradients(1.5, input_size=1.0), axis=1)
    plt.figure(figsize=(7, 3.5))
    for s, norms in curves.items():
        plt.semilogy(np.arange(40)[::-1], norms, label=f"$W_h$ = {s} · Q")
    plt.semilogy(np.arange(40)[::-1], saturated, "k--", label="1.5 · Q, inputs of size 1")
    plt.xlabel("steps back from the end (T − 1 − t)")
    plt.ylabel(r"$\|\partial L / \partial x_t\|$")
    plt.legend()
    plt.title("gradients vanish (small weights) or explode (large weights) back through time")
    plt.show()
    # The text below reads these numbers off the plot: the change from the last step to the first.
    change = {s: norms[0] / norms[-1] for s, norms in curves.items()}
    print("gradient at the first step / at the last step:", ", ".join(f"s = {s}: {c:.1e}" for s, c in change.items()))
    print(f"saturated (s = 1.5, inputs of size 1): {saturated[0] / saturated[-1]:.1e}")
    assert 1e-13 < change[0.5] < 1e-11 and 3e5 < change[1.5] < 3e7, (
        f"the text says: shrunk by about 1e12 with s = 0.5, grown by about 1e6 with s = 1.5, not {change}")
    assert 1 / 400 < saturated[0] / saturated[-1] < 1 / 100, "the text says: about 200 times smaller despite s = 1.5"

# %% [markdown]
# With $s = 0.5$ the gradient has shrunk by a factor of $10^{12}$ after 40 steps; with
# $s = 1.5$ it has grown by a factor of about $10^{6}$. Only a narrow band around $s = 1$
# keeps the signal alive over many steps. The dashed curve shows the other way to lose
# it: with inputs of size 1 the units saturate, $1 - h^2 \approx 0$, and through the same
# large weights that made it grow a million-fold the gradient now *shrinks*, by a factor
# of about 200 over the 40 steps.
#
# **Exploding gradients** have a simple, robust fix: **gradient clipping**. Before each
# update, compute the norm of *all* the gradients together, as if every parameter were
# one long vector,
#
# $$ \lVert g \rVert = \sqrt{\textstyle\sum_{\text{params } p} \sum_{i} g_{p,i}^2}, $$
#
# and if it exceeds a threshold `max_norm`, scale every gradient by the same factor
# `max_norm / (‖g‖ + 1e-6)` (the small constant, as in PyTorch, avoids dividing by 0).
# The direction of the step is kept, only its length is capped. Clipping each entry to
# $[-c, c]$ separately would instead change the direction, and clipping each parameter by
# its own norm would change the balance between parameters.
#
# **Vanishing gradients** need a different architecture: gated cells such as the
# **LSTM** (section 10) keep a separate memory that is updated by addition, so that the
# gradient can flow back through many steps without being multiplied by $W_h$ each time.
#
# ### Exercise 3: `clip_grad_norm`
#
# Return **new** arrays (leave the gradients you were given untouched) and the norm before
# clipping. Gradients whose total norm is already at most `max_norm` come back unchanged.

# %% solution="clip"
def clip_grad_norm(grads: list[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    """Scale all grads by min(1, max_norm / (‖g‖ + 1e-6)), ‖g‖ the norm of all of them together. -> (clipped, ‖g‖)."""
    ### BEGIN SOLUTION
    total_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    scale = min(1.0, max_norm / (total_norm + 1e-6))
    clipped = [g * scale for g in grads]
    ### END SOLUTION
    return clipped, total_norm


# %% tests="test_clip" points=2
g = [np.array([3.0, 0.0]), np.array([[0.0], [4.0]])]  # together a vector of norm 5
clipped, norm = clip_grad_norm(g, max_norm=1.0)
cu.check_close(norm, 5.0, "the global norm of [3, 0] and [[0], [4]]",
               hint="the square root of the sum of squares of ALL entries of ALL gradients")
cu.check_close(clipped[0], [0.6, 0.0], "clipped[0]", rtol=1e-5,
               hint="every gradient is scaled by the same factor max_norm / norm = 1 / 5")
cu.check_close(clipped[1], [[0.0], [0.8]], "clipped[1]", rtol=1e-5)
cu.check_close(g[0], [3.0, 0.0], "the gradient you were given, after clipping",
               hint="return new arrays (g * scale), do not scale the inputs in place")
small, norm_small = clip_grad_norm(g, max_norm=10.0)
cu.check_close(small[1], [[0.0], [4.0]], "gradients already below max_norm",
               hint="scale only when the norm exceeds max_norm: the factor is min(1, max_norm / (norm + 1e-6))")
rng = np.random.default_rng(2)
g = [rng.normal(size=(4, 3)) * 10, rng.normal(size=3), rng.normal(size=(2, 2, 2))]
params = [torch.zeros(a.shape, dtype=torch.float64, requires_grad=True) for a in g]
for p, a in zip(params, g):
    p.grad = torch.tensor(a)
torch_norm = torch.nn.utils.clip_grad_norm_(params, max_norm=3.0)
clipped, norm = clip_grad_norm(g, 3.0)
cu.check_close(norm, torch_norm.item(), "the norm vs torch.nn.utils.clip_grad_norm_", rtol=1e-12)
for i, (c, p) in enumerate(zip(clipped, params)):
    cu.check_close(c, p.grad.numpy(), f"clipped[{i}] vs torch.nn.utils.clip_grad_norm_", rtol=1e-12,
                   hint="one factor for all gradients (not a separate one per array, not np.clip per entry)")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_r = hidden_rng(603)
_g = [_r.normal(size=(5, 4)) * 3, _r.normal(size=4) * 20, _r.normal(size=(3, 3))]
report_call("clipping unseen gradients to norm 2", lambda g, c: tuple(clip_grad_norm(list(g), c)[0]),
            tuple(a.copy() for a in _g), 2.0, rtol=1e-10)
report("the global norm", lambda: clip_grad_norm([a.copy() for a in _g], 2.0)[1], rtol=1e-10)
report_call("gradients below the threshold", lambda g, c: tuple(clip_grad_norm(list(g), c)[0]),
            tuple(a.copy() / 100 for a in _g), 50.0, rtol=1e-10)
report_call("one large entry among small ones", lambda g, c: tuple(clip_grad_norm(list(g), c)[0]),
            (np.array([100.0, 0.5, -0.5]), np.array([[0.25, 0.1]])), 1.0, rtol=1e-10)
### END HIDDEN TESTS

# %% [markdown]
# Clipping in action: the same gradients as in the plot above, for three scales of
# $W_h$, before and after clipping to a global norm of 10. Clipping leaves the moderate
# gradients alone and cuts the exploding one down to a usable step; it cannot do anything
# for the vanishing one.

# %%
with cu.needs_your_code():
    raw, clipped_norms, total_norms = [], [], []
    for s in [0.5, 1.0, 1.5]:
        dx = input_gradients(s)
        (dx_clipped,), norm = clip_grad_norm([dx], 10.0)
        raw.append(np.linalg.norm(dx, axis=1))
        clipped_norms.append(np.linalg.norm(dx_clipped, axis=1))
        total_norms.append(norm)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5), sharey=True)
    for ax, curves_, title in zip(axes, [raw, clipped_norms], ["raw gradients", "clipped to global norm 10"]):
        for s, norms in zip([0.5, 1.0, 1.5], curves_):
            ax.semilogy(np.arange(40)[::-1], norms, label=f"$W_h$ = {s} · Q")
        ax.set_title(title)
        ax.set_xlabel("steps back from the end")
    axes[0].set_ylabel(r"$\|\partial L / \partial x_t\|$")
    axes[0].legend()
    plt.show()
    print("global norms before clipping:", ", ".join(f"s = {s}: {n:.2g}" for s, n in zip([0.5, 1.0, 1.5], total_norms)))
    # What the text says about the picture, checked: the moderate and the vanishing gradients are
    # left exactly as they were; the exploding one is cut to norm 10, its shape along time unchanged.
    assert total_norms[0] < 10 and total_norms[1] < 10 < total_norms[2], total_norms
    assert np.array_equal(clipped_norms[0], raw[0]) and np.array_equal(clipped_norms[1], raw[1])
    assert abs(np.sqrt(np.sum(clipped_norms[2] ** 2)) - 10) < 1e-4
    assert np.allclose(clipped_norms[2] / raw[2], clipped_norms[2][0] / raw[2][0]), "one factor for every step"
    assert clipped_norms[0][0] / clipped_norms[0][-1] < 1e-10, "clipping cannot bring back a vanished gradient"

# %% [markdown]
# **Question.** Two students train the same vanilla RNN. In the first run the loss is
# fine for a few hundred steps, then jumps to `nan`. The second never learns that a name
# starting with `^x` tends to end differently, though its loss goes down. Explain, with
# the product of Jacobians $\partial h_t / \partial h_{t-1}$, why gradients through time
# vanish or explode. Which of the two runs does gradient clipping by global norm help,
# and why? What does clipping not fix, and what would you try for the other run?

# %% [markdown] answer="explain_vanishing_exploding" points=2
# *Model answer.* Back through $k$ steps the gradient is multiplied by
# $\prod \operatorname{diag}(1 - h_t^2) W_h^\top$, $k$ Jacobians with the same $W_h$: it
# behaves like a $k$-th power. If the largest singular value of $W_h$ (times the tanh slopes)
# is above 1, the product grows exponentially with $k$ (explodes); below 1, or with
# saturated units ($1 - h^2 \approx 0$), it shrinks exponentially (vanishes). The first
# run is an **explosion**: one enormous gradient throws the weights far away, the scores
# overflow and the loss becomes `nan`. Clipping rescales the whole gradient to a norm
# of at most `max_norm` when it is larger, keeping its direction, so each step stays a
# sensible size: it fixes this run. The second run is **vanishing**: the signal from the
# first letter is ~0 by the time it reaches the last steps, and clipping only ever
# shrinks a gradient, never enlarges a small one, so it cannot help. For that: a gated
# cell (LSTM or GRU), whose additive cell state carries gradients over many steps;
# initialising $W_h$ near an orthogonal matrix (singular values 1) also helps a vanilla
# RNN for a while.

# %% [markdown]
# ## 5. Characters as inputs: the embedding layer
#
# Our data are first names: 5,163 of them from the 1990 US census, shipped inside the
# Python package `names`. `cu.names_split()` gives a fixed split, 4,389 training names and
# 774 validation names, and checks its SHA-256, so that everyone (and the grader) uses
# exactly the same words.
#
# A network needs numbers. `cu.CharVocab()` numbers the characters: 0 is **padding**
# (`_`), 1 **starts** a word (`^`), 2 **ends** it (`$`), 3 to 28 are `a` to `z`. A word of
# $L$ letters becomes $L + 2$ tokens, and a batch of words is padded to the longest one.

# %%
train_words, val_words = cu.names_split()
vocab = cu.CharVocab()
V = vocab.size
print(f"{len(train_words)} training names, {len(val_words)} validation names, a vocabulary of {V} tokens")
print("some training names:", ", ".join(train_words[:12]))
tokens_ex = vocab.encode_batch(["anna", "bob", "christopher"])
print("encode_batch(['anna', 'bob', 'christopher']):\n", tokens_ex)
print("the same tokens as characters:\n", np.array(vocab.symbols)[tokens_ex])
lengths = [len(w) for w in train_words]
print(f"name lengths: {min(lengths)} to {max(lengths)} letters, {np.mean(lengths):.1f} on average")

# %% [markdown]
# How should token 7 (`e`) enter the network? Not as the number 7: `e` is not "more"
# than `d`. One option is a **one-hot** vector, 29 numbers that are all 0 except a 1 at
# position 7; then $x W_x$ simply picks row 7 of $W_x$. An **embedding** layer does that
# picking directly, without ever building the one-hot vectors: it owns a matrix
# $W_{\text{emb}}$ of shape $(V, D)$, one learned $D$-dimensional vector per token, and
# maps the integer array `idx` of shape $(N, T)$ to `W[idx]`, shape $(N, T, D)$.
#
# **Backward.** Row $v$ of $W_{\text{emb}}$ receives the sum of the upstream gradients of
# every position where token $v$ occurs. A token occurs many times in a batch (`a` is
# everywhere), so the rows must be **accumulated**. Careful: `dW[idx] += dout` does *not*
# accumulate repeated indices in NumPy (each repeated row is written once, the last write
# wins); `np.add.at(dW, idx, dout)` does.
#
# ### Exercise 4: the embedding layer

# %% solution="embedding"
def embedding_forward(idx: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Row lookup. idx: (N, T) ints in [0, V), W: (V, D) -> out (N, T, D), cache."""
    ### BEGIN SOLUTION
    out = W[idx]
    ### END SOLUTION
    cache = (idx, W.shape)
    return out, cache


def embedding_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """dout: (N, T, D) -> dW: (V, D), the gradients of every position summed into its token's row."""
    idx, W_shape = cache
    ### BEGIN SOLUTION
    dW = np.zeros(W_shape)
    np.add.at(dW, idx, dout)
    ### END SOLUTION
    return dW


# %% tests="test_embedding" points=2
W = np.arange(12.0).reshape(4, 3)
idx = np.array([[0, 3], [3, 3]])
out, cache = embedding_forward(idx, W)
cu.check_shape(out, (2, 2, 3), "embedding_forward(idx (2, 2), W (4, 3))",
               hint="W[idx] keeps the shape of idx, (N, T), and adds the embedding axis D: do not flatten idx")
cu.check_close(out[0], [[0, 1, 2], [9, 10, 11]], "out[0]", hint="out[n, t] is row idx[n, t] of W")
dW = embedding_backward(np.ones((2, 2, 3)), cache)
cu.check_close(dW, [[1, 1, 1], [0, 0, 0], [0, 0, 0], [3, 3, 3]], "dW when token 3 occurs three times",
               hint="a row used three times gets three gradients ADDED: dW[idx] += dout keeps only one of "
                    "them; use np.add.at(dW, idx, dout)")
# An embedding is a one-hot vector times a matrix: the same values and the same gradient.
rng = np.random.default_rng(3)
W, idx, dout = rng.normal(size=(6, 4)), rng.integers(0, 6, size=(3, 5)), rng.normal(size=(3, 5, 4))
one_hot = np.eye(6)[idx]  # (3, 5, 6)
cu.check_close(embedding_forward(idx, W)[0], one_hot @ W, "embedding vs one-hot @ W")
dW = embedding_backward(dout, embedding_forward(idx, W)[1])
cu.check_close(dW, one_hot.reshape(-1, 6).T @ dout.reshape(-1, 4), "dW vs the one-hot layer's dW = one_hotᵀ dout")
print(cu.check_gradient(lambda v: np.sum(embedding_forward(idx, v)[0] * dout), W, dW, name="dW"))
Wt = torch.tensor(W, requires_grad=True)
F.embedding(torch.tensor(idx), Wt).backward(torch.tensor(dout))
cu.check_close(dW, Wt.grad.numpy(), "dW vs torch.autograd (F.embedding)", rtol=1e-12)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report_call, report_gradient

_r = hidden_rng(604)
_W, _idx, _dout = _r.normal(size=(9, 5)), _r.integers(0, 9, size=(4, 6)), _r.normal(size=(4, 6, 5))
_idx[0, :3] = 2  # the same token several times in a row
report_call("embedding_forward on unseen tokens", lambda i, w: embedding_forward(i, w)[0], _idx.copy(), _W.copy(),
            kind="equal")
report_call("embedding_backward on unseen tokens", embedding_backward, _dout.copy(),
            embedding_forward(_idx.copy(), _W.copy())[1], rtol=1e-12)
report_gradient("embedding_backward vs the numerical gradient", lambda v: np.sum(embedding_forward(_idx, v)[0] * _dout),
                lambda v: embedding_backward(_dout, embedding_forward(_idx, v)[1]), _W, rtol=1e-12,
                numeric_tol=1e-7)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. A loss at every step, and padding
#
# A **language model** predicts the next token at every position: after `^` it predicts
# the first letter, after `^a` the second, ..., after the last letter it predicts `$`.
# So at every step $t$ the network outputs scores $s_t \in \mathbb{R}^V$ and pays the
# softmax cross-entropy of notebook 02 for the true next token $y_t$.
#
# In a padded batch, the positions after a word's end are padding: the network must not
# be trained (or judged) on them. A **mask** $m_{n,t} \in \{0, 1\}$ says which positions
# are real, and the loss is the mean over the real positions only,
#
# $$ L = \frac{1}{\sum_{n,t} m_{n,t}} \sum_{n,t} m_{n,t}\, \big(-\log \operatorname{softmax}(s_{n,t})_{y_{n,t}}\big), $$
#
# the average loss **per character**, in nats (natural logarithm). Its gradient with
# respect to the scores is the softmax minus the one-hot target, times the mask, divided
# by the same count:
#
# $$ \frac{\partial L}{\partial s_{n,t}} = \frac{m_{n,t}}{\sum m}\,\big(\operatorname{softmax}(s_{n,t}) - \operatorname{onehot}(y_{n,t})\big) . $$
#
# A loss and its gradient must agree: averaging the loss over all $N \cdot T$ positions
# (or over the $N$ words) while the gradient divides by $\sum m$ makes the gradient check
# fail, and makes the printed loss a different quantity from the one you minimise.
# Shift the scores by their maximum before the exponential, as in notebook 02.
#
# ### Exercise 5: `temporal_softmax_loss`

# %% solution="temporal_softmax"
def temporal_softmax_loss(scores: np.ndarray, y: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over the unmasked positions. scores: (N, T, V), y: (N, T) ints, mask: (N, T) bool.

    Returns (loss, dscores (N, T, V)).
    """
    mask = mask.astype(np.float64)
    count = max(mask.sum(), 1.0)
    ### BEGIN SOLUTION
    shifted = scores - scores.max(axis=2, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))  # (N, T, V)
    log_p_y = np.take_along_axis(log_p, y[..., None], axis=2)[..., 0]  # (N, T)
    loss = -np.sum(log_p_y * mask) / count
    dscores = np.exp(log_p)
    np.put_along_axis(dscores, y[..., None], np.take_along_axis(dscores, y[..., None], axis=2) - 1, axis=2)
    dscores *= mask[..., None] / count
    ### END SOLUTION
    return float(loss), dscores


# %% tests="test_temporal_softmax" points=3
# Uniform scores: every position costs log V.
loss, dscores = temporal_softmax_loss(np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=int), np.ones((2, 3), bool))
cu.check_close(loss, np.log(4), "the loss of all-zero scores over 4 classes",
               hint="−log(1/4) at every position, and the loss is the MEAN over the real positions: divide by the "
                    "number of True entries of the mask (6 here), not by the number of words")
# The mask: only the positions that are True count.
scores = np.array([[[0.0, 5.0], [0.0, 0.0]]])  # (1, 2, 2)
loss, dscores = temporal_softmax_loss(scores, np.array([[0, 1]]), np.array([[False, True]]))
cu.check_close(loss, np.log(2), "a loss whose first position is masked out",
               hint="masked positions add nothing to the loss, and the mean divides by the number of True entries")
cu.check_close(dscores[0, 0], [0.0, 0.0], "dscores at a masked position", hint="multiply the gradient by the mask too")
cu.check_close(dscores[0, 1], [0.5, -0.5], "dscores at the one real position", hint="(softmax − onehot(y)) / count")
rng = np.random.default_rng(4)
N, T, V_ex = 3, 5, 6
scores, y = rng.normal(size=(N, T, V_ex)), rng.integers(0, V_ex, size=(N, T))
mask = rng.random((N, T)) < 0.7
loss, dscores = temporal_softmax_loss(scores, y, mask)
print(cu.check_gradient(lambda s: temporal_softmax_loss(s, y, mask)[0], scores, dscores, name="dscores"))
st = torch.tensor(scores, requires_grad=True)
loss_t = F.cross_entropy(st.reshape(-1, V_ex), torch.tensor(y).reshape(-1), reduction="none")
(loss_t * torch.tensor(mask).reshape(-1)).sum().div(mask.sum()).backward()
cu.check_close(loss, (loss_t * torch.tensor(mask).reshape(-1)).sum().item() / mask.sum(), "loss vs torch",
               rtol=1e-10)
cu.check_close(dscores, st.grad.numpy(), "dscores vs torch.autograd", rtol=1e-10)
big = temporal_softmax_loss(1000 * scores, y, mask)
cu.check_finite(big[0], "the loss of scores around ±1000")
cu.check_finite(big[1], "dscores of scores around ±1000")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report_call, report_gradient

_r = hidden_rng(605)
_s, _y = _r.normal(size=(4, 6, 7)) * 2, _r.integers(0, 7, size=(4, 6))
_m = np.ones((4, 6), dtype=bool)
_m[0, 2:], _m[1, 4:], _m[3, 1:] = False, False, False  # padded words of lengths 2, 4, 6 and 1
report_call("temporal_softmax_loss with padding", temporal_softmax_loss, _s.copy(), _y.copy(), _m.copy(), rtol=1e-10)
report_call("temporal_softmax_loss without padding", temporal_softmax_loss, _s.copy(), _y.copy(),
            np.ones((4, 6), dtype=bool), rtol=1e-10)
report_call("temporal_softmax_loss of large scores", temporal_softmax_loss, _s * 400, _y.copy(), _m.copy(),
            rtol=1e-9)
report_gradient("dscores vs the numerical gradient of the loss", lambda s: temporal_softmax_loss(s, _y, _m)[0],
                lambda s: temporal_softmax_loss(s, _y, _m)[1], _s, rtol=1e-9, numeric_tol=1e-7)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. The anchor: a bigram model
#
# Before training anything, the simplest language model that could work: predict the
# next character from the current one only, by **counting**. Over the training names,
# count how often each token $b$ follows each token $a$, and turn the counts into
# probabilities. Pairs that never occur would get probability 0 (an infinite loss on a
# validation name that has them), so add a small pseudo-count $k$ to every possible next
# token first (**add-$k$ smoothing**):
#
# $$ P(b \mid a) = \frac{\operatorname{count}(a, b) + k}{\sum_{b'} \big(\operatorname{count}(a, b') + k\big)} . $$
#
# Its loss on the validation names, in nats per character, is the number your RNN must
# beat. For scale: a model that knows nothing, uniform over the 27 possible next tokens
# (26 letters and `$`), pays $\log 27 \approx 3.30$ nats per character.

# %%
def bigram_log_probs(words: list[str], k: float = 0.5) -> np.ndarray:
    """log P(next token | current token) from counts with add-k smoothing: (V, V), row = current token."""
    counts = np.zeros((V, V))
    for word in words:
        tokens = vocab.encode(word)
        np.add.at(counts, (tokens[:-1], tokens[1:]), 1)
    counts[:, vocab.END:] += k  # possible next tokens: the end and the letters, never PAD or START
    counts[:, :vocab.END] = 0
    with np.errstate(divide="ignore"):
        return np.log(counts / counts.sum(axis=1, keepdims=True))


def bigram_nll(log_P: np.ndarray, words: list[str]) -> float:
    """Mean −log P(next | current) over every position of every word, in nats per character."""
    pairs = [(a, b) for w in words for a, b in zip(vocab.encode(w)[:-1], vocab.encode(w)[1:])]
    current, following = np.array(pairs).T
    return float(-log_P[current, following].mean())


bigram = bigram_log_probs(train_words)
bigram_val = bigram_nll(bigram, val_words)
print(f"bigram model: {bigram_nll(bigram, train_words):.4f} nats/char on the training names, "
      f"{bigram_val:.4f} on the validation names")
print(f"the target for your RNN: at most {bigram_val - 0.15:.4f} nats/char on the validation names")
top = np.argsort(-bigram[vocab.START])[:8]
print("most likely first letters:", ", ".join(f"{vocab.symbols[t]} {np.exp(bigram[vocab.START, t]):.3f}" for t in top))

# %% [markdown]
# ## 8. A character-level RNN language model
#
# The model reads a name one token at a time and at every step predicts the next one:
#
# $$ x_t = W_{\text{emb}}[\text{token}_t], \qquad h_t = \tanh(x_t W_x + h_{t-1} W_h + b), \qquad
#    s_t = h_t W_y + b_y, $$
#
# with $h_0 = 0$ and the temporal softmax loss on the scores $s_t$.
#
# **Inputs and targets.** For a batch of encoded names `tokens` of shape $(N, L)$, the
# input at position $t$ is `tokens[:, t]` and the target is the token *after* it,
# `tokens[:, t + 1]`: the inputs are `tokens[:, :-1]` and the targets `tokens[:, 1:]`,
# both $(N, L - 1)$; the mask is True where the target is not padding. Get this shift
# wrong by one and the model is shown the very character it must predict: its loss
# drops towards 0 and it has learned nothing (the grader checks for that).
#
# ### Exercise 6: `lm_inputs_targets` and `char_rnn_loss`
#
# `char_rnn_loss(params, tokens)` runs the whole model on a batch and returns the loss
# and the gradient of every parameter, in a dict with the same keys as `params`:
# `E` $(V, D)$, `Wx` $(D, H)$, `Wh` $(H, H)$, `b` $(H,)$, `Wy` $(H, V)$, `by` $(V,)$.
# Use your layers: `embedding_forward`, `rnn_forward` (from $h_0 = 0$), the output layer
# `h @ Wy + by` (on all $N \cdot T$ positions at once: `h` is $(N, T, H)$ and `@` works on
# the last axis), `temporal_softmax_loss`; then backwards: the output layer's gradients
# (`dWy` sums over all positions: reshape `h` to $(N T, H)$), `rnn_backward`,
# `embedding_backward`. `char_rnn_scores` (the forward half) is given, and is also what
# `char_log_probs` uses later.

# %%
def init_char_rnn(V: int, D: int = 16, H: int = 64, seed: int = 0) -> dict[str, np.ndarray]:
    """Parameters of the character RNN, small random weights (scaled by 1/sqrt(fan-in)), zero biases."""
    rng = np.random.default_rng(seed)
    return {"E": rng.normal(size=(V, D)), "Wx": rng.normal(size=(D, H)) / np.sqrt(D),
            "Wh": rng.normal(size=(H, H)) / np.sqrt(H), "b": np.zeros(H),
            "Wy": rng.normal(size=(H, V)) / np.sqrt(H), "by": np.zeros(V)}


# %% solution="char_rnn_loss"
def lm_inputs_targets(tokens: np.ndarray, pad: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tokens: (N, L) -> inputs (N, L-1), targets (N, L-1): the token after each input, mask: targets != pad."""
    ### BEGIN SOLUTION
    inputs = tokens[:, :-1]
    targets = tokens[:, 1:]
    mask = targets != pad
    ### END SOLUTION
    return inputs, targets, mask


def char_rnn_scores(params: dict, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The forward pass. inputs: (N, T) tokens -> scores (N, T, V), hidden states h (N, T, H), caches."""
    x, emb_cache = embedding_forward(inputs, params["E"])
    h0 = np.zeros((inputs.shape[0], params["Wh"].shape[0]))
    h, rnn_cache = rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
    return h @ params["Wy"] + params["by"], h, (emb_cache, rnn_cache)


def char_rnn_loss(params: dict, tokens: np.ndarray) -> tuple[float, dict]:
    """Mean loss per character on a batch of encoded words (N, L), and the gradient of every parameter."""
    inputs, targets, mask = lm_inputs_targets(tokens)
    scores, h, (emb_cache, rnn_cache) = char_rnn_scores(params, inputs)
    N, T, H = h.shape
    ### BEGIN SOLUTION
    loss, dscores = temporal_softmax_loss(scores, targets, mask)
    grads = {"Wy": h.reshape(N * T, H).T @ dscores.reshape(N * T, -1), "by": dscores.sum(axis=(0, 1))}
    dh = dscores @ params["Wy"].T  # (N, T, H)
    dx, _, grads["Wx"], grads["Wh"], grads["b"] = rnn_backward(dh, rnn_cache)
    grads["E"] = embedding_backward(dx, emb_cache)
    ### END SOLUTION
    return loss, grads


# %% tests="test_char_rnn_loss" points=4
inputs, targets, mask = lm_inputs_targets(vocab.encode_batch(["ab", "c"]))
cu.check_equal(inputs, [[1, 3, 4], [1, 5, 2]], "inputs of ['ab', 'c']",
               hint="the inputs are every token but the last: tokens[:, :-1]")
cu.check_equal(targets, [[3, 4, 2], [5, 2, 0]], "targets of ['ab', 'c']",
               hint="the target at position t is the token AFTER the input at t: tokens[:, 1:]")
cu.check_equal(mask, [[True, True, True], [True, True, False]], "mask of ['ab', 'c']",
               hint="a position counts when its TARGET is a real token (the end token $ included), not padding")
params = init_char_rnn(V, D=5, H=7, seed=1)
batch = vocab.encode_batch(["ann", "bo", "eve"])
loss, grads = char_rnn_loss(params, batch)
print(f"loss of an untrained model: {loss:.3f} nats/char (log V = {np.log(V):.3f})")
assert 2.5 < loss < 4.5, f"an untrained model should cost about log V ≈ {np.log(V):.2f} nats per character, not {loss}"
cu.check_equal(sorted(grads), sorted(params), "the keys of grads", hint="one gradient per parameter, same keys")
for name in params:
    cu.check_shape(grads[name], params[name].shape, f"grads[{name!r}]",
                   hint="dby sums dscores over the batch AND the time axes, axis=(0, 1): the output bias is used at "
                        "every step of every word" if name == "by" else "a gradient has the shape of its parameter")
# The same model in PyTorch.
pt = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
inp_t, tgt_t = torch.tensor(batch[:, :-1]), torch.tensor(batch[:, 1:])
h_t, states = torch.zeros(3, 7, dtype=torch.float64), []
for t in range(inp_t.shape[1]):
    h_t = torch.tanh(pt["E"][inp_t[:, t]] @ pt["Wx"] + h_t @ pt["Wh"] + pt["b"])
    states.append(h_t)
scores_t = torch.stack(states, 1) @ pt["Wy"] + pt["by"]
loss_t = F.cross_entropy(scores_t.reshape(-1, V), tgt_t.reshape(-1), ignore_index=vocab.PAD)
loss_t.backward()
cu.check_close(loss, loss_t.item(), "loss vs torch (F.cross_entropy ignoring the padding)", rtol=1e-10)
for name in ["Wy", "by", "Wx", "Wh", "b", "E"]:  # from the output back to the input, as the backward pass goes
    cu.check_close(grads[name], pt[name].grad.numpy(), f"grads[{name!r}] vs torch.autograd", rtol=1e-9,
                   hint=None if name in ("Wy", "by") else
                   "the RNN learns from the outputs: dh = dscores @ Wy.T goes into rnn_backward, and its dx into "
                   "embedding_backward")
for name in params:
    print(cu.check_gradient(lambda v, n=name: char_rnn_loss({**params, n: v}, batch)[0], params[name], grads[name],
                            name=f"d{name}"))
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report_call, report_gradient

_r = hidden_rng(606)
_words = [str(w) for w in _r.choice(val_words, size=5, replace=False)] + ["al"]
_tok = vocab.encode_batch(_words)
report_call("lm_inputs_targets on unseen names", lm_inputs_targets, _tok.copy(), kind="equal")
_p = init_char_rnn(V, D=4, H=6, seed=int(_r.integers(1000)))
report_call("char_rnn_loss on unseen names: the loss and every gradient",
            lambda p, t: (char_rnn_loss(p, t)[0], *(g for _, g in sorted(char_rnn_loss(p, t)[1].items()))),
            {k: v.copy() for k, v in _p.items()}, _tok.copy(), rtol=1e-9)
for _name in ["E", "Wx", "Wh", "b", "Wy", "by"]:
    report_gradient(f"char_rnn_loss: d{_name} vs the numerical gradient",
                    lambda v, n=_name: char_rnn_loss({**_p, n: v}, _tok)[0],
                    lambda v, n=_name: char_rnn_loss({**_p, n: v}, _tok)[1][n], _p[_name], rtol=1e-9,
                    numeric_tol=1e-7, num_checks=40)
### END HIDDEN TESTS

# %% [markdown]
# ## 9. Sampling names, at a temperature
#
# A trained language model can **generate**: start from `^`, compute the distribution of
# the next token, draw one, feed it back as the next input, and repeat until `$` comes
# out. The **temperature** $\tau$ divides the scores before the softmax,
#
# $$ p = \operatorname{softmax}(s / \tau) : $$
#
# $\tau = 1$ samples from the model as it is; $\tau < 1$ sharpens the distribution towards
# the most likely token (safe, repetitive names; $\tau \to 0$ is always taking the
# maximum); $\tau > 1$ flattens it towards uniform (inventive, soon unpronounceable).
#
# To draw from $p$ we use **inverse transform sampling**: draw $u$ uniform in $[0, 1)$
# and take the first token whose cumulative probability exceeds $u$,
# `(np.cumsum(p, axis=1) < u[:, None]).sum(axis=1)`. Each token is chosen with its
# probability, and with the same $u$ the same token comes out, so your samples can be
# compared with the reference.
#
# ### Exercise 7: `softmax_with_temperature` and `sample_names`
#
# `sample_names` draws $n$ names at once: a batch of $n$ hidden states from zeros, all
# starting from `START`. At every step (at most `max_len` of them): embed the current
# tokens, one `rnn_step_forward`, scores `h @ Wy + by`, set the scores of PAD and START to
# $-\infty$ (the model must never emit them), `softmax_with_temperature`, draw
# `u = rng.random(n)` (one call per step, **exactly once**), pick the tokens as above, and
# record them. Then decode each row with `vocab.decode`, which stops at the first `$`.

# %% solution="sampling"
def softmax_with_temperature(scores: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(scores / temperature) along the last axis, computed stably. scores: (N, V) -> p: (N, V)."""
    ### BEGIN SOLUTION
    z = scores / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
    ### END SOLUTION


def sample_names(params: dict, n: int, temperature: float = 1.0, seed: int = 0, max_len: int = 20) -> list[str]:
    """n names sampled from the character RNN at the given temperature, with np.random.default_rng(seed)."""
    rng = np.random.default_rng(seed)
    h = np.zeros((n, params["Wh"].shape[0]))
    current = np.full(n, vocab.START)
    sampled = np.zeros((n, max_len), dtype=np.int64)
    ### BEGIN SOLUTION
    for t in range(max_len):
        h, _ = rnn_step_forward(params["E"][current], h, params["Wx"], params["Wh"], params["b"])
        scores = h @ params["Wy"] + params["by"]
        scores[:, [vocab.PAD, vocab.START]] = -np.inf
        p = softmax_with_temperature(scores, temperature)
        u = rng.random(n)
        current = np.minimum((np.cumsum(p, axis=1) < u[:, None]).sum(axis=1), V - 1)
        sampled[:, t] = current
    ### END SOLUTION
    return [vocab.decode(row) for row in sampled]


# %% tests="test_sampling" points=3
s = np.array([[1.0, 2.0, 3.0]])
cu.check_close(softmax_with_temperature(s, 1.0), np.exp(s) / np.exp(s).sum(), "temperature 1: the plain softmax")
cu.check_close(softmax_with_temperature(s, 0.5), np.exp(2 * s) / np.exp(2 * s).sum(), "temperature 0.5",
               hint="DIVIDE the scores by the temperature before the softmax")
cu.check_close(softmax_with_temperature(s, 1e-3), [[0, 0, 1]], "temperature near 0", atol=1e-9,
               hint="a tiny temperature makes the scores huge: shift by the maximum to avoid overflow")
cu.check_close(softmax_with_temperature(s, 1e3), np.full((1, 3), 1 / 3), "a huge temperature", rtol=1e-2)
# A hand-made model whose next token does not depend on the past: 'a' 90 %, 'b' 10 %, then always '$'.
toy = init_char_rnn(V, D=2, H=2, seed=0)
toy["Wx"][:], toy["Wh"][:], toy["Wy"][:] = 0, 0, 0
toy["by"][:] = -50
toy["by"][3], toy["by"][4] = np.log(0.9) + 50, np.log(0.1) + 50
toy_names = sample_names(toy, 2000, temperature=1.0, seed=0, max_len=1)
cu.check_type(toy_names, list, "sample_names(...)")
cu.check_equal(sorted(set(toy_names)), ["a", "b"], "the one-letter names of the toy model",
               hint="DRAW each token (u = rng.random(n), then the cumulative probabilities): always taking the most "
                    "likely token gives 'a' every time")
share_b = toy_names.count("b") / 2000
print(f"share of 'b' at temperature 1: {share_b:.3f} (the model says 0.1)")
assert 0.08 < share_b < 0.12, f"'b' was drawn {share_b:.1%} of the time; the model gives it 10 %"
share_b_cold = sample_names(toy, 2000, temperature=0.5, seed=0, max_len=1).count("b") / 2000
print(f"share of 'b' at temperature 0.5: {share_b_cold:.3f} (expected 0.1² / (0.9² + 0.1²) = 0.012)")
assert share_b_cold < 0.03, f"at temperature 0.5, 'b' should be rare (1.2 %), not {share_b_cold:.1%}"
cu.check_equal(sample_names(toy, 5, seed=3), sample_names(toy, 5, seed=3), "two calls with the same seed",
               hint="draw every random number from rng = np.random.default_rng(seed)")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report_call

_r = hidden_rng(607)
_s = _r.normal(size=(5, 8)) * 3
for _tau in [0.3, 1.0, 1.7]:
    report_call(f"softmax_with_temperature at {_tau}", softmax_with_temperature, _s.copy(), _tau, rtol=1e-10)
report_call("softmax_with_temperature of large scores", softmax_with_temperature, _s * 300, 0.2, rtol=1e-9)
_p = init_char_rnn(V, D=8, H=16, seed=int(_r.integers(1000)))
_seed = int(_r.integers(10_000))
for _tau in [0.5, 1.0, 2.0]:
    report_call(f"names sampled from a random model at temperature {_tau}",
                lambda p, t: vocab.encode_batch(sample_names(p, 12, temperature=t, seed=_seed)),
                {k: v.copy() for k, v in _p.items()}, _tau, kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# **Question.** You call `sample_names(params, 5, temperature=1e-4, seed=s)` for several
# seeds `s`. What comes out?
#
# * (a) five different names for each seed, and different ones for every seed: the seed
#   decides the draws;
# * (b) the same name five times, whatever the seed: at such a temperature the softmax
#   puts all its probability on the most likely token, and every draw of $u$ picks it;
# * (c) random strings of letters: a tiny temperature divides the scores by almost 0,
#   which makes them meaningless.
#
# Set `cold_sampling_answer` to "a", "b" or "c".

# %% solution="choice_cold_sampling"
### BEGIN SOLUTION
cold_sampling_answer = "b"
### END SOLUTION

# %% tests="test_choice_cold_sampling" points=1
cu.check_choice(cold_sampling_answer, "abc", "cold_sampling_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", cold_sampling_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 10. Training the character model
#
# The training loop is the one of notebook 04, with your pieces: for each step, draw a
# minibatch of training names, encode them (`vocab.encode_batch`), compute the loss and
# gradients with `char_rnn_loss`, **clip** them with `clip_grad_norm`, and update the
# parameters with Adam. `adam_update` below is the update rule you wrote in notebook 04.
#
# **`train_char_rnn(words, ...)`** returns the trained parameters and the loss of every
# step. A recipe that works: `init_char_rnn(V, D=16, H=64, seed=seed)`; a generator
# `rng = np.random.default_rng(seed)`; 2,500 steps; each step a batch of 32 names drawn
# with `rng.integers(0, len(words), batch_size)`; clipping at a global norm of 5; Adam with
# a learning rate of 0.01 that decays to 0 along a half cosine,
# $\eta_i = 0.01 \cdot \tfrac12 (1 + \cos(\pi i / \text{steps}))$.
#
# **`char_log_probs(params, words)`** returns the model's log-probabilities of the next
# token at every real position of every word, in order (word 0's positions first), one row
# per position: an array of shape $(P, V)$, with $P = \sum_{w} (\text{len}(w) + 1)$. Encode
# the words, take inputs, targets and mask with your `lm_inputs_targets`, run
# `char_rnn_scores`, take a log-softmax, and keep the rows where the mask is True
# (`log_probs[mask]` keeps them in that order).
#
# The grader trains your model with your recipe (a fixed number of steps and a fixed seed:
# the same work on any machine), asks `char_log_probs` for the validation names, and
# computes the loss itself. It wants **at most the bigram's loss minus 0.15 nats/char**, and
# it also checks that the loss is **not implausibly low** (a model that has seen the
# character it predicts gets close to 0) and that every prediction depends only on the
# characters before it.

# %%
def adam_update(params: dict, grads: dict, state: dict, lr: float, beta1: float = 0.9, beta2: float = 0.999,
                eps: float = 1e-8) -> None:
    """One Adam step on every parameter, in place; state holds the moments and the step count."""
    state["t"] = state.get("t", 0) + 1
    for name in params:
        m = state.setdefault(("m", name), np.zeros_like(params[name]))
        v = state.setdefault(("v", name), np.zeros_like(params[name]))
        m[...] = beta1 * m + (1 - beta1) * grads[name]
        v[...] = beta2 * v + (1 - beta2) * grads[name] ** 2
        m_hat, v_hat = m / (1 - beta1 ** state["t"]), v / (1 - beta2 ** state["t"])
        params[name] -= lr * m_hat / (np.sqrt(v_hat) + eps)


# %% solution="char_rnn_train"
def train_char_rnn(words: list[str], steps: int = 2500, batch_size: int = 32, lr: float = 0.01,
                   max_norm: float = 5.0, seed: int = 0) -> tuple[dict, list[float]]:
    """Train the character RNN on words with Adam, clipping and a cosine decay. Returns (params, losses)."""
    params = init_char_rnn(V, D=16, H=64, seed=seed)
    rng = np.random.default_rng(seed)
    state, losses = {}, []
    ### BEGIN SOLUTION
    for step in range(steps):
        batch = vocab.encode_batch([words[i] for i in rng.integers(0, len(words), batch_size)])
        loss, grads = char_rnn_loss(params, batch)
        names = list(grads)
        clipped, _ = clip_grad_norm([grads[k] for k in names], max_norm)
        rate = lr * 0.5 * (1 + np.cos(np.pi * step / steps))
        adam_update(params, dict(zip(names, clipped)), state, rate)
        losses.append(loss)
    ### END SOLUTION
    return params, losses


def char_log_probs(params: dict, words: list[str]) -> np.ndarray:
    """log P(next token | the tokens so far) at every real position of every word: (P, V), word by word."""
    ### BEGIN SOLUTION
    inputs, targets, mask = lm_inputs_targets(vocab.encode_batch(words))
    scores = char_rnn_scores(params, inputs)[0]
    shifted = scores - scores.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    return log_probs[mask]
    ### END SOLUTION


# %% [markdown]
# Train it (a few seconds):

# %%
with cu.needs_your_code():
    start = time.perf_counter()
    char_params, char_losses = train_char_rnn(train_words)
    char_seconds = time.perf_counter() - start
    print(f"{len(char_losses)} steps in {char_seconds:.1f} s")
    cu.plot_loss_curve(char_losses, smooth=50)
    plt.axhline(bigram_val, color="gray", ls="--", label="bigram, validation")
    plt.legend()
    plt.title("character RNN: training loss (nats/char)")
    plt.show()

# %% tests="test_char_rnn_train" points=5
assert "char_params" in globals(), "train the model first: implement train_char_rnn and run the cell above"
lp = char_log_probs(char_params, ["ann", "bo"])
cu.check_shape(lp, (7, V), "char_log_probs(params, ['ann', 'bo'])",
               hint="one row per real position: len(w) + 1 rows per word (the last one predicts $)")
cu.check_close(np.exp(lp).sum(axis=1), np.ones(7), "the probabilities of every row, summed",
               hint="take a log-softmax of the scores over the vocabulary axis")
targets_val = cu.next_char_targets(val_words)
val_loss = float(-np.mean(char_log_probs(char_params, val_words)[np.arange(len(targets_val)), targets_val]))
print(f"validation loss: RNN {val_loss:.4f}, bigram {bigram_val:.4f} nats/char (target: at most "
      f"{bigram_val - 0.15:.4f})")
assert val_loss > 1.0, (f"a validation loss of {val_loss:.3f} nats/char is too good to be true: the model sees the "
                        "character it predicts. The inputs must be tokens[:, :-1] and the targets tokens[:, 1:].")
# Causality: changing the last letter must not change the predictions made before it.
a, b = char_log_probs(char_params, ["maria"]), char_log_probs(char_params, ["mariz"])
cu.check_close(a[:5], b[:5], "predictions for the positions before the last letter of 'maria' vs 'mariz'",
               hint="the prediction at position t may use only the tokens up to t")
assert val_loss <= bigram_val - 0.15, (f"validation loss {val_loss:.4f}: not yet 0.15 below the bigram's "
                                       f"{bigram_val:.4f}. Does the training loss go down? Plot char_losses.")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report

_seed = hidden_seed(608) % 1000
_params, _ = train_char_rnn(list(train_words), seed=_seed)
report("validation loss of your RNN trained with your recipe (nats/char)",
       lambda: char_log_probs(_params, list(val_words)), metric="nll", labels="names_val_next_chars",
       max=round(bigram_val - 0.15, 4), min=1.0)
_r = hidden_rng(609)
_first = [str(w) for w in _r.choice([w for w in val_words if len(w) >= 4], size=40, replace=False)]
_second, _agree, _row = [], [], 0
for _w in _first:
    _cut = int(_r.integers(1, len(_w)))  # letters 1.._cut are kept, the rest replaced
    _tail = "".join(_r.choice(list(vocab.letters), size=len(_w) - _cut))
    if _tail[0] == _w[_cut]:
        _tail = ("a" if _w[_cut] != "a" else "b") + _tail[1:]
    _second.append(_w[:_cut] + _tail)
    _agree += list(range(_row, _row + _cut + 1))  # positions 0.._cut see only the shared prefix
    _row += len(_w) + 1
report("causality: predictions depend only on earlier characters",
       lambda: (char_log_probs(_params, _first), char_log_probs(_params, _second)), kind="causal", agree=_agree)
### END HIDDEN TESTS

# %% [markdown]
# ### What the model learned
#
# Move the slider to sample names at temperatures from 0.2 to 2. Names that are not in
# the training set are marked with a `*`: the model has learned how names are built, not
# only a list.

# %%
train_set = set(train_words)


@cu.needs_your_code()
def show_samples(temperature=1.0, seed=0):
    names = sample_names(char_params, 18, temperature=temperature, seed=seed)
    new = sum(name not in train_set for name in names)
    print(f"temperature {temperature:.1f}: {new} of {len(names)} are not training names (marked *)")
    print(", ".join(name + ("*" if name not in train_set else "") for name in names))


widgets.interact(show_samples, temperature=widgets.FloatSlider(1.0, min=0.2, max=2.0, step=0.1),
                 seed=widgets.IntSlider(0, 0, 20));

# %% [markdown]
# Measured on 500 names per temperature: the share of invented names (not in the
# training list) grows with the temperature, and so does the share of implausible ones,
# which we count crudely as names with three identical letters in a row or longer than
# any training name. At a low temperature the model replays the most common patterns,
# many of them real names; at a high one it invents freely, and not always well.

# %%
with cu.needs_your_code():
    longest = max(len(w) for w in train_words)
    temperature_rows = {}
    for tau in (0.5, 1.0, 2.0):
        names = sample_names(char_params, 500, temperature=tau, seed=1)
        new = np.mean([name not in train_set for name in names])
        odd = np.mean([len(name) > longest or any(a == b == c for a, b, c in zip(name, name[1:], name[2:]))
                       for name in names])
        temperature_rows[tau] = (new, odd)
        print(f"temperature {tau}: {new:.0%} invented, {odd:.1%} implausible")
    (new_cold, odd_cold), (new_1, _), (new_hot, odd_hot) = temperature_rows.values()
    assert new_cold < new_1 < new_hot and odd_cold < odd_hot, (
        f"the text says invention and implausibility grow with the temperature: {temperature_rows}")

# %% [markdown]
# ## 11. LSTMs, with PyTorch
#
# A **long short-term memory** (LSTM) cell keeps, besides its output $h_t$, a **cell
# state** $c_t$, and three **gates**, each a sigmoid of an affine function of $x_t$ and
# $h_{t-1}$, decide what to forget, what to write and what to show:
#
# $$ f_t, i_t, o_t = \sigma(\cdot), \quad g_t = \tanh(\cdot), \qquad
#    c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t) . $$
#
# The cell state is updated by **addition**: back through one step its gradient is
# multiplied by the forget gate $f_t$, not by a weight matrix and a tanh derivative. When
# the network keeps $f_t \approx 1$, gradients travel over many steps without vanishing.
# (GRUs are a lighter variant with two gates.) The backward pass is BPTT again, and this
# time PyTorch's autograd does it.
#
# ### Exercise 8: `CharLSTM`
#
# The same language model with `nn.Embedding(vocab_size, embed_dim)`, `nn.LSTM(embed_dim,
# hidden, batch_first=True)` (so its input is $(N, T, D)$, like ours), dropout with
# probability `dropout` on the embeddings and on the LSTM's outputs (an LSTM of this size
# memorises 4,389 names quickly; dropout keeps it honest), and `nn.Linear(hidden,
# vocab_size)`. `forward(inputs)` takes tokens $(N, T)$ and returns **log-probabilities**
# $(N, T, V)$. Use the layer names `embed`, `lstm`, `drop` and `out`. The training loop is
# given: it is the one of notebook 05, with `F.nll_loss(..., ignore_index=PAD)` as the
# temporal loss and `nn.utils.clip_grad_norm_` for clipping.
#
# The grader trains a 128-unit LSTM with this loop for 1,500 steps (about 15 s on a CPU,
# the same work on a GPU) and asks for a stricter target than for your RNN: the bigram's
# loss **minus 0.40** nats per character. (A larger LSTM, or a longer run, does not do
# better here: 4,389 names are few, and it starts to memorise them.)

# %% solution="char_lstm"
class CharLSTM(nn.Module):
    """Embedding -> dropout -> LSTM -> dropout -> linear -> log-softmax. inputs (N, T) -> log-probs (N, T, V)."""

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden: int = 128, dropout: float = 0.3):
        super().__init__()
        ### BEGIN SOLUTION
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, vocab_size)
        ### END SOLUTION

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        h, _ = self.lstm(self.drop(self.embed(inputs)))  # (N, T, hidden)
        return F.log_softmax(self.out(self.drop(h)), dim=-1)
        ### END SOLUTION


# %%
def train_char_lstm(model: nn.Module, words: list[str], steps: int, batch_size: int = 64, lr: float = 1e-2,
                    seed: int = 0) -> list[float]:
    """AdamW, clipping at norm 1, cosine decay; batches of words drawn with a seeded generator. Returns losses."""
    dev = next(model.parameters()).device
    tokens = torch.as_tensor(vocab.encode_batch(words), device=dev)
    threads = torch.get_num_threads()
    if dev.type == "cpu":
        torch.set_num_threads(1)  # an LSTM this small runs faster on one thread than on several in lockstep
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # dropout
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 0.5 * (1 + np.cos(np.pi * min(i / steps, 1))))
    losses = []
    model.train()
    for _ in range(steps):
        batch = tokens[torch.randint(0, len(words), (batch_size,), generator=generator).to(dev)]
        batch = batch[:, :int((batch != vocab.PAD).sum(dim=1).max())]  # drop all-padding columns
        log_probs = model(batch[:, :-1])
        loss = F.nll_loss(log_probs.reshape(-1, V), batch[:, 1:].reshape(-1), ignore_index=vocab.PAD)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    torch.set_num_threads(threads)
    return losses


def lstm_log_probs(model: nn.Module, words: list[str]) -> np.ndarray:
    """As char_log_probs, for a torch model: (P, V) log-probabilities at every real position, word by word."""
    tokens = vocab.encode_batch(words)
    model.eval()
    with torch.no_grad():
        log_probs = model(torch.as_tensor(tokens[:, :-1], device=next(model.parameters()).device)).cpu().numpy()
    return log_probs[tokens[:, 1:] != vocab.PAD]


LSTM_HIDDEN, LSTM_STEPS = 128, 1500

# %% tests="test_char_lstm" points=3
torch.manual_seed(0)
model = CharLSTM(V)
out = model(torch.as_tensor(vocab.encode_batch(["ann", "bo"])[:, :-1]))
cu.check_shape(out, (2, 4, V), "CharLSTM(V)(tokens of shape (2, 4))",
               hint="batch_first=True makes the LSTM read (N, T, D); the output layer maps hidden -> vocab_size")
cu.check_close(out.exp().sum(dim=-1).detach(), torch.ones(2, 4), "exp(output) summed over the vocabulary", rtol=1e-5,
               hint="return LOG-probabilities: F.log_softmax(..., dim=-1)")
cu.check_equal(sum(p.numel() for p in model.parameters()), 87_613, "parameters of CharLSTM(29)",
               hint="29·32 (embedding) + 4·128·(32 + 128 + 2) (LSTM) + 128·29 + 29 (output); one LSTM layer")
model.eval()
a, b = model(torch.as_tensor([[1, 15, 3, 18]])), model(torch.as_tensor([[1, 15, 3, 4]]))
cu.check_close(a[0, :3].detach(), b[0, :3].detach(), "log-probabilities before a changed last input",
               hint="a prediction may depend only on earlier tokens: no bidirectional LSTM")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report


def _filled(model, seed):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for _name, tensor in sorted(model.state_dict().items()):
            tensor.copy_(torch.as_tensor(rng.normal(scale=0.3, size=tuple(tensor.shape))))
    return model.double().eval()


_r = hidden_rng(610)
_tok = torch.as_tensor(vocab.encode_batch([str(w) for w in _r.choice(val_words, size=4)])[:, :-1])
_fill = int(_r.integers(1000))
report("CharLSTM with given weights: log-probabilities", lambda: _filled(CharLSTM(V, 8, 12), _fill)(_tok), rtol=1e-8)
report("CharLSTM: parameter count", lambda: np.array(sum(p.numel() for p in CharLSTM(V, 10, 20).parameters())),
       kind="equal")
torch.manual_seed(0)
_lstm = CharLSTM(V, hidden=LSTM_HIDDEN).to(device)
train_char_lstm(_lstm, list(train_words), steps=LSTM_STEPS, seed=hidden_seed(611) % 1000)
report("validation loss of your LSTM (nats/char)", lambda: lstm_log_probs(_lstm, list(val_words)), metric="nll",
       labels="names_val_next_chars", max=round(bigram_val - 0.40, 4),
       min=1.0)
_words = [str(w) for w in _r.choice([w for w in val_words if len(w) >= 4], size=30, replace=False)]
_other = [w[:2] + w[2:][::-1] if w[2:] != w[2:][::-1] else w[:2] + "z" * (len(w) - 2) for w in _words]
_agree, _row = [], 0
for _w in _words:
    _agree += [_row, _row + 1, _row + 2]  # positions 0, 1, 2 see only the first two letters
    _row += len(_w) + 1
report("LSTM causality: predictions depend only on earlier characters",
       lambda: (lstm_log_probs(_lstm, _words), lstm_log_probs(_lstm, _other)), kind="causal", agree=_agree)
### END HIDDEN TESTS

# %% [markdown]
# Train the LSTM and compare the three models on the validation names:

# %%
with cu.needs_your_code():
    torch.manual_seed(0)
    lstm_model = CharLSTM(V, hidden=LSTM_HIDDEN).to(device)
    start = time.perf_counter()
    lstm_losses = train_char_lstm(lstm_model, train_words, steps=LSTM_STEPS)
    lstm_seconds = time.perf_counter() - start
    targets_val = cu.next_char_targets(val_words)
    lstm_val = float(-np.mean(lstm_log_probs(lstm_model, val_words)[np.arange(len(targets_val)), targets_val]))
    print(f"LSTM ({LSTM_HIDDEN} units, {LSTM_STEPS} steps on {device.type}): {lstm_seconds:.1f} s")
    print(f"validation loss (nats/char): bigram {bigram_val:.4f}", end="")
    if "char_params" in globals():
        rnn_val = float(-np.mean(char_log_probs(char_params, val_words)[np.arange(len(targets_val)), targets_val]))
        print(f", your RNN {rnn_val:.4f}", end="")
    print(f", LSTM {lstm_val:.4f}")
    cu.plot_loss_curve(lstm_losses, smooth=50)
    plt.axhline(bigram_val, color="gray", ls="--", label="bigram, validation")
    plt.axhline(lstm_val, color="C1", ls=":", label="LSTM, validation")
    plt.legend()
    plt.title("LSTM: training loss (nats/char)")
    plt.show()

# %% [markdown]
# ## Summary
#
# * A recurrent network applies one cell at every step and carries a hidden state:
#   $h_t = \tanh(x_t W_x + h_{t-1} W_h + b)$. Unrolled, it is a deep network whose layers
#   share their weights.
# * Backpropagation through time: walk the steps backwards, add the gradient coming back
#   from the future to the one from the present output, and sum the weight gradients over
#   the steps.
# * Gradients through many steps are products of many Jacobians: they vanish or explode.
#   Clipping by the global norm tames the explosions without changing the direction;
#   gated cells (LSTM, GRU) carry the signal over long distances.
# * A language model predicts the next token at every position, with a masked loss in
#   nats per character; inputs and targets are the same sequence shifted by one, and a
#   shift in the wrong direction lets the model see what it predicts.
# * Temperature trades safety for variety when sampling.
#
# Next, `07_reinforce`: learning from rewards instead of labels.
