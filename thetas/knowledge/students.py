"""Students' answer sequences, and the padded batches a DKT model eats.

``Students`` holds one sequence of (question, answer) pairs per student, with the split by student, the cut into
windows and the filter of short sequences that every DKT experiment needs. ``pad_batch``, ``dkt_batches`` and
``dkt_inputs`` turn them into right-padded arrays and the paper's 2M one-hot inputs.

Conventions: questions are int64 ids 0..M-1, answers int64 0/1 (1 = correct). A batch is right-padded with
zeros and carries a float mask (1 where a real answer). The DKT input is x_t = onehot(q_t + M·a_t) in 2M
dimensions, so a wrong answer to question q lights unit q and a correct one lights unit M + q.
"""
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np


# ---------------------------------------------------------------------------------------------- the container
@dataclass
class Students:
    """Answer sequences, one per student: ``questions[i]`` and ``answers[i]`` (int64 arrays of equal length).

    ``num_questions`` is M (ids run 0..M-1). Optional: ``question_names`` (the original id of each question, as
    strings, when a loader renumbered them), ``student_ids`` (strings, one per student), ``concepts`` (the hidden
    concept of each question, (M,), synthetic data only) and ``notes`` (a dict: what a loader counted or dropped,
    a simulator's parameters). ``students[i] -> (questions_i, answers_i)``; a slice, a list or an array of indices
    gives a ``Students`` of those students (the dataset-level fields are shared).
    """
    questions: list
    answers: list
    num_questions: int
    question_names: tuple = None
    student_ids: list = None
    concepts: np.ndarray = None
    notes: dict = field(default_factory=dict)

    def __post_init__(self):
        self.questions = [np.asarray(q, np.int64).reshape(-1) for q in self.questions]
        self.answers = [np.asarray(a, np.int64).reshape(-1) for a in self.answers]
        self.num_questions = int(self.num_questions)
        if len(self.questions) != len(self.answers):
            raise ValueError(f"Students: {len(self.questions)} question sequences but {len(self.answers)} answer "
                             "sequences; there must be one of each per student")
        for i, (q, a) in enumerate(zip(self.questions, self.answers)):
            if len(q) != len(a):
                raise ValueError(f"Students: student {i} has {len(q)} questions but {len(a)} answers")
        if self.questions:
            q, a = np.concatenate(self.questions), np.concatenate(self.answers)
            if len(q) and (q.min() < 0 or q.max() >= self.num_questions):
                raise ValueError(f"Students: question ids must lie in 0..{self.num_questions - 1} "
                                 f"(num_questions={self.num_questions}), found {q.min()}..{q.max()}")
            if len(a) and not np.isin(a, (0, 1)).all():
                bad = a[~np.isin(a, (0, 1))][0]
                raise ValueError(f"Students: answers must be 0 (wrong) or 1 (correct), found {bad}")
        if self.student_ids is not None:
            self.student_ids = list(self.student_ids)
            if len(self.student_ids) != len(self.questions):
                raise ValueError(f"Students: {len(self.student_ids)} student_ids for {len(self.questions)} students")
        if self.question_names is not None:
            self.question_names = tuple(self.question_names)
            if len(self.question_names) != self.num_questions:
                raise ValueError(f"Students: {len(self.question_names)} question_names for "
                                 f"{self.num_questions} questions")

    def __len__(self):
        return len(self.questions)

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            return self.questions[i], self.answers[i]
        idx = range(len(self))[i] if isinstance(i, slice) else np.arange(len(self))[np.asarray(i)]
        return self._take(list(idx))

    def _take(self, idx, **notes):
        ids = None if self.student_ids is None else [self.student_ids[j] for j in idx]
        return replace(self, questions=[self.questions[j] for j in idx], answers=[self.answers[j] for j in idx],
                       student_ids=ids, notes={**self.notes, **notes})

    def lengths(self):
        """The number of answers of each student, int64 (N,)."""
        return np.array([len(q) for q in self.questions], np.int64)

    def split(self, test_fraction=0.5, seed=0, num_test=None):
        """``(train, test)``: a random split BY STUDENT, so no student has answers on both sides.

        ``num_test`` students (or round(test_fraction · N)) go to the test set; both parts keep the original
        order of the students. The same ``seed`` gives the same split. Split before ``windows``, so a long
        sequence's windows stay on one side. ``split_indices`` gives the students' indices instead.
        """
        train, test = self.split_indices(test_fraction, seed, num_test)
        return self._take(train), self._take(test)

    def split_indices(self, test_fraction=0.5, seed=0, num_test=None):
        """``(train_idx, test_idx)``: the indices of the students ``split`` puts on each side (sorted int64)."""
        n = len(self)
        k = int(round(test_fraction * n)) if num_test is None else int(num_test)
        if not 0 <= k <= n:
            raise ValueError(f"Students.split: {k} test students asked for, but there are {n}")
        test = np.zeros(n, bool)
        test[np.random.default_rng(seed).permutation(n)[:k]] = True
        return np.flatnonzero(~test), np.flatnonzero(test)

    def windows(self, max_len=100):
        """Every sequence cut into consecutive windows of at most ``max_len`` answers, each window a "student".

        The common DKT practice for long histories (a batch is then at most max_len steps long): the network
        starts each window with a fresh state, so it forgets what came before the cut. Windows keep the student's
        id; an empty sequence gives no window; a last window may be short (even 1 answer: ``drop_short`` after).
        """
        if int(max_len) != max_len or max_len < 1:
            raise ValueError(f"Students.windows: max_len must be a whole number >= 1, got {max_len!r}")
        max_len = int(max_len)
        qs, as_, ids = [], [], []
        for i, (q, a) in enumerate(zip(self.questions, self.answers)):
            for s in range(0, len(q), max_len):
                qs.append(q[s:s + max_len])
                as_.append(a[s:s + max_len])
                ids.append(None if self.student_ids is None else self.student_ids[i])
        return replace(self, questions=qs, answers=as_, student_ids=None if self.student_ids is None else ids,
                       notes=dict(self.notes))

    def drop_short(self, min_len=2):
        """The students with at least ``min_len`` answers (DKT needs 2 to score one next-step prediction); the
        number dropped is added to ``notes["dropped_short"]``."""
        keep = np.flatnonzero(self.lengths() >= min_len)
        return self._take(keep, dropped_short=self.notes.get("dropped_short", 0) + len(self) - len(keep))

    def with_question_names(self, names):
        """The same students with their questions renumbered to index ``names`` (a list of original ids that
        holds every one of theirs, e.g. the union of a training and a test file's): question ``k`` becomes
        ``names.index(question_names[k])``; ``num_questions = len(names)``."""
        names = tuple(str(v) for v in names)
        mine = self.question_names if self.question_names is not None else tuple(map(str, range(self.num_questions)))
        where = {v: i for i, v in enumerate(names)}
        missing = [v for v in mine if v not in where]
        if missing:
            raise ValueError(f"Students.with_question_names: question {missing[0]!r} is not among the "
                             f"{len(names)} names given")
        table = np.array([where[v] for v in mine], np.int64)
        return replace(self, questions=[table[q] for q in self.questions], answers=list(self.answers),
                       num_questions=len(names), question_names=names, concepts=None, notes=dict(self.notes))

    def __repr__(self):
        n = self.lengths()
        span = f", lengths {n.min()}..{n.max()}" if len(n) else ""
        return f"Students({len(self)} students, {int(n.sum())} answers, num_questions={self.num_questions}{span})"


def align_questions(train, *others):
    """``train`` and the ``others`` (test sets) renumbered over the union of their question ids, so one model
    covers every question any of them asks. Numeric ids keep their numeric order (a file's question 64 stays
    named "64" and sorts between 63 and 65), other names sort as text. Each of ``others`` gets
    ``notes["unseen_questions"]`` (ids that ``train`` never asks) and ``notes["unseen_answers"]`` (its answers to
    them): a network has learned nothing about those questions, and its predictions there are a guess."""
    def names(s):
        return s.question_names if s.question_names is not None else tuple(map(str, range(s.num_questions)))
    union = set(names(train)).union(*(names(o) for o in others))
    numeric = all(v.isascii() and v.isdigit() for v in union)
    order = tuple(sorted(union, key=int if numeric else str))
    out = [train.with_question_names(order)]
    for o in others:
        aligned = o.with_question_names(order)
        questions, answers = unseen(out[0], aligned)
        aligned.notes.update(unseen_questions=questions, unseen_answers=answers)
        out.append(aligned)
    return tuple(out)


def unseen(train, test):
    """``(questions, answers)``: how many of ``test``'s questions no student of ``train`` ever answers, and how
    many of ``test``'s answers are to them (both numbered alike: ``align_questions``)."""
    def asked(s):
        return np.concatenate(s.questions) if len(s) else np.zeros(0, np.int64)
    q = asked(test)
    new = ~np.isin(q, asked(train))
    return int(np.unique(q[new]).size), int(new.sum())


# --------------------------------------------------------------------------------------- batches for DKT
class Batch(NamedTuple):
    """Right-padded sequences of B students, T = the longest (or ``max_len``); padding is 0 with mask 0."""
    questions: np.ndarray   # (B, T) int64
    answers: np.ndarray     # (B, T) int64, 1 correct
    mask: np.ndarray        # (B, T) float32, 1 where a real answer
    lengths: np.ndarray     # (B,) int64


class DKTInputs(NamedTuple):
    """What a DKT model reads (x) and is scored on (the next step's question and answer, where both exist)."""
    x: np.ndarray               # (B, T, 2M) float32, x_t = onehot(q_t + M·a_t), zero on padding
    next_questions: np.ndarray  # (B, T-1) int64, q_{t+1}: the question whose P(correct) output t predicts
    next_answers: np.ndarray    # (B, T-1) float32, a_{t+1}: the target of that prediction
    target_mask: np.ndarray     # (B, T-1) float32, 1 where steps t and t+1 are both real answers


def pad_batch(students, max_len=None):
    """A ``Batch`` of a ``Students`` or of a list of ``(questions, answers)`` pairs, right-padded with zeros.

    T is the longest sequence, or ``max_len`` when given (a longer sequence is an error: cut it first with
    ``Students.windows(max_len)``).
    """
    pairs = list(zip(students.questions, students.answers)) if isinstance(students, Students) else list(students)
    lengths = np.array([len(q) for q, _ in pairs], np.int64)
    T = int(lengths.max(initial=0)) if max_len is None else int(max_len)
    if len(lengths) and lengths.max() > T:
        raise ValueError(f"pad_batch: a sequence has {lengths.max()} answers but max_len={T}; cut long sequences "
                         "with Students.windows(max_len) first")
    mask = np.arange(T) < lengths[:, None]                                    # (B, T) bool
    q = np.zeros((len(pairs), T), np.int64)
    a = np.zeros((len(pairs), T), np.int64)
    if len(pairs):
        q[mask] = np.concatenate([np.asarray(p[0], np.int64).reshape(-1) for p in pairs])
        a[mask] = np.concatenate([np.asarray(p[1], np.int64).reshape(-1) for p in pairs])
    return Batch(q, a, mask.astype(np.float32), lengths)


def dkt_batches(students, batch_size=32, shuffle=True, seed=None, bucket=False, drop_last=False):
    """Yield padded ``Batch``es of ``batch_size`` students: one pass over ``students`` (an epoch).

    ``shuffle`` draws a fresh order from ``seed``: an int (the same order every call) or an
    ``np.random.Generator`` (pass one and reuse it, and every epoch gets a new order). ``bucket`` puts students
    of similar length together (sorted by length after the shuffle, the batches then visited in random order),
    so batches carry less padding. ``drop_last`` skips a last, smaller batch.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = len(students)
    order = rng.permutation(n) if shuffle else np.arange(n)
    if bucket:
        order = order[np.argsort(students.lengths()[order], kind="stable")]
    stop = n - n % batch_size if drop_last else n
    starts = np.arange(0, stop, batch_size)
    if bucket and shuffle:
        starts = rng.permutation(starts)
    for s in starts:
        yield pad_batch(students[order[s:s + batch_size]])


def dkt_inputs(questions, answers, num_questions, mask=None):
    """The DKT input one-hots and next-step targets of padded (B, T) questions and answers.

        x_t = onehot(q_t + M·a_t) ∈ {0, 1}^(2M)     units 0..M-1: q_t answered wrong; M..2M-1: answered right

    Output t of the network (having read x_1..x_t) predicts P(correct) on every question; it is scored on
    q_{t+1} only, against a_{t+1}: so use outputs ``y[:, :-1]`` (B, T-1, M) with ``next_questions`` and
    ``next_answers``, weighted by ``target_mask``. ``mask`` (B, T) marks real answers (all, when None); padded
    steps get an all-zero x_t. Returns ``DKTInputs``.
    """
    q, a = np.asarray(questions, np.int64), np.asarray(answers, np.int64)
    if q.ndim != 2 or q.shape != a.shape:
        raise ValueError(f"dkt_inputs: questions and answers must both be (B, T), got {q.shape} and {a.shape}")
    M = int(num_questions)
    m = np.ones(q.shape, np.float32) if mask is None else np.asarray(mask, np.float32)
    real = m > 0
    if real.any() and (q[real].min() < 0 or q[real].max() >= M or not np.isin(a[real], (0, 1)).all()):
        raise ValueError(f"dkt_inputs: question ids must lie in 0..{M - 1} and answers be 0/1 where mask is 1")
    index = np.where(real, q + M * a, 0)                                       # (B, T)
    x = np.zeros(q.shape + (2 * M,), np.float32)                               # (B, T, 2M)
    np.put_along_axis(x, index[..., None], m[..., None], axis=-1)              # padding puts a 0: stays all zero
    return DKTInputs(x, q[:, 1:], a[:, 1:].astype(np.float32), m[:, 1:] * m[:, :-1])
