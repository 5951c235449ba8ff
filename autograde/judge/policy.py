"""Judge a trained CartPole policy by running it here, in the grader's process.

A kernel that reports "my policy scores 500" proves nothing: the number is easy to
print, and a policy can be tuned to the few episodes a notebook shows. So the hidden
test reports only the policy's weights, as plain arrays in a fixed order, for the
architecture the notebook fixes (``Policy`` in ``07_reinforce``)::

    obs (4,) -> hidden = tanh(W1 @ obs + b1) (H,) -> logits = W2 @ hidden + b2 (2,)

and this module rebuilds that network in NumPy and plays CartPole-v1 with it on
episodes whose seeds the kernel never sees: they are drawn from the spec's
``grader_seed`` (a per-course secret the grader puts there, 0 when there is none),
so a policy that replays actions remembered from the notebook's episodes meets
other starting states here and falls over. The number of episodes is fixed by the
spec and the seeds by the secret, so a regrade gives the same grade on any machine.

Actions are **sampled** from the policy's probabilities, as during training (the
training target, a mean return of 475, is a target for the sampled policy; a policy
stopped right at that target can do worse greedily, when its randomness was part of
how it balanced). The sampling generator is seeded from the same secret, so the same
weights always get the same score. ``spec["actions"] = "greedy"`` takes the most
probable action instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

ENV_ID = "CartPole-v1"
OBS_DIM, ACTIONS = 4, 2
# Seeds below this are the ones notebooks and tutorials use (0, 1, 42, 1234 ...): never evaluate on them.
_LOWEST_SEED = 1_000_000
_SEED_TAG = 7_07  # separates these seeds from any other use of the same grader_seed


def evaluation_seeds(grader_seed: int, episodes: int) -> list[int]:
    """``episodes`` reset seeds for CartPole, fixed by ``grader_seed`` and far from small literal seeds."""
    state = np.random.SeedSequence([int(grader_seed) & 0xFFFFFFFF, _SEED_TAG]).generate_state(episodes)
    return [int(_LOWEST_SEED + s % (2**31 - _LOWEST_SEED)) for s in state]


def policy_from_weights(weights: Any, hidden: int) -> Callable[[np.ndarray], np.ndarray]:
    """π(· | obs) of the fixed network, or ValueError saying what is wrong with the weights.

    weights: (W1 (H, 4), b1 (H,), W2 (2, H), b2 (2,)), numbers, all finite. Returns
    obs (4,) -> action probabilities (2,), computed in float64.
    """
    expected = [("W1", (hidden, OBS_DIM)), ("b1", (hidden,)), ("W2", (ACTIONS, hidden)), ("b2", (ACTIONS,))]
    if not isinstance(weights, (tuple, list)) or len(weights) != len(expected):
        count = f"{len(weights)} items" if isinstance(weights, (tuple, list)) else f"a {type(weights).__name__}"
        raise ValueError(f"the policy's weights should be a tuple of 4 arrays (W1, b1, W2, b2), got {count}")
    arrays = []
    for value, (name, shape) in zip(weights, expected):
        if not isinstance(value, (np.ndarray, np.generic)) or np.asarray(value).dtype.kind not in "biuf":
            raise ValueError(f"{name} is not an array of numbers")
        array = np.asarray(value, dtype=np.float64)
        if array.shape != shape:
            raise ValueError(f"{name} has shape {array.shape}, the notebook's Policy has {shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains NaN or inf: training diverged")
        arrays.append(array)
    W1, b1, W2, b2 = arrays

    def probabilities(obs: np.ndarray) -> np.ndarray:
        logits = W2 @ np.tanh(W1 @ np.asarray(obs, dtype=np.float64) + b1) + b2
        z = np.exp(logits - logits.max())
        return z / z.sum()

    return probabilities


def greedy(probabilities: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], int]:
    """Always the most probable action (ties go to action 0, as argmax does)."""
    return lambda obs: int(np.argmax(probabilities(obs)))


def sampled(probabilities: Callable[[np.ndarray], np.ndarray], rng: np.random.Generator) -> Callable[[np.ndarray], int]:
    """An action drawn from the probabilities, by inverse CDF with one uniform number per step."""
    def act(obs: np.ndarray) -> int:
        p = probabilities(obs)
        return int(min(np.sum(rng.random() >= np.cumsum(p)), len(p) - 1))

    return act


def episode_returns(act: Callable[[np.ndarray], int], seeds: Sequence[int]) -> np.ndarray:
    """Play one CartPole-v1 episode per reset seed with ``act(obs) -> action``; their returns."""
    import gymnasium as gym

    env = gym.make(ENV_ID)
    returns = []
    try:
        for seed in seeds:
            obs, _ = env.reset(seed=int(seed))
            total, done = 0.0, False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(act(obs))
                total += float(reward)
                done = terminated or truncated
            returns.append(total)
    finally:
        env.close()
    return np.array(returns)


def check_policy(student: Any, reference: Any, spec: dict, profile: str) -> tuple[bool, str]:
    """The ``policy`` kind: the grader plays the student's policy and scores its mean return.

    spec: ``hidden`` (H), ``episodes`` (how many), ``min`` (a number or one per profile),
    ``actions`` ("sampled", the default, or "greedy"), ``grader_seed`` (the secret behind
    the seeds; put there by the grader, 0 when absent).
    """
    hidden, episodes = int(spec["hidden"]), int(spec.get("episodes", 100))
    low = spec["min"].get(profile) if isinstance(spec["min"], dict) else spec["min"]
    mode = str(spec.get("actions", "sampled"))
    try:
        probabilities = policy_from_weights(student, hidden)
    except ValueError as exc:
        return False, str(exc)
    secret = int(spec.get("grader_seed", 0)) & 0xFFFFFFFF
    act = greedy(probabilities) if mode == "greedy" else sampled(
        probabilities, np.random.default_rng(np.random.SeedSequence([secret, _SEED_TAG, 1])))
    returns = episode_returns(act, evaluation_seeds(secret, episodes))
    score = float(returns.mean())
    summary = (f"mean return {score:.1f} over {episodes} episodes the grader played with its own seeds "
               f"({mode} actions; worst {returns.min():.0f})")
    if low is not None and not score >= float(low):
        return False, f"{summary}: below the required {float(low):.0f} ({profile} profile)"
    return True, f"{summary}: meets the {profile} profile's target"
