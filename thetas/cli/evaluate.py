"""``thetas evaluate MODEL [DATASET]``: a saved model's metrics on a data set's test split.

    thetas evaluate model.safetensors digits
    thetas evaluate model.safetensors            # the data set recorded by thetas train --save
    thetas evaluate ae.safetensors               # an autoencoder: test_loss (−LL per image) and test_mse
"""
from .common import (CLIError, add_json, check_fits, data_path, default_loss, load_model, load_task,
                     nonnegative_int, objective, reconstruction_metrics, report, task_metrics)


def add_parser(subparsers):
    e = subparsers.add_parser("evaluate", help="evaluate a saved model on a data set's test split")
    e.add_argument("model", metavar="MODEL", help="a model saved by thetas train --save PATH")
    e.add_argument("dataset", metavar="DATASET", nargs="?",
                   help="a data set name or a CSV file (default: the one the model was trained on)")
    e.add_argument("--target", help="the label column of a CSV file (default: the one the model was trained with)")
    e.add_argument("--seed", type=nonnegative_int,
                   help="the data set's seed: generated points, the train/test split (default: the training run's)")
    add_json(e)
    e.set_defaults(func=run)
    return e


def _recorded_dataset(user, model_path):
    """The data set named in the model's metadata; a CSV found where it was (an absolute path), or for older
    files relative to here or to the model's folder."""
    dataset = user.get("dataset")
    if dataset is None:
        raise CLIError(f"name the data set: {model_path} does not record one (thetas evaluate MODEL DATASET)")
    dataset = str(dataset)
    if not dataset.lower().endswith(".csv"):
        return dataset
    found = data_path(dataset, model_path)
    if found is None:
        raise CLIError(f"{model_path} was trained on {dataset}, which is no longer there: name the CSV file "
                       "(thetas evaluate MODEL DATA.csv --target COLUMN)")
    return found


def run(args):
    from ..models import Autoencoder
    model, user = load_model(args.model)
    dataset = args.dataset or _recorded_dataset(user, args.model)
    seed = args.seed if args.seed is not None else user.get("seed", 0)
    task = load_task(dataset, seed, args.target or user.get("target"))
    if isinstance(model, Autoencoder):                    # how well it rebuilds the test images
        check_fits(model, task.test.X, args.model, task.name)
        m = reconstruction_metrics(model, task.test.X)
    else:
        obj = objective(task, user.get("loss") or default_loss(task), one_logit=bool(user.get("binary_logit")))
        check_fits(model, task.test.X, args.model, task.name, outputs=obj.outputs)
        m = task_metrics(model, obj, task.test)
    result = {"dataset": task.name, "model": args.model, **{f"test_{k}": round(v, 6) for k, v in m.items()},
              "samples": len(task.test)}
    report(args, result, [f"{k} {v}" for k, v in result.items() if k.startswith("test_")])
    return 0
