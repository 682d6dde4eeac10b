"""The checks of notebooks/06_optimisation.ipynb: right answers pass, wrong ones and None are told why."""
import numpy as np

import thetas as th
from thetas.exercises import optimisation as ex


def test_momentum_two_steps_accepts_the_right_thetas():
    assert ex.check_momentum_two_steps([0.0, 0.72])
    assert ex.check_momentum_two_steps(np.array([1e-9, 0.72]))
    # the same numbers from thetas' optimizer: the check's rule is th.optim.SGD's
    theta = th.nn.Parameter(ex.MOMENTUM_START.copy())
    opt = th.optim.SGD([theta], lr=ex.MOMENTUM_LR, momentum=ex.MOMENTUM_MU)
    for _ in range(2):
        opt.zero_grad()
        loss = 0.5 * (theta * th.tensor(ex.MOMENTUM_A @ np.ones(2)) * theta).sum()     # ½ (4θ₁² + θ₂²)
        loss.backward()
        opt.step()
    assert ex.check_momentum_two_steps(theta.data)


def test_momentum_two_steps_rejects_wrong_answers():
    plain = ex.check_momentum_two_steps([0.36, 0.81])
    assert not plain and "plain gradient descent" in plain.message
    one = ex.check_momentum_two_steps([0.6, 0.9])
    assert not one and "one step" in one.message
    damp = ex.check_momentum_two_steps([0.8856, 0.9711])
    assert not damp and "dampening" in damp.message
    other = ex.check_momentum_two_steps([1.0, 2.0])
    assert not other and "v⁽²⁾" in other.message
    assert "None" in ex.check_momentum_two_steps(None).message and not ex.check_momentum_two_steps(None)
    assert "shape" in ex.check_momentum_two_steps([0.0, 0.72, 1.0]).message
    assert not ex.check_momentum_two_steps("zero")
    assert not ex.check_momentum_two_steps([np.nan, 0.72])


def test_largest_stable_step():
    assert ex.check_largest_stable_step(0.5)
    assert ex.check_largest_stable_step(np.float32(0.4999))
    flat = ex.check_largest_stable_step(1.0)
    assert not flat and "flattest" in flat.message
    fastest = ex.check_largest_stable_step(0.25)
    assert not fastest and "largest stable" in fastest.message
    other = ex.check_largest_stable_step(0.3)
    assert not other and "eigenvalue" in other.message
    assert not ex.check_largest_stable_step(-0.5)
    assert not ex.check_largest_stable_step(None) and "None" in ex.check_largest_stable_step(None).message
    assert not ex.check_largest_stable_step([0.5, 0.5])
    assert not ex.check_largest_stable_step({"eta": 0.5})
