"""Stateless forms of the layers and losses: ``F.relu(x)``, ``F.linear(x, W, b)``, ``F.conv2d(x, W, b)``,
``F.cross_entropy(z, y)``. (The rules live in ``thetas/autograd/``, one file per family; the losses' user-facing
functions in ``thetas.losses``; this module only gathers names.)"""
from ..autograd.conv import avg_pool2d, conv2d, max_pool2d  # noqa: F401
from ..autograd.normalization import batch_norm  # noqa: F401
from ..autograd.recurrent import gru, lstm, rnn  # noqa: F401
from ..autograd.ops import leaky_relu, linear, log_softmax, relu, sigmoid, softmax, tanh  # noqa: F401
from ..losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss,  # noqa: F401
                      l1_loss, mse_loss, nll_loss)
from .dropout import dropout  # noqa: F401
