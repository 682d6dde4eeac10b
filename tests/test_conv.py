"""Convolution, pooling and batch normalisation (thetas/autograd/conv.py and their layers): gradients against
central differences (float64) and PyTorch, float32 kept, layer errors, LeNet against torch step for step. (State
dict, config, save/load, train/eval and repr of every layer: tests/test_layer_contract.py.)"""
import numpy as np
import pytest

import thetas as th
from thetas.autograd import conv
from test_ops import A, case, check_float32, check_grads, check_same_as_torch


def F(T):
    return T.nn.functional


CONV = [
    case(f"conv2d-s{s}-p{p}-{'bias' if b else 'nobias'}",
         (lambda x, w, b_, s=s, p=p: conv.conv2d(x, w, b_, s, p)) if b else (lambda x, w, s=s, p=p: conv.conv2d(x, w, None, s, p)),
         A((2, 3, 7, 6)), A((4, 3, 3, 2)), *([A((4,))] if b else []),
         torch=(lambda T, x, w, b_, s=s, p=p: F(T).conv2d(x, w, b_, s, p)) if b else (lambda T, x, w, s=s, p=p: F(T).conv2d(x, w, None, s, p)))
    for s, p, b in [(1, 0, True), (1, 1, True), (2, 0, True), ((2, 1), (1, 0), True), (1, (2, 1), False), (3, 2, True)]]
CONV += [
    case("conv2d-same", lambda x, w: conv.conv2d(x, w, padding="same"), A((1, 2, 5, 5)), A((3, 2, 3, 3)),
         torch=lambda T, x, w: F(T).conv2d(x, w, padding="same")),
    case("conv2d-1x1", lambda x, w, b: conv.conv2d(x, w, b), A((3, 4, 2, 3)), A((2, 4, 1, 1)), A((2,)),
         torch=lambda T, x, w, b: F(T).conv2d(x, w, b)),
    case("conv2d-stacked", lambda x, w1, w2: conv.conv2d(conv.conv2d(x, w1, padding=1).relu(), w2),
         A((2, 1, 6, 6)), A((3, 1, 3, 3)), A((2, 3, 2, 2)),
         torch=lambda T, x, w1, w2: F(T).conv2d(F(T).conv2d(x, w1, padding=1).relu(), w2)),
]
POOL_GEOMETRY = [(2, None, 0), (3, 1, 1), ((3, 2), (2, 1), (1, 0)), (3, 2, 0), (2, 1, 0)]
POOL = [case(f"{name}-k{k}-s{s}-p{p}", lambda x, f=f, k=k, s=s, p=p: f(x, k, s, p), A((2, 3, 7, 6)),
             torch=lambda T, x, name=name, k=k, s=s, p=p: getattr(F(T), name)(x, k, s, p))
        for name, f in [("max_pool2d", conv.max_pool2d), ("avg_pool2d", conv.avg_pool2d)]
        for k, s, p in POOL_GEOMETRY]
POOL += [case("max_pool2d-after-conv", lambda x, w: conv.max_pool2d(conv.conv2d(x, w), 2), A((2, 2, 6, 6)),
              A((3, 2, 3, 3)), torch=lambda T, x, w: F(T).max_pool2d(F(T).conv2d(x, w), 2))]

GAMMA, BETA = np.array([1.5, -0.5, 2.0]), np.array([0.1, 0.2, -0.3])
BN = [case(f"batch_norm-train-{len(shape)}d", lambda x, g, b: conv.batch_norm(x, None, None, g, b, training=True),
           A(shape), A((3,)), A((3,)), torch=lambda T, x, g, b: F(T).batch_norm(x, None, None, g, b, training=True))
      for shape in [(5, 3), (4, 3, 5), (2, 3, 3, 4)]]
BN += [case("batch_norm-eval", lambda x, g, b: conv.batch_norm(x, np.array([0.1, -0.2, 0.3]), np.array([1.5, 0.5, 2.0]),
                                                                g, b, training=False),
            A((2, 3, 2, 2)), A((3,)), A((3,)),
            torch=lambda T, x, g, b: F(T).batch_norm(x, T.tensor([0.1, -0.2, 0.3], dtype=T.float64),
                                                     T.tensor([1.5, 0.5, 2.0], dtype=T.float64), g, b, training=False)),
       case("batch_norm-no-affine", lambda x: conv.batch_norm(x, None, None, training=True), A((6, 3)),
            torch=lambda T, x: F(T).batch_norm(x, None, None, training=True))]
ALL = CONV + POOL + BN


@pytest.mark.parametrize("fn, specs, torch_fn", ALL)
def test_gradients_match_central_differences(fn, specs, torch_fn):
    check_grads(fn, specs)


@pytest.mark.parametrize("fn, specs, torch_fn", ALL)
def test_same_as_torch(fn, specs, torch_fn):
    check_same_as_torch(fn, specs, torch_fn)


@pytest.mark.parametrize("fn, specs, torch_fn", ALL)
def test_float32_stays_float32(fn, specs, torch_fn):
    check_float32(fn, specs)


def test_every_vision_op_has_cases():
    names = {p.id.split("-")[0] for p in ALL}
    assert set(conv.__all__) <= names


def test_max_pool_ties_send_the_gradient_to_the_first_maximum_as_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[[[0, 0, 1, 1], [0, 0, 1, 0], [2, 2, 0, 0], [2, 2, 0, 0]]]], np.float64)  # every window ties
    for k, s in [(2, 2), (2, 1), (3, 1)]:
        t = th.tensor(x, requires_grad=True)
        conv.max_pool2d(t, k, s).sum().backward()
        tx = torch.tensor(x, requires_grad=True)
        F(torch).max_pool2d(tx, k, s).sum().backward()
        np.testing.assert_array_equal(t.grad, tx.grad.numpy())
        assert t.grad.sum() == (((4 - k) // s) + 1) ** 2   # each window's gradient lands once


def test_batch_norm_updates_running_statistics_like_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((8, 3, 4, 4))
    bn = th.nn.BatchNorm2d(3, dtype=np.float64)
    tbn = torch.nn.BatchNorm2d(3, dtype=torch.float64)
    for _ in range(3):
        y = bn(x)
        ty = tbn(torch.from_numpy(x))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(bn.running_mean.data, tbn.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, tbn.running_var.numpy(), atol=1e-12)
    bn.eval(), tbn.eval()
    np.testing.assert_allclose(bn(x).data, tbn(torch.from_numpy(x)).detach().numpy(), atol=1e-12)
    assert set(bn.state_dict()) == {"weight", "bias", "running_mean", "running_var"}


def test_batch_norm1d_and_errors():
    bn = th.nn.BatchNorm1d(4)
    y = bn(np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32))
    np.testing.assert_allclose(y.data.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(y.data.std(axis=0), 1, atol=1e-3)
    with pytest.raises(ValueError, match=r"num_features = 4"):
        bn(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="more than one value per channel"):
        bn(np.zeros((1, 4), np.float32))


# ---------------------------------------------------------------------- layers
def test_conv_layer_shares_its_weights():
    layer = th.nn.Conv2d(1, 6, 5)
    assert layer.weight.shape == (6, 1, 5, 5) and layer.bias.shape == (6,)
    assert layer.num_parameters() == 6 * 25 + 6 == 156
    assert "shared by every position" in th.nn.Conv2d.__doc__
    text = th.nn.Sequential(layer).summary((1, 28, 28), print_fn=None)
    assert "(1, 6, 24, 24)" in text and "156" in text
    assert "dense 784->3456 would need 2,712,960" in text   # 784·3,456 + 3,456


def test_conv_layer_errors_name_the_shapes():
    layer = th.nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"\(2, 1, 8, 8\).*in_channels=3"):
        layer(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        conv.conv2d(np.zeros((8, 8)), layer.weight)
    with pytest.raises(ValueError, match="does not fit"):
        conv.conv2d(np.zeros((1, 3, 2, 2), np.float32), layer.weight)
    with pytest.raises(ValueError, match="padding"):
        th.nn.MaxPool2d(2, padding=2)(np.zeros((1, 1, 8, 8), np.float32))


def test_layers_and_functional_forms_agree():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    layer = th.nn.Conv2d(3, 5, 3, stride=2, padding=1, generator=1)
    np.testing.assert_array_equal(layer(x).data, th.nn.functional.conv2d(x, layer.weight, layer.bias, 2, 1).data)
    np.testing.assert_array_equal(th.nn.MaxPool2d(2)(x).data, th.nn.functional.max_pool2d(x, 2).data)
    np.testing.assert_array_equal(th.nn.AvgPool2d(2)(x).data, th.nn.functional.avg_pool2d(x, 2).data)
    assert th.nn.Flatten()(x).shape == (2, 192)
    assert isinstance(th.nn.Conv2d(1, 2, 3, generator=3).weight, th.nn.Parameter)
    np.testing.assert_array_equal(th.nn.Conv2d(1, 2, 3, generator=3).weight.data,
                                  th.nn.Conv2d(1, 2, 3, generator=3).weight.data)


def test_lenet_matches_torch_step_for_step():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    ref = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                        nn.Linear(84, 10))
    model = th.models.LeNet()
    assert model.num_parameters() == sum(p.numel() for p in ref.parameters()) == 61_706
    model.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    opt, topt = th.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x, y = rng.random((16, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 16)
        opt.zero_grad(), topt.zero_grad()
        loss = th.losses.cross_entropy(model(x), y)
        loss.backward(), opt.step()
        tloss = F(torch).cross_entropy(ref(torch.from_numpy(x)), torch.from_numpy(y))
        tloss.backward(), topt.step()
        assert abs(loss.item() - tloss.item()) < 1e-5
    for (name, p), tp in zip(model.named_parameters(), ref.parameters()):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=name)


def test_activations_of_every_layer():
    model = th.models.LeNet(generator=0)
    acts = model.activations(np.zeros((2, 1, 28, 28), np.float32))
    assert [a.shape for a in acts.values()][:6] == [(2, 6, 28, 28)] * 2 + [(2, 6, 14, 14)] + [(2, 16, 10, 10)] * 2 + [(2, 16, 5, 5)]
    assert list(acts)[-1] == "11" and acts["11"].shape == (2, 10)
    assert all(isinstance(a, np.ndarray) for a in acts.values())
    assert model.training   # activations() runs in eval mode and restores the mode
