"""Data: datasets, mini-batch loading, data sets by name (``th.data.load("digits")``), MNIST and own images; and
the knowledge-tracing students (``Students``, ``synthetic_5``, ``load_students``, ...), whose home is
``thetas.knowledge``."""
from .csv import from_csv
from .dataset import ArrayDataset, random_split, train_test_split
from .digits import digits
from .images import load_image, to_mnist
from .loader import DataLoader
from .mnist import FASHION_MNIST_CLASSES, MNIST_CLASSES, fashion_mnist, mnist, read_idx
from .registry import DATASETS, Task, load
from .toy import FOUR_PIXEL_CLASSES, bumps, circles, four_pixels, gaussians, moons, plane, spiral, xor
# knowledge tracing's data, re-exported (the objects of thetas.knowledge, not copies)
from ..knowledge import (Batch, DKTInputs, Students, dkt_batches, dkt_inputs, guess_format, load_assistments_csv,
                         load_dkt_csv, load_students, optimal_predictions, pad_batch, synthetic_5, synthetic_students)

__all__ = ["ArrayDataset", "DataLoader", "random_split", "train_test_split", "xor", "circles", "spiral", "moons",
           "gaussians", "plane", "bumps",
           "four_pixels", "FOUR_PIXEL_CLASSES", "digits", "from_csv", "load", "Task", "DATASETS",
           "mnist", "fashion_mnist", "read_idx", "MNIST_CLASSES", "FASHION_MNIST_CLASSES", "load_image", "to_mnist",
           "Students", "synthetic_students", "synthetic_5", "optimal_predictions", "load_dkt_csv",
           "load_assistments_csv", "pad_batch", "dkt_batches", "dkt_inputs", "Batch", "DKTInputs"]
