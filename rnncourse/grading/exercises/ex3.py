"""Exercise 3 (lesson 3): backpropagation through time for the vanilla cell."""

from __future__ import annotations

import numpy as np

from rnncourse import nn
from rnncourse.grading.exercises._common import STEP_BWD_RET, cache_arg, dims, helper, normal, prefixed
from rnncourse.grading.exercises.ex1 import rnn_params
from rnncourse.grading.verdict import Bug, Probe, TaskSpec
from rnncourse.messages import N_


def step_inputs(N=None, scale=0.5, x_scale=1.0):
    def make(rng):
        n, D, H, _ = dims(rng)
        x = normal(rng, N or n, D, scale=x_scale)
        h_prev = np.tanh(normal(rng, N or n, H)) * x_scale
        p = rnn_params(rng, D, H, scale)
        h, cache = nn.rnn_step_forward(x, h_prev, p["Wx"], p["Wh"], p["b"] * x_scale)
        return {"dh_out": normal(rng, *h.shape), **prefixed("cache.", cache)}

    return make


def sequence_inputs(T=None, last_only=False):
    def make(rng):
        N, D, H, t = dims(rng)
        p = rnn_params(rng, D, H, scale=0.6)
        h, cache = nn.rnn_forward(
            normal(rng, N, T or t, D), np.tanh(normal(rng, N, H)), p["Wx"], p["Wh"], p["b"]
        )
        dh = normal(rng, N, T or t, H)
        if last_only:
            dh[:, :-1] = 0.0
        return {"dh": dh, **prefixed("cache.", cache)}

    return make


# ---------------------------------------------------------------------------------- bug models


def bug_tanh_of_output(dh_out, cache):
    da = dh_out * (1.0 - np.tanh(cache.h_next) ** 2)
    return da @ cache.Wx.T, da @ cache.Wh.T, cache.x.T @ da, cache.h_prev.T @ da, da.sum(0)


def bug_dWh_transposed(dh_out, cache):
    dx, dh_prev, dWx, dWh, db = nn.rnn_step_backward(dh_out, cache)
    return dx, dh_prev, dWx, dWh.T, db


def _steps(dh, cache, carry=True, order="backward", accumulate=True):
    """A loop over the course's step backward with switchable mistakes."""
    N, T, _ = cache.x.shape
    dx = np.zeros_like(cache.x)
    dWx, dWh, db = np.zeros_like(cache.Wx), np.zeros_like(cache.Wh), np.zeros(cache.Wh.shape[0])
    dh_next = np.zeros_like(cache.h0)
    dh0 = None
    for t in reversed(range(T)) if order == "backward" else range(T):
        h_prev = cache.h0 if t == 0 else cache.h[:, t - 1]
        step = nn.RNNStepCache(cache.x[:, t], h_prev, cache.Wx, cache.Wh, cache.h[:, t])
        dx[:, t], dh_prev, gx, gh, gb = nn.rnn_step_backward(dh[:, t] + (dh_next if carry else 0.0), step)
        dh_next = dh_prev
        if t == 0:
            dh0 = dh_prev
        if accumulate:
            dWx, dWh, db = dWx + gx, dWh + gh, db + gb
        else:
            dWx, dWh, db = gx, gh, gb
    return dx, dh_next if order == "forward" else dh0, dWx, dWh, db


def bug_no_dh_next(dh, cache):
    return _steps(dh, cache, carry=False)


def bug_loop_forwards(dh, cache):
    return _steps(dh, cache, order="forward")


def bug_overwritten(dh, cache):
    return _steps(dh, cache, accumulate=False)


TASKS = [
    TaskSpec(
        id="ex3.rnn_step_backward",
        func="rnn_step_backward",
        points=3,
        args=(("array", "dh_out"), cache_arg("RNNStepCache")),
        returns=STEP_BWD_RET,
        reference=nn.rnn_step_backward,
        probes=(
            Probe(
                "tiny",
                N_("one example, tiny activations (tanh' = 1)"),
                step_inputs(N=1, x_scale=1e-4),
                N_(
                    "Wrong even where tanh' = 1, so a matrix product is wrong: write a = x Wx + h_prev Wh + "
                    "b, then for each of x, h_prev, Wx, Wh, b ask which factor multiplies it in a, and "
                    "match the shapes (dWx must be (D, H), like Wx)."
                ),
            ),
            Probe(
                "single",
                N_("one example, ordinary activations"),
                step_inputs(N=1),
                N_(
                    "Right where tanh' = 1 but wrong elsewhere: the tanh derivative must come from the "
                    "cached OUTPUT h_next (it already is tanh(a)); do not apply tanh again."
                ),
            ),
            Probe(
                "batch",
                N_("a batch (N > 1)"),
                step_inputs(),
                N_("Right for one example, wrong for a batch: parameter gradients are sums over the batch."),
            ),
            Probe("random", N_("random inputs, larger weights"), step_inputs(scale=1.0), ""),
        ),
        bugs=(
            Bug(
                bug_tanh_of_output,
                N_(
                    "Your gradients match 1 - tanh(h_next)**2 as the tanh derivative: "
                    "h_next already is tanh(a), so the derivative is 1 - h_next**2."
                ),
            ),
            Bug(
                bug_dWh_transposed,
                N_(
                    "Your dWh is transposed: it must have the layout of Wh, (H, H) with "
                    "rows indexed by h_prev."
                ),
            ),
        ),
    ),
    TaskSpec(
        id="ex3.rnn_backward",
        func="rnn_backward",
        points=4,
        args=(("array", "dh"), cache_arg("RNNCache")),
        returns=["dx", "dh0", "dWx", "dWh", "db"],
        reference=nn.rnn_backward,
        probes=(
            Probe(
                "one-step",
                N_("one time step (T = 1)"),
                sequence_inputs(T=1),
                N_(
                    "With T = 1, rnn_backward is a single rnn_step_backward: check the per-step gradients "
                    "(and that dh0 is the dh_prev of the first step)."
                ),
            ),
            Probe(
                "last-step",
                N_("upstream gradient only at the last step"),
                sequence_inputs(last_only=True),
                N_(
                    "With a gradient only at the last step, earlier steps receive gradient only through the "
                    "recurrence: what reaches h_t is dh[:, t] plus what came back from step t + 1."
                ),
            ),
            Probe(
                "every-step",
                N_("upstream gradient at every step"),
                sequence_inputs(),
                N_(
                    "Weight gradients are sums over all time steps (the same Wx, Wh, b are used at every "
                    "step)."
                ),
            ),
        ),
        bugs=(
            Bug(
                bug_no_dh_next,
                N_(
                    "Your gradients equal those of a backward pass without `+ dh_next`: "
                    "each step only sees its own dh[:, t]."
                ),
            ),
            Bug(
                bug_loop_forwards,
                N_(
                    "Your loop runs forwards in time (t = 0, 1, ...): BPTT must start at "
                    "the last step, because step t needs the gradient coming back from "
                    "step t + 1."
                ),
            ),
            Bug(
                bug_overwritten,
                N_(
                    "Your weight gradients hold only one step: they were overwritten (=) "
                    "in the loop instead of summed over time (+=)."
                ),
            ),
        ),
        helpers=(helper("rnn_step_backward"),),
    ),
]
