"""th.fit / th.evaluate / callbacks: learning happens, runs repeat exactly, and NaN never reaches the thetas."""
import numpy as np
import pytest

import thetas as th
import thetas.optim as optim
from thetas import io
from thetas.data import ArrayDataset, DataLoader
from thetas.losses import cross_entropy, mse_loss
from thetas.models import MLP
from thetas.train import (Callback, EarlyStopping, History, ModelCheckpoint, ProgressBar, TerminateOnNaN,
                          evaluate, fit, predict)


def blobs(n=240, seed=0):
    """Three well separated Gaussian clusters in the plane: (X float32 (n, 2), y int64 (n,))."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
    X = (centers[y] + 0.5 * rng.normal(size=(n, 2))).astype(np.float32)
    return X, y


@pytest.fixture(scope="module")
def data():
    X, y = blobs(300)
    return X[:240], y[:240], X[240:], y[240:]


def _loaders(data, seed=0, batch_size=16):
    Xtr, ytr, Xte, yte = data
    return (DataLoader(ArrayDataset(Xtr, ytr), batch_size=batch_size, shuffle=True, seed=seed),
            DataLoader(ArrayDataset(Xte, yte), batch_size=64))


class Recorder(Callback):
    """Copies of the weights after every batch and every epoch."""

    def __init__(self):
        self.batches, self.epochs = [], []

    def on_batch_end(self, batch, logs):
        self.batches.append((self.trainer.epoch, batch, self.trainer.model.state_dict()))

    def on_epoch_end(self, epoch, logs):
        self.epochs.append(self.trainer.model.state_dict())


def _same_weights(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_fit_learns_and_history_has_per_epoch_keys(data):
    train, test = _loaders(data)
    model = MLP([2, 16, 3], activation="tanh", generator=0)
    history = fit(model, cross_entropy, optim.Adam(model.parameters(), lr=0.02), train, val_loader=test,
                  epochs=8, verbose=False)
    assert isinstance(history, History) and history.epoch == list(range(8)) and history.stopped_reason is None
    keys = {"loss", "accuracy", "val_loss", "val_accuracy", "samples_per_s", "seconds", "lr"}
    assert keys <= set(history.history)
    assert all(len(history.history[k]) == 8 for k in keys)
    h = history.history
    assert h["loss"][-1] < 0.5 * h["loss"][0] and h["val_loss"][-1] < 0.5 * h["val_loss"][0]
    assert h["val_accuracy"][-1] >= 0.95 and h["accuracy"][-1] >= 0.95
    assert h["lr"] == [0.02] * 8 and all(v > 0 for v in h["samples_per_s"])
    epoch, best = history.best("val_loss")
    assert best == min(h["val_loss"]) and h["val_loss"][epoch] == best
    assert history.best("val_accuracy")[1] == max(h["val_accuracy"])
    assert set(history.to_dict()) == set(h) and all(isinstance(v, float) for v in history.to_dict()["loss"])
    assert model.training  # fit leaves the model as training left it


def test_same_seed_same_history_and_weights(data):
    def run(loader_seed):
        train, test = _loaders(data, seed=loader_seed)
        model = MLP([2, 8, 3], activation="relu", dropout=0.2, generator=1)
        h = fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), train, test,
                epochs=3, verbose=False)
        return {k: v for k, v in h.history.items() if k not in ("seconds", "samples_per_s")}, model.state_dict()

    h1, w1 = run(0)
    h2, w2 = run(0)
    h3, w3 = run(1)
    assert h1 == h2 and _same_weights(w1, w2)
    assert h1 != h3 and not _same_weights(w1, w3)  # the loader's seed is the only randomness fit uses


def test_early_stopping_stops_and_restores_best_weights(data):
    train, test = _loaders(data)
    model = MLP([2, 8, 3], generator=0)
    rec = Recorder()
    # the training loss falls every epoch, so with mode="max" the best epoch is the first: a run that must stop
    stopper = EarlyStopping(monitor="loss", mode="max", patience=2)
    history = fit(model, cross_entropy, optim.Adam(model.parameters(), lr=0.01), train, test, epochs=20,
                  callbacks=[rec, stopper], verbose=False)
    assert history.epoch == [0, 1, 2] and stopper.stopped_epoch == 2 and stopper.best_epoch == 0
    assert "EarlyStopping" in history.stopped_reason and "loss" in history.stopped_reason
    assert _same_weights(model.state_dict(), rec.epochs[0])
    assert not _same_weights(model.state_dict(), rec.epochs[-1])


def test_early_stopping_on_validation_loss_keeps_best_epoch(data):
    train, test = _loaders(data)
    model = MLP([2, 16, 3], generator=0)
    rec = Recorder()
    stopper = EarlyStopping(patience=3, min_delta=1e-3)
    history = fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.5), train, test, epochs=40,
                  callbacks=[rec, stopper], verbose=False)
    assert history.history["val_loss"][stopper.best_epoch] == stopper.best
    assert _same_weights(model.state_dict(), rec.epochs[stopper.best_epoch])
    assert evaluate(model, cross_entropy, test, metrics=())["loss"] == pytest.approx(
        history.history["val_loss"][stopper.best_epoch], rel=1e-6)


def test_model_checkpoint_writes_loadable_best_model(data, tmp_path):
    train, test = _loaders(data)
    model = MLP([2, 8, 3], activation="tanh", generator=2)
    rec = Recorder()
    path = tmp_path / "best.safetensors"
    history = fit(model, cross_entropy, optim.Adam(model.parameters(), lr=0.05), train, test, epochs=5,
                  callbacks=[rec, ModelCheckpoint(path, monitor="val_loss")], verbose=False)
    best_epoch, best = history.best("val_loss")
    loaded = io.load(path)
    assert type(loaded) is MLP and _same_weights(loaded.state_dict(), rec.epochs[best_epoch])
    meta = io.load_metadata(path)["user"]
    assert meta["epoch"] == best_epoch + 1 and meta["logs"]["val_loss"] == best
    every = tmp_path / "every-{epoch:02d}.safetensors"
    fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.01), train, test, epochs=2,
        callbacks=[ModelCheckpoint(every, save_best_only=False)], verbose=False)
    assert sorted(p.name for p in tmp_path.glob("every-*")) == ["every-01.safetensors", "every-02.safetensors"]


class PoisonedLoader:
    """Clean batches, except that batch ``bad_batch`` of epoch ``bad_epoch`` holds a NaN input."""

    def __init__(self, X, y, bad_epoch, bad_batch, batch_size=16):
        self.X, self.y, self.bad, self.batch_size, self.epoch = X, y, (bad_epoch, bad_batch), batch_size, -1

    def __len__(self):
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        self.epoch += 1
        for i in range(len(self)):
            xb = self.X[i * self.batch_size:(i + 1) * self.batch_size].copy()
            if (self.epoch, i) == self.bad:
                xb[3, 1] = np.nan
            yield xb, self.y[i * self.batch_size:(i + 1) * self.batch_size]


def test_nan_input_stops_training_with_last_good_weights(data):
    Xtr, ytr, _, _ = data
    model = MLP([2, 8, 3], generator=0)
    rec = Recorder()
    history = fit(model, cross_entropy, optim.Adam(model.parameters(), lr=0.01),
                  PoisonedLoader(Xtr, ytr, bad_epoch=1, bad_batch=4), epochs=5, callbacks=[rec], verbose=False)
    assert history.epoch == [0]  # the broken epoch is not logged
    reason = history.stopped_reason
    assert reason.startswith("TerminateOnNaN") and "epoch 2, batch 5" in reason
    assert "loss is nan" in reason and "input batch holds 1 non-finite value" in reason
    last_epoch, last_batch, last_good = rec.batches[-1]
    assert (last_epoch, last_batch) == (1, 3)
    assert _same_weights(model.state_dict(), last_good)
    assert all(np.isfinite(p.data).all() for p in model.parameters())


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the optimizer's own overflow
def test_diverging_step_is_undone(data):
    Xtr, ytr, _, _ = data
    X = Xtr * np.float32(1e30)  # finite inputs, but the first step overflows float32 thetas
    model = MLP([2, 4, 3], generator=0)
    before = model.state_dict()
    history = fit(model, cross_entropy, optim.SGD(model.parameters(), lr=1e30), (X, ytr), epochs=2,
                  metrics=(), verbose=False)
    assert history.epoch == [] and "non-finite" in history.stopped_reason
    assert _same_weights(model.state_dict(), before)


def test_nan_guard_is_always_on_and_can_be_passed(data):
    Xtr, ytr, _, _ = data
    guard, mine = TerminateOnNaN(), History()
    model = MLP([2, 4, 3], generator=0)
    returned = fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), PoisonedLoader(Xtr, ytr, 0, 0),
                   epochs=1, callbacks=[guard, mine], verbose=False)
    assert returned is mine and guard.trainer.history is mine
    assert mine.stopped_reason.startswith("TerminateOnNaN: stopped at epoch 1, batch 1")


def test_evaluate_metrics_are_exact_not_batch_averaged(data):
    _, _, Xte, yte = data
    model = MLP([2, 8, 3], generator=3)  # untrained: accuracy far from 0 and 1, so batch averaging would show
    loader = DataLoader(ArrayDataset(Xte, yte), batch_size=7)  # 60 = 8 * 7 + 4: uneven batches
    out = predict(model, Xte, batch_size=13)
    with th.no_grad():
        full = model.eval()(Xte).numpy()
    model.train()
    assert np.allclose(out, full, atol=1e-6)
    result = evaluate(model, "cross_entropy", loader, metrics=("accuracy", "top2_error"))
    assert result["accuracy"] == pytest.approx(np.mean(out.argmax(1) == yte), abs=1e-12)
    top2 = np.argsort(-out, axis=1)[:, :2]
    assert result["top2_error"] == pytest.approx(1 - np.mean((top2 == yte[:, None]).any(1)), abs=1e-12)
    assert result["loss"] == pytest.approx(cross_entropy(out, yte).item(), rel=1e-5)
    assert model.training  # the mode is restored


def test_binary_metrics_on_logits_and_two_class_scores():
    from thetas.models import LogisticRegression
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.normal(size=200) > 0.4).astype(np.int64)  # unbalanced: thresholds matter
    neuron = LogisticRegression(2, generator=0)
    fit(neuron, "bce", optim.Adam(neuron.parameters(), lr=0.05), (X, y.astype(np.float32)), epochs=5,
        metrics=(), verbose=False)
    z = predict(neuron, X)  # logits z, class 1 where z > 0
    r = evaluate(neuron, "bce", (X, y.astype(np.float32)), metrics=("accuracy", "roc_auc"))
    assert r["accuracy"] == pytest.approx(np.mean((z > 0) == y))
    ranks = np.argsort(np.argsort(z)) + 1.0  # Mann-Whitney U by hand (no ties in float scores)
    n1 = y.sum()
    assert r["roc_auc"] == pytest.approx((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(y) - n1)))
    two = MLP([2, 2], generator=0)  # two logits per example: roc_auc ranks by z1 - z0
    out = predict(two, X)
    r = evaluate(two, cross_entropy, (X, y), metrics=("roc_auc", "accuracy"))
    d = out[:, 1] - out[:, 0]
    ranks = np.argsort(np.argsort(d)) + 1.0
    assert r["roc_auc"] == pytest.approx((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(y) - n1)))
    assert r["accuracy"] == pytest.approx(np.mean(out.argmax(1) == y))


def test_regression_skips_accuracy_and_takes_tuples_and_loss_names():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(128, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5], np.float32) + 0.3).astype(np.float32)
    model = _Squeeze(th.nn.Linear(3, 1, generator=0))
    history = fit(model, "mse", optim.SGD(model.parameters(), lr=0.1), (X, y), val_loader=(X, y), epochs=30,
                  metrics=("accuracy",), verbose=False)
    assert "accuracy" not in history.history and "val_accuracy" not in history.history
    assert history.history["val_loss"][-1] < 1e-3
    assert evaluate(model, mse_loss, (X, y))["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-5)


class _Squeeze(th.nn.Module):
    def __init__(self, inner):
        self.inner = inner

    def forward(self, x):
        return self.inner(x).reshape(-1)


def test_scheduler_and_callback_stop(data):
    train, test = _loaders(data)
    model = MLP([2, 4, 3], generator=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, cross_entropy, opt, train, epochs=4, scheduler=optim.StepLR(opt, step_size=1, gamma=0.5),
                  verbose=False)
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.025, 0.0125])

    class StopAfterThreeBatches(Callback):
        def on_batch_end(self, batch, logs):
            if batch == 2:
                self.trainer.stop_training = True
    counted = Recorder()
    history = fit(model, cross_entropy, opt, train, epochs=4, callbacks=[StopAfterThreeBatches(), counted],
                  verbose=False)
    assert history.epoch == [0] and len(counted.batches) == 3


def test_bad_arguments_fail_early(data):
    train, _ = _loaders(data)
    model = MLP([2, 4, 3], generator=0)
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        fit(model, cross_entropy, optim.SGD(model.parameters()), train, metrics=("acuracy",), verbose=False)
    with pytest.raises(TypeError, match="Callback"):
        fit(model, cross_entropy, optim.SGD(model.parameters()), train, callbacks=[print], verbose=False)


def test_progress_goes_to_stderr_not_stdout(data, capsys):
    train, test = _loaders(data)
    model = MLP([2, 4, 3], generator=0)
    fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), train, test, epochs=2, verbose=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "val_loss=" in captured.err and "samples/s" in captured.err
    fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), train, epochs=2,
        callbacks=[ProgressBar(unit="batch")], verbose=False)
    captured = capsys.readouterr()
    assert captured.out == "" and "epoch 2/2" in captured.err
    fit(model, cross_entropy, optim.SGD(model.parameters(), lr=0.1), train, epochs=2, verbose=False)
    assert capsys.readouterr() == ("", "")


def test_fit_takes_a_validation_function_and_logs_what_it_returns():
    """val_loader may be f(model) -> dict: called once per epoch in eval mode, under no_grad, logged as val_*."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = th.nn.Sequential(th.nn.Linear(3, 2), th.nn.Dropout(0.5))
    seen = []

    def validate(m):
        seen.append((m.training, th.is_grad_enabled()))
        return {"loss": float(len(seen)), "score": 0.5}

    history = th.fit(model, "cross_entropy", th.optim.SGD(model.parameters(), lr=0.1), (X, y), val_loader=validate,
                     epochs=3, verbose=False)
    assert seen == [(False, False)] * 3
    assert history.history["val_loss"] == [1.0, 2.0, 3.0] and history.history["val_score"] == [0.5] * 3
    assert model.training
