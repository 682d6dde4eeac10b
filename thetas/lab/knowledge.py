"""The Knowledge tracing page: what does Riley know, and what should Riley do next?

A small DKT (``th.models.DKT(50, hidden_size=64)``) is trained on the synthetic-5 students (Adam, lr 1e-2, a few
epochs: a few seconds) at the first request, in a child process followed by a thread, and cached as
``<lab cache>/dkt-synthetic5.safetensors``. The page picks one of the first ``NUM_STUDENTS`` test students; a
session holds that student's answers, and "answer as Riley" appends one (question id, 0/1) at a time, up to
``MAX_LEN`` answers. Every answer recomputes the knowledge trace and the suggested next exercise
(``thetas.tutor``). When the model is ready the concept graph is computed once (``tutor.context_influence`` over
``GRAPH_STUDENTS`` training students, ``tutor.concept_graph(top_k=2)``, ``tutor.cluster_questions`` when
scikit-learn is installed) and returned by the status as ``graph``: ``{"edges": [[i, j, w], ...], "labels"}``.
"""
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from .schema import LabError, b64, number

NUM_STUDENTS = 20
MAX_LEN = 200
EPOCHS = 3
HIDDEN = 64
CACHE_NAME = "dkt-synthetic5.safetensors"
SESSIONS = 200
IDLE_SECONDS = 3600
GRAPH_STUDENTS = 100       # training students read for the concept graph (about a second with the hidden-64 DKT)
NUM_CONCEPTS = 5
NAMES = ["Riley", "Alex", "Sam", "Jordan", "Casey", "Taylor", "Morgan", "Jamie", "Avery", "Quinn", "Rowan",
         "Skyler", "Harper", "Emerson", "Finley", "Reese", "Dakota", "Hayden", "Parker", "Sasha"]


class KnowledgeService:
    """The DKT model and the sessions. The model is loaded from the cache or trained at the first ``ensure()``
    (in a child process, followed by a thread)."""

    def __init__(self, compute, cache=None, epochs=EPOCHS):
        from .training import cache_dir
        self.compute, self.epochs = compute, epochs
        self.cache = Path(cache) if cache is not None else cache_dir()
        self.lock = threading.Lock()
        self.model, self.state, self.message, self.progress = None, "idle", "", {}
        self.students, self.graph = None, None
        self.sessions = OrderedDict()

    # ------------------------------------------------------------------ the model
    def ensure(self):
        """Start loading or training the model, once (called by every knowledge request)."""
        with self.lock:
            if self.state != "idle":
                return
            self.state, self.message = "training", "loading the students"
            self.progress = {"epoch": 0, "epochs": self.epochs, "fraction": 0.0}
        threading.Thread(target=self._prepare, daemon=True, name="thetas-lab-dkt").start()

    def _prepare(self):
        import thetas as th
        from ..data.knowledge import synthetic_5
        try:
            train, test = synthetic_5(0)
            self.students = test[:NUM_STUDENTS]
            path = self.cache / CACHE_NAME
            model = None
            if path.is_file():
                try:
                    with self.compute:
                        model = th.load(str(path))
                    model.eval()
                    if model.num_questions != train.num_questions:
                        model = None
                except (ValueError, OSError, KeyError, TypeError, AttributeError):
                    model = None                                  # a broken cache file: train a new one
            if model is None:
                self._train_in_child(path)
                with self.compute:
                    model = th.load(str(path))
                model.eval()
            graph = self._graph(model, train)
            with self.lock:
                self.model, self.state, self.graph = model, "ready", graph
                self.message = f"DKT (LSTM, {model.hidden_size} hidden) on synthetic-5: {path}"
                self.progress["fraction"] = 1.0
        except Exception as e:                                    # noqa: BLE001 - shown on the page
            with self.lock:
                self.state, self.message = "failed", f"training the DKT failed ({type(e).__name__}: {e})"

    def _graph(self, model, train):
        """The concept graph, once: ``tutor.context_influence`` over ``GRAPH_STUDENTS`` training students, its
        ``top_k=2`` strongest edges, and (with scikit-learn) ``NUM_CONCEPTS`` clusters of the questions. About a
        second for the hidden-64 model; None if it fails (the rest of the page works without it)."""
        from .. import tutor
        t0 = time.perf_counter()
        try:
            with self.compute:
                J = tutor.context_influence(model, train, max_students=GRAPH_STUDENTS)
                edges = tutor.concept_graph(J, top_k=2)
                labels = None
                try:
                    import sklearn  # noqa: F401
                except ImportError:
                    pass
                else:
                    labels = [int(v) for v in tutor.cluster_questions(model, NUM_CONCEPTS, students=train,
                                                                      max_students=GRAPH_STUDENTS)]
        except Exception:                                         # noqa: BLE001 - the graph is optional
            return None
        return {"edges": [[int(i), int(j), float(w)] for i, j, w in edges], "labels": labels,
                "students": GRAPH_STUDENTS, "seconds": time.perf_counter() - t0}

    def _train_in_child(self, path):
        """Train in a child process with one BLAS thread (as the Digits page does: BLAS in a server thread is
        many times slower), reading its progress lines; the model lands in ``path``."""
        from .training import run_child
        with self.lock:
            self.message = (f"training a DKT (LSTM, {HIDDEN} hidden) on the 2,000 synthetic-5 training students, "
                            f"{self.epochs} epochs (once; then it is cached)")
        self.cache.mkdir(parents=True, exist_ok=True)
        run_child(["thetas.lab.knowledge", str(path), str(self.epochs)], self.progress, self.lock)
        if not path.is_file():
            raise RuntimeError(f"the training process wrote no model to {path}")

    def status(self):
        self.ensure()
        with self.lock:
            out = {"state": self.state, "message": self.message, "progress": dict(self.progress)}
            if self.model is not None and self.students is not None:
                out["num_questions"] = self.model.num_questions
                out["max_len"] = MAX_LEN
                out["graph"] = self.graph
                out["students"] = [{"index": i, "name": NAMES[i % len(NAMES)], "answers": len(q)}
                                   for i, q in enumerate(self.students.questions)]
            return out

    def _model(self):
        self.ensure()
        with self.lock:
            if self.model is None:
                if self.state == "failed":
                    raise LabError(503, self.message)
                raise LabError(503, "the knowledge-tracing model is still training; try again in a few seconds")
            return self.model

    # ------------------------------------------------------------------ sessions
    def create(self, payload):
        model = self._model()
        i = number(payload, "student", 0, len(self.students) - 1, integer=True)
        q, a = self.students[i]
        steps = number(payload, "steps", 0, len(q), default=len(q), integer=True)
        session = {"id": secrets.token_urlsafe(12), "student": i, "name": NAMES[i % len(NAMES)],
                   "questions": q[:steps].copy(), "answers": a[:steps].copy(), "original": steps,
                   "touched": time.monotonic()}
        with self.lock:
            self._expire()
            while len(self.sessions) >= SESSIONS:
                self.sessions.popitem(last=False)
            self.sessions[session["id"]] = session
        return self.state_of(model, session)

    def get(self, kid):
        with self.lock:
            self._expire()
            session = self.sessions.get(kid)
            if session is None:
                raise LabError(404, "no such knowledge-tracing session (it expired or the server restarted); "
                                    "reload the page")
            self.sessions.move_to_end(kid)
            session["touched"] = time.monotonic()
            return session

    def _expire(self):
        now = time.monotonic()
        for kid in [k for k, s in self.sessions.items() if now - s["touched"] > IDLE_SECONDS]:
            del self.sessions[kid]

    def answer(self, kid, payload):
        from .. import tutor
        model = self._model()
        session = self.get(kid)
        question = number(payload, "question", 0, model.num_questions - 1, integer=True)
        correct = number(payload, "correct", 0, 1, integer=True)
        if len(session["questions"]) >= MAX_LEN:
            raise LabError(422, f"this session already has {MAX_LEN} answers, the most kept here; "
                                "pick a student to start again")
        q, a, _ = tutor.answer(model, session["questions"], session["answers"], question, correct)
        session["questions"], session["answers"] = q, a
        return self.state_of(model, session)

    def state_of(self, model, session):
        from .. import tutor
        q, a = session["questions"], session["answers"]
        trace = tutor.knowledge_trace(model, q, a)                                   # (T, M)
        best, gain = tutor.suggest_next(model, q, a)
        now = trace[-1] if len(q) else tutor._prior(model)
        return {"session": session["id"], "student": session["student"], "name": session["name"],
                "questions": [int(v) for v in q], "answers": [int(v) for v in a], "original": session["original"],
                "max_len": MAX_LEN, "num_questions": model.num_questions, "trace": b64(trace),
                "mastery": [float(v) for v in now], "mean_mastery": float(np.mean(now)),
                "suggestion": {"question": best, "gain": float(gain[best]), "p_correct": float(now[best])},
                "gains": [float(v) for v in gain]}


def train(out, epochs=EPOCHS, seed=0):
    """The child process: a DKT on synthetic-5, progress as JSON lines on stdout, saved to ``out``."""
    import json
    import thetas as th
    from .. import optim
    from ..data.knowledge import synthetic_5
    from ..models.dkt import DKT, dkt_array, dkt_loss
    train_set, _ = synthetic_5(seed)
    X = dkt_array(train_set.windows(100).drop_short(2))
    model = DKT(train_set.num_questions, hidden_size=HIDDEN, generator=seed)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    rng, batch = np.random.default_rng(seed), 32
    steps = (len(X) + batch - 1) // batch
    for epoch in range(epochs):
        perm, total = rng.permutation(len(X)), 0.0
        for k, i in enumerate(range(0, len(X), batch)):
            xb = X[perm[i:i + batch]]
            opt.zero_grad()
            loss = dkt_loss(model(xb), xb)
            loss.backward()
            opt.step()
            total += float(loss.data)
            if k % 8 == 7 or k == steps - 1:
                print(json.dumps({"epoch": epoch + 1, "fraction": (epoch * steps + k + 1) / (epochs * steps),
                                  "loss": total / (k + 1)}), flush=True)
    model.eval()
    th.save(model, str(out), metadata={"dataset": "synthetic-5"})


if __name__ == "__main__":
    import sys
    train(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else EPOCHS)
