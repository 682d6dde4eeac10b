"""Knowledge tracing data: Students, the simulated students of the DKT paper, the DKT and ASSISTments loaders,
padding, and the 2M one-hot inputs."""
import os
from pathlib import Path

import numpy as np
import pytest

from thetas.data import (Students, dkt_batches, dkt_inputs, guess_format, load_assistments_csv, load_dkt_csv,
                         load_students, pad_batch, synthetic_5, synthetic_students)


def _exposures(concepts):
    """k_t: how many earlier steps practised the concept of step t, (T,)."""
    return np.array([np.sum(concepts[:t] == concepts[t]) for t in range(len(concepts))])


@pytest.fixture(scope="module")
def sim():
    return synthetic_students(seed=0)


# ---------------------------------------------------------------------------------------------- simulated students
def test_synthetic_shapes_concepts_and_seed(sim):
    assert len(sim) == 4000 and sim.num_questions == 50 and np.all(sim.lengths() == 50)
    assert sim.questions[0].dtype == np.int64 and sim.answers[0].dtype == np.int64
    assert np.bincount(sim.concepts, minlength=5).tolist() == [10] * 5          # every concept, 10 questions each
    order = sim.notes["order"]
    assert sorted(order) == list(range(50))                                      # each question once
    assert all(np.array_equal(q, order) for q in sim.questions)                  # the same order for all
    again, other = synthetic_students(seed=0), synthetic_students(seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(sim.answers, again.answers))
    assert not np.array_equal(np.stack(sim.answers), np.stack(other.answers))
    assert sorted(np.bincount(synthetic_students(100, 12, 5, seed=3).concepts)) == [2, 2, 2, 3, 3]


def test_synthetic_5_protocol():
    train, test = synthetic_5(seed=0)
    assert len(train) == len(test) == 2000 and train.num_questions == 50 and train.concepts is not None
    full = synthetic_students(4000, 50, 5, seed=0)
    assert np.array_equal(np.stack(test.answers), np.stack(full.answers[2000:]))


def test_practice_raises_p_correct():
    # Difficulty β confounds "later questions of a concept": regress it out with the true β (in notes);
    # a gain after every answer makes the effect linear in the number of exposures
    sim = synthetic_students(seed=0, skill_gain=0.1, skill_sd=1.0, learn_from="any")
    A = np.stack(sim.answers)                                                    # (N, T)
    order = sim.notes["order"]
    k, beta = _exposures(sim.concepts[order]), sim.notes["difficulty"][order]
    p = A.mean(0)
    logit = np.log((p - 0.25) / (1 - p))                                         # undo the guess floor
    slope = np.linalg.lstsq(np.c_[np.ones(50), k, beta], logit, rcond=None)[0][1]
    assert 0.04 < slope < 0.2                                                    # about skill_gain = 0.1 per answer
    # and plainly, with many exposures: the last 10 answers of a concept beat the first 10
    long = synthetic_students(2000, 200, 2, seed=0)
    A = np.stack(long.answers)
    k = _exposures(long.concepts[long.notes["order"]])
    assert A[:, k >= 90].mean() > A[:, k < 10].mean() + 0.2
    # no practice effect without the gain (same seed: same skills, difficulties, order)
    flat = synthetic_students(2000, 200, 2, seed=0, skill_gain=0.0)
    # the default learns from correct answers only: a student who learned nothing yet gains nothing from a wrong one
    learned = np.stack(synthetic_students(4000, 50, 5, seed=0).answers)
    none = np.stack(synthetic_students(4000, 50, 5, seed=0, skill_gain=0.0).answers)
    assert learned[:, 25:].mean() > none[:, 25:].mean() + 0.1 and abs(learned[:, 0].mean() - none[:, 0].mean()) < 0.01
    A0 = np.stack(flat.answers)
    assert abs(A0[:, k >= 90].mean() - A0[:, k < 10].mean()) < 0.08


def test_optimal_predictions_are_the_ceiling():
    from thetas.data import optimal_predictions
    from thetas.metrics import roc_auc
    _, test = synthetic_5(seed=0)
    P, A = optimal_predictions(test), np.stack(test.answers)
    auc = roc_auc(A[:, 1:].ravel(), P[:, 1:].ravel())
    base = roc_auc(A[:, 1:].ravel(), np.broadcast_to(A[:, 1:].mean(0), A[:, 1:].shape).ravel())
    assert 0.81 < auc < 0.85 and base < 0.75                  # the answers, not the positions, carry the signal
    assert abs(P.mean() - A.mean()) < 0.01                    # calibrated


def test_guess_floor(sim):
    assert np.stack(sim.answers).mean(0).min() > 0.25                           # even the hardest question
    # questions far too hard for anyone (β = 8): a guess is still right a quarter of the time, not never
    hard = np.stack(synthetic_students(2000, 20, 2, seed=0, difficulty=8.0).answers)
    assert 0.23 < hard.mean() < 0.28 and hard.mean(0).min() > 0.2
    assert np.stack(synthetic_students(2000, 20, 2, seed=0, difficulty=8.0, guess=0.0).answers).mean() < 0.01


def test_questions_of_one_concept_correlate(sim):
    A = np.stack(sim.answers).astype(float)
    c = sim.concepts[sim.notes["order"]]
    C = np.corrcoef(A.T)
    same = (c[:, None] == c[None, :]) & ~np.eye(50, dtype=bool)
    assert C[same].mean() > 0.05 and abs(C[c[:, None] != c[None, :]].mean()) < 0.01


# ---------------------------------------------------------------------------------------------- Students
def _tiny():
    return Students([[0, 1, 2], [2], [1, 1, 0, 2, 2]], [[1, 0, 1], [0], [0, 1, 1, 0, 1]], 3,
                    student_ids=["a", "b", "c"], notes={"k": 1})


def test_students_items_slices_and_validation():
    s = _tiny()
    assert len(s) == 3 and s.lengths().tolist() == [3, 1, 5]
    q, a = s[2]
    assert q.tolist() == [1, 1, 0, 2, 2] and a.tolist() == [0, 1, 1, 0, 1]
    sub = s[1:]
    assert isinstance(sub, Students) and sub.student_ids == ["b", "c"] and sub.notes == {"k": 1}
    assert s[[2, 0]].student_ids == ["c", "a"] and s[np.array([0])].lengths().tolist() == [3]
    with pytest.raises(ValueError, match="student 0 has 2 questions but 1 answers"):
        Students([[0, 1]], [[1]], 2)
    with pytest.raises(ValueError, match="0..1"):
        Students([[0, 2]], [[1, 1]], 2)
    with pytest.raises(ValueError, match="found 2"):
        Students([[0, 1]], [[1, 2]], 2)


def test_split_by_student_is_disjoint_and_complete(sim):
    train, test = sim.split(0.25, seed=0)
    assert len(test) == 1000 and len(train) == 3000
    ids = Students(sim.questions, sim.answers, 50, student_ids=range(len(sim)))
    tr, te = ids.split(num_test=7, seed=1)
    assert len(te) == 7 and set(tr.student_ids).isdisjoint(te.student_ids)
    assert sorted(tr.student_ids + te.student_ids) == list(range(len(sim)))
    assert tr.student_ids == sorted(tr.student_ids)                              # original order kept
    assert ids.split(num_test=7, seed=1)[1].student_ids == te.student_ids        # same seed, same split
    tr_idx, te_idx = ids.split_indices(num_test=7, seed=1)                       # the indices of that split
    assert tr_idx.tolist() == tr.student_ids and te_idx.tolist() == te.student_ids
    with pytest.raises(ValueError, match="8 test students asked for, but there are 5"):
        ids[:5].split_indices(num_test=8)


def test_windows_and_drop_short():
    s = _tiny()
    w = s.windows(2)
    assert [q.tolist() for q in w.questions] == [[0, 1], [2], [2], [1, 1], [0, 2], [2]]
    assert [a.tolist() for a in w.answers] == [[1, 0], [1], [0], [0, 1], [1, 0], [1]]
    assert w.student_ids == ["a", "a", "b", "c", "c", "c"]
    d = w.drop_short(2)
    assert d.lengths().tolist() == [2, 2, 2] and d.notes["dropped_short"] == 3
    assert s.windows(100).lengths().tolist() == [3, 1, 5]


# ---------------------------------------------------------------------------------------------- padding, one-hot
def test_pad_batch_and_mask():
    b = pad_batch(_tiny())
    assert b.questions.shape == (3, 5) and b.questions.dtype == np.int64
    assert b.questions.tolist() == [[0, 1, 2, 0, 0], [2, 0, 0, 0, 0], [1, 1, 0, 2, 2]]
    assert b.answers.tolist() == [[1, 0, 1, 0, 0], [0, 0, 0, 0, 0], [0, 1, 1, 0, 1]]
    assert b.mask.dtype == np.float32 and b.mask.tolist() == [[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1] * 5]
    assert b.lengths.tolist() == [3, 1, 5]
    assert pad_batch([([0, 1], [1, 1])], max_len=4).questions.shape == (1, 4)
    with pytest.raises(ValueError, match="windows"):
        pad_batch(_tiny(), max_len=4)


def test_dkt_inputs_one_hot_and_targets():
    b = pad_batch(_tiny())
    d = dkt_inputs(b.questions, b.answers, 3, b.mask)
    assert d.x.shape == (3, 5, 6) and d.x.dtype == np.float32
    # student 0 answers (q, a) = (0, right), (1, wrong), (2, right): units q + M·a = 3, 1, 5 with M = 3
    assert d.x[0, 0].tolist() == [0, 0, 0, 1, 0, 0]
    assert d.x[0, 1].tolist() == [0, 1, 0, 0, 0, 0]
    assert d.x[0, 2].tolist() == [0, 0, 0, 0, 0, 1]
    assert d.x[0, 3:].sum() == 0 and d.x[1, 1:].sum() == 0                      # padding: all-zero inputs
    assert np.all(d.x.sum(-1) == b.mask)                                         # exactly one unit per real step
    assert d.next_questions.tolist() == [[1, 2, 0, 0], [0, 0, 0, 0], [1, 0, 2, 2]]
    assert d.next_answers.dtype == np.float32 and d.next_answers[2].tolist() == [1, 1, 0, 1]
    assert d.target_mask.tolist() == [[1, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]]
    full = dkt_inputs(b.questions, b.answers, 3)                                  # no mask: every step is real
    assert full.target_mask.sum() == 12 and np.all(full.x.sum(-1) == 1)
    with pytest.raises(ValueError, match="0..1"):
        dkt_inputs(b.questions, b.answers, 2, b.mask)


def test_dkt_batches_cover_students_once(sim):
    small = sim[:103].windows(20)                                                # lengths 20, 20, 10
    seen = []
    for batch in dkt_batches(small, batch_size=16, shuffle=True, seed=0, bucket=True):
        assert batch.questions.shape[0] <= 16 and batch.mask.shape == batch.questions.shape
        seen.append(batch.lengths)
    assert sum(len(x) for x in seen) == len(small)
    assert sum(len(set(x)) > 1 for x in seen) <= 1                              # bucketed: one mixed batch at most
    lengths = np.concatenate(seen)
    assert sorted(lengths) == sorted(small.lengths())
    rng = np.random.default_rng(0)
    e1 = [b.answers for b in dkt_batches(sim[:50], 10, seed=rng)]
    e2 = [b.answers for b in dkt_batches(sim[:50], 10, seed=rng)]
    assert not all(np.array_equal(x, y) for x, y in zip(e1, e2))                 # a fresh order each epoch
    assert len(list(dkt_batches(sim[:50], 16, drop_last=True))) == 3


# ---------------------------------------------------------------------------------------------- DKT text files
def _write(tmp_path, text, name="kt.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_dkt_csv_remaps_sparse_ids(tmp_path):
    path = _write(tmp_path, "3\n 40, 7 ,40,\n1,0,1,\n2,\n1000,7\n0,0\n\n  \n")
    s = load_dkt_csv(path)
    assert s.num_questions == 3 and s.question_names == ("7", "40", "1000")
    assert s.questions[0].tolist() == [1, 0, 1] and s.questions[1].tolist() == [2, 0]
    assert s.answers[0].tolist() == [1, 0, 1] and s.student_ids is None
    other = load_dkt_csv(_write(tmp_path, "1\n40\n1\n", "t.csv"), question_names=s.question_names)
    assert other.num_questions == 3 and other.questions[0].tolist() == [1]
    with pytest.raises(ValueError, match=r"t2.csv, line 2: question id 41 is not among"):
        load_dkt_csv(_write(tmp_path, "1\n41\n1\n", "t2.csv"), question_names=s.question_names)
    ids = load_dkt_csv(_write(tmp_path, "2,17\n1,1\n0,1\n", "dsc.csv"))
    assert ids.student_ids == ["17"]


@pytest.mark.parametrize("text, message", [
    ("3\n1,2\n1,0,1\n", r"line 2: 2 question ids, but line 1 says this student has 3"),
    ("1\n5\n1\n2\n1,2\n1\n", r"line 6: 1 answers, but line 4 says this student has 2"),
    ("2\n1,2\n1,2\n", r"line 3, item 2: the answer is 2; answers must be 0 or 1"),
    ("2\n1,x\n1,0\n", r"line 2, item 2: the question id 'x' is not a non-negative whole number"),
    ("2\n1,-4\n1,0\n", r"line 2, item 2: the question id '-4' is not"),
    ("2\n1,,2\n1,0\n", r"line 2, item 2: the question id is empty"),
    ("two\n1,2\n1,0\n", r"line 1: expected the number of answers"),
    ("1\n1\n1\n2\n1,2\n", r"line 4: the file ends in the middle of a student"),
    ("1\n1\n1\n\n1\n1\n1\n", r"line 4: a blank line where the number of answers"),
    ("\n\n", r"the file is empty"),
])
def test_load_dkt_csv_rejects_malformed_files(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as err:
        load_dkt_csv(path)
    assert str(path) in str(err.value)


SAMPLE = (Path(os.environ.get("THETAS_DATA", "/nonexistent")) / "knowledge-tracing"
          / "assistments-sample-30-students.csv")


@pytest.mark.skipif(not SAMPLE.is_file(), reason="set THETAS_DATA to a folder holding knowledge-tracing/")
def test_load_dkt_csv_real_assistments_sample():
    # independent reading: plain string handling, three non-blank lines per student
    lines = [line.strip().rstrip(",") for line in SAMPLE.read_text().splitlines() if line.strip()]
    counts = [int(x) for x in lines[0::3]]
    ids = [int(x) for line in lines[1::3] for x in line.split(",")]
    correct = [int(x) for line in lines[2::3] for x in line.split(",")]
    s = load_dkt_csv(SAMPLE)
    assert len(s) == len(counts) == 30
    assert s.lengths().tolist() == counts and int(s.lengths().sum()) == len(ids)
    assert s.num_questions == len(set(ids)) and s.question_names == tuple(str(v) for v in sorted(set(ids)))
    names = np.array([int(v) for v in s.question_names])
    assert names[np.concatenate(s.questions)].tolist() == ids                    # the remap is invertible
    assert np.concatenate(s.answers).tolist() == correct
    d = s.drop_short(2)
    assert len(d) == sum(c >= 2 for c in counts)


# ---------------------------------------------------------------------------------------------- ASSISTments CSV
HEADER = "order_id,assignment_id,user_id,original,correct,problem_id,skill_id,skill_name\n"


def test_load_assistments_csv_orders_dedups_and_counts(tmp_path):
    rows = ["30,1,7,1,1,100,12,Addition",
            "10,1,7,1,0,100,12,Addition",
            "20,1,7,1,1,101,,",                     # no skill: dropped, counted
            "10,1,7,1,0,100,12,Addition",           # exact duplicate of line 3: dropped, counted
            "15,1,3,1,1,102,5,\"Pattern, finding\"",
            "40,1,7,1,1,103,5,\"Pattern, finding\"",
            "12,1,3,1,0,100,12,Addition",
            ""]
    path = _write(tmp_path, HEADER + "\n".join(rows) + "\n")
    s = load_assistments_csv(path)
    assert s.notes["rows"] == 7 and s.notes["dropped_duplicates"] == 1 and s.notes["dropped_no_skill"] == 1
    assert s.notes["kept"] == 5 == int(s.lengths().sum())
    assert s.student_ids == ["3", "7"] and s.question_names == ("5", "12")
    assert s.questions[0].tolist() == [1, 0] and s.answers[0].tolist() == [0, 1]     # user 3: order 12, 15
    assert s.questions[1].tolist() == [1, 1, 0] and s.answers[1].tolist() == [0, 1, 1]  # user 7: 10, 30, 40
    p = load_assistments_csv(path, question="problem_id")
    assert p.question_names == ("100", "101", "102", "103") and p.notes["dropped_no_problem"] == 0
    assert p.lengths().tolist() == [2, 4]


def test_load_assistments_csv_latin1_and_float_ids(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes((HEADER + "1,1,2,1,1,9,4.0,Fractions \xe9\n").encode("latin-1"))
    s = load_assistments_csv(path)
    assert s.notes["encoding"] == "latin-1" and s.question_names == ("4",)


@pytest.mark.parametrize("row, message", [
    ("1,1,2,1,yes,9,4,x", r"line 3, column 'correct': 'yes' is not a whole number"),
    ("1,1,2,1,2,9,4,x", r"line 3, column 'correct': '2'; it must be 0 or 1"),
    ("1,1,u2,1,1,9,4,x", r"line 3, column 'user_id': 'u2' is not a whole number"),
    ("1,1,2,1,1,9,4_5,x", r"line 3, column 'skill_id': '4_5' is not a whole number"),
    ("1,1,2,1,1,9", r"line 3: 6 cells, but the header has 8 columns"),
])
def test_load_assistments_csv_errors_name_line_and_column(tmp_path, row, message):
    path = _write(tmp_path, HEADER + "5,1,2,1,0,9,4,x\n" + row + "\n")
    with pytest.raises(ValueError, match=message) as err:
        load_assistments_csv(path)
    assert str(path) in str(err.value)


def test_load_assistments_csv_missing_column(tmp_path):
    path = _write(tmp_path, "order_id,user_id,correct\n1,2,1\n")
    with pytest.raises(ValueError, match=r"line 1: no column 'skill_id' in the header"):
        load_assistments_csv(path)


def test_load_assistments_csv_header_only_and_all_dropped(tmp_path):
    empty = load_assistments_csv(_write(tmp_path, HEADER))
    assert len(empty) == 0 and empty.num_questions == 0 and empty.notes["rows"] == 0
    none = load_assistments_csv(_write(tmp_path, HEADER + "1,1,2,1,1,9,,\n", "noskill.csv"))
    assert len(none) == 0 and none.notes["dropped_no_skill"] == 1 and none.notes["kept"] == 0


def test_load_students_guesses_the_format(tmp_path):
    dkt = _write(tmp_path, "3\n7,9,7\n1,0,1\n", name="three-lines.csv")
    assistments = _write(tmp_path, HEADER + "10,1,7,1,0,100,12,Addition\n", name="assistments.csv")
    assert guess_format(dkt) == "dkt-csv" and guess_format(assistments) == "assistments"
    a = load_students(dkt)
    assert a.question_names == ("7", "9") and a.questions[0].tolist() == [0, 1, 0]
    b = load_students(assistments)
    assert b.question_names == ("12",) and b.student_ids == ["7"]
    assert load_students(dkt, "dkt-csv").question_names == a.question_names
    with pytest.raises(ValueError, match="line 1"):                   # told the wrong format: the loader's error
        load_students(assistments, "dkt-csv")
    with pytest.raises(ValueError, match="format must be one of dkt-csv, assistments"):
        load_students(dkt, "csv")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_students(tmp_path / "missing.csv")


def test_load_dkt_csv_reads_latin1_when_not_utf8(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("2,Zoë\n4,5\n1,0\n".encode("latin-1"))
    s = load_dkt_csv(path)
    assert s.student_ids == ["Zoë"] and s.question_names == ("4", "5")


# ---------------------------------------------------------------------------------- exact ids, hostile cells
def test_assistments_ids_are_parsed_exactly_never_through_float(tmp_path):
    rows = ["1,1,9007199254740992,1,1,9,4,a", "2,1,9007199254740993,1,0,9,4,a",     # 2^53 and 2^53 + 1
            "3,1,9007199254740993,1,1,9,12.0,a", "4,1,7,1,1,9,9223372036854775807,a"]
    s = load_assistments_csv(_write(tmp_path, HEADER + "\n".join(rows) + "\n"))
    assert s.student_ids == ["7", "9007199254740992", "9007199254740993"]
    assert s.question_names == ("4", "12", "9223372036854775807")


@pytest.mark.parametrize("cell", ["1e300", "2e300", "9223372036854775808", "-9223372036854775809", "1e400"])
def test_assistments_ids_too_large_are_refused_not_merged(tmp_path, cell):
    path = _write(tmp_path, HEADER + "1,1,2,1,1,9,4,a\n" + f"2,1,2,1,1,9,{cell},a\n")
    with pytest.raises(ValueError, match=f"kt.csv, line 3, column 'skill_id': '{cell}' is too large for a 64-bit"):
        load_assistments_csv(path)


def test_a_cell_over_the_csv_field_limit_names_file_and_line(tmp_path):
    path = _write(tmp_path, HEADER + "1,1,2,1,1,9,4,a\n" + "2,1,2,1,1,9,4," + "x" * 200_000 + "\n")
    for reader in (load_assistments_csv, load_students):
        with pytest.raises(ValueError, match=r"kt.csv, line 3: not a CSV row.*field larger than field limit"):
            reader(path)


def test_dkt_items_too_large_or_huge_are_refused(tmp_path):
    with pytest.raises(ValueError, match="line 2, item 1: the question id '9223372036854775808' is too large"):
        load_dkt_csv(_write(tmp_path, "1\n9223372036854775808\n1\n"))
    with pytest.raises(ValueError, match="line 1: the number of answers '9{40}.*is too large"):
        load_dkt_csv(_write(tmp_path, "9" * 5000 + "\n1\n1\n"))
    with pytest.raises(ValueError, match=r"line 2, item 2: the question id '7{40}'\.\.\. \(100000 characters\) is not"):
        load_dkt_csv(_write(tmp_path, "2\n1," + "7" * 99_999 + "x\n1,1\n"))
    assert load_dkt_csv(_write(tmp_path, "2\n" + "0" * 5000 + "3,9223372036854775807\n1,0\n")).question_names == \
        ("3", "9223372036854775807")
