"""Knowledge tracing data: students' answer sequences for Deep Knowledge Tracing (Piech et al., NeurIPS 2015).

The story of Riley: a student answers question q_1 (right or wrong, a_1), then q_2, ... What does Riley know,
and will Riley get the next question right? DKT reads the pairs (q_t, a_t) with a recurrent network whose hidden
state is the student's changing knowledge, and at every step predicts P(correct) on every question.

Here: ``Students`` (the sequences), the paper's simulated students (``synthetic_students``, ``synthetic_5``), two
loaders of real data (the DKT code's three-lines-per-student files and the ASSISTments 2009 skill-builder CSV),
and the padding and one-hot encoding a DKT model eats (``pad_batch``, ``dkt_batches``, ``dkt_inputs``).

Conventions: questions are int64 ids 0..M-1, answers int64 0/1 (1 = correct). A batch is right-padded with
zeros and carries a float mask (1 where a real answer). The DKT input is x_t = onehot(q_t + M·a_t) in 2M
dimensions, so a wrong answer to question q lights unit q and a correct one lights unit M + q.
"""
import csv as _csv
import io
import os
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

    def __repr__(self):
        n = self.lengths()
        span = f", lengths {n.min()}..{n.max()}" if len(n) else ""
        return f"Students({len(self)} students, {int(n.sum())} answers, num_questions={self.num_questions}{span})"


# ---------------------------------------------------------------------------------------- simulated students
def synthetic_students(num_students=4000, num_questions=50, num_concepts=5, seed=0, guess=0.25, skill_gain=0.6,
                       skill_sd=1.5, learn_from="correct", difficulty=None):
    """The paper's simulated students (Simulated-5 with the defaults): Item Response Theory plus learning.

    Question j has one hidden concept c_j (assigned at random, every concept getting ⌊M/C⌋ or ⌈M/C⌉ questions)
    and a difficulty β_j ~ N(0, 1). Student s has a skill α_{s,c} per concept, α_0 ~ N(0, ``skill_sd``²)
    independently. Every student answers all M questions once, in the same random order (fixed for the
    dataset), and

        P(correct) = c + (1 − c) / (1 + exp(β_j − α_{s,c_j}))       c = ``guess`` (a random guess is right 1/4)

    "Students learn over time via an increase to the concept skill which corresponded to the exercise they
    answered": after each answer, α_{s,c_j} += ``skill_gain``; with ``learn_from="correct"`` (the default) only
    after a correct answer, with ``"any"`` after every answer.

    The paper gives neither the distributions nor the size of the gain, and they decide how predictable the
    students are at all. ``optimal_predictions`` computes the best any model can do (the Bayes posterior with
    the true parameters); its pooled AUC on the 2,000 test students of ``synthetic_5``:

        α_0 ~ N(0, 1), +0.1 after any answer                  0.71   (the per-question base rate alone: 0.69)
        α_0 ~ N(0, 1), +0.45 after a correct answer           0.78   (0.71)
        α_0 ~ N(0, 1.5²), +0.6 after a correct answer         0.83   (0.72)   <- the defaults
        α_0 ~ N(0, 1), +0.45 after any answer                 0.81   (0.80: mostly "later is easier")

    The defaults are the mildest setting tried whose ceiling is above the paper's DKT result (AUC 0.82), with the
    predictability coming from each student's answers, not from the position in the sequence; learning from
    correct answers follows a public re-implementation of Simulated-k (gain ≈ 0.45 after a correct answer).

    ``difficulty`` (M,) sets β instead of drawing it (the random draws are the same either way, so the same seed
    gives the same concepts, order and skills). Returns ``Students`` with ``concepts`` (M,) set and ``notes``
    holding ``difficulty`` (β, (M,)), ``order`` (the question sequence), ``guess``, ``skill_gain``,
    ``skill_sd`` and ``learn_from``. Vectorised over students (a loop over the M steps only); same seed, same data.
    """
    if num_concepts < 1 or num_questions < num_concepts:
        raise ValueError(f"synthetic_students: need 1 <= num_concepts <= num_questions, got {num_concepts} "
                         f"concepts for {num_questions} questions")
    if not 0 <= guess < 1:
        raise ValueError(f"synthetic_students: guess must be a probability in [0, 1), got {guess!r}")
    if learn_from not in ("correct", "any"):
        raise ValueError(f"synthetic_students: learn_from must be 'correct' or 'any', got {learn_from!r}")
    rng = np.random.default_rng(seed)
    concepts = rng.permutation(np.arange(num_questions) % num_concepts)       # (M,)
    beta = rng.normal(0.0, 1.0, num_questions)                                # β, (M,)
    if difficulty is not None:
        beta = np.broadcast_to(np.asarray(difficulty, np.float64), (num_questions,)).copy()
    order = rng.permutation(num_questions)                                    # the one sequence all students answer
    skill = rng.normal(0.0, skill_sd, (num_students, num_concepts))           # α, (N, C)
    answers = np.empty((num_students, num_questions), np.int64)               # (N, T), T = M
    for t, j in enumerate(order):
        c = concepts[j]
        p = guess + (1 - guess) / (1 + np.exp(beta[j] - skill[:, c]))        # (N,)
        answers[:, t] = rng.random(num_students) < p
        skill[:, c] += skill_gain * (answers[:, t] if learn_from == "correct" else 1)
    notes = {"source": "synthetic", "difficulty": beta, "order": order, "guess": guess,
             "skill_gain": skill_gain, "skill_sd": skill_sd, "learn_from": learn_from}
    return Students([order] * num_students, list(answers), num_questions, concepts=concepts, notes=notes)


def optimal_predictions(students, grid=241):
    """The best possible next-answer predictions for simulated students: P(correct) at every step given the
    student's earlier answers, by Bayes' rule with the simulator's true parameters (a grid posterior over each
    concept's initial skill α_0). Returns (N, T) probabilities (step 0: the prior prediction). No model can beat
    its pooled AUC on average: it is the ceiling a DKT is measured against."""
    notes = students.notes
    if notes.get("source") != "synthetic":
        raise ValueError("optimal_predictions needs students from synthetic_students (it uses their true parameters)")
    A = np.stack(students.answers)
    order, beta, concepts = notes["order"], notes["difficulty"], students.concepts
    guess, gain, sd = notes["guess"], notes["skill_gain"], notes["skill_sd"]
    n, k = len(A), int(concepts.max()) + 1
    alpha0 = np.linspace(-6 * sd, 6 * sd, grid)
    post = np.tile(np.exp(-0.5 * (alpha0 / sd) ** 2), (n, k, 1))
    post /= post.sum(-1, keepdims=True)
    learned = np.zeros((n, k))                                     # what each student's skill has grown by
    out = np.empty(A.shape)
    for t, j in enumerate(order):
        c = concepts[j]
        p = guess + (1 - guess) / (1 + np.exp(beta[j] - (alpha0[None, :] + learned[:, c:c + 1])))   # (n, grid)
        out[:, t] = (post[:, c] * p).sum(-1)
        post[:, c] *= np.where(A[:, t:t + 1] == 1, p, 1 - p)
        post[:, c] /= post[:, c].sum(-1, keepdims=True)
        learned[:, c] += gain * (A[:, t] if notes["learn_from"] == "correct" else 1)
    return out


def synthetic_5(seed=0):
    """``(train, test)``: the paper's Simulated-5 protocol, 50 questions over 5 hidden concepts, a model trained on
    2,000 simulated students and tested on 2,000 others (of one ``synthetic_students(4000, 50, 5, seed)`` run)."""
    students = synthetic_students(4000, 50, 5, seed=seed)
    return students[:2000], students[2000:]


# ---------------------------------------------------------------------------------------- the DKT text format
def _items(path, line_no, text, what):
    """The comma-separated non-negative integers of a line, int64; a trailing comma and spaces are allowed."""
    items = [s.strip() for s in text.split(",")]
    if items[-1] == "":
        items.pop()                                # "1,2," and "" (no items)
    if not items:
        return np.zeros(0, np.int64)
    cells = np.array(items, dtype=str)
    if np.char.isdigit(cells).all():                # digits only: no sign, no "4_5" (Python's int reads 45)
        try:
            return cells.astype(np.int64)
        except (ValueError, OverflowError):
            pass
    for k, s in enumerate(items, start=1):
        if not (s.isascii() and s.isdigit()):
            problem = "is empty" if s == "" else f"{s!r} is not a non-negative whole number"
            raise ValueError(f"{path}, line {line_no}: {what} {k} {problem}")
    raise ValueError(f"{path}, line {line_no}: a {what} is too large a number")


def load_dkt_csv(path, question_names=None):
    """Students from the DKT code's text format: three lines per student.

        n                  the number of answers (the DKT-DSC variant "n,student_id" is read too)
        q_1,q_2,...,q_n    question (skill) ids, non-negative integers
        a_1,a_2,...,a_n    answers, 1 correct and 0 wrong

    A trailing comma may end a line, items may carry spaces, blank lines may end the file; the text is read as
    UTF-8 (with or without a byte-order mark), else Latin-1. Question ids may be
    any non-negative integers: they are renumbered 0..M-1 in sorted order of the original id, and
    ``question_names`` keeps the originals (as strings). To read a test file with the ids of a training file,
    pass ``question_names=train.question_names``: an id not among them is an error. Every record is kept (even
    one of 0 or 1 answers: ``drop_short`` removes those, as the DKT code does for n < 2).

    A malformed file raises a ValueError naming the file and line: a count that is not a number or disagrees
    with the number of ids or answers, an id that is not a non-negative integer, an answer other than 0/1, a
    blank line inside the file, or a file that ends in the middle of a student.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_dkt_csv: no such file: {path}")
    lines = _read_text(path)[0].splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise ValueError(f"{path}: the file is empty; it needs three lines per student (count, ids, answers)")
    questions, answers, ids = [], [], []
    for start in range(0, len(lines), 3):
        line = start + 1                                         # line numbers as an editor shows them
        if start + 3 > len(lines):
            raise ValueError(f"{path}, line {line}: the file ends in the middle of a student: this record has "
                             f"{len(lines) - start} of its 3 lines (count, question ids, answers)")
        head = [s.strip() for s in lines[start].split(",")]
        if head[-1] == "" and len(head) > 1:
            head.pop()
        if head == [""]:
            raise ValueError(f"{path}, line {line}: a blank line where the number of answers of a student should be")
        if len(head) > 2 or not (head[0].isascii() and head[0].isdigit()):
            raise ValueError(f"{path}, line {line}: expected the number of answers of a student (or "
                             f"'n,student_id'), found {lines[start].strip()!r}")
        n = int(head[0])
        q = _items(path, line + 1, lines[start + 1], "question id")
        a = _items(path, line + 2, lines[start + 2], "answer")
        for k, (what, v) in enumerate((("question ids", q), ("answers", a)), start=1):
            if len(v) != n:
                raise ValueError(f"{path}, line {line + k}: {len(v)} {what}, but line {line} says this student "
                                 f"has {n} answers")
        if n and not np.isin(a, (0, 1)).all():
            k = int(np.flatnonzero(~np.isin(a, (0, 1)))[0])
            raise ValueError(f"{path}, line {line + 2}: answer {k + 1} is {a[k]}; answers must be 0 or 1")
        questions.append(q)
        answers.append(a)
        ids.append(head[1] if len(head) == 2 else None)
    id_lines = np.repeat(np.arange(2, 3 * len(questions), 3), [len(q) for q in questions])
    questions, names = _renumber(questions, question_names, path, where=lambda k: f"line {id_lines[k]}")
    return Students(questions, answers, len(names), question_names=names,
                    student_ids=ids if None not in ids else None,
                    notes={"source": path, "students": len(answers), "answers": sum(map(len, answers))})


def _renumber(sequences, names, path, where):
    """Original ids -> 0..M-1 (sorted by original id, or by position in ``names``); returns (sequences, names)."""
    if not sequences:
        return [], () if names is None else tuple(str(v) for v in names)
    flat = np.concatenate(sequences)
    if names is None:
        originals, flat = np.unique(flat, return_inverse=True)
        names = tuple(str(v) for v in originals)
    else:
        names = tuple(str(v) for v in names)
        lookup = {int(v): i for i, v in enumerate(names)}
        new = np.array([lookup.get(int(v), -1) for v in flat], np.int64)
        if (new < 0).any():
            k = int(np.flatnonzero(new < 0)[0])
            raise ValueError(f"{path}, {where(k)}: question id {flat[k]} is not among the {len(names)} "
                             "question_names given")
        flat = new
    return np.split(flat.astype(np.int64), np.cumsum([len(s) for s in sequences])[:-1]), names


FORMATS = ("dkt-csv", "assistments")


def guess_format(path):
    """'assistments' when the first non-blank line has letters (a CSV header), else 'dkt-csv' (three lines per
    student: count, question ids, answers)."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        first = next((line for line in f if line.strip()), "")
    return "assistments" if any(ch.isalpha() for ch in first) else "dkt-csv"


def load_students(path, format=None, question_names=None):
    """Students from a file in either format: ``load_dkt_csv`` ('dkt-csv') or ``load_assistments_csv``
    ('assistments'); ``format=None`` guesses from the first non-blank line (``guess_format``)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_students: no such file: {path}")
    format = format or guess_format(path)
    if format not in FORMATS:
        raise ValueError(f"load_students: format must be one of {', '.join(FORMATS)}, got {format!r}")
    reader = load_dkt_csv if format == "dkt-csv" else load_assistments_csv
    return reader(path, question_names=question_names)


# ------------------------------------------------------------------------------------ ASSISTments 2009 CSV
_MISSING = {"", "na", "nan", "null", "none"}


def _read_text(path):
    """The file's text, as UTF-8 (with or without a byte-order mark), else Latin-1; and the encoding used."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _whole_numbers(path, values, lines, column):
    """A column of cells as int64; "12" and "12.0" are fine, anything else names the file, line and column."""
    cells = np.array(values, dtype=str)
    try:
        x = cells.astype(np.float64)
    except ValueError:                             # find the culprit, one cell at a time
        x = np.array([_float(v) for v in values], np.float64)
    ok = np.isfinite(x) & (x == np.round(x)) & (np.char.find(cells, "_") < 0)   # float("4_5") is 45
    if not ok.all():
        k = int(np.flatnonzero(~ok)[0])
        what = "is empty" if not values[k] else f"{values[k]!r} is not a whole number"
        raise ValueError(f"{path}, line {lines[k]}, column {column!r}: {what}")
    return x.astype(np.int64)


def _float(cell):
    try:
        return float(cell)
    except ValueError:
        return np.nan


def load_assistments_csv(path, question="skill_id", question_names=None):
    """Students from the public ASSISTments 2009 skill-builder CSV (one row per answer, a header row).

    Required columns: ``order_id``, ``user_id``, ``correct`` (0/1) and the ``question`` column. As in the DKT
    paper the "question" of an answer is its skill (``question="skill_id"``); ``question="problem_id"`` gives one
    question per problem instead. Processing, in this order:

    1. exact duplicate rows (every cell equal) are dropped, the first kept;
    2. rows with no value in the question column (empty, NA, nan) are dropped: in the 2009 file many answers
       carry no skill. A problem tagged with several skills has one row per skill, and each is kept;
    3. one sequence per ``user_id``, its answers in ``order_id`` order (rows sharing an order_id keep file order),
       the students sorted by numeric user id; every student is kept (``drop_short`` removes short ones);
    4. question ids are renumbered 0..M-1 in sorted order of the original id (``question_names`` keeps them as
       strings; pass a training set's ``question_names`` to number a test file alike).

    Nothing is dropped silently: ``notes`` counts ``rows`` (data rows read), ``dropped_duplicates``,
    ``dropped_no_skill`` (``dropped_no_problem`` for problem_id) and ``kept`` (rows = the three added).
    The file is read as UTF-8, else Latin-1. A missing required column, a row with the wrong number of cells or
    a value that is not a whole number (or a ``correct`` not 0/1) raises a ValueError naming file, line, column.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_assistments_csv: no such file: {path}")
    if question not in ("skill_id", "problem_id"):
        raise ValueError(f"load_assistments_csv: question must be 'skill_id' or 'problem_id', got {question!r}")
    text, encoding = _read_text(path)
    reader = _csv.reader(io.StringIO(text, newline=""))
    header = None
    for header in reader:
        header = [h.strip() for h in header]
        if any(header):
            break
    if not header or not any(header):
        raise ValueError(f"{path}: the file is empty; it needs a header row and one row per answer")
    header_line = reader.line_num
    required = ("order_id", "user_id", "correct", question)
    for name in required:
        if name not in header:
            raise ValueError(f"{path}, line {header_line}: no column {name!r} in the header; the columns are "
                             f"{', '.join(header)}")
    cols = [header.index(name) for name in required]

    seen, lines, cells = set(), [], []
    rows = duplicates = 0
    for row in reader:
        row = tuple(map(str.strip, row))
        if not any(row):
            continue                                             # a blank line holds no answer
        rows += 1
        if len(row) != len(header):
            raise ValueError(f"{path}, line {reader.line_num}: {len(row)} cells, but the header has "
                             f"{len(header)} columns")
        if row in seen:
            duplicates += 1
            continue
        seen.add(row)
        lines.append(reader.line_num)
        cells.append([row[c] for c in cols])
    del seen
    order_s, user_s, correct_s, q_s = zip(*cells) if cells else ((),) * 4

    has_q = np.array([v.lower() not in _MISSING for v in q_s], bool)
    order = _whole_numbers(path, order_s, lines, "order_id")
    user = _whole_numbers(path, user_s, lines, "user_id")
    correct = _whole_numbers(path, correct_s, lines, "correct")
    if not np.isin(correct, (0, 1)).all():
        k = int(np.flatnonzero(~np.isin(correct, (0, 1)))[0])
        raise ValueError(f"{path}, line {lines[k]}, column 'correct': {correct_s[k]!r}; it must be 0 or 1")
    keep = np.flatnonzero(has_q)
    qid = _whole_numbers(path, [q_s[k] for k in keep], [lines[k] for k in keep], question)
    order, user, correct, kept_lines = order[keep], user[keep], correct[keep], np.asarray(lines, np.int64)[keep]

    by = np.lexsort((order, user))                              # by user, then order_id; stable for ties
    order, user, correct, qid, kept_lines = order[by], user[by], correct[by], qid[by], kept_lines[by]
    starts = np.flatnonzero(np.r_[True, user[1:] != user[:-1]]) if len(user) else np.zeros(0, np.int64)
    cut = lambda x: np.split(x, starts[1:]) if len(x) else []   # noqa: E731  one piece per student
    questions, names = _renumber(cut(qid), question_names, path,
                                 where=lambda k: f"line {kept_lines[k]}, column {question!r}")
    notes = {"source": path, "encoding": encoding, "question": question, "rows": rows,
             "dropped_duplicates": duplicates, f"dropped_no_{question[:-3]}": int((~has_q).sum()),
             "kept": len(keep)}
    return Students(questions, cut(correct), len(names), question_names=names,
                    student_ids=[str(u) for u in user[starts]], notes=notes)


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
