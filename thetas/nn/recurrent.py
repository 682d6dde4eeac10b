"""Recurrent layers: a network with a memory, read one step of a sequence at a time.

The cells (``RNNCell``, ``LSTMCell``, ``GRUCell``) are one step, written with primitive ops so they read like the
papers; the layers (``RNN``, ``LSTM``, ``GRU``) run a whole sequence through the fused ops of
``thetas.autograd.recurrent`` (the same equations, backpropagation through time written out once). Names, shapes,
gate order and parameter names are PyTorch's (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``),
so a PyTorch state dict loads as it is; unlike PyTorch, ``batch_first=True`` is the default.
"""
import math

import numpy as np

from ..autograd import ops
from ..autograd import recurrent as fused
from ..tensor import Tensor, as_generator, get_default_dtype
from . import init
from .dropout import dropout
from .linear import as_input
from .module import Module, Parameter

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _uniform(shape, bound, rng, dtype):
    return init.uniform_(Parameter(np.empty(shape, dtype)), -bound, bound, rng)


# ---------------------------------------------------------------------- cells: one step, from primitive ops
class _Cell(Module):
    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, generator=None, dtype=None):
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        rng, dtype = as_generator(generator), dtype or get_default_dtype()
        k = 1.0 / math.sqrt(self.hidden_size)                     # PyTorch's init: U(−1/√H, 1/√H) for all
        g = self._gates * self.hidden_size
        self.weight_ih = _uniform((g, self.input_size), k, rng, dtype)
        self.weight_hh = _uniform((g, self.hidden_size), k, rng, dtype)
        self.bias_ih = _uniform((g,), k, rng, dtype) if bias else None
        self.bias_hh = _uniform((g,), k, rng, dtype) if bias else None

    def _affine(self, x, h):
        """x W_ihᵀ + b_ih + h W_hhᵀ + b_hh"""
        return ops.add(ops.linear(x, self.weight_ih, self.bias_ih), ops.linear(h, self.weight_hh, self.bias_hh))

    def _zeros(self, x):
        return Tensor(np.zeros((x.shape[0], self.hidden_size), self.weight_ih.dtype))

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias_ih is not None else ", bias=False")


class RNNCell(_Cell):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)  (or relu): the Elman network's step. (B, D), (B, H) -> (B, H)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", generator=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, generator, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, x, h=None):
        x = as_input(x, self.weight_ih)
        h = self._zeros(x) if h is None else h
        a = self._affine(x, h)
        return ops.tanh(a) if self.nonlinearity == "tanh" else ops.relu(a)


class LSTMCell(_Cell):
    """One LSTM step (Hochreiter & Schmidhuber 1997), gates in PyTorch's order i, f, g, o:

        i = σ(·), f = σ(·), g = tanh(·), o = σ(·)   of   x W_ihᵀ + b_ih + h W_hhᵀ + b_hh
        c' = f * c + i * g        (forget part of the memory, write part of the new candidate)
        h' = o * tanh(c')         (let part of the memory out)

    forward(x, (h, c)) -> (h', c'); shapes (B, D), (B, H) -> (B, H), (B, H).
    """
    _gates = 4

    def forward(self, x, state=None):
        x = as_input(x, self.weight_ih)
        h, c = (self._zeros(x), self._zeros(x)) if state is None else state
        a = self._affine(x, h)
        H = self.hidden_size
        i, f, g, o = (a[:, k * H:(k + 1) * H] for k in range(4))
        i, f, g, o = ops.sigmoid(i), ops.sigmoid(f), ops.tanh(g), ops.sigmoid(o)
        c = f * c + i * g
        h = o * ops.tanh(c)
        return h, c


class GRUCell(_Cell):
    """One GRU step (Cho et al. 2014), gates in PyTorch's order r, z, n:

        r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr)        (how much of the past to read)
        z = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)        (how much of the past to keep)
        n = tanh(x W_inᵀ + b_in + r * (h W_hnᵀ + b_hn))
        h' = (1 − z) * n + z * h

    (B, D), (B, H) -> (B, H).
    """
    _gates = 3

    def forward(self, x, h=None):
        x = as_input(x, self.weight_ih)
        h = self._zeros(x) if h is None else h
        gi, gh = ops.linear(x, self.weight_ih, self.bias_ih), ops.linear(h, self.weight_hh, self.bias_hh)
        H = self.hidden_size
        r = ops.sigmoid(gi[:, :H] + gh[:, :H])
        z = ops.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = ops.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return (1.0 - z) * n + z * h


# ---------------------------------------------------------------------- layers: whole sequences, fused
class _Recurrent(Module):
    mode = "rnn"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=True, dropout=0.0,
                 generator=None, dtype=None):
        if not 0 <= dropout < 1:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1), got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        rng, dtype = as_generator(generator), dtype or get_default_dtype()
        self._rng = rng
        k = 1.0 / math.sqrt(self.hidden_size)
        g = _GATES[self.mode] * self.hidden_size
        for layer in range(self.num_layers):
            n_in = self.input_size if layer == 0 else self.hidden_size
            setattr(self, f"weight_ih_l{layer}", _uniform((g, n_in), k, rng, dtype))
            setattr(self, f"weight_hh_l{layer}", _uniform((g, self.hidden_size), k, rng, dtype))
            setattr(self, f"bias_ih_l{layer}", _uniform((g,), k, rng, dtype) if bias else None)
            setattr(self, f"bias_hh_l{layer}", _uniform((g,), k, rng, dtype) if bias else None)

    def _weights(self, layer):
        return tuple(getattr(self, f"{n}_l{layer}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _inputs(self, x, mask, lengths):
        raw = x.data if isinstance(x, Tensor) else np.asarray(x)
        if raw.dtype.kind in "iu" and raw.ndim == 2:              # one-hot inputs given as their indices
            x = Tensor(raw if self.batch_first else raw.T)
            b, t = x.shape
        else:
            x = as_input(x, self.weight_ih_l0)
            if x.ndim != 3:
                raise ValueError(f"{type(self).__name__} expects (batch, time, features) with batch_first=True, "
                                 f"(time, batch, features), or one-hot indices (batch, time); got shape "
                                 f"{tuple(x.shape)}")
            if not self.batch_first:
                x = ops.transpose(x, 0, 1)
            b, t, d = x.shape
            if d != self.input_size:
                raise ValueError(f"{self!r} got {d} features per step (input shape {tuple(x.shape)}), "
                                 f"expected input_size={self.input_size}")
        if lengths is not None:
            if mask is not None:
                raise ValueError(f"{type(self).__name__}: give mask or lengths, not both")
            lengths = np.asarray(lengths)
            if lengths.shape != (b,) or lengths.min(initial=1) < 1 or lengths.max(initial=0) > t:
                raise ValueError(f"{type(self).__name__}: lengths must be {b} numbers in 1..{t}, got {lengths}")
            mask = np.arange(t)[None, :] < lengths[:, None]
        if mask is not None:
            mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
            if mask.shape != (b, t):
                raise ValueError(f"{type(self).__name__}: mask must have shape ({b}, {t}), got {mask.shape}")
            mask = mask.astype(self.weight_ih_l0.dtype)
        return x, mask

    def _state(self, hx, layer):
        if hx is None:
            return None
        if hx.shape[0] != self.num_layers:
            raise ValueError(f"{type(self).__name__}: the initial state must have shape (num_layers={self.num_layers},"
                             f" batch, {self.hidden_size}), got {tuple(hx.shape)}")
        return hx[layer]

    def _output(self, states, mask):
        """The layer's output sequence: the states, zero at padded steps (as PyTorch's packed sequences)."""
        out = states if mask is None else ops.mul(states, mask[:, :, None])
        return out if self.batch_first else ops.transpose(out, 0, 1)

    def _between_layers(self, y, layer):
        if self.dropout and self.training and layer < self.num_layers - 1:
            return dropout(y, self.dropout, True, self._rng)
        return y

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s + ("" if self.batch_first else ", batch_first=False") + ("" if self.bias else ", bias=False")


class RNN(_Recurrent):
    """The Elman network over a sequence: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh) (or relu).

    forward(x, h0=None, mask=None, lengths=None) -> (output, h_n): x (B, T, D) (batch_first; else (T, B, D)),
    h0 and h_n (num_layers, B, H), output (B, T, H) the last layer's h_t. ``mask`` (B, T) or ``lengths`` (B,)
    mark padding: there the state is carried over and the output is 0, so h_n is each sequence's last real state.
    One-hot inputs may be given as integer indices x (B, T) (−1: no input); see ``thetas.autograd.recurrent``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=True,
                 dropout=0.0, generator=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, generator, dtype)

    def forward(self, x, h0=None, mask=None, lengths=None):
        y, mask = self._inputs(x, mask, lengths)
        finals = []
        for layer in range(self.num_layers):
            states = fused.rnn(y, self._state(h0, layer), *self._weights(layer), nonlinearity=self.nonlinearity,
                               mask=mask)
            finals.append(states[:, -1])
            y = self._between_layers(states, layer)
        return self._output(states, mask), ops.stack(finals)


class LSTM(_Recurrent):
    """The LSTM over a sequence (the cell equations of ``LSTMCell``: c_t = f * c_{t-1} + i * g, h_t = o * tanh c_t).

    forward(x, state=None, mask=None, lengths=None) -> (output, (h_n, c_n)): x (B, T, D) (batch_first), state
    (h0, c0) each (num_layers, B, H), output (B, T, H). ``mask``/``lengths``: as for ``RNN``.
    """
    mode = "lstm"

    def forward(self, x, state=None, mask=None, lengths=None):
        y, mask = self._inputs(x, mask, lengths)
        h0, c0 = (None, None) if state is None else state
        hs, cs = [], []
        t = y.shape[1]
        for layer in range(self.num_layers):
            packed = fused.lstm(y, self._state(h0, layer), self._state(c0, layer), *self._weights(layer), mask=mask)
            states = packed[:, :t]
            hs.append(packed[:, t - 1])
            cs.append(packed[:, t])
            y = self._between_layers(states, layer)
        return self._output(states, mask), (ops.stack(hs), ops.stack(cs))


class GRU(_Recurrent):
    """The GRU over a sequence (the equations of ``GRUCell``).

    forward(x, h0=None, mask=None, lengths=None) -> (output, h_n), shapes as ``RNN``.
    """
    mode = "gru"

    def forward(self, x, h0=None, mask=None, lengths=None):
        y, mask = self._inputs(x, mask, lengths)
        finals = []
        for layer in range(self.num_layers):
            states = fused.gru(y, self._state(h0, layer), *self._weights(layer), mask=mask)
            finals.append(states[:, -1])
            y = self._between_layers(states, layer)
        return self._output(states, mask), ops.stack(finals)
