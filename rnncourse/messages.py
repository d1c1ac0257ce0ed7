"""The language of every message a student reads (``check()`` feedback, ``rnncourse doctor``, CLI
errors), through Python's standard ``gettext``.

    from rnncourse.messages import _, N_, ngettext
    print(_("`{name}` is wrong").format(name="dWx"))     # translate first, then fill in
    TITLE = N_("random inputs")     # marked for the catalogue, translated later with _(TITLE)

The language is, in this order: ``set_language(lang)`` if called; the environment variable
``RNNCOURSE_LANG`` (``zh``, ``zh_CN``, ``en``; ``rnncourse lab`` sets it from the workspace);
the language recorded in the workspace the kernel runs in (``.rnncourse.json`` in the current
folder or a parent, so a Chinese workspace opened by any Jupyter, e.g. on a hub, answers in
Chinese); the user's locale when it is Chinese (``LANGUAGE``/``LC_ALL``/``LC_MESSAGES``/``LANG`` or the
system locale starting with ``zh``); otherwise English. English is the source text itself, so an
id with no translation shows in English rather than wrong.

The catalogue is ``rnncourse/locale/zh_CN/LC_MESSAGES/rnncourse.po``; see
``rnncourse.i18n_messages`` for how it is compiled, extracted and updated.
"""

from __future__ import annotations

import contextlib
import gettext
import io
import json
import locale
import os
from pathlib import Path

__all__ = ["_", "N_", "ngettext", "set_language", "get_language", "using", "LANGUAGES", "ENV", "normalize"]

ENV = "RNNCOURSE_LANG"
#: language code -> locale folder under ``rnncourse/locale`` (None: the English source)
LANGUAGES = {"en": None, "zh": "zh_CN"}

_chosen = None  # set by set_language
_cache = {}  # lang -> translations object
_found = {}  # folder -> language of the workspace it is in (or None)
MANIFEST = ".rnncourse.json"  # rnncourse.workspace.MANIFEST (not imported: this module is imported first)


def normalize(lang, what="lang"):
    """``"zh"``, ``"zh_CN"``, ``"zh-cn"``, ``"zh_CN.UTF-8"`` -> ``"zh"``; ``"en_US"`` -> ``"en"``.

    Raises TypeError for a non-string and ValueError for a language the course does not have."""
    if not isinstance(lang, str):
        raise TypeError(f"{what} must be a string such as 'zh' or 'en', got {type(lang).__name__}")
    code = lang.strip().replace("-", "_").split(".")[0].split("@")[0].split("_")[0].lower()
    if code not in LANGUAGES:
        raise ValueError(
            f"{what} must be one of {sorted(LANGUAGES)} (or a locale such as zh_CN), got {lang!r}"
        )
    return code


def _from_locale():
    """ "zh" when the user's locale is clearly Chinese, else "en"."""
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            first = value.split(":")[0]  # LANGUAGE may be a list: zh_CN:en
            return "zh" if first.lower().startswith("zh") else "en"
    try:
        name = locale.getlocale()[0] or ""
    except ValueError:
        name = ""
    return "zh" if name.lower().startswith(("zh", "chinese")) else "en"


def _from_workspace(folder):
    """The ``lang`` of the workspace manifest in ``folder`` or up to three parents, or None."""
    key = str(folder)
    if key not in _found:
        lang = None
        for d in [folder, *list(folder.parents)[:3]]:
            try:
                data = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and data.get("lang") in LANGUAGES:
                lang = data["lang"]
            break
        _found[key] = lang
    return _found[key]


def get_language():
    """The language messages are shown in now: ``"en"`` or ``"zh"``."""
    if _chosen is not None:
        return _chosen
    env = os.environ.get(ENV, "").strip()
    if env:
        try:
            return normalize(env, ENV)
        except ValueError:
            return "en"  # a typo in the variable must not break a student's check()
    try:
        here = Path.cwd()
    except OSError:  # the current folder was deleted
        here = None
    lang = _from_workspace(here) if here is not None else None
    return lang or _from_locale()


def set_language(lang):
    """Show messages in ``lang`` (``"zh"`` or ``"en"``) from now on; ``None`` goes back to the
    default (``RNNCOURSE_LANG``, then the locale). Returns the language now in use."""
    global _chosen
    _chosen = None if lang is None else normalize(lang)
    return get_language()


@contextlib.contextmanager
def using(lang):
    """``with using("zh"): ...``: messages in ``lang`` inside the block, the previous choice after it."""
    global _chosen
    previous = _chosen
    set_language(lang)
    try:
        yield get_language()
    finally:
        _chosen = previous


def _translations(lang):
    if lang not in _cache:
        folder = LANGUAGES[lang]
        if folder is None:
            _cache[lang] = gettext.NullTranslations()
        else:
            from rnncourse.i18n_messages import compile_mo, parse_po, po_path

            path = po_path(folder)
            mo = compile_mo(parse_po(path.read_text(encoding="utf-8"), str(path)))
            _cache[lang] = gettext.GNUTranslations(io.BytesIO(mo))
    return _cache[lang]


def _(message):
    """``message`` (an English message id) in the current language."""
    if not message:
        return message  # gettext("") would return the catalogue's header
    return _translations(get_language()).gettext(message)


def N_(message):
    """Mark ``message`` for the catalogue without translating it now (it is translated where shown)."""
    return message


def ngettext(singular, plural, n):
    """The singular or plural form for ``n``, in the current language."""
    return _translations(get_language()).ngettext(singular, plural, n)
