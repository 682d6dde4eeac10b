"""The default BLAS thread count against --threads 1 and --threads 2, on a quiet machine and beside a CPU hog.

Runs each command as a user would (``python -m thetas train ...``, a fresh process each time, the whole command
timed: start, data, training, evaluation) with no thread setting (the default: ``thetas._runtime.auto_threads``),
``--threads 1`` and ``--threads 2``, in two conditions:

* quiet: nothing started beside it (what else runs on the machine is measured and printed: "other load");
* busy: one CPU-bound process beside it (a Python busy loop, started before the condition's runs, bounded in time
  and killed at its end), as when a second job or a browser keeps a core busy.

Each repeat runs the three settings in turn (a slow phase of the machine hits all of them); the table shows the
best and the median wall time of each, and the default's best over the better of the other two (the target:
at most 1.10). Variables such as OPENBLAS_NUM_THREADS are removed from the commands' environment, so that the
default is the default. MNIST must be in $THETAS_DATA (else the LeNet row is skipped).

    python benchmarks/threads.py [--repeats 2] [--commands digits,lenet] [--conditions quiet,busy] [--json]

About 5 minutes on 2 cores with the default 2 repeats (LeNet's epoch is most of it); ``--repeats 1``: half that.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "digits": ["train", "digits"],
    "lenet": ["train", "mnist", "--model", "lenet", "--epochs", "1"],
}
SETTINGS = {"default": [], "--threads 1": ["--threads", "1"], "--threads 2": ["--threads", "2"]}
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
HOG = "import time\nend = time.monotonic() + float(__import__('sys').argv[1])\nwhile time.monotonic() < end:\n    pass\n"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child_env():
    env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")      # this checkout's thetas
    return env


def busy_ticks():
    """(busy, all) clock ticks of the whole machine from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return sum(fields) - fields[3] - fields[4], sum(fields)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_once(command, setting, cap):
    """Wall seconds of one command, its CPU seconds, the other processes' load in cores meanwhile, its JSON."""
    args = [sys.executable, "-m", "thetas", *COMMANDS[command], *SETTINGS[setting], "--quiet", "--json"]
    ticks0, cpu0, t0 = busy_ticks(), children_cpu(), time.perf_counter()
    try:
        out = subprocess.run(args, capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=cap)
    except subprocess.TimeoutExpired:              # a pathological setting: recorded as the cap, marked '>'
        return {"wall": cap, "cpu": None, "other_load": None, "result": None, "capped": True}
    wall, cpu, ticks1 = time.perf_counter() - t0, children_cpu() - cpu0, busy_ticks()
    if out.returncode != 0:
        sys.exit(f"threads.py: {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    other = None
    if ticks0 and ticks1:
        hz = os.sysconf("SC_CLK_TCK")
        other = max(0.0, ((ticks1[0] - ticks0[0]) / hz - cpu) / wall)       # busy cores not ours
    return {"wall": wall, "cpu": cpu, "other_load": other, "result": json.loads(out.stdout.strip().splitlines()[-1])}


def auto_choice():
    """What the default picks right now, and the BLAS it applies to (threadpoolctl's report)."""
    code = ("from thetas._runtime import auto_threads, blas_library; import json; "
            "print(json.dumps([auto_threads(), blas_library()]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), cwd=ROOT,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_hog(seconds):
    return subprocess.Popen([sys.executable, "-c", HOG, str(seconds)])


def stop_hog(hog):
    hog.kill()
    hog.wait()


def measure(commands, conditions, repeats, cap):
    rows = []
    for condition in conditions:
        hog = start_hog(1800) if condition == "busy" else None
        try:
            time.sleep(0.5)                                  # the hog is running before anything is timed
            threads, blas = auto_choice()
            for command in commands:
                runs = {s: [] for s in SETTINGS}
                order = list(SETTINGS)
                for r in range(repeats):
                    for setting in order[r % 3:] + order[:r % 3]:          # rotate: no setting always first
                        runs[setting].append(run_once(command, setting, cap))
                        print(f"  {condition:5s} {command:6s} {setting:12s} {runs[setting][-1]['wall']:7.2f} s "
                              f"(other load {runs[setting][-1]['other_load'] or 0:.2f} cores)", file=sys.stderr,
                              flush=True)
                rows.append(summarize(command, condition, runs, threads, blas))
        finally:
            if hog is not None:
                stop_hog(hog)
    return rows


def summarize(command, condition, runs, threads, blas):
    walls = {s: [r["wall"] for r in v] for s, v in runs.items()}
    capped = {s for s, v in runs.items() if any(r.get("capped") for r in v)}
    best = {s: min(w) for s, w in walls.items()}
    others = [r["other_load"] for v in runs.values() for r in v if r["other_load"] is not None]
    return {"command": command, "condition": condition, "default_threads": threads, "blas": blas,
            "best": {s: round(v, 2) for s, v in best.items()},
            "median": {s: round(statistics.median(w), 2) for s, w in walls.items()},
            "runs": {s: [round(x, 2) for x in w] for s, w in walls.items()},
            "default_over_better": round(best["default"] / min(best["--threads 1"], best["--threads 2"]), 3),
            "other_load": round(statistics.median(others), 2) if others else None, "capped": sorted(capped)}


def table(rows):
    lines = ["| command | machine | other load (cores) | default picks | default | --threads 1 | --threads 2 | "
             "default ÷ better |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    names = {"digits": "`thetas train digits`", "lenet": "`thetas train mnist --model lenet --epochs 1`"}
    for r in rows:
        cells = [(">" if s in r["capped"] else "") + f"{r['best'][s]:.2f} s ({r['median'][s]:.2f})" for s in SETTINGS]
        flag = "" if r["default_over_better"] <= 1.10 else " ✗"
        lines.append(f"| {names[r['command']]} | {r['condition']} | {r['other_load']} | {r['default_threads']} | "
                     + " | ".join(cells) + f" | {r['default_over_better']:.2f}{flag} |")
    return "\n".join(lines)


def mnist_present():
    code = "from thetas.data.mnist import FILES; from thetas.lab.training import mnist_available; " \
           "print(mnist_available())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), cwd=ROOT)
    return out.stdout.strip().endswith("True")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=2, help="runs of each setting (default 2; the best is shown)")
    p.add_argument("--commands", default="digits,lenet", help="digits, lenet or both (default both)")
    p.add_argument("--conditions", default="quiet,busy", help="quiet, busy or both (default both)")
    p.add_argument("--cap", type=float, default=120, help="seconds after which a run is stopped and shown as "
                   "'> cap' (default 120: two threads beside a busy core can take 10-20x longer)")
    p.add_argument("--json", action="store_true", help="also print all results as one JSON line")
    args = p.parse_args()
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    if set(commands) - set(COMMANDS) or set(conditions) - {"quiet", "busy"} or args.repeats < 1:
        p.error("--commands takes digits,lenet; --conditions quiet,busy; --repeats at least 1")
    if "lenet" in commands and not mnist_present():
        print("# MNIST not found (set THETAS_DATA): the LeNet row is skipped", file=sys.stderr)
        commands.remove("lenet")
    t0 = time.perf_counter()
    rows = measure(commands, conditions, args.repeats, args.cap)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"# {platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}, "
          f"BLAS: {rows[0]['blas'] if rows else '?'}; {args.repeats} repeat(s), "
          f"{time.perf_counter() - t0:.0f} s in all")
    print("# best wall time of the whole command (median in brackets); 'default picks': auto_threads() just "
          "before the condition's runs")
    print(table(rows))
    if args.json:
        print(json.dumps({"rows": rows, "repeats": args.repeats, "cores": cores}))


if __name__ == "__main__":
    main()
