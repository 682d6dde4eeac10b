"""Training a DKT on a set of students, the one recipe behind ``thetas dkt`` and the lab's Knowledge page.

    train, test = th.data.synthetic_5()
    run = th.knowledge.train_dkt(train, test, epochs=10)
    run.model, run.history, run.metrics["test"]["auc"]

The recipe: students with fewer than 2 answers are dropped (one answer has no next answer to predict), longer
sequences are cut into windows of ``max_len`` answers, and a ``DKT`` is trained with Adam by ``th.fit`` on
minus the log-likelihood of every next answer (``dkt_loss``). Batches hold windows of
similar length (``WindowLoader``): real students' histories range from 2 answers to thousands, and a batch
padded to its longest window wastes no work on the short ones.

The defaults were chosen on real students (ASSISTments 2015, DKT three-line format) and checked on the
simulated ones of the paper (synthetic-5); benchmarks/README.md has the runs behind them.
"""
import time
from dataclasses import dataclass, field

import numpy as np

from .model import DKT, dkt_array, dkt_loss, next_step

TEST_FRACTION = 0.2     # a file without its own test students: this fraction of them (all their answers) held out
DEFAULTS = dict(hidden=200, dropout=0.0, epochs=None, lr=1e-2, batch_size=32, max_len=200, schedule="cosine")
SCHEDULES = ("cosine", "none")
EVAL_LOGITS = 2 ** 24   # dkt_metrics: the most logits (batch × steps × questions) one batch may hold: 64 MB
STEPS = 2000            # epochs=None: about this many optimizer steps (Adam, cosine-annealed) ...
EPOCHS = (3, 10)        # ... in at least 3 and at most 10 passes over the training windows


def auto_epochs(batches_per_epoch):
    """The default number of epochs: about ``STEPS`` optimizer steps, between ``EPOCHS[0]`` and ``EPOCHS[1]``.

    What a DKT learns takes about 2,000 Adam steps of lr 0.01 annealed to 0; a large data set gives them in a few
    passes, and more passes over the same students only fit them better than new ones (ASSISTments 2015: 440
    batches of 32 per epoch, test AUC 0.7299 after 4 epochs, 0.7246 after 10); a small one needs every pass up
    to the cap (synthetic-5: 63 batches, 10 epochs, 0.808). benchmarks/README.md has the runs."""
    lo, hi = EPOCHS
    return int(min(hi, max(lo, round(STEPS / max(int(batches_per_epoch), 1)))))


def held_out(students, test_fraction=TEST_FRACTION, seed=0):
    """``(train_idx, test_idx)``: round(test_fraction · N) of the students held out (at least one), drawn with
    ``seed``; a split by student (``Students.split_indices``), so no student has answers on both sides."""
    return students.split_indices(num_test=max(1, round(test_fraction * len(students))), seed=seed)


def _windows(students, max_len):
    """The (N, T, 2) DKT array of the students' windows of at most ``max_len`` answers, each with 2 or more."""
    return dkt_array(students.windows(max_len).drop_short(2))


class WindowLoader:
    """Mini-batches ``(xb, xb)`` of an (N, T, 2) DKT array, windows of similar length together, each batch cut
    to its longest window.

    Every epoch draws a fresh random order (from ``seed``), sorts it by length within runs of ``50 · batch_size``
    windows, cuts the runs into batches and visits the batches in random order: the batches still differ from
    epoch to epoch, but hardly any step is padding (on ASSISTments 2015, windows of 200 answers are 5.8 times
    padding when batched as they come). ``shuffle=False``: batches in length order, for evaluation.
    ``state_dict()``/``load_state_dict()`` save and restore the random state (a resumed run draws the same
    batches as an uninterrupted one).
    """

    POOL = 50           # batches whose windows are sorted by length together

    def __init__(self, X, batch_size=64, shuffle=True, seed=None):
        self.X = np.asarray(X)
        if self.X.ndim != 3 or self.X.shape[-1] != 2:
            raise ValueError(f"WindowLoader: expected an (N, T, 2) DKT array, got shape {self.X.shape}")
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"WindowLoader: batch_size must be a whole number >= 1, got {batch_size!r}")
        self.batch_size, self.shuffle = int(batch_size), bool(shuffle)
        self.lengths = (self.X[..., 0] >= 0).sum(axis=1)
        self._rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def __len__(self):
        return -(-len(self.X) // self.batch_size)

    def batches(self):
        """The index arrays of one epoch's batches."""
        n, b = len(self.X), self.batch_size
        if not self.shuffle:
            order = np.argsort(self.lengths, kind="stable")
            return [order[s:s + b] for s in range(0, n, b)]
        order = self._rng.permutation(n)
        pool = self.POOL * b
        for s in range(0, n, pool):
            run = order[s:s + pool]
            order[s:s + pool] = run[np.argsort(self.lengths[run], kind="stable")]
        cuts = [order[s:s + b] for s in range(0, n, b)]
        return [cuts[i] for i in self._rng.permutation(len(cuts))]

    def __iter__(self):
        for idx in self.batches():
            xb = self.X[idx, :max(int(self.lengths[idx].max()), 1)]
            yield xb, xb

    def state_dict(self):
        return {"rng": self._rng.bit_generator.state}

    def fingerprint(self):
        """What a resumed run must batch alike: the windows (a digest) and the batch size."""
        from ..train.checkpoint import digest
        return [digest(self.X), self.batch_size]

    def load_state_dict(self, state):
        self._rng.bit_generator.state = state["rng"]


def dkt_metrics(model, students, max_len=200, batch_size=256):
    """``{"loss", "auc", "accuracy"}`` of a DKT on students (or an (N, T, 2) DKT array), over every next answer:
    minus the mean log-likelihood of the answer, the pooled ROC AUC (None when every scored answer is right, or
    every one wrong: then it is undefined) and the accuracy of "correct if P > 1/2". Students are cut into
    windows of ``max_len`` answers first, as for training.

    Each batch is reduced to its scored predictions before the next one runs, so memory grows with the number
    of answers, never with answers × questions (a thousand questions and a million answers fit); a batch holds
    at most ``EVAL_LOGITS`` logits (fewer windows per batch when there are many questions)."""
    from ..metrics import roc_auc
    X = np.asarray(students) if isinstance(students, np.ndarray) else _windows(students, max_len)
    # the logits of a batch are (B, T, M): at most EVAL_LOGITS numbers at a time, however many questions
    batch_size = max(1, min(int(batch_size), EVAL_LOGITS // max(X.shape[1] * model.num_questions, 1)))
    ys, zs = [], []
    with model.evaluating():
        for xb, _ in WindowLoader(X, batch_size, shuffle=False):
            rows, steps, q, a = next_step(xb)
            logits = model(xb).data
            ys.append(a)
            zs.append(logits[rows, steps, q].astype(np.float64))
    y, z = np.concatenate(ys), np.concatenate(zs)
    if len(y) == 0:
        raise ValueError("dkt_metrics: no student has 2 or more answers: nothing to score")
    # BCE from logits: log(1 + e^z) − y z, stably
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    auc = roc_auc(y, z) if 0 < y.sum() < len(y) else None
    return {"loss": loss, "auc": None if auc is None else float(auc), "accuracy": float(np.mean((z > 0) == (y == 1)))}


@dataclass
class TrainedDKT:
    """What ``train_dkt`` returns."""
    model: DKT
    history: object                                 # th.train.History: the logs of every epoch
    metrics: dict = field(default_factory=dict)     # {"train": dkt_metrics, "test": dkt_metrics} (evaluate=True)
    sequences: dict = field(default_factory=dict)   # windows trained (and scored) on: {"train": n, "test": n}
    seconds: float = 0.0                            # the training (th.fit) alone


def _setup(train, test, model, hidden, cell, dropout, lr, batch_size, max_len, seed, schedule, epochs):
    """(model, optimizer, train loader, schedule, test windows or None, epochs) of a DKT run: what ``fit`` trains
    with, and what a checkpoint of the run must match."""
    from ..optim import Adam, CosineAnnealingLR
    if schedule not in SCHEDULES:
        raise ValueError(f"train_dkt: schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if max_len < 2:
        raise ValueError(f"train_dkt: max_len must be at least 2 (a prediction needs a next answer), got {max_len}")
    sets = {"training": train.drop_short(2)} | ({} if test is None else {"test": test.drop_short(2)})
    for name, s in sets.items():
        if len(s) == 0:
            raise ValueError(f"the {name} set has no student with 2 or more answers: nothing to learn or score")
    X_train = _windows(sets["training"], max_len)                   # (N, T, 2) [question, answer], −1 padding
    X_test = None if test is None else _windows(sets["test"], max_len)
    if model is None:
        model = DKT(train.num_questions, hidden, cell=cell, dropout=dropout, generator=seed)
    loader = WindowLoader(X_train, batch_size, shuffle=True, seed=seed)
    epochs = auto_epochs(len(loader)) if epochs is None else int(epochs)
    optimizer = Adam(model.parameters(), lr=lr)
    scheduler = CosineAnnealingLR(optimizer, T_max=epochs) if schedule == "cosine" else None
    return model, optimizer, loader, scheduler, X_test, epochs


def train_dkt(train, test=None, *, model=None, hidden=DEFAULTS["hidden"], cell="lstm", dropout=DEFAULTS["dropout"],
              epochs=DEFAULTS["epochs"], lr=DEFAULTS["lr"], batch_size=DEFAULTS["batch_size"],
              max_len=DEFAULTS["max_len"], schedule=DEFAULTS["schedule"], seed=0, evaluate=True, verbose=True,
              callbacks=None, checkpoint=None, resume=None, metrics=None):
    """Train a Deep Knowledge Tracing network on the ``train`` students; score it on ``test`` students.

    ``DKT(M, hidden, cell=cell, dropout=dropout, generator=seed)`` (or ``model``) is trained by ``th.fit`` with
    Adam(``lr``) for ``epochs`` passes over the training windows (students cut into windows of ``max_len``
    answers, those with 2 or more kept; ``epochs=None``: ``auto_epochs``, about 2,000 steps), in batches of
    ``batch_size`` windows of similar length (``WindowLoader``, shuffled from ``seed``), minimising

        dkt_loss = −(1/n) Σ log P(a_{t+1} | a_1..a_t)       over every next answer of every window

    ``schedule="cosine"`` anneals the learning rate over the epochs, η_e = ½ lr (1 + cos(π e / epochs)): large
    steps first, small ones at the end, where real students' data starts to be over-fitted.

    Args:
        train: ``Students`` (``th.data``).
        test: ``Students`` (``th.data``), optional, scored after every epoch
            (``val_loss``, ``val_dkt_auc``, ``val_dkt_accuracy`` in the history).
        model: a DKT to train instead of a new one (``hidden``, ``cell`` and ``dropout`` are then unused).
        evaluate: after training, ``metrics["train"]`` and ``metrics["test"]`` (``dkt_metrics``).
        verbose: a progress bar on stderr.
        callbacks: more ``th.train.Callback``s for ``fit``.
        checkpoint: as for ``th.fit``: the whole run written at every epoch's end.
        resume: as for ``th.fit``: a run that goes on from such a file (bit-identical to one never interrupted,
            with one BLAS thread).
        metrics: ignored (kept for old callers: the pooled AUC is computed by ``dkt_metrics`` on whole
            windows, not per batch).
    Returns: ``TrainedDKT(model, history, metrics, sequences, seconds)``.
    Raises: ValueError when a set has no student with 2 or more answers, or ``max_len`` < 2.
    """
    from ..train import fit
    model, optimizer, loader, scheduler, X_test, epochs = _setup(train, test, model, hidden, cell, dropout, lr,
                                                                 batch_size, max_len, seed, schedule, epochs)

    def validate(m):
        s = dkt_metrics(m, X_test)
        return {"loss": s["loss"], "dkt_auc": s["auc"], "dkt_accuracy": s["accuracy"]}

    t0 = time.perf_counter()
    history = fit(model, dkt_loss, optimizer, loader, val_loader=None if X_test is None else validate,
                  epochs=epochs, metrics=(), callbacks=callbacks, verbose=verbose, scheduler=scheduler,
                  checkpoint=checkpoint, resume=resume)
    seconds = time.perf_counter() - t0
    run = TrainedDKT(model, history, sequences={"train": len(loader.X)}, seconds=seconds)
    if X_test is not None:
        run.sequences["test"] = len(X_test)
    if evaluate:
        run.metrics["train"] = dkt_metrics(model, loader.X)
        if X_test is not None:
            run.metrics["test"] = dkt_metrics(model, X_test)
    return run


def check_resume(path, train, test=None, *, model=None, hidden=DEFAULTS["hidden"], cell="lstm",
                 dropout=DEFAULTS["dropout"], lr=DEFAULTS["lr"], batch_size=DEFAULTS["batch_size"],
                 max_len=DEFAULTS["max_len"], schedule=DEFAULTS["schedule"], epochs=DEFAULTS["epochs"], seed=0,
                 config=None):
    """Would ``train_dkt(train, test, ..., resume=path)`` with these arguments accept the checkpoint ``path``?
    ``th.train.check_resume`` for a DKT run: a CheckpointError naming what differs, or the checkpoint's meta."""
    from ..train import check_resume as check
    model, optimizer, loader, scheduler, _, epochs = _setup(train, test, model, hidden, cell, dropout, lr,
                                                            batch_size, max_len, seed, schedule, epochs)
    return check(path, model, optimizer, loader, scheduler, config)
