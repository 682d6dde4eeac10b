"""A sparse autoencoder: a network that learns from images alone, no labels (Le et al. 2012's cat neuron came
from one, trained on 10 million unlabelled YouTube frames)."""
import numpy as np

from ..autograd import ops
from ..losses import binary_cross_entropy_with_logits
from ..nn.activation import ReLU
from ..nn.containers import Sequential
from ..nn.conv import Flatten
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.preprocessing import L2Normalize
from ..tensor import Tensor, as_generator


class Autoencoder(Module):
    """A k-sparse autoencoder (Makhzani & Frey 2013): squeeze each image through a code, rebuild it, and learn only
    from how well it was rebuilt.

        encoder:   h = ReLU(W·n(x) + b)            (N, hidden): the code; a unit is one h_j
        k-sparse:  h_k = h with all but the k largest h_j of each example set to 0
        decoder:   x̂ = σ(W'·h_k + b')             forward returns the logits W'·h_k + b'

    n(x) = scale·x/‖x‖ rescales every image to one length (``scale``; None: x as it is), so that a unit answers to
    a digit's shape rather than its amount of ink. The loss is the negative log-likelihood of the image under
    independent Bernoulli pixels with means x̂ (binary cross-entropy from the logits, summed over the pixels,
    averaged over the batch): LL again, with the image as its own label. Gradients reach only the k units kept
    for each example (the mask is a constant of the step), so the units compete for the images; with a small k each
    unit becomes a prototype of a kind of digit, and single units turn out to detect digits (Le et al.'s read-out,
    ``th.inside.selectivity``).

    Args:
        in_features: pixels per image (784 for MNIST; images (N, 1, 28, 28) are flattened).
        hidden: code units.
        k: units kept per example (None: all, a plain ReLU autoencoder).
        scale: n(x)'s length, or None.
        noise: the share of each training image's pixels set to 0 before the encoder (a denoising autoencoder,
            Vincent et al. 2008: it still rebuilds the whole image); none in evaluation.
        generator: seed for the initial thetas (an int seed is saved, so the untrained network can be rebuilt).

    Shape: (N, in_features) or (N, C, H, W) -> (N, in_features) logits.
    """

    def __init__(self, in_features=784, hidden=400, k=3, scale=None, noise=0.0, generator=None):
        in_features, hidden = int(in_features), int(hidden)
        if in_features < 1 or hidden < 1:
            raise ValueError(f"Autoencoder: in_features and hidden must be positive, got {in_features}, {hidden}")
        if k is not None and not 1 <= int(k) <= hidden:
            raise ValueError(f"Autoencoder: k (units kept per example) must be between 1 and hidden={hidden}, "
                             f"got {k}")
        rng = as_generator(generator)
        self.in_features, self.hidden = in_features, hidden
        self.k = None if k is None else int(k)
        self.scale = None if scale is None else float(scale)
        self.noise = float(noise)
        if not 0 <= self.noise < 1:
            raise ValueError(f"Autoencoder: noise (the share of pixels dropped in training) must be in [0, 1), "
                             f"got {noise}")
        self.encoder = Sequential(Flatten(), *([Dropout(self.noise, generator=rng)] if self.noise else []),
                                  *([L2Normalize(scale)] if scale is not None else []),
                                  Linear(in_features, hidden, generator=rng), ReLU())
        self.decoder = Linear(hidden, in_features, generator=rng)

    def sparse(self, h):
        """h_k: the k largest units of each example kept, the others 0 (a constant mask: d h_k/d h = mask)."""
        if self.k is None or self.k >= self.hidden:
            return h
        keep = np.argpartition(-h.data, self.k - 1, axis=1)[:, :self.k]
        mask = np.zeros(h.shape, h.data.dtype)
        np.put_along_axis(mask, keep, 1, axis=1)
        return ops.mul(h, Tensor(mask))

    def forward(self, x):
        return self.decoder(self.sparse(self.encoder(x)))

    def loss(self, logits, x):
        """−LL of the images: BCE(σ(logits), x) summed over the pixels, averaged over the batch (x in [0, 1])."""
        x = x.data if isinstance(x, Tensor) else np.asarray(x)
        target = Tensor(x.reshape(len(x), -1).astype(logits.data.dtype))
        return binary_cross_entropy_with_logits(logits, target, reduction="sum") / len(x)

    def encode(self, x, batch_size=1024):
        """The code h (dense, before the k-sparse cut) of each image, as NumPy (N, hidden); eval mode, no graph."""
        from ..train import predict
        x = self._cast(x)
        return predict(self.encoder, x, batch_size) if len(x) else np.zeros((0, self.hidden))

    def log_likelihood(self, x, batch_size=1024):
        """LL of each image (N,): Σ_pixels x log x̂ + (1 − x) log(1 − x̂) (``bernoulli_log_likelihood`` of the
        logits); −LL is the training loss. Eval mode (no noise), no graph; ``batch_size`` images at a time."""
        from ..train import predict
        x = self._cast(x)
        return np.concatenate([bernoulli_log_likelihood(x[i:i + batch_size], predict(self, x[i:i + batch_size]))
                               for i in range(0, len(x), batch_size)])

    def reconstruct(self, x, batch_size=1024):
        """x̂ = σ(decoder(h_k)) for each image, as NumPy in x's shape."""
        from ..train import predict
        x = self._cast(x)
        return (1 / (1 + np.exp(-predict(self, x, batch_size)))).reshape(x.shape)

    def _cast(self, x):
        return np.asarray(x, next(p.dtype for p in self.parameters()))

    def extra_repr(self):
        return f"in_features={self.in_features}, hidden={self.hidden}, k={self.k}, scale={self.scale}"


def bernoulli_log_likelihood(x, logits):
    """Σ_pixels x log σ(z) + (1 − x) log(1 − σ(z)) of each image (N,), from the logits z as x·z − log(1 + e^z):
    stable for any z (float64)."""
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    z = np.asarray(logits, np.float64).reshape(len(x), -1)
    return (x * z - np.logaddexp(0.0, z)).sum(1)
