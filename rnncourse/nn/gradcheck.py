"""Numeric gradient checks (lesson 3).

Central differences in float64: ``df/dx_i ≈ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``, with an
error of order ``eps^2``. For a function with array output, pass the upstream gradient ``dout``
and the check differentiates the scalar ``sum(f(x) * dout)``, which is exactly what a backward
pass computes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["numeric_gradient", "rel_error", "check_gradients"]


def rel_error(a, b, floor=1e-12):
    """Relative error of two arrays as a whole: ``||a - b|| / (||a|| + ||b||)`` (Euclidean norms).

    Measuring the arrays as a whole keeps entries that are zero up to rounding (where an elementwise
    ratio is pure noise) from deciding the verdict. About 1e-7 or less means agreement in float64;
    1e-2 or more means a bug.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


def numeric_gradient(f, x, dout=None, eps=1e-6):
    """Central-difference gradient of ``sum(f(x) * dout)`` (or of scalar ``f(x)``) w.r.t. ``x``.

    ``f`` is called with a perturbed *copy* of ``x``; the caller's ``x`` is never modified.
    Returns an array shaped like ``x`` (float64).
    """
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(x)

    def scalar(v):
        out = np.asarray(f(v), dtype=np.float64)
        return float(out) if dout is None else float(np.sum(out * dout))

    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = scalar(x)
        flat[i] = old - eps
        fm = scalar(x)
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    return grad


def check_gradients(forward, inputs, analytic, dout=None, eps=1e-6):
    """Compare analytic gradients with numeric ones for each named input.

    ``forward(**inputs)`` returns an array (or a scalar loss); ``analytic`` maps input names to the
    gradients your backward pass produced. Returns ``{name: rel_error}`` for every name in
    ``analytic``; assert on the numbers, e.g. ``max(errors.values()) < 1e-7``.
    """
    errors = {}
    for name, g in analytic.items():
        if name not in inputs:
            raise KeyError(f"analytic gradient {name!r} has no matching input; inputs are {sorted(inputs)}")

        def f(v, _name=name):
            return forward(**{**inputs, _name: v})

        errors[name] = rel_error(numeric_gradient(f, inputs[name], dout, eps), g)
    return errors
