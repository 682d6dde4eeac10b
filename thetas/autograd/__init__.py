"""Automatic differentiation: grad mode, the operations with their derivatives, gradient checking.

Every derivative rule of thetas lives here, one file per family, each forward beside its backward:

    ops.py            arithmetic, elementwise functions (the one sigmoid), reductions, shapes and indexing, linear
    conv.py           convolution and pooling (conv2d, max_pool2d, avg_pool2d)
    normalization.py  batch_norm
    recurrent.py      a whole sequence through an RNN, LSTM or GRU (backpropagation through time)
    losses.py         the fused losses: cross_entropy, binary_cross_entropy(_with_logits), huber_loss
    grad_mode.py      no_grad / enable_grad;  gradcheck.py  central differences against the rules

The user-facing names gather elsewhere: ``thetas.nn.functional``, ``thetas.losses``, the ``Tensor`` methods.
"""
from .grad_mode import enable_grad, is_grad_enabled, no_grad
