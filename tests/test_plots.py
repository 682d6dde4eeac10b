import subprocess
import sys

import numpy as np
import pytest

import thetas as th
from thetas.models import LogisticRegression

matplotlib = pytest.importorskip("matplotlib")
import matplotlib.pyplot as plt  # noqa: E402

from thetas import viz  # noqa: E402


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 2000  # a blank canvas compresses to far less


def points(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(np.int64)


def x_positive_model(logits=2):
    """Predicts class 1 exactly when x_1 > 0 (set by hand: z = 5·x_1)."""
    model = th.nn.Sequential(th.nn.Linear(2, logits))
    w = np.zeros((logits, 2), np.float32)
    w[-1, 0] = 5.0
    model[0].weight.data[...] = w
    model[0].bias.data[...] = 0
    return model


def test_importing_thetas_does_not_import_matplotlib():
    code = "import sys, thetas, thetas.viz; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------------------ history
class FakeHistory:
    def __init__(self, history):
        self.history = history


def test_history_one_line_per_key_train_and_val_share_a_colour(tmp_path):
    h = FakeHistory({"loss": [1.0, 0.6, 0.4, 0.3], "val_loss": [1.1, 0.8, 0.9, 1.2],
                     "accuracy": [0.5, 0.7, 0.8, 0.9], "val_accuracy": [0.5, 0.6, 0.6, 0.55],
                     "samples_per_s": [1e4, 1e4, 1e4, 1e4]})
    ax = viz.plot_history(h)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert sorted(lines) == ["accuracy", "loss", "val_accuracy", "val_loss"]  # bookkeeping left out
    assert lines["loss"].get_color() == lines["val_loss"].get_color() != lines["accuracy"].get_color()
    assert lines["loss"].get_linestyle() == "-" and lines["val_loss"].get_linestyle() == "--"
    np.testing.assert_allclose(lines["val_loss"].get_xydata(), [[1, 1.1], [2, 0.8], [3, 0.9], [4, 1.2]])
    viz.savefig(ax, tmp_path / "curves" / "history.png")
    assert_png(tmp_path / "curves" / "history.png")


def test_history_keys_and_plain_dict():
    logs = {"loss": [3.0, 2.0], "val_loss": [3.5, 2.5], "accuracy": [0.1, 0.2]}
    ax = viz.plot_history(logs, keys=["loss", "val_loss"])
    assert [line.get_label() for line in ax.get_lines()] == ["loss", "val_loss"]
    assert ax.get_ylabel() == "loss"
    with pytest.raises(KeyError, match="val_accuracy"):
        viz.plot_history(logs, keys=["val_accuracy"])


def test_history_draws_into_the_given_axes():
    fig, (a, b) = plt.subplots(1, 2)
    assert viz.plot_history({"loss": [1, 0.5]}, ax=b) is b
    assert len(a.get_lines()) == 0 and len(b.get_lines()) == 1


# ----------------------------------------------------------------------------------------- decision regions
@pytest.mark.parametrize("logits", [1, 2])
def test_boundary_of_a_model_that_predicts_class_1_for_positive_x(logits, tmp_path):
    X, y = points()
    xx, yy, classes = viz.decision_grid(x_positive_model(logits), X, resolution=50, padding=0.5)
    assert classes.shape == xx.shape == (50, 50)
    # the left half of the grid is class 0, the right half class 1, whatever y is
    assert np.all(classes[xx < -0.05] == 0) and np.all(classes[xx > 0.05] == 1)

    ax = viz.plot_decision_boundary(x_positive_model(logits), X, y, resolution=50)
    contour = ax.collections[0]
    left, right = contour.get_paths()[0].vertices, contour.get_paths()[1].vertices  # one path per class level
    assert left[:, 0].max() < 0.1 and right[:, 0].min() > -0.1
    colors = contour.get_facecolor()
    assert not np.allclose(colors[0], colors[1])  # the two halves are painted differently
    viz.savefig(ax, tmp_path / "boundary.png")
    assert_png(tmp_path / "boundary.png")


def test_boundary_contour_covers_the_grid_around_x():
    X, y = points()
    ax = viz.plot_decision_boundary(x_positive_model(), X, y, resolution=30, padding=0.5)
    vertices = np.concatenate([p.vertices for p in ax.collections[0].get_paths() if len(p.vertices)])
    np.testing.assert_allclose(vertices.min(0), X.min(0) - 0.5, atol=1e-5)
    np.testing.assert_allclose(vertices.max(0), X.max(0) + 0.5, atol=1e-5)
    np.testing.assert_allclose(ax.get_xlim(), (X[:, 0].min() - 0.5, X[:, 0].max() + 0.5), atol=1e-5)
    scatter = ax.collections[1]
    np.testing.assert_allclose(scatter.get_offsets(), X)
    np.testing.assert_array_equal(scatter.get_array(), y)


def test_multiclass_boundary_is_argmax_and_restores_training_mode():
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]], np.float32)
    model = th.nn.Sequential(th.nn.Linear(2, 3), th.nn.Dropout(0.5))
    model[0].weight.data[...] = np.array([[1, 0], [-1, 0], [0, 1]], np.float32)
    model[0].bias.data[...] = 0
    model.train()
    xx, yy, classes = viz.decision_grid(model, X, resolution=41, padding=0)
    logits = np.stack([xx, -xx, yy], -1)
    np.testing.assert_array_equal(classes, logits.argmax(-1))  # deterministic: dropout was off
    assert model.training and model[1].training
    ax = viz.plot_decision_boundary(model, X, [0, 1, 2, 2], resolution=41)
    assert len(ax.collections[0].get_paths()) == 3


def test_binary_threshold_for_a_logit_and_after_a_final_sigmoid():
    X, _ = points()
    one_neuron = LogisticRegression(2)  # forward returns the logit z, shape (N,)
    one_neuron.linear.weight.data[...] = [[5.0, 0.0]]
    one_neuron.linear.bias.data[...] = 0
    probabilities = th.nn.Sequential(th.nn.Linear(2, 1), th.nn.Sigmoid())  # ŷ in (0, 1): threshold 0.5
    probabilities[0].weight.data[...] = [[5.0, 0.0]]
    probabilities[0].bias.data[...] = 0
    for model in (one_neuron, probabilities):
        xx, _, classes = viz.decision_grid(model, X, resolution=20)
        np.testing.assert_array_equal(classes, (xx > 0).astype(int))


def test_boundary_rejects_non_2d_inputs():
    with pytest.raises(ValueError, match=r"\(N, 2\).*\(5, 3\)"):
        viz.plot_decision_boundary(x_positive_model(), np.zeros((5, 3)), np.zeros(5))


# ------------------------------------------------------------------------------------------------- neurons
def test_neurons_one_axes_per_hidden_unit_showing_its_activation(tmp_path):
    X, y = points()
    model = th.nn.Sequential(th.nn.Linear(2, 4), th.nn.Tanh(), th.nn.Linear(4, 3), th.nn.ReLU(),
                             th.nn.Linear(3, 2), th.nn.Sigmoid())
    fig = viz.plot_neurons(model, X, y)
    assert len(fig.axes) == 4 + 3  # the final Sigmoid is the output, not a hidden layer
    image = fig.axes[1].get_images()[0].get_array()
    lo, hi = X.min(0) - 0.5, X.max(0) + 0.5
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], 60), np.linspace(lo[1], hi[1], 60))
    W, b = model[0].weight.data, model[0].bias.data
    np.testing.assert_allclose(image, np.tanh(W[1, 0] * xx + W[1, 1] * yy + b[1]), atol=1e-5)
    viz.savefig(fig, tmp_path / "neurons.png")
    assert_png(tmp_path / "neurons.png")


def test_neurons_need_a_hidden_layer():
    X, y = points()
    with pytest.raises(ValueError, match="no hidden layer"):
        viz.plot_neurons(th.nn.Sequential(th.nn.Linear(2, 2)), X, y)
    with pytest.raises(TypeError, match="Sequential"):
        viz.plot_neurons(th.nn.Linear(2, 2), X, y)


# ------------------------------------------------------------------------------------- evaluation pictures
def test_confusion_matrix_cells_and_normalization(tmp_path):
    cm = np.array([[5, 1, 0], [2, 2, 0], [0, 0, 0]])
    ax = viz.plot_confusion_matrix(cm, class_names=["solid", "vertical", "diagonal"], normalize=True)
    values = ax.get_images()[0].get_array()
    np.testing.assert_allclose(values, [[5 / 6, 1 / 6, 0], [0.5, 0.5, 0], [0, 0, 0]])
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 9 and texts[0] == "0.83"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["solid", "vertical", "diagonal"]
    ax = viz.plot_confusion_matrix(cm)
    assert [t.get_text() for t in ax.texts][:2] == ["5", "1"]
    viz.savefig(ax, tmp_path / "cm.png")
    assert_png(tmp_path / "cm.png")
    with pytest.raises(ValueError, match=r"square.*\(2, 3\)"):
        viz.plot_confusion_matrix(np.zeros((2, 3)))


def test_images_grid_with_titles(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 16, size=(10, 64))  # flat 8×8 digits
    fig = viz.plot_images(images, labels=np.arange(10), predictions=[0, 1, 2, 9, 4, 5, 6, 7, 8, 9], ncols=4)
    assert len(fig.axes) == 10
    np.testing.assert_allclose(fig.axes[3].get_images()[0].get_array(), images[3].reshape(8, 8))
    assert fig.axes[3].get_title() == "pred 9 (true 3)"
    assert fig.axes[3].title.get_color() == "red" and fig.axes[2].title.get_color() == "black"
    viz.savefig(fig, tmp_path / "digits.png")
    assert_png(tmp_path / "digits.png")

    four_pixels = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, -1, -1, 1], [1, 1, -1, -1]])
    fig = viz.plot_images(four_pixels, labels=["solid", "vertical", "diagonal", "horizontal"])
    assert [ax.get_images()[0].get_array().shape for ax in fig.axes] == [(2, 2)] * 4
    assert fig.axes[0].get_title() == "solid"
    with pytest.raises(ValueError, match="image_shape"):
        viz.plot_images(np.zeros((3, 10)))


def test_weights_as_images_centred_at_zero(tmp_path):
    layer = th.nn.Linear(64, 6, generator=0)
    fig = viz.plot_weights(layer, (8, 8))
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == 6
    image = panels[2].get_images()[0]
    np.testing.assert_allclose(image.get_array(), layer.weight.data[2].reshape(8, 8))
    vmin, vmax = image.get_clim()
    assert vmin == -vmax == -np.abs(layer.weight.data).max()
    viz.savefig(fig, tmp_path / "weights.png")
    assert_png(tmp_path / "weights.png")
    with pytest.raises(ValueError, match=r"\(hidden, 4\).*\(6, 64\)"):
        viz.plot_weights(layer.weight, (2, 2))


def test_plots_of_a_trained_xor_network(tmp_path):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([0, 1, 1, 0])
    model = th.nn.Sequential(th.nn.Linear(2, 4, generator=0), th.nn.Tanh(), th.nn.Linear(4, 2, generator=1))
    opt_lr = 0.5
    for _ in range(300):
        loss = th.losses.cross_entropy(model(X), y)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= opt_lr * p.grad
    _, _, classes = viz.decision_grid(model, X, resolution=101, padding=0.5)
    grid_x = np.linspace(-0.5, 1.5, 101)
    corners = [classes[np.argmin(abs(grid_x - b)), np.argmin(abs(grid_x - a))] for a, b in X]
    np.testing.assert_array_equal(corners, y)  # a straight line could not get all four right
    fig, (a, b) = plt.subplots(1, 2)
    viz.plot_decision_boundary(model, X, y, ax=a, resolution=50)
    viz.plot_history({"loss": [0.7, 0.1]}, ax=b)
    assert_png(viz.savefig(fig, tmp_path / "xor.png"))


def test_boundary_takes_an_objective_for_outputs_the_model_cannot_show():
    class Probability(th.nn.Module):  # ŷ = σ(5 x₁) inside forward: no final Sigmoid layer tells the plot
        def forward(self, x):
            return th.sigmoid(x[:, :1] * 5.0)

    X, y = points()
    bare = viz.plot_decision_boundary(Probability(), X, y, resolution=20)
    told = viz.plot_decision_boundary(Probability(), X, y, resolution=20, objective=th.losses.BCELoss())
    xx, _, classes = viz.decision_grid(Probability(), X, resolution=20, objective=th.losses.BCELoss())
    np.testing.assert_array_equal(classes, (xx > 0).astype(int))  # ŷ > 0.5 where x₁ > 0
    # read as logits every ŷ > 0 is class 1: one region; told what ŷ is: two
    assert len([p for p in bare.collections[0].get_paths() if len(p.vertices)]) == 1
    assert len([p for p in told.collections[0].get_paths() if len(p.vertices)]) == 2


def test_plot_returns_before_any_episode_ended_warns_nothing():
    import warnings
    from thetas.viz.rl import plot_returns
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # matplotlib's "No artists with labels" would raise
        ax = plot_returns({"episode_step": [], "episode_return": []})
    assert ax.get_legend() is None
