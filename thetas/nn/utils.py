"""Gradient clipping: keep one bad batch from throwing the thetas far away.

Both functions rebind ``p.grad`` to a new array and never scale the old one in place (it may be shared).
"""
import math

import numpy as np

from ..tensor import Tensor


def _grads(parameters):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their joint norm is at most ``max_norm`` (as torch.nn.utils):

        total = ‖(g₁, g₂, ...)‖_p      (all gradients as one long vector; p = norm_type, may be inf)
        g ← g · max_norm / (total + 1e-6)   if that factor is below 1

    Returns the total norm before clipping, a Python float (log it: spikes show exploding gradients).
    """
    params = _grads(parameters)
    norm_type = float(norm_type)
    if not params:
        return 0.0
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(p.grad))) if p.grad.size else 0.0 for p in params)
    elif norm_type <= 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive (or inf), got {norm_type}")
    else:
        per_param = [np.linalg.norm(p.grad.ravel().astype(np.float64), ord=norm_type) for p in params]
        total = float(np.linalg.norm(np.array(per_param), ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total {norm_type}-norm of the gradients is {total}; "
                           "set error_if_nonfinite=False to clip anyway")
    coef = float(max_norm) / (total + 1e-6)
    if not coef >= 1.0:  # a NaN norm spreads to every gradient, as in torch, rather than hiding
        for p in params:
            p.grad = p.grad * coef
    return total


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient entry into [−clip_value, clip_value]:  g ← min(max(g, −c), c)"""
    c = float(clip_value)
    for p in _grads(parameters):
        p.grad = np.clip(p.grad, -c, c)
