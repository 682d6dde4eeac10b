"""The checks of notebooks/01_one_neuron.ipynb accept right answers and reject wrong ones with a hint."""
import numpy as np

from thetas.exercises import one_neuron as ex


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_y_hat():
    y_hat = _sigmoid(ex.THETA @ ex.X)
    assert ex.check_y_hat(y_hat)
    assert ex.check_y_hat(np.array([y_hat + 5e-4]))          # within the tolerance, any array form
    verdict = ex.check_y_hat(float(ex.THETA @ ex.X))        # forgot the sigmoid
    assert not verdict and "squash" in verdict.message
    verdict = ex.check_y_hat(1 - y_hat)
    assert not verdict and "P(Y = 0" in verdict.message
    assert not ex.check_y_hat(3.0) and "probability" in ex.check_y_hat(3.0).message
    assert not ex.check_y_hat([0.1, 0.2]) and "shape" in ex.check_y_hat([0.1, 0.2]).message
    assert not ex.check_y_hat(None) and "None" in ex.check_y_hat(None).message
    assert not ex.check_y_hat("abc") and "number" in ex.check_y_hat("abc").message


def test_gradient():
    def right(theta, X, y):
        return X.T @ (y - _sigmoid(X @ theta))

    def loops(theta, X, y):                                  # the notes' loops: an equivalent form
        g = [0.0] * len(theta)
        for x, yi in zip(X, y):
            for j in range(len(theta)):
                g[j] += x[j] * (yi - 1 / (1 + np.exp(-theta @ x)))
        return g
    assert ex.check_gradient(right)
    assert ex.check_gradient(loops)
    assert "sign" in ex.check_gradient(lambda t, X, y: -right(t, X, y)).message
    assert "mean" in ex.check_gradient(lambda t, X, y: right(t, X, y) / len(y)).message
    assert "squash" in ex.check_gradient(lambda t, X, y: X.T @ (y - X @ t)).message
    assert "row per example" in ex.check_gradient(lambda t, X, y: X * (y - _sigmoid(X @ t))[:, None]).message
    assert "shape" in ex.check_gradient(lambda t, X, y: np.zeros(2)).message
    assert not ex.check_gradient(lambda t, X, y: X.T @ y)
    assert "None" in ex.check_gradient(None).message
    assert "None" in ex.check_gradient(lambda t, X, y: None).message
    verdict = ex.check_gradient(lambda t, X, y: 1 / 0)
    assert not verdict and "ZeroDivisionError" in verdict.message
    assert not ex.check_gradient(right(np.zeros(3), np.ones((2, 3)), np.ones(2)))   # called it: not a function


def test_separable():
    assert ex.check_separable({"AND", "OR", "NAND", "blobs"})
    assert ex.check_separable(["and", " Or", "nand", "BLOBS"])
    verdict = ex.check_separable({"AND", "OR", "NAND", "blobs", "XOR"})
    assert not verdict and "cannot" in verdict.message
    verdict = ex.check_separable({"AND", "OR", "blobs"})
    assert not verdict and "left out" in verdict.message
    assert "unknown" in ex.check_separable({"AND", "parity"}).message
    assert not ex.check_separable(None) and "None" in ex.check_separable(None).message
    assert not ex.check_separable(3)


def test_and_weights():
    assert ex.check_and_weights([-1.5, 1, 1])
    assert ex.check_and_weights(np.array([-15.0, 10.0, 10.0]))
    verdict = ex.check_and_weights([-0.5, 1, 1])             # that is OR
    assert not verdict and "AND is 0" in verdict.message
    assert not ex.check_and_weights([0, 0, 0])
    assert "three numbers" in ex.check_and_weights([1, 1]).message
    assert "NaN" in ex.check_and_weights([np.nan, 1, 1]).message
    assert not ex.check_and_weights(None) and "None" in ex.check_and_weights(None).message
