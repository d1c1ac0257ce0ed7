"""Ensemble training: many small models of the same shape trained at once (lesson 7's lag sweep).

Training one small recurrent model is slow in NumPy not because of arithmetic but because of
Python: every time step costs a few microseconds of interpreter and call overhead whatever the
matrix size. An *ensemble* puts a leading "model" axis ``M`` on every parameter and every
activation, so one call does the work of all ``M`` models:

    h_t[m] = tanh(x_t[m] Wx[m] + h_{t-1}[m] Wh[m] + b[m])        for every model m at once

is one batched product ``np.matmul(h_prev (M, N, H), Wh (M, H, G*H))`` per step. The models do not
interact: each has its own parameters, its own data, its own loss, its own gradient clipping and
its own Adam state, so training the ensemble gives the same parameters as training the models one
by one (``tests/test_ensemble.py`` proves it to 1e-10 in float64).

Shapes: ``x (M, N, T, D)``, ``h0, c0 (M, N, H)``, ``Wx (M, D, G*H)``, ``Wh (M, H, G*H)``,
``b (M, G*H)`` (``bx, bh`` for the GRU), hidden states ``h (M, N, T, H)``. The equations and gate
orders are exactly those of ``rnn.py``, ``lstm.py`` and ``gru.py``.

Models whose sequences have different lengths (e.g. different lags) share one ensemble by
right-padding with zero inputs under a zero mask: a recurrent model is causal, so steps added at the
end change neither the earlier outputs nor, because their loss is masked out, any gradient.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_cache, check_shape, result_dtype
from .cells import get_cell
from .functional import log_softmax
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


class EnsembleCache(NamedTuple):
    cell: str
    x: np.ndarray  # (M, N, T, D)
    h0: np.ndarray  # (M, N, H)
    c0: np.ndarray | None  # (M, N, H) LSTM only
    params: dict  # the cell's parameters, (M, ...) each
    acts: np.ndarray  # (G, M, T, N, H) gate activations (rnn: pre-activations)
    hs: np.ndarray  # (M, T, N, H) hidden states
    cs: np.ndarray | None  # (M, T, N, H) LSTM cell states
    extra: np.ndarray | None  # LSTM: tanh(c); GRU: h_prev Wh_n + bh_n; (M, T, N, H)


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


def ensemble_forward(cell, x, h0, params, c0=None):
    """Run ``M`` independent models of one cell type over their own sequences.

    Args: ``x (M, N, T, D)``, ``h0 (M, N, H)`` or ``None`` (zeros), ``params`` the cell's parameters
    with a leading model axis, ``c0 (M, N, H)`` (LSTM only). Returns ``(h (M, N, T, H), cache)``.
    The arithmetic runs in the parameters' dtype (float32 parameters: float32 throughout).
    """
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
    elif c0 is not None:
        raise ValueError(f"c0 was given but a {spec.name} cell has no cell state")
    G, GH = spec.gates, spec.gates * H

    # sigmoid(a) = (1 + tanh(a / 2)) / 2: the sigmoid columns of the weights are halved once (exact)
    # so that one tanh per step activates every gate, as in lstm.py and gru.py
    half = np.ones(GH, dtype)
    if spec.name == "lstm":
        half[: 2 * H] = half[3 * H :] = 0.5
    elif spec.name == "gru":
        half[: 2 * H] = 0.5
    b_in = (p["b"] if "b" in p else p["bx"]).astype(dtype, copy=True)
    if spec.name == "gru":
        b_in[:, : 2 * H] += p["bh"][:, : 2 * H]  # the r, z biases of both sides are only ever added
    # Storage is (G, M, T, N, H): at step t a gate of one model is a contiguous block of N*H numbers
    # (elementwise operations stay fast), and after the loop acts[g] reshapes to (M, T*N, H) for
    # free, so the weight gradients need no rearranging copies. The input projection of all steps
    # is one batched product per gate, written in place.
    xt = x.transpose(0, 2, 1, 3).reshape(M, T * N, D).astype(dtype, copy=False)
    Wxg = (p["Wx"] * half).astype(dtype, copy=False).reshape(M, D, G, H)
    Wxg = np.ascontiguousarray(Wxg.transpose(2, 0, 1, 3))
    acts = np.empty((G, M, T, N, H), dtype)
    np.matmul(xt[None], Wxg, out=acts.reshape(G, M, T * N, H))
    acts += (b_in * half).reshape(M, G, H).transpose(1, 0, 2)[:, :, None, None, :]
    # the recurrent weights per gate: (G, M, H, H); h_{t-1} (1, M, N, H) @ it is one batched product
    Whg = (p["Wh"] * half).astype(dtype, copy=False).reshape(M, H, G, H)
    Whg = np.ascontiguousarray(Whg.transpose(2, 0, 1, 3))
    hs = np.empty((M, T, N, H), dtype)
    h_prev = h0.astype(dtype, copy=False)
    cs = extra = None
    if spec.name == "rnn":
        tmp = np.empty((1, M, N, H), dtype)
        for t in range(T):
            np.matmul(h_prev[None], Whg, out=tmp)
            a = acts[:, :, t]
            a += tmp
            np.tanh(a[0], out=hs[:, t])
            h_prev = hs[:, t]
    elif spec.name == "lstm":
        tmp = np.empty((4, M, N, H), dtype)
        ig = np.empty((M, N, H), dtype)
        cs = np.empty((M, T, N, H), dtype)
        extra = np.empty((M, T, N, H), dtype)  # tanh(c_t)
        c_prev = c0.astype(dtype, copy=False)
        for t in range(T):
            np.matmul(h_prev[None], Whg, out=tmp)
            a = acts[:, :, t]
            a += tmp
            np.tanh(a, out=a)
            for s_ in (a[:2], a[3]):  # i, f and o: tanh(a/2) -> sigmoid(a)
                s_ += 1.0
                s_ *= 0.5
            np.multiply(a[1], c_prev, out=cs[:, t])  # c_t = f c_{t-1} + i g
            np.multiply(a[0], a[2], out=ig)
            cs[:, t] += ig
            np.tanh(cs[:, t], out=extra[:, t])
            np.multiply(a[3], extra[:, t], out=hs[:, t])  # h_t = o tanh(c_t)
            h_prev, c_prev = hs[:, t], cs[:, t]
    else:  # gru
        ahs = np.empty((3, M, T, N, H), dtype)  # h_{t-1} Wh per gate (+ bh_n on n)
        rh = np.empty((M, N, H), dtype)
        bh_n = p["bh"][:, None, 2 * H :].astype(dtype, copy=False)
        for t in range(T):
            ah = ahs[:, :, t]
            np.matmul(h_prev[None], Whg, out=ah)
            hn = ah[2]
            hn += bh_n
            a = acts[:, :, t]
            rz = a[:2]
            rz += ah[:2]
            np.tanh(rz, out=rz)
            rz += 1.0
            rz *= 0.5
            n = a[2]
            np.multiply(a[0], hn, out=rh)
            n += rh
            np.tanh(n, out=n)
            ht = hs[:, t]
            np.subtract(h_prev, n, out=ht)  # h_t = n + z (h_{t-1} - n)
            ht *= a[1]
            ht += n
            h_prev = ht
        extra = ahs[2]
    h = hs.transpose(0, 2, 1, 3)
    return h, EnsembleCache(spec.name, x, h0, c0, p, acts, hs, cs, extra)


def _sum_rows(a):
    """``a.sum(axis=1)`` for ``a (M, R, C)`` as one batched product with a row of ones (NumPy's
    reduction over a middle axis is about 50 times slower at these shapes)."""
    return np.matmul(np.ones((1, a.shape[1]), a.dtype), a)[:, 0]


def ensemble_backward(dh, cache, dc_T=None, need_dx=True):
    """Backpropagation through time for ``ensemble_forward``, every model at once.

    ``dh (M, N, T, H)`` upstream gradient of every hidden state; ``dc_T (M, N, H)`` optional
    gradient of the LSTM's final cell state. Returns ``(dx (M, N, T, D), dh0 (M, N, H), dc0, grads)``
    with ``dc0`` None for cells without a cell state and ``grads`` keyed like the parameters;
    ``need_dx=False`` skips ``dx`` (returned as None) when the inputs are data, as in training.
    """
    check_cache("cache", cache, EnsembleCache)
    spec = get_cell(cache.cell)
    x, h0, p, acts, hs = cache.x, cache.h0, cache.params, cache.acts, cache.hs
    M, N, T, D = x.shape
    H = hs.shape[-1]
    G, GH = spec.gates, spec.gates * H
    dh = as_float_array("dh", dh)
    check_shape("dh", dh, (M, N, T, H), ("M", "N", "T", "H"))
    dtype = hs.dtype
    dhs = dh.transpose(0, 2, 1, 3)  # (M, T, N, H) view
    # Wh^T per gate, (G, M, H, H): dh_prev = sum over gates of da_gate Wh_gate^T
    WhgT = np.ascontiguousarray(p["Wh"].astype(dtype, copy=False).reshape(M, H, G, H).transpose(2, 0, 3, 1))
    h0_ = h0.astype(dtype, copy=False)
    da = np.empty((G, M, T, N, H), dtype)  # gradient of the pre-activations
    dah = da if spec.name != "gru" else np.empty((G, M, T, N, H), dtype)  # GRU: the hidden side differs
    dh_next = np.zeros((M, N, H), dtype)
    dht = np.empty((M, N, H), dtype)
    buf = np.empty((G, M, N, H), dtype)
    dc_next = None
    if spec.name == "lstm":
        dc_next = np.zeros((M, N, H), dtype)
        if dc_T is not None:
            dc_T = as_float_array("dc_T", dc_T)
            check_shape("dc_T", dc_T, (M, N, H), ("M", "N", "H"))
            dc_next += dc_T
    elif dc_T is not None:
        raise ValueError(f"dc_T was given but a {spec.name} cell has no cell state")
    if spec.name == "rnn":
        for t in range(T - 1, -1, -1):
            g = da[0, :, t]
            np.add(dhs[:, t], dh_next, out=g)  # the "+ dh_next" term
            np.multiply(hs[:, t], hs[:, t], out=dht)
            np.subtract(1.0, dht, out=dht)
            g *= dht  # tanh' = 1 - h^2
            dh_next = np.matmul(g, WhgT[0])
    elif spec.name == "lstm":
        dc = np.empty((M, N, H), dtype)
        fac = np.empty((4, M, N, H), dtype)
        for t in range(T - 1, -1, -1):
            a = acts[:, :, t]
            i, f, g, o = a[0], a[1], a[2], a[3]
            tc = cache.extra[:, t]
            c_prev = cache.cs[:, t - 1] if t > 0 else cache.c0
            np.add(dhs[:, t], dh_next, out=dht)
            np.multiply(tc, tc, out=dc)  # two paths into c_t
            np.subtract(1.0, dc, out=dc)
            dc *= o
            dc *= dht
            dc += dc_next
            d = da[:, :, t]
            np.multiply(dc, g, out=d[0])
            np.multiply(dc, c_prev, out=d[1])
            np.multiply(dc, i, out=d[2])
            np.multiply(dht, tc, out=d[3])
            np.subtract(1.0, a, out=fac)  # s (1 - s) on every gate, then 1 - g^2
            fac *= a
            np.multiply(g, g, out=fac[2])
            np.subtract(1.0, fac[2], out=fac[2])
            d *= fac
            dc_next = dc * f
            np.matmul(d, WhgT, out=buf)
            dh_next = buf[0] + buf[1]  # sum over the gates (faster than .sum(0))
            dh_next += buf[2]
            dh_next += buf[3]
    else:
        tmp = np.empty((M, N, H), dtype)
        fac = np.empty((2, M, N, H), dtype)
        for t in range(T - 1, -1, -1):
            a = acts[:, :, t]
            rz, r, z, n = a[:2], a[0], a[1], a[2]
            h_prev = hs[:, t - 1] if t > 0 else h0_
            np.add(dhs[:, t], dh_next, out=dht)
            d, e = da[:, :, t], dah[:, :, t]
            dar, daz, dan = d[0], d[1], d[2]
            np.subtract(1.0, z, out=dan)  # dan = dht (1 - z)(1 - n^2)
            dan *= dht
            np.multiply(n, n, out=tmp)
            np.subtract(1.0, tmp, out=tmp)
            dan *= tmp
            np.subtract(h_prev, n, out=daz)  # dz = dht (h_prev - n)
            daz *= dht
            np.multiply(dan, cache.extra[:, t], out=dar)  # dr = dan (h_prev Wh_n + bh_n)
            np.subtract(1.0, rz, out=fac)
            fac *= rz
            d[:2] *= fac
            e[:2] = d[:2]
            np.multiply(dan, r, out=e[2])
            np.matmul(e, WhgT, out=buf)
            dh_next = buf[0] + buf[1]
            dh_next += buf[2]
            np.multiply(dht, z, out=tmp)
            dh_next += tmp

    # every weight gradient is one batched product per gate over all steps: da[g] is (M, T*N, H)
    def join(a):  # (G, M, R, H) -> (M, R, G*H)
        return a.transpose(1, 2, 0, 3).reshape(M, a.shape[2], GH)

    da_g = da.reshape(G, M, T * N, H)
    dah_g = dah.reshape(G, M, T * N, H)
    xt = x.transpose(0, 2, 1, 3).reshape(M, T * N, D).astype(dtype, copy=False)
    dx = None
    if need_dx:
        WxgT = p["Wx"].astype(dtype, copy=False).reshape(M, D, G, H)
        WxgT = np.ascontiguousarray(WxgT.transpose(2, 0, 3, 1))
        parts = np.matmul(da_g, WxgT)  # (G, M, T*N, D)
        dx = parts[0]
        for g_ in range(1, G):
            dx = dx + parts[g_]
        dx = dx.reshape(M, T, N, D).transpose(0, 2, 1, 3).copy()
    grads = {"Wx": join(np.matmul(np.swapaxes(xt, 1, 2)[None], da_g))}
    h_prev = np.concatenate([h0_[:, None], hs[:, :-1]], axis=1).reshape(M, T * N, H)
    grads["Wh"] = join(np.matmul(np.swapaxes(h_prev, 1, 2)[None], dah_g))
    if spec.name == "gru":
        grads["bx"] = join(_sum_rows(da_g.reshape(G * M, T * N, H)).reshape(G, M, 1, H))[:, 0]
        grads["bh"] = join(_sum_rows(dah_g.reshape(G * M, T * N, H)).reshape(G, M, 1, H))[:, 0]
    else:
        grads["b"] = join(_sum_rows(da_g.reshape(G * M, T * N, H)).reshape(G, M, 1, H))[:, 0]
    return dx, dh_next, dc_next, grads


def _readout(hs, Wy, by):
    """Scores of hidden states stored ``(M, T, N, H)``; returns ``(M, T, N, K)`` and ``h (M, T*N, H)``."""
    M, T, N, H = hs.shape
    h2 = hs.reshape(M, T * N, H)
    scores = np.matmul(h2, Wy)
    scores += by[:, None, :]
    return scores.reshape(M, T, N, -1), h2


def ensemble_predict(cell, params, x):
    """Readout scores ``(M, N, T, K)`` of ``M`` models (cell params plus ``Wy (M, H, K)``, ``by (M, K)``)."""
    spec = get_cell(cell)
    _, cache = ensemble_forward(spec, x, None, {k: params[k] for k in spec.param_names})
    return _readout(cache.hs, params["Wy"], params["by"])[0].transpose(0, 2, 1, 3)


def ensemble_loss(cell, params, x, y, mask=None, loss="softmax"):
    """Loss and gradients of ``M`` models (``SequenceModel`` with feature inputs), each on its own batch.

    ``params`` holds the cell's parameters and the readout ``Wy (M, H, K)``, ``by (M, K)``;
    ``x (M, N, T, D)``, ``y (M, N, T)`` class ids (softmax) or ``(M, N, T, K)`` targets (mse),
    ``mask (M, N, T)``. Each model's loss is the one of ``rnncourse.nn.forward_loss``: summed over
    time, averaged over its batch. Returns ``(losses (M,), grads, scores (M, N, T, K))``.
    """
    spec = get_cell(cell)
    if loss not in ("softmax", "mse"):
        raise ValueError(f"loss must be 'softmax' or 'mse', got {loss!r}")
    x = as_float_array("x", x)
    check_shape("x", x, (None, None, None, None), ("M", "N", "T", "D"))
    M, N, T, _ = x.shape
    mask = np.ones((M, N, T)) if mask is None else as_float_array("mask", mask)
    check_shape("mask", mask, (M, N, T), ("M", "N", "T"))
    _, cache = ensemble_forward(spec, x, None, {k: params[k] for k in spec.param_names})
    Wy, by = params["Wy"], params["by"]
    scores, h2 = _readout(cache.hs, Wy, by)  # (M, T, N, K): time-major inside
    K = scores.shape[-1]
    mask = mask.transpose(0, 2, 1)
    if loss == "softmax":
        y = np.asarray(y)
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"y must hold integer class ids, got dtype {y.dtype}")
        check_shape("y", y, (M, N, T), ("M", "N", "T"))
        y_safe = np.where(mask != 0, y.transpose(0, 2, 1), 0)
        if y_safe.size and (y_safe.min() < 0 or y_safe.max() >= K):
            raise ValueError(
                f"y must hold class ids in [0, {K}) where mask is non-zero, "
                f"got values in [{y_safe.min()}, {y_safe.max()}]"
            )
        logp = log_softmax(scores, axis=-1)
        picked = np.take_along_axis(logp, y_safe[..., None], axis=-1)[..., 0]
        losses = -(mask * picked).reshape(M, -1).sum(axis=1) / N
        dscores = np.exp(logp)
        np.put_along_axis(
            dscores, y_safe[..., None], np.take_along_axis(dscores, y_safe[..., None], axis=-1) - 1.0, axis=-1
        )
    else:
        y = as_float_array("y", y)
        check_shape("y", y, (M, N, T, K), ("M", "N", "T", "K"))
        diff = scores - y.transpose(0, 2, 1, 3)
        losses = 0.5 * (mask[..., None] * diff * diff).reshape(M, -1).sum(axis=1) / N
        dscores = diff
    dscores *= (mask / N)[..., None]
    H = cache.hs.shape[-1]
    d2 = dscores.reshape(M, T * N, K)
    grads_ro = {"Wy": np.matmul(np.swapaxes(h2, 1, 2), d2), "by": _sum_rows(d2)}
    dh = np.matmul(d2, np.swapaxes(Wy, 1, 2)).reshape(M, T, N, H).transpose(0, 2, 1, 3)
    _, _, _, grads = ensemble_backward(dh, cache, need_dx=False)
    grads.update(grads_ro)
    return losses, grads, scores.transpose(0, 2, 1, 3)


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
    hist = EnsembleHistory()
    t0 = time.perf_counter()
    for step in range(steps):
        x, y, mask = sample()
        with np.errstate(over="ignore", invalid="ignore"):
            losses, grads, _ = ensemble_loss(cell, params, x, y, mask, loss=loss)
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
