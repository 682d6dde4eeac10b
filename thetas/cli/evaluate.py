"""``thetas evaluate MODEL [DATASET]``: a saved model's metrics on a data set's test split.

    thetas evaluate model.safetensors digits
    thetas evaluate model.safetensors            # the data set recorded by thetas train --save
"""
from .common import CLIError, add_json, default_loss, load_model, load_task, objective, report, task_metrics


def add_parser(subparsers):
    e = subparsers.add_parser("evaluate", help="evaluate a saved model on a data set's test split")
    e.add_argument("model", metavar="MODEL")
    e.add_argument("dataset", metavar="DATASET", nargs="?")
    e.add_argument("--target")
    e.add_argument("--seed", type=int)
    add_json(e)
    e.set_defaults(func=run)
    return e


def run(args):
    model, user = load_model(args.model)
    dataset = args.dataset or user.get("dataset")
    if dataset is None:
        raise CLIError("evaluate: name the data set (it is not recorded in the model file)")
    seed = args.seed if args.seed is not None else user.get("seed", 0)
    task = load_task(dataset, seed, args.target or user.get("target"))
    obj = objective(task, user.get("loss") or default_loss(task), one_logit=bool(user.get("binary_logit")))
    m = task_metrics(model, obj, task.test)
    result = {"dataset": task.name, "model": args.model, **{f"test_{k}": round(v, 6) for k, v in m.items()},
              "samples": len(task.test)}
    report(args, result, [f"{k} {v}" for k, v in result.items() if k.startswith("test_")])
    return 0
