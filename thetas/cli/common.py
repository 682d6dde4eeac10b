"""What every ``thetas`` command shares: a user mistake (``CLIError``), the option checks (``positive_int``, ...),
messages on stderr, the ``--json`` report, the peak memory, ``--threads``, headless matplotlib, the named data
sets of ``train``, ``evaluate`` and ``gradcheck``, and saved models (``load_model``, ``check_fits``).

The contract of a command: progress and messages go to stderr; with ``--json`` the last line of stdout is one
strict JSON object of its final metrics (NaN and ±Inf become null); a user mistake is one line on stderr and exit
status 2, before any training starts.
"""
import argparse
import json
import math
import os
import sys

# exit statuses of every command
OK, FAILED, MISTAKE, INTERRUPTED = 0, 1, 2, 130   # FAILED: it ran, the result is a failure (see thetas.cli)


class CLIError(Exception):
    """A user mistake: printed as one line, exit status 2."""


class UsageError(CLIError):
    """A mistake argparse found (an unknown option, a value its ``type=`` check refused): the whole line, with the
    command's name, is the message."""


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (``thetas train: error: argument --lr: must be > 0, got -1``) raised as
    a ``UsageError`` for ``thetas.cli.main`` to print, instead of a usage block and ``sys.exit(2)``.
    ``add_subparsers`` makes every sub-command's parser one too."""

    def error(self, message):
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def log(*args):
    """A message for the user, on stderr (stdout stays clean for ``--json``)."""
    print(*args, file=sys.stderr, flush=True)


def finite_or_none(value):
    """``value`` with every float that is NaN or ±Inf replaced by None, in nested dicts, lists and tuples (NumPy
    scalars too): strict JSON has no NaN or Infinity."""
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:      # a NumPy scalar
        return finite_or_none(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def report(args, result, summary):
    """The command's last stdout line: ``result`` as one strict JSON object with ``--json`` (NaN and ±Inf as null),
    else the ``summary`` parts."""
    if args.json:
        print(json.dumps(finite_or_none(result), allow_nan=False))
    else:
        print("thetas: " + ", ".join(summary))


# -------------------------------------------------------------------------- option checks (argparse ``type=``)
# Each reads one option's text and returns its value, or raises ArgumentTypeError; argparse then names the option:
# "thetas train: error: argument --lr: must be > 0, got -1".
def _number(text, kind):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"needs {'a whole number' if kind is int else 'a number'}, "
                                         f"got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def checked(kind, ok, rule):
    """An argparse ``type=`` function: the text read as ``kind`` (int or a finite float), which must satisfy ``ok``
    (else the error says it must be ``rule``)."""
    def check(text):
        value = _number(text, kind)
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value
    check.__name__ = rule
    return check


positive_int = checked(int, lambda v: v >= 1, "a whole number >= 1")
nonnegative_int = checked(int, lambda v: v >= 0, "a whole number >= 0")
positive_float = checked(float, lambda v: v > 0, "> 0")
nonnegative_float = checked(float, lambda v: v >= 0, ">= 0")
probability = checked(float, lambda v: 0 <= v < 1, "in [0, 1)")          # dropout: p = 1 would drop everything
fraction = checked(float, lambda v: 0 <= v <= 1, "in [0, 1]")
port = checked(int, lambda v: 1 <= v <= 65535, "a port between 1 and 65535")


def layer_widths(text):
    """'32,32' -> [32, 32]; '' -> [] (no hidden layer); every width a whole number >= 1."""
    out = []
    parts = str(text).split(",")
    if parts and not parts[-1].strip():
        parts.pop()                                     # '32,' is 32 (a trailing comma, as in a list)
    if parts == [""] or not parts:
        return out
    for part in parts:
        if not part.strip():                            # '8,,8': a width left out, not two layers
            raise argparse.ArgumentTypeError(f"a width is missing in {text!r}: give comma-separated whole "
                                             "numbers such as 32,32")
        try:
            width = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"needs comma-separated whole numbers such as 32,32, got "
                                             f"{text!r}") from None
        if width < 1:
            raise argparse.ArgumentTypeError(f"every width must be >= 1, got {text!r}")
        out.append(width)
    return out


def peak_memory_mb():
    """The process's peak resident memory so far, in MiB (None where the platform does not say)."""
    try:
        import resource
    except ImportError:
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # KiB on Linux, bytes on macOS
    return round(rss / (1 << 20 if sys.platform == "darwin" else 1 << 10), 1)


def set_threads(args):
    """``--threads N``: N BLAS threads for this process. Absent (or 0): ``thetas._runtime.auto_threads`` picks
    them from the cores that are idle now, unless an ``OPENBLAS_NUM_THREADS``-style variable already says."""
    from .._runtime import auto_threads, set_num_threads
    n = getattr(args, "threads", None)
    if n is not None and n < 0:
        raise CLIError(f"--threads must be 0 (automatic) or a positive number of threads, got {n}")
    if n:
        set_num_threads(n)
    else:
        auto_threads()


def pyplot():
    """matplotlib's pyplot on the Agg backend (PNG files, no window: a command may run where there is no screen).
    Without matplotlib: a CLIError that says how to install it."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CLIError('--plot needs matplotlib: pip install "thetas[plot]"') from None
    return plt


def add_json(parser):
    parser.add_argument("--json", action="store_true", help="print the final metrics as one JSON line")


def add_quiet(parser):
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_threads(parser):
    parser.add_argument("--threads", type=int, metavar="N", help="BLAS threads (default: as many as there are idle "
                        "cores; 1 where other processes keep the cores busy, since spinning BLAS threads slow down "
                        "badly when they must share a core)")


def widths(text, flag):
    """'32,32' -> [32, 32] ('' or None -> []; a list stays as it is): the layer widths of ``flag``."""
    if text is None or isinstance(text, (list, tuple)):
        return list(text or [])
    try:
        return layer_widths(text)
    except argparse.ArgumentTypeError as e:
        raise CLIError(f"{flag} {e}") from None


# ------------------------------------------------------------------------- the named data sets (train, evaluate)
def load_task(name, seed, target=None, n_samples=None):
    """``th.data.load``, its errors (unknown name, bad CSV, missing file or package) as CLIErrors."""
    from .. import data
    try:
        task = data.load(name, seed=seed, target=target, n_samples=n_samples)
    except (ValueError, FileNotFoundError, ImportError) as e:
        raise CLIError(str(e)) from None
    for part in ("train", "test"):
        if len(getattr(task, part)) == 0:
            rows = len(task.train) + (0 if task.test is task.train else len(task.test))
            raise CLIError(f"{name}: {rows} example(s) leave no {part} set; a train/test split needs a few more rows")
    return task


def check_safetensors(path):
    """A CLIError unless ``path`` is a file that starts as a safetensors file does (an 8-byte header length, then
    '{'): a missing file, a folder or a CSV given as a model gets a plain answer before anything reads it."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CLIError(f"no such file: {path}")
    if os.path.isdir(path):
        raise CLIError(f"{path} is a folder, not a model file (.safetensors)")
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError as e:
        raise CLIError(f"cannot read {path}: {e.strerror or e}") from None
    if len(head) < 9 or head[8:9] != b"{":
        raise CLIError(f"{path} is not a safetensors file (a model saved by thetas train --save PATH)")


def _named(path, e):
    """The message of a loading error, naming the file once."""
    msg = (e.strerror or str(e)) if isinstance(e, OSError) else str(e) or type(e).__name__
    return msg if os.fspath(path) in msg else f"{os.fspath(path)}: {msg}"


def load_model(path):
    """``(model, user metadata)`` of a saved model; a missing, unreadable or malformed file, or one that holds
    weights but no model, is a CLIError naming the file."""
    from ..io import load, load_metadata
    from ..nn.module import Module
    check_safetensors(path)
    try:
        model, meta = load(path), load_metadata(path)
    except (ValueError, OSError, KeyError, TypeError, AttributeError, RecursionError, MemoryError) as e:
        raise CLIError(_named(path, e)) from None
    if not isinstance(model, Module):
        raise CLIError(f"{path} holds weights but no model (no config): save it with th.save(model, path) or "
                       "thetas train --save")
    user = meta.get("user") if isinstance(meta, dict) else None
    return model, user if isinstance(user, dict) else {}


def describe_input(model):
    """What ``model`` takes, from its first layer that says: 'images of 1×28×28', '64 features', ..."""
    from ..models.lenet import LeNet
    from ..nn.conv import Conv2d
    from ..nn.linear import Linear
    from ..nn.preprocessing import Standardize
    for m in model.modules():
        if isinstance(m, LeNet):
            return f"images of {m.in_channels}×{m.image_size}×{m.image_size}"
        if isinstance(m, Standardize):
            return f"{m.mean.data.size} features"
        if isinstance(m, Linear):
            return f"{m.in_features} features"
        if isinstance(m, Conv2d):
            return f"images of {m.in_channels} channel(s)"
    return "inputs of another shape"


def check_fits(model, X, path, data, outputs=None):
    """One example of ``X`` through ``model`` before the real work: a model made for other data (another input
    size, another number of ``outputs``) is a CLIError that names both, not a shape error from inside a layer."""
    from ..train import predict
    try:
        out = predict(model, X[:1])
    except (ValueError, TypeError, IndexError):
        has = f"{X.shape[1]} features" if X.ndim == 2 else "images of " + "×".join(map(str, X.shape[1:]))
        raise CLIError(f"{path} does not fit {data}: the model takes {describe_input(model)}, {data} has "
                       f"{has}") from None
    if outputs is not None and out.shape[-1] != outputs:
        raise CLIError(f"{path} does not fit {data}: the model has {out.shape[-1]} outputs, {data} needs {outputs}")


def data_path(recorded, model_path):
    """The CSV a model was trained on, as its metadata records it: an absolute path (thetas train stores one) or,
    from older files, a path relative to where training ran: tried from here, then from the model's folder."""
    if os.path.isabs(recorded):
        return recorded if os.path.exists(recorded) else None
    for base in (os.getcwd(), os.path.dirname(os.path.abspath(model_path))):
        candidate = os.path.join(base, recorded)
        if os.path.exists(candidate):
            return candidate
    return None


def default_loss(task):
    return "cross_entropy" if task.task == "classification" else "mse"


def objective(task, loss, one_logit=False):
    """``th.Objective`` for a data set, an impossible combination (bce on a regression) as a CLIError."""
    from ..objective import Objective
    try:
        return Objective(task.task, task.num_classes, loss or default_loss(task), one_logit=one_logit)
    except ValueError as e:
        raise CLIError(str(e)) from None


def task_metrics(model, objective, dataset, outputs=None):
    """The report of ``model`` on ``dataset``: ``objective.metrics`` (loss, accuracy, ... or mae, rmse) of its
    outputs (computed in batches, or given)."""
    from ..autograd.grad_mode import no_grad
    from ..tensor import Tensor
    from ..train import predict
    if outputs is None:
        outputs = predict(model, dataset.X, batch_size=512)
    with no_grad():
        loss = objective(Tensor(outputs), dataset.y).item()
    return objective.metrics(outputs, dataset.y, loss)


def reconstruction_metrics(model, X, chunk=4096):
    """An autoencoder's report on images X: loss, the mean −LL of an image in nats (its training loss), and mse,
    the mean squared error of a rebuilt pixel; one forward pass per chunk of images gives both."""
    import numpy as np

    from ..models.autoencoder import bernoulli_log_likelihood
    from ..train import predict
    ll = se = 0.0
    for i in range(0, len(X), chunk):
        x = np.asarray(X[i:i + chunk])
        z = predict(model, x).astype(np.float64)
        ll += float(bernoulli_log_likelihood(x, z).sum())
        se += float(((1 / (1 + np.exp(-z)) - x.reshape(len(x), -1)) ** 2).sum())
    return {"loss": -ll / len(X), "mse": se / X.size}


def resume_command(command, add_parser, given, path):
    """The command line that goes on from the checkpoint ``path``: ``thetas COMMAND``, its positional arguments,
    and the options the user typed that differ from their defaults, with ``--resume PATH`` in place of
    ``--checkpoint`` (printed after a Ctrl-C)."""
    import argparse
    import shlex
    parser = add_parser(argparse.ArgumentParser(prog="thetas").add_subparsers())
    words, options = ["thetas", command], []
    for action in parser._actions:
        key = action.dest
        if key in ("help", "checkpoint", "resume") or key not in given:
            continue
        value = given[key]
        if isinstance(value, (list, tuple)):              # a parsed "32,32" (layer_widths) is typed back as such
            value = ",".join(map(str, value))
        if not action.option_strings:
            words.append(str(value))
        elif value is not None and value is not False and value != action.default:
            options += [action.option_strings[-1]] if value is True else [action.option_strings[-1], str(value)]
    return shlex.join(words + options + ["--resume", str(path)])


def resumable(train, command, add_parser, given, path):
    """``train()`` (a ``fit`` with ``checkpoint=``/``resume=``): what it returns, or None after a Ctrl-C, once the
    command that resumes has been said (``resume_command``); a refused or unwritable checkpoint is a CLIError."""
    from ..train import CheckpointError, TrainingInterrupted
    try:
        return train()
    except CheckpointError as e:
        raise CLIError(str(e)) from None
    except OSError as e:  # the checkpoint could not be written (disk full, permissions)
        raise CLIError(f"--checkpoint {path}: {e.strerror or e}") from None
    except TrainingInterrupted as e:
        log(f"interrupted after epoch {e.epoch}; resume with: {resume_command(command, add_parser, given, e.path)}")
        return None


def check_writable(option, path, folder_ok=False):
    """Before any work: ``path`` can be written as a file (``folder_ok``: or is a folder to write into): not a
    folder (unless ``folder_ok``), in a folder that exists and this user may write. A CLIError naming ``option``
    otherwise, so that no training is lost to a path that was wrong from the start."""
    path = os.fspath(path)
    if os.path.isdir(path):
        if folder_ok:
            if not os.access(path, os.W_OK | os.X_OK):
                raise CLIError(f"{option} {path}: cannot write into this folder (permission denied)")
            return
        raise CLIError(f"{option} {path}: is a folder; give a file name")
    if folder_ok and os.path.exists(path) and not path.lower().endswith(".png"):
        raise CLIError(f"{option} {path}: is a file; give a folder (or a .png file)")
    folder = os.path.dirname(os.path.abspath(path))
    if folder_ok and not path.lower().endswith(".png"):
        while not os.path.exists(folder) and os.path.dirname(folder) != folder:
            folder = os.path.dirname(folder)     # folders still to be made: the first that exists must be writable
    if not os.path.isdir(folder):
        raise CLIError(f"{option} {path}: no such folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK) or os.path.exists(path) and not os.access(path, os.W_OK):
        raise CLIError(f"{option} {path}: cannot write there (permission denied)")
    try:                     # the permission bits can say yes where writing fails (/proc, a read-only mount): try
        import tempfile
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise CLIError(f"{option} {path}: cannot write in {folder} ({e.strerror or e})") from None


def checkpoint_paths(args):
    """The checkpoint file of ``--checkpoint``/``--resume`` (None without either), checked before any work:
    ``--resume`` must be a readable file, and the file to write must be writable."""
    path = args.checkpoint or args.resume
    if args.resume:
        if os.path.isdir(args.resume):
            raise CLIError(f"--resume {args.resume}: is a folder, not a checkpoint")
        if not os.path.isfile(args.resume):
            raise CLIError(f"--resume {args.resume}: no such checkpoint")
        if not os.access(args.resume, os.R_OK):
            raise CLIError(f"--resume {args.resume}: cannot read it (permission denied)")
    if path:
        check_writable("--checkpoint" if args.checkpoint else "--resume", path)
    return path


def add_checkpoint(parser, what="thetas train"):
    parser.add_argument("--checkpoint", metavar="PATH", help="write everything needed to resume (weights, optimizer, "
                        "random state, history) to PATH at the end of every epoch, atomically")
    parser.add_argument("--resume", metavar="PATH", help=f"go on from the checkpoint PATH (written by --checkpoint "
                        f"with the same data and options of {what}) and keep checkpointing there")
