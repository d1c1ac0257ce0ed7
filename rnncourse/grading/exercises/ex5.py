"""Exercise 5 (lesson 5): the LSTM step forward and backward, and BPTT through an LSTM sequence
(where a missing cell-state path only shows over time: at T = 1 it passes)."""

from __future__ import annotations

import numpy as np

from rnncourse import nn
from rnncourse.grading.exercises._common import cache_arg, dims, gate_bias, helper, normal, prefixed
from rnncourse.grading.verdict import Bug, Probe, TaskSpec
from rnncourse.messages import N_


def lstm_params(rng, D, H, biases=None):
    p = {
        "Wx": normal(rng, D, 4 * H, scale=0.5),
        "Wh": normal(rng, H, 4 * H, scale=0.5),
        "b": normal(rng, 4 * H, scale=0.5),
    }
    p["b"] = gate_bias(p["b"], "ifgo", H, biases)
    return p


def step_forward_inputs(biases=None):
    def make(rng):
        N, D, H, _ = dims(rng)
        return {
            "x": normal(rng, N, D),
            "h_prev": np.tanh(normal(rng, N, H)),
            "c_prev": normal(rng, N, H),
            **lstm_params(rng, D, H, biases),
        }

    return make


def step_backward_inputs(dh=True, dc=True):
    def make(rng):
        n, D, H, _ = dims(rng)
        p = lstm_params(rng, D, H)
        _, _, cache = nn.lstm_step_forward(
            normal(rng, n, D), np.tanh(normal(rng, n, H)), normal(rng, n, H), p["Wx"], p["Wh"], p["b"]
        )
        return {
            "dh_out": normal(rng, n, H) * dh,
            "dc_next": normal(rng, n, H) * dc,
            **prefixed("cache.", cache),
        }

    return make


def sequence_inputs(T=None, last_only=False, biases=None):
    def make(rng):
        N, D, H, t = dims(rng)
        T_ = T or t
        p = lstm_params(rng, D, H, biases)
        _, cache = nn.lstm_forward(
            normal(rng, N, T_, D), np.tanh(normal(rng, N, H)), p["Wx"], p["Wh"], p["b"], c0=normal(rng, N, H)
        )
        dh = normal(rng, N, T_, H)
        if last_only:
            dh[:, :-1] = 0.0
        return {"dh": dh, **prefixed("cache.", cache)}

    return make


# ---------------------------------------------------------------------------------- bug models


def bug_forget_tanh(x, h_prev, c_prev, Wx, Wh, b):
    """The forget gate squashed with tanh instead of the sigmoid."""
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    i, f, g, o = (
        nn.sigmoid(a[:, :H]),
        np.tanh(a[:, H : 2 * H]),
        np.tanh(a[:, 2 * H : 3 * H]),
        nn.sigmoid(a[:, 3 * H :]),
    )
    c = f * c_prev + i * g
    return o * np.tanh(c), c, None


def bug_step_no_dc_next(dh_out, dc_next, cache):
    return nn.lstm_step_backward(dh_out, np.zeros_like(dc_next), cache)


def _steps(dh, cache, carry_h=True, carry_c=True, accumulate=True):
    x, h0, c0, Wx, Wh, gates, c, tanh_c, h = cache
    N, T, _ = x.shape
    H = h0.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H)
    dh_next, dc_next = np.zeros_like(h0), np.zeros_like(h0)
    for t in reversed(range(T)):
        g = gates[t]
        step = nn.LSTMStepCache(
            x[:, t],
            h0 if t == 0 else h[:, t - 1],
            c0 if t == 0 else c[t - 1],
            Wx,
            Wh,
            g[:, :H],
            g[:, H : 2 * H],
            g[:, 2 * H : 3 * H],
            g[:, 3 * H :],
            c[t],
            tanh_c[t],
        )
        dx[:, t], dhp, dcp, gx, gh, gb = nn.lstm_step_backward(
            dh[:, t] + (dh_next if carry_h else 0.0), dc_next if carry_c else np.zeros_like(h0), step
        )
        dh_next, dc_next = dhp, dcp
        if accumulate:
            dWx, dWh, db = dWx + gx, dWh + gh, db + gb
        else:
            dWx, dWh, db = gx, gh, gb
    return dx, dh_next, dWx, dWh, db


def bug_seq_no_dc_next(dh, cache):
    return _steps(dh, cache, carry_c=False)


def bug_seq_no_dh_next(dh, cache):
    return _steps(dh, cache, carry_h=False)


def bug_seq_overwritten(dh, cache):
    return _steps(dh, cache, accumulate=False)


TASKS = [
    TaskSpec(
        id="ex5.lstm_step_forward",
        func="lstm_step_forward",
        points=3,
        args=(
            ("array", "x"),
            ("array", "h_prev"),
            ("array", "c_prev"),
            ("array", "Wx"),
            ("array", "Wh"),
            ("array", "b"),
        ),
        returns=["h_next", "c_next", None],
        reference=nn.lstm_step_forward,
        probes=(
            Probe(
                "keep",
                N_("forget gate open, input gate shut (f = 1, i = 0)"),
                step_forward_inputs({"f": 40.0, "i": -40.0}),
                N_(
                    "With f = 1 and i = 0 the cell must keep its content: c_next = f * c_prev + i * g = "
                    "c_prev. Check the gate order i, f, g, o in Wx, Wh and b, and which gates use the "
                    "sigmoid."
                ),
            ),
            Probe(
                "closed-output",
                N_("output gate shut (o = 0)"),
                step_forward_inputs({"o": -40.0}),
                N_("With o = 0, h_next = o * tanh(c_next) must be 0 (the output gate is the LAST block)."),
            ),
            Probe(
                "random",
                N_("random inputs"),
                step_forward_inputs(),
                N_(
                    "i, f, o use the sigmoid and g uses tanh; c_next = f * c_prev + i * g; h_next = o * "
                    "tanh(c_next)."
                ),
            ),
        ),
        bugs=(
            Bug(
                bug_forget_tanh,
                N_(
                    "Your forget gate uses tanh: f must be a sigmoid, a soft switch "
                    "between 0 (forget) and 1 (keep); tanh lets it flip the cell's "
                    "sign."
                ),
            ),
        ),
    ),
    TaskSpec(
        id="ex5.lstm_step_backward",
        func="lstm_step_backward",
        points=4,
        args=(("array", "dh_out"), ("array", "dc_next"), cache_arg("LSTMStepCache")),
        returns=["dx", "dh_prev", "dc_prev", "dWx", "dWh", "db"],
        reference=nn.lstm_step_backward,
        probes=(
            Probe(
                "hidden-path",
                N_("gradient through h only (dc_next = 0)"),
                step_backward_inputs(dc=False),
                N_(
                    "With dc_next = 0 the gradient comes only through h_next = o * tanh(c_next): find do "
                    "and the gradient this path gives c_next, then the gate pre-activations (open the "
                    "hints)."
                ),
            ),
            Probe(
                "cell-path",
                N_("gradient through the cell state only (dh_out = 0)"),
                step_backward_inputs(dh=False),
                N_(
                    "With dh_out = 0 the gradient arrives only through the cell state: did you miss the "
                    "dc_next path into dc?"
                ),
            ),
            Probe(
                "both",
                N_("both paths"),
                step_backward_inputs(),
                N_("Each path alone is right; the two must be ADDED into dc."),
            ),
        ),
        bugs=(
            Bug(
                bug_step_no_dc_next,
                N_("Your gradients equal a backward pass that ignores dc_next (the cell-state path)."),
            ),
        ),
    ),
    TaskSpec(
        id="ex5.lstm_backward",
        func="lstm_backward",
        points=4,
        args=(("array", "dh"), cache_arg("LSTMCache")),
        returns=["dx", "dh0", "dWx", "dWh", "db"],
        reference=nn.lstm_backward,
        probes=(
            Probe(
                "one-step",
                N_("one time step (T = 1)"),
                sequence_inputs(T=1),
                N_(
                    "With T = 1 this is one lstm_step_backward with dc_next = 0: check how you build the "
                    "step cache from the sequence cache (gates[t] holds i, f, g, o; c[t] and tanh_c[t] are "
                    "time-major)."
                ),
            ),
            Probe(
                "last-step",
                N_("upstream gradient only at the last step"),
                sequence_inputs(last_only=True),
                N_(
                    "Right at T = 1, wrong over several steps: earlier steps get gradient only through the "
                    "recurrence, along TWO paths: dh_next into h_t and dc_next into c_t. Carry both."
                ),
            ),
            Probe(
                "every-step",
                N_("upstream gradient at every step"),
                sequence_inputs(),
                N_("Weight gradients are sums over all time steps."),
            ),
        ),
        bugs=(
            Bug(
                bug_seq_no_dc_next,
                N_(
                    "Your gradients equal BPTT that drops dc_next between steps: the "
                    "cell-state path (the constant error carousel) must be carried back "
                    "too. A T = 1 check cannot see this."
                ),
            ),
            Bug(
                bug_seq_no_dh_next,
                N_(
                    "Your gradients equal BPTT without `+ dh_next`: the gradient "
                    "reaching h_t is dh[:, t] plus dh_prev of step t + 1."
                ),
            ),
            Bug(
                bug_seq_overwritten,
                N_(
                    "Your weight gradients hold only one step: they were overwritten "
                    "(=) in the loop instead of summed over time (+=)."
                ),
            ),
        ),
        helpers=(helper("lstm_step_backward"),),
    ),
]
