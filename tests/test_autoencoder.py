"""th.models.Autoencoder (k-sparse, denoising) and its commands: it keeps k units per image, its loss is the images'
−LL, it learns from the images alone (the labels can be shuffled: the same network), and Le et al.'s read-out
finds single units that detect digits better than the untrained network's."""
import contextlib
import io
import json

import numpy as np
import pytest

import thetas as th
from thetas.cli import main

F64 = np.float64


def test_only_the_k_largest_units_reach_the_decoder_and_get_gradients():
    ae = th.models.Autoencoder(10, hidden=8, k=2, generator=0)
    x = th.tensor(np.random.default_rng(0).uniform(0, 1, (5, 10)).astype(np.float32))
    h = ae.encoder(x)
    kept = ae.sparse(h).data
    assert ((kept != 0).sum(1) <= 2).all()
    top2 = np.sort(h.data, 1)[:, -2:]
    assert np.allclose(np.sort(kept, 1)[:, -2:], top2)
    ae.loss(ae(x), x).backward()
    used = (kept != 0).any(0)                     # units kept for no example: no gradient reaches them
    w = ae.encoder[1].weight.grad
    assert np.all(w[~used] == 0) and np.all(np.abs(w[used]).sum(1) > 0)


def test_the_loss_is_the_images_negative_log_likelihood():
    ae = th.models.Autoencoder(6, hidden=4, k=None, generator=1)
    x = np.random.default_rng(2).uniform(0, 1, (7, 6)).astype(np.float32)
    z = ae(th.tensor(x)).data.astype(F64)
    p = 1 / (1 + np.exp(-z))
    ll = (x * np.log(p) + (1 - x) * np.log(1 - p)).sum(1)
    assert np.allclose(ae.log_likelihood(x), ll, atol=1e-4)
    assert ae.loss(ae(th.tensor(x)), x).item() == pytest.approx(-ll.mean(), rel=1e-5)
    assert np.allclose(ae.reconstruct(x), p, atol=1e-6)


def test_l2_normalize_gives_every_input_one_length():
    x = np.random.default_rng(0).normal(size=(4, 2, 3, 3))
    y = th.nn.L2Normalize(5.0)(th.tensor(x)).data
    assert np.allclose(np.linalg.norm(y.reshape(4, -1), axis=1), 5.0)
    assert np.allclose(y / np.linalg.norm(y.reshape(4, -1), axis=1)[:, None, None, None] * 5,
                       x / np.linalg.norm(x.reshape(4, -1), axis=1)[:, None, None, None] * 5)
    assert np.all(th.nn.L2Normalize()(th.tensor(np.zeros((2, 3)))).data == 0)     # a blank input stays blank
    with pytest.raises(ValueError, match="scale and eps must be positive"):
        th.nn.L2Normalize(0.0)


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="k .* must be between 1 and hidden=4"):
        th.models.Autoencoder(6, hidden=4, k=5)
    with pytest.raises(ValueError, match=r"noise .* must be in \[0, 1\)"):
        th.models.Autoencoder(6, hidden=4, noise=1.0)


def _train(argv, tmp_path, name):
    path = tmp_path / name
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", "digits", "--model", "autoencoder", "--save", str(path), "--json", "--quiet", *argv])
    assert code == 0, err.getvalue()
    return path, json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture(scope="module")
def digits_ae(tmp_path_factory):
    return _train([], tmp_path_factory.mktemp("ae"), "ae.safetensors")


def test_train_an_autoencoder_of_the_digits_without_labels(digits_ae, tmp_path, monkeypatch):
    path, r = digits_ae
    assert r["model"] == "autoencoder" and r["epochs"] == 100
    assert set(r) >= {"train_loss", "test_loss", "test_mse", "saved"} and "test_accuracy" not in r
    untrained = th.models.build_model(th.data.load("digits"), None, "autoencoder", hidden=[100])
    x = th.data.load("digits").test.X
    assert r["test_loss"] < 0.8 * -untrained.log_likelihood(x).mean()    # measured: 22.1 against 44.4
    model = th.load(path)
    assert isinstance(model, th.models.Autoencoder) and model.k == 3 and model.hidden == 100
    assert th.load_metadata(path)["user"]["task"] == "autoencoder"
    # the labels are never read: train again with every training label shuffled, the same network comes out
    real = th.data.load

    def shuffled(*args, **kw):
        task = real(*args, **kw)
        task.train.y[:] = np.random.default_rng(0).permutation(task.train.y)
        return task
    monkeypatch.setattr(th.data, "load", shuffled)
    other, r2 = _train([], tmp_path, "shuffled.safetensors")
    assert r2["test_loss"] == r["test_loss"]
    assert all(np.array_equal(a, b) for a, b in zip(th.load(other).state_dict().values(),
                                                      model.state_dict().values()))


def test_inside_an_autoencoder_reads_out_its_best_unit_per_digit(capsys, digits_ae, tmp_path):
    path, _ = digits_ae
    assert main(["inside", str(path), "--json", "--steps", "20", "--plot", str(tmp_path / "in")]) == 0
    r = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert r["layer"] == "encoder" and len(r["units"]) == 100
    sel = r["selectivity"]
    assert list(sel["classes"]) == [str(d) for d in range(10)]
    for row in sel["classes"].values():
        assert set(row) >= {"unit", "accuracy", "random_accuracy", "pixel_accuracy"}
        assert 0.5 <= row["accuracy"] <= 1 and 0 <= row["unit"] < 100
    # measured on the digits: 0.886 trained, 0.856 untrained, 0.836 best pixel
    assert sel["mean_accuracy"] >= sel["mean_random_accuracy"] + 0.01
    assert sel["mean_accuracy"] >= sel["mean_pixel_accuracy"] + 0.02
    for u in r["units"]:          # a sparse unit shows only the images it fires on, at most 9
        assert len(u["top_labels"]) == len(u["top"]) == min(9, u["fires_on"])
        assert all(a > 0 for a in u["top_activations"])
    assert sel["silent_units"] < 100
    best = r["units"][sel["classes"]["0"]["unit"]]
    assert best["top_labels"].count("0") >= 7                  # the unit that detects 0 is excited most by 0s
    assert (tmp_path / "in" / "inside-encoder.png").stat().st_size > 5000


def test_autoencoder_mistakes_are_one_line(capsys, tmp_path):
    assert main(["train", "xor", "--model", "autoencoder"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--model autoencoder" in err[0] and "pixels in [0, 1]" in err[0]
    assert main(["train", "digits", "--model", "autoencoder", "--active", "200"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "k (units kept per example) must be between 1 and hidden=100" in err[0]


def test_evaluate_an_autoencoder_and_refuse_it_where_a_classifier_is_needed(capsys, digits_ae, tmp_path):
    path, r = digits_ae
    assert main(["evaluate", str(path), "--json"]) == 0
    e = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert e["test_loss"] == pytest.approx(r["test_loss"]) and e["test_mse"] == pytest.approx(r["test_mse"])
    from PIL import Image
    picture = np.full((28, 28), 255, np.uint8)
    picture[4:24, 12:16] = 0
    Image.fromarray(picture).save(tmp_path / "one.png")
    assert main(["predict", str(path), str(tmp_path / "one.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is an autoencoder" in err[0] and "thetas inside" in err[0]
    from thetas.lab.digits import DigitModel
    with pytest.raises(ValueError, match="an autoencoder rebuilds digits"):
        DigitModel.load(str(path))
