"""``thetas inside MODEL``: what each unit of a saved network has learned (Le et al. 2012): its optimal stimulus
(the input of the test images' mean norm, in their range, that excites it most), the class a classifier gives that
stimulus, and the test images that excite it most. For an autoencoder, trained without labels, Le et al.'s
read-out too: for every digit, the single unit that detects it best, beside the same network with its initial
random weights and the best single pixel.

    thetas inside lenet.safetensors --plot inside/          # every class: its ideal picture beside its top 9
    thetas inside digits.safetensors --layer 1 --unit 3 --json
    thetas inside ae.safetensors --plot inside/             # thetas train mnist --model autoencoder --save ae...
"""
import os
import time

import numpy as np

from .common import (CLIError, add_json, check_writable, load_model, load_task, log, nonnegative_int, peak_memory_mb,
                     positive_int, pyplot, report, set_threads)

PICTURES = ("mnist", "fashion-mnist", "digits")   # data scaled into [0, 1] (digits-1v2 too): the stimulus' box
TOP = 9                                           # Le et al.'s top stimuli: a 3×3 grid
MAX_ROWS = 16                                     # --plot draws at most this many units (a row each)


def add_parser(subparsers):
    r = subparsers.add_parser("inside", help="what each unit of a saved network has learned: its optimal "
                              "stimulus and its top test images (and, for an autoencoder, which unit detects "
                              "each digit)",
                              description="For each unit of a layer (default: a classifier's output, one unit per "
                              "class; an autoencoder's code): its optimal stimulus by projected gradient ascent on "
                              "the sphere of the test images' mean L2 norm, the class a classifier gives it, and the "
                              "9 test images that excite it most (th.inside.unit_stimuli). For an autoencoder also "
                              "Le et al.'s read-out (th.inside.selectivity): per class the unit that detects it best "
                              "on a class-balanced test set, beside the untrained network and the best pixel.")
    r.add_argument("model", metavar="MODEL", help="a classifier or an autoencoder saved by thetas train DATASET "
                   "--save PATH")
    r.add_argument("--layer", help="'output' (a classifier's default), 'encoder' (an autoencoder's code, its "
                   "default) or a layer name from model.named_modules()")
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
    """Every mistake before any work: neither a classifier nor an autoencoder, no data set, a bad layer or unit,
    --plot."""
    from .. import inside
    from ..models import Autoencoder
    if isinstance(model, Autoencoder):
        args.layer = args.layer or "encoder"
    elif user.get("task") != "classification" or user.get("binary_logit"):
        raise CLIError(f"{args.model} is neither a many-class classifier nor an autoencoder; inside needs one "
                       "(thetas train digits --save PATH, or thetas train mnist --model autoencoder --save PATH)")
    args.layer = args.layer or "output"
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
    from ..inside.stimulus import top_k
    from ..models import Autoencoder
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
    stimuli, _ = inside.unit_stimuli(model, args.layer, units, shape, norm=norm, box=box, steps=args.steps,
                                     seed=args.seed)
    acts = inside.layer_activations(model, args.layer, images)       # one pass: the top images, fires, read-out
    tops = [top_k(acts[:, u], min(TOP, len(images))) for u in units]
    classes = user.get("classes") or list(range(int(user.get("num_classes") or 0)))
    rows = [{"unit": u, "top": [int(i) for i in idx], "top_activations": [round(float(a), 6) for a in acts]}
            for u, (idx, acts) in zip(units, tops)]
    if not isinstance(model, Autoencoder):     # a classifier: the class it gives each stimulus
        logits = predict(model, stimuli.astype(images.dtype))
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        classes = classes or list(range(p.shape[1]))
        for r, probs in zip(rows, p):
            c = int(np.argmax(probs))
            r.update(predicted_class=str(classes[c] if c < len(classes) else c),   # as predict's
                     probability=round(float(probs[c]), 6))
    result = {"model": args.model, "layer": args.layer, "dataset": task.name, "norm": round(norm, 6),
              "steps": args.steps, "units": rows}
    shown = units[:MAX_ROWS]
    if isinstance(model, Autoencoder):   # the read-out always on the whole test set (--samples: the top images)
        every = np.asarray(task.test.X).reshape(len(task.test.X), *shape)
        labels = np.asarray(task.test.y)
        every_acts = acts if len(images) == len(every) else inside.layer_activations(model, args.layer, every)
        result["selectivity"] = _selectivity(model, args.layer, every, every_acts, labels, classes)
        fires = (acts > 0).sum(0)
        for r, (idx, a) in zip(rows, tops):
            keep = [int(i) for i, v in zip(idx, a) if v > 0]     # a sparse unit: only the images it fires on
            r.update(top=keep, top_activations=r["top_activations"][:len(keep)], fires_on=int(fires[r["unit"]]),
                     top_labels=[str(classes[int(labels[i])]) for i in keep])
        tops = [(np.asarray(r["top"], int), np.asarray(r["top_activations"])) for r in rows]
        silent = int((acts.max(0) <= 0).sum())
        result["selectivity"]["silent_units"] = silent
        if silent == acts.shape[1]:
            log(f"thetas inside: warning: all {silent} units of layer {args.layer} are silent on the test images: "
                "the network learned nothing to read out (did its training diverge?)")
        shown = [] if args.unit is not None else [s["unit"] for s in result["selectivity"]["classes"].values()]
        shown = shown or units
    if args.plot:
        result["plot"] = _plot(args.plot, args.layer, units, shown, stimuli, images, tops, rows, result)
    result["seconds"] = round(time.perf_counter() - t0, 3)
    result["peak_memory_mb"] = peak_memory_mb()
    if not args.json:
        if "selectivity" in result:
            _print_selectivity(result["selectivity"])
        else:
            for r in rows:
                print(f"unit {r['unit']}: its optimal stimulus is classed {r['predicted_class']} "
                      f"({100 * r['probability']:.1f}%); top test images {r['top']}")
    summary = [f"{len(rows)} unit(s) of layer {args.layer}", f"{result['seconds']} s"]
    if "selectivity" in result:
        sel = result["selectivity"]
        summary.insert(0, f"best single unit per class: mean accuracy {sel['mean_accuracy']:.3f} (untrained "
                          f"{sel['mean_random_accuracy']:.3f}, best pixel {sel['mean_pixel_accuracy']:.3f})")
    report(args, result, summary + ([f"plot {result['plot']}"] if args.plot else []))
    return 0


def _selectivity(model, layer, images, acts, labels, classes):
    """Le et al.'s read-out of ``layer``'s units (``acts``: their activations on the test ``images``), beside the
    same network rebuilt with its initial random weights (its config holds the seed) and the best single pixel,
    each on the same balanced sets."""
    from .. import inside
    from ..nn.module import build
    untrained = build(model.config())
    found, units, acc = inside.class_selectivity(acts, labels)
    _, _, rand = inside.selectivity(untrained, layer, images, labels)
    _, pix_units, pix = inside.class_selectivity(images.reshape(len(images), -1), labels)
    rows = {}
    for c, u, a, r, pu, p in zip(found, units, acc, rand, pix_units, pix):
        name = str(classes[int(c)]) if int(c) < len(classes) else str(int(c))
        rows[name] = {"unit": int(u), "accuracy": round(float(a), 4), "random_accuracy": round(float(r), 4),
                      "pixel_accuracy": round(float(p), 4), "pixel": int(pu)}
    return {"classes": rows, "mean_accuracy": round(float(acc.mean()), 4),
            "mean_random_accuracy": round(float(rand.mean()), 4), "mean_pixel_accuracy": round(float(pix.mean()), 4),
            "thresholds": 20, "reference": "Le et al. 2012, best single neuron: faces 81.7 %, human bodies 76.7 %, "
            "cat faces 74.8 %"}


def _print_selectivity(sel):
    print("class  unit  accuracy  untrained  best pixel   (the best single unit, balanced test set, 20 thresholds)")
    for name, r in sel["classes"].items():
        print(f"{name:>5}  {r['unit']:>4}  {r['accuracy']:8.3f}  {r['random_accuracy']:9.3f}  "
              f"{r['pixel_accuracy']:10.3f}")
    print(f" mean        {sel['mean_accuracy']:8.3f}  {sel['mean_random_accuracy']:9.3f}  "
          f"{sel['mean_pixel_accuracy']:10.3f}")


def _plot(path, layer, units, shown, stimuli, images, tops, rows, result):
    """One PNG, a row per unit of ``shown`` (at most MAX_ROWS): its optimal stimulus beside its top 9 test images
    (Le et al.'s figures). An autoencoder's rows are each class's best unit."""
    from .. import inside
    plt = pyplot()
    if not path.lower().endswith(".png"):
        os.makedirs(path, exist_ok=True)
        path = os.path.join(path, f"inside-{layer}.png")
    if len(shown) > MAX_ROWS:
        log(f"thetas inside: --plot draws the first {MAX_ROWS} of {len(shown)} units (--unit U draws another)")
    shown = list(shown)[:MAX_ROWS]
    at = {u: i for i, u in enumerate(units)}
    best = {v["unit"]: (k, v["accuracy"]) for k, v in result.get("selectivity", {}).get("classes", {}).items()}
    fig, axes = plt.subplots(len(shown), 2, figsize=(4.5, 2.2 * len(shown)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1]})
    for (a, b), u in zip(axes, shown):
        i = at[u]
        s, (idx, acts), r = stimuli[i], tops[i], rows[i]
        inside.plot_stimuli([s], ax=a, ncols=1)    # a flat square input is drawn square
        a.set_title(f"unit {u}: {r['predicted_class']} ({100 * r['probability']:.0f}%)" if "predicted_class" in r
                    else f"unit {u}: class {best[u][0]} ({100 * best[u][1]:.1f}%)" if u in best else f"unit {u}",
                    fontsize=8)
        if len(idx):
            inside.plot_top_stimuli(images, idx, acts, ax=b, ncols=3)
        else:
            b.axis("off")
        fires = f" (fires on {r['fires_on']} of {len(images)})" if "fires_on" in r else ""
        b.set_title(f"top {len(idx)} test images{fires}" if len(idx) else f"fires on no test image{fires}",
                    fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
