"""Checks for the exercises of ``notebooks/01_one_neuron.ipynb``: one neuron is logistic regression.

ŷ = σ(θᵀx),  LL(θ) = Σ y log ŷ + (1 − y) log(1 − ŷ),  ∂LL/∂θ_j = Σ (y − ŷ) x_j.
"""
import numpy as np

from . import Verdict, as_array, as_number, call, right, sigmoid, wrong

__all__ = ["THETA", "X", "DATA_SETS", "check_y_hat", "check_gradient", "check_separable", "check_and_weights"]

THETA = np.array([1.0, -2.0, 0.5])       # exercise 1: θ = (θ₀, θ₁, θ₂)
X = np.array([1.0, 0.5, 2.0])            # exercise 1: x = (x₀ = 1, x₁, x₂)
DATA_SETS = {                            # exercise 3: can one neuron (a straight line) separate the two classes?
    "AND": True, "OR": True, "NAND": True, "XOR": False, "circles": False, "blobs": True, "spiral": False}
AND_INPUTS = np.array([[1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]], np.float64)   # x₀ = 1, x₁, x₂
AND_LABELS = np.array([0, 0, 0, 1])




def check_y_hat(answer):
    """Exercise 1: ŷ = σ(θᵀx) for ``THETA`` and ``X`` (within 1e-3)."""
    value = as_number(answer, "ŷ", "one number (a probability)")
    if isinstance(value, Verdict):
        return value
    z = float(THETA @ X)
    y_hat = sigmoid(z)
    if abs(value - y_hat) < 1e-3:
        return right(f"ŷ = σ(θᵀx) = σ({z:g}) ≈ {y_hat:.4f}: the neuron says P(Y = 1 | x) ≈ {y_hat:.0%}.")
    if abs(value - z) < 1e-3:
        return wrong("that is θᵀx, the weighted sum z. The neuron then squashes it: ŷ = σ(z) = 1 / (1 + e^(−z)).")
    if abs(value - (1 - y_hat)) < 1e-3:
        return wrong("that is 1 − ŷ = P(Y = 0 | x). ŷ is the probability of the class 1.")
    if not 0 <= value <= 1:
        return wrong(f"{value:g} is not a probability: ŷ = σ(z) always lies between 0 and 1.")
    return wrong("not quite: compute z = θ₀x₀ + θ₁x₁ + θ₂x₂ first (x₀ = 1), then σ(z) = 1 / (1 + e^(−z)).")


def check_gradient(my_gradient):
    """Exercise 2: ``my_gradient(theta, X, y)`` returns ∂LL/∂θ = Σ_i (y_i − ŷ_i) x_i, shape (m,), on random
    float64 inputs (3 trials, relative tolerance 1e-6)."""
    rng = np.random.default_rng(109)
    for trial in range(3):
        n, m = 7 + trial, 3 + trial
        theta, x = rng.normal(size=m), np.c_[np.ones(n), rng.normal(size=(n, m - 1))]
        y = (rng.random(n) < 0.5).astype(np.float64)
        value, verdict = call(my_gradient, theta.copy(), x.copy(), y.copy())
        if verdict is not None:
            return verdict
        y_hat = sigmoid(x @ theta)
        g = x.T @ (y - y_hat)
        if value.shape == (n, m):
            return wrong(f"your gradient has one row per example, shape {value.shape}. LL is a sum over the "
                         "examples, so its gradient is the sum of theirs: one number per θ_j, shape (m,).")
        if value.shape != g.shape:
            return wrong(f"the gradient has one entry per parameter θ_j: shape ({m},) for θ of shape ({m},), "
                         f"got {value.shape}.")
        if np.allclose(value, g, rtol=1e-6, atol=1e-9):
            continue
        if np.allclose(value, -g, rtol=1e-6, atol=1e-9):
            return wrong("the sign is flipped: that is the gradient of −LL (the loss). Gradient *ascent* on LL "
                         "needs ∂LL/∂θ_j, which pushes ŷ towards y.")
        if np.allclose(value, g / n, rtol=1e-6, atol=1e-9):
            return wrong("that is the mean over the examples. The notes' LL(θ) is a sum, and so is its gradient.")
        if np.allclose(value, x.T @ (y - x @ theta), rtol=1e-6, atol=1e-9):
            return wrong("ŷ is σ(θᵀx), not θᵀx: squash the weighted sum before comparing it with y.")
        return wrong("not ∂LL/∂θ yet (tried on a random θ, X, y). Compute ŷ = σ(Xθ) for all examples, then "
                     "Σ_i (y_i − ŷ_i) x_ij for each j, and compare with thetas' autograd as in the notebook.")
    return right("∂LL/∂θ_j = Σ_i (y_i − ŷ_i) x_ij: the same as autograd on three random problems.")


def check_separable(answer):
    """Exercise 3: the names (from ``DATA_SETS``, any case, any iterable) of exactly the data sets one neuron can
    separate: those whose two classes a straight line splits."""
    if answer is None or answer is Ellipsis:
        return wrong("your answer is still None: give the names, e.g. {\"AND\", \"circles\"}.")
    if isinstance(answer, str):
        answer = [answer]
    try:
        names = [str(a).strip() for a in answer]
    except TypeError:
        return wrong(f"give a set or list of names, got {type(answer).__name__}.")
    known = {k.lower(): k for k in DATA_SETS}
    unknown = [a for a in names if a.lower() not in known]
    if unknown:
        return wrong(f"unknown name(s) {unknown}; choose from {', '.join(DATA_SETS)}.")
    chosen = {known[a.lower()] for a in names}
    truth = {k for k, ok in DATA_SETS.items() if ok}
    extra, missing = chosen - truth, truth - chosen
    if not extra and not missing:
        return right(f"a line separates {', '.join(sorted(truth))}; no line separates "
                     f"{', '.join(sorted(set(DATA_SETS) - truth))}: those need hidden neurons (notebook 2).")
    hints = []
    if extra:
        hints.append(f"{len(extra)} of your choices cannot be split by one straight line (draw its points and try)")
    if missing:
        hints.append(f"you left out {len(missing)} that one line does split (a truth table has only four points: "
                     "draw them)")
    return wrong("; ".join(hints) + ".")


def check_and_weights(theta):
    """Exercise 4: θ = (θ₀, θ₁, θ₂) such that one neuron, ŷ = σ(θ₀ + θ₁x₁ + θ₂x₂) > 0.5, computes x₁ AND x₂ on
    the four inputs {0, 1}²."""
    value = as_array(theta, "θ")
    if not isinstance(value, np.ndarray):
        return value
    if value.shape != (3,):
        return wrong(f"θ has three numbers (θ₀, θ₁, θ₂), got shape {value.shape}.")
    if not np.all(np.isfinite(value)):
        return wrong("θ has a NaN or an infinity: pick finite weights.")
    z = AND_INPUTS @ value
    predicted = (z > 0).astype(int)      # σ(z) > 0.5 exactly when z > 0
    for (_, x1, x2), zi, p, t in zip(AND_INPUTS, z, predicted, AND_LABELS):
        if p != t:
            return wrong(f"on x = ({x1:g}, {x2:g}) your neuron says {p} (θᵀx = {zi:g} "
                         f"is {'>' if p else '≤'} 0) but AND is {t}. σ(θᵀx) > 0.5 exactly when θᵀx > 0: "
                         "θ₀ sets how much the inputs must add up to.")
    confident = sigmoid(np.where(AND_LABELS == 1, z, -z)).min()
    return right(f"one neuron computes AND: θᵀx > 0 only for (1, 1). Its least confident answer is right with "
                 f"probability {confident:.2f}; multiply θ by 10 and it becomes {sigmoid(10 * np.abs(z)).min():.4f}.")
