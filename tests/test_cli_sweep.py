"""Every command-line mistake is one line on stderr naming the option or the file, exit status 2, no traceback.

A table-driven sweep: every command x every option that takes a value x invalid values (negative, zero, out of
range, not a number, not finite), and every file argument x (missing, wrong kind, a model that does not fit the
data). Each runs in-process through ``thetas.cli.main(argv)``; a few run as ``python -m thetas`` to show the real
entry point says the same. ``test_every_option_has_a_case`` walks ``build_parser()``: a new command or option that
takes a value fails it until the sweep has a case for it.

The form of a mistake (decided here, for argparse's findings too): exactly one non-empty line on stderr,
``thetas COMMAND: error: ...``, nothing on stdout, exit status 2, and nothing started (a training's progress would
be a second line). argparse's own two-line "usage: ... / error: ..." is replaced by one line, which ends with
"(see thetas COMMAND --help)".
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from thetas.cli import build_parser, main
from thetas.cli.common import finite_or_none, report

# ------------------------------------------------------------------------------------------------ invalid values
POS_INT = ["0", "-3", "2.5", "x"]
NONNEG_INT = ["-1", "1.5", "x"]
POS_FLOAT = ["0", "-1", "nan", "inf", "x"]
NONNEG_FLOAT = ["-0.1", "inf", "x"]
PROB = ["-0.1", "1", "1.5", "x"]          # [0, 1)
FRACTION = ["-0.1", "1.5", "x"]           # [0, 1]
WIDTHS = ["0", "-4", "8,x", "abc", "8,,8"]
NOT_A_NUMBER = ["x"]                      # --threads (add_threads): its range is the threads option's own business

RL_TRAIN = {"--steps": POS_INT, "--seed": NONNEG_INT, "--lr": POS_FLOAT, "--gamma": FRACTION, "--hidden": WIDTHS,
            "--batch-size": POS_INT, "--buffer-size": POS_INT, "--learning-starts": NONNEG_INT,
            "--train-freq": POS_INT, "--gradient-steps": POS_INT, "--target-update": POS_INT,
            "--tau": ["0", "-0.5", "1.5", "x"], "--eval-every": POS_INT, "--eval-episodes": POS_INT,
            "--threads": NONNEG_INT}
# command (as ``thetas ...`` names it) -> (argv before the option, {option: invalid values})
OPTIONS = {
    "train": (["train", "xor"], {
        "--lr": POS_FLOAT, "--batch-size": POS_INT, "--epochs": POS_INT, "--hidden": WIDTHS, "--channels": WIDTHS,
        "--dropout": PROB, "--momentum": PROB, "--weight-decay": NONNEG_FLOAT, "--seed": NONNEG_INT,
        "--samples": POS_INT, "--threads": NOT_A_NUMBER, "--active": POS_INT, "--noise": PROB}),
    "evaluate": (["evaluate", "m.safetensors"], {"--seed": NONNEG_INT}),
    "predict": (["predict", "m.safetensors", "digit.png"], {"--top": POS_INT}),
    "inside": (["inside", "m.safetensors"], {"--unit": NONNEG_INT, "--steps": POS_INT, "--samples": POS_INT,
                                             "--seed": NONNEG_INT}),
    "gradcheck": (["gradcheck"], {"--hidden": WIDTHS, "--batch-size": POS_INT, "--seed": NONNEG_INT}),
    "dkt": (["dkt", "--data", "synthetic-5"], {
        "--hidden": POS_INT, "--epochs": POS_INT, "--lr": POS_FLOAT, "--batch-size": POS_INT, "--dropout": PROB,
        "--max-len": ["1", "0", "-2", "x"], "--concepts": ["1", "0", "x"], "--seed": NONNEG_INT,
        "--samples": POS_INT, "--threads": NOT_A_NUMBER, "--active": POS_INT, "--noise": PROB}),
    "lab": (["lab", "--no-browser"], {"--port": ["0", "-1", "70000", "x"]}),
    "rl cartpole": (["rl", "cartpole"], RL_TRAIN),
    "rl apple-world": (["rl", "apple-world"], RL_TRAIN),
    "rl evaluate": (["rl", "evaluate", "m.safetensors"], {
        "--episodes": POS_INT, "--seed": NONNEG_INT, "--epsilon": FRACTION, "--threads": NONNEG_INT}),
}
OPTION_CASES = [(command, option, value) for command, (_, table) in OPTIONS.items()
                for option, values in table.items() for value in values]


# ------------------------------------------------------------------------------------------------ files
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Files a user may give by mistake: a CSV, a folder, models of the wrong kind, pictures without ink."""
    import thetas as th
    from thetas.models import MLP, LeNet
    d = tmp_path_factory.mktemp("sweep")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    (d / "data.csv").write_text("a,b,label\n" + "".join(f"{a},{b},{int(a > b)}\n" for a, b in X))
    labels = {"task": "classification", "num_classes": 10, "classes": list(range(10)), "loss": "cross_entropy"}
    th.save(LeNet(1, 10, 28), d / "lenet.safetensors", metadata={"dataset": "mnist", **labels})
    th.save(MLP([64, 10]), d / "flat64.safetensors", metadata={"dataset": "mnist", **labels})   # not 784 inputs
    th.save(MLP([64, 10]), d / "digits.safetensors", metadata={"dataset": "digits", **labels})
    th.save(MLP([2, 2]), d / "nometa.safetensors")
    th.save(MLP([2, 2]).state_dict(), d / "weights.safetensors")
    th.save(MLP([2, 2]), d / "csvmodel.safetensors", metadata={"dataset": str(d / "data.csv"), "target": "label",
                                                               "task": "classification", "num_classes": 2})
    th.save(MLP([2, 2]), d / "gone.safetensors", metadata={"dataset": "gone.csv", "target": "label"})
    (d / "folder").mkdir()
    (d / "rows2.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")        # too few rows for a train/test split
    try:
        from PIL import Image
    except ImportError:
        pass
    else:
        Image.fromarray(np.full((40, 40), 255, np.uint8)).save(d / "blank.png")
        Image.fromarray(rng.integers(0, 256, (40, 40)).astype(np.uint8)).save(d / "noise.png")
        stroke = np.zeros((40, 40), np.uint8)
        stroke[5:35, 18:22] = 255
        Image.fromarray(stroke).save(d / "one.png")
    return d


# (argv with {d} for the files' folder, what the line must name)
FILE_CASES = [
    (["evaluate", "{d}/nosuch.safetensors"], "no such file: {d}/nosuch.safetensors"),
    (["evaluate", "{d}/data.csv"], "data.csv is not a safetensors file"),
    (["evaluate", "{d}/folder"], "folder is a folder"),
    (["evaluate", "{d}/lenet.safetensors", "xor"], "lenet.safetensors does not fit xor"),
    (["evaluate", "{d}/digits.safetensors", "xor"], "digits.safetensors does not fit xor"),
    (["evaluate", "{d}/weights.safetensors", "xor"], "weights.safetensors holds weights but no model"),
    (["evaluate", "{d}/nometa.safetensors"], "nometa.safetensors does not record"),
    (["evaluate", "{d}/gone.safetensors"], "gone.csv, which is no longer there"),
    (["evaluate", "{d}/csvmodel.safetensors", "{d}/nosuch.csv", "--target", "label"], "nosuch.csv"),
    (["predict", "{d}/nosuch.safetensors", "{d}/one.png"], "no such file: {d}/nosuch.safetensors"),
    (["predict", "{d}/csvmodel.safetensors", "{d}/one.png"], "not on pictures"),
    (["predict", "{d}/flat64.safetensors", "{d}/one.png"], "flat64.safetensors does not fit"),
    (["predict", "{d}/lenet.safetensors", "{d}/blank.png"], "no ink found in {d}/blank.png"),
    (["predict", "{d}/lenet.safetensors", "{d}/noise.png"], "no ink found in {d}/noise.png"),
    (["predict", "{d}/lenet.safetensors", "{d}/missing.png"], "missing.png"),
    (["predict", "{d}/lenet.safetensors", "{d}/data.csv"], "data.csv"),
    (["export", "{d}/nosuch.safetensors", "--to", "onnx", "{d}/m.onnx"], "no such file: {d}/nosuch.safetensors"),
    (["export", "{d}/data.csv", "--to", "torch", "{d}/m.pt"], "data.csv is not a safetensors file"),
    (["export", "{d}/weights.safetensors", "--to", "onnx", "{d}/m.onnx"], "holds weights but no model"),
    (["export", "{d}/digits.safetensors", "--to", "onnx", "{d}/nofolder/m.onnx"], "OUT {d}/nofolder/m.onnx"),
    (["inside", "{d}/nosuch.safetensors"], "no such file: {d}/nosuch.safetensors"),
    (["inside", "{d}/data.csv"], "data.csv is not a safetensors file"),
    (["inside", "{d}/nometa.safetensors"], "nometa.safetensors is neither a many-class classifier nor an autoencoder"),
    (["inside", "{d}/digits.safetensors", "--layer", "9"], "--layer 9: unknown layer '9'"),
    (["inside", "{d}/digits.safetensors", "--unit", "10"], "--unit 10: layer output has 10 unit(s)"),
    (["inside", "{d}/digits.safetensors", "--plot", "{d}/data.csv"], "--plot {d}/data.csv: is a file"),
    (["train", "{d}/nosuch.csv", "--target", "label"], "nosuch.csv"),
    (["train", "{d}/data.csv"], "--target"),
    (["train", "xor", "--save", "{d}/nofolder/m.safetensors"], "--save {d}/nofolder/m.safetensors"),
    (["train", "digits", "--samples", "50"], "--samples"),
    (["train", "{d}/rows2.csv", "--target", "label"], "rows2.csv: 2 example(s) leave no test set"),
    (["evaluate", "{d}/csvmodel.safetensors", "{d}/rows2.csv", "--target", "label"], "rows2.csv: 2 example(s)"),
    (["train", "xor", "--save", "{d}/folder"], "--save {d}/folder: is a folder"),
    (["train", "xor", "--plot", "{d}/data.csv"], "--plot {d}/data.csv: is a file"),
    (["train", "xor", "--checkpoint", "{d}/folder"], "--checkpoint {d}/folder: is a folder"),
    (["train", "xor", "--resume", "{d}/folder"], "--resume {d}/folder: is a folder"),
    (["train", "xor", "--resume", "{d}/nosuch.safetensors"], "--resume {d}/nosuch.safetensors: no such checkpoint"),
    (["train", "xor", "--resume", "{d}/data.csv"], "data.csv"),
    (["train", "digits", "--model", "lenet", "--channels", "6"], "--channels"),
    (["train", "xor", "--bogus"], "--bogus"),
    (["gradcheck", "--dataset", "nosuch-set"], "nosuch-set"),
    (["dkt", "--data", "{d}/nosuch.csv"], "--data {d}/nosuch.csv"),
    (["dkt", "--data", "{d}/data.csv", "--test", "{d}/nosuch.csv"], "--test {d}/nosuch.csv"),
    (["dkt", "--data", "synthetic-5", "--save", "{d}/nofolder/m.safetensors"], "--save"),
    (["dkt", "--data", "synthetic-5", "--format", "xml"], "--format"),
    (["dkt", "--data", "{d}/folder"], "--data {d}/folder: is a folder"),
    (["dkt", "--data", "synthetic-5", "--save", "{d}/folder"], "--save {d}/folder: is a folder"),
    (["dkt", "--data", "synthetic-5", "--plot", "{d}/data.csv"], "--plot {d}/data.csv: is a file"),
    (["dkt", "--data", "synthetic-5", "--checkpoint", "{d}/folder"], "--checkpoint {d}/folder: is a folder"),
    (["rl", "cartpole", "--save", "{d}/folder"], "--save {d}/folder: is a folder"),
    (["rl", "evaluate", "{d}/nosuch.safetensors"], "no such file: {d}/nosuch.safetensors"),
    (["rl", "evaluate", "{d}/data.csv"], "data.csv is not a safetensors file"),
    (["rl", "evaluate", "{d}/lenet.safetensors"], "lenet.safetensors is not a DQN agent"),
    (["rl", "cartpole", "--save", "{d}/nofolder/a.safetensors"], "--save"),
    (["rl", "apple-world", "--save", "{d}/nofolder/a.safetensors"], "--save"),
    (["rl", "cartpole", "--steps", "100", "--learning-starts", "100"], "--learning-starts"),
    (["rl", "mountain-car"], "mountain-car"),
    (["lab", "--no-browser", "--model", "{d}/nosuch.safetensors"], "no such file: {d}/nosuch.safetensors"),
    (["lab", "--no-browser", "--model", "{d}/data.csv"], "data.csv is not a safetensors file"),
    (["lab", "--no-browser", "--students", "{d}/nosuch.csv"], "--students {d}/nosuch.csv"),
]
# the options that name a file, and the positional files: each needs a FILE_CASES or PLOT_CASES entry
FILE_OPTIONS = {"--save", "--plot", "--model", "--students", "--data", "--test", "MODEL", "IMAGE", "DATASET"}
PLOT_CASES = [["train", "xor"], ["inside", "{d}/digits.safetensors"], ["dkt", "--data", "synthetic-5"],
              ["rl", "cartpole"], ["rl", "apple-world"]]


def one_line_mistake(capsys, argv):
    """Run ``thetas argv`` in-process; assert the contract of a mistake; return the line."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (argv, code, err)
    assert len(lines) == 1, (argv, err)
    assert "Traceback" not in err and out == "", (argv, out, err)
    assert lines[0].startswith("thetas") and ": error: " in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("command,option,value", OPTION_CASES)
def test_an_invalid_option_value_is_one_line_naming_option_and_value(capsys, command, option, value):
    before, _ = OPTIONS[command]
    line = one_line_mistake(capsys, [*before, f"{option}={value}"])
    assert option in line and value in line, line


@pytest.mark.parametrize("argv,names", FILE_CASES, ids=[" ".join(a[:3]) for a, _ in FILE_CASES])
def test_a_wrong_file_is_one_line_naming_it(capsys, files, argv, names):
    if any(a.endswith(".png") for a in argv) and not (files / "one.png").exists():
        pytest.skip("Pillow is not installed")
    line = one_line_mistake(capsys, [a.format(d=files) for a in argv])
    assert names.format(d=files) in line, line


@pytest.mark.parametrize("argv", PLOT_CASES, ids=" ".join)
def test_plot_without_matplotlib_is_refused_before_training(capsys, monkeypatch, tmp_path, files, argv):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)     # import matplotlib now raises ImportError
    line = one_line_mistake(capsys, [*(a.format(d=files) for a in argv), "--plot", tmp_path / "plots"])
    assert "--plot needs matplotlib" in line and "pip install" in line


def _leaves(parser, path=()):
    """(command path, parser) of every command ``thetas`` runs: train, ..., rl cartpole, rl evaluate."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield " ".join(path), parser
    for action in subs:
        for name, sub in action.choices.items():
            yield from _leaves(sub, (*path, name))


def test_every_option_has_a_case():
    """A command, an option that takes a number, or a file argument without a case in the sweep fails here."""
    covered_files = {(" ".join(a[:2]) if a[0] == "rl" else a[0], word) for a, _ in FILE_CASES
                     for word in a if word in FILE_OPTIONS}
    covered_files |= {(" ".join(a[:2]) if a[0] == "rl" else a[0], "--plot") for a in PLOT_CASES}
    for a, _ in FILE_CASES:           # positionals: a case whose argv names a file there counts
        command = " ".join(a[:2]) if a[0] == "rl" else a[0]
        covered_files |= {(command, "MODEL"), (command, "IMAGE"), (command, "DATASET")}
    missing = []
    commands = dict(_leaves(build_parser()))
    assert set(commands) >= {"train", "evaluate", "predict", "gradcheck", "dkt", "lab", "rl cartpole",
                             "rl apple-world", "rl evaluate"}
    for command, parser in commands.items():
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                continue
            name = max(action.option_strings, key=len) if action.option_strings else action.metavar
            if action.type is not None and name not in OPTIONS.get(command, ([], {}))[1]:
                missing.append(f"{command} {name}: an invalid number")
            if name in FILE_OPTIONS and (command, name) not in covered_files:
                missing.append(f"{command} {name}: a missing or wrong file")
    assert not missing, "no sweep case for: " + "; ".join(missing)


def test_the_real_entry_point_says_the_same(files):
    """``python -m thetas``: the same line and exit status 2 as in-process (4 runs, started together: ~2 s)."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    runs = {("train", "xor", "--lr", "-1"): "argument --lr: must be > 0, got -1",
            ("evaluate", str(files / "nosuch.safetensors")): f"no such file: {files / 'nosuch.safetensors'}",
            ("dkt", "--data", "synthetic-5", "--epochs", "0"): "--epochs must be at least 1, got 0",
            ("rl", "cartpole", "--steps", "0"): "argument --steps: must be a whole number >= 1, got 0"}
    procs = {argv: subprocess.Popen([sys.executable, "-m", "thetas", *argv], cwd=root, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE) for argv in runs}
    for argv, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        lines = [line for line in err.splitlines() if line.strip()]
        assert proc.returncode == 2 and out == "" and len(lines) == 1, (argv, proc.returncode, err)
        assert runs[argv] in lines[0] and "Traceback" not in err


# ------------------------------------------------------------------------------------------------ results
def strict(text):
    def refuse(name):
        raise ValueError(f"{name} is not strict JSON")
    return json.loads(text, parse_constant=refuse)


def test_report_turns_every_non_finite_number_into_null(capsys):
    result = {"loss": float("nan"), "ok": 1.5, "n": 3, "flag": True, "name": "x", "none": None,
              "nested": {"a": [1.0, float("inf"), np.float32("-inf"), (np.float64("nan"), 2)], "b": np.int64(4)}}
    assert finite_or_none(result) == {"loss": None, "ok": 1.5, "n": 3, "flag": True, "name": "x", "none": None,
                                      "nested": {"a": [1.0, None, None, [None, 2]], "b": 4}}
    report(argparse.Namespace(json=True), result, [])
    assert strict(capsys.readouterr().out)["nested"]["a"][1] is None


def test_a_diverged_run_says_so_exits_1_and_saves_nothing(capsys, tmp_path):
    model = tmp_path / "m.safetensors"
    code = main(["train", "xor", "--optimizer", "sgd", "--lr", "1e38", "--epochs", "5", "--save", str(model),
                 "--json", "--quiet"])
    out, err = capsys.readouterr()
    result = strict(out.strip().splitlines()[-1])        # no NaN, no Infinity
    assert code == 1 and result["epochs"] == 0 and "TerminateOnNaN" in result["stopped_reason"]
    assert "saved" not in result and not model.exists()
    assert "nothing learned" in err and "nothing saved" in err and "Traceback" not in err


def test_four_pixels_says_it_has_no_test_set(capsys):
    assert main(["train", "four-pixels", "--epochs", "5", "--json", "--quiet"]) == 0
    result = strict(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["test_is_train"] is True and "no test set" in result["note"]
    assert result["test_accuracy"] == result["train_accuracy"]          # the same 8 images
    assert main(["train", "four-pixels", "--epochs", "5", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "train accuracy" in out and "whole data set: no test set" in out and "test accuracy" not in out


def test_evaluate_finds_the_csv_from_another_folder(capsys, tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 2))
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    (work / "data.csv").write_text("a,b,label\n" + "".join(f"{a},{b},{int(a > b)}\n" for a, b in X))
    monkeypatch.chdir(work)
    assert main(["train", "data.csv", "--target", "label", "--epochs", "3", "--save", "m.safetensors", "--quiet",
                 "--json"]) == 0
    trained = strict(capsys.readouterr().out.strip().splitlines()[-1])
    monkeypatch.chdir(elsewhere)
    assert main(["evaluate", str(work / "m.safetensors"), "--json"]) == 0          # stored absolute
    assert strict(capsys.readouterr().out.strip().splitlines()[-1])["test_accuracy"] == trained["test_accuracy"]
    import thetas as th                     # a file from before: the CSV relative to where training ran
    model, user = th.load(work / "m.safetensors"), th.load_metadata(work / "m.safetensors")["user"]
    th.save(model, work / "old.safetensors", metadata={**user, "dataset": "data.csv"})
    assert main(["evaluate", str(work / "old.safetensors"), "--json"]) == 0         # found next to the model
    assert strict(capsys.readouterr().out.strip().splitlines()[-1])["test_accuracy"] == trained["test_accuracy"]
    (work / "data.csv").unlink()
    line = one_line_mistake(capsys, ["evaluate", work / "m.safetensors"])
    assert "data.csv, which is no longer there" in line
