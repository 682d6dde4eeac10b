"""``thetas rl``: train a DQN agent on CartPole or AppleWorld, evaluate a saved one.

    thetas rl cartpole                                   # DQN on CartPole-v1, defaults that reach ~500
    thetas rl apple-world --save apples.safetensors --plot plots/
    thetas rl evaluate apples.safetensors --episodes 100 --json

Registered in ``thetas.cli.build_parser`` by ``add_parser(sub)``; ``run(args)`` trains or evaluates. As every
thetas command: progress on stderr, ``--json`` prints one JSON object as the last stdout line, a user mistake is
one line and exit status 2.
"""
import argparse
import importlib
import os
import time

from .common import (CLIError, check_safetensors, check_writable, checked, fraction, layer_widths, nonnegative_int,
                     peak_memory_mb, positive_float, positive_int, pyplot, report, set_threads)
from .common import log as _log  # cmd_rl_train's `log` is the training log that learn() returns

# Per-environment defaults: ``thetas rl NAME`` works without tuning. CartPole: DQNConfig's defaults (rl-zoo's
# settings with a decaying learning rate; CleanRL's, with the Huber loss, let Q diverge far beyond 1/(1 − γ)), an
# evaluation of 20 greedy episodes every 5,000 steps, confirmed with 100 when it reaches the threshold of 475.
# ``final_episodes``: the final evaluation's episodes (an AppleWorld episode is 1,000 steps of the network).
# A shorter --steps scales the warm-up, the evaluation period and the final evaluation down (see ``_scaled``).
ENVS = {
    "cartpole": dict(id="CartPole-v1", steps=200_000, eval_every=5_000, eval_episodes=20, final_episodes=100,
                     config={}),
    "apple-world": dict(
        id="thetas/AppleWorld-v0", steps=100_000, eval_every=10_000, eval_episodes=3, final_episodes=20,
        config=dict(hidden=(128, 128), lr=1e-3, lr_end_factor=1.0, gamma=0.9, buffer_size=100_000, batch_size=64,
                    learning_starts=5_000, train_freq=4, gradient_steps=1, target_update=1_000,
                    exploration_fraction=0.3, eps_end=0.05)),
}
EVAL_SEED = 1_000_000   # final evaluations reset episode i with seed EVAL_SEED + training seed + i
ALIASES = {"cartpole-v1": "cartpole", "appleworld": "apple-world", "apple_world": "apple-world",
           "thetas/appleworld-v0": "apple-world", "appleworld-v0": "apple-world"}


def _env_name(name):
    """'cartpole' / 'apple-world' for any spelling of the two, else None."""
    key = str(name).lower()
    return key if key in ENVS else ALIASES.get(key)


def _gym():
    try:
        import gymnasium
    except ImportError:
        raise CLIError('thetas rl needs Gymnasium: pip install "thetas[rl]"') from None
    importlib.import_module("thetas.rl.envs")  # registers thetas/AppleWorld-v0
    return gymnasium


def _make(name, seed=None):
    gym = _gym()
    spec = ENVS.get(_env_name(name) or "")
    env_id = spec["id"] if spec else name
    try:
        return gym.make(env_id)
    except Exception as e:  # gymnasium raises its own error types for unknown ids and missing extras
        raise CLIError(f"cannot make environment {name!r}: {e}") from None


# ---------------------------------------------------------------------- commands
def run(args):
    """``thetas rl ENV``: train an agent; ``thetas rl evaluate MODEL``: play a saved one."""
    return cmd_rl_evaluate(args) if args.rl_command == "evaluate" else cmd_rl_train(args)


def _scaled(args, spec, config, steps, episode_steps):
    """(learning_starts, eval_every, final episodes) for a run of ``steps``: the defaults of ``spec`` and
    ``config``, made shorter for a short run, so that it learns, is evaluated, and does not spend longer on the
    final evaluation than on training: random play for at most a tenth of the steps (at least one minibatch),
    an evaluation at least every quarter of the run, and no more final episodes than ``steps`` fill."""
    learning_starts = args.learning_starts if args.learning_starts is not None else \
        min(config.learning_starts, max(config.batch_size, steps // 10))
    eval_every = args.eval_every or min(spec["eval_every"], max(1, steps // 4))
    episodes = args.eval_episodes or min(spec["final_episodes"], max(2, steps // (episode_steps or 1)))
    return learning_starts, eval_every, episodes


def cmd_rl_train(args):
    from dataclasses import replace

    from ..rl.dqn import DQN, DQNConfig, evaluate
    if args.plot:
        pyplot()                                          # before training: headless, or how to install it
        check_writable("--plot", args.plot, folder_ok=True)
    if args.save:
        check_writable("--save", args.save)
    set_threads(args)
    from .._runtime import tune_malloc
    tune_malloc()
    spec = ENVS[args.env]
    overrides = {k: v for k, v in dict(lr=args.lr, gamma=args.gamma, batch_size=args.batch_size,
                                       buffer_size=args.buffer_size, target_update=args.target_update,
                                       tau=args.tau, train_freq=args.train_freq,
                                       gradient_steps=args.gradient_steps).items()
                 if v is not None}
    if args.hidden is not None:
        overrides["hidden"] = tuple(args.hidden)
    if args.double:
        overrides["double"] = True
    if args.constant_lr:
        overrides["lr_end_factor"] = 1.0
    config = DQNConfig(**{**spec["config"], **overrides, "seed": args.seed})
    steps = args.steps if args.steps is not None else spec["steps"]
    if args.learning_starts is not None and args.learning_starts >= steps:
        raise CLIError(f"--learning-starts {args.learning_starts} leaves nothing to learn from in --steps {steps}")
    env, eval_env = _make(args.env), _make(args.env)
    learning_starts, eval_every, episodes = _scaled(args, spec, config, steps, env.spec.max_episode_steps)
    config = replace(config, learning_starts=learning_starts)
    agent = DQN.for_env(env, config)
    threshold = getattr(env.spec, "reward_threshold", None)
    _log(f"thetas: DQN{' (double)' if config.double else ''} {agent.q.num_parameters():,} parameters on "
         f"{env.spec.id}: {steps:,} steps, Adam lr {config.lr}" +
         (f" → {config.lr * config.lr_end_factor:.3g}" if config.lr_end_factor != 1 else "") +
         f", γ {config.gamma}, batch {config.batch_size}, {config.gradient_steps} update(s) every "
         f"{config.train_freq} steps, random play for the first {config.learning_starts:,}")
    log = agent.learn(env, steps, eval_env=eval_env, eval_every=eval_every, eval_episodes=spec["eval_episodes"],
                      solved_at=threshold, confirm_episodes=100, stop_when_solved=not args.no_stop,
                      verbose=not args.quiet)
    seconds = log["seconds"]
    final = evaluate(agent, eval_env, episodes, seed=EVAL_SEED + args.seed,    # the kept (best) weights
                     progress=None if args.quiet else "final evaluation")
    result = {"env": env.spec.id, "steps": agent.steps, "episodes": len(log["episode_return"]),
              "eval_mean_return": round(final.mean_return, 4), "eval_std_return": round(final.std_return, 4),
              "eval_episodes": episodes, "best_step": log["best_step"],
              "best_eval": None if log["best_eval"] is None else round(log["best_eval"], 4),
              "seconds": round(seconds, 3), "steps_per_s": round(log["steps"] / max(seconds, 1e-9), 1),
              "parameters": agent.q.num_parameters(), "updates": agent.updates, "seed": args.seed}
    if threshold is not None:
        result.update(reward_threshold=threshold, solved_step=log["solved_step"])
    if args.env == "apple-world":
        rand = evaluate(None, eval_env, episodes, seed=EVAL_SEED + args.seed)
        result.update(reward_per_step=round(final.reward_per_step, 5),
                      random_reward_per_step=round(rand.reward_per_step, 5),
                      random_mean_return=round(rand.mean_return, 4))
    result["config"] = {k: list(v) if isinstance(v, tuple) else v for k, v in vars(config).items()}
    result["peak_memory_mb"] = peak_memory_mb()
    if args.save:
        try:
            agent.save(args.save, metadata={"env": env.spec.id, "env_name": args.env, "seed": args.seed,
                                            "eval_mean_return": result["eval_mean_return"]})
        except (OSError, FileNotFoundError) as e:
            raise CLIError(f"cannot write {args.save}: {getattr(e, 'strerror', None) or e}") from None
        result["saved"] = args.save
    if args.plot:
        result["plot"] = _plot(args.plot, log, agent, args.env, threshold)
    summary = [f"greedy return {final.mean_return:.1f} ± {final.std_return:.1f} over {episodes} episodes"]
    if args.env == "apple-world":
        summary.append(f"reward/step {final.reward_per_step:.4f} (random {result['random_reward_per_step']:.4f})")
    summary += [f"best weights from step {log['best_step']:,}" if log["best_step"] is not None else
                "no evaluation during training: the last weights", f"{agent.steps:,} steps", f"{seconds:.1f} s"]
    report(args, result, summary)
    return 0


def cmd_rl_evaluate(args):
    from ..rl.dqn import DQN, evaluate
    set_threads(args)
    check_safetensors(args.model)
    try:
        agent = DQN.load(args.model)
    except (ValueError, FileNotFoundError, OSError, KeyError, TypeError, AttributeError) as e:
        raise CLIError(str(e)) from None
    env_arg = args.env or agent.metadata.get("env_name") or agent.metadata.get("env")
    if env_arg is None:
        raise CLIError("evaluate: name the environment (it is not recorded in the model file)")
    env = _make(env_arg)
    sizes = (env.observation_space.shape, getattr(env.action_space, "n", None))
    if sizes != ((agent.obs_dim,), agent.n_actions):
        raise CLIError(f"{args.model} takes {agent.obs_dim} inputs and has {agent.n_actions} actions; "
                           f"{env.spec.id} has observations of shape {sizes[0]} and {sizes[1]} actions")
    seed = args.seed if args.seed is not None else EVAL_SEED + int(agent.metadata.get("seed") or 0)
    t0 = time.perf_counter()
    res = evaluate(agent, env, args.episodes, seed=seed, epsilon=args.epsilon,
                   progress=None if args.json else "evaluation")
    result = {"env": env.spec.id, "model": args.model, "episodes": args.episodes, "seed": seed,
              "eval_mean_return": round(res.mean_return, 4), "eval_std_return": round(res.std_return, 4),
              "eval_min_return": float(res.returns.min()), "eval_max_return": float(res.returns.max()),
              "mean_length": float(res.lengths.mean()), "reward_per_step": round(res.reward_per_step, 5),
              "epsilon": args.epsilon, "seconds": round(time.perf_counter() - t0, 3)}
    summary = [f"return {res.mean_return:.1f} ± {res.std_return:.1f} over {args.episodes} episodes"]
    if _env_name(env.spec.id) == "apple-world":
        rand = evaluate(None, env, args.episodes, seed=seed)
        result.update(random_reward_per_step=round(rand.reward_per_step, 5), random_mean_return=rand.mean_return)
        summary.append(f"reward/step {res.reward_per_step:.4f} (random {rand.reward_per_step:.4f})")
    report(args, result, summary)
    return 0


def _plot(path, log, agent, env_name, threshold):
    """Training curves (returns, TD loss, mean Q) at a .png path, or a folder with training.png and, for
    AppleWorld, apple_world.png (a frame and the Q-value of each action)."""
    from ..viz import savefig
    from ..viz.rl import plot_apple_world, plot_training
    plt = pyplot()
    title = f"DQN on {ENVS[env_name]['id']}"
    if str(path).lower().endswith(".png"):
        fig = plot_training(log, threshold=threshold, title=title)
        savefig(fig, path)
        plt.close(fig)
        return path
    written = []
    fig = plot_training(log, threshold=threshold, title=title)
    written.append(savefig(fig, os.path.join(path, "training.png")))
    plt.close(fig)
    if env_name == "apple-world":
        frame, q = _apple_world_moment(agent)
        fig = plot_apple_world(frame, q, agent_action_names())
        written.append(savefig(fig, os.path.join(path, "apple_world.png")))
        plt.close(fig)
    return written


def agent_action_names():
    from ..rl.envs import AppleWorld
    return AppleWorld.action_names


def _apple_world_moment(agent, steps=60, seed=0):
    """Play the greedy agent ``steps`` steps, then the frame and Q(s, ·) of the first later state in which its
    middle eyes see an apple (or the state reached)."""
    from ..rl.envs import AppleWorld
    env = AppleWorld()
    obs, _ = env.reset(seed=seed)
    for t in range(steps + 200):
        eyes = obs[:-1].reshape(env.n_eyes, 3)
        if t >= steps and eyes[env.n_eyes // 2 - 1:env.n_eyes // 2 + 2, 1].any():
            break
        obs, *_ = env.step(agent.act(obs))
    return env.frame(), agent.q_values(obs)


# ---------------------------------------------------------------------- argument parsing
def add_parser(subparsers):
    """Register ``thetas rl`` (``cartpole``, ``apple-world``, ``evaluate``) on the main parser's subparsers."""
    rl = subparsers.add_parser(
        "rl", help="deep Q-learning: train a DQN agent on CartPole or AppleWorld, evaluate a saved one",
        description="Deep Q-learning (DQN): a network whose outputs are the expected rewards Q(s, a) of each "
                    "action, trained from replayed experience. ENV: " + ", ".join(ENVS) + "; or evaluate MODEL.")
    sub = rl.add_subparsers(dest="rl_command", metavar="ENV|evaluate")
    rl.set_defaults(func=lambda args: (rl.print_help(), 2)[1])

    train = argparse.ArgumentParser(add_help=False)
    train.add_argument("--steps", type=positive_int,
                       help="environment steps (default: cartpole 200,000, apple-world 100,000)")
    train.add_argument("--seed", type=nonnegative_int, default=0,
                       help="the initial thetas, the replay sampling, ε-greedy and the environments")
    train.add_argument("--lr", type=positive_float,
                       help="Adam's learning rate at the start (it decays linearly to a tenth)")
    train.add_argument("--constant-lr", action="store_true", help="no learning-rate decay")
    train.add_argument("--gamma", type=fraction, help="discount γ of future rewards")
    train.add_argument("--hidden", type=layer_widths, help="hidden layer widths of the Q-network, e.g. 128,128")
    train.add_argument("--batch-size", type=positive_int,
                       help="transitions replayed per update (the minibatch)")
    train.add_argument("--buffer-size", type=positive_int, help="replay memory: the last N transitions")
    train.add_argument("--learning-starts", type=nonnegative_int, help="steps of random play before the first update "
                       "(default: apple-world 5,000, cartpole 1,000; at most a tenth of --steps)")
    train.add_argument("--train-freq", type=positive_int, metavar="N", help="updates every N environment steps ...")
    train.add_argument("--gradient-steps", type=positive_int, metavar="K",
                       help="... K of them, each on its own minibatch")
    train.add_argument("--target-update", type=positive_int, metavar="C",
                       help="refresh the target network every C steps")
    train.add_argument("--tau", type=checked(float, lambda v: 0 < v <= 1, "in (0, 1]"),
                       help="Polyak averaging of the target network (1: a hard copy)")
    train.add_argument("--double", action="store_true", help="Double DQN targets")
    train.add_argument("--eval-every", type=positive_int, metavar="N", help="greedy evaluation every N steps; the "
                       "best evaluated weights are kept (default: cartpole 5,000, apple-world 10,000; at most a "
                       "quarter of --steps)")
    train.add_argument("--no-stop", action="store_true", help="train all --steps even after an evaluation of 100 "
                       "episodes reached the environment's reward threshold (CartPole: 475)")
    train.add_argument("--eval-episodes", type=positive_int, help="greedy episodes of the final evaluation "
                       "(default: cartpole 100, apple-world 20; no more than --steps fill)")
    train.add_argument("--save", metavar="PATH", help="write the kept Q-network (.safetensors)")
    train.add_argument("--plot", metavar="PATH", help="a PNG of returns, TD loss and mean Q; a PATH without .png: a "
                       "folder (for apple-world also a frame with the Q-value of each action)")
    train.add_argument("--threads", type=nonnegative_int, metavar="N", help="BLAS threads (1 on a busy machine)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--json", action="store_true", help="print the final metrics as one JSON line")
    helps = {"cartpole": "balance a pole on a cart (Gymnasium's CartPole-v1, return up to 500)",
             "apple-world": "eat apples, avoid poison, seen through eye rays (thetas/AppleWorld-v0)"}
    for name in ENVS:
        p = sub.add_parser(name, parents=[train], help=helps[name], description=f"Train DQN on {ENVS[name]['id']}.")
        p.set_defaults(func=run, env=name)

    e = sub.add_parser("evaluate", help="greedy returns of a saved agent", description="Play MODEL greedily for "
                       "--episodes episodes of ENV (default: the environment it was trained on).")
    e.add_argument("model", metavar="MODEL", help="a Q-network saved by thetas rl ENV --save PATH")
    e.add_argument("env", metavar="ENV", nargs="?", help="cartpole, apple-world or a Gymnasium id")
    e.add_argument("--episodes", type=positive_int, default=100, help="how many episodes to play")
    e.add_argument("--seed", type=nonnegative_int, help="episode i starts from reset(seed=SEED + i) (default: the "
                   "seeds of the final evaluation after training, 1,000,000 + the training seed)")
    e.add_argument("--epsilon", type=fraction, default=0.0, help="ε-greedy instead of greedy")
    e.add_argument("--threads", type=nonnegative_int, metavar="N", help="BLAS threads (1 on a busy machine)")
    e.add_argument("--json", action="store_true", help="print the metrics as one JSON line")
    e.set_defaults(func=run)
    return rl
