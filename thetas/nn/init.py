"""Initialisers: fill a Tensor's data in place from a seeded generator. ``generator`` is a
``np.random.Generator``, an int seed, or None for thetas' global generator (``th.manual_seed``)."""
import math

import numpy as np

from ..tensor import as_generator


def _fans(t):
    shape = t.data.shape
    if len(shape) < 2:
        raise ValueError(f"fan-in/fan-out need a tensor with at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def gain(nonlinearity, param=None):
    """The factor that keeps activations' variance steady through ``nonlinearity`` (as torch.nn.init.calculate_gain)."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}")


def uniform_(t, a=0.0, b=1.0, generator=None):
    """t ~ U(a, b)"""
    t.data[...] = as_generator(generator).uniform(a, b, t.data.shape)
    return t


def normal_(t, mean=0.0, std=1.0, generator=None):
    """t ~ N(mean, std²)"""
    t.data[...] = as_generator(generator).normal(mean, std, t.data.shape)
    return t


def constant_(t, value):
    """t = value, everywhere"""
    t.data[...] = value
    return t


def zeros_(t):
    """t = 0"""
    return constant_(t, 0)


def ones_(t):
    """t = 1"""
    return constant_(t, 1)


def xavier_uniform_(t, gain=1.0, generator=None):
    """t ~ U(-a, a), a = gain · sqrt(6 / (fan_in + fan_out))   (Glorot & Bengio 2010)"""
    fan_in, fan_out = _fans(t)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a, generator)


def xavier_normal_(t, gain=1.0, generator=None):
    """t ~ N(0, std²), std = gain · sqrt(2 / (fan_in + fan_out))"""
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(t, nonlinearity="relu", a=None, generator=None):
    """t ~ U(-b, b), b = gain · sqrt(3 / fan_in)   (He et al. 2015)"""
    fan_in, _ = _fans(t)
    b = gain(nonlinearity, a) * math.sqrt(3.0 / fan_in)
    return uniform_(t, -b, b, generator)


def kaiming_normal_(t, nonlinearity="relu", a=None, generator=None):
    """t ~ N(0, std²), std = gain · sqrt(1 / fan_in)"""
    fan_in, _ = _fans(t)
    return normal_(t, 0.0, gain(nonlinearity, a) / math.sqrt(fan_in), generator)
