"""A first hour without traps (issue 7), lessons 0-3.

A student moves the sliders of an explorer as far as they go, then runs the rest of the lesson.
No cell may fail after that. Each lesson is run twice with nbclient: once with every control of
every explorer moved to its minimum right after the explorer appears, once to its maximum.
At the end of each run every explorer must be back at the values it was built with (the check
cells put the controls back), and every lesson must have shown at least one explorer.

Also static facts of lessons 0-3: every ``assert`` in a lesson carries a message (a failing check
says what it checked), each lesson links to the glossary and ends with key terms, further reading
and (lessons 1-3) a link to its exercise notebook, and the glossary has the seed's terms.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = ["00_welcome", "01_recurrence", "02_training", "03_bptt"]
# the static checks (assert messages, glossary, key terms, reading, exercise links) hold for every lesson
ALL_LESSONS = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))

# Injected after every code cell. It moves the controls of explorers it has not seen yet.
MOVE = """
import ipywidgets as _fh_w
from rnncourse.viz.widgets import Explorer as _FHExplorer
_fh_seen = globals().setdefault("_fh_seen", {})

def _fh_extreme(w, end):
    if isinstance(w, (_fh_w.FloatSlider, _fh_w.IntSlider)):
        return w.min if end == "min" else w.max
    opt = w.options[0] if end == "min" else w.options[-1]          # Dropdown, ToggleButtons, SelectionSlider
    return opt[1] if isinstance(opt, tuple) else opt

for _fh_obj in list(globals().values()):
    if isinstance(_fh_obj, _FHExplorer) and id(_fh_obj) not in _fh_seen:
        _fh_seen[id(_fh_obj)] = (_fh_obj, {k: w.value for k, w in _fh_obj.controls.items()})
        for _fh_w_ in _fh_obj.controls.values():
            _fh_w_.value = _fh_extreme(_fh_w_, __END__)
        _fh_moved = {k: w.value for k, w in _fh_obj.controls.items()}
        assert _fh_moved != _fh_seen[id(_fh_obj)][1], "the injected cell should have moved the controls"
"""

FINAL = """
assert _fh_seen, "the lesson showed no explorer"
for _fh_obj, _fh_defaults in _fh_seen.values():
    _fh_now = {k: w.value for k, w in _fh_obj.controls.items()}
    assert _fh_now == _fh_defaults, f"{type(_fh_obj).__name__} not back at its defaults: {_fh_now} != {_fh_defaults}"
"""


def run_with_moves(name, end):
    """Run lesson ``name`` with every explorer's controls moved to ``end`` ("min" or "max")."""
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    cells = []
    for i, cell in enumerate(nb.cells):
        cells.append(cell)
        if cell.cell_type == "code":
            injected = nbformat.v4.new_code_cell(MOVE.replace("__END__", repr(end)))
            injected.id = f"first-hour-move-{i}"
            cells.append(injected)
    final = nbformat.v4.new_code_cell(FINAL)
    final.id = "first-hour-final"
    nb.cells = cells + [final]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    return nb


@pytest.mark.parametrize("end", ["min", "max"])
@pytest.mark.parametrize("name", LESSONS)
def test_lesson_survives_controls_at_their_limits(name, end, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    run_with_moves(name, end)  # raises CellExecutionError (with the cell and traceback) on failure


def lesson_cells(name):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4).cells


@pytest.mark.parametrize("name", ALL_LESSONS)
def test_every_lesson_assert_says_what_it_checked(name):
    bare = []
    for cell in lesson_cells(name):
        if cell.cell_type != "code":
            continue
        source = "\n".join(
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Assert) and node.msg is None:
                bare.append(f"{cell.id}: {ast.unparse(node)[:80]}")
    assert not bare, "asserts without a message:\n" + "\n".join(bare)


LESSONS_WITHOUT_EXERCISE = {0, 10}


@pytest.mark.parametrize("name", ALL_LESSONS)
def test_lesson_links_glossary_key_terms_reading_and_exercise(name):
    cells = lesson_cells(name)
    markdown = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert "](glossary.md)" in cells[0].source, "the first cell should link to the glossary"
    # the closing cells (summary, key terms, further reading, exercise) are markdown
    closing = "\n".join(c.source for c in cells[-3:] if c.cell_type == "markdown")
    assert "**Key terms**" in closing and "](glossary.md)" in closing, (
        "the lesson should close with key terms that link the glossary"
    )
    assert "**Further reading" in closing, "the lesson should close with further reading"
    assert "zh.d2l.ai" in markdown, "further reading should include the Chinese edition of d2l"
    # every Chinese key term is in the glossary (lesson 7's 字符级语言模型 was not)
    key_terms = closing.split("**Key terms**")[1].split("**Further reading")[0]
    chinese = re.findall(r"[\u4e00-\u9fff][\u4e00-\u9fff–（）]*", key_terms)
    glossary = (NOTEBOOKS / "glossary.md").read_text(encoding="utf-8")
    assert len(chinese) >= 6, f"{name}: too few key terms with their Chinese: {chinese}"
    missing = [w for w in chinese if w not in glossary]
    assert not missing, f"{name}: key terms not in the glossary: {missing}"
    number = int(name[:2])
    exercises = re.findall(r"\]\(\.\./exercises/(ex\d+_\w+\.ipynb)\)", markdown)
    if number in LESSONS_WITHOUT_EXERCISE:  # the welcome, and lesson 10 (a look inside, nothing to write)
        assert not exercises, exercises
        assert not list((ROOT / "exercises").glob(f"ex{number}_*.ipynb")), f"{name} should link its exercise"
    else:
        assert exercises and all(e.startswith(f"ex{number}_") for e in exercises), exercises
        for e in exercises:
            assert (ROOT / "exercises" / e).is_file(), f"{name} points to a missing exercise {e}"


def test_glossary_has_the_seed_terms_and_every_lesson():
    text = (NOTEBOOKS / "glossary.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| term")]
    assert len(rows) >= 80, f"the glossary has only {len(rows)} rows"
    for term in [
        "循环神经网络",
        "隐藏状态",
        "随时间反向传播",
        "梯度消失",
        "梯度爆炸",
        "遗忘门",
        "输入门",
        "输出门",
        "细胞状态",
        "元胞",
        "重置门",
        "更新门",
        "梯度裁剪",
        "截断反向传播",
        "困惑度",
        "教师强制",
        "嵌入",
    ]:
        assert term in text, f"the glossary lacks the seed's term {term}"
    for row in rows:
        columns = [c.strip() for c in row.strip("|").split("|")]
        assert len(columns) == 4 and all(columns), f"a row needs term, 中文, definition and lesson: {row}"
        assert re.fullmatch(r"\d{1,2}", columns[3]) and int(columns[3]) < len(ALL_LESSONS), (
            f"the lesson column should be a lesson number 0-{len(ALL_LESSONS) - 1}: {row}"
        )
    for name in LESSONS:
        for target in re.findall(r"\]\(([^)#\s]+\.md)\)", "\n".join(c.source for c in lesson_cells(name))):
            assert (NOTEBOOKS / target).is_file(), f"{name} links to missing {target}"
        key_terms = lesson_cells(name)[-1].source.split("**Key terms**")[1].split("**Further reading**")[0]
        chinese = re.findall(r"\(([^()]*[\u4e00-\u9fff][^()]*)\)", key_terms)
        assert len(chinese) >= 8, f"{name}: too few key terms with Chinese: {chinese}"
        for words in chinese:
            for word in words.split(" / "):
                assert word.strip() in text, f"{name}: key term {word!r} is not in the glossary"
