"""Activation layers: the non-linearities that make a stack of neurons more than one big linear map."""
from ..autograd import ops
from .module import Module


class Sigmoid(Module):
    """y = σ(x) = 1 / (1 + e^(-x));  σ'(x) = σ(x)(1 − σ(x))"""
    def forward(self, x): return ops.sigmoid(x)


class Tanh(Module):
    """y = tanh(x) = 2σ(2x) − 1;  tanh'(x) = 1 − tanh²(x)"""
    def forward(self, x): return ops.tanh(x)


class ReLU(Module):
    """y = max(x, 0);  derivative 1 for x > 0, else 0"""
    def forward(self, x): return ops.relu(x)


class LeakyReLU(Module):
    """y = x for x > 0, else negative_slope · x"""

    def __init__(self, negative_slope=0.01):
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return ops.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    """y_i = e^(x_i) / Σ_j e^(x_j) along ``dim``: scores become probabilities that sum to 1"""

    def __init__(self, dim=-1):
        self.dim = dim

    def forward(self, x):
        return ops.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """y_i = x_i − log Σ_j e^(x_j) along ``dim`` (log-sum-exp, stable)"""

    def forward(self, x):
        return ops.log_softmax(x, self.dim)


class Identity(Module):
    """y = x (a network with Identity activations is linear: it collapses to one linear map)"""
    def forward(self, x): return x if hasattr(x, "requires_grad") else ops._t(x)
