"""The lecture's numbers, each computed by thetas: parameter counts, the logistic-regression gradient,
σ'(z) = σ(z)[1 − σ(z)], the 99.5 % top-5 error of a random guess, and BCE = −LL(θ)/n."""
import math

import numpy as np
import pytest

import thetas as th
from thetas import metrics


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# (a) Sanity check 3: |x| = 40, |h| = 20, one output. How many parameters in total? c) 820
def test_parameter_count_820_and_with_biases():
    no_bias = th.nn.Sequential(th.nn.Linear(40, 20, bias=False), th.nn.Sigmoid(), th.nn.Linear(20, 1, bias=False))
    assert no_bias.num_parameters() == 820 == sum(p.data.size for p in no_bias.parameters())
    x, h = 40, 20
    with_bias = th.nn.Sequential(th.nn.Linear(x, h), th.nn.Sigmoid(), th.nn.Linear(h, 1))
    assert with_bias.num_parameters() == x * h + h + h * 1 + 1 == 841
    shapes = [tuple(p.shape) for p in with_bias.parameters()]
    assert shapes == [(h, x), (h,), (1, h), (1,)]  # θ^(h) is |x|·|h|, θ^(ŷ) is |h|·1


# (b) ∂LL(θ)/∂θ_j = Σ_i [y^(i) − σ(θᵀx^(i))] x_j^(i)
def test_logistic_regression_gradient_of_the_log_likelihood():
    rng = np.random.default_rng(0)
    n, d = 40, 5
    x = rng.normal(size=(n, d))
    y = (rng.random(n) < 0.4).astype(np.float64)
    theta = th.tensor(rng.normal(size=d), requires_grad=True)
    ll = th.losses.log_likelihood(y, th.sigmoid(th.tensor(x) @ theta))
    ll.backward()
    y_hat = _sigmoid(x @ theta.data)
    assert ll.item() == pytest.approx(np.sum(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat)), rel=1e-13)
    np.testing.assert_allclose(theta.grad, ((y - y_hat)[:, None] * x).sum(axis=0), rtol=1e-12, atol=1e-13)
    # gradient ascent: a small step along ∇LL makes the data more likely
    stepped = theta.data + 1e-3 * theta.grad
    assert metrics.log_likelihood(y, _sigmoid(x @ stepped)) > ll.item()


# (c) d/dz σ(z) = σ(z)[1 − σ(z)]
def test_sigmoid_derivative():
    z = th.tensor(np.linspace(-30, 30, 601), requires_grad=True)
    th.sigmoid(z).sum().backward()
    s = _sigmoid(z.data)
    np.testing.assert_allclose(z.grad, s * (1 - s), rtol=1e-12, atol=1e-300)
    assert z.grad[300] == 0.25  # the steepest point, z = 0


# (d) Random guess: P(true label not in 5 guesses) = C(999, 5) / C(1000, 5) = 995/1000
def test_top5_error_of_a_random_guess_is_99_5_percent():
    assert math.comb(999, 5) / math.comb(1000, 5) == pytest.approx(995 / 1000, rel=1e-15)
    rng = np.random.default_rng(0)
    errors = []
    for _ in range(4):  # 20,000 cases in chunks of 5,000 × 1,000 scores (20 MB each)
        scores = rng.random((5000, 1000), dtype=np.float32)
        errors.append(metrics.top_k_error(rng.integers(0, 1000, 5000), scores, k=5))
    assert np.mean(errors) == pytest.approx(0.995, abs=0.002)


def test_top5_error_of_the_lecture_softmax_table():
    # "Softmax test metric: Top-5 error": P(Y = y | X = x) for the ten digits
    p = dict(zip([5, 8, 7, 2, 9, 4, 1, 0, 6, 3], [0.14, 0.13, 0.12, 0.10, 0.10, 0.09, 0.09, 0.09, 0.08, 0.05]))
    probs = np.array([[p[d] for d in range(10)]] * 10)
    assert probs[0].sum() == pytest.approx(0.99)  # rounded on the slide
    hits = [metrics.top_k_error([d], probs[:1], k=5) == 0 for d in range(10)]
    assert [d for d in range(10) if hits[d]] == [2, 5, 7, 8, 9]
    assert metrics.top_k_error(np.arange(10), probs, k=5) == 0.5


# (e) BCE mean = −LL(θ)/n
def test_binary_cross_entropy_is_minus_the_mean_log_likelihood():
    rng = np.random.default_rng(1)
    n = 64
    x = th.tensor(rng.normal(size=(n, 3)))
    y = rng.integers(0, 2, n).astype(np.float64)
    theta = th.tensor(rng.normal(size=3), requires_grad=True)
    z = x @ theta
    y_hat = th.sigmoid(z)
    ll = th.losses.log_likelihood(y, y_hat)
    bce = th.losses.binary_cross_entropy(y_hat, y)
    assert bce.item() == pytest.approx(-ll.item() / n, rel=1e-13)
    assert bce.item() == pytest.approx(-metrics.log_likelihood(y, y_hat) / n, rel=1e-13)
    assert th.losses.binary_cross_entropy_with_logits(z, y).item() == pytest.approx(bce.item(), rel=1e-12)
    # and so minimising BCE is gradient ascent on LL: ∇BCE = −∇LL / n
    bce.backward(retain_graph=True)
    g_bce = theta.grad.copy()
    theta.grad = None
    ll.backward()
    np.testing.assert_allclose(g_bce, -theta.grad / n, rtol=1e-12)


# Softmax is a generalization of the sigmoid: softmax([0, z])₁ = σ(z), so two-logit cross-entropy is BCE
def test_softmax_of_two_logits_is_the_sigmoid():
    z = np.linspace(-8, 8, 33)
    two = np.stack([np.zeros_like(z), z], axis=1)
    np.testing.assert_allclose(th.softmax(th.tensor(two)).data[:, 1], _sigmoid(z), rtol=1e-14)
    y = (np.arange(33) % 2).astype(np.int64)
    np.testing.assert_allclose(th.losses.cross_entropy(two, y).item(),
                               th.losses.binary_cross_entropy_with_logits(z, y.astype(np.float64)).item(), rtol=1e-13)


# How many M&Ms in a bag? The guess minimising Σ (n_i − n_est)² is the mean; Σ |n_i − n_est| the median
def test_mms_squared_cost_picks_the_mean_and_absolute_cost_the_median():
    bags = np.array([52.0, 55.0, 55.0, 56.0, 58.0, 61.0, 75.0])  # one outlier bag
    costs = {}
    for name, loss, best in (("mse", th.losses.mse_loss, bags.mean()), ("mae", th.losses.l1_loss, np.median(bags))):
        guess = th.tensor(np.full(7, best), requires_grad=True)
        loss(guess, bags, reduction="sum").backward()
        assert guess.grad.sum() == pytest.approx(0.0, abs=1e-12)  # a minimum: no direction lowers the cost
        grid = np.linspace(50, 76, 261)
        costs[name] = [loss(np.full(7, g), bags, reduction="sum").item() for g in grid]
        assert grid[np.argmin(costs[name])] == pytest.approx(best, abs=0.1)
    assert np.mean(bags) > np.median(bags)  # the outlier drags the mean, not the median
