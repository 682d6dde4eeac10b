"""Process-level settings that make a NumPy training loop faster.

A training step allocates and frees the same temporaries (activations, gradients) again and again, each tens
to hundreds of KiB. glibc's malloc serves blocks above its mmap threshold (128 KiB at start) with fresh
``mmap`` pages, and hands the top of the heap back to the OS once more than its trim threshold is free. Either
way the next step touches new pages, and the kernel zero-fills each one on a page fault: hundreds of faults
a step, time that shows up as ``sys`` time instead of arithmetic. Keeping freed memory in the process (the
``MALLOC_TRIM_THRESHOLD_`` / ``MALLOC_MMAP_THRESHOLD_`` environment variables, set here from inside Python)
removes that cost; the price is that the process keeps its peak heap until it exits.
"""
import os
import sys

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD = 1 << 30  # keep up to 1 GiB of free heap instead of returning it to the OS
MMAP_THRESHOLD = 32 << 20  # blocks below 32 MiB (glibc's maximum) come from the reusable heap, not mmap

_applied = False


def _glibc():
    """The C library if it is glibc (the only one whose mallopt takes these parameters), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        import ctypes
        return ctypes.CDLL("libc.so.6")
    except (ValueError, OSError):  # confstr name unknown (musl) or no libc.so.6
        return None


def tune_malloc():
    """Tell glibc's malloc to keep freed memory: ``mallopt(M_TRIM_THRESHOLD, 1 GiB)`` and
    ``mallopt(M_MMAP_THRESHOLD, 32 MiB)``, so a training loop reuses its temporaries' pages instead of
    page-faulting fresh ones every step.

    Applied at most once per process. A no-op (returns False) on platforms without glibc, or when the
    environment variable ``THETAS_NO_MALLOPT=1`` is set before the first call. Returns whether the tuning is
    in effect.
    """
    global _applied
    if _applied:
        return True
    if os.environ.get("THETAS_NO_MALLOPT") == "1":
        return False
    libc = _glibc()
    if libc is None:
        return False
    # mallopt returns 1 on success, 0 when glibc rejects the value
    _applied = bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(libc.mallopt(_M_MMAP_THRESHOLD,
                                                                                         MMAP_THRESHOLD))
    return _applied


_limiter = None
_explicit = False  # set_num_threads(n) was called: an automatic choice must not override it
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
SMALL_WORK = 1e7  # multiply-adds per training step below which a second BLAS thread cannot pay (digits MLP: 2e6)


def set_num_threads(n):
    """Use ``n`` threads in NumPy's BLAS (OpenBLAS, MKL) from now on, through threadpoolctl; returns whether it
    took effect.

    Why it matters: OpenBLAS threads wait for each other by spinning, so when other processes already keep the
    cores busy, a 2-thread matrix product can take 10-100x longer than a 1-thread one. On a busy machine, or when
    several trainings share it, ``set_num_threads(1)`` (``thetas train --threads 1``) is the remedy; without
    ``--threads`` the commands call ``auto_threads`` instead.
    """
    global _limiter, _explicit
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: the number of threads must be at least 1, got {n}")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    import numpy  # noqa: F401  (threadpoolctl sees only the libraries already loaded)
    _limiter = threadpool_limits(limits=n, user_api="blas")
    _explicit = True
    return True


def usable_cores():
    """The CPUs this process may run on (its affinity set; ``os.cpu_count()`` where the platform has none)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def _cpu_times():
    """{cpu index: (idle ticks, all ticks)} from /proc/stat (idle counts iowait too), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            lines = [line.split() for line in f if line.startswith("cpu") and line[3:4].isdigit()]
        # fields: user nice system idle iowait irq softirq steal (guest time is already inside user)
        return {int(p[0][3:]): (int(p[4]) + int(p[5]), sum(int(v) for v in p[1:9])) for p in lines}
    except (OSError, ValueError, IndexError):
        return None


def idle_cores(interval=0.05):
    """How many of this process's cores sat idle over the next ``interval`` seconds: the sum over its CPUs of
    idle ticks / all ticks in /proc/stat, between two reads ``interval`` s apart (during which this process
    sleeps, so the busy time is other processes'). None where /proc/stat cannot tell (not Linux, or no tick
    counted in the interval)."""
    import time
    before = _cpu_times()
    if before is None:
        return None
    time.sleep(interval)
    after = _cpu_times() or {}
    idle = total = 0
    for cpu in usable_cores():
        if cpu in before and cpu in after:
            idle += after[cpu][0] - before[cpu][0]
            total += after[cpu][1] - before[cpu][1]
    cores = len([c for c in usable_cores() if c in before])
    return None if total <= 0 or cores == 0 else cores * idle / total


def default_threads(work=None, idle=None):
    """The BLAS thread count thetas picks when the user gives none.

    1 when ``work`` (the multiply-adds of one training step, if known) is under ``SMALL_WORK``: a small model's
    matrix products take microseconds, so splitting them gains less than the threads' hand-over costs. Otherwise
    the cores that are actually free: a core counts when it is at least 70 % idle (``int(idle + 0.3)`` of
    ``idle_cores()``, sampled if not given), at least 1 and at most ``len(usable_cores())``. A core that another
    process keeps busy is not free: an OpenBLAS thread that has to share it makes every matrix product wait for
    its time slice (``thetas train mnist --model lenet --epochs 1`` took 120-360 s with 2 threads beside a busy
    core, 19 s with 1). Where idleness cannot be measured: every usable core, BLAS's own default.
    """
    cores = len(usable_cores())
    if cores <= 1 or (work is not None and work < SMALL_WORK):
        return 1
    if idle is None:
        idle = idle_cores()
    if idle is None:
        return cores
    return max(1, min(cores, int(idle + 0.3)))


def auto_threads(work=None):
    """Apply ``default_threads(work)`` to NumPy's BLAS, unless the thread count was already chosen: by
    ``set_num_threads`` in this process, or by an ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` /
    ``MKL_NUM_THREADS`` / ``BLIS_NUM_THREADS`` environment variable (the user's word wins). Returns the BLAS
    thread count now in effect (None without threadpoolctl)."""
    global _limiter
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return None
    import numpy  # noqa: F401  (threadpoolctl sees only the libraries already loaded)
    if not _explicit and not any(os.environ.get(k) for k in THREAD_ENV):
        _limiter = threadpool_limits(limits=default_threads(work), user_api="blas")
    return blas_threads(threadpool_info())


def get_num_threads():
    """The number of threads NumPy's BLAS uses now (``th.get_num_threads()``, as ``torch.get_num_threads()``);
    None when threadpoolctl cannot tell."""
    return blas_threads()


def blas_threads(info=None):
    """The thread count of NumPy's BLAS now (the largest over its libraries), or None without threadpoolctl."""
    if info is None:
        try:
            from threadpoolctl import threadpool_info
        except ImportError:
            return None
        info = threadpool_info()
    counts = [i["num_threads"] for i in info if i.get("user_api") == "blas"]
    return max(counts) if counts else None


def blas_library():
    """Which BLAS NumPy uses, as threadpoolctl reports it: 'openblas 0.3.31 Haswell pthreads, 2 threads', or
    None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    import numpy  # noqa: F401  (threadpoolctl sees only the libraries already loaded)
    return "; ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture') or ''} "
                     f"{i.get('threading_layer') or ''}, {i['num_threads']} threads".replace("  ", " ")
                     for i in threadpool_info() if i.get("user_api") == "blas") or None
