"""The ``thetas`` command line: train, evaluate and check networks without writing Python.

    thetas train digits                      # an MLP on scikit-learn's embedded 8×8 digits
    thetas train xor --model logistic        # one neuron cannot do xor ...
    thetas train xor --hidden 8              # ... one hidden layer can
    thetas train data.csv --target label     # your own data
    thetas train mnist --model lenet --save lenet.safetensors --plot plots/
    thetas predict lenet.safetensors my_digit.png
    thetas evaluate model.safetensors digits
    thetas gradcheck --hidden 16 --activation tanh
    thetas dkt --data synthetic-5 --concepts 5 --plot kt/   # Deep Knowledge Tracing: what does Riley know?
    thetas rl cartpole                       # deep Q-learning
    thetas lab                               # the browser lab

Every command takes ``--json``: the last line of stdout is then one JSON object of its final metrics.
Progress bars and messages go to stderr.

One module per command (``train.py``, ``evaluate.py``, ``predict.py``, ``gradcheck.py``, ``dkt.py``, ``rl.py``,
``lab.py``), each with ``add_parser(subparsers)`` and ``run(args)``; what they share is in ``common.py``. Imports go
one way: a command imports the library, and nothing in the library imports ``thetas.cli``.
"""
import argparse
import sys

from . import dkt, evaluate, gradcheck, lab, predict, rl, train
from .common import CLIError, log

__all__ = ["main", "build_parser", "CLIError", "COMMANDS"]

COMMANDS = (train, evaluate, predict, gradcheck, dkt, lab, rl)    # in the order ``thetas --help`` lists them


def build_parser():
    from .. import __version__
    p = argparse.ArgumentParser(prog="thetas", description="Deep learning you can read: train, evaluate and "
                                "check neural networks built on thetas' NumPy autograd.")
    p.add_argument("--version", action="version", version=f"thetas {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except CLIError as e:
        log(f"thetas {args.command}: error: {e}")
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
