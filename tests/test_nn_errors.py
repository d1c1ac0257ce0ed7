"""Bad input gets a clear error naming the argument, the expected shape and what was given."""

import numpy as np
import pytest

from rnncourse import nn

N, T, D, H = 2, 5, 3, 4
# Shared inputs are drawn once from their own seed and made read-only; parameters come from a fresh
# generator on every call. So no test depends on which tests ran before it (or on none running).
x = np.random.default_rng(0).normal(size=(N, T, D))
h0 = np.zeros((N, H))
x.flags.writeable = h0.flags.writeable = False


def p(cell):
    return nn.init_cell_params(cell, D, H, np.random.default_rng(1))


def _raises(exc, fn, *parts):
    with pytest.raises(exc) as info:
        fn()
    msg = str(info.value)
    for part in parts:
        assert part in msg, f"{part!r} not in error message: {msg!r}"
    return msg


def test_wrong_size_Wh():
    q = p("rnn")
    _raises(
        ValueError,
        lambda: nn.rnn_forward(x, h0, q["Wx"], np.zeros((H, H + 1)), q["b"]),
        "Wh",
        "(H, H) = (4, 4)",
        "got (4, 5)",
    )


def test_2d_x_for_sequence_function():
    q = p("rnn")
    msg = _raises(
        ValueError,
        lambda: nn.rnn_forward(x[0], h0, **{k: q[k] for k in q}),
        "x must have shape (N, T, D)",
        "got (5, 3)",
    )
    assert "batch axis" in msg


def test_mismatched_batch_between_x_and_h0():
    for cell in ("rnn", "lstm", "gru"):
        _raises(
            ValueError,
            lambda cell=cell: nn.sequence_forward(cell, x, np.zeros((N + 1, H)), p(cell)),
            "h0 must have shape (N, H) = (2, 4)",
            "got (3, 4)",
        )


def test_wrong_input_dimension():
    q = p("lstm")
    _raises(
        ValueError,
        lambda: nn.lstm_forward(x, h0, np.zeros((D + 1, 4 * H)), q["Wh"], q["b"]),
        "Wx must have shape (D, 4H)",
        "got (4, 16)",
    )


def test_gate_blocks_not_stacked():
    _raises(
        ValueError,
        lambda: nn.lstm_forward(x, h0, np.zeros((D, 6)), np.zeros((1, 6)), np.zeros(6)),
        "Wx",
        "multiple of 4",
    )
    _raises(
        ValueError,
        lambda: nn.gru_forward(x, h0, np.zeros((D, 4)), np.zeros((1, 4)), np.zeros(4), np.zeros(4)),
        "Wx",
        "multiple of 3",
    )


def test_wrong_bias_and_cell_state():
    q = p("lstm")
    _raises(
        ValueError,
        lambda: nn.lstm_forward(x, h0, q["Wx"], q["Wh"], np.zeros(H)),
        "b must have shape (4H,)",
        "got (4,)",
    )
    _raises(
        ValueError,
        lambda: nn.lstm_forward(x, h0, q["Wx"], q["Wh"], q["b"], c0=np.zeros((N, H + 1))),
        "c0 must have shape (N, H)",
        "got (2, 5)",
    )
    g = p("gru")
    _raises(
        ValueError,
        lambda: nn.gru_forward(x, h0, g["Wx"], g["Wh"], g["bx"], np.zeros(3)),
        "bh must have shape (3H,)",
    )


def test_step_functions_and_backward_shapes():
    q = p("rnn")
    _raises(ValueError, lambda: nn.rnn_step_forward(x, h0, **q), "x must have shape (N, D)", "got (2, 5, 3)")
    h, cache = nn.rnn_forward(x, h0, **q)
    _raises(
        ValueError,
        lambda: nn.rnn_backward(np.zeros((N, T - 1, H)), cache),
        "dh must have shape (N, T, H)",
        "got (2, 4, 4)",
    )
    _raises(
        TypeError, lambda: nn.rnn_backward(np.zeros((N, T, H)), ("not", "a", "cache")), "cache", "RNNCache"
    )


def test_non_numeric_input():
    q = p("rnn")
    _raises(TypeError, lambda: nn.rnn_forward(np.array([["a"]]), h0, **q), "x must be a numeric")


def test_losses_validate_targets():
    s = np.zeros((N, T, 3))
    _raises(TypeError, lambda: nn.temporal_softmax_loss(s, np.zeros((N, T))), "y must hold integer")
    _raises(
        ValueError, lambda: nn.temporal_softmax_loss(s, np.full((N, T), 3)), "y must hold class ids in [0, 3)"
    )
    _raises(
        ValueError,
        lambda: nn.temporal_softmax_loss(s, np.zeros((N, T), int), mask=np.ones((N,))),
        "mask must have shape (N, T)",
    )
    _raises(
        ValueError, lambda: nn.mse_loss(np.zeros((N, T, 1)), np.zeros((N, T, 2))), "target must have shape"
    )


def test_other_arguments():
    _raises(ValueError, lambda: nn.init_cell_params("elman", 3, 4), "cell must be one of")
    _raises(ValueError, lambda: nn.clip_by_global_norm({"a": np.ones(2)}, 0), "max_norm must be a positive")
    _raises(ValueError, lambda: nn.clip_by_value({"a": np.ones(2)}, -1), "clip_value must be a positive")
    _raises(
        ValueError,
        lambda: nn.truncated_bptt("rnn", x, h0, p("rnn"), np.zeros((N, T, H)), k=0),
        "k (the truncation window)",
    )
    _raises(
        ValueError,
        lambda: nn.from_torch("rnn", np.zeros((H, D)), np.zeros((H, H + 1)), np.zeros(H), np.zeros(H)),
        "weight_hh",
    )


def test_one_rng_contract():
    g = np.random.default_rng(3)
    assert nn.as_rng(g) is g  # a Generator is used as it is
    assert nn.as_rng(7).normal() == nn.as_rng(np.int64(7)).normal() == np.random.default_rng(7).normal()
    assert nn.as_rng(None).normal() != nn.as_rng(None).normal()  # None: fresh randomness
    a, b = (nn.init_cell_params("lstm", 3, 4, rng=5) for _ in range(2))
    assert all(np.array_equal(a[k], b[k]) for k in a)  # a seed repeats itself
    for bad in (2.5, "0", True, np.random.RandomState(0)):
        _raises(
            TypeError, lambda bad=bad: nn.as_rng(bad), "rng must be a numpy Generator", type(bad).__name__
        )
    _raises(ValueError, lambda: nn.as_rng(-1), "rng must be a seed >= 0")
    # the same rule wherever nn draws random numbers
    _raises(TypeError, lambda: nn.init_cell_params("rnn", 3, 4, rng=2.5), "rng must be")
    _raises(TypeError, lambda: nn.xavier((3, 4), rng="seed"), "rng must be")
    _raises(TypeError, lambda: nn.SequenceModel.create("rnn", 3, 4, 2, rng=1.0), "rng must be")


def test_wrong_type_is_TypeError_and_wrong_value_is_ValueError():
    q = p("rnn")
    for k, exc in ((2.5, TypeError), ("3", TypeError), (True, TypeError), (0, ValueError), (-1, ValueError)):
        _raises(
            exc,
            lambda k=k: nn.truncated_bptt("rnn", x, h0, q, np.zeros((N, T, H)), k=k),
            "k (the truncation window)",
        )
    _raises(TypeError, lambda: nn.clip_by_global_norm({"a": np.ones(2)}, "1"), "max_norm must be a number")
    _raises(
        ValueError,
        lambda: nn.clip_by_global_norm({"a": np.ones(2)}, float("nan")),
        "max_norm must be a positive",
    )
    _raises(TypeError, lambda: nn.sequence_forward(["rnn"], x, h0, q), "cell must be a name")
    _raises(ValueError, lambda: nn.sequence_forward("elman", x, h0, q), "cell must be one of")
    _raises(TypeError, lambda: nn.init_cell_params("rnn", 3, 4.0), "H must be an integer")
    _raises(ValueError, lambda: nn.init_cell_params("rnn", 0, 4), "D must be a positive integer")
    _raises(
        TypeError, lambda: nn.init_cell_params("lstm", 3, 4, forget_bias="1"), "forget_bias must be a number"
    )
    _raises(TypeError, lambda: nn.SequenceModel.create("rnn", 3, 4.0, 2), "hidden_dim must be an integer")
    _raises(
        ValueError, lambda: nn.SequenceModel.create("rnn", 3, 0, 2), "hidden_dim must be a positive integer"
    )
    model = nn.SequenceModel.create("rnn", 1, 2, 1, loss="mse", rng=0)
    _raises(TypeError, lambda: nn.train(model, None, steps=2.5), "steps must be an integer")
    _raises(ValueError, lambda: nn.train(model, None, steps=-1), "steps must be a non-negative integer")
    _raises(TypeError, lambda: nn.train(model, None, tbptt=1.5), "tbptt must be an integer")
    _raises(TypeError, lambda: nn.train(model, None, clip="big"), "clip must be a number")
    _raises(TypeError, lambda: nn.rnn_forward(np.array([["a"]]), h0, **q), "x must be a numeric")
