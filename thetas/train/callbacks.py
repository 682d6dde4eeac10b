"""Callbacks: code that runs at fixed points of ``th.fit`` and ``th.rl.DQN.learn`` (Keras' design,
``keras/callbacks/``).

Every hook gets one ``logs`` dict. In ``fit``, at the end of an epoch it holds ``loss`` and each requested metric on
the training data, ``val_loss`` and ``val_<metric>`` when there is a validation loader, ``samples_per_s``,
``seconds`` and ``lr``; at the end of a batch, ``batch``, ``size``, ``loss`` (the epoch's running mean so far) and
``batch_loss`` (this batch's own).
``DQN.learn`` calls an evaluation period an epoch and a log interval a batch; its logs are ``steps``, ``loss`` (TD
loss), ``q_mean``, ``epsilon``, ``lr``, ``episode_return`` and, at an evaluation, ``eval_return`` (see its docstring).
A quantity logged as None was not measured this time (no evaluation in this epoch): monitors skip it.
A callback reaches the training run through ``self.trainer`` (``.model``, ``.optimizer``, ``.history``,
``.epochs``) and stops it by setting ``self.trainer.stop_training = True``.

    class PrintLoss(th.train.Callback):
        def on_epoch_end(self, epoch, logs):
            print(epoch, logs["loss"])
"""
import math
import sys
import time
import warnings

import numpy as np

__all__ = ["Callback", "History", "ProgressBar", "EarlyStopping", "ModelCheckpoint", "TerminateOnNaN"]

_HIGHER_IS_BETTER = ("accuracy", "acc", "auc", "roc_auc", "f1", "precision", "recall", "r2", "log_likelihood")


def _mode(monitor, mode):
    """'min' or 'max' for a logged quantity: 'auto' maximises accuracy-like names and minimises the rest."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    base = monitor[4:] if monitor.startswith("val_") else monitor
    return "max" if base in _HIGHER_IS_BETTER or base.endswith(("accuracy", "_auc")) else "min"


def _better(value, best, mode, min_delta=0.0, ties="first"):
    """Is ``value`` a new best? Better by more than ``min_delta``; with ``ties='last'`` an equal value is too."""
    if best is None:
        return True
    if ties == "last" and value == best:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _ties(ties):
    if ties not in ("first", "last"):
        raise ValueError(f"ties must be 'first' or 'last', got {ties!r}")
    return ties


def _monitored(owner, monitor, logs, what):
    """logs[monitor], or None: a quantity logged as None (not measured this epoch) is skipped quietly, a missing
    one with one warning."""
    value = logs.get(monitor)
    if value is None and monitor not in logs and not owner._warned:
        warnings.warn(f"{type(owner).__name__}: {monitor!r} is not in the logs (they have {sorted(logs)}); {what}",
                      RuntimeWarning, stacklevel=3)
        owner._warned = True
    return value


class Callback:
    """Base class: every hook does nothing. ``self.trainer`` is set by ``fit`` (or ``DQN.learn``) before
    ``on_train_begin``."""
    trainer = None

    def set_trainer(self, trainer):
        self.trainer = trainer

    def on_train_begin(self, logs):
        pass

    def on_epoch_begin(self, epoch, logs):
        pass

    def on_batch_end(self, batch, logs):
        pass

    def on_epoch_end(self, epoch, logs):
        pass

    def on_train_end(self, logs):
        pass


class History(Callback):
    """The epoch logs, one list per quantity: ``history.history["val_loss"][e]`` is epoch e's validation loss.

    ``fit`` returns it. ``stopped_reason`` says why training ended early (None when it ran all its epochs).
    """

    def __init__(self):
        self.history, self.epoch, self.stopped_reason = {}, [], None

    def on_train_begin(self, logs):
        self.history, self.epoch, self.stopped_reason = {}, [], None

    def on_epoch_end(self, epoch, logs):
        # every list stays one entry per epoch: a quantity missing from an epoch is None there
        for key in logs:
            if key not in self.history:
                self.history[key] = [None] * len(self.epoch)
        for key, values in self.history.items():
            values.append(logs.get(key))
        self.epoch.append(epoch)

    def state_dict(self):
        """What a checkpoint saves: the curves so far, the epochs and ``stopped_reason``."""
        return {"history": self.to_dict(), "epoch": [int(e) for e in self.epoch],
                "stopped_reason": self.stopped_reason}

    def load_state_dict(self, state):
        history, epochs = state["history"], state["epoch"]
        if not isinstance(history, dict) or not isinstance(epochs, list) or \
                any(not isinstance(v, list) or len(v) != len(epochs) for v in history.values()):
            raise ValueError("History.load_state_dict: expected {'history': {name: one value per epoch}, "
                             "'epoch': [...], 'stopped_reason': ...}")
        self.history = {k: list(v) for k, v in history.items()}
        self.epoch, self.stopped_reason = list(epochs), state.get("stopped_reason")

    def to_dict(self):
        """A JSON-able copy: name -> list of floats per epoch."""
        return {k: [None if v is None else float(v) for v in values] for k, values in self.history.items()}

    def best(self, key, mode="auto"):
        """(epoch, value) of the best epoch for ``key``: lowest for losses and errors, highest for accuracy-like
        quantities (``mode='auto'``), or as ``mode='min'``/``'max'`` says."""
        if key not in self.history:
            raise KeyError(f"History.best: no quantity {key!r}; logged: {sorted(self.history)}")
        mode = _mode(key, mode)
        pairs = [(e, v) for e, v in zip(self.epoch, self.history[key]) if v is not None and not math.isnan(v)]
        if not pairs:
            raise ValueError(f"History.best: {key!r} has no finite value yet")
        pick = min if mode == "min" else max
        return pick(pairs, key=lambda ev: ev[1])

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


# how a progress bar writes a quantity, where its full name would crowd the line: label, format
_SHORT = {"epsilon": ("eps", ".3f"), "episode_return": ("return", ".1f"), "eval_return": ("eval", ".1f")}


def _fmt(logs, keys):
    parts = []
    for k in keys:
        v = logs.get(k)
        if v is None:
            continue
        if k == "samples_per_s":
            parts.append(f"{v:,.0f} samples/s")
        elif k == "lr":
            parts.append(f"lr={v:.3g}")
        elif k in _SHORT:
            label, spec = _SHORT[k]
            parts.append(f"{label}={v:{spec}}")
        else:
            parts.append(f"{k}={v:.4f}")
    return ", ".join(parts)


class ProgressBar(Callback):
    """tqdm progress on stderr (stdout stays clean for ``--json``): loss, metrics and samples/s.

    ``unit='batch'``: one bar per epoch over its batches (Keras' style). ``unit='epoch'``: one bar over the epochs,
    for runs whose epochs are tiny. ``unit='auto'`` (default) shows the first epoch batch by batch and, if it took
    less than ``min_epoch_seconds``, replaces it by one bar over all epochs; for a trainer that counts steps of its
    own (``trainer.total_steps``, e.g. ``DQN.learn``'s environment steps) it means ``unit='step'``: one bar over
    all the steps, at ``trainer.steps``, with the latest logs (``trainer.progress_keys`` of them, if it names some).
    """

    def __init__(self, unit="auto", min_epoch_seconds=1.0, file=None):
        if unit not in ("auto", "batch", "epoch", "step"):
            raise ValueError(f"ProgressBar: unit must be 'auto', 'batch', 'epoch' or 'step', got {unit!r}")
        self.unit, self.min_epoch_seconds, self.file = unit, float(min_epoch_seconds), file
        self._bar = None

    def _new_bar(self, **kwargs):
        from tqdm import tqdm  # plain text: tqdm.auto needs ipywidgets in a notebook, or it fails there
        return tqdm(file=self.file or sys.stderr, dynamic_ncols=True, **kwargs)  # sys.stderr looked up now

    def on_train_begin(self, logs):
        self._start = time.time()  # tqdm's clock: the epoch bar of 'auto' counts the first epoch too
        self._mode = None if self.unit == "auto" else self.unit
        self._epochs = self.trainer.epochs
        self._keys = None
        self._last = 0.0
        total_steps = getattr(self.trainer, "total_steps", None)
        if self._mode == "step" or self._mode is None and total_steps is not None:
            if total_steps is None:
                raise ValueError("ProgressBar(unit='step') needs a trainer that counts steps (trainer.total_steps)")
            self._mode, self._seen = "step", {}
            self._keys = getattr(self.trainer, "progress_keys", None)
            self._bar = self._new_bar(total=int(total_steps), unit=getattr(self.trainer, "unit", "step"),
                                      unit_scale=True, smoothing=0.1)
        if self._mode == "epoch":
            self._bar = self._new_bar(total=self._epochs, unit="epoch", desc="training",
                                      initial=getattr(self.trainer, "initial_epoch", 0))

    def _step(self, logs):
        """unit='step': move the bar to ``trainer.steps`` and show the latest value of each logged quantity."""
        self._seen.update((k, v) for k, v in logs.items() if v is not None)
        keys = self._keys or [k for k in self._seen if k not in ("batch", "size", "steps", "seconds", "lr")]
        self._bar.set_postfix_str(_fmt(self._seen, keys), refresh=False)
        self._bar.update(self.trainer.steps - self._bar.n)  # update() redraws, at most every 0.1 s

    def on_epoch_begin(self, epoch, logs):
        if self._mode not in ("epoch", "step"):
            self._bar = self._new_bar(total=self.trainer.steps_per_epoch, unit="batch",
                                      desc=f"epoch {epoch + 1}/{self._epochs}", leave=self._mode == "batch")

    def on_batch_end(self, batch, logs):
        if self._mode == "epoch" or self._bar is None:
            return
        if self._mode == "step":
            return self._step(logs)
        self._bar.update(1)
        now = time.perf_counter()
        if now - self._last > 0.2:  # a postfix costs string formatting: refresh it a few times a second
            self._last = now
            self._bar.set_postfix_str(f"loss={logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs):
        if self._mode == "step":
            return self._step(logs)
        if self._keys is None:
            self._keys = [k for k in logs if k not in ("seconds", "lr")]
        text = _fmt(logs, self._keys)
        if self._mode is None:  # auto: decide after the first epoch
            if logs.get("seconds", 0.0) < self.min_epoch_seconds and self._epochs > 1:
                self._bar.close()  # leave=False: the short first bar disappears
                self._mode = "epoch"
                self._bar = self._new_bar(total=self._epochs, unit="epoch", desc="training", smoothing=0,
                                          initial=getattr(self.trainer, "initial_epoch", 0))
                self._bar.start_t = self._start
            else:
                self._mode = "batch"
                self._bar.leave = True
        if self._mode == "epoch":
            self._bar.set_postfix_str(text, refresh=False)  # update() redraws, at most every 0.1 s
            self._bar.update(1)
        else:
            self._bar.set_postfix_str(text)
            self._bar.close()
            self._bar = None

    def on_train_end(self, logs):
        self.close()
        reason = self.trainer.history.stopped_reason
        if reason:
            print(reason, file=self.file or sys.stderr)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights=True`` the model ends training with the weights of its best epoch (the lecture's
    cure for overfitting: keep the thetas from before the validation curve turned back up).

    Args:
        monitor: a key of the epoch logs, e.g. 'val_loss', 'val_accuracy', or DQN's 'eval_return'.
        mode: 'min', 'max', or 'auto' (max for accuracy-like names, min otherwise).
        patience: epochs without improvement before stopping; None: never stop, only keep the best weights
            (what ``DQN.learn`` does by default, on 'eval_return').
        ties: of epochs with equal values, the best is the 'first' (Keras) or the 'last' (an equal value counts
            as an improvement: DQN keeps the later of two equally good policies, which has trained longer).
    """

    def __init__(self, monitor="val_loss", patience=5, mode="auto", min_delta=0.0, restore_best_weights=True,
                 ties="first"):
        self.monitor, self.min_delta = monitor, abs(float(min_delta))
        self.patience = None if patience is None else int(patience)
        self.mode, self.restore_best_weights = _mode(monitor, mode), bool(restore_best_weights)
        self.ties = _ties(ties)
        self.best = self.best_epoch = self.best_weights = None
        self.wait, self.stopped_epoch = 0, None
        self._warned = False

    def on_train_begin(self, logs):
        self.best = self.best_epoch = self.best_weights = None
        self.wait, self.stopped_epoch = 0, None

    def on_epoch_end(self, epoch, logs):
        value = _monitored(self, self.monitor, logs, "nothing to monitor")
        if value is None:
            return
        if not math.isnan(value) and _better(value, self.best, self.mode, self.min_delta, self.ties):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.trainer.model.state_dict()
            return
        self.wait += 1
        if self.patience is not None and self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop(f"EarlyStopping: {self.monitor} did not improve for {self.wait} epochs "
                              f"(best {self.best:.6g} at epoch {self.best_epoch + 1})")

    def state_dict(self):
        """What a checkpoint saves: the best value and epoch, the epochs waited, and the best weights."""
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], int(state["wait"])
        self.stopped_epoch = state["stopped_epoch"]
        weights = state["best_weights"]
        self.best_weights = None if weights is None else {k: np.array(v) for k, v in weights.items()}

    def on_train_end(self, logs):
        if self.restore_best_weights and self.best_weights is not None:
            self.trainer.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model with ``th.save`` at the end of an epoch: when ``monitor`` improves (``save_best_only``),
    or every epoch. ``path`` may hold ``{epoch}`` and log keys: ``"ckpt-{epoch:03d}-{val_loss:.3f}.safetensors"``.
    The file's user metadata records the epoch (1-based) and its logs. A trainer with a ``save(path, metadata)``
    method saves what it trains its own way: ``DQN.learn``'s writes the agent, which ``DQN.load`` reads back.
    ``ties``: as in ``EarlyStopping`` ('last': an equal value is saved again)."""

    def __init__(self, path, monitor="val_loss", save_best_only=True, mode="auto", metadata=None, ties="first"):
        self.path, self.monitor, self.save_best_only = path, monitor, bool(save_best_only)
        self.mode, self.metadata, self.ties = _mode(monitor, mode), metadata, _ties(ties)
        self.best, self.last_path = None, None
        self._warned = False

    def on_train_begin(self, logs):
        self.best = None

    def state_dict(self):
        """What a checkpoint saves: the best monitored value and the last file written."""
        return {"best": self.best, "last_path": self.last_path}

    def load_state_dict(self, state):
        self.best, self.last_path = state["best"], state["last_path"]

    def on_epoch_end(self, epoch, logs):
        from ..io import save
        if self.save_best_only:
            value = _monitored(self, self.monitor, logs, "nothing is saved")
            if value is None or math.isnan(value) or not _better(value, self.best, self.mode, ties=self.ties):
                return
            self.best = value
        path = str(self.path).format(epoch=epoch + 1, **logs)
        meta = {"epoch": epoch + 1, "logs": {k: v for k, v in logs.items() if v is not None}}
        if self.metadata is not None:
            meta["user"] = self.metadata
        own_save = getattr(self.trainer, "save", None)
        if own_save is not None:
            own_save(path, metadata=meta)
        else:
            save(self.trainer.model, path, metadata=meta)
        self.last_path = path


class TerminateOnNaN(Callback):
    """Stop training as soon as the loss, a gradient or a parameter is NaN or ±Inf, keeping the last good weights.

    ``fit`` always uses one (``DQN.learn`` yours, if you pass one, around every update). Before each batch it
    copies the model's parameters and buffers; if the loss of the batch is not finite the optimizer never steps, and
    if a step leaves a parameter non-finite the copy is put back. ``history.stopped_reason`` then names the epoch,
    the batch and what went wrong (including NaN in the input batch). Cost per batch: one copy and one sum per
    parameter array (a few µs for a small MLP).
    """

    def on_train_begin(self, logs):
        model = self.trainer.model
        self._tensors = [p for _, p in model.named_parameters()] + [b for _, b in model.named_buffers()]
        self._names = [n for n, _ in model.named_parameters()] + [n for n, _ in model.named_buffers()]
        self._copies = [t.data.copy() for t in self._tensors]

    def snapshot(self):
        for copy, t in zip(self._copies, self._tensors):
            if copy.shape != t.data.shape or copy.dtype != t.data.dtype:
                raise RuntimeError("TerminateOnNaN: a model tensor changed shape or dtype during training")
            np.copyto(copy, t.data)

    def restore(self):
        for copy, t in zip(self._copies, self._tensors):
            np.copyto(t.data, copy)

    def first_bad_tensor(self):
        """Name of the first parameter or buffer that is not finite, or None."""
        with np.errstate(over="ignore", invalid="ignore"):  # inf + (-inf) in the sum is a finding, not a warning
            for name, t in zip(self._names, self._tensors):
                if not _finite(t.data):
                    return name
        return None

    def fail(self, epoch, batch, what, xb=None):
        """Put the last good weights back and stop with a message naming the epoch, the batch and the cause."""
        self.restore()
        causes = [what]
        bad_inputs = _count_nonfinite(xb)
        if bad_inputs:
            causes.append(f"the input batch holds {bad_inputs} non-finite value{'s' if bad_inputs > 1 else ''}")
        with np.errstate(over="ignore", invalid="ignore"):
            bad_grads = [n for n, p in self.trainer.model.named_parameters()
                         if p.grad is not None and not _finite(p.grad)]
        if bad_grads:
            causes.append(f"non-finite gradients in {', '.join(bad_grads)}")
        self.trainer.stop(f"TerminateOnNaN: stopped at epoch {epoch + 1}, batch {batch + 1}: "
                          + "; ".join(causes) + ". The model keeps the weights from before this batch.")


def _finite(a):
    """True if every entry of ``a`` is finite. One sum does it (NaN and ±Inf propagate into it); the exact,
    slower test runs only when the sum is not finite, which a sum of huge finite values can also be."""
    if a.dtype.kind != "f":
        return True
    return math.isfinite(a.sum()) or bool(np.isfinite(a).all())


def _count_nonfinite(x):
    if x is None:
        return 0
    try:
        arr = np.asarray(getattr(x, "data", x))
    except Exception:
        return 0
    if arr.dtype.kind not in "fc":
        return 0
    return int(arr.size - np.count_nonzero(np.isfinite(arr)))
