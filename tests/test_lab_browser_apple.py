"""The AppleWorld page in headless Chromium, driven as a student would: the Q-network drawn with its activations,
the learner's settings (a fresh agent, and the message of a bad value), saving the agent to a file and loading it
back, and the page on a projector and a phone (axe-core, no horizontal overflow). No LeNet is needed: the lab
runs without a digit model (``create_app(model_path=None, autostart=False)``)."""
import numpy as np
import pytest

pytest.importorskip("gymnasium", reason="AppleWorld needs the 'rl' extra")
from lab_support import need_browser  # noqa: E402

need_browser()                           # skips the module before anything imports Playwright

from lab_support import (  # noqa: E402, F401  (fixtures: pytest finds them imported here)
    browser_fixture, clean, page_fixture, serious_violations, serve)

import thetas as th  # noqa: E402
from thetas.lab import create_app  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
DEFAULT_SIZES = "28,128,128,3"
OBS = np.round(np.linspace(0, 1, 28), 3).tolist()          # an observation the tests ask the network about
PIXELS = """el => { const d = el.getContext('2d').getImageData(0, 0, el.width, el.height).data;
                    let h = 0; for (let i = 0; i < d.length; i++) h = (Math.imul(h, 31) + d[i]) >>> 0; return h; }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = create_app(model_path=None, cache=str(tmp_path_factory.mktemp("aw-cache")), autostart=False,
                     allowed_hosts=["127.0.0.1", "localhost"])
    with serve(app) as url:
        yield url


def open_page(pg, server):
    pg.goto(server + "/apple-world")
    pg.wait_for_function(f"() => document.querySelector('#net').dataset.sizes === '{DEFAULT_SIZES}'",
                         timeout=20_000)
    return pg.evaluate("document.querySelector('main').dataset.session")


def ask(pg, server, sid, obs=OBS):
    """The session's network on ``obs``, through the API (as a script would): its activations and Q(s, ·)."""
    r = pg.request.post(f"{server}/api/apple/{sid}/q", data={"obs": obs})
    assert r.ok, r.text()
    return r.json()


def test_the_network_is_drawn_with_its_activations_step_by_step(page, server):
    sid = open_page(page, server)
    net = page.locator("#net")
    first_step, first_pixels = int(net.get_attribute("data-step")), net.evaluate(PIXELS)
    # the page polls: each answer's activations redrawn (the agent moves, its eyes see something else)
    page.wait_for_function(f"""() => {{ const c = document.querySelector('#net');
        return +c.dataset.step > {first_step} && ({PIXELS})(c) !== {first_pixels}; }}""", timeout=20_000)
    actions = ["forward", "turn left", "turn right"]
    # read at one moment: the page keeps polling, and the next answer may pick another action
    picked, note, label = page.evaluate("""() => { const c = document.querySelector('#net');
        return [c.dataset.greedy, document.querySelector('#net-note').innerText, c.getAttribute('aria-label')]; }""")
    assert picked in actions
    assert f"the network picks {picked}" in note and "of 128 active" in note
    assert f"it picks {picked}" in label
    # what is drawn is what the network computes: the API's answer on one observation has these layers
    answer = ask(page, server, sid)
    assert answer["sizes"] == [28, 128, 128, 3] and len(answer["activations"]) == 4
    assert answer["activations"][0] == pytest.approx(OBS)
    assert min(min(a) for a in answer["activations"][1:-1]) >= 0                       # after ReLU
    assert answer["q"] == pytest.approx(answer["activations"][-1], abs=1e-3)
    assert answer["greedy"] == int(np.argmax(answer["q"]))
    clean(page)


def test_settings_make_a_fresh_agent_and_a_bad_value_is_shown(page, server):
    sid = open_page(page, server)
    assert page.locator("#set-gamma").input_value() == "0.9"
    assert page.locator("#set-hidden").input_value() == "128,128"
    page.fill("#set-gamma", "0.8")
    page.fill("#set-hidden", "32")
    page.click("#apply")
    page.wait_for_function("() => document.querySelector('#net').dataset.sizes === '28,32,3'")
    assert "fresh agent" in page.locator("#settings-note").inner_text()
    assert "γ 0.8" in page.locator("#settings-note").inner_text()
    assert "hidden 1: " in page.locator("#net-note").inner_text() and "of 32 active" in page.locator(
        "#net-note").inner_text()
    saved = page.request.get(f"{server}/api/apple/{sid}/agent").json()
    assert saved["settings"]["gamma"] == 0.8 and saved["settings"]["hidden"] == [32]
    # γ = 1.5: the server refuses it, the page says why, next to the field, and keeps the agent it had
    page.fill("#set-gamma", "1.5")
    page.click("#apply")
    page.wait_for_function("() => document.querySelector('#settings-error').textContent !== ''")
    message = page.locator("#settings-error").inner_text()
    assert "'gamma'" in message and "0.999" in message and "1.5" in message
    assert page.locator("#set-gamma").get_attribute("aria-invalid") == "true"
    assert page.locator("#net").get_attribute("data-sizes") == "28,32,3"
    # hidden "abc": the same
    page.fill("#set-gamma", "0.8")
    page.fill("#set-hidden", "abc")
    page.click("#apply")
    page.wait_for_function("() => document.querySelector('#settings-error').textContent.includes(\"'hidden'\")")
    assert "like 64,64" in page.locator("#settings-error").inner_text()
    assert page.locator("#set-hidden").get_attribute("aria-invalid") == "true"
    assert page.locator("#set-gamma").get_attribute("aria-invalid") is None
    # corrected: applied, the error gone
    page.fill("#set-hidden", "16,8")
    page.click("#apply")
    page.wait_for_function("() => document.querySelector('#net').dataset.sizes === '28,16,8,3'")
    assert page.locator("#settings-error").inner_text() == ""
    clean(page, refused=True)


def test_save_downloads_the_agent_and_loading_it_restores_its_q_values(page, server, tmp_path):
    sid = open_page(page, server)
    page.fill("#speed", "40")
    page.dispatch_event("#speed", "input")
    page.click("#learn")                                     # past the warm-up: its thetas are learnt, not a seed's
    page.wait_for_function("() => +document.querySelector('#steps').textContent > 900", timeout=60_000)
    page.click("#learn")
    assert page.locator("#learn").inner_text() == "Start learning"
    # the page sends one step at a time: after the first answer that did not learn, none will
    page.wait_for_function("() => document.querySelector('main').dataset.learning === 'false'")
    before = ask(page, server, sid)
    with page.expect_download() as download:
        page.click("#save")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "appleworld-dqn-128x128.safetensors"
    meta = th.load_metadata(path)["user"]
    assert meta["kind"] == "dqn" and meta["settings"]["hidden"] == [128, 128] and meta["learn_steps"] > 500
    assert "Saved appleworld-dqn-128x128.safetensors" in page.locator("#settings-note").inner_text()
    assert ask(page, server, sid)["q"] == before["q"]          # not learning: the thetas did not move since
    # another agent, then the file loaded back through the page's file input
    page.fill("#set-gamma", "0.5")
    page.fill("#set-hidden", "32")
    page.click("#apply")
    page.wait_for_function("() => document.querySelector('#net').dataset.sizes === '28,32,3'")
    assert ask(page, server, sid)["q"] != before["q"]
    page.set_input_files("#load-file", str(path))
    page.wait_for_function(f"() => document.querySelector('#net').dataset.sizes === '{DEFAULT_SIZES}'")
    assert "loaded appleworld-dqn-128x128.safetensors" in page.locator("#settings-note").inner_text().lower()
    assert page.locator("#set-gamma").input_value() == "0.9" and page.locator("#set-hidden").input_value() == "128,128"
    after = ask(page, server, sid)
    assert after["q"] == before["q"] and after["activations"] == before["activations"]
    # a file that is no agent: refused with the file's name and what was wrong; the loaded agent stays
    page.set_input_files("#load-file", files=[{"name": "junk.safetensors", "mimeType": "application/octet-stream",
                                               "buffer": b"this is not a model at all"}])
    page.wait_for_function("() => document.querySelector('#file-error').textContent !== ''")
    message = page.locator("#file-error").inner_text()
    assert "junk.safetensors" in message and "not a safetensors file" in message
    assert ask(page, server, sid)["q"] == before["q"]
    clean(page, refused=True)


@pytest.mark.parametrize("width, height", [(1400, 1000), (1024, 768), (390, 844)])
def test_the_page_is_accessible_and_fits_the_screen(browser, server, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    try:
        open_page(pg, server)
        pg.fill("#set-gamma", "2")                           # the error shown: part of the page axe-core checks
        pg.click("#apply")
        pg.wait_for_function("() => document.querySelector('#settings-error').textContent !== ''")
        wide = pg.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"the AppleWorld page at {width}×{height} is {wide} px wide"
        assert serious_violations(pg) == []
        for field in ("#set-gamma", "#set-lr", "#set-eps_start", "#set-eps_end", "#set-eps_steps", "#set-hidden",
                      "#load-file", "#speed"):
            label = pg.evaluate("s => { const e = document.querySelector(s); return e.labels && e.labels.length ? "
                                "e.labels[0].textContent : e.getAttribute('aria-labelledby') }", field)
            assert label and label.strip(), f"{field} has no label"
        box = pg.locator("#net").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    finally:
        context.close()
