"""The DKT paper's simulated students (Simulated-5) and the best any model can do on them.

``synthetic_students`` draws students from Item Response Theory plus learning; ``optimal_predictions`` is the
Bayes posterior with the simulator's true parameters, the ceiling a DKT is measured against (``optimal_auc``).
"""
import numpy as np

from .students import Students


def synthetic_students(num_students=4000, num_questions=50, num_concepts=5, seed=0, guess=0.25, skill_gain=0.6,
                       skill_sd=1.5, learn_from="correct", difficulty=None):
    """The paper's simulated students (Simulated-5 with the defaults): Item Response Theory plus learning.

    Question j has one hidden concept c_j (assigned at random, every concept getting ⌊M/C⌋ or ⌈M/C⌉ questions)
    and a difficulty β_j ~ N(0, 1). Student s has a skill α_{s,c} per concept, α_0 ~ N(0, ``skill_sd``²)
    independently. Every student answers all M questions once, in the same random order (fixed for the
    dataset), and

        P(correct) = c + (1 − c) / (1 + exp(β_j − α_{s,c_j}))       c = guess (a random guess is right 1/4)

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


def optimal_auc(students):
    """Pooled AUC of the Bayes-optimal predictions on every answer after the first (step 0 has no earlier answer
    to learn from): the ceiling of simulated data, ``optimal_test_auc`` in ``thetas dkt --json``."""
    from ..metrics import roc_auc
    P, A = optimal_predictions(students), np.stack(students.answers)
    return float(roc_auc(A[:, 1:].ravel(), P[:, 1:].ravel()))
