"""Checks for the exercises of ``notebooks/05_four_pixel_camera.ipynb``: the workshop's four-pixel camera.

The network is the lab's (``thetas/lab/fourpixel.py``), without biases:

    x (4 pixels, ±1) → h = tanh(W1 x) (4) → r = relu(W2 h) (8) → z = W3 r (4 class scores) → ŷ = softmax(z)
"""
import itertools

import numpy as np

from . import Verdict, as_array, as_number, right, wrong
from ..data.toy import FOUR_PIXEL_CLASSES, four_pixels

# The exercise's first layer, wired otherwise than the notebook's: its tanh neurons see, in this order,
# horizontal, the inverse of solid, vertical and the inverse of diagonal (rows: top-left, top-right, bottom-left,
# bottom-right).
FIRST_LAYER = np.array([[1, 1, -1, -1],
                        [-1, -1, -1, -1],
                        [1, -1, 1, -1],
                        [-1, 1, 1, -1]], np.float64)
ALL_IMAGES = np.array(list(itertools.product((-1.0, 1.0), repeat=4)))      # the 16 images a 2×2 camera can see


def _labels(images):
    """The class of each image, or −1 for the 8 images that show no pattern (one pixel unlike the other three)."""
    X, y = four_pixels()
    lookup = {tuple(x): int(c) for x, c in zip(X.astype(np.float64), y)}
    return np.array([lookup.get(tuple(x), -1) for x in images])


def forward(W1, W2, W3, images=ALL_IMAGES):
    """Forward propagation of ``images`` (N, 4): the class scores z (N, 4), in float64."""
    h = np.tanh(images @ W1.T)
    r = np.maximum(h @ W2.T, 0.0)
    return r @ W3.T


def _matrix(value, shape, name):
    m = as_array(value, name)
    if not isinstance(m, np.ndarray):
        return m
    if m.shape != shape:
        return wrong(f"{name} should have shape {shape} (rows: the layer's neurons, columns: its inputs), "
                     f"got {m.shape}.")
    if not np.all(np.isfinite(m)) or not np.all(np.isin(m, (-1.0, 0.0, 1.0))):
        return wrong(f"{name} may only hold 1, −1 and 0, the workshop's weights (white, black, missing).")
    return m


def check_rewired_camera(answer):
    """The student's (W2, W3), entries 1, −1 or 0, behind ``FIRST_LAYER``: every one of the 16 images is run
    forward, and each of the 8 that show a pattern must get its own class's score strictly highest."""
    if answer is None:
        return as_array(None, "(W2, W3)")
    if not isinstance(answer, (list, tuple)) or len(answer) != 2:
        return wrong("give the two weight matrices as a pair: answer = (W2, W3), W2 of shape (8, 4) and W3 of "
                     "shape (4, 8).")
    W2 = _matrix(answer[0], (8, 4), "W2")
    if not isinstance(W2, np.ndarray):
        return W2
    W3 = _matrix(answer[1], (4, 8), "W3")
    if not isinstance(W3, np.ndarray):
        return W3
    z = forward(FIRST_LAYER, W2, W3)
    labels = _labels(ALL_IMAGES)
    misses = []
    for x, scores, c in zip(ALL_IMAGES, z, labels):
        if c < 0:
            continue
        others = np.delete(scores, c)
        if not scores[c] > others.max() + 1e-9:
            guess = int(np.argmax(scores))
            told = "a tie" if np.isclose(scores[guess], scores[c]) else f"'{FOUR_PIXEL_CLASSES[guess]}'"
            misses.append(f"{x.astype(int).tolist()} ({FOUR_PIXEL_CLASSES[c]}) got {told}")
    if misses:
        return wrong(f"{8 - len(misses)} of the 8 pattern images are right; for instance {misses[0]}. Hint: a tanh "
                     "neuron answers an image and its inverse with opposite signs; which neuron of the first layer "
                     "sees which class, and with which sign? A ReLU pair relu(h), relu(−h) keeps both signs.")
    return right("all 8 pattern images are classified right by forward propagation over the 16 images (the 8 "
                 "others show no pattern). Each class score adds the two ReLU neurons that fire on its images.")


def check_confidence_factor(answer):
    """The smallest c such that, with the last layer of the hand-set network multiplied by c, every pattern image
    gets ŷ ≥ 0.9 for its class: c = ln 27 / tanh 4 ≈ 3.298 (relative tolerance 1e-3, which also accepts ln 27, the
    answer of a student who takes tanh 4 for 1)."""
    c = as_number(answer, "c")
    if isinstance(c, Verdict):
        return c
    t = np.tanh(4.0)
    expected = np.log(27.0) / t
    if abs(c - expected) <= 1e-3 * expected:
        return right(f"c = ln 27 / tanh 4 ≈ {expected:.4f} (tanh 4 ≈ 0.9993, so ln 27 ≈ 3.2958 is as good): ŷ ≥ 0.9 "
                     "means e^(c·tanh 4) ≥ 9 · 3 = 27, the right class's score against three zeros. Gradient "
                     "descent finds such large weights by itself.")
    y_hat = np.exp(c * t) / (np.exp(c * t) + 3) if c * t < 700 else 1.0
    if y_hat < 0.9:
        return wrong(f"with c = {c:g} the right class gets ŷ = {y_hat:.3f} < 0.9. Write ŷ = e^(z_right) / Σ_k e^(z_k) "
                     "with z_right = c·tanh 4 and the other three scores 0, and solve ŷ = 0.9 for c.")
    return wrong(f"with c = {c:g}, ŷ = {y_hat:.4f} ≥ 0.9, but a smaller c does it too: solve ŷ = 0.9 exactly, with "
                 "z_right = c·tanh 4 and the other three scores 0.")
