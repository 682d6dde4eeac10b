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


def set_num_threads(n):
    """Use ``n`` threads in NumPy's BLAS (OpenBLAS, MKL) from now on, through threadpoolctl; returns whether it
    took effect.

    Why it matters: OpenBLAS threads wait for each other by spinning, so when other processes already keep the
    cores busy, a 2-thread matrix product can take 10-100x longer than a 1-thread one. On a busy machine, or when
    several trainings share it, ``set_num_threads(1)`` (``thetas train --threads 1``) is the remedy.
    """
    global _limiter
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    _limiter = threadpool_limits(limits=int(n), user_api="blas")
    return True
