"""Seeing inside a convolutional network: its kernels, its feature maps, and the images it gets wrong.

Like ``plots.py``: matplotlib is imported only when a picture is drawn, nothing calls ``plt.show()``, and each
function draws into the Figure it is given (or a new one) and returns it. ``top_k_guesses`` draws nothing: it is
the network's "first and second guess" as data, shared by ``plot_misclassified`` and ``thetas predict``.
"""
import numpy as np

from ..tensor import Tensor
from .plots import _labels, _numpy, _pyplot, plot_images, signed_image_grid


def _probabilities(out, objective=None):
    """Outputs (N, K) as probabilities (N, K). A ``th.Objective`` says what the outputs are
    (``objective.probabilities``). Bare outputs say nothing, so they are read by their values: rows that already
    are probabilities (non-negative, summing to 1) are kept; logits and log-probabilities go through a softmax.
    One output per row ((N,) or (N, 1)) is binary: [1 − p, p] with p = σ(z) unless it already lies in [0, 1]."""
    if objective is not None:
        from ..objective import Objective
        return Objective.infer(objective).probabilities(out)
    out = np.asarray(out, dtype=np.float64)
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):
        p = out.reshape(-1)
        p = p if p.min(initial=0) >= 0 and p.max(initial=1) <= 1 else 1 / (1 + np.exp(-p))
        return np.column_stack([1 - p, p])
    if out.ndim != 2:
        raise ValueError(f"expected outputs of shape (N, K), got shape {out.shape}")
    if out.min(initial=0) >= 0 and np.allclose(out.sum(1), 1, atol=1e-4):
        return out
    e = np.exp(out - out.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def top_k_guesses(probs, k=2, class_names=None):
    """The network's k best guesses for each input, most probable first: the lecture's "first and second guess".

    Args:
        probs: (N, K) probabilities (any scores give the same order), or (K,) for one input.
        k: guesses per input (at most K).
        class_names: K names; default the class ids 0..K−1.
    Returns: for (N, K) a list of N lists of (class name, probability) pairs; for (K,) one such list.
        ``top_k_guesses([[.1, .6, .3]])`` -> ``[[(1, 0.6), (2, 0.3)]]``.
    """
    p = _numpy(probs).astype(np.float64)
    if p.ndim not in (1, 2) or p.shape[-1] == 0:
        raise ValueError(f"top_k_guesses: expected probabilities of shape (N, K) or (K,), got shape {p.shape}")
    if int(k) < 1:
        raise ValueError(f"top_k_guesses: k must be at least 1, got {k}")
    names = list(range(p.shape[-1])) if class_names is None else list(class_names)
    if len(names) != p.shape[-1]:
        raise ValueError(f"top_k_guesses: {len(names)} class_names for {p.shape[-1]} classes")
    rows = np.atleast_2d(p)
    order = np.argsort(-rows, axis=1, kind="stable")[:, :int(k)]  # ties keep the lower class id first
    guesses = [[(names[j], float(row[j])) for j in idx] for row, idx in zip(rows, order)]
    return guesses[0] if p.ndim == 1 else guesses


# ------------------------------------------------------------------------------------------------- kernels
def plot_filters(layer_or_weight, fig=None, ncols=8, cmap="RdBu_r"):
    """The kernels of a convolutional layer as small images: one panel per filter (output channel), titled
    "filter k", its C input-channel kernels side by side left to right (a one-pixel gap between them).

    Each kernel is one small neuron applied with **the same weights at every position** of the image: the
    picture is the pattern it detects, red where a bright input pixel raises the output (θ > 0), blue where it
    lowers it (θ < 0). One diverging scale, symmetric around 0 and shared by all panels, so filters compare.
    Colour images (C = 3) are drawn per channel as well: an RGB rendering could not show negative weights.

    Args:
        layer_or_weight: a ``th.nn.Conv2d``, its weight Parameter, or an array of shape (F, C, kh, kw).
        ncols: about how many kernels fit across the figure: ncols filters of one channel in a row,
            ⌈ncols / C⌉ filters of C channels.
    Returns: the Figure, with one Axes per filter and a colour bar.
    """
    weight = getattr(layer_or_weight, "weight", layer_or_weight)
    W = _numpy(weight) if isinstance(weight, (Tensor, np.ndarray, list, tuple)) else None
    if W is None or W.ndim != 4:
        got = (f"a {type(layer_or_weight).__name__} layer" if hasattr(layer_or_weight, "parameters") else
               "an array") + ("" if W is None else f" with weights of shape {W.shape}")
        hint = " (a dense layer's weights as images: plot_weights)" if W is not None and W.ndim == 2 else ""
        raise ValueError(f"plot_filters: expected a Conv2d layer or kernels of shape (F, C, kh, kw), "
                         f"got {got}{hint}")
    F, C, kh, kw = W.shape  # (F, C, kh, kw)
    if F == 0 or C == 0:
        raise ValueError(f"plot_filters: no kernels to show in weights of shape {W.shape}")
    tiles = np.full((F, kh, C * (kw + 1) - 1), np.nan)  # NaN gaps are drawn blank
    for c in range(C):
        tiles[:, :, c * (kw + 1):c * (kw + 1) + kw] = W[:, c]
    per_row = max(1, min(F, -(-int(ncols) // C)))
    nrows = -(-F // per_row)
    if fig is None:
        inch = 0.7 / max(kh, kw)  # one kernel ≈ 0.7 in whatever its size
        fig = _pyplot().figure(figsize=(per_row * (inch * tiles.shape[2] + 0.3) + 1.0, nrows * (inch * kh + 0.4)))
    return signed_image_grid(fig, tiles, [f"filter {k}" for k in range(F)], nrows, per_row, cmap)


# -------------------------------------------------------------------------------------------- feature maps
def _one_image(x):
    """x as a batch of one image (1, C, H, W): accepts (H, W), (C, H, W) and (1, C, H, W)."""
    image = _numpy(x)
    x = image[(None,) * (4 - image.ndim)] if image.ndim in (2, 3) else image
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"plot_feature_maps: expected ONE image of shape (1, C, H, W), (C, H, W) or (H, W), got "
                         f"shape {image.shape}")
    return x


def _scale(a):
    """A colour scale for one layer's outputs: grey from 0 (black) when they are non-negative, as after a ReLU
    (bright = the feature is present), a diverging scale centred at 0 when they have a sign."""
    lo, hi = float(np.min(a)), float(np.max(a))
    if lo < 0:
        v = max(-lo, hi)
        return dict(cmap="RdBu_r", vmin=-v, vmax=v)
    return dict(cmap="gray", vmin=0.0, vmax=hi if hi > 0 else 1.0)


def plot_feature_maps(model, x, fig=None, layers=None, max_maps=16, class_names=None, objective=None):
    """What the network computes from ONE image, layer by layer: one row per layer, the input image first.

    A layer whose output is (1, C, H, W) shows up to ``max_maps`` of its C feature maps (one shared colour scale
    per row): a conv layer's maps are its kernels' responses at every position, the same detector slid over the
    image; a pooling layer halves H and W (**downsampling**: the feature is kept, its exact position less so).
    Flat outputs (Flatten, dense layers) are a one-row heatmap; the model's last layer is shown as softmax
    probabilities, the predicted class highlighted. Rows are labelled "name type shape", e.g. "0 Conv2d 6@28×28".

    Args:
        model: a Module (``model.activations(x)`` gives every layer's output, in eval mode, without gradients).
        x: the image: (1, C, H, W), (C, H, W) or (H, W).
        layers: names of the layers to show (as in ``named_modules``: "0", "3", ...); default all of them.
        max_maps: at most this many feature maps per row.
        class_names: names for the probability bars.
        objective: a ``th.Objective`` (or a loss) saying what the last layer outputs; by default its values do.
    Returns: the Figure; row r's Axes have ``get_subplotspec().rowspan.start == r``.
    """
    if not hasattr(model, "activations"):
        raise TypeError(f"plot_feature_maps: expected a thetas Module, got {type(model).__name__}")
    x = _one_image(x)  # (1, C, H, W)
    acts = model.activations(x)
    last = next(reversed(acts))
    if layers is not None:
        wanted = [str(name) for name in ([layers] if isinstance(layers, (str, int)) else layers)]
        unknown = [name for name in wanted if name not in acts]
        if unknown:
            raise ValueError(f"plot_feature_maps: no layer {unknown} in the model; its layers are {list(acts)}")
        acts = {name: acts[name] for name in acts if name in wanted}
    modules = dict(model.named_modules())
    rows = [("input", f"input {x.shape[1]}@{x.shape[2]}×{x.shape[3]}", x)]
    for name, a in acts.items():
        kind = type(modules[name]).__name__ if name in modules else ""
        shape = f"{a.shape[1]}@{a.shape[2]}×{a.shape[3]}" if a.ndim == 4 else "×".join(map(str, a.shape[1:]))
        rows.append((name, f"{name} {kind} {shape}", a))
    ncols = max(1, min(int(max_maps), max(a.shape[1] for _, _, a in rows if a.ndim == 4)))
    fig = _pyplot().figure(figsize=(max(6.0, 0.85 * ncols), 1.05 * len(rows))) if fig is None else fig
    grid = fig.add_gridspec(len(rows), ncols)
    for r, (name, label, a) in enumerate(rows):
        if a.ndim == 4:  # (1, C, H, W): one panel per map
            maps = a[0, :ncols]
            lo, hi = float(a.min()), float(a.max())
            scale = dict(cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1) if name == "input" else _scale(a)
            for c, m in enumerate(maps):
                ax = fig.add_subplot(grid[r, c])
                ax.imshow(m, interpolation="nearest", **scale)
                ax.set_xticks([])
                ax.set_yticks([])
                if c == 0:
                    more = f" (first {len(maps)})" if len(maps) < a.shape[1] else ""
                    ax.set_title(label + more, fontsize=8, loc="left")
            continue
        ax = fig.add_subplot(grid[r, :])
        v = a.reshape(-1)
        if name == last and v.size > 1:  # the output: logits -> probabilities, the prediction highlighted
            p = _probabilities(v[None], objective)[0]
            guess = int(p.argmax())
            names = [str(n) for n in (range(v.size) if class_names is None else class_names)]
            ax.bar(range(v.size), p, color=["C3" if i == guess else "0.65" for i in range(v.size)])
            ax.set_xticks(range(v.size), names, fontsize=7)
            ax.set_ylim(0, 1)
            ax.tick_params(axis="y", labelsize=7)
            ax.set_title(f"{label} → softmax: predicted {names[guess]} ({p[guess]:.0%})", fontsize=8, loc="left")
        else:
            ax.imshow(v[None], aspect="auto", interpolation="nearest", **_scale(v))
            ax.set_yticks([])
            ax.tick_params(axis="x", labelsize=7)
            ax.set_title(label, fontsize=8, loc="left")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------- mistakes
def _grayscale(X):
    """Images (N, 1, H, W), (N, H, W) or (N, H·W) with a square H·W, as (N, H, W) or flat for plot_images."""
    X = _numpy(X)
    if X.ndim == 4:
        if X.shape[1] != 1:
            raise ValueError(f"plot_misclassified: expected grayscale images (N, 1, H, W), got shape {X.shape}")
        return X[:, 0]
    return X


def plot_misclassified(model_or_outputs, X, y, class_names=None, fig=None, max_images=25, ncols=5, objective=None):
    """The images the network gets wrong, in dataset order, each titled with its true label and the network's
    first and second guesses: "true 7 / 1st: 2 (61%) / 2nd: 7 (30%)", one per line.

    A wrong answer with the right class as the close second guess is a near miss; a confident wrong answer is
    a digit that looks like another (or a label that is wrong). Images are drawn in grey, white on black as MNIST.

    Args:
        model_or_outputs: a model, run on X as given in batches of 512, in eval mode without a graph
            (``th.predict``: never all of a 10,000-image test set at once), or its outputs already computed:
            (N, K) logits or probabilities.
        X: the images (N, 1, H, W), (N, H, W) or (N, H·W).
        y: the true classes (N,) (or one-hot (N, K)).
        class_names: K names for the titles.
        max_images: at most this many mistakes are drawn.
        objective: a ``th.Objective`` (or a loss) saying what the outputs are (logits, probabilities); without
            one, their values do.
    Returns: the Figure, one Axes per mistake; if there is none, one Axes that says so.
    """
    if callable(model_or_outputs) and not isinstance(model_or_outputs, (Tensor, np.ndarray)):
        from ..train.trainer import predict
        outputs = predict(model_or_outputs, X, batch_size=512)
    else:
        outputs = _numpy(model_or_outputs)
    X = _grayscale(X)
    if len(outputs) != len(X):
        raise ValueError(f"plot_misclassified: {len(outputs)} outputs for {len(X)} images")
    probs = _probabilities(outputs, objective)
    labels = _labels(y, len(X))
    names = list(range(probs.shape[1])) if class_names is None else list(class_names)
    if len(names) != probs.shape[1] or labels.min(initial=0) < 0 or labels.max(initial=0) >= probs.shape[1]:
        raise ValueError(f"plot_misclassified: {probs.shape[1]} classes in the outputs, {len(names)} class_names, "
                         f"labels from {labels.min(initial=0)} to {labels.max(initial=0)}")
    wrong = np.flatnonzero(probs.argmax(1) != labels)
    if len(wrong) == 0:
        fig = _pyplot().figure(figsize=(4, 1.5)) if fig is None else fig
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, f"no misclassified images: all {len(X)} correct", ha="center", va="center")
        ax.set_axis_off()
        return fig
    shown = wrong[:int(max_images)]
    titles = []
    for i, guesses in zip(shown, top_k_guesses(probs[shown], k=2, class_names=names)):
        lines = [f"{rank}: {name} ({p:.0%})" for rank, (name, p) in zip(("1st", "2nd"), guesses)]
        titles.append("\n".join([f"true {names[labels[i]]}"] + lines))
    ncols = max(1, min(int(ncols), len(shown)))
    fig = _pyplot().figure(figsize=(1.6 * ncols, 2.0 * -(-len(shown) // ncols))) if fig is None else fig
    fig = plot_images(X[shown], labels=titles, ncols=ncols, fig=fig, cmap="gray")
    fig.suptitle(f"{len(wrong)} of {len(X)} misclassified" + (f" (first {len(shown)} shown)"
                                                              if len(shown) < len(wrong) else ""), fontsize=9)
    fig.tight_layout()
    return fig
