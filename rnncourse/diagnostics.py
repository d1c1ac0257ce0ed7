"""The quantities the lessons' explorers show, as pure functions (used by lessons 0 to 7).

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

from rnncourse.nn.rng import as_rng

from .nn import clip_by_global_norm, clip_by_value, orthogonal, rnn_backward, rnn_forward, spectral_radius
from .nn.gru import gru_forward
from .nn.lstm import lstm_forward, lstm_step_backward, lstm_step_forward
from .nn.rnn import rnn_step_backward, rnn_step_forward

__all__ = [
    "recurrent_matrix",
    "spectral_radius",
    "spectral_norm",
    "run_rnn",
    "step_jacobians",
    "jacobian_products",
    "jacobian_norms",
    "linear_regime_norms",
    "saturation_fraction",
    "saturation_per_step",
    "mean_tanh_derivative",
    "BPTTTrace",
    "bptt_trace",
    "truncation_error",
    "truncation_errors",
    "bptt_cache_floats",
    "angle_degrees",
    "ClipComparison",
    "compare_clipping",
    "param_count_rnn",
    "param_count_unrolled",
]


# --------------------------------------------------------------------------- matrices


def recurrent_matrix(H, radius=1.0, kind="gaussian", rng=0):
    """A recurrent matrix ``Wh (H, H)`` whose spectral radius is exactly ``radius``.

    ``kind``: "gaussian" (independent Gaussian entries, rescaled; such a matrix is almost surely
    *non-normal*: its eigenvectors are not orthogonal, so its spectral norm is larger than its
    spectral radius and a product of a few copies can grow before it shrinks), "orthogonal" (every
    eigenvalue has modulus 1 before scaling, so all singular values equal ``radius``) or
    "identity" (``radius * I``). "normal" is an older name for "gaussian" (it clashed with the
    "normal matrix" of linear algebra). ``radius = 0`` gives the zero matrix.
    """
    if not (np.isscalar(radius) and radius >= 0):
        raise ValueError(f"radius must be a number >= 0, got {radius!r}")
    rng = as_rng(rng)
    if kind == "identity":
        return radius * np.eye(H)
    if kind == "orthogonal":
        return orthogonal(H, rng, gain=radius)
    if kind not in ("gaussian", "normal"):
        raise ValueError(f"kind must be 'gaussian', 'orthogonal' or 'identity', got {kind!r}")
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
    d = 1.0 - h * h  # tanh'(a_t), shape (T, H)
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


def linear_regime_norms(rho, T):
    """``(T+1,)``: ``rho ** (T - k)`` for ``k = 0..T``, what ``||dh_T/dh_k||`` would be if every
    unit stayed linear (``tanh' = 1``) and ``Wh`` stretched every direction by its spectral radius
    ``rho`` (exact for an orthogonal or identity ``Wh``). Overflow gives ``inf``."""
    k = np.arange(T + 1)
    with np.errstate(over="ignore"):
        return float(rho) ** (T - k).astype(np.float64)


def jacobian_norms(h, Wh, ord=2):
    """``norms (T+1,)`` with ``norms[k] = ||dh_T/dh_k||`` (spectral norm by default, or "fro").

    ``norms[T] = 1``. Small values at small ``k`` mean that what happened early no longer reaches
    step ``T``: the gradient vanishes. Values may be ``inf`` if the product overflows float64.
    """
    P = jacobian_products(h, Wh)
    if ord == "fro":
        with np.errstate(over="ignore", invalid="ignore"):
            return np.sqrt(np.sum(P * P, axis=(1, 2)))
    if ord != 2:
        raise ValueError(f"ord must be 2 or 'fro', got {ord!r}")
    return matrix_norms(P)


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

    h: np.ndarray  # (N, T, H) forward hidden states
    dh_total: np.ndarray  # (T, N, H) gradient reaching h_t: dh[:, t] from the loss + dh_next
    dh_next: np.ndarray  # (T, N, H) the part of dh_total that came back from step t+1
    dWh_terms: np.ndarray  # (T, H, H) contribution of step t to dWh: h_{t-1}^T da_t
    dWx: np.ndarray  # (D, H) totals
    dWh: np.ndarray  # (H, H)
    db: np.ndarray  # (H,)
    dh0: np.ndarray  # (N, H)


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
        dh_total[t] = dh[:, t] + dh_next  # the "+ dh_next" term
        _, dh_prev, dWx_t, dWh_t, db_t = rnn_step_backward(dh_total[t], caches[t])
        dWh_terms[t] = dWh_t
        dWx += dWx_t
        dWh += dWh_t  # shared weights: sum over time
        db += db_t
        # truncation: the state at a chunk start is a constant, so nothing flows past it
        dh_next = dh_prev if t % k != 0 or t == 0 else np.zeros_like(dh_prev)
    return BPTTTrace(np.stack(hs, axis=1), dh_total, dh_next_all, dWh_terms, dWx, dWh, db, dh_next)


def truncation_error(dWh_truncated, dWh_full):
    """Relative error ``||dWh_k - dWh|| / ||dWh||`` (Frobenius norms) of one truncated gradient
    against the full one; 0 when both are zero."""
    full = np.asarray(dWh_full, dtype=np.float64)
    diff = np.asarray(dWh_truncated, dtype=np.float64) - full
    return float(np.linalg.norm(diff) / max(np.linalg.norm(full), 1e-300))


def truncation_errors(x, Wx, Wh, b, dh, ks, h0=None):
    """``truncation_error`` of truncated BPTT for every window in ``ks``. Uses the core's
    ``rnn_backward`` for the full gradient. Returns ``(len(ks),)``."""
    _, cache = rnn_forward(x, h0, Wx, Wh, b)
    full = rnn_backward(dh, cache)[3]
    return np.array([truncation_error(bptt_trace(x, Wx, Wh, b, dh, h0, int(k)).dWh, full) for k in ks])


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
    angle_norm: float  # degrees between g and by_norm (always 0)
    angle_value: float  # degrees between g and by_value


def compare_clipping(g, threshold):
    """Clip one gradient vector both ways with the core's functions and measure the turn.

    By global norm: ``g * min(1, threshold / ||g||)``, same direction. By value: every entry clamped
    to ``[-threshold, threshold]``; large entries are cut more than small ones, so the direction
    turns towards the diagonal.
    """
    g = np.asarray(g, dtype=np.float64)
    by_norm, norm = clip_by_global_norm({"g": g}, threshold)
    by_value = clip_by_value({"g": g}, threshold)
    return ClipComparison(
        g, by_norm["g"], by_value["g"], norm, angle_degrees(g, by_norm["g"]), angle_degrees(g, by_value["g"])
    )


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


def readout_values(model, x, y, loss):
    """What the training explorer plots for a batch: ``(N, T)`` values read from the model.

    ``loss="mse"``: the first output (a regression value). Otherwise the softmax of the scores,
    and for two classes ``P(class 1)``, for more ``P(correct class)`` (the probability the model
    gives the target ``y (N, T)``).
    """
    from .nn import predict, softmax

    scores = predict(model, x)
    if loss == "mse":
        return scores[..., 0]
    p = softmax(scores, axis=-1)
    if p.shape[-1] == 2:
        return p[..., 1]
    return np.take_along_axis(p, np.asarray(y)[..., None], axis=-1)[..., 0]


def readout_error(values, target, mask, loss, n_classes):
    """The error of one sequence as the training explorer reports it, over the steps with
    ``mask > 0``: the mean squared error for ``loss="mse"``; otherwise the fraction of wrong steps
    (two classes: ``|P(class 1) - target| > 0.5``; more: ``P(correct class) < 0.5``). ``values``,
    ``target``, ``mask (T,)`` as from ``readout_values`` and the batch. NaN if no step counts."""
    values, target = np.asarray(values, dtype=np.float64), np.asarray(target, dtype=np.float64)
    on = np.asarray(mask) > 0
    if not on.any():
        return float("nan")
    if loss == "mse":
        return float(np.mean((values[on] - target[on]) ** 2))
    if n_classes == 2:
        return float(np.mean(np.abs(values[on] - target[on]) > 0.5))
    return float(np.mean(values[on] < 0.5))


__all__ += ["train_with_snapshots", "readout_values", "readout_error"]


# --------------------------------------------------------------------------- LSTM (lesson 5)


class LSTMRun(NamedTuple):
    """What an LSTM computed on ONE sequence. Every array is ``(T, H)``; row ``t - 1`` is step ``t``."""

    h: np.ndarray
    c: np.ndarray
    i: np.ndarray  # input gate
    f: np.ndarray  # forget gate
    g: np.ndarray  # candidate
    o: np.ndarray  # output gate


def _lstm_steps(x, Wx, Wh, b, h0, c0):
    """Forward over ``x (N, T, D)`` with the core's step function; returns the step caches."""
    h, c = h0, c0
    caches = []
    for t in range(x.shape[1]):
        h, c, cache = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        caches.append(cache)
    return caches


def run_lstm(x, Wx, Wh, b, h0=None, c0=None):
    """Gates and states of ONE sequence ``x (T, D)`` (``h0, c0 (H,)`` default to zeros).

    ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)`` in the core's gate order i, f, g, o. Returns an
    ``LSTMRun`` of ``(T, H)`` arrays, e.g. ``run.f[t - 1]`` is the forget gate at step ``t``
    (read from the cache of the core's ``lstm_forward``).
    """
    x = np.asarray(x, dtype=np.float64)
    H = np.shape(Wh)[0]
    h0 = None if h0 is None else np.asarray(h0, dtype=np.float64).reshape(1, H)
    c0 = None if c0 is None else np.asarray(c0, dtype=np.float64).reshape(1, H)
    h, cache = lstm_forward(x[None], h0, Wx, Wh, b, c0=c0)
    gates = cache.gates[:, 0]  # (T, 4H) activations i, f, g, o
    i, f, g, o = (gates[:, k * H : (k + 1) * H].copy() for k in range(4))
    return LSTMRun(h[0].copy(), cache.c[:, 0].copy(), i, f, g, o)


def lstm_cell_jacobians(x, Wx, Wh, b, h0=None, c0=None):
    """``P (T+1, H, H)`` with ``P[k] = dc_T/dc_k`` for ONE sequence ``x (T, D)``, ``k = 0..T``.

    The state of an LSTM is the pair ``(h_k, c_k)``; ``P[k]`` is the derivative with respect to
    ``c_k`` with ``h_k`` held fixed (for ``k = 0`` that is what ``lstm_backward`` returns as
    ``dc0``), in the layout ``P[k][i, j] = d c_T[i] / d c_k[j]``. It contains every path, the
    direct one through ``c_{t} = f_t * c_{t-1} + ...`` and the ones that leave the cell through
    ``h_t = o_t * tanh(c_t)`` and come back through the gates. With ``Wh = 0`` only the direct path
    exists and ``P[k] = diag(f_{k+1} * ... * f_T)`` exactly (see ``forget_products``).

    How: one backward pass of the core's ``lstm_step_backward`` over a batch of ``H`` copies of
    the sequence, with ``dc_T = I`` (row ``j`` of the batch asks for the gradient of ``c_T[j]``) and
    no gradient on any ``h``; the ``dc_prev`` of step ``k + 1`` is then row by row ``dc_T/dc_k``.
    """
    x = np.asarray(x, dtype=np.float64)
    T = x.shape[0]
    H = np.shape(Wh)[0]
    h0 = np.zeros(H) if h0 is None else np.asarray(h0, dtype=np.float64)
    c0 = np.zeros(H) if c0 is None else np.asarray(c0, dtype=np.float64)
    xs = np.broadcast_to(x, (H,) + x.shape)  # (H, T, D): H copies
    caches = _lstm_steps(xs, Wx, Wh, b, np.tile(h0, (H, 1)), np.tile(c0, (H, 1)))
    P = np.empty((T + 1, H, H))
    P[T] = np.eye(H)
    dh_next, dc_next = np.zeros((H, H)), np.eye(H)
    for t in range(T - 1, -1, -1):  # caches[t] is step t + 1
        _, dh_next, dc_next, _, _, _ = lstm_step_backward(dh_next, dc_next, caches[t])
        P[t] = dc_next
    return P


def forget_products(f):
    """``f (T, H)`` -> ``(T+1, H)``: row ``k`` is ``f_{k+1} * ... * f_T`` per unit (row ``T`` is 1).

    The constant error carousel: along the direct cell path ``dc_{t-1} = dc_t * f_t``, so the
    gradient that ``c_T`` sends back to ``c_k`` without leaving the cell is this product.
    """
    f = np.asarray(f, dtype=np.float64)
    out = np.ones((f.shape[0] + 1, f.shape[1]))
    out[:-1] = np.cumprod(f[::-1], axis=0)[::-1]
    return out


def matrix_norms(P):
    """``P (K, H, H)`` -> ``(K,)`` spectral norms (``inf`` where a matrix overflowed)."""
    P = np.asarray(P, dtype=np.float64)
    finite = np.all(np.isfinite(P), axis=(1, 2))
    out = np.full(P.shape[0], np.inf)
    out[finite] = np.linalg.norm(P[finite], ord=2, axis=(1, 2))
    return out


# --------------------------------------------------------------------------- GRU (lesson 6)


class GRURun(NamedTuple):
    """What a GRU computed on ONE sequence. Every array is ``(T, H)``; row ``t - 1`` is step ``t``."""

    h: np.ndarray
    r: np.ndarray  # reset gate
    z: np.ndarray  # update gate (z = 1 keeps the old state, the core's convention)
    n: np.ndarray  # candidate


def run_gru(x, Wx, Wh, bx, bh, h0=None):
    """Gates and states of ONE sequence ``x (T, D)`` (``h0 (H,)`` defaults to zeros), read from
    the cache of the core's ``gru_forward``. Returns a ``GRURun`` of ``(T, H)`` arrays."""
    x = np.asarray(x, dtype=np.float64)
    H = np.shape(Wh)[0]
    h0 = None if h0 is None else np.asarray(h0, dtype=np.float64).reshape(1, H)
    h, cache = gru_forward(x[None], h0, Wx, Wh, bx, bh)
    rzn = cache.rzn[:, 0]  # (T, 3H) activations r, z, n
    r, z, n = (rzn[:, k * H : (k + 1) * H].copy() for k in range(3))
    return GRURun(h[0].copy(), r, z, n)


def pulse_memory(h_with, h_without):
    """``||h_t(with pulse) - h_t(without)||`` per step: ``(T, H), (T, H) -> (T,)``. Two runs on
    the same inputs except one pulse; what is left of the difference is what the state remembers."""
    return np.linalg.norm(
        np.asarray(h_with, dtype=np.float64) - np.asarray(h_without, dtype=np.float64), axis=-1
    )


def gru_direct_path(memory, z, start):
    """``(T,)``: how much of a pulse the GRU state keeps along its direct path alone.

    ``h_t = (1 - z_t) n_t + z_t h_{t-1}``: a difference in ``h`` at step ``start + 1`` (index
    ``start``) reaches step ``t`` through the direct term multiplied by ``z_{start+2} ... z_t``.
    Returns ``memory[start]`` times that product for the unit that keeps most, and NaN before
    ``start``. ``memory (T,)`` as from ``pulse_memory``, ``z (T, H)``.
    """
    memory = np.asarray(memory, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    out = np.full(len(memory), np.nan)
    keep = np.r_[1.0, np.cumprod(z[start + 1 :], axis=0).max(axis=1)]  # (T - start,)
    out[start:] = memory[start] * keep
    return out


def half_life(memory, start):
    """Steps after index ``start`` until ``memory`` first drops below half of ``memory[start]``;
    ``None`` if it never does within the sequence."""
    memory = np.asarray(memory, dtype=np.float64)
    below = np.nonzero(memory[start:] < 0.5 * memory[start])[0]
    return int(below[0]) if below.size else None


def param_count_lstm(D, H):
    """Parameters of one LSTM cell as this course stores it: four blocks of ``Wx (D, H)``,
    ``Wh (H, H)`` and one bias ``(H,)``: ``4 (D H + H^2 + H)``. (PyTorch keeps two biases per gate,
    ``bias_ih`` and ``bias_hh``, so it counts ``4 (D H + H^2 + 2 H)``; they are only ever added.)"""
    return 4 * (D * H + H * H + H)


def param_count_gru(D, H):
    """Parameters of one GRU cell: three blocks of ``Wx``, ``Wh`` and *two* biases ``bx``, ``bh``
    (kept apart because the reset gate multiplies ``bh_n``): ``3 (D H + H^2 + 2 H)``."""
    return 3 * (D * H + H * H + 2 * H)


__all__ += [
    "LSTMRun",
    "run_lstm",
    "lstm_cell_jacobians",
    "forget_products",
    "matrix_norms",
    "GRURun",
    "run_gru",
    "pulse_memory",
    "gru_direct_path",
    "half_life",
    "param_count_lstm",
    "param_count_gru",
]


# --------------------------------------------------------------------------- long range (lesson 7)


def input_gradient_norms(model, batch):
    """``(T,)``: the mean over the batch of ``||dLoss/dx_t||``, how strongly the loss reacts to the
    input at every step. For a task whose loss sits at the end (adding, copy) the early steps are
    the ones that matter; a model whose values here are tiny at those steps gets no signal to
    learn from them. Feature inputs only (``x (N, T, D)``). Loss as in ``rnncourse.nn.forward_loss``.
    """
    from .nn import mse_loss, temporal_affine_backward, temporal_affine_forward, temporal_softmax_loss
    from .nn.cells import get_cell, sequence_backward, sequence_forward

    if model.vocab_size is not None:
        raise ValueError("input_gradient_norms needs a model with feature inputs (vocab_size=None)")
    spec = get_cell(model.cell)
    p = model.params
    h, cache = sequence_forward(spec, batch.x, None, {k: p[k] for k in spec.param_names})
    scores, acache = temporal_affine_forward(h, p["Wy"], p["by"])
    loss_fn = temporal_softmax_loss if model.loss == "softmax" else mse_loss
    _, dscores = loss_fn(scores, batch.y, batch.mask)
    dh, _, _ = temporal_affine_backward(dscores, acache)
    dx = sequence_backward(spec, dh, cache)[0]
    return np.linalg.norm(dx, axis=-1).mean(axis=0)


__all__.append("input_gradient_norms")


class ReberSweep(NamedTuple):
    """The lesson-7 lag sweep, trained offline by ``rnncourse/data/make_reber_lags.py``."""

    lags: np.ndarray  # (L,)
    cells: tuple  # ("rnn", "lstm", "gru")
    seeds: np.ndarray  # (S,)
    steps: np.ndarray  # (E,) training steps at which the models were evaluated
    critical_accuracy: np.ndarray  # (C, S, L, E) accuracy on the critical T/P symbol
    loss: np.ndarray  # (C, S, L, E) masked mean loss per scored step (nats)
    hidden: int


def reber_lag_sweep():
    """Load ``rnncourse/data/reber_lags.npz`` (no pickles) as a ``ReberSweep``."""
    from importlib import resources

    with resources.files("rnncourse").joinpath("data", "reber_lags.npz").open("rb") as f:
        d = np.load(f, allow_pickle=False)
        return ReberSweep(
            d["lags"],
            tuple(str(c) for c in d["cells"]),
            d["seeds"],
            d["steps"],
            d["critical_accuracy"].astype(np.float64),
            d["loss"].astype(np.float64),
            int(d["hidden"]),
        )


__all__ += ["ReberSweep", "reber_lag_sweep"]
