"""'Show the code': the thetas Python that reproduces a playground setup, built only from validated values."""
import math

MAX_EMBEDDED_POINTS = 400     # more custom points than this: the code reads them from a CSV file instead

_ACT = {"tanh": "tanh", "sigmoid": "sigmoid", "relu": "relu", "linear": "linear"}
_MEANING = {"bce": "one output z, P(B) = ŷ = σ(z), binary cross-entropy",
            "cross_entropy": "two outputs (logits), softmax cross-entropy",
            "mse": "one output z, ŷ = σ(z) against y in {0, 1}, squared error",
            "mae": "one output z, ŷ = σ(z) against y in {0, 1}, absolute error"}


def _num(v):
    v = float(v)
    return repr(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)


def _meaning(c):
    """What the network's outputs mean, in a comment's words."""
    if c.regression:
        return f"one output ŷ = z, the number predicted at each point, {c.loss.upper()} against the target t"
    if c.classes == 2:
        return _MEANING[c.loss]
    if c.loss == "bce":
        return f"{c.classes} outputs, one sigmoid per class against the one-hot label, binary cross-entropy"
    return (f"{c.classes} outputs (logits), P = softmax(z), "
            + ("softmax cross-entropy" if c.loss == "cross_entropy" else f"{c.loss.upper()} against the one-hot label"))


def _data(s):
    c = s.config
    dtype = "np.float32" if c.regression else "np.int64"
    if not s.custom:
        if c.dataset == "custom":
            return "X_train = X_test = np.zeros((0, 2), np.float32)   # no points yet: click to add some\n" \
                   f"y_train = y_test = np.zeros(0, {dtype})\n"
        split = ("X_train, X_test, y_train, y_test = th.data.train_test_split(X, y, "
                 f"test_size={_num(c.test_fraction)}, seed={c.seed})\n") if c.test_fraction > 0 else \
            "X_train, X_test, y_train, y_test = X, X[:0], y, y[:0]\n"
        from .playground import MANY_CLASSES, class_name
        more = f", classes={c.classes}" if c.dataset in MANY_CLASSES and c.classes != 2 else ""
        what = ("targets t in [-1, 1]" if c.regression else
                "labels " + ", ".join(f"{k} = {class_name(k)}" for k in range(c.classes)))
        return (f"X, y = th.data.{c.dataset}(n_samples={c.points}, noise={_num(c.noise)}{more}, seed={c.seed})"
                f"   # (N, 2), {what}\n" + split)
    if len(s.y) <= MAX_EMBEDDED_POINTS:
        def rows(mask):
            pts = [f"[{float(a):.4f}, {float(b):.4f}]" for a, b in s.X[mask]]
            lines = [", ".join(pts[i:i + 5]) for i in range(0, len(pts), 5)]
            return "[" + ",\n     ".join(lines) + "]"
        def targets(mask):
            return [round(float(v), 4) for v in s.y[mask]] if c.regression else [int(v) for v in s.y[mask]]
        train, test = ~s.test, s.test
        return (f"# the playground's own points: {int(train.sum())} for training, {int(test.sum())} for testing\n"
                f"X_train = np.array({rows(train)}, np.float32).reshape(-1, 2)\n"
                f"y_train = np.array({targets(train)}, {dtype})\n"
                f"X_test = np.array({rows(test)}, np.float32).reshape(-1, 2)\n"
                f"y_test = np.array({targets(test)}, {dtype})\n")
    what = "target t in [-1, 1]" if c.regression else "label " + "/".join(map(str, range(c.classes)))
    return (f"# your points: save them as points.csv (x1, x2, {what}), already scaled into [-2, 2]\n"
            "data = np.loadtxt('points.csv', delimiter=',', ndmin=2)\n"
            f"X, y = data[:, :2].astype(np.float32), data[:, 2].astype({dtype})\n"
            f"X_train, X_test, y_train, y_test = th.data.train_test_split(X, y, test_size={_num(c.test_fraction)}, "
            f"seed={c.seed})\n")


_EXPR = {"x1": "x1", "x2": "x2", "x1sq": "x1 ** 2", "x2sq": "x2 ** 2", "x1x2": "x1 * x2", "sinx1": "np.sin(x1)",
         "sinx2": "np.sin(x2)"}


def _inputs(c):
    """The features the network reads, as code (nothing when they are the point's own x₁, x₂)."""
    if c.features == ["x1", "x2"]:
        return ""
    from .playground import FEATURE_NAMES
    shown = ", ".join(FEATURE_NAMES[f] for f in c.features)
    columns = ", ".join(_EXPR[f] for f in c.features)
    return "\n".join(["", "", "def features(X):",
                      f'    """The network\'s inputs from the points (x₁, x₂): {shown}."""',
                      "    x1, x2 = X[:, 0], X[:, 1]",
                      f"    return np.column_stack([{columns}]).astype(np.float32)", "", "",
                      "X_train, X_test = features(X_train), features(X_test)", ""])


def _loss(c):
    """(name, code): the loss th.fit minimises, the objective plus the regularization term when there is one."""
    if c.regularization == "none" or not c.reg_rate:
        return "objective", ""
    term = "w.abs().sum()" if c.regularization == "l1" else "(w ** 2).sum()"
    what = "Σ|w|" if c.regularization == "l1" else "Σw²"
    return "loss_fn", "\n".join([
        "", "", "def loss_fn(output, target):",
        f'    """The data\'s loss + λ·{what} over the weights ({c.regularization.upper()}; the biases are not '
        'penalised)."""',
        "    weights = [m.weight for m in model.modules() if isinstance(m, th.nn.Linear)]",
        f"    return objective(output, target) + {_num(c.reg_rate)} * sum({term} for w in weights)", "", ""])


def _objective(c, o):
    if c.regression:
        return f'objective = th.Objective("regression", num_classes=None, loss="{o.loss}")'
    one = f", one_logit={o.outputs == 1}" if c.classes == 2 else ""
    return f'objective = th.Objective("classification", num_classes={c.classes}, loss="{o.loss}"{one})'


def _report(c):
    """The closing lines: the test set's accuracy (classification) or squared error (regression)."""
    head = "if len(y_test):\n    outputs = th.predict(model, X_test)                  # eval mode, no graph\n"
    if c.regression:
        return head + '    print("test MSE", np.mean((outputs[:, 0] - y_test) ** 2))\n'
    p = ("    p_b = objective.probabilities(outputs)[:, 1]         # P(class B) at each test point\n" if c.classes == 2
         else "    p = objective.probabilities(outputs)                 # P(class k) at each test point, (N, K)\n")
    return head + p + '    print("test accuracy", np.mean(objective.predict(outputs) == y_test))\n'


def playground_code(session):
    s, c, o = session, session.config, session.objective
    if c.optimizer == "adam":
        opt = f"th.optim.Adam(model.parameters(), lr={_num(c.lr)})"
    elif c.optimizer == "momentum":
        opt = f"th.optim.SGD(model.parameters(), lr={_num(c.lr)}, momentum=0.9)"
    else:
        opt = f"th.optim.SGD(model.parameters(), lr={_num(c.lr)})"
    train = int((~s.test).sum())
    batch = "len(y_train)" if c.optimizer == "gd" else f"{c.batch_size}"
    batch_note = "# batch gradient descent: every training point in every step\n" if c.optimizer == "gd" else ""
    per_epoch = max(1, math.ceil(train / (max(train, 1) if c.optimizer == "gd" else c.batch_size)))
    epochs = max(1, math.ceil(s.steps / per_epoch))
    rounded = "" if s.steps % per_epoch == 0 or s.steps == 0 else f", so {epochs * per_epoch} steps here"
    loss_name, loss_code = _loss(c)
    return f'''"""The thetas playground setup: {c.dataset} data, hidden layers {c.hidden or "none"}, {c.activation}, \
{c.loss} loss, {c.optimizer}."""
import numpy as np
import thetas as th

{_data(s)}{_inputs(c)}
# what the outputs mean: {_meaning(c)}
{_objective(c, o)}
model = th.models.MLP([{len(c.features)}, {", ".join(map(str, c.hidden)) + ", " if c.hidden else ""}{o.outputs}], \
activation="{_ACT[c.activation]}", dropout={_num(c.dropout)}, generator={c.seed})
{loss_code}
optimizer = {opt}
{batch_note}loader = th.data.DataLoader((X_train, y_train), batch_size={batch}, shuffle=True, seed={c.seed})
# the playground is at step {s.steps}; th.fit runs whole epochs of {per_epoch} step(s){rounded}, from the same
# initial thetas on the points as they are now (points added or weights set during the run: its numbers differ)
history = th.fit(model, {loss_name}, optimizer, loader, val_loader=(X_test, y_test) if len(y_test) else None,
                 epochs={epochs}, metrics=(), verbose=False)
print("training loss", history.history["loss"][-1])

{_report(c)}'''
