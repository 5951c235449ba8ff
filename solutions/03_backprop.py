# %% [markdown]
# # 03 · Backpropagation
#
# A linear classifier (notebook 01) draws straight lines; a softmax loss (notebook 02) tells
# it how wrong it is. To go further we stack layers with nonlinear **activations** in
# between, and then we need the gradient of the loss with respect to *every* weight of
# every layer. **Backpropagation** computes all of them in one backward sweep, by applying
# the chain rule on the graph of the computation.
#
# You will implement:
#
# * forward and backward passes for four layers: `affine`, `relu`, `sigmoid` and `tanh`;
# * `Value`, a tiny automatic differentiation engine for scalars that does backpropagation
#   on any graph you build with `+`, `*`, `tanh`, `relu` and `exp`;
# * `two_layer_loss`, the loss and all gradients of the network
#   $f(x) = W_2 \max(0, W_1 x + b_1) + b_2$ with a softmax loss;
# * `init_two_layer` and `train_two_layer`, which train that network on Fashion-MNIST to
#   more than 85 % test accuracy in a few seconds;
# * `sample_hyperparameters` and `random_search`, which choose its learning rate and
#   regularisation strength on a validation set.
#
# Every backward pass is checked twice: against a **numerical gradient** in float64 and
# against **PyTorch's autograd**.

# %%
import io
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

import course_utils as cu

cu.seed_everything(0)

# %% [markdown]
# ## 1. Functions of functions
#
# Take two simple functions, a line $f(x) = ax + b$ and the **sigmoid**
# $\sigma(z) = 1 / (1 + e^{-z})$. Their composition
#
# $$ \sigma(f(x)) = \frac{1}{1 + e^{-(ax + b)}} $$
#
# is already a one-neuron network. Each piece has an easy derivative,
#
# $$ \frac{df}{dx} = a, \qquad \frac{d\sigma}{dz} = \sigma(z)\,\big(1 - \sigma(z)\big), $$
#
# and the **chain rule** multiplies them: with $z = f(x)$,
#
# $$ \frac{d\sigma}{dx} = \frac{d\sigma}{dz} \cdot \frac{dz}{dx} = \sigma(z)\,\big(1 - \sigma(z)\big)\, a . $$
#
# For example, with $a = 2$, $b = -1$ and $x = 0.5$: $z = 0$, $\sigma(0) = 0.5$, and
# $d\sigma/dx = 0.5 \cdot 0.5 \cdot 2 = 0.5$. A centred difference
# $\big(g(x + h) - g(x - h)\big) / 2h$ agrees:

# %%
a, b = 2.0, -1.0
g = lambda x: 1 / (1 + np.exp(-(a * x + b)))
h = 1e-6
chain_rule, centred = g(0.5) * (1 - g(0.5)) * a, (g(0.5 + h) - g(0.5 - h)) / (2 * h)
print("chain rule:           ", chain_rule)
print("centred differences:  ", centred)
assert abs(chain_rule - 0.5) < 1e-12 and abs(centred - chain_rule) < 1e-8, "the text says both give 0.5"

xs = np.linspace(-3, 4, 200)
plt.figure(figsize=(5, 3))
plt.plot(xs, g(xs), label=r"$\sigma(ax + b)$")
plt.plot(xs, g(xs) * (1 - g(xs)) * a, label=r"$d\sigma/dx$")
plt.axvline(0.5, color="gray", lw=0.5)
plt.legend()
plt.title("a = 2, b = −1")
plt.show()

# %% [markdown]
# ## 2. The chain rule on a graph
#
# Any computation built from simple operations is a **graph**: one node per intermediate
# value, an edge from each input of an operation to its output. The **forward pass**
# computes and stores every node's value, inputs first. For the loss $L$ at the top we
# want $\partial L / \partial u$ for every node $u$. A node can be used by several later
# nodes (its *children* in the graph, the nodes computed from it); a change in $u$
# reaches $L$ through each of them, and the contributions add up:
#
# $$ \frac{\partial L}{\partial u} = \sum_{v \in \text{children}(u)}
#    \frac{\partial L}{\partial v} \cdot \frac{\partial v}{\partial u} . $$
#
# $\partial v / \partial u$ is a **local gradient**: it depends only on the operation $v$
# and the stored values of its inputs ($v = u \cdot w$ gives $\partial v / \partial u = w$).
# So the **backward pass** starts from $\partial L / \partial L = 1$ at the top and visits
# the nodes in reverse order; when it reaches $v$, every child of $v$ has been visited, so
# $\partial L / \partial v$ is complete, and $v$ passes
# $\partial L / \partial v \cdot \partial v / \partial u$ down to each of its inputs $u$.
# A weight $w$ used by a node $u$ gets $\partial L / \partial w = \partial L / \partial u
# \cdot \partial u / \partial w$. One forward pass and one backward pass give the
# gradient with respect to *every* input, at about twice the cost of the forward pass.
#
# **A worked example: one neuron.** A neuron takes the activations $a_1, a_2$ of two
# earlier neurons and computes
#
# $$ a_3 = g(w_{13}\,a_1 + w_{23}\,a_2 + b_3) $$
#
# with an activation function $g$, here $\tanh$. With $a_1 = 2$, $a_2 = -1$,
# $w_{13} = 0.5$, $w_{23} = 1.5$, $b_3 = 1$, the forward pass gives
#
# | node | value | local gradient(s) | $\partial a_3 / \partial(\text{node})$ |
# | --- | --- | --- | --- |
# | $p = w_{13} a_1$ | $1$ | $\partial p/\partial w_{13} = a_1 = 2$, $\partial p/\partial a_1 = w_{13} = 0.5$ | $0.7864$ |
# | $q = w_{23} a_2$ | $-1.5$ | $\partial q/\partial w_{23} = a_2 = -1$, $\partial q/\partial a_2 = w_{23} = 1.5$ | $0.7864$ |
# | $z = p + q + b_3$ | $0.5$ | $1$ for each of $p$, $q$, $b_3$ | $0.7864$ |
# | $a_3 = \tanh z$ | $0.4621$ | $1 - \tanh^2 z = 0.7864$ | $1$ |
#
# and the backward pass, reading the table bottom-up, gives
# $\partial a_3/\partial w_{13} = 0.7864 \cdot 2 = 1.5729$,
# $\partial a_3/\partial w_{23} = -0.7864$, $\partial a_3/\partial b_3 = 0.7864$,
# $\partial a_3/\partial a_1 = 0.3932$ and $\partial a_3/\partial a_2 = 1.1796$.
# You will build exactly this graph with your own autodiff engine in section 5.

# %% [markdown]
# ## 3. Neurons, layers and networks
#
# Many neurons reading the same inputs form a **layer**. For one input row vector $x$ a
# layer computes all its neurons' pre-activations at once, $x W^\top + b$, one column per
# neuron; with a batch $X \in \mathbb{R}^{N \times D}$ (one example per row, as in
# notebook 01) that is $X W^\top + b$ with $W \in \mathbb{R}^{M \times D}$. Without an
# activation this is the **perceptron**, the linear classifier of notebook 01. With one
# hidden layer we get a **multi-layer perceptron** (MLP),
#
# $$ f(x) = W_2\, g(W_1 x + b_1) + b_2 , $$
#
# and stacking more gives **deep** networks such as
# $f = W_3 \max(0, W_2 \max(0, W_1 x))$: "deep" simply means many hidden layers.
#
# **A worked example.** A layer of two sigmoid neurons with
# $W = \begin{pmatrix} 1 & -2 \\ -1 & 1 \end{pmatrix}$, $b = (1, 0)$ and input $x = (1, -1)$:
#
# $$ \sigma\!\left(\begin{pmatrix} 1 & -2 \\ -1 & 1 \end{pmatrix} \begin{pmatrix} 1 \\ -1 \end{pmatrix}
#    + \begin{pmatrix} 1 \\ 0 \end{pmatrix}\right) = \sigma\!\begin{pmatrix} 4 \\ -2 \end{pmatrix}
#    = \begin{pmatrix} 0.98 \\ 0.12 \end{pmatrix} . $$
#
# Your `affine_forward` and `sigmoid_forward` must reproduce these numbers.
#
# ### Activation functions
#
# | name | $g(x)$ |
# | --- | --- |
# | sigmoid | $1 / (1 + e^{-x})$ |
# | tanh | $(e^{2x} - 1) / (e^{2x} + 1)$ |
# | ReLU | $\max(0, x)$ |
# | leaky ReLU | $\max(0.1x, x)$ |
# | maxout | $\max(w_1^\top x + b_1,\ w_2^\top x + b_2)$ (two linear pieces, learned) |
# | ELU | $x$ if $x \ge 0$, else $\alpha (e^x - 1)$ |
#
# Sigmoid and tanh **saturate**: for large $|x|$ their slope is almost 0, so almost no
# gradient flows back through them. ReLU is cheap and does not saturate for $x > 0$, which
# is why it is the default; leaky ReLU and ELU keep a small slope for $x < 0$ so that a
# unit never "dies".

# %%
xs = np.linspace(-4, 4, 401)
activations = {
    "sigmoid": 1 / (1 + np.exp(-xs)),
    "tanh": np.tanh(xs),
    "ReLU": np.maximum(0, xs),
    "leaky ReLU": np.maximum(0.1 * xs, xs),
    "maxout (x, −0.5x + 1)": np.maximum(xs, -0.5 * xs + 1),
    "ELU (α = 1)": np.where(xs >= 0, xs, np.expm1(np.minimum(xs, 0))),
}
fig, axes = plt.subplots(1, 6, figsize=(16, 2.6), sharey=True)
for ax, (name, ys) in zip(axes, activations.items()):
    ax.plot(xs, ys)
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.set_title(name)
axes[0].set_ylim(-2, 4)
plt.show()

# %% [markdown]
# ### Why the activation matters
#
# Without an activation (or with a linear one) depth buys nothing:
# $W_2 (W_1 x + b_1) + b_2 = (W_2 W_1)\,x + (W_2 b_1 + b_2)$ is again one linear layer, and
# so is any stack of them. **Linear activations give linear decisions, whatever the
# depth.** First the algebra, on a random stack of four layers:

# %%
rng = np.random.default_rng(3)
sizes = [2, 16, 16, 16, 3]
layers = [(rng.normal(size=(m, d)), rng.normal(size=m)) for d, m in zip(sizes[:-1], sizes[1:])]
P = rng.normal(size=(5, 2))
out = P
for W, bias in layers:
    out = out @ W.T + bias  # no activation
W_all, b_all = layers[0]
for W, bias in layers[1:]:
    W_all, b_all = W @ W_all, W @ b_all + bias  # multiply the layers out
print("one layer (W_all, b_all) reproduces all four:", np.allclose(out, P @ W_all.T + b_all))
assert np.allclose(out, P @ W_all.T + b_all), "the text says one layer reproduces the linear stack"

# %% [markdown]
# Then the consequence. Notebook 01's linear classifier could not separate a ring from
# its surroundings. Below, the same three-layer network (32 units per hidden layer) is
# trained on the ring twice, with PyTorch for now (you will write the training yourself
# in section 7): once with identity activations, once with ReLUs.

# %%
X_ring, y_ring = cu.make_ring(n=400, seed=0)


def fit_mlp(activation: torch.nn.Module, steps: int = 150):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 32), activation, torch.nn.Linear(32, 32), activation,
                              torch.nn.Linear(32, 2))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    X_t, y_t = torch.tensor(X_ring, dtype=torch.float32), torch.as_tensor(y_ring)
    for _ in range(steps):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(X_t), y_t).backward()
        optimizer.step()
    with torch.no_grad():
        return lambda P: net(torch.tensor(P, dtype=torch.float32)).argmax(dim=1).numpy()


fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
ring_accuracy = {}
for ax, (title, activation) in zip(axes, [("identity", torch.nn.Identity()), ("ReLU", torch.nn.ReLU())]):
    predict_ring = fit_mlp(activation)
    ring_accuracy[title] = np.mean(predict_ring(X_ring) == y_ring)
    cu.plot_decision_regions(predict_ring, X_ring, y_ring, ax=ax)
    ax.set_title(f"3 layers, {title} activations: accuracy {ring_accuracy[title]:.2f}")
plt.show()
assert ring_accuracy["identity"] < 0.75 < 0.95 < ring_accuracy["ReLU"], (
    f"the text below says only the ReLU network separates the ring: {ring_accuracy}")

# %% [markdown]
# ### Deep or fat?
#
# The **universal approximation theorem** says that one hidden layer is enough: with
# enough units, $W_2 \max(0, W_1 x + b_1) + b_2$ gets as close as you like to any
# continuous function on a bounded region. "Enough" can mean very many, though; a
# **deep** network can often represent the same function with far fewer units than a
# shallow, **fat** one, because each layer reuses the features of the layer below. Here
# one hidden layer of random ReLU units, with only the output layer fitted (by least
# squares), approximates a wiggly curve better and better as it gets fatter.

# %%
x_1d = np.linspace(-3, 3, 400)[:, None]
target = np.sin(2 * x_1d[:, 0]) + 0.3 * x_1d[:, 0] ** 2
plt.figure(figsize=(6, 3.5))
plt.plot(x_1d, target, "k", lw=3, alpha=0.3, label="target")
fit_errors = []
for units in (3, 10, 100):
    r = np.random.default_rng(units)
    W1_r, b1_r = r.normal(size=(units, 1)), r.uniform(-3, 3, size=units)
    features = np.maximum(x_1d @ W1_r.T + b1_r, 0)  # (400, units)
    features = np.hstack([features, np.ones((len(x_1d), 1))])
    W2_r = np.linalg.lstsq(features, target, rcond=None)[0]
    fit_errors.append(np.mean((features @ W2_r - target) ** 2))
    plt.plot(x_1d, features @ W2_r, label=f"{units} hidden units: mean squared error {fit_errors[-1]:.2g}")
plt.legend()
plt.title("one hidden ReLU layer, wider and wider")
plt.show()
assert fit_errors[0] > fit_errors[1] > fit_errors[2], f"the text says: better and better as it gets fatter {fit_errors}"

# %% [markdown]
# ## 4. Layers with a forward and a backward pass
#
# Backpropagation is easiest to get right one layer at a time. Every layer has two
# functions:
#
# * `forward(inputs) -> (out, cache)`: compute the output, and keep in `cache` whatever
#   the backward pass will need;
# * `backward(dout, cache) -> gradients`: given $\texttt{dout} = \partial L / \partial
#   \texttt{out}$ (always the same shape as `out`), return $\partial L / \partial
#   (\text{each input})$, each the same shape as that input.
#
# The layer never needs to know what $L$ is: it multiplies the upstream gradient by its
# own local gradient, exactly as a node of the graph does. Chaining the backward
# functions in reverse order is backpropagation through the whole network.
#
# **How we check a backward pass.** `backward(dout, cache)` must return the gradient of
# the scalar $\sum \texttt{out} \odot \texttt{dout}$ (a made-up loss whose gradient with
# respect to `out` is exactly `dout`). So we compare it with
#
# * `cu.check_gradient(f, x, dx)`, which computes that gradient by centred differences in
#   float64 and requires a relative error below $10^{-7}$, and
# * PyTorch: the same forward pass written with torch tensors in float64, differentiated
#   by `torch.autograd`; `torch_grads` below does it.

# %%
def torch_grads(f, inputs, dout=None):
    """Gradients, by torch.autograd in float64, of sum(f(*inputs) * dout) w.r.t. each input.

    With dout=None, f must return a scalar. Returns a list of NumPy arrays, one per input.
    """
    tensors = [torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True) for x in inputs]
    out = f(*tensors)
    if dout is not None:
        out = (out * torch.as_tensor(np.asarray(dout, dtype=np.float64))).sum()
    out.backward()
    return [t.grad.numpy() for t in tensors]


# The worked example of section 3 as arrays (a batch of one row); the affine and sigmoid tests use it.
W_ex, b_ex, x_ex = np.array([[1.0, -2.0], [-1.0, 1.0]]), np.array([1.0, 0.0]), np.array([[1.0, -1.0]])

# %% [markdown]
# ### The affine layer
#
# $\texttt{out} = X W^\top + b$ with $X$: $(N, D)$, $W$: $(M, D)$, $b$: $(M,)$, out:
# $(N, M)$. Entry $\texttt{out}_{nm} = \sum_d X_{nd} W_{md} + b_m$, so
#
# $$ \frac{\partial L}{\partial X} = \texttt{dout}\; W \quad (N, D), \qquad
#    \frac{\partial L}{\partial W} = \texttt{dout}^\top X \quad (M, D), \qquad
#    \frac{\partial L}{\partial b} = \sum_{n} \texttt{dout}_{n,:} \quad (M,) . $$
#
# A handy way to remember them: each gradient has the shape of its variable, and there
# is only one way to multiply `dout` with the other factor to get that shape. The bias is
# added to every row, so its gradient **sums** over the batch.
#
# **Rules for every layer in this notebook.** A forward pass must leave its inputs
# unchanged, and a backward pass must leave `dout` and its cache unchanged: the hidden
# tests call each backward pass twice on the same cache and expect the same result.
# Compute in the dtype you are given: for float64 inputs results are compared with the
# reference to about $10^{-9}$ (any order of operations passes; float32 does not).
#
# ### Exercise 1: affine forward and backward

# %% solution="affine"
def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """out = x Wᵀ + b. x: (N, D), W: (M, D), b: (M,) -> out: (N, M), cache for affine_backward."""
    ### BEGIN SOLUTION
    out = x @ W.T + b
    cache = (x, W)
    return out, cache
    ### END SOLUTION


def affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dout: (N, M) -> (dx (N, D), dW (M, D), db (M,)), the gradients of the loss w.r.t. x, W, b."""
    x, W = cache
    ### BEGIN SOLUTION
    dx = dout @ W
    dW = dout.T @ x
    db = dout.sum(axis=0)
    return dx, dW, db
    ### END SOLUTION


# %% tests="test_affine" points=3
# The worked example of section 3: W (1, −1)ᵀ + b = (4, −2), as a batch of one row.
out, _ = affine_forward(x_ex, W_ex, b_ex)
cu.check_shape(out, (1, 2), "affine_forward(x, W, b)[0]", hint="out = x @ W.T + b has one row per example")
cu.check_close(out, [[4.0, -2.0]], "the worked example", hint="out = x @ W.T + b: did you transpose W and add b?")

rng = np.random.default_rng(0)
# First a square layer (D = M = 3), where a transposed product still has the right shape, so that
# the comparison with PyTorch can say WHICH gradient is wrong; then a rectangular one (D = 5, M = 3).
for D in (3, 5):
    x, W, b = rng.normal(size=(4, D)), rng.normal(size=(3, D)), rng.normal(size=3)
    dout = rng.normal(size=(4, 3))
    x_before, dout_before = x.copy(), dout.copy()
    out, cache = affine_forward(x, W, b)
    dx, dW, db = affine_backward(dout, cache)
    cu.check_close(x, x_before, "x after affine_forward and affine_backward",
                   hint="leave the inputs and the cache unchanged: compute new arrays instead of scaling x in place")
    cu.check_close(dout, dout_before, "dout after affine_backward", hint="leave dout unchanged")
    cu.check_shape(dx, (4, D), "dx", hint="dx = dout @ W has the shape of x")
    cu.check_shape(dW, (3, D), "dW", hint="dW = dout.T @ x has the shape of W")
    cu.check_shape(db, (3,), "db", hint="sum dout over the batch axis (axis=0)")
    # 1. PyTorch autograd on the same computation.
    dx_t, dW_t, db_t = torch_grads(lambda x_, W_, b_: x_ @ W_.T + b_, [x, W, b], dout)
    cu.check_close(dx, dx_t, f"dx vs torch.autograd (D = {D})", rtol=1e-9, hint="dx = dout @ W (not W.T)")
    cu.check_close(dW, dW_t, f"dW vs torch.autograd (D = {D})", rtol=1e-9,
                   hint="dW = dout.T @ x (x.T @ dout is its transpose)")
    cu.check_close(db, db_t, f"db vs torch.autograd (D = {D})", rtol=1e-9,
                   hint="b is added to every row, so db SUMS dout over the batch (the sum, not the mean)")
# 2. Numerical gradients of the scalar sum(out * dout), in float64.
print(cu.check_gradient(lambda x_: np.sum(affine_forward(x_, W, b)[0] * dout), x, dx, name="dx"))
print(cu.check_gradient(lambda W_: np.sum(affine_forward(x, W_, b)[0] * dout), W, dW, name="dW"))
print(cu.check_gradient(lambda b_: np.sum(affine_forward(x, W, b_)[0] * dout), b, db, name="db"))
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(103)
_x, _W, _b = _rng.normal(size=(6, 4)), _rng.normal(size=(7, 4)), _rng.normal(size=7)
_dout = _rng.normal(size=(6, 7))
report("forward on unseen inputs", lambda: affine_forward(_x.copy(), _W.copy(), _b.copy())[0], rtol=1e-9)
report_call("forward: x, W and b left unchanged", lambda *a: affine_forward(*a)[0], _x.copy(), _W.copy(), _b.copy(),
            rtol=1e-9)
report_call("backward called twice on one cache; dout and cache left unchanged", affine_backward, _dout.copy(),
            affine_forward(_x.copy(), _W.copy(), _b.copy())[1], rtol=1e-9, own_inputs=True)
report("backward on unseen inputs",
       lambda: tuple(affine_backward(_dout.copy(), affine_forward(_x.copy(), _W.copy(), _b.copy())[1])), rtol=1e-9)
report_gradient("dx agrees with the numerical gradient", lambda v: np.sum(affine_forward(v, _W, _b)[0] * _dout),
                lambda v: affine_backward(_dout, affine_forward(v, _W, _b)[1])[0], _x, rtol=1e-9, h=1e-5, numeric_tol=1e-7)
report_gradient("dW agrees with the numerical gradient", lambda v: np.sum(affine_forward(_x, v, _b)[0] * _dout),
                lambda v: affine_backward(_dout, affine_forward(_x, v, _b)[1])[1], _W, rtol=1e-9, h=1e-5, numeric_tol=1e-7)
report_gradient("db agrees with the numerical gradient", lambda v: np.sum(affine_forward(_x, _W, v)[0] * _dout),
                lambda v: affine_backward(_dout, affine_forward(_x, _W, v)[1])[2], _b, rtol=1e-9, h=1e-5, numeric_tol=1e-7)
report("a batch of one example", lambda: tuple(affine_backward(_dout[:1], affine_forward(_x[:1], _W, _b)[1])),
       rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### The ReLU layer
#
# $\texttt{out} = \max(0, x)$, elementwise. Its local gradient is $1$ where $x > 0$ and
# $0$ where $x < 0$ (at exactly $0$ we pick $0$), so the backward pass lets the upstream
# gradient through where the input was positive and blocks it elsewhere:
# $\texttt{dx} = \texttt{dout} \odot [x > 0]$. Be careful: the *gradient* can be negative
# where $x > 0$, and it must pass unchanged.
#
# A forward pass must never change its input in place (`x[x < 0] = 0` would): the caller,
# and the backward pass, may still need it.
#
# ### Exercise 2: ReLU forward and backward

# %% solution="relu"
def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = max(0, x) elementwise. x: any shape -> out: x.shape, cache for relu_backward."""
    ### BEGIN SOLUTION
    out = np.maximum(x, 0)
    cache = x
    return out, cache
    ### END SOLUTION


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dout: x.shape -> dx: x.shape; the gradient passes only where the input was positive."""
    x = cache
    ### BEGIN SOLUTION
    dx = dout * (x > 0)
    return dx
    ### END SOLUTION


# %% tests="test_relu" points=2
out, cache = relu_forward(np.array([[-2.0, 0.5], [3.0, -0.1]]))
cu.check_close(out, [[0.0, 0.5], [3.0, 0.0]], "relu_forward", hint="np.maximum(x, 0), elementwise (not np.max)")
dx = relu_backward(np.array([[1.0, -4.0], [-2.0, 5.0]]), cache)
cu.check_close(dx, [[0.0, -4.0], [-2.0, 0.0]], "relu_backward by hand",
               hint="where x > 0 the upstream gradient passes UNCHANGED, even when it is negative; "
                    "where x < 0 it is blocked: dx = dout * (x > 0)")
rng = np.random.default_rng(1)
x, dout = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
x_before = x.copy()
out, cache = relu_forward(x)
cu.check_close(x, x_before, "the input after relu_forward", hint="don't modify x in place; use np.maximum(x, 0)")
dout_before = dout.copy()
dx = relu_backward(dout, cache)
cu.check_close(dout, dout_before, "dout after relu_backward",
               hint="don't change dout in place (dout[x <= 0] = 0 would): return a new array, dout * (x > 0)")
print(cu.check_gradient(lambda x_: np.sum(relu_forward(x_)[0] * dout), x, dx, name="dx"))
cu.check_close(dx, torch_grads(torch.relu, [x], dout)[0], "dx vs torch.autograd", rtol=1e-9)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(107)
_x, _dout = _rng.normal(size=(8, 5)), _rng.normal(size=(8, 5))
_x0 = np.where(_rng.random(size=(8, 5)) < 0.3, 0.0, _x)  # some inputs exactly 0: the gradient is blocked there
report_call("forward with zeros in the input; input left unchanged", lambda x: relu_forward(x)[0], _x0.copy(),
            rtol=1e-12)
report_call("backward called twice on one cache; dout and cache left unchanged", relu_backward, _dout.copy(),
            relu_forward(_x0.copy())[1], rtol=1e-12, own_inputs=True)
report("forward on unseen inputs", lambda: relu_forward(_x.copy())[0], rtol=1e-12)


def _input_after_forward():
    x = _x.copy()
    relu_forward(x)
    return x


report("forward leaves its input unchanged", _input_after_forward, rtol=1e-12)
report("backward on unseen inputs", lambda: relu_backward(_dout.copy(), relu_forward(_x.copy())[1]), rtol=1e-12)
report_gradient("dx agrees with the numerical gradient", lambda v: np.sum(relu_forward(v)[0] * _dout),
                lambda v: relu_backward(_dout, relu_forward(v)[1]), _x, rtol=1e-12, h=1e-5, numeric_tol=1e-7)
report("backward on a 1-D input", lambda: relu_backward(_dout[0].copy(), relu_forward(_x[1].copy())[1]), rtol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# **Question.** The numerical gradient of section 4 evaluates the loss at $x \pm h$ with
# $h \approx 10^{-5}$. What happens to a gradient check of a network with ReLUs when one
# pre-activation lies within $h$ of 0? Does it mean the backward pass is wrong? And why do
# such failures show up only rarely, even in networks with thousands of ReLUs?

# %% [markdown] answer="explain_relu_kink" points=1
# *Model answer.* Then $x + h$ and $x - h$ fall on the two sides of the kink of
# $\max(0, x)$: one evaluation sees slope 1, the other slope 0, so the centred difference
# measures an average of the two slopes (anything between 0 and 1, depending on where the
# kink lies), while the backward pass uses one side only (slope 0 at or below 0, 1 above).
# The check reports a large relative error although the backward pass is correct: the
# function simply has no derivative there, and the finite difference is not estimating one.
# It is rare because pre-activations are continuous random numbers: the chance that one of
# them lies within $10^{-5}$ of 0 is about $2h$ times the density near 0, about $10^{-5}$
# per unit, so even a few thousand units seldom have one. When it does happen, only the
# entries connected to that unit fail; a smaller $h$, another random input or a check of
# which pre-activations are near 0 tells the two cases apart.

# %% [markdown]
# ### The sigmoid layer
#
# $\texttt{out} = \sigma(x) = 1 / (1 + e^{-x})$ and $\sigma'(x) = \sigma(x)(1 - \sigma(x))$:
# the local gradient is written with the **output**, so that is what the cache should
# keep. $\texttt{dx} = \texttt{dout} \odot \texttt{out} \odot (1 - \texttt{out})$.
#
# **Large inputs.** Pre-activations of $\pm 1000$ happen (a large learning rate is
# enough). Your sigmoid must return the right values there, never `nan`:
# $e^x / (1 + e^x)$ gives $\infty / \infty$ = `nan` at $x = 1000$. $1 / (1 + e^{-x})$ gives
# the right values but NumPy warns that $e^{1000}$ overflowed. A form with no overflow at
# all uses only $e^{-|x|} \le 1$: $\sigma(x) = 1 / (1 + e^{-|x|})$ for $x \ge 0$ and
# $e^{-|x|} / (1 + e^{-|x|})$ for $x < 0$. The hidden tests check values for inputs up to
# $\pm 1000$ (an overflow warning costs nothing; a `nan` does).
#
# ### Exercise 3: sigmoid forward and backward

# %% solution="sigmoid"
def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = 1 / (1 + exp(−x)) elementwise, right (no nan) for |x| up to 1000 and beyond.

    x: any shape -> out: x.shape, cache for sigmoid_backward.
    """
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    cache = out
    return out, cache
    ### END SOLUTION


def sigmoid_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dout: x.shape -> dx: x.shape, using σ'(x) = σ(x)(1 − σ(x))."""
    ### BEGIN SOLUTION
    out = cache
    dx = dout * out * (1 - out)
    return dx
    ### END SOLUTION


# %% tests="test_sigmoid" points=2
# The worked example of section 3: σ(W (1, −1)ᵀ + b) = σ((4, −2)) = (0.98, 0.12).
out, _ = sigmoid_forward(np.array([[4.0, -2.0]]))
cu.check_close(out, [[0.98, 0.12]], "σ((4, −2)) to two decimals", atol=0.005,
               hint="σ(x) = 1 / (1 + exp(−x)): mind the minus sign")
h_ex, _ = sigmoid_forward(affine_forward(x_ex, W_ex, b_ex)[0])
cu.check_close(h_ex, [[0.98, 0.12]], "σ(W x + b) for the worked example", atol=0.005)
cu.check_close(sigmoid_forward(np.array([0.0]))[0], [0.5], "σ(0)")
out_big = sigmoid_forward(np.array([-1000.0, -40.0, 40.0, 1000.0]))[0]
cu.check_close(out_big, [0.0, np.exp(-40.0), 1.0, 1.0], "σ at ±40 and ±1000", rtol=1e-9, atol=1e-12,
               hint="e^x / (1 + e^x) is inf / inf = nan for large x: use a form that never divides inf by inf")
rng = np.random.default_rng(2)
x, dout = rng.normal(size=(4, 5)) * 2, rng.normal(size=(4, 5))
out, cache = sigmoid_forward(x)
cache_before = np.array(cache, copy=True)
dx = sigmoid_backward(dout, cache)
cu.check_close(cache, cache_before, "the cache after sigmoid_backward",
               hint="don't compute σ(1 − σ) into the cache in place: a second backward pass would see another cache")
cu.check_close(sigmoid_backward(np.ones(1), sigmoid_forward(np.zeros(1))[1]), [0.25], "σ'(0)",
               hint="σ'(x) = σ(x)(1 − σ(x)) with σ(0) = 0.5; the cache should hold the OUTPUT σ(x)")
print(cu.check_gradient(lambda x_: np.sum(sigmoid_forward(x_)[0] * dout), x, dx, name="dx"))
cu.check_close(dx, torch_grads(torch.sigmoid, [x], dout)[0], "dx vs torch.autograd", rtol=1e-9)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(109)
_x, _dout = _rng.normal(size=(6, 5)) * 3, _rng.normal(size=(6, 5))
_x_big = _rng.choice([-1.0, 1.0], size=(4, 5)) * _rng.uniform(30.0, 1000.0, size=(4, 5))
_x_big[0, :2] = [1000.0, -1000.0]
report_call("forward for inputs up to +-1000; input left unchanged", lambda x: sigmoid_forward(x)[0], _x_big.copy(),
            rtol=1e-9, atol=1e-12)
report_call("backward for inputs up to +-1000, called twice; dout and cache left unchanged", sigmoid_backward,
            _dout[:4].copy(), sigmoid_forward(_x_big.copy())[1], rtol=1e-9, atol=1e-12, own_inputs=True)
report_call("backward called twice on one cache; dout and cache left unchanged", sigmoid_backward, _dout.copy(),
            sigmoid_forward(_x.copy())[1], rtol=1e-9, own_inputs=True)
report("forward on unseen inputs", lambda: sigmoid_forward(_x.copy())[0], rtol=1e-9)
report("backward on unseen inputs", lambda: sigmoid_backward(_dout.copy(), sigmoid_forward(_x.copy())[1]),
       rtol=1e-9)
report_gradient("dx agrees with the numerical gradient", lambda v: np.sum(sigmoid_forward(v)[0] * _dout),
                lambda v: sigmoid_backward(_dout, sigmoid_forward(v)[1]), _x, rtol=1e-9, h=1e-5, numeric_tol=1e-7)
### END HIDDEN TESTS

# %% [markdown]
# ### The tanh layer
#
# $\texttt{out} = \tanh(x) = (e^{2x} - 1) / (e^{2x} + 1)$ (`np.tanh` computes it without
# overflowing), and $\tanh'(x) = 1 - \tanh^2(x)$: again a formula in the output, so
# $\texttt{dx} = \texttt{dout} \odot (1 - \texttt{out}^2)$. As for the sigmoid, the
# hidden tests use inputs up to $\pm 1000$, where the formula with $e^{2x}$ gives
# $\infty / \infty$ = `nan`: use `np.tanh`, or a form that only exponentiates $-2|x|$.
#
# ### Exercise 4: tanh forward and backward

# %% solution="tanh"
def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = tanh(x) elementwise. x: any shape -> out: x.shape, cache for tanh_backward."""
    ### BEGIN SOLUTION
    out = np.tanh(x)
    cache = out
    return out, cache
    ### END SOLUTION


def tanh_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dout: x.shape -> dx: x.shape, using tanh'(x) = 1 − tanh²(x)."""
    ### BEGIN SOLUTION
    out = cache
    dx = dout * (1 - out**2)
    return dx
    ### END SOLUTION


# %% tests="test_tanh" points=2
out, cache = tanh_forward(np.array([0.0, 0.5, -1.0]))
cu.check_close(out, [0.0, 0.46211716, -0.76159416], "tanh_forward",
               hint="tanh(x) = (e^{2x} − 1) / (e^{2x} + 1), with e^{2x}, not e^x; np.tanh(x) computes it "
                    "without overflowing for large x")
cu.check_close(tanh_backward(np.ones(3), cache), [1.0, 0.78644773, 0.41997434], "tanh'(x) at 0, 0.5, −1",
               hint="tanh'(x) = 1 − tanh²(x): square the OUTPUT of the forward pass, not its input")
rng = np.random.default_rng(3)
out_big = tanh_forward(np.array([-1000.0, 1000.0]))[0]
cu.check_close(out_big, [-1.0, 1.0], "tanh at ±1000",
               hint="(e^{2x} − 1) / (e^{2x} + 1) is inf / inf = nan for large x: use np.tanh")
x, dout = rng.normal(size=(3, 7)), rng.normal(size=(3, 7))
out, cache = tanh_forward(x)
dout_before = dout.copy()
dx = tanh_backward(dout, cache)
cu.check_close(dout, dout_before, "dout after tanh_backward",
               hint="don't multiply dout in place (dout *= ...): return a new array, dout * (1 - out**2)")
print(cu.check_gradient(lambda x_: np.sum(tanh_forward(x_)[0] * dout), x, dx, name="dx"))
cu.check_close(dx, torch_grads(torch.tanh, [x], dout)[0], "dx vs torch.autograd", rtol=1e-9)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(113)
_x, _dout = _rng.normal(size=(5, 6)), _rng.normal(size=(5, 6))
_x_big = _rng.choice([-1.0, 1.0], size=(3, 6)) * _rng.uniform(20.0, 1000.0, size=(3, 6))
_x_big[0, :2] = [1000.0, -1000.0]
report_call("forward for inputs up to +-1000; input left unchanged", lambda x: tanh_forward(x)[0], _x_big.copy(),
            rtol=1e-9)
report_call("backward for inputs up to +-1000, called twice; dout and cache left unchanged", tanh_backward,
            _dout[:3].copy(), tanh_forward(_x_big.copy())[1], rtol=1e-9, atol=1e-12, own_inputs=True)
report_call("backward called twice on one cache; dout and cache left unchanged", tanh_backward, _dout.copy(),
            tanh_forward(_x.copy())[1], rtol=1e-9, own_inputs=True)
report("forward on unseen inputs", lambda: tanh_forward(_x.copy())[0], rtol=1e-9)
report("backward on unseen inputs", lambda: tanh_backward(_dout.copy(), tanh_forward(_x.copy())[1]), rtol=1e-9)
report_gradient("dx agrees with the numerical gradient", lambda v: np.sum(tanh_forward(v)[0] * _dout),
                lambda v: tanh_backward(_dout, tanh_forward(v)[1]), _x, rtol=1e-9, h=1e-5, numeric_tol=1e-7)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. A small autodiff engine
#
# The layers above each know their own backward pass. An **automatic differentiation**
# engine goes one step further: you write only the forward computation, the engine
# records the graph as it goes, and `backward()` runs the chain rule of section 2 over
# that graph for you. PyTorch's autograd works this way, on tensors; here we build one
# for scalars.
#
# A `Value` holds a number (`data`), the gradient $\partial L / \partial(\text{this})$
# (`grad`, filled in by the backward pass), the nodes it was computed from (`inputs`) and
# one **local gradient** $\partial(\text{this}) / \partial(\text{input})$ per input
# (`local_grads`), computed during the forward pass while the input values are at hand.
# Each operation is then one line: compute the value and write down the local gradients.
# Addition, for example, is
# `Value(self.data + other.data, (self, other), (1.0, 1.0), "+")`.
#
# `backward()` has two steps:
#
# 1. **Topological order**: list every node the output depends on, each one *after* all
#    of its inputs (a depth-first search that appends a node once all its inputs are
#    listed). A node reused in several places must be listed once.
# 2. **Chain rule**: set every `grad` to 0, then the output's to 1, and walk the list
#    **backwards**; each node adds `local_grad * node.grad` to the `grad` of each of its
#    inputs. Use `+=`: a node used twice receives two contributions, the sum in
#    section 2.
#
# ### Exercise 5: the `Value` class
#
# Fill in `__add__`, `__mul__`, `tanh`, `relu`, `exp`, `topological_order` and
# `backward`. Subtraction, negation and the reversed operators (`2 * v`) are built from
# `+` and `*` for you.

# %% solution="value"
class Value:
    """A scalar node of a computation graph: its value, ∂L/∂(it), and the nodes it came from."""

    def __init__(self, data: float, inputs: tuple = (), local_grads: tuple = (), op: str = "", label: str = ""):
        self.data = float(data)
        self.grad = 0.0  # ∂L/∂(this node), set by backward()
        self.inputs = tuple(inputs)  # the nodes this one was computed from
        self.local_grads = tuple(float(g) for g in local_grads)  # ∂(this)/∂(input), one per input
        self.op = op  # how it was computed: "+", "*", "tanh", ...; "" for a leaf
        self.label = label  # a name for printing, optional

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.4g}, grad={self.grad:.4g})"

    @staticmethod
    def lift(x) -> "Value":
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other) -> "Value":
        """v = self + other; ∂v/∂self = 1, ∂v/∂other = 1."""
        other = Value.lift(other)
        ### BEGIN SOLUTION
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")
        ### END SOLUTION

    def __mul__(self, other) -> "Value":
        """v = self · other; ∂v/∂self = other, ∂v/∂other = self."""
        other = Value.lift(other)
        ### BEGIN SOLUTION
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")
        ### END SOLUTION

    def tanh(self) -> "Value":
        """v = tanh(self); ∂v/∂self = 1 − tanh²(self)."""
        ### BEGIN SOLUTION
        t = float(np.tanh(self.data))
        return Value(t, (self,), (1.0 - t * t,), "tanh")
        ### END SOLUTION

    def relu(self) -> "Value":
        """v = max(0, self); ∂v/∂self = 1 if self > 0 else 0."""
        ### BEGIN SOLUTION
        return Value(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,), "relu")
        ### END SOLUTION

    def exp(self) -> "Value":
        """v = e^self; ∂v/∂self = e^self."""
        ### BEGIN SOLUTION
        e = float(np.exp(self.data))
        return Value(e, (self,), (e,), "exp")
        ### END SOLUTION

    def topological_order(self) -> list["Value"]:
        """Every node this one depends on, itself last, each listed once and after all its inputs."""
        ### BEGIN SOLUTION
        order, visited = [], set()

        def visit(node):
            if node not in visited:
                visited.add(node)
                for parent in node.inputs:
                    visit(parent)
                order.append(node)

        visit(self)
        return order
        ### END SOLUTION

    def backward(self) -> None:
        """Set .grad of every node in the graph to ∂self/∂node (resetting old gradients first)."""
        ### BEGIN SOLUTION
        order = self.topological_order()
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            for parent, local in zip(node.inputs, node.local_grads):
                parent.grad += local * node.grad
        ### END SOLUTION

    # Everything else is built from the operations above.
    def __radd__(self, other) -> "Value":
        return self + other

    def __rmul__(self, other) -> "Value":
        return self * other

    def __neg__(self) -> "Value":
        return self * -1.0

    def __sub__(self, other) -> "Value":
        return self + (-Value.lift(other))

    def __rsub__(self, other) -> "Value":
        return Value.lift(other) + (-self)


# %% [markdown]
# The neuron of section 2, $a_3 = \tanh(w_{13} a_1 + w_{23} a_2 + b_3)$, built from `Value`s. The
# test below and the backward-pass stepper after it use it.

# %%
def neuron(a1=2.0, a2=-1.0, w13=0.5, w23=1.5, b3=1.0):
    """The graph of a3 = tanh(w13·a1 + w23·a2 + b3); returns (a3, [a1, a2, w13, w23, b3])."""
    leaves = [Value(a1, label="a1"), Value(a2, label="a2"), Value(w13, label="w13"),
              Value(w23, label="w23"), Value(b3, label="b3")]
    a1, a2, w13, w23, b3 = leaves
    p, q = w13 * a1, w23 * a2
    s = p + q
    z = s + b3
    p.label, q.label, s.label, z.label = "p", "q", "(p+q)", "z"
    a3 = z.tanh()
    a3.label = "a3"
    return a3, leaves


# %% tests="test_value" points=4
a3, (a1, a2, w13, w23, b3) = neuron()
z = a3.inputs[0]
p, q = z.inputs[0].inputs
cu.check_close(a3.data, 0.46211716, "a3 = tanh(0.5)", hint="check __add__, __mul__ and tanh: the forward values")
a3.backward()
# The table of section 2, one node at a time in the order the backward pass visits them.
cu.check_close(a3.grad, 1.0, "∂a3/∂a3", hint="backward() starts by setting the output's grad to 1")
cu.check_close(z.grad, 0.7864477, "∂a3/∂z", rtol=1e-6,
               hint="tanh's local gradient is 1 − tanh²(z), the squared OUTPUT a3, not 1 − z² on its input")
cu.check_close([p.grad, q.grad, b3.grad], [0.7864477] * 3, "∂a3/∂(p, q, b3)", rtol=1e-6,
               hint="z = (p + q) + b3 hands its grad to each input unchanged. If these are 0, z passed its grad on "
                    "before it had received it: walk the topological order in REVERSE (output first)")
cu.check_close([w13.grad, w23.grad, a1.grad, a2.grad], [1.5728955, -0.7864477, 0.3932239, 1.1796716],
               "∂a3/∂(w13, w23, a1, a2)", rtol=1e-6,
               hint="v = x·y has local gradients ∂v/∂x = y and ∂v/∂y = x: each factor gets the OTHER one's value")
# A node used twice: f = x·x + x·y + exp(y) needs the two paths through x added up (+=).
x, y = Value(1.5), Value(-0.5)
f = x * x + x * y + y.exp() + (x * y).relu() - 3 * (y * 2).tanh()
order = f.topological_order()
cu.check_equal(len(order), len(set(map(id, order))), "number of entries in topological_order() vs distinct nodes",
               hint="keep a set of visited nodes, so a node used twice is listed once")
f.backward()
grads_t = torch_grads(lambda x_, y_: x_ * x_ + x_ * y_ + y_.exp() + torch.relu(x_ * y_) - 3 * torch.tanh(y_ * 2),
                      [1.5, -0.5])
cu.check_close(f.data, 1.5**2 - 0.75 + np.exp(-0.5) - 3 * np.tanh(-1.0), "f(1.5, −0.5)")
cu.check_close([x.grad, y.grad], grads_t, "∂f/∂x and ∂f/∂y vs torch.autograd", rtol=1e-9,
               hint="grads must ACCUMULATE (+=) over every use of a node: x·x sends x two contributions, "
                    "one through each input")
# And the numerical gradient of f as a function of (x, y).
f_of = lambda v: (Value(v[0]) * Value(v[0]) + Value(v[0]) * Value(v[1]) + Value(v[1]).exp()).data


def grad_of(v):
    x_, y_ = Value(v[0]), Value(v[1])
    (x_ * x_ + x_ * y_ + y_.exp()).backward()
    return np.array([x_.grad, y_.grad])


print(cu.check_gradient(f_of, np.array([0.7, -1.2]), grad_of(np.array([0.7, -1.2])), name="∇f"))
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_gradient

_rng = hidden_rng(127)
_p = _rng.normal(size=5)


def _neuron_grads(p):
    a3, leaves = neuron(*p)
    a3.backward()
    return np.array([a3.data] + [leaf.grad for leaf in leaves])


def _tangle(v):
    # Shared nodes, every operation, and a chain several levels deep.
    x, y, z = Value(v[0]), Value(v[1]), Value(v[2])
    s = x * y + z
    t = (s * s).tanh() + (x + 2.0).relu() * y.exp() - (z * -1.0).relu() + s
    for _ in range(4):
        t = (t * 0.7 + x).tanh() + s
    return t, (x, y, z)


def _tangle_value(v):
    return _tangle(v)[0].data


def _tangle_grads(v):
    t, leaves = _tangle(v)
    t.backward()
    return np.array([leaf.grad for leaf in leaves])


def _twice(v):
    t, leaves = _tangle(v)
    t.backward()
    t.backward()
    return np.array([leaf.grad for leaf in leaves])


def _relu_at_zero():
    # relu's local gradient at exactly 0 is 0 (the docstring's rule), so only the x·2 path counts.
    x = Value(0.0)
    t = x.relu() * 3.0 + x * 2.0
    t.backward()
    return np.array([t.data, x.grad])


def _same_node_twice(v):
    # A node that is BOTH inputs of one operation: x·x and y + y.
    x, y = Value(v[0]), Value(v[1])
    t = x * x + (y + y) * x + (x * x).exp()
    t.backward()
    return np.array([t.data, x.grad, y.grad])


def _order_respects_inputs(v):
    order = _tangle(v)[0].topological_order()
    position = {id(node): i for i, node in enumerate(order)}
    return all(id(p) in position and position[id(p)] < position[id(n)] for n in order for p in n.inputs)


_v = _rng.choice([-1.0, 1.0], size=3) * _rng.uniform(0.1, 1.0, size=3)
report("the neuron on unseen numbers", lambda: _neuron_grads(_p), rtol=1e-9)
report("relu at exactly 0 passes no gradient", _relu_at_zero, rtol=1e-12)
report("one node used as both inputs of an operation", lambda: _same_node_twice(_v), rtol=1e-9)
report("topological order puts every node after its inputs", lambda: _order_respects_inputs(_v), kind="equal")
report("a tangled graph: value", lambda: _tangle_value(_v), rtol=1e-9)
report("a tangled graph: gradients", lambda: _tangle_grads(_v), rtol=1e-9)
report_gradient("gradients agree with the numerical gradient", _tangle_value, _tangle_grads, _v,
                rtol=1e-9, h=1e-5, numeric_tol=1e-7)
report("backward twice gives the same gradients", lambda: _twice(_v), rtol=1e-9)
report("topological order lists each node once", lambda: len(_tangle(_v)[0].topological_order()), kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# **Question.** Build $f = x \cdot y + x$ from `Value`s with $x = 2$ and $y = 3$ and call
# `f.backward()`. What is `x.grad`?
#
# * (a) 1, the local gradient of the `+` node;
# * (b) 3, the local gradient of the `*` node;
# * (c) 4, the two paths through $x$ added up.
#
# Set `shared_node_answer` to "a", "b" or "c".

# %% solution="choice_shared_node"
### BEGIN SOLUTION
shared_node_answer = "c"
### END SOLUTION

# %% tests="test_choice_shared_node" points=1
cu.check_choice(shared_node_answer, "abc", "shared_node_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", shared_node_answer)
### END HIDDEN TESTS

# %% [markdown]
# ### Step through a backward pass
#
# Drag the slider to run the backward pass on the neuron, one node at a time. The node
# being processed is highlighted: its gradient $\partial a_3 / \partial(\text{node})$ is
# complete, and it passes `local gradient × its grad` to each of its inputs (in blue).
# Watch the two `+` nodes of $z = (p + q) + b_3$: a sum hands its gradient unchanged to
# each of its inputs.

# %%
def draw_graph(root, active=None, receivers=()):
    """A PNG of the graph under `root`: nodes laid out by depth, leaves on the left."""
    from matplotlib.figure import Figure

    order = root.topological_order()
    steps_to_root = {node: 0 for node in order}
    for node in reversed(order):  # a node's users come before it in this loop
        for parent in node.inputs:
            steps_to_root[parent] = max(steps_to_root[parent], steps_to_root[node] + 1)
    columns = {}
    for node in order:
        columns.setdefault(-steps_to_root[node], []).append(node)
    pos = {node: (x, 1.3 * (-i + (len(col) - 1) / 2)) for x, col in columns.items() for i, node in enumerate(col)}
    fig = Figure(figsize=(9, 4.2), dpi=80)
    ax = fig.add_subplot()
    for node in order:
        for parent in node.inputs:
            ax.annotate("", xy=pos[node], xytext=pos[parent],
                        arrowprops=dict(arrowstyle="->", color="gray", shrinkA=24, shrinkB=24))
    for node in order:
        colour = "gold" if node is active else "lightblue" if node in receivers else "white"
        name = node.label or node.op
        ax.text(*pos[node], f"{name}\n{node.data:.4g}\ngrad {node.grad:.4g}", ha="center", va="center",
                fontsize=9, bbox=dict(boxstyle="round", facecolor=colour, edgecolor="k"))
    tallest = 1.3 * max(map(len, columns.values())) / 2
    ax.set_xlim(min(columns) - 0.6, 0.6)
    ax.set_ylim(-tallest - 0.1, tallest + 0.1)
    ax.set_axis_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def backward_stepper(root):
    """A slider that replays root.backward() one node at a time, showing every local gradient."""
    order = root.topological_order()
    steps = [node for node in reversed(order) if node.inputs]  # the nodes that pass gradients on
    slider = widgets.IntSlider(value=0, min=0, max=len(steps) + 1, description="step")
    text, image = widgets.HTML(), widgets.Image(format="png")

    @cu.needs_your_code()
    def show(_change=None):
        k = slider.value
        for node in order:
            node.grad = 0.0
        if k >= 1:
            root.grad = 1.0
        for node in steps[:max(k - 1, 0)]:  # replay the chain rule up to this step
            for parent, local in zip(node.inputs, node.local_grads):
                parent.grad += local * node.grad
        if k == 0:
            active, lines = None, ["Forward pass done: every value is known, every grad is 0."]
        elif k == 1:
            active, lines = root, [f"Start: ∂{root.label or 'L'}/∂{root.label or 'L'} = 1."]
        else:
            active = steps[k - 2]
            name = active.label or active.op
            lines = [f"<b>{name}</b> (an <code>{active.op}</code> node): its grad {active.grad:.4g} is complete, "
                     "so it passes local gradient × grad to each input."]
            for parent, local in zip(active.inputs, active.local_grads):
                pname = parent.label or parent.op or f"{parent.data:g}"
                before = parent.grad - local * active.grad
                lines.append(f"∂{name}/∂{pname} = {local:.4g}, so {pname}.grad += {local:.4g} × "
                             f"{active.grad:.4g}: {before:.4g} → {parent.grad:.4g}")
        if k == len(steps) + 1:
            lines.append("Done: every grad is ∂(output)/∂(node).")
        text.value = "<br>".join(lines)
        receivers = active.inputs if k >= 2 else ()
        image.value = draw_graph(root, active, receivers)

    slider.observe(show, names="value")
    show()
    return widgets.VBox([slider, text, image])


with cu.needs_your_code():
    stepper_root, _ = neuron()
    display(backward_stepper(stepper_root))

# %% [markdown]
# ## 6. A two-layer network
#
# Now the layers of section 4 become a classifier for Fashion-MNIST:
#
# $$ \text{scores} = W_2 \max(0, W_1 x + b_1) + b_2, \qquad
#    L = \frac{1}{N} \sum_i -\log \operatorname{softmax}(\text{scores}_i)_{y_i}
#        + \lambda \big(\lVert W_1 \rVert^2 + \lVert W_2 \rVert^2\big), $$
#
# with $W_1$: $(H, D)$, $b_1$: $(H,)$, $W_2$: $(C, H)$, $b_2$: $(C,)$. The softmax loss and
# its gradient with respect to the scores come from notebook 02; here it is again,
# written out in NumPy:

# %%
def softmax_loss(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(scores) against labels y, and its gradient.

    scores: (N, C), y: (N,) ints -> (loss, dscores (N, C)); dscores = (softmax − one_hot(y)) / N.
    """
    shifted = scores - scores.max(axis=1, keepdims=True)  # exp never overflows
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
    n = len(y)
    loss = -log_probs[np.arange(n), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return float(loss), dscores / n


# %% [markdown]
# The forward pass chains `affine → relu → affine → softmax_loss`, keeping each cache;
# the backward pass calls the backward functions in the reverse order, feeding each one
# the gradient the previous one returned. The regularisation term adds
# $2 \lambda W$ to the gradient of each weight matrix (biases are not regularised).
#
# ### Exercise 6: loss and gradients of the two-layer net

# %% solution="two_layer_loss"
def two_layer_loss(params: dict, X: np.ndarray, y: np.ndarray, reg: float = 0.0) -> tuple[float, dict]:
    """Softmax loss of scores = relu(X W1ᵀ + b1) W2ᵀ + b2, plus reg·(‖W1‖² + ‖W2‖²), and its gradients.

    params: W1 (H, D), b1 (H,), W2 (C, H), b2 (C,); X: (N, D), y: (N,) ints.
    Returns (loss, grads) where grads has the same keys and shapes as params.
    """
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    ### BEGIN SOLUTION
    pre, cache1 = affine_forward(X, W1, b1)  # (N, H)
    hidden, cache_relu = relu_forward(pre)  # (N, H)
    scores, cache2 = affine_forward(hidden, W2, b2)  # (N, C)
    data_loss, dscores = softmax_loss(scores, y)
    loss = data_loss + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dhidden, dW2, db2 = affine_backward(dscores, cache2)
    dpre = relu_backward(dhidden, cache_relu)
    _, dW1, db1 = affine_backward(dpre, cache1)
    grads = {"W1": dW1 + 2 * reg * W1, "b1": db1, "W2": dW2 + 2 * reg * W2, "b2": db2}
    return float(loss), grads
    ### END SOLUTION


# %% tests="test_two_layer_loss" points=4
def small_net(seed, D=5, H=7, C=4, N=6, scale=0.5):
    r = np.random.default_rng(seed)
    params = {"W1": r.normal(size=(H, D)) * scale, "b1": r.normal(size=H) * scale,
              "W2": r.normal(size=(C, H)) * scale, "b2": r.normal(size=C) * scale}
    return params, r.normal(size=(N, D)), r.integers(0, C, size=N)


small_params, X_s, y_s = small_net(0)
# With all weights 0 every class gets the same score: the loss is log C.
zeros = {k: np.zeros_like(v) for k, v in small_params.items()}
cu.check_close(two_layer_loss(zeros, X_s, y_s)[0], np.log(4), "loss with all-zero weights",
               hint="with equal scores softmax is uniform, so the loss is log(C) = log 4")
params_before = {k: v.copy() for k, v in small_params.items()}
loss, grads = two_layer_loss(small_params, X_s, y_s, reg=0.1)
for key in small_params:
    cu.check_close(small_params[key], params_before[key], f"params[{key!r}] after two_layer_loss",
                   hint="leave params unchanged: compute dW1 + 2 * reg * W1 as a new array, not in place")
for key in small_params:
    cu.check_shape(grads[key], small_params[key].shape, f"grads[{key!r}]",
                   hint="a gradient has the shape of its parameter")


def torch_two_layer(W1, b1, W2, b2, X=X_s, y=y_s, reg=0.1):
    scores = torch.relu(torch.as_tensor(X) @ W1.T + b1) @ W2.T + b2
    return (torch.nn.functional.cross_entropy(scores, torch.as_tensor(y))
            + reg * ((W1 * W1).sum() + (W2 * W2).sum()))


keys = ["W1", "b1", "W2", "b2"]
cu.check_close(loss, torch_two_layer(*[torch.as_tensor(small_params[k]) for k in keys]).item(), "loss vs PyTorch",
               hint="loss = softmax loss + reg · (sum of W1² + sum of W2²); did you add b2?")
# Each gradient against PyTorch first (each with the likely mistake), then against centred differences.
key_hints = {
    "W1": "backward goes affine2 → relu → affine1: dW1 comes from relu_backward's output (the gradient blocked "
          "where the pre-activation was ≤ 0), plus 2·reg·W1 (the factor 2 comes from the square)",
    "b1": "db1 sums relu_backward's output over the batch; biases are not regularised (no reg term)",
    "W2": "dW2 = dscoresᵀ · hidden, plus 2·reg·W2 (the factor 2 comes from the square)",
    "b2": "db2 sums dscores over the batch; biases are not regularised (no reg term)",
}
for key, g_torch in zip(keys, torch_grads(torch_two_layer, [small_params[k] for k in keys])):
    cu.check_close(grads[key], g_torch, f"grads[{key!r}] vs torch.autograd", rtol=1e-9, hint=key_hints[key])
for key in keys:
    print(cu.check_gradient(lambda v, key=key: two_layer_loss({**small_params, key: v}, X_s, y_s, reg=0.1)[0],
                            small_params[key], grads[key], name=f"grads[{key!r}]"))
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report, report_call, report_gradient

_params, _X, _y = small_net(hidden_seed(131), D=6, H=9, C=5, N=11, scale=0.7)


def _flat_loss(params, X, y, reg):
    loss, grads = two_layer_loss(params, X, y, reg)
    return (float(loss),) + tuple(grads[k] for k in ["W1", "b1", "W2", "b2"])


report_call("loss and gradients, called twice; params, X and y left unchanged", _flat_loss,
            {k: v.copy() for k, v in _params.items()}, _X.copy(), _y.copy(), 0.05, rtol=1e-8)
# Half the hidden units dead (large negative b1): their gradients must be exactly blocked.
_dead = {**_params, "b1": np.where(np.arange(9) % 2 == 0, -50.0, _params["b1"])}
report("half the hidden units dead", lambda: _flat_loss(_dead, _X, _y, 0.05), rtol=1e-8, atol=1e-12)
report("one example, large scores", lambda: _flat_loss({k: 20 * v for k, v in _params.items()}, _X[:1], _y[:1], 0.0),
       rtol=1e-8, atol=1e-12)
report("loss on an unseen network", lambda: two_layer_loss(_params, _X, _y, reg=0.05)[0], rtol=1e-9)
report("gradients on an unseen network",
       lambda: tuple(two_layer_loss(_params, _X, _y, reg=0.05)[1][k] for k in ["W1", "b1", "W2", "b2"]), rtol=1e-8)
report("loss without regularisation", lambda: two_layer_loss(_params, _X, _y)[0], rtol=1e-9)
for _key in ["W1", "b1", "W2", "b2"]:
    report_gradient(f"d{_key} agrees with the numerical gradient",
                    lambda v, k=_key: two_layer_loss({**_params, k: v}, _X, _y, reg=0.05)[0],
                    lambda v, k=_key: two_layer_loss({**_params, k: v}, _X, _y, reg=0.05)[1][k],
                    _params[_key], rtol=1e-8, h=1e-5, numeric_tol=1e-7)
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Training on Fashion-MNIST
#
# Two more pieces and the network can learn.
#
# **Initialisation.** The biases start at 0, the weights at random: if they all started
# equal, every hidden unit would compute the same thing and receive the same gradient
# forever. The scale matters too. Each pre-activation sums `fan_in` products; with
# weights of standard deviation $\sqrt{2 / \text{fan\_in}}$ (**He initialisation**, made
# for ReLU, which zeroes half its inputs) the activations keep roughly the same size from
# layer to layer. Standard deviation 1 would make the scores ~30 times too large.
#
# **Minibatch SGD**, as in notebook 01: every epoch, shuffle the examples
# (`rng.permutation`), and for each minibatch of `batch_size` examples compute the loss and
# gradients and step every parameter, `params[k] -= lr * grads[k]`. Record every
# minibatch's loss. At the end of every epoch multiply the learning rate by `lr_decay`:
# big steps first, smaller ones to settle.
#
# Precisely, because the hidden tests replay your loop step by step on small data (with
# initial weights and a loss function of their own, so only the loop is judged) and
# compare every recorded loss and the final parameters with the reference's:
#
# * the only draws from `rng` are one `rng.permutation(N)` at the start of every epoch;
# * the minibatches of an epoch are `order[0:batch_size]`, `order[batch_size:2 * batch_size]`, ...;
# * for each, call `two_layer_loss(params, X_batch, y_batch, reg)`, record the loss it
#   returns (the loss *before* the step), then step all four parameters with the current `lr`;
# * the first epoch uses `lr`, the second `lr * lr_decay`, the third `lr * lr_decay**2`, ...;
# * leave `X` and `y` unchanged (index them, don't shuffle them in place).
#
# `init_two_layer` must use its `seed` (the same seed gives the same weights, another seed
# other weights) and return arrays of the `dtype` asked for.
#
# ### Exercise 7: initialise and train

# %% solution="train_two_layer"
def init_two_layer(D: int, H: int, C: int, seed: int = 0, dtype=np.float32) -> dict:
    """W1 ~ N(0, 2/D) of shape (H, D), W2 ~ N(0, 2/H) of shape (C, H), zero biases b1 (H,), b2 (C,).

    Returns {"W1", "b1", "W2", "b2"}, all arrays of the given dtype.
    """
    rng = np.random.default_rng(seed)
    ### BEGIN SOLUTION
    W1 = rng.normal(0.0, np.sqrt(2.0 / D), size=(H, D))
    W2 = rng.normal(0.0, np.sqrt(2.0 / H), size=(C, H))
    params = {"W1": W1, "b1": np.zeros(H), "W2": W2, "b2": np.zeros(C)}
    return {k: v.astype(dtype) for k, v in params.items()}
    ### END SOLUTION


def train_two_layer(X: np.ndarray, y: np.ndarray, hidden: int = 256, epochs: int = 3, batch_size: int = 128,
                    lr: float = 0.2, lr_decay: float = 0.5, reg: float = 0.0, seed: int = 0) -> tuple[dict, list[float]]:
    """Train the two-layer net by minibatch SGD. X: (N, D) float, y: (N,) ints in 0..C−1.

    Returns (params, losses): the trained parameters and the loss of every minibatch, measured
    before that minibatch's step. Epoch e (from 0) steps with lr · lr_decay**e.
    """
    rng = np.random.default_rng(seed)
    params = init_two_layer(X.shape[1], hidden, int(y.max()) + 1, seed=seed, dtype=X.dtype)
    losses = []
    ### BEGIN SOLUTION
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            loss, grads = two_layer_loss(params, X[batch], y[batch], reg)
            for k in params:
                params[k] -= lr * grads[k]
            losses.append(loss)
        lr *= lr_decay
    ### END SOLUTION
    return params, losses


# %% [markdown]
# Pixels go from $[0, 255]$ to roughly zero mean and unit variance (one mean and one
# standard deviation for all pixels, measured on the training set), in float32, which is
# twice as fast as float64 and precise enough for training.

# %%
X_train_raw, y_train = cu.load_fashion_mnist("train", flatten=True)
X_val_raw, y_val = cu.load_fashion_mnist("val", flatten=True)
X_train = X_train_raw.astype(np.float32) / 255
pixel_mean, pixel_std = X_train.mean(), X_train.std()  # float32 scalars, so the data stays float32


def prepare(X_raw: np.ndarray) -> np.ndarray:
    """uint8 images (N, 784) -> float32 (N, 784), standardised with the training set's statistics."""
    return (X_raw.astype(np.float32) / 255 - pixel_mean) / pixel_std


X_train, X_val = prepare(X_train_raw), prepare(X_val_raw)


def predict_two_layer(params: dict, X: np.ndarray) -> np.ndarray:
    """Predicted classes (N,) of the two-layer net for inputs X (N, D)."""
    hidden = np.maximum(X @ params["W1"].T + params["b1"], 0)
    return np.argmax(hidden @ params["W2"].T + params["b2"], axis=1)


print(X_train.shape, X_train.dtype, f"mean {X_train.mean():.3f}, std {X_train.std():.3f}")

# %% [markdown]
# The run the grader asks for: all 55,000 training images, 3 epochs, 256 hidden units,
# minibatches of 128, $\eta = 0.2$ halved after every epoch (a few seconds on a laptop CPU).
# The data is loaded and scaled again here, so that this run is the same whatever the cells
# above did to `X_train`. The test below checks it, with a quicker run of its own.

# %%
with cu.needs_your_code():
    X_fit_raw, y_fit = cu.load_fashion_mnist("train", flatten=True)
    X_fit = X_fit_raw.astype(np.float32) / 255
    fit_mean, fit_std = X_fit.mean(), X_fit.std()
    X_fit = (X_fit - fit_mean) / fit_std
    start = time.perf_counter()
    params, losses = train_two_layer(X_fit, y_fit, hidden=256, epochs=3, batch_size=128, lr=0.2, lr_decay=0.5,
                                     seed=0)
    seconds = time.perf_counter() - start
    val_acc = np.mean(predict_two_layer(params, (X_val_raw.astype(np.float32) / 255 - fit_mean) / fit_std) == y_val)
    print(f"full run: trained in {seconds:.1f} s, validation accuracy {val_acc:.3f} "
          "(the grader asks for 0.85 on the test set)")

# %% tests="test_train_two_layer" points=4
p0 = init_two_layer(784, 256, 10, seed=0)
for key, shape in [("W1", (256, 784)), ("b1", (256,)), ("W2", (10, 256)), ("b2", (10,))]:
    cu.check_shape(p0[key], shape, f"init_two_layer(784, 256, 10)[{key!r}]")
cu.check_close(p0["W1"].std(), np.sqrt(2 / 784), "std of W1", rtol=0.05,
               hint="He initialisation: standard deviation sqrt(2 / D) for W1 and sqrt(2 / H) for W2")
cu.check_close(p0["W2"].std(), np.sqrt(2 / 256), "std of W2", rtol=0.1)
cu.check_close(p0["b1"], np.zeros(256), "b1 at initialisation")
# A quick run: 5,000 examples, 2 epochs, 64 hidden units. Expect about 80 % validation accuracy.
params_small, losses_small = train_two_layer(X_train[:5000], y_train[:5000], hidden=64, epochs=2, batch_size=100,
                                             lr=0.1, lr_decay=1.0)
cu.check_equal(len(losses_small), 2 * 50, "number of recorded losses",
               hint="one loss per minibatch: 5000 / 100 = 50 minibatches per epoch")
assert losses_small[0] < 4, (f"the first minibatch's loss is {losses_small[0]:.3g}; at initialisation it should "
                             "be near log(10) = 2.3 (a little more is fine). Much larger means the initial weights "
                             "are too large: use standard deviation sqrt(2 / fan_in).")
val_small = np.mean(predict_two_layer(params_small, X_val) == y_val)
print(f"losses: first minibatch {losses_small[0]:.3f}, last {losses_small[-1]:.3f}; "
      f"validation accuracy {val_small:.3f}")
assert val_small > 0.75, (f"validation accuracy {val_small:.3f}: expected about 0.8. Does the loss go down? "
                          "Check the sign of the update (params[k] -= lr * grads[k]) and that inputs and labels "
                          "are indexed by the SAME minibatch indices.")
# The full run of the cell above, with the grader's settings: 55,000 images, 3 epochs.
cu.check_equal(len(losses), 3 * 430, "number of losses recorded by the full run (3 epochs of 430 minibatches)",
               hint="run the cell above this test again after changing train_two_layer")
assert val_acc > 0.8, f"validation accuracy {val_acc:.3f} after the full run: expected about 0.87"
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report, report_call

_p0 = init_two_layer(300, 200, 10, seed=hidden_seed(5))
report("init_two_layer: shapes", lambda: np.array([_p0[k].shape for k in ["W1", "W2"]] + [[_p0["b1"].size, _p0["b2"].size]]),
       kind="equal")
report("init_two_layer: weight scale", lambda: np.array([_p0["W1"].std() * np.sqrt(300), _p0["W2"].std() * np.sqrt(200)]),
       rtol=0.05)
report("init_two_layer: zero biases", lambda: np.concatenate([_p0["b1"], _p0["b2"]]), atol=1e-12)
_rq = hidden_rng(137)
report("one loss per minibatch, the last one smaller",
       lambda: len(train_two_layer(_rq.normal(size=(600, 12)).astype(np.float32), _rq.integers(0, 3, size=600),
                                   hidden=8, epochs=2, batch_size=128)[1]), kind="equal")


def _init_facts():
    a, b = init_two_layer(20, 6, 3, seed=hidden_seed(138)), init_two_layer(20, 6, 3, seed=hidden_seed(138))
    c = init_two_layer(20, 6, 3, seed=hidden_seed(139))
    d = init_two_layer(20, 6, 3, seed=hidden_seed(138), dtype=np.float64)
    keys = ["W1", "b1", "W2", "b2"]
    return np.array([all(np.array_equal(a[k], b[k]) for k in keys), not np.array_equal(a["W1"], c["W1"]),
                     all(a[k].dtype == np.float32 for k in keys), all(d[k].dtype == np.float64 for k in keys)])


report("init_two_layer: same seed same weights, other seed other weights, the dtype asked for", _init_facts,
       kind="equal")


# The training loop, step by step, with the grader's own initial weights and loss (so only
# the loop is judged): 40 unseen examples in minibatches of 16 (the third has 8), 3 epochs,
# learning rate decayed after each epoch. Every loss and the final parameters must match.
def _grader_init(D, H, C, seed=0, dtype=np.float32):
    r = hidden_rng(140)
    return {"W1": (0.5 * r.normal(size=(H, D))).astype(dtype), "b1": (0.1 * r.normal(size=H)).astype(dtype),
            "W2": (0.5 * r.normal(size=(C, H))).astype(dtype), "b2": (0.1 * r.normal(size=C)).astype(dtype)}


def _grader_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    pre = X @ W1.T + b1
    h = np.maximum(pre, 0)
    S = h @ W2.T + b2
    S = S - S.max(axis=1, keepdims=True)
    logp = S - np.log(np.exp(S).sum(axis=1, keepdims=True))
    n = len(y)
    loss = -logp[np.arange(n), y].mean() + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dS = np.exp(logp)
    dS[np.arange(n), y] -= 1
    dS /= n
    dh = (dS @ W2) * (pre > 0)
    return float(loss), {"W1": dh.T @ X + 2 * reg * W1, "b1": dh.sum(axis=0),
                         "W2": dS.T @ h + 2 * reg * W2, "b2": dS.sum(axis=0)}


def _loop(X, y):
    saved = init_two_layer, two_layer_loss
    globals().update(init_two_layer=_grader_init, two_layer_loss=_grader_loss)
    try:
        params, losses = train_two_layer(X, y, hidden=5, epochs=3, batch_size=16, lr=0.3, lr_decay=0.5, reg=0.01,
                                         seed=hidden_seed(141))
    finally:
        globals().update(init_two_layer=saved[0], two_layer_loss=saved[1])
    return (np.asarray(losses, dtype=np.float64),) + tuple(np.asarray(params[k]) for k in ["W1", "b1", "W2", "b2"])


_rl = hidden_rng(142)
_X_loop = _rl.normal(size=(40, 6))
_y_loop = np.concatenate([[0, 1, 2], _rl.integers(0, 3, size=37)])
report_call("minibatch SGD with decay, step by step: every loss and the final parameters; X and y left unchanged",
            _loop, _X_loop.copy(), _y_loop.copy(), rtol=1e-8, atol=1e-12)


def _test_predictions():
    # The network of the full run above (fixed settings). Only the test IMAGES enter the
    # kernel; the grader holds the labels ("fashion_mnist_test").
    X_test = (cu.load_fashion_mnist_images("test", flatten=True).astype(np.float32) / 255 - fit_mean) / fit_std
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float32) for k in ["W1", "b1", "W2", "b2"])
    return np.argmax(np.maximum(X_test @ W1.T + b1, 0) @ W2.T + b2, axis=1)


report("test accuracy after training (55,000 images, 3 epochs)", _test_predictions, metric="accuracy",
       labels="fashion_mnist_test", min={"cpu": 0.85, "gpu": 0.85})
### END HIDDEN TESTS

# %% [markdown]
# The loss per minibatch of the full run:

# %%
with cu.needs_your_code():
    cu.plot_loss_curve(losses, smooth=50)
    plt.title("two-layer net on Fashion-MNIST")
    plt.show()
    first_losses = np.asarray(losses[:20])
    print(f"first minibatch: loss {first_losses[0]:.2f}; highest of the first 20: {first_losses.max():.2f} "
          f"(minibatch {first_losses.argmax()})")
    assert first_losses.max() > 1.5 * first_losses[0], "the text below says the loss jumps during the first steps"

# %% [markdown]
# The loss jumps during the first few steps: with a learning rate this large the very
# first updates overshoot, before the network settles (notebook 04 shows gentler ways to
# start). Here are validation images the network gets wrong, titled with its guess;
# many are mistakes a person could make too.

# %%
with cu.needs_your_code():
    val_pred = predict_two_layer(params, X_val)
    wrong = np.flatnonzero(val_pred != y_val)[:16]
    cu.show_images(X_val_raw[wrong], val_pred[wrong], class_names=cu.FASHION_MNIST_CLASSES)
    plt.show()

# %% [markdown]
# ## 8. Choosing hyperparameters: random search
#
# The learning rate $\eta$ and the regularisation strength $\lambda$ are **hyperparameters**:
# gradient descent does not learn them, we choose them. The rule is to choose them on the
# **validation set**: train one network per candidate setting, keep the setting whose network
# scores best on validation images, and only at the very end measure that one network on
# the test set, once.
#
# Which candidates? Two habits matter.
#
# * **A log scale.** Whether $\eta$ is 0.001 or 0.002 matters as much as whether it is 0.1 or
#   0.2: what counts is the *factor*. So draw the exponent uniformly, $\eta = 10^u$ with
#   $u \sim \mathcal{U}(\log_{10} \eta_{\min}, \log_{10} \eta_{\max})$: every factor of 10 in
#   the range gets the same share of the trials. Drawn uniformly between 0.001 and 1, 90 %
#   of the draws would land above 0.1.
# * **Random search rather than a grid.** With a budget of 16 trials, a $4 \times 4$ grid tries
#   only 4 different learning rates; 16 random draws try 16. When one hyperparameter matters
#   much more than the other (usually the learning rate), random search explores it four
#   times more finely for the same cost (Bergstra & Bengio, 2012).

# %% [markdown]
# **Question.** Suppose you drew the learning rates *uniformly* between $10^{-4}$ and 1
# instead of on a log scale. About what fraction of the trials would get a learning rate
# below $10^{-2}$?
#
# * (a) about half, as on a log scale;
# * (b) about 1 %;
# * (c) about 10 %.
#
# Set `uniform_draws_answer` to "a", "b" or "c".

# %% solution="choice_uniform_draws"
### BEGIN SOLUTION
uniform_draws_answer = "b"
### END SOLUTION

# %% tests="test_choice_uniform_draws" points=1
cu.check_choice(uniform_draws_answer, "abc", "uniform_draws_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", uniform_draws_answer)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: random search
#
# `sample_hyperparameters` draws the candidate settings. So that the grader can replay your
# draws, make exactly two calls to the generator: first all the learning-rate exponents,
# `rng.uniform(np.log10(lr_range[0]), np.log10(lr_range[1]), size=n_trials)`, then all the
# regularisation exponents in the same way; trial $i$ gets the $i$-th of each.
#
# `random_search` trains one network per setting with `train_two_layer(X_train, y_train,
# lr=..., reg=..., **train_kwargs)` (pass `train_kwargs` on unchanged: hidden size, epochs,
# seed, ...), measures each network's validation accuracy with `predict_two_layer`, and
# returns the index of the best trial (the first one if several tie), all the validation
# accuracies in trial order, and the parameters of the best network.

# %% solution="random_search"
def sample_hyperparameters(n_trials: int, lr_range: tuple[float, float] = (1e-3, 1.0),
                           reg_range: tuple[float, float] = (1e-5, 1e-1), seed: int = 0) -> list[dict]:
    """n_trials settings [{"lr": η, "reg": λ}, ...], each log-uniform in its range.

    rng = np.random.default_rng(seed); all learning-rate exponents first, then all regularisation exponents.
    """
    rng = np.random.default_rng(seed)
    ### BEGIN SOLUTION
    log_lr = rng.uniform(np.log10(lr_range[0]), np.log10(lr_range[1]), size=n_trials)
    log_reg = rng.uniform(np.log10(reg_range[0]), np.log10(reg_range[1]), size=n_trials)
    return [{"lr": float(10**a), "reg": float(10**b)} for a, b in zip(log_lr, log_reg)]
    ### END SOLUTION


def random_search(trials: list[dict], X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray,
                  y_val: np.ndarray, **train_kwargs) -> tuple[int, list[float], dict]:
    """Train the two-layer net once per trial; select on validation accuracy.

    Returns (best, val_accuracies, best_params): the index of the trial with the highest validation
    accuracy (the first of any ties), every trial's validation accuracy, the best network's parameters.
    """
    ### BEGIN SOLUTION
    val_accuracies, best, best_params = [], -1, None
    for i, trial in enumerate(trials):
        params, _ = train_two_layer(X_train, y_train, lr=trial["lr"], reg=trial["reg"], **train_kwargs)
        accuracy = float(np.mean(predict_two_layer(params, X_val) == y_val))
        val_accuracies.append(accuracy)
        if best < 0 or accuracy > val_accuracies[best]:
            best, best_params = i, params
    return best, val_accuracies, best_params
    ### END SOLUTION


# %% [markdown]
# The search: 12 trials, each a network of 64 hidden units trained for 2 epochs on 10,000
# training images (a fixed amount of work, about a third of the full run's), judged on the
# 5,000 validation images. The largest learning rates can make a training run diverge; NumPy
# would then warn about overflows, and those warnings are silenced here.

# %%
SEARCH = {"hidden": 64, "epochs": 2, "batch_size": 100, "lr_decay": 0.5, "seed": 0}
with cu.needs_your_code():
    trials = sample_hyperparameters(12, lr_range=(1e-3, 1.0), reg_range=(1e-5, 1e-1), seed=0)
    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        best, val_accuracies, best_params = random_search(trials, X_train[:10000], y_train[:10000], X_val, y_val,
                                                          **SEARCH)
    print(f"12 trials in {time.perf_counter() - start:.1f} s; best: trial {best}, "
          f"η = {trials[best]['lr']:.3g}, λ = {trials[best]['reg']:.2g}, validation accuracy {val_accuracies[best]:.3f}")

# %% tests="test_random_search" points=3
many = sample_hyperparameters(4000, lr_range=(1e-4, 1.0), reg_range=(1e-6, 1e-2), seed=1)
cu.check_equal(len(many), 4000, "number of trials drawn")
cu.check_equal(sorted(many[0]), ["lr", "reg"], "the keys of one trial", hint='each trial is {"lr": ..., "reg": ...}')
lrs, regs = np.array([t["lr"] for t in many]), np.array([t["reg"] for t in many])
assert lrs.min() >= 1e-4 and lrs.max() <= 1.0 and regs.min() >= 1e-6 and regs.max() <= 1e-2, (
    f"draws outside their ranges: lr in [{lrs.min():.3g}, {lrs.max():.3g}], reg in [{regs.min():.3g}, {regs.max():.3g}]")
cu.check_close(np.mean(lrs < 1e-2), 0.5, "fraction of learning rates below 1e-2, for the range (1e-4, 1)", atol=0.05,
               hint="on a log scale, 1e-2 is the middle of (1e-4, 1): half the draws should fall below it. "
                    "Draw the EXPONENT uniformly: 10 ** rng.uniform(np.log10(low), np.log10(high))")
cu.check_close(np.mean(regs < 1e-4), 0.5, "fraction of regularisation strengths below 1e-4, for (1e-6, 1e-2)",
               atol=0.05, hint="draw the exponent of reg uniformly too, from its own range")
again = sample_hyperparameters(5, seed=7)
cu.check_equal(again, sample_hyperparameters(5, seed=7), "two draws with the same seed",
               hint="draw from rng = np.random.default_rng(seed), nothing else")
# The search of the cell above.
cu.check_equal(len(val_accuracies), len(trials), "number of validation accuracies", hint="one per trial, in order")
cu.check_equal(best, int(np.argmax(val_accuracies)), "the index of the best trial",
               hint="keep the trial with the HIGHEST validation accuracy (the first one if several tie)")
best_check = np.mean(predict_two_layer(best_params, X_val) == y_val)
cu.check_close(best_check, val_accuracies[best], "validation accuracy of the returned best_params",
               hint="val_accuracies[i] is the accuracy of trial i's network on X_val, y_val (not on the training set), "
                    "and best_params are the parameters of trial `best`, not of the last one")
assert val_accuracies[best] > 0.8, f"best validation accuracy {val_accuracies[best]:.3f}; expected about 0.82"
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report, report_call


def _draws(n, lr_range, reg_range, seed):
    return np.array([[t["lr"], t["reg"]] for t in sample_hyperparameters(n, lr_range, reg_range, seed)])


_rs = hidden_rng(150)
_lr_lo = float(10 ** _rs.uniform(-5, -3))
_reg_lo = float(10 ** _rs.uniform(-7, -5))
report("sample_hyperparameters on unseen ranges and seed",
       lambda: _draws(9, (_lr_lo, 0.5), (_reg_lo, 1e-2), hidden_seed(151)), rtol=1e-9)
report("sample_hyperparameters with its default ranges",
       lambda: np.array([[t["lr"], t["reg"]] for t in sample_hyperparameters(6, seed=hidden_seed(152))]), rtol=1e-9)
report("sample_hyperparameters: one trial",
       lambda: _draws(1, (1e-3, 1e-1), (1e-4, 1e-3), hidden_seed(153)), rtol=1e-9)

# The selection, with the grader's own training and prediction in place of yours (so only the
# search is judged): every trial trained with its own lr and reg and the given keyword arguments,
# judged on the validation set (not the training set), the best one kept, the first of a tie.
_rv = hidden_rng(154)
_Xs_tr, _ys_tr = _rv.normal(size=(30, 4)), _rv.integers(0, 3, size=30)
_Xs_val, _ys_val = _rv.normal(size=(20, 4)), _rv.integers(0, 3, size=20)
_val_hits = _rv.permutation([3, 7, 12, 12, 9, 15, 15, 5])  # correct validation answers out of 20, with ties
_train_hits = 20 - _val_hits  # on the training set the ranking is reversed
_trials = [{"lr": float(10 ** _rv.uniform(-3, 0)), "reg": float(10 ** _rv.uniform(-5, -1))} for _ in range(8)]
_calls = []


def _grader_train(X, y, lr=0.2, reg=0.0, **kwargs):
    i = next(k for k, t in enumerate(_trials) if t["lr"] == lr and t["reg"] == reg) if any(
        t["lr"] == lr and t["reg"] == reg for t in _trials) else -1
    _calls.append([lr, reg, len(X), kwargs.get("hidden", -1), kwargs.get("epochs", -1), kwargs.get("seed", -1)])
    return {"trial": i}, [1.0]


def _grader_predict(params, X):
    i = params["trial"]
    hits = (_val_hits if len(X) == len(_Xs_val) else _train_hits)[i] if i >= 0 else 0
    y = _ys_val if len(X) == len(_Xs_val) else _ys_tr[:len(X)]
    pred = (np.asarray(y) + 1) % 3
    pred[:hits] = np.asarray(y)[:hits]
    return pred


def _search():
    saved = train_two_layer, predict_two_layer
    globals().update(train_two_layer=_grader_train, predict_two_layer=_grader_predict)
    _calls.clear()
    try:
        best, accuracies, best_params = random_search(_trials, _Xs_tr, _ys_tr, _Xs_val, _ys_val, hidden=7, epochs=4,
                                                      seed=hidden_seed(155) % 1000)
    finally:
        globals().update(train_two_layer=saved[0], predict_two_layer=saved[1])
    return (np.array([best, best_params["trial"]]), np.asarray(accuracies, dtype=np.float64),
            np.array(_calls, dtype=np.float64))


report("random_search with the grader's training: best trial, validation accuracies, every training call",
       _search, rtol=1e-12)


def _test_predictions():
    # The best network of the search above (fixed settings). Only the test IMAGES enter the kernel.
    X_test = (cu.load_fashion_mnist_images("test", flatten=True).astype(np.float32) / 255 - pixel_mean) / pixel_std
    W1, b1, W2, b2 = (np.asarray(best_params[k], dtype=np.float32) for k in ["W1", "b1", "W2", "b2"])
    return np.argmax(np.maximum(X_test @ W1.T + b1, 0) @ W2.T + b2, axis=1)


report("test accuracy of the best network of the search", _test_predictions, metric="accuracy",
       labels="fashion_mnist_test", min={"cpu": 0.78, "gpu": 0.78})
### END HIDDEN TESTS

# %% [markdown]
# Each dot is one trial, placed at its learning rate and regularisation strength, coloured by
# its validation accuracy; the star is the best. The learning rate decides most: every trial
# with $\eta$ below 0.01 is still far from trained after two epochs (below 0.76), the trials
# above 0.5 do clearly worse than the best (steps that large make training erratic: the
# first losses of section 7 jumped even at 0.2), and the five best trials all have
# $\eta$ between 0.01 and 0.5. The regularisation strength matters much less: among those
# five best, $\lambda$ ranges over more than two orders of magnitude. So the best setting
# lies in the middle of the learning-rate range, and a second, narrower search around it
# (say $\eta$ from 0.02 to 0.3) would be the next step. The search never looked at the test set: the grader measures
# the chosen network on it, once, outside your notebook (it expects about 0.8, a little
# below the validation accuracy of the winner, which was picked *because* it scored well on
# those 5,000 images).

# %%
with cu.needs_your_code():
    lrs, regs = np.array([t["lr"] for t in trials]), np.array([t["reg"] for t in trials])
    accs = np.array(val_accuracies)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    dots = ax.scatter(lrs, regs, c=accs, cmap="viridis", vmin=0.1, vmax=max(accs.max(), 0.11), s=60, edgecolors="k")
    ax.scatter(lrs[best], regs[best], marker="*", s=400, facecolors="none", edgecolors="C3", linewidths=2,
               label=f"best: {accs[best]:.3f}")
    for lr_i, reg_i, acc_i in zip(lrs, regs, accs):
        ax.annotate(f"{acc_i:.2f}", (lr_i, reg_i), textcoords="offset points", xytext=(6, 5), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate η")
    ax.set_ylabel("regularisation λ")
    fig.colorbar(dots, label="validation accuracy")
    ax.legend(loc="lower left")
    ax.set_title("random search, 12 trials")
    plt.show()
    top5 = np.argsort(-accs, kind="stable")[:5]
    print(f"the five best trials: η from {lrs[top5].min():.2g} to {lrs[top5].max():.2g}, "
          f"λ from {regs[top5].min():.1g} to {regs[top5].max():.1g}; best with η < 0.01: {accs[lrs < 0.01].max():.3f}")
    assert accs[lrs < 0.01].max() < 0.76 and np.all((lrs[top5] > 0.01) & (lrs[top5] < 0.5)), (
        "the text says: η below 0.01 scores below 0.76, and the five best trials have η between 0.01 and 0.5")
    assert regs[top5].max() > 100 * regs[top5].min(), "the text says: λ of the five best spans two orders of magnitude"
    assert accs[lrs > 0.5].max() < accs[best] - 0.03, "the text says: η above 0.5 does clearly worse than the best"


# %% [markdown]
# ## 9. How much data?
#
# Two rules of thumb link the size of the training set $N$ to the number of weights
# $|W|$:
#
# * collect **5 to 10 times as many examples as weights**;
# * to reach accuracy $a$ on new data, use $N > |W| / (1 - a)$ examples (a classic bound
#   says an error rate $\varepsilon$ needs about $|W| / \varepsilon$ examples).
#
# Our network is far outside both:

# %%
with cu.needs_your_code():
    n_weights = sum(p.size for p in params.values())
    print(f"|W| = {n_weights:,} weights; training set N = {len(X_fit):,}; validation accuracy {val_acc:.3f}")
    print(f"5-10 × |W|:        {5 * n_weights:,} to {10 * n_weights:,} examples")
    print(f"|W| / (1 - 0.85):  {n_weights / (1 - 0.85):,.0f} examples for 85 % accuracy")
    assert len(X_fit) < n_weights and val_acc > 0.85, "the text says: fewer examples than weights, and 85 % anyway"

# %% [markdown]
# and yet it reaches 85 % on images it has never seen. The rules are worst-case guides,
# useful for a first guess when data is expensive; in practice, training only briefly,
# regularisation and the structure of real data let networks generalise from far fewer
# examples than weights. Measure on a validation set rather than trusting a rule.
#
# ## Summary
#
# * The chain rule on a graph: $\partial L / \partial u$ is the sum over the nodes that
#   use $u$ of $\partial L / \partial v \cdot \partial v / \partial u$; one backward pass in
#   reverse topological order gives every gradient.
# * A layer is a `forward` that caches what it needs and a `backward` that turns
#   $\partial L / \partial \text{out}$ into $\partial L / \partial \text{inputs}$; networks
#   chain them. An autodiff engine records the graph and does the chaining for you.
# * Always check a backward pass against numerical gradients (float64, relative error
#   below $10^{-7}$) and, when you can, against PyTorch.
# * Without nonlinear activations a deep network is just one linear layer.
# * Hyperparameters are chosen on a validation set, by random search on a log scale; the
#   test set is used once, at the end.
#
# Next, `03b_modular_nets`: the same layers as interchangeable pieces, a net of any depth
# and dropout; then `04_optimization`: better ways to walk downhill than plain SGD.
