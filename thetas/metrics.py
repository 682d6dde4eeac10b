"""Metrics: how good the predictions are, as one number (or a table), in NumPy.

scikit-learn's argument order ``f(y_true, y_score, *, ...)``; each takes NumPy arrays, lists or Tensors, never
builds a graph, and returns a Python float (``confusion_matrix``: an int64 array). Labels are integers
0..C-1 (floats holding whole numbers, as read from a CSV file, are accepted).
"""
import functools
import re

import numpy as np

from .tensor import Tensor

__all__ = ["accuracy", "top_k_error", "top_k_accuracy", "roc_auc", "confusion_matrix", "log_likelihood",
           "METRICS", "get"]


def _np(a):
    return np.asarray(a.data if isinstance(a, Tensor) else a)


def _labels(y, name, what="y_true"):
    """Class labels as int64 (N,): from ints, bools, or floats holding whole numbers."""
    y = _np(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name}: {what} must be labels of shape (N,), got shape {y.shape}")
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if bad.size:
            raise ValueError(f"{name}: {what} must hold class labels (whole numbers), got {y[bad[0]]} at index "
                             f"{bad[0]}")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"{name}: {what} must hold class labels, got dtype {y.dtype}")
    return y.astype(np.int64)


def _scores(s, name, what="scores"):
    s = _np(s)
    if s.dtype.kind not in "fiub":
        raise ValueError(f"{name}: {what} must be numbers, got dtype {s.dtype}")
    if s.dtype.kind == "f" and np.isnan(s).any():
        raise ValueError(f"{name}: {what} contain NaN (at flat index {np.flatnonzero(np.isnan(s))[0]})")
    return s


def _check_range(labels, num_classes, name, what="y_true"):
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        raise ValueError(f"{name}: {what} label {labels[bad[0]]} at index {bad[0]} is out of range for "
                         f"{num_classes} classes (labels must be in 0..{num_classes - 1})")


def _same_length(a, b, name, what="predictions"):
    if len(a) != len(b):
        raise ValueError(f"{name}: {len(a)} labels in y_true but {len(b)} {what}")


def _predicted_labels(y_pred, threshold, name):
    """Labels from labels (N,), class scores (N, C) (argmax), or one float per example (> threshold)."""
    p = _np(y_pred)
    if p.ndim == 2 and p.shape[1] > 1:
        return _scores(p, name, "y_pred").argmax(axis=1)
    if p.dtype.kind == "f":
        if p.ndim not in (1, 2):
            raise ValueError(f"{name}: y_pred must have shape (N,), (N, 1) or (N, C), got {p.shape}")
        return (_scores(p, name, "y_pred").reshape(-1) > threshold).astype(np.int64)
    return _labels(p, name, "y_pred")


def accuracy(y_true, y_pred, *, threshold=0.5):
    """Fraction of examples predicted right:  accuracy = (1/N) Σ_i [ŷ_i = y_i]  (1 − top-1 error).

    ``y_pred`` is one of
      labels (N,) of an integer dtype;
      class scores (N, C) (probabilities or logits): the prediction is the argmax;
      one float per example, (N,) or (N, 1): a probability ŷ = σ(z), predicting class 1 where ŷ > ``threshold``
      (0.5). For logits z pass ``threshold=0``: σ(z) > 0.5 exactly when z > 0.
    """
    y_true = _labels(y_true, "accuracy")
    pred = _predicted_labels(y_pred, threshold, "accuracy")
    _same_length(y_true, pred, "accuracy")
    if not len(y_true):
        raise ValueError("accuracy: no examples")
    return float(np.mean(pred == y_true))


def top_k_error(y_true, scores, *, k=5):
    """Fraction of examples whose true class is NOT among the k highest scores (ImageNet's top-5 error).

    Ties: the true class is in the top k when fewer than k classes score strictly higher than it, i.e. when its
    score is at least the k-th highest score of its row (an optimistic rule; scikit-learn breaks ties by class
    index instead; without ties the two agree). k ≥ C gives 0. A uniform random guess over C classes has top-k
    error 1 − k/C: 99.5 % for k = 5 and C = 1,000.

    Shape: y_true (N,) labels in 0..C-1, scores (N, C).
    """
    return float(np.mean(~_in_top_k(y_true, scores, k, "top_k_error")))


def top_k_accuracy(y_true, scores, *, k=5):
    """Fraction of examples whose true class is among the k highest scores: 1 − ``top_k_error`` (same ties)."""
    return float(np.mean(_in_top_k(y_true, scores, k, "top_k_accuracy")))


def _in_top_k(y_true, scores, k, name):
    y_true = _labels(y_true, name)
    scores = _scores(scores, name)
    if scores.ndim != 2:
        raise ValueError(f"{name}: scores must have shape (N, C), got {scores.shape}")
    _same_length(y_true, scores, name, "rows of scores")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{name}: k must be an integer >= 1, got {k!r}")
    n, c = scores.shape
    _check_range(y_true, c, name)
    if not n:
        raise ValueError(f"{name}: no examples")
    if k >= c:
        return np.ones(n, bool)
    kth = np.partition(scores, c - k, axis=1)[:, c - k]  # the k-th highest score of each row, O(C) per row
    return scores[np.arange(n), y_true] >= kth


def roc_auc(y_true, y_score):
    """Area under the ROC curve, exact: the probability that a random positive scores above a random negative,
    ties counting ½. From ranks (Mann–Whitney U), tied scores sharing their average rank, in O(n log n):

        AUC = (Σ_{i positive} rank_i − n₊(n₊ + 1)/2) / (n₊ n₋)

    y_true holds two classes; the larger label (1 of {0, 1}, True of bools) is the positive one. y_score (N,) is
    any score that grows with P(Y = 1): ŷ, or the logit z (the same AUC, since σ is increasing).
    """
    y_true = _np(y_true)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true[:, 0]
    y_score = _scores(y_score, "roc_auc", "y_score")
    if y_score.ndim == 2 and y_score.shape[1] == 1:
        y_score = y_score[:, 0]
    if y_true.ndim != 1 or y_score.ndim != 1:
        raise ValueError(f"roc_auc: y_true and y_score must have shape (N,), got {y_true.shape} and {y_score.shape}"
                         "; for two class scores (N, 2) pass the score of class 1, e.g. scores[:, 1]")
    _same_length(y_true, y_score, "roc_auc", "scores")
    classes = np.unique(y_true)
    if len(classes) != 2:
        raise ValueError(f"roc_auc is undefined unless y_true holds exactly two classes, got {len(classes)}: "
                         f"{classes[:10].tolist()}")
    pos = y_true == classes[1]
    n_pos = int(pos.sum())
    n_neg = len(y_true) - n_pos
    order = np.argsort(y_score, kind="stable")
    s = y_score[order]
    starts = np.r_[0, np.flatnonzero(s[1:] != s[:-1]) + 1]  # each run of tied scores
    ends = np.r_[starts[1:], len(s)]
    ranks = np.empty(len(s))
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # 1-based average rank of the run
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def confusion_matrix(y_true, y_pred, *, num_classes=None, threshold=0.5):
    """M[i, j] = number of examples of true class i predicted as class j (rows true, columns predicted, as in
    scikit-learn). ``y_pred`` is read as in ``accuracy``; C = ``num_classes``, or 1 + the largest label seen.

    Shape: (C, C), int64.
    """
    y_true = _labels(y_true, "confusion_matrix")
    pred = _predicted_labels(y_pred, threshold, "confusion_matrix")
    _same_length(y_true, pred, "confusion_matrix")
    if num_classes is None:
        c = int(max(y_true.max(initial=-1), pred.max(initial=-1))) + 1
    else:
        c = int(num_classes)
    _check_range(y_true, c, "confusion_matrix")
    _check_range(pred, c, "confusion_matrix", "y_pred")
    return np.bincount(y_true * c + pred, minlength=c * c).reshape(c, c).astype(np.int64, copy=False)


def log_likelihood(y_true, y_prob, *, eps=1e-12):
    """The lecture's LL(θ) = Σ_i y_i log ŷ_i + (1 − y_i) log(1 − ŷ_i) for Bernoulli labels y and
    probabilities ŷ (N,) or (N, 1); for integer labels and class probabilities (N, C): Σ_i log ŷ[i, y_i].

    ŷ is clipped to [eps, 1 − eps] (in float64) so a confident mistake costs log(eps), not −inf.
    Mean binary cross-entropy = −LL(θ) / N.
    """
    p = _np(y_prob).astype(np.float64)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        bad = np.flatnonzero(~((p >= 0) & (p <= 1)))[0]
        raise ValueError(f"log_likelihood: y_prob must be probabilities in [0, 1], got {p.flat[bad]} at flat "
                         f"index {bad} (apply sigmoid or softmax to logits first)")
    p = np.clip(p, eps, 1 - eps)
    if p.ndim == 2 and p.shape[1] > 1:
        y = _labels(y_true, "log_likelihood")
        _same_length(y, p, "log_likelihood", "rows of y_prob")
        _check_range(y, p.shape[1], "log_likelihood")
        return float(np.log(p[np.arange(len(y)), y]).sum())
    y = _np(y_true).astype(np.float64)
    if y.size != p.size or y.ndim > 2 or p.ndim > 2:
        raise ValueError(f"log_likelihood: y_true {y.shape} and y_prob {p.shape} must both be (N,) or (N, 1) with "
                         "the same N, or y_prob (N, C) with labels y_true (N,)")
    y, p = y.reshape(-1), p.reshape(-1)
    return float(np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)))


METRICS = {"accuracy": accuracy, "top_k_error": top_k_error, "top5_error": top_k_error,
           "top_k_accuracy": top_k_accuracy, "top5_accuracy": top_k_accuracy, "roc_auc": roc_auc, "auc": roc_auc,
           "log_likelihood": log_likelihood}


def get(name):
    """A metric function by name: a key of ``METRICS``, or 'topK_error' / 'topK_accuracy' for any K
    ('top3_error' is ``top_k_error`` with k=3). A function is returned as it is."""
    if callable(name):
        return name
    if not isinstance(name, str):
        raise TypeError(f"get: expected a metric name or a function, got {type(name).__name__}")
    top = re.fullmatch(r"top_?(\d+)_(error|accuracy)", name)
    if top and name not in METRICS:
        fn = top_k_error if top.group(2) == "error" else top_k_accuracy
        metric = functools.partial(fn, k=int(top.group(1)))
        metric.__name__ = name
        return metric
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}; choose one of {', '.join(sorted(METRICS))} "
                         "(or topK_error / topK_accuracy for any K)") from None
