"""Training that resumes: ``th.fit(..., checkpoint=, resume=)`` and ``thetas train --checkpoint / --resume``.

A run stopped after epoch k and resumed from its checkpoint must end with the same bits as a run never stopped:
weights, optimizer state (SGD momentum, Adam's moments and step), schedule, History, and every random state
(the loader's shuffling, Dropout's masks, thetas' global generator). One BLAS thread: sums in a fixed order.
"""
import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import thetas as th
from thetas.cli import build_parser, main
from thetas.data import DataLoader
from thetas.train import Callback, CheckpointError, EarlyStopping, TrainingInterrupted

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1, user_api="blas"):   # restores the process's limits afterwards
        yield


def _data(shift=0.0):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((120, 6)).astype(np.float32) + np.float32(shift)
    y = (X[:, 0] + X[:, 1] > 2 * shift).astype(np.int64)
    return X, y


def _run(kind, data=None, hidden=16):
    """A fresh model, optimizer, schedule, shuffled loader and callbacks, built the same way every time."""
    X, y = _data() if data is None else data
    if kind == "sgd":   # Dropout without a generator: thetas' global generator draws its masks
        model = th.nn.Sequential(th.nn.Linear(6, hidden, generator=0), th.nn.ReLU(), th.nn.Dropout(0.3),
                                 th.nn.Linear(hidden, 2, generator=1))
        opt = th.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        sched = th.optim.StepLR(opt, step_size=2, gamma=0.5)
    else:               # an MLP whose Dropout layers share the MLP's own generator
        model = th.models.MLP([6, hidden, hidden, 2], dropout=0.3, generator=0)
        opt = th.optim.Adam(model.parameters(), lr=1e-2)
        sched = th.optim.warmup_cosine(opt, warmup_epochs=2, total_epochs=6)
    loader = DataLoader((X, y), batch_size=16, shuffle=True, seed=3)
    callbacks = [EarlyStopping("val_loss", patience=50, restore_best_weights=True)]
    return model, opt, sched, loader, callbacks, (X[:40], y[:40])


def _fit(parts, epochs, **kwargs):
    model, opt, sched, loader, callbacks, val = parts
    return th.fit(model, "cross_entropy", opt, loader, val_loader=val, epochs=epochs, scheduler=sched,
                  callbacks=callbacks, verbose=False, **kwargs)


def _assert_same(a, b, where=""):
    """Two nested states (dicts, lists, arrays, numbers) equal bit for bit."""
    if isinstance(a, dict):
        assert sorted(a) == sorted(b), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), where
    else:
        assert a == b, where


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_three_epochs_and_three_resumed_are_six_uninterrupted(kind, tmp_path):
    ck = tmp_path / "ck.safetensors"
    th.manual_seed(5)
    whole = _run(kind)
    h_whole = _fit(whole, 6)

    th.manual_seed(5)
    first = _run(kind)
    _fit(first, 3, checkpoint=ck)
    assert th.load_metadata(ck)["user"]["epoch"] == 3

    th.manual_seed(123)   # a new process: another global state, fresh objects; the checkpoint restores it all
    again = _run(kind)
    h_again = _fit(again, 6, checkpoint=ck, resume=ck)
    _assert_same(whole[0].state_dict(), again[0].state_dict(), "weights")
    _assert_same(whole[1].state_dict(), again[1].state_dict(), "optimizer")
    _assert_same(whole[2].state_dict(), again[2].state_dict(), "scheduler")
    for key in ("loss", "accuracy", "val_loss", "lr"):
        assert h_whole.history[key] == h_again.history[key]
    assert h_again.epoch == list(range(6)) and th.load_metadata(ck)["user"]["epoch"] == 6
    assert whole[4][0].best_epoch == again[4][0].best_epoch


def test_without_the_loaders_random_state_the_resumed_run_differs(tmp_path, monkeypatch):
    """The test above can fail: forget one random state (the loader's order) and the weights differ."""
    ck = tmp_path / "ck.safetensors"
    whole = _run("adam")
    _fit(whole, 4)
    _fit(_run("adam"), 2, checkpoint=ck)
    monkeypatch.setattr(DataLoader, "load_state_dict", lambda self, state: None)
    again = _run("adam")
    _fit(again, 4, resume=ck)
    assert not np.array_equal(whole[0].state_dict()["0.weight"], again[0].state_dict()["0.weight"])


class _CtrlC(Callback):
    """Ctrl-C in the middle of an epoch: at batch ``batch`` of epoch ``epoch`` (0-based)."""

    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_batch_end(self, batch, logs):
        if (self.trainer.epoch, batch) == self.at:
            raise KeyboardInterrupt


def test_ctrl_c_mid_epoch_keeps_the_last_complete_epoch_and_resumes_exactly(tmp_path):
    ck = tmp_path / "ck.safetensors"
    whole = _run("adam")
    _fit(whole, 5)
    parts = _run("adam")
    parts[4].append(_CtrlC(epoch=3, batch=4))      # half of epoch 4 done, then Ctrl-C
    with pytest.raises(TrainingInterrupted) as info:
        _fit(parts, 5, checkpoint=ck)
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.epoch == 3 and info.value.path == str(ck)
    assert th.load_metadata(ck)["user"]["epoch"] == 3
    again = _run("adam")
    _fit(again, 5, checkpoint=ck, resume=ck)
    _assert_same(whole[0].state_dict(), again[0].state_dict())


def test_ctrl_c_during_the_write_finishes_the_file_first(tmp_path, monkeypatch):
    # Python's own handler (Ctrl-C raises KeyboardInterrupt) for this test: a server started by an earlier test
    # may have left its own in this process
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    import thetas.io
    real_save = thetas.io.save

    def save_with_ctrl_c(obj, path, metadata=None):
        if metadata and metadata.get("epoch") == 2:
            os.kill(os.getpid(), signal.SIGINT)   # arrives while the checkpoint of epoch 2 is being written
        return real_save(obj, path, metadata=metadata)

    monkeypatch.setattr(thetas.io, "save", save_with_ctrl_c)
    ck = tmp_path / "ck.safetensors"
    try:
        with pytest.raises(TrainingInterrupted) as info:
            _fit(_run("sgd"), 4, checkpoint=ck)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert info.value.epoch == 2 and th.load_metadata(ck)["user"]["epoch"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["ck.safetensors"]   # no temp file left behind


def test_a_run_that_stopped_early_resumes_as_finished(tmp_path):
    ck = tmp_path / "ck.safetensors"
    parts = _run("sgd")
    parts[4][0] = EarlyStopping("val_loss", patience=1, min_delta=10.0)   # stops after its second epoch
    h = _fit(parts, 6, checkpoint=ck)
    assert len(h) == 2 and th.load_metadata(ck)["user"]["stopped"]
    again = _run("sgd")
    again[4][0] = EarlyStopping("val_loss", patience=1, min_delta=10.0)
    h2 = _fit(again, 6, resume=ck)
    assert h2.epoch == [0, 1] and h2.stopped_reason == h.stopped_reason


# ---------------------------------------------------------------------------------------------- refused files
def test_a_checkpoint_of_other_data_or_another_model_is_refused_before_anything_changes(tmp_path):
    ck = tmp_path / "ck.safetensors"
    _fit(_run("adam"), 1, checkpoint=ck)
    other = _run("adam", data=_data(shift=1.0))
    before = other[0].state_dict()
    with pytest.raises(CheckpointError, match=r"ck\.safetensors: .*training data differs \(X"):
        _fit(other, 2, resume=ck)
    _assert_same(before, other[0].state_dict())
    with pytest.raises(CheckpointError, match=r"model differs \(args\[0\]\[1\]: 16 saved, 8 now\)"):
        _fit(_run("adam", hidden=8), 2, resume=ck)
    parts = _run("adam")
    parts[4].clear()
    with pytest.raises(CheckpointError, match="pass the same callbacks"):
        _fit(parts, 2, resume=ck)


def test_a_corrupt_file_or_a_plain_model_file_is_a_clear_error(tmp_path):
    ck = tmp_path / "ck.safetensors"
    _fit(_run("sgd"), 1, checkpoint=ck)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(ck.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match=r"cut\.safetensors: .*truncated"):
        _fit(_run("sgd"), 2, resume=cut)
    model_file = tmp_path / "model.safetensors"
    th.save(_run("sgd")[0], model_file)
    with pytest.raises(CheckpointError, match=r"model\.safetensors: not a thetas training checkpoint"):
        _fit(_run("sgd"), 2, resume=model_file)
    with pytest.raises(FileNotFoundError, match="nosuch.safetensors: no such checkpoint"):
        _fit(_run("sgd"), 2, resume=tmp_path / "nosuch.safetensors")


def test_a_flipped_bit_in_the_data_is_found_by_the_checksum(tmp_path):
    ck = tmp_path / "ck.safetensors"
    _fit(_run("adam"), 1, checkpoint=ck)
    blob = bytearray(ck.read_bytes())
    blob[-5] ^= 1                                  # in the last tensor's bytes: a valid file, one weight changed
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match=r"bad\.safetensors: corrupt checkpoint: .*checksum"):
        _fit(_run("adam"), 2, resume=bad)


def test_mutated_checkpoints_give_only_checkpoint_errors_naming_the_file(tmp_path):
    """A bounded fuzz: 60 copies with 1-3 random bytes changed (mostly in the header) are each refused with a
    CheckpointError naming the file, or (a change in the header's padding) resumed; never another error."""
    ck = tmp_path / "ck.safetensors"
    _fit(_run("sgd", hidden=4), 1, checkpoint=ck)
    blob = ck.read_bytes()
    header = 8 + int.from_bytes(blob[:8], "little")
    rng = np.random.default_rng(0)
    refused = 0
    for i in range(60):
        b = bytearray(blob)
        for _ in range(rng.integers(1, 4)):
            b[int(rng.integers(0, header if rng.random() < 0.8 else len(b)))] = int(rng.integers(0, 256))
        path = tmp_path / f"m{i}.safetensors"
        path.write_bytes(bytes(b))
        try:
            _fit(_run("sgd", hidden=4), 2, resume=path)
        except CheckpointError as e:
            assert f"m{i}.safetensors" in str(e)
            refused += 1
    assert refused >= 55


def test_the_cli_refuses_another_data_sets_checkpoint_with_one_line(tmp_path, capsys):
    ck = str(tmp_path / "ck.safetensors")
    assert main(["train", "xor", "--epochs", "2", "--checkpoint", ck, "--quiet", "--threads", "1"]) == 0
    capsys.readouterr()
    for argv, says in ((["train", "moons", "--epochs", "3"], 'dataset: "xor" saved, "moons" now'),
                       (["train", "xor", "--epochs", "3", "--hidden", "4"], "model differs"),
                       (["train", "xor", "--epochs", "3", "--resume", str(tmp_path / "none")], "no such checkpoint")):
        argv = argv if "--resume" in argv else argv + ["--resume", ck]
        assert main(argv + ["--quiet", "--threads", "1"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0] and "Traceback" not in err[0], err


def test_the_cli_says_how_to_resume_after_ctrl_c(tmp_path, capsys, monkeypatch):
    from thetas.train import checkpoint
    write = checkpoint.Checkpoint.write

    def write_then_ctrl_c(self, run, epoch, epochs, stopped=False):
        write(self, run, epoch, epochs, stopped)
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint.Checkpoint, "write", write_then_ctrl_c)
    ck = str(tmp_path / "ck.safetensors")
    code = main(["train", "xor", "--epochs", "5", "--hidden", "4", "--checkpoint", ck, "--quiet", "--threads", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 130
    prefix = "interrupted after epoch 2; resume with: thetas "
    assert err[-1].startswith(prefix), err
    hint = vars(build_parser().parse_args(shlex.split(err[-1][len(prefix):])))   # the same options, resumed
    typed = vars(build_parser().parse_args(["train", "xor", "--epochs", "5", "--hidden", "4", "--resume", ck,
                                            "--quiet", "--threads", "1"]))
    assert hint == typed


# ---------------------------------------------------------------------------------------------- Done when
# A real process, killed by SIGKILL at a fixed point, whatever the machine's speed: when its fourth epoch is over,
# just before that epoch's checkpoint would replace the third's. (A kill during th.save's own write is th.io's test.)
_KILLED_IN_EPOCH_4 = """
import os, signal, sys
from thetas.cli import main
from thetas.train import checkpoint
write = checkpoint.Checkpoint.write
def write_or_die(self, run, epoch, epochs, stopped=False):
    if epoch == 4:
        os.kill(os.getpid(), signal.SIGKILL)
    write(self, run, epoch, epochs, stopped)
checkpoint.Checkpoint.write = write_or_die
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("args, score", [
    (["train", "digits"], "test_accuracy"),
    (["dkt", "--data", "synthetic-5", "--samples", "60", "--hidden", "8", "--batch-size", "16"], "test_auc")])
def test_a_run_killed_after_epoch_3_resumes_to_the_same_bits(tmp_path, capsys, args, score):
    """Done when: `thetas train digits --epochs 6 --checkpoint ck.safetensors` (and `thetas dkt`), killed with
    SIGKILL after its third epoch and resumed with `--resume ck.safetensors`, saves weights bit-identical to an
    uninterrupted run.

    Slow (~5 s here): a real process that really dies, most of it spent importing scikit-learn for the digits."""
    ck, a, b = (str(tmp_path / n) for n in ("ck.safetensors", "a.safetensors", "b.safetensors"))
    args = [*args, "--epochs", "6", "--threads", "1", "--seed", "0", "--quiet"]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    killed = subprocess.Popen([sys.executable, "-c", _KILLED_IN_EPOCH_4, *args, "--checkpoint", ck], cwd=tmp_path,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert main(args + ["--save", b, "--json"]) == 0     # the uninterrupted run, while that one starts up
        whole = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        _, err = killed.communicate(timeout=300)
    finally:
        if killed.poll() is None:
            killed.kill()
            killed.wait()
    assert killed.returncode == -signal.SIGKILL, err
    assert th.load_metadata(ck)["user"]["epoch"] == 3

    assert main(args + ["--resume", ck, "--save", a, "--json"]) == 0
    resumed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    wa, wb = th.io.load_state_dict(a), th.io.load_state_dict(b)
    assert sorted(wa) == sorted(wb)
    for name in wa:
        assert np.array_equal(wa[name], wb[name]), name
    assert resumed["epochs"] == whole["epochs"] == 6
    assert resumed[score] == whole[score]
    assert th.load_metadata(ck)["user"]["epoch"] == 6


def test_resuming_a_finished_run_says_there_is_nothing_more_to_train(tmp_path, capsys):
    ck = str(tmp_path / "ck.safetensors")
    args = ["train", "xor", "--epochs", "2", "--hidden", "4", "--threads", "1"]
    assert main([*args, "--checkpoint", ck, "--quiet"]) == 0
    capsys.readouterr()
    assert main([*args, "--resume", ck, "--quiet"]) == 0
    assert "already holds 2 epochs (--epochs 2): nothing more to train" in capsys.readouterr().err
