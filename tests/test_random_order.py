"""The suite runs in a random order (pytest-randomly), but each notebook's cells keep their order
(the hook in the root conftest.py): collected here from outside, as `make test` collects them."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["notebooks/01_recurrence.ipynb", "solutions/ex1_recurrence.ipynb"]
# test_version.py's functions in the order they are defined; seed 1 is known to reorder them
TESTS = [
    "test_version_comes_from_the_package_metadata",
    "test_source_tree_fallback_reads_pyproject",
    "test_no_second_copy_of_the_version_in_the_source",
    "test_the_changelog_has_a_section_for_this_version",
]


def test_notebook_cells_stay_in_order_while_tests_are_shuffled():
    pytest.importorskip("pytest_randomly")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "randomly",
            "--randomly-seed=1",
            "--nbval-lax",
            "-p",
            "no:cacheprovider",
            *NOTEBOOKS,
            "tests/test_version.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    ids = [line for line in r.stdout.splitlines() if "::" in line]
    for nb in NOTEBOOKS:
        nums = [int(re.search(r"Cell (\d+)$", i).group(1)) for i in ids if i.startswith(nb + "::")]
        assert len(nums) > 3 and nums == list(range(len(nums))), (nb, nums)
        first = ids.index(f"{nb}::Cell 0")
        assert ids[first : first + len(nums)] == [f"{nb}::Cell {n}" for n in nums], (
            "a notebook's cells were split"
        )
    tests = [i.split("::")[1] for i in ids if i.startswith("tests/")]
    assert sorted(tests) == sorted(TESTS)
    assert tests != TESTS, "pytest-randomly did not change the order of the tests"
