"""The checks of notebooks/11_cat_neuron.ipynb's exercises accept right answers and reject wrong ones with a hint."""
import numpy as np

import thetas as th
from thetas.exercises import cat_neuron as ex


def test_optimal_stimulus():
    assert ex.check_optimal_stimulus(lambda theta: theta / np.linalg.norm(theta))
    assert ex.check_optimal_stimulus(lambda theta: theta / np.sqrt((theta ** 2).sum()))
    v = ex.check_optimal_stimulus(lambda theta: -theta / np.linalg.norm(theta))
    assert not v and "smallest" in v.message
    v = ex.check_optimal_stimulus(lambda theta: theta)
    assert not v and "length" in v.message
    v = ex.check_optimal_stimulus(lambda theta: theta / np.abs(theta).sum())
    assert not v and "‖x‖" in v.message
    v = ex.check_optimal_stimulus(lambda theta: np.eye(theta.size)[np.argmax(theta.reshape(-1))].reshape(theta.shape))
    assert not v and "another x" in v.message
    v = ex.check_optimal_stimulus(lambda theta: (theta / np.linalg.norm(theta)).reshape(-1))
    assert not v and "own shape" in v.message
    v = ex.check_optimal_stimulus(lambda theta: 1.0)
    assert not v and "shape" in v.message
    v = ex.check_optimal_stimulus(lambda theta: theta.foo)
    assert not v and "AttributeError" in v.message
    v = ex.check_optimal_stimulus(lambda theta: None)
    assert not v and "return" in v.message
    v = ex.check_optimal_stimulus(None)
    assert not v and "None" in v.message


def test_optimal_stimulus_is_the_library_s():
    # the closed form the check accepts is what gradient ascent on the sphere finds for a linear unit
    unit = th.nn.Linear(5, 1, generator=0)
    x = th.inside.optimal_stimulus(unit, "output", 0, (5,), norm=1.0, steps=300)
    w = unit.weight.data[0].astype(np.float64)
    assert np.allclose(x, w / np.linalg.norm(w), atol=1e-4)


def test_attributions():
    assert ex.check_attributions(ex.THETA * ex.IMAGE)
    assert ex.check_attributions((ex.THETA * ex.IMAGE).reshape(-1).tolist())
    v = ex.check_attributions(ex.THETA)
    assert not v and "gradient" in v.message
    v = ex.check_attributions(np.abs(ex.THETA))
    assert not v and "saliency" in v.message
    v = ex.check_attributions(ex.IMAGE)
    assert not v and "weights" in v.message
    v = ex.check_attributions(np.abs(ex.THETA * ex.IMAGE))
    assert not v and "sign" in v.message
    v = ex.check_attributions(np.zeros((2, 2)))
    assert not v and "path" in v.message
    v = ex.check_attributions([1, 2, 3])
    assert not v and "one attribution per pixel" in v.message
    v = ex.check_attributions(None)
    assert not v and "None" in v.message


def test_attributions_are_the_library_s():
    model = th.nn.Linear(4, 1, generator=0)
    model.weight.data[:] = ex.THETA.reshape(1, -1)
    ig = th.inside.integrated_gradients(model, ex.IMAGE.reshape(1, 4).astype(np.float32), target=0, steps=8)
    assert ex.check_attributions(ig[0])
