"""The knowledge-tracing pictures: what they draw (the arrays and artists), not how it looks."""
import numpy as np
import pytest

import thetas as th

matplotlib = pytest.importorskip("matplotlib")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

from thetas import viz  # noqa: E402


def arrows(ax):
    return {p.get_gid(): p for p in ax.patches if isinstance(p, FancyArrowPatch)}


# ------------------------------------------------------------------------------------------ knowledge trace
def riley(T=6, M=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((T, M)), rng.integers(0, M, T), rng.integers(0, 2, T)


def test_trace_heatmap_is_questions_by_answers_with_each_answer_marked():
    P, q, a = riley()
    ax = viz.plot_knowledge_trace(P, q, a, question_names=list("ABCDE"))
    image = ax.get_images()[0]
    np.testing.assert_allclose(image.get_array(), P.T)                      # row = question, column = step
    assert image.get_clim() == (0, 1)
    right, wrong = ax.collections[:2]
    np.testing.assert_array_equal(right.get_offsets(), np.column_stack([np.flatnonzero(a == 1), q[a == 1]]))
    np.testing.assert_array_equal(wrong.get_offsets(), np.column_stack([np.flatnonzero(a == 0), q[a == 0]]))
    assert [t.get_text() for t in ax.get_yticklabels()] == list("ABCDE")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["answered correctly", "answered wrong"]
    assert len(ax.figure.axes) == 2                                          # the heatmap and its colour bar


def test_trace_rows_pick_and_order_questions():
    P, q, a = riley(T=8, M=6, seed=1)
    rows = [4, 0, 2]
    ax = viz.plot_knowledge_trace(P, q, a, rows=rows)
    np.testing.assert_allclose(ax.get_images()[0].get_array(), P[:, rows].T)
    marks = np.concatenate([c.get_offsets() for c in ax.collections[:2]])
    keep = np.isin(q, rows)
    assert len(marks) == keep.sum()                                          # answers to hidden rows: no mark
    position = {r: k for k, r in enumerate(rows)}
    assert sorted(map(tuple, marks.tolist())) == sorted((t, position[q[t]]) for t in np.flatnonzero(keep))


def test_trace_of_many_questions_shows_the_answered_ones():
    P, q, a = riley(T=10, M=100, seed=2)
    ax = viz.plot_knowledge_trace(P, q, a)
    assert ax.get_images()[0].get_array().shape == (len(np.unique(q)), 10)


def test_trace_draws_into_a_given_axes_and_checks_shapes():
    P, q, a = riley()
    fig, ax = plt.subplots()
    assert viz.plot_knowledge_trace(th.tensor(P), q, a, ax=ax) is ax
    with pytest.raises(ValueError, match="6 steps needs 6"):
        viz.plot_knowledge_trace(P, q[:5], a[:5])
    with pytest.raises(ValueError, match="0..4"):
        viz.plot_knowledge_trace(P, q + 5, a)
    with pytest.raises(ValueError, match="question_names"):
        viz.plot_knowledge_trace(P, q, a, question_names=["x"])


# ---------------------------------------------------------------------------------------- influence graph
def test_graph_draws_one_arrow_per_edge_weighted():
    edges = [(0, 1, 0.9), (1, 2, 0.3), (3, 0, 0.6)]
    ax = viz.plot_influence_graph(edges, num_questions=5)
    drawn = arrows(ax)
    assert set(drawn) == {"0->1", "1->2", "3->0"}
    assert drawn["0->1"].get_linewidth() > drawn["3->0"].get_linewidth() > drawn["1->2"].get_linewidth()
    nodes = ax.collections[0].get_offsets()
    assert nodes.shape == (5, 2)
    np.testing.assert_allclose(np.hypot(nodes[:, 0], nodes[:, 1]), 1.0)     # on the unit circle
    assert [t.get_text() for t in ax.texts] == ["0", "1", "2", "3", "4"]


def test_graph_places_clusters_as_arcs_and_colours_them():
    labels = np.array([1, 0, 1, 0, 2, 2])
    ax = viz.plot_influence_graph([(0, 2, 1.0), (1, 3, 0.5)], labels=labels)
    xy = ax.collections[0].get_offsets()
    angle = np.mod(np.pi / 2 - np.arctan2(xy[:, 1], xy[:, 0]), 2 * np.pi)   # clockwise from the top
    assert list(np.argsort(angle)) == [1, 3, 0, 2, 4, 5]                    # cluster 0, then 1, then 2
    colors = ax.collections[0].get_facecolors()
    for i, j in [(0, 2), (1, 3), (4, 5)]:
        np.testing.assert_allclose(colors[i], colors[j])
    assert not np.allclose(colors[0], colors[1])
    np.testing.assert_allclose(arrows(ax)["0->2"].get_edgecolor()[:3], colors[0][:3])


def test_graph_rejects_bad_edges_and_labels():
    with pytest.raises(ValueError, match="outside"):
        viz.plot_influence_graph([(0, 7, 1.0)], num_questions=3)
    with pytest.raises(ValueError, match="0..2"):
        viz.plot_influence_graph([(0, 3, 1.0)], labels=[0, 1, 0])          # the labels say 3 questions
    with pytest.raises(ValueError, match="question_names"):
        viz.plot_influence_graph([(0, 1, 1.0)], question_names=["a"])


def test_graph_from_an_influence_matrix_uses_the_concept_graph():
    tutor = pytest.importorskip("thetas.tutor")
    rng = np.random.default_rng(0)
    J = rng.random((6, 6))
    J /= J.sum(0, keepdims=True)
    ax = viz.plot_influence_graph(J)
    expected = {f"{int(i)}->{int(j)}" for i, j, _ in tutor.concept_graph(J) if i != j}
    assert set(arrows(ax)) == expected and ax.collections[0].get_offsets().shape == (6, 2)


# ---------------------------------------------------------------------------------------- concept clusters
def test_clusters_reorder_the_matrix_and_mark_the_boundaries():
    rng = np.random.default_rng(3)
    J = rng.random((6, 6))
    labels = np.array([2, 0, 1, 0, 2, 1])
    ax = viz.plot_concept_clusters(J, labels, question_names=list("abcdef"))
    order = [1, 3, 2, 5, 0, 4]
    expected = J[np.ix_(order, order)]
    np.fill_diagonal(expected, np.nan)
    np.testing.assert_allclose(np.ma.filled(ax.get_images()[0].get_array(), np.nan), expected)
    assert len(ax.lines) == 2 * 2                                            # 3 clusters: 2 boundaries × 2 axes
    assert sorted({line.get_xydata()[0, 1] for line in ax.lines if line.get_xydata()[0, 1] ==
                   line.get_xydata()[1, 1]}) == [1.5, 3.5]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "d", "c", "f", "a", "e"]


def test_clusters_check_shapes():
    with pytest.raises(ValueError, match="square"):
        viz.plot_concept_clusters(np.zeros((2, 3)), [0, 1])
    with pytest.raises(ValueError, match="3 labels for 2"):
        viz.plot_concept_clusters(np.eye(2), [0, 1, 0])
