"""The command line: every command ends with one JSON line under --json; bad input exits 2 with one clear line."""
import json

import numpy as np
import pytest

from thetas.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])


def test_xor_logistic_near_chance_mlp_learns(capsys):
    _, out, _ = run(capsys, "train", "xor", "--model", "logistic", "--json", "--quiet")
    logistic = last_json(out)
    _, out, _ = run(capsys, "train", "xor", "--hidden", "8", "--json", "--quiet")
    mlp = last_json(out)
    assert logistic["parameters"] == 3 and logistic["test_accuracy"] < 0.7
    assert mlp["test_accuracy"] >= 0.95


def test_save_then_evaluate_gives_the_same_numbers(capsys, tmp_path):
    path = str(tmp_path / "moons.safetensors")
    code, out, _ = run(capsys, "train", "moons", "--epochs", "20", "--save", path, "--json", "--quiet")
    trained = last_json(out)
    code2, out2, _ = run(capsys, "evaluate", path, "--json")
    evaluated = last_json(out2)
    assert code == code2 == 0
    assert evaluated["test_accuracy"] == trained["test_accuracy"]
    assert evaluated["test_loss"] == pytest.approx(trained["test_loss"], rel=1e-5)


def test_csv_with_target_standardisation_travels_with_the_model(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 3)) * [100.0, 1.0, 0.01]      # wildly different scales
    y = (X[:, 0] / 100 + X[:, 1] > 0).astype(int)
    csv = tmp_path / "data.csv"
    csv.write_text("a,b,c,label\n" + "".join(f"{a},{b},{c},{label}\n" for (a, b, c), label in zip(X, y)))
    model = str(tmp_path / "m.safetensors")
    code, out, _ = run(capsys, "train", str(csv), "--target", "label", "--save", model, "--json", "--quiet")
    assert code == 0 and last_json(out)["test_accuracy"] >= 0.9
    code, out, _ = run(capsys, "evaluate", model, "--json")
    assert code == 0 and last_json(out)["test_accuracy"] >= 0.9


def test_bad_cell_and_missing_target_give_one_clear_line(capsys, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("a,b,label\n1,2,0\n3,oops,1\n")
    code, out, err = run(capsys, "train", str(csv), "--target", "label")
    assert code == 2 and "row 3" in err and "'b'" in err and "oops" in err
    code, _, err = run(capsys, "train", str(csv), "--target", "nope")
    assert code == 2 and "nope" in err and "label" in err
    code, _, err = run(capsys, "train", "no-such-set")
    assert code == 2 and "digits" in err


def test_corrupt_model_file_is_rejected_by_name(capsys, tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    code, _, err = run(capsys, "evaluate", str(path), "digits")
    assert code == 2 and "broken.safetensors" in err


def test_plot_writes_a_png(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "curves.png"
    code, out, _ = run(capsys, "train", "circles", "--epochs", "5", "--plot", str(png), "--json", "--quiet")
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_progress_goes_to_stderr_json_is_the_last_stdout_line(capsys):
    code, out, err = run(capsys, "train", "four-pixels", "--epochs", "30", "--json")
    assert code == 0 and out.strip().count("\n") == 0      # stdout: only the JSON line
    assert last_json(out)["dataset"] == "four-pixels"
    assert "epoch" in err                                   # the progress bar
