# %% [markdown]
# # 01 · Linear classifiers
#
# In this notebook you build the simplest model that still deserves the name: a
# **linear classifier**. On the way you fit a line with gradient descent, learn to see
# images as vectors of numbers, and meet the three ways of looking at a linear model
# (algebra, templates, geometry) and the problems no line can solve.
#
# You will implement six functions: `mse_loss_and_grad`, `fit_line`, `linear_scores`,
# the bias trick (`append_ones` and `fold_bias`), `predict` and `polar_features`.

# %%
import matplotlib.pyplot as plt
import numpy as np

import course_utils as cu

cu.seed_everything(0)

# %% [markdown]
# ## 1. Learning from data
#
# In **supervised learning** we are given examples $\{(x_i, y_i)\}_{i=1}^N$ produced by an
# unknown target function $f: x \mapsto y$. We choose a **model family**, functions
# $f(x; \theta)$ with parameters $\theta$, and a **loss** $L(\theta)$ that says how badly a
# given $\theta$ fits the examples. *Learning* is searching for the $\theta$ with the
# smallest loss.
#
# The other two big families: **unsupervised learning** gets only the $x_i$ and looks for
# structure (clusters, a lower-dimensional description); **reinforcement learning** gets
# no labels at all, only rewards for actions taken in an environment (notebook 07).
#
# ## 2. Fitting a line
#
# The smallest interesting model has two parameters, $f(x; \theta) = \theta_1 x + \theta_2$.
# With the **mean squared error**
#
# $$ L(\theta) = \frac{1}{n} \sum_{i=1}^{n} \big(y_i - \theta_1 x_i - \theta_2\big)^2 $$
#
# the chain rule gives, with the residual $r_i = \theta_1 x_i + \theta_2 - y_i$,
#
# $$ \frac{\partial L}{\partial \theta_1} = \frac{2}{n} \sum_{i} r_i \, x_i, \qquad
#    \frac{\partial L}{\partial \theta_2} = \frac{2}{n} \sum_{i} r_i . $$
#
# Here are 200 noisy points around a line. Our goal is to recover it.

# %%
x_train = cu.line_inputs(200, seed=1)
y_train = cu.line_targets(x_train, seed=2)
plt.figure(figsize=(5, 3.5))
plt.scatter(x_train, y_train, s=10)
plt.xlabel("x")
plt.ylabel("y")
plt.title("Data space: each point is one example")
plt.show()

# %% [markdown]
# ### Exercise 1: the loss and its gradient
#
# Implement `mse_loss_and_grad`. Use NumPy operations on whole arrays (no Python loop
# over the examples), and remember both the factor 2 and the average over $n$.

# %% solution="mse_loss_and_grad"
def mse_loss_and_grad(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error of the line y ≈ theta[0]·x + theta[1], and its gradient.

    theta: (2,), x: (n,), y: (n,). Returns (loss, dtheta) with loss a float and dtheta (2,).
    """
    ### BEGIN SOLUTION
    residual = theta[0] * x + theta[1] - y  # (n,)
    loss = np.mean(residual**2)
    dtheta = np.array([2 * np.mean(residual * x), 2 * np.mean(residual)])
    return float(loss), dtheta
    ### END SOLUTION


# %% tests="test_mse_loss_and_grad" points=2
# Visible tests. By hand: with theta = (1, 0) the residuals on these three points are
# (1-1, 2-3, 3-2) = (0, -1, 1), so L = (0 + 1 + 1) / 3 and the gradient follows.
x_hand, y_hand = np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])
loss, dtheta = mse_loss_and_grad(np.array([1.0, 0.0]), x_hand, y_hand)
cu.check_close(loss, 2 / 3, "loss", hint="average the squared residuals over the n examples")
cu.check_shape(dtheta, (2,), "dtheta")
cu.check_close(dtheta, [2 * (0 - 2 + 3) / 3, 2 * (0 - 1 + 1) / 3], "dtheta",
               hint="dL/dθ1 = (2/n) Σ r_i x_i and dL/dθ2 = (2/n) Σ r_i, with r_i = θ1 x_i + θ2 − y_i")
# A numerical gradient (centred differences) must agree with yours everywhere.
theta0 = np.array([0.3, -0.7])
cu.check_gradient(lambda t: mse_loss_and_grad(t, x_train, y_train)[0], theta0,
                  mse_loss_and_grad(theta0, x_train, y_train)[1], name="dtheta")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(11)
_x, _y, _t = _rng.normal(size=37), _rng.normal(size=37) * 3, _rng.normal(size=2)
report("loss on unseen data", lambda: mse_loss_and_grad(_t, _x, _y)[0], rtol=1e-9)
report("gradient on unseen data", lambda: mse_loss_and_grad(_t, _x, _y)[1], rtol=1e-9)
report_call("loss and gradient; arguments left unchanged", mse_loss_and_grad, _t.copy(), _x.copy(), _y.copy(),
            rtol=1e-9)
report("a minibatch of one example", lambda: mse_loss_and_grad(_t, _x[:1], _y[:1]), rtol=1e-9)
report("far from the optimum (large residuals)", lambda: mse_loss_and_grad(_t * 1e3, _x, _y), rtol=1e-9)
report_gradient("gradient agrees with the numerical gradient",
                lambda t: mse_loss_and_grad(t, _x, _y)[0], lambda t: mse_loss_and_grad(t, _x, _y)[1],
                _t, h=1e-6, rtol=1e-9, numeric_tol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: minibatch gradient descent
#
# Gradient descent repeats one step: $\theta \leftarrow \theta - \eta \, \nabla_\theta L$,
# with a **learning rate** $\eta$. Computing $L$ on all the data for every step is wasteful;
# instead each step uses a **minibatch** of 64–128 examples. One pass through all
# minibatches is an **epoch**. Shuffle the examples at the start of every epoch (with
# `rng.permutation`), so each epoch sees them in a new order.
#
# Implement `fit_line`: start from $\theta = (0, 0)$, run `epochs` epochs of minibatch
# steps (the last minibatch of an epoch may be smaller), and record the loss of every
# minibatch. Precisely, so that your run can be compared step by step with the reference:
#
# * at the start of each epoch draw `order = rng.permutation(len(x))` from the `rng` given
#   (once per epoch, and draw nothing else from it);
# * the minibatches of that epoch are `order[0:batch_size]`, `order[batch_size:2 * batch_size]`, ...;
# * for each, `mse_loss_and_grad` at the current $\theta$ gives the loss and the gradient:
#   record that loss (the loss *before* the step), then step $\theta \leftarrow \theta - \eta \nabla L$.
#
# Leave `x` and `y` unchanged (shuffle an index array, not the data).

# %% solution="fit_line"
def fit_line(x: np.ndarray, y: np.ndarray, lr: float = 0.05, epochs: int = 10,
             batch_size: int = 64, seed: int = 0) -> tuple[np.ndarray, list[float]]:
    """Fit y ≈ theta[0]·x + theta[1] by minibatch gradient descent on the MSE.

    x: (n,), y: (n,). Returns (theta (2,), losses) where losses holds the loss of each minibatch,
    measured before that minibatch's step. One rng.permutation(n) per epoch orders the minibatches.
    """
    rng = np.random.default_rng(seed)
    ### BEGIN SOLUTION
    theta = np.zeros(2)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss, dtheta = mse_loss_and_grad(theta, x[batch], y[batch])
            theta = theta - lr * dtheta
            losses.append(loss)
    return theta, losses
    ### END SOLUTION


# %% tests="test_fit_line" points=2
# Visible tests: the data above came from the line y = 2x − 1 plus noise.
theta_fit, losses = fit_line(x_train, y_train, lr=0.05, epochs=20)
cu.check_shape(theta_fit, (2,), "theta")
cu.check_close(theta_fit, [2.0, -1.0], "fitted theta", atol=0.25,
               hint="check the sign of the update (θ ← θ − η ∇L) and that both parameters are updated")
cu.check_equal(len(losses), 20 * int(np.ceil(len(x_train) / 64)), "number of recorded losses",
               hint="record one loss per minibatch, and don't skip the last, smaller minibatch")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report, report_call

# The procedure, step by step: 50 unseen points in minibatches of 16 (the fourth has 2),
# 3 epochs. The losses (one per minibatch, before its step) and the final theta must match
# the reference's: this catches a missing reshuffle, a loss recorded after the step, a
# parameter that is never updated, a skipped last minibatch.
_rng = hidden_rng(21)
_x_small = _rng.uniform(-2, 2, size=50)
_y_small = 1.5 * _x_small + 0.5 + _rng.normal(size=50)


def _fit_small(*args):
    theta, losses = fit_line(*args, lr=0.1, epochs=3, batch_size=16, seed=hidden_seed(22))
    return np.asarray(theta, dtype=np.float64), np.asarray(losses, dtype=np.float64)


report_call("minibatch losses and theta, step by step; x and y left unchanged", _fit_small,
            _x_small.copy(), _y_small.copy(), rtol=1e-8, atol=1e-12)
report("one minibatch per epoch (batch_size >= n)",
       lambda: _fit_small(_x_small[:12], _y_small[:12]), rtol=1e-8, atol=1e-12)

# Trained on unseen data; judged by the grader's mean squared error on a held-out set
# whose targets never enter this kernel (see autograde/judge/labels.py: "line_eval").
_x_fit = cu.line_inputs(1000, seed=hidden_seed(23))
_y_fit = cu.line_targets(_x_fit, seed=hidden_seed(24))
_x_eval = cu.line_inputs(500, seed=7001)


def _eval_predictions():
    theta, _ = fit_line(_x_fit, _y_fit, lr=0.05, epochs=5, batch_size=64, seed=hidden_seed(25))
    return np.asarray(theta)[0] * _x_eval + np.asarray(theta)[1]


report("held-out error after training", _eval_predictions, metric="mse", labels="line_eval",
       max={"cpu": 0.3, "gpu": 0.3})
### END HIDDEN TESTS

# %% [markdown]
# ### Two spaces
#
# The same fit lives in two spaces. In the **data space** $(x, y)$ the model is a line
# through the points. In the **parameter space** $(\theta_1, \theta_2)$ the model is a
# single point and the loss is a surface over that plane; gradient descent walks
# downhill on it. Noise in the minibatches makes the walk wobble.

# %%
theta_fit, losses = fit_line(x_train, y_train, lr=0.05, epochs=20)
path = [np.zeros(2)]
for epochs in range(1, 21):
    path.append(fit_line(x_train, y_train, lr=0.05, epochs=epochs)[0])
path = np.array(path)

t1, t2 = np.meshgrid(np.linspace(-1, 4, 120), np.linspace(-3, 2, 120))
surface = np.array([[mse_loss_and_grad(np.array([a, b]), x_train, y_train)[0] for a, b in zip(r1, r2)]
                    for r1, r2 in zip(t1, t2)])
fig, axes = plt.subplots(1, 3, figsize=(15, 4))
cu.plot_line_fit(x_train, y_train, theta_fit, ax=axes[0])
axes[0].set_title("data space")
axes[1].contour(t1, t2, np.log(surface), levels=25)
axes[1].plot(path[:, 0], path[:, 1], "o-", color="C3", ms=3)
axes[1].set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", title="parameter space: log loss, path per epoch")
cu.plot_loss_curve(losses, ax=axes[2])
axes[2].set_title("minibatch loss")
plt.show()

# %% [markdown]
# ## 3. Images are arrays of numbers
#
# To a computer a grey image is an $H \times W$ grid of brightness values in $[0, 255]$;
# a colour image is $H \times W \times 3$ (red, green, blue). **CIFAR-10** has 50,000
# training and 10,000 test colour images of $32 \times 32 \times 3 = 3072$ numbers, in 10
# classes (airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck).
# **Fashion-MNIST**, which we use because it is small and fast, has 60,000 training and
# 10,000 test grey images of $28 \times 28 = 784$ numbers, also in 10 classes.

# %%
X_img, y_img = cu.load_fashion_mnist("train")
print("one image:", X_img[0].shape, X_img.dtype, "values from", X_img.min(), "to", X_img.max())
print(X_img[0, 10:16, 10:16])  # a 6 × 6 patch of raw pixel values
cu.show_images(X_img[:10], y_img[:10], class_names=cu.FASHION_MNIST_CLASSES, ncols=10)
plt.show()

# %% [markdown]
# ## 4. The linear score function
#
# Flatten each image into a vector $x \in \mathbb{R}^D$. A linear classifier with $C$
# classes computes one **score** per class,
#
# $$ f(x; W, b) = W x + b, \qquad W \in \mathbb{R}^{C \times D},\ b \in \mathbb{R}^C , $$
#
# and predicts the class with the highest score. For CIFAR-10, $W$ is $10 \times 3072$.
# With a batch of $N$ examples stacked as the rows of $X \in \mathbb{R}^{N \times D}$, all
# scores come from one matrix product: $S = X W^\top + b$, of shape $(N, C)$.
#
# **A worked example.** A $2 \times 2$ image with pixels $x = (56, 231, 24, 2)$ and three
# classes, with
#
# $$ W = \begin{pmatrix} 0.2 & -0.5 & 0.1 & 2.0 \\ 1.5 & 1.3 & 2.1 & 0.0 \\ 0 & 0.25 & 0.2 & -0.3 \end{pmatrix},
#    \qquad b = (1.1,\ 3.2,\ -1.2), $$
#
# gives the scores $(-96.8,\ 437.9,\ 60.75)$. Check the first by hand:
# $0.2 \cdot 56 - 0.5 \cdot 231 + 0.1 \cdot 24 + 2.0 \cdot 2 + 1.1 = -96.8$. (A much-copied
# lecture slide prints 61.95 for the third score: that is the value *before* adding
# $b_3 = -1.2$.)
#
# ### Exercise 3: scores for a batch

# %% solution="linear_scores"
def linear_scores(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Class scores S = X Wᵀ + b for a batch.

    X: (N, D), W: (C, D), b: (C,). Returns S: (N, C), where S[i, c] is the score of class c for example i.
    Any float precision is fine (float32 arithmetic too): scores are compared to about 1e-5.
    """
    ### BEGIN SOLUTION
    return X @ W.T + b
    ### END SOLUTION


# %% tests="test_linear_scores" points=2
W_ex = np.array([[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]])
b_ex = np.array([1.1, 3.2, -1.2])
x_ex = np.array([[56.0, 231.0, 24.0, 2.0]])
S = linear_scores(x_ex, W_ex, b_ex)
cu.check_shape(S, (1, 3), "linear_scores(x, W, b)", hint="one row per example, one column per class: X @ W.T")
cu.check_close(S, [[-96.8, 437.9, 60.75]], "scores of the worked example",
               hint="did you add the bias b? (61.95 instead of 60.75 means b was forgotten)")
# Linearity: scaling the input scales the scores (when b = 0).
S2 = linear_scores(3 * x_ex, W_ex, np.zeros(3))
cu.check_close(S2, 3 * linear_scores(x_ex, W_ex, np.zeros(3)), "f(3x) with b = 0")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

# float32 arithmetic is allowed here (the docstring says so): relative 1e-5, plus an
# absolute 1e-5 times the size of the terms summed.
_rng = hidden_rng(31)
_X, _W, _b = _rng.normal(size=(7, 5)), _rng.normal(size=(3, 5)), _rng.normal(size=3)
report("worked example", lambda: linear_scores(x_ex.copy(), W_ex.copy(), b_ex.copy()), rtol=1e-5, atol=1e-2)
report_call("a batch of unseen inputs; arguments left unchanged", linear_scores, _X.copy(), _W.copy(), _b.copy(),
            rtol=1e-5, atol=1e-5)
report("more classes than features", lambda: linear_scores(_X[:, :2], _rng.normal(size=(6, 2)), np.arange(6.0)),
       rtol=1e-5, atol=1e-5)
report("one example, one class", lambda: linear_scores(_X[:1], _W[:1], _b[:1]), rtol=1e-5, atol=1e-5)
report("pixel-sized inputs", lambda: linear_scores(_rng.uniform(0, 255, size=(4, 9)), _rng.normal(size=(3, 9)) * 0.01,
                                                   _rng.normal(size=3)), rtol=1e-5, atol=1e-3)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. The bias trick
#
# Carrying $W$ and $b$ separately is a nuisance. Append a constant 1 to every input,
# $\tilde x = (x_1, \dots, x_D, 1)$, and append $b$ as an extra last column of $W$,
# $\tilde W = [\,W \mid b\,]$. Then $\tilde W \tilde x = W x + b$: one matrix does both.
#
# ### Exercise 4: append the ones, fold in the bias

# %% solution="bias_trick"
def append_ones(X: np.ndarray) -> np.ndarray:
    """X: (N, D) -> (N, D + 1), with a column of ones appended as the last column."""
    ### BEGIN SOLUTION
    return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])
    ### END SOLUTION


def fold_bias(W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """W: (C, D), b: (C,) -> (C, D + 1), with b appended as the last column."""
    ### BEGIN SOLUTION
    return np.hstack([W, b[:, None]])
    ### END SOLUTION


# %% tests="test_bias_trick" points=2
X1 = append_ones(x_ex)
cu.check_shape(X1, (1, 5), "append_ones(x)")
cu.check_close(X1, [[56.0, 231.0, 24.0, 2.0, 1.0]], "append_ones(x)", hint="the ones go in the LAST column")
W1 = fold_bias(W_ex, b_ex)
cu.check_shape(W1, (3, 5), "fold_bias(W, b)")
cu.check_close(X1 @ W1.T, linear_scores(x_ex, W_ex, b_ex), "append_ones(x) @ fold_bias(W, b).T",
               hint="the bias must sit in the column that meets the appended 1")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(41)
_X, _W, _b = _rng.normal(size=(6, 4)), _rng.normal(size=(5, 4)), _rng.normal(size=5)
report_call("append_ones on unseen inputs; X left unchanged", append_ones, _X.copy(), rtol=1e-12)
report_call("fold_bias on unseen weights; W and b left unchanged", fold_bias, _W.copy(), _b.copy(), rtol=1e-12)
report("fold_bias with one class", lambda: fold_bias(_W[:1].copy(), _b[:1].copy()), rtol=1e-12)
report("the trick reproduces the scores",
       lambda: append_ones(_X.copy()) @ fold_bias(_W.copy(), _b.copy()).T, rtol=1e-9)
report("append_ones on a single column", lambda: append_ones(np.arange(3.0)[:, None]), rtol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Predictions
#
# The predicted class is the index of the largest score in each row.
#
# ### Exercise 5

# %% solution="predict"
def predict(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Predicted class of each example. X: (N, D), W: (C, D), b: (C,). Returns (N,) integer labels."""
    ### BEGIN SOLUTION
    return np.argmax(linear_scores(X, W, b), axis=1)
    ### END SOLUTION


# %% tests="test_predict" points=1
labels = predict(np.vstack([x_ex, [[0.0, 0.0, 0.0, 100.0]]]), W_ex, b_ex)
cu.check_shape(labels, (2,), "predict(X, W, b)", hint="one label per example: take the argmax along axis=1")
cu.check_equal(labels, [1, 0], "predicted labels",
               hint="the label is the INDEX of the largest score (np.argmax), not the score itself")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(51)
_X, _W, _b = _rng.normal(size=(50, 6)), _rng.normal(size=(4, 6)), _rng.normal(size=4)
report_call("labels for unseen inputs; arguments left unchanged", predict, _X.copy(), _W.copy(), _b.copy(),
            kind="equal")
report("the bias decides (zero weights)", lambda: predict(_X[:3], np.zeros((4, 6)), np.array([0.0, 2.0, 1.0, -1.0])),
       kind="equal")
report("labels when examples outnumber classes by one", lambda: predict(_X[:5], _W, _b), kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# ## 7. Three ways to see a linear classifier
#
# **Algebraic.** $S = XW^\top + b$: a matrix product, nothing more.
#
# **Visual: templates.** Row $c$ of $W$ has one weight per pixel, so it can be shown as
# an image. The score of class $c$ is the dot product of that image with the input:
# high when the input looks like the **template**. Below we learn $W$ for Fashion-MNIST
# in one shot, by least squares: the weights that minimise the squared error between the
# scores and one-hot targets (the MSE from section 2, with many outputs). With the bias
# trick this is the linear system $(\tilde X^\top \tilde X + \lambda I)\,\tilde W^\top = \tilde X^\top Y$.

# %%
X_tr, y_tr = cu.load_fashion_mnist("train", flatten=True)
X_va, y_va = cu.load_fashion_mnist("val", flatten=True)
Xt = append_ones(X_tr / 255.0)  # (N, 785)
Y = np.eye(10)[y_tr]  # one-hot targets, (N, 10)
W_tilde = np.linalg.solve(Xt.T @ Xt + 1.0 * np.eye(Xt.shape[1]), Xt.T @ Y).T  # (10, 785)
W_ls, b_ls = W_tilde[:, :-1], W_tilde[:, -1]
accuracy = np.mean(predict(X_va / 255.0, W_ls, b_ls) == y_va)
print(f"validation accuracy of the least-squares linear classifier: {accuracy:.3f}")
cu.show_templates(W_ls, (28, 28), class_names=cu.FASHION_MNIST_CLASSES)
plt.show()

# %% [markdown]
# Some templates are recognisable (trousers, bags, the outline of a shoe). Each class gets
# *one* template, though: a class that comes in several looks (a sneaker seen from the left
# or the right, a horse facing either way in CIFAR-10) gets a blurred average of them all,
# like a two-headed horse. That is the first limit of a linear model.
#
# **Geometric.** Each score $w_c^\top x + b_c$ is a linear function of $x$; the boundary
# between two classes, where their scores are equal, is a **hyperplane**. In 2-D it is a
# line. Drag the sliders: the weights turn the line, the bias shifts it. Try to separate
# the two iris species (petal length and width, standardised) perfectly.

# %%
X_iris, y_iris = cu.load_iris("train")
two = y_iris < 2
X2 = X_iris[two][:, 2:4]
X2 = (X2 - X2.mean(axis=0)) / X2.std(axis=0)
cu.linear_boundary_widget(X2, y_iris[two])

# %% [markdown]
# ## 8. What a line cannot do
#
# Three classic cases defeat every linear classifier:
#
# 1. **XOR**: the first and third quadrants against the second and fourth;
# 2. **a ring**: points with $1 \le \lVert x \rVert_2 \le 2$ against everything else;
# 3. **several modes**: one class made of three separate blobs.
#
# Below, a least-squares linear classifier (as in section 7) tries each one.

# %%
def least_squares_classifier(X, y):
    Xt = append_ones(X)
    Y = np.eye(int(y.max()) + 1)[y]
    Wt = np.linalg.lstsq(Xt, Y, rcond=None)[0].T
    return Wt[:, :-1], Wt[:, -1]


fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
for ax, (title, make) in zip(axes, [("XOR", cu.make_xor), ("ring", cu.make_ring), ("three modes", cu.make_three_modes)]):
    X_hard, y_hard = make(n=400, seed=0)
    W_h, b_h = least_squares_classifier(X_hard, y_hard)
    cu.plot_decision_regions(lambda P: predict(P, W_h, b_h), X_hard, y_hard, ax=ax)
    ax.set_title(f"{title}: accuracy {np.mean(predict(X_hard, W_h, b_h) == y_hard):.2f}")
plt.show()

# %% [markdown]
# ### Feature transforms
#
# We can't change what a linear classifier is, but we can change what it sees. For the
# ring the natural description is **polar coordinates**,
#
# $$ r = \sqrt{x^2 + y^2}, \qquad \theta = \operatorname{atan2}(y, x) \in (-\pi, \pi] . $$
#
# In $(r, \theta)$ the class depends on $r$ alone: the ring becomes a vertical band,
# and measuring the distance from the middle of the band, $|r - 1.5|$, a single threshold
# (a line) separates the classes.
#
# ### Exercise 6: polar features
#
# Use `np.arctan2`, which knows the quadrant; `np.arctan(y / x)` does not (and fails at
# $x = 0$).

# %% solution="polar_features"
def polar_features(P: np.ndarray) -> np.ndarray:
    """Polar coordinates of 2-D points. P: (N, 2) with columns (x, y). Returns (N, 2) with columns (r, θ)."""
    ### BEGIN SOLUTION
    r = np.sqrt(P[:, 0] ** 2 + P[:, 1] ** 2)
    theta = np.arctan2(P[:, 1], P[:, 0])
    return np.stack([r, theta], axis=1)
    ### END SOLUTION


# %% tests="test_polar_features" points=1
F = polar_features(np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, -1.0]]))
cu.check_shape(F, (4, 2), "polar_features(P)", hint="stack r and θ as two COLUMNS: np.stack([r, theta], axis=1)")
cu.check_close(F[:, 0], [1.0, 2.0, 3.0, 1.0], "the radius column", hint="r is the square root of x² + y²")
cu.check_close(F[:, 1], [0.0, np.pi / 2, np.pi, -np.pi / 2], "the angle column",
               hint="use np.arctan2(y, x): y first, and it handles every quadrant")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(61)
report_call("points in all four quadrants; P left unchanged", polar_features, _rng.normal(size=(40, 2)) * 3, rtol=1e-9)
report("points on the axes", lambda: polar_features(np.array([[0.0, 2.5], [0.0, -0.5], [-4.0, 0.0], [3.0, 0.0]])),
       rtol=1e-9, atol=1e-12)
report("points near the origin", lambda: polar_features(_rng.normal(size=(5, 2)) * 1e-3), rtol=1e-9)
### END HIDDEN TESTS

# %%
X_ring, y_ring = cu.make_ring(n=400, seed=0)
F_ring = polar_features(X_ring)
F_band = np.stack([np.abs(F_ring[:, 0] - 1.5), F_ring[:, 1]], axis=1)
W_r, b_r = least_squares_classifier(F_band, y_ring)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
axes[0].scatter(F_ring[:, 0], F_ring[:, 1], c=y_ring, cmap="coolwarm", s=10)
axes[0].set(xlabel="r", ylabel="θ", title="the ring in polar coordinates: a band")
cu.plot_decision_regions(lambda P: predict(P, W_r, b_r), F_band, y_ring, ax=axes[1])
axes[1].set(xlabel="|r − 1.5|", ylabel="θ",
            title=f"linear in (|r − 1.5|, θ): accuracy {np.mean(predict(F_band, W_r, b_r) == y_ring):.2f}")
plt.show()

# %% [markdown]
# ## Summary
#
# * Learning = choosing parameters that minimise a loss; gradient descent on minibatches
#   does it one small step at a time.
# * A linear classifier scores classes with $S = XW^\top + b$ (or $\tilde X \tilde W^\top$
#   with the bias trick) and predicts the argmax.
# * It is a set of templates, and a set of hyperplanes; it fails on XOR, rings and
#   multi-modal classes unless a feature transform straightens the problem first.
#
# Next, `02_losses`: better losses than squared error for classification, and how to
# train $W$ on real images with them.
