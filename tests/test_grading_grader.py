"""The batch grader end to end: solutions score full marks, generated exercises zero ("not
implemented"), each classic bug loses exactly its task's points with the right diagnosis, the
submissions are never modified, and sharded runs merge into the same gradebook."""
import csv
import hashlib
from pathlib import Path

import pytest

from rnncourse.cli import main
from rnncourse.grading.grader import grade
from rnncourse.grading.probes import TASKS, tasks_of

from grading_fixtures.build import EXERCISE_FILES, make_notebook, solution_cell_id, write
from grading_fixtures.wrong import WRONG

SEED = 777
# A sequence function that calls the student's own step function is graded with the course's step
# function swapped in (TaskSpec.helpers), so every bug costs exactly its own task's points.
DEPENDS = {}


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
    for t, v in r.tasks.items():
        expected = 0 if t == task or t in DEPENDS.get(task, ()) else TASKS[t].points
        assert v.points == expected, (t, v.diagnosis)
    assert phrase in " ".join(r.tasks[task].diagnosis)
    assert phrase in (out / "feedback" / f"bug-{bug}.txt").read_text()


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


def test_shards_merge_into_one_gradebook(tmp_path):
    subs = tmp_path / "subs"
    for name, source in (("ann", "solutions"), ("ben", "exercises"), ("cat", "solutions")):
        write(make_notebook("ex1", source=source), subs / name / EXERCISE_FILES["ex1"].name)
    wrong = make_notebook("ex1", {solution_cell_id("ex1.rnn_forward"): "def rnn_forward(x, h0, Wx, Wh, b):\n    return x, None\n"})
    write(wrong, subs / "dan" / EXERCISE_FILES["ex1"].name)
    for i in (1, 2):
        assert main(["grade", str(subs), "--out", str(tmp_path / f"shard{i}"), "--shard", f"{i}/2",
                     "--seed", "5", "--jobs", "2"]) == 0
    assert main(["grade", "--merge", str(tmp_path / "shard1"), str(tmp_path / "shard2"),
                 "--out", str(tmp_path / "merged")]) == 0
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "merged" / "grades.csv"))}
    assert {k: v["total"] for k, v in rows.items()} == {"ann": "5", "ben": "0", "cat": "5", "dan": "2"}
    # a missing shard is reported
    assert main(["grade", "--merge", str(tmp_path / "shard1"), "--out", str(tmp_path / "partial")]) == 1
