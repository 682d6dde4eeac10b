"""Models actually learn: the lecture's claims about what one neuron, a linear stack and a real network can do."""
import json

import numpy as np
import pytest

import thetas as th
from thetas.models import MLP, LogisticRegression


def _train(model, loss_fn, X, y, epochs, lr=0.05, seed=0):
    opt = th.optim.Adam(model.parameters(), lr=lr)
    loader = th.data.DataLoader(th.data.ArrayDataset(X, y), batch_size=16, shuffle=True, seed=seed)
    th.fit(model, loss_fn, opt, loader, epochs=epochs, metrics=(), verbose=False)
    return model


def _accuracy(model, X, y):
    with th.no_grad():
        out = model.eval()(X).numpy()
    pred = (out > 0).astype(int) if out.ndim == 1 else out.argmax(-1)
    return float(np.mean(pred == y))


@pytest.fixture(scope="module")
def xor_data():
    X, y = th.data.xor(n_samples=400, noise=0.1, seed=0)
    return X[:300], y[:300], X[300:], y[300:]


def bce(z, y):
    return th.losses.binary_cross_entropy_with_logits(z, y.astype(np.float32))


def test_xor_one_neuron_fails_one_hidden_layer_succeeds(xor_data):
    Xtr, ytr, Xte, yte = xor_data
    logistic = _train(LogisticRegression(2, generator=0), bce, Xtr, ytr, epochs=60)
    mlp = _train(MLP([2, 8, 2], activation="tanh", generator=0), th.losses.cross_entropy, Xtr, ytr, epochs=60)
    linear = _train(MLP([2, 8, 8, 2], activation="linear", generator=0), th.losses.cross_entropy, Xtr, ytr,
                    epochs=60)
    acc_logistic, acc_mlp, acc_linear = (_accuracy(m, Xte, yte) for m in (logistic, mlp, linear))
    assert acc_logistic < 0.70, acc_logistic          # near chance: no line separates xor
    assert acc_mlp >= 0.95, acc_mlp                   # one hidden layer bends the boundary
    assert acc_linear < acc_logistic + 0.08, (acc_linear, acc_logistic)  # a linear stack is one linear map


def test_linear_network_collapses_to_one_linear_map():
    model = MLP([3, 5, 4, 2], activation="linear", generator=1)
    W = np.eye(3)
    b = np.zeros(3)
    for layer in model:
        if isinstance(layer, th.nn.Linear):
            W, b = layer.weight.numpy() @ W, layer.weight.numpy() @ b + layer.bias.numpy()
    x = np.random.default_rng(0).normal(size=(7, 3)).astype(np.float32)
    with th.no_grad():
        assert np.allclose(model(x).numpy(), x @ W.T + b, atol=1e-5)


def test_digits_mlp_reaches_97_percent():
    train, test = th.data.digits()
    th.manual_seed(0)
    model = MLP([64, 256, 10], activation="relu", dropout=0.25, generator=0)
    opt = th.optim.Adam(model.parameters(), lr=3e-3)
    loader = th.data.DataLoader(train, batch_size=32, shuffle=True, seed=0)
    th.fit(model, th.losses.cross_entropy, opt, loader, epochs=40, metrics=(), verbose=False)
    assert _accuracy(model, test.X, test.y) >= 0.97


def test_cli_train_digits_json(capsys):
    from thetas.cli import main
    assert main(["train", "digits", "--json", "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["dataset"] == "digits" and result["test_accuracy"] >= 0.97
    assert {"epochs", "seconds", "test_top5_error", "parameters"} <= set(result)


def test_linear_fed_the_wrong_width_names_both_sizes():
    with pytest.raises(ValueError, match=r"in_features=64.*not 63|63.*64") as e:
        th.nn.Linear(64, 10)(np.zeros((5, 63), np.float32))
    assert "63" in str(e.value) and "64" in str(e.value) and "(5, 63)" in str(e.value)
