"""Metrics: NumPy in, a number out, in scikit-learn's argument order ``f(y_true, y_score, *, ...)``.

They accept NumPy arrays, lists or Tensors and never build a graph.
"""
import numpy as np

__all__ = ["accuracy", "top_k_error", "top_k_accuracy", "roc_auc", "confusion_matrix", "log_likelihood",
           "METRICS", "get"]


def _np(a):
    return np.asarray(a.data if hasattr(a, "data") and not isinstance(a, np.ndarray) else a)


def _labels(y_pred, threshold):
    y_pred = _np(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        return y_pred.argmax(axis=1)
    if y_pred.dtype.kind == "f":
        return (y_pred.reshape(-1) > threshold).astype(np.int64)
    return y_pred.reshape(-1)


def accuracy(y_true, y_pred, *, threshold=0.5):
    """Fraction of correct predictions (1 − top-1 error).

    ``y_pred`` is labels (N,), class scores (N, C) (the argmax is the prediction), or one float per example
    (probabilities ŷ, class 1 where ŷ > ``threshold``; pass ``threshold=0`` for logits).
    """
    y_true = _np(y_true).reshape(-1)
    pred = _labels(y_pred, threshold)
    if pred.shape != y_true.shape:
        raise ValueError(f"accuracy: {y_true.shape[0]} labels but {pred.shape[0]} predictions")
    return float(np.mean(pred == y_true)) if y_true.size else float("nan")


def top_k_error(y_true, scores, *, k=5):
    """Fraction of examples whose true class is NOT among the k highest scores (ImageNet's top-5 error).

    Ties: the true class counts as in the top k when fewer than k classes score strictly higher.
    A uniform random guess over C classes has top-k error 1 − k/C (99.5 % for k = 5, C = 1,000).
    """
    y_true, scores = _np(y_true).reshape(-1), _np(scores)
    if scores.ndim != 2 or scores.shape[0] != y_true.shape[0]:
        raise ValueError(f"top_k_error: scores must have shape (N, C) with N = {y_true.shape[0]}, got {scores.shape}")
    if not 1 <= k:
        raise ValueError(f"top_k_error: k must be at least 1, got {k}")
    true_score = scores[np.arange(len(y_true)), y_true]
    higher = (scores > true_score[:, None]).sum(axis=1)
    return float(np.mean(higher >= k))


def top_k_accuracy(y_true, scores, *, k=5):
    """1 − top_k_error."""
    return 1.0 - top_k_error(y_true, scores, k=k)


def roc_auc(y_true, y_score):
    """Area under the ROC curve, exact: the probability that a random positive scores above a random negative
    (ties count ½). Computed from ranks (Mann–Whitney U) with average ranks for ties, O(n log n)."""
    y_true, y_score = _np(y_true).reshape(-1), _np(y_score).reshape(-1).astype(np.float64)
    if y_true.shape != y_score.shape:
        raise ValueError(f"roc_auc: {y_true.size} labels but {y_score.size} scores")
    pos = y_true == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc is undefined when y_true holds only one class")
    order = np.argsort(y_score, kind="mergesort")
    s = y_score[order]
    ranks = np.empty(len(s))
    # average rank of each run of tied scores (1-based)
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    ends = np.r_[starts[1:], len(s)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def confusion_matrix(y_true, y_pred, *, num_classes=None):
    """C[i, j] = number of examples of true class i predicted as j (rows true, columns predicted)."""
    y_true, y_pred = _np(y_true).reshape(-1).astype(np.int64), _labels(y_pred, 0.5).astype(np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix: {y_true.size} labels but {y_pred.size} predictions")
    k = num_classes or int(max(y_true.max(initial=-1), y_pred.max(initial=-1)) + 1)
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def log_likelihood(y_true, y_prob, *, eps=1e-12):
    """LL = Σ y log ŷ + (1 − y) log(1 − ŷ) for Bernoulli labels and probabilities ŷ (N,);
    Σ log ŷ[i, y_i] for integer labels and class probabilities (N, C)."""
    y_true, p = _np(y_true), np.clip(_np(y_prob).astype(np.float64), eps, 1 - eps)
    if p.ndim == 2 and p.shape[1] > 1:
        return float(np.log(p[np.arange(len(y_true)), y_true.astype(np.int64)]).sum())
    y, p = y_true.reshape(-1).astype(np.float64), p.reshape(-1)
    return float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


METRICS = {"accuracy": accuracy, "top5_error": top_k_error, "top_k_error": top_k_error,
           "top5_accuracy": top_k_accuracy, "roc_auc": roc_auc, "auc": roc_auc}


def get(name):
    """A metric by name: one of ``METRICS``."""
    if callable(name):
        return name
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}; choose one of {sorted(METRICS)}") from None
