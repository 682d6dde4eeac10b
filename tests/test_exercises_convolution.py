"""The checks of notebooks/07_convolution.ipynb: right answers pass, wrong ones and None are told why."""
import numpy as np

import thetas as th
from thetas.exercises import convolution as ex


def test_conv_parameters():
    assert ex.check_conv_parameters(224)
    assert ex.check_conv_parameters(th.nn.Conv2d(3, 8, 3).num_parameters())
    assert ex.check_conv_parameters(np.int64(224))
    no_bias = ex.check_conv_parameters(216)
    assert not no_bias and "bias" in no_bias.message
    flat = ex.check_conv_parameters(80)
    assert not flat and "channel" in flat.message
    dense = ex.check_conv_parameters(224 * 30 * 30)
    assert not dense and "shares" in dense.message
    assert not ex.check_conv_parameters(100) and "kernel" in ex.check_conv_parameters(100).message
    assert not ex.check_conv_parameters(None) and "None" in ex.check_conv_parameters(None).message
    assert not ex.check_conv_parameters([224, 1])
    assert not ex.check_conv_parameters("224 parameters")


def test_conv_output_matches_thetas_conv2d():
    conv = th.nn.Conv2d(1, 1, 3, dtype=np.float64)
    conv.weight.data[...] = ex.KERNEL
    conv.bias.data[...] = ex.BIAS
    z = conv(th.tensor(ex.IMAGE[None, None])).data[0, 0]
    assert ex.check_conv_output(z[ex.POSITION])
    assert not ex.check_conv_output(z[ex.POSITION] + 1)


def test_conv_output_rejects_wrong_answers():
    i, j = ex.POSITION
    patch = ex.IMAGE[i:i + 3, j:j + 3]
    no_bias = ex.check_conv_output((patch * ex.KERNEL).sum())
    assert not no_bias and "bias" in no_bias.message
    flipped = ex.check_conv_output((patch * ex.KERNEL[::-1, ::-1]).sum() + ex.BIAS)
    assert not flipped and "flipped" in flipped.message
    swapped = ex.check_conv_output((ex.IMAGE[j:j + 3, i:i + 3] * ex.KERNEL).sum() + ex.BIAS)
    assert not swapped and "row 2, column 1" in swapped.message
    assert not ex.check_conv_output(None) and "None" in ex.check_conv_output(None).message
    assert not ex.check_conv_output(np.ones((3, 3)))
    assert not ex.check_conv_output(object())
