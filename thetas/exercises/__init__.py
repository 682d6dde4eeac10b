"""Exercises that check themselves: the homework at the end of each lecture notebook (``notebooks/``).

Each notebook ``notebooks/NN_<part>.ipynb`` ends with a few exercises; their checks live in the module of the same
part, ``thetas.exercises.<part>`` (e.g. ``thetas.exercises.one_neuron``). A check takes the student's answer and
returns a :class:`Verdict`: true when the answer is right, with a message that says what is right, or, when it is
wrong, what was expected in kind (a shape, a sign, a rule) and a hint, never the answer itself. A notebook shows the
message; a test asserts ``bool(verdict)``. A check never raises on a wrong answer (a student's ``None``, a wrong
shape or a function that fails is a wrong answer, told as such), so a notebook with its exercises left blank still
runs top to bottom.

    >>> from thetas.exercises import Verdict
    >>> Verdict(False, "Not yet: the gradient has the wrong sign.")
    ✗ Not yet: the gradient has the wrong sign.
"""
from dataclasses import dataclass

import numpy as np

__all__ = ["Verdict", "right", "wrong", "as_array", "as_number", "call", "sigmoid", "FAST", "fast"]


@dataclass(frozen=True)
class Verdict:
    """The result of one check: ``ok`` (right or not) and the ``message`` a student reads."""
    ok: bool
    message: str

    def __bool__(self):
        return bool(self.ok)

    def __repr__(self):
        return ("✓ " if self.ok else "✗ ") + self.message

    def _repr_markdown_(self):
        return ("**✓ Right.** " if self.ok else "**✗ Not yet.** ") + self.message


def right(message):
    """A right answer, with what it shows."""
    return Verdict(True, message)


def wrong(message):
    """A wrong (or missing) answer, with a hint."""
    return Verdict(False, message)


def as_array(answer, name="your answer"):
    """The student's answer as a float64 array, or a :class:`Verdict` saying why it is not one."""
    if answer is None:
        return wrong(f"{name} is still None: replace None (or ...) with your answer and run the cell again.")
    try:
        value = np.asarray(getattr(answer, "data", answer), dtype=np.float64)
    except (TypeError, ValueError):
        return wrong(f"{name} should be a number or an array of numbers, got {type(answer).__name__}.")
    return value


def as_number(answer, name="your answer", what="one number"):
    """The student's answer as one float, or a :class:`Verdict` saying why it is not one (None, not numbers, an
    array of several, not finite): "ŷ is one number (a probability), got an array of shape (3,)"."""
    value = as_array(answer, name)
    if not isinstance(value, np.ndarray):
        return value
    if value.size != 1:
        return wrong(f"{name} is {what}, got an array of shape {value.shape}.")
    if not np.isfinite(value).all():
        return wrong(f"{name} should be a finite number, got {value.reshape(())}.")
    return float(value.reshape(()))


def call(fn, *args):
    """The student's function run on ``args``: (what it returned, as a float64 array, None), or (None, a wrong
    :class:`Verdict` saying why there is nothing to check: the function is still None or not a function, it raised,
    it returned None or something that is not numbers)."""
    if fn is None or fn is Ellipsis:
        return None, wrong("your function is still None: write it in the cell above and run that cell again.")
    if not callable(fn):
        return None, wrong(f"pass your function itself (no parentheses), not a {type(fn).__name__}.")
    try:
        out = fn(*args)
    except Exception as error:      # a student's function may raise anything
        return None, wrong(f"your function raised {type(error).__name__}: {error}")
    if out is None:
        return None, wrong("your function returned None: finish it with `return ...`.")
    value = as_array(out, "what your function returned")
    return (None, value) if not isinstance(value, np.ndarray) else (value, None)


def sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)) of any numbers, in float64, by thetas' one σ (the ``th.sigmoid`` op's): for checks."""
    from ..autograd.ops import _sigmoid
    return _sigmoid(np.array(z, dtype=np.float64, ndmin=1)).reshape(np.shape(z))


def fast():
    """True when the environment asks for the notebooks' fast mode (``THETAS_FAST=1``): fewer epochs, less data.

    The test suite runs every notebook this way; a student runs the full mode (the default)."""
    import os
    return os.environ.get("THETAS_FAST", "") not in ("", "0")


FAST = fast()
