"""The multi-layer perceptron: logistic regressions stacked, layer after layer."""
from ..nn.activation import Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from ..nn.containers import Sequential
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..tensor import as_generator

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU, "linear": Identity,
               "identity": Identity}


class MLP(Sequential):
    """A fully connected network: h₁ = f(W₁x + b₁), h₂ = f(W₂h₁ + b₂), ..., output = W_L h_{L-1} + b_L (logits).

    Each hidden unit is one logistic-regression neuron when f is the sigmoid; the lecture's x → h → ŷ with
    θ^(h) and θ^(ŷ) is ``MLP([|x|, |h|, 1], activation="sigmoid")``. With ``activation="linear"`` the whole stack
    collapses to one linear map: no better than logistic regression.

    Args:
        sizes: layer widths [in, hidden..., out], e.g. [64, 32, 10].
        activation: 'sigmoid', 'tanh', 'relu', 'leaky_relu' or 'linear', after every hidden layer.
        dropout: dropout probability after every hidden activation (0 = none).
        generator: seed or np.random.Generator for the initial thetas.

    - Shape: (N, sizes[0]) -> (N, sizes[-1])
    - Parameters: Σ_l (sizes[l]·sizes[l+1] + sizes[l+1]).
    """

    def __init__(self, sizes, activation="relu", dropout=0.0, generator=None):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output width, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        rng = as_generator(generator)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, generator=rng))
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
                if dropout:
                    layers.append(Dropout(dropout, generator=rng))
        super().__init__(*layers)
        self.sizes, self.activation, self.dropout = sizes, activation, float(dropout)
