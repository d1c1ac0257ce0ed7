"""Check the NumPy core against PyTorch golden files (no torch needed).

The ``.npz`` files in ``tests/golden/`` were produced by
``tests/golden/generate_golden.py`` from ``torch.nn.RNN`` / ``LSTM`` / ``GRU``
(see ``tests/golden/README.md`` for the keys and the loss). Here we feed the
same inputs to ``rnncourse.nn`` and require every output and every gradient to
agree to ``ATOL`` (max absolute difference, float64).

Layout conversion (PyTorch -> course): ``Wx = weight_ih.T``, ``Wh = weight_hh.T``;
RNN and LSTM use one bias ``b = bias_ih + bias_hh`` (so torch's two bias
gradients both equal our ``db``); the GRU keeps ``bx = bias_ih``, ``bh = bias_hh``.
The loss had a ``dh_n`` term on the final hidden state; since ``h[:, -1]`` is
``h_n`` we add ``dh_n`` to ``dout[:, -1]``.
"""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

import rnncourse.nn as rnn_nn

ATOL = 1e-10
GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
GOLDEN_FILES = sorted(glob.glob(os.path.join(GOLDEN_DIR, "*.npz")))
CELLS = ("rnn", "lstm", "gru")


def _cell_of(path):
    return os.path.basename(path).split("_", 1)[0]


def _load(path):
    with np.load(path) as data:  # plain float64 arrays, no pickles
        return {k: data[k] for k in data.files}


def assert_close(name, ours, theirs, atol=ATOL):
    """Max-abs-diff comparison that prints both sides when it fails."""
    ours = np.asarray(ours)
    theirs = np.asarray(theirs)
    assert ours.shape == theirs.shape, (
        f"{name}: shape {ours.shape} (rnncourse) != {theirs.shape} (torch golden)"
    )
    diff = np.abs(ours - theirs)
    err = float(diff.max()) if diff.size else 0.0
    if not err <= atol:  # also catches NaN
        where = np.unravel_index(int(np.nanargmax(diff)), diff.shape) if diff.size else ()
        with np.printoptions(precision=14, linewidth=120, threshold=200):
            msg = (
                f"{name}: max |rnncourse - torch| = {err:.3e} > {atol:.0e} "
                f"at index {where}\n"
                f"rnncourse[{where}] = {ours[where]!r}, torch[{where}] = {theirs[where]!r}\n"
                f"--- rnncourse {name} ---\n{ours}\n--- torch {name} ---\n{theirs}"
            )
        print(msg)
        pytest.fail(msg, pytrace=False)


def _params(cell, g):
    """Our parameters from the golden (PyTorch-layout) ones, converted by hand."""
    p = {"Wx": g["weight_ih"].T.copy(), "Wh": g["weight_hh"].T.copy()}
    if cell == "gru":
        p["bx"] = g["bias_ih"].copy()
        p["bh"] = g["bias_hh"].copy()
    else:
        p["b"] = g["bias_ih"] + g["bias_hh"]
    return p


def _upstream(g):
    dh = g["dout"].copy()
    dh[:, -1] += g["dh_n"]
    return dh


def _snapshot(*arrays):
    return [np.array(a, copy=True) for a in arrays]


def _assert_unchanged(names, before, after):
    for name, b, a in zip(names, before, after, strict=True):
        assert np.array_equal(a, b), f"{name} was modified in place by the core"


# --------------------------------------------------------------------------
# the golden files themselves


def test_golden_files_present():
    names = {os.path.basename(p) for p in GOLDEN_FILES}
    assert len(GOLDEN_FILES) == 19, sorted(names)
    assert "lstm_zero_c0_N2_T3_D4_H5.npz" in names
    for cell in CELLS:
        assert sum(n.startswith(cell + "_N") for n in names) == 6, (cell, sorted(names))


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=os.path.basename)
def test_golden_file_consistent(path):
    g = _load(path)
    for k, v in g.items():
        assert v.dtype == np.float64, (k, v.dtype)
    # out[:, -1] is h_n: the fact the dh_n folding relies on
    assert np.array_equal(g["out"][:, -1], g["h_n"])


# --------------------------------------------------------------------------
# forward and backward against torch


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=os.path.basename)
def test_against_torch(path):
    cell = _cell_of(path)
    g = _load(path)
    p = _params(cell, g)
    x, h0, dh = g["x"], g["h0"], _upstream(g)
    inputs = [x, h0, dh] + list(p.values())
    before = _snapshot(*inputs)

    if cell == "rnn":
        h, cache = rnn_nn.rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        assert_close("out", h, g["out"])
        assert_close("h_n", h[:, -1], g["h_n"])
        dx, dh0, dWx, dWh, db = rnn_nn.rnn_backward(dh, cache)
        assert_close("dx", dx, g["dx"])
        assert_close("dh0", dh0, g["dh0"])
        assert_close("dweight_ih", dWx.T, g["dweight_ih"])
        assert_close("dweight_hh", dWh.T, g["dweight_hh"])
        assert_close("dbias_ih", db, g["dbias_ih"])
        assert_close("dbias_hh", db, g["dbias_hh"])

    elif cell == "lstm":
        c0, dc_n = g["c0"], g["dc_n"]
        inputs += [c0, dc_n]
        before += _snapshot(c0, dc_n)
        h, cache = rnn_nn.lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"], c0=c0)
        assert_close("out", h, g["out"])
        assert_close("h_n", h[:, -1], g["h_n"])
        assert_close("c_n", rnn_nn.lstm_final_cell(cache), g["c_n"])
        dx, dh0, dc0, dWx, dWh, db = rnn_nn.lstm_backward(dh, cache, dc_T=dc_n, return_dc0=True)
        assert_close("dx", dx, g["dx"])
        assert_close("dh0", dh0, g["dh0"])
        assert_close("dc0", dc0, g["dc0"])
        assert_close("dweight_ih", dWx.T, g["dweight_ih"])
        assert_close("dweight_hh", dWh.T, g["dweight_hh"])
        assert_close("dbias_ih", db, g["dbias_ih"])
        assert_close("dbias_hh", db, g["dbias_hh"])
        # the default 5-tuple form gives the same gradients
        got5 = rnn_nn.lstm_backward(dh, cache, dc_T=dc_n)
        assert len(got5) == 5
        for name, a, b in zip(("dx", "dh0", "dWx", "dWh", "db"), got5, (dx, dh0, dWx, dWh, db), strict=True):
            assert_close(name + " (return_dc0=False)", a, b, atol=0.0)

    elif cell == "gru":
        h, cache = rnn_nn.gru_forward(x, h0, p["Wx"], p["Wh"], p["bx"], p["bh"])
        assert_close("out", h, g["out"])
        assert_close("h_n", h[:, -1], g["h_n"])
        dx, dh0, dWx, dWh, dbx, dbh = rnn_nn.gru_backward(dh, cache)
        assert_close("dx", dx, g["dx"])
        assert_close("dh0", dh0, g["dh0"])
        assert_close("dweight_ih", dWx.T, g["dweight_ih"])
        assert_close("dweight_hh", dWh.T, g["dweight_hh"])
        assert_close("dbias_ih", dbx, g["dbias_ih"])
        assert_close("dbias_hh", dbh, g["dbias_hh"])
    else:  # pragma: no cover
        pytest.fail(f"unknown cell in golden file name {path}")

    _assert_unchanged(
        ["x", "h0", "dh"] + list(p) + (["c0", "dc_n"] if cell == "lstm" else []), before, inputs
    )


def test_lstm_zero_c0_default():
    """c0=None must mean zeros: compare against the zero-c0 golden file."""
    g = _load(os.path.join(GOLDEN_DIR, "lstm_zero_c0_N2_T3_D4_H5.npz"))
    assert not np.any(g["c0"])
    p = _params("lstm", g)
    h, cache = rnn_nn.lstm_forward(g["x"], g["h0"], p["Wx"], p["Wh"], p["b"])
    assert_close("out", h, g["out"])
    assert_close("c_n", rnn_nn.lstm_final_cell(cache), g["c_n"])
    dx, dh0, dc0, dWx, dWh, db = rnn_nn.lstm_backward(_upstream(g), cache, dc_T=g["dc_n"], return_dc0=True)
    assert_close("dx", dx, g["dx"])
    assert_close("dh0", dh0, g["dh0"])
    assert_close("dc0", dc0, g["dc0"])
    assert_close("dweight_ih", dWx.T, g["dweight_ih"])
    assert_close("dweight_hh", dWh.T, g["dweight_hh"])
    assert_close("dbias_ih", db, g["dbias_ih"])


# --------------------------------------------------------------------------
# conversion helpers


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=os.path.basename)
def test_from_torch_matches_manual_conversion(path):
    cell = _cell_of(path)
    g = _load(path)
    ours = rnn_nn.from_torch(cell, g["weight_ih"], g["weight_hh"], g["bias_ih"], g["bias_hh"])
    expected = _params(cell, g)
    assert set(ours) == set(expected), (sorted(ours), sorted(expected))
    for k in expected:
        assert_close(k, ours[k], expected[k], atol=1e-15)


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=os.path.basename)
def test_to_torch_round_trip(path):
    cell = _cell_of(path)
    g = _load(path)
    p = _params(cell, g)
    t = rnn_nn.to_torch(cell, p)
    assert set(t) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}, sorted(t)
    assert_close("weight_ih", t["weight_ih"], g["weight_ih"], atol=0.0)
    assert_close("weight_hh", t["weight_hh"], g["weight_hh"], atol=0.0)
    if cell == "gru":
        assert_close("bias_ih", t["bias_ih"], g["bias_ih"], atol=0.0)
        assert_close("bias_hh", t["bias_hh"], g["bias_hh"], atol=0.0)
    else:
        assert_close("bias_ih", t["bias_ih"], p["b"], atol=0.0)
        assert_close("bias_hh", t["bias_hh"], np.zeros_like(p["b"]), atol=0.0)
        # torch only ever uses the sum, which is preserved
        assert_close("bias sum", t["bias_ih"] + t["bias_hh"], g["bias_ih"] + g["bias_hh"], atol=1e-15)
    back = rnn_nn.from_torch(cell, t["weight_ih"], t["weight_hh"], t["bias_ih"], t["bias_hh"])
    assert set(back) == set(p)
    for k in p:
        assert_close(k + " (round trip)", back[k], p[k], atol=0.0)


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=os.path.basename)
def test_grads_from_torch(path):
    """grads_from_torch of torch's gradients equals the gradients our backward returns."""
    cell = _cell_of(path)
    g = _load(path)
    got = rnn_nn.grads_from_torch(cell, g["dweight_ih"], g["dweight_hh"], g["dbias_ih"], g["dbias_hh"])
    expected = {"Wx": g["dweight_ih"].T, "Wh": g["dweight_hh"].T}
    if cell == "gru":
        expected.update(bx=g["dbias_ih"], bh=g["dbias_hh"])
    else:
        # b = bias_ih + bias_hh, so torch's two bias gradients are both our db
        assert_close("dbias_ih vs dbias_hh", g["dbias_ih"], g["dbias_hh"], atol=1e-12)
        expected["b"] = g["dbias_ih"]
    assert set(got) == set(expected), (sorted(got), sorted(expected))
    for k in expected:
        assert_close("d" + k, got[k], expected[k], atol=0.0)
