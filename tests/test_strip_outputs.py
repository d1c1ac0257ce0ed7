"""tools/strip_outputs.py (the pre-commit hook) turns a run notebook back into the committed file,
byte for byte, and leaves a clean notebook untouched."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "strip_outputs.py"
LESSON = ROOT / "solutions" / "ex1_recurrence.ipynb"  # has tags and metadata.rnncourse


def _strip(*args):
    r = subprocess.run(
        [sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True, timeout=60
    )
    return r.returncode, r.stdout + r.stderr


def _as_if_run(src, dst):
    """A copy of ``src`` as JupyterLab saves it after Run All: outputs, counts, timings, widget state."""
    nb = nbformat.read(src, as_version=4)
    n = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            n += 1
            cell.execution_count = n
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=f"cell {n}\n"),
                nbformat.v4.new_output("execute_result", {"text/plain": "42"}, execution_count=n),
            ]
            cell.metadata["execution"] = {"iopub.execute_input": "2026-12-07T10:00:00.000Z"}
            cell.metadata["scrolled"] = True
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}}
    nbformat.write(nb, dst)
    return n


def test_a_run_notebook_is_restored_byte_for_byte(tmp_path):
    dirty = tmp_path / LESSON.name
    n = _as_if_run(LESSON, dirty)
    assert n > 3 and dirty.read_bytes() != LESSON.read_bytes()
    assert any(
        "tags" in c.metadata and "rnncourse" in c.metadata for c in nbformat.read(LESSON, as_version=4).cells
    )

    code, out = _strip("--check", dirty)
    assert code == 1 and "outputs" in out
    assert json.loads(dirty.read_text())["metadata"].get("widgets"), "--check must not change the file"

    code, out = _strip(dirty)
    assert code == 1 and "cleaned" in out
    assert dirty.read_bytes() == LESSON.read_bytes()  # ids, tags and metadata.rnncourse kept
    nbformat.validate(nbformat.read(dirty, as_version=4))


def test_a_clean_notebook_is_left_alone(tmp_path):
    clean = tmp_path / LESSON.name
    shutil.copy(LESSON, clean)
    os.utime(clean, (1_000_000_000, 1_000_000_000))
    assert _strip(clean) == (0, "")
    assert _strip("--check", clean) == (0, "")
    assert clean.stat().st_mtime == 1_000_000_000, "a clean notebook was written again"


def test_a_file_that_is_not_a_notebook_is_reported(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    code, out = _strip(bad)
    assert code == 2 and "not a notebook" in out and bad.read_text() == "{not json"
