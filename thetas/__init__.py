"""thetas: deep learning you can read. "A deep learning model gets its intelligence from its thetas."

    import thetas as th
    model = th.nn.Sequential(th.nn.Linear(64, 32), th.nn.Sigmoid(), th.nn.Linear(32, 10))
"""
__version__ = "0.1.0"

from .tensor import (Tensor, arange, as_generator, default_generator, full, get_default_dtype, manual_seed,  # noqa: F401
                     ones, ones_like, rand, randn, set_default_dtype, tensor, zeros, zeros_like)
from .autograd import enable_grad, is_grad_enabled, no_grad  # noqa: F401
from .autograd.ops import (abs, add, cat, clip, concatenate, div, exp, leaky_relu, log, log_softmax,  # noqa: F401
                           matmul, max, maximum, mean, min, minimum, mul, neg, permute, pow, relu, reshape,
                           sigmoid, softmax, sqrt, stack, sub, sum, tanh, transpose, var, where)
from . import data, losses, metrics, models, nn, optim, train, viz  # noqa: F401
from . import knowledge, rl, tutor  # noqa: F401  (th.tutor is th.knowledge.tutor)
from . import inside  # noqa: F401  (looking inside a network; matplotlib only when a plot is drawn)
from . import export  # noqa: F401  (to PyTorch and back; torch imported only when called)
from .autograd.gradcheck import gradcheck  # noqa: F401
from .objective import Objective  # noqa: F401
from .io import load, load_into, load_metadata, load_state_dict, save  # noqa: F401
from .train import evaluate, fit, predict  # noqa: F401
from ._runtime import auto_threads, get_num_threads, set_num_threads  # noqa: F401  (NumPy's BLAS threads)
