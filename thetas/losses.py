"""Loss functions: how unlikely the data looks under the model's thetas.

Training maximises the log-likelihood LL(θ) of the data; frameworks minimise a loss instead, and for the
probabilistic losses the two are the same thing: loss = −LL(θ) / n. Each loss is a function (``cross_entropy``)
and a class (``CrossEntropyLoss``) with the same arguments; ``reduction`` is 'mean' (default), 'sum' or 'none'.

Cross-entropy, the two binary cross-entropies and Huber are single ops: their derivatives are written out in
``thetas/autograd/losses.py``, which the functions here call. MSE, MAE and NLL are compositions of primitive ops.
"""
import inspect

import numpy as np

from .autograd import losses as rules
from .autograd import ops
from .autograd.losses import _float_input, _target, check_labels
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


def cross_entropy(logits, target, reduction="mean"):
    """Softmax cross-entropy from logits z (N, C): the negative log-likelihood of the true class,
    loss_i = −log softmax(z_i)[y_i], with integer labels y (N,); or loss_i = −Σ_c t_ic log softmax(z_i)_c with
    class probabilities t (N, C). Fused and stable (log-sum-exp): no softmax is formed on the way."""
    return rules.cross_entropy(logits, target, reduction)


def binary_cross_entropy_with_logits(logits, target, reduction="mean", weight=None):
    """BCE on logits z, ŷ = σ(z):  loss_i = −w_i [y_i log σ(z_i) + (1 − y_i) log(1 − σ(z_i))], the negative
    Bernoulli log-likelihood; computed as max(z, 0) − z·y + log(1 + e^(−|z|)), exact for any |z| (which
    ``binary_cross_entropy(sigmoid(z), y)`` is not). ``weight`` (broadcastable to z) scales each term, e.g. a
    0/1 mask over padded steps."""
    return rules.binary_cross_entropy_with_logits(logits, target, reduction, weight)


def binary_cross_entropy(input, target, reduction="mean", eps=1e-12, weight=None):
    """BCE on probabilities ŷ:  loss_i = −w_i [y_i log ŷ_i + (1 − y_i) log(1 − ŷ_i)]

    The lecture's LL(θ) = Σ y log ŷ + (1 − y) log(1 − ŷ), so mean BCE = −LL(θ) / n. As in PyTorch, each log is
    floored at −100, so a confident mistake (ŷ = 1 when y = 0, as σ(z) rounds to in float32 for z > 17) costs
    100 instead of inf, and the gradient  dŷ = g (ŷ − y) / max(ŷ(1 − ŷ), eps)  stays finite. ŷ outside [0, 1]
    is an error (logits belong in ``binary_cross_entropy_with_logits``, which is also the more accurate one).
    ``weight`` (broadcastable to ŷ) scales each term.
    """
    return rules.binary_cross_entropy(input, target, reduction, eps, weight)


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
    check_labels(labels, c, "nll_loss")
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
    return rules.huber_loss(input, target, reduction, delta)


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
