"""Deep Knowledge Tracing (Piech et al., NeurIPS 2015): a recurrent network reads a student's answers and
predicts, after each one, the probability of answering every question correctly next."""
import math

import numpy as np

from ..autograd import ops
from ..losses import binary_cross_entropy_with_logits
from ..nn.dropout import Dropout
from ..nn.linear import Linear
from ..nn.module import Buffer, Module
from ..nn.recurrent import GRU, LSTM, RNN
from ..tensor import Tensor, as_generator, get_default_dtype
from .students import pad_batch

_CELLS = {"lstm": LSTM, "rnn": RNN, "gru": GRU}


def dkt_batch(questions, answers, mask=None):
    """One (B, T, 2) int64 array from questions q (B, T) and answers a (B, T): [..., 0] = q, [..., 1] = a, with
    q = −1 at padded steps (where ``mask`` is 0). This is the input ``DKT`` and ``dkt_loss`` read."""
    q, a = np.asarray(questions, np.int64), np.asarray(answers, np.int64)
    if q.shape != a.shape or q.ndim != 2:
        raise ValueError(f"dkt_batch: questions and answers must both be (batch, time), got {q.shape} and {a.shape}")
    x = np.stack([q, a], axis=-1)
    if mask is not None:
        x[..., 0][~np.asarray(mask, bool)] = -1
    return x


def _split(x, num_questions):
    X = np.asarray(x.data if isinstance(x, Tensor) else x)
    if X.ndim != 3 or X.shape[-1] != 2 or X.dtype.kind not in "iu":
        raise ValueError(f"DKT input must be an integer array (batch, time, 2) of [question, answer] pairs "
                         f"(see th.models.dkt_batch), got shape {X.shape}, dtype {X.dtype}")
    q, a = X[..., 0], X[..., 1]
    valid = q >= 0
    if (q >= num_questions).any() or (q < -1).any():
        bad = int(q[(q >= num_questions) | (q < -1)][0])
        raise ValueError(f"DKT: question id {bad} is out of range for {num_questions} questions (ids are "
                         f"0..{num_questions - 1}, or -1 for padding)")
    if ((a[valid] != 0) & (a[valid] != 1)).any():
        raise ValueError("DKT: answers must be 0 (wrong) or 1 (correct)")
    return q, a, valid


class DKT(Module):
    """Deep Knowledge Tracing: y_t = σ(W h_t + b),  h_t = LSTM(x_t, h_{t-1}),  x_t = one-hot(q_t + M·a_t).

    The input at step t is the student's interaction: question q_t and whether it was answered correctly a_t,
    one-hot in 2M dimensions (the upper half for correct answers). The output y_t holds M sigmoids: the predicted
    probability of answering each question correctly at the next step; the loss is the binary cross-entropy of
    y_t[q_{t+1}] against a_{t+1} (``dkt_loss``), i.e. minus the log-likelihood of the student's next answer.
    With ``projection=P`` the one-hot is first compressed by a fixed random Gaussian matrix (2M -> P), as the
    paper does for many questions; otherwise it is fed as indices (a gather, not a matrix product).

    Args:
        num_questions: M.
        hidden_size: H (the paper: 200).
        cell: 'lstm', 'gru' or 'rnn' (tanh).
        dropout: on h_t before the output layer (the paper uses it there).
        projection: P, or None.
        num_layers: stacked recurrent layers.
        generator: seed for the initial thetas (and the projection).

    - Input: (B, T, 2) int64 [question, answer] pairs, question −1 at padded steps (``dkt_batch``).
    - Output: (B, T, M) logits; ``predict_proba`` gives the probabilities.
    """

    def __init__(self, num_questions, hidden_size=200, cell="lstm", dropout=0.0, projection=None, num_layers=1,
                 generator=None):
        if cell not in _CELLS:
            raise ValueError(f"DKT: unknown cell {cell!r}; choose one of {sorted(_CELLS)}")
        self.num_questions, self.hidden_size, self.cell = int(num_questions), int(hidden_size), cell
        rng = as_generator(generator)
        m = self.num_questions
        self.projection = None
        if projection:
            p = int(projection)
            self.projection = Buffer(np.zeros((2 * m + 1, p), get_default_dtype()))   # last row: "no input"
            self.projection.data[:2 * m] = rng.standard_normal((2 * m, p)) / math.sqrt(p)  # filled once counted
        n_in = int(projection) if projection else 2 * m
        self.rnn = _CELLS[cell](n_in, self.hidden_size, num_layers=num_layers, generator=rng)
        self.drop = Dropout(dropout, generator=rng)
        self.out = Linear(self.hidden_size, m, generator=rng)

    def forward(self, x, state=None):
        """The logits (B, T, M); ``state`` (from ``run``): go on from there instead of from a fresh student."""
        return self.run(x, state)[0]

    def run(self, x, state=None):
        """(logits, state): the logits (B, T, M) and the recurrent state after step T (h_T, and c_T for an LSTM),
        from which ``run(x_next, state)`` continues the same students: reading a history once and then one more
        step costs T + 1 steps, not T + 1 steps per continuation. Padding is read as "no input", so continue
        only from unpadded sequences."""
        q, a, valid = _split(x, self.num_questions)
        index = np.where(valid, q + self.num_questions * a, -1)
        inputs = index if self.projection is None else self.projection.data[index]
        h, state = self.rnn(inputs, state)                        # padding is at the end: no mask needed
        return self.out(self.drop(h)), state

    def predict_proba(self, x, batch_size=256):
        """P(correct) on every question after each step: (B, T, M) NumPy, eval mode, no graph."""
        with self.evaluating():
            x = np.asarray(x)
            outs = [self(x[i:i + batch_size]).data for i in range(0, len(x), batch_size)]
        z = np.concatenate(outs)
        return 1.0 / (1.0 + np.exp(-z))

    def extra_repr(self):
        return f"num_questions={self.num_questions}, hidden_size={self.hidden_size}, cell={self.cell!r}"


def next_step(x, num_questions=None):
    """The pairs DKT is scored on: for every step t with a step t+1, (batch row, t, q_{t+1}, a_{t+1}).
    Returns index arrays rows, steps, questions and the answers, over valid (t, t+1) pairs only."""
    X = np.asarray(x.data if isinstance(x, Tensor) else x)
    q, a = X[..., 0], X[..., 1]
    ok = (q[:, 1:] >= 0) & (q[:, :-1] >= 0)
    rows, steps = np.nonzero(ok)
    return rows, steps, q[rows, steps + 1], a[rows, steps + 1]


def dkt_loss(logits, x):
    """Mean over every valid (t, t+1) pair of BCE(z_t[q_{t+1}], a_{t+1}) = −(1/n) Σ log P(a_{t+1} | answers ≤ t):
    the DKT objective (minus the mean log-likelihood of each next answer). ``x``: the (B, T, 2) input."""
    rows, steps, q, a = next_step(x)
    if rows.size == 0:
        raise ValueError("dkt_loss: no step has a next answer (every sequence is shorter than 2)")
    z = ops.getitem(logits, (rows, steps, q))
    return binary_cross_entropy_with_logits(z, a.astype(z.dtype))


def dkt_scores(x, probs_or_logits):
    """(y_true, y_score) over every valid next-answer prediction, for ``th.metrics.roc_auc`` and accuracy:
    the pooled evaluation of the paper (no sampling)."""
    rows, steps, q, a = next_step(x)
    return a, np.asarray(probs_or_logits)[rows, steps, q]


def dkt_array(students, max_len=None):
    """A ``Students`` as one padded (N, T, 2) int64 array of [question, answer] pairs, question −1
    after each sequence's end: what ``DKT``, ``dkt_loss`` and a ``th.data.ArrayDataset`` take. Cut long
    sequences first with ``students.windows(max_len)``."""
    b = pad_batch(students, max_len)
    return dkt_batch(b.questions, b.answers, b.mask > 0)


def dkt_auc(x, logits):
    """ROC AUC pooled over every next-answer prediction (the paper's metric; exact, no sampling). A metric for
    ``th.fit``/``th.evaluate``: ``metrics=(dkt_auc, dkt_accuracy)``."""
    from ..metrics import roc_auc
    y, z = dkt_scores(x, logits)
    return roc_auc(y, z)


def dkt_accuracy(x, logits):
    """Accuracy of "correct if P > 1/2" over every next-answer prediction."""
    y, z = dkt_scores(x, logits)
    return float(np.mean((z > 0) == (y == 1))) if len(y) else float("nan")
