"""The lab's JSON API, through Starlette's TestClient: every endpoint answers, every bad payload gets a clear
status and message, and the server keeps working after each one."""
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from lab_support import need_client

TestClient = need_client()               # skips the module without Starlette or httpx

import thetas as th  # noqa: E402
from lab_support import a_one, client_fixture, drawing, lenet_path_fixture, refused  # noqa: E402, F401
from thetas.lab import create_app  # noqa: E402
from thetas.lab.schema import from_b64  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def ok(client):
    """The server still answers a good request."""
    r = client.get("/api/digits/status")
    assert r.status_code == 200 and r.json()["state"] == "ready"


# ---------------------------------------------------------------------------------------------- pages
@pytest.mark.parametrize("path", ["/", "/digits", "/playground", "/four-pixels", "/optimisers"])
def test_pages_and_their_scripts_are_served(client, path):
    r = client.get(path)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for src in ("/static/lab.js", "/static/lab.css"):
        assert src in r.text
        assert client.get(src).status_code == 200
    assert "http://" not in r.text and "https://" not in r.text   # nothing from elsewhere


def test_unknown_endpoint_and_static_traversal_are_refused(client):
    refused(client.get("/api/nothing"), 404, "no such API endpoint")
    assert client.get("/static/../server.py").status_code == 404
    assert client.get("/static/%2e%2e/server.py").status_code == 404
    ok(client)


def test_the_routes_the_navigation_and_the_api_list_come_from_the_page_declarations(lenet_path, tmp_path):
    """``server.PAGES`` is the one list: every declared route is served by its own handler and answers, the app
    has no other API route, ``GET /api`` lists exactly the declared routes, and every page (and the index) is
    served with the navigation bar of the declared pages, its own marked; no static file names a page."""
    from html import unescape

    from starlette.routing import Match
    from thetas.lab.server import PAGES, STATIC

    declared = [r for p in PAGES for r in p.routes]
    assert len({(r.method, r.path) for r in declared}) == len(declared)
    app = create_app(model_path=lenet_path, cache=str(tmp_path), autostart=False)
    served = app.app.routes                                       # the Starlette app inside the Host guard
    with TestClient(app) as c:
        listing = c.get("/api").json()
        assert [(r["method"], r["path"]) for r in listing["routes"]] == [(r.method, r.path) for r in declared]
        assert [r["doc"] for r in listing["routes"]] == [r.doc for r in declared] and all(r.doc for r in declared)
        assert [p["path"] for p in listing["pages"]] == [p.path for p in PAGES]
        for r in declared:
            url = re.sub(r"\{\w+\}", "AAAAAAAAAAAA", r.path)             # a well-formed id that names no session
            first = next(s for s in served if s.matches({"type": "http", "method": r.method, "path": url})[0]
                         == Match.FULL)
            assert first.endpoint.route is r, f"{r.method} {r.path} is shadowed by {first.path}"
            answer = c.get(url) if r.method == "GET" else c.post(url, json={})
            assert answer.status_code in (200, 404, 422, 503), (r.path, answer.text)
            if answer.status_code != 200:
                error = answer.json()["error"]
                assert "no such API endpoint" not in error and (answer.status_code != 404 or "session" in error)
        others = [s.path for s in served if getattr(s, "path", "").startswith("/api")
                  and getattr(s.endpoint, "route", None) is None]
        assert others == ["/api", "/api/{rest:path}"]
        nav = [(p.path, p.title) for p in PAGES]
        for path, title, html in [("/", "Home", "index.html")] + [(p.path, p.title, p.html) for p in PAGES]:
            r = c.get(path)
            assert r.status_code == 200 and f"<title>{title} · thetas lab</title>" in unescape(r.text)
            bar = re.search(r'<header class="nav">(.*?)</header>', r.text).group(1)
            links = re.findall(r'<a href="([^"]+)"( class="active")?>([^<]*)</a>', bar.split("<nav>")[1])
            assert [(href, unescape(label)) for href, _, label in links] == nav
            assert [href for href, active, _ in links if active] == ([] if path == "/" else [path])
            assert re.search("<h1>.*</h1>", (STATIC / html).read_text("utf-8")).group(0) in r.text   # its own file
        cards = re.search(r'<div class="index-cards">(.*)</main>', c.get("/").text, re.S).group(1)
        assert re.findall(r'<a href="([^"]+)">', cards) == [p.path for p in PAGES]
    for f in STATIC.iterdir():
        assert not any(f'"{p.path}"' in f.read_text("utf-8") for p in PAGES), f"{f.name} names a page"


def test_a_background_job_trains_once_in_a_child_caches_and_replaces_a_broken_cache(tmp_path, monkeypatch):
    """``jobs.BackgroundJob``, as the three trainings use it, with a child that writes a number."""
    from thetas.lab.jobs import BackgroundJob
    (tmp_path / "fake_training.py").write_text(
        "import json, sys\nprint(json.dumps({'epoch': 1, 'fraction': 0.5}), flush=True)\n"
        "if sys.argv[2] == 'fail':\n    sys.exit('no luck')\nopen(sys.argv[1], 'w').write('42')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))

    class Number(BackgroundJob):
        what = "the number"

        def __init__(self, path, how="write"):
            super().__init__(path)
            self.how = how

        def load(self, path):
            return int(path.read_text())                             # ValueError: a broken file

        def child(self):
            return ["fake_training", str(self.path), self.how], "training the number"

    def finished(job):
        return job.wait(timeout=600)      # the job's thread has ended: no polling (the timeout only stops a hang)

    path = tmp_path / "number.txt"
    path.write_text("not a number")                                   # a broken cache file: trained again
    job = Number(path)
    assert job.status() == {"state": "idle", "message": "", "progress": {}}
    assert job.start("starting") and not job.start("once is enough")
    assert finished(job) == {"state": "ready", "message": f"the number: {path}",
                             "progress": {"epoch": 1, "fraction": 1.0}}
    assert job.result == 42 and job.seconds is not None
    cached = Number(path)                                             # the next start only loads it
    cached.start()
    assert finished(cached)["state"] == "ready" and cached.result == 42 and cached.seconds is None
    failing = Number(tmp_path / "other.txt", how="fail")
    failing.start()
    status = finished(failing)
    assert status["state"] == "failed" and status["progress"]["fraction"] == 0.5
    assert status["message"] == "training the number failed (RuntimeError: exit status 1: no luck)"
    assert not failing.start() and failing.start(retry=True)         # again only when asked
    finished(failing)
    closed = Number(tmp_path / "third.txt")
    closed.close()                                                    # the server is shutting down: no child
    closed.start()
    assert "shutting down" in finished(closed)["message"] and not (tmp_path / "third.txt").exists()


# ---------------------------------------------------------------------------------------------- digits
def test_digits_predict_gives_two_guesses_and_every_layer(client, lenet_path):
    r = client.post("/api/digits/predict", json={"drawing": drawing(a_one())})
    assert r.status_code == 200, r.text
    out = r.json()
    g1, g2 = out["guesses"]
    assert g1["label"] != g2["label"] and 1 >= g1["probability"] >= g2["probability"] >= 0
    assert sum(out["probabilities"]) == pytest.approx(1, abs=1e-5)
    mnist = from_b64(out["mnist"])
    assert mnist.shape == (28, 28) and mnist.max() == pytest.approx(1)
    expected = th.data.to_mnist(a_one(), invert=False)            # the lab preprocesses exactly as MNIST was made
    np.testing.assert_allclose(mnist, expected, atol=1e-6)
    # every leaf layer of the model is drawn, with its activations' shape
    model = th.load(lenet_path)
    acts = model.activations(expected.reshape(1, 1, 28, 28))
    layers = out["layers"]
    assert [layer["kind"] for layer in layers] == ["input", "conv", "pool", "conv", "pool", "dense", "dense", "softmax"]
    covered = [m for layer in layers for m in layer["modules"]]
    assert sorted(covered, key=int) == sorted(acts, key=int)
    for layer in layers[1:-1]:
        values = from_b64(layer)
        np.testing.assert_allclose(values, acts[layer["output"]][0], atol=1e-5)
    assert from_b64(layers[0]).shape == (1, 28, 28)
    assert from_b64(layers[-1]).shape == (10,) and from_b64(layers[-1]).sum() == pytest.approx(1, abs=1e-5)


def test_digits_unit_explains_a_conv_unit_with_shared_weights(client, lenet_path):
    model = th.load(lenet_path)
    d = drawing(a_one())
    r = client.post("/api/digits/unit", json={"drawing": d, "layer": 1, "unit": [2, 14, 14]})
    assert r.status_code == 200, r.text
    u = r.json()
    kernel, patch = np.array(u["kernel"]), np.array(u["patch"])
    assert kernel.shape == patch.shape == (1, 5, 5)
    np.testing.assert_allclose(kernel, model[0].weight.data[2], atol=1e-6)       # the shared kernel
    assert u["weighted_sum"] == pytest.approx((kernel * patch).sum() + u["bias"], abs=1e-5)
    assert u["weighted_sum"] == pytest.approx(u["computed"], abs=1e-4)           # what the conv layer computed
    assert u["activation"] == pytest.approx(max(u["weighted_sum"], 0), abs=1e-4)  # ReLU
    assert "same" in u["shared"] and u["receptive_field"] == [12, 12, 16, 16]
    # the same kernel at another position
    r2 = client.post("/api/digits/unit", json={"drawing": d, "layer": 1, "unit": [2, 3, 20]}).json()
    assert r2["kernel"] == u["kernel"]


@pytest.mark.parametrize("layer,unit", [(0, [0, 3, 4]), (2, [1, 3, 3]), (3, [4, 5, 5]), (4, [0, 2, 2]), (5, [7]),
                                        (6, [0]), (7, [1])])
def test_digits_unit_every_kind(client, layer, unit):
    r = client.post("/api/digits/unit", json={"drawing": drawing(a_one()), "layer": layer, "unit": unit})
    assert r.status_code == 200, r.text
    u = r.json()
    top, left, bottom, right = u["receptive_field"]
    assert 0 <= top <= bottom <= 27 and 0 <= left <= right <= 27
    if "computed" in u:
        assert u["weighted_sum"] == pytest.approx(u["computed"], abs=1e-4)
    if u["kind"] == "softmax":
        assert 0 < u["activation"] < 1


def test_digits_bad_payloads(client):
    big = np.zeros((300, 300), np.uint8)
    refused(client.post("/api/digits/predict", json={"drawing": drawing(big)}), 413, "at most")
    d = drawing(a_one())
    refused(client.post("/api/digits/predict", json={"drawing": {**d, "width": 139}}), 422, "bytes")
    refused(client.post("/api/digits/predict", json={"drawing": {**d, "pixels": "***"}}), 400, "base64")
    refused(client.post("/api/digits/predict", json={"drawing": {**d, "width": "x"}}), 422, "width")
    refused(client.post("/api/digits/predict", json=[1, 2]), 422, "object")
    refused(client.post("/api/digits/predict", content=b"{", headers={"content-type": "application/json"}), 400,
            "JSON")
    refused(client.post("/api/digits/predict", content=b"a" * 300_000, headers={"content-type": "application/json"}),
            413)
    refused(client.post("/api/digits/predict", content=b"{}", headers={"content-type": "text/plain"}), 415, "JSON")
    refused(client.post("/api/digits/unit", json={"drawing": d, "layer": 1, "unit": [9, 0, 0]}), 422, "unit")
    refused(client.post("/api/digits/unit", json={"drawing": d, "layer": 99, "unit": [0]}), 422, "layer")
    ok(client)


def test_a_blank_drawing_is_not_an_error(client):
    r = client.post("/api/digits/predict", json={"drawing": drawing(np.zeros((20, 20)))})
    assert r.status_code == 200 and r.json()["blank"] is True


def test_host_header_is_checked_when_asked(lenet_path):
    with TestClient(create_app(model_path=lenet_path, allowed_hosts=["127.0.0.1", "localhost"]),
                    base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/digits/status").status_code == 200
        refused(c.get("/api/digits/status", headers={"host": "evil.example:8000"}), 400, "Host")


def test_an_mlp_on_the_8x8_digits_and_the_background_training(tmp_path, monkeypatch):
    """No --model and an empty cache: a LeNet is trained on the 8×8 digits in a child process, with progress."""
    pytest.importorskip("sklearn")
    monkeypatch.setenv("THETAS_CACHE", str(tmp_path))
    with TestClient(create_app(train_data="digits", train_epochs=1, train_samples=300)) as c:
        first = c.get("/api/digits/status").json()
        assert first["state"] in ("training", "ready")
        refused_or_ready = c.post("/api/digits/predict", json={"drawing": drawing(a_one())})
        assert refused_or_ready.status_code in (200, 503)
        deadline = time.time() + 120
        while time.time() < deadline and c.get("/api/digits/status").json()["state"] == "training":
            time.sleep(0.3)
        status = c.get("/api/digits/status").json()
        assert status["state"] == "ready", status
        assert (tmp_path / "lab" / "digits-lenet-8x8.safetensors").is_file()
        out = c.post("/api/digits/predict", json={"drawing": drawing(a_one())}).json()
        assert from_b64(out["input"]).shape == (8, 8) and from_b64(out["layers"][1]).shape == (6, 8, 8)
    # the next start finds it in the cache
    with TestClient(create_app(train_data="digits")) as c:
        assert c.get("/api/digits/status").json()["state"] == "ready"
    # a flat MLP on the 8×8 digits, saved the way `thetas train digits --save` does
    mlp = th.models.MLP([64, 16, 10], generator=0)
    th.save(mlp, str(tmp_path / "mlp.safetensors"), metadata={"dataset": "digits"})
    with TestClient(create_app(model_path=str(tmp_path / "mlp.safetensors"))) as c:
        out = c.post("/api/digits/predict", json={"drawing": drawing(a_one())}).json()
        assert [layer["kind"] for layer in out["layers"]] == ["input", "dense", "softmax"]
        u = c.post("/api/digits/unit", json={"drawing": drawing(a_one()), "layer": 1, "unit": [3]}).json()
        assert from_b64(u["weights"]).shape == (1, 8, 8)       # a dense unit's weights, drawn as an image


def test_an_mlp_on_mnist_images(tmp_path):
    """`thetas train mnist` saves Sequential(Flatten(), MLP): every leaf is drawn, a dense unit's weights as 28×28."""
    model = th.nn.Sequential(th.nn.Flatten(), th.models.MLP([784, 32, 16, 10], dropout=0.2, generator=0))
    path = str(tmp_path / "mlp.safetensors")
    th.save(model, path, metadata={"dataset": "mnist"})
    with TestClient(create_app(model_path=path)) as c:
        out = c.post("/api/digits/predict", json={"drawing": drawing(a_one())}).json()
        assert [layer["kind"] for layer in out["layers"]] == ["input", "dense", "dense", "softmax"]
        acts = model.activations(from_b64(out["mnist"]).reshape(1, 1, 28, 28))
        assert sorted(m for layer in out["layers"] for m in layer["modules"]) == sorted(acts)
        u = c.post("/api/digits/unit", json={"drawing": drawing(a_one()), "layer": 1, "unit": [5]}).json()
        assert from_b64(u["weights"]).shape == (1, 28, 28) and u["weighted_sum"] == pytest.approx(u["computed"],
                                                                                                   abs=1e-4)


def test_a_model_that_is_not_a_digit_classifier_is_refused(tmp_path):
    path = str(tmp_path / "xor.safetensors")
    th.save(th.models.MLP([2, 4, 1]), path)
    with pytest.raises(ValueError):
        create_app(model_path=path)


# ---------------------------------------------------------------------------------------------- playground
def new_session(client, **config):
    r = client.post("/api/playground/sessions", json={"config": config})
    assert r.status_code == 200, r.text
    return r.json()


def test_playground_learns(client):
    s = new_session(client, dataset="xor", hidden=[8], activation="tanh", optimizer="adam", lr=0.03)
    sid, first = s["id"], s["loss"]
    assert s["train_points"] + s["test_points"] == 200 and len(s["points"]) == 200
    losses = []
    for _ in range(6):
        r = client.post(f"/api/playground/{sid}/step", json={"steps": 25})
        assert r.status_code == 200
        losses.append(r.json()["loss"])
    assert losses[-1] < losses[0] < first
    state = r.json()
    assert state["accuracy"] > 0.9 and state["step"] == 150
    boundary = from_b64(state["boundary"])
    assert boundary.shape == (64, 64) and boundary.min() < 64 and boundary.max() > 192   # both classes somewhere
    neurons = state["neurons"]
    assert [n["shape"][0] for n in neurons] == [8, 1] and all(n["shape"][1:] == [32, 32] for n in neurons)


def test_playground_points_config_reset_and_code(client, tmp_path):
    s = new_session(client, dataset="custom", hidden=[4], optimizer="gd", lr=0.5)
    sid = s["id"]
    assert s["train_points"] == 0 and s["loss"] is None
    pts = [[x, y, int(x * y < 0)] for x in (-1.5, -0.5, 0.5, 1.5) for y in (-1.5, -0.5, 0.5, 1.5)]
    r = client.post(f"/api/playground/{sid}/points", json={"add": pts})
    assert r.status_code == 200 and r.json()["train_points"] == 16
    before = client.post(f"/api/playground/{sid}/step", json={"steps": 1}).json()["loss"]
    after = client.post(f"/api/playground/{sid}/step", json={"steps": 100}).json()["loss"]
    assert after < before
    # a new network keeps the clicked points
    r = client.post(f"/api/playground/{sid}/config", json={"config": {"hidden": [6, 6], "loss": "cross_entropy"}})
    assert r.status_code == 200 and r.json()["train_points"] == 16 and r.json()["step"] == 0
    assert [n["shape"][0] for n in r.json()["neurons"]] == [6, 6, 1]
    r = client.post(f"/api/playground/{sid}/reset", json={})
    assert r.json()["step"] == 0 and r.json()["history"] == []
    code = client.get(f"/api/playground/{sid}/code").json()["code"]
    compile(code, "playground.py", "exec")
    assert "th.models.MLP([2, 6, 6, 2]" in code and "cross_entropy" in code
    r = client.post(f"/api/playground/{sid}/points", json={"clear": True})
    assert r.json()["train_points"] == 0


def test_playground_code_reproduces_the_session(client, tmp_path):
    s = new_session(client, dataset="moons", hidden=[5], activation="relu", loss="bce", optimizer="momentum",
                    lr=0.05, batch_size=25, points=100)
    sid = s["id"]
    assert s["train_points"] == 76                               # 4 batches an epoch: 25, 25, 25, 1
    state = client.post(f"/api/playground/{sid}/step", json={"steps": 12}).json()   # 3 epochs
    code = client.get(f"/api/playground/{sid}/code").json()["code"]
    script = tmp_path / "playground.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # th.fit reports the epoch's running mean; compare the model itself: the same test accuracy
    accuracy = float(out.stdout.split("test accuracy")[1])
    assert accuracy == pytest.approx(state["test_accuracy"], abs=1e-9)


def test_playground_csv_upload(client):
    sid = new_session(client)["id"]
    rows = "\n".join(f"{x},{y},{'cat' if x > y else 'dog'}" for x, y in np.random.default_rng(0).normal(size=(40, 2))
                     * 100)
    r = client.post(f"/api/playground/{sid}/csv", json={"csv": "width,height,animal\n" + rows})
    assert r.status_code == 200, r.text
    st = r.json()
    assert st["train_points"] + st["test_points"] == 40 and st["csv_labels"] == ["cat", "dog"]
    xy = np.array([p[:2] for p in st["points"]])
    assert np.allclose(xy.min(0), -1.8, atol=1e-4) and np.allclose(xy.max(0), 1.8, atol=1e-4)   # the whole plane
    assert st["scaling"][0]["column"] == "width"
    refused(client.post(f"/api/playground/{sid}/csv", json={"csv": "1,2,a\n3,x,b\n"}), 422, "line 2", "column 2")
    refused(client.post(f"/api/playground/{sid}/csv", json={"csv": "".join(f"{i},{i},c{i}\n" for i in range(6))}),
            422, "2 to 5 classes", "got 6")
    refused(client.post(f"/api/playground/{sid}/csv", json={"csv": "1,2\n3,4\n"}), 422, "3 columns")
    refused(client.post(f"/api/playground/{sid}/csv", json={"csv": "1,2,0\n" * 3000}), 413, "rows")
    refused(client.post(f"/api/playground/{sid}/csv", json={"csv": "1,2,0\n" * 60_000}), 413)
    ok(client)


def test_playground_bad_requests(client):
    sid = new_session(client)["id"]
    refused(client.post("/api/playground/sessions", json={"config": {"hidden": [8] * 7}}), 422, "hidden")
    refused(client.post("/api/playground/sessions", json={"config": {"hidden": [1000]}}), 422, "hidden")
    refused(client.post("/api/playground/sessions", json={"config": {"activation": "gelu"}}), 422, "activation")
    refused(client.post("/api/playground/sessions", json={"config": {"lr": "1e-3; import os"}}), 422, "lr")
    refused(client.post("/api/playground/sessions", json={"config": {"points": 10 ** 9}}), 422, "points")
    refused(client.post("/api/playground/sessions", json={"config": {"path": "/etc/passwd"}}), 422, "unknown")
    refused(client.post("/api/playground/sessions", content=b'{"config": {"lr": NaN}}',
                        headers={"content-type": "application/json"}), 400, "JSON")
    refused(client.post(f"/api/playground/{sid}/step", json={"steps": 10 ** 6}), 422, "steps")
    refused(client.post(f"/api/playground/{sid}/points", json={"add": [[5, 0, 0]]}), 422, "[-2, 2]")
    refused(client.post(f"/api/playground/{sid}/points", json={"add": [[0, 0, 2]]}), 422, "label")
    refused(client.post(f"/api/playground/{sid}/points", json={"add": [[0, 0]]}), 422)
    refused(client.post(f"/api/playground/{sid}/points", json={"add": [[0, 0, 0]] * 501}), 413)
    refused(client.post("/api/playground/AAAAAAAAAAAA/step", json={}), 404, "session")
    refused(client.post("/api/playground/..%2f..%2fetc/step", json={}), 404)
    # a huge learning rate diverges: reported, not crashed
    sid = new_session(client, lr=10, optimizer="sgd", activation="relu", hidden=[32, 32, 32], loss="mse")["id"]
    r = client.post(f"/api/playground/{sid}/step", json={"steps": 200})
    assert r.status_code == 200
    ok(client)


def test_playground_sessions_are_bounded():
    from thetas.lab.playground import Config, Sessions
    sessions = Sessions(limit=3)
    made = [sessions.create(Config()) for _ in range(5)]
    assert len(sessions) == 3
    from thetas.lab.schema import LabError
    with pytest.raises(LabError):
        sessions.get(made[0].id)
    assert sessions.get(made[-1].id) is made[-1]


# ---------------------------------------------------------------------------------------------- four pixels
def test_four_pixels_hand_set_weights_classify_every_image(client):
    info = client.get("/api/fourpixel").json()
    assert len(info["images"]) == 8 and info["classes"] == ["solid", "vertical", "diagonal", "horizontal"]
    r = client.post("/api/fourpixel/evaluate", json={"weights": info["preset"]})
    assert r.status_code == 200
    out = r.json()
    assert out["predicted"] == out["labels"] and out["accuracy"] == 1.0
    assert np.array(out["receptive_fields"][0]).shape == (4, 4)
    # all weights 0: every score ties, so only 'solid' (class 0) is right
    out = client.post("/api/fourpixel/evaluate", json={"weights": info["zero"]}).json()
    assert out["accuracy"] == 0.25
    # flip one weight: the tanh neuron that sees vertical now sees nothing of it
    w = info["preset"]
    w[0][1] = [0, 0, 0, 0]
    out = client.post("/api/fourpixel/evaluate", json={"weights": w}).json()
    assert out["correct"][2] is False and out["correct"][3] is False


def test_four_pixels_training_and_bad_weights(client):
    r = client.post("/api/fourpixel/train", json={"epochs": 400, "lr": 0.03, "seed": 1})
    assert r.status_code == 200
    out = r.json()
    assert out["accuracy"] == 1.0 and out["history"][-1] < out["history"][0]
    info = client.get("/api/fourpixel").json()
    w = info["preset"]
    w[0][0][0] = 0.5
    refused(client.post("/api/fourpixel/evaluate", json={"weights": w}), 422, "1, -1, 0")
    refused(client.post("/api/fourpixel/evaluate", json={"weights": w[:2]}), 422, "3 matrices")
    refused(client.post("/api/fourpixel/evaluate", json={"weights": [[[1]], w[1], w[2]]}), 422, "shape")
    refused(client.post("/api/fourpixel/train", json={"epochs": 10 ** 6}), 422, "epochs")
    ok(client)


# ---------------------------------------------------------------------------------------------- optimisers, M&Ms
def test_loss_surface_and_trajectories(client):
    s = client.post("/api/optim/surface", json={"resolution": 40}).json()
    loss = np.array(s["loss"])
    assert loss.shape == (40, 40) and np.isfinite(loss).all()
    r = client.post("/api/optim/trajectories", json={"start": [-2, 3], "steps": 150})
    assert r.status_code == 200
    t = r.json()["trajectories"]
    assert set(t) == {"gd", "sgd", "momentum", "adam"}
    for name, path in t.items():
        assert len(path["path"]) == 151 and len(path["loss"]) == 151
        assert path["loss"][-1] < path["loss"][0] * 0.7, name
    w, b = t["gd"]["path"][-1]
    assert [w, b] == pytest.approx(s["minimum"], abs=0.05)
    # an optimizer alone, and too large a step: the path stops where it diverges
    r = client.post("/api/optim/trajectories", json={"start": [0, 0], "steps": 10, "optimizers": {"sgd": {"lr": 0.1}}})
    assert set(r.json()["trajectories"]) == {"sgd"}
    refused(client.post("/api/optim/trajectories", json={"optimizers": {"rmsprop": {}}}), 422, "rmsprop")
    refused(client.post("/api/optim/trajectories", json={"steps": 5000}), 422, "steps")
    refused(client.post("/api/optim/trajectories", json={"start": "here"}), 422, "start")
    refused(client.post("/api/optim/surface", json={"resolution": 10 ** 5}), 422, "resolution")
    ok(client)


def test_mms_squared_error_gives_the_mean_absolute_the_median(client):
    counts = [54, 56, 55, 57, 53, 58, 55, 56, 61, 54, 55, 52, 57, 56, 70]
    r = client.post("/api/mms", json={"counts": counts, "start": 40, "steps": 300})
    assert r.status_code == 200
    out = r.json()
    assert out["mean"] == pytest.approx(np.mean(counts)) and out["median"] == np.median(counts)
    assert out["squared"]["exhaustive"] == pytest.approx(np.mean(counts), abs=0.005)
    assert out["absolute"]["exhaustive"] == np.median(counts)
    assert out["squared"]["gd"] == pytest.approx(np.mean(counts), abs=1e-3)
    # one formula: the mean cost, what the page shows and gradient descent follows
    assert out["squared"]["exhaustive_cost"] == pytest.approx(np.mean((np.array(counts) - np.mean(counts)) ** 2),
                                                               rel=1e-6)
    # a constant η: |d|'s slope is ±1 anywhere, so the guess hops within η of the median; shrinking η settles it
    eta = out["absolute"]["lr"]
    assert abs(out["absolute"]["gd"] - np.median(counts)) <= eta and not out["absolute"]["diverged"]
    cosine = client.post("/api/mms", json={"counts": counts, "start": 40, "steps": 300, "schedule": "cosine"}).json()
    assert cosine["absolute"]["gd"] == pytest.approx(np.median(counts), abs=0.05)
    # squared error: g − mean is multiplied by (1 − 2η) each step, so η > 1 diverges, and the reply says so
    ran_off = client.post("/api/mms", json={"counts": counts, "start": 40, "steps": 300, "lr_squared": 1.5}).json()
    assert ran_off["squared"]["diverged"] and len(ran_off["squared"]["gd_path"]) < 301
    edge = client.post("/api/mms", json={"counts": counts, "start": 40, "steps": 300, "lr_squared": 0.9}).json()
    assert not edge["squared"]["diverged"] and edge["squared"]["gd"] == pytest.approx(np.mean(counts), abs=1e-3)
    refused(client.post("/api/mms", json={"counts": counts, "schedule": "step"}), 422, "schedule")
    # an even number of bags: every guess between the two middle counts costs the same under absolute error
    out = client.post("/api/mms", json={"counts": [50, 52, 60, 61]}).json()
    assert out["absolute"]["flat"] == [52, 60] and out["absolute"]["exhaustive"] == 56 == out["median"]
    refused(client.post("/api/mms", json={"counts": [1.5, 2]}), 422, "whole")
    refused(client.post("/api/mms", json={"counts": []}), 422, "counts")
    refused(client.post("/api/mms", json={"counts": [50] * 1001}), 413, "1000")
    refused(client.post("/api/mms", json={"counts": "50, 60"}), 422, "counts")
    ok(client)


def test_every_error_body_is_json_with_a_message(client):
    for r in (client.post("/api/mms", content=b"\xff\xfe", headers={"content-type": "application/json"}),
              client.get("/api/playground/zzzzzzzzzz"),
              client.put("/api/mms", json={})):
        assert r.status_code in (400, 404, 405, 422)
        assert json.loads(r.text)["error"]
    ok(client)


# ---------------------------------------------------------------------------------------------- the command
LAB_CLI = """
import argparse, sys
from thetas.cli import CLIError
from thetas.cli.lab import add_parser
p = argparse.ArgumentParser(prog="thetas")
add_parser(p.add_subparsers(dest="command"))
args = p.parse_args(sys.argv[1:])
try:
    sys.exit(args.func(args))
except CLIError as e:
    print(f"thetas lab: error: {e}", file=sys.stderr)
    sys.exit(2)
"""


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_thetas_lab_command_serves_and_warns_off_loopback(lenet_path):
    import httpx
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", LAB_CLI, "lab", "--host", "0.0.0.0", "--port", str(port),
                             "--no-browser", "--model", lenet_path], stderr=subprocess.PIPE, text=True)
    try:
        deadline, status = time.time() + 60, None
        while time.time() < deadline and status is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/api/digits/status", timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.2)
        assert status is not None and status["state"] == "ready"
        # taken port: one clear line, exit status 2
        taken = subprocess.run([sys.executable, "-c", LAB_CLI, "lab", "--port", str(port), "--no-browser",
                                "--model", lenet_path], capture_output=True, text=True, timeout=60)
        assert taken.returncode == 2 and "cannot listen" in taken.stderr
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "warning" in err and "0.0.0.0" in err
    missing = subprocess.run([sys.executable, "-c", LAB_CLI, "lab", "--port", str(free_port()), "--no-browser",
                              "--model", "/no/such/model.safetensors"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "--model" in missing.stderr


def test_thetas_lab_refuses_a_bad_students_file_before_it_starts(tmp_path):
    bad = tmp_path / "answers.csv"
    bad.write_text("3\n1,2,3\n1,0\n")
    for path, message in ((bad, "line 3: 2 answers"), (tmp_path / "missing.csv", "no such file")):
        r = subprocess.run([sys.executable, "-c", LAB_CLI, "lab", "--port", str(free_port()), "--no-browser",
                            "--students", str(path)], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "THETAS_CACHE": str(tmp_path / "cache")})
        assert r.returncode == 2 and "--students" in r.stderr and message in r.stderr, r.stderr
        assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.safetensors"))


# ---------------------------------------------------------------------------------------------- hostile requests
def test_no_hostile_body_gets_a_500_on_any_endpoint(client):
    """Each POST route gets a 401-digit integer, 40 KB of nested JSON, and wrong kinds of values: never a 500 (there
    were: OverflowError, RecursionError, IndexError), a message with every 4xx, and the lab still answers after."""
    sid = new_session(client)["id"]
    routes = [r for r in client.get("/api").json()["routes"] if r["method"] == "POST"]
    assert len(routes) >= 18
    bodies = [{"steps": 10 ** 400}, {"layer": -10 ** 30, "unit": 10 ** 19}, {"x": [[[[[[[[[[1]]]]]]]]]]},
              {"drawing": {"width": 10 ** 50, "height": 1, "pixels": ""}}, {"csv": "5\n1,2,3\n4,5,6"}]
    nested = ("[" * 20000 + "]" * 20000).encode()
    for route in routes:
        path = route["path"].replace("{sid}", sid)
        for body in bodies:
            r = client.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
            assert r.status_code < 500 or r.status_code == 503, (path, body, r.status_code, r.text[:200])  # 503: training
            assert r.status_code == 200 or json.loads(r.text)["error"]      # a field a route does not read: ignored
        r = client.post(path, content=nested, headers={"content-type": "application/json"})
        assert r.status_code == 400 and "nested too deeply" in r.json()["error"], (path, r.text[:200])
    r = client.post("/api/mms", content=b'{"n": ' + b"9" * 401 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "401 digits" in r.json()["error"]
    ok(client)


def test_playground_csv_edge_cases_are_answered_not_crashed(client):
    sid = new_session(client)["id"]
    r = client.post(f"/api/playground/{sid}/csv", json={"csv": "5\n1,2,3\n4,5,6"})   # "5": a header of one
    assert r.status_code == 200 and r.json()["train_points"] + r.json()["test_points"] == 2, r.text
    r = client.post(f"/api/playground/{sid}/csv", json={"csv": "1,2\n1,2,3\n4,5,6"})
    assert r.status_code == 422 and "expected 3 columns" in r.json()["error"]
    r = client.post(f"/api/playground/{sid}/csv", json={"csv": "x\n1,2,a\n3,4,b\n5,6,a"})
    assert r.status_code == 200, r.text                                # a header shorter than the rows
    r = client.post(f"/api/playground/{sid}/csv", json={"csv": "1e308,-1e308,a\n-1e308,1e308,b\n0,0,a"})
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    assert all(math.isfinite(v) for p in points for v in p[:2]) and max(abs(p[0]) for p in points) <= 1.8


def test_a_host_with_userinfo_or_garbage_is_refused(lenet_path):
    with TestClient(create_app(model_path=lenet_path, allowed_hosts=["127.0.0.1", "localhost"]),
                    base_url="http://127.0.0.1:8000") as c:
        for host in ("localhost:80@evil.example", "localhost:x", "127.0.0.1:8000:1", "evil.example"):
            refused(c.get("/api/digits/status", headers={"host": host}), 400, "Host")
        assert c.get("/api/digits/status", headers={"host": "localhost:8000"}).status_code == 200


def test_the_lab_can_listen_again_at_once_on_a_port_left_in_time_wait():
    """A lab just stopped leaves TIME-WAIT sockets on its port: the check before listening binds as uvicorn does
    (SO_REUSEADDR), so `thetas lab` starts again at once on the same port."""
    import socket

    from thetas.cli.lab import _check_port
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client_side = socket.create_connection(("127.0.0.1", port))
    conn, _ = server.accept()
    conn.close()                     # the server closes first: its side of the connection waits in TIME-WAIT
    client_side.close()
    server.close()
    _check_port("127.0.0.1", port)   # raised "Address already in use" before


def test_a_huge_step_request_is_cut_short_and_says_so(client, monkeypatch):
    """2,000 points, six hidden layers of 32, batch 2,000, 500 steps held the lab 30-45 s: now the steps stop once
    they have taken STEP_SECONDS and the reply says how many ran. The cap is set here (0: after the first step;
    a day: never), so the test does not depend on how fast this machine is."""
    from thetas.lab import playground
    s = new_session(client, dataset="spiral", points=2000, hidden=[32] * 6, batch_size=2000, test_fraction=0.0)
    monkeypatch.setattr(playground, "STEP_SECONDS", 0.0)
    r = client.post(f"/api/playground/{s['id']}/step", json={"steps": 500})
    assert r.status_code == 200
    body = r.json()
    assert body["capped"] is True and body["steps_run"] == 1 and body["step"] == 1
    monkeypatch.setattr(playground, "STEP_SECONDS", 86400.0)
    small = client.post(f"/api/playground/{new_session(client)['id']}/step", json={"steps": 3}).json()
    assert small["capped"] is False and small["steps_run"] == 3
    ok(client)


def test_a_class_keeps_its_sessions_while_one_client_opens_a_thousand():
    """200 clients with a session each, then one client opens 1,000: no one else's session goes (before, one client
    opening 32 playgrounds made everyone else's answer 404)."""
    from thetas.lab.schema import LabError
    from thetas.lab.sessions import PER_CLIENT, SessionStore, as_client, new_id
    store = SessionStore(limit=256, idle=3600, what="playground")
    class_ids = [new_id() for _ in range(200)]
    for i, sid in enumerate(class_ids):
        with as_client(f"student-{i}", "127.0.0.1"):
            store.add(sid, object())
    greedy = [new_id() for _ in range(1000)]
    with as_client("greedy", "127.0.0.1"):
        for sid in greedy:
            store.add(sid, object())
    for sid in class_ids:
        store.get(sid)                                   # every student's session is still there
    assert len(store) == 200 + PER_CLIENT
    store.get(greedy[-1])
    with pytest.raises(LabError):
        store.get(greedy[0])                             # the greedy client only pushed out its own
    # a full store makes room at the expense of whoever holds most
    small = SessionStore(limit=4, idle=3600, what="playground", per_client=3)
    a = [new_id() for _ in range(3)]
    with as_client("a", None):
        for sid in a:
            small.add(sid, object())
    b = "b" * 10
    with as_client("b", None):
        small.add(b, object())
    with as_client("c", None):
        small.add("c" * 10, object())
    small.get(b)
    with pytest.raises(LabError):
        small.get(a[0])


def test_the_pages_client_id_keeps_sessions_apart_over_http(lenet_path):
    """The X-Lab-Client header (the pages send their browser's id) decides whose sessions make room."""
    with TestClient(create_app(model_path=lenet_path)) as c:
        c.app.lab.services["playground"].limit = 6          # a small store: bob's 12 sessions fill it twice
        mine = c.post("/api/playground/sessions", json={"config": {}}, headers={"x-lab-client": "alice"}).json()["id"]
        for _ in range(12):
            c.post("/api/playground/sessions", json={"config": {}}, headers={"x-lab-client": "bob"})
        assert c.post(f"/api/playground/{mine}/step", json={"steps": 1},
                      headers={"x-lab-client": "alice"}).status_code == 200


def test_mms_over_a_wide_range_stays_bounded_and_exact(client):
    """1,000 bag counts over 0..100,000 asked for a 74.5 GiB guesses × counts table (a 500); the costs now come
    from prefix sums on at most 20,000 guesses, and they equal Σ(c − g)² and Σ|c − g| computed directly."""
    from thetas.lab.optimisers import MAX_GUESSES, _total_costs
    r = client.post("/api/mms", json={"counts": [i * 100 for i in range(1000)], "steps": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["grid_step"] >= 5 and abs(body["squared"]["exhaustive"] - body["mean"]) <= body["grid_step"]
    assert abs(body["absolute"]["exhaustive"] - body["median"]) <= body["grid_step"]
    assert len(np.arange(-5, 99_900 + 5, body["grid_step"])) <= MAX_GUESSES + 1
    counts, guesses = np.array([3.0, 7, 7, 10, 15]), np.round(np.arange(-2, 20, 0.01), 2)
    squared, absolute = _total_costs(counts, guesses)
    d = counts[None] - guesses[:, None]
    np.testing.assert_allclose(squared, (d ** 2).sum(1), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(absolute, np.abs(d).sum(1), rtol=1e-12, atol=1e-9)
    refused(client.post("/api/mms", json={"counts": [0, 100000], "lr_absolute": 5000}), 422, "lr_absolute")
    assert client.post("/api/mms", json={"counts": [0, 100000], "steps": 3}).status_code == 200   # default rate ≤ cap


def test_playground_inputs_and_regularization(client):
    """x₁², x₂² and no hidden layer solve the circles (x₁, x₂ alone cannot); L1 and L2 shrink the weights and the
    loss shown stays the data's own; the code reproduces a regularized session with its features."""
    def run(steps=600, **config):
        s = new_session(client, **config)
        for _ in range(steps // 100):
            state = client.post(f"/api/playground/{s['id']}/step", json={"steps": 100}).json()
        return s["id"], state
    _, squares = run(dataset="circles", features=["x1sq", "x2sq"], hidden=[])
    _, plain = run(dataset="circles", features=["x1", "x2"], hidden=[])
    assert squares["parameters"] == 3 and squares["test_accuracy"] >= 0.95 and plain["test_accuracy"] < 0.75
    sessions = client.app.lab.services["playground"]

    def weights(sid):
        model = sessions.get(sid).model
        return np.concatenate([m.weight.data.ravel() for m in model.modules() if hasattr(m, "weight")])
    base = dict(dataset="xor", hidden=[8], features=["x1", "x2", "x1x2", "sinx1"])
    none, _ = run(**base)
    l2, state = run(**base, regularization="l2", reg_rate=0.03)
    l1, _ = run(**base, regularization="l1", reg_rate=0.03)
    assert (weights(l2) ** 2).sum() < 0.5 * (weights(none) ** 2).sum()
    assert np.abs(weights(l1)).sum() < 0.5 * np.abs(weights(none)).sum()
    assert np.mean(np.abs(weights(l1)) < 1e-2) > np.mean(np.abs(weights(none)) < 1e-2)     # L1: many near 0
    sid = sessions.get(l2)
    data_loss = sid.objective(sid.model(th.Tensor(features_of(sid))), sid.y[~sid.test]).item()
    assert state["loss"] == pytest.approx(data_loss, rel=1e-6)                              # the data's loss
    refused(client.post("/api/playground/sessions", json={"config": {"features": []}}), 422, "features")
    refused(client.post("/api/playground/sessions", json={"config": {"features": ["x3"]}}), 422, "x3")
    refused(client.post("/api/playground/sessions", json={"config": {"regularization": "l3"}}), 422,
            "regularization")


def features_of(session):
    from thetas.lab.playground import features
    return features(session.X[~session.test], session.config.features)


@pytest.mark.parametrize("config", [
    dict(dataset="moons", hidden=[5], features=["x1", "x2", "sinx1", "x1x2"], regularization="l1", reg_rate=0.003,
         optimizer="momentum", lr=0.05, batch_size=25, points=100),
    dict(dataset="circles", hidden=[], features=["x1sq", "x2sq"], regularization="l2", reg_rate=0.01, points=100,
         batch_size=25)])
def test_playground_code_reproduces_features_and_regularization(client, tmp_path, config):
    s = new_session(client, **config)
    state = client.post(f"/api/playground/{s['id']}/step", json={"steps": 12}).json()   # 3 epochs of 4 steps
    code = client.get(f"/api/playground/{s['id']}/code").json()["code"]
    assert "def features(X)" in code and "def loss_fn(output, target)" in code
    script = tmp_path / "playground.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.split("test accuracy")[1]) == pytest.approx(state["test_accuracy"], abs=1e-9)


# ---------------------------------------------------------------------------------------------- more classes, regression
def test_playground_a_three_class_spiral_is_learned_with_a_softmax(client):
    s = new_session(client, dataset="spiral", classes=3, loss="cross_entropy", hidden=[8, 8], points=300)
    assert s["boundary_kind"] == "regions" and sorted({p[2] for p in s["points"]}) == [0, 1, 2]
    assert [n["shape"][0] for n in s["neurons"]] == [8, 8, 3]                 # one output per class
    assert np.asarray(s["weights"][-1]).shape == (3, 8)
    st = s
    while st["step"] < 3000:                       # a request trains at most 0.1 s: count the steps, not requests
        st = client.post(f"/api/playground/{s['id']}/step", json={"steps": min(500, 3000 - st["step"]), "neurons": False}).json()
    assert st["step"] == 3000 and st["accuracy"] >= 0.8, st["accuracy"]          # chance: 1/3
    regions = from_b64(st["boundary"])
    assert set(np.unique(regions // 51)) == {0, 1, 2}                         # each class owns a region
    assert (regions % 51).max() <= 50


def test_playground_regression_fits_the_bumps(client):
    s = new_session(client, problem="regression", dataset="bumps", loss="mse", hidden=[8, 8])
    assert s["boundary_kind"] == "value" and s["accuracy"] is None
    assert any(not float(p[2]).is_integer() for p in s["points"])            # targets, not labels
    first, st = s["loss"], s
    while st["step"] < 2000:
        st = client.post(f"/api/playground/{s['id']}/step", json={"steps": min(500, 2000 - st["step"]), "neurons": True}).json()
    assert st["loss"] < first / 3 and st["test_loss"] < 0.06, (first, st["loss"], st["test_loss"])
    assert st["neurons"][-1]["kind"] == "value" and st["accuracy"] is None


def test_playground_settings_that_do_not_go_together_are_refused(client):
    post = client.post
    refused(post("/api/playground/sessions", json={"config": {"problem": "regression", "loss": "bce",
                                                              "dataset": "plane"}}), 422, "'loss'", "mse or mae")
    refused(post("/api/playground/sessions", json={"config": {"problem": "regression", "loss": "mse"}}),
            422, "'dataset'", "xor", "plane")
    refused(post("/api/playground/sessions", json={"config": {"dataset": "bumps"}}), 422, "'dataset'", "problem")
    refused(post("/api/playground/sessions", json={"config": {"dataset": "xor", "classes": 3}}),
            422, "'classes'", "spiral")
    refused(post("/api/playground/sessions", json={"config": {"dataset": "spiral", "classes": 6}}), 422, "classes")
    sid = new_session(client, dataset="custom", classes=3, loss="cross_entropy")["id"]
    refused(post(f"/api/playground/{sid}/points", json={"add": [[0, 0, 3]]}), 422, "2 (C)", "3 classes")
    st = post(f"/api/playground/{sid}/points", json={"add": [[0, 0, 2], [1, 1, 0]]}).json()
    assert [p[2] for p in st["points"]] == [2, 0]
    refused(post(f"/api/playground/{sid}/config", json={"config": {"classes": 2}}), 422, "class C", "clear")
    rid = new_session(client, problem="regression", dataset="custom", loss="mae")["id"]
    refused(post(f"/api/playground/{rid}/points", json={"add": [[0, 0, 1.5]]}), 422, "[-1, 1]")
    st = post(f"/api/playground/{rid}/points", json={"add": [[0.5, 0.5, -0.25]]}).json()
    assert st["points"][0][2] == -0.25


def test_playground_csv_with_more_classes_or_a_number(client):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 2)) * 10
    label = np.where(X[:, 0] > 5, "high", np.where(X[:, 0] < -5, "low", "mid"))
    sid = new_session(client)["id"]
    st = client.post(f"/api/playground/{sid}/csv", json={"csv": "a,b,level\n" + "\n".join(
        f"{x},{y},{c}" for (x, y), c in zip(X, label))}).json()
    assert st["config"]["classes"] == 3 and st["config"]["dataset"] == "custom"
    assert st["csv_labels"] == ["high", "low", "mid"] and st["neurons"][-1]["shape"][0] == 3
    assert st["boundary_kind"] == "regions"
    rid = new_session(client, problem="regression", dataset="plane", loss="mse")["id"]
    st = client.post(f"/api/playground/{rid}/csv", json={"csv": "a,b,price\n" + "\n".join(
        f"{x},{y},{100 + x - y}" for x, y in X)}).json()
    assert st["csv_labels"] is None and st["scaling"][2]["column"] == "price"
    assert min(p[2] for p in st["points"]) == -1 and max(p[2] for p in st["points"]) == 1
    refused(client.post(f"/api/playground/{rid}/csv", json={"csv": "1,2,3\n4,5,cheap\n"}), 422, "line 2",
            "column 3", "number")


@pytest.mark.parametrize("config", [
    dict(dataset="spiral", classes=3, loss="cross_entropy", points=90, batch_size=25),
    dict(dataset="gaussians", classes=4, loss="mse", hidden=[4], points=100, batch_size=25)])
def test_playground_code_reproduces_more_classes(client, tmp_path, config):
    s = new_session(client, **config)
    state = client.post(f"/api/playground/{s['id']}/step", json={"steps": 12}).json()
    code = client.get(f"/api/playground/{s['id']}/code").json()["code"]
    assert f"num_classes={config['classes']}" in code
    script = tmp_path / "playground.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.split("test accuracy")[1]) == pytest.approx(state["test_accuracy"], abs=1e-9)


def test_playground_code_reproduces_a_regression(client, tmp_path):
    s = new_session(client, problem="regression", dataset="plane", loss="mse", hidden=[3], points=100,
                    batch_size=25)
    state = client.post(f"/api/playground/{s['id']}/step", json={"steps": 12}).json()
    code = client.get(f"/api/playground/{s['id']}/code").json()["code"]
    assert "th.Objective(\"regression\", num_classes=None" in code
    script = tmp_path / "playground.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.split("test MSE")[1]) == pytest.approx(state["test_loss"], abs=1e-6)
