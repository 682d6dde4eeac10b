"""Batch normalisation: standardise each channel over the batch, then let the network rescale it (γ, β)."""
import numpy as np

from ..autograd.normalization import batch_norm
from ..tensor import get_default_dtype
from . import init
from .module import Buffer, Module, Parameter


class _BatchNorm(Module):
    """y = γ · (x − μ) / sqrt(σ² + ε) + β per channel; μ, σ² from the batch in train mode (and folded into the
    running statistics with ``momentum``), from the running statistics in eval mode (Ioffe & Szegedy 2015).
    Parameters γ (ones), β (zeros): 2·C. Buffers: running_mean, running_var (saved with the model)."""
    _ndims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, dtype=None):
        self.num_features, self.eps, self.momentum, self.affine = int(num_features), float(eps), float(momentum), affine
        dtype = dtype or get_default_dtype()
        # filled after wrapping (np.zeros and np.empty leave memory untouched): th.load's budget checks first
        self.weight = init.ones_(Parameter(np.empty(self.num_features, dtype))) if affine else None
        self.bias = Parameter(np.zeros(self.num_features, dtype)) if affine else None
        self.running_mean = Buffer(np.zeros(self.num_features, dtype))
        self.running_var = init.ones_(Buffer(np.empty(self.num_features, dtype)))

    def forward(self, x):
        ndim = len(x.shape)
        if ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r} got an input of shape {tuple(x.shape)}: it needs {self._shape_text} with "
                             f"C = num_features = {self.num_features}")
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                          self.momentum, self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class BatchNorm1d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__ + "\n    Shape: (N, C) or (N, C, L) -> the same."
    _ndims, _shape_text = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__ + "\n    Shape: (N, C, H, W) -> the same (statistics over N, H and W)."
    _ndims, _shape_text = (4,), "(N, C, H, W)"
