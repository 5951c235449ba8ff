# %% [markdown]
# # 01b · k-nearest neighbours and cross-validation
#
# Before we learn any weights at all, here is a classifier that learns nothing: it
# **remembers** the training images, and labels a new image like the training images that
# look most like it. This **k-nearest-neighbour** (kNN) classifier is worth building for
# three reasons. It is a real baseline (about 80 % on Fashion-MNIST from 5,000 images);
# computing its distances fast is the best first exercise in thinking with whole arrays;
# and it has a *hyperparameter*, $k$, which we cannot learn from the training data and must
# choose honestly, by **cross-validation**.
#
# You will implement: `compute_distances_two_loops`, `compute_distances_one_loop`,
# `compute_distances_no_loops`, `predict_labels`, `cross_validate_k` and `choose_k`.
#
# **Precision and side effects.** The images are float64 and the hidden tests compare your
# distances with the reference's to about $10^{-9}$ (any correct formula passes;
# converting to float32 does not). Leave your arguments unchanged: the hidden tests call
# every function twice on the same arrays to see it.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from threadpoolctl import threadpool_limits

import course_utils as cu

cu.seed_everything(0)
# Our matrix products are a few thousand rows at most: one BLAS thread is as fast as several
# here, and the timings below are steadier with one.
blas_threads = threadpool_limits(1, user_api="blas")

# %% [markdown]
# ## 1. The nearest-neighbour classifier
#
# A kNN classifier has two steps, and only the second does any work:
#
# * **train**: store the $N$ training images $x_1, \dots, x_N$ and their labels;
# * **predict** the label of a test image $x$: find the $k$ training images closest to $x$
#   and take a **majority vote** of their labels.
#
# "Closest" needs a distance between two images. Flatten each $28 \times 28$ image into a
# vector of $D = 784$ pixel values; two common choices are
#
# $$ d_1(a, b) = \sum_{p=1}^{D} |a_p - b_p| \quad \text{(L1, Manhattan)}, \qquad
#    d_2(a, b) = \sqrt{\sum_{p=1}^{D} (a_p - b_p)^2} \quad \text{(L2, Euclidean)}. $$
#
# We use L2 throughout. Neither knows anything about images: a shirt moved two pixels to
# the right is, pixel by pixel, far from the same shirt unmoved. That is the weakness that
# the convolutional networks of notebook 05 were built to fix.
#
# **The data.** A fixed part of Fashion-MNIST: the first 5,000 images of the course's
# training split for training, and the first 500 of its validation split as held-out
# images, pixel values scaled to $[0, 1]$ as float64. The classes are roughly balanced.

# %%
X_train_raw, y_train_all = cu.load_fashion_mnist("train", flatten=True)
X_val_raw, y_val_all = cu.load_fashion_mnist("val", flatten=True)
X_train, y_train = X_train_raw[:5000].astype(np.float64) / 255, y_train_all[:5000]  # (5000, 784), (5000,)
X_val, y_val = X_val_raw[:500].astype(np.float64) / 255, y_val_all[:500]  # (500, 784), (500,)
del X_train_raw, X_val_raw
print(f"training: {X_train.shape} {X_train.dtype}, held out: {X_val.shape}")
print("training images per class:", np.bincount(y_train, minlength=10))
assert np.bincount(y_train, minlength=10).min() > 0.8 * np.bincount(y_train).max(), "the text says roughly balanced"
cu.show_images(X_train[:10].reshape(-1, 28, 28), y_train[:10], class_names=cu.FASHION_MNIST_CLASSES, ncols=10)
plt.show()

# %% [markdown]
# ## 2. Distances, three ways
#
# Prediction needs the distance from every test image to every training image: a matrix
# `dists` of shape $(N_\text{test}, N_\text{train})$ with
# `dists[i, j]` $= d_2(\text{test}_i, \text{train}_j)$. We compute it three times, each
# time with one Python loop fewer: first to get it right, then to see what vectorising buys.
#
# ### Exercise 1: two loops
#
# One loop over the test images, one over the training images; each pair's distance is
# one line of NumPy on two vectors of 784 pixels.

# %% solution="compute_distances_two_loops"
def compute_distances_two_loops(X_test: np.ndarray, X_train: np.ndarray) -> np.ndarray:
    """dists[i, j] = ‖X_test[i] − X_train[j]‖₂, with a loop over i and a loop over j.

    X_test: (N_test, D), X_train: (N_train, D). Returns dists: (N_test, N_train).
    """
    ### BEGIN SOLUTION
    dists = np.zeros((X_test.shape[0], X_train.shape[0]))
    for i in range(X_test.shape[0]):
        for j in range(X_train.shape[0]):
            dists[i, j] = np.sqrt(np.sum((X_test[i] - X_train[j]) ** 2))
    return dists
    ### END SOLUTION


# %% tests="test_compute_distances_two_loops" points=1
# Visible tests. By hand: three training points and two test points in 2-D.
# (0, 0) to (3, 4) is the 3-4-5 triangle; (0, 0) to (1, 1) is √2; (3, 0) to (1, 1) is √(4 + 1) = √5.
P_train = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
P_test = np.array([[0.0, 0.0], [3.0, 0.0]])
expected_hand = np.array([[0.0, 5.0, np.sqrt(2)], [3.0, 4.0, np.sqrt(5)]])
d_hand = compute_distances_two_loops(P_test, P_train)
cu.check_shape(d_hand, (2, 3), "compute_distances_two_loops(P_test, P_train)",
               hint="one row per TEST point, one column per TRAINING point: dists[i, j]")
cu.check_close(d_hand, expected_hand, "distances of the hand example", rtol=1e-9,
               hint="L2 is the square ROOT of the sum of SQUARED differences: np.sqrt(np.sum((a - b) ** 2))")
# Real images, against an independent computation (all pairs at once, with broadcasting).
oracle = np.sqrt(((X_val[:4, None, :] - X_train[None, :15, :]) ** 2).sum(axis=2))  # (4, 15)
cu.check_close(compute_distances_two_loops(X_val[:4], X_train[:15]), oracle, "distances between real images",
               rtol=1e-9)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(101)
_A, _B = _rng.standard_normal((7, 6)), _rng.standard_normal((11, 6))
report_call("unseen points; arguments left unchanged", compute_distances_two_loops, _A.copy(), _B.copy(), rtol=1e-9)
report("more test points than training points", lambda: compute_distances_two_loops(_B, _A), rtol=1e-9)
_i, _j = _rng.choice(len(X_val), size=3, replace=False), _rng.choice(len(X_train), size=20, replace=False)
report("real images", lambda: compute_distances_two_loops(X_val[_i].copy(), X_train[_j].copy()), rtol=1e-9)
report("one test point, one training point", lambda: compute_distances_two_loops(_A[:1], _B[:1]), rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: one loop
#
# Drop the inner loop: for test image $i$, `X_train - X_test[i]` subtracts it from every
# training image at once (broadcasting a $(D,)$ vector against an $(N_\text{train}, D)$
# matrix). Square, sum along the pixel axis, take the root: one whole row of `dists`.

# %% solution="compute_distances_one_loop"
def compute_distances_one_loop(X_test: np.ndarray, X_train: np.ndarray) -> np.ndarray:
    """dists[i, j] = ‖X_test[i] − X_train[j]‖₂, one loop over the test images (a whole row at a time).

    X_test: (N_test, D), X_train: (N_train, D). Returns dists: (N_test, N_train).
    """
    ### BEGIN SOLUTION
    dists = np.zeros((X_test.shape[0], X_train.shape[0]))
    for i in range(X_test.shape[0]):
        dists[i] = np.sqrt(np.sum((X_train - X_test[i]) ** 2, axis=1))  # (N_train,)
    return dists
    ### END SOLUTION


# %% tests="test_compute_distances_one_loop" points=1
d_hand = compute_distances_one_loop(P_test, P_train)
cu.check_shape(d_hand, (2, 3), "compute_distances_one_loop(P_test, P_train)",
               hint="one row per TEST point, one column per TRAINING point")
cu.check_close(d_hand, expected_hand, "distances of the hand example", rtol=1e-9,
               hint="square the differences, sum them along the PIXEL axis (axis=1), then take the square root; "
                    "squaring after the sum gives (Σ (a − b))², which is not a distance")
cu.check_close(compute_distances_one_loop(X_val[:4], X_train[:15]), oracle, "distances between real images",
               rtol=1e-9)
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(102)
_A, _B = _rng.standard_normal((7, 6)), _rng.standard_normal((11, 6))
report_call("unseen points; arguments left unchanged", compute_distances_one_loop, _A.copy(), _B.copy(), rtol=1e-9)
report("more test points than training points", lambda: compute_distances_one_loop(_B, _A), rtol=1e-9)
_i, _j = _rng.choice(len(X_val), size=5, replace=False), _rng.choice(len(X_train), size=60, replace=False)
report("real images", lambda: compute_distances_one_loop(X_val[_i].copy(), X_train[_j].copy()), rtol=1e-9)
report("one feature per point", lambda: compute_distances_one_loop(_A[:, :1], _B[:, :1]), rtol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3: no loops
#
# Expand the square. For a test image $a$ and a training image $b$,
#
# $$ \lVert a - b \rVert^2 = \sum_p (a_p - b_p)^2 = \lVert a \rVert^2 - 2\, a \cdot b + \lVert b \rVert^2 . $$
#
# All three terms come for every pair at once: the squared norms of the test images as a
# column $(N_\text{test}, 1)$, the squared norms of the training images as a row
# $(1, N_\text{train})$, and all the dot products in one matrix product,
# `X_test @ X_train.T`, of shape $(N_\text{test}, N_\text{train})$. Broadcasting adds the
# column and the row to the matrix.
#
# **One trap.** In exact arithmetic the sum is never negative. In floating point, for two
# nearly identical images it is the difference of large, nearly equal numbers, and the
# rounding can leave something like $-10^{-14}$; `np.sqrt` of that is `nan`. Clip the
# squared distances at 0 (`np.maximum(..., 0)`) *before* the square root.

# %% solution="compute_distances_no_loops"
def compute_distances_no_loops(X_test: np.ndarray, X_train: np.ndarray) -> np.ndarray:
    """dists[i, j] = ‖X_test[i] − X_train[j]‖₂ from ‖a‖² − 2a·b + ‖b‖², clipped at 0 before the root; no loops.

    X_test: (N_test, D), X_train: (N_train, D). Returns dists: (N_test, N_train).
    """
    ### BEGIN SOLUTION
    test_sq = np.sum(X_test**2, axis=1)[:, None]  # (N_test, 1)
    train_sq = np.sum(X_train**2, axis=1)[None, :]  # (1, N_train)
    squared = test_sq - 2 * X_test @ X_train.T + train_sq  # (N_test, N_train)
    return np.sqrt(np.maximum(squared, 0.0))
    ### END SOLUTION


# %% tests="test_compute_distances_no_loops" points=2
d_hand = compute_distances_no_loops(P_test, P_train)
cu.check_shape(d_hand, (2, 3), "compute_distances_no_loops(P_test, P_train)",
               hint="the test norms go in a COLUMN (N_test, 1), the training norms in a ROW (1, N_train)")
cu.check_close(d_hand, expected_hand, "distances of the hand example", rtol=1e-9, atol=1e-12,
               hint="‖a − b‖² = ‖a‖² − 2 a·b + ‖b‖²: mind the factor 2 and the minus sign, "
                    "and take the square root at the end")
# Twenty real images against themselves: the diagonal is the distance of each image to itself.
d_self = compute_distances_no_loops(X_val[:20], X_val[:20])
cu.check_equal(int(np.isnan(d_self).sum()), 0, "number of NaN distances between 20 images and themselves",
               hint="rounding made some squared distances slightly negative: clip them at 0 with "
                    "np.maximum(squared, 0) BEFORE np.sqrt")
cu.check_close(np.diag(d_self), np.zeros(20), "distance of each image to itself", atol=1e-6)
cu.check_close(compute_distances_no_loops(X_val[:4], X_train[:15]), oracle, "distances between real images",
               rtol=1e-7, atol=1e-6)
# No loops: as many lines of Python for 5 times the test points, 4 times the training points and 3 times the pixels.
# (Lines are counted, not seconds: the count is the same on every machine, however busy.)
lines_small, lines_large = cu.check_vectorised(
    compute_distances_no_loops, (X_val[:6, :200], X_train[:25, :200]), (X_val[:30, :600], X_train[:100, :600]),
    "compute_distances_no_loops", grew="the test points, the training points and the pixels",
    hint="a Python loop over the test points (or the training points) runs its body once per point: "
         "get all the dot products at once with X_test @ X_train.T and broadcast the two norms")
print(f"compute_distances_no_loops ran {lines_small} lines of Python on 6 x 25 points and {lines_large} on 30 x 100")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(103)
_A, _B = _rng.standard_normal((7, 6)), _rng.standard_normal((11, 6))
report_call("unseen points; arguments left unchanged", compute_distances_no_loops, _A.copy(), _B.copy(), rtol=1e-9)
report("more test points than training points", lambda: compute_distances_no_loops(_B, _A), rtol=1e-9)
# Test points that are copies of training points (64 features): rounding makes about a third of
# the squared distances of the copies slightly negative, so a missing clip shows as NaN.
_C = _rng.standard_normal((60, 64))
report("test points that are training points (distance 0, never NaN)",
       lambda: compute_distances_no_loops(_C[:40].copy(), _C.copy()), rtol=1e-9, atol=1e-6)
_i, _j = _rng.choice(len(X_val), size=30, replace=False), _rng.choice(len(X_train), size=300, replace=False)
report("real images", lambda: compute_distances_no_loops(X_val[_i].copy(), X_train[_j].copy()), rtol=1e-9,
       atol=1e-6)
report("one feature per point", lambda: compute_distances_no_loops(_A[:, :1], _B[:, :1]), rtol=1e-9, atol=1e-7)
from course_utils.loops import is_vectorised

# Lines of Python run, not seconds: the same on every machine however busy it is.
_small = (_rng.standard_normal((7, 50)), _rng.standard_normal((11, 50)))
_large = (_rng.standard_normal((41, 150)), _rng.standard_normal((53, 150)))


report("no Python loop: as many lines of Python for more points",
       lambda: is_vectorised(compute_distances_no_loops, _small, _large), kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# ### Do they agree, and what did vectorising buy?
#
# The three versions must give the same matrix up to rounding (the expanded formula rounds
# differently from the direct one, but by far less than $10^{-9}$ here). Then we count the
# lines of Python each runs on the same small problem, 100 test images against 500
# training images, with `cu.python_lines` (lines inside NumPy count nothing), and time
# them: the two-loop version makes 50,000 tiny NumPy calls, too slow to run on anything
# larger.

# %%
with cu.needs_your_code():
    small_test, small_train = X_val[:100], X_train[:500]
    start = time.perf_counter()
    d_two = compute_distances_two_loops(small_test, small_train)  # timed once: it is the slow one
    times = {"two loops": time.perf_counter() - start,
             "one loop": cu.best_time(lambda: compute_distances_one_loop(small_test, small_train)),
             "no loops": cu.best_time(lambda: compute_distances_no_loops(small_test, small_train))}
    d_one = compute_distances_one_loop(small_test, small_train)
    d_none = compute_distances_no_loops(small_test, small_train)
    diff_one, diff_none = np.abs(d_one - d_two).max(), np.abs(d_none - d_two).max()
    print(f"largest difference from the two-loop version: one loop {diff_one:.1e}, no loops {diff_none:.1e}")
    assert diff_one < 1e-9 and diff_none < 1e-9, "the three versions should agree to 1e-9; see the tests above"
    lines = {"two loops": cu.python_lines(compute_distances_two_loops, small_test, small_train)[1],
             "one loop": cu.python_lines(compute_distances_one_loop, small_test, small_train)[1],
             "no loops": cu.python_lines(compute_distances_no_loops, small_test, small_train)[1]}
    for name, seconds in times.items():
        print(f"{name:>9}: {lines[name]:7,d} lines of Python, {1e3 * seconds:8.2f} ms for 100 x 500 distances")
    print(f"no loops was {times['two loops'] / times['no loops']:.0f}x faster than two loops on this machine, now")
    lines_full = cu.python_lines(compute_distances_no_loops, X_val, X_train)[1]
    t_full = cu.best_time(lambda: compute_distances_no_loops(X_val, X_train), repeats=1)
    print(f"no loops, all 500 x 5,000 distances: {lines_full} lines of Python, {1e3 * t_full:.0f} ms")
    # What the text below says, in lines of Python: the same on every machine, unlike the seconds.
    assert lines["two loops"] >= 100 * 500, f"two loops should run a line per pair, it ran {lines['two loops']}"
    assert 100 <= lines["one loop"] < 100 * 500, f"one loop should run a line per test image, it ran {lines['one loop']}"
    assert cu.lines_stay_flat(lines["no loops"], lines_full), (
        f"no loops ran {lines['no loops']} lines on 100 x 500 and {lines_full} on 500 x 5,000: the count should not grow")

    plt.figure(figsize=(5, 3.2))
    plt.bar(list(times), [1e3 * s for s in times.values()], color=["C3", "C1", "C2"])
    plt.yscale("log")
    plt.ylabel("milliseconds (log scale)")
    plt.title("100 test × 500 training distances")
    plt.show()

# %% [markdown]
# The two-loop version runs at least one line of Python per pair, 50,000 here; the
# one-loop version one or a few per test image; the no-loop version the same few lines
# whatever the number of images, even for all 500 × 5,000 pairs. Every line of Python costs
# the interpreter's overhead, which is why the bars (on a log scale) are so far apart. The
# times and the factor printed above are this machine's, measured while the cell ran: they
# change with the machine and with whatever else it is doing; the line counts do not. The
# one-loop version still builds a $(N_\text{train}, D)$ array of differences for every
# test image, while the no-loop version hands almost all the work to one matrix product,
# the operation that numerical libraries are most tuned for. From here on, only the
# no-loop version is used.
#
# **What the neighbours look like.** For five held-out images, their five nearest training
# images (with their labels):

# %%
with cu.needs_your_code():
    d_demo = compute_distances_no_loops(X_val[:5], X_train)  # (5, 5000)
    nearest_demo = np.argsort(d_demo, axis=1)[:, :5]  # (5, 5) the five nearest, nearest first
    # One picture: row r holds held-out image r, then its five neighbours.
    tiles = np.concatenate([X_val[:5, None], X_train[nearest_demo]], axis=1).reshape(5, 6, 28, 28)
    tiles = np.pad(tiles, ((0, 0), (0, 0), (10, 0), (1, 1)))  # a blank band above each image for its label
    mosaic = tiles.transpose(0, 2, 1, 3).reshape(5 * 38, 6 * 30)
    plt.figure(figsize=(7.5, 7))
    plt.imshow(mosaic, cmap="gray_r")
    for row in range(5):
        plt.text(15, row * 38 + 6, cu.FASHION_MNIST_CLASSES[y_val[row]], ha="center", fontsize=7, color="C0")
        for col, j in enumerate(nearest_demo[row], start=1):
            plt.text(col * 30 + 15, row * 38 + 6, f"{cu.FASHION_MNIST_CLASSES[y_train[j]]}, {d_demo[row, j]:.1f}",
                     ha="center", fontsize=6)
    plt.axvline(29.5, color="C0")
    plt.axis("off")
    plt.title("held-out image (left), its 5 nearest training images: label, distance", fontsize=9, pad=12)
    plt.show()
    same_class = np.mean(y_train[nearest_demo] == y_val[:5, None])
    print(f"{same_class:.0%} of these neighbours share the held-out image's class")
    assert same_class > 0.5, "the text below says most neighbours share the query's class"

# %% [markdown]
# Most neighbours share the query's class, and the others come from classes that look
# alike: ankle boots and sneakers, pullovers and coats. L2 compares outlines and
# brightness, pixel by pixel, nothing more.
#
# **Question.** Suppose every image, training and test alike, goes through the same
# transformation before kNN. Which transformation can change the predictions of kNN with
# the **L1** distance, but can never change those of kNN with the **L2** distance?
#
# * (a) subtracting the mean image (the same 784 numbers) from every image;
# * (b) multiplying every image vector by the same orthogonal matrix $Q$ ($Q^\top Q = I$,
#   a rotation of pixel space);
# * (c) multiplying every pixel of every image by 3.
#
# Set `knn_metric_answer` to "a", "b" or "c".

# %% solution="choice_knn_metric"
### BEGIN SOLUTION
knn_metric_answer = "b"
### END SOLUTION

# %% tests="test_choice_knn_metric" points=1
cu.check_choice(knn_metric_answer, "abc", "knn_metric_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", knn_metric_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The vote
#
# Given `dists`, the prediction for test image $i$ takes three steps:
#
# 1. the indices of the $k$ smallest entries of row $i$ (`np.argsort` along axis 1 sorts
#    each row and returns the indices, smallest distance first);
# 2. the labels of those training images, `y_train[indices]`;
# 3. the most common of those labels.
#
# **Ties.** With $k = 4$ the vote can split 2–2. We break ties by taking the **smallest
# label** among the tied ones. Counting the votes per class and taking `np.argmax` of the
# counts does exactly that, because `np.argmax` returns the first maximum. (Python's
# `Counter.most_common` does not: it prefers the label it met first.) Labels are the
# integers $0, \dots, C - 1$ with $C$ = `y_train.max() + 1`; a label may have no training
# image at all. Two training images at exactly the same distance may come in either order
# (with real images that almost never happens, and the tests avoid it).
#
# ### Exercise 4: predict by majority vote

# %% solution="predict_labels"
def predict_labels(dists: np.ndarray, y_train: np.ndarray, k: int = 1) -> np.ndarray:
    """Majority vote of the labels of the k nearest training images; ties go to the smallest label.

    dists: (N_test, N_train), y_train: (N_train,) integers in [0, C). Returns (N_test,) integer labels.
    """
    ### BEGIN SOLUTION
    nearest = np.argsort(dists, axis=1)[:, :k]  # (N_test, k) indices of the k closest training images
    votes = y_train[nearest]  # (N_test, k) their labels
    num_classes = int(y_train.max()) + 1
    counts = (votes[:, :, None] == np.arange(num_classes)).sum(axis=1)  # (N_test, C) votes per class
    return np.argmax(counts, axis=1)  # the first maximum: the smallest of the tied labels
    ### END SOLUTION


# %% tests="test_predict_labels" points=2
# Visible tests on hand-made distances: 3 test images, 5 training images with labels
# y = [2, 0, 2, 1, 1]. Row 0 in order of distance: training images 1, 2, 0, 4, 3, with
# labels 0, 2, 2, 1, 1. Row 2: training images 0, 3, 4, 2, 1, with labels 2, 1, 1, 2, 0.
y_hand = np.array([2, 0, 2, 1, 1])
dists_hand = np.array([[0.5, 0.1, 0.3, 0.9, 0.7],
                       [0.2, 0.4, 0.1, 0.3, 0.8],
                       [0.1, 0.9, 0.8, 0.2, 0.7]])
labels_k1 = predict_labels(dists_hand, y_hand, k=1)
cu.check_shape(labels_k1, (3,), "predict_labels(dists, y, k=1)", hint="one label per test image (row of dists)")
cu.check_equal(labels_k1, [0, 2, 2], "labels with k = 1",
               hint="the nearest training image has the SMALLEST distance in its row: sort each row "
                    "(np.argsort(dists, axis=1)) and use exactly the first k columns")
cu.check_equal(predict_labels(dists_hand, y_hand, k=3), [2, 2, 1], "labels with k = 3",
               hint="exactly k neighbours vote: the first k columns of np.argsort(dists, axis=1)")
# Ties. k = 2, row 2: labels 2 and 1, one vote each -> 1. k = 4, row 2: 2, 1, 1, 2 -> 1.
# k = 5, row 0: 0, 2, 2, 1, 1 -> a tie between 1 and 2 -> 1.
for k, expected in [(2, [0, 2, 1]), (4, [2, 2, 1]), (5, [1, 1, 1])]:
    cu.check_equal(predict_labels(dists_hand, y_hand, k=k), expected, f"labels with k = {k} (ties)",
                   hint="a tie goes to the SMALLEST tied label: count the votes per class and take np.argmax "
                        "of the counts (not the nearest, not the largest label, not Counter.most_common)")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(104)
_d = _rng.uniform(0, 10, size=(40, 17))
_y = _rng.integers(0, 4, size=17)
report_call("k = 5 on unseen distances; arguments left unchanged", predict_labels, _d.copy(), _y.copy(), 5,
            kind="equal")
report("k = 1", lambda: predict_labels(_d, _y, 1), kind="equal")
report("k = 4, three classes (many ties)", lambda: predict_labels(_d, _y % 3, 4), kind="equal")
report("k = 2, two classes (ties in about half the rows)", lambda: predict_labels(_d, _y % 2, 2), kind="equal")
report("k = all training images", lambda: predict_labels(_d[:6], _y, 17), kind="equal")
report("labels 2, 5 and 7 only (classes without training images)",
       lambda: predict_labels(_d, np.array([2, 5, 7])[_y % 3], 3), kind="equal")
report("one test image", lambda: predict_labels(_d[:1], _y, 3), kind="equal")
report("more test images than training images, k = 6",
       lambda: predict_labels(_rng.uniform(0, 1, size=(30, 8)), _rng.integers(0, 10, size=8), 6), kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# How well does it do? Train on the 5,000 images, predict the 500 held-out ones, for a few
# values of $k$, and, for contrast, predict 500 of the *training* images themselves:

# %%
with cu.needs_your_code():
    dists_val = compute_distances_no_loops(X_val, X_train)  # (500, 5000)
    for k in [1, 5, 100]:
        print(f"k = {k:3d}: held-out accuracy {np.mean(predict_labels(dists_val, y_train, k) == y_val):.3f}")
    dists_self = compute_distances_no_loops(X_train[:500], X_train)  # (500, 5000)
    train_accuracy_k1 = np.mean(predict_labels(dists_self, y_train, 1) == y_train[:500])
    print(f"k =   1: accuracy on 500 of its own training images {train_accuracy_k1:.3f}")
    assert train_accuracy_k1 == 1.0, "the text below says k = 1 scores 100 % on its own training images"

# %% [markdown]
# **Question.** With $k = 1$ the classifier scores 100 % on its own training images. Why?
# What does that number tell you about how it will do on new images, and what would
# change if the training set held two identical images with different labels?

# %% [markdown] answer="explain_knn_train_accuracy" points=1
# *Model answer.* Each training image is at distance 0 from itself, and no other image is
# closer (distances are never negative), so its single nearest neighbour is itself and the
# prediction is its own label: 100 % by construction, whatever the data. The number says
# nothing about new images (the held-out accuracy above is about 80 %); it measures memory,
# not generalisation. That is why accuracy must be measured on images the classifier has
# not stored. With two identical images labelled differently, both are at distance 0 from
# each, the tie is broken by the sort order, and one of the two is misclassified: the
# training accuracy would drop just below 100 %.

# %% [markdown]
# **Question.** Set $k$ to the number of training images, $N$. What does kNN predict?
#
# * (a) the same label for every test image: the most frequent label of the training set
#   (ties to the smallest);
# * (b) the label of the nearest training image, as with $k = 1$;
# * (c) a label drawn at random for each test image.
#
# Set `knn_all_neighbours_answer` to "a", "b" or "c".

# %% solution="choice_knn_all_neighbours"
### BEGIN SOLUTION
knn_all_neighbours_answer = "a"
### END SOLUTION

# %% tests="test_choice_knn_all_neighbours" points=1
cu.check_choice(knn_all_neighbours_answer, "abc", "knn_all_neighbours_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", knn_all_neighbours_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. Choosing k by cross-validation
#
# $k$ is a **hyperparameter**: a choice made before "training", which the training data
# cannot settle by themselves (on the training images, $k = 1$ always wins, as we just saw).
# Choosing it on the test set is cheating: the test accuracy would then be the best of
# many tries, an optimistic number, and there would be nothing left to measure the final
# classifier on honestly. Choosing it on one held-out part of the training set works, but
# with 5,000 images the estimate is noisy.
#
# **$n$-fold cross-validation** uses every training image for validation once. Split the
# training set into $n$ folds; for each fold in turn, train on the other $n - 1$ and
# measure the accuracy on it. For each $k$ this gives $n$ accuracies: their mean
# estimates how well that $k$ does, their spread how much to trust the difference between
# two values of $k$.
#
# ### Exercise 5: `cross_validate_k`
#
# Precisely, so your numbers can be compared with the reference's:
#
# * the folds are `np.array_split(np.arange(N), num_folds)`: consecutive blocks of
#   indices, no shuffling (the first folds are one image larger when $N$ is not a multiple
#   of `num_folds`; no image is left out);
# * for fold $f$, the validation images are fold $f$ and the training images are all the
#   others; compute their distances once with `compute_distances_no_loops`, then
#   `predict_labels` for each $k$;
# * `accuracies[i, f]` is the fraction of fold $f$ predicted correctly with `k_choices[i]`.

# %% solution="cross_validate_k"
def cross_validate_k(X: np.ndarray, y: np.ndarray, k_choices: list[int], num_folds: int = 5) -> np.ndarray:
    """Accuracy of kNN for each k on each fold, training on the other folds.

    X: (N, D), y: (N,). Folds: np.array_split(np.arange(N), num_folds), in order.
    Returns accuracies: (len(k_choices), num_folds).
    """
    ### BEGIN SOLUTION
    folds = np.array_split(np.arange(len(X)), num_folds)
    accuracies = np.zeros((len(k_choices), num_folds))
    for f, val_idx in enumerate(folds):
        train_idx = np.concatenate([folds[g] for g in range(num_folds) if g != f])
        dists = compute_distances_no_loops(X[val_idx], X[train_idx])  # (fold size, N - fold size)
        for i, k in enumerate(k_choices):
            accuracies[i, f] = np.mean(predict_labels(dists, y[train_idx], k) == y[val_idx])
    return accuracies
    ### END SOLUTION


# %% tests="test_cross_validate_k" points=2
# Visible tests by hand: six points on a line, two classes, three folds of two points.
#
#   x:     0.0  1.0  |  3.5  4.0  |  7.2  9.0
#   y:     0    0    |  0    1    |  1    1
#   fold:  0         |  1         |  2
#
# k = 1. Fold 0: both points' nearest training point is 3.5 (class 0): 2/2 right.
# Fold 1: 3.5 -> 1.0 (class 0), right; 4.0 -> 1.0 at 3.0, nearer than 7.2 at 3.2: class 0, wrong.
# Fold 2: 7.2 and 9.0 -> 4.0 (class 1): 2/2 right.
# k = 3. Fold 0: 3.5, 4.0, 7.2 vote 0, 1, 1 -> 1 for both: 0/2. Fold 1: 3.5 -> 1.0, 0.0, 7.2
# vote 0, 0, 1 -> 0, right; 4.0 -> 1.0, 7.2, 0.0 vote 0, 1, 0 -> 0, wrong.
# Fold 2: 4.0, 3.5, 1.0 vote 1, 0, 0 -> 0 for both: 0/2.
x_line = np.array([[0.0], [1.0], [3.5], [4.0], [7.2], [9.0]])
y_line = np.array([0, 0, 0, 1, 1, 1])
acc_line = cross_validate_k(x_line, y_line, [1, 3], num_folds=3)
cu.check_shape(acc_line, (2, 3), "cross_validate_k(x, y, [1, 3], num_folds=3)",
               hint="one row per k, one column per fold")
cu.check_close(acc_line[0], [1.0, 0.5, 1.0], "accuracies with k = 1, per fold", atol=1e-12,
               hint="train on the OTHER folds only: if the validation fold is among the training points, "
                    "k = 1 finds each point itself and scores 1.0 everywhere. The accuracy is the FRACTION "
                    "of the fold predicted correctly")
cu.check_close(acc_line[1], [0.0, 0.5, 0.0], "accuracies with k = 3, per fold", atol=1e-12)
# Labels that have nothing to do with the images: honest accuracy is near chance (1/10), never 1.
rng = np.random.default_rng(5)
acc_random = cross_validate_k(X_train[:200], rng.integers(0, 10, size=200), [1], num_folds=4)
cu.check_shape(acc_random, (1, 4), "cross_validate_k(X, y, [1], num_folds=4)")
cu.check_equal(bool(acc_random.mean() < 0.4), True,
               f"k = 1 accuracy on random labels ({acc_random.mean():.2f}) is below 0.4",
               hint="the validation fold leaked into the training set: each image found itself")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

# Unseen points whose labels depend on them (the class of the largest of 3 random projections),
# so accuracies are neither 0 nor 1; 23 points: folds of unequal size.
_rng = hidden_rng(105)
_X = _rng.standard_normal((23, 4))
_y = np.argmax(_X @ _rng.standard_normal((4, 3)), axis=1)
report_call("23 unseen points, 5 folds, k = 1, 2, 3, 7; arguments left unchanged", cross_validate_k,
            _X.copy(), _y.copy(), [1, 2, 3, 7], 5, rtol=1e-12)
report("3 folds, k = 1 and 5", lambda: cross_validate_k(_X, _y, [1, 5], 3), rtol=1e-12)
report("2 folds, one k", lambda: cross_validate_k(_X[:20], _y[:20], [3], 2), rtol=1e-12)
_i = _rng.choice(len(X_train), size=152, replace=False)
report("152 real images, 5 folds", lambda: cross_validate_k(X_train[_i], y_train[_i], [1, 4, 10], 5), rtol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 6: `choose_k`
#
# Pick the $k$ with the highest **mean** accuracy over the folds. `k_choices` is sorted in
# increasing order; if several $k$ share the highest mean, return the first (smallest) of
# them. Return it as a Python `int`.

# %% solution="choose_k"
def choose_k(k_choices: list[int], accuracies: np.ndarray) -> int:
    """The k whose accuracies (one row per k, one column per fold) have the highest mean; ties: smallest k."""
    ### BEGIN SOLUTION
    mean_accuracy = accuracies.mean(axis=1)  # (len(k_choices),)
    return int(k_choices[int(np.argmax(mean_accuracy))])
    ### END SOLUTION


# %% tests="test_choose_k" points=1
acc_hand = np.array([[0.75, 1.0, 0.5],     # k = 1: mean 0.75, the best single fold (1.0)
                     [0.75, 0.875, 0.75],  # k = 3: mean 0.79, the best mean
                     [0.5, 0.625, 1.0]])   # k = 5: mean 0.71
cu.check_equal(choose_k([1, 3, 5], acc_hand), 3, "best k for acc_hand",
               hint="average each ROW (one k) over its folds, then take the best mean, and return "
                    "k_choices[index], not the index")
acc_tie = np.array([[0.5, 1.0], [0.75, 0.75], [0.25, 0.75]])  # means 0.75, 0.75, 0.5
cu.check_equal(choose_k([2, 4, 8], acc_tie), 2, "best k when k = 2 and k = 4 tie",
               hint="on a tie, return the SMALLEST k (np.argmax returns the first maximum)")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report

# Accuracies in eighths: sums and means are exact, so ties are real ties.
_rng = hidden_rng(106)
_ks = [1, 2, 4, 6, 9, 13, 20]
_acc = _rng.integers(0, 9, size=(7, 5)) / 8
report("unseen accuracies, 7 values of k, 5 folds", lambda: choose_k(list(_ks), _acc.copy()), kind="equal")
_tied = _acc.copy()
_tied[[2, 5]] = 1.0
report("two values of k tie at the top", lambda: choose_k(list(_ks), _tied), kind="equal")
report("one fold", lambda: choose_k([3, 7, 11], _acc[:3, :1].copy()), kind="equal")
report("k_choices as an array", lambda: choose_k(np.array(_ks), _acc.copy()), kind="equal")
### END HIDDEN TESTS

# %% [markdown]
# ### Cross-validating k on the 5,000 training images
#
# Ten values of $k$, five folds of 1,000 images: five distance matrices of
# $1{,}000 \times 4{,}000$, and fifty votes. A few seconds.

# %%
k_choices = [1, 3, 5, 8, 10, 12, 15, 20, 50, 100]
with cu.needs_your_code():
    start = time.perf_counter()
    accuracies = cross_validate_k(X_train, y_train, k_choices, num_folds=5)  # (10, 5)
    print(f"cross-validation took {time.perf_counter() - start:.1f} s")
    best_k = choose_k(k_choices, accuracies)
    mean_acc, std_acc = accuracies.mean(axis=1), accuracies.std(axis=1)
    for k, m, s in zip(k_choices, mean_acc, std_acc):
        print(f"k = {k:3d}: {m:.4f} ± {s:.4f}{'   <- best' if k == best_k else ''}")

# %%
with cu.needs_your_code():
    plt.figure(figsize=(6.5, 3.8))
    for f in range(accuracies.shape[1]):
        plt.scatter(k_choices, accuracies[:, f], color="gray", s=8, alpha=0.6, label="one fold" if f == 0 else None)
    plt.errorbar(k_choices, mean_acc, yerr=std_acc, fmt="o-", capsize=3, label="mean ± std over 5 folds")
    plt.axvline(best_k, color="C2", ls=":", label=f"best k = {best_k}")
    plt.xscale("log")
    plt.xticks(k_choices, [str(k) for k in k_choices])
    plt.xlabel("k (log scale)")
    plt.ylabel("validation accuracy")
    plt.title("5-fold cross-validation of k")
    plt.legend()
    plt.show()

# %% [markdown]
# Reading the plot. A few neighbours beat the single nearest one: the best $k$ is larger
# than 1, because a vote smooths out the training images that happen to sit close to the
# query while belonging to another class. From there on, more neighbours hurt: at
# $k = 100$ the vote reaches far beyond the query's own neighbourhood, and the accuracy is
# more than three points below the best. Near the top the curve is flat: the differences
# between neighbouring $k$ are smaller than the spread between folds, so any $k$ there
# would do about as well. The cell below checks these statements on the numbers above.

# %%
with cu.needs_your_code():
    best_mean = mean_acc[k_choices.index(best_k)]
    acc_100 = mean_acc[k_choices.index(100)]
    print(f"best k = {best_k} (mean {best_mean:.4f}); k = 100: {acc_100:.4f}; "
          f"largest std over folds {std_acc.max():.4f}")
    assert best_k > 1, f"the text says the best k is larger than 1; it is {best_k}"
    assert acc_100 < best_mean - 0.03, "the text says k = 100 is more than three points below the best"
    top = np.sort(mean_acc)[-2:]  # the best two means
    assert top[1] - top[0] < std_acc.max(), "the text says the best two k differ by less than the fold spread"

# %% [markdown]
# ### The final classifier
#
# With $k$ chosen, "train" on all 5,000 images and measure once on the 500 held-out
# images, which played no part in the choice. At grading, the same classifier (your
# functions, your `best_k`) also labels 1,000 images of the Fashion-MNIST *test* set whose
# labels only the grader holds, and must reach 72 % there (a little below the 75 % asked of
# the held-out images: which 1,000 test images are drawn moves the accuracy by a point or two).

# %%
with cu.needs_your_code():
    y_val_pred = predict_labels(compute_distances_no_loops(X_val, X_train), y_train, best_k)
    final_accuracy = float(np.mean(y_val_pred == y_val))
    print(f"held-out accuracy with k = {best_k}: {final_accuracy:.3f} "
          f"(cross-validated estimate {best_mean:.3f})")
    assert abs(final_accuracy - best_mean) < 0.05, "the text says the two agree to within five points"

# %% [markdown]
# The held-out accuracy agrees with the cross-validated estimate to within a few points
# (it is usually a little higher: the final classifier stores 5,000 images, each fold's
# only 4,000).

# %% tests="test_knn_accuracy" points=2
cu.check_equal(bool(final_accuracy >= 0.75), True, f"held-out accuracy ({final_accuracy:.3f}) is at least 0.75",
               hint="kNN with L2 on these images reaches about 0.8 for any k between 1 and 20; check "
                    "that best_k comes from choose_k and that predict_labels passed its tests")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_seed, report
from course_utils import perturb

# The test images as the grader wants them for this course: a random 1,000 in a random order,
# with noise of a few grey levels. Only the IMAGES enter the kernel; the grader orders its
# labels the same way from the same seed ("fashion_mnist_test_perturbed").
_eval_seed, _eval_size = hidden_seed(107), 1000


def _test_predictions():
    images = perturb.perturbed_images(cu.load_fashion_mnist_images("test"), _eval_seed, _eval_size, shift=0)
    X_test = images.reshape(len(images), -1).astype(np.float64) / 255
    return np.asarray(predict_labels(compute_distances_no_loops(X_test, X_train), y_train, best_k))


report("test accuracy with your best k (5,000 training images)", _test_predictions, metric="accuracy",
       labels=f"fashion_mnist_test_perturbed:{_eval_seed}:{_eval_size}", min={"cpu": 0.72, "gpu": 0.72},
       plausible_max={"cpu": 0.9, "gpu": 0.9})
### END HIDDEN TESTS

# %% [markdown]
# **Question.** Our classifier stores 5,000 images. Suppose it stored all 60,000
# Fashion-MNIST images instead. How do the cost of training and the cost of predicting one
# test image change (time and memory, roughly in terms of $N$ and $D$)? Compare with the
# linear classifier of notebook 01. Which of the two costs matters for a deployed classifier?

# %% [markdown] answer="explain_knn_prediction_cost" points=1
# *Model answer.* Training costs nothing more than storing the data: $O(ND)$ memory (12
# times more at 60,000 images) and no computation. Predicting one image needs its distance
# to every stored image, $O(ND)$ time (about 47 million multiply-adds at $N = 60{,}000$,
# $D = 784$), so prediction also gets 12 times slower, plus a sort or selection over $N$
# distances. A linear classifier is the other way round: training is expensive, but
# prediction is $O(CD)$ (7,840 multiply-adds for 10 classes), independent of $N$, and it
# keeps only $W$ and $b$. A deployed classifier predicts many times and trains once, so
# prediction cost is the one that matters: kNN has it the wrong way round. (Approximate
# nearest-neighbour indexes reduce the search cost, at the price of sometimes missing the
# true nearest neighbours.)

# %% [markdown]
# ## Summary
#
# * kNN stores the training set and labels a query by a majority vote of its $k$ nearest
#   training images; ties here go to the smallest label.
# * Distances for all pairs come from one matrix product,
#   $\lVert a \rVert^2 - 2 a \cdot b + \lVert b \rVert^2$, clipped at 0 before the root:
#   the same few lines of Python whatever the number of images, where loops run theirs
#   once per image or per pair, and so far faster.
# * $k$ is a hyperparameter: chosen by cross-validation on the training set, never on the
#   test set. Here a handful of neighbours beats one, and a hundred is too many.
# * On raw pixels, kNN reaches about 80 % on Fashion-MNIST, and every prediction costs a
#   pass over the whole training set. Learned models (the linear classifier of notebook 01,
#   and what follows) move that cost into training.
#
# Next, `02_losses`: how to measure how good a linear classifier's weights are, and how to
# train them.
