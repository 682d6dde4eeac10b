"""The "Inside a neuron" page: what a unit of the Digits model has learned, and why the model read a drawing as it did.

    service = InsideService(digits_service)
    service.layers()                                      # every layer with units: its name and how many
    service.stimulus({"layer": 2, "unit": 5, "steps": 10})  # 10 steps of the ascent (again with "start": the x)
    service.top({"layer": 2, "unit": 5})                  # its top 9 test images
    service.explain({"drawing": {...}})                   # integrated gradients of the first guess

The optimal stimulus is Le et al.'s (2012): gradient ascent on the unit's activation over inputs of one length (the
test images' mean L2 norm) and in the pictures' range [0, 1] (``th.inside.optimal_stimuli``). The page asks for a
few steps at a time and sends back where it stopped, so the ascent is drawn as it goes and the server keeps no state
for it. A unit of a feature map is its channel (the mean over positions); of the softmax layer, a class's logit.
"""
import numpy as np

from .. import inside
from ..inside.stimulus import top_k
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .digits import _ready, check_pixels
from .pages import Page, Route
from .schema import LabError, b64, invalid, number

MAX_STEPS = 50          # ascent steps per request
TOP = 9                 # Le et al.'s top stimuli: a 3×3 grid
IG_STEPS = 64           # integrated gradients: gradients per explanation (the adaptive path)
TEST_IMAGES = 10000     # the test images searched for the top stimuli (all of MNIST's)


class InsideService:
    """Looks inside the Digits page's model (``digits``: its ``training.DigitsService``). Caches per model: the
    test images and their mean norm, and each layer's activations on them (one pass per layer)."""

    def __init__(self, digits):
        self.digits = digits
        self._model, self._images, self._acts = None, None, {}

    def _model_ready(self):
        model = _ready(self.digits)
        if model is not self._model:                  # a new model (training finished): forget the old one's
            self._model, self._images, self._acts = model, None, {}
        return model

    def _units(self, model):
        """The layers a unit can be picked from: (group index, layer name for th.inside, title, unit count)."""
        out = []
        for i, g in enumerate(model.groups):
            if g["kind"] == "input" or not g.get("output"):
                continue
            name = "output" if g["kind"] == "softmax" else g["output"]
            out.append((i, name, g["title"], int(g["shape"][0]), g["kind"]))
        return out

    def layers(self, payload=None):
        model = self._model_ready()
        return {"dataset": model.dataset, "side": model.side, "classes": model.classes,
                "layers": [{"index": i, "name": name, "title": title, "units": n, "kind": kind}
                           for i, name, title, n, kind in self._units(model)]}

    def _pick(self, model, payload):
        layers = {i: (name, title, n, kind) for i, name, title, n, kind in self._units(model)}
        if not layers:
            raise invalid("this model has no layer of units to look inside")
        index = number(payload, "layer", 0, max(layers), integer=True)
        if index not in layers:
            raise invalid(f"'layer' {index} has no units to pick; choose one of {sorted(layers)}")
        name, title, n, kind = layers[index]
        unit = number(payload, "unit", 0, n - 1, integer=True)
        return index, name, title, unit, kind

    def _test_images(self, model):
        """The model's test images as it takes them (N, *input shape) and their mean L2 norm; a LabError 503 when
        the data set is not on this machine."""
        if self._images is None:
            from ..data import load
            try:
                test = load(model.dataset).test
            except (FileNotFoundError, ValueError, ImportError) as e:
                raise LabError(503, f"the {model.dataset} test images are not on this machine: {e}") from None
            X = np.asarray(test.X[:TEST_IMAGES], model.dtype)
            X = X.reshape(len(X), *model.input_shape[1:])
            labels = np.asarray(test.y[:TEST_IMAGES])
            self._images = (X, labels, float(np.linalg.norm(X.reshape(len(X), -1), axis=1).mean()))
        return self._images

    def stimulus(self, payload):
        """``steps`` steps of the ascent for one unit, from ``start`` (the x a previous answer sent) or from the
        random start of seed 0; the new x, the unit's activation after each step, and the model's guess for x."""
        model = self._model_ready()
        index, name, title, unit, kind = self._pick(model, payload)
        steps = number(payload, "steps", 1, MAX_STEPS, default=10, integer=True)
        t = number(payload, "t", 0, 10 ** 6, default=0, integer=True)
        shape = model.input_shape[1:]
        _, _, norm = self._test_images(model)
        start = None
        if payload.get("start") is not None:
            start = _image(payload["start"], model.side)
        x, history = inside.optimal_stimuli(model.model, name, [unit], shape, norm=norm, box=(0.0, 1.0),
                                            steps=steps, lr=0.05, seed=t, start=None if start is None else
                                            start.reshape(shape), return_history=True)
        return {"layer": index, "unit": unit, "title": title, "t": t + steps, "norm": norm,
                "x": b64(x[0].reshape(model.side, model.side)),
                "activations": [float(a) for a in history[0][1:]], "start_activation": float(history[0][0]),
                "guess": _guess(model, x)[1]}

    def top(self, payload):
        """The test images that excite the unit most (Le et al.'s top stimuli), with their labels."""
        model = self._model_ready()
        index, name, title, unit, _ = self._pick(model, payload)
        X, y, _ = self._test_images(model)
        if name not in self._acts:
            self._acts[name] = inside.layer_activations(model.model, name, X)
        acts = self._acts[name][:, unit]
        order, _ = top_k(acts, TOP)
        return {"layer": index, "unit": unit, "title": title, "searched": int(len(X)),
                "images": [{"index": int(i), "label": model.classes[int(y[i])] if int(y[i]) < len(model.classes)
                            else str(int(y[i])), "activation": float(acts[i]),
                            "x": b64(X[i].reshape(model.side, model.side))} for i in order]}

    def explain(self, payload):
        """Why the first guess: integrated gradients (from a blank page) of its logit over the input pixels."""
        model = self._model_ready()
        pixels = check_pixels(payload)
        _, image = model.preprocess(pixels)
        if not image.any():
            raise invalid("the drawing is blank: draw a digit first")
        x = np.asarray(image, model.dtype).reshape(model.input_shape)
        c, guess = _guess(model, x)
        att, gap = inside.integrated_gradients(model.model, x, c, steps=IG_STEPS, return_gap=True)
        total = float(att.sum())
        return {"guess": guess, "input": b64(image),
                "attributions": b64(att.reshape(model.side, model.side)), "total": total,
                "gap": float(gap[0]), "steps": IG_STEPS}


def _guess(model, x):
    """The first guess of ``model`` (a DigitModel) for one input ``x``: (its class index, {"label",
    "probability"}), the probability a softmax of the logits."""
    with no_grad():
        z = model.model(Tensor(np.asarray(x, model.dtype).reshape(model.input_shape))).data[0].astype(np.float64)
    p = np.exp(z - z.max())
    p /= p.sum()
    c = int(p.argmax())
    return c, {"label": model.classes[c], "probability": float(p[c])}


def _image(entry, side):
    """A b64 float32 picture (side × side) the page sent back, checked: shape, finite, in [0, 1]."""
    from .schema import from_b64
    if not isinstance(entry, dict) or set(entry) != {"shape", "dtype", "data"} or entry.get("dtype") != "float32" \
            or entry.get("shape") != [side, side] or not isinstance(entry.get("data"), str):
        raise invalid(f"'start' must be the float32 {side}×{side} picture a previous answer sent as 'x'")
    try:
        x = from_b64(entry).astype(np.float64)
    except (ValueError, TypeError):
        raise invalid(f"'start' does not decode to {side}×{side} float32 numbers") from None
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        raise invalid("'start' must hold finite numbers in [0, 1]")
    return x


EXPLAIN_LIMIT = 128 * 1024      # a drawing: 200×200 bytes in base64 and some

PAGE = Page("inside", "/inside", "inside.html", "Inside a neuron", summary=(
    "Pick a unit of the digit model: watch gradient ascent find the picture that excites it most, beside the 9 "
    "test images that do; then draw a digit and see which pixels made the network's first guess."), routes=(
    Route("GET", "/api/inside/layers", lambda service, _: service.layers(),
          "the digit model's layers of units: name, title, how many"),
    Route("POST", "/api/inside/stimulus", lambda service, payload: service.stimulus(payload),
          '{"layer", "unit", "steps" ≤ 50, "start"?: x, "t"?} -> x after the steps, activations, guess'),
    Route("POST", "/api/inside/top", lambda service, payload: service.top(payload),
          '{"layer", "unit"} -> the 9 test images that excite it most'),
    Route("POST", "/api/inside/explain", lambda service, payload: service.explain(payload),
          '{"drawing"} -> integrated gradients of the first guess over the input', EXPLAIN_LIMIT),
))
