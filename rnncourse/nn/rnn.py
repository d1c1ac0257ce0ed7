"""The vanilla (Elman) recurrent cell, forward and backward (lessons 1 and 3).

Equation, with the symbols used everywhere in the course::

    h_t = tanh(x_t Wx + h_{t-1} Wh + b)

Shapes (batch first): ``x (N, T, D)``, ``h0 (N, H)``, ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``,
hidden sequence ``h (N, T, H)``. ``dX`` always means dLoss/dX.

Backpropagation through time (BPTT): the same ``Wx, Wh, b`` are used at every step, so their
gradients are *sums over time steps*. The gradient that reaches ``h_t`` has two sources: the loss
at step ``t`` (``dh[:, t]``) and the next step, which used ``h_t`` as its ``h_prev``
(``dh_next``); that is the ``+ dh_next`` term.

Speed: the input projection of all steps is one matrix product before the loop, the loop holds only
``h_{t-1} Wh`` (forward) and ``da_t Wh^T`` (backward), and the weight gradients are one product
each after the loop. Internally the hidden states are stored time-major so that each step writes a
contiguous block; the returned ``h`` is a batch-first view of that storage.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_cache, check_shape, check_step_caches, result_dtype

__all__ = [
    "RNNStepCache",
    "RNNCache",
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "rnn_forward_loop",
    "rnn_backward_loop",
]


class RNNStepCache(NamedTuple):
    """What ``rnn_step_backward`` needs: the step's inputs and its output ``h_next``."""

    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    h_next: np.ndarray  # (N, H), tanh output: 1 - h_next**2 is the local derivative


class RNNCache(NamedTuple):
    """What ``rnn_backward`` needs for a whole sequence."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)
    h: np.ndarray  # (N, T, H) all hidden states (a view of time-major storage)


def _check_params(x_dim, Wx, Wh, b, x_name="x"):
    Wx = as_float_array("Wx", Wx)
    check_shape("Wx", Wx, (x_dim, None), ("D", "H"))
    H = Wx.shape[1]
    Wh = as_float_array("Wh", Wh)
    check_shape("Wh", Wh, (H, H), ("H", "H"))
    b = as_float_array("b", b)
    check_shape("b", b, (H,), ("H",))
    return Wx, Wh, b, H


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One step: ``h_next = tanh(x Wx + h_prev Wh + b)``.

    Args: ``x (N, D)``, ``h_prev (N, H)``, ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``.
    Returns ``(h_next (N, H), cache)``.
    """
    x = as_float_array("x", x)
    check_shape("x", x, (None, None), ("N", "D"))
    N, D = x.shape
    Wx, Wh, b, H = _check_params(D, Wx, Wh, b)
    h_prev = as_float_array("h_prev", h_prev)
    check_shape("h_prev", h_prev, (N, H), ("N", "H"))
    h_next = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h_next, RNNStepCache(x, h_prev, Wx, Wh, h_next)


def rnn_step_backward(dh_out, cache):
    """Backward through one step.

    ``dh_out (N, H)`` is the *total* gradient reaching the step's output ``h_next``: from the loss
    at this step plus ``dh_next``, the part coming back from the following step. With ``da = dh_out * (1 - h_next**2)`` (tanh' written through its
    output): ``dx = da Wx^T``, ``dh_prev = da Wh^T``, ``dWx = x^T da``, ``dWh = h_prev^T da``,
    ``db = sum_n da`` (summed over the batch, because ``b`` was broadcast over it).

    Returns ``(dx (N, D), dh_prev (N, H), dWx (D, H), dWh (H, H), db (H,))``.
    """
    check_cache("cache", cache, RNNStepCache)
    dh_out = as_float_array("dh_out", dh_out)
    check_shape("dh_out", dh_out, cache.h_next.shape, ("N", "H"))
    da = dh_out * (1.0 - cache.h_next * cache.h_next)
    dx = da @ cache.Wx.T
    dh_prev = da @ cache.Wh.T
    dWx = cache.x.T @ da
    dWh = cache.h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """Run the cell over a whole sequence.

    Args: ``x (N, T, D)``, ``h0 (N, H)`` (``None`` means zeros), ``Wx (D, H)``, ``Wh (H, H)``,
    ``b (H,)``. Returns ``(h (N, T, H), cache)`` where ``h[:, t]`` is ``h_t`` for ``t = 1..T``
    (``h0`` is not included).

    This is the fast kernel (see the module docstring). ``rnn_forward_loop`` at the end of this file
    computes the same thing as a plain loop over ``rnn_step_forward``: read that one first.
    """
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None), ("N", "T", "D"))
    N, T, D = x.shape
    Wx, Wh, b, H = _check_params(D, Wx, Wh, b)
    h0 = np.zeros((N, H), x.dtype) if h0 is None else as_float_array("h0", h0)
    check_shape("h0", h0, (N, H), ("N", "H"))
    dtype = result_dtype(x, h0, Wx, Wh, b)

    # Input projection for all steps at once, time-major: (T, N, H).
    xt = x.transpose(1, 0, 2).reshape(T * N, D)
    hs = (xt @ Wx).astype(dtype, copy=False).reshape(T, N, H)
    hs += b
    h_prev = h0.astype(dtype, copy=False)
    Wh_ = Wh.astype(dtype, copy=False)
    tmp = np.empty((N, H), dtype=dtype)
    for t in range(T):
        np.dot(h_prev, Wh_, out=tmp)
        hs[t] += tmp
        np.tanh(hs[t], out=hs[t])
        h_prev = hs[t]
    h = hs.transpose(1, 0, 2)
    return h, RNNCache(x, h0, Wx, Wh, h)


def rnn_backward(dh, cache):
    """Backpropagation through time for ``rnn_forward``.

    ``dh (N, T, H)`` holds the upstream gradient of every hidden state (zeros where a step has no
    loss). Walking back from ``t = T``, the gradient reaching ``h_t`` is ``dh[:, t] + dh_next``;
    weight gradients are summed over all steps. Returns
    ``(dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,))``.

    This is the fast kernel. ``rnn_backward_loop`` at the end of this file computes the same
    gradients as a plain loop over ``rnn_step_backward``: read that one first.
    """
    check_cache("cache", cache, RNNCache)
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    H = Wh.shape[0]
    dh = as_float_array("dh", dh)
    check_shape("dh", dh, (N, T, H), ("N", "T", "H"))
    dtype = result_dtype(dh, h)

    hs = h.transpose(1, 0, 2)  # (T, N, H), contiguous per step
    dhs = dh.transpose(1, 0, 2)
    da = np.empty((T, N, H), dtype=dtype)  # gradient of the pre-activation at every step
    WhT = np.ascontiguousarray(Wh.T, dtype=dtype)
    dh_next = np.zeros((N, H), dtype=dtype)
    for t in range(T - 1, -1, -1):
        g = da[t]
        np.add(dhs[t], dh_next, out=g)  # the "+ dh_next" term
        g *= 1.0 - hs[t] * hs[t]  # tanh'(a) = 1 - h^2
        dh_next = g @ WhT

    da2 = da.reshape(T * N, H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2).copy()
    xt = x.transpose(1, 0, 2).reshape(T * N, D)
    dWx = xt.T @ da2
    # h_{t-1} for every step: h0 followed by h_1..h_{T-1}, time-major (T, N, H).
    h_prev = np.concatenate([h0[None].astype(dtype, copy=False), hs[:-1]], axis=0).reshape(T * N, H)
    dWh = h_prev.T @ da2
    db = da2.sum(axis=0)
    return dx, dh_next, dWx, dWh, db


# --------------------------------------------------------------------------- the plain loop
# The same sequence forward and backward as above, written the way lesson 3 derives them: a loop
# over rnn_step_forward, then a loop back over rnn_step_backward. Slower (no batched projections,
# one small matrix product per weight and step) but line for line the equations; tests prove that
# it gives the same numbers as rnn_forward / rnn_backward.


def rnn_forward_loop(x, h0, Wx, Wh, b):
    """``rnn_forward`` as a plain loop over ``rnn_step_forward`` (for reading, not for speed).

    Args: ``x (N, T, D)``, ``h0 (N, H)`` (``None`` means zeros), ``Wx (D, H)``, ``Wh (H, H)``,
    ``b (H,)``. Returns ``(h (N, T, H), caches)``, ``caches`` the list of the ``T`` step caches.
    """
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None), ("N", "T", "D"))
    N, T, D = x.shape
    if T == 0:
        raise ValueError("x must hold at least one time step for rnn_forward_loop, got T = 0")
    h = np.zeros((N, np.shape(Wh)[0]), x.dtype) if h0 is None else h0  # Wh is (H, H)
    hs, caches = [], []
    for t in range(T):
        h, cache = rnn_step_forward(x[:, t], h, Wx, Wh, b)  # h_t = tanh(x_t Wx + h_{t-1} Wh + b)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def rnn_backward_loop(dh, caches):
    """``rnn_backward`` as a plain loop over ``rnn_step_backward``, from ``t = T`` down to 1.

    ``dh (N, T, H)`` is the upstream gradient of every hidden state and ``caches`` what
    ``rnn_forward_loop`` returned. The gradient reaching ``h_t`` is ``dh[:, t] + dh_next``; the
    weight gradients are summed over the steps. Returns
    ``(dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,))``.
    """
    check_step_caches(caches, RNNStepCache, "rnn_forward_loop")
    T = len(caches)
    N, H = caches[0].h_prev.shape
    dh = as_float_array("dh", dh)
    check_shape("dh", dh, (N, T, H), ("N", "T", "H"))
    dxs = [None] * T
    dWx = dWh = db = 0.0
    dh_next = np.zeros((N, H), dh.dtype)  # nothing comes back from beyond the last step
    for t in reversed(range(T)):
        dx_t, dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dh_next, caches[t])
        dxs[t] = dx_t
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t  # shared weights: sum over time
    return np.stack(dxs, axis=1), dh_next, dWx, dWh, db
