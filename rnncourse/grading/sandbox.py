"""Launch an IPython kernel inside a small sandbox (used by the grader, never by students).

``python -m rnncourse.grading.sandbox --root DIR --mem-mb M --cpu-s S -f CONNECTION_FILE``

* resource limits: address space (``RLIMIT_AS``), CPU seconds (``RLIMIT_CPU``; the kernel is
  killed when it runs out), file size (``RLIMIT_FSIZE``), no core dumps;
* ``HOME``, ``TMPDIR``, IPython/Jupyter/matplotlib folders all point into ``DIR``; the working
  directory is ``DIR/work``; BLAS runs on one thread (the grader runs kernels side by side);
* an audit hook (which Python code cannot remove) refuses to create, modify or delete files outside
  ``DIR`` and refuses to start processes, and records every refusal in ``DIR/violations.log``.

This is a safety net against accidents and casual tampering, not a security boundary against a
determined attacker (native code can bypass audit hooks); run the grader as an unprivileged user
or in a container for that. Correctness never depends on it: results are compared outside.
"""
import argparse
import os
import resource
import sys

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {"os.remove": 0, "os.rmdir": 0, "os.mkdir": 0, "os.rename": (0, 1), "os.replace": (0, 1),
                "os.symlink": (0, 1), "os.link": (0, 1), "os.truncate": 0, "os.chmod": 0, "os.chown": 0,
                "shutil.rmtree": 0, "shutil.copyfile": 1, "shutil.move": 1, "os.utime": 0}
_PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                   "os.forkpty", "pty.spawn", "os.kill", "os.killpg"}


def _set_limits(mem_mb, cpu_s, fsize_mb):
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
        except TypeError:                     # a file descriptor: already open, fine
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
            writing = (mode is not None and any(c in str(mode) for c in "wax+")) or \
                      (mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS)
            if writing and not inside(path):
                refuse("writing outside the working directory", path)
        elif event in _PATH_EVENTS:
            idx = _PATH_EVENTS[event]
            for i in (idx if isinstance(idx, tuple) else (idx,)):
                if i < len(args) and isinstance(args[i], (str, bytes, os.PathLike)) and not inside(args[i]):
                    refuse(f"{event} outside the working directory", args[i])
        elif event in _PROCESS_EVENTS:
            if event in ("os.kill", "os.killpg") and args and args[0] == kernel_pid:
                return                        # interrupting itself is what ipykernel does
            refuse(f"starting or signalling a process ({event})", args[0] if args else "")

    sys.addaudithook(hook)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--mem-mb", type=int, default=2048)
    ap.add_argument("--cpu-s", type=int, default=300)
    ap.add_argument("--fsize-mb", type=int, default=256)
    ap.add_argument("-f", dest="connection_file", required=True)
    a = ap.parse_args(argv)
    root = os.path.realpath(a.root)
    env = {"HOME": os.path.join(root, "home"), "TMPDIR": os.path.join(root, "tmp"),
           "IPYTHONDIR": os.path.join(root, "home", ".ipython"),
           "JUPYTER_RUNTIME_DIR": os.path.join(root, "runtime"), "MPLCONFIGDIR": os.path.join(root, "mpl"),
           "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
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
    log_fd = os.open(os.path.join(root, "violations.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    # Import what every kernel needs before the limits apply (the imports themselves are trusted).
    import numpy  # noqa: F401
    import rnncourse.nn  # noqa: F401
    from ipykernel import kernelapp
    import platform
    platform.uname().processor   # computed lazily with a subprocess: do it before the hook
    platform.processor()
    _set_limits(a.mem_mb, a.cpu_s, a.fsize_mb)
    _install_hook(root, log_fd)
    sys.argv = [sys.argv[0], "-f", a.connection_file, "--HistoryManager.enabled=False"]
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
