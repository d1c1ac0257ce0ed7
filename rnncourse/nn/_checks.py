"""Argument validation shared by the numerical core.

Every error names the argument, the shape that was expected and what was given, so that a student
who passes ``x`` of shape ``(T, D)`` to a sequence function learns exactly what went wrong.

One policy for the error type, the same as Python's own: ``TypeError`` when the argument is the
wrong kind of thing (a string where an array belongs, ``2.5`` where a count belongs), ``ValueError``
when it is the right kind but a wrong value (a wrong shape, ``0`` where a count must be >= 1).
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def as_float_array(name, a):
    """Return ``a`` as a floating ndarray, or raise TypeError naming ``name``."""
    if isinstance(a, np.ndarray):
        arr = a
    else:
        try:
            arr = np.asarray(a)
        except Exception as exc:  # pragma: no cover - exotic objects
            raise TypeError(f"{name} must be a NumPy array, got {type(a).__name__}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise TypeError(f"{name} must be a numeric NumPy array, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def _fmt(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def check_shape(name, a, expected, names=None):
    """Check ``a.shape`` against ``expected`` (ints, or None for "any").

    ``names`` gives the symbolic names of the dimensions (e.g. ``("N", "T", "D")``) so the
    message reads ``x must have shape (N, T, D) = (2, 5, 3), got (2, 5)``.
    """
    expected = tuple(expected)
    ok = a.ndim == len(expected) and all(e is None or e == s for e, s in zip(expected, a.shape, strict=True))
    if ok:
        return a
    if names is not None:
        sym = "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"
        concrete = (
            "("
            + ", ".join("?" if e is None else str(e) for e in expected)
            + ("," if len(expected) == 1 else "")
            + ")"
        )
        want = f"{sym} = {concrete}" if any(e is not None for e in expected) else sym
    else:
        want = _fmt(["?" if e is None else e for e in expected])
    hint = ""
    if a.ndim != len(expected):
        hint = f" ({a.ndim}-D instead of {len(expected)}-D"
        if names is not None and len(expected) == 3 and a.ndim == 2:
            hint += "; for a single sequence add a batch axis with x[None]"
        hint += ")"
    raise ValueError(f"{name} must have shape {want}, got {_fmt(a.shape)}{hint}")


def check_cache(name, cache, cls):
    if not isinstance(cache, cls):
        raise TypeError(
            f"{name} must be the {cls.__name__} returned by the forward pass, got {type(cache).__name__}"
        )
    return cache


def check_step_caches(caches, cls, producer):
    """Check that ``caches`` is the non-empty list of ``cls`` step caches that ``producer`` returned."""
    if not isinstance(caches, (list, tuple)) or hasattr(caches, "_fields"):  # one cache is a tuple too
        raise TypeError(
            f"caches must be the list of {cls.__name__} returned by {producer}, got {type(caches).__name__}"
        )
    if not caches:
        raise ValueError(f"caches must hold one {cls.__name__} per time step, got an empty list")
    for t, cache in enumerate(caches):
        check_cache(f"caches[{t}]", cache, cls)
    return caches


def check_int(name, value, minimum=None):
    """Return ``value`` as an ``int``: TypeError unless it is an integer (``True`` and ``2.0`` are
    not), ValueError if it is below ``minimum``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        want = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise ValueError(f"{name} must be {want}, got {value!r}")
    return int(value)


def check_number(name, value, minimum=None, strict=False):
    """Return ``value`` as a ``float``: TypeError unless it is a real number (not a bool),
    ValueError if it is NaN, infinite, or below ``minimum`` (at or below it with ``strict``)."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    low = minimum is not None and (value <= minimum if strict else value < minimum)
    if not math.isfinite(value) or low:
        if minimum is None:
            want = "a finite number"
        elif strict and minimum == 0:
            want = "a positive number"
        else:
            want = f"a finite number {'>' if strict else '>='} {minimum}"
        raise ValueError(f"{name} must be {want}, got {value!r}")
    return value


def result_dtype(*arrays):
    return np.result_type(*[a.dtype for a in arrays])
