"""What each graded task is, how to call it, which inputs probe it and how to read the answers.

A task (``"ex3.rnn_backward"``) is a ``TaskSpec``: the function name, its argument and return
structure (see ``_driver``), the reference implementation, and an ordered list of ``Probe``s.
Probes go from the most isolated situation to the most general one (one step before many; one
gradient path before both; tiny activations before large ones), so the *first* probe that fails
says where the bug is, and its hint names the likely cause. On top of that every output is
compared on its own (shape, dtype, NaN, value; with hints for a transposed matrix, a wrong sign,
a constant factor or a gradient not summed over the batch), every argument is compared before
and after the call (in-place mutation), and ``alternatives`` (implementations of classic bugs)
are matched against the student's answer.

The same code serves ``check`` (public inputs, in the notebook) and the grader (inputs drawn at
grading time; comparisons in the grader's process, never in the student's kernel).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from rnncourse import nn
from rnncourse.grading import _driver, reference

__all__ = ["Probe", "TaskSpec", "ProbeResult", "TaskResult", "TASKS", "EXERCISES", "get_task",
           "tasks_of", "make_inputs", "evaluate_probe", "finish_task", "run_in_process",
           "GRADED_FUNCTIONS"]


@dataclass(frozen=True)
class Probe:
    name: str
    title: str
    make: Callable            # make(rng) -> {input name: ndarray}
    hint: str = ""            # shown when this is the first probe that fails


@dataclass(frozen=True)
class TaskSpec:
    id: str
    func: str
    points: int
    args: tuple
    returns: object
    reference: Optional[Callable]
    probes: tuple
    rtol: float = 1e-6
    atol: float = 1e-9
    alternatives: tuple = ()  # (implementation of a classic bug, message)
    helpers: tuple = ()       # other graded functions this one may call: the course's are used
    score: Optional[Callable] = None   # custom verdict: score(outputs, inputs) -> list of problems
    timeout: Optional[int] = None   # seconds for all probes in the grader (None: the grader's default)

    @property
    def exercise(self):
        return self.id.split(".")[0]


@dataclass
class ProbeResult:
    probe: str
    title: str
    passed: bool
    problems: list = field(default_factory=list)     # (kind, message)


@dataclass
class TaskResult:
    task: str
    points: float
    max_points: int
    probes: list
    diagnosis: list
    flags: list = field(default_factory=list)

    @property
    def passed(self):
        return self.points == self.max_points


# ----------------------------------------------------------------------------------------- inputs

def _dims(rng):
    N = int(rng.integers(2, 5))
    D = int(rng.integers(3, 7))
    H = int(rng.integers(4, 8))
    if H == D:
        H += 1
    T = int(rng.integers(4, 8))
    return N, D, H, T


def _normal(rng, *shape, scale=1.0):
    return rng.normal(scale=scale, size=shape)


def _rnn_params(rng, D, H, scale=0.5):
    return {"Wx": _normal(rng, D, H, scale=scale), "Wh": _normal(rng, H, H, scale=scale),
            "b": _normal(rng, H, scale=scale)}


def _prefixed(prefix, cache):
    return {prefix + f: np.asarray(v) for f, v in cache._asdict().items()}


# ex1 -------------------------------------------------------------------------------------------

def _step_fwd_inputs(zero=(), N=None, scale=0.5):
    def make(rng):
        n, D, H, _ = _dims(rng)
        n = N or n
        inp = {"x": _normal(rng, n, D), "h_prev": np.tanh(_normal(rng, n, H)), **_rnn_params(rng, D, H, scale)}
        for k in zero:
            inp[k] = np.zeros_like(inp[k])
        return inp
    return make


def _seq_fwd_inputs(T=None, zero=()):
    def make(rng):
        N, D, H, t = _dims(rng)
        inp = {"x": _normal(rng, N, T or t, D), "h0": np.tanh(_normal(rng, N, H)), **_rnn_params(rng, D, H)}
        for k in zero:
            inp[k] = np.zeros_like(inp[k])
        return inp
    return make


# ex2 -------------------------------------------------------------------------------------------

def _loss_inputs(N=None, T=None, masked=False, big=False):
    def make(rng):
        n, _, _, t = _dims(rng)
        n, t = N or n, T or t
        V = int(rng.integers(3, 7))
        scores = _normal(rng, n, t, V, scale=1000.0 if big else 1.5)
        y = rng.integers(0, V, size=(n, t))
        mask = np.ones((n, t))
        if masked:
            mask = (rng.random((n, t)) < 0.6).astype(np.float64)
            mask[0, 0], mask[-1, -1] = 1.0, 0.0
            y[mask == 0] = -1            # padding targets may be anything; the course uses -1
        return {"scores": scores, "y": y.astype(np.int64), "mask": mask}
    return make


# ex3 -------------------------------------------------------------------------------------------

def _step_bwd_inputs(N=None, scale=0.5, x_scale=1.0):
    def make(rng):
        n, D, H, _ = _dims(rng)
        n = N or n
        x = _normal(rng, n, D, scale=x_scale)
        h_prev = np.tanh(_normal(rng, n, H)) * x_scale
        p = _rnn_params(rng, D, H, scale)
        h, cache = nn.rnn_step_forward(x, h_prev, p["Wx"], p["Wh"], p["b"] * x_scale)
        return {"dh_next": _normal(rng, *h.shape), **_prefixed("cache.", cache)}
    return make


def _seq_bwd_inputs(T=None, last_only=False):
    def make(rng):
        N, D, H, t = _dims(rng)
        T_ = T or t
        p = _rnn_params(rng, D, H, scale=0.6)
        h, cache = nn.rnn_forward(_normal(rng, N, T_, D), np.tanh(_normal(rng, N, H)), p["Wx"], p["Wh"], p["b"])
        dh = _normal(rng, N, T_, H)
        if last_only:
            dh[:, :-1] = 0.0
        cache = cache._replace(h=np.ascontiguousarray(cache.h))
        return {"dh": dh, **_prefixed("cache.", cache)}
    return make


# ex4 -------------------------------------------------------------------------------------------

def _grads_inputs(threshold_name, threshold, target_norm=6.0, value_scale=1.0):
    def make(rng):
        _, D, H, _ = _dims(rng)
        g = {"Wx": _normal(rng, D, H), "Wh": _normal(rng, H, H), "b": _normal(rng, H)}
        total = np.sqrt(sum(float(np.sum(v * v)) for v in g.values()))
        g = {k: v * (target_norm / total) * value_scale for k, v in g.items()}
        return {**{"grads." + k: v for k, v in g.items()}, threshold_name: np.asarray(float(threshold))}
    return make


def _jac_inputs(T=None, zero_h=False, saturated=False):
    def make(rng):
        _, _, H, t = _dims(rng)
        T_ = T or t
        Wh = _normal(rng, H, H, scale=1.2 / np.sqrt(H))
        h = np.tanh(_normal(rng, T_, H, scale=3.0 if saturated else 0.8))
        if zero_h:
            h = np.zeros_like(h)
        return {"h": h, "Wh": Wh}
    return make


# ex5 -------------------------------------------------------------------------------------------

def _lstm_params(rng, D, H, gate_bias=None):
    p = {"Wx": _normal(rng, D, 4 * H, scale=0.5), "Wh": _normal(rng, H, 4 * H, scale=0.5),
         "b": _normal(rng, 4 * H, scale=0.5)}
    for gate, value in (gate_bias or {}).items():
        k = "ifgo".index(gate)
        p["b"][k * H:(k + 1) * H] = value
    return p


def _lstm_fwd_inputs(gate_bias=None):
    def make(rng):
        N, D, H, _ = _dims(rng)
        return {"x": _normal(rng, N, D), "h_prev": np.tanh(_normal(rng, N, H)),
                "c_prev": _normal(rng, N, H), **_lstm_params(rng, D, H, gate_bias)}
    return make


def _lstm_bwd_inputs(dh=True, dc=True, N=None):
    def make(rng):
        n, D, H, _ = _dims(rng)
        n = N or n
        p = _lstm_params(rng, D, H)
        h, c, cache = nn.lstm_step_forward(_normal(rng, n, D), np.tanh(_normal(rng, n, H)), _normal(rng, n, H),
                                           p["Wx"], p["Wh"], p["b"])
        return {"dh_next": _normal(rng, n, H) * dh, "dc_next": _normal(rng, n, H) * dc,
                **_prefixed("cache.", cache)}
    return make


# ex6 -------------------------------------------------------------------------------------------

def _gru_params(rng, D, H, gate_bias=None):
    p = {"Wx": _normal(rng, D, 3 * H, scale=0.5), "Wh": _normal(rng, H, 3 * H, scale=0.5),
         "bx": _normal(rng, 3 * H, scale=0.5), "bh": _normal(rng, 3 * H, scale=0.5)}
    for gate, value in (gate_bias or {}).items():
        k = "rzn".index(gate)
        p["bx"][k * H:(k + 1) * H] = value
    return p


def _gru_fwd_inputs(gate_bias=None):
    def make(rng):
        N, D, H, _ = _dims(rng)
        return {"x": _normal(rng, N, D), "h_prev": np.tanh(_normal(rng, N, H)), **_gru_params(rng, D, H, gate_bias)}
    return make


def _gru_bwd_inputs(gate_bias=None, N=None):
    def make(rng):
        n, D, H, _ = _dims(rng)
        n = N or n
        p = _gru_params(rng, D, H, gate_bias)
        h, cache = nn.gru_step_forward(_normal(rng, n, D), np.tanh(_normal(rng, n, H)), p["Wx"], p["Wh"],
                                       p["bx"], p["bh"])
        return {"dh_next": _normal(rng, n, H), **_prefixed("cache.", cache)}
    return make


# ex7 -------------------------------------------------------------------------------------------

def _temp_inputs(temperature, big=False, with_u=False):
    def make(rng):
        N, _, _, _ = _dims(rng)
        V = int(rng.integers(4, 9))
        inp = {"scores": _normal(rng, N + 3, V, scale=800.0 if big else 2.0),
               "temperature": np.asarray(float(temperature))}
        if with_u:
            inp["u"] = rng.random(N + 3)
        return inp
    return make


def _train_inputs(rng):
    return {"seed": np.asarray(int(rng.integers(0, 2**31 - 1)))}


def _score_long_range(outputs, inputs, rng):
    """The student's trained model, evaluated here (never in the kernel) on fresh data."""
    task = reference.long_range_task()
    cell = str(outputs.get("model.cell", ""))
    if cell not in ("lstm", "gru"):
        return [("value", f"the model must be gated (cell 'lstm' or 'gru'), got cell {cell!r}")]
    params = {k[len("model.params."):]: v for k, v in outputs.items() if k.startswith("model.params.")}
    spec = nn.get_cell(cell)
    needed = list(spec.param_names) + ["Wy", "by"]
    missing = [k for k in needed if k not in params]
    if missing:
        return [("value", f"the model's params lack {missing}")]
    params = {k: np.asarray(params[k], dtype=np.float64) for k in needed}
    model = nn.SequenceModel(cell, params, loss="softmax")
    try:
        batch = task.sample(1000, rng)
        acc = nn.evaluate(model, batch)["accuracy"]
    except Exception as exc:
        return [("value", f"the returned model cannot be evaluated on the task: {type(exc).__name__}: {exc}")]
    if not np.isfinite(acc) or acc < reference.LONG_RANGE_TARGET:
        return [("value", f"accuracy on fresh data is {acc:.3f}, the target is {reference.LONG_RANGE_TARGET}: "
                          "train longer, use a larger hidden state, clip gradients, or tune the learning rate")]
    return []


# ---------------------------------------------------------------------------------- bug models
# Implementations of classic mistakes. When a student's answer matches one of them on a failing
# probe, the feedback names the mistake.

def _bug_tanh_of_output(dh_next, cache):
    da = dh_next * (1.0 - np.tanh(cache.h_next) ** 2)
    return da @ cache.Wx.T, da @ cache.Wh.T, cache.x.T @ da, cache.h_prev.T @ da, da.sum(0)


def _bug_dWh_transposed(dh_next, cache):
    dx, dh_prev, dWx, dWh, db = nn.rnn_step_backward(dh_next, cache)
    return dx, dh_prev, dWx, dWh.T, db


def _bug_no_dh_next(dh, cache):
    out = [np.zeros_like(cache.x), None, np.zeros_like(cache.Wx), np.zeros_like(cache.Wh),
           np.zeros(cache.Wh.shape[0])]
    T = cache.x.shape[1]
    for t in range(T):
        h_prev = cache.h0 if t == 0 else cache.h[:, t - 1]
        c = nn.RNNStepCache(cache.x[:, t], h_prev, cache.Wx, cache.Wh, cache.h[:, t])
        dx, dhp, dWx, dWh, db = nn.rnn_step_backward(dh[:, t], c)
        out[0][:, t] = dx
        out[2] += dWx
        out[3] += dWh
        out[4] += db
        if t == 0:
            out[1] = dhp
    return tuple(out)


def _bug_lstm_no_dc_next(dh_next, dc_next, cache):
    return nn.lstm_step_backward(dh_next, np.zeros_like(dc_next), cache)


def _bug_gru_swapped_z(x, h_prev, Wx, Wh, bx, bh):
    h, cache = nn.gru_step_forward(x, h_prev, Wx, Wh, bx, bh)
    return cache.z * cache.n + (1.0 - cache.z) * h_prev, None


def _bug_clip_per_array(grads, max_norm):
    out = {}
    for k, g in grads.items():
        n = np.linalg.norm(g)
        out[k] = g * min(1.0, max_norm / n) if n > 0 else g
    return out, nn.global_norm(grads)


def _bug_jac_frobenius(h, Wh):
    T, H = h.shape
    out, J = np.ones(T + 1), np.eye(H)
    for k in range(T - 1, -1, -1):
        J = J @ ((1.0 - h[k] ** 2)[:, None] * Wh.T)
        out[k] = np.linalg.norm(J)
    return out


def _bug_jac_no_tanh(h, Wh):
    return reference.jacobian_norms(np.zeros_like(h), Wh)


def _bug_jac_off_by_one(h, Wh):
    """Takes the tanh factor from h_{t-1} (the state before the step) instead of h_t."""
    T, H = h.shape
    out, J = np.ones(T + 1), np.eye(H)
    for k in range(T - 1, -1, -1):
        h_before = h[k - 1] if k > 0 else np.zeros(H)
        J = J @ ((1.0 - h_before ** 2)[:, None] * Wh.T)
        out[k] = np.linalg.norm(J, 2)
    return out


def _bug_loss_mean_over_steps(scores, y, mask):
    loss, d = nn.temporal_softmax_loss(scores, y, mask)
    s = float(np.sum(mask))
    N = scores.shape[0]
    return loss * N / s, d * N / s


# -------------------------------------------------------------------------------------- registry

_STEP_BWD_RET = ["dx", "dh_prev", "dWx", "dWh", "db"]
_CACHE = lambda cls: ("cache", cls, "cache.")   # noqa: E731


def _build():
    T = [
        TaskSpec(
            "ex1.rnn_step_forward", "rnn_step_forward", 2,
            (("array", "x"), ("array", "h_prev"), ("array", "Wx"), ("array", "Wh"), ("array", "b")),
            ["h_next", None], nn.rnn_step_forward,
            (Probe("input", "input term only (h_prev = 0, b = 0)", _step_fwd_inputs(("h_prev", "b")),
                   "With h_prev = 0 and b = 0 only tanh(x @ Wx) is left, and it is wrong: check the input "
                   "term x @ Wx (x is (N, D), Wx is (D, H)) and the tanh."),
             Probe("recurrent", "recurrent term only (x = 0, b = 0)", _step_fwd_inputs(("x", "b")),
                   "With x = 0 and b = 0 only tanh(h_prev @ Wh) is left, and it is wrong: the recurrent term is "
                   "h_prev @ Wh (row vectors times Wh, not Wh transposed)."),
             Probe("bias", "bias only (x = 0, h_prev = 0)", _step_fwd_inputs(("x", "h_prev")),
                   "With x = 0 and h_prev = 0 only tanh(b) is left, and it is wrong: add b (shape (H,)) to every row."),
             Probe("random", "random inputs", _step_fwd_inputs(),
                   "Each term alone is right but their combination is not: all three go inside one tanh."))),
        TaskSpec(
            "ex1.rnn_forward", "rnn_forward", 3,
            (("array", "x"), ("array", "h0"), ("array", "Wx"), ("array", "Wh"), ("array", "b")),
            ["h", None], nn.rnn_forward,
            (Probe("one-step", "one time step (T = 1)", _seq_fwd_inputs(T=1),
                   "With T = 1, h[:, 0] must equal rnn_step_forward(x[:, 0], h0, Wx, Wh, b)."),
             Probe("no-recurrence", "no recurrence (Wh = 0, h0 = 0)", _seq_fwd_inputs(zero=("Wh", "h0")),
                   "With Wh = 0 every step is independent: step t must use x[:, t] and store its result in h[:, t]."),
             Probe("h0-only", "only h0 drives the sequence (x = 0, b = 0)", _seq_fwd_inputs(zero=("x", "b")),
                   "With x = 0 and b = 0 everything comes from h0: start from h0 and feed each h_t into step t + 1."),
             Probe("random", "random inputs", _seq_fwd_inputs(),
                   "Check that each step feeds the previous hidden state, not h0, into the next one.")),
            helpers=("rnn_step_forward",)),
        TaskSpec(
            "ex2.temporal_softmax_loss", "temporal_softmax_loss", 4,
            (("array", "scores"), ("array", "y"), ("array", "mask")), ["loss", "dscores"],
            nn.temporal_softmax_loss,
            (Probe("single", "one example, one step (N = T = 1)", _loss_inputs(N=1, T=1),
                   "For one prediction loss = -log softmax(scores)[y] and dscores = softmax(scores) - onehot(y)."),
             Probe("batch", "a batch of sequences, mask of ones", _loss_inputs(),
                   "The loss is summed over time steps and averaged over the batch: divide by N only; "
                   "dscores gets the same 1/N."),
             Probe("mask", "with a mask (masked targets are -1)", _loss_inputs(masked=True),
                   "Steps with mask = 0 must add nothing to the loss and get zero gradient (their target may be -1); "
                   "still divide by N, not by the number of unmasked steps."),
             Probe("large", "scores of size 1000", _loss_inputs(big=True),
                   "Large scores overflow exp(): subtract each row's maximum before exponentiating "
                   "(or use a log-softmax).")),
            alternatives=((_bug_loss_mean_over_steps,
                           "Your loss is averaged over the unmasked steps; the course sums over time and "
                           "averages over the batch only (divide by N)."),)),
        TaskSpec(
            "ex3.rnn_step_backward", "rnn_step_backward", 3,
            (("array", "dh_next"), _CACHE("RNNStepCache")), _STEP_BWD_RET, nn.rnn_step_backward,
            (Probe("tiny", "one example, tiny activations (tanh' = 1)", _step_bwd_inputs(N=1, x_scale=1e-4),
                   "Wrong even where tanh' = 1, so a matrix product is wrong: with da the pre-activation gradient, "
                   "dx = da @ Wx.T, dh_prev = da @ Wh.T, dWx = x.T @ da, dWh = h_prev.T @ da, db = sum of da."),
             Probe("single", "one example, ordinary activations", _step_bwd_inputs(N=1),
                   "Right where tanh' = 1 but wrong elsewhere: the tanh derivative is 1 - h_next**2, computed "
                   "from the cached OUTPUT h_next (do not apply tanh again, do not use the pre-activation)."),
             Probe("batch", "a batch (N > 1)", _step_bwd_inputs(),
                   "Right for one example, wrong for a batch: parameter gradients are sums over the batch "
                   "(db = da.sum(axis=0))."),
             Probe("random", "random inputs, larger weights", _step_bwd_inputs(scale=1.0), "")),
            alternatives=((_bug_tanh_of_output,
                           "Your gradients match 1 - tanh(h_next)**2 as the tanh derivative: h_next already is "
                           "tanh(a), so the derivative is 1 - h_next**2."),
                          (_bug_dWh_transposed, "Your dWh is transposed: dWh = h_prev.T @ da, shape (H, H)."))),
        TaskSpec(
            "ex3.rnn_backward", "rnn_backward", 4,
            (("array", "dh"), _CACHE("RNNCache")), ["dx", "dh0", "dWx", "dWh", "db"], nn.rnn_backward,
            (Probe("one-step", "one time step (T = 1)", _seq_bwd_inputs(T=1),
                   "With T = 1, rnn_backward is a single rnn_step_backward: check the per-step gradients "
                   "(and that dh0 is the dh_prev of the first step)."),
             Probe("last-step", "upstream gradient only at the last step", _seq_bwd_inputs(last_only=True),
                   "With a gradient only at the last step, earlier steps receive gradient only through the "
                   "recurrence: the gradient reaching h_t is dh[:, t] + dh_next. Did you forget `+ dh_next`?"),
             Probe("every-step", "upstream gradient at every step", _seq_bwd_inputs(),
                   "Weight gradients are sums over all time steps (the same Wx, Wh, b are used at every step).")),
            alternatives=((_bug_no_dh_next,
                           "Your gradients equal those of a backward pass without `+ dh_next`: each step only "
                           "sees its own dh[:, t]."),),
            helpers=("rnn_step_backward",)),
        TaskSpec(
            "ex4.clip_by_global_norm", "clip_by_global_norm", 2,
            (("dict", "grads."), ("float", "max_norm")), [("dict", "clipped."), "norm"], nn.clip_by_global_norm,
            (Probe("clip-1", "norm 6 clipped to max_norm = 1", _grads_inputs("max_norm", 1.0),
                   "When the global norm exceeds max_norm every array is scaled by max_norm / norm, where norm = "
                   "sqrt(sum of squares over ALL arrays); return (clipped, norm before clipping)."),
             Probe("no-clip", "norm 6 with max_norm = 100 (no change)", _grads_inputs("max_norm", 100.0),
                   "Below the threshold nothing may change. Right for max_norm = 1 but wrong here: is the "
                   "threshold hard-coded instead of taken from max_norm?"),
             Probe("clip-2.5", "norm 6 clipped to max_norm = 2.5", _grads_inputs("max_norm", 2.5),
                   "Right for one threshold and wrong for another: is the threshold hard-coded instead of "
                   "taken from max_norm?")),
            alternatives=((_bug_clip_per_array,
                           "You clipped each array by its own norm: the norm must be global, over all arrays together."),)),
        TaskSpec(
            "ex4.clip_by_value", "clip_by_value", 1,
            (("dict", "grads."), ("float", "clip_value")), ("dict", "clipped."), nn.clip_by_value,
            (Probe("clip-0.5", "entries clamped to [-0.5, 0.5]", _grads_inputs("clip_value", 0.5),
                   "Every entry must be clamped to [-clip_value, clip_value] (np.clip); return a new dict."),
             Probe("no-clip", "clip_value = 100 (no change)", _grads_inputs("clip_value", 100.0),
                   "Nothing may change when every entry is inside the range. Is the threshold hard-coded?"),
             Probe("clip-1.5", "entries clamped to [-1.5, 1.5]", _grads_inputs("clip_value", 1.5),
                   "Right for one threshold and wrong for another: is the threshold hard-coded instead of "
                   "taken from clip_value?"))),
        TaskSpec(
            "ex4.jacobian_norms", "jacobian_norms", 3,
            (("array", "h"), ("array", "Wh")), "norms", reference.jacobian_norms,
            (Probe("one-step", "one step (T = 1)", _jac_inputs(T=1),
                   "dh_T/dh_T is the identity: its norm is 1, so the last entry is always 1."),
             Probe("linear", "linear region (h = 0, so tanh' = 1)", _jac_inputs(zero_h=True),
                   "With h = 0 every Jacobian is Wh.T and dh_T/dh_k = (Wh.T)^(T-k): check the product and "
                   "that you use the spectral norm np.linalg.norm(J, 2)."),
             Probe("saturated", "saturated states", _jac_inputs(saturated=True),
                   "The tanh factor is wrong: dh_t/dh_(t-1) = diag(1 - h_t**2) @ Wh.T uses h_t, the state AFTER "
                   "that step."),
             Probe("random", "random states", _jac_inputs(), "")),
            alternatives=((_bug_jac_frobenius, "You used the Frobenius norm; the task asks for the spectral norm "
                                               "(np.linalg.norm(J, 2))."),
                          (_bug_jac_no_tanh, "Your norms ignore the tanh derivative diag(1 - h_t**2)."),
                          (_bug_jac_off_by_one, "Your tanh factor uses h_(t-1) instead of h_t."))),
        TaskSpec(
            "ex5.lstm_step_forward", "lstm_step_forward", 3,
            (("array", "x"), ("array", "h_prev"), ("array", "c_prev"), ("array", "Wx"), ("array", "Wh"),
             ("array", "b")), ["h_next", "c_next", None], nn.lstm_step_forward,
            (Probe("keep", "forget gate open, input gate shut (f = 1, i = 0)",
                   _lstm_fwd_inputs({"f": 40.0, "i": -40.0}),
                   "With f = 1 and i = 0 the cell must keep its content: c_next = f * c_prev + i * g = c_prev. "
                   "Check the gate order i, f, g, o in Wx, Wh and b."),
             Probe("closed-output", "output gate shut (o = 0)", _lstm_fwd_inputs({"o": -40.0}),
                   "With o = 0, h_next = o * tanh(c_next) must be 0 (the output gate is the LAST block)."),
             Probe("random", "random inputs", _lstm_fwd_inputs(),
                   "i, f, o use the sigmoid and g uses tanh; c_next = f * c_prev + i * g; h_next = o * tanh(c_next)."))),
        TaskSpec(
            "ex5.lstm_step_backward", "lstm_step_backward", 4,
            (("array", "dh_next"), ("array", "dc_next"), _CACHE("LSTMStepCache")),
            ["dx", "dh_prev", "dc_prev", "dWx", "dWh", "db"], nn.lstm_step_backward,
            (Probe("hidden-path", "gradient through h only (dc_next = 0)", _lstm_bwd_inputs(dc=False),
                   "With dc_next = 0 the gradient comes only through h_next = o * tanh(c_next): check do, and "
                   "dc = dh_next * o * (1 - tanh(c_next)**2), then the gate derivatives."),
             Probe("cell-path", "gradient through the cell state only (dh_next = 0)", _lstm_bwd_inputs(dh=False),
                   "With dh_next = 0 the gradient arrives only through the cell state: "
                   "dc = dc_next + dh_next * o * (1 - tanh(c_next)**2). Did you miss the dc_next path?"),
             Probe("both", "both paths", _lstm_bwd_inputs(),
                   "Each path alone is right; the two must be ADDED into dc.")),
            alternatives=((_bug_lstm_no_dc_next,
                           "Your gradients equal a backward pass that ignores dc_next (the cell-state path)."),)),
        TaskSpec(
            "ex6.gru_step_forward", "gru_step_forward", 3,
            (("array", "x"), ("array", "h_prev"), ("array", "Wx"), ("array", "Wh"), ("array", "bx"),
             ("array", "bh")), ["h_next", None], nn.gru_step_forward,
            (Probe("copy", "update gate z = 1 (the cell must copy h_prev)", _gru_fwd_inputs({"z": 40.0}),
                   "In this course z weighs the OLD state: h_next = (1 - z) * n + z * h_prev, so z = 1 copies "
                   "h_prev. Did you swap z and 1 - z?"),
             Probe("reset", "z = 0 and reset gate r = 0", _gru_fwd_inputs({"z": -40.0, "r": -40.0}),
                   "With r = 0 the candidate is n = tanh(x Wx_n + bx_n): r multiplies (h_prev @ Wh_n + bh_n), "
                   "the whole hidden part including bh_n. Gate order is r, z, n."),
             Probe("random", "random inputs", _gru_fwd_inputs(), "")),
            alternatives=((_bug_gru_swapped_z, "Your h_next equals z * n + (1 - z) * h_prev: the course's convention "
                                               "is h_next = (1 - z) * n + z * h_prev."),)),
        TaskSpec(
            "ex6.gru_step_backward", "gru_step_backward", 4,
            (("array", "dh_next"), _CACHE("GRUStepCache")), ["dx", "dh_prev", "dWx", "dWh", "dbx", "dbh"],
            nn.gru_step_backward,
            (Probe("copy", "update gate z = 1 (gradient passes straight to h_prev)", _gru_bwd_inputs({"z": 40.0}),
                   "With z = 1, h_next = h_prev, so dh_prev = dh_next and nothing reaches the candidate. "
                   "Did you swap z and 1 - z? (dn = dh_next * (1 - z), direct path dh_next * z)"),
             Probe("reset", "z = 0 and r = 0", _gru_bwd_inputs({"z": -40.0, "r": -40.0}),
                   "With r = 0 the hidden part of the candidate gets no gradient: the candidate's gradient "
                   "reaches h_prev @ Wh_n + bh_n multiplied by r."),
             Probe("random", "random inputs", _gru_bwd_inputs(), ""))),
        TaskSpec(
            "ex7.temperature_softmax", "temperature_softmax", 2,
            (("array", "scores"), ("float", "temperature")), "p", reference.temperature_softmax,
            (Probe("t1", "temperature 1 (plain softmax)", _temp_inputs(1.0),
                   "At temperature 1 this is the softmax of each row."),
             Probe("t0.5", "temperature 0.5", _temp_inputs(0.5),
                   "Divide the scores by the temperature before the softmax; is the temperature hard-coded?"),
             Probe("t0", "temperature 0 (greedy)", _temp_inputs(0.0),
                   "Temperature 0 is the limit T -> 0: a one-hot at the arg max (do not divide by zero)."),
             Probe("large", "scores of size 800 at temperature 0.1", _temp_inputs(0.1, big=True),
                   "Large scores / T overflow exp(): subtract the row maximum first."))),
        TaskSpec(
            "ex7.sample_with_temperature", "sample_with_temperature", 2,
            (("array", "scores"), ("float", "temperature"), ("array", "u")), "ids", reference.sample_with_temperature,
            (Probe("t1", "temperature 1", _temp_inputs(1.0, with_u=True),
                   "Pick the first j with cumsum(p)[j] > u (inverse-CDF sampling), one per row."),
             Probe("t0", "temperature 0 (greedy)", _temp_inputs(0.0, with_u=True),
                   "At temperature 0 the sample is the arg max of each row, whatever u is."),
             Probe("t3", "temperature 3", _temp_inputs(3.0, with_u=True),
                   "Right at one temperature, wrong at another: is the temperature hard-coded?"))),
        TaskSpec(
            "ex7.train_long_range", "train_long_range", 5, (("int", "seed"),), ("model", "model."), None,
            (Probe("trained", "the returned model on fresh data of the copy task", _train_inputs, ""),),
            score=_score_long_range, timeout=120),
    ]
    return {t.id: t for t in T}


TASKS = _build()
EXERCISES = {}
for _t in TASKS.values():
    EXERCISES.setdefault(_t.exercise, []).append(_t.id)

#: function names students write; calling the package's version of any of these is flagged, and so
#: is calling the plain-loop twin that rnncourse.nn keeps beside a sequence kernel (rnn_forward_loop)
GRADED_FUNCTIONS = frozenset(n for t in TASKS.values() for n in (t.func, t.func + "_loop"))


def get_task(task_id):
    if task_id not in TASKS:
        raise KeyError(f"unknown task {task_id!r}; known tasks: {', '.join(TASKS)}")
    return TASKS[task_id]


def tasks_of(exercise):
    return [TASKS[t] for t in EXERCISES.get(exercise, [])]


def make_inputs(spec, seed):
    """``{probe name: inputs}`` for every probe of ``spec``; each probe gets its own stream."""
    return {p.name: p.make(np.random.default_rng([seed, i])) for i, p in enumerate(spec.probes)}


# ------------------------------------------------------------------------------------ comparing

def _same(a, b):
    try:
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    except TypeError:
        return False


def _close(spec, s, r):
    scale = max(1.0, float(np.max(np.abs(r)))) if r.size else 1.0
    return np.allclose(s, r, rtol=spec.rtol, atol=spec.atol * scale)


def _output_problems(spec, name, s, r, N):
    if s is None:
        return [("missing", f"`{name}` is missing from what the function returned")]
    if s.dtype.kind not in "biuf" or s.dtype == bool:
        return [("dtype", f"`{name}` has dtype {s.dtype}, expected numbers ({r.dtype})")]
    if s.shape != r.shape:
        msg = f"`{name}` has shape {s.shape}, expected {r.shape}"
        if N and s.shape == (N,) + r.shape:
            msg += ": it was not summed over the batch axis (axis 0)"
        elif s.ndim == 2 and s.shape == r.shape[::-1]:
            msg += ": it is transposed"
        return [("shape", msg)]
    if r.dtype.kind == "f" and s.dtype != r.dtype:
        return [("dtype", f"`{name}` has dtype {s.dtype}, expected {r.dtype} (keep float64 throughout)")]
    if r.dtype.kind in "iu" and s.dtype.kind not in "iu":
        return [("dtype", f"`{name}` has dtype {s.dtype}, expected integers")]
    s64, r64 = s.astype(np.float64), r.astype(np.float64)
    if not np.all(np.isfinite(s64)):
        return [("nan", f"`{name}` contains NaN or inf")]
    if _close(spec, s64, r64):
        return []
    err = float(np.max(np.abs(s64 - r64)))
    msg = f"`{name}` is wrong (largest difference {err:.3g})"
    if s64.ndim == 2 and s64.shape[0] == s64.shape[1] and _close(spec, s64, r64.T):
        msg += ": it equals the transpose of the right answer"
    elif _close(spec, -s64, r64):
        msg += ": it has the wrong sign"
    else:
        nz = np.abs(r64) > 1e-12
        if nz.any():
            ratio = s64[nz] / r64[nz]
            if not np.any(s64):
                msg += ": it is all zeros"
            elif np.allclose(ratio, ratio[0], rtol=1e-6) and _close(spec, s64, ratio[0] * r64):
                msg += f": it is {ratio[0]:.4g} times the right answer"
                if N and abs(ratio[0] - 1.0 / N) < 1e-9:
                    msg += " (a mean over the batch instead of a sum?)"
    return [("value", msg)]


def evaluate_probe(spec, probe, inputs, outputs, after, error, ref_outputs, rng=None):
    """Compare one probe's outputs (already plain arrays) with the reference's. Pure; runs in the
    grader's process, or in the notebook for ``check``."""
    problems = []
    for k, v in inputs.items():
        a = after.get(k)
        if a is None or not _same(np.asarray(a), v):
            problems.append(("mutation", f"it modifies its argument `{k}` in place: the course's functions "
                                         f"never change their inputs (write `x = x * ...`, not `x *= ...`)"))
    if error is not None:
        kind = "not-implemented" if error.startswith("NotImplementedError") else "error"
        msg = "not implemented yet" if kind == "not-implemented" else f"raised {error}"
        if "matmul" in error or "not aligned" in error:
            msg += " (a weight matrix is probably transposed: check the shapes, e.g. Wx is (D, H))"
        problems.append((kind, msg))
    elif spec.score is not None:
        problems += spec.score(outputs, inputs, rng if rng is not None else np.random.default_rng(0))
    else:
        N = None
        for key in ("x", "scores", "dh_next", "dh"):
            if key in inputs and inputs[key].ndim >= 2:
                N = inputs[key].shape[0]
                break
        for name, r in ref_outputs.items():
            problems += _output_problems(spec, name, outputs.get(name), r, N)
        for name in outputs:
            if name not in ref_outputs:
                problems.append(("extra", f"unexpected output `{name}`"))
    return ProbeResult(probe.name, probe.title, not problems, problems)


def reference_outputs(spec, inputs):
    if spec.reference is None:
        return {}
    out, _, err = _driver.call(spec.reference, spec.args, spec.returns, inputs)
    if err is not None:  # pragma: no cover - a bug in the course, not the student
        raise RuntimeError(f"reference for {spec.id} failed: {err}")
    return out


def _matches(spec, outputs, alt_outputs, ref_outputs):
    differs = False
    for name, a in alt_outputs.items():
        s = outputs.get(name)
        if s is None or s.shape != a.shape or not _close(spec, s.astype(np.float64), a.astype(np.float64)):
            return False
        r = ref_outputs.get(name)
        if r is None or r.shape != a.shape or not _close(spec, a, r):
            differs = True
    return differs


def finish_task(spec, results, all_outputs, all_inputs, all_refs, flags=()):
    """Points and diagnosis from every probe's result."""
    diagnosis = []
    failed = [r for r in results if not r.passed]
    kinds = {k for r in failed for k, _ in r.problems}
    if "not-implemented" in kinds:
        diagnosis.append("not implemented yet")
    else:
        muts = sorted({m for r in failed for k, m in r.problems if k == "mutation"})
        diagnosis += muts
        first = next((r for r in failed if any(k != "mutation" for k, _ in r.problems)), None)
        if first is not None:
            for k, m in first.problems:
                if k in ("error", "shape", "dtype", "nan", "missing", "extra") or (k == "value" and "): " in m):
                    diagnosis.append(f"{m} ({first.title})")
            hint = next((p.hint for p in spec.probes if p.name == first.probe), "")
            if hint:
                diagnosis.append(hint)
        seen = set()
        for bug, message in spec.alternatives:
            if message in seen:
                continue
            for r in failed:
                if r.probe not in all_outputs or not all_outputs[r.probe]:
                    continue
                alt, _, err = _driver.call(bug, spec.args, spec.returns, all_inputs[r.probe])
                if err is None and _matches(spec, all_outputs[r.probe], alt, all_refs[r.probe]):
                    diagnosis.append(message)
                    seen.add(message)
                    break
    flags = list(flags)
    points = spec.points if not failed and not flags else 0
    if flags and not failed:
        diagnosis.append("correct outputs, but " + "; ".join(flags) + ": no points until an instructor reviews it")
    return TaskResult(spec.id, points, spec.points, results, diagnosis, flags)


def run_in_process(spec, func, seed):
    """Probe ``func`` in this process (what ``check`` does). Returns a ``TaskResult``."""
    inputs = make_inputs(spec, seed)
    results, outs, refs = [], {}, {}
    for i, probe in enumerate(spec.probes):
        inp = inputs[probe.name]
        out, after, err = _driver.call(func, spec.args, spec.returns, inp, spec.helpers)
        refs[probe.name] = reference_outputs(spec, inp)
        outs[probe.name] = out
        results.append(evaluate_probe(spec, probe, inp, out, after, err, refs[probe.name],
                                      rng=np.random.default_rng([seed, i, 7])))
    return finish_task(spec, results, outs, inputs, refs)
