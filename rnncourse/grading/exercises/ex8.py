"""Exercise 8 (lesson 8): a two-layer (stacked) RNN and a bidirectional RNN, each built from one
direction of the vanilla RNN (``rnncourse.nn.sequence_forward("rnn", ...)``)."""

from __future__ import annotations

import numpy as np

from rnncourse.grading.exercises._common import dims, normal
from rnncourse.grading.verdict import Bug, Probe, TaskSpec
from rnncourse.nn import sequence_forward
from rnncourse.nn.deep import deep_forward


def _rnn(rng, D, H, scale=0.5):
    return {
        "Wx": normal(rng, D, H, scale=scale),
        "Wh": normal(rng, H, H, scale=scale),
        "b": normal(rng, H, scale=scale),
    }


def _prefixed(prefix, params):
    return {prefix + k: v for k, v in params.items()}


def _zero(inp, keys):
    for k in keys:
        inp[k] = np.zeros_like(inp[k])
    return inp


# ------------------------------------------------------------------------------ stacked_forward


def stacked_forward(x, h0, layer0, layer1):
    """Reference: ``x (N, T, D)``, ``h0 (2, N, H)``, two parameter dicts -> ``h (N, T, H)`` of layer 1."""
    h, _ = deep_forward("rnn", x, h0, [layer0, layer1])
    return h


def stacked_inputs(zero=(), T=None):
    def make(rng):
        N, D, H, t = dims(rng)
        inp = {
            "x": normal(rng, N, T or t, D),
            "h0": np.tanh(normal(rng, 2, N, H)),
            **_prefixed("layer0.", _rnn(rng, D, H)),
            **_prefixed("layer1.", _rnn(rng, H, H)),
        }
        return _zero(inp, zero)

    return make


def bug_stacked_bottom_output(x, h0, layer0, layer1):
    """Returns layer 0's output: the second layer is computed but not returned (or not run)."""
    h, _ = sequence_forward("rnn", x, h0[0], layer0)
    return h


def bug_stacked_same_h0(x, h0, layer0, layer1):
    """Starts both layers from h0[0]."""
    h, _ = sequence_forward("rnn", x, h0[0], layer0)
    h, _ = sequence_forward("rnn", h, h0[0], layer1)
    return h


def bug_stacked_last_state_only(x, h0, layer0, layer1):
    """Feeds layer 1 the last state of layer 0 at every step instead of the whole sequence."""
    h, _ = sequence_forward("rnn", x, h0[0], layer0)
    h, _ = sequence_forward("rnn", np.repeat(h[:, -1:], x.shape[1], axis=1), h0[1], layer1)
    return h


# ------------------------------------------------------------------------ bidirectional_forward


def bidirectional_forward(x, h0_fwd, h0_rev, fwd, rev):
    """Reference: ``x (N, T, D)``, ``h0_fwd, h0_rev (N, H)``, two parameter dicts ->
    ``h (N, T, 2H) = [h_fwd, h_rev]`` with the reverse half in input order."""
    h, _ = deep_forward("rnn", x, np.stack([h0_fwd, h0_rev]), [fwd, rev], bidirectional=True)
    return h


def bidir_inputs(zero=(), T=None):
    def make(rng):
        N, D, H, t = dims(rng)
        inp = {
            "x": normal(rng, N, T or t, D),
            "h0_fwd": np.tanh(normal(rng, N, H)),
            "h0_rev": np.tanh(normal(rng, N, H)),
            **_prefixed("fwd.", _rnn(rng, D, H)),
            **_prefixed("rev.", _rnn(rng, D, H)),
        }
        return _zero(inp, zero)

    return make


def bug_bidir_not_flipped_back(x, h0_fwd, h0_rev, fwd, rev):
    hf, _ = sequence_forward("rnn", x, h0_fwd, fwd)
    hr, _ = sequence_forward("rnn", x[:, ::-1], h0_rev, rev)
    return np.concatenate([hf, hr], axis=2)


def bug_bidir_input_not_reversed(x, h0_fwd, h0_rev, fwd, rev):
    hf, _ = sequence_forward("rnn", x, h0_fwd, fwd)
    hr, _ = sequence_forward("rnn", x, h0_rev, rev)
    return np.concatenate([hf, hr], axis=2)


def bug_bidir_swapped_halves(x, h0_fwd, h0_rev, fwd, rev):
    hf, _ = sequence_forward("rnn", x, h0_fwd, fwd)
    hr, _ = sequence_forward("rnn", x[:, ::-1], h0_rev, rev)
    return np.concatenate([hr[:, ::-1], hf], axis=2)


def bug_bidir_forward_h0(x, h0_fwd, h0_rev, fwd, rev):
    hf, _ = sequence_forward("rnn", x, h0_fwd, fwd)
    hr, _ = sequence_forward("rnn", x[:, ::-1], h0_fwd, rev)
    return np.concatenate([hf, hr[:, ::-1]], axis=2)


_REV_OFF = ("rev.Wx", "rev.Wh", "rev.b", "h0_rev")
_FWD_OFF = ("fwd.Wx", "fwd.Wh", "fwd.b", "h0_fwd")

TASKS = [
    TaskSpec(
        id="ex8.stacked_forward",
        func="stacked_forward",
        points=2,
        args=(("array", "x"), ("array", "h0"), ("dict", "layer0."), ("dict", "layer1.")),
        returns="h",
        reference=stacked_forward,
        probes=(
            Probe(
                "one-step",
                "one time step (T = 1)",
                stacked_inputs(T=1),
                "With T = 1 the output is tanh(h1 @ Wx1 + h0[1] @ Wh1 + b1), where h1 = tanh(x[:, 0] @ Wx0 "
                "+ h0[0] @ Wh0 + b0) is layer 0's state: layer 1 reads layer 0's output, and the function "
                "returns layer 1's states.",
            ),
            Probe(
                "h0-only",
                "only the initial states drive the network (x = 0, biases 0)",
                stacked_inputs(zero=("x", "layer0.b", "layer1.b")),
                "Each layer has its own initial state: layer 0 starts from h0[0], layer 1 from h0[1].",
            ),
            Probe(
                "random",
                "random inputs",
                stacked_inputs(),
                "Layer 1 must read the whole hidden sequence of layer 0, h0_seq (N, T, H), one step at a time.",
            ),
        ),
        bugs=(
            Bug(
                bug_stacked_bottom_output,
                "You return layer 0's states: the output of a stacked network is "
                "the TOP layer's hidden sequence (run layer 1 over layer 0's states).",
            ),
            Bug(bug_stacked_same_h0, "Both of your layers start from h0[0]: layer 1 starts from h0[1]."),
            Bug(
                bug_stacked_last_state_only,
                "Your layer 1 reads only the LAST state of layer 0 at every step: it "
                "must read layer 0's state at the same step t, for every t.",
            ),
        ),
    ),
    TaskSpec(
        id="ex8.bidirectional_forward",
        func="bidirectional_forward",
        points=4,
        args=(("array", "x"), ("array", "h0_fwd"), ("array", "h0_rev"), ("dict", "fwd."), ("dict", "rev.")),
        returns="h",
        reference=bidirectional_forward,
        probes=(
            Probe(
                "forward-half",
                "reverse cell switched off (its weights, bias and h0_rev zero)",
                bidir_inputs(zero=_REV_OFF),
                "With the reverse cell switched off, h[:, :, :H] must be the forward RNN over x started from "
                "h0_fwd and h[:, :, H:] must be zero: the forward half comes first.",
            ),
            Probe(
                "reverse-local",
                "reverse half without memory (forward cell off, reverse Wh = 0, h0_rev = 0)",
                bidir_inputs(zero=_FWD_OFF + ("rev.Wh", "h0_rev")),
                "Without recurrence the reverse half at step t is tanh(x[:, t] @ Wx_rev + b_rev): store each "
                "reverse state at the time step of the input it has just read (flip the result back).",
            ),
            Probe(
                "reverse-h0",
                "only the initial states drive the network (x = 0, biases 0)",
                bidir_inputs(zero=("x", "fwd.b", "rev.b")),
                "The reverse direction starts from h0_rev at the END of the sequence: its first step is step T, "
                "so h[:, T-1, H:] = tanh(h0_rev @ Wh_rev) here.",
            ),
            Probe(
                "random",
                "random inputs",
                bidir_inputs(),
                "Each half alone is right, together they are not: read x backwards for the reverse cell, flip its "
                "states back, and put [forward, reverse] side by side on the last axis.",
            ),
        ),
        bugs=(
            Bug(
                bug_bidir_not_flipped_back,
                "Your reverse half is still in reading order (step T first): flip it "
                "back, h_rev[:, ::-1], so that h[:, t] holds both directions' states "
                "for input step t.",
            ),
            Bug(
                bug_bidir_input_not_reversed,
                "Your reverse cell reads x from step 1 to T: it must read x[:, ::-1] "
                "(last step first), then its states are flipped back.",
            ),
            Bug(
                bug_bidir_swapped_halves,
                "Your halves are swapped: h = concatenate([h_fwd, h_rev], axis=2), "
                "forward half first (PyTorch's order).",
            ),
            Bug(
                bug_bidir_forward_h0,
                "Your reverse cell starts from h0_fwd: each direction has its own initial "
                "state, and the reverse one starts from h0_rev.",
            ),
        ),
    ),
]
