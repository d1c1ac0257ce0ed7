"""The Chinese edition: every markdown cell translated, tied to the exact English it translates."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from rnncourse import i18n

ROOT = Path(__file__).resolve().parents[1]
LANG = "zh"
STALE_CMD = f"python -m rnncourse.i18n stale --lang {LANG}"


# (a) every translatable file has a current translation: one test per source file ----------------


@pytest.mark.parametrize("relpath", i18n.translatable(ROOT))
def test_translation_is_current(relpath):
    problems = i18n.report_file(LANG, relpath, ROOT)
    lines = [f"  {status:<8} {key}" for _, key, status in problems]
    assert not problems, (
        f"{relpath}: {len(problems)} {LANG} translation item(s) missing, stale or orphaned "
        f"(edit {i18n.translation_path(LANG, relpath, ROOT).relative_to(ROOT)}; "
        f"see all with `{STALE_CMD}`):\n" + "\n".join(lines)
    )


def test_translatable_covers_lessons_exercises_and_readmes():
    rels = i18n.translatable(ROOT)
    lessons = [r for r in rels if re.fullmatch(r"notebooks/\d\d_\w+\.ipynb", r)]
    assert len(lessons) >= 8 and lessons[0] == "notebooks/00_welcome.ipynb", lessons
    assert sum(r.startswith("exercises/ex") for r in rels) >= 7, rels
    assert {"notebooks/README.md", "exercises/README.md"} <= set(rels), rels


def test_no_orphan_translation_files():
    tdir = ROOT / "translations" / LANG
    known = set(i18n.translatable(ROOT))
    orphans = [
        p.relative_to(tdir).as_posix()
        for p in tdir.rglob("*.json")
        if p.relative_to(tdir).as_posix()[: -len(".json")] not in known
    ]
    assert not orphans, f"translation files without a source file: {orphans}"


def _translation_files():
    return sorted((ROOT / "translations" / LANG).rglob("*.json"))


def _ids(paths):
    return [p.relative_to(ROOT / "translations" / LANG).as_posix() for p in paths]


@pytest.mark.parametrize("path", _translation_files(), ids=_ids(_translation_files()))
def test_translation_file_format(path):
    """The fixed format all translators share: UTF-8, real characters, indent 1, sorted keys."""
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    rel = path.relative_to(ROOT / "translations" / LANG).as_posix()[: -len(".json")]
    assert data["source"] == rel and data["lang"] == LANG, (data["source"], data["lang"], rel)
    for key, entry in data["cells"].items():
        assert set(entry) == {"en_sha", LANG}, f"{rel} {key}: keys {sorted(entry)}"
        assert re.fullmatch(r"[0-9a-f]{16}", entry["en_sha"]), f"{rel} {key}: en_sha {entry['en_sha']!r}"
    assert text == json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", (
        f"{rel}: not in the shared format (json.dumps(..., ensure_ascii=False, indent=1, sort_keys=True))"
    )


# (e) math, code and HTML markers survive translation ---------------------------------------------

MARKERS = {
    "$": "math ($)",
    "`": "code (`)",
    "<details>": "<details>",
    "</details>": "</details>",
    "<summary>": "<summary>",
    "](": "links ](...)",
}


def marker_problems(english, translated):
    """Names of the markers whose count differs between an English unit and its translation."""
    out = [
        f"{name}: English {english.count(m)}, translation {translated.count(m)}"
        for m, name in MARKERS.items()
        if english.count(m) != translated.count(m)
    ]
    heads_en = [line.split(" ")[0] for line in english.splitlines() if line.startswith("#")]
    heads_tr = [line.split(" ")[0] for line in translated.splitlines() if line.startswith("#")]
    if heads_en != heads_tr:
        out.append(f"headings: English {heads_en}, translation {heads_tr}")
    return out


@pytest.mark.parametrize("path", _translation_files(), ids=_ids(_translation_files()))
def test_math_code_and_markup_counts_match(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    english = i18n.english_units(data["source"], ROOT)
    bad = []
    for key, entry in data["cells"].items():
        if key in english and entry["en_sha"] == i18n.en_sha(english[key]):
            bad += [f"  {key}: {p}" for p in marker_problems(english[key], entry[LANG])]
    assert not bad, (
        f"{data['source']}: translation differs from the English in math/code/markup:\n" + "\n".join(bad)
    )


def test_marker_check_catches_broken_latex():
    en = "The state $h_t$ and `rnn_forward`; see [glossary](glossary.md)."
    assert marker_problems(en, "状态 $h_t$ 与 `rnn_forward`；见[术语表](glossary.md)。") == []
    assert marker_problems(en, "状态 $h_t 与 `rnn_forward`；见[术语表](glossary.md)。")[0].startswith("math")
    assert marker_problems(en, "状态 $h_t$ 与 rnn_forward；见术语表。") == [
        "code (`): English 2, translation 0",
        "links ](...): English 1, translation 0",
    ]
    assert marker_problems("## A\ntext", "### 甲\n文字") == ["headings: English ['##'], translation ['###']"]


# Emphasis next to Chinese punctuation is a classic trap: CommonMark (and JupyterLab's renderer) does
# not close `**开始：**处于`, so the asterisks show up as text. Render both and compare the structure.
RENDERED_TAGS = ("<strong>", "<em>", "<code>", "<li>", "<a ", "<h", "<pre>", "<table>", "<tr>", "<details>")


def rendered_problems(english, translated):
    mistune = pytest.importorskip("mistune")
    md = mistune.create_markdown(plugins=["table"])

    # JupyterLab protects math from the markdown parser; do the same, or `_` inside $...$ reads as emphasis
    def no_math(text):
        return re.sub(r"\$\$.*?\$\$|\$[^$]+\$", "MATH", text, flags=re.S)

    a, b = md(no_math(english)), md(no_math(translated))
    return [
        f"{tag.strip('<> ')}: English {a.count(tag)}, translation {b.count(tag)}"
        for tag in RENDERED_TAGS
        if a.count(tag) != b.count(tag)
    ]


@pytest.mark.parametrize("path", _translation_files(), ids=_ids(_translation_files()))
def test_rendered_markdown_structure_matches(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    english = i18n.english_units(data["source"], ROOT)
    bad = []
    for key, entry in data["cells"].items():
        if key in english and entry["en_sha"] == i18n.en_sha(english[key]):
            bad += [f"  {key}: {p}" for p in rendered_problems(english[key], entry[LANG])]
    assert not bad, (
        f"{data['source']}: the translation renders differently (bold/italic next to Chinese "
        f"punctuation? write **开始**：, not **开始：**):\n" + "\n".join(bad)
    )


def test_rendered_check_catches_unclosed_emphasis():
    en = "1. **Start:** at chance, see *explorer* and `train`."
    assert rendered_problems(en, "1. **开始**：处于随机水平，见*探索器*（explorer）和 `train`。") == []
    assert rendered_problems(en, "1. **开始：**处于随机水平，见*探索器（explorer）*和 `train`。") == [
        "strong: English 1, translation 0",
        "em: English 1, translation 0",
    ]


# (b) changing one English cell makes the report name exactly that cell ------------------------------


def _course_copy(tmp_path, rels=("notebooks/00_welcome.ipynb", "notebooks/README.md")):
    for rel in rels:
        for src in (ROOT / rel, i18n.translation_path(LANG, rel, ROOT)):
            dst = tmp_path / src.relative_to(ROOT)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst)
    (tmp_path / "exercises").mkdir(exist_ok=True)
    return tmp_path


def test_report_names_exactly_the_changed_cell(tmp_path):
    root = _course_copy(tmp_path)
    assert i18n.report(LANG, root) == [], "the copied lesson 0 should start fully translated"
    path = root / "notebooks/00_welcome.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = [c for c in nb.cells if c.cell_type == "markdown"][2]
    cell.source = cell.source.replace("projector", "beamer", 1)
    assert (
        cell.source
        != nbformat.read(ROOT / "notebooks/00_welcome.ipynb", as_version=4)
        .cells[[c.id for c in nb.cells].index(cell.id)]
        .source
    )
    nbformat.write(nb, path)
    assert i18n.report(LANG, root) == [("notebooks/00_welcome.ipynb", cell.id, "stale")]

    # a whitespace-only change is a change too: the hash covers the exact text
    (root / "notebooks/README.md").write_text(
        (ROOT / "notebooks/README.md").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    assert ("notebooks/README.md", "file", "stale") in i18n.report(LANG, root)


def test_report_names_missing_and_orphan_cells(tmp_path):
    root = _course_copy(tmp_path)
    path = root / "notebooks/00_welcome.ipynb"
    nb = nbformat.read(path, as_version=4)
    removed = next(c for c in nb.cells if c.cell_type == "markdown" and c.id == "summary")
    nb.cells.remove(removed)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("A new paragraph.", id="brand-new"))
    nbformat.write(nb, path)
    assert sorted(i18n.report(LANG, root)) == [
        ("notebooks/00_welcome.ipynb", "brand-new", "missing"),
        ("notebooks/00_welcome.ipynb", "summary", "orphan"),
    ]


def test_stale_command_lists_items_and_exits_1(tmp_path):
    root = _course_copy(tmp_path)
    cmd = [sys.executable, "-m", "rnncourse.i18n", "stale", "--lang", LANG, "--root", str(root)]
    ok = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "current" in ok.stdout, ok.stdout + ok.stderr
    path = root / "notebooks/00_welcome.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += " (edited)"
    nbformat.write(nb, path)
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"stale    notebooks/00_welcome.ipynb  {nb.cells[0].id}" in bad.stdout, bad.stdout


# (c) translate_notebook: code cells untouched, notes on stale and missing cells ----------------------


def test_translate_notebook_keeps_code_and_marks_stale_cells(tmp_path):
    rel = "notebooks/01_recurrence.ipynb"
    en = nbformat.read(ROOT / rel, as_version=4)
    data = i18n.load_translation(LANG, rel, ROOT)
    md_ids = [c.id for c in en.cells if c.cell_type == "markdown"]
    stale_id, missing_id = md_ids[1], md_ids[2]
    data["cells"][stale_id]["en_sha"] = "0" * 16  # as if the English had changed since
    del data["cells"][missing_id]
    i18n.save_translation(data, LANG, rel, tmp_path)

    zh = i18n.translate_notebook(en, rel, LANG, root=tmp_path)
    assert en.metadata.get("rnncourse", {}).get("lang") is None, "the English notebook must not change"
    assert zh.metadata["rnncourse"]["lang"] == LANG
    assert [c.id for c in zh.cells] == [c.id for c in en.cells]
    for c_en, c_zh in zip(en.cells, zh.cells):
        assert c_zh.cell_type == c_en.cell_type and c_zh.metadata == c_en.metadata, c_en.id
        if c_en.cell_type == "code":
            assert json.dumps(c_zh, sort_keys=True) == json.dumps(c_en, sort_keys=True), c_en.id
        elif c_en.id == stale_id:
            assert c_zh.source == i18n.NOTES[LANG]["stale"] + "\n\n" + c_en.source
        elif c_en.id == missing_id:
            assert c_zh.source == i18n.NOTES[LANG]["missing"] + "\n\n" + c_en.source
        else:
            assert c_zh.source == data["cells"][c_en.id][LANG] != c_en.source, c_en.id
    other = {k: v for k, v in zh.metadata.items() if k != "rnncourse"}
    assert other == {k: v for k, v in en.metadata.items() if k != "rnncourse"}


def test_translate_markdown_file_and_build_edition(tmp_path):
    rels = ["notebooks/README.md", "notebooks/00_welcome.ipynb", "notebooks/glossary.md"]
    i18n.build_edition(ROOT, tmp_path, LANG, rels)
    readme = (tmp_path / "notebooks/README.md").read_text(encoding="utf-8")
    assert readme == i18n.load_translation(LANG, "notebooks/README.md", ROOT)["cells"]["file"][LANG]
    # the glossary is bilingual already and not translatable: copied byte for byte
    assert (tmp_path / "notebooks/glossary.md").read_bytes() == (ROOT / "notebooks/glossary.md").read_bytes()
    # a translatable file whose translation file is gone shows the English under the note
    src = _course_copy(tmp_path / "src")
    i18n.translation_path(LANG, "notebooks/README.md", src).unlink()
    i18n.build_edition(src, tmp_path / "out", LANG, ["notebooks/README.md"])
    english = (ROOT / "notebooks/README.md").read_text(encoding="utf-8")
    assert (tmp_path / "out/notebooks/README.md").read_text(encoding="utf-8") == (
        i18n.NOTES[LANG]["missing"] + "\n\n" + english
    )
    nb = nbformat.read(tmp_path / "notebooks/00_welcome.ipynb", as_version=4)
    assert nb.metadata["rnncourse"]["lang"] == LANG and nb.cells[0].source.startswith("# 第 0 课")
    with pytest.raises(FileNotFoundError, match="no_such.ipynb"):
        i18n.build_edition(ROOT, tmp_path, LANG, ["notebooks/no_such.ipynb"])
    with pytest.raises(ValueError, match="lang"):
        i18n.build_edition(ROOT, tmp_path, "xx", rels)


def test_default_root_is_this_checkout():
    assert i18n.default_root() == ROOT
    assert i18n.load_translation(LANG, "notebooks/00_welcome.ipynb")["source"] == "notebooks/00_welcome.ipynb"


def test_en_sha_is_the_shared_definition():
    import hashlib

    assert i18n.en_sha("h_t") == hashlib.sha256(b"h_t").hexdigest()[:16]
    with pytest.raises(TypeError, match="text must be a str"):
        i18n.en_sha(["h_t"])


# (d) the translated lesson 0 runs top to bottom ---------------------------------------------------


def test_translated_lesson_0_runs(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("MPLBACKEND", "Agg")
    rel = "notebooks/00_welcome.ipynb"
    i18n.build_edition(ROOT, tmp_path, LANG, [rel])
    nb = nbformat.read(tmp_path / rel, as_version=4)
    assert i18n.NOTES[LANG]["missing"] not in json.dumps(nb, ensure_ascii=False)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path / "notebooks")}}
    ).execute()
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors, errors
    printed = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "parameters" in printed and "trained for 200 steps" in printed, printed[-500:]


# In a real browser, every Chinese lesson and exercise: tests/test_i18n_browser.py
