"""Hostile and broken submissions of exercise 1, and what the grader must make of them.

Each entry: edits (see build.make_notebook), ops, the points expected per task, and phrases that
must appear in the feedback (or the flags column) of that student.
"""

SF = "ex1-rnn-step-forward-solution"
FW = "ex1-rnn-forward-solution"

GOOD_SF = """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h_next, RNNStepCache(x, h_prev, Wx, Wh, h_next)
"""
WRONG_SF = """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_next = np.tanh(x @ Wx + b)                     # forgets the recurrence
    return h_next, None
"""

HOSTILE = {
    "infinite_loop": (
        {
            SF: """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    while True:
        pass
"""
        },
        (),
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        ["timed out"],
    ),
    "stubborn_loop": (
        {
            SF: GOOD_SF
            + """
import time
while True:                                          # swallows the interrupt
    try:
        time.sleep(0.5)
    except KeyboardInterrupt:
        pass
"""
        },
        (),
        # the sequence task is judged with the course's step function (one bug, one task)
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        ["did not respond to an interrupt"],
    ),
    "os_exit": (
        {FW: "import os\nos._exit(3)\n"},
        (),
        {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 0},
        ["kernel died"],
    ),
    "memory_bomb": (
        {
            SF: GOOD_SF
            + "def _bomb():\n    chunks = []\n    while True:\n        chunks.append(np.empty(10**7))\n_bomb()\n"
        },
        (),
        {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 3},
        ["MemoryError"],
    ),
    "redefined_check": (
        {
            SF: WRONG_SF
            + """
def check(*args, **kwargs):
    print("PASS: all tests passed")
    return True
import rnncourse.grading
rnncourse.grading.check = check
"""
        },
        (),
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        ["recurrent term"],
    ),
    "patched_allclose": (
        {
            SF: WRONG_SF
            + """
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
"""
        },
        (),
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        ["recurrent term"],
    ),
    "edited_and_deleted": (
        {
            FW: None,
            "ex1-setup": "import numpy as np\nfrom rnncourse.nn import RNNStepCache\n"
            "from rnncourse.nn import rnn_forward\n",
            "ex1-rnn-step-forward-check": "print('all good')",
        },
        (),
        {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 0},
        ["was deleted"],
    ),
    "duplicated_and_retyped": (
        {},
        (("duplicate", SF), ("retype", FW)),
        {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 0},
        ["appears 2 times", "changed into a markdown"],
    ),
    # a wrong copy of the right function, in a new cell after it: the solution cell is graded and
    # the student is told that the other definition was not
    "wrong_copy_after_right": (
        {},
        (("append", "def rnn_step_forward(x, h_prev, Wx, Wh, b):\n    return x, None\n"),),
        {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 3},
        ["rnn_step_forward() is also defined in cell"],
    ),
    # the course's own implementation, reached through an API that is not graded itself: the copy
    # the kernel sees has none, so the task is "not implemented", and flagged for review
    "course_sequence_forward": (
        {
            FW: "def rnn_forward(x, h0, Wx, Wh, b):\n"
            "    from rnncourse.nn import sequence_forward\n"
            "    return sequence_forward('rnn', x, h0, {'Wx': Wx, 'Wh': Wh, 'b': b})\n"
        },
        (),
        {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 0},
        ["calls the course's own rnn_forward() (through the package)"],
    ),
    "renamed_function": (
        {SF: GOOD_SF.replace("def rnn_step_forward", "def rnn_step_fwd")},
        (),
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        ["not defined"],
    ),
    "wrong_shapes": (
        {SF: GOOD_SF.replace("return h_next,", "return h_next.T,")},
        (),
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        ["shape"],
    ),
    "nan_outputs": (
        {SF: GOOD_SF.replace("return h_next,", "return h_next * np.nan,")},
        (),
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        ["NaN"],
    ),
    "huge_output": (
        {SF: GOOD_SF + "print('x' * 5_000_000)\nfor i in range(2000):\n    print(i, 'y' * 1000)\n"},
        (),
        {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 3},
        [],
    ),
    "writes_outside": (
        {
            SF: GOOD_SF
            + """
import os
for target in ["/tmp/rnncourse-escape-test.txt", os.path.join("..", "..", "rnncourse-escape-test.txt")]:
    try:
        with open(target, "w") as fh:
            fh.write("escaped")
    except OSError as exc:
        print("refused:", exc)
os.system("touch /tmp/rnncourse-escape-test-shell.txt")
"""
        },
        (),
        {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 3},
        [],
    ),
    # the kernel's copy of the package has no rnn_step_forward: not implemented, and flagged
    "uses_reference": (
        {SF: "from rnncourse.nn import rnn_step_forward\n"},
        (),
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        ["reference implementation", "not implemented"],
    ),
}


# ------------------------------------------------------------------------------------------------
# Attacks on the grader itself, written as an outsider would. ``attacks(ctx)`` fills in the real
# paths of this test run (``ctx``: out, victim, home, secret_file, other, tag) so that every attack
# aims at something that exists on the grading machine. Each entry: (edits, ops, points per task,
# phrases in the feedback). What must NOT happen (a file or process left behind, a changed byte in
# the grader's folders, a secret in the feedback) is asserted by the test for all of them at once.


def attacks(ctx):
    c = {k: repr(str(v)) for k, v in ctx.items()}
    full = {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 3}
    step_lost = {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3}
    A = {}
    A["cross_kernel"] = (
        {
            SF: GOOD_SF
            + """
import glob, json, os
found = []
for f in glob.glob("/proc/*/cmdline"):
    try:
        found.append(open(f, "rb").read().replace(b"\\0", b" ").decode())
    except OSError:
        pass
conns = [w for line in found for w in line.split() if w.endswith(".json")]
mine = os.path.dirname(os.getcwd())
for cf in conns + glob.glob("/tmp/**/kernel*.json", recursive=True) + glob.glob("/root/.local/share/jupyter/runtime/*.json"):
    if cf.startswith(mine):                          # not my own kernel: another student's
        continue
    try:
        from jupyter_client import BlockingKernelClient
        kc = BlockingKernelClient(connection_file=cf)
        kc.load_connection_file()
        kc.start_channels()
        kc.execute("import numpy as np; np.save = lambda *a, **k: None; np.tanh = lambda v: v * 0")
    except Exception as exc:
        print("no:", exc)
print("processes I can see:", len(found))
"""
        },
        (),
        full,
        [],
    )
    A["outlives_grading"] = (
        {
            SF: GOOD_SF
            + f"""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(2)
        for target in [os.path.join({c["out"]}, "grades.csv"), "/tmp/rnc-late-" + {c["tag"]}]:
            try:
                with open(target, "a") as fh:
                    fh.write("mallory,ex1,forged,2,3,5,5\\n")
            except OSError:
                pass
        os.execv("/usr/bin/sleep", ["sleep", "3600." + {c["tag"]}])
    os._exit(0)
"""
        },
        (),
        full,
        ["were still running when its cells ended"],
    )
    A["ctypes_system"] = (
        {
            SF: GOOD_SF
            + f"""
import ctypes
libc = ctypes.CDLL(None)
libc.system(("echo pwned > /tmp/rnc-ctypes-" + {c["tag"]} + "; echo mallory,forged >> " + {c["out"]} + "/grades.csv; "
             "cp -r " + {c["victim"]} + " /tmp/rnc-stolen-" + {c["tag"]}).encode())
"""
        },
        (),
        full,
        [],
    )
    A["fork_exec"] = (
        {
            SF: GOOD_SF
            + f"""
import subprocess, _posixsubprocess, os
try:
    subprocess.run(["/bin/sh", "-c", "touch /tmp/rnc-forkexec-" + {c["tag"]} + " " + {c["other"]} + "/owned"], timeout=5)
except Exception as exc:
    print(exc)
try:   # the raw call (its signature changes between Python versions)
    r, w = os.pipe()
    _posixsubprocess.fork_exec([b"/bin/touch"], [b"/bin/touch"], True, (w,), None, None, -1, -1, -1, -1,
                               -1, -1, r, w, True, False, None, None, None, -1, None, False)
except Exception as exc:
    print(exc)
"""
        },
        (),
        full,
        [],
    )
    A["dir_fd_writes"] = (
        {
            SF: GOOD_SF
            + f"""
import os
for folder in [os.path.join({c["out"]}, "feedback"), {c["other"]}, {c["home"]}, os.path.dirname({c["victim"]})]:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        w = os.open("planted.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(w, b"owned")
    except OSError as exc:
        print("no:", exc)
"""
        },
        (),
        full,
        [],
    )
    A["symlink_plant"] = (
        {
            SF: """
import inspect, os
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    for fr in inspect.stack():                       # find the driver's probe folder
        pdir = fr.frame.f_locals.get("pdir")
        if isinstance(pdir, str):
            try:
                os.symlink("""
            + c["secret_file"]
            + """, os.path.join(pdir, "error.txt"))
                os.symlink("""
            + c["out"]
            + """, os.path.join(os.path.dirname(pdir), "planted-link"))
                os.symlink(os.path.dirname("""
            + c["victim"]
            + """), os.path.join(os.getcwd(), "victim-link"))
            except OSError:
                pass
    return h_next, RNNStepCache(x, h_prev, Wx, Wh, h_next)
"""
        },
        (),
        {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 3},
        [],
    )
    A["fifo_node_socket"] = (
        {
            SF: """
import inspect, os, socket
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    for fr in inspect.stack():
        pdir = fr.frame.f_locals.get("pdir")
        if isinstance(pdir, str):
            os.makedirs(os.path.join(pdir, "out"), exist_ok=True)
            try:
                os.mkfifo(os.path.join(pdir, "out", "h_next.npy"))     # the grader must not block on it
            except OSError:
                pass
    return None
for make in (lambda: os.mkfifo("fifo"), lambda: os.mknod("node", 0o600 | 0o060000, os.makedev(8, 0))):
    try:
        make()
    except OSError as exc:
        print("no:", exc)
s = socket.socket(socket.AF_UNIX)
s.bind("listen.sock")
"""
        },
        (),
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        [],
    )
    A["dev_shm_leftover"] = (
        {
            SF: GOOD_SF
            + f"""
for d in ["/dev/shm", "/tmp", "/var/tmp", "/run"]:
    try:
        open(d + "/rnc-leftover-" + {c["tag"]}, "w").write("still here")
    except OSError as exc:
        print("no:", exc)
"""
        },
        (),
        full,
        [],
    )
    A["reads_secrets"] = (
        {
            SF: f"""
import os
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    loot = [repr(dict(os.environ))]
    for f in [{c["victim"]}, {c["secret_file"]}, "/proc/1/environ", os.path.join({c["home"]}, "canary.txt")]:
        try:
            loot.append(open(f, "rb").read()[:3000].decode(errors="replace"))
        except OSError as exc:
            loot.append(str(exc))
    raise RuntimeError(" ".join(loot))
"""
        },
        (),
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        ["RuntimeError"],
    )
    # disguised calls of the course's implementation: the kernel's copy of the package has none
    A["ref_importlib_alias"] = (
        {
            SF: """
from importlib import import_module as im
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    return im("rnncourse" + ".nn").rnn_step_forward(x, h_prev, Wx, Wh, b)
"""
        },
        (),
        step_lost,
        ["not implemented"],
    )
    A["ref_renamed_import"] = (
        {
            SF: """
load = getattr(__builtins__, "__imp" + "ort__") if not isinstance(__builtins__, dict) else __builtins__["__imp" + "ort__"]
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    return getattr(load("rnn" + "course.nn", fromlist=["x"]), "rnn_step_" + "forward")(x, h_prev, Wx, Wh, b)
"""
        },
        (),
        step_lost,
        ["not implemented"],
    )
    A["ref_sys_modules"] = (
        {
            SF: """
import sys
import rnncourse.nn
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    return vars(sys.modules["rnn" + "course.nn"])["rnn_step_" + "forward"](x, h_prev, Wx, Wh, b)
"""
        },
        (),
        step_lost,
        ["not implemented"],
    )
    A["ref_get_cell"] = (
        {
            FW: """
from rnncourse.nn import get_cell
def rnn_forward(x, h0, Wx, Wh, b):
    return get_cell("rnn").forward(x, h0, Wx, Wh, b)
"""
        },
        (),
        {"ex1.rnn_step_forward": 2, "ex1.rnn_forward": 0},
        ["not implemented"],
    )
    A["ref_exec_source"] = (
        {
            SF: """
import rnncourse.nn.rnn as _m
_ns = {"__name__": "rnncourse.nn.rnn", "__package__": "rnncourse.nn"}
exec(compile(open(_m.__file__).read(), "x", "exec"), _ns)
rnn_step_forward = _ns["rnn_step_forward"]
"""
        },
        (),
        step_lost,
        ["not implemented"],
    )
    A["honest_pathlib"] = (
        {
            SF: GOOD_SF
            + """
pl = __import__("pathlib")
assert pl.Path(".").exists()
"""
        },
        (),
        full,
        ["flagged for review"],
    )
    A["hides_mutation"] = (
        {
            SF: """
_kept = {}
_real_save = np.save
def _hiding_save(file, arr, *a, **k):              # writes the saved copy instead of the changed array
    return _real_save(file, _kept.get(id(arr), arr), *a, **k)
np.save = _hiding_save
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    _kept[id(x)] = x.copy()
    x[...] = 0.0                                      # changes its input in place
    return h_next, RNNStepCache(x, h_prev, Wx, Wh, h_next)
"""
        },
        (),
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        ["in place", "numpy.save"],
    )
    A["kills_and_floods"] = (
        {
            SF: GOOD_SF
            + """
import os, signal, socket
for pid in range(1, 50):
    try:
        os.kill(pid, 0)
    except OSError:
        pass
try:
    os.kill(-1, 0)
except OSError:
    pass
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
except OSError as exc:
    print("no network:", exc)
kids = 0
try:
    for i in range(500):                               # a fork bomb meets the process limit
        if os.fork() == 0:
            import time
            time.sleep(30)
            os._exit(0)
        kids += 1
except OSError as exc:
    print("stopped after", kids, exc)
try:
    with open("/tmp/fill", "wb") as fh:                # the private /tmp is size-capped
        for i in range(1000):
            fh.write(b"x" * (1 << 20))
except OSError as exc:
    print("full:", exc)
"""
        },
        (),
        full,
        ["were still running when its cells ended"],
    )
    A["leaks_inputs"] = (
        {
            SF: """
def rnn_step_forward(x, h_prev, Wx, Wh, b):
    raise ValueError("hidden x: " + np.array2string(x, precision=6))
"""
        },
        (),
        {"ex1.rnn_step_forward": 0, "ex1.rnn_forward": 3},
        ["ValueError: hidden x: [[…"],
    )
    return A
