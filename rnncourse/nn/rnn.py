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

from ._checks import as_float_array, check_cache, check_shape, result_dtype

__all__ = [
    "RNNStepCache", "RNNCache",
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
]


class RNNStepCache(NamedTuple):
    """What ``rnn_step_backward`` needs: the step's inputs and its output ``h_next``."""
    x: np.ndarray        # (N, D)
    h_prev: np.ndarray   # (N, H)
    Wx: np.ndarray       # (D, H)
    Wh: np.ndarray       # (H, H)
    h_next: np.ndarray   # (N, H), tanh output: 1 - h_next**2 is the local derivative


class RNNCache(NamedTuple):
    """What ``rnn_backward`` needs for a whole sequence."""
    x: np.ndarray        # (N, T, D)
    h0: np.ndarray       # (N, H)
    Wx: np.ndarray       # (D, H)
    Wh: np.ndarray       # (H, H)
    h: np.ndarray        # (N, T, H) all hidden states (a view of time-major storage)


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
    """
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None), ("N", "T", "D"))
    N, T, D = x.shape
    Wx, Wh, b, H = _check_params(D, Wx, Wh, b)
    dtype = result_dtype(x, Wx, Wh, b)
    if h0 is None:
        h0 = np.zeros((N, H), dtype=dtype)
    h0 = as_float_array("h0", h0)
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
    """
    check_cache("cache", cache, RNNCache)
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    H = Wh.shape[0]
    dh = as_float_array("dh", dh)
    check_shape("dh", dh, (N, T, H), ("N", "T", "H"))
    dtype = result_dtype(dh, h)

    hs = h.transpose(1, 0, 2)                 # (T, N, H), contiguous per step
    dhs = dh.transpose(1, 0, 2)
    da = np.empty((T, N, H), dtype=dtype)     # gradient of the pre-activation at every step
    WhT = np.ascontiguousarray(Wh.T, dtype=dtype)
    dh_next = np.zeros((N, H), dtype=dtype)
    for t in range(T - 1, -1, -1):
        g = da[t]
        np.add(dhs[t], dh_next, out=g)        # the "+ dh_next" term
        g *= 1.0 - hs[t] * hs[t]              # tanh'(a) = 1 - h^2
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
