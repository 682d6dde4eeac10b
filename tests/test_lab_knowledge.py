"""The Knowledge tracing page: its API through Starlette's TestClient (a DKT trained at first use, in a temporary
cache), then the page itself in headless Chromium (skipped without Playwright or Chromium)."""
import os
import time
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the lab needs the 'lab' extra: pip install \"thetas[lab]\"")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from lab_support import need_browser, new_page, refused, screenshots, serve
from thetas.lab import create_app
from thetas.data import synthetic_students
from thetas.lab import knowledge as kt
from thetas.lab.knowledge import MAX_LEN, NUM_STUDENTS
from thetas.lab.schema import from_b64
from thetas.lab.server import PAGES

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def wait_ready(client, key=None):
    """The status once the data set's job has ended: its thread is joined (``BackgroundJob.wait``), not polled
    against a deadline; the timeout only stops a hang."""
    query = "" if key is None else f"?dataset={key}"
    status = client.get(f"/api/knowledge/status{query}").json()       # starts the job if it has not started
    client.app.lab.services["knowledge"].dataset(key).wait(timeout=600)
    status = client.get(f"/api/knowledge/status{query}").json()
    assert status["state"] == "ready", status
    return status


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("kt-cache")


@pytest.fixture(scope="module")
def client(cache):
    with TestClient(create_app(cache=str(cache), autostart=False)) as c:
        first = c.get("/api/knowledge/status").json()
        assert first["state"] in ("training", "ready")
        assert "progress" in first
        wait_ready(c)
        yield c


def check_state(s):
    T, M = len(s["questions"]), s["num_questions"]
    assert len(s["answers"]) == T and set(s["answers"]) <= {0, 1}
    trace = from_b64(s["trace"])
    assert trace.shape == (T, M) and np.all((trace >= 0) & (trace <= 1))
    assert len(s["mastery"]) == M and len(s["gains"]) == M
    assert np.allclose(s["mastery"], trace[-1], atol=1e-6)
    assert 0 <= s["suggestion"]["question"] < M
    assert s["suggestion"]["gain"] == pytest.approx(np.nanmax(s["gains"]))
    return trace


def test_the_page_is_served_and_in_the_nav(client):
    r = client.get("/knowledge")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "/static/knowledge.js" in r.text and "http://" not in r.text and "https://" not in r.text
    assert client.get("/static/knowledge.js").status_code == 200
    assert '<a href="/knowledge" class="active">Knowledge tracing</a>' in r.text  # the served nav


def test_status_lists_the_students_and_the_model_is_cached(client, cache):
    s = client.get("/api/knowledge/status").json()
    assert s["state"] == "ready" and s["num_questions"] == 50 and len(s["students"]) == NUM_STUDENTS
    assert (Path(cache) / "dkt-synthetic5.safetensors").is_file()
    with TestClient(create_app(cache=str(cache), autostart=False)) as c2:       # the second start loads it
        wait_ready(c2)
        assert c2.app.lab.services["knowledge"].datasets[kt.SYNTHETIC].seconds is None   # no child trained


def test_the_concept_graph(client):
    g = client.get("/api/knowledge/status").json()["graph"]
    assert g is not None and len(g["edges"]) > 0
    for i, j, w in g["edges"]:
        assert isinstance(i, int) and isinstance(j, int) and 0 <= i < 50 and 0 <= j < 50 and i != j
        assert w > 0
    weights = [w for _, _, w in g["edges"]]
    assert weights == sorted(weights, reverse=True)
    try:
        import sklearn  # noqa: F401
    except ImportError:
        assert g["labels"] is None
    else:
        assert len(g["labels"]) == 50 and all(isinstance(v, int) for v in g["labels"])
        assert 1 < len(set(g["labels"])) <= 5


def test_a_session_and_answering_as_the_student(client):
    s = client.post("/api/knowledge/sessions", json={"student": 3}).json()
    trace = check_state(s)
    T = len(s["questions"])
    assert T == s["original"] > 0
    q = s["suggestion"]["question"]
    s2 = client.post(f"/api/knowledge/{s['session']}/answer", json={"question": q, "correct": 1}).json()
    trace2 = check_state(s2)
    assert len(s2["questions"]) == T + 1 and s2["questions"][-1] == q and s2["answers"][-1] == 1
    assert np.allclose(trace2[:T], trace, atol=1e-5)                 # the past is unchanged
    s3 = client.post(f"/api/knowledge/{s['session']}/answer", json={"question": q, "correct": 0}).json()
    assert len(check_state(s3)) == T + 2 and s3["answers"][-1] == 0
    # a right answer predicts more mastery of that question than a wrong one
    assert from_b64(s2["trace"])[-1, q] > from_b64(s3["trace"])[-1, q]
    short = client.post("/api/knowledge/sessions", json={"student": 0, "steps": 0}).json()
    assert len(short["questions"]) == 0 and from_b64(short["trace"]).shape == (0, 50)


def test_bad_requests_are_refused_and_the_server_carries_on(client, monkeypatch):
    sid = client.post("/api/knowledge/sessions", json={"student": 1}).json()["session"]
    url = f"/api/knowledge/{sid}/answer"
    refused(client.post("/api/knowledge/sessions", json={"student": NUM_STUDENTS}), 422, "student")
    refused(client.post("/api/knowledge/sessions", json={"student": -1}), 422, "student")
    refused(client.post("/api/knowledge/sessions", json={"student": "a"}), 422, "student")
    refused(client.post("/api/knowledge/sessions", json={}), 422, "student")
    refused(client.post(url, json={"question": 50, "correct": 1}), 422, "question")
    refused(client.post(url, json={"question": 1.5, "correct": 1}), 422, "question")
    refused(client.post(url, json={"question": 3, "correct": 2}), 422, "correct")
    refused(client.post(url, json={"question": 3, "correct": True}), 422, "correct")
    refused(client.post(url, json={"question": 3}), 422, "correct")
    refused(client.post(url, content=b"{", headers={"content-type": "application/json"}), 400, "JSON")
    refused(client.post(url, content=b"a" * 100_000, headers={"content-type": "application/json"}), 413)
    refused(client.post("/api/knowledge/AAAAAAAAAAAA/answer", json={"question": 3, "correct": 1}), 404, "session")
    refused(client.post("/api/knowledge/bad!id/answer", json={"question": 3, "correct": 1}), 404, "session")
    s = client.post(url, json={"question": 3, "correct": 1}).json()         # still answering
    assert s["questions"][-1] == 3
    # the length is capped at kt.MAX_LEN: lowered to 3 answers from here (every answer recomputes the whole trace)
    monkeypatch.setattr(kt, "MAX_LEN", len(s["questions"]) + 3)
    while len(s["questions"]) < kt.MAX_LEN:
        s = client.post(url, json={"question": 4, "correct": 1}).json()
    refused(client.post(url, json={"question": 3, "correct": 1}), 422, str(kt.MAX_LEN))
    assert client.get("/api/knowledge/status").json()["state"] == "ready"


# ---------------------------------------------------------------------------------------------- a loaded file
def dkt_text(students, offset=100):
    """Students in the DKT code's three-line format, question ids shifted by ``offset`` (the lab renumbers them)."""
    lines = []
    for q, a in zip(students.questions, students.answers):
        lines += [f"{len(q)}", ",".join(str(v + offset) for v in q), ",".join(map(str, a))]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def students_text():
    # 200 simulated students, 20 questions over 3 concepts: the best possible AUC is 0.79
    return dkt_text(synthetic_students(num_students=200, num_questions=20, num_concepts=3, seed=1))


def wait_dataset(client, key):
    return wait_ready(client, key)


def test_an_uploaded_file_trains_a_dkt_and_its_students_can_be_picked(client, cache, students_text):
    r = client.post("/api/knowledge/datasets", json={"name": "class-7b.csv", "text": students_text})
    assert r.status_code == 200, r.text
    first = r.json()
    key = first["dataset"]
    assert key.startswith("file-") and first["name"] == "class-7b.csv" and first["kind"] == "file"
    assert first["state"] in ("training", "ready") and "160 students" in first["description"]
    assert key in [d["key"] for d in first["datasets"]] and first["default"] == "synthetic-5"
    s = wait_dataset(client, key)
    assert s["num_questions"] == 20 and s["question_names"] == [str(100 + j) for j in range(20)]
    assert len(s["students"]) == 200 and sum(st["held_out"] for st in s["students"]) == 40
    assert s["students"][0]["name"] == "student 1" and s["students"][0]["answers"] == 20
    assert s["auc"] > 0.65, s["message"]                 # it learned: the held-out AUC (ceiling 0.79)
    assert "held-out" in s["message"] and s["graph"] is not None and len(s["graph"]["edges"]) > 0
    digest = key[len("file-"):]
    assert (Path(cache) / f"students-{digest}.txt").read_text() == students_text
    assert (Path(cache) / f"dkt-file-{kt.CACHE_VERSION}-{digest}.safetensors").is_file()
    # the page's default is still synthetic-5
    assert client.get("/api/knowledge/status").json()["dataset"] == "synthetic-5"
    # a held-out student: a session, answering as them
    i = next(st["index"] for st in s["students"] if st["held_out"])
    session = client.post("/api/knowledge/sessions", json={"dataset": key, "student": i}).json()
    check_state(session)
    assert session["dataset"] == key and session["num_questions"] == 20 and len(session["questions"]) == 20
    after = client.post(f"/api/knowledge/{session['session']}/answer", json={"question": 19, "correct": 1}).json()
    assert len(check_state(after)) == 21
    refused(client.post(f"/api/knowledge/{session['session']}/answer", json={"question": 20, "correct": 1}),
            422, "question")
    refused(client.post("/api/knowledge/sessions", json={"dataset": key, "student": 200}), 422, "student")
    # the same file again: the same data set, its model already there
    again = client.post("/api/knowledge/datasets", json={"name": "copy.csv", "text": students_text}).json()
    assert again["dataset"] == key and again["state"] == "ready"
    # a new server over the same cache loads the file's model instead of training it
    with TestClient(create_app(cache=str(cache), autostart=False)) as c2:
        k2 = c2.post("/api/knowledge/datasets", json={"name": "class-7b.csv", "text": students_text}).json()
        assert wait_dataset(c2, k2["dataset"])["auc"] == pytest.approx(s["auc"])
        assert c2.app.lab.services["knowledge"].datasets[k2["dataset"]].seconds is None   # no child trained


def test_an_assistments_csv_upload_names_students_and_skills(client):
    header = "order_id,assignment_id,user_id,original,correct,problem_id,skill_id,skill_name\n"
    rng = np.random.default_rng(0)
    rows = [f"{k},1,{user},1,{int(rng.random() < 0.6)},{100 + k % 7},{[12, 40, 311][k % 3]},skill"
            for user in (31, 47, 52, 60, 75) for k in range(user * 100, user * 100 + 12)]
    s = client.post("/api/knowledge/datasets", json={"name": "a.csv", "text": header + "\n".join(rows)}).json()
    s = wait_dataset(client, s["dataset"])
    assert s["question_names"] == ["12", "40", "311"] and s["num_questions"] == 3
    assert [st["name"] for st in s["students"]] == ["student 31", "student 47", "student 52", "student 60",
                                                    "student 75"]
    assert sum(st["held_out"] for st in s["students"]) == 1
    assert s["graph"] is not None and s["graph"]["labels"] is None          # 3 questions: no concepts to find


SAMPLE = Path(os.environ.get("THETAS_DATA", "/nonexistent")) / "knowledge-tracing" / "assistments-sample-30-students.csv"


@pytest.mark.skipif(not SAMPLE.is_file(), reason="set THETAS_DATA to a folder holding knowledge-tracing/")
def test_the_real_assistments_sample_from_the_command_line(tmp_path):
    with TestClient(create_app(cache=str(tmp_path), autostart=False, students=str(SAMPLE))) as c:
        s = wait_ready(c)
        counts = [int(line) for line in SAMPLE.read_text().splitlines()[0::3] if line.strip()]
        assert s["name"] == SAMPLE.name and len(s["students"]) == sum(n >= 2 for n in counts)
        assert s["num_questions"] == 57 and s["auc"] is not None and 0 <= s["auc"] <= 1
        longest = max(s["students"], key=lambda st: st["answers"])
        session = c.post("/api/knowledge/sessions", json={"student": longest["index"]}).json()
        check_state(session)
        assert longest["answers"] == 140 and len(session["questions"]) == session["total"] == 140


def test_a_long_history_starts_with_its_first_answers(client):
    rng = np.random.default_rng(1)
    text = "".join(f"300\n{','.join(map(str, rng.integers(0, 5, 300)))}\n{','.join(map(str, rng.integers(0, 2, 300)))}\n"
                   for _ in range(2))
    key = client.post("/api/knowledge/datasets", json={"name": "long.csv", "text": text}).json()["dataset"]
    wait_dataset(client, key)
    s = client.post("/api/knowledge/sessions", json={"dataset": key, "student": 0}).json()
    check_state(s)
    assert s["total"] == 300 and s["original"] == len(s["questions"]) == kt.START_LEN < MAX_LEN
    refused(client.post("/api/knowledge/sessions", json={"dataset": key, "student": 0, "steps": kt.START_LEN + 1}),
            422, "steps")


def test_bad_uploads_are_refused_with_the_file_named(client, monkeypatch):
    url = "/api/knowledge/datasets"
    refused(client.post(url, json={"name": "x.csv", "text": 5}), 422, "text")
    refused(client.post(url, json={"name": "x.csv"}), 422, "text")
    refused(client.post(url, json={"name": "empty.csv", "text": "  \n"}), 422, "empty.csv is empty")
    refused(client.post(url, json={"name": "bad.csv", "text": "3\n1,2,3\n1,0\n"}), 422, "bad.csv, line 3")
    refused(client.post(url, json={"name": "bad.csv", "text": "2\n1,2\n1,7\n"}), 422, "0 or 1")
    refused(client.post(url, content=b'{"name": "s.csv", "text": "2\\n1,\\ud800\\n1,0\\n"}',     # a lone surrogate
                        headers={"content-type": "application/json"}), 422, "s.csv, line 2")
    refused(client.post(url, json={"name": "one.csv", "text": "2\n1,2\n1,0\n1\n4\n1\n"}), 422, "at least 2")
    refused(client.post(url, json={"name": "h.csv", "text": "user_id,correct\n1,1\n"}), 422, "order_id")
    big = "2\n1,2\n1,0\n" * (kt.UPLOAD_CHARS // 10 + 1)                   # one character over the limit
    refused(client.post(url, json={"name": "big.csv", "text": big}), 413, "--students")
    with monkeypatch.context() as m:                  # a file within the characters but with too many students
        m.setattr(kt, "MAX_FILE_STUDENTS", 3)
        refused(client.post(url, json={"name": "many.csv", "text": "2\n1,2\n1,0\n" * 4}), 413,
                "many.csv has 4 students; at most 3")
    refused(client.post(url, content=b"a" * (kt.UPLOAD_LIMIT + 1), headers={"content-type": "application/json"}),
            413)
    refused(client.get("/api/knowledge/status?dataset=file-0123"), 404, "no such data set")
    refused(client.post("/api/knowledge/sessions", json={"dataset": "nope", "student": 0}), 404, "no such data set")
    refused(client.post("/api/knowledge/sessions", json={"dataset": ["x"], "student": 0}), 404, "no such data set")
    assert client.get("/api/knowledge/status").json()["state"] == "ready"      # still answering


def test_a_giant_csv_cell_is_a_422_and_leaves_no_scratch_file(client, cache):
    """An ASSISTments upload with a 200,000-character cell was a 500 (csv.Error) and left its upload-*.tmp."""
    text = "order_id,user_id,skill_id,correct\n1,7,3,1\n2,7,\"" + "x" * 200_000 + "\",0\n3,8,3,1\n4,8,3,0\n"
    r = client.post("/api/knowledge/datasets", json={"name": "giant.csv", "text": text})
    assert r.status_code == 422 and "giant.csv" in r.json()["error"], r.text[:300]
    assert not list(cache.glob("upload-*.tmp"))


def test_old_files_make_room_and_the_command_line_file_is_the_default(tmp_path, monkeypatch, students_text):
    monkeypatch.setattr(kt, "MAX_FILES", 1)
    small = dkt_text(synthetic_students(num_students=20, num_questions=6, num_concepts=2, seed=2))
    path = tmp_path / "answers.txt"
    path.write_text(small)
    with TestClient(create_app(cache=str(tmp_path / "c"), autostart=False, students=str(path))) as c:
        s = c.get("/api/knowledge/status").json()                             # the command line's file
        assert s["kind"] == "file" and s["name"] == "answers.txt" and s["default"] == s["dataset"]
        first = wait_dataset(c, s["dataset"])["dataset"]
        other = c.post("/api/knowledge/datasets", json={"name": "b.csv", "text": small + small}).json()["dataset"]
        wait_dataset(c, other)
        third = c.post("/api/knowledge/datasets", json={"name": "c.csv", "text": small * 3}).json()["dataset"]
        keys = [d["key"] for d in c.get(f"/api/knowledge/status?dataset={third}").json()["datasets"]]
        assert first in keys and third in keys and other not in keys          # the default file stays
        refused(c.get(f"/api/knowledge/status?dataset={other}"), 404, "no such data set")
        digest = other.removeprefix("file-")                                   # and its files left the cache
        assert not [p for p in (tmp_path / "c").iterdir() if digest in p.name]
    with pytest.raises(ValueError, match="line 3"):
        bad = tmp_path / "bad.txt"
        bad.write_text("3\n1,2,3\n1,0\n")
        create_app(cache=str(tmp_path / "c"), autostart=False, students=str(bad))
    with pytest.raises(kt.StudentsFileError, match="no such file"):
        create_app(cache=str(tmp_path / "c"), autostart=False, students=str(tmp_path / "missing.txt"))


def test_ten_uploads_at_once_keep_the_cache_bounded(tmp_path, monkeypatch):
    """Ten uploads in a row: at most MAX_FILES data sets stay, the others are cancelled and their files removed,
    and at most MAX_TRAININGS children train at once (the rest wait their turn)."""
    from thetas.lab import jobs
    running, most = [], [0]

    def fake_child(self, args):          # stands in for the training process: counts who runs at once
        running.append(self)
        most[0] = max(most[0], len(running))
        time.sleep(0.2)
        running.remove(self)
        raise RuntimeError("no training in this test")
    monkeypatch.setattr(jobs.BackgroundJob, "_run_child", fake_child)
    texts = [dkt_text(synthetic_students(num_students=12, num_questions=5, num_concepts=1, seed=s))
             for s in range(10)]
    cache = tmp_path / "c"
    with TestClient(create_app(cache=str(cache), autostart=False)) as c:
        for i, text in enumerate(texts):
            assert c.post("/api/knowledge/datasets", json={"name": f"u{i}.csv", "text": text}).status_code == 200
        datasets = c.get("/api/knowledge/status").json()["datasets"]
        assert len([d for d in datasets if d["kind"] == "file"]) == kt.MAX_FILES
        assert len(list(cache.glob("students-*.txt"))) == kt.MAX_FILES
        deadline = time.monotonic() + 60
        while any(d["state"] == "training" for d in c.get("/api/knowledge/status").json()["datasets"]) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
    assert 1 <= most[0] <= jobs.MAX_TRAININGS


# ---------------------------------------------------------------------------------------------- the browser
def test_the_page_in_a_browser(cache, tmp_path, monkeypatch):
    need_browser()
    from playwright.sync_api import sync_playwright
    app = create_app(cache=str(tmp_path / "fresh-cache"), autostart=False, allowed_hosts=["127.0.0.1"])
    # the page is tested here, not the models' skill (the API tests above check it): the shortest trainings,
    # 1 epoch of synthetic-5 and 3 epochs (EPOCHS) of an uploaded file, still through "training…" to the heatmap
    app.lab.services["knowledge"].datasets[kt.SYNTHETIC].epochs = 1
    monkeypatch.setattr(kt, "FILE_STEPS", 1)
    shots = screenshots(tmp_path)
    with serve(app) as url, sync_playwright() as p:
        b, pg, errors = new_page(p)
        pg.goto(url + "/knowledge")                 # a fresh cache: "training…" first, then the heatmap
        assert pg.locator("header.nav nav a").count() == len(PAGES)
        assert pg.locator("header.nav nav a.active").inner_text() == "Knowledge tracing"
        pg.wait_for_function("() => +(document.querySelector('#heatmap').dataset.steps || 0) > 0",
                             timeout=120_000)
        before = pg.locator("#timeline span").count()
        assert before > 0 and pg.locator("#suggestion").inner_text().isdigit()
        pg.click("#answer-correct")
        pg.wait_for_function(f"() => document.querySelectorAll('#timeline span').length === {before + 1}")
        assert pg.locator("#timeline span.mine").count() == 1
        assert pg.locator("#heatmap").get_attribute("data-steps") == str(before + 1)
        mastery = float(pg.locator("#mastery").inner_text())
        pg.click("#answer-wrong")
        pg.wait_for_function(f"() => document.querySelectorAll('#timeline span').length === {before + 2}")
        assert "wrong" in pg.locator("#timeline span").last.get_attribute("class")
        rose = float(pg.locator("#mastery").inner_text()) > mastery + 0.001      # explained when it happens
        assert pg.locator("#mastery-note").is_visible() == rose
        if rose:
            assert "not a grade" in pg.locator("#mastery-note").inner_text()
        # every few rows are labelled, and hovering a cell names its question, answer and probability
        assert pg.locator("#kt-axis span").count() >= 10
        box = pg.locator("#heatmap").bounding_box()
        pg.mouse.move(box["x"] + box["width"] - 2, box["y"] + 2)
        assert re.search(r"after answer \d+ \(question \d+, (right|wrong)\): P\(question 0 correct\) = 0\.\d+",
                         pg.locator("#heatmap").get_attribute("title"))
        note = pg.locator("#suggestion-note").inner_text()
        gain = float(re.search(r"mean mastery by ([+−-]?[\d.]+)", note).group(1).replace("−", "-"))
        assert ("No question is expected to raise" in note) == (gain <= 0)
        pg.select_option("#student", "5")
        pg.wait_for_function("() => document.querySelectorAll('#timeline span.mine').length === 0")
        pg.click("#answer-correct")
        pg.wait_for_function("() => document.querySelectorAll('#timeline span.mine').length === 1")
        pg.wait_for_function("() => document.querySelectorAll('#graph .kt-node').length === 50")
        assert pg.locator("#graph .kt-node").count() == 50
        assert pg.locator("#graph .kt-edges line").count() > 0
        pg.screenshot(path=str(shots / "knowledge.png"), full_page=True)
        # a malformed file: its error (file and line) in the page, the page stays on synthetic-5
        pg.set_input_files("#upload", files=[{"name": "broken.csv", "mimeType": "text/csv",
                                              "buffer": b"3\n1,2,3\n1,0\n"}])
        pg.wait_for_selector("#error:not([hidden])")
        assert "broken.csv, line 3" in pg.locator("#error").inner_text()
        assert pg.locator("#dataset").input_value() == "synthetic-5"
        errors[:] = [e for e in errors if "422" not in e]      # the refused upload's own console line
        # a file of students from the user's disk: uploaded, a DKT trained on it, its students offered
        text = dkt_text(synthetic_students(num_students=60, num_questions=12, num_concepts=3, seed=3))
        pg.set_input_files("#upload", files=[{"name": "class-7b.csv", "mimeType": "text/csv",
                                              "buffer": text.encode()}])
        pg.wait_for_function("() => document.querySelector('#dataset').value.startsWith('file-') && "
                             "document.querySelector('#kt-model').textContent.includes('held-out')", timeout=120_000)
        pg.wait_for_function("() => document.querySelectorAll('#graph .kt-node').length === 12")
        assert "class-7b.csv" in pg.locator("#dataset option:checked").inner_text()
        assert "from class-7b.csv: 12 questions" in pg.locator("#kt-about").inner_text()
        assert "Only 48 students to learn from" in pg.locator("#kt-model").inner_text()     # 60, 12 held out
        assert pg.locator("#student option").count() == 60
        assert pg.locator("#student option", has_text="held out").count() == 12
        assert pg.locator("#kt-last-q").inner_text() == "q11"
        pg.wait_for_function("() => +(document.querySelector('#heatmap').dataset.steps || 0) === 12")
        assert "(id 1" in pg.locator("#timeline span").first.get_attribute("title")   # the file's own ids
        pg.click("#answer-correct")
        pg.wait_for_function("() => document.querySelectorAll('#timeline span.mine').length === 1")
        pg.screenshot(path=str(shots / "knowledge-file.png"), full_page=True)
        # 160 questions: too many for the concept graph's circle; the rest of the page works
        many = dkt_text(synthetic_students(num_students=40, num_questions=160, num_concepts=4, seed=4))
        pg.set_input_files("#upload", files=[{"name": "many.csv", "mimeType": "text/csv", "buffer": many.encode()}])
        pg.wait_for_function("() => document.querySelector('#kt-last-q').textContent === 'q159'", timeout=120_000)
        assert "160 questions are too many to draw" in pg.locator("#graph-note").inner_text()
        assert pg.locator("#graph .kt-node").count() == 0
        pg.wait_for_function("() => +(document.querySelector('#heatmap').dataset.steps || 0) === 150")
        pg.select_option("#dataset", "synthetic-5")                     # and back: its students again
        pg.wait_for_function("() => document.querySelectorAll('#student option').length === 20")
        assert errors == [], errors
        b.close()
