"""Hostile and broken submissions, graded in ONE batch beside honest ones.

Broken notebooks (infinite loops, os._exit, a memory bomb, a redefined check, a patched
np.allclose, edited/deleted/duplicated cells, NaN, huge output) and attacks on the grader itself
(``grading_fixtures.hostile.attacks``: another kernel, a process that outlives grading, ctypes and
fork_exec commands, dir_fd and symlink writes, FIFOs, /dev/shm leftovers, reads of other
submissions and of the environment, disguised calls of the course's implementation, a patched
np.save hiding an in-place change, a fork bomb). Each is graded as specified; the honest students
keep full marks; afterwards the grader's folders, $HOME and the other submissions are
byte-identical, and no process or file is left behind.
"""

import csv
import hashlib
import os
import secrets
import time
from pathlib import Path

import pytest

from grading_fixtures.build import EXERCISE_FILES, make_notebook, write
from grading_fixtures.hostile import HOSTILE, attacks
from grading_fixtures.procs import descendants as _descendants
from rnncourse.grading.grader import Limits, grade

ESCAPES = ["/tmp/rnncourse-escape-test.txt", "/tmp/rnncourse-escape-test-shell.txt"]
HONEST = ["honest_1", "honest_2", "honest_3"]
pytestmark = pytest.mark.skipif(
    not os.access("/usr/bin/bwrap", os.X_OK),
    reason="bubblewrap is not installed (apt-get install bubblewrap)",
)


def _digest(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(Path(folder).rglob("*"))
    }


def _processes_with(text):
    hits = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmd:
                hits.append((pid, cmd))
    return hits


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    for f in ESCAPES:
        if os.path.exists(f):
            os.remove(f)
    base = tmp_path_factory.mktemp("hostile")
    tag = secrets.token_hex(4)
    tag = str(int(tag, 16))  # digits only: also used as `sleep 3600.<tag>`
    subs, out, home, other, scratch = (
        base / "subs",
        base / "out",
        base / "home",
        base / "other",
        base / "tmp",
    )
    for d in (subs, out, home, other, scratch):
        d.mkdir()
    (home / "canary.txt").write_text("grader home canary")
    (other / "notes.txt").write_text("another course's files")
    secret_file = base / "secret.txt"
    secret_file.write_text(f"SECRET-FILE-{tag}")
    victim = subs / "honest_1" / EXERCISE_FILES["ex1"].name
    ctx = {"out": out, "victim": victim, "home": home, "secret_file": secret_file, "other": other, "tag": tag}
    cases = dict(HOSTILE)
    cases.update(attacks(ctx))
    for name in HONEST:
        nb = make_notebook("ex1")
        nb.cells[0].source += f"\n\nVICTIM-MARKER-{tag}"
        write(nb, subs / name / EXERCISE_FILES["ex1"].name)
    for name, (edits, ops, _, _) in cases.items():
        write(make_notebook("ex1", edits, ops), subs / name / EXERCISE_FILES["ex1"].name)
    (subs / "not_a_notebook").mkdir()
    (subs / "not_a_notebook" / "ex1_recurrence.ipynb").write_text("{ this is not json")
    (subs / "symlinked").mkdir()  # points at another student's notebook
    (subs / "symlinked" / "ex1_recurrence.ipynb").symlink_to(victim)
    before = {"subs": _digest(subs), "home": _digest(home), "other": _digest(other)}
    secret_env = f"GRADER-ENV-SECRET-{tag}"
    saved = {k: os.environ.get(k) for k in ("HOME", "TMPDIR", "RNNCOURSE_TEST_SECRET")}
    os.environ.update(HOME=str(home), TMPDIR=str(scratch), RNNCOURSE_TEST_SECRET=secret_env)
    try:
        results = grade(
            [subs],
            out,
            jobs=2,
            seed=99,
            log=lambda m: None,
            limits=Limits(cell_timeout=6, task_timeout=6, mem_mb=1024, cpu_s=60),
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out_right_after = _digest(out)
    time.sleep(3)  # a surviving process would write now
    return {
        "results": {r.student: r for r in results},
        "out": out,
        "cases": cases,
        "tag": tag,
        "before": before,
        "subs": subs,
        "home": home,
        "other": other,
        "scratch": scratch,
        "out_right_after": out_right_after,
        "secrets": [secret_env, f"SECRET-FILE-{tag}", f"VICTIM-MARKER-{tag}", "grader home canary"],
    }


def _feedback(g, name):
    rows = [r for r in csv.DictReader(open(g["out"] / "grades.csv")) if r["student"] == name]
    return (g["out"] / "feedback" / f"{name}.txt").read_text() + "\n".join(r["flags"] for r in rows)


def test_every_submission_is_graded_as_specified(graded):
    wrong = {}
    for name, (_, _, points, phrases) in graded["cases"].items():
        r = graded["results"][name]
        got = {t: v.points for t, v in r.tasks.items()}
        text = _feedback(graded, name)
        missing = [p for p in phrases if p not in text]
        if got != points or missing or len(text) > 100_000:
            wrong[name] = (got, points, missing, text[:1500])
    assert not wrong, (sorted(wrong), wrong)


def test_honest_students_keep_full_marks(graded):
    for name in HONEST + ["honest_pathlib"]:
        r = graded["results"][name]
        assert r.points == 5, (name, r.issues, [t.diagnosis for t in r.tasks.values()])
    for name in HONEST:
        r = graded["results"][name]
        assert not r.flags and not any(t.flags for t in r.tasks.values()), name


def test_flags_never_cost_points_on_their_own(graded):
    r = graded["results"]["honest_pathlib"]
    assert r.points == 5 and r.tasks["ex1.rnn_step_forward"].flags


def test_batch_completes_and_broken_file_costs_only_its_owner(graded):
    results, out = graded["results"], graded["out"]
    assert set(results) == set(graded["cases"]) | set(HONEST) | {"not_a_notebook", "symlinked"}
    assert results["not_a_notebook"].ungradable
    assert "symbolic link" in results["symlinked"].ungradable and results["symlinked"].points == 0
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows["huge_output"]["total"] == "5"
    assert "reference implementation" in rows["uses_reference"]["flags"]
    assert {r["sandbox"] for r in rows.values()} == {"bwrap"}


def test_no_secret_reaches_any_feedback(graded):
    out = graded["out"]
    texts = [p.read_text(errors="replace") for p in out.rglob("*") if p.is_file()]
    for secret in graded["secrets"]:
        assert not any(secret in t for t in texts), secret


def test_grader_folders_and_other_submissions_are_unchanged(graded):
    before = graded["before"]
    assert _digest(graded["subs"]) == before["subs"]
    assert _digest(graded["home"]) == before["home"]
    assert _digest(graded["other"]) == before["other"]
    assert _digest(graded["out"]) == graded["out_right_after"], "something wrote into --out after grading"
    assert "forged" not in (graded["out"] / "grades.csv").read_text()
    assert not any(p.name == "planted.txt" for p in graded["out"].rglob("*"))


def test_nothing_is_left_behind(graded):
    tag = graded["tag"]
    assert not _processes_with(f"3600.{tag}"), "a process outlived grading"
    left = []
    for p in _descendants(os.getpid()):
        try:
            cmd = open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "multiprocessing.resource_tracker" not in cmd:  # the pool's own helper, not a kernel
            left.append(cmd)
    assert not left, left
    assert list(graded["scratch"].iterdir()) == [], "the grader left files in its temporary folder"
    for d in ("/tmp", "/dev/shm", "/var/tmp"):
        left = [f for f in os.listdir(d) if tag in f]
        assert not left, (d, left)
    for f in ESCAPES:
        assert not os.path.exists(f), f


def test_cpu_time_limit_ends_a_busy_kernel_before_the_cell_timeout(tmp_path):
    """A cell that burns CPU is stopped by the kernel's CPU-time limit (2 s here), not by the much
    longer per-cell timeout: the grader reports a dead kernel, not a timeout, and moves on."""
    from grading_fixtures.hostile import GOOD_SF, SF

    burn = GOOD_SF + "\nx = 0\nwhile True:\n    x += 1\n"
    write(make_notebook("ex1", {SF: burn}), tmp_path / "subs" / "burner" / EXERCISE_FILES["ex1"].name)
    (r,) = grade(
        [tmp_path / "subs"],
        tmp_path / "out",
        jobs=1,
        seed=5,
        limits=Limits(cell_timeout=120, task_timeout=120, mem_mb=1024, cpu_s=2),
        log=lambda m: None,
    )
    issues = " ".join(r.issues)
    assert "kernel died" in issues and "CPU-time" in issues, r.issues
    assert "timed out" not in issues
    # the step task is lost; the sequence task is still judged, with the course's step function
    assert r.tasks["ex1.rnn_step_forward"].points == 0 and r.points == r.tasks["ex1.rnn_forward"].points


def test_a_top_level_timeout_is_reported_as_a_timeout(tmp_path):
    from grading_fixtures.hostile import GOOD_SF, SF

    slow = GOOD_SF + "\nimport time\nwhile True:\n    time.sleep(0.1)\n"
    write(make_notebook("ex1", {SF: slow}), tmp_path / "subs" / "sleeper" / EXERCISE_FILES["ex1"].name)
    (r,) = grade(
        [tmp_path / "subs"],
        tmp_path / "out",
        jobs=1,
        seed=5,
        limits=Limits(cell_timeout=2, task_timeout=4, mem_mb=1024, cpu_s=60),
        log=lambda m: None,
    )
    issues = " ".join(r.issues)
    assert "timed out after 2 s" in issues, r.issues
    assert "KeyboardInterrupt" not in issues
    assert r.points == 5  # the function was defined before the loop: its tasks still count
