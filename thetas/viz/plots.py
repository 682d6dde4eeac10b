"""Pictures of the lecture: learning curves, decision boundaries, what each neuron sees, weights as images.

matplotlib is an optional extra (``pip install "thetas[plot]"``), imported inside each function, never when
thetas is imported. Nothing here calls ``plt.show()``: each function draws into the Axes (or Figure) it is
given, or a new one, and returns it, so the same code runs in a notebook, a script, or a test under the Agg
backend. ``savefig`` writes the picture to a PNG.
"""
import math
import os
from collections.abc import Mapping

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor, get_default_dtype

# logs that History records but that are not curves of a quantity being learned
_BOOKKEEPING = ("samples_per_s", "lr", "epoch", "time", "seconds")


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError('thetas.viz needs matplotlib: pip install "thetas[plot]"') from e
    return plt


def _new_axes(ax):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots()
    return ax


def _numpy(x):
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def _class_colors(n):
    """n colours, one per class, shared by the regions and the points so that a class looks the same in both."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    import matplotlib as mpl
    base = mpl.colormaps["tab10" if n <= 10 else "tab20"]
    cmap = ListedColormap([base(i % base.N) for i in range(n)])
    return cmap, BoundaryNorm(np.arange(n + 1) - 0.5, n)


# ---------------------------------------------------------------------------------------------------- curves
def plot_history(history, keys=None, ax=None):
    """Learning curves: each logged quantity per epoch, the training curve solid and its ``val_`` twin dashed
    in the same colour.

    This is the lecture's overfitting picture: while the model fits the training data better and better
    (training loss keeps falling) it can lose generality, and the validation curve turns back up.

    Args:
        history: a ``History`` (anything with a ``.history`` dict) or a plain dict name -> list per epoch.
        keys: the series to draw, e.g. ``["loss", "val_loss"]``; default every series except bookkeeping
            (``samples_per_s``, ``lr``, ...). Loss-like and accuracy-like series share the axes unless you
            pick one kind here.
    Returns: the Axes, with one line per key.
    """
    logs = history.history if hasattr(history, "history") else history
    if not isinstance(logs, Mapping):
        raise TypeError(f"plot_history: expected a History or a dict name -> list, got {type(history).__name__}")
    if keys is None:
        keys = [k for k in logs if k not in _BOOKKEEPING and not k.startswith(tuple(f"val_{b}" for b in _BOOKKEEPING))]
    keys = [keys] if isinstance(keys, str) else list(keys)
    if not keys:
        raise ValueError("plot_history: nothing to plot (the history is empty)")
    for k in keys:
        if k not in logs:
            raise KeyError(f"plot_history: no series {k!r} in the history; it has {sorted(logs)}")
    ax = _new_axes(ax)
    colors = {}  # "loss" and "val_loss" are one quantity: one colour
    for k in keys:
        base = k[4:] if k.startswith("val_") else k
        if base not in colors:
            colors[base] = f"C{len(colors) % 10}"
        values = np.array([np.nan if v is None else float(v) for v in logs[k]], dtype=np.float64)
        epochs = np.arange(1, len(values) + 1)
        ax.plot(epochs, values, color=colors[base], linestyle="--" if k.startswith("val_") else "-",
                marker="o" if len(values) == 1 else None, label=k)
    ax.set_xlabel("epoch")
    if len(colors) == 1:
        ax.set_ylabel(next(iter(colors)))
    ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


# ---------------------------------------------------------------------------------------------- input plane
def _grid(X, resolution, padding):
    """A resolution × resolution grid over the box around X (widened by ``padding``): xx, yy of shape (R, R)."""
    X = _numpy(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"expected 2-D inputs X of shape (N, 2), got shape {X.shape}")
    if len(X) == 0:
        raise ValueError("expected at least one point in X, got shape (0, 2)")
    lo, hi = X.min(0) - padding, X.max(0) + padding
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], int(resolution)), np.linspace(lo[1], hi[1], int(resolution)))
    return X, xx, yy


def _labels(y, n):
    """Labels as int class ids of shape (N,): accepts (N,), (N, 1) and one-hot (N, C)."""
    if y is None:
        return None
    y = _numpy(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(1)
    y = y.reshape(-1)
    if len(y) != n:
        raise ValueError(f"y has {len(y)} labels but X has {n} points")
    return np.rint(y).astype(np.int64)


def _forward(model, points, batch_size=4096, upto=None):
    """The model's outputs on ``points`` (M, 2) in eval mode without a graph, in batches; a NumPy (M, ...) array.

    With ``upto`` (a list of layers) the points go through those layers one by one and every layer's output is
    returned, as a list of arrays.
    """
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    dtype = params[0].data.dtype if params else get_default_dtype()
    outs = []
    # dropout off: the picture is of the trained function, not of one random mask
    with model.evaluating() if hasattr(model, "evaluating") else no_grad():
        for start in range(0, len(points), batch_size):
            x = Tensor(np.ascontiguousarray(points[start:start + batch_size], dtype=dtype))
            if upto is None:
                outs.append(_numpy(model(x)))
            else:
                per_layer = []
                for layer in upto:
                    x = layer(x)
                    per_layer.append(_numpy(x))
                outs.append(per_layer)
    if upto is None:
        return np.concatenate(outs)
    return [np.concatenate([o[i] for o in outs]) for i in range(len(upto))]


def _layers(model):
    """The layers of a Sequential, nested Sequentials flattened, in the order the input meets them."""
    from ..nn.containers import Sequential
    out = []
    for layer in model:
        out.extend(_layers(layer) if isinstance(layer, Sequential) else [layer])
    return out


def decision_grid(model, X, resolution=200, padding=0.5, threshold=None, objective=None):
    """The class the model predicts at every point of a grid over the input plane of X.

    ``objective`` (a ``th.Objective``, or a loss read as ``fit`` reads it) says what the outputs are; without
    one, ``Objective.infer(model=model)`` asks the model's last layer. Multi-class outputs (M, C) give argmax;
    one output per point ((M,) or (M, 1)) is binary: class 1 where it exceeds the objective's threshold (0 for a
    logit z, 0.5 for a probability, as after a final Sigmoid), or ``threshold`` when given.

    Returns: xx, yy (R, R) grid coordinates and the predicted classes (R, R) as int64, row i at yy[i].
    """
    return _decision_grid(model, X, resolution, padding, threshold, objective)[:3]


def _decision_grid(model, X, resolution, padding, threshold, objective):
    from ..objective import Objective
    X, xx, yy = _grid(X, resolution, padding)
    out = _forward(model, np.column_stack([xx.ravel(), yy.ravel()]))
    if not (out.ndim == 1 or out.ndim == 2):
        raise ValueError(f"decision_grid: the model's outputs on (M, 2) inputs have shape {out.shape}; "
                         "expected (M,), (M, 1) or (M, C)")
    objective = Objective.infer(objective, model)
    if objective.task == "regression":
        raise ValueError(f"decision_grid: the objective is a regression ({objective!r}); it has no classes")
    one = out.ndim == 1 or out.shape[1] == 1
    if one and threshold is not None:
        classes = (out.reshape(-1) > threshold).astype(np.int64)
    else:
        classes = objective.classes(out)
    return xx, yy, classes.reshape(xx.shape), 2 if one else out.shape[1]


def plot_decision_boundary(model, X, y=None, ax=None, resolution=200, padding=0.5, threshold=None, objective=None):
    """The predicted class regions of a model on 2-D inputs, with the data points coloured by label.

    The lecture's question, drawn: a linear model (one logistic-regression neuron, or a stack of them without
    non-linearities) can only split the plane with a straight line; hidden neurons with a non-linear
    activation bend the boundary around XOR, circles and spirals.

    The model is evaluated on a ``resolution`` × ``resolution`` grid covering X widened by ``padding``
    (under ``th.no_grad()``, in eval mode, in batches); see ``decision_grid`` for how outputs become classes
    (``objective``: what the outputs are; by default the model's last layer says).
    Returns: the Axes (the regions are a filled contour, the points a scatter).
    """
    xx, yy, classes, num_classes = _decision_grid(model, X, resolution, padding, threshold, objective)
    X = _numpy(X)
    labels = _labels(y, len(X))
    n = max(num_classes, int(labels.max()) + 1 if labels is not None else 0)  # every class has a colour
    cmap, norm = _class_colors(n)
    ax = _new_axes(ax)
    ax.contourf(xx, yy, classes, levels=norm.boundaries, cmap=cmap, norm=norm, alpha=0.35)
    if labels is None:
        ax.scatter(X[:, 0], X[:, 1], s=15, c="k")
    else:
        ax.scatter(X[:, 0], X[:, 1], c=labels, cmap=cmap, norm=norm, s=15, edgecolors="k", linewidths=0.4)
    ax.set_xlim(xx[0, 0], xx[0, -1])
    ax.set_ylim(yy[0, 0], yy[-1, 0])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def plot_neurons(model, X, y=None, fig=None, resolution=60, padding=0.5):
    """What every hidden neuron "sees": its activation h_j(x) over the input plane, one small heatmap per unit,
    one row per hidden layer (as in TensorFlow Playground).

    The first hidden layer's neurons are logistic-regression-like units, each a soft straight cut of the plane;
    deeper neurons combine those cuts into curved regions, which is how layers add complexity.

    Args:
        model: a ``th.nn.Sequential`` on 2-D inputs (an ``MLP`` is one); a hidden layer is the output of an
            activation layer (any layer without parameters, dropout aside) that some later layer reads.
        X: the data; the points are drawn on every panel.
        y: the labels; the points are coloured by label.
    Returns: the Figure, with one Axes per hidden unit (the heatmap is its first image).
    """
    from ..nn.containers import Sequential
    from ..nn.dropout import Dropout
    if not isinstance(model, Sequential):
        raise TypeError(f"plot_neurons: expected a th.nn.Sequential, got {type(model).__name__}")
    layers = _layers(model)
    X, xx, yy = _grid(X, resolution, padding)
    outs = _forward(model, np.column_stack([xx.ravel(), yy.ravel()]), upto=layers)
    has_params = [any(True for _ in layer.parameters()) for layer in layers]
    last_param = max((i for i, p in enumerate(has_params) if p), default=-1)
    hidden = [(i, o.reshape(len(o), -1)) for i, (layer, o) in enumerate(zip(layers, outs))
              if i < last_param and not has_params[i] and not isinstance(layer, Dropout)]
    if not hidden:
        raise ValueError("plot_neurons: the model has no hidden layer (no activation layer before its last "
                         f"layer with parameters): {model!r}")
    labels = _labels(y, len(X))
    if labels is not None:
        cmap, norm = _class_colors(max(2, int(labels.max()) + 1))
    nrows, ncols = len(hidden), max(h.shape[1] for _, h in hidden)
    fig = _pyplot().figure(figsize=(1.6 * ncols, 1.7 * nrows)) if fig is None else fig
    extent = (xx[0, 0], xx[0, -1], yy[0, 0], yy[-1, 0])
    for row, (_, h) in enumerate(hidden):
        for j in range(h.shape[1]):
            ax = fig.add_subplot(nrows, ncols, row * ncols + j + 1)
            a = h[:, j].reshape(xx.shape)
            ax.imshow(a, origin="lower", extent=extent, cmap="RdBu_r", aspect="auto",
                      vmin=a.min(), vmax=a.max() if a.max() > a.min() else a.min() + 1)
            if labels is not None:
                ax.scatter(X[:, 0], X[:, 1], c=labels, cmap=cmap, norm=norm, s=4, edgecolors="k", linewidths=0.2)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"layer {row + 1}, h{j}", fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------- evaluation
def plot_confusion_matrix(cm, class_names=None, ax=None, normalize=False):
    """A confusion matrix as an image: row i = true class i, column j = predicted class j (as
    ``th.metrics.confusion_matrix`` and scikit-learn), each cell annotated.

    With ``normalize=True`` each row is divided by its total, so the diagonal is each class's recall and a row
    shows where that class's mistakes go (e.g. which digits a 7 is taken for).
    Returns: the Axes.
    """
    cm = _numpy(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square (C, C) matrix, got shape {cm.shape}")
    n = cm.shape[0]
    names = [str(i) for i in range(n)] if class_names is None else [str(c) for c in class_names]
    if len(names) != n:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class_names for a {n}×{n} matrix")
    values = cm.astype(np.float64)
    if normalize:
        totals = values.sum(1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)  # empty rows stay 0
    ax = _new_axes(ax)
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if normalize else max(values.max(), 1))
    dark = image.norm(values) > 0.5
    for i in range(n):
        for j in range(n):
            text = f"{values[i, j]:.2f}" if normalize else f"{values[i, j]:.0f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="white" if dark[i, j] else "black")
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return ax


def _square_images(images, image_shape, what):
    images = _numpy(images)
    if image_shape is not None:
        if images.size != len(images) * math.prod(image_shape):
            raise ValueError(f"{what}: cannot reshape {images.shape} into {len(images)} images of shape "
                             f"{tuple(image_shape)}")
        return images.reshape(len(images), *image_shape)
    if images.ndim == 3:
        return images
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side == images.shape[1]:
            return images.reshape(len(images), side, side)
    raise ValueError(f"{what}: images of shape {images.shape} are neither (N, H, W) nor (N, H·W) with a square "
                     "H·W; pass image_shape=(H, W)")


def plot_images(images, labels=None, predictions=None, ncols=8, fig=None, image_shape=None, cmap="gray_r"):
    """A grid of grayscale images, e.g. the 8×8 digits or the four-pixel camera's 2×2 pictures, titled with
    their labels (and predictions: "pred 3 (true 5)" in red when wrong).

    All images share one intensity scale, so the same pixel value is the same grey in every panel.

    Args:
        images: (N, H, W), or (N, H·W) with a square H·W, or any shape with ``image_shape=(H, W)``.
        labels: optional (N,) class ids or names.
        predictions: optional (N,) class ids or names.
    Returns: the Figure, with one Axes per image.
    """
    images = _square_images(images, image_shape, "plot_images")
    n = len(images)
    if n == 0:
        raise ValueError("plot_images: no images to show")
    for name, v in (("labels", labels), ("predictions", predictions)):
        if v is not None and len(v) != n:
            raise ValueError(f"plot_images: {len(v)} {name} for {n} images")
    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    fig = _pyplot().figure(figsize=(1.2 * ncols, 1.35 * nrows)) if fig is None else fig
    vmin, vmax = float(images.min()), float(images.max())
    for k in range(n):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        ax.imshow(images[k], cmap=cmap, vmin=vmin, vmax=vmax if vmax > vmin else vmin + 1)
        ax.set_xticks([])
        ax.set_yticks([])
        if predictions is not None:
            right = labels is None or _numpy(predictions)[k] == _numpy(labels)[k]
            title = f"pred {_numpy(predictions)[k]}" + ("" if labels is None else f" (true {_numpy(labels)[k]})")
            ax.set_title(title, fontsize=7, color="black" if right else "red")
        elif labels is not None:
            ax.set_title(str(_numpy(labels)[k]), fontsize=8)
    fig.tight_layout()
    return fig


def plot_weights(weight, image_shape, fig=None, ncols=8):
    """Each hidden neuron's weights θ_j (one row of the first layer's W) drawn as an image of the input: the
    pattern of pixels that excites it (red, θ > 0) or inhibits it (blue, θ < 0).

    One diverging colour scale centred at 0 and shared by all panels, so weights compare across neurons.

    Args:
        weight: (H, D) weight matrix, Tensor or array, or a ``Linear`` layer; D = prod(image_shape).
        image_shape: the input image's (rows, columns), e.g. (8, 8) for digits, (2, 2) for four pixels.
    Returns: the Figure, with one Axes per neuron.
    """
    W = _numpy(getattr(weight, "weight", weight))
    if W.ndim != 2 or W.shape[1] != math.prod(image_shape):
        raise ValueError(f"plot_weights: expected a weight matrix of shape (hidden, {math.prod(image_shape)}) for "
                         f"images of shape {tuple(image_shape)}, got shape {W.shape}")
    n = W.shape[0]
    ncols = max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    fig = _pyplot().figure(figsize=(1.2 * ncols + 0.8, 1.3 * nrows)) if fig is None else fig
    return signed_image_grid(fig, W.reshape(n, *image_shape), [f"h{j}" for j in range(n)], nrows, ncols)


def signed_image_grid(fig, tiles, titles, nrows, ncols, cmap="RdBu_r"):
    """Draw ``tiles`` (K, h, w) of weights in a nrows × ncols grid, one diverging colour scale centred at 0 and
    shared by all panels (red: positive, blue: negative), with a colour bar. Returns the Figure."""
    vmax = float(np.nanmax(np.abs(tiles))) if np.isfinite(tiles).any() else 1.0
    vmax = vmax or 1.0
    axes = []
    for k, (tile, title) in enumerate(zip(tiles, titles)):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        image = ax.imshow(tile, cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=8)
        axes.append(ax)
    fig.colorbar(image, ax=axes, shrink=0.8)
    return fig


def savefig(fig_or_ax, path):
    """Write a Figure (or the Figure of an Axes) to ``path`` as a PNG at 100 dpi, creating parent folders.
    Returns: the path."""
    fig = fig_or_ax if hasattr(fig_or_ax, "savefig") else getattr(fig_or_ax, "figure", None)
    if fig is None or not hasattr(fig, "savefig"):
        raise TypeError(f"savefig: expected a matplotlib Figure or Axes, got {type(fig_or_ax).__name__}")
    parent = os.path.dirname(os.fspath(path))
    if parent:
        os.makedirs(parent, exist_ok=True)
    fig.savefig(path, dpi=100, format="png")
    return path
