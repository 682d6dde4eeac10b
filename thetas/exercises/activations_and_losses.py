"""Checks for the exercises of ``notebooks/04_activations_and_losses.ipynb``: activations, losses, softmax,
top-5 error and the workshop's M&Ms.
"""
import numpy as np

from . import Verdict, as_array, as_number, right, wrong

__all__ = ["BAG", "check_mms_squared", "check_mms_absolute", "check_softmax", "check_random_top5"]

BAG = [50, 52, 53, 55, 70]       # exercise 1: M&Ms counted in five bags


def _total_cost(guess, cost):
    d = np.asarray(BAG, np.float64) - guess
    return float(np.sum(d * d) if cost == "squared" else np.sum(np.abs(d)))


def _mms(answer, cost):
    guess = as_number(answer, "the guess n_est")
    if isinstance(guess, Verdict):
        return guess
    if not np.isfinite(guess):
        return wrong("your guess is not a finite number.")
    bag = np.asarray(BAG, np.float64)
    best = bag.mean() if cost == "squared" else float(np.median(bag))
    name = "Σ (n_i − n_est)²" if cost == "squared" else "Σ |n_i − n_est|"
    if abs(guess - best) <= 0.01:
        why = ("the mean: dL/dn_est = −2 Σ (n_i − n_est) = 0 there" if cost == "squared" else
               "the median: as many bags above as below, so moving either way costs more than it saves")
        return right(f"{name} is least at n_est = {best:g}, {why}.")
    other = float(np.median(bag)) if cost == "squared" else bag.mean()
    if abs(guess - other) <= 0.01:
        pull = ("squares, the far-off bag pulls harder than the others" if cost == "squared" else
                "absolute values, every bag pulls equally hard, however far off it is")
        return wrong(f"that guess minimises the {'absolute' if cost == 'squared' else 'squared'} cost. "
                     f"With {pull}.")
    here, step = _total_cost(guess, cost), 0.5
    direction = "up" if _total_cost(guess + step, cost) < here else "down"
    return wrong(f"L({guess:g}) = {here:g}, but moving the guess {direction} makes the total cost smaller. "
                 f"Where does {name} stop going down?")


def check_mms_squared(answer):
    """Exercise 1a: the guess n_est that minimises Σ (n_i − n_est)² over ``BAG`` (the mean, within 0.01)."""
    return _mms(answer, "squared")


def check_mms_absolute(answer):
    """Exercise 1b: the guess n_est that minimises Σ |n_i − n_est| over ``BAG`` (the median, within 0.01)."""
    return _mms(answer, "absolute")


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def check_softmax(my_softmax):
    """Exercise 2: ``my_softmax(z)`` for a 1-D array z: e^(z_k) / Σ_c e^(z_c); on random vectors, on large
    logits (e.g. 1000, where a naive e^z overflows) and on very negative ones; float64, relative tolerance 1e-7."""
    if my_softmax is None or my_softmax is Ellipsis:
        return wrong("your function is still None: write it in the cell above and run that cell again.")
    if not callable(my_softmax):
        return wrong(f"pass your function itself (no parentheses), not a {type(my_softmax).__name__}.")
    rng = np.random.default_rng(5)
    cases = [("a random vector", rng.normal(size=6)), ("a random vector", rng.normal(0, 3, 10)),
             ("[1000, 1001, 1002]", np.array([1000.0, 1001.0, 1002.0])),
             ("[-1000, -1001, -1002]", np.array([-1000.0, -1001.0, -1002.0]))]
    for what, z in cases:
        try:
            with np.errstate(all="ignore"):
                out = my_softmax(z.copy())
        except Exception as error:      # a student's function may raise anything
            return wrong(f"on {what} your function raised {type(error).__name__}: {error}")
        if out is None:
            return wrong("your function returned None: finish it with `return ...`.")
        value = as_array(out, "what your function returned")
        if not isinstance(value, np.ndarray):
            return value
        if value.shape != z.shape:
            return wrong(f"softmax gives one probability per entry: shape {z.shape} for an input of that shape, "
                         f"got {value.shape} (sum over the vector only in the denominator).")
        if not np.all(np.isfinite(value)):
            return wrong(f"on {what} your softmax gives nan or inf: e^z overflows (or all e^z underflow to 0). "
                         "softmax(z) = softmax(z − c) for any constant c: pick c so the largest exponent is e^0.")
        expected = _softmax(z)
        if np.allclose(value, expected, rtol=1e-7, atol=1e-300):
            continue
        if not np.isclose(value.sum(), 1.0):
            return wrong(f"on {what} your probabilities add up to {value.sum():.4g}, not 1: divide by the sum of "
                         "all the e^(z_c).")
        return wrong(f"on {what} your softmax is not e^(z_k) / Σ_c e^(z_c). Check it on [0, 0] (½, ½) and on "
                     "[0, z] (the second entry is σ(z)).")
    return right("stable softmax: the largest logit becomes e^0 = 1, nothing overflows, and the probabilities add "
                 "up to 1 (thetas' th.softmax does the same, with log-sum-exp).")


def check_random_top5(random_top5_error):
    """Exercise 3: ``random_top5_error(K)``: the top-5 error of a uniform random guess over K classes,
    1 − 5/K (0 when K ≤ 5), as a fraction; checked for K = 3, 5, 6, 10, 1000, 22000."""
    if random_top5_error is None or random_top5_error is Ellipsis:
        return wrong("your function is still None: write it in the cell above and run that cell again.")
    if not callable(random_top5_error):
        return wrong(f"pass your function itself (no parentheses), not a {type(random_top5_error).__name__}.")
    for K in (1000, 10, 6, 22000, 5, 3):
        expected = max(0.0, 1 - 5 / K)
        try:
            out = random_top5_error(K)
        except Exception as error:      # a student's function may raise anything
            return wrong(f"for K = {K} your function raised {type(error).__name__}: {error}")
        if out is None:
            return wrong("your function returned None: finish it with `return ...`.")
        value = as_array(out, f"what your function returned for K = {K}")
        if not isinstance(value, np.ndarray):
            return value
        if value.size != 1:
            return wrong(f"for K = {K} give one number (a fraction), got an array of shape {value.shape}.")
        value = float(value.reshape(()))
        if np.isclose(value, expected, rtol=1e-9, atol=1e-12):
            continue
        if np.isclose(value, 100 * expected, rtol=1e-9):
            return wrong(f"for K = {K} that is a percentage; give the error as a fraction (99.5 % is 0.995).")
        if np.isclose(value, 5 / K, rtol=1e-9):
            return wrong(f"for K = {K} that is the chance the true class IS among the 5 guesses (top-5 accuracy). "
                         "The error is the other case.")
        if np.isclose(value, 1 - 1 / K, rtol=1e-9):
            return wrong(f"for K = {K} that is the top-1 error (one guess). Top-5 makes five different guesses.")
        if K < 5 and value < 0:
            return wrong(f"for K = {K} your error is negative. With fewer than 5 classes, what do the 5 guesses "
                         "cover?")
        return wrong(f"for K = {K} got {value:g}. Count: of the C(K, 5) equally likely sets of five guesses, how "
                     "many leave the true class out?")
    return right("1 − 5/K: 99.5 % for ImageNet's 1,000 classes, 50 % for 10 digits, and 0 once the five guesses "
                 "cover every class.")
