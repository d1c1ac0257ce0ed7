"""Lesson 10's compute (``rnncourse.interpret``): traces equal the model's own forward pass, the text
features are exact on hand-made text, correlation and AUC equal their textbook definitions, the
best-unit search finds a planted unit and loses it when the labels are wrong, and connectivity is
the true gradient (float64 central differences; equal to the gradient of one long run)."""

import numpy as np
import pytest

from rnncourse import interpret as I
from rnncourse.nn.model import SequenceModel, forward_loss
from rnncourse.tasks import CharVocab

TEXT = (
    'ABRUPT, adj.  Sudden, "without (ceremony)" _like_ this.\n'
    "    A verse line\n"
    "    and another.\n\n"
    'ZEAL, n.  A "disorder" of the young.\n'
)
VOCAB = CharVocab.from_text(TEXT)


def _model(cell, H=6, E=4, seed=0):
    return SequenceModel.create(cell, VOCAB.size, H, VOCAB.size, vocab_size=VOCAB.size, embed_dim=E, rng=seed)


# ----------------------------------------------------------------------------------- traces


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_trace_is_the_models_forward_pass(cell):
    m = _model(cell)
    tr = I.trace(m, VOCAB, TEXT)
    assert tuple(tr.values) == I.QUANTITIES[cell]
    for q, v in tr.values.items():
        assert v.shape == (len(TEXT), 6), q
    ids = VOCAB.encode(TEXT)[None]
    loss, _, (hT, cT), _ = forward_loss(m, ids[:, :-1], ids[:, 1:])
    # forward_loss sums the loss over time: minus the sum of the log-probabilities
    assert np.isclose(-tr.log_prob.sum(), loss, rtol=1e-12)
    assert np.allclose(tr.values["h"][-2], hT)
    if cell == "lstm":
        assert np.allclose(tr.values["c"][-2], cT)
        i, f, g, o, c = (tr.values[k] for k in "ifgoc")
        assert np.allclose(c[1:], f[1:] * c[:-1] + i[1:] * g[1:])  # the cell equation, row by row
        assert np.allclose(tr.values["h"], o * np.tanh(c))
    if cell == "gru":
        r, z, n = (tr.values[k] for k in "rzn")
        h = tr.values["h"]
        assert np.allclose(h[1:], (1 - z[1:]) * n[1:] + z[1:] * h[:-1])


def test_warmup_only_drops_the_first_values():
    m = _model("lstm")
    whole = I.trace(m, VOCAB, TEXT)
    part = I.trace(m, VOCAB, TEXT[20:], warmup=TEXT[:20])
    for q in whole.values:
        assert np.allclose(part.values[q], whole.values[q][20:], rtol=1e-12, atol=1e-14)
    assert np.allclose(part.log_prob, whole.log_prob[20:])
    cold = I.trace(m, VOCAB, TEXT[20:])  # from the zero state: different (so the check can fail)
    assert not np.allclose(cold.values["h"][0], whole.values["h"][20])


# --------------------------------------------------------------------------------- features


def _marked(text, mask):
    return "".join(c for c, b in zip(text, mask) if b)


def test_text_features_mark_the_right_characters():
    f = I.text_features(TEXT)
    assert set(f) == set(I.FEATURES)
    assert _marked(TEXT, f["quote"]) == '"without (ceremony)"disorder'
    assert _marked(TEXT, f["parens"]) == "(ceremony"
    assert _marked(TEXT, f["italics"]) == "_like"
    assert _marked(TEXT, f["headword"]) == "ABRUPTZEAL"
    assert _marked(TEXT, f["verse"]) == " A verse line\n and another.\n"
    words = _marked(TEXT, f["word_start"])
    assert words == "AaSwcltAvlaaZnAdoty", words
    lines = TEXT.split("\n")
    assert f["line_pos"][0] == 0 and f["line_pos"][len(lines[0])] == len(lines[0])  # the "\n"
    assert f["line_pos"][len(lines[0]) + 1] == 0


def test_an_open_quote_does_not_leak_into_the_next_paragraph():
    # the blank line (the second "\n") ends the paragraph and closes what is open
    f = I.text_features('A "never closed\n\nB next "one" here')
    assert _marked('A "never closed\n\nB next "one" here', f["quote"]) == '"never closed\n"one'


# ------------------------------------------------------------------------------ measurement


def test_correlations_and_auc_are_the_textbook_ones():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    y = X[:, 2] + rng.normal(size=300) > 0.5
    r = I.correlations(X, y)
    ref = [np.corrcoef(X[:, j], y)[0, 1] for j in range(4)]
    assert np.allclose(r, ref)
    s = X[:, 2]
    pairs = (s[y][:, None] > s[~y][None, :]).mean()  # the definition: a random pair, counted
    assert np.isclose(I.auc(s, y), pairs)
    assert np.isclose(I.auc(-s, y), 1 - pairs)
    assert I.auc(np.array([0.0, 0.0, 1.0]), np.array([0, 1, 1])) == 0.75  # a tie counts one half
    assert I.correlations(np.ones((5, 2)), np.arange(5.0)).tolist() == [0.0, 0.0]


def _fake_trace(text, unit_values, H=8, seed=0):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(len(text), H))
    h[:, 5] = unit_values
    return I.Trace("rnn", text, {"h": h}, np.zeros(len(text) - 1), np.zeros(H))


def test_best_units_finds_a_planted_quote_unit_and_loses_it_on_wrong_labels():
    text = (TEXT * 20)[:2000]
    q = I.text_features(text)["quote"]
    rng = np.random.default_rng(3)
    fit = _fake_trace(text, -(q + 0.3 * rng.normal(size=len(text))), seed=1)
    test = _fake_trace(text, -(q + 0.3 * rng.normal(size=len(text))), seed=2)
    b = I.best_units(fit, test)["quote"]
    assert (b.unit, b.sign) == (5, -1) and b.auc_test > 0.95 and b.r_test < -0.8
    # the same unit against shuffled labels (deliberately wrong): chance level
    wrong = I.auc(b.sign * test.values["h"][:, 5], rng.permutation(q))
    assert abs(wrong - 0.5) < 0.1, wrong


def test_measurement_errors_are_named():
    with pytest.raises(ValueError, match=r"values must be \(T, H\) and feature \(T,\)"):
        I.correlations(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="labels need both classes, got 3 positives"):
        I.auc(np.arange(3.0), np.ones(3))
    tr = _fake_trace(TEXT, np.zeros(len(TEXT)))
    with pytest.raises(TypeError, match="fit must be a Trace"):
        I.best_units({"h": 1}, tr)
    with pytest.raises(ValueError, match=r"quantity must be one of \['h'\] for a rnn, got 'c'"):
        I.best_units(tr, tr, "c")
    with pytest.raises(TypeError, match="text must be a str, got list"):
        I.trace(_model("rnn"), VOCAB, ["a", "b"])


# ----------------------------------------------------------------------------- connectivity


def _numeric_dinp(model, inp, h0, c0, target, eps=1e-6):
    g = np.zeros_like(inp)
    for idx in np.ndindex(inp.shape):
        up, down = inp.copy(), inp.copy()
        up[idx] += eps
        down[idx] -= eps
        g[idx] = (
            I.window_log_prob(model, up, h0, c0, target)[0][idx[0]]
            - I.window_log_prob(model, down, h0, c0, target)[0][idx[0]]
        ) / (2 * eps)
    return g


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_window_gradient_matches_central_differences(cell):
    m = _model(cell, H=5, E=3, seed=4)
    rng = np.random.default_rng(5)
    inp = rng.normal(size=(2, 4, 3))
    h0 = rng.normal(size=(2, 5)) * 0.5
    c0 = rng.normal(size=(2, 5)) if cell == "lstm" else None
    target = np.array([1, 7])
    logp, dinp = I.window_log_prob(m, inp, h0, c0, target)
    num = _numeric_dinp(m, inp, h0, c0, target)
    err = np.abs(dinp - num).max() / np.abs(num).max()
    assert err < 1e-7, err
    assert logp.shape == (2,) and np.all(logp < 0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_connectivity_equals_the_gradient_of_one_long_run(cell):
    m = _model(cell, seed=6)
    t = 60
    full = I.connectivity(m, VOCAB, TEXT, [t], window=t + 1)[0]  # from text[0]: the whole history
    short = I.connectivity(m, VOCAB, TEXT, [t, t + 3], window=12)
    assert short.shape == (2, 12)
    assert np.allclose(short[0], full[:12], rtol=1e-10, atol=1e-14)
    # deliberately wrong: windows started from the zero state instead of the true state differ
    ids = VOCAB.encode(TEXT)
    inp = m.params["We"][ids[t - 11 : t + 1]][None]
    h0 = np.zeros((1, 6))
    c0 = np.zeros((1, 6)) if cell == "lstm" else None
    _, d0 = I.window_log_prob(m, inp, h0, c0, ids[[t + 1]])
    assert not np.allclose(np.linalg.norm(d0[0], axis=-1)[::-1], short[0], rtol=1e-3)


def test_connectivity_errors_are_named():
    m = _model("rnn")
    with pytest.raises(ValueError, match=r"positions must lie in \[window - 1, len\(text\) - 2\] = \[9, "):
        I.connectivity(m, VOCAB, TEXT, [3], window=10)
    with pytest.raises(ValueError, match="positions must be a non-empty 1-D array of ints"):
        I.connectivity(m, VOCAB, TEXT, [3.5])
    with pytest.raises(TypeError, match="window must be an int, got float"):
        I.connectivity(m, VOCAB, TEXT, [30], window=10.0)


# ----------------------------------------------------------------------- the shipped models


@pytest.fixture(scope="module")
def rnn_traces():
    from rnncourse.lm import pretrained

    pt = pretrained("rnn")
    fit = I.trace(pt.model, pt.vocab, pt.train_text[-6000:])
    test = I.trace(pt.model, pt.vocab, pt.valid_text[:6000], warmup=pt.train_text[-200:])
    return pt, fit, test


def test_the_trained_rnn_has_a_word_start_unit_that_wrong_labels_destroy(rnn_traces):
    pt, fit, test = rnn_traces
    b = I.best_units(fit, test)["word_start"]
    assert b.auc_test > 0.85, b
    y = I.text_features(test.text)["word_start"]
    shifted = I.auc(b.sign * test.values["h"][:, b.unit], np.roll(y, 3))  # labels 3 characters late
    assert shifted < 0.7, shifted


def test_the_trained_rnn_forgets_within_a_few_dozen_characters(rnn_traces):
    pt, _, test = rnn_traces
    prof = I.distance_profile(pt.model, pt.vocab, test.text, n_positions=100, window=48, rng=0)
    assert prof.shape == (48,) and np.all(prof > 0)
    assert prof[0] > prof[10] > prof[40]
    assert prof[40] < 0.01 * prof[0]


def test_connectivity_from_a_trace_equals_from_the_whole_text():
    m = _model("lstm", seed=8)
    part = I.trace(m, VOCAB, TEXT[30:], warmup=TEXT[:30])
    from_trace = I.connectivity(m, VOCAB, part, [0, 15, 40], window=1)
    from_text = I.connectivity(m, VOCAB, TEXT, [30, 45, 70], window=1)
    assert np.allclose(from_trace, from_text, rtol=1e-10)
    assert np.allclose(
        I.connectivity(m, VOCAB, part, [20, 40], window=20),
        I.connectivity(m, VOCAB, TEXT, [50, 70], window=20),
    )
    with pytest.raises(ValueError, match="text is a Trace of another model"):
        I.connectivity(_model("gru"), VOCAB, part, [20])


def test_traces_in_one_batch_equal_one_by_one():
    m = _model("gru", seed=9)
    a, b = I.traces(m, VOCAB, [TEXT[10:50], TEXT[60:100]], [TEXT[:10], TEXT[50:60]])
    for part, (s, w) in ((a, (10, 0)), (b, (60, 50))):
        alone = I.trace(m, VOCAB, TEXT[s : s + 40], warmup=TEXT[w:s])
        for q in alone.values:
            assert np.allclose(part.values[q], alone.values[q], rtol=1e-12, atol=1e-14)
        assert np.allclose(part.log_prob, alone.log_prob) and np.allclose(part.h0, alone.h0)
    with pytest.raises(ValueError, match=r"texts \(and warm-ups\) must all have one length, got \[3, 4\]"):
        I.traces(m, VOCAB, ["abc", "abcd"])


def test_float32_storage_keeps_the_values():
    m = _model("lstm", seed=10)
    (small,) = I.traces(m, VOCAB, [TEXT], dtype=np.float32)
    full = I.trace(m, VOCAB, TEXT)
    for q in full.values:
        assert small.values[q].dtype == np.float32
        assert np.allclose(small.values[q], full.values[q], atol=1e-6)
    assert np.allclose(
        I.connectivity(m, VOCAB, small, [40], 20), I.connectivity(m, VOCAB, full, [40], 20), rtol=1e-5
    )


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_traces_in_chunks_equal_one_run(cell):
    m = _model(cell, seed=11)
    (one,) = I.traces(m, VOCAB, [TEXT[20:]], [TEXT[:20]], chunk=10_000)
    (chunked,) = I.traces(m, VOCAB, [TEXT[20:]], [TEXT[:20]], chunk=7)
    for q in one.values:
        assert np.allclose(chunked.values[q], one.values[q], rtol=1e-12, atol=1e-14), q
    assert np.allclose(chunked.log_prob, one.log_prob, rtol=1e-12)


def test_connectivity_in_batches_equals_one_batch():
    m = _model("lstm", seed=12)
    pos = np.arange(30, 60)
    assert np.allclose(
        I.connectivity(m, VOCAB, TEXT, pos, 20, batch=7), I.connectivity(m, VOCAB, TEXT, pos, 20, batch=100)
    )
