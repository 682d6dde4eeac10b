"""The lab under a classroom's load: N simulated students against one real ``thetas lab`` server on 127.0.0.1.

The server runs in its own process (uvicorn, as ``thetas lab`` starts it; the digit model a LeNet, untrained
unless ``--model`` names one). Each simulated student is an asyncio task with its own connection and its own
``X-Lab-Client`` id: it opens a playground session and a knowledge-tracing session, then sends requests without
pause: eight in ten a playground step (2 steps), one in ten a 140×140 digit prediction, one in ten a
knowledge-tracing answer (issue 15's mix). Bounded: ``--seconds`` per round, then every task stops; only 127.0.0.1 is contacted.

Reported per round (1, 10, 30 students by default): requests, errors, throughput, p50/p95/p99 of each kind, and
the server's resident memory before and after. The targets of issue 15 (30 students): 0 errors, prediction p95
≤ 150 ms, playground step p95 ≤ 300 ms, answer p95 ≤ 500 ms.

Then (``--heavy``) issue 15's heaviest valid request, a 2,000-point playground with six layers of 32 stepped 500
steps at a time, beside one student drawing: the delay it adds to a prediction.

    python benchmarks/bench_lab_load.py [--students 1,10,30] [--seconds 60] [--heavy 20] [--model lenet.safetensors]
                                        [--json]
"""
import argparse
import asyncio
import base64
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

SERVER = """
import sys, uvicorn
from thetas._runtime import auto_threads
from thetas.lab import create_app
auto_threads(work=0)                    # as `thetas lab`: one BLAS thread for the lab's small computations
app = create_app(model_path=sys.argv[2] or None, cache=sys.argv[3], train_data="digits")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def a_drawing(size=140):
    img = np.zeros((size, size), np.uint8)
    for t in np.linspace(0, 1, 200):
        y, x = int(20 + 100 * t), int(72 - 6 * t)
        img[y - 6:y + 6, x - 6:x + 6] = 255
    return {"width": size, "height": size, "pixels": base64.b64encode(img.tobytes()).decode()}


def cpu_seconds(pid):
    """User + system CPU seconds a process has used (/proc/PID/stat, clock ticks)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


async def student(url, until, stats, i, drawing):
    import httpx
    headers = {"X-Lab-Client": f"student-{i}"}
    rng = random.Random(i)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
        sid = (await http.post("/api/playground/sessions", json={"config": {}})).json()["id"]
        async def new_kt():
            return (await http.post("/api/knowledge/sessions", json={"student": i % 10})).json().get("session")
        kt, answers = await new_kt(), 0
        while time.monotonic() < until:
            if answers >= 50:                   # a student's trace is bounded (MAX_LEN answers): a new one
                kt, answers = await new_kt(), 0
            r = rng.random()
            if r < 0.8:
                kind, req = "step", http.post(f"/api/playground/{sid}/step", json={"steps": 2})
            elif r < 0.9:
                kind, req = "predict", http.post("/api/digits/predict", json={"drawing": drawing})
            else:
                answers += 1
                kind, req = "answer", http.post(f"/api/knowledge/{kt}/answer",
                                                json={"question": rng.randrange(50), "correct": rng.randrange(2)})
            t0 = time.perf_counter()
            try:
                resp = await req
                ok = resp.status_code == 200
            except Exception:                                   # noqa: BLE001 - counted as an error
                ok = False
            stats.setdefault(kind, []).append(time.perf_counter() - t0)
            if not ok:
                stats["errors"] = stats.get("errors", 0) + 1


async def round_of(url, n, seconds):
    stats, drawing = {}, a_drawing()
    until = time.monotonic() + seconds
    t0 = time.perf_counter()
    await asyncio.gather(*[student(url, until, stats, i, drawing) for i in range(n)])
    elapsed = time.perf_counter() - t0
    out = {"students": n, "requests": sum(len(v) for k, v in stats.items() if k != "errors"),
           "errors": stats.get("errors", 0)}
    out["throughput_per_s"] = round(out["requests"] / elapsed, 1)
    out["seconds"] = round(elapsed, 2)
    for kind in ("step", "predict", "answer"):
        v = np.asarray(stats.get(kind, [np.nan])) * 1000
        out[kind] = {f"p{q}": round(float(np.percentile(v, q)), 1) for q in (50, 95, 99)} | {"n": len(v)}
    return out


HEAVY = {"dataset": "spiral", "points": 2000, "hidden": [32] * 6, "batch_size": 2000, "test_fraction": 0}


async def heavy_round(url, seconds):
    """Issue 15's heaviest valid request: a playground of 2,000 points, six hidden layers of 32, batch 2,000, no
    test points, stepped 500 steps at a time without pause by one client, while another student draws (a
    prediction every 50 ms). The prediction's latency alone, then beside the heavy client: the delay it causes."""
    import httpx
    drawing = a_drawing()

    async def predictions(http, until):
        out = []
        while time.monotonic() < until:
            t0 = time.perf_counter()
            r = await http.post("/api/digits/predict", json={"drawing": drawing})
            out.append((time.perf_counter() - t0) * 1000 if r.status_code == 200 else float("inf"))
            await asyncio.sleep(0.05)
        return np.asarray(out)

    async def heavy(http, until):
        sid = (await http.post("/api/playground/sessions", json={"config": HEAVY})).json()["id"]
        steps = []
        while time.monotonic() < until:
            t0 = time.perf_counter()
            r = (await http.post(f"/api/playground/{sid}/step", json={"steps": 500})).json()
            steps.append(((time.perf_counter() - t0) * 1000, r["steps_run"]))
        return steps

    async with httpx.AsyncClient(base_url=url, headers={"X-Lab-Client": "drawer"}, timeout=60) as drawer, \
            httpx.AsyncClient(base_url=url, headers={"X-Lab-Client": "heavy"}, timeout=60) as big:
        alone = await predictions(drawer, time.monotonic() + seconds / 2)
        until = time.monotonic() + seconds / 2
        beside, steps = await asyncio.gather(predictions(drawer, until), heavy(big, until))
    def stat(v):
        return {"p50": round(float(np.percentile(v, 50)), 1), "p95": round(float(np.percentile(v, 95)), 1),
                "max": round(float(v.max()), 1), "n": len(v)}
    ms = np.asarray([t for t, _ in steps])
    return {"predict_alone": stat(alone), "predict_beside_heavy": stat(beside),
            "delay_p95_ms": round(float(np.percentile(beside, 95) - np.percentile(alone, 95)), 1),
            "delay_max_ms": round(float(beside.max() - np.percentile(alone, 50)), 1),
            "heavy_request_ms": stat(ms), "heavy_steps_per_request": int(np.median([k for _, k in steps]))}


def wait_up(url, proc, seconds=300):
    import httpx
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the lab server stopped (exit {proc.returncode})")
        try:
            digits = httpx.get(url + "/api/digits/status", timeout=5).json()["state"]
            knowledge = httpx.get(url + "/api/knowledge/status", timeout=5).json()["state"]
            if digits == "ready" and knowledge == "ready":
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(1)
    raise SystemExit("the lab's models were not ready in time")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--students", default="1,10,30")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--model", default="", help="a digit model (default: the lab trains one on the 8×8 digits)")
    p.add_argument("--heavy", type=float, default=20.0, metavar="SECONDS",
                   help="then the heaviest request beside a student drawing, half alone, half beside (0: skip)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    cache = os.environ.get("THETAS_LAB_BENCH_CACHE") or tempfile.mkdtemp(prefix="thetas-lab-load-")
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), args.model, cache])
    try:
        wait_up(url, proc)
        rounds = []
        for n in [int(v) for v in args.students.split(",")]:
            before, cpu0, own0 = rss_mb(proc.pid), cpu_seconds(proc.pid), time.process_time()
            r = asyncio.run(round_of(url, n, args.seconds))
            r["server_rss_mb"] = {"before": before, "after": rss_mb(proc.pid)}
            r["cores_used"] = {"server": round((cpu_seconds(proc.pid) - cpu0) / r["seconds"], 2),
                               "students": round((time.process_time() - own0) / r["seconds"], 2)}
            rounds.append(r)
            if not args.json:
                print(f"{n:>3} students: {r['requests']} requests, {r['errors']} errors, {r['throughput_per_s']}/s; "
                      f"step p50/p95/p99 {r['step']['p50']}/{r['step']['p95']}/{r['step']['p99']} ms; predict p95 "
                      f"{r['predict']['p95']} ms; answer p95 {r['answer']['p95']} ms; server "
                      f"{before} -> {r['server_rss_mb']['after']} MB; cores used: server {r['cores_used']['server']}, "
                      f"students {r['cores_used']['students']}", flush=True)
        heavy = asyncio.run(heavy_round(url, args.heavy)) if args.heavy > 0 else None
        if heavy and not args.json:
            a, b = heavy["predict_alone"], heavy["predict_beside_heavy"]
            print(f"heaviest request ({heavy['heavy_request_ms']['p50']} ms each, {heavy['heavy_steps_per_request']} "
                  f"of 500 steps): a prediction's p50/p95/max alone {a['p50']}/{a['p95']}/{a['max']} ms, beside it "
                  f"{b['p50']}/{b['p95']}/{b['max']} ms: delay p95 {heavy['delay_p95_ms']} ms, worst "
                  f"{heavy['delay_max_ms']} ms", flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
    print(json.dumps({"seconds_per_round": args.seconds, "rounds": rounds, "heavy": heavy}))


if __name__ == "__main__":
    main()
