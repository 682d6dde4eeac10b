"""What a model's output means: the task, the number of classes, what the network outputs (C logits, one logit, or
probabilities), the loss on those outputs, and how outputs become probabilities, predictions and metrics. The one
object that ``fit``, ``evaluate``, the metrics, the plots, the CLI and the lab all ask.

    objective = th.Objective("classification", num_classes=2, loss="bce")   # one output neuron ŷ = σ(z)
    loss = objective(model(x), y)                                          # a scalar Tensor
    objective.probabilities(outputs)                                       # (N, 2): [1 − ŷ, ŷ]
    objective.predict(outputs)                                             # labels: class 1 where z > 0

    th.Objective.infer(th.losses.BCELoss(), model)   # the objective of a plain loss: here ŷ is a probability
    th.fit(model, th.losses.cross_entropy, ...)      # fit and evaluate build that objective themselves
"""
import numpy as np

from .tensor import Tensor

LOSSES = ("cross_entropy", "bce", "mse", "mae", "huber")

# What the network outputs, and how an output becomes probabilities (``Objective.output``):
OUTPUTS = {
    "logits": "C raw scores z: P = softmax(z); one output per example is the logit of class 1, P(1) = σ(z)",
    "logit": "one logit per decision: ŷ = σ(z) (the lecture's output neuron; C of them: one sigmoid per class)",
    "probabilities": "probabilities already: the model ends in a Sigmoid (ŷ per example) or a Softmax (C per row)",
    "log_probabilities": "log-probabilities: the model ends in a LogSoftmax, P = exp(output)",
    "values": "numbers compared with the target as they are (regression; or an mse fit of 0/1 labels)",
}


class Objective:
    """Ties a task to the network's output layer, the loss, and how outputs become predictions.

    ``Objective(task, num_classes, loss, one_logit=False, output=None)`` with a loss name builds the output layer
    for the loss (``outputs`` units):

        classification + cross_entropy: C logits, softmax cross-entropy on integer labels.
        classification + bce:           binary: 1 logit (the lecture's one output neuron ŷ = σ(z));
                                        more classes: C logits, one sigmoid per class against one-hot targets.
        classification + mse/mae/huber: C outputs through a softmax, compared with one-hot targets
                                        (one_logit with two classes: ŷ = σ(z) compared with the label).
        regression + mse/mae/huber:     1 output compared with the number.

    ``output="probabilities"``: the model already ends in a Sigmoid (one output) or a Softmax (C outputs), and the
    loss reads ŷ itself: bce is −[y log ŷ + (1 − y) log(1 − ŷ)], cross_entropy is −log ŷ_y.

    ``Objective.infer(loss, model)`` is the objective of a plain loss function, loss object or ``th.losses`` name:
    what ``th.fit(model, th.losses.cross_entropy, ...)`` uses. Its loss is called exactly as given.

    Attributes:
        task: "classification", "regression", or None: the targets decide.
        num_classes: the number of classes.
        loss: the name, or the function.
        output: a key of ``OUTPUTS``: what the network outputs.
        outputs: the number of output units; None when the loss alone does not say.
        binary_logit: one output neuron z, ŷ = σ(z).
        threshold: where one output per example means class 1.
    """

    def __init__(self, task, num_classes, loss, one_logit=False, output=None):
        from . import losses
        if task not in ("classification", "regression"):
            raise ValueError(f"unknown task {task!r}; choose 'classification' or 'regression'")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if task == "regression" and loss in ("cross_entropy", "bce"):
            raise ValueError(f"--loss {loss} needs a classification target; this data set is a regression task")
        if output not in (None, "logits", "probabilities"):
            raise ValueError(f"output must be 'logits' or 'probabilities' (what the model ends in), got {output!r}")
        if task == "regression" and output == "probabilities":
            raise ValueError("a regression model outputs values, not probabilities")
        self.task, self.num_classes, self.loss = task, num_classes, loss
        # two classes through one output: ŷ = σ(z) (softmax over two logits [0, z] is the same σ(z)), or ŷ itself
        binary = task == "classification" and num_classes == 2 and (loss == "bce" or one_logit)
        self.outputs = 1 if task == "regression" or binary else num_classes
        if task == "regression":
            self.output = "values"
        elif output == "probabilities":
            self.output = "probabilities"
        else:
            self.output = "logit" if binary or loss == "bce" else "logits"
        self._fn = losses.get(loss)
        self._loss = self._named_loss

    @classmethod
    def infer(cls, loss=None, model=None, output=None):
        """The Objective of a plain loss: a function ``loss(outputs, y)``, a loss object (``th.losses.BCELoss()``)
        or a name for ``th.losses.get`` ('bce' is the one on logits). An Objective is returned as it is.

        The loss is called exactly as given. What the outputs are comes from, first to last: ``output`` when
        given; a loss that reads one kind (cross_entropy: logits; binary_cross_entropy_with_logits: a logit;
        binary_cross_entropy: probabilities; nll_loss: log-probabilities); the model's last layer (Sigmoid or
        Softmax: probabilities; LogSoftmax: log-probabilities); mse, l1 and huber: values; else logits (what
        thetas' models output). ``task`` is classification for the losses on labels and None otherwise (the
        targets decide); ``num_classes`` and ``outputs`` are None (the outputs say).
        """
        from . import losses
        if isinstance(loss, Objective):
            return loss
        name = loss
        if isinstance(loss, str):
            loss = losses.get(loss)
        elif loss is not None and not callable(loss):
            raise TypeError(f"loss_fn must be a function, a loss name or an Objective, got {type(loss).__name__}")
        if output is not None and output not in OUTPUTS:
            raise ValueError(f"unknown output {output!r}; choose one of {', '.join(OUTPUTS)}")
        fn = getattr(type(loss), "fn", loss)  # a loss object (BCELoss()) reads as its function
        reads = next((kind for f, kind in ((losses.cross_entropy, "logits"),
                                           (losses.binary_cross_entropy_with_logits, "logit"),
                                           (losses.binary_cross_entropy, "probabilities"),
                                           (losses.nll_loss, "log_probabilities")) if fn is f), None)
        values = any(fn is f for f in (losses.mse_loss, losses.l1_loss, losses.huber_loss))
        self = cls.__new__(cls)
        self.task = "classification" if reads else None
        kind = output or reads or _last_layer_output(model) or ("values" if values else "logits")
        self.num_classes = self.outputs = None
        self.loss, self.output, self._fn = name, kind, loss
        self._loss = _no_loss if loss is None else loss
        return self

    # ------------------------------------------------------------------------------------------------ the loss
    def __call__(self, out, y):
        """The loss of the outputs ``out`` (a Tensor) against the targets ``y``: a scalar Tensor."""
        return self._loss(out, y)

    def _named_loss(self, out, y):
        from . import losses
        from .autograd import ops
        y = np.asarray(y)
        probabilities = self.output == "probabilities"
        if self.task == "regression":
            return self._fn(ops.reshape(out, (-1,)), y.astype(out.dtype))
        if self.outputs == 1:  # two classes, one output: the logit z, or ŷ = σ(z) itself
            z = ops.reshape(out, (-1,))
            t = y.astype(z.dtype)
            if self.loss in ("bce", "cross_entropy"):
                bce = losses.binary_cross_entropy if probabilities else losses.binary_cross_entropy_with_logits
                return bce(z, t)
            return self._fn(z if probabilities else ops.sigmoid(z), t)
        if self.loss == "cross_entropy":
            if probabilities:  # −log ŷ_y, ŷ floored at 1e-12: a confident mistake costs 27.6, not inf
                return losses.nll_loss(ops.log(ops.clip(out, 1e-12, None)), y)
            return self._fn(out, y)
        onehot = np.eye(self.num_classes, dtype=out.dtype)[y]
        if self.loss == "bce":  # one sigmoid per class
            return losses.binary_cross_entropy(out, onehot) if probabilities else self._fn(out, onehot)
        return self._fn(out if probabilities else ops.softmax(out, -1), onehot)

    # ---------------------------------------------------------------------------------- reading the outputs
    @property
    def binary_logit(self):
        """One output neuron z with ŷ = σ(z) (two classes)."""
        return self.output == "logit" and self.outputs in (1, None)

    @property
    def threshold(self):
        """Where one output per example means class 1: 0 for a logit z (σ(z) > 0.5 exactly when z > 0), 0.5 for
        a probability ŷ or a value fitted to 0/1 labels, log 0.5 for a log-probability."""
        return {"probabilities": 0.5, "values": 0.5, "log_probabilities": float(np.log(0.5))}.get(self.output, 0.0)

    def probabilities(self, outputs):
        """Network outputs (N, C), or (N,) / (N, 1) for one output per example -> probabilities (N, C), float64.

        logits: softmax(z) = exp(z − max z) / Σ exp(z − max z); logit: σ(z) = 1 / (1 + exp(−z));
        log_probabilities: exp; probabilities: as they are. One output per example is P(class 1) = ŷ, returned
        as the two columns [1 − ŷ, ŷ]. C logits of a bce objective are C independent sigmoids (rows need not
        sum to 1).
        """
        out = np.asarray(_numpy(outputs), np.float64)
        if self.output == "values":
            raise ValueError("these outputs are values compared with the target (a regression loss), not "
                             "probabilities; build the Objective with output='probabilities' if the model ends in "
                             "a Sigmoid or Softmax")
        one = out.ndim == 1 or out.shape[-1] == 1
        if self.output == "logit" or self.output == "logits" and one:
            p = 1 / (1 + np.exp(-np.clip(out, -500, 500)))  # the clip keeps exp finite; σ is 0 or 1 there anyway
        elif self.output == "logits":
            e = np.exp(out - out.max(-1, keepdims=True))
            p = e / e.sum(-1, keepdims=True)
        elif self.output == "log_probabilities":
            p = np.exp(out)
        else:
            p = out
        if one:
            p = p.reshape(p.shape[:-1] if out.ndim > 1 else p.shape)
            return np.stack([1 - p, p], -1)
        return p

    def predict(self, outputs):
        """Network outputs (NumPy or a Tensor) -> predicted labels (classification) or values (regression, and
        the values of a plain mse loss). One output per example: class 1 where it exceeds ``threshold``;
        C outputs: the argmax."""
        out = _numpy(outputs)
        if self.task == "regression" or self.task is None and self.output == "values":
            return out.reshape(-1) if out.ndim == 2 and out.shape[1] == 1 else out
        return self.classes(out)

    def classes(self, outputs):
        """The predicted class of each example (int64): class 1 where one output per example exceeds
        ``threshold``, the argmax of C outputs. ``predict`` for a classifier; a picture of decision regions
        asks it of any model."""
        out = _numpy(outputs)
        if out.ndim == 1 or out.ndim == 2 and out.shape[1] == 1:
            return (out.reshape(-1) > self.threshold).astype(np.int64)
        return out.argmax(-1)

    def scores(self, outputs):
        """What ranking metrics read: (N, C) class scores for C outputs (top-k: logits rank the classes as their
        probabilities do); for one output per example, (N,) the output itself (a logit z ranks the examples as
        σ(z) does, without σ rounding to 1.0 in float32 beyond z ≈ 17)."""
        out = _numpy(outputs)
        return out.reshape(-1) if out.ndim == 2 and out.shape[1] == 1 else out

    def _score_of_class_1(self, outputs):
        """(N,) a score that grows with P(class 1), for roc_auc: the one output, or z₁ − z₀ of two columns
        (the log-odds for logits or log-probabilities, 2ŷ₁ − 1 for probabilities)."""
        s = self.scores(outputs)
        return s[:, 1] - s[:, 0] if s.ndim == 2 and s.shape[1] == 2 else s

    def for_metric(self, metric, outputs):
        """What ``metric(y_true, ·)`` of ``th.metrics`` reads from the outputs: predicted labels for accuracy, a
        score of class 1 for roc_auc, probabilities for log_likelihood; the outputs as they are for the others
        (top-k reads class scores; your own metric gets what the model output)."""
        from . import metrics
        out = _numpy(outputs)
        if metric is metrics.accuracy and out.dtype.kind == "f":
            return self.classes(out)
        if metric is metrics.roc_auc:
            return self._score_of_class_1(out)
        if metric is metrics.log_likelihood:
            return self.probabilities(out)
        return out

    def classifies(self, y):
        """Whether the targets ``y`` are class labels: the task says; without one, whole numbers are labels
        (integers, bools, or floats holding whole numbers, as read from a CSV file)."""
        if self.task:
            return self.task == "classification"
        y = np.asarray(y)
        return y.dtype.kind in "iub" or (y.dtype.kind == "f" and bool(np.all(y == np.round(y))))

    def metrics(self, outputs, y, loss):
        """The report of a data set's outputs: loss; mae and rmse (regression); accuracy, roc_auc (two classes),
        top5_error (more than five classes). Without a task the targets decide: whole numbers are labels."""
        from . import metrics
        outputs, y = _numpy(outputs), np.asarray(y)
        out = {"loss": float(loss)}
        if not self.classifies(y):
            pred = outputs.reshape(-1) if outputs.ndim == 2 and outputs.shape[1] == 1 else outputs
            out["mae"] = float(np.mean(np.abs(pred - y)))
            out["rmse"] = float(np.sqrt(np.mean((pred - y) ** 2)))
            return out
        out["accuracy"] = float(np.mean(self.classes(outputs) == y))
        num_classes = self.num_classes or (outputs.shape[1] if outputs.ndim == 2 and outputs.shape[1] > 1 else 2)
        if num_classes == 2 and len(np.unique(y)) == 2:
            out["roc_auc"] = float(metrics.roc_auc(y, self._score_of_class_1(outputs)))
        if num_classes > 5 and outputs.ndim == 2:
            out["top5_error"] = float(metrics.top_k_error(y, outputs, k=5))
        return out

    def __repr__(self):
        loss = self.loss if isinstance(self.loss, str) or self.loss is None else \
            getattr(self.loss, "__name__", None) or type(self.loss).__name__
        return (f"Objective(task={self.task!r}, num_classes={self.num_classes!r}, loss={loss!r}, "
                f"output={self.output!r})")


def _numpy(a):
    return np.asarray(a.data if isinstance(a, Tensor) else a)


def _no_loss(out, y):
    raise TypeError("this Objective has no loss (it was inferred from a model alone, to read outputs); fit and "
                    "evaluate need a loss function, a loss name or an Objective")


def _last_layer_output(model):
    """What a model's last layer makes of its outputs: probabilities after a Sigmoid or a Softmax, log-probabilities
    after a LogSoftmax; None when it says nothing (a Linear: logits; a Module that is not a Sequential)."""
    from .nn.activation import LogSoftmax, Sigmoid, Softmax
    from .nn.containers import Sequential
    while isinstance(model, Sequential) and len(model):
        model = model[-1]
    if isinstance(model, LogSoftmax):  # (a LogSoftmax is a Softmax: ask it first)
        return "log_probabilities"
    if isinstance(model, (Sigmoid, Softmax)):
        return "probabilities"
    return None
