"""Hostile and broken submissions, graded in ONE batch: each is graded as specified and the batch
completes (infinite loops, os._exit, a memory bomb, a redefined check, a patched np.allclose,
edited/deleted/duplicated cells, a renamed function, wrong shapes, NaN, huge output, writing
outside the working directory, using the reference implementation)."""
import csv
import os

import pytest

from rnncourse.grading.grader import Limits, grade

from grading_fixtures.build import EXERCISE_FILES, make_notebook, write
from grading_fixtures.hostile import HOSTILE

ESCAPES = ["/tmp/rnncourse-escape-test.txt", "/tmp/rnncourse-escape-test-shell.txt"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    for f in ESCAPES:
        if os.path.exists(f):
            os.remove(f)
    subs = tmp_path_factory.mktemp("hostile")
    for name, (edits, ops, _, _) in HOSTILE.items():
        write(make_notebook("ex1", edits, ops), subs / name / EXERCISE_FILES["ex1"].name)
    (subs / "not_a_notebook").mkdir()
    (subs / "not_a_notebook" / "ex1_recurrence.ipynb").write_text("{ this is not json")
    out = tmp_path_factory.mktemp("out")
    results = grade([subs], out, jobs=2, seed=99, limits=Limits(cell_timeout=4, task_timeout=4, mem_mb=1024, cpu_s=60),
                    log=lambda m: None)
    return {r.student: r for r in results}, out


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_submission_is_graded_correctly(graded, name):
    results, out = graded
    _, _, points, phrases = HOSTILE[name]
    r = results[name]
    got = {t: v.points for t, v in r.tasks.items()}
    feedback = (out / "feedback" / f"{name}.txt").read_text()
    assert got == points, feedback
    for phrase in phrases:
        assert phrase in feedback, feedback
    assert len(feedback) < 100_000


def test_batch_completes_and_broken_file_costs_only_its_owner(graded):
    results, out = graded
    assert set(results) == set(HOSTILE) | {"not_a_notebook"}
    assert any("could not be graded" in i for i in results["not_a_notebook"].issues)
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows["huge_output"]["total"] == "5"
    assert "outside the working directory" in rows["writes_outside"]["flags"]
    assert "reference implementation" in rows["uses_reference"]["flags"]


def test_nothing_was_written_outside(graded):
    for f in ESCAPES:
        assert not os.path.exists(f), f


def test_cpu_time_limit_ends_a_busy_kernel_before_the_cell_timeout(tmp_path):
    """A cell that burns CPU is stopped by the kernel's CPU-time limit (2 s here), not by the much
    longer per-cell timeout: the grader reports a dead kernel, not a timeout, and moves on."""
    from grading_fixtures.hostile import GOOD_SF, SF

    burn = GOOD_SF + "\nx = 0\nwhile True:\n    x += 1\n"
    write(make_notebook("ex1", {SF: burn}), tmp_path / "subs" / "burner" / EXERCISE_FILES["ex1"].name)
    (r,) = grade([tmp_path / "subs"], tmp_path / "out", jobs=1, seed=5,
                 limits=Limits(cell_timeout=120, task_timeout=120, mem_mb=1024, cpu_s=2), log=lambda m: None)
    issues = " ".join(r.issues)
    assert "kernel died" in issues and "CPU-time" in issues, r.issues
    assert "timed out" not in issues
    assert r.points == 0
