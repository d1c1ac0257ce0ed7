"""Exercise 6 (lesson 6): the GRU step forward and backward, and BPTT through a GRU sequence."""

from __future__ import annotations

import numpy as np

from rnncourse import nn
from rnncourse.grading.exercises._common import cache_arg, dims, gate_bias, helper, normal, prefixed
from rnncourse.grading.verdict import Bug, Probe, TaskSpec
from rnncourse.messages import N_


def gru_params(rng, D, H, biases=None):
    p = {
        "Wx": normal(rng, D, 3 * H, scale=0.5),
        "Wh": normal(rng, H, 3 * H, scale=0.5),
        "bx": normal(rng, 3 * H, scale=0.5),
        "bh": normal(rng, 3 * H, scale=0.5),
    }
    p["bx"] = gate_bias(p["bx"], "rzn", H, biases)
    return p


def step_forward_inputs(biases=None):
    def make(rng):
        N, D, H, _ = dims(rng)
        return {"x": normal(rng, N, D), "h_prev": np.tanh(normal(rng, N, H)), **gru_params(rng, D, H, biases)}

    return make


def step_backward_inputs(biases=None):
    def make(rng):
        n, D, H, _ = dims(rng)
        p = gru_params(rng, D, H, biases)
        _, cache = nn.gru_step_forward(
            normal(rng, n, D), np.tanh(normal(rng, n, H)), p["Wx"], p["Wh"], p["bx"], p["bh"]
        )
        return {"dh_out": normal(rng, n, H), **prefixed("cache.", cache)}

    return make


def sequence_inputs(T=None, last_only=False):
    def make(rng):
        N, D, H, t = dims(rng)
        T_ = T or t
        p = gru_params(rng, D, H)
        _, cache = nn.gru_forward(
            normal(rng, N, T_, D), np.tanh(normal(rng, N, H)), p["Wx"], p["Wh"], p["bx"], p["bh"]
        )
        dh = normal(rng, N, T_, H)
        if last_only:
            dh[:, :-1] = 0.0
        return {"dh": dh, **prefixed("cache.", cache)}

    return make


# ---------------------------------------------------------------------------------- bug models


def bug_swapped_z(x, h_prev, Wx, Wh, bx, bh):
    _, cache = nn.gru_step_forward(x, h_prev, Wx, Wh, bx, bh)
    return cache.z * cache.n + (1.0 - cache.z) * h_prev, None


def bug_reset_before_product(x, h_prev, Wx, Wh, bx, bh):
    """Reset gate applied to h_prev before the product: n = tanh(x Wx_n + bx_n + (r h) Wh_n + bh_n)."""
    H = h_prev.shape[1]
    _, cache = nn.gru_step_forward(x, h_prev, Wx, Wh, bx, bh)
    n = np.tanh(x @ Wx[:, 2 * H :] + bx[2 * H :] + (cache.r * h_prev) @ Wh[:, 2 * H :] + bh[2 * H :])
    return (1.0 - cache.z) * n + cache.z * h_prev, None


def bug_step_swapped_z(dh_out, cache):
    """The backward of h = z n + (1 - z) h_prev, on the course's cache."""
    return nn.gru_step_backward(dh_out, cache._replace(z=1.0 - cache.z))


def _steps(dh, cache, carry=True, accumulate=True):
    x, h0, Wx, Wh, rzn, hn, h = cache
    N, T, _ = x.shape
    H = h0.shape[1]
    dx = np.zeros_like(x)
    dWx, dWh, dbx, dbh = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(3 * H), np.zeros(3 * H)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        g = rzn[t]
        step = nn.GRUStepCache(
            x[:, t], h0 if t == 0 else h[:, t - 1], Wx, Wh, g[:, :H], g[:, H : 2 * H], g[:, 2 * H :], hn[t]
        )
        dx[:, t], dh_next, gx, gh, gbx, gbh = nn.gru_step_backward(
            dh[:, t] + (dh_next if carry else 0.0), step
        )
        if accumulate:
            dWx, dWh, dbx, dbh = dWx + gx, dWh + gh, dbx + gbx, dbh + gbh
        else:
            dWx, dWh, dbx, dbh = gx, gh, gbx, gbh
    return dx, dh_next, dWx, dWh, dbx, dbh


def bug_seq_no_dh_next(dh, cache):
    return _steps(dh, cache, carry=False)


def bug_seq_overwritten(dh, cache):
    return _steps(dh, cache, accumulate=False)


TASKS = [
    TaskSpec(
        id="ex6.gru_step_forward",
        func="gru_step_forward",
        points=3,
        args=(
            ("array", "x"),
            ("array", "h_prev"),
            ("array", "Wx"),
            ("array", "Wh"),
            ("array", "bx"),
            ("array", "bh"),
        ),
        returns=["h_next", None],
        reference=nn.gru_step_forward,
        probes=(
            Probe(
                "copy",
                N_("update gate z = 1 (the cell must copy h_prev)"),
                step_forward_inputs({"z": 40.0}),
                N_(
                    "In this course z weighs the OLD state: h_next = (1 - z) * n + z * h_prev, so z = 1 "
                    "copies h_prev. Did you swap z and 1 - z?"
                ),
            ),
            Probe(
                "reset",
                N_("z = 0 and reset gate r = 0"),
                step_forward_inputs({"z": -40.0, "r": -40.0}),
                N_(
                    "With r = 0 the candidate is n = tanh(x Wx_n + bx_n): r multiplies (h_prev @ Wh_n + "
                    "bh_n), the whole hidden part including bh_n. Gate order is r, z, n."
                ),
            ),
            Probe("random", N_("random inputs"), step_forward_inputs(), ""),
        ),
        bugs=(
            Bug(
                bug_swapped_z,
                N_(
                    "Your h_next equals z * n + (1 - z) * h_prev: the course's convention is "
                    "h_next = (1 - z) * n + z * h_prev."
                ),
            ),
            Bug(
                bug_reset_before_product,
                N_(
                    "Your reset gate multiplies h_prev BEFORE the product with "
                    "Wh_n (the other convention); the course applies r to (h_prev "
                    "@ Wh_n + bh_n)."
                ),
            ),
        ),
    ),
    TaskSpec(
        id="ex6.gru_step_backward",
        func="gru_step_backward",
        points=4,
        args=(("array", "dh_out"), cache_arg("GRUStepCache")),
        returns=["dx", "dh_prev", "dWx", "dWh", "dbx", "dbh"],
        reference=nn.gru_step_backward,
        probes=(
            Probe(
                "copy",
                N_("update gate z = 1 (gradient passes straight to h_prev)"),
                step_backward_inputs({"z": 40.0}),
                N_(
                    "With z = 1, h_next = h_prev, so dh_prev = dh_out and nothing reaches the candidate. "
                    "Did you swap z and 1 - z?"
                ),
            ),
            Probe(
                "reset",
                N_("z = 0 and r = 0"),
                step_backward_inputs({"z": -40.0, "r": -40.0}),
                N_(
                    "With r = 0 the hidden part of the candidate gets no gradient: the candidate's gradient "
                    "reaches h_prev @ Wh_n + bh_n multiplied by r."
                ),
            ),
            Probe(
                "random",
                N_("random inputs"),
                step_backward_inputs(),
                N_(
                    "Both special cases are right: check the update gate's own derivative (the z-block) and "
                    "the direct path dh_out * z into dh_prev."
                ),
            ),
        ),
        bugs=(
            Bug(
                bug_step_swapped_z,
                N_("Your gradients are those of h_next = z * n + (1 - z) * h_prev: z and 1 - z are swapped."),
            ),
        ),
    ),
    TaskSpec(
        id="ex6.gru_backward",
        func="gru_backward",
        points=4,
        args=(("array", "dh"), cache_arg("GRUCache")),
        returns=["dx", "dh0", "dWx", "dWh", "dbx", "dbh"],
        reference=nn.gru_backward,
        probes=(
            Probe(
                "one-step",
                N_("one time step (T = 1)"),
                sequence_inputs(T=1),
                N_(
                    "With T = 1 this is one gru_step_backward: check how you build the step cache from the "
                    "sequence cache (rzn[t] holds r, z, n; hn[t]; both time-major)."
                ),
            ),
            Probe(
                "last-step",
                N_("upstream gradient only at the last step"),
                sequence_inputs(last_only=True),
                N_(
                    "Right at T = 1, wrong over several steps: the gradient reaching h_t is dh[:, t] plus "
                    "dh_prev of step t + 1."
                ),
            ),
            Probe(
                "every-step",
                N_("upstream gradient at every step"),
                sequence_inputs(),
                N_("Weight and bias gradients are sums over all time steps."),
            ),
        ),
        bugs=(
            Bug(
                bug_seq_no_dh_next,
                N_("Your gradients equal BPTT without `+ dh_next`: each step only sees its own dh[:, t]."),
            ),
            Bug(
                bug_seq_overwritten,
                N_(
                    "Your weight gradients hold only one step: they were overwritten "
                    "(=) in the loop instead of summed over time (+=)."
                ),
            ),
        ),
        helpers=(helper("gru_step_backward"),),
    ),
]
