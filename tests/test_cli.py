"""The command line: the student workspace (init, lab), doctor, release, link, and clear errors.

A built wheel installed into a clean venv is tested from the outside in tests/test_wheel.py.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rnncourse import cli
from rnncourse import workspace as ws

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _links(path):
    """Relative link targets in a notebook's markdown cells or a markdown file."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text())
        texts = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    else:
        texts = [path.read_text()]
    return [
        t.split("#")[0]
        for text in texts
        for t in LINK.findall(text)
        if not re.match(r"^[a-z]+:", t) and not t.startswith("#")
    ]


def test_init_ships_lessons_and_exercises_without_solutions(tmp_path, capsys):
    assert cli.main(["init", str(tmp_path / "ws")]) == 0
    out = capsys.readouterr().out
    w = tmp_path / "ws"
    lessons = sorted(p.name for p in (w / "notebooks").glob("*.ipynb"))
    exercises = sorted(p.name for p in (w / "exercises").glob("*.ipynb"))
    assert lessons == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert exercises == sorted(
        p.name for p in (ROOT / "exercises").glob("ex*.ipynb") if ".new." not in p.name
    )
    assert {p.name for p in (w / "notebooks").glob("*.md")} == {
        p.name for p in (ROOT / "notebooks").glob("*.md")
    }
    assert (w / "README.md").is_file() and "rnncourse lab ws" in (w / "README.md").read_text()
    assert not list(w.rglob("*solution*")) and not (w / "solutions").exists()
    # no code cell of a shipped notebook holds a solution region
    code = [
        "".join(c["source"])
        for p in w.rglob("*.ipynb")
        for c in json.loads(p.read_text())["cells"]
        if c["cell_type"] == "code"
    ]
    # (the templates keep visible BEGIN/END markers around a placeholder; nothing else may sit there)
    regions = [r for c in code for r in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", c, re.S)]
    assert len(code) > 50 and regions
    for r in regions:
        body = [ln.strip() for ln in r.splitlines() if ln.strip() and not ln.strip().startswith("#")]
        assert body in ([], ["raise NotImplementedError"]), f"a shipped notebook holds a solution: {r!r}"
    manifest = json.loads((w / ws.MANIFEST).read_text())
    assert manifest["version"] == ws.rnncourse.__version__ and "exercises/ex3_bptt.ipynb" in manifest["files"]
    assert "written" in out and "rnncourse lab" in out


def test_every_relative_link_resolves_inside_the_workspace(tmp_path):
    ws.sync(tmp_path, log=lambda m: None)
    checked = 0
    for path in sorted(tmp_path.rglob("*")):
        if path.suffix in (".ipynb", ".md"):
            for target in _links(path):
                assert (path.parent / target).resolve().is_file(), (
                    f"{path.relative_to(tmp_path)} links to {target}"
                )
                assert tmp_path.resolve() in (path.parent / target).resolve().parents, target
                checked += 1
    exercise_links = [
        t for p in (tmp_path / "notebooks").glob("*.ipynb") for t in _links(p) if "exercises/" in t
    ]
    assert len(exercise_links) >= 7 and checked > 10


def test_update_never_overwrites_student_work(tmp_path, monkeypatch):
    ws.sync(tmp_path, log=lambda m: None)
    mine = tmp_path / "exercises" / "ex3_bptt.ipynb"
    mine.write_text(mine.read_text().replace("raise NotImplementedError", "return 42", 1))
    my_text = mine.read_text()
    (tmp_path / "notebooks" / "02_training.ipynb").unlink()  # deleted: comes back
    # the student ran lesson 1 and saved it (outputs and execution counts), without editing a cell
    ran = tmp_path / "notebooks" / "01_recurrence.ipynb"
    nb = json.loads(ran.read_text())
    for i, c in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        c["execution_count"] = i + 1
        c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["ran\n"]}]
    ran.write_text(json.dumps(nb, indent=1))
    # the next release of the package changes two notebooks
    real = ws.bundle_files()
    changed = dict(real)
    changed["exercises/ex3_bptt.ipynb"] = real["exercises/ex3_bptt.ipynb"].replace("dh", "dh ", 1)
    nb = json.loads(real["notebooks/01_recurrence.ipynb"])
    nb["cells"][0]["source"] = ["# A new title\n"] + nb["cells"][0]["source"][1:]
    changed["notebooks/01_recurrence.ipynb"] = json.dumps(nb, indent=1)
    monkeypatch.setattr(ws, "bundle_files", lambda: changed)
    said = []
    actions = dict(ws.sync(tmp_path, log=said.append))
    assert mine.read_text() == my_text, "the student's exercise was overwritten"
    assert (tmp_path / "exercises" / "ex3_bptt.new.ipynb").read_text() == changed["exercises/ex3_bptt.ipynb"]
    assert actions["exercises/ex3_bptt.ipynb"] == "beside"
    assert len(said) == 1 and "ex3_bptt.new.ipynb" in said[0] and "kept your" in said[0]
    assert actions["notebooks/01_recurrence.ipynb"] == "updated", (
        "a lesson that was only run is not the student's work"
    )
    assert (tmp_path / "notebooks" / "01_recurrence.ipynb").read_text() == changed[
        "notebooks/01_recurrence.ipynb"
    ]
    assert actions["notebooks/02_training.ipynb"] == "written"
    # a third run still recognises the student's file as theirs, and does not offer the same
    # new version again
    assert dict(ws.sync(tmp_path, log=said.append))["exercises/ex3_bptt.ipynb"] == "kept"
    assert mine.read_text() == my_text and len(said) == 1, said
    # running a lesson (outputs saved) is not a change: a later run leaves it alone
    nb = json.loads(ran.read_text())
    next(c for c in nb["cells"] if c["cell_type"] == "code")["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": ["again\n"]}
    ]
    ran.write_text(json.dumps(nb, indent=1))
    assert dict(ws.sync(tmp_path, log=said.append))["notebooks/01_recurrence.ipynb"] == "unchanged"
    assert "again" in ran.read_text() and not (tmp_path / "notebooks" / "01_recurrence.new.ipynb").exists()


def test_lab_opens_the_welcome_notebook_in_the_workspace(monkeypatch, tmp_path):
    seen = {}

    def fake_call(cmd, cwd=None, env=None):
        seen.update(cmd=cmd, cwd=cwd, env=env)
        return 0

    monkeypatch.setattr(subprocess, "call", fake_call)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert cli.main(["lab", "--no-browser", "--port=9999"]) == 0  # default folder, created
    w = (tmp_path / ws.DEFAULT_DIR).resolve()
    cmd = seen["cmd"]
    assert cmd[1:4] == ["-m", "jupyter", "lab"] and f"--ServerApp.root_dir={w}" in cmd
    assert ws.WELCOME in cmd and "--no-browser" in cmd and "--port=9999" in cmd
    assert Path(seen["cwd"]) == w and (w / ws.WELCOME).is_file() and (w / "exercises").is_dir()
    assert all(seen["env"][v] == "1" for v in ws.THREAD_VARS)
    assert not (w / "solutions").exists()
    assert cli.main(["lab", "other", "--", "--no-browser"]) == 0  # an explicit folder
    assert Path(seen["cwd"]) == (tmp_path / "other").resolve() and "--no-browser" in seen["cmd"]


def _last_line(capsys):
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_doctor_says_ready_only_when_every_check_passes(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for v in ws.THREAD_VARS:
        monkeypatch.delenv(v, raising=False)
    assert cli.main(["doctor"]) == 0
    assert _last_line(capsys) == "ready"
    # a shell that asks for many BLAS threads: one PROBLEM line saying what to do
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("NOT ready")
    assert [line for line in out.splitlines() if line.startswith("PROBLEM")] == [
        "PROBLEM threads   the course expects one BLAS thread, but your shell sets OPENBLAS_NUM_THREADS=4: "
        "unset them (rnncourse lab sets 1)"
    ]


def test_doctor_names_each_missing_piece(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    report = {
        "python": "py",
        "version": ws.rnncourse.__version__,
        "png_bytes": 5000,
        "ipywidgets": "8",
        "env": {v: "1" for v in ws.THREAD_VARS},
    }
    monkeypatch.setattr(cli, "_probe_kernel", lambda: dict(report))
    assert cli.main(["doctor"]) == 0 and _last_line(capsys) == "ready"

    def no_course():
        raise ws.CourseNotFound("this rnncourse installation has no lessons: install a released wheel")

    cases = [
        ("lessons", lambda m: m.setattr(ws, "bundle_files", no_course)),
        ("widgets", lambda m: m.setattr(cli, "_widgets_frontend", lambda: "pip install jupyterlab_widgets")),
        ("kernel", lambda m: m.setattr(cli, "_probe_kernel", lambda: {**report, "version": "0.0.1"})),
        ("plots", lambda m: m.setattr(cli, "_probe_kernel", lambda: {**report, "png_bytes": 0})),
        ("threads", lambda m: m.setattr(cli, "_probe_kernel", lambda: {**report, "blas_threads": [1, 2]})),
        (
            "version",
            lambda m: (
                m.setattr(ws.rnncourse, "__version__", "9.9")
                or m.setattr(cli, "_probe_kernel", lambda: {**report, "version": "9.9"})
            ),
        ),
        (
            "workspace",
            lambda m: (
                m.chdir(ws.sync(tmp_path / "old", log=print) and tmp_path / "old")
                or (tmp_path / "old" / ws.MANIFEST).write_text(json.dumps({"version": "0.0.1", "files": {}}))
            ),
        ),
    ]
    for what, breakit in cases:
        with monkeypatch.context() as m:
            breakit(m)
            assert cli.main(["doctor"]) == 1, what
            out = capsys.readouterr().out
            problems = [line for line in out.splitlines() if line.startswith("PROBLEM")]
            assert len(problems) == 1 and problems[0].split()[1] == what, out
            assert out.strip().splitlines()[-1].startswith("NOT ready")


def test_release_link_and_python_dash_m(tmp_path, capsys):
    assert cli.main(["release", "--out", str(tmp_path / "bundle")]) == 0
    assert (tmp_path / "bundle" / ws.WELCOME).is_file() and not (tmp_path / "bundle" / "solutions").exists()
    capsys.readouterr()
    assert (
        cli.main(
            [
                "link",
                "--hub",
                "https://hub.example.edu/",
                "--repo",
                "https://github.com/uni/rnn-student.git",
                "--branch",
                "spring",
            ]
        )
        == 0
    )
    lines = dict(
        line.split(None, 1) for line in capsys.readouterr().out.splitlines() if not line.startswith("(")
    )
    assert lines == {
        "nbgitpuller": "https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2Funi"
        "%2Frnn-student.git&branch=spring&targetpath=rnn-student&urlpath=lab%2Ftree%2Frnn-student%2Fnotebooks"
        "%2F00_welcome.ipynb",
        "binder": "https://mybinder.org/v2/gh/uni/rnn-student/spring?urlpath=lab%2Ftree%2Fnotebooks"
        "%2F00_welcome.ipynb",
        "colab": "https://colab.research.google.com/github/uni/rnn-student/blob/spring/notebooks/00_welcome.ipynb",
    }
    assert cli.main(["link", "--repo", "rnn-student"]) == 2
    assert "--repo" not in capsys.readouterr().out
    r = subprocess.run(
        [sys.executable, "-m", "rnncourse", "--help"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0 and "init" in r.stdout and "doctor" in r.stdout


def test_clear_errors_without_course_data(monkeypatch, tmp_path, capsys):
    """An install without lessons or solutions says what to pass, and never writes into the package."""
    monkeypatch.setattr(ws, "checkout_root", lambda: None)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["exercises"]) == 2
    assert "--solutions DIR" in capsys.readouterr().err
    package = Path(ws.rnncourse.__file__).parent
    assert (
        cli.main(["exercises", "--solutions", str(ROOT / "solutions"), "--out", str(package / "exercises")])
        == 2
    )
    assert "inside the installed package" in capsys.readouterr().err and not (package / "exercises").exists()

    def nowhere():
        raise ws.CourseNotFound("this rnncourse installation has no lessons")

    monkeypatch.setattr(ws, "course_root", nowhere)
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "g")]) == 2
    assert "has no lessons" in capsys.readouterr().err
    assert cli.main(["init", str(tmp_path / "w")]) == 2 and not (tmp_path / "w").exists()


def test_grade_limits_have_one_home(capsys):
    """`rnncourse grade`'s defaults, the grader's and the sandbox launcher's all come from
    rnncourse.grading.limits (issue 11: they used to be written in three places)."""
    import dataclasses

    from rnncourse.grading import grader, limits, sandbox

    assert grader.Limits is limits.Limits
    with pytest.raises(SystemExit):
        cli.main(["grade", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    d = limits.DEFAULT
    assert f"seconds per cell (default {d.cell_timeout})" in help_text
    assert f"(default {d.mem_mb} MB)" in help_text and f"(default {d.cpu_s} s)" in help_text
    src = (Path(sandbox.__file__)).read_text()
    for f in dataclasses.fields(limits.Limits):
        assert not re.search(rf"default={f.default}\b", src), f"sandbox.py hard-codes the default of {f.name}"


def test_stopping_lab_stops_jupyterlab(tmp_path):
    """SIGTERM to `rnncourse lab` left the JupyterLab child running and holding its port (outside
    tester). Here the "JupyterLab" is a stand-in that sleeps: it must be gone after the wrapper."""
    import signal
    import time

    marker = tmp_path / "child.pid"
    child_py = tmp_path / "child.py"
    child_py.write_text(
        f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    code = (
        "import subprocess, sys\n"
        "from rnncourse import cli\n"
        "real = subprocess.call\n"
        f"subprocess.call = lambda cmd, **kw: real([sys.executable, {str(child_py)!r}], **kw)\n"
        f"sys.exit(cli.main(['lab', {str(tmp_path / 'ws')!r}, '--no-browser']))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 60
    while not (marker.is_file() and marker.read_text()) and time.time() < deadline:
        time.sleep(0.1)
    child = int(marker.read_text())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 128 + signal.SIGTERM
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{child}/stat") as fh:  # a zombie (already killed, not yet reaped) is gone too
            if fh.read().split(") ")[1].startswith("Z"):
                break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError("JupyterLab (the child) outlived `rnncourse lab`")


def test_lab_can_be_started_from_a_thread(monkeypatch, tmp_path):
    """Signal handlers exist only in the main thread: main() from another thread must still work."""
    import threading

    monkeypatch.setattr(subprocess, "call", lambda cmd, **kw: 0)
    result = {}

    def run():
        try:
            result["rc"] = cli.main(["lab", str(tmp_path / "ws"), "--no-browser"])
        except Exception as exc:  # reported below
            result["error"] = repr(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=60)
    assert result == {"rc": 0}, result


def test_init_run_inside_a_workspace_updates_it(tmp_path, capsys, monkeypatch):
    """``cd my-workspace && rnncourse init`` updates that workspace instead of silently making a
    second one nested inside it (found by an outside student test)."""
    w = tmp_path / "ws"
    assert cli.main(["init", str(w)]) == 0
    capsys.readouterr()
    monkeypatch.chdir(w)
    assert cli.main(["init"]) == 0
    out = capsys.readouterr().out
    assert "inside a workspace" in out, out
    assert not (w / ws.DEFAULT_DIR).exists()
    # an explicit folder is still honoured
    assert cli.main(["init", "sub"]) == 0 and (w / "sub" / ws.MANIFEST).is_file()


def test_init_again_with_the_same_course_writes_no_new_copy(tmp_path, capsys):
    """An edited exercise and an unchanged course (e.g. the same wheel reinstalled): nothing to
    offer, so no ``.new`` copy that would make a student think their work is gone (found by an
    outside student test). A changed course still offers its new version beside the edit."""
    w = tmp_path / "ws"
    assert cli.main(["init", str(w)]) == 0
    ex = w / "exercises" / "ex1_recurrence.ipynb"
    nb = json.loads(ex.read_text())
    nb["cells"].append({"cell_type": "markdown", "id": "my-note", "metadata": {}, "source": "my notes"})
    ex.write_text(json.dumps(nb))
    capsys.readouterr()
    assert cli.main(["init", str(w)]) == 0
    assert not (w / "exercises" / "ex1_recurrence.new.ipynb").exists(), capsys.readouterr().out
    assert "my notes" in ex.read_text()
    # the course changes this exercise: its new version is written beside the student's
    manifest = json.loads((w / ws.MANIFEST).read_text())
    manifest["files"]["exercises/ex1_recurrence.ipynb"] = "0" * 64
    (w / ws.MANIFEST).write_text(json.dumps(manifest))
    assert cli.main(["init", str(w)]) == 0
    assert (w / "exercises" / "ex1_recurrence.new.ipynb").is_file() and "my notes" in ex.read_text()
