"""Your own images made to look like MNIST's: ``to_mnist(load_image("seven.png"))`` -> (28, 28) in [0, 1].

MNIST was made by scaling each digit so its larger side is 20 pixels (anti-aliased, keeping the aspect ratio),
then placing it in a 28×28 field so its centre of mass sits at the centre: ``to_mnist`` does the same.
"""
import warnings
from pathlib import Path

import numpy as np

_INK = 0.1   # after stretching background -> 0 and darkest ink -> 1, fainter pixels count as background
_NOISE = 10  # ink stands out: max − median ≥ 10 × the median absolute deviation (Gaussian noise of a million
#              pixels reaches ~7.3 of its deviation, uniform noise 2)


def load_image(path, max_pixels=None):
    """An image file (PNG, JPEG, ... anything Pillow reads) as grayscale float32 (H, W) in [0, 1], 1 = white.

    Transparent pixels are laid on white (a drawing on a transparent canvas reads as ink on paper).
    The size is checked from the file's header before any pixel is decoded: an image of more than
    ``max_pixels`` (default: Pillow's ``Image.MAX_IMAGE_PIXELS``, about 89 million) is refused.
    Errors: FileNotFoundError for a missing file; ValueError naming the file for anything Pillow cannot read
    (not an image, truncated, corrupt, a decompression bomb, too many pixels); ImportError without Pillow.
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('th.data.load_image reads images with Pillow: pip install "thetas[plot]" '
                          "(or pip install pillow)") from None
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    try:
        with warnings.catch_warnings():   # over half Pillow's bomb limit it warns: we refuse instead
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
        with im:
            w, h = im.size
            if limit is not None and w * h > limit:
                raise ValueError(f"{path}: {w}×{h} pixels ({w * h:,}), more than the limit of {limit:,}: refused "
                                 "before decoding (load_image(path, max_pixels=...) raises it)")
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
                im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA"))
            gray = im.convert("L")
    except ValueError as e:
        if str(e).startswith(str(path)):
            raise
        raise ValueError(f"{path}: not an image Pillow can read ({e})") from None
    except MemoryError:
        raise ValueError(f"{path}: not enough memory to decode this image") from None
    except Exception as e:   # Pillow's errors on a broken file: OSError, SyntaxError, DecompressionBombError, ...
        raise ValueError(f"{path}: not an image Pillow can read ({type(e).__name__}: {e})") from None
    return np.asarray(gray, np.float32) / np.float32(255)


def _area_matrix(n_in, n_out):
    """(n_out, n_in) weights of an anti-aliased resize: output pixel i averages the input pixels it covers."""
    edges = np.arange(n_out + 1) * (n_in / n_out)              # output pixel borders, in input pixels
    j = np.arange(n_in)
    overlap = np.minimum(edges[1:, None], j + 1) - np.maximum(edges[:-1, None], j)
    W = np.clip(overlap, 0, None)
    return W / W.sum(1, keepdims=True)


def to_mnist(image, invert=None):
    """A grayscale image of one digit, any size, as MNIST would have it: float32 (28, 28), white ink on black.

    Args:
        image: 2-D array, values in [0, 1] (floats) or [0, 255] (integers, or any values above 1).
        invert: True for dark ink on a light background (paper, a canvas), False for light ink on dark (MNIST);
            None decides from the image: a mostly light one (median above 1/2) is inverted.

    Steps: invert if needed; stretch so the background (the median) is 0 and the strongest ink 1, pixels under
    0.1 becoming 0; crop to the ink's bounding box; resize by area averaging so the larger side is 20 pixels;
    place in 28×28 with the centre of mass at pixel (14, 14) (moved less if the digit would leave the field);
    scale to a maximum of 1. An image with no ink gives all zeros: all one value, or noise, where nothing stands
    out from the background: the strongest ink, max − median, is under ``_NOISE`` times the median absolute
    deviation from the median (a digit on a page leaves most pixels at the background, so that deviation is ~0).
    """
    a = np.asarray(image)
    if a.ndim != 2:
        raise ValueError(f"to_mnist: expected a 2-D grayscale image (H, W), got shape {a.shape}; "
                         "load_image(path) reads a file as one")
    a = a.astype(np.float64)
    if np.asarray(image).dtype.kind in "ui" or a.max(initial=0) > 1:
        a = a / 255
    a = np.clip(a, 0, 1)
    if invert is None:
        invert = np.median(a) > 0.5
    if invert:
        a = 1 - a
    background, top = np.median(a), a.max()
    if top - background < max(1e-6, _NOISE * np.median(np.abs(a - background))):
        return np.zeros((28, 28), np.float32)
    a = np.clip((a - background) / (top - background), 0, 1)
    a[a < _INK] = 0
    rows, cols = np.flatnonzero(a.any(1)), np.flatnonzero(a.any(0))
    a = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]            # the ink's bounding box
    h, w = a.shape
    scale = 20 / max(h, w)
    H, W = max(1, round(h * scale)), max(1, round(w * scale))
    digit = _area_matrix(h, H) @ a @ _area_matrix(w, W).T       # (H, W), larger side 20
    mass = digit.sum()
    cy, cx = digit.sum(1) @ np.arange(H) / mass, digit.sum(0) @ np.arange(W) / mass
    y0 = int(np.clip(round(14 - cy), 0, 28 - H))
    x0 = int(np.clip(round(14 - cx), 0, 28 - W))
    out = np.zeros((28, 28), np.float32)
    out[y0:y0 + H, x0:x0 + W] = digit / digit.max()
    return out
