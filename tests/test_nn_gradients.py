"""Float64 numeric gradient checks for every backward function of the core.

Each check perturbs one input with central differences and compares with the analytic gradient;
all relative errors must stay below 1e-7.
"""

import numpy as np
import pytest

from rnncourse import nn

TOL = 1e-7


def _rng(seed=0):
    return np.random.default_rng(seed)


def _assert_close(name, numeric, analytic):
    err = nn.rel_error(numeric, analytic)
    assert err < TOL, f"{name}: rel_error {err:.2e}\nnumeric:\n{numeric}\nanalytic:\n{analytic}"


def _step_inputs(cell, N=3, D=4, H=5, seed=0):
    rng = _rng(seed)
    G = nn.CELLS[cell].gates
    inp = {
        "x": rng.normal(size=(N, D)),
        "h_prev": rng.normal(size=(N, H)),
        "Wx": rng.normal(scale=0.5, size=(D, G * H)),
        "Wh": rng.normal(scale=0.5, size=(H, G * H)),
    }
    if cell == "lstm":
        inp["c_prev"] = rng.normal(size=(N, H))
    if cell == "gru":
        inp["bx"] = rng.normal(size=G * H)
        inp["bh"] = rng.normal(size=G * H)
    else:
        inp["b"] = rng.normal(size=G * H)
    return inp


def test_rnn_step_backward():
    inp = _step_inputs("rnn")
    dh = _rng(1).normal(size=(3, 5))
    h, cache = nn.rnn_step_forward(**inp)
    dx, dh_prev, dWx, dWh, db = nn.rnn_step_backward(dh, cache)
    errs = nn.check_gradients(
        lambda **kw: nn.rnn_step_forward(**kw)[0],
        inp,
        {"x": dx, "h_prev": dh_prev, "Wx": dWx, "Wh": dWh, "b": db},
        dout=dh,
    )
    assert max(errs.values()) < TOL, errs


def test_lstm_step_backward_both_outputs():
    inp = _step_inputs("lstm")
    rng = _rng(2)
    dh, dc = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    h, c, cache = nn.lstm_step_forward(**inp)
    dx, dh_prev, dc_prev, dWx, dWh, db = nn.lstm_step_backward(dh, dc, cache)

    def f(**kw):  # scalar <h, dh> + <c, dc> covers both outputs
        hh, cc, _ = nn.lstm_step_forward(**kw)
        return np.sum(hh * dh) + np.sum(cc * dc)

    errs = nn.check_gradients(
        f, inp, {"x": dx, "h_prev": dh_prev, "c_prev": dc_prev, "Wx": dWx, "Wh": dWh, "b": db}
    )
    assert max(errs.values()) < TOL, errs


def test_gru_step_backward():
    inp = _step_inputs("gru")
    dh = _rng(3).normal(size=(3, 5))
    h, cache = nn.gru_step_forward(**inp)
    dx, dh_prev, dWx, dWh, dbx, dbh = nn.gru_step_backward(dh, cache)
    errs = nn.check_gradients(
        lambda **kw: nn.gru_step_forward(**kw)[0],
        inp,
        {"x": dx, "h_prev": dh_prev, "Wx": dWx, "Wh": dWh, "bx": dbx, "bh": dbh},
        dout=dh,
    )
    assert max(errs.values()) < TOL, errs


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("N,T,D,H", [(2, 4, 3, 5), (1, 1, 2, 1), (3, 6, 1, 2)])
def test_sequence_backward(cell, N, T, D, H):
    rng = _rng(N * 100 + T)
    spec = nn.get_cell(cell)
    params = nn.init_cell_params(cell, D, H, rng, recurrent="normal", scale=1.5)
    params = {k: v + rng.normal(scale=0.3, size=v.shape) for k, v in params.items()}
    inp = {"x": rng.normal(size=(N, T, D)), "h0": rng.normal(size=(N, H)), **params}
    dh = rng.normal(size=(N, T, H))
    h, cache = spec.forward(*[inp[k] for k in ("x", "h0") + spec.param_names])
    grads = spec.backward(dh, cache)
    analytic = dict(zip(("x", "h0") + spec.param_names, grads, strict=True))

    def f(**kw):
        return spec.forward(*[kw[k] for k in ("x", "h0") + spec.param_names])[0]

    errs = nn.check_gradients(f, inp, analytic, dout=dh)
    assert max(errs.values()) < TOL, errs


def test_lstm_backward_initial_cell_and_final_cell_gradient():
    rng = _rng(7)
    N, T, D, H = 2, 5, 3, 4
    p = {
        "Wx": rng.normal(size=(D, 4 * H)),
        "Wh": rng.normal(size=(H, 4 * H)) * 0.5,
        "b": rng.normal(size=4 * H),
    }
    inp = {"x": rng.normal(size=(N, T, D)), "h0": rng.normal(size=(N, H)), "c0": rng.normal(size=(N, H)), **p}
    dh, dcT = rng.normal(size=(N, T, H)), rng.normal(size=(N, H))
    h, cache = nn.lstm_forward(**inp)
    dx, dh0, dc0, dWx, dWh, db = nn.lstm_backward(dh, cache, dc_T=dcT, return_dc0=True)

    def f(**kw):
        hh, cc = nn.lstm_forward(**kw)
        return np.sum(hh * dh) + np.sum(nn.lstm_final_cell(cc) * dcT)

    errs = nn.check_gradients(f, inp, {"x": dx, "h0": dh0, "c0": dc0, "Wx": dWx, "Wh": dWh, "b": db})
    assert max(errs.values()) < TOL, errs


def test_sequence_matches_repeated_steps():
    """The fast sequence kernels equal the step functions applied in a loop."""
    rng = _rng(11)
    N, T, D, H = 2, 4, 3, 3
    for cell in ("rnn", "lstm", "gru"):
        params = nn.init_cell_params(cell, D, H, rng)
        x, h = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
        hs, _ = nn.sequence_forward(cell, x, h, params)
        c = np.zeros((N, H))
        for t in range(T):
            if cell == "rnn":
                h, _ = nn.rnn_step_forward(x[:, t], h, **params)
            elif cell == "lstm":
                h, c, _ = nn.lstm_step_forward(x[:, t], h, c, **params)
            else:
                h, _ = nn.gru_step_forward(x[:, t], h, **params)
            np.testing.assert_allclose(hs[:, t], h, rtol=1e-12, atol=1e-12)


def test_layers_gradients():
    rng = _rng(5)
    N, T, H, K, V = 3, 4, 5, 6, 7
    h = rng.normal(size=(N, T, H))
    W, b = rng.normal(size=(H, K)), rng.normal(size=K)
    dout = rng.normal(size=(N, T, K))
    out, cache = nn.temporal_affine_forward(h, W, b)
    dh, dW, db = nn.temporal_affine_backward(dout, cache)
    errs = nn.check_gradients(
        lambda **kw: nn.temporal_affine_forward(**kw)[0],
        {"h": h, "W": W, "b": b},
        {"h": dh, "W": dW, "b": db},
        dout=dout,
    )
    assert max(errs.values()) < TOL, errs

    idx = rng.integers(0, V, size=(N, T))
    We = rng.normal(size=(V, H))
    dE = rng.normal(size=(N, T, H))
    _, ecache = nn.embedding_forward(idx, We)
    num = nn.numeric_gradient(lambda w: nn.embedding_forward(idx, w)[0], We, dE)
    _assert_close("embedding", num, nn.embedding_backward(dE, ecache))

    scores = rng.normal(size=(N, T, V))
    y = rng.integers(0, V, size=(N, T))
    mask = (rng.random((N, T)) > 0.3).astype(float)
    y_masked = np.where(mask > 0, y, -1)  # targets under a zero mask are ignored
    loss, ds = nn.temporal_softmax_loss(scores, y_masked, mask)
    _assert_close(
        "softmax loss",
        nn.numeric_gradient(lambda s: nn.temporal_softmax_loss(s, y_masked, mask)[0], scores),
        ds,
    )

    pred, target = rng.normal(size=(N, T, 2)), rng.normal(size=(N, T, 2))
    loss, dp = nn.mse_loss(pred, target, mask)
    _assert_close("mse", nn.numeric_gradient(lambda p: nn.mse_loss(p, target, mask)[0], pred), dp)


def test_model_forward_loss_gradients():
    """End to end: embedding -> LSTM -> readout -> masked softmax loss."""
    rng = _rng(9)
    model = nn.SequenceModel.create("lstm", 5, 4, 5, vocab_size=5, embed_dim=3, rng=rng)
    x = rng.integers(0, 5, size=(2, 6))
    y = rng.integers(0, 5, size=(2, 6))
    mask = np.ones((2, 6))
    mask[0, :2] = 0
    loss, grads, _, _ = nn.forward_loss(model, x, y, mask)
    for name, p in model.params.items():

        def f(v, name=name):
            return nn.forward_loss(model, x, y, mask, params={**model.params, name: v})[0]

        _assert_close(name, nn.numeric_gradient(f, p), grads[name])
