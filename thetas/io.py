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
        metadata: a dict of JSON-able values of your own (dataset, seed, ...), returned by
            ``load_metadata(path)["user"]``.
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
        if not isinstance(metadata, dict):
            raise TypeError(f"save {path}: metadata must be a dict, got {type(metadata).__name__}")
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
    old file or the new one, never half of one. The temp file is ``.NAME.PID-RANDOM.tmp``; a process killed
    while writing (``kill -9``) leaves one behind, which the next save of the same ``path`` removes once that
    PID is no longer running."""
    folder, base = os.path.split(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save {path}: the folder {folder} does not exist")
    _remove_stale_temps(folder, base)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
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


def _remove_stale_temps(folder, base):
    """Delete ``.BASE.PID-RANDOM.tmp`` files in ``folder`` whose writer PID is dead (left by a killed save)."""
    if os.name != "posix":   # os.kill(pid, 0) probes a process only on POSIX
        return
    prefix = f".{base}."
    try:
        names = [n for n in os.listdir(folder) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for n in names:
        pid, dash, rand = n[len(prefix):-len(".tmp")].partition("-")
        if not (pid.isdigit() and dash and len(rand) == 8) or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            os.unlink(os.path.join(folder, n))
        except OSError:
            pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True   # someone else's process, or a PID we cannot probe: keep its file
    return True


# ---------------------------------------------------------------------------------------------------- loading
# The error contract of every reader below: FileNotFoundError for a missing file, ValueError naming the file for
# anything wrong with its content (never a JSON, NumPy, Recursion or Memory error from deep inside), OSError for
# a file that cannot be read at all (a folder, no permission).
_MAX_DIMS = 32    # NumPy handles 64; no model has more than a handful


def _header(f, name, size):
    """(entries name -> (dtype, shape, begin, end), metadata str -> str, data start) from an open file of
    ``size`` bytes, every offset and size checked against the file before any tensor is read."""
    def bad(msg, key=None):
        return ValueError(f"{name}: {'tensor ' + repr(key) + ': ' if key is not None else ''}{msg}")

    def not_safetensors(why):
        return ValueError(f"{name} is not a safetensors file ({why})")

    head = f.read(8)
    if len(head) < 8:
        raise not_safetensors(f"{len(head)} bytes, fewer than the 8 of the header length")
    (n,) = struct.unpack("<Q", head)
    if n > _MAX_HEADER:
        raise not_safetensors(f"it starts with {head!r}, which as a header length is {n} bytes, over the limit "
                              f"of {_MAX_HEADER}")
    if n > size - 8:
        raise bad(f"truncated: the header claims {n} bytes but the file has only {size - 8} after the length")
    text = f.read(n)
    if len(text) < n:
        raise bad(f"truncated: the header claims {n} bytes but the file has only {len(text)} after the length")
    if not text.lstrip(b" \t\r\n").startswith(b"{"):
        raise not_safetensors("the header after the 8-byte length is not a JSON object")
    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except ValueError as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise bad(f"corrupt header: {e}") from None
    except RecursionError:
        raise bad("corrupt header: JSON nested too deeply") from None
    if not isinstance(header, dict):
        raise bad(f"corrupt header: expected a JSON object, got {type(header).__name__}")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise bad("corrupt header: '__metadata__' must map strings to strings")
    data_len = size - 8 - n
    entries, spans = {}, []
    for key, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise bad("expected exactly the fields 'dtype', 'shape' and 'data_offsets'", key)
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dtype, str) or dtype not in _DTYPES:
            raise bad(f"unknown or unsupported dtype {dtype!r} (thetas reads {', '.join(_DTYPES)})", key)
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise bad(f"shape must be a list of non-negative integers, got {_short(shape)}", key)
        if len(shape) > _MAX_DIMS:
            raise bad(f"shape has {len(shape)} dimensions; thetas reads at most {_MAX_DIMS}", key)
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            raise bad(f"data_offsets must be [begin, end] with 0 <= begin <= end, got {_short(offsets)}", key)
        if offsets[1] > data_len:
            raise bad(f"data_offsets {offsets} run past the end of the data ({data_len} bytes): truncated file?", key)
        itemsize = np.dtype(_DTYPES[dtype]).itemsize
        if math.prod(shape) * itemsize != offsets[1] - offsets[0]:
            raise bad(f"shape {_short(shape)} of {dtype} needs {math.prod(shape) * itemsize} bytes, data_offsets "
                      f"{offsets} hold {offsets[1] - offsets[0]}", key)
        if math.prod(d for d in shape if d) >= 2 ** 62:   # a zero-size tensor with an absurd shape
            raise bad(f"shape {_short(shape)} is too large for an array", key)
        entries[key] = (dtype, tuple(shape), offsets[0], offsets[1])
        spans.append((offsets[0], offsets[1], key))
    end = 0
    for begin, stop, key in sorted(spans):
        if begin != end:
            raise bad(f"data_offsets start at {begin}, expected {end}: "
                      f"{'overlapping' if begin < end else 'a gap between'} tensors", key)
        end = stop
    if end != data_len:
        raise bad(f"the tensors cover {end} bytes of data but the file holds {data_len}: truncated or padded file")
    return entries, meta, 8 + n


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _open(path):
    """The open file, its name and its size; FileNotFoundError naming a missing file."""
    name = os.fspath(path)
    try:
        f = open(name, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ValueError(f"{name} is a folder, not a safetensors file") from None
    return f, name, os.fstat(f.fileno()).st_size


def _read(path, allow_nonfinite=False, layout_only=False):
    """(name -> array, metadata str -> str) from a safetensors file, after checking all of it: the header and
    every offset against the file's size before any tensor is read, then (unless ``allow_nonfinite``) that no
    float tensor holds a NaN or an infinity. ``layout_only``: the header and its checks, no tensor read
    (name -> (dtype name, shape) instead of arrays)."""
    f, name, size = _open(path)
    with f:
        entries, meta, base = _header(f, name, size)
        if layout_only:
            return {k: (d, shape) for k, (d, shape, _, _) in entries.items()}, meta
        tensors = {}
        for key, (dtype, shape, begin, stop) in sorted(entries.items(), key=lambda kv: kv[1][2]):
            arr = np.empty(math.prod(shape), np.dtype(_DTYPES[dtype]))
            f.seek(base + begin)
            got = f.readinto(memoryview(arr).cast("B")) if arr.nbytes else 0
            if got != stop - begin:
                raise ValueError(f"{name}: tensor {key!r}: truncated while reading (the file changed?)")
            arr = arr.reshape(shape)
            if not arr.dtype.isnative:
                arr = arr.astype(arr.dtype.newbyteorder("="))
            if not allow_nonfinite and arr.dtype.kind == "f":
                finite = np.isfinite(arr)
                if not finite.all():
                    bad = arr.size - int(np.count_nonzero(finite))
                    raise ValueError(f"{name}: tensor {key!r} holds {bad} NaN or infinite value"
                                     f"{'s' if bad > 1 else ''} (a diverged training run?); pass "
                                     "allow_nonfinite=True to load it anyway")
            tensors[key] = arr
    return tensors, meta


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"duplicate key {_short(dup)}")
    return dict(pairs)


def _no_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _decode_meta(meta, path):
    """The metadata with ``config``, ``user`` and ``structure`` decoded from JSON and their shapes checked:
    ``config`` a module config, ``user`` an object."""
    name = os.fspath(path)
    out = dict(meta)
    for key in _JSON_KEYS:
        if key in out:
            try:
                out[key] = json.loads(out[key])
            except ValueError as e:
                raise ValueError(f"{name}: metadata '{key}' is not valid JSON: {e}") from None
            except RecursionError:
                raise ValueError(f"{name}: metadata '{key}' is JSON nested too deeply") from None
    if "user" in out and not isinstance(out["user"], dict):
        raise ValueError(f"{name}: metadata 'user' must be a JSON object, got {type(out['user']).__name__}")
    if "config" in out:
        _check_config(out["config"], name)
    return out


def _check_config(config, name, depth=0):
    """A module config is ``{"class": str, "args": [...], "kwargs": {str: ...}}``, nested configs alike."""
    where = f"{name}: metadata 'config'"
    if depth > 100:
        raise ValueError(f"{where}: modules nested more than 100 deep")
    if not isinstance(config, dict) or not isinstance(config.get("class"), str):
        raise ValueError(f"{where}: expected {{'class': name, 'args': [...], 'kwargs': {{...}}}}, got "
                         f"{_short(config)}")
    extra = set(config) - {"class", "args", "kwargs"}
    if extra:
        raise ValueError(f"{where}: unexpected entries {sorted(extra)} in the config of {config['class']!r}")
    if not isinstance(config.get("args", []), list):
        raise ValueError(f"{where}: the args of {config['class']!r} must be a list, got {_short(config['args'])}")
    if not isinstance(config.get("kwargs", {}), dict):
        raise ValueError(f"{where}: the kwargs of {config['class']!r} must be an object, got "
                         f"{_short(config['kwargs'])}")

    def walk(value, d):
        if d > 100:
            raise ValueError(f"{where}: arguments nested more than 100 deep")
        if isinstance(value, dict) and set(value) == {"class", "args", "kwargs"}:
            _check_config(value, name, depth + 1)
        elif isinstance(value, list):
            for v in value:
                walk(v, d + 1)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v, d + 1)
    for v in [*config.get("args", []), *config.get("kwargs", {}).values()]:
        walk(v, 0)


def _unflatten(skeleton, tensors, path):
    used = set()
    name = os.fspath(path)

    def walk(value, depth):
        if depth > 100:
            raise ValueError(f"{name}: the stored structure is nested more than 100 deep")
        if isinstance(value, dict):
            if set(value) == {"__tensor__"}:
                key = value["__tensor__"]
                if not isinstance(key, str) or key not in tensors:
                    raise ValueError(f"{name}: the stored structure names tensor {_short(key)}, which the file "
                                     "does not hold")
                used.add(key)
                return tensors[key]
            return {k: walk(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, depth + 1) for v in value]
        return value

    out = walk(skeleton, 0)
    extra = sorted(set(tensors) - used)
    if extra:
        raise ValueError(f"{name}: tensor {extra[0]!r} is not part of the stored structure")
    return out


def load_state_dict(path, allow_nonfinite=False):
    """The arrays of a file: name -> NumPy array (for a file saved from a nested dict, that dict rebuilt).

    Errors: FileNotFoundError for a missing file; ValueError naming the file for any malformed content (not a
    safetensors file, a bad header, offsets or shapes, a truncated file) and for a float tensor holding NaN or
    infinity unless ``allow_nonfinite=True``."""
    tensors, meta = _read(path, allow_nonfinite)
    meta = _decode_meta(meta, path)
    if "structure" in meta:
        return _unflatten(meta["structure"], tensors, path)
    return tensors


def load_metadata(path):
    """The file's ``__metadata__``: ``format``, ``thetas_version``, ``config`` and ``user`` (decoded from JSON);
    other entries (files written elsewhere) stay strings. The header and the tensors' offsets are checked; no
    tensor is read. Errors as ``load_state_dict`` (``user`` must be a JSON object)."""
    return _decode_meta(_read(path, layout_only=True)[1], path)


def load(path, allow_nonfinite=False, require_model=False):
    """The model saved in ``path`` (rebuilt from its stored config with registered thetas classes only, weights
    loaded in the dtype they were saved in, in training mode like a fresh model), or its state dict when the file
    holds no model config (``require_model=True``: a ValueError instead, for callers that need a model).

    Before anything is built, the model is built under a budget: its Parameters and Buffers may hold no more
    numbers than the file stores (a 128-byte file asking for ``Linear(20000, 20000)`` is refused at once, not
    after allocating 1.6 GB). Every stored tensor must then match the model's name, shape and kind of dtype
    (float, integer, bool): th.load keeps the saved float dtype (float64, float16) and never converts between
    kinds. Errors: FileNotFoundError for a missing file; ValueError naming the file for anything else (the
    cases of ``load_state_dict``, a config that is not a thetas model or asks for more than the file holds,
    tensors that do not fit the model, NaN or infinite weights unless ``allow_nonfinite=True``)."""
    from .nn.module import OverBudget, build
    name = os.fspath(path)
    layout, meta = _read(path, layout_only=True)
    meta = _decode_meta(meta, path)
    if "config" not in meta:
        if require_model:
            raise ValueError(f"{name} holds weights only (a state dict), not a model: it has no model config. "
                             "Build the model and use th.load_into(model, path)")
        tensors = _read(path, allow_nonfinite)[0]
        return _unflatten(meta["structure"], tensors, path) if "structure" in meta else tensors
    stored = sum(math.prod(shape) for _, shape in layout.values())
    try:
        model = build(meta["config"], max_numbers=stored)
    except OverBudget as e:
        raise ValueError(f"{name}: refused before building the model: its config asks for more numbers than the "
                         f"{stored} the file stores ({e})") from None
    except MemoryError:
        raise ValueError(f"{name}: cannot rebuild the model from its config: out of memory") from None
    except Exception as e:   # a registered class given arguments it cannot take: any error of its constructor
        raise ValueError(f"{name}: cannot rebuild the model from its config: {type(e).__name__}: {e}") from None
    from .nn.module import Module
    if not isinstance(model, Module):
        raise ValueError(f"{name}: the config does not describe a model")
    _check_into(model, {k: np.empty(0, _DTYPES[d]) for k, (d, _) in layout.items()}, path, strict=True,
                shapes={k: s for k, (_, s) in layout.items()}, cast=False)
    tensors = _read(path, allow_nonfinite)[0]
    own = dict(model.named_parameters())
    own.update(model.named_buffers())
    for key, t in own.items():   # built in the default dtype: each float tensor takes the dtype it was saved in
        if t.data.dtype != tensors[key].dtype:
            t.data = np.empty(t.data.shape, tensors[key].dtype)
    model.load_state_dict(tensors)
    return model


def load_into(model, path, strict=True, cast=False, allow_nonfinite=False):
    """Load the weights of ``path`` into an existing ``model``. Every key, shape and dtype is checked first; on
    any error (ValueError naming the file and the key) the model is left untouched. Returns the model.

    A stored tensor must have the dtype of the model's tensor: nothing is converted silently. ``cast=True``
    converts where NumPy's ``same_kind`` casting allows (float64 -> float32, int -> float), explicitly.
    Errors as ``load``."""
    tensors, _ = _read(path, allow_nonfinite)
    _check_into(model, tensors, path, strict, cast=cast)
    model.load_state_dict(tensors, strict=strict)
    return model


def _check_into(model, tensors, path, strict, shapes=None, cast=False):
    """Every stored tensor fits the model: names (all of them if ``strict``), shapes (``shapes`` overrides the
    arrays' own) and dtypes (the same, or with ``cast`` castable; ``load`` passes cast=False and compares only the
    kind, as it rebuilds float tensors in the saved dtype)."""
    own = dict(model.named_parameters())
    own.update(model.named_buffers())
    name = os.fspath(path)
    if strict:
        missing = [k for k in own if k not in tensors]
        if missing:
            raise ValueError(f"{name}: tensor {missing[0]!r} of {type(model).__name__} is missing from the file "
                             f"(missing: {_short(missing, 300)})")
        unexpected = [k for k in tensors if k not in own]
        if unexpected:
            raise ValueError(f"{name}: tensor {unexpected[0]!r} is not in {type(model).__name__} "
                             f"(unexpected: {_short(unexpected, 300)})")
    for key, arr in tensors.items():
        if key not in own:
            continue
        target = own[key].data
        shape = shapes[key] if shapes is not None else arr.shape
        if shape != target.shape:
            raise ValueError(f"{name}: tensor {key!r} has shape {shape} in the file, {target.shape} in the model")
        if shapes is not None:   # load: the saved float dtype is kept, but never another kind of number
            if arr.dtype.kind != target.dtype.kind:
                raise ValueError(f"{name}: tensor {key!r} is stored as {arr.dtype}; the model's is {target.dtype} "
                                 "(th.load keeps the saved dtype and does not convert between kinds of numbers)")
        elif arr.dtype != target.dtype and not (cast and np.can_cast(arr.dtype, target.dtype, "same_kind")):
            raise ValueError(f"{name}: tensor {key!r} has dtype {arr.dtype} in the file; the model needs "
                             f"{target.dtype}" + ("" if cast else " (pass cast=True to convert it)"))
