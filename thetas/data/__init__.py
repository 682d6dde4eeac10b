"""Data: datasets, mini-batch loading, and data sets that need no network (``th.data.load("digits")``)."""
from .csv import from_csv
from .dataset import ArrayDataset, random_split, train_test_split
from .digits import digits
from .loader import DataLoader
from .registry import DATASETS, Task, load
from .toy import FOUR_PIXEL_CLASSES, circles, four_pixels, gaussians, moons, spiral, xor

__all__ = ["ArrayDataset", "DataLoader", "random_split", "train_test_split", "xor", "circles", "spiral", "moons",
           "gaussians", "four_pixels", "FOUR_PIXEL_CLASSES", "digits", "from_csv", "load", "Task", "DATASETS"]
