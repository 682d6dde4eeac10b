"""fit, evaluate, predict: the lecture's training loop, θ ← θ − η ∇loss(θ), batch after batch, epoch by epoch.

    history = th.fit(model, "cross_entropy", th.optim.Adam(model.parameters(), lr=3e-3), train_loader,
                     val_loader=test_loader, epochs=40)
    th.evaluate(model, "cross_entropy", test_loader)       # {"loss": 0.08, "accuracy": 0.975}

One batch is: forward (ŷ = model(x)), loss, ``backward()`` (∇loss(θ) in every ``p.grad``), ``optimizer.step()``.
Everything else (history, progress bar, early stopping, checkpoints, the NaN guard) is a callback; the checkpoint
that resumes a run (``checkpoint=``, ``resume=``) is written by ``fit`` itself, after the schedule's step.
"""
import math
import os
import time
import warnings

import numpy as np

from .._runtime import tune_malloc
from ..objective import Objective
from ..tensor import Tensor
from .callbacks import Callback, History, ProgressBar, TerminateOnNaN
from .checkpoint import Checkpoint, TrainingInterrupted, _Run, read_checkpoint

__all__ = ["fit", "evaluate", "predict", "Trainer"]

# metrics that compare numbers; every other metric compares class labels and needs integer-valued targets
_REGRESSION = {"mae", "mse", "rmse", "r2", "r2_score", "mean_absolute_error", "mean_squared_error", "max_error"}


class Trainer:
    """What callbacks see of a run: ``model``, ``optimizer``, ``history``, ``epochs``, ``steps_per_epoch``,
    ``epoch`` (the current one), ``initial_epoch`` (the first epoch this call runs: 0, or where a resumed run goes
    on), ``stop_training`` (set it to stop after the current batch)."""

    def __init__(self, model, optimizer, history, epochs, steps_per_epoch, initial_epoch=0):
        self.model, self.optimizer, self.history = model, optimizer, history
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.epoch, self.initial_epoch, self.stop_training = initial_epoch, initial_epoch, False

    def stop(self, reason):
        """Stop after the current batch and record why (the first reason wins)."""
        self.stop_training = True
        if self.history.stopped_reason is None:
            self.history.stopped_reason = reason


def fit(model, loss_fn, optimizer, train_loader, val_loader=None, epochs=10, metrics=("accuracy",),
        callbacks=None, verbose=True, scheduler=None, batch_size=32, checkpoint=None, resume=None):
    """Train ``model`` for ``epochs`` passes over ``train_loader``; returns the ``History``.

    Args:
        loss_fn: ``loss_fn(output, target) -> scalar Tensor`` (mean over the batch), a name for
            ``th.losses.get`` ('cross_entropy', 'bce', 'mse', ...), or a ``th.Objective``. A plain loss is read
            as ``Objective.infer(loss_fn, model)``: the loss says what the outputs are (logits, one logit,
            probabilities), or the model's last layer does (a Sigmoid or Softmax: probabilities), and the
            objective turns them into what each metric reads (labels for accuracy: class 1 where one logit
            z > 0, or one probability ŷ > 0.5).
        train_loader: a DataLoader yielding (x, y) NumPy batches, or a tuple (X, y) (then batches of
            ``batch_size``, shuffled reproducibly with seed 0).
        val_loader: evaluated after every epoch (``val_loss``, ``val_<metric>``); also a loader or (X, y), or a
            function ``f(model) -> {"loss": ..., "<metric>": ...}`` for an evaluation of its own (DKT's pooled
            next-answer AUC over windows of any length, say): its results are logged as ``val_*`` too.
        metrics: names from ``thetas.metrics`` ('accuracy', 'top5_error', 'roc_auc', ...) or functions
            ``f(y_true, outputs)``, computed exactly on the epoch's concatenated outputs (a name reads them
            through the objective; a function gets them as they are). A classification metric is skipped on a
            regression objective, or, when the objective does not say, on targets that are not whole numbers.
        callbacks: ``Callback`` objects. A ``History`` and a ``TerminateOnNaN`` are always used (yours if you
            pass them), and a ``ProgressBar`` on stderr when ``verbose``.
        scheduler: a learning-rate schedule, stepped once after every epoch.
        checkpoint: a path (or a ``th.train.Checkpoint``): at the end of every epoch, after the schedule's step,
            the whole run is written there atomically (see ``thetas/train/checkpoint.py``): weights, optimizer and
            schedule state, the epoch, the History, the state of callbacks that have ``state_dict()`` (EarlyStopping,
            ModelCheckpoint), and every random state: the train loader's, each np.random.Generator a module holds
            (Dropout), thetas' global generator.
        resume: a checkpoint path (may be the same as ``checkpoint``): restore it and go on with the epoch after it,
            up to ``epochs`` in all; a run that had stopped early, or had done ``epochs`` already, runs no more. Build
            the model, optimizer, schedule, loader and callbacks as for the first run: a checkpoint whose fingerprint
            (model config and parameter shapes, optimizer, schedule, training data, the Checkpoint's ``config``)
            differs is refused with a ``CheckpointError`` naming what differs, before anything changes. With one
            BLAS thread the resumed run ends bit-identical to one never interrupted.

    The train loader's random state travels through a protocol: a loader with ``state_dict()`` (JSON-able values
    and NumPy arrays) and ``load_state_dict(d)`` has it saved and restored (``DataLoader``: its generator's
    ``bit_generator.state``; draw each epoch's order from the generator when the epoch starts). A loader may also
    have ``fingerprint()`` (a JSON-able description of its data): it joins the run's fingerprint. A loader without
    ``state_dict`` is taken to have no random state.

    Training stops early, without raising, when a callback asks (EarlyStopping) or when the loss or a parameter
    stops being finite (the model then keeps its last good weights); ``history.stopped_reason`` says why.
    Ctrl-C with a ``checkpoint``: the file keeps the last completed epoch (a write in progress is finished first)
    and ``fit`` raises ``th.train.TrainingInterrupted`` (a KeyboardInterrupt) with ``.epoch`` and ``.path``.
    """
    tune_malloc()  # keep freed temporaries in the process: every step reuses the same pages (see _runtime)
    objective = Objective.infer(loss_fn, model)
    train_loader = _loader(train_loader, batch_size, shuffle=True)
    validate = val_loader if callable(val_loader) and not hasattr(val_loader, "__iter__") else None
    val_loader = None if val_loader is None or validate else _loader(val_loader, 1024, shuffle=False)
    metric_fns = _metrics(metrics)
    epochs = int(epochs)
    callbacks = list(callbacks or [])
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"fit: callbacks must be Callback objects, got a {type(cb).__name__}")
    history = next((cb for cb in callbacks if isinstance(cb, History)), None)
    history = History() if history is None else history  # (an empty History is falsy: it has len 0)
    guard = next((cb for cb in callbacks if isinstance(cb, TerminateOnNaN)), None)
    guard = TerminateOnNaN() if guard is None else guard
    extra = [cb for cb in callbacks if cb is not history and cb is not guard]
    bars = [cb for cb in extra if isinstance(cb, ProgressBar)]
    if verbose and not bars:
        bars = [ProgressBar()]
        extra.append(bars[0])
    extra.sort(key=lambda cb: isinstance(cb, ProgressBar))  # the bar reports last, after EarlyStopping has acted
    callbacks = [guard, history, *extra]
    batch_callbacks = [cb for cb in callbacks if type(cb).on_batch_end is not Callback.on_batch_end]

    trainer = Trainer(model, optimizer, history, epochs, _len(train_loader))
    ckpt = checkpoint if isinstance(checkpoint, Checkpoint) or checkpoint is None else Checkpoint(checkpoint)
    run = _Run(model, optimizer, scheduler, train_loader, callbacks) if ckpt is not None or resume is not None else None
    saved = None
    if resume is not None:
        resume = os.fspath(resume)
        saved = read_checkpoint(resume)
        run.check(saved, resume, None if ckpt is None else ckpt.config)
        run.restore(saved, resume)  # weights, optimizer, schedule, generators: before on_train_begin snapshots them
        done = saved["meta"]["epoch"]
        trainer.epoch = trainer.initial_epoch = epochs if saved["meta"]["stopped"] else min(done, epochs)
        if ckpt is not None and os.path.abspath(ckpt.path) == os.path.abspath(resume):
            ckpt.epoch = done
    for cb in callbacks:
        cb.set_trainer(trainer)
    warned = set()
    logs = {}
    try:
        for cb in callbacks:
            cb.on_train_begin(logs)
        if saved is not None:
            run.restore_callbacks(saved, resume)
            logs = _last_logs(history)
        for epoch in range(trainer.initial_epoch, epochs):
            trainer.epoch = epoch
            model.train()
            for cb in callbacks:
                cb.on_epoch_begin(epoch, {})
            start = time.perf_counter()
            done = _train_epoch(trainer, guard, objective, train_loader, epoch, bool(metric_fns), batch_callbacks)
            if done is None:  # the NaN guard stopped this epoch: it has no logs
                break
            loss, count, seconds, outputs, targets = done
            logs = {"loss": loss}
            logs.update(_compute(metric_fns, outputs, targets, warned, objective))
            if val_loader is not None or validate is not None:
                if validate is not None:
                    with model.evaluating():
                        val = dict(validate(model))
                else:
                    val = evaluate(model, objective, val_loader, metric_fns, _warned=warned)
                logs.update((f"val_{k}", v) for k, v in val.items())
            logs["samples_per_s"] = count / max(seconds, 1e-12)
            logs["seconds"] = time.perf_counter() - start
            lr = _lr(optimizer)
            if lr is not None:
                logs["lr"] = lr
            for cb in callbacks:
                cb.on_epoch_end(epoch, logs)
            if scheduler is not None:
                scheduler.step()
            if ckpt is not None:
                ckpt.write(run, epoch + 1, epochs, stopped=trainer.stop_training)
            if trainer.stop_training:
                break
        for cb in callbacks:
            cb.on_train_end(logs)
    except KeyboardInterrupt:
        if ckpt is not None and ckpt.epoch is not None:
            raise TrainingInterrupted(ckpt.epoch, ckpt.path) from None
        if saved is not None:  # nothing new written yet: the checkpoint resumed from still holds the run
            raise TrainingInterrupted(saved["meta"]["epoch"], resume) from None
        raise
    finally:
        for bar in bars:
            bar.close()
    return history


def _train_epoch(trainer, guard, objective, loader, epoch, keep_outputs, batch_callbacks):
    """One pass over the loader: (mean loss, samples, seconds, outputs, targets), or None if the guard stopped."""
    model, optimizer = trainer.model, trainer.optimizer
    total, count = 0.0, 0
    outputs, targets = [], []
    batch_logs = {}
    start = time.perf_counter()
    for i, (xb, yb) in enumerate(loader):
        guard.snapshot()
        out = model(xb)
        loss = objective(out, yb)
        value = loss.item()  # the one host-side number per batch
        if not math.isfinite(value):
            guard.fail(epoch, i, f"the loss is {value}", xb)
            return None
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        bad = guard.first_bad_tensor()
        if bad is not None:
            guard.fail(epoch, i, f"parameter {bad!r} became non-finite in the optimizer step", xb)
            return None
        n = len(yb)
        total += value * n
        count += n
        if keep_outputs:
            outputs.append(out.data)
            targets.append(yb)
        if batch_callbacks:
            batch_logs["batch"], batch_logs["size"], batch_logs["loss"] = i, n, total / count
            batch_logs["batch_loss"] = value                 # this batch's own loss (loss: the epoch's mean so far)
            for cb in batch_callbacks:
                cb.on_batch_end(i, batch_logs)
            if trainer.stop_training:
                break
    if count == 0:
        raise ValueError("fit: the training loader yielded no batches (is the data set empty, or smaller than the "
                         "batch size with drop_last=True?)")
    return total / count, count, time.perf_counter() - start, outputs, targets


def evaluate(model, loss_fn, loader, metrics=("accuracy",), batch_size=1024, _warned=None):
    """The loss and metrics of ``model`` on all of ``loader``: ``{"loss": ..., "accuracy": ...}``.

    ``loss_fn`` is read as in ``fit``: a loss function or name (its ``Objective.infer``), or a ``th.Objective``.
    Runs in eval mode under ``th.no_grad()`` (the model's mode is restored afterwards). The loss is the mean over
    samples (batch means weighted by batch size); metrics are computed once, on the concatenated outputs of all
    batches, so they are exact, not averages of per-batch values. ``loader`` may be a tuple (X, y).
    """
    objective = Objective.infer(loss_fn, model)
    loader = _loader(loader, batch_size, shuffle=False)
    metric_fns = _metrics(metrics)
    total, count, outputs, targets = 0.0, 0, [], []
    with model.evaluating():
        for xb, yb in loader:
            out = model(xb)
            n = len(yb)
            total += objective(out, yb).item() * n
            count += n
            outputs.append(out.data)
            targets.append(yb)
    if count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    result = {"loss": total / count}
    result.update(_compute(metric_fns, outputs, targets, set() if _warned is None else _warned, objective))
    return result


def predict(model, X, batch_size=1024):
    """The model's outputs for every row of ``X`` (an array, a Tensor, or a loader of (x, y) batches), as one
    NumPy array; eval mode, no graph."""
    if isinstance(X, Tensor):
        X = X.data
    if isinstance(X, np.ndarray) or isinstance(X, (list, tuple)) and not _is_pair(X):
        X = np.asarray(X)
        batches = (X[i:i + batch_size] for i in range(0, len(X), int(batch_size)))
    else:
        batches = (xb for xb, _ in _loader(X, batch_size, shuffle=False))
    with model.evaluating():
        outs = [model(xb).data for xb in batches]
    if not outs:
        raise ValueError("predict: no inputs")
    return np.concatenate(outs)


# ---------------------------------------------------------------------------------------------------- helpers
def _is_pair(obj):
    return isinstance(obj, tuple) and len(obj) == 2


def _loader(obj, batch_size, shuffle):
    """A DataLoader for a tuple (X, y); anything else that iterates over (x, y) batches is used as it is."""
    if _is_pair(obj):
        from ..data import ArrayDataset, DataLoader
        X, y = (o.data if isinstance(o, Tensor) else o for o in obj)
        return DataLoader(ArrayDataset(X, y), batch_size=int(batch_size), shuffle=shuffle,
                          seed=0 if shuffle else None)
    if not hasattr(obj, "__iter__"):
        raise TypeError(f"expected a DataLoader or a tuple (X, y), got {type(obj).__name__}")
    return obj


def _last_logs(history):
    """The last epoch's logs from a restored History (what on_train_end gets when a resumed run has no epochs
    left)."""
    return {k: v[-1] for k, v in history.history.items() if v} if len(history) else {}


def _len(loader):
    try:
        return len(loader)
    except TypeError:
        return None


def _lr(optimizer):
    try:
        return float(optimizer.param_groups[0]["lr"])
    except (AttributeError, IndexError, KeyError, TypeError):
        return None


def _metrics(metrics):
    """[(name, fn)] for metric names or functions; an unknown name fails now, not after the first epoch."""
    if metrics is None or isinstance(metrics, (str, tuple, list)) and not metrics:
        return []
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    if isinstance(metrics, list) and metrics and isinstance(metrics[0], tuple):
        return list(metrics)  # already resolved
    from .. import metrics as M
    out = []
    for m in metrics:
        if callable(m):
            out.append((getattr(m, "__name__", type(m).__name__), m))
        elif isinstance(m, str):
            out.append((m, M.get(m)))
        else:
            raise TypeError(f"metrics: expected names or functions, got a {type(m).__name__}")
    return out


def _compute(metric_fns, outputs, targets, warned, objective):
    """Each metric on the concatenated outputs, read through the objective (labels for accuracy, a score of
    class 1 for roc_auc, ...); a metric that does not apply is skipped with one warning."""
    if not metric_fns or not outputs:
        return {}
    y = np.concatenate([np.asarray(t) for t in targets])
    out = np.concatenate(outputs)
    if out.ndim == 2 and out.shape[1] == 1:  # one output unit: (N, 1) -> (N,)
        out = out[:, 0]
    labels = objective.classifies(y)
    result = {}
    for name, fn in metric_fns:
        if not labels and name not in _REGRESSION:
            continue  # accuracy on a regression target: does not apply
        try:
            result[name] = float(fn(y, objective.for_metric(fn, out)))
        except (ValueError, TypeError, IndexError) as e:
            if name not in warned:
                warned.add(name)
                warnings.warn(f"metric {name!r} skipped: {e}", RuntimeWarning, stacklevel=3)
    return result
