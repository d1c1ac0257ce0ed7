"""What keeps grading fast, proven on real sandboxed kernels (speed itself is measured in
``benchmarks/bench_grader.py``, never asserted here)."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from rnncourse.grading.grader import Box, Limits, _run_cells, make_views

pytestmark = pytest.mark.skipif(
    not os.access("/usr/bin/bwrap", os.X_OK),
    reason="bubblewrap is not installed (apt-get install bubblewrap)",
)

# The number of threads of the OpenBLAS that NumPy loaded, asked from the library itself (the
# environment variable alone proves nothing: it counts only if it was set before NumPy loaded).
BLAS_THREADS = r"""
import ctypes, numpy
libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'openblas' in l.lower() and '.so' in l})
n = None
for path in libs:
    lib = ctypes.CDLL(path)
    for name in ('scipy_openblas_get_num_threads64_', 'openblas_get_num_threads64_',
                 'openblas_get_num_threads'):
        f = getattr(lib, name, None)
        if f is not None:
            n = f()
            break
print('BLAS-THREADS', n)
import sys
print('DEBUGGER', sys.modules.get('debugpy') is not None)
"""


def run_in_kernel(source, box, exercise="ex1"):
    """The text the cell printed, run in a fresh kernel of ``box``."""
    box = box.for_exercise(exercise)
    tmp = Path(tempfile.mkdtemp(prefix="test-kernel-"))
    out = {}
    try:
        root = tmp / "box"
        for d in ("", "work", "ipc", "conn", "home", "tmp", "runtime", "mpl"):
            (root / d).mkdir(exist_ok=True)
            if box.uid is not None and d != "conn":
                os.chown(root / d, box.uid, box.uid)

        def after(key, cell, status):
            out["status"] = status
            out["text"] = "".join(o.get("text", "") for o in (cell.outputs if cell else []))
            out["errors"] = [o for o in (cell.outputs if cell else []) if o.get("output_type") == "error"]

        _run_cells(
            [{"key": "c", "source": source, "timeout": 60, "label": "c"}],
            root,
            Limits(),
            tmp / "spec",
            lambda key: None,
            after,
            box,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


@pytest.mark.parametrize("mode", ["bwrap", "audit"])
def test_a_grading_kernel_runs_one_blas_thread_and_no_debugger(tmp_path, mode, monkeypatch):
    """``python -m rnncourse.grading.sandbox`` imports NumPy before its ``main`` runs, so setting
    OPENBLAS_NUM_THREADS there was too late: OpenBLAS ran one thread per core, and its idle workers
    spun on the other core (ex7's training took 4-6 times longer in the kernel than outside).
    The grader's own environment may ask for more threads: the kernel still runs one. And
    ipykernel's debugger (debugpy, 0.1 s of every kernel's start) is not loaded."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "4")
    box = make_views(tmp_path / "views", ["ex1"]) if mode == "bwrap" else Box("audit")
    out = run_in_kernel(BLAS_THREADS, box)
    assert out["status"] == "ran" and not out["errors"], out
    assert "BLAS-THREADS 1" in out["text"], out["text"]
    assert "DEBUGGER False" in out["text"], out["text"]


def test_a_grading_kernel_can_use_its_private_tmp(tmp_path):
    """The kernel runs as its own unprivileged user; its private /tmp, /dev/shm and /var/tmp are
    world-writable with the sticky bit (a root-owned 0755 tmpfs refused every file, so code using
    ``tempfile`` silently fell back to the working folder). Found by an outside instructor test."""
    box = make_views(tmp_path / "views", ["ex1"])
    out = run_in_kernel(
        "import os, tempfile\n"
        "for d in ('/tmp', '/dev/shm', '/var/tmp'):\n"
        "    with open(os.path.join(d, 'x.txt'), 'w') as f: f.write('ok')\n"
        "    print(d, oct(os.stat(d).st_mode & 0o7777))\n"
        "print('TEMPDIR', tempfile.gettempdir())\n",
        box,
    )
    assert out["status"] == "ran" and not out["errors"], out
    for d in ("/tmp", "/dev/shm", "/var/tmp"):
        assert f"{d} 0o1777" in out["text"], out["text"]
    assert "TEMPDIR /tmp" in out["text"], out["text"]


def test_exercise_9_kernel_has_no_course_sampling_loop(tmp_path):
    """The lesson-9 module's own loop (``lm.generate``, ``warm_up``, ``step``, ``decode``,
    ``heldout_losses``) and lesson 7's ``sample_chars`` are emptied in ex9's kernel, so a student
    cannot hand them in as their loop (an outside instructor test got 7/7 that way); a function of
    the same name elsewhere (``grading.assignments.generate``) is kept."""
    box = make_views(tmp_path / "views", ["ex9"])
    out = run_in_kernel(
        "from rnncourse import lm, textgen\n"
        "from rnncourse.grading import assignments\n"
        "for f in (lm.generate, lm.warm_up, lm.step, lm.decode, lm.heldout_losses, textgen.sample_chars):\n"
        "    try:\n"
        "        f(None, None, None, None)\n"
        "    except NotImplementedError:\n"
        "        print('STRIPPED', f.__name__)\n"
        "    except Exception as e:\n"
        "        print('KEPT', f.__name__, type(e).__name__)\n"
        "import inspect\n"
        "print('ASSIGNMENTS', 'NotImplementedError' in inspect.getsource(assignments.generate))\n"
        "print('PRETRAINED', lm.pretrained('rnn').model.cell)\n",
        box,
        exercise="ex9",
    )
    assert out["status"] == "ran" and not out["errors"], out
    for name in ("generate", "warm_up", "step", "decode", "heldout_losses", "sample_chars"):
        assert f"STRIPPED {name}" in out["text"], out["text"]
    assert "ASSIGNMENTS False" in out["text"] and "PRETRAINED rnn" in out["text"], out["text"]


def _threads_and_fds():
    return len(os.listdir("/proc/self/task")), len(os.listdir("/proc/self/fd"))


def test_grading_leaves_no_threads_or_descriptors_behind(tmp_path):
    """A worker grades hundreds of notebooks one after another. nbclient does not stop the kernel
    client's channels when it does not own the kernel manager, so every notebook left a heartbeat
    thread, ZeroMQ I/O threads and about 13 file descriptors in the worker: after 450 notebooks a
    worker held 1,300 threads and 5,000 descriptors, and the whole-class benchmark slowed down as
    it went (ex7's median time grew by half). After the first kernel, no more may accumulate."""
    box = make_views(tmp_path / "views", ["ex1"])
    run_in_kernel("print(1)", box)
    after_one = _threads_and_fds()
    for _ in range(3):
        run_in_kernel("print(1)", box)
    assert _threads_and_fds() == after_one, (after_one, _threads_and_fds())


def test_light_grading_modules_do_not_load_the_exercise_registry():
    """``rnncourse.grading.limits`` says it imports nothing heavy (the command line builds its help
    from it), but importing it ran ``rnncourse/grading/__init__.py``, which loaded NumPy, the
    verdict code and all nine exercise modules. Every grading kernel paid for that at start (its
    launcher reads the limits, its setup cell imports ``check``), a tenth of its start-up."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "import rnncourse.grading.limits\n"
        "print('after limits:', 'numpy' in sys.modules)\n"
        "from rnncourse.grading import check\n"
        "print('after check:', 'rnncourse.grading.exercises' in sys.modules)\n"
        "check('ex1.rnn_step_forward', lambda *a: (None, None), quiet=True)\n"
        "print('after a call:', 'rnncourse.grading.exercises' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "after limits: False" in out.stdout, out.stdout
    assert "after check: False" in out.stdout, out.stdout
    assert "after a call: True" in out.stdout, out.stdout
