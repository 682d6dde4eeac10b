"""The workshop's four-pixel camera: set a small network's weights to 1, −1 or 0 by hand, then let it learn.

The 8 images of ``th.data.four_pixels`` (2×2, pixels ±1; solid, vertical, diagonal, horizontal, each with its
inverse) go through

    4 pixels → 4 tanh neurons → 8 ReLU neurons → 4 class scores (softmax)

with no biases. Why the ReLU layer: a tanh network without biases is odd, f(−x) = −f(x), so an image and its
inverse (−x) would get opposite scores and cannot both win the same class; relu(h) and relu(−h) fold the sign
away, as the workshop's network does with its rectified layer.

The hand-set solution (``PRESET``): the tanh neurons see the four 2×2 patterns +1 +1 / +1 +1 (solid),
+1 −1 / +1 −1 (vertical), +1 −1 / −1 +1 (diagonal), +1 +1 / −1 −1 (horizontal); each pattern's neuron is ±tanh(4)
on its own class and 0 on the other three; the ReLU pairs split the sign; each class score adds its pair.
"""
import numpy as np

from ..data.toy import FOUR_PIXEL_CLASSES, four_pixels
from .pages import Page, Route
from .schema import invalid, matrix, number, obj

SHAPES = ((4, 4), (8, 4), (4, 8))            # (out, in) of each layer's weights
LAYERS = ("tanh", "relu", "scores")
_PATTERNS = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, -1, -1, 1], [1, 1, -1, -1]], np.float64)
PRESET = [_PATTERNS,
          np.array([[1, 0, 0, 0], [-1, 0, 0, 0], [0, 1, 0, 0], [0, -1, 0, 0],
                    [0, 0, 1, 0], [0, 0, -1, 0], [0, 0, 0, 1], [0, 0, 0, -1]], np.float64),
          np.kron(np.eye(4), [[1, 1]])]


def network(weights, bias=False, seed=0):
    from ..nn import Linear, ReLU, Sequential, Tanh
    model = Sequential(Linear(4, 4, bias=bias, generator=seed), Tanh(), Linear(4, 8, bias=bias, generator=seed + 1),
                       ReLU(), Linear(8, 4, bias=bias, generator=seed + 2))
    if weights is not None:
        for layer, w in zip((model[0], model[2], model[4]), weights):
            layer.weight.data[...] = w
    return model


def weights_of(model):
    return [model[i].weight.data.astype(np.float64) for i in (0, 2, 4)]


def parse_weights(payload, hand_set=True):
    """The three weight matrices of a request; hand-set weights may only be 1, −1 or 0."""
    obj(payload)
    w = payload.get("weights")
    if not isinstance(w, list) or len(w) != 3:
        raise invalid(f"'weights' must be a list of 3 matrices, of shapes {', '.join(map(str, SHAPES))}")
    return [matrix(m, s, f"weights[{i}]", allowed=(1.0, -1.0, 0.0) if hand_set else None)
            for i, (m, s) in enumerate(zip(w, SHAPES))]


def evaluate(weights):
    """Every image through the network: each layer's outputs, the scores, P(class), the prediction, the loss,
    and each neuron's receptive field (the pixel pattern it responds to, layers multiplied through)."""
    from ..autograd.grad_mode import no_grad
    from ..losses import cross_entropy
    from ..tensor import Tensor
    X, y = four_pixels()
    model = network(weights)
    acts = model.activations(X.astype(np.float32))
    scores = acts["4"].astype(np.float64)
    p = np.exp(scores - scores.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    with no_grad():
        loss = cross_entropy(Tensor(scores), y).item()
    pred = p.argmax(1)
    W1, W2, W3 = weights
    fields = [W1, W2 @ W1, W3 @ W2 @ W1]
    return {"images": X.tolist(), "labels": y.tolist(), "classes": list(FOUR_PIXEL_CLASSES),
            "layers": [acts["1"].tolist(), acts["3"].tolist(), scores.tolist()], "probabilities": p.tolist(),
            "predicted": pred.tolist(), "correct": (pred == y).tolist(), "accuracy": float(np.mean(pred == y)),
            "loss": float(loss), "receptive_fields": [f.tolist() for f in fields],
            "weights": [w.tolist() for w in weights]}


def train(payload):
    """Train the same network from random thetas (Adam, cross-entropy, all 8 images each step)."""
    from .. import optim
    from ..losses import cross_entropy
    obj(payload)
    seed = number(payload, "seed", 0, 2 ** 31 - 1, default=0, integer=True)
    epochs = number(payload, "epochs", 1, 5000, default=500, integer=True)
    lr = number(payload, "lr", 1e-5, 1, default=0.03)
    X, y = four_pixels()
    model = network(None, seed=seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        loss = cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    out = evaluate(weights_of(model))
    every = max(1, epochs // 200)
    out.update(history=history[::every], epochs=epochs, lr=lr, seed=seed)
    return out


def describe():
    X, y = four_pixels()
    return {"images": X.tolist(), "labels": y.tolist(), "classes": list(FOUR_PIXEL_CLASSES),
            "shapes": [list(s) for s in SHAPES], "layers": list(LAYERS), "preset": [w.tolist() for w in PRESET],
            "zero": [np.zeros(s).tolist() for s in SHAPES]}


PAGE = Page("fourpixel", "/four-pixels", "fourpixel.html", "Four-pixel camera", summary=(
    "Solid, vertical, diagonal or horizontal? Set the weights of a small tanh network to 1, −1 or 0 yourself, then "
    "let gradient descent find its own."), routes=(
    Route("GET", "/api/fourpixel", lambda _, p: {**describe(), "evaluation": evaluate(PRESET)},
          "the images and the hand-set solution"),
    Route("POST", "/api/fourpixel/evaluate", lambda _, p: evaluate(parse_weights(p)),
          '{"weights": [W1, W2, W3]} (1, −1, 0) -> classifications', beside=True),
    Route("POST", "/api/fourpixel/train", lambda _, p: train(p),
          '{"epochs", "lr", "seed"} -> learned weights, classifications', beside=True),
))
