"""The AppleWorld page: a DQN agent walking among apples (+1) and poison (−1), seen through its eye rays.

A session holds an ``AppleWorld`` and a ``DQN`` (``thetas.rl``). Each poll (``step``) advances ``speed`` steps of
the world (1 to ``MAX_SPEED``); with learning on, the transitions go to the replay buffer and, after a short
warm-up, every ``TRAIN_FREQ`` steps the Q-network takes one gradient step (ε falls from ``eps_start`` to
``eps_end`` over ``eps_steps`` steps); with learning off the agent plays with ε = 0.05. The answer: the agent's
position and heading, the apples, the poison, each eye's ray end and what it sees, Q(s, ·) (one expected return
per action: "the outputs are E[reward | action, state]"), the reward per step as a moving average, and the
network's activations for the observation now (``activations``: the eyes' readings, each hidden layer after its
ReLU, the outputs Q(s, ·); activations only, never weights: ~300 numbers a poll), which the page draws as rldemo
does, a cell per unit.

The learner's ``Settings`` (γ, the ε schedule, the learning rate, the hidden layers) are the page's to change:
applying them makes a fresh agent in the same world. ``save`` writes the agent as a ``.safetensors`` file
(``DQN.save``: the Q-network's thetas, the settings in its metadata); ``upload`` reads one back with every check
done before the network is built (``read_agent``).

"Load a trained agent": a DQN trained once in a child process (``TRAINED_STEPS`` steps of the default settings,
its thetas those of the best of its evaluations, see ``train``), cached as ``<lab cache>/CACHE_NAME``; the session
then plays it with ε = 0.05, as rldemo does at test time. Played fully greedily (ε = 0) an agent gets stuck sliding
along a wall (the same observation, the same choice). Even with ε = 0.05 the last thetas of a run often fall into
such a loop for thousands of steps in some world: over 5,000 steps in each of 5 fresh worlds (``eat_rate``, seeds
1000-1004), the last thetas of training seeds 0 and 1 ate 2.2-82.0 and 9.4-85.4 apples per 1,000 steps; the
thetas chosen by the evaluations, 55.6-86.2 and 40.8-83.8 (seed 2: 10.0-79.8, its best evaluation the last; a
random agent eats about 6). Learning on from there goes on from the trained thetas: ε stays at its ``eps_end`` (no
random warm-up; the replay buffer refills for ``LEARNING_STARTS`` steps before the first update). ``eat_rate``
measures a trained agent as the page plays it (``scripts/apple_agent_eval.py``; tests/test_lab_apple.py).
"""
import base64
import binascii
import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .jobs import BackgroundJob, cache_dir
from .pages import Page, Route
from .schema import LabError, flag, int_list, invalid, matrix, number
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
EVAL_EVERY, EVAL_EPISODES, EVAL_LENGTH = 2_500, 2, 1_000   # the trained agent: its thetas chosen by these evaluations
PLAY_EPSILON = 0.05         # ε when not learning (rldemo's test-time ε)
CACHE_NAME = "dqn-appleworld-2.safetensors"      # -2: thetas chosen by evaluations (an older cache is not reused)
ENV_ID = "thetas/AppleWorld-v0"
MAX_LAYERS, MAX_WIDTH = 3, 256       # hidden layers a student may ask for: the page draws every unit
MAX_FILE_BYTES = 1 << 20             # an uploaded agent (3 layers of 256 units take 0.56 MB)
UPLOAD_LIMIT = 4 * (MAX_FILE_BYTES // 3 + 1) + 4096      # its base64 in a JSON body, with the file's name


@dataclass(frozen=True)
class Settings:
    """What the page lets a student change about the learner; applying them makes a fresh agent."""
    gamma: float = 0.9              # discount γ of future rewards in the TD target y = r + γ max_a' Q(s', a')
    eps_start: float = 1.0          # ε of ε-greedy during the warm-up (LEARNING_STARTS steps) ...
    eps_end: float = 0.05           # ... falling linearly to this ...
    eps_steps: int = EPS_STEPS      # ... over this many steps
    lr: float = 1e-3                # Adam's learning rate η
    hidden: tuple = (128, 128)      # widths of the Q-network's hidden layers (ReLU)

    # each number's range and whether it is whole; ``hidden``: 1 to MAX_LAYERS widths of 1 to MAX_WIDTH
    RANGES = {"gamma": (0, 0.999, False), "eps_start": (0, 1, False), "eps_end": (0, 1, False),
              "eps_steps": (1, 1_000_000, True), "lr": (1e-6, 1.0, False)}

    @classmethod
    def check(cls, payload, base=None):
        """Settings from a request or a file's metadata, every field checked (LabError 422 naming it); the fields
        it leaves out keep ``base``'s (default: the defaults). ``hidden`` is a list or text like "64,64"."""
        base = base or cls()
        if not isinstance(payload, dict):
            raise invalid("the settings must be a JSON object")
        known = [*cls.RANGES, "hidden"]
        unknown = [k for k in payload if k not in known]
        if unknown:
            raise invalid(f"unknown setting {str(unknown[0])[:40]!r}; the settings are {', '.join(known)}")
        kw = {k: number(payload, k, lo, hi, default=getattr(base, k), integer=whole)
              for k, (lo, hi, whole) in cls.RANGES.items()}
        if kw["eps_end"] > kw["eps_start"]:
            raise invalid(f"'eps_end' ({kw['eps_end']:g}) must not be above 'eps_start' ({kw['eps_start']:g}): "
                          "ε falls as the agent learns")
        hidden = payload.get("hidden", list(base.hidden))
        if isinstance(hidden, str):
            parts = [p.strip() for p in hidden.split(",")]
            if not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
                raise invalid(f"'hidden' must be layer widths separated by commas, like 64,64; got {hidden[:40]!r}")
            hidden = [int(p) for p in parts]
        kw["hidden"] = tuple(int_list({"hidden": hidden}, "hidden", 1, MAX_LAYERS, 1, MAX_WIDTH))
        return cls(**kw)

    @classmethod
    def stored(cls, user):
        """The settings a saved agent's metadata (``user``, what ``DQN.save`` wrote) holds: its "settings", else (a
        file from ``thetas rl``) those its DQN config sets, with the page's ε decay length; each checked."""
        stored = user.get("settings")
        if stored is None:
            config = user.get("config") if isinstance(user.get("config"), dict) else {}
            stored = {k: config[k] for k in ("gamma", "eps_start", "eps_end", "lr", "hidden") if k in config}
        return cls.check(stored)

    def dqn(self):
        """The ``DQNConfig`` fields these settings set."""
        return {"gamma": self.gamma, "lr": self.lr, "hidden": tuple(self.hidden), "eps_start": self.eps_start,
                "eps_end": self.eps_end}

    def as_dict(self):
        return {**asdict(self), "hidden": list(self.hidden)}

    def describe(self):
        return (f"γ {self.gamma:g}, ε {self.eps_start:g} → {self.eps_end:g} over {self.eps_steps:,} steps, "
                f"learning rate {self.lr:g}, hidden layers {','.join(map(str, self.hidden))}")


DEFAULT = Settings()
# the rest of the learner, which the page does not change (DQNConfig's fields)
CONFIG = dict(**DEFAULT.dqn(), lr_end_factor=1.0, buffer_size=20_000, batch_size=64, learning_starts=LEARNING_STARTS,
              train_freq=TRAIN_FREQ, gradient_steps=1, target_update=TARGET_UPDATE)


def _env():
    from ..rl.envs import AppleWorld
    return AppleWorld()


def make_agent(env, settings=DEFAULT, seed=0, q_network=None):
    """A DQN for ``env`` with the page's learner and ``settings`` (random thetas from ``seed``, or ``q_network``)."""
    from ..rl.dqn import DQN
    return DQN.for_env(env, seed=seed, q_network=q_network, **{**CONFIG, **settings.dqn()})


def activations(q, obs):
    """What the Q-network computes for one observation, layer by layer: [the input (obs_dim,), each hidden layer
    after its activation, the outputs Q(s, ·) (n_actions,)] as float arrays (a network that is no Sequential:
    its input and output only)."""
    from ..autograd.grad_mode import no_grad
    from ..nn.containers import Sequential
    from ..nn.linear import Linear
    layers = list(q) if isinstance(q, Sequential) else [q]
    h = np.asarray(obs, q.parameters()[0].dtype).reshape(1, -1)          # (1, obs_dim)
    out = [h[0]]
    with no_grad():
        for i, layer in enumerate(layers):
            h = layer(h)
            if i == len(layers) - 1 or isinstance(layers[i + 1], Linear):   # after an activation, and the outputs
                out.append(np.asarray(getattr(h, "data", h))[0])
    return out


def net_state(q, obs):
    """The page's drawing of the network for ``obs``: the layers' sizes, their activations (3 decimals), Q(s, ·)
    and the greedy action argmax_a Q(s, a)."""
    acts = activations(q, obs)
    return {"sizes": [len(a) for a in acts], "activations": [np.round(a.astype(float), 3).tolist() for a in acts],
            "q": [float(v) for v in acts[-1]], "greedy": int(np.argmax(acts[-1]))}


class Session:
    def __init__(self, sid, seed, settings=DEFAULT):
        self.id, self.seed, self.made = sid, seed, 0
        self.env = _env()
        self.obs, _ = self.env.reset(seed=seed)
        self.learning, self.action = False, 0
        self.use(self.fresh_agent(settings), settings)

    def fresh_agent(self, settings):
        """An agent with random thetas: the session's first from its seed, each next one from the next seed."""
        self.made += 1
        return make_agent(self.env, settings, self.seed + self.made - 1)

    def use(self, agent, settings, trained=False):
        """``agent`` (with its ``settings``) plays in this world from now on; the counts, the reward graph and the
        loss start again. ``trained``: one that has learnt (loaded): it plays, and learning on from it keeps ε at
        its ``eps_end`` instead of a warm-up from ``eps_start``."""
        self.agent, self.settings = agent, settings
        self.trained = self.pretrained = bool(trained)
        if trained:
            self.learning = False
        self.steps, self.learn_steps, self.total_reward, self.loss = 0, 0, 0.0, None
        self.recent, self.history = [], []
        self.env.eaten = {"apples": 0, "poison": 0}

    def epsilon(self):
        from ..rl.dqn import linear_epsilon
        st = self.settings
        if not self.learning:
            return PLAY_EPSILON
        if self.pretrained:
            return st.eps_end
        return linear_epsilon(self.learn_steps, st.eps_start, st.eps_end, st.eps_steps, LEARNING_STARTS)

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
        net = net_state(self.agent.q, self.obs)
        r2 = lambda a: np.round(np.asarray(a, float), 3).tolist()      # noqa: E731
        return {"session": self.id, "steps": self.steps, "learn_steps": self.learn_steps, "learning": self.learning,
                "trained": self.trained, "epsilon": float(self.epsilon() if eps is None else eps),
                "size": env.size, "walls": r2(env.walls), "agent": r2(env.pos), "heading": float(env.heading),
                "agent_radius": env.agent_radius, "item_radius": env.item_radius,
                "apples": r2(env.apples), "poison": r2(env.poison), "rays": r2(ends), "ray_kinds": seen.tolist(),
                "q": net.pop("q"), "net": net, "action": int(self.action), "actions": list(env.action_names),
                "settings": self.settings.as_dict(),
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
    agent = DQN.load(str(agent_path))
    s.use(agent, Settings.stored(agent.metadata), trained=True)
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


# ---------------------------------------------------------------------------------------------- agents as files
def _file_name(name):
    name = "".join(ch for ch in name if ch.isprintable())[:80] if isinstance(name, str) else ""
    return name.strip() or "the uploaded file"


def _file_bytes(data, name):
    """The bytes of an uploaded file (base64 in the JSON body), within ``MAX_FILE_BYTES``."""
    if not isinstance(data, str):
        raise invalid("'data' must be the file's bytes in base64")
    if len(data) > 4 * (MAX_FILE_BYTES // 3 + 1):
        raise LabError(413, f"{name} is over {MAX_FILE_BYTES:,} bytes, the most an agent's file may have here "
                            f"({MAX_LAYERS} hidden layers of {MAX_WIDTH} units take about 0.56 MB)")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise LabError(400, "'data' is not valid base64") from None
    if len(raw) > MAX_FILE_BYTES:
        raise LabError(413, f"{name} is {len(raw):,} bytes; at most {MAX_FILE_BYTES:,} are accepted here")
    return raw


def read_agent(path, name, env, seed=0):
    """(agent, settings) from a file written by ``save`` (or ``DQN.save``), for ``env``. Checked in this order, and
    nothing built before the checks that bound it: the safetensors header and the metadata (``th.load_metadata``:
    no tensor is read), a DQN for AppleWorld's observations and actions, its settings in their ranges, its network
    the MLP those settings give; only then is that network built (at most MAX_LAYERS × MAX_WIDTH units) and the
    weights loaded into it, each tensor's name and shape checked first (``th.load_into``). Anything wrong: LabError
    422 whose message names the file (``name``, never the server's ``path``) and what was wrong."""
    from ..io import load_into, load_metadata
    from ..models.mlp import MLP
    obs_dim, n_actions = int(env.observation_space.shape[0]), int(env.action_space.n)

    def refuse(message):
        message = str(message).replace(str(path), name).split("; pass ")[0]     # the hints are for Python users
        return invalid(message if message.startswith(name) else f"{name}: {message}"[:500])

    try:
        meta = load_metadata(path)
    except ValueError as e:
        raise refuse(e) from None
    user = meta.get("user") or {}
    if user.get("kind") != "dqn":
        raise refuse('not an agent saved by thetas (its metadata has no "kind": "dqn")')
    if user.get("env", ENV_ID) != ENV_ID:
        raise refuse(f"an agent for {str(user['env'])[:60]!r}, not for AppleWorld ({ENV_ID})")
    if (user.get("obs_dim"), user.get("n_actions")) != (obs_dim, n_actions):
        raise refuse(f"an agent with {str(user.get('obs_dim'))[:20]} inputs and {str(user.get('n_actions'))[:20]} "
                     f"actions; AppleWorld's has {obs_dim} inputs (its eyes) and {n_actions} actions")
    try:
        settings = Settings.stored(user)
    except LabError as e:
        raise refuse(f"its settings: {e.message}") from None
    sizes = [obs_dim, *settings.hidden, n_actions]
    expected = {"class": "MLP", "args": [sizes], "kwargs": {"activation": "relu"}}
    if meta.get("config") != expected:
        found = meta.get("config")
        what = (f"an MLP of sizes {found.get('args', ['?'])[0]}" if isinstance(found, dict) and
                found.get("class") == "MLP" and found.get("args") else f"{json.dumps(found)[:80]}")
        raise refuse(f"its network is {what}, but its settings (hidden {','.join(map(str, settings.hidden))}) "
                     f"give an MLP of sizes {sizes} with ReLU")
    q = MLP(sizes, activation="relu")
    try:
        load_into(q, path, cast=True)
    except ValueError as e:
        raise refuse(e) from None
    agent = make_agent(env, settings, seed, q_network=q)
    agent.steps = int(user["steps"]) if isinstance(user.get("steps"), int) and user["steps"] >= 0 else 0
    return agent, settings


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
        """The trained agent's state, and what the page's settings and uploads may be."""
        limits = {k: [lo, hi] for k, (lo, hi, _) in Settings.RANGES.items()}
        return {**self.trained_agent.status(), "seconds": self.trained_agent.seconds, "max_speed": MAX_SPEED,
                "defaults": DEFAULT.as_dict(), "limits": {**limits, "layers": MAX_LAYERS, "width": MAX_WIDTH},
                "upload_bytes": MAX_FILE_BYTES}

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
        agent = DQN.load(str(self.trained_agent.path))
        s.use(agent, Settings.stored(agent.metadata), trained=True)
        return s.state()

    def settings(self, payload, sid):
        """A fresh agent (random thetas) with the settings of ``payload`` (each checked) in the session's world."""
        s = self.sessions.get(sid)
        settings = Settings.check(payload)
        s.use(s.fresh_agent(settings), settings)
        return {**s.state(), "message": f"a fresh agent with random thetas: {settings.describe()}"}

    def q(self, payload, sid):
        """The network on an observation (``payload["obs"]``, else the session's now): its activations, Q(s, ·)."""
        s = self.sessions.get(sid)
        obs = s.obs
        if "obs" in payload:
            obs = matrix(payload["obs"], s.obs.shape, "'obs'", bound=1.0)
            if (obs < 0).any():
                raise invalid("'obs' holds proximities and a touch sensor: numbers from 0 to 1")
        return net_state(s.agent.q, obs)

    def save(self, payload, sid):
        """The session's agent as a .safetensors file (``DQN.save``; its settings in the metadata), in base64."""
        s = self.sessions.get(sid)
        with tempfile.TemporaryDirectory(prefix="thetas-apple-") as tmp:
            path = os.path.join(tmp, "agent.safetensors")
            s.agent.save(path, metadata={"env": ENV_ID, "settings": s.settings.as_dict(),
                                         "learn_steps": s.learn_steps, "trained": s.trained})
            raw = Path(path).read_bytes()
        name = f"appleworld-dqn-{'x'.join(map(str, s.settings.hidden))}.safetensors"
        return {"name": name, "bytes": len(raw), "settings": s.settings.as_dict(),
                "data": base64.b64encode(raw).decode("ascii")}

    def upload(self, payload, sid):
        """A file from ``save`` replaces the session's agent (``read_agent``: checked before anything is built)."""
        s = self.sessions.get(sid)
        name = _file_name(payload.get("name"))
        raw = _file_bytes(payload.get("data"), name)
        with tempfile.TemporaryDirectory(prefix="thetas-apple-") as tmp:
            path = os.path.join(tmp, "agent.safetensors")
            with open(path, "wb") as f:
                f.write(raw)
            agent, settings = read_agent(path, name, s.env, s.seed)
        s.use(agent, settings, trained=True)
        return {**s.state(), "message": f"loaded {name}: {settings.describe()}"}


PAGE = Page("apple", "/apple-world", "apple.html", "AppleWorld", summary=(
    "Deep Q-learning: an agent with eye rays learns to eat apples and avoid poison; watch its Q-values, the "
    "expected reward of each action, and its reward climb."), routes=(
    Route("GET", "/api/apple/status", AppleService.status,
          "the trained DQN: idle, training (progress), ready or failed; the settings' defaults and ranges"),
    Route("POST", "/api/apple/trained", AppleService.train, "start training (or loading) the trained DQN"),
    Route("POST", "/api/apple/sessions", AppleService.create,
          '{"seed"?} -> a new AppleWorld session: world, rays, Q-values, the network\'s activations'),
    Route("POST", "/api/apple/{sid}/step", AppleService.step,
          '{"speed": 1-40, "learning"?: bool} -> the state after that many steps', frame=True),
    Route("POST", "/api/apple/{sid}/load", AppleService.load,
          "the trained DQN replaces the session's agent (it plays with ε = 0.05)"),
    Route("POST", "/api/apple/{sid}/settings", AppleService.settings,
          '{"gamma", "eps_start", "eps_end", "eps_steps", "lr", "hidden": "64,64" or [64, 64]} (each optional) '
          "-> a fresh agent with these settings"),
    Route("POST", "/api/apple/{sid}/q", AppleService.q,
          '{"obs"?: 28 numbers in [0, 1]} -> the network on it (default: the observation now): activations, Q(s, ·)'),
    Route("GET", "/api/apple/{sid}/agent", AppleService.save,
          "the agent as a .safetensors file, base64: {name, bytes, settings, data}"),
    Route("POST", "/api/apple/{sid}/agent", AppleService.upload,
          '{"name", "data": base64} -> a saved agent replaces the session\'s (checked first)', UPLOAD_LIMIT),
))


def train(out, steps=TRAINED_STEPS, seed=0, settings=DEFAULT, eval_every=EVAL_EVERY):
    """The child process: a DQN on AppleWorld (``DQN.learn``, with a session's ε: from ``eps_start`` down to
    ``eps_end`` over ``eps_steps`` steps after the warm-up), progress as JSON lines on stdout, saved to ``out``
    with its settings in the metadata. Every ``eval_every`` steps it plays ``EVAL_EPISODES`` fresh worlds of
    ``EVAL_LENGTH`` steps as the page plays (ε = 0.05), and the thetas of the best of these evaluations are the
    ones saved (``DQN.learn``'s EarlyStopping): DQN's thetas swing from one evaluation to the next, some of them
    into an agent that slides along a wall for thousands of steps."""
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

    from gymnasium.wrappers import TimeLimit
    env = _env()
    agent = make_agent(env, settings, seed)
    agent.config.exploration_fraction = settings.eps_steps / max(1, steps - LEARNING_STARTS)
    log = agent.learn(env, steps, log_every=1000, callbacks=[Progress()], eval_every=eval_every,
                      eval_env=TimeLimit(_env(), EVAL_LENGTH) if eval_every else None,
                      eval_episodes=EVAL_EPISODES, eval_epsilon=PLAY_EPSILON)
    agent.save(str(out), metadata={"env": ENV_ID, "steps_trained": steps, "settings": settings.as_dict(),
                                   "best_step": log["best_step"], "best_eval": log["best_eval"]})


if __name__ == "__main__":
    import sys
    train(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else TRAINED_STEPS)
