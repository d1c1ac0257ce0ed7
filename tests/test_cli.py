"""The command line's plumbing that other tests do not reach: `rnncourse lab` and `doctor`."""
import subprocess
from pathlib import Path

from rnncourse import cli


def test_lab_opens_the_welcome_notebook_from_the_course_folder(monkeypatch):
    seen = {}

    def fake_call(cmd, cwd=None):
        seen["cmd"], seen["cwd"] = cmd, cwd
        return 0

    monkeypatch.setattr(subprocess, "call", fake_call)
    assert cli.main(["lab", "--no-browser", "--port=9999"]) == 0
    cmd = seen["cmd"]
    assert cmd[1:4] == ["-m", "jupyter", "lab"]
    assert "notebooks/00_welcome.ipynb" in cmd and "--no-browser" in cmd and "--port=9999" in cmd
    assert Path(seen["cwd"]) == cli.ROOT
    assert (Path(seen["cwd"]) / "notebooks" / "00_welcome.ipynb").is_file()


def test_doctor_reports_ready(capsys):
    assert cli.main(["doctor"]) in (0, None)
    out = capsys.readouterr().out
    assert "numpy" in out and "ready" in out
