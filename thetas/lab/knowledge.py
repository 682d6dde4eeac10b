"""The Knowledge tracing page: what does Riley know, and what should Riley do next?

Each data set of students has its own DKT (``th.models.DKT(M, hidden_size=64)``, Adam lr 1e-2), trained at its
first use in a child process (one BLAS thread, progress lines) followed by a thread, and cached in the lab's cache
folder, so the next start only loads it:

* ``synthetic-5``: the paper's simulated students (2,000 to train on, 3 epochs, a few seconds); the page offers
  the first ``NUM_STUDENTS`` test students. Cached as ``dkt-synthetic5.safetensors``.
* a loaded file (``thetas lab --students PATH``, or uploaded on the page, at most ``UPLOAD_CHARS`` characters):
  the DKT code's three-lines-per-student format or the ASSISTments CSV (``thetas.data.load_students`` guesses
  which). Students with fewer than 2 answers are dropped; 20 % of the rest (at least one) are held out by
  ``Students.split_indices(seed=0)``, the DKT learns from the others (windows of 100 answers, enough epochs for
  about ``FILE_STEPS`` optimiser steps), and its AUC on the held-out students is reported. The page lists every
  student of the file (at most ``MAX_SHOWN``), held-out ones marked. The text is kept as
  ``students-<sha256>.txt`` and the model as ``dkt-file-<sha256>.safetensors``: the same file loaded again
  trains nothing. At most ``MAX_FILES`` files are kept at a time (the oldest goes).

A session holds one student's answers (the first ``START_LEN`` of a long history), and "answer as Riley" appends
one (question id, 0/1) at a time, up to ``MAX_LEN`` answers. Every answer recomputes the knowledge trace and the
suggested next exercise (``thetas.tutor``). When a model is ready its concept graph is computed once
(``tutor.context_influence`` over ``GRAPH_STUDENTS`` training students, ``tutor.concept_graph(top_k=2)``,
``tutor.cluster_questions`` when scikit-learn is installed; not for more than ``GRAPH_MAX_QUESTIONS`` questions)
and returned by the status as ``graph``: ``{"edges": [[i, j, w], ...], "labels"}``.
"""
import hashlib
import math
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..io import _write_atomic
from .jobs import BackgroundJob, cache_dir
from .pages import Page, Route
from .schema import LabError, b64, invalid, number
from .sessions import SessionStore, new_id

NUM_STUDENTS = 20
MAX_LEN = 200
START_LEN = 150            # a session starts with at most this many of the student's answers
EPOCHS = 3
HIDDEN = 64
CACHE_NAME = "dkt-synthetic5.safetensors"
SESSIONS = 400
IDLE_SECONDS = 3600
GRAPH_STUDENTS = 100       # training students read for the concept graph (about a second with the hidden-64 DKT)
GRAPH_MAX_QUESTIONS = 150  # more questions than this make no readable circle: no graph
NUM_CONCEPTS = 5
SYNTHETIC = "synthetic-5"
UPLOAD_CHARS = 4_000_000   # a file sent by the page (``--students PATH`` has no limit)
UPLOAD_LIMIT = 2 * UPLOAD_CHARS + 10_000   # the request body: the text JSON-escaped, with room for escapes
MAX_FILE_STUDENTS = 20_000
MAX_FILE_QUESTIONS = 1_000
MAX_FILES = 4
MAX_SHOWN = 500
FILE_STEPS = 400           # optimiser steps (batches of 32 windows) a loaded file's DKT trains for, about
MAX_EPOCHS = 40
TEST_FRACTION = 0.2
WINDOW = 100
CACHE_VERSION = "v1"       # part of a file model's cache name: change it when the training recipe changes
NAMES = ["Riley", "Alex", "Sam", "Jordan", "Casey", "Taylor", "Morgan", "Jamie", "Avery", "Quinn", "Rowan",
         "Skyler", "Harper", "Emerson", "Finley", "Reese", "Dakota", "Hayden", "Parker", "Sasha"]


class StudentsFileError(ValueError):
    """A file given as ``thetas lab --students PATH`` that cannot be used (the message says why)."""


FEW_STUDENTS = 200      # a file with fewer training students gets a word on how little that is


def file_epochs(num_windows, batch_size=32):
    """Epochs for a loaded file's DKT: about ``FILE_STEPS`` optimiser steps, between ``EPOCHS`` and
    ``MAX_EPOCHS`` epochs (30 students: 40 epochs of one batch; 4,000 students: 3 epochs)."""
    steps = max(1, math.ceil(num_windows / batch_size))
    return int(min(MAX_EPOCHS, max(EPOCHS, math.ceil(FILE_STEPS / steps))))


def read_file_students(path, shown_name=None):
    """A file's students for the page: ``(students, fmt)``, students with 2+ answers only. A malformed file
    raises ValueError naming ``shown_name`` (the uploaded file's name) in place of the cache path."""
    from ..knowledge import guess_format, load_students
    fmt = guess_format(path)
    try:
        students = load_students(path, fmt)
    except ValueError as e:
        raise ValueError(str(e).replace(str(path), shown_name or str(path))) from None
    return students.drop_short(2), fmt


def split_file(students, seed=0):
    """``(train_idx, test_idx)``: the held-out fifth (at least one student) of a loaded file, as ``thetas dkt``
    holds out a file's students (``thetas.knowledge.held_out``)."""
    from ..knowledge import held_out
    return held_out(students, TEST_FRACTION, seed=seed)


class Dataset(BackgroundJob):
    """One data set of students and its DKT (``model``), made once in the background (``jobs.BackgroundJob``):
    state 'idle', 'training' (with progress), 'ready' or 'failed'. The work of its thread (loading the model, its AUC,
    its concept graph) touches only this model, which no request sees before it is 'ready': it needs no lock."""

    what = "the DKT"

    def __init__(self, key, name, kind, lock, text_path=None, model_path=None):
        super().__init__(model_path, lock)
        self.key, self.name, self.kind = key, name, kind            # kind: 'synthetic' or 'file'
        self.text_path = text_path
        self.graph = self.auc = None
        self.students = None                                       # the students the page offers
        self.held_out = set()                                      # their indices that the model never saw
        self.train = self.test = None                              # a file's two parts (2+ answers each)
        self.epochs = EPOCHS
        self.description = ""

    @property
    def model(self):
        return self.result

    def listing(self):
        return {"key": self.key, "name": self.name, "kind": self.kind, "state": self.state}

    # ------------------------------------------------------------------ the job (in its thread)
    def prepare(self):
        if self.kind == "synthetic":
            from ..knowledge import synthetic_5
            self.train, test = synthetic_5(0)
            self.students = test[:NUM_STUDENTS]
            self.held_out = set(range(len(self.students)))

    def load(self, path):
        """The DKT saved at ``path``; ValueError for one of another number of questions."""
        import thetas as th
        model = th.load(str(path))
        model.eval()
        if getattr(model, "num_questions", None) != self.train.num_questions:
            raise ValueError(f"{path}: a model of {getattr(model, 'num_questions', None)} questions, not "
                             f"{self.train.num_questions}")
        return model

    def child(self):
        """``python -m thetas.lab.knowledge OUT EPOCHS [TEXT]`` (``train``)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        args = ["thetas.lab.knowledge", str(self.path), str(self.epochs)]
        if self.kind == "file":
            args.append(str(self.text_path))
        what = ("the 2,000 synthetic-5 training students" if self.kind == "synthetic"
                else f"{len(self.train):,} students of {self.name}")
        return args, (f"training a DKT (LSTM, {HIDDEN} hidden) on {what}, {self.epochs} epochs "
                      "(once; then it is cached)")

    def finish(self, model):
        self.auc = self._held_out_auc(model) if self.kind == "file" else None
        self.graph = self._graph(model)
        what = "synthetic-5" if self.kind == "synthetic" else self.name
        message = f"DKT (LSTM, {model.hidden_size} hidden) on {what}: {self.path}"
        if self.auc is not None:
            message += f"; AUC on the {len(self.test)} held-out students {self.auc:.3f} (0.5: guessing)"
        if self.kind == "file" and len(self.train) < FEW_STUDENTS:
            message += (f". Only {len(self.train)} students to learn from (the DKT paper had thousands): take its "
                        "predictions, suggestions and concepts as rough guesses")
        return message

    def _held_out_auc(self, model):
        """The model's AUC on the file's held-out students (None when it is undefined: all right, or all wrong)."""
        from ..autograd import no_grad
        from ..knowledge import dkt_array, dkt_auc
        X = dkt_array(self.test.windows(WINDOW).drop_short(2))
        if len(X) == 0:
            return None
        with no_grad():
            auc = dkt_auc(X, model(X))
        return None if auc is None or not np.isfinite(auc) else float(auc)

    def _graph(self, model):
        """The concept graph, once: ``tutor.context_influence`` over ``GRAPH_STUDENTS`` training students, its
        ``top_k=2`` strongest edges, and (with scikit-learn) clusters of the questions (``NUM_CONCEPTS`` for
        synthetic-5, min(5, M // 3) for a file). About a second for the hidden-64 model; None if it fails or
        there are more than ``GRAPH_MAX_QUESTIONS`` questions (the rest of the page works without it)."""
        from ..knowledge import tutor
        M, train = model.num_questions, self.train
        if M > GRAPH_MAX_QUESTIONS:
            return None
        k = NUM_CONCEPTS if self.kind == "synthetic" else min(5, M // 3)
        t0 = time.perf_counter()
        try:
            J = tutor.context_influence(model, train, max_students=GRAPH_STUDENTS)
            edges = tutor.concept_graph(J, top_k=2)
            labels = None
            try:
                import sklearn  # noqa: F401
            except ImportError:
                pass
            else:
                if k >= 2:
                    labels = [int(v) for v in tutor.cluster_questions(model, k, students=train,
                                                                      max_students=GRAPH_STUDENTS)]
        except Exception:                                         # noqa: BLE001 - the graph is optional
            return None
        return {"edges": [[int(i), int(j), float(w)] for i, j, w in edges], "labels": labels,
                "students": min(GRAPH_STUDENTS, len(train)), "seconds": time.perf_counter() - t0}


class KnowledgeService:
    """The data sets, their DKT models and the sessions. A model is loaded from the cache or trained at its data
    set's first ``ensure()`` (in a child process, followed by a thread)."""

    def __init__(self, cache=None, epochs=EPOCHS):
        self.epochs = epochs
        self.cache = Path(cache) if cache is not None else cache_dir()
        self.lock = threading.Lock()                               # the data sets and every one's state
        self.datasets = OrderedDict()
        synthetic = Dataset(SYNTHETIC, "synthetic-5 (simulated students)", "synthetic", self.lock,
                            model_path=self.cache / CACHE_NAME)
        synthetic.epochs = epochs
        synthetic.description = ("read the answers of 2,000 simulated students: 50 exercises over 5 hidden "
                                 "concepts")
        self.datasets[SYNTHETIC] = synthetic
        self.default = SYNTHETIC
        self.sessions = SessionStore(SESSIONS, IDLE_SECONDS, "knowledge-tracing")

    # ------------------------------------------------------------------ data sets
    def dataset(self, key=None):
        """The data set ``key`` (a string from the client, only ever looked up), default: the page's default."""
        key = self.default if key in (None, "") else key
        with self.lock:
            ds = self.datasets.get(key) if isinstance(key, str) else None
        if ds is None:
            shown = key if isinstance(key, str) else type(key).__name__
            raise LabError(404, f"no such data set {shown[:60]!r} (a newer file replaced it, or the server "
                                "restarted); pick one from the list")
        return ds

    def add_file(self, name, text, limit=True, default=False):
        """Add a file of students (its ``text``; ``name`` is only shown) and start its training; returns the
        Dataset. With ``limit`` (a page upload) the size limits apply. Raises LabError (413, 422) for a file that
        is too large, malformed or too small; the message names the file and, where the loader says, the line."""
        if not isinstance(name, str) or not name.strip():
            name = "uploaded file"
        name = "".join(ch for ch in name if ch.isprintable())[:80]
        if not isinstance(text, str):
            raise invalid("'text' must be the text of a file of students' answers")
        if limit and len(text) > UPLOAD_CHARS:
            raise LabError(413, f"{name} has {len(text):,} characters; at most {UPLOAD_CHARS:,} are accepted here "
                                "(start the lab with --students PATH for a larger file)")
        if not text.strip():
            raise invalid(f"{name} is empty")
        raw = text.encode("utf-8", "surrogatepass")      # a lone surrogate from JSON: the loader then names it
        digest = hashlib.sha256(raw).hexdigest()[:20]
        key = f"file-{digest}"
        with self.lock:
            if key in self.datasets:
                ds = self.datasets[key]
                self.datasets.move_to_end(key)
                if default:
                    self.default = key
                return ds
        self.cache.mkdir(parents=True, exist_ok=True)
        text_path, scratch = self.cache / f"students-{digest}.txt", self.cache / f"upload-{secrets.token_hex(8)}.tmp"
        _write_atomic(scratch, [raw])                 # the loaders read files; only a good file stays in the cache
        try:
            try:
                students, _ = read_file_students(scratch, name)
            except ValueError as e:
                raise invalid(str(e)[:400]) from None
            if len(students) < 2:
                raise invalid(f"{name}: {len(students)} student(s) with 2 or more answers; the lab needs at least "
                              "2 (one to learn from, one held out)")
            if limit and len(students) > MAX_FILE_STUDENTS:
                raise LabError(413, f"{name} has {len(students):,} students; at most {MAX_FILE_STUDENTS:,} are "
                                    "accepted here (start the lab with --students PATH for a larger file)")
            if students.num_questions > MAX_FILE_QUESTIONS:
                raise invalid(f"{name} has {students.num_questions:,} different questions; the lab's DKT takes at "
                              f"most {MAX_FILE_QUESTIONS:,}")
        except BaseException:                         # whatever refused it: no upload-*.tmp left behind
            scratch.unlink(missing_ok=True)
            raise
        os.replace(scratch, text_path)
        ds = Dataset(key, name, "file", self.lock, text_path=text_path,
                     model_path=self.cache / f"dkt-file-{CACHE_VERSION}-{digest}.safetensors")
        train_idx, test_idx = split_file(students)
        ds.train, ds.test = students[train_idx], students[test_idx]
        ds.students = students[:MAX_SHOWN]
        ds.held_out = {int(i) for i in test_idx if i < MAX_SHOWN}
        ds.epochs = file_epochs(len(ds.train.windows(WINDOW).drop_short(2)))
        answers = int(students.lengths().sum())
        ds.description = (f"read the answers of {len(ds.train):,} students from {name}: {students.num_questions} "
                          f"questions, {answers:,} answers in all ({len(test_idx):,} students held out)")
        with self.lock:
            self.datasets[key] = ds
            files = [k for k, d in self.datasets.items() if d.kind == "file" and k != self.default]
            dropped = [self.datasets.pop(k) for k in files[:-MAX_FILES]]
        for old in dropped:          # the oldest files make room, even while they train: cancelled, files removed
            old.close()
            for path in (old.text_path, old.path):
                if path is not None and Path(path).parent == self.cache:
                    Path(path).unlink(missing_ok=True)
        with self.lock:
            if default:
                self.default = key
        self.ensure(ds)
        return ds

    def add_students_file(self, path):
        """``thetas lab --students PATH``: the file (no size limit) becomes the page's default data set; its
        model starts training now. Raises StudentsFileError (a ValueError) naming what is wrong: no such file,
        unreadable, or the loader's message (with the line)."""
        path = Path(path)
        if not path.is_file():
            raise StudentsFileError(f"no such file: {path}")
        from ..knowledge.formats import _read_text
        try:
            text, _ = _read_text(path)                   # UTF-8 (with or without a BOM), else Latin-1
        except OSError as e:
            raise StudentsFileError(f"cannot read {path}: {e.strerror or e}") from None
        try:
            return self.add_file(path.name, text, limit=False, default=True)
        except LabError as e:
            raise StudentsFileError(e.message.replace(path.name, str(path), 1)) from None

    # ------------------------------------------------------------------ the models
    def ensure(self, ds=None):
        """Start loading or training the data set's model, once (called by every knowledge request)."""
        ds = ds or self.dataset()
        ds.start("loading the students", {"epoch": 0, "epochs": ds.epochs, "fraction": 0.0})

    def close(self):
        """Stop every training child (the server is shutting down)."""
        with self.lock:
            datasets = list(self.datasets.values())
        for ds in datasets:
            ds.close()

    def upload(self, payload):
        """A page's file: ``{"name", "text"}`` -> its status (its DKT starts training)."""
        ds = self.add_file(payload.get("name"), payload.get("text"))
        return self.status({"dataset": ds.key})

    def status(self, payload=None):
        ds = self.dataset((payload or {}).get("dataset"))
        self.ensure(ds)
        with self.lock:
            out = {"dataset": ds.key, "name": ds.name, "kind": ds.kind, "description": ds.description,
                   "state": ds.state, "message": ds.message, "progress": dict(ds.progress),
                   "datasets": [d.listing() for d in self.datasets.values()], "default": self.default,
                   "upload_chars": UPLOAD_CHARS}
            if ds.model is not None and ds.students is not None:
                out["num_questions"] = ds.model.num_questions
                out["max_len"] = MAX_LEN
                out["graph"] = ds.graph
                out["auc"] = ds.auc
                names = ds.train.question_names if ds.kind == "file" else None
                out["question_names"] = list(names) if names is not None else None
                out["students"] = [{"index": i, "name": self._student_name(ds, i), "answers": len(q),
                                    "held_out": i in ds.held_out}
                                   for i, q in enumerate(ds.students.questions)]
            return out

    @staticmethod
    def _student_name(ds, i):
        if ds.kind == "synthetic":
            return NAMES[i % len(NAMES)]
        ids = ds.students.student_ids
        return f"student {ids[i]}" if ids is not None and ids[i] is not None else f"student {i + 1}"

    def _model(self, ds):
        self.ensure(ds)
        with self.lock:
            if ds.model is None:
                if ds.state == "failed":
                    raise LabError(503, ds.message)
                raise LabError(503, "the knowledge-tracing model is still training; try again in a few seconds")
            return ds.model

    # ------------------------------------------------------------------ sessions
    def create(self, payload):
        ds = self.dataset(payload.get("dataset"))
        model = self._model(ds)
        i = number(payload, "student", 0, len(ds.students) - 1, integer=True)
        q, a = ds.students[i]
        start = min(len(q), START_LEN)
        steps = number(payload, "steps", 0, start, default=start, integer=True)
        session = {"id": new_id(), "dataset": ds, "student": i, "name": self._student_name(ds, i),
                   "questions": q[:steps].copy(), "answers": a[:steps].copy(), "original": steps, "total": len(q)}
        return self.state_of(model, self.sessions.add(session["id"], session))

    def answer(self, payload, sid):
        from ..knowledge import tutor
        session = self.sessions.get(sid)
        model = self._model(session["dataset"])
        question = number(payload, "question", 0, model.num_questions - 1, integer=True)
        correct = number(payload, "correct", 0, 1, integer=True)
        if len(session["questions"]) >= MAX_LEN:
            raise LabError(422, f"this session already has {MAX_LEN} answers, the most kept here; "
                                "pick a student to start again")
        q, a, trace = tutor.answer(model, session["questions"], session["answers"], question, correct)
        session["questions"], session["answers"] = q, a
        return self.state_of(model, session, trace)

    def state_of(self, model, session, trace=None):
        """The page's view of a session (``trace``: its knowledge trace, when already computed)."""
        from ..knowledge import tutor
        q, a = session["questions"], session["answers"]
        trace = tutor.knowledge_trace(model, q, a) if trace is None else trace      # (T, M)
        best, gain = tutor.suggest_next(model, q, a)
        now = trace[-1] if len(q) else tutor._prior(model)
        return {"session": session["id"], "dataset": session["dataset"].key, "student": session["student"],
                "name": session["name"], "questions": [int(v) for v in q], "answers": [int(v) for v in a],
                "original": session["original"], "total": session["total"], "max_len": MAX_LEN,
                "num_questions": model.num_questions, "trace": b64(trace),
                "mastery": [float(v) for v in now], "mean_mastery": float(np.mean(now)),
                "suggestion": {"question": best, "gain": float(gain[best]), "p_correct": float(now[best])},
                "gains": [float(v) for v in gain]}


PAGE = Page("knowledge", "/knowledge", "knowledge.html", "Knowledge tracing", summary=(
    "What does Riley know? A Deep Knowledge Tracing network reads a student's answers and predicts P(correct) on "
    "every exercise; answer as Riley and watch the predictions and the suggested next exercise change."), routes=(
    Route("GET", "/api/knowledge/status", KnowledgeService.status,
          "?dataset=KEY: a data set's DKT: ready, training (progress) or failed; its students; the concept graph "
          '{"edges": [[i, j, w]], "labels"} once ready; the data sets (synthetic-5 and loaded files)'),
    Route("POST", "/api/knowledge/datasets", KnowledgeService.upload,
          '{"name", "text"}: a file of students\' answers (DKT three-line format or ASSISTments CSV) -> its status '
          "(its DKT starts training)", UPLOAD_LIMIT, beside=True),
    Route("POST", "/api/knowledge/sessions", KnowledgeService.create,
          '{"dataset"?, "student", "steps"?} -> a session: answers, trace, suggestion'),
    Route("POST", "/api/knowledge/{sid}/answer", KnowledgeService.answer,
          '{"question", "correct": 0/1} -> the session with one more answer'),
))


def train(out, epochs=EPOCHS, data=None, seed=0):
    """The child process: a DKT on synthetic-5's training students, or on the training part of a file of
    students (``data``: ``split_file``), trained by ``thetas.knowledge.train_dkt`` (the recipe of ``thetas dkt``:
    windows of ``WINDOW`` answers, Adam lr 1e-2, batches of 32, no dropout); progress as JSON lines on stdout (every 8
    batches: ``{"epoch", "fraction", "loss"}``, which ``run_child`` merges into the page's progress); saved to
    ``out``."""
    import json
    import thetas as th
    from ..knowledge import synthetic_5, train_dkt
    from ..train import Callback
    if data is None:
        train_set, _ = synthetic_5(seed)
        meta = {"dataset": "synthetic-5"}
    else:
        students, fmt = read_file_students(data)
        train_idx, _ = split_file(students)
        train_set = students[train_idx]
        meta = {"dataset": "file", "format": fmt, "students": len(train_set)}

    class Progress(Callback):
        def on_batch_end(self, batch, logs):
            t = self.trainer
            if batch % 8 == 7 or batch == t.steps_per_epoch - 1:
                done = (t.epoch * t.steps_per_epoch + batch + 1) / (t.epochs * t.steps_per_epoch)
                print(json.dumps({"epoch": t.epoch + 1, "fraction": done, "loss": logs["loss"]}), flush=True)

    # the page's quick recipe (a few epochs, a constant large step, no dropout), not thetas dkt's for long runs
    trained = train_dkt(train_set, hidden=HIDDEN, epochs=epochs, lr=1e-2, batch_size=32, max_len=WINDOW, seed=seed,
                        dropout=0.0, schedule="none", evaluate=False, verbose=False, callbacks=[Progress()])
    trained.model.eval()
    th.save(trained.model, str(out), metadata=meta)


if __name__ == "__main__":
    import sys
    train(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else EPOCHS, sys.argv[3] if len(sys.argv) > 3 else None)
