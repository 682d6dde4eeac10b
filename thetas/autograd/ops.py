"""The primitive operations of thetas (arithmetic, elementwise functions, reductions, shapes and indexing, and the
fused ``linear``): each forward, and beside it its derivative. The other families of rules sit beside this file
(see ``thetas/autograd/__init__.py``).

Each function computes ``y = f(inputs)`` with NumPy and hands ``make`` a closure ``backward(g)`` that returns
the gradient for each input given ``g = dLoss/dy`` (the chain rule's local step). Shapes: ``g`` has y's shape;
a returned gradient may have a broadcast shape, which the engine sums back (``tensor._unbroadcast``).
Closures check ``requires_grad`` of an input before an expensive gradient (a matrix product) is computed.

The docstring of each op is its rule: ``y = ...;  dx = ...``, with ``g`` the incoming gradient. Where a faster
form of a rule runs (``linear``'s small-batch product, the bias gradient as 1ᵀg), the textbook form is a small
function beside it, and tests/test_fast_forms.py checks that the two agree.
"""
import builtins

import numpy as np

from ..tensor import Tensor, get_default_dtype, make

__all__ = ["add", "sub", "mul", "div", "pow", "neg", "matmul", "exp", "log", "sqrt", "abs", "clip", "maximum",
           "minimum", "sum", "mean", "max", "min", "var", "reshape", "permute", "transpose", "getitem",
           "concatenate", "cat", "stack", "where", "astype", "sigmoid", "tanh", "relu", "leaky_relu", "softmax",
           "log_softmax", "linear"]


def _t(x, like=None):
    """A Tensor from a Tensor, array or number. A Python or NumPy scalar takes the dtype of ``like`` (a weak
    scalar, as in PyTorch), so ``1.0 - y`` stays float32 and ``y64 * np.float64(0.1)`` is not rounded to float32."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float, bool, np.number, np.bool_)):
        if like is not None and like.data.dtype.kind == "f":
            return Tensor(np.asarray(x, dtype=like.data.dtype))
        return Tensor(np.asarray(x, dtype=get_default_dtype() if isinstance(x, float) else None))
    return Tensor(x)


def _pair(a, b):
    if isinstance(a, Tensor):
        return a, _t(b, a)
    b = _t(b)
    return _t(a, b), b


def _axis_tuple(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(int(a) % ndim if ndim else 0 for a in axes)


def _expand(g, shape, axis, keepdims):
    """A reduced gradient reshaped so it broadcasts against the input of the reduction."""
    if not keepdims and shape:
        g = np.expand_dims(g, _axis_tuple(axis, len(shape)))
    return g


# ---------------------------------------------------------------------- arithmetic
def add(a, b):
    """y = a + b;  da = g,  db = g"""
    a, b = _pair(a, b)
    return make(a.data + b.data, (a, b), lambda g: (g, g))


def sub(a, b):
    """y = a - b;  da = g,  db = -g"""
    a, b = _pair(a, b)
    return make(a.data - b.data, (a, b), lambda g: (g, -g))


def mul(a, b):
    """y = a * b;  da = g * b,  db = g * a"""
    a, b = _pair(a, b)
    A, B = a.data, b.data
    return make(A * B, (a, b), lambda g: (g * B if a.requires_grad else None, g * A if b.requires_grad else None))


def div(a, b):
    """y = a / b;  da = g / b,  db = -g * y / b"""
    a, b = _pair(a, b)
    B = b.data
    y = a.data / B
    return make(y, (a, b), lambda g: (g / B if a.requires_grad else None, -g * y / B if b.requires_grad else None))


def pow(a, b):
    """y = a ** b;  da = g * b * a ** (b - 1),  db = g * y * log(a)"""
    a, b = _pair(a, b)
    A, B = a.data, b.data
    y = A ** B

    def backward(g):
        ga = g * B * A ** (B - 1) if a.requires_grad else None
        gb = g * y * np.log(np.where(A > 0, A, 1)) if b.requires_grad else None
        return ga, gb
    return make(y, (a, b), backward)


def neg(x):
    """y = -x;  dx = -g"""
    x = _t(x)
    return make(-x.data, (x,), lambda g: (-g,))


def matmul(a, b):
    """y = a @ b (1-D, 2-D or batched, as np.matmul);  da = g @ b.T,  db = a.T @ g"""
    a, b = _pair(a, b)
    A, B = a.data, b.data

    def backward(g):
        if A.ndim == 1 and B.ndim == 1:  # dot product: g is a scalar
            return g * B, g * A
        if A.ndim == 1:  # (k,) @ (..., k, m) -> (..., m)
            return (B @ g[..., None])[..., 0] if a.requires_grad else None, A[:, None] * g[..., None, :]
        if B.ndim == 1:  # (..., n, k) @ (k,) -> (..., n)
            return g[..., None] * B, (A.swapaxes(-1, -2) @ g[..., None])[..., 0] if b.requires_grad else None
        return (g @ B.swapaxes(-1, -2) if a.requires_grad else None,
                A.swapaxes(-1, -2) @ g if b.requires_grad else None)
    return make(A @ B, (a, b), backward)


# ---------------------------------------------------------------------- elementwise functions
def exp(x):
    """y = e^x;  dx = g * y"""
    x = _t(x)
    y = np.exp(x.data)
    return make(y, (x,), lambda g: (g * y,))


def log(x):
    """y = ln x;  dx = g / x"""
    x = _t(x)
    X = x.data
    return make(np.log(X), (x,), lambda g: (g / X,))


def sqrt(x):
    """y = sqrt(x);  dx = g / (2 y)"""
    x = _t(x)
    y = np.sqrt(x.data)
    return make(y, (x,), lambda g: (g / (2 * y),))


def abs(x):
    """y = |x|;  dx = g * sign(x)   (0 at x = 0)"""
    x = _t(x)
    X = x.data
    return make(np.abs(X), (x,), lambda g: (g * np.sign(X),))


def clip(x, min=None, max=None):
    """y = min(max(x, lo), hi);  dx = g where lo <= x <= hi, else 0"""
    x = _t(x)
    X = x.data
    y = np.clip(X, min, max)

    def backward(g):
        inside = np.ones(X.shape, bool)
        if min is not None:
            inside &= X >= min
        if max is not None:
            inside &= X <= max
        return (g * inside,)
    return make(y, (x,), backward)


def maximum(a, b):
    """y = max(a, b) elementwise;  da = g where a > b, db = g where b > a, half each on ties"""
    a, b = _pair(a, b)
    A, B = a.data, b.data
    share = (A > B) + 0.5 * (A == B)
    return make(np.maximum(A, B), (a, b), lambda g: (g * share, g * (1 - share)))


def minimum(a, b):
    """y = min(a, b) elementwise;  da = g where a < b, db = g where b < a, half each on ties"""
    a, b = _pair(a, b)
    A, B = a.data, b.data
    share = (A < B) + 0.5 * (A == B)
    return make(np.minimum(A, B), (a, b), lambda g: (g * share, g * (1 - share)))


_EXP_LIMIT = {}   # dtype -> a bit below log(largest finite number): e^(-x) never overflows after clipping at it


def _sigmoid(X, out=None):
    """σ(X) = 1 / (1 + e^(−X)) on a float array, into ``out`` (X itself: in place). The one σ of thetas: the
    ``sigmoid`` op and the recurrent ops' gates both call it.

    e^(−X) with −X clipped at the limit (X < −87 in float32): σ there is ~1e-38 either way, and nothing overflows
    (no warning, no inf). On large arrays (an LSTM's gates) the clip is skipped when nothing exceeds the limit:
    finding the max costs a quarter of the clip.
    """
    limit = _EXP_LIMIT.get(X.dtype)
    if limit is None:
        limit = _EXP_LIMIT[X.dtype] = X.dtype.type(np.log(np.finfo(X.dtype).max) - 1)
    y = np.negative(X, out=out)
    if y.size < 4096 or y.max() > limit:
        np.minimum(y, limit, out=y)
    np.exp(y, out=y)
    y += 1
    np.reciprocal(y, out=y)
    return y


def sigmoid(x):
    """y = σ(x) = 1 / (1 + e^(-x));  dx = g * y * (1 - y)   (the lecture's σ(z)[1 − σ(z)])"""
    x = _t(x)
    X = x.data if x.data.dtype.kind == "f" else x.data.astype(np.float64)
    y = _sigmoid(X, out=np.empty(X.shape, X.dtype))
    return make(y, (x,), lambda g: (g * y * (1 - y),))


def tanh(x):
    """y = tanh(x);  dx = g * (1 - y²)"""
    x = _t(x)
    y = np.tanh(x.data)
    return make(y, (x,), lambda g: (g * (1 - y * y),))


def relu(x):
    """y = max(x, 0);  dx = g where x > 0, else 0"""
    x = _t(x)
    zero = x.data.dtype.type(0)           # a scalar of x's dtype: no type promotion to resolve per call
    y = np.maximum(x.data, zero)
    return make(y, (x,), lambda g: (np.multiply(g, y > zero),))


def leaky_relu(x, negative_slope=0.01):
    """y = x if x > 0 else a·x;  dx = g if x > 0 else a·g"""
    x = _t(x)
    X = x.data
    slope = np.where(X > 0, 1, negative_slope).astype(X.dtype)
    return make(X * slope, (x,), lambda g: (g * slope,))


def softmax(x, axis=-1, *, dim=None):
    """y_i = e^(x_i) / Σ_j e^(x_j)  (computed as e^(x - max x));  dx = y * (g - Σ_j g_j y_j)"""
    x, axis = _t(x), axis if dim is None else dim
    e = np.exp(x.data - x.data.max(axis=axis, keepdims=True))
    y = e / e.sum(axis=axis, keepdims=True)
    return make(y, (x,), lambda g: (y * (g - (g * y).sum(axis=axis, keepdims=True)),))


def _log_softmax(X, axis):
    s = X - X.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def log_softmax(x, axis=-1, *, dim=None):
    """y_i = x_i - log Σ_j e^(x_j)  (log-sum-exp, stable);  dx = g - softmax(x) * Σ_j g_j"""
    x, axis = _t(x), axis if dim is None else dim
    y = _log_softmax(x.data, axis)
    return make(y, (x,), lambda g: (g - np.exp(y) * g.sum(axis=axis, keepdims=True),))


def astype(x, dtype):
    """y = x as another dtype;  dx = g cast back   (to integers or bools: no gradient, y leaves the graph)"""
    x = _t(x)
    src, y = x.data.dtype, x.data.astype(dtype)
    if y.dtype.kind != "f":
        return Tensor(y)
    return make(y, (x,), lambda g: (g.astype(src),))


# ---------------------------------------------------------------------- reductions
def sum(x, axis=None, keepdims=False, *, dim=None):
    """y = Σ x over ``axis``;  dx = g, copied along the summed axes"""
    x, axis = _t(x), axis if dim is None else dim
    X = x.data
    return make(X.sum(axis=axis, keepdims=keepdims), (x,),
                lambda g: (np.broadcast_to(_expand(g, X.shape, axis, keepdims), X.shape),))


def mean(x, axis=None, keepdims=False, *, dim=None):
    """y = (1/n) Σ x over ``axis``;  dx = g / n, copied along the averaged axes"""
    x, axis = _t(x), axis if dim is None else dim
    X = x.data
    y = X.mean(axis=axis, keepdims=keepdims)
    n = X.size // builtins.max(y.size, 1) if X.size else 1
    return make(y, (x,), lambda g: (np.broadcast_to(_expand(g, X.shape, axis, keepdims) / n, X.shape),))


def _extreme(x, axis, keepdims, reduce):
    x = _t(x)
    X = x.data
    yk = reduce(X, axis=axis, keepdims=True)

    def backward(g):  # the gradient goes to the extreme entries, split evenly between ties
        hit = X == yk
        return (hit * (_expand(g, X.shape, axis, keepdims) / hit.sum(axis=axis, keepdims=True)),)
    y = yk if keepdims or not X.ndim else np.squeeze(yk, axis=_axis_tuple(axis, X.ndim))
    return make(y, (x,), backward)


def max(x, axis=None, keepdims=False, *, dim=None):
    """y = max x over ``axis``;  dx = g at the maximal entries (split between ties), 0 elsewhere"""
    return _extreme(x, axis if dim is None else dim, keepdims, np.max)


def min(x, axis=None, keepdims=False, *, dim=None):
    """y = min x over ``axis``;  dx = g at the minimal entries (split between ties), 0 elsewhere"""
    return _extreme(x, axis if dim is None else dim, keepdims, np.min)


def var(x, axis=None, keepdims=False, ddof=0, *, dim=None):
    """y = Σ (x - mean)² / (n - ddof);  dx = 2 g (x - mean) / (n - ddof)

    ddof=0 as NumPy; ddof=1 is torch's default."""
    x, axis = _t(x), axis if dim is None else dim
    X = x.data
    d = X - X.mean(axis=axis, keepdims=True)
    n = int(np.prod([X.shape[a] for a in _axis_tuple(axis, X.ndim)])) if X.ndim else 1
    y = (d * d).sum(axis=axis, keepdims=keepdims) / (n - ddof)
    return make(y, (x,), lambda g: (2 * _expand(g, X.shape, axis, keepdims) * d / (n - ddof),))


# ---------------------------------------------------------------------- shapes and indexing
def reshape(x, shape):
    """y = x with a new shape;  dx = g reshaped back"""
    x = _t(x)
    src = x.data.shape
    return make(x.data.reshape(shape), (x,), lambda g: (g.reshape(src),))


def permute(x, axes):
    """y = x with its axes reordered;  dx = g with the inverse order"""
    x = _t(x)
    axes = tuple(int(a) for a in axes)
    inverse = tuple(np.argsort(axes))
    return make(x.data.transpose(axes), (x,), lambda g: (g.transpose(inverse),))


def transpose(x, dim0=-2, dim1=-1):
    """y = x with two axes swapped (torch.transpose);  dx = g with them swapped back"""
    x = _t(x)
    return make(x.data.swapaxes(dim0, dim1), (x,), lambda g: (g.swapaxes(dim0, dim1),))


def _index(index):
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index.data if isinstance(index, Tensor) else index


def _gathers(index):
    """Whether an index picks by integer arrays (which may repeat an entry, so gradients must add up)."""
    items = index if isinstance(index, tuple) else (index,)
    return builtins.any(isinstance(i, (list, np.ndarray)) and np.asarray(i).dtype.kind != "b" for i in items)


def getitem(x, index):
    """y = x[index] (ints, slices, integer arrays, boolean masks);  dx = g scattered back, repeats added"""
    x = _t(x)
    index = _index(index)
    X = x.data

    def backward(g):
        dx = np.zeros_like(X)
        if _gathers(index):
            np.add.at(dx, index, g)
        else:
            dx[index] = g
        return (dx,)
    return make(X[index], (x,), backward)


def concatenate(tensors, axis=0, *, dim=None):
    """y = [x1, x2, ...] joined along ``axis``;  dx_i = the slice of g that came from x_i"""
    tensors, axis = tuple(_t(t) for t in tensors), axis if dim is None else dim
    ends = np.cumsum([t.data.shape[axis] for t in tensors])[:-1]
    return make(np.concatenate([t.data for t in tensors], axis=axis), tensors,
                lambda g: tuple(np.split(g, ends, axis=axis)))


cat = concatenate


def stack(tensors, axis=0, *, dim=None):
    """y = [x1, x2, ...] stacked along a new ``axis``;  dx_i = g[..., i, ...]"""
    tensors, axis = tuple(_t(t) for t in tensors), axis if dim is None else dim
    y = np.stack([t.data for t in tensors], axis=axis)
    return make(y, tensors, lambda g: tuple(np.moveaxis(g, axis, 0)))


def where(condition, a, b):
    """y = a where condition else b;  da = g where condition,  db = g elsewhere"""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, bool)
    a, b = _pair(a, b)
    zero = np.zeros((), np.result_type(a.data, b.data))
    return make(np.where(cond, a.data, b.data), (a, b),
                lambda g: (np.where(cond, g, zero), np.where(cond, zero, g)))


# ---------------------------------------------------------------------- fused layer
def _linear_forward(X, W, b=None):
    """y = X @ Wᵀ + b: the textbook form (b an array or None)."""
    y = X @ W.T  # (..., out)
    if b is not None:
        y += b
    return y


def _linear_forward_small_batch(X, W, b=None):
    """The same y = X @ Wᵀ + b computed as (W @ Xᵀ)ᵀ, the fast form for a 2-D X of up to 32 rows and a W of 64 or
    more rows: OpenBLAS (Haswell kernels) computes X @ Wᵀ (B transposed) slowly there, and W @ Xᵀ is the same
    product, 5-15 % faster (slower from 64 rows on); the bias add writes it back in C order."""
    yt = (W @ X.T).T
    return np.add(yt, b, order="C") if b is not None else np.ascontiguousarray(yt)


def _sum_rows(g2):
    """Σ_n g2[n] for g2 (N, out): the bias gradient db = Σ_batch g. Textbook: g2.sum(axis=0). Fast form: 1ᵀg2,
    one BLAS matrix-vector product, 2-5x faster, used except for the tiniest gradients, where allocating the
    ones costs more."""
    n, out = g2.shape
    if g2.dtype.kind == "f" and (n > 64 or out > 8):
        return np.ones(n, g2.dtype) @ g2
    return g2.sum(axis=0)


def linear(x, weight, bias=None):
    """y = x @ W.T + b   x: (..., in), W: (out, in), b: (out,) -> y: (..., out)

    dx = g @ W;  dW = Σ_batch g.T @ x;  db = Σ_batch g   (one neuron: ŷ = σ(θᵀx) is linear then sigmoid)
    """
    x = _t(x)
    X, W = x.data, weight.data
    if X.shape[-1] != W.shape[1]:
        raise ValueError(f"linear: input has {X.shape[-1]} features (shape {X.shape}) but the weight expects "
                         f"{W.shape[1]} (weight shape {W.shape})")
    b = None if bias is None else bias.data
    if X.ndim == 2 and X.shape[0] <= 32 and W.shape[0] >= 64:  # where the fast form is the faster one
        y = _linear_forward_small_batch(X, W, b)
    else:
        y = _linear_forward(X, W, b)

    def backward(g):
        g2 = g.reshape(-1, g.shape[-1])  # (N, out), batch dims flattened
        gx = g @ W if x.requires_grad else None
        gw = g2.T @ X.reshape(-1, X.shape[-1]) if weight.requires_grad else None
        if bias is None:
            return gx, gw
        return gx, gw, _sum_rows(g2)
    return make(y, (x, weight) if bias is None else (x, weight, bias), backward)
