"""Character language models on real text (lesson 9): the shipped trained models and the text split.

``pretrained(cell)`` loads a character-level model trained offline by
``python -m rnncourse.data.make_charlm`` on the first 90 % of *The Devil's Dictionary* (Ambrose
Bierce, 1911, public domain; see ``rnncourse/data/CORPORA.md``). The last 10 % is held out:
``split_text`` gives both parts, so a lesson measures the model on text it never trained on.

Everything else here is a pure function for lesson 9 (no plotting, no widgets):

* units: ``bits_per_char(nats)``, ``perplexity(nats)``;
* baselines on held-out text: ``uniform_nats``, ``unigram_nats``, ``bigram_nats`` (add-alpha
  smoothed counts from the training text);
* teacher-forced held-out loss of a model: ``heldout_losses`` (state carried across windows, reset
  every ``window`` characters, or carried across windows visited in a random order);
* decoding: ``warm_up`` and ``step`` (one character at a time with the course's one-step cell
  functions), ``generate`` (temperature sampling; ``temperature = 0`` is greedy), ``beam_search``,
  ``sequence_logprob``, ``top_k``, ``repeated_ngram_share``, ``free_run_agreement`` (teacher
  forcing vs free running on the same passages);
* embeddings: ``nearest_chars`` (cosine similarity) and ``pca_2d``.

Conventions: a loss is in **nats per character** (natural logarithm); ``model`` is a
``SequenceModel`` with token inputs and ``vocab`` its ``CharVocab``. Randomness comes only from the
``rng`` passed in (a Generator or an int seed).
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from importlib import resources

import numpy as np

from .nn import gru_step_forward, log_softmax, lstm_step_forward, rnn_step_forward
from .nn.cells import final_state, get_cell, sequence_forward
from .nn.model import SequenceModel
from .nn.rng import as_rng
from .tasks import CharVocab, load_corpus
from .textgen import _check_temperature, temperature_probs  # one temperature rule for lessons 7 and 9

__all__ = [
    "Pretrained",
    "pretrained",
    "split_text",
    "PRETRAINED_CELLS",
    "bits_per_char",
    "perplexity",
    "uniform_nats",
    "unigram_nats",
    "bigram_nats",
    "bigram_probs",
    "heldout_losses",
    "warm_up",
    "step",
    "Generation",
    "generate",
    "beam_search",
    "sequence_logprob",
    "continuation_probs",
    "top_k",
    "decode",
    "DECODING_METHODS",
    "repeated_ngram_share",
    "free_run_agreement",
    "nearest_chars",
    "pca_2d",
]

PRETRAINED_CELLS = ("rnn", "lstm", "gru")


@dataclass(frozen=True)
class Pretrained:
    """A trained character model: ``model`` (float64 parameters), its ``vocab``, the ``text`` it
    was trained on (``train_text``) and held out (``valid_text``), and ``meta`` (how it was made)."""

    model: SequenceModel
    vocab: CharVocab
    train_text: str
    valid_text: str
    meta: dict


def split_text(text, valid_fraction=0.1):
    """``(train, valid)``: the first ``1 - valid_fraction`` of ``text`` and the rest, cut at a
    line break so no line is split between them."""
    if not isinstance(text, str) or len(text) < 2:
        raise ValueError(f"text must be a string of at least 2 characters, got {text!r:.40}")
    if not (0.0 < valid_fraction < 1.0):
        raise ValueError(f"valid_fraction must be between 0 and 1 (exclusive), got {valid_fraction!r}")
    cut = int(len(text) * (1.0 - valid_fraction))
    nl = text.find("\n", cut)
    cut = cut if nl < 0 else nl + 1
    return text[:cut], text[cut:]


def pretrained(cell="lstm"):
    """The shipped character model for ``cell`` ("rnn", "lstm" or "gru"), as a ``Pretrained``."""
    if cell not in PRETRAINED_CELLS:
        raise ValueError(f"cell must be one of {list(PRETRAINED_CELLS)}, got {cell!r}")
    ref = resources.files("rnncourse").joinpath("data", f"charlm_{cell}.npz")
    with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        chars = "".join(chr(int(c)) for c in data["chars"])
        params = {k: data[k].astype(np.float64) for k in data.files if k not in ("chars", "meta")}
    vocab = CharVocab(chars)
    model = SequenceModel(cell, params, "softmax", vocab.size)
    train_text, valid_text = split_text(load_corpus(meta["corpus"]), meta["valid_fraction"])
    return Pretrained(model, vocab, train_text, valid_text, meta)


# ------------------------------------------------------------------------------------ checks


def _check_int(name, value, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def _check_text(name, text, minimum=1):
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str, got {type(text).__name__}")
    if len(text) < minimum:
        raise ValueError(f"{name} must have at least {minimum} characters, got {len(text)}")
    return text


def _check_model(model, vocab):
    if not isinstance(model, SequenceModel) or model.vocab_size is None:
        raise TypeError(
            f"model must be a SequenceModel with token inputs (vocab_size set), got {type(model).__name__}"
        )
    if not isinstance(vocab, CharVocab):
        raise TypeError(f"vocab must be a tasks.CharVocab, got {type(vocab).__name__}")
    if model.vocab_size != vocab.size:
        raise ValueError(f"model.vocab_size ({model.vocab_size}) must equal vocab.size ({vocab.size})")


def _check_nats(nats):
    arr = np.asarray(nats, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"nats must be finite and >= 0, got {nats!r}")
    return arr


# ------------------------------------------------------------------------------------ units


def bits_per_char(nats):
    """Cross-entropy in bits per character: ``nats / ln 2`` (a number or an array)."""
    out = _check_nats(nats) / math.log(2.0)
    return float(out) if out.ndim == 0 else out


def perplexity(nats):
    """``exp(nats)``: the number of equally likely characters that would be as uncertain."""
    out = np.exp(_check_nats(nats))
    return float(out) if out.ndim == 0 else out


# ------------------------------------------------------------------------------------ baselines


def uniform_nats(V):
    """Loss of a model that gives every one of ``V`` characters the same probability: ``ln V``."""
    return math.log(_check_int("V", V, 1))


def _check_alpha(alpha):
    ok = isinstance(alpha, numbers.Real) and not isinstance(alpha, bool)
    if not ok or not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha (the smoothing count) must be a finite number > 0, got {alpha!r}")
    return float(alpha)


def unigram_nats(vocab, train, valid, alpha=1.0):
    """Mean ``-ln p(c)`` over the characters ``valid[1:]`` (the ones a model predicts), with
    ``p(c) = (count of c in train + alpha) / (len(train) + alpha V)``: character frequencies, no
    context."""
    _check_text("train", train)
    _check_text("valid", valid, 2)
    alpha = _check_alpha(alpha)
    counts = np.bincount(vocab.encode(train), minlength=vocab.size) + alpha
    logp = np.log(counts / counts.sum())
    return float(-logp[vocab.encode(valid[1:])].mean())


def bigram_probs(vocab, train, alpha=1.0):
    """``P (V, V)`` with ``P[a, b] = p(b | a) = (count of "ab" in train + alpha) / (count of a as a
    first character + alpha V)``: each row a distribution over the next character."""
    _check_text("train", train, 2)
    alpha = _check_alpha(alpha)
    t = vocab.encode(train)
    V = vocab.size
    counts = np.bincount(t[:-1] * V + t[1:], minlength=V * V).reshape(V, V) + alpha
    return counts / counts.sum(axis=1, keepdims=True)


def bigram_nats(vocab, train, valid, alpha=1.0):
    """Mean ``-ln p(c_t | c_{t-1})`` over ``valid[1:]`` with ``p`` from ``bigram_probs``: one
    character of context."""
    _check_text("valid", valid, 2)
    logp = np.log(bigram_probs(vocab, train, alpha))
    v = vocab.encode(valid)
    return float(-logp[v[:-1], v[1:]].mean())


# ------------------------------------------------------------------------------------ held-out loss

_MODES = ("carry", "reset", "shuffle")


def heldout_losses(model, vocab, text, window=100, mode="carry", streams=20, rng=0):
    """Teacher-forced loss (nats) of each character of ``text[1:n+1]``, in text order, shape ``(n,)``.

    The text is cut into windows of ``window`` characters, laid out as ``streams`` parallel rows
    (a batch), ``n`` the largest multiple of ``window * streams`` below ``len(text)``. ``mode``:

    * ``"carry"``: each row reads its windows in text order and carries the state from one window
      to the next (a sequential partition, as ``carry_state=True`` assumes);
    * ``"reset"``: every window starts from the zero state (it sees at most ``window`` characters
      of context);
    * ``"shuffle"``: the windows are visited in a random order (``rng``) and the state is still
      carried, so each window starts from the state left by an unrelated passage (what carrying
      the state across *random* windows does).
    """
    _check_model(model, vocab)
    _check_text("text", text, 2)
    window = _check_int("window", window, 1)
    streams = _check_int("streams", streams, 1)
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {list(_MODES)}, got {mode!r}")
    W = (len(text) - 1) // window  # whole windows
    per_row = W // streams
    if per_row < 1:
        raise ValueError(
            f"text must hold at least window * streams + 1 = {window * streams + 1} characters, got {len(text)}"
        )
    n_win = per_row * streams
    ids = vocab.encode(text[: n_win * window + 1])
    x = ids[:-1].reshape(n_win, window)
    y = ids[1:].reshape(n_win, window)
    order = np.arange(n_win) if mode != "shuffle" else as_rng(rng).permutation(n_win)
    p = model.params
    spec = get_cell(model.cell)
    cp = {k: p[k] for k in spec.param_names}
    losses = np.empty((n_win, window))
    h = c = None
    rows = order.reshape(streams, per_row)  # row r reads windows rows[r, 0], rows[r, 1], ...
    if mode == "reset":
        rows = order.reshape(n_win, 1)  # every window a row of its own, from the zero state
    for j in range(rows.shape[1]):
        w = rows[:, j]
        e = p["We"][x[w]]  # (rows, window, E)
        hs, cache = sequence_forward(
            spec, e, None if mode == "reset" else h, cp, None if mode == "reset" else c
        )
        h, c = final_state(spec, hs, cache)
        logp = log_softmax(hs @ p["Wy"] + p["by"], axis=-1)
        losses[w] = -np.take_along_axis(logp, y[w][..., None], axis=-1)[..., 0]
    return losses.reshape(-1)


# ------------------------------------------------------------------------------------ decoding


def warm_up(model, vocab, prompt, copies=1):
    """Read ``prompt`` (teacher forcing) from the zero state. Returns ``(scores (copies, V), h, c)``:
    the scores for the character after the prompt and the state after its last character (``c`` is
    None unless the cell is an LSTM)."""
    _check_model(model, vocab)
    _check_text("prompt", prompt)
    copies = _check_int("copies", copies, 1)
    spec = get_cell(model.cell)
    p = model.params
    ids = np.repeat(vocab.encode(prompt)[None], copies, axis=0)
    hs, cache = sequence_forward(spec, p["We"][ids], None, {k: p[k] for k in spec.param_names})
    h, c = final_state(spec, hs, cache)
    return h @ p["Wy"] + p["by"], h, c


def step(model, ids, h, c=None):
    """Feed one character per row, ``ids (N,)``, with the state ``h (N, H)`` (and ``c`` for an
    LSTM), using the one-step cell function. Returns ``(scores (N, V), h, c)``."""
    p = model.params
    e = p["We"][np.asarray(ids, dtype=np.int64)]
    if model.cell == "rnn":
        h, _ = rnn_step_forward(e, h, p["Wx"], p["Wh"], p["b"])
    elif model.cell == "lstm":
        h, c, _ = lstm_step_forward(e, h, c, p["Wx"], p["Wh"], p["b"])
    else:
        h, _ = gru_step_forward(e, h, p["Wx"], p["Wh"], p["bx"], p["bh"])
    return h @ p["Wy"] + p["by"], h, c


@dataclass(frozen=True)
class Generation:
    """What ``generate`` produced: ``text`` (the new characters), ``ids (n,)``, ``logp (n,)`` the
    model's own log-probability (temperature 1) of each chosen character, ``probs (n, V)`` the
    model's distribution at each step (temperature 1) and the ``temperature`` used."""

    text: str
    ids: np.ndarray
    logp: np.ndarray
    probs: np.ndarray
    temperature: float

    @property
    def logp_per_char(self):
        return float(self.logp.mean()) if self.logp.size else 0.0


def generate(model, vocab, prompt, n, temperature=1.0, rng=0):
    """Continue ``prompt`` by ``n`` characters: warm up on the prompt, then repeatedly score, draw
    the next character from ``softmax(scores / temperature)`` (inverse CDF with ``u`` from ``rng``;
    ``temperature = 0`` takes the arg max, greedy decoding), and feed it back with the carried
    state. Returns a ``Generation``."""
    n = _check_int("n", n, 0)
    temperature = _check_temperature(temperature)
    rng = as_rng(rng)
    scores, h, c = warm_up(model, vocab, prompt)
    ids, logps, probs = [], [], []
    for _ in range(n):
        lp = log_softmax(scores[0], axis=-1)
        if temperature == 0:
            nxt = int(np.argmax(scores[0]))
        else:
            cdf = np.cumsum(temperature_probs(scores[0], temperature))
            nxt = min(int((cdf <= rng.random()).sum()), vocab.size - 1)
        ids.append(nxt)
        logps.append(lp[nxt])
        probs.append(np.exp(lp))
        scores, h, c = step(model, [nxt], h, c)
    ids = np.array(ids, dtype=np.int64)
    probs = np.array(probs).reshape(n, vocab.size)
    return Generation(vocab.decode(ids), ids, np.array(logps, dtype=np.float64), probs, temperature)


def beam_search(model, vocab, prompt, n, width=4):
    """The ``width`` continuations of ``n`` characters with the highest total log-probability that
    beam search finds: at each step every kept sequence is extended by every character, and the
    ``width`` best extensions (by total log-probability so far) are kept. ``width = 1`` is greedy
    decoding. Returns ``[(text, total log-probability), ...]``, best first."""
    n = _check_int("n", n, 1)
    width = _check_int("width", width, 1)
    scores, h, c = warm_up(model, vocab, prompt)
    V = vocab.size
    total = np.zeros(1)
    seqs = np.zeros((1, 0), dtype=np.int64)
    for _ in range(n):
        cand = (total[:, None] + log_softmax(scores, axis=-1)).reshape(-1)
        best = np.argsort(-cand, kind="stable")[:width]  # ties: the lower (beam, char) first
        beam, char = np.divmod(best, V)
        total = cand[best]
        seqs = np.concatenate([seqs[beam], char[:, None]], axis=1)
        h = h[beam]
        c = None if c is None else c[beam]
        scores, h, c = step(model, char, h, c)
    return [(vocab.decode(s), float(t)) for s, t in zip(seqs, total, strict=True)]


def continuation_probs(model, vocab, prompt, continuation):
    """The model's view of ``continuation`` after ``prompt`` (teacher forcing, temperature 1):
    ``(logp (n,), probs (n, V))``, the log-probability of each character of ``continuation`` and
    the whole distribution it was drawn from."""
    _check_text("continuation", continuation)
    ids = vocab.encode(continuation)
    scores, h, c = warm_up(model, vocab, prompt)
    rows = []
    for i in ids:
        rows.append(log_softmax(scores[0], axis=-1))
        scores, h, c = step(model, [i], h, c)
    lp = np.array(rows)
    return lp[np.arange(len(ids)), ids], np.exp(lp)


def sequence_logprob(model, vocab, prompt, continuation):
    """Total ``ln p(continuation | prompt)`` under the model (teacher forcing, temperature 1)."""
    return float(continuation_probs(model, vocab, prompt, continuation)[0].sum())


DECODING_METHODS = ("greedy", "sample", "beam")


def decode(model, vocab, prompt, n, method="greedy", temperature=1.0, width=4, seed=0):
    """One continuation of ``prompt`` by ``n`` characters with ``method``: ``"greedy"`` (arg max),
    ``"sample"`` (temperature sampling, ``rng = seed``) or ``"beam"`` (the best of ``width``
    beams). Returns a dict: ``text``, ``logp (n,)`` and ``probs (n, V)`` (the model's own view,
    temperature 1), ``logp_per_char`` (mean of ``logp``) and ``repeated`` (the share of repeated
    4-character pieces, ``repeated_ngram_share(text, 4)``)."""
    if method not in DECODING_METHODS:
        raise ValueError(f"method must be one of {list(DECODING_METHODS)}, got {method!r}")
    if method == "beam":
        text = beam_search(model, vocab, prompt, n, width)[0][0]
    else:
        t = 0.0 if method == "greedy" else temperature
        text = generate(model, vocab, prompt, n, t, rng=seed).text
    logp, probs = continuation_probs(model, vocab, prompt, text)
    return {
        "text": text,
        "logp": logp,
        "probs": probs,
        "logp_per_char": float(logp.mean()),
        "repeated": repeated_ngram_share(text, 4) if n >= 4 else 0.0,
    }


def top_k(probs, k=5):
    """The ``k`` most likely ids of ``probs (V,)`` and their probabilities, most likely first (ties:
    the lower id first). Returns ``(ids (k,), p (k,))``."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 1 or probs.size == 0:
        raise ValueError(f"probs must have shape (V,), got shape {probs.shape}")
    k = _check_int("k", k, 1)
    ids = np.argsort(-probs, kind="stable")[: min(k, probs.size)]
    return ids, probs[ids]


def repeated_ngram_share(text, n=4):
    """The share of the ``n``-character pieces of ``text`` (at every position) that already
    appeared earlier in it: 0 for text that never repeats itself, close to 1 for a loop."""
    _check_text("text", text)
    n = _check_int("n", n, 1)
    grams = [text[i : i + n] for i in range(len(text) - n + 1)]
    if not grams:
        raise ValueError(f"text must have at least n = {n} characters, got {len(text)}")
    return 1.0 - len(set(grams)) / len(grams)


def free_run_agreement(model, vocab, text, prompt_len=40, n=30, passages=200, rng=0):
    """Teacher forcing vs free running on ``passages`` random passages of ``text``.

    Each passage is a prompt of ``prompt_len`` characters and the true next ``n`` characters.
    Teacher forcing: at step ``j`` the model has read the *true* text so far and guesses the next
    character (arg max). Free running: greedy decoding from the prompt, feeding back its *own*
    guesses. Returns a dict of ``(n,)`` arrays over the passages: ``teacher`` (share of correct
    guesses at step ``j``), ``free`` (share of free-running characters equal to the true one) and
    ``on_track`` (share of passages whose free run has matched the truth at every step up to j).
    """
    _check_model(model, vocab)
    prompt_len = _check_int("prompt_len", prompt_len, 1)
    n = _check_int("n", n, 1)
    passages = _check_int("passages", passages, 1)
    span = prompt_len + n
    _check_text("text", text, span + 1)
    starts = as_rng(rng).integers(0, len(text) - span + 1, size=passages)
    ids = vocab.encode(text)[starts[:, None] + np.arange(span)]  # (P, span)
    spec = get_cell(model.cell)
    p = model.params
    hs, _ = sequence_forward(spec, p["We"][ids[:, :-1]], None, {k: p[k] for k in spec.param_names})
    guess = (hs[:, prompt_len - 1 :] @ p["Wy"] + p["by"]).argmax(-1)  # (P, n): after each true prefix
    truth = ids[:, prompt_len:]
    hs, cache = sequence_forward(
        spec, p["We"][ids[:, :prompt_len]], None, {k: p[k] for k in spec.param_names}
    )
    h, c = final_state(spec, hs, cache)
    scores = h @ p["Wy"] + p["by"]
    free = np.empty_like(truth)
    for j in range(n):
        free[:, j] = scores.argmax(-1)
        scores, h, c = step(model, free[:, j], h, c)
    ok = free == truth
    return {
        "teacher": (guess == truth).mean(axis=0),
        "free": ok.mean(axis=0),
        "on_track": np.cumprod(ok, axis=1).mean(axis=0),
    }


# ------------------------------------------------------------------------------------ embeddings


def nearest_chars(We, vocab, char, k=5):
    """The ``k`` characters whose embedding rows are most similar to ``char``'s by cosine
    similarity ``e_a . e_b / (|e_a| |e_b|)`` (``char`` itself left out). Returns
    ``[(character, cosine), ...]``, most similar first."""
    We = np.asarray(We, dtype=np.float64)
    if We.ndim != 2 or We.shape[0] != vocab.size:
        raise ValueError(f"We must have shape (V, E) with V = {vocab.size}, got shape {We.shape}")
    _check_text("char", char)
    if len(char) != 1:
        raise ValueError(f"char must be one character, got {char!r}")
    k = _check_int("k", k, 1)
    unit = We / np.maximum(np.linalg.norm(We, axis=1, keepdims=True), 1e-12)
    i = int(vocab.encode(char)[0])
    cos = unit @ unit[i]
    cos[i] = -np.inf
    order = np.argsort(-cos, kind="stable")[:k]
    return [(vocab.chars[j], float(cos[j])) for j in order]


def pca_2d(We):
    """Project the rows of ``We (V, E)`` on their first two principal directions (the centred rows'
    two top right singular vectors). Returns ``(points (V, 2), explained)`` with ``explained`` the
    share of the variance each direction keeps."""
    We = np.asarray(We, dtype=np.float64)
    if We.ndim != 2 or min(We.shape) < 2:
        raise ValueError(f"We must have shape (V, E) with V, E >= 2, got shape {We.shape}")
    X = We - We.mean(axis=0)
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    return X @ vt[:2].T, (s[:2] ** 2) / (s**2).sum()
