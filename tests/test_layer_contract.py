"""The contract every layer and model of thetas keeps, checked once for all of them (in place of per-layer copies).

``CASES`` names a small instance and an example input for every ``thetas.nn.Module`` class that thetas defines
(``test_every_module_class_has_a_case`` fails when a new class has none, so no layer skips the contract). For every
case:

  * forward in float32 and in float64: the output's dtype follows the layer's;
  * ``state_dict()`` -> ``load_state_dict()`` into a fresh instance gives the same state and the same outputs;
  * ``build(config())`` (through JSON) rebuilds the same class with the same config, state keys, shapes and dtypes,
    and, with the state loaded, the same outputs; ``th.save`` / ``th.load`` through a file does the same and keeps
    the dtype (float32 and float64);
  * ``train()`` / ``eval()`` reach every submodule; in eval mode a forward is repeatable and changes no state;
    layers with dropout or batch statistics differ between the modes, the others do not;
  * ``repr()`` names the class; ``parameters()`` is exactly the Parameters of ``named_parameters()`` and every
    Parameter held by any module; ``state_dict()`` is the parameters and the buffers, as copies;
  * ``backward()`` from a scalar of the output fills every parameter's ``.grad`` with its shape and dtype;
  * ``th.gradcheck`` (float64, central differences) on the parameters, and on the input where it is a float.
"""
import importlib
import json
import pkgutil
from typing import Callable, NamedTuple

import numpy as np
import pytest

import thetas as th
from thetas.nn.module import Module, Parameter, _registry, build


class Case(NamedTuple):
    make: Callable              # () -> a fresh Module, in the current default dtype (seeded: the same thetas)
    input: Callable             # (dtype) -> the forward's positional arguments, or None: the module has no forward
    modes_differ: bool = False  # train() and eval() give different outputs (dropout, batch statistics)
    kwargs: dict = {}           # keyword arguments of the forward (sequence lengths)


def floats(*shape, seed=0):
    """Random inputs in [−1.5, 1.5] of ``shape``, in the dtype asked for."""
    def make(dtype):
        return (np.random.default_rng(seed).uniform(-1.5, 1.5, shape).astype(dtype),)
    return make


def dkt_input(dtype):
    """Two students: 4 and 3 answers ([question, answer] pairs, question −1 after the end)."""
    q = np.array([[0, 2, 1, 2], [1, 1, 0, -1]])
    a = np.array([[1, 0, 1, 1], [0, 1, 1, 0]])
    return (np.stack([q, a], axis=-1),)          # (B, T, 2) int64, as th.models.dkt_batch makes it


nn, models = th.nn, th.models
IMAGES = floats(2, 2, 5, 6)       # (N, C, H, W)
SEQ = floats(2, 4, 3)             # (B, T, D)
SEQ_T = floats(4, 2, 3, seed=1)   # (T, B, D): batch_first=False
STEP = floats(2, 3)               # (B, D)

CASES = {
    # ------------------------------------------------------------------ activations and shape layers
    "Sigmoid": Case(nn.Sigmoid, floats(3, 4)),
    "Tanh": Case(nn.Tanh, floats(3, 4)),
    "ReLU": Case(nn.ReLU, floats(3, 4)),
    "LeakyReLU": Case(lambda: nn.LeakyReLU(0.2), floats(3, 4)),
    "Softmax": Case(lambda: nn.Softmax(dim=1), floats(3, 4)),
    "LogSoftmax": Case(lambda: nn.LogSoftmax(dim=0), floats(3, 4)),
    "Identity": Case(nn.Identity, floats(3, 4)),
    "Flatten": Case(nn.Flatten, IMAGES),
    "Flatten-start_dim": Case(lambda: nn.Flatten(start_dim=2), IMAGES),
    "MaxPool2d": Case(lambda: nn.MaxPool2d(2), IMAGES),
    "MaxPool2d-stride-padding": Case(lambda: nn.MaxPool2d(3, stride=2, padding=1), IMAGES),
    "AvgPool2d": Case(lambda: nn.AvgPool2d(2), IMAGES),
    "AvgPool2d-rectangular": Case(lambda: nn.AvgPool2d((2, 1), stride=(1, 2)), IMAGES),
    "Dropout": Case(lambda: nn.Dropout(0.5, generator=0), floats(4, 6), modes_differ=True),
    "Dropout-p0": Case(lambda: nn.Dropout(0.0), floats(4, 6)),
    # ------------------------------------------------------------------ layers with thetas or state
    "Linear": Case(lambda: nn.Linear(3, 4, generator=0), floats(5, 3)),
    "Linear-no-bias-3d": Case(lambda: nn.Linear(3, 2, bias=False, generator=0), floats(2, 4, 3)),
    "Conv2d": Case(lambda: nn.Conv2d(2, 3, 3, generator=0), IMAGES),
    "Conv2d-stride-padding-no-bias": Case(lambda: nn.Conv2d(2, 3, (3, 2), stride=2, padding=1, bias=False,
                                                            generator=0), IMAGES),
    "Conv2d-same": Case(lambda: nn.Conv2d(2, 2, 3, padding="same", generator=0), IMAGES),
    "BatchNorm1d": Case(lambda: nn.BatchNorm1d(3), floats(6, 3), modes_differ=True),
    "BatchNorm1d-NCL-no-affine": Case(lambda: nn.BatchNorm1d(3, affine=False, momentum=0.5), floats(4, 3, 5),
                                      modes_differ=True),
    "BatchNorm2d": Case(lambda: nn.BatchNorm2d(2, eps=1e-3), IMAGES, modes_differ=True),
    "Standardize": Case(lambda: nn.Standardize([1.0, 2.0, -3.0], [2.0, 0.0, 4.0]), floats(4, 3)),
    "L2Normalize": Case(lambda: nn.L2Normalize(2.5), floats(4, 3)),
    "L2Normalize-images": Case(nn.L2Normalize, IMAGES),
    # ------------------------------------------------------------------ recurrent: cells and layers
    "RNNCell": Case(lambda: nn.RNNCell(3, 4, generator=0), STEP),
    "RNNCell-relu-no-bias": Case(lambda: nn.RNNCell(3, 4, bias=False, nonlinearity="relu", generator=0), STEP),
    "LSTMCell": Case(lambda: nn.LSTMCell(3, 4, generator=0), STEP),
    "GRUCell": Case(lambda: nn.GRUCell(3, 4, generator=0), STEP),
    "RNN": Case(lambda: nn.RNN(3, 4, generator=0), SEQ),
    "RNN-2-layers-time-first-dropout-lengths": Case(lambda: nn.RNN(3, 4, num_layers=2, batch_first=False,
                                                                   dropout=0.25, generator=0), SEQ_T,
                                                    modes_differ=True, kwargs={"lengths": [4, 2]}),
    "RNN-relu-2-layers-time-first-dropout-lengths": Case(lambda: nn.RNN(3, 4, num_layers=2, nonlinearity="relu",
                                                                        batch_first=False, dropout=0.3, generator=0),
                                                         SEQ_T, modes_differ=True, kwargs={"lengths": [2, 3]}),
    "LSTM": Case(lambda: nn.LSTM(3, 4, generator=0), SEQ),
    "LSTM-2-layers-time-first": Case(lambda: nn.LSTM(3, 4, num_layers=2, batch_first=False, generator=0), SEQ_T),
    "LSTM-2-layers-time-first-dropout-lengths": Case(lambda: nn.LSTM(3, 4, num_layers=2, batch_first=False,
                                                                     dropout=0.25, generator=0), SEQ_T,
                                                     modes_differ=True, kwargs={"lengths": [3, 4]}),
    "GRU": Case(lambda: nn.GRU(3, 4, generator=0), SEQ),
    "GRU-2-layers-no-bias": Case(lambda: nn.GRU(3, 4, num_layers=2, bias=False, generator=0), SEQ),
    "GRU-2-layers-time-first-dropout-lengths": Case(lambda: nn.GRU(3, 4, num_layers=2, batch_first=False,
                                                                   dropout=0.25, generator=0), SEQ_T,
                                                    modes_differ=True, kwargs={"lengths": [1, 4]}),
    # ------------------------------------------------------------------ containers
    "Sequential": Case(lambda: nn.Sequential(nn.Linear(3, 4, generator=0), nn.ReLU(), nn.Linear(4, 2, generator=1)),
                       floats(5, 3)),
    "Sequential-batchnorm-dropout": Case(lambda: nn.Sequential(
        nn.Standardize([0.5, 0.0, -0.5], [1.0, 2.0, 0.5]), nn.Linear(3, 4, generator=0), nn.BatchNorm1d(4),
        nn.Tanh(), nn.Dropout(0.5, generator=0), nn.Linear(4, 2, generator=1)), floats(6, 3), modes_differ=True),
    "Sequential-appended": Case(lambda: nn.Sequential(nn.Conv2d(2, 2, 3, generator=0)).append(nn.ReLU())
                                .append(nn.Flatten()).append(nn.Linear(24, 3, generator=1)), IMAGES),
    "ModuleList": Case(lambda: nn.ModuleList([nn.Linear(2, 3, generator=0), nn.Tanh(),
                                              nn.ModuleList([nn.BatchNorm1d(3)])]), None),
    # ------------------------------------------------------------------ models
    "LogisticRegression": Case(lambda: models.LogisticRegression(4, generator=0), floats(5, 4)),
    "LogisticRegression-softmax-no-bias": Case(lambda: models.LogisticRegression(4, num_classes=3, bias=False,
                                                                                 generator=0), floats(5, 4)),
    "MLP": Case(lambda: models.MLP([3, 5, 2], generator=0), floats(4, 3)),
    "MLP-tanh-dropout": Case(lambda: models.MLP([3, 5, 4, 2], activation="tanh", dropout=0.3, generator=0),
                             floats(4, 3), modes_differ=True),
    "MLP-DQN-Q-network": Case(lambda: th.rl.DQN(4, 2, hidden=(6, 5), seed=0).q, floats(3, 4)),
    "LeNet": Case(lambda: models.LeNet(num_classes=3, image_size=8, channels=(2, 3), hidden=(5,), kernel_size=3,
                                       generator=0), floats(2, 1, 8, 8)),
    "LeNet-small-images-dropout": Case(lambda: models.LeNet(image_size=8, kernel_size=3, channels=(4, 8),
                                                            hidden=(32,), dropout=0.2, generator=0),
                                       floats(3, 1, 8, 8), modes_differ=True),
    "LeNet-flat-rows-tanh-avg-dropout": Case(lambda: models.LeNet(num_classes=3, image_size=8, channels=(2, 3),
                                                                  hidden=(6, 4), kernel_size=3, activation="tanh",
                                                                  pool="avg", dropout=0.2, generator=0),
                                             floats(3, 64), modes_differ=True),
    "Autoencoder": Case(lambda: models.Autoencoder(6, hidden=5, k=2, generator=0), floats(4, 6)),
    "Autoencoder-images-normalised-noise": Case(lambda: models.Autoencoder(60, hidden=4, k=3, scale=2.0, noise=0.5,
                                                                           generator=0), IMAGES, modes_differ=True),
    "Autoencoder-dense": Case(lambda: models.Autoencoder(6, hidden=3, k=None, generator=0), floats(4, 6)),
    "DKT": Case(lambda: models.DKT(3, hidden_size=4, generator=0), dkt_input),
    "DKT-gru-projection-dropout": Case(lambda: models.DKT(3, hidden_size=4, cell="gru", projection=5, dropout=0.3,
                                                          generator=0), dkt_input, modes_differ=True),
    "DKT-rnn-2-layers": Case(lambda: models.DKT(3, hidden_size=4, cell="rnn", num_layers=2, generator=0),
                             dkt_input),
}
ABSTRACT = {"_Pool2d", "_BatchNorm", "_Cell", "_Recurrent"}   # shared bases with no forward of their own
NAMES = list(CASES)
FORWARD = [n for n in NAMES if CASES[n].input is not None]
DTYPES = [np.float32, np.float64]


# ---------------------------------------------------------------------- helpers
class default_dtype:
    """``with default_dtype(np.float64):`` build layers in that dtype, and put the old default back after."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def __enter__(self):
        self.old = th.get_default_dtype()
        th.set_default_dtype(self.dtype)

    def __exit__(self, *exc):
        th.set_default_dtype(self.old)


def make(name, dtype=np.float32):
    with default_dtype(dtype):
        return CASES[name].make()


def inputs(name, dtype=np.float32):
    return CASES[name].input(dtype)


def tensors(out):
    """Every Tensor of a forward's output, in order: (h, c), (output, (h_n, c_n)) and plain outputs alike."""
    if isinstance(out, th.Tensor):
        return [out]
    assert isinstance(out, (tuple, list)), f"a forward returned a {type(out).__name__}"
    return [t for o in out for t in tensors(o)]


def outputs(model, args, kwargs=None):
    return [t.data.copy() for t in tensors(model(*args, **(kwargs or {})))]


def run(model, name, dtype=np.float32):
    """The outputs of ``model`` on the example input of case ``name`` (with its keyword arguments), as arrays."""
    return outputs(model, inputs(name, dtype), CASES[name].kwargs)


def assert_same_outputs(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


def assert_same_state(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def scramble(model, seed=1):
    """Every Parameter and Buffer moved away from its initial value (positive ones stay positive: variances,
    std), so that a state that fails to travel cannot pass for the fresh one."""
    rng = np.random.default_rng(seed)
    for _, t in list(model.named_parameters()) + list(model.named_buffers()):
        if t.data.dtype.kind == "f":
            t.data[...] = t.data * rng.uniform(0.5, 1.5, t.shape) + rng.uniform(0.05, 0.2, t.shape)
    return model


def weighted_sum(out, _=None):
    """Σ out · r over every output Tensor, r fixed per shape: a scalar that every output entry moves (a plain sum
    of a softmax would be constant)."""
    total = None
    for t in tensors(out):
        r = np.random.default_rng(t.data.size).standard_normal(t.shape).astype(t.dtype)
        s = (t * r).sum()
        total = s if total is None else total + s
    return total


def all_thetas_modules():
    """Every Module class defined in the thetas package (all of it imported), by name."""
    for info in pkgutil.walk_packages(th.__path__, "thetas."):
        if not info.name.endswith("__main__"):      # running it would start the CLI
            importlib.import_module(info.name)
    found, todo = {}, [Module]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("thetas."):
                found.setdefault(sub.__name__, set()).add(sub)
    for name, cls in _registry.items():
        if cls.__module__.startswith("thetas."):
            found.setdefault(name, set()).add(cls)
    return found


# ---------------------------------------------------------------------- the registry of cases is complete
def test_every_module_class_has_a_case():
    found = all_thetas_modules()
    assert all(len(classes) == 1 for classes in found.values()), \
        f"two thetas Module classes share a name (th.load could not tell them apart): {found}"
    covered = {type(make(n)).__name__ for n in NAMES}
    missing = sorted(set(found) - covered - ABSTRACT)
    assert not missing, f"Module classes without a case in CASES (add a small instance and an input): {missing}"
    assert ABSTRACT <= set(found), f"ABSTRACT names classes that no longer exist: {sorted(ABSTRACT - set(found))}"
    assert not ABSTRACT & covered


def test_scramble_moves_every_tensor_of_every_case():
    for name in NAMES:
        model = make(name)
        before = model.state_dict()
        after = scramble(make(name)).state_dict()
        for k in before:
            assert not np.array_equal(before[k], after[k]), (name, k)


# ---------------------------------------------------------------------- forward, dtype
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", FORWARD)
def test_forward_output_dtype_follows_the_layer(name, dtype):
    model = make(name, dtype)
    for t in list(model.parameters()) + [b for _, b in model.named_buffers()]:
        assert t.dtype == dtype or t.dtype.kind != "f"
    outs = tensors(model(*inputs(name, dtype), **CASES[name].kwargs))
    assert outs and all(t.dtype == dtype for t in outs)
    assert all(np.isfinite(t.data).all() for t in outs)
    tensor_args = [th.tensor(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                   for a in inputs(name, dtype)]
    assert all(t.dtype == dtype for t in tensors(model(*tensor_args, **CASES[name].kwargs)))   # Tensors in, too


# ---------------------------------------------------------------------- state
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_into_a_fresh_instance(name):
    model = scramble(make(name)).eval()
    state = model.state_dict()
    assert list(state) == [k for k, _ in model.named_parameters()] + [k for k, _ in model.named_buffers()]
    for arr in state.values():                             # copies: changing them leaves the model alone
        arr.fill(0)
    assert_same_state(model.state_dict(), scramble(make(name)).state_dict())

    fresh = make(name).eval()
    assert fresh.load_state_dict(model.state_dict()) == ([], [])
    assert_same_state(fresh.state_dict(), model.state_dict())
    if CASES[name].input is not None:
        if state:
            assert not all(np.array_equal(a, b) for a, b in zip(run(make(name).eval(), name), run(model, name)))
        assert_same_outputs(run(fresh, name), run(model, name))


@pytest.mark.parametrize("name", NAMES)
def test_build_from_config_rebuilds_the_same_module(name):
    model = scramble(make(name)).eval()
    config = model.config()
    assert config["class"] == type(model).__name__
    assert json.loads(json.dumps(config)) == config        # JSON, as th.save stores it
    again = build(json.loads(json.dumps(config)))
    assert type(again) is type(model) and again.config() == config
    assert again.training                                  # a fresh module trains
    assert {k: (v.shape, v.dtype) for k, v in again.state_dict().items()} == \
        {k: (v.shape, v.dtype) for k, v in model.state_dict().items()}
    assert [n for n, _ in again.named_modules()] == [n for n, _ in model.named_modules()]
    again.load_state_dict(model.state_dict())
    again.eval()
    if CASES[name].input is not None:
        assert_same_outputs(run(again, name), run(model, name))


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(name, dtype, tmp_path):
    model = scramble(make(name, dtype)).eval()
    th.save(model, tmp_path / "model.safetensors")
    again = th.load(tmp_path / "model.safetensors")        # loaded in the float32 default, whatever was saved
    assert type(again) is type(model) and again is not model and again.config() == model.config()
    assert again.training
    assert_same_state(again.state_dict(), model.state_dict())   # dtypes included: a float64 model stays float64
    again.eval()
    th.save(model.state_dict(), tmp_path / "state.safetensors")   # a plain state dict file into a fresh instance
    fresh = make(name, dtype)
    fresh.load_state_dict(th.load_state_dict(tmp_path / "state.safetensors"))
    into = th.load_into(make(name, dtype), tmp_path / "model.safetensors")
    assert_same_state(fresh.state_dict(), model.state_dict())
    assert_same_state(into.state_dict(), model.state_dict())
    if CASES[name].input is not None:
        for other in (again, fresh.eval(), into.eval()):
            assert_same_outputs(run(other, name, dtype), run(model, name, dtype))


# ---------------------------------------------------------------------- train / eval
@pytest.mark.parametrize("name", NAMES)
def test_train_and_eval_reach_every_submodule(name):
    model = make(name)
    assert all(m.training for m in model.modules())        # a fresh module trains
    assert model.eval() is model and not any(m.training for m in model.modules())
    assert model.train() is model and all(m.training for m in model.modules())
    assert model.train(False) is model and not any(m.training for m in model.modules())
    model.train()
    with model.evaluating() as same:
        assert same is model and not any(m.training for m in model.modules()) and not th.is_grad_enabled()
    assert all(m.training for m in model.modules()) and th.is_grad_enabled()


@pytest.mark.parametrize("name", FORWARD)
def test_eval_is_repeatable_and_train_differs_only_with_dropout_or_batch_statistics(name):
    model = scramble(make(name))
    model.eval()
    state = model.state_dict()
    first = run(model, name)
    assert_same_outputs(run(model, name), first)             # eval: no randomness, ...
    assert_same_state(model.state_dict(), state)             # ... and no state changes
    model.train()
    trained = run(model, name)
    differs = any(not np.array_equal(a, b) for a, b in zip(trained, first))
    assert differs == CASES[name].modes_differ
    model.eval()
    if not CASES[name].modes_differ:
        assert_same_state(model.state_dict(), state)
    assert_same_outputs(run(model, name), run(model, name))


# ---------------------------------------------------------------------- repr, parameters
@pytest.mark.parametrize("name", NAMES)
def test_repr_names_the_class_and_its_children(name):
    model = make(name)
    text = repr(model)
    assert isinstance(text, str) and text.startswith(type(model).__name__ + "(") and text.endswith(")")
    assert str(model) == text
    for child_name, child in model.named_children():
        assert f"({child_name}): {type(child).__name__}(" in text


def _held_parameters(model):
    """Every Parameter any module of ``model`` holds as an attribute, directly or in a list or tuple."""
    held = {}
    for m in model.modules():
        for value in vars(m).values():
            for v in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(v, Parameter):
                    held[id(v)] = v
    return held


@pytest.mark.parametrize("name", NAMES)
def test_parameters_are_exactly_the_named_parameters(name):
    model = make(name)
    named = list(model.named_parameters())
    params = model.parameters()
    assert [id(p) for p in params] == [id(p) for _, p in named]
    assert all(isinstance(p, Parameter) and p.requires_grad and p.is_leaf for p in params)
    assert len({id(p) for p in params}) == len(params) and len({n for n, _ in named}) == len(named)
    assert {id(p) for p in params} == set(_held_parameters(model))
    assert model.num_parameters() == sum(p.data.size for p in params)
    assert not any(isinstance(b, Parameter) for _, b in model.named_buffers())


# ---------------------------------------------------------------------- gradients
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", FORWARD)
def test_backward_fills_every_parameter_grad(name, dtype):
    model = make(name, dtype)
    args = [th.tensor(a, requires_grad=True) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a in inputs(name, dtype)]
    weighted_sum(model(*args, **CASES[name].kwargs)).backward()
    for n, p in model.named_parameters():
        assert p.grad is not None, n
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype and np.isfinite(p.grad).all(), n
    for a in args:
        if isinstance(a, th.Tensor):
            assert a.grad is not None and a.grad.shape == a.shape and a.grad.dtype == dtype


WITH_THETAS = [n for n in FORWARD if make(n).parameters()]


@pytest.mark.parametrize("name", WITH_THETAS)
def test_gradcheck_parameters(name):
    model = scramble(make(name))
    report = th.gradcheck(model, *inputs(name, np.float64), None, weighted_sum, max_entries=40)
    assert report.ok, f"\n{report}"
    assert [r.name for r in report] == [n for n, _ in model.named_parameters()]


FLOAT_INPUT = [n for n in FORWARD if inputs(n)[0].dtype.kind == "f"]


@pytest.mark.parametrize("name", FLOAT_INPUT)
def test_gradcheck_input(name):
    model = scramble(make(name, np.float64)).eval()
    report = th.gradcheck(lambda x: weighted_sum(model(x, **CASES[name].kwargs)), *inputs(name, np.float64),
                          max_entries=40)
    assert report.ok, f"\n{report}"
