"""Time every lesson of one edition beside the English one: does the Chinese edition run as fast?

Both editions are written with ``rnncourse init`` (``--lang en`` and ``--lang zh``) into a temporary
folder; their code cells are the same, only the markdown differs, and a kernel started in a Chinese
workspace shows ``check()`` and other messages in Chinese (the catalogue is compiled in memory the
first time it is used). Each lesson is run top to bottom in a fresh kernel (nbclient), the two
editions interleaved (en, zh, zh, en, ...) so slow drift of a shared machine cancels, and the
minimum over the repeats is reported, with and without the kernel's start-up.

Run from the repository root::

    .venv/bin/python benchmarks/bench_lessons.py --lang zh               # every lesson, 3 repeats
    .venv/bin/python benchmarks/bench_lessons.py --lang zh --lessons 00,04 --repeats 5
    .venv/bin/python benchmarks/bench_lessons.py --lang zh --exercises   # the exercises too, solved

It prints a Markdown table (the one in the README) and exits 0; a lesson that raises an error not
tagged ``raises-exception`` is reported as failed and the exit code is 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

LANGS = ("en", "zh")


def solve(path, solution):
    """Fill the solution cells of the exercise at ``path`` from ``solution`` (a solved exercise runs
    to the end; an unsolved one stops at its first ``raise NotImplementedError``)."""
    import nbformat

    solved = {c.id: c.source for c in nbformat.read(solution, as_version=4).cells if c.cell_type == "code"}
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code" and "solution" in c.metadata.get("tags", []) and c.id in solved:
            c.source = solved[c.id]
    nbformat.write(nb, path)


def run_once(path):
    """Run the notebook at ``path`` in a fresh kernel; ``(total s, cells s, [unexpected errors])``."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    t0 = time.perf_counter()
    with client.setup_kernel():
        t1 = time.perf_counter()
        for i, cell in enumerate(nb.cells):
            client.execute_cell(cell, i)
    t2 = time.perf_counter()
    errors = [
        f"cell {i}: {o.get('ename')}: {str(o.get('evalue'))[:120]}"
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and "raises-exception" not in c.metadata.get("tags", [])
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    return t2 - t0, t2 - t1, errors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lang", default="zh", choices=[lang for lang in LANGS if lang != "en"],
                    help="the edition to compare with English (default zh)")  # fmt: skip
    ap.add_argument("--repeats", type=int, default=3, help="runs of each lesson per edition (default 3)")
    ap.add_argument(
        "--lessons", default="", help="comma-separated lesson number prefixes, e.g. 00,04 (default all)"
    )
    ap.add_argument("--exercises", action="store_true", help="time the exercise notebooks too")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error(f"--repeats must be at least 1, got {args.repeats}")

    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ.get("OPENBLAS_NUM_THREADS", "1")
    from rnncourse import workspace as ws

    tmp = Path(tempfile.mkdtemp(prefix="rnncourse-bench-lessons-"))
    try:
        return _bench(args, ap, tmp, ws)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _bench(args, ap, tmp, ws):
    editions = {}
    for lang in ("en", args.lang):
        editions[lang] = tmp / lang
        ws.sync(editions[lang], log=lambda m: None, lang=lang)
    names = sorted(p.name for p in (editions["en"] / "notebooks").glob("*.ipynb"))
    rels = [f"notebooks/{n}" for n in names]
    if args.exercises:  # timed as solved by a student, with the course's solutions
        for p in sorted((editions["en"] / "exercises").glob("ex*.ipynb")):
            if (REPO / "solutions" / p.name).exists():
                rels.append(f"exercises/{p.name}")
                for lang in editions:
                    solve(editions[lang] / rels[-1], REPO / "solutions" / p.name)
    if args.lessons:
        wanted = [w.strip() for w in args.lessons.split(",") if w.strip()]
        rels = [r for r in rels if any(Path(r).name.startswith(w) for w in wanted)]
        if not rels:
            ap.error(f"--lessons {args.lessons!r} matches no notebook")

    print(
        f"# bench_lessons: {platform.python_version()}, {os.cpu_count()} CPU(s), "
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, {args.repeats} repeat(s), minimum shown",
        flush=True,
    )
    rows, failed = [], []
    for rel in rels:
        best = {lang: [float("inf"), float("inf")] for lang in editions}
        order = ["en", args.lang]
        for k in range(args.repeats):
            for lang in order if k % 2 == 0 else order[::-1]:
                total, cells, errors = run_once(editions[lang] / rel)
                best[lang] = [min(best[lang][0], total), min(best[lang][1], cells)]
                if errors:
                    failed.append(f"{lang} {rel}: {errors[0]}")
        en, other = best["en"], best[args.lang]
        rows.append((rel, en, other))
        print(
            f"  {rel}: en {en[1]:.2f} s, {args.lang} {other[1]:.2f} s (cells only)",
            file=sys.stderr,
            flush=True,
        )

    print()
    print(f"| notebook | en: cells (s) | {args.lang}: cells (s) | {args.lang} / en | en: with kernel start (s) "
          f"| {args.lang}: with kernel start (s) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for rel, en, other in rows:
        print(
            f"| {Path(rel).stem} | {en[1]:.2f} | {other[1]:.2f} | {other[1] / en[1]:.2f} | {en[0]:.2f} | {other[0]:.2f} |"
        )
    sum_en = sum(en[1] for _, en, _ in rows)
    sum_other = sum(o[1] for _, _, o in rows)
    print(f"| **all** | {sum_en:.2f} | {sum_other:.2f} | {sum_other / sum_en:.2f} | | |")
    for f in failed:
        print(f"FAILED {f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
