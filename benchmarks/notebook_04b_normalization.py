"""Figures for notebook 04b_normalization, computed with the reference solution.

    .venv/bin/python benchmarks/notebook_04b_normalization.py [--seeds 3]

Prints:
- the reference batch norm and layer norm against PyTorch (F.batch_norm with its running
  averages, F.layer_norm, autograd) in float64: the largest relative differences, and the
  time of the two batch norm backward passes on a (512, 256) batch;
- the experiment of section 7 (deep nets of 5 hidden layers of 100 units, every weight
  N(0, s²) for nine log-spaced s from 1e-4 to 1, with and without the reference batch norm
  wrapped in a torch.autograd.Function; Adam 1e-3, 10 epochs over 2,000 training images in
  batches of 50): for each seed (initial weights and batch order) and scale, the training and
  validation accuracy, the mean loss of the last epoch, and the training time; seed 0 is the
  notebook's;
- the batch-size figure of section 8: the spread of one example's batch-norm output over
  200 random batches per batch size (layer norm's is zero).

The code is the notebook's (imports, every reference solution cell, and the cells that
define the PyTorch wrappers and the networks), so the figures are those students see.
Fails (non-zero exit) if a layer disagrees with PyTorch by more than 1e-9, or if the
notebook's claims fail for any seed: BN training accuracy >= 0.75 at every scale and its
validation accuracy never more than 0.02 below the plain net's; plain >= 0.75 at 4 scales at
most, below 0.7 at the four smallest, a last-epoch loss above 1000 at s = 1. (The notebook
also asserts, for its seed 0, that some small scale leaves the plain net at chance.) Timings are printed, not judged.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from autograde import mutants
from autograde.build.source import REPO_ROOT

SOLUTION = REPO_ROOT / "solutions" / "04b_normalization.py"
TOL = 1e-9


def reference_namespace(path: Path = SOLUTION) -> dict:
    """The notebook's imports, every reference solution cell, the wrappers and the network helpers."""
    return mutants.reference_namespace(path, before=("import course_utils as cu",),
                                       after=("class NumpyBatchNorm", "def load_subset"))


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def against_torch(ns: dict) -> float:
    """Largest relative difference from PyTorch over forward, running averages and gradients."""
    rng = np.random.default_rng(0)
    x, gamma, beta, dout = rng.normal(size=(32, 16)) * 3 + 1, rng.normal(size=16), rng.normal(size=16), \
        rng.normal(size=(32, 16))
    worst = {}
    bn_param = {"mode": "train", "momentum": 0.2}
    mean, var = torch.zeros(16, dtype=torch.float64), torch.ones(16, dtype=torch.float64)
    for _ in range(3):
        out, cache = ns["batchnorm_forward"](x, gamma, beta, bn_param)
        x_t, g_t, b_t = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
        out_t = F.batch_norm(x_t, mean, var, g_t, b_t, training=True, momentum=0.2)
        out_t.backward(torch.tensor(dout))
        worst["batch norm forward"] = _rel(out, out_t.detach())
    worst["running averages"] = max(_rel(bn_param["running_mean"], mean), _rel(bn_param["running_var"], var))
    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        grads = ns[name](dout, cache)
        worst[name] = max(_rel(g, t.grad) for g, t in zip(grads, (x_t, g_t, b_t)))
    out, cache = ns["layernorm_forward"](x, gamma, beta)
    x_t, g_t, b_t = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    out_t = F.layer_norm(x_t, (16,), g_t, b_t)
    out_t.backward(torch.tensor(dout))
    worst["layer norm forward"] = _rel(out, out_t.detach())
    worst["layernorm_backward"] = max(_rel(g, t.grad) for g, t in zip(ns["layernorm_backward"](dout, cache),
                                                                       (x_t, g_t, b_t)))
    for name, value in worst.items():
        print(f"  {name:<24} {value:.1e}")
    x_big, dout_big = rng.normal(size=(512, 256)), rng.normal(size=(512, 256))
    _, cache = ns["batchnorm_forward"](x_big, np.ones(256), np.zeros(256), {"mode": "train"})
    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        start = time.perf_counter()
        for _ in range(50):
            ns[name](dout_big, cache)
        print(f"  {name} on (512, 256): {1e3 * (time.perf_counter() - start) / 50:.2f} ms")
    return max(worst.values())


def scale_experiment(ns: dict, seed: int) -> tuple[dict, float]:
    """Section 7 at one seed: {label: (9, 3) array of train acc, val acc, last-epoch loss}, and the seconds."""
    scales = np.logspace(-4, 0, 9)
    results, start = {}, time.perf_counter()
    for label, norm in [("plain", None), ("batch norm", ns["StudentBatchNorm"])]:
        rows = []
        for scale in scales:
            net = ns["make_deep_net"](scale, norm, seed=seed)
            losses = ns["train_model"](net, ns["X_small"], ns["y_small"], seed=seed)
            rows.append((ns["accuracy"](net, ns["X_small"], ns["y_small"]), ns["accuracy"](net, ns["X_check"], ns["y_check"]),
                         float(np.mean(losses[-40:]))))
        results[label] = np.array(rows)
    return results, time.perf_counter() - start


def batch_spread(ns: dict) -> np.ndarray:
    """Section 8: the spread of example 0's batch-norm output over 200 batches, per batch size."""
    rng = np.random.default_rng(0)
    projection = rng.normal(size=(784, 64)) / np.sqrt(784)
    features = ns["X_small"].numpy().astype(np.float64) @ projection
    spreads = []
    for B in [2, 4, 8, 16, 32, 64, 128, 256]:
        rows = []
        for _ in range(200):
            batch = np.vstack([features[:1], features[1 + rng.choice(len(features) - 1, size=B - 1, replace=False)]])
            rows.append(ns["batchnorm_forward"](batch, np.ones(64), np.zeros(64), {"mode": "train"})[0][0])
        spreads.append(np.std(rows, axis=0).mean())
    return np.array(spreads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    ns = reference_namespace()
    failures = []
    print("reference against PyTorch (largest relative difference, float64):")
    if against_torch(ns) > TOL:
        failures.append("a layer disagrees with PyTorch")
    print("\nsection 7: accuracy after 10 epochs (train / validation), mean loss of the last epoch")
    for seed in range(args.seeds):
        results, seconds = scale_experiment(ns, seed)
        print(f"seed {seed}: 18 networks in {seconds:.1f} s")
        print(f"  {'scale':>8} | {'plain train':>11} {'val':>6} {'loss':>9} | {'BN train':>8} {'val':>6} {'loss':>6}")
        for scale, p, b in zip(np.logspace(-4, 0, 9), results["plain"], results["batch norm"]):
            print(f"  {scale:8.1e} | {p[0]:11.3f} {p[1]:6.3f} {p[2]:9.3g} | {b[0]:8.3f} {b[1]:6.3f} {b[2]:6.3f}")
        plain, normed = results["plain"], results["batch norm"]
        if not (normed[:, 0].min() >= 0.75 and np.sum(plain[:, 0] >= 0.75) <= 4 and plain[:4, 0].max() < 0.7
                and plain[-1, 2] > 1000 and np.all(normed[:, 1] >= plain[:, 1] - 0.02)):
            failures.append(f"seed {seed}: a claim of section 7 fails")
    spread = batch_spread(ns)
    print("\nsection 8: spread of one example's batch-norm output, B = 2 ... 256:", np.round(spread, 3))
    print(f"  ratio B = 4 / B = 256: {spread[1] / spread[-1]:.1f}")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
