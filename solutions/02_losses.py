# %% [markdown]
# # 02 · Loss functions and regularisation
#
# Notebook 01 built a linear classifier and picked its weights by least squares. Here we
# ask the question properly: **how good is a given $W$?** A *loss function* answers with
# one number, and training means making that number small. You will write the two
# classic classification losses (the multiclass SVM and softmax cross-entropy), first with
# loops and then vectorised; add regularisation; and train a linear classifier on
# Fashion-MNIST with minibatch stochastic gradient descent.
#
# You will implement: `svm_loss_naive`, `svm_loss_vectorized`, `softmax`,
# `softmax_loss_naive`, `softmax_loss_vectorized`, the penalties `l2_penalty`,
# `l1_penalty` and `elastic_net_penalty`, `train_linear_classifier`, and `random_search`,
# which picks the learning rate and regularisation strength on the validation set.
#
# **Conventions.** As in notebook 01, $W$ has one row per class, $W \in \mathbb{R}^{C \times D}$,
# and a batch stacks the examples as the rows of $X \in \mathbb{R}^{N \times D}$, so the
# scores are $S = X W^\top$, of shape $(N, C)$. We use the bias trick throughout: the last
# column of $X$ is all ones and the last column of $W$ holds the biases, so there is no
# separate $b$. Every loss function has the signature
# `loss_fn(W, X, y, reg) -> (loss, dW)`, where `y` holds the $N$ integer labels, `reg` is
# the regularisation strength $\lambda$, `loss` is a Python float and `dW` (same shape as
# `W`) is $\partial L / \partial W$.
#
# **Precision and side effects.** Compute in the precision you are given: for float64
# inputs the hidden tests compare losses and gradients with the reference to about
# $10^{-9}$ (any order of summation passes; converting to float32 does not). Leave your
# arguments unchanged: a function that writes into `W`, `X` or `scores` (say
# `scores -= scores.max(...)` on the caller's array) changes the caller's data, and the
# hidden tests call every function twice on the same arrays to see it.

# %%
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from threadpoolctl import threadpool_limits

import course_utils as cu

cu.seed_everything(0)
# Our matrix products are small (a few hundred rows): with several BLAS threads they spend
# more time synchronising than computing, so one thread is faster here.
blas_threads = threadpool_limits(1, user_api="blas")

# %% [markdown]
# ## 1. What a loss function is
#
# Given a dataset $\{(x_i, y_i)\}_{i=1}^N$ and a model $f(x; W)$ that produces class scores,
# a **loss function** scores how unhappy we are with $W$:
#
# $$ L(W) = \frac{1}{N} \sum_{i=1}^{N} L_i\big(f(x_i; W),\ y_i\big). $$
#
# Each example contributes a per-example loss $L_i$; the total is their average. Low is
# good. Some fields turn the sign around and *maximise* the negative of a loss, calling
# it a **reward**, **profit**, **utility** or **fitness**; the mathematics is the same.
#
# **Our running example.** Three images (a cat, a car and a frog) and three classes. A
# linear classifier has given them these scores (one row per image, one column per class):
#
# | image (label) | score: cat | score: car | score: frog |
# | --- | ---: | ---: | ---: |
# | cat image (cat)   | **3.2** | 5.1     | −1.7     |
# | car image (car)   | 1.3     | **4.9** | 2.0      |
# | frog image (frog) | 2.2     | 2.5     | **−3.1** |
#
# The correct class is in bold. The car is classified correctly, the cat is not (car wins),
# and the frog is badly wrong: its correct class has the *lowest* score.
#
# To feed these scores to functions that take $(W, X)$, we use a trick: give each image a
# single lit "pixel" of its own, $X = I_3$. Then $S = X W^\top = W^\top$, so choosing
# $W = S^\top$ makes the classifier produce exactly the table above.

# %%
CLASSES = ["cat", "car", "frog"]
S_ex = np.array([[3.2, 5.1, -1.7],
                 [1.3, 4.9, 2.0],
                 [2.2, 2.5, -3.1]])  # (N, C) = (3 images, 3 classes)
y_ex = np.array([0, 1, 2])  # cat, car, frog
X_ex = np.eye(3)  # (N, D): one lit pixel per image
W_ex = S_ex.T.copy()  # (C, D), so that X_ex @ W_ex.T == S_ex
assert np.allclose(X_ex @ W_ex.T, S_ex)

# A small random problem (12 examples, 6 features, 4 classes) for the gradient checks below.
rng = np.random.default_rng(2)
X_g, y_g, W_g = rng.standard_normal((12, 6)), rng.integers(0, 4, size=12), rng.standard_normal((4, 6))


# Checks that every loss function of this notebook must pass; the visible tests below call them.
# Each check has its own example, chosen so that one usual slip fails it and its hint names that slip.
def check_leaves_W_unchanged(loss_fn, name):
    """The caller's W must come back as it was given."""
    W = W_ex.copy()
    loss_fn(W, X_ex, y_ex, 0.1)
    cu.check_close(W, W_ex, f"W after calling {name}",
                   hint="your function wrote into W (W *= ..., W -= ...): build new arrays instead")


def check_gradient_conventions(loss_fn, name, correct_class_hint):
    """dW of the worked example: each example's pushes cancel, the batch averages, the penalty adds 2·reg·W."""
    _, dW = loss_fn(W_ex, X_ex, y_ex, 0.0)
    # With X = I, column i of dW is example i's dS_i / N. Whatever one example pushes up on
    # the wrong classes it pushes down on the correct class, so every column sums to 0.
    cu.check_close(dW.sum(axis=0), np.zeros(3), f"column sums of dW of {name} (worked example)", atol=1e-9,
                   hint=correct_class_hint)
    one_at_a_time = sum(loss_fn(W_ex, X_ex[i:i + 1], y_ex[i:i + 1], 0.0)[1] for i in range(3)) / 3
    cu.check_close(dW, one_at_a_time, f"dW of {name} for three images vs. the mean of their own dW",
                   hint="average the gradient over the N examples, as the loss: divide dW by N")
    loss0, dW0 = loss_fn(W_g, X_g, y_g, 0.0)
    loss1, dW1 = loss_fn(W_g, X_g, y_g, 0.1)
    cu.check_close(loss1 - loss0, 0.1 * np.sum(W_g**2), f"loss of {name} with reg = 0.1 minus with reg = 0",
                   hint="add the penalty reg·ΣW² to the LOSS too, not only its gradient to dW")
    cu.check_close(dW1 - dW0, 2 * 0.1 * W_g, f"dW of {name} with reg = 0.1 minus with reg = 0",
                   hint="the gradient of reg·ΣW² is 2·reg·W (the square brings a factor 2)")

# %% [markdown]
# ## 2. The multiclass SVM (hinge) loss
#
# The SVM loss wants the score of the correct class to beat every other score by a
# **margin** $\Delta$ (we use $\Delta = 1$). Write $s = f(x_i; W)$ for the scores of
# example $i$. Each wrong class $j$ whose score comes within $\Delta$ of the correct one
# costs the shortfall:
#
# $$ L_i = \sum_{j \ne y_i} \max\big(0,\ s_j - s_{y_i} + \Delta\big). $$
#
# By hand, for the cat image ($s_{\text{cat}} = 3.2$):
# $\max(0, 5.1 - 3.2 + 1) + \max(0, -1.7 - 3.2 + 1) = 2.9 + 0 = 2.9$.
# The car image is correct by more than the margin everywhere: $L = 0$. The frog image:
# $\max(0, 2.2 + 3.1 + 1) + \max(0, 2.5 + 3.1 + 1) = 6.3 + 6.6 = 12.9$. The loss over the
# three examples is the average, $(2.9 + 0 + 12.9) / 3 \approx 5.27$.
#
# What are the smallest and largest possible values of $L_i$? 0, once every wrong score is
# at least $\Delta$ below the correct one, and $+\infty$: nothing bounds how far a wrong
# score can rise.
#
# The **gradient.** Each term of $L_i$ is a hinge: flat at zero, then a line of slope 1 (the
# picture below). Where the term is positive ("class $j$ violates the margin"), it adds
# $+x_i$ to the gradient of row $j$ of $W$ and $-x_i$ to the row of the correct class:
#
# $$ \frac{\partial L_i}{\partial w_j} = \mathbb{1}[s_j - s_{y_i} + \Delta > 0]\, x_i \quad (j \ne y_i),
#    \qquad \frac{\partial L_i}{\partial w_{y_i}} = -\Big(\sum_{j \ne y_i} \mathbb{1}[s_j - s_{y_i} + \Delta > 0]\Big)\, x_i . $$
#
# Finally, every loss in this notebook adds the L2 **regularisation** term $\lambda \sum W^2$
# (section 5 explains why), whose gradient is $2 \lambda W$:
#
# $$ L(W) = \frac{1}{N} \sum_i L_i + \lambda \sum_{k,l} W_{k,l}^2 ,
#    \qquad \nabla_W L = \frac{1}{N} \sum_i \nabla_W L_i + 2 \lambda W . $$

# %%
gap = np.linspace(-3, 2, 200)  # s_j − s_{y_i}
plt.figure(figsize=(5, 3))
plt.plot(gap, np.maximum(0, gap + 1))
plt.axvline(-1, color="gray", ls=":", lw=1)
plt.xlabel(r"$s_j - s_{y_i}$ (wrong class minus correct class)")
plt.ylabel("contribution to $L_i$")
plt.title(r"one hinge term, $\Delta = 1$: zero once the margin is met")
plt.show()

# %% [markdown]
# **Question.** At the start of training the weights are small and random, so every score
# is close to 0. Why is the SVM loss then close to $C - 1$ (9 for ten classes), and how does
# that help you test a fresh implementation? (Two or three sentences.)

# %% [markdown] answer="explain_svm_loss_at_init" points=1
# *Model answer.* With all scores about 0, every wrong class $j$ has
# $s_j - s_{y_i} + \Delta \approx \Delta = 1 > 0$, so each of the $C - 1$ wrong classes adds
# about 1 and $L_i \approx C - 1$ for every example (the correct class is skipped in the
# sum). Averaging keeps it at $C - 1$. So a freshly initialised 10-class model must report a
# loss near 9: a value near 10 means the correct class was not skipped, near 0 that the
# margin $\Delta$ is missing, and anything far off means a bug before any training.

# %% [markdown]
# ### Exercise 1: the SVM loss with loops
#
# Implement `svm_loss_naive` with explicit Python loops over the examples and the classes.
# It is slow, but each line matches a symbol of the formula, which makes it the version to
# trust when you check the fast one. Skip the correct class in the sum, average the data
# loss and its gradient over the $N$ examples, then add the regularisation.

# %% solution="svm_loss_naive"
def svm_loss_naive(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Multiclass SVM loss (Δ = 1) plus reg·ΣW², and its gradient, with loops.

    W: (C, D), X: (N, D), y: (N,) integers in [0, C). Returns (loss, dW) with dW: (C, D).
    """
    ### BEGIN SOLUTION
    N, C = X.shape[0], W.shape[0]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(N):
        scores = W @ X[i]  # (C,)
        correct_score = scores[y[i]]
        for j in range(C):
            if j == y[i]:
                continue
            margin = scores[j] - correct_score + 1.0
            if margin > 0:
                loss += margin
                dW[j] += X[i]
                dW[y[i]] -= X[i]
    loss = loss / N + reg * np.sum(W * W)
    dW = dW / N + 2 * reg * W
    return float(loss), dW
    ### END SOLUTION


# %% tests="test_svm_loss_naive" points=2
# Visible tests. The worked example, one image at a time and then all three (reg = 0).
check_leaves_W_unchanged(svm_loss_naive, "svm_loss_naive")
hints = {1: "skip j == y_i in the sum: the correct class would add max(0, s_y − s_y + Δ) = Δ = 1 by itself",
         0: "keep the margin Δ = 1 inside the max: max(0, s_j − s_{y_i} + 1)",
         2: "each wrong class j adds max(0, s_j − s_{y_i} + 1): check the scores and the max"}
for i, expected in [(1, 0.0), (0, 2.9), (2, 12.9)]:  # the car image first: correct by more than the margin
    loss_i, _ = svm_loss_naive(W_ex, X_ex[i:i + 1], y_ex[i:i + 1], 0.0)
    cu.check_close(loss_i, expected, f"SVM loss of the {CLASSES[i]} image", rtol=1e-9, atol=1e-9, hint=hints[i])
loss, dW = svm_loss_naive(W_ex, X_ex, y_ex, 0.0)
cu.check_close(loss, (2.9 + 0 + 12.9) / 3, "SVM loss of the three images", rtol=1e-9,
               hint="the loss is the AVERAGE of the per-example losses, not their sum")
cu.check_close(round(loss, 2), 5.27, "SVM loss of the three images, rounded")
cu.check_shape(dW, W_ex.shape, "dW", hint="dW has the shape of W: (C, D)")
# With small random weights every score is about 0, so L ≈ C − 1 (here 10 − 1 = 9).
rng = np.random.default_rng(1)
X_small = rng.standard_normal((50, 3073))
y_small = rng.integers(0, 10, size=50)
loss0, _ = svm_loss_naive(1e-4 * rng.standard_normal((10, 3073)), X_small, y_small, 0.0)
cu.check_close(loss0, 9.0, "SVM loss at initialisation", atol=0.05,
               hint="with scores ≈ 0, each of the 9 wrong classes contributes Δ = 1")
check_gradient_conventions(svm_loss_naive, "svm_loss_naive",
                           "each violated margin adds +x_i to row j AND −x_i to the correct class's row y_i")
# The gradient, data and regularisation terms together, against centred differences.
cu.check_gradient(lambda W: svm_loss_naive(W, X_g, y_g, 0.1)[0], W_g, svm_loss_naive(W_g, X_g, y_g, 0.1)[1],
                  name="dW of svm_loss_naive", tol=1e-5)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(2024)
_X, _y, _W = _rng.standard_normal((23, 9)), _rng.integers(0, 5, size=23), _rng.standard_normal((5, 9))
report("loss on unseen inputs", lambda: svm_loss_naive(_W, _X, _y, 0.05)[0], rtol=1e-9)
report_call("loss and gradient; W, X and y left unchanged", svm_loss_naive, _W.copy(), _X.copy(), _y.copy(), 0.05,
            rtol=1e-9)
report("loss without regularisation", lambda: svm_loss_naive(_W, _X, _y, 0.0)[0], rtol=1e-9)
report_gradient("gradient on unseen inputs (reference and numerical)",
                lambda W: svm_loss_naive(W, _X, _y, 0.05)[0], lambda W: svm_loss_naive(W, _X, _y, 0.05)[1],
                _W, rtol=1e-9, numeric_tol=1e-5)
_Xb, _yb = _rng.standard_normal((40, 3073)), _rng.integers(0, 10, size=40)
_Wb = 0.01 * _rng.standard_normal((10, 3073))
report_gradient("gradient, CIFAR-sized weights (10 x 3073)",
                lambda W: svm_loss_naive(W, _Xb, _yb, 0.1)[0], lambda W: svm_loss_naive(W, _Xb, _yb, 0.1)[1],
                _Wb, num_checks=30, rtol=1e-9, numeric_tol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: the SVM loss without loops
#
# Now compute the same loss and gradient for the whole batch with array operations:
#
# 1. all scores at once, `S = X @ W.T`, shape $(N, C)$;
# 2. the correct-class score of each row, `S[np.arange(N), y]` (one per row: this
#    *integer-array indexing* picks element `y[i]` of row `i`);
# 3. the margins $\max(0, S - s_{y} + \Delta)$ with broadcasting, then zero at the correct
#    class (otherwise each example adds $\Delta$);
# 4. for the gradient, a matrix `dS` $= \partial L / \partial S$ of shape $(N, C)$: 1 where a
#    margin is violated, minus the number of violations at the correct class. Then
#    $\nabla_W = \frac{1}{N} \, dS^\top X$, because $S = X W^\top$ makes every row of $W$ collect
#    the inputs weighted by its column of $dS$.

# %% solution="svm_loss_vectorized"
def svm_loss_vectorized(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Multiclass SVM loss (Δ = 1) plus reg·ΣW², and its gradient, without Python loops.

    W: (C, D), X: (N, D), y: (N,) integers in [0, C). Returns (loss, dW) with dW: (C, D).
    """
    ### BEGIN SOLUTION
    N = X.shape[0]
    rows = np.arange(N)
    scores = X @ W.T  # (N, C)
    correct_scores = scores[rows, y][:, None]  # (N, 1)
    margins = np.maximum(0, scores - correct_scores + 1.0)  # (N, C)
    margins[rows, y] = 0
    loss = margins.sum() / N + reg * np.sum(W * W)
    dscores = (margins > 0).astype(W.dtype)  # (N, C): 1 for each violated margin
    dscores[rows, y] = -dscores.sum(axis=1)  # the correct class collects minus the count
    dW = dscores.T @ X / N + 2 * reg * W  # (C, D)
    return float(loss), dW
    ### END SOLUTION


# %% tests="test_svm_loss_vectorized" points=2
# Visible tests: the worked example, then agreement with your loop version.
check_leaves_W_unchanged(svm_loss_vectorized, "svm_loss_vectorized")
loss, dW = svm_loss_vectorized(W_ex, X_ex, y_ex, 0.0)
# What the usual slips give here, so that the hint names yours.
slips = {2.9 + 0 + 12.9: "you SUMMED the per-example losses: the loss is their mean (divide by N)",
         (2.9 + 0 + 12.9) / 3 + 1: "zero the margin at the correct class (margins[np.arange(N), y] = 0): "
                                   "otherwise each example adds Δ = 1",
         (1.9 + 0 + 10.9) / 3: "keep the margin Δ = 1: np.maximum(0, S − s_y + 1)"}
cu.check_close(loss, (2.9 + 0 + 12.9) / 3, "vectorised SVM loss of the three images", rtol=1e-9,
               hint=next((h for v, h in slips.items() if np.isclose(loss, v)),
                         "margins = max(0, S − s_y + 1) with the correct class zeroed, averaged over N"))
cu.check_close(round(loss, 2), 5.27, "vectorised SVM loss, rounded")
cu.check_shape(dW, W_ex.shape, "dW", hint="dW has the shape of W: (C, D); dS.T @ X gives exactly that")
check_gradient_conventions(svm_loss_vectorized, "svm_loss_vectorized",
                           "the correct class's entry of dS is MINUS THE NUMBER of violated margins in its row "
                           "(−dS.sum(axis=1)), not −1")
cu.check_gradient(lambda W: svm_loss_vectorized(W, X_g, y_g, 0.1)[0], W_g,
                  svm_loss_vectorized(W_g, X_g, y_g, 0.1)[1], name="dW of svm_loss_vectorized", tol=1e-5)
# No loops: as many lines of Python for 5 times the examples, 3 times the classes and 4 times the features.
# (Lines are counted, not seconds: the count is the same on every machine, however busy.)
rng = np.random.default_rng(5)
small = (rng.standard_normal((3, 10)), rng.standard_normal((8, 10)), rng.integers(0, 3, size=8), 0.1)
large = (rng.standard_normal((9, 40)), rng.standard_normal((40, 40)), rng.integers(0, 9, size=40), 0.1)
lines_small, lines_large = cu.check_vectorised(
    svm_loss_vectorized, small, large, "svm_loss_vectorized", grew="the examples, the classes and the features",
    hint="a Python loop over the examples (or the classes) runs its body once per item: compute all the scores "
         "with X @ W.T, the margins with broadcasting, and dW with one product dS.T @ X")
print(f"svm_loss_vectorized ran {lines_small} lines of Python on 8 examples and {lines_large} on 40")
print("All visible tests passed.")
# Your two versions should agree up to rounding (about 1e-15). If they don't, one of them
# is wrong, and the checks above and in Exercise 1 say which. (This comparison is not graded.)
rng = np.random.default_rng(3)
X_c, y_c, W_c = rng.standard_normal((30, 20)), rng.integers(0, 7, size=30), rng.standard_normal((7, 20))
loss_v, dW_v = svm_loss_vectorized(W_c, X_c, y_c, 0.2)
try:
    loss_n, dW_n = svm_loss_naive(W_c, X_c, y_c, 0.2)
    print(f"vectorised vs. naive: losses differ by {abs(loss_v - loss_n):.1e}, "
          f"relative error of dW {cu.rel_error(dW_v, dW_n):.1e}")
except Exception as exc:  # not implemented yet, or broken: the comparison is only for information
    print(f"svm_loss_naive did not run ({type(exc).__name__}); make it work to compare the two versions.")
### BEGIN HIDDEN TESTS
from autograde.probe import report, report_gradient

_rng = hidden_rng(2025)
_X, _y, _W = _rng.standard_normal((31, 8)), _rng.integers(0, 6, size=31), _rng.standard_normal((6, 8))
report("loss on unseen inputs", lambda: svm_loss_vectorized(_W, _X, _y, 0.05)[0], rtol=1e-9)
report_call("loss and gradient; W, X and y left unchanged", svm_loss_vectorized, _W.copy(), _X.copy(), _y.copy(),
            0.05, rtol=1e-9)
report("one example", lambda: svm_loss_vectorized(_W, _X[:1], _y[:1], 0.05), rtol=1e-9)
report("loss without regularisation", lambda: svm_loss_vectorized(_W, _X, _y, 0.0)[0], rtol=1e-9)
report("worked example, three images", lambda: svm_loss_vectorized(S_ex.T.copy(), np.eye(3), np.arange(3), 0.0),
       rtol=1e-9)
report_gradient("gradient on unseen inputs (reference and numerical)",
                lambda W: svm_loss_vectorized(W, _X, _y, 0.05)[0],
                lambda W: svm_loss_vectorized(W, _X, _y, 0.05)[1], _W, rtol=1e-9, numeric_tol=1e-5)
_Xb, _yb = _rng.standard_normal((500, 3073)), _rng.integers(0, 10, size=500)
_Wb = 0.01 * _rng.standard_normal((10, 3073))
report_gradient("gradient, 500 x 3073 batch with 10 classes",
                lambda W: svm_loss_vectorized(W, _Xb, _yb, 0.1)[0],
                lambda W: svm_loss_vectorized(W, _Xb, _yb, 0.1)[1], _Wb, num_checks=30,
                rtol=1e-8, numeric_tol=1e-5)
from course_utils.loops import is_vectorised

# Lines of Python run, not seconds: the same on every machine however busy it is.
_small = (_rng.standard_normal((4, 12)), _rng.standard_normal((9, 12)), _rng.integers(0, 4, size=9), 0.1)
_large = (_rng.standard_normal((11, 35)), _rng.standard_normal((47, 35)), _rng.integers(0, 11, size=47), 0.1)


report("no Python loop: as many lines of Python for a larger batch",
       lambda: is_vectorised(svm_loss_vectorized, _small, _large), kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# What did vectorising buy? A CIFAR-10-sized batch: 500 images of 3072 pixels plus the
# bias column, 10 classes. For each version, the lines of Python it runs, counted by
# `cu.python_lines` (lines inside NumPy count nothing; the count is the same on every
# machine), and the time it took on this machine.

# %%
rng = np.random.default_rng(4)
X_big, y_big = rng.standard_normal((500, 3073)), rng.integers(0, 10, size=500)
W_big = 1e-4 * rng.standard_normal((10, 3073))
with cu.needs_your_code():
    lines_naive = cu.python_lines(svm_loss_naive, W_big, X_big, y_big, 1e-3)[1]
    lines_vec = cu.python_lines(svm_loss_vectorized, W_big, X_big, y_big, 1e-3)[1]
    t_naive = cu.best_time(lambda: svm_loss_naive(W_big, X_big, y_big, 1e-3), repeats=1)
    t_vec = cu.best_time(lambda: svm_loss_vectorized(W_big, X_big, y_big, 1e-3))
    print(f"SVM loss on 500 x 3073: loops {lines_naive:,d} lines of Python, vectorised {lines_vec}")
    print(f"on this machine, now: loops {1e3 * t_naive:.1f} ms, vectorised {1e3 * t_vec:.2f} ms, "
          f"{t_naive / t_vec:.0f}x faster")
    # What the text below says, in lines of Python: the same on every machine, unlike the seconds.
    assert lines_naive >= 500 * 10, f"the loops should run a line per example and class, they ran {lines_naive}"
    assert lines_vec < 50, f"the vectorised loss should run a handful of lines whatever the batch, it ran {lines_vec}"

# %% [markdown]
# The loops run at least one line of Python for each of the 500 × 10 (example, class)
# pairs; the vectorised version a handful of lines for the whole batch, the same for any
# batch, because two large matrix products do the work. The factor in seconds printed
# above is this machine's, measured while the cell ran; it changes with the machine and
# with whatever else the machine is doing, and it is typically far smaller than the ratio
# of the line counts, because the loop version is already half vectorised: each `dW[j] += X[i]`
# handles all 3073 pixels in one NumPy operation. A loop over the individual pixels as
# well would run 3073 times as many lines again.
#
# ## 3. Softmax and the cross-entropy loss
#
# The SVM loss only asks the correct score to win by a margin; the scores themselves have
# no meaning. The **softmax** classifier reads them as unnormalised log-probabilities:
# exponentiate (every number becomes positive), then normalise (they sum to 1):
#
# $$ P(Y = k \mid x_i) = \frac{e^{s_k}}{\sum_j e^{s_j}} . $$
#
# The loss is the **negative log-likelihood** of the correct class, also called the
# **cross-entropy** between the one-hot label and the predicted distribution:
#
# $$ L_i = -\log P(Y = y_i \mid x_i) = -s_{y_i} + \log \sum_j e^{s_j} . $$
#
# For the cat image: $e^{(3.2,\ 5.1,\ -1.7)} = (24.5,\ 164.0,\ 0.18)$; the sum is 188.7, so
# the probabilities are $(0.13,\ 0.87,\ 0.00)$ and $L = -\log 0.13 = 2.04$.
#
# $L_i$ is 0 only when the correct class gets probability 1 (never exactly: that needs
# infinitely large score gaps) and goes to $+\infty$ as that probability goes to 0.

# %%
p_cat = np.exp(S_ex[0]) / np.exp(S_ex[0]).sum()
fig, axes = plt.subplots(1, 3, figsize=(11, 2.6))
for ax, values, title in zip(axes, [S_ex[0], np.exp(S_ex[0]), p_cat],
                             ["scores $s$", "$e^{s}$ (unnormalised)", "probabilities"]):
    ax.bar(CLASSES, values, color=["C2", "C0", "C0"])
    for k, v in enumerate(values):
        ax.annotate(f"{v:.2f}", (k, v), ha="center", va="bottom" if v >= 0 else "top")
    ax.set_title(title)
    ax.margins(y=0.25)
fig.suptitle(f"softmax of the cat image (green: the correct class); loss = −log {p_cat[0]:.2f} "
             f"= {-np.log(p_cat[0]):.2f}", y=1.08)
plt.show()
# The numbers the text works out by hand.
assert np.allclose(np.exp(S_ex[0]), [24.5, 164.0, 0.18], atol=0.05) and round(np.exp(S_ex[0]).sum(), 1) == 188.7
assert np.allclose(p_cat, [0.13, 0.87, 0.00], atol=0.005) and round(-np.log(p_cat[0]), 2) == 2.04

# %% [markdown]
# **Question.** A freshly initialised 10-class softmax classifier (small random weights)
# reports a loss of about 2.3 on its first minibatch. Where does 2.3 come from, and what
# would a first loss of 0.05 or of 40 tell you? (Two or three sentences.)

# %% [markdown] answer="explain_softmax_loss_at_init" points=1
# *Model answer.* Small weights make all scores nearly equal, so softmax gives every class
# probability about $1/C$ and $L_i = -\log(1/C) = \log C$; for $C = 10$ that is
# $\log 10 \approx 2.30$. A first loss of 0.05 would mean the model is already confident and
# right, impossible before training (the labels or the loss are wrong, e.g. $\log P$ of the
# predicted class instead of the correct one); 40 would mean the scores do not start small
# (weights initialised too large) or a loss summed over the minibatch instead of averaged.

# %% [markdown]
# ### Numerical stability
#
# `np.exp(1000.0)` is `inf` in float64 (anything above about 709 overflows), and then
# `inf / inf` is `nan`. Scores that large are not exotic: an untrained network with large
# inputs produces them. The fix costs one line, because softmax does not change when the
# same constant is subtracted from every score of an example:
#
# $$ \frac{e^{s_k - m}}{\sum_j e^{s_j - m}} = \frac{e^{-m}\, e^{s_k}}{e^{-m} \sum_j e^{s_j}}
#    = \frac{e^{s_k}}{\sum_j e^{s_j}} . $$
#
# With $m = \max_j s_j$ the largest exponent is $e^0 = 1$: no overflow, and the sum is at
# least 1, so no division by zero. For the *loss*, also avoid `log(probability)`: a
# probability can underflow to exactly 0 and `log(0)` is `-inf`. Use the shifted scores
# directly: $-\log P(y_i) = \log \sum_j e^{s_j - m} - (s_{y_i} - m)$.
#
# ### Exercise 3: a stable softmax
#
# Implement `softmax` for a batch of score rows, shifting each row by its own maximum
# (`keepdims=True` keeps the shapes broadcastable).

# %% solution="softmax"
def softmax(scores: np.ndarray) -> np.ndarray:
    """P[i, k] = exp(s_ik − m_i) / Σ_j exp(s_ij − m_i), with m_i the row maximum. scores: (N, C) -> (N, C)."""
    ### BEGIN SOLUTION
    shifted = scores - scores.max(axis=1, keepdims=True)  # (N, C), each row's max is now 0
    exp_scores = np.exp(shifted)
    return exp_scores / exp_scores.sum(axis=1, keepdims=True)
    ### END SOLUTION


# %% tests="test_softmax" points=1
# Visible tests: the worked example for the cat image.
s_cat = S_ex[:1].copy()  # (1, 3): [[3.2, 5.1, -1.7]]
P = softmax(s_cat)
cu.check_close(s_cat, S_ex[:1], "the scores after softmax(scores)",
               hint="softmax wrote into its argument (scores -= ...): make a new array, shifted = scores - ...")
cu.check_shape(P, (1, 3), "softmax(scores)", hint="one probability per class, per row: keep the (N, C) shape")
cu.check_close(P, [[0.13, 0.87, 0.00]], "softmax of the cat scores", atol=0.005,
               hint="normalise each ROW (axis=1) so that it sums to 1")
# P times the normaliser Σ e^s gives back the unnormalised e^s of the worked example.
cu.check_close(P * np.exp(s_cat).sum(), [[24.5, 164.0, 0.18]], "P · Σ_j e^(s_j)", rtol=0.005, atol=0.005)
cu.check_close(-np.log(P[0, 0]), 2.04, "−log P(cat | cat image)", atol=0.005)
# Scores around 1e3 (and −1e3) must neither overflow nor give 0/0.
for offset in [1000.0, -1000.0]:
    P_big = softmax(s_cat + offset)
    cu.check_close(P_big, P, f"softmax(scores + {offset:g})", rtol=1e-9,
                   hint="np.exp(1000) overflows to inf (and inf / inf is nan): subtract each row's maximum "
                        "before np.exp; it changes no probability")
rows = softmax(S_ex)
cu.check_close(rows.sum(axis=1), np.ones(3), "row sums of softmax(S)",
               hint="sum over the classes (axis=1) with keepdims=True, not over the examples")
# Two rows a thousand apart: each needs its OWN maximum subtracted.
P_two = softmax(np.array([[0.0, 1.0], [1000.0, 1001.0]]))
cu.check_close(P_two[0], P_two[1], "softmax of [0, 1] and of [1000, 1001]", rtol=1e-9,
               hint="subtract each row's own maximum (axis=1, keepdims=True), not the largest score of the batch")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(2026)
_S = _rng.standard_normal((17, 6)) * 3
report_call("unseen scores; scores left unchanged", softmax, _S.copy(), rtol=1e-9)
report("one row far below the others (-1e3 and 0)",
       lambda: softmax(np.vstack([_S[:2] - 1000.0, _S[2:4]])), rtol=1e-9, atol=1e-300)
# Tiny probabilities are compared too (atol 1e-300): clipping the scores is not stable, it is wrong.
report("one dominant class (scores 800 apart)", lambda: softmax(np.array([[0.0, 800.0, -5.0, 0.0, 1.0, 2.0]]) + _S[:1]), rtol=1e-9,
       atol=1e-300)
report("scores around +1000", lambda: softmax(_S + 1000.0), rtol=1e-9)
report("scores around -1000", lambda: softmax(_S - 1000.0), rtol=1e-9)
report("rows on very different scales", lambda: softmax(_S * np.array([[1.0], [300.0]] * 8 + [[1.0]])), rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### The gradient of the cross-entropy
#
# Differentiating $L_i = -s_{y_i} + \log \sum_j e^{s_j}$ with respect to a score gives a
# famously tidy result: the predicted probability minus the one-hot label,
#
# $$ \frac{\partial L_i}{\partial s_k} = P(Y = k \mid x_i) - \mathbb{1}[k = y_i], \qquad
#    \frac{\partial L_i}{\partial w_k} = \big(P(Y = k \mid x_i) - \mathbb{1}[k = y_i]\big)\, x_i . $$
#
# Every class is pushed down in proportion to its probability, and the correct class is
# pushed up by $1 - P(y_i)$: nothing moves once the model is certain and right.
#
# ### Exercise 4: cross-entropy with loops
#
# Implement `softmax_loss_naive` with a loop over the examples (a loop over the classes for
# the gradient is fine too). Make it stable: shift by the maximum and compute the loss
# from the shifted scores, not from `log(probability)`.

# %% solution="softmax_loss_naive"
def softmax_loss_naive(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy plus reg·ΣW², and its gradient, with loops; stable for large scores.

    W: (C, D), X: (N, D), y: (N,) integers in [0, C). Returns (loss, dW) with dW: (C, D).
    """
    ### BEGIN SOLUTION
    N, C = X.shape[0], W.shape[0]
    loss = 0.0
    dW = np.zeros_like(W)
    for i in range(N):
        scores = W @ X[i]  # (C,)
        shifted = scores - np.max(scores)
        log_normaliser = np.log(np.sum(np.exp(shifted)))
        loss += log_normaliser - shifted[y[i]]  # −log P(y_i | x_i)
        probs = np.exp(shifted - log_normaliser)  # (C,)
        for k in range(C):
            dW[k] += (probs[k] - (k == y[i])) * X[i]
    loss = loss / N + reg * np.sum(W * W)
    dW = dW / N + 2 * reg * W
    return float(loss), dW
    ### END SOLUTION


# %% tests="test_softmax_loss_naive" points=2
# Visible tests: the worked example (cat image: L = 2.04).
check_leaves_W_unchanged(softmax_loss_naive, "softmax_loss_naive")
loss, dW = softmax_loss_naive(W_ex, X_ex[:1], y_ex[:1], 0.0)
cu.check_close(loss, 2.04, "cross-entropy of the cat image", atol=0.005,
               hint="L = −log P(correct class): use the probability of class y_i, with a minus sign")
cu.check_close(np.exp(-loss), 0.13, "P(cat | cat image) = exp(−L)", atol=0.005)
cu.check_shape(dW, W_ex.shape, "dW", hint="dW has the shape of W: (C, D)")
# Scores 1000 times larger: P(cat) underflows to 0, yet L = 5100 − 3200 = 1900 exactly.
loss_big, _ = softmax_loss_naive(1000 * W_ex, X_ex[:1], y_ex[:1], 0.0)
cu.check_close(loss_big, 1900.0, "loss for scores around 1e3", rtol=1e-9,
               hint="np.exp(5100) overflows: subtract the row's maximum before np.exp" if not np.isfinite(loss_big)
               else "P(cat) = e^(−1900) is 0 in floating point, so log(P) cannot give 1900: compute −log P "
                    "from the shifted scores, log Σ_j e^(s_j − m) − (s_y − m), never as log of a probability")
# With small random weights L ≈ log 10 ≈ 2.3.
rng = np.random.default_rng(1)
X_small = rng.standard_normal((50, 3073))
y_small = rng.integers(0, 10, size=50)
loss0, _ = softmax_loss_naive(1e-4 * rng.standard_normal((10, 3073)), X_small, y_small, 0.0)
cu.check_close(loss0, np.log(10), "cross-entropy at initialisation", atol=0.01,
               hint="with equal scores each of the 10 classes has probability 1/10, so L = log 10")
check_gradient_conventions(softmax_loss_naive, "softmax_loss_naive",
                           "dL/ds = P − onehot(y): subtract 1 at the correct class, so that each row sums to 0")
cu.check_gradient(lambda W: softmax_loss_naive(W, X_g, y_g, 0.1)[0], W_g,
                  softmax_loss_naive(W_g, X_g, y_g, 0.1)[1], name="dW of softmax_loss_naive", tol=1e-5)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(2027)
_X, _y, _W = _rng.standard_normal((21, 7)), _rng.integers(0, 5, size=21), _rng.standard_normal((5, 7))
report("loss on unseen inputs", lambda: softmax_loss_naive(_W, _X, _y, 0.05)[0], rtol=1e-9)
report_call("loss and gradient; W, X and y left unchanged", softmax_loss_naive, _W.copy(), _X.copy(), _y.copy(),
            0.05, rtol=1e-9)
report("scores around 1e3, the correct class far below", lambda: softmax_loss_naive(1000 * _W, _X, _y, 0.0),
       rtol=1e-7, atol=1e-9)
report("loss without regularisation", lambda: softmax_loss_naive(_W, _X, _y, 0.0)[0], rtol=1e-9)
report("loss for scores around 1e3", lambda: softmax_loss_naive(300 * _W, _X, _y, 0.0)[0], rtol=1e-9)
report("gradient for scores around 1e3", lambda: softmax_loss_naive(300 * _W, _X, _y, 0.0)[1], rtol=1e-7,
       atol=1e-9)
report_gradient("gradient on unseen inputs (reference and numerical)",
                lambda W: softmax_loss_naive(W, _X, _y, 0.05)[0], lambda W: softmax_loss_naive(W, _X, _y, 0.05)[1],
                _W, rtol=1e-9, numeric_tol=1e-5)
_Xb, _yb = _rng.standard_normal((40, 3073)), _rng.integers(0, 10, size=40)
_Wb = 0.01 * _rng.standard_normal((10, 3073))
report_gradient("gradient, CIFAR-sized weights (10 x 3073)",
                lambda W: softmax_loss_naive(W, _Xb, _yb, 0.1)[0], lambda W: softmax_loss_naive(W, _Xb, _yb, 0.1)[1],
                _Wb, num_checks=30, rtol=1e-9, numeric_tol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5: cross-entropy without loops
#
# The same, for the whole batch at once. A compact route: shifted scores, then the
# **log-softmax** $\log P = (S - m) - \log \sum_j e^{S - m}$ (shape $(N, C)$), the loss from
# `log_probs[np.arange(N), y]`, and $dS = P - \text{onehot}(y)$, so that
# $\nabla_W = \frac{1}{N}\, dS^\top X + 2\lambda W$.

# %% solution="softmax_loss_vectorized"
def softmax_loss_vectorized(W: np.ndarray, X: np.ndarray, y: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy plus reg·ΣW², and its gradient, without Python loops; stable for large scores.

    W: (C, D), X: (N, D), y: (N,) integers in [0, C). Returns (loss, dW) with dW: (C, D).
    """
    ### BEGIN SOLUTION
    N = X.shape[0]
    rows = np.arange(N)
    scores = X @ W.T  # (N, C)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
    loss = -log_probs[rows, y].mean() + reg * np.sum(W * W)
    dscores = np.exp(log_probs)  # (N, C): the probabilities
    dscores[rows, y] -= 1  # P − onehot(y)
    dW = dscores.T @ X / N + 2 * reg * W  # (C, D)
    return float(loss), dW
    ### END SOLUTION


# %% tests="test_softmax_loss_vectorized" points=2
# Visible tests: the cat image, then all three images, then scores 1000 times larger.
check_leaves_W_unchanged(softmax_loss_vectorized, "softmax_loss_vectorized")
loss, dW = softmax_loss_vectorized(W_ex, X_ex[:1], y_ex[:1], 0.0)
cu.check_close(loss, 2.04, "vectorised cross-entropy of the cat image", atol=0.005,
               hint="L = −log P(correct class): −log_probs[np.arange(N), y], with the minus sign")
cu.check_shape(dW, W_ex.shape, "dW", hint="dW has the shape of W: (C, D)")
# The three images together: the mean of the three one-image losses.
one_at_a_time = [softmax_loss_vectorized(W_ex, X_ex[i:i + 1], y_ex[i:i + 1], 0.0)[0] for i in range(3)]
loss3, _ = softmax_loss_vectorized(W_ex, X_ex, y_ex, 0.0)
cu.check_close(loss3, np.mean(one_at_a_time), "cross-entropy of the three images", rtol=1e-9,
               hint="you SUMMED the per-example losses: the loss is their mean (divide by N)"
               if np.isclose(loss3, np.sum(one_at_a_time)) else
               "take ONE log-probability per row, log_probs[np.arange(N), y]; log_probs[:, y] takes N × N of them")
# Losses 5100 − 3200 = 1900, 0 and 2500 + 3100 = 5600: their mean is 2500.
loss_big, _ = softmax_loss_vectorized(1000 * W_ex, X_ex, y_ex, 0.0)
cu.check_close(loss_big, 2500.0, "loss of the three images for scores around 1e3", rtol=1e-9,
               hint="np.exp overflows: subtract each ROW's maximum (axis=1, keepdims=True) before np.exp"
               if not np.isfinite(loss_big) else
               "probabilities like e^(−1900) are 0 in floating point: compute log P as (S − m) − log Σ e^(S − m), "
               "never as log of a probability")
check_gradient_conventions(softmax_loss_vectorized, "softmax_loss_vectorized",
                           "dS = P − onehot(y): subtract 1 at the correct class of each row, dS[np.arange(N), y] -= 1")
cu.check_gradient(lambda W: softmax_loss_vectorized(W, X_g, y_g, 0.1)[0], W_g,
                  softmax_loss_vectorized(W_g, X_g, y_g, 0.1)[1], name="dW of softmax_loss_vectorized", tol=1e-5)
# No loops: as many lines of Python for 5 times the examples, 3 times the classes and 4 times the features.
rng = np.random.default_rng(6)
small = (rng.standard_normal((3, 10)), rng.standard_normal((8, 10)), rng.integers(0, 3, size=8), 0.1)
large = (rng.standard_normal((9, 40)), rng.standard_normal((40, 40)), rng.integers(0, 9, size=40), 0.1)
lines_small, lines_large = cu.check_vectorised(
    softmax_loss_vectorized, small, large, "softmax_loss_vectorized", grew="the examples, the classes and the features",
    hint="a Python loop over the examples (or the classes) runs its body once per item: compute the log-softmax of "
         "all the rows at once (axis=1, keepdims=True) and dW with one product dS.T @ X")
print(f"softmax_loss_vectorized ran {lines_small} lines of Python on 8 examples and {lines_large} on 40")
print("All visible tests passed.")
# As for the SVM: the two versions should agree up to rounding (not graded).
rng = np.random.default_rng(3)
X_c, y_c, W_c = rng.standard_normal((30, 20)), rng.integers(0, 7, size=30), rng.standard_normal((7, 20))
loss_v, dW_v = softmax_loss_vectorized(W_c, X_c, y_c, 0.2)
try:
    loss_n, dW_n = softmax_loss_naive(W_c, X_c, y_c, 0.2)
    print(f"vectorised vs. naive: losses differ by {abs(loss_v - loss_n):.1e}, "
          f"relative error of dW {cu.rel_error(dW_v, dW_n):.1e}")
except Exception as exc:  # not implemented yet, or broken: the comparison is only for information
    print(f"softmax_loss_naive did not run ({type(exc).__name__}); make it work to compare the two versions.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(2028)
_X, _y, _W = _rng.standard_normal((33, 9)), _rng.integers(0, 6, size=33), _rng.standard_normal((6, 9))
report("loss on unseen inputs", lambda: softmax_loss_vectorized(_W, _X, _y, 0.05)[0], rtol=1e-9)
report_call("loss and gradient; W, X and y left unchanged", softmax_loss_vectorized, _W.copy(), _X.copy(),
            _y.copy(), 0.05, rtol=1e-9)
report("scores around 1e3, the correct class far below", lambda: softmax_loss_vectorized(1000 * _W, _X, _y, 0.0),
       rtol=1e-7, atol=1e-9)
report("one example", lambda: softmax_loss_vectorized(_W, _X[:1], _y[:1], 0.05), rtol=1e-9)
report("loss without regularisation", lambda: softmax_loss_vectorized(_W, _X, _y, 0.0)[0], rtol=1e-9)
report("loss for scores around 1e3", lambda: softmax_loss_vectorized(300 * _W, _X, _y, 0.0)[0], rtol=1e-9)
report("gradient for scores around 1e3", lambda: softmax_loss_vectorized(300 * _W, _X, _y, 0.0)[1], rtol=1e-7,
       atol=1e-9)
report_gradient("gradient on unseen inputs (reference and numerical)",
                lambda W: softmax_loss_vectorized(W, _X, _y, 0.05)[0],
                lambda W: softmax_loss_vectorized(W, _X, _y, 0.05)[1], _W, rtol=1e-9, numeric_tol=1e-5)
_Xb, _yb = _rng.standard_normal((500, 3073)), _rng.integers(0, 10, size=500)
_Wb = 0.01 * _rng.standard_normal((10, 3073))
report_gradient("gradient, 500 x 3073 batch with 10 classes",
                lambda W: softmax_loss_vectorized(W, _Xb, _yb, 0.1)[0],
                lambda W: softmax_loss_vectorized(W, _Xb, _yb, 0.1)[1], _Wb, num_checks=30,
                rtol=1e-8, numeric_tol=1e-5)
from course_utils.loops import is_vectorised

# Lines of Python run, not seconds: the same on every machine however busy it is.
_small = (_rng.standard_normal((4, 12)), _rng.standard_normal((9, 12)), _rng.integers(0, 4, size=9), 0.1)
_large = (_rng.standard_normal((11, 35)), _rng.standard_normal((47, 35)), _rng.integers(0, 11, size=47), 0.1)


report("no Python loop: as many lines of Python for a larger batch",
       lambda: is_vectorised(softmax_loss_vectorized, _small, _large), kind="equal")
### END HIDDEN TESTS

# %%
with cu.needs_your_code():
    lines_naive = cu.python_lines(softmax_loss_naive, W_big, X_big, y_big, 1e-3)[1]
    lines_vec = cu.python_lines(softmax_loss_vectorized, W_big, X_big, y_big, 1e-3)[1]
    t_naive = cu.best_time(lambda: softmax_loss_naive(W_big, X_big, y_big, 1e-3), repeats=1)
    t_vec = cu.best_time(lambda: softmax_loss_vectorized(W_big, X_big, y_big, 1e-3))
    print(f"softmax loss on 500 x 3073: loops {lines_naive:,d} lines of Python, vectorised {lines_vec}")
    print(f"on this machine, now: loops {1e3 * t_naive:.1f} ms, vectorised {1e3 * t_vec:.2f} ms, "
          f"{t_naive / t_vec:.0f}x faster")

# %% [markdown]
# ## 4. SVM or softmax? And losses for other outputs
#
# Take two classes and look at the loss as a function of the gap between the correct score
# and the other one. The hinge is *satisfied* once the gap exceeds $\Delta$: it stops
# caring, however the scores move. Cross-entropy is never exactly 0, so it keeps pushing
# the correct score up, ever more gently. In practice the two usually give classifiers of
# similar accuracy; cross-entropy's probabilities are the more useful output.
#
# Classification into $C$ classes is not the only kind of output:
#
# * **Binary cross-entropy**, for a single output $p_i \in (0, 1)$ (usually
#   $p_i = \sigma(s_i) = 1 / (1 + e^{-s_i})$) and a label $y_i \in \{0, 1\}$:
#   $L_i = -\big[y_i \log p_i + (1 - y_i) \log(1 - p_i)\big]$. It is softmax cross-entropy
#   with two classes whose scores differ by $s_i$; it is also the loss for *multi-label*
#   problems (one independent yes/no per class: an image can show a cat *and* a car).
# * **Mean squared error**, for regression (a real-valued target, like the line of
#   notebook 01): $L_i = \lVert y_i - f(x_i; W) \rVert^2$. Variants: the absolute error
#   $\lvert y_i - f(x_i) \rvert$ (less sensitive to outliers) and the Huber loss, which
#   is quadratic near 0 and linear further out.

# %%
gap = np.linspace(-3, 4, 200)  # s_correct − s_other
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
axes[0].plot(gap, np.maximum(0, 1 - gap), label="hinge (SVM), Δ = 1")
axes[0].plot(gap, np.log1p(np.exp(-gap)), label="cross-entropy (softmax)")
axes[0].set(xlabel="correct score minus other score", ylabel="$L_i$", title="two classes")
axes[0].legend()
p = np.linspace(0.01, 0.99, 200)
axes[1].plot(p, -np.log(p), label="binary cross-entropy, y = 1")
axes[1].plot(p, (1 - p) ** 2, label="squared error, target 1")
axes[1].set(xlabel="predicted p", ylabel="$L_i$", title="an output in (0, 1), label 1")
axes[1].legend()
plt.show()
# The text's claims: the hinge is exactly 0 past the margin, cross-entropy never is.
assert np.all(np.maximum(0, 1 - gap[gap >= 1]) == 0) and np.all(np.log1p(np.exp(-gap)) > 0)

# %% [markdown]
# **Question.** In a training example the correct class's score beats every other score by
# 5. Which loss still changes $W$ because of this example (has a nonzero gradient)?
# (a) the SVM loss only; (b) the softmax cross-entropy only; (c) both; (d) neither.
# Set `satisfied_margin_answer` to "a", "b", "c" or "d".

# %% solution="choice_satisfied_margin"
### BEGIN SOLUTION
satisfied_margin_answer = "b"
### END SOLUTION

# %% tests="test_choice_satisfied_margin" points=1
cu.check_choice(satisfied_margin_answer, "abcd", "satisfied_margin_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", satisfied_margin_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 5. Regularisation
#
# Suppose some $W$ gives zero SVM loss on the training set. Then so does $2W$: all gaps
# double, and every margin is still met. The data alone do not pick one $W$, so we add a
# preference that does not look at the data at all, a **regularisation** term weighted by
# a hyperparameter $\lambda$:
#
# $$ L(W) = \underbrace{\frac{1}{N} \sum_{i=1}^N L_i\big(f(x_i; W), y_i\big)}_{\text{data loss: fit the training data}}
#    \; + \; \underbrace{\lambda\, R(W)}_{\text{regularisation: prefer simpler models}} . $$
#
# The usual choices, summed over all entries of $W$:
#
# * **L2**: $R(W) = \sum W^2$; gradient $2W$. It prefers many small weights: with
#   $x = (1, 1, 1, 1)$, the weights $w_1 = (1, 0, 0, 0)$ and $w_2 = (0.25, 0.25, 0.25, 0.25)$
#   give the same score $w^\top x = 1$, but L2 charges $w_1$ a penalty of 1 and $w_2$ only
#   0.25: it likes the weights that spread over all the inputs.
# * **L1**: $R(W) = \sum |W|$; gradient $\operatorname{sign}(W)$ (0 where $W = 0$, a valid
#   choice at the kink). Both weights above cost 1; L1 tends to drive many weights to
#   exactly zero, a **sparse** model.
# * **Elastic net**: $R(W) = \sum \big(\beta W^2 + |W|\big)$, a mix of the two.
#
# Why bother? To express a preference between models that fit equally well, to prefer
# **simpler** models that generalise better to new data (avoid **overfitting**), and to
# help optimisation: the L2 term adds curvature, so the loss surface has a unique, better
# conditioned minimum. (Hence the regularisation term in every loss above.)
#
# Other regularisers you will meet with neural networks work through the training
# procedure rather than a penalty: **dropout** (randomly zero activations during
# training), **batch normalisation** (normalise with the statistics of a random minibatch),
# data augmentation such as **cutout** (blank out a random patch of the image) and
# **mixup** (train on blends of two images and their labels), and **stochastic depth**
# (skip random layers of a deep network during training).
#
# ### Exercise 6: the penalties and their gradients
#
# Each function returns `(R, dR)`: the penalty as a float and its gradient, shaped like `W`.
# They work for a `W` of any shape.

# %% solution="regularization"
def l2_penalty(W: np.ndarray) -> tuple[float, np.ndarray]:
    """R(W) = Σ W², dR/dW = 2W."""
    ### BEGIN SOLUTION
    return float(np.sum(W * W)), 2 * W
    ### END SOLUTION


def l1_penalty(W: np.ndarray) -> tuple[float, np.ndarray]:
    """R(W) = Σ |W|, dR/dW = sign(W), which is 0 where W = 0."""
    ### BEGIN SOLUTION
    R = np.sum(np.abs(W))
    dR = np.sign(W)
    return float(R), dR
    ### END SOLUTION


def elastic_net_penalty(W: np.ndarray, beta: float) -> tuple[float, np.ndarray]:
    """R(W) = Σ (β W² + |W|), dR/dW = 2βW + sign(W)."""
    ### BEGIN SOLUTION
    R = beta * np.sum(W**2) + np.abs(W).sum()
    return float(R), 2 * beta * W + np.sign(W)
    ### END SOLUTION


# %% tests="test_regularization" points=2
# Visible tests: the two weight vectors of the example above.
w1, w2 = np.array([1.0, 0.0, 0.0, 0.0]), np.array([0.25, 0.25, 0.25, 0.25])
for name, fn in [("l2_penalty", l2_penalty), ("l1_penalty", l1_penalty),
                 ("elastic_net_penalty", lambda W: elastic_net_penalty(W, 0.5))]:
    w = np.array([0.5, -1.5, 2.0])
    fn(w)
    cu.check_close(w, [0.5, -1.5, 2.0], f"W after calling {name}",
                   hint="your function wrote into W (W *= 2): return a new array, such as 2 * W")
cu.check_close(l2_penalty(w1)[0], 1.0, "l2_penalty(w1)")
cu.check_close(l2_penalty(w2)[0], 0.25, "l2_penalty(w2)", hint="square every entry, then sum")
cu.check_close(l1_penalty(w1)[0], 1.0, "l1_penalty(w1)")
cu.check_close(l1_penalty(w2)[0], 1.0, "l1_penalty(w2)", hint="sum the absolute values")
cu.check_close(l1_penalty(-w2)[0], 1.0, "l1_penalty(−w2)", hint="absolute values: negative weights cost too")
cu.check_close(elastic_net_penalty(w2, 0.5)[0], 0.5 * 0.25 + 1.0, "elastic_net_penalty(w2, beta=0.5)")
cu.check_close(elastic_net_penalty(np.array([1.0, -1.0]), 0.5)[0], 0.5 * 2 + 2, "elastic_net_penalty([1, −1], 0.5)",
               hint="Σ|W| is the sum of the absolute values of the entries, not the absolute value of their sum")
cu.check_close(l2_penalty(w2)[1], 2 * w2, "dR of l2_penalty(w2)", hint="the derivative of w² is 2w")
cu.check_close(elastic_net_penalty(w2, 0.5)[1], 2 * 0.5 * w2 + 1, "dR of elastic_net_penalty(w2, beta=0.5)",
               hint="the derivative of βw² + |w| is 2βw + sign(w): β multiplies the gradient too")
cu.check_close(l1_penalty(np.array([0.0, -2.0, 3.0]))[1], [0.0, -1.0, 1.0], "dR of l1_penalty at (0, −2, 3)",
               hint="the derivative of |w| is sign(w): ±1, whatever the size of w (np.sign gives 0 at 0)")
rng = np.random.default_rng(5)
W_r = rng.standard_normal((3, 4))
for name, fn in [("l2_penalty", l2_penalty), ("l1_penalty", l1_penalty),
                 ("elastic_net_penalty", lambda W: elastic_net_penalty(W, 0.3))]:
    R, dR = fn(W_r)
    cu.check_shape(dR, W_r.shape, f"dR of {name}", hint="the gradient has the shape of W")
    cu.check_gradient(lambda W: fn(W)[0], W_r, dR, name=f"dR of {name}")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call, report_gradient

_rng = hidden_rng(2029)
_W = _rng.standard_normal((4, 6)) * 2
report_call("l2_penalty on unseen weights; W left unchanged", l2_penalty, _W.copy(), rtol=1e-9)
report_call("l1_penalty on unseen weights; W left unchanged", l1_penalty, _W.copy(), rtol=1e-9)
report_call("elastic_net_penalty on unseen weights; W left unchanged", elastic_net_penalty, _W.copy(), 0.7, rtol=1e-9)
report("elastic_net_penalty with beta = 0 is l1", lambda: elastic_net_penalty(_W.copy(), 0.0), rtol=1e-9)
report("elastic_net_penalty with zero entries",
       lambda: elastic_net_penalty(np.array([[0.0, 1.5], [-0.5, 0.0]]), 2.5), rtol=1e-9)
report("l1_penalty with zero entries", lambda: l1_penalty(np.array([[0.0, 1.5], [-0.5, 0.0]])), rtol=1e-9)
report_gradient("l2 gradient (reference and numerical)", lambda W: l2_penalty(W)[0], lambda W: l2_penalty(W)[1],
                _W, rtol=1e-9, numeric_tol=1e-6)
report_gradient("l1 gradient (reference and numerical)", lambda W: l1_penalty(W)[0], lambda W: l1_penalty(W)[1],
                _W, rtol=1e-9, numeric_tol=1e-6)
report_gradient("elastic-net gradient (reference and numerical)", lambda W: elastic_net_penalty(W, 0.7)[0],
                lambda W: elastic_net_penalty(W, 0.7)[1], _W, rtol=1e-9, numeric_tol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Training on Fashion-MNIST with minibatch SGD
#
# Now the losses meet real images. We load Fashion-MNIST (55,000 training and 5,000
# validation images of $28 \times 28$ pixels, notebook 01), scale the pixels to $[0, 1]$,
# subtract the mean training image (centred inputs make gradient descent better behaved),
# and apply the bias trick: a column of ones, so $D = 784 + 1$. We use float32, which
# halves memory and time with no loss of accuracy for this model.

# %%
X_train_raw, y_train = cu.load_fashion_mnist("train", flatten=True)
X_val_raw, y_val = cu.load_fashion_mnist("val", flatten=True)
mean_image = X_train_raw.mean(axis=0, dtype=np.float32) / 255  # (784,)


def preprocess(X_raw: np.ndarray) -> np.ndarray:
    """uint8 pixels (N, 784) -> centred float32 features with a bias column, (N, 785)."""
    X = X_raw.astype(np.float32) / 255 - mean_image
    return np.hstack([X, np.ones((len(X), 1), dtype=np.float32)])


X_train, X_val = preprocess(X_train_raw), preprocess(X_val_raw)
print("X_train:", X_train.shape, X_train.dtype, " X_val:", X_val.shape)

# %% [markdown]
# **Stochastic gradient descent.** The gradient of $L(W)$ averages over all 55,000 images;
# a **minibatch** of a few hundred gives a noisy but far cheaper estimate of it, and many
# cheap steps beat few exact ones. Each step is
#
# $$ W \leftarrow W - \eta \, \nabla_W L_{\text{batch}}(W), $$
#
# with the **learning rate** $\eta$. An **epoch** is one pass over the training set in
# minibatches. Shuffle at the start of every epoch: datasets are often stored sorted (all
# T-shirts, then all trousers, ...), and minibatches drawn in that order would show the
# model one class at a time, so each step would undo the previous ones.
#
# ### Exercise 7: minibatch SGD
#
# Implement `train_linear_classifier`. The weights start small and random (given). For
# each epoch, draw a fresh order with `rng.permutation(N)`; walk through it in minibatches
# of `batch_size` (the last one may be smaller); for each, call
# `loss_fn(W, X_batch, y_batch, reg)`, take a step, and record the minibatch loss.
#
# Precisely, because the hidden tests replay your run step by step on small data and
# compare every recorded loss and the final $W$ with the reference's:
#
# * after the given start, the only draws from `rng` are one `rng.permutation(N)` at the
#   start of every epoch;
# * the minibatches of an epoch are `order[0:batch_size]`, `order[batch_size:2 * batch_size]`, ...;
# * record the loss that `loss_fn` returns for the minibatch at the current $W$ (before the
#   step), then step $W \leftarrow W - \eta\, dW$ with a constant learning rate;
# * leave `X` and `y` unchanged: index them with the minibatch's indices.

# %% solution="train_linear_classifier"
def train_linear_classifier(loss_fn: Callable[..., tuple[float, np.ndarray]], X: np.ndarray, y: np.ndarray,
                            num_classes: int, lr: float = 0.5, reg: float = 1e-4, epochs: int = 10,
                            batch_size: int = 200, seed: int = 0) -> tuple[np.ndarray, list[float]]:
    """Minibatch SGD on W: (C, D) for loss_fn(W, X, y, reg) -> (loss, dW).

    X: (N, D) with the bias column, y: (N,). Returns (W, losses), losses holding each minibatch's loss
    measured before that minibatch's step. One rng.permutation(N) per epoch orders the minibatches.
    """
    rng = np.random.default_rng(seed)
    W = 0.001 * rng.standard_normal((num_classes, X.shape[1])).astype(X.dtype)  # small random start
    losses = []
    ### BEGIN SOLUTION
    N = X.shape[0]
    for _ in range(epochs):
        order = rng.permutation(N)
        for start in range(0, N, batch_size):
            batch = order[start:start + batch_size]
            loss, dW = loss_fn(W, X[batch], y[batch], reg)
            W = W - lr * dW
            losses.append(loss)
    return W, losses
    ### END SOLUTION


# %% tests="test_train_linear_classifier" points=3
# Visible tests. They train with a loss defined right here, the squared error between the
# scores and one-hot targets (the least squares of notebook 01), so that they check your
# training loop and nothing else. The data: 5,000 training images sorted by class, as
# files often are.
def squared_error_loss(W, X, y, reg):
    """½ mean_i ‖s_i − onehot(y_i)‖² + reg·ΣW², and its gradient."""
    N = X.shape[0]
    diff = X @ W.T - np.eye(W.shape[0], dtype=X.dtype)[y]  # (N, C)
    return float(0.5 * np.sum(diff**2) / N + reg * np.sum(W * W)), diff.T @ X / N + 2 * reg * W


by_class = np.argsort(y_train[:5000], kind="stable")
X_sub, y_sub = X_train[:5000][by_class], y_train[:5000][by_class]
y_sub_before = y_sub.copy()
W_sub, losses_sub = train_linear_classifier(squared_error_loss, X_sub, y_sub, 10, lr=0.03, reg=1e-4,
                                            epochs=3, batch_size=100)
cu.check_equal(y_sub, y_sub_before, "the labels y after training",
               hint="training reordered the caller's X and y: shuffle an index array (order) and index with it")
cu.check_shape(W_sub, (10, 785), "W", hint="one row of weights per class: (num_classes, D)")
cu.check_equal(len(losses_sub), 3 * 50, "number of recorded losses",
               hint="record one loss per minibatch: 50 minibatches of 100 per epoch, 3 epochs")
cu.check_close(losses_sub[0], 0.5, "loss of the first minibatch", atol=0.02,
               hint="the weights start tiny, so all scores are about 0 and the first loss is about "
                    "½ · 1 = 0.5; record the loss BEFORE the step")
cu.check_equal(bool(np.mean(losses_sub[-10:]) < losses_sub[0]), True, "the loss falls during training",
               hint="step AGAINST the gradient: W ← W − lr · dW")
# The same images already mixed: one epoch is enough, if every image keeps its own label.
mixed = np.random.default_rng(7).permutation(5000)
W_mixed, _ = train_linear_classifier(squared_error_loss, X_sub[mixed], y_sub[mixed], 10, lr=0.03, epochs=1,
                                     batch_size=100)
accuracy_mixed = np.mean(np.argmax(X_val @ W_mixed.T, axis=1) == y_val)
cu.check_equal(bool(accuracy_mixed > 0.65), True, f"validation accuracy {accuracy_mixed:.3f} > 0.65 after one epoch "
               "on shuffled data", hint="index the images and the labels with the SAME minibatch indices: "
                                        "X[batch] and y[batch]")
accuracy_sub = np.mean(np.argmax(X_val @ W_sub.T, axis=1) == y_val)
print(f"validation accuracy after 3 epochs on 5,000 class-sorted images: {accuracy_sub:.3f}")
cu.check_equal(bool(accuracy_sub > 0.7), True, "validation accuracy above 0.7 after training on class-sorted data",
               hint="the data are sorted by class: draw a new order with rng.permutation(N) at the start of "
                    "EVERY epoch and walk through it")
cu.check_equal(bool(np.mean(losses_sub[-10:]) < 0.35), True, "mean of the last 10 losses is below 0.35",
               hint="record the loss of the current minibatch, and step with its gradient")
# Minibatches need not divide N: 5,000 in batches of 128 is 39 full ones and one of 8.
_, losses_128 = train_linear_classifier(squared_error_loss, X_sub, y_sub, 10, lr=0.03, epochs=1,
                                        batch_size=128)
cu.check_equal(len(losses_128), 40, "number of minibatches of 128 in 5,000 examples",
               hint="don't skip the last, smaller minibatch: range(0, N, batch_size)")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, hidden_seed, report, report_call


def _ce_loss(W, X, y, reg):
    # The grader's own loss, so this test depends on your training loop only.
    N = X.shape[0]
    S = X @ W.T
    S = S - S.max(axis=1, keepdims=True)
    P = np.exp(S)
    P /= P.sum(axis=1, keepdims=True)
    loss = -np.log(P[np.arange(N), y]).mean() + reg * np.sum(W * W)
    P[np.arange(N), y] -= 1
    return float(loss), P.T @ X / N + 2 * reg * W


# Full-batch steps on unseen data: the order within a batch cannot matter, so W is determined.
_rng = hidden_rng(2030)
_X = np.hstack([_rng.standard_normal((60, 7)), np.ones((60, 1))])
_y = _rng.integers(0, 4, size=60)
report("full-batch gradient descent with strong regularisation: W",
       lambda: train_linear_classifier(_ce_loss, _X, _y, 4, lr=0.3, reg=0.5, epochs=25, batch_size=60,
                                       seed=hidden_seed(2033))[0],
       rtol=1e-6, atol=1e-9)
report("full-batch gradient descent: the recorded losses",
       lambda: np.array(train_linear_classifier(_ce_loss, _X, _y, 4, lr=0.3, reg=0.0, epochs=12, batch_size=100,
                                                seed=hidden_seed(2034))[1], dtype=np.float64), rtol=1e-6)
report("number of minibatch losses (60 examples, batches of 16, 3 epochs)",
       lambda: len(train_linear_classifier(_ce_loss, _X, _y, 4, epochs=3, batch_size=16)[1]), kind="equal")


# The procedure, step by step: minibatches of 16 (the fourth has 12), 3 epochs. Every
# recorded loss (before its step) and the final W must match the reference's; X and y
# must come back unchanged. Catches a missing reshuffle, a loss recorded after the step,
# a skipped last minibatch, images and labels indexed differently.
def _steps(X, y):
    W, losses = train_linear_classifier(_ce_loss, X, y, 4, lr=0.2, reg=1e-3, epochs=3, batch_size=16,
                                        seed=hidden_seed(2031))
    return np.asarray(W, dtype=np.float64), np.asarray(losses, dtype=np.float64)


report_call("minibatch SGD step by step: W and every loss; X and y left unchanged", _steps, _X.copy(), _y.copy(),
            rtol=1e-7, atol=1e-12)

# Fashion-MNIST, training set sorted by class; judged on the test set, whose labels only
# the grader loads (autograde/judge/labels.py: "fashion_mnist_test").
_Xtr_raw, _ytr = cu.load_fashion_mnist("train", flatten=True)
_mean = _Xtr_raw.mean(axis=0, dtype=np.float32) / 255


def _features(raw):
    return np.hstack([raw.astype(np.float32) / 255 - _mean, np.ones((len(raw), 1), dtype=np.float32)])


def _test_predictions():
    order = np.argsort(_ytr, kind="stable")
    W, _ = train_linear_classifier(_ce_loss, _features(_Xtr_raw)[order], _ytr[order], 10, lr=0.5, reg=1e-4,
                                   epochs=10, batch_size=200, seed=hidden_seed(2032))
    X_test = _features(cu.load_fashion_mnist_images("test", flatten=True))
    return np.argmax(X_test @ np.asarray(W, dtype=np.float32).T, axis=1)


report("Fashion-MNIST test accuracy after training on class-sorted data", _test_predictions,
       metric="accuracy", labels="fashion_mnist_test", min={"cpu": 0.82, "gpu": 0.82})
### END HIDDEN TESTS

# %% [markdown]
# ### The whole training set
#
# Ten epochs over all 55,000 images take about a second. We train one classifier with each
# loss and compare them on the validation set (the test set stays untouched until the very
# end of a project: here the grader uses it).

# %%
with cu.needs_your_code():
    W_softmax, losses_softmax = train_linear_classifier(softmax_loss_vectorized, X_train, y_train, 10,
                                                        lr=0.5, reg=1e-4, epochs=10, batch_size=200)
    W_svm, losses_svm = train_linear_classifier(svm_loss_vectorized, X_train, y_train, 10,
                                                lr=0.1, reg=1e-4, epochs=10, batch_size=200)
    accuracy_softmax = np.mean(np.argmax(X_val @ W_softmax.T, axis=1) == y_val)
    accuracy_svm = np.mean(np.argmax(X_val @ W_svm.T, axis=1) == y_val)
    print(f"softmax  validation accuracy: {accuracy_softmax:.3f}\nSVM      validation accuracy: {accuracy_svm:.3f}")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    cu.plot_loss_curve(losses_softmax, ax=axes[0], smooth=50)
    axes[0].set_title("softmax cross-entropy per minibatch")
    cu.plot_loss_curve(losses_svm, ax=axes[1], smooth=50)
    axes[1].set_title("SVM loss per minibatch")
    plt.show()
    # The text's claims, computed.
    print(f"first minibatch losses: softmax {losses_softmax[0]:.3f} (log 10 = {np.log(10):.3f}), "
          f"SVM {losses_svm[0]:.3f} (C − 1 = 9)")
    assert abs(losses_softmax[0] - np.log(10)) < 0.05, "softmax should start at log 10"
    assert abs(losses_svm[0] - 9) < 0.1, "the SVM loss should start at C − 1 = 9"
    assert 0.82 < accuracy_softmax < 0.87, "the text says about 0.84"

# %% [markdown]
# Both curves start where sections 2 and 3 predicted for tiny weights: $C - 1 = 9$ for the
# SVM and $\log 10 \approx 2.3$ for softmax.
#
# For reference, logistic regression (a softmax classifier trained to convergence with a
# tuned $\lambda$) reaches about 0.84 on the Fashion-MNIST test set; ten epochs of plain
# SGD land right there on the validation set (between 0.82 and 0.87, asserted above; the
# grader measures yours on the test set).
#
# ### The learned templates
#
# Each row of $W$ (without its bias) is one template per class, shown as a
# $28 \times 28$ image: bright where a lit pixel raises the class's score, dark where it
# lowers it. Compare them with the least-squares templates of notebook 01.
#
# The regularisation strength changes what they look like. Below, the templates of the
# classifier above ($\lambda = 10^{-4}$) and of one trained with a 30 times stronger L2
# penalty.

# %%
with cu.needs_your_code():
    W_strong, _ = train_linear_classifier(softmax_loss_vectorized, X_train, y_train, 10,
                                          lr=0.5, reg=3e-3, epochs=10, batch_size=200)
    for reg, W in [(1e-4, W_softmax), (3e-3, W_strong)]:
        accuracy = np.mean(np.argmax(X_val @ W.T, axis=1) == y_val)
        cu.show_templates(W, (28, 28), class_names=cu.FASHION_MNIST_CLASSES)
        plt.suptitle(f"λ = {reg:g}: validation accuracy {accuracy:.3f}", y=1.1)
        plt.show()
    # The text's claims, computed: a little lower accuracy, and where the errors are.
    accuracy_strong = np.mean(np.argmax(X_val @ W_strong.T, axis=1) == y_val)
    assert accuracy_softmax - 0.05 < accuracy_strong < accuracy_softmax, "a little lower accuracy, says the text"
    pred_val = np.argmax(X_val @ W_softmax.T, axis=1)
    errors = pred_val != y_val
    upper_body = np.isin(y_val, [0, 2, 4, 6])  # T-shirt/top, pullover, coat, shirt
    share = np.mean(upper_body[errors])
    print(f"{share:.0%} of the validation errors (λ = 1e-4) are T-shirts, pullovers, coats or shirts")
    assert share > 0.5, "the text says most errors are there"

# %% [markdown]
# With the weak penalty the templates are speckled: the classifier uses any single pixel
# that helps on the training set. The strong penalty charges every large weight, so it
# spreads the weight over many neighbouring pixels and the templates turn smooth and
# readable: a T-shirt with short sleeves, trousers as two legs, pullover and coat with long
# sleeves, the low sneaker and the high ankle boot. Its validation accuracy is a little
# lower: with 55,000 training images this model hardly overfits, so the weaker penalty
# fits better. $\lambda$ is a **hyperparameter**, chosen on the validation set.
#
# Shirt, T-shirt, pullover and coat share one silhouette, and that is where most of the
# remaining errors are. One template per class is the limit of a linear classifier;
# the next notebooks stack layers to get past it.
#
# ## 7. Choosing the hyperparameters: random search
#
# We picked $\eta = 0.5$ and $\lambda = 10^{-4}$ by hand. The honest way to choose
# hyperparameters is to try several settings, train with each, and keep the one with the
# best **validation** accuracy (never the test set: choosing on it would make the test
# score optimistic).
#
# Two habits make the search efficient. **Search on a log scale**: a learning rate of
# 0.001 and one of 0.002 differ as much as 0.5 and 1; what matters is the order of
# magnitude, so we draw the *exponent* uniformly, $\eta = 10^{u}$ with
# $u \sim \mathcal{U}(\log_{10}\eta_{\min}, \log_{10}\eta_{\max})$. And **search at
# random rather than on a grid**: a $5 \times 5$ grid tries only five distinct learning
# rates, while 25 random trials try 25 of each hyperparameter, which pays when one of them
# matters much more than the other (Bergstra and Bengio, 2012). Each trial is cheap on
# purpose: two epochs on 10,000 images rank the settings well enough; only the winner is
# then trained on everything.
#
# **Question.** A search draws $\eta = 10^{u}$ with $u$ uniform in $[-3, 1]$ (learning
# rates from 0.001 to 10). About what fraction of its trials try a learning rate below
# 0.01? (a) 0.1 %; (b) 25 %; (c) 50 %. Set `log_scale_answer` to "a", "b" or "c".

# %% solution="choice_log_scale"
### BEGIN SOLUTION
log_scale_answer = "b"
### END SOLUTION

# %% tests="test_choice_log_scale" points=1
cu.check_choice(log_scale_answer, "abc", "log_scale_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", log_scale_answer)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 8: random search
#
# Implement `random_search`. It takes `train_and_evaluate(lr, reg) -> validation accuracy`
# and does not care how that trains. Precisely, because the hidden tests compare every
# trial with the reference's:
#
# * from the `rng` given, draw all learning-rate exponents at once,
#   `rng.uniform(np.log10(lr_range[0]), np.log10(lr_range[1]), size=num_trials)`, then
#   all regularisation exponents the same way from `reg_range`, and nothing else;
# * trial `i` uses `lr = 10 ** (its exponent)` and `reg` likewise; run the trials in order;
# * return `results`, an array of shape `(num_trials, 3)` whose row `i` is
#   `(lr, reg, accuracy)` of trial `i`, and `best`, the row index of the highest accuracy
#   (the first such row if several tie).

# %% solution="random_search"
def random_search(train_and_evaluate: Callable[[float, float], float], num_trials: int,
                  lr_range: tuple[float, float], reg_range: tuple[float, float],
                  seed: int = 0) -> tuple[np.ndarray, int]:
    """Random search over (lr, reg) on a log scale.

    Returns (results, best): results (num_trials, 3) with rows (lr, reg, accuracy) in trial order,
    best the index of the row with the highest accuracy (the first on a tie).
    """
    rng = np.random.default_rng(seed)
    ### BEGIN SOLUTION
    log_lrs = rng.uniform(np.log10(lr_range[0]), np.log10(lr_range[1]), size=num_trials)
    log_regs = rng.uniform(np.log10(reg_range[0]), np.log10(reg_range[1]), size=num_trials)
    results = np.zeros((num_trials, 3))
    for i in range(num_trials):
        lr, reg = 10.0 ** log_lrs[i], 10.0 ** log_regs[i]
        results[i] = lr, reg, train_and_evaluate(lr, reg)
    return results, int(np.argmax(results[:, 2]))
    ### END SOLUTION


# %% tests="test_random_search" points=2
# Visible tests, with a stand-in for training: a smooth "accuracy" that peaks at
# lr = 0.1, reg = 1e-4, so that the tests check the search and nothing else.
calls = []


def toy_accuracy(lr, reg):
    calls.append((lr, reg))
    return 1.0 - 0.05 * (np.log10(lr) + 1) ** 2 - 0.02 * (np.log10(reg) + 4) ** 2


toy_results, toy_best = random_search(toy_accuracy, 200, (1e-3, 10.0), (1e-6, 1e-2), seed=0)
cu.check_shape(toy_results, (200, 3), "results", hint="one row (lr, reg, accuracy) per trial")
cu.check_equal(len(calls), 200, "number of calls to train_and_evaluate", hint="call it once per trial")
lrs, regs = toy_results[:, 0], toy_results[:, 1]
cu.check_equal(bool(np.all((lrs >= 1e-3) & (lrs <= 10.0)) and np.all((regs >= 1e-6) & (regs <= 1e-2))), True,
               "every lr in [1e-3, 10] and every reg in [1e-6, 1e-2]",
               hint="draw the EXPONENT between log10 of the bounds, then take 10 ** exponent")
# On a log scale, half the draws of lr in [1e-3, 10] fall below 0.1 (exponents −3 to −1 of −3 to 1).
below = np.mean(lrs < 0.1)
cu.check_equal(bool(0.35 < below < 0.65), True, f"fraction of learning rates below 0.1 ({below:.2f}) near 0.5",
               hint="sample on a LOG scale: a uniform draw of lr itself puts 99 % of them above 0.1")
cu.check_close(toy_results[:, :2], np.array(calls), "columns lr and reg of results vs. the calls made",
               hint="row i holds the lr and reg that trial i passed to train_and_evaluate, in that order")
cu.check_close(toy_results[:, 2], [1.0 - 0.05 * (np.log10(a) + 1) ** 2 - 0.02 * (np.log10(b) + 4) ** 2
                                   for a, b in toy_results[:, :2]], "the accuracy column",
               hint="store what train_and_evaluate(lr, reg) returned for the lr and reg of that row")
cu.check_equal(toy_best, int(np.argmax(toy_results[:, 2])), "best",
               hint="best is the index of the HIGHEST accuracy (np.argmax), not the lowest or the last")
cu.check_equal(random_search(lambda lr, reg: 0.5, 4, (1e-3, 1.0), (1e-6, 1e-2))[1], 0,
               "best when every trial ties", hint="on a tie keep the first trial (np.argmax does)")
again, _ = random_search(toy_accuracy, 200, (1e-3, 10.0), (1e-6, 1e-2), seed=0)
cu.check_close(again, toy_results, "results of a second search with the same seed", rtol=0,
               hint="draw only from rng = np.random.default_rng(seed), never from np.random's global state")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_seed, report


def _accuracy(lr, reg):
    # The grader's stand-in for training: bumpy in lr, so a search is needed to find the top.
    return float(0.8 + 0.1 * np.cos(2.5 * np.log10(lr)) - 0.01 * (np.log10(reg) + 3) ** 2)


report("every trial (lr, reg, accuracy) on unseen ranges",
       lambda: random_search(_accuracy, 25, (1e-4, 3.0), (1e-7, 1e-1), seed=hidden_seed(2040))[0], rtol=1e-9)
report("the best trial's index", lambda: random_search(_accuracy, 25, (1e-4, 3.0), (1e-7, 1e-1),
                                                     seed=hidden_seed(2040))[1], kind="equal")
report("another seed and other ranges",
       lambda: random_search(_accuracy, 7, (0.01, 0.02), (1e-3, 1.0), seed=hidden_seed(2041))[0], rtol=1e-9)
report("ties keep the first best trial",
       lambda: random_search(lambda lr, reg: float(lr > 0.01), 30, (1e-4, 1.0), (1e-5, 1e-3),
                             seed=hidden_seed(2042))[1], kind="equal")
report("one trial", lambda: random_search(_accuracy, 1, (1e-3, 1.0), (1e-4, 1e-4), seed=hidden_seed(2043))[0],
       rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# Now the real thing: 20 trials, each two epochs of softmax training on 10,000 training
# images, scored on the validation set. Each dot below is one trial, placed by its
# (log) learning rate and regularisation strength and coloured by its validation accuracy;
# the star is the best.

# %%
X_search, y_search = X_train[:10000], y_train[:10000]


def train_and_evaluate(lr: float, reg: float) -> float:
    """Two epochs of softmax training on 10,000 images; validation accuracy."""
    W, _ = train_linear_classifier(softmax_loss_vectorized, X_search, y_search, 10, lr=lr, reg=reg,
                                   epochs=2, batch_size=200)
    return float(np.mean(np.argmax(X_val @ W.T, axis=1) == y_val))


with cu.needs_your_code():
    search, best = random_search(train_and_evaluate, 20, lr_range=(1e-3, 10.0), reg_range=(1e-6, 1e-2), seed=0)
    best_lr, best_reg, best_accuracy = search[best]
    fig, ax = plt.subplots(figsize=(6, 4.2))
    dots = ax.scatter(np.log10(search[:, 0]), np.log10(search[:, 1]), c=search[:, 2], cmap="viridis", s=60,
                      edgecolors="k", linewidths=0.4)
    ax.scatter(np.log10(best_lr), np.log10(best_reg), marker="*", s=300, c="none", edgecolors="C3", linewidths=1.5)
    fig.colorbar(dots, label="validation accuracy")
    ax.set(xlabel=r"$\log_{10}$ learning rate", ylabel=r"$\log_{10}$ regularisation strength",
           title=f"random search: best lr = {best_lr:.2g}, reg = {best_reg:.1g} ({best_accuracy:.3f})")
    plt.show()
    # The text's claims, computed.
    small_lr = search[:, 0] < 0.01
    print(f"{small_lr.sum()} trials with lr < 0.01: best accuracy {search[small_lr, 2].max():.3f}; "
          f"the others: {search[~small_lr, 2].min():.3f} to {search[~small_lr, 2].max():.3f}")
    assert small_lr.any() and search[small_lr, 2].max() < 0.7, "every trial with lr < 0.01 should stay below 0.70"
    assert best_lr >= 0.1 and best_accuracy > 0.8, "the best trial should have lr >= 0.1 and accuracy above 0.8"

# %% [markdown]
# The picture is mostly a story about the learning rate. Every trial with $\eta < 0.01$ stays
# below 0.70 (asserted above): two epochs of such small steps leave the model far from
# trained. Above $\eta = 0.1$ the accuracies bunch together near the top, and the
# regularisation strength matters much less in this range: that is why random search beats
# a grid here, since it spends every trial on a new learning rate. The top trials differ by
# less than the noise of a two-epoch run, so the winner is *a* good setting, not *the*
# best one. Trained on all the data, it should land close to the setting we chose by hand.

# %%
with cu.needs_your_code():
    W_best, _ = train_linear_classifier(softmax_loss_vectorized, X_train, y_train, 10, lr=best_lr, reg=best_reg,
                                        epochs=10, batch_size=200)
    accuracy_best = np.mean(np.argmax(X_val @ W_best.T, axis=1) == y_val)
    print(f"the search's choice, trained on all 55,000 images for 10 epochs: validation accuracy "
          f"{accuracy_best:.3f}")
    print(f"the hand-picked lr = 0.5, reg = 1e-4 (section 6): {accuracy_softmax:.3f}")
    assert abs(accuracy_best - accuracy_softmax) < 0.02, "the search's choice should land within 2 points"

# %% tests="test_best_model" points=2
# Visible test: the model trained with the search's best setting (the cell above).
cu.check_equal(bool(accuracy_best > 0.8), True, f"validation accuracy of W_best ({accuracy_best:.3f}) above 0.8",
               hint="run the two cells above; if the search picked a poor setting, check that best is the "
                    "index of the HIGHEST accuracy")
print("Visible test passed; the grader measures W_best on the test set.")
### BEGIN HIDDEN TESTS
from autograde.probe import report

# Judged on the test set, whose labels only the grader loads (autograde/judge/labels.py).
_X_test = preprocess(cu.load_fashion_mnist_images("test", flatten=True))
report("Fashion-MNIST test accuracy of the model chosen by random search",
       lambda: np.argmax(_X_test @ np.asarray(W_best, dtype=np.float32).T, axis=1),
       metric="accuracy", labels="fashion_mnist_test", min={"cpu": 0.8, "gpu": 0.8})
### END HIDDEN TESTS

# %% [markdown]
# ## Summary
#
# * A loss measures how bad $W$ is: $L = \frac{1}{N} \sum_i L_i + \lambda R(W)$.
# * Multiclass SVM: $\sum_{j \ne y_i} \max(0, s_j - s_{y_i} + 1)$, zero once every margin is met.
# * Softmax cross-entropy: $-\log$ of the correct class's probability; start at $\log C$;
#   compute it from max-shifted scores; its gradient is $P - \text{onehot}(y)$.
# * L2, L1 and elastic-net penalties prefer simpler weights; dropout, batch norm, cutout,
#   mixup and stochastic depth regularise networks in other ways.
# * Vectorised code runs the same few lines of Python whatever the batch, where loops run
#   theirs once per example, so it is much faster, and it computes the same numbers: write
#   the loop first, then check the fast version against it.
# * Minibatch SGD with shuffling trains a linear classifier on Fashion-MNIST to about 84 %
#   in seconds.
# * Hyperparameters are chosen on the validation set; random search on a log scale tries
#   a new value of every hyperparameter in each trial.
