"""The grader plays a CartPole policy itself, from plain weights, on seeds the kernel never sees."""

from __future__ import annotations

import numpy as np
import pytest

from autograde.judge import policy as judge_policy
from autograde.judge.checks import judge_check

HIDDEN = 32
SPEC = {"kind": "policy", "hidden": HIDDEN, "episodes": 20, "min": {"cpu": 425.0, "gpu": 425.0}}


def controller_weights(gain=(0.1, 0.5, 1.0, 0.5)) -> tuple[np.ndarray, ...]:
    """A balancing policy in the notebook's architecture: push right when gain · obs > 0.

    Hidden unit 0 computes tanh(100 gain · obs); the others are off; the logits are ±20 times it.
    """
    W1, b1 = np.zeros((HIDDEN, 4), np.float32), np.zeros(HIDDEN, np.float32)
    W2, b2 = np.zeros((2, HIDDEN), np.float32), np.zeros(2, np.float32)
    W1[0] = 100 * np.asarray(gain, np.float32)
    W2[:, 0] = [-20.0, 20.0]
    return W1, b1, W2, b2


def judge(weights, grader_seed=0, **spec):
    entry = {"spec": {**SPEC, "grader_seed": grader_seed, **spec}, "value": controller_weights()}
    return judge_check("the grader plays your trained policy", entry, weights, "cpu")


def test_a_policy_that_balances_passes_and_the_message_gives_the_score():
    result = judge(controller_weights())
    assert result.passed, result.message
    assert "mean return 500.0 over 20 episodes" in result.message


@pytest.mark.parametrize("actions", ["sampled", "greedy"])
def test_the_same_weights_get_the_same_score_every_time(actions):
    wobbly = controller_weights(gain=(0.0, 0.0, 1.0, 1.0))  # balances, but not always for 500 steps
    first, again = judge(wobbly, grader_seed=5, actions=actions), judge(wobbly, grader_seed=5, actions=actions)
    assert first.message == again.message


def test_policies_that_do_not_balance_fail():
    W1, b1, W2, b2 = controller_weights()
    always_right = (W1 * 0, b1, W2, b2 + np.array([0.0, 30.0], np.float32))
    result = judge(always_right)
    assert not result.passed and "below the required 425 (cpu profile)" in result.message
    rng = np.random.default_rng(0)
    untrained = tuple(rng.normal(0, 0.3, size=w.shape).astype(np.float32) for w in controller_weights())
    assert not judge(untrained).passed


def test_evaluation_seeds_come_from_the_secret_and_avoid_small_literal_seeds():
    seeds = judge_policy.evaluation_seeds(0, 50)
    assert seeds == judge_policy.evaluation_seeds(0, 50)
    assert len(set(seeds)) == 50 and min(seeds) >= 1_000_000 and max(seeds) < 2**31
    other = judge_policy.evaluation_seeds(123456789, 50)
    assert not set(seeds) & set(other)


def record_actions(act, seed: int) -> list[int]:
    """The actions of one episode of a closed-loop policy, from reset seed ``seed``."""
    import gymnasium as gym

    env = gym.make(judge_policy.ENV_ID)
    obs, _ = env.reset(seed=seed)
    actions, done = [], False
    while not done:
        actions.append(act(obs))
        obs, _, terminated, truncated, _ = env.step(actions[-1])
        done = terminated or truncated
    return actions


def test_a_policy_overfit_to_the_visible_episodes_gets_no_credit():
    # The perfect overfit: replay, open loop, the actions that balanced the pole from the
    # notebook's visible starting state (seed 0). It ignores what it sees.
    balancing = judge_policy.greedy(judge_policy.policy_from_weights(controller_weights(), HIDDEN))
    script = record_actions(balancing, seed=0)
    step = iter(range(10**6))

    def replay(obs):
        return script[min(next(step), len(script) - 1)]

    assert judge_policy.episode_returns(replay, [0])[0] == 500.0  # on its own episode it is perfect
    on_grader_seeds = []
    for seed in judge_policy.evaluation_seeds(0, 20):
        step = iter(range(10**6))
        on_grader_seeds.append(judge_policy.episode_returns(replay, [seed])[0])
    assert np.mean(on_grader_seeds) < 200, on_grader_seeds  # elsewhere it falls over
    assert judge_policy.episode_returns(balancing, judge_policy.evaluation_seeds(0, 20)).mean() == 500.0


@pytest.mark.parametrize("weights, fragment", [
    (controller_weights()[:3], "a tuple of 4 arrays (W1, b1, W2, b2), got 3 items"),
    (controller_weights() + (np.zeros(2),), "got 5 items"),
    (np.zeros((32, 4)), "got a ndarray"),
    (None, "got a NoneType"),
    ((np.zeros((4, 32)),) + controller_weights()[1:], "W1 has shape (4, 32), the notebook's Policy has (32, 4)"),
    (controller_weights()[:3] + (np.zeros((1, 2)),), "b2 has shape (1, 2)"),
    ((controller_weights()[0],) + (np.full(HIDDEN, np.nan),) + controller_weights()[2:], "b1 contains NaN or inf"),
    (("weights",) + controller_weights()[1:], "W1 is not an array of numbers"),
    ((np.float64(1.0),) + controller_weights()[1:], "W1 has shape ()"),
])
def test_malformed_weights_fail_with_a_clear_message(weights, fragment):
    result = judge(weights)
    assert not result.passed
    assert fragment in result.message, result.message


@pytest.mark.slow
def test_the_notebooks_reference_recipe_passes_on_the_graders_episodes():
    import torch

    from autograde import mutants
    from autograde.build.source import REPO_ROOT

    ns = mutants.reference_namespace(REPO_ROOT / "solutions" / "07_reinforce.py", before=("import gymnasium",),
                                     after=("def play_episodes",))
    torch.manual_seed(11)
    trained = ns["Policy"]()
    history = ns["train_reinforce"](trained, seed=11)
    assert len(history) <= 1000 and np.mean(history[-100:]) >= 475
    result = judge(ns["policy_weights"](trained), grader_seed=2026, episodes=100, actions="sampled")
    assert result.passed, result.message
