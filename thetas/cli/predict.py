"""``thetas predict MODEL IMAGE``: the first and second guess for a picture of a handwritten digit.

    thetas predict lenet.safetensors my_digit.png
"""
import argparse
import json

import numpy as np

from .common import CLIError, add_json, check_fits, check_writable, load_model, positive_int, pyplot

PICTURES = ("mnist", "fashion-mnist", "digits", "digits-1v2")   # the data sets whose models read a picture


def add_parser(subparsers):
    r = subparsers.add_parser("predict", help="first and second guess for a picture of a handwritten digit",
                              description="IMAGE: a PNG or JPEG of one digit, any size, dark on light or light on "
                              "dark; it is cropped, scaled into 20×20 and centred by mass in 28×28, as MNIST was "
                              "made.")
    r.add_argument("model", metavar="MODEL", help="a model saved by thetas train mnist --save PATH")
    r.add_argument("image", metavar="IMAGE", help="a PNG or JPEG of one digit")
    r.add_argument("--top", type=positive_int, default=2, help="how many guesses to print (default 2)")
    r.add_argument("--invert", action=argparse.BooleanOptionalAction, default=None,
                   help="force (or forbid) inverting the image; default: decided from its background")
    r.add_argument("--explain", metavar="OUT.png", help="a PNG of which pixels made the first guess: integrated "
                   "gradients (Sundararajan et al. 2017) drawn over the prepared picture")
    add_json(r)
    r.set_defaults(func=run)
    return r


def run(args):
    """First and second guesses for a picture of a digit, preprocessed as MNIST was made."""
    from ..data.images import load_image, to_mnist
    from ..train import predict
    if args.explain:
        pyplot()                                          # headless, or the CLIError that says to install it
        check_writable("--explain", args.explain)
        if not args.explain.lower().endswith(".png"):
            raise CLIError(f"--explain {args.explain}: give a .png file name (the picture is a PNG)")
    model, user = load_model(args.model)
    if user.get("task") == "autoencoder" or type(model).__name__ == "Autoencoder":
        raise CLIError(f"{args.model} is an autoencoder: it rebuilds pictures, it does not name them; predict needs a "
                       f"classifier (thetas train mnist --save PATH), and thetas inside {args.model} shows which of "
                       "its units detect which digit")
    if user.get("binary_logit") or user.get("task") == "regression":
        raise CLIError(f"{args.model} is not a many-class classifier; predict needs one (e.g. trained on mnist)")
    dataset = str(user.get("dataset") or "mnist")
    if dataset.lower() not in PICTURES:
        raise CLIError(f"{args.model} was trained on {dataset}, not on pictures: predict needs a model trained on "
                       f"{', '.join(PICTURES)} (thetas train mnist --save PATH)")
    try:
        image = to_mnist(load_image(args.image), invert=args.invert)
    except (ValueError, FileNotFoundError, OSError, ImportError) as e:
        raise CLIError(str(e)) from None
    if not image.any():
        raise CLIError(f"no ink found in {args.image}: a blank picture, or noise with no stroke standing out")
    if dataset.startswith("digits"):  # the 8×8 digits: 32×32 bitmaps counted in 4×4 blocks, scaled to [0, 1]
        x = np.pad(image, 2).reshape(8, 4, 8, 4).mean(axis=(1, 3)).reshape(1, 64)
    else:
        x = image.reshape(1, 1, 28, 28)
    x = x.astype(np.float32)
    check_fits(model, x, args.model, f"a picture made like {dataset}'s")
    logits = predict(model, x)[0]
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
    if args.explain:
        result.update(_explain(args.explain, model, x, int(order[0]), guesses[0], float(logits[order[0]])))
        if not args.json:
            print(f"why {guesses[0]['label']}: {args.explain}")
    if args.json:
        print(json.dumps(result))
    return 0


def _explain(path, model, x, target, guess, logit):
    """Integrated gradients of the first guess's logit, from a blank picture to this one (64 steps, the paper's
    Riemann sum), drawn over the picture; returns the JSON's ``explain`` and ``explain_gap`` (completeness:
    |Σ attributions − (F(x) − F(blank))| over |F(x) − F(blank)|)."""
    from ..inside import integrated_gradients, plot_attribution
    plt = pyplot()
    att, gap = integrated_gradients(model, x, target, steps=64, return_gap=True)
    side = int(round(np.sqrt(x[0].size)))
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.6))
    axes[0].imshow(x[0].reshape(side, side), cmap="gray_r", interpolation="nearest")
    axes[0].set_title("what the network sees")
    axes[0].set_xticks([])
    axes[0].set_yticks([])
    plot_attribution(x[0], att[0], ax=axes[1], image_shape=(side, side),
                     title=f"why {guess['label']} ({100 * guess['probability']:.0f} %): red for, blue against")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    from ..train import predict
    change = logit - float(predict(model, np.zeros_like(x))[0, target])     # F(x) − F(blank): what IG splits up
    return {"explain": path, "explain_gap": round(abs(float(gap[0])) / max(abs(change), 1e-12), 6)}
