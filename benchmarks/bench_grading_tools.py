"""rnncourse's grader beside nbgrader's ``autograde`` and otter's ``otter run``, on the same class.

The class: 40 submissions of exercise 1 (20 right, 20 wrong in four ways: no recurrence, a
transposed Wh, no tanh, not implemented), as in ``bench_grader.py``. Each tool gets the same
student code in its own notebook format and hidden tests of the same strength (both functions of
exercise 1 on fixed random inputs, compared with the formula):

* rnncourse: ``grade(..., sandbox="bwrap")`` (every kernel in bubblewrap), with 1 and 2 kernels;
* nbgrader: ``nbgrader generate_assignment`` once, then ``nbgrader autograde`` of all 40 (serial:
  nbgrader has no parallel mode);
* otter: ``otter generate`` once, then ``otter run`` per submission (``otter grade`` needs Docker).

nbgrader and otter run in throw-away virtual environments, each with this course installed (the
notebooks import it), made once with:

    python3 -m venv /tmp/nbg-venv   && /tmp/nbg-venv/bin/pip install nbgrader -e .
    python3 -m venv /tmp/otter-venv && /tmp/otter-venv/bin/pip install otter-grader -e .

    python benchmarks/bench_grading_tools.py [--n 40] [--tools rnncourse nbgrader otter]

It prints seconds per submission and checks that every tool found the same 20 right and 20
wrong (a tool that grades wrongly is not faster, it is broken). Timings on a shared machine are
noisy; the tools run one after another, so compare within one run.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_grader import WRONG_STEP  # noqa: E402

NBG = Path("/tmp/nbg-venv/bin")
OTTER = Path("/tmp/otter-venv/bin")
STEP_ID, SEQ_ID = "ex1-rnn-step-forward-solution", "ex1-rnn-forward-solution"

# Hidden tests, the same for nbgrader and otter: each function on fixed random inputs, against
# the formula h_t = tanh(x_t Wx + h_{t-1} Wh + b).
TEST_STEP = """\
_r = np.random.default_rng(2026)
_x, _h = _r.normal(size=(3, 4)), _r.normal(size=(3, 5))
_Wx, _Wh, _b = _r.normal(size=(4, 5)), _r.normal(size=(5, 5)), _r.normal(size=5)
_got = rnn_step_forward(_x, _h, _Wx, _Wh, _b)[0]
assert np.allclose(_got, np.tanh(_x @ _Wx + _h @ _Wh + _b)), "rnn_step_forward is wrong"
"""
TEST_SEQ = """\
_r = np.random.default_rng(2027)
_x, _h0 = _r.normal(size=(3, 6, 4)), _r.normal(size=(3, 5))
_Wx, _Wh, _b = _r.normal(size=(4, 5)), _r.normal(size=(5, 5)), _r.normal(size=5)
_want, _hp = np.zeros((3, 6, 5)), _h0
for _t in range(6):
    _hp = np.tanh(_x[:, _t] @ _Wx + _hp @ _Wh + _b)
    _want[:, _t] = _hp
assert np.allclose(rnn_forward(_x, _h0, _Wx, _Wh, _b)[0], _want), "rnn_forward is wrong"
"""


def _env(venv_bin):
    """The tool's venv first on PATH (nbgrader calls ``alembic`` by name); one BLAS thread, as the
    rnncourse grader gives its kernels."""
    path = f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"
    return dict(
        os.environ, PATH=path, VIRTUAL_ENV=str(venv_bin.parent), OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg"
    )


def students(n):
    """``[(name, {cell id: source}, right?)]``: even students right, odd ones wrong in turn."""
    bugs = list(WRONG_STEP.values())
    out = []
    for i in range(n):
        edits = {} if i % 2 == 0 else {STEP_ID: bugs[(i // 2) % len(bugs)]}
        out.append((f"student{i:04d}", edits, i % 2 == 0))
    return out


def base_notebook():
    from grading_fixtures.build import make_notebook

    return make_notebook("ex1")


# ------------------------------------------------------------------------------------ rnncourse


def run_rnncourse(tmp, class_, jobs):
    from grading_fixtures.build import EXERCISE_FILES, make_notebook, write
    from rnncourse.grading.grader import grade

    subs = tmp / f"rc-subs-{jobs}"
    for name, edits, _ in class_:
        write(make_notebook("ex1", edits), subs / name / EXERCISE_FILES["ex1"].name)
    t0 = time.perf_counter()
    results = grade([subs], tmp / f"rc-out-{jobs}", jobs=jobs, seed=1, log=lambda m: None, sandbox="bwrap")
    dt = time.perf_counter() - t0
    full = {r.student for r in results if r.tasks and all(t.passed for t in r.tasks.values())}
    return dt, full


# ------------------------------------------------------------------------------------- nbgrader


def _nbgrader_source():
    """Exercise 1 with nbgrader's metadata: solution cells, and the check cells replaced by
    autograded test cells (hidden tests of the same strength as the other tools')."""
    import nbformat

    nb = base_notebook()
    cells = []
    for c in nb.cells:
        tags = c.metadata.get("tags", [])
        meta = {"schema_version": 3, "grade_id": c.id, "locked": True, "solution": False, "grade": False}
        if "check" in tags:
            test = TEST_STEP if "step" in c.id else TEST_SEQ
            c = nbformat.v4.new_code_cell(test)
            meta.update(grade_id=f"test-{len(cells)}", grade=True, points=2.5)
        elif "solution" in tags:
            meta.update(locked=False, solution=True)
        elif c.cell_type != "code":
            meta = None  # and nbgrader would read the markers quoted in the text as a region
            c.source = c.source.replace("BEGIN SOLUTION", "BEGIN marker").replace(
                "END SOLUTION", "END marker"
            )
        if meta:
            c.metadata["nbgrader"] = meta
        cells.append(c)
    nb.cells = cells
    return nb


def run_nbgrader(tmp, class_):
    import nbformat

    course = tmp / "nbg"
    (course / "source" / "ex1").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{course}/gradebook.db'\n"
        "c.ExecutePreprocessor.timeout = 60\n"
    )
    nbformat.write(_nbgrader_source(), course / "source" / "ex1" / "ex1.ipynb")
    env = _env(NBG)
    run = dict(cwd=course, env=env, capture_output=True, text=True)
    r = subprocess.run([str(NBG / "nbgrader"), "generate_assignment", "ex1", "--force"], **run)
    if r.returncode:
        raise RuntimeError(f"nbgrader generate_assignment failed: {r.stderr[-2000:]}")
    release = nbformat.read(course / "release" / "ex1" / "ex1.ipynb", as_version=4)
    sol = {c.id: c.source for c in base_notebook().cells}
    for name, edits, _ in class_:
        nb = copy.deepcopy(release)
        for c in nb.cells:
            if c.metadata.get("nbgrader", {}).get("solution"):
                c.source = edits.get(c.id, sol[c.id])
        (course / "submitted" / name / "ex1").mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / name / "ex1" / "ex1.ipynb")
    t0 = time.perf_counter()
    r = subprocess.run([str(NBG / "nbgrader"), "autograde", "ex1", "--force"], **run)
    dt = time.perf_counter() - t0
    if r.returncode:
        raise RuntimeError(f"nbgrader autograde failed: {r.stderr[-2000:]}")
    full = set()
    for name, _, _ in class_:
        nb = nbformat.read(course / "autograded" / name / "ex1" / "ex1.ipynb", as_version=4)
        errors = [
            o
            for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade")
            for o in c.get("outputs", [])
            if o.get("output_type") == "error"
        ]
        if not errors:
            full.add(name)
    return dt, full


# ---------------------------------------------------------------------------------------- otter


def run_otter(tmp, class_):
    import nbformat

    work = tmp / "otter"
    tests = work / "tests"
    tests.mkdir(parents=True)
    for qname, code in (("q_step", TEST_STEP), ("q_seq", TEST_SEQ)):
        # an OK-format test (a doctest): one example per statement, so the block is the body of
        # one function, called in a second example; it passes when it raises nothing
        body = "".join(f"...     {line}\n" for line in code.rstrip().splitlines())
        case = f">>> def _test():\n{body}>>> _test()\n"
        (tests / f"{qname}.py").write_text(
            "OK_FORMAT = True\n"
            f"test = {{'name': {qname!r}, 'points': 2.5, 'suites': [{{'cases': [{{'code': {case!r}, "
            "'hidden': False, 'locked': False}], 'scored': True, 'setup': '', 'teardown': '', "
            "'type': 'doctest'}]}\n"
        )
    (work / "requirements.txt").write_text("")
    env = _env(OTTER)
    r = subprocess.run(
        [str(OTTER / "otter"), "generate", "-t", "tests", "-o", "autograder.zip", "--no-environment"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    if r.returncode:
        raise RuntimeError(f"otter generate failed: {r.stdout[-1000:]} {r.stderr[-2000:]}")
    base = base_notebook()
    base.cells = [c for c in base.cells if "check" not in c.metadata.get("tags", [])]
    paths = []
    for name, edits, _ in class_:
        nb = copy.deepcopy(base)
        for c in nb.cells:
            if c.id in edits:
                c.source = edits[c.id]
        p = work / "subs" / name / "ex1.ipynb"
        p.parent.mkdir(parents=True)
        nbformat.write(nb, p)
        paths.append((name, p))
    full = set()
    t0 = time.perf_counter()
    for name, p in paths:
        out = work / "out" / name
        out.mkdir(parents=True)
        r = subprocess.run(
            [str(OTTER / "otter"), "run", "-a", "autograder.zip", "-o", str(out), "--no-logo", str(p)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        )
        res = out / "results.json"
        if r.returncode or not res.exists():
            raise RuntimeError(f"otter run failed on {name}: {r.stdout[-1000:]} {r.stderr[-2000:]}")
        data = json.loads(res.read_text())
        if all(t.get("score") == t.get("max_score") for t in data.get("tests", [])) and data.get("tests"):
            full.add(name)
    return time.perf_counter() - t0, full


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--tools", nargs="+", default=["rnncourse", "nbgrader", "otter"])
    a = ap.parse_args()
    class_ = students(a.n)
    right = {name for name, _, ok in class_ if ok}
    tmp = Path(tempfile.mkdtemp(prefix="bench-tools-"))
    rows = []
    try:
        for tool in a.tools:
            runs = (
                [
                    (f"rnncourse grade --jobs {j} (bubblewrap)", lambda j=j: run_rnncourse(tmp, class_, j))
                    for j in (1, 2)
                ]
                if tool == "rnncourse"
                else [("nbgrader autograde (serial)", lambda: run_nbgrader(tmp, class_))]
                if tool == "nbgrader"
                else [("otter run (one process per submission)", lambda: run_otter(tmp, class_))]
            )
            for label, fn in runs:
                dt, full = fn()
                verdict = (
                    "same verdicts" if full == right else f"DIFFERENT verdicts ({len(full)} at full marks)"
                )
                rows.append((label, dt, verdict))
                print(
                    f"{label}: {dt:.1f} s for {a.n}, {dt / a.n:.2f} s per submission; {verdict}", flush=True
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n| tool | {a.n} submissions | per submission | verdicts |\n|---|---|---|---|")
    for label, dt, verdict in rows:
        print(f"| {label} | {dt:.1f} s | {dt / a.n:.2f} s | {verdict} |")


if __name__ == "__main__":
    main()
