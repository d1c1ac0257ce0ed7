"""Exercise 9 (lesson 9): the sampling loop of a character language model (vanilla RNN, then LSTM):
warm up on a prompt, then score, sample, feed the sample back and carry the state; and the held-out
loss in bits per character with the state carried from the previous chunk.

The student's cells get the cell steps ``rnn_step(x, h, params)`` and ``lstm_step(x, h, c, params)``
from the notebook's setup cell (one step of ``rnncourse.nn.sequence_forward``); the references
below use the same steps, so only the loop around them is graded.
"""

from __future__ import annotations

import math

import numpy as np

from rnncourse.grading.exercises._common import normal
from rnncourse.grading.verdict import Bug, Probe, TaskSpec
from rnncourse.messages import N_
from rnncourse.nn import log_softmax, softmax
from rnncourse.nn.cells import final_state, sequence_forward


def rnn_step(x, h, params):
    """One vanilla-RNN step: ``x (N, E)``, ``h (N, H)`` -> ``h_next (N, H)``."""
    hs, _ = sequence_forward("rnn", x[:, None], h, params)
    return hs[:, 0]


def lstm_step(x, h, c, params):
    """One LSTM step: ``x (N, E)``, ``h, c (N, H)`` -> ``(h_next, c_next)``."""
    hs, cache = sequence_forward("lstm", x[:, None], h, params, c)
    return final_state("lstm", hs, cache)


def _sample(scores, tau, u):
    """Inverse-CDF sampling from softmax(scores / tau), one id per row."""
    cdf = np.cumsum(softmax(scores / tau, axis=-1), axis=-1)
    return np.minimum((cdf <= u[:, None]).sum(axis=-1), scores.shape[-1] - 1).astype(np.int64)


def _loop(
    params, prompt, u, tau, lstm=False, sample=_sample, warm=None, feed="sample", reset=None, drop_c=None
):
    """The sampling loop with switches for the bug models (all off: the reference). ``drop_c``:
    where the new c of ``lstm_step`` is thrown away (``h, _ = lstm_step(...)``): "everywhere" or
    "loop" (only while generating)."""
    We, Wy, by = params["We"], params["Wy"], params["by"]
    N, H = prompt.shape[0], params["Wh"].shape[0]
    h, c = np.zeros((N, H)), np.zeros((N, H))

    def advance(ids, h, c, keep_c=True):
        if lstm:
            h_next, c_next = lstm_step(We[ids], h, c, params)
            return h_next, (c_next if keep_c else c)
        return rnn_step(We[ids], h, params), c

    read = prompt if warm is None else warm(prompt)
    for t in range(read.shape[1]):
        h, c = advance(read[:, t], h, c, drop_c != "everywhere")
    if reset == "c-after-prompt":
        c = np.zeros_like(c)
    out = []
    for j in range(u.shape[1]):
        ids = sample(h @ Wy + by, tau, u[:, j])
        out.append(ids)
        nxt = ids if feed == "sample" else prompt[:, -1]
        if reset == "h":
            h, c = np.zeros_like(h), np.zeros_like(c)
        if reset == "c":
            c = np.zeros_like(c)
        h, c = advance(nxt, h, c, drop_c is None)
    return np.stack(out, axis=1)


def generate_rnn(params, prompt, u, tau):
    """Reference: ``params`` (We, Wx, Wh, b, Wy, by), ``prompt (N, P)`` ids, ``u (N, n)`` uniform
    numbers, ``tau > 0`` -> ``ids (N, n)``: the sampled continuation of each row."""
    return _loop(params, prompt, u, tau)


def generate_lstm(params, prompt, u, tau):
    """Reference: as ``generate_rnn`` with an LSTM cell (the cell state ``c`` is carried too)."""
    return _loop(params, prompt, u, tau, lstm=True)


def heldout_bits(params, x, y, h0):
    """Reference: a vanilla-RNN language model reads ``x (N, T)`` from ``h0 (N, H)`` and is scored
    on the targets ``y (N, T)``. Returns ``(bits, hT)``: the mean ``-log2 p(y | ...)`` over all N * T
    characters and the state after the last step (to carry into the next chunk)."""
    h = h0
    total = 0.0
    for t in range(x.shape[1]):
        h = rnn_step(params["We"][x[:, t]], h, params)
        logp = log_softmax(h @ params["Wy"] + params["by"], axis=-1)
        total -= logp[np.arange(x.shape[0]), y[:, t]].sum()
    return np.asarray(total / (x.size * math.log(2.0))), h


# ----------------------------------------------------------------------------------- inputs


def _params(rng, V, E, H, lstm=False, scale=1.0):
    G = 4 if lstm else 1
    return {
        "We": normal(rng, V, E, scale=scale),
        "Wx": normal(rng, E, G * H, scale=scale / math.sqrt(E)),
        "Wh": normal(rng, H, G * H, scale=1.2 / math.sqrt(H)),
        "b": normal(rng, G * H, scale=0.3),
        "Wy": normal(rng, H, V, scale=2.5 / math.sqrt(H)),
        "by": normal(rng, V, scale=0.5),
    }


def gen_inputs(tau=1.0, n=None, lstm=False):
    def make(rng):
        V, E, H = int(rng.integers(5, 9)), int(rng.integers(3, 6)), int(rng.integers(4, 8))
        N, P = int(rng.integers(8, 12)) if lstm else int(rng.integers(6, 10)), int(rng.integers(3, 6))
        steps = n or int(rng.integers(10, 14))
        # below 1 only: softmax(scores * tau) is then flatter, never close to the arg max
        t = float(rng.choice([0.5, 0.6, 0.7])) if tau is None else tau
        params = _params(rng, V, E, H, lstm)
        if lstm:  # a forget gate near 1: the cell state keeps what the prompt wrote into it
            params["b"][H : 2 * H] += 2.0
        inp = {f"params.{k}": v for k, v in params.items()}
        inp["prompt"] = rng.integers(0, V, size=(N, P)).astype(np.int64)
        inp["u"] = rng.random((N, steps))
        inp["tau"] = np.asarray(t)
        return inp

    return make


def bits_inputs(zero_h0=False, T=None):
    def make(rng):
        V, E, H = int(rng.integers(5, 9)), int(rng.integers(3, 6)), int(rng.integers(4, 8))
        N, t = int(rng.integers(2, 5)), T or int(rng.integers(4, 8))
        inp = {f"params.{k}": v for k, v in _params(rng, V, E, H).items()}
        inp["x"] = rng.integers(0, V, size=(N, t)).astype(np.int64)
        inp["y"] = rng.integers(0, V, size=(N, t)).astype(np.int64)
        inp["h0"] = np.zeros((N, H)) if zero_h0 else np.tanh(normal(rng, N, H))
        return inp

    return make


# ------------------------------------------------------------------------------ bug models


def _argmax(scores, tau, u):
    return scores.argmax(axis=-1).astype(np.int64)


def _multiplied(scores, tau, u):
    return _sample(scores * tau * tau, tau, u)  # softmax(scores * tau)


def bug_rnn_not_fed_back(params, prompt, u, tau):
    return _loop(params, prompt, u, tau, feed="prompt")


def bug_rnn_state_reset(params, prompt, u, tau):
    return _loop(params, prompt, u, tau, reset="h")


def bug_rnn_prompt_ignored(params, prompt, u, tau):
    return _loop(params, prompt, u, tau, warm=lambda p: p[:, :0])


def bug_rnn_prompt_off_by_one(params, prompt, u, tau):
    return _loop(params, prompt, u, tau, warm=lambda p: p[:, :-1])


def bug_rnn_argmax(params, prompt, u, tau):
    return _loop(params, prompt, u, tau, sample=_argmax)


def bug_rnn_tau_multiplied(params, prompt, u, tau):
    return _loop(params, prompt, u, tau, sample=_multiplied)


def bug_lstm_c_reset(params, prompt, u, tau):
    return _loop(params, prompt, u, tau, lstm=True, reset="c")


def bug_lstm_c_after_prompt(params, prompt, u, tau):
    return _loop(params, prompt, u, tau, lstm=True, reset="c-after-prompt")


def bug_lstm_c_dropped(params, prompt, u, tau):
    """``h, _ = lstm_step(x, h, c, params)`` everywhere: c stays zero from start to end."""
    return _loop(params, prompt, u, tau, lstm=True, drop_c="everywhere")


def bug_lstm_c_dropped_in_loop(params, prompt, u, tau):
    """``h, c =`` in the warm-up but ``h, _ =`` while generating: c stays what the prompt left."""
    return _loop(params, prompt, u, tau, lstm=True, drop_c="loop")


def bug_lstm_not_fed_back(params, prompt, u, tau):
    return _loop(params, prompt, u, tau, lstm=True, feed="prompt")


def bug_bits_per_row(params, x, y, h0):
    """The mean over the T steps of each row only: ``bits`` of shape ``(N,)``."""
    h, total = h0, np.zeros(x.shape[0])
    for t in range(x.shape[1]):
        h = rnn_step(params["We"][x[:, t]], h, params)
        logp = log_softmax(h @ params["Wy"] + params["by"], axis=-1)
        total -= logp[np.arange(x.shape[0]), y[:, t]]
    return total / (x.shape[1] * math.log(2.0)), h


def bug_bits_in_nats(params, x, y, h0):
    bits, h = heldout_bits(params, x, y, h0)
    return bits * math.log(2.0), h


def bug_bits_summed(params, x, y, h0):
    bits, h = heldout_bits(params, x, y, h0)
    return bits * x.size, h


def bug_bits_zero_start(params, x, y, h0):
    return heldout_bits(params, x, y, np.zeros_like(h0))


def bug_bits_target_is_input(params, x, y, h0):
    return heldout_bits(params, x, x, h0)


def bug_bits_state_not_returned(params, x, y, h0):
    return heldout_bits(params, x, y, h0)[0], h0


_NOT_FED = N_(
    "You feed the last prompt character again at every step: feed back the character you have just "
    "sampled, x = We[ids], so the model reads its own text."
)
_RESET = N_(
    "Your state starts from zero at every generated step: carry h from one step to the next (and from "
    "the prompt into the first step)."
)
_IGNORED = N_(
    "Your samples do not depend on the prompt: run the cell over every prompt character first (the "
    "warm-up), then sample from the state it leaves."
)
_OFF_BY_ONE = N_(
    "Your warm-up stops one character early: the first sample must come from the state AFTER the last "
    "prompt character, prompt[:, -1]."
)
_ARGMAX = N_(
    "You take the arg max: that is greedy decoding. Sample instead: the first j with cumsum(p)[j] > u "
    "(inverse-CDF sampling with the given u)."
)
_MULTIPLIED = N_("Your probabilities use softmax(scores * tau): the temperature must DIVIDE the scores.")
_C_RESET = N_(
    "Your cell state c starts from zero at every generated step: carry c with h, c is the LSTM's "
    "long-term memory."
)
_C_PROMPT = N_(
    "Your cell state c starts from zero after the warm-up: the first generated step must use the c the "
    "prompt left, together with h."
)
_C_DROPPED = N_(
    "Your cell state c is never updated: `lstm_step` returns the new h AND the new c; you kept c from "
    "the start (zeros). Write `h, c = lstm_step(x, h, c, params)` at every step, in the warm-up too."
)
_C_DROPPED_LOOP = N_(
    "Your cell state c stops changing after the warm-up: `lstm_step` returns the new h AND the new c; "
    "in the generation loop you kept the c the prompt left. Write `h, c = lstm_step(x, h, c, params)`."
)

TASKS = [
    TaskSpec(
        id="ex9.generate_rnn",
        func="generate_rnn",
        points=3,
        args=(("dict", "params."), ("array", "prompt"), ("array", "u"), ("float", "tau")),
        returns="ids",
        reference=generate_rnn,
        probes=(
            Probe(
                "first",
                N_("one sampled character after the prompt (tau = 1)"),
                gen_inputs(1.0, n=1),
                N_(
                    "The first character is sampled from softmax(h_P Wy + by), where h_P is the state after "
                    "reading ALL of the prompt from h = 0: u[:, 0] picks the first j with cumsum(p)[j] > u."
                ),
            ),
            Probe(
                "loop",
                N_("several characters (tau = 1)"),
                gen_inputs(1.0),
                N_(
                    "The first character is right, the later ones are not: after each sample, feed it back "
                    "(x = We[ids]) and carry h to the next step."
                ),
            ),
            Probe(
                "tau",
                N_("other temperatures (0.5 to 0.7)"),
                gen_inputs(None),
                N_("Right at tau = 1, wrong at other temperatures: p = softmax(scores / tau)."),
            ),
        ),
        bugs=(
            Bug(bug_rnn_not_fed_back, _NOT_FED),
            Bug(bug_rnn_state_reset, _RESET),
            Bug(bug_rnn_prompt_ignored, _IGNORED),
            Bug(bug_rnn_prompt_off_by_one, _OFF_BY_ONE),
            Bug(bug_rnn_argmax, _ARGMAX),
            Bug(bug_rnn_tau_multiplied, _MULTIPLIED),
        ),
    ),
    TaskSpec(
        id="ex9.generate_lstm",
        func="generate_lstm",
        points=2,
        args=(("dict", "params."), ("array", "prompt"), ("array", "u"), ("float", "tau")),
        returns="ids",
        reference=generate_lstm,
        probes=(
            Probe(
                "first",
                N_("one sampled character after the prompt (tau = 1)"),
                gen_inputs(1.0, n=1, lstm=True),
                N_(
                    "The first character is sampled from the state after the whole prompt: h and c both "
                    "start at zero and are carried through every prompt character."
                ),
            ),
            Probe(
                "loop",
                N_("several characters, other temperatures"),
                gen_inputs(None, lstm=True),
                N_("Carry both h and c from step to step, and feed back each sample."),
            ),
            # at a temperature below 1 a small random network can sample the same few characters
            # whatever it is fed, so a loop that does not feed back its samples passed both probes
            # above at 1 grading seed of 300; 20 characters at tau = 1 tell it apart at every seed
            Probe(
                "long",
                N_("20 characters at tau = 1"),
                gen_inputs(1.0, n=20, lstm=True),
                N_("Carry both h and c from step to step, and feed back each sample."),
            ),
        ),
        bugs=(
            Bug(bug_lstm_c_reset, _C_RESET),
            Bug(bug_lstm_c_after_prompt, _C_PROMPT),
            Bug(bug_lstm_c_dropped, _C_DROPPED),
            Bug(bug_lstm_c_dropped_in_loop, _C_DROPPED_LOOP),
            Bug(bug_lstm_not_fed_back, _NOT_FED),
        ),
    ),
    TaskSpec(
        id="ex9.heldout_bits",
        func="heldout_bits",
        points=2,
        args=(("dict", "params."), ("array", "x"), ("array", "y"), ("array", "h0")),
        returns=["bits", "hT"],
        reference=heldout_bits,
        probes=(
            Probe(
                "one-step",
                N_("one time step from h0 = 0"),
                bits_inputs(zero_h0=True, T=1),
                N_(
                    "With T = 1: h_1 = rnn_step(We[x[:, 0]], h0, params), and bits is the mean over the N "
                    "rows of -log2 softmax(h_1 Wy + by)[y[:, 0]]. log2 p = ln p / ln 2."
                ),
            ),
            Probe(
                "h0",
                N_("a carried state h0 from an earlier chunk"),
                bits_inputs(),
                N_(
                    "The chunk starts from the h0 it is given (the state the previous chunk left), and hT is "
                    "the state after the LAST step, to be carried into the next chunk."
                ),
            ),
        ),
        bugs=(
            Bug(
                bug_bits_per_row,
                N_(
                    "Your bits has one number per row (a mean over the T steps only): bits per character "
                    "is ONE number, the mean over all N * T characters."
                ),
            ),
            Bug(bug_bits_in_nats, N_("Your loss is in nats: divide by ln 2 to get bits.")),
            Bug(
                bug_bits_summed,
                N_("Your loss is a sum: bits per character is the MEAN over all N * T predictions."),
            ),
            Bug(
                bug_bits_zero_start,
                N_(
                    "You start from zeros: start from h0, the state the previous chunk left (carry the state)."
                ),
            ),
            Bug(
                bug_bits_target_is_input,
                N_(
                    "You score the input x[:, t] itself: the target of step t is y[:, t], the NEXT character."
                ),
            ),
            Bug(
                bug_bits_state_not_returned,
                N_("Your hT is h0: return the state after the last step, so the next chunk can carry it."),
            ),
        ),
    ),
]
