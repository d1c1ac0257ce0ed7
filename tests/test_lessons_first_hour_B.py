"""A first hour without traps, lessons 4-7 (issue 7).

A student moves the controls of an explorer before running the next cells. Every check cell must
still pass. For each lesson, this test injects a cell right after every explorer that moves *every*
control of that explorer to its minimum (first option), in one run, and to its maximum (last
option), in another (the two runs side by side); each runs the whole lesson with nbclient, and the
test fails on any error, naming the cell and the error. A last injected cell checks that every
explorer is back at its defaults at the end of the lesson.
"""

import asyncio
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ["04_vanishing_exploding", "05_lstm", "06_gru", "07_long_range"]
EXPLORER = re.compile(r"^(\w+)\s*=\s*\w+_explorer\(", re.M)

MOVE = """
# injected by tests/test_lessons_first_hour_B.py: a student moves every control to its {end}
_first_hour_defaults = globals().get("_first_hour_defaults", {{}})
_first_hour_defaults["{name}"] = {{key: c.value for key, c in {name}.controls.items()}}
for _control in {name}.controls.values():
    if hasattr(_control, "min") and hasattr(_control, "max"):        # sliders
        _control.value = _control.{end}
    else:                                                           # buttons, dropdowns, selection sliders
        _control.index = {index}
"""

AT_DEFAULTS = """
for _name, _defaults in _first_hour_defaults.items():
    _now = {key: c.value for key, c in globals()[_name].controls.items()}
    assert _now == _defaults, f"{_name} is not back at its defaults after Run All: {_now} != {_defaults}"
"""


def inject(nb, end):
    """Insert after each explorer cell a cell that moves all its controls to `end` ("min"/"max").

    Returns the names of the explorers found."""
    names = []
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        m = EXPLORER.search(cell.source) if cell.cell_type == "code" else None
        if m:
            names.append(m.group(1))
            index = "0" if end == "min" else "len(_control.options) - 1"
            new = nbformat.v4.new_code_cell(MOVE.format(end=end, name=m.group(1), index=index))
            new.id = f"first-hour-{m.group(1)}-{end}".replace("_", "-")
            cells.append(new)
    if names:  # after Run All, every explorer is back at its defaults (the lesson's checks restore them)
        final = nbformat.v4.new_code_cell(AT_DEFAULTS)
        final.id = "first-hour-defaults"
        cells.append(final)
    nb.cells = cells
    return names


def _client(path, end, timeout):
    nb = nbformat.read(path, as_version=4)
    names = inject(nb, end)
    # the one cell that is meant to raise keeps its tag; nbclient honours it
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    return nb, names, client


def _errors(nb):
    errors = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "raises-exception" in cell.metadata.get("tags", []):
            continue
        for out in cell.outputs:
            if out.output_type == "error":
                errors.append(f"cell {cell.id}: {out.ename}: {out.evalue}")
    return errors


def run_moved(path, ends=("min", "max"), timeout=180):
    """Run the lesson at `path` once per entry of `ends`, with every explorer moved there, the runs
    side by side in separate kernels. Returns {end: (explorer names, errors)}."""
    runs = {end: _client(path, end, timeout) for end in ends}

    async def execute_all():
        await asyncio.gather(*(client.async_execute() for _, _, client in runs.values()))

    asyncio.run(execute_all())
    return {end: (names, _errors(nb)) for end, (nb, names, _) in runs.items()}


@pytest.mark.parametrize("lesson", LESSONS)
def test_checks_pass_whatever_the_controls(lesson, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for end, (names, errors) in run_moved(ROOT / "notebooks" / f"{lesson}.ipynb").items():
        assert names, f"{lesson}: no explorer found, so this test would prove nothing"
        assert not errors, f"{lesson} with every control of {names} at its {end}:\n" + "\n".join(errors)
