"""The exercise generator's other paths: an untouched exercise is updated in place, an unchanged one
is left alone (not even rewritten), and `rnncourse exercises --check` says yes as well as no.

`test_grading_exercises.py` covers the committed exercises and the "edited, so write beside" path.
Every test here works on copies in a temporary folder, so it runs alone and in any order.
"""

import json
import os
import shutil
from pathlib import Path

import nbformat

from rnncourse.cli import main
from rnncourse.grading.assignments import MANIFEST, generate, out_of_sync

ROOT = Path(__file__).resolve().parents[1]
NAME = "ex1_recurrence.ipynb"


def _course_copy(tmp_path):
    """A solutions folder holding one real solution notebook, and an empty exercises folder."""
    sol, out = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    shutil.copy(ROOT / "solutions" / NAME, sol / NAME)
    return sol, out


def _edit_solution(sol, sentence):
    nb = nbformat.read(sol / NAME, as_version=4)
    nb.cells[0].source += "\n\n" + sentence
    nbformat.write(nb, sol / NAME)


def test_an_untouched_exercise_is_updated_in_place(tmp_path):
    sol, out = _course_copy(tmp_path)
    msgs = []
    assert generate(sol, out, log=msgs.append) == [(NAME, "written")]
    _edit_solution(sol, "A sentence added by the instructor.")

    assert generate(sol, out, log=msgs.append) == [(NAME, "written")]
    target = out / NAME
    assert "A sentence added by the instructor." in target.read_text()
    assert not (out / NAME.replace(".ipynb", ".new.ipynb")).exists(), "an untouched notebook went beside"
    assert not any("NOT overwritten" in m for m in msgs), msgs
    # the record now describes the new file, so the next update is in place as well
    _edit_solution(sol, "A second sentence.")
    assert generate(sol, out, log=msgs.append) == [(NAME, "written")]
    assert "A second sentence." in target.read_text()
    assert out_of_sync(sol, out) == []


def test_an_unchanged_exercise_is_reported_and_not_rewritten(tmp_path):
    sol, out = _course_copy(tmp_path)
    generate(sol, out, log=lambda m: None)
    target = out / NAME
    before = target.read_bytes()
    # an old timestamp shows whether the file is written again, even with identical content
    old = 1_000_000_000
    os.utime(target, (old, old))

    msgs = []
    assert generate(sol, out, log=msgs.append) == [(NAME, "unchanged")]
    assert target.read_bytes() == before
    assert target.stat().st_mtime == old, "an unchanged exercise was written again"
    assert msgs == [], msgs
    assert sorted(p.name for p in out.iterdir()) == sorted([NAME, MANIFEST])
    # a manifest lost (e.g. a fresh clone without it) is rebuilt from an unchanged file
    (out / MANIFEST).unlink()
    assert generate(sol, out, log=msgs.append) == [(NAME, "unchanged")]
    assert NAME in json.loads((out / MANIFEST).read_text())


def test_check_says_yes_when_in_sync_and_names_each_stale_notebook(tmp_path, capsys):
    sol, out = _course_copy(tmp_path)
    args = ["exercises", "--solutions", str(sol), "--out", str(out)]
    assert main(args + ["--check"]) == 1  # nothing generated yet
    assert f"out of date: {out / NAME}" in capsys.readouterr().out

    assert main(args) == 0
    assert "1 written, 0 unchanged, 0 written beside" in capsys.readouterr().out
    assert main(args + ["--check"]) == 0
    assert capsys.readouterr().out == ""

    _edit_solution(sol, "Changed after generation.")
    assert main(args + ["--check"]) == 1
    assert capsys.readouterr().out.strip() == f"out of date: {out / NAME}"
    assert main(args) == 0
    assert main(args + ["--check"]) == 0


def test_check_passes_on_the_committed_exercises(capsys):
    assert main(["exercises", "--check"]) == 0, capsys.readouterr().out
