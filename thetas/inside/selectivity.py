"""Does one unit detect a class? Le et al.'s read-out (ICML 2012: the face neuron 81.7 %, the cat-face neuron
74.8 %), for a network trained without labels: each unit, alone, used as a detector with a threshold.

For class c, the test set is made class-balanced: every example of c and as many others drawn at random. A unit
says "c" when its activation a ≥ t; its accuracy is the best over ``thresholds`` values of t evenly spaced between
its minimum and maximum on that set, and the class's score is the best unit's. 0.5 is a coin; a unit that fires
for every "1" and for nothing else scores 1.
"""
import numpy as np

from ..tensor import Tensor
from .stimulus import _check_input_shape, _check_layer, _dtype, _layer_output

__all__ = ["class_selectivity", "layer_activations", "selectivity"]


def layer_activations(model, layer, images, batch_size=1024):
    """Every unit of ``layer`` ("output" or a name from ``model.named_modules()``) for each image, as (N, units):
    a (N, K) output as it is, a feature map (N, C, H, W) as its channels' means over positions (the units of
    ``optimal_stimulus``). Eval mode, no graph, the model left as it was."""
    module = _check_layer(model, layer)
    images = np.asarray(images)
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(f"images must be a non-empty batch (N, ...), got shape {images.shape}")
    dtype = _dtype(model, np.float64)
    _check_input_shape(model, module, images.shape[1:], dtype)
    out = []
    with model.evaluating():
        for i in range(0, len(images), batch_size):
            y = _layer_output(model, module, Tensor(np.asarray(images[i:i + batch_size], dtype))).data
            y = y.reshape(len(y), -1) if y.ndim <= 2 else y.reshape(*y.shape[:2], -1).mean(2)
            out.append(y.astype(np.float64))
    return np.concatenate(out)


def _balanced(labels, c, rng):
    """Indices of every example of class c and as many others drawn without replacement; and whether each is c."""
    pos = np.flatnonzero(labels == c)
    neg = np.flatnonzero(labels != c)
    neg = rng.choice(neg, min(len(pos), len(neg)), replace=False)
    return np.concatenate([pos, neg]), np.concatenate([np.ones(len(pos), bool), np.zeros(len(neg), bool)])


def class_selectivity(activations, labels, thresholds=20, seed=0):
    """Le et al.'s read-out on activations you already have (units may be pixels: the best-pixel baseline).

    Args:
        activations: (N, U), one column per unit.
        labels: (N,) class of each example.
        thresholds: t per unit, evenly spaced from its minimum to its maximum on the balanced set.
        seed: draws each class's negatives (the same seed, the same sets: compare models on one seed).
    Returns: (classes (C,), units (C,), accuracies (C,)): per class (sorted), the best unit and its accuracy.
    """
    a = np.asarray(activations, np.float64)
    y = np.asarray(labels).reshape(-1)
    if a.ndim != 2 or len(a) != len(y) or a.shape[1] == 0:
        raise ValueError(f"activations must be (N, U) with one row per label; got {a.shape} for {len(y)} labels")
    if int(thresholds) < 2:
        raise ValueError(f"thresholds must be at least 2, got {thresholds}")
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(f"labels hold one class only ({classes.tolist()}): nothing to tell apart")
    rng = np.random.default_rng(seed)
    units, accuracy = [], []
    for c in classes:
        idx, is_c = _balanced(y, c, rng)
        x = a[idx]
        lo, hi = x.min(0), x.max(0)
        best = np.zeros(a.shape[1])
        for f in np.linspace(0.0, 1.0, int(thresholds)):
            best = np.maximum(best, ((x >= lo + f * (hi - lo)) == is_c[:, None]).mean(0))
        units.append(int(best.argmax()))
        accuracy.append(float(best.max()))
    return classes, np.asarray(units), np.asarray(accuracy)


def selectivity(model, layer, images, labels, thresholds=20, seed=0):
    """``class_selectivity`` of the units of ``layer`` (see ``layer_activations``) on ``images`` and their
    ``labels``: for each class, the single unit that detects it best and its balanced accuracy."""
    return class_selectivity(layer_activations(model, layer, images), labels, thresholds, seed)
