"""scikit-learn's bundled 8×8 handwritten digits: 1,797 images of 0-9, no download needed."""
import functools

import numpy as np

from .dataset import ArrayDataset, train_test_split


@functools.lru_cache(maxsize=1)
def _load():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError('th.data.digits() reads scikit-learn\'s bundled digits: pip install "thetas[data]"') from None
    bunch = load_digits()
    X, y = bunch.data / 16.0, bunch.target.astype(np.int64)   # (1797, 64) in [0, 1], (1797,)
    X.flags.writeable = y.flags.writeable = False              # cached: every caller gets its own copy below
    return X, y


def digits(classes=None, test_size=0.25, seed=0):
    """``(train, test)`` ArrayDatasets of 8×8 digits flattened to 64 features in [0, 1], a fixed stratified split.

    ``classes=(1, 2)`` keeps only those digits (the lecture's "1 vs 2" network) and renumbers the labels 0..k-1
    in the order given; ``.classes`` holds the original digit of each label (``train.classes[y]``).
    The split depends only on ``seed``: the same images are in the test set every run.
    """
    X, y = _load()
    classes = tuple(range(10)) if classes is None else tuple(int(c) for c in classes)
    unknown = [c for c in classes if c not in range(10)]
    if unknown or len(set(classes)) != len(classes) or len(classes) < 2:
        raise ValueError(f"digits: classes must be at least two distinct digits 0-9, got {classes}")
    keep = np.isin(y, classes)
    remap = np.full(10, -1, np.int64)
    remap[list(classes)] = np.arange(len(classes))
    X, y = X[keep], remap[y[keep]]   # fancy indexing copies, so the cache stays untouched
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, seed=seed)
    train, test = ArrayDataset(Xtr, ytr), ArrayDataset(Xte, yte)
    for ds in (train, test):
        ds.classes, ds.image_shape = classes, (8, 8)
    return train, test
