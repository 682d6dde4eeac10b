"""Small data sets made on the spot (no files, no network): 2-D problems to watch a decision boundary bend,
and the workshop's four-pixel camera. Each generator returns ``(X, y)``: X float32 (n, d), y int64 (n,)."""
import itertools

import numpy as np

FOUR_PIXEL_CLASSES = ("solid", "vertical", "diagonal", "horizontal")


def _finish(X, y, rng):
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order].astype(np.int64)


def _per_class(n_samples, classes):
    return [n_samples // classes + (i < n_samples % classes) for i in range(classes)]


def xor(n_samples=400, noise=0.1, seed=0):
    """Points in the square [-1, 1]², label 1 where x₁·x₂ < 0: the classic problem no single line separates."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n_samples, 2))
    X += np.sign(X) * 0.1  # a margin around the axes, so that the label is unambiguous
    y = (X[:, 0] * X[:, 1] < 0).astype(np.int64)
    return _finish(X + rng.normal(0, noise, X.shape), y, rng)


def circles(n_samples=400, noise=0.1, factor=0.5, seed=0):
    """An inner disc (class 1) inside an outer ring (class 0)."""
    rng = np.random.default_rng(seed)
    n0, n1 = _per_class(n_samples, 2)
    t0, t1 = rng.uniform(0, 2 * np.pi, n0), rng.uniform(0, 2 * np.pi, n1)
    X = np.r_[np.c_[np.cos(t0), np.sin(t0)], factor * np.c_[np.cos(t1), np.sin(t1)]]
    y = np.r_[np.zeros(n0), np.ones(n1)]
    return _finish(X + rng.normal(0, noise, X.shape), y, rng)


def moons(n_samples=400, noise=0.1, seed=0):
    """Two interleaving half circles."""
    rng = np.random.default_rng(seed)
    n0, n1 = _per_class(n_samples, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    X = np.r_[np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]]
    y = np.r_[np.zeros(n0), np.ones(n1)]
    return _finish(X + rng.normal(0, noise, X.shape), y, rng)


def spiral(n_samples=400, noise=0.1, classes=2, turns=1.5, seed=0):
    """``classes`` interleaved spiral arms (ConvNetJS's and TF Playground's hardest 2-D set)."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k, n in enumerate(_per_class(n_samples, classes)):
        r = np.linspace(0.05, 1, n)
        t = 2 * np.pi * (turns * r + k / classes)
        X.append(np.c_[r * np.cos(t), r * np.sin(t)])
        y.append(np.full(n, k))
    X = np.concatenate(X)
    return _finish(X + rng.normal(0, noise * 0.5, X.shape), np.concatenate(y), rng)


def gaussians(n_samples=400, noise=0.1, classes=2, seed=0):
    """``classes`` Gaussian blobs with centres on a circle of radius 1; standard deviation 0.3 + noise."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k, n in enumerate(_per_class(n_samples, classes)):
        angle = 2 * np.pi * k / classes
        X.append(rng.normal([np.cos(angle), np.sin(angle)], 0.3 + noise, (n, 2)))
        y.append(np.full(n, k))
    return _finish(np.concatenate(X), np.concatenate(y), rng)


def four_pixels():
    """The workshop's four-pixel camera: every 2×2 image with pixels in {−1, 1} that shows a pattern.

    Pixels are flattened row-major: (top-left, top-right, bottom-left, bottom-right). Classes
    (``FOUR_PIXEL_CLASSES``): 0 solid (all four equal), 1 vertical (the two columns differ), 2 diagonal (the two
    diagonals differ), 3 horizontal (the two rows differ). Two images per class, 8 in all.
    Returns X (8, 4) float32 and y (8,) int64.
    """
    X, y = [], []
    for tl, tr, bl, br in itertools.product((-1, 1), repeat=4):
        if tl == tr == bl == br:
            label = 0
        elif tl == bl and tr == br:
            label = 1
        elif tl == br and tr == bl:
            label = 2
        elif tl == tr and bl == br:
            label = 3
        else:
            continue
        X.append((tl, tr, bl, br))
        y.append(label)
    order = np.argsort(y, kind="stable")
    return np.asarray(X, np.float32)[order], np.asarray(y, np.int64)[order]
