"""The Tensor: a NumPy array that remembers how it was made, and the backward pass that walks that memory.

Every operation on Tensors records its inputs (``_parents``) and a closure that turns the gradient of the output
into gradients of the inputs (``_backward``); the rules themselves live in ``thetas/autograd/ops.py``.
``backward()`` visits the recorded graph once, newest operation first (each op result carries its creation
number, and a heap hands out the newest one that has received a gradient: its inputs are all older, so every
use of a value is done before the value itself), and *adds* each contribution, so a value used twice gets both
(the chain rule's sum over paths). Broadcasting is undone here, in one place
(``_unbroadcast``), not in each rule.
"""
from heapq import heappop, heappush
from itertools import count

import numpy as np

from .autograd import grad_mode

_default_dtype = np.dtype(np.float32)
_generator = np.random.default_rng()


def get_default_dtype():
    """The floating dtype of new tensors made from Python numbers and lists (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype):
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _default_dtype = dtype


def manual_seed(seed):
    """Seed the global generator used when no ``generator=`` is given. Returns it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator():
    return _generator


def as_generator(generator=None):
    """A ``np.random.Generator`` from None (the global one), an int seed, or a Generator."""
    if generator is None:
        return _generator
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be None, an int seed or a numpy.random.Generator, got {type(generator).__name__}")


def _as_array(data, dtype=None):
    """NumPy float arrays keep their dtype; Python numbers and lists of floats get the default dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        arr = data
    else:
        arr = np.asarray(data)
        if arr.dtype.kind == "f":
            arr = arr.astype(_default_dtype, copy=False)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"a Tensor holds numbers, got an array of dtype {arr.dtype}")
    return arr


class Tensor:
    """A NumPy array with an optional gradient.

    ``requires_grad=True`` marks a leaf whose ``.grad`` (a NumPy array of the same shape) is filled by
    ``backward()``. Results of operations on such tensors record how they were made.
    """
    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_retain", "_seq", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our reflected operators: ``np_array - tensor`` is a Tensor

    def __init__(self, data, dtype=None, requires_grad=False):
        self.data = _as_array(data, dtype)
        """The values, a NumPy array (the tensor's θ or x itself)."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require gradients, got dtype {self.data.dtype}")
        self.grad = None
        """dLoss/d(this tensor), a NumPy array of the same shape, filled by ``backward()``; None until then."""
        self.requires_grad = bool(requires_grad)
        self._parents = ()
        self._backward = None
        self._retain = False

    # ------------------------------------------------------------------ the backward pass
    def backward(self, gradient=None, retain_graph=False):
        """Fill ``.grad`` of every leaf this tensor depends on with d(self)/d(leaf), accumulating.

        Without ``gradient`` the tensor must hold one number (a loss). The graph is freed afterwards unless
        ``retain_graph=True``.
        """
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad (no input had requires_grad=True, "
                               "or it was computed under th.no_grad())")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a single number, got shape {self.shape}; "
                                   "reduce it first (e.g. .sum() or .mean())")
            gradient = np.ones_like(self.data)
        else:
            # a copy: the caller's array must not become (or alias) a leaf's .grad
            gradient = np.array(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=self.dtype)
            if gradient.shape != self.shape:
                raise ValueError(f"backward(): gradient has shape {gradient.shape}, tensor has shape {self.shape}")
        handed = set()  # ids of arrays already given to a leaf: a second leaf gets a copy, never an alias
        if self._backward is None:
            self._accumulate(gradient, handed)
            return
        # Walk the graph from the loss backwards, newest node first: a node is made after its inputs, so by the
        # time it is the newest one left, every use of it has handed back its share of dLoss/d(node). A heap on
        # the creation number gives that order; a node joins it when its first gradient arrives.
        grads = {id(self): gradient}  # id of a non-leaf -> dLoss/d(it), summed over its uses so far
        pop, heap = grads.pop, [(-self._seq, self)]
        while heap:
            node = heappop(heap)[1]
            g = pop(id(node))
            backward = node._backward
            if backward is None or node._retain:
                node._accumulate(g, handed)
                if backward is None:
                    continue
            for p, pg in zip(node._parents, backward(g)):
                if pg is None or not p.requires_grad:
                    continue
                if pg.shape != p.data.shape:
                    pg = _unbroadcast(pg, p.data.shape)
                if p._backward is None:  # a leaf: its gradient is final, accumulate it now
                    p._accumulate(pg, handed)
                    continue
                key = id(p)
                old = grads.get(key)
                if old is None:
                    grads[key] = pg
                    heappush(heap, (-p._seq, p))
                else:
                    grads[key] = old + pg
            if not retain_graph:
                node._parents, node._backward = (), _freed

    def _accumulate(self, g, handed):
        if g.dtype != self.data.dtype:
            g = g.astype(self.data.dtype)
        if self.grad is None:
            if g.base is not None or id(g) in handed or not g.flags.writeable:
                g = g.copy()
            handed.add(id(g))
            self.grad = g
        else:
            self.grad = self.grad + g

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor too (to look at dLoss/d(activation))."""
        self._retain = True
        return self

    def detach(self):
        """The same data, cut from the graph (no gradient flows through it)."""
        return Tensor(self.data)

    def requires_grad_(self, flag=True):
        """Set ``requires_grad`` in place (floating tensors only) and return the tensor."""
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require gradients, got dtype {self.data.dtype}")
        self.requires_grad = bool(flag)
        return self

    @property
    def is_leaf(self):
        return self._backward is None

    # ------------------------------------------------------------------ NumPy-like attributes
    @property
    def shape(self):
        """The size of each axis, a tuple (NumPy's ``shape``)."""
        return self.data.shape

    @property
    def dtype(self):
        """The NumPy dtype of the values, e.g. float64."""
        return self.data.dtype

    @property
    def ndim(self):
        """The number of axes."""
        return self.data.ndim

    def numel(self):
        """The number of elements (the product of the shape)."""
        return self.data.size

    def __len__(self):
        return len(self.data)

    def numpy(self):
        """The values as a NumPy array: ``data`` itself, not a copy."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError("item(): only a tensor with one element converts to a Python number, "
                             f"got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    def __hash__(self):
        return id(self)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = ""
        if self.data.dtype != _default_dtype and self.data.dtype.kind == "f":
            extras += f", dtype={self.data.dtype}"
        if self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    # ------------------------------------------------------------------ operators (rules in autograd/ops.py)
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __abs__(self): return ops.abs(self)
    def __getitem__(self, index): return ops.getitem(self, index)

    # comparisons give boolean tensors, outside the graph
    def __eq__(self, other): return Tensor(self.data == _data(other))
    def __ne__(self, other): return Tensor(self.data != _data(other))
    def __lt__(self, other): return Tensor(self.data < _data(other))
    def __le__(self, other): return Tensor(self.data <= _data(other))
    def __gt__(self, other): return Tensor(self.data > _data(other))
    def __ge__(self, other): return Tensor(self.data >= _data(other))

    # ------------------------------------------------------------------ methods (same names as the functions)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def abs(self): return ops.abs(self)
    def clip(self, min=None, max=None): return ops.clip(self, min, max)
    clamp = clip
    def sigmoid(self): return ops.sigmoid(self)
    def tanh(self): return ops.tanh(self)
    def relu(self): return ops.relu(self)
    def leaky_relu(self, negative_slope=0.01): return ops.leaky_relu(self, negative_slope)
    def softmax(self, axis=-1, *, dim=None): return ops.softmax(self, axis if dim is None else dim)
    def log_softmax(self, axis=-1, *, dim=None): return ops.log_softmax(self, axis if dim is None else dim)
    def maximum(self, other): return ops.maximum(self, other)
    def minimum(self, other): return ops.minimum(self, other)
    def matmul(self, other): return ops.matmul(self, other)
    def sum(self, axis=None, keepdims=False, *, dim=None): return ops.sum(self, axis if dim is None else dim, keepdims)
    def mean(self, axis=None, keepdims=False, *, dim=None):
        return ops.mean(self, axis if dim is None else dim, keepdims)
    def max(self, axis=None, keepdims=False, *, dim=None): return ops.max(self, axis if dim is None else dim, keepdims)
    def min(self, axis=None, keepdims=False, *, dim=None): return ops.min(self, axis if dim is None else dim, keepdims)
    def var(self, axis=None, keepdims=False, *, dim=None, ddof=0):
        return ops.var(self, axis if dim is None else dim, keepdims, ddof)
    def reshape(self, *shape):
        return ops.reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)
    view = reshape
    def flatten(self, start_dim=0):
        return ops.reshape(self, self.shape[:start_dim] + (-1,))
    def permute(self, *axes):
        return ops.permute(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes)
    def transpose(self, dim0=-2, dim1=-1): return ops.transpose(self, dim0, dim1)
    @property
    def T(self):
        """The tensor with all its axes reversed (the transpose of a matrix)."""
        return ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))
    @property
    def mT(self):
        """The transpose of the last two axes (a batch of matrices, each transposed)."""
        return ops.transpose(self, -2, -1)
    def astype(self, dtype): return ops.astype(self, dtype)
    def float(self): return ops.astype(self, np.float32)
    def double(self): return ops.astype(self, np.float64)
    def argmax(self, axis=None, *, dim=None): return Tensor(self.data.argmax(axis if dim is None else dim))
    def argmin(self, axis=None, *, dim=None): return Tensor(self.data.argmin(axis if dim is None else dim))


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _freed(g):
    raise RuntimeError("backward() through a graph a second time: its intermediate values were freed by the first "
                       "backward(); pass retain_graph=True the first time if you need this")


def _unbroadcast(g, shape):
    """Sum a gradient over the axes that broadcasting added or stretched, back to ``shape``."""
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


_next_seq = count().__next__


def make(data, parents, backward):
    """The result of an operation: a Tensor that records ``parents`` and the derivative closure ``backward``
    (gradient of the output -> tuple of gradients, one per parent, None where there is none) when grad mode is
    on and some parent requires grad."""
    t = object.__new__(Tensor)
    t.data = data
    t.grad = None
    t._retain = False
    if grad_mode._state.enabled:
        for p in parents:
            if p.requires_grad:
                t.requires_grad, t._parents, t._backward = True, parents, backward
                t._seq = _next_seq()   # creation order: a node's inputs always have smaller numbers
                return t
    t.requires_grad, t._parents, t._backward = False, (), None
    return t


# ---------------------------------------------------------------------- constructors
def tensor(data, dtype=None, requires_grad=False):
    """A new Tensor holding a copy of ``data``."""
    arr = _as_array(data, dtype)
    return Tensor(arr.copy() if arr is _data(data) else arr, requires_grad=requires_grad)


def _float_dtype(dtype):
    return _default_dtype if dtype is None else np.dtype(dtype)


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)) else tuple(shape)


def zeros(*shape, dtype=None, requires_grad=False):
    return Tensor(np.zeros(_shape(shape), _float_dtype(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    return Tensor(np.ones(_shape(shape), _float_dtype(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    return Tensor(np.full(_shape((shape,)), fill_value, _float_dtype(dtype)), requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return Tensor(np.zeros_like(_data(t), dtype=dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return Tensor(np.ones_like(_data(t), dtype=dtype), requires_grad=requires_grad)


def randn(*shape, generator=None, dtype=None, requires_grad=False):
    """Samples of N(0, 1)."""
    rng = as_generator(generator)
    return Tensor(rng.standard_normal(_shape(shape)).astype(_float_dtype(dtype)), requires_grad=requires_grad)


def rand(*shape, generator=None, dtype=None, requires_grad=False):
    """Samples of U[0, 1)."""
    rng = as_generator(generator)
    return Tensor(rng.random(_shape(shape)).astype(_float_dtype(dtype)), requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False):
    arr = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is not None:
        arr = arr.astype(dtype)
    elif arr.dtype.kind == "f":
        arr = arr.astype(_default_dtype)
    return Tensor(arr, requires_grad=requires_grad)


from .autograd import ops  # noqa: E402  (ops needs Tensor; Tensor's methods need ops)
