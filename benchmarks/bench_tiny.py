"""Per-step overhead: a tiny 2-8-8-1 sigmoid network, thetas vs PyTorch (CPU), and the cost of single ops.

Model: Linear(2, 8) - Sigmoid - Linear(8, 8) - Sigmoid - Linear(8, 1), binary cross-entropy on the logit
(BCE with logits), plain SGD with lr 0.1, float32, batch 32 over 1,000 random 2-D points with XOR-like labels
(32 steps per epoch, the last one of 8 points), the same initial weights everywhere (torch's, copied). The
arithmetic is negligible, so the time per step is what each library spends around it: creating tensors,
recording and walking the graph, the optimizer loop.

Variants, timed in rotation: torch (nn.Sequential, BCEWithLogits, optim.SGD), thetas (the same with th.*, as a
user writes it), numpy (the step written out by hand: the floor for a NumPy library).

Then, on 32 x 8 float32 arrays: one thetas op with gradient recording vs the NumPy work inside it and vs torch,
and where one thetas step goes (forward, backward, zero_grad + step).

    python benchmarks/bench_tiny.py [--threads 1] [--repeats 5] [--json] [--no-ops]
"""
import numpy as np
import torch

import thetas as th
from thetas.autograd import ops

from common import (nested_phases, noise_note, paired_ratio, parser, print_json, setup, time_paired, train_step,
                    update_error)

N, B, LR = 1000, 32, 0.1


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, 2)).astype(np.float32)
    y = (x[:, :1] * x[:, 1:] > 0).astype(np.float32)  # (N, 1): 1 in the first and third quadrants
    return x, y


def torch_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Sigmoid(), torch.nn.Linear(8, 8), torch.nn.Sigmoid(),
                               torch.nn.Linear(8, 1))


def thetas_model(reference):
    model = th.nn.Sequential(th.nn.Linear(2, 8), th.nn.Sigmoid(), th.nn.Linear(8, 8), th.nn.Sigmoid(),
                             th.nn.Linear(8, 1))
    model.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return model


def thetas_step(model, opt, xb, yb):
    return train_step(model, opt, th.losses.binary_cross_entropy_with_logits, xb, yb)


def torch_step(model, opt, xb, yb):
    return train_step(model, opt, torch.nn.functional.binary_cross_entropy_with_logits, xb, yb)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def numpy_step(params, x, y, lr=LR):
    """Forward, backward and SGD update of the 2-8-8-1 network by hand (W of shape (out, in)). Returns the loss."""
    W1, b1, W2, b2, W3, b3 = params
    a1 = sigmoid(x @ W1.T + b1)                                 # (n, 8)
    a2 = sigmoid(a1 @ W2.T + b2)                                # (n, 8)
    z = a2 @ W3.T + b3                                          # (n, 1) logits
    loss = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean()
    dz = (sigmoid(z) - y) / len(x)
    d2 = (dz @ W3) * a2 * (1 - a2)
    d1 = (d2 @ W2) * a1 * (1 - a1)
    grads = (d1.T @ x, d1.sum(axis=0), d2.T @ a1, d2.sum(axis=0), dz.T @ a2, dz.sum(axis=0))
    for w, g in zip(params, grads):
        w -= lr * g
    return loss


def numpy_params(reference):
    return [v.detach().numpy().copy() for v in reference.state_dict().values()]


def epoch_fn(step, x, y, seed=1):
    rng = np.random.default_rng(seed)

    def epoch():
        perm = rng.permutation(N)
        for i in range(0, N, B):
            idx = perm[i:i + B]
            step(x[idx], y[idx])
    return epoch


def variants(x, y):
    reference = torch_model()
    t_opt = torch.optim.SGD(reference.parameters(), lr=LR)
    model = thetas_model(reference)
    opt = th.optim.SGD(model.parameters(), lr=LR)
    params = numpy_params(reference)
    xt, yt, torch_rng = torch.from_numpy(x), torch.from_numpy(y), np.random.default_rng(1)

    def torch_epoch():
        perm = torch.from_numpy(torch_rng.permutation(N))
        for i in range(0, N, B):
            idx = perm[i:i + B]
            torch_step(reference, t_opt, xt[idx], yt[idx])

    return {"torch": torch_epoch,
            "thetas": epoch_fn(lambda xb, yb: thetas_step(model, opt, xb, yb), x, y),
            "numpy": epoch_fn(lambda xb, yb: numpy_step(params, xb, yb), x, y)}


def check(x, y):
    reference = torch_model()
    model, params, before = thetas_model(reference), numpy_params(reference), numpy_params(reference)
    xb, yb = x[:B], y[:B]
    loss_torch = torch_step(reference, torch.optim.SGD(reference.parameters(), lr=LR),
                            torch.from_numpy(xb), torch.from_numpy(yb)).item()
    loss_thetas = thetas_step(model, th.optim.SGD(model.parameters(), lr=LR), xb, yb).item()
    loss_numpy = float(numpy_step(params, xb, yb))
    after = numpy_params(reference)
    err_thetas = update_error(before, [p.data for p in model.parameters()], after)
    err_numpy = update_error(before, params, after)
    print("# check (batch %d): loss torch %.6f thetas %.6f numpy %.6f; SGD update vs torch: thetas %.1e numpy %.1e"
          % (B, loss_torch, loss_thetas, loss_numpy, err_thetas, err_numpy))
    if not (abs(loss_thetas - loss_torch) < 1e-5 and err_thetas < 1e-3 and err_numpy < 1e-3):
        raise SystemExit("check failed: thetas (or the NumPy step) does not compute torch's step")
    return {"loss_torch": loss_torch, "loss_thetas": loss_thetas, "update_error_thetas": err_thetas}


def single_ops(repeats):
    """Microseconds per call of small operations (32 x 8 float32), with gradient recording where it applies."""
    rng = np.random.default_rng(3)
    x = rng.random((32, 8), dtype=np.float32)
    w, b = rng.random((8, 8), dtype=np.float32), rng.random(8, dtype=np.float32)
    tx, tW, tb = th.tensor(x), th.tensor(w, requires_grad=True), th.tensor(b, requires_grad=True)
    gx, gW, gb = torch.from_numpy(x), torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()
    h, gh = th.tensor(x, requires_grad=True), torch.from_numpy(x.copy()).requires_grad_()
    fns = {
        "numpy  x @ W.T + b": lambda: x @ w.T + b,
        "thetas linear": lambda: ops.linear(tx, tW, tb),
        "torch  linear": lambda: torch.nn.functional.linear(gx, gW, gb),
        "numpy  1/(1+exp(-x))": lambda: 1 / (1 + np.exp(-x)),
        "thetas sigmoid": lambda: ops.sigmoid(h),
        "torch  sigmoid": lambda: torch.sigmoid(gh),
        "numpy  maximum(x, 0)": lambda: np.maximum(x, 0),
        "thetas relu": lambda: ops.relu(h),
        "thetas a + b": lambda: h + h,
        "thetas linear+sigmoid+sum, backward": lambda: ops.sigmoid(ops.linear(tx, tW, tb)).sum().backward(),
        "torch  linear+sigmoid+sum, backward": lambda: torch.sigmoid(
            torch.nn.functional.linear(gx, gW, gb)).sum().backward(),
    }
    seconds, info = time_paired(fns, repeats, 1, min_time=0.1, gap=0.0)
    print("\nsingle ops on 32 x 8 float32, gradients recorded (%s)" % noise_note(info))
    out = {}
    for name, s in seconds.items():
        out[name] = 1e6 * float(np.median(s))
        print("  %-38s %7.2f us  (best %.2f)" % (name, out[name], 1e6 * min(s)))
    return out


def step_phases(x, y, repeats):
    """Microseconds of each phase of one thetas step (batch 32), by difference of nested prefixes."""
    model = thetas_model(torch_model())
    opt = th.optim.SGD(model.parameters(), lr=LR)
    xb, yb = x[:B], y[:B]
    loss_fn = th.losses.binary_cross_entropy_with_logits

    def forward_backward():
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()

    return nested_phases({"forward (model + loss)": lambda: loss_fn(model(xb), yb),
                          "zero_grad + backward": forward_backward,
                          "opt.step": lambda: thetas_step(model, opt, xb, yb)},
                         repeats, "where one thetas step goes, batch %d" % B)


def main():
    p = parser(__doc__)
    p.add_argument("--no-ops", action="store_true", help="skip the single-op and step-phase tables")
    args = p.parse_args()
    env = setup(args)
    x, y = make_data()
    result = {"bench": "tiny", "env": env, "check": check(x, y)}
    steps = -(-N // B)
    seconds, info = time_paired(variants(x, y), args.repeats, args.warmup + 3, min_time=0.3)
    print("\n2-8-8-1 training, batch %d (%d steps/epoch, threads=%s): %s" % (B, steps, args.threads,
                                                                           noise_note(info)))
    print("  %-7s %10s %10s %14s" % ("variant", "us/step", "best", "samples/s"))
    result.update(us_per_step={}, samples_per_s={}, clean=info["clean"], rounds=info["rounds"])
    for name, s in seconds.items():
        med = float(np.median(s))
        result["us_per_step"][name] = 1e6 * med / steps
        result["samples_per_s"][name] = N / med
        print("  %-7s %10.1f %10.1f %14.0f" % (name, 1e6 * med / steps, 1e6 * min(s) / steps, N / med))
    for name in ("thetas", "numpy"):
        r = result["ratio_%s_torch" % name] = paired_ratio(seconds["torch"], seconds[name])
        print("  %s / torch = %.2fx  (samples/s, median of per-round ratios)" % (name, r))
    r = result["ratio_thetas_numpy"] = paired_ratio(seconds["numpy"], seconds["thetas"])
    print("  thetas / numpy = %.2fx" % r)
    if not args.no_ops:
        result["ops_us"] = single_ops(args.repeats)
        result["step_phases_us"] = step_phases(x, y, args.repeats)
    if args.json:
        print_json(result)


if __name__ == "__main__":
    main()
