"""Loss functions: how unlikely the data looks under the model's thetas.

Training maximises the log-likelihood LL(θ) of the data; frameworks minimise a loss instead, and for the
probabilistic losses the two are the same thing: loss = −LL(θ) / n. Each loss is a function (``cross_entropy``)
and a class (``CrossEntropyLoss``) with the same arguments; ``reduction`` is 'mean' (default), 'sum' or 'none'.
"""
import inspect

import numpy as np

from .autograd import ops
from .autograd.ops import binary_cross_entropy_with_logits, cross_entropy
from .tensor import Tensor, make

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "mse_loss",
           "l1_loss", "huber_loss", "log_likelihood", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
           "NLLLoss", "MSELoss", "L1Loss", "HuberLoss", "get"]


def _reduce(losses, reduction, name):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
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
    input = ops._t(input)
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point, got dtype {input.dtype}")
    return input


def binary_cross_entropy(input, target, reduction="mean", eps=1e-12, weight=None):
    """BCE on probabilities ŷ:  loss_i = −w_i [y_i log ŷ_i + (1 − y_i) log(1 − ŷ_i)]

    The lecture's LL(θ) = Σ y log ŷ + (1 − y) log(1 − ŷ), so mean BCE = −LL(θ) / n. As in PyTorch, each log is
    floored at −100, so a confident mistake (ŷ = 1 when y = 0, as σ(z) rounds to in float32 for z > 17) costs
    100 instead of inf, and the gradient  dŷ = g (ŷ − y) / max(ŷ(1 − ŷ), eps)  stays finite. ŷ outside [0, 1]
    is an error (logits belong in ``binary_cross_entropy_with_logits``, which is also the more accurate one).
    ``weight`` (broadcastable to ŷ) scales each term.
    """
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

    def backward(g):
        if W is not None:
            g = g * W
        gp = g * (P - Y) / np.maximum(P * (1 - P), eps) if input.requires_grad else None
        gy = g * (log_q - log_p) if y.requires_grad else None
        return gp, gy
    return _reduce(make(losses, (input, y), backward), reduction, name)


def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood of integer labels given log-probabilities (N, C): loss_i = −log_probs[i, y_i]

    ``nll_loss(log_softmax(z), y)`` is ``cross_entropy(z, y)``.
    """
    log_probs = _float_input(log_probs, "nll_loss")
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if log_probs.ndim != 2:
        raise ValueError(f"nll_loss: log_probs must have shape (N, C), got {tuple(log_probs.shape)}")
    n, c = log_probs.shape
    if labels.shape != (n,) or labels.dtype.kind not in "iu":
        raise ValueError(f"nll_loss: target must be {n} integer labels of shape ({n},) to match log_probs "
                         f"{tuple(log_probs.shape)}, got shape {labels.shape} dtype {labels.dtype}")
    bad = np.flatnonzero((labels < 0) | (labels >= c))
    if bad.size:
        raise ValueError(f"nll_loss: label {labels[bad[0]]} at index {bad[0]} is out of range for {c} classes "
                         f"(labels must be in 0..{c - 1})")
    return _reduce(-log_probs[np.arange(n), labels], reduction, "nll_loss")


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: loss_i = (ŷ_i − y_i)²  (−LL of a Gaussian with fixed variance, up to constants;
    its minimiser over a constant guess is the mean, the lecture's M&Ms estimate)"""
    input = _float_input(input, "mse_loss")
    d = input - _target(target, input, "mse_loss")
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error (MAE): loss_i = |ŷ_i − y_i|  (−LL of a Laplace distribution; its minimiser is the
    median);  dŷ = g sign(ŷ − y), 0 where ŷ = y"""
    input = _float_input(input, "l1_loss")
    return _reduce(ops.abs(input - _target(target, input, "l1_loss")), reduction, "l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber: loss_i = ½d² for |d| ≤ δ, δ(|d| − ½δ) beyond, d = ŷ − y  (squared near 0, absolute in the tails,
    so outliers pull with at most δ);  dŷ = g · clip(d, −δ, δ)"""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    input = _float_input(input, "huber_loss")
    target = _target(target, input, "huber_loss")
    d = input.data - target.data
    a = np.abs(d)
    losses = np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    y, scale = ops._reduce(losses, reduction, "huber_loss")
    slope = np.clip(d, -delta, delta)                      # dloss_i/dŷ_i, fused: one node instead of eight

    def backward(g):
        gi = slope * (np.asarray(g, d.dtype) * scale)
        return gi, -gi
    return make(np.asarray(y, d.dtype), (input, target), backward)


def log_likelihood(y, y_hat, eps=1e-12):
    """The lecture's LL(θ) = Σ_i y_i log ŷ_i + (1 − y_i) log(1 − ŷ_i) for Bernoulli labels y and probabilities ŷ.

    A Tensor (differentiable) when ``y_hat`` is one, so ``log_likelihood(y, model(x)).backward()`` gives ∇LL,
    the direction of gradient ascent. Note the lecture's order (y, ŷ), the reverse of the losses' (input, target).
    """
    return -binary_cross_entropy(y_hat, y, reduction="sum", eps=eps)


class _Loss:
    """A loss function with its keyword arguments bound: ``CrossEntropyLoss()(logits, y)``."""
    fn = None

    def __init__(self, reduction="mean", **kwargs):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        try:
            inspect.signature(type(self).fn).bind(None, None, reduction=reduction, **kwargs)
        except TypeError as e:
            raise TypeError(f"{type(self).__name__}: {e}") from None
        self.reduction, self.kwargs = reduction, kwargs

    def __call__(self, input, target):
        return type(self).fn(input, target, reduction=self.reduction, **self.kwargs)

    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"{type(self).__name__}(reduction={self.reduction!r}{args})"


class BCELoss(_Loss): fn = staticmethod(binary_cross_entropy)
class BCEWithLogitsLoss(_Loss): fn = staticmethod(binary_cross_entropy_with_logits)
class CrossEntropyLoss(_Loss): fn = staticmethod(cross_entropy)
class NLLLoss(_Loss): fn = staticmethod(nll_loss)
class MSELoss(_Loss): fn = staticmethod(mse_loss)
class L1Loss(_Loss): fn = staticmethod(l1_loss)
class HuberLoss(_Loss): fn = staticmethod(huber_loss)


_BY_NAME = {"cross_entropy": cross_entropy, "ce": cross_entropy,
            "bce": binary_cross_entropy_with_logits, "bce_with_logits": binary_cross_entropy_with_logits,
            "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
            "binary_cross_entropy": binary_cross_entropy,
            "mse": mse_loss, "mse_loss": mse_loss, "mae": l1_loss, "l1": l1_loss, "l1_loss": l1_loss,
            "huber": huber_loss, "huber_loss": huber_loss, "nll": nll_loss, "nll_loss": nll_loss}


def get(name):
    """A loss function by name ('cross_entropy', 'bce', 'mse', 'mae', 'huber', 'nll', or a function's own name).

    'bce' is ``binary_cross_entropy_with_logits``: thetas' models output logits z, and σ is fused into the loss
    for stability; ``binary_cross_entropy`` (on probabilities ŷ) is asked for by its full name. A function is
    returned as it is.
    """
    if callable(name):
        return name
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(sorted(_BY_NAME))}") from None
