"""Ready-made models: one neuron (logistic regression), stacks of them (MLP), and a convolutional net (LeNet)."""
from .lenet import LeNet
from .logistic import LogisticRegression
from .mlp import ACTIVATIONS, MLP
