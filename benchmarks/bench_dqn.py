"""DQN update throughput: thetas vs PyTorch (CPU), updates per second.

One update of a Q-network MLP 4-128-128-2 (ReLU), float32, on a batch of 64 transitions from a 10,000-entry
replay buffer (random CartPole-shaped data, 5 % terminal):

    sample 64 indices, gather (s, a, r, s', terminated)
    y = r + 0.99 (1 − terminated) max_a' Q_target(s', a')        target network forward, no gradient
    loss = Huber(Q(s, a), y), δ = 1 (torch: smooth_l1_loss)         mean over the batch
    zero_grad, backward, Adam step (lr 1e-3, default betas and eps)

Variants, timed in rotation:
  torch   torch.nn.Sequential, gather, F.smooth_l1_loss, torch.optim.Adam (eager mode, the default Adam)
  thetas  ``th.rl.DQN.update(buffer.sample(64))``: the agent's own update, as ``learn`` runs it
  numpy   the same update written out by hand in NumPy (weights (out, in), Adam in place): the yardstick

Before timing, all three start from torch's initial weights and make 3 updates on the same 3 batches: the losses
must agree and the parameters must match torch's to a relative error of the update below 1e-3.
``--clip`` adds gradient-norm clipping (max norm 10) to every variant, as the CLI's agent trains.

    python benchmarks/bench_dqn.py [--threads 1] [--repeats 5] [--clip] [--json]
"""
import numpy as np
import torch
import torch.nn.functional as F

import thetas as th
import thetas.rl

from common import nested_phases, noise_note, paired_ratio, parser, print_json, setup, time_paired, update_error

BUF, B, OBS, H, ACTIONS = 10_000, 64, 4, 128, 2
GAMMA, LR, BETAS, EPS, CLIP = 0.99, 1e-3, (0.9, 0.999), 1e-8, 10.0


def make_buffer(sample_seed=1):
    """A full thetas ReplayBuffer of random transitions, the same in every call; ``sample_seed`` seeds sampling."""
    rng = np.random.default_rng(0)
    buf = th.rl.ReplayBuffer(BUF, (OBS,), seed=sample_seed)
    buf.obs[:] = rng.standard_normal((BUF, OBS))
    buf.next_obs[:] = rng.standard_normal((BUF, OBS))
    buf.action[:] = rng.integers(0, ACTIONS, BUF)
    buf.reward[:] = rng.random(BUF)
    buf.terminated[:] = rng.random(BUF) < 0.05
    buf.size = BUF
    return buf


def torch_qnet(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(OBS, H), torch.nn.ReLU(), torch.nn.Linear(H, H), torch.nn.ReLU(),
                               torch.nn.Linear(H, ACTIONS))


def weights(reference):
    """[W1, b1, W2, b2, W3, b3] of a torch network as NumPy copies, W of shape (out, in)."""
    return [v.detach().numpy().copy() for v in reference.state_dict().values()]


# ---------------------------------------------------------------------- one update of each variant
class TorchDQN:
    def __init__(self, reference, clip):
        self.net, self.target = torch_qnet(), torch_qnet()
        self.net.load_state_dict(reference.state_dict())
        self.target.load_state_dict(reference.state_dict())
        self.opt = torch.optim.Adam(self.net.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.clip = clip

    def update(self, batch):
        s, a, r, s2 = (torch.from_numpy(x) for x in batch[:4])
        done = torch.from_numpy(batch.terminated).float()
        with torch.no_grad():
            y = r + GAMMA * (1 - done) * self.target(s2).max(dim=1).values
        q = self.net(s).gather(1, a[:, None]).squeeze(1)
        loss = F.smooth_l1_loss(q, y)
        self.opt.zero_grad()
        loss.backward()
        if self.clip:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), CLIP)
        self.opt.step()
        return loss.item()

    def params(self):
        return weights(self.net)


class ThetasDQN:
    def __init__(self, reference, clip):
        q = th.models.MLP([OBS, H, H, ACTIONS], activation="relu")
        q.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
        self.agent = th.rl.DQN(OBS, ACTIONS, q_network=q, lr=LR, gamma=GAMMA, batch_size=B, huber_delta=1.0,
                               max_grad_norm=CLIP if clip else None)

    def update(self, batch):
        return self.agent.update(batch)["loss"]

    def params(self):
        return [p.data for p in self.agent.q.parameters()]


class NumpyDQN:
    """The update by hand: forward, Huber gradient clip(d, −1, 1)/B at the taken actions, backward, Adam."""

    def __init__(self, reference, clip):
        self.p, self.target = weights(reference), weights(reference)
        self.m, self.v = [np.zeros_like(w) for w in self.p], [np.zeros_like(w) for w in self.p]
        self.t, self.clip = 0, clip

    @staticmethod
    def forward(p, x):
        W1, b1, W2, b2, W3, b3 = p
        h1 = x @ W1.T; h1 += b1; np.maximum(h1, 0, out=h1)           # (B, 128)
        h2 = h1 @ W2.T; h2 += b2; np.maximum(h2, 0, out=h2)          # (B, 128)
        q = h2 @ W3.T; q += b3                                       # (B, 2)
        return h1, h2, q

    def update(self, batch):
        s, a, r, s2, done = batch.obs, batch.action, batch.reward, batch.next_obs, batch.terminated
        y = r + GAMMA * (1 - done.astype(np.float32)) * self.forward(self.target, s2)[2].max(axis=1)
        h1, h2, q = self.forward(self.p, s)
        rows = np.arange(len(a))
        d = q[rows, a] - y
        ad = np.abs(d)
        loss = float(np.where(ad <= 1, 0.5 * d * d, ad - 0.5).mean())
        dq = np.zeros_like(q)
        dq[rows, a] = np.clip(d, -1, 1) / len(a)
        W1, b1, W2, b2, W3, b3 = self.p
        dh2 = dq @ W3; dh2 *= h2 > 0
        dh1 = dh2 @ W2; dh1 *= h1 > 0
        grads = [dh1.T @ s, dh1.sum(0), dh2.T @ h1, dh2.sum(0), dq.T @ h2, dq.sum(0)]
        if self.clip:
            norm = np.sqrt(sum(float((g * g).sum()) for g in grads))
            if norm > CLIP:
                grads = [g * np.float32(CLIP / (norm + 1e-6)) for g in grads]
        self.t += 1
        step, bc2 = LR / (1 - BETAS[0] ** self.t), np.float32(np.sqrt(1 - BETAS[1] ** self.t))
        for w, g, m, v in zip(self.p, grads, self.m, self.v):
            m *= BETAS[0]; m += (1 - BETAS[0]) * g
            v *= BETAS[1]; v += (1 - BETAS[1]) * g * g
            w -= np.float32(step) * m / (np.sqrt(v) / bc2 + np.float32(EPS))
        return loss

    def params(self):
        return self.p


VARIANTS = {"torch": TorchDQN, "thetas": ThetasDQN, "numpy": NumpyDQN}


def check(buf, clip):
    reference = torch_qnet()
    before = weights(reference)
    agents = {name: cls(reference, clip) for name, cls in VARIANTS.items()}
    losses = {name: [] for name in agents}
    for _ in range(3):
        batch = buf.sample(B)
        for name, agent in agents.items():
            losses[name].append(agent.update(batch))
    ref = agents["torch"].params()
    errors = {name: update_error(before, agents[name].params(), ref) for name in ("thetas", "numpy")}
    loss_gap = max(abs(a - b) for name in ("thetas", "numpy") for a, b in zip(losses[name], losses["torch"]))
    print("# check (3 updates, batch %d%s): losses torch %s, thetas %s, numpy %s; Adam updates vs torch: thetas %.1e, "
          "numpy %.1e" % (B, ", clipped" if clip else "", *(["%.6f" % v for v in losses[n]] for n in agents),
                          errors["thetas"], errors["numpy"]))
    if not (loss_gap < 1e-5 and errors["thetas"] < 1e-3 and errors["numpy"] < 1e-3):
        raise SystemExit("check failed: thetas (or the NumPy update) does not compute torch's DQN update")
    return {"losses_torch": losses["torch"], "losses_thetas": losses["thetas"], "update_error_thetas": errors["thetas"],
            "update_error_numpy": errors["numpy"]}


def update_fns(clip):
    reference = torch_qnet()
    out = {}
    for i, (name, cls) in enumerate(VARIANTS.items()):
        agent, own = cls(reference, clip), make_buffer(sample_seed=2 + i)   # each variant samples its own buffer
        out[name] = (lambda a, b: lambda: a.update(b.sample(B)))(agent, own)
    return out


def phases(buf, repeats):
    """Microseconds of each part of one thetas update, by differences of nested prefixes (best rounds)."""
    agent = th.rl.DQN(OBS, ACTIONS, hidden=(H, H), lr=LR, batch_size=B, max_grad_norm=None)   # the timed network
    agent.buffer = buf
    rows = np.arange(B)

    def sample():
        return buf.sample(B)

    def target():
        return agent.td_target(sample())

    def forward():
        b = sample()
        y = agent.td_target(b)
        return b, th.losses.huber_loss(agent.q(b.obs)[rows, b.action], y)

    def backward():
        agent.optimizer.zero_grad()
        forward()[1].backward()

    def full():
        backward()
        agent.optimizer.step()

    return nested_phases({"sample the batch": sample, "TD target (target network forward)": target,
                          "online forward + Huber": forward, "zero_grad + backward": backward, "Adam step": full},
                         repeats, "where one thetas update goes, batch %d" % B, warmup=3)


def main():
    p = parser(__doc__)
    p.add_argument("--clip", action="store_true", help="clip the gradients' norm to 10 in every variant")
    p.add_argument("--no-phases", action="store_true", help="skip the table of where a thetas update goes")
    args = p.parse_args()
    env = setup(args)
    buf = make_buffer()
    result = {"bench": "dqn", "env": env, "clip": args.clip, "check": check(buf, args.clip)}
    seconds, info = time_paired(update_fns(args.clip), args.repeats, args.warmup + 20,
                                min_time=0.1 if args.quick else 0.3)
    print("\nDQN update, MLP 4-128-128-2, batch %d, Huber, Adam%s (threads=%s): %s" % (
        B, ", clipped" if args.clip else "", args.threads, noise_note(info)))
    print("  %-7s %10s %10s %12s" % ("variant", "us/update", "best", "updates/s"))
    result.update(us_per_update={}, updates_per_s={}, clean=info["clean"], rounds=info["rounds"])
    for name, s in seconds.items():
        med = float(np.median(s))
        result["us_per_update"][name] = 1e6 * med
        result["updates_per_s"][name] = 1 / med
        print("  %-7s %10.1f %10.1f %12.0f" % (name, 1e6 * med, 1e6 * min(s), 1 / med))
    for name in ("thetas", "numpy"):
        r = result["ratio_%s_torch" % name] = paired_ratio(seconds["torch"], seconds[name])
        print("  %s / torch = %.2fx  (updates/s, median of per-round ratios)" % (name, r))
    r = result["ratio_thetas_numpy"] = paired_ratio(seconds["numpy"], seconds["thetas"])
    print("  thetas / numpy = %.2fx" % r)
    if not args.no_phases:
        result["phases_us"] = phases(buf, args.repeats)
    if args.json:
        print_json(result)


if __name__ == "__main__":
    main()
