"""Lesson 8 (deep and bidirectional RNNs, encoder-decoder): the compute functions in
``rnncourse.deep_lessons``, the influence explorer driven without a browser, and the lesson run
with every control moved to its minimum and to its maximum."""

from functools import partial
from pathlib import Path

import numpy as np
import pytest

from rnncourse import deep_lessons as dl
from rnncourse.nn.deep import deep_forward

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ tasks


def test_future_bits_labels_compare_with_the_bit_lag_steps_later():
    x, y, mask = dl.future_bits(5, T=9, lag=2, rng=0)
    bits = x.argmax(-1)
    assert x.shape == (5, 9, 2) and y.shape == mask.shape == (5, 9)
    for n in range(5):
        for t in range(7):
            assert y[n, t] == int(bits[n, t] == bits[n, t + 2]) and mask[n, t] == 1
    assert np.all(mask[:, 7:] == 0)


def test_window_parity_and_delayed_xor_match_a_direct_count():
    x, y, mask = dl.window_parity(4, T=8, k=3, rng=1)
    bits = x.argmax(-1)
    for t in range(2, 8):
        assert np.array_equal(y[:, t], bits[:, t - 2 : t + 1].sum(axis=1) % 2)
    assert np.all(mask[:, :2] == 0) and np.all(mask[:, 2:] == 1)
    x, y, mask = dl.delayed_xor(4, T=8, rng=2)
    bits = x.argmax(-1)
    assert np.array_equal(y[:, 2:], (bits[:, 1:-1] + bits[:, :-2]) % 2) and np.all(mask[:, :2] == 0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: dl.future_bits(0), "N must be >= 1"),
        (lambda: dl.future_bits(3, T=4, lag=4), "lag must be smaller than T = 4"),
        (lambda: dl.window_parity(3, T=4, k=5), "k must be at most T = 4"),
        (lambda: dl.param_formula("lstmm", 3, 4), "cell must be one of"),
    ],
)
def test_bad_values_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_types_are_named():
    with pytest.raises(TypeError, match="T must be an int, got float"):
        dl.future_bits(3, T=4.0)
    with pytest.raises(ValueError, match=r"one-hot bits, shape \(T, 2\), got shape \(2, 5, 2\)"):
        dl.influence("rnn", dl.init_tagger("rnn", 2, 3, 2, rng=0), np.zeros((2, 5, 2)))


# ------------------------------------------------------------------------------ parameter counts


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_parameter_formula_matches_the_arrays(cell, bidirectional):
    params = dl.init_tagger(cell, 7, 5, 2, num_layers=3, bidirectional=bidirectional, rng=0)
    assert dl.count_params(params["layers"]) == dl.param_formula(cell, 7, 5, 3, bidirectional)


# ------------------------------------------------------------------------- gradients (float64)


def _numeric(loss_of, params, eps=1e-6):
    """Central differences of ``loss_of(params)`` for every entry of every array in ``params``."""
    grads = {
        "layers": [{k: np.zeros_like(v) for k, v in p.items()} for p in params["layers"]],
        **{k: np.zeros_like(v) for k, v in params.items() if k != "layers"},
    }
    slots = [(grads["layers"][j][k], p[k]) for j, p in enumerate(params["layers"]) for k in p] + [
        (grads[k], params[k]) for k in params if k != "layers"
    ]
    for g, a in slots:
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + eps
            up = loss_of(params)
            a[i] = old - eps
            down = loss_of(params)
            a[i] = old
            g[i] = (up - down) / (2 * eps)
    return grads


def _max_rel_error(a, b):
    pairs = [
        (a["layers"][j][k], b["layers"][j][k]) for j in range(len(a["layers"])) for k in a["layers"][j]
    ] + [(a[k], b[k]) for k in a if k != "layers"]
    return max(np.abs(x - y).max() / max(1e-8, np.abs(x).max() + np.abs(y).max()) for x, y in pairs)


@pytest.mark.parametrize(
    "cell, layers, bidirectional", [("rnn", 2, True), ("gru", 2, False), ("lstm", 1, True)]
)
def test_tagger_gradients_match_numeric(cell, layers, bidirectional):
    params = dl.init_tagger(cell, 2, 3, 2, num_layers=layers, bidirectional=bidirectional, rng=4)
    x, y, mask = dl.future_bits(2, T=5, lag=2, rng=5)
    _, grads = dl.tagger_loss(cell, params, x, y, mask)
    numeric = _numeric(lambda p: dl.tagger_loss(cell, p, x, y, mask)[0], params)
    assert _max_rel_error(grads, numeric) < 1e-6


def test_seq2seq_gradients_reach_the_encoder_and_match_numeric():
    params = dl.init_seq2seq(3, 4, rng=6)
    src, tgt = dl.reverse_strings(2, length=3, V=3, rng=7)
    _, grads = dl.seq2seq_loss(params, src, tgt)
    numeric = _numeric(lambda p: dl.seq2seq_loss(p, src, tgt)[0], params)
    assert _max_rel_error(grads, numeric) < 1e-6
    assert np.abs(grads["layers"][0]["Wx"]).max() > 1e-4, (
        "the decoder's loss must reach the encoder through s_0"
    )


# ---------------------------------------------------------------------------------- training


@pytest.mark.parametrize("cell, layers", [("rnn", 2), ("gru", 1), ("lstm", 2)])
def test_seeds_side_by_side_equal_separate_runs(cell, layers):
    task = partial(dl.window_parity, T=6, k=3)
    together, losses = dl.train_tagger_seeds(
        cell, task, 3, num_layers=layers, seeds=[3, 8], steps=15, batch_size=4, data_seed=2
    )
    for m, seed in enumerate([3, 8]):
        alone, alone_losses = dl.train_tagger(
            cell, task, 3, num_layers=layers, steps=15, batch_size=4, clip=None, seed=seed, data_seed=2
        )
        assert np.allclose(losses[:, m], alone_losses, rtol=1e-10, atol=1e-12)
        for j in range(layers):
            for k in alone["layers"][j]:
                assert np.allclose(
                    together[m]["layers"][j][k], alone["layers"][j][k], rtol=1e-9, atol=1e-12
                ), (j, k)
        assert np.allclose(together[m]["Wy"], alone["Wy"], rtol=1e-9, atol=1e-12)


def test_greedy_decoding_starts_like_teacher_forcing_and_reverses_after_training():
    params, losses = dl.train_seq2seq(H=16, length=3, V=3, steps=150, seed=1)
    src, tgt = dl.reverse_strings(200, length=3, V=3, rng=9)
    out = dl.greedy_decode(params, src)
    assert out.shape == (200, 3) and out.dtype.kind == "i"
    # step 1 reads the start symbol in both modes, so its arg max is the same
    V = 3
    enc, dec = params["layers"]
    _, ecache = deep_forward("gru", np.eye(V)[src], None, [enc])
    hd, _ = deep_forward("gru", np.eye(V + 1)[np.full((200, 1), V)], ecache.h_n, [dec])
    assert np.array_equal(out[:, 0], (hd[:, 0] @ params["Wy"] + params["by"]).argmax(-1))
    assert losses[-10:].mean() < 0.5 * losses[:10].mean()
    assert (out == tgt).mean() > 0.9


# ----------------------------------------------------------------------- influence and change


@pytest.fixture(scope="module")
def taggers():
    task = partial(dl.future_bits, T=10, lag=2)
    return {
        d: dl.train_tagger("rnn", task, 8, bidirectional=(d == "bidirectional"), steps=120, seed=0)[0]
        for d in ("one-way", "bidirectional")
    }


def test_influence_is_zero_from_the_future_only_one_way(taggers):
    x, _, _ = dl.future_bits(1, T=10, rng=3)
    one = dl.influence("rnn", taggers["one-way"], x[0])
    two = dl.influence("rnn", taggers["bidirectional"], x[0])
    assert np.all(np.triu(one, 1) == 0) and np.all(np.diag(one) > 0)
    assert np.triu(two, 1).max() > 0.1
    # one entry by hand: flip the bit at s = 6 and look at the margin at t = 4
    flipped = x.copy()
    flipped[0, 6] = x[0, 6, ::-1]

    def margin(xx):
        return np.diff(dl.tagger_scores("rnn", taggers["bidirectional"], xx)[0][0, 4])[0]

    assert np.isclose(two[4, 6], abs(margin(flipped) - margin(x)))


def test_output_change_exactly_zero_for_a_later_input_one_way(taggers):
    x, _, _ = dl.future_bits(8, T=10, rng=4)
    assert dl.output_change("rnn", taggers["one-way"]["layers"], x, 2, 7) == 0.0
    assert dl.output_change("rnn", taggers["bidirectional"]["layers"], x, 2, 4, bidirectional=True) > 1e-3
    assert dl.output_change("rnn", taggers["one-way"]["layers"], x, 7, 6) > 1e-3  # the past does reach it


# ------------------------------------------------------------------------------------ explorer


def test_explorer_follows_its_controls(taggers):
    from rnncourse.viz.deep_explorer import influence_explorer

    x, _, _ = dl.future_bits(1, T=10, rng=3)
    e = influence_explorer("rnn", taggers, x[0], t=4)
    assert e.state["t"] == 4 and e.state["direction"] == "one-way" and e.state["future_share"] == 0.0
    png = e.png
    e.controls["direction"].value = "bidirectional"
    assert e.state["future_share"] > 0.2 and e.png != png
    heights = np.array([b.get_height() for b in e.artists["bars"]])
    assert np.allclose(heights, e.state["row"] / e.state["row"].sum())
    e.controls["t"].value = 10  # the last step: nothing after it
    assert e.state["future_share"] == 0.0 and e.artists["marker"].get_xdata()[0] == 10
    e.controls["t"].value = e.controls["t"].min
    assert e.state["past_share"] == 0.0
    assert len(e.timings) == 3
    with pytest.raises(ValueError, match="direction must be one of"):
        e.compute(t=3, direction="sideways")
    with pytest.raises(ValueError, match="models must have the keys"):
        influence_explorer("rnn", {"one-way": taggers["one-way"]}, x[0])


# -------------------------------------------------------------------------------- the lesson


def test_lesson_checks_pass_whatever_the_controls(monkeypatch):
    from test_lessons_first_hour_B import run_moved

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for end, (names, errors) in run_moved(ROOT / "notebooks" / "08_deep_bidirectional.ipynb").items():
        assert names == ["influence"], f"explorer not found: {names}"
        assert not errors, f"lesson 8 with every control at its {end}:\n" + "\n".join(errors)


def test_the_exercise_is_linked():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "08_deep_bidirectional.ipynb", as_version=4)
    last = nb.cells[-1].source
    # its Chinese key terms are checked against the glossary for every lesson (test_lessons_first_hour_A)
    assert "../exercises/ex8_deep_bidirectional.ipynb" in last
    assert "glossary.md" in nb.cells[0].source and "objectives" in nb.cells[0].source
