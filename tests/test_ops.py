"""Every primitive of thetas/autograd/ops.py (and the fused cross-entropies of thetas/autograd/losses.py), in the
spirit of HIPS/autograd's check_grads.

Each case is an expression of float inputs. Three checks run on every case:
  * its backward() agrees with central differences in float64 (``th.gradcheck``), over scalar, vector, matrix
    and broadcast shapes;
  * its forward values and input gradients agree with the same expression in PyTorch (float64);
  * run in float32 it stays float32, output and gradients.
Random inputs avoid kinks: |x| is kept away from 0 (abs, relu), all values are distinct (max, min, maximum) and
sit between multiples of 0.1 (clip bounds); ``P`` inputs are positive (log, sqrt, the base of pow).
"""
import numpy as np
import pytest

import thetas as th
from thetas.autograd import losses as rules
from thetas.autograd import ops
from thetas.autograd.gradcheck import gradcheck


# ---------------------------------------------------------------------- inputs
class A(tuple):
    """Shape of an input of either sign."""


class P(tuple):
    """Shape of a positive input."""


class U(tuple):
    """Shape of an input in (0, 1) (probabilities, BCE targets)."""


def make_inputs(specs, seed=0):
    """Float64 arrays for ``specs``: magnitudes 0.1·k + 0.15 ± 0.03 for distinct k (so no ties, |x| >= 0.12,
    and every value at least 0.02 from a multiple of 0.1), a random sign for ``A``."""
    rng = np.random.default_rng(seed)
    sizes = [int(np.prod(s)) for s in specs]
    n = sum(sizes)
    k = rng.choice(max(20, n), n, replace=False)
    pool = 0.1 * k + 0.15 + rng.uniform(-0.03, 0.03, n)
    out, start = [], 0
    for spec, size in zip(specs, sizes):
        v = pool[start:start + size]
        start += size
        if isinstance(spec, A):
            v = v * rng.choice([-1.0, 1.0], size)
        elif isinstance(spec, U):
            v = rng.uniform(0.05, 0.95, size)
        out.append(v.reshape(spec))
    return out


def case(name, fn, *specs, torch=None):
    """A test case; ``torch(T, *inputs)`` is the PyTorch expression when ``fn`` itself does not run on torch."""
    return pytest.param(fn, specs, torch, id=name)


# constants that enter expressions without being differentiated
NP3 = np.array([0.5, -1.5, 2.0])
NPPOS = np.array([0.5, 1.5, 2.0])
NP21 = np.array([[2.0], [-0.7]])
NP23 = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.1]])
MASK23 = np.array([[True, False, True], [False, False, True]])
ROWS = np.array([True, False, True, True])
MASK43 = np.array([[True, False, True], [False, False, True], [False, False, False], [True, True, True]])
LABELS = np.array([0, 2, 1, 2])


def tt(T, a):
    """A NumPy constant (or a tuple of index parts) as its torch equivalent."""
    if isinstance(a, tuple):
        return tuple(tt(T, x) for x in a)
    return T.from_numpy(a) if isinstance(a, np.ndarray) else a


# ---------------------------------------------------------------------- arithmetic
BROADCAST = [((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((1, 3), (2, 1)), ((2, 1), (1, 3)), ((4, 2, 3), (3,)),
             ((3,), (4, 2, 3)), ((), (2, 3)), ((2, 3), ()), ((4, 1, 3), (2, 1))]
BINARY = [("add", lambda a, b: a + b, A, A), ("sub", lambda a, b: a - b, A, A), ("mul", lambda a, b: a * b, A, A),
          ("div", lambda a, b: a / b, A, A), ("pow", lambda a, b: a ** b, P, A),
          ("maximum", lambda a, b: a.maximum(b), A, A), ("minimum", lambda a, b: a.minimum(b), A, A)]

ARITHMETIC = [case(f"{name}-{sa}-{sb}", fn, ka(sa), kb(sb)) for name, fn, ka, kb in BINARY for sa, sb in BROADCAST]
ARITHMETIC += [
    case("add-function", th.add, A((2, 3)), A((3,)), torch=lambda T, a, b: T.add(a, b)),
    case("add-float-left", lambda y: 1.0 + y, A((3,))),
    case("add-numpy-left", lambda y: NP21 + y, A((3,)), torch=lambda T, y: tt(T, NP21) + y),
    case("sub-float-left", lambda y: 1.0 - y, A((2, 3))),
    case("sub-float-right", lambda y: y - 1.0, A((2, 3))),
    case("sub-numpy-left", lambda y: NP23 - y, A((3,)), torch=lambda T, y: tt(T, NP23) - y),
    case("sub-function-float", lambda y: th.sub(2.0, y), A((3,)), torch=lambda T, y: T.sub(2.0, y)),
    case("mul-int-right", lambda y: y * 2, A((3,))),
    case("mul-float-left", lambda y: 2.5 * y, A((2, 3))),
    case("mul-numpy-left", lambda y: NP3 * y, A((2, 3)), torch=lambda T, y: tt(T, NP3) * y),
    case("mul-numpy-right", lambda y: y * NP21, A((2, 3)), torch=lambda T, y: y * tt(T, NP21)),
    case("mul-function-numpy", lambda y: th.mul(NP3, y), A((3,)), torch=lambda T, y: T.mul(tt(T, NP3), y)),
    case("div-float-left", lambda y: 3.0 / y, A((2, 3))),
    case("div-float-right", lambda y: y / 3.0, A((2, 3))),
    case("div-numpy-left", lambda y: NP3 / y, A((3,)), torch=lambda T, y: tt(T, NP3) / y),
    case("pow-square", lambda x: x ** 2, A((2, 3))),
    case("pow-cube", lambda x: x ** 3, A((3,))),
    case("pow-half", lambda x: x ** 0.5, P((2, 3))),
    case("pow-negative", lambda x: x ** -1.5, P((3,))),
    case("pow-float-base", lambda x: 2.0 ** x, A((2, 3))),
    case("pow-numpy-base", lambda x: NPPOS ** x, A((3,)), torch=lambda T, x: tt(T, NPPOS) ** x),
    case("neg", lambda x: -x, A((2, 3))),
    case("neg-function", th.neg, A(()), torch=lambda T, x: T.neg(x)),
    case("maximum-float", lambda x: th.maximum(x, 0.5), A((2, 3)), torch=lambda T, x: T.clamp(x, min=0.5)),
    case("maximum-numpy-left", lambda x: th.maximum(NP3, x), A((2, 3)),
         torch=lambda T, x: T.maximum(tt(T, NP3), x)),
    case("minimum-float-left", lambda x: th.minimum(0.4, x), A((2, 3)), torch=lambda T, x: T.clamp(x, max=0.4)),
]


@pytest.mark.parametrize("fn, specs, torch_fn", ARITHMETIC)
def test_arithmetic(fn, specs, torch_fn):
    check_grads(fn, specs)


# ---------------------------------------------------------------------- elementwise functions
UNARY = [("exp", lambda x: x.exp(), A), ("log", lambda x: x.log(), P), ("sqrt", lambda x: x.sqrt(), P),
         ("abs", lambda x: x.abs(), A), ("sigmoid", lambda x: x.sigmoid(), A), ("tanh", lambda x: x.tanh(), A),
         ("relu", lambda x: x.relu(), A)]
ELEMENTWISE = [case(f"{name}-{shape}", fn, kind(shape)) for name, fn, kind in UNARY
               for shape in [(), (3,), (2, 3), (4, 2, 3)]]
ELEMENTWISE += [
    case("exp-function", th.exp, A((3,)), torch=lambda T, x: T.exp(x)),
    case("log-function", th.log, P((2, 3)), torch=lambda T, x: T.log(x)),
    case("sqrt-function", th.sqrt, P((3,)), torch=lambda T, x: T.sqrt(x)),
    case("abs-builtin", lambda x: abs(x), A((2, 3))),
    case("abs-function", th.abs, A((3,)), torch=lambda T, x: T.abs(x)),
    case("sigmoid-function", th.sigmoid, A((2, 3)), torch=lambda T, x: T.sigmoid(x)),
    case("tanh-function", th.tanh, A((2, 3)), torch=lambda T, x: T.tanh(x)),
    case("relu-function", th.relu, A((2, 3)), torch=lambda T, x: T.relu(x)),
    case("leaky_relu-default", th.leaky_relu, A((2, 3)), torch=lambda T, x: T.nn.functional.leaky_relu(x)),
    case("leaky_relu-slope", lambda x: x.leaky_relu(0.2), A((4, 2, 3)),
         torch=lambda T, x: T.nn.functional.leaky_relu(x, 0.2)),
    case("leaky_relu-scalar", lambda x: th.leaky_relu(x, negative_slope=0.3), A(()),
         torch=lambda T, x: T.nn.functional.leaky_relu(x, 0.3)),
    case("clip-both", lambda x: x.clip(-0.5, 0.8), A((4, 2, 3)), torch=lambda T, x: x.clamp(-0.5, 0.8)),
    case("clip-min", lambda x: x.clip(min=0.1), A((2, 3)), torch=lambda T, x: x.clamp(min=0.1)),
    case("clip-max", lambda x: x.clip(max=-0.2), A((2, 3)), torch=lambda T, x: x.clamp(max=-0.2)),
    case("clip-function-max", lambda x: th.clip(x, None, 0.5), A((3,)), torch=lambda T, x: x.clamp(max=0.5)),
    case("clip-clamp", lambda x: x.clamp(0.2, 1.0), P(()), torch=lambda T, x: x.clamp(0.2, 1.0)),
    case("astype-float64", lambda x: x.astype(np.float64) * x, A((2, 3)), torch=lambda T, x: x.double() * x),
    case("where-numpy", lambda a, b: th.where(MASK23, a, b), A((2, 3)), A((2, 3)),
         torch=lambda T, a, b: T.where(tt(T, MASK23), a, b)),
    case("where-broadcast", lambda a, b: th.where(MASK23, a, b), A((3,)), A((2, 1)),
         torch=lambda T, a, b: T.where(tt(T, MASK23), a, b)),
    case("where-tensor-condition", lambda a, b: th.where(a > b, a, b * b), A((2, 3)), A((2, 3)),
         torch=lambda T, a, b: T.where(a > b, a, b * b)),
    case("where-float-right", lambda a: th.where(MASK23, a, 0.0), A((2, 3)),
         torch=lambda T, a: T.where(tt(T, MASK23), a, 0.0)),
    case("where-float-left", lambda b: th.where(MASK23, 1.5, b), A((1, 3)),
         torch=lambda T, b: T.where(tt(T, MASK23), 1.5, b)),
]


@pytest.mark.parametrize("fn, specs, torch_fn", ELEMENTWISE)
def test_elementwise(fn, specs, torch_fn):
    check_grads(fn, specs)


# ---------------------------------------------------------------------- reductions
def torch_reduce(name, axis=None, keepdims=False, ddof=0):
    def fn(T, x):
        dims = tuple(range(x.ndim)) if axis is None else axis
        if name == "var":
            return T.var(x, dim=dims, correction=ddof, keepdim=keepdims)
        if name in ("max", "min") and x.ndim == 0:
            return x
        return getattr(T, {"max": "amax", "min": "amin"}.get(name, name))(x, dim=dims, keepdim=keepdims)
    return fn


AXES = [((), None, False), ((3,), None, False), ((3,), 0, False), ((3,), -1, True), ((2, 3), None, True),
        ((2, 3), 0, False), ((2, 3), -1, False), ((2, 3), 1, True), ((4, 2, 3), (0, 2), False),
        ((4, 2, 3), (0, 2), True), ((4, 2, 3), (-1, 0), False), ((4, 2, 3), (0, 1, 2), False), ((4, 2, 3), 1, False)]
REDUCTIONS = [case(f"{name}-{shape}-axis{axis}-keepdims{kd}",
                   lambda x, name=name, axis=axis, kd=kd: getattr(x, name)(axis=axis, keepdims=kd), A(shape),
                   torch=torch_reduce(name, axis, kd))
              for name in ["sum", "mean", "max", "min", "var"] for shape, axis, kd in AXES]
REDUCTIONS += [
    case("sum-positional", lambda x: x.sum(0), A((2, 3)), torch=torch_reduce("sum", 0)),
    case("sum-positional-keepdims", lambda x: x.sum(1, True), A((2, 3)), torch=torch_reduce("sum", 1, True)),
    case("sum-dim", lambda x: x.sum(dim=-1), A((4, 2, 3)), torch=torch_reduce("sum", -1)),
    case("sum-function", lambda x: th.sum(x, 1), A((4, 2, 3)), torch=torch_reduce("sum", 1)),
    case("sum-function-dim", lambda x: th.sum(x, dim=(0, 1)), A((4, 2, 3)), torch=torch_reduce("sum", (0, 1))),
    case("mean-dim-keepdims", lambda x: x.mean(dim=0, keepdims=True), A((4, 2, 3)),
         torch=torch_reduce("mean", 0, True)),
    case("mean-function", lambda x: th.mean(x, axis=(0, 1), keepdims=True), A((4, 2, 3)),
         torch=torch_reduce("mean", (0, 1), True)),
    case("max-dim", lambda x: x.max(dim=1), A((2, 3)), torch=torch_reduce("max", 1)),
    case("max-function", lambda x: th.max(x, -1), A((4, 2, 3)), torch=torch_reduce("max", -1)),
    case("min-function-dim", lambda x: th.min(x, dim=0, keepdims=True), A((2, 3)),
         torch=torch_reduce("min", 0, True)),
    case("var-ddof1", lambda x: x.var(dim=0, ddof=1), A((4, 2, 3)), torch=torch_reduce("var", 0, ddof=1)),
    case("var-function", lambda x: th.var(x, (0, 2), True), A((4, 2, 3)), torch=torch_reduce("var", (0, 2), True)),
    case("var-function-dim", lambda x: th.var(x, dim=-1, ddof=1), A((2, 3)), torch=torch_reduce("var", -1, ddof=1)),
]


@pytest.mark.parametrize("fn, specs, torch_fn", REDUCTIONS)
def test_reductions(fn, specs, torch_fn):
    check_grads(fn, specs)


@pytest.mark.parametrize("reduce, expected", [
    (lambda x: x.max(), [[0, 0.25, 0, 0.25], [0, 0.25, 0, 0.25]]),
    (lambda x: x.min(), [[0.5, 0, 0, 0], [0.5, 0, 0, 0]]),
    (lambda x: x.max(axis=0).sum(), [[0.5, 0.5, 1, 0.5], [0.5, 0.5, 0, 0.5]]),
    (lambda x: x.max(axis=1, keepdims=True).sum(), [[0, 0.5, 0, 0.5], [0, 0.5, 0, 0.5]]),
])
def test_extreme_ties_share_the_gradient(reduce, expected):
    x = th.tensor([[-1.0, 3.0, 2.0, 3.0], [-1.0, 3.0, 0.0, 3.0]], requires_grad=True)
    reduce(x).backward()
    np.testing.assert_allclose(x.grad, expected)


def test_maximum_ties_share_the_gradient():
    a, b = th.tensor([1.0, 2.0], requires_grad=True), th.tensor([1.0, 3.0], requires_grad=True)
    th.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad, [0.5, 0.0])
    np.testing.assert_allclose(b.grad, [0.5, 1.0])


# ---------------------------------------------------------------------- shapes and indexing
SHAPES = [
    case("reshape-args", lambda x: x.reshape(3, 2), A((2, 3))),
    case("reshape-tuple", lambda x: x.reshape((6,)), A((2, 3))),
    case("reshape-minus-one", lambda x: x.reshape(-1), A((4, 2, 3))),
    case("reshape-function", lambda x: th.reshape(x, (3, -1)), A((4, 2, 3)), torch=lambda T, x: T.reshape(x, (3, -1))),
    case("reshape-scalar", lambda x: x.reshape(1, 1), A(())),
    case("reshape-view", lambda x: x.view(2, 12), A((4, 2, 3))),
    case("reshape-flatten", lambda x: x.flatten(1), A((4, 2, 3))),
    case("permute-args", lambda x: x.permute(2, 0, 1), A((4, 2, 3))),
    case("permute-function", lambda x: th.permute(x, (1, 0, 2)), A((4, 2, 3)),
         torch=lambda T, x: T.permute(x, (1, 0, 2))),
    case("permute-T", lambda x: x.T, A((2, 3))),
    case("permute-T-3d", lambda x: x.T, A((4, 2, 3)), torch=lambda T, x: x.permute(2, 1, 0)),
    case("transpose-args", lambda x: x.transpose(0, 2), A((4, 2, 3))),
    case("transpose-default", th.transpose, A((4, 2, 3)), torch=lambda T, x: x.transpose(-2, -1)),
    case("transpose-mT", lambda x: x.mT, A((4, 2, 3))),
]
INDICES = [("int", 1), ("negative-int", -1), ("slice", slice(1, 3)), ("reversed", slice(None, None, -1)),
           ("negative-step", slice(None, None, -2)), ("two-ints", (1, 2)), ("column", (slice(None), 1)),
           ("ellipsis", (Ellipsis, 0)), ("newaxis", (None, slice(1, None))), ("list-repeats", [0, 0, 2]),
           ("array-repeats", np.array([3, 1, 3, 3])), ("pairs-repeats", ([0, 0, 1], [1, 1, 2])),
           ("columns-repeats", (slice(None), [2, 2, 0])), ("array-and-reversed", (np.array([1, 1]), slice(None, None, -1))),
           ("row-mask", ROWS), ("row-mask-and-int", (ROWS, 1)), ("mask", MASK43)]


def torch_index(index):
    def fn(T, x):
        parts = index if isinstance(index, tuple) else (index,)
        flips = [d for d, p in enumerate(parts) if isinstance(p, slice) and p.step is not None and p.step < 0]
        if flips:  # torch has no negative steps: flip, then step forwards
            x = x.flip(flips)
            parts = tuple(slice(None, None, -p.step) if d in flips else p for d, p in enumerate(parts))
        return x[tt(T, parts if isinstance(index, tuple) else parts[0])]
    return fn


GETITEM = [case(f"getitem-{name}", lambda x, index=index: x[index], A((4, 3)), torch=torch_index(index))
           for name, index in INDICES]
GETITEM += [
    case("getitem-vector-repeats", lambda x: x[[1, 1, 1, 0]], A((3,)), torch=lambda T, x: x[[1, 1, 1, 0]]),
    case("getitem-tensor-index", lambda x: x[th.tensor([2, 0, 2])], A((3, 2)),
         torch=lambda T, x: x[T.tensor([2, 0, 2])]),
    case("getitem-tensor-mask", lambda x: x[x > 0], A((2, 3)), torch=lambda T, x: x[x > 0]),
    case("getitem-3d-mixed", lambda x: x[1:, [0, 0], ::2], A((4, 2, 3)), torch=lambda T, x: x[1:, [0, 0], ::2]),
    case("getitem-used-twice", lambda x: x[0] * x[1] + x[0], A((2, 3))),
]


@pytest.mark.parametrize("fn, specs, torch_fn", SHAPES + GETITEM)
def test_shapes_and_indexing(fn, specs, torch_fn):
    check_grads(fn, specs)


# ---------------------------------------------------------------------- matmul
MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                 ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)),
                 ((5, 2, 3), (5, 3, 2))]
MATMUL = [case(f"matmul-{sa}-{sb}", lambda a, b: a @ b, A(sa), A(sb)) for sa, sb in MATMUL_SHAPES]
MATMUL += [
    case("matmul-function", th.matmul, A((2, 3)), A((3, 4)), torch=lambda T, a, b: T.matmul(a, b)),
    case("matmul-method", lambda a, b: a.matmul(b), A((3,)), A((3, 2))),
    case("matmul-numpy-left", lambda b: NP23 @ b, A((3, 2)), torch=lambda T, b: tt(T, NP23) @ b),
    case("matmul-numpy-right", lambda a: a @ NP3, A((4, 2, 3)), torch=lambda T, a: a @ tt(T, NP3)),
    case("matmul-same-input", lambda a: a @ a.T, A((2, 3))),
]


@pytest.mark.parametrize("fn, specs, torch_fn", MATMUL)
def test_matmul(fn, specs, torch_fn):
    check_grads(fn, specs)


# ---------------------------------------------------------------------- joining
JOIN = [
    case("concatenate-axis0", lambda a, b, c: th.concatenate([a, b, c]), A((1, 3)), A((2, 3)), A((3, 3)),
         torch=lambda T, a, b, c: T.cat([a, b, c])),
    case("concatenate-axis1", lambda a, b: th.concatenate((a, b), axis=1), A((2, 1)), A((2, 3)),
         torch=lambda T, a, b: T.cat([a, b], dim=1)),
    case("concatenate-axis-neg", lambda a, b: th.concatenate([a, b], -1), A((4, 2, 1)), A((4, 2, 2)),
         torch=lambda T, a, b: T.cat([a, b], dim=-1)),
    case("concatenate-vectors", lambda a, b: th.concatenate([a, b]), A((3,)), A((2,)),
         torch=lambda T, a, b: T.cat([a, b])),
    case("concatenate-numpy", lambda a: th.concatenate([NP23, a], axis=0), A((1, 3)),
         torch=lambda T, a: T.cat([tt(T, NP23), a])),
    case("concatenate-same-twice", lambda a: th.concatenate([a, a * 2]), A((2, 3)),
         torch=lambda T, a: T.cat([a, a * 2])),
    case("cat-axis1", lambda a, b: th.cat([a, b], 1), A((2, 2)), A((2, 3)), torch=lambda T, a, b: T.cat([a, b], 1)),
    case("cat-dim", lambda a, b: th.cat([a, b], dim=0), A((2, 3)), A((1, 3)), torch=lambda T, a, b: T.cat([a, b], 0)),
    case("stack-axis0", lambda a, b: th.stack([a, b]), A((2, 3)), A((2, 3)), torch=lambda T, a, b: T.stack([a, b])),
    case("stack-axis1", lambda a, b, c: th.stack([a, b, c], axis=1), A((2, 3)), A((2, 3)), A((2, 3)),
         torch=lambda T, a, b, c: T.stack([a, b, c], dim=1)),
    case("stack-axis-neg", lambda a, b: th.stack((a, b), -1), A((4, 2)), A((4, 2)),
         torch=lambda T, a, b: T.stack([a, b], dim=-1)),
    case("stack-scalars", lambda a, b: th.stack([a, b, a]), A(()), A(()), torch=lambda T, a, b: T.stack([a, b, a])),
    case("stack-dim", lambda a, b: th.stack([a, b], dim=2), A((2, 3)), A((2, 3)),
         torch=lambda T, a, b: T.stack([a, b], dim=2)),
]


@pytest.mark.parametrize("fn, specs, torch_fn", JOIN)
def test_join(fn, specs, torch_fn):
    check_grads(fn, specs)


# ---------------------------------------------------------------------- softmax, fused layers, losses
def F(T):
    return T.nn.functional


SOFTMAX = [case(f"{name}-{shape}-axis{axis}", lambda x, name=name, axis=axis: getattr(th, name)(x, axis), A(shape),
                torch=lambda T, x, name=name, axis=axis: getattr(T, name)(x, axis))
           for name in ["softmax", "log_softmax"] for shape in [(3,), (2, 3), (4, 2, 3)]
           for axis in range(-1, len(shape))]
SOFTMAX += [
    case("softmax-method-dim", lambda x: x.softmax(dim=0), A((2, 3))),
    case("softmax-method-default", lambda x: x.softmax(), A((4, 2, 3)), torch=lambda T, x: x.softmax(-1)),
    case("softmax-function-dim", lambda x: th.softmax(x, dim=1), A((2, 3)), torch=lambda T, x: T.softmax(x, 1)),
    case("softmax-axis-keyword", lambda x: th.softmax(x, axis=0), A((2, 3)), torch=lambda T, x: T.softmax(x, 0)),
    case("log_softmax-method-dim", lambda x: x.log_softmax(dim=-1), A((4, 2, 3))),
    case("log_softmax-function-dim", lambda x: th.log_softmax(x, dim=0), A((2, 3)),
         torch=lambda T, x: T.log_softmax(x, 0)),
    case("log_softmax-large", lambda x: th.log_softmax(x * 400.0), A((2, 3)), torch=lambda T, x: T.log_softmax(x * 400, -1)),
]
LAYERS = [
    case("linear-bias", ops.linear, A((3, 4)), A((2, 4)), A((2,)), torch=lambda T, x, w, b: F(T).linear(x, w, b)),
    case("linear-no-bias", ops.linear, A((3, 4)), A((2, 4)), torch=lambda T, x, w: F(T).linear(x, w)),
    case("linear-vector", ops.linear, A((4,)), A((2, 4)), A((2,)), torch=lambda T, x, w, b: F(T).linear(x, w, b)),
    case("linear-batch-dims", ops.linear, A((2, 3, 4)), A((2, 4)), A((2,)),
         torch=lambda T, x, w, b: F(T).linear(x, w, b)),
    case("linear-batch-dims-no-bias", ops.linear, A((2, 1, 3, 4)), A((5, 4)), torch=lambda T, x, w: F(T).linear(x, w)),
    case("linear-wide", ops.linear, A((2, 3)), A((64, 3)), A((64,)), torch=lambda T, x, w, b: F(T).linear(x, w, b)),
    case("linear-numpy-input", lambda w, b: ops.linear(NP23, w, b), A((4, 3)), A((4,)),
         torch=lambda T, w, b: F(T).linear(tt(T, NP23), w, b)),
    case("linear-functional", th.nn.functional.linear, A((3, 4)), A((2, 4)), A((2,)),
         torch=lambda T, x, w, b: F(T).linear(x, w, b)),
]
PROBS = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.1, 0.1, 0.8], [0.6, 0.2, 0.2]])
BCE_TARGET = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.9]])
WEIGHT = np.array([[1.0, 0.0, 2.0], [0.5, 1.0, 1.0]])
LOSSES = [
    case(f"cross_entropy-labels-{red}", lambda z, red=red: rules.cross_entropy(z, LABELS, reduction=red), A((4, 3)),
         torch=lambda T, z, red=red: F(T).cross_entropy(z, tt(T, LABELS), reduction=red))
    for red in ["mean", "sum", "none"]]
LOSSES += [
    case(f"cross_entropy-probs-{red}", lambda z, red=red: rules.cross_entropy(z, PROBS, reduction=red), A((4, 3)),
         torch=lambda T, z, red=red: F(T).cross_entropy(z, tt(T, PROBS), reduction=red))
    for red in ["mean", "sum", "none"]]
LOSSES += [
    case("cross_entropy-large-logits", lambda z: rules.cross_entropy(z * 300.0, LABELS), A((4, 3)),
         torch=lambda T, z: F(T).cross_entropy(z * 300.0, tt(T, LABELS))),
    case("cross_entropy-tensor-labels", lambda z: rules.cross_entropy(z, th.tensor(LABELS)), A((4, 3)),
         torch=lambda T, z: F(T).cross_entropy(z, tt(T, LABELS))),
]
LOSSES += [
    case(f"binary_cross_entropy_with_logits-{red}",
         lambda z, red=red: rules.binary_cross_entropy_with_logits(z, BCE_TARGET, reduction=red), A((2, 3)),
         torch=lambda T, z, red=red: F(T).binary_cross_entropy_with_logits(z, tt(T, BCE_TARGET), reduction=red))
    for red in ["mean", "sum", "none"]]
LOSSES += [
    case("binary_cross_entropy_with_logits-weight",
         lambda z: rules.binary_cross_entropy_with_logits(z, BCE_TARGET, weight=WEIGHT), A((2, 3)),
         torch=lambda T, z: F(T).binary_cross_entropy_with_logits(z, tt(T, BCE_TARGET), weight=tt(T, WEIGHT))),
    case("binary_cross_entropy_with_logits-vector",
         lambda z: rules.binary_cross_entropy_with_logits(z, BCE_TARGET[0]), A((3,)),
         torch=lambda T, z: F(T).binary_cross_entropy_with_logits(z, tt(T, BCE_TARGET[0]))),
    case("binary_cross_entropy_with_logits-large",
         lambda z: rules.binary_cross_entropy_with_logits(z * 200.0, BCE_TARGET), A((2, 3)),
         torch=lambda T, z: F(T).binary_cross_entropy_with_logits(z * 200.0, tt(T, BCE_TARGET))),
]


@pytest.mark.parametrize("fn, specs, torch_fn", SOFTMAX + LAYERS + LOSSES)
def test_softmax_layers_losses(fn, specs, torch_fn):
    check_grads(fn, specs)


ALL = ARITHMETIC + ELEMENTWISE + REDUCTIONS + SHAPES + GETITEM + MATMUL + JOIN + SOFTMAX + LAYERS + LOSSES


# ---------------------------------------------------------------------- the checks
def check_grads(fn, specs):
    """backward() against central differences (float64), for every input."""
    gradcheck(fn, *[th.tensor(a, requires_grad=True) for a in make_inputs(specs)], raise_exception=True)


def run(fn, arrays, seed=1):
    """Forward values and the gradients of Σ out · r (r fixed and random) with respect to each input."""
    xs = [th.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    r = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    (out * r).sum().backward()
    return out, [x.grad for x in xs]


def check_same_as_torch(fn, specs, torch_fn):
    """Forward values and input gradients against the same expression in PyTorch (float64)."""
    torch = pytest.importorskip("torch")
    arrays = make_inputs(specs)
    out, grads = run(fn, arrays)
    xs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    expected = fn(*xs) if torch_fn is None else torch_fn(torch, *xs)
    r = np.random.default_rng(1).standard_normal(out.shape)
    (expected * torch.from_numpy(np.asarray(r))).sum().backward()
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    for i, (g, x) in enumerate(zip(grads, xs)):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, x.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"gradient of input {i}")


def check_float32(fn, specs):
    """Run in float32, an expression stays float32: output and every gradient."""
    arrays = [a.astype(np.float32) for a in make_inputs(specs)]
    out, grads = run(fn, arrays)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 and g.shape == a.shape for g, a in zip(grads, arrays))


@pytest.mark.parametrize("fn, specs, torch_fn", ALL)
def test_same_as_torch(fn, specs, torch_fn):
    check_same_as_torch(fn, specs, torch_fn)


# NumPy float64 constants promote a float32 expression to float64 (as in NumPy and torch); astype-float64 asks to
FLOAT32 = [p for p in ALL if "numpy" not in p.id and "float64" not in p.id]


@pytest.mark.parametrize("fn, specs, torch_fn", FLOAT32)
def test_float32_stays_float32(fn, specs, torch_fn):
    check_float32(fn, specs)


def test_every_op_has_cases():
    names = {p.id.split("-")[0] for p in ALL}
    assert set(ops.__all__) <= names, f"ops without a case: {sorted(set(ops.__all__) - names)}"


# ---------------------------------------------------------------------- dtype and error behaviour of single ops
def test_astype_sends_the_gradient_back_in_the_source_dtype():
    x = th.tensor([1.0, -2.0], requires_grad=True)  # float32
    y = x.double()
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [2.0, -4.0])


def test_astype_to_integers_leaves_the_graph():
    x = th.tensor([1.5, -2.5], requires_grad=True)
    y = x.astype(np.int64)
    assert y.dtype == np.int64 and not y.requires_grad


def test_stable_losses_at_extreme_logits():
    z = th.tensor([[1000.0, -1000.0]], dtype=np.float64, requires_grad=True)
    loss = rules.cross_entropy(z, np.array([1]))
    loss.backward()
    assert np.isclose(loss.item(), 2000.0)
    np.testing.assert_allclose(z.grad, [[1.0, -1.0]])
    z = th.tensor([-800.0, 800.0], dtype=np.float64, requires_grad=True)
    loss = rules.binary_cross_entropy_with_logits(z, np.array([1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.data, [800.0, 0.0])
    loss.sum().backward()
    np.testing.assert_allclose(z.grad, [-1.0, 0.0])


@pytest.mark.parametrize("call, error, match", [
    (lambda: ops.linear(th.ones(2, 3), th.ones(4, 5)), ValueError, r"3 features.*\(2, 3\).*expects 5.*\(4, 5\)"),
    (lambda: rules.cross_entropy(th.ones(2, 3), np.array([0, 3])), ValueError, "label 3 at index 1.*3 classes"),
    (lambda: rules.cross_entropy(th.ones(2, 3), np.array([0, 1, 2])), ValueError, r"shape \(2,\)"),
    (lambda: rules.cross_entropy(th.ones(3), np.array([0])), ValueError, r"\(N, C\), got \(3,\)"),
    (lambda: rules.cross_entropy(th.ones(2, 3), np.ones(2, bool)), TypeError, "dtype bool"),
    (lambda: rules.cross_entropy(th.ones(2, 3), np.array([0, 1]), reduction="avg"), ValueError, "'avg'"),
    (lambda: rules.binary_cross_entropy_with_logits(th.ones(2, 3), np.ones(3)), ValueError, r"\(3,\) != .*\(2, 3\)"),
])
def test_errors_name_what_was_wrong(call, error, match):
    with pytest.raises(error, match=match):
        call()
