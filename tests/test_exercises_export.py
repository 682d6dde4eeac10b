"""The checks of notebooks/12_export.ipynb's exercises accept right answers and reject wrong ones with a hint."""
import numpy as np
import pytest

import thetas as th
from thetas.exercises import export as ex

RIGHT = {"th.nn.Linear": "torch.nn.Linear", "th.nn.Conv2d": "nn.Conv2d", "th.nn.MaxPool2d": "MaxPool2d",
         "th.nn.LSTM": "torch.nn.LSTM", "th.models.MLP": "torch.nn.Sequential",
         "th.models.LogisticRegression": "LogisticRegression"}


def test_torch_names():
    assert ex.check_torch_names(RIGHT)
    assert ex.check_torch_names({k: v.lower() for k, v in RIGHT.items()})
    v = ex.check_torch_names({**RIGHT, "th.models.MLP": "torch.nn.MLP"})
    assert not v and "container" in v.message and "1 of 6" in v.message
    v = ex.check_torch_names({**RIGHT, "th.models.LogisticRegression": "nn.Linear"})
    assert not v and "to_torch" in v.message
    v = ex.check_torch_names({**RIGHT, "th.nn.Conv2d": "nn.Conv1d"})
    assert not v and "th.nn.Conv2d" in v.message
    v = ex.check_torch_names({k: v for k, v in RIGHT.items() if k != "th.nn.LSTM"})
    assert not v and "missing" in v.message
    v = ex.check_torch_names(["Linear"])
    assert not v and "dict" in v.message
    v = ex.check_torch_names(None)
    assert not v and "None" in v.message


def test_torch_names_are_the_exporter_s():
    torch = pytest.importorskip("torch")
    made = {"th.nn.Linear": th.nn.Linear(3, 2), "th.nn.Conv2d": th.nn.Conv2d(1, 2, 3),
            "th.nn.MaxPool2d": th.nn.MaxPool2d(2), "th.nn.LSTM": th.nn.LSTM(3, 4, batch_first=True),
            "th.models.MLP": th.models.MLP([4, 8, 3]), "th.models.LogisticRegression": th.models.LogisticRegression(4)}
    translated = {k: th.export.to_torch(m) for k, m in made.items()}
    assert all(isinstance(t, torch.nn.Module) for t in translated.values())
    assert ex.check_torch_names(translated)                       # instances are accepted
    assert ex.check_torch_names({k: type(t) for k, t in translated.items()})   # and classes


def test_state_dict_bytes():
    n = th.models.MLP(list(ex.MLP_SIZES)).num_parameters()
    assert ex.check_state_dict_bytes(4 * n)
    assert ex.check_state_dict_bytes(np.int64(4 * n))
    assert ex.check_state_dict_bytes(1_077_288)
    v = ex.check_state_dict_bytes(n)
    assert not v and "number of thetas" in v.message
    v = ex.check_state_dict_bytes(8 * n)
    assert not v and "float64" in v.message
    v = ex.check_state_dict_bytes(32 * n)
    assert not v and "bits" in v.message
    v = ex.check_state_dict_bytes(4 * (784 * 256 + 256 * 256 + 256 * 10))
    assert not v and "biases" in v.message
    v = ex.check_state_dict_bytes(1_077.288)
    assert not v and "exact" in v.message
    v = ex.check_state_dict_bytes(1_000_000)
    assert not v and "layer by layer" in v.message
    v = ex.check_state_dict_bytes(None)
    assert not v and "None" in v.message
    v = ex.check_state_dict_bytes("big")
    assert not v and "number" in v.message
