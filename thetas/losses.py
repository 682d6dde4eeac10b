"""Loss functions: how unlikely the data looks under the model's thetas.

Training maximises the log-likelihood LL(θ) of the data; frameworks minimise a loss instead, and for the
probabilistic losses the two are the same thing: loss = −LL(θ) / n. Each loss is a function (``cross_entropy``)
and a class (``CrossEntropyLoss``) with the same arguments; ``reduction`` is 'mean' (default), 'sum' or 'none'.
"""
import numpy as np

from .autograd import ops
from .autograd.ops import binary_cross_entropy_with_logits, cross_entropy
from .tensor import Tensor

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
    t = ops._t(target, like)
    if t.shape != like.shape:
        raise ValueError(f"{name}: target shape {tuple(t.shape)} does not match input shape {tuple(like.shape)}")
    return t.astype(like.dtype) if t.dtype != like.dtype else t


def binary_cross_entropy(input, target, reduction="mean", eps=1e-12):
    """BCE on probabilities ŷ:  loss_i = −[y_i log ŷ_i + (1 − y_i) log(1 − ŷ_i)]

    The lecture's LL(θ) = Σ y log ŷ + (1 − y) log(1 − ŷ), so mean BCE = −LL(θ) / n. ŷ is clipped to
    [eps, 1 − eps] so that log 0 never happens; prefer ``binary_cross_entropy_with_logits`` for stability.
    """
    input = ops._t(input)
    y = _target(target, input, "binary_cross_entropy")
    p = ops.clip(input, eps, 1 - eps)
    return _reduce(-(y * ops.log(p) + (1 - y) * ops.log(1 - p)), reduction, "binary_cross_entropy")


def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood of integer labels given log-probabilities (N, C): loss_i = −log_probs[i, y_i]."""
    log_probs = ops._t(log_probs)
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    n, c = log_probs.shape
    if labels.shape != (n,) or labels.dtype.kind not in "iu":
        raise ValueError(f"nll_loss: target must be {n} integer labels, got shape {labels.shape} dtype {labels.dtype}")
    bad = np.flatnonzero((labels < 0) | (labels >= c))
    if bad.size:
        raise ValueError(f"nll_loss: label {labels[bad[0]]} at index {bad[0]} is out of range for {c} classes")
    return _reduce(-log_probs[np.arange(n), labels], reduction, "nll_loss")


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: loss_i = (ŷ_i − y_i)²  (−LL of a Gaussian with fixed variance, up to constants)"""
    input = ops._t(input)
    d = input - _target(target, input, "mse_loss")
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error (MAE): loss_i = |ŷ_i − y_i|  (−LL of a Laplace distribution; its minimiser is the median)"""
    input = ops._t(input)
    return _reduce(ops.abs(input - _target(target, input, "l1_loss")), reduction, "l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber: ½d² for |d| ≤ δ, δ(|d| − ½δ) beyond, d = ŷ − y  (squared near 0, absolute in the tails)"""
    input = ops._t(input)
    d = input - _target(target, input, "huber_loss")
    a = ops.abs(d)
    losses = ops.where(a.data <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _reduce(losses, reduction, "huber_loss")


def log_likelihood(y, y_hat, eps=1e-12):
    """The lecture's LL(θ) = Σ_i y_i log ŷ_i + (1 − y_i) log(1 − ŷ_i) for Bernoulli labels y and probabilities ŷ.

    A Tensor (differentiable) when ``y_hat`` is one, so ``log_likelihood(y, model(x)).backward()`` gives ∇LL.
    """
    return -binary_cross_entropy(y_hat, y, reduction="sum", eps=eps)


class _Loss:
    fn = None

    def __init__(self, reduction="mean", **kwargs):
        self.reduction, self.kwargs = reduction, kwargs

    def __call__(self, input, target):
        return type(self).fn(input, target, reduction=self.reduction, **self.kwargs)

    def __repr__(self):
        return f"{type(self).__name__}(reduction={self.reduction!r})"


class BCELoss(_Loss): fn = staticmethod(binary_cross_entropy)
class BCEWithLogitsLoss(_Loss): fn = staticmethod(binary_cross_entropy_with_logits)
class CrossEntropyLoss(_Loss): fn = staticmethod(cross_entropy)
class NLLLoss(_Loss): fn = staticmethod(nll_loss)
class MSELoss(_Loss): fn = staticmethod(mse_loss)
class L1Loss(_Loss): fn = staticmethod(l1_loss)
class HuberLoss(_Loss): fn = staticmethod(huber_loss)


_BY_NAME = {"cross_entropy": cross_entropy, "ce": cross_entropy, "bce": binary_cross_entropy_with_logits,
            "bce_with_logits": binary_cross_entropy_with_logits, "binary_cross_entropy": binary_cross_entropy,
            "mse": mse_loss, "mse_loss": mse_loss, "mae": l1_loss, "l1": l1_loss, "l1_loss": l1_loss,
            "huber": huber_loss, "huber_loss": huber_loss, "nll": nll_loss, "nll_loss": nll_loss}


def get(name):
    """A loss function by name ('cross_entropy', 'bce', 'mse', 'mae', 'huber', 'nll', ...)."""
    if callable(name):
        return name
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(_BY_NAME)}") from None
