"""Datasets: arrays of examples x and labels y, and ways to split them."""
import numpy as np

from ..tensor import get_default_dtype


class ArrayDataset:
    """Examples ``X`` (N, ...) and labels ``y`` (N,) held as NumPy arrays; ``ds[i] -> (x_i, y_i)``.

    Floating ``X`` is stored in thetas' default dtype (float32) unless ``dtype`` is given. Integer labels are
    stored as int64 (what ``cross_entropy`` indexes with), floating labels (regression targets) as given.
    Loaders may attach more attributes (``classes``, ``feature_names``, ``preprocess``); ``subset`` keeps them.
    """

    def __init__(self, X, y=None, dtype=None):
        X = np.asarray(X)
        if X.ndim == 0:
            raise ValueError(f"ArrayDataset: X must have a first axis of examples, got a scalar {X!r}")
        if dtype is not None or X.dtype.kind == "f":
            X = X.astype(dtype or get_default_dtype(), copy=False)
        if y is not None:
            y = np.asarray(y)
            if y.ndim == 0 or len(y) != len(X):
                raise ValueError(f"ArrayDataset: X has {len(X)} examples but y has "
                                 f"{'a scalar' if y.ndim == 0 else len(y)}; they must be equal")
            if y.dtype.kind in "iub":
                y = y.astype(np.int64, copy=False)
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return (self.X[i], self.y[i]) if self.y is not None else self.X[i]

    def subset(self, indices):
        """A new dataset of the rows ``indices``, keeping the attached attributes."""
        out = ArrayDataset(self.X[indices], None if self.y is None else self.y[indices], dtype=self.X.dtype)
        for k, v in vars(self).items():
            if k not in ("X", "y"):
                setattr(out, k, v)
        return out

    def __repr__(self):
        y = "None" if self.y is None else f"{self.y.shape} {self.y.dtype}"
        return f"ArrayDataset(X={self.X.shape} {self.X.dtype}, y={y})"


def _as_array_dataset(dataset):
    """An ArrayDataset of ``dataset``: itself, a tuple ``(X, y)``, or any dataset with ``__getitem__``/``__len__``
    (its samples stacked)."""
    if isinstance(dataset, ArrayDataset):
        return dataset
    if isinstance(dataset, tuple):
        return ArrayDataset(*dataset)
    samples = [dataset[i] for i in range(len(dataset))]
    if samples and isinstance(samples[0], tuple):
        X, y = (np.stack(col) for col in zip(*samples))
        return ArrayDataset(X, y)
    return ArrayDataset(np.stack(samples))


def _split_sizes(n, lengths):
    lengths = list(lengths)
    if any(v < 0 for v in lengths):
        raise ValueError(f"random_split: lengths must not be negative, got {lengths}")
    if all(isinstance(v, (float, np.floating)) for v in lengths) and abs(sum(lengths) - 1) < 1e-6:
        sizes = [int(np.floor(f * n)) for f in lengths]
        for i in range(n - sum(sizes)):  # the remainder, one each, round-robin (as torch does)
            sizes[i % len(sizes)] += 1
        return sizes
    if any(int(v) != v for v in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} must be counts summing to the dataset size {n}, "
                         "or fractions summing to 1")
    return [int(v) for v in lengths]


def random_split(dataset, lengths, seed=0):
    """Split into non-overlapping random subsets of the given sizes (ints, or fractions that sum to 1).

    ``random_split(ds, [0.8, 0.2])`` -> [train, val], a list of ArrayDatasets; the same ``seed`` gives the same split.
    """
    dataset = _as_array_dataset(dataset)
    n = len(dataset)
    perm = np.random.default_rng(seed).permutation(n)
    out, start = [], 0
    for size in _split_sizes(n, lengths):
        out.append(dataset.subset(perm[start:start + size]))
        start += size
    return out


def train_test_split(X, y, test_size=0.25, seed=0, stratify=True):
    """A fixed random split: returns ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    ``test_size`` is a fraction of the examples (or an int count). With ``stratify`` and integer or text labels,
    each class puts round(test_size · its count) examples in the test set, so every class keeps its proportion
    in both parts (the total may differ from round(test_size · N) by a few); floating (regression) targets are
    split plainly. The same ``seed`` gives the same split every run.
    """
    X, y = np.asarray(X), np.asarray(y)
    n = len(y)
    if len(X) != n:
        raise ValueError(f"train_test_split: X has {len(X)} examples but y has {n}")
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        if not 0 <= test_size <= n:
            raise ValueError(f"train_test_split: test_size={test_size} examples, but there are only {n}")
        fraction = test_size / max(n, 1)
    elif 0 <= test_size < 1:
        fraction = test_size
    else:
        raise ValueError(f"train_test_split: test_size must be a fraction in [0, 1) or a count, got {test_size}")
    rng = np.random.default_rng(seed)
    if stratify and y.dtype.kind in "iubUSO":
        test = []
        for label in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == label))
            test.append(idx[:int(round(fraction * len(idx)))])
        test = np.concatenate(test) if test else np.zeros(0, np.int64)
    else:
        test = rng.permutation(n)[:int(round(fraction * n))]
    test = np.sort(test)
    mask = np.ones(n, bool)
    mask[test] = False
    train = rng.permutation(np.flatnonzero(mask))
    return X[train], X[test], y[train], y[test]
