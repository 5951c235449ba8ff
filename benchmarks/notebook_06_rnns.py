"""Figures for notebook 06_rnns, computed with the reference solution (no pass/fail).

    python benchmarks/notebook_06_rnns.py [--seeds 10] [--lstm-seeds 10] [--lstm-config graded|large] [--device cpu|cuda]

Rows:
- the anchor: the bigram count model (add-0.5 smoothing) on the fixed training names,
  its loss on the validation names in nats per character, and the graded target
  (bigram − 0.15);
- the character RNN (NumPy, the student's pieces): train_char_rnn with its default
  recipe (the hidden test's: 2,500 steps of 32 names) for several seeds, its validation
  loss (the grader's metric: mean −log softmax of char_log_probs at the true next
  character) and its training time;
- the LSTM (PyTorch): CharLSTM trained with the notebook's train_char_lstm for several
  seeds, in the graded configuration (128 units, 1,500 steps, both profiles) or a larger
  one (256 units, 3,000 steps, not graded: it shows that more capacity overfits these
  4,389 names), its validation loss against the graded target (bigram − 0.40) and its
  training time on the chosen device.

The reference code is taken from solutions/06_rnns.py (its solution cells, the import
cell, the data, bigram, init_char_rnn, adam_update and train_char_lstm cells), so the
figures are those of the code students see.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import course_utils as cu
from autograde import mutants
from autograde.build.source import REPO_ROOT

SOLUTION = REPO_ROOT / "solutions" / "06_rnns.py"
MARGIN_RNN = 0.15
MARGIN_LSTM = 0.40
LSTM_CONFIGS = {"graded": dict(hidden=128, steps=1500), "large": dict(hidden=256, steps=3000)}


def reference_namespace(path: Path = SOLUTION) -> dict:
    """The notebook's imports, its data and helper cells, and every reference solution cell."""
    return mutants.reference_namespace(
        path, before=("import course_utils as cu", "train_words, val_words = cu.names_split()"),
        after=("def bigram_log_probs", "def init_char_rnn", "def adam_update", "def train_char_lstm"))


def validation_loss(log_probs: np.ndarray, targets: np.ndarray) -> float:
    """What the grader's nll metric computes: rows normalised, mean −log p(true next token)."""
    s = log_probs.astype(np.float64)
    top = s.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(s - top).sum(axis=1))
    return float(np.mean(log_z - s[np.arange(len(targets)), targets]))


def summary(title: str, losses: list[float], seconds: list[float], target: float) -> list[str]:
    return [title,
            f"{'':30}{'min':>8}{'mean':>8}{'max':>8}",
            f"{'validation loss (nats/char)':30}{min(losses):8.4f}{statistics.mean(losses):8.4f}{max(losses):8.4f}",
            f"{'training time (s)':30}{min(seconds):8.1f}{statistics.mean(seconds):8.1f}{max(seconds):8.1f}",
            f"seeds at or below the target {target:.4f}: {sum(v <= target for v in losses)} of {len(losses)}"]


def rnn_table(ns: dict, seeds: int, bigram_val: float) -> list[str]:
    targets = cu.next_char_targets(ns["val_words"])
    losses, seconds = [], []
    for seed in range(seeds):
        start = time.perf_counter()
        params, train_losses = ns["train_char_rnn"](list(ns["train_words"]), seed=seed)
        seconds.append(time.perf_counter() - start)
        losses.append(validation_loss(ns["char_log_probs"](params, list(ns["val_words"])), targets))
        print(f"  rnn seed {seed}: validation {losses[-1]:.4f} nats/char, {len(train_losses)} steps in "
              f"{seconds[-1]:.1f} s", flush=True)
    return summary(f"character RNN (NumPy, 64 units, the hidden test's recipe), {seeds} seeds, one BLAS thread",
                   losses, seconds, bigram_val - MARGIN_RNN)


def lstm_table(ns: dict, seeds: int, config: str, device: torch.device, bigram_val: float) -> list[str]:
    settings = LSTM_CONFIGS[config]
    targets = cu.next_char_targets(ns["val_words"])
    losses, seconds = [], []
    for seed in range(seeds):
        torch.manual_seed(seed)
        model = ns["CharLSTM"](ns["V"], hidden=settings["hidden"]).to(device)
        start = time.perf_counter()
        ns["train_char_lstm"](model, list(ns["train_words"]), steps=settings["steps"], seed=seed)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
        losses.append(validation_loss(ns["lstm_log_probs"](model, list(ns["val_words"])), targets))
        print(f"  lstm seed {seed}: validation {losses[-1]:.4f} nats/char in {seconds[-1]:.1f} s", flush=True)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu, one torch thread"
    return summary(f"CharLSTM, {config} configuration ({settings['hidden']} units, {settings['steps']} steps), "
                   f"{seeds} seeds, {where}", losses, seconds, bigram_val - MARGIN_LSTM)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="character RNN training runs, one per seed")
    parser.add_argument("--lstm-seeds", type=int, default=10, help="LSTM training runs (0: none)")
    parser.add_argument("--lstm-config", choices=sorted(LSTM_CONFIGS), default="graded",
                        help="the graded LSTM configuration, or a larger one for comparison")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu",
                        help="device for the LSTM (the RNN is NumPy)")
    args = parser.parse_args(argv)
    ns = reference_namespace()
    bigram_val = ns["bigram_val"]
    print(f"bigram (add-0.5): validation {bigram_val:.4f} nats/char; RNN target {bigram_val - MARGIN_RNN:.4f}, "
          f"LSTM target {bigram_val - MARGIN_LSTM:.4f}", flush=True)
    lines = rnn_table(ns, args.seeds, bigram_val) if args.seeds else []
    if args.lstm_seeds:
        lines += [""] + lstm_table(ns, args.lstm_seeds, args.lstm_config, torch.device(args.device), bigram_val)
    print()
    print(f"bigram (add-0.5 smoothing) on the validation names: {bigram_val:.4f} nats/char")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
