"""The lab's background trainings (the digit model, each data set's DKT, AppleWorld's DQN): one class, three uses.

    class TrainedAgent(BackgroundJob):
        what = "the DQN"                                     # "training the DQN failed (...)"
        def load(self, path): return DQN.load(str(path))     # a broken file raises: it is trained again
        def child(self): return ["thetas.lab.apple", str(self.path)], "training a DQN (once; then it is cached)"

    job = TrainedAgent(cache_dir() / "dqn-appleworld-2.safetensors")
    job.start("starting")          # 'idle' -> 'training'; a thread takes it from there
    job.status()                   # {"state", "message", "progress"}: what a page polls

States: 'idle' -> 'training' (``progress``: the child's JSON lines merged into one dict) -> 'ready' (``result``)
or 'failed' (``message`` says why). The thread runs ``prepare()``; then takes the cached file at ``path`` if
``load`` reads it (a broken one, for which ``load`` raises one of ``BROKEN``, is removed and trained again); else
runs ``child()`` as ``python -m ...`` in a child process, which writes ``path``, and loads that; ``finish(result)``
gives the 'ready' message. The child has one BLAS thread: BLAS threads in the server's process spin against the
requests' and train many times slower.

The cache folder is ``$THETAS_CACHE/lab`` (else ``$XDG_CACHE_HOME/thetas/lab``, else ``~/.cache/thetas/lab``).
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BROKEN = (ValueError, OSError, KeyError, TypeError, AttributeError)     # what loading a damaged file raises
MAX_TRAININGS = 2       # training children at once (a laptop's 2 cores); the others wait their turn, first come first


class _Queue:
    """The turns of the training children: at most ``MAX_TRAININGS`` run, the others wait in order and their page
    shows their place ("waiting: 2 trainings ahead")."""

    def __init__(self):
        self.cond, self.running, self.waiting = threading.Condition(), 0, []

    def acquire(self, job):
        with self.cond:
            self.waiting.append(job)
            try:
                while not job._closed and not (self.running < MAX_TRAININGS and self.waiting[0] is job):
                    ahead = self.waiting.index(job) + self.running - MAX_TRAININGS + 1
                    with job.lock:
                        job.message = f"waiting for its turn: {max(ahead, 1)} training(s) ahead (at most " \
                                      f"{MAX_TRAININGS} run at once)"
                        job.progress["queued"] = max(ahead, 1)
                    self.cond.wait(0.5)
            finally:
                self.waiting.remove(job)
                self.cond.notify_all()
            if job._closed:
                raise RuntimeError("the training was cancelled (the lab is shutting down, or its data set made room "
                                   "for newer ones)")
            self.running += 1
            with job.lock:
                job.progress.pop("queued", None)

    def release(self):
        with self.cond:
            self.running -= 1
            self.cond.notify_all()


TRAININGS = _Queue()


def cache_dir():
    """The lab's cache folder (trained models, loaded students' files)."""
    from ..data.mnist import cache_dir as thetas_cache
    return thetas_cache() / "lab"


def child_env():
    """The environment of a training child: one BLAS thread, and this thetas importable."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


class BackgroundJob:
    """A model made once in the background and cached at ``path``. Subclasses define ``load(path)`` and
    ``child()``, and may define ``prepare()`` and ``finish(result)``. ``lock`` guards the state (pass a shared
    one to read several jobs' states together)."""

    what = "the model"           # named in the failure message

    def __init__(self, path=None, lock=None):
        self.path = None if path is None else Path(path)
        self.lock = lock if lock is not None else threading.Lock()
        self.state, self.message, self.progress = "idle", "", {}
        self.result = None
        self.seconds = None      # how long the child took, when this job trained
        self._proc, self._closed, self._thread = None, False, None

    # ------------------------------------------------------------------ what a subclass says
    def load(self, path):
        """The model stored at ``path``; raises one of ``BROKEN`` for a file it cannot use."""
        raise NotImplementedError

    def child(self):
        """``(args, message)``: the module and arguments of ``python -m`` that train and write ``self.path``, and
        the message shown while it runs."""
        raise NotImplementedError

    def prepare(self):
        """Work before the cache is looked at (in the job's thread)."""

    def finish(self, result):
        """Work once the model is there (in the job's thread); returns the 'ready' message."""
        return f"{self.what}: {self.path}"

    # ------------------------------------------------------------------ the state
    def status(self):
        with self.lock:
            return {"state": self.state, "message": self.message, "progress": dict(self.progress)}

    def start(self, message="", progress=None, retry=False):
        """Start loading or training in a thread: from 'idle' (and, with ``retry``, from 'failed'); returns whether
        it started. ``message`` and ``progress`` are what the page shows until the thread reports."""
        with self.lock:
            if not (self.state == "idle" or (retry and self.state == "failed")):
                return False
            self.state, self.message = "training", message
            self.progress = dict(progress) if progress is not None else {"fraction": 0.0}
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"thetas-lab-{type(self).__name__}")
        self._thread.start()
        return True

    def wait(self, timeout=None):
        """Block until the job's thread has finished (or ``timeout`` seconds have passed); returns ``status()``."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.status()

    def use(self, result, message):
        """Ready now, with ``result`` (a model loaded without the thread)."""
        with self.lock:
            self.result, self.state, self.message = result, "ready", message

    def cached(self):
        """``load(path)`` of the cached file, or None when there is none; a broken one is removed."""
        if self.path is None or not self.path.is_file():
            return None
        try:
            return self.load(self.path)
        except BROKEN:
            self.path.unlink(missing_ok=True)
            return None

    def _run(self):
        try:
            self.prepare()
            result = self.cached()
            if result is None:
                args, message = self.child()
                with self.lock:
                    self.message = message
                t0 = time.perf_counter()
                self.run_child(args)
                self.seconds = round(time.perf_counter() - t0, 1)
                result = self.load(self.path)
            message = self.finish(result)
            with self.lock:
                self.result, self.state, self.message = result, "ready", message
                self.progress["fraction"] = 1.0
        except Exception as e:                                   # noqa: BLE001 - shown on the page
            with self.lock:
                self.state, self.message = "failed", f"training {self.what} failed ({type(e).__name__}: {e})"

    # ------------------------------------------------------------------ the child process
    def run_child(self, args):
        """When its turn comes (``TRAININGS``), run ``python -m *args`` (``child_env``), merge each JSON line it
        prints into ``progress``, and wait; a non-zero exit raises RuntimeError with the end of its stderr, and so
        does a child that wrote no ``path``."""
        TRAININGS.acquire(self)                    # a turn: at most MAX_TRAININGS children at once
        try:
            self._run_child(args)
        finally:
            TRAININGS.release()
        if not self.path.is_file():
            raise RuntimeError(f"the training process wrote no model to {self.path}")

    def _run_child(self, args):
        with tempfile.TemporaryFile() as err:
            with self.lock:
                if self._closed:
                    raise RuntimeError("the lab is shutting down")
                self._proc = proc = subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.PIPE,
                                                     stderr=err, text=True, env=child_env())
            for line in proc.stdout:
                try:
                    report = json.loads(line)
                except ValueError:
                    continue
                with self.lock:
                    self.progress.update(report)
            rc = proc.wait()
            if rc != 0:
                err.seek(0)
                tail = err.read().decode("utf-8", "replace").strip().splitlines()[-3:]
                raise RuntimeError(f"exit status {rc}" + (f": {' / '.join(tail)}" if tail else ""))

    def close(self):
        """Stop the child process, if one runs, and start no other (the server is shutting down)."""
        with self.lock:
            self._closed, proc = True, self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
