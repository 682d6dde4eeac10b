"""The Knowledge tracing page: its API through Starlette's TestClient (a DKT trained at first use, in a temporary
cache), then the page itself in headless Chromium (skipped without Playwright or Chromium)."""
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the lab needs the 'lab' extra: pip install \"thetas[lab]\"")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from lab_support import need_browser, new_page, refused, screenshots, serve
from thetas.lab import create_app
from thetas.lab.knowledge import MAX_LEN, NUM_STUDENTS
from thetas.lab.schema import from_b64

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def wait_ready(get, timeout=120):
    deadline = time.time() + timeout
    status = get()
    while status["state"] == "training" and time.time() < deadline:
        time.sleep(0.2)
        status = get()
    assert status["state"] == "ready", status
    return status


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("kt-cache")


@pytest.fixture(scope="module")
def client(cache):
    with TestClient(create_app(cache=str(cache), autostart=False)) as c:
        first = c.get("/api/knowledge/status").json()
        assert first["state"] in ("training", "ready")
        assert "progress" in first
        wait_ready(lambda: c.get("/api/knowledge/status").json())
        yield c


def check_state(s):
    T, M = len(s["questions"]), s["num_questions"]
    assert len(s["answers"]) == T and set(s["answers"]) <= {0, 1}
    trace = from_b64(s["trace"])
    assert trace.shape == (T, M) and np.all((trace >= 0) & (trace <= 1))
    assert len(s["mastery"]) == M and len(s["gains"]) == M
    assert np.allclose(s["mastery"], trace[-1], atol=1e-6)
    assert 0 <= s["suggestion"]["question"] < M
    assert s["suggestion"]["gain"] == pytest.approx(np.nanmax(s["gains"]))
    return trace


def test_the_page_is_served_and_in_the_nav(client):
    r = client.get("/knowledge")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "/static/knowledge.js" in r.text and "http://" not in r.text and "https://" not in r.text
    assert client.get("/static/knowledge.js").status_code == 200
    assert '"/knowledge"' in client.get("/static/lab.js").text


def test_status_lists_the_students_and_the_model_is_cached(client, cache):
    s = client.get("/api/knowledge/status").json()
    assert s["state"] == "ready" and s["num_questions"] == 50 and len(s["students"]) == NUM_STUDENTS
    assert (Path(cache) / "dkt-synthetic5.safetensors").is_file()
    with TestClient(create_app(cache=str(cache), autostart=False)) as c2:       # the second start loads it
        t0 = time.time()
        wait_ready(lambda: c2.get("/api/knowledge/status").json())
        assert time.time() - t0 < 20


def test_the_concept_graph(client):
    g = client.get("/api/knowledge/status").json()["graph"]
    assert g is not None and len(g["edges"]) > 0
    for i, j, w in g["edges"]:
        assert isinstance(i, int) and isinstance(j, int) and 0 <= i < 50 and 0 <= j < 50 and i != j
        assert w > 0
    weights = [w for _, _, w in g["edges"]]
    assert weights == sorted(weights, reverse=True)
    try:
        import sklearn  # noqa: F401
    except ImportError:
        assert g["labels"] is None
    else:
        assert len(g["labels"]) == 50 and all(isinstance(v, int) for v in g["labels"])
        assert 1 < len(set(g["labels"])) <= 5


def test_a_session_and_answering_as_the_student(client):
    s = client.post("/api/knowledge/sessions", json={"student": 3}).json()
    trace = check_state(s)
    T = len(s["questions"])
    assert T == s["original"] > 0
    q = s["suggestion"]["question"]
    s2 = client.post(f"/api/knowledge/{s['session']}/answer", json={"question": q, "correct": 1}).json()
    trace2 = check_state(s2)
    assert len(s2["questions"]) == T + 1 and s2["questions"][-1] == q and s2["answers"][-1] == 1
    assert np.allclose(trace2[:T], trace, atol=1e-5)                 # the past is unchanged
    s3 = client.post(f"/api/knowledge/{s['session']}/answer", json={"question": q, "correct": 0}).json()
    assert len(check_state(s3)) == T + 2 and s3["answers"][-1] == 0
    # a right answer predicts more mastery of that question than a wrong one
    assert from_b64(s2["trace"])[-1, q] > from_b64(s3["trace"])[-1, q]
    short = client.post("/api/knowledge/sessions", json={"student": 0, "steps": 0}).json()
    assert len(short["questions"]) == 0 and from_b64(short["trace"]).shape == (0, 50)


def test_bad_requests_are_refused_and_the_server_carries_on(client):
    sid = client.post("/api/knowledge/sessions", json={"student": 1}).json()["session"]
    url = f"/api/knowledge/{sid}/answer"
    refused(client.post("/api/knowledge/sessions", json={"student": NUM_STUDENTS}), 422, "student")
    refused(client.post("/api/knowledge/sessions", json={"student": -1}), 422, "student")
    refused(client.post("/api/knowledge/sessions", json={"student": "a"}), 422, "student")
    refused(client.post("/api/knowledge/sessions", json={}), 422, "student")
    refused(client.post(url, json={"question": 50, "correct": 1}), 422, "question")
    refused(client.post(url, json={"question": 1.5, "correct": 1}), 422, "question")
    refused(client.post(url, json={"question": 3, "correct": 2}), 422, "correct")
    refused(client.post(url, json={"question": 3, "correct": True}), 422, "correct")
    refused(client.post(url, json={"question": 3}), 422, "correct")
    refused(client.post(url, content=b"{", headers={"content-type": "application/json"}), 400, "JSON")
    refused(client.post(url, content=b"a" * 100_000, headers={"content-type": "application/json"}), 413)
    refused(client.post("/api/knowledge/AAAAAAAAAAAA/answer", json={"question": 3, "correct": 1}), 404, "session")
    refused(client.post("/api/knowledge/bad!id/answer", json={"question": 3, "correct": 1}), 404, "session")
    s = client.post(url, json={"question": 3, "correct": 1}).json()         # still answering
    assert s["questions"][-1] == 3
    while len(s["questions"]) < MAX_LEN:                                   # the length is capped
        s = client.post(url, json={"question": 4, "correct": 1}).json()
    refused(client.post(url, json={"question": 3, "correct": 1}), 422, str(MAX_LEN))
    assert client.get("/api/knowledge/status").json()["state"] == "ready"


# ---------------------------------------------------------------------------------------------- the browser
def test_the_page_in_a_browser(cache, tmp_path):
    need_browser()
    from playwright.sync_api import sync_playwright
    app = create_app(cache=str(tmp_path / "fresh-cache"), autostart=False, allowed_hosts=["127.0.0.1"])
    shots = screenshots(tmp_path)
    with serve(app) as url, sync_playwright() as p:
        b, pg, errors = new_page(p)
        pg.goto(url + "/knowledge")                 # a fresh cache: "training…" first, then the heatmap
        assert pg.locator("header.nav nav a").count() == 6
        assert pg.locator("header.nav nav a.active").inner_text() == "Knowledge tracing"
        pg.wait_for_function("() => +(document.querySelector('#heatmap').dataset.steps || 0) > 0",
                             timeout=120_000)
        before = pg.locator("#timeline span").count()
        assert before > 0 and pg.locator("#suggestion").inner_text().isdigit()
        pg.click("#answer-correct")
        pg.wait_for_function(f"() => document.querySelectorAll('#timeline span').length === {before + 1}")
        assert pg.locator("#timeline span.mine").count() == 1
        assert pg.locator("#heatmap").get_attribute("data-steps") == str(before + 1)
        pg.click("#answer-wrong")
        pg.wait_for_function(f"() => document.querySelectorAll('#timeline span').length === {before + 2}")
        assert "wrong" in pg.locator("#timeline span").last.get_attribute("class")
        pg.select_option("#student", "5")
        pg.wait_for_function("() => document.querySelectorAll('#timeline span.mine').length === 0")
        pg.click("#answer-correct")
        pg.wait_for_function("() => document.querySelectorAll('#timeline span.mine').length === 1")
        pg.wait_for_function("() => document.querySelectorAll('#graph .kt-node').length === 50")
        assert pg.locator("#graph .kt-node").count() == 50
        assert pg.locator("#graph .kt-edges line").count() > 0
        pg.screenshot(path=str(shots / "knowledge.png"), full_page=True)
        assert errors == [], errors
        b.close()
