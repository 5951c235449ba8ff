"""Figures for notebook 02_losses, computed with the reference solution (no pass/fail).

    python benchmarks/notebook_02_losses.py [--seeds 10] [--blas-threads 1]

Rows:
- loops vs. vectorised: svm_loss_* and softmax_loss_* on a 500 x 3073 batch with 10
  classes (CIFAR-10 sized, bias column included), best of several runs, float64 and float32;
- training: the hidden test's run of train_linear_classifier (softmax loss, class-sorted
  Fashion-MNIST training set, lr 0.5, reg 1e-4, 10 epochs, batches of 200) for several
  seeds, with its test accuracy and CPU time; the grader requires 0.82;
- random search: the notebook's search (20 trials of 2 epochs on 10,000 training images,
  lr in [1e-3, 10], reg in [1e-6, 1e-2] on a log scale, scored on the validation split)
  for several search seeds, then the winner trained on all 55,000 images for 10 epochs:
  its setting, validation and test accuracy, and the time of the search and of the final
  run; the grader requires 0.80 on the test set (test_best_model).

The notebook limits BLAS to one thread (its matrices are small); so does this script
unless told otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import course_utils as cu
from autograde import mutants
from autograde.build.source import REPO_ROOT

SOLUTION = REPO_ROOT / "solutions" / "02_losses.py"
THRESHOLD = 0.82
SEARCH_THRESHOLD = 0.80


def reference_namespace(path: Path = SOLUTION) -> dict:
    """The reference solution cells, executed after the notebook's imports (without its BLAS limit)."""
    return mutants.reference_namespace(path, namespace={"np": np, "cu": cu})


def speed_rows(ns: dict) -> list[tuple[str, str, float, float]]:
    rows = []
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(4)
        X = rng.standard_normal((500, 3073)).astype(dtype)
        y = rng.integers(0, 10, size=500)
        W = (1e-4 * rng.standard_normal((10, 3073))).astype(dtype)  # at initialisation: every margin violated
        for loss in ("svm", "softmax"):
            naive, vectorized = ns[f"{loss}_loss_naive"], ns[f"{loss}_loss_vectorized"]
            loss_n, dW_n = naive(W, X, y, 1e-3)
            loss_v, dW_v = vectorized(W, X, y, 1e-3)
            if not (np.isclose(loss_n, loss_v, rtol=1e-4) and np.allclose(dW_n, dW_v, rtol=1e-3, atol=1e-6)):
                raise RuntimeError(f"{loss}: naive and vectorised reference disagree ({np.dtype(dtype).name})")
            t_naive = cu.best_time(lambda: naive(W, X, y, 1e-3), 3)
            t_vec = cu.best_time(lambda: vectorized(W, X, y, 1e-3), 20)
            rows.append((loss, np.dtype(dtype).name, t_naive, t_vec))
    return rows


def training_runs(ns: dict, seeds: int) -> list[tuple[int, float, float, float]]:
    X_raw, y = cu.load_fashion_mnist("train", flatten=True)
    X_test_raw, y_test = cu.load_fashion_mnist("test", flatten=True)
    mean = X_raw.mean(axis=0, dtype=np.float32) / 255

    def features(raw: np.ndarray) -> np.ndarray:
        return np.hstack([raw.astype(np.float32) / 255 - mean, np.ones((len(raw), 1), dtype=np.float32)])

    order = np.argsort(y, kind="stable")  # as the hidden test: sorted by class
    X, y_sorted, X_test = features(X_raw)[order], y[order], features(X_test_raw)
    runs = []
    for seed in range(seeds):
        wall, cpu = time.perf_counter(), time.process_time()
        W, _ = ns["train_linear_classifier"](ns["softmax_loss_vectorized"], X, y_sorted, 10, lr=0.5, reg=1e-4,
                                             epochs=10, batch_size=200, seed=seed)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        accuracy = float(np.mean(np.argmax(X_test @ W.T, axis=1) == y_test))
        runs.append((seed, accuracy, wall, cpu))
    return runs


def search_runs(ns: dict, seeds: int) -> list[tuple[int, float, float, float, float, float, float]]:
    X_raw, y = cu.load_fashion_mnist("train", flatten=True)
    X_val_raw, y_val = cu.load_fashion_mnist("val", flatten=True)
    X_test_raw, y_test = cu.load_fashion_mnist("test", flatten=True)
    mean = X_raw.mean(axis=0, dtype=np.float32) / 255

    def features(raw: np.ndarray) -> np.ndarray:
        return np.hstack([raw.astype(np.float32) / 255 - mean, np.ones((len(raw), 1), dtype=np.float32)])

    X, X_val, X_test = features(X_raw), features(X_val_raw), features(X_test_raw)
    train, loss = ns["train_linear_classifier"], ns["softmax_loss_vectorized"]

    def train_and_evaluate(lr: float, reg: float) -> float:  # as in the notebook
        W, _ = train(loss, X[:10000], y[:10000], 10, lr=lr, reg=reg, epochs=2, batch_size=200)
        return float(np.mean(np.argmax(X_val @ W.T, axis=1) == y_val))

    runs = []
    for seed in range(seeds):
        start = time.perf_counter()
        results, best = ns["random_search"](train_and_evaluate, 20, (1e-3, 10.0), (1e-6, 1e-2), seed=seed)
        t_search = time.perf_counter() - start
        lr, reg, _ = results[best]
        start = time.perf_counter()
        W, _ = train(loss, X, y, 10, lr=lr, reg=reg, epochs=10, batch_size=200)
        t_final = time.perf_counter() - start
        val = float(np.mean(np.argmax(X_val @ W.T, axis=1) == y_val))
        test = float(np.mean(np.argmax(X_test @ W.T, axis=1) == y_test))
        runs.append((seed, lr, reg, val, test, t_search, t_final))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args()
    threadpool_limits(args.blas_threads, user_api="blas")
    ns = reference_namespace()

    print(f"02_losses reference, BLAS threads: {args.blas_threads}")
    print()
    print("loops vs. vectorised, 500 x 3073 batch, 10 classes (best of 3 / best of 20)")
    print(f"{'loss':8s} {'dtype':8s} {'loops':>10s} {'vectorised':>11s} {'speed-up':>9s}")
    for loss, dtype, t_naive, t_vec in speed_rows(ns):
        print(f"{loss:8s} {dtype:8s} {1e3 * t_naive:8.1f} ms {1e3 * t_vec:8.2f} ms {t_naive / t_vec:8.1f}x")
    print()
    print("training: softmax, class-sorted Fashion-MNIST train (55k), lr 0.5, reg 1e-4, 10 epochs, batch 200")
    runs = training_runs(ns, args.seeds)
    print(f"{'seed':>4s} {'test acc':>9s} {'wall':>7s} {'cpu':>7s}")
    for seed, accuracy, wall, cpu in runs:
        print(f"{seed:4d} {accuracy:9.4f} {wall:6.2f}s {cpu:6.2f}s")
    accuracies = [r[1] for r in runs]
    walls = [r[2] for r in runs]
    print(f"test accuracy min {min(accuracies):.4f} mean {statistics.mean(accuracies):.4f} "
          f"max {max(accuracies):.4f}; training time (wall) min {min(walls):.2f}s "
          f"mean {statistics.mean(walls):.2f}s max {max(walls):.2f}s")
    passed = sum(a >= THRESHOLD for a in accuracies)
    print(f"{passed} of {len(runs)} seeds >= {THRESHOLD}")
    print()
    print("random search: 20 trials x 2 epochs on 10k, then the winner on 55k for 10 epochs")
    print(f"{'seed':>4s} {'lr':>8s} {'reg':>8s} {'val acc':>8s} {'test acc':>9s} {'search':>7s} {'final':>7s}")
    searches = search_runs(ns, args.seeds)
    for seed, lr, reg, val, test, t_search, t_final in searches:
        print(f"{seed:4d} {lr:8.3g} {reg:8.2g} {val:8.4f} {test:9.4f} {t_search:6.2f}s {t_final:6.2f}s")
    tests = [r[4] for r in searches]
    print(f"test accuracy min {min(tests):.4f} mean {statistics.mean(tests):.4f} max {max(tests):.4f}; "
          f"{sum(t >= SEARCH_THRESHOLD for t in tests)} of {len(searches)} search seeds >= {SEARCH_THRESHOLD}")


if __name__ == "__main__":
    main()
