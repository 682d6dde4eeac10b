"""``thetas export MODEL --to torch|onnx OUT``: the written file is read back and runs with thetas' outputs; the
mistakes are one line each, exit 2."""
import json

import numpy as np
import pytest

import thetas as th
from thetas.cli import main


def run_json(capsys, argv):
    assert main([str(a) for a in argv]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    lenet = d / "lenet.safetensors"
    th.save(th.models.LeNet(image_size=8, kernel_size=3, generator=0), lenet, metadata={"dataset": "digits"})
    dkt = d / "dkt.safetensors"
    th.save(th.models.DKT(6, hidden_size=5, generator=0), dkt)
    return d, lenet, dkt


@pytest.mark.parametrize("to", ["onnx", "torch"])
def test_export_writes_a_file_that_computes_what_thetas_computes(capsys, models, to):
    pytest.importorskip("onnxruntime" if to == "onnx" else "torch")
    d, lenet, dkt = models
    for model in (lenet, dkt):
        out = d / f"{model.stem}.{'onnx' if to == 'onnx' else 'pt2'}"
        r = run_json(capsys, ["export", model, "--to", to, out, "--json"])
        assert r["to"] == to and r["bytes"] == out.stat().st_size > 1000
        assert r["max_abs_difference"] <= 1e-5, r
    if to == "torch":                       # a torch.export program: runs without thetas' classes
        import torch
        net = torch.export.load(str(d / "lenet.pt2")).module()
        x = np.random.default_rng(0).uniform(0, 1, (3, 1, 8, 8)).astype(np.float32)
        np.testing.assert_allclose(net(torch.from_numpy(x)).detach().numpy(), th.load(lenet).eval()(x).data,
                                   atol=1e-5)


class Mystery(th.nn.Module):
    """A layer of the user's own: registered (th.load can rebuild it) but with no translation."""

    def forward(self, x):
        return x


def test_an_untranslatable_model_is_one_line(capsys, tmp_path):
    pytest.importorskip("onnx")
    th.save(th.nn.Sequential(th.nn.Linear(3, 2), Mystery()), tmp_path / "own.safetensors")
    assert main(["export", str(tmp_path / "own.safetensors"), "--to", "onnx", str(tmp_path / "c.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "layer '1' is a Mystery" in err[0]


def test_a_missing_extra_is_one_line(capsys, models, monkeypatch):
    import builtins
    d, lenet, _ = models
    real = builtins.__import__

    def no_onnx(name, *args, **kw):
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kw)
    monkeypatch.setattr(builtins, "__import__", no_onnx)
    assert main(["export", str(lenet), "--to", "onnx", str(d / "x.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install" in err[0] and "thetas[export]" in err[0]
