"""Lesson 8 ("Deeper and both ways"): small tasks, a tagger, an encoder-decoder and influence maps.

Everything here is pure computation over ``rnncourse.nn.deep`` (no plotting, no widgets):

* tasks that return ``(x (N, T, 2) one-hot bits, y (N, T) int, mask (N, T))``:
  ``future_bits`` (the label at step t depends on the input two steps *later*),
  ``window_parity`` (the parity of the last k bits) and ``delayed_xor``;
* a **tagger**: a stacked and/or bidirectional network with a readout at every step,
  ``scores_t = top_t Wy + by``, trained with Adam (``init_tagger``, ``tagger_loss``,
  ``train_tagger``, ``tagger_accuracy``), and ``train_tagger_seeds``, which trains one one-way
  tagger per seed side by side as one block-diagonal network (the same results, one loop);
* ``count_params`` and ``param_formula``: parameter counts per layer, from the arrays and from the
  shapes' formula;
* ``influence``: how far the decision at step t moves when the input bit at step s is flipped (the
  explorer's numbers), and ``output_change``: how far the output at t moves when one input changes;
* a tiny **encoder-decoder** (seq2seq, Sutskever, Vinyals & Le 2014) that learns to reverse short
  strings: GRU encoder, GRU decoder started from the encoder's final state, teacher forcing in
  training, greedy decoding at test (``init_seq2seq``, ``seq2seq_loss``, ``train_seq2seq``,
  ``greedy_decode``).
"""

from __future__ import annotations

import numpy as np

from .nn import (
    Adam,
    clip_by_global_norm,
    init_cell_params,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    xavier,
)
from .nn.deep import deep_backward, deep_forward

__all__ = [
    "future_bits",
    "delayed_xor",
    "init_tagger",
    "tagger_scores",
    "tagger_loss",
    "train_tagger",
    "tagger_accuracy",
    "train_tagger_seeds",
    "window_parity",
    "count_params",
    "param_formula",
    "influence",
    "output_change",
    "reverse_strings",
    "init_seq2seq",
    "seq2seq_loss",
    "train_seq2seq",
    "greedy_decode",
    "GATES",
]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_int(name, v, lo):
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
        raise TypeError(f"{name} must be an int, got {type(v).__name__} {v!r}")
    if v < lo:
        raise ValueError(f"{name} must be >= {lo}, got {v}")
    return int(v)


# ----------------------------------------------------------------------------------------- tasks


def future_bits(N, T=16, lag=2, rng=None):
    """Random bits; the label at step t is 1 when ``bit_t == bit_{t+lag}``.

    The label needs an input that comes *later*, so a one-way model can only guess (50 %). The last
    ``lag`` steps have no label (mask 0). Returns ``x (N, T, 2)`` one-hot bits, ``y (N, T)``,
    ``mask (N, T)``.
    """
    N, T, lag = _check_int("N", N, 1), _check_int("T", T, 2), _check_int("lag", lag, 1)
    if lag >= T:
        raise ValueError(f"lag must be smaller than T = {T}, got {lag}")
    bits = _rng(rng).integers(0, 2, size=(N, T))
    y = np.zeros((N, T), np.int64)
    y[:, :-lag] = bits[:, :-lag] == bits[:, lag:]
    mask = np.ones((N, T))
    mask[:, -lag:] = 0.0
    return np.eye(2)[bits], y, mask


def delayed_xor(N, T=16, rng=None):
    """Random bits; the label at step t is ``bit_{t-1} XOR bit_{t-2}`` (XOR: 1 when they differ).

    Every label needs a nonlinear combination of two past inputs. The first two steps have no
    label. Returns ``x (N, T, 2)``, ``y (N, T)``, ``mask (N, T)``.
    """
    N, T = _check_int("N", N, 1), _check_int("T", T, 3)
    bits = _rng(rng).integers(0, 2, size=(N, T))
    y = np.zeros((N, T), np.int64)
    y[:, 2:] = bits[:, 1:-1] ^ bits[:, :-2]
    mask = np.ones((N, T))
    mask[:, :2] = 0.0
    return np.eye(2)[bits], y, mask


def window_parity(N, T=10, k=3, rng=None):
    """Random bits; the label at step t is the parity (XOR) of the last ``k`` bits, ``t-k+1 .. t``.

    The first ``k - 1`` steps have no label. Returns ``x (N, T, 2)``, ``y (N, T)``, ``mask (N, T)``.
    """
    N, T, k = _check_int("N", N, 1), _check_int("T", T, 2), _check_int("k", k, 1)
    if k > T:
        raise ValueError(f"k must be at most T = {T}, got {k}")
    bits = _rng(rng).integers(0, 2, size=(N, T))
    y = np.zeros((N, T), np.int64)
    for j in range(k):
        y[:, k - 1 :] ^= bits[:, k - 1 - j : T - j]
    mask = np.ones((N, T))
    mask[:, : k - 1] = 0.0
    return np.eye(2)[bits], y, mask


# ---------------------------------------------------------------------------------------- tagger


def init_tagger(cell, D, H, K, num_layers=1, bidirectional=False, rng=None):
    """Parameters of a tagger: ``{"layers": [L * dirs dicts], "Wy": (dirs*H, K), "by": (K,)}``.

    The layers are in PyTorch's order (``l0, l0_reverse, l1, ...``); layer 0 reads ``D`` features,
    a higher layer reads the ``dirs * H`` features of the layer below.
    """
    num_layers = _check_int("num_layers", num_layers, 1)
    rng = _rng(rng)
    dirs = 2 if bidirectional else 1
    layers = [
        init_cell_params(cell, D if l == 0 else dirs * H, H, rng)
        for l in range(num_layers)
        for _ in range(dirs)
    ]
    return {"layers": layers, "Wy": xavier((dirs * H, K), rng), "by": np.zeros(K)}


def _dirs(params):
    return params["Wy"].shape[0] // params["layers"][0]["Wh"].shape[0]


def tagger_scores(cell, params, x):
    """``scores (N, T, K)`` of the tagger, with the caches needed by ``tagger_loss``."""
    top, cache = deep_forward(cell, x, None, params["layers"], bidirectional=_dirs(params) == 2)
    scores, acache = temporal_affine_forward(top, params["Wy"], params["by"])
    return scores, (cache, acache)


def tagger_loss(cell, params, x, y, mask):
    """Softmax cross-entropy summed over labelled steps, mean over the batch; returns
    ``(loss, grads)`` with ``grads`` shaped like ``params``."""
    scores, (cache, acache) = tagger_scores(cell, params, x)
    loss, dscores = temporal_softmax_loss(scores, y, mask)
    dtop, dWy, dby = temporal_affine_backward(dscores, acache)
    out = deep_backward(dtop, cache)
    return loss, {"layers": out[-1], "Wy": dWy, "by": dby}


def _flat(params):
    """Nested params -> a flat dict (for the optimiser and clipping)."""
    flat = {f"{j}.{k}": v for j, p in enumerate(params["layers"]) for k, v in p.items()}
    flat.update({k: v for k, v in params.items() if k != "layers"})
    return flat


def _unflat(flat, like):
    layers = [{k: flat[f"{j}.{k}"] for k in p} for j, p in enumerate(like["layers"])]
    return {"layers": layers, **{k: flat[k] for k in like if k != "layers"}}


def _adam_loop(params, loss_fn, steps, lr, clip):
    opt = Adam(lr=lr)
    flat = _flat(params)
    state = opt.init(flat)
    losses = np.empty(steps)
    for s in range(steps):
        loss, grads = loss_fn(_unflat(flat, params), s)
        grads = _flat(grads) if clip is None else clip_by_global_norm(_flat(grads), clip)[0]
        flat, state = opt.update(flat, grads, state)
        losses[s] = loss
    return _unflat(flat, params), losses


def train_tagger(
    cell,
    task,
    H,
    num_layers=1,
    bidirectional=False,
    steps=300,
    batch_size=32,
    lr=0.02,
    clip=5.0,
    seed=0,
    data_seed=None,
):
    """Train a tagger on ``task(N, rng=...)`` (e.g. ``future_bits``) with Adam, clipping the global
    gradient norm at ``clip`` (``None``: no clipping). The initial weights come from ``seed``, the
    batches from ``data_seed`` (default: the same generator, after the weights).
    Returns ``(params, losses (steps,))``."""
    rng = np.random.default_rng(seed)
    data = rng if data_seed is None else np.random.default_rng(data_seed)
    x, _, _ = task(1, rng=0)
    params = init_tagger(cell, x.shape[2], H, 2, num_layers, bidirectional, rng)
    return _adam_loop(params, lambda p, s: tagger_loss(cell, p, *task(batch_size, rng=data)), steps, lr, clip)


def _block_index(G, H, M, m):
    """Columns of model m's gate blocks inside a combined ``G * M * H`` gate axis (gate-major)."""
    return np.concatenate([g * M * H + m * H + np.arange(H) for g in range(G)])


def train_tagger_seeds(
    cell, task, H, num_layers=1, seeds=(0, 1, 2, 3), steps=300, batch_size=32, lr=0.02, data_seed=0
):
    """Train one one-way tagger per seed in ``seeds``, all at once, as ONE wide network.

    The ``M = len(seeds)`` models sit side by side: the combined hidden state is ``M * H`` units,
    every weight matrix is block-diagonal (model m's units only see model m's units), the readout
    gives ``M`` separate score vectors and the loss is the sum of the ``M`` models' losses. The
    gradient of every off-block entry is set to zero, and Adam treats each number on its own, so
    each block trains exactly as that model would alone (``train_tagger(..., clip=None,
    seed=seed, data_seed=data_seed)``, proven in ``tests/test_lesson8.py``): the same results,
    one Python loop instead of ``M``. All models see the same batches. Returns ``(list of M
    params, losses (steps, M))``.
    """
    seeds = list(seeds)
    M, G = len(seeds), GATES[cell]
    x, _, _ = task(1, rng=0)
    D, K = x.shape[2], 2
    singles = [init_tagger(cell, D, H, K, num_layers, False, np.random.default_rng(s)) for s in seeds]
    cols = [_block_index(G, H, M, m) for m in range(M)]
    rows = [m * H + np.arange(H) for m in range(M)]
    big = {"layers": [], "Wy": np.zeros((M * H, M * K)), "by": np.zeros(M * K)}
    masks = {"layers": [], "Wy": np.zeros((M * H, M * K)), "by": np.ones(M * K)}
    for j in range(num_layers):
        layer, mask = {}, {}
        for k, v in singles[0]["layers"][j].items():
            if v.ndim == 1:
                layer[k], mask[k] = np.zeros(G * M * H), np.ones(G * M * H)
                for m in range(M):
                    layer[k][cols[m]] = singles[m]["layers"][j][k]
                continue
            shared_input = k == "Wx" and j == 0  # layer 0 reads the same D features
            n_in = D if shared_input else M * H
            layer[k], mask[k] = np.zeros((n_in, G * M * H)), np.zeros((n_in, G * M * H))
            for m in range(M):
                r = np.arange(D) if shared_input else rows[m]
                layer[k][np.ix_(r, cols[m])] = singles[m]["layers"][j][k]
                mask[k][np.ix_(r, cols[m])] = 1.0
        big["layers"].append(layer)
        masks["layers"].append(mask)
    for m in range(M):
        big["Wy"][np.ix_(rows[m], m * K + np.arange(K))] = singles[m]["Wy"]
        masks["Wy"][np.ix_(rows[m], m * K + np.arange(K))] = 1.0
        big["by"][m * K : (m + 1) * K] = singles[m]["by"]
    flat_mask = _flat(masks)
    data = np.random.default_rng(data_seed)
    per_model = np.empty((steps, M))

    def loss_fn(p, s):
        xb, yb, mb = task(batch_size, rng=data)
        N, T = yb.shape
        scores, (cache, acache) = tagger_scores(cell, p, xb)  # (N, T, M*K)
        losses, dscores = [], np.empty_like(scores)
        for m in range(M):
            lm, dscores[..., m * K : (m + 1) * K] = temporal_softmax_loss(
                scores[..., m * K : (m + 1) * K], yb, mb
            )
            losses.append(lm)
        per_model[s] = losses
        dtop, dWy, dby = temporal_affine_backward(dscores, acache)
        grads = {"layers": deep_backward(dtop, cache)[-1], "Wy": dWy, "by": dby}
        flat = {k: g * flat_mask[k] for k, g in _flat(grads).items()}
        return float(sum(losses)), _unflat(flat, p)

    big, _ = _adam_loop(big, loss_fn, steps, lr, None)
    out = []
    for m in range(M):
        layers = []
        for j in range(num_layers):
            layer = {}
            for k, v in big["layers"][j].items():
                if v.ndim == 1:
                    layer[k] = v[cols[m]].copy()
                else:
                    r = np.arange(D) if (k == "Wx" and j == 0) else rows[m]
                    layer[k] = v[np.ix_(r, cols[m])].copy()
            layers.append(layer)
        out.append(
            {
                "layers": layers,
                "Wy": big["Wy"][np.ix_(rows[m], m * K + np.arange(K))].copy(),
                "by": big["by"][m * K : (m + 1) * K].copy(),
            }
        )
    return out, per_model


def tagger_accuracy(cell, params, x, y, mask):
    """Fraction of labelled steps (mask != 0) whose arg max score equals the label."""
    scores, _ = tagger_scores(cell, params, x)
    on = mask != 0
    return float((scores.argmax(-1) == y)[on].mean())


# ------------------------------------------------------------------------------ parameter counts


def count_params(layers):
    """Number of numbers in each parameter dict of ``layers`` (a list of ints), from the arrays."""
    return [int(sum(np.size(v) for v in p.values())) for p in layers]


def param_formula(cell, D, H, num_layers=1, bidirectional=False):
    """The same counts from the shapes: ``G H (D_in + H) + G H`` per layer and direction (two
    bias vectors ``bx, bh`` for the GRU), ``D_in = D`` for layer 0, ``dirs * H`` above it."""
    if cell not in GATES:
        raise ValueError(f"cell must be one of {sorted(GATES)}, got {cell!r}")
    G, dirs = GATES[cell], (2 if bidirectional else 1)
    n_bias = 2 if cell == "gru" else 1
    return [
        G * H * ((D if l == 0 else dirs * H) + H) + n_bias * G * H
        for l in range(num_layers)
        for _ in range(dirs)
    ]


# ----------------------------------------------------------------------------- influence and change


def influence(cell, params, x):
    """``I[t, s]``: how far the tagger's decision at step t moves when the bit at step s is flipped.

    ``params`` is a trained tagger (``init_tagger``'s layout, one-way or bidirectional), ``x (T, 2)``
    one sequence of one-hot bits. The decision at step t is the score margin
    ``m_t = scores_t[1] - scores_t[0]``; ``I[t, s] = |m_t(x with bit s flipped) - m_t(x)|``.
    (For 0/1 inputs this is more faithful than a gradient, which measures a tiny nudge of x_s, not
    a flip.) One forward pass over ``T + 1`` sequences. ``I[t, s]`` is exactly 0 where step s
    cannot reach step t. Returns ``I (T, T)``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"x must be one sequence of one-hot bits, shape (T, 2), got shape {x.shape}")
    T = x.shape[0]
    batch = np.repeat(x[None], T + 1, axis=0)  # copy 0: as is; copy s + 1: bit s flipped
    batch[np.arange(1, T + 1), np.arange(T)] = x[:, ::-1]
    scores, _ = tagger_scores(cell, params, batch)
    margin = scores[..., 1] - scores[..., 0]  # (T + 1, T)
    return np.abs(margin[1:] - margin[0]).T  # [t, s]


def output_change(cell, layers, x, t, s, bidirectional=False, flip=None):
    """How far the output at step ``t`` moves when the input at step ``s`` is replaced.

    ``x (N, T, D)``; ``flip`` (default ``x[:, s, ::-1]``: a one-hot bit swapped) is the new input
    at step s. Returns ``max |top'_t - top_t|`` over the batch and units (0.0 exactly when step s
    cannot reach step t)."""
    x = np.asarray(x, dtype=np.float64)
    x2 = x.copy()
    x2[:, s] = x[:, s, ::-1] if flip is None else flip
    a, _ = deep_forward(cell, x, None, layers, bidirectional=bidirectional)
    b, _ = deep_forward(cell, x2, None, layers, bidirectional=bidirectional)
    return float(np.abs(a[:, t] - b[:, t]).max())


# ------------------------------------------------------------------------------- encoder-decoder


def reverse_strings(N, length=5, V=4, rng=None):
    """Random strings of ``length`` symbols out of ``V`` and their reversals, as ints ``(N, length)``."""
    src = _rng(rng).integers(0, V, size=(_check_int("N", N, 1), _check_int("length", length, 1)))
    return src, src[:, ::-1].copy()


def init_seq2seq(V, H, rng=None):
    """GRU encoder over one-hot symbols; GRU decoder over one-hot previous symbols plus a start
    symbol (id ``V``); readout ``(H, V)``."""
    rng = _rng(rng)
    return {
        "layers": [init_cell_params("gru", V, H, rng), init_cell_params("gru", V + 1, H, rng)],
        "Wy": xavier((H, V), rng),
        "by": np.zeros(V),
    }


def _decoder_inputs(tgt, V):
    """Teacher forcing: the decoder reads the start symbol, then the true previous symbols."""
    N = tgt.shape[0]
    prev = np.concatenate([np.full((N, 1), V), tgt[:, :-1]], axis=1)
    return np.eye(V + 1)[prev]


def seq2seq_loss(params, src, tgt):
    """Teacher-forced loss: encoder over ``src``, decoder from the encoder's last state, reading the
    true previous symbols. Returns ``(loss, grads)``."""
    V = params["Wy"].shape[1]
    enc, dec = params["layers"]
    _, ecache = deep_forward("gru", np.eye(V)[src], None, [enc])
    hd, dcache = deep_forward("gru", _decoder_inputs(tgt, V), ecache.h_n, [dec])
    scores, acache = temporal_affine_forward(hd, params["Wy"], params["by"])
    loss, dscores = temporal_softmax_loss(scores, tgt)
    dhd, dWy, dby = temporal_affine_backward(dscores, acache)
    _, dh0, (ddec,) = deep_backward(dhd, dcache)
    _, _, (denc,) = deep_backward(
        np.zeros((src.shape[0], src.shape[1], enc["Wh"].shape[0])), ecache, dh_n=dh0
    )
    return loss, {"layers": [denc, ddec], "Wy": dWy, "by": dby}


def train_seq2seq(H=32, length=5, V=4, steps=600, batch_size=32, lr=0.02, clip=5.0, seed=0):
    """Train the reversal model with teacher forcing. Returns ``(params, losses (steps,))``."""
    rng = np.random.default_rng(seed)
    params = init_seq2seq(V, H, rng)
    return _adam_loop(
        params, lambda p, s: seq2seq_loss(p, *reverse_strings(batch_size, length, V, rng)), steps, lr, clip
    )


def greedy_decode(params, src, length=None):
    """Greedy decoding: encode ``src (N, L)``, then feed the decoder its own arg max one step at a
    time, starting from the start symbol. Returns the decoded ids ``(N, length)`` (default L)."""
    V = params["Wy"].shape[1]
    enc, dec = params["layers"]
    src = np.asarray(src)
    length = src.shape[1] if length is None else length
    _, ecache = deep_forward("gru", np.eye(V)[src], None, [enc])
    h = ecache.h_n  # (1, N, H): the encoder's summary
    prev = np.full(src.shape[0], V)
    out = np.empty((src.shape[0], length), np.int64)
    for t in range(length):
        hd, dcache = deep_forward("gru", np.eye(V + 1)[prev][:, None], h, [dec])
        prev = (hd[:, 0] @ params["Wy"] + params["by"]).argmax(-1)
        out[:, t] = prev
        h = dcache.h_n
    return out
