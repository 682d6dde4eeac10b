"""The Digits page's newer API, through Starlette's TestClient: the units that feed a unit (the hover lines), the
learned filters, and "watch it learn" (a LeNet trained live in a child process, one per client, bounded, stopped
by Stop or by its page going away); every bad payload refused with its status and a message naming the field."""
import os
import time

import numpy as np
import pytest

from lab_support import need_client

TestClient = need_client()               # skips the module without Starlette or httpx
pytest.importorskip("sklearn", reason="the live training's quick data set is scikit-learn's 8×8 digits")

import thetas as th  # noqa: E402
from lab_support import a_one, client_fixture, drawing, lenet_path_fixture, refused  # noqa: E402, F401
from thetas.lab import create_app, training  # noqa: E402
from thetas.io import load_metadata  # noqa: E402
from thetas.lab.schema import from_b64  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def wait_until_done(c, headers=None, limit=120):
    """Poll /api/digits/live as the page does until the run is over; its last status."""
    deadline = time.time() + limit
    while time.time() < deadline:
        s = c.get("/api/digits/live", headers=headers).json()
        if s["state"] != "training":
            return s
        time.sleep(0.3)
    raise AssertionError(f"the live training did not end: {s}")


# ---------------------------------------------------------------------------------------------- what feeds a unit
def test_a_dense_unit_is_fed_by_its_30_strongest_inputs_of_the_layer_before(client):
    """The hover lines of dense 1 (fed by the 400 values of pool 2): the 30 largest |w·x| of all 400, each naming
    its unit of pool 2, whose activation is what /predict draws there."""
    d = drawing(a_one())
    u = client.post("/api/digits/unit", json={"drawing": d, "layer": 5, "unit": [7]}).json()
    f = u["feeds"]
    assert f["layer"] == 4 and f["title"].startswith("pool 2") and f["of"] == 400 and f["shown"] == 30
    w, x = from_b64(u["weights"]).ravel(), from_b64(u["inputs"]).ravel()
    strongest = np.sort(np.abs(w * x))[::-1][:30]
    assert np.allclose(np.abs(np.multiply(f["weights"], f["inputs"])), strongest, rtol=1e-5, atol=1e-7)
    pool2 = from_b64(client.post("/api/digits/predict", json={"drawing": d}).json()["layers"][4])   # (16, 5, 5)
    for (c, i, j), value, weight in zip(f["units"], f["inputs"], f["weights"]):
        assert value == pytest.approx(float(pool2[c, i, j]), abs=1e-6)
        assert weight == pytest.approx(float(w[(c * 5 + i) * 5 + j]))


def test_a_conv_unit_is_fed_by_its_kernel_and_a_pool_unit_by_its_window(client):
    d = drawing(a_one())
    u = client.post("/api/digits/unit", json={"drawing": d, "layer": 1, "unit": [2, 14, 14]}).json()
    f = u["feeds"]                                            # conv 1: all 25 weights of kernel 2, on the input
    assert f["layer"] == 0 and f["shown"] == f["of"] == 25
    kernel = np.asarray(u["kernel"])[0]                      # (5, 5), centred on (14, 14) with padding 2
    for (c, i, j), w in zip(f["units"], f["weights"]):
        assert c == 0 and w == pytest.approx(float(kernel[i - 12, j - 12]))
    corner = client.post("/api/digits/unit", json={"drawing": d, "layer": 1, "unit": [0, 0, 0]}).json()["feeds"]
    assert corner["of"] == 9                                  # the zero padding feeds nothing: 3 × 3 of the 25
    u = client.post("/api/digits/unit", json={"drawing": d, "layer": 2, "unit": [3, 7, 7]}).json()
    f = u["feeds"]                                            # max pool: its 2 × 2 window; the winner counts 1
    assert f["layer"] == 1 and f["of"] == 4 and sorted(f["weights"]) == [0, 0, 0, 1]
    assert f["inputs"][f["weights"].index(1)] == pytest.approx(u["activation"])
    assert sorted(map(tuple, f["units"])) == [(3, 14, 14), (3, 14, 15), (3, 15, 14), (3, 15, 15)]
    f = client.post("/api/digits/unit", json={"drawing": d, "layer": 3, "unit": [5, 4, 4]}).json()["feeds"]
    assert f["layer"] == 2 and f["of"] == 150 and f["shown"] == 30 and {u[0] for u in f["units"]} <= set(range(6))
    f = client.post("/api/digits/unit", json={"drawing": d, "layer": 7, "unit": [1]}).json()["feeds"]
    assert f["layer"] == 6 and f["of"] == 84 and all(len(u) == 1 for u in f["units"])


# ---------------------------------------------------------------------------------------------- the learned filters
def test_filters_are_every_conv_layers_kernels(client, lenet_path):
    r = client.get("/api/digits/filters").json()
    model = th.load(lenet_path)
    convs = [m for m in model.modules() if isinstance(m, th.nn.Conv2d)]
    assert [layer["shape"] for layer in r["layers"]] == [[6, 1, 5, 5], [16, 6, 5, 5]]
    assert r["layers"][0]["title"] == "conv 1: 6 filters of 1×5×5"
    for layer, conv in zip(r["layers"], convs):
        assert np.array_equal(from_b64(layer["kernels"]), conv.weight.data)


def test_bad_requests_name_the_field(client):
    d = drawing(a_one())
    refused(client.get("/api/digits/filters?model=mine"), 422, "'model'", "loaded, live")
    refused(client.post("/api/digits/predict", json={"drawing": d, "model": 3}), 422, "'model'")
    refused(client.post("/api/digits/unit", json={"drawing": d, "layer": 1, "unit": [0, 0, 0], "model": "x"}), 422,
            "'model'")
    refused(client.get("/api/digits/filters?model=live"), 409, "no live model")
    refused(client.post("/api/digits/predict", json={"drawing": d, "model": "live"}), 409, "no live model")
    refused(client.post("/api/digits/live/start", json={}), 422, "'steps'", "required")
    refused(client.post("/api/digits/live/start", json={"steps": 5}), 422, "'steps'", "between 20 and 3000")
    refused(client.post("/api/digits/live/start", json={"steps": 10 ** 6}), 422, "'steps'")
    refused(client.post("/api/digits/live/start", json={"steps": "many"}), 422, "'steps'")
    refused(client.post("/api/digits/live/start", json={"steps": 40.5}), 422, "'steps'", "whole")
    refused(client.post("/api/digits/live/start", json={"steps": 40, "data": "cifar"}), 422, "'data'")
    refused(client.post("/api/digits/live/start", json=[40]), 422, "object")
    assert client.get("/api/digits/live").json()["state"] == "none"          # nothing was started
    assert client.post("/api/digits/live/stop", json={}).json()["state"] == "none"   # nothing to stop: no error


# ---------------------------------------------------------------------------------------------- watch it learn
def test_watch_it_learn_on_the_8x8_digits_then_guess_with_it(lenet_path):
    """A live run from fresh thetas: step 0 is a guess in ten, the test accuracy rises, the loss falls; the client's
    model then answers predict, unit and filters with "model": "live"; another client has none of it."""
    with TestClient(create_app(model_path=lenet_path)) as c:
        me, other = {"X-Lab-Client": "student-a"}, {"X-Lab-Client": "student-b"}
        first = c.post("/api/digits/live/start", json={"steps": 200, "data": "digits"}, headers=me).json()
        assert first["state"] == "training" and first["steps"] == 200 and first["data"] == "digits"
        refused(c.post("/api/digits/live/start", json={"steps": 40, "data": "digits"}, headers=me), 409, "stop it")
        assert c.get("/api/digits/live", headers=other).json()["state"] == "none"
        s = wait_until_done(c, me)
        assert s["state"] == "ready", s
        p = s["progress"]
        assert p["ended"] == "done" and p["step"] == 200 and p["test"] == 450 and p["train"] == 1347
        tests = p["tests"]
        assert tests["step"][0] == 0 and tests["step"][-1] == 200 and tests["accuracy"][0] <= 0.2
        assert tests["accuracy"][-1] >= 0.6 and tests["accuracy"][-1] == s["model"]["test_accuracy"]
        assert p["curve"]["step"] == list(range(10, 201, 10))                  # the loss every CHUNK steps
        assert p["curve"]["loss"][-1] < p["curve"]["loss"][0]
        assert [f["shape"] for f in p["filters"]] == [[6, 1, 3, 3], [16, 6, 3, 3]]
        assert "done after 200 steps" in s["message"] and s["model"]["input"] == [8, 8]
        out = c.post("/api/digits/predict", json={"drawing": drawing(a_one()), "model": "live"}, headers=me).json()
        assert len(out["probabilities"]) == 10 and out["input"]["shape"] == [8, 8]
        u = c.post("/api/digits/unit", json={"drawing": drawing(a_one()), "layer": 5, "unit": [0], "model": "live"},
                   headers=me).json()
        assert u["feeds"]["shown"] == 30
        live = c.get("/api/digits/filters?model=live", headers=me).json()["layers"]
        assert np.array_equal(from_b64(live[0]["kernels"]), from_b64(p["filters"][0]["kernels"]))
        refused(c.get("/api/digits/filters?model=live", headers=other), 409, "no live model")


def test_stop_keeps_the_model_so_far_and_the_server_bounds_the_runs(lenet_path, monkeypatch):
    """Stop ends a run early with the model it has; at most LIVE_RUNNING run at once (429 for one more)."""
    monkeypatch.setattr(training, "LIVE_RUNNING", 1)
    with TestClient(create_app(model_path=lenet_path)) as c:
        a, b = {"X-Lab-Client": "student-a"}, {"X-Lab-Client": "student-b"}
        assert c.post("/api/digits/live/start", json={"steps": 3000, "data": "digits"}, headers=a).status_code == 200
        refused(c.post("/api/digits/live/start", json={"steps": 40, "data": "digits"}, headers=b), 429, "at once")
        deadline = time.time() + 60
        while c.get("/api/digits/live", headers=a).json()["progress"].get("step", 0) < 20 and time.time() < deadline:
            time.sleep(0.2)
        assert c.post("/api/digits/live/stop", json={}, headers=a).json()["state"] == "training"   # it ends soon
        s = wait_until_done(c, a)
        assert s["state"] == "ready" and s["progress"]["ended"] == "stopped", s
        assert 20 <= s["progress"]["step"] < 3000 and s["message"].startswith("stopped after")
        assert c.post("/api/digits/predict", json={"drawing": drawing(a_one()), "model": "live"},
                      headers=a).status_code == 200
        assert c.post("/api/digits/live/start", json={"steps": 20, "data": "digits"}, headers=b).status_code == 200
        assert wait_until_done(c, b)["state"] == "ready"


def test_the_child_stops_by_itself_when_its_page_is_gone(tmp_path, capsys):
    """The page's polls touch the file ``alive``: left untouched for LIVE_IDLE seconds (its mtime in the past),
    the run stops at once and still saves the model it has; removed (Stop), the same."""
    import json
    for how in ("idle", "stopped"):
        alive = tmp_path / f"alive-{how}"
        alive.touch()
        if how == "idle":
            os.utime(alive, (0, 0))                                  # untouched since 1970
        else:
            alive.unlink()
        out = tmp_path / f"{how}.safetensors"
        training.train_live(str(out), "digits", 500, str(alive))
        last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert last["ended"] == how and last["step"] == 0
        assert load_metadata(str(out))["user"]["steps"] == 0
