"""Every unit of a layer at once: the input shape a saved model takes, how many units a layer has, and each unit's
optimal stimulus with its top stimuli (Le et al. 2012's figures: one row per unit), as ``thetas inside`` shows them.
"""
import numpy as np

from .selectivity import layer_activations
from .stimulus import _check_input_shape, _check_layer, _dtype, optimal_stimuli, top_k

__all__ = ["input_shape", "num_units", "unit_stimuli"]


def input_shape(model):
    """One example's shape as ``model`` takes it (no batch axis), from its first layer that says: (C, S, S) for a
    LeNet (``in_channels``, ``image_size``), (F,) for a first Linear with F ``in_features`` (or a Standardize of F
    features). A ValueError when no layer says (e.g. a model that starts with a Conv2d: its image size is free)."""
    from ..models.lenet import LeNet
    from ..nn.conv import Conv2d
    from ..nn.linear import Linear
    from ..nn.preprocessing import Standardize
    for m in model.modules():
        if isinstance(m, LeNet):
            return (m.in_channels, m.image_size, m.image_size)
        if isinstance(m, Standardize):
            return (int(m.mean.data.size),)
        if isinstance(m, Linear):
            return (int(m.in_features),)
        if isinstance(m, Conv2d):
            break
    raise ValueError(f"cannot tell the input shape of {type(model).__name__} from its layers: give input_shape")


def num_units(model, layer, input_shape):
    """How many units ``layer`` ("output" or a name from ``model.named_modules()``) has: K for an output (N, K),
    C for a feature map (N, C, H, W) (a unit is a channel, its mean over positions), 1 for a scalar per example.
    An unknown layer or an input shape that does not fit is a ValueError (it names the layers / the shape)."""
    module = _check_layer(model, layer)
    _, out_shape = _check_input_shape(model, module, input_shape, _dtype(model, np.float64))
    return int(out_shape[0]) if out_shape else 1


def unit_stimuli(model, layer, units, input_shape, images=None, k=9, chunk=256, **ascent):
    """For each unit in ``units`` of ``layer``: its optimal stimulus (``optimal_stimuli(model, layer, units,
    input_shape, **ascent)``: ``norm``, ``box``, ``steps``, ...; ``chunk`` units climb together) and, with
    ``images`` (N, ...), its top ``k`` stimuli among them (``top_stimuli``; k at most N).

    Returns: (stimuli (len(units), *input_shape), tops), tops a list of (indices (k,), activations (k,)) per unit,
    empty without ``images``."""
    units = [int(u) for u in units]
    stimuli = np.concatenate([optimal_stimuli(model, layer, units[i:i + chunk], input_shape, **ascent)
                              for i in range(0, len(units), chunk)])
    tops = []
    if images is not None:
        acts = layer_activations(model, layer, images)           # one pass over the images for every unit
        k = min(int(k), len(acts))
        tops = [top_k(acts[:, u], k) for u in units]
    return stimuli, tops
