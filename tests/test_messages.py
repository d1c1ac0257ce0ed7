"""Every message a student reads, in Chinese, through the gettext catalogue (issue 12).

The catalogue is ``rnncourse/locale/zh_CN/LC_MESSAGES/rnncourse.po``; ``rnncourse.i18n_messages``
extracts the ids from the code and compiles the ``.po``. Fix a failure here with
``python -m rnncourse.i18n_messages update zh_CN`` and translating the empty entries it adds.
"""

import gettext
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rnncourse import cli, messages
from rnncourse import workspace as ws
from rnncourse.grading import check
from rnncourse.grading.exercises import TASKS
from rnncourse.i18n_messages import (
    PACKAGE_DIR,
    catalogue,
    compile_mo,
    extract,
    parse_po,
    placeholders,
    po_path,
    problems,
)

ROOT = Path(__file__).resolve().parents[1]

#: ex1.rnn_forward with a classic bug (every step starts from h0); its diagnosis in both languages
WRONG = """
import numpy as np
from rnncourse.grading import check
def rnn_forward(x, h0, Wx, Wh, b):
    return np.stack([np.tanh(x[:, t] @ Wx + h0 @ Wh + b) for t in range(x.shape[1])], axis=1), None
check("ex1.rnn_forward", rnn_forward)
"""
BUG_EN = "Every step of yours starts from h0: feed the state of step t - 1 into step t."
BUG_ZH = "你的每一步都从 h0 开始：应把第 t - 1 步的状态送入第 t 步。"


def _run_check(lang, cwd=ROOT, **env):
    full = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RNNCOURSE_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
    }
    full.update(env)
    if lang is not None:
        full["RNNCOURSE_LANG"] = lang
    r = subprocess.run(
        [sys.executable, "-c", WRONG],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=full,
        encoding="utf-8",
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(autouse=True)
def _default_language(monkeypatch):
    """Each test starts from the default language rules, with no language in the environment."""
    for var in ("RNNCOURSE_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setattr(messages, "_chosen", None)


# --------------------------------------------------------------------------------- the catalogue


def test_every_message_id_in_the_code_has_a_chinese_translation():
    """Also catches an id whose English was edited: it is a new id without a translation."""
    found, errors = extract()
    assert not errors, "\n".join(errors)
    assert len(found) > 150, "the extractor found too few message ids: is it still reading the code?"
    missing = [p for p in problems("zh_CN") if "no translation" in p]
    assert not missing, (
        "messages without a Chinese translation (python -m rnncourse.i18n_messages update "
        "zh_CN, then translate):\n" + "\n".join(missing)
    )


def test_placeholders_are_the_same_in_english_and_chinese():
    cat = catalogue("zh_CN")
    bad = []
    for msgid, e in cat.items():
        if not msgid:
            continue
        texts = [e.msgstr] if e.msgid_plural is None else list(e.msgstr_plural.values())
        for text in texts:
            if placeholders(text) != placeholders(msgid if e.msgid_plural is None else e.msgid_plural):
                bad.append(f"{msgid!r}: {placeholders(msgid)} vs {placeholders(text)}")
    assert not bad, "\n".join(bad)
    assert not [p for p in problems("zh_CN") if "placeholders differ" in p]


def test_math_and_code_stay_identical_in_translations():
    """Backticks (code) and the equations' operators survive the translation."""
    bad = []
    for msgid, e in catalogue("zh_CN").items():
        if msgid and e.msgid_plural is None:
            for ch in ("`", "=", "@", "*"):
                if msgid.count(ch) != e.msgstr.count(ch):
                    bad.append(f"{ch!r} {msgid.count(ch)} -> {e.msgstr.count(ch)}: {msgid!r}")
    assert not bad, "\n".join(bad)


def test_every_task_text_a_student_reads_is_in_the_catalogue():
    """Probe titles, hints and bug diagnoses of every registered exercise (a new ``exN.py`` included,
    even one that forgot ``N_()``) have a translation."""
    cat = catalogue("zh_CN")
    texts = {}
    for spec in TASKS.values():
        for p in spec.probes:
            texts[p.title] = f"{spec.id} probe {p.name} title"
            if p.hint:
                texts[p.hint] = f"{spec.id} probe {p.name} hint"
        for b in spec.bugs:
            texts[b.message] = f"{spec.id} bug {b.impl.__name__}"
    missing = [
        f"{where}: {text!r}" for text, where in texts.items() if text not in cat or not cat[text].translated
    ]
    assert not missing, "not in rnncourse.po (mark with N_() and run i18n_messages update):\n" + "\n".join(
        missing
    )


def test_an_edited_english_message_is_reported(tmp_path):
    """Copy the package, change one hint's English: the check names exactly that id."""
    pkg = tmp_path / "rnncourse"
    shutil.copytree(PACKAGE_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__", "_course"))
    ex1 = pkg / "grading" / "exercises" / "ex1.py"
    old = "Check that each step feeds the previous hidden state, not h0, into the next one."
    ex1.write_text(ex1.read_text().replace(old, old.replace("Check that", "Make sure that")))
    found = problems("zh_CN", root=pkg)
    assert found == [
        f"rnncourse/grading/exercises/ex1.py:{_line(ex1, 'Make sure that')}: no translation for "
        f"{old.replace('Check that', 'Make sure that')!r}"
    ], found
    # an f-string inside _() is a rule break the check names too
    (pkg / "extra.py").write_text(
        "from rnncourse.messages import _\nname = 'x'\nprint(_(f'{name} is wrong'))\n"
    )
    assert any("f-string inside _()" in p and "extra.py:3" in p for p in problems("zh_CN", root=pkg))
    # a new exercise module whose texts are not wrapped in N_() is still read (Probe/Bug texts)
    (pkg / "grading" / "exercises" / "ex99.py").write_text(
        "from rnncourse.grading.verdict import Bug, Probe\n"
        "P = Probe('p', 'a title nobody translated', None, 'a hint nobody translated')\n"
        "B = Bug(None, 'a diagnosis nobody translated')\n"
    )
    new = [p for p in problems("zh_CN", root=pkg) if "ex99.py" in p]
    assert new == [
        f"rnncourse/grading/exercises/ex99.py:{n}: no translation for {t!r}"
        for n, t in (
            (2, "a title nobody translated"),
            (2, "a hint nobody translated"),
            (3, "a diagnosis nobody translated"),
        )
    ], new


def _line(path, text):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_compiled_catalogue_is_read_by_standard_gettext():
    po = po_path("zh_CN")
    entries = parse_po(po.read_text(encoding="utf-8"))
    t = gettext.GNUTranslations(io.BytesIO(compile_mo(entries)))
    assert t.gettext("not implemented yet") == "尚未实现"
    assert t.gettext("PASS") == "通过"
    assert t.ngettext(
        "NOT ready: {n} problem, with what to do above",
        "NOT ready: {n} problems, each with what to do above",
        3,
    ).startswith("未就绪")
    assert t.info()["language"] == "zh_CN"
    assert t.gettext("an id that is not in the catalogue") == "an id that is not in the catalogue"
    # untranslated and fuzzy entries are left out, so gettext shows the English
    fuzzy = parse_po(
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n#, fuzzy\nmsgid "a"\n'
        'msgstr "甲"\n\nmsgid "b"\nmsgstr ""\n\nmsgid "c"\nmsgstr "丙\\n"\n'
    )
    t = gettext.GNUTranslations(io.BytesIO(compile_mo(fuzzy)))
    assert (t.gettext("a"), t.gettext("b"), t.gettext("c")) == ("a", "b", "丙\n")


def test_the_catalogue_ships_in_the_wheel():
    import fnmatch

    try:
        import tomllib  # Python >= 3.11
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "rnncourse"
    ]
    rel = po_path("zh_CN").relative_to(PACKAGE_DIR).as_posix()
    assert any(fnmatch.fnmatch(rel, pat) for pat in patterns), (rel, patterns)


# -------------------------------------------------------------------------------- the language


def test_language_follows_set_language_then_the_variable_then_the_locale(monkeypatch):
    assert messages.get_language() == "en"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert messages.get_language() == "zh"
    monkeypatch.setenv("LANGUAGE", "zh_TW:en")
    assert messages.get_language() == "zh"
    monkeypatch.setenv("LANGUAGE", "en_GB:zh_CN")
    assert messages.get_language() == "en"
    monkeypatch.setenv("RNNCOURSE_LANG", "zh-CN")
    assert messages.get_language() == "zh"
    monkeypatch.setenv("RNNCOURSE_LANG", "klingon")  # a typo never breaks a student's check()
    assert messages.get_language() == "en"
    assert messages.set_language("zh_CN.UTF-8") == "zh" and messages._("PASS") == "通过"
    with messages.using("en"):
        assert messages._("PASS") == "PASS"
    assert messages._("PASS") == "通过"
    assert messages.set_language(None) == "en"
    assert messages._("") == ""  # gettext("") would be the catalogue's header


def test_bad_language_names_the_argument():
    with pytest.raises(ValueError, match=r"lang must be one of \['en', 'zh'\].*'fr'"):
        messages.set_language("fr")
    with pytest.raises(TypeError, match="lang must be a string.*got int"):
        messages.set_language(3)


# ------------------------------------------------------------------------------ check() feedback


def test_check_in_chinese_names_the_bug():
    out = _run_check("zh")
    assert out.splitlines()[0] == "未通过  ex1.rnn_forward：0/3 分", out
    assert "需要检查的地方：" in out and BUG_ZH in out and "[未通过] 随机输入" in out, out
    assert "`h` 不对（最大差值" in out, out
    assert "What to look at" not in out and BUG_EN not in out, out


def test_check_follows_a_chinese_locale_and_english_stays_unchanged():
    assert BUG_ZH in _run_check(None, LANG="zh_CN.UTF-8")
    out = _run_check("en", LANG="zh_CN.UTF-8")  # the variable wins over the locale
    assert out.splitlines()[0] == "FAIL  ex1.rnn_forward: 0/3 points", out
    assert "  What to look at:" in out and BUG_EN in out and "  [FAIL] random inputs" in out, out
    assert "`h` is wrong (largest difference" in out
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in out), out


def test_a_kernel_in_a_chinese_workspace_answers_in_chinese_without_the_variable(tmp_path, capsys):
    """As on a hub or in any Jupyter that ``rnncourse lab`` did not start: the kernel runs in the
    notebook's folder, and the workspace's manifest says which language it is in."""
    assert cli.main(["release", "--lang", "zh", "--out", str(tmp_path / "bundle")]) == 0
    assert json.loads((tmp_path / "bundle" / ws.MANIFEST).read_text())["lang"] == "zh"
    assert BUG_ZH in _run_check(None, cwd=tmp_path / "bundle" / "exercises", LANG="en_US.UTF-8")
    ws.sync(tmp_path / "en", log=lambda m: None, lang="en")
    out = _run_check(None, cwd=tmp_path / "en" / "exercises", LANG="zh_CN.UTF-8")
    assert BUG_EN in out, out  # the workspace's language wins over the machine's
    assert BUG_ZH in _run_check(None, cwd=tmp_path, LANG="zh_CN.UTF-8")  # no workspace: the locale


@pytest.mark.parametrize("task", ["ex3.rnn_backward", "ex7.temperature_softmax"])
def test_the_verdict_does_not_depend_on_the_language(task, capsys):
    """Same probes pass, same points, same number of diagnoses (bugs are matched by model, and a
    message shared by two bug models is named once in either language)."""
    spec = TASKS[task]
    bug = spec.bugs[0].impl
    with messages.using("en"):
        en = check(task, bug).result
    with messages.using("zh"):
        zh = check(task, bug).result
    capsys.readouterr()
    assert [p.passed for p in en.probes] == [p.passed for p in zh.probes]
    assert (en.points, len(en.diagnosis)) == (zh.points, len(zh.diagnosis)) and en.points == 0
    with messages.using("zh"):
        assert messages._(spec.bugs[0].message) in zh.diagnosis


# ------------------------------------------------------------------------------ the command line


def _fake_lab(monkeypatch):
    seen = {}

    def fake_call(cmd, cwd=None, env=None):
        seen.update(cmd=cmd, cwd=cwd, env=env)
        return 0

    monkeypatch.setattr(subprocess, "call", fake_call)
    return seen


def test_init_and_lab_in_chinese(tmp_path, monkeypatch, capsys):
    w = tmp_path / "ws"
    assert cli.main(["init", "--lang", "zh", str(w)]) == 0
    out = capsys.readouterr().out
    assert f"\n工作区 {w.resolve()}：新写入 " in "\n" + out and "打开方式：  rnncourse lab" in out, out
    assert json.loads((w / ws.MANIFEST).read_text())["lang"] == "zh"
    assert (w / "README.md").read_text().startswith("# 你的 rnncourse 工作区")
    seen = _fake_lab(monkeypatch)
    assert cli.main(["lab", str(w), "--no-browser"]) == 0  # the workspace remembers zh
    assert seen["env"]["RNNCOURSE_LANG"] == "zh" and "--no-browser" in seen["cmd"]
    assert cli.main(["lab", "--lang=en", str(w)]) == 0  # feedback in English, on request
    assert seen["env"]["RNNCOURSE_LANG"] == "en"
    assert "rnncourse init --lang en" in capsys.readouterr().out
    # init without --lang keeps the workspace's language, and never overwrites the student's work
    mine = w / "exercises" / "ex1_recurrence.ipynb"
    mine.write_text(mine.read_text().replace("raise NotImplementedError", "return 42", 1))
    assert cli.main(["init", str(w)]) == 0
    assert "return 42" in mine.read_text() and json.loads((w / ws.MANIFEST).read_text())["lang"] == "zh"


def test_an_english_workspace_gets_english_feedback_even_on_a_chinese_machine(tmp_path, monkeypatch, capsys):
    w = tmp_path / "ws"
    assert cli.main(["init", str(w)]) == 0
    assert json.loads((w / ws.MANIFEST).read_text())["lang"] == "en"
    capsys.readouterr()
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    seen = _fake_lab(monkeypatch)
    assert cli.main(["lab", str(w)]) == 0
    assert seen["env"]["RNNCOURSE_LANG"] == "en" and capsys.readouterr().out == ""
    # a new workspace on a Chinese machine is Chinese by default
    assert cli.main(["init", str(tmp_path / "new")]) == 0
    assert json.loads((tmp_path / "new" / ws.MANIFEST).read_text())["lang"] == "zh"


def test_translated_lessons_when_the_edition_builder_exists(tmp_path):
    """With ``rnncourse.i18n`` (issue 12, lessons part) the Chinese workspace's markdown is Chinese and
    its code cells are the English edition's; without it the lessons stay English, with a note."""
    said = []
    ws.sync(tmp_path / "zh", log=said.append, lang="zh")
    ws.sync(tmp_path / "en", log=said.append, lang="en")
    rel = "notebooks/05_lstm.ipynb"
    zh_nb, en_nb = (json.loads((tmp_path / d / rel).read_text()) for d in ("zh", "en"))
    code = [[c["source"] for c in nb["cells"] if c["cell_type"] == "code"] for nb in (zh_nb, en_nb)]
    assert code[0] == code[1]
    try:
        import rnncourse.i18n  # noqa: F401
    except ImportError:
        with messages.using("zh"):
            note = messages._(
                "this version of rnncourse has no translated lessons yet: the lessons stay in "
                "English, check() feedback is in your language"
            )
        assert said == [note], said
        return
    zh_md = "".join("".join(c["source"]) for c in zh_nb["cells"] if c["cell_type"] == "markdown")
    assert "细胞状态" in zh_md


def test_lang_option_errors_are_clear(tmp_path, capsys):
    assert cli.main(["lab", "--lang", "fr", str(tmp_path)]) == 2
    assert "--lang must be one of ['en', 'zh']" in capsys.readouterr().err
    assert cli.main(["lab", str(tmp_path), "--lang"]) == 2
    assert "--lang needs a value" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["init", "--lang", "fr", str(tmp_path)])
    assert "--lang must be one of" in capsys.readouterr().err


def test_doctor_in_chinese(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RNNCOURSE_LANG", "zh")
    report = {
        "python": "py",
        "version": ws.rnncourse.__version__,
        "png_bytes": 5000,
        "ipywidgets": "8",
        "env": {v: "4" if v == "OPENBLAS_NUM_THREADS" else "1" for v in ws.THREAD_VARS},
    }
    monkeypatch.setattr(cli, "_probe_kernel", lambda: dict(report))
    assert cli.main(["doctor"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "未就绪：1 个问题，每个问题在上面都写了该怎么做", lines
    problem = [line for line in lines if line.startswith("问题")]
    assert len(problem) == 1 and problem[0].split(None, 2)[1:] == [
        "threads",
        "本课程需要单个 BLAS 线程，但你的 shell 设置了 OPENBLAS_NUM_THREADS=4：请取消这些设置"
        "（rnncourse lab 会设为 1）",
    ], lines
    assert lines[0].split()[:2] == ["正常", "python"], lines


def test_the_drivers_fixed_explanations_are_translated(capsys):
    """``_driver`` stays free of package imports; ``verdict`` translates its fixed phrases where the
    error is shown. Each phrase must still be written, word for word, in ``_driver.py``."""
    from rnncourse.grading import _driver
    from rnncourse.grading.verdict import DRIVER_PHRASES

    source = Path(_driver.__file__).read_text()
    assert all(phrase in source for phrase in DRIVER_PHRASES), (
        "a phrase of verdict.DRIVER_PHRASES left _driver.py"
    )

    def rnn_step_forward(x, h_prev, Wx, Wh, b):
        h_next = x  # noqa: F841  (forgot the return)

    with messages.using("zh"):
        check("ex1.rnn_step_forward", rnn_step_forward)
        check("ex1.rnn_step_forward", None)
    out = capsys.readouterr().out
    # the driver, not the student's code, found the None: "raised TypeError" would be untrue
    assert "* 返回了 None（是不是缺少 `return`？）（上面 4 项测试都出现了这个错误）" in out, out
    assert "TypeError" not in out, out
    assert "抛出了 NameError: 函数没有定义（它所在的单元格运行了吗？函数名改过吗？）" in out, out


def test_init_on_a_file_is_a_clear_error_in_the_students_language(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert cli.main(["init", "--lang", "zh", str(tmp_path / "f")]) == 2
    assert (
        f"rnncourse init：错误：工作区必须是一个文件夹，但 {tmp_path / 'f'} 是一个文件"
        in capsys.readouterr().err
    )
    assert cli.main(["init", "--lang", "en", str(tmp_path / "f")]) == 2
    assert f"error: workspace must be a folder, but {tmp_path / 'f'} is a file" in capsys.readouterr().err
