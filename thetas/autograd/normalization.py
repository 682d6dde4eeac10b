"""Batch normalisation (Ioffe & Szegedy, 2015): each channel standardised over the batch, its forward beside its
derivative, like ``ops.py``. For dense (N, C) and sequence (N, C, L) inputs as well as images (N, C, H, W).
"""
import numpy as np

from ..tensor import Tensor, make
from .ops import _t

__all__ = ["batch_norm"]


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """y = γ · (x - μ) / sqrt(σ² + ε) + β, per channel (axis 1) over the batch (and the pixels, for NCHW).

    training: μ, σ² are the batch's mean and (biased) variance, and the running statistics move towards them:
    running = (1 - momentum) · running + momentum · batch (the variance unbiased, n/(n-1), as PyTorch).
    Otherwise μ, σ² are the running statistics. With x̂ = (x - μ) / sqrt(σ² + ε) and m values per channel:
      dγ = Σ g·x̂;  dβ = Σ g;  dx = γ/sqrt(σ² + ε) · (g - mean(g) - x̂ · mean(g·x̂))   (training)
      dx = γ/sqrt(σ² + ε) · g   (eval: μ, σ² are constants)
    x: (N, C) or (N, C, H, W); running_*: (C,) Tensors or arrays updated in place; weight γ, bias β: (C,).
    """
    x = _t(x)
    X = x.data
    if X.ndim not in (2, 3, 4):
        raise ValueError(f"batch_norm expects (N, C), (N, C, L) or (N, C, H, W), got shape {X.shape}")
    c = X.shape[1]
    axes = (0,) + tuple(range(2, X.ndim))
    shape = (1, c) + (1,) * (X.ndim - 2)
    for name, p in (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var)):
        if p is not None and np.shape(p.data if isinstance(p, Tensor) else p) != (c,):
            raise ValueError(f"batch_norm: {name} must have shape ({c},) for an input with {c} channels "
                             f"(shape {X.shape}), got {np.shape(p.data if isinstance(p, Tensor) else p)}")
    rm = None if running_mean is None else (running_mean.data if isinstance(running_mean, Tensor) else running_mean)
    rv = None if running_var is None else (running_var.data if isinstance(running_var, Tensor) else running_var)
    m = X.size // c
    if training:
        if m < 2:
            raise ValueError(f"batch_norm: training needs more than one value per channel, got input shape {X.shape}")
        mu = X.mean(axis=axes)
        d = X - mu.reshape(shape)
        var = np.square(d).mean(axis=axes)
        if rm is not None:
            rm *= 1 - momentum
            rm += momentum * mu
        if rv is not None:
            rv *= 1 - momentum
            rv += momentum * var * (m / (m - 1))
    else:
        if rm is None or rv is None:
            raise ValueError("batch_norm: eval mode (training=False) needs running_mean and running_var")
        mu, var = np.asarray(rm, X.dtype), np.asarray(rv, X.dtype)
        d = X - mu.reshape(shape)
    inv = (1.0 / np.sqrt(var + eps)).astype(X.dtype)
    xhat = d * inv.reshape(shape)
    gamma = None if weight is None else weight.data.reshape(shape)
    y = xhat if gamma is None else xhat * gamma
    if bias is not None:
        y = y + bias.data.reshape(shape)
    parents = tuple(p for p in (x, weight, bias) if p is not None)

    def backward(g):
        gx = gw = None
        gxh = g if gamma is None else g * gamma
        if x.requires_grad:
            if training:
                gx = inv.reshape(shape) * (gxh - gxh.mean(axis=axes, keepdims=True)
                                           - xhat * (gxh * xhat).mean(axis=axes, keepdims=True))
            else:
                gx = gxh * inv.reshape(shape)
        if weight is not None and weight.requires_grad:
            gw = (g * xhat).sum(axis=axes)
        grads = [gx]
        if weight is not None:
            grads.append(gw)
        if bias is not None:
            grads.append(g.sum(axis=axes))
        return tuple(grads)
    return make(y, parents, backward)
