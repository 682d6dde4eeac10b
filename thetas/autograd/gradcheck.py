"""Gradient checking: backpropagation's answer against the definition of a derivative.

The lecture's warning, "numerically calculating the gradient is expensive", made into a tool: the central
difference (f(θ + ε) − f(θ − ε)) / 2ε needs two forward passes per theta, backpropagation one backward pass for
all of them. Here the slow way checks the fast way, in float64.
"""
import copy
from dataclasses import dataclass, field

import numpy as np

from ..tensor import Tensor
from .grad_mode import no_grad


@dataclass
class GradcheckReport:
    """``ok`` and one row per input or parameter: name, shape, entries checked / total, worst errors."""
    ok: bool = True
    results: list = field(default_factory=list)  # (name, shape, max_abs_error, max_rel_error, checked, total)
    atol: float = 0.0
    rtol: float = 0.0

    def __bool__(self):
        return self.ok

    def __str__(self):
        head = ("name", "shape", "checked", "max abs err", "max rel err", "")
        rows = [head] + [(n, str(s), f"{c}/{t}", f"{a:.2e}", f"{r:.2e}", "ok" if a <= self.atol or r <= self.rtol
                          else "MISMATCH") for n, s, a, r, c, t in self.results]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        verdict = "gradcheck passed" if self.ok else "gradcheck FAILED"
        return "\n".join(lines + [f"{verdict} (analytic vs central differences in float64, "
                                  f"atol={self.atol:g}, rtol={self.rtol:g})"])


def _compare(name, analytic, f, data, eps, atol, rtol, max_entries, rng):
    """Central differences of f() at a random subset of the entries of ``data`` (perturbed in place)."""
    total = data.size
    idx = np.arange(total) if total <= max_entries else np.sort(rng.choice(total, max_entries, replace=False))
    flat = data.reshape(-1)  # a view: perturbing it perturbs the tensor
    grad = np.zeros(total) if analytic is None else analytic.reshape(-1)
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
        rel = err / max(abs(grad[i]), abs(numeric), 1e-12)
        worst_abs = max(worst_abs, err)
        if err > atol:
            worst_rel = max(worst_rel, rel)
        if err > atol + rtol * abs(numeric):
            ok = False
    return ok, (name, tuple(data.shape), worst_abs, worst_rel, len(idx), total)


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, max_entries=200, seed=0):
    """Compare analytic gradients (``backward()``) with central differences, in float64.

    Two forms:
      ``gradcheck(fn, *inputs)``: every floating input (Tensor or array) of ``fn``; a non-scalar output is
      reduced to Σ out · r with a fixed random r.
      ``gradcheck(model, x, y, loss_fn)``: every parameter of ``model`` (by dotted name) for ``loss_fn(model(x), y)``;
      a float64 copy of the model is checked in eval mode (no dropout noise), the model itself is not touched.
    At most ``max_entries`` seeded random entries of each tensor are checked (the report says how many).
    Returns a ``GradcheckReport``: ``bool(report)`` tells whether all agree; ``print(report)`` shows the table.
    """
    from ..nn.module import Module
    rng = np.random.default_rng(seed)
    report = GradcheckReport(atol=atol, rtol=rtol)
    if isinstance(fn, Module):
        if len(inputs) != 3:
            raise TypeError("gradcheck(model, x, y, loss_fn): pass the model, inputs, targets and a loss function")
        x, y, loss_fn = inputs
        model = copy.deepcopy(fn).eval()
        for t in list(model.parameters()) + [b for _, b in model.named_buffers()]:
            if t.data.dtype.kind == "f":
                t.data = t.data.astype(np.float64)
        x = np.asarray(x.data if isinstance(x, Tensor) else x)
        x = Tensor(x.astype(np.float64) if x.dtype.kind == "f" else x)
        y = y.data if isinstance(y, Tensor) else y

        def f():
            return float(loss_fn(model(x), y).item())
        model.zero_grad()
        loss_fn(model(x), y).backward()
        with no_grad():
            for name, p in model.named_parameters():
                ok, row = _compare(name, p.grad, f, p.data, eps, atol, rtol, max_entries, rng)
                report.ok &= ok
                report.results.append(row)
        return report

    tensors = []
    for a in inputs:
        arr = np.asarray(a.data if isinstance(a, Tensor) else a)
        wants = arr.dtype.kind == "f" and (not isinstance(a, Tensor) or a.requires_grad or not
                                           any(isinstance(b, Tensor) and b.requires_grad for b in inputs))
        tensors.append(Tensor(arr.astype(np.float64) if arr.dtype.kind == "f" else arr, requires_grad=wants))
    out = fn(*tensors)
    r = rng.standard_normal(out.shape) if out.data.size != 1 else None

    def scalar(o):
        return o.sum() if r is None else (o * r).sum()

    def f():
        return float(scalar(fn(*tensors)).item())
    scalar(out).backward()
    with no_grad():
        for i, t in enumerate(tensors):
            if t.requires_grad:
                ok, row = _compare(f"input {i}", t.grad, f, t.data, eps, atol, rtol, max_entries, rng)
                report.ok &= ok
                report.results.append(row)
    return report
