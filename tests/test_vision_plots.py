import numpy as np
import pytest

import thetas as th

matplotlib = pytest.importorskip("matplotlib")
import matplotlib.pyplot as plt  # noqa: E402

from thetas import viz  # noqa: E402


def panels(fig):
    """The Axes that show an image (colour bars and bar charts left out)."""
    return [ax for ax in fig.axes if ax.get_images() and ax.get_label() != "<colorbar>"]


def rows(fig):
    """Axes grouped by grid row, in order."""
    out = {}
    for ax in fig.axes:
        out.setdefault(ax.get_subplotspec().rowspan.start, []).append(ax)
    return [out[r] for r in sorted(out)]


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def digit(size=8, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, size=(1, 1, size, size)).astype(np.float32)


# ------------------------------------------------------------------------------------------------- filters
def test_filters_one_panel_per_kernel_on_a_scale_symmetric_around_zero(tmp_path):
    conv = th.models.LeNet(generator=0)[0]  # Conv2d(1, 6, 5): weight (6, 1, 5, 5)
    fig = viz.plot_filters(conv)
    shown = panels(fig)
    assert len(shown) == 6
    W = conv.weight.data
    for k, ax in enumerate(shown):
        image = ax.get_images()[0]
        np.testing.assert_allclose(image.get_array(), W[k, 0])
        assert ax.get_title() == f"filter {k}"
        assert image.get_clim() == (-np.abs(W).max(), np.abs(W).max())
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)
    viz.savefig(fig, tmp_path / "filters.png")
    assert (tmp_path / "filters.png").read_bytes()[:4] == b"\x89PNG"


def test_filters_with_several_input_channels_show_them_side_by_side():
    W = th.models.LeNet(image_size=8, kernel_size=3, generator=0)[3].weight  # (16, 6, 3, 3), a Parameter
    fig = plt.figure()
    assert viz.plot_filters(W, fig=fig) is fig
    shown = panels(fig)
    assert len(shown) == 16
    tiles = np.ma.filled(shown[5].get_images()[0].get_array().astype(float), np.nan)
    assert tiles.shape == (3, 6 * 4 - 1)
    for c in range(6):
        np.testing.assert_allclose(tiles[:, 4 * c:4 * c + 3], W.data[5, c])
    assert np.isnan(tiles[:, 3::4]).all()  # the gaps between channels are blank
    assert len(panels(viz.plot_filters(np.ones((2, 1, 3, 3))))) == 2  # a plain array too


@pytest.mark.parametrize("bad, match", [
    (th.nn.Linear(64, 6), r"Linear layer with weights of shape \(6, 64\).*plot_weights"),
    (np.zeros((3, 3)), r"\(F, C, kh, kw\).*array with weights of shape \(3, 3\)"),
    (th.nn.ReLU(), r"got a ReLU layer"),
])
def test_filters_reject_what_is_not_a_conv_kernel(bad, match):
    with pytest.raises(ValueError, match=match):
        viz.plot_filters(bad)


# -------------------------------------------------------------------------------------------- feature maps
def test_feature_maps_one_row_per_layer_input_first_probabilities_last():
    model = th.models.LeNet(image_size=8, kernel_size=3, generator=0)
    x = digit()
    fig = viz.plot_feature_maps(model, x)
    acts = model.activations(x)
    grid = rows(fig)
    assert len(grid) == 1 + len(acts) == 13
    np.testing.assert_allclose(grid[0][0].get_images()[0].get_array(), x[0, 0])  # the input image first
    assert grid[0][0].get_title(loc="left") == "input 1@8×8"
    for row, (name, a) in zip(grid[1:], acts.items()):
        title = row[0].get_title(loc="left")
        assert title.startswith(f"{name} {type(model[int(name)]).__name__} ")
        assert len(row) == (a.shape[1] if a.ndim == 4 else 1)
    assert grid[1][0].get_title(loc="left") == "0 Conv2d 6@8×8"
    assert grid[6][0].get_title(loc="left") == "5 MaxPool2d 16@2×2"
    np.testing.assert_allclose(grid[6][3].get_images()[0].get_array(), acts["5"][0, 3])  # map 3 of layer 5
    np.testing.assert_allclose(grid[7][0].get_images()[0].get_array(), acts["6"])  # Flatten: a 1-row heatmap

    bars = grid[-1][0].patches
    heights = np.array([b.get_height() for b in bars])
    assert len(bars) == 10 and heights.sum() == pytest.approx(1)
    np.testing.assert_allclose(heights, softmax(acts["11"][0].astype(np.float64)), rtol=1e-5)
    guess = int(heights.argmax())
    assert f"predicted {guess}" in grid[-1][0].get_title(loc="left")
    others = {b.get_facecolor() for i, b in enumerate(bars) if i != guess}
    assert len(others) == 1 and bars[guess].get_facecolor() not in others  # the prediction stands out


def test_feature_maps_select_layers_cap_maps_and_accept_any_image_shape():
    model = th.models.LeNet(generator=0)
    x = np.zeros((28, 28), np.float32)
    x[4:24, 12:16] = 1  # a "1"
    fig = plt.figure()
    assert viz.plot_feature_maps(model, x, fig=fig, layers=["0", 5, "11"], max_maps=4) is fig
    grid = rows(fig)
    assert [row[0].get_title(loc="left").split(" ")[0] for row in grid] == ["input", "0", "5", "11"]
    assert [len(row) for row in grid] == [1, 4, 4, 1]
    assert grid[1][0].get_title(loc="left") == "0 Conv2d 6@28×28 (first 4)"
    assert grid[2][0].get_title(loc="left") == "5 MaxPool2d 16@5×5 (first 4)"
    for shape in [(1, 28, 28), (1, 1, 28, 28)]:
        image = rows(viz.plot_feature_maps(model, x.reshape(shape), layers=["0"]))[0][0].get_images()[0]
        np.testing.assert_allclose(image.get_array(), x)
    with pytest.raises(ValueError, match="ONE image.*got shape \\(2, 1, 28, 28\\)"):
        viz.plot_feature_maps(model, np.zeros((2, 1, 28, 28)))
    with pytest.raises(ValueError, match="no layer \\['12'\\]"):
        viz.plot_feature_maps(model, x, layers=["12"])


# ----------------------------------------------------------------------------------------------- mistakes
def test_misclassified_shows_exactly_the_wrong_ones_with_first_and_second_guess(tmp_path):
    X = np.random.default_rng(0).uniform(0, 1, size=(6, 1, 8, 8)).astype(np.float32)
    y = np.array([0, 0, 1, 2, 2, 1])
    probs = np.array([[0.8, 0.1, 0.1],
                      [0.30, 0.61, 0.09],   # wrong: 1st 1, 2nd 0
                      [0.2, 0.7, 0.1],
                      [0.1, 0.2, 0.7],
                      [0.55, 0.05, 0.40],   # wrong: 1st 0, 2nd 2
                      [0.1, 0.8, 0.1]])
    fig = viz.plot_misclassified(probs, X, y)
    shown = panels(fig)
    assert len(shown) == 2
    np.testing.assert_allclose(shown[0].get_images()[0].get_array(), X[1, 0])
    np.testing.assert_allclose(shown[1].get_images()[0].get_array(), X[4, 0])
    assert shown[0].get_title() == "true 0\n1st: 1 (61%)\n2nd: 0 (30%)"
    assert shown[1].get_title() == "true 2\n1st: 0 (55%)\n2nd: 2 (40%)"
    assert shown[0].get_images()[0].get_cmap().name == "gray"
    assert "2 of 6 misclassified" in fig._suptitle.get_text()
    viz.savefig(fig, tmp_path / "wrong.png")

    # logits instead of probabilities, class names, a given figure and max_images
    fig = plt.figure()
    names = ["cat", "dog", "bird"]
    assert viz.plot_misclassified(np.log(probs), X, y, class_names=names, fig=fig, max_images=1) is fig
    assert [ax.get_title() for ax in panels(fig)] == ["true cat\n1st: dog (61%)\n2nd: cat (30%)"]


def test_misclassified_runs_a_model_in_batches_of_at_most_512():
    class Spy(th.nn.Module):
        def __init__(self):
            self.net, self.batches = th.models.LeNet(image_size=8, kernel_size=3, generator=0), []

        def forward(self, x):
            self.batches.append(x.shape[0])
            return self.net(x)

    model = Spy()
    X = np.random.default_rng(0).uniform(0, 1, size=(600, 1, 8, 8)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 10, size=600)
    fig = viz.plot_misclassified(model, X, y, max_images=7)
    assert model.batches == [512, 88]
    wrong = np.flatnonzero(th.predict(model.net, X).argmax(1) != y)
    shown = panels(fig)
    assert len(shown) == min(7, len(wrong))
    np.testing.assert_allclose(shown[0].get_images()[0].get_array(), X[wrong[0], 0])
    assert shown[0].get_title().startswith(f"true {y[wrong[0]]}\n1st: ")


def test_misclassified_when_nothing_is_wrong_and_bad_input():
    probs = np.eye(3)
    fig = viz.plot_misclassified(probs, np.zeros((3, 4, 4)), [0, 1, 2])
    assert "no misclassified" in fig.axes[0].texts[0].get_text()
    with pytest.raises(ValueError, match="2 outputs for 3 images"):
        viz.plot_misclassified(probs[:2], np.zeros((3, 4, 4)), [0, 1, 2])
    with pytest.raises(ValueError, match="grayscale"):
        viz.plot_misclassified(probs, np.zeros((3, 3, 4, 4)), [0, 1, 2])


def test_top_k_guesses_sorted_by_probability():
    probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    assert viz.top_k_guesses(probs) == [[(1, 0.6), (2, 0.3)], [(0, 0.5), (2, 0.3)]]
    assert viz.top_k_guesses(probs[0], k=3, class_names="abc") == [("b", 0.6), ("c", 0.3), ("a", 0.1)]
    assert len(viz.top_k_guesses(probs, k=10)[0]) == 3
    with pytest.raises(ValueError, match="2 class_names for 3 classes"):
        viz.top_k_guesses(probs, class_names=["a", "b"])
    with pytest.raises(ValueError, match="k must be at least 1"):
        viz.top_k_guesses(probs, k=0)
