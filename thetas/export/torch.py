"""thetas -> PyTorch and back: one translation per layer class, the weights copied under the same names.

thetas names its parameters as PyTorch does (``weight``, ``bias``, ``running_mean``, ``weight_ih_l0``, ...), so a
layer's translation is its constructor's arguments; a model that computes more than its layers (LeNet reshapes
flat rows, LogisticRegression drops the last axis, Standardize, L2Normalize, the Autoencoder's k-sparse code) has
a small torch class of the same name in ``_torch_modules.py``. Every translated module remembers the thetas config
it came from (``module.thetas_config``), so ``from_torch`` rebuilds the very class; a plain torch model (an
``nn.Sequential`` of the layers below) comes back as thetas layers of the same kinds.
"""
import numpy as np

from ..nn import activation as A
from ..nn import containers as C
from ..nn import conv as V
from ..nn import dropout as D
from ..nn import linear as L
from ..nn import normalization as N
from ..nn import preprocessing as P
from ..nn import recurrent as R


class ExportError(TypeError):
    """A layer with no translation: the message names its path in the model and its type."""


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("thetas.export.to_torch needs PyTorch: pip install torch") from None
    return torch


def _children(module):
    return list(module.named_children())


def _bias(layer):
    """Whether a layer has a bias: its ``bias`` flag (recurrent layers, torch cells), its bias Parameter or None,
    or for a thetas cell its ``bias_ih``."""
    b = layer.bias if hasattr(layer, "bias") else layer.bias_ih
    return b if isinstance(b, bool) else b is not None


# thetas class, torch.nn name, constructor arguments: positional and keyword, read by the same attribute names on
# both sides (thetas names them as PyTorch does); "bias" is whether the layer has one
LAYERS = [
    (L.Linear, "Linear", ("in_features", "out_features"), ("bias",)),
    (V.Conv2d, "Conv2d", ("in_channels", "out_channels", "kernel_size"), ("stride", "padding", "bias")),
    (V.MaxPool2d, "MaxPool2d", ("kernel_size", "stride", "padding"), ()),
    (V.AvgPool2d, "AvgPool2d", ("kernel_size", "stride", "padding"), ()),
    (V.Flatten, "Flatten", ("start_dim",), ()),
    (N.BatchNorm1d, "BatchNorm1d", ("num_features",), ("eps", "momentum", "affine")),
    (N.BatchNorm2d, "BatchNorm2d", ("num_features",), ("eps", "momentum", "affine")),
    (D.Dropout, "Dropout", ("p",), ()),
    (A.Softmax, "Softmax", ("dim",), ()),
    (A.LogSoftmax, "LogSoftmax", ("dim",), ()),
    (A.LeakyReLU, "LeakyReLU", ("negative_slope",), ()),
    (A.Sigmoid, "Sigmoid", (), ()),
    (A.Tanh, "Tanh", (), ()),
    (A.ReLU, "ReLU", (), ()),
    (A.Identity, "Identity", (), ()),
    (R.RNN, "RNN", ("input_size", "hidden_size"), ("num_layers", "nonlinearity", "bias", "batch_first", "dropout")),
    (R.LSTM, "LSTM", ("input_size", "hidden_size"), ("num_layers", "bias", "batch_first", "dropout")),
    (R.GRU, "GRU", ("input_size", "hidden_size"), ("num_layers", "bias", "batch_first", "dropout")),
    (R.RNNCell, "RNNCell", ("input_size", "hidden_size"), ("bias", "nonlinearity")),
    (R.LSTMCell, "LSTMCell", ("input_size", "hidden_size"), ("bias",)),
    (R.GRUCell, "GRUCell", ("input_size", "hidden_size"), ("bias",)),
]


def _build(cls, source, positional, keywords):
    """``cls`` made with ``source``'s values of the named arguments."""
    def value(name):
        return _bias(source) if name == "bias" else getattr(source, name)
    return cls(*[value(a) for a in positional], **{k: value(k) for k in keywords})


def _leaf(m, nn):
    """The torch layer for a thetas leaf layer (None when it has no direct counterpart)."""
    for ours, name, positional, keywords in LAYERS:
        if type(m) is ours:
            return _build(getattr(nn, name), m, positional, keywords)
    return None


def _convert(m, path, torch):
    from . import _torch_modules as T
    nn = torch.nn
    leaf = _leaf(m, nn)
    if leaf is not None:
        return leaf
    name = type(m).__name__
    if isinstance(m, P.Standardize):
        return T.Standardize(m.mean.data.size)
    if isinstance(m, P.L2Normalize):
        return T.L2Normalize(m.scale, m.eps)
    if name in T.MODELS:                      # a thetas model that computes more than its layers
        kids = {k: _convert(c, _join(path, k), torch) for k, c in _children(m)}
        return T.MODELS[name](m, kids)
    if isinstance(m, C.Sequential):
        return nn.Sequential(*[_convert(c, _join(path, k), torch) for k, c in _children(m)])
    if isinstance(m, C.ModuleList):
        return nn.ModuleList([_convert(c, _join(path, k), torch) for k, c in _children(m)])
    raise ExportError(f"layer {path or '(the model)'!r} is a {name}, which has no PyTorch translation in "
                      "thetas.export (supported: the layers of thetas.nn and the models of thetas.models)")


def to_torch(model):
    """The ``torch.nn.Module`` that computes what ``model`` computes, with copies of its thetas (parameters and
    buffers, in their dtype), in the same train/eval mode. Its ``thetas_config`` attribute is ``model.config()``.

    Raises ExportError naming the path and type of a layer with no translation; ImportError without torch.
    """
    torch = _torch()
    net = _convert(model, "", torch)
    state = model.state_dict()
    dtype = next((v.dtype for v in state.values() if v.dtype.kind == "f"), np.float32)
    net = net.to(getattr(torch, np.dtype(dtype).name))
    missing, unexpected = net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()},
                                              strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:             # a translation that does not name its thetas as thetas does: a bug here
        raise ExportError(f"to_torch: the translation's parameters differ from the model's: missing {missing}, "
                          f"unexpected {unexpected}")
    net.train(model.training)
    net.thetas_config = model.config()
    return net


def _from_plain(net, path, torch):
    """A thetas layer for a plain torch layer (no thetas_config)."""
    nn = torch.nn
    where = repr(path or "(the model)")
    if isinstance(net, nn.Conv2d) and (net.groups != 1 or tuple(net.dilation) != (1, 1) or
                                       net.padding_mode != "zeros"):
        raise ExportError(f"layer {where}: a Conv2d with groups, dilation or {net.padding_mode} padding has no "
                          "thetas translation")
    if isinstance(net, nn.RNNBase) and (net.bidirectional or getattr(net, "proj_size", 0)):
        raise ExportError(f"layer {where}: a bidirectional or projected {type(net).__name__} has no thetas "
                          "translation")
    for ours, name, positional, keywords in LAYERS:
        if type(net) is getattr(nn, name):
            return _build(ours, net, positional, keywords)
    if isinstance(net, nn.Sequential):
        return C.Sequential(*[_from(c, _join(path, k), torch) for k, c in net.named_children()])
    if isinstance(net, nn.ModuleList):
        return C.ModuleList([_from(c, _join(path, k), torch) for k, c in net.named_children()])
    raise ExportError(f"layer {where} is a torch {type(net).__name__}, which has no thetas translation")


def _join(path, name):
    return f"{path}.{name}" if path else name


def _from(net, path, torch):
    from ..nn.module import build
    config = getattr(net, "thetas_config", None)
    if config is not None:
        return build(config)
    return _from_plain(net, path, torch)


def from_torch(net):
    """The thetas model that computes what the torch module ``net`` computes, with copies of its weights (in their
    dtype) and the same train/eval mode: a module made by ``to_torch`` comes back as the very thetas class; a plain
    torch model of supported layers as thetas layers of the same kinds.

    Raises ExportError naming the path and type of a layer with no translation.
    """
    torch = _torch()
    model = _from(net, "", torch)
    state = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    own = dict(model.named_parameters())
    own.update(model.named_buffers())
    for key, t in own.items():                    # each tensor in the dtype it has in torch
        if key in state and t.data.dtype != state[key].dtype:
            t.data = np.empty(t.data.shape, state[key].dtype)
    model.load_state_dict(state)
    model.train(net.training)
    return model
