"""Reference answers for the exercise tasks that have no counterpart in ``rnncourse.nn``.

* ``jacobian_norms`` (exercise 4): how strongly ``h_T`` depends on every earlier ``h_k``.
* ``temperature_softmax`` and ``sample_with_temperature`` (exercise 7): sampling text.
* ``long_range_task`` and ``train_long_range`` (exercise 7): the long-lag task a gated model must
  learn, and one way to learn it.

These are the grader's references: the exercise notebooks ask students to write functions with
exactly these signatures.
"""

from __future__ import annotations

import numpy as np

from rnncourse.diagnostics import jacobian_norms  # noqa: F401  (exercise 4's reference: spectral norms, k = 0..T)
from rnncourse.nn import SequenceModel, train
from rnncourse.textgen import temperature_probs

__all__ = [
    "jacobian_norms",
    "temperature_softmax",
    "sample_with_temperature",
    "long_range_task",
    "LONG_RANGE_TARGET",
    "train_long_range",
]


def temperature_softmax(scores, tau):
    """``p = softmax(scores / tau)`` over the last axis; ``scores (N, V)`` -> ``p (N, V)``.
    ``tau = 0`` means greedy: a one-hot of the arg max (the limit as tau -> 0). The temperature is
    ``tau`` because ``T`` is the sequence length. The package's own implementation (lesson 7) is the
    reference."""
    return temperature_probs(scores, tau)


def sample_with_temperature(scores, tau, u):
    """Draw one class per row by inverse-CDF sampling from ``temperature_softmax(scores, tau)``.

    ``scores (N, V)``, ``u (N,)`` uniform numbers in [0, 1) supplied by the caller (so a sample is
    a pure function of its inputs). The sampled id of row ``n`` is the first ``j`` with
    ``cumsum(p[n])[j] > u[n]``. Returns ``ids (N,)`` int64.
    """
    p = temperature_softmax(scores, tau)
    cdf = np.cumsum(p, axis=-1)
    u = np.asarray(u, dtype=np.float64)
    ids = (cdf <= u[:, None]).sum(axis=-1)
    return np.minimum(ids, p.shape[-1] - 1).astype(np.int64)


#: accuracy a model must reach on ``long_range_task()`` (masked recall steps, fresh data)
LONG_RANGE_TARGET = 0.9


def long_range_task():
    """The copy task of exercise 7: remember 3 symbols (of 4) across 20 blank steps (T = 27)."""
    from rnncourse.tasks import copy_memory

    return copy_memory(n_symbols=4, length=3, delay=20)


def train_long_range(seed):
    """Train a GRU on ``long_range_task()`` and return the trained ``SequenceModel``."""
    task = long_range_task()
    model = SequenceModel.for_task("gru", task, 32, rng=seed)
    # lr 0.02 and 500 steps missed the target for 5 of 30 seeds (the grader draws the seed); these
    # settings reached it for 60 of 60 (lowest accuracy 0.943), in about 3 s each
    return train(model, task, steps=1000, batch_size=32, lr=0.01, clip=1.0, rng=seed + 1).model
