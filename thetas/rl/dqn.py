"""Deep Q-learning (DQN, Mnih et al. 2015): a network whose outputs are expected rewards, one per action.

The lecture: "instead of having the output of a model be a probability you can make it an expectation". The
input is the state s, and output a is Q(s, a) = E[return | action a, state s], the expected (discounted) sum of
future rewards when the agent takes action a in s and acts well afterwards. Acting is then an argmax over the
outputs. Training regresses Q(s, a) of the action taken onto the one-step TD target

    y = r + γ (1 − terminated) max_a' Q_target(s', a')

with the Huber loss. ``terminated`` means the episode really ended in s' (the pole fell): no future reward.
A time limit that cuts an episode (``truncated``) is no end of the task, so y still bootstraps from s'.
Q_target is an older copy of the network, refreshed every C steps (or moved towards it by Polyak averaging),
so the target does not chase its own updates; transitions come from a replay buffer; actions are ε-greedy
with ε falling linearly after a warm-up of random play.

    agent = th.rl.DQN(obs_dim=4, n_actions=2)
    log = agent.learn(gymnasium.make("CartPole-v1"), total_steps=200_000, eval_env=gymnasium.make("CartPole-v1"))
    agent.evaluate(gymnasium.make("CartPole-v1"), episodes=100).mean_return

``learn`` reports as ``th.fit`` does, through ``thetas.train``'s callbacks: an epoch is one evaluation period, and
``History``, ``ProgressBar``, ``EarlyStopping("eval_return", mode="max")`` and ``ModelCheckpoint`` work on it.
"""
import math
import time
from collections import namedtuple
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from ..autograd.grad_mode import no_grad
from ..losses import huber_loss
from ..models.mlp import MLP
from ..nn.module import build
from ..nn.utils import clip_grad_norm_
from ..optim import Adam, LinearLR
from ..train.callbacks import Callback, EarlyStopping, History, ProgressBar, TerminateOnNaN
from ..train.trainer import Trainer
from .buffer import ReplayBuffer

__all__ = ["DQNConfig", "DQN", "AgentTrainer", "linear_epsilon", "td_target", "evaluate", "EvalResult"]


@dataclass
class DQNConfig:
    """Hyperparameters of a DQN agent. The defaults solve CartPole-v1 (greedy return ≥ 475 over 100 episodes) in
    10k-55k steps for each of seeds 0-9: rl-zoo's DQN settings with a learning rate that decays linearly."""
    hidden: tuple = (256, 256)        # widths of the Q-network's hidden layers (ReLU)
    lr: float = 2.3e-3                # Adam's learning rate η at the first update
    lr_end_factor: float = 0.1        # η falls linearly to lr · lr_end_factor by the last update (1: constant)
    adam_eps: float = 1e-8            # Adam's ε
    gamma: float = 0.99               # discount γ of future rewards
    buffer_size: int = 100_000        # replay memory: the last N transitions
    batch_size: int = 64              # transitions per update
    learning_starts: int = 1_000      # warm-up: random actions (ε = eps_start), no updates
    train_freq: int = 256             # every `train_freq` environment steps ...
    gradient_steps: int = 128         # ... this many updates, each on a fresh minibatch
    target_update: int = 10           # every C steps θ⁻ ← τ θ + (1 − τ) θ⁻ (here: once between bursts)
    tau: float = 1.0                  # 1: hard copy; < 1: Polyak averaging
    eps_start: float = 1.0            # ε of ε-greedy during and right after the warm-up
    eps_end: float = 0.04             # ε after the decay
    exploration_fraction: float = 0.04  # ε decays linearly over this fraction of the steps after the warm-up
    max_grad_norm: float = 10.0       # clip the gradients' joint norm (None: no clipping)
    huber_delta: float = 1.0          # δ of the Huber loss (squared inside, absolute beyond)
    double: bool = False              # Double DQN: the online network picks a', the target network scores it
    seed: int = 0

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if "hidden" in kw:
            kw["hidden"] = tuple(kw["hidden"])
        return cls(**kw)


EvalResult = namedtuple("EvalResult", ["returns", "lengths"])
"""What ``evaluate`` returns: one number per episode played, and three summaries of them.

Attributes:
    returns: (episodes,) float64, the total reward of each episode.
    lengths: (episodes,) int64, the steps of each episode.
    mean_return: the mean of ``returns``, a Python float.
    std_return: the standard deviation of ``returns``, a Python float.
    reward_per_step: all the reward divided by all the steps (Σ returns / Σ lengths), a Python float.
"""
EvalResult.mean_return = property(lambda self: float(np.mean(self.returns)))
EvalResult.std_return = property(lambda self: float(np.std(self.returns)))
EvalResult.reward_per_step = property(lambda self: float(np.sum(self.returns) / max(1, np.sum(self.lengths))))


def linear_epsilon(step, start=1.0, end=0.05, decay_steps=100_000, warmup=0):
    """ε of ε-greedy at environment step ``step``: ``start`` during the warm-up, then a straight line down to
    ``end`` over ``decay_steps`` steps, then ``end``:

        ε = start + (end − start) · clip((step − warmup) / decay_steps, 0, 1)
    """
    if decay_steps <= 0:
        return end if step >= warmup else start
    return start + (end - start) * min(1.0, max(0.0, (step - warmup) / decay_steps))


def td_target(reward, terminated, q_next_target, gamma, q_next_online=None):
    """The one-step TD target of a batch (NumPy in, NumPy out):

        DQN:         y = r + γ (1 − terminated) max_a' Q_target(s', a')
        Double DQN:  y = r + γ (1 − terminated) Q_target(s', argmax_a' Q(s', a'))   (q_next_online given)

    ``terminated`` (B,) bool; ``q_next_target``, ``q_next_online`` (B, A). Truncated transitions are not special:
    a time limit is no end of the task, so they bootstrap.
    """
    if q_next_online is None:
        v_next = q_next_target.max(axis=1)
    else:
        a_next = q_next_online.argmax(axis=1)
        v_next = q_next_target[np.arange(len(a_next)), a_next]
    not_done = 1.0 - np.asarray(terminated, q_next_target.dtype)
    return (np.asarray(reward, q_next_target.dtype) + gamma * not_done * v_next).astype(q_next_target.dtype,
                                                                                          copy=False)


def _env_sizes(env):
    obs_shape, n = env.observation_space.shape, getattr(env.action_space, "n", None)
    if obs_shape is None or len(obs_shape) != 1 or n is None:
        raise ValueError(f"DQN needs a flat Box observation and a Discrete action space, got "
                         f"{env.observation_space} and {env.action_space}")
    return int(obs_shape[0]), int(n)


class AgentTrainer(Trainer):
    """What callbacks see of ``DQN.learn``: a ``th.train.Trainer`` whose ``model`` is the agent's online Q-network
    and ``optimizer`` its Adam, whose ``epochs`` are evaluation periods of ``steps_per_epoch`` (= ``eval_every``)
    environment steps, and which counts environment steps: ``total_steps`` of this call, ``steps`` taken so far
    (what a ``ProgressBar`` shows). ``agent`` is the DQN; ``save`` writes it, so ``ModelCheckpoint`` saves agents
    that ``DQN.load`` reads back."""
    unit = "step"
    progress_keys = ("episode_return", "epsilon", "eval_return", "loss")   # a ProgressBar shows these

    def __init__(self, agent, history, epochs, steps_per_epoch, total_steps):
        super().__init__(agent.q, agent.optimizer, history, epochs, steps_per_epoch)
        self.agent, self.total_steps, self.steps = agent, int(total_steps), 0

    def save(self, path, metadata=None):
        self.agent.save(path, metadata=metadata)


def _callbacks(callbacks, evaluating, verbose):
    """(callbacks in calling order, the History, the TerminateOnNaN or None, the progress bars), as ``fit`` picks
    them, and with an EarlyStopping that keeps the best evaluated weights unless one is given."""
    callbacks = list(callbacks or [])
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"learn: callbacks must be Callback objects (th.train.Callback), got a "
                            f"{type(cb).__name__}")
    history = next((cb for cb in callbacks if isinstance(cb, History)), None)
    history = History() if history is None else history  # (an empty History is falsy: it has len 0)
    guard = next((cb for cb in callbacks if isinstance(cb, TerminateOnNaN)), None)
    extra = [cb for cb in callbacks if cb is not history]
    if evaluating and not any(isinstance(cb, EarlyStopping) for cb in extra):
        extra.insert(0, EarlyStopping("eval_return", mode="max", patience=None, ties="last"))
    bars = [cb for cb in extra if isinstance(cb, ProgressBar)]
    if verbose and not bars:
        bars = [ProgressBar()]
        extra.append(bars[0])
    extra.sort(key=lambda cb: isinstance(cb, ProgressBar))  # the bar reports last, after EarlyStopping has acted
    return [history, *extra], history, guard, bars


def _epochs(start, end, every, warmup):
    """How many epochs steps start+1 .. end make: one per evaluation step (t ≥ warmup, t % every == 0), and one
    more for the steps after the last of them."""
    first = -(-max(start + 1, warmup) // every) * every
    n = 0 if first > end else (end - first) // every + 1
    last = first + (n - 1) * every if n else start
    return n + (last < end)


def _guard_fails(guard, loss, epoch, batch):
    """TerminateOnNaN after one update: True (and training stops, the weights from before it put back) if the loss
    or a parameter is not finite."""
    if not math.isfinite(loss):
        guard.fail(epoch, batch, f"the TD loss is {loss}")
        return True
    bad = guard.first_bad_tensor()
    if bad is not None:
        guard.fail(epoch, batch, f"parameter {bad!r} became non-finite in the optimizer step")
        return True
    return False


class DQN:
    """A DQN agent: online Q-network, target network, replay buffer, ε-greedy acting, greedy evaluation.

    The Q-network is a thetas ``MLP([obs_dim, *hidden, n_actions])`` with ReLU: its ``n_actions`` outputs are the
    expected returns Q(s, a) = E[return | action a, state s], one per action ("the outputs of the network are
    expected rewards"). Pass your own ``q_network`` (any thetas Module mapping (B, obs_dim) -> (B, n_actions))
    to use another architecture.

    Args:
        obs_dim: length of an observation vector.
        n_actions: how many discrete actions.
        config: a ``DQNConfig``; keyword ``overrides`` replace single fields (``DQN(4, 2, lr=1e-3)``).
        q_network: a thetas Module to use as the online network (default: an MLP from ``config.hidden``).

    Attributes:
        q: the online network.
        q_target: the target network.
        optimizer: Adam on ``q``.
        buffer: the ReplayBuffer.
        steps: environment steps taken by ``learn``.
        updates: gradient updates made.
    """

    def __init__(self, obs_dim, n_actions, config=None, q_network=None, **overrides):
        self.config = c = replace(config or DQNConfig(), **overrides)
        self.obs_dim, self.n_actions = int(obs_dim), int(n_actions)
        # independent streams for the initial thetas, the buffer's sampling and ε-greedy
        init_rng, buffer_rng, act_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(c.seed).spawn(3))
        self.q = q_network if q_network is not None else MLP([self.obs_dim, *c.hidden, self.n_actions],
                                                             activation="relu", generator=init_rng)
        self.q_target = build(self.q.config())
        self.q_target.load_state_dict(self.q.state_dict())
        self.q_target.eval()
        self.q_target.requires_grad_(False)
        self.optimizer = Adam(self.q.parameters(), lr=c.lr, eps=c.adam_eps)
        self.buffer = ReplayBuffer(c.buffer_size, (self.obs_dim,), seed=buffer_rng)
        self.rng = act_rng
        self.dtype = self.q.parameters()[0].dtype
        self.steps, self.updates = 0, 0
        self._rows = np.arange(c.batch_size)

    @classmethod
    def for_env(cls, env, config=None, **overrides):
        """An agent sized for ``env`` (a flat Box observation space, a Discrete action space)."""
        return cls(*_env_sizes(env), config=config, **overrides)

    # ------------------------------------------------------------------ acting
    def q_values(self, obs):
        """Q(s, ·) of one observation (n_actions,) or a batch (B, n_actions), as NumPy, without a graph."""
        x = np.asarray(obs, self.dtype)
        with no_grad():
            out = self.q(x.reshape(-1, self.obs_dim)).data
        return out[0] if x.ndim == 1 else out

    def act(self, obs, epsilon=0.0):
        """ε-greedy: a uniformly random action with probability ε, else argmax_a Q(s, a)."""
        if epsilon > 0 and self.rng.random() < epsilon:
            return int(self.rng.integers(self.n_actions))
        return int(np.argmax(self.q_values(obs)))

    def epsilon(self, step=None, total_steps=None):
        """ε at environment step ``step`` (default: now) of a run of ``total_steps`` (for the decay length)."""
        c = self.config
        step = self.steps if step is None else step
        total = total_steps if total_steps is not None else getattr(self, "_total_steps", None)
        decay = c.exploration_fraction * max(0, (total or 0) - c.learning_starts)
        return linear_epsilon(step, c.eps_start, c.eps_end, decay, c.learning_starts)

    # ------------------------------------------------------------------ learning
    def td_target(self, batch):
        """y (B,) for a ``Batch``: r + γ (1 − terminated) max_a' Q_target(s', a') (Double DQN if configured)."""
        with no_grad():
            q_next_target = self.q_target(batch.next_obs).data
            q_next_online = self.q(batch.next_obs).data if self.config.double else None
        return td_target(batch.reward, batch.terminated, q_next_target, self.config.gamma, q_next_online)

    def update(self, batch):
        """One gradient step on a ``Batch``: Huber(Q(s, a), y) with y from ``td_target``, clipped, Adam.

        Returns {"loss": Huber loss, "q_mean": mean Q(s, a) of the batch, "grad_norm": norm before clipping}.
        """
        c = self.config
        y = self.td_target(batch)                                          # (B,), no graph
        rows = self._rows if len(self._rows) == len(y) else np.arange(len(y))
        q_sa = self.q(batch.obs)[rows, batch.action]                       # (B, A) -> (B,): Q(s, a) of the action taken
        loss = huber_loss(q_sa, y, delta=c.huber_delta)
        self.optimizer.zero_grad()
        loss.backward()
        grad_norm = clip_grad_norm_(self.q.parameters(), c.max_grad_norm) if c.max_grad_norm else float("nan")
        self.optimizer.step()
        self.updates += 1
        return {"loss": loss.item(), "q_mean": float(q_sa.data.sum()) / len(y), "grad_norm": grad_norm}

    def sync_target(self, tau=None):
        """θ⁻ ← τ θ + (1 − τ) θ⁻ for every parameter and buffer (τ = 1: a hard copy)."""
        tau = self.config.tau if tau is None else tau
        target = dict(self.q_target.named_parameters())
        target.update(self.q_target.named_buffers())
        online = dict(self.q.named_parameters())
        online.update(self.q.named_buffers())
        for name, p in online.items():
            t = target[name].data
            if tau >= 1.0:
                np.copyto(t, p.data)
            else:
                t *= 1.0 - tau
                t += tau * p.data

    def learn(self, env, total_steps, eval_env=None, eval_every=10_000, eval_episodes=10, log_every=1_000,
              solved_at=None, confirm_episodes=100, stop_when_solved=True, callbacks=None, verbose=False,
              eval_epsilon=0.0):
        """Play ``total_steps`` steps of ``env`` ε-greedily and learn from replayed transitions.

        Each step: act ε-greedily, store (s, a, r, s', terminated, truncated); after the warm-up, every
        ``train_freq`` steps ``gradient_steps`` updates on random minibatches, and every ``target_update`` steps
        a target-network sync. Every ``eval_every`` steps after the warm-up the greedy policy plays
        ``eval_episodes`` episodes of ``eval_env`` (``eval_epsilon`` > 0: ε-greedily, for an agent that will play
        so, as rldemo's does at test time). With ``lr_end_factor`` < 1, η falls linearly over the updates of this
        call.

        ``solved_at`` (e.g. CartPole's reward threshold, 475): an evaluation that reaches it is repeated with
        ``confirm_episodes`` episodes, and that mean is its score; a confirmed score ≥ ``solved_at`` solves the
        task (``solved_step``) and, with ``stop_when_solved``, ends training there.

        It reports through the callbacks of ``th.fit`` (``thetas.train``): an *epoch* is one evaluation period
        (it ends at each evaluation step, a multiple of ``eval_every`` from the warm-up on, and at the last step),
        a *batch* one log interval of ``log_every`` steps. Batch logs: ``batch``, ``steps`` (environment steps so
        far), ``loss`` (mean TD loss of the interval's updates, NaN before the first), ``q_mean`` (their mean
        Q(s, a)), ``epsilon``, ``lr``, ``episode_return`` (mean return of the episodes that ended in the interval,
        None if none did). Epoch logs: the same over the epoch, ``episodes`` (finished so far), ``seconds`` and,
        with ``eval_env``, ``eval_return`` (the score), ``eval_std``, ``eval_episodes`` (None in an epoch without
        an evaluation). ``self.trainer`` is an ``AgentTrainer``: ``model`` is the online Q-network ``q``.

            agent.learn(env, 200_000, eval_env=eval_env, callbacks=[
                th.train.EarlyStopping("eval_return", mode="max", patience=5),           # keeps the best q
                th.train.ModelCheckpoint("best.safetensors", "eval_return", mode="max")])  # DQN.load reads it

        A ``History`` is always used (yours, if you pass one); a ``ProgressBar`` of environment steps on stderr
        when ``verbose``. Unless you pass an ``EarlyStopping``, one keeps the best evaluated weights:
        ``EarlyStopping("eval_return", mode="max", patience=None, ties="last")``, so ``q`` ends with the weights of
        the best evaluation (the later one on a tie), since DQN often gets worse late in training. A
        ``TerminateOnNaN`` among yours checks every update and stops, with the weights from before it, at a
        non-finite loss or parameter. Returns the training log, a dict:

            episode_step, episode_return, episode_length    lists, one entry per finished episode
            step, loss, q_mean, epsilon, lr                 lists, one entry per log interval (the batch logs)
            eval_step, eval_mean, eval_std, eval_episodes   lists, the periodic greedy evaluations (scores)
            best_step, best_eval    the evaluation whose weights q ends with (None: the last weights)
            solved_step, steps, seconds, history            history: the History of the epoch logs
        """
        c = self.config
        start = self.steps
        self._total_steps = start + int(total_steps)
        log = {k: [] for k in ("episode_step", "episode_return", "episode_length", "step", "loss", "q_mean",
                               "epsilon", "lr", "eval_step", "eval_mean", "eval_std", "eval_episodes")}
        log.update(best_step=None, best_eval=None, solved_step=None)
        n_updates = c.gradient_steps * (self._total_steps - max(self.steps, c.learning_starts)) // c.train_freq
        schedule = (LinearLR(self.optimizer, 1.0, c.lr_end_factor, total_iters=n_updates)
                    if c.lr_end_factor != 1 and n_updates > 0 else None)
        callbacks, history, guard, bars = _callbacks(callbacks, eval_env is not None, verbose)
        trainer = AgentTrainer(self, history, _epochs(start, self._total_steps, eval_every, c.learning_starts),
                               eval_every, total_steps)
        for cb in callbacks:
            cb.set_trainer(trainer)
        batch_callbacks = [cb for cb in callbacks if type(cb).on_batch_end is not Callback.on_batch_end]
        # losses and mean Q of the updates, and returns of the episodes, since the last batch / epoch logs
        interval = {"loss": [], "q_mean": [], "episode_return": []}
        period = {"loss": [], "q_mean": [], "episode_return": []}
        mean = lambda v: float(np.mean(v)) if v else float("nan")  # noqa: E731
        t0 = time.perf_counter()
        epoch, batch, epoch_open, epoch_t0, logs = 0, 0, False, t0, {}

        def end_epoch(t, evaluation):
            nonlocal epoch, epoch_open, logs
            logs = {"steps": t, "loss": mean(period["loss"]), "q_mean": mean(period["q_mean"]), "epsilon": eps,
                    "lr": self.optimizer.param_groups[0]["lr"], "episodes": len(log["episode_return"]),
                    "episode_return": mean(period["episode_return"]) if period["episode_return"] else None}
            if eval_env is not None:
                logs.update(eval_return=None, eval_std=None, eval_episodes=None)
            if evaluation and eval_env is not None:
                result = evaluate(self, eval_env, eval_episodes, seed=c.seed + 10_000 + t, epsilon=eval_epsilon)
                if solved_at is not None and result.mean_return >= solved_at and confirm_episodes > eval_episodes:
                    result = evaluate(self, eval_env, confirm_episodes, seed=c.seed + 20_000_000 + t,
                                      epsilon=eval_epsilon)
                score = result.mean_return
                logs.update(eval_return=score, eval_std=result.std_return, eval_episodes=len(result.returns))
                log["eval_step"].append(t)
                log["eval_mean"].append(score)
                log["eval_std"].append(result.std_return)
                log["eval_episodes"].append(len(result.returns))
                if solved_at is not None and score >= solved_at and log["solved_step"] is None:
                    log["solved_step"] = t
                    if stop_when_solved:
                        trainer.stop(f"DQN: solved at step {t:,}: mean greedy return {score:.1f} ≥ {solved_at:g} "
                                     f"over {len(result.returns)} episodes")
            logs["seconds"] = time.perf_counter() - epoch_t0
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            for v in period.values():
                v.clear()
            epoch, epoch_open = epoch + 1, False

        obs, _ = env.reset(seed=c.seed)
        ep_return, ep_len = 0.0, 0
        try:
            for cb in callbacks:
                cb.on_train_begin(logs)
            for _ in range(int(total_steps)):
                if not epoch_open:
                    trainer.epoch, epoch_open, batch, epoch_t0 = epoch, True, 0, time.perf_counter()
                    for cb in callbacks:
                        cb.on_epoch_begin(epoch, {})
                eps = self.epsilon()
                action = self.act(obs, eps)
                next_obs, reward, terminated, truncated, _ = env.step(action)
                self.buffer.add(obs, action, reward, next_obs, terminated, truncated)
                obs, ep_return, ep_len = next_obs, ep_return + float(reward), ep_len + 1
                self.steps += 1
                trainer.steps += 1
                t = self.steps
                if t > c.learning_starts:
                    if t % c.train_freq == 0:
                        for _ in range(c.gradient_steps):
                            if guard is not None:
                                guard.snapshot()
                            stats = self.update(self.buffer.sample(c.batch_size))
                            if guard is not None and _guard_fails(guard, stats["loss"], epoch, batch):
                                break
                            for k in ("loss", "q_mean"):
                                interval[k].append(stats[k])
                                period[k].append(stats[k])
                            if schedule is not None and schedule.last_epoch < schedule.total_iters:
                                schedule.step()
                    if t % c.target_update == 0:
                        self.sync_target()
                if terminated or truncated:
                    log["episode_step"].append(t)
                    log["episode_return"].append(ep_return)
                    log["episode_length"].append(ep_len)
                    interval["episode_return"].append(ep_return)
                    period["episode_return"].append(ep_return)
                    obs, _ = env.reset()
                    ep_return, ep_len = 0.0, 0
                if t % log_every == 0:
                    lr = self.optimizer.param_groups[0]["lr"]
                    logs = {"batch": batch, "steps": t, "loss": mean(interval["loss"]),
                            "q_mean": mean(interval["q_mean"]), "epsilon": eps, "lr": lr,
                            "episode_return": mean(interval["episode_return"]) if interval["episode_return"] else None}
                    for key, name in (("step", "steps"), ("loss", "loss"), ("q_mean", "q_mean"),
                                      ("epsilon", "epsilon"), ("lr", "lr")):
                        log[key].append(logs[name])
                    for v in interval.values():
                        v.clear()
                    for cb in batch_callbacks:
                        cb.on_batch_end(batch, logs)
                    batch += 1
                evaluation = t >= c.learning_starts and t % eval_every == 0
                if evaluation or trainer.stop_training:
                    end_epoch(t, evaluation)
                if trainer.stop_training:
                    break
            if epoch_open:                      # the last steps after the last evaluation: an epoch of their own
                end_epoch(self.steps, False)
            for cb in callbacks:
                cb.on_train_end(logs)
        finally:
            for bar in bars:
                bar.close()
        kept = next((cb for cb in reversed(callbacks) if isinstance(cb, EarlyStopping)
                     and cb.restore_best_weights and cb.best_weights is not None), None)
        if kept is not None:                    # the epoch whose weights q ends with
            best = history.epoch.index(kept.best_epoch)
            log["best_step"] = history.history["steps"][best]
            log["best_eval"] = history.history.get("eval_return", [None] * len(history))[best]
        log.update(steps=self.steps, seconds=time.perf_counter() - t0, history=history)
        return log

    # ------------------------------------------------------------------ evaluating and saving
    def evaluate(self, env, episodes=100, seed=None, epsilon=0.0):
        """Greedy (ε = 0) returns of ``episodes`` episodes: see ``thetas.rl.evaluate``."""
        return evaluate(self, env, episodes, seed=seed, epsilon=epsilon)

    def save(self, path, metadata=None):
        """Write the online Q-network with the config (``th.save``); ``DQN.load(path)`` rebuilds the agent."""
        from ..io import save
        meta = {"kind": "dqn", "obs_dim": self.obs_dim, "n_actions": self.n_actions, "config": asdict(self.config),
                "steps": self.steps, **(metadata or {})}
        save(self.q, path, metadata=meta)

    @classmethod
    def load(cls, path):
        """An agent whose online and target networks hold the weights saved by ``save``."""
        from ..io import load, load_metadata
        meta = (load_metadata(path) or {}).get("user") or {}
        if meta.get("kind") != "dqn":
            raise ValueError(f"{path} is not a DQN agent saved by thetas (no 'kind': 'dqn' in its metadata)")
        agent = cls(meta["obs_dim"], meta["n_actions"], config=DQNConfig.from_dict(meta.get("config", {})),
                    q_network=load(path))
        agent.steps, agent.metadata = int(meta.get("steps", 0)), meta
        return agent

    def __repr__(self):
        return f"DQN(obs_dim={self.obs_dim}, n_actions={self.n_actions}, {self.config})"


def evaluate(agent, env, episodes=100, seed=None, epsilon=0.0, progress=None):
    """Play ``episodes`` whole episodes of ``env`` and return their ``EvalResult(returns, lengths)``
    (``.mean_return``, ``.std_return``, ``.reward_per_step``).

    ``agent``: a DQN (greedy, or ε-greedy with ``epsilon``), any callable obs -> action, or None for the uniformly
    random policy. ``seed`` seeds the first reset (episode i starts from ``seed + i``) and the random policy.
    ``progress``: a label for a progress bar of the episodes on stderr (None: no bar).
    """
    rng = np.random.default_rng(seed)
    n = getattr(env.action_space, "n", None)
    if agent is None:
        policy = lambda obs: int(rng.integers(n))  # noqa: E731
    elif isinstance(agent, DQN):
        if epsilon > 0:
            policy = lambda obs: int(rng.integers(n)) if rng.random() < epsilon else agent.act(obs)  # noqa: E731
        else:
            policy = agent.act
    else:
        policy = agent
    returns, lengths = np.zeros(episodes), np.zeros(episodes, np.int64)
    bar = None
    if progress:
        import sys

        from tqdm import tqdm
        bar = tqdm(total=episodes, desc=str(progress), unit="episode", file=sys.stderr, dynamic_ncols=True)
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=None if seed is None else seed + i)
            done, total, length = False, 0.0, 0
            while not done:
                obs, reward, terminated, truncated, _ = env.step(policy(obs))
                total += float(reward)
                length += 1
                done = terminated or truncated
            returns[i], lengths[i] = total, length
            if bar is not None:
                bar.set_postfix(mean_return=f"{returns[:i + 1].mean():.1f}", refresh=False)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return EvalResult(returns, lengths)

