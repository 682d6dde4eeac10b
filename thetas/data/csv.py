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


def _rows(path, lines):
    """(line number, row) for each row of a CSV text (any iterable of lines); ``csv.Error`` (a cell longer than
    ``csv.field_size_limit()``, 131,072 characters by default; a NUL byte) becomes a ValueError naming the file
    and the line. A row spread over several lines (a quoted newline) has the number of its first line."""
    reader = _csv.reader(lines)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except _csv.Error as e:
            raise ValueError(f"{path}, line {reader.line_num}: not a CSV row this reader accepts ({e})") from None
        yield start, row


def _read(path):
    """Header and data rows, each data row with its row number as a spreadsheet shows it (header = row 1)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"from_csv: no such file: {path}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:   # -sig: Excel writes a byte-order mark
            records = [(r, [c.strip() for c in row]) for r, (_, row) in enumerate(_rows(path, f), start=1)]
    except UnicodeDecodeError as e:
        raise ValueError(_not_utf8(path, e)) from None
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


def _not_utf8(path, error):
    """Where the first byte that is not UTF-8 is, for the message (the decoder saw only a chunk)."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        return (f"{path}, line {line}: not UTF-8 text (byte {raw[e.start:e.start + 1]!r} at offset {e.start}); "
                "save the file as UTF-8")
    return f"{path}: not UTF-8 text ({error}); save the file as UTF-8"


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

    Errors: FileNotFoundError for a missing file; ValueError naming the file (and the line, row or column) for
    any malformed content: text that is not UTF-8, a cell the csv module refuses (longer than
    ``csv.field_size_limit()``, a NUL byte), a missing header or target, a ragged row, a cell that is not a
    finite number, a column whose values are too large for the default float dtype (±1e300 in float32).
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
            if np.all(values == np.round(values)) and np.all(np.abs(values) < 2 ** 53):   # exact as int64
                values = values.astype(np.int64)
        else:
            values = np.asarray(labels)
        classes, y = np.unique(values, return_inverse=True)
        classes, y = tuple(c.item() for c in classes), y.astype(np.int64)
    else:
        y = np.asarray([_cell(path, r, target, v) for (r, _), v in zip(rows, labels)], np.float64)
        _check_range(path, y[:, None], [target], None)
        y, classes = y.astype(get_default_dtype()), None

    stratify = task == "classification" and np.bincount(y).min() >= 2
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, seed=seed, stratify=stratify)
    if len(Xtr) == 0:
        raise ValueError(f"{path}: {len(rows)} data rows leave no training rows with test_size={test_size}")
    _check_range(path, X, [header[i] for i in features], Xtr)
    preprocess = Standardize(Xtr.mean(0).tolist(), Xtr.std(0).tolist())
    names = tuple(header[i] for i in features)
    out = []
    for Xs, ys in ((Xtr, ytr), (Xte, yte)):
        ds = ArrayDataset(Xs, ys)
        ds.classes, ds.feature_names, ds.target_name = classes, names, target
        ds.preprocess, ds.task = preprocess, task
        out.append(ds)
    return tuple(out)


def _check_range(path, X, names, Xtr):
    """Every column fits the default float dtype, and (for ``Xtr``) its mean and std are finite: ±1e300 in a
    float32 model is infinity, and the square in the std overflows even in float64."""
    big = np.finfo(get_default_dtype()).max
    with np.errstate(over="ignore", invalid="ignore"):
        too_big = ~(np.abs(X) <= big).all(0)
        if Xtr is not None and len(Xtr):
            too_big |= ~(np.isfinite(Xtr.mean(0)) & np.isfinite(Xtr.std(0)))
    if too_big.any():
        j = int(np.flatnonzero(too_big)[0])
        raise ValueError(f"{path}, column {names[j]!r}: values too large for {np.dtype(get_default_dtype()).name} "
                         f"(at most {big:.3g} in size, and their mean and standard deviation must be finite); "
                         "rescale the column")


def _cell(path, row, column, cell):
    v = _number(cell)
    if v is None:
        shown = repr(cell) if len(cell) <= 40 else repr(cell[:40]) + f"... ({len(cell)} characters)"
        what = "is empty" if not cell else f"{shown} is not a {'finite ' if _is_float(cell) else ''}number"
        raise ValueError(f"{path}, row {row}, column {column!r}: {what}")
    return v


def _is_float(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return False
