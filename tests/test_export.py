"""thetas.export.to_torch / from_torch, on every case of the shared layer contract (tests/test_layer_contract.py):
the torch module computes the same outputs (float32 within 1e-5, float64 within 1e-10) and the same gradients,
and from_torch gives back the same state_dict; plain torch models come over too; what cannot is named."""
import numpy as np
import pytest

import thetas as th
from test_layer_contract import CASES, FORWARD, inputs, make
from thetas.export import ExportError, from_torch, to_torch

torch = pytest.importorskip("torch")

CASES_TO_EXPORT = FORWARD
TOL = {np.float32: 1e-5, np.float64: 1e-10}


def flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [out]


def both(name, dtype, train=False):
    model = make(name, dtype)
    model.train(train)
    net = to_torch(model)
    args = inputs(name, dtype)
    floats = [np.asarray(a).dtype.kind == "f" for a in args]          # DKT's input: integer pairs
    model.x = [th.tensor(a, requires_grad=f) for a, f in zip(args, floats)]
    net.x = [torch.from_numpy(np.array(a)).requires_grad_(f) for a, f in zip(args, floats)]
    return model, net, flat(model(*model.x)), flat(net(*net.x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", CASES_TO_EXPORT)
def test_the_torch_module_computes_the_same_outputs(name, dtype):
    _, net, ours, theirs = both(name, dtype)
    assert not net.training
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        b = b.detach().numpy()
        assert a.data.dtype == b.dtype == dtype and a.data.shape == b.shape
        np.testing.assert_allclose(a.data, b, rtol=0, atol=TOL[dtype] * max(1.0, np.abs(b).max()))


@pytest.mark.parametrize("name", [n for n in CASES_TO_EXPORT if not CASES[n].modes_differ or "Batch" in n])
def test_the_same_gradients_in_training_mode(name):
    """One backward of the same weighted sum of the outputs: every parameter's gradient and the input's agree
    (float64; batch norm in training mode uses the batch's statistics on both sides)."""
    model, net, ours, theirs = both(name, np.float64, train=True)
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=a.data.shape) for a in ours]
    sum(float(0) + (a * th.tensor(w)).sum() for a, w in zip(ours, weights)).backward()
    sum((b * torch.from_numpy(w)).sum() for b, w in zip(theirs, weights)).backward()
    grads = dict(net.named_parameters())
    for key, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, grads[key].grad.numpy(), rtol=0, atol=1e-10, err_msg=key)
    for a, b in zip(model.x, net.x):
        if b.requires_grad:
            np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=0, atol=1e-10, err_msg="the input")


@pytest.mark.parametrize("name", CASES_TO_EXPORT)
def test_from_torch_gives_back_the_same_model(name):
    model = make(name, np.float64)
    back = from_torch(to_torch(model))
    assert type(back) is type(model) and back.training == model.training
    state, again = model.state_dict(), back.state_dict()
    assert list(state) == list(again)
    for k in state:
        assert again[k].dtype == state[k].dtype and np.array_equal(again[k], state[k]), k


def test_one_sgd_step_in_torch_equals_one_in_thetas():
    model = th.models.LeNet(num_classes=4, image_size=8, channels=(2, 3), hidden=(5,), kernel_size=3, generator=0)
    x = np.random.default_rng(1).uniform(0, 1, (6, 1, 8, 8)).astype(np.float32)
    y = np.array([0, 1, 2, 3, 1, 0])
    net = to_torch(model)
    opt = th.optim.SGD(model.parameters(), lr=0.1)
    th.losses.cross_entropy(model(th.tensor(x)), y).backward()
    opt.step()
    topt = torch.optim.SGD(net.parameters(), lr=0.1)
    torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    topt.step()
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(v, net.state_dict()[k].numpy(), rtol=0, atol=1e-5, err_msg=k)


def test_a_plain_torch_model_comes_to_thetas():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 3), torch.nn.LogSoftmax(dim=1)).eval()
    model = from_torch(net)
    assert isinstance(model, th.nn.Sequential) and isinstance(model[0], th.nn.Conv2d)
    x = np.random.default_rng(2).normal(size=(5, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(model(th.tensor(x)).data, net(torch.from_numpy(x)).detach().numpy(), atol=1e-5)


def test_what_has_no_translation_is_named_with_its_path():
    class Mystery(th.nn.Module):
        def forward(self, x):
            return x
    model = th.nn.Sequential(th.nn.Linear(2, 2), th.nn.Sequential(th.nn.ReLU(), Mystery()))
    with pytest.raises(ExportError, match=r"layer '1\.1' is a Mystery"):
        to_torch(model)
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.GELU()))
    with pytest.raises(ExportError, match=r"layer '1\.0' is a torch GELU"):
        from_torch(net)
