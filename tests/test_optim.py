"""Optimizers, schedules and gradient clipping, checked step by step against torch.optim."""
import json
import math
import warnings

import numpy as np
import pytest

import thetas as th
from thetas import optim
from thetas.nn import utils as nn_utils

RNG = np.random.default_rng(0)
X = RNG.normal(size=(8, 3))                  # (N, in)
Y = RNG.integers(0, 2, size=8)               # (N,) class labels


def _model(dtype=np.float64):
    return th.nn.Sequential(th.nn.Linear(3, 4, generator=0, dtype=dtype), th.nn.Tanh(),
                            th.nn.Linear(4, 2, generator=1, dtype=dtype))


def _torch_model(model, torch):
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    net = net.to(torch.float64 if model[0].weight.dtype == np.float64 else torch.float32)
    with torch.no_grad():
        for q, p in zip(net.parameters(), model.parameters()):
            q.copy_(torch.from_numpy(p.data.copy()))
    return net


def _train(model, opt, steps):
    """Full-batch steps on the cross-entropy; the parameters after each step."""
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        th.losses.cross_entropy(model(X.astype(model[0].weight.dtype)), Y).backward()
        opt.step()
        trajectory.append([p.data.copy() for p in model.parameters()])
    return trajectory


def _train_torch(net, opt, steps, torch):
    trajectory = []
    x, y = torch.from_numpy(X).to(net[0].weight.dtype), torch.from_numpy(Y)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in net.parameters()])
    return trajectory


def _assert_same_trajectory(ours, theirs, rtol=1e-10, atol=1e-12):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for i, (pa, pb) in enumerate(zip(a, b)):
            np.testing.assert_allclose(pa, pb, rtol=rtol, atol=atol, err_msg=f"step {step + 1}, parameter {i}")


SGD_CONFIGS = [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, nesterov=True),
               dict(lr=0.1, momentum=0.9, dampening=0.3), dict(lr=0.1, weight_decay=0.05),
               dict(lr=0.1, momentum=0.5, weight_decay=0.05, maximize=True)]
ADAM_CONFIGS = [("Adam", dict(lr=0.05)), ("Adam", dict(lr=0.05, amsgrad=True)),
                ("Adam", dict(lr=0.05, weight_decay=0.1)),
                ("Adam", dict(lr=0.05, betas=(0.5, 0.9), amsgrad=True, weight_decay=0.1, maximize=True)),
                ("AdamW", dict()), ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True))]


@pytest.mark.parametrize("config", SGD_CONFIGS, ids=str)
def test_sgd_matches_torch(config):
    torch = pytest.importorskip("torch")
    model = _model()
    net = _torch_model(model, torch)
    ours = _train(model, optim.SGD(model.parameters(), **config), 6)
    _assert_same_trajectory(ours, _train_torch(net, torch.optim.SGD(net.parameters(), **config), 6, torch))
    assert not np.allclose(ours[0][0], ours[-1][0])  # the parameters really moved


@pytest.mark.parametrize("name, config", ADAM_CONFIGS, ids=str)
def test_adam_matches_torch(name, config):
    torch = pytest.importorskip("torch")
    model = _model()
    net = _torch_model(model, torch)
    ours = _train(model, getattr(optim, name)(model.parameters(), **config), 6)
    _assert_same_trajectory(ours, _train_torch(net, getattr(torch.optim, name)(net.parameters(), **config), 6, torch))


def test_param_groups_match_torch():
    torch = pytest.importorskip("torch")
    model = _model()
    net = _torch_model(model, torch)
    ours = optim.SGD([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.3,
                                                          "nesterov": True}], lr=0.1, momentum=0.8)
    theirs = torch.optim.SGD([{"params": net[0].parameters()}, {"params": net[2].parameters(), "lr": 0.3,
                                                                "nesterov": True}], lr=0.1, momentum=0.8)
    assert [g["lr"] for g in ours.param_groups] == [0.1, 0.3]
    _assert_same_trajectory(_train(model, ours, 5), _train_torch(net, theirs, 5, torch))


def test_float32_stays_float32_and_matches_torch():
    torch = pytest.importorskip("torch")
    model = _model(np.float32)
    net = _torch_model(model, torch)
    opt = optim.Adam(model.parameters(), lr=0.05, amsgrad=True, weight_decay=0.01)
    ours = _train(model, opt, 5)
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    assert all(v.dtype == np.float32 for st in opt.state.values() for v in st.values() if isinstance(v, np.ndarray))
    _assert_same_trajectory(ours, _train_torch(net, torch.optim.Adam(net.parameters(), lr=0.05, amsgrad=True,
                                                                     weight_decay=0.01), 5, torch), rtol=1e-5, atol=1e-6)
    sgd = optim.SGD(model.parameters(), lr=np.float64(0.1), momentum=0.9)
    _train(model, sgd, 2)
    assert all(p.data.dtype == np.float32 for p in model.parameters())


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1,
                                                      maximize=True),
                                  lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5),
                                  lambda ps: optim.Adam(ps, amsgrad=True, weight_decay=0.1, maximize=True),
                                  lambda ps: optim.AdamW(ps)])
def test_step_never_writes_into_grad_and_skips_missing_grads(make):
    shared = np.array([0.5, -1.0, 2.0])
    a, b = th.nn.Parameter(np.array([1.0, 2.0, 3.0])), th.nn.Parameter(np.array([4.0, 5.0, 6.0]))
    no_grad = th.nn.Parameter(np.array([7.0, 8.0]))
    frozen = th.nn.Parameter(np.array([9.0]), requires_grad=False)
    a.grad = b.grad = shared                 # one gradient array seen by two parameters
    frozen.grad = np.array([1.0])
    opt = make([a, b, no_grad, frozen])
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(shared, [0.5, -1.0, 2.0])
    assert a.grad is shared and b.grad is shared
    assert not np.allclose(a.data, [1.0, 2.0, 3.0]) and not np.allclose(b.data, [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(no_grad.data, [7.0, 8.0])
    np.testing.assert_array_equal(frozen.data, [9.0])
    assert set(opt.state) <= {a, b}


def test_zero_grad():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    th.losses.cross_entropy(model(X), Y).backward()
    old = model[0].weight.grad
    kept = old.copy()
    opt.zero_grad(set_to_none=False)
    assert model[0].weight.grad is not old and not model[0].weight.grad.any()
    np.testing.assert_array_equal(old, kept)
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    before = [p.data.copy() for p in model.parameters()]
    opt.step()                                # nothing to do without gradients
    assert all(np.array_equal(p.data, q) for p, q in zip(model.parameters(), before))


def _through_json(state):
    """What th.save does: arrays to one side (safetensors), everything else through JSON."""
    arrays = {}

    def encode(o):
        if isinstance(o, np.ndarray):
            arrays[f"a{len(arrays)}"] = o
            return {"__array__": f"a{len(arrays) - 1}"}
        if isinstance(o, dict):
            assert all(isinstance(k, str) for k in o), list(o)
            return {k: encode(v) for k, v in o.items()}
        if isinstance(o, list):
            return [encode(v) for v in o]
        assert o is None or type(o) in (bool, int, float, str), type(o)
        return o

    def decode(o):
        if isinstance(o, dict):
            return arrays[o["__array__"]].copy() if set(o) == {"__array__"} else {k: decode(v) for k, v in o.items()}
        return [decode(v) for v in o] if isinstance(o, list) else o

    return decode(json.loads(json.dumps(encode(state))))


@pytest.mark.parametrize("make", [lambda ps, lr: optim.SGD(ps, lr=lr, momentum=0.9, nesterov=True, weight_decay=0.01),
                                  lambda ps, lr: optim.Adam(ps, lr=lr, amsgrad=True),
                                  lambda ps, lr: optim.AdamW(ps, lr=lr, betas=(0.8, 0.99))])
def test_state_dict_resumes_exactly(make):
    model = _model()
    opt = make(model.parameters(), 0.05)
    _train(model, opt, 3)
    saved_opt, saved_model = _through_json(opt.state_dict()), model.state_dict()
    snapshot = json.dumps(_through_json(opt.state_dict()), default=lambda a: a.tolist())
    uninterrupted = _train(model, opt, 4)
    assert json.dumps(saved_opt, default=lambda a: a.tolist()) == snapshot  # the state dict holds copies

    resumed_model = _model()
    resumed_model.load_state_dict(saved_model)
    resumed = make(resumed_model.parameters(), 0.9)  # a different lr: load_state_dict must restore 0.05
    resumed.load_state_dict(saved_opt)
    assert resumed.param_groups[0]["lr"] == 0.05
    assert {k: type(v) for k, v in resumed.param_groups[0].items()} == {k: type(v) for k, v in opt.param_groups[0].items()}
    assert resumed.param_groups[0]["params"][0] is resumed_model[0].weight
    for a, b in zip(uninterrupted, _train(resumed_model, resumed, 4)):
        for pa, pb in zip(a, b):
            np.testing.assert_array_equal(pa, pb)


def test_load_state_dict_validates_before_changing_anything():
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    _train(model, opt, 2)
    good = opt.state_dict()
    before = json.dumps(good, default=lambda a: a.tolist())

    bad_shape = opt.state_dict()
    bad_shape["param_groups"][0]["lr"] = 123.0
    bad_shape["state"]["2"]["exp_avg"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 2 has shape \(3, 3\).*\(2, 4\)"):
        opt.load_state_dict(bad_shape)
    with pytest.raises(ValueError, match="has 3 parameters"):
        optim.Adam(list(model.parameters())[:3]).load_state_dict(good)
    with pytest.raises(ValueError, match="has 1 param groups, this optimizer has 2"):
        optim.Adam([{"params": model[0].parameters()}, {"params": model[2].parameters()}]).load_state_dict(good)
    with pytest.raises(KeyError, match="lacks"):
        opt.load_state_dict(optim.SGD(model.parameters()).state_dict())
    unknown = opt.state_dict()
    unknown["state"]["0"]["momentum_buffer"] = np.zeros((4, 3))
    with pytest.raises(KeyError, match="momentum_buffer"):
        opt.load_state_dict(unknown)
    assert json.dumps(opt.state_dict(), default=lambda a: a.tolist()) == before
    with pytest.raises(KeyError, match="lacks"):
        optim.SGD(model.parameters()).load_state_dict(good)


def test_constructor_errors():
    p = th.nn.Parameter(np.zeros(3))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(ValueError, match="lr=-0.1"):
        optim.SGD([p], lr=-0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="twice"):
        optim.Adam([p, p])
    with pytest.raises(ValueError, match="already in another group"):
        optim.Adam([{"params": [p]}, {"params": [p]}])
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(p)
    with pytest.raises(TypeError, match="not a Parameter"):
        optim.SGD([np.zeros(3)])


def test_lecture_gradient_ascent_increases_log_likelihood():
    """θ += η ∇LL(θ), with ∇LL = Σ (y − ŷ) x: 'walk uphill', every step."""
    x = np.array([[2.0, 1.0], [1.5, 2.5], [3.0, 0.5], [-1.0, -2.0], [-2.5, -0.5], [-1.5, -1.5]])
    y = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    neuron = th.nn.Linear(2, 1, generator=3, dtype=np.float64)
    opt = optim.SGD(neuron.parameters(), lr=0.05, maximize=True)
    lls = []
    for step in range(40):
        opt.zero_grad()
        y_hat = th.sigmoid(neuron(x)).reshape(-1)
        ll = th.losses.log_likelihood(y, y_hat)
        ll.backward()
        theta = neuron.weight.data.copy()
        opt.step()
        if step == 0:  # the lecture's update, written out
            np.testing.assert_allclose(neuron.weight.data[0], theta[0] + 0.05 * (y - y_hat.numpy()) @ x, rtol=1e-12)
        lls.append(ll.item())
    assert all(b > a for a, b in zip(lls, lls[1:])), lls
    assert lls[-1] > -0.5
    assert np.array_equal((th.sigmoid(neuron(x)).numpy()[:, 0] > 0.5), y == 1)


# ---------------------------------------------------------------------- schedules
def _torch_scheduler(name, opt, torch, **kw):
    S = torch.optim.lr_scheduler
    if name == "warmup":
        return S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.2, total_iters=3),
                                    S.CosineAnnealingLR(opt, T_max=7, eta_min=0.001)], milestones=[3])
    if name == "three":
        return S.SequentialLR(opt, [S.ExponentialLR(opt, gamma=0.8), S.StepLR(opt, step_size=2, gamma=0.5),
                                    S.CosineAnnealingLR(opt, T_max=5)], milestones=[4, 9])
    return getattr(S, name)(opt, **kw)


def _our_scheduler(name, opt, **kw):
    S = optim.schedules
    if name == "warmup":
        return S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.2, total_iters=3),
                                    S.CosineAnnealingLR(opt, T_max=7, eta_min=0.001)], milestones=[3])
    if name == "three":
        return S.SequentialLR(opt, [S.ExponentialLR(opt, gamma=0.8), S.StepLR(opt, step_size=2, gamma=0.5),
                                    S.CosineAnnealingLR(opt, T_max=5)], milestones=[4, 9])
    return getattr(S, name)(opt, **kw)


SCHEDULES = [("StepLR", dict(step_size=3, gamma=0.5)), ("ExponentialLR", dict(gamma=0.9)),
             ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)), ("LinearLR", dict(start_factor=0.25, total_iters=4)),
             ("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=6)), ("warmup", {}), ("three", {})]


def _lrs(scheduler, opt, epochs):
    lrs = [scheduler.get_last_lr()]
    for _ in range(epochs):
        opt.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        assert lrs[-1] == [g["lr"] for g in opt.param_groups]
    return lrs


@pytest.mark.parametrize("name, kw", SCHEDULES, ids=str)
def test_schedule_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    a, b = th.nn.Parameter(np.zeros(2)), th.nn.Parameter(np.zeros(3))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.02}], lr=0.1)
    ta, tb = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))
    topt = torch.optim.SGD([{"params": [ta]}, {"params": [tb], "lr": 0.02}], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _lrs(_torch_scheduler(name, topt, torch, **kw), topt, 30)
    ours = _lrs(_our_scheduler(name, opt, **kw), opt, 30)
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-15)
    assert len({round(lr[0], 12) for lr in ours}) > 2  # the schedule really changes the lr


def test_warmup_cosine():
    opt = optim.SGD([th.nn.Parameter(np.zeros(1))], lr=0.4)
    sched = optim.warmup_cosine(opt, warmup_epochs=3, total_epochs=10)
    lrs = [lr[0] for lr in _lrs(sched, opt, 10)]
    np.testing.assert_allclose(lrs[:4], [0.1, 0.2, 0.3, 0.4])       # an even climb to η₀, never 0
    np.testing.assert_allclose(lrs[3:], [0.2 * (1 + math.cos(math.pi * e / 7)) for e in range(8)], atol=1e-15)
    assert all(a > b for a, b in zip(lrs[3:], lrs[4:]))
    cosine_only = optim.warmup_cosine(optim.SGD([th.nn.Parameter(np.zeros(1))], lr=0.4), 0, 10)
    assert isinstance(cosine_only, optim.CosineAnnealingLR) and cosine_only.T_max == 10
    with pytest.raises(ValueError, match="total_epochs"):
        optim.warmup_cosine(opt, 5, 5)


@pytest.mark.parametrize("make", [lambda o: optim.warmup_cosine(o, 3, 12, eta_min=0.01),
                                  lambda o: optim.StepLR(o, step_size=2, gamma=0.3)])
def test_schedule_state_dict_resumes(make):
    p = th.nn.Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=0.5, momentum=0.9)
    sched = make(opt)
    _lrs(sched, opt, 5)
    saved_opt, saved_sched = _through_json(opt.state_dict()), _through_json(sched.state_dict())
    rest = _lrs(sched, opt, 10)[1:]

    q = th.nn.Parameter(np.zeros(1))
    opt2 = optim.SGD([q], lr=0.5, momentum=0.9)
    sched2 = make(opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert _lrs(sched2, opt2, 10)[1:] == rest
    with pytest.raises(KeyError, match="missing keys"):
        sched2.load_state_dict({"last_epoch": 3})


# ---------------------------------------------------------------------- gradient clipping
def _clip_setup(torch, scale):
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=s) * scale for s in [(3, 4), (4,), (2, 2)]]
    ours = [th.nn.Parameter(np.zeros_like(g)) for g in grads] + [th.nn.Parameter(np.zeros(2))]  # last: no grad
    for p, g in zip(ours, grads):
        p.grad = g
    theirs = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, g in zip(theirs, grads):
        p.grad = torch.from_numpy(g.copy())
    return grads, [g.copy() for g in grads], ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads, originals, ours, theirs = _clip_setup(torch, 2.0)
    total = nn_utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, float) and math.isclose(total, float(expected), rel_tol=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12)
    for g, kept in zip(grads, originals):
        np.testing.assert_array_equal(g, kept)  # rebinds p.grad, never scales the shared array
    assert ours[-1].grad is None
    clipped = max_norm < total
    assert all((p.grad is not g) == clipped for p, g in zip(ours, grads))


def test_clip_grad_value_matches_torch_and_edge_cases():
    torch = pytest.importorskip("torch")
    grads, originals, ours, theirs = _clip_setup(torch, 2.0)
    nn_utils.clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, q.grad.numpy())
    for g, kept in zip(grads, originals):
        np.testing.assert_array_equal(g, kept)
    assert nn_utils.clip_grad_norm_([th.nn.Parameter(np.zeros(2))], 1.0) == 0.0
    single = th.nn.Parameter(np.zeros(2))
    single.grad = np.array([3.0, 4.0])
    assert nn_utils.clip_grad_norm_(single, 1.0) == 5.0
    np.testing.assert_allclose(np.linalg.norm(single.grad), 1.0, rtol=1e-6)
    single.grad = np.array([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="inf"):
        nn_utils.clip_grad_norm_(single, 1.0, error_if_nonfinite=True)
