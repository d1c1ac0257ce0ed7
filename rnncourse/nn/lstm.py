"""Long short-term memory, forward and backward (lesson 5). Follows Hochreiter & Schmidhuber
(1997) with the forget gate of Gers et al. (2000), in PyTorch's gate order i, f, g, o.

Equations (``σ`` is the logistic sigmoid, ``*`` is elementwise)::

    a   = x_t Wx + h_{t-1} Wh + b                      a is (N, 4H), split into a_i, a_f, a_g, a_o
    i   = σ(a_i)   input gate: how much of the candidate to write
    f   = σ(a_f)   forget gate: how much of the old cell to keep
    g   = tanh(a_g)  candidate values, in (-1, 1)
    o   = σ(a_o)   output gate: how much of the cell to expose
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Shapes: ``x (N, T, D)``, ``h0, c0 (N, H)``, ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)``.

Backward: the cell state ``c_t`` receives gradient along *two* paths: through ``h_t = o *
tanh(c_t)`` at this step, and directly from ``c_{t+1} = f * c_t + ...`` at the next step
(``dc_next``). The second path, multiplied only by ``f``, is the "constant error carousel" that
lets gradients survive over long lags.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_cache, check_shape, check_step_caches, result_dtype
from .functional import sigmoid

__all__ = [
    "LSTMStepCache",
    "LSTMCache",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "lstm_forward_loop",
    "lstm_backward_loop",
    "lstm_final_cell",
]


class LSTMStepCache(NamedTuple):
    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    c_prev: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, 4H)
    Wh: np.ndarray  # (H, 4H)
    i: np.ndarray  # (N, H) gate activations (after the nonlinearity)
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c_next: np.ndarray  # (N, H)
    tanh_c: np.ndarray  # (N, H) tanh(c_next)


class LSTMCache(NamedTuple):
    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    c0: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, 4H)
    Wh: np.ndarray  # (H, 4H)
    gates: np.ndarray  # (T, N, 4H) time-major activations [i, f, g, o]
    c: np.ndarray  # (T, N, H) time-major cell states c_1..c_T
    tanh_c: np.ndarray  # (T, N, H) tanh(c_t)
    h: np.ndarray  # (N, T, H) hidden states (batch-first view of time-major storage)


def _check_params(D, Wx, Wh, b):
    Wx = as_float_array("Wx", Wx)
    check_shape("Wx", Wx, (D, None), ("D", "4H"))
    if Wx.shape[1] % 4:
        raise ValueError(
            f"Wx must have shape (D, 4H) with the gates i, f, g, o stacked, "
            f"got {Wx.shape} whose second dimension is not a multiple of 4"
        )
    H = Wx.shape[1] // 4
    Wh = as_float_array("Wh", Wh)
    check_shape("Wh", Wh, (H, 4 * H), ("H", "4H"))
    b = as_float_array("b", b)
    check_shape("b", b, (4 * H,), ("4H",))
    return Wx, Wh, b, H


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step. Args ``x (N, D)``, ``h_prev (N, H)``, ``c_prev (N, H)``, ``Wx (D, 4H)``,
    ``Wh (H, 4H)``, ``b (4H,)``. Returns ``(h_next (N, H), c_next (N, H), cache)``."""
    x = as_float_array("x", x)
    check_shape("x", x, (None, None), ("N", "D"))
    N, D = x.shape
    Wx, Wh, b, H = _check_params(D, Wx, Wh, b)
    h_prev = as_float_array("h_prev", h_prev)
    check_shape("h_prev", h_prev, (N, H), ("N", "H"))
    c_prev = as_float_array("c_prev", c_prev)
    check_shape("c_prev", c_prev, (N, H), ("N", "H"))
    a = x @ Wx + h_prev @ Wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H :])
    c_next = f * c_prev + i * g
    tanh_c = np.tanh(c_next)
    h_next = o * tanh_c
    return h_next, c_next, LSTMStepCache(x, h_prev, c_prev, Wx, Wh, i, f, g, o, c_next, tanh_c)


def lstm_step_backward(dh_out, dc_next, cache):
    """Backward through one LSTM step.

    ``dh_out`` and ``dc_next (N, H)`` are the total gradients reaching ``h_next`` and ``c_next``
    (``dh_out``: from the loss at this step plus ``dh_next`` from the following step).
    The cell gradient collects both paths: ``dc = dc_next + dh_out * o * (1 - tanh(c)^2)``.
    Returns ``(dx (N, D), dh_prev (N, H), dc_prev (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,))``.
    """
    check_cache("cache", cache, LSTMStepCache)
    shape = cache.c_next.shape
    dh_out = as_float_array("dh_out", dh_out)
    check_shape("dh_out", dh_out, shape, ("N", "H"))
    dc_next = as_float_array("dc_next", dc_next)
    check_shape("dc_next", dc_next, shape, ("N", "H"))
    i, f, g, o, tanh_c = cache.i, cache.f, cache.g, cache.o, cache.tanh_c
    dc = dc_next + dh_out * o * (1.0 - tanh_c * tanh_c)
    da = np.concatenate(
        [
            dc * g * i * (1.0 - i),  # d a_i
            dc * cache.c_prev * f * (1.0 - f),  # d a_f
            dc * i * (1.0 - g * g),  # d a_g
            dh_out * tanh_c * o * (1.0 - o),  # d a_o
        ],
        axis=1,
    )
    dx = da @ cache.Wx.T
    dh_prev = da @ cache.Wh.T
    dc_prev = dc * f
    dWx = cache.x.T @ da
    dWh = cache.h_prev.T @ da
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b, c0=None):
    """Run the LSTM over a sequence.

    Args ``x (N, T, D)``, ``h0 (N, H)`` (``None`` means zeros), ``Wx (D, 4H)``, ``Wh (H, 4H)``,
    ``b (4H,)``, ``c0 (N, H)`` initial cell state (zeros unless given). Returns
    ``(h (N, T, H), cache)``; the final cell state is ``lstm_final_cell(cache)``.

    This is the fast kernel (time-major buffers, sigmoid through ``tanh`` on pre-halved weight
    columns). ``lstm_forward_loop`` at the end of this file computes the same thing as a plain loop
    over ``lstm_step_forward``: read that one first.
    """
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None), ("N", "T", "D"))
    N, T, D = x.shape
    Wx, Wh, b, H = _check_params(D, Wx, Wh, b)
    h0 = np.zeros((N, H), x.dtype) if h0 is None else as_float_array("h0", h0)
    check_shape("h0", h0, (N, H), ("N", "H"))
    c0 = np.zeros((N, H), x.dtype) if c0 is None else as_float_array("c0", c0)
    check_shape("c0", c0, (N, H), ("N", "H"))
    dtype = result_dtype(x, h0, c0, Wx, Wh, b)

    H2, H3 = 2 * H, 3 * H
    # sigmoid(a) = (1 + tanh(a / 2)) / 2. Halving the i, f, o columns of the weights once (exact in
    # floating point) lets one tanh call per step activate all four gates.
    half = np.ones(4 * H, dtype)
    half[:H2] = 0.5
    half[H3:] = 0.5
    xt = x.transpose(1, 0, 2).reshape(T * N, D)
    gates = (xt @ (Wx * half)).astype(dtype, copy=False).reshape(T, N, 4 * H)  # pre-activations first
    gates += b * half
    c = np.empty((T, N, H), dtype)
    tanh_c = np.empty((T, N, H), dtype)
    hs = np.empty((T, N, H), dtype)
    Wh_ = (Wh * half).astype(dtype, copy=False)
    tmp = np.empty((N, 4 * H), dtype)
    h_prev, c_prev = h0.astype(dtype, copy=False), c0.astype(dtype, copy=False)
    for t in range(T):
        a = gates[t]
        np.dot(h_prev, Wh_, out=tmp)
        a += tmp
        np.tanh(a, out=a)  # g = tanh(a_g); tanh(a/2) for i, f, o
        for s_ in (a[:, :H2], a[:, H3:]):  # -> sigmoid for i, f (one block) and o
            s_ += 1.0
            s_ *= 0.5
        ct = c[t]
        np.multiply(a[:, H:H2], c_prev, out=ct)
        ct += a[:, :H] * a[:, H2:H3]
        np.tanh(ct, out=tanh_c[t])
        np.multiply(a[:, H3:], tanh_c[t], out=hs[t])
        h_prev, c_prev = hs[t], ct
    h = hs.transpose(1, 0, 2)
    return h, LSTMCache(x, h0, c0, Wx, Wh, gates, c, tanh_c, h)


def lstm_final_cell(cache):
    """The last cell state ``c_T (N, H)`` of a forward pass (for carrying state across chunks)."""
    check_cache("cache", cache, LSTMCache)
    return cache.c[-1] if cache.c.shape[0] else cache.c0


def lstm_backward(dh, cache, dc_T=None, return_dc0=False):
    """Backpropagation through time for ``lstm_forward``.

    ``dh (N, T, H)`` is the upstream gradient of every hidden state; ``dc_T (N, H)`` an optional
    gradient of the final cell state. Returns ``(dx (N, T, D), dh0 (N, H), dWx (D, 4H),
    dWh (H, 4H), db (4H,))``, or with ``return_dc0=True`` ``(dx, dh0, dc0, dWx, dWh, db)``.

    This is the fast kernel. ``lstm_backward_loop`` at the end of this file computes the same
    gradients as a plain loop over ``lstm_step_backward``: read that one first.
    """
    check_cache("cache", cache, LSTMCache)
    x, h0, c0, Wx, Wh, gates, c, tanh_c, h = cache
    N, T, D = x.shape
    H = Wh.shape[0]
    H2, H3 = 2 * H, 3 * H
    dh = as_float_array("dh", dh)
    check_shape("dh", dh, (N, T, H), ("N", "T", "H"))
    dtype = result_dtype(dh, h)
    dhs = dh.transpose(1, 0, 2)
    dc_next = np.zeros((N, H), dtype)
    if dc_T is not None:
        dc_T = as_float_array("dc_T", dc_T)
        check_shape("dc_T", dc_T, (N, H), ("N", "H"))
        dc_next += dc_T
    dh_next = np.zeros((N, H), dtype)
    da = np.empty((T, N, 4 * H), dtype)
    WhT = np.ascontiguousarray(Wh.T, dtype=dtype)
    dht = np.empty((N, H), dtype)
    dc = np.empty((N, H), dtype)
    fac = np.empty((N, 4 * H), dtype)
    for t in range(T - 1, -1, -1):
        gt = gates[t]
        gi, gf, gg, go = gt[:, :H], gt[:, H:H2], gt[:, H2:H3], gt[:, H3:]
        c_prev = c[t - 1] if t > 0 else c0
        tc = tanh_c[t]
        np.add(dhs[t], dh_next, out=dht)  # loss at t + the next step's use of h_t
        # two paths into c_t: through h_t at this step, and dc_next from c_{t+1}
        np.multiply(tc, tc, out=dc)
        np.subtract(1.0, dc, out=dc)
        dc *= go
        dc *= dht
        dc += dc_next
        # d a = [dc g, dc c_prev, dc i, dh tanh(c)] * [i(1-i), f(1-f), 1-g^2, o(1-o)], blockwise
        dat = da[t]
        np.multiply(dc, gg, out=dat[:, :H])
        np.multiply(dc, c_prev, out=dat[:, H:H2])
        np.multiply(dc, gi, out=dat[:, H2:H3])
        np.multiply(dht, tc, out=dat[:, H3:])
        np.subtract(1.0, gt, out=fac)  # sigmoid' = s (1 - s) on all four blocks,
        fac *= gt
        np.multiply(gg, gg, out=fac[:, H2:H3])  # then tanh' = 1 - g^2 on the g block
        np.subtract(1.0, fac[:, H2:H3], out=fac[:, H2:H3])
        dat *= fac
        dc_next = dc * gf
        dh_next = dat @ WhT

    da2 = da.reshape(T * N, 4 * H)
    dx = (da2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2).copy()
    xt = x.transpose(1, 0, 2).reshape(T * N, D)
    dWx = xt.T @ da2
    hs = h.transpose(1, 0, 2)
    h_prev = np.concatenate([h0[None].astype(dtype, copy=False), hs[:-1]], axis=0).reshape(T * N, H)
    dWh = h_prev.T @ da2
    db = da2.sum(axis=0)
    if return_dc0:
        return dx, dh_next, dc_next, dWx, dWh, db
    return dx, dh_next, dWx, dWh, db


# --------------------------------------------------------------------------- the plain loop
# The same sequence forward and backward as above, written the way lesson 5 derives them: a loop
# over lstm_step_forward, then a loop back over lstm_step_backward that carries two gradients,
# dh_next and dc_next. Slower than the kernels above, but line for line the equations; tests prove
# that it gives the same numbers as lstm_forward / lstm_backward.


def lstm_forward_loop(x, h0, Wx, Wh, b, c0=None):
    """``lstm_forward`` as a plain loop over ``lstm_step_forward`` (for reading, not for speed).

    Args ``x (N, T, D)``, ``h0 (N, H)`` (``None`` means zeros), ``Wx (D, 4H)``, ``Wh (H, 4H)``,
    ``b (4H,)``, ``c0 (N, H)`` (zeros unless given). Returns ``(h (N, T, H), caches)``, ``caches``
    the list of the ``T`` step caches; the final cell state is ``caches[-1].c_next``.
    """
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None), ("N", "T", "D"))
    N, T, D = x.shape
    if T == 0:
        raise ValueError("x must hold at least one time step for lstm_forward_loop, got T = 0")
    H = np.shape(Wh)[0]  # Wh is (H, 4H)
    h = np.zeros((N, H), x.dtype) if h0 is None else h0
    c = np.zeros((N, H), x.dtype) if c0 is None else c0
    hs, caches = [], []
    for t in range(T):
        h, c, cache = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def lstm_backward_loop(dh, caches, dc_T=None, return_dc0=False):
    """``lstm_backward`` as a plain loop over ``lstm_step_backward``, from ``t = T`` down to 1.

    ``dh (N, T, H)`` is the upstream gradient of every hidden state, ``caches`` what
    ``lstm_forward_loop`` returned, ``dc_T (N, H)`` an optional gradient of the final cell state.
    Two gradients flow back from step to step: ``dh_next`` (into ``h_{t-1}``) and ``dc_next`` (into
    ``c_{t-1}``, the constant error carousel). Returns ``(dx (N, T, D), dh0 (N, H), dWx (D, 4H),
    dWh (H, 4H), db (4H,))``, or with ``return_dc0=True`` ``(dx, dh0, dc0, dWx, dWh, db)``.
    """
    check_step_caches(caches, LSTMStepCache, "lstm_forward_loop")
    T = len(caches)
    N, H = caches[0].h_prev.shape
    dh = as_float_array("dh", dh)
    check_shape("dh", dh, (N, T, H), ("N", "T", "H"))
    dxs = [None] * T
    dWx = dWh = db = 0.0
    dh_next = np.zeros((N, H), dh.dtype)
    dc_next = np.zeros((N, H), dh.dtype) if dc_T is None else as_float_array("dc_T", dc_T)
    check_shape("dc_T", dc_next, (N, H), ("N", "H"))
    for t in reversed(range(T)):
        dx_t, dh_next, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dh_next, dc_next, caches[t]
        )
        dxs[t] = dx_t
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t  # shared weights: sum over time
    dx = np.stack(dxs, axis=1)
    if return_dc0:
        return dx, dh_next, dc_next, dWx, dWh, db
    return dx, dh_next, dWx, dWh, db
