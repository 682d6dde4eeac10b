"""Ready-made models: one neuron (logistic regression), stacks of them (MLP), a convolutional net (LeNet), and
Deep Knowledge Tracing (DKT)."""
from .dkt import DKT, dkt_accuracy, dkt_array, dkt_auc, dkt_batch, dkt_loss, dkt_scores
from .lenet import LeNet
from .logistic import LogisticRegression
from .mlp import ACTIVATIONS, MLP
