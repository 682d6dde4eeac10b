"""Every loss against torch.nn.functional (value and gradient, every reduction, float64), against central
differences, and at the extremes where a naive formula overflows."""
import re

import numpy as np
import pytest

import thetas as th
from thetas import losses as L

REDUCTIONS = ("mean", "sum", "none")
N, C = 7, 5


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _cases():
    """name -> (thetas fn, torch.nn.functional name, input, target, kwargs); inputs float64, away from kinks."""
    rng = np.random.default_rng(0)
    shape = (N, 3)
    labels = rng.integers(0, C, N)
    labels[:C] = np.arange(C)  # every class appears
    offsets = rng.choice([-1, 1], shape) * rng.uniform(0.2, 3.0, shape)  # |ŷ − y| far from 0 (l1) and δ (huber)
    offsets[np.abs(np.abs(offsets) - 0.5) < 0.1] += 0.3
    offsets[np.abs(np.abs(offsets) - 1.0) < 0.1] += 0.3
    target = rng.normal(size=shape)
    return {
        "bce": (L.binary_cross_entropy, "binary_cross_entropy", rng.uniform(0.05, 0.95, shape),
                rng.integers(0, 2, shape).astype(np.float64), {}),
        "bce_soft_targets_weight": (L.binary_cross_entropy, "binary_cross_entropy", rng.uniform(0.05, 0.95, shape),
                                    rng.uniform(0, 1, shape), {"weight": rng.uniform(0.5, 2, shape)}),
        "bce_with_logits": (L.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits",
                            3 * rng.normal(size=shape), rng.integers(0, 2, shape).astype(np.float64), {}),
        "bce_with_logits_weight": (L.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits",
                                   3 * rng.normal(size=shape), rng.uniform(0, 1, shape),
                                   {"weight": rng.uniform(0.5, 2, shape)}),
        "cross_entropy_labels": (L.cross_entropy, "cross_entropy", 2 * rng.normal(size=(N, C)), labels, {}),
        "cross_entropy_probs": (L.cross_entropy, "cross_entropy", 2 * rng.normal(size=(N, C)),
                                _softmax(rng.normal(size=(N, C))), {}),
        "nll_loss": (L.nll_loss, "nll_loss", np.log(_softmax(rng.normal(size=(N, C)))), labels, {}),
        "mse_loss": (L.mse_loss, "mse_loss", target + offsets, target, {}),
        "l1_loss": (L.l1_loss, "l1_loss", target + offsets, target, {}),
        "huber_loss": (L.huber_loss, "huber_loss", target + offsets, target, {}),
        "huber_loss_delta_0.5": (L.huber_loss, "huber_loss", target + offsets, target, {"delta": 0.5}),
        "huber_loss_delta_2": (L.huber_loss, "huber_loss", target + offsets, target, {"delta": 2.0}),
    }


CASES = _cases()


def _upstream(shape):
    return np.random.default_rng(1).normal(size=shape)


def _thetas(fn, x, target, reduction, kwargs):
    """Loss value and d(loss)/d(input); for 'none' the upstream gradient is random."""
    xt = th.tensor(x, requires_grad=True)
    out = fn(xt, target, reduction=reduction, **kwargs)
    out.backward(_upstream(out.shape) if reduction == "none" else None)
    return out.data, xt.grad


def _torch(torch, name, x, target, reduction, kwargs):
    F = torch.nn.functional
    xt = torch.tensor(x, requires_grad=True)
    kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    out = getattr(F, name)(xt, torch.tensor(target), reduction=reduction, **kw)
    out.backward(torch.tensor(_upstream(tuple(out.shape))) if reduction == "none" else None)
    return out.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_matches_torch(torch, case, reduction):
    fn, name, x, target, kwargs = CASES[case]
    value, grad = _thetas(fn, x, target, reduction, kwargs)
    t_value, t_grad = _torch(torch, name, x, target, reduction, kwargs)
    assert value.dtype == np.float64 and grad.dtype == np.float64
    assert value.shape == t_value.shape
    np.testing.assert_allclose(value, t_value, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad, t_grad, rtol=1e-10, atol=1e-14)


def _central_differences(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_gradient_matches_central_differences(case, reduction):
    fn, _, x, target, kwargs = CASES[case]
    _, grad = _thetas(fn, x, target, reduction, kwargs)

    def f(x):  # the scalar whose gradient backward() computed: the loss, or <upstream, losses> for 'none'
        out = fn(th.tensor(x), target, reduction=reduction, **kwargs).data
        return float((out * _upstream(out.shape)).sum()) if reduction == "none" else float(out)
    np.testing.assert_allclose(grad, _central_differences(f, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", ["bce", "mse_loss"])
def test_gradient_with_respect_to_a_target_that_requires_grad(torch, case):
    fn, name, x, target, kwargs = CASES[case]
    t = th.tensor(target, requires_grad=True)
    fn(th.tensor(x), t, **kwargs).backward()
    tt = torch.tensor(target, requires_grad=True)
    getattr(torch.nn.functional, name)(torch.tensor(x), tt, **kwargs).backward()
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-10)


# ------------------------------------------------------------------------------------------------ extremes
Z_EXTREME = np.array([100.0, -100.0, 100.0, -100.0, 0.0])
Y_EXTREME = np.array([1.0, 0.0, 0.0, 1.0, 1.0])


def test_bce_with_logits_is_exact_at_large_logits(torch):
    z = th.tensor(Z_EXTREME, requires_grad=True)
    losses = L.binary_cross_entropy_with_logits(z, Y_EXTREME, reduction="none")
    losses.backward(np.ones(5))
    # −log σ(z) for the right answer is log(1 + e^-100) ≈ 3.7e-44, not 0 and not log(1 + 0); the wrong answer costs 100
    sign = 2 * Y_EXTREME - 1  # −log σ(z) for y = 1, −log σ(−z) for y = 0
    expected = np.logaddexp(0.0, -sign * Z_EXTREME)
    assert expected[0] == pytest.approx(np.exp(-100.0), rel=1e-15, abs=0) and expected[2] == 100.0
    assert np.all(np.isfinite(losses.data)) and np.all(np.isfinite(z.grad))
    np.testing.assert_allclose(losses.data, expected, rtol=1e-15, atol=0)
    # dz = σ(z) − y; float64 rounds σ(100) to 1, so gradients below 1e-40 may read 0 (torch does the same)
    sigma = np.exp(-np.logaddexp(0.0, -Z_EXTREME))
    np.testing.assert_allclose(z.grad, sigma - Y_EXTREME, rtol=1e-15, atol=1e-40)
    t_z = torch.tensor(Z_EXTREME, requires_grad=True)
    t_losses = torch.nn.functional.binary_cross_entropy_with_logits(t_z, torch.tensor(Y_EXTREME), reduction="none")
    t_losses.sum().backward()
    # torch reads log(1 + e^-100) as 0 for z = −100, y = 0, where thetas keeps the exact 3.7e-44
    np.testing.assert_allclose(losses.data, t_losses.detach().numpy(), rtol=1e-15, atol=1e-40)
    np.testing.assert_allclose(z.grad, t_z.grad.numpy(), rtol=1e-15, atol=1e-40)


def test_bce_with_logits_float32_stays_finite_at_large_logits():
    z = th.tensor(Z_EXTREME.astype(np.float32), requires_grad=True)
    loss = L.binary_cross_entropy_with_logits(z, Y_EXTREME.astype(np.float32))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32
    assert loss.item() == pytest.approx((100 + 100 + np.log(2)) / 5, rel=1e-6)
    np.testing.assert_allclose(z.grad, (np.array([0, 0, 1, -1, 0.5]) - [0, 0, 0, 0, 1]) / 5, atol=1e-7)


def test_bce_on_saturated_probabilities_matches_torch(torch):
    # ŷ = 0 or 1 exactly (σ(z) rounds there in float32 for |z| > 17): each log is floored at −100, as in torch
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    x = th.tensor(p, requires_grad=True)
    losses = L.binary_cross_entropy(x, y, reduction="none")
    losses.backward(np.ones(5))
    np.testing.assert_allclose(losses.data, [0, 0, 100, 100, np.log(2)], rtol=1e-15)
    t_x = torch.tensor(p, requires_grad=True)
    t_losses = torch.nn.functional.binary_cross_entropy(t_x, torch.tensor(y), reduction="none")
    t_losses.sum().backward()
    np.testing.assert_allclose(losses.data, t_losses.detach().numpy(), rtol=1e-15)
    # dŷ = (ŷ − y) / max(ŷ(1 − ŷ), 1e-12): ±1e12 where ŷ is wrong; torch's 1e-12 is a float32 constant (4e-9 off)
    np.testing.assert_allclose(x.grad, [0, 0, -1e12, 1e12, -2], rtol=1e-15)
    np.testing.assert_allclose(x.grad, t_x.grad.numpy(), rtol=1e-8)


def test_bce_float32_sigmoid_saturation_gives_a_finite_loss():
    z = th.tensor(np.array([20.0, -20.0], np.float32), requires_grad=True)
    p = th.sigmoid(z)
    assert p.data[0] == 1.0  # float32 rounds σ(20) to 1: log(1 − ŷ) = log 0 unless guarded
    loss = L.binary_cross_entropy(p, np.array([0.0, 1.0], np.float32))
    loss.backward()
    assert loss.item() == pytest.approx((100 + np.logaddexp(0.0, 20.0)) / 2, rel=1e-6)  # log 0 floored at −100
    assert np.all(np.isfinite(z.grad))


def test_cross_entropy_is_stable_at_large_logits(torch):
    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]])
    y = np.array([2, 1])
    x = th.tensor(z, requires_grad=True)
    loss = L.cross_entropy(x, y)
    loss.backward()
    t_x = torch.tensor(z, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(t_x, torch.tensor(y))
    t_loss.backward()
    assert loss.item() == pytest.approx(1000.0, rel=1e-15) == t_loss.item()
    np.testing.assert_allclose(x.grad, t_x.grad.numpy(), rtol=1e-12, atol=1e-300)


# ------------------------------------------------------------------------------------------------ errors
def test_cross_entropy_label_out_of_range_names_the_label():
    z = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"label 7 at index 2 .*3 classes"):
        L.cross_entropy(z, np.array([0, 1, 7, 2]))
    with pytest.raises(ValueError, match=r"label -1 at index 0"):
        L.cross_entropy(z, np.array([-1, 1, 0, 2]))
    with pytest.raises(ValueError, match=r"label 3 at index 1"):
        L.nll_loss(z, np.array([0, 3, 1, 2]))


def test_cross_entropy_wrong_target_shape_names_both_shapes():
    z = np.zeros((5, 3))
    with pytest.raises(ValueError) as e:
        L.cross_entropy(z, np.array([0, 1, 2, 0]))
    assert "(5, 3)" in str(e.value) and "(4,)" in str(e.value)
    with pytest.raises(ValueError) as e:
        L.cross_entropy(z, np.full((5, 4), 0.25))
    assert "(5, 3)" in str(e.value) and "(5, 4)" in str(e.value)
    with pytest.raises(ValueError) as e:
        L.nll_loss(z, np.array([[0], [1], [2], [0], [1]]))
    assert "(5, 3)" in str(e.value) and "(5, 1)" in str(e.value)


@pytest.mark.parametrize("fn", [L.mse_loss, L.l1_loss, L.huber_loss, L.binary_cross_entropy,
                                L.binary_cross_entropy_with_logits])
def test_elementwise_losses_refuse_a_broadcasting_target(fn):
    # (N, 1) against (N,) would broadcast to (N, N): a classic silent bug, so it is an error naming both shapes
    with pytest.raises(ValueError, match=re.escape("(4,)") + ".*" + re.escape("(4, 1)") + "|"
                       + re.escape("(4, 1)") + ".*" + re.escape("(4,)")):
        fn(th.full((4, 1), 0.5, dtype=np.float64), np.full(4, 0.5))


def test_bce_refuses_logits():
    with pytest.raises(ValueError, match=r"got 2\.5 at index \(1,\).*binary_cross_entropy_with_logits"):
        L.binary_cross_entropy(np.array([0.5, 2.5, -1.0]), np.array([1.0, 0.0, 1.0]))


def test_bad_reduction_and_bad_arguments():
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        L.mse_loss(np.ones(3), np.zeros(3), reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        L.CrossEntropyLoss(reduction="avg")
    with pytest.raises(TypeError, match="MSELoss.*delta"):
        L.MSELoss(delta=1.0)
    with pytest.raises(ValueError, match="delta must be positive, got 0"):
        L.huber_loss(np.ones(3), np.zeros(3), delta=0)


# ------------------------------------------------------------------------------------------------ API
CLASSES = [(L.BCELoss, "bce", {}), (L.BCEWithLogitsLoss, "bce_with_logits_weight", {}),
           (L.CrossEntropyLoss, "cross_entropy_labels", {}), (L.CrossEntropyLoss, "cross_entropy_probs", {}),
           (L.NLLLoss, "nll_loss", {}), (L.MSELoss, "mse_loss", {}), (L.L1Loss, "l1_loss", {}),
           (L.HuberLoss, "huber_loss_delta_2", {"delta": 2.0})]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("cls,case,extra", CLASSES)
def test_loss_classes_equal_the_functions(cls, case, extra, reduction):
    fn, _, x, target, kwargs = CASES[case]
    loss = cls(reduction=reduction, **kwargs)
    assert cls.fn is fn and repr(loss).startswith(f"{cls.__name__}(reduction={reduction!r}")
    np.testing.assert_array_equal(loss(th.tensor(x), target).data,
                                  fn(th.tensor(x), target, reduction=reduction, **kwargs).data)


def test_get_by_name():
    assert L.get("cross_entropy") is L.cross_entropy is L.get("ce")
    assert L.get("bce") is L.binary_cross_entropy_with_logits is L.get("binary_cross_entropy_with_logits")
    assert L.get("binary_cross_entropy") is L.binary_cross_entropy
    assert L.get("mse") is L.mse_loss and L.get("mae") is L.l1_loss is L.get("l1")
    assert L.get("huber") is L.huber_loss and L.get("nll") is L.nll_loss
    assert L.get(L.mse_loss) is L.mse_loss
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; choose one of .*cross_entropy.*mse"):
        L.get("hinge")


def test_losses_keep_float32_and_accept_plain_targets():
    x = th.tensor(np.array([[0.2, 0.8], [0.6, 0.4]], np.float32), requires_grad=True)
    for loss in (L.mse_loss(x, [[0.0, 1.0], [1.0, 0.0]]), L.binary_cross_entropy(x, [[0, 1], [1, 0]]),
                 L.cross_entropy(x, [1, 0]), L.huber_loss(x, np.zeros((2, 2)))):
        loss.backward()
        assert loss.dtype == np.float32 and x.grad.dtype == np.float32
    # a float64 target is read at the input's precision, not rounded through float32 first
    x64 = th.tensor(np.array([0.1]), requires_grad=True)
    assert L.mse_loss(x64, [0.1 + 1e-12]).item() == pytest.approx(1e-24, rel=1e-3)
