"""Deep reinforcement learning: ``th.rl.DQN``, ``th.rl.ReplayBuffer``, ``th.rl.envs.AppleWorld``.

The lecture's deep RL: "instead of having the output of a model be a probability you can make it an
expectation". A Q-network reads a state s and outputs one number per legal action a, Q(s, a) = E[return | a, s],
the reward it expects; the agent takes the action with the largest one.

    import gymnasium, thetas.rl
    env = gymnasium.make("CartPole-v1")
    agent = thetas.rl.DQN.for_env(env)
    agent.learn(env, total_steps=200_000, eval_env=gymnasium.make("CartPole-v1"), verbose=True)
    agent.evaluate(gymnasium.make("CartPole-v1"), episodes=100).mean_return     # about 500, the maximum

``learn`` takes ``th.fit``'s callbacks (``callbacks=[th.train.EarlyStopping("eval_return", mode="max")]``): an epoch
is one evaluation period, and callbacks see an ``AgentTrainer`` whose ``model`` is the Q-network.

Environments use the Gymnasium API (``pip install "thetas[rl]"``); ``thetas.rl.envs`` (AppleWorld, registered as
``"thetas/AppleWorld-v0"``) is imported on first use, so the rest works without Gymnasium.
"""
from .buffer import Batch, ReplayBuffer
from .dqn import DQN, AgentTrainer, DQNConfig, EvalResult, evaluate, linear_epsilon, td_target

__all__ = ["Batch", "ReplayBuffer", "DQN", "DQNConfig", "AgentTrainer", "EvalResult", "evaluate", "linear_epsilon",
           "td_target", "envs", "AppleWorld"]


def __getattr__(name):  # thetas.rl.envs needs gymnasium: import it only when asked for
    if name in ("envs", "AppleWorld"):
        import importlib
        envs = importlib.import_module(".envs", __name__)
        return envs if name == "envs" else envs.AppleWorld
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
