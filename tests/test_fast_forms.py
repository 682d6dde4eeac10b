"""Where thetas runs a faster form of a rule, its textbook form sits beside it as a small function; here the two
are checked to agree (to rounding), on the inputs where the fast form is the one that runs.

  linear's small-batch product     (W @ xᵀ)ᵀ + b       vs  x @ Wᵀ + b               thetas/autograd/ops.py
  the bias gradient                1ᵀg                 vs  Σ_batch g                 thetas/autograd/ops.py
  the one sigmoid                  e^(−x) clipped      vs  1 / (1 + e^(−x))          thetas/autograd/ops.py
  the LSTM's gates                 2σ(2a) − 1, one σ   vs  σ, σ, tanh, σ             thetas/autograd/recurrent.py
  the fused losses                 one op each         vs  their primitive ops       thetas/autograd/losses.py
  Adam's step                      m / (√v̂·k + ε/η_t)  vs  η m̂ / (√v̂ + ε)           thetas/optim/adam.py
"""
import warnings

import numpy as np
import pytest

import thetas as th
from thetas.autograd import losses as fused
from thetas.autograd import ops, recurrent
from thetas.optim import adam

RNG = np.random.default_rng(0)
DTYPES = [np.float32, np.float64]


# ---------------------------------------------------------------------- linear
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows, out, bias", [(1, 64, True), (7, 100, True), (32, 64, False), (32, 257, True)])
def test_linear_small_batch_form_equals_the_textbook_form(rows, out, bias, dtype):
    X = RNG.standard_normal((rows, 20)).astype(dtype)
    W = RNG.standard_normal((out, 20)).astype(dtype)
    b = RNG.standard_normal(out).astype(dtype) if bias else None
    fast, textbook = ops._linear_forward_small_batch(X, W, b), ops._linear_forward(X, W, b)
    assert fast.flags.c_contiguous and fast.dtype == dtype   # as the textbook form's result is
    # the two products sum in different orders: they agree to a few ulps of Σ|x||w| + |b|
    bound = 8 * np.finfo(dtype).eps * (np.abs(X) @ np.abs(W).T + (0 if b is None else np.abs(b)))
    assert np.all(np.abs(fast - textbook) <= bound)
    # the op takes the fast form at these sizes: it gives the same numbers
    y = ops.linear(th.tensor(X), th.tensor(W), None if b is None else th.tensor(b))
    np.testing.assert_array_equal(y.data, fast)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(65, 3), (3, 9), (200, 50), (2, 3), (64, 8)])
def test_bias_gradient_as_ones_times_g_equals_the_sum_over_the_batch(shape, dtype):
    g = RNG.standard_normal(shape).astype(dtype)
    fast = ops._sum_rows(g)
    assert fast.shape == (shape[1],) and fast.dtype == dtype
    # both within rounding of the exact sum: a few ulps of Σ|g| (float32 sums of 200 terms cancel)
    exact, bound = g.astype(np.float64).sum(axis=0), 4 * np.finfo(dtype).eps * np.abs(g).sum(axis=0)
    assert np.all(np.abs(fast - exact) <= bound) and np.all(np.abs(g.sum(axis=0) - exact) <= bound)


def test_linear_bias_gradient_uses_the_fast_form_and_matches_the_textbook_sum():
    x = th.tensor(RNG.standard_normal((100, 4)))
    w = th.tensor(RNG.standard_normal((16, 4)), requires_grad=True)
    b = th.tensor(np.zeros(16), requires_grad=True)
    g = RNG.standard_normal((100, 16))
    ops.linear(x, w, b).backward(g)
    np.testing.assert_allclose(b.grad, g.sum(axis=0), rtol=1e-12)


# ---------------------------------------------------------------------- sigmoid
def test_there_is_one_sigmoid():
    assert recurrent._sigmoid is ops._sigmoid
    assert not hasattr(recurrent, "_sigmoid_")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [50, 10_000])   # below and above the size where the clip is skipped if unneeded
def test_sigmoid_equals_the_textbook_form_and_never_overflows(size, dtype):
    x = (RNG.standard_normal(size) * 10).astype(dtype)
    with np.errstate(over="ignore"):
        textbook = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(ops._sigmoid(x), textbook, rtol=4e-7 if dtype == np.float32 else 1e-15)
    extreme = x.copy()
    extreme[:5] = [-1e4, -800, -100, 100, 1e4]
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # an overflow in exp would raise here
        y = ops._sigmoid(extreme)
        out = extreme.copy()
        assert ops._sigmoid(out, out=out) is out             # in place
    np.testing.assert_array_equal(out, y)
    assert np.all((y >= 0) & (y <= 1)) and y[3] == y[4] == 1 and y[0] < 1e-37
    np.testing.assert_allclose(y[5:], textbook[5:], rtol=4e-7 if dtype == np.float32 else 1e-15)


# ---------------------------------------------------------------------- LSTM gates
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_gates_via_2_sigmoid_2a_minus_1_equal_sigmoid_and_tanh(dtype):
    hs = 7
    a = (RNG.standard_normal((5, 4 * hs)) * 4).astype(dtype)
    a[0, :] = np.linspace(-60, 60, 4 * hs)                   # saturated gates too
    a2 = a.copy()
    a2[:, 2 * hs:3 * hs] *= 2                                # what lstm does once to the input part and W_hh
    fast = recurrent._lstm_gates_(a2)
    assert fast is a2
    np.testing.assert_allclose(fast, recurrent._lstm_gates(a), rtol=0, atol=1e-6 if dtype == np.float32 else 1e-14)


def test_tanh_is_2_sigmoid_2a_minus_1():
    a = np.linspace(-30, 30, 2001)
    np.testing.assert_allclose(2 * ops._sigmoid(2 * a) - 1, np.tanh(a), rtol=0, atol=1e-15)


def test_lstm_op_equals_the_textbook_equations_step_by_step():
    b, t, d, hs = 3, 5, 4, 6
    x = RNG.standard_normal((b, t, d))
    h0, c0 = RNG.standard_normal((b, hs)), RNG.standard_normal((b, hs))
    wih, whh = RNG.standard_normal((4 * hs, d)), RNG.standard_normal((4 * hs, hs))
    bih, bhh = RNG.standard_normal(4 * hs), RNG.standard_normal(4 * hs)
    y = recurrent.lstm(th.tensor(x), th.tensor(h0), th.tensor(c0), th.tensor(wih), th.tensor(whh), th.tensor(bih),
                       th.tensor(bhh)).data
    h, c = h0, c0
    for s in range(t):
        gates = recurrent._lstm_gates(x[:, s] @ wih.T + bih + h @ whh.T + bhh)
        i, f, g, o = np.split(gates, 4, axis=-1)
        c = f * c + i * g
        h = o * np.tanh(c)
        np.testing.assert_allclose(y[:, s], h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y[:, t], c, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- fused losses vs their primitive ops
def _grad(fn, z):
    z = th.tensor(z, requires_grad=True)
    loss = fn(z)
    loss.backward()
    return loss.data, z.grad


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fused_cross_entropy_equals_log_softmax_then_pick(reduction):
    z, y = RNG.standard_normal((6, 4)) * 3, RNG.integers(0, 4, 6)
    fast = _grad(lambda z: fused.cross_entropy(z, y, reduction=reduction), z)
    slow = _grad(lambda z: th.losses.nll_loss(ops.log_softmax(z, axis=1), y, reduction=reduction), z)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fused_bce_with_logits_equals_the_textbook_bernoulli_likelihood(reduction):
    z, y = RNG.standard_normal((3, 5)) * 4, RNG.random((3, 5))

    def textbook(z):  # −[y log σ(z) + (1 − y) log(1 − σ(z))]
        p = ops.sigmoid(z)
        losses = -(y * ops.log(p) + (1 - y) * ops.log(1 - p))
        return losses.mean() if reduction == "mean" else losses.sum()
    fast = _grad(lambda z: fused.binary_cross_entropy_with_logits(z, y, reduction=reduction), z)
    for a, b in zip(fast, _grad(textbook, z)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fused_huber_equals_its_piecewise_definition(reduction):
    z, y, delta = RNG.standard_normal(20) * 2, RNG.standard_normal(20), 0.7

    def textbook(z):  # ½d² inside |d| ≤ δ, δ(|d| − ½δ) outside
        d = z - y
        a = ops.abs(d)
        losses = ops.where(a.data <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
        return losses.mean() if reduction == "mean" else losses.sum()
    fast = _grad(lambda z: fused.huber_loss(z, y, reduction=reduction, delta=delta), z)
    for a, b in zip(fast, _grad(textbook, z)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------- Adam
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("t", [1, 2, 10, 1000])
def test_adam_fast_step_equals_the_papers_step(t, dtype):
    lr, beta1, beta2, eps = 3e-3, 0.9, 0.999, 1e-8
    m = RNG.standard_normal(50).astype(dtype)
    v = (RNG.standard_normal(50) ** 2).astype(dtype)
    v[:3] = [0, 1e-20, 1e-12]                                # where ε dominates the denominator
    eta_t = lr / (1 - beta1 ** t)
    k, eps_k = np.array(1 / (eta_t * (1 - beta2 ** t) ** 0.5), dtype), np.array(eps / eta_t, dtype)
    fast = adam._fast_step(m, v, k, eps_k, out=np.empty_like(m))
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    np.testing.assert_allclose(fast, lr * m_hat / (np.sqrt(v_hat) + eps), rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("lr, betas", [(1e-3, (0.9, 0.999)), (0.1, (0.5, 0.9))])
def test_adam_step_equals_the_papers_algorithm_over_several_steps(lr, betas):
    theta0 = RNG.standard_normal((4, 3))
    p = th.nn.Parameter(theta0.copy())
    opt = th.optim.Adam([p], lr=lr, betas=betas)
    theta, m, v = theta0, np.zeros_like(theta0), np.zeros_like(theta0)
    for t in range(1, 8):
        g = RNG.standard_normal(theta0.shape) * 10 ** (t % 3)
        p.grad = g.copy()
        opt.step()
        theta, m, v = adam._textbook_step(theta, g, m, v, t, lr, *betas)
        np.testing.assert_allclose(p.data, theta, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(opt.state[p]["exp_avg"], m, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(opt.state[p]["exp_avg_sq"], v, rtol=1e-12, atol=1e-14)
