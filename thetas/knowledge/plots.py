"""Pictures of knowledge tracing: what a student knows after each answer, and how the questions hang together.

The lecture's story of Riley: a student answers exercises one after another, right or wrong, and a Deep
Knowledge Tracing network (``th.models.DKT``) predicts after each answer the probability of answering every
exercise correctly. ``plot_knowledge_trace`` draws those predictions over time ("what does Riley know?");
``plot_influence_graph`` and ``plot_concept_clusters`` draw what the trained network has learned about the
questions themselves (``th.tutor.influence_matrix``: J_ij, how much answering i moves the prediction for j).

``save_dkt_plots`` writes the four pictures of a trained DKT that ``thetas dkt --plot DIR`` shows.

Like ``thetas/viz/plots.py``: matplotlib is imported only when a picture is drawn, nothing calls ``plt.show()``,
and each function draws into the Axes it is given (or a new one) and returns it.
"""
import math
import os

import numpy as np

from ..viz.plots import _new_axes, _numpy, _pyplot, plot_history, savefig

_MAX_NAMED = 60     # more questions than this: no per-question tick labels (they would overlap)


def _names(question_names, m, what):
    if question_names is None:
        return [str(i) for i in range(m)]
    names = [str(n) for n in question_names]
    if len(names) != m:
        raise ValueError(f"{what}: {len(names)} question_names for {m} questions")
    return names


def _cluster_colors(labels):
    """One colour per cluster id (tab10, or tab20 for more than 10 clusters), as an (M, 4) RGBA array."""
    import matplotlib as mpl
    ids = np.unique(labels)
    base = mpl.colormaps["tab10" if len(ids) <= 10 else "tab20"]
    index = np.searchsorted(ids, labels)
    return np.array([base(k % base.N) for k in index])


# ------------------------------------------------------------------------------------- what does Riley know?
def plot_knowledge_trace(trace, questions, answers, ax=None, question_names=None, rows=None):
    """One student's knowledge over time: the predicted P(correct) on each question (a row) after each answer
    (a column), the question answered at that step marked on its row: a filled dot if it was answered correctly,
    a cross if not. The lecture's "what does Riley know?" (Figure 1 of the DKT paper).

    Args:
        trace: (T, M) probabilities, row t = the predictions after answer t (``th.tutor.knowledge_trace``).
        questions: (T,) the student's question ids (0..M-1).
        answers: (T,) the student's answers (1 correct, 0 wrong).
        question_names: M names for the rows.
        rows: the question ids to show, top to bottom (e.g. ordered by concept); default all M questions when
            M <= 60, else only the questions this student answered, in id order.
    Returns: the Axes: one image (rows × T), one scatter for correct and one for wrong answers, a colour bar.
    """
    P = _numpy(trace).astype(np.float64)
    q, a = np.asarray(questions).reshape(-1), np.asarray(answers).reshape(-1)
    if P.ndim != 2:
        raise ValueError(f"plot_knowledge_trace: expected a trace of shape (T, M), got shape {P.shape}")
    T, M = P.shape
    if len(q) != T or len(a) != T:
        raise ValueError(f"plot_knowledge_trace: a trace of {T} steps needs {T} questions and answers, got "
                         f"{len(q)} and {len(a)}")
    if T and (q.min() < 0 or q.max() >= M or not np.isin(a, (0, 1)).all()):
        raise ValueError(f"plot_knowledge_trace: question ids must lie in 0..{M - 1} and answers be 0 or 1")
    names = _names(question_names, M, "plot_knowledge_trace")
    if rows is None:
        rows = np.arange(M) if M <= _MAX_NAMED else np.unique(q)
    rows = np.asarray(rows, np.int64).reshape(-1)
    if rows.size == 0 or rows.min() < 0 or rows.max() >= M:
        raise ValueError(f"plot_knowledge_trace: rows must be question ids in 0..{M - 1}, got {rows.tolist()}")
    position = np.full(M, -1)
    position[rows] = np.arange(len(rows))
    shown = position[q] >= 0                                  # a step whose question has no row gets no mark

    ax = _new_axes(ax)
    image = ax.imshow(P[:, rows].T, cmap="RdYlGn", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    steps = np.arange(T)
    for value, style in ((1, dict(marker="o", facecolors="white", edgecolors="black", label="answered correctly")),
                         (0, dict(marker="x", c="black", label="answered wrong"))):
        k = shown & (a == value)
        ax.scatter(steps[k], position[q[k]], s=22, linewidths=1.0, zorder=3, **style)
    ax.figure.colorbar(image, ax=ax, label="P(correct)", fraction=0.04)
    if len(rows) <= _MAX_NAMED:
        ax.set_yticks(range(len(rows)), [names[r] for r in rows], fontsize=7 if len(rows) > 20 else 9)
    every = max(1, int(math.ceil(T / 25)))
    ax.set_xticks(steps[::every], [str(t + 1) for t in steps[::every]], fontsize=8)
    ax.set_xlabel("answer")
    ax.set_ylabel("question")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=2, fontsize=8, frameon=False)
    return ax


# ---------------------------------------------------------------------------------------- the concept graph
def _edges(J_or_edges, graph):
    """(edges [(i, j, w)], M or None): from an (M, M) influence matrix (a square array) through
    ``th.tutor.concept_graph``, or an iterable of (i, j, weight) triples (a list, or an (E, 3) array) as they are."""
    X = _numpy(J_or_edges) if hasattr(J_or_edges, "numpy") else J_or_edges
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[0] == X.shape[1]:
        from ..tutor import concept_graph
        J = X
        return [(int(i), int(j), float(w)) for i, j, w in concept_graph(J, **graph)], J.shape[0]
    if graph:
        raise TypeError(f"plot_influence_graph: {sorted(graph)} apply to an influence matrix, not to edges")
    edges = [(int(e[0]), int(e[1]), float(e[2])) for e in X]
    return edges, None


def plot_influence_graph(J_or_edges, labels=None, ax=None, question_names=None, num_questions=None, **graph):
    """The questions as a directed graph: an arrow i → j when answering question i moves the network's prediction
    for question j (J_ij: ``th.tutor.influence_matrix``, or ``context_influence`` with ``min_weight=0``), thicker
    and darker for a stronger influence. The questions sit on a circle; with ``labels`` (a cluster id per
    question) each cluster is an arc of one colour and an arrow takes the colour of its source. This is the DKT
    paper's map of how exercises relate.

    Args:
        J_or_edges: an (M, M) influence matrix, turned into its strong edges by ``th.tutor.concept_graph(J,
            **graph)``, or the edges themselves: (i, j, weight) triples.
        labels: (M,) cluster ids (``th.tutor.cluster_questions``).
        question_names: M names for the nodes.
        num_questions: M, when edges are given and no labels (default: the largest id + 1).
    Returns: the Axes: one scatter of the M nodes (in question-id order), one ``FancyArrowPatch`` per edge with
        gid "i->j".
    """
    from matplotlib.patches import FancyArrowPatch
    edges, M = _edges(J_or_edges, graph)
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        M = M if M is not None else len(labels)
        if len(labels) != M:
            raise ValueError(f"plot_influence_graph: {len(labels)} labels for {M} questions")
    if M is None:
        M = int(num_questions) if num_questions is not None else 1 + max((max(i, j) for i, j, _ in edges),
                                                                          default=-1)
    if M < 1:
        raise ValueError("plot_influence_graph: no questions to draw")
    for i, j, _ in edges:
        if not (0 <= i < M and 0 <= j < M):
            raise ValueError(f"plot_influence_graph: edge {i} -> {j} is outside the question ids 0..{M - 1}")
    names = _names(question_names, M, "plot_influence_graph")
    order = np.arange(M) if labels is None else np.argsort(labels, kind="stable")   # clusters as arcs
    angle = np.empty(M)
    angle[order] = np.pi / 2 - 2 * np.pi * np.arange(M) / M                          # clockwise from the top
    xy = np.column_stack([np.cos(angle), np.sin(angle)])                             # (M, 2)
    colors = _cluster_colors(labels) if labels is not None else np.tile([0.3, 0.3, 0.3, 1.0], (M, 1))

    ax = _new_axes(ax)
    wmax = max((abs(w) for *_, w in edges), default=1.0) or 1.0
    for i, j, w in sorted(edges, key=lambda e: abs(e[2])):                           # strongest drawn on top
        if i == j:
            continue
        s = abs(w) / wmax
        arrow = FancyArrowPatch(xy[i], xy[j], arrowstyle="-|>", mutation_scale=6 + 6 * s,
                                connectionstyle="arc3,rad=0.12", linewidth=0.4 + 2.2 * s, shrinkA=5, shrinkB=5,
                                color=colors[i], alpha=0.25 + 0.65 * s, zorder=1)
        arrow.set_gid(f"{i}->{j}")
        ax.add_patch(arrow)
    ax.scatter(xy[:, 0], xy[:, 1], s=max(12, 160 - 2 * M), c=colors, edgecolors="white", linewidths=0.8, zorder=2)
    if M <= _MAX_NAMED:
        for k in range(M):
            ax.text(1.1 * xy[k, 0], 1.1 * xy[k, 1], names[k], ha="center", va="center",
                    fontsize=7 if M > 20 else 9)
    ax.set_xlim(-1.25, 1.25)
    ax.set_ylim(-1.25, 1.25)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(f"influence graph: {len(edges)} strongest edges i → j", fontsize=10)
    return ax


def plot_concept_clusters(J, labels, ax=None, question_names=None):
    """The influence matrix J (row i = the question answered, column j = the question predicted) with the
    questions ordered by cluster, so that a concept shows as a bright block on the diagonal; white lines mark
    where one cluster ends. The diagonal (a question's influence on itself, always large) is left blank so that
    it does not wash out the colour scale.

    Args:
        J: (M, M) influence matrix (``th.tutor.influence_matrix`` or ``context_influence``).
        labels: (M,) cluster ids.
        question_names: M names for the ticks (drawn for up to 60 questions).
    Returns: the Axes: one image (J reordered, NaN on the diagonal), 2 (K − 1) boundary lines for K clusters.
    """
    J = _numpy(J).astype(np.float64)
    labels = np.asarray(labels).reshape(-1)
    if J.ndim != 2 or J.shape[0] != J.shape[1]:
        raise ValueError(f"plot_concept_clusters: expected a square (M, M) influence matrix, got shape {J.shape}")
    M = J.shape[0]
    if len(labels) != M:
        raise ValueError(f"plot_concept_clusters: {len(labels)} labels for {M} questions")
    names = _names(question_names, M, "plot_concept_clusters")
    order = np.argsort(labels, kind="stable")
    A = J[np.ix_(order, order)]
    np.fill_diagonal(A, np.nan)
    ax = _new_axes(ax)
    import matplotlib as mpl
    finite = A[np.isfinite(A)]
    lo, hi = (min(0.0, float(finite.min())), float(finite.max())) if finite.size else (0.0, 1.0)
    cmap = mpl.colormaps["viridis"].with_extremes(bad="white")
    image = ax.imshow(A, cmap=cmap, vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest")
    sorted_labels = labels[order]
    for b in np.flatnonzero(sorted_labels[1:] != sorted_labels[:-1]) + 1:           # cluster boundaries
        ax.axhline(b - 0.5, color="white", linewidth=1.5)
        ax.axvline(b - 0.5, color="white", linewidth=1.5)
    if M <= _MAX_NAMED:
        size = 6 if M > 20 else 9
        ax.set_xticks(range(M), [names[k] for k in order], fontsize=size, rotation=90)
        ax.set_yticks(range(M), [names[k] for k in order], fontsize=size)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel("question predicted (j)")
    ax.set_ylabel("question answered (i)")
    ax.set_title(f"{len(np.unique(labels))} concepts: influence J_ij ordered by cluster", fontsize=10)
    ax.figure.colorbar(image, ax=ax, label="J_ij", fraction=0.046)
    return ax


# ------------------------------------------------------------------------------------- the pictures of a run
def save_dkt_plots(folder, history, model, train, test, labels=None, seed=0):
    """PNGs in ``folder``: ``history.png`` (learning curves), ``influence_graph.png`` (the questions' strongest
    influences), ``concept_clusters.png`` (the influence matrix ordered by concept) and ``knowledge_trace.png``
    (the first test student's trace with the suggested next question). Returns the paths written.

    The influence is ``th.tutor.context_influence`` on (up to 200 of) the ``train`` students: flip one real answer
    and see how the predictions of the later answers move. The paper's J (``influence_matrix``: the prediction
    after a first answer) is not used: where every student starts with the same question (the simulated data)
    the network never learned what other first answers mean. ``labels`` (M,) groups the questions; None: 5
    clusters (``cluster_questions``, which needs scikit-learn: ImportError without it)."""
    from .tutor import cluster_questions, concept_graph, context_influence, knowledge_trace, suggest_next
    plt = _pyplot()
    names = train.question_names
    influence = context_influence(model, train, max_students=200, seed=seed)    # (M, M) i answered, j predicted
    if labels is None:                                              # no concepts asked for: 5 clusters, to draw
        labels = np.asarray(cluster_questions(model, min(5, train.num_questions), students=train, seed=seed))
    written = []

    def save(fig, name):
        written.append(savefig(fig, os.path.join(folder, name)))
        plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    plot_history(history, keys=["loss", "val_loss"], ax=axes[0])
    logged = history.history if hasattr(history, "history") else history
    plot_history(history, keys=[k for k in ("dkt_auc", "val_dkt_auc") if k in logged] or ["loss"], ax=axes[1])
    axes[0].set_title("loss: minus the log-likelihood of the next answer")
    axes[1].set_title("AUC of the next answer (val = test students)")
    save(fig, "history.png")
    fig, ax = plt.subplots(figsize=(7.5, 7.5))
    plot_influence_graph(concept_graph(influence, min_weight=0.0), labels=labels, ax=ax, question_names=names)
    save(fig, "influence_graph.png")
    fig, ax = plt.subplots(figsize=(8, 7))
    plot_concept_clusters(influence, labels, ax=ax, question_names=names)
    save(fig, "concept_clusters.png")

    q, a = test[0]                                                  # the first test student: "Riley"
    q, a = q[:100], a[:100]
    trace = knowledge_trace(model, q, a)
    best, _ = suggest_next(model, q, a)
    rows = np.argsort(labels, kind="stable")                        # questions grouped by concept
    rows = rows if train.num_questions <= 60 else rows[np.isin(rows, q)]
    fig, ax = plt.subplots(figsize=(max(7.0, 0.16 * len(q) + 3), max(4.0, 0.16 * len(rows) + 1.5)))
    plot_knowledge_trace(trace, q, a, ax=ax, question_names=names, rows=rows)
    who = f"student {test.student_ids[0]}" if test.student_ids else "the first test student"
    best_name = names[best] if names else best
    ax.set_title(f"What does {who} know? P(correct) after each answer\n"
                 f"What should they do next? Question {best_name}", fontsize=10, pad=24)
    save(fig, "knowledge_trace.png")
    return written
