"""Deep Q-learning: replay buffer, TD targets, target networks, ε schedule, learning, AppleWorld."""
import math

import numpy as np
import pytest

import thetas as th
import thetas.rl as rl
from thetas.rl import DQN, Batch, ReplayBuffer, linear_epsilon, td_target

gym = pytest.importorskip("gymnasium")
from gymnasium import spaces  # noqa: E402

from thetas.rl.envs import ENV_ID, AppleWorld, cast_rays  # noqa: E402


EVERY_STEP = dict(train_freq=1, gradient_steps=1)      # one update per environment step (DQNConfig: 128 per 256)


def batch(obs, action, reward, next_obs, terminated, truncated=None):
    n = len(action)
    f = lambda x: np.asarray(x, np.float32)  # noqa: E731
    return Batch(f(obs), np.asarray(action), f(reward), f(next_obs), np.asarray(terminated, bool),
                 np.zeros(n, bool) if truncated is None else np.asarray(truncated, bool))


class Chain(gym.Env):
    """A corridor of n cells, one-hot observations: action 1 steps right, 0 left; reaching the last cell pays 1 and
    ends the episode; 20 steps without reaching it: truncated. Q*(s, right) = γ^(n − 2 − s)."""

    def __init__(self, n=5):
        self.n = n
        self.observation_space, self.action_space = spaces.Box(0, 1, (n,), np.float32), spaces.Discrete(2)

    def _obs(self):
        return np.eye(self.n, dtype=np.float32)[self.s]

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s, self.t = 0, 0
        return self._obs(), {}

    def step(self, a):
        self.s, self.t = min(self.s + 1, self.n - 1) if a == 1 else max(self.s - 1, 0), self.t + 1
        done = self.s == self.n - 1
        return self._obs(), float(done), done, self.t >= 20 and not done, {}


# ---------------------------------------------------------------------- the replay buffer
def test_buffer_wraps_around_overwriting_the_oldest():
    buf = ReplayBuffer(5, (2,), seed=0)
    for i in range(7):
        buf.add([i, -i], i % 2, float(i), [i + 1, 0], i == 6, i == 3)
    assert len(buf) == 5 and buf.pos == 2
    assert buf.obs[:, 0].tolist() == [5, 6, 2, 3, 4]               # 0 and 1 were overwritten by 5 and 6
    assert buf.reward.tolist() == [5, 6, 2, 3, 4]
    assert buf.terminated.tolist() == [False, True, False, False, False]
    assert buf.truncated.tolist() == [False, False, False, True, False]
    b = buf.sample(200)
    assert set(b.obs[:, 0].tolist()) == {2, 3, 4, 5, 6}              # only stored transitions, all of them
    np.testing.assert_array_equal(b.next_obs[:, 0], b.obs[:, 0] + 1)  # rows stay together
    assert b.obs.dtype == np.float32 and b.action.dtype == np.int64


def test_buffer_samples_only_filled_slots_and_is_seeded():
    a, b = ReplayBuffer(100, (3,), seed=7), ReplayBuffer(100, (3,), seed=7)
    for buf in (a, b):
        for i in range(10):
            buf.add(np.full(3, i), 0, 0.0, np.zeros(3), False)
    sa, sb = a.sample(64), b.sample(64)
    np.testing.assert_array_equal(sa.obs, sb.obs)
    assert sa.obs.max() <= 9
    with pytest.raises(ValueError, match="empty"):
        ReplayBuffer(3, (1,)).sample(1)


# ---------------------------------------------------------------------- TD targets
def test_td_target_terminated_stops_but_truncated_bootstraps():
    q_next = np.array([[2.0, 5.0], [2.0, 5.0]], np.float32)
    y = td_target([1.0, 1.0], [True, False], q_next, gamma=0.9)
    np.testing.assert_allclose(y, [1.0, 1.0 + 0.9 * 5.0])
    # the agent: a transition cut by a time limit (truncated, not terminated) bootstraps from Q_target(s', ·)
    agent = DQN(2, 2, hidden=(8,), gamma=0.9)
    s2 = np.array([[0.3, -0.2], [0.3, -0.2]], np.float32)
    b = batch(np.zeros((2, 2)), [0, 1], [1.0, 1.0], s2, terminated=[True, False], truncated=[False, True])
    v = agent.q_target(s2).data.max(axis=1)
    np.testing.assert_allclose(agent.td_target(b), [1.0, 1.0 + 0.9 * v[1]], rtol=1e-6)


def test_double_dqn_target_lets_the_online_network_choose():
    q_target = np.array([[1.0, 3.0], [4.0, 0.0]], np.float32)
    q_online = np.array([[9.0, 0.0], [0.0, 9.0]], np.float32)     # picks action 0 for row 0, 1 for row 1
    y = td_target([0.5, 0.5], [False, False], q_target, gamma=0.5, q_next_online=q_online)
    np.testing.assert_allclose(y, [0.5 + 0.5 * 1.0, 0.5 + 0.5 * 0.0])
    np.testing.assert_allclose(td_target([0.5, 0.5], [False, False], q_target, 0.5), [2.0, 2.5])  # plain DQN: max
    agent = DQN(3, 2, hidden=(8,), double=True, gamma=0.5)
    rng = np.random.default_rng(0)
    b = batch(rng.normal(size=(6, 3)), [0] * 6, np.zeros(6), rng.normal(size=(6, 3)), [False] * 6)
    agent.update(b)                                                 # online and target now differ
    a_next = agent.q(b.next_obs).data.argmax(1)
    expected = 0.5 * agent.q_target(b.next_obs).data[np.arange(6), a_next]
    np.testing.assert_allclose(agent.td_target(b), expected, rtol=1e-6)


# ---------------------------------------------------------------------- target network, ε, updates
def _flat(module):
    return np.concatenate([p.data.ravel() for p in module.parameters()])


def test_target_network_hard_copy_and_polyak():
    agent = DQN(4, 2, hidden=(16,), seed=0)
    np.testing.assert_array_equal(_flat(agent.q), _flat(agent.q_target))
    rng = np.random.default_rng(1)
    b = batch(rng.normal(size=(32, 4)), rng.integers(0, 2, 32), np.ones(32), rng.normal(size=(32, 4)), [False] * 32)
    old_target = _flat(agent.q_target)
    for _ in range(3):
        agent.update(b)
    online = _flat(agent.q)
    np.testing.assert_array_equal(_flat(agent.q_target), old_target)   # updates never touch the target
    agent.sync_target(tau=0.1)
    np.testing.assert_allclose(_flat(agent.q_target), 0.1 * online + 0.9 * old_target, rtol=1e-5, atol=1e-7)
    agent.sync_target()                                               # config.tau = 1: a hard copy
    np.testing.assert_array_equal(_flat(agent.q_target), online)
    assert agent.q_target.parameters()[0] is not agent.q.parameters()[0]


def test_target_network_is_refreshed_every_c_steps_during_learning():
    env = Chain()
    agent = DQN.for_env(env, hidden=(8,), learning_starts=10, **EVERY_STEP, target_update=25, batch_size=8)
    initial = _flat(agent.q_target)
    agent.learn(env, 24)
    np.testing.assert_array_equal(_flat(agent.q_target), initial)   # updated online net, target untouched
    assert not np.array_equal(_flat(agent.q), initial)
    agent.learn(env, 1)                                              # step 25: copy
    np.testing.assert_array_equal(_flat(agent.q_target), _flat(agent.q))
    polyak = DQN.for_env(env, hidden=(8,), learning_starts=10, **EVERY_STEP, target_update=1, tau=0.05, batch_size=8)
    polyak.learn(env, 40)
    t, q, q0 = _flat(polyak.q_target), _flat(polyak.q), initial
    assert 0 < np.abs(t - q0).max() and np.abs(t - q).max() < np.abs(q - q0).max()  # between start and online


def test_epsilon_is_constant_during_warmup_then_linear():
    eps = [linear_epsilon(s, 1.0, 0.1, decay_steps=100, warmup=50) for s in (0, 49, 50, 100, 150, 151, 10_000)]
    np.testing.assert_allclose(eps, [1.0, 1.0, 1.0, 0.55, 0.1, 0.1, 0.1])
    agent = DQN(4, 2, learning_starts=1000, exploration_fraction=0.5, eps_start=1.0, eps_end=0.05)
    assert agent.epsilon(1000, total_steps=11_000) == 1.0
    assert agent.epsilon(3500, total_steps=11_000) == pytest.approx(1.0 - 0.95 / 2)
    assert agent.epsilon(6000, total_steps=11_000) == pytest.approx(0.05)
    agent.rng = np.random.default_rng(0)
    acts = [agent.act(np.zeros(4, np.float32), epsilon=1.0) for _ in range(200)]
    assert set(acts) == {0, 1}                                        # ε = 1: uniformly random
    greedy = int(np.argmax(agent.q_values(np.zeros(4))))
    assert all(agent.act(np.zeros(4), epsilon=0.0) == greedy for _ in range(5))


def test_update_fits_q_of_the_action_taken_with_huber_and_clipping():
    agent = DQN(3, 2, hidden=(16,), lr=1e-2, max_grad_norm=0.5)
    rng = np.random.default_rng(0)
    b = batch(rng.normal(size=(64, 3)), rng.integers(0, 2, 64), np.full(64, 2.0), rng.normal(size=(64, 3)),
              [True] * 64)                                            # terminal: y = r = 2 exactly
    first = agent.update(b)
    assert first["grad_norm"] > 0.5                                   # it was clipped
    for _ in range(300):
        stats = agent.update(b)
    assert stats["loss"] < 1e-3 and stats["q_mean"] == pytest.approx(2.0, abs=0.05)
    q = agent.q_values(b.obs)[np.arange(64), b.action]
    np.testing.assert_allclose(q, 2.0, atol=0.1)


# ---------------------------------------------------------------------- learning
def test_dqn_learns_the_exact_q_values_of_a_corridor():
    env = Chain(5)
    agent = DQN.for_env(env, hidden=(32,), lr=2e-3, gamma=0.9, learning_starts=200, **EVERY_STEP, target_update=50,
                        batch_size=32, exploration_fraction=0.5)
    agent.learn(env, 3000)
    q = agent.q_values(np.eye(5, dtype=np.float32))
    np.testing.assert_allclose(q[:4, 1], [0.9 ** 3, 0.9 ** 2, 0.9, 1.0], atol=0.05)   # Q*(s, right) = γ^(3 − s)
    assert (q[:4, 1] > q[:4, 0]).all()


def test_short_seeded_cartpole_run_beats_a_random_policy():
    env, eval_env = gym.make("CartPole-v1"), gym.make("CartPole-v1")
    agent = DQN.for_env(env, hidden=(64, 64), lr=1e-3, learning_starts=500, **EVERY_STEP, target_update=200,
                        batch_size=64, exploration_fraction=0.5, seed=0)
    log = agent.learn(env, 5000, eval_env=eval_env, eval_every=1000, eval_episodes=5)
    trained = agent.evaluate(eval_env, episodes=10, seed=100).mean_return
    random = rl.evaluate(None, eval_env, episodes=10, seed=100).mean_return
    assert random < 30 and trained > 3 * random
    assert log["best_step"] in log["eval_step"] and len(log["episode_return"]) == len(log["episode_step"])
    assert log["steps"] == 5000 and len(log["loss"]) == 5 and np.isfinite(log["loss"][1:]).all()


def test_seeded_runs_are_reproducible():
    def run(seed):
        env = gym.make("CartPole-v1")
        agent = DQN.for_env(env, hidden=(16,), learning_starts=200, train_freq=2, gradient_steps=1, batch_size=16,
                            seed=seed)
        log = agent.learn(env, 1200)
        return _flat(agent.q), log["episode_return"]
    (w1, r1), (w2, r2), (w3, r3) = run(3), run(3), run(4)
    np.testing.assert_array_equal(w1, w2)
    assert r1 == r2 and (r1 != r3 or not np.array_equal(w1, w3))


def test_save_and_load_an_agent(tmp_path):
    agent = DQN(4, 2, hidden=(16, 8), gamma=0.95, double=True, seed=2)
    rng = np.random.default_rng(0)
    agent.update(batch(rng.normal(size=(8, 4)), [0, 1] * 4, np.ones(8), rng.normal(size=(8, 4)), [False] * 8))
    path = tmp_path / "agent.safetensors"
    agent.save(path, metadata={"env": "CartPole-v1"})
    again = DQN.load(path)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(again.q_values(x), agent.q_values(x))
    np.testing.assert_array_equal(again.q_values(x), again.q_target(x).data)   # the target starts as a copy
    assert again.config.hidden == (16, 8) and again.config.gamma == 0.95 and again.config.double
    assert again.metadata["env"] == "CartPole-v1"
    th.save(th.models.MLP([4, 2]), tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="not a DQN"):
        DQN.load(tmp_path / "plain.safetensors")


class Weights(th.train.Callback):
    """The Q-network's weights at the end of every epoch (evaluation period), by environment step."""

    def __init__(self):
        self.seen = {}

    def on_epoch_end(self, epoch, logs):
        self.seen[logs["steps"]] = _flat(self.trainer.model)


def test_learn_keeps_the_best_evaluated_weights():
    env = Chain()
    agent = DQN.for_env(env, hidden=(8,), learning_starts=20, **EVERY_STEP, batch_size=8)
    record = Weights()
    log = agent.learn(env, 100, eval_env=Chain(), eval_every=20, eval_episodes=1, callbacks=[record])
    np.testing.assert_array_equal(_flat(agent.q), record.seen[log["best_step"]])
    assert log["best_eval"] == max(log["eval_mean"])
    # on a tie the later evaluation wins: it has trained longer
    assert log["best_step"] == max(s for s, v in zip(log["eval_step"], log["eval_mean"]) if v == log["best_eval"])


# ---------------------------------------------------------------------- AppleWorld
def test_apple_world_spaces_registration_and_checker():
    from gymnasium.utils.env_checker import check_env
    env = gym.make(ENV_ID)
    assert env.observation_space == spaces.Box(0, 1, (3 * 9 + 1,), np.float32)
    assert env.action_space == spaces.Discrete(3)
    check_env(AppleWorld(), skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and info == {"apples": 0, "poison": 0}


def test_apple_world_seeding():
    a, b, c = AppleWorld(), AppleWorld(), AppleWorld()
    oa, ob = a.reset(seed=5)[0], b.reset(seed=5)[0]
    c.reset(seed=6)
    np.testing.assert_array_equal(oa, ob)
    np.testing.assert_array_equal(a.apples, b.apples)
    assert not np.array_equal(a.apples, c.apples)
    for action in [0, 1, 0, 2, 0, 0] * 20:
        ra, rb = a.step(action), b.step(action)
        np.testing.assert_array_equal(ra[0], rb[0])
        assert ra[1] == rb[1]


def _open_world(**kwargs):
    """An AppleWorld without interior walls, the agent in the middle looking along +x, nothing in sight."""
    env = AppleWorld(walls=[], **kwargs)
    env.reset(seed=0)
    env.pos, env.heading = np.array([10.0, 10.0]), 0.0
    env.apples, env.poison = np.full((env.n_apples, 2), 1.5), np.full((env.n_poison, 2), 1.5)  # in a corner
    return env


def test_an_apple_straight_ahead_is_seen_by_the_middle_eye_only():
    env = _open_world()
    env.apples[0] = [13.0, 10.0]                                      # 3 units ahead, surface at 2.4
    eyes = env._observation()[:-1].reshape(env.n_eyes, 3)
    mid = env.n_eyes // 2
    assert eyes[mid, 1] == pytest.approx(1 - 2.4 / env.eye_range, abs=1e-6)
    assert eyes[mid, 0] == eyes[mid, 2] == 0                          # only the kind it sees
    assert np.count_nonzero(eyes[:, 1]) == 1
    left = env.fov / 2                                                # the leftmost eye's direction
    env.apples[0] = env.pos + 3.0 * np.array([math.cos(left), math.sin(left)])
    env.poison[0] = [13.0, 10.0]                                      # apple far left, poison ahead
    eyes = env._observation()[:-1].reshape(env.n_eyes, 3)
    assert eyes[mid, 2] > 0 and eyes[mid, 1] == 0
    assert eyes[-1, 1] > 0 and eyes[:-1, 1].sum() == 0                # eyes run right to left: the last one
    env.pos = np.array([17.0, 10.0])                                  # 3 units from the east wall
    eyes = env._observation()[:-1].reshape(env.n_eyes, 3)
    assert eyes[mid, 0] == pytest.approx(1 - 3.0 / env.eye_range)     # the wall, at 3
    assert eyes[mid, 2] == 0                                          # the poison behind the agent now


def test_a_nearer_object_hides_what_is_behind_it():
    d = cast_rays(np.zeros(2), np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[[5.0, -1.0], [5.0, 1.0]]]),
                  [np.array([[3.0, 0.0]]), np.zeros((0, 2))], 0.5, 10.0)
    np.testing.assert_allclose(d[0], [5.0, 2.5, np.inf])
    assert np.isinf(d[1]).all()


def test_apple_world_rewards_apples_and_poison():
    env = _open_world()
    env.apples[0] = [10.8, 10.0]                                      # within reach after one step forward
    obs, reward, terminated, truncated, info = env.step(0)
    assert reward == 1.0 and info["apples"] == 1 and not terminated and not truncated
    assert np.linalg.norm(env.apples[0] - env.pos) > env.agent_radius + env.item_radius   # respawned elsewhere
    env.apples[:] = 1.5                                               # back into the corner
    env.poison[0] = env.pos + [0.9, 0.0]
    assert env.step(0)[1] == -1.0 and env.eaten["poison"] == 1
    env.poison[:] = 1.5
    assert env.step(1)[1] == 0.0                                      # nothing near
    env.pos, env.heading = np.array([19.0, 10.0]), 0.0                # facing the east wall, 1 unit away
    obs = env.step(0)[0]
    assert obs[-1] == 1.0 and env.pos[0] == pytest.approx(19.0)       # bumped: the touch sensor fires


def test_apple_world_rgb_array_and_time_limit():
    env = gym.make(ENV_ID, render_mode="rgb_array", max_episode_steps=30)
    env.reset(seed=1)
    frame = env.render()
    assert frame.shape == (240, 240, 3) and frame.dtype == np.uint8 and frame.std() > 0
    steps, truncated = 0, False
    while not truncated:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        steps += 1
        assert not terminated
    assert steps == 30
    assert gym.spec(ENV_ID).max_episode_steps == 1000
    assert AppleWorld(render_mode=None).render() is None


def test_random_policy_on_apple_world_scores_near_zero_per_step():
    res = rl.evaluate(None, gym.make(ENV_ID, max_episode_steps=300), episodes=2, seed=0)
    assert abs(res.reward_per_step) < 0.05 and res.lengths.tolist() == [300, 300]


# ---------------------------------------------------------------------- pictures
def test_training_and_apple_world_plots(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    from thetas.viz import savefig
    from thetas.viz.rl import moving_average, plot_apple_world, plot_training
    np.testing.assert_allclose(moving_average([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    env = Chain()
    agent = DQN.for_env(env, hidden=(8,), learning_starts=20, **EVERY_STEP, batch_size=8)
    log = agent.learn(env, 200, eval_env=Chain(), eval_every=50, eval_episodes=1, log_every=20)
    fig = plot_training(log, threshold=0.5, title="chain")
    assert len(fig.axes) == 3
    savefig(fig, tmp_path / "training.png")
    world = AppleWorld()
    obs, _ = world.reset(seed=0)
    fig = plot_apple_world(world.frame(), [0.2, 0.5, -0.1], AppleWorld.action_names)
    savefig(fig, tmp_path / "world.png")
    assert (tmp_path / "training.png").stat().st_size > 0 and (tmp_path / "world.png").stat().st_size > 0
