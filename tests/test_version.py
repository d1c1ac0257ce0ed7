"""The version lives in pyproject.toml only; the package, its metadata and the changelog agree."""

import re
from importlib import metadata
from pathlib import Path

import rnncourse

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_version():
    return re.search(r'(?m)^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)


def test_version_comes_from_the_package_metadata():
    assert rnncourse.__version__ == metadata.version("rnncourse") == _pyproject_version()


def test_source_tree_fallback_reads_pyproject(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert rnncourse._version() == _pyproject_version()


def test_no_second_copy_of_the_version_in_the_source():
    literal = f'"{_pyproject_version()}"'
    copies = [
        str(p.relative_to(ROOT)) for p in (ROOT / "rnncourse").rglob("*.py") if literal in p.read_text()
    ]
    assert copies == [], f"the version is written out in {copies}: read rnncourse.__version__ instead"


def test_the_changelog_has_a_section_for_this_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"(?m)^## \[{re.escape(_pyproject_version())}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text)
    assert re.search(r"(?m)^## \[Unreleased\]$", text)
