"""Small data sets made on the spot (no files, no network): 2-D problems to watch a decision boundary bend,
and the workshop's four-pixel camera. Each classification generator returns ``(X, y)``: X float32 (n, 2), y int64
(n,), classes as equal in size as ``n_samples`` allows, rows shuffled; the same ``seed`` gives the same points.
The two regression sets (TensorFlow Playground's ``plane`` and ``bumps``, its "multi Gaussian") return ``(X, t)``
with a float32 target t in [-1, 1] for each point."""
import itertools

import numpy as np

FOUR_PIXEL_CLASSES = ("solid", "vertical", "diagonal", "horizontal")


def _finish(X, y, rng):
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order].astype(np.int64)


def _per_class(n_samples, classes, name):
    """How many points each class gets: as equal as possible, the first ones one more."""
    if isinstance(n_samples, bool) or int(n_samples) != n_samples or n_samples < classes:
        raise ValueError(f"{name}: n_samples must be a whole number of at least {classes}, got {n_samples!r}")
    n_samples = int(n_samples)
    return [n_samples // classes + (i < n_samples % classes) for i in range(classes)]


def _check_noise(noise, name):
    if not noise >= 0:
        raise ValueError(f"{name}: noise must be >= 0, got {noise!r}")


def xor(n_samples=400, noise=0.1, seed=0):
    """The four quadrants of the square [-1.1, 1.1]², label 1 where sign(x₁)·sign(x₂) < 0: no line separates them.

    Points are uniform within each quadrant (a quarter of them in each), kept 0.1 away from the axes so the label
    is unambiguous, then moved by Gaussian noise of standard deviation ``noise``.
    """
    _check_noise(noise, "xor")
    rng = np.random.default_rng(seed)
    X = []
    for (sx, sy), n in zip(((1, 1), (-1, 1), (-1, -1), (1, -1)), _per_class(n_samples, 4, "xor")):
        X.append(rng.uniform(0.1, 1.1, (n, 2)) * (sx, sy))
    X = np.concatenate(X)
    y = (np.sign(X[:, 0]) * np.sign(X[:, 1]) < 0).astype(np.int64)
    return _finish(X + rng.normal(0, noise, X.shape), y, rng)


def circles(n_samples=400, noise=0.1, factor=0.5, seed=0):
    """An inner ring of radius ``factor`` (class 1) inside an outer ring of radius 1 (class 0)."""
    _check_noise(noise, "circles")
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor (inner radius / outer radius) must be in (0, 1), got {factor!r}")
    rng = np.random.default_rng(seed)
    n0, n1 = _per_class(n_samples, 2, "circles")
    t0, t1 = rng.uniform(0, 2 * np.pi, n0), rng.uniform(0, 2 * np.pi, n1)
    X = np.r_[np.c_[np.cos(t0), np.sin(t0)], factor * np.c_[np.cos(t1), np.sin(t1)]]
    y = np.r_[np.zeros(n0), np.ones(n1)]
    return _finish(X + rng.normal(0, noise, X.shape), y, rng)


def moons(n_samples=400, noise=0.1, seed=0):
    """Two interleaving half circles: the upper one (class 0) centred at (0, 0), the lower (class 1) at (1, 0.5)."""
    _check_noise(noise, "moons")
    rng = np.random.default_rng(seed)
    n0, n1 = _per_class(n_samples, 2, "moons")
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    X = np.r_[np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]]
    y = np.r_[np.zeros(n0), np.ones(n1)]
    return _finish(X + rng.normal(0, noise, X.shape), y, rng)


def spiral(n_samples=400, noise=0.1, classes=2, turns=1.5, seed=0):
    """``classes`` interleaved spiral arms (ConvNetJS's and TF Playground's hardest 2-D set).

    Arm k: r from 0.05 to 1, angle 2π·(turns·r + k/classes); Gaussian noise of standard deviation ``noise / 2``
    (neighbouring arms are only about 0.3 apart).
    """
    _check_noise(noise, "spiral")
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k, n in enumerate(_per_class(n_samples, classes, "spiral")):
        r = np.linspace(0.05, 1, n)
        t = 2 * np.pi * (turns * r + k / classes)
        X.append(np.c_[r * np.cos(t), r * np.sin(t)])
        y.append(np.full(n, k))
    X = np.concatenate(X)
    return _finish(X + rng.normal(0, noise * 0.5, X.shape), np.concatenate(y), rng)


def gaussians(n_samples=400, noise=0.1, classes=2, seed=0):
    """``classes`` Gaussian blobs with centres evenly spaced on the unit circle; standard deviation 0.3 + noise."""
    _check_noise(noise, "gaussians")
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k, n in enumerate(_per_class(n_samples, classes, "gaussians")):
        angle = 2 * np.pi * k / classes
        X.append(rng.normal([np.cos(angle), np.sin(angle)], 0.3 + noise, (n, 2)))
        y.append(np.full(n, k))
    return _finish(np.concatenate(X), np.concatenate(y), rng)


def plane(n_samples=400, noise=0.1, seed=0):
    """Regression on a tilted plane: x uniform in [-1.8, 1.8]², target t = (x₁ + x₂) / 3.6 in [-1, 1], plus
    Gaussian noise of standard deviation ``noise / 2`` on t (then clipped to [-1, 1]). One linear neuron fits it."""
    _check_noise(noise, "plane")
    n = _per_class(n_samples, 1, "plane")[0]
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.8, 1.8, (n, 2))
    t = np.clip((X[:, 0] + X[:, 1]) / 3.6 + rng.normal(0, noise * 0.5, n), -1, 1)
    return X.astype(np.float32), t.astype(np.float32)


BUMPS = ((-1.2, 0.7, 1), (0, 0.7, -1), (1.2, 0.7, 1), (-1.2, -0.7, -1), (0, -0.7, 1), (1.2, -0.7, -1))


def bumps(n_samples=400, noise=0.1, seed=0):
    """Regression on six Gaussian bumps of alternating sign (``BUMPS``: centre and sign, a 3 × 2 grid):
    t = Σₖ sₖ·exp(−‖x − cₖ‖² / (2·0.35²)), x uniform in [-1.8, 1.8]², plus Gaussian noise of standard deviation
    ``noise / 2`` on t, clipped to [-1, 1]. It needs hidden neurons: one bump per few tanh units."""
    _check_noise(noise, "bumps")
    n = _per_class(n_samples, 1, "bumps")[0]
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.8, 1.8, (n, 2))
    t = sum(s * np.exp(-((X[:, 0] - a) ** 2 + (X[:, 1] - b) ** 2) / (2 * 0.35 ** 2)) for a, b, s in BUMPS)
    t = np.clip(t + rng.normal(0, noise * 0.5, n), -1, 1)
    return X.astype(np.float32), t.astype(np.float32)


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
