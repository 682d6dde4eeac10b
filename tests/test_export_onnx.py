"""thetas.export.to_onnx on every case of the shared layer contract: the graph passes the full checker and runs in
onnxruntime's CPU provider with thetas' outputs (float32, within 1e-5), for any batch size; recurrent layers with
asymmetric gates, where a wrong gate permutation would fail."""
import numpy as np
import pytest

import thetas as th
from test_layer_contract import FORWARD, inputs, make
from thetas.export import ExportError, to_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

CASES_TO_EXPORT = FORWARD          # cells too: one step of ONNX's RNN / GRU / LSTM operator


def flat(out):
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [out]


def run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})


@pytest.mark.parametrize("name", CASES_TO_EXPORT)
def test_onnxruntime_computes_what_thetas_computes(name, tmp_path):
    model = make(name, np.float32).eval()
    (x,) = inputs(name, np.float32)
    path = to_onnx(model, tmp_path / "m.onnx", x)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    ours = [t.data for t in flat(model(th.tensor(x)))]
    theirs = run_onnx(path, x)
    assert len(theirs) == len(ours)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and b.dtype == np.float32
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5 * max(1.0, np.abs(a).max()))
    bigger = np.concatenate([x, x[:1]])                                     # the batch axis is dynamic
    np.testing.assert_allclose(run_onnx(path, bigger)[0], flat(model(th.tensor(bigger)))[0].data, rtol=0,
                               atol=1e-5 * max(1.0, np.abs(ours[0]).max()))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_asymmetric_gates_catch_a_wrong_permutation(kind, tmp_path):
    """Each gate's weights are scaled differently, so swapping two gates' blocks changes the output."""
    layer = getattr(th.nn, kind)(3, 4, num_layers=2, generator=1)
    for p in layer.parameters():
        gates = p.data.shape[0] // 4
        for i in range(p.data.shape[0] // gates):
            p.data[i * gates:(i + 1) * gates] *= (1 + 2 * i) / 3
    x = np.random.default_rng(3).normal(size=(2, 6, 3)).astype(np.float32)
    path = to_onnx(layer, tmp_path / "r.onnx", x)
    out, *finals = layer(th.tensor(x))
    got = run_onnx(path, x)
    np.testing.assert_allclose(got[0], out.data, atol=1e-5)
    np.testing.assert_allclose(got[1], flat(finals)[0].data, atol=1e-5)


class Mystery(th.nn.Module):
    def forward(self, x):
        return x


def test_a_layer_with_no_onnx_translation_is_named(tmp_path):
    model = th.nn.Sequential(th.nn.Linear(2, 3), Mystery())
    with pytest.raises(ExportError, match=r"layer '1' is a Mystery"):
        to_onnx(model, tmp_path / "x.onnx", np.zeros((1, 2), np.float32))
    assert not (tmp_path / "x.onnx").exists()


def test_a_dkt_takes_any_number_of_students_and_steps(tmp_path):
    model = th.models.DKT(4, hidden_size=5, generator=0).eval()
    path = to_onnx(model, tmp_path / "dkt.onnx", np.zeros((1, 1, 2), np.int64))
    x = np.array([[[0, 1], [3, 0], [2, 1], [-1, 0]], [[1, 0], [1, 1], [0, 0], [3, 1]]], np.int64)
    np.testing.assert_allclose(run_onnx(path, x)[0], model(x).data, atol=1e-5)
