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


def _leaf(m, nn):
    """The torch layer for a thetas leaf layer (None when it has no direct counterpart)."""
    if isinstance(m, L.Linear):
        return nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
    if isinstance(m, V.Conv2d):
        return nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, stride=m.stride, padding=m.padding,
                         bias=m.bias is not None)
    if isinstance(m, V.MaxPool2d):
        return nn.MaxPool2d(m.kernel_size, m.stride, m.padding)
    if isinstance(m, V.AvgPool2d):
        return nn.AvgPool2d(m.kernel_size, m.stride, m.padding)
    if isinstance(m, V.Flatten):
        return nn.Flatten(m.start_dim)
    if isinstance(m, N.BatchNorm2d):
        return nn.BatchNorm2d(m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine)
    if isinstance(m, N.BatchNorm1d):
        return nn.BatchNorm1d(m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine)
    if isinstance(m, D.Dropout):
        return nn.Dropout(m.p)
    if isinstance(m, A.LogSoftmax):
        return nn.LogSoftmax(m.dim)
    if isinstance(m, A.Softmax):
        return nn.Softmax(m.dim)
    if isinstance(m, A.LeakyReLU):
        return nn.LeakyReLU(m.negative_slope)
    simple = {A.Sigmoid: nn.Sigmoid, A.Tanh: nn.Tanh, A.ReLU: nn.ReLU, A.Identity: nn.Identity}
    if type(m) in simple:
        return simple[type(m)]()
    if isinstance(m, R._Recurrent):
        kind = {R.RNN: nn.RNN, R.LSTM: nn.LSTM, R.GRU: nn.GRU}[type(m)]
        kw = dict(num_layers=m.num_layers, bias=m.bias, batch_first=m.batch_first, dropout=m.dropout)
        if isinstance(m, R.RNN):
            kw["nonlinearity"] = m.nonlinearity
        return kind(m.input_size, m.hidden_size, **kw)
    if isinstance(m, R._Cell):
        kind = {R.RNNCell: nn.RNNCell, R.LSTMCell: nn.LSTMCell, R.GRUCell: nn.GRUCell}[type(m)]
        kw = {"nonlinearity": m.nonlinearity} if isinstance(m, R.RNNCell) else {}
        return kind(m.input_size, m.hidden_size, bias=m.bias_ih is not None, **kw)
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
        kids = {k: _convert(c, f"{path}.{k}" if path else k, torch) for k, c in _children(m)}
        return T.MODELS[name](m, kids)
    if isinstance(m, C.Sequential):
        return nn.Sequential(*[_convert(c, f"{path}.{k}" if path else k, torch) for k, c in _children(m)])
    if isinstance(m, C.ModuleList):
        return nn.ModuleList([_convert(c, f"{path}.{k}" if path else k, torch) for k, c in _children(m)])
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
    if isinstance(net, nn.Linear):
        return L.Linear(net.in_features, net.out_features, bias=net.bias is not None)
    if isinstance(net, nn.Conv2d):
        if net.groups != 1 or tuple(net.dilation) != (1, 1) or net.padding_mode != "zeros":
            raise ExportError(f"layer {path!r}: a Conv2d with groups, dilation or {net.padding_mode} padding has no "
                              "thetas translation")
        return V.Conv2d(net.in_channels, net.out_channels, tuple(net.kernel_size), stride=tuple(net.stride),
                        padding=net.padding if isinstance(net.padding, str) else tuple(net.padding),
                        bias=net.bias is not None)
    if isinstance(net, nn.MaxPool2d):
        return V.MaxPool2d(net.kernel_size, net.stride, net.padding)
    if isinstance(net, nn.AvgPool2d):
        return V.AvgPool2d(net.kernel_size, net.stride, net.padding)
    if isinstance(net, nn.Flatten):
        return V.Flatten(net.start_dim)
    if isinstance(net, (nn.BatchNorm1d, nn.BatchNorm2d)):
        kind = N.BatchNorm2d if isinstance(net, nn.BatchNorm2d) else N.BatchNorm1d
        return kind(net.num_features, eps=net.eps, momentum=net.momentum, affine=net.affine)
    if isinstance(net, nn.Dropout):
        return D.Dropout(net.p)
    if isinstance(net, nn.LogSoftmax):
        return A.LogSoftmax(net.dim)
    if isinstance(net, nn.Softmax):
        return A.Softmax(net.dim)
    if isinstance(net, nn.LeakyReLU):
        return A.LeakyReLU(net.negative_slope)
    simple = {nn.Sigmoid: A.Sigmoid, nn.Tanh: A.Tanh, nn.ReLU: A.ReLU, nn.Identity: A.Identity}
    if type(net) in simple:
        return simple[type(net)]()
    if isinstance(net, (nn.RNN, nn.LSTM, nn.GRU)):
        if net.bidirectional or getattr(net, "proj_size", 0):
            raise ExportError(f"layer {path!r}: a bidirectional or projected {type(net).__name__} has no thetas "
                              "translation")
        kind = {nn.RNN: R.RNN, nn.LSTM: R.LSTM, nn.GRU: R.GRU}[type(net)]
        kw = dict(num_layers=net.num_layers, bias=net.bias, batch_first=net.batch_first, dropout=net.dropout)
        if isinstance(net, nn.RNN):
            kw["nonlinearity"] = net.nonlinearity
        return kind(net.input_size, net.hidden_size, **kw)
    if isinstance(net, (nn.RNNCell, nn.LSTMCell, nn.GRUCell)):
        kind = {nn.RNNCell: R.RNNCell, nn.LSTMCell: R.LSTMCell, nn.GRUCell: R.GRUCell}[type(net)]
        kw = {"nonlinearity": net.nonlinearity} if isinstance(net, nn.RNNCell) else {}
        return kind(net.input_size, net.hidden_size, bias=net.bias, **kw)
    if isinstance(net, nn.Sequential):
        return C.Sequential(*[_from(c, f"{path}.{k}" if path else k, torch) for k, c in net.named_children()])
    if isinstance(net, nn.ModuleList):
        return C.ModuleList([_from(c, f"{path}.{k}" if path else k, torch) for k, c in net.named_children()])
    raise ExportError(f"layer {path or '(the model)'!r} is a torch {type(net).__name__}, which has no thetas "
                      "translation")


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
