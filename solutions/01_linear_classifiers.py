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
# (1-1, 2-3, 3-2) = (0, -1, 1), so L = (0 + 1 + 1) / 3 and dL/dθ1 = (2/3)(0·1 − 1·2 + 1·3) = 2/3.
x_hand, y_hand = np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])
loss, dtheta = mse_loss_and_grad(np.array([1.0, 0.0]), x_hand, y_hand)
cu.check_close(y_hand, [1.0, 3.0, 2.0], "y after the call",
               hint="your function wrote into y: compute the residual as a new array, never y -= ...")
cu.check_close(loss, 2 / 3, "loss", hint="average the squared residuals over the n examples (np.mean)")
cu.check_shape(dtheta, (2,), "dtheta")
# What the usual slips give for dL/dθ1 here, so that the hint names yours.
slips = {2.0: "you SUMMED over the 3 examples: average them (the 1/n in (2/n) Σ r_i x_i)",
         -2 / 3: "the sign is flipped: the residual is prediction minus target, r_i = θ1 x_i + θ2 − y_i",
         1 / 3: "the derivative of the square brings a factor 2: (2/n) Σ r_i x_i"}
cu.check_close(dtheta[0], 2 / 3, "dL/dθ1",
               hint=next((h for v, h in slips.items() if np.isclose(dtheta[0], v)),
                         "dL/dθ1 = (2/n) Σ r_i x_i, with r_i = θ1 x_i + θ2 − y_i"))
# dL/dθ2 = (2/n) Σ r_i is 0 above; at theta = (0, 0) every residual is −y_i, so it is −2 · mean(y) = −4.
_, dtheta0 = mse_loss_and_grad(np.zeros(2), x_hand, y_hand)
cu.check_close(dtheta0[1], -4.0, "dL/dθ2 at theta = (0, 0)",
               hint="the second entry is the gradient for the bias θ2: (2/n) Σ r_i (every residual counts once)")
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
n_batches = int(np.ceil(len(x_train) / 64))  # 4 minibatches per epoch: 64, 64, 64 and 8
cu.check_equal(len(losses), 20 * n_batches, "number of recorded losses (20 epochs)",
               hint="one loss per minibatch: loop over ALL the minibatches of each epoch"
               if len(losses) <= 20 else "don't skip the last, smaller minibatch: range(0, len(x), batch_size)")
cu.check_equal(bool(losses[-1] < losses[0]), True, "the last minibatch loss is below the first",
               hint="step AGAINST the gradient: θ ← θ − η ∇L (a + climbs the loss)")
cu.check_equal(bool(theta_fit[1] != 0.0), True, "theta[1] (the bias) moved from 0",
               hint="update both parameters: theta = theta - lr * dtheta, the bias θ2 included")
cu.check_close(theta_fit, [2.0, -1.0], "fitted theta", atol=0.25,
               hint="the fit should land near the true line y = 2x − 1: check the learning-rate step")
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
with cu.needs_your_code():
    theta_fit, losses = fit_line(x_train, y_train, lr=0.05, epochs=20)
    path = [np.zeros(2)]
    for epochs in range(1, 21):
        path.append(fit_line(x_train, y_train, lr=0.05, epochs=epochs)[0])
    path = np.array(path)

    t1, t2 = np.meshgrid(np.linspace(-1, 4, 120), np.linspace(-3, 2, 120))
    surface = np.array([[mse_loss_and_grad(np.array([a, b]), x_train, y_train)[0] for a, b in zip(r1, r2)]
                        for r1, r2 in zip(t1, t2)])
    path_loss = [mse_loss_and_grad(theta, x_train, y_train)[0] for theta in path]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    cu.plot_line_fit(x_train, y_train, theta_fit, ax=axes[0])
    axes[0].set_title("data space")
    axes[1].contour(t1, t2, np.log(surface), levels=25)
    axes[1].plot(path[:, 0], path[:, 1], "o-", color="C3", ms=3)
    axes[1].set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", title="parameter space: log loss, path per epoch")
    cu.plot_loss_curve(losses, ax=axes[2])
    axes[2].set_title("minibatch loss")
    plt.show()
    # The text's claims: the walk goes downhill, to the bottom of the bowl.
    print(f"loss at θ = (0, 0): {path_loss[0]:.2f}; after 1 epoch: {path_loss[1]:.2f}; "
          f"after 20: {path_loss[-1]:.3f} (lowest on the grid: {surface.min():.3f})")
    assert path_loss[-1] < 0.1 * path_loss[0], "the walk should end far below where it starts"
    assert path_loss[-1] < surface.min() + 0.05, "the walk should end near the bottom of the bowl"

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
# What the usual slips give here, so that the hint names yours.
slips = {"the bias b is missing: S = X @ W.T + b (61.95 for the third score is the score before b_3)":
         [[-97.9, 434.7, 61.95]],
         "the bias is subtracted: S = X @ W.T + b, with a plus": [[-99.0, 431.5, 63.15]],
         "every score got the SUM of the biases: add each class's own b[c] (X @ W.T + b broadcasts it)":
         [[-94.8, 437.8, 65.05]]}
cu.check_close(S, [[-96.8, 437.9, 60.75]], "scores of the worked example",
               hint=next((h for h, v in slips.items() if np.allclose(S, v)),
                         "S[i, c] = Σ_d X[i, d] W[c, d] + b[c]: check the product X @ W.T and the bias"))
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
cu.check_close(X1[:, :4], x_ex, "the first four columns of append_ones(x)",
               hint="keep x as it is and put the ones AFTER it, in the last column")
cu.check_close(X1[:, 4], [1.0], "the last column of append_ones(x)", hint="append ONES (np.ones), not zeros")
# Inputs with fractions (pixels scaled to [0, 1]) must keep them.
cu.check_close(append_ones(np.array([[0.25, 0.5]])), [[0.25, 0.5, 1.0]], "append_ones([[0.25, 0.5]])",
               hint="keep the input's dtype (dtype=X.dtype for the ones): converting to int drops the fractions")
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
# **Question.** For CIFAR-10 ($D = 3072$ pixel values, $C = 10$ classes), what is the shape of
# the folded weight matrix $\tilde W = [\,W \mid b\,]$, and how many numbers does the
# classifier learn?
# (a) $10 \times 3072$: 30,720 numbers, the bias is free;
# (b) $10 \times 3073$: 30,730 numbers, one bias per class;
# (c) $11 \times 3072$: 33,792 numbers, the bias is an extra class.
# Set `bias_trick_answer` to "a", "b" or "c".

# %% solution="choice_bias_trick_shape"
### BEGIN SOLUTION
bias_trick_answer = "b"
### END SOLUTION

# %% tests="test_choice_bias_trick_shape" points=1
cu.check_choice(bias_trick_answer, "abc", "bias_trick_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", bias_trick_answer)
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
cu.check_dtype_kind(labels, "i", "predict(X, W, b)")
cu.check_equal(labels, [1, 0], "predicted labels",
               hint="the label is the index of the LARGEST score: np.argmax, not np.argmin")
# A blank image: every score is its bias, so the class with the largest b wins (b_2 = 3.2).
cu.check_equal(predict(np.zeros((1, 4)), W_ex, b_ex), [1], "predicted label of a blank image",
               hint="the bias is part of the score: predict from linear_scores(X, W, b)")
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
# **Question.** Your classifier has $b = 0$, and you double the brightness of an image,
# $x \to 2x$. What happens to its predicted class?
# (a) it stays the same: every score doubles, so the largest stays the largest;
# (b) it may change: the scores change by different amounts;
# (c) it becomes the class that had the lowest score.
# Set `scaled_image_answer` to "a", "b" or "c".

# %% solution="choice_scaled_image"
### BEGIN SOLUTION
scaled_image_answer = "a"
### END SOLUTION

# %% tests="test_choice_scaled_image" points=1
cu.check_choice(scaled_image_answer, "abc", "scaled_image_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", scaled_image_answer)
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
with cu.needs_your_code():
    Xt = append_ones(X_tr / 255.0)  # (N, 785)
    Y = np.eye(10)[y_tr]  # one-hot targets, (N, 10)
    W_tilde = np.linalg.solve(Xt.T @ Xt + 1.0 * np.eye(Xt.shape[1]), Xt.T @ Y).T  # (10, 785)
    W_ls, b_ls = W_tilde[:, :-1], W_tilde[:, -1]
    pred_va = predict(X_va / 255.0, W_ls, b_ls)
    accuracy = np.mean(pred_va == y_va)
    print(f"validation accuracy of the least-squares linear classifier: {accuracy:.3f}")
    cu.show_templates(W_ls, (28, 28), class_names=cu.FASHION_MNIST_CLASSES)
    plt.show()

# %% [markdown]
# Some templates are recognisable (trousers, bags, the outline of a shoe). Each class gets
# *one* template, though: a class that comes in several looks (a sneaker seen from the left
# or the right, a horse facing either way in CIFAR-10) gets a blurred average of them all,
# like a two-headed horse. That is the first limit of a linear model.
#
# Which images does it get wrong? Below are the first misclassified validation images,
# each with the classifier's guess and the true class. About half of all its mistakes
# are confusions among the four garments worn on the upper body (T-shirt/top, pullover,
# coat, shirt): one template each cannot tell apart shapes this similar.

# %%
with cu.needs_your_code():
    wrong = np.flatnonzero(pred_va != y_va)
    upper_body = [0, 2, 4, 6]  # T-shirt/top, pullover, coat, shirt
    among_upper = np.mean(np.isin(y_va[wrong], upper_body) & np.isin(pred_va[wrong], upper_body))
    print(f"{len(wrong)} of {len(y_va)} validation images are misclassified; "
          f"{among_upper:.0%} of those mistakes confuse two upper-body garments")
    assert 0.4 <= among_upper <= 0.6, f"the text says about half; it is {among_upper:.0%}"
    cu.show_images(X_va[wrong[:16]].reshape(-1, 28, 28), pred_va[wrong[:16]], cu.FASHION_MNIST_CLASSES,
                   true_labels=y_va[wrong[:16]], title="misclassified: the guess, then the true class")
    plt.show()

# %% [markdown]
# **Geometric.** Each score $w_c^\top x + b_c$ is a linear function of $x$; the boundary
# between two classes, where their scores are equal, is a **hyperplane**. In 2-D it is a
# line. Drag the sliders: the weights turn the line, the bias shifts it. The widget starts
# with a line that splits the two iris species (petal length and width, standardised) no
# better than a coin: move it until it separates them perfectly.

# %%
X_iris, y_iris = cu.load_iris("train")
two = y_iris < 2
X2, y2 = X_iris[two][:, 2:4], y_iris[two]
X2 = (X2 - X2.mean(axis=0)) / X2.std(axis=0)
start = dict(w1=1.0, w2=-1.0, b=0.0)
# The text's claims: the start does not separate the species, and some line does (this one).
assert cu.linear_accuracy(X2, y2, **start) < 0.6, "the widget should start far from a separating line"
assert cu.linear_accuracy(X2, y2, 1.0, 1.0, 0.0) == 1.0, "a line should separate the two species"
cu.linear_boundary_widget(X2, y2, **start)

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


with cu.needs_your_code():
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, (title, make) in zip(axes, [("XOR", cu.make_xor), ("ring", cu.make_ring),
                                        ("three modes", cu.make_three_modes)]):
        X_hard, y_hard = make(n=400, seed=0)
        W_h, b_h = least_squares_classifier(X_hard, y_hard)
        cu.plot_decision_regions(lambda P: predict(P, W_h, b_h), X_hard, y_hard, ax=ax)
        hard_accuracy = np.mean(predict(X_hard, W_h, b_h) == y_hard)
        ax.set_title(f"{title}: accuracy {hard_accuracy:.2f}")
        # Two balanced classes: 0.5 is a coin toss. The text says the line fails on each.
        assert hard_accuracy < 0.7, f"{title}: a line should do little better than chance, not {hard_accuracy:.2f}"
    plt.show()

# %% [markdown]
# **Question.** No line separates XOR in the plane $(x_1, x_2)$. Which *one* new feature,
# computed from $x_1$ and $x_2$, makes it separable by a threshold, and why? (Two or three
# sentences.)

# %% [markdown] answer="explain_xor_feature" points=1
# *Model answer.* The product $x_1 x_2$. It is positive exactly in the first and third
# quadrants (both coordinates of the same sign) and negative in the second and fourth, so
# the threshold $x_1 x_2 = 0$ separates the two classes: a linear classifier on the feature
# $x_1 x_2$ (or on $(x_1, x_2, x_1 x_2)$) gets XOR right. (Accept any feature whose sign
# gives the quadrant pair, e.g. $\operatorname{sign}(x_1)\operatorname{sign}(x_2)$, with
# that reason; a feature without the reason earns half.)

# %% [markdown]
# ### Feature transforms
#
# We can't change what a linear classifier is, but we can change what it sees. For the
# ring the natural description is **polar coordinates**,
#
# $$ r = \sqrt{x^2 + y^2}, \qquad \theta = \operatorname{atan2}(y, x) \in (-\pi, \pi] . $$
#
# In $(r, \theta)$ the class depends on $r$ alone: the ring becomes a vertical band. One
# more step, measuring the distance from the middle of the band, $d = |r - 1.5|$, and the
# ring is exactly the points with $d \le 0.5$: a single threshold, that is a straight line
# in the plane $(d, \theta)$, separates the classes perfectly.
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
P_hand = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, -1.0]])
F = polar_features(P_hand)
cu.check_shape(F, (4, 2), "polar_features(P)", hint="stack r and θ as two COLUMNS: np.stack([r, theta], axis=1)")
cu.check_close(P_hand, [[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, -1.0]], "P after the call",
               hint="your function wrote into P: return a new array (np.stack) instead of filling P's columns")
cu.check_close(F[:, 0], [1.0, 2.0, 3.0, 1.0], "the radius column", hint="r is the square root of x² + y²")
cu.check_close(F[:, 1][0], 0.0, "the angle of (1, 0)", atol=1e-12,
               hint="np.arctan2 takes y FIRST: np.arctan2(P[:, 1], P[:, 0])")
cu.check_close(F[:, 1][2], np.pi, "the angle of (−3, 0)",
               hint="np.arctan(y / x) loses the quadrant (it gives 0 here): use np.arctan2(y, x)")
cu.check_close(F[:, 1], [0.0, np.pi / 2, np.pi, -np.pi / 2], "the angle column",
               hint="points below the origin have negative angles: θ(0, −1) = −π/2, as np.arctan2 gives")
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
with cu.needs_your_code():
    X_ring, y_ring = cu.make_ring(n=400, seed=0)
    F_ring = polar_features(X_ring)
    F_band = np.stack([np.abs(F_ring[:, 0] - 1.5), F_ring[:, 1]], axis=1)  # (d, θ)
    # The threshold as a linear classifier on (d, θ): score_ring = 0.5 − d against score_other = 0.
    W_t, b_t = np.array([[0.0, 0.0], [-1.0, 0.0]]), np.array([0.0, 0.5])
    threshold_accuracy = np.mean(predict(F_band, W_t, b_t) == y_ring)
    W_r, b_r = least_squares_classifier(F_band, y_ring)
    ls_accuracy = np.mean(predict(F_band, W_r, b_r) == y_ring)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    axes[0].scatter(F_ring[:, 0], F_ring[:, 1], c=y_ring, cmap="coolwarm", s=10)
    axes[0].set(xlabel="r", ylabel="θ", title="the ring in polar coordinates: a band")
    cu.plot_decision_regions(lambda P: predict(P, W_t, b_t), F_band, y_ring, ax=axes[1])
    axes[1].set(xlabel="d = |r − 1.5|", ylabel="θ", title=f"the line d = 0.5: accuracy {threshold_accuracy:.2f}")
    cu.plot_decision_regions(lambda P: predict(P, W_r, b_r), F_band, y_ring, ax=axes[2])
    axes[2].set(xlabel="d = |r − 1.5|", ylabel="θ", title=f"least squares on (d, θ): accuracy {ls_accuracy:.2f}")
    plt.show()
    # The text's claims, computed: the threshold separates perfectly; least squares comes close.
    assert threshold_accuracy == 1.0, f"the line d = 0.5 should separate the ring exactly, not {threshold_accuracy}"
    assert 0.85 < ls_accuracy < 1.0, f"least squares should come close without separating, not {ls_accuracy:.2f}"

# %% [markdown]
# The middle panel is the promised line. Least squares, on the right, lands close but misses
# a few points: it minimises the squared distance of the scores to the targets 0 and 1, not
# the number of mistakes, and points far from the boundary pull its line around. Choosing a
# loss that counts what we care about is the subject of the next notebook.

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
