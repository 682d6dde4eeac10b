"""The robo-tutor: what does the student know, and what should they do next?

The lecture's story of Riley: Riley answers exercises one after another, right or wrong, and a trained Deep
Knowledge Tracing network (``th.models.DKT``, Piech et al. 2015) turns the answers so far into a prediction of
P(correct) on every exercise: a picture of Riley's knowledge. Here are the uses the paper puts it to:

    knowledge_trace     what does Riley know?   (T, M): P(correct) on every question after each answer
    suggest_next        what should Riley do next?   the question whose practice most raises expected mastery
    answer              answer as Riley: append one answer, get the new sequence and knowledge trace
    influence_matrix    the paper's J_ij: how answering i correctly first moves the prediction for j
    context_influence   the same question asked inside real students' sequences (flip one real answer)
    concept_graph       the strong edges i → j of an influence matrix: the paper's map of the exercises
    cluster_questions   the hidden concepts: questions that move together, grouped

Conventions: questions are int ids 0..M-1, answers 0 (wrong) / 1 (correct). "Mastery" of a question is the
network's predicted P(correct) on it; the mean over the M questions is the student's expected mean mastery.
"""
import numpy as np

from ..autograd.ops import _sigmoid   # the one σ of thetas
from .model import dkt_array, dkt_batch


# -------------------------------------------------------------------------------------------- one student
def _sequence(model, questions, answers, what):
    """(q, a): a student's answers checked against the model, as 1-D int64 arrays."""
    q, a = np.asarray(questions), np.asarray(answers)
    if q.ndim != 1 or a.ndim != 1:
        raise ValueError(f"{what}: questions and answers must be 1-D sequences (one student), got shapes "
                         f"{q.shape} and {a.shape}")
    if len(q) != len(a):
        raise ValueError(f"{what}: {len(q)} questions but {len(a)} answers; there must be one answer per question")
    return _ids(model, q, what, "question id"), _answers(a, what)


def _ids(model, q, what, name):
    q, M = np.asarray(q), model.num_questions
    if q.dtype.kind not in "iub" and (q.dtype.kind != "f" or not np.array_equal(q, np.round(q))):
        raise ValueError(f"{what}: {name}s must be whole numbers 0..{M - 1}, got {q.reshape(-1)[:5]}")
    q = q.astype(np.int64)
    bad = (q < 0) | (q >= M)
    if bad.any():
        raise ValueError(f"{what}: {name} {q[bad][0]} is out of range; the model knows questions 0..{M - 1}")
    return q


def _answers(a, what):
    a = np.asarray(a)
    ok = (a == 0) | (a == 1) if a.dtype.kind in "iubf" else np.zeros(a.shape, bool)
    if not ok.all():
        raise ValueError(f"{what}: answers must be 0 (wrong) or 1 (correct), got {a[~ok].reshape(-1)[0]}")
    return a.astype(np.int64)


def _prior(model):
    """P(correct) on every question before any answer: the network after one "no input" step (M,). DKT is never
    trained on this step, so it is a rough baseline; only ``suggest_next`` on an empty history uses it."""
    return model.predict_proba(np.array([[[-1, 0]]]))[0, 0]


def knowledge_trace(model, questions, answers):
    """What does Riley know? The predicted P(correct) on every question after each of the student's answers.

        trace[t, j] = P(a_j correct | (q_1, a_1), ..., (q_{t+1}, a_{t+1}))     row t: after answer t (0-based)

    Args:
        model: a trained ``DKT`` (M questions).
        questions: (T,) the student's question ids, in the order they were given.
        answers: (T,) the student's 0/1 answers, in the same order.
    Returns: (T, M) NumPy probabilities (``th.viz.plot_knowledge_trace`` draws it); (0, M) for no answers.
    """
    q, a = _sequence(model, questions, answers, "knowledge_trace")
    if len(q) == 0:
        return _prior(model)[None][:0]                                          # (0, M)
    return model.predict_proba(dkt_batch(q[None], a[None]))[0]                  # (T, M)


def suggest_next(model, questions, answers, candidates=None, chunk=256):
    """What should Riley do next? The question whose practice most raises the expected mean mastery, by a
    one-step look-ahead over both outcomes (the student gets it right with the predicted probability p_q):

        E_q    = p_q · mean_j P(j | history, (q, correct)) + (1 − p_q) · mean_j P(j | history, (q, wrong))
        gain_q = E_q − mean_j P(j | history)

    The history is read once; all 2K hypothetical next steps (K candidates, each answered right and wrong) then
    go through the network in one batch, each continuing from the history's recurrent state (T + 1 steps of
    work, not 2K·(T + 1)). With no answers yet, p_q and "now" come from the network's state before any input (a
    rough prior). The look-ahead trusts the network about any question at any point: one trained on students who
    all follow one order (the simulated data) has never seen most of these steps, so its advice there is a guess.

    Args:
        candidates: the question ids to choose from (default: all M).
        chunk: hypothetical steps per batch.
    Returns: ``(best, gain)``: the candidate with the largest expected gain, and gain (M,) with NaN for the
        questions that are not candidates.
    """
    q, a = _sequence(model, questions, answers, "suggest_next")
    M = model.num_questions
    cand = np.arange(M) if candidates is None else _ids(model, np.unique(np.asarray(candidates).reshape(-1)),
                                                        "suggest_next", "candidate")
    if len(cand) == 0:
        raise ValueError("suggest_next: no candidate questions to choose from")
    K = len(cand)
    step = np.stack([np.tile(cand, 2), np.repeat([1, 0], K)], -1)[:, None]     # (2K, 1, 2): right, then wrong
    state, now = None, None
    with model.evaluating():
        if len(q):
            logits, state = model.run(dkt_batch(q[None], a[None]))              # the history, once
            now = _sigmoid(logits.data[0, -1])                                  # (M,)
        mean_after = np.concatenate([                                           # (2K,): mean_j P(j | ..., step)
            _sigmoid(model(step[i:i + chunk], _repeat_state(state, len(step[i:i + chunk]))).data[:, -1]).mean(1)
            for i in range(0, 2 * K, chunk)])
    now = _prior(model) if now is None else now
    p = now[cand]
    expected = p * mean_after[:K] + (1 - p) * mean_after[K:]                   # (K,)
    gain = np.full(M, np.nan)
    gain[cand] = expected - now.mean()
    return int(cand[np.argmax(gain[cand])]), gain


def _repeat_state(state, n):
    """A recurrent state of one student (tensors of shape (layers, 1, H), or a tuple of them) for n copies; None
    (a fresh student) stays None."""
    from ..tensor import Tensor
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(_repeat_state(s, n) for s in state)
    return Tensor(np.repeat(state.data, n, axis=1))


def answer(model, questions, answers, question, correct):
    """Answer as Riley: append one answer (``question``, ``correct`` 1/0 or True/False) to the student's
    sequence. Returns ``(questions, answers, trace)``: the new (T+1,) sequences and their (T+1, M)
    ``knowledge_trace``, whose last row is what the student knows now."""
    q, a = _sequence(model, questions, answers, "answer")
    if np.ndim(question) or np.ndim(correct):
        raise ValueError(f"answer: give one question and one answer, got {question!r} and {correct!r}")
    q, a = _sequence(model, np.append(q, question), np.append(a, correct), "answer")
    return q, a, knowledge_trace(model, q, a)


# ---------------------------------------------------------------------------------- how questions relate
def influence_matrix(model):
    """The paper's conditional influence of question i on question j:

        J_ij = y(j | i) / Σ_k y(j | k)

    y(j | i): the predicted P(correct) on j after a student's first answer was "i, correct". Each column sums to
    1 (J_ij is i's share of the influence on j); row i = the question answered, column j = the one predicted.
    All M one-step sequences go through the network in one batch. Caution: a network only learns what the first
    step means for the questions students actually start with; where every student follows one order (the
    simulated data) J mostly shows untrained responses (see ``cluster_questions`` for what works there).
    Returns: (M, M) NumPy.
    """
    M = model.num_questions
    x = np.stack([np.arange(M), np.ones(M, np.int64)], -1)[:, None]            # (M, 1, 2): "i, correct"
    y = model.predict_proba(x)[:, 0].astype(np.float64)                        # (M, M): y[i, j] = y(j | i)
    return y / y.sum(0, keepdims=True)


def _contexts(model, students, max_students, max_len, seed, what):
    """Real answer sequences as a padded (N, T, 2) DKT array: a ``Students`` (cut into ``max_len`` windows), or
    an array as it is; at most ``max_students`` of them, a random subset drawn with ``seed``."""
    if students is None:
        raise ValueError(f"{what} needs students: real answer sequences (a th.data.Students, or an (N, T, 2) array "
                         "from th.models.dkt_array)")
    if hasattr(students, "windows"):
        if students.num_questions != model.num_questions:
            raise ValueError(f"{what}: the students answer {students.num_questions} questions but the model knows "
                             f"{model.num_questions}")
        students = students.windows(max_len).drop_short(2)
        if max_students is not None and len(students) > max_students:
            students = students[np.sort(np.random.default_rng(seed).permutation(len(students))[:max_students])]
        return dkt_array(students)
    X = np.asarray(students)
    if X.ndim != 3 or X.shape[-1] != 2 or X.dtype.kind not in "iu":
        raise ValueError(f"{what}: students must be a th.data.Students or an integer (N, T, 2) array, got shape "
                         f"{X.shape}")
    if max_students is not None and len(X) > max_students:
        X = X[np.sort(np.random.default_rng(seed).permutation(len(X))[:max_students])]
    return X


def _flip_sums(model, X, chunk_elements=2 ** 24):
    """Σ and count, over every real (student, step s, later step u ≥ s), of the change that answer s makes in the
    network's prediction of the next real answer: P(q_{u+1} | a_s = 1) − P(q_{u+1} | a_s = 0), filed under
    (q_s, q_{u+1}). Each student is copied T times, copy s with answer s flipped: T sequences per student."""
    M = model.num_questions
    N, T, _ = X.shape
    total, count = np.zeros(M * M), np.zeros(M * M)
    chunk = max(1, chunk_elements // (T * T * M))                               # students per batch
    s_idx, u_idx = np.meshgrid(np.arange(T), np.arange(T - 1), indexing="ij")   # (T, T-1): flip s, output u
    for b in range(0, N, chunk):
        x = X[b:b + chunk]                                                      # (B, T, 2)
        B = len(x)
        q, a = x[..., 0], x[..., 1]
        flipped = np.repeat(x[:, None], T, 1)                                   # (B, T copies, T, 2)
        flipped[:, np.arange(T), np.arange(T), 1] ^= 1
        nxt = q[:, 1:]                                                          # (B, T-1): q_{u+1}
        base = np.take_along_axis(model.predict_proba(x)[:, :-1], np.maximum(nxt, 0)[..., None], -1)[..., 0]
        P = model.predict_proba(flipped.reshape(B * T, T, 2)).reshape(B, T, T, M)[:, :, :-1]
        pf = np.take_along_axis(P, np.maximum(nxt, 0)[:, None, :, None], -1)[..., 0]     # (B, T, T-1)
        sign = np.where(a == 1, 1.0, -1.0)[:, :, None]                          # (B, T, 1): real answer right?
        effect = sign * (base[:, None] - pf)                                    # (B, T, T-1): right minus wrong
        ok = (u_idx >= s_idx)[None] & (q >= 0)[:, :, None] & (nxt >= 0)[:, None, :]
        key = (q[:, :, None] * M + nxt[:, None, :])[ok]
        total += np.bincount(key, effect[ok], M * M)
        count += np.bincount(key, None, M * M)
    return total.reshape(M, M), count.reshape(M, M)


def context_influence(model, students, max_students=200, max_len=100, seed=0):
    """Influence measured in real contexts: in real students' sequences, flip one answer (to question i) and see
    how the network's prediction of each later answer (to question j) moves; average over every such pair.

        I_ij = mean over (student, s, u ≥ s: q_s = i, q_{u+1} = j) of  P(a_{u+1} | a_s = 1) − P(a_{u+1} | a_s = 0)

    Unlike ``influence_matrix`` it only reads the predictions the network was trained on (the next real answer,
    in a history like the ones it saw), so it shows what the network learned. Row i = the question answered,
    column j = the one predicted; 0 where no student answered j after i. Cost: T sequences of length T per
    student (``max_students`` students drawn with ``seed``; a ``Students`` is cut into ``max_len`` windows).

    Args:
        students: a ``th.data.Students`` or an (N, T, 2) DKT array (``th.models.dkt_array``).
    Returns: (M, M) NumPy.
    """
    total, count = _flip_sums(model, _contexts(model, students, max_students, max_len, seed, "context_influence"))
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def concept_graph(J, top_k=3, min_weight=None):
    """The strong edges of an influence matrix (row i = answered, column j = predicted), for the paper's graph:

        i → j   when   i ≠ j,   J_ij is among the top_k largest influences on j,   and   J_ij > min_weight

    ``min_weight`` defaults to the mean off-diagonal entry of J: an edge is an influence stronger than the
    average one (for ``influence_matrix``, whose columns sum to 1, that is about 1/M). Works for any influence
    matrix, ``context_influence`` too.
    Returns: a list of (i, j, weight) triples, strongest first (``th.viz.plot_influence_graph`` draws them).
    """
    J = np.asarray(J, np.float64)
    if J.ndim != 2 or J.shape[0] != J.shape[1]:
        raise ValueError(f"concept_graph: J must be a square (M, M) influence matrix, got shape {J.shape}")
    M = J.shape[0]
    k = min(int(top_k), M - 1)
    if k < 1:
        return []
    off = ~np.eye(M, dtype=bool)
    floor = J[off].mean() if min_weight is None else float(min_weight)
    A = np.where(off, J, -np.inf)
    src = np.argsort(-A, axis=0, kind="stable")[:k].reshape(-1)              # (k·M,): the strongest sources of j
    dst = np.tile(np.arange(M), k)
    w = A[src, dst]
    keep = np.flatnonzero(w > floor)
    keep = keep[np.argsort(-w[keep], kind="stable")]
    return [(int(src[e]), int(dst[e]), float(w[e])) for e in keep]


# ------------------------------------------------------------------------------------- finding concepts
def _symmetric(total, count):
    """Pairs pooled both ways: (Σ_ij + Σ_ji) / (n_ij + n_ji), 0 where neither was seen."""
    n = count + count.T
    return np.divide(total + total.T, n, out=np.zeros_like(total), where=n > 0)


def _spectral(A, k, seed):
    """Spectral clustering of an affinity matrix (made symmetric and non-negative)."""
    from sklearn.cluster import SpectralClustering
    A = np.clip((A + A.T) / 2, 0, None)
    A[~np.isfinite(A)] = 0
    A += 1e-9 * A.max(initial=1.0)                                             # keep the graph connected
    return SpectralClustering(k, affinity="precomputed", random_state=seed).fit_predict(A)


def _rows(A, k, seed):
    """k-means (cosine) on the rows of an influence matrix: questions that move the same others alike. The
    diagonal (often unseen) is set to each row's largest entry."""
    A = (A + A.T) / 2
    np.fill_diagonal(A, A.max(1))
    return _kmeans_cosine(A, k, seed)


def _kmeans_cosine(E, k, seed):
    from sklearn.cluster import KMeans
    E = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
    return KMeans(k, n_init=20, random_state=seed).fit_predict(E)


def _input_embeddings(model):
    """(M, 4H): the first recurrent layer's input weights for "i correct" minus those for "i wrong"."""
    W = model.rnn.weight_ih_l0.data.astype(np.float64)                         # (gates·H, 2M or P)
    M = model.num_questions
    if model.projection is not None:
        table = model.projection.data.astype(np.float64)                       # (2M + 1, P)
        return (table[M:2 * M] - table[:M]) @ W.T
    return (W[:, M:] - W[:, :M]).T


def _answer_correlation(model, X):
    """Pearson correlation of two questions' answers over the students who answered both (first answers only)."""
    M = model.num_questions
    A = np.full((len(X), M), np.nan)
    rows, steps = np.nonzero(X[..., 0] >= 0)
    first = np.unique(np.stack([rows, X[rows, steps, 0]], 1), axis=0, return_index=True)[1]   # row-major order
    rows, steps = rows[first], steps[first]
    A[rows, X[rows, steps, 0]] = X[rows, steps, 1]
    seen = np.isfinite(A)
    Z = np.where(seen, A - np.nanmean(np.where(seen, A, np.nan), 0), 0)
    n = seen.T.astype(float) @ seen
    cov = (Z.T @ Z) / np.maximum(n, 1)
    sd = np.sqrt(np.maximum(np.diag(cov), 1e-12))
    return cov / np.outer(sd, sd)


def _append_influence(model, X, seed, chunk_elements=2 ** 24):
    """(M, M): P(j | prefix, (i, correct)) − P(j | prefix, (i, wrong)), averaged over one random real prefix
    (1 or more answers) per student: the paper's y(j | i) asked after a real history instead of first."""
    M = model.num_questions
    lengths = (X[..., 0] >= 0).sum(1)
    X, lengths = X[lengths >= 2], lengths[lengths >= 2]
    if len(X) == 0:
        raise ValueError("cluster_questions: no student has 2 or more answers")
    cut = np.random.default_rng(seed).integers(1, lengths)                    # prefix length t, 1..L-1
    T = int(cut.max()) + 1
    step = np.stack([np.tile(np.arange(M), 2), np.repeat([1, 0], M)], -1)     # (2M, 2): i right, then i wrong
    D = np.zeros((M, M))
    chunk = max(1, chunk_elements // (2 * M * T * M))
    for b in range(0, len(X), chunk):
        x, t = X[b:b + chunk, :T], cut[b:b + chunk]
        B = len(x)
        seqs = np.repeat(x[:, None], 2 * M, 1)                                  # (B, 2M, T, 2)
        seqs[..., 0] = np.where((np.arange(T) >= t[:, None])[:, None], -1, seqs[..., 0])   # cut the prefix ...
        seqs[np.arange(B), :, t] = step                                         # ... and append (i, a) at t
        P = model.predict_proba(seqs.reshape(B * 2 * M, T, 2)).reshape(B, 2 * M, T, M)
        after = P[np.arange(B), :, t]                                           # (B, 2M, M)
        D += (after[:, :M] - after[:, M:]).sum(0)
    return D / len(X)


METHODS = ("flip", "flip_spectral", "append", "influence", "input_weights", "output_weights", "weights", "correlation")


def cluster_questions(model, num_concepts, method="flip", students=None, seed=0, max_students=200):
    """The hidden concepts: a cluster id for every question, from what the trained network has learned.

    Methods (``students``: real answer sequences, a ``th.data.Students`` or an (N, T, 2) DKT array; the first
    three read ``max_students`` of them drawn with ``seed``, "correlation" reads them all):

        "flip"            k-means (cosine) on the rows of context_influence, pooled both ways (i → j, j → i)
        "flip_spectral"   spectral clustering of the same matrix
        "append"          k-means (cosine) on the rows of P(j | prefix, i right) − P(j | prefix, i wrong), over
                          one random real prefix per student: the paper's y(j | i) asked mid-sequence
        "influence"       spectral clustering of the paper's J (influence_matrix), made symmetric
        "input_weights"   k-means (cosine) on the input weights of "i correct" minus those of "i wrong" (4H)
        "output_weights"  k-means (cosine) on the rows of the output layer (H)
        "weights"         k-means (cosine) on both, each normalised, side by side
        "correlation"     no network: spectral clustering of the correlation of the students' answers

    Adjusted Rand index against the true concepts of ``synthetic_5`` (50 questions, 5 concepts, data seed 0
    unless noted) for DKTs trained on its 2,000 training students (Adam, lr 1e-2, batch 32; test AUC 0.81 for
    every 10-epoch model), students = the training set, ``seed=0``:

                            LSTM H=200, 10 epochs           LSTM H=50, 10 ep.   GRU H=50   LSTM H=200
        method              init 0  init 1  init 2  data 1  init 0    init 1    10 ep.     3 ep. (AUC 0.76)
        flip (default)      1.00    1.00    1.00    1.00    1.00      1.00      1.00       0.22
        flip_spectral       1.00    1.00    1.00    1.00    1.00      0.90      1.00       0.08
        append              0.10    0.30    0.11   -0.05    0.03      0.07      0.33       0.01
        influence (paper)   0.14    0.24    0.11    0.07    0.11      0.09      0.60       0.00
        input_weights       0.04    0.16    0.11   -0.04   -0.01      0.07      0.22      -0.03
        output_weights      0.22    0.31    0.09    0.07    0.02      0.12      0.58      -0.01
        weights             0.16    0.35    0.09    0.06    0.01      0.08      0.42       0.01
        correlation         1.00 on both data seeds (no network: the reference)

    "flip" also reached 1.00 for ``seed`` 0..4, with only 50 students, with the test students instead, and for a
    tanh RNN (H=50, AUC 0.80; flip_spectral 0.75); 0.83 for an LSTM trained with dropout 0.3 (AUC 0.80). It
    reads how well the network has learned: over the epochs of two H=50 runs it climbs with the test AUC, about
    0.3 at AUC 0.78, 0.5-0.85 at 0.79-0.80, 1.00 from 0.807 on.

    Why J fails here: every simulated student answers the 50 questions in one fixed order, so the network has
    only ever seen one question at the first step, and y(j | i) is its response to inputs it never met (the
    same for "append": question i after a prefix it never followed); the weights mix the concept with the
    question's position in the order. "flip" asks the network only what it was trained to answer: the next real
    answer, after a real history with one answer changed. Where students practise in random order (simulated
    like ``synthetic_5`` but each step a random question; LSTM H=200, 10 epochs, two inits, test AUC 0.81 and
    0.79) every method but "influence" reached 1.00 with the first init ("influence" 0.85); with the second,
    flip, flip_spectral, append, input_weights and weights 1.00, output_weights 0.62, "influence" 0.43.

    Returns: (M,) int cluster ids 0..num_concepts-1 (the numbering is arbitrary). Same arguments, same labels.
    """
    k = int(num_concepts)
    if not 1 <= k <= model.num_questions:
        raise ValueError(f"cluster_questions: num_concepts must be in 1..{model.num_questions}, got {num_concepts}")
    if method not in METHODS:
        raise ValueError(f"cluster_questions: unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if method in ("flip", "flip_spectral", "append", "correlation"):
        X = _contexts(model, students, None if method == "correlation" else max_students, 100, seed,
                      f"cluster_questions(method={method!r})")
    if method in ("flip", "flip_spectral"):
        A = _symmetric(*_flip_sums(model, X))
        return _rows(A, k, seed) if method == "flip" else _spectral(A, k, seed)
    if method == "append":
        return _rows(_append_influence(model, X, seed), k, seed)
    if method == "influence":
        return _spectral(influence_matrix(model), k, seed)
    if method == "correlation":
        return _spectral(_answer_correlation(model, X), k, seed)
    weights = {"input_weights": lambda: _input_embeddings(model),
               "output_weights": lambda: model.out.weight.data.astype(np.float64)}
    if method in weights:
        return _kmeans_cosine(weights[method](), k, seed)
    parts = [_input_embeddings(model), model.out.weight.data.astype(np.float64)]           # "weights"
    parts = [p / np.linalg.norm(p, axis=1, keepdims=True) for p in parts]
    return _kmeans_cosine(np.concatenate(parts, 1), k, seed)
