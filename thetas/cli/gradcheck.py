"""``thetas gradcheck``: backprop's gradients against numerical ones (central differences, float64), on an MLP and
a few examples of a data set.

    thetas gradcheck --hidden 16 --activation tanh
"""
from .common import add_json, layer_widths, load_task, nonnegative_int, objective, positive_int, report, widths
from .train import ACTIVATIONS


def add_parser(subparsers):
    from ..objective import LOSSES
    g = subparsers.add_parser("gradcheck", help="compare backprop's gradients with numerical ones (float64)")
    g.add_argument("--dataset", default="digits", help="the data set whose first training examples are checked")
    g.add_argument("--hidden", type=layer_widths, default="16", help="hidden layer widths, e.g. 16,16")
    g.add_argument("--activation", choices=ACTIVATIONS, default="tanh", help="the activation after every hidden layer")
    g.add_argument("--loss", choices=LOSSES, help="default: cross_entropy for classes, mse for numbers")
    g.add_argument("--batch-size", type=positive_int, default=8, help="how many training examples (default 8)")
    g.add_argument("--seed", type=nonnegative_int, default=0,
                   help="the data (generated sets, the split) and the initial thetas")
    add_json(g)
    g.set_defaults(func=run)
    return g


def run(args):
    from ..autograd.gradcheck import gradcheck
    from ..models import MLP
    task = load_task(args.dataset, args.seed)
    obj = objective(task, args.loss)
    model = MLP([task.num_features, *widths(args.hidden, "--hidden"), obj.outputs], activation=args.activation,
                generator=args.seed)
    x, y = task.train.X[:args.batch_size], task.train.y[:args.batch_size]
    check = gradcheck(model, x, y, obj)
    if not args.json:
        print(check)
    worst = max((r[3] for r in check.results), default=0.0)
    result = {"ok": bool(check.ok), "max_rel_error": float(worst), "parameters": model.num_parameters(),
              "dataset": task.name, "activation": args.activation}
    report(args, result, [f"gradcheck {'passed' if check.ok else 'FAILED'}", f"worst relative error {worst:.2e}"])
    return 0 if check.ok else 1
