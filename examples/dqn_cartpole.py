"""Deep Q-learning on CartPole, the loop written out: a network whose outputs are expected rewards.

The Q-network reads the state s (cart position and velocity, pole angle and angular velocity) and outputs
Q(s, left) and Q(s, right), the return it expects after each push. The agent pushes towards the larger one (or at
random, with probability ε); every step goes into the replay memory; every 256 steps, 128 minibatches of
remembered steps move Q(s, a) towards r + γ max Q_target(s', ·), with a learning rate that falls linearly to a
tenth (without that decay, seed 0 stayed at greedy returns of 106-185 for its first 20,000 steps and ended near
150). ``thetas rl cartpole`` runs the same loop (``DQN.learn``) with periodic evaluation, and keeps the best
weights (``learn`` takes ``th.fit``'s callbacks; by default an ``EarlyStopping`` on the evaluation return restores
the best Q-network).

    python examples/dqn_cartpole.py [--steps 50000]
    # measured (seed 0, OPENBLAS_NUM_THREADS=1): 65 s of CPU, 131 s on a busy 2-core machine; greedy returns
    # 140-220 up to step 30,000, then 500 (the maximum) at steps 35,000-45,000 and 497 at 50,000. They may fall
    # back later: why DQN.learn keeps the best weights.
"""
import argparse

import gymnasium as gym
import numpy as np

import thetas as th
import thetas.rl as rl

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=50_000)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

env = gym.make("CartPole-v1")
agent = rl.DQN.for_env(env, seed=args.seed)                           # DQNConfig's defaults
c = agent.config
n_updates = c.gradient_steps * (args.steps - c.learning_starts) // c.train_freq     # η falls linearly to a tenth
schedule = th.optim.LinearLR(agent.optimizer, 1.0, c.lr_end_factor, total_iters=n_updates)
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
            if schedule.last_epoch < schedule.total_iters:
                schedule.step()
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
