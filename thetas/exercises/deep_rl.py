"""Checks for the exercises of ``notebooks/09_deep_rl.ipynb``: deep reinforcement learning, a network whose outputs
are expectations.

Q(s, a) = E[return | action a, state s];  the Bellman (TD) target  y = r + γ (1 − terminated) max_a' Q(s', a');
the discounted return  G = r_1 + γ r_2 + γ² r_3 + ...;  the greedy action  argmax_a Q(s, a).
"""
import numpy as np

from . import Verdict, as_array, as_number, call, right, wrong

__all__ = ["REWARD", "GAMMA", "Q_NEXT", "Q_TABLE", "check_bellman_target", "check_greedy_actions",
           "check_discounted_return"]

REWARD, GAMMA = 1.0, 0.9                 # exercise 1: the transition's reward r and the discount γ
Q_NEXT = np.array([2.0, 5.0, -1.0])      # exercise 1: the target network's Q(s', a') for the 3 actions
Q_TABLE = np.array([[0.5, 1.5, -0.2],    # exercise 2: Q(s, a), one row per state s, one column per action a
                    [2.0, -1.0, 0.3],
                    [-0.4, -0.1, -0.9],
                    [0.0, 0.7, 1.1]])


def check_bellman_target(answer):
    """Exercise 1: the TD target y = r + γ max_a' Q(s', a') of a transition that does not end the episode, for
    ``REWARD``, ``GAMMA`` and ``Q_NEXT`` (within 1e-6)."""
    value = as_number(answer, "y")
    if isinstance(value, Verdict):
        return value
    y = REWARD + GAMMA * Q_NEXT.max()
    if abs(value - y) < 1e-6:
        return right(f"y = r + γ max_a' Q(s', a') = {REWARD:g} + {GAMMA:g} · {Q_NEXT.max():g} = {y:g}: the reward "
                     "now, plus the discounted value of acting well from s'.")
    mistakes = [
        (REWARD, "that is the reward alone, the target of a transition that *ended* the episode (terminated). "
                 "This one goes on: add the discounted value of the next state."),
        (Q_NEXT.max(), "you left out the reward r that the agent just received."),
        (REWARD + Q_NEXT.max(), "you forgot the discount γ: future rewards count γ times less than the one now."),
        (GAMMA * (REWARD + Q_NEXT.max()), "only the future is discounted: r is received now and counts in full."),
        (REWARD + GAMMA * Q_NEXT.mean(), "the target takes the *best* next action (max), not the average over them."),
        (REWARD + GAMMA * Q_NEXT.min(), "the target takes the best next action (max), not the worst."),
        (REWARD + GAMMA * Q_NEXT.sum(), "the agent takes one action in s': the best one (max), not all of them."),
        (REWARD + GAMMA * Q_NEXT[0], "Q(s', ·) has one value per action: take the largest, not the first."),
    ]
    for wrong_value, hint in mistakes:
        if abs(value - wrong_value) < 1e-6:
            return wrong(hint)
    return wrong("not the target yet: y = r + γ · (the largest of the three Q(s', a')). Which action would a greedy "
                 "agent take in s'?")


def check_greedy_actions(answer):
    """Exercise 2: the greedy action argmax_a Q(s, a) of each state (row) of ``Q_TABLE``, as action indices 0, 1,
    2 (a list or array of 4 integers)."""
    value = as_array(answer, "your list of actions")
    if not isinstance(value, np.ndarray):
        return value
    value = value.reshape(-1)
    n_states, n_actions = Q_TABLE.shape
    if value.shape != (n_states,):
        return wrong(f"give one action per state: {n_states} numbers (the table has {n_states} rows), got "
                     f"{value.size}.")
    greedy = Q_TABLE.argmax(axis=1)
    if np.array_equal(value, greedy):
        return right(f"the greedy policy picks actions {greedy.tolist()}: in each state the action whose expected "
                     "return Q(s, a) is largest, even when every choice is negative (state 2).")
    if np.allclose(value, Q_TABLE.max(axis=1)):
        return wrong("those are the largest Q-values themselves (what the agent expects). Give the actions: the "
                     "column index of each row's largest value.")
    if np.array_equal(value, greedy + 1):
        return wrong("actions are numbered from 0 here (as in NumPy and Gymnasium): the first column is action 0.")
    if np.array_equal(value, Q_TABLE.argmin(axis=1)):
        return wrong("that is the action the agent expects the *least* from in each state; greedy takes the most.")
    if np.any(value != np.round(value)) or value.min() < 0 or value.max() >= n_actions:
        return wrong(f"an action is a whole number from 0 to {n_actions - 1} (a column of the table).")
    k = int((value == greedy).sum())
    return wrong(f"{k} of {n_states} right. Read each row (a state) and pick the column (an action) with the largest "
                 "Q(s, a); careful with the negative numbers.")


def _call(fn, *args):
    """(the return as one float, None), or (None, a wrong Verdict saying why there is none)."""
    value, verdict = call(fn, *args)
    if verdict is not None:
        return None, verdict
    if value.size != 1:
        return None, wrong(f"the return is one number, the sum over the whole sequence; got an array of shape "
                           f"{value.shape}.")
    return float(value.reshape(())), None


def check_discounted_return(discounted_return):
    """Exercise 3: ``discounted_return(rewards, gamma)`` = Σ_t γ^t r_{t+1} (the first reward undiscounted), on
    random reward sequences and discounts (float64, relative tolerance 1e-9), and 0 for no rewards."""
    rng = np.random.default_rng(9)
    cases = [([1.0, 1.0, 1.0], 0.5), ([0.0, 2.0, 10.0], 0.9)]
    cases += [(rng.normal(size=n).round(2).tolist(), float(g)) for n, g in ((5, 0.99), (12, 0.7), (1, 0.3))]
    for rewards, gamma in cases:
        value, verdict = _call(discounted_return, list(rewards), gamma)
        if verdict is not None:
            return verdict
        r = np.asarray(rewards, np.float64)
        powers = gamma ** np.arange(len(r))
        G = float(powers @ r)
        if abs(value - G) <= 1e-9 * max(1.0, abs(G)):
            continue
        told = f"for rewards {rewards} and γ = {gamma}"
        if abs(value - r.sum()) < 1e-9 * max(1.0, abs(r.sum())) and gamma < 1:
            return wrong(f"{told} you returned the plain sum: each later reward must be multiplied by one more γ.")
        if abs(value - gamma * G) < 1e-9 * max(1.0, abs(G)):
            return wrong(f"{told} every reward got one γ too many: the first reward r_1 counts in full (γ⁰ = 1).")
        if abs(value - float(powers[::-1] @ r)) < 1e-9 * max(1.0, abs(G)):
            return wrong(f"{told} the discounts go the wrong way: the *later* a reward, the more it is discounted.")
        return wrong(f"{told} the return is r_1 + γ r_2 + γ² r_3 + ...; your function gave {value:g}.")
    value, verdict = _call(discounted_return, [], 0.9)
    if verdict is not None:
        return wrong("with no rewards at all your function failed: " + verdict.message)
    if value != 0:
        return wrong(f"with no rewards at all the return is 0, your function gave {value:g}.")
    return right("G = Σ_t γ^t r_{t+1}: the number a Q-network learns to expect. With r = 1 per step and γ = 0.99 it "
                 "can never exceed 1/(1 − γ) = 100.")
