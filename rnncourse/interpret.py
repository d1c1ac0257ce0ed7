"""Looking inside a trained character model (lesson 10): unit traces, text features, connectivity.

Three questions, each answered by a pure function on NumPy arrays:

1. **What does a unit hold?** ``trace(model, vocab, text)`` runs a trained model over ``text`` and
   keeps, for every character, the hidden state ``h_t`` and, for an LSTM, the cell state ``c_t``
   and the gates ``i, f, g, o`` (GRU: ``r, z, n``), all ``(T, H)``.
2. **Does a unit follow something we can name?** ``text_features(text)`` marks simple properties of
   every character (inside quotes, inside parentheses, inside ``_italics_``, position in the line,
   first letter of a word, inside an indented verse block, inside an upper-case headword).
   ``best_units`` picks, for each feature, the unit whose values correlate best with it on one part
   of the text and measures it on the other part (correlation and, for a yes/no feature, the AUC:
   the chance that a random character *with* the feature has a larger (sign-corrected) value than
   a random character without it; 0.5 is chance, 1.0 a perfect separation). Karpathy, Johnson &
   Fei-Fei (2015), "Visualizing and understanding recurrent networks", do this by eye and by counts.
3. **How far back does a prediction look?** ``connectivity`` gives, for a prediction at position
   ``t`` (of the character ``t + 1``), the norm of the gradient of its log-probability with respect
   to each earlier input embedding ``e_{t-d}``, ``d = 0, 1, ...`` (the view of Madsen (2019),
   "Visualizing memorization in RNNs", Distill). Windows of many positions run as one batch, each
   started from the true state of the whole-text run, so the numbers equal those of one long run.

Everything is float64 and vectorised over positions: a few thousand characters take well under a
second per model on this course's 2-core machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .nn.cells import get_cell, sequence_backward, sequence_forward
from .nn.layers import embedding_forward

__all__ = [
    "Trace",
    "trace",
    "traces",
    "QUANTITIES",
    "FEATURES",
    "BINARY_FEATURES",
    "text_features",
    "correlations",
    "auc",
    "best_units",
    "BestUnit",
    "connectivity",
    "distance_profile",
    "window_log_prob",
]

# what ``trace`` keeps for each cell, in this order
QUANTITIES = {"rnn": ("h",), "lstm": ("h", "c", "i", "f", "g", "o"), "gru": ("h", "r", "z", "n")}

FEATURES = ("quote", "parens", "italics", "line_pos", "word_start", "verse", "headword")
BINARY_FEATURES = ("quote", "parens", "italics", "word_start", "verse", "headword")
FEATURE_NAMES = {
    "quote": 'inside "quotes"',
    "parens": "inside (parentheses)",
    "italics": "inside _italics_",
    "line_pos": "position in the line",
    "word_start": "first letter of a word",
    "verse": "indented verse line",
    "headword": "upper-case headword",
}


def _check_text(name, text, min_len=2):
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str, got {type(text).__name__}")
    if len(text) < min_len:
        raise ValueError(f"{name} must have at least {min_len} characters, got {len(text)}")


# ----------------------------------------------------------------------------------- traces


@dataclass(frozen=True)
class Trace:
    """What a model held while reading ``text``: ``values[q]`` is ``(T, H)`` for each quantity ``q``
    of ``QUANTITIES[cell]`` (row ``t``: after reading character ``text[t]``); ``log_prob (T - 1,)``
    is ``log p(text[t + 1] | text[: t + 1])``; ``h0 (H,)`` and ``c0 (H,)`` (None without a cell
    state) the state before ``text[0]`` (after the warm-up text, if any)."""

    cell: str
    text: str
    values: dict
    log_prob: np.ndarray
    h0: np.ndarray
    c0: np.ndarray | None = None

    @property
    def hidden_dim(self):
        return self.values["h"].shape[1]

    def __len__(self):
        return len(self.text)


def _log_softmax(s):
    s = s - s.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def _gate_values(cell, cache, H, n=0):
    """The gates of sequence ``n`` of a run as ``{name: (T, H)}`` from the cell's cache."""
    if cell == "lstm":
        g = cache.gates[:, n]  # (T, 4H), time-major
        out = {k: g[:, j * H : (j + 1) * H] for j, k in enumerate("ifgo")}
        out["c"] = cache.c[:, n]
        return out
    if cell == "gru":
        g = cache.rzn[:, n]  # (T, 3H)
        return {k: g[:, j * H : (j + 1) * H] for j, k in enumerate("rzn")}
    return {}


def trace(model, vocab, text, warmup=""):
    """Run ``model`` over ``text`` (one sequence, state from zero) and return a ``Trace``.

    ``warmup``: text read first whose values are dropped, so that the state at ``text[0]`` is not
    the untypical zero state. Quantities: ``QUANTITIES[model.cell]``; each ``(len(text), H)``."""
    _check_text("text", text, 2)
    return traces(model, vocab, [text], [warmup])[0]


def traces(model, vocab, texts, warmups=None, dtype=np.float64, chunk=1024):
    """``trace`` for several texts of one length at once (one batch: the time loop runs once), each
    with its warm-up text (all warm-ups of one length too). Returns a list of ``Trace``.

    The model always runs in float64; ``dtype=np.float32`` only stores the kept values in half the
    memory (an LSTM keeps 6 numbers per unit and character: 6 MB per 1000 characters in float64)."""
    if not isinstance(texts, (list, tuple)) or not texts:
        raise TypeError(f"texts must be a non-empty list of str, got {type(texts).__name__}")
    warmups = [""] * len(texts) if warmups is None else list(warmups)
    for k, (text, warm) in enumerate(zip(texts, warmups, strict=True)):
        _check_text(f"texts[{k}]", text, 2)
        if not isinstance(warm, str):
            raise TypeError(f"warmup must be a str, got {type(warm).__name__}")
    if len({len(t) for t in texts}) > 1 or len({len(w) for w in warmups}) > 1:
        raise ValueError(
            f"texts (and warm-ups) must all have one length, got {[len(t) for t in texts]} "
            f"and {[len(w) for w in warmups]}"
        )
    spec = get_cell(model.cell)
    p = model.params
    cp = {k: p[k] for k in spec.param_names}
    ids = np.stack([vocab.encode(w + t) for t, w in zip(texts, warmups)])  # (N, W + T)
    N, L = ids.shape
    W = len(warmups[0])
    H = model.hidden_dim
    keep = {q: np.empty((N, L, H), dtype=dtype) for q in QUANTITIES[spec.name]}
    # in chunks of `chunk` steps, the state carried over: the same numbers as one run, but the
    # forward caches (an LSTM's is 9 numbers per unit and step in float64) stay small
    h_prev = c_prev = None
    for a in range(0, L, chunk):
        inp, _ = embedding_forward(ids[:, a : a + chunk], p["We"])
        h, cache = sequence_forward(spec, inp, h_prev, cp, c_prev)
        keep["h"][:, a : a + chunk] = h
        for n in range(N):
            for q, v in _gate_values(spec.name, cache, H, n).items():
                keep[q][n, a : a + chunk] = v
        h_prev = h[:, -1]
        c_prev = cache.c[-1] if spec.has_cell_state else None
        del cache
    out = []
    for n, text in enumerate(texts):
        values = {q: keep[q][n, W:] for q in QUANTITIES[spec.name]}
        h0 = keep["h"][n, W - 1].astype(np.float64) if W else np.zeros(H)
        c0 = None
        if spec.has_cell_state:
            c0 = keep["c"][n, W - 1].astype(np.float64) if W else np.zeros(H)
        scores = values["h"][:-1].astype(np.float64) @ p["Wy"] + p["by"]  # (T - 1, V): each next character
        nxt = ids[n, W + 1 :]
        log_prob = _log_softmax(scores)[np.arange(len(nxt)), nxt]
        out.append(Trace(spec.name, text, values, log_prob, h0, c0))
    return out


# --------------------------------------------------------------------------------- features


def _parity_of(text, ch):
    """True where an odd number of ``ch`` has been read (counting the character itself), the count
    restarting at every blank line (an entry never carries an open quote into the next one)."""
    out = np.zeros(len(text), dtype=bool)
    inside = False
    prev = ""
    for t, c in enumerate(text):
        if c == "\n" and prev == "\n":
            inside = False
        elif c == ch:
            inside = not inside
        out[t] = inside
        prev = c
    return out


def text_features(text):
    """``{name: (T,) array}`` for every name of ``FEATURES``; the yes/no ones are bool arrays.

    Each describes ``text[t]`` as the model has seen it *after reading it* (nothing from later):

    - ``quote``: an odd number of ``"`` read so far in this paragraph (the opening ``"`` is inside,
      the closing one is not); ``italics`` the same with ``_``;
    - ``parens``: more ``(`` than ``)`` read so far in this paragraph;
    - ``line_pos``: characters since the last line break (0 at the first character of a line);
    - ``word_start``: a letter right after a non-letter;
    - ``verse``: the character is on a line that starts with at least 4 spaces (Bierce indents his
      verse), from the fourth space on (before it, the line could still be anything);
    - ``headword``: inside the upper-case word(s) that open a dictionary entry (``ABRUPT, adj.``),
      up to the comma.
    """
    _check_text("text", text, 1)
    T = len(text)
    chars = np.array(list(text))
    letters = np.char.isalpha(chars)
    quote = _parity_of(text, '"')
    italics = _parity_of(text, "_")
    parens = np.zeros(T, dtype=bool)
    line_pos = np.zeros(T)
    verse = np.zeros(T, dtype=bool)
    headword = np.zeros(T, dtype=bool)
    depth = 0
    prev = ""
    for t, c in enumerate(text):
        if c == "\n" and prev == "\n":
            depth = 0
        elif c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        parens[t] = depth > 0
        prev = c
    start = 0
    for line in text.split("\n"):
        n = len(line)
        line_pos[start : start + n + 1] = np.arange(n + 1)[: T - start]
        if line.startswith("    "):
            verse[start + 3 : start + n + 1] = True
        m = re.match(r"[A-Z][A-Z'\- ]*,", line)
        if m and (start == 0 or text[max(0, start - 2) : start] == "\n\n"):
            headword[start : start + m.end() - 1] = True
        start += n + 1
    word_start = letters & ~np.concatenate([[False], letters[:-1]])
    out = {
        "quote": quote,
        "parens": parens,
        "italics": italics,
        "line_pos": line_pos,
        "word_start": word_start,
        "verse": verse[:T],
        "headword": headword[:T],
    }
    return out


# ------------------------------------------------------------------------------ measurement


def correlations(values, feature):
    """Pearson correlation of each unit (column of ``values (T, H)``) with ``feature (T,)``:
    ``(H,)``. A unit or feature that does not vary gets 0 (nothing to measure)."""
    X = np.asarray(values, dtype=np.float64)
    y = np.asarray(feature, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(
            f"values must be (T, H) and feature (T,) with the same T, got {X.shape} and {y.shape}"
        )
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    den = np.sqrt((Xc**2).sum(axis=0) * (yc**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (yc @ Xc) / den
    return np.where(den > 0, r, 0.0)


def auc(scores, labels):
    """Area under the ROC curve of ``scores (T,)`` for the yes/no ``labels (T,)``: the chance that a
    random positive scores above a random negative (ties count one half). 0.5 is chance."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if s.ndim != 1 or y.shape != s.shape:
        raise ValueError(f"scores and labels must be 1-D of the same length, got {s.shape} and {y.shape}")
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"labels need both classes, got {n_pos} positives and {n_neg} negatives")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    # average the ranks of tied scores
    uniq, inv, counts = np.unique(s, return_inverse=True, return_counts=True)
    if len(uniq) < len(s):
        sums = np.bincount(inv, weights=ranks)
        ranks = (sums / counts)[inv]
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass(frozen=True)
class BestUnit:
    """The unit that tracks ``feature`` best: chosen by ``|r|`` on one text (``r_fit``), measured on
    another (``r_test``; ``auc_test`` for yes/no features, computed on ``sign * value`` so that 1.0
    always means "high where the feature is", None if the test text lacks one of the classes)."""

    feature: str
    quantity: str
    unit: int
    sign: int
    r_fit: float
    r_test: float
    auc_test: float | None


def best_units(fit, test, quantity="h"):
    """``{feature: BestUnit}`` for ``quantity``: each feature's unit is selected on the trace ``fit``
    and measured on the trace ``test`` (another text read by the same model), so the numbers are
    not flattered by the selection."""
    for name, tr in (("fit", fit), ("test", test)):
        if not isinstance(tr, Trace):
            raise TypeError(
                f"{name} must be a Trace (from rnncourse.interpret.trace), got {type(tr).__name__}"
            )
    if fit.cell != test.cell or fit.hidden_dim != test.hidden_dim:
        raise ValueError(f"fit and test must come from the same model, got a {fit.cell} and a {test.cell}")
    if quantity not in fit.values:
        raise ValueError(f"quantity must be one of {list(fit.values)} for a {fit.cell}, got {quantity!r}")
    f_fit, f_test = text_features(fit.text), text_features(test.text)
    X, Y = fit.values[quantity], test.values[quantity]
    out = {}
    for name in FEATURES:
        r_fit = correlations(X, f_fit[name])
        unit = int(np.argmax(np.abs(r_fit)))
        sign = 1 if r_fit[unit] >= 0 else -1
        y = f_test[name]
        r_test = float(correlations(Y[:, unit : unit + 1], y)[0])
        a = None
        if y.dtype == bool and 0 < y.sum() < len(y):
            a = auc(sign * Y[:, unit], y)
        out[name] = BestUnit(name, quantity, unit, sign, float(r_fit[unit]), r_test, a)
    return out


# ----------------------------------------------------------------------------- connectivity


def window_log_prob(model, inp, h0, c0, target):
    """``(N,)`` log-probability of ``target (N,)`` after reading the embedded inputs ``inp (N, L, E)``
    from the state ``h0 (N, H)`` (``c0`` for an LSTM), and its gradient ``(N, L, E)`` with respect to
    ``inp``. The building block of ``connectivity``; exposed so a test can check it numerically."""
    spec = get_cell(model.cell)
    p = model.params
    cp = {k: p[k] for k in spec.param_names}
    h, cache = sequence_forward(spec, inp, h0, cp, c0 if spec.has_cell_state else None)
    s = h[:, -1] @ p["Wy"] + p["by"]  # (N, V)
    ls = _log_softmax(s)
    N = len(target)
    logp = ls[np.arange(N), target]
    ds = -np.exp(ls)  # d logp / d s = onehot(target) - softmax(s)
    ds[np.arange(N), target] += 1.0
    dh = np.zeros_like(h)
    dh[:, -1] = ds @ p["Wy"].T
    dinp = sequence_backward(spec, dh, cache)[0]
    return logp, dinp


def connectivity(model, vocab, text, positions, window=64, batch=64):
    """``(P, window)``: entry ``[k, d]`` is ``|| d log p(text[t+1] | text[:t+1]) / d e_{t-d} ||`` for
    ``t = positions[k]``, where ``e_s = We[text[s]]`` is the input embedding of character ``s``.

    ``text``: a string (read from the zero state) or a ``Trace`` of this model (its text, read from
    its ``h0``/``c0``; no second run over the text). Each position's window
    ``text[t - window + 1 : t + 1]`` starts from the state the whole run had before it, so the values
    equal those of one long run, cut at distance ``window - 1``. Needs
    ``window - 1 <= t <= len(text) - 2``."""
    if not isinstance(window, (int, np.integer)) or isinstance(window, bool):
        raise TypeError(f"window must be an int, got {type(window).__name__}")
    spec = get_cell(model.cell)
    tr = text if isinstance(text, Trace) else trace(model, vocab, text)
    if tr.cell != spec.name or tr.hidden_dim != model.hidden_dim:
        raise ValueError(f"text is a Trace of another model (a {tr.cell}), not of this {spec.name}")
    positions = np.asarray(positions)
    if positions.ndim != 1 or positions.dtype.kind not in "iu" or len(positions) == 0:
        raise ValueError(f"positions must be a non-empty 1-D array of ints, got {positions!r:.60}")
    T = len(tr.text)
    if window < 1 or positions.min() < window - 1 or positions.max() > T - 2:
        raise ValueError(
            f"positions must lie in [window - 1, len(text) - 2] = [{window - 1}, {T - 2}], "
            f"got min {positions.min()} and max {positions.max()}"
        )
    p = model.params
    ids = vocab.encode(tr.text)
    starts = positions - window + 1  # first character of each window
    idx = starts[:, None] + np.arange(window)  # (P, window)
    inp = p["We"][ids[idx]]  # (P, window, E)

    def before(states, first):  # the state before each window: row s - 1, or the run's first state
        return np.where((starts == 0)[:, None], first, states[np.maximum(starts - 1, 0)])

    h0 = before(tr.values["h"], tr.h0)
    c0 = before(tr.values["c"], tr.c0) if spec.has_cell_state else None
    norms = np.empty((len(positions), window))  # column j: the character starts + j
    for a in range(0, len(positions), batch):  # in batches: the caches of 64 windows at a time
        b = slice(a, a + batch)
        _, dinp = window_log_prob(model, inp[b], h0[b], None if c0 is None else c0[b], ids[positions[b] + 1])
        norms[b] = np.linalg.norm(dinp, axis=-1)
    return norms[:, ::-1].copy()  # column d: distance d back from t


def distance_profile(model, vocab, text, n_positions=200, window=64, rng=0):
    """``(window,)``: the mean over ``n_positions`` random positions of ``connectivity``, how strongly
    a prediction reacts, on average, to the character ``d`` places back. ``text``: a string or a
    ``Trace`` of this model, as for ``connectivity``."""
    T = len(text.text if isinstance(text, Trace) else text)
    rng = np.random.default_rng(rng)
    pos = np.sort(rng.choice(np.arange(window - 1, T - 1), size=n_positions, replace=False))
    return connectivity(model, vocab, text, pos, window).mean(axis=0)
