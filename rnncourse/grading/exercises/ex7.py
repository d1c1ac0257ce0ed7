"""Exercise 7 (lesson 7): sampling with a temperature tau, and a small design task: train a gated
model on a long-lag task within a time budget."""

from __future__ import annotations

import numpy as np

from rnncourse import nn
from rnncourse.grading import reference
from rnncourse.grading.exercises._common import dims, helper, normal
from rnncourse.grading.verdict import Bug, Probe, Problem, TaskSpec
from rnncourse.messages import N_, _

#: seconds a student's training should take (the notebook's check reports the time it took)
TIME_BUDGET_S = 30
#: seconds the grader allows the whole task before it stops it
GRADER_TIMEOUT_S = 120


def tau_inputs(tau, big=False, with_u=False):
    def make(rng):
        N, _, _, _ = dims(rng)
        V = int(rng.integers(4, 9))
        inp = {"scores": normal(rng, N + 3, V, scale=800.0 if big else 2.0), "tau": np.asarray(float(tau))}
        if with_u:
            inp["u"] = rng.random(N + 3)
        return inp

    return make


def train_inputs(rng):
    return {"seed": np.asarray(int(rng.integers(0, 2**31 - 1)))}


def score_long_range(outputs, inputs, rng):
    """The student's trained model, evaluated here (never in the kernel) on fresh data."""
    task = reference.long_range_task()
    cell = str(outputs.get("model.cell", ""))
    if cell not in ("lstm", "gru"):
        return [
            Problem(
                "score",
                _(
                    "the model must be gated (cell 'lstm' or 'gru'), got cell {cell}: a "
                    "vanilla RNN's gradient vanishes over a "
                    "20-step lag"
                ).format(cell=repr(cell)),
            )
        ]
    params = {k[len("model.params.") :]: v for k, v in outputs.items() if k.startswith("model.params.")}
    spec = nn.get_cell(cell)
    needed = list(spec.param_names) + ["Wy", "by"]
    missing = [k for k in needed if k not in params]
    if missing:
        return [Problem("score", _("the model's params lack {missing}").format(missing=missing))]
    params = {k: np.asarray(params[k], dtype=np.float64) for k in needed}
    model = nn.SequenceModel(cell, params, loss="softmax")
    try:
        acc = nn.evaluate(model, task.sample(1000, rng))["accuracy"]
    except Exception as exc:
        return [
            Problem(
                "score",
                _("the returned model cannot be evaluated on the task: {error}").format(
                    error=f"{type(exc).__name__}: {exc}"
                ),
            )
        ]
    if not np.isfinite(acc) or acc < reference.LONG_RANGE_TARGET:
        return [
            Problem(
                "score",
                _(
                    "accuracy on fresh data is {accuracy:.3f}, the target is {target}: train "
                    "longer, use a larger hidden state, clip gradients, or tune the learning "
                    "rate"
                ).format(accuracy=acc, target=reference.LONG_RANGE_TARGET),
            )
        ]
    return []


def report_long_range(obs):
    """What the student chose and how long it took, for the notebook's check."""
    lines = []
    cell = obs.outputs.get("model.cell")
    Wh = obs.outputs.get("model.params.Wh")
    if cell is not None and Wh is not None and np.ndim(Wh) == 2:
        lines.append(
            _("your model: cell {cell}, hidden size {hidden}").format(
                cell=repr(str(cell)), hidden=Wh.shape[0]
            )
        )
    if obs.seconds is not None:
        text = (
            _(
                "training took {seconds:.1f} s (within the budget of {budget} s; the grader stops at "
                "{limit} s on its machine)"
            )
            if obs.seconds <= TIME_BUDGET_S
            else _(
                "training took {seconds:.1f} s (OVER the budget of {budget} s; the grader stops at {limit} "
                "s on its machine)"
            )
        )
        lines.append(text.format(seconds=obs.seconds, budget=TIME_BUDGET_S, limit=GRADER_TIMEOUT_S))
    return lines


# ---------------------------------------------------------------------------------- bug models


def bug_tau_multiplied(scores, tau):
    """softmax(scores * tau), with the greedy case at tau = 0 kept."""
    return (
        reference.temperature_softmax(scores, 1.0 / tau)
        if tau > 0
        else reference.temperature_softmax(scores, 0.0)
    )


def bug_tau_multiplied_no_greedy(scores, tau):
    """softmax(scores * tau) everywhere: tau = 0 gives a uniform distribution."""
    return nn.softmax(scores * tau, axis=-1)


_MULTIPLIED = N_(
    "Your probabilities equal softmax(scores * tau): the temperature must DIVIDE the scores, "
    "p = softmax(scores / tau), so a small tau sharpens the distribution."
)

TASKS = [
    TaskSpec(
        id="ex7.temperature_softmax",
        func="temperature_softmax",
        points=2,
        args=(("array", "scores"), ("float", "tau")),
        returns="p",
        reference=reference.temperature_softmax,
        probes=(
            Probe(
                "tau1",
                N_("tau = 1 (plain softmax)"),
                tau_inputs(1.0),
                N_("At tau = 1 this is the softmax of each row."),
            ),
            Probe(
                "tau0.5",
                N_("tau = 0.5"),
                tau_inputs(0.5),
                N_(
                    "Right at tau = 1, wrong at tau = 0.5: is tau used at all, and on the right side of the "
                    "division?"
                ),
            ),
            Probe(
                "tau0",
                N_("tau = 0 (greedy)"),
                tau_inputs(0.0),
                N_("tau = 0 is the limit tau -> 0: a one-hot at the arg max (do not divide by zero)."),
            ),
            Probe(
                "large",
                N_("scores of size 800 at tau = 0.1"),
                tau_inputs(0.1, big=True),
                N_("Large scores / tau overflow exp(): subtract the row maximum first."),
            ),
        ),
        bugs=(Bug(bug_tau_multiplied, _MULTIPLIED), Bug(bug_tau_multiplied_no_greedy, _MULTIPLIED)),
    ),
    TaskSpec(
        id="ex7.sample_with_temperature",
        func="sample_with_temperature",
        points=2,
        args=(("array", "scores"), ("float", "tau"), ("array", "u")),
        returns="ids",
        reference=reference.sample_with_temperature,
        probes=(
            Probe(
                "tau1",
                N_("tau = 1"),
                tau_inputs(1.0, with_u=True),
                N_("Pick the first j with cumsum(p)[j] > u (inverse-CDF sampling), one per row."),
            ),
            Probe(
                "tau0",
                N_("tau = 0 (greedy)"),
                tau_inputs(0.0, with_u=True),
                N_("At tau = 0 the sample is the arg max of each row, whatever u is."),
            ),
            Probe(
                "tau3",
                N_("tau = 3"),
                tau_inputs(3.0, with_u=True),
                N_("Right at one temperature, wrong at another: is tau hard-coded, or not passed on?"),
            ),
        ),
        helpers=(helper("temperature_softmax", "rnncourse.grading.reference"),),
    ),
    TaskSpec(
        id="ex7.train_long_range",
        func="train_long_range",
        points=5,
        args=(("int", "seed"),),
        returns=("model", "model."),
        reference=None,
        probes=(Probe("trained", N_("the returned model on fresh data of the copy task"), train_inputs, ""),),
        score=score_long_range,
        timeout=GRADER_TIMEOUT_S,
        report=report_long_range,
    ),
]
