# %% [markdown]
# # 00 · Setup: your environment and how this course works
#
# Welcome. Before any deep learning, two things need to work: your Python environment,
# and the rhythm of the exercises. This notebook checks the first and walks you through
# the second with one small exercise.

# %% [markdown]
# ## 1. Is the environment ready?
#
# The next cell prints the versions of Python, NumPy and PyTorch, the device PyTorch
# will use, whether you are on Google Colab or your own machine, and where datasets
# are cached. The course picks the fastest device it finds, in this order:
#
# 1. an NVIDIA GPU through **CUDA** (on Colab: *Runtime → Change runtime type → GPU*);
# 2. an Apple-silicon GPU through **MPS**;
# 3. the **CPU**, which is enough for every notebook, only slower for the CNN.

# %%
import numpy as np

import course_utils as cu

cu.print_environment()

# %% [markdown]
# Everything random in the course (initial weights, minibatch order, generated data)
# goes through NumPy and PyTorch. `cu.seed_everything(seed)` seeds both, plus Python's
# `random`, so a run can be repeated exactly:

# %%
cu.seed_everything(0)
first = np.random.rand(3)
cu.seed_everything(0)
again = np.random.rand(3)
print(first, again, "identical:", np.array_equal(first, again))
assert np.array_equal(first, again), "the same seed must give the same numbers"

# %% [markdown]
# ## 2. How the exercises work
#
# Every exercise has three parts.
#
# * **A solution cell.** It holds a function whose body says
#   `raise NotImplementedError("Implement ...")`. Replace that line with your code.
#   Leave the function's name and arguments as they are: the tests call them.
# * **A visible test cell**, right after it. Run it as often as you like. When it
#   fails, its message says what was expected, what came back, and the usual mistake.
#   Don't edit it: at grading time it is restored from the original anyway.
# * **Hidden tests.** At grading, the test cell also runs your function on inputs you
#   have not seen. Your results are sent to the grader as plain numbers and compared,
#   outside your notebook, with the reference solution's. Passing the visible tests is
#   a good sign, not a guarantee: make your function right for *any* valid input,
#   not just the examples shown.
#
# Before you submit, restart the kernel and run every cell (*Kernel → Restart Kernel
# and Run All Cells*), then use the **Validate** button of nbgrader if your course
# runs JupyterLab with nbgrader. A notebook that only works when cells run out of
# order will fail at grading, where everything runs top to bottom in a fresh kernel.

# %% [markdown]
# ## 3. A first exercise: standardising features
#
# Features on very different scales (pixel intensities in [0, 255], ages in years,
# incomes in dollars) make gradient descent slow. A common fix is to **standardise**
# each feature (each column of the data matrix $X$ of shape $(N, D)$):
#
# $$ \hat X_{ij} = \frac{X_{ij} - \mu_j}{\sigma_j}, \qquad
#    \mu_j = \frac{1}{N}\sum_{i=1}^N X_{ij}, \qquad
#    \sigma_j = \sqrt{\frac{1}{N}\sum_{i=1}^N (X_{ij} - \mu_j)^2}. $$
#
# Afterwards every column has mean 0 and standard deviation 1. Note the averages run
# over the **rows** (the examples), one mean and one standard deviation per column.
# NumPy's `X.mean(axis=0)` and `X.std(axis=0)` compute exactly these.
#
# Two rules every graded function in this course follows, so learn them here. **Leave
# your inputs unchanged**: return a new array rather than writing into `X` (`X -= mu`
# would change the caller's data). **Be right for any valid input**, including features
# far from zero (a column of values near 1,000,000 with a spread of 1): compute the
# standard deviation from the centred values, as `X.std` does, not as $E[x^2] - E[x]^2$,
# which loses every digit there. float32 input may give float32 output.

# %% solution="standardize"
def standardize(X: np.ndarray) -> np.ndarray:
    """Return X with every column shifted to mean 0 and scaled to standard deviation 1.

    X: (N, D) array of floats. Returns an array of the same shape.
    """
    ### BEGIN SOLUTION
    mu = X.mean(axis=0)  # (D,)
    sigma = X.std(axis=0)  # (D,)
    return (X - mu) / sigma
    ### END SOLUTION


# %% tests="test_standardize" points=1
# Visible tests: a tiny example you can check by hand. The columns are (1, 3, 5) and
# (11, 13, 15): means 3 and 13, and the same σ = √(8/3) ≈ 1.633, so both become
# (−1.22, 0, 1.22).
X_small = np.array([[1.0, 11.0], [3.0, 13.0], [5.0, 15.0]])
Z = standardize(X_small)
cu.check_close(X_small, [[1.0, 11.0], [3.0, 13.0], [5.0, 15.0]], "X after standardize(X)",
               hint="your function wrote into X (X -= ...): return a new array, (X - mu) / sigma")
cu.check_shape(Z, (3, 2), "standardize(X)")
# Each usual slip leaves a recognisable trace in Z, so the hint can name yours.
cu.check_close(Z.mean(axis=0), [0.0, 0.0], "column means of standardize(X)", atol=1e-12,
               hint="each ROW of your result has mean 0: average over the examples, X.mean(axis=0), not over "
                    "the features (axis=1)" if np.allclose(Z.mean(axis=1), 0) else
                    "the whole array has mean 0 but its columns do not: subtract each column's own mean, "
                    "X.mean(axis=0), not X.mean()" if np.isclose(Z.mean(), 0) else
                    "subtract each column's mean before dividing: (X − μ) / σ")
stds = Z.std(axis=0)
cu.check_close(stds, [1.0, 1.0], "column standard deviations of standardize(X)",
               hint="you divided by the sample standard deviation (ddof=1, N − 1); the formula divides by N, "
                    "as X.std(axis=0) does" if np.allclose(stds, np.sqrt(2 / 3)) else
                    "divide by the standard deviation σ, not the variance σ²" if np.allclose(stds, 1 / np.sqrt(8 / 3))
                    else "divide each column by its own standard deviation over the examples (axis=0)")
cu.check_close(Z, [[-1.2247449, -1.2247449], [0.0, 0.0], [1.2247449, 1.2247449]], "standardize(X)", atol=1e-6)
# A feature far from zero: values 1e8 + (1, 3, 5), the same spread as the first column.
Z_far = standardize(1e8 + np.array([[1.0], [3.0], [5.0]]))
cu.check_close(Z_far, [[-1.2247449], [0.0], [1.2247449]], "standardize(1e8 + [1, 3, 5])", atol=1e-6,
               hint="compute σ from the centred values, as X.std does: E[x²] − E[x]² subtracts two numbers "
                    "near 1e16 and loses every digit of the variance")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(1)
_X = _rng.normal(loc=[5.0, -3.0, 100.0, 0.0], scale=[1.0, 0.1, 30.0, 4.0], size=(40, 4))
report_call("random features", standardize, _X.copy(), rtol=1e-9)
report("one feature, many examples", lambda: standardize(_rng.uniform(0, 255, size=(500, 1))), rtol=1e-9)
# Large offsets with a small spread: the one-pass variance E[x²] − E[x]² loses every digit here.
_X_far = _rng.normal(loc=[1e6, -3e5], scale=[1.0, 0.02], size=(60, 2))
report("features far from zero with a small spread", lambda: standardize(_X_far.copy()), rtol=1e-6)
report("only two examples", lambda: standardize(_rng.normal(size=(2, 5))), rtol=1e-9)
# float32 features: float32 arithmetic is fine, compared to about 1e-5.
report("float32 features", lambda: standardize(_rng.normal(2.0, 3.0, size=(30, 3)).astype(np.float32)),
       rtol=1e-4, atol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# **Question.** `X` holds 500 examples of 3 features, shape `(500, 3)`. What is the shape of
# `X.mean(axis=0)`, the mean your `standardize` subtracts?
# (a) `(500,)`: one mean per example; (b) `(3,)`: one mean per feature; (c) `()`: a single
# number. Set `mean_axis_answer` to "a", "b" or "c".

# %% solution="choice_mean_axis"
### BEGIN SOLUTION
mean_axis_answer = "b"
### END SOLUTION

# %% tests="test_choice_mean_axis" points=1
cu.check_choice(mean_axis_answer, "abc", "mean_axis_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", mean_axis_answer)
### END HIDDEN TESTS

# %% [markdown]
# **Question.** One feature has the same value in every example (say, a pixel that is
# black in every image). What does `standardize` return for that column, and what would you
# do about it? (Two or three sentences.)

# %% [markdown] answer="explain_constant_column" points=1
# *Model answer.* Its standard deviation is 0 and so is every centred value, so the column
# becomes 0 / 0 = NaN (NumPy warns about an invalid value), and the NaNs then spread into
# every score and loss computed from it. A constant feature carries no information, so
# either drop it, or divide by a safe scale instead, such as $\max(\sigma, \varepsilon)$
# or 1 where $\sigma = 0$ (which leaves the column at 0), as scikit-learn's
# `StandardScaler` does.

# %% [markdown]
# ## 4. Datasets
#
# Most notebooks train on **Fashion-MNIST**: 70,000 grey 28 × 28 images of clothing in
# 10 classes. `cu.load_fashion_mnist` finds the files in your cache, in the directory
# named by the `COURSE_DATA_DIR` environment variable, or in Debian's
# `dataset-fashion-mnist` package, and downloads them (checking their SHA-256) if none
# of those has them. The next cell loads the training split and shows a few images.

# %%
X_train, y_train = cu.load_fashion_mnist("train")
print("images:", X_train.shape, X_train.dtype, " labels:", y_train.shape, y_train.dtype)
cu.show_images(X_train[:16], y_train[:16], class_names=cu.FASHION_MNIST_CLASSES, ncols=8);

# %% [markdown]
# That's all: your environment works and you know the rhythm. On to
# `01_linear_classifiers`.
