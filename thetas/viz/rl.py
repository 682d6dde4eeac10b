"""Pictures of deep Q-learning: the return per episode, the TD loss and the mean Q over training, and what an
AppleWorld agent sees with the expected reward Q(s, a) of each action.

Each function takes the log that ``thetas.rl.DQN.learn`` returns (a dict of lists), draws into the Axes (or
Figure) it is given or a new one, and returns it.
"""
import numpy as np

from .plots import _new_axes, _pyplot


def moving_average(x, window):
    """The mean of each value and the ``window − 1`` before it (fewer at the start): (n,) -> (n,)."""
    x = np.asarray(x, np.float64)
    if len(x) == 0:
        return x
    c = np.cumsum(np.insert(x, 0, 0.0))
    i = np.arange(1, len(x) + 1)
    lo = np.maximum(0, i - int(window))
    return (c[i] - c[lo]) / (i - lo)


def _steps_axis(ax):
    """x: environment steps, labelled 0, 50k, 100k, ... so that six-digit ticks do not collide."""
    from matplotlib.ticker import FuncFormatter
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k" if abs(x) >= 1000 else f"{x:g}"))
    ax.set_xlabel("environment steps")


def plot_returns(log, ax=None, window=20, threshold=None):
    """The return of every training episode (faint), its moving average over ``window`` episodes, the periodic
    greedy evaluations (dots) and the step whose weights were kept (dotted line), against environment steps.

    ``threshold``: a dashed horizontal line, e.g. CartPole's 475 ("solved").
    """
    ax = _new_axes(ax)
    steps, returns = np.asarray(log["episode_step"]), np.asarray(log["episode_return"], np.float64)
    if len(returns):
        ax.plot(steps, returns, color="C0", alpha=0.25, lw=0.8, label="episode return (ε-greedy)")
        ax.plot(steps, moving_average(returns, window), color="C0", lw=2, label=f"moving average ({window})")
    if log.get("eval_step"):
        ax.errorbar(log["eval_step"], log["eval_mean"], yerr=log.get("eval_std"), fmt="o", color="C3", ms=4,
                    capsize=2, label="greedy evaluation")
    if log.get("best_step") is not None:
        ax.axvline(log["best_step"], color="C3", ls=":", lw=1, label=f"kept: step {log['best_step']:,}")
    if threshold is not None:
        ax.axhline(threshold, color="gray", ls="--", lw=1, label=f"threshold {threshold:g}")
    _steps_axis(ax)
    ax.set_ylabel("return (sum of rewards)")
    ax.set_title("return per episode")
    if ax.get_legend_handles_labels()[0]:        # nothing drawn (no episode ended yet): no empty legend warning
        ax.legend(fontsize=8, loc="best")
    return ax


def plot_td_loss(log, ax=None):
    """The Huber loss of Q(s, a) against the TD target, averaged over each logging interval (log scale)."""
    ax = _new_axes(ax)
    steps, loss = np.asarray(log["step"]), np.asarray(log["loss"], np.float64)
    ok = np.isfinite(loss) & (loss > 0)
    ax.plot(steps[ok], loss[ok], color="C1")
    if ok.any():
        ax.set_yscale("log")
    _steps_axis(ax)
    ax.set_ylabel("TD loss (Huber)")
    ax.set_title("TD loss")
    return ax


def plot_q_values(log, ax=None):
    """The mean Q(s, a) of the replayed batches: the return the network expects, which should level off near
    the true discounted return (a steady climb beyond it is overestimation)."""
    ax = _new_axes(ax)
    steps, q = np.asarray(log["step"]), np.asarray(log["q_mean"], np.float64)
    ok = np.isfinite(q)
    ax.plot(steps[ok], q[ok], color="C2")
    _steps_axis(ax)
    ax.set_ylabel("mean Q(s, a)")
    ax.set_title("expected return (mean Q)")
    return ax


def plot_training(log, fig=None, window=20, threshold=None, title=None):
    """One figure of three panels: returns, TD loss, mean Q."""
    plt = _pyplot()
    fig = fig or plt.figure(figsize=(15, 4.2))
    axes = fig.subplots(1, 3)
    plot_returns(log, axes[0], window=window, threshold=threshold)
    plot_td_loss(log, axes[1])
    plot_q_values(log, axes[2])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_q_bars(q_values, action_names=None, ax=None):
    """Bars of Q(s, a), one per action; the greedy action's bar is highlighted."""
    ax = _new_axes(ax)
    q = np.asarray(q_values, np.float64).reshape(-1)
    names = list(action_names) if action_names is not None else [f"action {i}" for i in range(len(q))]
    colors = ["C3" if i == int(np.argmax(q)) else "C7" for i in range(len(q))]
    ax.bar(range(len(q)), q, color=colors)
    ax.set_xticks(range(len(q)), names)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_ylabel("Q(s, a) = E[return | a, s]")
    ax.set_title("expected return of each action")
    return ax


def plot_apple_world(frame, q_values, action_names=None, fig=None, title=None):
    """An AppleWorld frame (``env.render()`` or ``env.unwrapped.frame()``) next to the Q-value of each action in
    that state: what the agent sees and what it expects from each move."""
    plt = _pyplot()
    fig = fig or plt.figure(figsize=(8.5, 4))
    ax_img, ax_q = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    ax_img.imshow(frame)
    ax_img.set_axis_off()
    ax_img.set_title(title or "AppleWorld: apples green (+1), poison red (−1)", fontsize=9)
    plot_q_bars(q_values, action_names, ax_q)
    fig.tight_layout()
    return fig
