"""The message catalogue's tools: read a ``.po`` file, compile it to ``.mo`` bytes, extract the
message ids from the code. Pure Python (no Babel, no GNU gettext needed).

The source of truth is ``rnncourse/locale/<lang>/LC_MESSAGES/rnncourse.po``. The compiled ``.mo``
is *generated*: ``rnncourse.messages`` compiles the ``.po`` in memory the first time a language is
used (a few milliseconds) and hands the bytes to the standard ``gettext.GNUTranslations``, so a
stale ``.mo`` can never be shipped and nothing generated is committed.

Translator's workflow (in a source checkout)::

    python -m rnncourse.i18n_messages extract            # write rnncourse/locale/rnncourse.pot
    python -m rnncourse.i18n_messages update zh_CN       # add new ids to the .po (msgmerge-like)
    # ... translate the entries with an empty msgstr in rnncourse.po ...
    python -m rnncourse.i18n_messages check zh_CN        # what is missing or has wrong placeholders
    python -m rnncourse.i18n_messages compile zh_CN      # optional: write rnncourse.mo beside it

``pybabel extract -k N_ -k ngettext:1,2 -k Probe:2 -k Probe:4 -k Bug:2 -o rnncourse.pot rnncourse``
finds about the same ids. Ours reads calls of ``_``, ``N_`` and ``ngettext`` and the literal texts of
``Probe(name, title, make, hint)`` and ``Bug(impl, message)``, so an exercise module that forgot
``N_()`` is still extracted.

Rules for code (the tests enforce them): the argument of ``_()``/``N_()`` is a plain string
literal, English, with ``{name}`` placeholders filled by ``.format`` *after* translation, never an
f-string (an f-string would make a new message id for every value).
"""

from __future__ import annotations

import ast
import re
import string
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Entry",
    "parse_po",
    "compile_mo",
    "extract",
    "write_pot",
    "update_po",
    "placeholders",
    "catalogue",
    "problems",
    "LOCALE_DIR",
    "DOMAIN",
    "po_path",
]

PACKAGE_DIR = Path(__file__).resolve().parent
LOCALE_DIR = PACKAGE_DIR / "locale"
DOMAIN = "rnncourse"
KEYWORDS = {"_": 1, "N_": 1, "ngettext": 2}  # function name -> number of leading msgid arguments
#: constructors whose string arguments (by position) a student reads: a probe's title and hint, a
#: bug's diagnosis (``rnncourse.grading.verdict`` translates them when it judges)
SHOWN_ARGS = {"Probe": (1, 3), "Bug": (1,)}


def po_path(locale_name):
    return LOCALE_DIR / locale_name / "LC_MESSAGES" / f"{DOMAIN}.po"


@dataclass
class Entry:
    msgid: str
    msgstr: str = ""
    msgid_plural: str | None = None
    msgstr_plural: dict = field(default_factory=dict)  # {index: text}
    fuzzy: bool = False
    obsolete: bool = False
    comments: list = field(default_factory=list)  # lines starting with "#" kept as they are
    references: list = field(default_factory=list)  # "path:line"

    @property
    def translated(self):
        if self.msgid_plural is not None:
            return bool(self.msgstr_plural) and all(self.msgstr_plural.values()) and not self.fuzzy
        return bool(self.msgstr) and not self.fuzzy


# ------------------------------------------------------------------------------------ .po files


def _unquote(token, where):
    token = token.strip()
    if not (len(token) >= 2 and token[0] == token[-1] == '"'):
        raise ValueError(f"{where}: expected a quoted string, got {token!r}")
    return ast.literal_eval(token)  # PO strings use C escapes: \" \\ \n \t, as Python does


def parse_po(text, name="<po>"):
    """``[Entry]`` of a ``.po`` text (the header is the entry with ``msgid == ""``)."""
    entries, cur, key = [], None, None

    def finish():
        nonlocal cur, key
        if cur is not None and cur.get("msgid") is not None:
            e = Entry(
                cur["msgid"],
                cur.get("msgstr", ""),
                cur.get("msgid_plural"),
                cur.get("plural", {}),
                "fuzzy" in cur.get("flags", ()),
                cur.get("obsolete", False),
                cur.get("comments", []),
                cur.get("refs", []),
            )
            entries.append(e)
        cur, key = None, None

    for lineno, raw in enumerate(text.splitlines(), 1):
        where = f"{name}:{lineno}"
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if cur is not None and "msgid" in cur:
                finish()
            cur = cur or {}
            if line.startswith("#,"):
                cur.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
            elif line.startswith("#:"):
                cur.setdefault("refs", []).extend(line[2:].split())
            cur.setdefault("comments", []).append(raw)
            continue
        m = re.match(r"(msgid_plural|msgid|msgstr\[(\d+)\]|msgstr|msgctxt)\s+(.*)$", line)
        if m:
            kw, idx, rest = m.group(1), m.group(2), m.group(3)
            if kw == "msgctxt":
                raise ValueError(f"{where}: msgctxt is not used in this catalogue")
            if kw == "msgid" and cur is not None and "msgid" in cur:
                finish()
            cur = cur or {}
            cur["obsolete"] = obsolete
            value = _unquote(rest, where)
            if kw == "msgid":
                cur["msgid"], key = value, ("msgid",)
            elif kw == "msgid_plural":
                cur["msgid_plural"], key = value, ("msgid_plural",)
            elif kw == "msgstr":
                cur["msgstr"], key = value, ("msgstr",)
            else:
                cur.setdefault("plural", {})[int(idx)] = value
                key = ("plural", int(idx))
            continue
        if line.startswith('"'):
            if cur is None or key is None:
                raise ValueError(f"{where}: a continuation string outside an entry")
            value = _unquote(line, where)
            if key[0] == "plural":
                cur["plural"][key[1]] += value
            else:
                cur[key[0]] += value
            continue
        raise ValueError(f"{where}: cannot read {raw!r}")
    finish()
    seen = set()
    for e in entries:
        if e.obsolete:
            continue
        if e.msgid in seen:
            raise ValueError(f"{name}: msgid {e.msgid!r} appears twice")
        seen.add(e.msgid)
    return entries


def compile_mo(entries):
    """The bytes of a GNU ``.mo`` file for ``entries`` (what ``msgfmt`` writes; fuzzy, obsolete
    and untranslated entries are left out, so gettext falls back to the English)."""
    pairs = {}
    for e in entries:
        if e.obsolete or (e.msgid and not e.translated):
            continue
        if e.msgid_plural is not None:
            key = e.msgid + "\0" + e.msgid_plural
            value = "\0".join(e.msgstr_plural[i] for i in sorted(e.msgstr_plural))
        else:
            key, value = e.msgid, e.msgstr
        pairs[key.encode("utf-8")] = value.encode("utf-8")
    keys = sorted(pairs)
    ids = strs = b""
    offsets = []
    for k in keys:
        offsets.append((len(ids), len(k), len(strs), len(pairs[k])))
        ids += k + b"\0"
        strs += pairs[k] + b"\0"
    n = len(keys)
    keystart = 7 * 4 + 16 * n
    valuestart = keystart + len(ids)
    koffsets, voffsets = [], []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + keystart]
        voffsets += [l2, o2 + valuestart]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    return (
        header
        + struct.pack(f"{len(koffsets)}i", *koffsets)
        + struct.pack(f"{len(voffsets)}i", *voffsets)
        + ids
        + strs
    )


# ------------------------------------------------------------------------------------ extracting


@dataclass
class Found:
    msgid: str
    msgid_plural: str | None
    where: str


def _extract_file(path, rel):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found, errors = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SHOWN_ARGS:
            # a task's texts are translated where they are shown, marked with N_() or not
            for k in SHOWN_ARGS[node.func.id]:
                a = node.args[k] if k < len(node.args) else None
                if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value:
                    found.append(Found(a.value, None, f"{rel}:{a.lineno}"))
            continue
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS):
            continue
        where = f"{rel}:{node.lineno}"
        args = node.args[: KEYWORDS[node.func.id]]
        if any(isinstance(a, ast.JoinedStr) for a in args):
            errors.append(
                f"{where}: an f-string inside {node.func.id}(): use a literal and .format() after it"
            )
            continue
        if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            if node.func.id == "N_":
                errors.append(f"{where}: N_() needs a string literal")
            continue  # _(variable): translating an id marked elsewhere with N_()
        if len(args) < KEYWORDS[node.func.id]:
            errors.append(f"{where}: {node.func.id}() needs {KEYWORDS[node.func.id]} string arguments")
            continue
        if not args[0].value:
            errors.append(f"{where}: an empty message id")
            continue
        found.append(Found(args[0].value, args[1].value if len(args) > 1 else None, where))
    found.sort(key=lambda f: int(f.where.rsplit(":", 1)[1]))
    return found, errors


def extract(root=PACKAGE_DIR):
    """``({msgid: Found}, [error])``: every message id marked in the package's code, in file order."""
    root = Path(root)
    out, errors = {}, []
    for path in sorted(root.rglob("*.py")):
        if path.name in ("messages.py", "i18n_messages.py"):
            continue
        rel = path.relative_to(root.parent).as_posix()
        found, errs = _extract_file(path, rel)
        errors += errs
        for f in found:
            if f.msgid in out:
                if out[f.msgid].msgid_plural != f.msgid_plural:
                    errors.append(f"{f.where}: {f.msgid!r} is used with two different plural forms")
                out[f.msgid].where += " " + f.where
            else:
                out[f.msgid] = f
    return out, errors


def _quote1(text):
    s = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n")
    return f'"{s}"'


def _quote(text):
    """A PO string; a text of several lines is written one line per quoted piece, as msgmerge does."""
    if "\n" not in text.rstrip("\n"):
        return _quote1(text)
    return '""\n' + "\n".join(_quote1(line) for line in text.splitlines(keepends=True))


def _entry_lines(e):
    lines = [
        c for c in e.comments if not c.startswith("#:") and not c.startswith("#,") and not c.startswith("#~")
    ]
    prefix = ""
    if e.references:
        lines.append("#: " + " ".join(e.references))
    flags = ["fuzzy"] if e.fuzzy else []
    if e.msgid and "{" in e.msgid:
        flags.append("python-brace-format")
    if flags:
        lines.append("#, " + ", ".join(flags))
    lines.append(f"{prefix}msgid {_quote(e.msgid)}")
    if e.msgid_plural is not None:
        lines.append(f"{prefix}msgid_plural {_quote(e.msgid_plural)}")
        for i in sorted(e.msgstr_plural) or [0, 1]:
            lines.append(f"{prefix}msgstr[{i}] {_quote(e.msgstr_plural.get(i, ''))}")
    else:
        lines.append(f"{prefix}msgstr {_quote(e.msgstr)}")
    if e.obsolete:  # every physical line of an obsolete entry starts with "#~"
        lines = [line if line.startswith("#") else "#~ " + ln for line in lines for ln in [line]]
        lines = [x for line in lines for x in (line.split("\n") if not line.startswith("#,") else [line])]
        lines = [x if x.startswith("#") else "#~ " + x for x in lines]
    return lines


def format_po(entries):
    return "\n\n".join("\n".join(_entry_lines(e)) for e in entries) + "\n"


POT_HEADER = (
    "Project-Id-Version: rnncourse\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "Content-Transfer-Encoding: 8bit\n"
)


def _found_entries(found):
    return [Entry(f.msgid, "", f.msgid_plural, {}, references=f.where.split()) for f in found.values()]


def write_pot(path=None):
    found, errors = extract()
    if errors:
        raise ValueError("cannot extract:\n" + "\n".join(errors))
    path = Path(path) if path else LOCALE_DIR / f"{DOMAIN}.pot"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_po([Entry("", POT_HEADER)] + _found_entries(found)), encoding="utf-8")
    return path


def update_po(locale_name):
    """Like ``msgmerge``: keep the translations of ids still in the code, add new ids untranslated,
    keep ids no longer in the code as obsolete (``#~``) entries so their text can be reused.
    Returns ``(added, obsoleted)`` counts."""
    found, errors = extract()
    if errors:
        raise ValueError("cannot extract:\n" + "\n".join(errors))
    path = po_path(locale_name)
    old = {e.msgid: e for e in parse_po(path.read_text(encoding="utf-8"), str(path))} if path.exists() else {}
    header = old.pop("", None) or Entry("", POT_HEADER + f"Language: {locale_name}\n")
    new = []
    for e in _found_entries(found):
        prev = old.pop(e.msgid, None)
        if prev is not None and not prev.obsolete:
            e.msgstr, e.msgstr_plural, e.fuzzy = prev.msgstr, prev.msgstr_plural, prev.fuzzy
            e.comments = [c for c in prev.comments if c.startswith("# ")]
        new.append(e)
    added = sum(1 for e in new if not e.translated)
    gone = [e for e in old.values()]
    for e in gone:
        e.obsolete, e.references = True, []
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_po([header] + new + gone), encoding="utf-8")
    return added, len(gone)


def placeholders(text):
    """The ``{field:spec}`` replacement fields of a ``str.format`` text, as a sorted list."""
    try:
        return sorted(
            f"{{{name}{':' + spec if spec else ''}}}"
            for _, name, spec, _ in string.Formatter().parse(text)
            if name is not None
        )
    except ValueError as exc:
        return [f"<unreadable: {exc}>"]


def catalogue(locale_name="zh_CN", path=None):
    """``{msgid: Entry}`` of the catalogue (obsolete entries left out)."""
    path = Path(path) if path is not None else po_path(locale_name)
    return {e.msgid: e for e in parse_po(path.read_text(encoding="utf-8"), str(path)) if not e.obsolete}


def problems(locale_name="zh_CN", root=PACKAGE_DIR, path=None):
    """``[text]``: rule breaks in the code (f-strings in ``_()``), message ids of the code that the
    catalogue lacks or leaves untranslated (an id whose English was edited is a new id, so it shows
    up here), and translations whose ``{placeholders}`` differ from the English.

    ``root`` is the package folder to scan, ``path`` the ``.po`` file (default: the package's)."""
    found, errors = extract(root)
    path = Path(path) if path is not None else po_path(locale_name)
    cat = {e.msgid: e for e in parse_po(path.read_text(encoding="utf-8"), str(path)) if not e.obsolete}
    out = list(errors)
    for msgid, f in found.items():
        e = cat.get(msgid)
        if e is None or not e.translated:
            out.append(f"{f.where}: no translation for {msgid!r}")
            continue
        for text in [e.msgstr] if e.msgid_plural is None else list(e.msgstr_plural.values()):
            if placeholders(text) != placeholders(
                msgid if e.msgid_plural is None else e.msgid_plural
            ) and placeholders(text) != placeholders(msgid):
                out.append(
                    f"{f.where}: placeholders differ for {msgid!r}: {placeholders(msgid)} in English, "
                    f"{placeholders(text)} in {locale_name}"
                )
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in ("extract", "update", "check", "compile"):
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "extract":
        print(f"wrote {write_pot(rest[0] if rest else None)}")
        return 0
    loc = rest[0] if rest else "zh_CN"
    if cmd == "update":
        added, gone = update_po(loc)
        print(f"{po_path(loc)}: {added} entr(y/ies) to translate, {gone} obsolete")
        return 0
    if cmd == "check":
        found = problems(loc)
        print("\n".join(found) if found else f"{po_path(loc)}: complete")
        return 1 if found else 0
    path = po_path(loc)
    mo = path.with_suffix(".mo")
    mo.write_bytes(compile_mo(parse_po(path.read_text(encoding="utf-8"), str(path))))
    print(f"wrote {mo}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
