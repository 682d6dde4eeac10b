"""thetas._runtime.tune_malloc: glibc keeps freed memory, so a training loop stops page-faulting every step."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from thetas import _runtime

linux_glibc = pytest.mark.skipif(_runtime._glibc() is None, reason="mallopt tuning needs glibc (Linux)")

# In a fresh interpreter: optionally tune, then allocate 20 arrays of 1 MiB and free them together, 20 times.
# Untuned glibc hands the freed 20 MiB at the top of the heap back to the OS after each round (it is above the
# trim threshold), so every round page-faults all 5,120 pages in again.
CHURN = """
import json, resource, sys
import numpy as np
from thetas._runtime import tune_malloc
applied = tune_malloc() if sys.argv[1] == "tune" else None
def churn():
    arrays = [np.ones(1 << 18, np.float32) for _ in range(20)]
    del arrays
for _ in range(3):
    churn()
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    churn()
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 20
print(json.dumps({"applied": applied, "faults_per_round": faults}))
"""
PAGES_PER_ROUND = 20 * (1 << 20) // 4096


def _churn(mode, **env):
    out = subprocess.run([sys.executable, "-c", CHURN, mode], capture_output=True, text=True, timeout=60,
                         env={**os.environ, **env}, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh_state(monkeypatch):
    monkeypatch.setattr(_runtime, "_applied", False)
    monkeypatch.delenv("THETAS_NO_MALLOPT", raising=False)


@linux_glibc
def test_applies_on_glibc_and_is_idempotent(monkeypatch):
    _fresh_state(monkeypatch)
    assert _runtime.tune_malloc() is True
    assert _runtime._applied is True
    assert _runtime.tune_malloc() is True  # second call: already in effect, nothing re-applied


@linux_glibc
def test_second_call_does_not_call_mallopt_again(monkeypatch):
    _fresh_state(monkeypatch)
    calls = []
    real = _runtime._glibc

    def counting():
        calls.append(1)
        return real()
    monkeypatch.setattr(_runtime, "_glibc", counting)
    assert _runtime.tune_malloc() and _runtime.tune_malloc() and _runtime.tune_malloc()
    assert len(calls) == 1


def test_environment_variable_disables_it(monkeypatch):
    _fresh_state(monkeypatch)
    monkeypatch.setenv("THETAS_NO_MALLOPT", "1")
    assert _runtime.tune_malloc() is False
    assert _runtime._applied is False


def test_no_op_without_glibc(monkeypatch):
    _fresh_state(monkeypatch)
    monkeypatch.setattr(_runtime, "_glibc", lambda: None)
    assert _runtime.tune_malloc() is False


@linux_glibc
def test_tuned_process_reuses_freed_memory():
    tuned = _churn("tune")
    assert tuned["applied"] is True
    assert tuned["faults_per_round"] < 0.01 * PAGES_PER_ROUND, tuned


@linux_glibc
def test_disabled_in_a_fresh_process():
    off = _churn("tune", THETAS_NO_MALLOPT="1")
    assert off["applied"] is False


@linux_glibc
def test_numpy_still_correct_after_tuning(monkeypatch):
    _fresh_state(monkeypatch)
    _runtime.tune_malloc()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 200)).astype(np.float32)
    b = rng.standard_normal((200, 100)).astype(np.float32)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    for _ in range(5):
        big = [np.empty(1 << 20, np.float32) for _ in range(8)]  # allocation churn between products
        del big
        np.testing.assert_allclose(a @ b, expected, rtol=1e-4, atol=1e-4)
