"""rnncourse.lm (lesson 9): units, baselines, held-out loss, decoding and embeddings, each checked
against a direct computation on a small model or the shipped one."""

import math

import numpy as np
import pytest

from rnncourse import lm
from rnncourse.nn import log_softmax
from rnncourse.nn.model import SequenceModel, predict
from rnncourse.tasks import CharVocab

TEXT = "the cat sat on the mat. the dog sat on the log.\n" * 4


@pytest.fixture(scope="module", params=["rnn", "lstm", "gru"])
def small(request):
    vocab = CharVocab.from_text(TEXT)
    model = SequenceModel.create(request.param, 1, 6, vocab.size, vocab_size=vocab.size, embed_dim=4, rng=3)
    # larger weights than the initialisation, so the distributions are far from uniform
    params = {k: v * 3.0 for k, v in model.params.items()}
    return SequenceModel(model.cell, params, "softmax", vocab.size), vocab


def test_units():
    assert lm.bits_per_char(math.log(2)) == pytest.approx(1.0)
    assert lm.perplexity(math.log(7)) == pytest.approx(7.0)
    assert np.allclose(lm.bits_per_char(np.array([0.0, math.log(4)])), [0.0, 2.0])
    with pytest.raises(ValueError, match="nats must be finite and >= 0"):
        lm.perplexity(-1.0)


def test_baselines_match_direct_counts():
    vocab = CharVocab("abc")
    train, valid = "aab", "abca"
    assert lm.uniform_nats(3) == pytest.approx(math.log(3))
    # unigram with alpha = 1: counts a 3, b 2, c 1 of 6
    p = {"a": 3 / 6, "b": 2 / 6, "c": 1 / 6}
    assert lm.unigram_nats(vocab, train, valid) == pytest.approx(-np.mean([math.log(p[ch]) for ch in "bca"]))
    # bigram with alpha = 0.5: pairs aa, ab; rows a: (1.5, 1.5, 0.5)/3.5, b and c: uniform
    pb = {("a", "b"): 1.5 / 3.5, ("b", "c"): 1 / 3, ("c", "a"): 1 / 3}
    want = -np.mean([math.log(pb[(a, b)]) for a, b in zip(valid, valid[1:])])
    assert lm.bigram_nats(vocab, train, valid, alpha=0.5) == pytest.approx(want)
    with pytest.raises(ValueError, match="alpha"):
        lm.bigram_nats(vocab, train, valid, alpha=0)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        lm.unigram_nats(vocab, train, "abd")


def test_heldout_carry_equals_one_long_teacher_forced_pass(small):
    model, vocab = small
    text = TEXT[:121]
    losses = lm.heldout_losses(model, vocab, text, window=10, mode="carry", streams=1)
    ids = vocab.encode(text)
    logp = log_softmax(predict(model, ids[None, :-1])[0], axis=-1)
    assert losses.shape == (120,)
    assert np.allclose(losses, -logp[np.arange(120), ids[1:]])
    # streams: each of 3 rows is one long pass over its third of the text
    three = lm.heldout_losses(model, vocab, text, window=10, mode="carry", streams=3)
    part = ids[40:81]
    logp = log_softmax(predict(model, part[None, :-1])[0], axis=-1)
    assert np.allclose(three[40:80], -logp[np.arange(40), part[1:]])


def test_heldout_reset_and_shuffle(small):
    model, vocab = small
    text = TEXT[:121]
    reset = lm.heldout_losses(model, vocab, text, window=10, mode="reset", streams=2)
    ids = vocab.encode(text)
    w = ids[50:61]  # window 5 from the zero state
    logp = log_softmax(predict(model, w[None, :-1])[0], axis=-1)
    assert np.allclose(reset[50:60], -logp[np.arange(10), w[1:]])
    shuffled = lm.heldout_losses(model, vocab, text, window=10, mode="shuffle", streams=1, rng=0)
    carried = lm.heldout_losses(model, vocab, text, window=10, mode="carry", streams=1)
    assert not np.allclose(shuffled, carried)  # other states
    # the first window of the shuffled order starts from zero, like a reset window
    first = np.random.default_rng(0).permutation(12)[0]
    assert np.allclose(shuffled[first * 10 : first * 10 + 10], reset[first * 10 : first * 10 + 10])
    with pytest.raises(ValueError, match="mode must be one of"):
        lm.heldout_losses(model, vocab, text, mode="random")
    with pytest.raises(ValueError, match="at least window \\* streams \\+ 1 = 2001"):
        lm.heldout_losses(model, vocab, text, window=100, streams=20)
    with pytest.raises(TypeError, match="window must be an int, got float"):
        lm.heldout_losses(model, vocab, text, window=10.0)


def test_generate_feeds_back_and_scores_what_it_chose(small):
    model, vocab = small
    g = lm.generate(model, vocab, "the ", 15, temperature=1.0, rng=5)
    assert len(g.text) == 15 and g.ids.shape == g.logp.shape == (15,) and g.probs.shape == (15, vocab.size)
    assert np.isclose(lm.sequence_logprob(model, vocab, "the ", g.text), g.logp.sum())
    # the probabilities at step j are the model's after reading the prompt and the first j samples
    ids = vocab.encode("the " + g.text)
    p = np.exp(log_softmax(predict(model, ids[None, :-1])[0], axis=-1))[3:]
    assert np.allclose(g.probs, p)
    again = lm.generate(model, vocab, "the ", 15, temperature=1.0, rng=5)
    assert again.text == g.text
    greedy = lm.generate(model, vocab, "the ", 15, temperature=0)
    assert np.array_equal(greedy.ids, greedy.probs.argmax(axis=1))


def test_beam_search_width_one_is_greedy_and_wider_is_not_worse(small):
    model, vocab = small
    greedy = lm.generate(model, vocab, "the ", 12, temperature=0)
    one = lm.beam_search(model, vocab, "the ", 12, width=1)
    assert one[0][0] == greedy.text and np.isclose(one[0][1], greedy.logp.sum())
    beams = lm.beam_search(model, vocab, "the ", 12, width=5)
    assert len(beams) == 5 and beams[0][1] >= one[0][1] - 1e-12
    totals = [t for _, t in beams]
    assert totals == sorted(totals, reverse=True)
    for text, total in beams:
        assert np.isclose(lm.sequence_logprob(model, vocab, "the ", text), total)


def test_beam_search_finds_the_best_two_step_sequence(small):
    model, vocab = small
    V = vocab.size
    best = max(
        (
            lm.sequence_logprob(model, vocab, "a", vocab.chars[i] + vocab.chars[j]),
            vocab.chars[i] + vocab.chars[j],
        )
        for i in range(V)
        for j in range(V)
    )
    text, total = lm.beam_search(model, vocab, "a", 2, width=V)[0]
    assert text == best[1] and np.isclose(total, best[0])


def test_top_k_repeats_and_free_run(small):
    ids, p = lm.top_k(np.array([0.1, 0.4, 0.1, 0.4]), 3)
    assert ids.tolist() == [1, 3, 0] and np.allclose(p, [0.4, 0.4, 0.1])
    assert lm.repeated_ngram_share("abcdefgh", 2) == 0.0
    assert lm.repeated_ngram_share("abababab", 2) == pytest.approx(1 - 2 / 7)
    with pytest.raises(ValueError, match="at least n = 5"):
        lm.repeated_ngram_share("abc", 5)
    model, vocab = small
    r = lm.free_run_agreement(model, vocab, TEXT, prompt_len=5, n=6, passages=30, rng=1)
    assert r["teacher"][0] == r["free"][0] == r["on_track"][0]  # the first guess is the same one
    assert np.all(np.diff(r["on_track"]) <= 0) and np.all(r["on_track"] <= r["free"] + 1e-12)


def test_embeddings():
    vocab = CharVocab("abcd")
    We = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]])
    near = lm.nearest_chars(We, vocab, "a", k=3)
    assert [c for c, _ in near] == ["b", "c", "d"] and np.isclose(near[2][1], -1.0)
    pts, explained = lm.pca_2d(We)
    assert pts.shape == (4, 2) and np.isclose(explained.sum(), 1.0)
    with pytest.raises(ValueError, match="We must have shape \\(V, E\\) with V = 4"):
        lm.nearest_chars(We[:3], vocab, "a")


def test_pretrained_models_beat_the_baselines_on_held_out_text():
    pre = lm.pretrained("rnn")
    text = pre.valid_text[:4001]
    nats = lm.heldout_losses(pre.model, pre.vocab, text, window=100).mean()
    assert (
        nats
        < lm.bigram_nats(pre.vocab, pre.train_text, text)
        < lm.unigram_nats(pre.vocab, pre.train_text, text)
    )
    with pytest.raises(TypeError, match="model must be a SequenceModel"):
        lm.generate("model", pre.vocab, "a", 3)


def test_continuation_probs_agree_with_generate(small):
    model, vocab = small
    g = lm.generate(model, vocab, "on ", 10, temperature=0.7, rng=2)
    logp, probs = lm.continuation_probs(model, vocab, "on ", g.text)
    assert np.allclose(logp, g.logp) and np.allclose(probs, g.probs)
