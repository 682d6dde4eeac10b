"""The examples run and print what their docstrings promise."""
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def run(name, *args):
    out = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_logistic_regression_three_ways_agree():
    out = run("logistic_regression.py")
    assert "SGD(maximize=True)" in out and "autograd" in out


def test_xor_needs_a_hidden_layer(tmp_path):
    pytest.importorskip("matplotlib")
    out = run("xor.py", "--plot", str(tmp_path / "xor.png"))
    acc = {line.split()[0]: float(line.split()[-1]) for line in out.splitlines() if "accuracy" in line}
    assert acc["logistic"] < 0.7 and acc["linear"] < 0.7 and acc["tanh"] >= 0.95
    assert (tmp_path / "xor.png").stat().st_size > 10_000
