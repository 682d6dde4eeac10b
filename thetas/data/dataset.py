"""Datasets: arrays of examples x and labels y, and ways to split them."""
import numpy as np

from ..tensor import get_default_dtype


class ArrayDataset:
    """Examples ``X`` (N, ...) and labels ``y`` (N,) held as NumPy arrays; ``ds[i] -> (x_i, y_i)``.

    Floating ``X`` is stored in thetas' default dtype (float32) unless ``dtype`` says otherwise. Extra attributes
    (``classes``, ``feature_names``, ``preprocess``) may be attached by the loaders.
    """

    def __init__(self, X, y=None, dtype=None):
        X = np.asarray(X)
        if dtype is not None or X.dtype.kind == "f":
            X = X.astype(dtype or get_default_dtype(), copy=False)
        if y is not None:
            y = np.asarray(y)
            if len(y) != len(X):
                raise ValueError(f"ArrayDataset: X has {len(X)} examples but y has {len(y)}")
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return (self.X[i], self.y[i]) if self.y is not None else self.X[i]

    def subset(self, indices):
        """A new dataset of the rows ``indices``, keeping the attached attributes."""
        out = ArrayDataset(self.X[indices], None if self.y is None else self.y[indices])
        for k, v in vars(self).items():
            if k not in ("X", "y"):
                setattr(out, k, v)
        return out

    def __repr__(self):
        return f"ArrayDataset(X={self.X.shape} {self.X.dtype}, y={None if self.y is None else self.y.shape})"


def _split_sizes(n, lengths):
    lengths = list(lengths)
    if all(isinstance(v, float) for v in lengths) and abs(sum(lengths) - 1) < 1e-6:
        sizes = [int(np.floor(f * n)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        return sizes
    if sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} must sum to the dataset size {n} (or be fractions summing to 1)")
    return [int(v) for v in lengths]


def random_split(dataset, lengths, seed=0):
    """Split into non-overlapping random subsets of the given sizes (ints, or fractions that sum to 1)."""
    n = len(dataset)
    perm = np.random.default_rng(seed).permutation(n)
    out, start = [], 0
    for size in _split_sizes(n, lengths):
        out.append(dataset.subset(perm[start:start + size]))
        start += size
    return out


def train_test_split(X, y, test_size=0.25, seed=0, stratify=True):
    """A fixed random split (stratified by label when ``stratify``): returns X_train, X_test, y_train, y_test."""
    X, y = np.asarray(X), np.asarray(y)
    rng = np.random.default_rng(seed)
    if stratify:
        test = []
        for label in np.unique(y):
            idx = rng.permutation(np.flatnonzero(y == label))
            test.append(idx[:int(round(test_size * len(idx)))])
        test = np.sort(np.concatenate(test))
    else:
        test = np.sort(rng.permutation(len(y))[:int(round(test_size * len(y)))])
    mask = np.ones(len(y), bool)
    mask[test] = False
    train = rng.permutation(np.flatnonzero(mask))
    return X[train], X[test], y[train], y[test]
