"""Training a DKT on a set of students, the one recipe behind ``thetas dkt`` and the lab's Knowledge page.

    train, test = th.data.synthetic_5()
    run = th.knowledge.train_dkt(train, test, hidden=200, epochs=10)
    run.model, run.history, run.metrics["test"]["auc"]

The recipe: students with fewer than 2 answers are dropped (one answer has no next answer to predict), longer
sequences are cut into windows of ``max_len`` answers, and a ``DKT`` is trained with Adam by ``th.fit`` on
minus the log-likelihood of every next answer (``dkt_loss``).
"""
import time
from dataclasses import dataclass, field

import numpy as np

from .model import DKT, dkt_accuracy, dkt_array, dkt_auc, dkt_loss

TEST_FRACTION = 0.2     # a file without its own test students: this fraction of them (all their answers) held out


def held_out(students, test_fraction=TEST_FRACTION, seed=0):
    """``(train_idx, test_idx)``: round(test_fraction · N) of the students held out (at least one), drawn with
    ``seed``; a split by student (``Students.split_indices``), so no student has answers on both sides."""
    return students.split_indices(num_test=max(1, round(test_fraction * len(students))), seed=seed)


def _windows(students, max_len):
    """The (N, T, 2) DKT array of the students' windows of at most ``max_len`` answers, each with 2 or more."""
    return dkt_array(students.windows(max_len).drop_short(2))


def dkt_metrics(model, students, max_len=100, batch_size=256):
    """``{"loss", "auc", "accuracy"}`` of a DKT on students (or an (N, T, 2) DKT array), over every next answer:
    minus the mean log-likelihood of the answer, the pooled ROC AUC (None when every scored answer is right, or
    every one wrong: then it is undefined) and the accuracy of "correct if P > 1/2". Students are cut into
    windows of ``max_len`` answers first, as for training."""
    from ..train import evaluate
    X = np.asarray(students) if isinstance(students, np.ndarray) else _windows(students, max_len)
    m = evaluate(model, dkt_loss, (X, X), metrics=(dkt_auc, dkt_accuracy), batch_size=batch_size)
    return {"loss": m["loss"], "auc": m.get("dkt_auc"), "accuracy": m["dkt_accuracy"]}


@dataclass
class TrainedDKT:
    """What ``train_dkt`` returns."""
    model: DKT
    history: object                                 # th.train.History: the logs of every epoch
    metrics: dict = field(default_factory=dict)     # {"train": dkt_metrics, "test": dkt_metrics} (evaluate=True)
    sequences: dict = field(default_factory=dict)   # windows trained (and scored) on: {"train": n, "test": n}
    seconds: float = 0.0                            # the training (th.fit) alone


def train_dkt(train, test=None, *, model=None, hidden=200, cell="lstm", dropout=0.0, epochs=10, lr=1e-2,
              batch_size=32, max_len=100, seed=0, metrics=(dkt_auc, dkt_accuracy), evaluate=True, verbose=True,
              callbacks=None):
    """Train a Deep Knowledge Tracing network on the ``train`` students; score it on ``test`` students.

    ``DKT(M, hidden, cell=cell, dropout=dropout, generator=seed)`` (or ``model``) is trained by ``th.fit`` with
    Adam(``lr``) for ``epochs`` passes over the training windows (students cut into windows of ``max_len``
    answers, those with 2 or more kept), in batches of ``batch_size`` shuffled from ``seed``, minimising

        dkt_loss = −(1/n) Σ log P(a_{t+1} | a_1..a_t)       over every next answer of every window

    Args:
        train, test: ``Students`` (``th.data``); ``test`` (optional) is evaluated after every epoch (``val_*``).
        model: a DKT to train instead of a new one (``hidden``, ``cell`` and ``dropout`` are then unused).
        metrics: what ``fit`` logs every epoch besides the loss (``()`` trains fastest: no outputs are kept).
        evaluate: after training, ``metrics["train"]`` and ``metrics["test"]`` (``dkt_metrics``).
        verbose: a progress bar on stderr.  callbacks: more ``th.train.Callback``s for ``fit``.
    Returns: ``TrainedDKT(model, history, metrics, sequences, seconds)``.
    Raises: ValueError when a set has no student with 2 or more answers, or ``max_len`` < 2.
    """
    from ..data.loader import DataLoader
    from ..optim import Adam
    from ..train import fit
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
    optimizer = Adam(model.parameters(), lr=lr)
    t0 = time.perf_counter()
    history = fit(model, dkt_loss, optimizer, DataLoader((X_train, X_train), batch_size=batch_size, shuffle=True,
                                                         seed=seed),
                  val_loader=None if X_test is None else (X_test, X_test), epochs=epochs, metrics=metrics,
                  callbacks=callbacks, verbose=verbose)
    seconds = time.perf_counter() - t0
    run = TrainedDKT(model, history, sequences={"train": len(X_train)}, seconds=seconds)
    if X_test is not None:
        run.sequences["test"] = len(X_test)
    if evaluate:
        run.metrics["train"] = dkt_metrics(model, X_train)
        if X_test is not None:
            run.metrics["test"] = dkt_metrics(model, X_test)
    return run
