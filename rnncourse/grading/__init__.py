"""Exercises and grading: ``check`` for students, the batch grader for instructors.

``from rnncourse.grading import check`` is all a notebook needs; the grader lives in
``rnncourse.grading.grader`` and is driven by ``rnncourse grade``.

``check`` is imported on first use (PEP 562), so importing a light submodule such as
``rnncourse.grading.limits`` (the command line's help, every grading kernel's launcher) does not
load NumPy and the registry of every exercise.
"""

__all__ = ["check"]


def __getattr__(name):
    if name == "check":
        from rnncourse.grading.checks import check

        return check
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
