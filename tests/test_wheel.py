"""From the outside, as a student and an instructor: build the wheel, install it into a clean venv
(with its real dependencies, from pip's cache), and use the ``rnncourse`` command from a folder
that is not the checkout: init, doctor, lab (a real server on 127.0.0.1), grade, exercises.

About a minute, most of it ``pip install`` of the dependencies. Nothing is written into the
repository: the wheel is built from a copy of the sources, and every Jupyter/IPython/matplotlib
folder and HOME point into the test's temporary folder.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "rnncourse",
    "notebooks",
    "exercises",
    "translations",
]


def _run(cmd, env, cwd, timeout=300, check=True):
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, environment, a student's empty folder) with the wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(
                p,
                src / name,
                ignore=shutil.ignore_patterns(
                    "__pycache__", "*.pyc", ".ipynb_checkpoints", "*.new.ipynb", ".generated.json"
                ),
            )
        else:
            shutil.copy(p, src / name)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
        and not k.startswith(("JUPYTER", "OPENBLAS", "MKL_", "OMP_"))
    }
    home = tmp / "home"
    for d in ("home", "jupyter_config", "jupyter_data", "jupyter_runtime", "ipython", "mpl"):
        (tmp / d).mkdir()
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(tmp / "jupyter_config"),
        JUPYTER_DATA_DIR=str(tmp / "jupyter_data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "jupyter_runtime"),
        IPYTHONDIR=str(tmp / "ipython"),
        MPLCONFIGDIR=str(tmp / "mpl"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(src), "-w", str(tmp / "dist")],
        env,
        tmp,
    )
    wheels = list((tmp / "dist").glob("rnncourse-*.whl"))
    assert len(wheels) == 1, wheels
    # the venv's own python is the base interpreter of this one, without this venv's packages
    _run([sys.executable, "-m", "venv", str(tmp / "venv")], env, tmp)
    bin_ = tmp / "venv" / "bin"
    _run([str(bin_ / "python"), "-m", "pip", "install", "--quiet", str(wheels[0])], env, tmp, timeout=900)
    student = tmp / "student"
    student.mkdir()
    return bin_, env, student, wheels[0]


def test_wheel_carries_the_student_bundle_and_no_solutions(installed):
    wheel = installed[3]
    names = zipfile.ZipFile(wheel).namelist()
    course = sorted(n.split("rnncourse/_course/", 1)[1] for n in names if "rnncourse/_course/" in n)
    assert "notebooks/00_welcome.ipynb" in course and "exercises/ex7_long_range.ipynb" in course
    assert len([n for n in course if n.startswith("notebooks/") and n.endswith(".ipynb")]) == len(
        list((ROOT / "notebooks").glob("*.ipynb"))
    )
    assert not any("solution" in n.lower() for n in names), [n for n in names if "solution" in n.lower()]
    assert "rnncourse/__main__.py" in names and "rnncourse/data/corpus.txt" in names
    # the Chinese edition is built from the translations the wheel carries
    zh = {n for n in course if n.startswith("translations/zh/")}
    assert (
        "translations/zh/notebooks/00_welcome.ipynb.json" in zh
        and "translations/zh/exercises/ex3_bptt.ipynb.json" in zh
    ), sorted(zh)[:5]


def test_init_and_doctor_from_the_installed_wheel(installed):
    bin_, env, student, _ = installed
    where = _run([str(bin_ / "python"), "-c", "import rnncourse; print(rnncourse.__file__)"], env, student)
    assert "site-packages" in where.stdout and str(ROOT) not in where.stdout
    r = _run([str(bin_ / "rnncourse"), "init"], env, student)
    ws = student / "rnncourse-workspace"
    assert (ws / "notebooks" / "00_welcome.ipynb").is_file() and (
        ws / "exercises" / "ex3_bptt.ipynb"
    ).is_file()
    assert not (ws / "solutions").exists() and " written" in r.stdout, r.stdout
    # a student's edit survives `rnncourse init` again (as after `pip install --upgrade`)
    mine = ws / "exercises" / "ex1_recurrence.ipynb"
    mine.write_text(mine.read_text().replace("raise NotImplementedError", "pass  # mine", 1))
    again = _run([str(bin_ / "python"), "-m", "rnncourse", "init"], env, student)
    assert "pass  # mine" in mine.read_text() and "0 written" in again.stdout, again.stdout
    doctor = _run([str(bin_ / "rnncourse"), "doctor"], env, student, check=False)
    assert doctor.returncode == 0 and doctor.stdout.strip().splitlines()[-1] == "ready", doctor.stdout
    assert f"{ws} has the lessons of rnncourse" in doctor.stdout, doctor.stdout


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def test_lab_serves_lessons_and_exercises_and_no_solutions(installed, tmp_path):
    bin_, env, student, _ = installed
    port, token = _free_port(), "rnncourse-wheel-test"
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [
            str(bin_ / "rnncourse"),
            "lab",
            "fresh-ws",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        cwd=student,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/api/contents"
    try:
        deadline = time.time() + 90
        while True:
            try:
                top = _get(f"{base}?token={token}")
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise AssertionError(
                        "rnncourse lab did not answer:\n" + (tmp_path / "lab.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.5)
        names = {c["name"] for c in top["content"]}
        assert {"notebooks", "exercises", "README.md"} <= names and "solutions" not in names, names
        lessons = {c["name"] for c in _get(f"{base}/notebooks?token={token}")["content"]}
        exercises = {c["name"] for c in _get(f"{base}/exercises?token={token}")["content"]}
        assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} <= lessons
        assert {p.name for p in (ROOT / "exercises").glob("ex*.ipynb") if ".new." not in p.name} <= exercises
        with pytest.raises(urllib.error.HTTPError) as err:
            _get(f"{base}/solutions?token={token}")
        assert err.value.code == 404
        kernel = json.loads(
            urllib.request.urlopen(
                urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/kernels?token={token}", data=b"{}", method="POST"
                ),
                timeout=30,
            ).read()
        )
        assert kernel["name"] == "python3"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        log.close()
    assert (student / "fresh-ws" / "notebooks" / "00_welcome.ipynb").is_file()


def test_grade_and_exercises_from_the_installed_wheel(installed, tmp_path):
    bin_, env, student, _ = installed
    subs = tmp_path / "submissions"
    subs.mkdir()
    shutil.copy(ROOT / "solutions" / "ex1_recurrence.ipynb", subs / "alice.ipynb")
    shutil.copy(ROOT / "exercises" / "ex1_recurrence.ipynb", subs / "bob.ipynb")
    _run(
        [str(bin_ / "rnncourse"), "grade", str(subs), "--out", str(tmp_path / "grades"), "--seed", "3"],
        env,
        student,
        timeout=600,
    )
    rows = {
        line.split(",")[0]: line.split(",")
        for line in (tmp_path / "grades" / "grades.csv").read_text().splitlines()
    }
    header = rows["student"]
    total, most = header.index("total"), header.index("max")
    assert rows["alice"][total] == rows["alice"][most] != "0", rows
    assert rows["bob"][total] == "0", rows
    # a wrong --templates folder: one clear line, exit 2
    r = _run(
        [
            str(bin_ / "rnncourse"),
            "grade",
            str(subs),
            "--out",
            str(tmp_path / "g2"),
            "--templates",
            str(tmp_path / "nowhere"),
        ],
        env,
        student,
        check=False,
    )
    assert r.returncode == 2 and "no exercise templates" in r.stderr and "Traceback" not in r.stderr, r.stderr
    # exercises: no solutions in a wheel -> a clear error; with --solutions it writes where asked
    r = _run([str(bin_ / "rnncourse"), "exercises"], env, student, check=False)
    assert r.returncode == 2 and "--solutions DIR" in r.stderr, r.stderr
    site = _run(
        [str(bin_ / "python"), "-c", "import rnncourse, os; print(os.path.dirname(rnncourse.__file__))"],
        env,
        student,
    ).stdout.strip()
    before = sorted(p.name for p in Path(site).iterdir())
    r = _run([str(bin_ / "rnncourse"), "exercises", "--solutions", str(ROOT / "solutions")], env, student)
    assert sorted(p.name for p in (student / "exercises").glob("ex*.ipynb")) == sorted(
        p.name for p in (ROOT / "solutions").glob("ex*.ipynb")
    )
    assert sorted(p.name for p in Path(site).iterdir()) == before
