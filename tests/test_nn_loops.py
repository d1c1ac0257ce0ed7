"""The plain loops (``rnn_forward_loop`` ...) give the same numbers as the fast sequence kernels.

The loops are what a learner reads; the kernels are what the course runs. Both directions are
compared in float64 on several shapes (including N = 1, T = 1, H = 1), with a random initial state
and, for the LSTM, a random initial cell and a gradient on the final cell.
"""

import numpy as np
import pytest

from rnncourse import nn

SHAPES = [(1, 1, 1, 1), (2, 5, 3, 4), (3, 7, 1, 6), (4, 3, 5, 2)]  # (N, T, D, H)
TOL = 1e-12


def _inputs(cell, N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    params = nn.init_cell_params(cell, D, H, rng, recurrent="normal", scale=1.3)
    params = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in params.items()}  # non-zero biases
    return rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), params, rng.normal(size=(N, T, H)), rng


def _close(name, loop, fast):
    assert loop.shape == fast.shape, (name, loop.shape, fast.shape)
    err = np.max(np.abs(loop - fast), initial=0.0)
    assert err < TOL, f"{name}: loop and kernel differ by {err:.3g}\nloop:\n{loop}\nkernel:\n{fast}"


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}-T{}-D{}-H{}".format(*s))
def test_rnn_loop_equals_kernel(shape):
    x, h0, p, dh, _ = _inputs("rnn", *shape, seed=1)
    h, cache = nn.rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
    hl, caches = nn.rnn_forward_loop(x, h0, p["Wx"], p["Wh"], p["b"])
    _close("h", hl, h)
    fast = nn.rnn_backward(dh, cache)
    loop = nn.rnn_backward_loop(dh, caches)
    for name, a, b in zip(("dx", "dh0", "dWx", "dWh", "db"), loop, fast, strict=True):
        _close(name, a, b)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}-T{}-D{}-H{}".format(*s))
def test_lstm_loop_equals_kernel(shape):
    x, h0, p, dh, rng = _inputs("lstm", *shape, seed=2)
    N, H = h0.shape
    c0, dc_T = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    h, cache = nn.lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"], c0=c0)
    hl, caches = nn.lstm_forward_loop(x, h0, p["Wx"], p["Wh"], p["b"], c0)
    _close("h", hl, h)
    _close("c_T", caches[-1].c_next, nn.lstm_final_cell(cache))
    fast = nn.lstm_backward(dh, cache, dc_T=dc_T, return_dc0=True)
    loop = nn.lstm_backward_loop(dh, caches, dc_T, True)
    for name, a, b in zip(("dx", "dh0", "dc0", "dWx", "dWh", "db"), loop, fast, strict=True):
        _close(name, a, b)
    # without dc_T and dc0, as the exercises call it
    for name, a, b in zip(
        ("dx", "dh0", "dWx", "dWh", "db"),
        nn.lstm_backward_loop(dh, caches),
        nn.lstm_backward(dh, cache),
        strict=True,
    ):
        _close(name, a, b)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "N{}-T{}-D{}-H{}".format(*s))
def test_gru_loop_equals_kernel(shape):
    x, h0, p, dh, _ = _inputs("gru", *shape, seed=3)
    h, cache = nn.gru_forward(x, h0, p["Wx"], p["Wh"], p["bx"], p["bh"])
    hl, caches = nn.gru_forward_loop(x, h0, p["Wx"], p["Wh"], p["bx"], p["bh"])
    _close("h", hl, h)
    fast = nn.gru_backward(dh, cache)
    loop = nn.gru_backward_loop(dh, caches)
    for name, a, b in zip(("dx", "dh0", "dWx", "dWh", "dbx", "dbh"), loop, fast, strict=True):
        _close(name, a, b)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_loop_defaults_and_bad_caches(cell):
    x, _, p, dh, _ = _inputs(cell, 2, 4, 3, 5, seed=4)
    fwd, bwd = getattr(nn, f"{cell}_forward_loop"), getattr(nn, f"{cell}_backward_loop")
    kernel = getattr(nn, f"{cell}_forward")
    hl, caches = fwd(x, None, *p.values())  # h0 = None means zeros, as in the kernel
    _close("h", hl, kernel(x, None, *p.values())[0])
    assert len(caches) == 4
    with pytest.raises(TypeError, match="caches must be the list"):
        bwd(dh, caches[0])
    with pytest.raises(ValueError, match="caches must hold one"):
        bwd(dh, [])
    with pytest.raises(ValueError, match=r"dh must have shape \(N, T, H\)"):
        bwd(dh[:, :3], caches)
    with pytest.raises(ValueError, match="at least one time step"):
        fwd(x[:, :0], None, *p.values())


def test_loops_leave_their_inputs_alone():
    x, h0, p, dh, _ = _inputs("lstm", 2, 4, 3, 5, seed=5)
    for a in (x, h0, dh, *p.values()):
        a.flags.writeable = False  # any write raises
    _, caches = nn.lstm_forward_loop(x, h0, p["Wx"], p["Wh"], p["b"])
    nn.lstm_backward_loop(dh, caches)


@pytest.mark.parametrize(
    "source",
    [
        "from rnncourse.nn import rnn_forward_loop\nh, c = rnn_forward_loop(x, h0, Wx, Wh, b)",
        "import rnncourse.nn as nn\nout = nn.rnn_backward_loop(dh, cache)",
    ],
    ids=["from-import", "attribute"],
)
def test_the_grader_flags_a_solution_that_calls_a_loop_twin(source):
    # the loops are reference implementations of graded functions: using them must be flagged too
    from rnncourse.grading.grader import reference_use

    assert reference_use(source, set(), set()), source
