"""``thetas dkt``: Deep Knowledge Tracing from the command line, on the simulated students (small, quick runs) and
on the real 30-student ASSISTments sample (through THETAS_DATA): the JSON, the concepts, the pictures, the saved
model, and errors that name the problem."""
import contextlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

import thetas as th
from thetas.cli import main

QUICK = ("--hidden", "32", "--epochs", "2", "--samples", "100", "--quiet", "--json")


def run(capsys, *argv):
    code = main(["dkt", *map(str, argv)])
    captured = capsys.readouterr()
    out = captured.out.strip()
    return code, json.loads(out.splitlines()[-1]) if code == 0 and out else None, captured.err


@pytest.fixture(scope="module")
def sample():
    path = Path(os.environ.get("THETAS_DATA", "")) / "knowledge-tracing" / "assistments-sample-30-students.csv"
    if not os.environ.get("THETAS_DATA") or not path.is_file():
        pytest.skip("the ASSISTments sample not found: set THETAS_DATA to ../shared/data")
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """One quick run on synthetic-5 with concepts, pictures and a saved model: (its JSON, its folder)."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    folder = tmp_path_factory.mktemp("dkt")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["dkt", "--data", "synthetic-5", *QUICK, "--concepts", "5", "--plot", str(folder / "plots"),
                     "--save", str(folder / "dkt.safetensors")])
    assert code == 0
    return json.loads(out.getvalue().strip().splitlines()[-1]), folder


# ------------------------------------------------------------------------------------------- simulated
def test_json_is_the_last_stdout_line_and_progress_goes_to_stderr(capsys):
    code = main(["dkt", "--data", "synthetic-5", "--hidden", "16", "--epochs", "1", "--samples", "100", "--json",
                 "--batch-size", "10", "--lr", "0.01"])
    captured = capsys.readouterr()
    assert code == 0 and len(captured.out.strip().splitlines()) == 1
    result = json.loads(captured.out)
    assert {"test_auc", "test_accuracy", "train_auc", "epochs", "seconds", "students", "questions",
            "optimal_test_auc"} <= set(result)
    assert result["students"] == {"train": 100, "test": 100} and result["questions"] == 50
    assert result["epochs"] == 1 and result["cell"] == "lstm" and result["hidden"] == 16
    assert 0.5 < result["test_auc"] < result["optimal_test_auc"] < 0.9        # above chance, below the ceiling
    assert "concepts" not in result and "epoch 1/1" in captured.err


def test_concepts_pictures_and_saved_model(synthetic):
    result, folder = synthetic
    labels = result["concepts"]
    assert len(labels) == 50 and set(labels) <= set(range(5)) and len(set(labels)) > 1
    assert -1 <= result["concept_ari"] <= 1                                   # 2 epochs: no promise of quality
    plots = folder / "plots"
    names = {"history.png", "influence_graph.png", "concept_clusters.png", "knowledge_trace.png"}
    assert {p.name for p in plots.iterdir()} == names == {Path(p).name for p in result["plot"]}
    assert all((plots / n).read_bytes()[:4] == b"\x89PNG" for n in names)
    model = th.load(folder / "dkt.safetensors")
    meta = th.load_metadata(folder / "dkt.safetensors")["user"]
    assert isinstance(model, th.models.DKT) and model.num_questions == 50 and model.hidden_size == 32
    assert meta["cell"] == "lstm" and meta["questions"] == 50 and meta["data"] == "synthetic-5"
    assert meta["question_names"] == [str(i) for i in range(50)] and len(meta["concepts"]) == 50
    assert model.predict_proba(np.array([[[3, 1], [4, 0]]])).shape == (1, 2, 50)


def test_same_seed_same_numbers(capsys):
    args = ("--data", "synthetic-5", "--hidden", "8", "--epochs", "1", "--samples", "60", "--quiet", "--json")
    first, second = run(capsys, *args)[1], run(capsys, *args)[1]
    assert first["test_auc"] == second["test_auc"] and first["train_loss"] == second["train_loss"]


# ---------------------------------------------------------------------------------------- real students
def test_real_sample_split_by_student(sample, capsys):
    code, result, _ = run(capsys, "--data", sample, "--format", "dkt-csv", "--hidden", "16", "--epochs", "2",
                          "--quiet", "--json")
    students = th.data.load_dkt_csv(sample).drop_short(2)
    assert code == 0 and result["format"] == "dkt-csv" and result["questions"] == students.num_questions
    assert result["students"] == {"train": len(students) - round(0.2 * len(students)),
                                  "test": round(0.2 * len(students))}
    assert "optimal_test_auc" not in result and 0 <= result["test_auc"] <= 1


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_real_sample_with_a_test_file_and_other_cells(sample, tmp_path, capsys, cell):
    lines = sample.read_text().splitlines()
    test_file = tmp_path / "test.csv"
    test_file.write_text("\n".join(lines[3:15]) + "\n")                        # students 2..5 of the file
    code, result, _ = run(capsys, "--data", sample, "--test", test_file, "--cell", cell, "--hidden", "8",
                          "--epochs", "1", "--quiet", "--json")
    assert code == 0 and result["cell"] == cell
    assert result["students"]["test"] == 4 and result["students"]["train"] == len(
        th.data.load_dkt_csv(sample).drop_short(2))
    assert result["format"] == "dkt-csv"                                       # guessed: no letters on line 1


def test_real_sample_pictures_without_concepts(sample, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    code, result, _ = run(capsys, "--data", sample, "--hidden", "8", "--epochs", "1", "--plot", tmp_path,
                          "--quiet", "--json")
    assert code == 0 and "concepts" not in result
    assert sorted(Path(p).name for p in result["plot"]) == ["concept_clusters.png", "history.png",
                                                            "influence_graph.png", "knowledge_trace.png"]


def test_assistments_csv_is_recognised_by_its_header(tmp_path, capsys):
    rows = ["order_id,user_id,correct,skill_id"]
    rng = np.random.default_rng(0)
    for user in range(10):
        rows += [f"{100 * user + t},{user},{rng.integers(0, 2)},{rng.choice([7, 8, 9])}" for t in range(6)]
    path = tmp_path / "skill_builder.csv"
    path.write_text("\n".join(rows) + "\n")
    code, result, _ = run(capsys, "--data", path, "--hidden", "8", "--epochs", "1", "--quiet", "--json")
    assert code == 0 and result["format"] == "assistments" and result["questions"] == 3
    assert result["students"] == {"train": 8, "test": 2}


# --------------------------------------------------------------------------------------------------- errors
def error(capsys, *argv):
    code, _, err = run(capsys, *argv, "--quiet")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("thetas dkt: error: ")
    return lines[0]


def test_a_malformed_file_names_its_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("3\n1,2,3\n1,0,1\n2\n4,5\n1,7\n")
    assert "bad.csv, line 6" in error(capsys, "--data", bad) and "0 or 1" in error(capsys, "--data", bad)
    short = tmp_path / "short.csv"
    short.write_text("3\n1,2,3\n1,0,1\n2\n4,5\n")
    assert "line 4" in error(capsys, "--data", short)
    cells = tmp_path / "cells.csv"
    cells.write_text("order_id,user_id,correct,skill_id\n1,5,1,10\n2,5,x,11\n")
    message = error(capsys, "--data", cells)
    assert "line 3" in message and "'correct'" in message


def test_errors_name_the_problem(tmp_path, capsys):
    ok = tmp_path / "ok.csv"
    ok.write_text("3\n1,2,3\n1,0,1\n3\n1,2,3\n1,1,1\n")
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("3\n1,2,99\n1,0,1\n")
    assert "no such file" in error(capsys, "--data", tmp_path / "missing.csv")
    assert "unknown --format 'xml'" in error(capsys, "--data", ok, "--format", "xml")
    assert "at least 2" in error(capsys, "--data", "synthetic-5", "--concepts", "1")
    assert "more than the 3 questions" in error(capsys, "--data", ok, "--concepts", "4")
    assert "--test needs --data PATH" in error(capsys, "--data", "synthetic-5", "--test", ok)
    assert "no column 'order_id'" in error(capsys, "--data", ok, "--format", "assistments")
    assert "[0, 1)" in error(capsys, "--data", ok, "--dropout", "1.5")


def test_a_test_file_may_ask_questions_the_training_file_never_has(tmp_path, capsys):
    """The DKT paper's own ASSISTments 2009 split has one test answer to a skill absent from its training file:
    both files load, the model covers the union of their ids (numbers kept), and the JSON counts the unseen."""
    train = tmp_path / "train.csv"
    train.write_text("4\n1,2,3,2\n1,0,1,1\n3\n3,2,1\n1,1,1\n")
    test = tmp_path / "test.csv"
    test.write_text("4\n1,99,2,99\n1,0,1,1\n3\n2,3,1\n0,1,1\n")
    code = main(["dkt", "--data", str(train), "--test", str(test), "--hidden", "4", "--epochs", "1", "--json",
                 "--save", str(tmp_path / "m.safetensors")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert result["questions"] == 4 and result["test_unseen"] == {"questions": 1, "answers": 2}
    assert "2 of the test file's answers ask 1 question(s) the training file never has" in captured.err
    assert th.load_metadata(tmp_path / "m.safetensors")["user"]["question_names"] == ["1", "2", "3", "99"]


def test_an_interrupted_run_resumes_bit_identical(tmp_path, capsys, monkeypatch):
    """thetas dkt --checkpoint writes the whole run every epoch; Ctrl-C after epoch 2 says how to go on, and
    --resume ends with weights bit-identical to a run never interrupted (one BLAS thread); a checkpoint of
    another run is refused in one line."""
    import shlex

    from thetas.cli import build_parser
    from thetas.train import checkpoint
    quick = ["dkt", "--data", "synthetic-5", "--samples", "60", "--hidden", "8", "--threads", "1", "--quiet",
             "--batch-size", "16", "--seed", "3", "--epochs", "4"]
    whole, part = tmp_path / "whole.safetensors", tmp_path / "part.safetensors"
    assert main([*quick, "--save", str(whole)]) == 0
    write = checkpoint.Checkpoint.write

    def write_then_ctrl_c(self, run, epoch, epochs, stopped=False):
        write(self, run, epoch, epochs, stopped)
        if epoch == 2:
            raise KeyboardInterrupt

    ck = tmp_path / "ck.safetensors"
    monkeypatch.setattr(checkpoint.Checkpoint, "write", write_then_ctrl_c)
    capsys.readouterr()
    assert main([*quick, "--checkpoint", str(ck)]) == 130
    hint = capsys.readouterr().err.strip().splitlines()[-1]
    prefix = "interrupted after epoch 2; resume with: thetas "
    assert hint.startswith(prefix), hint
    monkeypatch.setattr(checkpoint.Checkpoint, "write", write)
    resumed = shlex.split(hint[len(prefix):])
    assert vars(build_parser().parse_args(resumed)) == vars(build_parser().parse_args([*quick, "--resume", str(ck)]))
    assert main([*resumed, "--save", str(part)]) == 0
    a, b = th.load(whole).state_dict(), th.load(part).state_dict()
    assert a.keys() == b.keys() and all(np.array_equal(np.asarray(a[k]), np.asarray(b[k])) for k in a)
    capsys.readouterr()
    assert main([*quick, "--resume", str(ck), "--lr", "0.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another run" in err[0] and "lr" in err[0]
    assert main([*quick, "--resume", str(tmp_path / "nope.safetensors")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err


def test_real_sample_whose_test_students_ask_skills_the_training_ones_never_do(sample, tmp_path, capsys):
    """A real split: the first 6 students of the ASSISTments sample as the test file, the other 24 as training;
    the unseen answers the JSON counts are those an independent count of the two files finds."""
    lines = sample.read_text().splitlines()
    train_file, test_file = tmp_path / "train.csv", tmp_path / "test.csv"
    test_file.write_text("\n".join(lines[:18]) + "\n")
    train_file.write_text("\n".join(lines[18:]) + "\n")
    tr, te = th.data.load_dkt_csv(train_file), th.data.load_dkt_csv(test_file)
    known = set(tr.question_names)
    unseen = [te.question_names[q] not in known for s in te.drop_short(2).questions for q in s]
    assert sum(unseen) > 0                                      # the split does what the test is about
    code, result, _ = run(capsys, "--data", train_file, "--test", test_file, "--hidden", "8", "--epochs", "1",
                          "--quiet", "--json")
    assert code == 0 and result["test_unseen"]["answers"] == sum(unseen)
    assert result["questions"] == len(known | set(te.question_names))


def test_each_file_has_its_own_format_and_unseen_counts_the_students_kept(tmp_path, capsys):
    """--data a DKT text file, --test an ASSISTments CSV: each file's format is guessed on its own. The unseen
    answers are counted on the students scored: --samples 2 keeps only test students without unseen ids."""
    train = tmp_path / "train.txt"
    train.write_text("4\n1,2,3,2\n1,0,1,1\n3\n3,2,1\n1,1,1\n")
    rows = ["order_id,user_id,correct,skill_id"]
    for user, skills in ((1, (1, 2, 3)), (2, (3, 2, 1)), (3, (1, 99, 99))):
        rows += [f"{10 * user + k},{user},{k % 2},{q}" for k, q in enumerate(skills)]
    test = tmp_path / "test.csv"
    test.write_text("\n".join(rows) + "\n")
    base = ["--data", train, "--test", test, "--hidden", "4", "--epochs", "1", "--quiet", "--json"]
    code, whole, _ = run(capsys, *base)
    assert code == 0 and whole["test_unseen"] == {"questions": 1, "answers": 2} and whole["questions"] == 4
    code, sampled, _ = run(capsys, *base, "--samples", "2")
    assert code == 0 and sampled["test_unseen"] == {"questions": 0, "answers": 0}


def test_a_checkpoint_resumes_whatever_the_spelling_of_the_same_file(tmp_path, capsys, monkeypatch):
    data = tmp_path / "students.txt"
    data.write_text("".join(f"5\n{i % 3},{(i + 1) % 3},1,2,0\n1,0,1,1,0\n" for i in range(30)))
    monkeypatch.chdir(tmp_path)
    ck = tmp_path / "ck.safetensors"
    quick = ["--hidden", "4", "--epochs", "2", "--quiet", "--threads", "1", "--json"]
    assert run(capsys, "--data", data, "--checkpoint", ck, *quick)[0] == 0
    code, _, captured = run(capsys, "--data", "./sub/../students.txt", "--resume", ck, *quick)
    assert code == 2 and "sub/../students.txt" in captured            # no such folder "sub": still a mistake
    (tmp_path / "sub").mkdir()
    assert run(capsys, "--data", "./sub/../students.txt", "--resume", ck, *quick)[0] == 0
