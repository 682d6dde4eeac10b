"""thetas -> ONNX, built node by node with the ``onnx`` package's helpers (torch is not needed): a graph that
computes what the model computes in evaluation mode, with a dynamic batch axis, checked by
``onnx.checker.check_model(full_check=True)``. ``pip install onnx`` (and ``onnxruntime`` to run it).

Recurrent layers become ONNX's RNN / GRU / LSTM operators, one per layer. Their gates are ordered differently:
thetas (as PyTorch) stacks an LSTM's as (i, f, g, o) and a GRU's as (r, z, n), ONNX as (i, o, f, c) and (z, r, h),
so the weight blocks are permuted; the two biases b_ih, b_hh are concatenated into ONNX's one B; a GRU uses
``linear_before_reset=1``, which is PyTorch's (and thetas') n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).
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
from .torch import ExportError

OPSET = 17
_GATES = {R.LSTM: [0, 3, 1, 2], R.GRU: [1, 0, 2], R.RNN: [0],     # thetas' gate blocks in ONNX's order
          R.LSTMCell: [0, 3, 1, 2], R.GRUCell: [1, 0, 2], R.RNNCell: [0]}
_OPS = {R.LSTM: "LSTM", R.GRU: "GRU", R.RNN: "RNN", R.LSTMCell: "LSTM", R.GRUCell: "GRU", R.RNNCell: "RNN"}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("thetas.export.to_onnx needs the onnx package: pip install \"thetas[export]\"") from None
    return onnx


class _Graph:
    """The nodes and initializers being written; ``name(stem)`` gives a fresh tensor name."""

    def __init__(self, onnx, dtype):
        self.onnx, self.h = onnx, onnx.helper
        self.dtype = np.dtype(dtype)
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, stem):
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, value, stem="const", dtype=None):
        arr = np.asarray(value, dtype or self.dtype)
        n = self.name(stem)
        self.inits.append(self.onnx.numpy_helper.from_array(arr, n))
        return n

    def op(self, kind, inputs, stem=None, outputs=1, **attrs):
        names = [self.name(stem or kind.lower()) for _ in range(outputs)]
        self.nodes.append(self.h.make_node(kind, list(inputs), names, **attrs))
        return names[0] if outputs == 1 else names


def _linear(g, m, x):
    y = g.op("MatMul", [x, g.const(m.weight.data.T, "weight")])
    return g.op("Add", [y, g.const(m.bias.data, "bias")]) if m.bias is not None else y


def _conv_pads(m):
    if m.padding == "valid":
        return [0, 0, 0, 0]
    if m.padding == "same":
        kh, kw = m.kernel_size
        return [(kh - 1) // 2, (kw - 1) // 2, kh - 1 - (kh - 1) // 2, kw - 1 - (kw - 1) // 2]
    ph, pw = m.padding
    return [ph, pw, ph, pw]


def _operator(g, kind, h, order, y, weights, nonlinearity):
    """One ONNX RNN / GRU / LSTM operator over y (T, B, D) with thetas' (w_ih, w_hh, b_ih, b_hh), its gate blocks
    permuted to ONNX's order; returns its outputs (Y, Y_h[, Y_c])."""
    w_ih, w_hh, b_ih, b_hh = weights

    def blocks(a):
        return np.concatenate([a[i * h:(i + 1) * h] for i in order])
    inputs = [y, g.const(blocks(w_ih)[None], "W"), g.const(blocks(w_hh)[None], "R")]
    if b_ih is not None:
        inputs.append(g.const(np.concatenate([blocks(b_ih), blocks(b_hh)])[None], "B"))
    attrs = {"hidden_size": h}
    if _OPS[kind] == "GRU":
        attrs["linear_before_reset"] = 1
    if _OPS[kind] == "RNN":
        attrs["activations"] = ["Relu" if nonlinearity == "relu" else "Tanh"]
    return g.op(_OPS[kind], inputs, outputs=3 if _OPS[kind] == "LSTM" else 2, **attrs)


def _cell(g, m, x):
    """One step of an RNNCell / GRUCell / LSTMCell from the zero state: a one-step sequence through the operator.
    Returns (h', [c'] for an LSTMCell)."""
    kind = type(m)
    weights = (m.weight_ih.data, m.weight_hh.data, None if m.bias_ih is None else m.bias_ih.data,
               None if m.bias_hh is None else m.bias_hh.data)
    y = g.op("Unsqueeze", [x, g.const([0], dtype=np.int64)])                    # (B, D) -> (1, B, D)
    outs = _operator(g, kind, m.hidden_size, _GATES[kind], y, weights, getattr(m, "nonlinearity", "tanh"))
    squeeze = g.const([0], dtype=np.int64)
    states = [g.op("Squeeze", [o, squeeze]) for o in outs[1:]]                  # (1, B, H) -> (B, H)
    return states[0], states[1:]


def _recurrent(g, m, x, rank):
    """A (batch_first) RNN / GRU / LSTM over x (B, T, D): one ONNX operator per layer, time first inside.
    Returns (the output (B, T, H), [the final states (layers, B, H), ...])."""
    kind = type(m)
    h = m.hidden_size
    order = _GATES[kind]
    y = g.op("Transpose", [x], perm=[1, 0, 2]) if m.batch_first else x
    finals = [[], []]
    for layer in range(m.num_layers):
        weights = tuple(None if t is None else t.data for t in m._weights(layer))
        outs = _operator(g, kind, h, order, y, weights, getattr(m, "nonlinearity", "tanh"))
        y = g.op("Squeeze", [outs[0], g.const([1], dtype=np.int64)])             # (T, 1, B, H) -> (T, B, H)
        finals[0].append(outs[1])
        if kind is R.LSTM:
            finals[1].append(outs[2])
    out = g.op("Transpose", [y], perm=[1, 0, 2]) if m.batch_first else y
    states = [g.op("Concat", f, axis=0) if len(f) > 1 else f[0] for f in finals if f]
    return out, states


def _emit(g, m, x, rank, path):
    """Nodes for module ``m`` applied to tensor ``x`` of ``rank`` axes; returns (output name, its rank, extra
    outputs)."""
    if isinstance(m, L.Linear):
        return _linear(g, m, x), rank, []
    if isinstance(m, V.Conv2d):
        inputs = [x, g.const(m.weight.data, "weight")] + ([g.const(m.bias.data, "bias")] if m.bias is not None else [])
        return g.op("Conv", inputs, kernel_shape=list(m.kernel_size), strides=list(m.stride),
                    pads=_conv_pads(m)), rank, []
    if isinstance(m, V._Pool2d):
        ph, pw = m.padding
        attrs = dict(kernel_shape=list(m.kernel_size), strides=list(m.stride), pads=[ph, pw, ph, pw])
        if isinstance(m, V.AvgPool2d):
            return g.op("AveragePool", [x], count_include_pad=1, **attrs), rank, []
        return g.op("MaxPool", [x], **attrs), rank, []
    if isinstance(m, V.Flatten):
        return g.op("Reshape", [x, g.const([0] * m.start_dim + [-1], dtype=np.int64)]), m.start_dim + 1, []
    if isinstance(m, N._BatchNorm):
        c = m.num_features
        scale = m.weight.data if m.affine else np.ones(c, g.dtype)
        bias = m.bias.data if m.affine else np.zeros(c, g.dtype)
        inputs = [x] + [g.const(v, s) for v, s in ((scale, "scale"), (bias, "bias"), (m.running_mean.data, "mean"),
                                                    (m.running_var.data, "var"))]
        return g.op("BatchNormalization", inputs, epsilon=m.eps), rank, []
    if isinstance(m, (D.Dropout, A.Identity)):
        return g.op("Identity", [x]), rank, []
    if isinstance(m, A.LogSoftmax):
        return g.op("LogSoftmax", [x], axis=m.dim), rank, []
    if isinstance(m, A.Softmax):
        return g.op("Softmax", [x], axis=m.dim), rank, []
    if isinstance(m, A.LeakyReLU):
        return g.op("LeakyRelu", [x], alpha=m.negative_slope), rank, []
    simple = {A.Sigmoid: "Sigmoid", A.Tanh: "Tanh", A.ReLU: "Relu"}
    if type(m) in simple:
        return g.op(simple[type(m)], [x]), rank, []
    if isinstance(m, P.Standardize):
        return g.op("Div", [g.op("Sub", [x, g.const(m.mean.data, "mean")]), g.const(m.std.data, "std")]), rank, []
    if isinstance(m, P.L2Normalize):
        axes = g.const(list(range(1, rank)), dtype=np.int64)
        sq = g.op("ReduceSum", [g.op("Mul", [x, x]), axes], keepdims=1)
        length = g.op("Sqrt", [g.op("Add", [sq, g.const(m.eps ** 2)])])
        return g.op("Mul", [g.op("Div", [x, length]), g.const(m.scale)]), rank, []
    if isinstance(m, R._Cell):
        if rank != 2:
            raise ExportError(f"layer {path or '(the model)'!r}: a {type(m).__name__} takes (batch, features)")
        h, extra = _cell(g, m, x)
        return h, 2, extra
    if isinstance(m, R._Recurrent):
        if rank != 3:
            raise ExportError(f"layer {path or '(the model)'!r}: a {type(m).__name__} takes (batch, time, "
                              "features) here; one-hot indices are exported inside a DKT only")
        out, states = _recurrent(g, m, x, rank)
        return out, 3, states
    name = type(m).__name__
    if name == "LeNet":
        if rank == 2:
            x = g.op("Reshape", [x, g.const([-1, m.in_channels, m.image_size, m.image_size], dtype=np.int64)])
            rank = 4
        return _chain(g, m, x, rank, path)
    if name == "LogisticRegression":
        z, rank, _ = _emit(g, m.linear, x, rank, _join(path, "linear"))
        if m.num_classes == 2:
            return g.op("Squeeze", [z, g.const([-1], dtype=np.int64)]), rank - 1, []
        return z, rank, []
    if name == "Autoencoder":
        h, rank, _ = _emit(g, m.encoder, x, rank, _join(path, "encoder"))
        if m.k is not None and m.k < m.hidden:      # keep the k largest of each row: h ≥ its k-th largest
            values, _ = g.op("TopK", [h, g.const([m.k], dtype=np.int64)], outputs=2, axis=1)
            kth = g.op("Gather", [values, g.const([m.k - 1], dtype=np.int64)], axis=1)
            keep = g.op("Cast", [g.op("GreaterOrEqual", [h, kth])], to=_onnx_type(g))
            h = g.op("Mul", [h, keep])
        return _emit(g, m.decoder, h, rank, _join(path, "decoder"))
    if name == "DKT":
        return _dkt(g, m, x, path)
    if isinstance(m, C.Sequential):
        return _chain(g, m, x, rank, path)
    raise ExportError(f"layer {path or '(the model)'!r} is a {name}, which has no ONNX translation in "
                      "thetas.export")


def _join(path, name):
    return f"{path}.{name}" if path else name


def _chain(g, m, x, rank, path):
    extra = []
    for k, child in m.named_children():
        x, rank, extra = _emit(g, child, x, rank, _join(path, k))
    return x, rank, extra


def _onnx_type(g):
    return g.onnx.helper.np_dtype_to_tensor_dtype(g.dtype)


def _dkt(g, m, x, path):
    """DKT on x (B, T, 2) int64: index = q + M·a where q ≥ 0, else padding; its one-hot (zeros for padding) or its
    row of the fixed projection (the zero row for padding); the recurrent layer; the output layer."""
    M = m.num_questions
    q = g.op("Gather", [x, g.const(0, dtype=np.int64)], axis=2)
    a = g.op("Gather", [x, g.const(1, dtype=np.int64)], axis=2)
    valid = g.op("GreaterOrEqual", [q, g.const(0, dtype=np.int64)])
    index = g.op("Add", [q, g.op("Mul", [a, g.const(M, dtype=np.int64)])])
    if m.projection is not None:
        rows = g.op("Where", [valid, index, g.const(2 * M, dtype=np.int64)])     # row 2M: zeros, "no input"
        inputs = g.op("Gather", [g.const(m.projection.data, "projection"), rows], axis=0)
    else:
        safe = g.op("Where", [valid, index, g.const(0, dtype=np.int64)])
        hot = g.op("OneHot", [safe, g.const(2 * M, dtype=np.int64), g.const([0, 1])], axis=-1)
        mask = g.op("Unsqueeze", [g.op("Cast", [valid], to=_onnx_type(g)), g.const([-1], dtype=np.int64)])
        inputs = g.op("Mul", [hot, mask])
    h, _, _ = _emit(g, m.rnn, inputs, 3, _join(path, "rnn"))
    return _linear(g, m.out, h), 3, []


def to_onnx(model, path, example_input, opset=OPSET):
    """Write ``model`` (in evaluation mode) to ``path`` as ONNX; ``example_input`` (a NumPy array, one batch) gives
    the input's dtype and shape, the first axis left dynamic ("batch"; for a DKT or a batch-first recurrent layer
    the second too, "time"). The graph is checked with
    ``onnx.checker.check_model(full_check=True)`` before it is written (atomically). Its input is named "input",
    its output "output" (a bare RNN / GRU / LSTM adds "h_n", and "c_n"; an LSTMCell's "output" is h' and it adds
    c' as "h_n"). A cell runs one step from the zero state, as ``cell(x)`` does.

    Returns the path. Raises ExportError naming the path and type of a layer with no translation; ImportError
    without the onnx package.
    """
    onnx = _onnx()
    from ..io import _write_atomic
    x = np.asarray(example_input)
    if x.ndim < 1:
        raise ValueError(f"example_input must be a batch (N, ...), got shape {x.shape}")
    dtype = next((p.data.dtype for p in model.parameters()), None)
    if dtype is None:
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
    g = _Graph(onnx, dtype)
    in_type = onnx.helper.np_dtype_to_tensor_dtype(x.dtype if x.dtype.kind in "iu" else np.dtype(dtype))
    sequences = type(model).__name__ == "DKT" or isinstance(model, R._Recurrent) and model.batch_first
    dims = ["batch", "time", *x.shape[2:]] if sequences and x.ndim >= 2 else ["batch", *x.shape[1:]]
    inputs = [onnx.helper.make_tensor_value_info("input", in_type, dims)]
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        out, rank, extra = _emit(g, model, "input", x.ndim, "")
        names = ["output", "h_n", "c_n"][:1 + len(extra)]
        for name, src in zip(names, [out, *extra]):
            g.nodes.append(onnx.helper.make_node("Identity", [src], [name]))
        with _no_grad():
            ref = model(_tensor(x, dtype))
        refs = [t for t in (ref if isinstance(ref, tuple) else (ref,)) for t in (t if isinstance(t, tuple) else (t,))]
    finally:
        for m, mode in modes:
            m.training = mode
    out_type = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    outputs = [onnx.helper.make_tensor_value_info(n, out_type, [("batch" if i == 0 else None) for i in range(
        r.ndim)] if n == "output" else [None] * r.ndim) for n, r in zip(names, refs)]
    graph = onnx.helper.make_graph(g.nodes, f"thetas_{type(model).__name__}", inputs, outputs, g.inits)
    proto = onnx.helper.make_model(graph, producer_name="thetas", opset_imports=[onnx.helper.make_opsetid("", opset)])
    proto.ir_version = min(proto.ir_version, 10)            # what current onnxruntime releases read
    onnx.checker.check_model(proto, full_check=True)
    _write_atomic(str(path), [proto.SerializeToString()])
    return str(path)


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()


def _tensor(x, dtype):
    from ..tensor import Tensor
    return Tensor(x if x.dtype.kind in "iu" else x.astype(dtype))
