"""Checks for the exercises of ``notebooks/03_backpropagation.ipynb``: backpropagation is the chain rule.

The network of the notes: h = σ(x Θ^(h)), ŷ = σ(h θ^(ŷ)), LL = Σ y log ŷ + (1 − y) log(1 − ŷ), and
∂LL/∂θ^(h)_{i,j} = ∂LL/∂ŷ · ∂ŷ/∂h_j · ∂h_j/∂θ^(h)_{i,j}.
"""
import numpy as np

from . import Verdict, as_number, call, right, sigmoid, wrong

__all__ = ["WORKSHOP", "check_workshop_chain", "check_tanh_local", "check_hidden_backward"]

WORKSHOP = {"x": 3.0, "w1": 2.0, "w2": -0.5}     # exercise 1: y = x·w1, e = y·w2




def check_workshop_chain(answer):
    """Exercise 1: ∂e/∂w1 for y = x·w1, e = y·w2 at ``WORKSHOP`` (x = 3, w1 = 2, w2 = −0.5): x·w2 = −1.5."""
    value = as_number(answer, "∂e/∂w1")
    if isinstance(value, Verdict):
        return value
    x, w1, w2 = WORKSHOP["x"], WORKSHOP["w1"], WORKSHOP["w2"]
    if np.isclose(value, x * w2):
        return right(f"∂e/∂w1 = ∂y/∂w1 · ∂e/∂y = x · w2 = {x * w2:g}: two local derivatives, multiplied.")
    if np.isclose(value, w2):
        return wrong("that is ∂e/∂y, the second link of the chain. Multiply it by the first: ∂y/∂w1.")
    if np.isclose(value, x):
        return wrong("that is ∂y/∂w1, the first link of the chain. Multiply it by the second: ∂e/∂y.")
    if np.isclose(value, x * w1 * w2):
        return wrong("that is e itself, the value. The question asks how fast e changes when w1 changes.")
    if np.isclose(value, -x * w2):
        return wrong("check the sign: w2 is negative.")
    return wrong("write e as a function of w1 (e = x · w1 · w2) and differentiate; or use the chain rule "
                 "∂e/∂w1 = ∂y/∂w1 · ∂e/∂y.")


def check_tanh_local(d_tanh):
    """Exercise 2: ``d_tanh(a)`` returns the local derivative ∂b/∂a of b = tanh(a), elementwise on an array
    (1 − tanh²(a)); checked on random float64 inputs."""
    a = np.random.default_rng(3).normal(0, 2, 50)
    value, verdict = call(d_tanh, a.copy())
    if verdict is not None:
        return verdict
    if value.shape != a.shape:
        return wrong(f"one derivative per input: give an array of shape {a.shape} for an input of that shape "
                     f"(use NumPy's np.tanh, which works elementwise), got {value.shape}.")
    t = np.tanh(a)
    if np.allclose(value, 1 - t * t, rtol=1e-7, atol=1e-12):
        return right("∂ tanh(a)/∂a = 1 − tanh²(a) = 1 − b²: like the sigmoid's, written with the output b.")
    if np.allclose(value, t * (1 - t), rtol=1e-7, atol=1e-12) or np.allclose(value, sigmoid(a) * (1 - sigmoid(a))):
        return wrong("that is the sigmoid's rule σ(1 − σ). tanh has a rule of its own (tanh(a) = 2σ(2a) − 1).")
    if np.allclose(value, 1 - a * a, rtol=1e-7, atol=1e-12):
        return wrong("close: the rule is written with the output b = tanh(a), not with the input a.")
    if np.allclose(value, t, rtol=1e-7, atol=1e-12):
        return wrong("that is tanh(a), the value. The derivative is its slope: largest (1) at a = 0, near 0 far out.")
    if np.allclose(value, -(1 - t * t), rtol=1e-7, atol=1e-12):
        return wrong("check the sign: tanh only goes up, so its slope is positive.")
    return wrong("not the slope of tanh yet. Check it numerically: (np.tanh(a + 1e-6) − np.tanh(a − 1e-6)) / 2e-6.")


def check_hidden_backward(hidden_backward):
    """Exercise 3: ``hidden_backward(X, y, h, y_hat, theta_y)`` returns ∂LL/∂Θ^(h), shape (|x|, |h|), summed over
    the examples: Σ_n (y − ŷ) θ^(ŷ)_j h_j (1 − h_j) x_i; checked on random float64 networks."""
    rng = np.random.default_rng(4)
    for n, n_x, n_h in ((6, 4, 3), (9, 5, 7)):
        X = rng.normal(size=(n, n_x))
        y = (rng.random(n) < 0.5).astype(np.float64)
        theta_h, theta_y = rng.normal(size=(n_x, n_h)), rng.normal(size=n_h)
        h = sigmoid(X @ theta_h)
        y_hat = sigmoid(h @ theta_y)
        value, verdict = call(hidden_backward, X.copy(), y.copy(), h.copy(), y_hat.copy(), theta_y.copy())
        if verdict is not None:
            return verdict
        delta = (y - y_hat)[:, None] * theta_y[None, :] * h * (1 - h)       # (n, |h|)
        grad = X.T @ delta                                                 # (|x|, |h|)
        if value.shape == (n_h, n_x):
            return wrong(f"your gradient is transposed: Θ^(h) has one row per input i and one column per hidden "
                         f"neuron j, shape ({n_x}, {n_h}).")
        if value.shape == (n, n_x, n_h):
            return wrong("you kept one gradient per example. LL is a sum over the examples: sum them.")
        if value.shape != grad.shape:
            return wrong(f"∂LL/∂Θ^(h) has the shape of Θ^(h): (|x|, |h|) = ({n_x}, {n_h}), got {value.shape}.")
        if np.allclose(value, grad, rtol=1e-7, atol=1e-10):
            continue
        if np.allclose(value, -grad, rtol=1e-7, atol=1e-10):
            return wrong("the sign is flipped: ∂LL/∂ŷ · ∂ŷ/∂z = y − ŷ, not ŷ − y (that is the loss's gradient).")
        if np.allclose(value, X.T @ ((y - y_hat)[:, None] * theta_y[None, :]), rtol=1e-7, atol=1e-10):
            return wrong("the third piece is missing: ∂h_j/∂θ^(h)_{i,j} = h_j (1 − h_j) x_i, the sigmoid's slope "
                         "of the hidden neuron.")
        if np.allclose(value, X.T @ ((y - y_hat)[:, None] * h * (1 - h)), rtol=1e-7, atol=1e-10):
            return wrong("the middle piece is missing θ^(ŷ)_j: ∂ŷ/∂h_j = ŷ(1 − ŷ) θ^(ŷ)_j; hidden neuron j matters "
                         "to ŷ as much as its weight says.")
        if np.allclose(value, grad / n, rtol=1e-7, atol=1e-10):
            return wrong("that is the mean over the examples; LL is a sum, and so is its gradient.")
        return wrong("not ∂LL/∂Θ^(h) yet. Multiply the three pieces, ∂LL/∂ŷ · ∂ŷ/∂h_j · ∂h_j/∂θ^(h)_{i,j}, for "
                     "every example, then sum over the examples; compare with autograd as in the notebook.")
    return right("∂LL/∂θ^(h)_{i,j} = Σ (y − ŷ) θ^(ŷ)_j h_j(1 − h_j) x_i: backpropagation of the hidden layer, the "
                 "same as autograd.")
