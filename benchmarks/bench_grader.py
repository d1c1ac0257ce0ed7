"""How fast does the batch grader go, and does its memory stay flat as the class grows?

Grades a class of exercise-1 notebooks (half right, half wrong in four ways) once per size given
and prints, for each: wall time, time per notebook, and the peak resident memory of the whole
process tree (grader, worker processes, kernels and their sandboxes), sampled every 50 ms from
/proc. Then it measures the sandbox's own cost: starting and stopping an empty kernel with and
without bubblewrap.

    python benchmarks/bench_grader.py [--sizes 40 200] [--jobs 2] [--sandbox bwrap|audit]

Timings on a shared machine are noisy; compare runs made side by side.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

WRONG_STEP = {
    "no_recurrence": "def rnn_step_forward(x, h_prev, Wx, Wh, b):\n    h = np.tanh(x @ Wx + b)\n    return h, None\n",
    "transposed": "def rnn_step_forward(x, h_prev, Wx, Wh, b):\n    h = np.tanh(x @ Wx + h_prev @ Wh.T + b)\n    return h, None\n",
    "no_tanh": "def rnn_step_forward(x, h_prev, Wx, Wh, b):\n    h = x @ Wx + h_prev @ Wh + b\n    return h, None\n",
    "missing": "def rnn_step_forward(x, h_prev, Wx, Wh, b):\n    raise NotImplementedError\n",
}


def _tree_rss(pid):
    """Resident memory (bytes) of ``pid`` and all its descendants."""
    kids, rss = {}, {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{p}/statm") as fh:
                rss[int(p)] = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(p))
    total, todo = rss.get(pid, 0), [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            total += rss.get(k, 0)
            todo.append(k)
    return total


class PeakRSS:
    def __enter__(self):
        self.peak, self.stop = 0, threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()
        return self

    def _run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, _tree_rss(os.getpid()))
            self.stop.wait(0.05)

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join()


def make_class(folder, n):
    from grading_fixtures.build import EXERCISE_FILES, make_notebook, write

    name = EXERCISE_FILES["ex1"].name
    bugs = list(WRONG_STEP.values())
    for i in range(n):
        edits = {} if i % 2 == 0 else {"ex1-rnn-step-forward-solution": bugs[(i // 2) % len(bugs)]}
        write(make_notebook("ex1", edits), Path(folder) / f"student{i:04d}" / name)


def make_course(folder, n):
    """``n`` students, each handing in the solution of every exercise (the grader's worst case:
    every task runs to the end, ex7 trains its model)."""
    from grading_fixtures.build import EXERCISE_FILES, make_notebook, write

    for i in range(n):
        for ex, path in sorted(EXERCISE_FILES.items()):
            write(make_notebook(ex), Path(folder) / f"student{i:04d}" / path.name)


def course_run(n, jobs, sandbox):
    """Grade ``n`` students x every exercise; print wall time, time per exercise and peak memory."""
    from rnncourse.grading.grader import grade

    tmp = Path(tempfile.mkdtemp(prefix="bench-course-"))
    try:
        make_course(tmp / "subs", n)
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            results = grade(
                [tmp / "subs"], tmp / "out", jobs=jobs, seed=1, log=lambda m: None, sandbox=sandbox
            )
            dt = time.perf_counter() - t0
        by_ex = {}
        for r in results:
            by_ex.setdefault(r.exercise, []).append(r.seconds)
        full = sum(bool(r.tasks) and all(t.passed for t in r.tasks.values()) for r in results)
        print(
            f"course: {n} students x {len(by_ex)} exercises = {len(results)} notebooks, {jobs} kernels, "
            f"sandbox {sandbox}: {dt:.0f} s wall ({dt / n:.1f} s per student), peak {mem.peak / 2**20:.0f} MB, "
            f"{full}/{len(results)} at full marks"
        )
        for r in results:  # a solution below full marks is a finding: say which task and why
            for t in r.tasks.values():
                if not t.passed:
                    print(
                        f"  NOT FULL: {r.student} {t.task} {t.points}/{t.max_points}: {' | '.join(t.diagnosis)[:300]}"
                    )
        for ex, secs in sorted(by_ex.items()):
            secs.sort()
            print(
                f"  {ex}: median {secs[len(secs) // 2]:.1f} s per notebook (kernel time, max {secs[-1]:.1f} s)"
            )
        print(f"  100 students would take about {100 * dt / n / 60:.1f} min at this rate")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sandbox_overhead(repeats=5):
    """Seconds to start an empty kernel, run one cell and stop it: bwrap vs audit."""
    from rnncourse.grading.grader import Box, Limits, _run_cells, make_views

    out = {}
    views = tempfile.mkdtemp(prefix="bench-views-")
    try:
        for mode in ("audit", "bwrap"):
            box = (make_views(views, ["ex1"]) if mode == "bwrap" else Box("audit")).for_exercise("ex1")
            times = []
            for _ in range(repeats):
                tmp = Path(tempfile.mkdtemp(prefix="bench-k-"))
                root = tmp / "box"
                for d in ("", "work", "ipc", "conn", "home", "tmp", "runtime", "mpl"):
                    (root / d).mkdir(exist_ok=True)
                    if box.uid is not None and d != "conn":  # the kernel's own user (grader as root)
                        os.chown(root / d, box.uid, box.uid)
                t0 = time.perf_counter()
                _run_cells(
                    [{"key": "c", "source": "1 + 1", "timeout": 30, "label": "c"}],
                    root,
                    Limits(),
                    tmp / "spec",
                    lambda k: None,
                    lambda k, c, s: None,
                    box,
                )
                times.append(time.perf_counter() - t0)
                shutil.rmtree(tmp, ignore_errors=True)
            out[mode] = sorted(times)[len(times) // 2]
    finally:
        shutil.rmtree(views, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[40, 200])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--sandbox", default="bwrap", choices=("bwrap", "audit"))
    ap.add_argument("--no-overhead", action="store_true")
    ap.add_argument("--course", type=int, metavar="N", help="instead: N students x every exercise")
    a = ap.parse_args()
    if a.course:
        course_run(a.course, a.jobs, a.sandbox)
        return
    from rnncourse.grading.grader import grade

    for n in a.sizes:
        tmp = Path(tempfile.mkdtemp(prefix="bench-grader-"))
        try:
            make_class(tmp / "subs", n)
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                results = grade(
                    [tmp / "subs"], tmp / "out", jobs=a.jobs, seed=1, log=lambda m: None, sandbox=a.sandbox
                )
                dt = time.perf_counter() - t0
            per = sorted(r.seconds for r in results)
            print(
                f"{n:4d} notebooks ({a.sandbox}, {a.jobs} kernels): {dt:6.1f} s wall, {dt / n:.2f} s per notebook, "
                f"median {per[len(per) // 2]:.2f} s / max {per[-1]:.2f} s inside a worker; "
                f"peak RSS of the process tree {mem.peak / 2**20:.0f} MB; "
                f"points seen {sorted({r.points for r in results})}",
                flush=True,
            )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if not a.no_overhead:
        o = sandbox_overhead()
        print(
            f"start + one cell + stop of a kernel (median of 5): audit {o['audit']:.2f} s, "
            f"bwrap {o['bwrap']:.2f} s (sandbox cost {o['bwrap'] - o['audit']:+.2f} s)"
        )


if __name__ == "__main__":
    main()
