"""Your own data: a CSV file with a header row, numeric feature columns and a target column."""
import csv as _csv
import os

import numpy as np

from .dataset import ArrayDataset, train_test_split


def _is_int_like(values):
    try:
        f = np.asarray(values, dtype=np.float64)
    except ValueError:
        return False
    return bool(np.all(np.isfinite(f)) and np.all(f == np.round(f)))


def from_csv(path, target, test_size=0.25, seed=0, task=None, max_classes=20):
    """``(train, test)`` ArrayDatasets from a CSV file.

    Every column but ``target`` is a numeric feature. The target is a classification label when it is text, or
    integers with at most ``max_classes`` distinct values (labels renumbered 0..k-1, ``.classes`` keeps the
    originals); otherwise a regression value. ``task='classification'|'regression'`` overrides the guess.
    Features are NOT rescaled; both datasets carry ``.preprocess``, a ``th.nn.Standardize`` fitted on the training
    rows, which the CLI puts first in the model so the scaling is saved with it. A cell that is not a number
    raises a ValueError naming the file, the row (as a spreadsheet numbers it) and the column.
    """
    from ..nn.preprocessing import Standardize
    if not os.path.exists(path):
        raise FileNotFoundError(f"from_csv: no such file: {path}")
    with open(path, newline="") as f:
        rows = list(_csv.reader(f))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise ValueError(f"{path}: needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    if target not in header:
        raise ValueError(f"{path}: no target column {target!r}; the columns are {header}")
    t = header.index(target)
    features = [i for i in range(len(header)) if i != t]
    if not features:
        raise ValueError(f"{path}: there is no feature column besides the target {target!r}")
    X = np.empty((len(rows) - 1, len(features)))
    labels = []
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}, row {r}: has {len(row)} cells but the header has {len(header)} columns")
        for j, i in enumerate(features):
            cell = row[i].strip()
            try:
                X[r - 2, j] = float(cell)
            except ValueError:
                raise ValueError(f"{path}, row {r}, column {header[i]!r}: {cell!r} is not a number") from None
            if not np.isfinite(X[r - 2, j]):
                raise ValueError(f"{path}, row {r}, column {header[i]!r}: {cell!r} is not a finite number")
        if not row[t].strip():
            raise ValueError(f"{path}, row {r}, column {target!r}: the target is empty")
        labels.append(row[t].strip())
    numeric = _is_int_like(labels) or task == "regression"
    if task is None:
        task = "classification" if not numeric or len(set(labels)) <= max_classes and _is_int_like(labels) \
            else "regression"
    if task == "classification":
        values = np.asarray(labels, np.float64).astype(np.int64) if _is_int_like(labels) else np.asarray(labels)
        classes, y = np.unique(values, return_inverse=True)
        classes = tuple(c.item() for c in classes)
    elif task == "regression":
        try:
            y = np.asarray(labels, np.float64)
        except ValueError:
            bad = next(i for i, v in enumerate(labels) if not _is_int_like([v]) and not _is_float(v))
            raise ValueError(f"{path}, row {bad + 2}, column {target!r}: {labels[bad]!r} is not a number") from None
        classes = None
    else:
        raise ValueError(f"from_csv: task must be 'classification' or 'regression', got {task!r}")
    stratify = task == "classification" and np.bincount(y).min() >= 2
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, seed=seed, stratify=stratify)
    preprocess = Standardize(Xtr.mean(0).tolist(), Xtr.std(0).tolist())
    out = []
    for Xs, ys in ((Xtr, ytr), (Xte, yte)):
        ds = ArrayDataset(Xs, ys.astype(np.float32) if task == "regression" else ys)
        ds.classes, ds.feature_names, ds.target_name = classes, tuple(header[i] for i in features), target
        ds.preprocess, ds.task = preprocess, task
        out.append(ds)
    return tuple(out)


def _is_float(v):
    try:
        float(v)
        return True
    except ValueError:
        return False
