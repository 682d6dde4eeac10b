"""What the lab's tests share: the error-reply check, a real server on a free port, the browser to drive it."""
import contextlib
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("THETAS_CHROMIUM", "/usr/bin/chromium")


def refused(r, status, *words):
    """A request the lab refused: ``status``, and a JSON ``error`` message naming each of ``words``."""
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["error"], str) and body["error"]
    for w in words:
        assert w in body["error"], body["error"]
    return body["error"]


def need_browser():
    """Skip unless uvicorn, Playwright and Chromium are all there."""
    pytest.importorskip("uvicorn", reason="the lab needs the 'lab' extra")
    pytest.importorskip("playwright", reason="browser tests need Playwright")
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium, or set THETAS_CHROMIUM)")


@contextlib.contextmanager
def serve(app):
    """Run ``app`` with uvicorn on a free port of 127.0.0.1 in a thread; yields its base URL, stops it after."""
    import uvicorn
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "the lab server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


def new_page(playwright):
    """A headless Chromium page 1400×1000 and the list its console errors and uncaught exceptions land in."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    return browser, page, errors


def screenshots(tmp_path):
    """The folder for screenshots: $THETAS_LAB_SCREENSHOTS, else ``tmp_path``."""
    folder = Path(os.environ.get("THETAS_LAB_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def serious_violations(page, rules=()):
    """axe-core's serious and critical accessibility violations on ``page`` as it is now, and those of ``rules``
    (rule ids, e.g. "heading-order", whatever their impact), one line each (rule, how many elements, the first
    few); skips without axe-playwright-python (the 'test' extra has it)."""
    axe = pytest.importorskip("axe_playwright_python.sync_playwright", reason="pip install axe-playwright-python")
    found = axe.Axe().run(page).response["violations"]
    return [f"{v['impact']} {v['id']} ({len(v['nodes'])}): {[n['target'] for n in v['nodes'][:3]]}"
            for v in found if v["impact"] in ("serious", "critical") or v["id"] in rules]
