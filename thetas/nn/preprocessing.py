"""Preprocessing that travels with the model, so a saved network sees its inputs as it did in training."""
import numpy as np

from ..autograd import ops
from ..tensor import Tensor, get_default_dtype
from .module import Buffer, Module


class Standardize(Module):
    """y = (x − mean) / std, per feature; ``mean`` and ``std`` are Buffers (saved with the model, not trained).

    A feature with std 0 (constant in the training data) is only centred: its std is taken as 1.
    ``mean`` and ``std`` may be lists or arrays; the constructor call is kept as lists, so ``config()`` is JSON
    and ``th.load`` rebuilds the layer.

    Shape: (N, F) -> (N, F)
    """

    def __init__(self, mean, std):
        mean64 = np.asarray(mean, dtype=np.float64).reshape(-1)
        std64 = np.asarray(std, dtype=np.float64).reshape(-1)
        if mean64.shape != std64.shape:
            raise ValueError(f"Standardize: mean has {mean64.size} features but std has {std64.size}")
        if not (np.all(np.isfinite(mean64)) and np.all(np.isfinite(std64))) or np.any(std64 < 0):
            raise ValueError("Standardize: mean and std must be finite and std >= 0")
        self._init_args = ((mean64.tolist(), std64.tolist()), {})   # arrays have no JSON form; lists do
        self.mean = Buffer(mean64.astype(get_default_dtype()))
        self.std = Buffer(np.where(std64 > 0, std64, 1.0).astype(get_default_dtype()))

    def forward(self, x):
        if not isinstance(x, Tensor):
            x = np.asarray(x)
            x = Tensor(x if x.dtype.kind == "f" else x.astype(self.mean.dtype))
        if x.shape[-1] != self.mean.shape[0]:
            raise ValueError(f"Standardize: expected {self.mean.shape[0]} features, got an input of shape "
                             f"{tuple(x.shape)}")
        return ops.div(ops.sub(x, self.mean.data), self.std.data)

    def extra_repr(self):
        return f"features={self.mean.shape[0]}"


class L2Normalize(Module):
    """y = scale · x / ‖x‖₂ per example (over every axis but the batch's): each input rescaled to one length.

    Le et al. (2012) normalised contrast before their features; here a faint "1" and a bold "8" reach the next
    layer with the same length, so a unit answers to the shape of a digit, not to how much ink it has. An
    all-zero input stays zero (‖x‖ is floored at ``eps``). Backward: dy/dx = (scale/‖x‖)(I − x̂x̂ᵀ), x̂ = x/‖x‖, by
    the chain rule through the library's sqrt, sum and div.

    Shape: (N, ...) -> same.
    """

    def __init__(self, scale=1.0, eps=1e-6):
        if not scale > 0 or not eps > 0:
            raise ValueError(f"L2Normalize: scale and eps must be positive, got scale={scale}, eps={eps}")
        self.scale, self.eps = float(scale), float(eps)

    def forward(self, x):
        x = ops._t(x)
        axes = tuple(range(1, len(x.shape)))
        length = ops.sqrt(ops.add(ops.sum(ops.mul(x, x), axis=axes, keepdims=True), self.eps ** 2))
        return ops.mul(ops.div(x, length), self.scale)

    def extra_repr(self):
        return f"scale={self.scale:g}"
