"""Layers and models: ``th.nn.Linear``, ``th.nn.Conv2d``, ``th.nn.LSTM``, ``th.nn.Sequential``, activations,
``th.nn.functional``."""
from . import functional, init, utils
from .activation import Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .containers import ModuleList, Sequential
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .dropout import Dropout
from .linear import Linear
from .module import Buffer, Module, Parameter, build
from .normalization import BatchNorm1d, BatchNorm2d
from .preprocessing import L2Normalize, Standardize
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from ..losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,  # noqa: F401
                      NLLLoss)
