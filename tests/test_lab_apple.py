"""The AppleWorld page: its API through Starlette's TestClient (a DQN trained in a child process at the first
"load a trained agent", in a temporary cache), then the page in headless Chromium (skipped without Playwright or
Chromium)."""
import warnings
from pathlib import Path

import pytest

pytest.importorskip("gymnasium", reason="AppleWorld needs the 'rl' extra")
pytest.importorskip("starlette", reason="the lab needs the 'lab' extra: pip install \"thetas[lab]\"")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from lab_support import need_browser, new_page, refused, screenshots, serve
from thetas.lab import create_app
from thetas.lab.server import PAGES
from thetas.lab.apple import CACHE_NAME, MAX_SPEED

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("aw-cache")


@pytest.fixture(scope="module")
def client(cache):
    with TestClient(create_app(cache=str(cache), autostart=False)) as c:
        yield c


def check_state(s):
    assert len(s["q"]) == 3 and len(s["actions"]) == 3 and 0 <= s["action"] < 3
    assert len(s["agent"]) == 2 and 0 <= s["agent"][0] <= s["size"] and 0 <= s["agent"][1] <= s["size"]
    assert len(s["rays"]) == 9 and all(len(r) == 2 for r in s["rays"]) and len(s["ray_kinds"]) == 9
    assert len(s["apples"]) == 12 and len(s["poison"]) == 12 and all(len(p) == 2 for p in s["apples"])
    assert all(len(w) == 2 for w in s["walls"])


def test_the_page_is_served_and_in_the_nav(client):
    r = client.get("/apple-world")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "/static/apple.js" in r.text and "http://" not in r.text and "https://" not in r.text
    assert client.get("/static/apple.js").status_code == 200
    assert '<a href="/apple-world" class="active">AppleWorld</a>' in r.text  # the served nav
    assert 'href="/apple-world"' in client.get("/").text


def test_a_session_steps_learns_and_plays(client):
    s = client.post("/api/apple/sessions", json={"seed": 3}).json()
    check_state(s)
    assert s["steps"] == 0 and not s["learning"]
    sid = s["session"]
    s = client.post(f"/api/apple/{sid}/step", json={"speed": 10}).json()
    check_state(s)
    assert s["steps"] == 10 and s["learn_steps"] == 0 and not s["learning"]
    for _ in range(80):                                        # past the warm-up: updates happen
        s = client.post(f"/api/apple/{sid}/step", json={"speed": MAX_SPEED, "learning": True}).json()
    assert s["learning"] and s["learn_steps"] == 80 * MAX_SPEED and s["loss"] is not None
    assert len(s["history"]) > 0 and s["epsilon"] < 1
    s2 = client.post(f"/api/apple/{sid}/step", json={"speed": 5, "learning": False}).json()
    assert not s2["learning"] and s2["learn_steps"] == s["learn_steps"] and s2["steps"] == s["steps"] + 5


def test_the_trained_agent(client, cache):
    # The flow (a child process trains, reports progress, caches; sessions load it) is what is tested here, not
    # the agent's skill (test_rl_cli.py trains AppleWorld for that): 2,000 steps instead of 25,000 keep it quick.
    client.app.lab.services["apple"].trained_agent.steps = 2_000
    sid = client.post("/api/apple/sessions", json={}).json()["session"]
    first = client.post("/api/apple/trained", json={}).json()
    assert first["state"] in ("training", "ready")
    client.app.lab.services["apple"].trained_agent.wait(timeout=600)   # its thread joined; the timeout stops a hang
    st = client.get("/api/apple/status").json()
    assert st["state"] == "ready", st
    assert (Path(cache) / CACHE_NAME).is_file()
    s = client.post(f"/api/apple/{sid}/load", json={}).json()
    assert s["trained"] and not s["learning"] and s["epsilon"] == pytest.approx(0.05)   # as rldemo: not stuck
    s = client.post(f"/api/apple/{sid}/step", json={"speed": 20, "learning": False}).json()
    check_state(s)
    assert s["trained"] and s["steps"] == 20
    # learning on from the trained agent: it keeps exploiting (ε = 0.05), no random warm-up from ε = 1
    s = client.post(f"/api/apple/{sid}/step", json={"speed": 20, "learning": True}).json()
    assert s["learning"] and s["learn_steps"] == 20 and s["epsilon"] == pytest.approx(0.05)
    fresh = client.post("/api/apple/sessions", json={}).json()["session"]
    s = client.post(f"/api/apple/{fresh}/step", json={"speed": 5, "learning": True}).json()
    assert s["epsilon"] == 1.0                                         # a fresh agent explores first


def test_bad_requests_are_refused_and_the_server_carries_on(client):
    sid = client.post("/api/apple/sessions", json={}).json()["session"]
    url = f"/api/apple/{sid}/step"
    refused(client.post(url, json={"speed": 0}), 422, "speed")
    refused(client.post(url, json={"speed": MAX_SPEED + 1}), 422, "speed")
    refused(client.post(url, json={"speed": 1.5}), 422, "speed")
    refused(client.post(url, json={"speed": "fast"}), 422, "speed")
    refused(client.post(url, json={"speed": 2, "learning": "yes"}), 422, "learning")
    refused(client.post(url, content=b"{", headers={"content-type": "application/json"}), 400, "JSON")
    refused(client.post(url, content=b"a" * 100_000, headers={"content-type": "application/json"}), 413)
    refused(client.post("/api/apple/AAAAAAAAAAAA/step", json={"speed": 2}), 404, "session")
    refused(client.post("/api/apple/bad!id/step", json={"speed": 2}), 404, "session")
    refused(client.post("/api/apple/sessions", json={"seed": -1}), 422, "seed")
    s = client.post(url, json={"speed": 2}).json()                      # still answering
    assert s["steps"] == 2


# ---------------------------------------------------------------------------------------------- the browser
def test_the_page_in_a_browser(tmp_path):
    need_browser()
    from playwright.sync_api import sync_playwright
    app = create_app(cache=str(tmp_path / "cache"), autostart=False, allowed_hosts=["127.0.0.1"])
    shots = screenshots(tmp_path)
    with serve(app) as url, sync_playwright() as p:
        b, pg, errors = new_page(p)
        pg.goto(url + "/apple-world")
        assert pg.locator("header.nav nav a").count() == len(PAGES)
        assert pg.locator("header.nav nav a.active").inner_text() == "AppleWorld"
        pg.wait_for_function("() => document.querySelector('#qbars').dataset.bars === '3'", timeout=20_000)
        pg.fill("#speed", "20")
        pg.dispatch_event("#speed", "input")
        pg.click("#learn")
        assert pg.locator("#learn").inner_text() == "Stop learning"
        pg.wait_for_function("() => +document.querySelector('#steps').textContent > 800", timeout=30_000)
        pg.screenshot(path=str(shots / "apple-world.png"), full_page=True)
        pg.click("#learn")
        assert pg.locator("#learn").inner_text() == "Start learning"
        assert errors == [], errors
        b.close()
