"""The lecture's notebooks (``notebooks/*.ipynb``): committed without outputs, and each executes top to bottom.

They run in their fast mode (``THETAS_FAST=1``: fewer epochs, less data), in a fresh Jupyter kernel of this Python,
from the notebooks' folder. Each notebook asserts its own claims in its cells (820 parameters, the gradient
agreement, 99.5 %, the M&Ms minimisers, ...), so a notebook whose numbers drift fails here.
"""
import json
import os
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_lecture_has_its_notebooks():
    assert len(PATHS) >= 1, f"no notebook in {NOTEBOOKS}"
    names = [p.name for p in PATHS]
    assert names == sorted(names) and all(n[:2].isdigit() and n[2] == "_" for n in names), names


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {i} carries outputs: clear them before committing"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_runs_top_to_bottom_in_fast_mode(path, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("THETAS_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("THETAS_NOTEBOOK_OUT", str(tmp_path))     # where a notebook may write its files
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:     # the cell's source and traceback, shortened
        pytest.fail(f"{path.name}: {str(error)[-3000:]}", pytrace=False)
    assert os.environ["THETAS_FAST"] == "1"
