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


# ------------------------------------------------------------------------------- BLAS threads (auto_threads)
@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(_runtime, "usable_cores", lambda: [0, 1])


def test_default_threads_counts_the_idle_cores(two_cores):
    assert _runtime.default_threads(idle=2.0) == 2            # a quiet machine: both cores
    assert _runtime.default_threads(idle=1.75) == 2           # some background noise
    assert _runtime.default_threads(idle=1.0) == 1            # another process holds one core
    assert _runtime.default_threads(idle=1.5) == 1            # a core half busy is not free
    assert _runtime.default_threads(idle=0.0) == 1            # both busy: still one thread, never zero


def test_default_threads_is_one_for_small_work_or_one_core(two_cores, monkeypatch):
    assert _runtime.default_threads(work=_runtime.SMALL_WORK / 2, idle=2.0) == 1
    assert _runtime.default_threads(work=_runtime.SMALL_WORK * 2, idle=2.0) == 2
    monkeypatch.setattr(_runtime, "usable_cores", lambda: [3])
    assert _runtime.default_threads(idle=1.0) == 1


def test_default_threads_without_a_measurement_uses_every_core(two_cores, monkeypatch):
    monkeypatch.setattr(_runtime, "idle_cores", lambda interval=0.05: None)
    assert _runtime.default_threads() == 2


def test_idle_cores_reads_the_ticks_of_this_process_cores(monkeypatch):
    # cpu0 idle for 8 of its 10 ticks, cpu1 for 1 of 10, cpu2 (not ours) for all 10
    reads = iter([{0: (100, 1000), 1: (50, 1000), 2: (0, 1000)}, {0: (108, 1010), 1: (51, 1010), 2: (10, 1010)}])
    monkeypatch.setattr(_runtime, "_cpu_times", lambda: next(reads))
    monkeypatch.setattr(_runtime, "usable_cores", lambda: [0, 1])
    assert _runtime.idle_cores(interval=0) == pytest.approx(2 * 9 / 20)
    monkeypatch.setattr(_runtime, "_cpu_times", lambda: None)             # no /proc/stat
    assert _runtime.idle_cores(interval=0) is None


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="reads /proc/stat")
def test_cpu_times_parses_proc_stat():
    times = _runtime._cpu_times()
    assert set(_runtime.usable_cores()) <= set(times)
    assert all(0 <= idle <= total for idle, total in times.values())
    idle = _runtime.idle_cores(interval=0.05)
    assert idle is None or 0 <= idle <= len(_runtime.usable_cores()) + 1e-9


@pytest.fixture
def blas_restored(monkeypatch):
    pytest.importorskip("threadpoolctl")
    from threadpoolctl import threadpool_limits
    monkeypatch.setattr(_runtime, "_explicit", False)
    for name in _runtime.THREAD_ENV:
        monkeypatch.delenv(name, raising=False)
    before = _runtime.blas_threads()
    yield
    threadpool_limits(limits=before, user_api="blas")


def test_auto_threads_applies_the_default(blas_restored, monkeypatch):
    for n in (2, 1):
        monkeypatch.setattr(_runtime, "default_threads", lambda work=None, idle=None, n=n: n)
        assert _runtime.auto_threads() == n == _runtime.blas_threads()


def test_auto_threads_leaves_an_explicit_choice_alone(blas_restored, monkeypatch):
    monkeypatch.setattr(_runtime, "default_threads", lambda work=None, idle=None: 2)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")                   # the user's variable
    before = _runtime.blas_threads()
    assert _runtime.auto_threads() == before
    monkeypatch.delenv("OPENBLAS_NUM_THREADS")
    assert _runtime.set_num_threads(1) and _runtime.blas_threads() == 1      # --threads 1
    assert _runtime.auto_threads() == 1
    with pytest.raises(ValueError, match="at least 1"):
        _runtime.set_num_threads(0)


def test_blas_library_names_the_kernel(blas_restored):
    name = _runtime.blas_library()
    assert name is None or "threads" in name


def test_cli_threads_option(monkeypatch, capsys):
    from thetas.cli import main
    from thetas.cli.common import set_threads
    calls = []
    monkeypatch.setattr(_runtime, "auto_threads", lambda work=None: calls.append("auto"))
    monkeypatch.setattr(_runtime, "set_num_threads", lambda n: calls.append(n))
    for threads in (None, 0, 3):
        set_threads(type("Args", (), {"threads": threads})())
    assert calls == ["auto", "auto", 3]
    assert main(["train", "xor", "--threads", "-1", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "--threads" in err and err.count("\n") == 1


def test_thetas_train_gives_a_small_model_one_thread(monkeypatch):
    """Without --threads, `thetas train digits` (an MLP of 19,210 weights) asks for the threads of a small step's
    work, which default_threads answers with 1; a LeNet's work is left to the idle cores (None)."""
    from thetas import _runtime
    from thetas.cli import main
    from thetas.cli import train as cli_train
    asked = []
    monkeypatch.setattr(_runtime, "auto_threads", lambda work=None: asked.append(work))
    assert main(["train", "digits", "--epochs", "1", "--quiet"]) == 0
    assert asked[-1] is not None and asked[-1] < _runtime.SMALL_WORK
    assert _runtime.default_threads(asked[-1], idle=2.0) == 1
    from thetas.models import LeNet
    assert cli_train.step_work(LeNet(), 64) is None


def test_the_thread_count_is_public_under_torchs_names(blas_restored):
    pytest.importorskip("threadpoolctl")
    import thetas as th
    assert th.set_num_threads is _runtime.set_num_threads and th.get_num_threads() == _runtime.blas_threads()
    assert th.set_num_threads(1) and th.get_num_threads() == 1
    with pytest.raises(ValueError, match="at least 1"):
        th.set_num_threads(0)
