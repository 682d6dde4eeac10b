"""Own images made to look like MNIST: load_image reads a file, to_mnist crops, scales to 20 px and centres."""
import os
from pathlib import Path

import numpy as np
import pytest

from thetas.data.images import load_image, to_mnist


def _center_of_mass(a):
    try:
        from scipy import ndimage
        return ndimage.center_of_mass(a)
    except ImportError:
        return a.sum(1) @ np.arange(a.shape[0]) / a.sum(), a.sum(0) @ np.arange(a.shape[1]) / a.sum()


def _bbox(a):
    rows, cols = np.flatnonzero(a.any(1)), np.flatnonzero(a.any(0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def _drawn_digit():
    """A '6'-like shape in black ink on a 200×150 white page, off-centre: a ring and a stroke up from it."""
    y, x = np.mgrid[:200, :150]
    page = np.ones((200, 150))
    ring = np.hypot((y - 140) / 40, (x - 70) / 35)
    page[(ring > 0.7) & (ring < 1.0)] = 0
    stroke = np.abs((x - 40) - 0.4 * (y - 130)) < 6
    page[stroke & (y > 30) & (y < 140)] = 0
    return page


def test_drawn_digit_becomes_mnist_like():
    page = _drawn_digit()
    out = to_mnist(page)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() == 0 and out.max() == pytest.approx(1)
    assert max(_bbox(out > 0)) in (19, 20)
    assert np.allclose(_center_of_mass(out), (14, 14), atol=1)
    assert out[0].sum() == out[-1].sum() == out[:, 0].sum() == out[:, -1].sum() == 0   # a black border, as MNIST
    assert np.array_equal(out, to_mnist(page, invert=True))                # light page: inverted automatically
    assert np.array_equal(out, to_mnist(1 - page))                        # already white on black: kept
    assert np.allclose(out, to_mnist((page * 255).astype(np.uint8)), atol=1e-6)   # 0..255 reads the same


def test_aspect_ratio_is_kept_and_the_digit_is_not_cut_off():
    page = np.ones((100, 300))
    page[45:55, 50:250] = 0                                                # a bar 200 wide, 10 high
    h, w = _bbox(to_mnist(page) > 0)
    assert w == 20 and h == 1
    page = np.ones((200, 200))
    page[10:60, 80:130] = 0                                                # a heavy head ...
    page[60:190, 103:106] = 0                                              # ... on a thin tail
    out = to_mnist(page)
    assert max(_bbox(out > 0)) == 20 and _center_of_mass(out)[0] < 14    # moved as far as the field allows


@pytest.mark.parametrize("image", [np.ones((50, 40)), np.zeros((5, 5), np.uint8), np.full((30, 30), 0.4)])
def test_an_image_without_ink_gives_zeros(image):
    out = to_mnist(image)
    assert out.shape == (28, 28) and not out.any()


def test_to_mnist_wants_a_2d_image():
    with pytest.raises(ValueError, match=r"2-D grayscale.*\(2, 3, 3\).*load_image"):
        to_mnist(np.zeros((2, 3, 3)))


def test_real_mnist_digit_comes_back():
    data = os.environ.get("THETAS_DATA")
    if not data:
        pytest.skip("THETAS_DATA is not set: the real MNIST files are not available")
    from thetas.data.mnist import mnist
    try:
        X, _ = mnist(root=data, train=False, download=False)
    except FileNotFoundError:
        pytest.skip(f"no MNIST test files under {data}")
    plain = []
    for digit in X[:50]:
        page = 255 - np.kron(digit, np.ones((5, 5), np.uint8))           # 140×140, black ink on white
        out = to_mnist(page)
        # MNIST rounded its centring its own way: allow the copy to sit one pixel off
        best = max(np.corrcoef(np.roll(out, (dy, dx), (0, 1)).ravel(), digit.ravel())[0, 1]
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        assert best > 0.9
        plain.append(np.corrcoef(out.ravel(), digit.ravel())[0, 1])
    assert np.mean(plain) > 0.9


# ---------------------------------------------------------------------- load_image
def test_load_image_reads_png_rgb_transparency_and_jpeg(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    gray = (np.arange(48).reshape(6, 8) * 5).astype(np.uint8)
    Image.fromarray(gray).save(tmp_path / "gray.png")
    out = load_image(tmp_path / "gray.png")
    assert out.dtype == np.float32 and out.shape == (6, 8) and np.allclose(out * 255, gray, atol=1e-3)
    Image.fromarray(np.stack([gray] * 3, -1)).save(tmp_path / "rgb.png")
    assert np.allclose(load_image(str(tmp_path / "rgb.png")), out)
    rgba = np.zeros((6, 8, 4), np.uint8)                                   # a canvas: transparent black ...
    rgba[2:4, 3:5, 3] = 255                                                # ... with opaque black strokes
    Image.fromarray(rgba).save(tmp_path / "canvas.png")
    canvas = load_image(tmp_path / "canvas.png")
    assert canvas[0, 0] == 1 and canvas[2, 3] == 0 and canvas.sum() == 48 - 4
    Image.fromarray(np.full((16, 16), 200, np.uint8)).save(tmp_path / "flat.jpg")
    assert np.allclose(load_image(tmp_path / "flat.jpg"), 200 / 255, atol=2 / 255)


def test_load_image_errors_name_the_file(tmp_path):
    pytest.importorskip("PIL")
    with pytest.raises(FileNotFoundError, match="no such image file") as e:
        load_image(tmp_path / "missing.png")
    assert str(tmp_path / "missing.png") in str(e.value)
    Path(tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValueError, match="not an image") as e:
        load_image(tmp_path / "notes.png")
    assert str(tmp_path / "notes.png") in str(e.value)


def _png_header_only(width, height):
    """A PNG whose IHDR claims width × height 8-bit gray pixels, with a tiny IDAT: decoding would need it all."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + \
        chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height, message", [
    (20000, 20000, "DecompressionBombError"),          # 400 Mpx: Pillow's own bomb check, at open
    (10000, 10000, "10000×10000 pixels.*more than the limit"),   # 100 Mpx: refused from the header
])
def test_huge_images_refused_before_decoding(tmp_path, width, height, message):
    pytest.importorskip("PIL")
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(width, height))
    with pytest.raises(ValueError, match=message) as e:
        load_image(path)
    assert str(path) in str(e.value)
    path.write_bytes(_png_header_only(100, 100))
    with pytest.raises(ValueError, match="bomb.png: 100×100 pixels.*more than the limit of 1,000"):
        load_image(path, max_pixels=1000)


def test_truncated_ihdr_names_the_file(tmp_path):
    pytest.importorskip("PIL")
    good = _png_header_only(4, 4)
    path = tmp_path / "t.png"
    path.write_bytes(good[:8] + b"\0\0\0\x04IHDR" + good[16:])
    with pytest.raises(ValueError, match="t.png: not an image Pillow can read.*Truncated IHDR"):
        load_image(path)
