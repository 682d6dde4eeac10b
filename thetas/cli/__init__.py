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

Every command takes ``--json``: the last line of stdout is then one JSON object of its final metrics.
Progress bars and messages go to stderr.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

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
from .objective import LOSSES  # noqa: E402  (the choices of --loss)


class CLIError(Exception):
    """A user mistake: printed as one line, exit status 2."""


def _log(*args):
    print(*args, file=sys.stderr, flush=True)


def _objective(task, num_classes, loss, one_logit=False):
    from .objective import Objective
    try:
        return Objective(task, num_classes, loss, one_logit=one_logit)
    except ValueError as e:
        raise CLIError(str(e)) from None


def _evaluate(model, objective, dataset, outputs=None):
    """Metrics of ``model`` on ``dataset`` (outputs computed in batches, or given)."""
    from .autograd.grad_mode import no_grad
    from .tensor import Tensor
    from .train import predict
    if outputs is None:
        outputs = predict(model, dataset.X, batch_size=512)
    with no_grad():
        loss = objective(Tensor(outputs), dataset.y).item()
    return objective.metrics(outputs, dataset.y, loss)


# ---------------------------------------------------------------------- building
def _image_shape(task):
    """(C, H, W) of a data set of square images (MNIST's (1, 28, 28), the digits' (1, 8, 8)), else None."""
    X = task.train.X
    if X.ndim == 4:
        return tuple(X.shape[1:])
    shape = getattr(task.train, "image_shape", None)
    if shape is not None and len(shape) == 2 and shape[0] == shape[1] and shape[0] >= 8:
        return (1, *shape)
    return None


def _build_model(args, task, objective):
    from .models import MLP, LeNet, LogisticRegression
    from .nn.containers import Sequential
    from .nn.conv import Flatten
    image = _image_shape(task)
    if args.model == "lenet":
        if image is None or image[1] != image[2]:
            raise CLIError(f"--model lenet needs square images (mnist, fashion-mnist, digits); {task.name} has "
                           f"{task.num_features} features per example")
        hidden = [int(h) for h in str(args.hidden).split(",") if h.strip()] if args.hidden else []
        channels = [int(c) for c in str(args.channels).split(",") if c.strip()]
        if len(channels) != 2:
            raise CLIError(f"--channels needs two numbers (the two conv layers), got {args.channels!r}")
        core = LeNet(image[0], objective.outputs, image[1], channels=channels, hidden=hidden,
                     kernel_size=5 if image[1] >= 16 else 3, activation=args.activation if args.activation in
                     ("relu", "tanh", "sigmoid") else "relu", dropout=args.dropout, generator=args.seed)
        return core if task.preprocess is None else Sequential(task.preprocess, core)
    if args.model == "logistic":
        if objective.task == "regression":
            core = MLP([task.num_features, 1], generator=args.seed)
        else:
            core = LogisticRegression(task.num_features, max(task.num_classes, 2), generator=args.seed)
    else:
        hidden = [int(h) for h in str(args.hidden).split(",") if h.strip()] if args.hidden else []
        core = MLP([task.num_features, *hidden, objective.outputs], activation=args.activation,
                   dropout=args.dropout, generator=args.seed)
    if task.train.X.ndim > 2:  # images (N, C, H, W) into a dense network: one vector per image
        core = Sequential(Flatten(), core)
    if task.preprocess is not None:
        return Sequential(task.preprocess, core)
    return core


def _build_optimizer(args, model):
    from . import optim
    if args.optimizer == "sgd":
        return optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    if args.optimizer == "adam":
        return optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    raise CLIError(f"unknown optimizer {args.optimizer!r}; choose sgd or adam")


def _build_schedule(args, optimizer):
    """The learning rate over the epochs: constant, cosine-annealed to 0 by the last epoch, or halved every
    third of the run ('step')."""
    from . import optim
    if args.schedule in (None, "none"):
        return None
    if args.schedule == "cosine":
        return optim.CosineAnnealingLR(optimizer, T_max=args.epochs)
    if args.schedule == "step":
        return optim.StepLR(optimizer, step_size=max(1, args.epochs // 3), gamma=0.5)
    raise CLIError(f"unknown schedule {args.schedule!r}; choose none, cosine or step")


def _load_task(name, seed, target=None, n_samples=None):
    from . import data
    try:
        return data.load(name, seed=seed, target=target, n_samples=n_samples)
    except (ValueError, FileNotFoundError, ImportError) as e:
        raise CLIError(str(e)) from None


def _apply_defaults(args):
    key = "csv" if str(args.dataset).endswith(".csv") else str(args.dataset).lower()
    defaults = DEFAULTS.get(f"{key}:{args.model}") or DEFAULTS.get(key, DEFAULTS["csv"])
    for k, v in {"dropout": 0.0, "schedule": "none", **defaults}.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    if args.momentum is None:
        args.momentum = 0.9 if args.optimizer == "sgd" else 0.0


# ---------------------------------------------------------------------- commands
def cmd_train(args):
    from . import data
    from .io import save
    from .train import fit

    _apply_defaults(args)
    if args.threads:
        from ._runtime import set_num_threads
        set_num_threads(args.threads)
    task = _load_task(args.dataset, args.seed, args.target, args.samples)
    objective = _objective(task.task, task.num_classes, args.loss or _default_loss(task),
                          one_logit=args.model == "logistic")
    model = _build_model(args, task, objective)
    optimizer = _build_optimizer(args, model)
    train_loader = data.DataLoader(task.train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    test_loader = data.DataLoader(task.test, batch_size=1024)
    fit_metrics = ("accuracy",) if objective.task == "classification" and not objective.binary_logit and \
        objective.loss == "cross_entropy" else ()
    _log(f"thetas: {args.model} {model.num_parameters():,} parameters on {task.name} "
         f"({len(task.train)} train / {len(task.test)} test), loss {objective.loss}, {args.optimizer} lr {args.lr}")
    t0 = time.perf_counter()
    history = fit(model, objective, optimizer, train_loader, val_loader=test_loader, epochs=args.epochs,
                  metrics=fit_metrics, verbose=not args.quiet, scheduler=_build_schedule(args, optimizer))
    seconds = time.perf_counter() - t0
    from .train import predict
    test_outputs = predict(model, task.test.X, batch_size=512)
    train_m, test_m = _evaluate(model, objective, task.train), _evaluate(model, objective, task.test, test_outputs)
    result = {"dataset": task.name, "model": args.model, "parameters": model.num_parameters()}
    result.update({f"train_{k}": round(v, 6) for k, v in train_m.items()})
    result.update({f"test_{k}": round(v, 6) for k, v in test_m.items()})
    result.update(epochs=len(history.epoch), seconds=round(seconds, 3),
                  samples_per_s=round(len(task.train) * len(history.epoch) / max(seconds, 1e-9), 1))
    result["peak_memory_mb"] = _peak_memory_mb()
    if getattr(history, "stopped_reason", None):
        result["stopped_reason"] = history.stopped_reason
    if args.save:
        meta = {"dataset": args.dataset, "seed": args.seed, "target": args.target, "loss": objective.loss,
                "binary_logit": objective.binary_logit,
                "task": task.task, "num_classes": task.num_classes, "classes": _jsonable(task.classes)}
        save(model, args.save, metadata=meta)
        result["saved"] = args.save
    if args.plot:
        result["plot"] = _plot(args.plot, history, model, task, objective, test_outputs)
    _report(args, result, [f"test accuracy {test_m['accuracy']:.4f}" if "accuracy" in test_m else
                           f"test rmse {test_m['rmse']:.4f}", f"{result['epochs']} epochs", f"{seconds:.1f} s"])
    return 0


def _default_loss(task):
    return "cross_entropy" if task.task == "classification" else "mse"


def _jsonable(x):
    return None if x is None else [v.item() if hasattr(v, "item") else v for v in x]


def _peak_memory_mb():
    """The process's peak resident memory so far, in MiB (None where the platform does not say)."""
    try:
        import resource
    except ImportError:
        return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # KiB on Linux, bytes on macOS
    return round(rss / (1 << 20 if sys.platform == "darwin" else 1 << 10), 1)


def _plot(path, history, model, task, objective, test_outputs):
    """2-D data: one PNG at ``path`` (curves and the decision boundary). Images, or a path without .png: a folder
    of PNGs (curves, confusion matrix, misclassified test images; for a conv net its filters and the feature maps
    of one test image). Returns the path or the list of files written."""
    from . import metrics, viz
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CLIError('--plot needs matplotlib: pip install "thetas[plot]"') from None
    two_d = task.num_features == 2 and task.task == "classification"
    if str(path).lower().endswith(".png") and not task.train.X.ndim > 2:
        fig, axes = plt.subplots(1, 2 if two_d else 1, figsize=(11 if two_d else 6, 4.5))
        axes = np.atleast_1d(axes)
        viz.plot_history(history, ax=axes[0])
        if two_d:
            viz.plot_decision_boundary(model, task.test.X, task.test.y, ax=axes[1])
            axes[1].set_title(f"{task.name}: decision boundary (test points)")
        viz.savefig(fig, path)
        plt.close(fig)
        return path
    written = []

    def save(fig, name):
        written.append(viz.savefig(fig, os.path.join(path, name)))
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    viz.plot_history(history, ax=ax)
    ax.set_title(f"{task.name}: train vs test")
    save(fig, "history.png")
    if objective.task == "classification":
        names = [str(c) for c in task.classes] if task.classes is not None else None
        pred = objective.predict(test_outputs)
        fig, ax = plt.subplots(figsize=(6.5, 6))
        viz.plot_confusion_matrix(metrics.confusion_matrix(task.test.y, pred, num_classes=task.num_classes),
                                  class_names=names, ax=ax)
        save(fig, "confusion_matrix.png")
        if hasattr(viz, "plot_misclassified") and not objective.binary_logit and _image_shape(task) is not None:
            X = task.test.X if task.test.X.ndim == 4 else task.test.X.reshape(len(task.test.X), *_image_shape(task))
            save(viz.plot_misclassified(test_outputs, X, task.test.y, class_names=names), "misclassified.png")
    from .nn.conv import Conv2d
    convs = [m for m in model.modules() if isinstance(m, Conv2d)]
    if convs and hasattr(viz, "plot_filters"):
        save(viz.plot_filters(convs[0]), "filters.png")
        x = task.test.X[:1]
        save(viz.plot_feature_maps(model, x), "feature_maps.png")
    return written


def cmd_evaluate(args):
    from .io import load, load_metadata
    try:
        model, meta = load(args.model), load_metadata(args.model)
    except (ValueError, FileNotFoundError, OSError) as e:
        raise CLIError(str(e)) from None
    user = meta.get("user") or {}
    dataset = args.dataset or user.get("dataset")
    if dataset is None:
        raise CLIError("evaluate: name the data set (it is not recorded in the model file)")
    seed = args.seed if args.seed is not None else user.get("seed", 0)
    task = _load_task(dataset, seed, args.target or user.get("target"))
    objective = _objective(task.task, task.num_classes, user.get("loss") or _default_loss(task),
                          one_logit=bool(user.get("binary_logit")))
    m = _evaluate(model, objective, task.test)
    result = {"dataset": task.name, "model": args.model, **{f"test_{k}": round(v, 6) for k, v in m.items()},
              "samples": len(task.test)}
    _report(args, result, [f"{k} {v}" for k, v in result.items() if k.startswith("test_")])
    return 0


def cmd_gradcheck(args):
    from .autograd.gradcheck import gradcheck
    from .models import MLP
    task = _load_task(args.dataset, args.seed)
    objective = _objective(task.task, task.num_classes, args.loss or _default_loss(task))
    hidden = [int(h) for h in args.hidden.split(",") if h.strip()]
    model = MLP([task.num_features, *hidden, objective.outputs], activation=args.activation, generator=args.seed)
    x, y = task.train.X[:args.batch_size], task.train.y[:args.batch_size]
    report = gradcheck(model, x, y, objective)
    if not args.json:
        print(report)
    worst = max((r[3] for r in report.results), default=0.0)
    result = {"ok": bool(report.ok), "max_rel_error": float(worst), "parameters": model.num_parameters(),
              "dataset": task.name, "activation": args.activation}
    _report(args, result, [f"gradcheck {'passed' if report.ok else 'FAILED'}", f"worst relative error {worst:.2e}"])
    return 0 if report.ok else 1


def cmd_predict(args):
    """First and second guesses for a picture of a digit, preprocessed as MNIST was made."""
    from .data.images import load_image, to_mnist
    from .io import load, load_metadata
    from .train import predict
    try:
        model, meta = load(args.model), load_metadata(args.model)
        image = to_mnist(load_image(args.image), invert=args.invert)
    except (ValueError, FileNotFoundError, OSError, ImportError) as e:
        raise CLIError(str(e)) from None
    user = meta.get("user") or {}
    if user.get("binary_logit") or user.get("task") == "regression":
        raise CLIError(f"{args.model} is not a many-class classifier; predict needs one (e.g. trained on mnist)")
    dataset = str(user.get("dataset") or "mnist")
    if dataset.startswith("digits"):  # the 8×8 digits: 32×32 bitmaps counted in 4×4 blocks, scaled to [0, 1]
        x = np.pad(image, 2).reshape(8, 4, 8, 4).mean(axis=(1, 3)).reshape(1, 64)
    else:
        x = image.reshape(1, 1, 28, 28)
    logits = predict(model, x.astype(np.float32))[0]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    classes = user.get("classes") or list(range(len(p)))
    order = np.argsort(-p, kind="stable")[:max(1, args.top)]
    guesses = [{"label": str(classes[i]), "probability": round(float(p[i]), 6)} for i in order]
    if not args.json:
        for rank, g in enumerate(guesses, 1):
            print(f"{('1st', '2nd', '3rd')[rank - 1] if rank <= 3 else f'{rank}th'} guess: {g['label']}  "
                  f"({100 * g['probability']:.1f}%)")
    result = {"image": args.image, "model": args.model, "prediction": guesses[0]["label"],
              "probability": guesses[0]["probability"], "guesses": guesses}
    if args.json:
        print(json.dumps(result))
    return 0


# ---------------------------------------------------------------------- knowledge tracing
DKT_FORMATS = ("dkt-csv", "assistments")   # thetas.data.knowledge.FORMATS (not imported at start-up)
DKT_TEST_FRACTION = 0.2   # a file without --test: 20 % of its students (all their answers) are held out


def _read_students(path, fmt, question_names=None):
    from .data import guess_format, load_students
    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path} (--data takes synthetic-5 or a file of students' answers)")
    try:
        fmt = fmt or guess_format(path)
        return load_students(path, fmt, question_names=question_names), fmt
    except (ValueError, FileNotFoundError, OSError) as e:
        hint = " (every question of the --test file must occur in the training file)" if question_names is not \
            None and "question_names" in str(e) else ""
        if isinstance(e, OSError) and not isinstance(e, FileNotFoundError):
            raise CLIError(f"cannot read {path}: {e.strerror or e}") from None
        raise CLIError(f"{e}{hint}") from None


def _dkt_data(args):
    """(train, test, format): whole students, before windows; synthetic data keeps its true concepts."""
    from .data import synthetic_5
    if args.data.lower() == "synthetic-5":
        if args.test:
            raise CLIError("--test needs --data PATH (synthetic-5 comes with its own 2,000 test students)")
        train, test = synthetic_5(args.seed)
        return train, test, "synthetic"
    train, fmt = _read_students(args.data, args.format)
    if args.test:
        test, _ = _read_students(args.test, fmt, question_names=train.question_names)
    else:
        train = train.drop_short(2)
        if len(train) < 2:
            raise CLIError(f"{args.data}: {len(train)} student(s) with 2 or more answers; a train/test split needs "
                           "at least 2 (or give --test PATH)")
        train, test = train.split(DKT_TEST_FRACTION, seed=args.seed, num_test=max(1, round(DKT_TEST_FRACTION *
                                                                                           len(train))))
    return train, test, fmt


def _dkt_eval(model, X):
    from .models import dkt_accuracy, dkt_auc, dkt_loss
    from .train import evaluate
    m = evaluate(model, dkt_loss, (X, X), metrics=(dkt_auc, dkt_accuracy), batch_size=256)
    # the AUC is None (null in the JSON) when every scored answer is right, or every one wrong
    return {"loss": m["loss"], "auc": m.get("dkt_auc"), "accuracy": m["dkt_accuracy"]}


def _optimal_auc(students):
    """Pooled AUC of the Bayes-optimal predictions on every answer after the first: the ceiling of synthetic data."""
    from .data import optimal_predictions
    from .metrics import roc_auc
    P, A = optimal_predictions(students), np.stack(students.answers)
    return float(roc_auc(A[:, 1:].ravel(), P[:, 1:].ravel()))


def _adjusted_rand(truth, labels):
    try:
        from sklearn.metrics import adjusted_rand_score
    except ImportError:
        _log("thetas dkt: concept_ari needs scikit-learn (pip install \"thetas[data]\"); left out")
        return None
    return float(adjusted_rand_score(truth, labels))


def cmd_dkt(args):
    from . import data, optim
    from .io import save
    from .models import DKT, dkt_accuracy, dkt_array, dkt_auc, dkt_loss
    from .train import fit

    if args.threads:
        from ._runtime import set_num_threads
        set_num_threads(args.threads)
    if args.format is not None and args.format not in DKT_FORMATS:
        raise CLIError(f"unknown --format {args.format!r}; choose {' or '.join(DKT_FORMATS)}")
    if args.concepts is not None and args.concepts < 2:
        raise CLIError(f"--concepts must be at least 2 (the number of concept clusters), got {args.concepts}")
    if args.max_len < 2:
        raise CLIError(f"--max-len must be at least 2 (a prediction needs a next answer), got {args.max_len}")
    if args.hidden < 1 or args.epochs < 1 or args.batch_size < 1:
        raise CLIError("--hidden, --epochs and --batch-size must be at least 1")
    if args.samples is not None and args.samples < 1:
        raise CLIError(f"--samples must be at least 1, got {args.samples}")
    train, test, fmt = _dkt_data(args)
    if args.samples is not None:                                     # a quick run: the first N of each set
        train, test = train[:args.samples], test[:args.samples]
    train, test = train.drop_short(2), test.drop_short(2)
    for name, s in (("training", train), ("test", test)):
        if len(s) == 0:
            raise CLIError(f"the {name} set has no student with 2 or more answers: nothing to learn or score")
    M = train.num_questions
    if args.concepts is not None and args.concepts > M:
        raise CLIError(f"--concepts {args.concepts} is more than the {M} questions")
    # one "student" per window of --max-len answers; each window needs 2 answers to be scored
    train_w, test_w = train.windows(args.max_len).drop_short(2), test.windows(args.max_len).drop_short(2)
    X_train, X_test = dkt_array(train_w), dkt_array(test_w)          # (N, T, 2) [question, answer], −1 padding

    try:
        model = DKT(M, args.hidden, cell=args.cell, dropout=args.dropout, generator=args.seed)
    except ValueError as e:
        raise CLIError(str(e)) from None
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    source = "synthetic-5" if fmt == "synthetic" else args.data
    _log(f"thetas: DKT ({args.cell}, {args.hidden} hidden) {model.num_parameters():,} parameters on {source}: "
         f"{M} questions, {len(train)} train / {len(test)} test students, Adam lr {args.lr}")
    t0 = time.perf_counter()
    history = fit(model, dkt_loss, optimizer, data.DataLoader((X_train, X_train), batch_size=args.batch_size,
                                                              shuffle=True, seed=args.seed),
                  val_loader=(X_test, X_test), epochs=args.epochs, metrics=(dkt_auc, dkt_accuracy),
                  verbose=not args.quiet)
    seconds = time.perf_counter() - t0
    train_m, test_m = _dkt_eval(model, X_train), _dkt_eval(model, X_test)

    result = {"data": source, "format": fmt, "cell": args.cell, "hidden": args.hidden,
              "parameters": model.num_parameters(), "questions": M,
              "students": {"train": len(train), "test": len(test)},
              "sequences": {"train": len(train_w), "test": len(test_w)}}
    result.update({f"test_{k}": None if v is None else round(v, 6) for k, v in test_m.items()})
    result.update({f"train_{k}": None if v is None else round(v, 6) for k, v in train_m.items()})
    if fmt == "synthetic":
        result["optimal_test_auc"] = round(_optimal_auc(test), 6)
    result.update(epochs=len(history.epoch), seconds=round(seconds, 3))
    labels = None
    if args.concepts is not None:
        from .tutor import cluster_questions
        try:
            labels = np.asarray(cluster_questions(model, args.concepts, students=train, seed=args.seed))
        except ImportError:
            raise CLIError('--concepts needs scikit-learn (spectral clustering): pip install "thetas[data]"') from None
        result["concepts"] = [int(v) for v in labels]
        if train.concepts is not None:
            ari = _adjusted_rand(train.concepts, labels)
            if ari is not None:
                result["concept_ari"] = round(ari, 6)
    result["peak_memory_mb"] = _peak_memory_mb()
    if getattr(history, "stopped_reason", None):
        result["stopped_reason"] = history.stopped_reason
    if args.save:
        meta = {"command": "dkt", "data": source, "format": fmt, "test": args.test, "seed": args.seed,
                "cell": args.cell, "hidden": args.hidden, "max_len": args.max_len, "questions": M,
                "question_names": list(train.question_names or map(str, range(M)))}
        if labels is not None:
            meta["concepts"] = result["concepts"]
        try:
            save(model, args.save, metadata=meta)
        except OSError as e:
            raise CLIError(f"cannot write {args.save}: {e.strerror or e}") from None
        result["saved"] = args.save
    if args.plot:
        result["plot"] = _plot_dkt(args.plot, history, model, train, test, labels, args.seed)
    auc = "n/a" if test_m["auc"] is None else f"{test_m['auc']:.4f}"
    summary = [f"test AUC {auc}", f"accuracy {test_m['accuracy']:.4f}"]
    if "optimal_test_auc" in result:
        summary.append(f"(optimal AUC {result['optimal_test_auc']:.4f})")
    if "concept_ari" in result:
        summary.append(f"concept ARI {result['concept_ari']:.3f}")
    _report(args, result, summary + [f"{result['epochs']} epochs", f"{seconds:.1f} s"])
    return 0


def _plot_dkt(folder, history, model, train, test, labels, seed):
    """PNGs in ``folder``: learning curves; the questions' influence graph and their influence matrix ordered by
    concept; the first test student's knowledge trace with the suggested next question.

    The influence is ``th.tutor.context_influence`` on (up to 200 of) the training students: flip one real answer
    and see how the predictions of the later answers move. The paper's J (``influence_matrix``: the prediction
    after a first answer) is not used: where every student starts with the same question (the simulated data)
    the network never learned what other first answers mean."""
    from . import viz
    from .tutor import cluster_questions, concept_graph, context_influence, knowledge_trace, suggest_next
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise CLIError('--plot needs matplotlib: pip install "thetas[plot]"') from None
    names = train.question_names
    influence = context_influence(model, train, max_students=200, seed=seed)    # (M, M) i answered, j predicted
    if labels is None:                                              # no --concepts: 5 clusters, for the pictures
        try:
            labels = np.asarray(cluster_questions(model, min(5, train.num_questions), students=train, seed=seed))
        except ImportError:
            raise CLIError('--plot needs scikit-learn to group the questions: pip install "thetas[data]"') from None
    written = []

    def save(fig, name):
        written.append(viz.savefig(fig, os.path.join(folder, name)))
        plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    viz.plot_history(history, keys=["loss", "val_loss"], ax=axes[0])
    viz.plot_history(history, keys=["dkt_auc", "val_dkt_auc"], ax=axes[1])
    axes[0].set_title("loss: minus the log-likelihood of the next answer")
    axes[1].set_title("AUC of the next answer (val = test students)")
    save(fig, "history.png")
    fig, ax = plt.subplots(figsize=(7.5, 7.5))
    viz.plot_influence_graph(concept_graph(influence, min_weight=0.0), labels=labels, ax=ax, question_names=names)
    save(fig, "influence_graph.png")
    fig, ax = plt.subplots(figsize=(8, 7))
    viz.plot_concept_clusters(influence, labels, ax=ax, question_names=names)
    save(fig, "concept_clusters.png")

    q, a = test[0]                                                  # the first test student: "Riley"
    q, a = q[:100], a[:100]
    trace = knowledge_trace(model, q, a)
    best, _ = suggest_next(model, q, a)
    rows = np.argsort(labels, kind="stable")                        # questions grouped by concept
    rows = rows if train.num_questions <= 60 else rows[np.isin(rows, q)]
    fig, ax = plt.subplots(figsize=(max(7.0, 0.16 * len(q) + 3), max(4.0, 0.16 * len(rows) + 1.5)))
    viz.plot_knowledge_trace(trace, q, a, ax=ax, question_names=names, rows=rows)
    who = f"student {test.student_ids[0]}" if test.student_ids else "the first test student"
    best_name = names[best] if names else best
    ax.set_title(f"What does {who} know? P(correct) after each answer\n"
                 f"What should they do next? Question {best_name}", fontsize=10, pad=24)
    save(fig, "knowledge_trace.png")
    return written


def _report(args, result, summary):
    if args.json:
        print(json.dumps(result))
    else:
        print("thetas: " + ", ".join(summary))


# ---------------------------------------------------------------------- argument parsing
def build_parser():
    from .data import DATASETS
    p = argparse.ArgumentParser(prog="thetas", description="Deep learning you can read: train, evaluate and "
                                "check neural networks built on thetas' NumPy autograd.")
    p.add_argument("--version", action="version", version=f"thetas {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a network on a data set and report test metrics",
                       description=f"DATASET: one of {', '.join(DATASETS)}, or a CSV file (with --target).")
    t.add_argument("dataset", metavar="DATASET")
    t.add_argument("--target", help="the label column of a CSV file")
    t.add_argument("--model", choices=("mlp", "logistic", "lenet"), default="mlp",
                   help="mlp (dense layers), logistic (one neuron per class) or lenet (a conv net, for images)")
    t.add_argument("--hidden", help="hidden layer widths, e.g. 32,32 (mlp; lenet: its dense layers); '' for none")
    t.add_argument("--channels", default="6,16", help="lenet: output channels of its two conv layers (default 6,16)")
    t.add_argument("--activation", choices=("sigmoid", "tanh", "relu", "leaky_relu", "linear"))
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
    t.add_argument("--plot", metavar="PATH", help="a PNG of the learning curves (and the decision boundary of 2-D "
                   "data); for images, or a PATH without .png, a folder of PNGs: curves, confusion matrix, "
                   "misclassified test images, conv filters and feature maps")
    t.add_argument("--threads", type=int, metavar="N", help="BLAS threads (default: all cores; 1 on a busy machine: "
                   "spinning BLAS threads slow down badly when other processes hold the cores)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--json", action="store_true", help="print the final metrics as one JSON line")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="evaluate a saved model on a data set's test split")
    e.add_argument("model", metavar="MODEL")
    e.add_argument("dataset", metavar="DATASET", nargs="?")
    e.add_argument("--target")
    e.add_argument("--seed", type=int)
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("predict", help="first and second guess for a picture of a handwritten digit",
                       description="IMAGE: a PNG or JPEG of one digit, any size, dark on light or light on dark; it "
                       "is cropped, scaled into 20×20 and centred by mass in 28×28, as MNIST was made.")
    r.add_argument("model", metavar="MODEL", help="a model saved by thetas train mnist --save PATH")
    r.add_argument("image", metavar="IMAGE")
    r.add_argument("--top", type=int, default=2, help="how many guesses to print (default 2)")
    r.add_argument("--invert", action=argparse.BooleanOptionalAction, default=None,
                   help="force (or forbid) inverting the image; default: decided from its background")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_predict)

    g = sub.add_parser("gradcheck", help="compare backprop's gradients with numerical ones (float64)")
    g.add_argument("--dataset", default="digits")
    g.add_argument("--hidden", default="16")
    g.add_argument("--activation", choices=("sigmoid", "tanh", "relu", "leaky_relu", "linear"), default="tanh")
    g.add_argument("--loss", choices=LOSSES)
    g.add_argument("--batch-size", type=int, default=8)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=cmd_gradcheck)

    k = sub.add_parser("dkt", help="Deep Knowledge Tracing: predict each student's next answer, find the concepts",
                       description="Train a DKT network (an LSTM over [question, answer] pairs) on students' answer "
                       "sequences and report the AUC of its next-answer predictions on held-out students.")
    k.add_argument("--data", required=True, metavar="synthetic-5|PATH",
                   help="synthetic-5 (the DKT paper's 2,000 + 2,000 simulated students, 50 questions, 5 concepts) "
                   "or a file of real answers")
    k.add_argument("--test", metavar="PATH", help="a file of test students (default: 20%% of --data's students, "
                   "split by student with --seed)")
    k.add_argument("--format", metavar="dkt-csv|assistments", help="dkt-csv: 3 lines per student (count, question ids, "
                   "answers); assistments: the ASSISTments 2009 CSV (a header row, one row per answer; question = "
                   "skill_id). Default: assistments if the first line has letters, else dkt-csv")
    k.add_argument("--cell", choices=("lstm", "rnn", "gru"), default="lstm")
    k.add_argument("--hidden", type=int, default=200, help="hidden units (default 200, as the paper)")
    k.add_argument("--epochs", type=int, default=10)
    k.add_argument("--lr", type=float, default=1e-2, help="Adam's learning rate (default 0.01)")
    k.add_argument("--batch-size", type=int, default=32, help="students per batch (default 32)")
    k.add_argument("--dropout", type=float, default=0.0, help="dropout on the hidden state before the output layer")
    k.add_argument("--max-len", type=int, default=100, help="cut longer sequences into windows of this many answers")
    k.add_argument("--concepts", type=int, metavar="K", help="cluster the questions into K concepts from what the "
                   "network learned (JSON: concepts, and concept_ari on synthetic data)")
    k.add_argument("--seed", type=int, default=0)
    k.add_argument("--samples", type=int, metavar="N", help="a quick run: only the first N training and the first "
                   "N test students")
    k.add_argument("--threads", type=int, metavar="N", help="BLAS threads (1 on a busy machine)")
    k.add_argument("--plot", metavar="DIR", help="write PNGs: learning curves, the influence graph, the questions' "
                   "clusters (--concepts K, else 5) and one test student's knowledge trace")
    k.add_argument("--save", metavar="PATH", help="write the trained model (.safetensors) with its question names")
    k.add_argument("--quiet", action="store_true", help="no progress bar")
    k.add_argument("--json", action="store_true", help="print the final metrics as one JSON line")
    k.set_defaults(func=cmd_dkt)
    from .lab.cli import add_parser as add_lab_parser
    add_lab_parser(sub)
    from .rl.cli import add_parser as add_rl_parser
    add_rl_parser(sub)
    return p


def _version():
    from . import __version__
    return __version__


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except CLIError as e:
        _log(f"thetas {args.command}: error: {e}")
        return 2
    except KeyboardInterrupt:
        _log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
