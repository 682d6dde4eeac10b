"""LeNet-5 training and inference throughput: thetas vs PyTorch (CPU), samples per second.

Model (th.models.LeNet defaults): conv 6@5x5 (padding 2) - ReLU - maxpool 2 - conv 16@5x5 - ReLU - maxpool 2 -
flatten 400 - Linear 120 - ReLU - Linear 84 - ReLU - Linear 10; softmax cross-entropy, plain SGD lr 0.05,
float32, the same initial weights in both (torch's, copied). Data: random MNIST-shaped images (N, 1, 28, 28)
in [0, 1), labels 0..9.

  training   one epoch over --samples images at batch 64: a fresh permutation, each batch gathered by fancy
             indexing, forward, backward, update (the user's loop)
  inference  the forward pass of 10,000 images in batches of --infer-batch (eval mode, no gradients)

    python benchmarks/bench_lenet.py [--threads 1] [--samples 12800] [--repeats 5] [--json]
"""
import numpy as np
import torch

import thetas as th

from common import noise_note, paired_ratio, parser, print_json, setup, time_paired, train_step, update_error

LR, BATCH = 0.05, 64


def make_data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)


def torch_model(seed=0):
    torch.manual_seed(seed)
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


def thetas_model(reference):
    model = th.models.LeNet()
    model.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return model


def thetas_step(model, opt, xb, yb):
    return train_step(model, opt, th.losses.cross_entropy, xb, yb)


def torch_step(model, opt, xb, yb):
    return train_step(model, opt, torch.nn.functional.cross_entropy, xb, yb)


def check(x, y):
    """One step on one batch: thetas' loss and SGD update must match torch's."""
    reference = torch_model()
    model = thetas_model(reference)
    before = [v.detach().numpy().copy() for v in reference.state_dict().values()]
    xb, yb = x[:BATCH], y[:BATCH]
    loss_torch = torch_step(reference, torch.optim.SGD(reference.parameters(), lr=LR),
                            torch.from_numpy(xb), torch.from_numpy(yb)).item()
    loss_thetas = thetas_step(model, th.optim.SGD(model.parameters(), lr=LR), xb, yb).item()
    after = [v.detach().numpy() for v in reference.state_dict().values()]
    err = update_error(before, [p.data for p in model.parameters()], after)
    print("# check (batch %d): loss torch %.6f thetas %.6f; SGD update vs torch: %.1e" % (BATCH, loss_torch, loss_thetas, err))
    if not (abs(loss_thetas - loss_torch) < 1e-4 and err < 1e-3):
        raise SystemExit("check failed: thetas does not compute torch's step")
    return {"loss_torch": loss_torch, "loss_thetas": loss_thetas, "update_error_thetas": err}


def training(x, y):
    reference = torch_model()
    t_opt = torch.optim.SGD(reference.parameters(), lr=LR)
    model = thetas_model(reference)
    opt = th.optim.SGD(model.parameters(), lr=LR)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n, rng_t, rng_th = len(x), np.random.default_rng(1), np.random.default_rng(1)

    def torch_epoch():
        perm = torch.from_numpy(rng_t.permutation(n))
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            torch_step(reference, t_opt, xt[idx], yt[idx])

    def thetas_epoch():
        perm = rng_th.permutation(n)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            thetas_step(model, opt, x[idx], y[idx])
    return {"torch": torch_epoch, "thetas": thetas_epoch}


def inference(x, batch):
    reference = torch_model().eval()
    model = thetas_model(reference).eval()
    xt = torch.from_numpy(x)

    def torch_pass():
        with torch.no_grad():
            for i in range(0, len(x), batch):
                reference(xt[i:i + batch])

    def thetas_pass():
        with th.no_grad():
            for i in range(0, len(x), batch):
                model(x[i:i + batch])
    return {"torch": torch_pass, "thetas": thetas_pass}


def report(name, fns, n, steps, args):
    seconds, info = time_paired(fns, args.repeats, args.warmup, min_time=0.3)
    print("\n%s (%d samples, threads=%s): %s" % (name, n, args.threads, noise_note(info)))
    print("  %-7s %14s %10s %10s %12s" % ("variant", "samples/s med", "best", "us/batch", "faults/batch"))
    row = {"samples_per_s": {}, "clean": info["clean"], "rounds": info["rounds"]}
    for v, s in seconds.items():
        med = np.median(s)
        row["samples_per_s"][v] = n / med
        print("  %-7s %14.0f %10.0f %10.1f %12.1f" % (v, n / med, n / min(s), 1e6 * med / steps, info["faults"][v] / steps))
    r = row["ratio_thetas_torch"] = paired_ratio(seconds["torch"], seconds["thetas"])
    print("  thetas / torch = %.2fx  (samples/s, median of per-round ratios)" % r)
    return row


def main():
    p = parser(__doc__)
    p.add_argument("--samples", type=int, default=12_800, help="training samples per timed epoch (default 12800)")
    p.add_argument("--infer-batch", type=int, default=256, help="inference batch size (default 256)")
    args = p.parse_args()
    env = setup(args)
    n = 1280 if args.quick else args.samples
    x, y = make_data(max(n, 10_000 if not args.quick else 1000))
    result = {"bench": "lenet", "env": env, "check": check(x, y), "batch": BATCH}
    result["training"] = report("training, batch %d" % BATCH, training(x[:n], y[:n]), n, -(-n // BATCH), args)
    m = 1000 if args.quick else 10_000
    result["inference"] = report("inference, batch %d" % args.infer_batch, inference(x[:m], args.infer_batch), m,
                                 -(-m // args.infer_batch), args)
    if args.json:
        print_json(result)


if __name__ == "__main__":
    main()
