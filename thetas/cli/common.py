"""What every ``thetas`` command shares: a user mistake (``CLIError``), messages on stderr, the ``--json`` report,
the peak memory, ``--threads``, headless matplotlib, and the named data sets of ``train``, ``evaluate`` and
``gradcheck``.

The contract of a command: progress and messages go to stderr; with ``--json`` the last line of stdout is one
JSON object of its final metrics; a user mistake is one line on stderr and exit status 2.
"""
import json
import sys


class CLIError(Exception):
    """A user mistake: printed as one line, exit status 2."""


def log(*args):
    """A message for the user, on stderr (stdout stays clean for ``--json``)."""
    print(*args, file=sys.stderr, flush=True)


def report(args, result, summary):
    """The command's last stdout line: ``result`` as one JSON object with ``--json``, else the ``summary`` parts."""
    if args.json:
        print(json.dumps(result))
    else:
        print("thetas: " + ", ".join(summary))


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
    """'32,32' -> [32, 32] ('' or None -> []): the layer widths of ``flag``."""
    try:
        return [int(h) for h in str(text).split(",") if h.strip()] if text else []
    except ValueError:
        raise CLIError(f"{flag} needs comma-separated whole numbers such as 32,32, got {text!r}") from None


# ------------------------------------------------------------------------- the named data sets (train, evaluate)
def load_task(name, seed, target=None, n_samples=None):
    """``th.data.load``, its errors (unknown name, bad CSV, missing file or package) as CLIErrors."""
    from .. import data
    try:
        return data.load(name, seed=seed, target=target, n_samples=n_samples)
    except (ValueError, FileNotFoundError, ImportError) as e:
        raise CLIError(str(e)) from None


def load_model(path):
    """``(model, user metadata)`` of a saved model; a missing, unreadable or malformed file is a CLIError."""
    from ..io import load, load_metadata
    try:
        return load(path), load_metadata(path).get("user") or {}
    except (ValueError, FileNotFoundError, OSError) as e:
        raise CLIError(str(e)) from None


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
