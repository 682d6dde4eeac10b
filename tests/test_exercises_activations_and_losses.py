"""The checks of notebooks/04_activations_and_losses.ipynb accept right answers and reject wrong ones with a hint."""
import math

import numpy as np

import thetas as th
from thetas.exercises import activations_and_losses as ex


def test_mms():
    bag = np.array(ex.BAG, np.float64)
    assert ex.check_mms_squared(bag.mean())
    assert ex.check_mms_squared(np.array([bag.mean() + 0.005]))
    assert ex.check_mms_absolute(np.median(bag))
    verdict = ex.check_mms_squared(np.median(bag))
    assert not verdict and "absolute cost" in verdict.message
    verdict = ex.check_mms_absolute(bag.mean())
    assert not verdict and "squared cost" in verdict.message
    verdict = ex.check_mms_squared(50)
    assert not verdict and "up" in verdict.message
    verdict = ex.check_mms_absolute(70)
    assert not verdict and "down" in verdict.message
    assert not ex.check_mms_squared(None) and "None" in ex.check_mms_squared(None).message
    assert "one number" in ex.check_mms_absolute([53, 56]).message
    assert "finite" in ex.check_mms_absolute(np.inf).message


def test_softmax():
    def stable(z):
        e = np.exp(z - z.max())
        return e / e.sum()

    def via_log_sum_exp(z):
        return np.exp(z - (z.max() + np.log(np.sum(np.exp(z - z.max())))))
    assert ex.check_softmax(stable)
    assert ex.check_softmax(via_log_sum_exp)
    assert ex.check_softmax(lambda z: th.softmax(th.tensor(z)))
    verdict = ex.check_softmax(lambda z: np.exp(z) / np.exp(z).sum())            # naive: overflows at 1000
    assert not verdict and "overflow" in verdict.message
    verdict = ex.check_softmax(lambda z: np.exp(z - z.max()))                     # forgot to normalise
    assert not verdict and "add up" in verdict.message
    verdict = ex.check_softmax(lambda z: stable(z).sum())
    assert not verdict and "shape" in verdict.message
    verdict = ex.check_softmax(lambda z: stable(-z))
    assert not verdict and "σ(z)" in verdict.message
    assert "None" in ex.check_softmax(None).message
    assert "None" in ex.check_softmax(lambda z: None).message
    verdict = ex.check_softmax(lambda z: z.nonexistent())
    assert not verdict and "AttributeError" in verdict.message


def test_random_top5():
    def exact(K):                                    # C(K − 1, 5) / C(K, 5): the slide's way; C(K, 5) = 0 for K < 5
        return math.comb(K - 1, 5) / math.comb(K, 5) if K >= 5 else 0.0

    assert ex.check_random_top5(lambda K: max(0.0, 1 - 5 / K))
    assert ex.check_random_top5(exact)
    assert not ex.check_random_top5(lambda K: 1 - exact(K))
    verdict = ex.check_random_top5(lambda K: 5 / K)
    assert not verdict and "accuracy" in verdict.message
    verdict = ex.check_random_top5(lambda K: 1 - 1 / K)
    assert not verdict and "top-1" in verdict.message
    verdict = ex.check_random_top5(lambda K: 100 * max(0.0, 1 - 5 / K))
    assert not verdict and "percentage" in verdict.message
    verdict = ex.check_random_top5(lambda K: 1 - 5 / K)                         # negative for K = 3
    assert not verdict and "negative" in verdict.message
    assert not ex.check_random_top5(lambda K: 0.5)
    assert "None" in ex.check_random_top5(None).message
    assert "None" in ex.check_random_top5(lambda K: None).message
    verdict = ex.check_random_top5(lambda K: 1 / (K - K))                        # raises
    assert not verdict and "ZeroDivisionError" in verdict.message
    assert "one number" in ex.check_random_top5(lambda K: [1, 2]).message
