"""Dropout against overfitting: train vs test curves of one MLP on 1,000 MNIST digits, with and without dropout.

A 784-512-512-10 MLP has 670,000 thetas; 1,000 training images cannot pin them down. Trained plainly it
memorises them: 100 % of the training images right after ~7 epochs, while the test accuracy stops at ~89 %.
The test loss tells the same story sooner: it is lowest around epoch 5 and then climbs back up (0.39 -> 0.52)
while the training loss goes on to 0; the network grows more and more sure of its answers, wrong ones included.
That widening distance between the two curves is overfitting: what the model learns stops being general.

Dropout silences each unit with probability p at every training step (a fresh random half of the network
per batch, for p = 0.5), so no unit can count on another one being there: each has to be useful on its
own. Here it drops the hidden units with p (``MLP(dropout=p)``) and the pixels with ``--input-dropout`` (same
p unless given). Same network, same initial thetas, same batches, same optimizer; the default run gives

                       train acc   test acc   gap    test loss: min (epoch) -> final
    no dropout           100.0 %     89.2 %   10.8              0.391 (5)   -> 0.519
    dropout 0.5          100.0 %     91.5 %    8.5              0.286 (29)  -> 0.295

The dropout net still fits its training set (its train accuracy is measured with dropout off, as at test
time) but the train-test gap shrinks by ~2 points (1.4-2.3 over seeds 0-2) and its test loss no longer turns
back up. With dropout on the hidden units alone (``--input-dropout 0``) the gap shrinks by only 1.1 points and
the test loss still climbs (0.37 -> 0.46): on so few images, noise on the pixels is much of the help.
The learning rate follows a cosine down to 0 so that the last epoch's numbers are settled ones (at a constant
rate, dropout's noise moves the test accuracy by a point or two from one epoch to the next).

    THETAS_DATA=DIR python examples/overfitting_dropout.py [--samples 1000] [--dropout 0.5] [--plot curves.png] [--json]

MNIST's four IDX files must be in DIR/mnist (or DIR); see ``th.data.mnist``. About 15 s on 2 CPU cores.
"""
import argparse
import json
import sys
import time

import numpy as np

import thetas as th

HIDDEN = (512, 512)


def load(samples, test_samples):
    """The first ``samples`` training and ``test_samples`` test images as float32 (N, 784) in [0, 1], int64
    labels; exits with a message naming THETAS_DATA when the MNIST files are nowhere to be found."""
    try:
        (X, y), (Xt, yt) = th.data.mnist(download=False)
    except FileNotFoundError as e:
        sys.exit(f"overfitting_dropout: MNIST not found. Set THETAS_DATA=DIR with the four IDX files "
                 f"(train-images-idx3-ubyte.gz, ...) in DIR/mnist or DIR.\n{e}")

    def prepare(images, labels, n):
        images, labels = images[:n], labels[:n]
        return images.reshape(len(images), -1).astype(np.float32) / 255, labels.astype(np.int64)  # (N, 784)
    return prepare(X, y, samples), prepare(Xt, yt, test_samples)


class TrainSetMetrics(th.train.Callback):
    """After every epoch, loss and accuracy on the whole training set in eval mode (dropout off), measured as the
    test set is. ``fit``'s own ``loss``/``accuracy`` average the epoch's batches with dropout on and so
    understate how well a dropout net fits its training set."""

    def __init__(self, X, y):
        self.data, self.loss, self.accuracy = (X, y), [], []

    def on_epoch_end(self, epoch, logs):
        result = th.evaluate(self.trainer.model, "cross_entropy", self.data)
        self.loss.append(result["loss"])
        self.accuracy.append(result["accuracy"])


def train(train_set, test_set, dropout=0.0, input_dropout=0.0, epochs=50, seed=0, batch_size=32, lr=1e-3):
    """One run: MLP 784-512-512-10 with dropout ``input_dropout`` on the pixels and ``dropout`` after each hidden
    ReLU. Returns the curves, one value per epoch: train ``loss``/``accuracy`` (eval mode) and test
    ``val_loss``/``val_accuracy``."""
    rng = np.random.default_rng(seed)  # the same seed gives the same initial thetas whatever the dropout
    model = th.nn.Sequential(th.nn.Dropout(input_dropout, generator=rng),
                             th.models.MLP([784, *HIDDEN, 10], dropout=dropout, generator=rng))
    optimizer = th.optim.Adam(model.parameters(), lr=lr)
    loader = th.data.DataLoader(train_set, batch_size=batch_size, shuffle=True, seed=seed)
    clean = TrainSetMetrics(*train_set)
    history = th.fit(model, "cross_entropy", optimizer, loader, val_loader=test_set, epochs=epochs,
                     callbacks=[clean], verbose=False, scheduler=th.optim.CosineAnnealingLR(optimizer, epochs))
    return {"loss": clean.loss, "accuracy": clean.accuracy,
            "val_loss": history.history["val_loss"], "val_accuracy": history.history["val_accuracy"]}


def summarize(curves):
    """The last epoch's numbers, the train - test gap, and where the test loss bottomed out."""
    best = int(np.argmin(curves["val_loss"]))
    train_acc, test_acc = curves["accuracy"][-1], curves["val_accuracy"][-1]
    return {"train_accuracy": train_acc, "test_accuracy": test_acc, "gap": train_acc - test_acc,
            "train_loss": curves["loss"][-1], "test_loss": curves["val_loss"][-1],
            "loss_gap": curves["val_loss"][-1] - curves["loss"][-1],
            "min_test_loss": curves["val_loss"][best], "min_test_loss_epoch": best + 1,
            "test_loss_rise": curves["val_loss"][-1] - curves["val_loss"][best]}


def run(samples=1000, test_samples=10000, dropout=0.5, input_dropout=None, epochs=50, seed=0, batch_size=32,
        lr=1e-3):
    """Both runs on the same data: {"no_dropout": summary, "dropout": summary, "gap_reduction": ...,
    "curves": {"no_dropout": curves, "dropout": curves}}."""
    input_dropout = dropout if input_dropout is None else input_dropout
    train_set, test_set = load(samples, test_samples)
    start = time.perf_counter()
    curves = {name: train(train_set, test_set, p, p_in, epochs, seed, batch_size, lr)
              for name, p, p_in in (("no_dropout", 0.0, 0.0), ("dropout", dropout, input_dropout))}
    plain, dropped = summarize(curves["no_dropout"]), summarize(curves["dropout"])
    dropped.update(p=dropout, input_p=input_dropout)
    return {"samples": len(train_set[1]), "test_samples": len(test_set[1]), "epochs": epochs, "seed": seed,
            "no_dropout": plain, "dropout": dropped, "gap_reduction": plain["gap"] - dropped["gap"],
            "gap_reduction_relative": (plain["gap"] - dropped["gap"]) / plain["gap"] if plain["gap"] else 0.0,
            "seconds": time.perf_counter() - start, "curves": curves}


def plot(result, path):
    """Train (solid) vs test (dashed) accuracy and loss per epoch, the run without dropout on the left."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharex=True, sharey="row")
    titles = {"no_dropout": "no dropout", "dropout": f"dropout {result['dropout']['p']:g} "
              f"(pixels {result['dropout']['input_p']:g})"}
    for column, name in enumerate(("no_dropout", "dropout")):
        summary = result[name]
        for row, key in enumerate(("accuracy", "loss")):
            ax = th.viz.plot_history(result["curves"][name], keys=[key, f"val_{key}"], ax=axes[row, column])
            for line, label in zip(ax.get_lines(), ("train", "test")):
                line.set_label(f"{label} {key}")
            ax.legend()
        axes[0, column].set_title(f"{titles[name]}\ntrain {summary['train_accuracy']:.1%}, "
                                  f"test {summary['test_accuracy']:.1%}, gap {100 * summary['gap']:.1f} points")
        axes[0, column].set_xlabel("")
        axes[1, column].axvline(summary["min_test_loss_epoch"], color="gray", linewidth=0.8, linestyle=":")
    fig.suptitle(f"MLP 784-{'-'.join(map(str, HIDDEN))}-10 on {result['samples']} MNIST digits, "
                 f"tested on {result['test_samples']}")
    fig.tight_layout()
    th.viz.savefig(fig, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="training images (the first N of MNIST's 60,000)")
    parser.add_argument("--test-samples", type=int, default=10000, help="test images (the first N of 10,000)")
    parser.add_argument("--dropout", type=float, default=0.5, help="dropout probability of the hidden units")
    parser.add_argument("--input-dropout", type=float, help="dropout probability of the pixels (default: --dropout)")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0, help="initial thetas, batch order and dropout masks")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's initial learning rate (cosine down to 0)")
    parser.add_argument("--plot", help="write the train vs test curves of both runs to this PNG")
    parser.add_argument("--json", action="store_true", help="print the final metrics as one JSON object, last")
    args = parser.parse_args()

    result = run(args.samples, args.test_samples, args.dropout, args.input_dropout, args.epochs, args.seed,
                 args.batch_size, args.lr)
    plain, dropped = result["no_dropout"], result["dropout"]
    print(f"{result['samples']} training images, {result['test_samples']} test images, MLP 784-"
          f"{'-'.join(map(str, HIDDEN))}-10, Adam lr {args.lr:g} (cosine to 0), {args.epochs} epochs")
    print(f"{'':24s} train acc   test acc    gap   test loss: min (epoch) -> final")
    for name, s in (("no dropout", plain), (f"dropout {dropped['p']:g} (pixels {dropped['input_p']:g})", dropped)):
        print(f"{name:24s} {s['train_accuracy']:8.1%}   {s['test_accuracy']:7.1%}   {100 * s['gap']:5.1f}"
              f"              {s['min_test_loss']:.3f} ({s['min_test_loss_epoch']}) -> {s['test_loss']:.3f}")
    print(f"dropout shrinks the train-test gap by {100 * result['gap_reduction']:.1f} points "
          f"({result['gap_reduction_relative']:.0%}) in {result['seconds']:.1f} s")
    if args.plot:
        plot(result, args.plot)
        print("wrote", args.plot)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "curves"}))


if __name__ == "__main__":
    main()
