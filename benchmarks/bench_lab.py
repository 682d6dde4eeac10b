"""The lab's two live loops: how long from a stroke to a guess, and how many playground updates a second.

1. Draw-to-guess (Digits page): a 140×140 drawing, as the page sends it, goes through ``to_mnist`` and LeNet-5
   (``th.models.LeNet()``, 28×28), and every layer's activations are encoded for the page. Target: < 30 ms.
   Measured twice: the server's work alone (``DigitModel.predict`` + JSON), and the whole HTTP round trip to a
   real uvicorn server on 127.0.0.1 (keep-alive connection, as a browser's).
2. Playground updates per second on the tiny network (2-4-4-1, tanh, Adam, xor with 200 points): one update is
   2 optimizer steps, both losses, P(B) on the 64×64 grid and every neuron's 32×32 heatmap. Target: ≥ 30/s.
   Again the server's work alone and the HTTP round trip.

Latencies are the median and 90th percentile of single calls; updates/s is 1 / (the median over ``--repeats``
rounds of the mean time per update, ``--calls`` updates a round).

    python benchmarks/bench_lab.py [--threads 1] [--repeats 5] [--calls 50] [--json]
"""
import os
import socket
import statistics
import threading
import time

import numpy as np

from common import parser, print_json, setup

import thetas as th

TARGET_MS, TARGET_UPS = 30.0, 30.0


def a_drawing(size=140):
    """A handwritten-looking 1, as the page sends it: ink 255 on 0."""
    img = np.zeros((size, size), np.uint8)
    for t in np.linspace(0, 1, 200):
        y, x = int(20 + 100 * t), int(72 - 6 * t)
        img[y - 6:y + 6, x - 6:x + 6] = 255
    return img


def timed(fn, calls, repeats):
    """(median over rounds of the mean seconds per call, median single call, 90th percentile of single calls)."""
    fn()                                                    # warm up
    rounds, singles = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            t = time.perf_counter()
            fn()
            singles.append(time.perf_counter() - t)
        rounds.append((time.perf_counter() - t0) / calls)
    return statistics.median(rounds), statistics.median(singles), float(np.percentile(singles, 90))


def serve(app):
    import uvicorn
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}"


def main():
    p = parser(__doc__)
    p.add_argument("--calls", type=int, default=50, help="calls per timed round (default 50)")
    args = p.parse_args()
    env = setup(args)
    if args.quick:
        args.calls = 10
    import base64
    import tempfile

    import httpx
    from thetas.lab import create_app
    from thetas.lab.digits import DigitModel
    from thetas.lab.playground import Config, Session
    from thetas.lab.server import _JSON

    pixels = a_drawing()
    payload = {"drawing": {"width": 140, "height": 140, "pixels": base64.b64encode(pixels.tobytes()).decode()}}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lenet.safetensors")
        th.save(th.models.LeNet(generator=0), path, metadata={"dataset": "mnist"})
        digit = DigitModel.load(path)
        app = create_app(model_path=path)
        server, base = serve(app)
        try:
            _, guess_s, guess_p90 = timed(lambda: _JSON(digit.predict(pixels)).body, args.calls, args.repeats)
            with httpx.Client(base_url=base) as client:
                _, http_s, http_p90 = timed(lambda: client.post("/api/digits/predict", json=payload).raise_for_status(),
                                         args.calls, args.repeats)
                body = client.post("/api/digits/predict", json=payload).content

                config = Config(dataset="xor", hidden=[4, 4], activation="tanh", optimizer="adam")
                session = Session(config)
                step_s, _, step_p90 = timed(lambda: _JSON(session.step(2)).body, args.calls, args.repeats)
                sid = client.post("/api/playground/sessions", json={"config": {
                    "dataset": "xor", "hidden": [4, 4], "activation": "tanh", "optimizer": "adam"}}).json()["id"]
                ups_s, _, ups_p90 = timed(lambda: client.post(f"/api/playground/{sid}/step",
                                                           json={"steps": 2, "neurons": True}).raise_for_status(),
                                       args.calls, args.repeats)
                update_bytes = len(client.post(f"/api/playground/{sid}/step", json={"steps": 2}).content)
        finally:
            server.should_exit = True

    result = {
        "digits_guess_ms": round(1e3 * guess_s, 2), "digits_guess_p90_ms": round(1e3 * guess_p90, 2),
        "digits_http_ms": round(1e3 * http_s, 2), "digits_http_p90_ms": round(1e3 * http_p90, 2),
        "digits_response_kb": round(len(body) / 1024, 1),
        "playground_updates_per_s": round(1 / step_s, 1), "playground_http_updates_per_s": round(1 / ups_s, 1),
        "playground_http_p90_ms": round(1e3 * ups_p90, 2), "playground_update_kb": round(update_bytes / 1024, 1),
        "targets": {"digits_ms": TARGET_MS, "updates_per_s": TARGET_UPS},
        "met": {"digits": 1e3 * http_s < TARGET_MS, "playground": 1 / ups_s >= TARGET_UPS},
        "load_average": os.getloadavg()[0], "env": env,
    }
    print(f"draw-to-guess, LeNet 28×28, every layer: {result['digits_guess_ms']} ms on the server "
          f"(p90 {result['digits_guess_p90_ms']}), {result['digits_http_ms']} ms over HTTP "
          f"(p90 {result['digits_http_p90_ms']}; {result['digits_response_kb']} KiB)   target < {TARGET_MS:g} ms")
    print(f"playground, 2-4-4-1 tanh, 2 steps + boundary + every neuron: {result['playground_updates_per_s']} "
          f"updates/s on the server, {result['playground_http_updates_per_s']} over HTTP (p90 "
          f"{result['playground_http_p90_ms']} ms; {result['playground_update_kb']} KiB)   target >= {TARGET_UPS:g}/s")
    print(f"load average {result['load_average']:.2f} on {os.cpu_count()} cores")
    if args.json:
        print_json(result)


if __name__ == "__main__":
    main()
