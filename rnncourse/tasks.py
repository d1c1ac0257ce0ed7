"""Synthetic sequence tasks and a small character corpus for the course.

Used by lesson 0 (sine waves), lesson 1 (parity, the copy task), lesson 2
(parity), lesson 4 (sine waves for the exploding-gradient run) and lesson 7 (the
adding problem, the copy task, the embedded Reber grammar with an adjustable lag,
and the character language model on random windows and on a sequential stream).

Every task is a :class:`Task`.  ``task.sample(n, rng)`` draws ``n`` sequences and
returns a :class:`Batch` ``(x, y, mask)``:

* ``x``: ``(N, T, D)`` float64 features, or ``(N, T)`` int64 token ids when
  ``task.vocab_size`` is set (only :func:`char_lm` does this);
* ``y``: ``(N, T)`` int64 class ids when ``task.loss == "softmax"``, or
  ``(N, T, K)`` float64 targets when ``task.loss == "mse"``;
* ``mask``: ``(N, T)`` float64 of zeros and ones; only steps with a one count.

``chance_loss`` is a *per scored step* average (for "mse" also averaged over
the K output dimensions, without a factor 1/2); cross-entropies are in nats.
``chance_loss`` and ``chance_accuracy`` describe the best model that ignores its
input entirely (the best *constant* prediction). The training loss of
``rnncourse.nn`` is on another scale (summed over the scored steps, averaged over
the batch, 1/2 squared error for "mse"): compare a learning curve with
``task.chance_sequence_loss()``, which converts, not with ``chance_loss``.

Everything here is pure and seeded: the same ``rng`` state gives the same
batch.  Only numpy and the standard library are used; nothing is downloaded.
"""

from __future__ import annotations

import math
import numbers
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from rnncourse.nn.rng import as_rng

__all__ = [
    "Batch",
    "Task",
    "CharVocab",
    "one_hot",
    "sine",
    "parity",
    "adding",
    "copy_memory",
    "reber_string",
    "embedded_reber_string",
    "is_reber",
    "is_embedded_reber",
    "embedded_reber",
    "reber_critical_positions",
    "REBER_SYMBOLS",
    "REBER_FILLER",
    "load_corpus",
    "list_corpora",
    "char_lm",
    "CharStream",
    "char_stream",
    "TASKS",
    "get_task",
]


# ---------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------


class Batch(NamedTuple):
    """One batch of sequences.  See the module docstring for shapes."""

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class Task:
    """A sequence problem: its sizes, its loss, and a sampler.

    Attributes
    ----------
    name: short identifier (the key in :data:`TASKS`).
    input_dim: D, the feature size of ``x``; for token inputs the vocabulary size.
    output_dim: number of classes (softmax) or target size K (mse).
    loss: ``"softmax"`` (cross-entropy on class ids) or ``"mse"``.
    T: number of time steps in every batch.
    vocab_size: set when ``x`` holds int64 token ids instead of features.
    sample: ``sample(n, rng) -> Batch``; ``rng`` is a ``np.random.Generator``
        (an int seed is accepted as a convenience).
    description: one paragraph in plain words.
    chance_loss: masked-mean loss of the best constant prediction.
    chance_accuracy: accuracy of the best constant prediction (None for mse).
    symbols: for softmax tasks whose classes are characters, the character of
        each class id (``symbols[k]`` names class ``k``); otherwise None.
    extra: task-specific read-only facts (e.g. the lag, the vocabulary).
    """

    name: str
    input_dim: int
    output_dim: int
    loss: str
    T: int
    vocab_size: int | None
    sample: Callable[..., Batch] = field(repr=False)
    description: str = field(repr=False)
    chance_loss: float
    chance_accuracy: float | None
    symbols: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def chance_sequence_loss(self, n: int = 512, seed: int = 0) -> float:
        """``chance_loss`` on the scale of ``rnncourse.nn``'s training loss.

        That loss sums over the scored steps of a sequence and averages over the
        batch, with ``1/2 * squared error`` for "mse"; so this returns
        ``chance_loss * (mean scored steps per sequence) * (K / 2 for mse)``,
        the mean number of scored steps measured on ``n`` sequences drawn with
        ``seed`` (exact for tasks whose mask does not depend on the draw).
        """
        mask = self.sample(n, np.random.default_rng(seed)).mask
        steps = float(mask.sum(axis=1).mean())
        scale = 0.5 * self.output_dim if self.loss == "mse" else 1.0
        return self.chance_loss * steps * scale


def _make_task(**kw: Any) -> Task:
    kw["extra"] = types.MappingProxyType(dict(kw.get("extra", {})))
    return Task(**kw)


# ---------------------------------------------------------------------------
# Argument checking
# ---------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# The course's one error-type policy (as in rnncourse.nn): TypeError for a wrong type, ValueError
# for a wrong value.
def _check_int(name: str, value: Any, minimum: int) -> int:
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_float(name: str, value: Any, minimum: float = 0.0) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a finite number >= {minimum}, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum}, got {value!r}")
    return float(value)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _check_sample_args(n: Any, rng: Any) -> tuple[int, np.random.Generator]:
    """The course's one RNG contract (``rnncourse.nn.as_rng``): a Generator, an int seed, or None."""
    return _check_int("n", n, 1), as_rng(rng)


def one_hot(ids: np.ndarray, size: int) -> np.ndarray:
    """float64 one-hot encoding of integer ids; the new axis goes last."""
    ids = np.asarray(ids, dtype=np.int64)
    size = _check_int("size", size, 1)
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise ValueError(f"ids must lie in [0, {size - 1}], got values in [{ids.min()}, {ids.max()}]")
    out = np.zeros(ids.shape + (size,), dtype=np.float64)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


# ---------------------------------------------------------------------------
# Sine waves (lessons 0 and 4)
# ---------------------------------------------------------------------------


def sine(
    T: int = 50, freq_range: tuple[float, float] = (0.5, 2.0), noise: float = 0.0, dt: float = 0.1
) -> Task:
    """Predict the next value of a sine wave.

    Each sequence is ``s_t = sin(2*pi*f*t*dt + phase)`` for ``t = 0..T``, with
    ``f`` uniform in ``freq_range`` (cycles per time unit) and ``phase`` uniform
    in ``[0, 2*pi)``.  ``x[:, t, 0] = s_t + noise * N(0, 1)`` and
    ``y[:, t, 0] = s_{t+1}`` (the clean next value).  Loss "mse", mask all ones.

    chance_loss = 0.5: the best constant guess is 0 and sin^2 averages 1/2.
    ``extra["persistence_loss"]`` is the MSE of the lazy guess ``y_t = x_t``.
    """
    T = _check_int("T", T, 1)
    noise = _check_float("noise", noise)
    dt = _check_float("dt", dt)
    if dt == 0:
        raise ValueError(f"dt must be > 0, got {dt!r}")
    try:
        lo, hi = (float(v) for v in freq_range)
    except (TypeError, ValueError):
        raise ValueError(f"freq_range must be a pair (low, high) of numbers, got {freq_range!r}") from None
    nyquist = 0.5 / dt
    if not (0 < lo <= hi < nyquist):
        raise ValueError(
            f"freq_range must satisfy 0 < low <= high < {nyquist:g} (half the sampling rate 1/dt), "
            f"got {freq_range!r}"
        )

    steps = np.arange(T + 1) * dt

    def sample(n: int, rng: np.random.Generator) -> Batch:
        n, rng = _check_sample_args(n, rng)
        freq = rng.uniform(lo, hi, size=(n, 1))
        phase = rng.uniform(0.0, 2 * np.pi, size=(n, 1))
        wave = np.sin(2 * np.pi * freq * steps + phase)
        x = wave[:, :-1].copy()
        if noise > 0:
            x += noise * rng.standard_normal(x.shape)
        return Batch(x[..., None], wave[:, 1:, None].copy(), np.ones((n, T)))

    # E[(sin(a + w*dt) - sin(a))^2] over the phase is 1 - cos(w*dt); average it over f.
    w = 2 * np.pi * dt
    if hi > lo:
        mean_cos = (math.sin(w * hi) - math.sin(w * lo)) / (w * (hi - lo))
    else:
        mean_cos = math.cos(w * lo)
    persistence = 1.0 - mean_cos + noise**2

    return _make_task(
        name="sine",
        input_dim=1,
        output_dim=1,
        loss="mse",
        T=T,
        vocab_size=None,
        sample=sample,
        description=(
            f"Next-value prediction on sine waves: frequency uniform in [{lo:g}, {hi:g}] cycles per "
            f"time unit, {dt:g} time units per step, random phase, input noise std {noise:g}. "
            "The model sees the wave so far and predicts its next value."
        ),
        chance_loss=0.5,
        chance_accuracy=None,
        extra={"dt": dt, "freq_range": (lo, hi), "noise": noise, "persistence_loss": persistence},
    )


# ---------------------------------------------------------------------------
# Parity (lessons 1 and 2)
# ---------------------------------------------------------------------------


def parity(T: int = 10, many_to_one: bool = False) -> Task:
    """Running parity of random bits.

    ``x[:, t, 0]`` is a fair random bit (as 0.0/1.0); ``y[:, t]`` is the parity
    (sum mod 2) of ``x[:, :t+1]``.  Softmax with 2 classes.  With
    ``many_to_one=True`` only the last step is in the mask (parity of the
    whole string); otherwise every step counts.  chance: log 2 nats, 50 %.
    """
    T = _check_int("T", T, 1)
    many_to_one = _check_bool("many_to_one", many_to_one)

    def sample(n: int, rng: np.random.Generator) -> Batch:
        n, rng = _check_sample_args(n, rng)
        bits = rng.integers(0, 2, size=(n, T), dtype=np.int64)
        y = np.cumsum(bits, axis=1) % 2
        mask = np.zeros((n, T))
        if many_to_one:
            mask[:, -1] = 1.0
        else:
            mask[:] = 1.0
        return Batch(bits[..., None].astype(np.float64), y.astype(np.int64), mask)

    return _make_task(
        name="parity",
        input_dim=1,
        output_dim=2,
        loss="softmax",
        T=T,
        vocab_size=None,
        sample=sample,
        description=(
            f"Parity of {T} random bits: "
            + (
                "only the parity of the whole string is scored (last step)."
                if many_to_one
                else "after every bit the model outputs the parity of the bits so far."
            )
        ),
        chance_loss=math.log(2),
        chance_accuracy=0.5,
        symbols="01",
        extra={"many_to_one": many_to_one},
    )


# ---------------------------------------------------------------------------
# Adding problem (lesson 7)
# ---------------------------------------------------------------------------


def adding(T: int = 50) -> Task:
    """The adding problem, introduced by Hochreiter & Schmidhuber (1997), in the simpler form of
    later work (for example Arjovsky, Shah & Bengio 2016, one marked step in each half).

    The 1997 original draws values in [-1, 1], marks the first value among the first ten steps
    and scores a rescaled sum; the version here is the common one in recent papers.

    ``x[:, t, 0]`` is uniform in [0, 1); ``x[:, t, 1]`` is a marker that is 1 at
    exactly two steps: one chosen uniformly in the first half ``[0, T//2)`` and
    one in the second half ``[T//2, T)``.  The target is the sum of the two
    marked values, placed at the last step: ``y[:, T-1, 0]``; other entries of
    ``y`` are 0 and masked out.  Loss "mse".

    chance_loss = 1/6 ~= 0.1667: always answering 1.0 (the mean of the sum of
    two independent U(0, 1)) gives MSE = Var(u1 + u2) = 1/12 + 1/12.
    """
    T = _check_int("T", T, 2)
    half = T // 2

    def sample(n: int, rng: np.random.Generator) -> Batch:
        n, rng = _check_sample_args(n, rng)
        values = rng.uniform(0.0, 1.0, size=(n, T))
        first = rng.integers(0, half, size=n)
        second = rng.integers(half, T, size=n)
        rows = np.arange(n)
        markers = np.zeros((n, T))
        markers[rows, first] = 1.0
        markers[rows, second] = 1.0
        x = np.stack([values, markers], axis=-1)
        y = np.zeros((n, T, 1))
        y[:, -1, 0] = values[rows, first] + values[rows, second]
        mask = np.zeros((n, T))
        mask[:, -1] = 1.0
        return Batch(x, y, mask)

    return _make_task(
        name="adding",
        input_dim=2,
        output_dim=1,
        loss="mse",
        T=T,
        vocab_size=None,
        sample=sample,
        description=(
            f"The adding problem with {T} steps: each step carries a random number in [0, 1) and a "
            "marker bit; two steps are marked (one in each half) and after the last step the model "
            "must output the sum of the two marked numbers."
        ),
        chance_loss=1.0 / 6.0,
        chance_accuracy=None,
        extra={"chance_prediction": 1.0},
    )


# ---------------------------------------------------------------------------
# Copy task (lessons 1 and 7)
# ---------------------------------------------------------------------------


def copy_memory(n_symbols: int = 8, length: int = 10, delay: int = 20) -> Task:
    """The copy-memory task.

    Input layout over ``T = 2*length + delay + 1`` steps:

    * steps ``[0, length)``: the symbols to remember, each uniform in ``0..n_symbols-1``;
    * steps ``[length, length+delay)``: blanks;
    * step ``length + delay``: the "go" marker;
    * steps ``[length+delay+1, T)`` (the last ``length`` steps): blanks, while
      the model must output the remembered symbols in order.

    ``x`` is one-hot with ``D = n_symbols + 2`` (id ``n_symbols`` = blank,
    ``n_symbols + 1`` = go).  ``y`` holds class ids ``0..n_symbols-1``; it is 0 and
    masked outside the recall steps.  The mask is 1 only on the last ``length``
    steps.  chance: log(n_symbols) nats, accuracy 1/n_symbols.
    """
    n_symbols = _check_int("n_symbols", n_symbols, 2)
    length = _check_int("length", length, 1)
    delay = _check_int("delay", delay, 0)
    T = 2 * length + delay + 1
    blank, go = n_symbols, n_symbols + 1
    recall = T - length

    def sample(n: int, rng: np.random.Generator) -> Batch:
        n, rng = _check_sample_args(n, rng)
        data = rng.integers(0, n_symbols, size=(n, length), dtype=np.int64)
        ids = np.full((n, T), blank, dtype=np.int64)
        ids[:, :length] = data
        ids[:, length + delay] = go
        y = np.zeros((n, T), dtype=np.int64)
        y[:, recall:] = data
        mask = np.zeros((n, T))
        mask[:, recall:] = 1.0
        return Batch(one_hot(ids, n_symbols + 2), y, mask)

    return _make_task(
        name="copy_memory",
        input_dim=n_symbols + 2,
        output_dim=n_symbols,
        loss="softmax",
        T=T,
        vocab_size=None,
        sample=sample,
        description=(
            f"Copy task: {length} random symbols (of {n_symbols}), then {delay} blanks, then a go "
            f"marker; during the last {length} steps the model must replay the symbols in order. "
            f"T = 2*length + delay + 1 = {T}."
        ),
        chance_loss=math.log(n_symbols),
        chance_accuracy=1.0 / n_symbols,
        extra={
            "n_symbols": n_symbols,
            "length": length,
            "delay": delay,
            "blank_id": blank,
            "go_id": go,
            "recall_start": recall,
        },
    )


# ---------------------------------------------------------------------------
# Embedded Reber grammar (lesson 7)
# ---------------------------------------------------------------------------

#: Class id -> symbol for the Reber task.  "-" is the lag filler.
REBER_SYMBOLS = "BTSXPVE-"
REBER_FILLER = "-"

# Reber's finite-state grammar: state -> ((symbol, next state), (symbol, next state)).
# Each string is "B", then a walk from state 1 to state 6 taking each branch with
# probability 1/2, then "E".
_REBER_GRAPH = {
    1: (("T", 2), ("P", 3)),
    2: (("S", 2), ("X", 4)),
    3: (("T", 3), ("V", 5)),
    4: (("X", 3), ("S", 6)),
    5: (("P", 4), ("V", 6)),
}
_REBER_FINAL = 6


def _coin(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2))


def reber_string(rng: np.random.Generator) -> str:
    """Draw one string of the (plain) Reber grammar, e.g. ``"BTSSXXTVVE"``."""
    _, rng = _check_sample_args(1, rng)
    out = ["B"]
    state = 1
    while state != _REBER_FINAL:
        symbol, state = _REBER_GRAPH[state][_coin(rng)]
        out.append(symbol)
    out.append("E")
    return "".join(out)


def embedded_reber_string(rng: np.random.Generator, lag: int = 0) -> str:
    """Draw one embedded Reber string, optionally stretched by ``lag`` fillers.

    The string is ``"B" + c + "-" * lag + r + c + "E"`` where ``c`` is "T" or
    "P" (probability 1/2 each) and ``r`` is a Reber string.  The symbol ``c``
    must be remembered across ``lag + len(r)`` steps to predict the
    second-to-last symbol.  ``lag=0`` is the classic embedded Reber grammar.
    """
    lag = _check_int("lag", lag, 0)
    _, rng = _check_sample_args(1, rng)
    c = "TP"[_coin(rng)]
    return "B" + c + REBER_FILLER * lag + reber_string(rng) + c + "E"


def is_reber(s: str) -> bool:
    """True if ``s`` is a string of the Reber grammar."""
    if not isinstance(s, str) or len(s) < 2 or s[0] != "B" or s[-1] != "E":
        return False
    state = 1
    for ch in s[1:-1]:
        if state == _REBER_FINAL:
            return False
        for symbol, nxt in _REBER_GRAPH[state]:
            if ch == symbol:
                state = nxt
                break
        else:
            return False
    return state == _REBER_FINAL


def is_embedded_reber(s: str, lag: int | None = None) -> bool:
    """True if ``s`` is an embedded Reber string.

    With ``lag=None`` any number (including zero) of filler symbols may follow
    the second symbol; with an integer ``lag`` exactly that many are required.
    """
    if lag is not None:
        lag = _check_int("lag", lag, 0)
    if not isinstance(s, str) or len(s) < 5:
        return False
    if s[0] != "B" or s[1] not in "TP" or s[-2] != s[1] or s[-1] != "E":
        return False
    inner = s[2:-2]
    stripped = inner.lstrip(REBER_FILLER)
    n_fill = len(inner) - len(stripped)
    if lag is not None and n_fill != lag:
        return False
    return is_reber(stripped)


def _reber_optimal_fraction(s: str, lag: int) -> tuple[int, int]:
    """(number of 50/50 choices, number of predicted steps) for one embedded string.

    Coin flips happen at the outer T/P and at every symbol strictly inside the
    inner Reber string; every other next symbol is determined by the prefix.
    """
    inner_len = len(s) - 4 - lag
    return 1 + (inner_len - 2), len(s) - 1


def embedded_reber(lag: int = 0, T: int | None = None, stats_samples: int = 4000) -> Task:
    """Next-symbol prediction on the embedded Reber grammar, with a lag.

    Strings are drawn by :func:`embedded_reber_string`: ``B c -...- r c E`` with
    ``c`` in {T, P}, exactly ``lag`` filler symbols "-" right after ``c``, and a
    plain Reber string ``r``.  So ``lag`` adds exactly ``lag`` steps between
    the input ``c`` (step 1) and the step where ``c`` must be predicted again;
    the fillers come before ``r``, so the timing of that prediction is still
    signalled by the inner "E" and needs no counting.  The language stays
    well defined: :func:`is_embedded_reber` with ``lag=lag`` accepts exactly
    these strings.

    A string ``s`` of length L becomes ``x = one_hot(s[:-1])``, ``y = s[1:]``
    (class ids into :data:`REBER_SYMBOLS`), ``mask = 1`` on its L-1 steps.
    Rows are right-padded to ``T`` steps with all-zero inputs, target 0, mask 0.
    ``T`` defaults to ``lag + 24``; strings needing more than ``T`` steps
    (about 1 % for the default) are redrawn.

    Most next symbols are coin flips, so even a perfect model has loss > 0:
    ``extra["optimal_loss"]`` estimates the best achievable masked-mean loss,
    and ``chance_loss`` / ``chance_accuracy`` the best constant prediction (both
    from ``stats_samples`` strings drawn with a fixed seed).  The telling
    number is accuracy on the *critical* steps — where the final T/P is
    predicted — found by :func:`reber_critical_positions`; a model that forgot
    ``c`` scores 50 % there.
    """
    lag = _check_int("lag", lag, 0)
    min_steps = 8 + lag
    if T is None:
        T = lag + 24
    T = _check_int("T", T, min_steps)
    stats_samples = _check_int("stats_samples", stats_samples, 1)
    index = {ch: i for i, ch in enumerate(REBER_SYMBOLS)}
    K = len(REBER_SYMBOLS)

    def draw(rng: np.random.Generator) -> str:
        while True:
            s = embedded_reber_string(rng, lag)
            if len(s) - 1 <= T:
                return s

    def sample(n: int, rng: np.random.Generator) -> Batch:
        n, rng = _check_sample_args(n, rng)
        ids = np.zeros((n, T + 1), dtype=np.int64)
        lengths = np.zeros(n, dtype=np.int64)
        for i in range(n):
            s = draw(rng)
            ids[i, : len(s)] = [index[ch] for ch in s]
            lengths[i] = len(s) - 1
        mask = (np.arange(T)[None, :] < lengths[:, None]).astype(np.float64)
        x = one_hot(ids[:, :-1], K) * mask[..., None]
        y = ids[:, 1:] * mask.astype(np.int64)
        return Batch(x, y, mask)

    # Fixed-seed statistics so chance and optimum are deterministic.
    stats_rng = np.random.default_rng(12345)
    counts = np.zeros(K)
    coin_steps = 0
    total_steps = 0
    for _ in range(stats_samples):
        s = draw(stats_rng)
        for ch in s[1:]:
            counts[index[ch]] += 1
        c, t = _reber_optimal_fraction(s, lag)
        coin_steps += c
        total_steps += t
    freq = counts / counts.sum()
    nz = freq[freq > 0]
    chance_loss = float(-(nz * np.log(nz)).sum())
    optimal_loss = math.log(2) * coin_steps / total_steps

    return _make_task(
        name="embedded_reber",
        input_dim=K,
        output_dim=K,
        loss="softmax",
        T=T,
        vocab_size=None,
        sample=sample,
        description=(
            f"Next-symbol prediction on the embedded Reber grammar with lag {lag}: the second "
            f"symbol (T or P) must be recalled {lag} filler steps plus one whole inner Reber "
            "string later, just before the final E."
        ),
        chance_loss=chance_loss,
        chance_accuracy=float(freq.max()),
        symbols=REBER_SYMBOLS,
        extra={
            "lag": lag,
            "optimal_loss": optimal_loss,
            "filler": REBER_FILLER,
            "stats_samples": stats_samples,
        },
    )


def reber_critical_positions(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the steps where the long-range symbol is predicted.

    For an embedded Reber batch, a row with ``m`` masked steps predicts the
    final "E" at step ``m - 1``; the step before, ``m - 2``, has target
    ``y = c``, the same symbol as the input at step 1.  Use as
    ``pred[rows, cols] == batch.y[rows, cols]`` for the critical accuracy.
    """
    x, y, mask = (np.asarray(a) for a in batch)
    problem = None
    if x.ndim != 3 or x.shape[-1] != len(REBER_SYMBOLS) or mask.ndim != 2:
        problem = f"x of shape (N, T, {len(REBER_SYMBOLS)}), got x of shape {x.shape}"
    else:
        lengths = mask.sum(axis=1).astype(np.int64)
        if np.any(lengths < 8):
            problem = f"at least 8 masked steps per row, got a row with {lengths.min()}"
        else:
            rows, cols = np.arange(mask.shape[0]), lengths - 2
            if not np.all(np.isin(y[rows, cols], [REBER_SYMBOLS.index("T"), REBER_SYMBOLS.index("P")])):
                problem = "targets T or P before the final E, got other symbols"
    if problem:
        raise ValueError(f"batch must come from the embedded_reber task ({problem})")
    return rows, cols


# ---------------------------------------------------------------------------
# Character text (lesson 7)
# ---------------------------------------------------------------------------

_CORPORA = {"default": "corpus.txt", "devil": "devils_dictionary.txt", "tang300": "tang300.txt"}


def list_corpora() -> list[str]:
    """Names accepted by :func:`load_corpus`."""
    return sorted(_CORPORA)


def load_corpus(name: str = "default") -> str:
    """Return a corpus shipped in ``rnncourse/data`` as a string (read offline).

    "default" is ``corpus.txt``: short, simple English stories made by the
    seeded grammar in ``rnncourse/data/make_corpus.py`` (about 40 KB).
    "devil" is Ambrose Bierce's *The Devil's Dictionary* (1911, public domain, 383 KB) and
    "tang300" the *Three Hundred Tang Poems* (唐诗三百首, public domain, 29,573 characters); both
    come from Debian packages, see ``rnncourse/data/CORPORA.md``.
    """
    if name not in _CORPORA:
        raise ValueError(f"name must be one of {list_corpora()}, got {name!r}")
    filename = _CORPORA[name]
    try:
        ref = resources.files(__package__ or "rnncourse").joinpath("data", filename)
        return ref.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, TypeError, ValueError):
        return (Path(__file__).resolve().parent / "data" / filename).read_text(encoding="utf-8")


@dataclass(frozen=True)
class CharVocab:
    """A character vocabulary: ``chars[i]`` is the character with id ``i``."""

    chars: str
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.chars, str) or not self.chars:
            raise ValueError(f"chars must be a non-empty string, got {self.chars!r}")
        if len(set(self.chars)) != len(self.chars):
            raise ValueError(f"chars must not repeat a character, got {self.chars!r}")
        object.__setattr__(self, "_index", types.MappingProxyType({c: i for i, c in enumerate(self.chars)}))

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        """Vocabulary of the distinct characters of ``text``, in sorted order."""
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty string, got {text!r:.60}")
        return cls("".join(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """int64 ids of the characters of ``text``."""
        try:
            return np.fromiter((self._index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as err:
            raise ValueError(f"text contains a character not in the vocabulary: {err.args[0]!r}") from None

    def decode(self, ids: Any) -> str:
        """The string for a sequence of ids (any integer array-like, flattened)."""
        arr = np.asarray(ids).reshape(-1)
        if arr.size and (not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= self.size):
            raise ValueError(f"ids must be integers in [0, {self.size - 1}], got {arr!r:.80}")
        return "".join(self.chars[i] for i in arr.tolist())


def char_lm(T: int = 32, text: str | None = None) -> Task:
    """Character-level language modelling on random windows of a text.

    ``text`` defaults to :func:`load_corpus`.  A window start ``s`` is uniform
    over all positions that fit; ``x = ids[s : s+T]`` and ``y = ids[s+1 : s+T+1]``
    (int64 token ids, ``vocab_size`` set, no padding, mask all ones).
    ``extra["vocab"]`` is the :class:`CharVocab`.  chance: the entropy of the
    character frequencies of the text (best constant guess), and the frequency
    of its most common character.
    """
    T = _check_int("T", T, 1)
    if text is None:
        text = load_corpus()
    if not isinstance(text, str) or len(text) < T + 1:
        got = f"a string of length {len(text)}" if isinstance(text, str) else repr(type(text).__name__)
        raise ValueError(f"text must be a string of at least T + 1 = {T + 1} characters, got {got}")
    vocab = CharVocab.from_text(text)
    ids = vocab.encode(text)
    n_starts = len(ids) - T
    window = np.arange(T + 1)

    def sample(n: int, rng: np.random.Generator) -> Batch:
        n, rng = _check_sample_args(n, rng)
        starts = rng.integers(0, n_starts, size=n)
        chunk = ids[starts[:, None] + window]
        return Batch(chunk[:, :-1].copy(), chunk[:, 1:].copy(), np.ones((n, T)))

    freq = np.bincount(ids, minlength=vocab.size) / len(ids)
    nz = freq[freq > 0]
    return _make_task(
        name="char_lm",
        input_dim=vocab.size,
        output_dim=vocab.size,
        loss="softmax",
        T=T,
        vocab_size=vocab.size,
        sample=sample,
        description=(
            f"Character language model: predict the next character in random {T}-character windows "
            f"of a {len(text)}-character text with {vocab.size} distinct characters."
        ),
        chance_loss=float(-(nz * np.log(nz)).sum()),
        chance_accuracy=float(freq.max()),
        symbols=vocab.chars,
        extra={"vocab": vocab, "text_length": len(text)},
    )


class CharStream:
    """The cursor of a :func:`char_stream` task: which batch comes next.

    The text is cut into ``batch_size`` rows of equal length (``row_length``
    characters each); row ``b`` starts at character ``b * row_length``.  Batch
    ``k`` holds characters ``[k*T, (k+1)*T)`` of every row (and the next
    character of each as its target), so row ``b`` of batch ``k + 1`` continues
    exactly where row ``b`` of batch ``k`` stopped.  ``batch(k)`` is pure;
    ``next_index`` is the stream's only state: ``task.sample`` returns
    ``batch(next_index)`` and adds one.  After ``batches_per_epoch`` batches the
    stream starts again at batch 0 (the one place where the text does not
    continue: reset the state there if it matters).
    """

    def __init__(self, ids: np.ndarray, T: int, batch_size: int) -> None:
        self.T, self.batch_size = T, batch_size
        self.row_length = (len(ids) - 1) // batch_size
        self.batches_per_epoch = self.row_length // T
        # (batch_size, row_length + 1): one extra character per row for the last target
        starts = np.arange(batch_size)[:, None] * self.row_length
        self._rows = ids[starts + np.arange(self.row_length + 1)]
        self.next_index = 0

    def batch(self, k: int) -> Batch:
        """Batch number ``k`` (taken modulo ``batches_per_epoch``); pure."""
        k = _check_int("k", k, 0) % self.batches_per_epoch
        chunk = self._rows[:, k * self.T : (k + 1) * self.T + 1]
        return Batch(chunk[:, :-1].copy(), chunk[:, 1:].copy(), np.ones((self.batch_size, self.T)))

    def reset(self) -> None:
        """Start again from batch 0."""
        self.next_index = 0


def char_stream(T: int = 32, batch_size: int = 32, text: str | None = None) -> Task:
    """Character language modelling on a *sequential* stream, for ``train(..., carry_state=True)``.

    Unlike :func:`char_lm` (random windows, where a state carried from one batch
    to the next would come from an unrelated place in the text), consecutive
    batches continue each other row by row: see :class:`CharStream`
    (``task.extra["stream"]``).  ``task.sample(n, rng)`` requires
    ``n == batch_size`` and ignores ``rng`` (the order is fixed); shapes, vocabulary
    and chance levels are those of :func:`char_lm` on the same text.
    """
    T = _check_int("T", T, 1)
    batch_size = _check_int("batch_size", batch_size, 1)
    if text is None:
        text = load_corpus()
    if not isinstance(text, str) or len(text) < batch_size * T + 1:
        got = f"a string of length {len(text)}" if isinstance(text, str) else repr(type(text).__name__)
        raise ValueError(
            f"text must be a string of at least batch_size * T + 1 = {batch_size * T + 1} "
            f"characters, got {got}"
        )
    base = char_lm(T=T, text=text)
    vocab = base.extra["vocab"]
    stream = CharStream(vocab.encode(text), T, batch_size)

    def sample(n: int, rng: Any = None) -> Batch:
        if n != batch_size:
            raise ValueError(f"n must equal the stream's batch_size = {batch_size}, got {n!r}")
        batch = stream.batch(stream.next_index)
        stream.next_index += 1
        return batch

    return _make_task(
        name="char_stream",
        input_dim=base.input_dim,
        output_dim=base.output_dim,
        loss="softmax",
        T=T,
        vocab_size=base.vocab_size,
        sample=sample,
        description=(
            f"Character language model on a sequential stream: {batch_size} rows of "
            f"{stream.row_length} characters, read {T} characters at a time; batch k + 1 continues batch k."
        ),
        chance_loss=base.chance_loss,
        chance_accuracy=base.chance_accuracy,
        symbols=base.symbols,
        extra={"vocab": vocab, "text_length": len(text), "stream": stream},
    )


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------

TASKS: dict[str, Callable[..., Task]] = {
    "sine": sine,
    "parity": parity,
    "adding": adding,
    "copy_memory": copy_memory,
    "embedded_reber": embedded_reber,
    "char_lm": char_lm,
}


def get_task(name: str, **kw: Any) -> Task:
    """Build a task by name, e.g. ``get_task("adding", T=100)``."""
    if name not in TASKS:
        raise ValueError(f"name must be one of {sorted(TASKS)}, got {name!r}")
    return TASKS[name](**kw)
