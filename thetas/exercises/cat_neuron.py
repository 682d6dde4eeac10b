"""Checks for the exercises of ``notebooks/11_cat_neuron.ipynb``: looking inside a network (the cat neuron).

The optimal stimulus of a linear unit a(x) = θᵀx + b under ‖x‖₂ = 1 is x* = θ / ‖θ‖ (Cauchy–Schwarz: θᵀx ≤ ‖θ‖‖x‖,
with equality when x points along θ). For a linear score F(x) = θᵀx + b, integrated gradients from the baseline 0
(and gradient × input) attribute θ_i x_i to pixel i: they add up to F(x) − F(0).
"""
import numpy as np

from . import as_array, call, right, wrong

__all__ = ["THETA", "IMAGE", "check_optimal_stimulus", "check_attributions"]

THETA = np.array([[0.5, -1.0], [2.0, 0.25]])   # exercise 2: a linear model's weights, one per pixel of a 2×2 image
IMAGE = np.array([[0.8, 0.6], [0.1, 1.0]])     # exercise 2: the image it scores



def check_optimal_stimulus(optimal_stimulus):
    """Exercise 1: ``optimal_stimulus(theta)`` returns the x of ‖x‖₂ = 1 that maximises θᵀx + b: θ / ‖θ‖, of θ's
    shape. Checked on random θ of shapes (3,), (10,) and (4, 4) (an image), float64, to 1e-8."""
    rng = np.random.default_rng(11)
    for shape in ((3,), (10,), (4, 4)):
        theta = rng.normal(size=shape)
        value, verdict = call(optimal_stimulus, theta.copy())
        if verdict is not None:
            return verdict
        best = theta / np.linalg.norm(theta)
        told = f"for θ of shape {shape}:"
        if value.shape != theta.shape:
            if value.size == theta.size:
                return wrong(f"{told} the stimulus is an input of θ's own shape {theta.shape}, got {value.shape}.")
            return wrong(f"{told} the stimulus is an input x, one number per θ_j: shape {theta.shape}, got "
                         f"{value.shape}.")
        if np.allclose(value, best, atol=1e-8):
            continue
        n = np.linalg.norm(value)
        if np.allclose(value, -best, atol=1e-8):
            return wrong(f"{told} that input gives the *smallest* activation: θᵀx is largest when x points the "
                         "same way as θ.")
        if np.allclose(value, theta, atol=1e-8):
            return wrong(f"{told} θ itself points the right way, but its length is ‖θ‖ = "
                         f"{np.linalg.norm(theta):.3f}, not 1. Scale it onto the sphere ‖x‖ = 1.")
        if abs(n - 1) > 1e-6:
            return wrong(f"{told} your x has ‖x‖ = {n:.4g}; the constraint is ‖x‖ = 1 (the Euclidean norm, "
                         "the square root of the sum of squares).")
        if value.reshape(-1) @ theta.reshape(-1) < best.reshape(-1) @ theta.reshape(-1) - 1e-6:
            return wrong(f"{told} your x is on the sphere, but another x on it excites the unit more: "
                         f"θᵀx = {value.reshape(-1) @ theta.reshape(-1):.4f}, while the best reaches "
                         f"{np.linalg.norm(theta):.4f}. Think of θᵀx = ‖θ‖‖x‖ cos(angle).")
        return wrong(f"{told} not the maximiser of θᵀx on the sphere ‖x‖ = 1.")
    return right("x* = θ / ‖θ‖: a linear unit's optimal stimulus is its own weights, a picture of what it looks for. "
                 "th.inside.optimal_stimulus finds the same by gradient ascent.")


def check_attributions(answer):
    """Exercise 2: the integrated-gradients attributions (baseline 0) of the linear score F(x) = θᵀx + b for
    ``THETA`` and ``IMAGE``: θ ⊙ x, a 2×2 array (a flat array of 4 in row order is accepted), to 1e-6."""
    value = as_array(answer, "your answer")
    if not isinstance(value, np.ndarray):
        return value
    target = THETA * IMAGE
    if value.size != target.size:
        return wrong(f"one attribution per pixel: {target.size} numbers (a 2×2 array), got {value.size}.")
    value = value.reshape(target.shape)
    if np.allclose(value, target, atol=1e-6):
        k = tuple(int(i) for i in np.unravel_index(np.argmax(target), target.shape))
        return right(f"attribution_i = θ_i x_i, summing to θᵀx = F(x) − F(0) = {target.sum():g} (completeness). "
                     f"Pixel (row, column) = {k} pushed the score up most, though its weight is not the largest in "
                     "size: a pixel matters when its weight *and* its ink are large.")
    if np.allclose(value, THETA, atol=1e-6):
        return wrong("those are the weights θ_i alone: the gradient ∂F/∂x_i, what a small change of each pixel would "
                     "do (saliency). Integrated gradients multiply by how far the pixel is from the baseline 0.")
    if np.allclose(value, np.abs(THETA), atol=1e-6):
        return wrong("that is the saliency |∂F/∂x|: it ignores the image. Attributions say how much each pixel, as it "
                     "is, contributed to the score.")
    if np.allclose(value, IMAGE, atol=1e-6):
        return wrong("those are the pixels alone: the model's weights decide how much each one counts.")
    if np.allclose(value, np.abs(target), atol=1e-6):
        return wrong("close, but keep the sign: a pixel with a negative weight pushed the score down.")
    return wrong("For a linear F the gradient ∂F/∂x_i is the same everywhere along the path from 0 to x: take it "
                 "out of the integral in the formula of IG_i (section 4) and what is left is easy.")
