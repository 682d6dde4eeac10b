"""The AppleWorld page: its API through Starlette's TestClient (a DQN trained in a child process at the first
"load a trained agent", in a temporary cache), then the page in headless Chromium (skipped without Playwright or
Chromium)."""
import base64
import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("gymnasium", reason="AppleWorld needs the 'rl' extra")
from lab_support import need_browser, need_client, new_page, refused, screenshots, serve  # noqa: E402

TestClient = need_client()               # skips the module without Starlette or httpx

from thetas.lab import create_app  # noqa: E402
from thetas.lab.server import PAGES  # noqa: E402
from thetas.lab.apple import CACHE_NAME, MAX_SPEED, PLAY_EPSILON, TRAINED_STEPS, eat_rate  # noqa: E402
from thetas.lab.jobs import child_env  # noqa: E402

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


# ---------------------------------------------------------------------------------------------- the learner's settings
def test_settings_make_a_fresh_agent_of_that_shape(client):
    s = client.post("/api/apple/sessions", json={"seed": 5}).json()
    sid = s["session"]
    assert s["settings"] == {"gamma": 0.9, "eps_start": 1.0, "eps_end": 0.05, "eps_steps": 10_000, "lr": 0.001,
                             "hidden": [128, 128]}
    assert s["net"]["sizes"] == [28, 128, 128, 3] and [len(a) for a in s["net"]["activations"]] == [28, 128, 128, 3]
    client.post(f"/api/apple/{sid}/step", json={"speed": 30, "learning": True})
    s = client.post(f"/api/apple/{sid}/settings", json={"gamma": 0.8, "hidden": "32", "eps_start": 0.5,
                                                         "eps_end": 0.1, "eps_steps": 100, "lr": 0.01}).json()
    assert "fresh agent" in s["message"] and "γ 0.8" in s["message"]
    assert s["net"]["sizes"] == [28, 32, 3] and s["settings"]["hidden"] == [32] and s["settings"]["gamma"] == 0.8
    assert s["steps"] == 0 and s["learn_steps"] == 0 and s["history"] == [] and s["eaten"] == {"apples": 0,
                                                                                               "poison": 0}
    agent = client.app.lab.services["apple"].sessions.get(sid).agent
    assert agent.config.gamma == 0.8 and agent.config.lr == 0.01 and agent.config.hidden == (32,)
    # the ε schedule: eps_start through the warm-up, then down to eps_end over eps_steps steps
    s = client.post(f"/api/apple/{sid}/step", json={"speed": 5, "learning": True}).json()
    assert s["epsilon"] == pytest.approx(0.5)
    for _ in range(16):
        s = client.post(f"/api/apple/{sid}/step", json={"speed": MAX_SPEED, "learning": True}).json()
    assert s["learn_steps"] > 500 + 100 and s["epsilon"] == pytest.approx(0.1)
    # a list works as well as text; absent fields take the defaults
    s = client.post(f"/api/apple/{sid}/settings", json={"hidden": [16, 8, 4]}).json()
    assert s["net"]["sizes"] == [28, 16, 8, 4, 3] and s["settings"]["gamma"] == 0.9


def test_two_fresh_agents_differ_and_the_network_answers_any_observation(client):
    sid = client.post("/api/apple/sessions", json={"seed": 6}).json()["session"]
    obs = [0.0] * 28
    obs[3 * 4 + 1] = 0.7                                          # the middle eye sees an apple
    first = client.post(f"/api/apple/{sid}/q", json={"obs": obs}).json()
    assert first["activations"][0] == obs and first["sizes"] == [28, 128, 128, 3]
    assert first["greedy"] == max(range(3), key=lambda a: first["q"][a])
    client.post(f"/api/apple/{sid}/settings", json={})
    second = client.post(f"/api/apple/{sid}/q", json={"obs": obs}).json()
    assert second["q"] != first["q"]                              # same settings, new random thetas
    now = client.post(f"/api/apple/{sid}/q", json={}).json()      # no obs: the observation now
    assert len(now["activations"][0]) == 28


@pytest.mark.parametrize("payload, words", [
    ({"gamma": 1.5}, ["'gamma'", "0.999", "1.5"]),
    ({"gamma": -0.1}, ["'gamma'"]),
    ({"gamma": "high"}, ["'gamma'", "number"]),
    ({"gamma": None}, ["'gamma'", "number"]),
    ({"eps_start": 1.2}, ["'eps_start'"]),
    ({"eps_end": 0.5, "eps_start": 0.2}, ["'eps_end'", "'eps_start'"]),
    ({"eps_steps": 0}, ["'eps_steps'"]),
    ({"eps_steps": 2.5}, ["'eps_steps'", "whole"]),
    ({"lr": 0}, ["'lr'"]),
    ({"lr": 5}, ["'lr'"]),
    ({"hidden": "abc"}, ["'hidden'", "64,64", "abc"]),
    ({"hidden": ""}, ["'hidden'"]),
    ({"hidden": "64,,64"}, ["'hidden'"]),
    ({"hidden": "-4"}, ["'hidden'"]),
    ({"hidden": "0"}, ["'hidden'[0]", "between 1 and 256"]),
    ({"hidden": "300"}, ["'hidden'[0]", "256"]),
    ({"hidden": "8,8,8,8"}, ["'hidden'", "1 to 3 entries"]),
    ({"hidden": [8, 1.5]}, ["'hidden'[1]", "whole"]),
    ({"hidden": {"a": 1}}, ["'hidden'"]),
    ({"gama": 0.8}, ["unknown setting 'gama'", "gamma"]),
])
def test_bad_settings_are_refused_naming_the_field(client, payload, words):
    sid = client.post("/api/apple/sessions", json={"seed": 7}).json()["session"]
    refused(client.post(f"/api/apple/{sid}/settings", json=payload), 422, *words)
    s = client.post(f"/api/apple/{sid}/step", json={"speed": 1}).json()    # the agent it had, still playing
    assert s["settings"]["hidden"] == [128, 128] and s["steps"] == 1


def test_bad_observations_are_refused(client):
    sid = client.post("/api/apple/sessions", json={"seed": 8}).json()["session"]
    url = f"/api/apple/{sid}/q"
    refused(client.post(url, json={"obs": [0.5] * 27}), 422, "'obs'", "[28]")
    refused(client.post(url, json={"obs": [2.0] * 28}), 422, "'obs'")
    refused(client.post(url, json={"obs": [-0.5] * 28}), 422, "'obs'", "0 to 1")
    refused(client.post(url, json={"obs": "eyes"}), 422, "'obs'")
    refused(client.post("/api/apple/AAAAAAAAAAAA/q", json={}), 404, "session")


# ---------------------------------------------------------------------------------------------- agents as files
def _upload(client, sid, raw, name="agent.safetensors"):
    return client.post(f"/api/apple/{sid}/agent", json={"name": name, "data": base64.b64encode(raw).decode()})


def _saved(client, sid):
    f = client.get(f"/api/apple/{sid}/agent").json()
    return f, base64.b64decode(f["data"])


def _with_metadata(raw, **changes):
    """A safetensors file's bytes with entries of its metadata replaced (``user`` merged, ``config`` as given)."""
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header["__metadata__"]
    for key, value in changes.items():
        if key == "user":
            value = {**json.loads(meta["user"]), **value}
        meta[key] = json.dumps(value)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + raw[8 + n:]


def test_save_and_upload_give_back_the_same_agent(client):
    sid = client.post("/api/apple/sessions", json={"seed": 9}).json()["session"]
    client.post(f"/api/apple/{sid}/settings", json={"gamma": 0.7, "hidden": "24,12", "lr": 0.003})
    for _ in range(15):                                            # past the warm-up: thetas a seed cannot give
        client.post(f"/api/apple/{sid}/step", json={"speed": MAX_SPEED, "learning": True})
    obs = [0.25] * 28
    before = client.post(f"/api/apple/{sid}/q", json={"obs": obs}).json()
    f, raw = _saved(client, sid)
    assert f["name"] == "appleworld-dqn-24x12.safetensors" and f["bytes"] == len(raw)
    assert raw[8:9] == b"{" and b"pickle" not in raw
    client.post(f"/api/apple/{sid}/settings", json={})              # another agent meanwhile
    assert client.post(f"/api/apple/{sid}/q", json={"obs": obs}).json()["q"] != before["q"]
    s = _upload(client, sid, raw, f["name"]).json()
    assert s["message"].startswith("loaded appleworld-dqn-24x12.safetensors")
    assert s["settings"] == {"gamma": 0.7, "eps_start": 1.0, "eps_end": 0.05, "eps_steps": 10_000, "lr": 0.003,
                             "hidden": [24, 12]}
    assert s["trained"] and not s["learning"] and s["net"]["sizes"] == [28, 24, 12, 3]
    assert client.post(f"/api/apple/{sid}/q", json={"obs": obs}).json() == before
    # another session (another world) takes the same file: the same Q-values for the same observation
    other = client.post("/api/apple/sessions", json={"seed": 10}).json()["session"]
    _upload(client, other, raw)
    assert client.post(f"/api/apple/{other}/q", json={"obs": obs}).json()["q"] == before["q"]
    # learning on from a loaded agent: no warm-up from ε = 1
    s = client.post(f"/api/apple/{sid}/step", json={"speed": 3, "learning": True}).json()
    assert s["epsilon"] == pytest.approx(0.05)


def test_the_trained_agents_file_loads_as_an_upload(client, cache):
    """The cached trained agent (test_the_trained_agent made it) is a file like any other."""
    path = Path(cache) / CACHE_NAME
    if not path.is_file():
        pytest.skip("the trained agent was not made (test_the_trained_agent did not run)")
    sid = client.post("/api/apple/sessions", json={"seed": 11}).json()["session"]
    s = _upload(client, sid, path.read_bytes(), "trained.safetensors").json()
    assert s["settings"]["hidden"] == [128, 128] and s["net"]["sizes"] == [28, 128, 128, 3]


def test_bad_files_are_refused_before_anything_is_built(client):
    import thetas as th
    from thetas.models import MLP
    sid = client.post("/api/apple/sessions", json={"seed": 12}).json()["session"]
    client.post(f"/api/apple/{sid}/settings", json={"hidden": "8"})
    f, good = _saved(client, sid)
    url = f"/api/apple/{sid}/agent"
    refused(client.post(url, json={"name": "a.safetensors"}), 422, "'data'", "base64")
    refused(client.post(url, json={"name": "a.safetensors", "data": "***"}), 400, "base64")
    refused(client.post(url, json={"name": "big.safetensors", "data": "A" * (4 * ((1 << 20) // 3 + 1) + 4)}), 413,
            "big.safetensors", "1,048,576")
    refused(client.post(url, content=b"{" + b" " * (2 << 20) + b"}", headers={"content-type": "application/json"}),
            413)
    refused(_upload(client, sid, b"hello, I am not a model", "junk.safetensors"), 422, "junk.safetensors",
            "not a safetensors file")
    refused(_upload(client, sid, good[:-10], "cut.safetensors"), 422, "cut.safetensors", "truncated")
    # a thetas model but no agent
    with tempfile.TemporaryDirectory() as tmp:
        th.save(MLP([28, 8, 3]), f"{tmp}/mlp.safetensors")
        plain = Path(f"{tmp}/mlp.safetensors").read_bytes()
    refused(_upload(client, sid, plain, "mlp.safetensors"), 422, "mlp.safetensors", "kind")
    # an agent for another world, or with other inputs
    refused(_upload(client, sid, _with_metadata(good, user={"env": "CartPole-v1"})), 422, "CartPole-v1")
    refused(_upload(client, sid, _with_metadata(good, user={"obs_dim": 4})), 422, "4 inputs", "28 inputs")
    # settings out of range, or not the network's
    refused(_upload(client, sid, _with_metadata(good, user={"settings": {"gamma": 3, "hidden": [8]}})), 422,
            "its settings", "'gamma'")
    refused(_upload(client, sid, _with_metadata(good, user={"settings": {"hidden": [64, 64]}})), 422,
            "sizes [28, 8, 3]", "hidden 64,64")
    # the config agrees with the settings but the tensors do not: named by tensor and shape
    lying = _with_metadata(good, user={"settings": {"hidden": [16]}},
                           config={"class": "MLP", "args": [[28, 16, 3]], "kwargs": {"activation": "relu"}})
    refused(_upload(client, sid, lying, "lying.safetensors"), 422, "lying.safetensors", "'0.weight'", "(8, 28)",
            "(16, 28)")
    # NaN thetas
    n = struct.unpack("<Q", good[:8])[0]
    nan = bytearray(good)
    nan[8 + n:8 + n + 4] = struct.pack("<f", float("nan"))
    refused(_upload(client, sid, bytes(nan), "nan.safetensors"), 422, "nan.safetensors", "NaN")
    text = refused(_upload(client, sid, bytes(nan), "nan.safetensors"), 422)
    assert "allow_nonfinite" not in text and "/tmp" not in text                     # no server path, no Python hint
    s = client.post(f"/api/apple/{sid}/step", json={"speed": 1}).json()          # the agent it had
    assert s["settings"]["hidden"] == [8]


# ---------------------------------------------------------------------------------------------- the trained agent's skill
SKILL_WORLDS = range(1000, 1005)     # fresh worlds (their seeds), none of them the world it trained in (seed 0)
SKILL_STEPS = 5_000
MIN_APPLES = 20                      # per 1,000 steps; a random agent eats about 6


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory):
    """The page's "Load a trained agent": ``TRAINED_STEPS`` steps of the default settings, trained as the lab
    trains it (``python -m thetas.lab.apple``, one BLAS thread: deterministic)."""
    path = tmp_path_factory.mktemp("aw-skill") / CACHE_NAME
    subprocess.run([sys.executable, "-m", "thetas.lab.apple", str(path), str(TRAINED_STEPS)], env=child_env(),
                   check=True, capture_output=True, timeout=3600)
    return path


def test_the_trained_agent_eats_apples_in_every_fresh_world(trained_file):
    """Played as the page plays it (ε = 0.05), in each of 5 fresh worlds, over 5,000 steps: at least 20 apples per
    1,000 steps. An agent that slides along a wall for most of a world's steps fails here."""
    rates = [eat_rate(trained_file, seed, SKILL_STEPS) for seed in SKILL_WORLDS]
    assert all(r["epsilon"] == PLAY_EPSILON for r in rates)
    apples = {r["seed"]: r["apples_per_1000"] for r in rates}
    assert min(apples.values()) >= MIN_APPLES, f"apples per 1,000 steps by world: {apples}; {rates}"
    assert all(r["apples_per_1000"] > r["poison_per_1000"] for r in rates), rates


def test_hostile_bodies_on_the_new_routes_get_a_message_not_a_500(client):
    sid = client.post("/api/apple/sessions", json={"seed": 13}).json()["session"]
    bodies = [{"obs": [[[[0.5]]]]}, {"obs": [float("1e308")] * 28}, {"hidden": [[1]]}, {"hidden": "9" * 50},
              {"gamma": [0.5]}, {"lr": {"x": 1}}, {"eps_steps": 10 ** 17}, {"name": [1], "data": 5},
              {"name": "a" * 5000, "data": "AAAA"}, {"data": "=" * 64}]
    for path in (f"/api/apple/{sid}/settings", f"/api/apple/{sid}/q", f"/api/apple/{sid}/agent"):
        for body in bodies:
            r = client.post(path, json=body)
            assert r.status_code < 500, (path, body, r.text[:200])
            assert r.status_code == 200 or r.json()["error"], (path, body)
    s = client.post(f"/api/apple/{sid}/step", json={"speed": 2}).json()        # still answering
    assert s["steps"] >= 2
