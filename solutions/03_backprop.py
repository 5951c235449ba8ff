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
#   more than 85 % test accuracy in a few seconds.
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
print("chain rule:           ", g(0.5) * (1 - g(0.5)) * a)
print("centred differences:  ", (g(0.5 + h) - g(0.5 - h)) / (2 * h))

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
for ax, (title, activation) in zip(axes, [("identity", torch.nn.Identity()), ("ReLU", torch.nn.ReLU())]):
    predict_ring = fit_mlp(activation)
    cu.plot_decision_regions(predict_ring, X_ring, y_ring, ax=ax)
    ax.set_title(f"3 layers, {title} activations: accuracy {np.mean(predict_ring(X_ring) == y_ring):.2f}")
plt.show()

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
for units in (3, 10, 100):
    r = np.random.default_rng(units)
    W1_r, b1_r = r.normal(size=(units, 1)), r.uniform(-3, 3, size=units)
    features = np.maximum(x_1d @ W1_r.T + b1_r, 0)  # (400, units)
    features = np.hstack([features, np.ones((len(x_1d), 1))])
    W2_r = np.linalg.lstsq(features, target, rcond=None)[0]
    plt.plot(x_1d, features @ W2_r, label=f"{units} hidden units")
plt.legend()
plt.title("one hidden ReLU layer, wider and wider")
plt.show()

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
W_ex, b_ex = np.array([[1.0, -2.0], [-1.0, 1.0]]), np.array([1.0, 0.0])
out, _ = affine_forward(np.array([[1.0, -1.0]]), W_ex, b_ex)
cu.check_shape(out, (1, 2), "affine_forward(x, W, b)[0]", hint="out = x @ W.T + b has one row per example")
cu.check_close(out, [[4.0, -2.0]], "the worked example", hint="out = x @ W.T + b: did you transpose W and add b?")

rng = np.random.default_rng(0)
x, W, b = rng.normal(size=(4, 5)), rng.normal(size=(3, 5)), rng.normal(size=3)
dout = rng.normal(size=(4, 3))
out, cache = affine_forward(x, W, b)
dx, dW, db = affine_backward(dout, cache)
cu.check_shape(dx, (4, 5), "dx", hint="dx = dout @ W has the shape of x")
cu.check_shape(dW, (3, 5), "dW", hint="dW = dout.T @ x has the shape of W")
cu.check_shape(db, (3,), "db", hint="sum dout over the batch axis (axis=0)")
# 1. Numerical gradients of the scalar sum(out * dout), in float64.
print(cu.check_gradient(lambda x_: np.sum(affine_forward(x_, W, b)[0] * dout), x, dx, name="dx"))
print(cu.check_gradient(lambda W_: np.sum(affine_forward(x, W_, b)[0] * dout), W, dW, name="dW"))
print(cu.check_gradient(lambda b_: np.sum(affine_forward(x, W, b_)[0] * dout), b, db, name="db"))
# 2. PyTorch autograd on the same computation.
dx_t, dW_t, db_t = torch_grads(lambda x_, W_, b_: x_ @ W_.T + b_, [x, W, b], dout)
cu.check_close(dx, dx_t, "dx vs torch.autograd", rtol=1e-9, hint="dx = dout @ W (not W.T)")
cu.check_close(dW, dW_t, "dW vs torch.autograd", rtol=1e-9, hint="dW = dout.T @ x")
cu.check_close(db, db_t, "db vs torch.autograd", rtol=1e-9,
               hint="b is added to every row, so db SUMS dout over the batch (not the mean)")
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
dx = relu_backward(dout, cache)
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
h_ex, _ = sigmoid_forward(affine_forward(np.array([[1.0, -1.0]]), W_ex, b_ex)[0])
cu.check_close(h_ex, [[0.98, 0.12]], "σ(W x + b) for the worked example", atol=0.005)
cu.check_close(sigmoid_forward(np.array([0.0]))[0], [0.5], "σ(0)")
out_big = sigmoid_forward(np.array([-1000.0, -40.0, 40.0, 1000.0]))[0]
cu.check_finite(out_big, "σ at ±40 and ±1000")
cu.check_close(out_big, [0.0, np.exp(-40.0), 1.0, 1.0], "σ at ±40 and ±1000", rtol=1e-9, atol=1e-12,
               hint="e^x / (1 + e^x) is inf / inf = nan for large x: use a form that never divides inf by inf")
rng = np.random.default_rng(2)
x, dout = rng.normal(size=(4, 5)) * 2, rng.normal(size=(4, 5))
out, cache = sigmoid_forward(x)
dx = sigmoid_backward(dout, cache)
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
               hint="np.tanh(x) (the formula (e^{2x} − 1) / (e^{2x} + 1) overflows for large x)")
cu.check_close(tanh_backward(np.ones(3), cache), [1.0, 0.78644773, 0.41997434], "tanh'(x) at 0, 0.5, −1",
               hint="tanh'(x) = 1 − tanh²(x): square the OUTPUT of the forward pass, not its input")
rng = np.random.default_rng(3)
out_big = tanh_forward(np.array([-1000.0, 1000.0]))[0]
cu.check_finite(out_big, "tanh at ±1000")
cu.check_close(out_big, [-1.0, 1.0], "tanh at ±1000",
               hint="(e^{2x} − 1) / (e^{2x} + 1) is inf / inf = nan for large x: use np.tanh")
x, dout = rng.normal(size=(3, 7)), rng.normal(size=(3, 7))
out, cache = tanh_forward(x)
dx = tanh_backward(dout, cache)
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


# %% tests="test_value" points=4
# The neuron of section 2: a3 = tanh(w13·a1 + w23·a2 + b3).
def neuron(a1=2.0, a2=-1.0, w13=0.5, w23=1.5, b3=1.0):
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


a3, (a1, a2, w13, w23, b3) = neuron()
cu.check_close(a3.data, 0.46211716, "a3 = tanh(0.5)", hint="check __add__, __mul__ and tanh: the forward values")
a3.backward()
cu.check_close(a3.grad, 1.0, "∂a3/∂a3", hint="backward() starts by setting the output's grad to 1")
cu.check_close([w13.grad, w23.grad, b3.grad, a1.grad, a2.grad], [1.5728955, -0.7864477, 0.7864477, 0.3932239, 1.1796716],
               "∂a3/∂(w13, w23, b3, a1, a2), the table of section 2", rtol=1e-6,
               hint="∂(x·y)/∂x = y; the tanh local gradient is 1 − tanh², squared OUTPUT, not input")
# A node used twice: f = x·x + x·y + exp(y) needs the two paths through x added up (+=).
x, y = Value(1.5), Value(-0.5)
f = x * x + x * y + y.exp() + (x * y).relu() - 3 * (y * 2).tanh()
f.backward()
grads_t = torch_grads(lambda x_, y_: x_ * x_ + x_ * y_ + y_.exp() + torch.relu(x_ * y_) - 3 * torch.tanh(y_ * 2),
                      [1.5, -0.5])
cu.check_close(f.data, 1.5**2 - 0.75 + np.exp(-0.5) - 3 * np.tanh(-1.0), "f(1.5, −0.5)")
cu.check_close([x.grad, y.grad], grads_t, "∂f/∂x and ∂f/∂y vs torch.autograd", rtol=1e-9,
               hint="grads must ACCUMULATE (+=) over every use of a node, and backward must visit nodes in "
                    "REVERSE topological order (output first)")
order = f.topological_order()
cu.check_equal(len(order), len(set(map(id, order))), "number of distinct nodes in topological_order()",
               hint="keep a set of visited nodes, so a node used twice is listed once")
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


stepper_root, _ = neuron()
backward_stepper(stepper_root)

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


params, X_s, y_s = small_net(0)
# With all weights 0 every class gets the same score: the loss is log C.
zeros = {k: np.zeros_like(v) for k, v in params.items()}
cu.check_close(two_layer_loss(zeros, X_s, y_s)[0], np.log(4), "loss with all-zero weights",
               hint="with equal scores softmax is uniform, so the loss is log(C) = log 4")
loss, grads = two_layer_loss(params, X_s, y_s, reg=0.1)
for key in params:
    cu.check_shape(grads[key], params[key].shape, f"grads[{key!r}]", hint="a gradient has the shape of its parameter")


def torch_two_layer(W1, b1, W2, b2, X=X_s, y=y_s, reg=0.1):
    scores = torch.relu(torch.as_tensor(X) @ W1.T + b1) @ W2.T + b2
    return (torch.nn.functional.cross_entropy(scores, torch.as_tensor(y))
            + reg * ((W1 * W1).sum() + (W2 * W2).sum()))


keys = ["W1", "b1", "W2", "b2"]
cu.check_close(loss, torch_two_layer(*[torch.as_tensor(params[k]) for k in keys]).item(), "loss vs PyTorch",
               hint="loss = softmax loss + reg · (sum of W1² + sum of W2²); did you add b2?")
for key, g_torch in zip(keys, torch_grads(torch_two_layer, [params[k] for k in keys])):
    print(cu.check_gradient(lambda v, key=key: two_layer_loss({**params, key: v}, X_s, y_s, reg=0.1)[0],
                            params[key], grads[key], name=f"grads[{key!r}]"))
    cu.check_close(grads[key], g_torch, f"grads[{key!r}] vs torch.autograd", rtol=1e-9,
                   hint="backward goes affine2 → relu → affine1, each fed the gradient of the one before; "
                        "the weights also get 2·reg·W")
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
# The full run with the grader's settings: 55,000 images, 3 epochs. The data is loaded and
# scaled again here, so that this run is the same whatever the cells above did to X_train.
X_fit_raw, y_fit = cu.load_fashion_mnist("train", flatten=True)
X_fit = X_fit_raw.astype(np.float32) / 255
fit_mean, fit_std = X_fit.mean(), X_fit.std()
X_fit = (X_fit - fit_mean) / fit_std
start = time.perf_counter()
params, losses = train_two_layer(X_fit, y_fit, hidden=256, epochs=3, batch_size=128, lr=0.2, lr_decay=0.5, seed=0)
seconds = time.perf_counter() - start
val_acc = np.mean(predict_two_layer(params, (X_val_raw.astype(np.float32) / 255 - fit_mean) / fit_std) == y_val)
print(f"full run: trained in {seconds:.1f} s, validation accuracy {val_acc:.3f} "
      "(the grader asks for 0.85 on the test set)")
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
    # The network trained above, in this same locked cell, with fixed settings. Only the test
    # IMAGES enter the kernel; the grader holds the labels ("fashion_mnist_test").
    X_test = (cu.load_fashion_mnist_images("test", flatten=True).astype(np.float32) / 255 - fit_mean) / fit_std
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float32) for k in ["W1", "b1", "W2", "b2"])
    return np.argmax(np.maximum(X_test @ W1.T + b1, 0) @ W2.T + b2, axis=1)


report("test accuracy after training (55,000 images, 3 epochs)", _test_predictions, metric="accuracy",
       labels="fashion_mnist_test", min={"cpu": 0.85, "gpu": 0.85})
### END HIDDEN TESTS

# %% [markdown]
# The test cell above trained the network on all 55,000 training images with the
# grader's settings (a few seconds on a laptop CPU). Its loss per minibatch:

# %%
cu.plot_loss_curve(losses, smooth=50)
plt.title("two-layer net on Fashion-MNIST")
plt.show()

# %% [markdown]
# The loss jumps during the first few steps: with a learning rate this large the very
# first updates overshoot, before the network settles (notebook 04 shows gentler ways to
# start). Here are validation images the network gets wrong, titled with its guess;
# many are mistakes a person could make too.

# %%
val_pred = predict_two_layer(params, X_val)
wrong = np.flatnonzero(val_pred != y_val)[:16]
cu.show_images(X_val_raw[wrong], val_pred[wrong], class_names=cu.FASHION_MNIST_CLASSES)
plt.show()

# %% [markdown]
# ## 8. How much data?
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
n_weights = sum(p.size for p in params.values())
print(f"|W| = {n_weights:,} weights; training set N = {len(X_train):,}")
print(f"5-10 × |W|:        {5 * n_weights:,} to {10 * n_weights:,} examples")
print(f"|W| / (1 - 0.85):  {n_weights / (1 - 0.85):,.0f} examples for 85 % accuracy")

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
#
# Next, `04_optimization`: better ways to walk downhill than plain SGD.
