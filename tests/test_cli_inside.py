"""``thetas inside``: a tiny digits MLP's output units, each one's optimal stimulus classed as its own digit."""
import contextlib
import io
import json

import pytest

from thetas.cli import main


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("inside") / "digits.safetensors"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["train", "digits", "--epochs", "3", "--save", str(path), "--quiet"])
    assert code == 0, err.getvalue()
    return path


def run_json(capsys, argv):
    assert main([str(a) for a in argv]) == 0
    out = capsys.readouterr().out.strip().splitlines()[-1]
    return json.loads(out)


def test_every_class_unit_has_its_own_digit_as_optimal_stimulus(capsys, model):
    # measured: after 30 ascent steps every stimulus is classed as its unit's digit with p >= 0.98 (0.37 at 10 steps)
    r = run_json(capsys, ["inside", model, "--json", "--steps", "30"])
    assert set(r) >= {"model", "layer", "units", "seconds", "peak_memory_mb"} and r["layer"] == "output"
    assert [u["unit"] for u in r["units"]] == list(range(10))
    for u in r["units"]:
        assert u["predicted_class"] == str(u["unit"]) and u["probability"] > 0.9, u   # a label, as predict's
        assert len(u["top"]) == 9 and len(set(u["top"])) == 9
        assert u["top_activations"] == sorted(u["top_activations"], reverse=True)


def test_one_unit_of_a_hidden_layer_and_a_plot(capsys, model, tmp_path):
    r = run_json(capsys, ["inside", model, "--json", "--unit", "3", "--steps", "5", "--samples", "50"])
    assert [u["unit"] for u in r["units"]] == [3] and max(r["units"][0]["top"]) < 50
    r = run_json(capsys, ["inside", model, "--json", "--layer", "1", "--unit", "7", "--steps", "5",
                          "--plot", tmp_path / "pl"])
    assert r["layer"] == "1" and (tmp_path / "pl" / "inside-1.png").stat().st_size > 1000
    assert r["plot"] == str(tmp_path / "pl" / "inside-1.png")


@pytest.mark.parametrize("argv,names", [
    (["--layer", "nosuch"], "--layer nosuch: unknown layer 'nosuch'"),
    (["--unit", "10"], "--unit 10: layer output has 10 unit(s)"),
    (["--layer", "0", "--unit", "256"], "--unit 256: layer 0 has 256 unit(s)"),
])
def test_a_bad_layer_or_unit_is_one_line(capsys, model, argv, names):
    assert main(["inside", str(model), *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and names in err, err
    if "nosuch" in argv:
        assert "'output'" in err and "'3'" in err             # the names to choose from


def test_not_a_classifier_is_refused(capsys, tmp_path):
    import thetas as th
    from thetas.models import MLP
    th.save(MLP([2, 1]), tmp_path / "reg.safetensors", metadata={"dataset": "moons", "task": "regression"})
    assert main(["inside", str(tmp_path / "reg.safetensors")]) == 2
    assert "neither a many-class classifier nor an autoencoder" in capsys.readouterr().err


def test_plot_is_refused_for_a_model_whose_input_is_no_picture(capsys, tmp_path):
    path = tmp_path / "xor.safetensors"
    assert main(["train", "xor", "--epochs", "1", "--save", str(path), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["inside", str(path), "--plot", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--plot draws pictures" in err[0] and "2 numbers" in err[0]
