"""Deep (stacked) and bidirectional networks against PyTorch golden files (no torch needed).

The files in ``tests/golden/deep/`` were written by ``tests/golden/generate_golden_deep.py`` from
``torch.nn.RNN/LSTM/GRU(num_layers=2 or 3, bidirectional=False/True)`` in float64. The loss there
was ``sum(out * dout) + sum(h_n * dh_n) [+ sum(c_n * dc_n)]``; here the same upstream gradients go
into ``deep_backward(dout, cache, dh_n, dc_n)`` and every output, final state and gradient
(input, initial states, every parameter of every layer and direction) must agree to 1e-10.
"""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

from rnncourse.nn.deep import (
    deep_backward,
    deep_forward,
    deep_grads_from_torch,
    layers_from_torch,
    layers_to_torch,
)

ATOL = 1e-10
FILES = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "deep", "*.npz")))


def _load(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _close(name, ours, theirs):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{name}: shape {ours.shape} (rnncourse) != {theirs.shape} (torch)"
    err = float(np.max(np.abs(ours - theirs)))
    assert err <= ATOL, f"{name}: max |rnncourse - torch| = {err:.3e} > {ATOL:.0e}"


def test_golden_files_exist():
    # 3 cells x num_layers (2, 3) x (uni, bi)
    assert len(FILES) == 12
    assert sum(os.path.getsize(f) for f in FILES) < 300_000


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(f)[:-4] for f in FILES])
def test_deep_matches_torch(path):
    g = _load(path)
    cell = os.path.basename(path).split("_")[0]
    bidirectional = "_bi_" in os.path.basename(path)
    state = {k: v for k, v in g.items() if k.startswith(("weight_", "bias_"))}
    layers = layers_from_torch(cell, state)
    h, cache = deep_forward(cell, g["x"], g["h0"], layers, c0=g.get("c0"), bidirectional=bidirectional)
    _close("out", h, g["out"])
    _close("h_n", cache.h_n, g["h_n"])
    if cell == "lstm":
        _close("c_n", cache.c_n, g["c_n"])
    res = deep_backward(g["dout"], cache, dh_n=g["dh_n"], dc_n=g.get("dc_n"))
    if cell == "lstm":
        dx, dh0, dc0, dlayers = res
        _close("dc0", dc0, g["dc0"])
    else:
        dx, dh0, dlayers = res
    _close("dx", dx, g["dx"])
    _close("dh0", dh0, g["dh0"])
    want = deep_grads_from_torch(cell, {k[5:]: v for k, v in g.items() if k.startswith("grad.")})
    assert len(dlayers) == len(want) == len(layers)
    for j, (ours, theirs) in enumerate(zip(dlayers, want)):
        assert sorted(ours) == sorted(theirs)
        for k in ours:
            _close(f"dlayers[{j}][{k!r}]", ours[k], theirs[k])
    if cell != "gru":  # torch's two bias gradients are the same number as our db
        for k, v in g.items():
            if k.startswith("grad.bias_hh"):
                _close(k, v, g["grad.bias_ih" + k[len("grad.bias_hh") :]])


@pytest.mark.parametrize("path", FILES[:1] + FILES[-1:], ids=["first", "last"])
def test_layers_round_trip_through_torch_names(path):
    g = _load(path)
    cell = os.path.basename(path).split("_")[0]
    bidirectional = "_bi_" in os.path.basename(path)
    state = {k: v for k, v in g.items() if k.startswith(("weight_", "bias_"))}
    layers = layers_from_torch(cell, state)
    back = layers_to_torch(cell, layers, bidirectional=bidirectional)
    assert sorted(back) == sorted(state)
    again = layers_from_torch(cell, back)
    for p, q in zip(layers, again):
        for k in p:
            np.testing.assert_array_equal(p[k], q[k])
