"""LSTM training throughput, DKT-sized: thetas vs PyTorch (CPU), sequences per second.

Model (Deep Knowledge Tracing, Piech et al. 2015): input x_t = one-hot of (question, correct) in 2·110
dimensions; LSTM(220, 200); Linear(200, 110) gives one logit per question; the loss is the BCE of the logit of
the next question q_{t+1} against its answer a_{t+1}, masked where a sequence is padded. Length 100, batch 32,
float32, Adam lr 1e-3, the same initial weights in both (torch's, copied). Data: random students with lengths
uniform in 20..100. Also a vanilla tanh RNN of the same sizes.

Variants: torch (nn.LSTM on the one-hot tensor); thetas (th.nn.LSTM given the one-hot as its indices, (B, T)
integers, -1 past the end: the same function and the same gradients, x_t W_ihᵀ computed as a gather, which is
how th.models.DKT feeds it); thetas-dense (th.nn.LSTM on the same dense one-hot tensor as torch).

    python benchmarks/bench_lstm.py [--threads 1] [--batches 20] [--repeats 5] [--json]
"""
import numpy as np
import torch

import thetas as th

from common import noise_note, paired_ratio, parser, print_json, setup, time_paired, update_error

M, H, T, B = 110, 200, 100, 32


def make_batches(n, seed=0):
    """``n`` batches (x one-hot (B, T, 2M), next question (B, T-1), next answer (B, T-1), mask (B, T-1),
    the one-hot's indices (B, T), -1 past each sequence's end)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        q = rng.integers(0, M, (B, T))
        a = rng.integers(0, 2, (B, T))
        lengths = rng.integers(20, T + 1, B)
        valid = np.arange(T)[None, :] < lengths[:, None]
        x = np.zeros((B, T, 2 * M), np.float32)
        np.put_along_axis(x, (q + M * a)[:, :, None], 1.0, axis=2)
        x *= valid[:, :, None]
        mask = (valid[:, 1:] & valid[:, :-1]).astype(np.float32)
        out.append((x, q[:, 1:], a[:, 1:].astype(np.float32), mask, np.where(valid, q + M * a, -1)))
    return out


class ThetasDKT(th.nn.Module):
    def __init__(self, cell):
        self.rnn = th.nn.LSTM(2 * M, H) if cell == "lstm" else th.nn.RNN(2 * M, H)
        self.out = th.nn.Linear(H, M)

    def forward(self, x):
        return self.out(self.rnn(x)[0])


class TorchDKT(torch.nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.RNN)(2 * M, H, batch_first=True)
        self.out = torch.nn.Linear(H, M)

    def forward(self, x):
        return self.out(self.rnn(x)[0])


ROWS = np.arange(B)[:, None]
STEPS = np.arange(T - 1)[None, :]


def thetas_step(model, opt, batch, dense=False):
    x, q, a, mask, index = batch
    x = x if dense else index
    opt.zero_grad()
    logits = model(x)[ROWS, STEPS, q]                             # (B, T-1): the logit of the next question
    loss = th.losses.binary_cross_entropy_with_logits(logits, a, weight=mask, reduction="sum") / mask.sum()
    loss.backward()
    opt.step()
    return loss


def torch_step(model, opt, batch):
    x, q, a, mask = batch[:4]
    opt.zero_grad()
    logits = model(x)[:, :-1].gather(2, q[:, :, None]).squeeze(2)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, a, weight=mask, reduction="sum") / mask.sum()
    loss.backward()
    opt.step()
    return loss


def pair(cell, seed=0):
    torch.manual_seed(seed)
    reference = TorchDKT(cell)
    model = ThetasDKT(cell)
    model.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return reference, model


def to_torch(batch):
    x, q, a, mask = batch[:4]
    return torch.from_numpy(x), torch.from_numpy(q), torch.from_numpy(a), torch.from_numpy(mask)


def check(cell, batch):
    reference, model = pair(cell)
    before = [v.detach().numpy().copy() for v in reference.state_dict().values()]
    lt = torch_step(reference, torch.optim.SGD(reference.parameters(), lr=0.5), to_torch(batch)).item()
    lth = thetas_step(model, th.optim.SGD(model.parameters(), lr=0.5), batch).item()
    ldense = thetas_step(pair(cell)[1], th.optim.SGD(model.parameters(), lr=0.0), batch, dense=True).item()
    after = [v.detach().numpy() for v in reference.state_dict().values()]
    err = update_error(before, [p.data for p in model.parameters()], after)
    print("# check %s: loss torch %.6f thetas %.6f; SGD update vs torch: %.1e" % (cell, lt, lth, err))
    if not (abs(lt - lth) < 1e-4 and abs(lt - ldense) < 1e-4 and err < 1e-3):
        raise SystemExit("check failed: thetas does not compute torch's step")
    return {"loss_torch": lt, "loss_thetas": lth, "update_error_thetas": err}


def variants(cell, batches):
    reference, model = pair(cell)
    dense_model = pair(cell)[1]
    t_opt = torch.optim.Adam(reference.parameters(), lr=1e-3)
    opt = th.optim.Adam(model.parameters(), lr=1e-3)
    dense_opt = th.optim.Adam(dense_model.parameters(), lr=1e-3)
    tb = [to_torch(b) for b in batches]

    def torch_epoch():
        for b in tb:
            torch_step(reference, t_opt, b)

    def thetas_epoch():
        for b in batches:
            thetas_step(model, opt, b)

    def dense_epoch():
        for b in batches:
            thetas_step(dense_model, dense_opt, b, dense=True)
    return {"torch": torch_epoch, "thetas": thetas_epoch, "thetas-dense": dense_epoch}


def main():
    p = parser(__doc__)
    p.add_argument("--batches", type=int, default=20, help="batches per timed epoch (default 20)")
    p.add_argument("--cells", default="lstm,rnn", help="comma-separated: lstm, rnn (default both)")
    args = p.parse_args()
    env = setup(args)
    n = 3 if args.quick else args.batches
    batches = make_batches(n)
    result = {"bench": "lstm", "env": env, "batch": B, "length": T, "hidden": H, "questions": M, "cells": {}}
    for cell in args.cells.split(","):
        row = {"check": check(cell, batches[0])}
        seconds, info = time_paired(variants(cell, batches), args.repeats, args.warmup, min_time=0.3)
        print("\n%s DKT, batch %d x length %d (threads=%s): %s" % (cell.upper(), B, T, args.threads, noise_note(info)))
        print("  %-12s %14s %10s %10s %12s" % ("variant", "seq/s med", "best", "ms/batch", "faults/batch"))
        row.update(clean=info["clean"], rounds=info["rounds"], sequences_per_s={})
        for v, s in seconds.items():
            med = np.median(s)
            row["sequences_per_s"][v] = n * B / med
            print("  %-12s %14.1f %10.1f %10.2f %12.1f" % (v, n * B / med, n * B / min(s), 1e3 * med / n,
                                                         info["faults"][v] / n))
        r = row["ratio_thetas_torch"] = paired_ratio(seconds["torch"], seconds["thetas"])
        print("  thetas / torch = %.2fx  (sequences/s, median of per-round ratios)" % r)
        r = row["ratio_thetas_dense_torch"] = paired_ratio(seconds["torch"], seconds["thetas-dense"])
        print("  thetas-dense / torch = %.2fx" % r)
        result["cells"][cell] = row
    if args.json:
        print_json(result)


if __name__ == "__main__":
    main()
