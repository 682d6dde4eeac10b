"""Checks for the exercises of ``notebooks/06_optimisation.ipynb``: momentum by hand, and the largest stable step.

Both exercises walk a quadratic bowl L(θ) = ½ θᵀ A θ, whose gradient is ∇L(θ) = A θ.
"""
import numpy as np

from . import Verdict, as_array, as_number, right, wrong

# Exercise 1: momentum on L(θ) = ½ (4 θ₁² + θ₂²), from θ⁽⁰⁾ = (1, 1) (θ₁, θ₂: components; ⁽ᵗ⁾: after t steps)
MOMENTUM_A = np.diag([4.0, 1.0])
MOMENTUM_START = np.array([1.0, 1.0])
MOMENTUM_LR, MOMENTUM_MU = 0.1, 0.9
# Exercise 2: the bowl whose largest stable step size is asked
STEP_A = np.array([[3.0, 1.0], [1.0, 3.0]])


def _steps(rule, n=2):
    """θ after ``n`` steps of ``rule(θ, g, state) -> θ`` on the momentum exercise's bowl."""
    theta, state = MOMENTUM_START.copy(), {}
    for _ in range(n):
        theta = rule(theta, MOMENTUM_A @ theta, state)
    return theta


def _momentum(theta, g, state):                       # thetas' and PyTorch's rule: v₁ = g₁, v = μ v + g
    state["v"] = g if "v" not in state else MOMENTUM_MU * state["v"] + g
    return theta - MOMENTUM_LR * state["v"]


def _plain(theta, g, state):
    return theta - MOMENTUM_LR * g


def _dampened(theta, g, state):                       # v = μ v + (1 − μ) g from v₀ = 0: another convention
    state["v"] = MOMENTUM_MU * state.get("v", 0.0) + (1 - MOMENTUM_MU) * g
    return theta - MOMENTUM_LR * state["v"]


def check_momentum_two_steps(answer):
    """θ⁽²⁾, the thetas after two steps of gradient descent with momentum (v⁽¹⁾ = ∇L(θ⁽⁰⁾),
    v⁽ᵗ⁾ = μ v⁽ᵗ⁻¹⁾ + ∇L(θ⁽ᵗ⁻¹⁾), θ⁽ᵗ⁾ = θ⁽ᵗ⁻¹⁾ − η v⁽ᵗ⁾; η = 0.1, μ = 0.9) on L(θ) = ½ (4θ₁² + θ₂²) from
    θ⁽⁰⁾ = (1, 1): (0, 0.72), to 1e-6."""
    theta = as_array(answer, "θ⁽²⁾")
    if not isinstance(theta, np.ndarray):
        return theta
    if theta.shape != (2,):
        return wrong(f"θ⁽²⁾ has two entries, its components [θ₁, θ₂] after the second step, got shape {theta.shape}.")
    if not np.isfinite(theta).all():
        return wrong("θ⁽²⁾ holds a NaN or an infinity.")

    def near(rule_or_value):
        return np.allclose(theta, rule_or_value, rtol=0, atol=1e-6)
    if near(_steps(_momentum)):
        return right("θ⁽²⁾ = (0, 0.72). Step 1 is plain gradient descent (v⁽¹⁾ = ∇L(θ⁽⁰⁾) = (4, 1), "
                     "θ⁽¹⁾ = (0.6, 0.9)); step 2 adds 0.9 of the first velocity to the new gradient: "
                     "v⁽²⁾ = (3.6, 0.9) + (2.4, 0.9) = (6, 1.8). "
                     "th.optim.SGD(params, lr=0.1, momentum=0.9) gives the same.")
    if near(_steps(_momentum, 1)) or near(_steps(_plain, 1)):
        return wrong("that is θ⁽¹⁾, after one step: take a second one, with the velocity carried over.")
    if near(_steps(_plain)):
        return wrong("that is two steps of plain gradient descent: with momentum the second step is "
                     "η (μ v⁽¹⁾ + ∇L(θ⁽¹⁾)), the new gradient plus μ times the previous velocity.")
    if near(_steps(_dampened)):
        return wrong("that is momentum with dampening, v = μ v + (1 − μ) g from v⁽⁰⁾ = 0: the lecture's (and thetas') "
                     "rule adds the whole gradient, v = μ v + g, starting from v⁽¹⁾ = ∇L(θ⁽⁰⁾).")
    return wrong("Write the two steps out: ∇L(θ) = (4θ₁, θ₂); v⁽¹⁾ = ∇L(θ⁽⁰⁾), θ⁽¹⁾ = θ⁽⁰⁾ − η v⁽¹⁾; "
                 "then v⁽²⁾ = μ v⁽¹⁾ + ∇L(θ⁽¹⁾), θ⁽²⁾ = θ⁽¹⁾ − η v⁽²⁾.")


def check_largest_stable_step(answer):
    """The largest step size η for which gradient descent converges on L(θ) = ½ θᵀ A θ with A = [[3, 1], [1, 3]]:
    every step multiplies θ's part along an eigenvector of A (eigenvalue λ) by 1 − ηλ, so the run converges from
    every start when |1 − ηλ| < 1 for both λ, i.e. η < 2/λ_max = 0.5 (relative tolerance 1e-3)."""
    eta = as_number(answer, "η")
    if isinstance(eta, Verdict):
        return eta
    lams = np.linalg.eigvalsh(STEP_A)                  # 2 and 4
    best = 2 / lams.max()
    if abs(eta - best) <= 1e-3 * best:
        return right("η < 2/λ_max = 2/4 = 0.5. A's eigenvalues are 4 (along (1, 1)) and 2 (along (1, −1)); each "
                     "step multiplies those parts of θ by 1 − 4η and 1 − 2η. At η = 0.5 the steep one flips sign "
                     "without shrinking, beyond it grows: the steepest direction sets the limit.")
    if abs(eta - 2 / lams.min()) <= 1e-3:
        return wrong("that is the limit for the flattest direction; along the steepest one a step that large already "
                     "overshoots by more than it corrects. Which eigenvalue of A is largest?")
    if abs(eta - 1 / lams.max()) <= 1e-3 * best:
        return wrong("with that η the steep direction is reached in one step (1 − ηλ = 0), the fastest choice, but "
                     "not the largest stable one: steps that overshoot still converge while |1 − ηλ| < 1.")
    if eta <= 0:
        return wrong("a step size is positive.")
    return wrong(f"Along an eigenvector of A with eigenvalue λ, a step does θ ← (1 − ηλ) θ. For which η "
                 f"is |1 − ηλ| < 1 for both of A's eigenvalues (np.linalg.eigvalsh(A))? You gave η = {eta:g}.")
