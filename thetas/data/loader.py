"""DataLoader: mini-batches for stochastic gradient descent."""
import numpy as np

from .dataset import ArrayDataset


class DataLoader:
    """Iterate over ``(xb, yb)`` NumPy mini-batches of a dataset; ``len(loader)`` is the number of batches.

    With ``shuffle`` every epoch visits the examples in a fresh random order: the loader's own
    ``np.random.Generator`` (from ``seed``) draws one permutation per epoch, so epoch 1, 2, ... differ from each
    other and the whole sequence repeats for the same seed. ``batch_size = len(dataset)`` is (full-)batch
    gradient descent, ``batch_size = 1`` the textbook SGD. ``drop_last`` skips a last, smaller batch.

    An ArrayDataset (or a tuple ``(X, y)``) is batched by fancy indexing of ``.X`` and ``.y``, without a Python
    loop per example; any other dataset with ``__getitem__`` and ``__len__`` has its samples stacked.
    """

    def __init__(self, dataset, batch_size=32, shuffle=False, seed=None, drop_last=False):
        if isinstance(dataset, tuple):
            dataset = ArrayDataset(*dataset)
        if not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: expected a dataset with __getitem__ and __len__ or a tuple (X, y), "
                            f"got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a whole number >= 1, got {batch_size!r}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self._rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n, b = len(self.dataset), self.batch_size
        order = self._rng.permutation(n) if self.shuffle else None
        stop = n - n % b if self.drop_last else n
        for start in range(0, stop, b):
            # shuffled: an index array (fancy indexing copies); in order: a slice (a view, no copy)
            idx = order[start:start + b] if order is not None else slice(start, min(start + b, n))
            yield self._batch(idx)

    def state_dict(self):
        """The loader's random state, ``{"rng": generator.bit_generator.state}``: ``fit``'s checkpoint saves it, so a
        resumed run draws the same order for every epoch still to come."""
        return {"rng": self._rng.bit_generator.state}

    def load_state_dict(self, state):
        """Restore ``state_dict()`` (a state of another kind of bit generator is refused, nothing changed)."""
        rng = state.get("rng") if isinstance(state, dict) else None
        kind = type(self._rng.bit_generator).__name__
        if not isinstance(rng, dict) or rng.get("bit_generator") != kind:
            raise ValueError(f"DataLoader.load_state_dict: expected {{'rng': a {kind} state}}, got {str(state)[:80]}")
        self._rng.bit_generator.state = rng

    def _batch(self, idx):
        ds = self.dataset
        if isinstance(ds, ArrayDataset):
            return (ds.X[idx], ds.y[idx]) if ds.y is not None else ds.X[idx]
        rows = range(len(ds))[idx] if isinstance(idx, slice) else idx
        samples = [ds[int(i)] for i in rows]
        if isinstance(samples[0], tuple):
            return tuple(np.stack([np.asarray(s) for s in col]) for col in zip(*samples))
        return np.stack([np.asarray(s) for s in samples])

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
