"""Optimisers and losses: a 2-parameter loss surface walked by four optimisers, and the workshop's M&Ms.

Surface: logistic regression ŷ = σ(w·x + b) on a small 1-D set (``DATA``: 40 points), loss = mean binary
cross-entropy, over a grid of (w, b). Trajectories: batch gradient descent, SGD on mini-batches, momentum and
Adam, each a real ``th.optim`` optimizer stepping a ``th.nn.Linear(1, 1)``.

M&Ms: "how many M&Ms in a bag?" For a guess g and counts n_1..n_m the cost is the mean error,
L(g) = (1/m) Σ (n_i − g)² (squared) or (1/m) Σ |n_i − g| (absolute): the formula the page shows, the curve it
draws and what gradient descent follows, g ← g − η dL/dg, with a constant η (or one that shrinks to 0 on a cosine,
``schedule``). Exhaustive search tries every guess on a fine grid. The squared cost is least at the mean, the
absolute cost at the median. With squared error, g − mean is multiplied by (1 − 2η) each step: for η > 1 every
step overshoots by more than it corrects, and the run diverges (the reply says so). The absolute error's slope is
±1 whatever the distance, so with a constant η the guess ends up hopping around the median.
"""
import numpy as np

from .pages import Page, Route
from .schema import LabError, int_list, invalid, number, obj

OPTIMIZERS = ("gd", "sgd", "momentum", "adam")
W_RANGE, B_RANGE = (-3.0, 5.0), (-4.0, 4.0)
MAX_STEPS, MAX_COUNTS, MAX_RESOLUTION = 1000, 1000, 120
MMS = [54, 56, 55, 57, 53, 58, 55, 56, 61, 54, 55, 52, 57, 56, 70]   # a sample of bag counts, one bag way off


def _data(seed=0, n=40):
    """x ~ N(0, 1.5²); y ~ Bernoulli(σ(1.5x − 0.5)): overlapping classes, so the loss has a finite minimum."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 0.5)))).astype(np.int64)
    return x.astype(np.float32), y


DATA = _data()


def _loss_grid(w, b, x, y):
    """Mean BCE of σ(w·x + b) for every (w, b) pair of the grid: (len(b), len(w)), row i at b[i]."""
    z = w[None, :, None] * x[None, None, :] + b[:, None, None]          # (B, W, n)
    return np.mean(np.logaddexp(0, z) - y * z, axis=-1)                # log(1 + e^z) − y·z, stable


def _minimum(x, y):
    """The maximum-likelihood (w, b), by Newton's method (the loss is convex)."""
    theta = np.zeros(2)
    A = np.column_stack([x, np.ones_like(x)]).astype(np.float64)
    for _ in range(50):
        p = 1 / (1 + np.exp(-A @ theta))
        g = A.T @ (p - y) / len(y)
        H = (A * (p * (1 - p))[:, None]).T @ A / len(y) + 1e-9 * np.eye(2)
        theta -= np.linalg.solve(H, g)
    return theta


def surface(payload):
    obj(payload)
    res = number(payload, "resolution", 10, MAX_RESOLUTION, default=80, integer=True)
    x, y = DATA
    w = np.linspace(*W_RANGE, res)
    b = np.linspace(*B_RANGE, res)
    grid = _loss_grid(w, b, x.astype(np.float64), y)
    return {"w": w.tolist(), "b": b.tolist(), "loss": np.round(grid, 5).tolist(), "x": x.tolist(), "y": y.tolist(),
            "minimum": _minimum(x, y).tolist(), "w_range": list(W_RANGE), "b_range": list(B_RANGE)}


def _settings(payload):
    opts = payload.get("optimizers", {name: {} for name in OPTIMIZERS})
    obj(opts, "'optimizers'")
    unknown = [k for k in opts if k not in OPTIMIZERS]
    if unknown:
        raise invalid(f"unknown optimizer {unknown[0]!r}; choose from {', '.join(OPTIMIZERS)}")
    defaults = {"gd": {"lr": 1.0}, "sgd": {"lr": 0.5, "batch_size": 4}, "momentum": {"lr": 0.3, "momentum": 0.9},
                "adam": {"lr": 0.1}}
    out = {}
    for name, s in opts.items():
        obj(s, f"'optimizers.{name}'")
        d = {**defaults[name], **s}
        out[name] = {"lr": number(d, "lr", 1e-5, 20),
                     "batch_size": number(d, "batch_size", 1, len(DATA[1]), default=len(DATA[1]), integer=True),
                     "momentum": number(d, "momentum", 0, 0.999, default=0.0)}
    return out


def trajectories(payload):
    """Each optimizer from the same start (w, b): the path and the full-data loss after every step."""
    from .. import optim
    from ..data.loader import DataLoader
    from ..losses import binary_cross_entropy_with_logits
    from ..nn import Linear
    obj(payload)
    start = payload.get("start", [-2.0, 3.0])
    if not (isinstance(start, list) and len(start) == 2 and all(isinstance(v, (int, float)) and
                                                                not isinstance(v, bool) for v in start)):
        raise invalid("'start' must be [w, b], two numbers")
    w0, b0 = number({"w": start[0]}, "w", -20, 20), number({"b": start[1]}, "b", -20, 20)
    steps = number(payload, "steps", 1, MAX_STEPS, default=100, integer=True)
    seed = number(payload, "seed", 0, 2 ** 31 - 1, default=0, integer=True)
    x, y = DATA
    X = x.reshape(-1, 1)
    out = {}
    for name, s in _settings(payload).items():
        model = Linear(1, 1)
        model.weight.data[...] = w0
        model.bias.data[...] = b0
        if name == "adam":
            opt = optim.Adam(model.parameters(), lr=s["lr"])
        else:
            opt = optim.SGD(model.parameters(), lr=s["lr"], momentum=s["momentum"] if name == "momentum" else 0.0)
        batch = s["batch_size"] if name == "sgd" else len(y)
        loader, batches = DataLoader((X, y), batch_size=batch, shuffle=True, seed=seed), iter(())
        path, losses = [[w0, b0]], [float(_loss_grid(np.array([w0]), np.array([b0]), x, y)[0, 0])]
        for _ in range(steps):
            xb_yb = next(batches, None)
            if xb_yb is None:
                batches = iter(loader)
                xb_yb = next(batches)
            xb, yb = xb_yb
            loss = binary_cross_entropy_with_logits(model(xb).reshape(-1), yb.astype(np.float32))
            opt.zero_grad()
            loss.backward()
            opt.step()
            w, b = float(model.weight.data[0, 0]), float(model.bias.data[0])
            if not (np.isfinite(w) and np.isfinite(b)) or max(abs(w), abs(b)) > 1e6:
                break                                          # diverged: the path ends here
            path.append([w, b])
            losses.append(float(_loss_grid(np.array([w]), np.array([b]), x, y)[0, 0]))
        out[name] = {"path": path, "loss": losses, **s}
    return {"start": [w0, b0], "steps": steps, "trajectories": out, "minimum": _minimum(x, y).tolist()}


# ---------------------------------------------------------------------------------------------- M&Ms
MAX_GUESSES = 20_000      # points of the exhaustive search
MAX_LR_SQUARED = 5.0      # η beyond 1 makes squared-error descent diverge: a student may try it
DIVERGED = 1e6            # a guess this far from the start has run off


def _total_costs(counts, guesses):
    """Σ_i (c_i − g)² and Σ_i |c_i − g| for every guess g, from the sorted counts' prefix sums:
    Σ (c − g)² = Σc² − 2gΣc + ng²;  Σ |c − g| = (k g − Σ_{c<g} c) + (Σ_{c≥g} c − (n − k) g), k = #{c < g}."""
    c = np.sort(counts)
    n, total = len(c), c.sum()
    squared = (c ** 2).sum() - 2 * guesses * total + n * guesses ** 2
    prefix = np.r_[0.0, np.cumsum(c)]
    k = np.searchsorted(c, guesses)
    absolute = (k * guesses - prefix[k]) + (total - prefix[k] - (n - k) * guesses)
    return np.maximum(squared, 0.0), absolute


def mms(payload):
    """The cost of every guess under squared and absolute error; exhaustive search and gradient descent."""
    from .. import optim
    from ..losses import l1_loss, mse_loss
    from ..nn.module import Parameter
    obj(payload)
    raw = payload.get("counts")
    if isinstance(raw, list) and len(raw) > MAX_COUNTS:
        raise LabError(413, f"at most {MAX_COUNTS} bag counts are accepted")
    counts = np.array(int_list(payload, "counts", 1, MAX_COUNTS, 0, 100_000, default=MMS), np.float64)
    steps = number(payload, "steps", 1, MAX_STEPS, default=200, integer=True)
    lo, hi = counts.min(), counts.max()
    start = number(payload, "start", -100_000, 200_000, default=float(lo - 10))
    default_absolute = float(min(1000.0, max(1.0, (hi - lo) / 10)))
    rates = {"squared": number(payload, "lr_squared", 1e-4, MAX_LR_SQUARED, default=0.1),
             "absolute": number(payload, "lr_absolute", 1e-4, 1000, default=default_absolute)}
    schedule = payload.get("schedule", "constant")
    if schedule not in ("constant", "cosine"):
        raise invalid(f"'schedule' must be 'constant' or 'cosine', got {str(schedule)[:20]!r}")
    # exhaustive search: every 0.01 (coarser when the counts span more than MAX_GUESSES / 100), each cost from
    # sums over the sorted counts, not from a guesses × counts table (1,000 counts over 0..100,000 asked for 74 GiB)
    span = hi - lo + 10
    every_step = max(0.01, float(np.ceil(span / MAX_GUESSES * 100) / 100))
    guesses = np.round(np.arange(lo - 5, hi + 5 + 1e-9, every_step), 2)
    result = {"counts": counts.astype(int).tolist(), "mean": float(counts.mean()), "median": float(np.median(counts)),
              "grid_step": every_step}
    squared_cost, absolute_cost = (c / len(counts) for c in _total_costs(counts, guesses))     # mean costs
    for name, cost, fn in (("squared", squared_cost, mse_loss), ("absolute", absolute_cost, l1_loss)):
        best = np.flatnonzero(cost <= cost.min() + 1e-9 * max(1.0, cost.min()))
        exhaustive = float((guesses[best[0]] + guesses[best[-1]]) / 2)      # the middle of a flat minimum
        # gradient descent on the same mean cost: g ← g − η dL/dg (η constant, or shrinking on a cosine)
        g = Parameter(np.array([start], np.float64))
        opt = optim.SGD([g], lr=rates[name])
        sched = optim.CosineAnnealingLR(opt, T_max=steps) if schedule == "cosine" else None
        target = counts.reshape(1, -1)
        path, diverged = [float(g.data[0])], False
        for _ in range(steps):
            loss = fn(g.reshape(1, 1) + np.zeros_like(target), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            value = float(g.data[0])
            if not np.isfinite(value) or abs(value - start) > DIVERGED:
                diverged = True                                   # ran off: the path ends at its last guess
                break
            path.append(value)
        every = max(1, len(guesses) // 600)
        result[name] = {"guesses": guesses[::every].tolist(), "cost": np.round(cost[::every], 4).tolist(),
                        "exhaustive": exhaustive, "exhaustive_cost": float(cost.min()),
                        "flat": [float(guesses[best[0]]), float(guesses[best[-1]])],
                        "gd_path": path, "gd": path[-1], "lr": rates[name], "diverged": diverged,
                        "schedule": schedule}
    return result


PAGE = Page("optimisers", "/optimisers", "optimisers.html", "Optimisers & losses", summary=(
    "Batch gradient descent, SGD, momentum and Adam walking the same loss surface; and how many M&Ms are in a bag "
    "(the mean or the median?)."), routes=(
    Route("POST", "/api/optim/surface", lambda _, p: surface(p), '{"resolution"} -> the loss over (w, b)',
          beside=True),
    Route("POST", "/api/optim/trajectories", lambda _, p: trajectories(p),
          '{"start", "steps", "optimizers"} -> paths', beside=True),
    Route("POST", "/api/mms", lambda _, p: mms(p), '{"counts", "start", "steps"} -> costs, minimisers', beside=True),
))
