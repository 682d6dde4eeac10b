import numpy as np

import thetas as th


def test_lecture_parameter_count():
    # 40 inputs, 20 hidden, 1 output, no biases: 40·20 + 20·1 = 820 thetas
    model = th.nn.Sequential(th.nn.Linear(40, 20, bias=False), th.nn.Linear(20, 1, bias=False))
    assert model.num_parameters() == 820


def test_value_used_twice_gets_both_gradients():
    x = th.tensor(3.0, requires_grad=True)
    (x * x + x).backward()
    assert np.isclose(x.grad, 2 * 3.0 + 1)
