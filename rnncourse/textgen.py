"""Sampling text from a character-level model, with a temperature (lesson 7).

A trained ``SequenceModel`` with token inputs gives, at every step, scores ``s (V,)`` for the next
character. Sampling with temperature ``tau`` draws the next id from

    p = softmax(s / tau)

``tau = 1`` is the model's own distribution; ``tau < 1`` sharpens it (more likely characters get
even more likely), ``tau > 1`` flattens it towards uniform. The limit ``tau -> 0`` puts all the
mass on the arg max: greedy decoding. ``temperature = 0`` means exactly that limit here (no
division by zero), so ``sample_chars(..., temperature=0)`` is deterministic.

Everything is a pure function of its arguments: randomness comes only from the ``rng`` passed in.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from rnncourse.nn.rng import as_rng

from .nn import softmax
from .nn.cells import final_state, get_cell, sequence_forward
from .nn.layers import embedding_forward

__all__ = ["temperature_probs", "sample_index", "sample_chars"]


def _check_temperature(temperature):
    ok = isinstance(temperature, numbers.Real) and not isinstance(temperature, bool)
    if not ok or not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    return float(temperature)


def _rng(rng):
    """The course's one RNG contract: a Generator, an int seed, or None (``rnncourse.nn.as_rng``)."""
    return as_rng(rng)


def temperature_probs(scores, temperature):
    """``softmax(scores / temperature)`` over the last axis; ``scores (..., V)`` -> ``(..., V)``.

    ``temperature = 0`` returns the limit: a one-hot vector at the arg max of each row (the first
    one if several scores tie). Large ``scores / temperature`` do not overflow (the softmax
    subtracts the row maximum).
    """
    temperature = _check_temperature(temperature)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 0 or scores.shape[-1] == 0:
        raise ValueError(f"scores must have a last axis of length V >= 1, got shape {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite (no NaN or inf)")
    if temperature == 0:
        out = np.zeros_like(scores)
        np.put_along_axis(out, scores.argmax(axis=-1)[..., None], 1.0, axis=-1)
        return out
    return softmax(scores / temperature, axis=-1)


def sample_index(scores, temperature, rng):
    """One id per row drawn from ``temperature_probs(scores, temperature)``.

    ``scores (V,)`` -> an int; ``scores (N, V)`` -> ``ids (N,)`` int64. ``temperature = 0`` returns
    the arg max without using ``rng``.
    """
    p = temperature_probs(scores, temperature)
    if _check_temperature(temperature) == 0:
        ids = p.argmax(axis=-1)
    else:
        rng = _rng(rng)
        u = rng.random(p.shape[:-1] + (1,))
        cdf = np.cumsum(p, axis=-1)
        # the first id whose cumulative probability exceeds u (clamped against rounding at the top)
        ids = np.minimum((cdf <= u).sum(axis=-1), p.shape[-1] - 1)
    return int(ids) if np.ndim(ids) == 0 else ids.astype(np.int64)


def sample_chars(model, vocab, start, n, temperature=1.0, rng=0):
    """Continue the text ``start`` by ``n`` characters sampled from ``model``; returns the ``n`` new
    characters (without ``start``).

    ``model``: a ``SequenceModel`` with token inputs whose ``vocab_size`` equals ``vocab.size``;
    ``vocab``: the ``tasks.CharVocab`` it was trained with; ``start``: a non-empty string of
    characters in the vocabulary (it is read first to set the state); ``n >= 0``; ``temperature``
    as in ``temperature_probs``; ``rng``: a Generator or an int seed. The state is carried from step
    to step, so the cost is one cell step per character.
    """
    if getattr(model, "vocab_size", None) is None:
        raise ValueError("model must take token ids (a SequenceModel created with vocab_size=...)")
    if model.vocab_size != vocab.size:
        raise ValueError(f"model.vocab_size ({model.vocab_size}) must equal vocab.size ({vocab.size})")
    if not isinstance(start, str) or not start:
        raise ValueError(f"start must be a non-empty string, got {start!r}")
    if not (isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0):
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    temperature = _check_temperature(temperature)
    rng = _rng(rng)
    spec = get_cell(model.cell)
    p = model.params
    cell_params = {k: p[k] for k in spec.param_names}
    ids = vocab.encode(start)[None]  # (1, len(start)); raises on unknown chars
    h0 = c0 = None
    out = []
    for _ in range(n):
        e, _ = embedding_forward(ids, p["We"])  # (1, T, E)
        h, cache = sequence_forward(spec, e, h0, cell_params, c0)
        h0, c0 = final_state(spec, h, cache)
        scores = h0 @ p["Wy"] + p["by"]  # (1, V): scores for the next character
        nxt = sample_index(scores[0], temperature, rng)
        out.append(nxt)
        ids = np.array([[nxt]])
    return vocab.decode(np.array(out, dtype=np.int64))
