"""Gated recurrent unit, forward and backward (lesson 6). Cho et al. (2014), in the convention
PyTorch uses, which this course names explicitly because two conventions are in circulation.

Equations (``σ`` is the logistic sigmoid, ``*`` elementwise; gates stacked r, z, n)::

    r   = σ(x_t Wx_r + bx_r + h_{t-1} Wh_r + bh_r)          reset gate
    z   = σ(x_t Wx_z + bx_z + h_{t-1} Wh_z + bh_z)          update gate
    n   = tanh(x_t Wx_n + bx_n + r * (h_{t-1} Wh_n + bh_n))  candidate
    h_t = (1 - z) * n + z * h_{t-1}

Our choices, stated: (1) ``z`` is the weight of the *old* state (z = 1 copies ``h_{t-1}``), as in
Cho et al. (2014), who write ``h_t = z * h_{t-1} + (1 - z) * n``, and as in PyTorch and cuDNN.
Chung et al. (2014) and many textbooks write ``h_t = (1 - z) * h_{t-1} + z * n`` instead: the same
model with ``z`` relabelled ``1 - z``. (2) The reset gate multiplies ``h Wh_n + bh_n`` (*after* the
matrix product), as PyTorch and cuDNN do; Keras calls this ``reset_after=True`` and traces it to the
first arXiv version of Cho et al. (1406.1078v1). The reset gate applied to ``h`` *before* the
product, ``n = tanh(x Wx_n + bx_n + (r * h_{t-1}) Wh_n)``, is the form Keras traces to the paper's
later version (1406.1078v3, Keras ``reset_after=False``), and the one Chung et al. (2014) and d2l
write; it is a different function of the same weights. Because the reset gate sits after the product, the input and hidden
biases are kept apart: ``bh_n`` sits inside the reset gate and ``bx_n`` outside it. Lesson 6
tabulates the conventions.

Shapes: ``x (N, T, D)``, ``h0 (N, H)``, ``Wx (D, 3H)``, ``Wh (H, 3H)``, ``bx (3H,)``, ``bh (3H,)``.
A GRU has no cell state: ``h`` is the whole memory.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_cache, check_shape, check_step_caches, result_dtype
from .functional import sigmoid

__all__ = [
    "GRUStepCache",
    "GRUCache",
    "gru_step_forward",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
    "gru_forward_loop",
    "gru_backward_loop",
]


class GRUStepCache(NamedTuple):
    x: np.ndarray  # (N, D)
    h_prev: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)
    r: np.ndarray  # (N, H)
    z: np.ndarray  # (N, H)
    n: np.ndarray  # (N, H)
    hn: np.ndarray  # (N, H) h_prev Wh_n + bh_n, the part the reset gate scales


class GRUCache(NamedTuple):
    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)
    rzn: np.ndarray  # (T, N, 3H) time-major r, z, n
    hn: np.ndarray  # (T, N, H) h_{t-1} Wh_n + bh_n
    h: np.ndarray  # (N, T, H)


def _check_params(D, Wx, Wh, bx, bh):
    Wx = as_float_array("Wx", Wx)
    check_shape("Wx", Wx, (D, None), ("D", "3H"))
    if Wx.shape[1] % 3:
        raise ValueError(
            f"Wx must have shape (D, 3H) with the gates r, z, n stacked, "
            f"got {Wx.shape} whose second dimension is not a multiple of 3"
        )
    H = Wx.shape[1] // 3
    Wh = as_float_array("Wh", Wh)
    check_shape("Wh", Wh, (H, 3 * H), ("H", "3H"))
    bx = as_float_array("bx", bx)
    check_shape("bx", bx, (3 * H,), ("3H",))
    bh = as_float_array("bh", bh)
    check_shape("bh", bh, (3 * H,), ("3H",))
    return Wx, Wh, bx, bh, H


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One GRU step. Args ``x (N, D)``, ``h_prev (N, H)``, ``Wx (D, 3H)``, ``Wh (H, 3H)``,
    ``bx (3H,)``, ``bh (3H,)``. Returns ``(h_next (N, H), cache)``."""
    x = as_float_array("x", x)
    check_shape("x", x, (None, None), ("N", "D"))
    N, D = x.shape
    Wx, Wh, bx, bh, H = _check_params(D, Wx, Wh, bx, bh)
    h_prev = as_float_array("h_prev", h_prev)
    check_shape("h_prev", h_prev, (N, H), ("N", "H"))
    ax = x @ Wx + bx
    ah = h_prev @ Wh + bh
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H : 2 * H] + ah[:, H : 2 * H])
    hn = ah[:, 2 * H :]
    n = np.tanh(ax[:, 2 * H :] + r * hn)
    h_next = (1.0 - z) * n + z * h_prev
    return h_next, GRUStepCache(x, h_prev, Wx, Wh, r, z, n, hn)


def gru_step_backward(dh_out, cache):
    """Backward through one GRU step.

    From ``h' = (1 - z) * n + z * h``: ``dn = dh' * (1 - z)``, ``dz = dh' * (h - n)`` and a direct
    path ``dh' * z`` into ``h_prev``. The candidate's pre-activation gradient ``dan = dn (1 - n^2)``
    flows to the input side as is and to the hidden side scaled by ``r``.
    Returns ``(dx (N, D), dh_prev (N, H), dWx (D, 3H), dWh (H, 3H), dbx (3H,), dbh (3H,))``.
    """
    check_cache("cache", cache, GRUStepCache)
    dh_out = as_float_array("dh_out", dh_out)
    check_shape("dh_out", dh_out, cache.n.shape, ("N", "H"))
    h_prev, r, z, n, hn = cache.h_prev, cache.r, cache.z, cache.n, cache.hn
    dan = dh_out * (1.0 - z) * (1.0 - n * n)
    daz = dh_out * (h_prev - n) * z * (1.0 - z)
    dar = dan * hn * r * (1.0 - r)
    dax = np.concatenate([dar, daz, dan], axis=1)  # gradient of x Wx + bx
    dah = np.concatenate([dar, daz, dan * r], axis=1)  # gradient of h_prev Wh + bh
    dx = dax @ cache.Wx.T
    dh_prev = dh_out * z + dah @ cache.Wh.T
    dWx = cache.x.T @ dax
    dWh = h_prev.T @ dah
    return dx, dh_prev, dWx, dWh, dax.sum(axis=0), dah.sum(axis=0)


def gru_forward(x, h0, Wx, Wh, bx, bh):
    """Run the GRU over a sequence. Args ``x (N, T, D)``, ``h0 (N, H)`` (``None`` means zeros),
    ``Wx (D, 3H)``, ``Wh (H, 3H)``, ``bx (3H,)``, ``bh (3H,)``. Returns ``(h (N, T, H), cache)``.

    This is the fast kernel (time-major buffers, gate blocks reordered, biases folded).
    ``gru_forward_loop`` at the end of this file computes the same thing as a plain loop over
    ``gru_step_forward``: read that one first.
    """
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None), ("N", "T", "D"))
    N, T, D = x.shape
    Wx, Wh, bx, bh, H = _check_params(D, Wx, Wh, bx, bh)
    h0 = np.zeros((N, H), x.dtype) if h0 is None else as_float_array("h0", h0)
    check_shape("h0", h0, (N, H), ("N", "H"))
    dtype = result_dtype(x, h0, Wx, Wh, bx, bh)

    H2 = 2 * H
    # sigmoid(a) = (1 + tanh(a / 2)) / 2: halving the r and z columns of the weights and biases once
    # (exact in floating point) saves two passes per step. The r and z biases of both sides are only
    # ever added, so they join the input projection; bh_n stays apart because r multiplies it.
    half = np.ones(3 * H, dtype)
    half[:H2] = 0.5
    b_in = bx.astype(dtype, copy=True)
    b_in[:H2] += bh[:H2]
    xt = x.transpose(1, 0, 2).reshape(T * N, D)
    rzn = (xt @ (Wx * half)).astype(dtype, copy=False).reshape(T, N, 3 * H)  # input side, then activations
    rzn += b_in * half
    # The hidden side is kept in the block order n, r, z (see gru_backward for why).
    Wh_nrz = np.concatenate([Wh[:, H2:], 0.5 * Wh[:, :H2]], axis=1).astype(dtype, copy=False)
    bh_n = bh[H2:].astype(dtype, copy=False)
    ahs = np.empty((T, N, 3 * H), dtype)  # h_{t-1} Wh in order n, r, z; the n block + bh_n is what r scales
    hs = np.empty((T, N, H), dtype)
    h_prev = h0.astype(dtype, copy=False)
    for t in range(T):
        a, ah = rzn[t], ahs[t]
        np.dot(h_prev, Wh_nrz, out=ah)
        hn = ah[:, :H]
        hn += bh_n
        rz = a[:, :H2]
        rz += ah[:, H:]
        np.tanh(rz, out=rz)  # r and z together
        rz += 1.0
        rz *= 0.5
        n = a[:, H2:]
        n += a[:, :H] * hn
        np.tanh(n, out=n)
        ht = hs[t]
        np.subtract(h_prev, n, out=ht)  # h_t = n + z * (h_{t-1} - n)
        ht *= a[:, H:H2]
        ht += n
        h_prev = ht
    hn = ahs[:, :, :H]
    h = hs.transpose(1, 0, 2)
    return h, GRUCache(x, h0, Wx, Wh, rzn, hn, h)


def gru_backward(dh, cache):
    """Backpropagation through time for ``gru_forward``.

    ``dh (N, T, H)`` is the upstream gradient of every hidden state. Returns
    ``(dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), dbx (3H,), dbh (3H,))``.

    This is the fast kernel. ``gru_backward_loop`` at the end of this file computes the same
    gradients as a plain loop over ``gru_step_backward``: read that one first.
    """
    check_cache("cache", cache, GRUCache)
    x, h0, Wx, Wh, rzn, hn, h = cache
    N, T, D = x.shape
    H = Wh.shape[0]
    H2 = 2 * H
    dh = as_float_array("dh", dh)
    check_shape("dh", dh, (N, T, H), ("N", "T", "H"))
    dtype = result_dtype(dh, h)
    dhs = dh.transpose(1, 0, 2)
    hs = h.transpose(1, 0, 2)
    h0_ = h0.astype(dtype, copy=False)
    # One (T, N, 4H) array holds, per step, [dhn, dar, daz, dan]: the gradient of the input side
    # (order r, z, n) is its last 3H columns and that of the hidden side (order n, r, z, with
    # dhn = dan * r) its first 3H, so neither needs a copy of the other.
    G = np.empty((T, N, 4 * H), dtype)
    WhT = np.ascontiguousarray(np.concatenate([Wh[:, H2:], Wh[:, :H2]], axis=1).T, dtype=dtype)
    dh_next = np.zeros((N, H), dtype)
    dht = np.empty((N, H), dtype)
    tmp = np.empty((N, H), dtype)
    fac = np.empty((N, H2), dtype)
    H3 = 3 * H
    for t in range(T - 1, -1, -1):
        rz = rzn[t][:, :H2]
        r, z, n = rzn[t][:, :H], rzn[t][:, H:H2], rzn[t][:, H2:]
        h_prev = hs[t - 1] if t > 0 else h0_
        np.add(dhs[t], dh_next, out=dht)
        g = G[t]
        dhn, dar, daz, dan = g[:, :H], g[:, H:H2], g[:, H2:H3], g[:, H3:]
        np.subtract(1.0, z, out=dan)  # dan = dht (1 - z)(1 - n^2)
        dan *= dht
        np.multiply(n, n, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        dan *= tmp
        np.subtract(h_prev, n, out=daz)  # dz = dht (h_prev - n)
        daz *= dht
        np.multiply(dan, hn[t], out=dar)  # dr = dan hn
        np.subtract(1.0, rz, out=fac)  # sigmoid' = s (1 - s) for r and z in one block
        fac *= rz
        g[:, H:H3] *= fac
        np.multiply(dan, r, out=dhn)
        dh_next = g[:, :H3] @ WhT
        np.multiply(dht, z, out=tmp)
        dh_next += tmp

    G2 = G.reshape(T * N, 4 * H)
    dax2, dah2 = G2[:, H:], G2[:, :H3]  # views: input side (r, z, n), hidden side (n, r, z)
    dx = (dax2 @ Wx.T).reshape(T, N, D).transpose(1, 0, 2).copy()
    xt = x.transpose(1, 0, 2).reshape(T * N, D)
    dWx = xt.T @ dax2
    h_prev = np.concatenate([h0_[None], hs[:-1]], axis=0).reshape(T * N, H)
    dWh_nrz = h_prev.T @ dah2
    dWh = np.concatenate([dWh_nrz[:, H:], dWh_nrz[:, :H]], axis=1)
    dbh_nrz = dah2.sum(axis=0)
    dbh = np.concatenate([dbh_nrz[H:], dbh_nrz[:H]])
    return dx, dh_next, dWx, dWh, dax2.sum(axis=0), dbh


# --------------------------------------------------------------------------- the plain loop
# The same sequence forward and backward as above, written the way lesson 6 derives them: a loop
# over gru_step_forward, then a loop back over gru_step_backward. Slower than the kernels above
# (which reorder the gate blocks and fold biases for speed), but line for line the equations; tests
# prove that it gives the same numbers as gru_forward / gru_backward.


def gru_forward_loop(x, h0, Wx, Wh, bx, bh):
    """``gru_forward`` as a plain loop over ``gru_step_forward`` (for reading, not for speed).

    Args ``x (N, T, D)``, ``h0 (N, H)`` (``None`` means zeros), ``Wx (D, 3H)``, ``Wh (H, 3H)``,
    ``bx (3H,)``, ``bh (3H,)``. Returns ``(h (N, T, H), caches)``, ``caches`` the list of the
    ``T`` step caches.
    """
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None), ("N", "T", "D"))
    N, T, D = x.shape
    if T == 0:
        raise ValueError("x must hold at least one time step for gru_forward_loop, got T = 0")
    h = np.zeros((N, np.shape(Wh)[0]), x.dtype) if h0 is None else h0  # Wh is (H, 3H)
    hs, caches = [], []
    for t in range(T):
        h, cache = gru_step_forward(x[:, t], h, Wx, Wh, bx, bh)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def gru_backward_loop(dh, caches):
    """``gru_backward`` as a plain loop over ``gru_step_backward``, from ``t = T`` down to 1.

    ``dh (N, T, H)`` is the upstream gradient of every hidden state and ``caches`` what
    ``gru_forward_loop`` returned. Returns
    ``(dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), dbx (3H,), dbh (3H,))``.
    """
    check_step_caches(caches, GRUStepCache, "gru_forward_loop")
    T = len(caches)
    N, H = caches[0].h_prev.shape
    dh = as_float_array("dh", dh)
    check_shape("dh", dh, (N, T, H), ("N", "T", "H"))
    dxs = [None] * T
    dWx = dWh = dbx = dbh = 0.0
    dh_next = np.zeros((N, H), dh.dtype)
    for t in reversed(range(T)):
        dx_t, dh_next, dWx_t, dWh_t, dbx_t, dbh_t = gru_step_backward(dh[:, t] + dh_next, caches[t])
        dxs[t] = dx_t
        dWx, dWh, dbx, dbh = dWx + dWx_t, dWh + dWh_t, dbx + dbx_t, dbh + dbh_t  # sums over time
    return np.stack(dxs, axis=1), dh_next, dWx, dWh, dbx, dbh
