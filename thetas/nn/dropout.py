"""Dropout: randomly silence neurons while training so that no neuron can rely on another (Srivastava et al. 2014)."""
from ..tensor import as_generator
from ..autograd import ops
from .module import Module


def dropout(x, p=0.5, training=True, generator=None):
    """Inverted dropout: y = x · m / (1 − p), m_i ~ Bernoulli(1 − p), only when ``training``.

    Dividing by 1 − p keeps E[y] = x, so nothing changes at test time. dx = g · m / (1 − p).
    """
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    x = ops._t(x)
    if not training or p == 0:
        return x
    rng = as_generator(generator)
    keep = (rng.random(x.shape) >= p).astype(x.dtype) / x.dtype.type(1 - p)
    return ops.mul(x, keep)


class Dropout(Module):
    """Zero each input with probability ``p`` in training mode, scale the rest by 1/(1 − p); identity in eval mode.

    Shape: any -> the same.
    """

    def __init__(self, p=0.5, generator=None):
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = float(p)
        self._rng = None if generator is None else as_generator(generator)

    def forward(self, x):
        return dropout(x, self.p, self.training, self._rng)

    def extra_repr(self):
        return f"p={self.p}"
