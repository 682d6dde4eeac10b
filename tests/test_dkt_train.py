"""The DKT training recipe on real students' shapes: WindowLoader, dkt_metrics in bounded memory, auto_epochs and
align_questions (a test file with questions the training file lacks)."""
import numpy as np
import pytest

import thetas as th
from thetas.knowledge import (DKT, Students, WindowLoader, align_questions, auto_epochs, dkt_array, dkt_auc,
                              dkt_metrics)
from thetas.knowledge import train as kt_train


def _students(n=60, m=7, seed=0, longest=40):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, longest, n)
    return Students([rng.integers(0, m, k) for k in lengths], [rng.integers(0, 2, k) for k in lengths], m)


def test_window_loader_visits_every_window_once_in_batches_of_similar_length():
    X = dkt_array(_students(n=203, longest=120))
    loader = WindowLoader(X, batch_size=16, seed=0)
    lengths = (X[..., 0] >= 0).sum(1)
    seen, spans = [], []
    for xb, yb in loader:
        assert xb is yb and xb.shape[1] == ((xb[..., 0] >= 0).sum(1)).max()   # cut to its longest window
        seen.append(xb)
        real = (xb[..., 0] >= 0).sum(1)
        spans.append(real.max() - real.min())
    assert len(seen) == len(loader) == 13 and sum(len(b) for b in seen) == 203
    # the same windows, each once: compare the multisets of (length, first question, first answer)
    key = lambda A: sorted(map(tuple, np.c_[(A[..., 0] >= 0).sum(1), A[:, 0, 0], A[:, 0, 1]]))  # noqa: E731
    assert key(np.concatenate([np.pad(b, ((0, 0), (0, X.shape[1] - b.shape[1]), (0, 0)), constant_values=-1)
                               for b in seen])) == key(X)
    shuffled = np.array_split(np.random.default_rng(1).permutation(lengths), 13)
    assert np.mean(spans) < 0.5 * np.mean([s.max() - s.min() for s in shuffled])   # far less padding


def test_window_loader_epochs_differ_and_its_state_replays_them():
    X = dkt_array(_students(n=100))
    a = WindowLoader(X, batch_size=8, seed=3)
    first = [b.tobytes() for b, _ in a]
    state = a.state_dict()
    second = [b.tobytes() for b, _ in a]
    assert first != second
    b = WindowLoader(X, batch_size=8, seed=99)
    b.load_state_dict(state)
    assert [x.tobytes() for x, _ in b] == second
    assert WindowLoader(X, 8).fingerprint() == WindowLoader(X.copy(), 8).fingerprint() != WindowLoader(X, 9).fingerprint()
    with pytest.raises(ValueError, match="batch_size"):
        WindowLoader(X, batch_size=0)


def test_dkt_metrics_is_the_pooled_auc_whatever_the_batch_holds(monkeypatch):
    students = _students(n=40)
    model = DKT(students.num_questions, 8, generator=0)
    X = dkt_array(students)
    pooled = dkt_auc(X, model.predict_proba(X))                      # one (N, T, M) array, the direct way
    whole = dkt_metrics(model, students)
    monkeypatch.setattr(kt_train, "EVAL_LOGITS", X.shape[1] * students.num_questions)   # one window per batch
    one = dkt_metrics(model, students)
    assert whole["auc"] == pytest.approx(pooled, abs=1e-12) and one["auc"] == pytest.approx(pooled, abs=1e-12)
    assert one["loss"] == pytest.approx(whole["loss"], rel=1e-9) and one["accuracy"] == whole["accuracy"]


def test_auto_epochs_gives_about_2000_steps_between_3_and_10():
    assert auto_epochs(430) == 5            # ASSISTments 2015: 13,744 windows in batches of 32
    assert auto_epochs(63) == 10            # synthetic-5: 2,000 students
    assert auto_epochs(5000) == 3 and auto_epochs(1) == 10 and auto_epochs(0) == 10


def test_align_questions_covers_both_files_and_counts_the_unseen():
    train = Students([[0, 1, 2]], [[1, 0, 1]], 3, question_names=("1", "2", "10"))
    test = Students([[0, 1, 1], [2]], [[1, 1, 0], [0]], 3, question_names=("2", "9", "64"))
    tr, te = align_questions(train, test)
    assert tr.question_names == te.question_names == ("1", "2", "9", "10", "64")    # numbers in number order
    assert [list(q) for q in tr.questions] == [[0, 1, 3]]
    assert [list(q) for q in te.questions] == [[1, 2, 2], [4]]
    assert te.notes["unseen_questions"] == 2 and te.notes["unseen_answers"] == 3
    named = Students([[0]], [[1]], 1, question_names=("b",))
    _, other = align_questions(named, Students([[0]], [[1]], 1, question_names=("a",)))
    assert other.question_names == ("a", "b") and other.notes["unseen_answers"] == 1


def test_train_dkt_on_long_students_with_many_questions_learns():
    """Students with hundreds of answers and many questions: windows, similar-length batches, the pooled AUC."""
    rng = np.random.default_rng(0)
    m, qs, as_ = 60, [], []
    for _ in range(40):
        n = int(rng.integers(50, 600))
        skill = rng.normal()
        q = rng.integers(0, m, n)
        qs.append(q)
        as_.append((rng.random(n) < 1 / (1 + np.exp(-(skill + (q % 2) * 1.5 - 0.5)))).astype(int))
    students = Students(qs, as_, m)
    run = th.knowledge.train_dkt(students[:30], students[30:], hidden=16, epochs=5, batch_size=4, verbose=False)
    assert run.sequences["train"] > 30                               # long students were cut into windows
    assert run.metrics["train"]["auc"] > 0.65 and run.metrics["test"]["auc"] > 0.6 and len(run.history.history["val_dkt_auc"]) == 5


@pytest.mark.parametrize("cell, layers", [("lstm", 1), ("gru", 2), ("rnn", 1)])
def test_dkt_run_continues_a_sequence_from_its_state(cell, layers):
    """run(x[:, :t]) then run(x[:, t:], state) gives the logits of run(x): a history read once can be continued
    (what the tutor's look-ahead does for each candidate question)."""
    rng = np.random.default_rng(3)
    model = DKT(6, 12, cell=cell, num_layers=layers, generator=0)
    x = np.stack([rng.integers(0, 6, (4, 9)), rng.integers(0, 2, (4, 9))], -1)
    whole, state = model.run(x)
    first, mid = model.run(x[:, :5])
    rest, end = model.run(x[:, 5:], mid)
    np.testing.assert_allclose(np.concatenate([first.data, rest.data], 1), whole.data, rtol=1e-5, atol=1e-6)
    for a, b in zip(end if isinstance(end, tuple) else (end,), state if isinstance(state, tuple) else (state,)):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model(x).data, whole.data)
