"""The lab's web server: its pages and their JSON API, as a Starlette app.

    app = create_app(model_path="lenet.safetensors")        # what ``thetas lab`` serves with uvicorn

Each page module declares its page and its routes once (``pages.Page``, ``pages.Route``); ``PAGES`` lists them in
navigation order, and the server builds from them the Starlette routes, the navigation bar and the index's cards
(written into each page's HTML as it is served) and the API list: ``GET /api`` answers every page and every
route with its method, path, body limit and a line on what it takes and gives.

Every request body has a size limit (413 beyond it) and a schema (422 when violated, 400 when not JSON); a GET's
only input is its query string (read as plain strings, checked the same way); the message comes back as
``{"error": "..."}`` and the server carries on. Computations run one at a time, in the order of the ``scheduler``
(earliest deadline first: a student waiting for a guess goes before the next frame of an animation, and a client
with many requests open waits behind the others); the trainings (``jobs.BackgroundJob``) run in child processes.
"""
import asyncio
import json
import logging
import math
import re
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount
from starlette.routing import Route as StarletteRoute
from starlette.staticfiles import StaticFiles

from . import apple, digits, fourpixel, inside, knowledge, optimisers, playground
from .pages import api_list, render
from .schema import LabError, obj
from .scheduler import Gone, Scheduler
from .sessions import as_client, client_of
from .training import DigitsService

STATIC = Path(__file__).parent / "static"
PAGES = (digits.PAGE, inside.PAGE, playground.PAGE, fourpixel.PAGE, optimisers.PAGE, knowledge.PAGE,
         apple.PAGE)
INDEX = ("/", "index.html", "Home")
log = logging.getLogger("thetas.lab")

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                 b"img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
                                 b"base-uri 'none'; form-action 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?")


def _host_name(host):
    """The name of a Host header ``name[:port]`` (an IPv6 address in brackets), or None when it is not one:
    'localhost:80@evil.example' is not a host name with a port."""
    m = _HOST.fullmatch(host)
    return m.group(1) if m else None


class _Guard:
    """ASGI middleware: security headers on every response; with ``allowed_hosts``, a request whose Host header
    names another host is refused (a web page elsewhere cannot reach the lab through DNS rebinding)."""

    def __init__(self, app, allowed_hosts=None):
        self.app, self.allowed = app, None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.allowed is not None:
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
            name = _host_name(host)
            if name not in self.allowed:
                response = _error(400, f"unexpected Host header {host[:60]!r}: open the lab at its own address")
                return await response(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)
        await self.app(scope, receive, send_with_headers)


def _clean(value):
    """JSON has no NaN or infinity: such numbers go out as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class _JSON(JSONResponse):
    def render(self, content):
        try:
            return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        except ValueError:
            return json.dumps(_clean(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def _error(status, message):
    return _JSON({"error": message, "status": status}, status_code=status)


MAX_DIGITS = 18          # an integer in a request: no field of the lab needs more digits


def _no_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _bounded_int(text):
    """A JSON integer, refused past MAX_DIGITS digits (a 401-digit int overflowed float() in the checks: a 500)."""
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits; at most {MAX_DIGITS} are accepted")
    return int(text)


async def _body(request, limit):
    """The request's JSON object, read with a size limit."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise LabError(413, f"the request body is {length} bytes; at most {limit:,} are accepted here")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise LabError(415, f"send JSON (Content-Type: application/json), not {ctype or 'nothing'!r}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise LabError(413, f"the request body is over {limit:,} bytes, the limit here")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        payload = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_int=_bounded_int)
    except (UnicodeDecodeError, ValueError) as e:
        raise LabError(400, f"the request body is not valid JSON ({str(e)[:120]})") from None
    except RecursionError:
        raise LabError(400, "the request body is nested too deeply to be a lab request") from None
    return obj(payload)


class Lab:
    """The app's state: each page's service, by the page's name, and the scheduler computations wait for."""

    def __init__(self, services):
        self.services, self.scheduler = services, Scheduler()
        self.beside = asyncio.Semaphore(1)               # the computations of Route(beside=True): one at a time
        self.digits = services["digits"]                        # ``thetas lab`` shows its status, closes it

    def endpoint(self, route, service):
        """The Starlette endpoint of a declared route: read and check the input, run the handler when the
        ``scheduler`` gives the request its turn (one computation at a time, earliest deadline first), answer JSON;
        a LabError becomes its status and message, anything else a 500 with a short reason."""
        async def endpoint(request):
            try:
                if route.method == "GET":
                    payload = dict(request.query_params)
                else:
                    payload = await _body(request, route.limit)
                params = dict(request.path_params)

                who = client_of(request.headers.get("x-lab-client"), request.client.host if request.client else None)

                def run():
                    with as_client(None, who):                   # the client the scheduler knows it by
                        return route.handler(service, payload, **params)
                if route.beside:                             # no session touched: beside the queue, in a thread
                    async with self.beside:
                        if await request.is_disconnected():
                            raise Gone()
                        return _JSON(await run_in_threadpool(run))
                return _JSON(await self.scheduler.run(who, route.frame, run, gone=request.is_disconnected))
            except LabError as e:
                return _error(e.status, e.message)
            except Gone:                                         # nobody reads this answer
                return _error(503, "the client went away before its turn")
            except Exception as e:                               # a bug, not the client's fault: log it, carry on
                log.exception("thetas lab: %s %s failed", request.method, request.url.path)
                return _error(500, f"internal error: {type(e).__name__}: {str(e)[:200]}")
        endpoint.route = route                                   # what the app's tests check it against
        return endpoint

    def close(self):
        """Stop every training child (the server is shutting down)."""
        for service in self.services.values():
            if hasattr(service, "close"):
                service.close()


def routes(lab, pages=PAGES):
    """The Starlette routes: each page, the index, each declared API route in order, ``GET /api``, the static
    files; an unknown ``/api/...`` gets a JSON 404."""
    def page(html, title, current=None):
        async def serve(request):
            return HTMLResponse(render((STATIC / html).read_text("utf-8"), pages, title, current))
        return serve

    async def not_found(request):
        return _error(404, f"no such API endpoint: {request.method} {request.url.path[:100]}")

    async def listing(request):
        return _JSON(api_list(pages))

    get = ["GET"]
    out = [StarletteRoute(p.path, page(p.html, p.title, p.path), methods=get) for p in pages]
    path, html, title = INDEX
    out += [StarletteRoute(path, page(html, title), methods=get),
            StarletteRoute("/index.html", lambda request: RedirectResponse("/"), methods=get),
            StarletteRoute("/favicon.ico", lambda request: Response(status_code=204), methods=get)]
    out += [StarletteRoute(r.path, lab.endpoint(r, lab.services.get(p.name)), methods=[r.method])
            for p in pages for r in p.routes]
    out += [StarletteRoute("/api", listing, methods=get),
            StarletteRoute("/api/{rest:path}", not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
            Mount("/static", app=StaticFiles(directory=STATIC), name="static")]
    return out


def create_app(model_path=None, cache=None, allowed_hosts=None, train_data="auto", train_epochs=None,
               train_samples=None, autostart=True, students=None):
    """The lab as an ASGI app. ``model_path``: a saved digit model (from the command line only); without it the
    cached one, else one trained in the background (``train_data``: 'auto', 'mnist' or 'digits';
    ``train_epochs``, ``train_samples`` shorten it). ``allowed_hosts``: Host names accepted (None: any).
    ``students``: a file of students' answers (from the command line only) that the Knowledge page opens with;
    one that is missing or malformed raises knowledge.StudentsFileError (a ValueError) saying why."""
    digits_service = DigitsService(model_path, cache=cache, data=train_data, epochs=train_epochs,
                                   samples=train_samples, autostart=False)
    services = {
        "digits": digits_service,
        "inside": inside.InsideService(digits_service),
        "playground": playground.Sessions(),
        "knowledge": knowledge.KnowledgeService(cache=cache),
        "apple": apple.AppleService(cache=cache),
    }
    lab = Lab(services)
    if students is not None:                    # before any training starts: a bad file ends the start cleanly
        lab.services["knowledge"].add_students_file(students)
    if autostart and lab.digits.model is None:
        lab.digits.start_training()

    async def method_not_allowed(request, exc):
        return _error(exc.status_code, f"{request.method} {request.url.path[:100]}: {exc.detail}")

    @asynccontextmanager
    async def lifespan(app):
        yield
        lab.close()

    app = Starlette(routes=routes(lab), exception_handlers={404: method_not_allowed, 405: method_not_allowed},
                    lifespan=lifespan)
    app.state.lab = lab
    guarded = _Guard(app, allowed_hosts)
    guarded.lab = lab
    return guarded
