"""The ``thetas`` command line: train, evaluate and check networks without writing Python.

    thetas train digits                      # an MLP on scikit-learn's embedded 8×8 digits
    thetas train xor --model logistic        # one neuron cannot do xor ...
    thetas train xor --hidden 8              # ... one hidden layer can
    thetas train data.csv --target label     # your own data
    thetas train mnist --model lenet --save lenet.safetensors --plot plots/
    thetas predict lenet.safetensors my_digit.png
    thetas evaluate model.safetensors digits
    thetas inside lenet.safetensors --plot inside/  # what each class's unit has learned
    thetas gradcheck --hidden 16 --activation tanh
    thetas dkt --data synthetic-5 --concepts 5 --plot kt/   # Deep Knowledge Tracing: what does Riley know?
    thetas rl cartpole                       # deep Q-learning
    thetas lab                               # the browser lab

Every command takes ``--json``: the last line of stdout is then one strict JSON object of its final metrics (a
number that is NaN or infinite is null). Progress bars and messages go to stderr.

Exit status: 0 done; 1 the command ran but failed (gradcheck found wrong gradients; training stopped before its
first epoch ended, e.g. a diverging loss: nothing learned, nothing saved); 2 a user mistake, one line on stderr
naming the option or file (every option is checked before any training starts); 130 interrupted (Ctrl-C).

One module per command (``train.py``, ``evaluate.py``, ``predict.py``, ``inside.py``, ``gradcheck.py``, ``dkt.py``,
``rl.py``, ``lab.py``), each with ``add_parser(subparsers)`` and ``run(args)``; what they share is in ``common.py``.
Imports go one way: a command imports the library, and nothing in the library imports ``thetas.cli``.
"""
import sys

from . import dkt, evaluate, export, gradcheck, inside, lab, predict, rl, train
from .common import INTERRUPTED, MISTAKE, CLIError, Parser, UsageError, log

__all__ = ["main", "build_parser", "CLIError", "COMMANDS"]

COMMANDS = (train, evaluate, predict, inside, export, gradcheck, dkt, lab, rl)   # as ``thetas --help`` lists them


def build_parser():
    from .. import __version__
    p = Parser(prog="thetas", description="Deep learning you can read: train, evaluate and "
                                "check neural networks built on thetas' NumPy autograd.")
    p.add_argument("--version", action="version", version=f"thetas {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def main(argv=None):
    """Run ``thetas`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status (see above)."""
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
    except UsageError as e:             # argparse's own findings: one line, as every other mistake
        log(str(e))
        return MISTAKE
    if unknown:
        name = " ".join(["thetas", *(n for n in (getattr(args, "command", None), getattr(args, "rl_command", None))
                                     if n)])
        log(f"{name}: error: unrecognized arguments: {' '.join(unknown)} (see {name} --help)")
        return MISTAKE
    if not getattr(args, "func", None):
        parser.print_help()
        return MISTAKE
    try:
        return args.func(args)
    except CLIError as e:
        log(f"thetas {args.command}: error: {e}")
        return MISTAKE
    except PermissionError as e:        # a file or folder the user may not read or write: their setup, not a bug
        log(f"thetas {args.command}: error: cannot use {e.filename}: {e.strerror}")
        return MISTAKE
    except KeyboardInterrupt:
        log("interrupted")
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
