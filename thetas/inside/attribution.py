"""Why a network decided: which input numbers made the score of one output (a class logit) what it is.

Every function takes a batch ``x`` (N, ...) and ``target``, an output index (one int for all, or one per example),
and returns attributions of x's shape (float64). The score is F(x) = model(x)[n, target[n]] in eval mode; the
gradients come from the library's own backward pass, with the model's parameters left untouched.

- ``saliency``: |∂F/∂x| (Simonyan, Vedaldi & Zisserman 2013, "Deep inside convolutional networks").
- ``gradient_x_input``: x ⊙ ∂F/∂x (Shrikumar et al. 2016).
- ``integrated_gradients``: the path integral of the gradient from a baseline x' to x (Sundararajan, Taly & Yan,
  ICML 2017, "Axiomatic attribution for deep networks"); its attributions add up to F(x) − F(x') (completeness).
- ``occlusion``: how much the score drops when a window of the input is replaced by a baseline value (Zeiler &
  Fergus 2014).
"""
import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .stimulus import _dtype, _Frozen, input_gradient

__all__ = ["saliency", "gradient_x_input", "integrated_gradients", "occlusion"]


def _batch(x):
    x = np.asarray(x.data if isinstance(x, Tensor) else x)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch (N, ...) (add a batch axis for one example), got shape "
                         f"{x.shape}")
    return x


def _targets(model, x, target):
    """``target`` as (N,) ints, checked against the model's number of outputs."""
    with _Frozen(model), no_grad():
        out = model(Tensor(np.asarray(x[:1], _dtype(model, x.dtype))))
    k = 1 if out.ndim == 1 else int(np.prod(out.shape[1:]))
    t = np.broadcast_to(np.asarray(target), (len(x),)) if np.ndim(target) == 0 else np.asarray(target)
    if t.shape != (len(x),) or t.dtype.kind not in "iu":
        raise ValueError(f"target must be an int or one int per example ({len(x)}), got {target!r}")
    if t.min() < 0 or t.max() >= k:
        raise ValueError(f"target {t.max() if t.max() >= k else t.min()} is out of range: the model has {k} outputs")
    return t.astype(np.int64), k


def _score(targets, k):
    """F(x) = model(x)[n, target[n]] as a Tensor (N,): the output times a one-hot mask, summed over outputs."""
    def score(model, xt):
        out = model(xt)
        out = out.reshape(out.shape[0], -1)
        mask = np.zeros((len(targets), k), out.dtype)
        mask[np.arange(len(targets)), targets] = 1
        return (out * Tensor(mask)).sum(1)
    return score


def _gradient(model, x, target):
    x = _batch(x)
    t, k = _targets(model, x, target)
    g, s = input_gradient(model, x, _score(t, k))
    return x, g.astype(np.float64), s


def saliency(model, x, target):
    """|∂F(x)/∂x|, F(x) = model(x)[target]: how much a small change of each input number moves the score
    (Simonyan et al. 2013). Returns (N, ...) like x."""
    return np.abs(_gradient(model, x, target)[1])


def gradient_x_input(model, x, target):
    """x ⊙ ∂F(x)/∂x: the first-order share of each input in the score (exact for a linear F without bias)."""
    x, g, _ = _gradient(model, x, target)
    return x.astype(np.float64) * g


METHODS = ("riemann_right", "riemann_left", "riemann_middle", "riemann_trapezoid", "gausslegendre")


def _path(steps, method):
    """The points α_k in [0, 1] and weights w_k of the quadrature ∫₀¹ g(α) dα ≈ Σ_k w_k g(α_k)."""
    m = steps
    if method == "riemann_right":
        return np.arange(1, m + 1) / m, np.full(m, 1 / m)
    if method == "riemann_left":
        return np.arange(m) / m, np.full(m, 1 / m)
    if method == "riemann_middle":
        return (np.arange(m) + 0.5) / m, np.full(m, 1 / m)
    if method == "riemann_trapezoid":
        if m < 2:
            raise ValueError("method='riemann_trapezoid' needs steps ≥ 2")
        w = np.full(m, 1 / (m - 1))
        w[[0, -1]] /= 2
        return np.linspace(0, 1, m), w
    if method == "gausslegendre":
        a, w = np.polynomial.legendre.leggauss(m)
        return (a + 1) / 2, w / 2
    raise ValueError(f"unknown method {method!r}: choose one of {METHODS}")


def integrated_gradients(model, x, target, baseline=None, steps=50, return_gap=False, batch_size=1024,
                         method="riemann_right"):
    """Integrated gradients (Sundararajan et al. 2017), by default the paper's right Riemann sum of m = ``steps``
    terms:

        IG_i(x) = (x_i − x'_i) · (1/m) Σ_{k=1..m} ∂F(x' + (k/m)(x − x'))/∂x_i

    F(x) = model(x)[target], x' the ``baseline`` (default zeros; an array of one example's shape or of x's shape).
    ``method`` picks another quadrature of ∫₀¹ ∂F(x' + α(x − x'))/∂x_i dα: "riemann_left", "riemann_middle",
    "riemann_trapezoid" or "gausslegendre" (Captum's default).
    Completeness: Σ_i IG_i = F(x) − F(x') as m → ∞; ``return_gap=True`` also returns the gap
    Σ_i IG_i − (F(x) − F(x')) per example (N,), whose size relative to |F(x) − F(x')| says whether ``steps`` is
    enough. Returns: attributions (N, ...) float64, or (attributions, gap).
    """
    x = _batch(x)
    t, k = _targets(model, x, target)
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    alphas, weights = _path(steps, method)
    base = np.zeros_like(x, dtype=np.float64) if baseline is None else np.asarray(baseline, np.float64)
    try:
        base = np.broadcast_to(base, x.shape)
    except ValueError:
        raise ValueError(f"baseline of shape {base.shape} does not fit x of shape {x.shape}") from None
    xf = x.astype(np.float64)
    n = len(x)
    total = np.zeros_like(xf)
    per = max(1, batch_size // n)   # path points per backward pass, so that one pass holds about batch_size inputs
    for i in range(0, steps, per):
        a, w = alphas[i:i + per], weights[i:i + per]
        points = base[None] + a.reshape(-1, *[1] * x.ndim) * (xf - base)[None]      # (len(a), N, ...)
        g, _ = input_gradient(model, points.reshape(-1, *x.shape[1:]), _score(np.tile(t, len(a)), k))
        total += np.tensordot(w, g.reshape(len(a), *x.shape).astype(np.float64), axes=1)
    attributions = (xf - base) * total
    if not return_gap:
        return attributions
    score = _score(t, k)
    dtype = _dtype(model, np.float64)
    with _Frozen(model), no_grad():
        fx = score(model, Tensor(np.asarray(x, dtype))).data.astype(np.float64)
        fb = score(model, Tensor(np.asarray(base, dtype))).data.astype(np.float64)
    gap = attributions.reshape(n, -1).sum(1) - (fx - fb)
    return attributions, gap


def occlusion(model, x, target, window, stride=None, baseline=0.0, batch_size=256):
    """Occlusion (Zeiler & Fergus 2014): slide a window over the input, set what it covers to ``baseline``, and
    give every covered input number the drop of the score, averaged over the windows that cover it:

        A_i = mean over windows W ∋ i of [F(x) − F(x with x_W := baseline)]

    ``window`` and ``stride`` (default: the window, no overlap) are ints or tuples over the last axes of one
    example (a (h, w) window on (C, H, W) images covers every channel). Returns (N, ...) float64 like x.
    """
    x = _batch(x)
    t, k = _targets(model, x, target)
    shape = x.shape[1:]
    window = (int(window),) * min(2, len(shape)) if np.ndim(window) == 0 else tuple(int(w) for w in window)
    stride = window if stride is None else ((int(stride),) * len(window) if np.ndim(stride) == 0
                                            else tuple(int(s) for s in stride))
    d = len(window)
    if not 1 <= d <= len(shape) or len(stride) != d:
        raise ValueError(f"window {window} and stride {stride} must give one size per trailing axis of an example "
                         f"of shape {shape}")
    if any(w < 1 or w > n for w, n in zip(window, shape[-d:])) or min(stride) < 1:
        raise ValueError(f"window {window} must fit the example's trailing axes {shape[-d:]} and stride {stride} "
                         "be positive")
    starts = [range(0, n - w + 1, s) for n, w, s in zip(shape[-d:], window, stride)]
    corners = np.stack(np.meshgrid(*[np.array(s) for s in starts], indexing="ij"), -1).reshape(-1, d)
    score = _score(t, k)
    dtype = _dtype(model, np.float64)

    def scores(batch, targets):
        with _Frozen(model), no_grad():
            return _score(targets, k)(model, Tensor(np.asarray(batch, dtype))).data.astype(np.float64)

    with _Frozen(model), no_grad():
        fx = score(model, Tensor(np.asarray(x, dtype))).data.astype(np.float64)
    drop = np.zeros(x.shape, np.float64)
    count = np.zeros(shape, np.float64)
    lead = (slice(None),) * (len(shape) - d)
    per = max(1, batch_size // len(x))
    for i in range(0, len(corners), per):
        chunk = corners[i:i + per]
        batch = np.repeat(x[None], len(chunk), 0).copy()               # (len(chunk), N, ...)
        masks = []
        for j, c in enumerate(chunk):
            region = lead + tuple(slice(a, a + w) for a, w in zip(c, window))
            batch[(j, slice(None)) + region] = baseline
            masks.append(region)
        fo = scores(batch.reshape(-1, *shape), np.tile(t, len(chunk))).reshape(len(chunk), len(x))
        for j, region in enumerate(masks):
            drop[(slice(None),) + region] += (fx - fo[j]).reshape(-1, *[1] * len(shape))
            count[region] += 1
    return np.divide(drop, count, out=np.zeros_like(drop), where=count > 0)
