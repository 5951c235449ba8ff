# %% [markdown]
# # 04 · Optimization and regularisation in practice
#
# Notebooks 02 and 03 trained models with the simplest rule there is: compute the gradient,
# take a small step against it. This notebook looks hard at that step. How big should it
# be? Why does a noisy gradient from a small minibatch work at all? What do momentum,
# RMSProp and Adam add, and why is Adam the usual first choice? And once a model fits its
# training data, how do we stop it from fitting the *noise* in that data?
#
# You will implement:
#
# * the update rules `sgd`, `sgd_momentum`, `rmsprop` and `adam`, as plain NumPy functions;
# * two learning-rate schedules, `step_decay` and `exponential_decay`;
# * inverted dropout, `dropout_forward` and `dropout_backward`;
# * `EarlyStopping`, which watches the validation loss and keeps the best weights;
# * `RuleOptimizer`, a real `torch.optim.Optimizer` driven by your NumPy rules, and
#   `train_epoch`, a PyTorch training loop; together they train a multi-layer perceptron
#   to at least 88 % test accuracy on Fashion-MNIST.
#
# **Conventions.** Every update rule has the signature
# `rule(w, dw, config) -> (next_w, config)`: `w` is an array of parameters of any shape,
# `dw` the gradient $\partial L / \partial w$ (same shape), and `config` a dictionary that
# holds the hyperparameters (always `"lr"`, the learning rate, plus the rule's own) *and*
# the rule's memory between steps (a velocity, running averages, a step counter). The rule
# fills in missing defaults, returns the new parameters and the updated `config`, and the
# caller hands that `config` back at the next step.

# %%
import copy
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import course_utils as cu
from course_utils import surfaces

cu.seed_everything(0)
# The networks of this notebook are small. One thread is about as fast for them as several,
# and it stays fast when the machine is busy with other work (several threads then spend
# their time waiting for each other).
torch.set_num_threads(1)

# %% [markdown]
# ## 1. Gradient descent on a loss surface
#
# Training means finding parameters $W$ that make the loss $L(W)$ small. The gradient
# $\nabla_W L$ points in the direction in which $L$ grows fastest, so a small step against
# it lowers the loss. **Gradient descent** repeats two things:
#
# 1. evaluate the gradient $\nabla_W L$ at the current $W$;
# 2. step: $W \leftarrow W - \eta\, \nabla_W L$.
#
# The **step size** or **learning rate** $\eta$ is the one number we have to choose. The
# starting point matters too: weights start small and random, drawn from
# $\mathcal{N}(0, \sigma^2)$ (notebook 03 chose $\sigma = \sqrt{2 / \text{fan\_in}}$), so
# that different units compute different things.
#
# With two parameters we can *see* the loss: draw $L(w_1, w_2)$ as contour lines, like a
# hiking map, and gradient descent as a path on it. Our first surface is a long, narrow
# valley (a **ravine**):
#
# $$ L(w) = \tfrac{1}{2}\,(a\, w_1^2 + b\, w_2^2), \qquad a = 1,\ b = 10, \qquad
#    \nabla L = (a\, w_1,\ b\, w_2). $$
#
# One step multiplies $w_1$ by $(1 - \eta a)$ and $w_2$ by $(1 - \eta b)$. Both shrink, and
# the walk converges, only if $|1 - \eta\lambda| < 1$ for both curvatures $\lambda \in
# \{a, b\}$, that is if $\eta < 2 / \lambda_{\max} = 0.2$. Just below that limit the steep
# direction overshoots from one wall of the valley to the other while the flat direction
# crawls; well below it, every direction crawls. The ratio $b / a$ (the *condition
# number*) is what makes gradient descent slow, and it is large in real networks.
#
# Drag the slider (it is logarithmic). Find a learning rate that is **too small** (the
# path stops far from the minimum after 50 steps), one that is **good**, and one that
# **diverges** (the path leaves the picture).

# %%
bowl = surfaces.ravine(a=1.0, b=10.0)
start = (-4.0, 1.5)
gradient_descent = lambda w, dw, config: (w - config["lr"] * dw, config)  # W ← W − η ∇L
surfaces.learning_rate_widget(bowl, gradient_descent, start, lr=0.01, lr_range=(1e-3, 0.5), steps=50)

# %% [markdown]
# If the slider does not show (in a saved copy of the notebook, say), here are the three
# regimes side by side:

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
regime_loss = {}
for ax, lr, title in zip(axes, [0.01, 0.15, 0.21], ["too small", "good", "diverges"]):
    path = surfaces.run_rule(bowl, gradient_descent, start, {"lr": lr}, steps=50)
    regime_loss[title] = bowl(path[-1])
    surfaces.plot_paths(bowl, {f"η = {lr}": path}, ax=ax)
    ax.set_title(f"{title}: η = {lr}, loss after {len(path) - 1} steps {regime_loss[title]:.2g}")
plt.show()
print(f"loss at the start: {bowl(start):.3g}")
assert regime_loss["good"] < 1e-4 < 0.1 * bowl(start) < regime_loss["too small"] < bowl(start) < regime_loss["diverges"], (
    f"the three regimes of the text: {regime_loss}")

# %% [markdown]
# **Question.** Make the ravine five times steeper across the valley: $a = 1$, $b = 50$. What
# is now the largest learning rate for which gradient descent still converges?
#
# * (a) 0.2, as before: the flat direction has not changed;
# * (b) 0.04;
# * (c) 1.0, the flat direction allows it.
#
# Set `steeper_ravine_answer` to "a", "b" or "c".

# %% solution="choice_steeper_ravine"
### BEGIN SOLUTION
steeper_ravine_answer = "b"
### END SOLUTION

# %% tests="test_choice_steeper_ravine" points=1
cu.check_choice(steeper_ravine_answer, "abc", "steeper_ravine_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", steeper_ravine_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Stochastic and minibatch gradient descent
#
# A training loss is an average over $N$ examples, $L = \frac{1}{N}\sum_i L_i$, and so is its
# gradient. With $N = 55{,}000$ images, one exact gradient costs a full pass over the data.
# **Stochastic gradient descent** (SGD) estimates it from a random **minibatch** of $B$
# examples instead:
#
# $$ \nabla_W L \approx \frac{1}{B} \sum_{i \in \text{batch}} \nabla_W L_i . $$
#
# The estimate is right on average (unbiased) but noisy, and its noise shrinks like
# $1 / \sqrt{B}$. $B = 1$ is very noisy; a batch of 64 to 256 examples is smooth enough to
# allow much larger learning rates, and it keeps the hardware busy. An **epoch** is one pass
# in which every minibatch is used once.
#
# Below: a line fit $y \approx \theta_1 x + \theta_2$ with mean squared error (notebook 01)
# on 1,000 points. At a fixed $\theta = (0, 0)$, each dot is the gradient computed from one
# random minibatch, in *parameter space* $(\partial L / \partial\theta_1, \partial L / \partial\theta_2)$.
# The star is the exact gradient of all 1,000 points.

# %%
rng = np.random.default_rng(0)
x_line = rng.uniform(-1, 1, size=1000)
y_line = 2.0 * x_line - 0.5 + 0.3 * rng.standard_normal(1000)


def line_mse_gradient(theta, x, y):
    """∇ of mean((θ1 x + θ2 − y)²) with respect to θ = (θ1, θ2)."""
    residual = theta[0] * x + theta[1] - y
    return np.array([2 * np.mean(residual * x), 2 * np.mean(residual)])


theta0 = np.zeros(2)
fig, ax = plt.subplots(figsize=(6, 4.5))
for B, colour in [(1, "C0"), (16, "C1"), (128, "C2")]:
    batches = [rng.choice(1000, size=B, replace=False) for _ in range(300)]
    grads = np.array([line_mse_gradient(theta0, x_line[b], y_line[b]) for b in batches])  # (300, 2)
    ax.scatter(grads[:, 0], grads[:, 1], s=6, alpha=0.4, color=colour,
               label=f"B = {B}: standard deviation {grads.std(axis=0).mean():.2f}")
ax.plot(*line_mse_gradient(theta0, x_line, y_line), "k*", markersize=15, label="exact gradient (N = 1000)")
ax.set_xlabel(r"$\partial L / \partial \theta_1$")
ax.set_ylabel(r"$\partial L / \partial \theta_2$")
ax.set_xlim(-4, 2)
ax.set_ylim(-2.5, 4.5)
ax.legend(fontsize=8)
ax.set_title("300 minibatch gradients for each batch size")
plt.show()
noise = {B: np.array([line_mse_gradient(theta0, x_line[b], y_line[b])
                      for b in [rng.choice(1000, size=B, replace=False) for _ in range(2000)]]).std(axis=0).mean()
         for B in (16, 128)}
print(f"standard deviation, B = 16 over B = 128 (2,000 minibatches each): {noise[16] / noise[128]:.2f}; "
      f"√8 = {np.sqrt(8):.2f}")
assert abs(noise[16] / noise[128] - np.sqrt(8)) < 0.25 * np.sqrt(8), "the text says about √8 times less noise"

# %% [markdown]
# Eight times the batch, about $\sqrt{8} \approx 2.8$ times less noise, at eight times the cost
# per step. (Not exactly $\sqrt 8$: minibatches drawn without replacement from only 1,000
# points vary a little less than independent draws would, and the ratio is itself measured on
# random minibatches.) In practice the noise is not only tolerated; it helps a little, as we
# will see.
#
# ### Local minima and saddle points
#
# A network's loss is not a bowl. It has many **local minima**, and where gradient descent
# ends depends on where it starts. The surface below has four wells of different depths;
# each path starts at a circle and runs plain gradient descent.

# %%
wells = surfaces.four_wells()
starts = [(x, y) for x in (-1.6, 0.1, 1.6) for y in (-1.6, 0.2, 1.6)]
paths = {f"from {s}": surfaces.run_rule(wells, gradient_descent, s, {"lr": 0.03}, steps=200) for s in starts}
ends = {tuple(np.round(p[-1], 2)) for p in paths.values()}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
surfaces.plot_paths(wells, paths, ax=axes[0], legend=False)
axes[0].set_title(f"9 starts end in {len(ends)} different minima")

# A saddle point: the gradient is zero, but it is a minimum in one direction only.
saddle = surfaces.saddle()
stuck = surfaces.run_rule(saddle, gradient_descent, (1.8, 0.0), {"lr": 0.1}, steps=150)
noisy = surfaces.run_rule(saddle, gradient_descent, (1.8, 0.0), {"lr": 0.1}, steps=150, noise=0.15, seed=3)
surfaces.plot_paths(saddle, {"exact gradients": stuck, "noisy gradients": noisy}, ax=axes[1])
axes[1].set_title(f"exact gradients stop at the saddle ({stuck[-1, 0]:.2f}, {stuck[-1, 1]:.2f})")
plt.show()
assert len(ends) >= 3, f"the text says different starts end in different minima: {ends}"
assert np.abs(stuck[-1]).max() < 1e-3 and abs(noisy[-1, 1]) > 0.5, (
    f"the text says exact gradients stop at the saddle (0, 0) ({stuck[-1]}) and noise tips the walk off the "
    f"ridge into a minimum ({noisy[-1]})")

# %% [markdown]
# The start on the right lies exactly on the ridge $w_2 = 0$. There the gradient has no
# $w_2$ component, so exact gradient descent slides down to the **saddle point** at the
# origin, where the gradient vanishes although the loss still falls on both sides
# along $w_2$. The slightest push (here, the noise of a minibatch gradient) tips it off the
# ridge into a minimum. In high dimensions saddle points are far more common than bad local
# minima, and the noise of SGD is one reason they rarely trap training.
#
# ## 3. Better update rules
#
# Plain SGD has two weaknesses: in a ravine it zig-zags across the steep direction and
# crawls along the flat one, and one learning rate has to suit every parameter, however
# different their gradients are. The rules below address one or both.
#
# ### SGD with momentum
#
# Think of a heavy ball rolling downhill. It keeps a **velocity** $v$, a running sum of
# past gradients that decays by a factor $\mu$ (the **momentum**, typically 0.9) each step:
#
# $$ v \leftarrow \mu\, v + \nabla L, \qquad w \leftarrow w - \eta\, v, \qquad v_0 = 0 . $$
#
# Across the ravine the gradients flip sign from step to step and cancel in $v$; along the
# valley they point the same way and add up, so on a long slope the ball moves
# $1 / (1 - \mu) = 10$ times faster than plain SGD with the same $\eta$. (This is the form
# PyTorch's `torch.optim.SGD` uses. Some texts write $v \leftarrow \mu v - \eta \nabla L$,
# $w \leftarrow w + v$: with a constant $\eta$ it takes exactly the same steps.)
#
# ### Exercise 1: SGD and SGD with momentum
#
# Implement both rules. The defaults are filled in for you; `config["velocity"]` starts at
# zero and must hold the new velocity when you return.

# %% solution="sgd"
def sgd(w: np.ndarray, dw: np.ndarray, config: dict) -> tuple[np.ndarray, dict]:
    """Plain SGD: w ← w − η dw. config: "lr" (default 1e-2). w, dw: same shape, any."""
    config.setdefault("lr", 1e-2)
    ### BEGIN SOLUTION
    next_w = w - config["lr"] * dw
    return next_w, config
    ### END SOLUTION


def sgd_momentum(w: np.ndarray, dw: np.ndarray, config: dict) -> tuple[np.ndarray, dict]:
    """SGD with momentum: v ← μ v + dw, w ← w − η v.

    config: "lr" (1e-2), "momentum" μ (0.9), "velocity" v (state: zeros like w at the start).
    """
    config.setdefault("lr", 1e-2)
    config.setdefault("momentum", 0.9)
    config.setdefault("velocity", np.zeros_like(w))
    ### BEGIN SOLUTION
    v = config["momentum"] * config["velocity"] + dw
    next_w = w - config["lr"] * v
    config["velocity"] = v
    return next_w, config
    ### END SOLUTION


# %% [markdown]
# The tests below compare your rules with PyTorch's own optimisers, run on the same
# gradients in float64. `torch_steps` does the PyTorch side: it hands `torch.optim.SGD`,
# `RMSprop` or `Adam` a list of gradients, one per step, and records the parameters after
# each step.

# %%
def torch_steps(optimizer_class, w0, gradients, **hyperparameters):
    """Parameters after each step of a torch optimizer fed the given gradients. -> (steps, *w0.shape)."""
    w = torch.tensor(np.asarray(w0, dtype=np.float64), requires_grad=True)
    optimizer = optimizer_class([w], **hyperparameters)
    trajectory = []
    for g in gradients:
        w.grad = torch.tensor(np.asarray(g, dtype=np.float64))
        optimizer.step()
        trajectory.append(w.detach().numpy().copy())
    return np.array(trajectory)


def rule_steps(rule, w0, gradients, **hyperparameters):
    """The same with a NumPy update rule: parameters after each step. -> (steps, *w0.shape)."""
    w, config = np.asarray(w0, dtype=np.float64), dict(hyperparameters)
    trajectory = []
    for g in gradients:
        w, config = rule(w, np.asarray(g, dtype=np.float64), config)
        trajectory.append(np.array(w, dtype=np.float64))
    return np.array(trajectory)


# %% tests="test_sgd" points=2
# Worked example: w = (1, −2), the same gradient (0.5, 0.5) twice, η = 0.1, μ = 0.9.
w_ex, dw_ex = np.array([1.0, -2.0]), np.array([0.5, 0.5])
w1, _ = sgd(w_ex, dw_ex, {"lr": 0.1})
cu.check_close(w1, [0.95, -2.05], "sgd: one step", hint="w − lr · dw: step AGAINST the gradient")
cu.check_close(sgd(w_ex, dw_ex, {})[0], [0.995, -2.005], "sgd with the default lr = 1e-2")
config = {"lr": 0.1, "momentum": 0.9}
w1, config = sgd_momentum(w_ex, dw_ex, config)
cu.check_close(w1, [0.95, -2.05], "sgd_momentum: first step (v = dw)",
               hint="the velocity starts at 0, so the first step is a plain SGD step: v ← μ·0 + dw = dw "
                    "(not lr · dw, not (1 − μ) · dw), then w ← w − lr · v with the NEW v")
w2, config = sgd_momentum(w1, dw_ex, config)
cu.check_close(config["velocity"], [0.95, 0.95], "velocity after two steps",
               hint="v ← μ v + dw = 0.9 · 0.5 + 0.5; store the new v in config['velocity']")
cu.check_close(w2, [0.855, -2.145], "sgd_momentum: second step", hint="w ← w − lr · v, with the NEW velocity")
# Ten steps on random gradients against torch.optim.SGD.
rng = np.random.default_rng(1)
w0, grads = rng.normal(size=(3, 4)), rng.normal(size=(10, 3, 4))
cu.check_close(rule_steps(sgd, w0, grads, lr=0.05), torch_steps(torch.optim.SGD, w0, grads, lr=0.05),
               "sgd vs torch.optim.SGD", rtol=1e-9)
cu.check_close(rule_steps(sgd_momentum, w0, grads, lr=0.05, momentum=0.8),
               torch_steps(torch.optim.SGD, w0, grads, lr=0.05, momentum=0.8),
               "sgd_momentum vs torch.optim.SGD(momentum=0.8)", rtol=1e-9,
               hint="v ← μ v + dw (the gradient is not multiplied by lr or by 1 − μ), then w ← w − lr · v; "
                    "and the velocity must carry over from one call to the next")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call


def _trajectory(rule, w0, grads, **hyperparameters):
    # The grader's own loop (the notebook's rule_steps may have been edited): fresh copies in, every step out.
    w, config = np.array(w0, dtype=np.float64), dict(hyperparameters)
    steps = []
    for g in grads:
        w, config = rule(w, np.array(g, dtype=np.float64), config)
        steps.append(np.array(w, dtype=np.float64))
    return np.array(steps)


def _stepper(rule, state_keys, **config):
    # One step per call, the config handed back as the contract says; returns next_w and the rule's state.
    # report_call calls it twice on the same (w, dw): the second call must continue from the first's state,
    # and neither may change w or dw.
    memory = [dict(config)]

    def step(w, dw):
        next_w, memory[0] = rule(w, dw, memory[0])
        return (next_w, *(memory[0][key] for key in state_keys))

    return step


_rng = hidden_rng(4101)
_w0, _grads = _rng.normal(size=(5, 3)), _rng.normal(size=(12, 5, 3))
report("sgd on unseen gradients", lambda: _trajectory(sgd, _w0, _grads, lr=0.07), rtol=1e-9)
report_call("sgd with its default learning rate", _stepper(sgd, ()), _w0.copy(), _grads[0].copy(), rtol=1e-9)
report_call("sgd: one step, w and dw left alone", _stepper(sgd, (), lr=0.3), _w0.copy(), _grads[1].copy(), rtol=1e-9)
report("sgd_momentum, 12 steps", lambda: _trajectory(sgd_momentum, _w0, _grads, lr=0.03, momentum=0.7), rtol=1e-9)
report("sgd_momentum with its defaults", lambda: _trajectory(sgd_momentum, _w0, _grads[:4]), rtol=1e-9)
report("sgd_momentum on a constant gradient (the velocity builds up)",
       lambda: _trajectory(sgd_momentum, np.zeros(3), np.ones((30, 3)), lr=0.01, momentum=0.95), rtol=1e-9)
report("sgd_momentum on a 1-D parameter vector",
       lambda: _trajectory(sgd_momentum, _w0[:, 0], _grads[:, :, 1], lr=0.2, momentum=0.5), rtol=1e-9)
report_call("sgd_momentum from a saved velocity: the step, then the next one",
            _stepper(sgd_momentum, ("velocity",), lr=0.05, momentum=0.6, velocity=_rng.normal(size=(5, 3))),
            _w0.copy(), _grads[2].copy(), rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### RMSProp: one learning rate per parameter
#
# Some parameters get large gradients and others tiny ones, yet SGD moves all of them with
# the same $\eta$. **Adagrad** divides each parameter's step by the root of the sum of its
# squared gradients so far, $s \leftarrow s + (\nabla L)^2$: steep directions get small
# steps, flat ones large steps. But $s$ only ever grows, so the steps shrink towards zero
# and training stalls. **RMSProp** keeps a *leaky* average instead, which forgets old
# gradients at rate $1 - \rho$:
#
# $$ s \leftarrow \rho\, s + (1 - \rho)\, (\nabla L)^2, \qquad
#    w \leftarrow w - \eta\, \frac{\nabla L}{\sqrt{s} + \varepsilon}, \qquad s_0 = 0, $$
#
# all elementwise. $\rho = 0.99$ (PyTorch calls it `alpha`), and $\varepsilon = 10^{-8}$
# only prevents a division by zero: it is added *after* the square root.
#
# ### Exercise 2: RMSProp

# %% solution="rmsprop"
def rmsprop(w: np.ndarray, dw: np.ndarray, config: dict) -> tuple[np.ndarray, dict]:
    """RMSProp: s ← ρ s + (1 − ρ) dw², w ← w − η dw / (√s + ε), elementwise.

    config: "lr" (1e-2), "decay" ρ (0.99), "eps" ε (1e-8), "square_avg" s (state: zeros like w).
    """
    config.setdefault("lr", 1e-2)
    config.setdefault("decay", 0.99)
    config.setdefault("eps", 1e-8)
    config.setdefault("square_avg", np.zeros_like(w))
    ### BEGIN SOLUTION
    rho = config["decay"]
    s = rho * config["square_avg"] + (1 - rho) * dw**2
    next_w = w - config["lr"] * dw / (np.sqrt(s) + config["eps"])
    config["square_avg"] = s
    return next_w, config
    ### END SOLUTION


# %% tests="test_rmsprop" points=2
# The first step from s = 0: s = (1 − ρ) dw², so the step is η · dw / (√(1 − ρ) |dw|) = η · sign(dw) / 0.1
# (a little less where ε matters: here only for the third parameter, by 5e-7).
w1, config = rmsprop(np.array([1.0, -2.0, 0.5]), np.array([0.5, -4.0, 0.02]), {"lr": 0.01})
cu.check_close(config["square_avg"], [0.0025, 0.16, 4e-6], "config['square_avg'] after one step",
               hint="s ← ρ s + (1 − ρ) dw², elementwise, stored back in config['square_avg']")
cu.check_close(w1[:2], [0.9, -1.9], "rmsprop: first step, first two parameters", atol=1e-5,
               hint="s ← ρ s + (1 − ρ) dw² with s = 0 at first, then divide dw by √s + ε (the SQUARE ROOT of s)")
cu.check_close(w1[2], 0.4, "rmsprop: first step, third parameter (a small gradient, 0.02)", atol=1e-5,
               hint="ε is added AFTER the square root: dw / (√s + ε), not dw / √(s + ε)")
rng = np.random.default_rng(2)
w0, grads = rng.normal(size=(2, 5)), rng.normal(size=(15, 2, 5))
grads[:, 0, 0] *= 1e-6  # one parameter with tiny gradients: ε must be added after the square root
cu.check_close(rule_steps(rmsprop, w0, grads, lr=0.01, decay=0.9),
               torch_steps(torch.optim.RMSprop, w0, grads, lr=0.01, alpha=0.9, eps=1e-8),
               "rmsprop vs torch.optim.RMSprop", rtol=1e-9,
               hint="use √s + ε, not √(s + ε), and keep s from one call to the next in config['square_avg']")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call


def _trajectory(rule, w0, grads, **hyperparameters):
    # The grader's own loop (the notebook's rule_steps may have been edited): fresh copies in, every step out.
    w, config = np.array(w0, dtype=np.float64), dict(hyperparameters)
    steps = []
    for g in grads:
        w, config = rule(w, np.array(g, dtype=np.float64), config)
        steps.append(np.array(w, dtype=np.float64))
    return np.array(steps)


def _stepper(rule, state_keys, **config):
    # One step per call, the config handed back as the contract says; returns next_w and the rule's state.
    # report_call calls it twice on the same (w, dw): the second call must continue from the first's state,
    # and neither may change w or dw.
    memory = [dict(config)]

    def step(w, dw):
        next_w, memory[0] = rule(w, dw, memory[0])
        return (next_w, *(memory[0][key] for key in state_keys))

    return step


_rng = hidden_rng(4102)
_w0, _grads = _rng.normal(size=(4, 6)), _rng.normal(size=(20, 4, 6)) * 3
_grads[:, 1, :2] *= 1e-5
report("rmsprop, 20 steps on unseen gradients", lambda: _trajectory(rmsprop, _w0, _grads, lr=0.005, decay=0.95),
       rtol=1e-9)
report("rmsprop with its defaults", lambda: _trajectory(rmsprop, _w0, _grads[:6]), rtol=1e-9)


def _final_config(rule, w, grads, **hyperparameters):
    config = dict(hyperparameters)
    for g in grads:
        w, config = rule(w, g.copy(), config)
    return config


report("rmsprop: the running average after 20 steps",
       lambda: _final_config(rmsprop, _w0.copy(), _grads, decay=0.9)["square_avg"], rtol=1e-9)
report("rmsprop with a large epsilon", lambda: _trajectory(rmsprop, _w0, _grads[:5], lr=0.1, eps=0.5), rtol=1e-9)
report_call("rmsprop from a saved running average: the step, then the next one",
            _stepper(rmsprop, ("square_avg",), lr=0.02, decay=0.8, square_avg=_rng.uniform(0.1, 2.0, size=(4, 6))),
            _w0.copy(), _grads[3].copy(), rtol=1e-9)
report("rmsprop on gradients from 1e-6 to 1e6", lambda: _trajectory(
    rmsprop, _w0[:2], _grads[:8, :2] * np.logspace(-6, 6, 6), lr=0.01), rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### Adam: momentum and RMSProp together
#
# **Adam** keeps both a momentum-like running mean of the gradients, $m$ (the *first
# moment*), and RMSProp's running mean of their squares, $v$ (the *second moment*):
#
# $$ m \leftarrow \beta_1 m + (1 - \beta_1)\, \nabla L, \qquad
#    v \leftarrow \beta_2 v + (1 - \beta_2)\, (\nabla L)^2 . $$
#
# Both start at zero, so for the first steps they are biased towards zero: after one step
# $m = 0.1\,\nabla L$ with $\beta_1 = 0.9$, and $v = 0.001\,(\nabla L)^2$ with $\beta_2 = 0.999$.
# Adam undoes this with a **bias correction** that depends on the step number $t$
# (counting from 1):
#
# $$ t \leftarrow t + 1, \qquad \hat m = \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t},
#    \qquad w \leftarrow w - \eta\, \frac{\hat m}{\sqrt{\hat v} + \varepsilon} . $$
#
# At $t = 1$ the corrections give $\hat m = \nabla L$ and $\hat v = (\nabla L)^2$, so the
# first step is $\eta \cdot \operatorname{sign}(\nabla L)$: exactly $\eta$ for every parameter,
# whatever the size of its gradient. Without the correction it would be $0.1 /
# \sqrt{0.001} \approx 3.2$ times larger, a jolt at the very start of training. As $t$
# grows the corrections tend to 1 and disappear.
#
# The defaults $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\varepsilon = 10^{-8}$ work almost
# everywhere. Good base learning rates for Adam lie between about $10^{-3}$ and
# $5 \cdot 10^{-5}$; $10^{-3}$ is the usual first try.
#
# ### Exercise 3: Adam

# %% solution="adam"
def adam(w: np.ndarray, dw: np.ndarray, config: dict) -> tuple[np.ndarray, dict]:
    """Adam with bias correction; all operations elementwise.

    m ← β1 m + (1 − β1) dw;  v ← β2 v + (1 − β2) dw²;  t ← t + 1;
    m̂ = m / (1 − β1ᵗ);  v̂ = v / (1 − β2ᵗ);  w ← w − η m̂ / (√v̂ + ε).
    config: "lr" (1e-3), "beta1" (0.9), "beta2" (0.999), "eps" (1e-8),
    state "m", "v" (zeros like w) and "t" (0: the number of steps taken so far).
    """
    config.setdefault("lr", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("eps", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    ### BEGIN SOLUTION
    beta1, beta2 = config["beta1"], config["beta2"]
    config["t"] += 1
    t = config["t"]
    config["m"] = beta1 * config["m"] + (1 - beta1) * dw
    config["v"] = beta2 * config["v"] + (1 - beta2) * (dw * dw)
    m_hat = config["m"] / (1 - beta1**t)
    v_hat = config["v"] / (1 - beta2**t)
    next_w = w - config["lr"] * m_hat / (np.sqrt(v_hat) + config["eps"])
    return next_w, config
    ### END SOLUTION


# %% tests="test_adam" points=3
# The first step is lr · sign(dw) for every parameter, however large or small its gradient.
w1, config = adam(np.array([1.0, -2.0, 0.5]), np.array([0.5, -40.0, 1e-3]), {"lr": 0.01})
cu.check_equal(config["t"], 1, "config['t'] after one step",
               hint="count the steps in config['t']: t ← t + 1 at every call, stored back in config")
cu.check_close(config["m"], [0.05, -4.0, 1e-4], "config['m'] after one step", hint="m ← β1 m + (1 − β1) dw")
cu.check_close(config["v"], [2.5e-4, 1.6, 1e-9], "config['v'] after one step",
               hint="v ← β2 v + (1 − β2) dw², the SQUARED gradient")
assert np.all(np.isfinite(w1)), (f"adam's first step gave {w1}. Hint: nan or inf means the bias correction divided "
                                 "by 1 − β⁰ = 0: increment t BEFORE using it (t = 1 at the first step).")
cu.check_close(w1[:2], [0.99, -1.99], "adam: first step, first two parameters", rtol=1e-6,
               hint="with the bias correction the first step is exactly lr · sign(dw); a step about 3.2 times "
                    "too large means m and v were not divided by (1 − β1ᵗ) and (1 − β2ᵗ)")
cu.check_close(w1[2], 0.49, "adam: first step, third parameter (a small gradient, 1e-3)", rtol=1e-6,
               hint="ε is added AFTER the square root: m̂ / (√v̂ + ε), not m̂ / √(v̂ + ε)")
rng = np.random.default_rng(3)
w0, grads = rng.normal(size=(4, 3)), rng.normal(size=(25, 4, 3))
grads[:, 0, 0] *= 1e-6
cu.check_close(rule_steps(adam, w0, grads, lr=0.01), torch_steps(torch.optim.Adam, w0, grads, lr=0.01),
               "adam vs torch.optim.Adam, 25 steps", rtol=1e-9,
               hint="keep m, v and t in config from one call to the next, and add ε after the square root of v̂")
cu.check_close(rule_steps(adam, w0, grads[:5], lr=0.02, beta1=0.5, beta2=0.9),
               torch_steps(torch.optim.Adam, w0, grads[:5], lr=0.02, betas=(0.5, 0.9)),
               "adam with β1 = 0.5, β2 = 0.9", rtol=1e-9, hint="read beta1 and beta2 from config")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call


def _trajectory(rule, w0, grads, **hyperparameters):
    # The grader's own loop (the notebook's rule_steps may have been edited): fresh copies in, every step out.
    w, config = np.array(w0, dtype=np.float64), dict(hyperparameters)
    steps = []
    for g in grads:
        w, config = rule(w, np.array(g, dtype=np.float64), config)
        steps.append(np.array(w, dtype=np.float64))
    return np.array(steps)


def _stepper(rule, state_keys, **config):
    # One step per call, the config handed back as the contract says; returns next_w and the rule's state.
    # report_call calls it twice on the same (w, dw): the second call must continue from the first's state,
    # and neither may change w or dw.
    memory = [dict(config)]

    def step(w, dw):
        next_w, memory[0] = rule(w, dw, memory[0])
        return (next_w, *(memory[0][key] for key in state_keys))

    return step


_rng = hidden_rng(4103)
_w0, _grads = _rng.normal(size=(3, 7)), _rng.normal(size=(40, 3, 7)) * 2
_grads[:, 2, :3] *= 1e-7
report("adam, 40 steps on unseen gradients", lambda: _trajectory(adam, _w0, _grads, lr=0.003), rtol=1e-9)
report("adam: the first three steps", lambda: _trajectory(adam, _w0, _grads[:3], lr=0.05), rtol=1e-9)
report("adam with other betas", lambda: _trajectory(adam, _w0, _grads[:10], lr=0.01, beta1=0.7, beta2=0.99),
       rtol=1e-9)
report("adam with its defaults on a constant gradient", lambda: _trajectory(adam, np.zeros(4), np.ones((8, 4))),
       rtol=1e-9)


def _final_config(rule, w, grads, **hyperparameters):
    config = dict(hyperparameters)
    for g in grads:
        w, config = rule(w, g.copy(), config)
    return config


report("adam: the step counter after 7 steps", lambda: int(_final_config(adam, _w0.copy(), _grads[:7])["t"]),
       kind="equal")
report("adam: the moments after 7 steps",
       lambda: (lambda c: (c["m"], c["v"]))(_final_config(adam, _w0.copy(), _grads[:7], beta1=0.8)), rtol=1e-9)
report_call("adam from a saved state (step 5): the step, then the next one",
            _stepper(adam, ("m", "v"), lr=0.01, m=_rng.normal(size=(3, 7)), v=_rng.uniform(0.1, 2.0, size=(3, 7)), t=5),
            _w0.copy(), _grads[4].copy(), rtol=1e-9)
report("adam on gradients from 1e-6 to 1e6", lambda: _trajectory(
    adam, _w0[:2], _grads[:8, :2] * np.logspace(-6, 6, 7), lr=0.01), rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### The four rules side by side
#
# Each rule runs 100 steps from the same start, with a learning rate (and momentum) chosen
# for it by trying a few values, on two surfaces: a ravine five times steeper than
# the one of section 1 ($b = 50$), and a curved valley, Rosenbrock's "banana" function with
# its minimum at $(1, 1)$. The right-hand plots show how far each is from the minimum, in
# loss.

# %%
steep = surfaces.ravine(a=1.0, b=50.0)
banana = surfaces.banana(b=10.0)
settings = {  # name: (rule, config on the ravine, config on the banana)
    "SGD": (sgd, {"lr": 0.03}, {"lr": 0.01}),
    "momentum": (sgd_momentum, {"lr": 0.03, "momentum": 0.7}, {"lr": 0.02, "momentum": 0.8}),
    "RMSProp": (rmsprop, {"lr": 0.1}, {"lr": 0.02}),
    "Adam": (adam, {"lr": 0.1}, {"lr": 0.1}),
}
with cu.needs_your_code():
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    gaps = {}  # (surface, rule) -> L(w) − L(w*) after each step
    for row, (surface, begin) in enumerate([(steep, (-4.0, 1.0)), (banana, (-1.5, 2.5))]):
        paths = {name: surfaces.run_rule(surface, rule, begin, configs[row], steps=100)
                 for name, (rule, *configs) in settings.items()}
        surfaces.plot_paths(surface, paths, ax=axes[row, 0])
        for name, path in paths.items():
            gaps[row, name] = surface(path) - surface.min_value
            axes[row, 1].semilogy(np.maximum(gaps[row, name], 1e-12), label=name)
        axes[row, 1].set_xlabel("step")
        axes[row, 1].set_ylabel("L(w) − L(w*)")
        axes[row, 1].legend()
    plt.tight_layout()
    plt.show()
    for row, surface_name in enumerate(["ravine", "banana"]):
        for name in settings:
            below = np.flatnonzero(gaps[row, name] < 1e-2)
            print(f"{surface_name:7s} {name:9s} within 0.01 of the minimum from step "
                  f"{below[0] if len(below) else 'never':>5}; after 100 steps {gaps[row, name][-1]:.1e}")
    first_within = {name: np.argmax(gaps[0, name] < 1e-2) for name in ["momentum", "RMSProp"]}
    assert gaps[0, "SGD"].min() > 1e-2 and first_within["RMSProp"] < first_within["momentum"] <= 40, (
        "the text says: on the ravine SGD never gets within 0.01 in 100 steps, momentum does within 40, RMSProp sooner")
    assert max(gaps[0, "momentum"][-1], gaps[0, "RMSProp"][-1]) < 1e-12 < 1e-6 < gaps[0, "Adam"][-1], (
        "the text says: momentum and RMSProp settle on the ravine's minimum, Adam keeps hovering around it")
    assert max(gaps[1, "momentum"][-1], gaps[1, "Adam"][-1]) < 1e-2 and min(gaps[1, "SGD"][-1], gaps[1, "RMSProp"][-1]) > 1, (
        "the text says: on the banana momentum and Adam reach the minimum, SGD and RMSProp fall behind")

# %% [markdown]
# On the ravine, SGD must keep $\eta$ below $2/b = 0.04$ for the steep direction, and
# then crawls along the flat one: after 100 steps it is still more than 0.01 above the
# minimum. Momentum with the same $\eta$ gathers speed along the valley and gets within 0.01
# in a few dozen steps. RMSProp rescales each coordinate by the size of its own gradients,
# so to it the ravine looks round: it heads almost straight for the minimum and gets there
# first. Adam rescales the same way, but its momentum carries it past the minimum, and with
# a constant learning rate it keeps hovering around it instead of settling: after 100 steps
# it is still about $10^{-4}$ above the minimum, where momentum and RMSProp have settled to
# within $10^{-12}$. That is one reason for the next section.
#
# The banana shows that no rule wins everywhere. Momentum and Adam follow the curved valley
# to the minimum. Plain SGD starts where the walls are steep, so only a small learning rate
# keeps it from being thrown out of the valley (try 0.02), and then it crawls. RMSProp's
# steps, all of about the same length, are too short where the valley is long and too long
# where it is narrow, and it falls behind too. Every rule needed its own learning rate,
# found by trying. In practice Adam is the usual first choice because its good learning
# rates vary least from one problem to the next (section 9 measures this).

# %% [markdown]
# **Question.** Why does momentum reach the bottom of the ravine so much sooner than plain
# gradient descent with the same learning rate? Describe what happens to the velocity
# across the valley and along it, and say why plain gradient descent cannot simply use a
# larger learning rate instead.

# %% [markdown] answer="explain_momentum_ravine" points=1
# *Model answer.* Across the valley the gradient is large and flips sign from one step to
# the next (each step overshoots to the other wall), so successive gradients cancel in the
# velocity $v \leftarrow \mu v + \nabla L$ and the zig-zag is damped. Along the valley the
# gradient is small but always points the same way, so it accumulates: on a steady slope $v$
# grows towards $\nabla L / (1 - \mu)$, ten times the gradient for $\mu = 0.9$, and the
# ball moves up to ten times faster along the floor. Plain gradient descent cannot get that
# speed from a larger $\eta$: it must keep $\eta < 2 / b$ for the steep direction, or the
# steps across the valley grow and it diverges; with $\eta$ that small the flat direction,
# whose curvature $a$ is 50 times smaller, shrinks by only a factor $(1 - \eta a)$ per step.
# Momentum separates the two: it amplifies the consistent component and averages away the
# oscillating one.

# %% [markdown]
# ## 4. Learning-rate schedules
#
# A large learning rate makes fast progress at first; near a minimum, the same large steps
# (and the noise of minibatch gradients) keep the parameters bouncing around it. A
# **schedule** lowers $\eta$ as training proceeds. Two classics, with $t$ the epoch:
#
# * **step decay**: multiply $\eta$ by a factor (say 0.5) every few epochs,
#   $\eta_t = \eta_0 \cdot \text{drop}^{\lfloor t / \text{every} \rfloor}$;
# * **exponential decay**: $\eta_t = \eta_0\, e^{-k t}$, a little less every epoch.
#
# Others are common too: $1/t$ decay, $\eta_t = \eta_0 / (1 + k t)$; cosine decay to zero over a
# fixed budget; and a short **warm-up** during which $\eta$ grows from near zero, useful for
# large models trained with Adam.
#
# ### Exercise 4: two schedules

# %% solution="lr_schedules"
def step_decay(lr0: float, epoch: int, drop: float = 0.5, every: int = 10) -> float:
    """η_t = η_0 · drop^⌊epoch / every⌋ for epoch = 0, 1, 2, ..."""
    ### BEGIN SOLUTION
    return lr0 * drop ** (epoch // every)
    ### END SOLUTION


def exponential_decay(lr0: float, epoch: int, k: float = 0.1) -> float:
    """η_t = η_0 · e^(−k · epoch) for epoch = 0, 1, 2, ..."""
    ### BEGIN SOLUTION
    return lr0 * math.exp(-k * epoch)
    ### END SOLUTION


# %% tests="test_lr_schedules" points=2
cu.check_close([step_decay(0.1, t) for t in (0, 9, 10, 19, 20, 25)], [0.1, 0.1, 0.05, 0.05, 0.025, 0.025],
               "step_decay(0.1, epoch) at epochs 0, 9, 10, 19, 20, 25",
               hint="drop ** (epoch // every): epochs count from 0, so the first drop comes AT epoch `every` "
                    "(not one epoch early), and the rate changes only at multiples of `every` "
                    "(integer division //, not /)")
cu.check_close(step_decay(1.0, 7, drop=0.1, every=3), 0.01, "step_decay(1.0, 7, drop=0.1, every=3)")
cu.check_close(exponential_decay(0.1, 0), 0.1, "exponential_decay at epoch 0")
cu.check_close(exponential_decay(0.1, 10, k=0.1), 0.1 * np.exp(-1), "exponential_decay(0.1, 10, k=0.1)",
               hint="η_0 · e^(−k·epoch) with math.exp: mind the minus sign; (1 − k)^epoch is close to it "
                    "only for small k")
# PyTorch's ExponentialLR multiplies the rate by γ every epoch: the same schedule with γ = e^(−k).
w = torch.zeros(1, requires_grad=True)
opt = torch.optim.SGD([w], lr=0.1)
scheduler = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=math.exp(-0.3))
torch_rates = []
for _ in range(6):
    torch_rates.append(opt.param_groups[0]["lr"])
    opt.step()
    scheduler.step()
cu.check_close([exponential_decay(0.1, t, k=0.3) for t in range(6)], torch_rates,
               "exponential_decay vs torch's ExponentialLR(γ = e^(−0.3))", rtol=1e-9)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report

_rng = hidden_rng(4104)
_lr0, _drop, _every, _k = float(_rng.uniform(0.01, 1.0)), float(_rng.uniform(0.2, 0.9)), int(_rng.integers(2, 7)), \
    float(_rng.uniform(0.05, 0.5))
report("step_decay on unseen settings",
       lambda: np.array([step_decay(_lr0, t, drop=_drop, every=_every) for t in range(30)]), rtol=1e-12)
report("step_decay with its defaults", lambda: np.array([step_decay(_lr0, t) for t in range(0, 45, 3)]), rtol=1e-12)
report("step_decay, every = 1", lambda: np.array([step_decay(1.0, t, drop=_drop, every=1) for t in range(12)]),
       rtol=1e-12)
report("exponential_decay on unseen settings",
       lambda: np.array([exponential_decay(_lr0, t, k=_k) for t in range(30)]), rtol=1e-12)
report("exponential_decay with its defaults", lambda: np.array([exponential_decay(_lr0, t) for t in range(20)]),
       rtol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# The two schedules, and why they help. On the right, SGD runs on the ravine with noisy
# gradients (as from minibatches), once with a constant learning rate and once with the
# rate halved after every 20 steps (20 steps standing in for an epoch); each curve is the
# mean of 10 runs. The constant rate stalls at a noise floor; the decayed one goes lower.

# %%
def scheduled(rule, schedule, steps_per_epoch):
    """Wrap an update rule so that config["lr"] follows schedule(epoch) (epoch = step // steps_per_epoch)."""
    def wrapped(w, dw, config):
        config.setdefault("step", 0)
        config["lr"] = schedule(config["step"] // steps_per_epoch)
        config["step"] += 1
        return rule(w, dw, config)
    return wrapped


with cu.needs_your_code():
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    epochs = np.arange(40)
    axes[0].plot(epochs, [step_decay(0.1, t) for t in epochs], label="step decay (×0.5 every 10 epochs)")
    axes[0].plot(epochs, [exponential_decay(0.1, t, k=0.07) for t in epochs], label="exponential decay, k = 0.07")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("learning rate")
    axes[0].legend()
    noise_floor = {}
    for name, schedule in [("constant η = 0.1", lambda epoch: 0.1),
                           ("step decay, ×0.5 every 20 steps",
                            lambda epoch: step_decay(0.1, epoch, drop=0.5, every=1))]:
        runs = [bowl(surfaces.run_rule(bowl, scheduled(sgd, schedule, 20), (-4.0, 1.5), {}, steps=200, noise=1.0,
                                       seed=seed)) for seed in range(10)]
        noise_floor[name] = np.mean(runs, axis=0)[-50:].mean()
        axes[1].semilogy(np.mean(runs, axis=0), label=f"{name}: last 50 steps {noise_floor[name]:.2g}")
    axes[1].set_xlabel("step")
    axes[1].set_ylabel("loss, noisy gradients (mean of 10 runs)")
    axes[1].legend()
    plt.show()
    constant_floor, decayed_floor = noise_floor.values()
    assert decayed_floor < 0.2 * constant_floor, f"the text says the decayed rate goes lower: {noise_floor}"

# %% [markdown]
# In PyTorch a schedule is a *scheduler* attached to the optimiser, stepped once per epoch:
# `torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)` is `step_decay`,
# `ExponentialLR(optimizer, gamma=math.exp(-k))` is `exponential_decay`, and
# `LambdaLR(optimizer, lambda epoch: step_decay(1.0, epoch))` turns any function of the
# epoch into a scheduler.
#
# ## 5. Capacity: underfitting and overfitting
#
# A model's **capacity** is how rich a family of functions it can represent: the degree of
# a polynomial, the number of units and layers of a network. Too little capacity
# **underfits**: the model cannot follow the pattern in the data, and both its training
# and validation errors are high. Too much **overfits**: the model fits the training data,
# noise included, so the training error is tiny but the error on new data is large. In
# between lies the **ideal fit**. Since the training error always falls as capacity
# grows, only the **validation** error can tell where that is.
#
# Below: 15 noisy training points from a smooth curve, and a polynomial of the chosen
# degree fitted to them by least squares. Slide the degree from 0 to 14.

# %%
rng = np.random.default_rng(13)
truth = lambda x: np.sin(2.5 * x) + 0.5 * x
x_fit, x_check = rng.uniform(-1, 1, size=15), rng.uniform(-1, 1, size=200)
y_fit, y_check = truth(x_fit) + 0.25 * rng.standard_normal(15), truth(x_check) + 0.25 * rng.standard_normal(200)
surfaces.capacity_widget(x_fit, y_fit, x_check, y_check, max_degree=14, degree=1, truth=truth)

# %% [markdown]
# The errors the widget plots, degree by degree:

# %%
train_err, val_err = surfaces.capacity_errors(x_fit, y_fit, x_check, y_check, range(15))
print("degree      " + " ".join(f"{d:>7d}" for d in range(15)))
print("training   " + " ".join(f"{e:7.3f}" for e in train_err))
print("validation " + " ".join(f"{e:7.3g}" for e in val_err))
best_degree = int(np.argmin(val_err))
assert 3 <= best_degree <= 8 and val_err[3:9].max() < 1.5 * val_err[best_degree], "degrees 3 to 8 fit about equally"
assert val_err[:3].min() > 2 * val_err[best_degree], "degrees 0 to 2 underfit"
assert val_err[9] > 5 * val_err[best_degree] and val_err[12] > 100 * val_err[best_degree], "degree 9 on overfits"
assert train_err[14] < 1e-6, "degree 14 passes through all 15 points"

# %% [markdown]
# Degrees 0 to 2 underfit: a constant or a line cannot follow the curve, and the validation
# error is more than twice the best. Degrees 3 to 8 all follow the truth about equally well
# (validation errors within 1.5 times the best). From degree 9 on, the polynomial starts to
# bend towards individual noisy points, and by degree 12 it swings wildly between them to hit
# every one (a validation error over a hundred times the best): with 15 points, degree 14
# passes exactly through all of them, and its training error is zero.
#
# ### A caveat: double descent
#
# The U-shaped validation curve is not the whole story. Below, a different model: a
# linear combination of $p$ random cosine features $\cos(\omega_j x + \phi_j)$, fitted to 30
# noisy points by least squares (the smallest-norm solution when $p > 30$), median test
# error over 6 draws of the features. The error first falls, then rises by orders of
# magnitude around the number of training points (the **interpolation threshold**, where
# the model can only just fit every point, and does so wildly), and then falls *again* as $p$
# keeps growing, back to about the level of the first dip: among the many functions that fit
# the data, the smallest-norm one is smooth. This is **double descent**. Large neural networks show it in their size, and in
# training time too: the validation loss can rise for a while and then fall again.

# %%
def random_feature_errors(feature_counts, n=30, trials=6, sigma=8.0):
    """Median test MSE of min-norm least squares on p random cosine features, for each p."""
    errors = np.zeros((trials, len(feature_counts)))
    x_test = np.linspace(-2, 2, 400)
    for trial in range(trials):
        r = np.random.default_rng(trial)
        x = np.linspace(-2, 2, n) + r.uniform(-0.03, 0.03, size=n)  # roughly even spacing
        y = np.sin(3 * x) + 0.5 * x + 0.3 * r.standard_normal(n)
        omega, phase = sigma * r.standard_normal(max(feature_counts)), r.uniform(0, 2 * np.pi, max(feature_counts))
        for j, p in enumerate(feature_counts):
            features = lambda z: np.cos(np.outer(z, omega[:p]) + phase[:p]) * np.sqrt(2 / p)  # (len(z), p)
            coef = np.linalg.pinv(features(x)) @ y  # least squares, smallest norm when p > n
            errors[trial, j] = np.mean((features(x_test) @ coef - (np.sin(3 * x_test) + 0.5 * x_test)) ** 2)
    return np.median(errors, axis=0)


feature_counts = [2, 5, 10, 15, 20, 25, 28, 30, 32, 35, 40, 50, 70, 100, 200, 400]
dd_errors = dict(zip(feature_counts, random_feature_errors(feature_counts)))
first_dip = min(dd_errors[p] for p in feature_counts if p < 28)
peak = max(dd_errors[p] for p in feature_counts if 28 <= p <= 50)
print(f"first dip {first_dip:.3g}; peak near p = 30: {peak:.3g}; p = 400: {dd_errors[400]:.3g}")
assert first_dip < 0.2 * dd_errors[2] and peak > 1000 * first_dip and dd_errors[400] < 2 * first_dip, (
    "the text says: falls, rises by orders of magnitude near p = 30, falls again to about the first dip")
plt.figure(figsize=(6, 3.8))
plt.loglog(feature_counts, list(dd_errors.values()), "o-")
plt.axvline(30, color="gray", ls=":", label="p = number of training points")
plt.xlabel("number of features p (capacity)")
plt.ylabel("test MSE (median of 6)")
plt.title("double descent")
plt.legend()
plt.show()

# %% [markdown]
# So "more capacity overfits" holds only up to a point, and a rising validation curve may
# still turn down. We will keep this in mind for early stopping (section 7). Large networks
# generalise well thanks to *regularisation* of many kinds: the next two sections build
# two of the most used.
#
# ## 6. Dropout
#
# **Dropout** switches off a random part of a layer's activations at every training step:
# each one is set to zero with probability $p$ (often $p = 0.5$ for large fully connected
# layers, less elsewhere). The network cannot rely on any single unit, since it may be gone
# at the next step, so it learns redundant features; it behaves somewhat like an average
# of many thinned networks. At test time nothing is dropped.
#
# One detail matters. If a unit is kept with probability $1 - p$, its expected output during
# training is $(1 - p)\, x$, but at test time it is $x$: the next layer would see larger
# inputs at test time than it was trained on. **Inverted dropout** fixes this during
# training, by scaling the kept activations up by $1 / (1 - p)$, so that test time needs no
# change at all:
#
# $$ \text{train: } \ \text{out} = \frac{x \odot m}{1 - p}, \quad m_i \sim \text{Bernoulli}(1 - p)
#    \ \text{(1 = keep)}; \qquad \text{test: } \ \text{out} = x . $$
#
# The backward pass lets the gradient through exactly where the unit was kept, with the
# same scale: $dx = dout \odot m / (1 - p)$. So the forward pass must keep the mask (or
# the scaled mask) in its cache.
#
# ### Exercise 5: inverted dropout
#
# Draw a fresh mask at every call, from the random generator `rng` (for example
# `rng.random(x.shape) >= p`). In test mode (`train=False`), return the input unchanged
# and let the backward pass return `dout` unchanged. Don't modify `x` in place.

# %% solution="dropout"
def dropout_forward(x: np.ndarray, p: float, train: bool = True,
                    rng: np.random.Generator | None = None) -> tuple[np.ndarray, object]:
    """Inverted dropout. x: any shape; p: probability of DROPPING a unit, 0 <= p < 1.

    train=True: out = x · m / (1 − p) with a fresh random mask m (1 = keep, with probability 1 − p);
    train=False: out = x. Returns (out, cache), out of x's shape; cache for dropout_backward.
    """
    rng = np.random.default_rng() if rng is None else rng
    ### BEGIN SOLUTION
    if not train or p == 0:
        return x.copy(), None
    keep = rng.random(x.shape) >= p  # (x.shape) booleans, True with probability 1 − p
    out = x * keep / (1 - p)
    cache = (keep, p)
    return out, cache
    ### END SOLUTION


def dropout_backward(dout: np.ndarray, cache: object) -> np.ndarray:
    """dout: out's shape -> dx: x's shape, the gradient through the units that were kept (same scale)."""
    ### BEGIN SOLUTION
    if cache is None:  # test mode (or p = 0): the identity
        return dout.copy()
    keep, p = cache
    dx = dout * keep / (1 - p)
    return dx
    ### END SOLUTION


# %% tests="test_dropout" points=3
rng = np.random.default_rng(0)
ones = np.ones((400, 250))
out, cache = dropout_forward(ones, 0.5, train=True, rng=rng)
cu.check_shape(out, ones.shape, "dropout_forward(x, 0.5)[0]")
cu.check_close(np.mean(out == 0), 0.5, "fraction of units dropped with p = 0.5", atol=0.01,
               hint="drop each unit with probability p: keep where rng.random(x.shape) >= p")
out_075, _ = dropout_forward(ones, 0.75, train=True, rng=rng)
cu.check_close(np.mean(out_075 == 0), 0.75, "fraction of units dropped with p = 0.75", atol=0.01,
               hint="p is the probability of DROPPING a unit, not of keeping it")
cu.check_close(np.unique(out_075), [0.0, 4.0], "the values of dropout_forward(ones, p = 0.75)",
               hint="inverted dropout scales the units it keeps by 1 / (1 − p) = 4, so that the mean stays 1")
cu.check_close(out_075.mean(), 1.0, "mean of dropout_forward(ones, p = 0.75)", atol=0.02)
# For x = 1 the output is the scaled mask itself, so the backward pass must give dout · out.
dout_ones = rng.normal(size=ones.shape)
cu.check_close(dropout_backward(dout_ones, cache), dout_ones * out, "dropout_backward for x = 1, p = 0.5",
               hint="the gradient flows only through the kept units, with the same scale as the forward pass: "
                    "dx = dout · mask / (1 − p)")
x = rng.normal(size=(6, 7))
x_before = x.copy()
out_test, cache_test = dropout_forward(x, 0.5, train=False)
cu.check_close(out_test, x, "dropout_forward in test mode", hint="at test time dropout does nothing: out = x")
cu.check_close(x, x_before, "x after dropout_forward", hint="don't modify x in place")
dout = rng.normal(size=(6, 7))
cu.check_close(dropout_backward(dout, cache_test), dout, "dropout_backward in test mode",
               hint="in test mode the layer is the identity, so dx = dout")
out_a, _ = dropout_forward(x, 0.5, rng=rng)
out_b, _ = dropout_forward(x, 0.5, rng=rng)
cu.check_equal(bool(np.any((out_a == 0) != (out_b == 0))), True, "two calls drop different units",
               hint="draw a new mask at every call, from rng")
# The backward pass against centred differences: with a generator seeded the same way, the
# forward pass drops the same units at every call.
forward = lambda v: np.sum(dropout_forward(v, 0.3, rng=np.random.default_rng(5))[0] * dout)
out, cache = dropout_forward(x, 0.3, rng=np.random.default_rng(5))
dx = dropout_backward(dout, cache)
cu.check_shape(dx, x.shape, "dx")
print(cu.check_gradient(forward, x, dx, name="dx"))
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report

_rng = hidden_rng(4105)
_x = _rng.uniform(0.5, 2.0, size=(9, 13)) * _rng.choice([-1.0, 1.0], size=(9, 13))  # no entry near 0
_dout = _rng.normal(size=(9, 13))
_gen = lambda n: np.random.default_rng(hidden_seed(4150 + n))  # a fresh generator for each draw
report("test mode returns the input", lambda: dropout_forward(_x.copy(), 0.4, train=False)[0], rtol=1e-12)
report("test mode: backward passes the gradient unchanged",
       lambda: dropout_backward(_dout.copy(), dropout_forward(_x.copy(), 0.4, train=False)[1]), rtol=1e-12)


def _kept_scale(p):
    out, _ = dropout_forward(_x.copy(), p, rng=_gen(1))
    return np.unique(np.round(out / _x, 9))  # 0 for dropped units, the scale for kept ones


report("kept units are scaled by 1 / (1 - p), p = 0.3", lambda: _kept_scale(0.3), rtol=1e-7)
report("kept units are scaled by 1 / (1 - p), p = 0.6", lambda: _kept_scale(0.6), rtol=1e-7)
report("kept units are scaled by 1 / (1 - p), p = 0.9", lambda: _kept_scale(0.9), rtol=1e-7)
_big = np.ones((500, 400))
report("fraction dropped, p = 0.3 (200,000 units)",
       lambda: np.mean(dropout_forward(_big, 0.3, rng=_gen(2))[0] == 0), rtol=0, atol=0.01)
report("mean kept the same, p = 0.8 (200,000 units)",
       lambda: np.mean(dropout_forward(_big, 0.8, rng=_gen(3))[0]), rtol=0, atol=0.03)


def _backward_identity(p):
    # dx = dout · m / (1 − p) and out = x · m / (1 − p), so dx · x − dout · out = 0 for ANY mask.
    out, cache = dropout_forward(_x.copy(), p, rng=_gen(4))
    dx = dropout_backward(_dout.copy(), cache)
    return float(np.max(np.abs(dx * _x - _dout * out)))


report("backward uses the forward pass's mask and scale, p = 0.5", lambda: _backward_identity(0.5), rtol=0, atol=1e-9)
report("backward uses the forward pass's mask and scale, p = 0.25", lambda: _backward_identity(0.25), rtol=0,
       atol=1e-9)


def _leaves(value):
    """Every array in a cache of any shape (tuple, list, dict, array), in a fixed order."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        return [leaf for key in sorted(value, key=str) for leaf in _leaves(value[key])]
    return []


def _backward_twice(p):
    # Whatever the cache holds, the backward pass must leave it and dout alone: called twice on the
    # same objects it gives the same dx. Returns (change in dx, change in dout, change in the cache).
    out, cache = dropout_forward(_x.copy(), p, rng=_gen(5))
    before = [leaf.copy() for leaf in _leaves(cache)]
    dout = _dout.copy()
    dx_first = np.array(dropout_backward(dout, cache), dtype=np.float64)
    dx_second = np.array(dropout_backward(dout, cache), dtype=np.float64)
    after = _leaves(cache)
    cache_change = max([float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)),
                                      initial=0.0)) for a, b in zip(before, after)] + [0.0])
    if len(after) != len(before):
        cache_change = np.inf
    return np.array([np.max(np.abs(dx_second - dx_first)), np.max(np.abs(dout - _dout)), cache_change])


report("backward twice on the same cache: same dx, dout and cache unchanged, p = 0.5",
       lambda: _backward_twice(0.5), rtol=0, atol=1e-12)
report("backward twice on the same cache: same dx, dout and cache unchanged, p = 0.2",
       lambda: _backward_twice(0.2), rtol=0, atol=1e-12)


def _fresh_masks():
    generator = _gen(6)
    a, _ = dropout_forward(_x.copy(), 0.5, rng=generator)
    b, _ = dropout_forward(_x.copy(), 0.5, rng=generator)
    return bool(np.any((a == 0) != (b == 0)))


report("a fresh mask at every call", _fresh_masks, kind="equal")


def _input_after_forward():
    x = _x.copy()
    out, _ = dropout_forward(x, 0.5, rng=_gen(7))
    out *= 3.0  # the caller changes the output in place (as a next layer might): x must not change with it
    return x


report("the input is left unchanged", _input_after_forward, rtol=1e-12)
report("shape of the output for a 3-D input",
       lambda: np.array(dropout_forward(np.ones((2, 3, 4)), 0.5, rng=_gen(8))[0].shape), kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# Here is what dropout does to a batch of activations: a different random half of them
# (about half: each unit is a coin flip) is gone at each call, and the survivors are doubled.

# %%
activations = np.abs(np.random.default_rng(1).normal(size=(8, 24)))  # 8 examples, 24 units
with cu.needs_your_code():
    mask_rng = np.random.default_rng(2)
    step_1, step_2 = (dropout_forward(activations, 0.5, rng=mask_rng)[0] for _ in range(2))
    fig, axes = plt.subplots(1, 3, figsize=(14, 2.6))
    panels = [("activations", activations), (f"training step 1, p = 0.5: {np.mean(step_1 == 0):.0%} dropped", step_1),
              (f"training step 2, p = 0.5: {np.mean(step_2 == 0):.0%} dropped", step_2)]
    for ax, (title, values) in zip(axes, panels):
        ax.imshow(values, cmap="magma", vmin=0, vmax=2 * activations.max())
        ax.set_title(title)
        ax.set_xlabel("unit")
        ax.set_ylabel("example")
    plt.show()
    for step in (step_1, step_2):
        assert abs(np.mean(step == 0) - 0.5) < 0.1 and np.allclose(step[step != 0], 2 * activations[step != 0]), (
            "the text says: about half dropped, the survivors doubled")
    assert np.any((step_1 == 0) != (step_2 == 0)), "the text says: a different half at each call"

# %% [markdown]
# ## 7. Early stopping
#
# While a network trains, its training loss keeps falling; its validation loss usually
# falls too, bottoms out, and then climbs as the network starts to memorise its training
# set. **Early stopping** measures the validation loss after every epoch, keeps a copy of
# the weights from the best epoch so far, and stops once the loss has not improved for
# `patience` epochs in a row; then the best weights are restored. It costs one evaluation
# per epoch and nothing else, which makes it the most used regulariser of all.
#
# Two details. Keep a **copy** of the best weights: `model.state_dict()` in PyTorch returns
# the live parameter tensors, which the next optimiser step changes in place, so store
# `copy.deepcopy(model.state_dict())`. And be generous with the patience: a validation curve
# is noisy, and after double descent (section 5) it can rise for a while and then improve
# again.
#
# The other everyday regularisers are the **L2 and L1 penalties** of notebook 02, added to
# the loss. For an L2 penalty PyTorch's optimisers have a shortcut, `weight_decay=λ`, which
# adds $\lambda w$ to every gradient; with Adam, `torch.optim.AdamW` applies the decay
# directly to the weights instead, which works better.
#
# ### Exercise 6: `EarlyStopping`
#
# `step(epoch, val_loss, state)` is called once per epoch. An epoch **improves** when its
# validation loss is lower than the best so far by more than `min_delta`; then record the
# loss, the epoch and a deep copy of `state` (`copy.deepcopy`). Any other epoch counts as a
# bad one. Return `True` (stop) once `patience` bad epochs have passed in a row since the
# last improvement.

# %% solution="early_stopping"
class EarlyStopping:
    """Watch the validation loss; remember the best epoch and its weights; say when to stop."""

    def __init__(self, patience: int = 5, min_delta: float = 0.0):
        self.patience = patience  # bad epochs in a row before stopping
        self.min_delta = min_delta  # an improvement must beat the best loss by more than this
        self.best_loss = math.inf
        self.best_epoch = -1
        self.best_state = None  # a copy of the weights of the best epoch
        self.bad_epochs = 0  # epochs since the last improvement

    def step(self, epoch: int, val_loss: float, state: object) -> bool:
        """Record one epoch's validation loss and weights (any object: a state_dict, a dict of
        arrays, ...). Returns True when training should stop."""
        ### BEGIN SOLUTION
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = float(val_loss)
            self.best_epoch = epoch
            self.best_state = copy.deepcopy(state)
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience
        ### END SOLUTION


# %% tests="test_early_stopping" points=2
val_losses = [1.0, 0.8, 0.7, 0.72, 0.69, 0.71, 0.73, 0.74, 0.75, 0.6]
weights = {"W": np.zeros(3)}
stopper = EarlyStopping(patience=3)
decisions = []
for epoch, loss in enumerate(val_losses):
    weights["W"] += 1  # training changes the weights IN PLACE, as an optimiser does
    decisions.append(stopper.step(epoch, loss, weights))
    if decisions[-1]:
        break
cu.check_close(stopper.best_loss, 0.69, "best_loss", hint="record the loss of every improving epoch in self.best_loss")
cu.check_equal(stopper.best_epoch, 4, "best_epoch")
cu.check_close(stopper.best_state["W"], [5.0, 5.0, 5.0], "best_state['W'], the weights after epoch 4",
               hint="store copy.deepcopy(state): the caller keeps changing its weights in place after the best epoch")
cu.check_equal(decisions, [False] * 7 + [True], "the stop decisions of epochs 0 to 7",
               hint="stop once `patience` = 3 bad epochs have passed in a row: epochs 5, 6 and 7 come after the best "
                    "epoch 4, so epoch 7 says stop; reset the count of bad epochs to 0 at every improvement")
# An equal loss is not an improvement.
stopper = EarlyStopping(patience=2)
cu.check_equal([stopper.step(e, 0.5, {}) for e in range(3)], [False, False, True],
               "decisions for the losses 0.5, 0.5, 0.5 with patience 2",
               hint="an epoch improves only if its loss is strictly lower than the best so far")
# min_delta: 0.695 and 0.692 improve on 0.7 by less than min_delta = 0.01, so they are bad epochs.
stopper = EarlyStopping(patience=2, min_delta=0.01)
cu.check_equal([stopper.step(e, v, {}) for e, v in enumerate([0.7, 0.695, 0.692])], [False, False, True],
               "decisions for the losses 0.7, 0.695, 0.692 with min_delta = 0.01 and patience 2",
               hint="an improvement must beat the best loss by MORE than min_delta: val_loss < best − min_delta")
cu.check_equal(stopper.best_epoch, 0, "best_epoch with min_delta")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report


def _run_stopper(losses, patience, min_delta=0.0):
    stopper, weights, decisions = EarlyStopping(patience=patience, min_delta=min_delta), {"w": np.zeros(2)}, []
    for epoch, loss in enumerate(losses):
        weights["w"] += np.array([1.0, -0.5])
        decisions.append(int(bool(stopper.step(epoch, loss, weights))))
    return np.array(decisions), stopper


_rng = hidden_rng(4106)
# A noisy validation curve for this course: falling, then flat, then rising.
_losses = list(np.round(1.0 + 0.8 * np.exp(-np.arange(30) / 4) + 0.004 * np.maximum(np.arange(30) - 14, 0) ** 2
                        + _rng.normal(0, 0.02, size=30), 4))
report("stop decisions on an unseen curve, patience 3", lambda: _run_stopper(_losses, 3)[0], kind="equal")
report("best epoch, patience 3", lambda: _run_stopper(_losses, 3)[1].best_epoch, kind="equal")
report("best loss, patience 3", lambda: float(_run_stopper(_losses, 3)[1].best_loss), rtol=1e-12)
report("weights of the best epoch (a copy)", lambda: _run_stopper(_losses, 3)[1].best_state["w"], rtol=1e-12)
report("stop decisions, patience 1", lambda: _run_stopper(_losses, 1)[0], kind="equal")
report("ties are not improvements", lambda: _run_stopper([1.0, 1.0, 1.0, 0.9, 0.9], 2)[0], kind="equal")
report("stop decisions with min_delta = 0.05",
       lambda: _run_stopper([1.0, 0.97, 0.96, 0.955, 0.9, 0.8], 3, min_delta=0.05)[0], kind="equal")
report("best epoch with min_delta = 0.05",
       lambda: _run_stopper([1.0, 0.97, 0.96, 0.955], 3, min_delta=0.05)[1].best_epoch, kind="equal")


def _state_dict_copy():
    torch.manual_seed(hidden_seed(4115))
    layer = nn.Linear(3, 2)
    stopper = EarlyStopping(patience=2)
    stopper.step(0, 0.5, layer.state_dict())
    snapshot = layer.weight.detach().clone()
    with torch.no_grad():
        layer.weight.add_(1.0)  # an optimiser step, in place
    stopper.step(1, 0.6, layer.state_dict())
    return stopper.best_state["weight"] - snapshot


report("a state_dict is copied, not referenced", _state_dict_copy, rtol=0, atol=1e-12)

# A loss that creeps down by less than min_delta per epoch: none of those epochs is an improvement,
# so the best loss must stay where it was. (A stopper that lowers its best loss on such an epoch
# without calling it an improvement never sees the later, real improvement.)
_step = float(_rng.uniform(0.02, 0.04))
_creep = [1.0 - _step * e for e in range(12)] + [0.3, 0.31, 0.32, 0.33, 0.34, 0.35]
for _patience in (3, 8):
    report(f"a slow creep below min_delta = 0.05, patience {_patience}: stop decisions",
           lambda p=_patience: _run_stopper(_creep, p, min_delta=0.05)[0], kind="equal")
    report(f"a slow creep below min_delta = 0.05, patience {_patience}: best epoch and loss",
           lambda p=_patience: (lambda st: np.array([st.best_epoch, st.best_loss]))(
               _run_stopper(_creep, p, min_delta=0.05)[1]), rtol=1e-12)
# Bad epochs that come close to the best but do not beat it, then a real improvement, then a plateau.
_near = [2.0, 1.2, 1.25, 1.21, 1.2, 1.19, 1.1, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3]
report("near misses and ties, patience 4, min_delta = 0.02",
       lambda: (lambda d, st: np.concatenate([d, [st.best_epoch, st.best_loss, st.bad_epochs]]))(
           *_run_stopper(_near, 4, min_delta=0.02)), rtol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ## 8. Your optimiser in PyTorch
#
# PyTorch's optimisers are subclasses of `torch.optim.Optimizer`. Writing one takes three
# facts about that class:
#
# * `self.param_groups` is a list of dictionaries, one per **group** of parameters. Each
#   holds the tensors under `"params"` and the group's hyperparameters under their names
#   (`"lr"`, ...). Groups let one model use, say, a smaller learning rate for some layers.
#   A **scheduler** changes `group["lr"]` between epochs, so `step` must read it at every
#   step, never copy it once.
# * `self.state[p]` is a dictionary per parameter tensor `p` that persists between steps:
#   the place for a rule's memory (velocity, running averages, step count).
# * `step()` runs under `torch.no_grad()` and updates every parameter **in place** (the
#   model holds references to these tensors), skipping parameters whose `p.grad` is `None`
#   (they took no part in the loss). `zero_grad()` is inherited.
#
# `RuleOptimizer` runs any of your NumPy rules inside PyTorch:
# `RuleOptimizer(model.parameters(), rule=adam, lr=2e-3)`. Our models live on the CPU, so
# `p.detach().numpy()` and `p.grad.numpy()` are NumPy *views* of the same memory (no copy),
# and `p.copy_(torch.as_tensor(next_w))` writes the result back in place.
#
# ### Exercise 7: `RuleOptimizer.step`
#
# For every group and every parameter with a gradient: take the parameter's `config` from
# `self.state[p]` (an empty dict the first time), put the group's current hyperparameters
# into it (`config.update(...)`, everything in the group except `"params"`), call the rule on
# the NumPy arrays, copy the new values into `p`, and store the returned `config` back in
# `self.state[p]`.

# %% solution="rule_optimizer"
class RuleOptimizer(torch.optim.Optimizer):
    """A torch optimizer that applies a NumPy update rule, rule(w, dw, config) -> (next_w, config),
    to each parameter. Keyword arguments become the hyperparameters of every group: for example
    RuleOptimizer(model.parameters(), rule=sgd_momentum, lr=0.01, momentum=0.9).
    """

    def __init__(self, params, rule, lr: float = 1e-3, **hyperparameters):
        super().__init__(params, {"lr": lr, **hyperparameters})
        self.rule = rule

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient; return closure()'s loss if a closure is given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        ### BEGIN SOLUTION
        for group in self.param_groups:
            hyperparameters = {key: value for key, value in group.items() if key != "params"}
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                config = state.get("config", {})
                config.update(hyperparameters)  # this step's values: a scheduler may have changed lr
                next_w, config = self.rule(p.detach().cpu().numpy(), p.grad.detach().cpu().numpy(), config)
                p.copy_(torch.as_tensor(next_w, dtype=p.dtype))
                state["config"] = config
        ### END SOLUTION
        return loss


# %% tests="test_rule_optimizer" points=3
def optimizer_trajectory(make_optimizer, steps=6, seed=0, scheduler_gamma=None):
    """Train a tiny float64 network for a few steps; return its parameters after each step."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).double()
    X = torch.randn(10, 4, dtype=torch.float64)
    y = torch.randint(0, 2, (10,))
    optimizer = make_optimizer(net.parameters())
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, scheduler_gamma) if scheduler_gamma else None
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(net(X), y).backward()
        optimizer.step()
        if scheduler:
            scheduler.step()
        trajectory.append(torch.cat([p.detach().flatten() for p in net.parameters()]).numpy().copy())
    return np.array(trajectory)


# A parameter that took no part in the loss has p.grad None: it must be skipped.
unused = nn.Parameter(torch.ones(3))
used = nn.Parameter(torch.ones(2))
optimizer = RuleOptimizer([used, unused], rule=sgd, lr=0.5)
(used**2).sum().backward()
try:
    optimizer.step()
except (AttributeError, TypeError) as error:
    raise AssertionError(f"RuleOptimizer.step() failed for a parameter that took no part in the loss: {error}\n"
                         "Hint: skip parameters whose p.grad is None") from error
cu.check_close(used.detach(), [0.0, 0.0], "a parameter after one step of sgd on Σ w², lr = 0.5",
               hint="call the rule on every parameter that has a gradient, 1-D ones (biases) too")
cu.check_close(unused.detach(), [1.0, 1.0, 1.0], "a parameter without a gradient",
               hint="skip parameters whose p.grad is None")


def compare_with_torch(ours, theirs, what, hint, **kwargs):
    """Trajectories of RuleOptimizer and of the matching torch optimizer, compared; a crash is explained too."""
    try:
        trajectory = optimizer_trajectory(ours, **kwargs)
    except (ValueError, RuntimeError) as error:
        raise AssertionError(f"{what}: step() raised {type(error).__name__}: {error}\nHint: {hint}") from error
    cu.check_close(trajectory, optimizer_trajectory(theirs, **kwargs), what, rtol=1e-9, hint=hint)


compare_with_torch(lambda ps: RuleOptimizer(ps, rule=sgd, lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1),
                   "RuleOptimizer(rule=sgd) vs torch.optim.SGD",
                   hint="call the rule on every parameter that has a gradient and copy next_w into p in place (p.copy_)")
compare_with_torch(lambda ps: RuleOptimizer(ps, rule=sgd_momentum, lr=0.1, momentum=0.9),
                   lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
                   "RuleOptimizer(rule=sgd_momentum) vs torch.optim.SGD(momentum=0.9)",
                   hint="each parameter needs its own config, kept in self.state[p] from one step to the next "
                        "(the velocity must survive); and the group's hyperparameters (momentum=0.9) go into it")
compare_with_torch(lambda ps: RuleOptimizer(ps, rule=adam, lr=0.01), lambda ps: torch.optim.Adam(ps, lr=0.01),
                   "RuleOptimizer(rule=adam) vs torch.optim.Adam",
                   hint="each parameter keeps its own m, v and t in self.state[p]")
compare_with_torch(lambda ps: RuleOptimizer(ps, rule=adam, lr=0.01), lambda ps: torch.optim.Adam(ps, lr=0.01),
                   "RuleOptimizer(rule=adam) with a scheduler (lr halved after every step)", scheduler_gamma=0.5,
                   hint="read the group's hyperparameters, group['lr'] included, at EVERY step (config.update(...)): "
                        "the scheduler changes them")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_seed, report


def _memory_rule(w, dw, config):
    # The grader's own stateful rule, so these checks depend on your step() only.
    config.setdefault("t", 0)
    config.setdefault("acc", np.zeros_like(w))
    config["t"] += 1
    config["acc"] = 0.5 * config["acc"] + dw
    return w - config["lr"] * config["t"] * config["acc"] - config.get("shift", 0.0), config


def _params(net):
    return torch.cat([p.detach().flatten() for p in net.parameters()]).numpy().copy()


def _tiny_run(groups_of, steps=4, lr_change=None):
    torch.manual_seed(hidden_seed(4107))
    net = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)).double()
    X, y = torch.randn(12, 5, dtype=torch.float64), torch.randint(0, 3, (12,))
    optimizer = RuleOptimizer(groups_of(net), rule=_memory_rule, lr=0.05)
    out = []
    for i in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(net(X), y).backward()
        optimizer.step()
        if lr_change:
            lr_change(optimizer, i)
        out.append(_params(net))
    return np.array(out)


report("4 steps with a stateful rule (state kept per parameter)", lambda: _tiny_run(lambda n: n.parameters()),
       rtol=1e-9)
report("two parameter groups with their own hyperparameters",
       lambda: _tiny_run(lambda n: [{"params": n[0].parameters(), "lr": 0.01, "shift": 0.001},
                                    {"params": n[2].parameters()}]), rtol=1e-9)


def _scale_lr(optimizer, i):
    for group in optimizer.param_groups:
        group["lr"] *= 0.3


report("a learning rate changed between steps", lambda: _tiny_run(lambda n: n.parameters(), lr_change=_scale_lr),
       rtol=1e-9)


def _no_grad_parameter():
    torch.manual_seed(hidden_seed(4114))
    w, frozen = nn.Parameter(torch.randn(3, dtype=torch.float64)), nn.Parameter(torch.randn(2, dtype=torch.float64))
    before = frozen.detach().clone()
    optimizer = RuleOptimizer([frozen, w], rule=_memory_rule, lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        (w**3).sum().backward()
        optimizer.step()
    return w.detach().clone(), frozen.detach() - before


report("parameters without a gradient are skipped", _no_grad_parameter, rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ## 9. Training an MLP on Fashion-MNIST
#
# Everything comes together: a multi-layer perceptron in PyTorch,
# $784 \to 512 \to 256 \to 10$ with ReLUs, trained with *your* Adam inside *your*
# `RuleOptimizer`: minibatches of 512, $\eta = 3 \cdot 10^{-3}$ decayed by a factor 0.7 per epoch
# (PyTorch's `ExponentialLR`, that is `exponential_decay` with $k = -\ln 0.7$), 8 epochs. A
# large batch means fewer steps, and your optimiser's steps run in NumPy. The whole training set
# sits in memory as one float32 tensor, and minibatches are slices of it: for a dataset this
# small that is much faster than a `DataLoader` that assembles batches example by example.
#
# The pixels are standardised as in notebook 03.

# %%
def load_tensors(split: str, mean: float | None = None, std: float | None = None):
    """Fashion-MNIST `split` as (X float32 (N, 784), y int64 (N,)) tensors, and the (mean, std) used.

    Pixels are scaled to [0, 1], then standardised with the given statistics (those of the
    split itself when not given: pass the training set's for every other split).
    """
    X_raw, y = cu.load_fashion_mnist(split, flatten=True)
    X = X_raw.astype(np.float32) / 255
    mean, std = (float(X.mean()), float(X.std())) if mean is None else (mean, std)
    return torch.from_numpy((X - mean) / std), torch.from_numpy(y), (mean, std)


X_train, y_train, train_stats = load_tensors("train")
X_val, y_val, _ = load_tensors("val", *train_stats)


def make_mlp(seed: int = 0, hidden: tuple[int, ...] = (512, 256), dropout: nn.Module | None = None) -> nn.Sequential:
    """784 → hidden... → 10 with ReLUs (and `dropout` after each ReLU if given), PyTorch's default init."""
    torch.manual_seed(seed)
    layers, width = [], 784
    for units in hidden:
        layers += [nn.Linear(width, units), nn.ReLU()] + ([dropout] if dropout is not None else [])
        width = units
    return nn.Sequential(*layers, nn.Linear(width, 10))


@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of the model on (X, y), in evaluation mode."""
    model.eval()
    scores = model(X)
    return F.cross_entropy(scores, y).item(), (scores.argmax(dim=1) == y).float().mean().item()


print(X_train.shape, X_train.dtype, f"mean {X_train.mean():.3f}, std {X_train.std():.3f}")
print(make_mlp())

# %% [markdown]
# ### Exercise 8: one epoch of training
#
# `train_epoch` makes one pass over the data: draw a random order of the $N$ examples with
# `torch.randperm(N, generator=generator)`, walk through it in minibatches of
# `batch_size` (the last one may be smaller), and for each minibatch do the four steps of
# every PyTorch training loop:
#
# 1. `optimizer.zero_grad()`: PyTorch **adds** new gradients to `p.grad`, so clear the old ones;
# 2. the forward pass and the loss, `F.cross_entropy(model(X_batch), y_batch)`;
# 3. `loss.backward()`;
# 4. `optimizer.step()`.
#
# Record each minibatch's loss as a Python float (`loss.item()`).

# %% solution="train_epoch"
def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, X: torch.Tensor, y: torch.Tensor,
                batch_size: int = 256, generator: torch.Generator | None = None) -> list[float]:
    """One epoch of minibatch training with the cross-entropy loss, in shuffled order.

    X: (N, D) float tensor, y: (N,) int64 tensor. Returns the loss of every minibatch, in order.
    """
    model.train()
    losses = []
    ### BEGIN SOLUTION
    order = torch.randperm(len(X), generator=generator)
    for start in range(0, len(X), batch_size):
        batch = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X[batch]), y[batch])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    ### END SOLUTION
    return losses


# %% tests="test_train_mlp" points=3
class IndexRecorder(nn.Module):
    """A linear model that also records which examples it is shown (column 0 of X holds each example's index)."""

    def __init__(self, classes=3):
        super().__init__()
        self.linear = nn.Linear(1, classes).double()
        self.seen = []

    def forward(self, x):
        self.seen.append(x[:, 0].long().tolist())
        return self.linear(x[:, 1:])


N = 1000
X_idx = torch.stack([torch.arange(N, dtype=torch.float64), torch.randn(N, dtype=torch.float64)], dim=1)
y_idx = torch.randint(0, 3, (N,))
recorder = IndexRecorder()
losses = train_epoch(recorder, torch.optim.SGD(recorder.parameters(), lr=0.1), X_idx, y_idx, batch_size=96)
cu.check_equal(len(losses), 11, "number of losses for 1,000 examples in batches of 96",
               hint="one loss per minibatch, the last one smaller: range(0, N, batch_size)")
cu.check_equal(all(isinstance(v, float) for v in losses), True, "every loss is a Python float",
               hint="record loss.item()")
epoch_1 = [i for batch in recorder.seen for i in batch]
cu.check_equal(sorted(epoch_1), list(range(N)), "the examples seen in one epoch, sorted",
               hint="every example exactly once per epoch: slice a permutation of range(N)")
cu.check_equal(epoch_1 != list(range(N)), True, "examples are shown in a shuffled order",
               hint="walk through torch.randperm(N, generator=generator), not through range(N)")
recorder.seen.clear()
train_epoch(recorder, torch.optim.SGD(recorder.parameters(), lr=0.1), X_idx, y_idx, batch_size=96)
cu.check_equal([i for batch in recorder.seen for i in batch] != epoch_1, True, "a new order in every epoch")


class Oracle(nn.Module):
    """Answers class (index mod 3) with near certainty: its loss is about 0 only if every label goes with its image."""

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def forward(self, x):
        return 30.0 * F.one_hot(x[:, 0].long() % 3, 3).double() + 0.0 * self.unused


y_oracle = X_idx[:, 0].long() % 3
oracle = Oracle()
oracle_losses = train_epoch(oracle, torch.optim.SGD(oracle.parameters(), lr=0.0), X_idx, y_oracle, batch_size=96)
cu.check_close(max(oracle_losses), 0.0, "the largest minibatch loss of a model that knows every label", atol=1e-6,
               hint="each image must come with its own label: index the images and the labels with the SAME "
                    "minibatch indices, X[batch] and y[batch]")


class GradientRecorder(torch.optim.SGD):
    """SGD at lr = 0 (the model never changes) that records the gradients it is handed at every step."""

    def __init__(self, model):
        super().__init__(model.parameters(), lr=0.0)
        self.model, self.grads = model, []

    def step(self, closure=None):
        self.grads.append([p.grad.detach().clone() for p in self.model.parameters()])
        return super().step(closure)


# At lr = 0 the model never changes, so the right gradient at each step is that of the step's own
# minibatch alone. Gradients left over from earlier steps would be added to it.
recorder = IndexRecorder()
frozen = GradientRecorder(recorder)
for _ in range(2):
    train_epoch(recorder, frozen, X_idx, y_idx, batch_size=250)
for step, (batch, grads) in enumerate(zip(recorder.seen, frozen.grads)):
    recorder.zero_grad()
    F.cross_entropy(recorder.linear(X_idx[batch][:, 1:]), y_idx[batch]).backward()
    cu.check_close(torch.cat([g.flatten() for g in grads]), torch.cat([p.grad.flatten() for p in recorder.parameters()]),
                   f"the gradient at step {step} (of 8, minibatches of 250) vs that of its own minibatch", rtol=1e-9,
                   hint="call optimizer.zero_grad() before every backward pass (or right after every step): "
                        "PyTorch adds gradients up")
# A quick run: a small network, 5,000 images, 2 epochs, PyTorch's own Adam. Expect about 0.8.
quick = make_mlp(hidden=(64,))
for _ in range(2):
    train_epoch(quick, torch.optim.Adam(quick.parameters(), lr=1e-3), X_train[:5000], y_train[:5000], batch_size=100,
                generator=torch.Generator().manual_seed(0))
quick_accuracy = evaluate(quick, X_val, y_val)[1]
print(f"quick run: validation accuracy {quick_accuracy:.3f}")
assert quick_accuracy > 0.75, (f"validation accuracy {quick_accuracy:.3f} after the quick run; expected about 0.8. "
                               "Index the images and the labels with the SAME minibatch indices.")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_seed, report

_g = torch.Generator().manual_seed(hidden_seed(4108))
_X = torch.stack([torch.arange(700, dtype=torch.float64), torch.randn(700, generator=_g, dtype=torch.float64)], dim=1)
_y = torch.randint(0, 3, (700,), generator=_g)


def _seen(batch_size, epochs=2):
    rec = IndexRecorder()
    optimizer = torch.optim.SGD(rec.parameters(), lr=0.05)
    generator = torch.Generator().manual_seed(hidden_seed(4109))
    orders, counts = [], []
    for _ in range(epochs):
        rec.seen.clear()
        counts.append(len(train_epoch(rec, optimizer, _X, _y, batch_size=batch_size, generator=generator)))
        orders.append([i for batch in rec.seen for i in batch])
    return orders, counts


report("number of minibatch losses (700 examples, batches of 64)", lambda: np.array(_seen(64)[1]), kind="equal")
report("every example once per epoch", lambda: np.array([sorted(o) for o in _seen(50)[0]]), kind="equal")
report("a shuffled order, new every epoch",
       lambda: (lambda o: np.array([o[0] != list(range(700)), o[0] != o[1]]))(_seen(50)[0]), kind="equal")


def _full_batch(epochs):
    # One minibatch of all examples: the order cannot matter, so the result is determined.
    torch.manual_seed(hidden_seed(4110))
    rec = IndexRecorder()
    optimizer = torch.optim.SGD(rec.parameters(), lr=0.3, momentum=0.5)
    losses = [train_epoch(rec, optimizer, _X, _y, batch_size=1000)[0] for _ in range(epochs)]
    return np.array(losses), torch.cat([p.detach().flatten() for p in rec.parameters()])


report("full-batch training: the losses", lambda: _full_batch(6)[0], rtol=1e-7)
report("full-batch training: the parameters", lambda: _full_batch(6)[1], rtol=1e-7)


class _StepRecorder(torch.optim.SGD):
    """SGD at lr = 0 that records, at every step, the gradient it was handed and the examples of that batch."""

    def __init__(self, model):
        super().__init__(model.parameters(), lr=0.0)
        self.model, self.steps = model, []

    def step(self, closure=None):
        grads = [p.grad.detach().clone() if p.grad is not None else None for p in self.model.parameters()]
        self.steps.append((self.model.seen[-1], grads))
        return super().step(closure)


def _gradient_per_step():
    # At lr = 0 the parameters never move, so the right gradient at each step is that of the step's
    # own minibatch alone. Returns the largest difference from it over all steps of two epochs.
    torch.manual_seed(hidden_seed(4111))
    rec = IndexRecorder()
    optimizer = _StepRecorder(rec)
    generator = torch.Generator().manual_seed(hidden_seed(4112))
    for _ in range(2):
        train_epoch(rec, optimizer, _X, _y, batch_size=100, generator=generator)
    worst = 0.0
    for batch, grads in optimizer.steps:
        rec.zero_grad()
        F.cross_entropy(rec.linear(_X[batch][:, 1:]), _y[batch]).backward()
        for p, g in zip(rec.parameters(), grads):
            worst = max(worst, float("inf") if g is None else float((p.grad - g).abs().max()))
    return np.array([len(optimizer.steps), worst])


report("each step's gradient is that of its own minibatch (14 steps)", _gradient_per_step, rtol=0, atol=1e-10)
### END HIDDEN TESTS

# %% [markdown]
# ### The real thing
#
# Your Adam in your `RuleOptimizer`, 8 epochs on all 55,000 images, with the settings the
# grader asks for (under half a minute on one CPU core; the cell prints the time). The data
# is loaded again here, so that this run is the same whatever the cells above did to
# `X_train`.

# %%
with cu.needs_your_code():
    X_fit, y_fit, fit_stats = load_tensors("train")
    X_holdout, y_holdout, _ = load_tensors("val", *fit_stats)
    model = make_mlp(seed=0)
    optimizer = RuleOptimizer(model.parameters(), rule=adam, lr=3e-3)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.7)
    generator = torch.Generator().manual_seed(0)
    run_losses, run_history = [], []
    start = time.perf_counter()
    for epoch in range(8):
        run_losses += train_epoch(model, optimizer, X_fit, y_fit, batch_size=512, generator=generator)
        scheduler.step()
        run_history.append(evaluate(model, X_holdout, y_holdout))
        print(f"epoch {epoch + 1}: validation loss {run_history[-1][0]:.3f}, accuracy {run_history[-1][1]:.3f} "
              f"({time.perf_counter() - start:.0f} s)")
    train_losses, history = run_losses, run_history  # named only once the run is complete
    training_seconds = time.perf_counter() - start
    print(f"trained in {training_seconds:.0f} s. The grader asks for 0.88 on the test set.")

# %% tests="test_mlp_accuracy" points=2
cu.check_equal(len(history), 8, "number of epochs in the run above", hint="run the training cell above this test")
cu.check_equal(len(train_losses), 8 * 108, "number of minibatch losses (8 epochs of 108 minibatches of 512)")
assert history[0][1] > 0.8, (f"validation accuracy {history[0][1]:.3f} after one epoch; expected about 0.85. "
                             "If test_adam, test_rule_optimizer and test_train_mlp pass, look at the training cell.")
assert history[-1][1] > 0.87, f"validation accuracy {history[-1][1]:.3f} after 8 epochs; expected about 0.89"
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_seed, report
from course_utils import perturb

# The test images as the grader wants them for this course: a random part of them in a random
# order, with noise of a few grey levels (no shift: an MLP, unlike a CNN, is not built to ignore one).
# Only the IMAGES enter the kernel; the grader orders its labels the same way from the same seed.
_eval_seed, _eval_size = hidden_seed(4113), 8000


def _test_predictions():
    # The model of the training cell above, with the grader's settings.
    images = perturb.perturbed_images(cu.load_fashion_mnist_images("test"), _eval_seed, _eval_size, shift=0)
    X_test = (images.reshape(len(images), -1).astype(np.float32) / 255 - fit_stats[0]) / fit_stats[1]
    X_test = torch.from_numpy(X_test.astype(np.float32))
    model.eval()
    with torch.no_grad():
        return model(X_test).argmax(dim=1)


report("test accuracy of the MLP trained with your Adam (8 epochs)", _test_predictions, metric="accuracy",
       labels=f"fashion_mnist_test_perturbed:{_eval_seed}:{_eval_size}", min={"cpu": 0.88, "gpu": 0.88},
       plausible_max={"cpu": 0.93, "gpu": 0.93})
### END HIDDEN TESTS

# %% [markdown]
# The training curves of that run: the loss of every minibatch, and the validation
# accuracy after each epoch.

# %%
with cu.needs_your_code():
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    cu.plot_loss_curve(train_losses, val_losses=[loss for loss, _ in history], ax=axes[0], smooth=50)
    axes[0].set_title("cross-entropy")
    axes[1].plot(range(1, len(history) + 1), [acc for _, acc in history], "o-")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("validation accuracy")
    plt.show()
    epoch_means = np.array(train_losses).reshape(8, -1).mean(axis=1)
    print("mean training loss per epoch:", np.round(epoch_means, 3))
    print("validation accuracy per epoch:", np.round([acc for _, acc in history], 3))
    assert np.all(np.diff(epoch_means) < 0) and history[-1][1] > 0.88, (
        "the summary says: the training loss falls every epoch, and the network reaches about 89 %")

# %% [markdown]
# ### How sensitive is each rule to its learning rate?
#
# A common claim is that adaptive methods are less sensitive to the learning rate. Let us
# measure it. A small network (one hidden layer of 64 units) is trained for 2 epochs on 2,000
# images with each of your rules, at 11 learning rates from $10^{-5}$ to 1, a factor
# $\sqrt{10}$ apart; the plot shows the training loss at the end. Then the whole sweep runs
# again with every gradient 100 times larger: the gradients of the loss *summed* over each
# minibatch of 100 examples instead of averaged, an easy change to make by accident
# (`ScaledGradients` multiplies `p.grad` before your `RuleOptimizer` takes its step).

# %%
class ScaledGradients(RuleOptimizer):
    """RuleOptimizer fed gradients `scale` times larger: those of the loss summed over a minibatch of
    `scale` examples instead of averaged."""

    def __init__(self, params, rule, scale: float = 1.0, **hyperparameters):
        super().__init__(params, rule, **hyperparameters)
        self.scale = scale

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad.mul_(self.scale)
        return super().step(closure)


sweep_rates = np.logspace(-5, 0, 11)  # 1e-5 to 1, a factor √10 apart
sweep_rules = {"SGD": (sgd, {}), "momentum": (sgd_momentum, {"momentum": 0.9}), "RMSProp": (rmsprop, {}),
               "Adam": (adam, {})}
X_sweep, y_sweep = X_train[:2000], y_train[:2000]
sweep = {}  # (gradient scale, rule) -> training loss after 2 epochs, one per learning rate
with cu.needs_your_code(), np.errstate(all="ignore"):  # diverging runs overflow: that is expected
    for scale in (1, 100):
        for name, (rule, extra) in sweep_rules.items():
            sweep[scale, name] = []
            for lr in sweep_rates:
                net = make_mlp(seed=1, hidden=(64,))
                opt = ScaledGradients(net.parameters(), rule=rule, scale=scale, lr=lr, **extra)
                gen = torch.Generator().manual_seed(1)
                for _ in range(2):
                    train_epoch(net, opt, X_sweep, y_sweep, batch_size=100, generator=gen)
                loss = evaluate(net, X_sweep, y_sweep)[0]
                sweep[scale, name].append(loss if math.isfinite(loss) else math.inf)

    fig, axes = plt.subplots(1, 2, figsize=(13, 4), sharey=True)
    for ax, scale in zip(axes, (1, 100)):
        for i, name in enumerate(sweep_rules):
            losses = np.array(sweep[scale, name])
            ax.semilogx(sweep_rates, np.minimum(losses, 3.0), "o-", color=f"C{i}", label=name)
            ax.plot(sweep_rates[np.argmin(losses)], losses.min(), "*", color=f"C{i}", markersize=16)
        ax.set_xlabel("learning rate η")
        ax.set_title("gradients of the mean loss" if scale == 1 else "gradients 100 times larger (summed loss)")
        ax.set_ylim(0.3, 2.5)
    axes[0].set_ylabel("training loss after 2 epochs")
    axes[0].legend()
    plt.show()
    best_rate = {key: sweep_rates[np.argmin(losses)] for key, losses in sweep.items()}
    for name in sweep_rules:
        print(f"{name:9s} best η: {best_rate[1, name]:.0e} (mean loss), {best_rate[100, name]:.0e} (summed loss)")
    window = {name: int(np.sum(np.array(sweep[1, name]) < min(sweep[1, name]) + 0.1)) for name in sweep_rules}
    print("learning rates within 0.1 of each rule's best loss:", window)
    assert all(2 <= width <= 3 for width in window.values()), "the text says: each window is about a factor of 10"
    assert all(best_rate[1, name] >= 30 * best_rate[100, name] for name in ["SGD", "momentum"]), (
        "the text says: SGD's and momentum's best learning rates move 100 times lower")
    assert all(best_rate[1, name] == best_rate[100, name] for name in ["RMSProp", "Adam"]), (
        "the text says: RMSProp's and Adam's best learning rates stay where they were")

# %% [markdown]
# On one problem no rule is much more forgiving than the others: each does well only within
# a window about a factor of 10 wide (two or three of the rates tried), and the loss rises
# quickly on either side. The difference shows when the problem changes. With gradients 100
# times larger, the best learning rates of SGD and momentum move 100 times lower, while those
# of RMSProp and Adam stay exactly where they were: dividing by the root mean square of the
# gradients makes their steps independent of the gradients' scale. That is what "less
# sensitive to the learning rate" means in practice: the scale of the gradients changes from
# one network, loss and dataset to the next, and a learning rate that worked for Adam on one
# problem remains a good first guess on the next.

# %% [markdown]
# **Question.** Which of your rules takes, at the same $\eta$, (almost) exactly the same steps
# whether the loss is averaged or summed over the minibatch?
#
# * (a) SGD;
# * (b) SGD with momentum;
# * (c) Adam.
#
# Set `scaled_gradients_answer` to "a", "b" or "c".

# %% solution="choice_scaled_gradients"
### BEGIN SOLUTION
scaled_gradients_answer = "c"
### END SOLUTION

# %% tests="test_choice_scaled_gradients" points=1
cu.check_choice(scaled_gradients_answer, "abc", "scaled_gradients_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", scaled_gradients_answer)
### END HIDDEN TESTS

# %% [markdown]
# ### Regularisation on a small, noisy training set
#
# With all 55,000 images and 8 epochs the network has little chance to overfit. With 1,000
# images and 30 epochs it does. To make the damage plain in a few seconds, we also replace
# 30 % of those 1,000 labels by a random class (sometimes the right one: about a quarter end
# up wrong). Real datasets have some wrong labels too, and
# a network that memorises its training set memorises the wrong labels with it, and pays for
# that on new images. Below, a network with one hidden layer of 256 units is trained on these
# 1,000 images three ways: plain; with *your* dropout after the hidden layer ($p = 0.5$),
# wrapped as a PyTorch autograd function so that PyTorch calls your forward and backward
# passes; and plain again but with *your* `EarlyStopping` (patience 5) on the validation loss,
# which restores the best weights. All three are judged on the 5,000 validation images, whose
# labels we left alone.

# %%
class NumpyDropout(torch.autograd.Function):
    """Your dropout_forward / dropout_backward as a PyTorch operation."""

    @staticmethod
    def forward(ctx, x, p, rng):
        out, ctx.cache = dropout_forward(x.detach().numpy(), p, train=True, rng=rng)
        return torch.as_tensor(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, dout):
        return torch.as_tensor(dropout_backward(dout.numpy(), ctx.cache), dtype=dout.dtype), None, None


class StudentDropout(nn.Module):
    def __init__(self, p: float, seed: int = 0):
        super().__init__()
        self.p, self.rng = p, np.random.default_rng(seed)

    def forward(self, x):
        return NumpyDropout.apply(x, self.p, self.rng) if self.training else x


# %%
X_small = X_train[:1000]
label_rng = np.random.default_rng(0)
y_small = y_train[:1000].clone()
relabelled = torch.from_numpy(label_rng.random(1000) < 0.3)
y_small[relabelled] = torch.from_numpy(label_rng.integers(0, 10, size=int(relabelled.sum())))
wrong_labels = (y_small != y_train[:1000]).float().mean().item()
print(f"{wrong_labels:.0%} of the 1,000 training labels are wrong")
assert 0.2 < wrong_labels < 0.3, "the text says: about a quarter of the labels end up wrong"
runs = {}
with cu.needs_your_code():
    for name, dropout in [("no regularisation", None), ("your dropout, p = 0.5", StudentDropout(0.5))]:
        net = make_mlp(seed=2, hidden=(256,), dropout=dropout)
        opt = RuleOptimizer(net.parameters(), rule=adam, lr=2e-3)
        gen = torch.Generator().manual_seed(2)
        stopper = EarlyStopping(patience=5)
        curves = {"train": [], "validation": []}
        for epoch in range(30):
            train_epoch(net, opt, X_small, y_small, batch_size=50, generator=gen)
            curves["train"].append(evaluate(net, X_small, y_small)[0])
            val_loss, val_acc = evaluate(net, X_val, y_val)
            curves["validation"].append(val_loss)
            if stopper.step(epoch, val_loss, net.state_dict()) and "stopped" not in curves:
                curves["stopped"] = epoch  # we keep training, only to draw the whole curve
        curves["final accuracy"] = val_acc
        net.load_state_dict(stopper.best_state)
        curves["best epoch"], curves["best accuracy"] = stopper.best_epoch, evaluate(net, X_val, y_val)[1]
        runs[name] = curves

    fig, axes = plt.subplots(1, 2, figsize=(13, 4), sharey=True)
    for ax, (name, curves) in zip(axes, runs.items()):
        ax.plot(curves["train"], label="training loss")
        ax.plot(curves["validation"], label="validation loss")
        ax.axvline(curves["best epoch"], color="gray", ls=":", label=f"best epoch ({curves['best epoch']})")
        if "stopped" in curves:
            ax.axvline(curves["stopped"], color="C3", ls="--", label=f"early stopping stops ({curves['stopped']})")
        ax.set_title(f"{name}\nval. accuracy: after 30 epochs {curves['final accuracy']:.3f}, "
                     f"best epoch {curves['best accuracy']:.3f}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("cross-entropy")
        ax.legend(fontsize=8)
    plt.show()
    plain, dropped = runs["no regularisation"], runs["your dropout, p = 0.5"]
    for name, curves in runs.items():
        print(f"{name}: training loss after 30 epochs {curves['train'][-1]:.2f}; validation loss lowest "
              f"{min(curves['validation']):.2f} (epoch {curves['best epoch']}), after 30 epochs "
              f"{curves['validation'][-1]:.2f}")
    assert plain["train"][-1] < 0.5 * min(plain["validation"]) and plain["validation"][-1] > 1.3 * min(plain["validation"]), (
        "the text says: without regularisation the training loss heads for zero while the validation loss turns up")
    assert plain["best accuracy"] > plain["final accuracy"] + 0.03, "the text says: early stopping helps"
    assert dropped["final accuracy"] > plain["final accuracy"] + 0.03, "the text says: dropout helps"
    assert dropped["best epoch"] > plain["best epoch"], "the text says: with dropout the best epoch comes later"
    assert dropped["final accuracy"] > dropped["best accuracy"] - 0.02, (
        "the text says: with dropout the accuracy after 30 epochs stays close to its best")

# %% [markdown]
# Without regularisation the training loss heads for zero while the validation loss turns
# upwards after a few epochs: the network learns the wrong labels by heart, and grows ever
# more confident, also where it is wrong. Its validation accuracy after 30 epochs is well
# below that of its own best epoch, which early stopping finds and keeps: on this data early
# stopping is worth several points of accuracy. Dropout slows the memorisation down, so the
# validation loss bottoms out later and the accuracy after 30 epochs stays close to its best.
# In practice the two are combined, and the dropout rate and the patience are
# hyperparameters chosen on the validation set.
#
# ## Summary
#
# * Gradient descent steps against the gradient, $W \leftarrow W - \eta \nabla L$. On a
#   quadratic it converges only for $\eta < 2 / \lambda_{\max}$, and the ratio of the
#   curvatures sets its speed.
# * Minibatch gradients are unbiased, with noise falling like $1/\sqrt{B}$; an epoch uses
#   every minibatch once. The noise helps escape saddle points; different starts end in
#   different minima.
# * Momentum accumulates a velocity, $v \leftarrow \mu v + \nabla L$; RMSProp divides by a
#   running root mean square of the gradients; Adam does both, with a bias correction
#   for the first steps. Adam with $\eta \approx 10^{-3}$ is the usual first try: on one
#   problem its good learning rates span no wider a window than SGD's, but they stay put
#   when the scale of the gradients changes.
# * Schedules lower the learning rate as training goes on: step decay, exponential decay,
#   and others.
# * Capacity: too little underfits, too much overfits; the validation error tells where
#   the ideal fit is, and double descent warns that the picture can be more complicated.
# * Inverted dropout drops units with probability $p$ and scales the rest by
#   $1 / (1 - p)$ during training, so that test time needs no change. Early stopping keeps
#   the weights of the best validation epoch. On a small training set with wrong labels,
#   each was worth several points of validation accuracy.
# * An optimiser in PyTorch is a class with `param_groups`, per-parameter `state` and an
#   in-place `step()`: yours trained an MLP to about 89 % on Fashion-MNIST.
#
# Next, `04b_normalization`: batch and layer normalisation, which make deep nets far less
# sensitive to their initial weights; then `04c_conv_layers` and `05_cnns`: layers that know
# that images are images.
