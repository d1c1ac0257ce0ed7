"""Translated editions of the course, built from one English source.

Each translated file lives beside the source tree, under ``translations/<lang>/<relpath>.json``::

    {"source": "notebooks/01_recurrence.ipynb", "lang": "zh",
     "cells": {"<cell id>": {"en_sha": "<16 hex>", "zh": "<translated markdown>"}}}

Only markdown cells are translated (code cells are shared by every edition); a ``.md`` file is one
unit with the key ``"file"``. ``en_sha`` is the hash of the English text the translation was made
from, so a change to the English makes the translation *stale*: the edition then shows the English
text with a visible note instead of a translation that no longer says the same thing.

Translators: ``python -m rnncourse.i18n stale --lang zh`` lists every missing, stale or orphaned item.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
from pathlib import Path

import nbformat

LANGS = ("zh",)
FILE_KEY = "file"  # the single key of a translated .md file

NOTES = {
    "zh": {
        "stale": "> ⚠️ 本段译文已过期（英文原文已修改），暂时显示英文原文。",
        "missing": "> ⚠️ 本段尚无中文译文，暂时显示英文原文。",
    },
}


def en_sha(text: str) -> str:
    """First 16 hex digits of the SHA-256 of ``text`` (UTF-8): the key tying a translation to its English."""
    if not isinstance(text, str):
        raise TypeError(f"en_sha: text must be a str, got {type(text).__name__}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _check_lang(lang: str) -> None:
    if lang not in NOTES:
        raise ValueError(f"lang must be one of {sorted(NOTES)}, got {lang!r}")


def default_root() -> Path:
    """The folder that holds ``notebooks/``, ``exercises/`` and ``translations/``.

    In a source checkout this is the repository root (beside the ``rnncourse`` package). An
    installed package may bundle a copy as ``rnncourse/_course/``; that is used when the checkout
    layout is not found.
    """
    pkg = Path(__file__).resolve().parent
    for cand in (pkg.parent, pkg / "_course"):
        if (cand / "translations").is_dir() and (cand / "notebooks").is_dir():
            return cand
    return pkg.parent


def _root(root) -> Path:
    return Path(root) if root is not None else default_root()


def translation_path(lang: str, relpath: str, root=None) -> Path:
    """``<root>/translations/<lang>/<relpath>.json``."""
    _check_lang(lang)
    return _root(root) / "translations" / lang / (Path(relpath).as_posix() + ".json")


def load_translation(lang: str, relpath: str, root=None) -> dict:
    """The translation of ``relpath`` (e.g. ``"notebooks/01_recurrence.ipynb"``) as a dict.

    Returns ``{"source": relpath, "lang": lang, "cells": {}}`` when no translation file exists yet.
    """
    path = translation_path(lang, relpath, root)
    if not path.exists():
        return {"source": Path(relpath).as_posix(), "lang": lang, "cells": {}}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("cells"), dict):
        raise ValueError(f"{path}: expected a JSON object with a 'cells' object")
    return data


def save_translation(data: dict, lang: str, relpath: str, root=None) -> Path:
    """Write ``data`` in the fixed format (UTF-8, indent 1, sorted keys, real characters)."""
    path = translation_path(lang, relpath, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _lookup(cells: dict, key: str, english: str, lang: str):
    """(text to show, status) for one unit: status is ``ok``, ``stale`` or ``missing``."""
    entry = cells.get(key)
    if entry is None or not entry.get(lang):
        return f"{NOTES[lang]['missing']}\n\n{english}", "missing"
    if entry.get("en_sha") != en_sha(english):
        return f"{NOTES[lang]['stale']}\n\n{english}", "stale"
    return entry[lang], "ok"


def translate_notebook(nb, relpath: str, lang: str, root=None):
    """A copy of ``nb`` with its markdown cells in ``lang``.

    A cell whose translation matches the current English is replaced by it; a stale or missing one
    keeps the English text under a short visible note. Code cells, ids, tags and metadata are kept
    as they are; ``nb.metadata["rnncourse"]["lang"]`` records the language.
    """
    _check_lang(lang)
    cells = load_translation(lang, relpath, root)["cells"]
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type == "markdown":
            cell.source, _ = _lookup(cells, cell.get("id"), cell.source, lang)
    meta = out.metadata.setdefault("rnncourse", {})
    meta["lang"] = lang
    return out


def translate_markdown_file(text: str, relpath: str, lang: str, root=None) -> str:
    """``text`` (a whole ``.md`` file) in ``lang``, or the English under a note if missing/stale."""
    _check_lang(lang)
    cells = load_translation(lang, relpath, root)["cells"]
    shown, _ = _lookup(cells, FILE_KEY, text, lang)
    return shown if shown.endswith("\n") or not text.endswith("\n") else shown + "\n"


def build_edition(src_root, dst_root, lang: str, relpaths, trans_root=None) -> list[Path]:
    """Write the ``lang`` edition of each ``relpath`` (``.ipynb`` or ``.md``) from ``src_root`` to ``dst_root``.

    A file is translated when it is one of :func:`translatable` or has a translation file; a stale
    or missing part shows the English under a note. Anything else (``notebooks/glossary.md``, which
    is bilingual already, data files) is copied as it is. Translations are read from ``trans_root``
    (default: ``src_root``). Existing files in ``dst_root`` are overwritten, so the caller decides
    what may be written (``rnncourse init`` must not overwrite student work). Returns the written paths.
    """
    _check_lang(lang)
    src_root, dst_root = Path(src_root), Path(dst_root)
    trans_root = src_root if trans_root is None else Path(trans_root)
    to_translate = set(translatable(src_root))
    written = []
    for rel in relpaths:
        rel = Path(rel).as_posix()
        src, dst = src_root / rel, dst_root / rel
        if not src.exists():
            raise FileNotFoundError(f"build_edition: {src} does not exist (relpath {rel!r})")
        dst.parent.mkdir(parents=True, exist_ok=True)
        translate = rel in to_translate or translation_path(lang, rel, trans_root).exists()
        if not translate:
            dst.write_bytes(src.read_bytes())
        elif rel.endswith(".ipynb"):
            nb = nbformat.read(src, as_version=4)
            nbformat.write(translate_notebook(nb, rel, lang, trans_root), dst)
        elif rel.endswith(".md"):
            text = src.read_text(encoding="utf-8")
            dst.write_text(translate_markdown_file(text, rel, lang, trans_root), encoding="utf-8")
        else:
            dst.write_bytes(src.read_bytes())
        written.append(dst)
    return written


def translatable(root=None) -> list[str]:
    """Every source file that must have a translation, as paths relative to ``root``."""
    r = _root(root)
    rels = [p.relative_to(r).as_posix() for p in sorted((r / "notebooks").glob("*.ipynb"))]
    rels += [p.relative_to(r).as_posix() for p in sorted((r / "exercises").glob("ex*.ipynb"))]
    rels += [rel for rel in ("notebooks/README.md", "exercises/README.md") if (r / rel).exists()]
    return rels


def english_units(relpath: str, root=None) -> dict:
    """{key: English text} of the translatable units of one source file."""
    path = _root(root) / relpath
    if relpath.endswith(".md"):
        return {FILE_KEY: path.read_text(encoding="utf-8")}
    nb = nbformat.read(path, as_version=4)
    return {c.id: c.source for c in nb.cells if c.cell_type == "markdown"}


def report_file(lang: str, relpath: str, root=None) -> list[tuple[str, str, str]]:
    """(relpath, key, status) for each problem in one file: ``missing``, ``stale`` or ``orphan``."""
    english = english_units(relpath, root)
    cells = load_translation(lang, relpath, root)["cells"]
    out = []
    for key, text in english.items():
        _, status = _lookup(cells, key, text, lang)
        if status != "ok":
            out.append((relpath, key, status))
    out += [(relpath, key, "orphan") for key in cells if key not in english]
    return out


def report(lang: str = "zh", root=None) -> list[tuple[str, str, str]]:
    """Every missing, stale or orphaned translation of ``lang``, over all translatable files."""
    _check_lang(lang)
    out = []
    for rel in translatable(root):
        out += report_file(lang, rel, root)
    # translation files whose source file no longer exists
    tdir = _root(root) / "translations" / lang
    known = set(translatable(root))
    for p in sorted(tdir.rglob("*.json")) if tdir.is_dir() else []:
        rel = p.relative_to(tdir).as_posix()[: -len(".json")]
        if rel not in known:
            out.append((rel, "*", "orphan"))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rnncourse.i18n", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("stale", help="list missing, stale and orphaned translations (exit 1 if any)")
    s.add_argument("--lang", default="zh", choices=sorted(NOTES))
    s.add_argument("--root", default=None, help="course folder (default: this checkout)")
    args = p.parse_args(argv)
    items = report(args.lang, args.root)
    for rel, key, status in items:
        print(f"{status:<8} {rel}  {key}")
    root = _root(args.root)
    if items:
        print(
            f"{len(items)} item(s) to update under {root / 'translations' / args.lang}; "
            f"each cell's en_sha is rnncourse.i18n.en_sha(<English cell source>)."
        )
        return 1
    print(f"all {args.lang} translations are current ({len(translatable(root))} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
