"""th.Objective: what a model's output means (C logits, one logit, probabilities, log-probabilities, values), and
the loss, probabilities, predictions and metrics that follow, for every kind; the objective of a plain loss
behaves as the loss did; fit, evaluate, the plots and the playground ask it."""
import numpy as np
import pytest

import thetas as th
from thetas import losses, metrics
from thetas.objective import Objective
from thetas.train import evaluate, fit, predict


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z, np.float64)))


def _data(n=60, c=3, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, c)).astype(np.float32) * 2
    y = rng.integers(0, c, n)
    y[:c] = np.arange(c)  # every class occurs
    return z, y


def _loss(objective, out, y):
    return objective(th.tensor(out), y).item()


# ---------------------------------------------------------------------------------------------- C logits
def test_cross_entropy_on_c_logits():
    z, y = _data(c=7)
    o = Objective("classification", 7, "cross_entropy")
    assert (o.output, o.outputs, o.binary_logit, o.threshold) == ("logits", 7, False, 0.0)
    assert _loss(o, z, y) == pytest.approx(-np.mean(np.log(_softmax(z.astype(np.float64))[np.arange(60), y])),
                                           rel=1e-5)
    p = o.probabilities(z)
    np.testing.assert_allclose(p, _softmax(z.astype(np.float64)), rtol=1e-12)
    np.testing.assert_array_equal(o.predict(z), z.argmax(1))
    m = o.metrics(z, y, 0.5)
    assert set(m) == {"loss", "accuracy", "top5_error"}  # more than five classes: top-5 error
    assert m["accuracy"] == np.mean(z.argmax(1) == y)
    assert m["top5_error"] == metrics.top_k_error(y, z, k=5)


def test_two_logits_rank_by_their_difference_for_roc_auc():
    z, y = _data(c=2)
    o = Objective("classification", 2, "cross_entropy")
    assert o.outputs == 2 and not o.binary_logit
    m = o.metrics(z, y, 0.1)
    assert set(m) == {"loss", "accuracy", "roc_auc"}
    assert m["roc_auc"] == metrics.roc_auc(y, _softmax(z.astype(np.float64))[:, 1])  # z1 − z0 ranks as P(1) does


# ---------------------------------------------------------------------------------------------- one logit
def test_bce_on_one_logit_the_lecture_neuron():
    z, y = _data(c=1)
    y = (z[:, 0] + np.random.default_rng(1).normal(size=60) > 0.3).astype(np.int64)
    o = Objective("classification", 2, "bce")
    assert (o.output, o.outputs, o.binary_logit, o.threshold) == ("logit", 1, True, 0.0)
    yhat = _sigmoid(z[:, 0])
    assert _loss(o, z, y) == pytest.approx(-np.mean(y * np.log(yhat) + (1 - y) * np.log(1 - yhat)), rel=1e-5)
    np.testing.assert_allclose(o.probabilities(z), np.column_stack([1 - yhat, yhat]), rtol=1e-12)
    np.testing.assert_allclose(o.probabilities(z[:, 0]), o.probabilities(z))  # (N,) and (N, 1) alike
    np.testing.assert_array_equal(o.predict(z), (z[:, 0] > 0).astype(int))  # σ(z) > 0.5 exactly when z > 0
    m = o.metrics(z, y, 0.3)
    assert m["accuracy"] == np.mean((z[:, 0] > 0) == y)
    assert m["roc_auc"] == metrics.roc_auc(y, yhat)
    # a saturated neuron: P(class 1) stays finite, and the logits still rank (σ would round both to 1.0)
    np.testing.assert_allclose(o.probabilities(np.array([[-1e4], [1e4]], np.float32)), [[1, 0], [0, 1]], atol=1e-200)
    assert o.metrics(np.array([[20.0], [30.0]], np.float32), np.array([0, 1]), 0)["roc_auc"] == 1.0


@pytest.mark.parametrize("loss, fn", [("mse", losses.mse_loss), ("mae", losses.l1_loss)])
def test_mse_and_mae_compare_sigmoid_of_one_logit_or_softmax_of_c_with_the_label(loss, fn):
    z, y = _data(c=1)
    y = (z[:, 0] > 0.2).astype(np.int64)
    one = Objective("classification", 2, loss, one_logit=True)
    assert one.outputs == 1 and one.binary_logit
    assert _loss(one, z, y) == pytest.approx(fn(th.tensor(_sigmoid(z[:, 0])), y.astype(np.float64)).item(),
                                             rel=1e-5)
    z3, y3 = _data(c=3)
    many = Objective("classification", 3, loss)
    assert many.output == "logits" and many.outputs == 3
    want = fn(th.tensor(_softmax(z3.astype(np.float64))), np.eye(3)[y3]).item()
    assert _loss(many, z3, y3) == pytest.approx(want, rel=1e-5)
    np.testing.assert_array_equal(many.predict(z3), z3.argmax(1))


def test_bce_with_many_classes_is_one_sigmoid_per_class():
    z, y = _data(c=4)
    o = Objective("classification", 4, "bce")
    assert o.output == "logit" and o.outputs == 4 and not o.binary_logit
    p = _sigmoid(z)
    assert _loss(o, z, y) == pytest.approx(losses.binary_cross_entropy(th.tensor(p), np.eye(4)[y]).item(), rel=1e-4)
    np.testing.assert_allclose(o.probabilities(z), p, rtol=1e-12)  # rows need not sum to 1
    np.testing.assert_array_equal(o.predict(z), z.argmax(1))


# ---------------------------------------------------------------------------------------------- probabilities
def test_one_probability_after_a_sigmoid():
    z, y = _data(c=1)
    y = (z[:, 0] > 0).astype(np.int64)
    yhat = _sigmoid(z).astype(np.float32)  # what a model ending in th.nn.Sigmoid outputs
    o = Objective("classification", 2, "bce", output="probabilities")
    assert (o.output, o.outputs, o.binary_logit, o.threshold) == ("probabilities", 1, False, 0.5)
    assert _loss(o, yhat, y) == pytest.approx(_loss(Objective("classification", 2, "bce"), z, y), rel=1e-4)
    np.testing.assert_allclose(o.probabilities(yhat), np.column_stack([1 - yhat[:, 0], yhat[:, 0]]))
    np.testing.assert_array_equal(o.predict(yhat), (yhat[:, 0] > 0.5).astype(int))
    assert o.metrics(yhat, y, 0)["roc_auc"] == metrics.roc_auc(y, yhat[:, 0])


def test_c_probabilities_after_a_softmax_and_log_probabilities_after_a_log_softmax():
    z, y = _data(c=3)
    p = _softmax(z.astype(np.float64))
    o = Objective("classification", 3, "cross_entropy", output="probabilities")
    assert o.output == "probabilities" and o.outputs == 3
    assert _loss(o, p, y) == pytest.approx(_loss(Objective("classification", 3, "cross_entropy"), z, y), rel=1e-6)
    np.testing.assert_array_equal(o.probabilities(p), p)
    np.testing.assert_array_equal(o.predict(p), z.argmax(1))
    logp = np.log(p)
    lo = Objective.infer(losses.nll_loss)
    assert lo.output == "log_probabilities" and lo.task == "classification"
    np.testing.assert_allclose(lo.probabilities(logp), p, rtol=1e-12)
    np.testing.assert_array_equal(lo.predict(logp), z.argmax(1))
    assert _loss(lo, logp, y) == pytest.approx(_loss(o, p, y), rel=1e-9)
    assert Objective.infer(model=th.nn.Sequential(th.nn.Linear(2, 3), th.nn.LogSoftmax(-1))).output == \
        "log_probabilities"


# ---------------------------------------------------------------------------------------------- regression
def test_regression_one_value_and_no_probabilities():
    rng = np.random.default_rng(0)
    out, y = rng.normal(size=(50, 1)).astype(np.float32), rng.normal(size=50)
    o = Objective("regression", None, "mse")
    assert (o.output, o.outputs, o.binary_logit) == ("values", 1, False)
    assert _loss(o, out, y) == pytest.approx(np.mean((out[:, 0] - y) ** 2), rel=1e-5)
    np.testing.assert_array_equal(o.predict(out), out[:, 0])
    m = o.metrics(out, y, 1.0)
    assert set(m) == {"loss", "mae", "rmse"}
    assert m["mae"] == pytest.approx(np.mean(np.abs(out[:, 0] - y)))
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean((out[:, 0] - y) ** 2)))
    with pytest.raises(ValueError, match="values .* not probabilities"):
        o.probabilities(out)
    assert not o.classifies(np.array([1.0, 2.0]))  # the task says, not the look of the targets
    with pytest.raises(ValueError, match="needs a classification target"):
        Objective("regression", None, "bce")
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        Objective("classification", 2, "hinge")
    with pytest.raises(ValueError, match="unknown task"):
        Objective("clustering", 2, "mse")
    with pytest.raises(ValueError, match="regression model outputs values"):
        Objective("regression", None, "mse", output="probabilities")


# ---------------------------------------------------------------------------------------------- a plain loss
C, LABELS = "classification", None  # (the task a plain loss gives; None: the targets decide)


@pytest.mark.parametrize("loss, output, threshold, task", [
    (losses.cross_entropy, "logits", 0.0, C), ("cross_entropy", "logits", 0.0, C),
    (losses.CrossEntropyLoss(), "logits", 0.0, C),
    (losses.binary_cross_entropy_with_logits, "logit", 0.0, C), ("bce", "logit", 0.0, C),
    (losses.BCEWithLogitsLoss(), "logit", 0.0, C),
    (losses.binary_cross_entropy, "probabilities", 0.5, C), (losses.BCELoss(), "probabilities", 0.5, C),
    (losses.mse_loss, "values", 0.5, LABELS), ("mse", "values", 0.5, LABELS), (losses.HuberLoss(), "values", 0.5, LABELS),
    (lambda out, y: losses.mse_loss(out, y), "logits", 0.0, LABELS),  # says nothing: thetas' models output logits
])
def test_infer_from_a_plain_loss_calls_it_as_given(loss, output, threshold, task):
    o = Objective.infer(loss)
    assert (o.output, o.threshold, o.task, o.num_classes, o.outputs) == (output, threshold, task, None, None)
    rng = np.random.default_rng(0)
    if output == "logits" and o.task:
        out, y = rng.normal(size=(20, 3)).astype(np.float32), rng.integers(0, 3, 20)
    else:
        out, y = rng.uniform(0.05, 0.95, size=20).astype(np.float32), rng.integers(0, 2, 20).astype(np.float32)
    fn = losses.get(loss)
    assert o(th.tensor(out), y).item() == fn(th.tensor(out), y).item()  # the same function, the same number
    assert Objective.infer(o) is o


def test_infer_asks_the_model_when_the_loss_does_not_say():
    ends_in_sigmoid = th.nn.Sequential(th.nn.Linear(2, 1), th.nn.Sigmoid())
    ends_in_softmax = th.nn.Sequential(th.nn.Sequential(th.nn.Linear(2, 3)), th.nn.Sequential(th.nn.Softmax(-1)))
    assert Objective.infer(model=ends_in_sigmoid).output == "probabilities"
    assert Objective.infer(losses.mse_loss, ends_in_softmax).output == "probabilities"  # nested: the last layer
    assert Objective.infer(model=th.models.MLP([2, 4, 1])).output == "logits"
    # the loss says first: BCE-with-logits reads logits whatever the model ends in; `output` overrides both
    assert Objective.infer(losses.binary_cross_entropy_with_logits, ends_in_sigmoid).output == "logit"
    assert Objective.infer(lambda o, y: 0, ends_in_sigmoid, output="logit").output == "logit"
    with pytest.raises(TypeError, match="loss_fn must be a function, a loss name or an Objective, got int"):
        Objective.infer(3)
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        Objective.infer("hinge")
    with pytest.raises(ValueError, match="unknown output 'odds'"):
        Objective.infer(losses.mse_loss, output="odds")
    with pytest.raises(TypeError, match="no loss"):
        Objective.infer(model=ends_in_sigmoid)(th.zeros(2, 1), [0, 1])


def test_named_objective_is_the_lecture_losses_it_replaces():
    """The playground's and the trainer's old formulas, term for term."""
    z, _ = _data(c=1)
    y = (z[:, 0] > 0.5).astype(np.int64)
    z2, y2 = _data(c=2)
    t = th.tensor(z)
    zf, yf = t.reshape(-1), y.astype(np.float32)
    cases = [("bce", False, losses.binary_cross_entropy_with_logits(zf, yf)),
             ("mse", True, losses.mse_loss(th.sigmoid(zf), yf)),
             ("mae", True, losses.l1_loss(th.sigmoid(zf), yf))]
    for name, one_logit, want in cases:
        assert Objective("classification", 2, name, one_logit=one_logit)(t, y).item() == want.item()
    assert Objective("classification", 2, "cross_entropy")(th.tensor(z2), y2).item() == \
        losses.cross_entropy(th.tensor(z2), y2).item()


# ---------------------------------------------------------------------------------------------- metrics
def test_for_metric_reads_labels_scores_and_probabilities():
    z, y = _data(c=1)
    y = (z[:, 0] > 0.1).astype(np.int64)
    logit = Objective.infer("bce")
    np.testing.assert_array_equal(logit.for_metric(metrics.accuracy, z[:, 0]), (z[:, 0] > 0).astype(int))
    np.testing.assert_array_equal(logit.for_metric(metrics.roc_auc, z[:, 0]), z[:, 0])
    p = logit.for_metric(metrics.log_likelihood, z[:, 0])  # logits -> probabilities: the lecture's LL(θ)
    assert metrics.log_likelihood(y, p) == pytest.approx(-60 * losses.binary_cross_entropy_with_logits(
        th.tensor(z[:, 0].astype(np.float64)), y.astype(np.float64)).item(), rel=1e-9)
    z3, _ = _data(c=3)
    np.testing.assert_array_equal(logit.for_metric(metrics.top_k_error, z3), z3)  # as they are
    labels = np.array([0, 2, 1])
    np.testing.assert_array_equal(Objective.infer("cross_entropy").for_metric(metrics.accuracy, labels), labels)


def test_fit_with_a_name_a_function_a_loss_object_or_an_objective_is_the_same_run():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(96, 2)).astype(np.float32)
    y = (X[:, 0] - X[:, 1] > 0.2).astype(np.int64)
    runs = []
    for loss in ("bce", losses.binary_cross_entropy_with_logits, losses.BCEWithLogitsLoss(),
                 Objective.infer("bce")):
        model = th.models.LogisticRegression(2, generator=0)
        h = fit(model, loss, th.optim.SGD(model.parameters(), lr=0.5), (X, y.astype(np.float32)), epochs=3,
                val_loader=(X, y.astype(np.float32)), metrics=("accuracy", "roc_auc"), verbose=False)
        runs.append({k: v for k, v in h.history.items() if k not in ("samples_per_s", "seconds")})
    assert all(r == runs[0] for r in runs[1:])
    assert set(runs[0]) == {"loss", "accuracy", "roc_auc", "val_loss", "val_accuracy", "val_roc_auc", "lr"}


def test_a_model_ending_in_sigmoid_with_bce_loss_thresholds_at_one_half():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0.3).astype(np.float32)
    model = th.nn.Sequential(th.nn.Linear(2, 1, generator=0), th.nn.Sigmoid())  # ŷ (N, 1): targets (N, 1)
    h = fit(model, th.losses.BCELoss(), th.optim.Adam(model.parameters(), lr=0.05), (X, y[:, None]), epochs=20,
            metrics=("accuracy", "roc_auc"), verbose=False)
    yhat = predict(model, X)[:, 0]
    r = evaluate(model, th.losses.BCELoss(), (X, y[:, None]), metrics=("accuracy", "roc_auc"))
    assert r["accuracy"] == np.mean((yhat > 0.5) == y) > 0.9
    assert r["roc_auc"] == metrics.roc_auc(y, yhat)
    assert h.history["loss"][-1] < h.history["loss"][0]
    # the same through a named objective that says the model outputs probabilities
    named = Objective("classification", 2, "bce", output="probabilities")
    r2 = evaluate(model, named, (X, y.astype(np.int64)), metrics=("accuracy", "roc_auc"))
    assert r2["accuracy"] == r["accuracy"] and r2["roc_auc"] == r["roc_auc"]
    assert r2["loss"] == pytest.approx(r["loss"], rel=1e-6)


def test_a_logit_whose_outputs_happen_to_lie_in_0_1_still_thresholds_at_0():
    """The old trainer guessed from the output range: a logit model whose z all fell in [0, 1] was read as
    probabilities (threshold 0.5). The loss says what z is."""
    X = np.linspace(0, 1, 40, dtype=np.float32)[:, None]
    y = (X[:, 0] > 0).astype(np.float32)  # every z > 0 is class 1: all but the first point
    model = th.nn.Linear(1, 1)
    model.weight.data[...] = 1
    model.bias.data[...] = 0
    r = evaluate(model, "bce", (X, y[:, None]), metrics=("accuracy",))
    assert r["accuracy"] == 1.0  # with a threshold of 0.5 it would be 0.5


def test_a_regression_objective_skips_label_metrics_even_on_whole_number_targets():
    X = np.arange(12, dtype=np.float32)[:, None]
    y = np.arange(12, dtype=np.float32)  # counts: whole numbers, yet a regression target
    model = th.nn.Linear(1, 1)
    assert "accuracy" in evaluate(model, "mse", (X, y[:, None]))  # a plain mse: whole numbers read as labels
    assert "accuracy" not in evaluate(model, Objective("regression", None, "mse"), (X, y))


# ---------------------------------------------------------------------------------------------- the users
def test_decision_grid_asks_the_objective():
    pytest.importorskip("matplotlib")
    from thetas import viz

    class Probability(th.nn.Module):  # ŷ = σ(5 x₁) computed inside forward: no Sigmoid layer to see
        def forward(self, x):
            return th.sigmoid(x[:, :1] * 5.0)

    X = np.array([[-1.0, -1.0], [1.0, 1.0]], np.float32)
    xx, _, guessed = viz.decision_grid(Probability(), X, resolution=9, padding=0)
    assert guessed.all()  # read as a logit: σ(·) > 0 everywhere
    xx, _, told = viz.decision_grid(Probability(), X, resolution=9, padding=0,
                                    objective=Objective("classification", 2, "bce", output="probabilities"))
    np.testing.assert_array_equal(told, (xx > 0).astype(int))
    _, _, by_loss = viz.decision_grid(Probability(), X, resolution=9, padding=0, objective=th.losses.BCELoss())
    np.testing.assert_array_equal(by_loss, told)
    with pytest.raises(ValueError, match="regression"):
        viz.decision_grid(Probability(), X, objective=Objective("regression", None, "mse"))


def test_playground_loss_and_probability_of_b_come_from_its_objective():
    from thetas.lab import playground as pg
    for loss in pg.LOSSES:
        s = pg.Session(pg.Config.parse({"dataset": "xor", "hidden": [4], "loss": loss, "points": 40}))
        o = s.objective
        assert isinstance(o, Objective) and o.outputs == (2 if loss == "cross_entropy" else 1)
        assert s.model[-1].out_features == o.outputs
        out = s.model(th.tensor(s.X)).data
        p = o.probabilities(out)[:, 1]
        want = _softmax(out.astype(np.float64))[:, 1] if loss == "cross_entropy" else _sigmoid(out[:, 0])
        np.testing.assert_allclose(p, want, rtol=1e-12)
        state = s.state()
        train = ~s.test
        assert state["accuracy"] == np.mean(o.predict(out[train]) == s.y[train])
        assert state["loss"] == pytest.approx(o(th.tensor(out[train]), s.y[train]).item(), rel=1e-6)
        assert f'loss="{loss}"' in s.code() and "th.fit(model, objective" in s.code()


def test_misclassified_reads_the_outputs_through_the_objective():
    pytest.importorskip("matplotlib")
    from thetas import viz
    X = np.zeros((2, 1, 4, 4), np.float32)
    logits = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]], np.float32)  # rows that look like probabilities
    guessed = viz.plot_misclassified(logits, X, [0, 0]).axes[0].get_title()
    told = viz.plot_misclassified(logits, X, [0, 0], objective="cross_entropy").axes[0].get_title()
    p = _softmax(logits[0].astype(np.float64))
    assert guessed == "true 0\n1st: 1 (70%)\n2nd: 0 (20%)"
    assert told == f"true 0\n1st: 1 ({p[1]:.0%})\n2nd: 0 ({p[0]:.0%})" != guessed
