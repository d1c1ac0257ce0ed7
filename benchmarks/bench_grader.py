"""How fast does the batch grader go? Grades N copies of a solution notebook and N copies of a
broken one (every solution cell raising NotImplementedError, plus one infinite loop per 20 copies
if --hostile) and prints notebooks per second. Target on a 2-core machine: 100 in under 120 s.

    python benchmarks/bench_grader.py [--copies 100] [--exercise ex3] [--jobs 2]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=100)
    ap.add_argument("--exercise", default="ex3")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    from rnncourse.grading.grader import grade

    name = next((ROOT / "solutions").glob(f"{a.exercise}_*.ipynb")).name
    tmp = Path(tempfile.mkdtemp(prefix="bench-grader-"))
    try:
        for kind, src in (("solution", ROOT / "solutions" / name), ("broken", ROOT / "exercises" / name)):
            folder = tmp / kind
            for i in range(a.copies):
                (folder / f"student{i:04d}").mkdir(parents=True)
                shutil.copy(src, folder / f"student{i:04d}" / name)
            t0 = time.perf_counter()
            results = grade([folder], tmp / f"out-{kind}", jobs=a.jobs, seed=1, log=lambda m: None)
            dt = time.perf_counter() - t0
            pts = sorted({r.points for r in results})
            print(f"{kind:>8}: {len(results)} x {name} graded in {dt:.1f} s "
                  f"({dt / len(results):.2f} s each, {a.jobs} kernels); points seen {pts}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
