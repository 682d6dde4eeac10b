"""What a request may hold: every payload checked for type, range and size before any model sees it.

A check that fails raises ``LabError(status, message)``; the server turns it into ``{"error": message}`` with that
HTTP status (400 malformed, 413 too large, 422 well-formed but invalid), and the page shows the message.
Nothing a client sends is ever used as a path, as code, or as an expression: only numbers, choices from fixed
lists, and small arrays.
"""
import base64
import binascii
import math

import numpy as np


class LabError(Exception):
    """A request the lab refuses, with the HTTP status and the one-line message the page shows."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = int(status), str(message)


def invalid(message):
    return LabError(422, message)


def obj(value, where="the request"):
    if not isinstance(value, dict):
        raise invalid(f"{where} must be a JSON object, got {_kind(value)}")
    return value


def _kind(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def number(payload, key, lo, hi, default=None, integer=False):
    """``payload[key]`` as a finite number in [lo, hi] (an int if ``integer``); ``default`` when absent."""
    value = payload.get(key, default)
    if value is None and default is None and key not in payload:
        raise invalid(f"'{key}' is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(f"'{key}' must be a number, got {_kind(value)}")
    if not math.isfinite(value):
        raise invalid(f"'{key}' must be finite, got {value!r}")
    if integer:
        if value != int(value):
            raise invalid(f"'{key}' must be a whole number, got {value!r}")
        value = int(value)
    if not lo <= value <= hi:
        raise invalid(f"'{key}' must be between {lo} and {hi}, got {value!r}")
    return value


def choice(payload, key, options, default=None):
    value = payload.get(key, default)
    if value not in options:
        raise invalid(f"'{key}' must be one of {', '.join(map(str, options))}, got {value!r}"[:300])
    return value


def flag(payload, key, default=False):
    value = payload.get(key, default)
    if not isinstance(value, bool):
        raise invalid(f"'{key}' must be true or false, got {_kind(value)}")
    return value


def int_list(payload, key, min_len, max_len, lo, hi, default=None):
    """A list of whole numbers, each in [lo, hi], of length min_len..max_len."""
    value = payload.get(key, default)
    if not isinstance(value, list):
        raise invalid(f"'{key}' must be a list of whole numbers, got {_kind(value)}")
    if not min_len <= len(value) <= max_len:
        raise invalid(f"'{key}' must have {min_len} to {max_len} entries, got {len(value)}")
    out = []
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v != int(v):
            raise invalid(f"'{key}'[{i}] must be a whole number, got {v!r}"[:200])
        if not lo <= v <= hi:
            raise invalid(f"'{key}'[{i}] must be between {lo} and {hi}, got {v!r}")
        out.append(int(v))
    return out


def matrix(value, shape, where, allowed=None, bound=1e6):
    """A nested list of numbers of exactly ``shape`` as float64 (values from ``allowed`` only, when given)."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise invalid(f"{where} must be a {' × '.join(map(str, shape))} array of numbers") from None
    if a.shape != tuple(shape):
        raise invalid(f"{where} must have shape {list(shape)}, got {list(a.shape)}")
    if not np.all(np.isfinite(a)) or np.any(np.abs(a) > bound):
        raise invalid(f"{where} must hold finite numbers of size at most {bound:g}")
    if allowed is not None and not np.all(np.isin(a, allowed)):
        raise invalid(f"{where} may hold only {', '.join(f'{v:g}' for v in allowed)}")
    return a


def grayscale(payload, max_pixels, min_side=8):
    """``{"width": W, "height": H, "pixels": base64 of W·H bytes}`` -> uint8 (H, W); 0 = paper, 255 = ink."""
    obj(payload)
    w = number(payload, "width", min_side, max_pixels, integer=True)
    h = number(payload, "height", min_side, max_pixels, integer=True)
    if w * h > max_pixels:
        raise LabError(413, f"the drawing is {w}×{h} = {w * h:,} pixels; at most {max_pixels:,} are accepted "
                            "(send it downsampled)")
    data = payload.get("pixels")
    if not isinstance(data, str):
        raise invalid(f"'pixels' must be a base64 string of {w}×{h} bytes, got {_kind(data)}")
    if len(data) > 4 * (max_pixels // 3 + 2):
        raise LabError(413, f"'pixels' is {len(data):,} characters: more than {max_pixels:,} pixels")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise LabError(400, "'pixels' is not valid base64") from None
    if len(raw) != w * h:
        raise invalid(f"'pixels' holds {len(raw):,} bytes but width × height is {w * h:,}")
    return np.frombuffer(raw, np.uint8).reshape(h, w)


def b64(array, dtype=np.float32):
    """An array as ``{"shape": [...], "dtype": ..., "data": base64 little-endian bytes}`` (what the pages decode)."""
    a = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"shape": list(a.shape), "dtype": np.dtype(dtype).name, "data": base64.b64encode(a.tobytes()).decode()}


def from_b64(entry):
    """The inverse of ``b64`` (for tests and clients written in Python)."""
    raw = base64.b64decode(entry["data"])
    return np.frombuffer(raw, np.dtype(entry["dtype"]).newbyteorder("<")).reshape(entry["shape"])
