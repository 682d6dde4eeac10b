"""The torch side of the thetas models that compute more than their layers: the same forward, in PyTorch, under the
same parameter names. Imported by ``to_torch`` only (it imports torch)."""
import torch
from torch import nn


class Standardize(nn.Module):
    """y = (x − mean) / std per feature (thetas.nn.Standardize); mean and std are buffers."""

    def __init__(self, features):
        super().__init__()
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("std", torch.ones(features))

    def forward(self, x):
        return (x - self.mean) / self.std


class L2Normalize(nn.Module):
    """y = scale · x / √(Σ x² + eps²) per example (thetas.nn.L2Normalize)."""

    def __init__(self, scale=1.0, eps=1e-6):
        super().__init__()
        self.scale, self.eps = float(scale), float(eps)

    def forward(self, x):
        axes = tuple(range(1, x.dim()))
        return x / torch.sqrt((x * x).sum(axes, keepdim=True) + self.eps ** 2) * self.scale


class LeNet(nn.Sequential):
    """thetas.models.LeNet: its layers in order; flat rows (N, C·S·S) are reshaped to images first."""

    def __init__(self, model, kids):
        super().__init__(*kids.values())
        self.in_channels, self.image_size = model.in_channels, model.image_size

    def forward(self, x):
        if x.dim() == 2:
            x = x.reshape(x.shape[0], self.in_channels, self.image_size, self.image_size)
        return super().forward(x)


class LogisticRegression(nn.Module):
    """thetas.models.LogisticRegression: z = θᵀx + b; one logit per row (N,) for two classes, else (N, C)."""

    def __init__(self, model, kids):
        super().__init__()
        self.linear, self.num_classes = kids["linear"], model.num_classes

    def forward(self, x):
        z = self.linear(x)
        return z.squeeze(-1) if self.num_classes == 2 else z


class Autoencoder(nn.Module):
    """thetas.models.Autoencoder: h = encoder(x); all but the k largest h_j of each example set to 0; the decoder's
    logits, flat (N, in_features)."""

    def __init__(self, model, kids):
        super().__init__()
        self.encoder, self.decoder, self.k, self.hidden = kids["encoder"], kids["decoder"], model.k, model.hidden

    def forward(self, x):
        h = self.encoder(x)
        if self.k is not None and self.k < self.hidden:
            keep = h.topk(self.k, dim=1).indices
            h = h * torch.zeros_like(h).scatter(1, keep, 1.0)
        return self.decoder(h)


class DKT(nn.Module):
    """thetas.models.DKT: x (B, T, 2) int [question, answer] pairs, question −1 for padding; the input at step t is
    one-hot(q_t + M·a_t) (all zeros for padding), or that row of the fixed random projection; then the recurrent
    layer, dropout and the output layer: one logit per question, (B, T, M)."""

    def __init__(self, model, kids):
        super().__init__()
        self.rnn, self.drop, self.out, self.num_questions = kids["rnn"], kids["drop"], kids["out"], model.num_questions
        if model.projection is not None:
            self.register_buffer("projection", torch.zeros(tuple(model.projection.data.shape)))
        else:
            self.projection = None

    def forward(self, x):
        q, a = x[..., 0], x[..., 1]
        valid = q >= 0
        index = torch.where(valid, q + self.num_questions * a, torch.full_like(q, -1))
        dtype = self.out.weight.dtype
        if self.projection is not None:
            inputs = self.projection[index]                       # row −1: the zero row, "no input"
        else:
            inputs = nn.functional.one_hot(index.clamp(min=0), 2 * self.num_questions).to(dtype)
            inputs = inputs * valid.unsqueeze(-1).to(dtype)
        h, _ = self.rnn(inputs)
        return self.out(self.drop(h))


MODELS = {"LeNet": LeNet, "LogisticRegression": LogisticRegression, "Autoencoder": Autoencoder, "DKT": DKT}
