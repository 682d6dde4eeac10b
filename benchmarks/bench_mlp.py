"""MLP 784-256-256-10 training throughput: thetas vs PyTorch (CPU), samples per second.

Model: Linear(784, 256) - ReLU - Linear(256, 256) - ReLU - Linear(256, 10), softmax cross-entropy (mean over the
batch), plain SGD with lr 0.1, float32, the same initial weights in every variant (torch's, copied).
Data: random MNIST-shaped set, 60,000 x 784 floats in [0, 1), labels 0..9. One epoch = a fresh permutation,
then every batch gathered by fancy indexing (the last, partial batch kept), forward, backward, update.

Variants, timed in rotation for each batch size:
  torch   torch.nn.Sequential + nn.functional.cross_entropy + torch.optim.SGD (eager mode, autograd)
  thetas  th.nn.Sequential + th.losses.cross_entropy + th.optim.SGD, written as a user writes it
  numpy   the same step written out by hand in NumPy (x @ W.T, in place where easy): the yardstick for a NumPy library

    python benchmarks/bench_mlp.py [--threads 1] [--batches 32,128,512] [--repeats 5] [--json]
"""
import numpy as np
import torch

import thetas as th

from common import noise_note, paired_ratio, parser, print_json, setup, time_paired, train_step, update_error

N_TRAIN, D_IN, H, D_OUT = 60_000, 784, 256, 10
LR = 0.1


def make_data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, D_IN), dtype=np.float32), rng.integers(0, D_OUT, n)


def torch_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(D_IN, H), torch.nn.ReLU(), torch.nn.Linear(H, H), torch.nn.ReLU(),
                               torch.nn.Linear(H, D_OUT))


def thetas_model(reference):
    """The same network in thetas, holding a copy of ``reference``'s (torch) weights."""
    model = th.nn.Sequential(th.nn.Linear(D_IN, H), th.nn.ReLU(), th.nn.Linear(H, H), th.nn.ReLU(),
                             th.nn.Linear(H, D_OUT))
    model.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return model


def numpy_params(reference):
    """[W1, b1, W2, b2, W3, b3] as NumPy copies, W of shape (out, in) as in torch and thetas."""
    return [v.detach().numpy().copy() for v in reference.state_dict().values()]


# ---------------------------------------------------------------------- one training step of each variant
def thetas_step(model, opt, xb, yb):
    return train_step(model, opt, th.losses.cross_entropy, xb, yb)


def torch_step(model, opt, xb, yb):
    return train_step(model, opt, torch.nn.functional.cross_entropy, xb, yb)


def numpy_step(params, x, y, lr=LR):
    """Forward, backward and SGD update of the MLP, by hand. Returns the loss."""
    W1, b1, W2, b2, W3, b3 = params
    n, rows = x.shape[0], np.arange(x.shape[0])
    h1 = x @ W1.T; h1 += b1; np.maximum(h1, 0, out=h1)          # (n, 256)
    h2 = h1 @ W2.T; h2 += b2; np.maximum(h2, 0, out=h2)         # (n, 256)
    z = h2 @ W3.T; z += b3                                      # (n, 10) logits
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)                           # softmax probabilities
    loss = -np.log(z[rows, y]).mean()
    z[rows, y] -= 1
    z *= np.float32(1 / n)                                      # dLoss/dlogits
    grads = [z.T @ h2, z.sum(axis=0)]
    dh = z @ W3; dh *= h2 > 0
    grads = [dh.T @ h1, dh.sum(axis=0)] + grads
    dh = dh @ W2; dh *= h1 > 0
    grads = [dh.T @ x, dh.sum(axis=0)] + grads
    for w, g in zip(params, grads):
        g *= np.float32(lr)
        w -= g
    return loss


def epoch_fn(step, x, y, batch, seed=1):
    """One epoch as a zero-argument callable: a fresh permutation (same sequence in every variant), then
    ``step(xb, yb)`` on every batch."""
    rng, n = np.random.default_rng(seed), len(x)

    def epoch():
        perm = rng.permutation(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            step(x[idx], y[idx])
    return epoch


def variants(x, y, batch, with_numpy=True):
    reference = torch_model()
    t_opt = torch.optim.SGD(reference.parameters(), lr=LR)
    model = thetas_model(reference)
    opt = th.optim.SGD(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    torch_rng, n = np.random.default_rng(1), len(x)

    def torch_epoch():  # indexes torch tensors with a torch permutation, as a torch user would
        perm = torch.from_numpy(torch_rng.permutation(n))
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            torch_step(reference, t_opt, xt[idx], yt[idx])

    fns = {"torch": torch_epoch, "thetas": epoch_fn(lambda xb, yb: thetas_step(model, opt, xb, yb), x, y, batch)}
    if with_numpy:
        params = numpy_params(reference)
        fns["numpy"] = epoch_fn(lambda xb, yb: numpy_step(params, xb, yb), x, y, batch)
    return fns


def check(x, y, batch=128):
    """One step on the same batch: thetas' (and the NumPy step's) loss and update must match torch's."""
    reference = torch_model()
    model, params = thetas_model(reference), numpy_params(reference)
    before = numpy_params(reference)
    xb, yb = x[:batch], y[:batch]
    loss_torch = torch_step(reference, torch.optim.SGD(reference.parameters(), lr=LR),
                            torch.from_numpy(xb), torch.from_numpy(yb)).item()
    loss_thetas = thetas_step(model, th.optim.SGD(model.parameters(), lr=LR), xb, yb).item()
    loss_numpy = float(numpy_step(params, xb, yb))
    after = numpy_params(reference)
    err_thetas = update_error(before, [p.data for p in model.parameters()], after)
    err_numpy = update_error(before, params, after)
    print("# check (batch %d): loss torch %.6f thetas %.6f numpy %.6f; SGD update vs torch: thetas %.1e numpy %.1e"
          % (batch, loss_torch, loss_thetas, loss_numpy, err_thetas, err_numpy))
    if not (abs(loss_thetas - loss_torch) < 1e-4 and err_thetas < 1e-3 and err_numpy < 1e-3):
        raise SystemExit("check failed: thetas (or the NumPy step) does not compute torch's step")
    return {"loss_torch": loss_torch, "loss_thetas": loss_thetas, "update_error_thetas": err_thetas}


def main():
    p = parser(__doc__)
    p.add_argument("--batches", default="32,128,512", help="comma-separated batch sizes (default 32,128,512)")
    p.add_argument("--samples", type=int, default=N_TRAIN, help="samples per epoch (default 60000; --quick: 6000)")
    p.add_argument("--no-numpy", action="store_true", help="skip the hand-written NumPy variant")
    args = p.parse_args()
    env = setup(args)
    n = 6000 if args.quick else args.samples
    x, y = make_data(n)
    result = {"bench": "mlp", "env": env, "check": check(x, y), "samples": n, "batches": {}}
    for batch in [int(b) for b in args.batches.split(",")]:
        fns = variants(x, y, batch, with_numpy=not args.no_numpy)
        seconds, info = time_paired(fns, args.repeats, args.warmup, min_time=0.3)
        steps = -(-n // batch)
        print("\nbatch %d (%d steps/epoch, threads=%s): %s" % (batch, steps, args.threads, noise_note(info)))
        print("  %-7s %14s %10s %10s %12s" % ("variant", "samples/s med", "best", "us/step", "faults/step"))
        row = {"samples_per_s": {}, "clean": info["clean"], "rounds": info["rounds"]}
        for name, s in seconds.items():
            med, best = np.median(s), min(s)
            row["samples_per_s"][name] = n / med
            print("  %-7s %14.0f %10.0f %10.1f %12.1f" % (name, n / med, n / best, 1e6 * med / steps,
                                                         info["faults"][name] / steps))
        for name in fns:
            if name != "torch":  # samples/s ratio = torch's time / this variant's time, per round
                r = row["ratio_%s_torch" % name] = paired_ratio(seconds["torch"], seconds[name])
                print("  %s / torch = %.2fx  (samples/s, median of per-round ratios)" % (name, r))
        if "numpy" in fns:
            r = row["ratio_thetas_numpy"] = paired_ratio(seconds["numpy"], seconds["thetas"])
            print("  thetas / numpy = %.2fx" % r)
        result["batches"][str(batch)] = row
    if args.json:
        print_json(result)


if __name__ == "__main__":
    main()
