"""Run a grading kernel inside an operating-system sandbox (used by the grader, never by students).

Two modes; the grader picks one per batch and writes it into the gradebook.

``bwrap`` (the default): the kernel runs under bubblewrap (``/usr/bin/bwrap``, Debian package
``bubblewrap``). It gets its own mount, PID, network, IPC and UTS namespaces and sees only:

* the system's programs and libraries read-only (``/usr`` and the Python installation);
* a *stripped view* of ``rnncourse`` (``build_package_view``) mounted read-only over the real
  package folder: every function the exercise asks the student to write has its body replaced by
  ``raise NotImplementedError``, so no import route, ``exec`` of the source file or public API
  (``get_cell('rnn').forward``, ``rnncourse.textgen.temperature_probs``, ...) reaches a reference;
* its own scratch folder (read-write), which also holds its connection file and its IPC sockets;
* an empty private ``/tmp``, ``/dev/shm`` and home; a minimal environment (``--clearenv``).

Other submissions, the grader's ``--out``, the grader's home and environment are simply not in the
sandbox. ``--die-with-parent`` and the PID namespace end every process the kernel started (double
fork, ``setsid``, ``ctypes``) when the kernel ends. All capabilities are dropped; when the grader
runs as root the kernel also switches to a user id of its own (``fresh_kernel_uid``, from a range
no account uses), so that the process-count limit applies (the kernel does not apply it to root)
and counts only that kernel's processes, not its neighbours'. Inside, resource limits still apply: address
space, CPU seconds, file size, number of processes, no core dumps.

``audit`` (only when asked for, ``--sandbox=audit``): the older safety net without any operating
system isolation: the same rlimits plus a Python audit hook that refuses writes outside the
scratch folder and new processes. Native code can bypass it; use it only where bubblewrap cannot
be installed and every student is trusted not to attack the grader.

``python -m rnncourse.grading.sandbox --root DIR [--audit] --mem-mb M --cpu-s S -f CONNECTION_FILE``
is the process started (inside ``bwrap`` in the default mode).
"""

import argparse
import os
import resource
import sys

from rnncourse.grading.limits import DEFAULT

BWRAP = "/usr/bin/bwrap"
NOBODY = 65534
# One BLAS thread per kernel, set in the environment the kernel *starts* with: ``python -m
# rnncourse.grading.sandbox`` imports NumPy (through ``rnncourse.grading``) before ``main`` runs,
# and OpenBLAS reads these only when it loads. With one thread per core, every idle OpenBLAS worker
# spins on the other core after each product: ex7's training took 4-6 times longer in the kernel
# than outside it, and two kernels side by side fought over both cores.
THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# Each kernel (grader running as root) gets a user id of its own from this range, which no account
# on the machine uses, so the per-user process limit of one kernel cannot starve another.
KERNEL_UID_RANGE = (2_000_000_000, 2_100_000_000)


def fresh_kernel_uid():
    """A random user id for one kernel, from ``KERNEL_UID_RANGE``."""
    import secrets

    lo, hi = KERNEL_UID_RANGE
    return lo + secrets.randbelow(hi - lo)


INSTALL_HINT = (
    "bubblewrap is not installed, and the grader runs every kernel inside it. Install it with "
    "`sudo apt-get install bubblewrap` (Debian/Ubuntu), `sudo dnf install bubblewrap` (Fedora) "
    "or your system's package, then grade again. Without it, `--sandbox=audit` grades with a "
    "Python audit hook only, which native code can bypass: use that only for a trusted class."
)

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {
    "os.remove": 0,
    "os.rmdir": 0,
    "os.mkdir": 0,
    "os.rename": (0, 1),
    "os.replace": (0, 1),
    "os.symlink": (0, 1),
    "os.link": (0, 1),
    "os.truncate": 0,
    "os.chmod": 0,
    "os.chown": 0,
    "shutil.rmtree": 0,
    "shutil.copyfile": 1,
    "shutil.move": 1,
    "os.utime": 0,
}
_PROCESS_EVENTS = {
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "pty.spawn",
    "os.kill",
    "os.killpg",
}


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


# ------------------------------------------------------------------------- grader side: bwrap


def check_bwrap():
    """Raise ``SandboxUnavailable`` (with how to install it) unless bwrap can start a process."""
    import subprocess

    if not os.access(BWRAP, os.X_OK):
        raise SandboxUnavailable(INSTALL_HINT)
    try:
        r = subprocess.run(
            bwrap_argv("/nonexistent-scratch", None, None, probe=True) + ["/bin/true"],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bubblewrap is installed but could not start a process: {exc}") from None
    if r.returncode != 0:
        raise SandboxUnavailable(
            "bubblewrap is installed but could not create a sandbox here "
            f"({r.stderr.decode(errors='replace').strip()[:300]}). Unprivileged user "
            "namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1), "
            "or the container forbids them (run it with --security-opt seccomp=unconfined "
            "or grade on the host)."
        )


def _python_roots():
    roots = []
    for p in (
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))),
    ):
        p = os.path.realpath(p)
        if p not in roots and p != "/" and not p.startswith("/usr/"):
            roots.append(p)
    return roots


def package_dir():
    import rnncourse

    return os.path.dirname(os.path.realpath(rnncourse.__file__))


def _crossable(path):
    """bwrap options that create the folders above ``path`` (mount points only) with mode 0755,
    so that a kernel running as ``nobody`` can reach ``path``."""
    parents, p = [], os.path.dirname(str(path))
    while p not in ("/", ""):
        parents.append(p)
        p = os.path.dirname(p)
    out = []
    for p in reversed(parents):
        if p not in ("/usr", "/tmp", "/dev", "/proc"):
            out += ["--perms", "0755", "--dir", p]
    return out


def bwrap_argv(scratch, view, pkg_dir, probe=False):
    """The ``bwrap`` command line for one kernel (everything before the program to run).

    ``scratch`` is bound read-write at the same path (the connection file and IPC sockets that
    jupyter_client creates there keep their names); ``view`` (the stripped package) is bound
    read-only over ``pkg_dir``."""
    as_root = os.geteuid() == 0
    a = [
        BWRAP,
        "--die-with-parent",
        "--new-session",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--cap-drop",
        "ALL",
    ]
    if as_root:
        # real root: no user namespace (it would map the kernel to uid 0, which the process-count
        # limit ignores); the kernel drops to ``nobody`` itself, keeping only these two capabilities
        # until then
        a += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        a += ["--unshare-user"]
    a += ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin", "lib32", "libx32"):
        target = os.path.join("/", link)
        if os.path.islink(target):
            a += ["--symlink", os.readlink(target), target]
        elif os.path.isdir(target):
            a += ["--ro-bind", target, target]
    for f in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf"):
        if os.path.exists(f):
            a += ["--ro-bind", f, f]
    # private, size-capped memory file systems (a tmpfs lives in the host's RAM); mounted before
    # the Python installation, which may live under /tmp or /home
    a += ["--proc", "/proc", "--dev", "/dev"]
    # /tmp, /dev/shm and /var/tmp are world-writable with the sticky bit, as on any Linux system
    # (the kernel runs as its own unprivileged user, so a root-owned 0755 tmpfs refused its files)
    for mnt, mb, mode in (
        ("/tmp", 256, "1777"),
        ("/dev/shm", 64, "1777"),
        ("/home", 16, "0755"),
        ("/run", 4, "0755"),
        ("/var/tmp", 16, "1777"),
    ):
        a += ["--perms", mode, "--size", str(mb * 1024 * 1024), "--tmpfs", mnt]
    for r in _python_roots():
        a += _crossable(r) + ["--ro-bind", r, r]
    if view:
        a += _crossable(pkg_dir) + ["--ro-bind", str(view), str(pkg_dir)]
    if not probe:
        a += _crossable(scratch)
        a += ["--bind", str(scratch), str(scratch), "--chdir", os.path.join(str(scratch), "work")]
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        **THREAD_ENV,
    }
    a += ["--clearenv"]
    for k, v in env.items():
        a += ["--setenv", k, v]
    a += ["--"]
    return a


# ------------------------------------------------------------------- the stripped package view


def _strip_source(source, names, note):
    """``source`` with the body of every top-level function (and method) in ``names`` replaced by
    ``raise NotImplementedError``; docstrings and signatures are kept."""
    import ast

    tree = ast.parse(source)
    hit = set()

    class Strip(ast.NodeTransformer):
        def visit_FunctionDef(self, node):
            if node.name in names:
                hit.add(node.name)
                keep = (
                    node.body[:1]
                    if (
                        node.body
                        and isinstance(node.body[0], ast.Expr)
                        and isinstance(getattr(node.body[0], "value", None), ast.Constant)
                        and isinstance(node.body[0].value.value, str)
                    )
                    else []
                )
                node.body = keep + [ast.parse(f"raise NotImplementedError({note!r})").body[0]]
                node.decorator_list = [
                    d
                    for d in node.decorator_list
                    if not (isinstance(d, ast.Name) and d.id in ("lru_cache", "cache"))
                ]
                return node
            return self.generic_visit(node)

        visit_AsyncFunctionDef = visit_FunctionDef

    tree = Strip().visit(tree)
    if not hit:
        return source, hit
    return (
        "# rnncourse grading copy: the functions graded in this exercise have no implementation here.\n"
        + ast.unparse(ast.fix_missing_locations(tree))
        + "\n"
    ), hit


def build_package_view(dest, strip_names, src=None):
    """Copy the ``rnncourse`` package (``src``, default: the installed one) to ``dest`` with the
    functions in ``strip_names`` emptied wherever they are defined. Files are world-readable (the
    kernel may run as ``nobody``). Returns ``{relative file: [stripped names]}``."""
    import shutil

    src = src or package_dir()
    from rnncourse.grading._driver import STRIPPED_NOTE

    note = f"{STRIPPED_NOTE}: write this function yourself"
    shutil.copytree(
        src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"), symlinks=False
    )
    stripped = {}
    # "lm.py:generate" strips ``generate`` in that file only (a name that is common elsewhere)
    everywhere = {n for n in strip_names if ":" not in n}
    in_file = {}
    for n in strip_names:
        if ":" in n:
            rel, name = n.rsplit(":", 1)
            in_file.setdefault(os.path.normpath(rel), set()).add(name)
    for dirpath, _dirnames, filenames in os.walk(dest):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            full = os.path.join(dirpath, f)
            os.chmod(full, 0o644)
            if not f.endswith(".py"):
                continue
            names = everywhere | in_file.get(os.path.relpath(full, dest), set())
            with open(full, encoding="utf-8") as fh:
                text = fh.read()
            if not any(n in text for n in names):
                continue
            new, hit = _strip_source(text, names, note)
            if hit:
                with open(full, "w", encoding="utf-8") as fh:
                    fh.write(new)
                stripped[os.path.relpath(full, dest)] = sorted(hit)
    # Byte code of the copy, compiled from the stripped sources (none came from ``src``): kernels
    # may not write it (read-only mount, PYTHONDONTWRITEBYTECODE), so each would compile every
    # module it imports again.
    import compileall

    compileall.compile_dir(str(dest), quiet=2, workers=1)
    for dirpath, _dirnames, filenames in os.walk(dest):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)
    return stripped


# ---------------------------------------------------------------------- kernel side (inside)


def _set_limits(mem_mb, cpu_s, fsize_mb, nproc):
    def lim(what, value):
        try:
            resource.setrlimit(what, (value, value))
        except (ValueError, OSError):
            pass

    if mem_mb:
        lim(resource.RLIMIT_AS, mem_mb * 1024 * 1024)
    if cpu_s:
        soft = int(cpu_s)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 2))
        except (ValueError, OSError):
            pass
    if fsize_mb:
        lim(resource.RLIMIT_FSIZE, fsize_mb * 1024 * 1024)
    if nproc:
        lim(resource.RLIMIT_NPROC, nproc)
    lim(resource.RLIMIT_CORE, 0)


def _install_hook(root, log_fd):
    root = os.path.realpath(root) + os.sep
    allowed_devices = ("/dev/null", "/dev/tty", "/dev/shm/")
    realpath, fspath, write, getpid = os.path.realpath, os.fspath, os.write, os.getpid
    kernel_pid = getpid()

    def inside(path):
        try:
            p = fspath(path)
            if isinstance(p, bytes):
                p = p.decode(errors="replace")
        except TypeError:  # a file descriptor: already open, fine
            return True
        full = realpath(p)
        return (full + os.sep).startswith(root) or full.startswith(allowed_devices)

    def refuse(what, detail):
        try:
            write(log_fd, f"{what}\t{detail}\n".encode(errors="replace")[:2000])
        except OSError:
            pass
        raise PermissionError(f"rnncourse grading sandbox: {what} is not allowed ({detail})")

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            writing = (mode is not None and any(c in str(mode) for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing and not inside(path):
                refuse("writing outside the working directory", path)
        elif event in _PATH_EVENTS:
            idx = _PATH_EVENTS[event]
            for i in idx if isinstance(idx, tuple) else (idx,):
                if i < len(args) and isinstance(args[i], (str, bytes, os.PathLike)) and not inside(args[i]):
                    refuse(f"{event} outside the working directory", args[i])
        elif event in _PROCESS_EVENTS:
            if event in ("os.kill", "os.killpg") and args and args[0] == kernel_pid:
                return  # interrupting itself is what ipykernel does
            refuse(f"starting or signalling a process ({event})", args[0] if args else "")

    sys.addaudithook(hook)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--audit", action="store_true", help="no OS sandbox around us: install the audit hook")
    ap.add_argument("--mem-mb", type=int, default=DEFAULT.mem_mb)
    ap.add_argument("--cpu-s", type=int, default=DEFAULT.cpu_s)
    ap.add_argument("--fsize-mb", type=int, default=DEFAULT.fsize_mb)
    ap.add_argument("--nproc", type=int, default=DEFAULT.nproc)
    ap.add_argument("--uid", type=int, default=NOBODY, help="the user the kernel becomes (as root)")
    ap.add_argument("-f", dest="connection_file", required=True)
    a = ap.parse_args(argv)
    root = os.path.realpath(a.root)
    connection_file = a.connection_file
    if not a.audit and os.getuid() == 0:
        # inside bwrap as real root: read our connection file (written by the grader, mode 0600)
        # and become nobody, which also drops the last two capabilities
        with open(connection_file, "rb") as fh:
            conn = fh.read()
        os.setgroups([])
        os.setgid(a.uid)
        os.setuid(a.uid)
        connection_file = os.path.join(root, "runtime", f"kernel-{os.getpid()}-{os.urandom(4).hex()}.json")
        os.makedirs(os.path.dirname(connection_file), exist_ok=True)
        fd = os.open(connection_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(conn)
    env = {
        "HOME": os.path.join(root, "home"),
        "TMPDIR": os.path.join(root, "tmp"),
        "IPYTHONDIR": os.path.join(root, "home", ".ipython"),
        "JUPYTER_RUNTIME_DIR": os.path.join(root, "runtime"),
        "MPLCONFIGDIR": os.path.join(root, "mpl"),
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    for k, v in env.items():
        os.environ[k] = v
        if k in ("HOME", "TMPDIR", "JUPYTER_RUNTIME_DIR", "MPLCONFIGDIR"):
            os.makedirs(v, exist_ok=True)
    import tempfile

    tempfile.tempdir = env["TMPDIR"]
    work = os.path.join(root, "work")
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    sys.dont_write_bytecode = True
    # Import what every kernel needs before the limits apply (the imports themselves are trusted).
    # Not the debugger: ipykernel loads debugpy at start when it can (0.1 s of CPU, a quarter of a
    # kernel's start), and nobody debugs a grading kernel.
    sys.modules["debugpy"] = None
    import platform

    import numpy  # noqa: F401
    from ipykernel import kernelapp

    import rnncourse.nn  # noqa: F401

    _ = platform.uname().processor  # computed lazily with a subprocess: do it before the limits
    platform.processor()
    # the process-count limit only means something for a non-root user of our own (see module doc)
    _set_limits(a.mem_mb, a.cpu_s, a.fsize_mb, a.nproc if (not a.audit and os.getuid() == a.uid) else 0)
    if a.audit:
        log_fd = os.open(os.path.join(root, "violations.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _install_hook(root, log_fd)
    sys.argv = [sys.argv[0], "-f", connection_file, "--HistoryManager.enabled=False"]
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
