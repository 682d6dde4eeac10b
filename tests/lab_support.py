"""What the lab's tests share: the error-reply check, a real server on a free port, the browser to drive it."""
import contextlib
import os
import shutil
import socket
import threading
import time

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
