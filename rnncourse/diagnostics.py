"""The quantities the lessons' explorers show, as pure functions (lessons 1, 3 and 4).

Nothing here draws or keeps state: every function takes arrays and returns arrays (or small
NamedTuples of arrays), so the same numbers can be asserted in tests, printed in a notebook and
plotted by ``rnncourse.viz``.

Conventions are those of ``rnncourse.nn.rnn``: row vectors, ``h_t = tanh(x_t Wx + h_{t-1} Wh + b)``.
Where a function works on *one* sequence it says so and takes ``x (T, D)`` / ``h (T, H)`` without a
batch axis; ``h[t - 1]`` is ``h_t`` for ``t = 1..T`` and ``h_0`` is passed separately.

The Jacobian of one step, in the usual layout ``J[i, j] = d h_t[i] / d h_{t-1}[j]``, is::

    J_t = dh_t/dh_{t-1} = diag(1 - h_t**2) Wh^T          (H, H)

(the transpose appears because the code multiplies *row* vectors by ``Wh`` from the right). The
gradient of a row vector flows backwards as ``dh_{t-1} = dh_t J_t``, which is exactly
``rnn_step_backward``'s ``dh_prev = (dh * (1 - h**2)) @ Wh.T``. Chaining the steps::

    dh_T/dh_k = J_T J_{T-1} ... J_{k+1}

Its norm, for every ``k``, is what tells whether a signal from step ``k`` still reaches the loss
at step ``T`` (Pascanu, Mikolov & Bengio, 2013, "On the difficulty of training recurrent neural
networks").
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .nn import clip_by_global_norm, clip_by_value, orthogonal, rnn_backward, rnn_forward, spectral_radius
from .nn.rnn import rnn_step_backward, rnn_step_forward

__all__ = [
    "recurrent_matrix", "spectral_radius", "spectral_norm", "run_rnn",
    "step_jacobians", "jacobian_products", "jacobian_norms",
    "saturation_fraction", "saturation_per_step", "mean_tanh_derivative",
    "BPTTTrace", "bptt_trace", "truncation_errors", "bptt_cache_floats",
    "angle_degrees", "ClipComparison", "compare_clipping",
    "param_count_rnn", "param_count_unrolled",
]


# --------------------------------------------------------------------------- matrices

def recurrent_matrix(H, radius=1.0, kind="normal", rng=0):
    """A recurrent matrix ``Wh (H, H)`` whose spectral radius is exactly ``radius``.

    ``kind``: "normal" (Gaussian entries, rescaled), "orthogonal" (every eigenvalue has modulus 1
    before scaling, so all singular values equal ``radius``) or "identity" (``radius * I``).
    ``radius = 0`` gives the zero matrix (the recurrence is switched off).
    """
    if not (np.isscalar(radius) and radius >= 0):
        raise ValueError(f"radius must be a number >= 0, got {radius!r}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if kind == "identity":
        return radius * np.eye(H)
    if kind == "orthogonal":
        return orthogonal(H, rng, gain=radius)
    if kind != "normal":
        raise ValueError(f"kind must be 'normal', 'orthogonal' or 'identity', got {kind!r}")
    W = rng.normal(size=(H, H))
    return W * (radius / spectral_radius(W))


def spectral_norm(W):
    """Largest singular value of ``W``: the most any vector can be stretched by one product."""
    return float(np.linalg.norm(np.asarray(W, dtype=np.float64), ord=2))


def run_rnn(x, Wx, Wh, b, h0=None):
    """Hidden states of ONE sequence: ``x (T, D)`` -> ``h (T, H)`` (``h[t-1] = h_t``).
    A thin wrapper over ``rnn_forward`` with a batch of one; ``h0 (H,)`` defaults to zeros."""
    x = np.asarray(x, dtype=np.float64)
    h0 = None if h0 is None else np.asarray(h0, dtype=np.float64)[None]
    h, _ = rnn_forward(x[None], h0, Wx, Wh, b)
    return h[0].copy()


# --------------------------------------------------------------------------- Jacobians

def step_jacobians(h, Wh):
    """Jacobians of every step of one sequence: ``h (T, H)``, ``Wh (H, H)`` -> ``J (T, H, H)``.

    ``J[t-1] = dh_t/dh_{t-1} = diag(1 - h_t**2) Wh^T``, i.e. ``J[t-1][i, j] = (1 - h_t[i]**2) Wh[j, i]``.
    """
    h = np.asarray(h, dtype=np.float64)
    d = 1.0 - h * h                                  # tanh'(a_t), shape (T, H)
    return d[:, :, None] * np.asarray(Wh, dtype=np.float64).T[None]


def jacobian_products(h, Wh):
    """``P (T+1, H, H)`` with ``P[k] = dh_T/dh_k = J_T ... J_{k+1}`` for ``k = 0..T`` (``P[T] = I``).

    Built backwards, one product per step: ``P[k] = P[k+1] J_{k+1}``.
    """
    J = step_jacobians(h, Wh)
    T, H, _ = J.shape
    P = np.empty((T + 1, H, H))
    P[T] = np.eye(H)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(T - 1, -1, -1):
            P[k] = P[k + 1] @ J[k]
    return P


def jacobian_norms(h, Wh, ord=2):
    """``norms (T+1,)`` with ``norms[k] = ||dh_T/dh_k||`` (spectral norm by default, or "fro").

    ``norms[T] = 1``. Small values at small ``k`` mean that what happened early no longer reaches
    step ``T``: the gradient vanishes. Values may be ``inf`` if the product overflows float64.
    """
    P = jacobian_products(h, Wh)
    with np.errstate(over="ignore", invalid="ignore"):
        if ord == "fro":
            return np.sqrt(np.sum(P * P, axis=(1, 2)))
        if ord != 2:
            raise ValueError(f"ord must be 2 or 'fro', got {ord!r}")
        finite = np.all(np.isfinite(P), axis=(1, 2))
        out = np.full(P.shape[0], np.inf)
        out[finite] = np.linalg.norm(P[finite], ord=2, axis=(1, 2))
    return out


# --------------------------------------------------------------------------- saturation

def saturation_fraction(h, threshold=0.95):
    """Fraction of the entries of ``h`` with ``|h| > threshold`` (any shape).

    At ``|h| = 0.95`` the local derivative ``1 - h**2`` is already below 0.1: a saturated unit
    passes almost no gradient back through its step.
    """
    h = np.asarray(h, dtype=np.float64)
    return float(np.mean(np.abs(h) > threshold)) if h.size else 0.0


def saturation_per_step(h, threshold=0.95):
    """``h (T, H)`` -> ``(T,)``: the fraction of saturated units at every step."""
    return np.mean(np.abs(np.asarray(h, dtype=np.float64)) > threshold, axis=-1)


def mean_tanh_derivative(h):
    """``h (T, H)`` -> ``(T,)``: the mean of ``1 - h_t**2`` at every step (1 = linear, 0 = saturated)."""
    h = np.asarray(h, dtype=np.float64)
    return np.mean(1.0 - h * h, axis=-1)


# --------------------------------------------------------------------------- BPTT, step by step

class BPTTTrace(NamedTuple):
    """What a (possibly truncated) backward pass computed at every step. Arrays are time-major
    over the ``T`` steps; ``[t-1]`` belongs to step ``t``."""
    h: np.ndarray           # (N, T, H) forward hidden states
    dh_total: np.ndarray    # (T, N, H) gradient reaching h_t: dh[:, t] from the loss + dh_next
    dh_next: np.ndarray     # (T, N, H) the part of dh_total that came back from step t+1
    dWh_terms: np.ndarray   # (T, H, H) contribution of step t to dWh: h_{t-1}^T da_t
    dWx: np.ndarray         # (D, H) totals
    dWh: np.ndarray         # (H, H)
    db: np.ndarray          # (H,)
    dh0: np.ndarray         # (N, H)


def bptt_trace(x, Wx, Wh, b, dh, h0=None, k=None):
    """Backpropagation through time written as the explicit loop of lesson 3, keeping every step.

    ``x (N, T, D)``, ``dh (N, T, H)`` upstream gradients of the hidden states (zeros where a step
    has no loss). Walking back from ``t = T``, the gradient reaching ``h_t`` is
    ``dh[:, t] + dh_next`` and ``dWh`` is the *sum* of one term ``h_{t-1}^T da_t`` per step.

    With a truncation window ``k`` the sequence is cut into chunks ``[0, k), [k, 2k), ...`` (as in
    ``rnncourse.nn.truncated_bptt``): ``dh_next`` is set to zero where the walk crosses a chunk
    border, so no gradient flows further back than the start of its chunk. The forward pass is the
    same either way. ``dh0`` is the gradient of the initial state (zero if the first chunk ends
    before step 1 receives any gradient).
    """
    x = np.asarray(x, dtype=np.float64)
    dh = np.asarray(dh, dtype=np.float64)
    N, T, D = x.shape
    H = Wh.shape[0]
    if k is None:
        k = T
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k (the truncation window) must be a positive integer or None, got {k!r}")
    h_prev = np.zeros((N, H)) if h0 is None else np.asarray(h0, dtype=np.float64)
    caches, hs = [], []
    for t in range(T):
        h_prev, cache = rnn_step_forward(x[:, t], h_prev, Wx, Wh, b)
        caches.append(cache)
        hs.append(h_prev)
    dh_total = np.zeros((T, N, H))
    dh_next_all = np.zeros((T, N, H))
    dWh_terms = np.zeros((T, H, H))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dh_next = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dh_next_all[t] = dh_next
        dh_total[t] = dh[:, t] + dh_next              # the "+ dh_next" term
        _, dh_prev, dWx_t, dWh_t, db_t = rnn_step_backward(dh_total[t], caches[t])
        dWh_terms[t] = dWh_t
        dWx += dWx_t
        dWh += dWh_t                                  # shared weights: sum over time
        db += db_t
        # truncation: the state at a chunk start is a constant, so nothing flows past it
        dh_next = dh_prev if t % k != 0 or t == 0 else np.zeros_like(dh_prev)
    return BPTTTrace(np.stack(hs, axis=1), dh_total, dh_next_all, dWh_terms, dWx, dWh, db, dh_next)


def truncation_errors(x, Wx, Wh, b, dh, ks, h0=None):
    """Relative error ``||dWh_k - dWh|| / ||dWh||`` of truncated BPTT for every window in ``ks``.
    Uses the core's ``rnn_backward`` for the full gradient. Returns ``(len(ks),)``."""
    _, cache = rnn_forward(x, h0, Wx, Wh, b)
    full = rnn_backward(dh, cache)[3]
    denom = max(np.linalg.norm(full), 1e-300)
    return np.array([np.linalg.norm(bptt_trace(x, Wx, Wh, b, dh, h0, int(k)).dWh - full) / denom
                     for k in ks])


def bptt_cache_floats(N, T, D, H, k=None):
    """How many floats the backward pass must keep from the forward pass of a vanilla RNN.

    Every step stores its input ``x_t (N, D)`` and its state ``h_t (N, H)``; full BPTT keeps all
    ``T`` steps, truncated BPTT only the ``k`` steps of the chunk it is working on.
    """
    steps = T if k is None else min(k, T)
    return steps * N * (D + H)


# --------------------------------------------------------------------------- clipping

def angle_degrees(a, b):
    """Angle between two vectors (any shapes, flattened) in degrees; 0 means same direction."""
    a = np.ravel(np.asarray(a, dtype=np.float64))
    b = np.ravel(np.asarray(b, dtype=np.float64))
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 0.0
    ua, ub = a / na, b / nb
    # 2 atan2(|ua - ub|, |ua + ub|) is accurate for tiny angles, where arccos(cos) is not
    return float(np.degrees(2 * np.arctan2(np.linalg.norm(ua - ub), np.linalg.norm(ua + ub))))


class ClipComparison(NamedTuple):
    g: np.ndarray
    by_norm: np.ndarray
    by_value: np.ndarray
    norm: float
    angle_norm: float     # degrees between g and by_norm (always 0)
    angle_value: float    # degrees between g and by_value


def compare_clipping(g, threshold):
    """Clip one gradient vector both ways with the core's functions and measure the turn.

    By global norm: ``g * min(1, threshold / ||g||)``, same direction. By value: every entry clamped
    to ``[-threshold, threshold]``; large entries are cut more than small ones, so the direction
    turns towards the diagonal.
    """
    g = np.asarray(g, dtype=np.float64)
    by_norm, norm = clip_by_global_norm({"g": g}, threshold)
    by_value = clip_by_value({"g": g}, threshold)
    return ClipComparison(g, by_norm["g"], by_value["g"], norm,
                          angle_degrees(g, by_norm["g"]), angle_degrees(g, by_value["g"]))


# --------------------------------------------------------------------------- parameter counts

def param_count_rnn(D, H):
    """Parameters of one vanilla cell, ``Wx (D, H) + Wh (H, H) + b (H,)``: independent of ``T``."""
    return D * H + H * H + H


def param_count_unrolled(D, H, T):
    """Parameters of the same network unrolled over ``T`` steps with separate weights per step."""
    return T * param_count_rnn(D, H)


# --------------------------------------------------------------------------- training snapshots

def train_with_snapshots(model, task, steps=200, every=10, **train_kwargs):
    """Run ``rnncourse.nn.train`` and keep a copy of the model every ``every`` steps.

    Returns ``(history, snapshots)`` where ``snapshots`` is a list of ``(step, model)`` pairs,
    starting with ``(0, model)`` (before any update) and ending with the trained model; ``step``
    counts the updates already made. Extra keyword arguments go to ``train``.
    """
    from .nn import train

    snapshots = [(0, model)]

    def keep(hist):
        n = len(hist.loss)
        if snapshots[-1][0] != n:
            snapshots.append((n, hist.model))

    hist = train(model, task, steps=steps, callback=keep, callback_every=every, **train_kwargs)
    return hist, snapshots


__all__.append("train_with_snapshots")
