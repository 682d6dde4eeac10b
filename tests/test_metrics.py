"""Metrics against scikit-learn on random inputs, their tie rules and errors, and properties (hypothesis)."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import thetas as th
from thetas import metrics as M


@pytest.fixture
def skm():
    return pytest.importorskip("sklearn.metrics")


def _data(seed=0, n=300, c=6):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    scores = rng.normal(size=(n, c)) + 1.5 * np.eye(c)[y]  # better than chance, no ties
    return y, scores


# ------------------------------------------------------------------------------------------------ accuracy
def test_accuracy_matches_sklearn_for_labels_scores_probabilities_and_logits(skm):
    y, scores = _data()
    assert M.accuracy(y, scores) == skm.accuracy_score(y, scores.argmax(1))
    assert M.accuracy(y, scores.argmax(1)) == skm.accuracy_score(y, scores.argmax(1))
    rng = np.random.default_rng(1)
    yb = rng.integers(0, 2, 200)
    z = rng.normal(size=200) + (2 * yb - 1)
    p = 1 / (1 + np.exp(-z))
    expected = skm.accuracy_score(yb, (p > 0.5).astype(int))
    assert 0.6 < expected < 0.95
    assert M.accuracy(yb, p) == expected  # probabilities ŷ, threshold 0.5
    assert M.accuracy(yb, p[:, None]) == expected  # one output unit (N, 1)
    assert M.accuracy(yb, z, threshold=0.0) == expected  # logits z: σ(z) > 0.5 ⟺ z > 0
    assert M.accuracy(yb, p, threshold=0.9) == skm.accuracy_score(yb, (p > 0.9).astype(int))


def test_accuracy_takes_lists_tensors_and_whole_float_labels():
    y, scores = _data(2, n=50)
    expected = np.mean(scores.argmax(1) == y)
    assert M.accuracy(th.tensor(y), th.tensor(scores)) == expected
    assert M.accuracy(y.astype(np.float32), scores.tolist()) == expected
    assert M.accuracy(y.tolist(), scores.argmax(1).tolist()) == expected
    assert isinstance(M.accuracy(y, scores), float)


def test_accuracy_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match="3 labels in y_true but 2 predictions"):
        M.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="whole numbers.*0.5 at index 1"):
        M.accuracy([0.0, 0.5], [0, 1])
    with pytest.raises(ValueError, match=r"shape \(N,\), got shape \(2, 2\)"):
        M.accuracy(np.zeros((2, 2), int), [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        M.accuracy([0, 1], np.array([[0.2, np.nan], [0.3, 0.1]]))
    with pytest.raises(ValueError, match="no examples"):
        M.accuracy([], np.array([], int))


# ------------------------------------------------------------------------------------------------ top-k
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_top_k_matches_sklearn(skm, k):
    y, scores = _data(3, c=8)
    expected = skm.top_k_accuracy_score(y, scores, k=k, labels=np.arange(8))
    assert M.top_k_accuracy(y, scores, k=k) == pytest.approx(expected, abs=1e-15)
    assert M.top_k_error(y, scores, k=k) == pytest.approx(1 - expected, abs=1e-15)
    if k == 1:
        assert M.top_k_accuracy(y, scores, k=1) == pytest.approx(M.accuracy(y, scores), abs=1e-15)


def test_top_k_tie_rule_counts_strictly_higher_scores():
    scores = np.array([[3.0, 2.0, 2.0, 2.0, 1.0]])
    # class 3 ties with classes 1 and 2: only class 0 scores strictly higher, so it is in the top 2
    assert M.top_k_error([3], scores, k=2) == 0.0
    assert M.top_k_error([4], scores, k=4) == 1.0  # four classes above it
    assert M.top_k_error([4], scores, k=5) == 0.0
    assert M.top_k_error([0], scores, k=1) == 0.0
    assert M.top_k_error([2], scores, k=1) == 1.0
    assert M.top_k_error([2], scores, k=100) == 0.0  # k ≥ C: every class is in the top k


def test_top_k_errors():
    y, scores = _data(4, n=10, c=4)
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        M.top_k_error(y, scores, k=0)
    with pytest.raises(ValueError, match=r"label 4 at index 2 is out of range for 4 classes"):
        M.top_k_error(np.r_[y[:2], 4, y[3:]], scores, k=2)
    with pytest.raises(ValueError, match=r"shape \(N, C\), got \(10,\)"):
        M.top_k_error(y, scores[:, 0])
    with pytest.raises(ValueError, match="10 labels in y_true but 9 rows of scores"):
        M.top_k_error(y, scores[:9])


# ------------------------------------------------------------------------------------------------ ROC AUC
@pytest.mark.parametrize("seed", range(4))
def test_roc_auc_matches_sklearn_with_many_ties(skm, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    coarse = np.round(rng.normal(size=500) + 0.7 * y, 1)  # ~60 distinct values over 500 examples
    assert len(np.unique(coarse)) < 100
    assert M.roc_auc(y, coarse) == pytest.approx(skm.roc_auc_score(y, coarse), abs=1e-14)
    levels = rng.integers(0, 4, 500) + y  # five levels only
    assert M.roc_auc(y, levels) == pytest.approx(skm.roc_auc_score(y, levels), abs=1e-14)
    fine = rng.normal(size=500) + y
    assert M.roc_auc(y, fine) == pytest.approx(skm.roc_auc_score(y, fine), abs=1e-14)


def test_roc_auc_labels_bools_and_shapes(skm):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 100)
    s = rng.normal(size=100) + y
    auc = skm.roc_auc_score(y, s)
    assert M.roc_auc(y.astype(bool), s) == pytest.approx(auc, abs=1e-14)
    assert M.roc_auc(y + 1, s) == pytest.approx(auc, abs=1e-14)  # {1, 2}: the larger label is positive
    assert M.roc_auc(y[:, None], s[:, None]) == pytest.approx(auc, abs=1e-14)
    assert M.roc_auc(th.tensor(y), th.tensor(s)) == pytest.approx(auc, abs=1e-14)
    assert M.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75  # the textbook example


def test_roc_auc_errors():
    with pytest.raises(ValueError, match="exactly two classes, got 1: \\[1\\]"):
        M.roc_auc([1, 1, 1], [0.2, 0.5, 0.9])
    with pytest.raises(ValueError, match="exactly two classes, got 3"):
        M.roc_auc([0, 1, 2], [0.2, 0.5, 0.9])
    with pytest.raises(ValueError, match=r"scores\[:, 1\]"):
        M.roc_auc([0, 1], np.eye(2))
    with pytest.raises(ValueError, match="NaN"):
        M.roc_auc([0, 1], [0.2, np.nan])


# ------------------------------------------------------------------------------------------------ confusion matrix
def test_confusion_matrix_matches_sklearn(skm):
    y, scores = _data(6, c=5)
    pred = scores.argmax(1)
    cm = M.confusion_matrix(y, pred)
    assert cm.dtype == np.int64 and cm.shape == (5, 5)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, pred, labels=np.arange(5)))
    np.testing.assert_array_equal(M.confusion_matrix(y, scores), cm)  # scores: the argmax is the prediction
    wide = M.confusion_matrix(y, pred, num_classes=7)
    np.testing.assert_array_equal(wide, skm.confusion_matrix(y, pred, labels=np.arange(7)))
    assert M.confusion_matrix([0, 1, 1], [1, 1, 0]).tolist() == [[0, 1], [1, 1]]  # rows true, columns predicted


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="y_pred label 3 at index 1 is out of range for 3 classes"):
        M.confusion_matrix([0, 1], [0, 3], num_classes=3)
    with pytest.raises(ValueError, match="2 labels in y_true but 3 predictions"):
        M.confusion_matrix([0, 1], [0, 1, 1])


# ------------------------------------------------------------------------------------------------ log-likelihood
def test_log_likelihood_matches_sklearn_log_loss(skm):
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 50)
    p = rng.uniform(0.02, 0.98, 50)
    expected = np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert M.log_likelihood(y, p) == pytest.approx(expected, rel=1e-13)
    assert M.log_likelihood(y, p) == pytest.approx(-50 * skm.log_loss(y, p), rel=1e-12)
    assert M.log_likelihood(y[:, None], p[:, None]) == pytest.approx(expected, rel=1e-13)
    labels = rng.integers(0, 4, 50)
    labels[:4] = np.arange(4)
    P = rng.dirichlet(np.ones(4), 50)
    assert M.log_likelihood(labels, P) == pytest.approx(np.log(P[np.arange(50), labels]).sum(), rel=1e-13)
    assert M.log_likelihood(labels, P) == pytest.approx(-50 * skm.log_loss(labels, P, labels=range(4)), rel=1e-10)


def test_log_likelihood_clips_and_rejects_non_probabilities():
    assert M.log_likelihood([1, 0], [0.0, 1.0]) == pytest.approx(2 * np.log(1e-12), rel=1e-5)  # not −inf
    assert M.log_likelihood([1, 0], [0.0, 1.0], eps=1e-6) == pytest.approx(2 * np.log(1e-6), rel=1e-5)
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\], got 2.0 at flat index 1.*sigmoid"):
        M.log_likelihood([1, 0], [0.5, 2.0])


# ------------------------------------------------------------------------------------------------ registry
def test_metrics_registry_and_get():
    assert M.get("accuracy") is M.accuracy and M.get("auc") is M.roc_auc is M.METRICS["roc_auc"]
    assert M.get(M.accuracy) is M.accuracy
    y, scores = _data(8, n=60, c=10)
    assert M.get("top5_error")(y, scores) == M.top_k_error(y, scores, k=5)
    top3 = M.get("top3_error")
    assert top3.__name__ == "top3_error" and top3(y, scores) == M.top_k_error(y, scores, k=3)
    assert M.get("top_2_accuracy")(y, scores) == M.top_k_accuracy(y, scores, k=2)
    with pytest.raises(ValueError, match="unknown metric 'f1'; choose one of accuracy, auc, .*roc_auc"):
        M.get("f1")
    # by name: the metrics that give one number (confusion_matrix gives a table)
    assert set(M.METRICS.values()) == {M.accuracy, M.top_k_error, M.top_k_accuracy, M.roc_auc, M.log_likelihood}


# ------------------------------------------------------------------------------------------------ properties
def _pairwise_auc(y, s):
    """P(score of a positive > score of a negative) + ½ P(tie): the definition, O(n₊ n₋)."""
    pos, neg = s[y == 1][:, None], s[y == 0][None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


labelled_scores = st.lists(st.tuples(st.integers(0, 1), st.integers(-6, 6)), min_size=2, max_size=60)


@settings(max_examples=150, deadline=None)
@given(labelled_scores)
def test_roc_auc_is_the_pairwise_probability_and_invariant_to_monotone_maps(pairs):
    y = np.array([p[0] for p in pairs])
    s = np.array([p[1] for p in pairs], dtype=np.float64)
    assume(0 < y.sum() < len(y))
    auc = M.roc_auc(y, s)
    assert auc == pytest.approx(_pairwise_auc(y, s), abs=1e-12)
    for increasing in (lambda v: 3 * v + 7, lambda v: v ** 3, lambda v: np.exp(v / 4), lambda v: 1 / (1 + np.exp(-v))):
        assert M.roc_auc(y, increasing(s)) == pytest.approx(auc, abs=1e-12)
    assert M.roc_auc(y, -s) == pytest.approx(1 - auc, abs=1e-12)  # AUC(y, −s) = 1 − AUC(y, s)
    assert M.roc_auc(1 - y, s) == pytest.approx(1 - auc, abs=1e-12)  # swapping the classes does the same


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(2, 7), st.integers(0, 2**32 - 1))
def test_top_k_is_the_strictly_higher_count_rule_and_grows_with_k(n, c, seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, (n, c)).astype(np.float64)  # many ties
    y = rng.integers(0, c, n)
    higher = (scores > scores[np.arange(n), y][:, None]).sum(1)
    accs = [M.top_k_accuracy(y, scores, k=k) for k in range(1, c + 1)]
    for k, acc in zip(range(1, c + 1), accs):
        assert acc == pytest.approx(np.mean(higher < k), abs=1e-12)
    assert all(a <= b for a, b in zip(accs, accs[1:])) and accs[-1] == 1.0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=50))
def test_confusion_matrix_adds_up(pairs):
    y, pred = np.array(pairs).T
    cm = M.confusion_matrix(y, pred, num_classes=5)
    assert cm.sum() == len(y)
    np.testing.assert_array_equal(cm.sum(1), np.bincount(y, minlength=5))  # rows: true classes
    np.testing.assert_array_equal(cm.sum(0), np.bincount(pred, minlength=5))  # columns: predictions
    assert np.trace(cm) / len(y) == pytest.approx(M.accuracy(y, pred), abs=1e-15)
