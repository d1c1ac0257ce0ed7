"""Ensemble training: many small models of the same shape trained at once (lesson 7's lag sweep).

Training one small recurrent model is slow in NumPy largely because of Python: every time step
costs microseconds of interpreter and call overhead whatever the matrix size. An *ensemble* puts a
leading "model" axis ``M`` on every parameter and every activation, so one call does the work of
all ``M`` models:

    h_t[m] = tanh(x_t[m] Wx[m] + h_{t-1}[m] Wh[m] + b[m])        for every model m at once

The models do not interact: each has its own parameters, its own data, its own loss, its own
gradient clipping and its own Adam state, so training the ensemble gives the same parameters as
training the models one by one (``tests/test_ensemble.py`` proves it to 1e-10 in float64).

Shapes (public): ``x (M, N, T, D)``, ``h0, c0 (M, N, H)``, ``Wx (M, D, G*H)``, ``Wh (M, H, G*H)``,
``b (M, G*H)`` (``bx, bh`` for the GRU), hidden states ``h (M, N, T, H)``. The equations and gate
orders are exactly those of ``rnn.py``, ``lstm.py`` and ``gru.py``.

Inside, the layout is chosen for speed (``benchmarks/bench_ensemble.py``; README "Ensemble
training"): each model's weights are packed per gate as ``[Wx; b; Wh]`` (``_pack``) so that one
batched product ``[x_t, 1, h_{t-1}] @ W`` per step gives every gate of every model with its bias;
everything a step reads or writes is one contiguous block (time-major storage), because scattered
gate slices made the elementwise work 2-4 times slower; the weight gradients are accumulated in
the loop; training reuses its large arrays from step to step (``_buf``).

Models whose sequences have different lengths (e.g. different lags) share one ensemble by
right-padding with zero inputs under a zero mask: a recurrent model is causal, so steps added at the
end change neither the earlier outputs nor, because their loss is masked out, any gradient. The
loss skips, step by step, the models whose scored steps are all behind them (``_first_active``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_cache, check_shape, result_dtype
from .cells import get_cell
from .model import TrainingDiverged
from .optim import make_optimizer

__all__ = [
    "EnsembleCache",
    "EnsembleHistory",
    "stack_params",
    "unstack_params",
    "ensemble_forward",
    "ensemble_backward",
    "ensemble_loss",
    "ensemble_predict",
    "ensemble_train",
    "padded_sampler",
    "pad_batches",
]


def stack_params(param_dicts):
    """A list of ``M`` parameter dicts with equal keys and shapes -> one dict of ``(M, ...)`` arrays."""
    if not isinstance(param_dicts, (list, tuple)) or not param_dicts:
        raise TypeError(f"param_dicts must be a non-empty list of dicts, got {type(param_dicts).__name__}")
    keys = list(param_dicts[0])
    for m, p in enumerate(param_dicts):
        if not isinstance(p, dict):
            raise TypeError(f"param_dicts[{m}] must be a dict, got {type(p).__name__}")
        if list(p) != keys:
            raise ValueError(f"param_dicts[{m}] has keys {list(p)}, expected {keys} like param_dicts[0]")
        for k in keys:
            if np.shape(p[k]) != np.shape(param_dicts[0][k]):
                raise ValueError(
                    f"param_dicts[{m}][{k!r}] has shape {np.shape(p[k])}, expected "
                    f"{np.shape(param_dicts[0][k])} like param_dicts[0]"
                )
    return {k: np.stack([np.asarray(p[k]) for p in param_dicts]) for k in keys}


def unstack_params(params):
    """The inverse of ``stack_params``: a list of ``M`` dicts (copies)."""
    M = len(next(iter(params.values())))
    return [{k: np.array(v[m]) for k, v in params.items()} for m in range(M)]


def _check_ensemble_params(spec, params, D):
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of (M, ...) arrays, got {type(params).__name__}")
    missing = [k for k in spec.param_names if k not in params]
    if missing:
        raise ValueError(
            f"params for a {spec.name} ensemble need keys {list(spec.param_names)}, missing {missing}"
        )
    G = spec.gates
    gh = f"{G}H" if G > 1 else "H"
    p = {k: as_float_array(k, params[k]) for k in spec.param_names}
    check_shape("Wh", p["Wh"], (None, None, None), ("M", "H", gh))
    M, H = p["Wh"].shape[:2]
    check_shape("Wh", p["Wh"], (M, H, G * H), ("M", "H", gh))
    check_shape("Wx", p["Wx"], (M, D, G * H), ("M", "D", gh))
    for k in spec.param_names[2:]:
        check_shape(k, p[k], (M, G * H), ("M", gh))
    return p, M, H


class EnsembleCache(NamedTuple):
    cell: str
    shape: tuple  # (M, N, T, D, H)
    W: np.ndarray  # (B, M, K, H) unscaled packed weights, K = D + 1 + H (rows: x, bias, h)
    XH: np.ndarray  # (T, M, N, K) per step: [x_t, 1, h_{t-1}]
    acts: np.ndarray  # (T, B, M, N, H) gate activations (see _blocks), per step contiguous
    hs: np.ndarray  # (M, T, N, H) hidden states (model-major: the readout needs each model's whole sequence)
    cs: np.ndarray | None  # (T, M, N, H) LSTM cell states
    tcs: np.ndarray | None  # (T, M, N, H) LSTM tanh(c_t)
    h0: np.ndarray  # (M, N, H)
    c0: np.ndarray | None  # (M, N, H) LSTM only


# Inside the ensemble each cell's weights are packed as B blocks of (K, H) per model, one block per
# gate, with K = D + 1 + H rows [Wx; b; Wh] so that one batched product [x_t, 1, h_{t-1}] @ W gives
# every gate's pre-activation with its bias. The blocks (and why):
#   rnn:  a                      (one block)
#   lstm: i, f, o, g             (the sigmoid gates first: one slice [:3] activates them)
#   gru:  r, z, n_h, n_x         (r, z: both sides added; n_h = W_hn h + b_hn is kept apart because
#                                 the reset gate multiplies it; n_x = W_xn x + b_xn has zero h rows)
_ORDER = {"rnn": (0,), "lstm": (0, 1, 3, 2)}  # block -> gate index in rnn.py/lstm.py order


def _pack(name, p, D, H, dtype):
    """The cell's parameters (M, ...) -> packed weights (B, M, K, H) in ``dtype``."""
    M = p["Wh"].shape[0]
    K = D + 1 + H
    if name == "gru":
        W = np.zeros((4, M, K, H), dtype)
        for blk, gate in enumerate((0, 1)):  # r, z
            cols = slice(gate * H, (gate + 1) * H)
            W[blk, :, :D] = p["Wx"][:, :, cols]
            W[blk, :, D] = p["bx"][:, cols] + p["bh"][:, cols]
            W[blk, :, D + 1 :] = p["Wh"][:, :, cols]
        n = slice(2 * H, 3 * H)
        W[2, :, D] = p["bh"][:, n]
        W[2, :, D + 1 :] = p["Wh"][:, :, n]
        W[3, :, :D] = p["Wx"][:, :, n]
        W[3, :, D] = p["bx"][:, n]
        return W
    order = _ORDER[name]
    W = np.empty((len(order), M, K, H), dtype)
    for blk, gate in enumerate(order):
        cols = slice(gate * H, (gate + 1) * H)
        W[blk, :, :D] = p["Wx"][:, :, cols]
        W[blk, :, D] = p["b"][:, cols]
        W[blk, :, D + 1 :] = p["Wh"][:, :, cols]
    return W


def _unpack_grads(name, dW, D):
    """Packed weight gradients (B, M, K, H) -> gradients keyed like the cell's parameters."""
    if name == "gru":
        dx = [dW[0, :, :D], dW[1, :, :D], dW[3, :, :D]]
        dh = [dW[0, :, D + 1 :], dW[1, :, D + 1 :], dW[2, :, D + 1 :]]
        return {
            "Wx": np.concatenate(dx, axis=-1),
            "Wh": np.concatenate(dh, axis=-1),
            "bx": np.concatenate([dW[0, :, D], dW[1, :, D], dW[3, :, D]], axis=-1),
            "bh": np.concatenate([dW[0, :, D], dW[1, :, D], dW[2, :, D]], axis=-1),
        }
    blocks = [list(_ORDER[name]).index(g) for g in range(len(_ORDER[name]))]  # gate -> block
    return {
        "Wx": np.concatenate([dW[b, :, :D] for b in blocks], axis=-1),
        "Wh": np.concatenate([dW[b, :, D + 1 :] for b in blocks], axis=-1),
        "b": np.concatenate([dW[b, :, D] for b in blocks], axis=-1),
    }


def _buf(work, key, shape, dtype):
    """An uninitialised array; with a ``work`` dict, the one kept there under ``key`` is reused.

    Training allocates the same large arrays at every step; fresh ones cost page faults (the
    operating system zeroes every new page), which took as long as the arithmetic at lesson 7's
    sizes. ``ensemble_train`` therefore passes one dict through all its steps; results handed back
    to the caller never live in it.
    """
    if work is None:
        return np.empty(shape, dtype)
    a = work.get(key)
    if a is None or a.shape != shape or a.dtype != dtype:
        a = work[key] = np.empty(shape, dtype)
    return a


def _copy_rows(dst, src):
    """``dst[...] = src`` for arrays whose last axis is short and contiguous in both: each row is
    moved as one opaque item (NumPy's elementwise copy loops over every short row; 10x slower)."""
    if src.dtype != dst.dtype or src.strides[-1] != src.itemsize:
        src = np.ascontiguousarray(src, dtype=dst.dtype)
    item = np.dtype((np.void, src.shape[-1] * src.itemsize))
    dst.view(item)[..., 0] = src.view(item)[..., 0]


def _forward(name, xt, h0, c0, W, work=None, first=None):
    """The recurrence on time-major data: ``xt (T, M, N, D)``, packed ``W (B, M, K, H)``.

    ``first (T,)``: at step ``t`` models ``[0, first[t])`` are past the end of their sequences (see
    ``_first_active``) and are skipped, their hidden state set to 0; ``None``: every model, every step.
    """
    T, M, N, D = xt.shape
    B, _, K, H = W.shape
    dtype = W.dtype
    # sigmoid(a) = (1 + tanh(a / 2)) / 2: the sigmoid blocks are halved once (exact in binary) so
    # that one tanh call activates every gate of every model
    Wf = W.copy()
    if name == "lstm":
        Wf[:3] *= 0.5
    elif name == "gru":
        Wf[:2] *= 0.5
    XH = _buf(work, "XH", (T, M, N, K), dtype)
    _copy_rows(XH[..., :D], xt)
    XH[..., D] = 1.0
    XH[0, ..., D + 1 :] = h0
    acts = _buf(work, "acts", (T, B, M, N, H), dtype)
    hs = _buf(work, "hs", (M, T, N, H), dtype)
    cs = tcs = None
    if name == "lstm":
        cs = _buf(work, "cs", (T, M, N, H), dtype)
        tcs = _buf(work, "tcs", (T, M, N, H), dtype)
    tmp = _buf(work, "tmp", (M, N, H), dtype)
    for t in range(T):
        s = 0 if first is None else int(first[t])
        if s:
            hs[:s, t] = 0.0
            if s == M:
                continue
        a = acts[t, :, s:]  # (B, M - s, N, H)
        np.matmul(XH[t, s:][None], Wf[:, s:], out=a)
        ht = hs[s:, t]
        if name == "rnn":
            np.tanh(a[0], out=ht)
        elif name == "lstm":  # blocks i, f, o, g
            np.tanh(a, out=a)
            sg = a[:3]
            sg *= 0.5
            sg += 0.5
            c, ig = cs[t, s:], tmp[s:]
            np.multiply(a[1], (cs[t - 1] if t else c0)[s:], out=c)  # c_t = f c_{t-1} + i g
            np.multiply(a[0], a[3], out=ig)
            c += ig
            np.tanh(c, out=tcs[t, s:])
            np.multiply(a[2], tcs[t, s:], out=ht)  # h_t = o tanh(c_t)
        else:  # gru, blocks r, z, n_h, n_x (n_x becomes n)
            rz = a[:2]
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            n, rh = a[3], tmp[s:]
            np.multiply(a[0], a[2], out=rh)  # n = tanh(W_xn x + b_xn + r (W_hn h + b_hn))
            n += rh
            np.tanh(n, out=n)
            np.subtract((hs[s:, t - 1] if t else h0[s:]), n, out=ht)  # h_t = n + z (h_{t-1} - n)
            ht *= a[1]
            ht += n
        if t + 1 < T:
            XH[t + 1, s:, :, D + 1 :] = ht
    return XH, acts, hs, cs, tcs


def _first_active(mask):
    """``first (T,)`` for ``_forward``/``_backward`` from ``mask (M, N, T)``: at step ``t`` the models
    ``[0, first[t])`` have no scored step at ``t`` or later, so their remaining steps change nothing
    (a recurrent model is causal) and can be skipped. Ordering the models by sequence length (as
    ``rnncourse.sweeps`` does) makes this prefix as long as possible."""
    M, _, T = mask.shape
    scored = mask.any(axis=1)  # (M, T)
    length = np.where(scored.any(axis=1), T - np.argmax(scored[:, ::-1], axis=1), 0)
    done = length[None, :] <= np.arange(T)[:, None]  # (T, M): model m has ended by step t
    return np.where(done.all(axis=1), M, np.argmin(done, axis=1))


def _backward(name, dhs, cache, dc_T=None, need_dx=True, work=None, first=None):
    """BPTT: ``dhs (M, T, N, H)`` (model-major like ``cache.hs``). Returns ``(dxt (T, M, N, D) or
    None, dh0, dc0, dW (B, M, K, H))``. Every weight gradient is accumulated in the loop by one
    batched product per step, so nothing is stored per step and nothing is rearranged afterwards.
    ``first`` as in ``_forward`` (the skipped models' upstream gradients there must be zero)."""
    M, N, T, D, H = cache.shape
    W, XH, acts, hs = cache.W, cache.XH, cache.acts, cache.hs
    B, K = W.shape[0], W.shape[2]
    dtype = W.dtype
    nb = 3 if name == "gru" else B  # blocks that read h_{t-1} (the GRU's n_x does not)
    WhT = np.ascontiguousarray(W[:nb, :, D + 1 :].swapaxes(-1, -2))  # (nb, M, H, H)
    WxT = np.ascontiguousarray(W[:, :, :D].swapaxes(-1, -2)) if need_dx else None  # (B, M, H, D)
    dxt = np.zeros((T, M, N, D), dtype) if need_dx else None
    dW = np.zeros((B, M, K, H), dtype)
    wbuf = _buf(work, "wbuf", (B, M, K, H), dtype)
    d = _buf(work, "d", (B, M, N, H), dtype)  # gradient of the pre-activations at step t
    buf = _buf(work, "buf", (nb, M, N, H), dtype)
    xbuf = np.empty((B, M, N, D), dtype) if need_dx else None
    dht_ = _buf(work, "dht", (M, N, H), dtype)
    tmp_ = _buf(work, "tmp", (M, N, H), dtype)
    dh_next = np.zeros((M, N, H), dtype)
    dc_next = None
    if name == "lstm":
        dc_next = np.zeros((M, N, H), dtype) if dc_T is None else np.array(dc_T, dtype)
        dc_ = _buf(work, "dc", (M, N, H), dtype)
        fac_ = _buf(work, "fac", (B, M, N, H), dtype)
    elif name == "gru":
        fac_ = _buf(work, "fac", (2, M, N, H), dtype)
    for t in range(T - 1, -1, -1):
        s = 0 if first is None else int(first[t])
        if s == M:
            continue
        a, da, dht, tmp, dhn = acts[t, :, s:], d[:, s:], dht_[s:], tmp_[s:], dh_next[s:]
        np.add(dhs[s:, t], dhn, out=dht)  # the "+ dh_next" term
        if name == "rnn":
            g = da[0]
            np.multiply(hs[s:, t], hs[s:, t], out=tmp)
            np.subtract(1.0, tmp, out=tmp)
            np.multiply(dht, tmp, out=g)  # tanh' = 1 - h^2
        elif name == "lstm":
            i, f, o, g = a[0], a[1], a[2], a[3]
            tc, dc, fac, dcn = cache.tcs[t, s:], dc_[s:], fac_[:, s:], dc_next[s:]
            c_prev = (cache.cs[t - 1] if t else cache.c0)[s:]
            np.multiply(tc, tc, out=dc)  # two paths into c_t: through h_t and from c_{t+1}
            np.subtract(1.0, dc, out=dc)
            dc *= o
            dc *= dht
            dc += dcn
            np.multiply(dc, g, out=da[0])
            np.multiply(dc, c_prev, out=da[1])
            np.multiply(dht, tc, out=da[2])
            np.multiply(dc, i, out=da[3])
            np.subtract(1.0, a, out=fac)  # s (1 - s) on the sigmoid gates, 1 - g^2 on g
            fac[:3] *= a[:3]
            np.multiply(g, g, out=fac[3])
            np.subtract(1.0, fac[3], out=fac[3])
            da *= fac
            np.multiply(dc, f, out=dcn)
        else:
            r, z, nh, n = a[0], a[1], a[2], a[3]
            h_prev = hs[s:, t - 1] if t else cache.h0[s:]
            fac = fac_[:, s:]
            dn = da[3]
            np.subtract(1.0, z, out=dn)  # dn = dh (1 - z)(1 - n^2)
            dn *= dht
            np.multiply(n, n, out=tmp)
            np.subtract(1.0, tmp, out=tmp)
            dn *= tmp
            np.subtract(h_prev, n, out=da[1])  # dz = dh (h_{t-1} - n)
            da[1] *= dht
            np.multiply(dn, nh, out=da[0])  # dr = dn (W_hn h + b_hn)
            np.subtract(1.0, a[:2], out=fac)
            fac *= a[:2]
            da[:2] *= fac
            np.multiply(dn, r, out=da[2])  # d(W_hn h + b_hn) = dn r
        if nb == 1:
            np.matmul(da[0], WhT[0, s:], out=dhn)
        else:
            bf = buf[:, s:]
            np.matmul(da[:nb], WhT[:, s:], out=bf)
            np.add(bf[0], bf[1], out=dhn)
            for b_ in range(2, nb):
                dhn += bf[b_]
        if name == "gru":
            np.multiply(dht, z, out=tmp)
            dhn += tmp
        wb = wbuf[:, s:]
        np.matmul(XH[t, s:].swapaxes(-1, -2)[None], da, out=wb)
        dW[:, s:] += wb
        if need_dx:
            np.matmul(da, WxT[:, s:], out=xbuf[:, s:])
            np.sum(xbuf[:, s:], axis=0, out=dxt[t, s:])
    return dxt, dh_next, dc_next, dW


def ensemble_forward(cell, x, h0, params, c0=None):
    """Run ``M`` independent models of one cell type over their own sequences.

    Args: ``x (M, N, T, D)``, ``h0 (M, N, H)`` or ``None`` (zeros), ``params`` the cell's parameters
    with a leading model axis, ``c0 (M, N, H)`` (LSTM only). Returns ``(h (M, N, T, H), cache)``.
    The arithmetic runs in the parameters' dtype (float32 parameters: float32 throughout).
    """
    cache = _ensemble_forward(cell, x, h0, params, c0)
    return cache.hs.transpose(0, 2, 1, 3), cache


def _ensemble_forward(cell, x, h0, params, c0=None, work=None, first=None):
    """``ensemble_forward`` returning only the cache (its arrays in ``work`` if given)."""
    spec = get_cell(cell)
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None, None), ("M", "N", "T", "D"))
    _, N, T, D = x.shape
    p, M, H = _check_ensemble_params(spec, params, D)
    check_shape("x", x, (M, N, T, D), ("M", "N", "T", "D"))
    dtype = result_dtype(*p.values())
    h0 = np.zeros((M, N, H), dtype) if h0 is None else as_float_array("h0", h0)
    check_shape("h0", h0, (M, N, H), ("M", "N", "H"))
    if spec.has_cell_state:
        c0 = np.zeros((M, N, H), dtype) if c0 is None else as_float_array("c0", c0)
        check_shape("c0", c0, (M, N, H), ("M", "N", "H"))
        c0 = c0.astype(dtype, copy=False)
    elif c0 is not None:
        raise ValueError(f"c0 was given but a {spec.name} cell has no cell state")
    h0 = h0.astype(dtype, copy=False)
    W = _pack(spec.name, p, D, H, dtype)
    XH, acts, hs, cs, tcs = _forward(spec.name, x.transpose(2, 0, 1, 3), h0, c0, W, work, first)
    return EnsembleCache(spec.name, (M, N, T, D, H), W, XH, acts, hs, cs, tcs, h0, c0)


def ensemble_backward(dh, cache, dc_T=None, need_dx=True):
    """Backpropagation through time for ``ensemble_forward``, every model at once.

    ``dh (M, N, T, H)`` upstream gradient of every hidden state; ``dc_T (M, N, H)`` optional
    gradient of the LSTM's final cell state. Returns ``(dx (M, N, T, D), dh0 (M, N, H), dc0, grads)``
    with ``dc0`` None for cells without a cell state and ``grads`` keyed like the parameters;
    ``need_dx=False`` skips ``dx`` (returned as None) when the inputs are data, as in training.
    """
    check_cache("cache", cache, EnsembleCache)
    M, N, T, D, H = cache.shape
    dh = as_float_array("dh", dh)
    check_shape("dh", dh, (M, N, T, H), ("M", "N", "T", "H"))
    if dc_T is not None:
        if cache.cell != "lstm":
            raise ValueError(f"dc_T was given but a {cache.cell} cell has no cell state")
        dc_T = as_float_array("dc_T", dc_T)
        check_shape("dc_T", dc_T, (M, N, H), ("M", "N", "H"))
    dhs = np.ascontiguousarray(dh.transpose(0, 2, 1, 3), dtype=cache.W.dtype)  # (M, T, N, H)
    dxt, dh0, dc0, dW = _backward(cache.cell, dhs, cache, dc_T, need_dx)
    dx = None if dxt is None else dxt.transpose(1, 2, 0, 3)
    return dx, dh0, dc0, _unpack_grads(cache.cell, dW, D)


def _sum_rows(a):
    """``a.sum(axis=1)`` for ``a (M, R, C)`` as one batched product with a row of ones (NumPy's
    reduction over a middle axis is much slower at these shapes)."""
    return np.matmul(np.ones((1, a.shape[1]), a.dtype), a)[:, 0]


def _readout(hs, Wy, by, work=None):
    """Scores ``(M, K, T*N)`` of hidden states ``(M, T, N, H)``, and the hidden states as a
    transposed view ``(M, H, T*N)``. Classes along the middle axis keep every row long and
    contiguous, so the softmax below works on whole rows of ``T*N`` numbers."""
    M, T, N, H = hs.shape
    hsT = hs.reshape(M, T * N, H).swapaxes(1, 2)  # a view: BLAS reads it transposed
    scores = np.matmul(
        np.ascontiguousarray(Wy.swapaxes(1, 2)),
        hsT,
        out=_buf(work, "scores", (M, Wy.shape[2], T * N), hs.dtype),
    )
    scores += by[:, :, None]
    return scores, hsT


def _scores_mntk(scores, T, N):
    """``(M, K, T*N)`` -> the public layout ``(M, N, T, K)`` (a view)."""
    M, K, _ = scores.shape
    return scores.reshape(M, K, T, N).transpose(0, 3, 2, 1)


def ensemble_predict(cell, params, x):
    """Readout scores ``(M, N, T, K)`` of ``M`` models (cell params plus ``Wy (M, H, K)``, ``by (M, K)``)."""
    spec = get_cell(cell)
    _, cache = ensemble_forward(spec, x, None, {k: params[k] for k in spec.param_names})
    Wy = np.asarray(params["Wy"], cache.W.dtype)
    by = np.asarray(params["by"], cache.W.dtype)
    M, N, T = cache.shape[:3]
    return _scores_mntk(_readout(cache.hs, Wy, by)[0], T, N)


def ensemble_loss(cell, params, x, y, mask=None, loss="softmax", workspace=None):
    """Loss and gradients of ``M`` models (``SequenceModel`` with feature inputs), each on its own batch.

    ``params`` holds the cell's parameters and the readout ``Wy (M, H, K)``, ``by (M, K)``;
    ``x (M, N, T, D)``, ``y (M, N, T)`` class ids (softmax) or ``(M, N, T, K)`` targets (mse),
    ``mask (M, N, T)``. Each model's loss is the one of ``rnncourse.nn.forward_loss``: summed over
    time, averaged over its batch. Returns ``(losses (M,), grads, scores (M, N, T, K))``.
    ``workspace``: ``None``, or a dict kept between calls so that the large intermediate arrays are
    reused (as ``ensemble_train`` does); the returned ``scores`` then live in it until the next call.
    """
    spec = get_cell(cell)
    if loss not in ("softmax", "mse"):
        raise ValueError(f"loss must be 'softmax' or 'mse', got {loss!r}")
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None, None), ("M", "N", "T", "D"))
    M, N, T, _ = x.shape
    mask = np.ones((M, N, T)) if mask is None else as_float_array("mask", mask)
    check_shape("mask", mask, (M, N, T), ("M", "N", "T"))
    first = _first_active(mask)
    cache = _ensemble_forward(spec, x, None, {k: params[k] for k in spec.param_names}, None, workspace, first)
    dtype = cache.W.dtype
    Wy, by = np.asarray(params["Wy"], dtype), np.asarray(params["by"], dtype)
    scores, hsT = _readout(cache.hs, Wy, by, workspace)  # (M, K, T*N), rows ordered (t, n)
    K, R = scores.shape[1:]
    maskr = mask.transpose(0, 2, 1).reshape(M, R).astype(dtype)
    if loss == "softmax":
        y = np.asarray(y)
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"y must hold integer class ids, got dtype {y.dtype}")
        check_shape("y", y, (M, N, T), ("M", "N", "T"))
        y_safe = np.where(maskr != 0, y.transpose(0, 2, 1).reshape(M, R), 0)
        if y_safe.size and (y_safe.min() < 0 or y_safe.max() >= K):
            raise ValueError(
                f"y must hold class ids in [0, {K}) where mask is non-zero, "
                f"got values in [{y_safe.min()}, {y_safe.max()}]"
            )
        # log-softmax over the K classes of each row: K-1 elementwise calls on long rows
        top = scores[:, 0].copy()
        for k in range(1, K):
            np.maximum(top, scores[:, k], out=top)
        z = np.subtract(scores, top[:, None], out=_buf(workspace, "z", scores.shape, dtype))
        e = np.exp(z, out=_buf(workspace, "e", scores.shape, dtype))
        se = e[:, 0].copy()
        for k in range(1, K):
            se += e[:, k]
        # flat index of (m, y, r) in (M, K, R): the score of the right class of every row
        flat = (np.arange(M)[:, None] * (K * R) + np.arange(R)[None, :]) + y_safe * R
        picked = np.take(z, flat) - np.log(se)  # log p(y)
        losses = -(maskr * picked).sum(axis=1) / N
        dscores = e
        dscores /= se[:, None]
        np.put(dscores, flat, np.take(dscores, flat) - 1.0)  # softmax - one-hot
    else:
        y = as_float_array("y", y)
        check_shape("y", y, (M, N, T, K), ("M", "N", "T", "K"))
        diff = scores - y.transpose(0, 3, 2, 1).reshape(M, K, R)
        losses = 0.5 * (maskr[:, None] * diff * diff).sum(axis=(1, 2)) / N
        dscores = diff
    dscores *= (maskr / N)[:, None]
    H = hsT.shape[1]
    grads_ro = {"Wy": np.matmul(hsT, dscores.swapaxes(1, 2)), "by": dscores.sum(axis=2)}
    dhs = _buf(workspace, "dhs", (M, T, N, H), dtype)
    np.matmul(dscores.swapaxes(1, 2), np.ascontiguousarray(Wy.swapaxes(1, 2)), out=dhs.reshape(M, T * N, H))
    _, _, _, dW = _backward(spec.name, dhs, cache, need_dx=False, work=workspace, first=first)
    grads = _unpack_grads(spec.name, dW, cache.shape[3])
    grads.update(grads_ro)
    return losses, grads, _scores_mntk(scores, T, N)


def padded_sampler(tasks, rngs, batch_size):
    """``sample() -> (x, y, mask)`` with a leading model axis: model ``m`` draws
    ``tasks[m].sample(batch_size, rngs[m])`` (the same stream ``train(..., rng=rngs[m])`` would
    see), right-padded with zeros under a zero mask to the longest ``T``."""
    if len(tasks) != len(rngs):
        raise ValueError(f"tasks and rngs must have the same length, got {len(tasks)} and {len(rngs)}")
    rngs = [r if isinstance(r, np.random.Generator) else np.random.default_rng(r) for r in rngs]

    def sample():
        return pad_batches([task.sample(batch_size, rng) for task, rng in zip(tasks, rngs)])

    return sample


def pad_batches(batches):
    """Stack ``Batch(x, y, mask)`` objects of equal ``N`` into ``(M, N, T_max, ...)`` arrays."""
    T = max(b.x.shape[1] for b in batches)
    N = batches[0].x.shape[0]
    M = len(batches)
    x = np.zeros((M, N, T) + batches[0].x.shape[2:], batches[0].x.dtype)
    y = np.zeros((M, N, T) + batches[0].y.shape[2:], batches[0].y.dtype)
    mask = np.zeros((M, N, T), np.float64)
    for m, b in enumerate(batches):
        t = b.x.shape[1]
        x[m, :, :t], y[m, :, :t], mask[m, :, :t] = b.x, b.y, b.mask
    return x, y, mask


@dataclass
class EnsembleHistory:
    """Per step and model: ``loss (steps, M)``, ``grad_norm (steps, M)`` (before clipping)."""

    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    params: dict | None = None
    seconds: float = 0.0


def ensemble_train(
    cell,
    params,
    sample: Callable,
    steps=200,
    optimizer="adam",
    lr=1e-2,
    clip=None,
    loss="softmax",
    callback=None,
    callback_every=10,
):
    """Train ``M`` models at once; the twin of ``rnncourse.nn.train`` (feature inputs, no TBPTT).

    ``params``: stacked parameters (``stack_params([m.params for m in models])``), never modified.
    ``sample()`` returns ``(x (M, N, T, D), y, mask (M, N, T))`` for one step (see
    ``padded_sampler``). ``clip`` rescales each model's gradient by its own global norm, as
    ``train(..., clip=...)`` does for one model; the optimiser works entry by entry, so one Adam
    over the stacked arrays is ``M`` independent Adams. ``callback(step, params)`` runs every
    ``callback_every`` steps. Returns an ``EnsembleHistory``; raises ``TrainingDiverged`` naming the
    models whose loss or gradient is not finite.
    """
    get_cell(cell)
    if clip is not None and not clip > 0:
        raise ValueError(f"clip must be a positive number or None, got {clip!r}")
    if not (isinstance(steps, (int, np.integer)) and steps >= 0):
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    opt = make_optimizer(optimizer, lr=lr) if isinstance(optimizer, str) else optimizer
    params = {k: np.array(v) for k, v in params.items()}
    state = opt.init(params)
    work = {}  # the large intermediate arrays, reused by every step
    hist = EnsembleHistory()
    t0 = time.perf_counter()
    for step in range(steps):
        x, y, mask = sample()
        with np.errstate(over="ignore", invalid="ignore"):
            losses, grads, _ = ensemble_loss(cell, params, x, y, mask, loss=loss, workspace=work)
            sq = sum(np.square(g).reshape(len(g), -1).sum(axis=1) for g in grads.values())
            norms = np.sqrt(sq)
        bad = ~(np.isfinite(losses) & np.isfinite(norms))
        if bad.any():
            hist.params, hist.seconds = params, time.perf_counter() - t0
            raise TrainingDiverged(
                f"training diverged at step {step} for models "
                f"{np.flatnonzero(bad).tolist()}: "
                f"try clip=1.0 or a smaller learning rate (lr={lr} now)",
                hist,
            )
        if clip is not None:
            scale = np.minimum(1.0, clip / np.where(norms > 0, norms, 1.0))
            grads = {k: g * scale.reshape((-1,) + (1,) * (g.ndim - 1)) for k, g in grads.items()}
        params, state = opt.update(params, grads, state)
        hist.loss.append(losses)
        hist.grad_norm.append(norms)
        if callback is not None and ((step + 1) % callback_every == 0 or step == steps - 1):
            callback(step, params)
    hist.params = params
    hist.seconds = time.perf_counter() - t0
    return hist
