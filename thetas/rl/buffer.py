"""The replay buffer: the last ``capacity`` transitions (s, a, r, s', terminated, truncated), sampled at random.

Training a Q-network on consecutive steps would feed it strongly correlated examples (one corridor of one
episode after another); sampling minibatches from a memory of many past steps makes them closer to the i.i.d.
examples that SGD expects (Mnih et al., 2015). The memory is a ring: once full, each new transition overwrites
the oldest one.
"""
from collections import namedtuple

import numpy as np

Batch = namedtuple("Batch", ["obs", "action", "reward", "next_obs", "terminated", "truncated"])
Batch.__doc__ = """A minibatch of transitions, NumPy arrays of length B:
obs (B, *obs_shape), action (B,) int64, reward (B,) float32, next_obs (B, *obs_shape),
terminated (B,) bool (the episode ended in s': no future reward), truncated (B,) bool (a time limit cut it)."""


class ReplayBuffer:
    """A NumPy ring buffer of transitions with seeded uniform sampling.

    Args:
        capacity: how many transitions it keeps; the oldest is overwritten first.
        obs_shape: the shape of one observation, e.g. (4,) for CartPole.
        obs_dtype: dtype of the stored observations (float32).
        seed: seed or np.random.Generator for ``sample``.
    Storage: obs, next_obs (capacity, *obs_shape); action, reward, terminated, truncated (capacity,).
    """

    def __init__(self, capacity, obs_shape, obs_dtype=np.float32, seed=None):
        if int(capacity) < 1:
            raise ValueError(f"ReplayBuffer: capacity must be at least 1, got {capacity}")
        self.capacity, self.obs_shape = int(capacity), tuple(int(n) for n in np.atleast_1d(obs_shape))
        self.obs = np.zeros((self.capacity, *self.obs_shape), obs_dtype)
        self.next_obs = np.zeros_like(self.obs)
        self.action = np.zeros(self.capacity, np.int64)
        self.reward = np.zeros(self.capacity, np.float32)
        self.terminated = np.zeros(self.capacity, bool)
        self.truncated = np.zeros(self.capacity, bool)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.pos, self.size = 0, 0     # the next slot to write; how many slots hold a transition

    def add(self, obs, action, reward, next_obs, terminated, truncated=False):
        """Store one transition in the next slot (overwriting the oldest once full)."""
        i = self.pos
        self.obs[i], self.next_obs[i] = obs, next_obs
        self.action[i], self.reward[i] = action, reward
        self.terminated[i], self.truncated[i] = terminated, truncated
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size):
        """``batch_size`` transitions drawn uniformly with replacement, as a ``Batch`` of fresh arrays."""
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty")
        idx = self.rng.integers(0, self.size, int(batch_size))
        return Batch(self.obs[idx], self.action[idx], self.reward[idx], self.next_obs[idx],
                     self.terminated[idx], self.truncated[idx])

    def __len__(self):
        return self.size

    def __repr__(self):
        return f"ReplayBuffer(capacity={self.capacity}, obs_shape={self.obs_shape}, size={self.size})"
