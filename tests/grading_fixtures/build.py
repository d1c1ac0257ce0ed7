"""Make submission notebooks for the grading tests from the solution notebooks.

A submission is described by edits to a solution notebook: ``{cell_id: new source}`` replaces a
cell's source, ``{cell_id: None}`` deletes the cell; ``ops`` lists extra changes
(``("duplicate", cell_id)``, ``("retype", cell_id)``, ``("append", source)``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
EXERCISE_FILES = {p.name.split("_")[0]: p for p in sorted((ROOT / "solutions").glob("ex*.ipynb"))}


def solution_cell_id(task_id):
    ex, func = task_id.split(".")
    return f"{ex}-{func.replace('_', '-')}-solution"


def make_notebook(exercise, edits=None, ops=(), source="solutions"):
    path = EXERCISE_FILES[exercise]
    if source == "exercises":
        path = ROOT / "exercises" / path.name
    nb = nbformat.read(path, as_version=4)
    edits = dict(edits or {})
    cells = []
    for c in nb.cells:
        if c.id in edits:
            if edits[c.id] is None:
                continue
            c = copy.deepcopy(c)
            c.source = edits[c.id]
        cells.append(c)
    for op in ops:
        if op[0] == "duplicate":
            i = next(k for k, c in enumerate(cells) if c.id == op[1])
            cells.insert(i + 1, copy.deepcopy(cells[i]))
        elif op[0] == "retype":
            i = next(k for k, c in enumerate(cells) if c.id == op[1])
            md = nbformat.v4.new_markdown_cell(cells[i].source)
            md.id = cells[i].id
            cells[i] = md
        elif op[0] == "append":
            cells.append(nbformat.v4.new_code_cell(op[1]))
    nb.cells = cells
    return nb


def write(nb, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        json.dump(nb, fh, indent=1)  # no validation: ids may be duplicated on purpose
    return path
