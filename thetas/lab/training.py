"""Where the Digits page's model comes from: ``--model PATH``, else the cache, else one trained in the background.

The cache is ``$THETAS_CACHE/lab`` (else ``$XDG_CACHE_HOME/thetas/lab``, else ``~/.cache/thetas/lab``). Training
runs in a child process (``python -m thetas.lab.training OUT``) so the server stays responsive and thetas'
process-wide state (grad mode) is never shared between a training loop and a request. The child prints one JSON
line per progress report; the server reads them and the page polls ``/api/digits/status``.

What is trained: LeNet on MNIST for 2 epochs when the MNIST files are on this machine (``THETAS_DATA``, the
cache; never downloaded here), else ``LeNet(image_size=8, kernel_size=3)`` on scikit-learn's embedded 8×8 digits.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CACHE_NAMES = {"mnist": "digits-lenet-mnist.safetensors", "digits": "digits-lenet-8x8.safetensors"}
EPOCHS = {"mnist": 2, "digits": 30}


def child_env():
    """The environment of a training child: one BLAS thread (BLAS threads spin against the server's), and this
    thetas importable."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_child(args, progress, lock):
    """Run ``python -m *args`` in a child process (``child_env``), merge each JSON line it prints into the dict
    ``progress`` (holding ``lock``), and wait for it; a non-zero exit raises RuntimeError with the end of its
    stderr."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.PIPE, stderr=err, text=True,
                                env=child_env())
        for line in proc.stdout:
            try:
                report = json.loads(line)
            except ValueError:
                continue
            with lock:
                progress.update(report)
        rc = proc.wait()
        if rc != 0:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace").strip().splitlines()[-2:]
            raise RuntimeError(f"exit status {rc}" + (f": {' / '.join(tail)}" if tail else ""))


def cache_dir():
    from ..data.mnist import cache_dir as thetas_cache
    return thetas_cache() / "lab"


def mnist_available():
    from ..data.mnist import mnist
    try:
        mnist(train=False, download=False, progress=False)
        return True
    except (FileNotFoundError, ValueError, OSError):
        return False


class DigitsService:
    """The digit model and its state: 'ready', 'training' (with progress) or 'failed' (with the reason)."""

    def __init__(self, model_path=None, cache=None, data="auto", epochs=None, samples=None, autostart=True):
        self.model, self.lock = None, threading.Lock()
        self.state, self.message, self.progress = "starting", "", {}
        self.cache = Path(cache) if cache is not None else cache_dir()
        self.data, self.epochs, self.samples = data, epochs, samples
        self._proc = None
        if model_path is not None:                           # from the command line only: errors end the start
            self._use(model_path)
            return
        for name in ("mnist", "digits"):
            path = self.cache / CACHE_NAMES[name]
            if path.is_file() and data in ("auto", name):
                try:
                    self._use(path)
                    return
                except (ValueError, OSError, KeyError, TypeError):
                    pass                                         # a broken cache file: train a new one
        if autostart:
            self.start_training()

    def _use(self, path):
        from .digits import DigitModel
        model = DigitModel.load(str(path))
        with self.lock:
            self.model, self.state = model, "ready"
            self.message = f"model: {path}"

    def status(self):
        with self.lock:
            out = {"state": self.state, "message": self.message, "progress": dict(self.progress)}
            if self.model is not None:
                out["model"] = self.model.describe()
            return out

    # ------------------------------------------------------------------ background training
    def start_training(self):
        data = self.data if self.data != "auto" else ("mnist" if mnist_available() else "digits")
        self.cache.mkdir(parents=True, exist_ok=True)
        out = self.cache / CACHE_NAMES[data]
        cmd = [sys.executable, "-m", "thetas.lab.training", str(out), "--data", data]
        if self.epochs:
            cmd += ["--epochs", str(int(self.epochs))]
        if self.samples:
            cmd += ["--samples", str(int(self.samples))]
        with self.lock:
            self.state, self.progress = "training", {"data": data, "epoch": 0, "epochs": self.epochs or EPOCHS[data],
                                                     "fraction": 0.0}
            self.message = (f"training LeNet on {'MNIST' if data == 'mnist' else 'the 8×8 digits'} "
                            "in the background (once; then it is cached)")
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=child_env())
        threading.Thread(target=self._follow, args=(self._proc, out), daemon=True, name="thetas-lab-train").start()

    def _follow(self, proc, out):
        for line in proc.stdout:
            try:
                report = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.progress.update(report)
        rc = proc.wait()
        if rc == 0 and out.is_file():
            try:
                self._use(out)
                return
            except (ValueError, OSError, KeyError, TypeError) as e:
                why = str(e)
        else:
            self._stderr.seek(0)
            tail = self._stderr.read().decode("utf-8", "replace").strip().splitlines()[-3:]
            why = f"exit status {rc}" + (f": {' / '.join(tail)}" if tail else "")
        with self.lock:
            self.state, self.message = "failed", f"training the digit model failed ({why})"

    def close(self):
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


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
