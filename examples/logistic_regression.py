"""Logistic regression by gradient ascent, three ways, as on the slides.

    ŷ = σ(θᵀx)          LL(θ) = Σ y log ŷ + (1 − y) log(1 − ŷ)          ∂LL/∂θ_j = Σ (y − ŷ) x_j

1. the lecture's pseudocode, written out with NumPy;
2. the same with thetas' autograd computing ∇LL (the gradients agree to float precision);
3. the same with `th.optim.SGD(maximize=True)`: "θ += η ∇LL" literally.

    python examples/logistic_regression.py
"""
import numpy as np

import thetas as th

rng = np.random.default_rng(0)
n, m = 200, 3
x = np.c_[np.ones(n), rng.normal(size=(n, m - 1))]     # x_0 = 1 folds the bias into θ
true_theta = np.array([-0.5, 2.0, -1.0])
y = (rng.random(n) < 1 / (1 + np.exp(-x @ true_theta))).astype(np.float64)
eta, steps = 0.01, 300

# 1. the pseudocode: gradient[j] += x_j (y − σ(θᵀx)); θ_j += η gradient[j]
theta = np.zeros(m)
for _ in range(steps):
    y_hat = 1 / (1 + np.exp(-x @ theta))
    theta += eta * x.T @ (y - y_hat)
print("by hand:  θ =", np.round(theta, 4))

# 2. autograd: LL(θ).backward() fills θ.grad with ∇LL
theta_t = th.zeros(m, dtype=np.float64, requires_grad=True)
for _ in range(steps):
    ll = th.losses.log_likelihood(y, th.sigmoid(th.tensor(x) @ theta_t))
    theta_t.grad = None
    ll.backward()
    theta_t.data += eta * theta_t.grad
print("autograd: θ =", np.round(theta_t.numpy(), 4), f" LL = {ll.item():.3f}")
assert np.allclose(theta, theta_t.numpy(), atol=1e-8)

# 3. an optimizer doing gradient *ascent*
theta_o = th.nn.Parameter(np.zeros(m))
opt = th.optim.SGD([theta_o], lr=eta, maximize=True)
for _ in range(steps):
    opt.zero_grad()
    th.losses.log_likelihood(y, th.sigmoid(th.tensor(x) @ theta_o)).backward()
    opt.step()
print("SGD(maximize=True): θ =", np.round(theta_o.numpy(), 4), "  true θ =", true_theta)
assert np.allclose(theta, theta_o.numpy(), atol=1e-8)
