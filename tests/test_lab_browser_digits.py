"""The Digits page in a real browser, driven like a student: watch a LeNet learn, hover a unit for the lines to the
units that feed it, draw a digit with the keyboard only, look at the learned filters; on a phone and a projector.

Headless Chromium (Debian's, at /usr/bin/chromium) driven by Playwright; a server on a free port in a thread.
"""
import re

import pytest

from lab_support import need_browser

need_browser()                           # skips the module before anything imports Playwright

from lab_support import (  # noqa: E402, F401  (fixtures: pytest finds them imported here)
    browser_fixture, clean, model_fixture, page_fixture, serious_violations, server_fixture)
from thetas.lab.training import mnist_available  # noqa: E402

DENSE1, CONV2, POOL2 = 5, 3, 4           # the layers of LeNet as the page draws them (0 is the input)


INKED = """el => { const d = el.getContext('2d').getImageData(0, 0, el.width, el.height).data;
                   let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }"""
DARK = """el => { const d = el.getContext('2d').getImageData(0, 0, el.width, el.height).data;
                  let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++; return n; }"""


def open_digits(pg, server):
    pg.goto(server + "/digits")
    pg.wait_for_function("() => document.querySelectorAll('#layers .layer').length > 0")


def draw_a_one(pg):
    box = pg.locator("#pad").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15
    pg.mouse.move(x, y)
    pg.mouse.down()
    pg.mouse.move(x, y + box["height"] * 0.7, steps=20)
    pg.mouse.up()
    pg.wait_for_function("() => document.querySelector('#guess1').textContent !== '?'")


def percents(text):
    return [float(v) for v in re.findall(r"(\d+\.\d) %", text)]


def test_watch_it_learn_raises_the_test_accuracy(page, server):
    """Start from fresh thetas: the shown test accuracy is a guess in ten at step 0 and well above it after a fixed
    number of steps (60 batches of 64 MNIST images; 200 of 32 on the 8×8 digits); the filters and both curves are
    drawn; then the live model guesses the drawing."""
    mnist = mnist_available()
    steps = 60 if mnist else 200
    open_digits(page, server)
    assert ("MNIST" if mnist else "8×8 digits") in page.locator("#live-data").inner_text()
    assert page.locator("#use-live").is_disabled()
    page.fill("#live-steps", str(steps))
    page.click("#live-start")
    page.wait_for_function("() => document.querySelector('#live-stop').disabled === false")   # it runs
    page.wait_for_function("() => document.querySelector('#live-message').textContent.startsWith('done')",
                           timeout=90000)
    acc = page.locator("#live-acc").inner_text()
    assert f"at step {steps}" in acc and "at step 0" in acc, acc
    last, first = percents(acc)
    assert first <= 20, acc                             # fresh thetas: about one in ten
    assert last >= 60, acc
    assert "held-out test images" in page.locator("#live-message").inner_text()
    filters = page.locator("#live-filters canvas")
    assert filters.count() == 6                         # the first conv layer: 6 kernels
    assert min(filters.evaluate_all(f"cs => cs.map({INKED})")) > 0
    for plot in ("#live-loss", "#live-accuracy"):
        assert page.locator(plot).evaluate(INKED) > 0
    assert page.locator("#gallery-live .filter-layer").count() == 2       # every conv layer of the live model
    # the live model guesses the drawing now
    page.click("#use-live")
    page.wait_for_function("() => document.querySelector('#model-info').textContent.startsWith('the live model')")
    assert page.locator("#use-live").get_attribute("aria-pressed") == "true"
    draw_a_one(page)
    assert page.locator("#guess1").inner_text() in "0123456789"
    page.click("#use-loaded")
    page.wait_for_function("() => !document.querySelector('#model-info').textContent.startsWith('the live model')")
    clean(page)


def test_hovering_a_dense_unit_draws_the_lines_that_feed_it(page, server):
    """Harley's lines: a dense unit fed by 400 shows its 30 strongest inputs, in pool 2, blue or orange by the sign
    of the weight, wider for a larger |w|; the mouse leaving clears them; keyboard focus on a map does the same."""
    open_digits(page, server)
    draw_a_one(page)
    dense = page.locator("#layers .layer").nth(DENSE1).locator("canvas").first
    dense.hover(position={"x": 7, "y": 7})                             # unit 0
    page.wait_for_function("() => document.querySelectorAll('svg.feed-lines line').length > 0")
    lines = page.locator("svg.feed-lines line")
    assert lines.count() == 30
    note = page.locator("#feed-note").inner_text()
    assert "dense 1 · unit 0" in note and "30 strongest of its 400 inputs in pool 2" in note, note
    drawn = lines.evaluate_all("ls => ls.map(l => [l.getAttribute('stroke'), +l.getAttribute('stroke-width'), "
                               "+l.dataset.weight, +l.getAttribute('x1'), +l.getAttribute('y1'), "
                               "+l.getAttribute('x2'), +l.getAttribute('y2')])")
    blue, orange = "rgb(8,119,189)", "rgb(245,147,34)"
    assert all(c == (blue if w > 0 else orange) for c, _, w, *_ in drawn)
    widest = max(drawn, key=lambda d: d[1])
    assert abs(widest[2]) == max(abs(d[2]) for d in drawn)            # width: |w|
    # each line runs from a unit of pool 2 to the dense unit
    origin = page.locator("#layers").bounding_box()
    pool = page.locator("#layers .layer").nth(POOL2).locator(".maps").bounding_box()
    target = dense.bounding_box()
    for _, _, _, x1, y1, x2, y2 in drawn:
        assert pool["x"] - 1 <= origin["x"] + x1 <= pool["x"] + pool["width"] + 1
        assert pool["y"] - 1 <= origin["y"] + y1 <= pool["y"] + pool["height"] + 1
        assert target["x"] <= origin["x"] + x2 <= target["x"] + 14 and target["y"] <= origin["y"] + y2 <= target["y"] + 14
    page.mouse.move(5, 5)                                              # away: no lines
    page.wait_for_function("() => document.querySelectorAll('svg.feed-lines line').length === 0")
    # keyboard focus on a map of conv 2: its middle unit's strongest 30 of 6 × 5 × 5 inputs, in pool 1
    page.locator("#layers .layer").nth(CONV2).locator("canvas").nth(3).focus()
    page.wait_for_function("() => document.querySelectorAll('svg.feed-lines line').length === 30")
    assert "conv 2 · map 3" in page.locator("#feed-note").inner_text()
    assert "of its 150 inputs in pool 1" in page.locator("#feed-note").inner_text()
    page.keyboard.press("ArrowRight")                                  # moves the unit: the lines follow
    page.wait_for_function("() => document.querySelector('#feed-note').textContent.includes('column 6')")
    clean(page)


def test_a_digit_drawn_with_the_keyboard_only_gets_a_guess(page, server, model):
    """Tab to the pad, move the pen with the arrows (drawn over the pad, not into the drawing), Space puts it down,
    a vertical stroke, Space lifts it: the guess comes, as after a mouse stroke (a 1, for a trained LeNet);
    Backspace clears. The same on the Inside page's pad."""
    open_digits(page, server)
    for _ in range(40):                                                # keyboard only: Tab until the pad
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "pad":
            break
    assert page.evaluate("document.activeElement.id") == "pad"
    assert "arrow keys" in page.locator("#pad").get_attribute("aria-label")
    for _ in range(7):
        page.keyboard.press("ArrowUp")
    assert page.locator("canvas.pen-cursor").evaluate(INKED) > 0       # the pen is drawn
    assert page.locator("#pad").evaluate(DARK) == 0                    # but not into the drawing
    page.keyboard.press("Space")
    for _ in range(14):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    page.wait_for_function("() => document.querySelector('#guess1').textContent !== '?'")
    page.wait_for_timeout(400)                                         # the answer to the last stroke
    assert page.locator("#pad").evaluate(DARK) > 0
    if model[1]:
        assert page.locator("#guess1").inner_text() == "1"
    page.keyboard.press("Backspace")
    assert page.locator("#guess1").inner_text() == "?"
    assert page.locator("#pad").evaluate(DARK) == 0
    # Inside a neuron: the same pen; lifting it asks why
    page.goto(server + "/inside")
    page.wait_for_function("() => document.querySelectorAll('#layer option').length > 0")
    page.focus("#pad")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    for _ in range(12):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#guess').textContent !== '?'", timeout=30000)
    if model[1]:
        assert page.locator("#guess").inner_text() == "1"
    clean(page)


def test_the_filter_gallery_shows_the_first_conv_layers_kernels(page, server):
    """Every conv layer's kernels: conv 1's 6 kernels of 5×5 and conv 2's 16 filters of 6 kernels; each weight
    drawn blue when positive and orange when negative, as /api/digits/filters gives it."""
    open_digits(page, server)
    page.wait_for_function("() => document.querySelectorAll('#gallery-loaded .filter-layer').length === 2")
    layers = page.locator("#gallery-loaded .filter-layer")
    assert layers.nth(0).locator("h4").inner_text().startswith("conv 1: 6 filters of 1×5×5")
    assert layers.nth(0).locator("canvas").count() == 6 and layers.nth(1).locator("canvas").count() == 16
    assert "filter 0" in layers.nth(0).locator("canvas").first.get_attribute("aria-label")
    signs = page.evaluate("""async () => {
        const r = await (await fetch('/api/digits/filters')).json();
        const w = Lab.decode(r.layers[0].kernels), cv = document.querySelector('#gallery-loaded canvas');
        const g = cv.getContext('2d'), out = [];
        for (let f = 0; f < 6; f++) {
          const c = document.querySelectorAll('#gallery-loaded .filter-layer')[0].querySelectorAll('canvas')[f]
            .getContext('2d');
          for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) {
            const [R, G, B] = c.getImageData(j * 6 + 3, i * 6 + 3, 1, 1).data;
            out.push([w[f * 25 + i * 5 + j], R, B]);
          }
        }
        return out; }""")
    assert len(signs) == 150
    for w, red, blue in signs:
        if abs(w) > 0.02:
            assert (blue > red) == (w > 0), (w, red, blue)
    assert page.locator("#gallery-scale canvas").count() == 1          # the colour scale is shown
    clean(page)


@pytest.mark.parametrize("width, height", [(390, 844), (1024, 768)])
def test_digits_is_accessible_and_fits_with_its_new_parts(browser, server, width, height):
    """axe-core finds no serious or critical violation on the Digits page with a drawing, the hover lines and the
    gallery shown, and the page is no wider than a phone held upright or a projector."""
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    try:
        open_digits(pg, server)
        draw_a_one(pg)
        pg.wait_for_function("() => document.querySelectorAll('#gallery-loaded .filter-layer').length === 2")
        pg.locator("#layers .layer").nth(DENSE1).locator("canvas").first.hover(position={"x": 7, "y": 7})
        pg.wait_for_function("() => document.querySelectorAll('svg.feed-lines line').length > 0")
        wide = pg.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"/digits at {width}×{height} is {wide} px wide"
        assert serious_violations(pg, rules=("heading-order",)) == []
    finally:
        context.close()
