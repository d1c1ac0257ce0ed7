"""Small pieces every exercise module uses: random sizes, random arrays, caches as input arrays."""

from __future__ import annotations

import numpy as np

#: return slots of a step backward of the vanilla cell
STEP_BWD_RET = ["dx", "dh_prev", "dWx", "dWh", "db"]


def dims(rng):
    """Random sizes ``N, D, H, T`` with ``H != D`` (so a transposed weight cannot fit by chance)."""
    N = int(rng.integers(2, 5))
    D = int(rng.integers(3, 7))
    H = int(rng.integers(4, 8))
    if H == D:
        H += 1
    T = int(rng.integers(4, 8))
    return N, D, H, T


def normal(rng, *shape, scale=1.0):
    return rng.normal(scale=scale, size=shape)


def prefixed(prefix, cache):
    """A NamedTuple cache as input arrays ``{prefix + field: array}`` (contiguous, for ``.npy``)."""
    return {prefix + f: np.ascontiguousarray(np.asarray(v)) for f, v in cache._asdict().items()}


def cache_arg(cls_name, prefix="cache."):
    """Argument spec: the ``rnncourse.nn`` cache class ``cls_name`` rebuilt from prefixed inputs."""
    return ("cache", cls_name, prefix)


def helper(name, module="rnncourse.nn", attr=None):
    """A graded function the task may call; while the task is judged the course's version is used."""
    return (name, module, attr or name)


def gate_bias(b, order, H, values):
    """Set the bias block of each gate in ``values`` (``{"f": 40.0}``) to a constant: saturates it."""
    b = b.copy()
    for gate, value in (values or {}).items():
        k = order.index(gate)
        b[k * H : (k + 1) * H] = value
    return b
