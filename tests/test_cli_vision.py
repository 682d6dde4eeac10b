"""The command line on images: LeNet and the MLP on a slice of real MNIST (through THETAS_DATA), top-5 error in
the JSON, plots written to a folder, and ``thetas predict`` on a picture of a digit."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from thetas.cli import main

STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture(scope="module")
def mnist_available():
    data = os.environ.get("THETAS_DATA")
    if not data or not any(all((d / f"{s}.gz").is_file() or (d / s).is_file() for s in STEMS)
                           for d in (Path(data) / "mnist", Path(data))):
        pytest.skip("real MNIST not found: set THETAS_DATA to a folder holding mnist/ (../shared/data)")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, json.loads(captured.out.strip().splitlines()[-1]) if captured.out.strip() else None, captured.err


@pytest.fixture(scope="module")
def lenet_file(tmp_path_factory, mnist_available):
    """A LeNet trained for 3 epochs on 3,000 MNIST images, saved."""
    path = tmp_path_factory.mktemp("lenet") / "lenet.safetensors"
    code = main(["train", "mnist", "--model", "lenet", "--samples", "3000", "--epochs", "3", "--lr", "0.003",
                 "--save", str(path), "--quiet", "--json"])
    assert code == 0
    return path


def test_lenet_on_a_slice_of_mnist(capsys, lenet_file):
    code, result, _ = run(capsys, "evaluate", lenet_file, "--json")
    assert code == 0 and result["dataset"] == "mnist" and result["samples"] == 10_000
    assert result["test_accuracy"] >= 0.90          # 3 epochs on 3,000 images
    assert 0 <= result["test_top5_error"] < 0.02    # the true digit is almost always among 5 guesses


def test_train_json_has_top5_error_memory_and_plots(capsys, tmp_path, mnist_available):
    pytest.importorskip("matplotlib")
    plots = tmp_path / "plots"
    code, result, _ = run(capsys, "train", "mnist", "--model", "lenet", "--samples", "600", "--epochs", "1",
                          "--channels", "4,8", "--hidden", "32", "--plot", plots, "--json", "--quiet")
    assert code == 0 and result["parameters"] < 10_000
    assert {"test_accuracy", "test_top5_error", "train_accuracy", "peak_memory_mb", "seconds"} <= set(result)
    assert result["test_top5_error"] <= 1 - result["test_accuracy"]
    written = {Path(p).name for p in result["plot"]}
    assert {"history.png", "confusion_matrix.png", "misclassified.png", "filters.png", "feature_maps.png"} <= written
    assert all((plots / name).read_bytes()[:4] == b"\x89PNG" for name in written)


def test_mlp_flattens_images(capsys, mnist_available):
    code, result, _ = run(capsys, "train", "mnist", "--samples", "2000", "--epochs", "3", "--hidden", "64",
                          "--lr", "0.003", "--batch-size", "64", "--schedule", "cosine", "--json", "--quiet")
    assert code == 0 and result["parameters"] == 784 * 64 + 64 + 64 * 10 + 10
    assert result["test_accuracy"] >= 0.85


def test_predict_reads_a_drawing_like_mnist(capsys, tmp_path, lenet_file):
    PIL = pytest.importorskip("PIL.Image")
    from thetas.data import mnist
    (_, _), (X, y) = mnist()
    ok = 0
    for i in range(10):
        # a dark digit on a white page, 5x larger, off-centre: predict must undo all of that
        page = np.full((200, 180), 255, np.uint8)
        big = np.kron(255 - X[i], np.ones((5, 5), np.uint8))
        page[20:160, 30:170] = big
        png = tmp_path / f"digit{i}.png"
        PIL.fromarray(page).save(png)
        code, result, _ = run(capsys, "predict", lenet_file, png, "--json")
        assert code == 0 and len(result["guesses"]) == 2
        assert result["guesses"][0]["probability"] >= result["guesses"][1]["probability"]
        ok += result["prediction"] == str(y[i])
    assert ok >= 8


def test_predict_prints_first_and_second_guess(capsys, tmp_path, lenet_file):
    PIL = pytest.importorskip("PIL.Image")
    png = tmp_path / "one.png"
    page = np.zeros((64, 64), np.uint8)
    page[8:56, 28:36] = 255                          # a white stroke on black: a "1"
    PIL.fromarray(page).save(png)
    code = main(["predict", str(lenet_file), str(png)])
    out = capsys.readouterr().out
    assert code == 0 and "1st guess:" in out and "2nd guess:" in out and "%" in out


def test_errors_name_the_problem(capsys, tmp_path, lenet_file):
    code, _, err = run(capsys, "predict", lenet_file, tmp_path / "missing.png")
    assert code == 2 and "missing.png" in err
    code, _, err = run(capsys, "train", "xor", "--model", "lenet")
    assert code == 2 and "lenet" in err and "square images" in err


def test_lenet_on_the_embedded_digits(capsys):
    pytest.importorskip("sklearn")
    code, result, _ = run(capsys, "train", "digits", "--model", "lenet", "--epochs", "8", "--json", "--quiet")
    assert code == 0 and result["test_accuracy"] >= 0.9


def test_predict_explains_its_first_guess(capsys, tmp_path, lenet_file):
    """--explain OUT.png: integrated gradients of the first guess over the prepared picture; complete to 5 %
    (the attributions add up to the logit's change from a blank picture); a folder is refused before any work."""
    PIL = pytest.importorskip("PIL.Image")
    pytest.importorskip("matplotlib")
    from thetas.data import mnist
    (_, _), (X, _) = mnist()
    png, why = tmp_path / "digit.png", tmp_path / "why.png"
    PIL.fromarray(255 - X[0]).save(png)
    code, result, _ = run(capsys, "predict", lenet_file, png, "--explain", why, "--json")
    assert code == 0 and result["explain"] == str(why) and why.read_bytes()[:4] == b"\x89PNG"
    assert 0 <= result["explain_gap"] <= 0.05
    code, _, err = run(capsys, "predict", lenet_file, png, "--explain", tmp_path)
    assert code == 2 and "--explain" in err and "is a folder" in err
    code, _, err = run(capsys, "predict", lenet_file, png, "--explain", tmp_path / "why")
    assert code == 2 and "give a .png file name" in err
