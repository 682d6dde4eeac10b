"""Stochastic gradient descent, and the lecture's gradient ascent (``maximize=True``)."""
import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent with optional momentum (PyTorch's update rule, ``torch/optim/sgd.py``).

    For each parameter θ with gradient g = ∂loss/∂θ, at step t:

        g ← −g                                   if maximize
        g ← g + λ θ                              if weight_decay λ ≠ 0
        b ← g  (t = 1),  b ← μ b + (1 − τ) g      if momentum μ ≠ 0   (τ: dampening)
        g ← g + μ b  if nesterov,  else  g ← b
        θ ← θ − η g

    With μ = λ = 0 this is plain θ ← θ − η ∇loss(θ). ``maximize=True`` is the lecture's gradient ascent on the
    log-likelihood, literally: call ``backward()`` on LL(θ) (not on a loss) and each step is θ ← θ + η ∇LL(θ).

    Args:
        params: Parameters, or parameter-group dicts.
        lr: η.
        momentum: μ.
        dampening: τ.
        nesterov: Nesterov momentum (needs μ > 0 and τ = 0).
        weight_decay: λ (L2 penalty ½λ‖θ‖² on the loss).
        maximize: climb the objective instead of descending it.
    """
    state_keys = frozenset({"momentum_buffer"})

    def __init__(self, params, lr=0.01, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                      weight_decay=weight_decay, maximize=maximize))

    def _check_group(self, group, index):
        for key in ("lr", "momentum", "weight_decay"):
            if not group[key] >= 0:
                raise ValueError(f"SGD: param group {index} has {key}={group[key]!r}; it must be >= 0")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: param group {index}: Nesterov momentum needs momentum > 0 and dampening = 0, "
                             f"got momentum={group['momentum']}, dampening={group['dampening']}")

    def _step_group(self, group):
        lr, momentum, wd = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
        keep = 1.0 - float(group["dampening"])
        nesterov, maximize = group["nesterov"], group["maximize"]
        state, dtype = self.state, None
        for p in group["params"]:
            g = p.grad
            if g is None or not p.requires_grad:
                continue
            theta = p.data
            if g.shape != theta.shape:
                raise ValueError(f"SGD: a parameter of shape {theta.shape} has a gradient of shape {g.shape}")
            if theta.dtype is not dtype:
                # 0-d arrays of the thetas' dtype: NumPy's cheapest scalar operand, and float32 stays float32
                dtype = theta.dtype
                lr_, momentum_, wd_, keep_ = (np.array(v, dtype) for v in (lr, momentum, wd, keep))
            if maximize:
                g = -g
            if wd:
                g = g + wd_ * theta
            if momentum:
                st = state.get(p)
                if st is None:
                    buf = np.array(g, dtype=dtype)
                    state[p] = {"momentum_buffer": buf}
                else:
                    buf = st["momentum_buffer"]
                    buf *= momentum_
                    buf += g if keep == 1.0 else keep_ * g
                g = g + momentum_ * buf if nesterov else buf
            theta -= lr_ * g
