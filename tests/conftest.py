"""Shared test set-up: one BLAS thread, matplotlib off screen (Agg), and every test's figures closed after it.

One BLAS thread, for this process and (through the environment) every command a test starts: the tests' matrix
products are small, so a second thread gains nothing, and on a machine whose cores are busy with other work
OpenBLAS threads that wait for each other by spinning make the suite many times slower. A variable the user set
(``OPENBLAS_NUM_THREADS=4 pytest``) is kept.
"""
import os
import sys

import pytest

ONE_THREAD = "OPENBLAS_NUM_THREADS" not in os.environ     # the user did not choose: one thread
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    # NumPy may already be loaded (by a plugin) with its thread count read: limit the running pool too
    if not ONE_THREAD:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    import numpy  # noqa: F401  (threadpoolctl sees only the libraries already loaded)
    config._thetas_blas_limit = threadpool_limits(limits=1, user_api="blas")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
