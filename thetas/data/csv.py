"""Your own data: a CSV file with a header row, numeric feature columns and a target column."""
import csv as _csv
import os

import numpy as np

from ..tensor import get_default_dtype
from .dataset import ArrayDataset, train_test_split


def _number(cell):
    """The cell as a finite float, or None."""
    try:
        v = float(cell)
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def _read(path):
    """Header and data rows, each data row with its row number as a spreadsheet shows it (header = row 1)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"from_csv: no such file: {path}")
    with open(path, newline="", encoding="utf-8-sig") as f:   # -sig: Excel writes a byte-order mark
        records = [(r, [c.strip() for c in row]) for r, row in enumerate(_csv.reader(f), start=1)]
    records = [(r, row) for r, row in records if any(row)]       # blank lines carry no example
    if not records:
        raise ValueError(f"{path}: the file is empty; it needs a header row and data rows")
    (hr, header), rows = records[0], records[1:]
    if all(_number(h) is not None for h in header):
        raise ValueError(f"{path}: row {hr} should be a header naming the columns, but it holds only numbers")
    for i, name in enumerate(header):
        if not name:
            raise ValueError(f"{path}: column {i + 1} has no name in the header (row {hr})")
        if header.index(name) != i:
            raise ValueError(f"{path}: the header names column {name!r} twice")
    if not rows:
        raise ValueError(f"{path}: there are no data rows below the header")
    return header, rows


def _target_kind(values, max_classes):
    """'classification' for text, or few distinct integers; else 'regression'."""
    numbers = [_number(v) for v in values]
    if any(v is None for v in numbers):
        return "classification"
    integers = all(v == round(v) for v in numbers)
    return "classification" if integers and len(set(numbers)) <= max_classes else "regression"


def from_csv(path, target, test_size=0.25, seed=0, task=None, max_classes=20):
    """``(train, test)`` ArrayDatasets from a CSV file.

    Every column but ``target`` is a numeric feature. The target is a classification label when it is text, or
    integers with at most ``max_classes`` distinct values (labels renumbered 0..k-1 in sorted order, ``.classes``
    keeps the originals); otherwise a regression value (float). ``task='classification'|'regression'``
    overrides the guess. The split is fixed by ``seed`` (stratified for classification).

    Features are NOT rescaled; both datasets carry ``.preprocess``, a ``th.nn.Standardize`` with the mean and std
    of the TRAINING rows, which the CLI puts first in the model so the scaling is saved with it. Both carry
    ``.feature_names``, ``.target_name``, ``.classes`` (None for regression) and ``.task``.
    A cell that is empty or not a number raises a ValueError naming the file, the row (as a spreadsheet numbers
    it) and the column.
    """
    from ..nn.preprocessing import Standardize
    if task not in (None, "classification", "regression"):
        raise ValueError(f"from_csv: task must be 'classification', 'regression' or None, got {task!r}")
    path = os.fspath(path)
    header, rows = _read(path)
    if target not in header:
        raise ValueError(f"{path}: no target column {target!r}; the columns are {', '.join(header)}")
    t = header.index(target)
    features = [i for i in range(len(header)) if i != t]
    if not features:
        raise ValueError(f"{path}: there is no feature column besides the target {target!r}")

    X = np.empty((len(rows), len(features)))
    labels = []
    for n, (r, row) in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"{path}, row {r}: has {len(row)} cells but the header has {len(header)} columns")
        for j, i in enumerate(features):
            X[n, j] = _cell(path, r, header[i], row[i])
        if not row[t]:
            raise ValueError(f"{path}, row {r}, column {target!r}: the target cell is empty")
        labels.append(row[t])

    task = task or _target_kind(labels, max_classes)
    if task == "classification":
        numbers = [_number(v) for v in labels]
        if all(v is not None for v in numbers):   # numeric labels sort as numbers ("10" after "9")
            values = np.asarray(numbers)
            if np.all(values == np.round(values)):
                values = values.astype(np.int64)
        else:
            values = np.asarray(labels)
        classes, y = np.unique(values, return_inverse=True)
        classes, y = tuple(c.item() for c in classes), y.astype(np.int64)
    else:
        y = np.asarray([_cell(path, r, target, v) for (r, _), v in zip(rows, labels)], get_default_dtype())
        classes = None

    stratify = task == "classification" and np.bincount(y).min() >= 2
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, seed=seed, stratify=stratify)
    if len(Xtr) == 0:
        raise ValueError(f"{path}: {len(rows)} data rows leave no training rows with test_size={test_size}")
    preprocess = Standardize(Xtr.mean(0).tolist(), Xtr.std(0).tolist())
    names = tuple(header[i] for i in features)
    out = []
    for Xs, ys in ((Xtr, ytr), (Xte, yte)):
        ds = ArrayDataset(Xs, ys)
        ds.classes, ds.feature_names, ds.target_name = classes, names, target
        ds.preprocess, ds.task = preprocess, task
        out.append(ds)
    return tuple(out)


def _cell(path, row, column, cell):
    v = _number(cell)
    if v is None:
        what = "is empty" if not cell else f"{cell!r} is not a {'finite ' if _is_float(cell) else ''}number"
        raise ValueError(f"{path}, row {row}, column {column!r}: {what}")
    return v


def _is_float(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return False
