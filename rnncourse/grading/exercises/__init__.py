"""The graded exercises: one module per exercise (``ex1`` ... ``ex7``), each holding its input
generators, bug models and task specs. This package is the registry over them.

* ``TASKS``: ``{task id: TaskSpec}`` in course order (``"ex3.rnn_backward"``).
* ``EXERCISES``: ``{exercise: [task id, ...]}``.
* ``GRADED_FUNCTIONS``: ``{function name: module of its reference}``, every function a student
  writes (a mapping; ``name in GRADED_FUNCTIONS`` and ``names & GRADED_FUNCTIONS`` work as on a set).
* ``get_task(id)``, ``tasks_of(exercise)``, ``make_inputs(spec, seed)``.

Adding an exercise: write ``exN.py`` with a list ``TASKS`` and add its name to ``_MODULES``.
"""

from __future__ import annotations

import importlib

from rnncourse.grading.verdict import make_inputs

__all__ = ["TASKS", "EXERCISES", "GRADED_FUNCTIONS", "get_task", "tasks_of", "make_inputs"]

_MODULES = ("ex1", "ex2", "ex3", "ex4", "ex5", "ex6", "ex7", "ex8", "ex9")


class _GradedFunctions(dict):
    """``{name: module}``; combines with sets like the set of its names (``names & GRADED_FUNCTIONS``)."""

    def __and__(self, other):
        return frozenset(self) & frozenset(other)

    __rand__ = __and__


def _reference_module(spec):
    ref = getattr(spec.reference, "__wrapped__", spec.reference)  # a wrapper names what it wraps
    return getattr(ref, "__module__", None) or "rnncourse.grading.reference"


def _load():
    tasks = {}
    for name in _MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for spec in module.TASKS:
            if spec.exercise != name:
                raise ValueError(f"task {spec.id} is defined in exercises/{name}.py")
            if spec.id in tasks:
                raise ValueError(f"task {spec.id} is defined twice")
            tasks[spec.id] = spec
    return tasks


TASKS = _load()
EXERCISES = {}
for _spec in TASKS.values():
    EXERCISES.setdefault(_spec.exercise, []).append(_spec.id)
GRADED_FUNCTIONS = _GradedFunctions({s.func: _reference_module(s) for s in TASKS.values()})
# rnncourse.nn keeps a plain-loop twin beside each fast sequence kernel (rnn_forward_loop, ...): calling
# it is calling the course's implementation too, so it is graded-function territory as well
GRADED_FUNCTIONS.update(
    {
        f"{name}_loop": "rnncourse.nn"
        for name in list(GRADED_FUNCTIONS)
        if hasattr(importlib.import_module("rnncourse.nn"), f"{name}_loop")
    }
)
del _spec


def get_task(task_id):
    if task_id not in TASKS:
        raise KeyError(f"unknown task {task_id!r}; known tasks: {', '.join(TASKS)}")
    return TASKS[task_id]


def tasks_of(exercise):
    return [TASKS[t] for t in EXERCISES.get(exercise, [])]
