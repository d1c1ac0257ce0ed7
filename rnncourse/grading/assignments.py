"""Generate the student notebooks in ``exercises/`` from the solution notebooks in ``solutions/``.

In a solution notebook every solution region sits between a line ``### BEGIN SOLUTION`` and a line
``### END SOLUTION``; the generator replaces what is between them with ``raise NotImplementedError``
at the same indentation, keeping both marker lines so the student sees where to write (generating
from a generated notebook changes nothing), and clears outputs and execution counts. Cell ids, tags and metadata are kept,
so the grader can match a student's cells with the template's.

A student's work is never overwritten: ``exercises/.generated.json`` records a hash of what the
generator last wrote for each notebook. If a target no longer has that hash (someone edited it),
the new version is written beside it as ``<name>.new.ipynb`` and the generator says so.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path

import nbformat

__all__ = [
    "strip_solution_source",
    "make_exercise",
    "generate",
    "out_of_sync",
    "MANIFEST",
    "SOLUTION_TAG",
    "SETUP_TAG",
]

MANIFEST = ".generated.json"
SOLUTION_TAG, SETUP_TAG = "solution", "setup"
_BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*### END SOLUTION\s*$")


def strip_solution_source(source):
    """Replace the inside of every solution region of a cell's source with ``raise NotImplementedError``
    (the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines stay)."""
    out, inside = [], False
    for line in source.split("\n"):
        if not inside:
            m = _BEGIN.match(line)
            if m:
                inside = True
                out.append(f"{m.group(1)}### BEGIN SOLUTION")
                out.append(f"{m.group(1)}# YOUR CODE HERE")
                out.append(f"{m.group(1)}raise NotImplementedError")
                out.append(f"{m.group(1)}### END SOLUTION")
            else:
                out.append(line)
        elif _END.match(line):
            inside = False
    if inside:
        raise ValueError("a '### BEGIN SOLUTION' has no matching '### END SOLUTION'")
    return "\n".join(out)


def make_exercise(nb):
    """A new notebook: solutions stripped, outputs and execution counts cleared."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_solution_source(cell.source)
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    return nb


def _render(nb):
    return nbformat.writes(nb) + "\n"


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


def generate(solutions_dir, exercises_dir, log=print):
    """Write ``exercises_dir/<name>.ipynb`` for every ``solutions_dir/ex*.ipynb``.

    Returns a list of ``(name, action)`` with action one of "written", "unchanged",
    "beside" (the target was edited; the new version went to ``<name>.new.ipynb``).
    """
    src, dst = Path(solutions_dir), Path(exercises_dir)
    dst.mkdir(parents=True, exist_ok=True)
    mpath = dst / MANIFEST
    manifest = json.loads(mpath.read_text()) if mpath.exists() else {}
    actions = []
    for sol in sorted(src.glob("ex*.ipynb")):
        text = _render(make_exercise(nbformat.read(sol, as_version=4)))
        target = dst / sol.name
        if target.exists():
            current = target.read_text()
            if current == text:
                actions.append((sol.name, "unchanged"))
                manifest[sol.name] = _digest(text)
                continue
            if manifest.get(sol.name) != _digest(current):
                beside = target.with_suffix(".new.ipynb")
                beside.write_text(text)
                log(
                    f"{target} was changed since it was generated: NOT overwritten; "
                    f"the new version is in {beside}"
                )
                actions.append((sol.name, "beside"))
                continue
        target.write_text(text)
        manifest[sol.name] = _digest(text)
        actions.append((sol.name, "written"))
        log(f"wrote {target}")
    mpath.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return actions


def out_of_sync(solutions_dir, exercises_dir):
    """Names of exercise notebooks that differ from what ``generate`` would write (or are missing)."""
    bad = []
    for sol in sorted(Path(solutions_dir).glob("ex*.ipynb")):
        text = _render(make_exercise(nbformat.read(sol, as_version=4)))
        target = Path(exercises_dir) / sol.name
        if not target.exists() or target.read_text() != text:
            bad.append(sol.name)
    return bad
