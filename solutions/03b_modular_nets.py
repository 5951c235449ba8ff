# %% [markdown]
# # 03b · Modular networks of any depth, and dropout
#
# In notebook 03 you wrote a two-layer network by hand: one forward pass and one backward
# pass, each a fixed chain of four calls. A network with five hidden layers written that way
# would be five times as long, and every new architecture would mean new backpropagation
# code. This notebook makes the code **modular**: every layer is a pair of functions,
# `forward` (which keeps a *cache*) and `backward` (which reads it), and a network of any
# depth is a loop over those pairs. With that in place we add a new layer, **dropout**, and
# a **trainer** that takes the update rule as an argument.
#
# You will implement:
#
# * `affine_forward` / `affine_backward` for inputs of any shape (images included), and the
#   **sandwich** layer `affine_relu_forward` / `affine_relu_backward` built from the pieces;
# * **inverted dropout**, `dropout_forward` / `dropout_backward`, in training and test mode;
# * `FullyConnectedNet`, a network with any number of hidden layers, L2 regularisation and
#   dropout, whose loss and gradients you check numerically at depths 1, 2 and 3;
# * the update rule `sgd_momentum` and `train`, a trainer that works with any update rule;
#
# and then you use them: a deep network memorises 50 Fashion-MNIST images, a network with
# tiny initial weights does not learn at all, and dropout narrows the gap between training
# and validation accuracy.
#
# **Precision.** Everything here is NumPy in float64. Losses and gradients are compared with
# the reference to about $10^{-8}$ (any order of operations passes; converting to float32
# does not). Leave your arguments unchanged: the hidden tests call your functions twice on
# the same arrays.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

import course_utils as cu

cu.seed_everything(0)

# %% [markdown]
# ## 1. Layers as forward/backward pairs
#
# Every layer in this notebook follows one contract (the same as in notebook 03):
#
# * `layer_forward(inputs...) -> (out, cache)`: compute the output and keep in `cache`
#   exactly what the backward pass will need;
# * `layer_backward(dout, cache) -> gradients`: given
#   $\texttt{dout} = \partial L / \partial\,\texttt{out}$, return $\partial L / \partial$ (each
#   input), each with the shape of that input.
#
# A layer knows nothing about the rest of the network. That is what makes it a module: a
# network is a list of layers, its forward pass calls each `forward` in order and stores the
# caches, and its backward pass calls each `backward` in **reverse** order, each fed the
# gradient the one above returned. Nothing else is needed to backpropagate through a network
# of any depth.
#
# ### The affine layer, for images too
#
# Notebook 03's affine layer took rows $x \in \mathbb{R}^{N \times D}$. Images arrive as
# $(N, 28, 28)$, or $(N, 3, 32, 32)$ for colour. The affine layer flattens each example
# into one row of $D = d_1 d_2 \cdots d_k$ numbers, computes
# $\texttt{out} = x_{\text{flat}} W^\top + b$ with $W$: $(M, D)$ and $b$: $(M,)$, and its
# backward pass must return $dx$ **in the shape of $x$**, since that is what the layer below
# expects:
#
# $$ dx = \big(\texttt{dout}\; W\big)\text{ reshaped to } x\text{'s shape}, \qquad
#    dW = \texttt{dout}^\top x_{\text{flat}}, \qquad db = \sum_n \texttt{dout}_{n,:} . $$
#
# (`x.reshape(len(x), -1)` flattens; `dx.reshape(x.shape)` puts the shape back.)
#
# ### Exercise 1: the affine layer for inputs of any shape

# %% solution="affine"
def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """out = flatten(x) Wᵀ + b. x: (N, d1, ..., dk) with D = d1···dk, W: (M, D), b: (M,) -> out (N, M), cache."""
    ### BEGIN SOLUTION
    x_flat = x.reshape(len(x), -1)  # (N, D)
    out = x_flat @ W.T + b
    cache = (x, W)
    return out, cache
    ### END SOLUTION


def affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dout: (N, M) -> (dx of x's shape (N, d1, ..., dk), dW (M, D), db (M,))."""
    ### BEGIN SOLUTION
    x, W = cache
    x_flat = x.reshape(len(x), -1)  # (N, D)
    dx = (dout @ W).reshape(x.shape)
    dW = dout.T @ x_flat
    db = dout.sum(axis=0)
    return dx, dW, db
    ### END SOLUTION


# %% [markdown]
# The tests check the backward pass with `cu.numerical_gradient_array(f, x, dout)`, which
# returns the centred-difference gradient of $\sum f(x) \odot \texttt{dout}$ (a made-up loss
# whose gradient with respect to the output is exactly `dout`), and with
# `cu.check_gradient`, which also reports the relative error (about $10^{-7}$ or less is
# healthy in float64; $10^{-2}$ means a bug).

# %% tests="test_affine" points=2
rng = np.random.default_rng(0)
x = rng.normal(size=(4, 2, 3))  # 4 "images" of 2 × 3 pixels
W, b = rng.normal(size=(5, 6)), rng.normal(size=5)
out, cache = affine_forward(x, W, b)
cu.check_shape(out, (4, 5), "affine_forward(x of shape (4, 2, 3), W (5, 6), b)[0]",
               hint="flatten each example first: x.reshape(len(x), -1) has shape (4, 6)")
cu.check_close(out, x.reshape(4, 6) @ W.T + b, "affine_forward on 2 × 3 images")
dout = rng.normal(size=(4, 5))
dx, dW, db = affine_backward(dout, cache)
cu.check_shape(dx, (4, 2, 3), "dx", hint="dx must have the shape of x: reshape dout @ W back to x.shape")
cu.check_shape(dW, (5, 6), "dW", hint="dW = dout.T @ x_flat has the shape of W")
cu.check_shape(db, (5,), "db")
dx_num = cu.numerical_gradient_array(lambda v: affine_forward(v, W, b)[0], x, dout)
cu.check_close(dx, dx_num, "dx vs numerical_gradient_array", rtol=1e-7, atol=1e-9)
print(cu.check_gradient(lambda W_: np.sum(affine_forward(x, W_, b)[0] * dout), W, dW, name="dW"))
print(cu.check_gradient(lambda b_: np.sum(affine_forward(x, W, b_)[0] * dout), b, db, name="db",),
      "\n(b is added to every row, so db sums dout over the batch)")
x_before = x.copy()
affine_backward(dout, affine_forward(x, W, b)[1])
cu.check_close(x, x_before, "x after a forward and a backward pass", hint="don't modify x in place")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(301)
_x, _W, _b = _rng.normal(size=(5, 3, 2, 2)), _rng.normal(size=(4, 12)), _rng.normal(size=4)
_dout = _rng.normal(size=(5, 4))
report_call("forward on 4-D inputs; x, W and b left unchanged", lambda *a: affine_forward(*a)[0], _x.copy(),
            _W.copy(), _b.copy(), rtol=1e-9)
report_call("backward on 4-D inputs, called twice on one cache; dout and cache left unchanged", affine_backward,
            _dout.copy(), affine_forward(_x.copy(), _W.copy(), _b.copy())[1], rtol=1e-9, own_inputs=True)
report("backward on 2-D inputs",
       lambda: tuple(affine_backward(_dout, affine_forward(_x.reshape(5, 12).copy(), _W, _b)[1])), rtol=1e-9)
report_gradient("dx agrees with the numerical gradient", lambda v: np.sum(affine_forward(v, _W, _b)[0] * _dout),
                lambda v: affine_backward(_dout, affine_forward(v, _W, _b)[1])[0], _x, rtol=1e-9, h=1e-5,
                numeric_tol=1e-7)
report_gradient("dW agrees with the numerical gradient", lambda v: np.sum(affine_forward(_x, v, _b)[0] * _dout),
                lambda v: affine_backward(_dout, affine_forward(_x, v, _b)[1])[1], _W, rtol=1e-9, h=1e-5,
                numeric_tol=1e-7)
report_gradient("db agrees with the numerical gradient", lambda v: np.sum(affine_forward(_x, _W, v)[0] * _dout),
                lambda v: affine_backward(_dout, affine_forward(_x, _W, v)[1])[2], _b, rtol=1e-9, h=1e-5,
                numeric_tol=1e-7)
### END HIDDEN TESTS

# %% [markdown]
# ### The ReLU layer (given) and the sandwich
#
# You wrote the ReLU layer in notebook 03; here it is again, ready to use:

# %%
def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = max(0, x) elementwise; the cache is the input x."""
    return np.maximum(x, 0), x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout where the input was positive, 0 elsewhere."""
    return dout * (cache > 0)


# %% [markdown]
# Affine followed by ReLU appears in every hidden layer, so we wrap the pair into one
# **sandwich** layer with the same contract. Its forward pass calls `affine_forward`, then
# `relu_forward` on the result, and its cache holds **both** caches. Its backward pass undoes
# them in reverse order: first the ReLU (with the ReLU's cache), then the affine layer (with
# the affine cache), feeding the ReLU's $dx$ in as the affine layer's `dout`:
#
# $$ x \xrightarrow{\ \text{affine}\ } a \xrightarrow{\ \text{relu}\ } \texttt{out}, \qquad
#    \texttt{dout} \xrightarrow{\ \text{relu\_backward}\ } da
#    \xrightarrow{\ \text{affine\_backward}\ } (dx, dW, db) . $$
#
# Write it with the layer functions above, not by re-deriving the maths: that is the point
# of modules.
#
# ### Exercise 2: the affine–ReLU sandwich

# %% solution="affine_relu"
def affine_relu_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """out = relu(affine(x, W, b)). x: (N, d1, ..., dk), W: (M, D), b: (M,) -> out (N, M), cache."""
    ### BEGIN SOLUTION
    a, fc_cache = affine_forward(x, W, b)
    out, relu_cache = relu_forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache
    ### END SOLUTION


def affine_relu_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dout: (N, M) -> (dx of x's shape, dW (M, D), db (M,))."""
    ### BEGIN SOLUTION
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dW, db = affine_backward(da, fc_cache)
    return dx, dW, db
    ### END SOLUTION


# %% tests="test_affine_relu" points=2
# By hand: x = (1, −1), W = [[1, −2], [−1, 1]], b = (1, 0) gives a = (4, −2), so out = (4, 0).
x_ex, W_ex, b_ex = np.array([[1.0, -1.0]]), np.array([[1.0, -2.0], [-1.0, 1.0]]), np.array([1.0, 0.0])
out, cache = affine_relu_forward(x_ex, W_ex, b_ex)
cu.check_close(out, [[4.0, 0.0]], "affine_relu_forward on the worked example",
               hint="out = relu(x Wᵀ + b) = max(0, (4, −2)) = (4, 0)")
dx, dW, db = affine_relu_backward(np.array([[1.0, 1.0]]), cache)
cu.check_close(db, [1.0, 0.0], "db for dout = (1, 1)",
               hint="the second unit was negative before the ReLU, so no gradient reaches its weights: "
                    "run relu_backward first, with the ReLU's cache")
rng = np.random.default_rng(1)
x, W, b = rng.normal(size=(3, 2, 4)), rng.normal(size=(6, 8)), rng.normal(size=6)
dout = rng.normal(size=(3, 6))
out, cache = affine_relu_forward(x, W, b)
dx, dW, db = affine_relu_backward(dout, cache)
cu.check_shape(dx, x.shape, "dx")
cu.check_close(dx, cu.numerical_gradient_array(lambda v: affine_relu_forward(v, W, b)[0], x, dout), "dx",
               rtol=1e-7, atol=1e-9)
cu.check_close(dW, cu.numerical_gradient_array(lambda v: affine_relu_forward(x, v, b)[0], W, dout), "dW",
               rtol=1e-7, atol=1e-9, hint="backward order: relu_backward(dout, relu_cache), then "
                                           "affine_backward(da, fc_cache)")
cu.check_close(db, cu.numerical_gradient_array(lambda v: affine_relu_forward(x, W, v)[0], b, dout), "db",
               rtol=1e-7, atol=1e-9)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report_call, report_gradient

_rng = hidden_rng(303)
_x, _W, _b = _rng.normal(size=(6, 2, 5)), _rng.normal(size=(7, 10)), _rng.normal(size=7)
_dout = _rng.normal(size=(6, 7))
report_call("forward; x, W and b left unchanged", lambda *a: affine_relu_forward(*a)[0], _x.copy(), _W.copy(),
            _b.copy(), rtol=1e-9)
report_call("backward called twice on one cache; dout and cache left unchanged", affine_relu_backward,
            _dout.copy(), affine_relu_forward(_x.copy(), _W.copy(), _b.copy())[1], rtol=1e-9, own_inputs=True)
report_gradient("dx agrees with the numerical gradient", lambda v: np.sum(affine_relu_forward(v, _W, _b)[0] * _dout),
                lambda v: affine_relu_backward(_dout, affine_relu_forward(v, _W, _b)[1])[0], _x, rtol=1e-9, h=1e-6,
                numeric_tol=1e-6)
report_gradient("dW agrees with the numerical gradient", lambda v: np.sum(affine_relu_forward(_x, v, _b)[0] * _dout),
                lambda v: affine_relu_backward(_dout, affine_relu_forward(_x, v, _b)[1])[1], _W, rtol=1e-9, h=1e-6,
                numeric_tol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Dropout
#
# **Dropout** is a layer that, during training, sets each activation to zero at random: a
# unit is **kept** with probability `keep` (a common choice is 0.5 for large fully connected
# layers) and dropped otherwise, with a new random choice at every training step. A network
# that cannot count on any single unit being there learns features that are useful in many
# combinations; one can also see training with dropout as training a huge family of
# thinned networks that share their weights. At test time nothing is dropped.
#
# The trouble is the scale. A kept unit passes $x$, a dropped one $0$, so on average a unit
# passes $\texttt{keep} \cdot x$ during training but $x$ at test time: the next layer would
# see inputs of a different size at test time from the ones it was trained on. **Inverted
# dropout** corrects this during training by dividing the kept units by `keep`:
#
# $$ \text{train: } \ \texttt{out} = \frac{x \odot m}{\texttt{keep}}, \quad
#    m_i = \big[u_i < \texttt{keep}\big], \ u_i \sim \text{Uniform}[0, 1); \qquad
#    \text{test: } \ \texttt{out} = x . $$
#
# The expected value of each output is then $x$ in both modes, and the test-time network is
# the plain network, with no dropout code at all. The backward pass lets the gradient
# through the kept units only, with the same scale: $dx = \texttt{dout} \odot m /
# \texttt{keep}$, so the cache must hold the mask.
#
# (Notebook 04 and PyTorch's `nn.Dropout(p)` describe the same layer with the probability of
# **dropping**, $p = 1 - \texttt{keep}$.)
#
# **The mask, precisely.** Draw it as `rng.random(x.shape) < keep`, one call, from the
# generator `rng` you are given. A seeded generator then gives the same mask every time,
# which is what a gradient check needs; one generator used for call after call gives a new
# mask at every call, which is what training needs. The hidden tests compare your masks with
# the reference's, so draw them exactly this way. In test mode (`train=False`) draw nothing,
# return the input's values unchanged, and let the backward pass return `dout` unchanged.
#
# ### Exercise 3: inverted dropout

# %% solution="dropout"
def dropout_forward(x: np.ndarray, keep: float, train: bool = True,
                    rng: np.random.Generator | None = None) -> tuple[np.ndarray, object]:
    """Inverted dropout. x: any shape; keep: probability of KEEPING a unit, 0 < keep <= 1.

    train=True: out = x · m / keep with m = rng.random(x.shape) < keep; train=False: out = x.
    Returns (out, cache); out has x's shape.
    """
    rng = np.random.default_rng() if rng is None else rng
    ### BEGIN SOLUTION
    if not train:
        return x.copy(), None
    mask = rng.random(x.shape) < keep  # True = keep
    out = x * mask / keep
    cache = (mask, keep)
    return out, cache
    ### END SOLUTION


def dropout_backward(dout: np.ndarray, cache: object) -> np.ndarray:
    """dout: out's shape -> dx: x's shape; the gradient passes through the kept units, scaled by 1 / keep."""
    ### BEGIN SOLUTION
    if cache is None:  # test mode: the identity
        return dout.copy()
    mask, keep = cache
    dx = dout * mask / keep
    return dx
    ### END SOLUTION


# %% tests="test_dropout" points=3
x = np.ones((500, 400))
out, cache = dropout_forward(x, 0.8, train=True, rng=np.random.default_rng(0))
cu.check_shape(out, x.shape, "dropout_forward(x, 0.8)[0]")
cu.check_close(np.mean(out == 0), 0.2, "fraction of units dropped with keep = 0.8", atol=0.01,
               hint="keep is the probability of KEEPING a unit: mask = rng.random(x.shape) < keep")
cu.check_close(np.unique(out), [0.0, 1.25], "the values of dropout_forward(ones, keep = 0.8)",
               hint="inverted dropout divides the kept units by keep (1 / 0.8 = 1.25), so the mean is preserved")
cu.check_close(out.mean(), 1.0, "mean of dropout_forward(ones, keep = 0.8) in training mode", atol=0.01)
cu.check_close(out == 0, np.random.default_rng(0).random(x.shape) >= 0.8, "which units are dropped",
               hint="draw the mask exactly as rng.random(x.shape) < keep, one call, from the rng you are given")
rng = np.random.default_rng(1)
x = rng.normal(size=(6, 7))
x_before = x.copy()
out_test, cache_test = dropout_forward(x, 0.5, train=False, rng=rng)
cu.check_close(out_test, x, "dropout_forward in test mode",
               hint="inverted dropout does all its scaling during training: at test time out = x, unscaled")
cu.check_close(x, x_before, "x after dropout_forward", hint="don't modify x in place")
dout = rng.normal(size=(6, 7))
cu.check_close(dropout_backward(dout, cache_test), dout, "dropout_backward in test mode",
               hint="in test mode the layer is the identity, so dx = dout")
generator = np.random.default_rng(2)
out_a, _ = dropout_forward(x, 0.5, rng=generator)
out_b, _ = dropout_forward(x, 0.5, rng=generator)
cu.check_equal(bool(np.any((out_a == 0) != (out_b == 0))), True, "two calls with one generator drop different units",
               hint="draw a new mask from rng at every call (don't make a new seeded generator inside)")
# The backward pass against centred differences: a generator seeded the same way at every
# call gives the same mask, so the forward pass is a fixed function of x.
f = lambda v: dropout_forward(v, 0.6, rng=np.random.default_rng(5))[0]
out, cache = dropout_forward(x, 0.6, rng=np.random.default_rng(5))
dx = dropout_backward(dout, cache)
cu.check_close(dx, cu.numerical_gradient_array(f, x, dout), "dx vs numerical_gradient_array", rtol=1e-7, atol=1e-9,
               hint="dx = dout · mask / keep: the same mask AND the same 1 / keep scale as the forward pass")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report, report_call

_rng = hidden_rng(305)
_x = _rng.uniform(0.5, 2.0, size=(9, 13)) * _rng.choice([-1.0, 1.0], size=(9, 13))
_dout = _rng.normal(size=(9, 13))
_gen = lambda n: np.random.default_rng(hidden_seed(3050 + n))  # a fresh generator for each draw
report_call("training mode, keep = 0.7, a seeded generator: the exact output; x left unchanged",
            lambda x: dropout_forward(x, 0.7, rng=_gen(1))[0], _x.copy(), rtol=1e-12)
report_call("training mode, keep = 0.3, a seeded generator: the exact output; x left unchanged",
            lambda x: dropout_forward(x, 0.3, rng=_gen(2))[0], _x.copy(), rtol=1e-12)
report_call("test mode returns the input; x left unchanged", lambda x: dropout_forward(x, 0.4, train=False)[0],
            _x.copy(), rtol=1e-12)
report("test mode: backward passes the gradient unchanged",
       lambda: dropout_backward(_dout.copy(), dropout_forward(_x.copy(), 0.4, train=False)[1]), rtol=1e-12)
report_call("backward called twice on one cache, keep = 0.6; dout and cache left unchanged", dropout_backward,
            _dout.copy(), dropout_forward(_x.copy(), 0.6, rng=_gen(3))[1], rtol=1e-12, own_inputs=True)


def _two_calls():
    generator = _gen(4)
    return np.stack([dropout_forward(_x.copy(), 0.5, rng=generator)[0] for _ in range(2)])


report("two calls with one generator: two masks, in order", _two_calls, rtol=1e-12)
report("mean preserved, keep = 0.25 (200,000 units)",
       lambda: np.mean(dropout_forward(np.ones((500, 400)), 0.25, rng=_gen(5))[0]), rtol=0, atol=0.02)
report("keep = 1 in training mode is the identity",
       lambda: dropout_forward(_x.copy(), 1.0, rng=_gen(6))[0], rtol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# What a dropout layer does to a batch of activations: at each training step a different
# random half of them is gone, and the survivors are doubled. Averaged over many steps, each
# unit passes its own value, the same as at test time.

# %%
with cu.needs_your_code():
    activations = np.abs(np.random.default_rng(1).normal(size=(8, 24)))  # 8 examples, 24 units
    generator = np.random.default_rng(0)
    step_1 = dropout_forward(activations, 0.5, rng=generator)[0]
    step_2 = dropout_forward(activations, 0.5, rng=generator)[0]
    average = np.mean([dropout_forward(activations, 0.5, rng=generator)[0] for _ in range(2000)], axis=0)
    fig, axes = plt.subplots(1, 4, figsize=(16, 2.6))
    panels = [("activations (test mode)", activations), ("training step 1, keep = 0.5", step_1),
              ("training step 2, keep = 0.5", step_2), ("average of 2,000 training steps", average)]
    for ax, (title, values) in zip(axes, panels):
        ax.imshow(values, cmap="magma", vmin=0, vmax=2 * activations.max())
        ax.set_title(title)
        ax.set_xlabel("unit")
    axes[0].set_ylabel("example")
    plt.show()
    largest_gap = np.max(np.abs(average - activations)) / activations.max()
    print(f"largest difference between the average and the activations: {largest_gap:.1%} of the largest one")
    assert largest_gap < 0.1, "the text says the average over many steps is close to the test-mode activations"

# %% [markdown]
# **Question.** Inverted dropout divides by `keep` during training and does nothing at test
# time. Why do it that way round rather than leave training alone and multiply by `keep` at
# test time? And what would go wrong if we dropped units during training but scaled at
# neither time?

# %% [markdown] answer="explain_inverted_dropout" points=1
# *Model answer.* Both ways keep the expected input to the next layer the same in training
# and at test time, which is what matters: with a mask and no scaling the next layer is
# trained on inputs that are on average `keep` times the test-time inputs, so at test time
# every pre-activation is about 1 / keep times too large (twice, for keep = 0.5), the
# distribution of scores shifts, and accuracy suffers. Scaling during training puts all of
# dropout's logic inside the training step: the deployed network is the plain network, its
# forward pass needs no knowledge of the keep rate (one can change keep between runs, or
# per layer, without touching the inference code), and test time costs nothing extra.

# %% [markdown]
# **Question.** Suppose instead you train with *standard* dropout, $\texttt{out} = x \odot m$
# with no scaling at all. At test time, what keeps each unit's expected contribution to the
# next layer the same as during training?
#
# * (a) nothing: pass the activations through unchanged;
# * (b) multiply every activation by `keep`;
# * (c) divide every activation by `keep`.
#
# Set `standard_dropout_answer` to "a", "b" or "c".

# %% solution="choice_standard_dropout"
### BEGIN SOLUTION
standard_dropout_answer = "b"
### END SOLUTION

# %% tests="test_choice_standard_dropout" points=1
cu.check_choice(standard_dropout_answer, "abc", "standard_dropout_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", standard_dropout_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. A fully connected network of any depth
#
# With $L - 1$ hidden layers, the network is
#
# $$ \big\{\text{affine} \to \text{ReLU} \to [\text{dropout}]\big\} \times (L - 1)
#    \ \to\ \text{affine} \ \to\ \text{softmax loss}, $$
#
# with weights $W_1, \dots, W_L$ and biases $b_1, \dots, b_L$, stored in a dictionary
# `params` under the keys `"W1"`, `"b1"`, ..., `"WL"`, `"bL"`. The loss adds L2
# regularisation on the **weights** (biases are not regularised), as in notebook 03:
#
# $$ L = \frac{1}{N} \sum_i -\log \operatorname{softmax}(\text{scores}_i)_{y_i}
#        + \lambda \sum_{l=1}^{L} \lVert W_l \rVert^2, \qquad
#    \frac{\partial L}{\partial W_l} = (\text{data gradient}) + 2 \lambda W_l . $$
#
# The softmax loss and its gradient with respect to the scores are the ones you wrote in
# notebook 02; here is a reference version, **given**:

# %%
def softmax_loss(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Given (from notebook 02). Mean cross-entropy of softmax(scores) and labels y, and dscores.

    scores: (N, C), y: (N,) ints -> (loss, dscores (N, C)); dscores = (softmax − one_hot(y)) / N.
    """
    shifted = scores - scores.max(axis=1, keepdims=True)  # exp never overflows
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
    n = len(y)
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return float(-log_probs[np.arange(n), y].mean()), dscores / n


# %% [markdown]
# **The class, precisely** (the hidden tests compare your network with the reference's
# number for number, so follow this):
#
# * `__init__` stores `reg`, `dropout_keep` and the number of layers, and makes **one**
#   generator, `self.rng = np.random.default_rng(seed)` (done for you). From it, for
#   $l = 1, \dots, L$ in that order, draw
#   $W_l$ = `weight_scale * self.rng.standard_normal((out_l, in_l))` (one row per unit, as in
#   notebook 03), with $\text{in}_1$ = `input_dim`, $\text{out}_L$ = `num_classes`, and set
#   $b_l$ = `np.zeros(out_l)`. The same generator draws every dropout mask later.
# * `loss(X, y=None, rng=None)` runs the forward pass with `affine_relu_forward` for every
#   hidden layer, then, if `dropout_keep < 1` and we are training, `dropout_forward` on that
#   layer's output; the last layer is a plain `affine_forward`. **With `y=None` it is test
#   mode**: no dropout, return the scores $(N, C)$. With labels it is training mode: draw the
#   masks (first hidden layer first) from `rng`, or from `self.rng` when `rng` is None, and
#   return `(loss, grads)` with `grads` holding the same keys and shapes as `params`.
# * The backward pass visits the layers in reverse order, each with **its own** cache.
#
# Passing `rng` explicitly is for gradient checks: `model.loss(X, y, rng=np.random.default_rng(0))`
# drops the same units at every call. During training the masks come from `self.rng`, a new
# one at every step.
#
# ### Exercise 4: `FullyConnectedNet`

# %% solution="fc_net"
class FullyConnectedNet:
    """{affine - relu - [dropout]} x (L - 1) - affine - softmax, with L2 regularisation on the weights."""

    def __init__(self, hidden_dims: list[int], input_dim: int = 784, num_classes: int = 10,
                 weight_scale: float = 1e-2, reg: float = 0.0, dropout_keep: float = 1.0, seed: int = 0):
        self.reg = reg
        self.dropout_keep = dropout_keep
        self.num_layers = len(hidden_dims) + 1
        self.rng = np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {}
        ### BEGIN SOLUTION
        dims = [input_dim, *hidden_dims, num_classes]
        for i in range(1, self.num_layers + 1):
            self.params[f"W{i}"] = weight_scale * self.rng.standard_normal((dims[i], dims[i - 1]))
            self.params[f"b{i}"] = np.zeros(dims[i])
        ### END SOLUTION

    def loss(self, X: np.ndarray, y: np.ndarray | None = None,
             rng: np.random.Generator | None = None) -> np.ndarray | tuple[float, dict]:
        """X: (N, d1, ..., dk). y=None: scores (N, C), no dropout. Else (loss, grads), masks drawn from rng."""
        train = y is not None
        rng = self.rng if rng is None else rng
        L = self.num_layers
        ### BEGIN SOLUTION
        caches = {}
        h = X
        for i in range(1, L):
            h, caches[f"affine_relu{i}"] = affine_relu_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            if train and self.dropout_keep < 1:
                h, caches[f"dropout{i}"] = dropout_forward(h, self.dropout_keep, train=True, rng=rng)
        scores, caches[f"affine{L}"] = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        if not train:
            return scores

        data_loss, dscores = softmax_loss(scores, y)
        weights = [self.params[f"W{i}"] for i in range(1, L + 1)]
        loss = data_loss + self.reg * sum(np.sum(W * W) for W in weights)
        grads = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, caches[f"affine{L}"])
        for i in range(L - 1, 0, -1):
            if train and self.dropout_keep < 1:
                dh = dropout_backward(dh, caches[f"dropout{i}"])
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_relu_backward(dh, caches[f"affine_relu{i}"])
        for i in range(1, L + 1):
            grads[f"W{i}"] = grads[f"W{i}"] + 2 * self.reg * self.params[f"W{i}"]
        return float(loss), grads
        ### END SOLUTION


# %% [markdown]
# Two helpers for the tests and the experiments. `net_loss_of(model, key, X, y)` turns the
# network's loss into a function of one parameter array, with the dropout masks drawn from a
# fresh generator seeded the same way at every call (so the function is fixed, as a gradient
# check needs). `torch_fc_loss` computes the same loss with PyTorch's autograd, drawing the
# same masks the same way, for a second, independent check.

# %%
def net_loss_of(model: FullyConnectedNet, key: str, X: np.ndarray, y: np.ndarray, seed: int = 0):
    """value -> model's loss with params[key] = value, dropout masks from default_rng(seed) at every call."""
    def f(value):
        saved = model.params[key]
        model.params[key] = value
        try:
            return model.loss(X, y, rng=np.random.default_rng(seed))[0]
        finally:
            model.params[key] = saved
    return f


def torch_fc_loss(params: dict, X: np.ndarray, y: np.ndarray, reg: float, keep: float, seed: int = 0):
    """The loss and the gradient of every parameter by torch.autograd (float64), the masks as in the spec."""
    rng = np.random.default_rng(seed)
    L = len(params) // 2
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    h = torch.tensor(X.reshape(len(X), -1), dtype=torch.float64)
    for i in range(1, L):
        h = torch.relu(h @ t[f"W{i}"].T + t[f"b{i}"])
        if keep < 1:
            h = h * torch.as_tensor(rng.random(tuple(h.shape)) < keep) / keep
    scores = h @ t[f"W{L}"].T + t[f"b{L}"]
    loss = torch.nn.functional.cross_entropy(scores, torch.as_tensor(y))
    loss = loss + reg * sum((t[f"W{i}"] ** 2).sum() for i in range(1, L + 1))
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}


# %% tests="test_fc_net" points=4
model = FullyConnectedNet([7, 5], input_dim=6, num_classes=3, weight_scale=0.5, seed=0)
for key, shape in [("W1", (7, 6)), ("b1", (7,)), ("W2", (5, 7)), ("b2", (5,)), ("W3", (3, 5)), ("b3", (3,))]:
    cu.check_shape(model.params.get(key), shape, f"params[{key!r}] of FullyConnectedNet([7, 5], input_dim=6, "
                   "num_classes=3)", hint="W_l has one row per unit of layer l: shape (out_l, in_l)")
cu.check_equal(sorted(model.params), ["W1", "W2", "W3", "b1", "b2", "b3"], "the keys of params")
expected_W1 = 0.5 * np.random.default_rng(0).standard_normal((7, 6))
cu.check_close(model.params["W1"], expected_W1, "W1 for seed 0",
               hint="W1 = weight_scale * self.rng.standard_normal((7, 6)), the FIRST draw from self.rng")
cu.check_close(model.params["b2"], np.zeros(5), "b2", hint="biases start at zero")
rng = np.random.default_rng(1)
X, y = rng.normal(size=(4, 2, 3)), np.array([0, 2, 1, 2])
scores = model.loss(X)
cu.check_shape(scores, (4, 3), "model.loss(X) in test mode (scores)")
# All weights zero: every class gets the same score, the loss is log C.
zero_model = FullyConnectedNet([7, 5], input_dim=6, num_classes=3, seed=0)
zero_model.params = {k: np.zeros_like(v) for k, v in model.params.items()}
cu.check_close(zero_model.loss(X, y)[0], np.log(3), "the loss with all-zero weights",
               hint="with equal scores softmax is uniform, so the loss is log(C) = log 3")
# Depths 1, 2 and 3, with and without regularisation and dropout: every gradient against
# centred differences and against torch.autograd.
for hidden, reg, keep in [([], 0.0, 1.0), ([7], 0.1, 1.0), ([7, 5], 0.0, 1.0), ([7, 5], 0.1, 1.0),
                          ([7, 5], 0.0, 0.6), ([7, 5], 0.1, 0.6)]:
    m = FullyConnectedNet(hidden, input_dim=6, num_classes=3, weight_scale=0.5, reg=reg, dropout_keep=keep, seed=3)
    for key in [k for k in m.params if k.startswith("b")]:  # biases away from 0, so no unit sits on the ReLU kink
        m.params[key] = rng.normal(scale=0.3, size=m.params[key].shape)
    setting = f"hidden_dims={hidden}, reg={reg}, dropout_keep={keep}"
    loss, grads = m.loss(X, y, rng=np.random.default_rng(0))
    loss_t, grads_t = torch_fc_loss(m.params, X, y, reg, keep)
    cu.check_close(loss, loss_t, f"the loss ({setting}) vs PyTorch", rtol=1e-9,
                   hint="loss = softmax loss + reg · Σ_l ‖W_l‖² (weights only, not biases); dropout after "
                        "each hidden ReLU, masks drawn from rng in layer order, none after the last layer")
    for key in m.params:
        cu.check_close(grads[key], grads_t[key], f"grads[{key!r}] ({setting}) vs torch.autograd", rtol=1e-8,
                       atol=1e-10, hint="go backward in reverse order, each layer with its own cache (dropout's "
                                        "too); each weight's gradient gets + 2 · reg · W (the derivative of reg · W²)")
        cu.check_gradient(net_loss_of(m, key, X, y), m.params[key], grads[key], name=f"grads[{key!r}] ({setting})")
    print(f"{setting:45} loss {loss:.4f}, every gradient agrees")
model_dropout = FullyConnectedNet([7, 5], input_dim=6, num_classes=3, weight_scale=0.5, dropout_keep=0.5, seed=0)
cu.check_close(model_dropout.loss(X), model_dropout.loss(X), "test-mode scores, called twice",
               hint="in test mode (y=None) the network must not drop anything")
loss_a, loss_b = model_dropout.loss(X, y)[0], model_dropout.loss(X, y)[0]
cu.check_equal(bool(loss_a != loss_b), True, "two training-mode losses without rng differ (new masks)",
               hint="without an rng argument the masks come from self.rng, which moves on at every call")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report, report_call, report_gradient

_rng = hidden_rng(307)
_X, _y = _rng.normal(size=(7, 2, 4)), _rng.integers(0, 4, size=7)
_y[:4] = [0, 1, 2, 3]


def _grader_params(hidden, scale=0.6):
    r = hidden_rng(308 + len(hidden))
    dims = [8, *hidden, 4]
    params = {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = scale * r.normal(size=(dims[i], dims[i - 1]))
        params[f"b{i}"] = 0.3 * r.normal(size=dims[i])
    return params


def _net(hidden, reg=0.0, keep=1.0):
    m = FullyConnectedNet(hidden, input_dim=8, num_classes=4, weight_scale=0.1, reg=reg, dropout_keep=keep,
                          seed=hidden_seed(310))
    m.params = {k: v.copy() for k, v in _grader_params(hidden).items()}
    return m


def _flat(m, X, y, seed=None):
    rng = None if seed is None else np.random.default_rng(seed)
    loss, grads = m.loss(X, y, rng=rng)
    return (float(loss),) + tuple(grads[k] for k in sorted(m.params))


def _init_params():
    m = FullyConnectedNet([6, 5, 3], input_dim=9, num_classes=4, weight_scale=0.03, seed=hidden_seed(311))
    return tuple(m.params[k] for k in ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"])


report("init: every parameter (shapes, the draws from self.rng in order, zero biases)", _init_params, rtol=1e-12)
report("test mode: scores of a 3-hidden-layer net with dropout (nothing dropped)",
       lambda: _net([6, 5, 3], keep=0.5).loss(_X.copy()), rtol=1e-9)
for _hidden in [[], [6], [6, 5], [6, 5, 3]]:
    report(f"loss and gradients, hidden_dims={_hidden}, no regularisation",
           lambda h=_hidden: _flat(_net(h), _X, _y), rtol=1e-8, atol=1e-12)
    report(f"loss and gradients, hidden_dims={_hidden}, reg = 0.07",
           lambda h=_hidden: _flat(_net(h, reg=0.07), _X, _y), rtol=1e-8, atol=1e-12)
report("loss and gradients with dropout (keep = 0.6) and reg, masks from a seeded rng",
       lambda: _flat(_net([6, 5], reg=0.05, keep=0.6), _X, _y, seed=hidden_seed(312)), rtol=1e-8, atol=1e-12)
report_call("loss and gradients with dropout and reg, called twice; X and y left unchanged",
            lambda X, y: _flat(_net([6, 5, 3], reg=0.05, keep=0.7), X, y, seed=hidden_seed(313)), _X.copy(),
            _y.copy(), rtol=1e-8, atol=1e-12)


def _own_masks():
    # Without rng: masks from self.rng, which moves on; three calls give three (reference-identical) losses.
    m = _net([6, 5], keep=0.5)
    return np.array([m.loss(_X, _y)[0] for _ in range(3)])


report("dropout masks from self.rng when no rng is given, three training steps", _own_masks, rtol=1e-8)


def _with_param(key, value, output):
    # The grader's own function of one parameter: a fresh net (dropout, reg), params[key] = value,
    # masks from a generator seeded the same way at every call. output 0: the loss, 1: grads[key].
    m = _net([6, 5], reg=0.05, keep=0.6)
    m.params[key] = value
    result = m.loss(_X, _y, rng=np.random.default_rng(hidden_seed(315)))
    return result[0] if output == 0 else result[1][key]


for _key in ["W1", "b1", "W2", "W3"]:
    report_gradient(f"grads[{_key!r}] with dropout and reg agree with the numerical gradient",
                    lambda v, k=_key: _with_param(k, v, 0), lambda v, k=_key: _with_param(k, v, 1),
                    _grader_params([6, 5])[_key], rtol=1e-8, h=1e-5, numeric_tol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. A trainer that takes the update rule as an argument
#
# The network computes a loss and gradients; how the parameters move is a separate
# decision, so the trainer takes it as an argument. An **update rule** is a function
#
# `update_rule(w, dw, config) -> (next_w, config)`
#
# where `config` holds the rule's hyperparameters (the learning rate `"lr"` ...) and any
# state it keeps between steps. Plain SGD is given:

# %%
def sgd(w: np.ndarray, dw: np.ndarray, config: dict) -> tuple[np.ndarray, dict]:
    """Given. Plain SGD: w ← w − η dw. config: "lr" (default 1e-2)."""
    config.setdefault("lr", 1e-2)
    return w - config["lr"] * dw, config


# %% [markdown]
# **SGD with momentum** keeps a **velocity** $v$, a decaying sum of past gradients, and steps
# along it:
#
# $$ v \leftarrow \mu\, v + \nabla L, \qquad w \leftarrow w - \eta\, v, \qquad v_0 = 0, $$
#
# with momentum $\mu$ around 0.9. Gradients that keep pointing the same way add up in $v$ (on
# a steady slope the step grows to $\eta / (1 - \mu)$, ten times SGD's), while gradients that
# flip sign from step to step cancel. This is the form `torch.optim.SGD(momentum=μ)` uses;
# notebook 04 studies it and its successors in depth. The velocity is **state**: it lives in
# `config["velocity"]` (zeros of $w$'s shape at the start) and must hold the new velocity when
# the rule returns.
#
# ### Exercise 5: SGD with momentum

# %% solution="sgd_momentum"
def sgd_momentum(w: np.ndarray, dw: np.ndarray, config: dict) -> tuple[np.ndarray, dict]:
    """v ← μ v + dw, w ← w − η v. config: "lr" η (1e-2), "momentum" μ (0.9), "velocity" v (zeros like w)."""
    config.setdefault("lr", 1e-2)
    config.setdefault("momentum", 0.9)
    config.setdefault("velocity", np.zeros_like(w))
    ### BEGIN SOLUTION
    v = config["momentum"] * config["velocity"] + dw
    next_w = w - config["lr"] * v
    config["velocity"] = v
    return next_w, config
    ### END SOLUTION


# %% tests="test_sgd_momentum" points=2
# By hand: w = (1, −2), the gradient (0.5, 0.5) twice, η = 0.1, μ = 0.9.
w_ex, dw_ex = np.array([1.0, -2.0]), np.array([0.5, 0.5])
config = {"lr": 0.1, "momentum": 0.9}
w1, config = sgd_momentum(w_ex, dw_ex, config)
cu.check_close(w1, [0.95, -2.05], "first step (v = dw)",
               hint="step AGAINST the gradient: w − lr · v; the velocity starts at 0, so the first step is SGD's")
w2, config = sgd_momentum(w1, dw_ex, config)
cu.check_close(config.get("velocity"), [0.95, 0.95], "config['velocity'] after two steps",
               hint="v ← μ v + dw = 0.9 · 0.5 + 0.5; store the NEW v in config['velocity']")
cu.check_close(w2, [0.855, -2.145], "second step", hint="w ← w − lr · v with the new velocity")
rng = np.random.default_rng(1)
w, grads = rng.normal(size=(3, 4)), rng.normal(size=(8, 3, 4))
w_t = torch.tensor(w, requires_grad=True)
optimizer = torch.optim.SGD([w_t], lr=0.05, momentum=0.8)
config = {"lr": 0.05, "momentum": 0.8}
for g in grads:
    w, config = sgd_momentum(w, g, config)
    w_t.grad = torch.tensor(g)
    optimizer.step()
cu.check_close(w, w_t.detach().numpy(), "8 steps vs torch.optim.SGD(momentum=0.8)", rtol=1e-9)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call


def _trajectory(w0, grads, **config):
    w, config = np.array(w0, dtype=np.float64), dict(config)
    steps = []
    for g in grads:
        w, config = sgd_momentum(w, np.array(g, dtype=np.float64), config)
        steps.append(np.array(w, dtype=np.float64))
    return np.array(steps)


def _one_step(w, dw, v):
    # The velocity is the rule's own state (updating it in place is allowed): hand it a copy.
    next_w, config = sgd_momentum(w, dw, {"lr": 0.04, "momentum": 0.7, "velocity": v.copy()})
    return next_w, config["velocity"]


_rng = hidden_rng(317)
_w0, _grads = _rng.normal(size=(4, 3)), _rng.normal(size=(10, 4, 3))
report("10 steps on unseen gradients", lambda: _trajectory(_w0, _grads, lr=0.03, momentum=0.85), rtol=1e-9)
report("with the default lr and momentum", lambda: _trajectory(_w0, _grads[:4]), rtol=1e-9)
report("a constant gradient: the velocity builds up",
       lambda: _trajectory(np.zeros(3), np.ones((25, 3)), lr=0.01, momentum=0.9), rtol=1e-9)
report_call("one step from a saved velocity: new w and velocity; w and dw left unchanged",
            _one_step, _w0.copy(), _grads[0].copy(), _rng.normal(size=(4, 3)), rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### The trainer
#
# `train(model, data, update_rule, config, epochs, batch_size, seed)` runs minibatch training
# for a fixed amount of work: `epochs` passes over `data["X_train"]`, in minibatches of
# `batch_size`. `model` is anything with a `params` dictionary and a `loss(X, y=None)` method
# like `FullyConnectedNet`'s. Precisely (the hidden tests replay your loop with a model and an
# update rule of their own and compare every step with the reference's):
#
# * `rng = np.random.default_rng(seed)`; its only draws are one `rng.permutation(N)` at the
#   start of every epoch; the minibatches are `order[0:batch_size]`,
#   `order[batch_size:2 * batch_size]`, ..., the last one possibly smaller;
# * **every parameter gets its own copy of `config`** (`{key: dict(config) for key in
#   model.params}`): the velocity of `W1` is not the velocity of `b1`, and the caller's
#   `config` is left unchanged;
# * for each minibatch, `loss, grads = model.loss(X_batch, y_batch)`; record `loss` (before
#   the step) in `history["loss"]`; then for every key,
#   `model.params[key], configs[key] = update_rule(model.params[key], grads[key], configs[key])`;
# * after every epoch, record `accuracy(model, X, y)` (given below) on the whole training set
#   in `history["train_acc"]` and on `data["X_val"]`, `data["y_val"]` in `history["val_acc"]`.
#
# `accuracy` runs the model in test mode, so dropout never touches these accuracies.

# %%
def accuracy(model, X: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    """Given. The fraction of X that model classifies as y (test mode: model.loss(X) returns scores)."""
    predictions = [np.argmax(model.loss(X[i:i + batch_size]), axis=1) for i in range(0, len(X), batch_size)]
    return float(np.mean(np.concatenate(predictions) == y))


# %% [markdown]
# ### Exercise 6: the trainer

# %% solution="train"
def train(model, data: dict, update_rule, config: dict, epochs: int = 10, batch_size: int = 50,
          seed: int = 0) -> dict[str, list[float]]:
    """Minibatch training. data: "X_train", "y_train", "X_val", "y_val".

    Returns {"loss": one per minibatch, "train_acc": one per epoch, "val_acc": one per epoch}.
    """
    rng = np.random.default_rng(seed)
    X, y = data["X_train"], data["y_train"]
    history = {"loss": [], "train_acc": [], "val_acc": []}
    ### BEGIN SOLUTION
    configs = {key: dict(config) for key in model.params}
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            loss, grads = model.loss(X[batch], y[batch])
            history["loss"].append(float(loss))
            for key in model.params:
                model.params[key], configs[key] = update_rule(model.params[key], grads[key], configs[key])
        history["train_acc"].append(accuracy(model, X, y))
        history["val_acc"].append(accuracy(model, data["X_val"], data["y_val"]))
    ### END SOLUTION
    return history


# %% [markdown]
# The data: Fashion-MNIST images as $(N, 28, 28)$ arrays (the affine layer flattens them),
# scaled to zero mean and unit variance with the training set's pixel statistics, in
# float64. We use small subsets throughout, so that everything trains in seconds; the
# validation images are 1,000 images the networks never train on.

# %%
X_train_raw, y_train_all = cu.load_fashion_mnist("train")
X_val_raw, y_val_all = cu.load_fashion_mnist("val")
pixel_mean, pixel_std = X_train_raw.mean() / 255, X_train_raw.std() / 255


def prepare(X_raw: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float64, standardised with the training set's pixel statistics."""
    return (X_raw / 255 - pixel_mean) / pixel_std


X_val, y_val = prepare(X_val_raw[:1000]), y_val_all[:1000]


def subset(n: int) -> dict:
    """The first n training images and the 1,000 validation images, as train() expects them."""
    return {"X_train": prepare(X_train_raw[:n]), "y_train": y_train_all[:n], "X_val": X_val, "y_val": y_val}


print(subset(50)["X_train"].shape, X_val.shape)

# %% tests="test_train" points=3
small = subset(200)
config = {"lr": 0.01, "momentum": 0.9}
model = FullyConnectedNet([50], weight_scale=0.05, seed=0)
try:
    history = train(model, small, sgd_momentum, config, epochs=3, batch_size=64, seed=0)
except ValueError as error:
    raise AssertionError(f"train raised ValueError: {error}. Does every parameter have its own config? "
                         "With one shared dict, the velocity of W1 is handed to b1.") from error
cu.check_equal(len(history["loss"]), 3 * 4, "the number of recorded losses",
               hint="one loss per minibatch: 200 images in minibatches of 64 make 4 minibatches (the last has 8)")
cu.check_equal(len(history["train_acc"]), 3, "the number of training accuracies (one per epoch)")
cu.check_equal(config, {"lr": 0.01, "momentum": 0.9}, "the caller's config after train",
               hint="give every parameter its own copy: {key: dict(config) for key in model.params}")
print(f"loss: first minibatch {history['loss'][0]:.3f}, last {history['loss'][-1]:.3f}; "
      f"training accuracy per epoch {np.round(history['train_acc'], 3)}")
assert history["loss"][-1] < history["loss"][0] - 0.5, (
    "the loss should fall by more than 0.5 in 12 steps; does the update use the gradient of the SAME minibatch "
    "(X[batch] and y[batch]) and store the new parameters back in model.params?")
again = train(FullyConnectedNet([50], weight_scale=0.05, seed=0), small, sgd_momentum, config, epochs=3,
              batch_size=64, seed=0)
cu.check_close(again["loss"], history["loss"], "the losses of a second run with the same seeds",
               hint="all randomness comes from the seeds: rng = np.random.default_rng(seed) for the order")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report_call


class _GraderModel:
    """Softmax regression, written by the grader, with the interface of FullyConnectedNet."""

    def __init__(self, D, C):
        r = hidden_rng(319)
        self.params = {"W": 0.3 * r.normal(size=(C, D)), "b": 0.1 * r.normal(size=C)}

    def loss(self, X, y=None):
        S = X.reshape(len(X), -1) @ self.params["W"].T + self.params["b"]
        if y is None:
            return S
        S = S - S.max(axis=1, keepdims=True)
        logp = S - np.log(np.exp(S).sum(axis=1, keepdims=True))
        n = len(y)
        dS = np.exp(logp)
        dS[np.arange(n), y] -= 1
        dS /= n
        return float(-logp[np.arange(n), y].mean()), {"W": dS.T @ X.reshape(n, -1), "b": dS.sum(axis=0)}


def _grader_rule(w, dw, config):
    # Momentum with a per-parameter step counter: a shared config, a missing copy or a skipped
    # parameter all change the trajectory.
    config["steps"] = config.get("steps", 0) + 1
    v = config["mu"] * config.get("v", np.zeros_like(w)) + dw
    config["v"] = v
    return w - config["lr"] / config["steps"] ** 0.5 * v, config


def _replay(X, y, Xv, yv):
    model = _GraderModel(6, 3)
    config = {"lr": 0.4, "mu": 0.5}
    history = train(model, {"X_train": X, "y_train": y, "X_val": Xv, "y_val": yv}, _grader_rule, config,
                    epochs=3, batch_size=16, seed=hidden_seed(320))
    return (np.asarray(history["loss"], dtype=np.float64), np.asarray(history["train_acc"], dtype=np.float64),
            np.asarray(history["val_acc"], dtype=np.float64), model.params["W"], model.params["b"],
            np.array([len(config)], dtype=np.int64))


_rl = hidden_rng(321)
_X, _y = _rl.normal(size=(40, 2, 3)), np.concatenate([[0, 1, 2], _rl.integers(0, 3, size=37)])
_Xv, _yv = _rl.normal(size=(11, 2, 3)), _rl.integers(0, 3, size=11)
report_call("minibatch training, step by step: every loss, accuracies, final parameters, config untouched; "
            "data left unchanged", _replay, _X.copy(), _y.copy(), _Xv.copy(), _yv.copy(), rtol=1e-8, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Experiments
#
# ### A deeper network memorises 50 images
#
# A standard sanity check for a new model and training loop: can it drive the training loss
# to zero on a **tiny** training set? A network with four hidden layers of 100 units has
# about 110,000 weights; 50 images cannot stop it from memorising every one of them. If it
# cannot, something is broken (a gradient, the update, the data pipeline); if it can, it
# shows the other side too: perfect training accuracy says nothing about new images.

# %%
with cu.needs_your_code():
    tiny = subset(50)
    deep = FullyConnectedNet([100, 100, 100, 100], weight_scale=0.1, seed=0)
    start = time.perf_counter()
    deep_history = train(deep, tiny, sgd_momentum, {"lr": 0.01, "momentum": 0.9}, epochs=20, batch_size=10, seed=0)
    deep_seconds = time.perf_counter() - start
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.5))
    ax_loss.plot(deep_history["loss"])
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("training loss")
    ax_loss.set_yscale("log")
    epochs_axis = np.arange(1, 21)
    ax_acc.plot(epochs_axis, deep_history["train_acc"], "o-", label="training (50 images)")
    ax_acc.plot(epochs_axis, deep_history["val_acc"], "s-", label="validation (1,000 images)")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1.02)
    ax_acc.legend()
    fig.suptitle("4 hidden layers of 100 units, 50 training images")
    plt.show()
    overfit_train, overfit_val = deep_history["train_acc"][-1], deep_history["val_acc"][-1]
    print(f"after 20 epochs ({deep_seconds:.1f} s): training accuracy {overfit_train:.2f}, "
          f"validation accuracy {overfit_val:.3f}, final minibatch loss {deep_history['loss'][-1]:.4f}")
    assert overfit_train == 1.0, "the text says the deep net classifies all 50 training images correctly"
    assert overfit_val < 0.65, "the text says validation accuracy stays far below the training accuracy"

# %% [markdown]
# Every training image is classified correctly and the loss is nearly zero, while fewer than
# two validation images in three are: the network has memorised the 50 images rather than
# learned what a sandal looks like. That is **overfitting** in its plainest form.
#
# ### A deep network with tiny weights does not learn
#
# Now the same network with `weight_scale = 1e-3` instead of 0.1, trained the same way.

# %%
with cu.needs_your_code():
    tiny_init = FullyConnectedNet([100, 100, 100, 100], weight_scale=1e-3, seed=0)
    tiny_history = train(tiny_init, tiny, sgd_momentum, {"lr": 0.01, "momentum": 0.9}, epochs=20, batch_size=10,
                         seed=0)
    # The size of each hidden layer's activations at initialisation, for both scales.
    stds = {}
    for scale in (1e-3, 0.1):
        probe = FullyConnectedNet([100, 100, 100, 100], weight_scale=scale, seed=0)
        h, stds[scale] = tiny["X_train"], []
        for i in range(1, 5):
            h, _ = affine_relu_forward(h, probe.params[f"W{i}"], probe.params[f"b{i}"])
            stds[scale].append(h.std())
    fig, (ax_loss, ax_std) = plt.subplots(1, 2, figsize=(11, 3.5))
    ax_loss.plot(deep_history["loss"], label="weight_scale = 0.1")
    ax_loss.plot(tiny_history["loss"], label="weight_scale = 1e-3")
    ax_loss.axhline(np.log(10), color="gray", ls="--", lw=1, label="log 10")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("training loss")
    ax_loss.set_yscale("log")
    ax_loss.legend()
    for scale, values in stds.items():
        ax_std.semilogy(range(1, 5), values, "o-", label=f"weight_scale = {scale:g}")
    ax_std.set_xticks(range(1, 5))
    ax_std.set_xlabel("hidden layer")
    ax_std.set_ylabel("std of its activations at init")
    ax_std.legend()
    plt.show()
    frequencies = np.bincount(tiny["y_train"]) / len(tiny["y_train"])
    majority = frequencies.max()
    label_entropy = -np.sum(frequencies[frequencies > 0] * np.log(frequencies[frequencies > 0]))
    tiny_loss = tiny_init.loss(tiny["X_train"], tiny["y_train"])[0]
    print(f"weight_scale 1e-3: loss on the 50 images {tiny_loss:.4f} (log 10 = {np.log(10):.4f}, entropy of the "
          f"labels {label_entropy:.4f}); training accuracy {tiny_history['train_acc'][-1]:.2f} (always guessing "
          f"the most common class: {majority:.2f})")
    print("activation std per hidden layer at init:",
          {scale: [f"{v:.1e}" for v in values] for scale, values in stds.items()})
    assert tiny_history["train_acc"][-1] <= majority + 1e-9, \
        "the text says the tiny-init net does no better than always guessing the most common class"
    assert label_entropy - 0.01 < tiny_loss < label_entropy + 0.02, \
        "the text says the loss ends at about the entropy of the labels, no lower"
    assert stds[1e-3][-1] < 1e-8, "the text says the last hidden layer's activations are below 1e-8"

# %% [markdown]
# With tiny weights the loss starts at $\log 10 \approx 2.30$, where every class is equally
# likely, and falls only to about the **entropy of the 50 labels**, $-\sum_k p_k \log p_k \approx 2.19$
# with $p_k$ the fraction of images in class $k$ (it ends at 2.20): the best any model can do while
# ignoring its input, by predicting the class frequencies (the output biases learn them). The training
# accuracy never gets past always guessing the most common class. The right panel shows why. Each layer multiplies its input by weights of size about 1e-3 and sums
# 100 of them, so the activations shrink by a factor of roughly 100 per layer: after four layers
# they are below $10^{-8}$, and the scores are essentially the output biases. The backward pass
# multiplies by the same small weights on the way down, so the gradients of the early layers
# are just as tiny: nothing moves. (The cure, a scale that depends on the layer's fan-in, is
# He initialisation from notebook 03; notebook 04 returns to it.)
#
# **Question.** Which statement explains why the five-layer network with `weight_scale = 1e-3`
# does not learn?
#
# * (a) The learning rate is too large, so every step overshoots.
# * (b) Each layer scales the signal down by about $\text{weight\_scale} \cdot \sqrt{\text{fan-in}}
#   \ll 1$, so the scores barely depend on the input and the gradients reaching the early
#   layers are vanishingly small.
# * (c) All ReLU units are dead, because the biases start at zero.
#
# Set `tiny_init_answer` to "a", "b" or "c".

# %% solution="choice_tiny_init"
### BEGIN SOLUTION
tiny_init_answer = "b"
### END SOLUTION

# %% tests="test_choice_tiny_init" points=1
cu.check_choice(tiny_init_answer, "abc", "tiny_init_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", tiny_init_answer)
### END HIDDEN TESTS

# %% [markdown]
# **Question.** The deep network reached 100 % training accuracy on 50 images but stays far
# lower on the validation images. Why is that possible, and why is "overfit a tiny training
# set" still a good first test of a new network and training loop?

# %% [markdown] answer="explain_overfit_tiny_set" points=1
# *Model answer.* The network has about 110,000 weights and only 50 examples to fit, so many
# weight settings classify all 50 perfectly; training finds one that separates these
# particular images (their exact pixels, even their noise) rather than features that hold
# for the whole class, and nothing in the loss asks for more. Accuracy on images it never saw
# measures that, and it stays low. As a test it is useful precisely because memorising is
# easy: a correct model with correct gradients and a working update rule must reach ~100 %
# and a loss near 0 on a tiny set within a few hundred steps. If it cannot, the bug is in the
# code (a wrong gradient, a sign error in the update, labels shuffled separately from the
# images, a learning rate or initialisation far off), and it shows in seconds rather than
# after a long run on the full data.

# %% [markdown]
# ### Dropout narrows the gap between training and validation
#
# Now a wider network, two hidden layers of 256 units, on 1,000 training images for 20
# epochs, once without dropout and once keeping each hidden unit with probability 0.5.
# Everything else, the seeds included, is the same.

# %%
with cu.needs_your_code():
    medium = subset(1000)
    histories = {}
    start = time.perf_counter()
    for keep in (1.0, 0.5):
        net = FullyConnectedNet([256, 256], weight_scale=0.05, dropout_keep=keep, seed=0)
        histories[keep] = train(net, medium, sgd_momentum, {"lr": 0.01, "momentum": 0.9}, epochs=20, batch_size=50,
                                seed=0)
    dropout_seconds = time.perf_counter() - start
    fig, ax = plt.subplots(figsize=(7, 4))
    epochs_axis = np.arange(1, 21)
    for keep, colour in [(1.0, "C0"), (0.5, "C1")]:
        name = "no dropout" if keep == 1.0 else f"dropout, keep = {keep}"
        ax.plot(epochs_axis, histories[keep]["train_acc"], "-", color=colour, label=f"{name}: training")
        ax.plot(epochs_axis, histories[keep]["val_acc"], "--", color=colour, label=f"{name}: validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.legend()
    ax.set_title("2 hidden layers of 256 units, 1,000 training images")
    plt.show()
    gaps = {keep: h["train_acc"][-1] - h["val_acc"][-1] for keep, h in histories.items()}
    for keep, h in histories.items():
        print(f"keep = {keep}: training {h['train_acc'][-1]:.3f}, validation {h['val_acc'][-1]:.3f}, "
              f"gap {gaps[keep]:.3f}")
    print(f"({dropout_seconds:.1f} s for both runs)")
    val_change = histories[0.5]["val_acc"][-1] - histories[1.0]["val_acc"][-1]
    assert gaps[0.5] < 0.7 * gaps[1.0], "the text says dropout makes the gap much narrower (about half)"
    assert histories[0.5]["train_acc"][-1] < histories[1.0]["train_acc"][-1] - 0.04, \
        "the text says dropout lowers the training accuracy"
    assert abs(val_change) < 0.02, "the text says the validation accuracy hardly changes"

# %% [markdown]
# Without dropout the network fits the 1,000 training images almost perfectly and the gap to
# validation is wide; with dropout it is much narrower (about half as wide, here). Look at *how* it narrows,
# though: the training accuracy drops, and the validation accuracy stays where it was (within
# two points). On this small problem and this short run, dropout makes the network fit the
# training set less; it does not make it better on new images. Dropout earns its reputation
# on large networks trained for long, where without it validation accuracy peaks and then
# falls; you will see regularisers at work on the full data set in notebook 04.
#
# ## Summary
#
# * A layer is a pair `forward → (out, cache)`, `backward(dout, cache) → gradients`; a network
#   of any depth is a loop over layers forward, storing every cache, and a loop backward in
#   reverse order, each layer with its own cache.
# * Sandwich layers (affine–ReLU) are built from the pieces, and checked the same way: a
#   numerical gradient in float64, and PyTorch's autograd.
# * Inverted dropout keeps each unit with probability `keep` and divides by `keep` during
#   training, so the test-time network is the plain one. A seeded generator makes the masks
#   reproducible for gradient checks; one generator across steps gives a new mask every step.
# * A trainer that takes an `update_rule(w, dw, config)` works with any optimiser; each
#   parameter keeps its own state.
# * A deep network memorises a tiny set (a good test of the code, a bad sign for
#   generalisation); tiny initial weights make a deep network's signal and gradients vanish.
#
# Next, `04_optimization`: better update rules, learning-rate schedules and regularisation
# on the full data set.
