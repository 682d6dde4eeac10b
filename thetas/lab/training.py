"""Where the Digits page's model comes from: ``--model PATH``, else the cache, else one trained in the background.

The cache is the lab's (``jobs.cache_dir``). Training runs in a child process (``python -m thetas.lab.training
OUT``, through ``jobs.BackgroundJob``) so the server stays responsive; the child prints one JSON line per progress
report and the page polls ``/api/digits/status``.

What is trained: LeNet on MNIST for 2 epochs when the MNIST files are on this machine (``THETAS_DATA``, the
cache; never downloaded here), else ``LeNet(image_size=8, kernel_size=3)`` on scikit-learn's embedded 8×8 digits.

"Watch it learn" (ConvNetJS's MNIST demo): ``LiveTraining``, one per client, trains a LeNet from fresh thetas on the
same data in a child process too (``python -m thetas.lab.training OUT --live STEPS --alive FILE``, ``train_live``).
It minimises the loss, −LL(θ) / n (cross-entropy) on batches of 64, and reports every ``CHUNK`` steps the loss
curve, and every few steps the test accuracy on ``LIVE_TEST`` held-out test images and the first layer's filters;
the page polls ``/api/digits/live``. It is bounded: ``LIVE_STEPS`` steps at most, ``LIVE_RUNNING`` at once, and
the child stops by itself when its page stops polling for ``LIVE_IDLE`` seconds (or the server is gone).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path

from .jobs import BackgroundJob, cache_dir
from .schema import LabError, choice, invalid, number
from .sessions import client

CACHE_NAMES = {"mnist": "digits-lenet-mnist.safetensors", "digits": "digits-lenet-8x8.safetensors"}
EPOCHS = {"mnist": 2, "digits": 30}
DATA_NAMES = {"mnist": "MNIST", "digits": "scikit-learn's 8×8 digits"}
BATCH = {"mnist": 64, "digits": 32}      # images a step, in the background training and in "watch it learn"

LIVE_STEPS = 3000        # at most this many steps in one live training (3 epochs of MNIST in batches of 64)
LIVE_MIN_STEPS = 20      # at least this many
LIVE_RUNNING = 2         # live trainings on the server at once (child processes; they queue with the others)
LIVE_KEPT = 8            # clients whose live training is kept (a finished one's model): the oldest goes first
LIVE_IDLE = 30           # seconds without a poll from its page: the child stops by itself
LIVE_TEST = 1000         # held-out test images the live test accuracy is measured on
CHUNK = 10               # steps between two progress reports of a live training


def mnist_available():
    from ..data.mnist import mnist
    try:
        mnist(train=False, download=False, progress=False)
        return True
    except (FileNotFoundError, ValueError, OSError):
        return False


class DigitsService(BackgroundJob):
    """The digit model (``model``, a ``digits.DigitModel``): given, cached, or trained by ``start_training()``; and
    each client's "watch it learn" (``live_start``, ``live_status``, ``live_stop``, ``live_model``: a
    ``LiveTraining`` per client, at most ``LIVE_KEPT`` kept and ``LIVE_RUNNING`` running)."""

    what = "the digit model"

    def __init__(self, model_path=None, cache=None, data="auto", epochs=None, samples=None, autostart=True):
        super().__init__()
        self._live, self._live_lock = OrderedDict(), threading.Lock()    # client -> LiveTraining, oldest first
        self._mnist = None                                   # are MNIST's files here? (asked once)
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

    # ------------------------------------------------------------------ "watch it learn", one per client
    def _live_job(self):
        with self._live_lock:
            job = self._live.get(client())
            if job is not None:
                self._live.move_to_end(client())
            return job

    def live_data(self):
        """What a live training uses here: 'mnist' when its files are on this machine, else 'digits'."""
        if self._mnist is None:
            self._mnist = mnist_available()
        return "mnist" if self._mnist else "digits"

    def live_status(self, payload=None):
        """This client's live training: ``{"state": "none"|"training"|"ready"|"failed", "message", "progress",
        "data"}``, with ``model`` (its description) once ready. Each poll tells the child its page is still there."""
        job = self._live_job()
        if job is None:
            data = self.live_data()
            return {"state": "none", "message": f"press Start to train a LeNet from fresh thetas on "
                    f"{DATA_NAMES[data]}", "progress": {}, "data": data, "max_steps": LIVE_STEPS}
        job.poll()
        out = {**job.status(), "data": job.data, "steps": job.steps, "max_steps": LIVE_STEPS}
        if job.model is not None:
            out["model"] = job.model.describe()
        return out

    def live_start(self, payload):
        """Start this client's live training (``{"steps", "data"}``); refused while its last one still runs and
        when ``LIVE_RUNNING`` others do."""
        steps = number(payload, "steps", LIVE_MIN_STEPS, LIVE_STEPS, integer=True)
        data = choice(payload, "data", ("auto", "mnist", "digits"), "auto")
        here = self.live_data()
        if data == "auto":
            data = here
        elif data == "mnist" and here != "mnist":
            raise invalid("'data': MNIST is not on this machine (put its files in THETAS_DATA); use 'digits'")
        jobs, me = self._live, client()
        with self._live_lock:
            mine = jobs.get(me)
            if mine is not None and mine.running:
                raise LabError(409, "your live training is still running: stop it first")
            if sum(j.running for j in jobs.values()) >= LIVE_RUNNING:
                raise LabError(429, f"{LIVE_RUNNING} live trainings are running already (at most {LIVE_RUNNING} "
                                    "at once on this server): try again when one has finished")
            if mine is not None:
                del jobs[me]
            while len(jobs) >= LIVE_KEPT:       # room at the expense of the longest unused that has finished
                jobs.pop(next(k for k, j in jobs.items() if not j.running)).close()
            jobs[me] = job = LiveTraining(data, steps)
        if mine is not None:
            mine.close()
        job.start(job.message_text, {"data": data, "step": 0, "steps": steps, "fraction": 0.0})
        return self.live_status()

    def live_stop(self, payload=None):
        """Stop this client's live training after its current step; the child saves the model it has so far."""
        job = self._live_job()
        if job is not None:
            job.stop()
        return self.live_status()

    def live_model(self):
        """This client's live model (a ``digits.DigitModel``), or LabError 409 while there is none."""
        job = self._live_job()
        if job is None or job.model is None:
            raise LabError(409, "no live model yet: press Start under \"Watch it learn\" and let it finish "
                                "(or stop it)")
        return job.model

    def close(self):
        super().close()
        with self._live_lock:
            jobs = list(self._live.values())
        for job in jobs:
            job.close()


class LiveTraining(BackgroundJob):
    """One client's "watch it learn": a LeNet trained from fresh thetas in a child process (``train_live``) that
    reports as it goes (``progress``: the loss curve, the test accuracy, every conv layer's filters) and saves the
    model when it ends; ``model`` is then that model (a ``digits.DigitModel``).

    The child stops after ``steps``, or as soon as the file ``alive`` is gone (``stop()``: Stop was pressed) or has
    not been touched for ``LIVE_IDLE`` seconds (``poll()`` touches it: the page polls while it shows the run); it
    also stops when the server is gone. The temporary folder goes when the thread ends."""

    what = "the live LeNet"

    def __init__(self, data, steps):
        self.folder = Path(tempfile.mkdtemp(prefix="thetas-live-"))
        super().__init__(self.folder / "live-lenet.safetensors")
        self.alive = self.folder / "alive"
        self.alive.touch()
        self.data, self.steps = data, int(steps)
        self.message_text = (f"training a LeNet from fresh thetas on {DATA_NAMES[data]}: {self.steps} steps of "
                             f"{BATCH[data]} images")

    @property
    def model(self):
        return self.result

    @property
    def running(self):
        return self.status()["state"] == "training"

    def load(self, path):
        from ..io import load, load_metadata
        from .digits import DigitModel
        return DigitModel(load(str(path)), load_metadata(str(path)), source="watch it learn")

    def child(self):
        return (["thetas.lab.training", str(self.path), "--data", self.data, "--live", str(self.steps),
                 "--alive", str(self.alive)], self.message_text)

    def finish(self, model):
        p = self.status()["progress"]
        how = "stopped" if p.get("ended") in ("stopped", "idle") else "done"
        return (f"{how} after {p.get('step', 0)} steps: test accuracy {100 * (model.accuracy or 0):.1f} % on "
                f"{p.get('test', LIVE_TEST):,} held-out test images")

    def poll(self):
        """Its page is still there: the child goes on."""
        try:
            os.utime(self.alive)
        except OSError:                                     # stopped, or the run is over
            pass

    def stop(self):
        """Stop after the current step; the child saves what it has."""
        self.alive.unlink(missing_ok=True)

    def close(self):
        self.stop()
        super().close()
        if self._thread is None or not self._thread.is_alive():
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self):
        try:
            super()._run()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


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
    model, batch = lenet(data, seed), BATCH[data]
    opt = th.optim.Adam(model.parameters(), lr=2e-3)
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


def lenet(data, seed):
    """The LeNet the lab trains on ``data``, fresh thetas from ``seed``: 28×28 on MNIST, the 8×8 one with 3×3
    kernels on scikit-learn's digits."""
    import thetas as th
    if data == "mnist":
        return th.models.LeNet(generator=seed)
    return th.models.LeNet(image_size=8, kernel_size=3, generator=seed)


def _live_data(data, seed):
    """(train set, held-out test (X, y), the fresh LeNet, batch size) of a live training on ``data``."""
    import thetas as th
    task = th.data.load(data, seed=seed)
    X, y = task.test.X[:LIVE_TEST], task.test.y[:LIVE_TEST]
    if data != "mnist":
        task.train.X, X = task.train.X.astype("float32"), X.astype("float32")
    return task.train, (X, y), lenet(data, seed), BATCH[data], task.classes


def train_live(out, data, steps, alive, seed=0, idle=LIVE_IDLE):
    """ "Watch it learn": a LeNet from fresh thetas, trained by ``th.fit`` (Adam, batches of 64 on MNIST) for
    ``steps`` steps, then saved to ``out``. Progress as JSON lines on stdout: every ``CHUNK`` steps the loss curve
    (the mean loss, −LL(θ) / n, of the last steps), and at step 0, every ``every`` steps and at the end the test
    accuracy on ``LIVE_TEST`` held-out test images and every conv layer's filters (its shared weights). Stops early,
    and still saves, when the file ``alive`` is gone or untouched for ``idle`` seconds; exits when the server is."""
    import thetas as th
    from ..train.callbacks import Callback
    from .digits import conv_filters
    parent = os.getppid()
    train_set, test, model, batch, classes = _live_data(data, seed)
    loader = th.data.DataLoader(train_set, batch_size=batch, shuffle=True, seed=seed)
    every = max(LIVE_MIN_STEPS, steps // 30)                 # about 30 test accuracies in a run

    def wanted():
        """None while the page wants the run, else why it ends ('stopped' by the student, 'idle': the page left)."""
        if os.getppid() != parent:                           # the server is gone: stop now, save nothing
            sys.exit(3)
        try:
            return "idle" if time.time() - os.stat(alive).st_mtime > idle else None
        except FileNotFoundError:
            return "stopped"

    class Live(Callback):
        def __init__(self):
            self.step, self.ended = 0, "done"
            self.curve, self.tests = {"step": [], "loss": []}, {"step": [], "accuracy": [], "loss": []}
            self.chunk = [0.0, 0]                            # the loss summed over the steps since the last report

        def test(self):
            """The test accuracy and loss now, on the held-out images; with the filters as they are now."""
            r = th.evaluate(model, "cross_entropy", test)
            self.tests["step"].append(self.step)
            self.tests["accuracy"].append(round(r["accuracy"], 4))
            self.tests["loss"].append(round(r["loss"], 4))
            return {"tests": self.tests, "test_accuracy": round(r["accuracy"], 4), "filters": conv_filters(model)}

        def on_train_begin(self, logs):
            _report(step=0, steps=steps, fraction=0.0, every=every, **self.test())

        def on_batch_end(self, batch, logs):
            self.step += 1
            self.chunk = [self.chunk[0] + logs["batch_loss"] * logs["size"], self.chunk[1] + logs["size"]]
            ended = "done" if self.step >= steps else wanted()
            report = {}
            if self.step % CHUNK == 0 or ended:
                self.curve["step"].append(self.step)
                self.curve["loss"].append(round(self.chunk[0] / self.chunk[1], 4))
                self.chunk = [0.0, 0]
                report.update(step=self.step, fraction=round(self.step / steps, 4), curve=self.curve)
            if self.step % every == 0 or ended:
                report.update(self.test())
            if report:
                _report(**report)
            if ended:
                self.ended = ended
                self.trainer.stop(ended)

    live = Live()
    _report(stage="training", data=data, train=len(train_set), test=len(test[1]), batch=batch, steps=steps)
    ended = wanted()
    if ended is None:
        th.fit(model, "cross_entropy", th.optim.Adam(model.parameters(), lr=2e-3), loader, metrics=(),
               epochs=-(-steps // len(loader)), callbacks=[live], verbose=False)
    else:                                                   # over before it began: the fresh thetas
        live.ended = ended
        _report(step=0, steps=steps, every=every, **live.test())
    accuracy = live.tests["accuracy"][-1]
    meta = {"dataset": data, "seed": seed, "loss": "cross_entropy", "binary_logit": False, "task": "classification",
            "num_classes": 10, "classes": [str(c) for c in classes], "test_accuracy": accuracy,
            "test_images": len(test[1]), "steps": live.step, "trained_by": "thetas lab: watch it learn"}
    th.save(model, out, metadata=meta)
    _report(ended=live.ended, step=live.step, test_accuracy=accuracy, fraction=1.0)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m thetas.lab.training", description="train the lab's digit model")
    p.add_argument("out")
    p.add_argument("--data", choices=("mnist", "digits"), required=True)
    p.add_argument("--epochs", type=int)
    p.add_argument("--samples", type=int, help="only the first N training images (a quick run)")
    p.add_argument("--live", type=int, metavar="STEPS", help="watch it learn: this many steps, reported as it goes")
    p.add_argument("--alive", help="with --live: stop when this file is removed or left untouched")
    args = p.parse_args(argv)
    from .._runtime import set_num_threads
    set_num_threads(1)
    if args.live:
        if not args.alive:
            p.error("--live needs --alive FILE")
        train_live(args.out, args.data, args.live, args.alive)
    else:
        train(args.out, args.data, args.epochs, args.samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
