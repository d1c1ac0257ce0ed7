#!/usr/bin/env python3
"""Remove outputs and execution counts from Jupyter notebooks before they are committed.

    python tools/strip_outputs.py notebooks/*.ipynb           # clean the files in place
    python tools/strip_outputs.py --check notebooks/*.ipynb   # only report (exit 1 if any is dirty)

What is removed: every code cell's ``outputs`` and ``execution_count``, the run-time records some
front ends add to a cell's metadata (``execution`` timings, ``collapsed``, ``scrolled``), and saved
widget state in the notebook's metadata (``widgets``). Everything else stays exactly as it was:
cell ids, tags, ``metadata.rnncourse`` on exercise cells, the kernel spec, the sources.

A clean file is never rewritten. A cleaned file is written the way JupyterLab and ``nbformat``
write it (sorted keys, one-space indent, a final newline), so its diff shows only what was removed.
Exit status: 0 if every file was clean, 1 if a file was cleaned (``pre-commit`` then asks you to
stage the cleaned file) or, with ``--check``, would be; 2 for a file that is not a notebook.

Only the standard library is used, so the pre-commit hook needs no extra environment.
``tests/test_notebook_hygiene.py`` is the test that fails on a dirty notebook in the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CELL_RUNTIME_KEYS = ("execution", "collapsed", "scrolled")
NOTEBOOK_RUNTIME_KEYS = ("widgets",)


def strip_notebook(nb):
    """Clean the notebook dict ``nb`` in place; return a list of what was removed (empty if clean)."""
    removed = []
    for i, cell in enumerate(nb.get("cells", [])):
        where = cell.get("id", f"#{i}")
        meta = cell.get("metadata", {})
        for key in CELL_RUNTIME_KEYS:
            if key in meta:
                del meta[key]
                removed.append(f"cell {where}: metadata.{key}")
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            removed.append(f"cell {where}: {len(cell['outputs'])} output(s)")
        if cell.get("execution_count") is not None:
            removed.append(f"cell {where}: execution count {cell['execution_count']}")
        cell["outputs"] = []
        cell["execution_count"] = None
    meta = nb.get("metadata", {})
    for key in NOTEBOOK_RUNTIME_KEYS:
        if key in meta:
            del meta[key]
            removed.append(f"notebook metadata.{key}")
    return removed


def dumps(nb):
    """The notebook as JupyterLab / nbformat write it."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", type=Path, help="notebooks to clean")
    ap.add_argument("--check", action="store_true", help="report dirty notebooks, change nothing")
    args = ap.parse_args(argv)
    status = 0
    for path in args.paths:
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(nb, dict) or "cells" not in nb:
                raise ValueError("no 'cells' list")
        except (OSError, ValueError) as exc:
            print(f"{path}: not a notebook ({exc})", file=sys.stderr)
            status = 2
            continue
        removed = strip_notebook(nb)
        if not removed:
            continue
        status = max(status, 1)
        what = "; ".join(removed[:3]) + (f"; and {len(removed) - 3} more" if len(removed) > 3 else "")
        if args.check:
            print(f"{path}: has outputs or run-time metadata ({what})")
        else:
            path.write_text(dumps(nb), encoding="utf-8")
            print(f"{path}: cleaned ({what})")
    return status


if __name__ == "__main__":
    sys.exit(main())
