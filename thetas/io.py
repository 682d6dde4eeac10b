"""Saving and loading thetas: one ``.safetensors`` file, written by hand with NumPy, never pickle.

The format (https://github.com/huggingface/safetensors), byte for byte:

    [8 bytes]  n: the header length, unsigned little-endian
    [n bytes]  header: JSON {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [2, 3],
               "data_offsets": [begin, end]}, ...}, padded with spaces
    [rest]     every tensor's raw little-endian bytes, C order, offsets counted from the end of the header

A file holds data and JSON, nothing that runs: ``load`` rebuilds a model only from the classes that thetas
knows (``thetas.nn.module.build``), and every offset, size and dtype is checked before any array is made.

    th.save(model, "mlp.safetensors", metadata={"dataset": "digits"})
    model = th.load("mlp.safetensors")          # rebuilt from its config(), weights loaded
    th.load_metadata("mlp.safetensors")["user"]  # {"dataset": "digits"}
"""
import json
import math
import os
import secrets
import struct

import numpy as np

__all__ = ["save", "load", "load_state_dict", "load_metadata", "load_into"]

# safetensors' dtype names <-> NumPy dtypes (always little-endian in the file)
_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
           "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}
_NAMES = {np.dtype(v).newbyteorder("="): k for k, v in _DTYPES.items()}  # native-order dtype -> name
_MAX_HEADER = 100_000_000  # the limit of the reference implementation: a larger header is not a safetensors file
_JSON_KEYS = ("config", "user", "structure")  # metadata entries that hold JSON (the others are plain strings)


# ---------------------------------------------------------------------------------------------------- saving
def save(obj, path, metadata=None):
    """Write a Module, or a state dict, to ``path`` as safetensors; atomically (a temp file, then ``os.replace``).

    Args:
        obj: a Module (its ``state_dict()`` and its ``config()``, so ``load`` can rebuild it), a flat state dict
            name -> array, or a nested dict of arrays and JSON values such as ``optimizer.state_dict()``
            (arrays become tensors named by their dotted path; the rest is kept as JSON).
        metadata: JSON-able values of your own (dataset, seed, ...), returned by ``load_metadata(path)["user"]``.
    """
    from . import __version__
    from .nn.module import Module
    meta = {"format": "thetas", "thetas_version": __version__}
    if isinstance(obj, Module):
        tensors = obj.state_dict()
        meta["config"] = _dumps(obj.config(), "the model's config()")
    elif isinstance(obj, dict):
        tensors, structure = _flatten(obj)
        if structure is not None:
            meta["structure"] = _dumps(structure, "the state dict")
    else:
        raise TypeError(f"save: expected a Module or a state dict, got {type(obj).__name__}")
    if metadata is not None:
        meta["user"] = _dumps(metadata, "metadata")
    _write_atomic(os.fspath(path), _encode(tensors, meta, path))


def _plain(value, where):
    """A value as JSON (tuples become lists, NumPy scalars Python numbers); TypeError naming ``where`` otherwise."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise TypeError(f"save: {where} has a non-string key {bad[0]!r}; JSON keys are strings")
        return {k: _plain(v, f"{where}[{k!r}]") for k, v in value.items()}
    raise TypeError(f"save: {where} holds a {type(value).__name__}, which has no JSON form")


def _dumps(value, where):
    return json.dumps(_plain(value, where))


def _flatten(state):
    """(name -> array, JSON skeleton or None). A flat dict of arrays needs no skeleton; in a nested one each array
    is replaced by ``{"__tensor__": "dotted.path"}``."""
    from .tensor import Tensor
    tensors = {}

    def walk(value, path):
        if isinstance(value, Tensor):
            value = value.data
        if isinstance(value, np.ndarray):
            name = ".".join(path)
            if name in tensors:
                raise ValueError(f"save: two entries of the state dict are both named '{name}'")
            tensors[name] = value
            return {"__tensor__": name}
        if isinstance(value, dict):
            for k in value:
                if not isinstance(k, str):
                    raise TypeError(f"save: key {k!r} at '{'.'.join(path)}' is not a string")
            return {k: walk(v, path + [k]) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v, path + [str(i)]) for i, v in enumerate(value)]
        return _plain(value, f"'{'.'.join(path)}'")

    flat = all(isinstance(v, (np.ndarray, Tensor)) for v in state.values())
    skeleton = walk(state, [])
    return tensors, (None if flat else skeleton)


def _encode(tensors, meta, path):
    """The whole file as a list of byte strings: length, header, tensor data."""
    header, arrays, offset = {"__metadata__": meta}, [], 0
    for name, arr in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save {path}: tensor name {name!r} is not a string")
        if name == "__metadata__":
            raise ValueError(f"save {path}: '__metadata__' is reserved and cannot name a tensor")
        arr = np.asarray(arr)
        kind = _NAMES.get(arr.dtype.newbyteorder("="))
        if kind is None:
            raise TypeError(f"save {path}: tensor '{name}' has dtype {arr.dtype}, which safetensors cannot store "
                            f"(supported: {', '.join(str(np.dtype(v)) for v in _DTYPES.values())})")
        raw = np.ascontiguousarray(arr, dtype=np.dtype(_DTYPES[kind])).tobytes()
        header[name] = {"dtype": kind, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        arrays.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    return [struct.pack("<Q", len(text)), text, *arrays]


def _write_atomic(path, chunks):
    """Write to a fresh temp file next to ``path``, fsync it, then rename it over ``path``: a crash leaves the
    old file or the new one, never half of one."""
    folder, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save {path}: the folder {folder} does not exist")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)  # umask applies
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        try:
            dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return
        try:
            os.fsync(dfd)
        except OSError:
            pass
        finally:
            os.close(dfd)


# ---------------------------------------------------------------------------------------------------- loading
def _read(path):
    """(name -> array, metadata str -> str) from a safetensors file, after checking all of it."""
    name = os.fspath(path)
    with open(name, "rb") as f:
        blob = f.read()

    def bad(msg, key=None):
        return ValueError(f"{name}: {'tensor ' + repr(key) + ': ' if key is not None else ''}{msg}")

    if len(blob) < 8:
        raise bad(f"not a safetensors file: {len(blob)} bytes, fewer than the 8 of the header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > _MAX_HEADER:
        raise bad(f"not a safetensors file: header length {n} exceeds the limit of {_MAX_HEADER} bytes")
    if 8 + n > len(blob):
        raise bad(f"truncated: the header claims {n} bytes but the file has only {len(blob) - 8} after the length")
    try:
        text = blob[8:8 + n].decode("utf-8")
        if not text.startswith("{"):
            raise ValueError("the header does not start with '{'")
        header = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except ValueError as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise bad(f"corrupt header: {e}") from None
    if not isinstance(header, dict):
        raise bad(f"corrupt header: expected a JSON object, got {type(header).__name__}")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise bad("corrupt header: '__metadata__' must map strings to strings")
    data_len = len(blob) - 8 - n
    spans = []
    for key, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise bad("expected exactly the fields 'dtype', 'shape' and 'data_offsets'", key)
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dtype, str) or dtype not in _DTYPES:
            raise bad(f"unknown or unsupported dtype {dtype!r} (thetas reads {', '.join(_DTYPES)})", key)
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise bad(f"shape must be a list of non-negative integers, got {shape!r}", key)
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            raise bad(f"data_offsets must be [begin, end] with 0 <= begin <= end, got {offsets!r}", key)
        if offsets[1] > data_len:
            raise bad(f"data_offsets {offsets} run past the end of the data ({data_len} bytes): truncated file?", key)
        itemsize = np.dtype(_DTYPES[dtype]).itemsize
        if math.prod(shape) * itemsize != offsets[1] - offsets[0]:
            raise bad(f"shape {shape} of {dtype} needs {math.prod(shape) * itemsize} bytes, data_offsets "
                      f"{offsets} hold {offsets[1] - offsets[0]}", key)
        spans.append((offsets[0], offsets[1], key))
    end = 0
    for begin, stop, key in sorted(spans):
        if begin != end:
            raise bad(f"data_offsets start at {begin}, expected {end}: "
                      f"{'overlapping' if begin < end else 'a gap between'} tensors", key)
        end = stop
    if end != data_len:
        raise bad(f"the tensors cover {end} bytes of data but the file holds {data_len}: truncated or padded file")
    base = 8 + n
    tensors = {}
    for key, info in header.items():
        begin, stop = info["data_offsets"]
        arr = np.frombuffer(blob, dtype=np.dtype(_DTYPES[info["dtype"]]), count=math.prod(info["shape"]),
                            offset=base + begin).reshape(info["shape"])
        tensors[key] = arr.astype(arr.dtype.newbyteorder("="), copy=True)  # a writable array of its own
    return tensors, meta


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"duplicate key {dup!r}")
    return dict(pairs)


def _no_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _decode_meta(meta, path):
    out = dict(meta)
    for key in _JSON_KEYS:
        if key in out:
            try:
                out[key] = json.loads(out[key])
            except ValueError as e:
                raise ValueError(f"{os.fspath(path)}: metadata '{key}' is not valid JSON: {e}") from None
    return out


def _unflatten(skeleton, tensors, path):
    used = set()

    def walk(value):
        if isinstance(value, dict):
            if set(value) == {"__tensor__"}:
                key = value["__tensor__"]
                if key not in tensors:
                    raise ValueError(f"{os.fspath(path)}: the stored structure names tensor {key!r}, which the file "
                                     "does not hold")
                used.add(key)
                return tensors[key]
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    out = walk(skeleton)
    extra = sorted(set(tensors) - used)
    if extra:
        raise ValueError(f"{os.fspath(path)}: tensor {extra[0]!r} is not part of the stored structure")
    return out


def load_state_dict(path):
    """The arrays of a file: name -> NumPy array (for a file saved from a nested dict, that dict rebuilt)."""
    tensors, meta = _read(path)
    meta = _decode_meta(meta, path)
    if "structure" in meta:
        return _unflatten(meta["structure"], tensors, path)
    return tensors


def load_metadata(path):
    """The file's ``__metadata__``: ``format``, ``thetas_version``, ``config`` and ``user`` (decoded from JSON);
    other entries (files written elsewhere) stay strings. The tensors are checked, then dropped."""
    return _decode_meta(_read(path)[1], path)


def load(path):
    """The model saved in ``path`` (rebuilt from its stored config with registered thetas classes only, weights
    loaded in the dtype they were saved in, in training mode like a fresh model), or its state dict when the file
    holds no model config."""
    from .nn.module import build
    tensors, meta = _read(path)
    meta = _decode_meta(meta, path)
    if "config" not in meta:
        return _unflatten(meta["structure"], tensors, path) if "structure" in meta else tensors
    try:
        model = build(meta["config"])
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{os.fspath(path)}: cannot rebuild the model from its config: {e}") from None
    _check_into(model, tensors, path, strict=True)
    own = dict(model.named_parameters())
    own.update(model.named_buffers())
    for key, t in own.items():   # built in the default dtype: each float tensor takes the dtype it was saved in
        if t.data.dtype.kind == "f" and tensors[key].dtype.kind == "f" and t.data.dtype != tensors[key].dtype:
            t.data = np.empty(t.data.shape, tensors[key].dtype)
    model.load_state_dict(tensors)
    return model


def load_into(model, path, strict=True):
    """Load the weights of ``path`` into an existing ``model``. Every key, shape and dtype is checked first; on
    any error (ValueError naming the file and the key) the model is left untouched. Returns the model."""
    tensors, _ = _read(path)
    _check_into(model, tensors, path, strict)
    model.load_state_dict(tensors, strict=strict)
    return model


def _check_into(model, tensors, path, strict):
    own = dict(model.named_parameters())
    own.update(model.named_buffers())
    name = os.fspath(path)
    if strict:
        missing = [k for k in own if k not in tensors]
        if missing:
            raise ValueError(f"{name}: tensor {missing[0]!r} of {type(model).__name__} is missing from the file "
                             f"(missing: {missing})")
        unexpected = [k for k in tensors if k not in own]
        if unexpected:
            raise ValueError(f"{name}: tensor {unexpected[0]!r} is not in {type(model).__name__} "
                             f"(unexpected: {unexpected})")
    for key, arr in tensors.items():
        if key not in own:
            continue
        target = own[key].data
        if arr.shape != target.shape:
            raise ValueError(f"{name}: tensor {key!r} has shape {arr.shape} in the file, {target.shape} in the model")
        if not np.can_cast(arr.dtype, target.dtype, casting="same_kind"):
            raise ValueError(f"{name}: tensor {key!r} has dtype {arr.dtype} in the file; the model needs "
                             f"{target.dtype}")
