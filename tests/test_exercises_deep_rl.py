"""The checks of notebooks/09_deep_rl.ipynb's exercises accept right answers and reject wrong ones with a hint."""
import numpy as np

from thetas.exercises import deep_rl as ex


def test_bellman_target():
    assert ex.check_bellman_target(ex.REWARD + ex.GAMMA * ex.Q_NEXT.max())
    assert ex.check_bellman_target(np.float32(5.5))
    assert ex.check_bellman_target([5.5])
    v = ex.check_bellman_target(ex.REWARD + ex.Q_NEXT.max())
    assert not v and "discount" in v.message
    v = ex.check_bellman_target(ex.REWARD)
    assert not v and "terminated" in v.message
    v = ex.check_bellman_target(ex.REWARD + ex.GAMMA * ex.Q_NEXT.mean())
    assert not v and "max" in v.message
    v = ex.check_bellman_target(3.0)
    assert not v and "largest" in v.message
    v = ex.check_bellman_target(None)
    assert not v and "None" in v.message
    v = ex.check_bellman_target([1.0, 2.0])
    assert not v and "one number" in v.message
    assert not ex.check_bellman_target("five")


def test_greedy_actions():
    assert ex.check_greedy_actions([1, 0, 1, 2])
    assert ex.check_greedy_actions(np.array([1, 0, 1, 2]))
    assert ex.check_greedy_actions(ex.Q_TABLE.argmax(axis=1))
    v = ex.check_greedy_actions([2, 1, 2, 3])
    assert not v and "from 0" in v.message
    v = ex.check_greedy_actions(ex.Q_TABLE.max(axis=1))
    assert not v and "column index" in v.message
    v = ex.check_greedy_actions(ex.Q_TABLE.argmin(axis=1))
    assert not v and "least" in v.message
    v = ex.check_greedy_actions([1, 0, 2, 2])
    assert not v and "3 of 4" in v.message
    v = ex.check_greedy_actions([1, 0])
    assert not v and "one action per state" in v.message
    v = ex.check_greedy_actions(None)
    assert not v and "None" in v.message


def test_discounted_return():
    def right_loop(rewards, gamma):
        G = 0.0
        for r in reversed(rewards):
            G = r + gamma * G
        return G

    def right_numpy(rewards, gamma):
        return float(np.sum(np.asarray(rewards) * gamma ** np.arange(len(rewards))))

    assert ex.check_discounted_return(right_loop)
    assert ex.check_discounted_return(right_numpy)
    v = ex.check_discounted_return(lambda rewards, gamma: sum(rewards))
    assert not v and "plain sum" in v.message
    v = ex.check_discounted_return(lambda rewards, gamma: gamma * right_loop(rewards, gamma))
    assert not v and "γ too many" in v.message
    v = ex.check_discounted_return(lambda rewards, gamma: right_loop(rewards[::-1], gamma))
    assert not v and "wrong way" in v.message
    v = ex.check_discounted_return(lambda rewards, gamma: rewards[0] / 0)
    assert not v and "raised ZeroDivisionError" in v.message
    v = ex.check_discounted_return(lambda rewards, gamma: rewards[0] + gamma * right_loop(rewards[1:], gamma))
    assert not v and "no rewards" in v.message
    v = ex.check_discounted_return(lambda rewards, gamma: None)
    assert not v and "return" in v.message
    v = ex.check_discounted_return(None)
    assert not v and "None" in v.message
    v = ex.check_discounted_return(lambda rewards, gamma: np.asarray(rewards))
    assert not v and "one number" in v.message
