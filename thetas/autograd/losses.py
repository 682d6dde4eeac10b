"""The fused losses: each loss one op, its forward beside its derivative, written out so that it stays stable
where the composition of primitive ops would overflow or lose precision (and one graph node instead of several).

The user-facing functions and classes, with what each loss means (a negative log-likelihood), are in
``thetas.losses``, which calls these rules; ``mse_loss``, ``l1_loss`` and ``nll_loss`` are compositions of
primitive ops there, with no rule of their own. ``reduction`` is 'mean' (Σ / n), 'sum' or 'none'; for the
mean, the backward scales g by 1/n.
"""
import builtins

import numpy as np

from ..tensor import Tensor, make
from .ops import _log_softmax, _t

__all__ = ["cross_entropy", "binary_cross_entropy_with_logits", "binary_cross_entropy", "huber_loss"]


def _reduce(losses, reduction, name):
    if reduction == "none":
        return losses, 1.0
    if reduction == "sum":
        return losses.sum(), 1.0
    if reduction == "mean":  # sum / n: what ndarray.mean computes, without its Python-level wrapper
        n = builtins.max(losses.size, 1)
        return losses.sum() / n, 1.0 / n
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _target(target, like, name):
    """The target as a Tensor of the input's shape and float dtype (a Tensor target keeps its graph)."""
    if isinstance(target, Tensor):
        t = target if target.dtype == like.dtype else target.astype(like.dtype)
    else:
        t = Tensor(np.asarray(target, dtype=like.dtype))
    if t.shape != like.shape:
        raise ValueError(f"{name}: target shape {tuple(t.shape)} does not match input shape {tuple(like.shape)}")
    return t


def _float_input(input, name):
    input = _t(input)
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point, got dtype {input.dtype}")
    return input


def check_labels(labels, num_classes, name):
    """Integer class labels must lie in 0..C-1: the first one that does not is named, with its index."""
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        raise ValueError(f"{name}: label {labels[bad[0]]} at index {bad[0]} is out of range for {num_classes} "
                         f"classes (labels must be in 0..{num_classes - 1})")


def cross_entropy(logits, target, reduction="mean"):
    """Softmax cross-entropy from logits z (N, C), fused and stable (log-sum-exp).

    Integer labels y (N,):  loss_i = -log softmax(z_i)[y_i]   (the negative log-likelihood of the true class)
    Probabilities t (N, C): loss_i = -Σ_c t_ic log softmax(z_i)_c
    dz = (softmax(z) - onehot(y)) * g   (for probabilities: softmax(z) Σ_c t_c - t)
    """
    logits = _t(logits)
    Z = logits.data
    T = target.data if isinstance(target, Tensor) else np.asarray(target)
    if Z.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {Z.shape}")
    n, c = Z.shape
    logp = _log_softmax(Z, 1)
    if T.dtype.kind in "iu":
        if T.shape != (n,):
            raise ValueError(f"cross_entropy: integer labels must have shape ({n},) to match logits {Z.shape}, "
                             f"got {T.shape}")
        check_labels(T, c, "cross_entropy")
        rows = np.arange(n)
        losses = -logp[rows, T]
    elif T.dtype.kind == "f":
        if T.shape != Z.shape:
            raise ValueError(f"cross_entropy: probability targets must have the logits' shape {Z.shape}, got {T.shape}")
        losses = -(T * logp).sum(axis=1)
    else:
        raise TypeError(f"cross_entropy: target must hold integer labels or float probabilities, got dtype {T.dtype}")
    y, scale = _reduce(losses, reduction, "cross_entropy")

    def backward(g):
        p = np.exp(logp)
        if T.dtype.kind in "iu":
            p[rows, T] -= 1
        else:
            p = p * T.sum(axis=1, keepdims=True) - T
        g = np.asarray(g, p.dtype) * scale
        return (p * (g[:, None] if g.ndim else g),)
    return make(np.asarray(y, Z.dtype), (logits,), backward)


def binary_cross_entropy_with_logits(logits, target, reduction="mean", weight=None):
    """BCE on logits z, stable for any |z|:  loss = max(z, 0) - z·y + log(1 + e^(-|z|))
    (= -[y log σ(z) + (1 - y) log(1 - σ(z))], the negative Bernoulli log-likelihood);  dz = g (σ(z) - y) · w

    ``weight`` (broadcastable to z) scales each term, e.g. a 0/1 mask over padded steps.
    """
    logits = _t(logits)
    Z = logits.data
    Y = np.asarray(target.data if isinstance(target, Tensor) else target, Z.dtype)
    if Y.shape != Z.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target shape {Y.shape} != logits shape {Z.shape}")
    e = np.exp(-np.abs(Z))
    losses = np.maximum(Z, 0) - Z * Y + np.log1p(e)
    W = None
    if weight is not None:
        W = np.asarray(weight.data if isinstance(weight, Tensor) else weight, Z.dtype)
        losses = losses * W
    y, scale = _reduce(losses, reduction, "binary_cross_entropy_with_logits")

    def backward(g):
        d = np.where(Z >= 0, 1, e) / (1 + e) - Y
        if W is not None:
            d = d * W
        return (d * (np.asarray(g, Z.dtype) * scale),)
    return make(np.asarray(y, Z.dtype), (logits,), backward)


def binary_cross_entropy(input, target, reduction="mean", eps=1e-12, weight=None):
    """BCE on probabilities ŷ:  loss_i = −w_i [y_i log ŷ_i + (1 − y_i) log(1 − ŷ_i)], each log floored at −100;
    dŷ = g w (ŷ − y) / max(ŷ(1 − ŷ), eps);  dy = g w (log(1 − ŷ) − log ŷ)   (ŷ must lie in [0, 1])"""
    name = "binary_cross_entropy"
    input = _float_input(input, name)
    y = _target(target, input, name)
    P, Y = input.data, y.data
    outside = (P < 0) | (P > 1)
    if outside.any():
        i = np.unravel_index(np.flatnonzero(outside)[0], P.shape)
        raise ValueError(f"{name}: input must be probabilities in [0, 1], got {P[i]} at index "
                         f"{tuple(int(j) for j in i)}; for logits z use binary_cross_entropy_with_logits")
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(P), -100)
        log_q = np.maximum(np.log1p(-P), -100)  # log(1 − ŷ)
    losses = -(Y * log_p + (1 - Y) * log_q)
    W = None
    if weight is not None:
        W = np.asarray(weight.data if isinstance(weight, Tensor) else weight, P.dtype)
        losses = losses * W
    out, scale = _reduce(losses, reduction, name)

    def backward(g):
        g = np.asarray(g, P.dtype) * scale
        if W is not None:
            g = g * W
        gp = g * (P - Y) / np.maximum(P * (1 - P), eps) if input.requires_grad else None
        gy = g * (log_q - log_p) if y.requires_grad else None
        return gp, gy
    return make(np.asarray(out, P.dtype), (input, y), backward)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber, d = ŷ − y:  loss_i = ½d² for |d| ≤ δ, δ(|d| − ½δ) beyond;  dŷ = g · clip(d, −δ, δ),  dy = −dŷ"""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    input = _float_input(input, "huber_loss")
    target = _target(target, input, "huber_loss")
    d = input.data - target.data
    a = np.abs(d)
    losses = np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    y, scale = _reduce(losses, reduction, "huber_loss")
    slope = np.clip(d, -delta, delta)                      # dloss_i/dŷ_i, fused: one node instead of eight

    def backward(g):
        gi = slope * (np.asarray(g, d.dtype) * scale)
        return gi, -gi
    return make(np.asarray(y, d.dtype), (input, target), backward)
