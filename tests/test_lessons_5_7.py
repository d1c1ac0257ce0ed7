"""Tests of what lessons 5-7 added: LSTM/GRU diagnostics, their explorers, and text sampling."""

import numpy as np
import pytest

from rnncourse import diagnostics as dg
from rnncourse.nn import init_cell_params, lstm_backward, lstm_forward, numeric_gradient
from rnncourse.viz import widgets as W
from widget_helpers import redraws as _redraws

# ---------------------------------------------------------------------------- diagnostics, lesson 5


@pytest.fixture
def lstm_case():
    rng = np.random.default_rng(0)
    T, D, H = 9, 2, 4
    p = init_cell_params("lstm", D, H, rng)
    return rng.normal(size=(T, D)), p["Wx"], p["Wh"], p["b"], rng.normal(size=H)


def test_run_lstm_matches_lstm_forward(lstm_case):
    x, Wx, Wh, b, c0 = lstm_case
    run = dg.run_lstm(x, Wx, Wh, b, c0=c0)
    h, cache = lstm_forward(x[None], None, Wx, Wh, b, c0=c0[None])
    np.testing.assert_allclose(run.h, h[0], atol=1e-14)
    assert run.f.shape == run.c.shape == (len(x), Wh.shape[0])
    np.testing.assert_allclose(run.h, run.o * np.tanh(run.c), atol=1e-15)


def test_lstm_cell_jacobians_k0_equals_backward_dc0(lstm_case):
    x, Wx, Wh, b, c0 = lstm_case
    H = Wh.shape[0]
    P = dg.lstm_cell_jacobians(x, Wx, Wh, b, c0=c0)
    assert P.shape == (len(x) + 1, H, H)
    np.testing.assert_array_equal(P[-1], np.eye(H))
    _, cache = lstm_forward(np.repeat(x[None], H, 0), None, Wx, Wh, b, c0=np.tile(c0, (H, 1)))
    dc0 = lstm_backward(np.zeros((H, len(x), H)), cache, dc_T=np.eye(H), return_dc0=True)[2]
    np.testing.assert_allclose(P[0], dc0, atol=1e-12)


def test_lstm_cell_jacobians_middle_step_numeric(lstm_case):
    x, Wx, Wh, b, c0 = lstm_case
    k = 4
    run = dg.run_lstm(x, Wx, Wh, b, c0=c0)
    P = dg.lstm_cell_jacobians(x, Wx, Wh, b, c0=c0)
    H = Wh.shape[0]
    num = np.stack(
        [
            numeric_gradient(
                lambda c: dg.run_lstm(x[k:], Wx, Wh, b, run.h[k - 1], c).c[-1],
                run.c[k - 1],
                dout=np.eye(H)[j],
            )
            for j in range(H)
        ]
    )
    np.testing.assert_allclose(P[k], num, atol=1e-8)


def test_without_Wh_the_cell_jacobian_is_the_forget_product(lstm_case):
    x, Wx, Wh, b, _ = lstm_case
    Wh0 = np.zeros_like(Wh)
    P = dg.lstm_cell_jacobians(x, Wx, Wh0, b)
    fp = dg.forget_products(dg.run_lstm(x, Wx, Wh0, b).f)
    np.testing.assert_allclose(P, fp[:, :, None] * np.eye(Wh.shape[0]), atol=1e-15)
    np.testing.assert_allclose(dg.matrix_norms(P), fp.max(axis=1), atol=1e-15)


def test_forget_products():
    f = np.array([[0.5, 1.0], [0.5, 0.9], [0.5, 0.8]])
    np.testing.assert_allclose(dg.forget_products(f), [[0.125, 0.72], [0.25, 0.72], [0.5, 0.8], [1, 1]])


# ---------------------------------------------------------------------------- explorer, lesson 5

# Built once per module, reset to the defaults before every test (so tests run in any order).


@pytest.fixture(scope="module")
def _lstm_ex():
    return W.lstm_gate_explorer()


@pytest.fixture
def lstm_ex(_lstm_ex):
    return _lstm_ex.reset()


def test_lstm_explorer_forget_bias_keeps_the_gradient(lstm_ex):
    ex = lstm_ex
    assert set(ex.controls) == {"forget_bias", "input_bias", "recurrent"}
    assert ex.state["b"][ex.H : 2 * ex.H].tolist() == [1.0] * ex.H
    low = ex.state["carousel"][0]
    plotted = ex.artists["grad"]["carousel"].get_ydata().copy()
    assert _redraws(ex, "forget_bias", 5.0)
    s = ex.state
    assert s["mean_f"] > 0.98 and s["carousel"][0] > 1e6 * low
    np.testing.assert_allclose(s["carousel"][0], np.prod(s["f"], axis=0).max())
    assert not np.allclose(ex.artists["grad"]["carousel"].get_ydata(), plotted)
    np.testing.assert_allclose(ex.artists["gates"]["f"].get_ydata(), s["f"].mean(axis=1))


def test_lstm_explorer_zero_Wh_leaves_only_the_carousel(lstm_ex):
    ex = lstm_ex
    assert not np.allclose(ex.state["cell_norms"], ex.state["carousel"])
    ex.controls["recurrent"].value = "zero"
    np.testing.assert_allclose(ex.state["cell_norms"], ex.state["carousel"], rtol=1e-10)
    np.testing.assert_allclose(ex.artists["grad"]["cell"].get_ydata(), ex.state["cell_norms"])


def test_lstm_explorer_input_bias_controls_writing_not_keeping(lstm_ex):
    ex = lstm_ex
    ex.controls["forget_bias"].value = 5.0
    c_big, car = np.abs(ex.state["c"]).max(), ex.state["carousel"].copy()
    ex.controls["input_bias"].value = -4.0
    assert ex.state["mean_i"] < 0.05 and np.abs(ex.state["c"]).max() < 0.1 * c_big
    np.testing.assert_allclose(ex.state["carousel"], car, rtol=0.2)  # barely moves
    line = ex.artists["cell"][0]
    np.testing.assert_allclose(line.get_ydata(), ex.state["c"][:, 0])


# ---------------------------------------------------------------------------- diagnostics, lesson 6


def test_run_gru_matches_gru_forward():
    from rnncourse.nn import gru_forward

    rng = np.random.default_rng(1)
    p = init_cell_params("gru", 2, 3, rng)
    bx, bh = rng.normal(size=9), rng.normal(size=9)
    x = rng.normal(size=(7, 2))
    run = dg.run_gru(x, p["Wx"], p["Wh"], bx, bh)
    h, _ = gru_forward(x[None], None, p["Wx"], p["Wh"], bx, bh)
    np.testing.assert_allclose(run.h, h[0], atol=1e-14)
    np.testing.assert_allclose(run.h[1:], (1 - run.z[1:]) * run.n[1:] + run.z[1:] * run.h[:-1], atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("D,H", [(1, 1), (3, 5), (32, 64)])
def test_param_counts_match_arrays(cell, D, H):
    count = {"rnn": dg.param_count_rnn, "gru": dg.param_count_gru, "lstm": dg.param_count_lstm}[cell]
    assert sum(a.size for a in init_cell_params(cell, D, H, rng=0).values()) == count(D, H)


def test_half_life_and_pulse_memory():
    mem = dg.pulse_memory(np.array([[0.0], [4.0], [3.0], [1.9]]), np.zeros((4, 1)))
    np.testing.assert_allclose(mem, [0, 4, 3, 1.9])
    assert dg.half_life(mem, 1) == 2 and dg.half_life(mem[:3], 1) is None


# ---------------------------------------------------------------------------- explorer, lesson 6


@pytest.fixture(scope="module")
def _gru_ex():
    return W.gru_memory_explorer()


@pytest.fixture
def gru_ex(_gru_ex):
    return _gru_ex.reset()


def test_gru_explorer_update_bias_lengthens_memory(gru_ex):
    ex = gru_ex
    assert set(ex.controls) == {"update_bias", "reset_bias"}
    assert ex.state["half_life"] == 1
    np.testing.assert_allclose(ex.state["memory"][: ex.pulse_at - 1], 0.0)  # nothing differs before the pulse
    plotted = ex.artists["memory"]["memory"].get_ydata().copy()
    assert _redraws(ex, "update_bias", 4.0)
    s = ex.state
    assert s["mean_z"] > 0.97 and s["half_life"] > 20
    np.testing.assert_allclose(s["bx"][ex.H : 2 * ex.H], 4.0)
    assert not np.allclose(ex.artists["memory"]["memory"].get_ydata(), plotted, equal_nan=True)
    np.testing.assert_allclose(ex.artists["gates"]["z"].get_ydata(), s["z"].mean(axis=1))
    ex.controls["update_bias"].value = 6.0
    assert ex.state["half_life"] is None and "> 55" in ex.artists["text"].get_text()


def test_gru_explorer_saturated_update_gate_copies(gru_ex):
    ex = gru_ex
    bx, bh = ex.biases(50.0, 0.0)
    run = dg.run_gru(ex.x, ex.Wx, ex.Wh, bx, bh)
    np.testing.assert_allclose(run.h, 0.0, atol=1e-15)  # z = 1 from h0 = 0: the state never moves


def test_gru_explorer_reset_gate(gru_ex):
    ex = gru_ex
    ex.controls["update_bias"].value = 2.0
    ex.controls["reset_bias"].value = -4.0
    low = ex.state["memory"][-1]
    assert ex.state["mean_r"] < 0.05
    ex.controls["reset_bias"].value = 4.0
    assert ex.state["memory"][-1] > 10 * low


# ---------------------------------------------------------------------------- textgen, lesson 7

from rnncourse import tasks, textgen  # noqa: E402
from rnncourse.nn import SequenceModel, softmax  # noqa: E402


@pytest.fixture(scope="module")
def char_model():
    vocab = tasks.CharVocab("abcde ")
    model = SequenceModel.create("lstm", vocab.size, 8, vocab.size, vocab_size=vocab.size, rng=0)
    return model, vocab


def test_temperature_zero_is_argmax():
    s = np.array([[0.1, 2.0, -1.0], [3.0, 3.0, 0.0]])
    np.testing.assert_array_equal(textgen.temperature_probs(s, 0), [[0, 1, 0], [1, 0, 0]])
    # small temperatures approach the limit; an exact tie is split evenly, the limit picks the first
    np.testing.assert_allclose(textgen.temperature_probs(s, 1e-3), [[0, 1, 0], [0.5, 0.5, 0]], atol=1e-12)
    np.testing.assert_allclose(textgen.temperature_probs(s, 1.0), softmax(s))
    assert textgen.sample_index(s[0], 0, rng=None) == 1  # no randomness needed


def test_temperature_one_matches_softmax_frequencies():
    s = np.array([1.0, 0.0, -1.0, 0.5])
    ids = textgen.sample_index(np.tile(s, (40000, 1)), 1.0, np.random.default_rng(0))
    freq = np.bincount(ids, minlength=4) / len(ids)
    p = softmax(s)
    se = np.sqrt(p * (1 - p) / len(ids))
    assert np.all(np.abs(freq - p) < 5 * se), (freq, p)


def test_high_temperature_flattens():
    s = np.array([2.0, 0.0, -2.0])
    assert textgen.temperature_probs(s, 100.0).max() < 0.36
    assert textgen.temperature_probs(s, 0.5)[0] > textgen.temperature_probs(s, 1.0)[0]


def test_sample_chars_greedy_equals_argmax_decoding(char_model):
    from rnncourse.nn import predict

    model, vocab = char_model
    greedy = textgen.sample_chars(model, vocab, "ab", 6, temperature=0)
    assert greedy == textgen.sample_chars(model, vocab, "ab", 6, temperature=0, rng=123)
    text = "ab"  # the same by re-reading the whole prefix each time
    for _ in range(6):
        text += vocab.chars[predict(model, vocab.encode(text)[None])[0, -1].argmax()]
    assert greedy == text[2:]
    assert textgen.sample_chars(model, vocab, "ab", 6, temperature=1e-9) == greedy


def test_sample_chars_is_reproducible_and_in_vocab(char_model):
    model, vocab = char_model
    a = textgen.sample_chars(model, vocab, "a", 30, temperature=1.5, rng=7)
    assert a == textgen.sample_chars(model, vocab, "a", 30, temperature=1.5, rng=np.random.default_rng(7))
    assert len(a) == 30 and set(a) <= set(vocab.chars)
    assert textgen.sample_chars(model, vocab, "a", 0) == ""


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(temperature=-1.0), "temperature"),
        (dict(temperature=float("nan")), "temperature"),
        (dict(temperature="hot"), "temperature"),
        (dict(start=""), "start"),
        (dict(start="xyz"), "not in the vocabulary"),
        (dict(n=-1), "n must"),
        (dict(n=2.5), "n must"),
        (dict(rng="seed"), "rng"),
    ],
)
def test_sample_chars_errors(char_model, kwargs, match):
    model, vocab = char_model
    args = dict(start="ab", n=3, temperature=1.0, rng=0) | kwargs
    with pytest.raises((TypeError, ValueError), match=match):
        textgen.sample_chars(model, vocab, **args)


def test_sample_chars_rejects_wrong_model(char_model):
    model, _ = char_model
    with pytest.raises(ValueError, match="vocab_size"):
        textgen.sample_chars(model, tasks.CharVocab("xyz"), "x", 2)
    feat = SequenceModel.create("rnn", 3, 4, 3)
    with pytest.raises(ValueError, match="token ids"):
        textgen.sample_chars(feat, tasks.CharVocab("xyz"), "x", 2)
    with pytest.raises(ValueError, match="finite"):
        textgen.temperature_probs(np.array([1.0, np.nan]), 1.0)


# ---------------------------------------------------------------------------- lesson 7: the lag sweep


def _fake_sweep():
    lags, steps = np.array([0, 10, 20]), np.arange(0, 1001, 250)
    acc = np.full((3, 2, 3, len(steps)), 0.5)
    acc[1] = np.linspace(0.5, 1.0, len(steps))  # the LSTM learns at every lag
    acc[0, :, 0] = 0.9  # the RNN only at lag 0
    return dg.ReberSweep(lags, ("rnn", "lstm", "gru"), np.array([0, 1]), steps, acc, 1 - acc, 16)


def test_shipped_reber_sweep_is_consistent():
    sw = dg.reber_lag_sweep()
    C, S, L, E = sw.critical_accuracy.shape
    assert sw.cells == ("rnn", "lstm", "gru") and (S, L, E) == (len(sw.seeds), len(sw.lags), len(sw.steps))
    assert np.all((sw.critical_accuracy >= 0) & (sw.critical_accuracy <= 1)) and sw.loss.shape == (C, S, L, E)
    far = sw.lags >= 10  # the fact lesson 7 teaches
    assert np.all(sw.critical_accuracy[0][:, far, -1] < 0.6)
    assert np.all(sw.critical_accuracy[1][:, far & (sw.lags <= 20), -1].max(axis=0) > 0.95)


def test_reber_lag_explorer_looks_results_up():
    sw = _fake_sweep()
    ex = W.reber_lag_explorer(sw)
    assert ex.state["lag"] == 10
    assert ex.state["final"] == {"rnn": 0.5, "lstm": 1.0, "gru": 0.5}
    assert _redraws(ex, "lag", 0)
    assert ex.state["final"]["rnn"] == pytest.approx(0.9)
    np.testing.assert_allclose(ex.artists["curves"]["rnn/1"].get_ydata(), sw.critical_accuracy[0, 1, 0])
    np.testing.assert_allclose(ex.artists["marker"]["marker"].get_xdata(), [0, 0])
    ex.controls["lag"].value = 20
    np.testing.assert_allclose(ex.state["curves"], sw.critical_accuracy[:, :, 2])


def test_input_gradient_norms_match_a_finite_difference():
    from rnncourse.nn import SequenceModel, evaluate

    task = tasks.adding(T=6)
    batch = task.sample(3, np.random.default_rng(0))
    model = SequenceModel.for_task("gru", task, 4, rng=0)
    g = dg.input_gradient_norms(model, batch)
    assert g.shape == (6,) and np.all(g > 0)

    # the norm at step 1 from finite differences of the loss (forward_loss's scale: sum over T, mean over N)
    def loss(x1):
        x = batch.x.copy()
        x[:, 0] = x1
        return evaluate(model, tasks.Batch(x, batch.y, batch.mask))["loss"]

    num = numeric_gradient(loss, batch.x[:, 0].copy())
    np.testing.assert_allclose(g[0], np.linalg.norm(num, axis=-1).mean(), rtol=1e-5)


def test_lstm_explorer_cell_axis_fits_the_states_shown(lstm_ex):
    """One fixed +-30 range left the settings the questions ask about as flat lines (outside
    tester): the axis follows the states, in steps, and always contains them."""
    ex = lstm_ex
    small = ex.axes["cell"].get_ylim()[1]
    assert np.abs(ex.state["c"]).max() <= small < 10, small
    ex.controls["forget_bias"].value = ex.controls["forget_bias"].max
    ex.controls["input_bias"].value = ex.controls["input_bias"].max
    big = ex.axes["cell"].get_ylim()[1]
    assert np.abs(ex.state["c"]).max() <= big and big > 4 * small, (small, big)
    ex.reset()
    assert ex.axes["cell"].get_ylim()[1] == small
