"""The Digits page (Harley's "draw your number here"): a drawing, preprocessed as MNIST was made, through every layer.

    model = DigitModel.load("lenet.safetensors")
    result = model.predict(pixels)          # pixels: uint8 (H, W), 0 = paper, 255 = ink
    result["guesses"]                        # [{"label": "1", "probability": 0.97}, {"label": "7", ...}]
    model.unit(pixels, layer=1, unit=[0, 14, 14])   # one conv unit: patch, kernel, weighted sum, activation
    model.unit(pixels, layer=5, unit=[3])["feeds"]  # the units of the layer before that feed it, by weight
    model.filters()                                  # every conv layer's kernels: the shared weights it learned

Layers as the page shows them (``layer_groups``): the input; each conv layer with its activation (feature maps,
C × H × W); each pooling layer; each dense layer with its activation; the output layer's softmax. Flatten and
Dropout (the identity in evaluation) are folded into their neighbours.

The page's "watch it learn" (a LeNet trained live, ``training.LiveTraining``) answers through the same routes: a
request with ``"model": "live"`` is answered by this client's live model instead of the page's.
"""
from pathlib import Path

import numpy as np

from ..data.images import to_mnist
from ..nn.activation import Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from ..nn.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..tensor import Tensor
from .pages import Page, Route
from .schema import LabError, b64, choice, int_list, invalid, number
from .training import LIVE_MIN_STEPS, LIVE_STEPS

_ACTS = (ReLU, Tanh, Sigmoid, LeakyReLU, Identity)
_ACT_NAMES = {ReLU: "ReLU", Tanh: "tanh", Sigmoid: "sigmoid", LeakyReLU: "leaky ReLU", Identity: "identity"}
MAX_PIXELS = 200 * 200   # the drawing as sent: at most this many grayscale pixels
MAX_FEEDS = 30           # lines drawn to the units that feed a unit: the strongest this many, by |w·x|


def eight_by_eight(image28):
    """A 28×28 MNIST-style image as scikit-learn's 8×8 digits were made (32×32 bitmaps counted in 4×4 blocks):
    padded to 32×32, averaged over 4×4 blocks, values in [0, 1]."""
    return np.pad(image28, 2).reshape(8, 4, 8, 4).mean(axis=(1, 3)).astype(np.float32)


def _pairs(v):
    return (int(v), int(v)) if np.isscalar(v) else (int(v[0]), int(v[1]))


def _padding(layer, kernel):
    p = layer.padding
    if p == "valid":
        return 0, 0
    if p == "same":
        return (kernel[0] - 1) // 2, (kernel[1] - 1) // 2
    return _pairs(p)


def conv_filters(model):
    """Every conv layer's filters, in order: ``[{"title", "shape": [F, C, kh, kw], "kernels": b64}]``. A filter is
    a set of shared weights (the lecture's convolution: weights "shared for different neurons"): one kh × kw kernel
    per input map, the same at every position of its feature map, so a conv layer of F filters learns F·C·kh·kw
    weights (plus F biases) however large the image."""
    convs = [m for m in model.modules() if isinstance(m, Conv2d)]
    return [{"title": f"conv {i + 1}: {m.out_channels} filters of {m.in_channels}×{m.kernel_size[0]}×"
                      f"{m.kernel_size[1]}", "shape": list(m.weight.data.shape), "kernels": b64(m.weight.data)}
            for i, m in enumerate(convs)]


class DigitModel:
    """A saved digit classifier (LeNet or an MLP from ``thetas train``) and how to feed it a drawing."""

    def __init__(self, model, metadata=None, source=""):
        from ..models import Autoencoder
        user = (metadata or {}).get("user") or {}
        if isinstance(model, Autoencoder):
            raise ValueError(f"{source}: an autoencoder rebuilds digits, it does not name them: give a classifier "
                             "(thetas train mnist --model lenet --save PATH)")
        self.model, self.source = model.eval(), str(source)
        self.dataset = str(user.get("dataset") or ("digits" if getattr(model, "image_size", 28) == 8 else "mnist"))
        self.side = 8 if self.dataset.lower().startswith("digits") else 28
        self.dtype = next((p.data.dtype for p in model.parameters()), np.float32)
        self.input_shape = self._find_input_shape()
        calls = self._calls(np.zeros((self.side, self.side), np.float32))
        out = calls[-1][3]
        if out.ndim != 1 or out.shape[0] < 2:
            raise ValueError(f"{source}: not a digit classifier (its output has shape {tuple(out.shape)})")
        classes = user.get("classes") or list(range(out.shape[0]))
        self.classes = [str(c) for c in classes][:out.shape[0]]
        self.classes += [str(i) for i in range(len(self.classes), out.shape[0])]
        self.groups = self._group(calls)
        self.accuracy = user.get("test_accuracy")

    @classmethod
    def load(cls, path):
        from ..io import load, load_metadata
        return cls(load(path), load_metadata(path), source=path)

    def _find_input_shape(self):
        """(1, 1, S, S) for a conv net or an MLP that flattens images itself, else (1, S·S)."""
        from ..autograd.grad_mode import no_grad
        errors = []
        for shape in ((1, 1, self.side, self.side), (1, self.side * self.side)):
            try:
                with no_grad():
                    self.model(Tensor(np.zeros(shape, self.dtype)))
                return shape
            except (ValueError, TypeError, IndexError) as e:
                errors.append(str(e))
        raise ValueError(f"{self.source}: the model takes neither a {self.side}×{self.side} image nor a flat row of "
                         f"{self.side ** 2} pixels ({errors[-1]})")

    def describe(self):
        return {"source": self.source, "file": Path(self.source).name if self.source else "",
                "test_accuracy": self.accuracy, "dataset": self.dataset, "input": [self.side, self.side],
                "classes": self.classes, "parameters": self.model.num_parameters(),
                "layers": [{k: g[k] for k in ("kind", "title", "shape", "modules", "output")} for g in self.groups]}

    def filters(self):
        """The learned filters of every conv layer (``conv_filters``), for the page's gallery."""
        return {"source": self.source, "accuracy": self.accuracy, "layers": conv_filters(self.model)}

    # ------------------------------------------------------------------ running it
    def preprocess(self, pixels):
        """uint8 drawing (H, W), ink 255 -> (the 28×28 MNIST-style image, the model's input image S×S)."""
        mnist = to_mnist(pixels, invert=False)                  # exactly as MNIST was made
        return mnist, (mnist if self.side == 28 else eight_by_eight(mnist))

    def _calls(self, image):
        """Every leaf layer's call, in order: (name, module, input array, output array), batch dim dropped."""
        x = Tensor(np.asarray(image, self.dtype).reshape(self.input_shape))
        calls = []
        for name, module, args, out in self.model._record(x):
            if any(True for _ in module.children()) or not isinstance(out, Tensor):
                continue
            inp = args[0].data if args and isinstance(args[0], Tensor) else np.asarray(args[0])
            calls.append((name, module, inp[0], out.data[0]))
        return calls

    def _group(self, calls):
        """Leaf calls -> the layers the page draws (indices into calls), each with a kind and a title."""
        groups = [{"kind": "input", "title": f"input {self.side}×{self.side}", "calls": [],
                   "shape": [1, self.side, self.side], "modules": [], "output": None}]
        linears = [i for i, c in enumerate(calls) if isinstance(c[1], Linear)]
        convs = pools = dense = 0
        for i, (_, m, _, _) in enumerate(calls):
            if isinstance(m, Conv2d):
                convs += 1
                kh, kw = m.kernel_size
                groups.append({"kind": "conv", "title": f"conv {convs}: {m.out_channels} feature maps, {kh}×{kw} "
                               "kernels", "calls": [i]})
            elif isinstance(m, (MaxPool2d, AvgPool2d)):
                pools += 1
                kind = "max" if isinstance(m, MaxPool2d) else "average"
                groups.append({"kind": "pool", "title": f"pool {pools}: {kind} of {m.kernel_size[0]}×"
                               f"{m.kernel_size[1]}", "calls": [i]})
            elif isinstance(m, Linear):
                if linears and i == linears[-1]:
                    groups.append({"kind": "softmax", "title": f"softmax: {m.out_features} classes",
                                   "calls": [i]})
                else:
                    dense += 1
                    groups.append({"kind": "dense", "title": f"dense {dense}: {m.out_features} units", "calls": [i]})
            elif isinstance(m, _ACTS) and len(groups) > 1 and groups[-1]["kind"] in ("conv", "dense") \
                    and len(groups[-1]["calls"]) == 1 and groups[-1]["calls"][0] == i - 1:
                groups[-1]["calls"].append(i)
                groups[-1]["title"] += f" + {_ACT_NAMES[type(m)]}"
            elif isinstance(m, (Flatten, Dropout, Softmax)) or isinstance(m, _ACTS):
                groups[-1].setdefault("folded", []).append(i)      # drawn as part of the layer before
            else:
                groups.append({"kind": "other", "title": f"{type(m).__name__}", "calls": [i]})
        for g in groups:
            g["modules"] = [calls[i][0] for i in g["calls"] + g.get("folded", [])]
            if g["calls"]:
                g["shape"] = list(calls[g["calls"][-1]][3].shape)
                g["output"] = calls[g["calls"][-1]][0]             # the layer whose output is drawn
        return groups

    def predict(self, pixels):
        """First and second guesses, every layer's activations, and the preprocessed image."""
        mnist, image = self.preprocess(pixels)
        calls = self._calls(image)
        logits = calls[-1][3].astype(np.float64)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        order = np.argsort(-p, kind="stable")
        layers = []
        for g in self.groups:
            if g["kind"] == "input":
                data = image[None]
            elif g["kind"] == "softmax":
                data = p
            else:
                data = calls[g["calls"][-1]][3]
            layers.append({"kind": g["kind"], "title": g["title"], "modules": g["modules"], "output": g["output"],
                           **b64(data)})
        return {"guesses": [{"label": self.classes[i], "probability": float(p[i])} for i in order[:2]],
                "probabilities": [float(v) for v in p], "classes": self.classes, "blank": not mnist.any(),
                "mnist": b64(mnist), "input": b64(image), "logits": [float(v) for v in logits], "layers": layers}

    # ------------------------------------------------------------------ one unit, explained
    def unit(self, pixels, layer, unit):
        """What one unit computes: its receptive field in the input, its weights, the weighted sum, the activation."""
        if not 0 <= layer < len(self.groups):
            raise invalid(f"'layer' must be between 0 and {len(self.groups) - 1}, got {layer}")
        g = self.groups[layer]
        shape = g["shape"]
        if len(unit) != len(shape) or any(not 0 <= u < s for u, s in zip(unit, shape)):
            raise invalid(f"'unit' must be {len(shape)} indices within {shape}, got {unit}")
        _, image = self.preprocess(pixels)
        calls = self._calls(image)
        out = {"layer": layer, "kind": g["kind"], "title": g["title"], "unit": list(unit)}
        if g["kind"] == "input":
            out.update(value=float(image[unit[1], unit[2]]), receptive_field=[unit[1], unit[2], unit[1], unit[2]])
            return out
        first = calls[g["calls"][0]]
        module, x, z_all = first[1], first[2], first[3]
        act = calls[g["calls"][-1]] if len(g["calls"]) > 1 else None
        if g["kind"] == "conv":
            f, i, j = unit
            kh, kw = module.kernel_size
            sh, sw = module.stride
            ph, pw = _padding(module, (kh, kw))
            xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
            patch = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw]
            kernel = module.weight.data[f]
            bias = float(module.bias.data[f]) if module.bias is not None else 0.0
            z = float((patch.astype(np.float64) * kernel).sum() + bias)
            out.update(kernel=kernel.tolist(), patch=patch.tolist(), bias=bias, weighted_sum=z,
                       computed=float(z_all[f, i, j]), feature_map=f,
                       activation=float(act[3][f, i, j]) if act else z,
                       activation_name=_ACT_NAMES[type(act[1])] if act else "none",
                       shared=f"the same {kernel.size + 1} weights (kernel {f} and its bias) at every one of the "
                              f"{z_all.shape[1] * z_all.shape[2]} positions of feature map {f}")
            c, di, dj = np.meshgrid(*map(np.arange, kernel.shape), indexing="ij")    # the kernel's (C, kh, kw)
            rows, cols = i * sh - ph + di, j * sw - pw + dj                  # where each weight lands in x
            seen = (rows >= 0) & (rows < x.shape[1]) & (cols >= 0) & (cols < x.shape[2])   # not the zero padding
            out["feeds"] = self._feeds(layer, x.shape, np.stack([c[seen], rows[seen], cols[seen]], 1),
                                       kernel[seen], x[c[seen], rows[seen], cols[seen]])
        elif g["kind"] == "pool":
            c, i, j = unit
            kh, kw = module.kernel_size
            sh, sw = module.stride
            window = x[c, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out.update(window=window.tolist(), activation=float(z_all[c, i, j]),
                       rule="max" if isinstance(module, MaxPool2d) else "mean")
            r, q = np.meshgrid(np.arange(window.shape[0]), np.arange(window.shape[1]), indexing="ij")
            if isinstance(module, MaxPool2d):       # no weights: the one that wins counts 1, the others 0
                weights = (np.arange(window.size) == np.argmax(window)).astype(np.float32)
            else:
                weights = np.full(window.size, 1 / window.size, np.float32)
            units = np.stack([np.full(window.size, c), i * sh + r.ravel(), j * sw + q.ravel()], 1)
            out["feeds"] = self._feeds(layer, x.shape, units, weights, window.ravel())
        else:                                                   # dense or softmax: a Linear unit
            k = unit[0]
            w, v = module.weight.data[k], x.reshape(-1)
            bias = float(module.bias.data[k]) if module.bias is not None else 0.0
            z = float((w.astype(np.float64) * v).sum() + bias)
            # the weights drawn in the shape of what fed them: feature maps (C, H, W), an image, or a vector
            before = self._shape_before_flatten(calls, g["calls"][0])
            contrib = w * v
            top = np.argsort(-np.abs(contrib), kind="stable")[:8]
            out.update(weights=b64(w.reshape(before)), inputs=b64(v.reshape(before)), bias=bias, weighted_sum=z,
                       computed=float(z_all[k]),
                       top_inputs=[{"index": int(t), "weight": float(w[t]), "input": float(v[t]),
                                    "product": float(contrib[t])} for t in top])
            units = np.stack(np.unravel_index(np.arange(v.size), self.groups[layer - 1]["shape"]), 1) \
                if np.prod(self.groups[layer - 1]["shape"]) == v.size else None
            out["feeds"] = self._feeds(layer, v.shape, units, w, v)
            if g["kind"] == "softmax":
                logits = z_all.astype(np.float64)
                p = np.exp(logits - logits.max())
                p /= p.sum()
                out.update(activation=float(p[k]), activation_name="softmax", label=self.classes[k])
            else:
                out.update(activation=float(act[3][k]) if act else z,
                           activation_name=_ACT_NAMES[type(act[1])] if act else "none")
        out["receptive_field"] = self._receptive_field(calls, g["calls"][0], unit)
        return out

    def _feeds(self, layer, shape, units, weights, inputs):
        """The units of the layer before (``units``: one index into its output per row) that feed a unit with
        ``weights``, given ``inputs`` (their activations on this drawing): the ``MAX_FEEDS`` strongest by |w·x|
        (then by |w|), what the page draws as lines (colour: the sign of w; width: |w|). None when the layer before
        is not what feeds this one (a model the page folds differently)."""
        before = self.groups[layer - 1]
        if units is None or (len(shape) == 3 and list(shape) != list(before["shape"])):
            return None
        weights, inputs = np.asarray(weights, np.float64).ravel(), np.asarray(inputs, np.float64).ravel()
        order = np.lexsort((-np.abs(weights), -np.abs(weights * inputs)))[:MAX_FEEDS]     # the last key sorts first
        return {"layer": layer - 1, "title": before["title"], "units": np.asarray(units)[order].tolist(),
                "weights": [float(v) for v in weights[order]], "inputs": [float(v) for v in inputs[order]],
                "shown": int(order.size), "of": int(weights.size), "by": "|w·x|"}

    def _shape_before_flatten(self, calls, index):
        """The shape of what fed layer ``index`` before it was flattened: feature maps (C, H, W), the image
        (1, S, S), or the vector itself."""
        j = index - 1
        while j >= 0 and isinstance(calls[j][1], (Dropout, *_ACTS)):
            j -= 1
        if j >= 0 and isinstance(calls[j][1], Flatten):
            return list(calls[j][2].shape)
        if j < 0 and calls[index][2].size == self.side ** 2:
            return [1, self.side, self.side]
        return list(calls[index][2].shape)

    def _receptive_field(self, calls, index, unit):
        """[top, left, bottom, right] (inclusive) input pixels that can move this unit; the whole image past a
        dense layer."""
        full = [0, 0, self.side - 1, self.side - 1]
        if len(unit) != 3:
            return full
        top, bottom, left, right = unit[1], unit[1], unit[2], unit[2]
        for j in range(index, -1, -1):                          # walk back to the input through spatial layers
            m = calls[j][1]
            if isinstance(m, (Conv2d, MaxPool2d, AvgPool2d)):
                (kh, kw), (sh, sw) = m.kernel_size, m.stride
                ph, pw = _padding(m, (kh, kw)) if isinstance(m, Conv2d) else m.padding
                top, bottom = top * sh - ph, bottom * sh - ph + kh - 1
                left, right = left * sw - pw, right * sw - pw + kw - 1
            elif not isinstance(m, (*_ACTS, Dropout)):
                return full
        def clip(v):
            return int(min(max(v, 0), self.side - 1))
        return [clip(top), clip(left), clip(bottom), clip(right)]


def check_pixels(payload):
    """The drawing of a request: uint8 (H, W), validated (size limit ``MAX_PIXELS``)."""
    from .schema import grayscale, obj
    obj(payload)
    drawing = payload.get("drawing", payload)
    if not isinstance(drawing, dict):
        raise invalid("'drawing' must be an object {width, height, pixels}")
    return grayscale(drawing, MAX_PIXELS)


def not_ready(status):
    return LabError(503, status.get("message") or "the digit model is not ready yet")


# ---------------------------------------------------------------------- the page and its API
DRAWING_LIMIT = 128 * 1024             # bytes of a request with a drawing: 200×200 bytes in base64 and some


def _ready(service):
    """The page's DigitModel (``service``: a ``training.DigitsService``), or LabError 503 while there is none."""
    if service.model is None:
        raise not_ready(service.status())
    return service.model


def _chosen(service, payload):
    """The model a request asks for with ``"model"``: 'loaded' (the page's, the default) or 'live' (this client's
    "watch it learn" LeNet, once it has finished or been stopped)."""
    if choice(payload, "model", ("loaded", "live"), "loaded") == "live":
        return service.live_model()
    return _ready(service)


def _predict(service, payload):
    pixels = check_pixels(payload)
    return _chosen(service, payload).predict(pixels)


def _unit(service, payload):
    pixels = check_pixels(payload)
    model = _chosen(service, payload)
    layer = number(payload, "layer", 0, len(model.groups) - 1, integer=True)
    unit = int_list(payload, "unit", 1, 3, 0, 10 ** 6)
    return model.unit(pixels, layer, unit)


def _filters(service, payload):
    return _chosen(service, payload).filters()


PAGE = Page("digits", "/digits", "digits.html", "Digits", summary=(
    "Draw a digit. It is preprocessed as MNIST was made, and a LeNet guesses it; watch every layer's activations, "
    "hover a unit to see what feeds it, and watch a LeNet learn from fresh thetas."), routes=(
    Route("GET", "/api/digits/status", lambda service, _: service.status(),
          "the digit model: ready, training (progress) or failed"),
    Route("POST", "/api/digits/predict", _predict,
          '{"drawing": {width, height, pixels}, "model"?: "loaded"|"live"} -> guesses, every layer', DRAWING_LIMIT),
    Route("POST", "/api/digits/unit", _unit,
          '{"drawing", "layer", "unit", "model"?} -> one unit\'s patch, kernel, sum, and the units feeding it',
          DRAWING_LIMIT),
    Route("GET", "/api/digits/filters", _filters,
          "?model=loaded|live -> every conv layer's kernels (the shared weights it learned)"),
    Route("GET", "/api/digits/live", lambda service, p: service.live_status(p),
          "this client's \"watch it learn\" LeNet: none, training (loss, test accuracy, filters), ready, failed",
          frame=True),
    Route("POST", "/api/digits/live/start", lambda service, p: service.live_start(p),
          f'{{"steps": {LIVE_MIN_STEPS}-{LIVE_STEPS}, "data"?: "auto"|"mnist"|"digits"}} -> a LeNet trained live '
          'from fresh thetas'),
    Route("POST", "/api/digits/live/stop", lambda service, p: service.live_stop(p),
          "{} -> stops this client's live training, if one runs (its model so far is kept)"),
))
