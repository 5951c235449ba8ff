# %% [markdown]
# # 04b · Normalisation: batch norm and layer norm
#
# Notebook 04 showed that the learning rate and the starting weights decide whether
# gradient descent crawls, converges or blows up. In a deep network the starting weights
# matter even more: every layer multiplies the scale of its input by roughly the same
# factor, so after a few layers the activations (and the gradients) either vanish or
# explode. **Normalisation layers** cut that chain: they rescale the activations inside
# the network to mean 0 and variance 1 at every step of training, whatever the weights
# before them did.
#
# You will implement:
#
# * `batchnorm_forward`, batch normalisation in train mode (statistics of the minibatch,
#   running averages kept for later) and in test mode (those running averages);
# * `batchnorm_backward`, its backward pass through the computation graph, step by step,
#   and `batchnorm_backward_alt`, the same gradient in one simplified formula;
# * `layernorm_forward` and `layernorm_backward`: layer normalisation, which normalises
#   each example on its own and so behaves the same in training and at test time.
#
# Then your NumPy layers go inside real PyTorch networks: deep nets trained with and
# without your batch norm over a range of starting weight scales, and a look at what the
# batch size does to each kind of normalisation.
#
# **Conventions.** Inputs are minibatches `x` of shape (N, D): N examples, D features. The
# learnable scale γ and shift β have shape (D,). As in notebook 03, a forward pass returns
# `(out, cache)` and leaves its inputs unchanged (except `bn_param`, below); a backward pass
# takes `dout` (the gradient of the loss with respect to `out`) and the cache, leaves both
# unchanged, and returns the gradients with respect to each input. Compute in the dtype you
# are given: float64 results are compared with the reference to about $10^{-9}$.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import course_utils as cu

cu.seed_everything(0)
# Small networks: one thread is as fast as several, and stays fast on a busy machine.
torch.set_num_threads(1)

# %% [markdown]
# ## 1. Why normalise: activations through a deep network
#
# Take a stack of fully connected layers with ReLUs, each with 100 units, and draw every
# weight from $\mathcal{N}(0, s^2)$. A unit sums 100 inputs times weights of standard deviation
# $s$, and the ReLU keeps about half of the result, so each layer multiplies the typical size
# of the activations by about $s \sqrt{100 / 2}$. That factor is 1 only for
# $s = \sqrt{2 / 100} \approx 0.14$ (He initialisation); for any other $s$ the scale shrinks
# or grows **geometrically** with depth. Below: the standard deviation of the activations
# after each of 8 layers, for 500 Fashion-MNIST-sized random inputs.

# %%
def activation_stds(scale: float, depth: int = 8, width: int = 100, seed: int = 0) -> list[float]:
    """Standard deviation of the activations after each ReLU layer of a plain net with N(0, scale²) weights."""
    generator = torch.Generator().manual_seed(seed)
    h = torch.randn(500, 784, generator=generator)
    stds, fan_in = [], 784
    for _ in range(depth):
        W = torch.randn(fan_in, width, generator=generator) * scale
        h = torch.relu(h @ W)
        stds.append(float(h.std()))
        fan_in = width
    return stds


init_scales = {"s = 0.01": 0.01, "s = 0.14 (He)": np.sqrt(2 / 100), "s = 0.5": 0.5}
init_stds = {label: activation_stds(s) for label, s in init_scales.items()}
fig, ax = plt.subplots(figsize=(6, 4))
for label, stds in init_stds.items():
    ax.semilogy(range(1, 9), stds, "o-", label=label)
ax.set_xlabel("layer")
ax.set_ylabel("standard deviation of the activations")
ax.set_title("activations through 8 ReLU layers of 100 units")
ax.legend()
plt.show()
he_growth = init_stds["s = 0.14 (He)"][-1] / init_stds["s = 0.14 (He)"][1]
small_growth = init_stds["s = 0.01"][-1] / init_stds["s = 0.01"][1]
large_growth = init_stds["s = 0.5"][-1] / init_stds["s = 0.5"][1]
print(f"change of scale from layer 2 to layer 8: He {he_growth:.2f}×, s = 0.01 {small_growth:.1e}×, "
      f"s = 0.5 {large_growth:.1e}×")
assert 0.3 < he_growth < 3 and small_growth < 1e-5 and large_growth > 1e3, "the claim below no longer holds"

# %% [markdown]
# With He's scale the activations keep their size through all 8 layers; a factor of 14 too
# small and they shrink by more than $10^{5}$ between layers 2 and 8, a factor of 3.5 too large
# and they grow by more than $10^{3}$. Backpropagation multiplies by the same weights on the
# way down, so the gradients of the first layers vanish or explode with them. A good
# initialisation fixes the scale *at the start*, but the weights change during training, and
# with them the scale of every later layer's input.
#
# ## 2. Batch normalisation
#
# **Batch normalisation** (Ioffe and Szegedy, 2015) normalises each feature over the
# minibatch. For a minibatch $x$ of shape $(N, D)$ and each feature $j$:
#
# $$ \mu_j = \frac{1}{N}\sum_{i=1}^{N} x_{ij}, \qquad
#    \sigma_j^2 = \frac{1}{N}\sum_{i=1}^{N} (x_{ij} - \mu_j)^2, \qquad
#    \hat x_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \varepsilon}}, \qquad
#    y_{ij} = \gamma_j\, \hat x_{ij} + \beta_j . $$
#
# * $\hat x$ has mean 0 and variance (almost) 1 in every column, whatever the scale of $x$.
#   The small $\varepsilon$ (default $10^{-5}$) is added **inside** the square root, so a
#   feature that is constant over the batch gives $0 / \sqrt{\varepsilon} = 0$ instead of
#   $0/0$.
# * $\sigma_j^2$ is the **biased** variance (divided by $N$), as in the paper and in PyTorch.
# * $\gamma$ and $\beta$ are learned. With $\gamma_j = \sigma_j$ and $\beta_j = \mu_j$ the
#   layer could undo the normalisation entirely, so it never makes the network less
#   expressive; it only changes how the parameters are expressed.
#
# **At test time** there may be a single example, and a prediction must not depend on which
# other examples happen to share its batch. So during training the layer keeps
# **running averages** of the batch statistics, and in test mode it normalises with those:
#
# $$ \text{running\_mean} \leftarrow (1 - m)\, \text{running\_mean} + m\, \mu, \qquad
#    \text{running\_var} \leftarrow (1 - m)\, \text{running\_var} + m\, \tfrac{N}{N-1}\sigma^2 , $$
#
# starting from zeros and ones. We follow PyTorch's `BatchNorm1d` exactly, so that you can
# compare with it:
#
# * the **momentum** $m$ (default 0.1) is the weight of the *new* batch. (Careful: Keras and
#   some courses call $1 - m$ the momentum, 0.9 or 0.99, the weight of the *old* value.)
# * the running variance averages the **unbiased** estimate $\frac{N}{N-1}\sigma^2$ of the
#   variance, while the normalisation itself uses the biased $\sigma^2$.
#
# The layer's state lives in a dictionary `bn_param`: `"mode"` (`"train"` or `"test"`),
# `"eps"`, `"momentum"`, `"running_mean"` and `"running_var"`. The first lines of the
# function read it and fill in the defaults; in train mode your code must store the updated
# running averages back into `bn_param`; in test mode it must leave them alone.
#
# ### Exercise 1: batch normalisation, forward
#
# Keep in the cache whatever your backward pass (next exercise) will need. Writing the
# forward pass in small steps (μ, then $x - \mu$, then $\sigma^2$, ...) makes the backward
# pass easier.

# %% solution="batchnorm_forward"
def batchnorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict) -> tuple[np.ndarray, object]:
    """Batch normalisation. x: (N, D), gamma, beta: (D,) -> (out (N, D), cache).

    bn_param: "mode" ("train" or "test"), "eps" (1e-5), "momentum" (0.1), "running_mean"
    (zeros (D,) at first) and "running_var" (ones (D,) at first). Train mode (N >= 2):
    normalise with the batch's mean and biased variance, and store the updated running
    averages in bn_param. Test mode: normalise with the running averages, bn_param unchanged.
    """
    mode = bn_param.get("mode", "train")
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.1)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(D, dtype=x.dtype))
    ### BEGIN SOLUTION
    if mode == "train":
        mu = x.mean(axis=0)  # (D,) one mean per feature
        xc = x - mu  # (N, D)
        var = np.mean(xc**2, axis=0)  # (D,) biased: divides by N
        std = np.sqrt(var + eps)  # (D,)
        xhat = xc / std  # (N, D)
        out = gamma * xhat + beta
        cache = (xc, std, xhat, gamma)
        bn_param["running_mean"] = (1 - momentum) * running_mean + momentum * mu
        bn_param["running_var"] = (1 - momentum) * running_var + momentum * var * N / (N - 1)
    elif mode == "test":
        std = np.sqrt(running_var + eps)
        xhat = (x - running_mean) / std
        out = gamma * xhat + beta
        cache = (x - running_mean, std, xhat, gamma)
    else:
        raise ValueError(f'bn_param["mode"] must be "train" or "test", not {mode!r}')
    return out, cache
    ### END SOLUTION


# %% [markdown]
# The test below starts with a worked example. Four examples, two features:
#
# $$ x = \begin{pmatrix} 1 & 2 \\ 1 & 6 \\ 3 & 2 \\ 3 & 6 \end{pmatrix}, \qquad
#    \mu = (2, 4), \qquad \sigma^2 = (1, 4), \qquad
#    \hat x = \begin{pmatrix} -1 & -1 \\ -1 & 1 \\ 1 & -1 \\ 1 & 1 \end{pmatrix}
#    \quad (\varepsilon = 0). $$
#
# With $\gamma = (2, 0.5)$ and $\beta = (0, 1)$ the output is $2\hat x_{:,1}$ and
# $0.5\hat x_{:,2} + 1$. After this one call, from running averages $(0, 0)$ and $(1, 1)$
# with $m = 0.1$: running_mean $= 0.1 \cdot (2, 4) = (0.2, 0.4)$ and running_var
# $= 0.9 \cdot 1 + 0.1 \cdot \tfrac{4}{3}(1, 4) = (1.0\overline{3}, 1.4\overline{3})$.
# Then it compares your layer with PyTorch's `F.batch_norm` over several steps.

# %%
def torch_batchnorm_steps(xs, gamma, beta, eps=1e-5, momentum=0.1):
    """PyTorch's batch norm on each x of xs in train mode, then on the last in eval mode.

    -> (train outputs, running_mean, running_var, test output), as NumPy arrays.
    """
    D = xs[0].shape[1]
    mean, var = torch.zeros(D, dtype=torch.float64), torch.ones(D, dtype=torch.float64)
    g, b = torch.tensor(gamma), torch.tensor(beta)
    outs = [F.batch_norm(torch.tensor(x), mean, var, g, b, training=True, momentum=momentum, eps=eps).numpy()
            for x in xs]
    test = F.batch_norm(torch.tensor(xs[-1]), mean, var, g, b, training=False, eps=eps).numpy()
    return outs, mean.numpy(), var.numpy(), test


# %% tests="test_batchnorm_forward" points=3
x_ex = np.array([[1.0, 2.0], [1.0, 6.0], [3.0, 2.0], [3.0, 6.0]])
x_before = x_ex.copy()
ones, zeros = np.ones(2), np.zeros(2)
out, _ = batchnorm_forward(x_ex, ones, zeros, {"mode": "train", "eps": 0.0})
cu.check_shape(out, (4, 2), "batchnorm_forward(x, γ, β, bn_param)[0]")
cu.check_close(x_ex, x_before, "x after batchnorm_forward", hint="don't modify x in place (x -= mu changes the caller's array)")
cu.check_close(out.mean(axis=0), [0.0, 0.0], "the mean of each feature (column) of out, with γ = 1, β = 0",
               hint="one mean and one variance PER FEATURE: average over the batch, axis=0")
cu.check_close(out.std(axis=0), [1.0, 1.0], "the standard deviation of each feature of out, with γ = 1, β = 0",
               hint="x̂ = (x − μ) / sqrt(σ² + ε) with the biased variance σ² = mean((x − μ)²): "
                    "divide by N, not N − 1")
bn_param = {"mode": "train", "eps": 0.0, "running_mean": np.zeros(2), "running_var": np.ones(2)}
out, _ = batchnorm_forward(x_ex, np.array([2.0, 0.5]), np.array([0.0, 1.0]), bn_param)
cu.check_close(out, [[-2.0, 0.5], [-2.0, 1.5], [2.0, 0.5], [2.0, 1.5]], "the worked example, γ = (2, 0.5), β = (0, 1)",
               hint="out = γ · x̂ + β: γ scales, β shifts")
cu.check_close(bn_param["running_mean"], [0.2, 0.4], 'bn_param["running_mean"] after one step from 0',
               hint="running_mean ← (1 − momentum) · running_mean + momentum · μ (momentum = 0.1 is the weight of "
                    "the NEW batch), stored back in bn_param")
cu.check_close(bn_param["running_var"], [0.9 + 0.4 / 3, 0.9 + 1.6 / 3], 'bn_param["running_var"] after one step from 1',
               hint="PyTorch keeps the UNBIASED variance in running_var: average in σ² · N / (N − 1), "
                    "and store the result back in bn_param")
# Test mode: normalise with the running averages (here set by hand), and leave them alone.
bn_param = {"mode": "test", "eps": 0.0, "running_mean": np.array([1.0, 2.0]), "running_var": np.array([4.0, 16.0])}
out, _ = batchnorm_forward(x_ex, ones, zeros, bn_param)
cu.check_close(out, [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], "test mode: (x − running_mean) / running_std",
               hint="in test mode, normalise with the RUNNING averages, not with the batch's own statistics")
cu.check_close(np.concatenate([bn_param["running_mean"], bn_param["running_var"]]), [1.0, 2.0, 4.0, 16.0],
               "the running averages after a call in test mode",
               hint="test mode must not change the running averages: only training batches update them")
# ε matters when a feature hardly varies: features of standard deviation 1e-3, 1, 30, with ε = 1e-4.
rng = np.random.default_rng(0)
x_small = rng.normal(size=(6, 3)) * np.array([1e-3, 1.0, 30.0])
out, _ = batchnorm_forward(x_small, np.ones(3), np.zeros(3), {"mode": "train", "eps": 1e-4})
cu.check_close(out, torch_batchnorm_steps([x_small], np.ones(3), np.zeros(3), eps=1e-4)[0][0],
               "out for a feature with a tiny variance, ε = 1e-4, vs F.batch_norm", rtol=1e-9,
               hint="ε goes INSIDE the square root: (x − μ) / sqrt(σ² + ε)")
# Three training steps at momentum 0.3, then test mode, against PyTorch.
gamma, beta = rng.normal(size=5), rng.normal(size=5)
xs = [rng.normal(size=(8, 5)) * 3 + 2 for _ in range(3)]
bn_param = {"mode": "train", "momentum": 0.3}
outs = [batchnorm_forward(x, gamma, beta, bn_param)[0] for x in xs]
bn_param["mode"] = "test"
test_out, _ = batchnorm_forward(xs[-1], gamma, beta, bn_param)
torch_outs, torch_mean, torch_var, torch_test = torch_batchnorm_steps(xs, gamma, beta, momentum=0.3)
cu.check_close(outs[2], torch_outs[2], "train-mode output at step 3 vs F.batch_norm", rtol=1e-9)
cu.check_close(bn_param["running_mean"], torch_mean, "running_mean after 3 steps at momentum 0.3 vs PyTorch",
               rtol=1e-9, hint="read the momentum from bn_param (it is not always 0.1)")
cu.check_close(bn_param["running_var"], torch_var, "running_var after 3 steps at momentum 0.3 vs PyTorch", rtol=1e-9)
cu.check_close(test_out, torch_test, "test-mode output after 3 steps vs F.batch_norm(training=False)", rtol=1e-9)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(4401)
_x = _rng.normal(size=(16, 7)) * _rng.uniform(0.002, 20.0, size=7) + _rng.normal(size=7) * 5  # scales 0.002 to 20
_g, _b = _rng.normal(size=7), _rng.normal(size=7)
_xs = [_rng.normal(size=(12, 7)) * 2 - 1 for _ in range(4)]
report_call("train mode on unseen inputs, eps 1e-3; x, gamma and beta left unchanged",
            lambda x, g, b: batchnorm_forward(x, g, b, {"mode": "train", "eps": 1e-3})[0],
            _x.copy(), _g.copy(), _b.copy(), rtol=1e-9)
report("train mode, default eps", lambda: batchnorm_forward(_x.copy(), _g.copy(), _b.copy(), {"mode": "train"})[0],
       rtol=1e-9)
report("train mode, a batch of two", lambda: batchnorm_forward(_x[:2].copy(), _g.copy(), _b.copy(), {})[0], rtol=1e-7)


def _running(momentum, steps, **extra):
    # Fresh state with defaults; returns the running averages after `steps` training batches.
    bn_param = {"mode": "train", **({} if momentum is None else {"momentum": momentum}), **extra}
    for x in _xs[:steps]:
        batchnorm_forward(x.copy(), _g.copy(), _b.copy(), bn_param)
    return np.array(bn_param["running_mean"], dtype=np.float64), np.array(bn_param["running_var"], dtype=np.float64)


report("running averages after one step, default momentum", lambda: _running(None, 1), rtol=1e-9)
report("running averages after four steps, momentum 0.25", lambda: _running(0.25, 4), rtol=1e-9)
report("running averages after two steps, momentum 0.9", lambda: _running(0.9, 2), rtol=1e-9)


def _test_mode():
    # Train on three batches, then test mode on a fourth: the output, and the running averages after it.
    bn_param = {"mode": "train", "momentum": 0.4, "eps": 1e-3}
    for x in _xs[:3]:
        batchnorm_forward(x.copy(), _g.copy(), _b.copy(), bn_param)
    bn_param["mode"] = "test"
    before = (np.array(bn_param["running_mean"], copy=True), np.array(bn_param["running_var"], copy=True))
    out, _ = batchnorm_forward(_x.copy(), _g.copy(), _b.copy(), bn_param)
    return out, np.array(bn_param["running_mean"]) - before[0], np.array(bn_param["running_var"]) - before[1]


report("test mode after three training steps: output, change of the running averages", _test_mode, rtol=1e-9,
       atol=1e-12)
report("test mode on one example", lambda: batchnorm_forward(
    _x[:1].copy(), _g.copy(), _b.copy(),
    {"mode": "test", "running_mean": _xs[0][0].copy(), "running_var": np.abs(_xs[0][1]) + 0.1})[0], rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# **Question.** Call `batchnorm_forward` in train mode on a batch of a *single* example,
# `x` of shape (1, D) (forget the running averages for a moment: PyTorch refuses to train
# on such a batch). What is `out`?
#
# (a) `x`, unchanged; (b) `β`, whatever `x` is; (c) `γ · x + β`; (d) NaN everywhere, from 0 / 0.
#
# Set `batch_of_one_answer` to "a", "b", "c" or "d". (Try it with your function if you are not
# sure: NumPy will warn about the running variance, whose factor N / (N − 1) is 1 / 0; look at
# `out`.)

# %% solution="choice_batch_of_one"
### BEGIN SOLUTION
batch_of_one_answer = "b"
### END SOLUTION

# %% tests="test_choice_batch_of_one" points=1
cu.check_choice(batch_of_one_answer, "abcd", "batch_of_one_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", batch_of_one_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The backward pass, through the computation graph
#
# Batch norm is a small graph of simple operations. Write the forward pass as a chain of
# nodes, each with its local gradient (all operations per feature $j$; sums run over the
# batch $i = 1 \dots N$):
#
# | node | forward | backward: what the node sends to its inputs |
# | --- | --- | --- |
# | mean | $\mu = \frac1N \sum_i x_i$ | $\partial L / \partial x_i \mathrel{+}= \frac1N \frac{\partial L}{\partial \mu}$ |
# | centre | $c_i = x_i - \mu$ | $\partial L/\partial x_i \mathrel{+}= \frac{\partial L}{\partial c_i}$, $\ \frac{\partial L}{\partial \mu} = -\sum_i \frac{\partial L}{\partial c_i}$ |
# | variance | $v = \frac1N \sum_i c_i^2$ | $\partial L / \partial c_i \mathrel{+}= \frac{2 c_i}{N} \frac{\partial L}{\partial v}$ |
# | std | $s = \sqrt{v + \varepsilon}$ | $\frac{\partial L}{\partial v} = \frac{1}{2s} \frac{\partial L}{\partial s}$ |
# | normalise | $\hat x_i = c_i / s$ | $\partial L/\partial c_i \mathrel{+}= \frac{1}{s}\frac{\partial L}{\partial \hat x_i}$, $\ \frac{\partial L}{\partial s} = -\sum_i \frac{c_i}{s^2} \frac{\partial L}{\partial \hat x_i}$ |
# | scale and shift | $y_i = \gamma \hat x_i + \beta$ | $\frac{\partial L}{\partial \hat x_i} = \gamma\, \texttt{dout}_i$, $\ \frac{\partial L}{\partial \gamma} = \sum_i \texttt{dout}_i\, \hat x_i$, $\ \frac{\partial L}{\partial \beta} = \sum_i \texttt{dout}_i$ |
#
# The backward pass walks this table from the bottom up. The centred values $c$ are used
# twice, by the variance and by the normalisation, so $\partial L / \partial c$ **adds up**
# both contributions before it flows on (notebook 03's rule: a node used by several
# children sums their gradients); so does $\partial L/\partial x$, which gets a share
# directly from $c$ and one through $\mu$. Do not skip the paths through $\mu$ and $v$: they
# are what makes this layer different from a fixed rescaling.
#
# Two facts to test your result against. Adding the same number to every example of a
# feature changes nothing after normalisation, so each **column of dx sums to zero**.
# Multiplying a feature by a constant changes nothing either (up to ε), so
# $\sum_i \texttt{dx}_{ij}\, \hat x_{ij} \approx 0$ for every $j$.
#
# ### Exercise 2: batch normalisation, backward (step by step)

# %% solution="batchnorm_backward"
def batchnorm_backward(dout: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dout: (N, D) -> (dx (N, D), dgamma (D,), dbeta (D,)), for the train-mode forward pass.

    Follow the graph: scale and shift, normalise, std, variance, centre, mean.
    """
    ### BEGIN SOLUTION
    xc, std, xhat, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)  # (D,)
    dgamma = np.sum(dout * xhat, axis=0)  # (D,)
    dxhat = dout * gamma  # (N, D)
    dstd = -np.sum(dxhat * xc, axis=0) / std**2  # (D,)
    dvar = dstd / (2 * std)  # (D,)
    dxc = dxhat / std + 2 * xc * dvar / N  # (N, D): from the normalisation and from the variance
    dmu = -dxc.sum(axis=0)  # (D,)
    dx = dxc + dmu / N
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% [markdown]
# The test compares your gradients with PyTorch's autograd on `F.batch_norm`, and with
# centred differences of $\sum \texttt{out} \odot \texttt{dout}$.

# %%
def torch_batchnorm_grads(x, gamma, beta, dout, eps=1e-5):
    """(dx, dgamma, dbeta) of sum(F.batch_norm(x, γ, β) · dout) by PyTorch's autograd, in float64."""
    x_t, g_t, b_t = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    out = F.batch_norm(x_t, None, None, g_t, b_t, training=True, eps=eps)
    out.backward(torch.tensor(dout))
    return x_t.grad.numpy(), g_t.grad.numpy(), b_t.grad.numpy()


# %% tests="test_batchnorm_backward" points=3
rng = np.random.default_rng(2)
x, gamma, beta = rng.normal(size=(6, 4)) * 2 + 1, rng.normal(size=4), rng.normal(size=4)
dout = rng.normal(size=(6, 4))
_, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
dx, dgamma, dbeta = batchnorm_backward(dout, cache)
cu.check_shape(dx, (6, 4), "dx")
cu.check_shape(dgamma, (4,), "dgamma", hint="dgamma has the shape of γ: SUM dout · x̂ over the batch (axis 0)")
cu.check_shape(dbeta, (4,), "dbeta", hint="dbeta has the shape of β: sum dout over the batch (axis 0)")
dx_t, dgamma_t, dbeta_t = torch_batchnorm_grads(x, gamma, beta, dout)
cu.check_close(dbeta, dbeta_t, "dbeta vs torch.autograd", rtol=1e-9,
               hint="β is added to every example, so dbeta SUMS dout over the batch (not the mean)")
cu.check_close(dgamma, dgamma_t, "dgamma vs torch.autograd", rtol=1e-9, hint="dgamma = sum over the batch of dout · x̂")
cu.check_close(dx.sum(axis=0), np.zeros(4), "the sum of each column of dx", atol=1e-9,
               hint="adding a constant to a feature changes nothing after normalisation, so each column of dx sums "
                    "to 0: the path through the mean μ is missing or wrong")
xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
cu.check_close(np.sum(dx * xhat, axis=0), np.zeros(4), "the sum of dx · x̂ over each column", atol=1e-4,
               hint="scaling a feature changes nothing after normalisation, so sum(dx · x̂) ≈ 0 in each column: "
                    "the path through the variance is missing or wrong (dstd = −Σ dx̂ · c / s², dvar = dstd / 2s, "
                    "then 2c / N · dvar adds to dc)")
cu.check_close(dx, dx_t, "dx vs torch.autograd", rtol=1e-9, hint="dx̂ = dout · γ: don't forget γ")
print(cu.check_gradient(lambda v: np.sum(batchnorm_forward(v, gamma, beta, {"mode": "train"})[0] * dout), x, dx,
                        name="dx"))
print(cu.check_gradient(lambda v: np.sum(batchnorm_forward(x, v, beta, {"mode": "train"})[0] * dout), gamma, dgamma,
                        name="dgamma"))
print(cu.check_gradient(lambda v: np.sum(batchnorm_forward(x, gamma, v, {"mode": "train"})[0] * dout), beta, dbeta,
                        name="dbeta"))
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(4402)
_x = _rng.normal(size=(9, 5)) * _rng.uniform(0.1, 10.0, size=5) + _rng.normal(size=5)
_g, _b, _dout = _rng.normal(size=5), _rng.normal(size=5), _rng.normal(size=(9, 5))
_bn = lambda x, g, b: batchnorm_forward(x, g, b, {"mode": "train"})[0]
report_call("backward called twice on one cache; dout and cache left unchanged", batchnorm_backward, _dout.copy(),
            batchnorm_forward(_x.copy(), _g.copy(), _b.copy(), {"mode": "train"})[1], rtol=1e-9, own_inputs=True)
report("backward on unseen inputs", lambda: tuple(batchnorm_backward(
    _dout.copy(), batchnorm_forward(_x.copy(), _g.copy(), _b.copy(), {"mode": "train"})[1])), rtol=1e-8, atol=1e-10)
report("backward, eps 0.1", lambda: tuple(batchnorm_backward(
    _dout.copy(), batchnorm_forward(_x.copy(), _g.copy(), _b.copy(), {"mode": "train", "eps": 0.1})[1])), rtol=1e-8,
       atol=1e-10)
report("backward, a batch of two", lambda: tuple(batchnorm_backward(
    _dout[:2].copy(), batchnorm_forward(_x[:2].copy(), _g.copy(), _b.copy(), {"mode": "train"})[1])), rtol=1e-6,
       atol=1e-8)
report_gradient("dx agrees with the numerical gradient", lambda v: np.sum(_bn(v, _g, _b) * _dout),
                lambda v: batchnorm_backward(_dout, batchnorm_forward(v, _g, _b, {"mode": "train"})[1])[0], _x,
                rtol=1e-8, atol=1e-10, h=1e-5, numeric_tol=1e-6)
report_gradient("dgamma agrees with the numerical gradient", lambda v: np.sum(_bn(_x, v, _b) * _dout),
                lambda v: batchnorm_backward(_dout, batchnorm_forward(_x, v, _b, {"mode": "train"})[1])[1], _g,
                rtol=1e-8, atol=1e-10, h=1e-5, numeric_tol=1e-6)
report_gradient("dbeta agrees with the numerical gradient", lambda v: np.sum(_bn(_x, _g, v) * _dout),
                lambda v: batchnorm_backward(_dout, batchnorm_forward(_x, _g, v, {"mode": "train"})[1])[2], _b,
                rtol=1e-8, atol=1e-10, h=1e-5, numeric_tol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# **Question.** In a network, a linear layer $h = xW^\top + b$ with a bias $b$ feeds a batch
# norm layer (in train mode). What is $\partial L / \partial b$?
#
# (a) the same as it would be without the batch norm layer;
# (b) exactly zero: the batch norm layer subtracts the batch mean, so $b$ cancels out;
# (c) $\gamma$ times what it would be without batch norm;
# (d) it depends on $\varepsilon$.
#
# Set `bias_before_bn_answer` to "a", "b", "c" or "d". (Hint: $b$ is added to every row, so
# $\partial L / \partial b$ is a sum over the batch of the gradient your `batchnorm_backward`
# returns.)

# %% solution="choice_bias_before_bn"
### BEGIN SOLUTION
bias_before_bn_answer = "b"
### END SOLUTION

# %% tests="test_choice_bias_before_bn" points=1
cu.check_choice(bias_before_bn_answer, "abcd", "bias_before_bn_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", bias_before_bn_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. The backward pass in one formula
#
# The graph can be collapsed by hand. Write $\texttt{d}\hat x = \gamma \odot \texttt{dout}$,
# and take averages over the batch, per feature. Putting the rows of the table together
# (the terms with $\sum_i c_i = 0$ drop out) gives
#
# $$ \texttt{dx} = \frac{1}{\sqrt{\sigma^2 + \varepsilon}} \Big( \texttt{d}\hat x
#    - \operatorname{mean}(\texttt{d}\hat x) - \hat x \odot \operatorname{mean}(\texttt{d}\hat x \odot \hat x) \Big) . $$
#
# Read it as: the gradient of a plain rescaling, $\texttt{d}\hat x / s$, with its components
# along the two directions the normalisation removes taken out. The mean term is the path
# through $\mu$, the $\hat x$ term the path through $\sigma^2$; the two facts of the previous
# test say exactly that those components are zero. `dgamma` and `dbeta` are as before.
#
# ### Exercise 3: the simplified backward pass
#
# It receives the cache of *your* `batchnorm_forward`.

# %% solution="batchnorm_backward_alt"
def batchnorm_backward_alt(dout: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same gradients as batchnorm_backward, with dx = (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) / s."""
    ### BEGIN SOLUTION
    _, std, xhat, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=0) - xhat * np.mean(dxhat * xhat, axis=0)) / std
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% tests="test_batchnorm_backward_alt" points=2
rng = np.random.default_rng(3)
x, gamma, beta = rng.normal(size=(7, 3)) * 3 - 2, rng.normal(size=3), rng.normal(size=3)
dout = rng.normal(size=(7, 3))
_, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
dx, dgamma, dbeta = batchnorm_backward_alt(dout, cache)
dx_t, dgamma_t, dbeta_t = torch_batchnorm_grads(x, gamma, beta, dout)
cu.check_shape(dx, (7, 3), "dx")
cu.check_close(dbeta, dbeta_t, "dbeta vs torch.autograd", rtol=1e-9)
cu.check_close(dgamma, dgamma_t, "dgamma vs torch.autograd", rtol=1e-9)
cu.check_close(dx.sum(axis=0), np.zeros(3), "the sum of each column of dx", atol=1e-9,
               hint="each column of dx sums to 0: subtract the MEAN of dx̂ over the batch (axis 0)")
cu.check_close(dx, dx_t, "dx vs torch.autograd", rtol=1e-9,
               hint="dx = (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) / sqrt(σ² + ε), means over the batch, and dx̂ = γ · dout")
print(cu.check_gradient(lambda v: np.sum(batchnorm_forward(v, gamma, beta, {"mode": "train"})[0] * dout), x, dx,
                        name="dx"))
# Both of your backward passes on a bigger batch, and their speed.
x_big, dout_big = rng.normal(size=(512, 256)), rng.normal(size=(512, 256))
_, cache = batchnorm_forward(x_big, np.ones(256), np.zeros(256), {"mode": "train"})
seconds = {}
for name, backward in [("batchnorm_backward", batchnorm_backward), ("batchnorm_backward_alt", batchnorm_backward_alt)]:
    start = time.perf_counter()
    for _ in range(20):
        grads = backward(dout_big, cache)
    seconds[name] = (time.perf_counter() - start) / 20
    print(f"{name}: {1e3 * seconds[name]:.2f} ms for a (512, 256) batch")
cu.check_close(batchnorm_backward_alt(dout_big, cache)[0], batchnorm_backward(dout_big, cache)[0],
               "dx of batchnorm_backward_alt vs batchnorm_backward on a (512, 256) batch", rtol=1e-7, atol=1e-9)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(4403)
_x = _rng.normal(size=(11, 6)) * _rng.uniform(0.1, 10.0, size=6) - _rng.normal(size=6)
_g, _b, _dout = _rng.normal(size=6), _rng.normal(size=6), _rng.normal(size=(11, 6))
report_call("backward called twice on one cache; dout and cache left unchanged", batchnorm_backward_alt, _dout.copy(),
            batchnorm_forward(_x.copy(), _g.copy(), _b.copy(), {"mode": "train"})[1], rtol=1e-9, own_inputs=True)
report("backward on unseen inputs", lambda: tuple(batchnorm_backward_alt(
    _dout.copy(), batchnorm_forward(_x.copy(), _g.copy(), _b.copy(), {"mode": "train"})[1])), rtol=1e-8, atol=1e-10)
report("backward, eps 0.1", lambda: tuple(batchnorm_backward_alt(
    _dout.copy(), batchnorm_forward(_x.copy(), _g.copy(), _b.copy(), {"mode": "train", "eps": 0.1})[1])), rtol=1e-8,
       atol=1e-10)
report_gradient("dx agrees with the numerical gradient",
                lambda v: np.sum(batchnorm_forward(v, _g, _b, {"mode": "train"})[0] * _dout),
                lambda v: batchnorm_backward_alt(_dout, batchnorm_forward(v, _g, _b, {"mode": "train"})[1])[0], _x,
                rtol=1e-8, atol=1e-10, h=1e-5, numeric_tol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# Compare the two times above: the closed form makes fewer passes over the (N, D) arrays.
#
# ## 5. Layer normalisation
#
# Batch norm ties the examples of a minibatch together: each one's output depends on the
# others, training and testing behave differently, and very small batches give noisy
# statistics. **Layer normalisation** (Ba, Kiros and Hinton, 2016) normalises each
# *example* over its own features instead:
#
# $$ \mu_i = \frac{1}{D}\sum_{j=1}^{D} x_{ij}, \qquad
#    \sigma_i^2 = \frac{1}{D}\sum_{j=1}^{D} (x_{ij} - \mu_i)^2, \qquad
#    y_{ij} = \gamma_j\, \frac{x_{ij} - \mu_i}{\sqrt{\sigma_i^2 + \varepsilon}} + \beta_j . $$
#
# The statistics are per row (axis 1), one mean and one variance per example; $\gamma$ and
# $\beta$ are still per feature, shape (D,). Nothing depends on the batch, so there are no
# running averages and no modes: the layer computes the same thing in training and at test
# time, for a batch of one as for a batch of a thousand. It is the normalisation of
# transformers and of recurrent networks.
#
# The backward pass is batch norm's with the roles of the axes swapped for the statistics
# (means over each row), but **not** for $\gamma$ and $\beta$: they are shared by all the
# examples, so their gradients still sum over the batch.
#
# ### Exercise 4: layer normalisation, forward and backward

# %% solution="layernorm"
def layernorm_forward(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5) -> tuple[np.ndarray, object]:
    """Layer normalisation: each row of x: (N, D) normalised over its D features; gamma, beta: (D,) -> (out, cache)."""
    ### BEGIN SOLUTION
    mu = x.mean(axis=1, keepdims=True)  # (N, 1)
    xc = x - mu
    var = np.mean(xc**2, axis=1, keepdims=True)  # (N, 1) biased
    std = np.sqrt(var + eps)
    xhat = xc / std
    out = gamma * xhat + beta
    cache = (std, xhat, gamma)
    return out, cache
    ### END SOLUTION


def layernorm_backward(dout: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dout: (N, D) -> (dx (N, D), dgamma (D,), dbeta (D,))."""
    ### BEGIN SOLUTION
    std, xhat, gamma = cache
    dbeta = dout.sum(axis=0)  # (D,) gamma and beta are shared by the whole batch
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=1, keepdims=True) - xhat * np.mean(dxhat * xhat, axis=1, keepdims=True)) / std
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% tests="test_layernorm" points=3
# Worked example: rows (1, 2, 3) and (0, 10, 20): means 2 and 10, biased variances 2/3 and 200/3.
x_ex = np.array([[1.0, 2.0, 3.0], [0.0, 10.0, 20.0]])
x_before = x_ex.copy()
out, _ = layernorm_forward(x_ex, np.ones(3), np.zeros(3), eps=0.0)
cu.check_shape(out, (2, 3), "layernorm_forward(x, γ, β)[0]")
cu.check_close(x_ex, x_before, "x after layernorm_forward", hint="don't modify x in place")
cu.check_close(out.mean(axis=1), [0.0, 0.0], "the mean of each example (row) of out, with γ = 1, β = 0",
               hint="layer norm normalises each EXAMPLE over its features: statistics over axis=1, with keepdims=True")
cu.check_close(out, np.sqrt(1.5) * np.array([[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]]), "the worked example (ε = 0)",
               hint="x̂ = (x − μ) / sqrt(σ² + ε) with the biased variance (divide by D, not D − 1)")
gamma, beta = np.array([1.0, 2.0, -1.0]), np.array([0.5, 0.0, 0.0])
out, _ = layernorm_forward(x_ex, gamma, beta, eps=0.0)
cu.check_close(out, np.sqrt(1.5) * np.array([[-1.0, 0.0, -1.0], [-1.0, 0.0, -1.0]]) + np.array([0.5, 0.0, 0.0]),
               "the worked example with γ = (1, 2, −1), β = (0.5, 0, 0)", hint="out = γ · x̂ + β, γ and β per feature")
rng = np.random.default_rng(4)
x, gamma, beta = rng.normal(size=(5, 6)) * rng.uniform(0.01, 10, size=(5, 1)), rng.normal(size=6), rng.normal(size=6)
out, cache = layernorm_forward(x, gamma, beta, eps=1e-3)
x_t, g_t, b_t = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
out_t = F.layer_norm(x_t, (6,), g_t, b_t, eps=1e-3)
cu.check_close(out, out_t.detach().numpy(), "out vs F.layer_norm, rows of very different scales, ε = 1e-3", rtol=1e-9,
               hint="ε goes INSIDE the square root")
cu.check_close(layernorm_forward(x[2:3], gamma, beta, eps=1e-3)[0], out[2:3], "example 2 normalised on its own",
               rtol=1e-9, hint="no statistic may depend on the other examples of the batch")
dout = rng.normal(size=(5, 6))
dx, dgamma, dbeta = layernorm_backward(dout, cache)
out_t.backward(torch.tensor(dout))
cu.check_shape(dgamma, (6,), "dgamma", hint="γ is shared by all the examples: sum dout · x̂ over the batch, axis 0")
cu.check_close(dbeta, b_t.grad.numpy(), "dbeta vs torch.autograd", rtol=1e-9, hint="dbeta sums dout over the batch")
cu.check_close(dgamma, g_t.grad.numpy(), "dgamma vs torch.autograd", rtol=1e-9,
               hint="dgamma = sum over the batch (axis 0) of dout · x̂")
cu.check_close(dx.sum(axis=1), np.zeros(5), "the sum of each row of dx", atol=1e-9,
               hint="adding a constant to one example changes nothing after layer norm, so each ROW of dx sums to 0: "
                    "take the means of dx̂ and dx̂ · x̂ over the features (axis 1, keepdims=True)")
cu.check_close(dx, x_t.grad.numpy(), "dx vs torch.autograd", rtol=1e-9,
               hint="dx = (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) / sqrt(σ² + ε), means over each row")
print(cu.check_gradient(lambda v: np.sum(layernorm_forward(v, gamma, beta, eps=1e-3)[0] * dout), x, dx, name="dx"))
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(4404)
_x = _rng.normal(size=(7, 9)) * _rng.uniform(0.01, 20.0, size=(7, 1)) + _rng.normal(size=(7, 1)) * 3
_g, _b, _dout = _rng.normal(size=9), _rng.normal(size=9), _rng.normal(size=(7, 9))
report_call("forward on unseen inputs; x, gamma and beta left unchanged", lambda x, g, b: layernorm_forward(x, g, b)[0],
            _x.copy(), _g.copy(), _b.copy(), rtol=1e-9)
report("forward, eps 0.5", lambda: layernorm_forward(_x.copy(), _g.copy(), _b.copy(), eps=0.5)[0], rtol=1e-9)
report("forward, one example", lambda: layernorm_forward(_x[3:4].copy(), _g.copy(), _b.copy())[0], rtol=1e-9)
report("forward, a square batch (9 examples of 9 features)",
       lambda: layernorm_forward(np.vstack([_x, _x[:2] * 2]), _g.copy(), _b.copy())[0], rtol=1e-9)
report_call("backward called twice on one cache; dout and cache left unchanged", layernorm_backward, _dout.copy(),
            layernorm_forward(_x.copy(), _g.copy(), _b.copy())[1], rtol=1e-9, own_inputs=True)
report("backward on unseen inputs", lambda: tuple(layernorm_backward(
    _dout.copy(), layernorm_forward(_x.copy(), _g.copy(), _b.copy())[1])), rtol=1e-8, atol=1e-10)
report("backward, eps 0.5", lambda: tuple(layernorm_backward(
    _dout.copy(), layernorm_forward(_x.copy(), _g.copy(), _b.copy(), eps=0.5)[1])), rtol=1e-8, atol=1e-10)
report_gradient("dx agrees with the numerical gradient", lambda v: np.sum(layernorm_forward(v, _g, _b)[0] * _dout),
                lambda v: layernorm_backward(_dout, layernorm_forward(v, _g, _b)[1])[0], _x,
                rtol=1e-8, atol=1e-10, h=1e-5, numeric_tol=1e-6)
report_gradient("dgamma agrees with the numerical gradient", lambda v: np.sum(layernorm_forward(_x, v, _b)[0] * _dout),
                lambda v: layernorm_backward(_dout, layernorm_forward(_x, v, _b)[1])[1], _g,
                rtol=1e-8, atol=1e-10, h=1e-5, numeric_tol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Your layers inside PyTorch
#
# PyTorch builds its graph from operations that know their own backward pass. A
# `torch.autograd.Function` lets us add one: its `forward` receives tensors and returns a
# tensor, its `backward` receives the gradient of the loss with respect to that output and
# returns one gradient per input (`None` for inputs that are not tensors). Here `forward`
# calls your NumPy `batchnorm_forward` and keeps its cache, and `backward` calls your
# `batchnorm_backward` on it. The rest of the network (`nn.Linear`, ReLU, the loss, Adam) is
# PyTorch's own.

# %%
class NumpyBatchNorm(torch.autograd.Function):
    """Your batchnorm_forward / batchnorm_backward as a PyTorch operation."""

    @staticmethod
    def forward(ctx, x, gamma, beta, bn_param):
        out, ctx.cache = batchnorm_forward(x.detach().numpy(), gamma.detach().numpy(), beta.detach().numpy(), bn_param)
        return torch.as_tensor(np.asarray(out, dtype=x.detach().numpy().dtype))

    @staticmethod
    def backward(ctx, dout):
        dx, dgamma, dbeta = batchnorm_backward(dout.numpy(), ctx.cache)
        return torch.as_tensor(dx), torch.as_tensor(dgamma), torch.as_tensor(dbeta), None


class NumpyLayerNorm(torch.autograd.Function):
    """Your layernorm_forward / layernorm_backward as a PyTorch operation."""

    @staticmethod
    def forward(ctx, x, gamma, beta):
        out, ctx.cache = layernorm_forward(x.detach().numpy(), gamma.detach().numpy(), beta.detach().numpy())
        return torch.as_tensor(np.asarray(out, dtype=x.detach().numpy().dtype))

    @staticmethod
    def backward(ctx, dout):
        return tuple(torch.as_tensor(g) for g in layernorm_backward(dout.numpy(), ctx.cache))


class StudentBatchNorm(nn.Module):
    """A batch norm layer over D features: learnable γ (ones) and β (zeros), running averages in bn_param."""

    def __init__(self, D: int):
        super().__init__()
        self.gamma, self.beta = nn.Parameter(torch.ones(D)), nn.Parameter(torch.zeros(D))
        self.bn_param = {"running_mean": np.zeros(D, dtype=np.float32), "running_var": np.ones(D, dtype=np.float32)}

    def forward(self, x):
        self.bn_param["mode"] = "train" if self.training else "test"  # model.train() / model.eval() decide
        return NumpyBatchNorm.apply(x, self.gamma, self.beta, self.bn_param)


class StudentLayerNorm(nn.Module):
    """A layer norm layer over D features, with learnable γ (ones) and β (zeros)."""

    def __init__(self, D: int):
        super().__init__()
        self.gamma, self.beta = nn.Parameter(torch.ones(D)), nn.Parameter(torch.zeros(D))

    def forward(self, x):
        return NumpyLayerNorm.apply(x, self.gamma, self.beta)


# %% [markdown]
# `torch.autograd.gradcheck` compares a Function's backward pass with centred differences
# in float64. It is the check PyTorch's own developers run on new operations:

# %%
with cu.needs_your_code():
    generator = torch.Generator().manual_seed(0)
    x_probe = torch.randn(6, 4, dtype=torch.float64, generator=generator, requires_grad=True)
    gamma_probe = torch.randn(4, dtype=torch.float64, generator=generator, requires_grad=True)
    beta_probe = torch.randn(4, dtype=torch.float64, generator=generator, requires_grad=True)
    bn_ok = torch.autograd.gradcheck(NumpyBatchNorm.apply, (x_probe, gamma_probe, beta_probe, {"mode": "train"}))
    ln_ok = torch.autograd.gradcheck(NumpyLayerNorm.apply, (x_probe, gamma_probe, beta_probe))
    print(f"gradcheck of your batch norm: {bn_ok}; of your layer norm: {ln_ok}")

# %% [markdown]
# ## 7. Deep networks with and without batch norm
#
# Now the experiment of section 1 with training. Each network has 5 hidden layers of 100
# units, `Linear → ReLU`, or `Linear → your batch norm → ReLU`; **every** weight, the last
# layer's included, is drawn from $\mathcal{N}(0, s^2)$, for nine scales $s$ from $10^{-4}$ to
# 1, log-spaced. (The linear layers before a batch norm layer have no bias: see the question
# in section 3.) All are trained the same way: Adam at $\eta = 10^{-3}$, 10 epochs over the
# same 2,000 Fashion-MNIST training images in minibatches of 50, with the same seeds. Then we
# measure the accuracy on those 2,000 training images and on 2,000 validation images, with
# batch norm in test mode.

# %%
def load_subset(split: str, n: int, mean: float | None = None, std: float | None = None):
    """The first n images of a Fashion-MNIST split, as standardised (n, 784) float32 tensors, labels, and (mean, std)."""
    X_raw, y = cu.load_fashion_mnist(split, flatten=True)
    X = X_raw[:n].astype(np.float32) / 255
    mean, std = (float(X.mean()), float(X.std())) if mean is None else (mean, std)
    return torch.from_numpy((X - mean) / std), torch.from_numpy(y[:n]), (mean, std)


X_small, y_small, small_stats = load_subset("train", 2000)
X_check, y_check, _ = load_subset("val", 2000, *small_stats)


def make_deep_net(scale: float, norm: type | None = None, hidden: tuple[int, ...] = (100,) * 5,
                  seed: int = 0) -> nn.Sequential:
    """784 → hidden... → 10: Linear → (norm) → ReLU per hidden layer; weights N(0, scale²), biases 0."""
    torch.manual_seed(seed)
    layers, width = [], 784
    for units in hidden:
        layers.append(nn.Linear(width, units, bias=norm is None))
        layers += [norm(units)] if norm is not None else []
        layers.append(nn.ReLU())
        width = units
    layers.append(nn.Linear(width, 10))
    with torch.no_grad():
        for layer in layers:
            if isinstance(layer, nn.Linear):
                layer.weight.normal_(0.0, scale)
                if layer.bias is not None:
                    layer.bias.zero_()
    return nn.Sequential(*layers)


def train_model(model: nn.Module, X: torch.Tensor, y: torch.Tensor, epochs: int = 10, batch_size: int = 50,
                lr: float = 1e-3, seed: int = 0) -> list[float]:
    """Adam on the cross-entropy, `epochs` shuffled passes (fixed seed). Returns every minibatch's loss."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            loss = F.cross_entropy(model(X[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy in evaluation mode (batch norm uses its running averages)."""
    model.eval()
    return float((model(X).argmax(dim=1) == y).float().mean())


# %%
weight_scales = np.logspace(-4, 0, 9)
with cu.needs_your_code():
    start, results = time.perf_counter(), {}
    for label, norm in [("plain", None), ("your batch norm", StudentBatchNorm)]:
        rows = []
        for scale in weight_scales:
            net = make_deep_net(scale, norm)
            losses = train_model(net, X_small, y_small)
            rows.append((accuracy(net, X_small, y_small), accuracy(net, X_check, y_check), np.mean(losses[-40:])))
        results[label] = np.array(rows)  # (9, 3): training accuracy, validation accuracy, last epoch's loss
    scale_results = results  # only once every network has trained
    print(f"18 networks trained in {time.perf_counter() - start:.0f} s")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    for ax, column, title in zip(axes, [0, 1], ["training accuracy (2,000 images)", "validation accuracy"]):
        for label, rows in scale_results.items():
            ax.semilogx(weight_scales, rows[:, column], "o-", label=label)
        ax.axhline(0.1, color="gray", ls=":", label="chance")
        ax.set_xlabel("weight scale s (every weight ~ N(0, s²))")
        ax.set_title(title)
        ax.legend()
    axes[0].set_ylabel("accuracy after 10 epochs")
    plt.show()

# %% [markdown]
# Without batch norm only a narrow band of scales trains well, around He's
# $\sqrt{2/100} \approx 0.14$ (for the first layer, $\sqrt{2/784} \approx 0.05$): a
# training accuracy of 0.75 or more at four of the nine scales at most. At the four smallest
# scales the signal fades on its way through the five layers and the plain network stays
# below 0.7, at some of them at chance. At the largest the logits explode: the plain
# network's loss in its last epoch is in the thousands. With batch norm the training
# accuracy is at least 0.75 at **every** scale, over four orders of magnitude, and the
# validation accuracy is never more than 0.02 below the plain network's. The check below
# computes the numbers these sentences rely on.

# %%
with cu.needs_your_code():
    plain, normed = scale_results["plain"], scale_results["your batch norm"]
    for label, rows in scale_results.items():
        print(f"{label:>16}: training accuracy ≥ 0.75 at {int(np.sum(rows[:, 0] >= 0.75))} of 9 scales, "
              f"worst {rows[:, 0].min():.3f}; loss in the last epoch at s = 1: {rows[-1, 2]:.3g}")
    assert np.sum(plain[:, 0] >= 0.75) <= 4, "the plain networks now train at more scales than the text says"
    assert plain[:4, 0].max() < 0.7 and plain[:4, 0].min() < 0.2, "the plain networks now train at small scales"
    assert plain[-1, 2] > 1000, "the plain network's loss no longer explodes at s = 1"
    assert normed[:, 0].min() >= 0.75, (f"with your batch norm, a training accuracy of only {normed[:, 0].min():.3f} "
                                        "at some scale; expected at least 0.75 everywhere. Do all tests above pass?")
    assert np.all(normed[:, 1] >= plain[:, 1] - 0.02), "batch norm's validation accuracy now falls behind somewhere"

# %% [markdown]
# **Question.** Explain, with a formula, why batch norm makes training almost independent of
# the scale $s$ of the weights that feed it. What happens in the forward pass when every
# weight of a layer is multiplied by $a > 0$, and what happens to the gradient with
# respect to those weights? Where does the argument stop being exact?

# %% [markdown] answer="explain_scale_invariance" points=1
# *Model answer.* For a linear layer followed by batch norm, multiplying $W$ by $a > 0$
# multiplies every pre-activation $h = xW^\top$ by $a$, so its batch mean by $a$ and its
# standard deviation by $a$: $\hat h = (ah - a\mu)/(a\sigma) = \hat h$ (exactly when
# $\varepsilon = 0$). The output of the layer, everything after it and the loss are the same
# for every scale, so the vanishing or exploding product of scales of section 1 never
# forms. Since $L(aW) = L(W)$, the chain rule gives $\nabla L(aW) = \nabla L(W) / a$: the
# gradient shrinks as the weights grow and grows as they shrink, so small weights are not
# stuck with vanishing gradients and large ones do not get exploding ones; only the
# direction of $W$ matters to the loss. The argument breaks down where
# $\varepsilon$ is not negligible next to $a^2\sigma^2$ (at $s = 10^{-4}$ the first layer's
# variance is about $10^{-5}$, the size of $\varepsilon$), and for the last linear layer,
# which has no batch norm after it: its output scale (the logits) still depends on $s$.

# %% [markdown]
# ## 8. What the batch size does
#
# Batch norm's output for one example depends on the others in its batch. How much? Below,
# one fixed example (image 0, passed through a fixed random linear layer to 64 features) is
# normalised 200 times, each time in a new batch of $B - 1$ randomly drawn other images, in
# train mode. We measure how much its normalised features move from batch to batch
# (standard deviation over the 200 draws, averaged over the features), for batch norm
# and for layer norm.

# %%
batch_sizes = [2, 4, 8, 16, 32, 64, 128, 256]
with cu.needs_your_code():
    spreads = {"batch norm (train mode)": [], "layer norm": []}
    rng = np.random.default_rng(0)
    projection = rng.normal(size=(784, 64)) / np.sqrt(784)
    features = X_small.numpy().astype(np.float64) @ projection  # (2000, 64)
    ones64, zeros64 = np.ones(64), np.zeros(64)
    for B in batch_sizes:
        bn_rows, ln_rows = [], []
        for _ in range(200):
            batch = np.vstack([features[:1], features[1 + rng.choice(len(features) - 1, size=B - 1, replace=False)]])
            bn_rows.append(batchnorm_forward(batch, ones64, zeros64, {"mode": "train"})[0][0])
            ln_rows.append(layernorm_forward(batch, ones64, zeros64)[0][0])
        spreads["batch norm (train mode)"].append(np.std(bn_rows, axis=0).mean())
        spreads["layer norm"].append(np.std(ln_rows, axis=0).mean())
    spread = spreads  # only once every batch size is done

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, values in spread.items():
        ax.loglog(batch_sizes, np.maximum(values, 1e-17), "o-", label=label)
    ax.loglog(batch_sizes, spread["batch norm (train mode)"][2] * np.sqrt(8 / np.array(batch_sizes)), "k:",
              label=r"$\propto 1 / \sqrt{B}$")
    ax.set_xlabel("batch size B")
    ax.set_ylabel("spread of one example's output")
    ax.set_title("how much one example's normalised features depend on its batchmates")
    ax.legend()
    plt.show()

# %%
with cu.needs_your_code():
    bn_spread, ln_spread = np.array(spread["batch norm (train mode)"]), np.array(spread["layer norm"])
    print("batch norm spread:", np.round(bn_spread, 3))
    print(f"largest layer norm spread: {ln_spread.max():.1e}")
    assert np.all(np.diff(bn_spread) < 0), "batch norm's spread no longer falls with every larger batch"
    ratio = bn_spread[1] / bn_spread[-1]
    print(f"batch norm spread at B = 4 over B = 256: {ratio:.1f} (1 / sqrt(B) predicts 8)")
    assert 4 < ratio < 16, "batch norm's spread no longer falls roughly like 1 / sqrt(B)"
    assert ln_spread.max() < 1e-12, "layer norm's output for an example should not depend on the rest of the batch"

# %% [markdown]
# Layer norm's output does not move at all (the spread is zero up to rounding): an
# example's statistics are its own. Batch norm's moves less in larger batches, falling
# roughly like $1/\sqrt{B}$ (the dotted line), since the batch mean and variance are
# averages over $B$ examples. In training this noise acts as a mild regulariser; with very
# small batches it swamps the signal, and the running averages, estimated from noisy
# batches, no longer match what the network saw. This is why batch norm works best with
# batches of 32 or more and why layer norm (or group norm) replaces it where batches are
# small or examples must be processed one at a time: language models, reinforcement
# learning, and large images on a small GPU.
#
# **Question.** In test mode, batch norm normalises with the running averages, not with
# the statistics of the test batch. Give two reasons why using the test batch's own
# statistics would be wrong, one of them using the figure above.

# %% [markdown] answer="explain_test_time_statistics" points=1
# *Model answer.* (1) A prediction must be a function of the example alone. With the test
# batch's statistics, the same image would get different outputs (and possibly a different
# class) depending on which other images happen to share its batch, exactly the spread
# of the figure, which is large for small batches; a deployed model often sees one example
# at a time, and for a batch of one every feature becomes $0$, so every input gets the
# same output $\beta$ and the same prediction. (2) The test batch may not be
# representative: a batch of images of one class, or a batch shifted in brightness, would
# be normalised away (its own mean subtracted), destroying exactly the information the
# network needs, whereas the running averages estimate the statistics of the whole
# training distribution, which the later layers were trained to expect. Using them also
# makes the layer a fixed affine map at test time that can be folded into the previous
# linear layer.

# %% [markdown]
# ## Summary
#
# * In a deep network the scale of the activations multiplies from layer to layer, so a
#   poor weight scale makes them (and the gradients) vanish or explode.
# * Batch norm normalises each feature over the minibatch, $\hat x = (x - \mu)/\sqrt{\sigma^2 +
#   \varepsilon}$, then scales and shifts with learned $\gamma$, $\beta$. It keeps running
#   averages of $\mu$ and of the unbiased variance (PyTorch's momentum is the weight of the
#   new batch) and uses them in test mode.
# * Its backward pass follows the graph; the paths through $\mu$ and $\sigma^2$ matter, and
#   collapse to $\texttt{dx} = (\texttt{d}\hat x - \operatorname{mean}\texttt{d}\hat x -
#   \hat x \operatorname{mean}(\texttt{d}\hat x\, \hat x)) / s$. A bias right before a batch
#   norm layer gets no gradient.
# * Batch norm makes a layer's output independent of the scale of its weights, and deep
#   networks trained over four orders of magnitude of initial scales.
# * Layer norm normalises each example over its features: no running averages, the same in
#   training and testing, and independent of the batch, which batch norm is not.
#
# Next, `04c_conv_layers`: convolution and pooling layers written by you, forward and backward;
# then `05_cnns`, where batch norm normalises each channel over the batch and the image.
