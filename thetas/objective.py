"""What a model's output means: the task, the classes, the loss, and how outputs become probabilities and
predictions. One object that training, evaluation, metrics, plots, the CLI and the lab all ask.

    objective = th.Objective("classification", num_classes=2, loss="bce")   # one output neuron ŷ = σ(z)
    loss = objective(model(x), y)                                          # a scalar Tensor
    objective.predict(outputs)                                             # labels (or values)
"""
import numpy as np

LOSSES = ("cross_entropy", "bce", "mse", "mae", "huber")


class Objective:
    """Ties a task to the network's output layer, the loss, and how outputs become predictions.

    classification + cross_entropy: C logits, softmax cross-entropy on integer labels.
    classification + bce:           binary: 1 logit (the lecture's one output neuron ŷ = σ(z));
                                    more classes: C logits, one sigmoid per class against one-hot targets.
    classification + mse/mae/huber: C outputs through a softmax, compared with one-hot targets.
    regression + mse/mae/huber:     1 output compared with the number.
    """

    def __init__(self, task, num_classes, loss, one_logit=False):
        from . import losses
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
        if task == "regression" and loss in ("cross_entropy", "bce"):
            raise ValueError(f"--loss {loss} needs a classification target; this data set is a regression task")
        self.task, self.num_classes, self.loss = task, num_classes, loss
        # one output neuron ŷ = σ(z) for two classes (softmax over two logits [0, z] is the same σ(z))
        self.binary_logit = task == "classification" and num_classes == 2 and (loss == "bce" or one_logit)
        self.outputs = 1 if task == "regression" or self.binary_logit else num_classes
        self._fn = losses.get(loss)

    def __call__(self, out, y):
        from .autograd import ops
        from .losses import binary_cross_entropy_with_logits
        y = np.asarray(y)
        if self.binary_logit:
            z = ops.reshape(out, (-1,))
            if self.loss in ("bce", "cross_entropy"):
                return binary_cross_entropy_with_logits(z, y.astype(z.dtype))
            return self._fn(ops.sigmoid(z), y.astype(z.dtype))
        if self.loss == "cross_entropy":
            return self._fn(out, y)
        if self.task == "regression":
            return self._fn(ops.reshape(out, (-1,)), y.astype(out.dtype))
        onehot = np.eye(self.num_classes, dtype=out.dtype)[y]
        if self.loss == "bce":
            return self._fn(out, onehot)
        return self._fn(ops.softmax(out, -1), onehot)

    def predict(self, outputs):
        """Network outputs (NumPy) -> predicted labels (classification) or values (regression)."""
        if self.task == "regression":
            return outputs.reshape(-1)
        if self.binary_logit:
            return (outputs.reshape(-1) > 0).astype(np.int64)
        return outputs.argmax(-1)

    def scores(self, outputs):
        """Class scores (N, C) for top-k metrics, or P(class 1) for a binary logit."""
        if self.binary_logit:
            return 1 / (1 + np.exp(-outputs.reshape(-1)))
        return outputs

    def metrics(self, outputs, y, loss):
        """The report of a data set's outputs: loss; mae and rmse (regression); accuracy, roc_auc (two classes),
        top5_error (more than five classes)."""
        from . import metrics
        out = {"loss": float(loss)}
        pred = self.predict(outputs)
        if self.task == "regression":
            out["mae"] = float(np.mean(np.abs(pred - y)))
            out["rmse"] = float(np.sqrt(np.mean((pred - y) ** 2)))
            return out
        out["accuracy"] = float(np.mean(pred == y))
        scores = self.scores(outputs)
        if self.num_classes == 2 and len(np.unique(y)) == 2:
            s = scores if scores.ndim == 1 else scores[:, 1] - scores[:, 0]
            out["roc_auc"] = float(metrics.roc_auc(y, s))
        if self.num_classes > 5 and scores.ndim == 2:
            out["top5_error"] = float(metrics.top_k_error(y, scores, k=5))
        return out
