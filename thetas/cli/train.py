"""``thetas train``: train a network on a data set and report test metrics.

    thetas train digits                      # an MLP on scikit-learn's embedded 8×8 digits
    thetas train xor --model logistic        # one neuron cannot do xor ...
    thetas train xor --hidden 8              # ... one hidden layer can
    thetas train data.csv --target label     # your own data
    thetas train mnist --model lenet --save lenet.safetensors --plot plots/
    thetas train mnist --model autoencoder --save ae.safetensors   # no labels; then: thetas inside ae.safetensors
"""
import os
import time

import numpy as np

from .common import (FAILED, INTERRUPTED, OK, CLIError, add_checkpoint, add_json, add_quiet, add_threads,
                     check_writable, checkpoint_paths, layer_widths, load_task, log, nonnegative_float, nonnegative_int,
                     objective, peak_memory_mb, positive_float, positive_int, probability, pyplot,
                     reconstruction_metrics, report, resumable, set_threads, task_metrics, widths)

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
    # learning without labels: a k-sparse denoising autoencoder (3 of 400 units per image, 80 % of the pixels
    # dropped in training); Le et al.'s read-out of its single units: thetas inside MODEL
    "mnist:autoencoder": dict(hidden="400", optimizer="adam", lr=1e-3, epochs=10, batch_size=128),
    "fashion-mnist:autoencoder": dict(hidden="400", optimizer="adam", lr=1e-3, epochs=10, batch_size=128),
    "digits:autoencoder": dict(hidden="100", optimizer="adam", lr=1e-3, epochs=100, batch_size=32),
}
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")


def add_parser(subparsers):
    from ..data import DATASETS
    from ..models import ARCHITECTURES
    from ..objective import LOSSES
    t = subparsers.add_parser("train", help="train a network on a data set and report test metrics",
                              description=f"DATASET: one of {', '.join(DATASETS)}, or a CSV file (with --target).")
    t.add_argument("dataset", metavar="DATASET", help="a data set name (above) or a CSV file")
    t.add_argument("--target", help="the label column of a CSV file")
    t.add_argument("--model", choices=ARCHITECTURES, default="mlp",
                   help="mlp (dense layers), logistic (one neuron per class), lenet (a conv net, for images) or "
                   "autoencoder (a sparse autoencoder of images, trained without their labels)")
    t.add_argument("--hidden", type=layer_widths,
                   help="hidden layer widths, e.g. 32,32 (mlp; lenet: its dense layers); '' for none")
    t.add_argument("--channels", type=layer_widths, default="6,16",
                   help="lenet: output channels of its two conv layers (default 6,16)")
    t.add_argument("--active", type=positive_int,
                   help="autoencoder: code units kept per image, the k of a k-sparse code (default 3)")
    t.add_argument("--noise", type=probability,
                   help="autoencoder: the share of pixels dropped from each training image (default 0.8)")
    t.add_argument("--activation", choices=ACTIVATIONS,
                   help="the activation after every hidden layer (default: the data set's)")
    t.add_argument("--dropout", type=probability, help="dropout probability after each hidden layer")
    t.add_argument("--loss", choices=LOSSES, help="default: cross_entropy for classes, mse for numbers")
    t.add_argument("--optimizer", choices=("sgd", "adam"), help="sgd (with --momentum) or adam (the default)")
    t.add_argument("--lr", type=positive_float, help="learning rate η (> 0)")
    t.add_argument("--momentum", type=probability, help="SGD's momentum, in [0, 1) (default 0.9)")
    t.add_argument("--weight-decay", type=nonnegative_float, default=0.0,
                   help="λ, an L2 penalty ½λ‖θ‖² on the loss")
    t.add_argument("--batch-size", type=positive_int, help="examples per gradient step; the training set's size "
                   "gives batch gradient descent (default: the data set's)")
    t.add_argument("--epochs", type=positive_int, help="passes over the training set (default: the data set's)")
    t.add_argument("--schedule", choices=("none", "cosine", "step"),
                   help="learning rate over the epochs: constant, cosine-annealed to 0, or halved every third")
    t.add_argument("--seed", type=nonnegative_int, default=0,
                   help="the data (generated sets, splits), the initial thetas, the batches' order and dropout")
    t.add_argument("--samples", type=positive_int, metavar="N", help="generated 2-D sets: N points; mnist, "
                   "fashion-mnist: the first N training images (a quick run)")
    t.add_argument("--save", metavar="PATH", help="write the trained model (.safetensors)")
    add_checkpoint(t)
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
    args.active = 3 if args.active is None else args.active
    args.noise = 0.8 if args.noise is None else args.noise


AUTOENCODER_ONLY = ("active", "noise")
NOT_FOR_AUTOENCODER = ("activation", "dropout", "loss", "target")   # its code units are ReLUs, its loss the −LL


def _check_model_options(args):
    """Options that the chosen model would silently ignore: a mistake to say, not to swallow."""
    def option(name):
        return "--" + name.replace("_", "-")
    if args.model == "autoencoder":
        given = [option(k) for k in NOT_FOR_AUTOENCODER if getattr(args, k) is not None]
        if given:
            raise CLIError(f"{given[0]} does not apply to --model autoencoder (its code units are ReLUs, its loss "
                           "the images' −LL, its noise --noise P)")
        if args.hidden is not None and not widths(args.hidden, "--hidden"):
            raise CLIError("--hidden '': an autoencoder needs its number of code units, e.g. --hidden 400")
    else:
        given = [option(k) for k in AUTOENCODER_ONLY if getattr(args, k) is not None]
        if given:
            raise CLIError(f"{given[0]} applies to --model autoencoder only")


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


SAMPLED = ("xor", "circles", "spiral", "moons", "gaussians", "mnist", "fashion-mnist")   # sets that --samples cuts


def _check(args):
    """The mistakes that need no data, found before anything loads or trains (argparse checked each number)."""
    if args.model == "lenet" and len(widths(args.channels, "--channels")) != 2:
        raise CLIError(f"--channels needs two numbers (the two conv layers), got {args.channels!r}")
    if args.samples is not None and str(args.dataset).lower() not in SAMPLED:
        raise CLIError(f"--samples applies to {', '.join(SAMPLED)}; {args.dataset} has a size of its own")
    if args.plot:
        pyplot()                                          # headless, or the CLIError that says to install it
        check_writable("--plot", args.plot, folder_ok=True)
    if args.save:
        check_writable("--save", args.save)


def step_work(model, batch_size):
    """Multiply-adds of one training step, roughly: forward and backward are 3 products per weight per example for
    a model of Linear layers; None (unknown: let the idle cores decide) for one with convolutions, whose work
    grows with the image size, not with the weights."""
    from ..nn.conv import Conv2d
    if any(isinstance(m, Conv2d) for m in model.modules()):
        return None
    return 3 * batch_size * model.num_parameters()


def run(args):
    from .. import data
    from .._runtime import auto_threads
    from ..io import save
    from ..models import build_model
    from ..train import Checkpoint, CheckpointError, check_resume, fit, predict

    given = dict(vars(args))  # the options as typed, for the resume hint after a Ctrl-C
    _check_model_options(args)
    apply_defaults(args)
    _check(args)
    set_threads(args)
    task = load_task(args.dataset, args.seed, args.target, args.samples)
    ae = args.model == "autoencoder"     # learns the images alone: no objective, the labels never read
    obj = None if ae else objective(task, args.loss, one_logit=args.model == "logistic")
    channels = widths(args.channels, "--channels") if args.model == "lenet" else (6, 16)
    try:
        model = build_model(task, obj, args.model, hidden=widths(args.hidden, "--hidden"), channels=channels,
                            activation=args.activation, dropout=args.dropout, seed=args.seed, active=args.active,
                            noise=args.noise)
    except ValueError as e:
        raise CLIError(f"--model {args.model}: {e}") from None
    if not args.threads:   # a small model's products are too short to share: one thread (see _runtime.SMALL_WORK)
        auto_threads(work=step_work(model, args.batch_size))
    optimizer = _optimizer(args, model)
    if ae:   # the image is its own target
        train_loader = data.DataLoader((task.train.X, task.train.X), batch_size=args.batch_size, shuffle=True,
                                       seed=args.seed)
        test_loader = data.DataLoader((task.test.X, task.test.X), batch_size=1024)
    else:
        train_loader = data.DataLoader(task.train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
        test_loader = data.DataLoader(task.test, batch_size=1024)
    whole = task.test is task.train        # four-pixels: its 8 images are the whole world, there is no test set
    fit_metrics = ("accuracy",) if not ae and obj.task == "classification" and not obj.binary_logit and \
        obj.loss == "cross_entropy" else ()
    path = checkpoint_paths(args)
    dataset = os.path.realpath(args.dataset) if os.path.isfile(args.dataset) else args.dataset  # one file, one name
    ckpt = Checkpoint(path, config={"dataset": dataset, "target": args.target, "samples": args.samples,
                                    "seed": args.seed}) if path else None
    scheduler = _schedule(args, optimizer)
    resumed_at = 0  # epochs done before this run (per second counts only this run's)
    if args.resume:
        try:
            resumed_at = check_resume(args.resume, model, optimizer, train_loader, scheduler, ckpt.config)["epoch"]
        except CheckpointError as e:
            raise CLIError(str(e)) from None
        if resumed_at >= args.epochs:
            log(f"thetas train: {args.resume} already holds {resumed_at} epochs (--epochs {args.epochs}): nothing "
                "more to train; the results are the checkpoint's")
    sizes = f"{len(task.train)} examples, no test set" if whole else f"{len(task.train)} train / {len(task.test)} test"
    log(f"thetas: {args.model} {model.num_parameters():,} parameters on {task.name} "
        f"({sizes}), loss {'−LL of the pixels (no labels)' if ae else obj.loss}, {args.optimizer} lr {args.lr}")
    t0 = time.perf_counter()
    loss = model.loss if ae else obj
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run: the NaN guard and stopped_reason say it
        history = resumable(lambda: fit(model, loss, optimizer, train_loader, val_loader=test_loader,
                                        epochs=args.epochs, metrics=fit_metrics, verbose=not args.quiet,
                                        scheduler=scheduler, checkpoint=ckpt, resume=args.resume),
                            "train", add_parser, given, path)
    if history is None:
        return INTERRUPTED
    seconds = time.perf_counter() - t0
    with np.errstate(over="ignore", invalid="ignore"):
        if ae:
            test_outputs = None
            train_m, test_m = (reconstruction_metrics(model, part.X) for part in (task.train, task.test))
        else:
            test_outputs = predict(model, task.test.X, batch_size=512)
            train_m, test_m = task_metrics(model, obj, task.train), task_metrics(model, obj, task.test, test_outputs)
    result = {"dataset": task.name, "model": args.model, "parameters": model.num_parameters()}
    result.update({f"train_{k}": round(v, 6) for k, v in train_m.items()})
    result.update({f"test_{k}": round(v, 6) for k, v in test_m.items()})
    if whole:
        result["test_is_train"] = True
        result["note"] = (f"{task.name}: its {len(task.train)} examples are the whole data set, so there is no test "
                          "set: the test_* metrics are measured on the training examples")
    result.update(epochs=len(history.epoch), seconds=round(seconds, 3),
                  samples_per_s=round(len(task.train) * max(len(history.epoch) - resumed_at, 0) /
                                      max(seconds, 1e-9), 1))
    result["peak_memory_mb"] = peak_memory_mb()
    reason = getattr(history, "stopped_reason", None)
    if reason:
        result["stopped_reason"] = reason
    learned = len(history.epoch) > 0       # the NaN guard can stop a diverging run inside its first epoch
    if not learned:
        log(f"thetas train: training stopped before its first epoch ended, nothing learned"
            f"{' and nothing saved' if args.save else ''}: {reason}")
    elif reason:
        log(f"thetas train: warning: {reason}")
    if args.save and learned:
        meta = {"dataset": os.path.abspath(args.dataset) if task.name.lower().endswith(".csv") else args.dataset,
                "seed": args.seed, "target": args.target, "loss": "nll" if ae else obj.loss,
                "binary_logit": False if ae else obj.binary_logit, "task": "autoencoder" if ae else task.task,
                "num_classes": task.num_classes, "classes": _jsonable(task.classes)}
        if "accuracy" in test_m:                          # what the lab's Digits page shows beside the model
            meta["test_accuracy"] = round(float(test_m["accuracy"]), 6)
        try:
            save(model, args.save, metadata=meta)
        except OSError as e:
            raise CLIError(f"cannot write {args.save}: {e.strerror or e}") from None
        result["saved"] = args.save
    if args.plot and learned:
        from ..viz import save_autoencoder_plots, save_training_plots
        result["plot"] = save_autoencoder_plots(args.plot, history, model, task) if ae else \
            save_training_plots(args.plot, history, model, task, obj, test_outputs)
    split = "train" if whole else "test"
    main = f"{split} −LL {test_m['loss']:.2f} nats per image (mse {test_m['mse']:.4f} per pixel); its units: " \
        f"thetas inside {args.save or 'MODEL'}" if ae else f"{split} accuracy {test_m['accuracy']:.4f}" \
        if "accuracy" in test_m else f"{split} rmse {test_m['rmse']:.4f}"
    if whole:
        main += f" (the {len(task.train)} {'images' if task.name == 'four-pixels' else 'examples'} are the whole " \
                "data set: no test set)"
    report(args, result, [main, f"{result['epochs']} epoch{'s' * (result['epochs'] != 1)}", f"{seconds:.1f} s"]
           + ([] if learned else ["stopped: nothing learned"]))
    return OK if learned else FAILED
