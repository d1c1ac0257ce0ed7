"""exercises/ is generated from solutions/ and committed: it must be in sync, carry the right
metadata, and the generator must never overwrite a notebook someone edited."""

import json
from pathlib import Path

import nbformat

from rnncourse.grading.assignments import generate, make_exercise, out_of_sync, strip_solution_source
from rnncourse.grading.exercises import TASKS

ROOT = Path(__file__).resolve().parents[1]


def test_committed_exercises_match_a_fresh_generation(tmp_path):
    generate(ROOT / "solutions", tmp_path, log=lambda m: None)
    fresh = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    committed = sorted(p.name for p in (ROOT / "exercises").glob("ex*.ipynb"))
    assert fresh == committed
    for name in fresh:
        assert (tmp_path / name).read_text() == (ROOT / "exercises" / name).read_text(), (
            f"exercises/{name} is out of date: run `make exercises`"
        )
    assert out_of_sync(ROOT / "solutions", ROOT / "exercises") == []


def test_every_task_has_one_tagged_solution_cell_with_points():
    seen = {}
    for p in sorted((ROOT / "solutions").glob("ex*.ipynb")):
        nb = nbformat.read(p, as_version=4)
        nbformat.validate(nb)
        for c in nb.cells:
            assert c.id and not c.id.startswith("cell-"), "cells need readable explicit ids"
            meta = c.metadata.get("rnncourse", {})
            if "solution" in c.metadata.get("tags", []):
                assert "### BEGIN SOLUTION" in c.source and "### END SOLUTION" in c.source
                seen[meta["exercise"]] = meta["points"]
    assert seen == {t: s.points for t, s in TASKS.items()}


STUB = "### BEGIN SOLUTION\n    # YOUR CODE HERE\n    raise NotImplementedError\n    ### END SOLUTION"


def test_exercises_have_no_solutions_and_no_outputs():
    """Each solution region of an exercise keeps its visible markers (the intro tells students to
    write between them) and holds nothing but the stub."""
    for p in sorted((ROOT / "exercises").glob("ex*.ipynb")):
        nb = nbformat.read(p, as_version=4)
        for c in nb.cells:
            if c.cell_type == "code":
                assert c.outputs == [] and c.execution_count is None
                if "solution" in c.metadata.get("tags", []):
                    assert c.source.count("### BEGIN SOLUTION") == 1 and STUB in c.source, c.source
                else:
                    assert "BEGIN SOLUTION" not in c.source
            else:
                assert "(1 points)" not in c.source


def test_generating_from_a_generated_notebook_changes_nothing():
    for p in sorted((ROOT / "exercises").glob("ex*.ipynb")):
        nb = nbformat.read(p, as_version=4)
        assert nbformat.writes(make_exercise(nb)) == nbformat.writes(nb), p.name


def test_every_backward_task_has_a_gradient_check_and_folded_hints():
    backward = [t for t in TASKS if t.endswith("backward")]
    assert len(backward) == 8
    for t in backward:
        ex, func = t.split(".")
        nb = nbformat.read(next((ROOT / "solutions").glob(f"{ex}_*.ipynb")), as_version=4)
        stem = f"{ex}-{func.replace('_', '-')}"
        cells = {c.id: c for c in nb.cells}
        assert (
            "check_gradients" in cells[f"{stem}-gradcheck"].source
            and func in cells[f"{stem}-gradcheck"].source
        )
        intro = cells[f"{stem}-intro"].source
        assert "<details><summary>Hint 1" in intro and "<details><summary>Hint 2" in intro, t


def test_strip_keeps_indentation_and_code_outside_the_region():
    src = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    y = x * 2\n    ### END SOLUTION\n    return y"
    out = strip_solution_source(src)
    assert "x * 2" not in out and "    raise NotImplementedError" in out and out.endswith("    return y")
    assert out.count("    ### BEGIN SOLUTION") == 1 and out.count("    ### END SOLUTION") == 1
    assert strip_solution_source(out) == out


def test_generator_never_overwrites_an_edited_notebook(tmp_path):
    sol = tmp_path / "sol"
    sol.mkdir()
    nb = nbformat.read(ROOT / "solutions" / "ex1_recurrence.ipynb", as_version=4)
    nbformat.write(nb, sol / "ex1_recurrence.ipynb")
    out = tmp_path / "ex"
    msgs = []
    assert generate(sol, out, log=msgs.append) == [("ex1_recurrence.ipynb", "written")]
    target = out / "ex1_recurrence.ipynb"
    student = target.read_text().replace("raise NotImplementedError", "return 42", 1)
    target.write_text(student)
    nb.cells[0].source += "\n\nA new sentence."
    nbformat.write(nb, sol / "ex1_recurrence.ipynb")
    assert generate(sol, out, log=msgs.append) == [("ex1_recurrence.ipynb", "beside")]
    assert target.read_text() == student  # the student's work is intact
    assert "A new sentence." in (out / "ex1_recurrence.new.ipynb").read_text()
    assert any("NOT overwritten" in m for m in msgs)
    # an untouched notebook is updated in place
    target.write_text(json.dumps(json.loads((out / "ex1_recurrence.new.ipynb").read_text())))
    assert generate(sol, out, log=msgs.append)[0][1] == "beside"  # still differs from the record
    fresh = make_exercise(nb)
    assert fresh.cells[0].source.endswith("A new sentence.")


def test_generator_unchanged_and_updated_in_place_paths(tmp_path):
    sol, out = tmp_path / "sol", tmp_path / "ex"
    sol.mkdir()
    nb = nbformat.read(ROOT / "solutions" / "ex4_vanishing_exploding.ipynb", as_version=4)
    nbformat.write(nb, sol / "ex4_vanishing_exploding.ipynb")
    assert generate(sol, out, log=lambda m: None) == [("ex4_vanishing_exploding.ipynb", "written")]
    assert generate(sol, out, log=lambda m: None) == [("ex4_vanishing_exploding.ipynb", "unchanged")]
    assert out_of_sync(sol, out) == []
    nb.cells[0].source += "\n\nAnother sentence."
    nbformat.write(nb, sol / "ex4_vanishing_exploding.ipynb")
    assert out_of_sync(sol, out) == ["ex4_vanishing_exploding.ipynb"]
    # the target is exactly what the generator wrote last time: it is updated in place, nothing beside it
    assert generate(sol, out, log=lambda m: None) == [("ex4_vanishing_exploding.ipynb", "written")]
    assert "Another sentence." in (out / "ex4_vanishing_exploding.ipynb").read_text()
    assert not (out / "ex4_vanishing_exploding.new.ipynb").exists()


def test_cli_check_reports_sync_state(tmp_path, capsys):
    from rnncourse.cli import main

    sol, out = tmp_path / "sol", tmp_path / "ex"
    sol.mkdir()
    nbformat.write(
        nbformat.read(ROOT / "solutions" / "ex1_recurrence.ipynb", as_version=4), sol / "ex1_recurrence.ipynb"
    )
    generate(sol, out, log=lambda m: None)

    def run():
        return main(["exercises", "--check", "--solutions", str(sol), "--out", str(out)])

    assert run() == 0
    (out / "ex1_recurrence.ipynb").write_text(
        (out / "ex1_recurrence.ipynb").read_text().replace("Exercise 1", "Ex 1")
    )
    assert run() == 1 and "out of date" in capsys.readouterr().out


def test_ex7_design_task_states_the_numbers_the_grader_uses():
    from rnncourse.grading.exercises.ex7 import GRADER_TIMEOUT_S, TIME_BUDGET_S
    from rnncourse.grading.reference import LONG_RANGE_TARGET

    nb = nbformat.read(ROOT / "solutions" / "ex7_long_range.ipynb", as_version=4)
    intro = next(c.source for c in nb.cells if c.id == "ex7-train-long-range-intro")
    assert f"time budget of {TIME_BUDGET_S} seconds" in intro
    assert f"{GRADER_TIMEOUT_S} s on its machine" in intro
    assert f"`LONG_RANGE_TARGET` ({LONG_RANGE_TARGET})" in intro
    assert TASKS["ex7.train_long_range"].timeout == GRADER_TIMEOUT_S
