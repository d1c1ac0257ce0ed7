"""Layers around the recurrent cell: embedding, per-step readout and the losses (lesson 2).

Loss reduction, the same everywhere in the course: **summed over time steps, averaged over the
batch**. Summing over time is what "the loss of a sequence" means; averaging over the batch keeps
the learning rate independent of the batch size. A ``mask (N, T)`` of zeros and ones removes
steps that have no target (padding, or the many-to-one pattern where only the last step counts).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import as_float_array, check_cache, check_shape
from .functional import log_softmax

__all__ = [
    "EmbeddingCache",
    "AffineCache",
    "embedding_forward",
    "embedding_backward",
    "temporal_affine_forward",
    "temporal_affine_backward",
    "temporal_softmax_loss",
    "mse_loss",
]


class EmbeddingCache(NamedTuple):
    idx: np.ndarray  # (N, T) int
    V: int
    dtype: np.dtype


class AffineCache(NamedTuple):
    h: np.ndarray  # (N, T, H)
    W: np.ndarray  # (H, K)


def _check_tokens(name, idx, V=None):
    idx = np.asarray(idx)
    if not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{name} must hold integer token ids, got dtype {idx.dtype}")
    check_shape(name, idx, (None, None), ("N", "T"))
    if V is not None and idx.size and (idx.min() < 0 or idx.max() >= V):
        raise ValueError(f"{name} must hold ids in [0, {V}), got values in [{idx.min()}, {idx.max()}]")
    return idx


def embedding_forward(idx, W):
    """Look up rows of ``W (V, D)`` for token ids ``idx (N, T)``: ``out[n, t] = W[idx[n, t]]``.
    Returns ``(out (N, T, D), cache)``."""
    W = as_float_array("W", W)
    check_shape("W", W, (None, None), ("V", "D"))
    idx = _check_tokens("idx", idx, W.shape[0])
    return W[idx], EmbeddingCache(idx, W.shape[0], W.dtype)


def embedding_backward(dout, cache):
    """Gradient of the embedding matrix: rows used several times accumulate (``np.add.at``).
    ``dout (N, T, D)`` -> ``dW (V, D)``."""
    check_cache("cache", cache, EmbeddingCache)
    dout = as_float_array("dout", dout)
    N, T = cache.idx.shape
    check_shape("dout", dout, (N, T, None), ("N", "T", "D"))
    dW = np.zeros((cache.V, dout.shape[2]), dtype=np.result_type(dout.dtype, cache.dtype))
    np.add.at(dW, cache.idx.reshape(-1), dout.reshape(N * T, -1))
    return dW


def temporal_affine_forward(h, W, b):
    """Readout at every step: ``out[:, t] = h[:, t] W + b``.
    ``h (N, T, H)``, ``W (H, K)``, ``b (K,)`` -> ``(out (N, T, K), cache)``."""
    h = as_float_array("h", h)
    check_shape("h", h, (None, None, None), ("N", "T", "H"))
    W = as_float_array("W", W)
    check_shape("W", W, (h.shape[2], None), ("H", "K"))
    b = as_float_array("b", b)
    check_shape("b", b, (W.shape[1],), ("K",))
    return h @ W + b, AffineCache(h, W)


def temporal_affine_backward(dout, cache):
    """``dout (N, T, K)`` -> ``(dh (N, T, H), dW (H, K), db (K,))``; W and b are shared over time,
    so their gradients are sums over batch and time."""
    check_cache("cache", cache, AffineCache)
    h, W = cache
    dout = as_float_array("dout", dout)
    check_shape("dout", dout, (h.shape[0], h.shape[1], W.shape[1]), ("N", "T", "K"))
    N, T, H = h.shape
    d2 = dout.reshape(N * T, -1)
    dh = (d2 @ W.T).reshape(N, T, H)
    dW = h.reshape(N * T, H).T @ d2
    return dh, dW, d2.sum(axis=0)


def _check_mask(mask, N, T):
    if mask is None:
        return np.ones((N, T))
    mask = as_float_array("mask", mask)
    check_shape("mask", mask, (N, T), ("N", "T"))
    return mask


def temporal_softmax_loss(scores, y, mask=None):
    """Softmax cross-entropy at every step, summed over time, averaged over the batch.

    ``L = -(1/N) sum_{n,t} mask[n,t] log softmax(scores[n,t])[y[n,t]]``.
    Args ``scores (N, T, V)``, ``y (N, T)`` int targets, ``mask (N, T)`` (``None`` = all ones;
    targets under a zero mask are ignored and may be any value, e.g. -1). Returns
    ``(loss, dscores (N, T, V))`` with ``dscores = mask (softmax - onehot(y)) / N``.
    """
    scores = as_float_array("scores", scores)
    check_shape("scores", scores, (None, None, None), ("N", "T", "V"))
    N, T, V = scores.shape
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class ids, got dtype {y.dtype}")
    check_shape("y", y, (N, T), ("N", "T"))
    mask = _check_mask(mask, N, T)
    on = mask != 0
    if on.any() and (y[on].min() < 0 or y[on].max() >= V):
        raise ValueError(
            f"y must hold class ids in [0, {V}) where mask is non-zero, "
            f"got values in [{y[on].min()}, {y[on].max()}]"
        )
    y_safe = np.where(on, y, 0)
    logp = log_softmax(scores, axis=2)
    picked = np.take_along_axis(logp, y_safe[..., None], axis=2)[..., 0]
    loss = -(mask * picked).sum() / N
    dscores = np.exp(logp)
    np.put_along_axis(
        dscores, y_safe[..., None], np.take_along_axis(dscores, y_safe[..., None], axis=2) - 1.0, axis=2
    )
    dscores *= (mask / N)[..., None]
    return float(loss), dscores


def mse_loss(pred, target, mask=None):
    """Squared error, summed over time and output dimensions, averaged over the batch:
    ``L = (1/N) sum_{n,t,k} mask[n,t] (pred - target)^2 / 2``. The factor 1/2 makes the gradient
    simply ``mask (pred - target) / N``. Args ``pred, target (N, T, K)``. Returns ``(loss, dpred)``."""
    pred = as_float_array("pred", pred)
    check_shape("pred", pred, (None, None, None), ("N", "T", "K"))
    target = as_float_array("target", target)
    check_shape("target", target, pred.shape, ("N", "T", "K"))
    N, T, _ = pred.shape
    mask = _check_mask(mask, N, T)
    diff = (pred - target) * mask[..., None]
    return float(0.5 * (diff * diff).sum() / N), diff / N
