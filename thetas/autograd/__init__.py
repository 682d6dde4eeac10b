"""Automatic differentiation: grad mode, the primitive operations with their derivatives, gradient checking."""
from .grad_mode import enable_grad, is_grad_enabled, no_grad
