"""The suite runs in a random order (pytest-randomly), but each notebook's cells keep their order
(the hook in the root conftest.py): collected here from outside, as `make test` collects them."""
import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["notebooks/01_recurrence.ipynb", "solutions/ex1_recurrence.ipynb"]


@functools.cache     # a cache of pure results: the same whichever test asks first
def _collect(seed):
    r = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "randomly",
                        f"--randomly-seed={seed}", "--nbval-lax", "-p", "no:cacheprovider",
                        *NOTEBOOKS, "tests/test_version.py"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return [line for line in r.stdout.splitlines() if "::" in line]


def _tests_in_order(seed):
    """The collected test ids for ``seed``, after checking that each notebook is whole and in order."""
    ids = _collect(seed)
    for nb in NOTEBOOKS:
        nums = [int(m.group(1)) for i in ids if i.startswith(nb + "::") for m in [re.search(r"Cell (\d+)$", i)]]
        assert len(nums) > 3 and nums == list(range(len(nums))), (nb, nums)
        first = ids.index(f"{nb}::Cell 0")
        assert ids[first:first + len(nums)] == [f"{nb}::Cell {n}" for n in nums], "a notebook's cells were split"
    tests = [i for i in ids if i.startswith("tests/")]
    assert len(tests) == 4
    return tests


def test_notebook_cells_stay_in_order_while_tests_are_shuffled():
    pytest.importorskip("pytest_randomly")
    orders = {tuple(_tests_in_order(seed)) for seed in (1, 2)}
    assert len(orders) == 2, "pytest-randomly did not change the order of the tests"
