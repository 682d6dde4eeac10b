"""Logistic regression: one neuron. ŷ = P(Y = 1 | x) = σ(θᵀx + b)."""
import numpy as np

from ..autograd import ops
from ..autograd.grad_mode import no_grad
from ..nn.linear import Linear
from ..nn.module import Module


class LogisticRegression(Module):
    """One neuron: z = θᵀx + b, ŷ = σ(z) = P(Y = 1 | x). "It gets its intelligence from its thetas."

    ``forward`` returns the logit z (shape (N,)), the input that ``binary_cross_entropy_with_logits`` wants;
    ``predict_proba`` returns ŷ. Training maximises LL(θ) = Σ y log ŷ + (1 − y) log(1 − ŷ), whose gradient is
    ∂LL/∂θ_j = Σ_i (y_i − ŷ_i) x_ij  (the same as minimising BCE = −LL/n).

    With ``num_classes > 2`` it is multinomial (softmax) regression: C neurons, logits of shape (N, C).

    Args:
        n_features: |x|.
        num_classes: 2 for one sigmoid neuron, more for softmax regression.
        bias: learn b (the lecture often folds it into θ with a constant feature x_0 = 1).

    Shape: (N, n_features) -> (N,) for two classes, (N, num_classes) otherwise.
    """

    def __init__(self, n_features, num_classes=2, bias=True, generator=None):
        if num_classes < 2:
            raise ValueError(f"LogisticRegression: num_classes must be at least 2, got {num_classes}")
        self.n_features, self.num_classes = int(n_features), int(num_classes)
        self.linear = Linear(n_features, 1 if num_classes == 2 else num_classes, bias=bias, generator=generator)

    @property
    def theta(self):
        """The weights θ as a NumPy array: (n_features,) for one neuron, (num_classes, n_features) otherwise."""
        w = self.linear.weight.data
        return w[0] if self.num_classes == 2 else w

    def forward(self, x):
        z = self.linear(x)
        return ops.reshape(z, z.shape[:-1]) if self.num_classes == 2 else z

    def predict_proba(self, x):
        """ŷ: P(Y = 1 | x) for two classes (shape (N,)); softmax probabilities (N, C) otherwise."""
        with no_grad():
            z = self(x)
            return (ops.sigmoid(z) if self.num_classes == 2 else ops.softmax(z, -1)).numpy()

    def predict(self, x):
        """The most likely class of each row (ŷ > 0.5 for two classes)."""
        p = self.predict_proba(x)
        return (p > 0.5).astype(np.int64) if self.num_classes == 2 else p.argmax(-1)

    def extra_repr(self):
        return f"n_features={self.n_features}, num_classes={self.num_classes}"
