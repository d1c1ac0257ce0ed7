"""``check``: instant, formative feedback inside an exercise notebook.

``check("ex3.rnn_backward", rnn_backward)`` calls your function on the task's public probes (fixed
seeds), compares every output with the course's reference and prints one line per probe and, if
something fails, what is most likely wrong. It runs in your own kernel, so it is a learning aid,
not a grade: the instructor's grader repeats the same probes on inputs drawn at grading time and
compares the results outside your notebook.
"""
from __future__ import annotations

from rnncourse.grading.probes import get_task, run_in_process

__all__ = ["check", "PUBLIC_SEED", "format_result"]

PUBLIC_SEED = 2024


def format_result(result, title=None):
    """The feedback text for a ``TaskResult`` (used by ``check`` and by the grader's feedback files)."""
    head = title or result.task
    mark = "PASS" if result.passed else "FAIL"
    lines = [f"{mark}  {head}: {result.points:g}/{result.max_points} points"]
    for r in result.probes:
        lines.append(f"  [{'ok' if r.passed else 'FAIL'}] {r.title}")
        shown = [m for k, m in r.problems if k != "mutation"][:4]
        if any(k == "mutation" for k, _ in r.problems):
            shown.append("an argument was modified in place")
        for m in shown:
            lines.append(f"        - {m}")
    if result.diagnosis:
        lines.append("  What to look at:")
        lines += [f"    * {d}" for d in result.diagnosis]
    for f in result.flags:
        lines.append(f"  FLAG: {f}")
    return "\n".join(lines)


def check(task_id, func, seed=PUBLIC_SEED, quiet=False):
    """Probe ``func`` for task ``task_id`` (e.g. ``"ex1.rnn_step_forward"``) and print the verdict.

    Returns the ``TaskResult`` (``.passed``, ``.points``, ``.diagnosis``); the printed report says
    which probe failed and why.
    """
    spec = get_task(task_id)
    result = run_in_process(spec, func, seed)
    if not quiet:
        print(format_result(result))
    return _Quiet(result)


class _Quiet:
    """Wraps the result so the notebook does not echo a long repr below the printed report."""

    def __init__(self, result):
        self.result = result
        self.passed = result.passed
        self.points = result.points

    def __repr__(self):
        return f"<check {self.result.task}: {'passed' if self.passed else 'failed'}>"

    def __bool__(self):
        return self.passed
