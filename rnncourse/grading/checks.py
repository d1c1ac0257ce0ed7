"""``check``: instant, formative feedback inside an exercise notebook.

``check("ex3.rnn_backward", rnn_backward)`` calls your function on the task's public probes (fixed
seeds), compares every output with the course's reference and prints one line per probe and, if
something fails, what is most likely wrong. It runs in your own kernel, so it is a learning aid,
not a grade: the instructor's grader judges the same probes (through the same
``rnncourse.grading.verdict.judge``) on inputs drawn at grading time, outside your notebook.

Strict mode: with the environment variable ``RNNCOURSE_STRICT_CHECKS=1`` (set by the course's
test run of the solution notebooks, see ``solutions/conftest.py``) a failing check raises
``CheckFailed`` (an ``AssertionError``) after printing its report, so a wrong solution fails
the run. Students never need it.
"""

from __future__ import annotations

import os

from rnncourse.messages import _

__all__ = ["check", "PUBLIC_SEED", "STRICT_ENV", "CheckFailed", "format_result"]

PUBLIC_SEED = 2024
STRICT_ENV = "RNNCOURSE_STRICT_CHECKS"


class CheckFailed(AssertionError):
    """A check failed while ``RNNCOURSE_STRICT_CHECKS=1``."""


def format_result(result, title=None):
    """The feedback text for a ``TaskResult`` (used by ``check`` and by the grader's feedback files)."""
    head = title or result.task
    mark = _("PASS") if result.passed else _("FAIL")
    lines = [
        _("{mark}  {task}: {points}/{max_points} points").format(
            mark=mark, task=head, points=f"{result.points:g}", max_points=result.max_points
        )
    ]
    for r in result.probes:
        lines.append(f"  {_('[ok]') if r.passed else _('[FAIL]')} {r.title}")
        # an exception's full text is in "What to look at", once (``verdict.judge``): here its type
        shown = [_short(p) for p in r.problems if p.kind != "mutation"][:4]
        if any(p.kind == "mutation" for p in r.problems):
            shown.append(_("an argument was modified in place"))
        for m in shown:
            lines.append(f"        - {m}")
    lines += [f"  {n}" for n in getattr(result, "notes", ())]
    if result.diagnosis:
        lines.append("  " + _("What to look at:"))
        lines += [f"    * {d}" for d in result.diagnosis]
    for f in result.flags:
        lines.append("  " + _("FLAG: {flag}").format(flag=f))
    return "\n".join(lines)


def _short(problem):
    """What a probe's line says about ``problem``: an exception only by its type."""
    if problem.kind == "error":
        if problem.origin and problem.origin[0] == "WrongReturn":  # see verdict.WRONG_RETURN
            return _("returned the wrong kind of value (see below)")
        if problem.origin:
            return _("raised {error} (see below)").format(error=problem.origin[0])
        return _("an error (see below)")
    return problem.message


def _strict():
    return os.environ.get(STRICT_ENV, "").strip() not in ("", "0")


def check(task_id, func, seed=PUBLIC_SEED, quiet=False):
    """Probe ``func`` for task ``task_id`` (e.g. ``"ex1.rnn_step_forward"``) and print the verdict.

    Returns the ``TaskResult`` wrapped so the notebook shows no long repr (``.passed``,
    ``.points``, ``.result``; falsy when it failed). Raises ``CheckFailed`` on a failure only in
    strict mode (``RNNCOURSE_STRICT_CHECKS=1``).
    """
    # imported here, not at the top: a grading kernel imports ``check`` with the notebook's setup
    # cell but never calls it, and the registry of every exercise is a tenth of its start-up
    from rnncourse.grading.exercises import get_task
    from rnncourse.grading.verdict import run_in_process

    result = run_in_process(get_task(task_id), func, seed)
    report = format_result(result)
    if not quiet:
        print(report)
    if _strict() and not result.passed:
        raise CheckFailed(f"{STRICT_ENV} is set and the check failed:\n{report}")
    return _Quiet(result)


class _Quiet:
    """Wraps the result so the notebook does not echo a long repr below the printed report."""

    def __init__(self, result):
        self.result = result
        self.passed = result.passed
        self.points = result.points

    def __repr__(self):
        text = _("<check {task}: passed>") if self.passed else _("<check {task}: failed>")
        return text.format(task=self.result.task)

    def __bool__(self):
        return self.passed

    def _ipython_display_(self):
        """As the last line of a cell it shows nothing more: the report is already printed above
        (an extra ``Out[n]: <check ...: failed>`` line was noise for students)."""
