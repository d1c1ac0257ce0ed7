"""Kept for code written against the old layout; everything lives elsewhere now.

* the verdict (probe records, comparison, bug models, points): ``rnncourse.grading.verdict``
* the tasks, one module per exercise, and the registry: ``rnncourse.grading.exercises``
"""

from rnncourse.grading.exercises import EXERCISES, GRADED_FUNCTIONS, TASKS, get_task, make_inputs, tasks_of
from rnncourse.grading.verdict import (
    Bug,
    Observation,
    Probe,
    ProbeResult,
    Problem,
    TaskResult,
    TaskSpec,
    judge,
    run_in_process,
)

__all__ = [
    "Bug",
    "Observation",
    "Probe",
    "ProbeResult",
    "Problem",
    "TaskResult",
    "TaskSpec",
    "judge",
    "run_in_process",
    "EXERCISES",
    "GRADED_FUNCTIONS",
    "TASKS",
    "get_task",
    "make_inputs",
    "tasks_of",
]
