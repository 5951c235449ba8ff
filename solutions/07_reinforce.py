# %% [markdown]
# # 07 · Policy gradients: REINFORCE
#
# Every model so far learned from examples with the right answer attached: an image and
# its label, a character and the next one. Nobody can give a pole-balancing robot "the
# right answer" for each moment, though. It can only try something, see what happens,
# and be told, much later, how well it went. Learning from that kind of feedback is
# **reinforcement learning** (RL). This notebook builds the oldest and simplest method
# that trains a neural network this way, the **policy gradient** algorithm REINFORCE,
# and uses it to teach a network to balance a pole on a cart.
#
# You will implement:
#
# * `reward_to_go` and `episode_returns`: discounted returns for a batch of episodes;
# * `softmax_score` and `score_function_estimate`: the REINFORCE gradient estimator on a
#   small **bandit**, where you can check that it is right on average (unbiased) and see
#   how a **baseline** cuts its noise;
# * `Policy` and `log_prob`: a small network that maps what the agent sees to a
#   probability for each action, and the log-probability of the actions it took;
# * `reinforce_loss`: the loss whose gradient is the policy gradient, with a baseline
#   that stays out of the gradient;
# * `train_reinforce`: the training loop that solves CartPole-v1 (an average return of
#   475 over 100 consecutive episodes) within 1000 episodes. The grader plays your trained
#   policy itself, on episodes you never see.
#
# **Shapes.** A batch of episodes is stored *flat*, one step after another, episode after
# episode: `rewards` is $(T,)$ for $T$ steps in all, and `dones` $(T,)$ is True at the last
# step of each episode (so `dones[-1]` is always True). Observations are `obs` $(T, 4)$
# and actions `actions` $(T,)$, integers.

# %%
import os
import time

import gymnasium as gym
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import course_utils as cu

cu.seed_everything(0)
# The network of this notebook is tiny and is called once per time step: one thread is
# faster than several, which would spend their time waiting for each other.
torch.set_num_threads(1)
# Pictures of CartPole are drawn off-screen (render_mode="rgb_array"): tell pygame's SDL not to
# look for a display, or it complains on stderr on machines without one.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

# %% [markdown]
# ## 1. Agents, environments and rewards
#
# Reinforcement learning describes a loop between an **agent** and an **environment**.
# At each time step $t$:
#
# 1. the agent observes the **state** $s_t$ of the environment;
# 2. it picks an **action** $a_t$;
# 3. the environment answers with a **reward** $r_t$ (a number) and moves to the **next
#    state** $s_{t+1}$.
#
# An **episode** is one run of this loop from a starting state until the environment says
# it is over. The agent's behaviour is its **policy** $\pi$: here a *stochastic* one,
# $\pi_\theta(a \mid s)$, a probability for each action given the state, computed by a
# network with parameters $\theta$. The agent's goal is not a large reward now, but a large
# **return**, the sum of all rewards of the episode, with later rewards counting less:
#
# $$ G = \sum_{t=0}^{T-1} \gamma^t\, r_t , \qquad 0 \le \gamma \le 1 . $$
#
# The **discount factor** $\gamma$ (say 0.99) says how much a reward one step later is
# worth; with $\gamma < 1$ the sum stays finite even for endless tasks, and the agent prefers
# rewards sooner rather than later. Reinforcement learning is the problem of finding
# parameters $\theta$ that maximise the **expected** return,
# $J(\theta) = \mathbb{E}_{\pi_\theta}[G]$: expected, because both the policy and the
# environment are random.
#
# ### CartPole
#
# The environment of this notebook is [gymnasium](https://gymnasium.farama.org)'s
# `CartPole-v1`, a classic control task (it ships with gymnasium, nothing to download). A
# pole stands on a cart that moves left and right along a track.
#
# * **state**: 4 numbers, the cart's position (m) and velocity, the pole's angle (rad,
#   0 = upright) and its angular velocity;
# * **actions**: 0 pushes the cart to the left, 1 to the right, with a fixed force;
# * **reward**: +1 for every step, including the last;
# * **end**: the episode *terminates* when the pole leans more than 12° or the cart
#   leaves the track ($|x| > 2.4$), and is *truncated* after 500 steps. So the return
#   without discount is the number of steps the pole stayed up, at most 500.
#
# `env.reset(seed=s)` starts an episode (the starting state is random, within ±0.05 of
# zero in each coordinate, and the seed fixes it) and returns the first observation;
# `env.step(action)` returns `(obs, reward, terminated, truncated, info)`.
#
# The task counts as **solved** when the average return over 100 consecutive episodes
# reaches 475. An agent that pushes at random keeps the pole up for about 20 steps:

# %%
env = gym.make("CartPole-v1")
obs, info = env.reset(seed=0)
print("first observation (x, x', angle, angle'):", obs)
print("actions:", env.action_space, "  observations:", env.observation_space.shape)
rng = np.random.default_rng(0)
random_returns = []
for episode in range(20):
    obs, _ = env.reset(seed=episode)
    total, done = 0.0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(int(rng.integers(2)))
        total += reward
        done = terminated or truncated
    random_returns.append(total)
print("returns of a random agent:", random_returns)
print(f"mean {np.mean(random_returns):.1f}: far from 475")
assert 10 < np.mean(random_returns) < 35, "the text says a random agent keeps the pole up for about 20 steps"

# %% [markdown]
# ### Why this is not supervised learning
#
# Two things make RL harder than the classification of the earlier notebooks.
#
# * **Decisions are sequential.** An action changes the state the agent sees next, so a
#   mistake early in the episode (a push in the wrong direction) may only cost reward
#   many steps later. Nobody tells the agent which of its actions were good.
# * **The reward is not differentiable.** In supervised learning the loss is a function
#   of the network's output, and backpropagation gives $\partial L / \partial W$. Here the
#   network outputs probabilities, an action is *sampled* from them, and the environment
#   (a physics simulator, a game, the real world) turns the action into a reward. There is
#   no gradient through the sampling, and none through the environment: we cannot
#   backpropagate "the pole fell" into the weights.
#
# What we *can* differentiate is the probability the policy gave to the actions it took.
# The next sections turn that into a gradient of the expected return.
#
# ## 2. Returns and reward-to-go
#
# An action at time $t$ cannot change the rewards that came before it. So to judge action
# $a_t$ we use only the rewards from $t$ on, the **reward-to-go**, discounted from $t$:
#
# $$ G_t = r_t + \gamma\, r_{t+1} + \gamma^2 r_{t+2} + \dots + \gamma^{T-1-t}\, r_{T-1}
#      = r_t + \gamma\, G_{t+1} , \qquad G_{T} = 0 . $$
#
# The recursion on the right computes all of them in one pass **backwards** through the
# episode. $G_0$, the reward-to-go of the first step, is the episode's discounted return
# $G$.
#
# A batch holds several episodes one after another. The reward-to-go must **restart at
# every episode boundary**: the rewards of the next episode have nothing to do with this
# one's actions. Walking backwards, that means: at a step whose `dones[t]` is True (the
# last step of an episode), the "future" $G_{t+1}$ is 0.
#
# A worked example: two episodes, of 3 and 2 steps, every reward 1, $\gamma = 0.9$:
#
# | $t$ | 0 | 1 | 2 | 3 | 4 |
# | --- | --- | --- | --- | --- | --- |
# | `rewards` | 1 | 1 | 1 | 1 | 1 |
# | `dones` | False | False | True | False | True |
# | $G_t$ | 1 + 0.9 · 1.9 = 2.71 | 1 + 0.9 · 1 = 1.9 | 1 | 1 + 0.9 · 1 = 1.9 | 1 |
#
# and the two episodes' returns are $G_0 = 2.71$ and $G_3 = 1.9$.
#
# ### Exercise 1: `reward_to_go` and `episode_returns`
#
# A loop backwards over the steps is the clearest way; keep a running sum, reset it at
# episode ends. `episode_returns` then picks the reward-to-go of the **first** step of each
# episode: the steps right after a `done`, and step 0.

# %% solution="returns"
def reward_to_go(rewards: np.ndarray, dones: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = r_t + γ G_{t+1}, restarted after each episode's last step. rewards, dones: (T,) -> (T,) floats."""
    returns = np.zeros(len(rewards), dtype=np.float64)
    ### BEGIN SOLUTION
    running = 0.0
    for t in reversed(range(len(rewards))):
        if dones[t]:
            running = 0.0  # the last step of an episode: nothing of this episode comes after it
        running = rewards[t] + gamma * running
        returns[t] = running
    ### END SOLUTION
    return returns


def episode_returns(rewards: np.ndarray, dones: np.ndarray, gamma: float) -> np.ndarray:
    """The discounted return G_0 of each episode in the batch. rewards, dones: (T,) -> (E,), E = dones.sum()."""
    ### BEGIN SOLUTION
    starts = np.flatnonzero(np.concatenate([[True], dones[:-1]]))  # step 0 and every step after a done
    return reward_to_go(rewards, dones, gamma)[starts]
    ### END SOLUTION


# %% tests="test_returns" points=3
ones, ex_dones = np.ones(5), np.array([False, False, True, False, True])
G = reward_to_go(ones, ex_dones, 0.9)
cu.check_shape(G, (5,), "reward_to_go of the worked example", hint="one reward-to-go per step")
# One episode first, without and then with a discount: each check isolates one part of the recursion.
one_episode = np.array([False, False, True])
cu.check_close(reward_to_go(np.array([1.0, 2.0, 3.0]), one_episode, 1.0), [6.0, 5.0, 3.0],
               "one episode with rewards 1, 2, 3 and γ = 1",
               hint="G_t sums the rewards from t to the END of the episode, r_t included: walk BACKWARDS from the "
                    "last step, which keeps its own reward (reset the running sum BEFORE adding r_t)")
cu.check_close(reward_to_go(np.array([1.0, 2.0, 3.0]), one_episode, 0.5), [2.75, 3.5, 3.0],
               "one episode with rewards 1, 2, 3 and γ = 0.5",
               hint="G_t = r_t + γ G_{t+1}: γ multiplies the FUTURE, not r_t itself; G_1 = 2 + 0.5 · 3 and "
                    "G_0 = 1 + 0.5 · G_1")
cu.check_close(G[2:], [1.0, 1.9, 1.0], "reward-to-go of steps 2, 3 and 4",
               hint="the last step of an episode (dones[t] True) has G_t = r_t: the next episode's rewards "
                    "must not flow back into this one")
cu.check_close(G, [2.71, 1.9, 1.0, 1.9, 1.0], "reward_to_go of the worked example",
               hint="G_t = r_t + γ G_{t+1}: walk BACKWARDS from the end; γ multiplies the future, not r_t")
cu.check_close(reward_to_go(ones, ex_dones, 1.0), [3, 2, 1, 2, 1], "reward_to_go with γ = 1",
               hint="with γ = 1, G_t counts the steps left in the episode, including t itself")
cu.check_close(reward_to_go(np.array([1.0, 2.0, 3.0]), np.array([True, True, True]), 0.5), [1.0, 2.0, 3.0],
               "three episodes of one step each")
cu.check_close(episode_returns(ones, ex_dones, 0.9), [2.71, 1.9], "episode_returns of the worked example",
               hint="the return of an episode is the DISCOUNTED reward-to-go of its FIRST step: "
                    "reward_to_go(...)[starts], with starts = step 0 and every step after a done")
rewards_ex = np.array([0.0, 0.0, 1.0, 5.0, 2.0, -1.0])
dones_ex = np.array([False, False, True, True, False, True])
cu.check_close(episode_returns(rewards_ex, dones_ex, 0.5), [0.25, 5.0, 1.5],
               "returns of three episodes: (0, 0, 1), (5,) and (2, −1) with γ = 0.5",
               hint="0 + 0.5 · 0 + 0.25 · 1 = 0.25 for the first; the second has a single step")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report_call

_rng = hidden_rng(1)
_T = 40
_r = _rng.normal(size=_T)
_d = _rng.random(_T) < 0.2
_d[-1] = True
report_call("reward-to-go of unseen episodes", reward_to_go, _r.copy(), _d.copy(), 0.95, rtol=1e-10)
report_call("returns of unseen episodes", episode_returns, _r.copy(), _d.copy(), 0.95, rtol=1e-10)
report_call("undiscounted (γ = 1)", reward_to_go, _r.copy(), _d.copy(), 1.0, rtol=1e-10)
report_call("γ = 0: each step's own reward", reward_to_go, _r.copy(), _d.copy(), 0.0, rtol=1e-10)
_single = np.zeros(25, dtype=bool)
_single[-1] = True
report_call("one long episode", reward_to_go, _rng.normal(size=25), _single, 0.9, rtol=1e-10)
report_call("returns of episodes of one step", episode_returns, _rng.normal(size=6), np.ones(6, dtype=bool), 0.9,
            rtol=1e-10)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. The score-function estimator
#
# We want to climb $J(\theta) = \mathbb{E}_{x \sim p_\theta}[f(x)]$, where $x$ is
# whatever the policy samples (an action, or a whole episode) and $f(x)$ the reward it
# brings. $f$ has no gradient we can use, but the **probability** $p_\theta(x)$ does. For a
# discrete $x$ the expectation is a sum, and the gradient moves inside it:
#
# $$ \begin{aligned}
# \nabla_\theta\, \mathbb{E}_x[f(x)]
#   &= \nabla_\theta \sum_x p_\theta(x)\, f(x)
#    = \sum_x \nabla_\theta p_\theta(x)\, f(x) \\
#   &= \sum_x p_\theta(x)\, \frac{\nabla_\theta p_\theta(x)}{p_\theta(x)}\, f(x)
#    = \sum_x p_\theta(x)\, \nabla_\theta \log p_\theta(x)\, f(x)
#    = \mathbb{E}_x\big[f(x)\, \nabla_\theta \log p_\theta(x)\big] .
# \end{aligned} $$
#
# The trick is the middle step, $\nabla p = p\, \nabla \log p$. What it buys: the gradient
# is again an **expectation under the policy**, so we can estimate it by *sampling*: draw
# $x_1, \dots, x_N$ from the policy, and average $f(x_i)\, \nabla_\theta \log p_\theta(x_i)$.
# Only $\log p_\theta$ is differentiated, never $f$: the reward can come from anywhere.
# $\nabla_\theta \log p_\theta(x)$ is called the **score** of $x$, hence the name
# *score-function estimator*; in RL it is **REINFORCE** (Williams, 1992).
#
# Read it as a rule: make each sampled outcome more likely, in proportion to the reward it
# got. Good outcomes are pushed up more than bad ones, and on average the policy moves
# towards higher reward.
#
# **A baseline.** Subtracting a constant $b$ from the reward does not change the
# expectation, because the scores average to zero:
# $\mathbb{E}_x[\nabla_\theta \log p_\theta(x)] = \sum_x \nabla_\theta p_\theta(x) =
# \nabla_\theta \sum_x p_\theta(x) = \nabla_\theta 1 = 0$. So
# $\mathbb{E}_x[(f(x) - b)\, \nabla_\theta \log p_\theta(x)]$ is the *same* gradient, for
# any $b$ that does not depend on the sampled $x$. But its **variance** can be much smaller.
# When every reward is positive (CartPole's always are), the plain estimator pushes up every
# sampled action, and only the sizes of the pushes differ; with $b$ near the average reward,
# better-than-average outcomes are pushed up and worse ones down.
#
# ### A bandit
#
# The smallest RL problem has one state and one decision: a **multi-armed bandit**, a row
# of slot machines. Arm $a$ pays $r_a$. Our policy is a softmax over $K$ preferences
# $\theta \in \mathbb{R}^K$: $\pi_a = e^{\theta_a} / \sum_k e^{\theta_k}$. Here everything
# can be computed exactly:
#
# * the expected reward is $J(\theta) = \sum_a \pi_a r_a$, and its gradient is
#   $\partial J / \partial \theta_k = \pi_k\, (r_k - J)$;
# * the score of arm $a$ is $\nabla_\theta \log \pi_a = e_a - \pi$, the one-hot vector of
#   $a$ minus the probabilities (notebook 02 derived the same gradient for the softmax loss).
#
# ### Exercise 2: the estimator on a bandit
#
# * `softmax_score(theta, actions)`: the score $e_{a_i} - \pi$ of each action, $(N, K)$.
#   Compute the softmax stably (subtract the largest preference first).
# * `score_function_estimate(theta, actions, rewards, baseline)`: the REINFORCE estimate
#   of $\nabla J$ from $N$ sampled actions and their rewards,
#   $\frac{1}{N} \sum_i (r_i - b)\, (e_{a_i} - \pi)$, shape $(K,)$.

# %% solution="bandit"
def softmax_score(theta: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """∇_θ log softmax(θ)[a] = onehot(a) − softmax(θ) for each action. theta: (K,), actions: (N,) ints -> (N, K)."""
    ### BEGIN SOLUTION
    probs = np.exp(theta - theta.max())
    probs /= probs.sum()
    return np.eye(len(theta))[actions] - probs
    ### END SOLUTION


def score_function_estimate(theta: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                            baseline: float = 0.0) -> np.ndarray:
    """REINFORCE estimate of ∇_θ E[r]: mean over i of (r_i − b) ∇_θ log π(a_i). actions, rewards: (N,) -> (K,)."""
    ### BEGIN SOLUTION
    return np.mean((rewards - baseline)[:, None] * softmax_score(theta, actions), axis=0)
    ### END SOLUTION


# %% [markdown]
# Four arms that pay 11, 10, 13 and 12: every arm pays well, and arm 2 best. The test
# below does what a proof would: it computes the **exact expectation** of your estimator,
# by running it on each arm once and weighting by the arm's probability,
# $\sum_a \pi_a\, \hat g(a)$, and compares it with the exact gradient $\nabla J$ (formed
# by PyTorch's autograd from $J(\theta) = \sum_a \pi_a r_a$). They must agree to rounding,
# with and without a baseline.

# %%
theta_bandit = np.array([0.5, 1.0, -0.5, 0.0])
arm_rewards = np.array([11.0, 10.0, 13.0, 12.0])


def softmax(theta):
    z = np.exp(theta - theta.max())
    return z / z.sum()


def exact_gradient(theta, rewards):
    """∇_θ Σ_a softmax(θ)_a r_a, by autograd (float64)."""
    theta_t = torch.tensor(theta, requires_grad=True)
    (torch.softmax(theta_t, dim=0) * torch.tensor(rewards)).sum().backward()
    return theta_t.grad.numpy()


def exact_expectation(estimator, theta, rewards, baseline):
    """E_a[ĝ(a)] = Σ_a π_a ĝ(a): the estimator's mean, by enumerating the arms."""
    probs = softmax(theta)
    return sum(probs[a] * estimator(theta, np.array([a]), rewards[[a]], baseline) for a in range(len(theta)))


probs_bandit = softmax(theta_bandit)
print("π =", softmax(theta_bandit).round(3), "  J =", softmax(theta_bandit) @ arm_rewards)
print("exact ∇J =", exact_gradient(theta_bandit, arm_rewards).round(4))

# %% tests="test_bandit" points=3
S = softmax_score(theta_bandit, np.array([2, 0, 2]))
cu.check_shape(S, (3, 4), "softmax_score for 3 actions and 4 arms", hint="one row per action, one column per arm")
cu.check_close(S.sum(axis=1), np.zeros(3), "each score's entries summed", atol=1e-12,
               hint="onehot(a) − π sums to 1 − 1 = 0: did you subtract the probabilities?")
cu.check_close(S[0], np.eye(4)[2] - probs_bandit, "the score of arm 2",
               hint="∇ log π_a = onehot(a) − π in that order (π − onehot(a) is the gradient of −log π), with "
                    "π = softmax(θ) and a the arm that was PULLED: np.eye(K)[actions]")
theta_t = torch.tensor(theta_bandit, requires_grad=True)
torch.log_softmax(theta_t, dim=0)[0].backward()
cu.check_close(S[1], theta_t.grad.numpy(), "the score of arm 0 vs torch.autograd of log softmax", rtol=1e-10)
cu.check_close(softmax_score(np.array([1000.0, 0.0]), np.array([1])), [[-1.0, 1.0]],
               "softmax_score with preferences (1000, 0)",
               hint="exp(1000) overflows: subtract θ.max() before exponentiating, it does not change the softmax")
g = score_function_estimate(theta_bandit, np.array([2, 0, 2]), np.array([13.0, 11.0, 13.0]))
cu.check_shape(g, (4,), "score_function_estimate from 3 samples", hint="average over the samples: one entry per arm")
cu.check_close(g, (13 * S[0] + 11 * S[1] + 13 * S[2]) / 3, "the estimate from 3 samples without baseline",
               hint="the MEAN over samples of r_i · score_i")
cu.check_close(score_function_estimate(theta_bandit, np.array([2, 0, 2]), np.array([13.0, 11.0, 13.0]), 12.0),
               (1 * S[0] - 1 * S[1] + 1 * S[2]) / 3, "the estimate with baseline 12",
               hint="weight each score by (r_i − b): SUBTRACT the baseline from the reward")
for b in (0.0, 11.5, -3.0):
    cu.check_close(exact_expectation(score_function_estimate, theta_bandit, arm_rewards, b),
                   exact_gradient(theta_bandit, arm_rewards), f"E[estimate] with baseline {b} vs the exact ∇J",
                   rtol=1e-10, atol=1e-12,
                   hint="on average the estimator must equal the true gradient, whatever the baseline")
print("Unbiased: the estimator's exact expectation equals ∇J, with and without a baseline.")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(2)
_theta = _rng.normal(size=5)
_actions = _rng.integers(0, 5, size=12)
_rewards = _rng.normal(3.0, 2.0, size=12)
report_call("scores of unseen actions", softmax_score, _theta.copy(), _actions.copy(), rtol=1e-10)
report_call("scores with large preferences", softmax_score, _theta * 400, _actions.copy(), rtol=1e-10, atol=1e-12)
report_call("estimate without baseline", score_function_estimate, _theta.copy(), _actions.copy(), _rewards.copy(),
            rtol=1e-10)
report_call("estimate with a baseline", score_function_estimate, _theta.copy(), _actions.copy(), _rewards.copy(), 2.5,
            rtol=1e-10)
_arms = _rng.normal(5.0, 3.0, size=5)
report("exact expectation of the estimate with a baseline",
       lambda: exact_expectation(score_function_estimate, _theta, _arms, 4.0), rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ### Variance, with and without a baseline
#
# Unbiased is not enough: a single sample's estimate can be far from the mean. The exact
# variance of a one-sample estimate is again a sum over the arms,
# $\operatorname{Var} = \sum_a \pi_a \lVert \hat g(a) \rVert^2 - \lVert \nabla J \rVert^2$
# (summed over the $K$ coordinates). Below, on the left: the running average of 2,000
# one-sample estimates of $\partial J / \partial \theta_2$ (the best arm's preference),
# without a baseline and with $b = J$. Both head for the exact value (they are unbiased),
# but the one without a baseline wanders far longer. On the right, the variance as a
# function of $b$, exactly (line) and measured from 500 samples (dots). The best constant baseline is close to, though not exactly,
# the average reward $J$.

# %%
with cu.needs_your_code():
    rng = np.random.default_rng(1)
    J_bandit = probs_bandit @ arm_rewards
    samples = rng.choice(4, size=2000, p=probs_bandit)
    one_sample = {b: np.stack([score_function_estimate(theta_bandit, samples[i:i + 1], arm_rewards[samples[i:i + 1]], b)
                               for i in range(len(samples))]) for b in (0.0, J_bandit)}  # each (2000, 4)
    baselines = np.linspace(-2, 20, 111)

    def exact_variance(b):
        mean = exact_gradient(theta_bandit, arm_rewards)
        return sum(probs_bandit[a] * np.sum(score_function_estimate(theta_bandit, np.array([a]), arm_rewards[[a]], b)
                                            ** 2) for a in range(4)) - np.sum(mean ** 2)

    measured_b = np.linspace(-2, 20, 12)
    measured = [np.stack([score_function_estimate(theta_bandit, samples[i:i + 1], arm_rewards[samples[i:i + 1]], b)
                          for i in range(500)]).var(axis=0).sum() for b in measured_b]
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    n = np.arange(1, len(samples) + 1)
    for b, label in [(0.0, "no baseline"), (J_bandit, f"baseline b = J = {J_bandit:.2f}")]:
        axes[0].plot(n, np.cumsum(one_sample[b][:, 2]) / n,
                     label=f"{label}: std of one estimate {one_sample[b][:, 2].std():.2f}")
    axes[0].axhline(exact_gradient(theta_bandit, arm_rewards)[2], color="k", linestyle="--", label="exact ∂J/∂θ₂")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("number of samples averaged")
    axes[0].set_ylabel("estimate of ∂J/∂θ₂")
    axes[0].legend(fontsize=8)
    exact_curve = np.array([exact_variance(b) for b in baselines])
    axes[1].plot(baselines, exact_curve, label="exact")
    axes[1].plot(measured_b, measured, "o", label="measured (500 samples each)")
    axes[1].axvline(J_bandit, color="k", linestyle="--", label="b = J")
    axes[1].set_xlabel("baseline b")
    axes[1].set_ylabel("variance of a one-sample estimate")
    axes[1].set_yscale("log")
    axes[1].legend(fontsize=8)
    plt.show()
    print(f"variance without baseline {exact_variance(0.0):.2f}, with b = J {exact_variance(J_bandit):.3f}: "
          f"{exact_variance(0.0) / exact_variance(J_bandit):.0f}× smaller")
    # The claims of the text above, read off the figure.
    fine_b = np.linspace(J_bandit - 2, J_bandit + 2, 4001)
    best_b = fine_b[np.argmin([exact_variance(b) for b in fine_b])]
    print(f"the best constant baseline: b = {best_b:.3f} (J = {J_bandit:.3f})")
    assert 0.01 < abs(best_b - J_bandit) < 1, "the text says: the best baseline is close to J, though not exactly J"
    assert one_sample[0.0][:, 2].std() > 3 * one_sample[J_bandit][:, 2].std(), "no baseline: a far noisier estimate"
    exact_at_measured = np.array([exact_variance(b) for b in measured_b])
    assert np.all(np.abs(np.array(measured) / exact_at_measured - 1) < 0.3), "the dots should follow the line"

# %% [markdown]
# **Question.** Subtracting a baseline $b$ from the rewards changed the variance of the
# estimator by orders of magnitude, yet its mean not at all. Show why
# $\mathbb{E}_x\big[(f(x) - b)\, \nabla_\theta \log p_\theta(x)\big] = \nabla_\theta J$ for any
# constant $b$. Then say what goes wrong if the baseline depends on the sampled outcome
# itself, for instance $b = f(x)$.

# %% [markdown] answer="explain_baseline_unbiased" points=2
# *Model answer.* Split the expectation:
# $\mathbb{E}[(f - b) \nabla \log p] = \mathbb{E}[f \nabla \log p] - b\, \mathbb{E}[\nabla \log p]$.
# The first term is $\nabla_\theta J$ (the score-function identity). The second is zero:
# $\mathbb{E}_x[\nabla_\theta \log p_\theta(x)] = \sum_x p_\theta(x)
# \frac{\nabla_\theta p_\theta(x)}{p_\theta(x)} = \nabla_\theta \sum_x p_\theta(x) = \nabla_\theta 1 = 0$:
# the scores average to zero, so any constant times them averages to zero too (on the bandit,
# each score $e_a - \pi$ sums to 0 over the arms when weighted by $\pi$). The step that
# pulls $b$ out of the expectation needs $b$ **not to depend on the sampled $x$**; it may
# depend on $\theta$ or, in an episode, on the state and time step (anything decided before
# the action). With $b = f(x)$ every weight $f(x) - b$ is 0: the estimate is always 0,
# biased, and nothing is learned; a baseline that depends on the action in any other way
# biases the gradient in the same manner. The variance drops because $f - b$ is small when
# $b$ is near the typical reward, whereas with all rewards positive ($\approx 11$–$13$ here)
# every sample pushes hard on its own arm and only the small differences carry the signal.

# %% [markdown]
# ## 4. From a bandit to episodes
#
# In an episode, $x$ is the whole **trajectory** $\tau = (s_0, a_0, r_0, s_1, a_1, \dots)$.
# Its probability is a product of the environment's transition probabilities (unknown, but
# independent of $\theta$) and the policy's choices, so
# $\nabla_\theta \log p_\theta(\tau) = \sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t)$:
# the environment drops out. Combine that with two facts from above, an action cannot
# change earlier rewards (so use the reward-to-go $G_t$, not the whole return) and a
# baseline $b_t$ that does not depend on $a_t$ leaves the mean unchanged, and the policy
# gradient from $E$ sampled episodes is
#
# $$ \nabla_\theta J \approx \frac{1}{E} \sum_{\text{episodes}} \sum_t
#    \nabla_\theta \log \pi_\theta(a_t \mid s_t)\, \big(G_t - b_t\big) . $$
#
# $A_t = G_t - b_t$ is the **advantage**: how much better than usual things went after
# action $a_t$. Our baseline $b_t$ is the average reward-to-go, over the episodes of the
# batch, at the same time step $t$: early in an episode much reward is still to come, late
# in it little, and a baseline that knows the time step removes that difference.
#
# ### The policy network
#
# The policy maps an observation to one **logit** per action, and a softmax turns logits
# into probabilities. The grader rebuilds your network from its weights, so its shape is
# fixed:
#
# $$ \text{obs}\ (4) \xrightarrow{\ \texttt{hidden}:\ \text{Linear}(4, 32)\ } \tanh
#    \xrightarrow{\ \texttt{out}:\ \text{Linear}(32, 2)\ } \text{logits}\ (2) $$
#
# with the two layers stored as attributes named `hidden` and `out` (PyTorch then names
# their weights `hidden.weight`, `hidden.bias`, `out.weight`, `out.bias`). Keep PyTorch's
# default initialisation.
#
# `log_prob(logits, actions)` returns $\log \pi(a_t \mid s_t)$ for the action actually
# taken at each step: `F.log_softmax` over the actions (the last axis; it is stable where
# `torch.log(torch.softmax(...))` can give $-\infty$), then pick one entry per row with
# `gather` or indexing by `torch.arange(N), actions`.
#
# ### Exercise 3: `Policy` and `log_prob`

# %% solution="policy"
class Policy(nn.Module):
    """π(a | s) for CartPole: obs (N, 4) -> logits (N, 2), through 32 tanh units. Layers `hidden` and `out`."""

    def __init__(self, obs_dim: int = 4, hidden: int = 32, actions: int = 2):
        super().__init__()
        ### BEGIN SOLUTION
        self.hidden = nn.Linear(obs_dim, hidden)
        self.out = nn.Linear(hidden, actions)
        ### END SOLUTION

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs: (N, 4) float32 -> logits (N, 2)."""
        ### BEGIN SOLUTION
        return self.out(torch.tanh(self.hidden(obs)))
        ### END SOLUTION


def log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """log π(a_t | s_t) of the action taken at each step. logits: (N, A), actions: (N,) int64 -> (N,)."""
    ### BEGIN SOLUTION
    return F.log_softmax(logits, dim=-1).gather(-1, actions[:, None]).squeeze(-1)
    ### END SOLUTION


# %% tests="test_policy" points=3
torch.manual_seed(0)
policy = Policy()
shapes = {name: tuple(p.shape) for name, p in policy.state_dict().items()}
cu.check_equal(sorted(shapes), ["hidden.bias", "hidden.weight", "out.bias", "out.weight"], "the Policy's weights",
               hint="two nn.Linear layers stored as self.hidden and self.out, nothing else with weights")
cu.check_equal(shapes["hidden.weight"] + shapes["out.weight"], (32, 4, 2, 32), "the layers' weight shapes",
               hint="hidden = nn.Linear(4, 32), out = nn.Linear(32, 2)")
obs_batch = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.1, -0.5, 0.05, 0.8], [-1.0, 0.3, -0.2, -1.5]])
logits = policy(obs_batch)
cu.check_shape(logits, (3, 2), "policy(3 observations)", hint="one logit per action, for every observation")
expected = policy.out(torch.tanh(policy.hidden(obs_batch)))
cu.check_close(logits.detach(), expected.detach(), "the logits", rtol=1e-6,
               hint="logits = out(tanh(hidden(obs))): tanh in between, and no softmax (log_prob does that)")
logits_ex = torch.tensor([[2.0, 0.0], [0.0, 0.0], [-1.0, 3.0]])
lp = log_prob(logits_ex, torch.tensor([0, 1, 0]))
cu.check_shape(lp, (3,), "log_prob of 3 actions", hint="one log-probability per step: the taken action's only")
cu.check_close(lp, [-np.log1p(np.exp(-2.0)), np.log(0.5), -np.log1p(np.exp(4.0))],
               "log_prob of actions (0, 1, 0)", rtol=1e-6,
               hint="log softmax over the ACTIONS (dim=-1), then the entry of the action that was TAKEN in each row")
cu.check_close(log_prob(torch.tensor([[0.0, 100.0]]), torch.tensor([0])), [-100.0], "log_prob of a very unlikely action",
               rtol=1e-5, hint="log(softmax(...)) rounds to log(0) = −inf: use F.log_softmax")
cu.check_close(log_prob(torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([2])), [3 - np.log(np.exp([1, 2, 3]).sum())],
               "log_prob with three actions", rtol=1e-6)
assert log_prob(logits, torch.tensor([0, 1, 1])).requires_grad, (
    "log_prob must keep the graph: its gradient is the policy gradient (no .detach(), .item() or NumPy inside)")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report, report_call

_rng = hidden_rng(3)
_shapes = {"hidden.weight": (32, 4), "hidden.bias": (32,), "out.weight": (2, 32), "out.bias": (2,)}
_weights = {name: torch.as_tensor(_rng.normal(0.0, 0.5, size=shape), dtype=torch.float32)
            for name, shape in _shapes.items()}


def _policy_with_unseen_weights():
    net = Policy()
    net.load_state_dict(_weights)
    return net


_obs = torch.as_tensor(_rng.normal(size=(20, 4)), dtype=torch.float32)
report("logits of unseen states with unseen weights", lambda: _policy_with_unseen_weights()(_obs.clone()), rtol=1e-5,
       atol=1e-6)
report("parameter count", lambda: sum(p.numel() for p in Policy().parameters()), kind="equal")
_logits = torch.as_tensor(_rng.normal(0.0, 3.0, size=(30, 3)), dtype=torch.float64)
_acts = torch.as_tensor(_rng.integers(0, 3, size=30))
report_call("log-probabilities of unseen actions", log_prob, _logits.clone(), _acts.clone(), rtol=1e-10)
report_call("log-probabilities of unlikely actions", log_prob, _logits * 60, _acts.clone(), rtol=1e-10)
### END HIDDEN TESTS

# %% [markdown]
# ### Playing episodes
#
# The next function plays a batch of episodes with a policy, all at once: each time step
# it asks the network for the action probabilities of every episode still running (one
# call for the whole batch, which is much faster than one per episode), samples an action
# for each, and steps each environment. It is given, not an exercise; read it once. It
# returns the batch as flat arrays, in the format of Exercise 1.
#
# Sampling from probabilities $p$ uses the **inverse CDF**: draw $u$ uniform in $[0, 1)$;
# the action is the number of cumulative probabilities $p_0, p_0 + p_1, \dots$ that are
# $\le u$. With `greedy=True` the policy takes its most probable action instead.

# %%
_cartpoles: list = []  # environments are reused from batch to batch: making one costs more than an episode step


def play_episodes(policy: nn.Module, seeds, rng: np.random.Generator, greedy: bool = False) -> dict:
    """Play one CartPole-v1 episode per reset seed, in lockstep.

    Returns flat arrays over the T steps of all episodes, episode after episode:
    "obs" (T, 4) float32, "actions" (T,) int64, "rewards" (T,), "dones" (T,) bool (True at
    each episode's last step), and "returns" (E,): each episode's undiscounted return.
    """
    while len(_cartpoles) < len(seeds):
        _cartpoles.append(gym.make("CartPole-v1"))
    envs = _cartpoles[:len(seeds)]
    obs = np.stack([env.reset(seed=int(seed))[0] for env, seed in zip(envs, seeds)])  # (E, 4)
    running = np.ones(len(envs), dtype=bool)
    steps = [[] for _ in envs]  # per episode: (obs, action, reward) of each step
    while running.any():
        live = np.flatnonzero(running)
        with torch.no_grad():  # acting needs no gradient: the update recomputes the log-probabilities
            probs = torch.softmax(policy(torch.as_tensor(obs[live])), dim=-1).numpy()  # (L, A)
        if greedy:
            actions = probs.argmax(axis=1)
        else:
            actions = (rng.random((len(live), 1)) >= probs.cumsum(axis=1)).sum(axis=1)
            actions = np.minimum(actions, probs.shape[1] - 1)  # in case the probabilities sum to just below 1
        for i, action in zip(live, actions):
            next_obs, reward, terminated, truncated, _ = envs[i].step(int(action))
            steps[i].append((obs[i].copy(), action, reward))
            obs[i] = next_obs
            running[i] = not (terminated or truncated)
    flat = [step for episode in steps for step in episode]
    dones = np.concatenate([np.arange(len(episode)) == len(episode) - 1 for episode in steps])
    return {"obs": np.stack([s[0] for s in flat]).astype(np.float32),
            "actions": np.array([s[1] for s in flat], dtype=np.int64),
            "rewards": np.array([s[2] for s in flat], dtype=np.float64),
            "dones": dones,
            "returns": np.array([sum(s[2] for s in episode) for episode in steps])}


def time_step_baseline(returns: np.ndarray, dones: np.ndarray) -> np.ndarray:
    """b_t: the mean reward-to-go, over the batch's episodes, at each step's time index. (T,) -> (T,)."""
    starts = np.flatnonzero(np.concatenate([[True], dones[:-1]]))
    lengths = np.diff(np.append(starts, len(dones)))
    time_index = np.arange(len(dones)) - np.repeat(starts, lengths)  # 0, 1, ... within each episode
    totals = np.bincount(time_index, weights=returns)
    counts = np.bincount(time_index)  # episodes still running at each time index
    return (totals / counts)[time_index]


def policy_weights(policy: Policy) -> tuple[np.ndarray, ...]:
    """The policy as plain arrays, in the order the grader reads them: (W1 (32, 4), b1 (32,), W2 (2, 32), b2 (2,))."""
    return tuple(p.detach().cpu().numpy().copy()
                 for p in (policy.hidden.weight, policy.hidden.bias, policy.out.weight, policy.out.bias))


with cu.needs_your_code():
    torch.manual_seed(0)
    demo_batch = play_episodes(Policy(), seeds=[0, 1, 2], rng=np.random.default_rng(0))
    print("an untrained policy, 3 episodes:", {k: v.shape for k, v in demo_batch.items()})
    print("their returns:", demo_batch["returns"], "  episode ends at steps", np.flatnonzero(demo_batch["dones"]))

# %% [markdown]
# ## 5. The REINFORCE loss
#
# PyTorch minimises losses, so we write down a **loss** whose gradient is *minus* the
# policy gradient estimate, and let `backward()` and the optimiser do the rest:
#
# $$ L(\theta) = -\frac{1}{E} \sum_{t} \log \pi_\theta(a_t \mid s_t)\, \big(G_t - b_t\big) , $$
#
# summed over all $T$ steps of the batch and divided by the number of **episodes** $E$
# (not the number of steps: the estimator averages over episodes, and each episode
# contributes the *sum* over its steps). Its value means little; its gradient is what we
# want. Three details matter:
#
# * **the sign**: gradient *descent* on $L$ is gradient *ascent* on $J$;
# * **the advantages are constants**: $G_t$ and $b_t$ only weight the log-probabilities.
#   With a baseline that is computed by a network (a learned *value* function, a common
#   improvement), `b` would carry a gradient of its own, and $\partial L / \partial b$ would
#   change the policy update into something that is no longer the policy gradient. Cut the
#   advantages out of the graph with `.detach()`;
# * the log-probabilities **must** keep their graph: they are the only path from $L$ back
#   to $\theta$.
#
# ### Exercise 4: `reinforce_loss`

# %% solution="loss"
def reinforce_loss(log_probs: torch.Tensor, returns: torch.Tensor, baseline: torch.Tensor,
                   num_episodes: int) -> torch.Tensor:
    """L = −(1/E) Σ_t log π(a_t|s_t) · (G_t − b_t), advantages detached. (T,), (T,), (T,) -> scalar."""
    ### BEGIN SOLUTION
    advantages = (returns - baseline).detach()  # constants: only log_probs may carry the gradient
    return -(log_probs * advantages).sum() / num_episodes
    ### END SOLUTION


# %% tests="test_loss" points=3
lp_ex = torch.tensor([-0.1, -2.0, -0.5, -0.7], requires_grad=True)
G_ex = torch.tensor([3.0, 2.0, 1.0, 1.5])
b_ex = torch.tensor([2.0, 1.0, 1.0, 2.0])
# Without a baseline first: the sign and the divisor alone.
loss_no_b = reinforce_loss(lp_ex.detach(), G_ex, torch.zeros(4), 2)
cu.check_shape(loss_no_b, (), "reinforce_loss", hint="one number: sum over the steps")
cu.check_close(loss_no_b, -(-0.1 * 3 - 2.0 * 2 - 0.5 * 1 - 0.7 * 1.5) / 2, "the loss with a zero baseline",
               hint="−Σ_t log π_t · G_t divided by the number of EPISODES (2), not of steps (4); mind the minus "
                    "sign: descent on the loss must be ascent on J")
loss = reinforce_loss(lp_ex, G_ex, b_ex, 2)
cu.check_close(loss.detach(), -(-0.1 * 1 - 2.0 * 1 - 0.5 * 0 - 0.7 * -0.5) / 2, "the loss of a 4-step batch of 2 episodes",
               hint="weight each log π_t by its advantage G_t − b_t: SUBTRACT the baseline")
assert loss.requires_grad, ("the loss carries no graph, so no gradient can reach the policy: detach only the "
                            "advantages (returns − baseline), never log_probs or the loss")
loss.backward()
cu.check_close(lp_ex.grad, -(G_ex - b_ex) / 2, "∂L/∂log π", rtol=1e-6,
               hint="the gradient of −(1/E) Σ log π_t A_t with respect to log π_t is −A_t / E")
# A baseline computed by a network carries a gradient; the loss must not send any into it.
lp_ex2 = torch.tensor([-0.1, -2.0, -0.5, -0.7], requires_grad=True)
learned_b = torch.tensor([2.0, 1.0, 1.0, 2.0], requires_grad=True)
reinforce_loss(lp_ex2, G_ex, learned_b * 1.0, 2).backward()
assert learned_b.grad is None or torch.all(learned_b.grad == 0), (
    "the baseline received a gradient from the policy loss: detach the advantages, (returns − baseline).detach()")
cu.check_close(lp_ex2.grad, -(G_ex - b_ex) / 2, "∂L/∂log π with a baseline that carries a gradient", rtol=1e-6)
# One gradient step on the loss must make the action with a positive advantage more likely.
logits_step = torch.zeros(1, 2, requires_grad=True)
reinforce_loss(log_prob(logits_step, torch.tensor([1])), torch.tensor([5.0]), torch.tensor([1.0]), 1).backward()
with torch.no_grad():
    p_after = torch.softmax(logits_step - 0.1 * logits_step.grad, dim=-1)[0, 1].item()
assert p_after > 0.5, (f"after a gradient-descent step on the loss, the action with advantage +4 has probability "
                       f"{p_after:.3f} < 0.5: the loss has the wrong sign (descent on L must be ascent on J)")
print("All visible tests passed.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_rng, report

_rng = hidden_rng(4)
_lp, _G, _b = (_rng.normal(size=17) - 1.0, _rng.normal(5.0, 2.0, size=17), _rng.normal(4.0, 1.0, size=17))


def _loss_and_grads(num_episodes):
    lp = torch.tensor(_lp, requires_grad=True)
    b = torch.tensor(_b, requires_grad=True)
    loss = reinforce_loss(lp, torch.tensor(_G), b * 1.0, num_episodes)
    loss.backward()
    return (loss.detach().numpy(), lp.grad.numpy(), np.zeros(len(_b)) if b.grad is None else b.grad.numpy())


report("loss and gradients, 3 episodes", lambda: _loss_and_grads(3), rtol=1e-10, atol=1e-12)
report("loss and gradients, 1 episode", lambda: _loss_and_grads(1), rtol=1e-10, atol=1e-12)
report("loss with a zero baseline", lambda: reinforce_loss(torch.tensor(_lp), torch.tensor(_G), torch.zeros(17), 5),
       rtol=1e-10)
### END HIDDEN TESTS

# %% [markdown]
# **Question.** A student replaces the time-step baseline by each step's own reward-to-go,
# $b_t = G_t$, reasoning that "the best guess of the return is the return itself". What
# does `reinforce_loss` then give?
#
# * (a) the policy gradient with the smallest possible variance: an unbiased estimate
#   with no noise at all;
# * (b) a gradient of exactly zero at every update: every advantage $G_t - b_t$ is 0, so
#   the policy never changes;
# * (c) the same gradient as without a baseline: the baseline is detached, so it cannot
#   affect anything.
#
# Set `own_return_baseline_answer` to "a", "b" or "c".

# %% solution="choice_own_return_baseline"
### BEGIN SOLUTION
own_return_baseline_answer = "b"
### END SOLUTION

# %% tests="test_choice_own_return_baseline" points=1
cu.check_choice(own_return_baseline_answer, "abc", "own_return_baseline_answer")
print("Answer recorded; it is marked at grading.")
### BEGIN HIDDEN TESTS
from autograde.probe import report_choice

report_choice("answer", own_return_baseline_answer)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. Training on CartPole
#
# Each update of REINFORCE:
#
# 1. play a batch of episodes with the current policy (`play_episodes`, sampled actions);
# 2. compute the reward-to-go $G_t$ of every step (your `reward_to_go`) and the baseline
#    $b_t$ (`time_step_baseline`);
# 3. recompute the log-probabilities of the actions taken, **with** the graph this time:
#    `log_prob(policy(obs), actions)`;
# 4. the loss, `zero_grad`, `backward`, `step`.
#
# One more trick makes the step size independent of how long the episodes are: divide the
# returns and the baseline by the standard deviation of the advantages $G_t - b_t$ in the
# batch (plus 1e-8). Multiplying all advantages by the same positive number changes only
# the length of the gradient, not its direction.
#
# ### Exercise 5: `train_reinforce`
#
# * `rng = np.random.default_rng(seed)` draws everything random: the reset seeds of each
#   batch (`rng.integers(2**31, size=...)`) and the actions (pass `rng` to `play_episodes`);
# * `torch.optim.Adam(policy.parameters(), lr=lr)`;
# * batches of `batch_episodes` episodes, but never more than `episodes` in all (the last
#   batch may be smaller), with $\gamma$ = `gamma`;
# * keep every episode's undiscounted return (`batch["returns"]`) in a list, as floats, and
#   **stop** after the update in which the mean of the last 100 returns reaches `target`
#   (so that the solved policy is not trained further, and no time is wasted);
# * `time_limit_s` is a safety net: stop when that many seconds have passed. The episode
#   budget, not the clock, is what limits the work.
#
# The defaults are a recipe that solves CartPole in 400 to 800 episodes, a few seconds on
# a laptop. The tests run your function with its defaults (and their own seeds).

# %% solution="train"
def train_reinforce(policy: Policy, *, episodes: int = 1000, batch_episodes: int = 10, lr: float = 1e-2,
                    gamma: float = 0.99, target: float = 475.0, seed: int = 0,
                    time_limit_s: float = 120.0) -> list[float]:
    """Train policy in place with REINFORCE on CartPole-v1; the undiscounted return of every episode played.

    Stops once the mean of the last 100 returns reaches target, after `episodes` episodes,
    or (a safety net) after time_limit_s seconds.
    """
    history: list[float] = []
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    start = time.perf_counter()
    while len(history) < episodes and time.perf_counter() - start < time_limit_s:
        seeds = rng.integers(2**31, size=min(batch_episodes, episodes - len(history)))
        batch = play_episodes(policy, seeds, rng)
        returns = reward_to_go(batch["rewards"], batch["dones"], gamma)
        baseline = time_step_baseline(returns, batch["dones"])
        scale = np.std(returns - baseline) + 1e-8
        loss = reinforce_loss(log_prob(policy(torch.as_tensor(batch["obs"])), torch.as_tensor(batch["actions"])),
                              torch.as_tensor(returns / scale, dtype=torch.float32),
                              torch.as_tensor(baseline / scale, dtype=torch.float32), len(seeds))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.extend(float(g) for g in batch["returns"])
        if len(history) >= 100 and np.mean(history[-100:]) >= target:
            break
    ### END SOLUTION
    return history


# %% tests="test_train" points=5
from torch.optim.optimizer import register_optimizer_step_pre_hook

torch.manual_seed(0)
short = train_reinforce(Policy(), episodes=25, seed=0)
cu.check_equal(len(short), 25, "episodes played with episodes=25 (batches of 10)",
               hint="never play more than `episodes` in all: the last batch has 5")
cu.check_equal(all(isinstance(g, float) for g in short), True, "every return is a Python float",
               hint="history.extend(float(g) for g in batch['returns'])")
torch.manual_seed(0)
cu.check_equal(train_reinforce(Policy(), episodes=25, seed=0), short, "a second run with the same seeds",
               hint="everything random must come from rng = np.random.default_rng(seed) (and torch's seed)")
torch.manual_seed(0)
policy = Policy()
before = policy_weights(policy)
stopped = train_reinforce(policy, episodes=300, target=10.0, seed=1)
cu.check_equal(len(stopped), 100, "episodes played with target=10 (a random policy scores about 20)",
               hint="stop as soon as there are 100 returns whose mean reaches the target")
assert any(not np.array_equal(a, b) for a, b in zip(before, policy_weights(policy))), (
    "the policy's weights did not change: call optimizer.step() after loss.backward()")
# What each backward pass adds to a gradient, and the gradient the optimiser then uses: the same,
# unless the gradients of earlier updates were left in p.grad.
torch.manual_seed(0)
policy = Policy()
added, used = [], []
hook = policy.out.bias.register_hook(lambda grad: added.append(grad.clone()))
step_hook = register_optimizer_step_pre_hook(lambda optimizer, args, kwargs: used.append(policy.out.bias.grad.clone()))
try:
    train_reinforce(policy, episodes=30, seed=2)
finally:
    hook.remove()
    step_hook.remove()
cu.check_equal(len(used), 3, "optimiser steps for 30 episodes in batches of 10", hint="one update per batch")
cu.check_close(torch.stack(used), torch.stack(added[-len(used):]), "the gradient of each update vs its own batch's",
               rtol=1e-5, hint="call optimizer.zero_grad() before loss.backward(): PyTorch ADDS new gradients to old")
print("All visible tests passed; the full training run is in the next cell.")
### BEGIN HIDDEN TESTS
from autograde.probe import hidden_seed, report

torch.manual_seed(hidden_seed(5))
_policy = Policy()
_history = train_reinforce(_policy, seed=hidden_seed(6), time_limit_s=200.0)
report("solved within 1000 episodes (mean of the last 100 returns >= 475)",
       lambda: bool(len(_history) <= 1000 and len(_history) >= 100 and np.mean(_history[-100:]) >= 475), kind="equal")
report("the grader plays your trained policy on its own episodes", lambda: policy_weights(_policy), kind="policy",
       hidden=32, episodes=100, actions="sampled", min={"cpu": 425.0, "gpu": 425.0})
### END HIDDEN TESTS

# %% [markdown]
# ### The training run
#
# Your recipe, from a fresh network, with seed 0 (a few seconds; the grader runs the
# same recipe with seeds of its own). The learning curve shows every episode's return
# and the 100-episode moving average the target is about.

# %%
with cu.needs_your_code():
    torch.manual_seed(0)
    trained_policy = Policy()
    start = time.perf_counter()
    history = train_reinforce(trained_policy, seed=0)
    train_seconds = time.perf_counter() - start
    moving = np.convolve(history, np.ones(100) / 100, mode="valid")  # mean of episodes i-99 .. i
    solved = len(history) if len(history) >= 100 and moving[-1] >= 475 else None
    plt.figure(figsize=(9, 3.8))
    plt.plot(np.arange(1, len(history) + 1), history, ".", markersize=3, alpha=0.4, label="return of each episode")
    plt.plot(np.arange(100, len(history) + 1), moving, label="mean of the last 100 episodes")
    plt.axhline(475, color="k", linestyle="--", linewidth=1, label="solved: 475")
    plt.xlabel("episode")
    plt.ylabel("return (steps the pole stayed up)")
    plt.legend(loc="upper left")
    plt.show()
    print(f"{len(history)} episodes in {train_seconds:.1f} s: "
          + (f"solved after episode {solved}." if solved else "not solved within the budget."))
    assert solved is not None and 400 <= solved <= 800, (
        "the exercise says its recipe, run with its defaults as here, solves CartPole in 400 to 800 episodes; "
        f"this run: {'not solved' if solved is None else f'solved after {solved}'}")

# %% [markdown]
# ### How the grader judges the policy
#
# The grader does not take the notebook's word for any of this. It receives your policy's
# four weight arrays, `policy_weights(policy)`, rebuilds the same network in its own
# process, and plays 100 episodes of CartPole with starting states drawn from a secret seed
# that is different for every course and never reaches the notebook. It samples the
# actions from your policy's probabilities, as in training (its random numbers come from
# the same secret, so a regrade gives the same score), and it wants an average return of
# at least 425. (Why not 475? Training stops the first time the average of 100 noisy
# returns touches 475, so a policy that has just got there scores somewhat less on fresh
# episodes: between about 440 and 500 for the recipe above.) A policy that had memorised the episodes it was trained on would meet new
# starting states there; only one that has learned to balance passes. Here is a similar
# evaluation on seeds of our own, with sampled and with greedy actions (the more probable
# one, always). A policy stopped right when it reached the target sometimes does *worse*
# greedily: part of how it balances is its randomness.

# %%
with cu.needs_your_code():
    sampled = play_episodes(trained_policy, seeds=range(10_000, 10_050), rng=np.random.default_rng(0))
    greedy = play_episodes(trained_policy, seeds=range(10_000, 10_050), rng=np.random.default_rng(0), greedy=True)
    print(f"sampled actions: mean return {sampled['returns'].mean():.1f} (worst {sampled['returns'].min():.0f})")
    print(f"greedy actions:  mean return {greedy['returns'].mean():.1f} (worst {greedy['returns'].min():.0f})")
    assert 425 <= sampled["returns"].mean(), "the text says the recipe's policy scores 440 to 500 on fresh episodes"

# %% [markdown]
# ### Watching it balance
#
# `gym.make("CartPole-v1", render_mode="rgb_array")` makes an environment whose
# `env.render()` returns the current picture as an array of pixels (height, width, 3).
# Below, frames of one episode of your trained policy (greedy, so it is always the same
# episode), and a slider to step through all of them.

# %%
def record_frames(policy: nn.Module, seed: int, max_steps: int = 500) -> list[np.ndarray]:
    """The rendered frames (H, W, 3) of one greedy episode."""
    render_env = gym.make("CartPole-v1", render_mode="rgb_array")
    obs, _ = render_env.reset(seed=seed)
    frames, done = [render_env.render()], False
    while not done and len(frames) <= max_steps:
        with torch.no_grad():
            action = int(policy(torch.as_tensor(obs)[None]).argmax())
        obs, _, terminated, truncated, _ = render_env.step(action)
        frames.append(render_env.render())
        done = terminated or truncated
    render_env.close()
    return frames


with cu.needs_your_code():
    frames = record_frames(trained_policy, seed=2026)
    picks = np.linspace(0, len(frames) - 1, 6).astype(int)
    fig, axes = plt.subplots(1, 6, figsize=(15, 2.2))
    for ax, i in zip(axes, picks):
        ax.imshow(frames[i][100:320])  # the band of the picture where the cart and the pole are
        ax.set_title(f"step {i}")
        ax.set_axis_off()
    plt.show()

    def show_frame(step=0):
        plt.figure(figsize=(6, 4))
        plt.imshow(frames[step])
        plt.title(f"step {step} of {len(frames) - 1}")
        plt.axis("off")
        plt.show()

    widgets.interact(show_frame, step=widgets.IntSlider(0, 0, len(frames) - 1, continuous_update=False));

# %% [markdown]
# For comparison, the untrained network of the same shape falls within a few dozen steps:

# %%
with cu.needs_your_code():
    torch.manual_seed(0)
    untrained_frames = record_frames(Policy(), seed=2026)
    print(f"the untrained policy fell after {len(untrained_frames) - 1} steps")
    assert len(untrained_frames) - 1 < 60, "the text says the untrained network falls within a few dozen steps"
    picks = np.linspace(0, len(untrained_frames) - 1, 6).astype(int)
    fig, axes = plt.subplots(1, 6, figsize=(15, 2.2))
    for ax, i in zip(axes, picks):
        ax.imshow(untrained_frames[i][100:320])
        ax.set_title(f"step {i}")
        ax.set_axis_off()
    plt.show()

# %% [markdown]
# ## Summary
#
# * Reinforcement learning: an agent acts, the environment answers with rewards, and the
#   policy is trained to maximise the expected discounted return $\sum_t \gamma^t r_t$.
# * The reward has no gradient, but the probability of what the policy did has one. The
#   score-function identity $\nabla \mathbb{E}[f] = \mathbb{E}[f\, \nabla \log p]$ turns
#   samples into an unbiased estimate of the policy gradient.
# * Each action is weighted by its reward-to-go minus a baseline: the baseline leaves the
#   estimate unbiased and cuts its variance, and it must stay out of the gradient.
# * REINFORCE is simple and unbiased but noisy; actor-critic methods (a learned value
#   baseline), PPO and their relatives build on exactly this estimator.
#
# That is the last notebook of the course: from a straight line fitted by gradient
# descent to a network that learns to act.
