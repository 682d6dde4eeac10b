"""The Playground (ConvNetJS's classify2d and TensorFlow Playground, trained by thetas on the server).

Points in the plane [-2, 2]² of two classes, A (label 0) and B (label 1), or of up to ``MAX_CLASSES`` (A, B, C, ...:
softmax over one output per class), or, for the regression problem, each with a number t in [-1, 1] to predict.
A session holds the points (each a training or a test point), a thetas MLP, its loss and optimizer; ``step(k)``
runs k optimizer steps and returns what the page draws: both losses, P(B) over the plane (the decision boundary;
with more classes each place's likeliest class and its probability; in regression ŷ itself), and every neuron's
output over the plane. The network reads the features the setup names (``FEATURES``: x₁, x₂, x₁², x₂², x₁x₂,
sin x₁, sin x₂; with x₁², x₂² and no hidden layer one neuron draws a circle), and its loss may add λ·Σ|w| (L1) or
λ·Σw² (L2) over the weights; the loss shown is the data's own.

    s = Session(Config.parse({"dataset": "xor", "hidden": [8], "activation": "tanh"}))
    state = s.step(20)                # {"loss": ..., "test_loss": ..., "boundary": ..., "neurons": [...]}
    print(s.code())                   # the thetas Python that builds and trains the same thing

Limits (a request beyond them is refused with a message): ``LIMITS``.
"""
import io
import math
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from ..data import toy
from ..data.dataset import train_test_split
from .pages import Page, Route
from .schema import LabError, choice, flag, int_list, invalid, number, obj
from .sessions import SessionStore, new_id

PROBLEMS = ("classification", "regression")
DATASETS = ("xor", "circles", "spiral", "moons", "gaussians", "plane", "bumps", "custom")
REGRESSION_SETS = ("plane", "bumps")           # a number to predict at each point (TensorFlow Playground's two)
MANY_CLASSES = ("spiral", "gaussians")         # generated sets that take 3 to MAX_CLASSES classes
MAX_CLASSES = 5
FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")     # what the network may read of a point
FEATURE_NAMES = {"x1": "x₁", "x2": "x₂", "x1sq": "x₁²", "x2sq": "x₂²", "x1x2": "x₁x₂", "sinx1": "sin x₁",
                 "sinx2": "sin x₂"}
REGULARIZATIONS = ("none", "l1", "l2")
ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")
LOSSES = ("bce", "cross_entropy", "mse", "mae")
OPTIMIZERS = ("gd", "sgd", "momentum", "adam")
PLANE = 2.0                       # points live in [-PLANE, PLANE]²
LIMITS = dict(points=2000, layers=6, units=32, steps=500, sessions=256, csv_rows=2000, csv_chars=200_000,
              add=500, idle_seconds=3600, history=2000)
BOUNDARY, NEURON = 64, 32         # grid sides: the decision boundary and each neuron's heatmap
STEP_SECONDS = 0.1                # a step request's training stops after this long (the reply says so)
_GENERATORS = {"xor": toy.xor, "circles": toy.circles, "spiral": toy.spiral, "moons": toy.moons,
               "gaussians": toy.gaussians, "plane": toy.plane, "bumps": toy.bumps}


@dataclass
class Config:
    """One playground setup; everything the URL holds and ``code()`` reproduces."""
    problem: str = "classification"
    dataset: str = "xor"
    classes: int = 2              # classification: how many (spiral, gaussians and your own points: 2 to 5)
    points: int = 200             # generated points (train + test)
    noise: float = 0.1
    seed: int = 0
    test_fraction: float = 0.25
    hidden: list = field(default_factory=lambda: [8, 8])
    activation: str = "tanh"
    loss: str = "bce"
    optimizer: str = "adam"
    lr: float = 0.03
    batch_size: int = 16
    dropout: float = 0.0
    features: list = field(default_factory=lambda: ["x1", "x2"])
    regularization: str = "none"
    reg_rate: float = 0.0

    @classmethod
    def parse(cls, payload, base=None):
        """A validated Config from a JSON object; keys it lacks keep ``base``'s values (or the defaults)."""
        obj(payload, "the configuration")
        unknown = sorted(set(payload) - set(cls.__dataclass_fields__))
        if unknown:
            raise invalid(f"unknown setting {unknown[0]!r}; the settings are {', '.join(cls.__dataclass_fields__)}")
        d = asdict(base or cls())
        d.update(payload)
        c = cls(problem=choice(d, "problem", PROBLEMS), dataset=choice(d, "dataset", DATASETS),
                classes=number(d, "classes", 2, MAX_CLASSES, integer=True),
                points=number(d, "points", 10, LIMITS["points"], integer=True),
                noise=float(number(d, "noise", 0, 1)),
                seed=number(d, "seed", 0, 2 ** 31 - 1, integer=True),
                test_fraction=float(number(d, "test_fraction", 0, 0.9)),
                hidden=int_list(d, "hidden", 0, LIMITS["layers"], 1, LIMITS["units"]),
                activation=choice(d, "activation", ACTIVATIONS),
                loss=choice(d, "loss", LOSSES),
                optimizer=choice(d, "optimizer", OPTIMIZERS),
                lr=float(number(d, "lr", 1e-6, 10)),
                batch_size=number(d, "batch_size", 1, LIMITS["points"], integer=True),
                dropout=float(number(d, "dropout", 0, 0.9)),
                features=_features(d.get("features")),
                regularization=choice(d, "regularization", REGULARIZATIONS),
                reg_rate=float(number(d, "reg_rate", 0, 10)))
        c.check()
        return c

    def check(self):
        """The settings that only go together: a regression problem with its data sets and mse/mae, more than two
        classes only where the data has them."""
        if self.problem == "regression":
            if self.dataset not in (*REGRESSION_SETS, "custom"):
                raise invalid(f"'dataset': {self.dataset} is a classification set; the regression sets are "
                              f"{', '.join(REGRESSION_SETS)} and custom")
            if self.loss not in ("mse", "mae"):
                raise invalid(f"'loss': {self.loss} needs classes; a regression problem uses mse or mae")
        else:
            if self.dataset in REGRESSION_SETS:
                raise invalid(f"'dataset': {self.dataset} is a regression set (set 'problem' to 'regression')")
            if self.classes > 2 and self.dataset not in (*MANY_CLASSES, "custom"):
                raise invalid(f"'classes': {self.dataset} has 2 classes; {self.classes} classes need "
                              f"{', '.join(MANY_CLASSES)} or custom")

    @property
    def regression(self):
        return self.problem == "regression"

    @property
    def labels(self):
        """How many class labels a point may carry (regression: none, a number instead)."""
        return 0 if self.regression else self.classes


def _features(value):
    """The network's inputs: a non-empty list of names from FEATURES, kept in FEATURES' order."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise invalid(f"'features' must be a non-empty list of names from {', '.join(FEATURES)}")
    unknown = [v for v in value if v not in FEATURES]
    if unknown:
        raise invalid(f"unknown feature {unknown[0][:20]!r}; the features are {', '.join(FEATURES)}")
    return [f for f in FEATURES if f in value]


def features(X, names):
    """The network's input for points X (N, 2): the chosen columns of x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂
    (float32; ``code()`` writes the same expressions)."""
    if names == ["x1", "x2"]:                                      # the point itself
        return np.ascontiguousarray(X, np.float32)
    x1, x2 = X[:, 0], X[:, 1]
    columns = {"x1": lambda: x1, "x2": lambda: x2, "x1sq": lambda: x1 ** 2, "x2sq": lambda: x2 ** 2,
               "x1x2": lambda: x1 * x2, "sinx1": lambda: np.sin(x1), "sinx2": lambda: np.sin(x2)}
    return np.column_stack([columns[n]() for n in names]).astype(np.float32)


def linears(model):
    """The network's Linear layers, input to output: their weights are what L1/L2 penalise and the page draws."""
    from ..nn.linear import Linear
    return [m for m in model.modules() if isinstance(m, Linear)]


def penalty(model, kind):
    """The regularization term over the weights (not the biases): Σ|w| (L1) or Σw² (L2); None for 'none'."""
    if kind == "none":
        return None
    weights = [m.weight for m in linears(model)]
    return sum(w.abs().sum() for w in weights) if kind == "l1" else sum((w ** 2).sum() for w in weights)


# ---------------------------------------------------------------------------------------------- data
def generate(config):
    """(X, y, is_test) of a generated set, split as ``code()`` splits it (y: int64 labels, or float32 targets in
    regression)."""
    if config.dataset == "custom":
        return np.zeros((0, 2), np.float32), np.zeros(0, _target_dtype(config)), np.zeros(0, bool)
    more = {"classes": config.classes} if config.dataset in MANY_CLASSES else {}
    X, y = _GENERATORS[config.dataset](n_samples=config.points, noise=config.noise, seed=config.seed, **more)
    if config.test_fraction == 0:
        return X, y, np.zeros(len(y), bool)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=config.test_fraction, seed=config.seed)
    return (np.concatenate([Xtr, Xte]), np.concatenate([ytr, yte]),
            np.r_[np.zeros(len(ytr), bool), np.ones(len(yte), bool)])


def _target_dtype(config):
    return np.float32 if config.regression else np.int64


def parse_points(payload, config=None):
    """``[[x, y, label], ...]`` or ``[[x, y, label, test], ...]`` (label 0 = A, 1 = B, 2 = C, ... below
    ``config.classes``; in regression the target, a number in [-1, 1]; test 1 = a test point; x, y inside the
    plane) -> (X, y, is_test)."""
    config = config or Config()
    rows = payload.get("add")
    if not isinstance(rows, list):
        raise invalid("'add' must be a list of [x, y, label] points")
    if len(rows) > LIMITS["add"]:
        raise LabError(413, f"at most {LIMITS['add']} points per request, got {len(rows)}")
    width = len(rows[0]) if rows and isinstance(rows[0], list) else 3
    try:
        a = np.asarray(rows, np.float64).reshape(len(rows), width) if rows else np.zeros((0, 3))
    except (ValueError, TypeError):
        raise invalid("'add' must be a list of [x, y, label] points, each three numbers") from None
    if a.shape[1] not in (3, 4):
        raise invalid("each point must be [x, y, label] or [x, y, label, test]")
    if not np.all(np.isfinite(a)) or np.any(np.abs(a[:, :2]) > PLANE):
        raise invalid(f"point coordinates must lie in [-{PLANE:g}, {PLANE:g}]")
    if a.shape[1] == 4 and not np.all(np.isin(a[:, 3], (0, 1))):
        raise invalid("a point's test flag must be 0 or 1")
    if config.regression:
        if np.any(np.abs(a[:, 2]) > 1):
            raise invalid("a point's target must be a number in [-1, 1] (a regression problem)")
    elif not np.all(np.isin(a[:, 2], range(config.classes))):
        names = ", ".join(f"{k} ({class_name(k)})" for k in range(config.classes))
        raise invalid(f"a point's label must be one of {names}: {config.classes} classes")
    test = a[:, 3] == 1 if a.shape[1] == 4 else np.zeros(len(a), bool)
    return a[:, :2].astype(np.float32), a[:, 2].astype(_target_dtype(config)), test


def class_name(k):
    """A, B, C, ... : the page's name of class k."""
    return "ABCDEFGH"[k]


def parse_csv(text, regression=False):
    """CSV text with two feature columns and a label column (an optional header row) -> (X, y, labels, scaling).

    Classification: the label values (2 to ``MAX_CLASSES`` of them) become A, B, C, ... in sorted order (numbers
    by value). Regression: the third column is a number, scaled linearly into [-1, 1] (``labels`` is then None and
    ``scaling`` has a third entry for it). Each feature is scaled linearly into [-1.8, 1.8].
    """
    if not isinstance(text, str):
        raise invalid("'csv' must be the text of a CSV file")
    if len(text) > LIMITS["csv_chars"]:
        raise LabError(413, f"the CSV has {len(text):,} characters; at most {LIMITS['csv_chars']:,} are accepted")
    lines = [ln.strip() for ln in io.StringIO(text) if ln.strip()]
    if not lines:
        raise invalid("the CSV is empty")
    sep = ";" if lines[0].count(";") > lines[0].count(",") else ","
    rows = [[c.strip().strip('"') for c in ln.split(sep)] for ln in lines]

    def numeric(c):
        try:
            return math.isfinite(float(c))
        except ValueError:
            return False
    header = rows[0] if not (len(rows[0]) >= 2 and numeric(rows[0][0]) and numeric(rows[0][1])) else None
    rows = rows[1:] if header else rows
    if len(rows) > LIMITS["csv_rows"]:
        raise LabError(413, f"the CSV has {len(rows):,} rows; at most {LIMITS['csv_rows']:,} are accepted")
    if len(rows) < 2:
        raise invalid("the CSV needs at least 2 rows of data")
    X, labels = np.empty((len(rows), 2)), []
    for i, r in enumerate(rows):
        line = i + 1 + (header is not None)
        if len(r) != 3:
            raise invalid(f"CSV line {line}: expected 3 columns (x1, x2, label), got {len(r)}")
        for j in range(2):
            if not numeric(r[j]):
                raise invalid(f"CSV line {line}, column {j + 1}: {r[j][:40]!r} is not a finite number")
            X[i, j] = float(r[j])
        labels.append(r[2])
    def column(j):
        return (header[j] if header and j < len(header) else ("x1", "x2", "target")[j])[:40]
    if regression:
        bad = next((i for i, v in enumerate(labels) if not numeric(v)), None)
        if bad is not None:
            raise invalid(f"CSV line {bad + 1 + (header is not None)}, column 3: {labels[bad][:40]!r} is not a finite "
                          "number (a regression problem predicts a number)")
        t = np.array([float(v) for v in labels])
        lo_t, hi_t = t.min(), t.max()
        y = ((t / 2 - lo_t / 2) / (hi_t / 2 - lo_t / 2) * 2 - 1 if hi_t > lo_t else np.zeros_like(t)).astype(np.float32)
        names, extra = None, [{"column": column(2), "min": float(lo_t), "max": float(hi_t)}]
    else:
        names = sorted(set(labels), key=lambda v: (not numeric(v), float(v) if numeric(v) else 0.0, v))
        if not 2 <= len(names) <= MAX_CLASSES:
            raise invalid(f"the label column must hold 2 to {MAX_CLASSES} classes, got {len(names)}: "
                          f"{', '.join(map(repr, names[:6]))}{' ...' if len(names) > 6 else ''}")
        y = np.array([names.index(v) for v in labels], np.int64)
        names, extra = [v[:40] for v in names], []
    lo, hi = X.min(0), X.max(0)
    half = np.where(hi > lo, hi / 2 - lo / 2, 0.5)          # halves: ±1e308 columns do not overflow to inf
    X = (X / 2 - lo / 2) / half * 3.6 - 1.8                 # (x − min) / (max − min) ∈ [0, 1] -> [-1.8, 1.8]
    scaling = [{"column": column(j), "min": float(lo[j]), "max": float(hi[j])} for j in range(2)] + extra
    return X.astype(np.float32), y, names, scaling


# ---------------------------------------------------------------------------------------------- the network
def build(config, out):
    from ..models import MLP
    return MLP([len(config.features), *config.hidden, out], activation=config.activation, dropout=config.dropout,
               generator=config.seed)


def objective(loss, classes=2, regression=False):
    """What the network's outputs mean, as a ``th.Objective``. Two classes: one output z with P(B) = ŷ = σ(z) for
    bce (the lecture's neuron), and for mse and mae (which compare σ(z) with the label); two logits and a softmax
    for cross_entropy. More classes: one output per class, P = softmax(z) (bce: one sigmoid per class against the
    one-hot label). Regression: one output ŷ = z, compared with the target by mse or mae. It gives the loss, the
    probabilities (``probabilities(out)``: P(B) is column 1) and the class."""
    from ..objective import Objective
    if regression:
        return Objective("regression", None, loss)
    return Objective("classification", classes, loss, one_logit=loss != "cross_entropy")


def _grid(side):
    t = np.linspace(-PLANE, PLANE, side, dtype=np.float32)
    xx, yy = np.meshgrid(t, t[::-1])                          # row 0 at the top of the picture: y = +PLANE
    return np.column_stack([xx.ravel(), yy.ravel()])


_GRIDS = {BOUNDARY: _grid(BOUNDARY), NEURON: _grid(NEURON)}
_GRID_FEATURES = {}


def _grid_features(side, names):
    """features() of a picture's grid, computed once per grid and set of inputs."""
    key = (side, tuple(names))
    if key not in _GRID_FEATURES:
        _GRID_FEATURES[key] = features(_GRIDS[side], names)
    return _GRID_FEATURES[key]


class Session:
    """One browser tab's playground: points, network, optimizer, and the loss history."""

    def __init__(self, config, sid=None):
        self.id = sid or new_id()
        self.scaling = self.csv_labels = None
        self.configure(config, regenerate=True)

    # ------------------------------------------------------------------ setup
    def configure(self, config, regenerate=None):
        """Apply a new setup: new data if the data settings changed, and always a fresh network."""
        old = getattr(self, "config", None)
        data_keys = ("problem", "dataset", "classes", "points", "noise", "seed", "test_fraction")
        changed = old is None or any(getattr(old, k) != getattr(config, k) for k in data_keys)
        own = (old is not None and self.custom and old.dataset == config.dataset   # clicked or uploaded points
               and old.problem == config.problem)
        if own and not regenerate and not config.regression and len(self.y) and self.y.max() >= config.classes:
            raise invalid(f"'classes': your points use class {class_name(int(self.y.max()))}; keep "
                          f"{int(self.y.max()) + 1} classes, or clear the points first")
        if regenerate or (changed and not own):
            self.X, self.y, self.test = generate(config)
            self.scaling = self.csv_labels = None
            self.points_version = getattr(self, "points_version", 0) + 1
            self.custom = False
        self.config = config
        self.reset()

    def reset(self):
        """A fresh network and optimizer (initial thetas from the seed), history cleared."""
        from .. import optim
        c = self.config
        self.objective = objective(c.loss, c.classes, c.regression)
        self.model = build(c, self.objective.outputs)
        params = self.model.parameters()
        if c.optimizer == "adam":
            self.optimizer = optim.Adam(params, lr=c.lr)
        else:
            self.optimizer = optim.SGD(params, lr=c.lr, momentum=0.9 if c.optimizer == "momentum" else 0.0)
        self.steps, self.history, self.diverged = 0, [], False
        self._loader()

    def _loader(self):
        from ..data.loader import DataLoader
        train = ~self.test
        batch = max(1, int(train.sum())) if self.config.optimizer == "gd" else self.config.batch_size
        self.loader = DataLoader((self._inputs()[train], self.y[train]), batch_size=batch,
                                 shuffle=True, seed=self.config.seed) if train.any() else None
        self.batches = iter(())

    def add_points(self, X, y, test=None):
        """Clicked points: for training unless ``test`` says otherwise."""
        if len(self.X) + len(X) > LIMITS["points"]:
            raise LabError(413, f"a playground holds at most {LIMITS['points']} points; it has {len(self.X)}")
        self.X, self.y = np.concatenate([self.X, X]), np.concatenate([self.y, y])
        self.test = np.concatenate([self.test, np.zeros(len(X), bool) if test is None else test])
        self.custom, self.points_version = True, self.points_version + 1
        self._loader()

    def set_points(self, X, y, test=None):
        """Replace all points; without ``test`` flags they are split as generated data is."""
        if test is not None:
            pass
        elif self.config.test_fraction > 0 and len(y) >= 4 and (
                self.config.regression or np.unique(y, return_counts=True)[1].min() >= 2):
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=self.config.test_fraction, seed=self.config.seed)
            X, y = np.concatenate([Xtr, Xte]), np.concatenate([ytr, yte])
            test = np.r_[np.zeros(len(ytr), bool), np.ones(len(yte), bool)]
        else:
            test = np.zeros(len(y), bool)
        self.X, self.y, self.test = X.astype(np.float32), y.astype(_target_dtype(self.config)), test
        self.custom, self.points_version = True, self.points_version + 1
        self._loader()

    def clear(self):
        self.set_points(np.zeros((0, 2), np.float32), np.zeros(0, _target_dtype(self.config)))
        self.scaling = self.csv_labels = None

    # ------------------------------------------------------------------ training
    def step(self, k, neurons=True, seconds=None):
        """Up to k optimizer steps (mini-batches; one epoch is len(train) / batch_size of them), then the state.

        The steps stop once they have taken ``seconds`` (default ``STEP_SECONDS``), so that one request never holds
        the lab for long (2,000
        points through six layers of 32 for 500 steps took 30-45 s, and every other student waited): the state
        says how many ran (``steps_run``) and whether the time cap cut them short (``capped``); the page asks
        again."""
        ran, capped = 0, False
        if self.loader is not None and not self.diverged:
            self.model.train()
            t0, seconds = time.perf_counter(), STEP_SECONDS if seconds is None else seconds
            for _ in range(int(k)):
                if ran and time.perf_counter() - t0 > seconds:
                    capped = True
                    break
                batch = next(self.batches, None)
                if batch is None:
                    self.batches = iter(self.loader)
                    batch = next(self.batches)
                xb, yb = batch
                loss = self.objective(self.model(xb), yb)
                extra = penalty(self.model, self.config.regularization) if self.config.reg_rate else None
                if extra is not None:                            # the data's loss + λ·(Σ|w| or Σw²)
                    loss = loss + self.config.reg_rate * extra
                if not math.isfinite(loss.item()):
                    self.diverged = True
                    break
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                self.steps += 1
                ran += 1
            self.model.eval()
        return {**self.state(neurons=neurons, record=True), "steps_run": ran, "capped": capped}

    def _losses(self):
        from ..autograd.grad_mode import no_grad
        from ..tensor import Tensor
        out = {}
        with no_grad():
            for name, mask in (("loss", ~self.test), ("test_loss", self.test)):
                if not mask.any():
                    out[name] = out[name.replace("loss", "accuracy")] = None
                    continue
                o = self.model(Tensor(self._inputs()[mask]))
                value = self.objective(o, self.y[mask]).item()
                out[name] = value if math.isfinite(value) else None
                acc = None if self.config.regression else float(np.mean(self.objective.predict(o.data) == self.y[mask]))
                out[name.replace("loss", "accuracy")] = acc
        return out

    def _pictures(self, neurons):
        """The output on the boundary grid (uint8 ``boundary``, read as ``boundary_kind`` says), and each neuron's
        output on the coarser grid (int8, with its scale).

        ``boundary_kind``: "probability" (two classes: round(255·P(B))), "regions" (more classes: each place's
        likeliest class k and its probability P, packed as 51·k + round(50·P)), "value" (regression:
        round(127.5·(ŷ + 1)), ŷ clipped to [-1, 1])."""
        from ..autograd.grad_mode import no_grad
        from ..nn.activation import Identity, ReLU, Sigmoid, Tanh
        from ..nn.linear import Linear
        from ..tensor import Tensor
        from .schema import b64
        with no_grad():
            c = self.config
            o = self.model(Tensor(_grid_features(BOUNDARY, c.features))).data
            if c.regression:
                kind, boundary = "value", np.round(127.5 * (np.clip(np.nan_to_num(o[:, 0]), -1, 1) + 1))
            elif c.classes == 2:
                p = self.objective.probabilities(o)[:, 1]                                          # P(B)
                kind, boundary = "probability", np.nan_to_num(np.round(p * 255), nan=128)
            else:
                P = np.nan_to_num(self.objective.probabilities(o), nan=0.0)
                kind, boundary = "regions", 51 * P.argmax(1) + np.round(50 * np.clip(P.max(1), 0, 1))
            out = {"boundary": b64(boundary.astype(np.uint8).reshape(BOUNDARY, BOUNDARY), np.uint8),
                   "boundary_kind": kind}
            if not neurons:
                return out
            x, maps, layers = Tensor(_grid_features(NEURON, self.config.features)), [], list(self.model)
            for i, layer in enumerate(layers):
                x = layer(x)
                nxt = layers[i + 1] if i + 1 < len(layers) else None
                if isinstance(layer, (Tanh, Sigmoid, ReLU, Identity)):
                    maps.append(("hidden", x.data))
                elif isinstance(layer, Linear) and nxt is None and c.regression:
                    maps.append(("value", np.clip(x.data, -1, 1)))                           # ŷ, (G², 1)
                elif isinstance(layer, Linear) and nxt is None:                             # P(B), (G², 1); or
                    P = self.objective.probabilities(x.data)                                 # P(class k), (G², K)
                    maps.append(("output", P[:, 1:] if c.classes == 2 else P))
        result = []
        for kind, a in maps:                                     # a: (G², units)
            a = np.nan_to_num(a.astype(np.float64))
            scale = np.maximum(np.abs(a).max(0), 1e-12)
            if self.config.activation in ("tanh", "sigmoid") or kind != "hidden":
                scale = np.ones_like(scale)                      # a fixed colour scale: the range is known
            q = np.round(a / scale * 127).astype(np.int8).T.reshape(-1, NEURON, NEURON)
            result.append({"kind": kind, "scale": [float(s) for s in scale], **b64(q, np.int8)})
        out["neurons"] = result
        out["weights"] = self.weights()
        return out

    def _inputs(self):
        """features() of every point, computed once per set of points and of inputs."""
        key = (self.points_version, len(self.X), tuple(self.config.features))
        if getattr(self, "_inputs_key", None) != key:
            self._inputs_key, self._inputs_cache = key, features(self.X, self.config.features)
        return self._inputs_cache

    def weights(self):
        """Each layer's weights, what the page draws the links by: [[w_jk for input k] for unit j], rounded."""
        return [np.round(m.weight.data.astype(np.float64), 4).tolist() for m in linears(self.model)]

    def set_weight(self, layer, unit, source, value):
        """θ by hand: the weight from input ``source`` to unit ``unit`` of layer ``layer`` becomes ``value``."""
        layers = linears(self.model)
        if not 0 <= layer < len(layers):
            raise invalid(f"'layer' must be 0..{len(layers) - 1}, got {layer}")
        w = layers[layer].weight.data
        if not 0 <= unit < w.shape[0] or not 0 <= source < w.shape[1]:
            raise invalid(f"layer {layer} has {w.shape[0]} units of {w.shape[1]} inputs; got unit {unit}, "
                          f"input {source}")
        w[unit, source] = value

    def state(self, neurons=True, record=False, points=False):
        losses = self._losses()
        if record and losses["loss"] is not None:
            self.history.append([self.steps, losses["loss"], losses["test_loss"]])
            if len(self.history) > LIMITS["history"]:
                self.history = self.history[::2]                 # keep the whole run, half as finely
        train = int((~self.test).sum())
        batch = max(train, 1) if self.config.optimizer == "gd" else self.config.batch_size
        per_epoch = max(1, math.ceil(train / batch))            # steps in one pass over the training points
        out = {"id": self.id, "step": self.steps, "epoch": self.steps / per_epoch, "diverged":
               self.diverged, "points_version": self.points_version, "train_points": train,
               "test_points": int(self.test.sum()), "parameters": self.model.num_parameters(), **losses,
               **self._pictures(neurons)}
        if points:
            target = (lambda v: round(float(v), 4)) if self.config.regression else int     # a number, or a class
            out.update(config=asdict(self.config), history=self.history, custom=self.custom,
                       points=[[round(float(a), 4), round(float(b), 4), target(c), bool(t)]
                               for (a, b), c, t in zip(self.X, self.y, self.test)],
                       csv_labels=self.csv_labels, scaling=self.scaling)
        return out

    # ------------------------------------------------------------------ show the code
    def code(self):
        """Python that builds the same data, network, loss and optimizer and trains them with ``th.fit``."""
        from .codegen import playground_code
        return playground_code(self)


class Sessions(SessionStore):
    """Playground sessions by id: at most ``LIMITS['sessions']``, at most ``PER_CLIENT`` per client (see
    ``SessionStore``: room is made at the expense of whoever holds most), each dropped after
    ``LIMITS['idle_seconds']`` without a request."""

    def __init__(self, limit=LIMITS["sessions"], idle=LIMITS["idle_seconds"]):
        super().__init__(limit, idle, "playground")

    def create(self, config):
        session = Session(config)
        return self.add(session.id, session)


def step_request(payload):
    obj(payload)
    return number(payload, "steps", 0, LIMITS["steps"], default=1, integer=True), flag(payload, "neurons", True)


# ---------------------------------------------------------------------- the page and its API
CSV_LIMIT = 256 * 1024                 # bytes of a request that may carry points or a CSV file


def _create(sessions, payload):
    config = Config.parse(payload.get("config", {}))
    session = sessions.create(config)
    if "points" in payload:                                      # a shared URL's own points
        session.set_points(*parse_points({"add": payload["points"]}, config))
    return session.state(points=True)


def _config(sessions, payload, sid):
    s = sessions.get(sid)
    s.configure(Config.parse(payload.get("config", {}), base=s.config), regenerate=flag(payload, "regenerate", False))
    return s.state(points=True)


def _points(sessions, payload, sid):
    s = sessions.get(sid)
    if flag(payload, "clear", False):
        s.clear()
    if "add" in payload:
        s.add_points(*parse_points(payload, s.config))
    return s.state(points=True)


def _csv(sessions, payload, sid):
    s = sessions.get(sid)
    X, y, labels, scaling = parse_csv(payload.get("csv"), regression=s.config.regression)
    classes = s.config.classes if s.config.regression else len(labels)
    rebuild = classes != s.config.classes
    s.config = replace(s.config, dataset="custom", classes=classes)   # the page and its address now say so
    s.set_points(X, y)
    s.csv_labels, s.scaling = labels, scaling
    if rebuild:                                              # one output per class: a fresh network
        s.reset()
    return s.state(points=True)


def _step(sessions, payload, sid):
    s = sessions.get(sid)
    steps, neurons = step_request(payload)
    return s.step(steps, neurons=neurons)


def _weight(sessions, payload, sid):
    s = sessions.get(sid)
    layer = number(payload, "layer", 0, LIMITS["layers"], integer=True)
    unit = number(payload, "unit", 0, LIMITS["units"] - 1, integer=True)
    source = number(payload, "source", 0, max(LIMITS["units"], len(FEATURES)) - 1, integer=True)
    s.set_weight(layer, unit, source, float(number(payload, "value", -100, 100)))
    return s.state()


def _reset(sessions, payload, sid):
    s = sessions.get(sid)
    s.reset()
    return s.state(points=True)


PAGE = Page("playground", "/playground", "playground.html", "Playground", summary=(
    "Points of two classes (or up to five, or numbers to predict) in the plane; click to add more. A network of "
    "your choice learns the boundary while you watch every neuron and both losses."), routes=(
    Route("POST", "/api/playground/sessions", _create, "{config} -> a new session and its state", CSV_LIMIT),
    Route("GET", "/api/playground/{sid}", lambda sessions, _, sid: sessions.get(sid).state(points=True),
          "the state, with points, config and history"),
    Route("POST", "/api/playground/{sid}/config", _config,
          "{config} -> a fresh network (new data if the data settings changed)"),
    Route("POST", "/api/playground/{sid}/points", _points,
          '{"add": [[x, y, label], ...]} (label: a class 0, 1, ...; in regression a number in [-1, 1]) '
          'or {"clear": true}'),
    Route("POST", "/api/playground/{sid}/csv", _csv,
          '{"csv": text}: two feature columns and a label (2-5 classes; in regression a number)', CSV_LIMIT),
    Route("POST", "/api/playground/{sid}/step", _step,
          '{"steps": k, "neurons": bool} -> the state after up to k steps (steps_run, capped: at most 0.1 s)',
          frame=True),
    Route("POST", "/api/playground/{sid}/weight", _weight,
          '{"layer", "unit", "source", "value"}: one weight set by hand -> the state'),
    Route("POST", "/api/playground/{sid}/reset", _reset, "fresh thetas"),
    Route("GET", "/api/playground/{sid}/code", lambda sessions, _, sid: {"code": sessions.get(sid).code()},
          "the thetas Python for this setup"),
))
