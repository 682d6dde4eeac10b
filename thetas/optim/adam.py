"""Adam and AdamW: gradient descent with a per-theta step size from running moments of the gradient."""
import numpy as np

from .optimizer import Optimizer


def _textbook_step(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step as Kingma & Ba write it (Algorithm 1), returning the new (θ, m, v); for reading and tests:

        m = β₁ m + (1 − β₁) g;   v = β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ);       v̂ = v / (1 − β₂ᵗ);       θ = θ − η m̂ / (√v̂ + ε)

    ``Adam.step`` computes the same numbers in fewer passes over the thetas: m += (1 − β₁)(g − m) (torch's lerp),
    v in place, and the step as ``_fast_step``.
    """
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _fast_step(m, v_hat, k, eps_k, out):
    """The step η m̂ / (√v̂ + ε), the fast form ``Adam.step`` runs: with η_t = η / (1 − β₁ᵗ),

        η_t m / (√v̂ / √(1 − β₂ᵗ) + ε) = m / (√v̂ · k + ε / η_t),   k = 1 / (η_t √(1 − β₂ᵗ))

    (k and ε / η_t computed once per step count): three passes over the thetas, written into ``out``, instead of
    the textbook's six and their temporaries. ``_textbook_step`` is the same step as the paper writes it.
    """
    np.sqrt(v_hat, out=out)
    out *= k
    out += eps_k
    return np.divide(m, out, out=out)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), PyTorch's update rule (``torch/optim/adam.py``).

    For each parameter θ with gradient g, at step t = 1, 2, ...:

        g ← −g                                 if maximize
        g ← g + λ θ                            if weight_decay λ ≠ 0   (AdamW instead: θ ← θ (1 − η λ))
        m ← β₁ m + (1 − β₁) g                  first moment: a running mean of g
        v ← β₂ v + (1 − β₂) g²                 second moment: a running mean of g²
        v̂ ← max(v̂, v)  if amsgrad,  else v̂ = v
        θ ← θ − η/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)    (= η m̂ / (√v̂ + ε) of the paper; run as _fast_step)

    Each theta gets a step of about η whatever the scale of its gradient, which is why Adam's default
    η = 1e-3 works for most small networks.

    Args:
        params: Parameters, or parameter-group dicts.
        lr: η.
        betas: (β₁, β₂).
        eps: ε.
        weight_decay: λ.
        amsgrad: use the running maximum v̂ of v (Reddi et al., 2018).
        maximize: climb the objective (e.g. LL(θ)) instead of descending it.
    """
    state_keys = frozenset({"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"})
    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _check_group(self, group, index):
        name = type(self).__name__
        for key in ("lr", "eps", "weight_decay"):
            if not group[key] >= 0:
                raise ValueError(f"{name}: param group {index} has {key}={group[key]!r}; it must be >= 0")
        betas = group["betas"]
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"{name}: param group {index} has betas={betas!r}; it must be two numbers in [0, 1)")
        group["betas"] = tuple(betas)

    def _step_group(self, group):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], self.decoupled_weight_decay
        state, dtype, last_t = self.state, None, None
        for p in group["params"]:
            g = p.grad
            if g is None or not p.requires_grad:
                continue
            theta = p.data
            if g.shape != theta.shape:
                raise ValueError(f"{type(self).__name__}: a parameter of shape {theta.shape} has a gradient of "
                                 f"shape {g.shape}")
            st = state.get(p)
            if st is None:
                st = state[p] = {"step": 0, "exp_avg": np.zeros_like(theta), "exp_avg_sq": np.zeros_like(theta)}
                if amsgrad:
                    st["max_exp_avg_sq"] = np.zeros_like(theta)
            t = st["step"] = st["step"] + 1
            if theta.dtype is not dtype:
                # 0-d arrays of the thetas' dtype: NumPy's cheapest scalar operand, and float32 stays float32
                dtype, last_t = theta.dtype, None
                c1, beta2_, c2, wd_, decay_ = (np.array(v, dtype) for v in
                                               (1.0 - beta1, beta2, 1.0 - beta2, wd, 1.0 - lr * wd))
            if t != last_t:  # the bias corrections 1 − βᵗ, once per step count
                last_t = t
                step_size = lr / (1.0 - beta1 ** t)
                bc2_sqrt = (1.0 - beta2 ** t) ** 0.5
                if step_size > 0:   # the constants of _fast_step
                    k, eps_k = np.array(1.0 / (step_size * bc2_sqrt), dtype), np.array(eps / step_size, dtype)
            m, v = st["exp_avg"], st["exp_avg_sq"]
            if maximize:
                g = -g
            if wd:
                if decoupled:
                    theta *= decay_
                else:
                    g = g + wd_ * theta
            tmp = g - m                   # m ← m + (1 − β₁)(g − m), torch's lerp
            tmp *= c1
            m += tmp
            v *= beta2_
            np.multiply(g, g, out=tmp)
            tmp *= c2
            v += tmp
            if amsgrad:
                v_hat = st.get("max_exp_avg_sq")
                if v_hat is None:         # amsgrad switched on after some steps without it
                    v_hat = st["max_exp_avg_sq"] = np.zeros_like(theta)
                np.maximum(v_hat, v, out=v_hat)
            else:
                v_hat = v
            if step_size > 0:             # (with η = 0 the thetas stay)
                theta -= _fast_step(m, v_hat, k, eps_k, out=tmp)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's rule (``torch/optim/adamw.py``).

    Weight decay shrinks the thetas directly, θ ← θ (1 − η λ), before the Adam step, instead of being added to
    the gradient (where Adam's per-theta scaling would weaken it for thetas with large gradients).
    Same arguments as ``Adam``; ``weight_decay`` defaults to 1e-2.
    """
    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)
