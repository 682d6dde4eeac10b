"""The robo-tutor (th.tutor) on small trained DKTs: what does Riley know, what should Riley do next, and which
questions share a concept."""
import numpy as np
import pytest

import thetas as th
from thetas import tutor

adjusted_rand_score = pytest.importorskip("sklearn.metrics").adjusted_rand_score


def _train(students, hidden, epochs, seed=0):
    X = th.models.dkt_array(students)
    model = th.models.DKT(students.num_questions, hidden_size=hidden, generator=seed)
    th.fit(model, th.models.dkt_loss, th.optim.Adam(model.parameters(), lr=1e-2),
           th.data.DataLoader(th.data.ArrayDataset(X, X), batch_size=32, shuffle=True, seed=seed),
           epochs=epochs, metrics=(), verbose=False)
    return model


def _random_order_students(n=800, T=30, M=10, K=2, seed=0):
    """Simulated students who practise questions in random order, repeats allowed (IRT plus learning, as
    ``synthetic_students``), so that the network sees every question after every history."""
    rng = np.random.default_rng(seed)
    concept = np.arange(M) % K
    beta = rng.normal(0, 1, M)
    skill = rng.normal(0, 1.5, (n, K))
    q = rng.integers(0, M, (n, T))
    a = np.empty((n, T), np.int64)
    for t in range(T):
        c = concept[q[:, t]]
        p = 0.25 + 0.75 / (1 + np.exp(beta[q[:, t]] - skill[np.arange(n), c]))
        a[:, t] = rng.random(n) < p
        skill[np.arange(n), c] += 0.3 * a[:, t]
    return th.data.Students(list(q), list(a), M, concepts=concept)


@pytest.fixture(scope="module")
def fixed():
    """20 questions, 2 concepts, every student in the same order (as Simulated-5): a DKT, test AUC about 0.83."""
    students = th.data.synthetic_students(600, 20, 2, seed=0)
    return _train(students, 32, 20), students


@pytest.fixture(scope="module")
def shuffled():
    """10 questions, 2 concepts, random order with repeats."""
    students = _random_order_students()
    return _train(students, 32, 5), students


# ------------------------------------------------------------------------------------- what does Riley know?
def test_knowledge_trace_row_t_is_the_prediction_after_answer_t(fixed):
    model, students = fixed
    q, a = students[3]
    trace = tutor.knowledge_trace(model, q, a)
    assert trace.shape == (20, 20)
    for t in (0, 7, 19):
        alone = model.predict_proba(th.models.dkt_batch(q[None, :t + 1], a[None, :t + 1]))[0, -1]
        np.testing.assert_allclose(trace[t], alone, rtol=1e-5, atol=1e-6)
    assert tutor.knowledge_trace(model, [], []).shape == (0, 20)


def test_answering_right_raises_the_prediction_for_that_question(shuffled):
    model, students = shuffled
    M, rises = students.num_questions, []
    for n in range(5):
        q, a = students[n]
        for T in (1, 5, 15):
            now = tutor.knowledge_trace(model, q[:T], a[:T])[-1]
            for j in range(M):
                right = tutor.answer(model, q[:T], a[:T], j, True)[2][-1, j]
                wrong = tutor.answer(model, q[:T], a[:T], j, 0)[2][-1, j]
                assert right > wrong, (n, T, j)
                rises.append(right > now[j])
    assert np.mean(rises) >= 0.9                # 0.99 measured: practice that goes well raises mastery


def test_answer_appends_and_returns_the_new_trace(fixed):
    model, students = fixed
    q, a = students[0]
    q2, a2, trace = tutor.answer(model, q[:4], a[:4], 11, True)
    np.testing.assert_array_equal(q2, np.append(q[:4], 11))
    np.testing.assert_array_equal(a2, np.append(a[:4], 1))
    np.testing.assert_allclose(trace, tutor.knowledge_trace(model, q2, a2))
    assert tutor.answer(model, [], [], 2, 0)[2].shape == (1, 20)


# ------------------------------------------------------------------------------- what should Riley do next?
def _slow_gains(model, q, a, candidates):
    """The look-ahead of suggest_next, one candidate and one outcome at a time."""
    now = tutor.knowledge_trace(model, q, a)[-1]
    gains = {}
    for c in candidates:
        after = [model.predict_proba(th.models.dkt_batch(np.append(q, c)[None], np.append(a, r)[None]))[0, -1]
                 for r in (1, 0)]
        gains[c] = now[c] * after[0].mean() + (1 - now[c]) * after[1].mean() - now.mean()
    return gains


@pytest.mark.parametrize("chunk", [256, 3])
def test_suggest_next_equals_a_loop_over_candidates(fixed, chunk):
    """The history read once and continued from its state (in batches of ``chunk`` hypothetical steps) gives the
    gains of each hypothetical sequence run from the start."""
    model, students = fixed
    q, a = students[5]
    q, a = q[:8], a[:8]
    best, gain = tutor.suggest_next(model, q, a, chunk=chunk)
    slow = _slow_gains(model, q, a, range(20))
    assert gain.shape == (20,)
    np.testing.assert_allclose(gain, [slow[c] for c in range(20)], rtol=1e-4, atol=1e-6)
    assert best == int(np.argmax(gain))


def test_suggest_next_chooses_among_the_candidates(fixed):
    model, students = fixed
    q, a = students[1]
    best, gain = tutor.suggest_next(model, q[:3], a[:3], candidates=[4, 9, 9, 17])
    assert best in (4, 9, 17)
    assert np.isnan(np.delete(gain, [4, 9, 17])).all() and np.isfinite(gain[[4, 9, 17]]).all()
    assert gain[best] == np.nanmax(gain)
    first, gain0 = tutor.suggest_next(model, [], [])                           # a new student
    assert 0 <= first < 20 and np.isfinite(gain0).all()


# ----------------------------------------------------------------------------------- how questions relate
def test_influence_matrix_is_the_papers_J(fixed):
    model, _ = fixed
    J = tutor.influence_matrix(model)
    assert J.shape == (20, 20)
    np.testing.assert_allclose(J.sum(0), 1.0, rtol=1e-10)                     # Σ_i J_ij = 1
    y = model.predict_proba(np.array([[[4, 1]]]))[0, 0]                        # y(j | 4 correct first)
    np.testing.assert_allclose(J[4] * J.sum(0), y / sum(model.predict_proba(np.array([[[k, 1]]]))[0, 0]
                                                         for k in range(20)), rtol=1e-5)


def test_context_influence_equals_flipping_answers_one_at_a_time(fixed):
    model, students = fixed
    lengths = (6, 3, 5)                                                        # padding inside the batch
    few = th.data.Students([students[n][0][:k] for n, k in enumerate(lengths)],
                           [students[n][1][:k] for n, k in enumerate(lengths)], 20)
    total, count = np.zeros((20, 20)), np.zeros((20, 20))
    for q, a in zip(few.questions, few.answers):
        for s in range(len(q)):
            right, wrong = a.copy(), a.copy()
            right[s], wrong[s] = 1, 0
            pr, pw = (model.predict_proba(th.models.dkt_batch(q[None], x[None]))[0] for x in (right, wrong))
            for u in range(s, len(q) - 1):
                total[q[s], q[u + 1]] += pr[u, q[u + 1]] - pw[u, q[u + 1]]
                count[q[s], q[u + 1]] += 1
    expected = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    np.testing.assert_allclose(tutor.context_influence(model, few), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(tutor.context_influence(model, th.models.dkt_array(few)), expected, rtol=1e-4,
                               atol=1e-6)


def test_concept_graph_keeps_the_top_influences_above_the_floor():
    J = np.array([[0.0, 0.5, 0.1],
                  [0.2, 0.0, 0.6],
                  [0.35, 0.1, 0.0]])
    assert tutor.concept_graph(J, top_k=1) == [(1, 2, 0.6), (0, 1, 0.5), (2, 0, 0.35)]  # floor: the mean, 0.31
    assert tutor.concept_graph(J, top_k=2, min_weight=0.15) == [(1, 2, 0.6), (0, 1, 0.5), (2, 0, 0.35),
                                                                (1, 0, 0.2)]
    with pytest.raises(ValueError, match="square"):
        tutor.concept_graph(np.ones((2, 3)))


def test_concept_graph_edges_of_a_trained_network(fixed):
    model, students = fixed
    edges = tutor.concept_graph(tutor.context_influence(model, students))
    assert edges and all(0 <= i < 20 and 0 <= j < 20 and i != j for i, j, _ in edges)
    same = np.mean([students.concepts[i] == students.concepts[j] for i, j, _ in edges])
    assert same >= 0.8                                                         # 2 concepts: chance is 0.5


# ------------------------------------------------------------------------------------------ the concepts
def test_cluster_questions_finds_the_hidden_concepts(fixed):
    model, students = fixed
    labels = tutor.cluster_questions(model, 2, students=students)
    assert labels.shape == (20,) and set(labels) == {0, 1}
    # 1.00 measured for 5 initial seeds x 15/20/25 epochs, and for 6 data seeds at 20 epochs
    assert adjusted_rand_score(students.concepts, labels) >= 0.9


def test_every_method_runs_and_finds_concepts_in_random_order(shuffled):
    model, students = shuffled
    for method in tutor.METHODS:
        labels = tutor.cluster_questions(model, 2, method=method, students=students, max_students=50)
        assert labels.shape == (10,) and set(labels) <= {0, 1}, method
    labels = tutor.cluster_questions(model, 2, method="flip", students=students, max_students=50)
    again = tutor.cluster_questions(model, 2, method="flip", students=students, max_students=50)
    np.testing.assert_array_equal(labels, again)                               # seeded: same call, same labels
    # with no fixed order the paper's J works too (1.00 measured, as for every method)
    labels = tutor.cluster_questions(model, 2, method="influence")
    assert adjusted_rand_score(students.concepts, labels) >= 0.9


def test_cluster_questions_errors(fixed):
    model, students = fixed
    with pytest.raises(ValueError, match="unknown method 'kmeans'"):
        tutor.cluster_questions(model, 2, method="kmeans")
    with pytest.raises(ValueError, match="needs students"):
        tutor.cluster_questions(model, 2, method="flip")
    with pytest.raises(ValueError, match="num_concepts"):
        tutor.cluster_questions(model, 0, students=students)
    with pytest.raises(ValueError, match="50 questions but the model knows 20"):
        tutor.cluster_questions(model, 2, students=th.data.synthetic_students(10, 50, 2))


# -------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call", [
    lambda m: tutor.knowledge_trace(m, [1, 2], [1]),
    lambda m: tutor.suggest_next(m, [1, 2, 3], [1, 0]),
    lambda m: tutor.answer(m, [1], [1, 0], 2, 1),
])
def test_length_mismatch_is_named(fixed, call):
    with pytest.raises(ValueError, match="questions but .* answers"):
        call(fixed[0])


@pytest.mark.parametrize("call, message", [
    (lambda m: tutor.knowledge_trace(m, [1, 20], [1, 0]), "question id 20 is out of range.*0..19"),
    (lambda m: tutor.knowledge_trace(m, [-1, 2], [1, 0]), "question id -1 is out of range"),
    (lambda m: tutor.knowledge_trace(m, [1.5, 2], [1, 0]), "whole numbers"),
    (lambda m: tutor.suggest_next(m, [1], [1], candidates=[3, 25]), "candidate 25 is out of range"),
    (lambda m: tutor.suggest_next(m, [1], [1], candidates=[]), "no candidate"),
    (lambda m: tutor.answer(m, [1], [1], 30, 1), "question id 30 is out of range"),
    (lambda m: tutor.knowledge_trace(m, [1, 2], [1, 2]), "answers must be 0 .* or 1 .*, got 2"),
    (lambda m: tutor.suggest_next(m, [1, 2], [0.5, 1]), "answers must be 0"),
    (lambda m: tutor.answer(m, [1], [1], 2, 3), "answers must be 0"),
    (lambda m: tutor.answer(m, [1], [1], [2, 3], 1), "one question and one answer"),
    (lambda m: tutor.knowledge_trace(m, [[1, 2]], [[1, 0]]), "1-D"),
])
def test_bad_input_is_named(fixed, call, message):
    with pytest.raises(ValueError, match=message):
        call(fixed[0])
