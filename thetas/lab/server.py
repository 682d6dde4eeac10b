"""The lab's web server: static pages plus a JSON API, as a Starlette app.

    app = create_app(model_path="lenet.safetensors")        # what ``thetas lab`` serves with uvicorn

Pages: ``/digits``, ``/playground``, ``/four-pixels``, ``/optimisers``, ``/knowledge``, ``/apple-world``
(and ``/``, the index).
API, all JSON:

    GET  /api/digits/status                 the digit model: ready, training (progress) or failed
    POST /api/digits/predict                {"drawing": {width, height, pixels}} -> guesses, every layer
    POST /api/digits/unit                   {"drawing", "layer", "unit"} -> one unit's patch, kernel, sum
    POST /api/playground/sessions           {config} -> a new session and its state
    GET  /api/playground/{id}               the state, with points, config and history
    POST /api/playground/{id}/config        {config} -> a fresh network (new data if the data settings changed)
    POST /api/playground/{id}/points        {"add": [[x, y, label], ...]} or {"clear": true}
    POST /api/playground/{id}/csv           {"csv": text}: two feature columns and a label
    POST /api/playground/{id}/step          {"steps": k, "neurons": bool} -> the state after k steps
    POST /api/playground/{id}/reset         fresh thetas
    GET  /api/playground/{id}/code          the thetas Python for this setup
    GET  /api/fourpixel                     the images and the hand-set solution
    POST /api/fourpixel/evaluate            {"weights": [W1, W2, W3]} (1, −1, 0) -> classifications
    POST /api/fourpixel/train               {"epochs", "lr", "seed"} -> learned weights, classifications
    POST /api/optim/surface                 {"resolution"} -> the loss over (w, b)
    POST /api/optim/trajectories            {"start", "steps", "optimizers"} -> paths
    POST /api/mms                           {"counts", "start", "steps"} -> costs, minimisers
    GET  /api/knowledge/status?dataset=KEY  a data set's DKT: ready, training (progress) or failed; its students;
                                            the concept graph {"edges": [[i, j, w]], "labels"} once ready; the
                                            data sets (synthetic-5 and loaded files)
    POST /api/knowledge/datasets            {"name", "text"}: a file of students' answers (DKT three-line format
                                            or ASSISTments CSV) -> its status (its DKT starts training)
    POST /api/knowledge/sessions            {"dataset"?, "student", "steps"?} -> a session: answers, trace,
                                            suggestion
    POST /api/knowledge/{id}/answer         {"question", "correct": 0/1} -> the session with one more answer
    GET  /api/apple/status                  the trained DQN: idle, training (progress), ready or failed
    POST /api/apple/trained                 start training (or loading) the trained DQN
    POST /api/apple/sessions                {"seed"?} -> a new AppleWorld session: world, rays, Q-values
    POST /api/apple/{id}/step               {"speed": 1-40, "learning"?: bool} -> the state after that many steps
    POST /api/apple/{id}/load               the trained DQN replaces the session's agent (greedy play)

Every request body has a size limit (413 beyond it) and a schema (422 when violated, 400 when not JSON); a GET's
only input is its query string (read as plain strings, checked the same way); the
message comes back as ``{"error": "..."}`` and the server carries on. thetas keeps process-wide state (grad
mode), so every computation runs under one lock, one request at a time; digit training runs in a child process.
"""
import json
import logging
import math
import threading
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import digits, fourpixel, optimisers, playground
from .apple import AppleService
from .knowledge import UPLOAD_LIMIT, KnowledgeService
from .schema import LabError, flag, int_list, number, obj
from .training import DigitsService

STATIC = Path(__file__).parent / "static"
PAGES = {"/digits": "digits.html", "/playground": "playground.html", "/four-pixels": "fourpixel.html",
         "/optimisers": "optimisers.html", "/knowledge": "knowledge.html", "/apple-world": "apple.html",
         "/": "index.html"}
BODY_LIMIT = 64 * 1024                 # bytes of JSON for most requests
DRAWING_LIMIT = 128 * 1024             # a drawing: 200×200 bytes in base64 and some
CSV_LIMIT = 256 * 1024
log = logging.getLogger("thetas.lab")

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                 b"img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
                                 b"base-uri 'none'; form-action 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


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
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
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
        payload = json.loads(raw.decode("utf-8"), parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (UnicodeDecodeError, ValueError) as e:
        raise LabError(400, f"the request body is not valid JSON ({str(e)[:120]})") from None
    return obj(payload)


class Lab:
    """The app's state: the digit model, the playground sessions, and the one lock thetas work runs under."""

    def __init__(self, digits_service, cache=None):
        self.digits = digits_service
        self.sessions = playground.Sessions()
        self.compute = threading.Lock()
        self.knowledge = KnowledgeService(self.compute, cache=cache)
        self.apple = AppleService(self.compute, cache=cache)

    def api(self, fn, limit=BODY_LIMIT, body=True):
        """An endpoint: read and check the body, run ``fn(payload, params)`` in a worker thread under the compute
        lock, answer JSON; a LabError becomes its status and message, anything else a 500 with a short reason."""
        async def endpoint(request):
            try:
                payload = await _body(request, limit) if body else dict(request.query_params)
                params = dict(request.path_params)

                def run():
                    with self.compute:
                        return fn(payload, params)
                return _JSON(await run_in_threadpool(run))
            except LabError as e:
                return _error(e.status, e.message)
            except Exception as e:                               # a bug, not the client's fault: log it, carry on
                log.exception("thetas lab: %s %s failed", request.method, request.url.path)
                return _error(500, f"internal error: {type(e).__name__}: {str(e)[:200]}")
        return endpoint

    # ------------------------------------------------------------------ digits
    def _model(self):
        status = self.digits.status()
        if self.digits.model is None:
            raise digits.not_ready(status)
        return self.digits.model

    def digits_status(self, payload, params):
        return self.digits.status()

    def digits_predict(self, payload, params):
        pixels = digits.check_pixels(payload)
        return self._model().predict(pixels)

    def digits_unit(self, payload, params):
        pixels = digits.check_pixels(payload)
        model = self._model()
        layer = number(payload, "layer", 0, len(model.groups) - 1, integer=True)
        unit = int_list(payload, "unit", 1, 3, 0, 10 ** 6)
        return model.unit(pixels, layer, unit)

    # ------------------------------------------------------------------ playground
    def pg_create(self, payload, params):
        config = playground.Config.parse(payload.get("config", {}))
        session = self.sessions.create(config)
        if "points" in payload:                                  # a shared URL's own points
            session.set_points(*playground.parse_points({"add": payload["points"]}))
        return session.state(points=True)

    def pg_state(self, payload, params):
        return self.sessions.get(params["sid"]).state(points=True)

    def pg_config(self, payload, params):
        s = self.sessions.get(params["sid"])
        s.configure(playground.Config.parse(payload.get("config", {}), base=s.config),
                    regenerate=flag(payload, "regenerate", False))
        return s.state(points=True)

    def pg_points(self, payload, params):
        s = self.sessions.get(params["sid"])
        if flag(payload, "clear", False):
            s.clear()
        if "add" in payload:
            s.add_points(*playground.parse_points(payload))
        return s.state(points=True)

    def pg_csv(self, payload, params):
        s = self.sessions.get(params["sid"])
        X, y, labels, scaling = playground.parse_csv(payload.get("csv"))
        s.set_points(X, y)
        s.csv_labels, s.scaling = labels, scaling
        return s.state(points=True)

    def pg_step(self, payload, params):
        s = self.sessions.get(params["sid"])
        steps, neurons = playground.step_request(payload)
        return s.step(steps, neurons=neurons)

    def pg_reset(self, payload, params):
        s = self.sessions.get(params["sid"])
        s.reset()
        return s.state(points=True)

    def pg_code(self, payload, params):
        return {"code": self.sessions.get(params["sid"]).code()}

    # ------------------------------------------------------------------ four pixels, optimisers
    def fp_describe(self, payload, params):
        return {**fourpixel.describe(), "evaluation": fourpixel.evaluate(fourpixel.PRESET)}

    def fp_evaluate(self, payload, params):
        return fourpixel.evaluate(fourpixel.parse_weights(payload))

    def fp_train(self, payload, params):
        return fourpixel.train(payload)

    # ------------------------------------------------------------------ knowledge tracing
    def kt_status(self, payload, params):
        return self.knowledge.status(payload)

    def kt_upload(self, payload, params):
        ds = self.knowledge.add_file(payload.get("name"), payload.get("text"))
        return self.knowledge.status({"dataset": ds.key})

    def kt_create(self, payload, params):
        return self.knowledge.create(payload)

    def kt_answer(self, payload, params):
        return self.knowledge.answer(params["kid"], payload)

    # ------------------------------------------------------------------ AppleWorld
    def aw_status(self, payload, params):
        return self.apple.status()

    def aw_train(self, payload, params):
        self.apple.ensure()
        return self.apple.status()

    def aw_create(self, payload, params):
        return self.apple.create(payload)

    def aw_step(self, payload, params):
        return self.apple.step(params["aid"], payload)

    def aw_load(self, payload, params):
        return self.apple.load(params["aid"], payload)


def create_app(model_path=None, cache=None, allowed_hosts=None, train_data="auto", train_epochs=None,
               train_samples=None, autostart=True, students=None):
    """The lab as an ASGI app. ``model_path``: a saved digit model (from the command line only); without it the
    cached one, else one trained in the background (``train_data``: 'auto', 'mnist' or 'digits';
    ``train_epochs``, ``train_samples`` shorten it). ``allowed_hosts``: Host names accepted (None: any).
    ``students``: a file of students' answers (from the command line only) that the Knowledge page opens with;
    one that is missing or malformed raises knowledge.StudentsFileError (a ValueError) saying why."""
    lab = Lab(DigitsService(model_path, cache=cache, data=train_data, epochs=train_epochs, samples=train_samples,
                            autostart=False), cache=cache)
    if students is not None:                    # before any training starts: a bad file ends the start cleanly
        lab.knowledge.add_students_file(students)
    if autostart and lab.digits.model is None:
        lab.digits.start_training()

    def page(name):
        async def serve(request):
            return FileResponse(STATIC / name, media_type="text/html")
        return serve

    async def not_found(request):
        return _error(404, f"no such API endpoint: {request.method} {request.url.path[:100]}")

    get, post = ["GET"], ["POST"]
    routes = [Route(path, page(name), methods=get) for path, name in PAGES.items()]
    routes += [
        Route("/index.html", lambda request: RedirectResponse("/"), methods=get),
        Route("/favicon.ico", lambda request: Response(status_code=204), methods=get),
        Route("/api/digits/status", lab.api(lab.digits_status, body=False), methods=get),
        Route("/api/digits/predict", lab.api(lab.digits_predict, DRAWING_LIMIT), methods=post),
        Route("/api/digits/unit", lab.api(lab.digits_unit, DRAWING_LIMIT), methods=post),
        Route("/api/playground/sessions", lab.api(lab.pg_create, CSV_LIMIT), methods=post),
        Route("/api/playground/{sid}", lab.api(lab.pg_state, body=False), methods=get),
        Route("/api/playground/{sid}/config", lab.api(lab.pg_config), methods=post),
        Route("/api/playground/{sid}/points", lab.api(lab.pg_points), methods=post),
        Route("/api/playground/{sid}/csv", lab.api(lab.pg_csv, CSV_LIMIT), methods=post),
        Route("/api/playground/{sid}/step", lab.api(lab.pg_step), methods=post),
        Route("/api/playground/{sid}/reset", lab.api(lab.pg_reset), methods=post),
        Route("/api/playground/{sid}/code", lab.api(lab.pg_code, body=False), methods=get),
        Route("/api/fourpixel", lab.api(lab.fp_describe, body=False), methods=get),
        Route("/api/fourpixel/evaluate", lab.api(lab.fp_evaluate), methods=post),
        Route("/api/fourpixel/train", lab.api(lab.fp_train), methods=post),
        Route("/api/optim/surface", lab.api(lambda p, _: optimisers.surface(p)), methods=post),
        Route("/api/optim/trajectories", lab.api(lambda p, _: optimisers.trajectories(p)), methods=post),
        Route("/api/mms", lab.api(lambda p, _: optimisers.mms(p)), methods=post),
        Route("/api/knowledge/status", lab.api(lab.kt_status, body=False), methods=get),
        Route("/api/knowledge/datasets", lab.api(lab.kt_upload, UPLOAD_LIMIT), methods=post),
        Route("/api/knowledge/sessions", lab.api(lab.kt_create), methods=post),
        Route("/api/knowledge/{kid}/answer", lab.api(lab.kt_answer), methods=post),
        Route("/api/apple/status", lab.api(lab.aw_status, body=False), methods=get),
        Route("/api/apple/trained", lab.api(lab.aw_train), methods=post),
        Route("/api/apple/sessions", lab.api(lab.aw_create), methods=post),
        Route("/api/apple/{aid}/step", lab.api(lab.aw_step), methods=post),
        Route("/api/apple/{aid}/load", lab.api(lab.aw_load), methods=post),
        Route("/api/{rest:path}", not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]

    async def method_not_allowed(request, exc):
        return _error(exc.status_code, f"{request.method} {request.url.path[:100]}: {exc.detail}")

    def lifespan(app):
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def span(app):
            yield
            lab.digits.close()
        return span(app)

    app = Starlette(routes=routes, exception_handlers={404: method_not_allowed, 405: method_not_allowed},
                    lifespan=lifespan)
    app.state.lab = lab
    guarded = _Guard(app, allowed_hosts)
    guarded.lab = lab
    return guarded
