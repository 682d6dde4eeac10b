"""Checks for the exercises of ``notebooks/07_convolution.ipynb``: convolution is shared weights.

Convolution here is what thetas' ``Conv2d`` (and every deep-learning library) computes, the cross-correlation

    z[f, i, j] = b[f] + Σ_c Σ_u Σ_v W[f, c, u, v] · x[c, i + u, j + v]      (stride 1, no padding)
"""
import numpy as np

from . import as_number, right, wrong

# Exercise 1: the parameters of Conv2d(3, 8, kernel_size=3) on 3×32×32 colour images
CONV_IN, CONV_OUT, CONV_K, CONV_IMAGE = 3, 8, 3, 32
# Exercise 2: one output of a 3×3 kernel over a 5×5 image
IMAGE = np.array([[0, 1, 2, 1, 0],
                  [1, 3, 0, 2, 1],
                  [2, 0, 1, 3, 2],
                  [0, 2, 3, 1, 0],
                  [1, 1, 0, 2, 3]], np.float64)
KERNEL = np.array([[1, 2, 0],
                   [0, 1, -1],
                   [-1, 0, 2]], np.float64)
BIAS = 0.5
POSITION = (1, 2)                                      # (row i, column j) of the output asked for


def check_conv_parameters(answer):
    """The number of thetas of ``Conv2d(3, 8, kernel_size=3)``: 8 kernels of 3×3×3 weights and 8 biases, 224."""
    n = as_number(answer, "the parameter count")
    if not isinstance(n, float):
        return n
    weights = CONV_OUT * CONV_IN * CONV_K * CONV_K
    total = weights + CONV_OUT
    if n == total:
        return right(f"{total} = {CONV_OUT} kernels × ({CONV_IN} channels × {CONV_K}×{CONV_K}) + {CONV_OUT} biases. "
                     "The image size does not enter: the same weights are used at every position.")
    if n == weights:
        return wrong("close: each output channel (each kernel) also has a bias b[f].")
    if n in (CONV_OUT * CONV_K * CONV_K + CONV_OUT, CONV_OUT * CONV_K * CONV_K):
        return wrong("a kernel covers every input channel: it is 3 channels deep, not a single 3×3 layer.")
    side = CONV_IMAGE - CONV_K + 1
    if n >= side * side:
        return wrong("that grows with the image: but a convolution shares its weights across all positions, so the "
                     "count depends only on the kernels, not on the 32×32 image.")
    return wrong("Count one kernel's weights (how deep is it?), multiply by the number of kernels, and add what "
                 "each output channel has besides its kernel.")


def check_conv_output(answer):
    """z[1, 2] of the valid cross-correlation of ``IMAGE`` with ``KERNEL`` plus ``BIAS``: the 3×3 patch at rows
    1-3, columns 2-4 times the kernel, summed, plus the bias (exact to 1e-9)."""
    z = as_number(answer, "z")
    if not isinstance(z, float):
        return z
    i, j = POSITION
    k = KERNEL.shape[0]
    patch = IMAGE[i:i + k, j:j + k]
    expected = float((patch * KERNEL).sum() + BIAS)
    if abs(z - expected) <= 1e-9:
        return right(f"z[1, 2] = Σ patch × kernel + b = {expected - BIAS:g} + {BIAS:g} = {expected:g}: the "
                     "patch of rows 1-3 and columns 2-4, multiplied by the kernel element by element.")
    if abs(z - (expected - BIAS)) <= 1e-9:
        return wrong("the weighted sum is right; now add the bias b.")
    if abs(z - float((patch * KERNEL[::-1, ::-1]).sum() + BIAS)) <= 1e-9:
        return wrong("that is the kernel flipped (the mathematicians' convolution). Conv2d, like every deep-learning "
                     "library, slides the kernel as it is: multiply patch[u, v] by kernel[u, v].")
    swapped = IMAGE[j:j + k, i:i + k]
    if abs(z - float((swapped * KERNEL).sum() + BIAS)) <= 1e-9:
        return wrong("that is the output at row 2, column 1: z[i, j] starts at row i and column j of the image.")
    return wrong("The output z[i, j] looks at the 3×3 patch whose top-left pixel is image[i, j] (rows i to "
                 "i + 2, columns j to j + 2), multiplies it element by element with the kernel, sums, and adds b.")
