"""What a unit has learned: its optimal stimulus (the input that excites it most) and its top stimuli (the test
images that excite it most), as Le et al. (ICML 2012, "Building high-level features using large scale unsupervised
learning": the cat neuron) looked at them.

A *unit* is one number of a layer's output for one example. ``layer`` is a dotted name from
``model.named_modules()`` (the names ``Module.activations`` uses) or ``"output"`` for the model's output; ``unit``
is an int (a column of a (N, K) output; for a feature map (N, C, H, W) a channel, whose mean over positions is the
unit) or a tuple indexing one example's output, e.g. (channel, row, column).

The layer's output is taken from the same per-thread call recording ``Module.activations`` uses, but with the
graph kept, so that d(unit)/d(input) comes from the library's own backward pass.
"""
import numpy as np

from ..autograd.grad_mode import enable_grad
from ..nn.module import _recording
from ..tensor import Tensor

__all__ = ["optimal_stimulus", "optimal_stimuli", "top_stimuli"]


def _dtype(model, default=np.float32):
    return next((p.dtype for p in model.parameters()), default)


def _layer_names(model):
    return [name for name, _ in model.named_modules() if name]


def _check_layer(model, layer):
    """The Module called ``layer`` (None for ``"output"``); a ValueError listing the names otherwise."""
    if layer == "output":
        return None
    modules = dict(model.named_modules())
    if not isinstance(layer, str) or not layer or layer not in modules:
        raise ValueError(f"unknown layer {layer!r}: choose 'output' or one of {_layer_names(model)}")
    return modules[layer]


def _before_relu(module):
    """The ReLU whose input the ascent climbs for a unit of ``module``: the module itself if it is a ReLU, or a
    container's last layer if that is one; else None. ReLU(z) is flat where z < 0, so a unit that is off at the
    start has no gradient to climb; z has one, and wherever z > 0 can be reached both have the same maximiser."""
    from ..nn.activation import ReLU
    if isinstance(module, ReLU):
        return module
    leaves = [m for m in module.modules() if not any(True for _ in m.children())] if module is not None else []
    return leaves[-1] if leaves and isinstance(leaves[-1], ReLU) else None


def _calls(model, x):
    """Run ``x`` through ``model`` and return every module call as (module, args, output), in the graph."""
    outer, _recording.calls = _recording.calls, []
    try:
        model(x)
        return _recording.calls
    finally:
        _recording.calls = outer


def _layer_output(model, module, x, before=None):
    """Run ``x`` through ``model`` and return ``module``'s output (its last call) as a Tensor in the graph, or the
    model's output when ``module`` is None; with ``before`` (a ReLU, see ``_before_relu``), that ReLU's input."""
    if before is not None:
        ins = [args[0] for m, args, _ in _calls(model, x) if m is before and args and isinstance(args[0], Tensor)]
        if not ins:
            raise ValueError(f"layer {type(before).__name__} was not called with a Tensor in the forward pass")
        return ins[-1]
    if module is None:
        return model(x)
    outs = [out for m, _, out in _calls(model, x) if m is module]
    if not outs or not isinstance(outs[-1], Tensor):
        raise ValueError(f"layer {type(module).__name__} was not called with a Tensor output in the forward pass")
    return outs[-1]


def _check_unit(unit, shape, layer):
    """``unit`` against one example's layer output of ``shape``: an int (a column / a channel) or a full index."""
    if isinstance(unit, (int, np.integer)) and not isinstance(unit, bool):
        if not shape:
            raise ValueError(f"layer {layer!r} gives one number per example: its only unit is 0, use a tuple ()")
        if not 0 <= unit < shape[0]:
            raise ValueError(f"unit {unit} is out of range: layer {layer!r} has {shape[0]} units "
                             f"(output shape per example {shape})")
        return int(unit)
    if isinstance(unit, tuple) and all(isinstance(u, (int, np.integer)) for u in unit):
        if len(unit) != len(shape) or any(not 0 <= u < n for u, n in zip(unit, shape)):
            raise ValueError(f"unit {unit} does not index layer {layer!r}'s output of shape {shape} per example")
        return tuple(int(u) for u in unit)
    raise ValueError(f"unit must be an int or a tuple of ints, got {unit!r}")


def _unit_of(y, unit):
    """(N,) the unit's value for each example: y[:, unit] (averaged over positions for a feature map) or
    y[(:, *unit)]."""
    n = y.shape[0]
    if isinstance(unit, tuple):
        return y[(slice(None),) + unit] if unit else y.reshape(n)
    z = y[:, unit]
    return z.reshape(n, -1).mean(1) if z.ndim > 1 else z


class _Frozen:
    """Eval mode with the graph recorded, and the parameters out of it: gradients reach the input only, and no
    parameter's ``.grad`` is touched. Every module's mode and every ``requires_grad`` flag come back after."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.modes = [(m, m.training) for m in self.model.modules()]
        self.flags = [(p, p.requires_grad) for p in self.model.parameters()]
        self.model.eval()
        for p, _ in self.flags:
            p.requires_grad = False
        self.grad = enable_grad()
        self.grad.__enter__()
        return self.model

    def __exit__(self, *exc):
        self.grad.__exit__(*exc)
        for p, flag in self.flags:
            p.requires_grad = flag
        for m, mode in self.modes:
            m.training = mode
        return False


def input_gradient(model, x, score):
    """d score / d x for a batch ``x`` (NumPy, (N, ...)): ``score(model, x_tensor)`` returns a Tensor (N,) of one
    number per example; returns (gradient of x's shape, the scores (N,)). Eval mode, parameters left untouched."""
    with _Frozen(model):
        xt = Tensor(np.asarray(x, dtype=_dtype(model, np.asarray(x).dtype)), requires_grad=True)
        s = score(model, xt)
        s.sum().backward()
    return xt.grad, s.data.copy()


def _check_input_shape(model, module, input_shape, dtype):
    try:
        input_shape = tuple(int(n) for n in input_shape)
    except TypeError:
        raise ValueError(f"input_shape must be a tuple of ints (no batch axis), got {input_shape!r}") from None
    if not input_shape or min(input_shape) < 1:
        raise ValueError(f"input_shape must be a non-empty tuple of positive ints (no batch axis), got {input_shape}")
    try:
        with model.evaluating():
            y = _layer_output(model, module, Tensor(np.zeros((1, *input_shape), dtype)))
    except (ValueError, TypeError, IndexError, RuntimeError) as e:   # whatever the model's first layer refuses
        raise ValueError(f"input_shape {input_shape} does not fit the model: {e}") from None
    return input_shape, tuple(y.shape[1:])


def _blur(x, sigma, ndim):
    """A Gaussian blur of each example of ``x`` (an example has ``ndim`` axes) over its last two axes (its only
    axis for a vector), edges repeated."""
    radius = max(1, int(np.ceil(2 * sigma)))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    for axis in ([-1] if ndim < 2 else [-2, -1]):
        pad = [(0, 0)] * x.ndim
        pad[axis] = (radius, radius)
        xp = np.pad(x, pad, mode="edge")
        n = x.shape[axis]
        x = sum(w * np.take(xp, np.arange(i, i + n), axis=axis) for i, w in enumerate(k))
    return x


def _tv_gradient(x, ndim):
    """∇ of the (squared) total variation TV(x) = Σ (x[i+1, j] − x[i, j])² + (x[i, j+1] − x[i, j])² of each example
    over its last two axes (its only axis for a vector)."""
    g = np.zeros_like(x)
    for axis in ([-1] if ndim < 2 else [-2, -1]):
        d = np.diff(x, axis=axis)
        hi = [slice(None)] * x.ndim
        lo = [slice(None)] * x.ndim
        hi[axis], lo[axis] = slice(1, None), slice(None, -1)
        g[tuple(hi)] += 2 * d
        g[tuple(lo)] -= 2 * d
    return g


def _norms(x):
    return np.linalg.norm(x.reshape(len(x), -1), axis=1).reshape(-1, *[1] * (x.ndim - 1))


def _project(x, norm, box):
    """Each example onto the sphere ‖x‖ = norm; with a box, into the box and then onto the ball ‖x‖ ≤ norm (the
    sphere and the box may not meet: on [0, 1]⁷⁸⁴ a sphere of radius 30 does not)."""
    if box is None:
        return x * (norm / np.maximum(_norms(x), 1e-12))
    x = np.clip(x, *box)
    n = _norms(x)
    return np.where(n > norm, np.clip(x * (norm / np.maximum(n, 1e-12)), *box), x)


def _units_of(y, units):
    """(N,) example n's unit ``units[n]``: one of the ``_unit_of`` forms, the same form for every example."""
    if isinstance(units[0], tuple):
        return _unit_of(y, units[0]) if len(set(units)) == 1 else _stack_units(y, units)
    n = y.shape[0]
    z = y[np.arange(n), np.asarray(units)]
    return z.reshape(n, -1).mean(1) if z.ndim > 1 else z


def _stack_units(y, units):
    from ..autograd import ops
    return ops.stack([_unit_of(y[i:i + 1], u)[0] for i, u in enumerate(units)])


def optimal_stimulus(model, layer, unit, input_shape, *, norm=1.0, steps=200, lr=0.05, seed=0, box=None,
                     jitter=0, blur_every=0, blur_sigma=0.5, tv=0.0, l2=0.0, return_history=False):
    """The input of shape ``input_shape`` (no batch axis) that maximises one unit, by projected gradient ascent on
    the sphere ‖x‖₂ = ``norm`` (Le et al. 2012):

        g_t     = ∇ₓ [a(x_t) − tv · TV(x_t) − (l2/2) ‖x_t‖²]
        x_{t+1} = norm · y / ‖y‖,   y = x_t + lr · norm · g_t / ‖g_t‖

    a normalised step of ``lr`` times the radius, renormalised after every step. For a linear unit a(x) = w·x + b
    (or σ of it) the maximiser is the closed form x* = norm · w / ‖w‖.

    ``jitter``, ``blur_every``, ``blur_sigma``, ``tv`` and ``l2`` are the regularisers that make pictures readable
    on a real CNN (Yosinski et al. 2015, Olah et al. 2017).

    Args:
        model: a thetas Module.
        layer: a name from ``model.named_modules()`` or ``"output"``.
        unit: int (a column; for a feature map a channel, its mean over positions) or a tuple (channel, row, col).
        input_shape: one example's shape, e.g. (64,) or (1, 28, 28).
        norm: the radius of the sphere.
        steps: the ascent's number of steps.
        lr: the ascent's step, a fraction of the radius.
        seed: the random start x₀ (Gaussian, on the sphere) and the jitter; the same seed gives the same result.
        box: (low, high): the input's range; then x is clipped to it and shrunk onto the ball ‖x‖ ≤ ``norm``
            after every step, instead of put on the sphere.
        jitter: the gradient is taken at x rolled by up to ``jitter`` pixels over the last two axes.
        blur_every: a Gaussian blur of x every ``blur_every`` steps (0: none).
        blur_sigma: the σ of that Gaussian blur.
        tv: the weight of the total variation TV(x) = Σ (x[i+1,j] − x[i,j])² + (x[i,j+1] − x[i,j])².
        l2: an L2 decay weight.
        return_history: also return the unit's activation a(x_t) at t = 0..steps (steps + 1 numbers).
    Returns: x (``input_shape``, float64), or (x, history) with ``return_history=True``.
    """
    x, history = optimal_stimuli(model, layer, [unit], input_shape, norm=norm, steps=steps, lr=lr, seed=seed,
                                 box=box, jitter=jitter, blur_every=blur_every, blur_sigma=blur_sigma, tv=tv, l2=l2,
                                 return_history=True)
    return (x[0], history[0]) if return_history else x[0]


def optimal_stimuli(model, layer, units, input_shape, *, norm=1.0, steps=200, lr=0.05, seed=0, box=None,
                    jitter=0, blur_every=0, blur_sigma=0.5, tv=0.0, l2=0.0, return_history=False, callback=None,
                    start=None):
    """``optimal_stimulus`` of several units of one layer at once: one ascent on a batch whose row i climbs unit
    ``units[i]`` (the rows do not meet: eval mode, and the gradient of Σ_i a_{u_i}(x_i) with respect to x_i is
    a_{u_i}'s alone). Every row starts from the same x₀ of ``seed``, so each equals ``optimal_stimulus`` of its
    unit. ``callback(t, x, activations)``, if given, is called after the start and after every step (the lab
    draws the ascent as it goes). A unit of a ReLU layer (or of a block that ends in one) is climbed through the
    ReLU's input z, and its history is z: ReLU(z) has no gradient where the unit is off. ``start``: where the
    ascent begins instead of the random x₀, one input (``input_shape``) or one per unit, projected first (an
    ascent goes on from where an earlier one stopped).

    Returns: x (len(units), *input_shape) float64, or (x, history (len(units), steps + 1)).
    """
    module = _check_layer(model, layer)
    dtype = _dtype(model, np.float64)
    input_shape, out_shape = _check_input_shape(model, module, input_shape, dtype)
    units = [_check_unit(u, out_shape, layer) for u in units]
    if not units:
        raise ValueError("units is empty: give at least one unit")
    if isinstance(units[0], tuple) != all(isinstance(u, tuple) for u in units):
        raise ValueError(f"units mixes ints and tuples: {units}")
    if norm <= 0 or steps < 0 or lr <= 0:
        raise ValueError(f"norm and lr must be positive and steps ≥ 0, got norm={norm}, lr={lr}, steps={steps}")
    if box is not None and not (len(box) == 2 and box[0] < box[1]):
        raise ValueError(f"box must be (low, high) with low < high, got {box!r}")

    before = _before_relu(module)

    def score(m, xt):
        return _units_of(_layer_output(m, module, xt, before), units)

    rng = np.random.default_rng(seed)
    ndim = len(input_shape)
    x0 = rng.standard_normal(input_shape) if start is None else np.asarray(start, np.float64)
    if x0.shape not in (input_shape, (len(units), *input_shape)):
        raise ValueError(f"start must have shape {input_shape} or {(len(units), *input_shape)}, got {x0.shape}")
    x = _project(np.broadcast_to(x0, (len(units), *input_shape)).copy(), norm, box)
    history = []
    axes = (-1,) if ndim < 2 else (-2, -1)
    for t in range(steps):
        if jitter:
            shift = tuple(int(s) for s in rng.integers(-jitter, jitter + 1, size=len(axes)))
            g, _ = input_gradient(model, np.roll(x, shift, axes), score)
            g = np.roll(g.astype(np.float64), tuple(-s for s in shift), axes)
            if return_history or callback:
                history.append(_activations(model, score, x, dtype))
        else:
            g, a = input_gradient(model, x, score)
            g = g.astype(np.float64)
            history.append(a.astype(np.float64))
        if callback:
            callback(t, x, history[-1])
        if tv:
            g = g - tv * _tv_gradient(x, ndim)
        if l2:
            g = g - l2 * x
        gn = _norms(g)
        x = x + lr * norm * g / np.where(gn > 0, gn, np.inf)
        if blur_every and (t + 1) % blur_every == 0:
            x = _blur(x, blur_sigma, ndim)
        x = _project(x, norm, box)
    if not (return_history or callback):
        return x
    history.append(_activations(model, score, x, dtype))
    if callback:
        callback(steps, x, history[-1])
    return (x, np.stack(history, 1)) if return_history else x


def _activations(model, score, x, dtype):
    with model.evaluating():
        return np.asarray(score(model, Tensor(np.asarray(x, dtype))).data, np.float64)


def top_stimuli(model, layer, unit, images, k=9, batch_size=256):
    """The k images that excite one unit most (Le et al.'s "top stimuli from the test set").

    Args:
        model: as ``optimal_stimulus``.
        layer: as ``optimal_stimulus``.
        unit: as ``optimal_stimulus``.
        images: (N, ...) NumPy array.
        k: how many (at most N).

    Returns: (indices (k,), activations (k,)), the highest activation first (ties: the lower index first).
    """
    module = _check_layer(model, layer)
    images = np.asarray(images)
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(f"images must be a non-empty batch (N, ...), got shape {images.shape}")
    dtype = _dtype(model, np.float64)
    _, out_shape = _check_input_shape(model, module, images.shape[1:], dtype)
    unit = _check_unit(unit, out_shape, layer)
    k = int(k)
    if not 1 <= k <= len(images):
        raise ValueError(f"k must be between 1 and the number of images ({len(images)}), got {k}")
    scores = []
    with model.evaluating():
        for i in range(0, len(images), batch_size):
            xb = Tensor(np.asarray(images[i:i + batch_size], dtype))
            scores.append(np.asarray(_unit_of(_layer_output(model, module, xb), unit).data, np.float64))
    return top_k(np.concatenate(scores), k)


def top_k(scores, k):
    """(indices, scores) of the k highest ``scores``, the highest first (ties: the lower index first)."""
    order = np.argsort(-np.asarray(scores), kind="stable")[:k]
    return order, np.asarray(scores)[order]
