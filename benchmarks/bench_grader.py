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


_TICK = os.sysconf("SC_CLK_TCK")


def _tree_rss(pid, cpu=None):
    """Resident memory (bytes) of ``pid`` and all its descendants; with ``cpu`` (a dict), also
    records the CPU seconds each of them has used so far (``cpu[(pid, start time)]``)."""
    kids, rss, used = {}, {}, {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as fh:
                st = fh.read().rsplit(")", 1)[1].split()
                ppid = int(st[1])
                used[int(p)] = ((int(p), st[19]), (int(st[11]) + int(st[12])) / _TICK)
            with open(f"/proc/{p}/statm") as fh:
                rss[int(p)] = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(p))
    total, todo, tree = rss.get(pid, 0), [pid], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            total += rss.get(k, 0)
            todo.append(k)
            tree.append(k)
    if cpu is not None:
        for p in tree:
            if p in used:
                key, secs = used[p]
                cpu[key] = max(cpu.get(key, 0.0), secs)
    return total


class PeakRSS:
    """Peak resident memory of this process and its descendants, sampled every 50 ms; ``cpu`` is
    the CPU seconds they used (the grader's own process exactly; each child up to its last
    sample, so a child that lived less than 50 ms is missed)."""

    def __enter__(self):
        self.peak, self.stop, self.cpus = 0, threading.Event(), {}
        self.t_cpu0 = time.process_time()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()
        return self

    def _run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, _tree_rss(os.getpid(), self.cpus))
            self.stop.wait(0.05)

    def __exit__(self, *exc):
        self.stop.set()
        self.t.join()
        me = [k for k in self.cpus if k[0] == os.getpid()]
        for k in me:
            del self.cpus[k]
        self.cpu = sum(self.cpus.values()) + time.process_time() - self.t_cpu0


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
    """Grade ``n`` students x every exercise; print wall time, CPU time, the time per exercise and
    per phase, and peak memory."""
    from rnncourse.grading.grader import grade

    tmp = Path(tempfile.mkdtemp(prefix="bench-course-"))
    try:
        make_course(tmp / "subs", n)
        load0 = os.getloadavg()[0]
        total = n * len(set(p.name for p in (tmp / "subs").rglob("*.ipynb")))

        def progress(message):  # every 10 % of the class: how far, how fast (if a run is cut short)
            if message.startswith("[") and "/" in message:
                k = int(message[1:].split("/", 1)[0])
                if k % max(1, total // 10) == 0:
                    el = time.perf_counter() - t0
                    print(
                        f"  ... {k}/{total} notebooks after {el:.0f} s (load {os.getloadavg()[0]:.1f})",
                        flush=True,
                    )

        with PeakRSS() as mem:
            t0 = time.perf_counter()
            results = grade([tmp / "subs"], tmp / "out", jobs=jobs, seed=1, log=progress, sandbox=sandbox)
            dt = time.perf_counter() - t0
        load1 = os.getloadavg()[0]
        by_ex = {}
        for r in results:
            by_ex.setdefault(r.exercise, []).append(r)
        full = sum(bool(r.tasks) and all(t.passed for t in r.tasks.values()) for r in results)
        print(
            f"course: {n} students x {len(by_ex)} exercises = {len(results)} notebooks, {jobs} kernels, "
            f"sandbox {sandbox}: {dt:.0f} s wall ({dt / n:.1f} s per student), "
            f"{mem.cpu:.0f} CPU-s ({mem.cpu / n:.1f} per student), peak {mem.peak / 2**20:.0f} MB, "
            f"{full}/{len(results)} at full marks; load average {load0:.1f} before, {load1:.1f} after "
            f"on {os.cpu_count()} cores"
        )
        for r in results:  # a solution below full marks is a finding: say which task and why
            for t in r.tasks.values():
                if not t.passed:
                    print(
                        f"  NOT FULL: {r.student} {t.task} {t.points}/{t.max_points}: {' | '.join(t.diagnosis)[:300]}"
                    )
        phases = ("start", "cells", "tasks", "judge", "stop", "cleanup")

        def med(xs):
            xs = sorted(xs)
            return xs[len(xs) // 2] if xs else float("nan")

        print("  per notebook (median seconds inside a worker): " + ", ".join(phases))
        for ex, rs in sorted(by_ex.items()):
            secs = sorted(r.seconds for r in rs)
            parts = "  ".join(f"{p} {med([r.phases.get(p, 0.0) for r in rs]):.2f}" for p in phases)
            print(f"  {ex}: total {med(secs):.2f} (max {secs[-1]:.1f})  {parts}")
        allr = [r for rs in by_ex.values() for r in rs]
        share = {p: sum(r.phases.get(p, 0.0) for r in allr) for p in phases}
        tot = sum(r.seconds for r in allr) or 1.0
        print(
            "  share of the workers' time: "
            + ", ".join(f"{p} {100 * v / tot:.0f}%" for p, v in share.items())
            + f", other {100 * (tot - sum(share.values())) / tot:.0f}%"
        )
        print(
            f"  100 students would take about {100 * dt / n / 60:.1f} min at this rate "
            f"({100 * mem.cpu / n / 60 / (os.cpu_count() or 1):.1f} min if the CPU time spread perfectly "
            f"over {os.cpu_count()} cores)"
        )
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
