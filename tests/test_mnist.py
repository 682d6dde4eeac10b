"""MNIST / Fashion-MNIST: reading IDX files, where they are found, downloading them (from a server on 127.0.0.1
only), and ``th.data.load("mnist")``. The real files are used where ``THETAS_DATA`` has them."""
import gzip
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

import thetas as th
from thetas.data.mnist import (_DEBIAN_DIR, FASHION_MNIST_CLASSES, FILES, MD5, MIRRORS, MNIST_CLASSES,
                               fashion_mnist, mnist, read_idx)

STEMS = [stem for split in ("train", "test") for stem in FILES[split]]


def _idx(array):
    """The bytes of an IDX file holding ``array``."""
    code = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}[array.dtype.str[1:]]
    dims = np.array(array.shape, ">u4").tobytes()
    return bytes([0, 0, code, array.ndim]) + dims + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _fixture_set(seed=0):
    """A tiny MNIST-shaped set: {stem: array}, 3 training and 2 test images."""
    rng = np.random.default_rng(seed)
    return {"train-images-idx3-ubyte": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
            "train-labels-idx1-ubyte": np.array([5, 0, 4], np.uint8),
            "t10k-images-idx3-ubyte": rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
            "t10k-labels-idx1-ubyte": np.array([7, 2], np.uint8)}


def _write_set(directory, arrays, gz=True):
    directory.mkdir(parents=True, exist_ok=True)
    for stem, a in arrays.items():
        (directory / (stem + ".gz" if gz else stem)).write_bytes(gzip.compress(_idx(a)) if gz else _idx(a))


def _real_mnist_dir():
    data = os.environ.get("THETAS_DATA")
    if not data:
        pytest.skip("THETAS_DATA is not set: the real MNIST files are not available")
    for d in (Path(data) / "mnist", Path(data)):
        if all((d / f"{s}.gz").is_file() or (d / s).is_file() for s in STEMS):
            return d
    pytest.skip(f"no MNIST IDX files in {data}/mnist or {data}")


# ---------------------------------------------------------------------- read_idx
def test_real_mnist_files():
    d = _real_mnist_dir()
    (X, y), (Xt, yt) = mnist(root=d, download=False)
    assert X.shape == (60000, 28, 28) and Xt.shape == (10000, 28, 28) and X.dtype == Xt.dtype == np.uint8
    assert y.shape == (60000,) and yt.shape == (10000,) and y.dtype == np.uint8
    assert y[0] == 5 and yt[0] == 7 and X.max() == 255 and X.min() == 0
    assert np.bincount(y, minlength=10).sum() == 60000 and np.bincount(yt, minlength=10).sum() == 10000
    assert set(np.unique(y)) == set(range(10)) and np.bincount(y).min() > 5000
    images = next(d / n for n in ("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte") if (d / n).is_file())
    assert np.array_equal(read_idx(images), Xt)
    assert np.array_equal(mnist(root=d, train=False, download=False)[1], yt)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_read_idx_raw_and_gzipped(tmp_path, dtype):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    (tmp_path / "a").write_bytes(_idx(a))
    (tmp_path / "a.gz").write_bytes(gzip.compress(_idx(a)))
    (tmp_path / "gz-without-suffix").write_bytes(gzip.compress(_idx(a)))   # found by gzip's magic bytes
    for name in ("a", "a.gz", "gz-without-suffix"):
        b = read_idx(tmp_path / name)
        assert b.dtype == np.dtype(dtype) and b.dtype.isnative and b.shape == (2, 3, 4) and np.array_equal(a, b)
        assert b.flags.writeable


@pytest.mark.parametrize("data, message", [
    (_idx(np.zeros((2, 3), np.uint8))[:-1], r"truncated: expected 6 bytes of data for shape \(2, 3\).*got 5"),
    (_idx(np.zeros((2, 3), np.uint8)) + b"\0", r"too long: expected 6 bytes.*got 7"),
    (b"\x08\x03\x00\x00" + bytes(10), "not an IDX file: magic number 08 03 00 00"),
    (b"", r"magic number \(empty\)"),
    (b"\0\0\x42\x01" + bytes(8), "unknown IDX data type 0x42"),
    (b"\0\0\x08\x03\0\0\0\x01", "truncated IDX header"),
])
def test_read_idx_errors_name_the_file(tmp_path, data, message):
    _refused(tmp_path / "broken-idx1-ubyte", data, message)


def _refused(path, data, message):
    """``data`` written to ``path`` is refused by read_idx with a ValueError matching ``message``, naming the file."""
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx(np.ones((4, 28, 28), np.uint8)))[:-20])
    with pytest.raises(ValueError, match="not a complete gzip file") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_gzip_claiming_2_gb_refused_from_its_header(tmp_path):
    """A 2 MB gzip whose header claims 2 GB: refused before the data is decompressed."""
    path = tmp_path / "bomb-idx3-ubyte.gz"
    header = b"\0\0\x08\x03" + np.array([2 ** 15, 2 ** 8, 2 ** 8], ">u4").tobytes()   # 2 GiB of uint8
    path.write_bytes(gzip.compress(header + os.urandom(2 * 10 ** 6)))
    with pytest.raises(ValueError, match=r"bomb-idx3-ubyte.gz: the IDX header claims shape \(32768, 256, 256\).*"
                                         "2147483648 bytes, more than the limit"):
        read_idx(path)
    # no limit: the stream is read into an array of the claimed size and found short, memory touched as it goes
    with pytest.raises(ValueError, match=r"bomb-idx3-ubyte.gz: truncated: expected 2147483648 bytes.*got 2000000"):
        read_idx(path, max_bytes=None)


@pytest.mark.parametrize("gz", [False, True])
def test_dimensions_whose_product_wraps_are_refused(tmp_path, gz):
    path = tmp_path / ("wrap-idx4-ubyte" + (".gz" if gz else ""))
    data = b"\0\0\x08\x04" + np.array([2 ** 16] * 4, ">u4").tobytes()   # 2^64 bytes: wraps to 0 in int64
    path.write_bytes(gzip.compress(data) if gz else data)
    for limit in (2 ** 30, None):
        with pytest.raises(ValueError, match=r"wrap-idx4-ubyte.*claims shape \(65536, 65536, 65536, 65536\)"):
            read_idx(path, max_bytes=limit)


@pytest.mark.parametrize("blob, message", [
    (gzip.compress(b"")[:10] + b"\xff" * 20, "not a complete gzip file.*invalid block type"),   # a zlib.error
    (b"\x1f\x8b" + bytes(30), "not a complete gzip file"),
    (b"plain text, named .gz", "not a complete gzip file"),
    (gzip.compress(_idx(np.zeros(3, np.uint8))) + b"trailing", "not a complete gzip file"),
    (gzip.compress(_idx(np.zeros(3, np.uint8)) + b"\0"), "too long"),
], ids=["zlib-error", "bad-header", "not-gzip", "trailing-garbage", "too-long"])
def test_corrupt_gzip_is_a_value_error_naming_the_file(tmp_path, blob, message):
    _refused(tmp_path / "c-idx1-ubyte.gz", blob, message)


def test_missing_idx_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nosuch: no such IDX file"):
        read_idx(tmp_path / "nosuch")


# ---------------------------------------------------------------------- where files are found
@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """No THETAS_DATA, an empty cache, no Debian package: only what a test puts there is found."""
    monkeypatch.delenv("THETAS_DATA", raising=False)
    monkeypatch.setenv("THETAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(_DEBIAN_DIR, "fashion-mnist", str(tmp_path / "no-debian"))
    return tmp_path / "cache"


def _check(result, arrays):
    (X, y), (Xt, yt) = result
    for got, stem in zip((X, y, Xt, yt), STEMS):
        assert got.dtype == np.uint8 and np.array_equal(got, arrays[stem])


def test_files_found_in_root_thetas_data_and_torchvision_layout(tmp_path, no_data, monkeypatch):
    arrays = _fixture_set()
    _write_set(tmp_path / "raw", arrays, gz=False)
    _check(mnist(root=tmp_path / "raw", download=False), arrays)
    _write_set(tmp_path / "tv" / "MNIST" / "raw", arrays)
    _check(mnist(root=tmp_path / "tv", download=False), arrays)
    X, y = mnist(root=tmp_path / "raw", train=True, download=False)
    assert X.shape == (3, 28, 28) and y.tolist() == [5, 0, 4]

    monkeypatch.setenv("THETAS_DATA", str(tmp_path / "data"))
    _write_set(tmp_path / "data", arrays)                        # directly in THETAS_DATA: MNIST only
    _check(mnist(download=False), arrays)
    with pytest.raises(FileNotFoundError):
        fashion_mnist(download=False)
    fashion = _fixture_set(seed=1)
    _write_set(tmp_path / "data" / "fashion-mnist", fashion)
    _check(fashion_mnist(download=False), fashion)
    _write_set(tmp_path / "data" / "mnist", fashion)             # THETAS_DATA/mnist comes before THETAS_DATA
    _check(mnist(download=False), fashion)
    assert not no_data.exists()                                  # nothing was downloaded or cached


def test_files_of_the_wrong_shape_are_named(tmp_path, no_data):
    arrays = _fixture_set()
    arrays["train-labels-idx1-ubyte"] = np.arange(4, dtype=np.uint8)
    _write_set(tmp_path, arrays)
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz and .*train-labels-idx1-ubyte.gz hold"):
        mnist(root=tmp_path, download=False)


# ---------------------------------------------------------------------- downloads, from 127.0.0.1 only
class _Server:
    """Serves ``files`` {url path: bytes} on 127.0.0.1, 404 for anything else; ``requests`` lists the paths asked."""

    def __init__(self):
        self.files, self.requests = {}, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def _refused_url():
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _serve(server, arrays, prefix, monkeypatch):
    """Put ``arrays`` as STEM.gz under ``prefix`` and their MD5s (of the .gz) in the checksum table."""
    table = {}
    for stem, a in arrays.items():
        body = gzip.compress(_idx(a), mtime=0)
        server.files[f"{prefix}{stem}.gz"] = body
        table[stem] = (hashlib.md5(body).hexdigest(),)
    monkeypatch.setitem(MD5, "mnist", table)


def test_download_caches_and_falls_back_to_the_next_mirror(server, no_data, monkeypatch):
    arrays = _fixture_set()
    _serve(server, arrays, "/good/", monkeypatch)
    monkeypatch.setitem(MIRRORS, "mnist", [_refused_url(), server.url + "/missing/", server.url + "/good/"])
    _check(mnist(progress=False), arrays)
    assert sorted(p.name for p in (no_data / "mnist").iterdir()) == sorted(f"{s}.gz" for s in STEMS)
    assert sorted(server.requests) == sorted(f"/{m}/{s}.gz" for m in ("missing", "good") for s in STEMS)
    server.requests.clear()
    _check(mnist(progress=False), arrays)                        # from the cache now
    assert server.requests == []


def test_download_into_root_with_mirrors_argument_and_one_split(server, tmp_path, no_data, monkeypatch):
    arrays = _fixture_set()
    _serve(server, arrays, "/m/", monkeypatch)
    X, y = mnist(root=tmp_path / "data", train=False, progress=False, mirrors=[server.url + "/m"])
    assert np.array_equal(X, arrays["t10k-images-idx3-ubyte"]) and y.tolist() == [7, 2]
    assert sorted(server.requests) == ["/m/t10k-images-idx3-ubyte.gz", "/m/t10k-labels-idx1-ubyte.gz"]
    assert sorted(p.name for p in (tmp_path / "data" / "mnist").iterdir()) == \
        ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert not no_data.exists()


def test_the_same_data_gzipped_again_passes_by_its_uncompressed_md5(server, no_data, monkeypatch):
    arrays = _fixture_set()
    for stem, a in arrays.items():
        server.files[f"/m/{stem}.gz"] = gzip.compress(_idx(a), compresslevel=1)
    monkeypatch.setitem(MD5, "mnist", {s: ("0" * 32, hashlib.md5(_idx(a)).hexdigest()) for s, a in arrays.items()})
    _check(mnist(progress=False, mirrors=[server.url + "/m/"]), arrays)


def test_a_corrupted_download_is_rejected_and_not_kept(server, no_data, monkeypatch):
    arrays = _fixture_set()
    _serve(server, arrays, "/m/", monkeypatch)
    good = server.files["/m/train-images-idx3-ubyte.gz"]
    server.files["/m/train-images-idx3-ubyte.gz"] = good[:-30] + bytes(30)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz did not match its checksum") as e:
        mnist(progress=False, mirrors=[server.url + "/m/"])
    assert f"expected {hashlib.md5(good).hexdigest()}" in str(e.value) and "not cached" in str(e.value)
    assert list((no_data / "mnist").iterdir()) == []             # no corrupt file, no temporary file


def test_offline_error_says_what_is_missing_where_it_looked_and_how_to_fix_it(tmp_path, no_data, monkeypatch):
    monkeypatch.setitem(MIRRORS, "mnist", [_refused_url()])
    with pytest.raises(FileNotFoundError) as e:
        mnist(root=tmp_path / "mine", progress=False)
    message = str(e.value)
    assert all(stem in message for stem in STEMS) and "THETAS_DATA" in message and "root=" in message
    assert str(tmp_path / "mine") in message and "download failed" in message and "127.0.0.1" in message
    assert list((tmp_path / "mine" / "mnist").iterdir()) == []
    with pytest.raises(FileNotFoundError, match="download=False") as e:
        mnist(download=False)
    assert str(no_data / "mnist") in str(e.value)


# ---------------------------------------------------------------------- th.data.load
def test_load_mnist_as_float_images():
    _real_mnist_dir()
    task = th.data.load("mnist", n_samples=500)
    assert task.name == "mnist" and task.num_features == 784 and task.num_classes == 10
    assert task.classes == MNIST_CLASSES == tuple("0123456789") and task.train.classes == MNIST_CLASSES
    X, y = task.train.X, task.train.y
    assert X.shape == (500, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 1 and y[0] == 5 and set(np.unique(y)) == set(range(10))
    assert task.test.X.shape == (10000, 1, 28, 28) and task.train.image_shape == task.test.image_shape == (28, 28)
    assert "mnist" in th.data.DATASETS and "fashion-mnist" in th.data.DATASETS


def test_load_fashion_mnist_from_thetas_data(tmp_path, no_data, monkeypatch):
    arrays = _fixture_set()
    _write_set(tmp_path / "fashion-mnist", arrays)
    monkeypatch.setenv("THETAS_DATA", str(tmp_path))
    task = th.data.load("fashion-mnist")
    assert task.classes == FASHION_MNIST_CLASSES and task.classes[9] == "Ankle boot" and task.num_features == 784
    assert len(task.train) == 3 and len(task.test) == 2 and task.train.y.tolist() == [5, 0, 4]
    assert np.allclose(task.train.X[:, 0] * 255, arrays["train-images-idx3-ubyte"], atol=1e-4)
