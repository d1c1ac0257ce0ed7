"""The course's one rule for random numbers.

Every function that draws random numbers takes an ``rng`` argument and passes it through
``as_rng``, which accepts exactly three things:

- a ``numpy.random.Generator``: used as it is, so one generator can feed several calls in turn;
- an ``int`` seed (``0``, ``42``, ...): a new ``np.random.default_rng(seed)``; the same seed gives
  the same numbers on every run, which is what lessons and tests use;
- ``None``: fresh, unpredictable randomness (``np.random.default_rng()``), as in NumPy itself.

Anything else (a float, a string, ``True``, the legacy ``np.random.RandomState``) is a TypeError
that names the argument: a seed of ``2.5`` is a mistake, not a request for randomness.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_rng"]


def as_rng(rng=None, name="rng"):
    """Return a ``numpy.random.Generator`` for ``rng`` (a Generator, an int seed or None).

    ``name`` is the argument's name in the caller, used in the error message.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"{name} must be a seed >= 0, got {rng!r}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{name} must be a numpy Generator (np.random.default_rng(seed)), an int seed "
        f"or None (fresh randomness), got {type(rng).__name__} {rng!r}"
    )
