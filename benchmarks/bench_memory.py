"""Memory a student needs per lesson: run each lesson top to bottom in a fresh kernel (as a student
does with Run All) and read the kernel's resident memory from /proc afterwards (now and peak).

    python benchmarks/bench_memory.py                 # every lesson and exercise solution
    python benchmarks/bench_memory.py --json out.json

Linux only (reads /proc/self/status). The numbers size a server in docs/deploy.md: a student's
memory is one kernel per open notebook plus the single-user Jupyter server.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from rnncourse.workspace import course_env  # noqa: E402

PROBE = """
def _rnncourse_mem():
    out = {}
    for line in open("/proc/self/status"):
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out
print("RNNCOURSE-MEM", _rnncourse_mem())
"""


def measure(path, timeout=600):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    env = course_env()
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        allow_errors=True,
    ).execute(env=env)
    seconds = time.perf_counter() - start
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    mem = eval(text.split("RNNCOURSE-MEM", 1)[1].strip(), {})  # our own probe's dict literal
    errors = sum(
        o.output_type == "error"
        for c in nb.cells
        if c.cell_type == "code" and "raises-exception" not in c.metadata.get("tags", [])
        for o in c.outputs
    )
    return {
        "notebook": path.name,
        "rss_mb": round(mem["VmRSS"]),
        "peak_mb": round(mem["VmHWM"]),
        "seconds": round(seconds, 1),
        "errors": errors,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("paths", nargs="*", help="notebooks (default: lessons and exercise solutions)")
    args = ap.parse_args()
    paths = [Path(p) for p in args.paths] or sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(
        (ROOT / "solutions").glob("ex*.ipynb")
    )
    rows = []
    print(f"{'notebook':<32} {'RSS MB':>7} {'peak MB':>8} {'s':>6}  errors")
    for p in paths:
        r = measure(p)
        rows.append(r)
        print(f"{r['notebook']:<32} {r['rss_mb']:>7} {r['peak_mb']:>8} {r['seconds']:>6}  {r['errors']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
