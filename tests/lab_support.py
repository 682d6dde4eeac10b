"""What the lab's tests share: the error-reply check, a real server on a free port, the browser to drive it, and
the fixtures more than one test module uses.

A test module takes a fixture by importing it: ``from lab_support import browser_fixture  # noqa: F401`` gives
its tests the fixture ``browser`` (each is defined as ``@pytest.fixture(name=...)`` so that a test's parameter
does not shadow an imported name). Nothing here imports Starlette, uvicorn or Playwright before a fixture or
helper needs it, so a module's skips (``need_client``, ``need_browser``) come first.
"""
import base64
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
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


LAB_EXTRA = "the lab needs the 'lab' extra: pip install \"thetas[lab]\""


def need_client():
    """Skip (the test, or called at a module's top the whole module) unless Starlette and httpx are there; Starlette's
    TestClient, imported with its import-time warnings silenced."""
    pytest.importorskip("starlette", reason=LAB_EXTRA)
    pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    return TestClient


def need_browser():
    """Skip (the test, or called at a module's top the whole module, before anything imports Playwright) unless
    Starlette, uvicorn, Playwright and Chromium are all there."""
    pytest.importorskip("starlette", reason=LAB_EXTRA)
    pytest.importorskip("uvicorn", reason=LAB_EXTRA)
    pytest.importorskip("playwright", reason="browser tests need Playwright: pip install playwright (no browser "
                                             "download needed: Debian's chromium is used)")
    if not (os.path.isfile(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium, or set THETAS_CHROMIUM)",
                    allow_module_level=True)


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


# --- the API's tests (Starlette's TestClient) ---------------------------------------------------------------------

def drawing(image):
    """uint8 (H, W), 255 = ink -> the JSON the page sends."""
    image = np.ascontiguousarray(image, np.uint8)
    return {"width": image.shape[1], "height": image.shape[0], "pixels": base64.b64encode(image.tobytes()).decode()}


def a_one(size=140):
    """A ``size``×``size`` drawing of a 1: a bar down the middle."""
    img = np.zeros((size, size), np.uint8)
    img[size // 8: size - size // 8, size // 2 - size // 20: size // 2 + size // 20] = 255
    return img


@pytest.fixture(scope="module", name="lenet_path")
def lenet_path_fixture(tmp_path_factory):
    """An untrained 28×28 LeNet saved for MNIST (classes "0" to "9"): its path."""
    import thetas as th
    path = tmp_path_factory.mktemp("lab") / "lenet.safetensors"
    th.save(th.models.LeNet(generator=0), str(path), metadata={"dataset": "mnist",
                                                               "classes": [str(i) for i in range(10)]})
    return str(path)


@pytest.fixture(scope="module", name="client")
def client_fixture(lenet_path):
    """A TestClient of the lab serving ``lenet_path``."""
    from thetas.lab import create_app
    with need_client()(create_app(model_path=lenet_path)) as c:
        yield c


# --- the browser's tests (Playwright driving headless Chromium) ---------------------------------------------------

@pytest.fixture(scope="module", name="model")
def model_fixture(tmp_path_factory):
    """A LeNet that reads digits: one quick epoch on 10,000 MNIST images when they are on this machine (in a child
    process with one BLAS thread, as the lab trains), else the 28×28 LeNet untrained (the page works either way).
    ``(path, trained)``."""
    import thetas as th
    from thetas.lab.training import mnist_available
    path = tmp_path_factory.mktemp("lab-model") / "lenet.safetensors"
    if mnist_available():
        subprocess.run([sys.executable, "-m", "thetas.lab.training", str(path), "--data", "mnist", "--epochs", "1",
                        "--samples", "10000"], check=True, capture_output=True, timeout=600)
        return str(path), True
    th.save(th.models.LeNet(generator=0), str(path), metadata={"dataset": "mnist"})
    return str(path), False


@pytest.fixture(scope="module", name="server")
def server_fixture(model):
    """The lab serving ``model`` on a free port of 127.0.0.1: its base URL."""
    from thetas.lab import create_app
    with serve(create_app(model_path=model[0], allowed_hosts=["127.0.0.1", "localhost"])) as url:
        yield url


@pytest.fixture(scope="module", name="browser")
def browser_fixture():
    """Headless Chromium (at ``CHROMIUM``), one for the module."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@contextlib.contextmanager
def guarded_page(browser, server, **options):
    """A page in a new context of ``browser`` (1400×1000 unless ``options``, passed on to ``new_context``, say
    otherwise) that records console errors and uncaught exceptions in ``pg.errors``, and refuses (and records in
    ``pg.outside``) any request not to ``server`` (but data: and blob: URLs); the context is closed after."""
    context = browser.new_context(**{"viewport": {"width": 1400, "height": 1000}, **options})
    pg = context.new_page()
    pg.errors, pg.outside = [], []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(f"uncaught: {e}"))
    own = urlsplit(server).netloc

    def guard(route):
        url = route.request.url
        if urlsplit(url).netloc != own and not url.startswith(("data:", "blob:")):
            pg.outside.append(url)
            return route.abort()
        return route.continue_()
    pg.route("**/*", guard)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(name="page")
def page_fixture(browser, server):
    """A ``guarded_page`` of the module's ``server``, 1400×1000, downloads accepted (Playwright's default, said out
    loud: AppleWorld's tests save the agent to a file)."""
    with guarded_page(browser, server, accept_downloads=True) as pg:
        yield pg


def clean(pg, refused=False):
    """No console error (with ``refused``: but the 422 lines of requests the test meant to be refused), no request
    that left 127.0.0.1."""
    errors = [e for e in pg.errors if not (refused and "422" in e)]
    assert errors == [], f"console errors: {errors}"
    assert pg.outside == [], f"requests that left 127.0.0.1: {pg.outside}"
