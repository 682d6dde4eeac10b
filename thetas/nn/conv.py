"""Convolution and pooling layers: the lecture's "shared weights" and "downsampling"."""
import math

import numpy as np

from ..autograd import conv as ops
from ..autograd import ops as basic
from ..tensor import as_generator, get_default_dtype
from . import init
from .linear import as_input
from .module import Module, Parameter


class Conv2d(Module):
    """y[n, f] = b[f] + Σ_c W[f, c] ⋆ x[n, c]   (⋆: slide the k_h × k_w kernel over the image, cross-correlation)

    The point of a convolution: **the same weights are shared by every position.** A dense layer from a
    1×28×28 image to 6×24×24 feature maps would need 784·3,456 + 3,456 ≈ 2.7 million thetas; ``Conv2d(1, 6, 5)``
    computes the same-sized output with 6·(1·5·5) + 6 = 156, because each of the 6 kernels is one small neuron
    (a 5×5 logistic-regression-like detector) applied at every position of the image. ``summary()`` prints both
    counts side by side.

    Args:
        in_channels: C.
        out_channels: F.
        kernel_size: k or (k_h, k_w).
        stride: int or (h, w).
        padding: int or (h, w); padding may be 'same' (stride 1, odd kernels) or 'valid'.
        bias: learn one b per output channel.
        generator: seed or np.random.Generator for the initial thetas.

    - Shape: (N, C, H, W) -> (N, F, H_out, W_out), H_out = (H + 2·padding − k_h) // stride + 1.
    - Parameters: F·C·k_h·k_w + F.
    - Init: W, b ~ U(−1/sqrt(C·k_h·k_w), 1/sqrt(C·k_h·k_w))  (as PyTorch).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, generator=None,
                 dtype=None):
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = ops._pair(kernel_size, "Conv2d kernel_size")
        self.stride = ops._pair(stride, "Conv2d stride")
        self.padding = padding if isinstance(padding, str) else ops._pair(padding, "Conv2d padding")
        rng = as_generator(generator)
        dtype = dtype or get_default_dtype()
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = init.uniform_(Parameter(np.empty(shape, dtype)), -bound, bound, rng)
        self.bias = init.uniform_(Parameter(np.empty(self.out_channels, dtype)), -bound, bound, rng) if bias else None

    def forward(self, x):
        x = as_input(x, self.weight)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{self!r} got an input of shape {tuple(x.shape)}: it needs (N, {self.in_channels}, H, W)"
                             f" (in_channels={self.in_channels})")
        return ops.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def summary_note(self, input_shape, output_shape):
        """The shared-weights lesson: the thetas a dense layer with the same input and output sizes would need."""
        n_in, n_out = int(np.prod(input_shape[1:])), int(np.prod(output_shape[1:]))
        return f"dense {n_in}->{n_out} would need {n_in * n_out + n_out:,}"

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
             f"padding={self.padding}")
        return s + ("" if self.bias is not None else ", bias=False")


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        self.kernel_size = ops._pair(kernel_size, f"{type(self).__name__} kernel_size")
        self.stride = self.kernel_size if stride is None else ops._pair(stride, f"{type(self).__name__} stride")
        self.padding = ops._pair(padding, f"{type(self).__name__} padding")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """y = the maximum of each k_h × k_w window (stride defaults to the kernel size: 2×2 halves H and W).
    Downsampling: keeps the strongest response of each region, so a feature counts wherever it appears nearby.
    No parameters. Shape: (N, C, H, W) -> (N, C, H_out, W_out)."""

    def forward(self, x):
        return ops.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """y = the mean of each k_h × k_w window (LeNet-5's original subsampling). No parameters.
    Shape: (N, C, H, W) -> (N, C, H_out, W_out)."""

    def forward(self, x):
        return ops.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class Flatten(Module):
    """Reshape (N, d1, d2, ...) to (N, d1·d2·...): feature maps in, a vector per example out (for a Linear)."""

    def __init__(self, start_dim=1):
        self.start_dim = int(start_dim)

    def forward(self, x):
        x = basic._t(x)
        return basic.reshape(x, x.shape[:self.start_dim] + (-1,))

    def extra_repr(self):
        return f"start_dim={self.start_dim}" if self.start_dim != 1 else ""
