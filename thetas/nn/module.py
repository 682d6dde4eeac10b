"""Module, Parameter and Buffer: a model's thetas and the tree of layers that holds them.

A Module finds its state by looking at its attributes, in the order they were set: a ``Parameter`` is a theta
(trained), a ``Buffer`` is saved state that is not trained (running statistics, a fixed projection), a
``Module`` (or a list of Modules) is a child. Dotted names follow the attribute path: ``"0.weight"``,
``"encoder.1.bias"``. No registration calls, no hooks.
"""
import contextlib
import threading

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

_registry = {}   # "ClassName" -> class, for rebuilding a saved model without importing anything by name


class _Recording(threading.local):
    calls = None  # while _record() runs in this thread: a list of (module, inputs, output), one per call


_recording = _Recording()


class _Budget(threading.local):
    left = None  # while build(config, max_numbers) runs in this thread: how many more numbers its tensors may hold


_budget = _Budget()


class OverBudget(ValueError):
    """``build(config, max_numbers)``: the model's Parameters and Buffers would hold more numbers than allowed."""


def _charge(tensor):
    """Count a new Parameter or Buffer against ``build``'s budget. Layers wrap ``np.empty`` (untouched memory)
    before filling it, so an oversized config is refused here, before its memory is used."""
    if _budget.left is not None:
        _budget.left -= tensor.data.size
        if _budget.left < 0:
            raise OverBudget(f"a {type(tensor).__name__} of shape {tensor.data.shape} goes over the budget")


class Parameter(Tensor):
    """A Tensor that is a theta of a model: a leaf that requires grad, listed by ``Module.parameters()``."""
    __slots__ = ()

    def __init__(self, data, dtype=None, requires_grad=True):
        super().__init__(data, dtype=dtype, requires_grad=requires_grad)
        _charge(self)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """A Tensor that is part of a model's state but not trained (saved in ``state_dict``)."""
    __slots__ = ()

    def __init__(self, data, dtype=None):
        super().__init__(data, dtype=dtype, requires_grad=False)
        _charge(self)


def _jsonable(value):
    """A constructor argument as JSON (nested Modules as their config), or ``_SKIP`` if it has no JSON form."""
    if isinstance(value, Module):
        return value.config()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.dtype) or isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name   # dtype=np.float64 -> "float64", which NumPy accepts back
    if isinstance(value, (list, tuple)):
        items = [_jsonable(v) for v in value]
        return _SKIP if any(v is _SKIP for v in items) else items
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _jsonable(v) for k, v in value.items()}
        return _SKIP if any(v is _SKIP for v in items.values()) else items
    return _SKIP


_SKIP = object()


class Module:
    """Base class of every layer and model: ``forward`` computes, ``__call__`` calls it.

    Subclasses set their Parameters, Buffers and child Modules as attributes in ``__init__``.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _registry[cls.__name__] = cls

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        self._init_args = (args, kwargs)  # the constructor call, for config() and th.save
        self.training = True
        return self

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        calls = _recording.calls
        if calls is not None:
            calls.append((self, args, out))
        return out

    # ------------------------------------------------------------------ the tree
    def _members(self):
        for name, value in vars(self).items():
            if name.startswith("_"):
                continue
            if isinstance(value, (Tensor, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Module) for v in value):
                for i, v in enumerate(value):
                    yield f"{name}.{i}", v

    def named_children(self):
        for name, value in self._members():
            if isinstance(value, Module):
                yield name, value

    def children(self):
        return (m for _, m in self.named_children())

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def _named_tensors(self, kind, prefix=""):
        for name, value in self._members():
            full = f"{prefix}{name}"
            if isinstance(value, Module):
                yield from value._named_tensors(kind, full + ".")
            elif isinstance(value, kind):
                yield full, value

    def named_parameters(self):
        """(dotted name, Parameter) pairs, each parameter once."""
        seen = set()
        for name, p in self._named_tensors(Parameter):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self):
        return self._named_tensors(Buffer)

    def num_parameters(self, trainable_only=False):
        """How many numbers the model learns: Σ sizes of its parameters (|x|·|h| + |h| for a dense layer)."""
        return int(sum(p.data.size for p in self.parameters() if p.requires_grad or not trainable_only))

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        """Training mode (dropout active, batch statistics); returns self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode (dropout off, running statistics); returns self."""
        return self.train(False)

    @contextlib.contextmanager
    def evaluating(self):
        """Evaluation mode and no graph for the ``with`` block, then every module's own mode back:

            with model.evaluating():
                y_hat = model(x)          # dropout off, running statistics, no graph recorded

        The one way thetas runs a model for evaluation, prediction, plots and the lab."""
        modes = [(m, m.training) for m in self.modules()]
        self.eval()
        try:
            with no_grad():
                yield self
        finally:
            for m, mode in modes:
                m.training = mode

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, flag=True):
        for p in self.parameters():
            p.requires_grad = bool(flag)
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self):
        """Dotted name -> a copy of the array, for every Parameter and Buffer."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, b.data.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays into this model's Parameters and Buffers. Every key, shape and dtype is checked before
        anything changes, so a bad state dict leaves the model untouched. Returns (missing, unexpected)."""
        own = dict(self.named_parameters())
        own.update(self.named_buffers())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        updates = []
        for name, value in state_dict.items():
            if name not in own:
                continue
            arr = np.asarray(value.data if isinstance(value, Tensor) else value)
            target = own[name]
            if arr.shape != target.data.shape:
                raise ValueError(f"load_state_dict: '{name}' has shape {arr.shape} in the state dict but "
                                 f"{target.data.shape} in the model")
            if not np.can_cast(arr.dtype, target.data.dtype, casting="same_kind"):
                raise TypeError(f"load_state_dict: '{name}' has dtype {arr.dtype}, the model needs {target.data.dtype}")
            updates.append((target, arr))
        for target, arr in updates:
            np.copyto(target.data, arr, casting="same_kind")
        return missing, unexpected

    def config(self):
        """The constructor call as JSON: ``{"class": name, "args": [...], "kwargs": {...}}`` (nested Modules as
        configs). ``th.save`` stores it so ``th.load`` can rebuild the model from registered classes only."""
        args, kwargs = self._init_args
        out_args = []
        for a in args:
            j = _jsonable(a)
            out_args.append(None if j is _SKIP else j)
        out_kwargs = {k: j for k, j in ((k, _jsonable(v)) for k, v in kwargs.items()) if j is not _SKIP}
        return {"class": type(self).__name__, "args": out_args, "kwargs": out_kwargs}

    # ------------------------------------------------------------------ display
    def extra_repr(self):
        return ""

    def __repr__(self):
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("] + ([f"  {self.extra_repr()}"] if self.extra_repr() else [])
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"

    def _record(self, x):
        """Run ``x`` through the model in eval mode without gradients and return every module call in order as
        (dotted name, module, inputs, output)."""
        names = {id(m): name for name, m in self.named_modules()}
        outer, _recording.calls = _recording.calls, []
        try:
            with self.evaluating():
                self(x)
            calls = _recording.calls
        finally:
            _recording.calls = outer
        return [(names.get(id(m), "?") or "(model)", m, args, out) for m, args, out in calls]

    def activations(self, x, leaves_only=True):
        """Every layer's output for input ``x``, as NumPy arrays: ``{"0": conv output, "1": relu output, ...}``
        (dotted names as in ``named_modules``; containers skipped unless ``leaves_only=False``). Runs in eval
        mode without recording gradients; what the lab draws and ``plot_feature_maps`` shows."""
        x = x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=next(
            (p.dtype for p in self.parameters()), np.float32)))
        out = {}
        for name, module, _, y in self._record(x):
            if leaves_only and any(True for _ in module.children()):
                continue
            if isinstance(y, Tensor):
                out[name] = y.data
        return out

    def summary(self, input_shape, dtype=None, print_fn=print):
        """Run one zero input of shape ``(1, *input_shape)`` and list every layer with its output shape and
        parameter count (a layer with a ``summary_note(input_shape, output_shape)`` adds a note, e.g. a conv layer
        the count a dense layer of the same sizes would need). Returns the table as a string (and prints it
        unless ``print_fn`` is None)."""
        dtype = dtype or next((p.dtype for p in self.parameters()), np.float32)
        calls = self._record(Tensor(np.zeros((1, *tuple(input_shape)), dtype)))
        rows = [("layer", "type", "output shape", "params", "")]
        for name, module, args, out in calls:
            if any(True for _ in module.children()):  # containers: their layers have the rows
                continue
            shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
            note = ""
            if hasattr(module, "summary_note") and args and hasattr(args[0], "shape") and isinstance(out, Tensor):
                note = module.summary_note(tuple(args[0].shape), tuple(out.shape))
            rows.append((name, type(module).__name__, str(shape).replace(",)", ")"),
                         f"{module.num_parameters():,}", note))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        def fmt(r):
            return "  ".join(c.ljust(w) if i in (0, 1, 2, 4) else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))).rstrip()
        rule = "-" * (sum(widths[:4]) + 6)
        lines = [fmt(rows[0]), rule] + [fmt(r) for r in rows[1:]]
        lines += [rule, f"total parameters: {self.num_parameters():,}"]
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return text


def build(config, max_numbers=None):
    """Rebuild a Module from ``Module.config()``, using only classes defined as thetas Modules (no imports by
    name, no code from the file). ``max_numbers``: a ValueError as soon as the Parameters and Buffers created
    hold more numbers than that in all (``th.load`` passes the number the file stores)."""
    outer, _budget.left = _budget.left, max_numbers
    try:
        return _build(config)
    finally:
        _budget.left = outer


def _build(config):
    def value(v):
        if isinstance(v, dict) and set(v) == {"class", "args", "kwargs"}:
            return _build(v)
        if isinstance(v, list):
            return [value(i) for i in v]
        return v
    if not isinstance(config, dict) or "class" not in config:
        raise ValueError(f"not a module config: {config!r}")
    cls = _registry.get(config["class"])
    if cls is None:
        raise ValueError(f"unknown module class '{config['class']}' (define or import it before loading)")
    args = [value(a) for a in config.get("args", [])]
    kwargs = {k: value(v) for k, v in config.get("kwargs", {}).items()}
    return cls(*args, **kwargs)
