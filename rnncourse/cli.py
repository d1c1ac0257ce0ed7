"""The ``rnncourse`` command (also ``python -m rnncourse``).

Students:
    rnncourse init [DIR]               copy the lessons and exercises into DIR (default
                                       ./rnncourse-workspace); run it again after an update:
                                       a file you changed is never overwritten
    rnncourse lab [DIR] [JUPYTER ARGS] open JupyterLab in the workspace on the welcome notebook
    rnncourse doctor [DIR]             is this machine ready to run the course? (one line per problem)
Instructors:
    rnncourse release --out DIR        write the student bundle (lessons, exercises, no solutions)
    rnncourse link --hub URL --repo URL [--branch B]   nbgitpuller, Binder and Colab links
    rnncourse grade SUBMISSION... --out DIR [--jobs 2] [--shard I/N] [--seed S] [--timeout 30]
                                       [--sandbox bwrap|audit]
    rnncourse grade --merge SHARD_DIR... --out DIR
Maintainers (in a source checkout):
    rnncourse exercises                generate exercises/ from solutions/ (never overwrites edits)
    rnncourse exercises --check        exit 1 if exercises/ is out of date
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rnncourse import workspace as ws
from rnncourse.grading.limits import DEFAULT as LIMITS

ROOT = Path(__file__).resolve().parents[1]


class UsageError(Exception):
    """A problem the user can fix; main() prints it as one line and exits 2."""


def _summary(actions):
    counts = {a: sum(1 for _, x in actions if x == a) for a in ("written", "updated", "unchanged", "beside")}
    return (f"{counts['written']} written, {counts['updated']} updated, {counts['unchanged']} unchanged, "
            f"{counts['beside']} of your changed files kept (new version beside)")


def _init(args):
    target = Path(args.dir)
    actions = ws.sync(target)
    print(f"workspace {target.resolve()}: {_summary(actions)}")
    print(f"open it with:  rnncourse lab {args.dir}")
    return 0


def _release(args):
    target = Path(args.out)
    actions = ws.sync(target)
    print(f"student bundle in {target.resolve()}: {_summary(actions)} (no solutions)")
    return 0


def _lab_argv(rest):
    """``lab [DIR] [jupyter args]``: a first argument that is not an option is the workspace."""
    rest = [a for a in rest if a != "--"]
    if rest and not rest[0].startswith("-"):
        return rest[0], rest[1:]
    return ws.DEFAULT_DIR, rest


def _lab(args):
    import subprocess
    target = Path(args.dir).resolve()
    manifest = ws.read_manifest(target)
    if manifest is None:
        actions = ws.sync(target)
        print(f"created the workspace {target}: {_summary(actions)}")
    elif manifest.get("version") != ws.rnncourse.__version__:
        print(f"the lessons in {target} are from rnncourse {manifest.get('version')}, this is "
              f"{ws.rnncourse.__version__}: run  rnncourse init {args.dir}  to update "
              "(your changes are kept)")
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={target}"]
    if not any(a.startswith("--ServerApp.default_url") or not a.startswith("-") for a in args.extra):
        cmd.append(ws.WELCOME)        # a path relative to the root: JupyterLab opens it on start
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args.extra:
        cmd.append("--allow-root")    # e.g. in a container; Jupyter refuses to run as root otherwise
    return subprocess.call(cmd + list(args.extra), cwd=target, env=ws.course_env())


def _link(args):
    try:
        found = ws.links(args.repo, hub=args.hub, branch=args.branch, path=args.path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for name, url in found:
        print(f"{name:<12} {url}")
    if not found:
        raise UsageError("no link to print: give --hub, or a https://github.com/OWNER/NAME --repo")
    if any(name == "colab" for name, _ in found):
        print("(colab: each notebook must run  !pip install rnncourse  first; on a hub the "
              "single-user image needs  pip install rnncourse; binder installs it from binder/)")
    return 0


_KERNEL_PROBE = r"""
import io, json, os, sys
report = {"python": sys.executable}
try:
    import rnncourse
    report["version"] = rnncourse.__version__
except Exception as exc:
    report["version_error"] = repr(exc)
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    report["png_bytes"] = len(buf.getvalue())
except Exception as exc:
    report["mpl_error"] = repr(exc)
try:
    import ipywidgets
    report["ipywidgets"] = ipywidgets.__version__
except Exception as exc:
    report["ipywidgets_error"] = repr(exc)
report["env"] = {v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")}
try:
    from threadpoolctl import threadpool_info
    report["blas_threads"] = sorted({p["num_threads"] for p in threadpool_info()
                                     if p.get("user_api") == "blas"})
except ImportError:
    pass
print("RNNCOURSE-DOCTOR " + json.dumps(report))
"""


def _probe_kernel(timeout=60):
    """Start a python3 kernel with the environment ``rnncourse lab`` gives it; return the probe's dict."""
    import json
    import subprocess
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name="python3", env=ws.course_env(), startup_timeout=timeout,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lines = []
        kc.execute_interactive(_KERNEL_PROBE, timeout=timeout, output_hook=lambda msg: lines.append(
            msg["content"].get("text", "") if msg["msg_type"] == "stream" else ""))
        text = "".join(lines)
        for line in text.splitlines():
            if line.startswith("RNNCOURSE-DOCTOR "):
                return json.loads(line.split(" ", 1)[1])
        raise RuntimeError(f"the kernel printed no report: {text[-300:]!r}")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _widgets_frontend():
    """None when JupyterLab will load the ipywidgets front end, else what to do."""
    import json
    from jupyter_core.paths import jupyter_config_path, jupyter_path
    name = "@jupyter-widgets/jupyterlab-manager"
    if not any((Path(d) / name / "package.json").is_file() for d in jupyter_path("labextensions")):
        return ("JupyterLab has no ipywidgets front end (sliders would not show): "
                "pip install --force-reinstall jupyterlab_widgets")
    for d in jupyter_config_path():
        for f in (Path(d) / "labconfig").glob("page_config*.json"):
            try:
                disabled = json.loads(f.read_text()).get("disabledExtensions", {})
            except (OSError, ValueError):
                continue
            if disabled.get(name) is True or (isinstance(disabled, list) and name in disabled):
                return f"the ipywidgets front end is disabled in {f}: jupyter labextension enable {name}"
    return None


def _doctor(args):
    """Print one line per check; "ready" only when every check passed."""
    import importlib.metadata
    import platform
    import rnncourse
    problems = []

    def ok(what, detail):
        print(f"ok      {what:<9} {detail}")

    def fail(what, todo):
        print(f"PROBLEM {what:<9} {todo}")
        problems.append(what)

    ok("python", f"{platform.python_version()} ({sys.executable})")
    try:
        files = ws.bundle_files()
        lessons = sorted(p for p in files if p.startswith("notebooks/") and p.endswith(".ipynb"))
        exercises = sorted(p for p in files if p.startswith("exercises/") and p.endswith(".ipynb"))
        if not exercises:
            fail("lessons", f"no exercise notebooks in {ws.course_root() / 'exercises'}: reinstall rnncourse")
        else:
            ok("lessons", f"{len(lessons)} lessons, {len(exercises)} exercises in {ws.course_root()}")
    except ws.CourseNotFound as exc:
        fail("lessons", f"{exc}")
    todo = _widgets_frontend()
    if todo:
        fail("widgets", todo)
    else:
        ok("widgets", "the ipywidgets front end is installed in JupyterLab")
    try:
        meta = importlib.metadata.version("rnncourse")
    except importlib.metadata.PackageNotFoundError:
        meta = None
    if meta != rnncourse.__version__:
        fail("version", f"rnncourse {rnncourse.__version__} is imported but pip has {meta} installed: "
                        "reinstall it (pip install -e . in a checkout)")
    report = None
    try:
        report = _probe_kernel()
    except Exception as exc:
        fail("kernel", f"a python3 kernel does not start ({type(exc).__name__}: {str(exc)[:120]}): "
                       f"{sys.executable} -m ipykernel install --user")
    if report is not None:
        if "version" not in report:
            fail("kernel", f"the python3 kernel ({report['python']}) cannot import rnncourse: "
                           f"{sys.executable} -m ipykernel install --user  makes it use this Python")
        elif report["version"] != rnncourse.__version__:
            fail("kernel", f"the python3 kernel ({report['python']}) has rnncourse {report['version']}, "
                           f"this command {rnncourse.__version__}: "
                           f"{sys.executable} -m ipykernel install --user")
        else:
            ok("kernel", f"starts; rnncourse {report['version']} ({report['python']})")
        if report.get("png_bytes", 0) > 100:
            ok("plots", f"matplotlib draws ({report['png_bytes']} byte PNG)")
        else:
            fail("plots", f"matplotlib cannot draw in the kernel ({report.get('mpl_error')}): "
                          "pip install --force-reinstall matplotlib pillow")
        if "ipywidgets" not in report:
            fail("widgets", f"the kernel cannot import ipywidgets ({report.get('ipywidgets_error')}): "
                            "pip install ipywidgets")
        wrong = {k: v for k, v in report["env"].items() if v != "1"}
        threads = report.get("blas_threads")
        if wrong:
            fail("threads", "the course expects one BLAS thread, but your shell sets "
                 + ", ".join(f"{k}={v}" for k, v in wrong.items()) + ": unset them (rnncourse lab sets 1)")
        elif threads and threads != [1]:
            fail("threads", f"BLAS runs {threads} threads although OPENBLAS_NUM_THREADS=1: "
                            "set it before Python starts (rnncourse lab does)")
        else:
            ok("threads", "one BLAS thread per kernel"
               + ("" if threads else " (OPENBLAS/MKL/OMP_NUM_THREADS=1)"))
    place = Path(args.dir) if args.dir else None
    if place is None:
        for candidate in (Path(ws.DEFAULT_DIR), Path(".")):
            if (candidate / ws.MANIFEST).is_file():
                place = candidate
                break
    if place is None:
        ok("workspace", f"none yet: rnncourse init  creates ./{ws.DEFAULT_DIR}")
    else:
        manifest = ws.read_manifest(place)
        if manifest is None:
            fail("workspace", f"{place} is not an rnncourse workspace: rnncourse init {place}")
        elif manifest.get("version") != rnncourse.__version__:
            fail("workspace", f"the lessons in {place} are from rnncourse {manifest.get('version')}, "
                              f"the package is {rnncourse.__version__}: rnncourse init {place}  "
                              "(keeps your changes)")
        else:
            ok("workspace", f"{place.resolve()} has the lessons of rnncourse {manifest['version']}")
    if problems:
        print(f"NOT ready: {len(problems)} problem(s), each with what to do above")
        return 1
    print("ready")
    return 0


def _exercises(args):
    from rnncourse.grading.assignments import generate, out_of_sync
    if args.solutions is None:
        raise UsageError("this rnncourse is an installed package without solutions: pass "
                         "--solutions DIR (the solutions/ folder of the course's source) and --out DIR")
    src = Path(args.solutions)
    dst = Path(args.out if args.out is not None else
               (ws.checkout_root() / "exercises" if ws.checkout_root() else "exercises"))
    package = Path(ws.rnncourse.__file__).resolve().parent
    if ws.checkout_root() is None and (dst.resolve() == package or package in dst.resolve().parents):
        raise UsageError(f"--out {dst} is inside the installed package {package}: choose another folder")
    if not src.is_dir() or not any(src.glob("ex*.ipynb")):
        raise UsageError(f"--solutions {src}: no solution notebooks (ex*.ipynb) there")
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
    p = sub.add_parser("init", help="create or update your workspace (never overwrites your changes)")
    p.add_argument("dir", nargs="?", default=ws.DEFAULT_DIR,
                   help=f"workspace folder (default {ws.DEFAULT_DIR})")
    p.set_defaults(fn=_init)
    p = sub.add_parser("lab", help="open JupyterLab in your workspace on the welcome notebook")
    p.add_argument("dir", nargs="?", default=ws.DEFAULT_DIR)
    p.add_argument("extra", nargs=argparse.REMAINDER, help="more arguments for jupyter lab")
    p.set_defaults(fn=_lab)
    p = sub.add_parser("doctor", help="check that this machine can run the course")
    p.add_argument("dir", nargs="?", help=f"workspace to check (default ./{ws.DEFAULT_DIR} if it exists)")
    p.set_defaults(fn=_doctor)
    p = sub.add_parser("release", help="write the student bundle (lessons, exercises; no solutions)")
    p.add_argument("--out", required=True, help="folder to write (e.g. a git repository for nbgitpuller)")
    p.set_defaults(fn=_release)
    p = sub.add_parser("link", help="print nbgitpuller, Binder and Colab links")
    p.add_argument("--hub", help="your JupyterHub, e.g. https://hub.example.edu")
    p.add_argument("--repo", required=True, help="git repository of the student bundle (https URL)")
    p.add_argument("--branch", default="main")
    p.add_argument("--path", default=ws.WELCOME, help=f"notebook to open (default {ws.WELCOME})")
    p.set_defaults(fn=_link)
    p = sub.add_parser("exercises", help="generate exercises/ from solutions/")
    p.add_argument("--solutions", default=None if ws.solutions_dir() is None else str(ws.solutions_dir()),
                   help="solution notebooks (default: the checkout's solutions/)")
    p.add_argument("--out", default=None, help="where to write (default: the checkout's exercises/, "
                   "or ./exercises for an installed package)")
    p.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date")
    p.set_defaults(fn=_exercises)
    p = sub.add_parser("grade", help="grade submitted exercise notebooks")
    p.add_argument("paths", nargs="*", help="notebooks or folders of notebooks (with --merge: shard folders)")
    p.add_argument("--out", required=True, help="folder for grades.csv and feedback/")
    p.add_argument("--jobs", type=int, default=2, help="kernels run side by side (default 2)")
    p.add_argument("--shard", type=_shard, help="grade only slice I of N (1-based), e.g. 3/10")
    p.add_argument("--merge", action="store_true", help="merge shard outputs found in PATHS into --out")
    p.add_argument("--seed", type=int, help="seed of the hidden inputs (default: drawn now; recorded)")
    p.add_argument("--timeout", type=int, default=LIMITS.cell_timeout,
                   help=f"seconds per cell (default {LIMITS.cell_timeout})")
    p.add_argument("--mem-mb", type=int, default=LIMITS.mem_mb,
                   help=f"memory limit per kernel (default {LIMITS.mem_mb} MB)")
    p.add_argument("--cpu-s", type=int, default=LIMITS.cpu_s,
                   help=f"CPU-time limit per kernel (default {LIMITS.cpu_s} s)")
    p.add_argument("--templates", help="folder of exercise templates (default: the course's exercises/)")
    p.add_argument("--sandbox", choices=("bwrap", "audit"), default="bwrap",
                   help="bwrap (default): every kernel in a bubblewrap sandbox; audit: a Python audit hook "
                        "only, for a trusted class where bubblewrap cannot be installed (written into grades.csv)")
    p.set_defaults(fn=_grade)
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv[:1] == ["lab"]:
            # everything after "lab [DIR]" goes to jupyter lab untouched
            # (argparse would reject "--no-browser")
            d, extra = _lab_argv(argv[1:])
            return _lab(argparse.Namespace(dir=d, extra=extra))
        args = ap.parse_args(argv)
        if args.cmd == "grade" and not args.merge and args.templates is None:
            args.templates = str(ws.templates_dir())   # the checkout's or the installed package's
        return args.fn(args)
    except (UsageError, ws.CourseNotFound, FileNotFoundError, NotADirectoryError) as exc:
        print(f"rnncourse {argv[0] if argv else ''}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
