"""Data sets by name, as the CLI and the lab ask for them: ``th.data.load("digits-1v2")``."""
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import toy
from .dataset import ArrayDataset, train_test_split

DATASETS = ("digits", "digits-1v2", "four-pixels", "xor", "circles", "spiral", "moons", "gaussians", "mnist",
            "fashion-mnist")
_TOY = {"xor": toy.xor, "circles": toy.circles, "spiral": toy.spiral, "moons": toy.moons, "gaussians": toy.gaussians}
_TOY_SAMPLES = 400   # default n_samples of a generated set; noise defaults to each generator's own (0.1)


@dataclass
class Task:
    """A named data set, split, with what a model needs to know about it."""
    name: str
    train: ArrayDataset
    test: ArrayDataset
    num_features: int
    num_classes: int          # 0 for regression
    classes: Any              # the original label of each class (tuple), or None for regression
    feature_names: Any        # tuple of column names, or None
    preprocess: Any           # a Module to put first in the model (a CSV's Standardize), or None
    task: str                 # 'classification' or 'regression'


def _task(name, train, test, classes, feature_names=None, preprocess=None, task="classification"):
    for ds in (train, test):
        ds.classes, ds.feature_names = classes, feature_names
    return Task(name, train, test, int(train.X.shape[1]), 0 if classes is None else len(classes), classes,
                feature_names, preprocess, task)


def load(name, seed=0, n_samples=None, noise=None, target=None):
    """A ``Task`` by name (one of ``DATASETS``) or from a CSV file (a path ending in ``.csv``, with ``target``).

    The generated 2-D sets (xor, circles, spiral, moons, gaussians) have ``n_samples`` points (400 unless
    given) with ``noise``, split 75/25 stratified; ``seed`` fixes both the points and the split.
    "four-pixels" trains and tests on the same 8 images. ``noise`` applies to generated sets only.
    "mnist" and "fashion-mnist" hold float32 images (N, 1, 28, 28) in [0, 1] and the official split (``seed`` is
    unused); ``n_samples`` keeps the first ``n_samples`` training images, the test set stays the 10,000.
    """
    from .csv import from_csv
    from .digits import digits
    name = str(name)
    if name.lower().endswith(".csv"):
        if not target:
            raise ValueError(f"{name}: a CSV data set needs a target column (--target COLUMN, the label column)")
        train, test = from_csv(name, target, seed=seed)
        return _task(name, train, test, train.classes, train.feature_names, train.preprocess, train.task)
    key = name.lower()
    if key in ("digits", "digits-1v2"):
        train, test = digits(classes=(1, 2) if key == "digits-1v2" else None, seed=seed)
        return _task(key, train, test, train.classes)
    if key == "four-pixels":
        X, y = toy.four_pixels()
        ds = ArrayDataset(X, y)
        ds.image_shape = (2, 2)
        return _task(key, ds, ds, toy.FOUR_PIXEL_CLASSES, ("top-left", "top-right", "bottom-left", "bottom-right"))
    if key in _TOY:
        kwargs = {"n_samples": _TOY_SAMPLES if n_samples is None else n_samples, "seed": seed}
        if noise is not None:
            kwargs["noise"] = noise
        X, y = _TOY[key](**kwargs)
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, seed=seed)
        k = int(y.max()) + 1
        return _task(key, ArrayDataset(Xtr, ytr), ArrayDataset(Xte, yte), tuple(range(k)), ("x1", "x2"))
    if key in ("mnist", "fashion-mnist"):
        return _mnist_task(key, n_samples)
    raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}, "
                     "or a .csv file with a target column")


def _mnist_task(key, n_samples):
    from .mnist import FASHION_MNIST_CLASSES, MNIST_CLASSES, fashion_mnist, mnist
    (Xtr, ytr), (Xte, yte) = mnist() if key == "mnist" else fashion_mnist()
    if n_samples is not None:
        Xtr, ytr = Xtr[:n_samples], ytr[:n_samples]
    datasets = []
    for X, y in ((Xtr, ytr), (Xte, yte)):
        images = np.empty((len(X), 1, 28, 28), np.float32)      # (N, C, H, W)
        np.multiply(X[:, None], np.float32(1 / 255), out=images)
        datasets.append(ArrayDataset(images, y))
        datasets[-1].image_shape = (28, 28)
    task = _task(key, *datasets, MNIST_CLASSES if key == "mnist" else FASHION_MNIST_CLASSES)
    task.num_features = 28 * 28                                 # what an MLP sees once it flattens the image
    return task
