"""The vision ops: convolution (shared weights) and pooling (downsampling), each forward beside its derivative,
like ``ops.py``. (Batch normalisation, which also serves dense layers, is in ``normalization.py``.)

Tensors are NCHW (batch, channels, height, width), as in PyTorch. Inside, these ops *store* their outputs
as (C, H, W, N) in memory, the batch innermost, and hand them out as NCHW views (a transpose, no copy). Why:
a window slice ``a[:, u:u+H_out, v:v+W_out]`` is then made of runs of W_out·N contiguous floats, so im2col,
col2im and pooling move long runs instead of rows of a few pixels (3-4x faster for LeNet's layers); the
matrix product ``W @ cols`` lands directly in (C_out, H, W, N) order; and elementwise ops and their gradients
keep that memory order (NumPy's ``order='K'``). Nothing here loops over pixels, images or channels; the loops
run over the k_h·k_w kernel offsets only (each one a whole-array slice copy or add).
"""
import numpy as np

from ..tensor import make
from .normalization import batch_norm  # noqa: F401  (its old place: ``thetas.autograd.conv.batch_norm``)
from .ops import _t

__all__ = ["conv2d", "max_pool2d", "avg_pool2d"]


def _pair(v, name):
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    v = tuple(int(a) for a in v)
    if len(v) != 2:
        raise ValueError(f"{name} must be an int or a pair (h, w), got {v}")
    return v


def _out_size(size, k, s, p, what):
    n = (size + 2 * p - k) // s + 1
    if n < 1:
        raise ValueError(f"{what}: kernel {k} with padding {p} does not fit an input of size {size}")
    return n


def _windows(a, i, j, sh, sw, ho, wo):
    """The (C, ho, wo, N) slice of a (C, H, W, N) array that kernel offset (i, j) sees at every output position."""
    return a[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]


def _nchw(a):
    """A (C, H, W, N) array as an NCHW view."""
    return a.transpose(3, 0, 1, 2)


def _chwn(X):
    """An NCHW array as a (C, H, W, N) view (contiguous when it came from ``_nchw``)."""
    return X.transpose(1, 2, 3, 0)


def _padded_chwn(X, ph, pw, fill=0.0):
    """X (N, C, H, W) as a (C, H + 2ph, W + 2pw, N) array: a view when there is no padding."""
    xc = _chwn(X)
    if not (ph or pw):
        return xc
    c, h, w, n = xc.shape
    xp = np.full((c, h + 2 * ph, w + 2 * pw, n), fill, X.dtype)
    xp[:, ph:ph + h, pw:pw + w] = xc
    return xp


def _check_4d(X, what):
    if X.ndim != 4:
        raise ValueError(f"{what} expects an input of shape (N, C, H, W), got shape {X.shape}"
                         + (" (add a channel axis: x.reshape(N, 1, H, W))" if X.ndim == 3 else ""))


# ---------------------------------------------------------------------- convolution
def conv2d(x, weight, bias=None, stride=1, padding=0):
    """y[n, f, i, j] = b[f] + Σ_{c, u, v} W[f, c, u, v] · x[n, c, s·i + u, s·j + v]   (cross-correlation, as
    PyTorch; x zero-padded by ``padding``)

    The same kernel W[f] is used at every position (i, j): a conv layer is a dense layer whose weights are
    shared across the image. As matrices (im2col): cols[(c,u,v), (n,i,j)] = x[n, c, s·i + u, s·j + v],
    y = W₂ @ cols with W₂ = W.reshape(F, C·k_h·k_w), so
      dW = g₂ @ colsᵀ;  db = Σ_{n,i,j} g;  dcols = W₂ᵀ @ g₂, added back to the pixel each column came from (col2im).

    x: (N, C, H, W), weight: (F, C, k_h, k_w), bias: (F,) or None; stride, padding: int or (h, w), or
    padding='same' (stride 1) / 'valid'. Returns (N, F, H_out, W_out), H_out = (H + 2p - k_h) // s + 1.
    """
    x = _t(x)
    X, W = x.data, weight.data
    _check_4d(X, "conv2d")
    if W.ndim != 4:
        raise ValueError(f"conv2d: weight must have shape (out_channels, in_channels, kh, kw), got {W.shape}")
    n, c, h, w = X.shape
    f, wc, kh, kw = W.shape
    if c != wc:
        raise ValueError(f"conv2d: input has {c} channels (shape {X.shape}) but the weight expects {wc} "
                         f"(weight shape {W.shape})")
    sh, sw = _pair(stride, "conv2d stride")
    if isinstance(padding, str):
        if padding == "valid":
            ph = pw = 0
        elif padding == "same" and (sh, sw) == (1, 1):
            ph, pw = (kh - 1) // 2, (kw - 1) // 2
            if kh % 2 == 0 or kw % 2 == 0:
                raise ValueError(f"conv2d: padding='same' needs odd kernel sizes here, got {(kh, kw)}")
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same' (stride 1), got {padding!r}")
    else:
        ph, pw = _pair(padding, "conv2d padding")
    ho, wo = _out_size(h, kh, sh, ph, "conv2d"), _out_size(w, kw, sw, pw, "conv2d")

    xp = _padded_chwn(X, ph, pw)                                  # (C, Hp, Wp, N)
    cols = np.empty((c, kh, kw, ho, wo, n), X.dtype)
    for u in range(kh):
        for v in range(kw):
            cols[:, u, v] = _windows(xp, u, v, sh, sw, ho, wo)
    cols = cols.reshape(c * kh * kw, ho * wo * n)
    W2 = W.reshape(f, -1)
    y = W2 @ cols                                                 # (F, Ho·Wo·N): already (C, H, W, N)
    if bias is not None:
        y += bias.data[:, None]
    y = _nchw(y.reshape(f, ho, wo, n))

    def backward(g):
        g2 = _chwn(g).reshape(f, -1)                              # free when g keeps y's memory order
        gw = (g2 @ cols.T).reshape(W.shape) if weight.requires_grad else None
        gx = None
        if x.requires_grad:
            dcols = (W2.T @ g2).reshape(c, kh, kw, ho, wo, n)
            dxp = np.zeros((c, h + 2 * ph, w + 2 * pw, n), X.dtype)
            for u in range(kh):
                for v in range(kw):
                    _windows(dxp, u, v, sh, sw, ho, wo)[...] += dcols[:, u, v]
            gx = _nchw(dxp[:, ph:ph + h, pw:pw + w])
        if bias is None:
            return gx, gw
        return gx, gw, g2.sum(axis=1)
    return make(y, (x, weight) if bias is None else (x, weight, bias), backward)


# ---------------------------------------------------------------------- pooling
def _pool_geometry(X, kernel_size, stride, padding, what):
    _check_4d(X, what)
    kh, kw = _pair(kernel_size, f"{what} kernel_size")
    sh, sw = _pair(kernel_size if stride is None else stride, f"{what} stride")
    ph, pw = _pair(padding, f"{what} padding")
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"{what}: padding {(ph, pw)} must be at most half the kernel size {(kh, kw)}")
    h, w = X.shape[2:]
    return kh, kw, sh, sw, ph, pw, _out_size(h, kh, sh, ph, what), _out_size(w, kw, sw, pw, what)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """y[n, c, i, j] = max_{u, v} x[n, c, s·i + u, s·j + v]   (downsampling: keep the strongest response)

    dx = g at the position of each window's maximum (the first one in the window, as PyTorch, where several
    tie), 0 elsewhere; overlapping windows add. Padding counts as -inf. stride defaults to kernel_size.
    """
    x = _t(x)
    X = x.data
    kh, kw, sh, sw, ph, pw, ho, wo = _pool_geometry(X, kernel_size, stride, padding, "max_pool2d")
    xp = _padded_chwn(X, ph, pw, -np.inf)
    offsets = [(u, v) for u in range(kh) for v in range(kw)]
    y = np.array(_windows(xp, 0, 0, sh, sw, ho, wo))
    for u, v in offsets[1:]:
        np.maximum(y, _windows(xp, u, v, sh, sw, ho, wo), out=y)

    def backward(g):
        rem = np.array(_chwn(g), X.dtype)                         # the gradient no offset has claimed yet
        dxp = np.zeros(xp.shape, X.dtype)
        disjoint = sh >= kh and sw >= kw
        for k, (u, v) in enumerate(offsets):                      # in window order: the first maximum claims g
            hit = _windows(xp, u, v, sh, sw, ho, wo) == y
            win = _windows(dxp, u, v, sh, sw, ho, wo)
            if disjoint:
                d = np.multiply(rem, hit, out=win)
            else:
                d = rem * hit
                win += d
            if k < len(offsets) - 1:
                rem -= d                                          # 0 where claimed, unchanged elsewhere
        return (_nchw(dxp[:, ph:ph + X.shape[2], pw:pw + X.shape[3]]),)
    return make(_nchw(y), (x,), backward)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """y[n, c, i, j] = (1 / (k_h·k_w)) Σ_{u, v} x[n, c, s·i + u, s·j + v];  dx = g / (k_h·k_w) on every pixel
    of each window (overlapping windows add). Zero padding counts in the average (PyTorch's default)."""
    x = _t(x)
    X = x.data
    kh, kw, sh, sw, ph, pw, ho, wo = _pool_geometry(X, kernel_size, stride, padding, "avg_pool2d")
    xp = _padded_chwn(X, ph, pw)
    scale = X.dtype.type(1.0 / (kh * kw))
    y = np.array(_windows(xp, 0, 0, sh, sw, ho, wo))
    for u in range(kh):
        for v in range(kw):
            if u or v:
                y += _windows(xp, u, v, sh, sw, ho, wo)
    y *= scale

    def backward(g):
        gs = _chwn(g) * scale
        dxp = np.zeros(xp.shape, X.dtype)
        for u in range(kh):
            for v in range(kw):
                _windows(dxp, u, v, sh, sw, ho, wo)[...] += gs
        return (_nchw(dxp[:, ph:ph + X.shape[2], pw:pw + X.shape[3]]),)
    return make(_nchw(y), (x,), backward)
