"""``thetas train``: train a network on a data set and report test metrics.

    thetas train digits                      # an MLP on scikit-learn's embedded 8×8 digits
    thetas train xor --model logistic        # one neuron cannot do xor ...
    thetas train xor --hidden 8              # ... one hidden layer can
    thetas train data.csv --target label     # your own data
    thetas train mnist --model lenet --save lenet.safetensors --plot plots/
"""
import os
import time

from .common import (CLIError, add_json, add_quiet, add_threads, load_task, log, objective, peak_memory_mb, pyplot,
                     report, set_threads, task_metrics, widths)

# Per-dataset defaults: a user runs ``thetas train NAME`` without tuning.
DEFAULTS = {
    "digits": dict(hidden="256", activation="relu", dropout=0.25, optimizer="adam", lr=3e-3, epochs=40,
                   batch_size=32),
    "digits-1v2": dict(hidden="16", activation="sigmoid", optimizer="adam", lr=1e-2, epochs=20, batch_size=32),
    "four-pixels": dict(hidden="4,4", activation="tanh", optimizer="adam", lr=3e-2, epochs=300, batch_size=8),
    "xor": dict(hidden="8", activation="tanh", optimizer="adam", lr=3e-2, epochs=100, batch_size=16),
    "circles": dict(hidden="8", activation="tanh", optimizer="adam", lr=3e-2, epochs=100, batch_size=16),
    "spiral": dict(hidden="32,32", activation="tanh", optimizer="adam", lr=1e-2, epochs=300, batch_size=32),
    "moons": dict(hidden="16", activation="tanh", optimizer="adam", lr=2e-2, epochs=100, batch_size=16),
    "gaussians": dict(hidden="8", activation="tanh", optimizer="adam", lr=2e-2, epochs=50, batch_size=16),
    "csv": dict(hidden="32", activation="relu", optimizer="adam", lr=3e-3, epochs=50, batch_size=32),
    # images (N, 1, 28, 28): "DATASET:MODEL" entries come first
    "mnist:lenet": dict(hidden="120,84", activation="relu", dropout=0.25, optimizer="adam", lr=2e-3, epochs=15,
                        batch_size=64, schedule="cosine"),
    "mnist": dict(hidden="256,256", activation="relu", dropout=0.2, optimizer="adam", lr=1e-3, epochs=20,
                  batch_size=128),
    "fashion-mnist:lenet": dict(hidden="120,84", activation="relu", dropout=0.25, optimizer="adam", lr=2e-3,
                                epochs=15, batch_size=64, schedule="cosine"),
    "fashion-mnist": dict(hidden="256,256", activation="relu", dropout=0.2, optimizer="adam", lr=1e-3, epochs=20,
                          batch_size=128),
    "digits:lenet": dict(hidden="120,84", activation="relu", optimizer="adam", lr=2e-3, epochs=30, batch_size=32),
}
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")


def add_parser(subparsers):
    from ..data import DATASETS
    from ..models import ARCHITECTURES
    from ..objective import LOSSES
    t = subparsers.add_parser("train", help="train a network on a data set and report test metrics",
                              description=f"DATASET: one of {', '.join(DATASETS)}, or a CSV file (with --target).")
    t.add_argument("dataset", metavar="DATASET")
    t.add_argument("--target", help="the label column of a CSV file")
    t.add_argument("--model", choices=ARCHITECTURES, default="mlp",
                   help="mlp (dense layers), logistic (one neuron per class) or lenet (a conv net, for images)")
    t.add_argument("--hidden", help="hidden layer widths, e.g. 32,32 (mlp; lenet: its dense layers); '' for none")
    t.add_argument("--channels", default="6,16", help="lenet: output channels of its two conv layers (default 6,16)")
    t.add_argument("--activation", choices=ACTIVATIONS)
    t.add_argument("--dropout", type=float, help="dropout probability after each hidden layer")
    t.add_argument("--loss", choices=LOSSES)
    t.add_argument("--optimizer", choices=("sgd", "adam"))
    t.add_argument("--lr", type=float)
    t.add_argument("--momentum", type=float)
    t.add_argument("--weight-decay", type=float, default=0.0)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--epochs", type=int)
    t.add_argument("--schedule", choices=("none", "cosine", "step"),
                   help="learning rate over the epochs: constant, cosine-annealed to 0, or halved every third")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--samples", type=int, metavar="N", help="generated 2-D sets: N points; mnist, fashion-mnist: "
                   "the first N training images (a quick run)")
    t.add_argument("--save", metavar="PATH", help="write the trained model (.safetensors)")
    t.add_argument("--checkpoint", metavar="PATH", help="write everything needed to resume (weights, optimizer, "
                   "schedule, random states) to PATH at the end of every epoch")
    t.add_argument("--resume", metavar="PATH", help="go on from the checkpoint PATH (written by --checkpoint with "
                   "the same data set and options) and keep checkpointing there")
    t.add_argument("--plot", metavar="PATH", help="a PNG of the learning curves (and the decision boundary of 2-D "
                   "data); for images, or a PATH without .png, a folder of PNGs: curves, confusion matrix, "
                   "misclassified test images, conv filters and feature maps")
    add_threads(t)
    add_quiet(t)
    add_json(t)
    t.set_defaults(func=run)
    return t


def apply_defaults(args):
    """Fill every option the user left out from ``DEFAULTS`` (by data set, or data set and model)."""
    key = "csv" if str(args.dataset).endswith(".csv") else str(args.dataset).lower()
    defaults = DEFAULTS.get(f"{key}:{args.model}") or DEFAULTS.get(key, DEFAULTS["csv"])
    for k, v in {"dropout": 0.0, "schedule": "none", **defaults}.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.momentum is None:
        args.momentum = 0.9 if args.optimizer == "sgd" else 0.0


def _optimizer(args, model):
    from .. import optim
    if args.optimizer == "sgd":
        return optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    return optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)


def _schedule(args, optimizer):
    """The learning rate over the epochs: constant, cosine-annealed to 0 by the last epoch, or halved every
    third of the run ('step')."""
    from .. import optim
    if args.schedule == "cosine":
        return optim.CosineAnnealingLR(optimizer, T_max=args.epochs)
    if args.schedule == "step":
        return optim.StepLR(optimizer, step_size=max(1, args.epochs // 3), gamma=0.5)
    return None


def _jsonable(x):
    return None if x is None else [v.item() if hasattr(v, "item") else v for v in x]


def run(args):
    from .. import data
    from ..io import save
    from ..models import build_model
    from ..train import Checkpoint, CheckpointError, TrainingInterrupted, check_resume, fit, predict

    given = dict(vars(args))  # the options as typed, for the resume hint after a Ctrl-C
    apply_defaults(args)
    set_threads(args)
    task = load_task(args.dataset, args.seed, args.target, args.samples)
    obj = objective(task, args.loss, one_logit=args.model == "logistic")
    channels = widths(args.channels, "--channels") if args.model == "lenet" else (6, 16)
    if len(channels) != 2:
        raise CLIError(f"--channels needs two numbers (the two conv layers), got {args.channels!r}")
    try:
        model = build_model(task, obj, args.model, hidden=widths(args.hidden, "--hidden"), channels=channels,
                            activation=args.activation, dropout=args.dropout, seed=args.seed)
    except ValueError as e:
        raise CLIError(f"--model {args.model}: {e}") from None
    optimizer = _optimizer(args, model)
    train_loader = data.DataLoader(task.train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    test_loader = data.DataLoader(task.test, batch_size=1024)
    fit_metrics = ("accuracy",) if obj.task == "classification" and not obj.binary_logit and \
        obj.loss == "cross_entropy" else ()
    path = args.checkpoint or args.resume
    if args.resume and not os.path.isfile(args.resume):
        raise CLIError(f"--resume {args.resume}: no such checkpoint")
    if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise CLIError(f"--checkpoint {path}: the folder {os.path.dirname(os.path.abspath(path))} does not exist")
    ckpt = Checkpoint(path, config={"dataset": args.dataset, "target": args.target, "samples": args.samples,
                                    "seed": args.seed}) if path else None
    scheduler = _schedule(args, optimizer)
    resumed_at = 0  # epochs done before this run (per second counts only this run's)
    if args.resume:
        try:
            resumed_at = check_resume(args.resume, model, optimizer, train_loader, scheduler, ckpt.config)["epoch"]
        except CheckpointError as e:
            raise CLIError(str(e)) from None
    log(f"thetas: {args.model} {model.num_parameters():,} parameters on {task.name} "
        f"({len(task.train)} train / {len(task.test)} test), loss {obj.loss}, {args.optimizer} lr {args.lr}")
    t0 = time.perf_counter()
    try:
        history = fit(model, obj, optimizer, train_loader, val_loader=test_loader, epochs=args.epochs,
                      metrics=fit_metrics, verbose=not args.quiet, scheduler=scheduler,
                      checkpoint=ckpt, resume=args.resume)
    except CheckpointError as e:
        raise CLIError(str(e)) from None
    except OSError as e:  # the checkpoint could not be written (disk full, permissions)
        raise CLIError(f"--checkpoint {path}: {e}") from None
    except TrainingInterrupted as e:
        log(f"interrupted after epoch {e.epoch}; resume with: {_resume_command(given, e.path)}")
        return 130
    seconds = time.perf_counter() - t0
    test_outputs = predict(model, task.test.X, batch_size=512)
    train_m, test_m = task_metrics(model, obj, task.train), task_metrics(model, obj, task.test, test_outputs)
    result = {"dataset": task.name, "model": args.model, "parameters": model.num_parameters()}
    result.update({f"train_{k}": round(v, 6) for k, v in train_m.items()})
    result.update({f"test_{k}": round(v, 6) for k, v in test_m.items()})
    result.update(epochs=len(history.epoch), seconds=round(seconds, 3),
                  samples_per_s=round(len(task.train) * max(len(history.epoch) - resumed_at, 0) /
                                      max(seconds, 1e-9), 1))
    result["peak_memory_mb"] = peak_memory_mb()
    if getattr(history, "stopped_reason", None):
        result["stopped_reason"] = history.stopped_reason
    if args.save:
        meta = {"dataset": args.dataset, "seed": args.seed, "target": args.target, "loss": obj.loss,
                "binary_logit": obj.binary_logit,
                "task": task.task, "num_classes": task.num_classes, "classes": _jsonable(task.classes)}
        save(model, args.save, metadata=meta)
        result["saved"] = args.save
    if args.plot:
        from ..viz import save_training_plots
        pyplot()                                          # headless, or the CLIError that says to install it
        result["plot"] = save_training_plots(args.plot, history, model, task, obj, test_outputs)
    report(args, result, [f"test accuracy {test_m['accuracy']:.4f}" if "accuracy" in test_m else
                          f"test rmse {test_m['rmse']:.4f}", f"{result['epochs']} epochs", f"{seconds:.1f} s"])
    return 0


def _resume_command(given, path):
    """The command that goes on from the checkpoint ``path``: the options as the user typed them (those that differ
    from their defaults), with ``--resume PATH`` in place of ``--checkpoint``."""
    import argparse
    import shlex
    defaults = vars(add_parser(argparse.ArgumentParser().add_subparsers()).parse_args([str(given["dataset"])]))
    words = ["thetas", "train", str(given["dataset"])]
    for key, value in given.items():
        if key in ("command", "func", "dataset", "checkpoint", "resume") or value == defaults.get(key):
            continue
        flag = "--" + key.replace("_", "-")
        words += [flag] if value is True else [flag, str(value)]
    return shlex.join(words + ["--resume", str(path)])
