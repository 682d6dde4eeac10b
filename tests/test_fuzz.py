"""Fuzzing every file loader: valid files, mutated (bytes flipped, cut, inserted, deleted, overwritten, numbers and
separators swapped in), must load or fail with the loader's documented error: a ValueError (or
FileNotFoundError) whose message names the file. Never a JSON, NumPy, csv, zlib, Pillow, Recursion or Memory
error from deep inside.

Bounded for the suite (``THETAS_FUZZ_EXAMPLES`` examples per loader, 40 by default); ``scripts/fuzz.py``
runs the same with many more.
"""
import gzip
import io as _io
import os
import tempfile

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import thetas as th  # noqa: E402
from thetas.data import from_csv, load_assistments_csv, load_dkt_csv, load_students  # noqa: E402
from thetas.data.mnist import read_idx  # noqa: E402

EXAMPLES = int(os.environ.get("THETAS_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="THETAS_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# what a hostile editor types: numbers at the edges, separators, quotes, brackets, bytes that are not UTF-8
TOKENS = [b"-1", b"0", b"1e300", b"-1e300", b"1e9", b"9" * 30, b"9223372036854775808", b"nan", b"inf", b"-0",
          b"2.5", b"\xff", b"\x00", b",", b"\n", b"\r", b'"', b"[", b"]", b"{", b"}", b":", b" ", b"\xef\xbb\xbf",
          b'"class"', b'"args"', b'"kwargs"', b'"shape"', b'"dtype"', b'"data_offsets"', b"[[[[[[[[", b"null",
          b"4294967295", b"\x1f\x8b", b"F64", b"I8", b"BOOL"]


@st.composite
def mutated(draw, seed):
    """``seed`` with one to four random edits."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "overwrite", "token", "token"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 16))]
        elif op == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[pos:pos + len(chunk)] = chunk
        elif op == "token":
            token = draw(st.sampled_from(TOKENS))
            width = draw(st.integers(0, 4))       # replaces a few bytes (a number, a separator) or inserts
            data[pos:pos + width] = token
    return bytes(data)


def check(loader, blob, name, errors=(ValueError, FileNotFoundError)):
    """Write ``blob`` to a file called ``name`` and load it: it loads, or raises one of ``errors`` naming it."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(blob)
        try:
            loader(path)
        except errors as e:
            assert path in str(e), f"{type(e).__name__} does not name the file: {e}"


# ---------------------------------------------------------------------------------------------- the seeds
def _safetensors_model():
    from thetas.nn import Linear, ReLU, Sequential
    buf = tempfile.NamedTemporaryFile(suffix=".safetensors", delete=False)
    buf.close()
    try:
        th.save(Sequential(Linear(3, 4, generator=0), ReLU(), Linear(4, 2, generator=1)), buf.name,
                metadata={"dataset": "fuzz", "classes": [0, 1]})
        with open(buf.name, "rb") as f:
            return f.read()
    finally:
        os.unlink(buf.name)


def _safetensors_state():
    buf = tempfile.NamedTemporaryFile(suffix=".safetensors", delete=False)
    buf.close()
    try:
        th.save({"w": np.arange(6, dtype=np.float32).reshape(2, 3), "n": {"step": np.array(3), "lr": 0.1}},
                buf.name)
        with open(buf.name, "rb") as f:
            return f.read()
    finally:
        os.unlink(buf.name)


def _idx(array):
    code = {"u1": 0x08, "i2": 0x0B, "f4": 0x0D}[array.dtype.str[1:]]
    return bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes() + \
        array.astype(array.dtype.newbyteorder(">")).tobytes()


def _png():
    from PIL import Image
    buf = _io.BytesIO()
    Image.fromarray((np.arange(64).reshape(8, 8) * 4).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


IDX = _idx(np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4))
CSV = b"a,b,c,y\n1,2.5,3,cat\n4,5,6e1,dog\n7,8,9,cat\n0.5,-1,2,dog\n3,3,3,cat\n"
DKT = b"3\n1,2,3\n1,0,1\n2,77\n4,1\n0,0\n1\n2\n1\n"
ASSIST = (b"order_id,assignment_id,user_id,original,correct,problem_id,skill_id,skill_name\n"
          b"1,1,2,1,1,9,4,Fractions\n2,1,2,1,0,10,4.0,Fractions\n3,1,5,1,1,9,12,Add\n4,1,5,1,1,9,,\n")


# ---------------------------------------------------------------------------------------------- the loaders
@FUZZ
@given(st.data())
def test_fuzz_th_load(data):
    seed = data.draw(st.sampled_from([_SEEDS["model"], _SEEDS["state"]]))
    blob = data.draw(mutated(seed))
    check(th.load, blob, "m.safetensors")
    check(th.load_metadata, blob, "m.safetensors")
    check(th.load_state_dict, blob, "m.safetensors")


@FUZZ
@given(st.data())
def test_fuzz_read_idx(data):
    gz = data.draw(st.booleans())
    blob = data.draw(mutated(IDX))
    if gz:
        blob = gzip.compress(blob, mtime=0)
        if data.draw(st.booleans()):
            blob = data.draw(mutated(blob))       # the gzip stream itself damaged
    check(read_idx, blob, "x-idx3-ubyte.gz" if gz else "x-idx3-ubyte")


@FUZZ
@given(st.data())
def test_fuzz_from_csv(data):
    blob = data.draw(mutated(CSV))
    check(lambda p: from_csv(p, "y"), blob, "d.csv")


@FUZZ
@given(st.data())
def test_fuzz_load_dkt_csv(data):
    check(load_dkt_csv, data.draw(mutated(DKT)), "kt.csv")


@FUZZ
@given(st.data())
def test_fuzz_load_assistments_csv(data):
    check(load_assistments_csv, data.draw(mutated(ASSIST)), "a.csv")


@FUZZ
@given(st.data())
def test_fuzz_load_students(data):
    check(load_students, data.draw(mutated(data.draw(st.sampled_from([DKT, ASSIST])))), "s.csv")


@FUZZ
@given(st.data())
def test_fuzz_load_image(data):
    pytest.importorskip("PIL")
    from thetas.data.images import load_image
    check(load_image, data.draw(mutated(_SEEDS["png"])), "i.png")


def _seeds():
    seeds = {"model": _safetensors_model(), "state": _safetensors_state()}
    try:
        seeds["png"] = _png()
    except ImportError:
        seeds["png"] = b""
    return seeds


_SEEDS = _seeds()


def test_seeds_are_valid_files():
    """The unmutated seeds load: a fuzz run starts from files the loaders accept."""
    with tempfile.TemporaryDirectory() as folder:
        for name, blob, loader in [("m.safetensors", _SEEDS["model"], th.load), ("i", IDX, read_idx),
                                   ("d.csv", CSV, lambda p: from_csv(p, "y")), ("kt.csv", DKT, load_dkt_csv),
                                   ("a.csv", ASSIST, load_assistments_csv)]:
            path = os.path.join(folder, name)
            with open(path, "wb") as f:
                f.write(blob)
            assert loader(path) is not None
