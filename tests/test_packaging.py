"""Project set-up: pyproject.toml and environment.yml agree, nothing needs torch, data ships."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def _name(req):
    return re.split(r"[<>=!~;\[ ]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment_deps(path=ROOT / "environment.yml"):
    """The conda and pip entries of environment.yml (a simple list format; no YAML library needed)."""
    conda, pip, in_pip, section = [], [], False, None
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        top = re.match(r"^(\w[\w-]*):", line)
        if top:
            section = top.group(1)
            continue
        if section != "dependencies":
            continue
        m = re.match(r"^(\s*)-\s+(.*)$", line)
        if not m:
            in_pip = False
            continue
        indent, item = len(m.group(1)), m.group(2).strip()
        if item == "pip:":
            in_pip = True
            continue
        if in_pip and indent > 2:
            pip.append(item)
        else:
            in_pip = False
            conda.append(item)
    return conda, pip


def test_environment_yml_matches_pyproject():
    proj = _pyproject()["project"]
    wanted = {_name(r): r for r in proj["dependencies"] + proj["optional-dependencies"]["test"]}
    conda, pip = _environment_deps()
    have = {_name(r): r for r in conda if _name(r) not in ("python", "pip")}
    assert set(have) == set(wanted), f"environment.yml {sorted(have)} vs pyproject {sorted(wanted)}"
    for name, req in wanted.items():
        spec = req[len(name) :].replace(" ", "")
        assert have[name].replace(" ", "").endswith(spec), (
            f"{name}: pyproject says {req!r}, environment.yml {have[name]!r}"
        )
    py = [c for c in conda if _name(c) == "python"]
    assert py and py[0].replace(" ", "").endswith(proj["requires-python"].replace(" ", ""))
    assert "-e ." in pip, "environment.yml must install the course package itself"


def test_no_torch_dependency_and_no_upper_pins():
    proj = _pyproject()["project"]
    reqs = proj["dependencies"] + [r for extra in proj["optional-dependencies"].values() for r in extra]
    assert not any(_name(r) == "torch" for r in reqs)
    assert not any("<" in r for r in reqs), "upper pins need a stated reason"


def test_package_imports_silently_and_data_ships():
    """In a fresh interpreter (this one has imported the package long ago): no output, no warning."""
    import importlib.resources
    import subprocess

    code = "import rnncourse, rnncourse.nn, rnncourse.tasks, rnncourse.workspace, rnncourse.cli"
    r = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert r.returncode == 0, r.stderr
    assert (r.stdout, r.stderr) == ("", ""), f"importing the package printed {r.stdout!r} {r.stderr!r}"
    assert (importlib.resources.files("rnncourse") / "data" / "corpus.txt").is_file()


def test_layout_exists():
    for d in ("notebooks", "rnncourse", "exercises", "solutions", "tests", "benchmarks"):
        assert (ROOT / d).is_dir(), d
    assert (ROOT / "notebooks" / "00_welcome.ipynb").is_file()
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_package_data_patterns_cover_every_shipped_file():
    """A wheel must carry every data file the lessons load (editable installs hide a miss)."""
    import fnmatch

    patterns = _pyproject()["tool"]["setuptools"]["package-data"]["rnncourse"]
    data = [
        p for p in (ROOT / "rnncourse" / "data").iterdir() if p.suffix not in (".py", ".pyc") and p.is_file()
    ]
    assert data
    for f in data:
        rel = f.relative_to(ROOT / "rnncourse").as_posix()
        assert any(fnmatch.fnmatch(rel, pat) for pat in patterns), f"{rel} is not in package-data {patterns}"


def test_binder_environment_matches_and_installs_the_course():
    """binder/ hides the root's environment.yml from repo2docker: the same packages plus nbgitpuller,
    the course installed by postBuild, one BLAS thread set by start."""
    conda, pip = _environment_deps()
    b_conda, b_pip = _environment_deps(ROOT / "binder" / "environment.yml")
    hub = {_name(r): r for r in _pyproject()["project"]["optional-dependencies"]["hub"]}
    extra = sorted(set(b_conda) - set(conda))
    assert set(conda) <= set(b_conda) and extra == [hub["nbgitpuller"]], extra
    assert b_pip == [], "binder/postBuild installs the course, once the repository is in the image"
    post, start = (ROOT / "binder" / "postBuild"), (ROOT / "binder" / "start")
    assert "pip install" in post.read_text() and "rm -rf solutions" in post.read_text()
    assert "OPENBLAS_NUM_THREADS=1" in start.read_text() and 'exec "$@"' in start.read_text()
    import os

    assert os.access(post, os.X_OK) and os.access(start, os.X_OK)


def test_wheel_build_hook_and_workspace_ship_the_same_files():
    """setup.py (the wheel) and rnncourse.workspace (init, release) agree on what a student gets."""
    import ast

    tree = ast.parse((ROOT / "setup.py").read_text())
    course = next(
        ast.literal_eval(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "COURSE"
    )
    src = (ROOT / "rnncourse" / "workspace.py").read_text()
    for folder, patterns in course.items():
        assert f'("{folder}", {patterns!r})'.replace("'", '"') in src, (folder, patterns)
    assert "solutions" not in course
