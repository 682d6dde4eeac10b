"""DataLoader: mini-batches for stochastic gradient descent."""
import numpy as np

from .dataset import ArrayDataset


class DataLoader:
    """Iterate over ``(xb, yb)`` NumPy mini-batches of a dataset.

    With ``shuffle`` every epoch visits the examples in a fresh random order, reproducible from ``seed``.
    ``batch_size = len(dataset)`` is (full-)batch gradient descent, ``batch_size = 1`` is the textbook SGD.
    An ArrayDataset (or a tuple ``(X, y)``) is batched by fancy indexing, without a Python loop per example.
    """

    def __init__(self, dataset, batch_size=32, shuffle=False, seed=None, drop_last=False):
        if isinstance(dataset, tuple):
            dataset = ArrayDataset(*dataset)
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be at least 1, got {batch_size}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, int(batch_size), shuffle, drop_last
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n, b = len(self.dataset), self.batch_size
        order = self._rng.permutation(n) if self.shuffle else None
        stop = n - n % b if self.drop_last else n
        ds = self.dataset
        fast = isinstance(ds, ArrayDataset)
        for start in range(0, stop, b):
            idx = order[start:start + b] if order is not None else slice(start, start + b)
            if fast:
                yield (ds.X[idx], ds.y[idx]) if ds.y is not None else ds.X[idx]
            else:
                rows = range(n)[idx] if isinstance(idx, slice) else idx
                samples = [ds[int(i)] for i in rows]
                if isinstance(samples[0], tuple):
                    yield tuple(np.stack(col) for col in zip(*samples))
                else:
                    yield np.stack(samples)
