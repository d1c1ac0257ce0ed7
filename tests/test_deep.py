"""Deep and bidirectional networks: float64 gradient checks, properties and errors."""

from __future__ import annotations

import numpy as np
import pytest

from rnncourse.nn import check_gradients, init_cell_params, sequence_backward, sequence_forward
from rnncourse.nn.deep import deep_backward, deep_forward, layers_from_torch, layers_to_torch

CELLS = ("rnn", "lstm", "gru")


def _net(cell, L, bidirectional, N=2, T=4, D=3, H=2, seed=0):
    rng = np.random.default_rng(seed)
    dirs = 2 if bidirectional else 1
    layers = []
    for j in range(L * dirs):
        p = init_cell_params(cell, D if j < dirs else dirs * H, H, rng)
        for k in p:  # non-zero biases so that every bias gradient is exercised
            p[k] = p[k] + rng.uniform(-0.5, 0.5, size=p[k].shape)
        layers.append(p)
    x = rng.standard_normal((N, T, D))
    h0 = 0.5 * rng.standard_normal((L * dirs, N, H))
    c0 = 0.5 * rng.standard_normal((L * dirs, N, H)) if cell == "lstm" else None
    up = {
        "dh": rng.standard_normal((N, T, dirs * H)),
        "dh_n": rng.standard_normal((L * dirs, N, H)),
        "dc_n": rng.standard_normal((L * dirs, N, H)) if cell == "lstm" else None,
    }
    return layers, x, h0, c0, up


def _errors(cell, L, bidirectional, wrong=None):
    """Relative errors of deep_backward (or of a deliberately wrong variant) against numeric ones."""
    layers, x, h0, c0, up = _net(cell, L, bidirectional)
    flat = {f"p{j}_{k}": v for j, p in enumerate(layers) for k, v in p.items()}
    inputs = {"x": x, "h0": h0, **flat}
    if c0 is not None:
        inputs["c0"] = c0

    def loss(x, h0, c0=None, **ps):
        lay = [{k: ps[f"p{j}_{k}"] for k in layers[j]} for j in range(len(layers))]
        h, cache = deep_forward(cell, x, h0, lay, c0=c0, bidirectional=bidirectional)
        out = np.sum(h * up["dh"]) + np.sum(cache.h_n * up["dh_n"])
        return out + (np.sum(cache.c_n * up["dc_n"]) if c0 is not None else 0.0)

    h, cache = deep_forward(cell, x, h0, layers, c0=c0, bidirectional=bidirectional)
    dh_n = None if wrong == "forgot dh_n" else up["dh_n"]
    res = deep_backward(up["dh"], cache, dh_n=dh_n, dc_n=up["dc_n"])
    if c0 is not None:
        dx, dh0, dc0, dlayers = res
    else:
        (dx, dh0, dlayers), dc0 = res, None
    if wrong == "swapped directions":
        dlayers[0], dlayers[1] = dlayers[1], dlayers[0]
    analytic = {"x": dx, "h0": dh0, **{f"p{j}_{k}": v for j, g in enumerate(dlayers) for k, v in g.items()}}
    if dc0 is not None:
        analytic["c0"] = dc0
    return check_gradients(loss, inputs, analytic)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
def test_deep_backward_gradient_check(cell, bidirectional):
    errors = _errors(cell, 2, bidirectional)
    worst = max(errors, key=errors.get)
    assert errors[worst] < 1e-7, f"{worst}: relative error {errors[worst]:.2e}"


@pytest.mark.parametrize("wrong, culprit", [("forgot dh_n", "h0"), ("swapped directions", "p0_Wx")])
def test_gradient_check_catches_a_wrong_backward(wrong, culprit):
    # the check above can fail: a backward that drops the final-state gradient, or that hands the
    # reverse direction's gradients to the forward one, is far off
    errors = _errors("lstm", 2, True, wrong=wrong)
    assert errors[culprit] > 1e-2, errors


@pytest.mark.parametrize("cell", CELLS)
def test_one_layer_unidirectional_equals_the_sequence_functions(cell):
    layers, x, h0, c0, up = _net(cell, 1, False)
    h, cache = deep_forward(cell, x, h0, layers, c0=c0)
    h_ref, cache_ref = sequence_forward(cell, x, h0[0], layers[0], None if c0 is None else c0[0])
    np.testing.assert_array_equal(h, h_ref)
    np.testing.assert_array_equal(cache.h_n[0], h_ref[:, -1])
    res = deep_backward(up["dh"], cache)
    dx_ref, dh0_ref, dc0_ref, g_ref = sequence_backward(cell, up["dh"], cache_ref)
    np.testing.assert_allclose(res[0], dx_ref, rtol=0, atol=1e-14)
    np.testing.assert_allclose(res[1][0], dh0_ref, rtol=0, atol=1e-14)
    if cell == "lstm":
        np.testing.assert_allclose(res[2][0], dc0_ref, rtol=0, atol=1e-14)
    for k, v in g_ref.items():
        np.testing.assert_allclose(res[-1][0][k], v, rtol=0, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_reverse_direction_is_the_forward_one_on_the_flipped_sequence(cell):
    layers, x, h0, c0, _ = _net(cell, 1, True, T=6)
    H = h0.shape[-1]
    h, cache = deep_forward(cell, x, h0, layers, c0=c0, bidirectional=True)
    rev, rcache = sequence_forward(cell, x[:, ::-1].copy(), h0[1], layers[1], None if c0 is None else c0[1])
    np.testing.assert_allclose(h[:, :, H:], rev[:, ::-1], rtol=0, atol=1e-14)
    # PyTorch's h_n of the reverse direction: its state after reading the whole sequence backwards
    np.testing.assert_allclose(cache.h_n[1], h[:, 0, H:], rtol=0, atol=1e-14)
    fwd, _ = sequence_forward(cell, x, h0[0], layers[0], None if c0 is None else c0[0])
    np.testing.assert_allclose(h[:, :, :H], fwd, rtol=0, atol=1e-14)


def test_stacking_feeds_each_layer_the_output_below():
    layers, x, h0, _, _ = _net("gru", 3, False)
    h, cache = deep_forward("gru", x, h0, layers)
    inp = x
    for j in range(3):
        inp, _ = sequence_forward("gru", inp, h0[j], layers[j])
        np.testing.assert_allclose(cache.h_n[j], inp[:, -1], rtol=0, atol=1e-14)
    np.testing.assert_allclose(h, inp, rtol=0, atol=1e-14)


def test_inputs_are_not_modified():
    layers, x, h0, c0, up = _net("lstm", 2, True)
    copies = [a.copy() for a in (x, h0, c0, up["dh"], up["dh_n"], up["dc_n"])]
    pcopies = [{k: v.copy() for k, v in p.items()} for p in layers]
    _, cache = deep_forward("lstm", x, h0, layers, c0=c0, bidirectional=True)
    deep_backward(up["dh"], cache, dh_n=up["dh_n"], dc_n=up["dc_n"])
    for a, b in zip((x, h0, c0, up["dh"], up["dh_n"], up["dc_n"]), copies):
        np.testing.assert_array_equal(a, b)
    for p, q in zip(layers, pcopies):
        for k in p:
            np.testing.assert_array_equal(p[k], q[k])


def test_zero_initial_states_by_default():
    layers, x, h0, c0, _ = _net("lstm", 2, True)
    a, _ = deep_forward("lstm", x, None, layers, bidirectional=True)
    b, _ = deep_forward("lstm", x, np.zeros_like(h0), layers, c0=np.zeros_like(c0), bidirectional=True)
    np.testing.assert_array_equal(a, b)


def test_torch_names_round_trip():
    layers, *_ = _net("gru", 2, True)
    sd = layers_to_torch("gru", layers, bidirectional=True)
    assert list(sd)[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert "weight_hh_l1_reverse" in sd and sd["weight_ih_l1"].shape == (6, 4)
    back = layers_from_torch("gru", sd)
    for p, q in zip(layers, back):
        for k in p:
            np.testing.assert_array_equal(p[k], q[k])


def _bad(**change):
    layers, x, h0, c0, _ = _net("rnn", 2, True)
    args = dict(cell="rnn", x=x, h0=h0, layers=layers, c0=None, bidirectional=True)
    args.update(change)
    return args


@pytest.mark.parametrize(
    "change, exc, words",
    [
        (dict(cell="elman"), ValueError, "cell must be one of"),
        (dict(x=np.zeros((4, 3))), ValueError, "x must have shape (N, T, D)"),
        (dict(layers={"Wx": 1}), TypeError, "layers must be a list"),
        (dict(layers=[{}] * 3), ValueError, "num_layers * 2"),
        (
            dict(h0=np.zeros((2, 2, 2))),
            ValueError,
            "h0 must have shape (num_layers*directions, N, H) = (4, 2, 2)",
        ),
        (dict(c0=np.zeros((4, 2, 2))), ValueError, "no cell state"),
        (dict(bidirectional=1), TypeError, "bidirectional must be True or False"),
        (
            dict(bidirectional=False, h0=None),
            ValueError,
            "layers[1] (l1)['Wx'] must have shape (H, H) = (2, 2)",
        ),
        (dict(x=np.zeros((2, 4, 5))), ValueError, "layers[0] (l0)['Wx'] must have shape (D, H) = (5, 2)"),
        (dict(x="abc"), TypeError, "x must be a numeric"),
    ],
)
def test_clear_errors(change, exc, words):
    with pytest.raises(exc) as info:
        deep_forward(**_bad(**change))
    assert words in str(info.value)


def test_clear_errors_backward_and_torch():
    layers, x, h0, c0, up = _net("rnn", 2, False)
    h, cache = deep_forward("rnn", x, h0, layers)
    with pytest.raises(ValueError, match=r"dh must have shape \(N, T, directions\*H\) = \(2, 4, 2\)"):
        deep_backward(up["dh"][:, :3], cache)
    with pytest.raises(ValueError, match="dc_n was given"):
        deep_backward(up["dh"], cache, dc_n=np.zeros((2, 2, 2)))
    with pytest.raises(TypeError, match="DeepCache"):
        deep_backward(up["dh"], (1, 2))
    with pytest.raises(ValueError, match="no 'weight_ih_l0'"):
        layers_from_torch("rnn", {"weight": np.zeros(3)})
    sd = layers_to_torch("rnn", layers)
    del sd["bias_hh_l1"]
    with pytest.raises(ValueError, match="bias_hh_l1"):
        layers_from_torch("rnn", sd)
