"""Figures for notebook 01b_knn, computed with the reference solution (no pass/fail).

    python benchmarks/notebook_01b_knn.py [--repeats 5] [--seeds 5] [--blas-threads 1]

Rows:
- distances: compute_distances_two_loops / _one_loop / _no_loops on the notebook's timing
  problem (100 held-out x 500 training images, 784 float64 pixels), best of several runs,
  their largest disagreement, and the no-loop version on all 500 x 5,000 distances;
- cross-validation: the notebook's run of cross_validate_k (5,000 training images, 5 folds,
  k in 1 ... 100), mean and std of the accuracy for each k, the chosen k and the time taken;
- final accuracy with that k: on the 500 held-out images, and on the grader's perturbed
  copies of the test set (1,000 images, noise of 3 grey levels) for several seeds; the
  grader requires 0.72.

The notebook limits BLAS to one thread; so does this script unless told otherwise.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import course_utils as cu
from autograde import mutants
from autograde.build.source import REPO_ROOT
from course_utils import perturb

SOLUTION = REPO_ROOT / "solutions" / "01b_knn.py"
K_CHOICES = [1, 3, 5, 8, 10, 12, 15, 20, 50, 100]
THRESHOLD = 0.72


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The notebook's data: the first 5,000 training and 500 validation images, float64 in [0, 1]."""
    X_train_raw, y_train = cu.load_fashion_mnist("train", flatten=True)
    X_val_raw, y_val = cu.load_fashion_mnist("val", flatten=True)
    return (X_train_raw[:5000].astype(np.float64) / 255, y_train[:5000],
            X_val_raw[:500].astype(np.float64) / 255, y_val[:500])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timing runs per version (two loops: at most 2)")
    parser.add_argument("--seeds", type=int, default=5, help="perturbed copies of the test set")
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args()
    threadpool_limits(args.blas_threads, user_api="blas")
    ns = mutants.reference_namespace(SOLUTION, namespace={"np": np, "cu": cu})
    two, one, none = (ns[f"compute_distances_{v}"] for v in ("two_loops", "one_loop", "no_loops"))
    predict, cross_validate, choose = ns["predict_labels"], ns["cross_validate_k"], ns["choose_k"]
    X_train, y_train, X_val, y_val = load_data()

    print(f"01b_knn reference, BLAS threads: {args.blas_threads}")
    print()
    small_test, small_train = X_val[:100], X_train[:500]
    d_two = two(small_test, small_train)
    disagreement = max(np.abs(one(small_test, small_train) - d_two).max(),
                       np.abs(none(small_test, small_train) - d_two).max())
    times = {"two loops": cu.best_time(lambda: two(small_test, small_train), min(args.repeats, 2)),
             "one loop": cu.best_time(lambda: one(small_test, small_train), args.repeats),
             "no loops": cu.best_time(lambda: none(small_test, small_train), args.repeats)}
    print(f"distances, 100 x 500 images of 784 pixels (largest disagreement {disagreement:.1e})")
    for name, seconds in times.items():
        print(f"  {name:9s} {1e3 * seconds:9.2f} ms  {times['two loops'] / seconds:7.1f}x the two-loop speed")
    t_full = cu.best_time(lambda: none(X_val, X_train), args.repeats)
    print(f"  no loops, 500 x 5,000: {1e3 * t_full:.1f} ms")
    print()

    start = time.perf_counter()
    accuracies = cross_validate(X_train, y_train, K_CHOICES, 5)
    t_cv = time.perf_counter() - start
    best_k = choose(K_CHOICES, accuracies)
    print(f"5-fold cross-validation on 5,000 images ({t_cv:.1f} s)")
    for k, row in zip(K_CHOICES, accuracies):
        print(f"  k = {k:3d}: {row.mean():.4f} ± {row.std():.4f}{'   <- best' if k == best_k else ''}")
    print()

    val_accuracy = float(np.mean(predict(none(X_val, X_train), y_train, best_k) == y_val))
    print(f"k = {best_k}, trained on 5,000: held-out accuracy {val_accuracy:.4f} (500 validation images)")
    test_images = cu.load_fashion_mnist_images("test")
    y_test = cu.load_fashion_mnist("test")[1]
    test_accuracies = []
    for seed in range(args.seeds):
        images = perturb.perturbed_images(test_images, seed, 1000, shift=0)
        X_test = images.reshape(len(images), -1).astype(np.float64) / 255
        labels = y_test[perturb.evaluation_order(len(y_test), seed, 1000)]
        accuracy = float(np.mean(predict(none(X_test, X_train), y_train, best_k) == labels))
        test_accuracies.append(accuracy)
        print(f"  perturbed test copy, seed {seed}: accuracy {accuracy:.4f}")
    print(f"perturbed test accuracy min {min(test_accuracies):.4f} mean {statistics.mean(test_accuracies):.4f} "
          f"max {max(test_accuracies):.4f}; {sum(a >= THRESHOLD for a in test_accuracies)} of "
          f"{len(test_accuracies)} >= {THRESHOLD}")


if __name__ == "__main__":
    main()
