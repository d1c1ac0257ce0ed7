"""Properties of the cells that a lesson states, checked numerically, and purity (no mutation)."""

import numpy as np
import pytest

from rnncourse import nn

CELLS = ["rnn", "lstm", "gru"]


def test_rnn_with_zero_recurrence_is_a_per_step_feedforward_layer():
    rng = np.random.default_rng(0)
    N, T, D, H = 3, 6, 4, 5
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    Wx, b = rng.normal(size=(D, H)), rng.normal(size=H)
    h, _ = nn.rnn_forward(x, h0, Wx, np.zeros((H, H)), b)
    np.testing.assert_allclose(h, np.tanh(x @ Wx + b), rtol=0, atol=1e-14)
    # and each step depends on its own input only: permuting time permutes the outputs
    perm = rng.permutation(T)
    hp, _ = nn.rnn_forward(x[:, perm], h0, Wx, np.zeros((H, H)), b)
    np.testing.assert_allclose(hp, h[:, perm], atol=1e-14)


def test_lstm_forget_open_input_shut_keeps_the_cell():
    rng = np.random.default_rng(1)
    N, T, D, H = 2, 8, 3, 4
    Wx = np.zeros((D, 4 * H))
    Wh = np.zeros((H, 4 * H))
    b = np.zeros(4 * H)
    b[:H] = -1000.0  # input gate shut
    b[H : 2 * H] = 1000.0  # forget gate open
    b[2 * H :] = rng.normal(size=2 * H)
    c0 = rng.normal(size=(N, H))
    h, cache = nn.lstm_forward(rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), Wx, Wh, b, c0=c0)
    for t in range(T):
        np.testing.assert_array_equal(cache.c[t], c0)
    np.testing.assert_array_equal(nn.lstm_final_cell(cache), c0)


def test_gru_update_gate_saturated_copies_the_state():
    rng = np.random.default_rng(2)
    N, T, D, H = 2, 7, 3, 4
    params = nn.init_cell_params("gru", D, H, rng)
    params["bx"] = params["bx"].copy()
    params["bx"][H : 2 * H] = 1000.0  # z = 1: h_t = h_{t-1}
    h0 = rng.normal(size=(N, H))
    h, _ = nn.gru_forward(rng.normal(size=(N, T, D)), h0, **params)
    for t in range(T):
        np.testing.assert_allclose(h[:, t], h0, rtol=0, atol=1e-12)


def test_stable_nonlinearities_do_not_overflow():
    a = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is exact enough
        s = nn.sigmoid(a)
        p = nn.softmax(np.stack([a, -a]))
        lp = nn.log_softmax(a)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert nn.sigmoid(0.0) == 0.5 and nn.sigmoid(np.float32(-1000)) == 0.0  # scalars work too
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(axis=1), 1.0)
    assert np.all(np.isfinite(lp))
    loss, d = nn.temporal_softmax_loss(np.array([[[1000.0, -1000.0]]]), np.array([[1]]))
    assert np.isfinite(loss) and loss == pytest.approx(2000.0)


def _snapshot(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


@pytest.mark.parametrize("cell", CELLS)
def test_no_function_mutates_its_inputs(cell):
    rng = np.random.default_rng(3)
    N, T, D, H = 2, 5, 3, 4
    params = nn.init_cell_params(cell, D, H, rng)
    spec = nn.get_cell(cell)
    x, h0, dh = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, T, H))
    args = [x, h0, *[params[k] for k in spec.param_names]]
    before = _snapshot(args)
    h, cache = spec.forward(*args)
    dh_before = dh.copy()
    spec.backward(dh, cache)
    for a, b in zip(args, before, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dh, dh_before)
    # step functions
    xs, hp = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    d1 = rng.normal(size=(N, H))
    if cell == "rnn":
        sargs = [xs, hp, params["Wx"], params["Wh"], params["b"]]
        sb = _snapshot(sargs + [d1])
        _, c = nn.rnn_step_forward(*sargs)
        nn.rnn_step_backward(d1, c)
    elif cell == "lstm":
        cp = rng.normal(size=(N, H))
        sargs = [xs, hp, cp, params["Wx"], params["Wh"], params["b"]]
        sb = _snapshot(sargs + [d1])
        _, _, c = nn.lstm_step_forward(*sargs)
        nn.lstm_step_backward(d1, d1, c)
    else:
        sargs = [xs, hp, params["Wx"], params["Wh"], params["bx"], params["bh"]]
        sb = _snapshot(sargs + [d1])
        _, c = nn.gru_step_forward(*sargs)
        nn.gru_step_backward(d1, c)
    for a, b in zip(sargs + [d1], sb, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", CELLS)
def test_truncated_bptt(cell):
    rng = np.random.default_rng(4)
    N, T, D, H = 2, 9, 3, 4
    params = nn.init_cell_params(cell, D, H, rng, scale=1.2)
    x, h0, dh = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, T, H))
    h_full, cache = nn.sequence_forward(cell, x, h0, params)
    dx_full, _, _, g_full = nn.sequence_backward(cell, dh, cache)
    # k >= T: identical to full BPTT
    h, dx, g = nn.truncated_bptt(cell, x, h0, params, dh, k=T)
    np.testing.assert_allclose(h, h_full, atol=1e-13)
    for k in g:
        np.testing.assert_allclose(g[k], g_full[k], atol=1e-12)
    # k < T: same forward pass, but a different (truncated) gradient
    h, dx, g = nn.truncated_bptt(cell, x, h0, params, dh, k=3)
    np.testing.assert_allclose(h, h_full, atol=1e-13)
    assert not np.allclose(g["Wh"], g_full["Wh"])
    # the last chunk's input gradient is exact (nothing comes after it to cut)
    np.testing.assert_allclose(dx[:, 6:], dx_full[:, 6:], atol=1e-12)
    # an upstream gradient only at the last step cannot reach steps before the last chunk
    dh_last = np.zeros_like(dh)
    dh_last[:, -1] = 1.0
    _, dx, _ = nn.truncated_bptt(cell, x, h0, params, dh_last, k=3)
    assert np.all(dx[:, :6] == 0) and np.any(dx[:, 6:] != 0)


def test_gradcheck_catches_a_wrong_gradient():
    """The checker itself can fail: a backward that drops `+ dh_next` is reported."""
    rng = np.random.default_rng(5)
    N, T, D, H = 2, 4, 3, 3
    p = nn.init_cell_params("rnn", D, H, rng, scale=1.0)
    x, h0, dh = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, T, H))
    _, cache = nn.rnn_forward(x, h0, **p)

    def wrong_backward(dh, cache):
        xs, h0, Wx, Wh, h = cache
        dWh = np.zeros_like(Wh)
        for t in range(T):
            da = dh[:, t] * (1 - h[:, t] ** 2)  # no + dh_next
            hp = h0 if t == 0 else h[:, t - 1]
            dWh += hp.T @ da
        return dWh

    num = nn.numeric_gradient(lambda W: nn.rnn_forward(x, h0, p["Wx"], W, p["b"])[0], p["Wh"], dh)
    assert nn.rel_error(num, wrong_backward(dh, cache)) > 1e-2
    assert nn.rel_error(num, nn.rnn_backward(dh, cache)[3]) < 1e-7


def test_float32_runs_in_float32():
    rng = np.random.default_rng(6)
    for cell in CELLS:
        p = {k: v.astype(np.float32) for k, v in nn.init_cell_params(cell, 3, 4, rng).items()}
        x = rng.normal(size=(2, 5, 3)).astype(np.float32)
        h, cache = nn.sequence_forward(cell, x, None, p)
        assert h.dtype == np.float32
        dx, dh0, _, g = nn.sequence_backward(cell, np.ones_like(h), cache)
        assert dx.dtype == np.float32 and all(v.dtype == np.float32 for v in g.values())


def test_public_names_are_listed_once_and_are_not_modules():
    import types

    listed = nn.__all__
    assert len(listed) == len(set(listed)), sorted(n for n in listed if listed.count(n) > 1)
    modules = [n for n in listed if isinstance(getattr(nn, n), types.ModuleType)]
    assert modules == [], f"submodules in __all__: {modules}"
    public = {
        n for n in dir(nn) if not n.startswith("_") and not isinstance(getattr(nn, n), types.ModuleType)
    }
    assert public == set(listed), f"not in __all__: {sorted(public - set(listed))}"
    star = {}
    exec("from rnncourse.nn import *", star)
    assert "rnn" not in star and "init" not in star and "model" not in star
    assert "rnn_forward" in star and "rnn_forward_loop" in star


def test_gate_counts_come_from_CELLS():
    # init, conversion and the tests read the number of stacked gate blocks from one table
    for name, spec in nn.CELLS.items():
        p = nn.init_cell_params(name, 3, 5, rng=0)
        assert p["Wx"].shape == (3, spec.gates * 5) and p["Wh"].shape == (5, spec.gates * 5)
        t = nn.to_torch(name, p)
        back = nn.from_torch(name, t["weight_ih"], t["weight_hh"], t["bias_ih"], t["bias_hh"])
        assert all(np.array_equal(back[k], p[k]) for k in p)
    assert {n: s.gates for n, s in nn.CELLS.items()} == {"rnn": 1, "lstm": 4, "gru": 3}
