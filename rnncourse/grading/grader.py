"""The instructor's batch grader: ``rnncourse grade SUBMISSION... --out DIR``.

For every submitted notebook:

1. *Rebuild* it from the exercise template: the template's setup cells plus the student's solution
   cells, matched by cell id (a cell that lost its id is looked up by the function it defines).
   Deleted, duplicated or re-typed cells are reported; the student's other cells are not run.
2. *Scan* the solution cells (AST) for use of the package's reference implementation.
3. *Run* the rebuilt notebook in a fresh kernel (``rnncourse.grading.sandbox``: memory, CPU-time and
   file-size limits, empty working directory, writes outside it refused and logged) with a per-cell
   timeout. A cell that kills or wedges the kernel is skipped and the kernel restarted.
4. For each task, write hidden inputs (drawn now, from a seed recorded in the gradebook) as ``.npy``
   files, run a driver cell that calls the student's function and saves what it returns as ``.npy``,
   and read those files back with ``allow_pickle=False``. Every comparison with the reference
   happens here, in the grader's process: patching NumPy or redefining ``check`` in the notebook
   changes nothing.
5. Write ``grades.csv`` and one feedback file per student. Submissions are never modified; a failure
   of one submission is reported for that student and the batch goes on.
"""
from __future__ import annotations

import ast
import csv
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rnncourse.grading import _driver
from rnncourse.grading.assignments import SETUP_TAG, SOLUTION_TAG
from rnncourse.grading.checks import format_result
from rnncourse.grading.exercises import GRADED_FUNCTIONS, TASKS, make_inputs, tasks_of
from rnncourse.grading.verdict import Observation, Problem, TaskResult, judge

__all__ = ["Limits", "grade", "grade_one", "find_submissions", "merge", "default_templates"]

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_TASK_OUTPUT_BYTES = 64 * 1024 * 1024
MAX_CELL_OUTPUT_CHARS = 200_000
_EX_NAME = re.compile(r"^(ex\d+)_")


@dataclass(frozen=True)
class Limits:
    cell_timeout: int = 30        # seconds per cell of the student's notebook
    task_timeout: int = 30        # seconds for all probes of one task (a task may ask for more)
    mem_mb: int = 2048            # address space of the kernel
    cpu_s: int = 300              # CPU seconds per kernel
    max_restarts: int = 2


@dataclass
class SubmissionResult:
    student: str
    path: str
    exercise: str
    seed: int
    tasks: dict = field(default_factory=dict)          # task id -> TaskResult
    issues: list = field(default_factory=list)         # notes on the notebook itself
    flags: list = field(default_factory=list)          # things an instructor must look at
    seconds: float = 0.0

    @property
    def points(self):
        return sum(t.points for t in self.tasks.values())


# ---------------------------------------------------------------------------------- templates

def default_templates():
    """The generated exercise notebooks shipped with the course (``exercises/`` of the repo)."""
    return Path(__file__).resolve().parents[2] / "exercises"


def load_templates(templates_dir):
    import nbformat
    out = {}
    for p in sorted(Path(templates_dir).glob("ex*.ipynb")):
        if p.name.endswith(".new.ipynb"):
            continue
        m = _EX_NAME.match(p.name)
        if m:
            out[m.group(1)] = nbformat.read(p, as_version=4)
    if not out:
        raise FileNotFoundError(f"no exercise templates (ex*.ipynb) in {templates_dir}")
    return out


# -------------------------------------------------------------------------------- submissions

def find_submissions(paths):
    """``[(student, path)]`` for notebooks given directly or found (recursively) in folders.

    The student is the name of the folder holding the notebook when the notebook keeps its exercise
    name (``alice/ex3_bptt.ipynb`` -> ``alice``), otherwise the notebook's file name without
    ``.ipynb`` (``alice_ex3.ipynb`` -> ``alice_ex3``).
    """
    found = []
    for p in map(Path, paths):
        files = sorted(p.rglob("*.ipynb")) if p.is_dir() else [p]
        for f in files:
            if ".ipynb_checkpoints" in f.parts:
                continue
            student = f.parent.name if _EX_NAME.match(f.name) and f.parent.name else f.stem
            found.append((student or f.stem, str(f)))
    return sorted(set(found), key=lambda sp: (sp[0], sp[1]))


def _read_notebook(path):
    import nbformat
    size = os.path.getsize(path)
    if size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the notebook is {size / 1e6:.0f} MB; the limit is {MAX_NOTEBOOK_BYTES / 1e6:.0f} MB")
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise ValueError("this is not a notebook (no list of cells)")
    return nbformat.from_dict(data)


def _which_exercise(path, nb, templates):
    ex = (nb.get("metadata", {}).get("rnncourse") or {}).get("exercise") if isinstance(nb.get("metadata"), dict) else None
    if ex in templates:
        return ex
    m = _EX_NAME.match(Path(path).name)
    if m and m.group(1) in templates:
        return m.group(1)
    ids = {c.get("id") for c in nb.cells if isinstance(c, dict)}
    best = max(templates, key=lambda e: len(ids & {c.get("id") for c in templates[e].cells}))
    if ids & {c.get("id") for c in templates[best].cells}:
        return best
    raise ValueError("cannot tell which exercise this notebook is (no rnncourse metadata, name or cell ids)")


def _defines(source):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def rebuild(template, student_nb):
    """Cells to run: ``[(kind, task_id, source)]``, kind "setup" or "solution"; plus issues."""
    cells, issues = [], []
    by_id = {}
    for i, c in enumerate(student_nb.cells):
        by_id.setdefault(c.get("id"), []).append(i)
    for tc in template.cells:
        tags = tc.get("metadata", {}).get("tags", [])
        if tc.cell_type != "code":
            continue
        if SETUP_TAG in tags:
            cells.append(("setup", None, tc.source))
        elif SOLUTION_TAG in tags:
            task = tc.metadata.get("rnncourse", {}).get("exercise")
            func = TASKS[task].func if task in TASKS else None
            matches = by_id.get(tc.get("id"), [])
            chosen = None
            if len(matches) > 1:
                issues.append(f"cell '{tc.id}' appears {len(matches)} times: the last copy is graded")
            for i in reversed(matches):
                if student_nb.cells[i].get("cell_type") == "code":
                    chosen = student_nb.cells[i]
                    break
            if matches and chosen is None:
                issues.append(f"cell '{tc.id}' was changed into a {student_nb.cells[matches[-1]].get('cell_type')} "
                              "cell: its text is not run")
            if chosen is None and func:
                for c in student_nb.cells:
                    if c.get("cell_type") == "code" and func in _defines(str(c.get("source", ""))):
                        chosen = c
                        issues.append(f"cell '{tc.id}' is missing; graded the cell with id "
                                      f"'{c.get('id')}' that defines {func}()")
                        break
            if chosen is None:
                issues.append(f"cell '{tc.id}' ({task}) was deleted: task graded as missing")
                continue
            src = chosen.get("source", "")
            src = "".join(src) if isinstance(src, list) else str(src)
            cells.append(("solution", task, src))
    return cells, issues


# ------------------------------------------------------------------------- reference use (AST)

def reference_use(source, package_imports, defined):
    """Reasons to believe ``source`` uses the package's own implementation of a graded function."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    why = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnncourse"):
            if node.module.startswith("rnncourse.grading"):
                why.append(f"imports from {node.module}")
            for a in node.names:
                if a.name == "*":
                    why.append(f"`from {node.module} import *`")
                elif a.name in GRADED_FUNCTIONS:
                    why.append(f"imports the reference {a.name} from {node.module}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("rnncourse.grading"):
                    why.append(f"imports {a.name}")
        elif isinstance(node, ast.Attribute) and node.attr in GRADED_FUNCTIONS:
            why.append(f"uses the attribute .{node.attr} (the package's reference)")
        elif isinstance(node, ast.Name) and node.id in ("__import__", "importlib", "import_module"):
            why.append(f"imports modules dynamically ({node.id})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                re.fullmatch(r"\s*rnncourse(\.\w+)*\s*", node.value):
            why.append("names the rnncourse package in a string")
        elif isinstance(node, ast.Name) and node.id in package_imports and node.id not in defined:
            why.append(f"calls {node.id}, which its solution cells do not define: the package's version")
    return sorted(set(why))


# ------------------------------------------------------------------------------------- kernel

def _make_client(nb, root, limits, spec_dir):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    kdir = Path(spec_dir) / "kernels" / "rnncourse-sandbox"
    kdir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "rnncourse.grading.sandbox", "--root", str(root), "--mem-mb",
            str(limits.mem_mb), "--cpu-s", str(limits.cpu_s), "-f", "{connection_file}"]
    (kdir / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "sandbox", "language": "python"}))
    ksm = KernelSpecManager(kernel_dirs=[str(kdir.parent)])
    # Unix-socket (ipc) transport, in this submission's private folder: TCP ports are picked by
    # binding to port 0 and releasing it, so kernels started side by side (parallel grading, or the
    # test suite's other kernels) can race for the same port and talk to the wrong kernel.
    km = AsyncKernelManager(kernel_name="rnncourse-sandbox", kernel_spec_manager=ksm, transport="ipc",
                            ip=str(Path(spec_dir) / "ipc"))

    class Client(NotebookClient):
        budget = MAX_CELL_OUTPUT_CHARS

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            size = len(content.get("text", "")) if "text" in content else len(str(content)[:1_000_000])
            if self.budget <= 0:
                return None
            self.budget -= size
            if self.budget <= 0:
                outs.append(_stream("[grader: output truncated]\n"))
                return None
            return super().output(outs, msg, display_id, cell_index)

    return Client(nb, km=km, timeout=limits.cell_timeout, allow_errors=True, interrupt_on_timeout=True,
                  error_on_timeout={"ename": "CellTimeout", "evalue": "the cell timed out", "traceback": []},
                  startup_timeout=60, record_timing=False, iopub_timeout=2, shutdown_kernel="immediate")


def _stream(text):
    from nbformat.v4 import new_output
    return new_output("stream", name="stderr", text=text)


def _error_of(cell):
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            return f"{o.get('ename')}: {str(o.get('evalue'))[:300]}"
    return None


class _KernelGone(Exception):
    pass


def _run_cells(cells, root, limits, spec_dir, on_before, on_after):
    """Execute ``cells`` (list of dicts with 'source', 'timeout', 'key') in one kernel, restarting it
    when a cell kills or wedges it. ``on_before(key)``/``on_after(key, cell, status)`` let the
    caller write inputs and collect outputs. Returns notes."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_code_cell, new_notebook

    notes, skip, done = [], set(), set()
    for attempt in range(limits.max_restarts + 1):
        todo = [c for c in cells if c["key"] not in skip and c["key"] not in done]
        if not todo:
            break
        nb = new_notebook(cells=[new_code_cell(c["source"]) for c in todo])
        client = _make_client(nb, root, limits, spec_dir)
        culprit = None
        try:
            import subprocess
            with client.setup_kernel(cwd=str(Path(root) / "work"), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL):
                for idx, (c, cell) in enumerate(zip(todo, nb.cells)):
                    # cells already run in an earlier kernel must run again (definitions), but
                    # driver cells whose results were collected are not repeated
                    culprit = c
                    client.timeout = c["timeout"]
                    on_before(c["key"])
                    started = time.monotonic()
                    try:
                        client.execute_cell(cell, idx)
                        timed_out = time.monotonic() - started >= c["timeout"]
                    except CellTimeoutError:
                        timed_out = True
                    if timed_out:
                        cell.outputs.append({"output_type": "error", "ename": "CellTimeout",
                                             "evalue": f"timed out after {c['timeout']} s", "traceback": []})
                        # an interrupt was sent; a kernel that still does not answer is wedged
                        probe = new_code_cell("1")
                        client.timeout = 3
                        started = time.monotonic()
                        try:
                            client.execute_cell(probe, idx)
                            wedged = time.monotonic() - started >= 3
                        except CellTimeoutError:
                            wedged = True
                        if wedged:
                            on_after(c["key"], cell, "timeout")
                            raise _KernelGone(f"timed out after {c['timeout']} s and did not respond to an interrupt")
                    on_after(c["key"], cell, "timeout" if timed_out else "ran")
                    if c["key"].startswith("task:"):
                        done.add(c["key"])
                culprit = None
        except (DeadKernelError, _KernelGone, RuntimeError, OSError) as exc:
            reason = str(exc) if isinstance(exc, _KernelGone) else \
                "the kernel died (os._exit, a crash, or the memory or CPU-time limit)"
            if culprit is None:
                notes.append(f"kernel problem: {reason}")
                break
            on_after(culprit["key"], None, "died")
            notes.append(f"{culprit['label']}: {reason}; the kernel was restarted without it")
            skip.add(culprit["key"])
            continue
        except Exception as exc:  # nbclient start-up failures and the like
            notes.append(f"the kernel could not run this notebook: {type(exc).__name__}: {exc}")
            break
        break
    return notes


# ------------------------------------------------------------------------------------- grading

def _read_arrays(path, budget):
    out = {}
    if not os.path.isdir(path):
        return out, budget
    for f in sorted(os.listdir(path)):
        full = os.path.join(path, f)
        if not f.endswith(".npy") or not os.path.isfile(full) or os.path.islink(full):
            continue
        budget -= os.path.getsize(full)
        if budget < 0:
            raise ValueError("the function returned more data than the grader accepts")
        out[f[:-4]] = np.load(full, allow_pickle=False)
    return out, budget


def _read_text(path, limit=4000):
    try:
        with open(path, "rb") as fh:
            return fh.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return None


def grade_one(student, path, templates_dir, seed, limits=Limits()):
    """Grade one notebook; never raises (any failure becomes part of the result)."""
    t0 = time.perf_counter()
    res = SubmissionResult(student, str(path), "?", int(seed))
    tmp = None
    try:
        templates = load_templates(templates_dir)
        nb = _read_notebook(path)
        res.exercise = ex = _which_exercise(path, nb, templates)
        specs = tasks_of(ex)
        cells, res.issues = rebuild(templates[ex], nb)
        sol_src = {}
        for kind, task, src in cells:
            if kind == "solution":
                sol_src[task] = src
        defined = set().union(*[_defines(s) for s in sol_src.values()]) if sol_src else set()
        package_imports = set()
        for _, _, src in cells:              # graded names imported from the package, in any cell
            try:
                package_imports |= {a.asname or a.name for n in ast.walk(ast.parse(src))
                                  if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("rnncourse")
                                  for a in n.names} & GRADED_FUNCTIONS
            except SyntaxError:
                pass
        task_flags = {s.id: [] for s in specs}
        for task, src in sol_src.items():
            why = reference_use(src, package_imports, defined)
            if why:
                task_flags[task].append("may use the package's reference implementation (" + "; ".join(why) + ")")

        tmp = Path(tempfile.mkdtemp(prefix="rnncourse-grade-"))
        root = tmp / "box"
        (root / "work").mkdir(parents=True)
        io_dir = root / "work" / "io"

        run = []
        for i, (kind, task, src) in enumerate(cells):
            label = "setup cell" if kind == "setup" else f"solution cell of {task}"
            run.append({"key": f"cell:{i}", "source": src, "timeout": limits.cell_timeout, "label": label,
                        "task": task})
        driver_src = Path(_driver.__file__).read_text()
        run.append({"key": "driver", "label": "grader's driver", "timeout": limits.cell_timeout,
                    "source": "__rnncourse_driver__ = {'__name__': 'rnncourse_driver', '__file__': '<rnncourse._driver>'}\n"
                              f"exec(compile({driver_src!r}, '<rnncourse._driver>', 'exec'), __rnncourse_driver__)"})
        inputs = {}
        for s in specs:
            inputs[s.id] = make_inputs(s, int(seed))
            tdir = f"io/{s.id}"
            run.append({"key": f"task:{s.id}", "label": f"grading {s.id}", "timeout": max(limits.task_timeout, s.timeout or 0),
                        "source": f"__rnncourse_driver__['run_task_dir'](globals().get({s.func!r}), {s.args!r}, "
                                  f"{s.returns!r}, {tdir!r}, {s.helpers!r})"})

        status, cell_errors = {}, {}

        def before(key):
            if key.startswith("task:"):
                tid = key[5:]
                tdir = io_dir / tid
                shutil.rmtree(tdir, ignore_errors=True)
                for probe, arrays in inputs[tid].items():
                    _driver.save_dir(str(tdir / probe / "in"), arrays)

        collected = {}

        def after(key, cell, st):
            status[key] = st
            if cell is not None:
                err = _error_of(cell)
                if err:
                    cell_errors[key] = err
            if key.startswith("task:") and key[5:] not in collected:
                collected[key[5:]] = _collect(key[5:], io_dir / key[5:], st, cell_errors.get(key))

        notes = _run_cells(run, root, limits, tmp / "spec", before, after)
        res.issues += notes
        for c in run:
            if c.get("task") and c["key"] in cell_errors:
                res.issues.append(f"{c['label']} raised {cell_errors[c['key']]}")
        log = _read_text(root / "violations.log", 4000)
        if log:
            lines = sorted(set(log.strip().splitlines()))[:5]
            res.flags.append("the sandbox refused: " + " | ".join(l.replace("\t", ": ") for l in lines))

        for s in specs:
            got = collected.get(s.id) or {"status": status.get(f"task:{s.id}", "not run"), "probes": {}, "func": None}
            flags = list(task_flags[s.id])
            if got.get("func") and str(got["func"]).startswith("rnncourse"):
                flags.append(f"the graded function is the package's own ({got['func']})")
            res.tasks[s.id] = _judge(s, inputs[s.id], got, flags, int(seed))
    except Exception as exc:
        res.issues.append(f"could not be graded: {type(exc).__name__}: {exc}")
        if res.exercise in {t.split('.')[0] for t in TASKS}:
            for s in tasks_of(res.exercise):
                res.tasks.setdefault(s.id, TaskResult(s.id, 0, s.points, [], [f"not graded: {exc}"]))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    res.seconds = time.perf_counter() - t0
    return res


def _collect(task_id, tdir, st, cell_error=None):
    """What the kernel left in ``tdir``: ``{"status", "func", "probes": {probe: Observation}}``."""
    out = {"status": st, "probes": {}, "func": _read_text(tdir / "func.txt", 500)}
    if st == "timeout":
        fallback = Problem("timeout", "timed out: an infinite loop, or far too slow")
    elif st == "died":
        fallback = Problem("died", "the kernel died while running it (os._exit, a crash, or a resource limit)")
    elif cell_error:
        fallback = Problem("error", f"the grader could not call the function ({cell_error})")
    else:
        fallback = Problem("no-result", "produced no result")
    budget = MAX_TASK_OUTPUT_BYTES
    if not tdir.is_dir():
        return out
    for probe in sorted(os.listdir(tdir)):
        pdir = tdir / probe
        if not pdir.is_dir():
            continue
        try:
            outputs, budget = _read_arrays(pdir / "out", budget)
            after, budget = _read_arrays(pdir / "after", budget)
            error = _read_text(pdir / "error.txt")
            if error is None and not outputs and not after:
                obs = Observation({}, None, fallback)
            else:
                obs = Observation.from_driver(outputs, after, error)
        except Exception as exc:
            obs = Observation({}, {}, Problem("error", f"raised {type(exc).__name__}: {exc}"))
        out["probes"][probe] = obs
    shutil.rmtree(tdir, ignore_errors=True)
    return out


def _judge(spec, inputs, got, flags, seed):
    """The shared verdict (``verdict.judge``) on what the kernel produced; probes without a result
    get the reason the whole task has none (timeout, dead kernel, not run)."""
    missing = {"timeout": Problem("timeout", f"timed out (the limit is {spec.timeout} s or the cell timeout)"),
               "died": Problem("died", "the kernel died while running it (os._exit, a crash, or a resource limit)"),
               "not run": Problem("not-run", "was not run (an earlier cell broke the kernel)")}.get(
        got["status"], Problem("no-result", "produced no result (timed out or crashed)"))
    observations = {p.name: got["probes"].get(p.name) or Observation({}, None, missing) for p in spec.probes}
    return judge(spec, inputs, observations, seed, flags)


# --------------------------------------------------------------------------------- the batch

def _job(args):
    return grade_one(*args)


def grade(paths, out_dir, templates_dir=None, jobs=2, seed=None, limits=Limits(), shard=None, log=None):
    """Grade every notebook under ``paths``; write the gradebook and feedback into ``out_dir``.

    ``shard=(i, n)`` grades only the i-th of n interleaved slices (1-based) and writes
    ``shard-i-of-n.jsonl`` instead of ``grades.csv``; ``merge`` combines the shards.
    Returns the list of ``SubmissionResult``.
    """
    log = log or (lambda m: print(m, file=sys.stderr, flush=True))
    templates_dir = Path(templates_dir or default_templates())
    load_templates(templates_dir)                       # fail early on a wrong folder
    subs = find_submissions(paths)
    if shard:
        i, n = shard
        subs = subs[i - 1::n]
    base = int(seed) if seed is not None else secrets.randbits(48)
    out = Path(out_dir)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    log(f"grading {len(subs)} notebook(s) with {jobs} kernel(s) in parallel, seed {base}")
    results, t0 = [], time.perf_counter()
    jobs_args = [(st, p, str(templates_dir), _student_seed(base, st, p), limits) for st, p in subs]
    if jobs <= 1:
        it = (_job(a) for a in jobs_args)
        pool = None
    else:
        import multiprocessing
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
        futures = {pool.submit(_job, a): a for a in jobs_args}
        it = (_safe_result(f, futures[f]) for f in as_completed(futures))
    try:
        for k, r in enumerate(it, 1):
            results.append(r)
            mx = sum(t.max_points for t in r.tasks.values())
            extra = f"  FLAGS: {len(r.flags) + sum(len(t.flags) for t in r.tasks.values())}" \
                if r.flags or any(t.flags for t in r.tasks.values()) else ""
            log(f"[{k}/{len(subs)}] {r.student} {r.exercise}: {r.points:g}/{mx} ({r.seconds:.1f} s){extra}")
    finally:
        if pool is not None:
            pool.shutdown()
    results.sort(key=lambda r: (r.student, r.exercise, r.path))
    rows = [_row(r) for r in results]
    for student in sorted({r.student for r in results}):
        _write_feedback(out / "feedback" / f"{_safe_name(student)}.txt", [r for r in results if r.student == student])
    if shard:
        with open(out / f"shard-{shard[0]}-of-{shard[1]}.jsonl", "w") as fh:
            for row in rows:
                fh.write(json.dumps(row) + "\n")
    else:
        write_gradebook(out / "grades.csv", rows)
    log(f"done: {len(results)} notebook(s) in {time.perf_counter() - t0:.1f} s -> {out}")
    return results


def _safe_result(future, args):
    try:
        return future.result()
    except Exception as exc:  # a crashed worker process: report it for that student only
        r = SubmissionResult(args[0], args[1], "?", args[3])
        r.issues.append(f"the grader failed on this notebook: {type(exc).__name__}: {exc}")
        return r


def _student_seed(base, student, path):
    import hashlib
    h = hashlib.sha256(f"{base}|{student}|{Path(path).name}".encode()).digest()
    return int.from_bytes(h[:6], "little")


def _safe_name(s):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", s)[:100] or "student"


def _row(r):
    flags = list(r.flags) + [f"{t}: {f}" for t, tr in r.tasks.items() for f in tr.flags]
    return {"student": r.student, "exercise": r.exercise, "path": r.path, "seed": r.seed,
            "tasks": {t: tr.points for t, tr in r.tasks.items()},
            "max": {t: tr.max_points for t, tr in r.tasks.items()}, "flags": flags, "issues": r.issues}


def write_gradebook(path, rows):
    """``grades.csv``: one row per student; a column per task seen, total, maximum, flags."""
    tasks = [t for t in TASKS if any(t in r["tasks"] for r in rows)]
    students = {}
    for r in rows:
        s = students.setdefault(r["student"], {"tasks": {}, "max": {}, "flags": [], "seeds": []})
        s["tasks"].update(r["tasks"])
        s["max"].update(r["max"])
        s["flags"] += r["flags"] + [f"not graded: {i}" for i in r["issues"] if i.startswith("could not be graded")]
        s["seeds"].append(str(r["seed"]))
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student"] + tasks + ["total", "max", "flags", "seeds"])
        for name in sorted(students):
            s = students[name]
            w.writerow([name] + [f"{s['tasks'][t]:g}" if t in s["tasks"] else "" for t in tasks] +
                       [f"{sum(s['tasks'].values()):g}", f"{sum(s['max'].values()):g}",
                        " | ".join(s["flags"]), " ".join(s["seeds"])])


def merge(shard_dirs, out_dir):
    """Combine ``shard-*-of-N.jsonl`` files (from any folders) into ``out_dir/grades.csv``."""
    rows, seen = [], {}
    for d in map(Path, shard_dirs):
        for f in sorted(d.glob("shard-*-of-*.jsonl")) if d.is_dir() else [d]:
            m = re.match(r"shard-(\d+)-of-(\d+)\.jsonl$", f.name)
            if m:
                seen.setdefault(int(m.group(2)), set()).add(int(m.group(1)))
            rows += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    missing = [f"{i}/{n}" for n, got in seen.items() for i in range(1, n + 1) if i not in got]
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    write_gradebook(Path(out_dir) / "grades.csv", rows)
    return rows, missing


def _write_feedback(path, results):
    lines = []
    for r in results:
        mx = sum(t.max_points for t in r.tasks.values())
        lines += [f"# {r.exercise} ({Path(r.path).name}): {r.points:g}/{mx} points", ""]
        lines += [f"note: {i}" for i in r.issues]
        lines += [f"FLAG: {f}" for f in r.flags]
        if r.issues or r.flags:
            lines.append("")
        for t in r.tasks.values():
            lines += [format_result(t), ""]
    path.write_text("\n".join(lines) + "\n")
