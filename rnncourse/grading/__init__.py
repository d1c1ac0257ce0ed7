"""Exercises and grading: ``check`` for students, the batch grader for instructors.

``from rnncourse.grading import check`` is all a notebook needs; the grader lives in
``rnncourse.grading.grader`` and is driven by ``rnncourse grade``.
"""

from rnncourse.grading.checks import check

__all__ = ["check"]
