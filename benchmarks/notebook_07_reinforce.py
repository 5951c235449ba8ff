"""Figures for notebook 07_reinforce, computed with the reference solution (no pass/fail).

    python benchmarks/notebook_07_reinforce.py [--seeds 10] [--parallel 2]

For each seed: a fresh ``Policy`` (torch seeded with it) trained by the reference
``train_reinforce`` with its defaults (batches of 10 episodes, Adam 1e-2, γ = 0.99, at
most 1000 episodes, stop when the last 100 returns average 475), then the grader's own
evaluation of the trained weights (``autograde.judge.policy``: 100 episodes on seeds drawn
from a secret, sampled and greedy actions). Rows: episodes to solve (the length of the
training history when solved), seconds of training, and the grader's mean returns.

Seeds run ``--parallel`` at a time in separate processes with one thread each (the
notebook's setting), so two seeds use the two cores of a small machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

SOLUTION = Path(__file__).resolve().parents[1] / "solutions" / "07_reinforce.py"
TARGET, BUDGET_EPISODES, BUDGET_S = 475.0, 1000, 120.0


def run_seed(seed: int) -> dict:
    os.environ["OMP_NUM_THREADS"] = "1"
    import numpy as np
    import torch

    from autograde import mutants
    from autograde.judge import policy as judge

    torch.set_num_threads(1)
    ns = mutants.reference_namespace(SOLUTION, before=("import gymnasium",), after=("def play_episodes",))
    torch.manual_seed(seed)
    policy = ns["Policy"]()
    start = time.perf_counter()
    history = ns["train_reinforce"](policy, seed=seed)
    seconds = time.perf_counter() - start
    solved = len(history) >= 100 and float(np.mean(history[-100:])) >= TARGET
    probabilities = judge.policy_from_weights(ns["policy_weights"](policy), 32)
    seeds = judge.evaluation_seeds(1000 + seed, 100)
    rng = np.random.default_rng(np.random.SeedSequence([1000 + seed, 707, 1]))
    return {"seed": seed, "episodes": len(history), "solved": solved, "seconds": seconds,
            "sampled": float(judge.episode_returns(judge.sampled(probabilities, rng), seeds).mean()),
            "greedy": float(judge.episode_returns(judge.greedy(probabilities), seeds).mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.parallel) as pool:
        rows = list(pool.map(run_seed, range(args.seeds)))
    print(f"CartPole-v1 with the reference REINFORCE recipe, {args.seeds} seeds, {args.parallel} at a time, "
          "1 thread each")
    print(f"{'seed':>4} {'episodes':>9} {'solved':>7} {'seconds':>8} {'grader, sampled':>16} {'grader, greedy':>15}")
    for r in rows:
        print(f"{r['seed']:>4} {r['episodes']:>9} {'yes' if r['solved'] else 'NO':>7} {r['seconds']:>8.1f} "
              f"{r['sampled']:>16.1f} {r['greedy']:>15.1f}")
    solved = [r for r in rows if r["solved"] and r["episodes"] <= BUDGET_EPISODES and r["seconds"] <= BUDGET_S]
    episodes, seconds = [r["episodes"] for r in rows], [r["seconds"] for r in rows]
    print(f"solved (mean of 100 consecutive returns >= {TARGET:.0f}) within {BUDGET_EPISODES} episodes and "
          f"{BUDGET_S:.0f} s: {len(solved)} of {len(rows)} seeds")
    print(f"episodes to solve: median {statistics.median(episodes):.0f}, max {max(episodes)}; "
          f"seconds: median {statistics.median(seconds):.1f}, max {max(seconds):.1f}")
    print(f"grader's mean return (100 episodes, sampled; the hidden test wants 425): min {min(r['sampled'] for r in rows):.1f}; "
          f"greedy: min {min(r['greedy'] for r in rows):.1f}")
    print(f"wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
