"""Every committed notebook is clean (no outputs, no execution counts, explicit cell ids), every
lesson states its objectives and points to an exercise, and every relative link resolves."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = (
    sorted(ROOT.glob("notebooks/*.ipynb"))
    + sorted(ROOT.glob("solutions/*.ipynb"))
    + sorted(ROOT.glob("exercises/*.ipynb"))
)
LESSONS = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))
LINK = re.compile(r"\]\(([^)#\s]+\.ipynb)[^)]*\)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_clean_and_linked(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    ids = [c.get("id") for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids), "every cell needs a unique explicit id"
    for c in nb.cells:
        if c.cell_type == "code":
            assert not c.outputs and c.execution_count is None, f"cell {c.id} has outputs: clear them"
        for target in LINK.findall(c.source if c.cell_type == "markdown" else ""):
            if "://" not in target:
                assert (path.parent / target).resolve().is_file(), f"cell {c.id} links to missing {target}"


def test_lessons_are_numbered_0_to_10_and_open_with_objectives():
    assert [p.name[:2] for p in LESSONS] == [f"{i:02d}" for i in range(11)]
    for p in LESSONS:
        first = nbformat.read(p, as_version=4).cells
        text = " ".join(c.source for c in first[:3] if c.cell_type == "markdown").lower()
        assert "objective" in text, f"{p.name} does not open with its learning objectives"
