"""The batch grader end to end: solutions score full marks, generated exercises zero ("not
implemented"), each classic bug loses exactly its task's points with the right diagnosis, the
submissions are never modified, and sharded runs merge into the same gradebook."""

import csv
import hashlib
import json
import os
import re
from pathlib import Path

import pytest

from grading_fixtures.build import EXERCISE_FILES, make_notebook, solution_cell_id, write
from grading_fixtures.procs import descendants as _descendants
from grading_fixtures.wrong import WRONG
from rnncourse.cli import main
from rnncourse.grading.grader import grade
from rnncourse.grading.probes import TASKS, tasks_of

pytestmark = pytest.mark.skipif(
    not os.access("/usr/bin/bwrap", os.X_OK),
    reason="bubblewrap is not installed (apt-get install bubblewrap)",
)
SEED = 777
# A sequence function that calls the student's own step function is graded with the course's step
# function swapped in (TaskSpec.helpers), so every bug costs exactly its own task's points.


# right values in float32: judged to float32 precision, full points with a note
FLOAT32_STEP = """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b).astype(np.float32)
    return h_next, RNNStepCache(x, h_prev, Wx, Wh, h_next)
"""


def _digest(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*.ipynb"))}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("subs")
    for ex in EXERCISE_FILES:
        write(make_notebook(ex), subs / f"full-{ex}" / EXERCISE_FILES[ex].name)
        write(make_notebook(ex, source="exercises"), subs / f"blank-{ex}" / EXERCISE_FILES[ex].name)
    for bug, (task, src, _) in WRONG.items():
        ex = task.split(".")[0]
        write(make_notebook(ex, {solution_cell_id(task): src}), subs / f"bug-{bug}" / EXERCISE_FILES[ex].name)
    f32 = {solution_cell_id("ex1.rnn_step_forward"): FLOAT32_STEP}
    write(make_notebook("ex1", f32), subs / "float32-ex1" / EXERCISE_FILES["ex1"].name)
    before = _digest(subs)
    out = tmp_path_factory.mktemp("out")
    results = grade([subs], out, jobs=2, seed=SEED, log=lambda m: None)
    return {r.student: r for r in results}, out, before, _digest(subs)


def test_solutions_score_full_marks(graded):
    results, *_ = graded
    for ex in EXERCISE_FILES:
        r = results[f"full-{ex}"]
        assert r.exercise == ex
        assert {t: v.points for t, v in r.tasks.items()} == {s.id: s.points for s in tasks_of(ex)}, r.issues
        assert not r.flags and not any(t.flags for t in r.tasks.values())


def test_generated_exercises_score_zero_not_implemented(graded):
    results, *_ = graded
    for ex in EXERCISE_FILES:
        r = results[f"blank-{ex}"]
        assert r.points == 0
        for t in r.tasks.values():
            assert t.diagnosis == ["not implemented yet"], (t.task, t.diagnosis)


@pytest.mark.parametrize("bug", sorted(WRONG))
def test_each_classic_bug_loses_its_points_with_the_right_diagnosis(graded, bug):
    results, out, *_ = graded
    task, _, phrase = WRONG[bug]
    r = results[f"bug-{bug}"]
    assert set(r.tasks) == {s.id for s in tasks_of(task.split(".")[0])}, r.issues
    for t, v in r.tasks.items():
        expected = 0 if t == task else TASKS[t].points
        assert v.points == expected, (t, v.diagnosis)
    assert phrase in " ".join(r.tasks[task].diagnosis)
    assert phrase in (out / "feedback" / f"bug-{bug}.txt").read_text()


def test_right_values_in_float32_earn_full_points_with_a_note(graded):
    results, out, *_ = graded
    r = results["float32-ex1"]
    assert {t: v.points for t, v in r.tasks.items()} == {s.id: s.points for s in tasks_of("ex1")}, r.issues
    text = (out / "feedback" / "float32-ex1.txt").read_text()
    assert "`h_next` came back as float32; accepted" in text, text
    assert "keep float64" not in text, text


def test_gradebook_and_feedback_files(graded):
    results, out, before, after = graded
    assert before == after, "the grader modified a submission"
    rows = {row["student"]: row for row in csv.DictReader(open(out / "grades.csv"))}
    assert set(rows) == set(results)
    full = rows["full-ex3"]
    assert full["ex3.rnn_backward"] == "4" and full["total"] == full["max"] == "7"
    assert rows["blank-ex5"]["total"] == "0"
    assert len(list((out / "feedback").glob("*.txt"))) == len(results)
    text = (out / "feedback" / "blank-ex1.txt").read_text()
    assert "not implemented yet" in text and "0/5 points" in text


def test_shards_merge_into_one_gradebook(tmp_path, capsys):
    subs = tmp_path / "subs"
    for name, source in (("ann", "solutions"), ("ben", "exercises"), ("cat", "solutions")):
        write(make_notebook("ex1", source=source), subs / name / EXERCISE_FILES["ex1"].name)
    wrong = make_notebook(
        "ex1",
        {solution_cell_id("ex1.rnn_forward"): "def rnn_forward(x, h0, Wx, Wh, b):\n    return x, None\n"},
    )
    write(wrong, subs / "dan" / EXERCISE_FILES["ex1"].name)
    for i in (1, 2):
        assert (
            main(
                [
                    "grade",
                    str(subs),
                    "--out",
                    str(tmp_path / f"shard{i}"),
                    "--shard",
                    f"{i}/2",
                    "--seed",
                    "5",
                    "--jobs",
                    "2",
                ]
            )
            == 0
        )
    assert (
        main(
            [
                "grade",
                "--merge",
                str(tmp_path / "shard1"),
                str(tmp_path / "shard2"),
                "--out",
                str(tmp_path / "merged"),
            ]
        )
        == 0
    )
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "merged" / "grades.csv"))}
    assert {k: v["total"] for k, v in rows.items()} == {"ann": "5", "ben": "0", "cat": "5", "dan": "2"}
    # a missing shard is reported
    assert main(["grade", "--merge", str(tmp_path / "shard1"), "--out", str(tmp_path / "partial")]) == 1
    # a shard merged twice is said so, once, and its notebooks are not flagged DUPLICATE
    capsys.readouterr()
    twice = [str(tmp_path / "shard1"), str(tmp_path / "shard2"), str(tmp_path / "shard1")]
    assert main(["grade", "--merge", *twice, "--out", str(tmp_path / "twice")]) == 0
    assert capsys.readouterr().err.count("shard 1/2 merged twice") == 1
    again = list(csv.DictReader(open(tmp_path / "twice" / "grades.csv")))
    assert sorted(r["student"] for r in again) == ["ann", "ben", "cat", "dan"]
    assert not any("DUPLICATE" in r["flags"] for r in again), again


def test_gradebook_loses_nothing(tmp_path):
    """Every file is graded and reported: two notebooks for one student+exercise are both kept and
    flagged; zoë and zoé get their own feedback; a formula-like name is neutralised; nbformat 3,
    4.4 without ids and a notebook with 25 MB of saved outputs are graded; exports are written."""
    import json

    import nbformat

    subs = tmp_path / "subs"
    name = EXERCISE_FILES["ex1"].name
    write(make_notebook("ex1"), subs / "bob" / name)
    write(make_notebook("ex1", source="exercises"), subs / "zz_other" / "bob.ipynb")
    for student in ("zoë", "zoé", "=HYPERLINK(1)"):
        write(make_notebook("ex1"), subs / student / name)
    no_ids = make_notebook("ex1")
    for c in no_ids.cells:
        c.pop("id", None)
    no_ids.nbformat_minor = 4
    write(no_ids, subs / "old44" / name)
    v3 = nbformat.convert(make_notebook("ex1"), 3)
    (subs / "old3").mkdir()
    (subs / "old3" / name).write_text(json.dumps(v3))
    big = make_notebook("ex1")
    code_cell = next(c for c in big.cells if c.cell_type == "code")
    code_cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 25_000_000)]
    write(big, subs / "outputs" / name)
    before = _digest(subs)
    out = tmp_path / "out"
    results = grade([subs], out, jobs=2, seed=SEED, log=lambda m: None)
    assert _digest(subs) == before
    assert len(results) == 8
    rows = list(csv.DictReader(open(out / "grades.csv", encoding="utf-8")))
    assert len(rows) == 8
    bob = sorted((r for r in rows if r["student"] == "bob"), key=lambda r: r["total"])
    assert [r["total"] for r in bob] == ["0", "5"] and all("DUPLICATE" in r["flags"] for r in bob)
    totals = {r["student"]: r["total"] for r in rows if r["student"] != "bob"}
    assert totals == {
        "zoë": "5",
        "zoé": "5",
        "'=HYPERLINK(1)": "5",
        "old44": "5",
        "old3": "5",
        "outputs": "5",
    }, {r["student"]: r["flags"] for r in rows}
    assert {r["course_version"] for r in rows} == {__import__("rnncourse").__version__}
    assert len({r["spec_hash"] for r in rows}) == 1 and all(r["spec_hash"] for r in rows)
    assert all(r["sandbox"] == "bwrap" for r in rows)
    run = json.loads((out / "run.json").read_text())  # the run's seed is kept: a re-grade can repeat it
    assert run["seed"] == SEED and run["sandbox"] == "bwrap" and run["notebooks"] == 8
    files = sorted(p.name for p in (out / "feedback").glob("*.txt"))
    assert len(files) == 7 and "bob.txt" in files  # one per student; zoë != zoé
    assert len([f for f in files if f.startswith("zoe-")]) == 2
    bobs = (out / "feedback" / "bob.txt").read_text()
    assert bobs.count("# ex1") == 2 and "DUPLICATE" in bobs
    gs = json.loads((out / "exports" / "gradescope" / "bob.json").read_text())
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(gs["tests"][0])
    assert len(gs["tests"]) == 4  # two notebooks x two tasks, none merged
    assert gs["output"].count("DUPLICATE") == 1, gs["output"]
    lms = {r["SIS User ID"]: r for r in csv.DictReader(open(out / "exports" / "lms.csv", encoding="utf-8"))}
    assert lms["bob"]["ex1 (rnncourse)"] == "" and "2 notebooks" in lms["bob"]["needs review"]
    assert lms["old3"]["ex1 (rnncourse)"] == "5"
    assert "'=HYPERLINK(1)" in lms


def test_feedback_names_and_csv_cells():
    from rnncourse.grading.gradebook import feedback_name, neutralise

    assert feedback_name("alice") == "alice"
    # a Chinese name stays readable (an outside test got "student-acf979cc" for 王小明)
    assert feedback_name("王小明") == "王小明" and feedback_name("张 伟").startswith("张_伟-")
    assert feedback_name("zoë") != feedback_name("zoé") and feedback_name("zoë").startswith("zoe-")
    assert feedback_name("../../etc") != "../../etc" and "/" not in feedback_name("../../etc")
    assert [neutralise(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "ok", 5)] == [
        "'=1+1",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "ok",
        5,
    ]


def test_missing_bubblewrap_stops_with_how_to_install(tmp_path, monkeypatch):
    from rnncourse.grading import sandbox

    monkeypatch.setattr(sandbox, "BWRAP", str(tmp_path / "no-bwrap"))
    write(make_notebook("ex1"), tmp_path / "subs" / "a" / EXERCISE_FILES["ex1"].name)
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        grade([tmp_path / "subs"], tmp_path / "out", jobs=1, seed=1, log=lambda m: None)
    assert main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out2")]) == 3
    assert not (tmp_path / "out2" / "grades.csv").exists()


def test_audit_mode_must_be_asked_for_and_is_recorded(tmp_path):
    write(make_notebook("ex1"), tmp_path / "subs" / "a" / EXERCISE_FILES["ex1"].name)
    assert (
        main(
            [
                "grade",
                str(tmp_path / "subs"),
                "--out",
                str(tmp_path / "out"),
                "--sandbox",
                "audit",
                "--jobs",
                "1",
                "--seed",
                "2",
            ]
        )
        == 0
    )
    (row,) = csv.DictReader(open(tmp_path / "out" / "grades.csv"))
    assert row["sandbox"] == "audit" and row["total"] == "5"


def test_stripped_view_has_no_reference_of_the_exercise(tmp_path):
    """The package copy a kernel of ex1 sees: rnn_step_forward/rnn_forward raise, the rest works."""
    import subprocess
    import sys

    from rnncourse.grading.grader import make_views

    box = make_views(tmp_path / "views", ["ex1", "ex7"])
    views = dict(box.views)
    code = (
        "import rnncourse.nn as nn, numpy as np\n"
        "try:\n    nn.rnn_step_forward(np.ones((1, 2)), np.ones((1, 3)), np.ones((2, 3)), np.ones((3, 3)), np.ones(3))\n"
        "    print('REFERENCE')\nexcept NotImplementedError:\n    print('stripped')\n"
        "print(nn.lstm_step_forward.__doc__ is not None)\n"
    )
    # the copy ships byte code compiled from its stripped sources, and the kernel uses it
    code += (
        "import importlib.util, os\n"
        "print('bytecode' if os.path.exists(importlib.util.cache_from_source(nn.rnn.__file__)) else 'source')\n"
    )
    for ex, expect in (("ex1", "stripped"), ("ex7", "REFERENCE")):
        env = dict(os.environ, PYTHONPATH=str(Path(views[ex]).parent), PYTHONDONTWRITEBYTECODE="1")
        r = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert r.stdout.split()[0] == expect, (ex, r.stdout, r.stderr[-500:])
        assert r.stdout.split()[-1] == "bytecode", (ex, r.stdout)
    text = (Path(views["ex7"]) / "textgen.py").read_text()
    assert "def temperature_probs" in text and "NotImplementedError" in text


@pytest.mark.skipif(os.geteuid() != 0, reason="kernels switch user only when the grader runs as root")
def test_each_kernel_gets_a_user_of_its_own():
    """RLIMIT_NPROC counts every process of a user on the machine: kernels sharing `nobody` starved
    each other (an outside tester saw honest notebooks die at --jobs 8). Each box has its own uid,
    and the kernel is told to become it."""
    from rnncourse.grading.grader import Box, _kernel_argv, sandbox_owner
    from rnncourse.grading.limits import DEFAULT
    from rnncourse.grading.sandbox import KERNEL_UID_RANGE, NOBODY

    boxes = [Box("bwrap").for_exercise("ex1") for _ in range(20)]
    uids = [b.uid for b in boxes]
    assert len(set(uids)) == len(uids), uids
    assert all(KERNEL_UID_RANGE[0] <= u < KERNEL_UID_RANGE[1] and u != NOBODY for u in uids)
    assert sandbox_owner(boxes[0]) == uids[0]
    argv = _kernel_argv("/tmp/x", DEFAULT, boxes[0])
    assert argv[argv.index("--uid") + 1] == str(uids[0])
    assert Box("audit").for_exercise("ex1").uid is None


def test_gradescope_counts_a_duplicated_exercise_once(tmp_path):
    """Two notebooks for one exercise (3/5 and 4/5) and another exercise (7/7): the score is 4 + 7,
    not 3 + 4 + 7 (an outside tester saw 11 for a student with 0/7 and 7/7 plus 4/4)."""
    from rnncourse.grading.gradebook import _mark_duplicates, write_gradescope

    def row(ex, path, tasks):
        return {
            "student": "dave",
            "exercise": ex,
            "file": path,
            "path": path,
            "tasks": tasks,
            "max": {t: 5 for t in tasks},
            "passed": {t: False for t in tasks},
            "feedback": {},
            "issues": [],
            "flags": [],
        }

    rows = _mark_duplicates(
        [
            row("ex1", "a/ex1.ipynb", {"ex1.a": 1, "ex1.b": 2}),
            row("ex1", "b/ex1.ipynb", {"ex1.a": 2, "ex1.b": 2}),
            row("ex3", "a/ex3.ipynb", {"ex3.a": 7}),
        ]
    )
    write_gradescope(tmp_path, rows, {"dave": "dave"})
    gs = json.loads((tmp_path / "dave.json").read_text())
    assert gs["score"] == 4 + 7 and len(gs["tests"]) == 5
    assert gs["output"].count("DUPLICATE") == 1


def test_a_helper_in_a_cell_the_student_added_is_named():
    """The grader runs only setup and solution cells; a helper the student put in a new cell of
    their own is missing when the solution runs. The feedback says which cell and which names
    (an outside instructor test saw only "NameError: name '_loop' is not defined")."""
    import copy

    import nbformat

    from rnncourse.grading.assignments import SOLUTION_TAG
    from rnncourse.grading.grader import default_templates, load_templates, rebuild

    template = load_templates(default_templates())["ex9"]
    student = copy.deepcopy(template)
    sol = next(c for c in student.cells if SOLUTION_TAG in c.metadata.get("tags", []))
    sol.source = "def generate_rnn(params, prompt, u, tau):\n    return _loop(params, prompt, u, tau)\n"
    helper = nbformat.v4.new_code_cell(
        "import numpy as np\n\ndef _loop(params, prompt, u, tau):\n    return None\n"
    )
    helper.id = "my-helper"
    unused = nbformat.v4.new_code_cell("def scratch():\n    pass\n")
    unused.id = "my-scratch"
    student.cells.insert(student.cells.index(sol), helper)
    student.cells.insert(0, unused)
    _cells, issues = rebuild(template, student)
    said = [i for i in issues if "my-helper" in i]
    assert said and "_loop" in said[0] and "solution cell" in said[0], issues
    assert not any("my-scratch" in i for i in issues), issues  # nothing graded uses it
    assert "np" not in said[0].split("so ")[1].split(" from")[0], said  # the setup cell has numpy


def test_ctrl_c_keeps_what_is_graded(tmp_path, monkeypatch):
    """Ctrl-C during a batch writes the gradebook of the notebooks graded so far and lists the rest
    in run.json, then stops (an outside test lost every finished grade)."""
    import json

    from rnncourse.grading import grader
    from rnncourse.grading.grader import SubmissionResult

    subs = tmp_path / "subs"
    for name in ("ann", "bob", "cem"):
        (subs / name).mkdir(parents=True)
        (subs / name / "ex1_recurrence.ipynb").write_text("{}")
    calls = []

    def fake_job(args):
        student, path = args[0], args[1]
        calls.append(student)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return SubmissionResult(student, str(path), "ex1", 0)

    monkeypatch.setattr(grader, "_job", fake_job)
    monkeypatch.setattr(grader, "make_views", lambda *a, **k: grader.Box("audit"))
    with pytest.raises(KeyboardInterrupt, match="after 2 of 3"):
        grader.grade([subs], tmp_path / "out", jobs=1, sandbox="audit")
    csv = (tmp_path / "out" / "grades.csv").read_text()
    assert "ann" in csv and "bob" in csv and "cem" not in csv
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["interrupted"] is True and [r["student"] for r in run["not_graded"]] == ["cem"]


def test_folders_of_a_killed_grader_are_removed_by_the_next_run(tmp_path, monkeypatch):
    """A grader killed with SIGKILL cannot clean up: it left its package copy and the scratch
    folders of its kernels in /tmp (an outside test found them). The next run removes the folders
    whose process is gone, and never those of a grader still running, another user's, another
    machine's or a symlink."""
    import subprocess
    import sys
    import tempfile

    from rnncourse.grading import grader

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = grader._host()
    stale = [
        tmp_path / f"rnncourse-views-{dead.pid}@{host}-abc123",
        tmp_path / f"rnncourse-grade-{dead.pid}@{host}-x_9",
    ]
    for d in stale:
        (d / "box" / "work").mkdir(parents=True)
        (d / "box" / "work" / "f.npy").write_bytes(b"x")
    kept = [
        tmp_path / f"rnncourse-grade-{os.getpid()}@{host}-live01",  # a grader that runs
        tmp_path / f"rnncourse-grade-{dead.pid}@other_machine-abc123",  # a shared /tmp of a cluster
        tmp_path / "rnncourse-grade-old_style",
        tmp_path / "unrelated",
    ]
    for d in kept:
        d.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "precious.txt").write_text("keep")
    (tmp_path / f"rnncourse-grade-{dead.pid}@{host}-link01").symlink_to(target)

    assert grader.remove_stale_temp(str(tmp_path)) == 2
    assert not any(d.exists() for d in stale)
    assert all(d.is_dir() for d in kept)
    assert (target / "precious.txt").read_text() == "keep"
    assert (tmp_path / f"rnncourse-grade-{dead.pid}@{host}-link01").is_symlink()

    # grade() does it first, and says so
    for d in stale:
        d.mkdir()
    said = []
    monkeypatch.setattr(grader, "make_views", lambda *a, **k: grader.Box("audit"))
    (tmp_path / "no-submissions").mkdir()
    grader.grade([tmp_path / "no-submissions"], tmp_path / "out", jobs=1, sandbox="audit", log=said.append)
    assert not any(d.exists() for d in stale)
    assert any("temporary folder(s) left by an earlier grader" in m for m in said), said


@pytest.fixture
def short_tmp(tmp_path):
    """A $TMPDIR short enough for the kernels' sockets (pytest's own folders are long: the grader
    would move to /tmp, shared with the other tests); removed afterwards."""
    import shutil
    import tempfile

    short = Path(tempfile.mkdtemp(prefix="rnct-", dir="/tmp"))
    yield short
    shutil.rmtree(short, ignore_errors=True)


def test_a_killed_grader_leaves_only_folders_the_next_run_removes(tmp_path, short_tmp):
    """The real thing: start ``rnncourse grade`` on a slow notebook, SIGKILL it while a kernel runs,
    then check what is left in its temporary folder and that the next grading run removes it."""
    import signal
    import subprocess
    import sys
    import time

    if not os.access("/usr/bin/bwrap", os.X_OK):
        pytest.skip("bubblewrap is not installed")
    tmp = short_tmp
    subs = tmp_path / "subs" / "ann"
    subs.mkdir(parents=True)
    nb = make_notebook("ex1", {})
    for cell in nb.cells:
        if cell.cell_type == "code" and "solution" in cell.metadata.get("tags", []):
            cell.source = "import time\ntime.sleep(60)\n" + cell.source
            break
    write(nb, subs / "ex1_recurrence.ipynb")
    env = dict(os.environ, TMPDIR=str(tmp))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rnncourse",
            "grade",
            str(subs.parent),
            "--out",
            str(tmp_path / "out"),
            "--jobs",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp.glob("rnncourse-grade-*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(tmp.glob("rnncourse-grade-*")), "the grader never started a kernel"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    left = sorted(p.name.split("-")[1] for p in tmp.iterdir())
    assert "views" in left and "grade" in left, left
    (tmp_path / "none").mkdir()
    out = subprocess.run(
        [sys.executable, "-m", "rnncourse", "grade", str(tmp_path / "none"), "--out", str(tmp_path / "out2")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "temporary folder(s) left by an earlier grader" in out.stderr, out.stderr
    assert not list(tmp.iterdir()), list(tmp.iterdir())
    left = subprocess.run(["pgrep", "-f", f"bwrap .*{tmp}"], capture_output=True, text=True).stdout.split()
    assert not left, f"sandboxes of the killed grader still run: {left}"


def test_a_mistyped_path_is_an_error_not_a_submission(tmp_path, capsys):
    """``rnncourse grade subs/alcie`` (a typo) graded the missing path as a notebook of student
    "alcie" with 0 points; now it stops before grading anything and names the path."""
    (tmp_path / "subs").mkdir()
    code = main(["grade", str(tmp_path / "subs"), str(tmp_path / "alcie"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "no such notebook or folder" in err and "alcie" in err, err
    assert not (tmp_path / "out" / "grades.csv").exists()


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("how", ["sigterm", "double_ctrl_c"])
def test_stopping_a_batch_keeps_the_graded_part_and_leaves_nothing_behind(tmp_path, how, short_tmp):
    """An outside instructor stopped a batch the ways people do: ``kill`` (SIGTERM, also what
    ``timeout`` and batch systems send) lost every finished grade and left the worker processes
    running; two quick Ctrl-C hung the grader. Now both write the gradebook of what was graded,
    list the rest in run.json, exit (143 or 130) promptly and leave no process or temporary
    folder behind."""
    import signal
    import subprocess
    import sys
    import time

    if not os.access("/usr/bin/bwrap", os.X_OK):
        pytest.skip("bubblewrap is not installed")
    tmp = short_tmp
    subs = tmp_path / "subs"
    fast = make_notebook("ex1", {})
    slow = make_notebook("ex1", {})
    for cell in slow.cells:
        if cell.cell_type == "code" and "solution" in cell.metadata.get("tags", []):
            cell.source = "import time\ntime.sleep(60)\n" + cell.source
            break
    for name, nb in [
        ("ann", fast),
        ("bob", fast),
        ("cem", slow),
        ("dan", slow),
        ("eve", slow),
        ("fay", slow),
    ]:
        (subs / name).mkdir(parents=True)
        write(nb, subs / name / "ex1_recurrence.ipynb")
    out = tmp_path / "out"
    log = tmp_path / "grade.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rnncourse",
                "grade",
                str(subs),
                "--out",
                str(out),
                "--jobs",
                "2",
                "--seed",
                "5",
            ],
            env=dict(os.environ, TMPDIR=str(tmp)),
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # its own process group, as in a terminal
        )
    try:
        deadline = time.monotonic() + 120
        while log.read_text().count("/6] ") < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert log.read_text().count("/6] ") >= 2, log.read_text()
        time.sleep(1)  # the slow kernels are running now
        family = _descendants(proc.pid)
        assert family, "no worker processes"
        t0 = time.monotonic()
        if how == "sigterm":
            os.kill(proc.pid, signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)
            time.sleep(0.3)
            os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(90)  # a hang is forever; a loaded machine may take a while
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    text = log.read_text()
    assert code == (143 if how == "sigterm" else 130), (code, text)
    assert took < 60, took
    assert "holds the gradebook of what was graded" in text, text
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert sorted(r["student"] for r in rows) == ["ann", "bob"], rows
    run = json.loads((out / "run.json").read_text())
    assert run["interrupted"] is True and len(run["not_graded"]) == 4, run
    time.sleep(0.5)
    assert not [p for p in family if _alive(p)], "processes outlived the grader"
    assert not list(tmp.iterdir()), list(tmp.iterdir())
    assert "Traceback" not in text and "never retrieved" not in text, text


def test_a_long_tmpdir_does_not_break_the_kernels(tmp_path, monkeypatch):
    """A kernel's sockets live in its scratch folder and a Unix socket's path holds at most 107
    bytes: with a long $TMPDIR (a batch job's, a test's) every kernel failed with "File name too
    long" and every notebook scored 0 (found by a test of this file). The grader then works in /tmp."""
    import tempfile

    from rnncourse.grading import grader

    long_dir = tmp_path / ("x" * 60)
    long_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_dir))
    assert grader._scratch_base() == "/tmp"
    subs = tmp_path / "subs" / "ann"
    subs.mkdir(parents=True)
    write(make_notebook("ex1"), subs / "ex1_recurrence.ipynb")
    (r,) = grade([subs.parent], tmp_path / "out", jobs=1, seed=1, log=lambda m: None)
    assert r.points == 5, (r.issues, [t.diagnosis for t in r.tasks.values()])


def _fake_class(tmp_path, names, monkeypatch, stop_at=None):
    """Submissions of ``names`` and a fake ``_job`` (no kernel) that is interrupted at call
    ``stop_at``; returns the folder."""
    from rnncourse.grading import grader
    from rnncourse.grading.grader import SubmissionResult, TaskResult

    subs = tmp_path / f"subs-{'-'.join(names)}"
    for name in names:
        (subs / name).mkdir(parents=True)
        (subs / name / "ex1_recurrence.ipynb").write_text("{}")
    calls = []

    def fake_job(args):
        calls.append(args[0])
        if stop_at is not None and len(calls) == stop_at:
            raise KeyboardInterrupt
        r = SubmissionResult(args[0], str(args[1]), "ex1", args[3])
        r.tasks["ex1.rnn_step_forward"] = TaskResult("ex1.rnn_step_forward", 2, 2, [], [])
        return r

    monkeypatch.setattr(grader, "_job", fake_job)
    monkeypatch.setattr(grader, "make_views", lambda *a, **k: grader.Box("audit"))
    return subs, calls


def test_an_interrupted_run_is_finished_with_resume(tmp_path, monkeypatch, capsys):
    """The docs said "grade the rest with the same --seed", but nothing could put the two parts into
    one gradebook (an outside instructor pulled the paths out of run.json by hand, and --merge of
    the two folders wrote an empty gradebook with exit status 0). ``--resume`` grades what run.json
    lists as not graded, with that run's seed, and rewrites the gradebook with both parts."""
    from rnncourse.grading import grader

    subs, calls = _fake_class(tmp_path, ["ann", "bob", "cem", "dan"], monkeypatch, stop_at=3)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        grader.grade([subs], out, jobs=1, sandbox="audit", seed=42)
    first = json.loads((out / "run.json").read_text())
    assert [r["student"] for r in first["not_graded"]] == ["cem", "dan"]
    calls.clear()
    code = main(["grade", "--resume", "--out", str(out), "--jobs", "1"])
    assert code == 0, capsys.readouterr().err
    assert calls == ["cem", "dan"]
    rows = list(csv.DictReader(open(out / "grades.csv")))
    assert sorted(r["student"] for r in rows) == ["ann", "bob", "cem", "dan"]
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 42 and run["resumed"] == 1 and "interrupted" not in run, run
    assert run["notebooks"] == 4
    # nothing left to resume
    assert main(["grade", "--resume", "--out", str(out)]) == 2
    assert "not interrupted" in capsys.readouterr().err


def test_merge_takes_whole_runs_and_refuses_a_folder_with_nothing_to_merge(tmp_path, monkeypatch, capsys):
    """--merge reads whole runs' gradebooks (rows.jsonl) as well as shards, writes a run.json, and
    a folder with nothing to merge is an error (it wrote an empty gradebook and exited 0)."""
    from rnncourse.grading import grader

    a, _ = _fake_class(tmp_path, ["ann", "bob"], monkeypatch)
    grader.grade([a], tmp_path / "a", jobs=1, sandbox="audit", log=lambda m: None)
    b, _ = _fake_class(tmp_path, ["cem"], monkeypatch)
    grader.grade([b], tmp_path / "b", jobs=1, sandbox="audit", log=lambda m: None)
    assert (
        main(["grade", "--merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "m")])
        == 0
    )
    rows = list(csv.DictReader(open(tmp_path / "m" / "grades.csv")))
    assert sorted(r["student"] for r in rows) == ["ann", "bob", "cem"]
    assert not any(r["flags"] for r in rows), rows
    merged = json.loads((tmp_path / "m" / "run.json").read_text())
    assert merged["notebooks"] == 3 and merged["missing_shards"] == []
    (tmp_path / "empty").mkdir()
    code = main(["grade", "--merge", str(tmp_path / "empty"), "--out", str(tmp_path / "m2")])
    assert code == 2 and "nothing to merge" in capsys.readouterr().err
    assert not (tmp_path / "m2" / "grades.csv").exists()


def test_grading_again_into_the_same_folder_leaves_no_stale_feedback(tmp_path, monkeypatch):
    """Grading again into the same --out replaced grades.csv but kept the earlier run's feedback and
    Gradescope files of students not in the new run (an instructor would upload old results)."""
    from rnncourse.grading import grader

    out = tmp_path / "out"
    (out / "notes").mkdir(parents=True)
    (out / "notes" / "mine.txt").write_text("the instructor's own file")
    a, _ = _fake_class(tmp_path, ["ann", "bob"], monkeypatch)
    grader.grade([a], out, jobs=1, sandbox="audit", log=lambda m: None)
    assert {f.name for f in (out / "feedback").iterdir()} == {"ann.txt", "bob.txt"}
    b, _ = _fake_class(tmp_path, ["cem"], monkeypatch)
    grader.grade([b], out, jobs=1, sandbox="audit", log=lambda m: None)
    assert {f.name for f in (out / "feedback").iterdir()} == {"cem.txt"}
    assert {f.name for f in (out / "exports" / "gradescope").iterdir()} == {"cem.json"}
    assert (out / "notes" / "mine.txt").read_text() == "the instructor's own file"


def test_a_syntax_error_is_shown_at_its_line_and_named_as_the_cause(tmp_path):
    """After a syntax error in a solution cell, the note named IPython's file for the cell
    ("3217171824.py, line 7") and every probe said "not defined (was its cell run? was it
    renamed?)" (an outside instructor). Now the note quotes the line of the cell, and the task says
    its cell's error is the cause."""
    nb = make_notebook("ex1")
    for cell in nb.cells:
        if cell.cell_type == "code" and "solution" in cell.metadata.get("tags", []):
            cell.source = cell.source.replace("return", "retrun h_next,", 1)
            break
    write(nb, tmp_path / "subs" / "ann" / "ex1_recurrence.ipynb")
    (r,) = grade([tmp_path / "subs"], tmp_path / "out", jobs=1, seed=3, log=lambda m: None)
    text = (tmp_path / "out" / "feedback" / "ann.txt").read_text()
    assert re.search(r"SyntaxError: invalid syntax \(line \d+ of the cell: retrun h_next", text), text
    assert not re.search(r"\d+\.py, line", text), text
    assert "not defined because its solution cell raised SyntaxError" in text, text
    assert "was it renamed" not in text, text
    assert r.points == 3, r.points


def test_sandboxes_left_by_a_killed_grader_are_stopped_by_the_next_run(tmp_path):
    """A grader killed while bubblewrap was still starting left that sandbox and its kernel running
    for good (adopted by process 1: ``--die-with-parent`` was not yet in force); three such were
    found after this file's own kill tests. The next run stops a sandbox whose grader is gone, and
    never one whose grader still runs."""
    import signal
    import subprocess
    import time

    from rnncourse.grading import grader

    if not os.access("/usr/bin/bwrap", os.X_OK):
        pytest.skip("bubblewrap is not installed")
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = grader._host()
    tags = {}
    for owner, tag in ((dead.pid, "999.25"), (os.getpid(), "999.75")):
        box = tmp_path / f"rnncourse-grade-{owner}@{host}-abc123" / "box"
        box.mkdir(parents=True)
        # started from a shell that exits at once: the sandbox's parent becomes process 1
        subprocess.run(
            ["sh", "-c", f"/usr/bin/bwrap --unshare-pid --dev-bind / / --bind {box} {box} sleep {tag} &"],
            check=True,
            timeout=10,
        )
        tags[owner] = tag

    def running(tag):
        out = subprocess.run(["pgrep", "-f", f"sleep {tag}"], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    try:
        deadline = time.monotonic() + 10
        while not (running(tags[dead.pid]) and running(tags[os.getpid()])) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert running(tags[dead.pid]) and running(tags[os.getpid()])
        assert grader.kill_orphaned_sandboxes() >= 1
        deadline = time.monotonic() + 10
        while running(tags[dead.pid]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(tags[dead.pid]), "the orphaned sandbox still runs"
        assert running(tags[os.getpid()]), "a sandbox of a live grader was stopped"
    finally:
        for tag in tags.values():
            for pid in running(tag):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:  # ended with the sandbox killed just before
                    pass
        subprocess.run(["pkill", "-KILL", "-f", "bwrap --unshare-pid --dev-bind / / --bind " + str(tmp_path)])
