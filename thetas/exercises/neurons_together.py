"""Checks for the exercises of ``notebooks/02_neurons_together.ipynb``: neurons put together, x → h → ŷ.

Parameter counts (as the notes count them, and with biases) and two linear layers composed into one.
"""
import numpy as np

from . import as_array, right, wrong

__all__ = ["NOTES_SIZES", "MLP_SIZES", "check_count_notes", "check_count_with_biases", "check_compose"]

NOTES_SIZES = (100, 30)                  # exercise 1: |x| = 100, |h| = 30, one output ŷ; no biases
MLP_SIZES = (784, 256, 256, 10)          # exercise 2: thetas' MLP for MNIST, every Linear with its bias


def _whole_number(answer, name):
    value = as_array(answer, name)
    if not isinstance(value, np.ndarray):
        return None, value
    if value.size != 1:
        return None, wrong(f"{name} is one number, got an array of shape {value.shape}.")
    value = float(value.reshape(()))
    if not np.isfinite(value) or value != round(value):
        return None, wrong(f"{name} is a whole number (a count of thetas), got {value:g}.")
    return int(value), None


def check_count_notes(answer):
    """Exercise 1: the number of thetas of x → h → ŷ with |x| = 100, |h| = 30 and one output, counted as the
    notes count them (no separate biases): |x|·|h| + |h|."""
    count, verdict = _whole_number(answer, "the count")
    if verdict is not None:
        return verdict
    x, h = NOTES_SIZES
    if count == x * h + h:
        return right(f"θ^(h) has |x|·|h| = {x * h:,} thetas and θ^(ŷ) has |h| = {h}: {x * h + h:,} in all "
                     "(the notes' 40 and 20 give 820).")
    if count == x * h:
        return wrong("that is θ^(h) alone. The output neuron ŷ has thetas too: one for each hidden neuron.")
    if count == h:
        return wrong("that is θ^(ŷ) alone. Each hidden neuron also has one theta for every input.")
    if count == x * h + h + h + 1:
        return wrong("that counts a bias for every neuron. The notes fold the bias into the inputs (x₀ = 1): "
                     "count the weights only.")
    if count == x + h or count == x + h + 1:
        return wrong("every hidden neuron takes *all* the inputs: each of the |h| neurons has |x| thetas.")
    return wrong("count layer by layer: how many thetas does one hidden neuron have, how many hidden neurons are "
                 "there, and how many thetas does the output neuron have?")


def check_count_with_biases(answer):
    """Exercise 2: the number of thetas of ``th.models.MLP([784, 256, 256, 10])``: Σ_l (n_l · n_{l+1} + n_{l+1})."""
    count, verdict = _whole_number(answer, "the count")
    if verdict is not None:
        return verdict
    sizes = MLP_SIZES
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    biases = sum(sizes[1:])
    if count == weights + biases:
        return right(f"{weights:,} weights + {biases:,} biases = {weights + biases:,} thetas "
                     "(`th.models.MLP(...).num_parameters()` says the same).")
    if count == weights:
        return wrong("those are the weights only. Every Linear layer here has a bias too: one for each of its "
                     "output neurons.")
    if count == weights + biases + sizes[0]:
        return wrong("the input layer is data, not neurons: it has no biases.")
    if count == sizes[0] * sizes[1] + sizes[1]:
        return wrong("that is the first layer only: there are three Linear layers (784→256, 256→256, 256→10).")
    return wrong("add up, for each of the three Linear layers, (inputs × outputs) weights + (outputs) biases.")


def check_compose(compose):
    """Exercise 3: ``compose(W1, b1, W2, b2)`` returns (W, b) such that x @ W.T + b equals the two linear layers
    (x @ W1.T + b1) @ W2.T + b2 (thetas' and PyTorch's convention); checked on random float64 layers."""
    if compose is None or compose is Ellipsis:
        return wrong("your function is still None: write it in the cell above and run that cell again.")
    if not callable(compose):
        return wrong(f"pass your function itself (no parentheses), not a {type(compose).__name__}.")
    rng = np.random.default_rng(2)
    for n_x, n_h, n_out in ((5, 4, 3), (3, 7, 1), (6, 2, 4)):
        W1, b1 = rng.normal(size=(n_h, n_x)), rng.normal(size=n_h)
        W2, b2 = rng.normal(size=(n_out, n_h)), rng.normal(size=n_out)
        try:
            out = compose(W1.copy(), b1.copy(), W2.copy(), b2.copy())
        except Exception as error:      # a student's function may raise anything
            return wrong(f"your function raised {type(error).__name__}: {error}")
        if out is None:
            return wrong("your function returned None: finish it with `return W, b`.")
        try:
            W, b = out
        except (TypeError, ValueError):
            return wrong("return two things, the weight matrix and the bias: `return W, b`.")
        W, b = as_array(W, "W"), as_array(b, "b")
        for value in (W, b):
            if not isinstance(value, np.ndarray):
                return value
        if W.shape != (n_out, n_x):
            hint = (" (it is transposed)" if W.shape == (n_x, n_out) else "")
            return wrong(f"W should have shape (outputs, inputs) = ({n_out}, {n_x}) like W1 and W2, got "
                         f"{W.shape}{hint}. Which matrix does x meet first?")
        if b.shape not in ((n_out,), (1, n_out)):
            return wrong(f"b should have one entry per output, shape ({n_out},), got {b.shape}.")
        x = rng.normal(size=(8, n_x))
        two_layers = (x @ W1.T + b1) @ W2.T + b2
        if np.allclose(x @ W.T + b.reshape(-1), two_layers, rtol=1e-9, atol=1e-9):
            continue
        if np.allclose(W, W2 @ W1, rtol=1e-9, atol=1e-9):
            return wrong("W is right; the bias is not. The first layer's bias b1 also passes through the second "
                         "layer's weights before b2 is added.")
        return wrong("W is not the product of the two layers' weights yet. Write out (x W1ᵀ + b1) W2ᵀ + b2 and "
                     "collect what multiplies x.")
    return right("W = W2 W1 and b = W2 b1 + b2: two linear layers are one linear layer, however wide the hidden "
                 "one. Without a non-linearity, depth adds nothing.")
