"""Exercise 4 (lesson 4): clipping, and how strongly h_T depends on an early h_k."""

from __future__ import annotations

import numpy as np

from rnncourse import nn
from rnncourse.grading import reference
from rnncourse.grading.exercises._common import dims, normal
from rnncourse.grading.verdict import Bug, Probe, TaskSpec
from rnncourse.messages import N_


def grads_inputs(threshold_name, threshold, target_norm=6.0):
    def make(rng):
        _, D, H, _ = dims(rng)
        g = {"Wx": normal(rng, D, H), "Wh": normal(rng, H, H), "b": normal(rng, H)}
        total = np.sqrt(sum(float(np.sum(v * v)) for v in g.values()))
        g = {k: v * (target_norm / total) for k, v in g.items()}
        return {**{"grads." + k: v for k, v in g.items()}, threshold_name: np.asarray(float(threshold))}

    return make


def jacobian_inputs(T=None, zero_h=False, saturated=False):
    def make(rng):
        _, _, H, t = dims(rng)
        Wh = normal(rng, H, H, scale=1.2 / np.sqrt(H))
        h = np.tanh(normal(rng, T or t, H, scale=3.0 if saturated else 0.8))
        if zero_h:
            h = np.zeros_like(h)
        return {"h": h, "Wh": Wh}

    return make


# ---------------------------------------------------------------------------------- bug models


def bug_clip_per_array(grads, max_norm):
    out = {}
    for k, g in grads.items():
        n = np.linalg.norm(g)
        out[k] = g * min(1.0, max_norm / n) if n > 0 else g
    return out, nn.global_norm(grads)


def _jacobian_norms(h, Wh, tanh_from, norm):
    T, H = h.shape
    out, J = np.ones(T + 1), np.eye(H)
    for k in range(T - 1, -1, -1):
        J = J @ ((1.0 - tanh_from(h, k) ** 2)[:, None] * Wh.T)
        out[k] = norm(J)
    return out


def bug_jac_frobenius(h, Wh):
    return _jacobian_norms(h, Wh, lambda h, k: h[k], np.linalg.norm)


def bug_jac_no_tanh(h, Wh):
    return reference.jacobian_norms(np.zeros_like(h), Wh)


def bug_jac_off_by_one(h, Wh):
    """Takes the tanh factor from h_(t-1) (the state before the step) instead of h_t."""
    return _jacobian_norms(
        h, Wh, lambda h, k: h[k - 1] if k > 0 else np.zeros(h.shape[1]), lambda J: np.linalg.norm(J, 2)
    )


TASKS = [
    TaskSpec(
        id="ex4.clip_by_global_norm",
        func="clip_by_global_norm",
        points=2,
        args=(("dict", "grads."), ("float", "max_norm")),
        returns=[("dict", "clipped."), "norm"],
        reference=nn.clip_by_global_norm,
        probes=(
            Probe(
                "clip-1",
                N_("norm 6 clipped to max_norm = 1"),
                grads_inputs("max_norm", 1.0),
                N_(
                    "When the global norm exceeds max_norm every array is scaled by max_norm / norm, where "
                    "norm = sqrt(sum of squares over ALL arrays); return (clipped, norm before clipping)."
                ),
            ),
            Probe(
                "no-clip",
                N_("norm 6 with max_norm = 100 (no change)"),
                grads_inputs("max_norm", 100.0),
                N_(
                    "Below the threshold nothing may change. Right for max_norm = 1 but wrong here: is the "
                    "threshold hard-coded instead of taken from max_norm?"
                ),
            ),
            Probe(
                "clip-2.5",
                N_("norm 6 clipped to max_norm = 2.5"),
                grads_inputs("max_norm", 2.5),
                N_(
                    "Right for one threshold and wrong for another: is the threshold hard-coded instead of "
                    "taken from max_norm?"
                ),
            ),
        ),
        bugs=(
            Bug(
                bug_clip_per_array,
                N_(
                    "You clipped each array by its own norm: the norm must be global, "
                    "over all arrays together."
                ),
            ),
        ),
    ),
    TaskSpec(
        id="ex4.clip_by_value",
        func="clip_by_value",
        points=1,
        args=(("dict", "grads."), ("float", "clip_value")),
        returns=("dict", "clipped."),
        reference=nn.clip_by_value,
        probes=(
            Probe(
                "clip-0.5",
                N_("entries clamped to [-0.5, 0.5]"),
                grads_inputs("clip_value", 0.5),
                N_("Every entry must be clamped to [-clip_value, clip_value] (np.clip); return a new dict."),
            ),
            Probe(
                "no-clip",
                N_("clip_value = 100 (no change)"),
                grads_inputs("clip_value", 100.0),
                N_("Nothing may change when every entry is inside the range. Is the threshold hard-coded?"),
            ),
            Probe(
                "clip-1.5",
                N_("entries clamped to [-1.5, 1.5]"),
                grads_inputs("clip_value", 1.5),
                N_(
                    "Right for one threshold and wrong for another: is the threshold hard-coded instead of "
                    "taken from clip_value?"
                ),
            ),
        ),
    ),
    TaskSpec(
        id="ex4.jacobian_norms",
        func="jacobian_norms",
        points=3,
        args=(("array", "h"), ("array", "Wh")),
        returns="norms",
        reference=reference.jacobian_norms,
        probes=(
            Probe(
                "one-step",
                N_("one step (T = 1)"),
                jacobian_inputs(T=1),
                N_(
                    "With T = 1 there are two entries: norms[1] = ||I|| = 1 (dh_1/dh_1) and norms[0] = the "
                    "spectral norm of diag(1 - h_1**2) @ Wh.T with h_1 = h[0]. The line above says which "
                    "entry is wrong."
                ),
            ),
            Probe(
                "linear",
                N_("linear region (h = 0, so tanh' = 1)"),
                jacobian_inputs(zero_h=True),
                N_(
                    "With h = 0 every Jacobian is Wh.T and dh_T/dh_k = (Wh.T)^(T-k): check the product and "
                    "that you use the spectral norm np.linalg.norm(J, 2)."
                ),
            ),
            Probe(
                "saturated",
                N_("saturated states"),
                jacobian_inputs(saturated=True),
                N_(
                    "The tanh factor is wrong: dh_t/dh_(t-1) = diag(1 - h_t**2) @ Wh.T uses h_t, the state "
                    "AFTER that step."
                ),
            ),
            Probe("random", N_("random states"), jacobian_inputs(), ""),
        ),
        bugs=(
            Bug(
                bug_jac_frobenius,
                N_(
                    "You used the Frobenius norm; the task asks for the spectral norm (np.linalg.norm(J, 2))."
                ),
            ),
            Bug(bug_jac_no_tanh, N_("Your norms ignore the tanh derivative diag(1 - h_t**2).")),
            Bug(bug_jac_off_by_one, N_("Your tanh factor uses h_(t-1) instead of h_t.")),
        ),
    ),
]
