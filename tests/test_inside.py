"""thetas.inside: optimal stimuli (closed form for a linear and a sigmoid unit), top stimuli, and attributions
tested as Captum tests them (the golden integrated-gradients value, completeness, batch = one by one), against
analytic gradients (and PyTorch when installed), and with Adebayo et al.'s sanity check."""
import matplotlib
import numpy as np
import pytest

import thetas as th
from thetas import inside

matplotlib.use("Agg")
F64 = np.float64


def _mlp(sizes, seed=0, act=None):
    th.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(th.nn.Linear(a, b, dtype=F64))
        if i < len(sizes) - 2:
            layers.append(act() if act else th.nn.Tanh())
    return th.nn.Sequential(*layers)


def _cos(a, b):
    return float(np.dot(a.ravel(), b.ravel()) / (np.linalg.norm(a) * np.linalg.norm(b)))


# ---------------------------------------------------------------- optimal stimulus

@pytest.mark.parametrize("d", [64, 784])
@pytest.mark.parametrize("norm", [1.0, 5.0])
@pytest.mark.parametrize("sigmoid", [False, True])
def test_the_optimal_stimulus_of_a_linear_or_sigmoid_unit_is_the_closed_form(d, norm, sigmoid):
    model = _mlp([d, 1], seed=d)
    if sigmoid:
        model = th.nn.Sequential(model, th.nn.Sigmoid())
    w = model.parameters()[0].data[0]
    x = inside.optimal_stimulus(model, "output", 0, (d,), norm=norm, steps=150, lr=0.1)
    assert x.shape == (d,)
    assert _cos(x, w) >= 0.999
    assert np.linalg.norm(x) == pytest.approx(norm)
    assert np.allclose(x, norm * w / np.linalg.norm(w), atol=0.05 * norm)


def test_a_hidden_unit_by_its_layer_name_and_a_feature_map_channel():
    model = _mlp([64, 16, 10], seed=1)
    w = model.parameters()[0].data[3]
    x = inside.optimal_stimulus(model, "0", 3, (64,), steps=150, lr=0.1)
    assert _cos(x, w) >= 0.999
    th.manual_seed(0)
    conv = th.nn.Sequential(th.nn.Conv2d(1, 4, 3, dtype=F64), th.nn.ReLU())
    x = inside.optimal_stimulus(conv, "0", 2, (1, 8, 8), steps=30)
    assert x.shape == (1, 8, 8)
    x2 = inside.optimal_stimulus(conv, "1", (2, 3, 3), (1, 8, 8), steps=30)
    assert x2.shape == (1, 8, 8)


def test_a_feature_map_channel_is_its_mean_over_positions():
    th.manual_seed(0)
    conv = th.nn.Sequential(th.nn.Conv2d(1, 4, 3, dtype=F64))
    kernel = conv.parameters()[0].data[2, 0]
    g = np.zeros((6, 6))   # ∂ mean_{r,c} (kernel ⋆ x)[r, c] / ∂x: the kernel placed at each of the 4 × 4 positions
    for r in range(4):
        for c in range(4):
            g[r:r + 3, c:c + 3] += kernel / 16
    x = inside.optimal_stimulus(conv, "0", 2, (1, 6, 6), norm=3.0, steps=150, lr=0.1)
    assert _cos(x[0], g) >= 0.999
    idx, act = inside.top_stimuli(conv, "0", 2, x[None], k=1)
    assert act[0] == pytest.approx(float((g * x[0]).sum() + conv.parameters()[1].data[2]))


def test_the_same_seed_gives_the_same_stimulus_and_another_seed_another_start():
    model = th.nn.Sequential(th.nn.Flatten(), _mlp([16, 8, 3], seed=2))
    kw = dict(steps=5, lr=0.01, jitter=1, blur_every=2, tv=0.1, l2=0.01)
    a = inside.optimal_stimulus(model, "output", 1, (4, 4), seed=7, **kw)
    b = inside.optimal_stimulus(model, "output", 1, (4, 4), seed=7, **kw)
    c = inside.optimal_stimulus(model, "output", 1, (4, 4), seed=8, **kw)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_at_small_steps_the_activation_never_decreases():
    model = _mlp([20, 12, 5], seed=3)
    x, history = inside.optimal_stimulus(model, "output", 2, (20,), steps=60, lr=0.005, return_history=True)
    assert history.shape == (61,)
    assert np.all(np.diff(history) >= -1e-12)
    assert history[-1] > history[0]
    out = model(th.tensor(x[None])).data[0, 2]
    assert out == pytest.approx(history[-1])


def test_a_box_keeps_the_stimulus_in_range():
    model = _mlp([9, 1], seed=4)
    x = inside.optimal_stimulus(model, "output", 0, (9,), norm=2.0, box=(0.0, 0.5), steps=300, lr=0.5)
    assert x.min() >= 0 and x.max() <= 0.5
    w = model.parameters()[0].data[0]
    assert np.allclose(x, np.where(w > 0, 0.5, 0.0))   # the box's best: its top on positive weights, 0 elsewhere
    x = inside.optimal_stimulus(model, "output", 0, (9,), norm=0.5, box=(-1.0, 1.0), steps=100)
    assert np.linalg.norm(x) <= 0.5 + 1e-12 and _cos(x, w) >= 0.999   # the ball inside the box: the closed form


def test_parameters_and_modes_are_left_untouched():
    model = _mlp([8, 4, 2], seed=5)
    model.train()
    before = [p.data.copy() for p in model.parameters()]
    inside.optimal_stimulus(model, "output", 0, (8,), steps=3)
    inside.saliency(model, np.ones((2, 8)), 1)
    assert all(p.grad is None and p.requires_grad for p in model.parameters())
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
    assert all(m.training for m in model.modules())


# ---------------------------------------------------------------- top stimuli

def test_top_stimuli_are_the_images_that_excite_the_unit_most():
    model = th.nn.Sequential(th.nn.Linear(3, 2, dtype=F64))
    model.parameters()[0].data[:] = [[1, 0, 0], [0, 0, 1]]
    model.parameters()[1].data[:] = 0
    images = np.random.default_rng(0).normal(size=(50, 3))
    idx, act = inside.top_stimuli(model, "output", 1, images, k=9)
    assert list(idx) == list(np.argsort(-images[:, 2])[:9])
    assert np.allclose(act, images[idx, 2])
    idx0, _ = inside.top_stimuli(model, "0", 0, images, k=3, batch_size=7)
    assert list(idx0) == list(np.argsort(-images[:, 0])[:3])


# ---------------------------------------------------------------- attributions

class Captum(th.nn.Module):
    """f(x) = ReLU(ReLU(x₁) − 1 − ReLU(x₂)), Captum's test model for integrated gradients."""

    def forward(self, x):
        return th.relu(th.relu(x[:, 0:1]) - 1 - th.relu(x[:, 1:2]))


def test_integrated_gradients_give_captums_golden_value_and_completeness():
    x = np.array([[3.0, 1.0]])
    for steps in (50, 100):
        ig, gap = inside.integrated_gradients(Captum(), x, 0, steps=steps, return_gap=True)
        assert np.allclose(ig, [[1.5, -0.5]], atol=0.05)
        assert abs(gap[0]) <= 0.01 * 1.0   # f(x) − f(0) = 1
    assert np.allclose(inside.gradient_x_input(Captum(), x, 0), [[3, -1]])
    for method in ("riemann_right", "riemann_left", "riemann_middle", "riemann_trapezoid", "gausslegendre"):
        ig, gap = inside.integrated_gradients(Captum(), x, 0, steps=100, return_gap=True, method=method)
        assert np.allclose(ig, [[1.5, -0.5]], atol=0.05), method
        # the left sum counts α = 0.5, where ReLU'(0) = 0, and misses α = 1: one node short of the kink's side
        assert abs(gap[0]) <= (0.021 if method == "riemann_left" else 0.01), method
    with pytest.raises(ValueError, match="unknown method 'simpson'"):
        inside.integrated_gradients(Captum(), x, 0, method="simpson")


def test_the_quadratures_integrate_a_smooth_path_closer_than_the_right_sum():
    model = _mlp([6, 8, 2], seed=13)
    x = np.random.default_rng(8).normal(size=(3, 6)) * 2
    gaps = {m: np.abs(inside.integrated_gradients(model, x, 1, steps=20, return_gap=True, method=m)[1]).max()
            for m in ("riemann_right", "riemann_middle", "gausslegendre")}
    assert gaps["gausslegendre"] < gaps["riemann_middle"] < gaps["riemann_right"]


def test_the_adaptive_path_follows_the_jumps_of_a_relu_network():
    """A ReLU network's integrand is piecewise constant along the path, its jumps crowded near the black
    baseline: the adaptive path (the default) closes completeness better than every fixed rule at the same
    number of gradients, to within 1 % at 100 steps, and is exact for a linear model."""
    task = th.data.load("digits")
    X, y = task.train.X.astype(F64), task.train.y
    model = _mlp([64, 64, 64, 10], seed=3, act=th.nn.ReLU)
    th.fit(model, "cross_entropy", th.optim.Adam(model.parameters(), lr=0.01), (X, y), epochs=5, verbose=False,
           metrics=())
    x = task.test.X[:100].astype(F64)
    out = model(th.tensor(x)).data
    t = out.argmax(1)
    f = out[np.arange(100), t] - model(th.tensor(np.zeros_like(x))).data[np.arange(100), t]

    def worst(steps, method):
        return np.abs(inside.integrated_gradients(model, x, t, steps=steps, return_gap=True, method=method)[1]
                      / f).max()
    adaptive = worst(25, "adaptive")
    for method in ("riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre"):
        assert adaptive < worst(25, method), method
    assert worst(100, "adaptive") <= 0.01
    linear = _mlp([6, 3], seed=1)
    xs = np.random.default_rng(0).normal(size=(4, 6))
    assert np.abs(inside.integrated_gradients(linear, xs, 2, steps=3, return_gap=True)[1]).max() < 1e-12


def test_completeness_at_100_steps_and_a_batch_equals_its_examples_one_by_one():
    model = _mlp([10, 16, 4], seed=6)
    x = np.random.default_rng(1).normal(size=(5, 10))
    target = np.array([0, 3, 1, 1, 2])
    base = np.random.default_rng(2).normal(size=(10,)) * 0.1
    ig, gap = inside.integrated_gradients(model, x, target, baseline=base, steps=100, return_gap=True)
    f = model(th.tensor(x)).data[np.arange(5), target] - model(th.tensor(np.tile(base, (5, 1)))).data[
        np.arange(5), target]
    assert np.all(np.abs(gap) <= 0.01 * np.abs(f))
    assert np.allclose(ig.sum(1) - gap, f)
    for fn in (lambda m, a, t: inside.integrated_gradients(m, a, t, baseline=base, steps=100, batch_size=64),
               inside.saliency, inside.gradient_x_input, lambda m, a, t: inside.occlusion(m, a, t, 2, 1)):
        batch = fn(model, x, target)
        one = np.concatenate([fn(model, x[i:i + 1], int(target[i])) for i in range(5)])
        assert np.allclose(batch, one, atol=1e-12)


def _analytic_saliency(model, x, t):
    w1, b1, w2, _ = (p.data for p in model.parameters())
    h = np.tanh(x @ w1.T + b1)
    return np.abs(((1 - h ** 2) * w2[t]) @ w1)   # |∂/∂x w2[t]·tanh(W1 x + b1)|


def test_saliency_is_the_absolute_analytic_gradient():
    model = _mlp([6, 5, 3], seed=7)
    x = np.random.default_rng(3).normal(size=(4, 6))
    t = np.array([0, 2, 1, 2])
    s = inside.saliency(model, x, t)
    assert s.shape == x.shape
    assert np.allclose(s, _analytic_saliency(model, x, t))


def test_saliency_matches_pytorch():
    torch = pytest.importorskip("torch")
    model = _mlp([6, 5, 3], seed=8)
    w1, b1, w2, b2 = (torch.tensor(p.data) for p in model.parameters())
    x = np.random.default_rng(4).normal(size=(4, 6))
    t = np.array([2, 0, 1, 1])
    xt = torch.tensor(x, requires_grad=True)
    out = torch.tanh(xt @ w1.T + b1) @ w2.T + b2
    out[torch.arange(4), torch.tensor(t)].sum().backward()
    assert np.allclose(inside.saliency(model, x, t), xt.grad.abs().numpy())


def test_occlusion_of_a_linear_model_is_the_analytic_drop():
    model = _mlp([6, 3], seed=9)
    w, b = (p.data for p in model.parameters())
    x = np.random.default_rng(5).normal(size=(4, 6))
    t = np.array([0, 1, 2, 0])
    assert np.allclose(inside.occlusion(model, x, t, 1), w[t] * x)
    pairs = (w[t] * x).reshape(4, 3, 2).sum(2)
    assert np.allclose(inside.occlusion(model, x, t, 2, 2), np.repeat(pairs, 2, axis=1))
    assert np.allclose(inside.occlusion(model, x, t, 1, baseline=1.0), w[t] * (x - 1))
    img = x.reshape(4, 1, 2, 3)   # on an image, a window over (rows, cols) covers every channel
    model2 = th.nn.Sequential(th.nn.Flatten(), model)
    assert np.allclose(inside.occlusion(model2, img, t, (1, 1)).reshape(4, 6), w[t] * x)


def _rank_correlation(a, b):
    try:
        from scipy.stats import spearmanr
        return float(spearmanr(a.ravel(), b.ravel())[0])
    except ImportError:
        ra, rb = (np.argsort(np.argsort(v.ravel())).astype(float) for v in (a, b))
        return float(np.corrcoef(ra, rb)[0, 1])


def test_adebayo_sanity_check_saliency_changes_when_the_weights_are_rerandomised():
    task = th.data.load("digits")
    X, y = task.train.X.astype(F64), task.train.y
    model = _mlp([64, 32, 10], seed=10)
    th.fit(model, "cross_entropy", th.optim.Adam(model.parameters(), lr=0.01), (X, y), epochs=5, verbose=False,
           metrics=())
    x = task.test.X[:20].astype(F64)
    pred = model(th.tensor(x)).data.argmax(1)
    assert (pred == task.test.y[:20]).mean() >= 0.8
    trained = inside.saliency(model, x, pred)
    random = inside.saliency(_mlp([64, 32, 10], seed=11), x, pred)
    rho = [_rank_correlation(a, b) for a, b in zip(trained, random)]
    assert np.median(rho) < 0.5 and np.mean(rho) < 0.5
    assert _rank_correlation(trained[0], inside.saliency(model, x[:1], pred[0])) == pytest.approx(1.0)


# ---------------------------------------------------------------- bad arguments

def test_bad_arguments_give_a_clear_value_error():
    model = _mlp([8, 4, 3], seed=12)
    with pytest.raises(ValueError, match=r"unknown layer 'nope'.*'output'.*\['0', '1', '2'\]"):
        inside.optimal_stimulus(model, "nope", 0, (8,))
    with pytest.raises(ValueError, match="unit 4 is out of range: layer '0' has 4 units"):
        inside.optimal_stimulus(model, "0", 4, (8,))
    with pytest.raises(ValueError, match="unit 3 is out of range"):
        inside.top_stimuli(model, "output", 3, np.zeros((5, 8)))
    with pytest.raises(ValueError, match=r"input_shape \(7,\) does not fit the model"):
        inside.optimal_stimulus(model, "output", 0, (7,))
    with pytest.raises(ValueError, match="target 3 is out of range: the model has 3 outputs"):
        inside.saliency(model, np.zeros((2, 8)), 3)
    with pytest.raises(ValueError, match="x must be a non-empty batch"):
        inside.integrated_gradients(model, np.zeros(8), 0)
    with pytest.raises(ValueError, match="window"):
        inside.occlusion(model, np.zeros((2, 8)), 0, 9)
    with pytest.raises(ValueError, match="baseline of shape"):
        inside.integrated_gradients(model, np.zeros((2, 8)), 0, baseline=np.zeros(7))


# ---------------------------------------------------------------- plots

def test_plots_return_their_axes_and_draw():
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3)
    stimuli = np.random.default_rng(6).normal(size=(10, 64))
    assert inside.plot_stimuli(stimuli, ax=axes[0], titles=range(10)) is axes[0]
    assert len(axes[0].images) == 1 and len(axes[0].texts) == 10
    images = np.random.default_rng(7).random(size=(30, 1, 8, 8))
    idx = np.arange(9)
    assert inside.plot_top_stimuli(images, idx, np.linspace(1, 0, 9), ax=axes[1]) is axes[1]
    assert axes[1].images[0].get_array().shape == (8 * 3 + 3 * 3, 8 * 3 + 2 * 3)   # 3 × 3 tiles, gaps of 3
    assert inside.plot_attribution(images[0], images[1] - 0.5, ax=axes[2], title="why 7") is axes[2]
    assert len(axes[2].images) == 2 and axes[2].get_title() == "why 7"
    fig.canvas.draw()
    plt.close(fig)
    with pytest.raises(ValueError, match="not square"):
        inside.plot_stimuli(np.zeros((2, 10)))


# ---------------------------------------------------------------- many units at once, and Le et al.'s read-out

def test_optimal_stimuli_of_many_units_equal_each_units_own_ascent():
    model = _mlp([12, 6, 4], seed=4)
    kw = dict(steps=25, lr=0.05, norm=2.0, seed=3, jitter=1, blur_every=5, tv=0.01, l2=0.01)
    for layer, units in (("output", [0, 3, 1]), ("1", [5, 0])):
        many, history = inside.optimal_stimuli(model, layer, units, (12,), return_history=True, **kw)
        for x, h, u in zip(many, history, units):
            one, h1 = inside.optimal_stimulus(model, layer, u, (12,), return_history=True, **kw)
            assert np.allclose(x, one, atol=1e-12) and np.allclose(h, h1, atol=1e-12)
    seen = []
    inside.optimal_stimuli(model, "output", [0, 1], (12,), steps=4, callback=lambda t, x, a: seen.append(
        (t, x.shape, a.shape)))
    assert seen == [(t, (2, 12), (2,)) for t in range(5)]


def test_unit_stimuli_find_each_units_top_images_in_one_pass():
    model = _mlp([8, 5, 3], seed=2)
    images = np.random.default_rng(0).normal(size=(40, 8))
    stimuli, tops = inside.unit_stimuli(model, "1", [4, 0, 2], (8,), images, k=5, steps=5)
    assert stimuli.shape == (3, 8)
    for u, (idx, acts) in zip([4, 0, 2], tops):
        ref_idx, ref_acts = inside.top_stimuli(model, "1", u, images, k=5)
        assert np.array_equal(idx, ref_idx) and np.allclose(acts, ref_acts)


def test_class_selectivity_is_le_et_als_best_unit_over_20_thresholds():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=600)
    noise = rng.normal(size=(600, 4))
    detector = (y == 1) + 0.1 * rng.normal(size=600)           # unit 2 fires for class 1 and for nothing else
    acts = np.column_stack([noise[:, 0], noise[:, 1], detector, noise[:, 2]])
    classes, units, acc = inside.class_selectivity(acts, y)
    assert classes.tolist() == [0, 1, 2]
    assert units[1] == 2 and acc[1] == 1.0
    assert 0.5 <= acc[0] < 0.7 and 0.5 <= acc[2] < 0.7           # noise: a coin, up to the best of 4 × 20 tries
    inverted = inside.class_selectivity(-acts, y)[2]              # a unit that is silent for the class says nothing
    assert inverted[1] < 0.6
    # by hand, for class 1 and unit 2: all its examples and as many others, t evenly spaced from min to max
    pos = np.flatnonzero(y == 1)
    neg = np.random.default_rng(5).choice(np.flatnonzero(y != 1), len(pos), replace=False)
    a, lab = acts[np.r_[pos, neg], 0], np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    best = max(((a >= t) == lab).mean() for t in np.linspace(a.min(), a.max(), 20))
    assert best >= 0.5
    with pytest.raises(ValueError, match="one class only"):
        inside.class_selectivity(acts, np.zeros(600))
    with pytest.raises(ValueError, match="one row per label"):
        inside.class_selectivity(acts, y[:10])


def test_layer_activations_are_a_layers_units_per_image():
    conv = th.nn.Sequential(th.nn.Conv2d(1, 3, 3, generator=0), th.nn.ReLU())
    x = np.random.default_rng(1).normal(size=(5, 1, 6, 6))
    acts = inside.layer_activations(conv, "1", x, batch_size=2)
    maps = conv(th.tensor(x.astype(np.float32))).data
    assert acts.shape == (5, 3) and np.allclose(acts, maps.reshape(5, 3, -1).mean(2), atol=1e-6)
    with pytest.raises(ValueError, match="unknown layer 'nope'"):
        inside.layer_activations(conv, "nope", x)
