"""The student bundle and the student's workspace: a folder of their own, separate from the source.

The bundle is what a student gets: the lessons (``notebooks/*.ipynb`` and ``notebooks/*.md``, for
example the glossary), the exercise notebooks (``exercises/ex*.ipynb``, ``exercises/*.md``) and a
short README. Never the solutions. ``notebooks/`` and ``exercises/`` stay sibling folders, so a
lesson's link ``../exercises/ex1_recurrence.ipynb`` works in the workspace as in the repository.

Where the bundle comes from:

- in a source checkout (an editable install) it is read from the checkout's own folders;
- in an installed wheel it is read from ``rnncourse/_course/``, which ``setup.py`` copies in at
  build time (the repository keeps ``notebooks/`` and ``exercises/`` where they are).

A student's work is never overwritten. ``DIR/.rnncourse.json`` records the package version and a
SHA-256 hash of every file as it was shipped. When the workspace is updated, a file that still has
its shipped hash is replaced; a file the student changed is kept and the new version is written
beside it (``ex3_bptt.new.ipynb``), with a message saying so. A deleted file comes back.

A workspace has a language (``sync(..., lang="zh")``, recorded in the manifest): the Chinese
edition's lessons and exercises are written by ``rnncourse.i18n.build_edition`` (translated
markdown cells, the same code cells), and ``course_env(lang=...)`` gives the lab's kernels
``RNNCOURSE_LANG`` so that ``check()`` answers in that language (``rnncourse.messages``).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import tempfile
from pathlib import Path

import rnncourse
from rnncourse import messages
from rnncourse.messages import N_, _

__all__ = [
    "DEFAULT_DIR",
    "MANIFEST",
    "WELCOME",
    "CourseNotFound",
    "checkout_root",
    "course_root",
    "bundle_files",
    "sync",
    "read_manifest",
    "course_env",
    "templates_dir",
    "solutions_dir",
    "workspace_language",
    "edition_files",
]

DEFAULT_DIR = "rnncourse-workspace"
MANIFEST = ".rnncourse.json"
WELCOME = "notebooks/00_welcome.ipynb"
#: the course's small matrices run faster and steadier on one BLAS thread (see the Makefile)
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")

README = N_("""\
# Your rnncourse workspace

This folder is yours. Everything you save here stays here.

- `notebooks/` holds the lessons. Start with `notebooks/00_welcome.ipynb`.
- `exercises/` holds the exercise notebooks. Each lesson ends with a link to its exercise.

Open the course (in the folder that holds this one) with

    rnncourse lab {dirname}

After installing a new version of the course (`pip install ...` again), update this folder with

    rnncourse init {dirname}

An update never overwrites a file you changed. If a new version of a file you changed exists, it
is written beside yours with `.new` in its name (for example `exercises/ex3_bptt.new.ipynb`), and
the command tells you. A file you deleted comes back. `rnncourse doctor` checks that this computer
can run the course.
""")


class CourseNotFound(RuntimeError):
    """This installation carries no lessons (neither a source checkout nor a wheel with course data)."""


def checkout_root():
    """The source checkout this package is imported from (editable install), or None."""
    root = Path(rnncourse.__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir():
        return root
    return None


def course_root():
    """The folder that holds ``notebooks/`` and ``exercises/``: the checkout, or the wheel's data."""
    root = checkout_root()
    if root is not None:
        return root
    packaged = Path(str(importlib.resources.files("rnncourse"))) / "_course"
    if (packaged / "notebooks").is_dir():
        return packaged
    raise CourseNotFound(
        f"this rnncourse installation ({Path(rnncourse.__file__).parent}) has no lessons: "
        "install a released wheel (pip install rnncourse) or work from a source checkout"
    )


def templates_dir():
    """The exercise templates the grader rebuilds submissions from."""
    return course_root() / "exercises"


def solutions_dir():
    """The solution notebooks: only in a source checkout (a wheel never ships them), else None."""
    root = checkout_root()
    return root / "solutions" if root is not None else None


def bundle_files():
    """``{relative path in the workspace: text}`` of every file a student gets."""
    root = course_root()
    files = {}
    for folder, patterns in (("notebooks", ("*.ipynb", "*.md")), ("exercises", ("ex*.ipynb", "*.md"))):
        for pattern in patterns:
            for p in sorted((root / folder).glob(pattern)):
                if ".new." in p.name:
                    continue  # a maintainer's unmerged generator output, not course material
                files[f"{folder}/{p.name}"] = p.read_text(encoding="utf-8")
    if WELCOME not in files:
        raise CourseNotFound(f"the course at {root} has no {WELCOME}")
    return files


def _digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _content_digest(rel, text):
    """What counts as the student's work in a file: for a notebook its cells' types and sources
    (running a lesson saves outputs and execution counts, which are not a change of the student's),
    for any other file the whole text."""
    if rel.endswith(".ipynb"):
        try:
            cells = json.loads(text).get("cells", [])
            text = json.dumps([[c.get("cell_type"), "".join(c.get("source", ""))] for c in cells])
        except (ValueError, AttributeError, TypeError):
            pass
    return _digest(text)


def read_manifest(workspace):
    """The workspace's manifest ``{"version": ..., "files": {path: sha256}}``, or None."""
    p = Path(workspace) / MANIFEST
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except ValueError:
        return None


def _beside(target):
    """``exercises/ex3_bptt.ipynb`` -> ``exercises/ex3_bptt.new.ipynb``."""
    return target.with_name(f"{target.stem}.new{target.suffix}")


def sync(workspace, log=print, lang=None):
    """Create or update the student bundle in ``workspace``; never overwrite a file the student changed.

    Returns ``[(relative path, action)]`` with action one of "written" (new or restored),
    "updated" (unchanged by the student, replaced by the new version), "unchanged" (the same
    content; a notebook that was only run, so it holds outputs, counts as unchanged and is left as
    it is), "beside" (changed by the student: kept; the new version is in ``<name>.new<suffix>``)
    and "kept" (changed by the student, and that new version was already written beside it).
    ``lang`` (``"en"`` when None, or ``"zh"``) is the edition written and recorded in the manifest;
    switching a workspace's language is an update like any other (your changed files are kept).
    """
    ws = Path(workspace)
    if ws.exists() and not ws.is_dir():
        raise NotADirectoryError(_("workspace must be a folder, but {path} is a file").format(path=ws))
    lang = messages.normalize(lang, "lang") if lang is not None else "en"
    files = dict(bundle_files())
    if lang != "en":
        files = edition_files(files, lang, log)
    with messages.using(lang):
        files["README.md"] = _(README).format(dirname=ws.name)
    ws.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(ws) or {}
    shipped = dict(manifest.get("files", {}))
    offered = dict(manifest.get("offered", {}))  # new versions already written beside the student's
    actions = []
    for rel, text in sorted(files.items()):
        target = ws / rel
        new = _content_digest(rel, text)
        if target.is_file():
            current = target.read_text(encoding="utf-8", errors="replace")
            mine = _content_digest(rel, current)
            if mine == new:  # the same content (perhaps with the outputs of a run): keep the file
                shipped[rel] = new
                offered.pop(rel, None)
                actions.append((rel, "unchanged"))
                continue
            # (older manifests recorded the digest of the whole text)
            if shipped.get(rel) not in (mine, _digest(current)):
                if shipped.get(rel) == new:  # the course has no new version of this file: keep yours
                    actions.append((rel, "kept"))
                    continue
                beside = _beside(target)
                if offered.get(rel) == new and beside.is_file():
                    actions.append((rel, "kept"))  # this version was offered before: say nothing
                    continue
                beside.write_text(text, encoding="utf-8")
                offered[rel] = new
                with messages.using(lang):
                    log(
                        _("kept your {path}: you changed it, so the new version is in {new}").format(
                            path=target, new=beside
                        )
                    )
                actions.append((rel, "beside"))
                continue
            action = "updated"
        else:
            action = "written"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        shipped[rel] = new
        actions.append((rel, action))
    manifest = {"version": rnncourse.__version__, "lang": lang, "files": shipped, "offered": offered}
    (ws / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return actions


def course_env(base=None, lang=None):
    """The environment a lesson kernel should get: one BLAS/OpenMP thread unless the user chose;
    with ``lang``, ``RNNCOURSE_LANG`` so that check() feedback is in that language."""
    env = dict(os.environ if base is None else base)
    for var in THREAD_VARS:
        env.setdefault(var, "1")
    if lang is not None:
        env[messages.ENV] = messages.normalize(lang, "lang")
    return env


def workspace_language(workspace, requested=None):
    """The language of ``workspace``: ``requested`` if given, else the one its manifest records,
    else the default of ``rnncourse.messages`` (``RNNCOURSE_LANG``, then a Chinese locale, else en)."""
    if requested is not None:
        return messages.normalize(requested, "lang")
    manifest = read_manifest(workspace) or {}
    if manifest.get("lang") in messages.LANGUAGES:
        return manifest["lang"]
    return messages.get_language()


def edition_files(files, lang, log=print):
    """``files`` (``{relative path: English text}``) in the ``lang`` edition, through
    ``rnncourse.i18n.build_edition`` (translated markdown cells; a stale translation shows the
    English with a note). Without that module the English files are returned, with a note."""
    try:
        from rnncourse.i18n import build_edition
    except ImportError:
        with messages.using(lang):
            log(
                _(
                    "this version of rnncourse has no translated lessons yet: the lessons stay in English, "
                    "check() feedback is in your language"
                )
            )
        return dict(files)
    rels = sorted(r for r in files if r.endswith((".ipynb", ".md")))
    with tempfile.TemporaryDirectory(prefix="rnncourse-edition-") as tmp:
        src, dst = Path(tmp) / "en", Path(tmp) / lang
        for rel in rels:
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            (src / rel).write_text(files[rel], encoding="utf-8")
        build_edition(src, dst, lang, rels, trans_root=course_root())
        out = dict(files)
        for rel in rels:
            out[rel] = (dst / rel).read_text(encoding="utf-8")
    return out


def links(repo, hub=None, branch="main", path=WELCOME):
    """``[(name, url)]``: how students open the bundle in ``repo`` (a git URL) on a hub, Binder, Colab.

    nbgitpuller clones ``repo`` into ``~/<repository name>`` (without ``.git``) on the student's
    first click and merges updates on later clicks (a file the student changed is kept). Binder and
    Colab links exist only for GitHub repositories; Colab runs one notebook and needs
    ``!pip install rnncourse`` first.
    """
    from urllib.parse import quote, urlencode, urlparse

    url = urlparse(repo)
    if url.scheme not in ("https", "http", "file") or not url.path.strip("/"):
        raise ValueError(f"repo must be a git URL such as https://github.com/OWNER/NAME, got {repo!r}")
    name = url.path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    out = []
    if hub:
        h = urlparse(hub)
        if h.scheme not in ("https", "http") or not h.netloc:
            raise ValueError(f"hub must be a URL such as https://hub.example.edu, got {hub!r}")
        # nbgitpuller would name the folder after the URL's last part, ".git" included: name it
        query = urlencode(
            {"repo": repo, "branch": branch, "targetpath": name, "urlpath": f"lab/tree/{name}/{path}"},
            quote_via=quote,
        )
        out.append(("nbgitpuller", f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"))
    parts = url.path.strip("/").removesuffix(".git").split("/")
    if url.netloc == "github.com" and len(parts) == 2:
        owner, gh = parts
        out.append(
            (
                "binder",
                f"https://mybinder.org/v2/gh/{owner}/{gh}/{quote(branch, safe='')}"
                f"?urlpath={quote('lab/tree/' + path, safe='')}",
            )
        )
        out.append(
            (
                "colab",
                f"https://colab.research.google.com/github/{owner}/{gh}/blob/{quote(branch)}/{quote(path)}",
            )
        )
    return out
