"""Gradient checking: backpropagation's answer against the definition of a derivative.

The lecture's warning, "numerically calculating the gradient is expensive", made into a tool. The central
difference

    dL/dθ ≈ (L(θ + ε) − L(θ − ε)) / 2ε

needs two forward passes for every single theta: a million thetas, two million forward passes for one gradient.
That is why backpropagation exists: one backward pass gives all of them. Here the slow way checks the fast way,
in float64, on a few hundred thetas per tensor.
"""
import copy
import inspect
from typing import NamedTuple

import numpy as np

from ..tensor import Tensor
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck(..., raise_exception=True)`` when a gradient disagrees; the message is the report."""


class GradcheckResult(NamedTuple):
    """One checked input or parameter."""
    name: str
    shape: tuple
    max_abs_error: float   # max |analytic − numeric| over the checked entries
    max_rel_error: float   # max |analytic − numeric| / max(|analytic|, |numeric|, atol)
    checked: int           # entries compared (all, or a seeded random subset of max_entries)
    total: int             # entries in the tensor
    ok: bool


class GradcheckReport:
    """What ``gradcheck`` found: ``ok`` and one ``GradcheckResult`` per input or parameter.

    ``bool(report)`` is ``report.ok``; ``print(report)`` shows the table.
    """

    def __init__(self, results, atol, rtol, eps):
        self.results = list(results)
        self.ok = all(r.ok for r in self.results)
        self.atol, self.rtol, self.eps = atol, rtol, eps

    def __bool__(self):
        return self.ok

    def __iter__(self):
        return iter(self.results)

    def __getitem__(self, name):
        """The row of one input or parameter, by name (``report["0.weight"]``)."""
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"gradcheck report has no row {name!r}; rows: {[r.name for r in self.results]}")

    def __str__(self):
        head = ("name", "shape", "checked", "max abs err", "max rel err", "")
        rows = [head] + [(r.name, str(r.shape), f"{r.checked}/{r.total}", f"{r.max_abs_error:.2e}",
                          f"{r.max_rel_error:.2e}", "ok" if r.ok else "MISMATCH") for r in self.results]
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        if any(r.checked < r.total for r in self.results):
            lines.append("n/N: a seeded random subset of n of the N entries was checked (max_entries)")
        verdict = "gradcheck passed" if self.ok else "gradcheck FAILED"
        lines.append(f"{verdict}: backward() vs central differences in float64 "
                     f"(eps={self.eps:g}, |a - n| <= atol + rtol·|n| with atol={self.atol:g}, rtol={self.rtol:g})")
        return "\n".join(lines)

    def __repr__(self):
        return f"<GradcheckReport ok={self.ok}, {len(self.results)} tensors>\n{self}"


def _float64(x):
    """A float64 copy of a float Tensor or array (the same kind of object); anything else unchanged."""
    if isinstance(x, Tensor):
        return Tensor(np.array(x.data, np.float64)) if x.dtype.kind == "f" else x
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return np.array(x, np.float64)
    return x


def _compare(name, analytic, f, data, eps, atol, rtol, max_entries, rng):
    """Central differences of f() at every entry of ``data`` (or a random subset), perturbed in place."""
    total = data.size
    if total <= max_entries:
        idx = np.arange(total)
    else:
        idx = np.sort(rng.choice(total, max_entries, replace=False))
    flat = data.reshape(-1)  # a view (data is C-contiguous): perturbing it perturbs the tensor
    grad = np.zeros(total) if analytic is None else np.asarray(analytic, np.float64).reshape(-1)
    worst_abs = worst_rel = 0.0
    ok = True
    for i in idx:
        old = flat[i]
        flat[i] = old + eps
        f_plus = f()
        flat[i] = old - eps
        f_minus = f()
        flat[i] = old
        numeric = (f_plus - f_minus) / (2 * eps)
        err = abs(grad[i] - numeric)
        if not err <= atol + rtol * abs(numeric):  # written so that NaN fails
            ok = False
        worst_abs = max(worst_abs, err) if err == err else np.inf
        rel = err / max(abs(grad[i]), abs(numeric), atol, np.finfo(np.float64).tiny)
        worst_rel = max(worst_rel, rel) if rel == rel else np.inf
    return GradcheckResult(name, tuple(data.shape), float(worst_abs), float(worst_rel), len(idx), total, ok)


def _input_names(fn, n):
    """The parameter names of ``fn`` for its first n positional arguments (``input 2`` where there is none)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n):
        p = params[min(i, len(params) - 1)] if params else None
        if p is not None and p.kind == p.VAR_POSITIONAL:
            names.append(f"{p.name}[{i - params.index(p)}]")
        elif p is not None and i < len(params) and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        else:
            names.append(f"input {i}")
    return names


def _finish(report, raise_exception):
    if raise_exception and not report.ok:
        raise GradcheckError(str(report))
    return report


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=False, max_entries=200, seed=0):
    """Compare the gradients of ``backward()`` with central differences (f(θ + ε) − f(θ − ε)) / 2ε, in float64.

    Two forms:

    ``gradcheck(fn, *inputs)``
        Checks d fn / d input for each Tensor input with ``requires_grad=True``, or, when there is none, for every
        floating input (Tensor, array or float). Rows are named by ``fn``'s parameter names. Inputs are copied to
        float64; the caller's tensors are not touched. A non-scalar output is reduced to Σ out · r with a fixed
        random r, so every entry of the output takes part.
    ``gradcheck(model, x, y, loss_fn)``
        Checks d loss_fn(model(x), y) / dθ for every trainable parameter θ of ``model``, named by its dotted name
        (``"0.weight"``). A float64 deep copy of the model is checked in eval mode (no dropout noise); the model
        itself, its dtype and its ``.grad`` are left as they were.

    Each row passes when every checked entry has |analytic − numeric| <= atol + rtol·|numeric|. Tensors with
    more than ``max_entries`` entries are checked on a random subset of that many (seeded by ``seed``; the
    report says n/N): 2 forward passes per theta add up.

    Returns a ``GradcheckReport``: ``bool(report)`` (= ``report.ok``), ``report.results`` (name, shape,
    max_abs_error, max_rel_error, checked, total, ok) and a table for ``print(report)``. With
    ``raise_exception=True`` a mismatch raises ``GradcheckError`` instead.
    """
    from ..nn.module import Module
    rng = np.random.default_rng(seed)
    if isinstance(fn, Module):
        if len(inputs) != 3:
            raise TypeError(f"gradcheck(model, x, y, loss_fn): pass the model, inputs, targets and a loss function "
                            f"(got {len(inputs)} arguments after the model)")
        x, y, loss_fn = inputs
        model = copy.deepcopy(fn).eval()
        for t in list(model.parameters()) + [b for _, b in model.named_buffers()]:
            if t.data.dtype.kind == "f":
                t.data = np.array(t.data, np.float64)
            t.grad = None
        x, y = _float64(x), _float64(y)
        named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        if not named:
            raise ValueError(f"gradcheck: {type(fn).__name__} has no parameter that requires grad")

        def f():
            return float(loss_fn(model(x), y).item())
        with enable_grad():
            loss = loss_fn(model(x), y)
            if not isinstance(loss, Tensor) or loss.data.size != 1:
                raise TypeError(f"gradcheck: loss_fn must return a Tensor with one number, "
                                f"got {type(loss).__name__} {getattr(loss, 'shape', '')}")
            if loss.requires_grad:
                loss.backward()
        with no_grad():
            rows = [_compare(name, p.grad, f, p.data, eps, atol, rtol, max_entries, rng) for name, p in named]
        return _finish(GradcheckReport(rows, atol, rtol, eps), raise_exception)

    args = [_float64(a) for a in inputs]
    explicit = [isinstance(a, Tensor) and a.requires_grad for a in inputs]
    checked = [explicit[i] if any(explicit) else isinstance(a, (Tensor, np.ndarray, float, np.floating)) and
               np.asarray(a.data if isinstance(a, Tensor) else a).dtype.kind == "f" for i, a in enumerate(args)]
    if not any(checked):
        raise ValueError("gradcheck: no floating input to check (pass Tensors with requires_grad=True, "
                         "or float arrays)")
    for i, a in enumerate(args):  # the checked inputs become float64 leaves; the others are passed as given
        if checked[i]:
            args[i] = Tensor(np.array(a.data if isinstance(a, Tensor) else a, np.float64), requires_grad=True)
    names = _input_names(fn, len(args))

    r = None

    def scalar(out):
        nonlocal r
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
        if out.data.size == 1:
            return out.sum()
        if r is None:
            r = rng.standard_normal(out.shape)
        return (out * r).sum()

    def f():
        return float(scalar(fn(*args)).item())
    with enable_grad():
        s = scalar(fn(*args))
        if s.requires_grad:  # otherwise fn's output does not depend on its inputs: analytic gradient 0
            s.backward()
    with no_grad():
        rows = [_compare(names[i], args[i].grad, f, args[i].data, eps, atol, rtol, max_entries, rng)
                for i in range(len(args)) if checked[i]]
    return _finish(GradcheckReport(rows, atol, rtol, eps), raise_exception)
