"""The checks of notebooks/03_backpropagation.ipynb accept right answers and reject wrong ones with a hint."""
import numpy as np

import thetas as th
from thetas.exercises import backpropagation as ex


def test_workshop_chain():
    w = ex.WORKSHOP
    assert ex.check_workshop_chain(w["x"] * w["w2"])
    assert ex.check_workshop_chain(np.array([-1.5]))
    assert "second link" in ex.check_workshop_chain(w["w2"]).message
    assert "first link" in ex.check_workshop_chain(w["x"]).message
    assert "value" in ex.check_workshop_chain(w["x"] * w["w1"] * w["w2"]).message
    assert "sign" in ex.check_workshop_chain(1.5).message
    assert not ex.check_workshop_chain(7)
    assert not ex.check_workshop_chain(None) and "None" in ex.check_workshop_chain(None).message
    assert "one number" in ex.check_workshop_chain([1, 2]).message


def test_tanh_local():
    assert ex.check_tanh_local(lambda a: 1 - np.tanh(a) ** 2)
    assert ex.check_tanh_local(lambda a: 1 / np.cosh(a) ** 2)                       # an equivalent form

    def by_autograd(a):
        t = th.tensor(a, requires_grad=True)
        th.tanh(t).sum().backward()
        return t.grad
    assert ex.check_tanh_local(by_autograd)
    assert "sigmoid" in ex.check_tanh_local(lambda a: np.tanh(a) * (1 - np.tanh(a))).message
    assert "output" in ex.check_tanh_local(lambda a: 1 - a ** 2).message
    assert "value" in ex.check_tanh_local(np.tanh).message
    assert "sign" in ex.check_tanh_local(lambda a: np.tanh(a) ** 2 - 1).message
    assert "shape" in ex.check_tanh_local(lambda a: 1 - np.tanh(a[0]) ** 2).message
    assert not ex.check_tanh_local(lambda a: np.ones_like(a))
    assert "None" in ex.check_tanh_local(None).message
    assert "None" in ex.check_tanh_local(lambda a: None).message
    def broken(a):
        raise RuntimeError("not written yet")
    verdict = ex.check_tanh_local(broken)
    assert not verdict and "RuntimeError" in verdict.message


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_hidden_backward():
    def right(X, y, h, y_hat, theta_y):
        return X.T @ ((y - y_hat)[:, None] * theta_y * h * (1 - h))

    def pieces(X, y, h, y_hat, theta_y):                       # the three pieces multiplied: an equivalent form
        d1 = y / y_hat - (1 - y) / (1 - y_hat)
        d2 = (y_hat * (1 - y_hat))[:, None] * theta_y
        d3 = X[:, :, None] * (h * (1 - h))[:, None, :]
        return np.sum(d1[:, None, None] * d2[:, None, :] * d3, axis=0)
    assert ex.check_hidden_backward(right)
    assert ex.check_hidden_backward(pieces)
    assert "sign" in ex.check_hidden_backward(lambda *a: -right(*a)).message
    assert "transposed" in ex.check_hidden_backward(lambda *a: right(*a).T).message
    assert "third piece" in ex.check_hidden_backward(
        lambda X, y, h, y_hat, t: X.T @ ((y - y_hat)[:, None] * t)).message
    assert "θ^(ŷ)_j" in ex.check_hidden_backward(
        lambda X, y, h, y_hat, t: X.T @ ((y - y_hat)[:, None] * h * (1 - h))).message
    assert "mean" in ex.check_hidden_backward(lambda *a: right(*a) / len(a[1])).message
    assert "sum" in ex.check_hidden_backward(
        lambda X, y, h, y_hat, t: X[:, :, None] * ((y - y_hat)[:, None] * t * h * (1 - h))[:, None, :]).message
    assert "shape" in ex.check_hidden_backward(lambda *a: np.zeros(3)).message
    assert not ex.check_hidden_backward(lambda *a: 2 * right(*a))
    assert "None" in ex.check_hidden_backward(None).message
    verdict = ex.check_hidden_backward(lambda X, y, h, y_hat, t: X @ t)             # shapes do not match: raises
    assert not verdict and "ValueError" in verdict.message
