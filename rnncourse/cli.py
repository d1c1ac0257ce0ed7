"""The ``rnncourse`` command.

    rnncourse lab                      open the course in JupyterLab (notebooks/00_welcome.ipynb)
    rnncourse doctor                   versions, kernel and widgets: is this machine ready?
    rnncourse exercises                generate exercises/ from solutions/ (never overwrites edits)
    rnncourse exercises --check        exit 1 if exercises/ is out of date
    rnncourse grade SUBMISSION... --out DIR [--jobs 2] [--shard I/N] [--seed S] [--timeout 30] [--sandbox bwrap|audit]
    rnncourse grade --merge SHARD_DIR... --out DIR
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lab(args):
    import subprocess
    import os
    nb = Path("notebooks") / "00_welcome.ipynb"
    cmd = [sys.executable, "-m", "jupyter", "lab", str(nb) if (ROOT / nb).exists() else "notebooks"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")   # e.g. in a container; Jupyter refuses to run as root otherwise
    # run from the course folder so the file browser shows the lessons, exercises and solutions
    return subprocess.call(cmd + list(args.extra), cwd=ROOT)


def _doctor(args):
    import importlib
    import platform
    ok = True
    print(f"python      {platform.python_version()} ({sys.executable})")
    for mod in ("numpy", "matplotlib", "ipywidgets", "jupyterlab", "ipykernel", "nbclient", "nbformat",
                "jupyter_client"):
        try:
            m = importlib.import_module(mod)
            print(f"{mod:<11} {getattr(m, '__version__', '?')}")
        except Exception as exc:
            print(f"{mod:<11} MISSING ({type(exc).__name__}: {exc})")
            ok = ok and mod in ("nbclient", "nbformat")     # only needed by the grader
    try:
        from jupyter_client.kernelspec import KernelSpecManager
        specs = KernelSpecManager().find_kernel_specs()
        print(f"kernels     {', '.join(sorted(specs)) or 'none'}")
        if "python3" not in specs:
            print("            no 'python3' kernel: run  python -m ipykernel install --user")
            ok = False
    except Exception as exc:
        print(f"kernels     cannot list kernels: {exc}")
        ok = False
    try:
        from jupyterlab_widgets import __version__ as wv  # the JupyterLab side of ipywidgets
        print(f"lab widgets {wv}")
    except Exception:
        print("lab widgets MISSING: pip install jupyterlab_widgets (sliders will not render)")
        ok = False
    for folder in ("notebooks", "exercises", "solutions"):
        n = len(list((ROOT / folder).glob("*.ipynb")))
        print(f"{folder:<11} {n} notebook(s) in {ROOT / folder}")
    print("ready" if ok else "NOT ready: see above")
    return 0 if ok else 1


def _exercises(args):
    from rnncourse.grading.assignments import generate, out_of_sync
    src, dst = Path(args.solutions), Path(args.out)
    if args.check:
        bad = out_of_sync(src, dst)
        for name in bad:
            print(f"out of date: {dst / name}")
        return 1 if bad else 0
    actions = generate(src, dst)
    beside = [n for n, a in actions if a == "beside"]
    print(f"{sum(a == 'written' for _, a in actions)} written, {sum(a == 'unchanged' for _, a in actions)} "
          f"unchanged, {len(beside)} written beside an edited notebook")
    return 0


def _shard(text):
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes I/N, e.g. 2/8, got {text!r}") from None
    if not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"--shard I/N needs 1 <= I <= N, got {text!r}")
    return i, n


def _grade(args):
    from rnncourse.grading.grader import Limits, grade, merge
    if args.merge:
        rows, missing = merge(args.paths, args.out)
        print(f"merged {len(rows)} graded notebook(s) into {Path(args.out) / 'grades.csv'}")
        if missing:
            print(f"WARNING: shards missing: {', '.join(missing)}", file=sys.stderr)
            return 1
        return 0
    if not args.paths:
        print("give at least one notebook or folder to grade", file=sys.stderr)
        return 2
    from rnncourse.grading.sandbox import SandboxUnavailable
    limits = Limits(cell_timeout=args.timeout, mem_mb=args.mem_mb, cpu_s=args.cpu_s)
    try:
        grade(args.paths, args.out, templates_dir=args.templates, jobs=args.jobs, seed=args.seed,
              limits=limits, shard=args.shard, sandbox=args.sandbox)
    except SandboxUnavailable as exc:
        print(f"rnncourse grade: {exc}", file=sys.stderr)
        return 3
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="rnncourse", description="The rnncourse command line.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("lab", help="open the course in JupyterLab")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="more arguments for jupyter lab")
    p.set_defaults(fn=_lab)
    p = sub.add_parser("doctor", help="check that this machine can run the course")
    p.set_defaults(fn=_doctor)
    p = sub.add_parser("exercises", help="generate exercises/ from solutions/")
    p.add_argument("--solutions", default=str(ROOT / "solutions"))
    p.add_argument("--out", default=str(ROOT / "exercises"))
    p.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date")
    p.set_defaults(fn=_exercises)
    p = sub.add_parser("grade", help="grade submitted exercise notebooks")
    p.add_argument("paths", nargs="*", help="notebooks or folders of notebooks (with --merge: shard folders)")
    p.add_argument("--out", required=True, help="folder for grades.csv and feedback/")
    p.add_argument("--jobs", type=int, default=2, help="kernels run side by side (default 2)")
    p.add_argument("--shard", type=_shard, help="grade only slice I of N (1-based), e.g. 3/10")
    p.add_argument("--merge", action="store_true", help="merge shard outputs found in PATHS into --out")
    p.add_argument("--seed", type=int, help="seed of the hidden inputs (default: drawn now; recorded)")
    p.add_argument("--timeout", type=int, default=30, help="seconds per cell (default 30)")
    p.add_argument("--mem-mb", type=int, default=2048, help="memory limit per kernel (default 2048 MB)")
    p.add_argument("--cpu-s", type=int, default=300, help="CPU-time limit per kernel (default 300 s)")
    p.add_argument("--templates", help="folder of exercise templates (default: the course's exercises/)")
    p.add_argument("--sandbox", choices=("bwrap", "audit"), default="bwrap",
                   help="bwrap (default): every kernel in a bubblewrap sandbox; audit: a Python audit hook "
                        "only, for a trusted class where bubblewrap cannot be installed (written into grades.csv)")
    p.set_defaults(fn=_grade)
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["lab"]:
        # everything after "lab" goes to jupyter lab untouched (argparse would reject "--no-browser")
        return _lab(argparse.Namespace(extra=[a for a in argv[1:] if a != "--"]))
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
