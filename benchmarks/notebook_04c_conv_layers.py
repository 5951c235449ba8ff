"""Figures for notebook 04c_conv_layers, computed with the reference solution (no pass/fail).

    .venv/bin/python benchmarks/notebook_04c_conv_layers.py [--seeds 3] [--threads 1]

Prints two tables:
- layer timings: the reference conv_forward_naive / conv_backward_naive and
  max_pool_forward_naive / max_pool_backward_naive (loops over output positions, NumPy
  inside) against torch.nn.functional.conv2d / max_pool2d and their autograd backward, in
  float64, best of several runs, on the notebook's TinyCNN layer and two larger ones;
- training: the notebook's TinyCNN (conv 8×3×3 pad 1 → ReLU → max pool 2×2 → linear) on
  the first 1,000 Fashion-MNIST training images, 2 epochs of minibatches of 50, once with
  the reference layers wrapped in torch.autograd.Functions and once with PyTorch's layers,
  for several seeds (seed 0 is the notebook's run): first loss, mean of the last 10
  losses, the largest gap between the two loss curves, validation accuracy (the notebook's
  2,000 images) and test accuracy (10,000 images), and seconds for each.

The layers, the wrappers, the model and the training loop are those of
solutions/04c_conv_layers.py, executed from its cells.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

import course_utils as cu
from autograde import mutants
from autograde.build.source import REPO_ROOT

SOLUTION = REPO_ROOT / "solutions" / "04c_conv_layers.py"

# (x shape, w shape, stride, pad, what): the first is TinyCNN's convolution on one minibatch.
CONV_LAYERS = [
    ((50, 1, 28, 28), (8, 1, 3, 3), 1, 1, "TinyCNN's conv, one minibatch"),
    ((16, 8, 14, 14), (16, 8, 3, 3), 1, 1, "a second conv layer"),
    ((4, 3, 32, 32), (16, 3, 5, 5), 2, 2, "5×5, stride 2 on 32×32 RGB"),
]
POOL_LAYERS = [((50, 8, 28, 28), (2, 2, 2), "TinyCNN's pool, one minibatch"),
               ((16, 16, 14, 14), (3, 3, 2), "3×3 windows, stride 2 (overlapping)")]


def reference_namespace(X_train_raw: np.ndarray, y_train_raw: np.ndarray) -> dict:
    """The notebook's imports, its reference layers, the autograd wrappers, TinyCNN and train_tiny_cnn."""
    return mutants.reference_namespace(SOLUTION, before=("import time",),
                                       after=("class YourConv2d", "class TinyCNN"),
                                       namespace={"X_train_raw": X_train_raw, "y_train_raw": y_train_raw})


def torch_backward_time(op: Callable[..., torch.Tensor], inputs: list[np.ndarray], dout: np.ndarray) -> float:
    tensors = [torch.tensor(a, requires_grad=True) for a in inputs]
    out = op(*tensors)
    dout_t = torch.tensor(dout)
    return cu.best_time(lambda: torch.autograd.grad(out, tensors, dout_t, retain_graph=True), 5)


def layer_table(ns: dict) -> list[str]:
    rng = np.random.default_rng(0)
    rows = [f"{'layer':44}{'ours fwd':>10}{'torch fwd':>11}{'ratio':>7}{'ours bwd':>10}{'torch bwd':>11}{'ratio':>7}"]
    for x_shape, w_shape, stride, pad, what in CONV_LAYERS:
        x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
        out, cache = ns["conv_forward_naive"](x, w, b, stride, pad)
        dout = rng.normal(size=out.shape)
        ours_f = cu.best_time(lambda: ns["conv_forward_naive"](x, w, b, stride, pad), 5)
        ours_b = cu.best_time(lambda: ns["conv_backward_naive"](dout, cache), 5)
        xt, wt, bt = torch.tensor(x), torch.tensor(w), torch.tensor(b)
        torch_f = cu.best_time(lambda: F.conv2d(xt, wt, bt, stride=stride, padding=pad), 5)
        torch_b = torch_backward_time(lambda x_, w_, b_: F.conv2d(x_, w_, b_, stride=stride, padding=pad),
                                      [x, w, b], dout)
        name = f"conv {x_shape}×{w_shape[0]}×{w_shape[2]}×{w_shape[3]} s{stride} p{pad}"
        rows.append(f"{name:44}{1e3 * ours_f:8.2f}ms{1e3 * torch_f:9.2f}ms{ours_f / torch_f:6.0f}×"
                    f"{1e3 * ours_b:8.2f}ms{1e3 * torch_b:9.2f}ms{ours_b / torch_b:6.0f}×   ({what})")
    for x_shape, (ph, pw, stride), what in POOL_LAYERS:
        x = rng.normal(size=x_shape)
        out, cache = ns["max_pool_forward_naive"](x, ph, pw, stride)
        dout = rng.normal(size=out.shape)
        ours_f = cu.best_time(lambda: ns["max_pool_forward_naive"](x, ph, pw, stride), 5)
        ours_b = cu.best_time(lambda: ns["max_pool_backward_naive"](dout, cache), 5)
        xt = torch.tensor(x)
        torch_f = cu.best_time(lambda: F.max_pool2d(xt, (ph, pw), stride), 5)
        torch_b = torch_backward_time(lambda x_: F.max_pool2d(x_, (ph, pw), stride), [x], dout)
        name = f"pool {x_shape} {ph}×{pw} s{stride}"
        rows.append(f"{name:44}{1e3 * ours_f:8.2f}ms{1e3 * torch_f:9.2f}ms{ours_f / torch_f:6.0f}×"
                    f"{1e3 * ours_b:8.2f}ms{1e3 * torch_b:9.2f}ms{ours_b / torch_b:6.0f}×   ({what})")
    return rows


def accuracy(model: torch.nn.Module, X: torch.Tensor, y: np.ndarray) -> float:
    with torch.no_grad():
        return float(np.mean(model(X).argmax(dim=1).numpy() == y))


def training_table(ns: dict, seeds: int) -> list[str]:
    X_val_raw, y_val = cu.load_fashion_mnist("val")
    X_val = torch.tensor(X_val_raw[:2000, None] / 255.0)
    X_test = torch.tensor(cu.load_fashion_mnist_images("test")[:, None] / 255.0)
    _, y_test = cu.load_fashion_mnist("test")
    rows = [f"{'seed':>4} {'layers':8}{'first loss':>11}{'last 10':>9}{'max gap':>10}{'val acc':>9}{'test acc':>10}"
            f"{'seconds':>9}"]
    for seed in range(seeds):
        results = {}
        for label, yours in [("yours", True), ("PyTorch", False)]:
            model = ns["TinyCNN"](your_layers=yours, seed=seed)
            start = time.perf_counter()
            losses = ns["train_tiny_cnn"](model, ns["X_small"], ns["y_small"], seed=seed)
            results[label] = (model, np.array(losses), time.perf_counter() - start)
        gap = float(np.max(np.abs(results["yours"][1] - results["PyTorch"][1])))
        for label, (model, losses, seconds) in results.items():
            # Both models are evaluated with PyTorch's layers (the same function, and faster).
            model.your_layers = False
            rows.append(f"{seed:4d} {label:8}{losses[0]:11.4f}{losses[-10:].mean():9.4f}{gap:10.1e}"
                        f"{accuracy(model, X_val, y_val[:2000]):9.4f}{accuracy(model, X_test, y_test):10.4f}"
                        f"{seconds:9.2f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (the notebook: BLAS 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X_train_raw, y_train_raw = cu.load_fashion_mnist("train")
    with threadpool_limits(args.threads, user_api="blas"):
        ns = reference_namespace(X_train_raw, y_train_raw)
        print(f"04c_conv_layers: reference layers vs PyTorch, float64, {args.threads} thread(s), best of 5")
        print("\n".join(layer_table(ns)))
        print(f"\nTinyCNN on 1,000 Fashion-MNIST images, 2 epochs × 20 minibatches of 50, SGD lr 0.05 momentum 0.9; "
              f"{args.seeds} seeds (seed 0 = the notebook's run); 'max gap': largest |loss difference| between the "
              "two curves")
        print("\n".join(training_table(ns, args.seeds)))


if __name__ == "__main__":
    main()
