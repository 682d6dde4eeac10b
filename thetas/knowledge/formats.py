"""Real students from files: the DKT code's three-lines-per-student text format and the ASSISTments 2009
skill-builder CSV. ``load_students`` reads either (``guess_format`` tells them apart); both renumber the
questions 0..M-1 and keep the original ids as ``question_names``. A malformed file raises a ValueError that
names the file, the line and (for a CSV) the column."""
import decimal
import io
import os
import re

import numpy as np

from ..data.csv import _rows
from .students import Students


# ---------------------------------------------------------------------------------------- the DKT text format
_PLAIN = re.compile(r"[ \t]*[0-9]{1,18}(?:[ \t]*,[ \t]*[0-9]{1,18})*[ \t]*,?[ \t]*")   # short ids: exact in int64


def _items(path, line_no, text, what):
    """The comma-separated non-negative integers of a line, int64; a trailing comma and spaces are allowed."""
    if _PLAIN.fullmatch(text):                      # the common case, at C speed: digits only, 18 at most each
        return np.array(list(map(int, text.strip().rstrip(",").split(","))), np.int64)
    if not text.strip():
        return np.zeros(0, np.int64)
    items = [s.strip() for s in text.split(",")]
    if items[-1] == "":
        items.pop()                                # "1,2," and "" (no items)
    out = []
    for k, s in enumerate(items, start=1):
        if not (s.isascii() and s.isdigit()):      # digits only: no sign, no "4_5" (Python's int reads 45)
            problem = "is empty" if s == "" else f"{_short(s)} is not a non-negative whole number"
            raise ValueError(f"{path}, line {line_no}, item {k}: the {what} {problem}")
        v = _digits(s)
        if v is None:
            raise ValueError(f"{path}, line {line_no}, item {k}: the {what} {_short(s)} is too large for a 64-bit "
                             "integer")
        out.append(v)
    return np.array(out, np.int64)


def _digits(s):
    """An ASCII digit string as an exact int, or None when it does not fit in int64 (nothing is rounded)."""
    t = s.lstrip("0") or "0"
    if len(t) > 19:
        return None
    v = int(t)
    return v if v < 2 ** 63 else None


def _short(text, limit=40):
    """A cell for an error message: its repr, cut to ``limit`` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


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
    blank line inside the file, or a file that ends in the middle of a student. Ids are read exactly as integers;
    one that does not fit in int64 is refused. A missing file is a FileNotFoundError; nothing else escapes.
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
                             f"'n,student_id'), found {_short(lines[start].strip())}")
        n = _digits(head[0])
        if n is None:
            raise ValueError(f"{path}, line {line}: the number of answers {_short(head[0])} is too large")
        q = _items(path, line + 1, lines[start + 1], "question id")
        a = _items(path, line + 2, lines[start + 2], "answer")
        for k, (what, v) in enumerate((("question ids", q), ("answers", a)), start=1):
            if len(v) != n:
                raise ValueError(f"{path}, line {line + k}: {len(v)} {what}, but line {line} says this student "
                                 f"has {n} answers")
        if n and not ((a == 0) | (a == 1)).all():
            k = int(np.flatnonzero((a != 0) & (a != 1))[0])
            raise ValueError(f"{path}, line {line + 2}, item {k + 1}: the answer is {a[k]}; answers must be 0 or 1")
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
    ('assistments'); ``format=None`` guesses from the first non-blank line (``guess_format``). Errors: those
    of the reader, a FileNotFoundError for a missing file, a ValueError naming the file for anything else."""
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
    """A column of cells as int64, parsed exactly (never through float64: 9007199254740993 stays itself).

    "12", "-3", "12.0" and "1.2e1" are whole numbers; a value that is not, or does not fit in int64 (1e300,
    2**63), is a ValueError naming the file, line and column, never rounded or merged with another id."""
    return np.array([int(v) if len(v) < 19 and v.isdigit() and v.isascii() else _exact(path, v, lines[k], column)
                     for k, v in enumerate(values)], np.int64)


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _exact(path, cell, line, column):
    """One cell as an exact int64 (see ``_whole_numbers``)."""
    if _NUMBER.fullmatch(cell) and cell.isascii():
        d = decimal.Decimal(cell)
        if d == d.to_integral_value():
            if -2 ** 63 <= d < 2 ** 63:
                return int(d)
            raise ValueError(f"{path}, line {line}, column {column!r}: {_short(cell)} is too large for a 64-bit "
                             "integer id")
    what = "is empty" if not cell else f"{_short(cell)} is not a whole number"
    raise ValueError(f"{path}, line {line}, column {column!r}: {what}")


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
    Ids are parsed exactly as integers ("12" and "12.0" are 12; never through float64, so 9007199254740992 and
    9007199254740993 are two students); one that does not fit in int64 (1e300, 2**63) is a ValueError, never
    merged with another. A cell the csv module refuses (over ``csv.field_size_limit()`` characters, a NUL byte)
    is a ValueError naming the file and line; a missing file a FileNotFoundError.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_assistments_csv: no such file: {path}")
    if question not in ("skill_id", "problem_id"):
        raise ValueError(f"load_assistments_csv: question must be 'skill_id' or 'problem_id', got {question!r}")
    text, encoding = _read_text(path)
    reader = _rows(path, io.StringIO(text, newline=""))      # csv.Error as a ValueError naming file and line
    header, header_line = None, 0
    for line, row in reader:
        header, header_line = [h.strip() for h in row], line
        if any(header):
            break
    if not header or not any(header):
        raise ValueError(f"{path}: the file is empty; it needs a header row and one row per answer")
    required = ("order_id", "user_id", "correct", question)
    for name in required:
        if name not in header:
            raise ValueError(f"{path}, line {header_line}: no column {name!r} in the header; the columns are "
                             f"{_short(', '.join(header), 200)}")
    cols = [header.index(name) for name in required]

    seen, lines, cells = set(), [], []
    rows = duplicates = 0
    for line, row in reader:
        row = tuple(map(str.strip, row))
        if not any(row):
            continue                                             # a blank line holds no answer
        rows += 1
        if len(row) != len(header):
            raise ValueError(f"{path}, line {line}: {len(row)} cells, but the header has "
                             f"{len(header)} columns")
        if row in seen:
            duplicates += 1
            continue
        seen.add(row)
        lines.append(line)
        cells.append([row[c] for c in cols])
    del seen
    order_s, user_s, correct_s, q_s = zip(*cells) if cells else ((),) * 4

    has_q = np.array([v.lower() not in _MISSING for v in q_s], bool)
    order = _whole_numbers(path, order_s, lines, "order_id")
    user = _whole_numbers(path, user_s, lines, "user_id")
    correct = _whole_numbers(path, correct_s, lines, "correct")
    if not np.isin(correct, (0, 1)).all():
        k = int(np.flatnonzero(~np.isin(correct, (0, 1)))[0])
        raise ValueError(f"{path}, line {lines[k]}, column 'correct': {_short(correct_s[k])}; it must be 0 or 1")
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
