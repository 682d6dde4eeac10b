"""Training checkpoints: everything ``th.fit`` needs to go on after an interruption, bit for bit.

    th.fit(model, "cross_entropy", opt, loader, epochs=40, checkpoint="run.safetensors")   # written every epoch
    th.fit(model, "cross_entropy", opt, loader, epochs=40, checkpoint="run.safetensors",
           resume="run.safetensors")                                                      # ... goes on from it

A run after epoch k is more than its weights: what the next epoch does depends on

    the weights θ and buffers           model.state_dict()
    the optimizer's state               momentum buffers b (SGD), moments m, v and step t (Adam), the group lrs
    the schedule                        scheduler.state_dict(): η as a function of the epoch
    every random number still to come   the train loader's generator (the next epoch's order), every
                                        np.random.Generator a module holds (Dropout's masks), th's global generator
    what the callbacks remember         History's curves, EarlyStopping's best value, patience and best weights

and all of it is saved, so that (with one BLAS thread, which sums in a fixed order) a run resumed from epoch k ends
with the same bits as a run that was never stopped. One ``.safetensors`` file, written through ``th.save``:
arrays as tensors, everything else as JSON, never pickle; written atomically (a temp file renamed over the old one),
so a kill at any moment leaves the previous epoch's checkpoint or the new one. It is read back with ``th.io``'s
checks (every offset, size and dtype before any array is made), and a fingerprint of the run (model config and
parameter shapes, optimizer and schedule, a digest of the training data, the caller's ``config``) must match
before anything is changed: a checkpoint of another model or another data set is refused, naming what differs.

A Ctrl-C during the write is held back until the file is complete; a Ctrl-C during an epoch leaves the checkpoint of
the last completed epoch, and ``fit`` raises ``TrainingInterrupted`` (a ``KeyboardInterrupt``) naming that epoch.
"""
import contextlib
import hashlib
import json
import os
import signal
import threading

import numpy as np

__all__ = ["Checkpoint", "CheckpointError", "TrainingInterrupted", "read_checkpoint", "check_resume", "digest"]

FORMAT = "thetas.checkpoint"
VERSION = 1
_DIGEST_BYTES = 16 << 20  # data up to 16 MiB is hashed whole; larger data by its shape and 4,096 spread rows


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed: not a checkpoint, corrupt, or written by another run (the message
    names the file and what differs)."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``fit`` with a checkpoint: ``epoch`` epochs are complete and saved in ``path``."""

    def __init__(self, epoch, path):
        super().__init__(f"interrupted after epoch {epoch}; the checkpoint {path} holds it")
        self.epoch, self.path = epoch, path


class Checkpoint:
    """Where ``fit`` writes its checkpoint, and what else identifies the run.

    Args:
        path: the ``.safetensors`` file, rewritten (atomically) at the end of every epoch.
        config: JSON-able values of your own that a resumed run must share (the data set's name, the command's
            options, ...): part of the fingerprint, and named in the error when they differ.

    After ``fit``, ``epoch`` is the last epoch written (1-based; None before the first).
    """

    def __init__(self, path, config=None):
        self.path = os.fspath(path)
        self.config = _json(config, "Checkpoint config")
        self.epoch = None

    def __repr__(self):
        return f"Checkpoint({self.path!r})"

    # ------------------------------------------------------------------ writing
    def write(self, run, epoch, epochs, stopped=False):
        """Save ``run`` (a ``_Run``) after ``epoch`` of ``epochs`` epochs; ``stopped``: the run ended early."""
        from ..io import save
        meta = {"format": FORMAT, "version": VERSION, "epoch": int(epoch), "epochs": int(epochs),
                "stopped": bool(stopped), "fingerprint": run.fingerprint(self.config)}
        state = run.capture()
        state["meta"] = meta
        meta["checksum"] = _checksum(state)   # of everything else: a flipped bit anywhere is found on reading
        with _sigint_held():   # Ctrl-C now would only lose the new file: finish it first
            save(state, self.path, metadata=meta)
            self.epoch = int(epoch)


def read_checkpoint(path):
    """The checkpoint in ``path`` as saved: ``{"meta": {"epoch": ..., "fingerprint": ...}, "model": {...},
    "optimizer": {...}, ...}``; CheckpointError if it is not one (FileNotFoundError if it does not exist)."""
    from ..io import load_state_dict
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such checkpoint")
    try:
        state = load_state_dict(path)
    except (ValueError, TypeError, KeyError, RecursionError) as e:
        msg = str(e)
        raise CheckpointError(msg if path in msg else f"{path}: {msg}") from None
    meta = state.get("meta") if isinstance(state, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a thetas training checkpoint (a model saved with th.save? "
                              "checkpoints are written by fit(checkpoint=...) or thetas train --checkpoint)")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {meta.get('version')!r}; this thetas reads "
                              f"version {VERSION}")
    for key, kind in (("epoch", int), ("epochs", int), ("stopped", bool), ("fingerprint", dict)):
        if not isinstance(meta.get(key), kind) or kind is int and isinstance(meta[key], bool):
            raise CheckpointError(f"{path}: corrupt checkpoint: meta field {key!r} is {meta.get(key)!r}")
    if meta.pop("checksum", None) != _checksum(state):
        raise CheckpointError(f"{path}: corrupt checkpoint: its contents do not match the checksum written with them")
    for key, kind in (("model", dict), ("optimizer", dict), ("generators", list), ("callbacks", dict)):
        if not isinstance(state.get(key), kind):
            raise CheckpointError(f"{path}: corrupt checkpoint: {key!r} is missing or not a {kind.__name__}")
    return state


def check_resume(path, model, optimizer, train_loader, scheduler=None, config=None):
    """Would ``fit(model, ..., optimizer, train_loader, scheduler=scheduler, checkpoint=Checkpoint(path, config),
    resume=path)`` accept the checkpoint ``path``? Reads and checks it without changing anything (a command checks
    before it starts, so that its error is its first line): CheckpointError naming what differs, or
    FileNotFoundError. Returns the checkpoint's ``meta`` (``epoch``, ``epochs``, ...). ``fit`` checks again, and
    also the callbacks."""
    state = read_checkpoint(path)
    _Run(model, optimizer, scheduler, train_loader, None).check(state, os.fspath(path), _json(config, "config"))
    return state["meta"]


# ---------------------------------------------------------------------------------------------------- the run
class _Run:
    """What a checkpoint saves and restores of one ``fit`` run (``callbacks`` None: not checked)."""

    def __init__(self, model, optimizer, scheduler, loader, callbacks):
        self.model, self.optimizer, self.scheduler, self.loader = model, optimizer, scheduler, loader
        self.callbacks = None if callbacks is None else {}
        counts = {}
        for cb in callbacks or ():
            if callable(getattr(cb, "state_dict", None)) and callable(getattr(cb, "load_state_dict", None)):
                name = type(cb).__name__
                counts[name] = counts.get(name, 0) + 1
                self.callbacks[name if counts[name] == 1 else f"{name}#{counts[name]}"] = cb
        self._fingerprint = None

    def generators(self):
        """Every distinct np.random.Generator the model's modules hold (Dropout's, an LSTM's), in module order."""
        seen, out = set(), []
        for module in self.model.modules():
            for value in vars(module).values():
                if isinstance(value, np.random.Generator) and id(value) not in seen:
                    seen.add(id(value))
                    out.append(value)
        return out

    def fingerprint(self, config):
        """JSON that two runs share if and only if one may resume the other (computed once per run)."""
        if self._fingerprint is None:
            sched = self.scheduler
            self._fingerprint = _json({
                "model": self.model.config(),
                "parameters": {name: [list(a.shape), str(a.dtype)] for name, a in self.model.state_dict().items()},
                "optimizer": {"class": type(self.optimizer).__name__,
                              "defaults": getattr(self.optimizer, "defaults", None),
                              "groups": [len(g["params"]) for g in getattr(self.optimizer, "param_groups", [])]},
                "scheduler": None if sched is None else {"class": type(sched).__name__, **{
                    k: v for k, v in sched.state_dict().items() if k not in ("last_epoch", "_last_lr", "_schedulers")}},
                "data": _data_fingerprint(self.loader),
            }, "the run's fingerprint")
        out = dict(self._fingerprint)
        out["config"] = config
        return out

    def capture(self):
        from ..tensor import default_generator
        loader_state = self.loader.state_dict() if _has_state(self.loader) else None
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "loader": loader_state,
            "generators": [g.bit_generator.state for g in self.generators()],
            "default_generator": default_generator().bit_generator.state,
            "callbacks": {name: cb.state_dict() for name, cb in self.callbacks.items()},
        }

    # ------------------------------------------------------------------ resuming
    def check(self, state, path, config):
        """Refuse a checkpoint of another run before anything changes (CheckpointError naming what differs)."""
        saved, now = state["meta"]["fingerprint"], self.fingerprint(config)
        for key, what in (("config", "run configuration"), ("data", "training data"), ("model", "model"),
                          ("parameters", "model's parameters"), ("optimizer", "optimizer"),
                          ("scheduler", "learning-rate schedule")):
            if saved.get(key) != now.get(key):
                raise CheckpointError(f"{path}: this checkpoint is of another run: its {what} differs "
                                      f"({_difference(saved.get(key), now.get(key))})")
        gens = self.generators()
        if len(state["generators"]) != len(gens):
            raise CheckpointError(f"{path}: the checkpoint holds {len(state['generators'])} module random "
                                  f"generators, the model has {len(gens)}")
        if self.callbacks is not None and sorted(state["callbacks"]) != sorted(self.callbacks):
            raise CheckpointError(f"{path}: the checkpoint has the state of the callbacks {sorted(state['callbacks'])}"
                                  f", this run has {sorted(self.callbacks)}: pass the same callbacks to resume")
        if (state.get("loader") is None) != (not _has_state(self.loader)):
            raise CheckpointError(f"{path}: the train loader's random state is "
                                  f"{'missing from the checkpoint' if state.get('loader') is None else 'saved'}, "
                                  f"but this run's loader {'has' if _has_state(self.loader) else 'has no'} "
                                  "state_dict()")
        if (state.get("scheduler") is None) != (self.scheduler is None):
            raise CheckpointError(f"{path}: the checkpoint was written "
                                  f"{'without' if state.get('scheduler') is None else 'with'} a learning-rate "
                                  "schedule, this run has " + ("none" if self.scheduler is None else "one"))

    def restore(self, state, path):
        """Put the saved run back: weights, optimizer, schedule, every generator. Anything refused (a shape, a
        key) is a CheckpointError, and the model, optimizer and schedule are then as they were."""
        from ..tensor import default_generator
        before = (self.model.state_dict(), self.optimizer.state_dict(),
                  None if self.scheduler is None else self.scheduler.state_dict())
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(state["scheduler"])
            for g, st in zip(self.generators(), state["generators"]):
                _set_generator(g, st)
            _set_generator(default_generator(), state.get("default_generator"))
            if state.get("loader") is not None:
                self.loader.load_state_dict(state["loader"])
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
            self.model.load_state_dict(before[0])
            self.optimizer.load_state_dict(before[1])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(before[2])
            raise CheckpointError(f"{path}: cannot resume from this checkpoint: {e}") from None

    def restore_callbacks(self, state, path):
        """After the callbacks' on_train_begin (which resets them): their saved state."""
        try:
            for name, cb in self.callbacks.items():
                cb.load_state_dict(state["callbacks"][name])
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise CheckpointError(f"{path}: cannot restore the callbacks' state: {e}") from None


def _has_state(obj):
    return callable(getattr(obj, "state_dict", None)) and callable(getattr(obj, "load_state_dict", None))


def _set_generator(gen, state):
    if not isinstance(state, dict) or state.get("bit_generator") != type(gen.bit_generator).__name__:
        raise ValueError(f"a generator state of {type(gen.bit_generator).__name__} was expected, got "
                         f"{str(state)[:80]}")
    gen.bit_generator.state = state


def _data_fingerprint(loader):
    """The train loader's type, length, its own ``fingerprint()`` if it has one, and for a loader over arrays
    (``loader.dataset.X`` / ``.y``) their shapes and a digest of their bytes."""
    out = {"loader": type(loader).__name__}
    try:
        out["batches"] = len(loader)
    except TypeError:
        pass
    for key in ("batch_size", "shuffle", "drop_last"):
        if hasattr(loader, key):
            out[key] = getattr(loader, key)
    own = getattr(loader, "fingerprint", None)
    if callable(own):
        out["fingerprint"] = own()
    dataset = getattr(loader, "dataset", None)
    for key in ("X", "y"):
        arr = getattr(dataset, key, None)
        if isinstance(arr, np.ndarray):
            out[key] = digest(arr)
    return out


def digest(arr):
    """``[shape, dtype, sha256]`` of an array (of 4,096 rows spread over it when it is larger than 16 MiB): what a
    loader's ``fingerprint()`` can return for the arrays it batches."""
    arr = np.asarray(arr)
    part = arr
    if arr.nbytes > _DIGEST_BYTES and arr.ndim and len(arr) > 4096:
        part = arr[np.linspace(0, len(arr) - 1, 4096).astype(np.intp)]
    h = hashlib.sha256(repr(part.tolist()).encode() if part.dtype.hasobject else _bytes(part))
    return [list(arr.shape), str(arr.dtype), h.hexdigest()]


def _bytes(a):
    """An array's bytes, without a copy when it is contiguous."""
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _checksum(state):
    """sha256 of a nested state: every array's dtype, shape and bytes, every other value as JSON, in key order."""
    h = hashlib.sha256()

    def walk(v):
        if isinstance(v, np.ndarray):
            h.update(f"<{v.dtype.newbyteorder('=').str}{v.shape}>".encode())
            h.update(_bytes(v))
        elif isinstance(v, dict):
            h.update(b"{")
            for k in sorted(v):
                h.update(json.dumps(k).encode())
                walk(v[k])
            h.update(b"}")
        elif isinstance(v, (list, tuple)):
            h.update(b"[")
            for x in v:
                walk(x)
            h.update(b"]")
        else:
            h.update(json.dumps(v.item() if isinstance(v, np.generic) else v).encode())
    walk(state)
    return h.hexdigest()


def _json(value, where):
    """``value`` as it reads back from JSON (tuples become lists, NumPy scalars numbers); TypeError otherwise."""
    def plain(v):
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, np.ndarray):
            return v.tolist()
        raise TypeError(f"{where} holds a {type(v).__name__}, which has no JSON form")
    return json.loads(json.dumps(value, default=plain))


def _difference(saved, now, path=""):
    """Where two JSON values first differ, for the error message: 'kwargs.sizes: [64, 32, 10] saved, [64, 16, 10]
    now'."""
    if isinstance(saved, dict) and isinstance(now, dict):
        for key in list(saved) + [k for k in now if k not in saved]:
            if saved.get(key) != now.get(key):
                return _difference(saved.get(key), now.get(key), f"{path}.{key}" if path else str(key))
    if isinstance(saved, list) and isinstance(now, list) and len(saved) == len(now):
        for i, (a, b) in enumerate(zip(saved, now)):
            if a != b:
                return _difference(a, b, f"{path}[{i}]")

    def short(v):
        text = json.dumps(v)
        return text if len(text) <= 60 else text[:57] + "..."
    return f"{path + ': ' if path else ''}{short(saved)} saved, {short(now)} now"


@contextlib.contextmanager
def _sigint_held():
    """Hold back Ctrl-C (SIGINT) for the block and raise it after: a checkpoint is written whole or not at all,
    and the run stops at the epoch the file holds. (Only the main thread receives signals; elsewhere a no-op.)"""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt
