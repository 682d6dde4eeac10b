"""The dense layer: every output a weighted sum of every input (many logistic-regression neurons side by side)."""
import math

import numpy as np

from ..autograd import ops
from ..tensor import Tensor, as_generator, get_default_dtype
from . import init
from .module import Module, Parameter


def as_input(x, like):
    """A layer's input as a Tensor; a NumPy array or list takes the dtype of the layer's parameter ``like``."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray) and x.dtype == like.data.dtype:  # the usual case: a batch from a DataLoader
        return Tensor(x)
    return Tensor(np.asarray(x, dtype=like.data.dtype if np.asarray(x).dtype.kind in "fiub" else None))


class Linear(Module):
    """y = x @ W.T + b

    Each of the ``out_features`` outputs is one neuron's z = θᵀx + b; follow it with a Sigmoid and it is the
    lecture's logistic regression. Parameters: |x|·|h| weights + |h| biases.

    Args:
        in_features: size |x| of each input.
        out_features: size |h| of each output.
        bias: learn an additive bias b.
        generator: seed or np.random.Generator for the initial thetas.

    - Shape: `(N, *, in_features) -> (N, *, out_features)`
    - Init: W, b ~ U(-1/sqrt(in_features), 1/sqrt(in_features))  (as PyTorch)
    """

    def __init__(self, in_features, out_features, bias=True, generator=None, dtype=None):
        self.in_features, self.out_features = int(in_features), int(out_features)
        rng = as_generator(generator)
        dtype = dtype or get_default_dtype()
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features else 0.0
        self.weight = init.uniform_(Parameter(np.empty((self.out_features, self.in_features), dtype)),
                                    -bound, bound, rng)
        self.bias = init.uniform_(Parameter(np.empty(self.out_features, dtype)), -bound, bound, rng) if bias else None

    def forward(self, x):
        x = as_input(x, self.weight)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"{self!r} got an input of shape {tuple(x.shape)}: its last dimension must be "
                             f"in_features={self.in_features}, not {x.shape[-1] if x.ndim else 'a scalar'}")
        return ops.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
