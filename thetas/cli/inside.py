"""``thetas inside MODEL``: what each unit of a saved classifier has learned (Le et al. 2012): its optimal stimulus
(the input of the test images' mean norm, in their range, that excites it most), the class the model gives that
stimulus, and the test images that excite it most.

    thetas inside lenet.safetensors --plot inside/          # every class: its ideal picture beside its top 9
    thetas inside digits.safetensors --layer 1 --unit 3 --json
"""
import os
import time

import numpy as np

from .common import (CLIError, add_json, check_writable, load_model, load_task, log, nonnegative_int, peak_memory_mb,
                     positive_int, pyplot, report, set_threads)

PICTURES = ("mnist", "fashion-mnist", "digits")   # data scaled into [0, 1] (digits-1v2 too): the stimulus' box
TOP = 9                                           # Le et al.'s top stimuli: a 3×3 grid


def add_parser(subparsers):
    r = subparsers.add_parser("inside", help="what each unit of a saved classifier has learned: its optimal "
                              "stimulus and its top test images",
                              description="For each unit of a layer (default: the output, one unit per class): "
                              "its optimal stimulus by projected gradient ascent on the sphere of the test images' "
                              "mean L2 norm, the class the model gives it, and the 9 test images that excite it "
                              "most (th.inside.unit_stimuli).")
    r.add_argument("model", metavar="MODEL", help="a classifier saved by thetas train DATASET --save PATH")
    r.add_argument("--layer", default="output", help="'output' (default) or a layer name from model.named_modules()")
    r.add_argument("--unit", type=nonnegative_int, help="only this unit (a column, or a channel of a feature map)")
    r.add_argument("--steps", type=positive_int, default=200, help="gradient ascent steps (default 200)")
    r.add_argument("--samples", type=positive_int, help="search the top stimuli in the first N test images only")
    r.add_argument("--seed", type=nonnegative_int, default=0, help="the ascent's random start (default 0)")
    r.add_argument("--plot", metavar="PATH", help="a PNG (in folder PATH, or the .png file PATH): per unit, its "
                   "optimal stimulus beside its top 9 test images")
    add_json(r)
    r.set_defaults(func=run)
    return r


def _check(args, model, user):
    """Every mistake before any work: not a classifier, no data set, a bad layer or unit, --plot."""
    from .. import inside
    if user.get("task") != "classification" or user.get("binary_logit"):
        raise CLIError(f"{args.model} is not a many-class classifier; inside needs one (thetas train digits --save "
                       "PATH)")
    if not user.get("dataset"):
        raise CLIError(f"{args.model} does not record the data set it was trained on (thetas train DATASET --save)")
    try:
        shape = inside.input_shape(model)
        units = inside.num_units(model, args.layer, shape)
    except ValueError as e:
        raise CLIError(f"--layer {args.layer}: {e}" if "unknown layer" in str(e) else f"{args.model}: {e}") from None
    if args.unit is not None and args.unit >= units:
        raise CLIError(f"--unit {args.unit}: layer {args.layer} has {units} unit(s), 0 to {units - 1}")
    if args.plot:
        pyplot()                                          # headless, or the CLIError that says to install it
        check_writable("--plot", args.plot, folder_ok=True)
        if not _picture(shape):
            raise CLIError(f"--plot draws pictures, but {args.model} takes {int(np.prod(shape))} numbers, not an "
                           "image: leave --plot out (the JSON has every unit)")
    return shape, units


def _picture(shape):
    """Whether one input of this shape is an image --plot can draw: (C, H, W), or a flat square (64: 8×8, 784)."""
    return len(shape) == 3 or len(shape) == 1 and round(np.sqrt(shape[0])) ** 2 == shape[0] and shape[0] > 4


def run(args):
    from .. import inside
    from ..train import predict
    model, user = load_model(args.model)
    shape, n_units = _check(args, model, user)
    set_threads(args)
    dataset = str(user["dataset"])
    task = load_task(dataset, user.get("seed", 0) or 0, user.get("target"))
    images = np.asarray(task.test.X[:args.samples] if args.samples else task.test.X)
    try:
        images = images.reshape(len(images), *shape)
    except ValueError:
        raise CLIError(f"{args.model} does not fit {task.name}: the model takes inputs of shape {shape}, "
                       f"{task.name} has {images.shape[1:]}") from None
    norm = float(np.linalg.norm(images.reshape(len(images), -1), axis=1).mean())
    box = (0.0, 1.0) if dataset.lower().startswith(PICTURES) else None   # the range the pictures are scaled to
    units = [args.unit] if args.unit is not None else list(range(n_units))
    log(f"thetas inside: {len(units)} unit(s) of layer {args.layer}, {args.steps} steps each, norm {norm:.3g}, "
        f"top {TOP} of {len(images)} test images")
    t0 = time.perf_counter()
    stimuli, tops = inside.unit_stimuli(model, args.layer, units, shape, images, k=TOP, norm=norm, box=box,
                                        steps=args.steps, seed=args.seed)
    logits = predict(model, stimuli.astype(images.dtype))
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    classes = user.get("classes") or list(range(p.shape[1]))
    rows = []
    for u, probs, (idx, acts) in zip(units, p, tops):
        c = int(np.argmax(probs))
        rows.append({"unit": u, "predicted_class": str(classes[c] if c < len(classes) else c),  # as predict's
                     "probability": round(float(probs[c]), 6), "top": [int(i) for i in idx],
                     "top_activations": [round(float(a), 6) for a in acts]})
    result = {"model": args.model, "layer": args.layer, "dataset": task.name, "norm": round(norm, 6),
              "steps": args.steps, "units": rows}
    if args.plot:
        result["plot"] = _plot(args.plot, args.layer, units, stimuli, images, tops, rows)
    result["seconds"] = round(time.perf_counter() - t0, 3)
    result["peak_memory_mb"] = peak_memory_mb()
    if not args.json:
        for r in rows:
            print(f"unit {r['unit']}: its optimal stimulus is classed {r['predicted_class']} "
                  f"({100 * r['probability']:.1f}%); top test images {r['top']}")
    report(args, result, [f"{len(rows)} unit(s) of layer {args.layer}", f"{result['seconds']} s"] +
           ([f"plot {result['plot']}"] if args.plot else []))
    return 0


def _plot(path, layer, units, stimuli, images, tops, rows):
    """One PNG, a row per unit: its optimal stimulus beside its top 9 test images (Le et al.'s figures)."""
    from .. import inside
    plt = pyplot()
    if not path.lower().endswith(".png"):
        os.makedirs(path, exist_ok=True)
        path = os.path.join(path, f"inside-{layer}.png")
    fig, axes = plt.subplots(len(units), 2, figsize=(4.5, 2.2 * len(units)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1]})
    for (a, b), u, s, (idx, acts), r in zip(axes, units, stimuli, tops, rows):
        inside.plot_stimuli([s], ax=a, ncols=1)    # a flat square input is drawn square
        a.set_title(f"unit {u}: {r['predicted_class']} ({100 * r['probability']:.0f}%)", fontsize=8)
        inside.plot_top_stimuli(images, idx, acts, ax=b, ncols=3)
        b.set_title(f"top {len(idx)} test images", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
