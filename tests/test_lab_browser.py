"""The lab in a real browser: headless Chromium (Debian's, at /usr/bin/chromium) driven by Playwright.

A server runs on a free port in a thread; every page must load without console errors and without a request
to any host but 127.0.0.1. Screenshots of each page go to $THETAS_LAB_SCREENSHOTS (default: pytest's tmp dir).
"""
import os
import re
from pathlib import Path

import pytest

from lab_support import need_browser

need_browser()                           # skips the module before anything imports Playwright

from lab_support import (  # noqa: E402, F401  (fixtures: pytest finds them imported here)
    browser_fixture, clean, model_fixture, page_fixture, serious_violations, server_fixture)

from thetas.lab.server import PAGES  # noqa: E402

LAYERS = 8   # input, conv, pool, conv, pool, dense, dense, softmax


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("THETAS_LAB_SCREENSHOTS") or tmp_path_factory.mktemp("lab-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


INKED = """el => { const d = el.getContext('2d').getImageData(0, 0, el.width, el.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""


def draw_a_one(pg):
    box = pg.locator("#pad").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15
    pg.mouse.move(x - 25, y + 30)
    pg.mouse.down()
    pg.mouse.move(x, y, steps=6)                       # the little flag of a handwritten 1
    pg.mouse.up()
    pg.mouse.move(x, y)
    pg.mouse.down()
    pg.mouse.move(x, y + box["height"] * 0.7, steps=20)
    pg.mouse.up()


def test_every_page_loads_cleanly(page, server, shots):
    for path, name in (("/", "index"), ("/four-pixels", "four-pixels"), ("/optimisers", "optimisers")):
        page.goto(server + path)
        page.wait_for_load_state("networkidle")
        assert page.locator("header.nav nav a").count() == len(PAGES)
        if name == "optimisers":
            page.wait_for_function("() => document.querySelector('#now-adam').textContent !== '–'")
            page.wait_for_function("() => document.querySelector('#mm-table').rows.length > 2")
            assert "mean" in page.locator("#mm-table").inner_text()
            if os.environ.get("THETAS_LAB_SCREENSHOTS"):  # screenshots someone will look at:
                page.wait_for_timeout(2500)             # let the paths finish their animation
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    clean(page)


PATHS = ["/"] + [p.path for p in PAGES]


@pytest.mark.parametrize("width, height", [(1400, 1000), (1024, 768), (390, 844)])
def test_every_page_is_accessible_and_fits_the_screen(browser, server, shots, width, height):
    """axe-core finds no serious or critical violation on any page (nor a heading out of order: a screen reader's
    outline of the page), and no page is wider than the screen: a laptop,
    a projector at 1024×768, a phone held upright (390 px: the nav bar wraps, the pictures shrink)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    try:
        for path in PATHS:
            pg.goto(server + path)
            pg.wait_for_load_state("load")
            pg.wait_for_timeout(700)                   # its first API answers drawn (some pages keep polling)
            wide = pg.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{path} at {width}×{height} is {wide} px wide"
            if width == 1400:
                assert serious_violations(pg, rules=("heading-order",)) == [], path   # and headings in order
            elif width == 390:
                pg.screenshot(path=str(shots / f"phone{path.replace('/', '-') if path != '/' else '-index'}.png"),
                              full_page=True)
    finally:
        context.close()


def test_optimisers_a_student_makes_a_run_diverge_and_sees_it(page, server):
    """η above 1 on squared error: each step multiplies the distance to the mean by |1 − 2η| > 1. The page says
    "diverged" where the result would be, and why; the loss surface has its colour scale."""
    page.goto(server + "/optimisers")
    page.wait_for_function("() => document.querySelector('#mm-table').rows.length > 2")
    assert page.locator("#surface-lo").inner_text() != "–" and page.locator("#surface-hi").inner_text() != "–"
    assert "diverged" not in page.locator("#mm-table").inner_text()
    assert "(1/m) Σ (nᵢ − g)²" in page.evaluate("document.body.textContent")  # the formula the server descends
    page.fill("#lr-sq", "1.5")
    page.click("#mm-run")
    page.wait_for_function("() => document.querySelector('#mm-table').textContent.includes('diverged')")
    assert "|1 − 2η| = 2 > 1" in page.locator("#mm-note").inner_text()
    page.fill("#lr-sq", "0.9")
    page.select_option("#mm-schedule", "cosine")
    page.click("#mm-run")
    page.wait_for_function("() => !document.querySelector('#mm-table').textContent.includes('diverged')")
    clean(page)


def test_digits_draw_a_one(page, server, shots, model):
    page.goto(server + "/digits")
    page.wait_for_function("() => document.querySelectorAll('#layers .layer').length > 0")
    assert page.locator("#layers .layer").count() == LAYERS
    draw_a_one(page)
    page.wait_for_function("() => document.querySelector('#guess1').textContent !== '?'")
    page.wait_for_timeout(400)                         # the last stroke's answer
    guess = page.locator("#guess1").inner_text()
    assert guess in "0123456789"
    if model[1]:
        assert guess == "1", "a LeNet trained on MNIST should read a drawn 1"
    assert page.locator("#guess2").inner_text() not in ("?", guess)
    info = page.locator("#model-info").inner_text()     # the model's test accuracy, not the cache's path
    assert "test accuracy" in info and model[0] not in info and "lenet.safetensors" in info
    if model[1]:
        assert re.search(r"test accuracy \d+\.\d\d %", info), info
    sure = float(page.locator("#prob1").inner_text().rstrip(" %")) > 99
    assert page.locator("#confidence-note").is_visible() == sure     # "100 %" is explained where it appears
    # every layer is drawn: each has at least one canvas with pixels on it
    for i in range(LAYERS):
        inked = page.locator("#layers .layer").nth(i).locator("canvas").evaluate_all(
            f"cs => cs.map({INKED})")
        assert inked and max(inked) > 0, f"layer {i} is not drawn"
    assert page.locator("#mnist").evaluate(INKED) > 0
    # click a unit of the first conv layer's third feature map
    page.locator("#layers .layer").nth(1).locator("canvas").nth(2).click(position={"x": 42, "y": 42})
    page.wait_for_function("() => document.querySelector('#unit-title').textContent.includes('map 2')")
    text = page.locator("#unit-body").inner_text()
    assert "same weights at every position" in text and "z = Σ w·x + b" in text
    # layer toggles hide a layer
    page.locator("#toggles input").nth(3).uncheck()
    assert page.locator("#layers .layer").nth(3).is_hidden()
    page.locator("#toggles input").nth(3).check()
    page.screenshot(path=str(shots / "digits.png"), full_page=True)
    page.click("#clear")
    assert page.locator("#guess1").inner_text() == "?"
    clean(page)


def test_inside_a_neuron_climb_a_class_unit_and_ask_why(page, server, shots, model):
    page.goto(server + "/inside")
    page.wait_for_function("() => document.querySelectorAll('#layer option').length > 0")
    assert page.locator("#layer option").count() == LAYERS - 1          # every layer but the input
    assert "softmax" in page.locator("#layer option:checked").inner_text()   # the class units come first
    # keyboard only: type a unit and press Enter
    page.locator("#unit").fill("3")
    page.locator("#unit").press("Enter")
    page.wait_for_function("() => document.querySelector('#stimulus-note').textContent.startsWith('step 100 of 100')",
                           timeout=60000)
    assert page.locator("#stimulus").evaluate(INKED) > 0 and page.locator("#ascent").evaluate(INKED) > 0
    guess = page.locator("#stimulus-guess").inner_text()
    assert "the network reads it as" in guess
    if model[1]:
        assert "reads it as 3" in guess, guess          # the logit of 3 climbed: its picture is read as a 3
    page.wait_for_function("() => document.querySelectorAll('#top figure').length === 9")
    labels = page.locator("#top figcaption").all_inner_texts()
    if model[1]:
        assert sum(t.startswith("3") for t in labels) >= 7, labels
    # a hidden layer's unit, with the arrows
    page.select_option("#layer", index=4)                             # dense 1: 120 units
    page.click("#next")
    assert page.locator("#unit").input_value() == "4"
    page.wait_for_function("() => document.querySelector('#stimulus-note').textContent.startsWith('step 100')",
                           timeout=60000)
    assert "dense" in page.locator("#layer option:checked").inner_text()
    # why did it say 1?
    draw_a_one(page)
    page.wait_for_function("() => document.querySelector('#guess').textContent !== '?' && "
                           "document.querySelector('#why-note').getAttribute('aria-busy') === 'false'")
    if model[1]:
        assert page.locator("#guess").inner_text() == "1"
    assert page.locator("#heat").evaluate(INKED) > 0 and page.locator("#seen").evaluate(INKED) > 0
    assert "Integrated gradients" in page.locator("#why-note").inner_text()
    page.screenshot(path=str(shots / "inside.png"), full_page=True)
    page.click("#clear")
    assert page.locator("#guess").inner_text() == "?"
    clean(page)


def test_playground_add_points_and_play(page, server, shots):
    page.goto(server + "/playground#dataset=custom&hidden=6&activation=tanh&optimizer=adam&lr=0.03")
    page.wait_for_function("() => document.querySelector('#neurons canvas') !== null")
    plane = page.locator("#plane").bounding_box()

    def click(x, y, shift=False):                        # plane coordinates in [-2, 2]
        px, py = plane["x"] + (x + 2) / 4 * plane["width"], plane["y"] + (2 - y) / 4 * plane["height"]
        if shift:
            page.keyboard.down("Shift")
        page.mouse.click(px, py)
        if shift:
            page.keyboard.up("Shift")
        page.wait_for_timeout(120)
    for x, y in ((-1.2, -1), (-1, -1.3), (-0.8, -0.9), (1.1, 1.2), (0.9, 1), (1.3, 0.8)):
        click(x, y)                                      # class A, bottom-left and top-right
    for x, y in ((-1.1, 1.1), (-0.9, 1.3), (1, -1.1), (1.2, -0.8), (0.8, -1.2)):
        click(x, y, shift=True)                          # class B, the other diagonal: xor
    page.wait_for_function("() => document.querySelector('#out-note').textContent.startsWith('11 training')")
    assert "p2=" in page.url                             # the points travel in the address
    page.click("#step")
    page.wait_for_function("() => document.querySelector('#s-loss').textContent !== '–'")
    before = float(page.locator("#s-loss").inner_text())
    boundary = page.locator("#plane").evaluate("c => c.toDataURL()")
    page.click("#play")
    page.wait_for_function("() => +document.querySelector('#s-step').textContent > 150", timeout=30000)
    page.click("#play")                                  # pause
    page.wait_for_timeout(200)
    after = float(page.locator("#s-loss").inner_text())
    assert after < before, (before, after)
    assert page.locator("#plane").evaluate("c => c.toDataURL()") != boundary
    ups = page.locator("#s-ups").inner_text()
    assert ups != "–" and int(ups) > 0
    # show the code
    page.click("#show-code")
    page.wait_for_function("() => document.querySelector('#code').textContent.includes('th.models.MLP([2, 6, 1]')")
    page.click("#close-code")
    page.screenshot(path=str(shots / "playground.png"), full_page=True)
    # a shared address rebuilds the same setup in a fresh page
    url = page.url
    page.goto(server + "/")
    page.goto(url)
    page.wait_for_function("() => document.querySelector('#out-note').textContent.startsWith('11 training')")
    clean(page)


def test_playground_circles_with_squared_inputs_and_no_hidden_layer(page, server):
    """The lecture's point, clicked as a student would: one neuron (no hidden layer) cannot separate the circles
    from x₁, x₂, but fed x₁² and x₂² its straight line is a circle in the plane, and it solves them."""
    page.goto(server + "/playground")
    page.wait_for_function("() => document.querySelector('#neurons canvas') !== null")
    page.click("#datasets button[data-name=circles]")
    while page.locator("#neurons .neuron-col").count() > 2:          # inputs and the output only: one neuron
        count = page.locator("#neurons .neuron-col").count()
        page.click("#remove-layer")
        page.wait_for_function(f"() => document.querySelectorAll('#neurons .neuron-col').length < {count}")
    for feature in ("x1sq", "x2sq", "x1", "x2"):                    # take x₁², x₂² in, then x₁, x₂ out
        was = page.locator(f"button.feature[data-feature={feature}]").get_attribute("aria-pressed")
        page.click(f"button.feature[data-feature={feature}]")
        page.wait_for_function(f"() => document.querySelector('button.feature[data-feature={feature}]')"
                               f".getAttribute('aria-pressed') !== '{was}'")
    assert "features=x1sq%2Cx2sq" in page.url and "hidden=&" in page.url
    page.click("#show-code")
    page.wait_for_function("() => document.querySelector('#code').textContent.includes('def features(X)')")
    assert "x1 ** 2, x2 ** 2" in page.locator("#code").inner_text()
    page.click("#close-code")
    page.click("#play")
    page.wait_for_function("() => parseInt(document.querySelector('#s-test-acc').textContent) >= 90", timeout=60000)
    page.click("#play")
    assert page.locator("#out-note").inner_text().endswith("3 thetas")            # w₁, w₂ and b: one neuron
    clean(page)


def test_playground_bad_upload_shows_the_message(page, server, tmp_path):
    page.goto(server + "/playground")
    page.wait_for_function("() => document.querySelector('#neurons canvas') !== null")
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2,a\n3,oops,b\n")
    page.set_input_files("#csv", str(bad))
    page.wait_for_selector("#error:not([hidden])")
    assert "column 2" in page.locator("#error").inner_text()
    # the page keeps working: a step after the refusal
    page.click("#step")
    page.wait_for_function("() => document.querySelector('#s-step').textContent !== '0'")
    assert [e for e in page.errors if "422" not in e] == []   # the refused request itself logs a 422


def _hash_points(url, regression=False):
    """The points a playground address carries, [x, y, label, test] each, as the page packs them: p2= (5 bytes a
    point: x, y in 12 bits, the test flag, a byte of label or of the target t as 127.5 (t + 1)), or the older
    pts= (4 bytes, a 1-bit label), which the page still reads."""
    import base64
    from urllib.parse import parse_qs
    q = parse_qs(url.split("#", 1)[1])
    packed, width = (q["p2"][0], 5) if "p2" in q else (q["pts"][0], 4)
    raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
    out = []
    for i in range(0, len(raw) - width + 1, width):
        if width == 4:
            v = int.from_bytes(raw[i:i + 4], "big")
            out.append([(v >> 14 & 4095) / 4095 * 4 - 2, (v >> 2 & 4095) / 4095 * 4 - 2, v >> 1 & 1, v & 1])
            continue
        v = int.from_bytes(raw[i:i + 4], "big") >> 7
        label = round(raw[i + 4] / 127.5 - 1, 2) if regression else raw[i + 4]
        out.append([(v >> 13 & 4095) / 4095 * 4 - 2, (v >> 1 & 4095) / 4095 * 4 - 2, label, v & 1])
    return out


def test_playground_an_old_shared_address_still_opens(page, server):
    """An address shared before the page knew more than two classes (pts=, 4 bytes a point) keeps its points."""
    import base64
    pts = [(-1.0, 1.0, 1, 0), (1.0, -1.0, 0, 1)]
    raw = b"".join(((round((x + 2) / 4 * 4095) << 14) | (round((y + 2) / 4 * 4095) << 2) | (c << 1) | t)
                   .to_bytes(4, "big") for x, y, c, t in pts)
    packed = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    page.goto(server + f"/playground#dataset=custom&hidden=2&pts={packed}")
    page.wait_for_function("() => document.querySelector('#out-note').textContent.startsWith('1 training + 1 test')")
    got = _hash_points(page.url)                                  # written back in the new form
    assert "p2=" in page.url and [p[2:] for p in got] == [[1, 0], [0, 1]]
    assert got[0][:2] == pytest.approx([-1, 1], abs=2e-3)
    clean(page)


def test_playground_a_three_class_spiral_is_learned(page, server):
    """Three classes: the softmax has one output per class, a class C point is added without a Shift key, and
    the network learns the three arms (a test accuracy of 75 % or more, chance is 33 %)."""
    page.goto(server + "/playground")
    page.wait_for_selector("#datasets button[data-name=spiral]")
    page.click("#datasets button[data-name=spiral]")
    page.wait_for_function("() => location.hash.includes('dataset=spiral')")
    page.select_option("#classes", "3")
    page.wait_for_function("() => location.hash.includes('classes=3')")
    assert page.locator("#loss").input_value() == "cross_entropy"           # bce became the softmax's
    assert page.locator("#neurons canvas[data-layer='2']").count() == 3       # P(A), P(B), P(C)
    assert [page.locator(f"#add-{k}").count() for k in "abcd"] == [1, 1, 1, 0]
    page.click("#play")
    page.wait_for_function("() => parseInt(document.querySelector('#s-test-acc').textContent) >= 75",
                           timeout=120_000, polling=500)
    page.click("#play")
    page.locator("#neurons canvas[data-layer='2'][data-unit='2']").click()    # P(C) shown large
    assert "P(C)" in page.locator("#plane-note").inner_text()
    page.locator("#plane-note").click()
    page.check("#add-c")
    plane = page.locator("#plane").bounding_box()
    page.mouse.click(plane["x"] + 20, plane["y"] + 20)
    page.wait_for_function("() => location.hash.includes('p2=')")
    assert 2 in [p[2] for p in _hash_points(page.url)]
    clean(page)


@pytest.mark.parametrize("width, height", [(1024, 768), (390, 844)])
def test_playground_five_classes_on_a_projector_and_a_phone(browser, server, width, height):
    """Five classes where space is short: the network keeps room for its layers, each class's radio shows its
    colour and shape, and a thumbnail is shown large from the keyboard."""
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(server + "/playground#dataset=gaussians&classes=5&loss=cross_entropy&hidden=8,8")
        pg.wait_for_function("() => document.querySelectorAll('#neurons canvas[data-layer=\"2\"]').length === 5")
        network = pg.locator(".panel.network").bounding_box()["width"]
        assert network >= min(width - 40, 400), f"the network panel is {network} px wide at {width} px"
        assert pg.evaluate("document.documentElement.scrollWidth") <= width
        assert pg.locator("#add-classes canvas.class-mark").count() == 5
        thumb = pg.locator("#neurons canvas[data-layer='2'][data-unit='4']")
        thumb.focus()
        pg.keyboard.press("Enter")
        assert "P(E)" in pg.locator("#plane-note").inner_text()
        assert errors == []
    finally:
        context.close()


def test_playground_quick_changes_while_playing_leave_no_error(page, server):
    """Settings changed in a burst while the network trains: each change stops and restarts the training, and an
    older training loop ends instead of drawing what it no longer asked for."""
    page.goto(server + "/playground")
    page.wait_for_selector("#datasets button[data-name=xor]")
    page.click("#play")
    page.wait_for_function("() => +document.querySelector('#s-step').textContent > 0")
    for problem in ["regression", "classification"] * 3:
        page.select_option("#problem", problem)
        page.wait_for_timeout(150)
    page.wait_for_function("() => location.hash.includes('problem=classification') && "
                           "document.querySelector('#play').textContent.includes('Pause')")
    step = int(page.locator("#s-step").inner_text())
    page.wait_for_function(f"() => +document.querySelector('#s-step').textContent > {step}")   # still training
    page.click("#play")
    assert page.locator("#problem").input_value() == "classification"
    clean(page)


def test_playground_regression_the_network_fits_a_number(page, server):
    """The regression problem: its data sets, mse, no accuracy; ŷ over the plane; a point with a chosen target."""
    page.goto(server + "/playground")
    page.wait_for_selector("#datasets button[data-name=xor]")
    page.select_option("#problem", "regression")
    page.wait_for_function("() => location.hash.includes('problem=regression')")
    assert sorted(page.locator("#datasets button").all_inner_texts()) == ["bumps", "custom", "plane"]
    assert page.locator("#loss").input_value() == "mse"
    assert page.locator("#loss option[value=bce]").is_disabled()
    assert page.locator("#classes-label").is_hidden() and page.locator("#s-acc").is_hidden()
    page.click("#datasets button[data-name=bumps]")
    page.wait_for_function("() => location.hash.includes('dataset=bumps')")
    page.click("#step")
    page.wait_for_function("() => document.querySelector('#s-step').textContent !== '0'")
    first = float(page.locator("#s-loss").inner_text())
    page.click("#play")
    page.wait_for_function(f"() => parseFloat(document.querySelector('#s-loss').textContent) < {first / 3}",
                           timeout=120_000, polling=500)
    page.click("#play")
    assert "ŷ" in page.locator("#neurons .neuron-col:last-child .lab").inner_text()
    page.locator("#add-target").fill("-0.7")
    plane = page.locator("#plane").bounding_box()
    page.mouse.click(plane["x"] + 30, plane["y"] + 30)
    page.wait_for_function("() => location.hash.includes('p2=')")
    assert -0.7 in [p[2] for p in _hash_points(page.url, regression=True)]
    clean(page)


def test_playground_as_on_a_tablet_and_in_a_hurry(page, server, tmp_path):
    """Class B without a Shift key; two settings changed at once both kept; a neuron's map shown large by a
    click; the decision discretized; a CSV upload makes the data set 'custom', on the page and in the address."""
    page.goto(server + "/playground#dataset=custom&hidden=4")
    page.wait_for_function("() => document.querySelector('#neurons canvas[data-layer]') !== null")
    plane = page.locator("#plane").bounding_box()
    page.check("#add-b")                                           # a touch screen has no Shift key
    page.mouse.click(plane["x"] + plane["width"] * 0.25, plane["y"] + plane["height"] * 0.25)
    page.check("#add-a")
    page.mouse.click(plane["x"] + plane["width"] * 0.75, plane["y"] + plane["height"] * 0.75)
    page.wait_for_function("() => document.querySelector('#out-note').textContent.startsWith('2 training')")
    labels = sorted(p[2] for p in _hash_points(page.url))
    assert labels == [0, 1]
    # two quick changes: the second is sent before the first is answered, and neither is lost
    page.select_option("#activation", "relu")
    page.select_option("#loss", "mse")
    page.wait_for_function("() => location.hash.includes('activation=relu') && location.hash.includes('loss=mse')")
    assert page.locator("#activation").input_value() == "relu" and page.locator("#loss").input_value() == "mse"
    # a hidden neuron's thumbnail, clicked: its map fills the plane; clicked again: the output is back
    page.click("#step")
    page.wait_for_function("() => document.querySelector('#s-step').textContent !== '0'")
    output = page.locator("#plane").evaluate("c => c.toDataURL()")
    page.locator("#neurons canvas[data-layer='0'][data-unit='1']").click()
    assert "neuron 2 of hidden layer 1" in page.locator("#plane-note").inner_text()
    assert page.locator("#plane").evaluate("c => c.toDataURL()") != output
    page.locator("#neurons canvas[data-layer='0'][data-unit='1']").click()
    assert page.locator("#plane-note").is_hidden()
    page.check("#discretize")
    assert page.locator("#plane").evaluate("c => c.toDataURL()") != output
    page.uncheck("#discretize")
    # a CSV of the user's own: the 'custom' button lights up and the address says so
    data = tmp_path / "mine.csv"
    data.write_text("height,weight,kind\n" + "".join(f"{i},{(i * 7) % 13},{'big' if i > 10 else 'small'}\n"
                                                      for i in range(20)))
    page.click("#datasets button[data-name=xor]")
    page.wait_for_function("() => location.hash.includes('dataset=xor')")
    page.set_input_files("#csv", str(data))
    page.wait_for_function("() => document.querySelector('#data-note').textContent.includes('CSV')")
    assert "class A = big, class B = small" in page.locator("#data-note").inner_text()
    assert page.locator("#datasets button.on").get_attribute("data-name") == "custom"
    assert "dataset=custom" in page.url and "dataset=xor" not in page.url
    clean(page)


def test_playground_a_weight_set_by_clicking_its_link_changes_the_output(page, server):
    """The links between neurons are drawn by weight; hovering one names it, clicking it sets θ by hand, and the
    decision boundary moves."""
    page.goto(server + "/playground#dataset=xor&hidden=2")
    page.wait_for_function("() => document.querySelectorAll('#neurons svg.links line.link').length === 2 * 2 + 2")
    link = page.locator("#neurons svg.links line.link").first                      # x₁ to the first hidden neuron
    link.hover()
    assert link.locator("title").text_content().startswith("w = ")
    assert "from x₁ to neuron 1 of hidden layer 1" in link.locator("title").text_content()
    width = float(link.get_attribute("stroke-width"))
    before = page.locator("#plane").evaluate("c => c.toDataURL()")
    page.once("dialog", lambda d: d.accept("6"))
    link.click()
    page.wait_for_function("() => document.querySelector('#neurons svg.links line.link title').textContent"
                           ".startsWith('w = 6: from x₁')")
    assert float(page.locator("#neurons svg.links line.link").first.get_attribute("stroke-width")) > width
    assert page.locator("#plane").evaluate("c => c.toDataURL()") != before
    clean(page)


def test_without_a_mouse(page, server, model):
    """What a click does, the keyboard does too: a point added on the plane, a four-pixel weight set, a Digits
    unit chosen and explained (under its layer, in view), the optimisers started elsewhere on the surface."""
    page.goto(server + "/playground#dataset=custom&hidden=4")
    page.wait_for_function("() => document.querySelector('#neurons canvas[data-layer]') !== null")
    page.focus("#plane")
    for key in ("ArrowRight", "ArrowRight", "ArrowUp", "Enter", "Shift+ArrowLeft", "Shift+Enter"):
        page.keyboard.press(key)
    page.wait_for_function("() => document.querySelector('#out-note').textContent.startsWith('2 training')")
    assert sorted(p[2] for p in _hash_points(page.url)) == [0, 1]                  # Shift+Enter: the other class
    page.goto(server + "/four-pixels")
    cell = page.locator("svg rect.cell").first
    cell.wait_for()
    before = cell.get_attribute("aria-label")
    cell.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelector('svg rect.cell').getAttribute('aria-label') !== {before!r}")
    page.goto(server + "/digits")
    page.wait_for_function("() => document.querySelectorAll('#layers .layer canvas').length > 0")
    draw_a_one(page)
    page.wait_for_function("() => document.querySelector('#guess1').textContent !== '?'")
    conv = page.locator("#layers .layer").nth(1).locator("canvas").nth(2)
    conv.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#unit-title').textContent.includes('map 2')")
    first = page.locator("#unit-title").inner_text()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector('#unit-title').textContent !== {first!r}")
    assert page.evaluate("() => document.querySelector('#unit-panel').previousElementSibling.classList.contains('layer')")
    box = page.locator("#unit-panel").bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"]                          # where the student is looking
    page.goto(server + "/optimisers")
    page.wait_for_function("() => document.querySelector('#now-adam').textContent !== '–'")
    page.focus("#surface")
    with page.expect_response(lambda r: r.url.endswith("/api/optim/trajectories")) as answer:
        page.keyboard.press("ArrowUp")
    assert answer.value.request.post_data_json["start"] == [-2, 3.1]
    clean(page)


def test_four_pixels_click_a_weight_and_train(page, server, shots):
    page.goto(server + "/four-pixels")
    page.wait_for_function("() => document.querySelectorAll('#net .cell').length === 80")
    assert page.locator("#hand-acc").inner_text() == "8 / 8"
    # the 'vertical' score's weight from the ReLU unit that passes relu(+h): 1 -> -1, so one of the two
    # vertical images (the one that makes h positive) now scores against its class
    page.locator("#net .cell").nth(16 + 32 + 8 + 2).click()
    page.wait_for_function("() => document.querySelector('#hand-acc').textContent === '7 / 8'")
    page.click("#preset")
    page.wait_for_function("() => document.querySelector('#hand-acc').textContent === '8 / 8'")
    page.click("#train")
    page.wait_for_selector("#learned:not([hidden])")
    assert "8 / 8" in page.locator("#compare").inner_text()
    page.screenshot(path=str(shots / "four-pixels.png"), full_page=True)
    clean(page)
