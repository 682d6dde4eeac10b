"""Data: datasets, mini-batch loading, and data sets that need no network."""
from .csv import from_csv
from .dataset import ArrayDataset, random_split, train_test_split
from .digits import digits
from .loader import DataLoader
from .registry import DATASETS, Task, load
from .toy import FOUR_PIXEL_CLASSES, circles, four_pixels, gaussians, moons, spiral, xor
