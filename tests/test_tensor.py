"""The Tensor and its backward engine: accumulation, graph lifetime, grad mode, dtypes, constructors."""
import numpy as np
import pytest

import thetas as th
from thetas.tensor import make


# ---------------------------------------------------------------------- the chain rule's sum over paths
def test_value_used_twice_gets_both_contributions():
    x = th.tensor(3.0, requires_grad=True)
    y = x * x + x          # dy/dx = 2x + 1
    y.backward()
    assert x.grad == pytest.approx(7.0)


def test_diamond_graph():
    a = th.tensor([1.5, -2.0], dtype=np.float64, requires_grad=True)
    b, c = a * 2, a + 1    # two paths from a to d
    d = (b * c).sum()      # d = 2a(a + 1):  dd/da = 4a + 2
    d.backward()
    np.testing.assert_allclose(a.grad, 4 * a.data + 2)


def test_gradients_accumulate_over_backward_calls():
    x = th.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 3 + 2 * x.data)


def test_only_leaves_that_require_grad_receive_grad():
    x = th.tensor([1.0, 2.0], requires_grad=True)
    c = th.tensor([5.0, 6.0])
    h = x * c
    h.sum().backward()
    np.testing.assert_allclose(x.grad, c.data)
    assert c.grad is None and h.grad is None
    assert x.is_leaf and not h.is_leaf


def test_long_chain_has_no_recursion_limit():
    w = th.tensor(0.5, dtype=np.float64, requires_grad=True)
    x = th.tensor(0.1, dtype=np.float64)
    h = th.tensor(0.0, dtype=np.float64)
    for _ in range(10_000):
        h = (h * w + x).tanh()
    h.backward()
    # forward-mode reference: h_t = tanh(h_{t-1} w + x),  dh_t/dw = (1 - h_t²)(h_{t-1} + w dh_{t-1}/dw)
    v, dv = 0.0, 0.0
    for _ in range(10_000):
        v_new = np.tanh(v * 0.5 + 0.1)
        v, dv = v_new, (1 - v_new ** 2) * (v + 0.5 * dv)
    assert h.item() == pytest.approx(v, rel=1e-12)
    assert w.grad == pytest.approx(dv, rel=1e-9)
    chain = th.tensor(0.0, requires_grad=True)
    for _ in range(10_000):  # an unused deep graph is freed without blowing the C stack
        chain = chain * 1.0 + 1.0
    del chain


# ---------------------------------------------------------------------- graph lifetime
def test_backward_twice_needs_retain_graph():
    x = th.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = th.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * (2 * x.data))


def test_retain_grad_on_a_non_leaf():
    x = th.tensor([1.0, -2.0], requires_grad=True)
    h = (x * 3).retain_grad()
    z = x * 2              # not retained
    (h * h + z).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)
    np.testing.assert_allclose(x.grad, 3 * 2 * h.data + 2)
    assert z.grad is None


def test_shared_gradients_are_not_aliased():
    a = th.tensor([1.0, 2.0], requires_grad=True)
    b = th.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad += 1            # the user's own in-place edit
    np.testing.assert_allclose(a.grad, [2.0, 2.0])
    np.testing.assert_allclose(b.grad, [1.0, 1.0])


def test_the_given_gradient_is_not_aliased():
    a = th.tensor([1.0, 2.0], requires_grad=True)
    b = th.tensor([3.0, 4.0], requires_grad=True)
    g = np.array([1.0, -1.0], np.float32)
    (a + b).backward(g)
    g *= 10
    np.testing.assert_allclose(a.grad, [1.0, -1.0])
    np.testing.assert_allclose(b.grad, [1.0, -1.0])
    a.grad += 5
    np.testing.assert_allclose(b.grad, [1.0, -1.0])


def test_backward_errors_name_the_problem():
    x = th.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"single number, got shape \(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\), tensor has shape \(2, 3\)"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        th.ones(2).sum().backward()


def test_backward_with_a_gradient_for_a_non_scalar():
    x = th.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(th.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(x.grad, [2.0, 0.0, 12.0])


def test_custom_rule_with_make():
    x = th.tensor([1.0, 4.0], requires_grad=True)
    y = make(x.data ** 3, (x,), lambda g: (g * 3 * x.data ** 2,))
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 48.0])
    assert not make(x.data, (th.tensor(1.0),), lambda g: (g,)).requires_grad


# ---------------------------------------------------------------------- grad mode
def test_no_grad_context_records_nothing():
    x = th.tensor([1.0, 2.0], requires_grad=True)
    with th.no_grad():
        assert not th.is_grad_enabled()
        y = x * 2 + 1
        with th.enable_grad():
            z = x * 2
    assert th.is_grad_enabled()
    assert not y.requires_grad and y._parents == () and y.is_leaf
    assert z.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_decorator_records_nothing_and_restores_on_error():
    @th.no_grad()
    def step(t):
        return t * 3

    @th.no_grad()
    def fails():
        raise KeyError("boom")

    x = th.tensor([1.0], requires_grad=True)
    assert not step(x).requires_grad
    assert step.__name__ == "step"
    with pytest.raises(KeyError):
        fails()
    assert th.is_grad_enabled() and (x * 3).requires_grad


def test_detach_cuts_the_graph_and_shares_data():
    x = th.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = (x * d).sum()      # d is a constant here
    y.backward()
    np.testing.assert_allclose(x.grad, d.data)
    x2 = x.detach()
    assert np.shares_memory(x2.data, x.data)


# ---------------------------------------------------------------------- dtypes
def test_default_dtype_is_float32():
    assert th.get_default_dtype() == np.float32
    assert th.tensor(1.0).dtype == np.float32
    assert th.tensor([1.0, 2]).dtype == np.float32
    assert th.zeros(2).dtype == th.ones(2).dtype == th.randn(2).dtype == th.rand(2).dtype == np.float32


def test_numpy_dtypes_are_kept():
    assert th.tensor(np.zeros(2)).dtype == np.float64
    assert th.tensor(np.zeros(2, np.float16)).dtype == np.float16
    assert th.tensor([1, 2]).dtype == np.int64
    assert th.tensor([True, False]).dtype == np.bool_
    assert th.tensor([1, 2], dtype=np.float64).dtype == np.float64


def test_float64_is_kept_through_ops_and_gradients():
    x = th.tensor(np.array([0.3, -1.2]), requires_grad=True)
    y = (x.exp() * 2.0 - 1 + x @ x).tanh().sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64
    z = x * np.float64(0.1)  # a NumPy scalar is not rounded to float32
    assert z.dtype == np.float64 and z.data[0] == 0.3 * 0.1


def test_python_and_numpy_scalars_do_not_promote_float32():
    y = th.tensor([0.25, 0.5])
    for r in [1.0 - y, y * 2, 2 ** y, y / 3.0, y - True, y * np.float64(0.1), np.int64(2) * y, y ** 0.5]:
        assert r.dtype == np.float32


def test_a_float32_leaf_gets_a_float32_grad():
    x = th.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * np.array([1.0, 2.0])).sum().backward()
    assert x.grad.dtype == np.float32


def test_set_default_dtype():
    try:
        th.set_default_dtype(np.float64)
        assert th.tensor([1.0]).dtype == np.float64 and th.randn(2).dtype == np.float64
        assert th.tensor(np.zeros(1, np.float32)).dtype == np.float32
    finally:
        th.set_default_dtype(np.float32)
    with pytest.raises(TypeError, match="floating dtype, got int64"):
        th.set_default_dtype(np.int64)


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="int64"):
        th.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        th.arange(3).requires_grad_()
    with pytest.raises(TypeError, match="object"):
        th.tensor(np.array(["a"], dtype=object))


# ---------------------------------------------------------------------- NumPy interplay
def test_numpy_array_on_the_left_gives_a_tensor():
    t = th.tensor([1.0, 2.0, 4.0], requires_grad=True)
    a = np.array([2.0, 3.0, 5.0], np.float32)
    results = [a + t, a - t, a * t, a / t, a ** t, a @ t]
    assert all(isinstance(r, th.Tensor) for r in results)
    np.testing.assert_allclose((a - t).data, a - t.data)
    np.testing.assert_allclose((a @ t).data, a @ t.data)
    sum(r.sum() for r in results).backward()
    assert t.grad is not None
    lt = np.array([0.0, 3.0, 5.0]) < t
    assert isinstance(lt, th.Tensor) and lt.tolist() == [True, False, False]


def test_numpy_functions_read_tensors():
    t = th.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert np.asarray(t) is t.data
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert float(np.sum(np.asarray(t))) == 10.0


# ---------------------------------------------------------------------- constructors
@pytest.mark.parametrize("make_one", [lambda g: th.randn(2, 3, generator=g), lambda g: th.rand((2, 3), generator=g)])
def test_random_constructors_are_reproducible(make_one):
    a, b = make_one(7), make_one(7)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(make_one(np.random.default_rng(7)).data, a.data)
    assert not np.array_equal(make_one(8).data, a.data)
    th.manual_seed(3)
    c = make_one(None)
    th.manual_seed(3)
    np.testing.assert_array_equal(make_one(None).data, c.data)
    assert th.default_generator() is not None


def test_rand_is_uniform_on_0_1():
    x = th.rand(1000, generator=0).data
    assert x.min() >= 0 and x.max() < 1 and 0.45 < x.mean() < 0.55


def test_generator_type_errors():
    with pytest.raises(TypeError, match="got str"):
        th.randn(2, generator="seed")


def test_constructors_shapes_dtypes_and_flags():
    assert th.zeros(2, 3).shape == th.zeros((2, 3)).shape == (2, 3)
    assert th.ones(4, dtype=np.float64).dtype == np.float64
    f = th.full((2, 2), 7.0, requires_grad=True)
    assert f.requires_grad and f.data.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert th.full(3, 1.0).shape == (3,)
    assert th.arange(4).dtype == np.int64 and th.arange(4).tolist() == [0, 1, 2, 3]
    assert th.arange(0, 1, 0.25).dtype == np.float32 and len(th.arange(0, 1, 0.25)) == 4
    assert th.arange(1, 7, 2).tolist() == [1, 3, 5]
    x = th.tensor(np.ones((2, 3)))
    assert th.zeros_like(x).dtype == np.float64 and th.ones_like(x).shape == (2, 3)
    assert th.zeros_like(x, dtype=np.float32).dtype == np.float32


def test_tensor_copies_its_input():
    a = np.array([1.0, 2.0])
    t = th.tensor(a)
    a[0] = 9
    assert t.data[0] == 1.0


# ---------------------------------------------------------------------- attributes
def test_attributes():
    x = th.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and len(x) == 2 and x.numel() == 6
    assert x.dtype == np.float32
    assert isinstance(x.numpy(), np.ndarray) and x.numpy() is x.data
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    np.testing.assert_array_equal(x.T.data, x.data.T)
    b = th.zeros(5, 2, 3)
    assert b.mT.shape == (5, 3, 2) and b.T.shape == (3, 2, 5)


def test_item_and_conversions():
    s = th.tensor([[2.5]])
    assert s.item() == 2.5 and isinstance(s.item(), float)
    assert float(s) == 2.5 and int(th.tensor(3)) == 3 and bool(th.tensor(1.0))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        th.tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match=r"ambiguous"):
        bool(th.tensor([1.0, 2.0]))


def test_comparisons_give_boolean_tensors_outside_the_graph():
    x = th.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r, expected in [(x > 2, [0, 0, 1]), (x >= 2, [0, 1, 1]), (x < 2, [1, 0, 0]), (x <= 2, [1, 1, 0]),
                        (x == 2, [0, 1, 0]), (x != 2, [1, 0, 1]), (x == th.tensor([1.0, 0, 3]), [1, 0, 1])]:
        assert isinstance(r, th.Tensor) and r.dtype == np.bool_ and not r.requires_grad
        assert r.tolist() == [bool(e) for e in expected]
    assert len({x, th.tensor([1.0])}) == 2  # hashable by identity


def test_argmax_argmin():
    x = th.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert x.argmax().item() == 3 and x.argmax(axis=1).tolist() == [1, 0] and x.argmin(dim=0).tolist() == [0, 1, 0]


def test_repr():
    assert repr(th.tensor([1.0, 2.5])) == "tensor([1. , 2.5])"
    assert repr(th.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(th.tensor(np.array([0.5]))) == "tensor([0.5], dtype=float64)"
    assert repr(th.tensor([1, 2])) == "tensor([1, 2])"
    assert "\n" in repr(th.zeros(2, 2)) and repr(th.zeros(2, 2)).startswith("tensor([[0., 0.],")


def test_grad_mode_is_per_thread():
    """One thread inside no_grad(), another training: the training thread's graph and gradients are intact."""
    import threading

    import thetas as th
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 3)), rng.integers(0, 2, 64)
    inside, leave = threading.Event(), threading.Event()
    seen = {}

    def evaluator():
        with th.no_grad():
            seen["evaluator"] = th.is_grad_enabled()
            inside.set()
            leave.wait(10)

    t = threading.Thread(target=evaluator)
    t.start()
    assert inside.wait(10)
    try:
        theta = th.zeros(3, dtype=np.float64, requires_grad=True)
        for _ in range(5):    # gradient ascent on LL(θ) while the other thread sits in no_grad()
            theta.grad = None
            ll = th.losses.log_likelihood(y, th.sigmoid(th.tensor(x) @ theta))
            ll.backward()
            expected = ((y - 1 / (1 + np.exp(-x @ theta.data)))[:, None] * x).sum(0)   # Σ (y − ŷ) x
            np.testing.assert_allclose(theta.grad, expected, rtol=1e-10, atol=1e-12)
            theta.data += 0.01 * theta.grad
        assert th.is_grad_enabled()
    finally:
        leave.set()
        t.join()
    assert seen["evaluator"] is False


def test_module_evaluating_restores_each_modules_mode():
    import thetas as th
    model = th.nn.Sequential(th.nn.Linear(2, 3), th.nn.Dropout(0.5), th.nn.Linear(3, 1))
    model[1].eval()                                    # one layer in eval mode on purpose
    with model.evaluating():
        assert not any(m.training for m in model.modules()) and not th.is_grad_enabled()
        assert not model(np.ones((4, 2), np.float32)).requires_grad
    assert th.is_grad_enabled()
    assert [m.training for m in model.modules()] == [True, True, False, True]
