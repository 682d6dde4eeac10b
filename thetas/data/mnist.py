"""MNIST and Fashion-MNIST: 28×28 grayscale images of handwritten digits / clothes, read from IDX files.

``(X_train, y_train), (X_test, y_test) = th.data.mnist()`` finds the four standard files (gzipped or not) in the
first of these places that has them, per file:

1. ``root``, if given: ``root/mnist`` (``root/fashion-mnist``), ``root``, or torchvision's ``root/MNIST/raw``
   (``root/FashionMNIST/raw``);
2. ``$THETAS_DATA/mnist`` (``$THETAS_DATA/fashion-mnist``); MNIST also directly in ``$THETAS_DATA`` (both sets
   use the same file names, so a file there is taken as MNIST only);
3. for Fashion-MNIST, Debian's ``/usr/share/datasets/fashion-mnist`` (``apt install dataset-fashion-mnist``);
4. the cache, ``$THETAS_CACHE``, ``$XDG_CACHE_HOME/thetas`` or ``~/.cache/thetas``, then ``/mnist``
   (``/fashion-mnist``).

A file found nowhere is downloaded (``download=True``) into ``root/mnist`` if ``root`` is given, else into the
cache: from each of ``MIRRORS[name]`` in turn, checked against ``MD5[name]``, written to a temporary file and
renamed into place only once it is complete and correct.
"""
import gzip
import hashlib
import math
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")
FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
MIRRORS = {  # base URLs, tried in order; each serves FILE.gz
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                      "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"],
}
# Accepted MD5s of each download: of the .gz as published (torchvision's table), and of the uncompressed IDX file,
# so that the same data gzipped again (as Debian and some mirrors ship it) passes too.
MD5 = {
    "mnist": {
        "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
        "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
        "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
        "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        "train-labels-idx1-ubyte": ("25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
        "t10k-images-idx3-ubyte": ("bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
        "t10k-labels-idx1-ubyte": ("bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
    },
}
_TORCHVISION_DIR = {"mnist": "MNIST/raw", "fashion-mnist": "FashionMNIST/raw"}
_DEBIAN_DIR = {"fashion-mnist": "/usr/share/datasets/fashion-mnist"}
# IDX type codes: the third byte of the magic number
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


MAX_IDX_BYTES = 2 ** 30   # read_idx's default limit: EMNIST's largest file holds 0.55 GB, MNIST's 47 MB


def read_idx(path, max_bytes=MAX_IDX_BYTES):
    """The array in an IDX file (LeCun's format of MNIST), gzipped (``.gz`` or gzip's magic bytes) or raw.

    Layout: magic ``00 00 TYPE NDIM``, NDIM big-endian uint32 sizes, then the data in C order. Returns a writable
    array in native byte order: uint8 for MNIST's images (N, 28, 28) and labels (N,).

    The header is read and checked first; a gzipped file is decompressed as a stream into an array of exactly
    the size the header gives, so a file claiming more than ``max_bytes`` of data (default 1 GiB; None: no
    limit), or holding less or more than it claims, is refused without decompressing the rest.
    Errors: FileNotFoundError for a missing file; ValueError naming the file for anything wrong with its content
    (not gzip or a corrupt gzip stream, not IDX, an unknown type, truncated or too long, over ``max_bytes``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such IDX file")
    with open(path, "rb") as raw:
        gz = path.suffix == ".gz" or raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        f = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw
        try:
            return _read_idx(f, path, None if gz else os.fstat(raw.fileno()).st_size, max_bytes)
        except (OSError, EOFError, zlib.error) as e:   # BadGzipFile is an OSError; zlib.error is neither
            if not gz:
                raise
            raise ValueError(f"{path}: not a complete gzip file ({e})") from None


def _read_exact(f, n):
    """Up to ``n`` bytes from ``f`` (fewer only at the end of the stream)."""
    out = bytearray()
    while len(out) < n:
        chunk = f.read(n - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def _read_idx(f, path, size, max_bytes):
    head = _read_exact(f, 4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise ValueError(f"{path}: not an IDX file: magic number {head.hex(' ') or '(empty)'}, "
                         "expected 00 00 TYPE NDIM")
    if head[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX data type 0x{head[2]:02x}; expected one of "
                         f"{', '.join(f'0x{c:02x}' for c in _IDX_DTYPES)}")
    dtype, ndim = np.dtype(_IDX_DTYPES[head[2]]), head[3]
    offset = 4 + 4 * ndim
    dims = _read_exact(f, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header: {4 + len(dims)} bytes, expected {offset} for {ndim} "
                         "dimensions")
    shape = struct.unpack(f">{ndim}I", dims)
    expected = math.prod(shape) * dtype.itemsize          # exact: Python integers do not wrap
    if max_bytes is not None and expected > max_bytes:
        raise ValueError(f"{path}: the IDX header claims shape {shape} of {dtype.name}, {expected} bytes, more "
                         f"than the limit of {max_bytes} (read_idx(path, max_bytes=...) raises it)")
    if expected > sys.maxsize:
        raise ValueError(f"{path}: the IDX header claims shape {shape} of {dtype.name}, {expected} bytes, more than "
                         "an array can hold")
    if size is not None and size - offset != expected:
        got = size - offset
        raise ValueError(f"{path}: {'truncated' if got < expected else 'too long'}: expected {expected} bytes of "
                         f"data for shape {shape} of {dtype.name}, got {got}")
    try:
        out = np.empty(expected, np.uint8)      # untouched memory, filled as the data arrives
    except MemoryError:
        raise ValueError(f"{path}: the IDX header claims {expected} bytes of data, more than the memory there is "
                         "to read them into") from None
    view, got = memoryview(out), 0
    while got < expected:
        n = f.readinto(view[got:got + (1 << 20)])
        if not n:
            raise ValueError(f"{path}: truncated: expected {expected} bytes of data for shape {shape} of "
                             f"{dtype.name}, got {got}")
        got += n
    if f.read(1):
        raise ValueError(f"{path}: too long: more than the {expected} bytes of data for shape {shape} of "
                         f"{dtype.name}")
    return out.view(dtype).reshape(shape).astype(dtype.newbyteorder("="), copy=not dtype.isnative)


def mnist(root=None, train=None, download=True, progress=True, mirrors=None):
    """MNIST's handwritten digits 0-9: ``(X_train, y_train), (X_test, y_test)``, uint8 arrays.

    Images are (60000, 28, 28) and (10000, 28, 28), white digits (255) on black (0); labels are (N,), 0-9.
    ``train=True`` (``False``) returns only ``(X_train, y_train)`` (``(X_test, y_test)``), reading only that split.
    ``root`` is a directory to look in first and download into; ``mirrors`` replaces ``MIRRORS["mnist"]``;
    ``progress`` shows a progress bar on stderr while downloading. Where files are looked for: see the module.
    Class names: ``MNIST_CLASSES``.
    """
    return _load("mnist", root, train, download, progress, mirrors)


def fashion_mnist(root=None, train=None, download=True, progress=True, mirrors=None):
    """Zalando's Fashion-MNIST: ``(X_train, y_train), (X_test, y_test)`` as ``mnist`` returns them.

    Labels index ``FASHION_MNIST_CLASSES`` (T-shirt/top, Trouser, ..., Ankle boot). Same arguments as ``mnist``.
    """
    return _load("fashion-mnist", root, train, download, progress, mirrors)


def cache_dir():
    """Where downloads go: ``$THETAS_CACHE``, else ``$XDG_CACHE_HOME/thetas``, else ``~/.cache/thetas``."""
    if os.environ.get("THETAS_CACHE"):
        return Path(os.environ["THETAS_CACHE"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "thetas"


def _search_dirs(name, root):
    """The directories to look in, in order, and the one to download into."""
    dirs = []
    if root is not None:
        root = Path(root).expanduser()
        dirs += [root / name, root, root / _TORCHVISION_DIR[name]]
    if os.environ.get("THETAS_DATA"):
        data = Path(os.environ["THETAS_DATA"]).expanduser()
        dirs += [data / name] + ([data] if name == "mnist" else [])
    if name in _DEBIAN_DIR:
        dirs.append(Path(_DEBIAN_DIR[name]))
    target = root / name if root is not None else cache_dir() / name
    return dirs + ([target] if target not in dirs else []), target


def _find(stem, dirs):
    for d in dirs:
        for path in (d / f"{stem}.gz", d / stem):
            if path.is_file():
                return path
    return None


def _load(name, root, train, download, progress, mirrors):
    splits = ("train", "test") if train is None else ("train" if train else "test",)
    dirs, target = _search_dirs(name, root)
    stems = [stem for split in splits for stem in FILES[split]]
    mirrors = MIRRORS[name] if mirrors is None else [mirrors] if isinstance(mirrors, str) else mirrors
    paths = {stem: _find(stem, dirs) for stem in stems}
    for stem in stems:
        if paths[stem] is None:
            missing = [s for s in stems if paths[s] is None]
            if not download:
                raise FileNotFoundError(_missing_message(name, missing, dirs, "download=False"))
            paths[stem] = _download(name, stem, target, mirrors, progress, missing, dirs)
    out = []
    for split in splits:
        images, labels = (read_idx(paths[stem]) for stem in FILES[split])
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1] or \
                images.dtype != np.uint8 or labels.dtype != np.uint8:
            raise ValueError(f"{name}: {paths[FILES[split][0]]} and {paths[FILES[split][1]]} hold "
                             f"{images.dtype.name} images {images.shape} and {labels.dtype.name} labels "
                             f"{labels.shape}; expected uint8 (N, 28, 28) and (N,)")
        out.append((images, labels))
    return tuple(out) if train is None else out[0]


def _missing_message(name, missing, dirs, why):
    looked = "".join(f"\n  {d}" for d in dirs)
    env = "THETAS_DATA=DIR with the files in DIR/" + name + (" or in DIR" if name == "mnist" else "")
    return (f"{name}: missing {', '.join(s + '(.gz)' for s in missing)} ({why}). Looked in:{looked}\n"
            f"Fix: set {env}, or pass root=DIR, or download them once with network access.")


def _md5(data):
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _download(name, stem, target, mirrors, progress, missing, dirs):
    """Download ``stem.gz`` into ``target`` from the first mirror that has a correct copy; return its path."""
    import http.client
    import urllib.error
    import urllib.request   # here, not at the top: it takes longer to import than the rest of thetas.data

    from tqdm import tqdm   # plain text, as train's progress bar: tqdm.auto needs ipywidgets in a notebook
    filename, expected = f"{stem}.gz", MD5[name][stem]
    target.mkdir(parents=True, exist_ok=True)
    errors, corrupt = [], False
    for base in mirrors:
        url = base.rstrip("/") + "/" + filename
        tmp = target / f".{filename}.{os.getpid()}-{os.urandom(4).hex()}.part"   # renamed once complete and correct
        try:
            with open(tmp, "xb") as f, urllib.request.urlopen(url, timeout=30) as response:
                size = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=filename,
                          disable=not progress, file=sys.stderr, leave=False) as bar:
                    while chunk := response.read(1 << 16):
                        f.write(chunk)
                        bar.update(len(chunk))
            data = tmp.read_bytes()
            got = _md5(data)
            if got not in expected:
                try:
                    got_raw = _md5(gzip.decompress(data))
                except (OSError, EOFError, ValueError):
                    got_raw = None
                if got_raw not in expected:
                    corrupt = True
                    errors.append(f"{url}: MD5 {got}, expected {expected[0]} (deleted, not cached)")
                    continue
            os.replace(tmp, target / filename)
            return target / filename
        except (OSError, http.client.HTTPException) as e:   # URLError, HTTPError, timeouts are OSErrors
            errors.append(f"{url}: {e if isinstance(e, urllib.error.HTTPError) else getattr(e, 'reason', e)}")
        finally:
            tmp.unlink(missing_ok=True)
    tried = "".join(f"\n  {e}" for e in errors) or "\n  (no mirrors)"
    if corrupt:
        raise ValueError(f"{name}: downloaded {filename} did not match its checksum:{tried}")
    raise FileNotFoundError(_missing_message(name, missing, dirs, "download failed") + f"\nDownloads tried:{tried}")
