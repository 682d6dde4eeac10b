"""Data sets by name, as the CLI and the lab ask for them."""
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import toy
from .dataset import ArrayDataset, train_test_split

DATASETS = ("digits", "digits-1v2", "four-pixels", "xor", "circles", "spiral", "moons", "gaussians")
_TOY = {"xor": toy.xor, "circles": toy.circles, "spiral": toy.spiral, "moons": toy.moons, "gaussians": toy.gaussians}


@dataclass
class Task:
    """A named data set, split, with what a model needs to know about it."""
    name: str
    train: ArrayDataset
    test: ArrayDataset
    num_features: int
    num_classes: int          # 0 for regression
    classes: Any              # original label of each class, or None
    feature_names: Any
    preprocess: Any           # a Module to put first in the model (e.g. Standardize), or None
    task: str                 # 'classification' or 'regression'


def load(name, seed=0, n_samples=None, noise=None, target=None):
    """A ``Task`` by name (``DATASETS``) or from a CSV path (with ``target``)."""
    from .csv import from_csv
    from .digits import digits
    name = str(name)
    if name.endswith(".csv"):
        if not target:
            raise ValueError(f"{name}: a CSV data set needs --target COLUMN (the label column)")
        train, test = from_csv(name, target, seed=seed)
        return Task(name, train, test, train.X.shape[1], len(train.classes) if train.classes else 0,
                    train.classes, train.feature_names, train.preprocess, train.task)
    if name in ("digits", "digits-1v2"):
        train, test = digits(classes=(1, 2) if name == "digits-1v2" else None, seed=seed)
        return Task(name, train, test, 64, len(train.classes), train.classes, None, None, "classification")
    if name == "four-pixels":
        X, y = toy.four_pixels()
        ds = ArrayDataset(X, y)
        ds.classes = toy.FOUR_PIXEL_CLASSES
        return Task(name, ds, ds, 4, 4, toy.FOUR_PIXEL_CLASSES, ("tl", "tr", "bl", "br"), None, "classification")
    if name in _TOY:
        kwargs = {"n_samples": n_samples or 400, "seed": seed}
        if noise is not None:
            kwargs["noise"] = noise
        X, y = _TOY[name](**kwargs)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, seed=seed)
        k = int(y.max()) + 1
        return Task(name, ArrayDataset(Xtr, ytr), ArrayDataset(Xte, yte), 2, k, tuple(range(k)), ("x1", "x2"),
                    None, "classification")
    raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}, or a .csv file with --target")
