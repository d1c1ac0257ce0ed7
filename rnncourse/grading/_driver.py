"""Calling a function under test and turning what it returns into plain arrays.

This module is the only grading code that runs inside a student's kernel during summative
grading. The grader does not import it there: it sends this file's *source* to the kernel as the
very first cell, before any of the student's code, and executes it in a private namespace under a
name drawn at random for that kernel. So the driver holds the NumPy and ``os`` functions as they
were before the student's code ran, writes every array with them, and reports which of them the
student's code replaced afterwards (``patched.txt``; the grader flags it). It only loads input
arrays, calls the student's function and saves what came back; every comparison happens later, in
the grader's own process, which also keeps its own copy of the inputs. ``check`` uses the same
functions in-process, so formative and summative feedback see identical calls.

Argument specs (``args``), one per positional argument:
  ``("array", name)``          the array ``inputs[name]``
  ``("float", name)``          ``float(inputs[name])`` (a 0-d array on disk)
  ``("int", name)``            ``int(inputs[name])``
  ``("dict", prefix)``         ``{key: inputs[prefix + key]}`` for every input starting with prefix
  ``("cache", Class, prefix)`` ``rnncourse.nn.Class(**fields)`` built from ``inputs[prefix + field]``
                               (``Class`` may be a dotted path: ``rnncourse.nn.layers.AffineCache``)

Return specs (``returns``): a list of slots when the function returns a tuple, each slot a name
(an array output), ``None`` (ignored, e.g. the student's own cache), ``("dict", prefix)`` or
``("model", prefix)`` (a SequenceModel: its ``params`` dict plus ``prefix + "cell"``). A single
slot spec that is not a list means the function returns one value.
"""

import builtins
import os
import traceback

import numpy as np
import numpy.lib.format as _npformat

# The functions the driver relies on, as they are when this source is executed (in the grader's
# kernel: before the student's first cell). Their names are checked again after each task.
_PRISTINE = {
    "numpy.save": np.save,
    "numpy.load": np.load,
    "numpy.array": np.array,
    "numpy.asarray": np.asarray,
    "numpy.lib.format.write_array": _npformat.write_array,
    "numpy.lib.format.read_array": _npformat.read_array,
    "builtins.open": builtins.open,
    "os.open": os.open,
    "os.write": os.write,
    "os.makedirs": os.makedirs,
    "os.listdir": os.listdir,
}
_save, _load, _array, _open, _makedirs, _listdir = (
    np.save,
    np.load,
    np.array,
    builtins.open,
    os.makedirs,
    os.listdir,
)

MAX_ERROR_CHARS = 2000
# The message of every function emptied in the grader's copy of the course (``sandbox.
# build_package_view``): a student's function that calls the course's own version of a graded
# function (e.g. through ``sequence_backward``) meets it, and the grader flags that for review.
STRIPPED_NOTE = "removed from the grader's copy of the course"


def build_args(args, inputs):
    out = []
    for spec in args:
        kind = spec[0]
        if kind == "array":
            out.append(inputs[spec[1]])
        elif kind == "float":
            out.append(float(inputs[spec[1]]))
        elif kind == "int":
            out.append(int(inputs[spec[1]]))
        elif kind == "dict":
            p = spec[1]
            out.append({k[len(p) :]: v for k, v in inputs.items() if k.startswith(p)})
        elif kind == "cache":  # a class of rnncourse.nn, or a dotted path to one
            import importlib

            module, _, name = spec[1].rpartition(".")
            cls, p = getattr(importlib.import_module(module or "rnncourse.nn"), name), spec[2]
            out.append(cls(**{f: inputs[p + f] for f in cls._fields}))
        else:
            raise ValueError(f"unknown argument kind {kind!r}")
    return out


class WrongReturn(TypeError):
    """What the function returned cannot be read: the student's code raised nothing, the driver
    did. Its text (after ``"WrongReturn: "``) is ``what|name|got|order``: ``what`` one of
    ``array``, ``object-array``, ``tuple``, ``dict``, ``model``, ``none``; ``name`` the output (or
    the number of values for ``tuple``); ``got`` the type returned; ``order`` the return slots,
    ``, ``-separated. ``verdict.Observation.from_driver`` turns it into a sentence."""

    def __init__(self, what, name="", got="", order=""):
        # "|" separates the fields: a name from the student's dict keys must not add one
        fields = (what, str(name), got, order)
        super().__init__("|".join(f.replace("|", "/")[:80] for f in fields))


def _order(returns):
    """The return slots as the student writes them: ``h_next, cache`` (an ignored slot is the
    student's own cache)."""
    if not isinstance(returns, list):
        return ""
    return ", ".join(s if isinstance(s, str) else "cache" if s is None else s[1].rstrip(".") for s in returns)


def _as_array(name, value, order=""):
    if isinstance(value, (float, int, np.floating, np.integer, np.ndarray, str, np.str_)):
        arr = np.asarray(value)
        if arr.dtype == object:
            raise WrongReturn("object-array", name, "", order)
        return arr
    raise WrongReturn("array", name, type(value).__name__, order)


def _flatten_slot(slot, value, out, order=""):
    if slot is None:
        return
    if isinstance(slot, str):
        out[slot] = _as_array(slot, value, order)
    elif slot[0] == "dict":
        if not isinstance(value, dict):
            raise WrongReturn("dict", "", type(value).__name__, order)
        for k, v in value.items():
            out[slot[1] + str(k)] = _as_array(str(k), v)
    elif slot[0] == "model":
        params = getattr(value, "params", None)
        if not isinstance(params, dict):
            raise WrongReturn("model", "", type(value).__name__, order)
        out[slot[1] + "cell"] = np.asarray(str(getattr(value, "cell", "")))
        for k, v in params.items():
            out[slot[1] + "params." + str(k)] = _as_array(str(k), v)


def flatten(returns, value):
    """What the function returned, as ``{name: ndarray}``; raises WrongReturn on a wrong structure."""
    out = {}
    order = _order(returns)
    if isinstance(returns, list):
        if not isinstance(value, tuple) or len(value) != len(returns):
            # a tuple of the wrong length is "tuple3": its type name alone would not say how long
            got = f"tuple{len(value)}" if isinstance(value, tuple) else type(value).__name__
            raise WrongReturn("tuple", len(returns), got, order)
        for slot, v in zip(returns, value):
            _flatten_slot(slot, v, out, order if len(returns) > 1 else "")
    else:
        _flatten_slot(returns, value, out)
    return out


_MISSING = object()


class course_helpers:
    """While active, the names in ``helpers`` in ``func``'s module globals (the student's own
    ``rnn_step_forward``, say, or nothing if its cell did not run) point to the course's
    implementation instead, and are put back (or removed) afterwards. A task that may call another graded function is so judged on its own: a bug in the
    step function costs the step task's points, not the sequence task's as well."""

    def __init__(self, func, helpers):
        self.g = getattr(func, "__globals__", None) if helpers else None
        self.helpers, self.saved = helpers, {}

    def __enter__(self):
        if self.g is not None:
            if isinstance(self.helpers, dict):  # in the grader's kernel: {name: function}
                course = self.helpers
            else:  # in-process (check): the package's own
                import importlib

                course = {}
                for helper in self.helpers:  # a name (in rnncourse.nn) or (name, module, attribute)
                    name, module, attr = (
                        (helper, "rnncourse.nn", helper) if isinstance(helper, str) else helper
                    )
                    impl = getattr(importlib.import_module(module), attr, None)
                    if impl is not None:
                        course[name] = impl
            for name, impl in course.items():
                # also when the student's own is missing (its cell had a syntax error): the
                # sequence task is still judged with the course's step function
                self.saved[name] = self.g.get(name, _MISSING)
                self.g[name] = impl
        return self

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            if value is _MISSING:
                self.g.pop(name, None)
            else:
                self.g[name] = value
        return False


def call(func, args, returns, inputs, helpers=()):
    """Call ``func`` on fresh copies of ``inputs`` (with ``helpers`` swapped, see ``course_helpers``).

    Returns ``(outputs, after, error)``: the flattened outputs, the argument arrays as they are
    after the call (to detect in-place changes), and an error string (``None`` if it ran).
    """
    mine = {k: _array(v, copy=True) for k, v in inputs.items()}
    try:
        if func is None:
            raise NameError("the function is not defined (was its cell run? was it renamed?)")
        if not callable(func):
            raise TypeError(f"expected a function, got {type(func).__name__}")
        with course_helpers(func, helpers):
            value = func(*build_args(args, mine))
        if value is None:
            raise WrongReturn("none")
        outputs = flatten(returns, value)
        error = None
    except BaseException as exc:  # the student's code may raise anything, even SystemExit
        if isinstance(exc, KeyboardInterrupt):
            raise
        outputs = {}
        error = _format_error(exc)
    return outputs, mine, error


def _format_error(exc):
    if isinstance(exc, NotImplementedError):
        if STRIPPED_NOTE in str(exc):
            frames = traceback.extract_tb(exc.__traceback__)
            name = frames[-1].name if frames else "?"
            return f"NotImplementedError: not implemented yet (the course's {name}() was called: {STRIPPED_NOTE})"
        return "NotImplementedError: not implemented yet"
    tb = traceback.extract_tb(exc.__traceback__)
    where = ""
    for frame in reversed(tb):
        if "_driver" not in frame.filename:
            where = f" (line: {frame.line})" if frame.line else ""
            break
    return f"{type(exc).__name__}: {exc}{where}"[:MAX_ERROR_CHARS]


def load_dir(path):
    return {
        f[:-4]: _load(os.path.join(path, f), allow_pickle=False)
        for f in sorted(_listdir(path))
        if f.endswith(".npy")
    }


def save_dir(path, arrays):
    _makedirs(path, exist_ok=True)
    for k, v in arrays.items():
        _save(os.path.join(path, k + ".npy"), v, allow_pickle=False)


def _lookup(dotted):
    import importlib

    mod, _, attr = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(mod), attr)
    except Exception:
        return None


def patched_names():
    """The functions in ``_PRISTINE`` that no longer are what they were when the driver started."""
    return sorted(n for n, f in _PRISTINE.items() if _lookup(n) is not f)


def course_functions(sources):
    """``{name: function}`` from ``{name: (module, source)}``: the course's implementation of a
    helper, sent by the grader (the kernel's copy of the package has none), executed in a copy of
    that module's namespace (``rest``: functions it delegates to, each from its own module)."""
    import importlib

    out = {}
    for name, (module, source, *rest) in (sources or {}).items():
        ns = dict(vars(importlib.import_module(module)))
        for emod, ename, esrc in rest[0] if rest else ():
            ens = dict(vars(importlib.import_module(emod)))
            exec(compile(esrc, f"<course {emod}.{ename}>", "exec"), ens)
            ns[ename] = ens[ename]
        exec(compile(source, f"<course {module}.{name}>", "exec"), ns)
        out[name] = ns[name]
    return out


def _write_text(path, text):
    with _open(path, "w") as fh:
        fh.write(text)


def run_task_dir(func, args, returns, task_dir, helpers=()):
    """Grader entry point in the kernel: for every probe folder ``task_dir/<probe>/in``, call
    ``func`` and write ``out/``, ``after/`` and ``error.txt``; ``patched.txt`` lists the driver's
    functions the student's code replaced. ``helpers``: ``{name: (module, source)}``."""
    try:
        where = f"{getattr(func, '__module__', None)}:{getattr(func, '__qualname__', None)}"
        _write_text(os.path.join(task_dir, "func.txt"), where[:500])
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
    course = course_functions(helpers) if isinstance(helpers, dict) else helpers
    for probe in sorted(p for p in _listdir(task_dir) if os.path.isdir(os.path.join(task_dir, p))):
        pdir = os.path.join(task_dir, probe)
        inputs = load_dir(os.path.join(pdir, "in"))
        outputs, after, error = call(func, args, returns, inputs, course)
        try:
            save_dir(os.path.join(pdir, "out"), outputs)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            error = error or _format_error(exc)
        save_dir(os.path.join(pdir, "after"), after)
        if error is not None:
            _write_text(os.path.join(pdir, "error.txt"), error)
    patched = patched_names()
    if patched:
        _write_text(os.path.join(task_dir, "patched.txt"), "\n".join(patched))
