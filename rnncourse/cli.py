"""The ``rnncourse`` command (also ``python -m rnncourse``).

Students:
    rnncourse init [--lang zh] [DIR]   copy the lessons and exercises into DIR (default
                                       ./rnncourse-workspace); run it again after an update:
                                       a file you changed is never overwritten. --lang zh: the
                                       Chinese edition (default: RNNCOURSE_LANG, else your locale)
    rnncourse lab [--lang zh] [DIR] [JUPYTER ARGS]
                                       open JupyterLab in the workspace on the welcome notebook;
                                       check() feedback in the workspace's language
    rnncourse doctor [DIR]             is this machine ready to run the course? (one line per problem)
Instructors:
    rnncourse release --out DIR [--lang zh]   write the student bundle (lessons, exercises, no solutions)
    rnncourse link --hub URL --repo URL [--branch B]   nbgitpuller, Binder and Colab links
    rnncourse grade SUBMISSION... --out DIR [--jobs 2] [--shard I/N] [--seed S] [--timeout 30]
                                       [--sandbox bwrap|audit]
    rnncourse grade --merge SHARD_DIR... --out DIR
    rnncourse grade --resume --out DIR     finish a run that Ctrl-C or SIGTERM stopped
Maintainers (in a source checkout):
    rnncourse exercises                generate exercises/ from solutions/ (never overwrites edits)
    rnncourse exercises --check        exit 1 if exercises/ is out of date
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rnncourse import messages
from rnncourse import workspace as ws
from rnncourse.grading.limits import DEFAULT as LIMITS
from rnncourse.messages import _, ngettext

ROOT = Path(__file__).resolve().parents[1]


class UsageError(Exception):
    """A problem the user can fix; main() prints it as one line and exits 2."""


def _summary(actions):
    counts = {
        a: sum(1 for _rel, x in actions if x == a)
        for a in ("written", "updated", "unchanged", "beside", "kept")
    }
    counts["beside"] += counts.pop("kept")
    return _(
        "{written} written, {updated} updated, {unchanged} unchanged, {beside} of your changed files "
        "kept (new version beside)"
    ).format(**counts)


def _lang_arg(value):
    """``--lang``: a language the course has (``zh``, ``en``; ``zh_CN`` is read as ``zh``)."""
    try:
        return messages.normalize(value, "--lang")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _inside_workspace(dir_arg):
    """``rnncourse init`` / ``lab`` with no folder, run from inside a workspace, mean that workspace
    (not a second one nested in it)."""
    here = Path.cwd()
    if dir_arg == ws.DEFAULT_DIR and not (here / dir_arg).exists() and (here / ws.MANIFEST).is_file():
        return True
    return False


def _init(args):
    nested = _inside_workspace(args.dir)
    if nested:
        args.dir = "."
    target = Path(args.dir)
    lang = ws.workspace_language(target, args.lang)
    with messages.using(lang):  # this command's own lines in the workspace's language too
        if nested:
            print(_("you are inside a workspace: updating this one (not making a new one inside it)"))
        actions = ws.sync(target, lang=lang)
        print(_("workspace {path}: {summary}").format(path=target.resolve(), summary=_summary(actions)))
        print(_("open it with:  rnncourse lab {dir}").format(dir=args.dir))
    return 0


def _release(args):
    target = Path(args.out)
    actions = ws.sync(target, lang=args.lang)
    print(
        _("student bundle in {path}: {summary} (no solutions)").format(
            path=target.resolve(), summary=_summary(actions)
        )
    )
    return 0


def _lab_argv(rest):
    """``lab [--lang L] [DIR] [jupyter args]``: ``--lang L`` (or ``--lang=L``) anywhere before a
    ``--`` is ours; a first remaining argument that is not an option is the workspace.
    Returns ``(dir, lang or None, jupyter args)``."""
    lang, kept, i = None, [], 0
    while i < len(rest):
        a = rest[i]
        if a == "--":
            kept += rest[i + 1 :]
            break
        if a == "--lang" or a.startswith("--lang="):
            value = a.split("=", 1)[1] if "=" in a else (rest[i + 1] if i + 1 < len(rest) else None)
            if value is None:
                raise UsageError(_("--lang needs a value, e.g. --lang zh"))
            try:
                lang = messages.normalize(value, "--lang")
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            i += 1 if "=" in a else 2
            continue
        kept.append(a)
        i += 1
    if kept and not kept[0].startswith("-"):
        return kept[0], lang, kept[1:]
    return ws.DEFAULT_DIR, lang, kept


def _lab_notes(args, target, manifest, lang):
    if manifest is None:
        actions = ws.sync(target, lang=lang)
        print(_("created the workspace {path}: {summary}").format(path=target, summary=_summary(actions)))
        return
    if manifest.get("version") != ws.rnncourse.__version__:
        print(
            _(
                "the lessons in {path} are from rnncourse {old}, this is {new}: run  rnncourse init {dir}  "
                "to update (your changes are kept)"
            ).format(path=target, old=manifest.get("version"), new=ws.rnncourse.__version__, dir=args.dir)
        )
    if manifest.get("lang", "en") != lang:
        print(
            _(
                "the lessons in {path} are in {old}; check() feedback will be in {new}. For the lessons in "
                "{new} too: rnncourse init --lang {new} {dir}"
            ).format(path=target, old=manifest.get("lang", "en"), new=lang, dir=args.dir)
        )


def _lab(args):
    import subprocess

    target = Path(args.dir).resolve()
    manifest = ws.read_manifest(target)
    lang = ws.workspace_language(target, getattr(args, "lang", None))
    with messages.using(lang):
        _lab_notes(args, target, manifest, lang)
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={target}"]
    if not any(a.startswith("--ServerApp.default_url") or not a.startswith("-") for a in args.extra):
        cmd.append(ws.WELCOME)  # a path relative to the root: JupyterLab opens it on start
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args.extra:
        cmd.append("--allow-root")  # e.g. in a container; Jupyter refuses to run as root otherwise
    # Stopping this wrapper (SIGTERM from a process manager, SIGHUP from a closed terminal) must
    # stop JupyterLab too, or the server keeps its port: raising here makes subprocess.call end the
    # child (and JupyterLab's kernels exit with their parent).
    import signal

    def _stop(signum, frame):
        raise SystemExit(128 + signum)

    import threading

    # (signal handlers can only be set in the main thread, e.g. not when a test calls main() from another)
    in_main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGHUP)} if in_main else {}
    try:
        return subprocess.call(cmd + list(args.extra), cwd=target, env=ws.course_env(lang=lang))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _link(args):
    try:
        found = ws.links(args.repo, hub=args.hub, branch=args.branch, path=args.path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for name, url in found:
        print(f"{name:<12} {url}")
    if not found:
        raise UsageError(_("no link to print: give --hub, or a https://github.com/OWNER/NAME --repo"))
    if any(name == "colab" for name, _url in found):
        print(
            _(
                "(colab: each notebook must run  !pip install rnncourse  first; on a hub the "
                "single-user image needs  pip install rnncourse; binder installs it from binder/)"
            )
        )
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

    km, kc = start_new_kernel(
        kernel_name="python3",
        env=ws.course_env(),
        startup_timeout=timeout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        lines = []
        kc.execute_interactive(
            _KERNEL_PROBE,
            timeout=timeout,
            output_hook=lambda msg: lines.append(
                msg["content"].get("text", "") if msg["msg_type"] == "stream" else ""
            ),
        )
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
        return (
            "JupyterLab has no ipywidgets front end (sliders would not show): "
            "pip install --force-reinstall jupyterlab_widgets"
        )
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
        print(f"{_('ok'):<7} {what:<9} {detail}")

    def fail(what, todo):
        print(f"{_('PROBLEM'):<7} {what:<9} {todo}")
        problems.append(what)

    ok("python", f"{platform.python_version()} ({sys.executable})")
    try:
        files = ws.bundle_files()
        lessons = sorted(p for p in files if p.startswith("notebooks/") and p.endswith(".ipynb"))
        exercises = sorted(p for p in files if p.startswith("exercises/") and p.endswith(".ipynb"))
        if not exercises:
            fail(
                "lessons",
                _("no exercise notebooks in {path}: reinstall rnncourse").format(
                    path=ws.course_root() / "exercises"
                ),
            )
        else:
            ok(
                "lessons",
                _("{lessons} lessons, {exercises} exercises in {path}").format(
                    lessons=len(lessons), exercises=len(exercises), path=ws.course_root()
                ),
            )
    except ws.CourseNotFound as exc:
        fail("lessons", f"{exc}")
    todo = _widgets_frontend()
    if todo:
        fail("widgets", todo)
    else:
        ok("widgets", _("the ipywidgets front end is installed in JupyterLab"))
    try:
        meta = importlib.metadata.version("rnncourse")
    except importlib.metadata.PackageNotFoundError:
        meta = None
    if meta != rnncourse.__version__:
        fail(
            "version",
            _(
                "rnncourse {imported} is imported but pip has {installed} installed: reinstall it "
                "(pip install -e . in a "
                "checkout)"
            ).format(imported=rnncourse.__version__, installed=meta),
        )
    report = None
    try:
        report = _probe_kernel()
    except Exception as exc:
        fail(
            "kernel",
            _("a python3 kernel does not start ({error}): {python} -m ipykernel install --user").format(
                error=f"{type(exc).__name__}: {str(exc)[:120]}", python=sys.executable
            ),
        )
    if report is not None:
        if "version" not in report:
            fail(
                "kernel",
                _(
                    "the python3 kernel ({kernel}) cannot import rnncourse: {python} -m ipykernel "
                    "install --user  makes "
                    "it use this Python"
                ).format(kernel=report["python"], python=sys.executable),
            )
        elif report["version"] != rnncourse.__version__:
            fail(
                "kernel",
                _(
                    "the python3 kernel ({kernel}) has rnncourse {kernel_version}, this command "
                    "{version}: {python} -m ipykernel install --user"
                ).format(
                    kernel=report["python"],
                    kernel_version=report["version"],
                    version=rnncourse.__version__,
                    python=sys.executable,
                ),
            )
        else:
            ok(
                "kernel",
                _("starts; rnncourse {version} ({kernel})").format(
                    version=report["version"], kernel=report["python"]
                ),
            )
        if report.get("png_bytes", 0) > 100:
            ok("plots", _("matplotlib draws ({size} byte PNG)").format(size=report["png_bytes"]))
        else:
            fail(
                "plots",
                _(
                    "matplotlib cannot draw in the kernel ({error}): pip install --force-reinstall "
                    "matplotlib pillow"
                ).format(error=report.get("mpl_error")),
            )
        if "ipywidgets" not in report:
            fail(
                "widgets",
                _("the kernel cannot import ipywidgets ({error}): pip install ipywidgets").format(
                    error=report.get("ipywidgets_error")
                ),
            )
        wrong = {k: v for k, v in report["env"].items() if v != "1"}
        threads = report.get("blas_threads")
        if wrong:
            fail(
                "threads",
                _(
                    "the course expects one BLAS thread, but your shell sets {variables}: unset "
                    "them "
                    "(rnncourse "
                    "lab sets "
                    "1)"
                ).format(variables=", ".join(f"{k}={v}" for k, v in wrong.items())),
            )
        elif threads and threads != [1]:
            fail(
                "threads",
                _(
                    "BLAS runs {threads} threads although OPENBLAS_NUM_THREADS=1: set it before "
                    "Python starts (rnncourse lab does)"
                ).format(threads=threads),
            )
        else:
            ok(
                "threads",
                _("one BLAS thread per kernel") + ("" if threads else " (OPENBLAS/MKL/OMP_NUM_THREADS=1)"),
            )
    place = Path(args.dir) if args.dir else None
    if place is None:
        for candidate in (Path(ws.DEFAULT_DIR), Path(".")):
            if (candidate / ws.MANIFEST).is_file():
                place = candidate
                break
    if place is None:
        ok("workspace", _("none yet: rnncourse init  creates ./{dir}").format(dir=ws.DEFAULT_DIR))
    else:
        manifest = ws.read_manifest(place)
        if manifest is None:
            fail(
                "workspace",
                _("{path} is not an rnncourse workspace: rnncourse init {path}").format(path=place),
            )
        elif manifest.get("version") != rnncourse.__version__:
            fail(
                "workspace",
                _(
                    "the lessons in {path} are from rnncourse {old}, the package is {new}: "
                    "rnncourse init {path}  (keeps your changes)"
                ).format(path=place, old=manifest.get("version"), new=rnncourse.__version__),
            )
        else:
            ok(
                "workspace",
                _("{path} has the lessons of rnncourse {version}").format(
                    path=place.resolve(), version=manifest["version"]
                ),
            )
    if problems:
        print(
            ngettext(
                "NOT ready: {n} problem, with what to do above",
                "NOT ready: {n} problems, each with what to do above",
                len(problems),
            ).format(n=len(problems))
        )
        return 1
    print(_("ready"))
    return 0


def _exercises(args):
    from rnncourse.grading.assignments import generate, out_of_sync

    if args.solutions is None:
        raise UsageError(
            _(
                "this rnncourse is an installed package without solutions: pass --solutions DIR "
                "(the solutions/ folder of the course's source) and --out DIR"
            )
        )
    src = Path(args.solutions)
    dst = Path(
        args.out
        if args.out is not None
        else (ws.checkout_root() / "exercises" if ws.checkout_root() else "exercises")
    )
    package = Path(ws.rnncourse.__file__).resolve().parent
    if ws.checkout_root() is None and (dst.resolve() == package or package in dst.resolve().parents):
        raise UsageError(
            _("--out {out} is inside the installed package {package}: choose another folder").format(
                out=dst, package=package
            )
        )
    if not src.is_dir() or not any(src.glob("ex*.ipynb")):
        raise UsageError(_("--solutions {path}: no solution notebooks (ex*.ipynb) there").format(path=src))
    if args.check:
        bad = out_of_sync(src, dst)
        for name in bad:
            print(f"out of date: {dst / name}")
        return 1 if bad else 0
    actions = generate(src, dst)
    beside = [n for n, a in actions if a == "beside"]
    print(
        f"{sum(a == 'written' for _n, a in actions)} written, {sum(a == 'unchanged' for _n, a in actions)} "
        f"unchanged, {len(beside)} written beside an edited notebook"
    )
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
    # a path, shard or run.json that is not there raises FileNotFoundError: main() reports it
    from rnncourse.grading.grader import Limits, grade, merge, resume

    if args.merge:
        rows, missing = merge(args.paths, args.out)
        print(f"merged {len(rows)} graded notebook(s) into {Path(args.out) / 'grades.csv'}")
        if missing:
            print(f"WARNING: shards missing: {', '.join(missing)}", file=sys.stderr)
            return 1
        return 0
    if args.resume and args.paths:
        print("--resume grades what OUT/run.json lists: give no paths", file=sys.stderr)
        return 2
    if not args.resume and not args.paths:
        print("give at least one notebook or folder to grade", file=sys.stderr)
        return 2
    from rnncourse.grading.sandbox import SandboxUnavailable

    try:
        if args.resume:
            resume(args.out, templates_dir=args.templates, jobs=args.jobs, lang=args.lang)
        else:
            grade(
                args.paths,
                args.out,
                templates_dir=args.templates,
                jobs=args.jobs,
                seed=args.seed,
                limits=Limits(cell_timeout=args.timeout, mem_mb=args.mem_mb, cpu_s=args.cpu_s),
                shard=args.shard,
                sandbox=args.sandbox,
                lang=args.lang,
            )
    except SandboxUnavailable as exc:
        print(f"rnncourse grade: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM (GradingInterrupted)
        if getattr(exc, "written", False):
            print(
                f"rnncourse grade: {exc}; {args.out} holds the gradebook of what was graded and its "
                f"run.json lists the rest (`rnncourse grade --resume --out {args.out}` grades it)",
                file=sys.stderr,
            )
        else:
            print("rnncourse grade: interrupted before grading began; nothing was written", file=sys.stderr)
        return 128 + int(getattr(exc, "signum", None) or 2)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="rnncourse", description="The rnncourse command line.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("init", help=_("create or update your workspace (never overwrites your changes)"))
    p.add_argument(
        "dir",
        nargs="?",
        default=ws.DEFAULT_DIR,
        help=_("workspace folder (default {dir})").format(dir=ws.DEFAULT_DIR),
    )
    p.add_argument(
        "--lang",
        type=_lang_arg,
        default=None,
        help=_(
            "language of the lessons and of check() feedback: en or zh (default: the "
            "workspace's language, else RNNCOURSE_LANG, else your locale)"
        ),
    )
    p.set_defaults(fn=_init)
    p = sub.add_parser("lab", help=_("open JupyterLab in your workspace on the welcome notebook"))
    p.add_argument(
        "--lang",
        type=_lang_arg,
        default=None,
        help=_("language of check() feedback: en or zh (default: the workspace's language)"),
    )
    p.add_argument("dir", nargs="?", default=ws.DEFAULT_DIR)
    p.add_argument("extra", nargs=argparse.REMAINDER, help=_("more arguments for jupyter lab"))
    p.set_defaults(fn=_lab)
    p = sub.add_parser("doctor", help=_("check that this machine can run the course"))
    p.add_argument(
        "dir",
        nargs="?",
        help=_("workspace to check (default ./{dir} if it exists)").format(dir=ws.DEFAULT_DIR),
    )
    p.set_defaults(fn=_doctor)
    p = sub.add_parser("release", help="write the student bundle (lessons, exercises; no solutions)")
    p.add_argument("--out", required=True, help="folder to write (e.g. a git repository for nbgitpuller)")
    p.add_argument(
        "--lang",
        type=_lang_arg,
        default="en",
        help="edition: en (default) or zh; check() in the bundle's notebooks answers in it",
    )
    p.set_defaults(fn=_release)
    p = sub.add_parser("link", help="print nbgitpuller, Binder and Colab links")
    p.add_argument("--hub", help="your JupyterHub, e.g. https://hub.example.edu")
    p.add_argument("--repo", required=True, help="git repository of the student bundle (https URL)")
    p.add_argument("--branch", default="main")
    p.add_argument("--path", default=ws.WELCOME, help=f"notebook to open (default {ws.WELCOME})")
    p.set_defaults(fn=_link)
    p = sub.add_parser("exercises", help="generate exercises/ from solutions/")
    p.add_argument(
        "--solutions",
        default=None if ws.solutions_dir() is None else str(ws.solutions_dir()),
        help="solution notebooks (default: the checkout's solutions/)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="where to write (default: the checkout's exercises/, or ./exercises for an installed package)",
    )
    p.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date")
    p.set_defaults(fn=_exercises)
    p = sub.add_parser("grade", help="grade submitted exercise notebooks")
    p.add_argument("paths", nargs="*", help="notebooks or folders of notebooks (with --merge: shard folders)")
    p.add_argument("--out", required=True, help="folder for grades.csv and feedback/")
    p.add_argument("--jobs", type=int, default=2, help="kernels run side by side (default 2)")
    p.add_argument("--shard", type=_shard, help="grade only slice I of N (1-based), e.g. 3/10")
    p.add_argument(
        "--merge",
        action="store_true",
        help="merge shard outputs, or whole runs' gradebooks, found in PATHS into --out",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="finish a run that Ctrl-C or SIGTERM stopped: grade what OUT/run.json lists as not graded",
    )
    p.add_argument("--seed", type=int, help="seed of the hidden inputs (default: drawn now; recorded)")
    p.add_argument(
        "--timeout",
        type=int,
        default=LIMITS.cell_timeout,
        help=f"seconds per cell (default {LIMITS.cell_timeout})",
    )
    p.add_argument(
        "--mem-mb",
        type=int,
        default=LIMITS.mem_mb,
        help=f"memory limit per kernel (default {LIMITS.mem_mb} MB)",
    )
    p.add_argument(
        "--cpu-s",
        type=int,
        default=LIMITS.cpu_s,
        help=f"CPU-time limit per kernel (default {LIMITS.cpu_s} s)",
    )
    p.add_argument("--templates", help="folder of exercise templates (default: the course's exercises/)")
    p.add_argument(
        "--sandbox",
        choices=("bwrap", "audit"),
        default="bwrap",
        help="bwrap (default): every kernel in a bubblewrap sandbox; audit: a Python audit hook "
        "only, for a trusted class where bubblewrap cannot be installed (written into grades.csv)",
    )
    p.add_argument(
        "--lang",
        type=_lang_arg,
        default=None,
        help="language of every student's feedback: en or zh (default: each notebook's own edition, "
        "as written by rnncourse init --lang); grades.csv stays in English",
    )
    p.set_defaults(fn=_grade)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = None
    try:
        if argv[:1] == ["lab"]:
            # everything after "lab [DIR]" goes to jupyter lab untouched
            # (argparse would reject "--no-browser")
            d, lang, extra = _lab_argv(argv[1:])
            return _lab(argparse.Namespace(dir=d, lang=lang, extra=extra))
        args = ap.parse_args(argv)
        if args.cmd == "grade" and not args.merge and args.templates is None:
            args.templates = str(ws.templates_dir())  # the checkout's or the installed package's
        return args.fn(args)
    except (UsageError, ws.CourseNotFound, FileNotFoundError, NotADirectoryError) as exc:
        with messages.using(getattr(args, "lang", None)):  # --lang zh: the whole line in Chinese
            print(
                _("rnncourse {command}: error: {error}").format(command=argv[0] if argv else "", error=exc),
                file=sys.stderr,
            )
        return 2


if __name__ == "__main__":
    sys.exit(main())
