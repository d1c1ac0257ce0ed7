"""The instructor's grader writes each student's feedback in the language of the edition the
student worked in (issue 12): a notebook from ``rnncourse init --lang zh`` carries
``metadata.rnncourse.lang = "zh"``, and ``rnncourse grade --lang en|zh`` overrides it for everyone.
``grades.csv`` (the instructor's) stays in English."""

import os
import re
from pathlib import Path

import nbformat
import pytest

from grading_fixtures.build import EXERCISE_FILES, solution_cell_id, write
from grading_fixtures.wrong import WRONG
from rnncourse import cli, messages
from rnncourse.grading.exercises import TASKS
from rnncourse.grading.grader import notebook_language

pytestmark = pytest.mark.skipif(
    not os.access("/usr/bin/bwrap", os.X_OK),
    reason="bubblewrap is not installed (apt-get install bubblewrap)",
)
ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
BUG = "missing_dh_next"  # ex3.rnn_backward without the `+ dh_next` term
TASK, WRONG_SRC, PHRASE = WRONG[BUG]


def _bug_message(lang):
    """The diagnosis the grader must give for the bug, in ``lang``."""
    (bug,) = [b for b in TASKS[TASK].bugs if PHRASE in b.message]
    with messages.using(lang):
        return messages._(bug.message)


def _submission(workspace, dest):
    """The workspace's own ex3 notebook (its markdown in the workspace's language), with every
    solution cell filled in from the course's solutions and the wrong ``rnn_backward``."""
    rel = "exercises/" + EXERCISE_FILES["ex3"].name
    nb = nbformat.read(workspace / rel, as_version=4)
    solved = {c.id: c.source for c in nbformat.read(EXERCISE_FILES["ex3"], as_version=4).cells}
    for c in nb.cells:
        if c.cell_type == "code" and "solution" in c.metadata.get("tags", []) and c.id in solved:
            c.source = solved[c.id]
    (cell,) = [c for c in nb.cells if c.id == solution_cell_id(TASK)]
    cell.source = WRONG_SRC
    return write(nb, dest / EXERCISE_FILES["ex3"].name)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("i18n-grade")
    subs = tmp / "subs"
    for lang in ("zh", "en"):
        assert cli.main(["init", "--lang", lang, str(tmp / f"ws-{lang}")]) == 0
        _submission(tmp / f"ws-{lang}", subs / f"student-{lang}")
    assert cli.main(["grade", str(subs), "--out", str(tmp / "out"), "--seed", "5", "--jobs", "2"]) == 0
    # the instructor asks for English feedback for everyone
    assert cli.main(["grade", str(subs / "student-zh"), "--out", str(tmp / "out-en"), "--seed", "5",
                     "--jobs", "1", "--lang", "en"]) == 0  # fmt: skip
    return tmp


def test_the_notebook_records_its_edition(graded):
    zh = nbformat.read(graded / "subs/student-zh/ex3_bptt.ipynb", as_version=4)
    en = nbformat.read(graded / "subs/student-en/ex3_bptt.ipynb", as_version=4)
    assert (notebook_language(zh), notebook_language(en)) == ("zh", "en")
    for bad in ("klingon", 3, None, ["zh"]):  # a hand-edited value is English, never an error
        zh.metadata["rnncourse"]["lang"] = bad
        assert notebook_language(zh) == "en"
    zh.metadata["rnncourse"] = "zh"
    assert notebook_language(zh) == "en"


def test_a_chinese_students_feedback_is_chinese_and_names_the_wrong_term(graded):
    text = (graded / "out/feedback/student-zh.txt").read_text(encoding="utf-8")
    assert text.startswith("# ex3（ex3_bptt.ipynb）："), text
    assert f"未通过  {TASK}：0/" in text, text  # the task that has the bug
    assert "通过  ex3.rnn_step_backward：" in text, text  # the other task is right
    assert "需要检查的地方：" in text and _bug_message("zh") in text, text
    assert "dh_next" in _bug_message("zh")  # the term named, untranslated, in the Chinese sentence
    assert _bug_message("en") not in text and "What to look at" not in text, text


def test_an_english_students_feedback_is_unchanged(graded):
    text = (graded / "out/feedback/student-en.txt").read_text(encoding="utf-8")
    assert text.startswith("# ex3 (ex3_bptt.ipynb): ") and " points\n" in text, text
    assert f"FAIL  {TASK}: 0/" in text and "  What to look at:" in text and _bug_message("en") in text, text
    assert not CJK.search(text), text


def test_lang_overrides_the_edition_and_the_gradebook_stays_english(graded):
    text = (graded / "out-en/feedback/student-zh.txt").read_text(encoding="utf-8")
    assert _bug_message("en") in text and not CJK.search(text), text
    for out in ("out", "out-en"):
        csv = (graded / out / "grades.csv").read_text(encoding="utf-8")
        assert "student-zh" in csv and not CJK.search(csv), csv
    gradescope = (graded / "out/exports/gradescope/student-zh.json").read_text(encoding="utf-8")
    assert _bug_message("zh") in gradescope  # the student-facing export follows the student


def test_grader_messages_follow_the_language():
    """Messages the grader writes itself (not the verdict's): a deleted solution cell."""
    from rnncourse.grading.grader import rebuild

    template = nbformat.read(ROOT / "exercises" / EXERCISE_FILES["ex3"].name, as_version=4)
    student = nbformat.read(ROOT / "exercises" / EXERCISE_FILES["ex3"].name, as_version=4)
    student.cells = [c for c in student.cells if c.id != solution_cell_id(TASK)]
    with messages.using("zh"):
        _, zh = rebuild(template, student)
    with messages.using("en"):
        _, en = rebuild(template, student)
    cid = solution_cell_id(TASK)
    assert zh == [f"单元格 '{cid}'（{TASK}）被删除了：该任务按未提交评分"], zh
    assert en == [f"cell '{cid}' ({TASK}) was deleted: task graded as missing"], en


def test_bad_lang_for_grade_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "o"), "--lang", "fr"])
    assert "--lang must be one of" in capsys.readouterr().err
    from rnncourse.grading.grader import grade

    with pytest.raises(ValueError, match="lang must be one of"):
        grade([tmp_path], tmp_path / "o", lang="fr", sandbox="audit", log=lambda m: None)
