"""th.save / th.load: safetensors written by hand, read with every offset checked, atomic, no pickle."""
import json
import os
import struct

import numpy as np
import pytest

import thetas.io as io
from thetas.nn import Linear, ReLU, Sequential
from thetas.nn.module import Buffer, Module, Parameter


def _mlp(seed=0):
    return Sequential(Linear(4, 8, generator=seed), ReLU(), Linear(8, 3, generator=seed + 1))


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and np.array_equal(a[k], b[k]), k


def _raw(tensors, metadata=None, header_extra=None):
    """A safetensors file built here, byte by byte, to corrupt on purpose."""
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    header.update(header_extra or {})
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def test_model_round_trip(tmp_path):
    model = _mlp()
    path = tmp_path / "mlp.safetensors"
    io.save(model, path, metadata={"dataset": "digits", "seed": 3, "classes": (0, 1, 2)})
    loaded = io.load(path)
    assert type(loaded) is Sequential and len(loaded) == 3 and loaded is not model
    _same(model.state_dict(), loaded.state_dict())
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    assert np.array_equal(model(x).numpy(), loaded(x).numpy())
    meta = io.load_metadata(path)
    assert meta["format"] == "thetas" and meta["user"] == {"dataset": "digits", "seed": 3, "classes": [0, 1, 2]}
    assert meta["config"]["class"] == "Sequential"
    _same(io.load_state_dict(path), model.state_dict())


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_, np.float16])
def test_state_dict_round_trip(tmp_path, dtype):
    rng = np.random.default_rng(0)
    sd = {"a": (rng.normal(size=(2, 3)) * 10).astype(dtype), "b.c": np.array(7, dtype=dtype),
          "empty": np.zeros((0, 4), dtype), "big_endian": np.arange(5).astype(np.dtype(dtype).newbyteorder(">"))}
    io.save(sd, tmp_path / "sd.safetensors")
    back = io.load(tmp_path / "sd.safetensors")
    assert back["big_endian"].dtype == np.dtype(dtype)  # stored little-endian, read back in native order
    sd["big_endian"] = sd["big_endian"].astype(dtype)
    _same(sd, back)
    back["a"][0, 0] = 1  # arrays are writable and their own
    assert io.load_state_dict(tmp_path / "sd.safetensors")["a"][0, 0] == sd["a"][0, 0]


def test_nested_state_dict_round_trip(tmp_path):
    import thetas.optim as optim
    model = _mlp()
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(np.ones((2, 4), np.float32)).sum().backward()
    opt.step()
    state = opt.state_dict()
    io.save(state, tmp_path / "opt.safetensors")
    back = io.load_state_dict(tmp_path / "opt.safetensors")
    assert back["param_groups"][0]["lr"] == 0.01 and back["param_groups"][0]["betas"] == [0.9, 0.999]
    assert back["state"]["0"]["step"] == state["state"]["0"]["step"]
    assert np.array_equal(back["state"]["2"]["exp_avg_sq"], state["state"]["2"]["exp_avg_sq"])
    fresh = optim.Adam(_mlp().parameters(), lr=0.5)
    fresh.load_state_dict(back)
    assert fresh.param_groups[0]["lr"] == 0.01 and fresh.param_groups[0]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="both named 'a.b'"):
        io.save({"a.b": np.zeros(1), "a": {"b": np.ones(1)}}, tmp_path / "clash.safetensors")


def test_interop_with_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    model = _mlp()
    io.save(model, tmp_path / "ours.safetensors", metadata={"k": 1})
    _same(st.load_file(tmp_path / "ours.safetensors"), model.state_dict())
    theirs = {"w": np.arange(12, dtype=np.float64).reshape(3, 4), "i": np.arange(3, dtype=np.int64),
              "f": np.ones((2, 2), np.float32)}
    st.save_file(theirs, str(tmp_path / "theirs.safetensors"), metadata={"note": "hi"})
    _same(io.load(tmp_path / "theirs.safetensors"), theirs)
    assert io.load_metadata(tmp_path / "theirs.safetensors") == {"note": "hi"}
    st.save_file(model.state_dict(), str(tmp_path / "weights.safetensors"))
    other = _mlp(seed=5)
    io.load_into(other, tmp_path / "weights.safetensors")
    _same(other.state_dict(), model.state_dict())


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    io.save({"w": np.ones(3, np.float32)}, path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("disk full")
    monkeypatch.setattr(io.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        io.save({"w": np.zeros(1000, np.float32)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]  # no temp file left behind
    monkeypatch.undo()
    with pytest.raises(TypeError, match="'bad'.*complex128"):
        io.save({"w": np.ones(2), "bad": np.ones(2, complex)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.safetensors"]


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        io.save({"w": np.ones(1)}, tmp_path / "nope" / "m.safetensors")


def test_file_mode_follows_umask(tmp_path):
    io.save({"w": np.ones(1)}, tmp_path / "m.safetensors")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "m.safetensors").stat().st_mode & 0o777 == 0o666 & ~mask


GOOD = {"w": ("F32", [2, 2], np.arange(4, dtype="<f4").tobytes()),
        "b": ("I64", [3], np.arange(3, dtype="<i8").tobytes())}


@pytest.mark.parametrize("blob, message", [
    (b"", "fewer than the 8"),
    (struct.pack("<Q", 10**12) + b"{}", "not a safetensors file.*over the limit"),
    (b"sepal_length,sepal_width,species\n5.1,3.5,setosa\n", "not a safetensors file"),
    (struct.pack("<Q", 400) + b'{"w": 1}', "truncated"),
    (struct.pack("<Q", 8) + b"[1, 2]  ", "not a safetensors file.*not a JSON object"),
    (struct.pack("<Q", 8) + b'{"w": 1 ', "corrupt header"),
    (struct.pack("<Q", 4) + b"\xff\xfe{}", "not a safetensors file"),
    (struct.pack("<Q", 6) + b'{"w":\xff}', "corrupt header"),
    (_raw(GOOD)[:-5], "tensor 'b'.*run past the end"),
    (_raw(GOOD) + b"\0" * 8, "truncated or padded"),
    (_raw(GOOD, header_extra={"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [8, 24]}}), "tensor 'w'"),
    (_raw({"w": ("F32", [2, 2], b"\0" * 16), "v": ("F32", [2], b"\0" * 8)},
          header_extra={"v": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}), "tensor 'v'.*overlapping"),
    (_raw({"w": ("F33", [2], b"\0" * 8)}), "tensor 'w'.*unknown or unsupported dtype 'F33'"),
    (_raw({"w": ("BF16", [2], b"\0" * 4)}), "tensor 'w'.*'BF16'"),
    (_raw({"w": ("F32", [3], b"\0" * 8)}), r"tensor 'w'.*shape \[3\] of F32 needs 12 bytes"),
    (_raw({"w": ("F32", [-2], b"")}), "tensor 'w'.*non-negative"),
    (_raw({"w": ("F32", [2], b"\0" * 8)}, header_extra={"x": {"dtype": "F32", "shape": [1]}}),
     "tensor 'x'.*exactly the fields"),
    (_raw({"w": ("F32", [2], b"\0" * 8)}, metadata={"n": 1}), "__metadata__"),
    (_raw({"w": ("F32", [2], b"\0" * 8)}, metadata={"config": "{not json"}), "'config' is not valid JSON"),
])
def test_corrupt_files_raise_value_error_naming_file(tmp_path, blob, message):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(blob)
    for reader in (io.load, io.load_state_dict):
        with pytest.raises(ValueError, match=message) as info:
            reader(path)
        assert str(path) in str(info.value)


def test_duplicate_header_key_rejected(tmp_path):
    entry = b'{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
    text = b'{"w":' + entry + b',"w":' + entry + b'}'
    path = tmp_path / "dup.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"\0" * 4)
    with pytest.raises(ValueError, match="duplicate key 'w'"):
        io.load(path)


def test_every_truncation_is_rejected(tmp_path):
    io.save(_mlp(), tmp_path / "m.safetensors")
    blob = (tmp_path / "m.safetensors").read_bytes()
    cut = tmp_path / "cut.safetensors"
    for n in range(0, len(blob), 7):
        cut.write_bytes(blob[:n])
        with pytest.raises(ValueError, match="cut.safetensors"):
            io.load(cut)


def test_load_into_validates_before_changing_anything(tmp_path):
    target = _mlp(seed=1)
    snapshot = target.state_dict()
    source = _mlp(seed=2)
    io.save(source, tmp_path / "ok.safetensors")

    wrong_shape = source.state_dict()
    wrong_shape["2.weight"] = np.zeros((4, 8), np.float32)
    io.save(wrong_shape, tmp_path / "shape.safetensors")
    with pytest.raises(ValueError, match=r"shape.safetensors: tensor '2.weight' has shape \(4, 8\)"):
        io.load_into(target, tmp_path / "shape.safetensors")
    _same(target.state_dict(), snapshot)

    missing = source.state_dict()
    del missing["2.bias"]
    io.save(missing, tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="missing.safetensors: tensor '2.bias'.*missing"):
        io.load_into(target, tmp_path / "missing.safetensors")
    _same(target.state_dict(), snapshot)

    io.save(dict(source.state_dict(), **{"0.bias": np.arange(8)}), tmp_path / "int.safetensors")
    with pytest.raises(ValueError, match=r"int.safetensors: tensor '0.bias' has dtype int64.*float32.*cast=True"):
        io.load_into(target, tmp_path / "int.safetensors")   # never converted silently
    _same(target.state_dict(), snapshot)
    io.load_into(_mlp(), tmp_path / "int.safetensors", cast=True)  # int -> float on request

    (tmp_path / "trunc.safetensors").write_bytes((tmp_path / "ok.safetensors").read_bytes()[:-3])
    with pytest.raises(ValueError, match="trunc.safetensors"):
        io.load_into(target, tmp_path / "trunc.safetensors")
    _same(target.state_dict(), snapshot)

    io.load_into(target, tmp_path / "ok.safetensors")
    _same(target.state_dict(), source.state_dict())


class _Counter(Module):
    def __init__(self):
        self.count = Buffer(np.zeros(2, np.int64))
        self.w = Parameter(np.ones(2, np.float32))


def test_load_into_rejects_unsafe_dtype(tmp_path):
    model = _Counter()
    io.save({"count": np.full(2, 0.5), "w": np.zeros(2, np.float32)}, tmp_path / "f.safetensors")
    with pytest.raises(ValueError, match="f.safetensors: tensor 'count' has dtype float64.*int64"):
        io.load_into(model, tmp_path / "f.safetensors")
    assert np.array_equal(model.w.data, np.ones(2)) and np.array_equal(model.count.data, np.zeros(2))


def test_load_rejects_unknown_model_class(tmp_path):
    model = _mlp()
    io.save(model, tmp_path / "m.safetensors")
    blob = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "evil.safetensors").write_bytes(blob.replace(b'Sequential', b'Sequentiaz'))
    with pytest.raises(ValueError, match="evil.safetensors.*unknown module class 'Sequentiaz'"):
        io.load(tmp_path / "evil.safetensors")


def test_no_pickle_no_eval():
    import ast
    tree = ast.parse(open(io.__file__, encoding="utf-8").read())
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
            {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} | \
            {k.arg for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords}
    assert not modules & {"pickle", "cPickle", "dill", "marshal", "shelve", "importlib"}
    assert not names & {"eval", "exec", "__import__", "pickle", "allow_pickle"}


# ---------------------------------------------------------------------------------- hostile files (issue 12)
def _with_config(config, tensors=None, **meta):
    """A file whose metadata holds ``config`` (any JSON) next to ``tensors``."""
    meta = {"format": "thetas", "config": json.dumps(config), **{k: json.dumps(v) for k, v in meta.items()}}
    return _raw(tensors or {}, metadata=meta)


HOSTILE = [
    ({"class": "Linear", "args": [20000, 20000], "kwargs": {}}, {}, "refused before building.*stores"),
    ({"class": "MLP", "args": [[1e9, 2]], "kwargs": {}}, {}, "refused before building"),
    ({"class": "BatchNorm1d", "args": [10**9], "kwargs": {}}, {}, "refused before building"),
    ({"class": "DKT", "args": [10**4], "kwargs": {"projection": 10**4}}, {"w": ("F32", [4], b"\0" * 16)},
     "refused before building"),
    ({"class": "Linear", "args": [4, 3], "kwargs": [1, 2]}, {}, "kwargs of 'Linear' must be an object"),
    ({"class": "Linear", "args": {"a": 1}, "kwargs": {}}, {}, "args of 'Linear' must be a list"),
    ({"class": ["Linear"], "args": [], "kwargs": {}}, {}, "expected"),
    ([1, 2], {}, "expected"),
    ({"class": "Linear", "args": ["x", 3], "kwargs": {}}, {}, "cannot rebuild.*ValueError"),
    ({"class": "Linear", "args": [[1], 3], "kwargs": {}}, {}, "cannot rebuild.*TypeError"),
    ({"class": "Linear", "args": [4, 3], "kwargs": {"nope": 1}}, {}, "cannot rebuild.*TypeError"),
]


@pytest.mark.parametrize("config, tensors, message", HOSTILE)
def test_hostile_config_refused_naming_file(tmp_path, config, tensors, message):
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(_with_config(config, tensors))
    with pytest.raises(ValueError, match=message) as info:
        io.load(path)
    assert str(path) in str(info.value)


def test_hostile_files_refused_within_100_mb(tmp_path):
    """The issue's cases, measured in a fresh process: peak resident memory grows by under 100 MB."""
    import subprocess
    import sys
    paths = []
    for i, (config, tensors, _) in enumerate(HOSTILE[:4]):
        paths.append(str(tmp_path / f"h{i}.safetensors"))
        (tmp_path / f"h{i}.safetensors").write_bytes(_with_config(config, tensors))
    # a big legitimate tensor next to a config asking for far more: Linear(20000, 20000) with 250,000 stored
    paths.append(str(tmp_path / "big.safetensors"))
    (tmp_path / "big.safetensors").write_bytes(_with_config(
        {"class": "Linear", "args": [20000, 20000], "kwargs": {}}, {"weight": ("F32", [500, 500], b"\0" * 10**6)}))
    code = ("import resource, sys, thetas as th\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "for p in sys.argv[1:]:\n"
            "    try:\n        th.load(p)\n    except ValueError as e:\n        assert p in str(e), e\n"
            "    else:\n        raise SystemExit('loaded ' + p)\n"
            "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n")
    out = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) < 100, f"peak memory grew by {out.stdout.strip()} MB"


def test_deep_json_in_header_and_config(tmp_path):
    path = tmp_path / "deep.safetensors"
    text = ("[" * 100_000 + "]" * 100_000).encode()
    path.write_bytes(struct.pack("<Q", len(text) + 6) + b'{"a":' + text + b"}")
    with pytest.raises(ValueError, match="deep.safetensors.*(nested too deeply|exactly the fields)"):
        io.load(path)
    deep = {"class": "Sequential", "args": [], "kwargs": {}}
    for _ in range(150):
        deep = {"class": "Sequential", "args": [deep], "kwargs": {}}
    path.write_bytes(_with_config(deep))
    with pytest.raises(ValueError, match="deep.safetensors.*nested more than 100"):
        io.load(path)
    path.write_bytes(_raw({}, metadata={"config": "[" * 100_000 + "]" * 100_000}))
    with pytest.raises(ValueError, match="deep.safetensors: metadata 'config' is JSON nested too deeply"):
        io.load_metadata(path)


def test_user_metadata_must_be_an_object(tmp_path):
    path = tmp_path / "u.safetensors"
    path.write_bytes(_with_config({"class": "ReLU", "args": [], "kwargs": {}}, user=[1, 2]))
    with pytest.raises(ValueError, match="u.safetensors: metadata 'user' must be a JSON object"):
        io.load_metadata(path)
    with pytest.raises(TypeError, match="metadata must be a dict"):
        io.save(_mlp(), path, metadata=[1, 2])


def test_bad_structure_reference_and_state_dict_where_model_needed(tmp_path):
    path = tmp_path / "s.safetensors"
    path.write_bytes(_raw({"a": ("F32", [1], b"\0" * 4)},
                          metadata={"structure": json.dumps({"x": {"__tensor__": [1]}})}))
    with pytest.raises(ValueError, match=r"s.safetensors: the stored structure names tensor \[1\]"):
        io.load_state_dict(path)
    io.save(_mlp().state_dict(), path)
    assert isinstance(io.load(path), dict)
    with pytest.raises(ValueError, match="s.safetensors holds weights only.*load_into"):
        io.load(path, require_model=True)


def test_too_many_dimensions_and_absurd_shapes(tmp_path):
    path = tmp_path / "d.safetensors"
    path.write_bytes(_raw({"w": ("F32", [1] * 100, b"\0" * 4)}))
    with pytest.raises(ValueError, match="d.safetensors: tensor 'w': shape has 100 dimensions"):
        io.load(path)
    path.write_bytes(_raw({"w": ("F32", [0, 2**70], b"")}))
    with pytest.raises(ValueError, match="d.safetensors: tensor 'w': shape .* too large"):
        io.load(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nosuch.safetensors: no such file"):
        io.load(tmp_path / "nosuch.safetensors")
    with pytest.raises(ValueError, match="is a folder"):
        io.load(tmp_path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_weights_refused_unless_allowed(tmp_path, bad):
    model = _mlp()
    model[0].weight.data[1, 2] = bad
    path = tmp_path / "nan.safetensors"
    io.save(model, path)
    for reader in (io.load, io.load_state_dict, lambda p: io.load_into(_mlp(), p)):
        with pytest.raises(ValueError, match="nan.safetensors: tensor '0.weight' holds 1 NaN or infinite value.*"
                                             "allow_nonfinite=True"):
            reader(path)
    loaded = io.load(path, allow_nonfinite=True)
    assert np.array_equal(loaded[0].weight.data, model[0].weight.data, equal_nan=True)
    assert io.load_metadata(path)["config"]["class"] == "Sequential"   # the metadata reads no tensor


def test_load_keeps_saved_dtype_and_refuses_another_kind(tmp_path):
    model = _mlp()
    io.save(model, tmp_path / "m.safetensors")
    sd = {k: v.astype(np.float64) for k, v in model.state_dict().items()}
    meta = {"format": "thetas", "config": json.dumps(model.config())}
    raw = {k: ("F64", list(v.shape), v.astype("<f8").tobytes()) for k, v in sd.items()}
    (tmp_path / "f64.safetensors").write_bytes(_raw(raw, metadata=meta))
    assert io.load(tmp_path / "f64.safetensors")[0].weight.dtype == np.float64      # kept, not cast
    raw["0.weight"] = ("I32", [8, 4], np.zeros((8, 4), "<i4").tobytes())
    (tmp_path / "int.safetensors").write_bytes(_raw(raw, metadata=meta))
    with pytest.raises(ValueError, match="int.safetensors: tensor '0.weight' is stored as int32.*float"):
        io.load(tmp_path / "int.safetensors")


_KILLED_SAVER = """
import sys, time, numpy as np
import thetas.io as io
path = sys.argv[1]
io.save({"w": np.arange(4.0)}, path)              # the previous file
def stuck(fd):                                     # the new file is written; wait here to be killed
    print("writing", flush=True)
    time.sleep(60)
io.os.fsync = stuck
io.save({"w": np.zeros(10**6)}, path)
"""


def test_kill_during_save_keeps_old_file_and_next_save_cleans_temp(tmp_path):
    import signal
    import subprocess
    import sys
    path = tmp_path / "m.safetensors"
    child = subprocess.Popen([sys.executable, "-c", _KILLED_SAVER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    stale = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(stale) == 1 and stale[0].startswith(f".m.safetensors.{child.pid}-"), stale
    assert os.path.getsize(tmp_path / stale[0]) > 8 * 10**6 - 1
    assert np.array_equal(io.load(path)["w"], np.arange(4.0))           # the previous file, intact
    live = tmp_path / f".m.safetensors.{os.getppid()}-0123abcd.tmp"     # a live process's save in progress
    live.write_bytes(b"x")
    other = tmp_path / f".other.safetensors.{child.pid}-0123abcd.tmp"  # another target's temp file
    other.write_bytes(b"x")
    io.save({"w": np.ones(2)}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(["m.safetensors", live.name, other.name])
    assert np.array_equal(io.load(path)["w"], np.ones(2))
