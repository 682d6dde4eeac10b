"""Timing helpers shared by the benchmarks: thread control, paired timing on a noisy machine, JSON output.

How a comparison is timed (``time_paired``):
  * the variants run in rotation, A B C A B C ..., so that a slow phase of the machine hits all of them;
  * before each sample the process sleeps ``gap`` s (0.15 s), so the previous library's BLAS / OpenMP worker
    threads, which spin for ~0.1 s after a call, are idle before the next library starts;
  * during each sample the CPU time used by *other* processes is read from /proc/stat (machine busy time minus
    this process's CPU time); a round is clean when no sample saw more than ``max_foreign`` cores of it. Rounds
    are repeated until ``repeats`` are clean (at most 4 × repeats rounds); with fewer than 3 clean rounds every
    round is kept and the result is flagged (``clean 0/20`` in the output);
  * a ratio is the median of the per-round ratios, which cancels most of the drift a noisy machine adds.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

import numpy as np


def parser(description):
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads of NumPy (threadpoolctl) and torch.set_num_threads (default: as installed)")
    p.add_argument("--repeats", type=int, default=5, help="clean timed rounds wanted (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed calls of each variant first (default 1)")
    p.add_argument("--quick", action="store_true", help="small workload, 3 rounds: a smoke test, not a measurement")
    p.add_argument("--json", action="store_true", help="print one JSON object with all results as the last line")
    p.add_argument("--no-mallopt", action="store_true",
                   help="leave glibc malloc as it is (default: thetas._runtime.tune_malloc(), as th.fit does)")
    return p


def setup(args):
    """Apply --threads, --quick and --no-mallopt; return the environment description (also printed)."""
    if args.quick:
        args.repeats = min(args.repeats, 3)
    set_threads(args.threads)
    from thetas._runtime import tune_malloc
    mallopt = False if args.no_mallopt else tune_malloc()
    env = environment(mallopt)
    print("#", json.dumps(env))
    return env


def set_threads(n):
    """Limit NumPy's BLAS pool (if threadpoolctl is installed) and torch's intra-op pool to n threads."""
    if n is None:
        return
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=n)  # applies for the rest of the process
    except ImportError:
        print("# threadpoolctl is not installed: NumPy's BLAS threads left as they are "
              "(set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS instead)")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


def environment(mallopt):
    """Versions, BLAS backend, thread counts: enough to tell two results files apart."""
    import thetas
    np.ones((4, 4), np.float32) @ np.ones((4, 4), np.float32)  # loads BLAS, so threadpoolctl can see it
    env = {"python": platform.python_version(), "numpy": np.__version__, "thetas": thetas.__version__,
           "cpus": os.cpu_count(), "mallopt": mallopt}
    try:
        from threadpoolctl import threadpool_info
        env["blas"] = ["%s %s threads=%s" % (d.get("internal_api"), d.get("version"), d.get("num_threads"))
                       for d in threadpool_info()]
    except ImportError:
        pass
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        env.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    return env


# ---------------------------------------------------------------------- timing
def _machine_busy_s():
    """CPU seconds the whole machine has been busy (all cores; idle and iowait excluded), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]
    except OSError:  # not Linux: no filtering, every round counts as clean
        return 0.0
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _own():
    """(CPU seconds, page faults) of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_minflt + r.ru_majflt


def _sample(fn, calls):
    """Run fn ``calls`` times: (seconds per call, foreign cores, page faults per call)."""
    busy0, (cpu0, faults0) = _machine_busy_s(), _own()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    dt = time.perf_counter() - t0
    busy1, (cpu1, faults1) = _machine_busy_s(), _own()
    return dt / calls, max(0.0, (busy1 - busy0) - (cpu1 - cpu0)) / dt, (faults1 - faults0) / calls


def _calls_for(fn, min_time):
    """How many calls make one sample last at least ``min_time`` s (fn has already been warmed up)."""
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time or calls >= 1 << 20:
            return calls
        calls = max(2 * calls, int(calls * 1.2 * min_time / max(dt, 1e-9)))


def time_paired(fns, repeats=5, warmup=1, min_time=0.0, gap=None, max_foreign=0.25):
    """Time the zero-argument callables ``fns`` (name -> fn) in rotation; see the module docstring.

    Returns (seconds, info): ``seconds[name]`` lists seconds per call, one entry per kept round, in round order
    (entry i of two lists comes from the same round); ``info`` has rounds, clean, all_rounds_kept,
    foreign_max (cores) and faults (median page faults per call, per name).
    """
    gap = (0.15 if len(fns) > 1 else 0.0) if gap is None else gap
    calls = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        calls[name] = _calls_for(fn, min_time) if min_time > 0 else 1
    rounds = []
    clean = lambda r: all(foreign < max_foreign for _, foreign, _ in r.values())  # noqa: E731
    while sum(map(clean, rounds)) < repeats and len(rounds) < 4 * repeats:
        r = {}
        for name, fn in fns.items():
            time.sleep(gap)
            r[name] = _sample(fn, calls[name])
        rounds.append(r)
    kept = [r for r in rounds if clean(r)]
    if len(kept) < 3:
        kept = rounds
    seconds = {name: [r[name][0] for r in kept] for name in fns}
    info = {"rounds": len(rounds), "clean": sum(map(clean, rounds)), "all_rounds_kept": kept is rounds,
            "foreign_max": max(r[n][1] for r in kept for n in fns),
            "faults": {name: statistics.median(r[name][2] for r in kept) for name in fns}}
    return seconds, info



def nested_phases(prefixes, repeats, title, warmup=1):
    """Where one step's time goes. ``prefixes`` maps each phase's label to a function that runs the step up to the
    end of that phase (each one a prefix of the next, in order); a phase's time is the difference between the best
    rounds of consecutive prefixes (differences of medians are too noisy). Prints the table under ``title``;
    returns {label: microseconds, ..., "total": the whole step}."""
    seconds, info = time_paired(dict(prefixes), repeats, warmup, min_time=0.2, gap=0.0)
    best = [1e6 * min(seconds[label]) for label in prefixes]
    out = {label: b - before for label, b, before in zip(prefixes, best, [0.0] + best[:-1])}
    out["total"] = best[-1]
    print("\n%s (%s)" % (title, noise_note(info)))
    width = max(map(len, out))
    for label, us in out.items():
        print("  %-*s %7.1f us" % (width, label, us))
    return out


def paired_ratio(a, b):
    """Median over rounds of a[i] / b[i]."""
    return statistics.median(x / y for x, y in zip(a, b))


def noise_note(info):
    note = "%d/%d clean rounds, max foreign load %.2f cores" % (info["clean"], info["rounds"], info["foreign_max"])
    return note + (" (NOISY: all rounds kept)" if info["all_rounds_kept"] else "")


# ---------------------------------------------------------------------- checks and output
def update_error(before, after, reference):
    """max |Δ - Δ_ref| / max |Δ_ref| over all arrays, Δ = after - before: how far one optimizer step is from
    the reference library's step, relative to the step's size."""
    num = max(float(np.abs((a - b) - (r - b)).max()) for b, a, r in zip(before, after, reference))
    den = max(float(np.abs(r - b).max()) for b, r in zip(before, reference))
    return num / den


def print_json(obj):
    """The machine-readable result: one JSON object on the last stdout line."""
    print(json.dumps(obj, sort_keys=True), flush=True)


def train_step(model, opt, loss_fn, xb, yb):
    """One training step as a user writes it; the same code serves thetas and PyTorch."""
    opt.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    opt.step()
    return loss
