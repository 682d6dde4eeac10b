"""``thetas lab``: serve the lab on http://127.0.0.1:8000 and open it in the browser.

    thetas lab                                   # the cached digit model, or one trained in the background
    thetas lab --model lenet.safetensors         # a model from ``thetas train mnist --model lenet --save PATH``
    thetas lab --students answers.csv            # the Knowledge page opens on these students (a DKT trains once)
    thetas lab --port 8080 --no-browser
    thetas lab --host 0.0.0.0                    # reachable from other machines (a warning says so)
"""
import ipaddress
import os

from .common import CLIError, check_safetensors, log
from .common import port as port_number

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parser(subparsers):
    """Add the ``lab`` command to ``thetas``' sub-command parsers."""
    p = subparsers.add_parser("lab", help="the browser lab: the lecture's demonstrations on a local web "
                              "page", description="Serve the lab, a local web app whose demonstrations run on "
                              "thetas models, and open it in the browser. Needs: pip install \"thetas[lab]\".")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port_number, default=8000, help="port (default 8000)")
    p.add_argument("--model", metavar="PATH", help="a saved digit model (thetas train mnist --model lenet --save "
                   "PATH); default: the cached one, else one trained in the background")
    p.add_argument("--students", metavar="PATH", help="a file of students' answers (the DKT code's three lines per "
                   "student, or an ASSISTments CSV) for the Knowledge page: a DKT learns from 80%% of its students "
                   "(once, then cached) and the page opens on them")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(func=run)
    return p


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_port(host, port):
    """A clear message now rather than uvicorn's exit status later: is host:port free to listen on?"""
    import socket
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as uvicorn binds: a lab just stopped
            s.bind((host, port))                                       # leaves TIME-WAIT sockets, not a listener
    except OSError as e:
        hint = f" (another program, or another thetas lab, uses it: try --port {port + 1})" if e.errno in (98, 48) \
            else ""
        raise CLIError(f"cannot listen on {host}:{port}: {e.strerror or e}{hint}") from None


def run(args):
    if args.model:
        try:
            check_safetensors(args.model)
        except CLIError as e:
            raise CLIError(f"--model: {e}") from None
    if args.students and not os.path.isfile(args.students):
        raise CLIError(f"--students {args.students}: no such file")
    try:
        import uvicorn
        from ..lab.knowledge import StudentsFileError
        from ..lab.server import create_app
    except ImportError as e:
        raise CLIError(f"the lab needs Starlette and uvicorn ({e.name} is missing): pip install \"thetas[lab]\"") \
            from None
    if not 0 < args.port < 65536:
        raise CLIError(f"--port must be between 1 and 65535, got {args.port}")
    local = _is_loopback(args.host)
    if not local:
        log(f"thetas lab: warning: listening on {args.host}: anyone who can reach this machine on port {args.port} "
             "can use the lab (it has no login). Use the default --host 127.0.0.1 to keep it to this machine.")
    _check_port(args.host, args.port)
    hosts = list(LOOPBACK) + ["[::1]"] if local else None
    try:
        app = create_app(model_path=args.model, allowed_hosts=hosts, students=args.students)
    except StudentsFileError as e:
        raise CLIError(f"--students {args.students}: {e}") from None
    except (ValueError, FileNotFoundError, OSError, KeyError, TypeError) as e:
        raise CLIError(f"--model {args.model}: {e}") from None
    status = app.lab.digits.status()
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{args.port}/"
    log(f"thetas lab: {url}  ({status['message']})  Ctrl-C stops it")
    if not args.no_browser:
        import threading
        import webbrowser
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    from .._runtime import auto_threads
    auto_threads(work=0)        # one BLAS thread (unless the environment says): the lab's products are small, and
    #                             a second thread spinning after each one took 0.4 of a core under a class's load
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=3)   # Ctrl-C: requests still queued get 3 s, not every turn
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as e:                       # the port is taken, or the address is not this machine's
        raise CLIError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None
    finally:
        app.lab.digits.close()
    return 0
