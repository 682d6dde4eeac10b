"""Ready-made models: one neuron (logistic regression) and stacks of them (MLP)."""
from .logistic import LogisticRegression
from .mlp import ACTIVATIONS, MLP
