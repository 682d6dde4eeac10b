"""Checks for the exercises of ``notebooks/10_knowledge_tracing.ipynb``: Deep Knowledge Tracing.

The input at step t is the one-hot code of the student's interaction (q_t, a_t) in 2M dimensions, as thetas' DKT
reads it: unit q_t + M·a_t (a wrong answer lights unit q, a correct one unit M + q). The network is scored by the
AUC of its next-answer predictions: the probability that a random correct answer got a higher predicted P(correct)
than a random wrong one (ties count one half).
"""
import numpy as np

from . import Verdict, as_number, call, right, wrong

__all__ = ["AUC_LABELS", "AUC_SCORES", "check_one_hot", "check_auc"]

AUC_LABELS = np.array([1, 0, 1, 1, 0])                 # exercise 2: was each next answer correct?
AUC_SCORES = np.array([0.9, 0.4, 0.4, 0.8, 0.1])       # exercise 2: the predicted P(correct) of each



def check_one_hot(one_hot):
    """Exercise 1: ``one_hot(q, a, M)`` returns the (2M,) input x_t of thetas' DKT for question q (0..M−1) answered
    a (1 correct, 0 wrong): all zeros but a 1 at index q + M·a. Checked on every (q, a) for M = 1, 3 and 7."""
    for M in (3, 7, 1):
        for q in range(M):
            for a in (0, 1):
                value, verdict = call(one_hot, q, a, M)
                if verdict is not None:
                    return verdict
                told = f"for question q = {q} answered a = {a} with M = {M} questions:"
                if value.shape != (2 * M,):
                    if value.size == 1:
                        return wrong(f"{told} you returned one number (an index?). Return the whole vector x_t: "
                                     f"{2 * M} numbers, all 0 but one 1.")
                    hint = " (one unit per question is not enough: the code must also say right or wrong)" \
                        if value.shape == (M,) else ""
                    return wrong(f"{told} x_t should have 2M = {2 * M} entries, got shape {value.shape}{hint}.")
                if not (np.isin(value, (0, 1)).all() and value.sum() == 1):
                    return wrong(f"{told} x_t should be one-hot: a single 1 and zeros elsewhere, got {value.tolist()}.")
                k = int(np.argmax(value))
                if k == q + M * a:
                    continue
                if k == 2 * q + a:
                    return wrong(f"{told} you put the 1 at index 2q + a = {k}: a fine code too (one unit per "
                                 "(q, a) pair), but not the one thetas' DKT reads. There the first M units are the "
                                 "wrong answers and the next M the correct ones.")
                if k == q + M * (1 - a):
                    return wrong(f"{told} right and wrong are swapped: a wrong answer (a = 0) lights unit q, a "
                                 "correct one unit M + q.")
                return wrong(f"{told} the 1 is at index {k}. Which half of the vector holds correct answers, and "
                             "where in that half does question q go?")
    return right("x_t = one-hot(q_t + M·a_t): the code thetas' DKT (and the DKT paper's) reads; the network turns it "
                 "into a column of its input weights.")


def check_auc(answer):
    """Exercise 2: the ROC AUC of ``AUC_SCORES`` for ``AUC_LABELS`` (ties counted one half; within 1e-3)."""
    value = as_number(answer, "the AUC")
    if isinstance(value, Verdict):
        return value
    pos, neg = AUC_SCORES[AUC_LABELS == 1], AUC_SCORES[AUC_LABELS == 0]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    pairs = pos.size * neg.size
    auc = (greater + 0.5 * ties) / pairs
    if abs(value - auc) < 1e-3:
        return right(f"AUC = ({greater} + ½·{ties}) / {pairs} = {auc:.4f}: of all (correct, wrong) pairs of answers, "
                     "the share the predictions put in the right order.")
    if abs(value - greater / pairs) < 1e-3:
        return wrong("close: you left out a tie. A pair whose two predictions are equal counts one half.")
    if abs(value - (greater + ties) / pairs) < 1e-3:
        return wrong("close: a tie (equal predictions) is no better than a coin flip: it counts one half, not one.")
    if abs(value - np.mean((AUC_SCORES > 0.5) == (AUC_LABELS == 1))) < 1e-3:
        return wrong("that is the accuracy of \"correct if P > ½\". The AUC uses no threshold: it compares every "
                     "correct answer's prediction with every wrong answer's.")
    if not 0 <= value <= 1:
        return wrong(f"{value:g} is not an AUC: it is a share of pairs, between 0 and 1.")
    return wrong(f"Make every pair of one correct and one wrong answer ({pos.size} × {neg.size} = {pairs} pairs), "
                 "score each (1: the correct one got the higher prediction, ½: a tie, 0: otherwise) and take the mean.")
