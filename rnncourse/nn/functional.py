"""Elementwise nonlinearities and losses used by every cell (lessons 1, 2, 5).

All functions are numerically stable: ``sigmoid`` and ``softmax`` never overflow, even for inputs
of +-1000, and never emit NumPy warnings. Derivatives are written in terms of the *outputs*
(``dsigmoid(s) = s (1 - s)``, ``dtanh(t) = 1 - t^2``), which is how the backward passes use them:
the forward pass already stored the activations.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sigmoid", "tanh", "dsigmoid", "dtanh", "softmax", "log_softmax"]


def sigmoid(a, out=None):
    """Logistic function ``s = 1 / (1 + exp(-a))`` computed without overflow.

    Uses ``s = 0.5 * (1 + tanh(a / 2))``, an exact identity that never evaluates ``exp`` of a
    large number. ``out`` may be given to write the result in place (it must not alias ``a``
    unless you no longer need ``a``).
    """
    a = np.asarray(a)
    if a.ndim == 0 and out is None:  # a Python float or 0-d array: no buffer to work in
        return 0.5 * (1.0 + np.tanh(0.5 * a))
    out = np.multiply(a, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def tanh(a, out=None):
    """Hyperbolic tangent (NumPy's is already stable)."""
    return np.tanh(a, out=out)


def dsigmoid(s):
    """Derivative of the sigmoid expressed through its output ``s``: ``s * (1 - s)``."""
    return s * (1.0 - s)


def dtanh(t):
    """Derivative of tanh expressed through its output ``t``: ``1 - t**2``."""
    return 1.0 - t * t


def log_softmax(scores, axis=-1):
    """``log softmax`` along ``axis`` via the max-shift trick (no overflow, no log(0))."""
    scores = np.asarray(scores)
    shifted = scores - scores.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(scores, axis=-1):
    """Softmax along ``axis``; subtracting the maximum first keeps ``exp`` finite."""
    scores = np.asarray(scores)
    shifted = scores - scores.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)
