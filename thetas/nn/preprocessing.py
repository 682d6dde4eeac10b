"""Preprocessing that travels with the model, so a saved network sees its inputs as it did in training."""
import numpy as np

from ..autograd import ops
from ..tensor import Tensor, get_default_dtype
from .module import Buffer, Module


class Standardize(Module):
    """y = (x − mean) / std, per feature; ``mean`` and ``std`` are Buffers (saved with the model, not trained).

    A feature with std 0 is only centred (its std is taken as 1).
    Shape: (N, F) -> (N, F)
    """

    def __init__(self, mean, std):
        mean = np.asarray(mean, dtype=get_default_dtype()).reshape(-1)
        std = np.asarray(std, dtype=get_default_dtype()).reshape(-1)
        if mean.shape != std.shape:
            raise ValueError(f"Standardize: mean has {mean.size} features but std has {std.size}")
        self.mean = Buffer(mean)
        self.std = Buffer(np.where(std > 0, std, 1).astype(mean.dtype))

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(np.asarray(x, self.mean.dtype))
        if x.shape[-1] != self.mean.shape[0]:
            raise ValueError(f"Standardize: expected {self.mean.shape[0]} features, got an input of shape {tuple(x.shape)}")
        return ops.div(ops.sub(x, self.mean.data), self.std.data)

    def extra_repr(self):
        return f"features={self.mean.shape[0]}"
