"""Figures for notebook 03b_modular_nets, computed with the reference solution.

    .venv/bin/python benchmarks/notebook_03b_modular_nets.py [--seeds 10]

Prints three tables, each over several seeds (the seed of the network's initialisation,
its dropout masks and the minibatch order; the data are the notebook's subsets):
- the deep net (4 hidden layers of 100 units) on 50 training images: final training and
  validation accuracy, seconds of training;
- the same net with weight_scale 1e-3: final training accuracy against always guessing
  the most common class, and the full-set loss against the entropy of the 50 labels;
- two hidden layers of 256 units on 1,000 images, without and with dropout (keep 0.5):
  the train - validation gap and the validation accuracy of each, seconds for both runs.

The seed-0 rows are the notebook's own runs. Each table ends with how many seeds satisfy the
claim the notebook asserts for seed 0. Accuracies and gaps are printed, not judged.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import course_utils as cu
from autograde import mutants
from autograde.build.source import REPO_ROOT

SOLUTION = REPO_ROOT / "solutions" / "03b_modular_nets.py"
MOMENTUM = {"lr": 0.01, "momentum": 0.9}


def reference_namespace(path: Path = SOLUTION) -> dict:
    """The notebook's imports, its given layers and helpers, and every reference solution cell, in one namespace."""
    return mutants.reference_namespace(path, before=("import course_utils as cu",),
                                       after=("def relu_forward", "def softmax_loss", "def sgd(", "def accuracy"))


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The notebook's data cell: training images and the first 1,000 validation images, standardised."""
    X_raw, y = cu.load_fashion_mnist("train")
    X_val_raw, y_val = cu.load_fashion_mnist("val")
    mean, std = X_raw.mean() / 255, X_raw.std() / 255
    return (X_raw[:1000] / 255 - mean) / std, y[:1000], (X_val_raw[:1000] / 255 - mean) / std, y_val[:1000]


def _summary(name: str, values: list[float], fmt: str = ".3f") -> str:
    return f"{name:36}{min(values):8{fmt}}{statistics.mean(values):8{fmt}}{max(values):8{fmt}}"


def overfit_table(ns: dict, X, y, X_val, y_val, seeds: int) -> list[str]:
    subset = {"X_train": X[:50], "y_train": y[:50], "X_val": X_val, "y_val": y_val}
    train_acc, val_acc, seconds = [], [], []
    for seed in range(seeds):
        model = ns["FullyConnectedNet"]([100] * 4, weight_scale=0.1, seed=seed)
        start = time.perf_counter()
        history = ns["train"](model, subset, ns["sgd_momentum"], MOMENTUM, epochs=20, batch_size=10, seed=seed)
        seconds.append(time.perf_counter() - start)
        train_acc.append(history["train_acc"][-1])
        val_acc.append(history["val_acc"][-1])
    return [
        f"deep net (4 x 100 hidden units, weight_scale 0.1) on 50 images, 20 epochs, {seeds} seeds",
        f"{'':36}{'min':>8}{'mean':>8}{'max':>8}",
        _summary("training accuracy", train_acc),
        _summary("validation accuracy (1,000 images)", val_acc),
        _summary("seconds", seconds, ".2f"),
        f"seed 0: training {train_acc[0]:.3f}, validation {val_acc[0]:.3f}; seeds with training accuracy 1.0 and "
        f"validation < 0.65: {sum(t == 1.0 and v < 0.65 for t, v in zip(train_acc, val_acc))} of {seeds}",
    ]


def tiny_init_table(ns: dict, X, y, X_val, y_val, seeds: int) -> list[str]:
    subset = {"X_train": X[:50], "y_train": y[:50], "X_val": X_val, "y_val": y_val}
    counts = np.bincount(y[:50])
    majority = counts.max() / 50
    p = counts[counts > 0] / 50
    entropy = float(-(p * np.log(p)).sum())
    train_acc, losses = [], []
    for seed in range(seeds):
        model = ns["FullyConnectedNet"]([100] * 4, weight_scale=1e-3, seed=seed)
        history = ns["train"](model, subset, ns["sgd_momentum"], MOMENTUM, epochs=20, batch_size=10, seed=seed)
        train_acc.append(history["train_acc"][-1])
        losses.append(model.loss(X[:50], y[:50])[0])
    return [
        f"the same net with weight_scale 1e-3, {seeds} seeds (most common class: {majority:.2f}; "
        f"label entropy {entropy:.4f}, log 10 = {np.log(10):.4f})",
        f"{'':36}{'min':>8}{'mean':>8}{'max':>8}",
        _summary("training accuracy", train_acc),
        _summary("loss on the 50 images after training", losses, ".4f"),
        f"seeds no better than the most common class: {sum(a <= majority + 1e-9 for a in train_acc)} of {seeds}",
    ]


def dropout_table(ns: dict, X, y, X_val, y_val, seeds: int) -> list[str]:
    subset = {"X_train": X, "y_train": y, "X_val": X_val, "y_val": y_val}
    rows, seconds = [], []
    for seed in range(seeds):
        result = {}
        start = time.perf_counter()
        for keep in (1.0, 0.5):
            model = ns["FullyConnectedNet"]([256, 256], weight_scale=0.05, dropout_keep=keep, seed=seed)
            history = ns["train"](model, subset, ns["sgd_momentum"], MOMENTUM, epochs=20, batch_size=50, seed=seed)
            result[keep] = (history["train_acc"][-1] - history["val_acc"][-1], history["val_acc"][-1])
        seconds.append(time.perf_counter() - start)
        rows.append(result)
        print(f"  seed {seed}: gap {result[1.0][0]:.3f} -> {result[0.5][0]:.3f}, validation {result[1.0][1]:.3f} -> "
              f"{result[0.5][1]:.3f}, {seconds[-1]:.1f} s", flush=True)
    narrower = sum(r[0.5][0] < 0.7 * r[1.0][0] for r in rows)
    same_val = sum(abs(r[0.5][1] - r[1.0][1]) < 0.02 for r in rows)
    return [
        f"2 x 256 hidden units on 1,000 images, 20 epochs, without / with dropout (keep 0.5), {seeds} seeds",
        f"{'':36}{'min':>8}{'mean':>8}{'max':>8}",
        _summary("gap without dropout", [r[1.0][0] for r in rows]),
        _summary("gap with dropout", [r[0.5][0] for r in rows]),
        _summary("validation without dropout", [r[1.0][1] for r in rows]),
        _summary("validation with dropout", [r[0.5][1] for r in rows]),
        _summary("seconds for both runs", seconds, ".2f"),
        f"seeds where the gap with dropout is < 0.7 x the gap without: {narrower} of {seeds}; "
        f"validation within 0.02: {same_val} of {seeds}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="runs per experiment, one per seed")
    args = parser.parse_args(argv)
    ns = reference_namespace()
    X, y, X_val, y_val = data()
    for table in (overfit_table, tiny_init_table, dropout_table):
        lines = table(ns, X, y, X_val, y_val, args.seeds)
        print("\n".join(lines) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
