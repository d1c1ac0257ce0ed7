"""The grader's resource limits: the one place their defaults live.

``rnncourse grade`` (its options and their help), the grader (``grader.Limits`` is this class) and
the sandbox launcher (``python -m rnncourse.grading.sandbox``) all read their defaults from here.
This module imports nothing heavy, so the command line can build its help without NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits", "DEFAULT"]


@dataclass(frozen=True)
class Limits:
    cell_timeout: int = 30  # seconds per cell of the student's notebook
    task_timeout: int = 30  # seconds for all probes of one task (a task may ask for more)
    mem_mb: int = 2048  # address space of the kernel
    cpu_s: int = 300  # CPU seconds per kernel
    fsize_mb: int = 256  # largest file the kernel may write
    nproc: int = 64  # processes of the kernel's user (applied when it runs as nobody)
    max_restarts: int = 2


DEFAULT = Limits()
