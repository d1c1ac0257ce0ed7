"""Optimisers and gradient clipping (lessons 2 and 4).

Parameters and gradients are dicts of arrays with the same keys. Optimisers keep their state
explicitly: ``state = opt.init(params)`` and ``params, state = opt.update(params, grads, state)``
return new arrays and never modify their arguments, so a notebook can rerun any cell safely.

Clipping: *by global norm* rescales all gradients together when their joint norm exceeds a threshold
(the direction is kept, only the length shrinks); *by value* clamps every entry to
``[-clip, clip]``, which changes the direction whenever some entries are clamped and others are not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._checks import check_number

__all__ = [
    "global_norm",
    "clip_by_global_norm",
    "clip_by_value",
    "SGD",
    "Momentum",
    "Adagrad",
    "Adam",
    "make_optimizer",
]


def _check_grads(grads):
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}")


def global_norm(grads):
    """``sqrt(sum_k ||g_k||^2)`` over every array in the dict."""
    _check_grads(grads)
    with np.errstate(over="ignore", invalid="ignore"):  # an exploded gradient has norm inf: say so
        return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values())))


def clip_by_global_norm(grads, max_norm):
    """Scale every gradient by ``min(1, max_norm / ||g||)``, where ``||g||`` is the global norm.

    Returns ``(clipped, norm)``: a new dict and the norm *before* clipping. The direction of the
    joint gradient is unchanged.
    """
    max_norm = check_number("max_norm", max_norm, 0, strict=True)
    norm = global_norm(grads)
    if not np.isfinite(norm):
        # An inf/NaN norm cannot be rescaled meaningfully; report it unchanged so the caller sees it.
        return {k: np.array(g, copy=True) for k, g in grads.items()}, norm
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {k: g * scale for k, g in grads.items()}, norm


def clip_by_value(grads, clip_value):
    """Clamp every entry of every gradient to ``[-clip_value, clip_value]``; returns a new dict."""
    _check_grads(grads)
    clip_value = check_number("clip_value", clip_value, 0, strict=True)
    return {k: np.clip(g, -clip_value, clip_value) for k, g in grads.items()}


@dataclass(frozen=True)
class SGD:
    """Plain gradient descent: ``p <- p - lr * g``."""

    lr: float = 0.1

    def init(self, params):
        return {}

    def update(self, params, grads, state):
        return {k: p - self.lr * grads[k] for k, p in params.items()}, state


@dataclass(frozen=True)
class Momentum:
    """Heavy-ball momentum: ``v <- beta v + g``, ``p <- p - lr v``."""

    lr: float = 0.05
    beta: float = 0.9

    def init(self, params):
        return {"v": {k: np.zeros_like(p) for k, p in params.items()}}

    def update(self, params, grads, state):
        v = {k: self.beta * state["v"][k] + grads[k] for k in params}
        return {k: p - self.lr * v[k] for k, p in params.items()}, {"v": v}


@dataclass(frozen=True)
class Adagrad:
    """Per-parameter steps that shrink with the accumulated squared gradient."""

    lr: float = 0.1
    eps: float = 1e-8

    def init(self, params):
        return {"G": {k: np.zeros_like(p) for k, p in params.items()}}

    def update(self, params, grads, state):
        G = {k: state["G"][k] + grads[k] ** 2 for k in params}
        return {k: p - self.lr * grads[k] / (np.sqrt(G[k]) + self.eps) for k, p in params.items()}, {"G": G}


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba, 2015) with bias correction; the step count lives in the state."""

    lr: float = 1e-2
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def init(self, params):
        return {
            "t": 0,
            "m": {k: np.zeros_like(p) for k, p in params.items()},
            "v": {k: np.zeros_like(p) for k, p in params.items()},
        }

    def update(self, params, grads, state):
        t = state["t"] + 1
        m = {k: self.beta1 * state["m"][k] + (1 - self.beta1) * grads[k] for k in params}
        v = {k: self.beta2 * state["v"][k] + (1 - self.beta2) * grads[k] ** 2 for k in params}
        c1, c2 = 1 - self.beta1**t, 1 - self.beta2**t
        new = {k: p - self.lr * (m[k] / c1) / (np.sqrt(v[k] / c2) + self.eps) for k, p in params.items()}
        return new, {"t": t, "m": m, "v": v}


_OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": Adagrad, "adam": Adam}


def make_optimizer(name, **kwargs):
    """``make_optimizer("adam", lr=1e-3)``; names: sgd, momentum, adagrad, adam."""
    if name not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}, got {name!r}")
    return _OPTIMIZERS[name](**kwargs)
