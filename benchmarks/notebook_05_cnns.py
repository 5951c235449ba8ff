"""Figures for notebook 05_cnns, computed with the reference solution (no pass/fail).

    python benchmarks/notebook_05_cnns.py [--seeds 10] [--device cpu|cuda] [--threads N] [--skip-training]

Rows:
- convolution, loops vs im2col: conv_forward_naive and conv_forward_fast on a few layer
  sizes (the first is the one the hidden test times), best of several runs, with BLAS
  limited to one thread as in the notebook;
- training: the hidden test's run (build_cnn, then train_cnn on the 55,000 training
  images: a fixed number of epochs, with the grader's safety net of 200 s on a CPU, 150 s
  on a GPU) for several seeds, with its test accuracy on the clean test set and on the
  grader's perturbed copies (course_utils.perturb: 8,000 images, noise of ±3 grey levels,
  as the hidden test uses; three course seeds per run) and on copies shifted by up to a pixel
  as well (which the grader does not use), its training time and the time at
  which the model first reached the profile's target (0.87 cpu, 0.91 gpu). The CPU rows run
  by default; the CUDA rows run too when a GPU is present.

"Time to target" comes from snapshots of the weights taken every 20 optimiser steps (a
global optimiser step hook, so the recipe runs unchanged); the snapshots are scored on
the test set after training, off the clock.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch.optim.optimizer import register_optimizer_step_post_hook

import course_utils as cu
from autograde import mutants
from autograde.build.source import REPO_ROOT
from course_utils import perturb, train

SOLUTION = REPO_ROOT / "solutions" / "05_cnns.py"
# The hidden test's settings (test_cnn_accuracy): safety net, target and perturbed test set per device type.
LIMIT_S = {"cpu": 200.0, "cuda": 150.0}
TARGET = {"cpu": 0.87, "cuda": 0.91}
EVAL_SIZE, EVAL_SEEDS = 8000, 3
SNAPSHOT_EVERY = 20


def reference_namespace(path: Path = SOLUTION) -> dict:
    """The notebook's imports, warmup_cosine (and its small plot) and every reference solution cell."""
    return mutants.reference_namespace(path, before=("import course_utils as cu", "def warmup_cosine"))


def conv_rows(ns: dict) -> list[str]:
    rng = np.random.default_rng(0)
    shapes = [((2, 3, 32, 32), (4, 3, 3, 3)), ((4, 3, 32, 32), (8, 3, 3, 3)), ((8, 16, 28, 28), (32, 16, 3, 3)),
              ((16, 1, 28, 28), (16, 1, 5, 5))]
    lines = ["convolution forward, stride 1, padding 1: best of several runs (float64, BLAS on one thread)",
             f"{'x (N, C, H, W)':18}{'w (F, C, HH, WW)':18}{'loops ms':>10}{'im2col ms':>11}{'speed-up':>10}"
             f"{'torch ms':>10}"]
    for x_shape, w_shape in shapes:
        x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
        fast = ns["conv_forward_fast"](x, w, b, 1, 1)
        if not np.allclose(fast, ns["conv_forward_naive"](x, w, b, 1, 1), rtol=1e-9, atol=1e-12):
            raise RuntimeError(f"conv_forward_fast disagrees with conv_forward_naive on {x_shape}, {w_shape}")
        t_naive = cu.best_time(lambda: ns["conv_forward_naive"](x, w, b, 1, 1), 2)
        t_fast = cu.best_time(lambda: ns["conv_forward_fast"](x, w, b, 1, 1), 20)
        xt, wt, bt = torch.tensor(x), torch.tensor(w), torch.tensor(b)
        t_torch = cu.best_time(lambda: torch.nn.functional.conv2d(xt, wt, bt, padding=1), 20)
        lines.append(f"{str(x_shape):18}{str(w_shape):18}{1e3 * t_naive:10.1f}{1e3 * t_fast:11.2f}"
                     f"{t_naive / t_fast:9.0f}×{1e3 * t_torch:10.2f}")
    return lines


class Snapshots:
    """Copies of a model's weights, with the time since start, every `every` optimiser steps."""

    def __init__(self, model: torch.nn.Module, every: int):
        self.model, self.every, self.steps = model, every, 0
        self.taken: list[tuple[float, dict]] = []
        self.start = time.perf_counter()
        self.handle = register_optimizer_step_post_hook(self._after_step)

    def _after_step(self, optimizer, args, kwargs) -> None:
        self.steps += 1
        if self.steps % self.every == 0:
            self.taken.append((time.perf_counter() - self.start, copy.deepcopy(self.model.state_dict())))

    def remove(self) -> None:
        self.handle.remove()

    def first_reaching(self, target: float, X_test: torch.Tensor, y_test: np.ndarray) -> float | None:
        """Seconds into the run of the first snapshot with test accuracy >= target (None if never)."""
        probe = copy.deepcopy(self.model)
        for seconds, state in self.taken:
            probe.load_state_dict(state)
            if train.accuracy(probe, X_test, y_test) >= target:
                return seconds
        return None


def training_runs(ns: dict, device: torch.device, seeds: int) -> list[str]:
    kind = device.type
    limit, target = LIMIT_S[kind], TARGET[kind]
    X = train.images_to_tensor(cu.load_fashion_mnist_images("train"), device)
    y = torch.as_tensor(cu.load_fashion_mnist("train")[1], device=device)
    test_images, y_test = cu.load_fashion_mnist_images("test"), cu.load_fashion_mnist("test")[1]
    X_test = train.images_to_tensor(test_images, device)
    perturbed, shifted = [], []  # (images on the device, labels in their order), one per course seed
    for course_seed in range(EVAL_SEEDS):
        order = perturb.evaluation_order(len(y_test), 1000 + course_seed, EVAL_SIZE)
        for copies, shift in [(perturbed, 0), (shifted, 1)]:
            images = perturb.perturbed_images(test_images, 1000 + course_seed, EVAL_SIZE, shift=shift)
            copies.append((train.images_to_tensor(images, device), y_test[order]))
    accuracies, perturbed_accuracies, shifted_accuracies, seconds, reached = [], [], [], [], []
    for seed in range(seeds):
        cu.seed_everything(seed)
        model = ns["build_cnn"]().to(device)
        snapshots = Snapshots(model, SNAPSHOT_EVERY)
        start = time.perf_counter()
        try:
            losses = ns["train_cnn"](model, X, y, time_limit_s=limit, seed=seed)
        finally:
            snapshots.remove()
        seconds.append(time.perf_counter() - start)
        accuracies.append(train.accuracy(model, X_test, y_test))
        perturbed_accuracies.append([train.accuracy(model, Xp, yp) for Xp, yp in perturbed])
        shifted_accuracies.append([train.accuracy(model, Xp, yp) for Xp, yp in shifted])
        reached.append(snapshots.first_reaching(target, X_test, y_test))
        when = f"{reached[-1]:.1f} s" if reached[-1] is not None else "never"
        print(f"  {kind} seed {seed}: test accuracy {accuracies[-1]:.4f} (perturbed copies: "
              f"{', '.join(f'{a:.4f}' for a in perturbed_accuracies[-1])}), {len(losses)} steps in "
              f"{seconds[-1]:.1f} s, {target} reached at {when}", flush=True)
    threads = torch.get_num_threads()
    name = torch.cuda.get_device_name(device) if kind == "cuda" else f"cpu, {threads} thread{'s' * (threads != 1)}"
    times_to_target = [r for r in reached if r is not None]
    flat = [a for run in perturbed_accuracies for a in run]
    moved = [a for run in shifted_accuracies for a in run]
    drops = [clean - a for clean, run in zip(accuracies, perturbed_accuracies) for a in run]
    lines = [f"build_cnn + train_cnn, {seeds} seeds, {name}, safety net {limit:g} s (the hidden test's settings)",
             f"{'':26}{'min':>8}{'mean':>8}{'max':>8}",
             f"{'test accuracy, clean':26}{min(accuracies):8.4f}{statistics.mean(accuracies):8.4f}"
             f"{max(accuracies):8.4f}",
             f"{'test accuracy, perturbed':26}{min(flat):8.4f}{statistics.mean(flat):8.4f}{max(flat):8.4f}",
             f"{'clean − perturbed':26}{min(drops):8.4f}{statistics.mean(drops):8.4f}{max(drops):8.4f}",
             f"{'shifted ≤ 1 px (unused)':26}{min(moved):8.4f}{statistics.mean(moved):8.4f}{max(moved):8.4f}",
             f"{'training time (s)':26}{min(seconds):8.1f}{statistics.mean(seconds):8.1f}{max(seconds):8.1f}"]
    if times_to_target:
        lines.append(f"{f'time to {target} (s)':26}{min(times_to_target):8.1f}{statistics.mean(times_to_target):8.1f}"
                     f"{max(times_to_target):8.1f}")
    lines.append(f"seeds reaching {target} at the end: {sum(a >= target for a in accuracies)} of {seeds} (clean), "
                 f"{sum(min(run) >= target for run in perturbed_accuracies)} of {seeds} (every perturbed copy)")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="training runs per device, one per seed")
    parser.add_argument("--device", choices=["cpu", "cuda"], action="append",
                        help="train on this device (repeatable); default: cpu, and cuda when present")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (0: torch's default); `autograde grade` with one worker per core "
                             "gives each kernel 1")
    parser.add_argument("--skip-training", action="store_true", help="only the convolution speed-ups")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    threadpool_limits(1, user_api="blas")  # as the notebook does
    ns = reference_namespace()
    print("\n".join(conv_rows(ns)), flush=True)
    if args.skip_training:
        return
    devices = args.device or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    for kind in devices:
        print(f"\ntraining ({kind}):", flush=True)
        print("\n" + "\n".join(training_runs(ns, torch.device(kind), args.seeds)), flush=True)


if __name__ == "__main__":
    main()
