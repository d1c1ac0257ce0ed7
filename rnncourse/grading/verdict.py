"""The one place where a verdict is decided: ``judge(spec, inputs, observations, seed)``.

``check()`` (in the student's notebook) and the instructor's grader both come here. They differ
only in how they *observe* the student's function: ``check`` calls it in-process
(``observe_in_process``), the grader reads the arrays its kernel saved (``Observation`` built by
``grader._collect``). Everything after that is shared: the probe inputs (``make_inputs``), the
random stream a custom scorer gets (``probe_rng``), the comparison with the reference, the bug
models and the points.

Problems are typed records (``Problem``): control flow looks at ``kind`` and ``pattern``, never at
message text.

A task is a ``TaskSpec`` (built by keyword in ``rnncourse.grading.exercises.exN``): the function
name, its argument and return structure (see ``_driver``), the reference, an ordered list of
``Probe``s from the most isolated situation to the most general one (so the *first* failing
probe says where the bug is, and its hint says why), and ``bugs``: implementations of classic
mistakes, each with the diagnosis that names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from rnncourse.grading import _driver
from rnncourse.messages import N_, _, ngettext

__all__ = [
    "Probe",
    "Bug",
    "TaskSpec",
    "Problem",
    "Observation",
    "ProbeResult",
    "TaskResult",
    "PROBLEM_KINDS",
    "make_inputs",
    "probe_rng",
    "reference_outputs",
    "observe_in_process",
    "judge",
    "run_in_process",
]

#: every kind of ``Problem``; the first group means the function did not produce an answer
PROBLEM_KINDS = (
    "not-implemented",
    "error",
    "timeout",
    "died",
    "not-run",
    "no-result",
    "mutation",
    "missing",
    "extra",
    "dtype",
    "shape",
    "nan",
    "value",
    "score",
)
_NO_ANSWER = {"not-implemented", "error", "timeout", "died", "not-run", "no-result"}
#: the answer has the wrong form: no number in it can be judged yet
_FORM = {"missing", "extra", "dtype", "shape"}
_STRUCTURE = {
    "error",
    "timeout",
    "died",
    "not-run",
    "no-result",
    "missing",
    "extra",
    "dtype",
    "shape",
    "nan",
    "score",
}
#: fixed explanations ``_driver`` (kept free of package imports: it runs in the grader's kernel) puts
#: into its error texts; translated here, where the error is shown
DRIVER_PHRASES = (N_("the function is not defined (was its cell run? was it renamed?)"),)
#: the driver's ``WrongReturn``: the student's code ran, but what it returned cannot be read
WRONG_RETURN = "WrongReturn"
_SCORE_STREAM = 7  # the third word of a probe's scoring stream (inputs use [seed, i])
#: how closely a float32 answer must match (relative; absolute, times the largest reference value).
#: The course's own functions run in float32 pass every task's probes on 40 seeds (they need an
#: absolute 1.4e-7 at most; a relative 1e-5 was too tight for ex2's large scores). No bug model's
#: points or diagnosis change in float32 (one ex7 probe, not the one that names the bug, is then
#: passed: there its answer and the right one differ by 2e-7 on probabilities near 1)
_F32_RTOL, _F32_ATOL = 1e-4, 1e-6
#: at most this many lines about the first failing probe under "What to look at"
_MAX_FIRST_LINES = 3


@dataclass(frozen=True)
class Probe:
    name: str
    title: str
    make: Callable  # make(rng) -> {input name: ndarray}
    hint: str = ""  # shown when this is the first probe that fails


@dataclass(frozen=True)
class Bug:
    """A classic mistake: ``impl`` has the task's signature; ``message`` names the mistake."""

    impl: Callable
    message: str


@dataclass(frozen=True)
class TaskSpec:
    id: str
    func: str
    points: int
    args: tuple
    returns: object
    reference: Callable | None
    probes: tuple
    rtol: float = 1e-6
    atol: float = 1e-9
    bugs: tuple = ()  # Bug(...) records
    helpers: tuple = ()  # (name, module, attribute): graded functions this one may call; the
    # course's version is swapped in while it is judged
    score: Callable | None = None  # custom verdict: score(outputs, inputs, rng) -> [Problem]
    timeout: int | None = None  # seconds for all probes in the grader (None: its default)
    report: Callable | None = None  # extra lines for check(): report(observation) -> [str]

    @property
    def exercise(self):
        return self.id.split(".")[0]


@dataclass(frozen=True)
class Problem:
    kind: str  # one of PROBLEM_KINDS
    message: str
    name: str | None = None  # the output or argument it is about
    pattern: str | None = None  # a recognised shape of error: "transposed", "sign", "factor",
    # "zeros", "batch-mean", "not-summed", "per-row", "entries", "ids"
    origin: tuple | None = None  # an error's (exception type, line that raised it): the same
    # failure on several probes is shown once
    finding: str | None = None  # what a pattern says about the values (": it is all zeros"),
    # without the output's name: the same finding about several outputs is shown once

    def __post_init__(self):
        if self.kind not in PROBLEM_KINDS:
            raise ValueError(f"kind must be one of {PROBLEM_KINDS}, got {self.kind!r}")


@dataclass
class Observation:
    """What one call of the student's function produced: outputs as plain arrays, the arguments as
    they were after the call (``None``: unknown, taken as unchanged) and the reason there is no
    answer (a ``Problem`` of a no-answer kind) or ``None``."""

    outputs: dict
    after: dict | None
    failure: Problem | None = None
    seconds: float | None = None

    @classmethod
    def from_driver(cls, outputs, after, error, seconds=None):
        """From ``_driver.call``'s triple; its error text is ``"<ExceptionType>: message"``."""
        failure = None
        if error is not None:
            etype = error.split(":", 1)[0].strip()
            if etype == "NotImplementedError":
                failure = Problem("not-implemented", _("not implemented yet"))
            elif etype == WRONG_RETURN:
                # the driver raised it, not the student's code: no "raised" and no line
                text = _wrong_return(error.split(":", 1)[1].strip())
                failure = Problem("error", text, origin=(WRONG_RETURN, None))
            else:
                shown = error
                for phrase in DRIVER_PHRASES:
                    shown = shown.replace(phrase, _(phrase))
                msg = _("raised {error}").format(error=shown)
                if "matmul" in error or "not aligned" in error:
                    msg += " " + _(
                        "(the sizes of a matrix product do not fit: is a weight matrix transposed, or "
                        "the wrong one used? Check the shapes, e.g. Wx is (D, H))"
                    )
                # the driver ends its text with " (line: <source>)" when the source is known; the
                # type and that line identify the failure (its message may differ by probe: sizes)
                _head, sep, line = error.rpartition(" (line: ")
                where = line[:-1] if sep and line.endswith(")") else None
                failure = Problem("error", msg, origin=(etype, where))
        return cls(dict(outputs or {}), after, failure, seconds)


def _wrong_return(fields):
    """The sentence for the driver's ``WrongReturn`` text ``what|name|got|order``."""
    what, name, got, order = (fields.split("|") + ["", "", ""])[:4]
    if what == "none":
        return _("returned None (is a `return` missing?)")
    head = _("returned the wrong kind of value")
    if what == "array":
        text = _("`{name}` must be a NumPy array, got {got}").format(name=name, got=got)
    elif what == "object-array":
        text = _("`{name}` must be an array of numbers, got an object array").format(name=name)
    elif what == "tuple" and name.isdigit():
        if got.startswith("tuple") and got[5:].isdigit():
            got = _("a tuple of {n}").format(n=got[5:])
        text = _("it must return a tuple of {n} values (`{order}`), got {got}").format(
            n=name, order=order, got=got
        )
    elif what == "dict":
        text = _("a dict of arrays is expected, got {got}").format(got=got)
    elif what == "model":
        text = _("a SequenceModel (with .params) is expected, got {got}").format(got=got)
    else:
        text = fields
    if what in ("array", "dict", "model") and order:
        text = _("{problem} (is the return order `{order}`?)").format(problem=text, order=order)
    return _("{head}: {detail}").format(head=head, detail=text)


@dataclass
class ProbeResult:
    probe: str
    title: str
    passed: bool
    problems: list = field(default_factory=list)  # [Problem]


@dataclass
class TaskResult:
    task: str
    points: float
    max_points: int
    probes: list
    diagnosis: list
    flags: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # extra lines (e.g. the time a training took)

    @property
    def passed(self):
        return self.points == self.max_points


# ------------------------------------------------------------------------------- random streams


def make_inputs(spec, seed):
    """``{probe name: inputs}`` for every probe of ``spec``; each probe gets its own stream."""
    return {p.name: p.make(np.random.default_rng([int(seed), i])) for i, p in enumerate(spec.probes)}


def probe_rng(seed, index):
    """The stream a custom scorer gets for probe ``index`` (independent of the input stream)."""
    return np.random.default_rng([int(seed), index, _SCORE_STREAM])


def reference_outputs(spec, inputs):
    if spec.reference is None:
        return {}
    out, _after, err = _driver.call(spec.reference, spec.args, spec.returns, inputs)
    if err is not None:  # pragma: no cover - a bug in the course, not the student
        raise RuntimeError(f"reference for {spec.id} failed: {err}")
    return out


# ------------------------------------------------------------------------------------ comparing


def _same(a, b):
    try:
        numeric = a.dtype.kind in "fc" and b.dtype.kind in "fc"
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=numeric)
    except TypeError:
        return False


def _close(spec, s, r):
    scale = max(1.0, float(np.max(np.abs(r)))) if r.size else 1.0
    return np.allclose(s, r, rtol=spec.rtol, atol=spec.atol * scale)


def _single(a):
    return getattr(a, "dtype", None) == np.float32


def _tolerance(spec, a):
    """``spec``, or a copy with float32's tolerances when the answer ``a`` is float32: its values
    can only be right to float32 precision (epsilon 1.2e-7; the rounding of a whole forward or
    backward pass adds up to relative errors of about 1e-5)."""
    if not _single(a):
        return spec
    return replace(spec, rtol=max(spec.rtol, _F32_RTOL), atol=max(spec.atol, _F32_ATOL))


def _value_problem(spec, name, s64, r64, N):
    err = float(np.max(np.abs(s64 - r64)))
    msg = _("`{name}` is wrong (largest difference {err:.3g})").format(name=name, err=err)
    finding, pattern = _value_finding(spec, s64, r64, N)
    return Problem("value", msg + (finding or ""), name, pattern, finding=finding)


def _value_finding(spec, s64, r64, N):
    """What the wrong values look like, ``(text, pattern)``, or ``(None, None)``."""
    if s64.ndim == 2 and s64.shape[0] == s64.shape[1] and _close(spec, s64, r64.T):
        return _(": it equals the transpose of the right answer"), "transposed"
    if _close(spec, -s64, r64):
        return _(": it has the wrong sign"), "sign"
    nz = np.abs(r64) > 1e-12
    if nz.any():
        if not np.any(s64):
            return _(": it is all zeros"), "zeros"
        ratio = s64[nz] / r64[nz]
        if np.allclose(ratio, ratio[0], rtol=1e-6) and _close(spec, s64, ratio[0] * r64):
            if N and abs(ratio[0] - 1.0 / N) < 1e-9:
                return _(
                    ": it is {ratio:.4g} times the right answer (a mean over the batch instead of a sum?)"
                ).format(ratio=ratio[0]), "batch-mean"
            return _(": it is {ratio:.4g} times the right answer").format(ratio=ratio[0]), "factor"
    if s64.ndim == 1 and s64.size <= 64:
        wrong = np.flatnonzero(
            ~np.isclose(s64, r64, rtol=spec.rtol, atol=spec.atol * max(1.0, np.max(np.abs(r64))))
        )
        right = [i for i in range(s64.size) if i not in set(wrong)]
        if right:
            shown = ", ".join(str(int(i)) for i in wrong[:6])
            return _(": entries [{entries}] are wrong, the others are right").format(entries=shown), "entries"
    return None, None


def _ids_problem(name, s, r):
    """Integer outputs are categories (character ids): a "largest difference" between two ids means
    nothing, so say how many differ and show the first one. Rows are the batch; a second axis is
    the time step."""
    wrong = np.argwhere(s != r)
    first = tuple(int(i) for i in wrong[0])
    if len(first) == 1:
        where = _("row {row}").format(row=first[0])
    elif len(first) == 2:
        where = _("row {row}, step {step}").format(row=first[0], step=first[1])
    else:
        where = _("index {index}").format(index=first)
    msg = ngettext(
        "`{name}`: {wrong} of {total} values differs; the first at {where}: got {got}, expected {expected}",
        "`{name}`: {wrong} of {total} values differ; the first at {where}: got {got}, expected {expected}",
        len(wrong),
    ).format(name=name, wrong=len(wrong), total=r.size, where=where, got=s[first], expected=r[first])
    return Problem("value", msg, name, "ids")


def _output_problems(spec, name, s, r, N):
    if s is None:
        return [
            Problem(
                "missing", _("`{name}` is missing from what the function returned").format(name=name), name
            )
        ]
    if s.dtype.kind not in "biuf" or s.dtype == bool:
        return [
            Problem(
                "dtype",
                _("`{name}` has dtype {dtype}, expected numbers ({expected})").format(
                    name=name, dtype=s.dtype, expected=r.dtype
                ),
                name,
            )
        ]
    if s.shape != r.shape:
        msg = _("`{name}` has shape {shape}, expected {expected}").format(
            name=name, shape=s.shape, expected=r.shape
        )
        pattern = None
        if N and r.ndim == 0 and s.shape == (N,):
            # one number per row: whether the rows are then summed or averaged is the task's
            # business (a loss is a mean, a count a sum), so no reduction is suggested here
            msg += _(": one value per row, but `{name}` must be ONE number for the whole batch").format(
                name=name
            )
            pattern = "per-row"
        elif N and s.shape == (N,) + r.shape:
            msg, pattern = msg + _(": it was not summed over the batch axis (axis 0)"), "not-summed"
        elif s.ndim == 2 and s.shape == r.shape[::-1]:
            msg, pattern = msg + _(": it is transposed"), "transposed"
        return [Problem("shape", msg, name, pattern)]
    # float32 is judged to float32 precision (``_tolerance``), with a note in ``judge``: the exercise
    # text never asks for float64, and the values of a float32 answer can be right
    if r.dtype.kind == "f" and s.dtype != r.dtype and not (r.dtype == np.float64 and _single(s)):
        return [
            Problem(
                "dtype",
                _("`{name}` has dtype {dtype}, expected {expected} (keep float64 throughout)").format(
                    name=name, dtype=s.dtype, expected=r.dtype
                ),
                name,
            )
        ]
    if r.dtype.kind in "iu" and s.dtype.kind not in "iu":
        return [
            Problem(
                "dtype",
                _("`{name}` has dtype {dtype}, expected integers").format(name=name, dtype=s.dtype),
                name,
            )
        ]
    if r.dtype.kind in "iu":
        return [] if np.array_equal(s, r) else [_ids_problem(name, s, r)]
    s64, r64 = s.astype(np.float64), r.astype(np.float64)
    if not np.all(np.isfinite(s64)):
        return [Problem("nan", _("`{name}` contains NaN or inf").format(name=name), name)]
    spec = _tolerance(spec, s)
    if _close(spec, s64, r64):
        return []
    return [_value_problem(spec, name, s64, r64, N)]


def _batch_size(inputs):
    for key in ("x", "scores", "dh_out", "dh", "dout"):
        if key in inputs and np.ndim(inputs[key]) >= 2:
            return inputs[key].shape[0]
    return None


def _evaluate_probe(spec, probe, inputs, obs, ref, rng):
    problems = []
    if obs.after is not None:
        for k, v in inputs.items():
            a = obs.after.get(k)
            if a is None or not _same(np.asarray(a), v):
                problems.append(
                    Problem(
                        "mutation",
                        _(
                            "it modifies its argument `{name}` in place: the "
                            "course's functions never change their inputs (write "
                            "`x = x * ...`, not `x *= ...`)"
                        ).format(name=k),
                        k,
                    )
                )
    if obs.failure is not None:
        problems.append(obs.failure)
    elif spec.score is not None:
        problems += spec.score(obs.outputs, inputs, rng)
    else:
        N = _batch_size(inputs)
        for name, r in ref.items():
            problems += _output_problems(spec, name, obs.outputs.get(name), r, N)
        for name in obs.outputs:
            if name not in ref:
                problems.append(Problem("extra", _("unexpected output `{name}`").format(name=name), name))
    return ProbeResult(probe.name, _(probe.title), not problems, problems)


def _reproduces(spec, outputs, bug_outputs):
    """The bug model's outputs equal the student's (on a probe the student passed, too)."""
    for name, a in bug_outputs.items():
        s = outputs.get(name)
        if s is None or s.dtype.kind not in "biuf" or s.shape != a.shape:
            return False  # text (an array of characters) cannot even be compared as numbers
        if not _close(_tolerance(spec, s), s.astype(np.float64), a.astype(np.float64)):
            return False
    return True


def _equals_bug(spec, outputs, bug_outputs, ref):
    """The student's outputs equal the bug model's, and the bug model differs from the reference."""
    if not _reproduces(spec, outputs, bug_outputs):
        return False
    for name, a in bug_outputs.items():
        r = ref.get(name)
        if r is None or r.shape != a.shape or not _close(spec, a.astype(np.float64), r.astype(np.float64)):
            return True
    return False


def _diagnosed_bugs(spec, results, observations, inputs, refs):
    """Bugs whose model reproduces the student's answer on EVERY probe that has an answer: it
    gives the student's wrong outputs where the student fails, and the right ones where the
    student passes.

    Requiring every probe keeps two bug models that agree on one probe (at T = 1, say) from both
    being named: the probes where they differ decide, a passed one too (ex9: the LSTM whose c is
    reset at every generated step and the one whose c is never updated sample alike once the
    prompt is read; only the first character, right for one of them, tells them apart)."""

    def answered(r):
        return observations[r.probe].failure is None and observations[r.probe].outputs

    failing = [r.probe for r in results if not r.passed and answered(r)]
    passing = [r.probe for r in results if r.passed and answered(r)]
    if not failing:
        return []
    named = []
    for bug in spec.bugs:
        message = _(bug.message)
        if message in named:
            continue
        ok = True
        for p in failing + passing:  # the failing ones first: most models are ruled out there
            out, _after, err = _driver.call(bug.impl, spec.args, spec.returns, inputs[p])
            if err is not None:
                ok = False
            elif p in failing:
                ok = _equals_bug(spec, observations[p].outputs, out, refs[p])
            else:
                ok = _reproduces(spec, observations[p].outputs, out)
            if not ok:
                break
        if ok:
            named.append(message)
    return named


def _error_lines(failed, n_probes):
    """Each distinct exception once, with the probes it happened on (its text would otherwise
    repeat on every probe). One failure is the same exception type raised by the same line; its
    text is the first probe's (a size in it may differ from probe to probe)."""
    groups = {}
    for r in failed:
        for p in r.problems:
            if p.kind == "error":
                key = p.origin if p.origin and p.origin[1] else p.message
                groups.setdefault(key, (p, []))[1].append(r.title)
    lines = []
    for p, titles in groups.values():
        if len(titles) == 1:
            lines.append(_("{problem} ({probe})").format(problem=p.message, probe=titles[0]))
        elif len(titles) == n_probes:
            lines.append(_("{problem} (in all {n} tests above)").format(problem=p.message, n=n_probes))
        else:
            lines.append(_("{problem} (in: {probes})").format(problem=p.message, probes="; ".join(titles)))
    return lines


def _first_lines(problems, title):
    """The problems of the first failing probe, one line each, where the same finding about
    several outputs ("all zeros" for six gradients) is one line that names them all; at most
    ``_MAX_FIRST_LINES`` lines."""
    groups = {}
    for p in sorted(problems, key=lambda p: p.kind not in _FORM):
        if p.kind == "value" and p.finding is not None:
            key = (p.kind, p.pattern, p.finding)
        elif p.kind == "value" or p.name is None:
            key = (p.kind, p.pattern, p.message)
        else:  # a form message differs from output to output only by the name it quotes
            key = (p.kind, p.pattern, p.message.replace(f"`{p.name}`", ""))
        groups.setdefault(key, []).append(p)
    lines = []
    for same in list(groups.values())[:_MAX_FIRST_LINES]:
        text = same[0].message
        others = [p.name for p in same[1:] if p.name is not None]
        if others:
            text = _("{problem}; the same for {names}").format(
                problem=text, names=", ".join(f"`{n}`" for n in others)
            )
        lines.append(_("{problem} ({probe})").format(problem=text, probe=title))
    return lines


def _single_notes(spec, observations, refs):
    """A note for each output that came back as float32 where the course computes float64: it is
    judged to float32 precision, so the student should know why it passed."""
    names = []
    for probe, ref in refs.items():
        outputs = observations[probe].outputs
        for name, r in ref.items():
            if r.dtype == np.float64 and _single(outputs.get(name)) and name not in names:
                names.append(name)
    if not names:
        return []
    return [
        _(
            "note: {names} came back as float32; accepted, because the values match to float32 "
            "precision (the course computes in float64, which keeps more digits)"
        ).format(names=", ".join(f"`{n}`" for n in names))
    ]


def judge(spec, inputs, observations, seed, flags=()):
    """The verdict on one task.

    ``inputs`` is ``make_inputs(spec, seed)``; ``observations`` maps each probe name to an
    ``Observation`` (a probe without one counts as "produced no result"). ``flags`` are reasons
    an instructor must review the task (e.g. a call of the package's reference): correct outputs
    then score 0 until reviewed. Returns a ``TaskResult``; pure, and runs in the grader's process
    or, for ``check``, in the notebook.
    """
    observations = dict(observations)
    results, refs = [], {}
    for i, probe in enumerate(spec.probes):
        inp = inputs[probe.name]
        obs = observations.get(probe.name)
        if obs is None:
            obs = observations[probe.name] = Observation(
                {}, None, Problem("no-result", _("produced no result"))
            )
        refs[probe.name] = reference_outputs(spec, inp)
        results.append(_evaluate_probe(spec, probe, inp, obs, refs[probe.name], probe_rng(seed, i)))

    diagnosis = []
    failed = [r for r in results if not r.passed]
    kinds = {p.kind for r in failed for p in r.problems}
    if "not-implemented" in kinds:
        diagnosis.append(_("not implemented yet"))
        diagnosis += _error_lines(failed, len(results))
    else:
        first = next((r for r in failed if any(p.kind != "mutation" for p in r.problems)), None)
        bugs = _diagnosed_bugs(spec, results, observations, inputs, refs)
        if first is not None:
            shown = [
                p
                for p in first.problems
                if p.kind in _STRUCTURE - {"error"} or (p.kind == "value" and p.pattern is not None)
            ]
            # a wrong form (shape, dtype, ...) stands alone: until it is fixed no number can be
            # right, so what the numbers look like says nothing yet; and a named bug already says
            # what the wrong values show
            form = [p for p in shown if p.kind in _FORM]
            if form:
                shown = form
            elif bugs:
                shown = [p for p in shown if p.kind != "value"]
            diagnosis += _first_lines(shown, first.title)
        diagnosis += _error_lines(failed, len(results))
        diagnosis += sorted({p.message for r in failed for p in r.problems if p.kind == "mutation"})
        if first is not None and not bugs:
            hint = next((pr.hint for pr in spec.probes if pr.name == first.probe), "")
            # a probe's hint explains a wrong number; when the code raised, timed out or died the
            # error itself is the diagnosis, and when the answer has the wrong form the hint would
            # guess at a mistake in the maths that the numbers do not show. A named bug is more
            # precise than the hint, which only guesses from where the first failure happened.
            wrong_value = any(p.kind in ("value", "nan", "score") for p in first.problems)
            wrong_form = any(p.kind in _FORM for p in first.problems)
            if hint and wrong_value and not wrong_form and not (kinds & {"timeout", "died", "not-run"}):
                diagnosis.append(_(hint))
        diagnosis += bugs
    flags = list(flags)
    points = spec.points if not failed and not flags else 0
    if flags and not failed:
        diagnosis.append(
            _("correct outputs, but {flags}: no points until an instructor reviews it").format(
                flags="; ".join(flags)
            )
        )
    notes = _single_notes(spec, observations, refs)
    if spec.report is not None:
        for probe in spec.probes:
            notes += spec.report(observations[probe.name])
    return TaskResult(spec.id, points, spec.points, results, diagnosis, flags, notes)


# ------------------------------------------------------------------------------- in the notebook


def observe_in_process(spec, func, inputs):
    """Call ``func`` on every probe's inputs here (what ``check`` does): ``{probe: Observation}``."""
    import time

    obs = {}
    for probe in spec.probes:
        t0 = time.perf_counter()
        out, after, err = _driver.call(func, spec.args, spec.returns, inputs[probe.name], spec.helpers)
        obs[probe.name] = Observation.from_driver(out, after, err, time.perf_counter() - t0)
    return obs


def run_in_process(spec, func, seed):
    """Probe and judge ``func`` in this process. Returns a ``TaskResult``."""
    inputs = make_inputs(spec, seed)
    return judge(spec, inputs, observe_in_process(spec, func, inputs), seed)
