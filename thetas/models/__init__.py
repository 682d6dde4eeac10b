"""Ready-made models: one neuron (logistic regression), stacks of them (MLP), a convolutional net (LeNet), the
network ``thetas train`` builds for a data set (``build_model``), a sparse autoencoder that learns without labels
(``Autoencoder``), and Deep Knowledge Tracing (DKT, at home in
``thetas.knowledge``)."""
from ..knowledge.model import DKT, dkt_accuracy, dkt_array, dkt_auc, dkt_batch, dkt_loss, dkt_scores
from .autoencoder import Autoencoder
from .builder import ARCHITECTURES, build_model, image_shape
from .lenet import LeNet
from .logistic import LogisticRegression
from .mlp import ACTIVATIONS, MLP
