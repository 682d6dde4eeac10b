"""Deep Q-learning on CartPole, the loop written out: a network whose outputs are expected rewards.

The Q-network reads the state s (cart position and velocity, pole angle and angular velocity) and outputs
Q(s, left) and Q(s, right), the return it expects after each push. The agent pushes towards the larger one (or at
random, with probability ε); every step goes into the replay memory; every 256 steps, 128 minibatches of
remembered steps move Q(s, a) towards r + γ max Q_target(s', ·). ``thetas rl cartpole`` runs the same loop
(``DQN.learn``) with a decaying learning rate and periodic evaluation, and keeps the best weights (``learn`` takes
``th.fit``'s callbacks; by default an ``EarlyStopping`` on the evaluation return restores the best Q-network).

    python examples/dqn_cartpole.py [--steps 50000]   # ~20 s; greedy returns reach 500 (the maximum), and may
                                                      # fall back later: why DQN.learn keeps the best weights
"""
import argparse

import gymnasium as gym
import numpy as np

import thetas.rl as rl

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=50_000)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

env = gym.make("CartPole-v1")
agent = rl.DQN.for_env(env, seed=args.seed)                           # DQNConfig's defaults
c = agent.config
obs, _ = env.reset(seed=args.seed)
episode_return, returns = 0.0, []
for step in range(1, args.steps + 1):
    action = agent.act(obs, epsilon=agent.epsilon(step, args.steps))  # ε-greedy on Q(s, ·)
    next_obs, reward, terminated, truncated, _ = env.step(action)
    agent.buffer.add(obs, action, reward, next_obs, terminated, truncated)
    obs, episode_return = next_obs, episode_return + reward
    if step > c.learning_starts and step % c.train_freq == 0:
        for _ in range(c.gradient_steps):                             # Huber(Q(s, a), r + γ(1 − done) max Q⁻)
            agent.update(agent.buffer.sample(c.batch_size))
    if step > c.learning_starts and step % c.target_update == 0:
        agent.sync_target()                                           # θ⁻ ← θ
    if terminated or truncated:
        returns.append(episode_return)
        obs, episode_return = env.reset()[0], 0.0
    if step % 5_000 == 0:
        greedy = agent.evaluate(gym.make("CartPole-v1"), episodes=10, seed=step).mean_return
        print(f"step {step:6d}  ε {agent.epsilon(step, args.steps):.2f}  "
              f"training return (last 20) {np.mean(returns[-20:]):6.1f}  greedy return {greedy:6.1f}")
print("Q(s, ·) at the start state:", np.round(agent.q_values(env.reset(seed=0)[0]), 1),
      "(≈ the discounted return of balancing: 1/(1 − γ) = 100)")
