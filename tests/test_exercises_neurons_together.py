"""The checks of notebooks/02_neurons_together.ipynb accept right answers and reject wrong ones with a hint."""
import numpy as np

import thetas as th
from thetas.exercises import neurons_together as ex


def test_count_notes():
    x, h = ex.NOTES_SIZES
    assert ex.check_count_notes(x * h + h)
    assert ex.check_count_notes(np.int64(3030)) and ex.check_count_notes(3030.0)
    assert "θ^(h) alone" in ex.check_count_notes(x * h).message
    assert "θ^(ŷ) alone" in ex.check_count_notes(h).message
    assert "bias" in ex.check_count_notes(x * h + h + h + 1).message
    assert not ex.check_count_notes(12345)
    assert "whole number" in ex.check_count_notes(3030.5).message
    assert not ex.check_count_notes(None) and "None" in ex.check_count_notes(None).message
    assert "one number" in ex.check_count_notes([1, 2]).message


def test_count_with_biases():
    model = th.models.MLP(list(ex.MLP_SIZES))
    assert ex.check_count_with_biases(model.num_parameters())
    weights = sum(p.data.size for name, p in model.named_parameters() if name.endswith("weight"))
    verdict = ex.check_count_with_biases(weights)
    assert not verdict and "bias" in verdict.message
    assert "first layer" in ex.check_count_with_biases(784 * 256 + 256).message
    assert not ex.check_count_with_biases(1)
    assert not ex.check_count_with_biases(None)
    assert not ex.check_count_with_biases("many") and "number" in ex.check_count_with_biases("many").message


def test_compose():
    def right(W1, b1, W2, b2):
        return W2 @ W1, W2 @ b1 + b2

    assert ex.check_compose(right)
    assert ex.check_compose(lambda W1, b1, W2, b2: (W2 @ W1, (W2 @ b1 + b2)[None, :]))   # b as a row: fine
    assert ex.check_compose(lambda W1, b1, W2, b2: (th.tensor(W2 @ W1), list(W2 @ b1 + b2)))
    verdict = ex.check_compose(lambda W1, b1, W2, b2: (W2 @ W1, b2))
    assert not verdict and "bias" in verdict.message
    verdict = ex.check_compose(lambda W1, b1, W2, b2: ((W2 @ W1).T, W2 @ b1 + b2))
    assert not verdict and "transposed" in verdict.message
    assert "two things" in ex.check_compose(lambda W1, b1, W2, b2: W2 @ W1).message
    verdict = ex.check_compose(lambda W1, b1, W2, b2: (W1.T @ W2.T, b2))
    assert not verdict and "shape" in verdict.message
    verdict = ex.check_compose(lambda W1, b1, W2, b2: (W2 @ W1 * 2, W2 @ b1 + b2))
    assert not verdict and "product" in verdict.message
    assert "None" in ex.check_compose(None).message
    assert "None" in ex.check_compose(lambda *a: None).message
    verdict = ex.check_compose(lambda W1, b1, W2, b2: W1 @ W2)          # raises: shapes do not match
    assert not verdict and "ValueError" in verdict.message
    assert "itself" in ex.check_compose(42).message
