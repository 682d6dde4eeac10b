"""The AppleWorld page: a DQN agent walking among apples (+1) and poison (−1), seen through its eye rays.

A session holds an ``AppleWorld`` and a ``DQN`` (``thetas.rl``). Each poll (``step``) advances ``speed`` steps of
the world (1 to ``MAX_SPEED``); with learning on, the transitions go to the replay buffer and, after a short
warm-up, every ``TRAIN_FREQ`` steps the Q-network takes one gradient step (ε falls from 1 to 0.05 over
``EPS_STEPS`` steps); with learning off the agent plays greedily (ε = 0.05). The answer: the agent's position and
heading, the apples, the poison, each eye's ray end and what it sees, Q(s, ·) (one expected return per action:
"the outputs are E[reward | action, state]"), and the reward per step as a moving average.

"Load a trained agent": a DQN trained once in a child process (``TRAINED_STEPS`` steps of the CLI's apple-world
settings), cached as ``<lab cache>/dqn-appleworld.safetensors``; the session then plays it with ε = 0.05, as
rldemo does at test time. Played fully greedily (ε = 0) it got stuck: in 5 fresh worlds, 0.8-23.6 apples per 1,000
steps over 20,000 steps, sliding along a wall for up to 19,880 steps in a row (the same observation, the same
choice); with ε = 0.05, 40.6-84.1 apples per 1,000 steps in 10 fresh worlds, though it still slides along a wall
for up to 4,826 steps at times (training 100,000 steps, or a penalty for bumping, did not end that). Learning on
from there goes on from the trained thetas: ε stays at its final 0.05 (no random warm-up; the replay buffer
refills for ``LEARNING_STARTS`` steps before the first update). ``eat_rate`` measures a trained agent as the page
plays it (``scripts/apple_agent_eval.py``).
"""
import secrets
from pathlib import Path

import numpy as np

from .jobs import BackgroundJob, cache_dir
from .pages import Page, Route
from .schema import LabError, flag, number
from .sessions import SessionStore, new_id

MAX_SPEED = 40
SESSIONS = 64
IDLE_SECONDS = 1800
TRAIN_FREQ = 4
LEARNING_STARTS = 500
EPS_STEPS = 10_000
TARGET_UPDATE = 500
AVG_WINDOW = 500            # the moving average of the reward per step, over this many steps
HISTORY = 400               # points kept for the reward graph (one every HISTORY_EVERY steps)
HISTORY_EVERY = 50
TRAINED_STEPS = 25_000
PLAY_EPSILON = 0.05         # the trained agent's ε at play (rldemo's test-time ε)
CACHE_NAME = "dqn-appleworld.safetensors"
CONFIG = dict(hidden=(128, 128), lr=1e-3, lr_end_factor=1.0, gamma=0.9, buffer_size=20_000, batch_size=64,
              learning_starts=LEARNING_STARTS, train_freq=TRAIN_FREQ, gradient_steps=1, target_update=TARGET_UPDATE,
              exploration_fraction=0.3, eps_end=0.05)


def _env():
    from ..rl.envs import AppleWorld
    return AppleWorld()


class Session:
    def __init__(self, sid, seed):
        from ..rl.dqn import DQN
        self.id = sid
        self.env = _env()
        self.obs, _ = self.env.reset(seed=seed)
        self.agent = DQN.for_env(self.env, seed=seed, **CONFIG)
        self.learning, self.trained, self.steps, self.learn_steps = False, False, 0, 0
        self.pretrained = False          # a loaded trained agent: learning goes on without exploring from ε = 1
        self.recent, self.history, self.total_reward, self.action = [], [], 0.0, 0
        self.loss = None

    def epsilon(self):
        if not self.learning:
            return PLAY_EPSILON
        t = self.learn_steps
        if self.pretrained:
            return 0.05
        if t < LEARNING_STARTS:
            return 1.0
        return max(0.05, 1.0 - 0.95 * (t - LEARNING_STARTS) / EPS_STEPS)

    def step(self, k):
        agent, eps = self.agent, self.epsilon()
        for _ in range(k):
            eps = self.epsilon()
            action = agent.act(self.obs, eps)
            nxt, reward, terminated, truncated, _ = self.env.step(action)
            self.action = action
            if self.learning:
                agent.buffer.add(self.obs, action, reward, nxt, terminated, truncated)
                self.learn_steps += 1
                t = self.learn_steps
                if t > LEARNING_STARTS and t % TRAIN_FREQ == 0:
                    self.loss = agent.update(agent.buffer.sample(agent.config.batch_size))["loss"]
                if t % TARGET_UPDATE == 0:
                    agent.sync_target()
            self.obs = nxt
            self.steps += 1
            self.total_reward += reward
            self.recent.append(reward)
            if len(self.recent) > AVG_WINDOW:
                del self.recent[0]
            if self.steps % HISTORY_EVERY == 0:
                self.history.append([self.steps, float(np.mean(self.recent))])
                if len(self.history) > HISTORY:
                    del self.history[0]
        return eps

    def state(self, eps=None):
        env = self.env
        dist = env._distances()                                          # (E, 3): wall, apple, poison
        kind = dist.argmin(axis=1)
        near = np.minimum(dist.min(axis=1), env.eye_range)
        seen = np.where(np.isfinite(dist.min(axis=1)), kind, -1)
        ends = env.pos + env._eye_directions() * near[:, None]
        q = self.agent.q_values(self.obs)
        r2 = lambda a: np.round(np.asarray(a, float), 3).tolist()      # noqa: E731
        return {"session": self.id, "steps": self.steps, "learn_steps": self.learn_steps, "learning": self.learning,
                "trained": self.trained, "epsilon": float(self.epsilon() if eps is None else eps),
                "size": env.size, "walls": r2(env.walls), "agent": r2(env.pos), "heading": float(env.heading),
                "agent_radius": env.agent_radius, "item_radius": env.item_radius,
                "apples": r2(env.apples), "poison": r2(env.poison), "rays": r2(ends), "ray_kinds": seen.tolist(),
                "q": [float(v) for v in q], "action": int(self.action), "actions": list(env.action_names),
                "total_reward": self.total_reward, "eaten": dict(env.eaten),
                "reward_avg": float(np.mean(self.recent)) if self.recent else 0.0, "history": self.history,
                "loss": self.loss}


def eat_rate(agent_path, seed, steps=20_000, epsilon=None):
    """A trained agent (a saved DQN) in a fresh world ``seed``, played as the page plays it (a ``Session`` after
    "Load a trained agent"; ``epsilon``: instead of the page's ``PLAY_EPSILON``) for ``steps`` steps. Returns
    ``{"apples_per_1000", "poison_per_1000", "worst_1000"`` (apples in the worst full 1,000 steps),
    ``"longest_without_apple"`` (steps; an agent stuck against a wall shows as one long run)``}``."""
    from ..rl.dqn import DQN
    s = Session(f"eat-rate-{seed}", seed)
    s.agent, s.learning, s.trained, s.pretrained = DQN.load(str(agent_path)), False, True, True
    if epsilon is not None:
        s.epsilon = lambda: epsilon
    apples = np.zeros(steps, np.int64)
    poison = 0
    for t in range(steps):
        before = dict(s.env.eaten)
        s.step(1)
        apples[t] = s.env.eaten["apples"] - before["apples"]
        poison += s.env.eaten["poison"] - before["poison"]
    full = steps // 1000 * 1000
    gaps = np.diff(np.r_[-1, np.flatnonzero(apples), steps]) - 1
    return {"seed": seed, "epsilon": float(s.epsilon()),
            "apples_per_1000": round(1000 * float(apples.sum()) / steps, 1),
            "poison_per_1000": round(1000 * poison / steps, 1),
            "worst_1000": int(apples[:full].reshape(-1, 1000).sum(1).min()) if full else None,
            "longest_without_apple": int(gaps.max())}


class TrainedAgent(BackgroundJob):
    """The trained DQN (``jobs.BackgroundJob``): ``TRAINED_STEPS`` steps in a child process (``train``), cached."""

    what = "the DQN"

    def __init__(self, path, steps=TRAINED_STEPS):
        super().__init__(path)
        self.steps = steps

    def load(self, path):
        from ..rl.dqn import DQN
        return DQN.load(str(path))

    def child(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return (["thetas.lab.apple", str(self.path), str(self.steps)],
                f"training a DQN on AppleWorld for {self.steps:,} steps (once; then it is cached)")

    def finish(self, agent):
        took = f" in {self.seconds} s" if self.seconds else ""
        return f"a DQN trained for {self.steps:,} steps{took}: {self.path}"


class AppleService:
    """The sessions and the trained agent (``trained_agent``, made once in the background)."""

    def __init__(self, cache=None, steps=TRAINED_STEPS):
        self.cache = Path(cache) if cache is not None else cache_dir()
        self.trained_agent = TrainedAgent(self.cache / CACHE_NAME, steps)
        self.sessions = SessionStore(SESSIONS, IDLE_SECONDS, "AppleWorld")

    # ------------------------------------------------------------------ the trained agent
    def status(self, payload=None):
        return {**self.trained_agent.status(), "seconds": self.trained_agent.seconds, "max_speed": MAX_SPEED}

    def train(self, payload=None):
        """Start loading or training the trained agent (once; again after a failure); its status."""
        self.trained_agent.start("starting", retry=True)
        return self.status()

    def close(self):
        self.trained_agent.close()

    # ------------------------------------------------------------------ sessions
    def create(self, payload):
        seed = number(payload, "seed", 0, 2 ** 31 - 1, default=secrets.randbelow(2 ** 31), integer=True)
        s = Session(new_id(), seed)
        return self.sessions.add(s.id, s).state()

    def step(self, payload, sid):
        s = self.sessions.get(sid)
        k = number(payload, "speed", 1, MAX_SPEED, default=1, integer=True)
        if "learning" in payload:
            s.learning = flag(payload, "learning")
            if s.learning:
                s.trained = False
        return s.state(s.step(k))

    def load(self, payload, sid):
        """The trained DQN replaces the session's agent (a copy read from the cache: each session learns on its
        own), or LabError 503 while it is not ready (its training starts)."""
        from ..rl.dqn import DQN
        s = self.sessions.get(sid)
        if self.trained_agent.status()["state"] != "ready":
            self.train()
            raise LabError(503, "the trained agent is not ready yet (training it now); try again in a few seconds")
        s.agent = DQN.load(str(self.trained_agent.path))
        s.learning, s.trained, s.learn_steps, s.pretrained = False, True, 0, True
        return s.state()


PAGE = Page("apple", "/apple-world", "apple.html", "AppleWorld", summary=(
    "Deep Q-learning: an agent with eye rays learns to eat apples and avoid poison; watch its Q-values, the "
    "expected reward of each action, and its reward climb."), routes=(
    Route("GET", "/api/apple/status", AppleService.status,
          "the trained DQN: idle, training (progress), ready or failed"),
    Route("POST", "/api/apple/trained", AppleService.train, "start training (or loading) the trained DQN"),
    Route("POST", "/api/apple/sessions", AppleService.create,
          '{"seed"?} -> a new AppleWorld session: world, rays, Q-values'),
    Route("POST", "/api/apple/{sid}/step", AppleService.step,
          '{"speed": 1-40, "learning"?: bool} -> the state after that many steps', frame=True),
    Route("POST", "/api/apple/{sid}/load", AppleService.load,
          "the trained DQN replaces the session's agent (it plays with ε = 0.05)"),
))


def train(out, steps=TRAINED_STEPS, seed=0):
    """The child process: a DQN on AppleWorld (``DQN.learn``, with a session's ε: from 1 down to 0.05 over
    ``EPS_STEPS`` steps after the warm-up), progress as JSON lines on stdout, saved to ``out``."""
    import json

    from ..rl.dqn import DQN
    from ..train.callbacks import Callback

    class Progress(Callback):
        """Every log interval: the fraction done and the mean reward of the last AVG_WINDOW steps (replay memory)."""
        reported = None

        def report(self):
            t, buf = self.trainer.steps, self.trainer.agent.buffer
            recent = buf.reward[(buf.pos - np.arange(1, min(AVG_WINDOW, len(buf)) + 1)) % buf.capacity]
            reward_avg = float(np.mean(recent, dtype=np.float64))
            print(json.dumps({"fraction": t / steps, "steps": t, "reward_avg": reward_avg}), flush=True)
            self.reported = t

        def on_batch_end(self, batch, logs):
            self.report()

        def on_train_end(self, logs):
            if self.reported != self.trainer.steps:
                self.report()

    env = _env()
    config = {**CONFIG, "exploration_fraction": EPS_STEPS / max(1, steps - LEARNING_STARTS)}
    agent = DQN.for_env(env, seed=seed, **config)
    agent.learn(env, steps, log_every=1000, callbacks=[Progress()])
    agent.save(str(out), metadata={"env": "thetas/AppleWorld-v0", "steps_trained": steps})


if __name__ == "__main__":
    import sys
    train(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else TRAINED_STEPS)
