"""The instructor's batch grader: ``rnncourse grade SUBMISSION... --out DIR``.

For every submitted notebook:

1. *Rebuild* it from the exercise template: the template's setup cells plus the student's solution
   cells, matched by cell id (a cell that lost its id is looked up by the function it defines).
   Deleted, duplicated or re-typed cells are reported; the student's other cells are not run.
2. *Scan* the solution cells (AST) for use of the package's reference implementation: a second
   opinion that flags the task for review and never costs points on its own.
3. *Run* the rebuilt notebook in a fresh kernel inside a bubblewrap sandbox
   (``rnncourse.grading.sandbox``: own namespaces, read-only system, a copy of the package without
   the functions of this exercise, private scratch, minimal environment; memory, CPU-time, file-size
   and process-count limits) with a per-cell timeout. A cell that kills or wedges the kernel is
   skipped and the kernel restarted; the kernel is shut down as soon as the notebook is graded.
4. For each task, write hidden inputs (drawn now, from a seed recorded in the gradebook) as ``.npy``
   files, run a driver (loaded before any student code) that calls the student's function and saves
   what it returns as ``.npy``, and read those files back through directory file descriptors,
   never following a symlink, with ``allow_pickle=False``. Every comparison with the reference
   happens here, in the grader's process: patching NumPy or redefining ``check`` in the notebook
   changes nothing.
5. Write the gradebook (``rnncourse.grading.gradebook``: ``grades.csv``, feedback, exports).
   Submissions are never modified; a failure of one submission is reported for that student and
   the batch goes on.
"""

from __future__ import annotations

import ast
import dataclasses
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
from rnncourse.grading.exercises import GRADED_FUNCTIONS, TASKS, make_inputs, tasks_of
from rnncourse.grading.limits import DEFAULT as DEFAULT_LIMITS
from rnncourse.grading.limits import Limits
from rnncourse.grading.verdict import Observation, Problem, TaskResult, judge
from rnncourse.messages import N_, _, normalize, set_language, using

__all__ = ["Limits", "grade", "grade_one", "find_submissions", "merge", "default_templates"]

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
MAX_TASK_OUTPUT_BYTES = 64 * 1024 * 1024
MAX_CELL_OUTPUT_CHARS = 200_000
_EX_NAME = re.compile(r"^(ex\d+)_")


@dataclass
class SubmissionResult:
    student: str
    path: str
    exercise: str
    seed: int
    tasks: dict = field(default_factory=dict)  # task id -> TaskResult
    issues: list = field(default_factory=list)  # notes on the notebook itself
    flags: list = field(default_factory=list)  # things an instructor must look at
    seconds: float = 0.0
    ungradable: str = ""  # why the notebook could not be graded at all
    sandbox: str = ""  # "bwrap" or "audit"
    lang: str = "en"  # the language of the student's feedback (``notebook_language`` or ``--lang``)
    # seconds spent per phase (kernel start in its sandbox, the notebook's cells, the grading
    # calls, judging in the grader, kernel shutdown): for benchmarks, not in the gradebook
    phases: dict = field(default_factory=dict)

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
        if not p.exists():  # a mistyped path must not become a "submission" that scores 0
            raise FileNotFoundError(f"no such notebook or folder: {p}")
        files = sorted(p.rglob("*.ipynb")) if p.is_dir() else [p]
        for f in files:
            if ".ipynb_checkpoints" in f.parts:
                continue
            student = f.parent.name if _EX_NAME.match(f.name) and f.parent.name else f.stem
            found.append((student or f.stem, str(f)))
    return sorted(set(found), key=lambda sp: (sp[0], sp[1]))


MAX_FILE_BYTES = 512 * 1024 * 1024  # the file itself, saved outputs included


def _read_notebook(path):
    """The notebook as nbformat 4 with no outputs, and notes on what was changed to read it.

    nbformat 3 and 4.x (with or without cell ids) are upgraded; saved outputs and attachments are
    dropped first, so the size limit applies to the code and text only."""
    import stat

    import nbformat

    if os.path.islink(path):
        raise ValueError("the submitted file is a symbolic link: only regular files are graded")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("the submitted file is not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise ValueError(
                f"the file is {st.st_size / 1e6:.0f} MB; the limit is {MAX_FILE_BYTES / 1e6:.0f} MB"
            )
        data = json.loads(fh.read().decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("this is not a notebook (not a JSON object)")
    notes = []
    major = data.get("nbformat")
    if major == 3 and isinstance(data.get("worksheets"), list):
        for ws in data["worksheets"]:
            for c in ws.get("cells", []) if isinstance(ws, dict) else []:
                if isinstance(c, dict):
                    c.pop("outputs", None)
                    c["outputs"] = []
        nb = nbformat.reads(json.dumps(data), as_version=4)
        notes.append(N_("nbformat 3 notebook: upgraded to nbformat 4 for grading"))
    elif isinstance(data.get("cells"), list):
        for c in data["cells"]:
            if isinstance(c, dict):
                if c.get("cell_type") == "code":
                    c["outputs"] = []
                    c["execution_count"] = None
                c.pop("attachments", None)
        nb = nbformat.from_dict(data)
    else:
        raise ValueError("this is not a notebook (no list of cells)")
    code = sum(
        len("".join(c.get("source", "")) if isinstance(c.get("source"), list) else str(c.get("source", "")))
        for c in nb.cells
        if isinstance(c, dict)
    )
    if code > MAX_NOTEBOOK_BYTES:
        raise ValueError(
            f"the notebook holds {code / 2**20:.0f} MiB of code and text; the limit is "
            f"{MAX_NOTEBOOK_BYTES / 2**20:.0f} MiB"
        )
    return nb, notes


def _which_exercise(path, nb, templates):
    ex = (
        (nb.get("metadata", {}).get("rnncourse") or {}).get("exercise")
        if isinstance(nb.get("metadata"), dict)
        else None
    )
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
                issues.append(
                    _("cell '{id}' appears {n} times: the last copy is graded").format(
                        id=tc.id, n=len(matches)
                    )
                )
            for i in reversed(matches):
                if student_nb.cells[i].get("cell_type") == "code":
                    chosen = student_nb.cells[i]
                    break
            if matches and chosen is None:
                issues.append(
                    _("cell '{id}' was changed into a {kind} cell: its text is not run").format(
                        id=tc.id, kind=student_nb.cells[matches[-1]].get("cell_type")
                    )
                )
            if chosen is None and not matches:  # no id (nbformat < 4.5): the cell's metadata
                for c in reversed(student_nb.cells):
                    meta = c.get("metadata") if isinstance(c.get("metadata"), dict) else {}
                    if (
                        c.get("cell_type") == "code"
                        and (meta.get("rnncourse") or {}).get("exercise") == task
                        and SOLUTION_TAG in (meta.get("tags") or [])
                    ):
                        chosen = c
                        break
            if chosen is None and func:
                for c in student_nb.cells:
                    if c.get("cell_type") == "code" and func in _defines(str(c.get("source", ""))):
                        chosen = c
                        issues.append(
                            _(
                                "cell '{id}' is missing; graded the cell with id '{other}' that defines {func}()"
                            ).format(id=tc.id, other=c.get("id"), func=func)
                        )
                        break
            if chosen is None:
                issues.append(
                    _("cell '{id}' ({task}) was deleted: task graded as missing").format(id=tc.id, task=task)
                )
                continue
            src = chosen.get("source", "")
            src = "".join(src) if isinstance(src, list) else str(src)
            cells.append(("solution", task, src))
            if func:  # another cell of the notebook defines it too: in the student's kernel, the
                # one run last wins; the grader runs only the solution cell, so say which it graded
                others = [
                    c.get("id") or f"#{k + 1}"
                    for k, c in enumerate(student_nb.cells)
                    if c is not chosen
                    and c.get("cell_type") == "code"
                    and func
                    in _defines(
                        "".join(c.get("source", ""))
                        if isinstance(c.get("source"), list)
                        else str(c.get("source", ""))
                    )
                ]
                if others:
                    issues.append(
                        _(
                            "{func}() is also defined in cell(s) {cells}: only the solution cell '{id}' "
                            "is graded, whatever the other definition does"
                        ).format(func=func, cells=", ".join(repr(o) for o in others), id=tc.id)
                    )
    issues += _helpers_outside_solution_cells(template, student_nb, cells)
    return cells, issues


def _top_level_names(source):
    """Names a cell defines at its top level (functions, classes, assignments, imports)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _helpers_outside_solution_cells(template, student_nb, cells):
    """A cell the student added (an id the template does not have) that defines a name a graded
    cell uses: the grader runs only the setup and solution cells, so say so instead of leaving the
    student with a bare NameError."""
    template_ids = {c.get("id") for c in template.cells}
    run = [src for kind, _task, src in cells]
    used = set()
    for src in run:
        try:
            used |= {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name)}
        except SyntaxError:
            pass
    defined_in_run = set().union(*(_top_level_names(src) for src in run)) if run else set()
    out = []
    for c in student_nb.cells:
        if c.get("cell_type") != "code" or not c.get("id") or c.get("id") in template_ids:
            continue
        src = c.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        needed = sorted((_top_level_names(src) & used) - defined_in_run)
        if needed:
            out.append(
                _(
                    "cell '{id}' is a cell you added: the grader runs only the setup and solution cells, "
                    "so {names} from it do not exist when your functions are graded; move them into the "
                    "solution cell"
                ).format(id=c.get("id"), names=", ".join(needed))
            )
    return out


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
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"\s*rnncourse(\.\w+)*\s*", node.value)
        ):
            why.append("names the rnncourse package in a string")
        elif isinstance(node, ast.Name) and node.id in package_imports and node.id not in defined:
            why.append(f"calls {node.id}, which its solution cells do not define: the package's version")
    return sorted(set(why))


# ------------------------------------------------------------------------------------- kernel


def _kernel_argv(root, limits, box):
    """How the kernel is started: inside bubblewrap (``box.mode == "bwrap"``) or, when asked for,
    with the audit hook only."""
    inner = [
        "-m",
        "rnncourse.grading.sandbox",
        "--root",
        str(root),
        "--mem-mb",
        str(limits.mem_mb),
        "--cpu-s",
        str(limits.cpu_s),
        "--fsize-mb",
        str(limits.fsize_mb),
        "--nproc",
        str(limits.nproc),
    ]
    if box.uid is not None:
        inner += ["--uid", str(box.uid)]
    inner += [
        "-f",
        "{connection_file}",
    ]
    if box.mode == "audit":
        return [sys.executable] + inner + ["--audit"]
    from rnncourse.grading import sandbox

    return sandbox.bwrap_argv(root, box.view, box.pkg_dir) + [sys.executable] + inner


def _fast_ready_client():
    """jupyter_client's ``AsyncKernelClient`` whose ``wait_for_ready`` does not sleep needlessly.

    The stock one waits 0.2 s on IOPub after the ``kernel_info`` reply and then drains IOPub until
    it has been silent for another 0.2 s: at least 0.4 s of a grading kernel's ~1 s start, spent
    idle. This one asks the same questions (the reply on shell proves the kernel runs; a message on
    IOPub proves IOPub is connected, else it asks again) with short waits, and drains what is
    already queued. Messages that arrive later are ignored by nbclient anyway: it reads only
    messages whose parent is the request it sent."""
    import asyncio
    from queue import Empty

    from jupyter_client.asynchronous.client import AsyncKernelClient

    class FastReadyClient(AsyncKernelClient):
        async def wait_for_ready(self, timeout=None):
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=0.5)
                except Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.05)
                    except Empty:  # IOPub not connected yet (a slow joiner): ask again
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
                await asyncio.sleep(0)
            while True:  # drain what is already there, without waiting for silence
                try:
                    await self.iopub_channel.get_msg(timeout=0.005)
                except Empty:
                    break

    return FastReadyClient


def _make_client(nb, root, limits, spec_dir, box):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    from rnncourse.grading import sandbox

    kdir = Path(spec_dir) / "kernels" / "rnncourse-sandbox"
    kdir.mkdir(parents=True, exist_ok=True)
    argv = _kernel_argv(root, limits, box)
    (kdir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": argv,
                "display_name": "sandbox",
                "language": "python",
                # SIGINT would reach bwrap, not the kernel inside it
                "interrupt_mode": "message",
                # the audit mode's kernel inherits the grader's environment (bwrap sets its own)
                "env": dict(sandbox.THREAD_ENV),
            }
        )
    )
    ksm = KernelSpecManager(kernel_dirs=[str(kdir.parent)])
    # Unix-socket (ipc) transport, in this submission's scratch folder (the only one its sandbox
    # sees): TCP ports are picked by binding to port 0 and releasing it, so kernels started side by
    # side can race for the same port and talk to the wrong kernel. The connection file (with its
    # HMAC key) lives there too, so it never lands in a shared runtime folder.
    km = AsyncKernelManager(
        kernel_name="rnncourse-sandbox",
        kernel_spec_manager=ksm,
        transport="ipc",
        ip=str(Path(root) / "ipc" / "k"),
    )
    km.connection_file = str(Path(root) / "conn" / f"kernel-{secrets.token_hex(6)}.json")
    km.client_factory = _fast_ready_client()

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

    # ``km=`` means nbclient does not own the kernel and will not shut it down: ``_run_cells`` does,
    # as soon as the submission's cells are done (each idle kernel holds ~64 MB).
    return Client(
        nb,
        km=km,
        timeout=limits.cell_timeout,
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeout", "evalue": "the cell timed out", "traceback": []},
        startup_timeout=60,
        record_timing=False,
        iopub_timeout=2,
        shutdown_kernel="immediate",
    )


def _shutdown(km):
    """Stop the kernel (and with it its sandbox: the PID namespace ends every process in it)."""
    from jupyter_core.utils import run_sync

    # Kill the sandbox first and wait for it: jupyter_client's own kill polls every 0.1 s until the
    # process is gone (0.11 s of every submission). Killing bwrap ends the kernel (--die-with-parent)
    # and its PID namespace ends everything the kernel started.
    try:
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5)
    except Exception:
        pass
    try:
        if run_sync(km.is_alive)():
            run_sync(km.shutdown_kernel)(now=True)
    except Exception:
        pass
    try:
        proc = getattr(getattr(km, "provisioner", None), "process", None) or getattr(km, "kernel", None)
        if proc is not None and getattr(proc, "poll", lambda: 0)() is None:
            proc.kill()
            proc.wait(5)
    except Exception:
        pass
    try:
        run_sync(km.cleanup_resources)()
    except Exception:
        pass


class _kernel_session:
    """``client.setup_kernel`` that always shuts the kernel (and its sandbox) down on the way out."""

    def __init__(self, client, root, spent=lambda phase, since: None, leftovers=None):
        self.client, self.root, self.cm, self.spent = client, root, None, spent
        self.leftovers = leftovers

    def __enter__(self):
        import subprocess

        t0 = time.perf_counter()
        self.cm = self.client.setup_kernel(
            cwd=str(Path(self.root) / "work"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            return self.cm.__enter__()
        except BaseException:
            _shutdown(self.client.km)
            raise
        finally:
            self.spent("start", t0)

    def __exit__(self, *exc):
        t0 = time.perf_counter()
        try:
            return self.cm.__exit__(*exc)
        finally:
            if self.leftovers is not None:
                self.leftovers += _stray_processes(self.client.km)
            _shutdown(self.client.km)
            _close_client(self.client)
            self.spent("stop", t0)


def _process_table():
    """``{pid: (parent pid, command name)}`` of every process this user can see."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                raw = fh.read().decode("utf-8", "replace")
        except OSError:
            continue
        head, _sep, tail = raw.rpartition(")")
        fields = tail.split()
        if len(fields) > 1:
            table[int(name)] = (int(fields[1]), head.partition("(")[2])
    return table


def _subtree(table, root):
    """``root`` and every process below it in ``table`` (``_process_table``), parents first."""
    children = {}
    for pid, (ppid, _comm) in table.items():
        children.setdefault(ppid, []).append(pid)
    order, todo = [], [root]
    while todo and len(order) < 10_000:
        pid = todo.pop(0)
        order.append(pid)
        todo += sorted(children.get(pid, ()))
    return order


def _stray_processes(km):
    """Command names of the processes still running in a kernel's sandbox when its cells have
    ended, other than the kernel itself and bubblewrap's own: a background process, a daemon or a
    fork the student's code started. Seen from outside the sandbox (the student's code cannot hide
    or forge it); the sandbox's PID namespace kills them all with the kernel anyway, so this only
    tells the instructor that the notebook tried."""
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    if proc is None or proc.poll() is not None:
        return []
    try:
        table = _process_table()
    except OSError:
        return []
    ours = [pid for pid in _subtree(table, proc.pid) if pid in table and table[pid][1] != "bwrap"]
    return [table[pid][1] for pid in ours[1:]]  # ours[0] is the kernel


def _close_client(client):
    """Stop the kernel client's channels and end its ZeroMQ context.

    nbclient leaves both running when it does not own the kernel manager (``km=``), so each graded
    notebook left a heartbeat thread, two ZeroMQ I/O threads and about 13 file descriptors behind
    in the worker process: after 450 notebooks a worker held 1,300 threads and 5,000 descriptors,
    and every later notebook graded more slowly."""
    kc = getattr(client, "kc", None)
    if kc is None:
        return
    try:
        kc.stop_channels()
    except Exception:
        pass
    try:
        if getattr(kc, "_created_context", False) and not kc.context.closed:
            kc.context.destroy(linger=0)
    except Exception:
        pass
    client.kc = None


def _stream(text):
    from nbformat.v4 import new_output

    return new_output("stream", name="stderr", text=text)


def _cell_error_text(error, source):
    """A cell's error for the student: IPython's name for the cell ("3217171824.py, line 7", a
    file the student never saw) becomes the line of the cell itself."""

    def line_of(m):
        n = int(m.group(1))
        lines = source.splitlines()
        if 1 <= n <= len(lines):
            return _("(line {n} of the cell: {line})").format(n=n, line=lines[n - 1].strip()[:120])
        return _("(line {n} of the cell)").format(n=n)

    return re.sub(r"\(\d+\.py, line (\d+)\)", line_of, error)


def _error_of(cell):
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            return f"{o.get('ename')}: {str(o.get('evalue'))[:300]}"
    return None


class _KernelGone(Exception):
    pass


def _run_cells(cells, root, limits, spec_dir, on_before, on_after, box, phases=None, leftovers=None):
    """Execute ``cells`` (list of dicts with 'source', 'timeout', 'key') in one kernel, restarting it
    when a cell kills or wedges it. ``on_before(key)``/``on_after(key, cell, status)`` let the
    caller write inputs and collect outputs. Adds the seconds spent to ``phases`` ("start",
    "cells", "tasks", "stop") when given, and to the list ``leftovers`` the names of processes
    still running beside each kernel when it is stopped (``_stray_processes``). Returns notes."""
    phases = {} if phases is None else phases

    def spent(phase, since):
        phases[phase] = phases.get(phase, 0.0) + time.perf_counter() - since

    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_code_cell, new_notebook

    notes, skip, done = [], set(), set()
    for _attempt in range(limits.max_restarts + 1):
        todo = [c for c in cells if c["key"] not in skip and c["key"] not in done]
        if not todo:
            break
        nb = new_notebook(cells=[new_code_cell(c["source"]) for c in todo])
        client = _make_client(nb, root, limits, spec_dir, box)
        culprit = None
        try:
            with _kernel_session(client, root, spent, leftovers):
                for idx, (c, cell) in enumerate(zip(todo, nb.cells)):
                    # cells already run in an earlier kernel must run again (definitions), but
                    # driver cells whose results were collected are not repeated
                    culprit = c
                    client.timeout = c["timeout"]
                    t_cell = time.perf_counter()
                    on_before(c["key"])
                    started = time.monotonic()
                    try:
                        client.execute_cell(cell, idx)
                        timed_out = time.monotonic() - started >= c["timeout"]
                    except CellTimeoutError:
                        timed_out = True
                    if timed_out:
                        cell.outputs.append(
                            {
                                "output_type": "error",
                                "ename": "CellTimeout",
                                "evalue": _("timed out after {s} s").format(s=c["timeout"]),
                                "traceback": [],
                            }
                        )
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
                            raise _KernelGone(
                                _("timed out after {s} s and did not respond to an interrupt").format(
                                    s=c["timeout"]
                                )
                            )
                    on_after(c["key"], cell, "timeout" if timed_out else "ran")
                    spent("tasks" if c.get("task_id") else "cells", t_cell)
                    if c.get("task_id"):  # a grading cell that ran is never run again
                        done.add(c["key"])
                culprit = None
        except (DeadKernelError, _KernelGone, RuntimeError, OSError) as exc:
            reason = (
                str(exc)
                if isinstance(exc, _KernelGone)
                else _("the kernel died (os._exit, a crash, or the memory or CPU-time limit)")
            )
            if culprit is None:
                notes.append(_("kernel problem: {reason}").format(reason=reason))
                break
            on_after(culprit["key"], None, "died")
            notes.append(
                _("{label}: {reason}; the kernel was restarted without it").format(
                    label=culprit["label"], reason=reason
                )
            )
            skip.add(culprit["key"])
            continue
        except Exception as exc:  # nbclient start-up failures and the like
            notes.append(
                _("the kernel could not run this notebook: {error}").format(
                    error=f"{type(exc).__name__}: {exc}"
                )
            )
            break
        break
    return notes


# ------------------------------------------------------------------------------------- grading

# Everything in a kernel's scratch folder was writable by the student's code, so the grader
# reaches it only through directory file descriptors it opened itself, never following a symlink
# (O_NOFOLLOW), opening only regular files (a FIFO cannot block it: O_NONBLOCK), and reading only
# plain arrays (``allow_pickle=False``).
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def _open_dir(name, dir_fd):
    try:
        return os.open(name, _DIR, dir_fd=dir_fd)
    except OSError:
        return None


def _read_file(name, dir_fd, limit):
    """Bytes of the regular file ``name`` in ``dir_fd`` (at most ``limit``), or None."""
    import stat

    try:
        fd = os.open(name, _FILE, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        if st.st_size > limit:
            raise ValueError("the function returned more data than the grader accepts")
        chunks, left = [], limit + 1
        while left > 0:
            b = os.read(fd, min(left, 1 << 20))
            if not b:
                break
            chunks.append(b)
            left -= len(b)
        data = b"".join(chunks)
        if len(data) > limit:
            raise ValueError("the function returned more data than the grader accepts")
        return data
    finally:
        os.close(fd)


def _read_arrays(dir_fd, name, budget):
    import io

    out = {}
    fd = _open_dir(name, dir_fd)
    if fd is None:
        return out, budget
    try:
        for f in sorted(os.listdir(fd)):
            if not f.endswith(".npy"):
                continue
            data = _read_file(f, fd, max(budget, 0))
            if data is None:
                continue
            budget -= len(data)
            out[f[:-4]] = np.load(io.BytesIO(data), allow_pickle=False)
    finally:
        os.close(fd)
    return out, budget


def _read_text(name, dir_fd, limit=4000):
    try:
        data = _read_file(name, dir_fd, 1 << 20)
    except (OSError, ValueError):
        return None
    return None if data is None else data[:limit].decode("utf-8", errors="replace")


def _write_array(arr, name, dir_fd):
    import io

    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd)
    with os.fdopen(fd, "wb") as fh:
        fh.write(buf.getvalue())


def _mkdir_at(name, dir_fd, owner):
    """A new folder (it must not exist yet) in ``dir_fd``, owned by ``owner`` when set; its fd."""
    os.mkdir(name, 0o755, dir_fd=dir_fd)
    fd = os.open(name, _DIR, dir_fd=dir_fd)
    if owner is not None:
        os.fchown(fd, owner, owner)
    return fd


@dataclass(frozen=True)
class Box:
    """How kernels are isolated: ``mode`` "bwrap" (the default) or "audit"; for bwrap, the stripped
    package view of each exercise (``views[exercise]`` -> folder) and the real package folder."""

    mode: str = "bwrap"
    views: tuple = ()  # ((exercise, folder), ...)
    pkg_dir: str = ""
    view: str = ""  # set per submission
    uid: int | None = None  # set per submission: the kernel's own user (grader running as root)

    def for_exercise(self, ex):
        """This box for one submission of exercise ``ex``: its package view and, when the grader
        runs as root under bubblewrap, a user id of its own. The process-count limit (RLIMIT_NPROC)
        counts every process of a user on the machine, so kernels sharing one user (``nobody``) could
        starve each other: a fork bomb in one notebook made an honest neighbour's kernel die."""
        from dataclasses import replace

        from rnncourse.grading.sandbox import fresh_kernel_uid

        uid = fresh_kernel_uid() if (self.mode == "bwrap" and os.geteuid() == 0) else None
        return replace(self, view=dict(self.views).get(ex, ""), uid=uid)


# Functions whose bodies also go, beside each graded function and its reference: the package's
# own implementation that a reference only delegates to. Keep in sync with the exercise specs.
REFERENCE_ALIASES = {
    "temperature_softmax": ("temperature_probs",),
    # exercise 9's sampling loop and held-out loss exist in the lesson's own module and in the
    # sampler of lesson 7; only those files lose them ("file:name"), other functions of that name stay
    "generate_rnn": (
        "lm.py:generate",
        "lm.py:warm_up",
        "lm.py:step",
        "lm.py:decode",
        "textgen.py:sample_chars",
    ),
    "generate_lstm": (
        "lm.py:generate",
        "lm.py:warm_up",
        "lm.py:step",
        "lm.py:decode",
        "textgen.py:sample_chars",
    ),
    "heldout_bits": ("lm.py:heldout_losses",),
}


def graded_specs(exercise=None):
    """The graded task specs (of one exercise, or all): the single place the grader asks which
    functions are graded (the registry in ``rnncourse.grading.exercises``)."""
    return tasks_of(exercise) if exercise else list(TASKS.values())


def stripped_names(exercise):
    """Names of the functions removed from the package copy a kernel of ``exercise`` sees."""
    names = set()
    for spec in graded_specs(exercise):
        names.add(spec.func)
        if f"{spec.func}_loop" in GRADED_FUNCTIONS:  # the plain-loop twin in rnncourse.nn
            names.add(f"{spec.func}_loop")
        names.update(REFERENCE_ALIASES.get(spec.func, ()))
        ref = getattr(spec, "reference", None)
        if ref is not None and getattr(ref, "__name__", None):
            names.add(ref.__name__)
    return sorted(names)


def helper_sources(spec):
    """``{name: (module, source, extras)}`` of the course functions ``spec`` swaps in for the
    student's (``TaskSpec.helpers``), sent to the kernel because its package copy has none;
    ``extras`` are ``(module, name, source)`` of the functions that one delegates to
    (``REFERENCE_ALIASES``), stripped from the copy as well."""
    import importlib
    import inspect

    out = {}
    for helper in getattr(spec, "helpers", ()) or ():
        # a name (in rnncourse.nn) or (name, module, attribute), as in the exercise specs
        name, module, attr = (helper, "rnncourse.nn", helper) if isinstance(helper, str) else helper
        fn = getattr(importlib.import_module(module), attr, None)
        if fn is None:
            continue
        extras = []
        for alias in REFERENCE_ALIASES.get(name, ()):
            mod = inspect.getmodule(fn)
            target = getattr(mod, alias, None)
            if target is None:
                continue
            extras.append((target.__module__, alias, inspect.getsource(target)))
        out[name] = (fn.__module__, inspect.getsource(fn), extras)
        importlib.import_module(fn.__module__)
    return out


def make_views(dest, exercises=None):
    """One stripped package view per exercise under ``dest``; returns a ``Box``."""
    from rnncourse.grading import sandbox

    exercises = exercises or sorted({s.exercise for s in graded_specs()})
    views = []
    for ex in exercises:
        folder = Path(dest) / ex / "rnncourse"
        sandbox.build_package_view(folder, stripped_names(ex))
        views.append((ex, str(folder)))
    os.chmod(dest, 0o755)
    return Box("bwrap", tuple(views), sandbox.package_dir())


def notebook_language(nb):
    """The edition a notebook comes from: ``"zh"`` when ``rnncourse init --lang zh`` wrote it (its
    ``metadata.rnncourse.lang``), else ``"en"`` (an unknown or malformed value is English)."""
    meta = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    value = (meta.get("rnncourse") or {}).get("lang") if isinstance(meta.get("rnncourse"), dict) else None
    try:
        return normalize(value) if value else "en"
    except (TypeError, ValueError):
        return "en"


# The grader's temporary folders, named after the process and the machine that made them.
_TEMP_NAME = r"rnncourse-(?:views|grade)-(\d+)@([A-Za-z0-9._]+)-[A-Za-z0-9_]+"
_TEMP_RE = re.compile(f"^{_TEMP_NAME}$")
_SANDBOX_OF = re.compile(f"/{_TEMP_NAME}/box")  # a sandbox's command line binds its scratch folder


def _host():
    import socket

    return (re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "localhost")[:24]


# A kernel's sockets live in its scratch folder, ``<temporary folder>/rnncourse-grade-<pid>@<host>-
# <random>/box/ipc/k-<n>``, and a Unix socket's path may hold at most 107 bytes: a long $TMPDIR (a
# test's or a batch job's) made every kernel fail with "File name too long".
_MAX_SOCKET_PATH = 100


def _scratch_base():
    """The folder for the grader's temporary folders: ``$TMPDIR`` (``tempfile.gettempdir()``), or
    ``/tmp`` when that path is too long for the kernels' sockets."""
    base = tempfile.gettempdir()
    longest = len(
        os.path.join(base, f"rnncourse-grade-{os.getpid()}@{_host()}-12345678", "box", "ipc", "k-99")
    )
    if longest > _MAX_SOCKET_PATH and os.path.isdir("/tmp") and os.access("/tmp", os.W_OK | os.X_OK):
        return "/tmp"
    return base


def _temp_dir(kind):
    """A private temporary folder named after the process and machine that own it
    (``rnncourse-grade-<pid>@<host>-``), so that a later run can tell the folders of a grader that
    was killed from those in use (a temporary folder shared between the machines of a cluster
    holds other machines' folders too: those are never touched)."""
    return tempfile.mkdtemp(prefix=f"rnncourse-{kind}-{os.getpid()}@{_host()}-", dir=_scratch_base())


def _gone(m):
    """Whether the grader named in a match of ``_TEMP_NAME`` ran on this machine and has ended."""
    return m.group(2) == _host() and not _alive(int(m.group(1)))


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def kill_orphaned_sandboxes():
    """Stop the sandboxes of a grader that is gone. bubblewrap's ``--die-with-parent`` ends a sandbox
    when the grader ends, but a grader killed while bubblewrap is still starting (before it has
    asked the kernel for that) leaves the sandbox and its kernel running forever, adopted by the
    init process. Such a sandbox is found by its parent (process 1) and by the grader's scratch
    folder in its command line, named after a grader process that no longer runs on this
    machine. Returns how many were stopped."""
    import signal

    table = _process_table()
    stopped = 0
    for pid, (ppid, comm) in table.items():
        if comm != "bwrap" or ppid != 1:
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != os.getuid():
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                m = _SANDBOX_OF.search(fh.read().decode("utf-8", "replace"))
        except OSError:
            continue
        if m and _gone(m):
            # the whole tree: without --die-with-parent in force the processes below do not follow
            for p in _subtree(table, pid):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            stopped += 1
    return stopped


def remove_stale_temp(tmpdir=None):
    """Remove the grader's temporary folders whose process no longer runs (a grader killed with
    SIGKILL, or a machine that lost power, cannot clean up after itself; each left a copy of the
    course package and the scratch folders of the kernels it was running). Only this user's own
    folders (not symlinks) are touched, and never one whose process is alive: two graders can run
    side by side. Returns how many were removed."""
    import stat

    if tmpdir is None:  # both places _temp_dir may have used
        return sum(remove_stale_temp(b) for b in dict.fromkeys([tempfile.gettempdir(), _scratch_base()]))
    removed = 0
    try:
        names = os.listdir(tmpdir)
    except OSError:
        return 0
    for name in names:
        m = _TEMP_RE.match(name)
        if not m or not _gone(m):
            continue
        path = os.path.join(tmpdir, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += not os.path.lexists(path)
    return removed


def grade_one(student, path, templates_dir, seed, limits=DEFAULT_LIMITS, box=None, lang=None):
    """Grade one notebook; never raises (any failure becomes part of the result).

    ``box``: how to isolate the kernel (``Box``); by default bubblewrap with package views built
    for this call. ``lang``: the language of the student's feedback; by default the notebook's own
    edition (``notebook_language``), so each student reads it in the language they worked in."""
    t0 = time.perf_counter()
    res = SubmissionResult(student, str(path), "?", int(seed))
    res.lang = normalize(lang) if lang else "en"
    in_lang = using(res.lang)  # restored in ``finally``; switched to the notebook's edition below
    in_lang.__enter__()
    tmp = views_tmp = None
    root_fd = io_fd = None
    try:
        templates = load_templates(templates_dir)
        nb, res.issues = _read_notebook(path)
        if not lang:
            res.lang = notebook_language(nb)
            set_language(res.lang)  # ``in_lang`` restores the previous choice at the end
        res.issues = [_(n) for n in res.issues]
        res.exercise = ex = _which_exercise(path, nb, templates)
        specs = tasks_of(ex)
        cells, rebuild_issues = rebuild(templates[ex], nb)
        res.issues += rebuild_issues
        if box is None or (box.mode == "bwrap" and ex not in dict(box.views)):
            from rnncourse.grading import sandbox

            if box is None or box.mode == "bwrap":
                sandbox.check_bwrap()
                views_tmp = _temp_dir("views")
                box = make_views(views_tmp, [ex])
        res.sandbox = box.mode
        box = box.for_exercise(ex)
        sol_src = {}
        for kind, task, src in cells:
            if kind == "solution":
                sol_src[task] = src
        defined = set().union(*[_defines(s) for s in sol_src.values()]) if sol_src else set()
        package_imports = set()
        for _kind, _task, src in cells:  # graded names imported from the package, in any cell
            try:
                package_imports |= {
                    a.asname or a.name
                    for n in ast.walk(ast.parse(src))
                    if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("rnncourse")
                    for a in n.names
                } & GRADED_FUNCTIONS
            except SyntaxError:
                pass
        task_flags = {s.id: [] for s in specs}
        for task, src in sol_src.items():
            why = reference_use(src, package_imports, defined)
            if why:
                task_flags[task].append(
                    "may use the package's reference implementation (" + "; ".join(why) + ")"
                )

        tmp = Path(_temp_dir("grade"))
        root = tmp / "box"
        owner = sandbox_owner(box)
        for d in ("", "work", "ipc", "conn", "home", "tmp", "runtime", "mpl"):
            (root / d).mkdir(exist_ok=True)
            if owner is not None and d != "conn":
                os.chown(root / d, owner, owner)
        root_fd = os.open(root, _DIR)
        io_name = f"io-{secrets.token_hex(8)}"  # unguessable: nothing can be planted there first
        io_fd = _mkdir_at(io_name, root_fd, owner)

        # the driver runs first, before any student code, under a name drawn now
        dname = f"_rnncourse_driver_{secrets.token_hex(8)}"
        driver_src = Path(_driver.__file__).read_text()
        run = [
            {
                "key": "driver",
                "label": _("grader's driver"),
                "timeout": limits.cell_timeout,
                "source": f"{dname} = {{'__name__': 'rnncourse_driver', '__file__': '<rnncourse._driver>'}}\n"
                f"exec(compile({driver_src!r}, '<rnncourse._driver>', 'exec'), {dname})",
            }
        ]
        for i, (kind, task, src) in enumerate(cells):
            label = _("setup cell") if kind == "setup" else _("solution cell of {task}").format(task=task)
            run.append(
                {
                    "key": f"cell:{i}",
                    "source": src,
                    "timeout": limits.cell_timeout,
                    "label": label,
                    "task": task,
                }
            )
        inputs, tdirs = {}, {}
        for s in specs:
            inputs[s.id] = make_inputs(s, int(seed))
            tdirs[s.id] = f"t-{secrets.token_hex(6)}"
            tdir = str(root / io_name / tdirs[s.id])
            run.append(
                {
                    "key": f"task:{s.id}",
                    "label": _("grading {task}").format(task=s.id),
                    "timeout": max(limits.task_timeout, s.timeout or 0),
                    "task_id": s.id,
                    "source": f"{dname}['run_task_dir'](globals().get({s.func!r}), {s.args!r}, "
                    f"{s.returns!r}, {tdir!r}, {helper_sources(s)!r})",
                }
            )

        status, cell_errors = {}, {}
        collected = {}
        task_of = {c["key"]: c["task_id"] for c in run if c.get("task_id")}  # cell key -> task id
        key_of = {tid: key for key, tid in task_of.items()}

        def before(key):
            tid = task_of.get(key)
            if tid is not None:
                tfd = _mkdir_at(tdirs[tid], io_fd, owner)  # fails if something was planted there
                try:
                    for probe, arrays in inputs[tid].items():
                        pfd = _mkdir_at(probe, tfd, owner)
                        try:
                            ifd = _mkdir_at("in", pfd, None)
                            try:
                                for k, v in arrays.items():
                                    _write_array(v, k + ".npy", ifd)
                            finally:
                                os.close(ifd)
                        finally:
                            os.close(pfd)
                finally:
                    os.close(tfd)

        def after(key, cell, st):
            status[key] = st
            if cell is not None:
                err = _scrub(_error_of(cell))
                if err:
                    cell_errors[key] = err
            tid = task_of.get(key)
            if tid is not None and tid not in collected:
                collected[tid] = _collect(tid, io_fd, tdirs[tid], st, cell_errors.get(key))

        strays = []
        notes = _run_cells(run, root, limits, tmp / "spec", before, after, box, res.phases, strays)
        t_judge = time.perf_counter()
        res.issues += notes
        if strays:
            names = sorted(set(strays))
            res.flags.append(
                f"{len(strays)} process(es) started by the notebook were still running when its cells "
                f"ended ({', '.join(names[:5])}); the sandbox ended them: check by hand"
            )
        failed_cells = {}  # task id -> the error its solution cell raised
        for c in run:
            if c.get("task") and c["key"] in cell_errors:
                if status.get(c["key"]) == "timeout":
                    res.issues.append(
                        _(
                            "{label} timed out after {s} s (an infinite loop, or far too slow): the rest "
                            "of that cell did not run"
                        ).format(label=c["label"], s=c["timeout"])
                    )
                else:
                    err = _cell_error_text(cell_errors[c["key"]], c["source"])
                    failed_cells[c["task"]] = err
                    res.issues.append(_("{label} raised {error}").format(label=c["label"], error=err))
        if box.mode == "audit":
            log = _read_text("violations.log", root_fd, 4000)
            if log:
                lines = sorted(set(log.strip().splitlines()))[:5]
                res.flags.append("the sandbox refused: " + " | ".join(l.replace("\t", ": ") for l in lines))

        for s in specs:
            got = collected.get(s.id) or {
                "status": status.get(key_of[s.id], "not run"),
                "probes": {},
                "func": None,
            }
            flags = list(task_flags[s.id])
            if got.get("func") and str(got["func"]).startswith("rnncourse"):
                flags.append(f"the graded function is the package's own ({got['func']})")
            if got.get("stripped"):
                flags.append(
                    "calls the course's own "
                    + ", ".join(f"{n}()" for n in sorted(got["stripped"]))
                    + " (through the package), which the grader's copy does not have, so the task "
                    "is graded as not implemented: check by hand"
                )
            if got.get("patched"):
                flags.append(
                    "the notebook replaced functions the grader's driver uses ("
                    + ", ".join(got["patched"])
                    + "): an in-place change of an input may be hidden; read the solution cell and check "
                    "that it does not modify its arguments"
                )
            # flags are a second opinion for the instructor: they never cost points on their own
            tr = _judge(s, inputs[s.id], got, [], int(seed), failed_cells.get(s.id))
            if flags:
                tr.flags = flags
                tr.diagnosis.append(_("flagged for review: {flags}").format(flags="; ".join(flags)))
            res.tasks[s.id] = tr
        res.phases["judge"] = time.perf_counter() - t_judge
    except Exception as exc:
        from rnncourse.grading.sandbox import SandboxUnavailable

        if isinstance(exc, SandboxUnavailable):
            raise
        res.ungradable = f"{type(exc).__name__}: {exc}"
        res.issues.append(_("could not be graded: {reason}").format(reason=res.ungradable))
        if res.exercise in {t.split(".")[0] for t in TASKS}:
            for s in tasks_of(res.exercise):
                res.tasks.setdefault(
                    s.id, TaskResult(s.id, 0, s.points, [], [_("not graded: {reason}").format(reason=exc)])
                )
    finally:
        for fd in (io_fd, root_fd):
            if fd is not None:
                os.close(fd)
        if tmp is not None:
            t_clean = time.perf_counter()
            shutil.rmtree(tmp, ignore_errors=True)
            res.phases["cleanup"] = time.perf_counter() - t_clean
        if views_tmp is not None:
            shutil.rmtree(views_tmp, ignore_errors=True)
        in_lang.__exit__(None, None, None)
    res.seconds = time.perf_counter() - t0
    return res


def sandbox_owner(box):
    """The uid that owns a kernel's scratch folder: the kernel's own user when the grader runs as
    root under bubblewrap (the kernel switches to it), else None (the grader's own user)."""
    return box.uid if (box.mode == "bwrap" and os.geteuid() == 0) else None


_NUMBER = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?")


MAX_STUDENT_MESSAGE_CHARS = 400


def _scrub(message):
    """An error message from the student's code as feedback may quote it: without the numbers of
    hidden inputs (a message that quotes three or more decimals, e.g. ``raise ValueError(str(x))``,
    has them replaced), on one line (a message cannot forge "PASS" lines in the feedback), and at
    most ``MAX_STUDENT_MESSAGE_CHARS`` long."""
    if not message:
        return message
    if len(_NUMBER.findall(message)) >= 3:
        message = _NUMBER.sub("…", message)
    message = " ".join(message.split())
    if len(message) > MAX_STUDENT_MESSAGE_CHARS:
        message = message[: MAX_STUDENT_MESSAGE_CHARS - 1] + "…"
    return message


def _collect(task_id, io_fd, name, st, cell_error=None):
    """What the kernel left in its task folder (read through ``io_fd``, never following a symlink):
    ``{"status", "func", "patched", "probes": {probe: Observation}}``."""
    tfd = _open_dir(name, io_fd)
    out = {"status": st, "probes": {}, "func": None, "patched": [], "stripped": set()}
    if st == "timeout":
        fallback = Problem("timeout", _("timed out: an infinite loop, or far too slow"))
    elif st == "died":
        fallback = Problem(
            "died", _("the kernel died while running it (os._exit, a crash, or a resource limit)")
        )
    elif cell_error:
        fallback = Problem(
            "error", _("the grader could not call the function ({error})").format(error=cell_error)
        )
    else:
        fallback = Problem("no-result", _("produced no result"))
    if tfd is None:
        return out
    try:
        out["func"] = _read_text("func.txt", tfd, 500)
        patched = _read_text("patched.txt", tfd, 2000)
        out["patched"] = [p for p in (patched or "").split() if p][:12]
        budget = MAX_TASK_OUTPUT_BYTES
        for probe in sorted(os.listdir(tfd)):
            pfd = _open_dir(probe, tfd)
            if pfd is None:
                continue
            try:
                outputs, budget = _read_arrays(pfd, "out", budget)
                after, budget = _read_arrays(pfd, "after", budget)
                error = _scrub(_read_text("error.txt", pfd))
                if error and _driver.STRIPPED_NOTE in error:
                    out["stripped"].update(re.findall(r"the course's (\w+)\(\) was called", error))
                if error is None and not outputs and not after:
                    obs = Observation({}, None, fallback)
                else:
                    obs = Observation.from_driver(outputs, after, error)
            except Exception as exc:
                obs = Observation(
                    {}, {}, Problem("error", _("raised {error}").format(error=f"{type(exc).__name__}: {exc}"))
                )
            finally:
                os.close(pfd)
            out["probes"][probe] = obs
    finally:
        os.close(tfd)
    return out


def _judge(spec, inputs, got, flags, seed, cell_error=None):
    """The shared verdict (``verdict.judge``) on what the kernel produced; probes without a result
    get the reason the whole task has none (timeout, dead kernel, not run). ``cell_error``: what
    the task's solution cell raised; a probe that then found no function (the driver's NameError)
    is told that error is the cause, not "was its cell run? was it renamed?"."""
    missing = {
        "timeout": Problem(
            "timeout", _("timed out (the limit is {s} s or the cell timeout)").format(s=spec.timeout)
        ),
        "died": Problem(
            "died", _("the kernel died while running it (os._exit, a crash, or a resource limit)")
        ),
        "not run": Problem("not-run", _("was not run (an earlier cell broke the kernel)")),
    }.get(got["status"], Problem("no-result", _("produced no result (timed out or crashed)")))
    observations = {p.name: got["probes"].get(p.name) or Observation({}, None, missing) for p in spec.probes}
    if cell_error is not None:
        because = Problem(
            "error",
            _(
                "the function is not defined because its solution cell raised {error} (see the note "
                "above): fix that first"
            ).format(error=cell_error),
            origin=("NameError", None),
        )
        for name, obs in observations.items():
            if obs.failure is not None and (obs.failure.origin or (None,))[0] == "NameError":
                observations[name] = Observation(obs.outputs, obs.after, because, obs.seconds)
    return judge(spec, inputs, observations, seed, flags)


# --------------------------------------------------------------------------------- the batch


def _job(args):
    return grade_one(*args)


class GradingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a batch. ``signum`` says which; ``written`` whether the gradebook of
    the notebooks graded so far was written (``run.json`` then lists the rest)."""

    def __init__(self, message, signum=None, written=False):
        super().__init__(message)
        self.signum, self.written = signum, written


def _worker_init():
    """Each worker process: Ctrl-C at the terminal reaches the whole process group, but only the
    grader's main process acts on it (it stops the workers itself, then writes the gradebook); a
    worker interrupted on its own printed asyncio tracebacks and could outlive the grader. And a
    worker dies with the grader even when the grader is killed outright (SIGKILL), which also ends
    its kernel (bubblewrap's ``--die-with-parent``)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class _stop_signals:
    """Within the block, SIGTERM (what ``kill``, ``timeout`` and batch systems send first) stops
    grading the way Ctrl-C does: as a ``GradingInterrupted`` in the main thread. ``ignore()`` then
    shields the gradebook from a second Ctrl-C while it is written (a second Ctrl-C hung the grader
    or left a half-written folder). The old handlers come back on the way out."""

    def __init__(self):
        import signal

        self.signal, self.saved = signal, {}

    def _raise(self, signum, frame):
        raise GradingInterrupted("interrupted", signum)

    def __enter__(self):
        import threading

        if threading.current_thread() is threading.main_thread():
            for sig in (self.signal.SIGINT, self.signal.SIGTERM):
                self.saved[sig] = self.signal.signal(sig, self._raise)
        return self

    def ignore(self):
        for sig in self.saved:
            self.signal.signal(sig, self.signal.SIG_IGN)

    def __exit__(self, *exc):
        for sig, handler in self.saved.items():
            self.signal.signal(sig, handler)
        return False


def _stop_workers(pool):
    """End the worker processes now (each one's kernel ends with it) instead of waiting for the
    notebooks they are grading."""
    procs = list(getattr(pool, "_processes", {}).values())
    for proc in procs:
        try:
            proc.kill()
        except Exception:
            pass
    for proc in procs:
        try:
            proc.join(5)
        except Exception:
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def grade(
    paths,
    out_dir,
    templates_dir=None,
    jobs=2,
    seed=None,
    limits=DEFAULT_LIMITS,
    shard=None,
    log=None,
    sandbox="bwrap",
    lang=None,
):
    """Grade every notebook under ``paths``; write the gradebook and feedback into ``out_dir``.

    ``shard=(i, n)`` grades only the i-th of n interleaved slices (1-based) and writes
    ``shard-i-of-n.jsonl`` instead of ``grades.csv``; ``merge`` combines the shards.
    ``sandbox``: "bwrap" (every kernel in bubblewrap; stops with ``SandboxUnavailable`` saying how
    to install it when it is missing) or "audit" (the audit hook only: ask for it explicitly).
    ``lang``: the language of every student's feedback (``"en"``, ``"zh"``); by default each
    notebook's own edition. ``grades.csv`` stays in English either way.
    Returns the list of ``SubmissionResult``. Ctrl-C or SIGTERM stop the batch: the gradebook of
    what was graded is written and ``GradingInterrupted`` raised.
    """
    with _stop_signals() as stops:
        return _grade_batch(
            stops, paths, out_dir, templates_dir, jobs, seed, limits, shard, log, sandbox, lang
        )


def resume(out_dir, templates_dir=None, jobs=2, log=None, lang=None):
    """Finish a batch that Ctrl-C or SIGTERM stopped: grade the notebooks ``out_dir/run.json`` lists
    as not graded, with that run's seed, sandbox and limits, and rewrite the gradebook in
    ``out_dir`` with every notebook of both runs. Returns the newly graded ``SubmissionResult``."""
    from rnncourse.grading import gradebook

    out = Path(out_dir)
    try:
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FileNotFoundError(f"no gradebook to resume in {out} (run.json: {exc})") from None
    if not run.get("interrupted"):
        raise FileNotFoundError(f"nothing to resume in {out}: that run was not interrupted")
    if run.get("shard"):
        raise FileNotFoundError(f"{out} holds a shard: resume it with --shard, then --merge")
    try:
        text = (out / gradebook.ROWS_FILE).read_text(encoding="utf-8")
    except OSError:
        raise FileNotFoundError(
            f"{out} has no {gradebook.ROWS_FILE}: grade the notebooks in run.json again"
        ) from None
    rows = gradebook.read_rows(text)
    subs = [(x["student"], x["path"]) for x in run.get("not_graded", [])]
    limits = Limits(**run["limits"]) if isinstance(run.get("limits"), dict) else DEFAULT_LIMITS
    with _stop_signals() as stops:
        return _grade_batch(
            stops,
            [],
            out,
            templates_dir,
            jobs,
            run["seed"],
            limits,
            None,
            log,
            run.get("sandbox", "bwrap"),
            lang,
            resumed={"subs": subs, "rows": rows, "count": run.get("resumed", 0)},
        )


def _grade_batch(
    stops, paths, out_dir, templates_dir, jobs, seed, limits, shard, log, sandbox, lang, resumed=None
):
    """``grade`` within its signal handlers (``stops``); ``resumed``: the earlier rows and the
    notebooks left (``resume``)."""
    from rnncourse.grading import gradebook
    from rnncourse.grading.sandbox import check_bwrap

    if sandbox not in ("bwrap", "audit"):
        raise ValueError(f"sandbox must be 'bwrap' or 'audit', got {sandbox!r}")
    lang = normalize(lang) if lang is not None else None
    log = log or (lambda m: print(m, file=sys.stderr, flush=True))
    templates_dir = Path(templates_dir or default_templates())
    load_templates(templates_dir)  # fail early on a wrong folder
    if sandbox == "bwrap":
        check_bwrap()
    subs = find_submissions(paths) if resumed is None else resumed["subs"]
    if shard:
        i, n = shard
        subs = subs[i - 1 :: n]
    base = int(seed) if seed is not None else secrets.randbits(48)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stopped = kill_orphaned_sandboxes()
    if stopped:
        log(f"stopped {stopped} sandbox(es) left running by an earlier grader that was killed")
    removed = remove_stale_temp()
    if removed:
        log(f"removed {removed} temporary folder(s) left by an earlier grader that was killed")
    interrupted = None
    views_tmp = _temp_dir("views")
    try:
        box = make_views(views_tmp) if sandbox == "bwrap" else Box("audit")
        log(
            f"grading {len(subs)} notebook(s) with {jobs} kernel(s) in parallel, seed {base}, sandbox {sandbox}"
        )
        results, t0 = [], time.perf_counter()
        jobs_args = [
            (st, p, str(templates_dir), _student_seed(base, st, p), limits, box, lang) for st, p in subs
        ]
        if jobs <= 1:
            it = (_job(a) for a in jobs_args)
            pool = None
        else:
            import multiprocessing

            pool = ProcessPoolExecutor(
                max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init
            )
            futures = {pool.submit(_job, a): a for a in jobs_args}
            it = (_safe_result(f, futures[f]) for f in as_completed(futures))
        try:
            for k, r in enumerate(it, 1):
                results.append(r)
                mx = sum(t.max_points for t in r.tasks.values())
                extra = (
                    f"  FLAGS: {len(r.flags) + sum(len(t.flags) for t in r.tasks.values())}"
                    if r.flags or any(t.flags for t in r.tasks.values())
                    else ""
                )
                log(
                    f"[{k}/{len(subs)}] {r.student} {r.exercise}: {r.points:g}/{mx} ({r.seconds:.1f} s){extra}"
                )
        except KeyboardInterrupt as exc:
            # Ctrl-C or SIGTERM: keep what is graded (write its gradebook below), drop the rest, stop
            stops.ignore()
            import signal

            interrupted = getattr(exc, "signum", None) or signal.SIGINT  # a bare KeyboardInterrupt: Ctrl-C
            log(
                f"interrupted ({signal.Signals(interrupted).name}): stopping the kernels, then writing the "
                f"gradebook of the {len(results)} notebook(s) graded so far; "
                f"{len(subs) - len(results)} not graded (listed in run.json)"
            )
        finally:
            if pool is not None:
                if interrupted:
                    _stop_workers(pool)
                else:
                    pool.shutdown(wait=True)
    finally:
        shutil.rmtree(views_tmp, ignore_errors=True)
        if interrupted:
            remove_stale_temp()  # the scratch folders of the workers just stopped
    results.sort(key=lambda r: (r.student, r.exercise, r.path))
    rows = [gradebook.row_of(r, sandbox) for r in results]
    if resumed is not None:
        rows = resumed["rows"] + rows
    if shard:
        gradebook.write_shard(out / f"shard-{shard[0]}-of-{shard[1]}.jsonl", rows)
        gradebook.write_feedback(out / "feedback", gradebook._mark_duplicates(rows))
    else:
        gradebook.write_all(out, rows, list(TASKS))
    # how to repeat this run exactly: each row's seed is derived from the run's seed, the student
    # and the path, so `--seed <run seed>` reproduces every row (a row's own seed does not)
    run = {
        "seed": base,
        "sandbox": sandbox,
        "course_version": gradebook.course_version(),
        "spec_hash": gradebook.spec_hash(),
        "shard": list(shard) if shard else None,
        "notebooks": len(rows),
        "limits": dataclasses.asdict(limits),
        "regrade": f"rnncourse grade ... --seed {base}",
    }
    if resumed is not None:
        run["resumed"] = resumed.get("count", 0) + 1
    if interrupted:
        done = {(r.student, r.path) for r in results}
        run["interrupted"] = True
        run["not_graded"] = [{"student": st, "path": str(p)} for st, p in subs if (st, str(p)) not in done]
    name = f"run-shard-{shard[0]}-of-{shard[1]}.json" if shard else "run.json"
    (out / name).write_text(json.dumps(run, indent=1) + "\n", encoding="utf-8")
    log(
        f"done: {len(results)} notebook(s) in {time.perf_counter() - t0:.1f} s -> {out} (seed {base}, in {name})"
    )
    if interrupted:
        raise GradingInterrupted(
            f"grading interrupted after {len(results)} of {len(subs)} notebook(s)", interrupted, written=True
        )
    return results


def _safe_result(future, args):
    try:
        return future.result()
    except Exception as exc:  # a crashed worker process: report it for that student only
        r = SubmissionResult(args[0], args[1], "?", args[3])
        r.ungradable = f"the grader failed on this notebook: {type(exc).__name__}: {exc}"
        r.issues.append(r.ungradable)
        return r


def _student_seed(base, student, path):
    import hashlib

    h = hashlib.sha256(f"{base}|{student}|{Path(path).name}".encode()).digest()
    return int.from_bytes(h[:6], "little")


def merge(shard_dirs, out_dir):
    """Combine ``shard-*-of-N.jsonl`` files (from any folders) into ``out_dir/grades.csv``."""
    from rnncourse.grading import gradebook

    rows, missing = gradebook.merge(
        shard_dirs, out_dir, list(TASKS), log=lambda m: print(f"WARNING: {m}", file=sys.stderr, flush=True)
    )
    # what was merged, for the record (the merged folder had no run.json at all)
    runs = []
    for d in map(Path, shard_dirs):
        for f in sorted(d.glob("run*.json")) if d.is_dir() else []:
            try:
                runs.append(json.loads(f.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
    run = {
        "merged_from": [str(d) for d in shard_dirs],
        "missing_shards": missing,
        "notebooks": len(rows),
        "seeds": sorted({r.get("seed") for r in runs if r.get("seed") is not None}),
        "course_version": gradebook.course_version(),
        "spec_hash": gradebook.spec_hash(),
    }
    (Path(out_dir) / "run.json").write_text(json.dumps(run, indent=1) + "\n", encoding="utf-8")
    return rows, missing
