"""Exercise 1 (lesson 1): the vanilla RNN step and the sequence forward pass."""

from __future__ import annotations

import numpy as np

from rnncourse import nn
from rnncourse.grading.exercises._common import dims, helper, normal
from rnncourse.grading.verdict import Bug, Probe, TaskSpec
from rnncourse.messages import N_


def rnn_params(rng, D, H, scale=0.5):
    return {
        "Wx": normal(rng, D, H, scale=scale),
        "Wh": normal(rng, H, H, scale=scale),
        "b": normal(rng, H, scale=scale),
    }


def step_inputs(zero=(), N=None, scale=0.5):
    def make(rng):
        n, D, H, _ = dims(rng)
        inp = {
            "x": normal(rng, N or n, D),
            "h_prev": np.tanh(normal(rng, N or n, H)),
            **rnn_params(rng, D, H, scale),
        }
        for k in zero:
            inp[k] = np.zeros_like(inp[k])
        return inp

    return make


def sequence_inputs(T=None, zero=()):
    def make(rng):
        N, D, H, t = dims(rng)
        inp = {"x": normal(rng, N, T or t, D), "h0": np.tanh(normal(rng, N, H)), **rnn_params(rng, D, H)}
        for k in zero:
            inp[k] = np.zeros_like(inp[k])
        return inp

    return make


# ---------------------------------------------------------------------------------- bug models


def bug_h0_every_step(x, h0, Wx, Wh, b):
    """Feeds h0 (not the previous state) into every step."""
    return np.stack([np.tanh(x[:, t] @ Wx + h0 @ Wh + b) for t in range(x.shape[1])], axis=1), None


def bug_includes_h0(x, h0, Wx, Wh, b):
    """Stores h0 at index 0 and drops the last state."""
    h, _ = nn.rnn_forward(x, h0, Wx, Wh, b)
    return np.concatenate([h0[:, None], h[:, :-1]], axis=1), None


TASKS = [
    TaskSpec(
        id="ex1.rnn_step_forward",
        func="rnn_step_forward",
        points=2,
        args=(("array", "x"), ("array", "h_prev"), ("array", "Wx"), ("array", "Wh"), ("array", "b")),
        returns=["h_next", None],
        reference=nn.rnn_step_forward,
        probes=(
            Probe(
                "input",
                N_("input term only (h_prev = 0, b = 0)"),
                step_inputs(("h_prev", "b")),
                N_(
                    "With h_prev = 0 and b = 0 only tanh(x @ Wx) is left, and it is wrong: check the input "
                    "term x @ Wx (x is (N, D), Wx is (D, H)) and the tanh."
                ),
            ),
            Probe(
                "recurrent",
                N_("recurrent term only (x = 0, b = 0)"),
                step_inputs(("x", "b")),
                N_(
                    "With x = 0 and b = 0 only tanh(h_prev @ Wh) is left, and it is wrong: the recurrent "
                    "term is h_prev @ Wh (row vectors times Wh, not Wh transposed)."
                ),
            ),
            Probe(
                "bias",
                N_("bias only (x = 0, h_prev = 0)"),
                step_inputs(("x", "h_prev")),
                N_(
                    "With x = 0 and h_prev = 0 only tanh(b) is left, and it is wrong: add b (shape (H,)) to "
                    "every row."
                ),
            ),
            Probe(
                "random",
                N_("random inputs"),
                step_inputs(),
                N_("Each term alone is right but their combination is not: all three go inside one tanh."),
            ),
        ),
    ),
    TaskSpec(
        id="ex1.rnn_forward",
        func="rnn_forward",
        points=3,
        args=(("array", "x"), ("array", "h0"), ("array", "Wx"), ("array", "Wh"), ("array", "b")),
        returns=["h", None],
        reference=nn.rnn_forward,
        probes=(
            Probe(
                "one-step",
                N_("one time step (T = 1)"),
                sequence_inputs(T=1),
                N_("With T = 1, h[:, 0] must equal rnn_step_forward(x[:, 0], h0, Wx, Wh, b)."),
            ),
            Probe(
                "no-recurrence",
                N_("no recurrence (Wh = 0, h0 = 0)"),
                sequence_inputs(zero=("Wh", "h0")),
                N_(
                    "With Wh = 0 every step is independent: step t must use x[:, t] and store its result in "
                    "h[:, t]."
                ),
            ),
            Probe(
                "h0-only",
                N_("only h0 drives the sequence (x = 0, b = 0)"),
                sequence_inputs(zero=("x", "b")),
                N_(
                    "With x = 0 and b = 0 everything comes from h0: start from h0 and feed each h_t into "
                    "step t + 1."
                ),
            ),
            Probe(
                "random",
                N_("random inputs"),
                sequence_inputs(),
                N_("Check that each step feeds the previous hidden state, not h0, into the next one."),
            ),
        ),
        bugs=(
            Bug(
                bug_h0_every_step,
                N_("Every step of yours starts from h0: feed the state of step t - 1 into step t."),
            ),
            Bug(
                bug_includes_h0,
                N_(
                    "Your h[:, 0] is h0: h[:, t] must be the state AFTER step t, so h0 is "
                    "not stored and the last state is."
                ),
            ),
        ),
        helpers=(helper("rnn_step_forward"),),
    ),
]
