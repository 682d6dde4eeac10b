"""The recurrent ops: a whole sequence through an RNN, LSTM or GRU layer as one op, forward (a loop over time)
beside its backward (backpropagation through time, the same loop run backwards).

Why fused: unrolled into primitive ops, a 100-step LSTM is ~1,500 graph nodes per layer, and their bookkeeping
costs more than the arithmetic at DKT's sizes. Here one op records the gate activations it needs, and its
backward is the chain rule written out once per cell (the cells in ``thetas.nn.recurrent`` compute the same
thing from primitive ops, and the tests check that both agree, with central differences and with PyTorch).

Shapes: x (B, T, D) batch first; h0, c0 (B, H); weights as PyTorch's ``nn.RNN/LSTM/GRU`` (gates stacked along
the rows: LSTM i, f, g, o; GRU r, z, n), so a PyTorch state dict loads as it is. Inside, time is the leading
axis: one matrix product computes the input part of every step, x·W_ihᵀ + b, and the loop adds h·W_hhᵀ.

``mask`` (B, T), 1 for a real step and 0 for padding: at a padded step the state is carried over unchanged
(h_t = h_{t-1}, c_t = c_{t-1}), so the last state is each sequence's state after its last real step.

One-hot inputs (Deep Knowledge Tracing's x_t = one-hot of (question, answer)) may be given as their indices:
x (B, T) integers in 0..D-1, or −1 for "no input" (a zero vector). Then x_t W_ihᵀ is column x_t of W_ih, a
gather instead of a matrix product, and dW_ih adds each step's gradient into one column: the same numbers,
without the D-times larger one-hot array and its two matrix products.
"""
import numpy as np

from ..tensor import make
from .ops import _sigmoid, _t

__all__ = ["rnn", "lstm", "gru"]


def _lstm_gates(a):
    """The LSTM's gates from its pre-activations a (B, 4H), as the textbook writes them:
    i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g)."""
    i, f, g, o = np.split(a, 4, axis=-1)
    return np.concatenate([_sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)], axis=-1)


def _lstm_gates_(a2):
    """The same gates, the fast form ``lstm`` runs: in place, one σ over all 4H columns, using
    tanh(a) = 2σ(2a) − 1. ``a2`` is a with its g block already doubled (``lstm`` doubles the g rows of the
    input part and of W_hh once, so no step has to)."""
    hs = a2.shape[-1] // 4
    _sigmoid(a2, out=a2)
    g = a2[..., 2 * hs:3 * hs]
    g *= 2
    g -= 1
    return a2


def _prepare(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, gates, what, mask):
    x = _t(x)
    X, Wih, Whh = x.data, weight_ih.data, weight_hh.data
    index = X.dtype.kind in "iu"
    if index:
        if X.ndim != 2:
            raise ValueError(f"{what}: integer (one-hot index) input must be (batch, time), got shape {X.shape}")
        bad = (X < -1) | (X >= Wih.shape[1])
        if bad.any():
            raise ValueError(f"{what}: one-hot index {X[bad][0]} is out of range for input_size {Wih.shape[1]} "
                             f"(indices must be in 0..{Wih.shape[1] - 1}, or -1 for no input)")
        b, t = X.shape
        d = Wih.shape[1]
    elif X.ndim != 3:
        raise ValueError(f"{what}: input must be (batch, time, features), got shape {X.shape}")
    else:
        b, t, d = X.shape
    h = Whh.shape[1]
    if Wih.shape != (gates * h, d):
        raise ValueError(f"{what}: input has {d} features (shape {X.shape}) but weight_ih has shape {Wih.shape}; "
                         f"expected ({gates * h}, {d})")
    if Whh.shape != (gates * h, h):
        raise ValueError(f"{what}: weight_hh must have shape ({gates * h}, {h}), got {Whh.shape}")
    if h0 is not None and tuple(h0.shape) != (b, h):
        raise ValueError(f"{what}: initial state must have shape ({b}, {h}), got {tuple(h0.shape)}")
    if t == 0:
        raise ValueError(f"{what}: the input has no time steps (shape {X.shape})")
    M = None
    if mask is not None:
        M = np.asarray(mask.data if hasattr(mask, "data") else mask)
        if M.shape != (b, t):
            raise ValueError(f"{what}: mask must have shape ({b}, {t}) to match the input {X.shape}, got {M.shape}")
        M = M.astype(Wih.dtype).T[:, :, None]                     # (T, B, 1)
    # the input part of every step at once: (T, B, G·H)
    if index:                                                     # row −1 of the table is the zero vector
        table = np.zeros((d + 1, Wih.shape[0]), Wih.dtype)
        table[:d] = Wih.T
        xp = table[X.T]
    else:
        xp = (X.reshape(b * t, d) @ Wih.T).reshape(b, t, -1).transpose(1, 0, 2).copy()
    if bias_ih is not None:
        xp += bias_ih.data
    if bias_hh is not None and gates != 3:                       # GRU keeps b_hn inside r ⊙ (W_hn h + b_hn)
        xp += bias_hh.data
    return x, X, xp, M, b, t, d, h


def _input_grads(x, X, dpre, weight_ih, bias_ih, b, t, d):
    """dx, dW_ih, db_ih from the gradient of the pre-activations dpre (T, B, G·H)."""
    if X.dtype.kind in "iu":                                      # one-hot indices: add rows into columns
        idx = X.T.reshape(-1)                                     # time-major, as dpre
        flat = dpre.reshape(t * b, -1)
        gw = None
        if weight_ih.requires_grad:
            order = np.argsort(idx, kind="stable")
            keys = idx[order]
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            sums = np.add.reduceat(flat[order], starts, axis=0)
            keep = keys[starts] >= 0
            gw = np.zeros(weight_ih.data.shape, dpre.dtype)
            gw[:, keys[starts][keep]] = sums[keep].T
        return None, gw, (flat.sum(axis=0) if bias_ih is not None else None)
    flat = dpre.transpose(1, 0, 2).reshape(b * t, -1)             # batch-first rows, as X is stored
    gx = (flat @ weight_ih.data).reshape(b, t, d) if x.requires_grad else None
    gw = flat.T @ X.reshape(b * t, d) if weight_ih.requires_grad else None
    gb = flat.sum(axis=0) if bias_ih is not None else None
    return gx, gw, gb


def _parents(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
    return tuple(p for p in (x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh) if p is not None)


def _grads(gx, gh0, gc0, gwih, gwhh, gbih, gbhh, h0, c0, bias_ih, bias_hh):
    """The gradients in the order of ``_parents``."""
    out = [gx]
    if h0 is not None:
        out.append(gh0)
    if c0 is not None:
        out.append(gc0)
    out += [gwih, gwhh]
    if bias_ih is not None:
        out.append(gbih)
    if bias_hh is not None:
        out.append(gbhh)
    return tuple(out)


# ---------------------------------------------------------------------- Elman RNN
def rnn(x, h0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh", mask=None):
    """h_t = f(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh),  f = tanh or relu.  Returns every h_t: (B, T, H).

    Backward, from t = T down to 1, with dh_t = g_t + (what step t+1 sent back):
      da_t = dh_t ⊙ f'(a_t)   (tanh: 1 − h_t²; relu: [h_t > 0]);  dh_{t-1} = da_t W_hh
      dW_hh = Σ_t da_tᵀ h_{t-1};  dW_ih = Σ_t da_tᵀ x_t;  db = Σ_t da_t;  dx_t = da_t W_ih
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    x, X, xp, M, b, t, d, hs = _prepare(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, 1, "rnn", mask)
    h0 = None if h0 is None else _t(h0)
    Whh = weight_hh.data
    states = np.empty((t + 1, b, hs), xp.dtype)                    # states[0] = h0, states[s] = h_s
    states[0] = 0 if h0 is None else h0.data
    for s in range(t):
        a = xp[s]
        a += states[s] @ Whh.T
        if nonlinearity == "tanh":
            np.tanh(a, out=a)
        else:
            np.maximum(a, 0, out=a)
        if M is not None:                                         # padding: keep the previous state
            a -= states[s]
            a *= M[s]
            a += states[s]
        states[s + 1] = a
    y = states[1:].transpose(1, 0, 2)

    def backward(g):
        gt = g.transpose(1, 0, 2)                                 # (T, B, H)
        dpre = np.empty_like(xp)
        dh = np.zeros((b, hs), xp.dtype)
        for s in range(t - 1, -1, -1):
            dh += gt[s]
            h = states[s + 1]
            da = dpre[s]
            if M is not None:
                np.multiply(dh, M[s], out=da)
                dh -= da                                          # padding passes dh straight to h_{t-1}
            else:
                da[...] = dh
            if nonlinearity == "tanh":
                da *= 1 - h * h
            else:
                da *= h > 0
            if M is not None:
                dh += da @ Whh
            else:
                np.matmul(da, Whh, out=dh)
        prev = states[:t].reshape(t * b, hs)
        flat_t = dpre.reshape(t * b, hs)
        gwhh = flat_t.T @ prev if weight_hh.requires_grad else None
        gx, gwih, gbih = _input_grads(x, X, dpre, weight_ih, bias_ih, b, t, d)
        gbhh = (gbih if gbih is not None else flat_t.sum(axis=0)) if bias_hh is not None else None
        return _grads(gx, dh, None, gwih, gwhh, gbih, gbhh, h0, None, bias_ih, bias_hh)
    return make(y, _parents(x, h0, None, weight_ih, weight_hh, bias_ih, bias_hh), backward)


# ---------------------------------------------------------------------- LSTM
def lstm(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, mask=None):
    """The LSTM of Hochreiter & Schmidhuber (1997), PyTorch's equations and gate order:

        i, f, g, o = σ(·), σ(·), tanh(·), σ(·) of  x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh   (4H columns)
        c_t = f ⊙ c_{t-1} + i ⊙ g          (forget some of the old memory, write some new)
        h_t = o ⊙ tanh(c_t)                (show some of it)

    Returns one array (B, T + 1, H): the hidden states h_1..h_T, then the last cell state c_T (so that both
    carry gradients; ``nn.LSTM`` splits it). Backward, from t = T down to 1, with dh_t = g_t + dh from t+1 and
    dc_t = dc from t+1 + dh_t ⊙ o ⊙ (1 − tanh²c_t):
        do = dh_t ⊙ tanh c_t;  di = dc_t ⊙ g;  dg = dc_t ⊙ i;  df = dc_t ⊙ c_{t-1};  dc_{t-1} = dc_t ⊙ f
        pre-activation gradients: di·i(1−i), df·f(1−f), dg·(1−g²), do·o(1−o);  dh_{t-1} = dpre W_hh
    and the weight gradients are one matrix product each over all steps.
    """
    x, X, xp, M, b, t, d, hs = _prepare(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, 4, "lstm", mask)
    h0 = None if h0 is None else _t(h0)
    c0 = None if c0 is None else _t(c0)
    if c0 is not None and tuple(c0.shape) != (b, hs):
        raise ValueError(f"lstm: initial cell state must have shape ({b}, {hs}), got {tuple(c0.shape)}")
    Whh = weight_hh.data
    H2, H3 = 2 * hs, 3 * hs
    xp[:, :, H2:H3] *= 2                                          # for _lstm_gates_: tanh(a) = 2σ(2a) − 1
    Whh2T = Whh.T.copy()
    Whh2T[:, H2:H3] *= 2
    acts = xp                                                     # (T, B, 4H): becomes i, f, g, o in place
    hstate = np.empty((t + 1, b, hs), xp.dtype)                    # hstate[s] = h_s
    cstate = np.empty((t + 1, b, hs), xp.dtype)
    tanh_c = np.empty((t, b, hs), xp.dtype)
    hstate[0] = 0 if h0 is None else h0.data
    cstate[0] = 0 if c0 is None else c0.data
    for s in range(t):
        a = acts[s]
        a += hstate[s] @ Whh2T
        _lstm_gates_(a)                                           # i, f, g, o
        g = a[:, H2:H3]
        c = cstate[s + 1]
        np.multiply(a[:, hs:H2], cstate[s], out=c)               # c = f ⊙ c_{t-1} + i ⊙ g
        c += a[:, :hs] * g
        if M is not None:
            c -= cstate[s]
            c *= M[s]
            c += cstate[s]
        tc = np.tanh(c, out=tanh_c[s])
        h = np.multiply(a[:, H3:], tc, out=hstate[s + 1])         # h = o ⊙ tanh(c)
        if M is not None:
            h -= hstate[s]
            h *= M[s]
            h += hstate[s]
    y = np.empty((b, t + 1, hs), xp.dtype)
    y[:, :t] = hstate[1:].transpose(1, 0, 2)
    y[:, t] = cstate[t]

    def backward(gy):
        gh_all = gy[:, :t].transpose(1, 0, 2)                     # (T, B, H)
        dh = np.zeros((b, hs), xp.dtype)
        dc = np.array(gy[:, t], xp.dtype)
        dpre = np.empty_like(acts)
        tmp = np.empty((b, hs), xp.dtype)
        # the nonlinearities' derivatives for every step at once: σ' = s(1 − s) for i, f, o; tanh' = 1 − g²
        deriv = 1 - acts
        deriv *= acts
        np.square(acts[:, :, H2:H3], out=deriv[:, :, H2:H3])
        np.subtract(1, deriv[:, :, H2:H3], out=deriv[:, :, H2:H3])
        dtanh_c = np.square(tanh_c)
        np.subtract(1, dtanh_c, out=dtanh_c)                      # 1 − tanh²c
        for s in range(t - 1, -1, -1):
            dh += gh_all[s]
            a = acts[s]
            i, f, g, o = a[:, :hs], a[:, hs:H2], a[:, H2:H3], a[:, H3:]
            da = dpre[s]
            if M is not None:                                     # padding: dh, dc go straight to step t-1
                m = M[s]
                dh_real, dc_real = dh * m, dc * m
                dh -= dh_real
                dc -= dc_real
            else:
                dh_real, dc_real = dh, dc
            np.multiply(dh_real, tanh_c[s], out=da[:, H3:])       # do
            np.multiply(dh_real, o, out=tmp)                      # dc += dh ⊙ o ⊙ (1 − tanh²c)
            tmp *= dtanh_c[s]
            dc_real += tmp
            np.multiply(dc_real, g, out=da[:, :hs])               # di
            np.multiply(dc_real, cstate[s], out=da[:, hs:H2])     # df
            np.multiply(dc_real, i, out=da[:, H2:H3])             # dg
            if M is not None:
                dc += dc_real * f
            else:
                dc *= f
            da *= deriv[s]                                        # through σ and tanh
            if M is not None:
                dh += da @ Whh
            else:
                np.matmul(da, Whh, out=dh)
        flat = dpre.reshape(t * b, 4 * hs)
        gwhh = flat.T @ hstate[:t].reshape(t * b, hs) if weight_hh.requires_grad else None
        gx, gwih, gbih = _input_grads(x, X, dpre, weight_ih, bias_ih, b, t, d)
        gbhh = (gbih if gbih is not None else flat.sum(axis=0)) if bias_hh is not None else None
        return _grads(gx, dh, dc, gwih, gwhh, gbih, gbhh, h0, c0, bias_ih, bias_hh)
    return make(y, _parents(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh), backward)


# ---------------------------------------------------------------------- GRU
def gru(x, h0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, mask=None):
    """The GRU of Cho et al. (2014), PyTorch's equations and gate order (r, z, n):

        r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr);  z = σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)
        n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn));  h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}

    Returns every h_t: (B, T, H). Backward, with dh_t = g_t + dh from t+1 and u = h W_hnᵀ + b_hn:
        dn = dh(1 − z);  dz = dh(h_{t-1} − n);  dan = dn(1 − n²);  dr = dan ⊙ u
        pre-activation gradients of r, z: dr·r(1−r), dz·z(1−z);  of u: dan ⊙ r
        dh_{t-1} = dh ⊙ z + [dar, daz, dan ⊙ r] W_hh
    """
    x, X, xp, M, b, t, d, hs = _prepare(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, 3, "gru", mask)
    h0 = None if h0 is None else _t(h0)
    Whh = weight_hh.data
    bhh = None if bias_hh is None else bias_hh.data
    H2 = 2 * hs
    hstate = np.empty((t + 1, b, hs), xp.dtype)
    hstate[0] = 0 if h0 is None else h0.data
    gates = np.empty((t, b, 3 * hs), xp.dtype)                    # r, z, n
    hn = np.empty((t, b, hs), xp.dtype)                            # u = h W_hnᵀ + b_hn
    for s in range(t):
        hp = hstate[s]
        pre = hp @ Whh.T
        if bhh is not None:
            pre += bhh
        a = gates[s]
        np.add(xp[s, :, :H2], pre[:, :H2], out=a[:, :H2])
        _sigmoid(a[:, :H2], out=a[:, :H2])
        hn[s] = pre[:, H2:]
        n = a[:, H2:]
        np.multiply(a[:, :hs], hn[s], out=n)
        n += xp[s, :, H2:]
        np.tanh(n, out=n)
        h = hstate[s + 1]
        z = a[:, hs:H2]
        np.subtract(hp, n, out=h)                                 # h = n + z ⊙ (h_{t-1} − n)
        h *= z
        h += n
        if M is not None:
            h -= hp
            h *= M[s]
            h += hp
    y = hstate[1:].transpose(1, 0, 2)

    def backward(g):
        gt = g.transpose(1, 0, 2)
        dh = np.zeros((b, hs), xp.dtype)
        dx_pre = np.empty_like(xp)                                # gradients of the input pre-activations
        dh_pre = np.empty((t, b, 3 * hs), xp.dtype)                # ... and of h W_hhᵀ + b_hh
        for s in range(t - 1, -1, -1):
            dh += gt[s]
            if M is not None:
                dh_real = dh * M[s]
                dh -= dh_real
            else:
                dh_real = dh
            a = gates[s]
            r, z, n = a[:, :hs], a[:, hs:H2], a[:, H2:]
            hp = hstate[s]
            dxp, dhp = dx_pre[s], dh_pre[s]
            dan = dxp[:, H2:]
            np.multiply(dh_real, 1 - z, out=dan)                  # dn
            dan *= 1 - n * n                                      # through tanh
            np.multiply(dan, r, out=dhp[:, H2:])                  # du
            dar = dxp[:, :hs]
            np.multiply(dan, hn[s], out=dar)                      # dr
            dar *= r * (1 - r)
            daz = dxp[:, hs:H2]
            np.multiply(dh_real, hp - n, out=daz)                 # dz
            daz *= z * (1 - z)
            dhp[:, :H2] = dxp[:, :H2]
            carry = dh_real * z
            if M is not None:
                dh += carry
                dh += dhp @ Whh
            else:
                np.matmul(dhp, Whh, out=dh)
                dh += carry
        flat_h = dh_pre.reshape(t * b, 3 * hs)
        gwhh = flat_h.T @ hstate[:t].reshape(t * b, hs) if weight_hh.requires_grad else None
        gx, gwih, gbih = _input_grads(x, X, dx_pre, weight_ih, bias_ih, b, t, d)
        gbhh = flat_h.sum(axis=0) if bias_hh is not None else None
        return _grads(gx, dh, None, gwih, gwhh, gbih, gbhh, h0, None, bias_ih, bias_hh)
    return make(y, _parents(x, h0, None, weight_ih, weight_hh, bias_ih, bias_hh), backward)
