"""Where the Digits page's model comes from: ``--model PATH``, else the cache, else one trained in the background.

The cache is the lab's (``jobs.cache_dir``). Training runs in a child process (``python -m thetas.lab.training
OUT``, through ``jobs.BackgroundJob``) so the server stays responsive; the child prints one JSON line per progress
report and the page polls ``/api/digits/status``.

What is trained: LeNet on MNIST for 2 epochs when the MNIST files are on this machine (``THETAS_DATA``, the
cache; never downloaded here), else ``LeNet(image_size=8, kernel_size=3)`` on scikit-learn's embedded 8×8 digits.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

from .jobs import BackgroundJob, cache_dir

CACHE_NAMES = {"mnist": "digits-lenet-mnist.safetensors", "digits": "digits-lenet-8x8.safetensors"}
EPOCHS = {"mnist": 2, "digits": 30}


def mnist_available():
    from ..data.mnist import mnist
    try:
        mnist(train=False, download=False, progress=False)
        return True
    except (FileNotFoundError, ValueError, OSError):
        return False


class DigitsService(BackgroundJob):
    """The digit model (``model``, a ``digits.DigitModel``): given, cached, or trained by ``start_training()``."""

    what = "the digit model"

    def __init__(self, model_path=None, cache=None, data="auto", epochs=None, samples=None, autostart=True):
        super().__init__()
        self.cache = Path(cache) if cache is not None else cache_dir()
        self.data, self.epochs, self.samples = data, epochs, samples
        self.data_used = None                                # 'mnist' or 'digits', once training starts
        if model_path is not None:                           # from the command line only: errors end the start
            self.use(self.load(model_path), f"model: {model_path}")
            return
        for name in ("mnist", "digits"):
            if data in ("auto", name):
                self.path = self.cache / CACHE_NAMES[name]
                model = self.cached()                        # a broken cache file: train a new one
                if model is not None:
                    self.use(model, f"model: {self.path}")
                    return
        if autostart:
            self.start_training()

    @property
    def model(self):
        return self.result

    def load(self, path):
        from .digits import DigitModel
        return DigitModel.load(str(path))

    def status(self, payload=None):
        out = super().status()
        if self.model is not None:
            out["model"] = self.model.describe()
        return out

    def start_training(self):
        self.data_used = self.data if self.data != "auto" else ("mnist" if mnist_available() else "digits")
        self.path = self.cache / CACHE_NAMES[self.data_used]
        self.start(self._message(), {"data": self.data_used, "epoch": 0, "fraction": 0.0,
                                     "epochs": self.epochs or EPOCHS[self.data_used]})

    def _message(self):
        what = "MNIST" if self.data_used == "mnist" else "the 8×8 digits"
        return f"training LeNet on {what} in the background (once; then it is cached)"

    def child(self):
        self.cache.mkdir(parents=True, exist_ok=True)
        args = ["thetas.lab.training", str(self.path), "--data", self.data_used]
        if self.epochs:
            args += ["--epochs", str(int(self.epochs))]
        if self.samples:
            args += ["--samples", str(int(self.samples))]
        return args, self._message()

    def finish(self, model):
        return f"model: {self.path}"


# ---------------------------------------------------------------------- the child process
def _report(**kv):
    print(json.dumps(kv), flush=True)


def train(out, data, epochs=None, samples=None, seed=0):
    """Train LeNet on ``data`` ('mnist' or 'digits') and save it to ``out`` with the metadata ``thetas train``
    writes; progress as JSON lines on stdout."""
    import thetas as th
    from ..train.callbacks import Callback
    epochs = int(epochs or EPOCHS[data])
    parent = os.getppid()
    task = th.data.load(data, seed=seed, n_samples=samples if data == "mnist" else None)
    if data == "digits" and samples:
        task.train.X, task.train.y = task.train.X[:samples], task.train.y[:samples]
    if data == "mnist":
        model = th.models.LeNet(generator=seed)
        opt, batch = th.optim.Adam(model.parameters(), lr=2e-3), 64
    else:
        model = th.models.LeNet(image_size=8, kernel_size=3, generator=seed)
        opt, batch = th.optim.Adam(model.parameters(), lr=2e-3), 32
    loader = th.data.DataLoader(task.train, batch_size=batch, shuffle=True, seed=seed)
    batches = len(loader)

    class Progress(Callback):
        def __init__(self):
            self.last = 0.0

        def on_batch_end(self, batch, logs):
            if os.getppid() != parent:                         # the server is gone: stop
                sys.exit(3)
            now = time.monotonic()
            if now - self.last > 0.25 or batch + 1 == batches:
                self.last = now
                e = self.trainer.epoch
                _report(epoch=e + 1, epochs=epochs, batch=batch + 1, batches=batches, loss=round(logs["loss"], 5),
                        fraction=round((e + (batch + 1) / batches) / epochs, 4))

        def on_epoch_end(self, epoch, logs):
            _report(epoch=epoch + 1, epochs=epochs, test_accuracy=round(logs.get("val_accuracy", 0.0), 4))

    _report(stage="training", data=data, train=len(task.train), test=len(task.test), epochs=epochs)
    th.fit(model, "cross_entropy", opt, loader, val_loader=(task.test.X, task.test.y), epochs=epochs,
           metrics=("accuracy",), callbacks=[Progress()], verbose=False)
    accuracy = th.evaluate(model, "cross_entropy", (task.test.X, task.test.y))["accuracy"]
    meta = {"dataset": data, "seed": seed, "loss": "cross_entropy", "binary_logit": False, "task": "classification",
            "num_classes": 10, "classes": [str(c) for c in task.classes], "test_accuracy": round(accuracy, 4),
            "trained_by": "thetas lab"}
    th.save(model, out, metadata=meta)
    _report(done=True, test_accuracy=round(accuracy, 4), fraction=1.0)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m thetas.lab.training", description="train the lab's digit model")
    p.add_argument("out")
    p.add_argument("--data", choices=("mnist", "digits"), required=True)
    p.add_argument("--epochs", type=int)
    p.add_argument("--samples", type=int, help="only the first N training images (a quick run)")
    args = p.parse_args(argv)
    from .._runtime import set_num_threads
    set_num_threads(1)
    train(args.out, args.data, args.epochs, args.samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
