"""The verdict in-process: references pass for any seed, not-implemented fails, every classic bug
loses its task's points with the diagnosis that names it (what ``check`` prints in the notebook),
the grader reaches the same verdict through the same ``judge``, and strict mode raises."""

import numpy as np
import pytest

from grading_fixtures.wrong import WRONG
from rnncourse import nn
from rnncourse.grading import check
from rnncourse.grading.checks import STRICT_ENV, CheckFailed, format_result
from rnncourse.grading.exercises import GRADED_FUNCTIONS, TASKS, ex4, get_task, make_inputs, tasks_of
from rnncourse.grading.verdict import Observation, Problem, judge, observe_in_process, run_in_process


@pytest.fixture(autouse=True)
def _lenient_checks(monkeypatch):
    """solutions/conftest.py turns strict checks on for the whole session; these tests call
    check() on wrong code on purpose and read its verdict."""
    monkeypatch.delenv(STRICT_ENV, raising=False)


IN_PROCESS = [t for t, s in TASKS.items() if s.reference is not None]


@pytest.mark.parametrize("task", IN_PROCESS)
@pytest.mark.parametrize("seed", [0, 1, 12345, 2**40 + 7])
def test_reference_passes_every_probe(task, seed):
    spec = TASKS[task]
    r = run_in_process(spec, spec.reference, seed)
    assert r.passed, format_result(r)
    assert r.points == spec.points


@pytest.mark.parametrize("task", IN_PROCESS)
def test_not_implemented_scores_zero(task):
    def todo(*args):
        raise NotImplementedError

    r = check(task, todo, quiet=True).result
    assert r.points == 0 and r.diagnosis == ["not implemented yet"], format_result(r)


def _load(src):
    ns = {
        "np": np,
        "sigmoid": nn.sigmoid,
        "GRUStepCache": nn.GRUStepCache,
        "RNNStepCache": nn.RNNStepCache,
        "LSTMStepCache": nn.LSTMStepCache,
        # earlier cells of the same notebook (the course's versions are swapped in while judged)
        "lstm_step_backward": nn.lstm_step_backward,
        "gru_step_backward": nn.gru_step_backward,
    }
    exec(src, ns)
    return ns


@pytest.mark.parametrize("bug", sorted(WRONG))
def test_classic_bug_is_diagnosed(bug, capsys):
    task, src, phrase = WRONG[bug]
    func = _load(src)[TASKS[task].func]
    res = check(task, func)
    printed = capsys.readouterr().out
    assert not res.passed and res.points == 0, printed
    assert phrase in " ".join(res.result.diagnosis), printed
    assert "FAIL" in printed and phrase in printed


def test_check_reports_each_probe(capsys):
    check("ex1.rnn_step_forward", nn.rnn_step_forward)
    out = capsys.readouterr().out
    assert out.startswith("PASS  ex1.rnn_step_forward: 2/2 points")
    assert out.count("[ok]") == len(TASKS["ex1.rnn_step_forward"].probes)


def test_forward_term_isolation_names_the_recurrent_term():
    def no_recurrence(x, h_prev, Wx, Wh, b):
        return np.tanh(x @ Wx + h_prev @ Wh.T + b), None  # transposed Wh: silent for square Wh

    r = check("ex1.rnn_step_forward", no_recurrence, quiet=True).result
    assert [p.passed for p in r.probes] == [True, False, True, False]
    assert "h_prev @ Wh" in " ".join(r.diagnosis)


def test_wrong_dtype_and_shape_are_reported():
    # float32 is judged to float32 precision (tests/test_grading_feedback_focus.py); float16 is not
    def f16(x, h_prev, Wx, Wh, b):
        return np.tanh(x @ Wx + h_prev @ Wh + b).astype(np.float16), None

    r = check("ex1.rnn_step_forward", f16, quiet=True).result
    assert r.points == 0 and "float16" in " ".join(r.diagnosis)


def test_jacobian_norm_bugs():
    r = check(
        "ex4.jacobian_norms", lambda h, Wh: np.array([np.linalg.norm(np.eye(2))] * h.shape[0]), quiet=True
    )
    assert not r.passed
    r = check("ex4.jacobian_norms", ex4.bug_jac_frobenius, quiet=True).result
    assert "spectral" in " ".join(r.diagnosis)


def test_temperature_hard_coded_is_caught():
    r = check("ex7.temperature_softmax", lambda s, t: nn.softmax(s, axis=-1), quiet=True).result
    assert r.points == 0
    assert [p.passed for p in r.probes][0] is True


def test_sequence_task_is_judged_with_the_course_step_function():
    """A notebook whose step function is wrong but whose sequence loop is right loses only the
    step task: while the sequence function is probed, its call to rnn_step_forward is routed to the
    course's version (and put back afterwards)."""
    ns = {"np": np}
    exec(
        "def rnn_step_forward(x, h_prev, Wx, Wh, b):\n"
        "    return np.tanh(x @ Wx + h_prev @ Wh), None          # forgot + b\n"
        "def rnn_forward(x, h0, Wx, Wh, b):\n"
        "    h, hp = [], h0\n"
        "    for t in range(x.shape[1]):\n"
        "        hp, _ = rnn_step_forward(x[:, t], hp, Wx, Wh, b)\n"
        "        h.append(hp)\n"
        "    return np.stack(h, axis=1), None\n",
        ns,
    )
    wrong_step = ns["rnn_step_forward"]
    assert not check("ex1.rnn_step_forward", ns["rnn_step_forward"], quiet=True).result.passed
    assert check("ex1.rnn_forward", ns["rnn_forward"], quiet=True).result.passed
    assert ns["rnn_step_forward"] is wrong_step, "the student's own function must be put back"


BUGS = [(t, k) for t, s in TASKS.items() for k in range(len(s.bugs))]


@pytest.mark.parametrize("task,k", BUGS, ids=[f"{t}-{TASKS[t].bugs[k].impl.__name__}" for t, k in BUGS])
def test_every_bug_model_is_named_when_a_student_makes_that_mistake(task, k):
    spec = TASKS[task]
    bug = spec.bugs[k]
    r = run_in_process(spec, bug.impl, 2024)
    assert r.points == 0 and bug.message in r.diagnosis, format_result(r)
    others = [b.message for b in spec.bugs if b.message != bug.message and b.message in r.diagnosis]
    assert not others, f"other bugs named beside {bug.impl.__name__}: {others}"


def test_missing_dc_next_passes_at_one_step_and_fails_over_time():
    from rnncourse.grading.exercises.ex5 import bug_seq_no_dc_next

    r = run_in_process(TASKS["ex5.lstm_backward"], bug_seq_no_dc_next, 3)
    assert [p.passed for p in r.probes] == [True, False, False]
    assert "cell-state path" in " ".join(r.diagnosis)


def test_jacobian_one_step_hint_says_which_entry_is_wrong():
    def first_entry_wrong(h, Wh):
        n = ex4.reference.jacobian_norms(h, Wh).copy()
        n[0] *= 1.5
        return n

    r = check("ex4.jacobian_norms", first_entry_wrong, quiet=True).result
    text = " ".join(r.diagnosis)
    assert "entries [0] are wrong" in text and "h_(t-1)" not in text, format_result(r)


def test_grader_and_check_reach_the_same_verdict():
    """The grader's _judge is a thin adapter over verdict.judge: same observations, same result."""
    from rnncourse.grading.grader import _judge

    spec = TASKS["ex3.rnn_backward"]
    from rnncourse.grading.exercises.ex3 import bug_loop_forwards

    inputs = make_inputs(spec, 99)
    obs = observe_in_process(spec, bug_loop_forwards, inputs)
    mine = judge(spec, inputs, obs, 99)
    theirs = _judge(spec, inputs, {"status": "ok", "probes": obs, "func": None}, [], 99)
    assert (mine.points, mine.diagnosis) == (theirs.points, theirs.diagnosis)
    assert [p.problems for p in mine.probes] == [p.problems for p in theirs.probes]
    timed_out = _judge(spec, inputs, {"status": "timeout", "probes": {}, "func": None}, [], 99)
    assert timed_out.points == 0 and {p.kind for r in timed_out.probes for p in r.problems} == {"timeout"}


def test_problems_are_typed_records():
    with pytest.raises(ValueError, match="kind must be one of"):
        Problem("oops", "x")
    assert (
        Observation.from_driver({}, {}, "NotImplementedError: not implemented yet").failure.kind
        == "not-implemented"
    )
    assert Observation.from_driver({}, {}, "ValueError: NotImplementedError in text").failure.kind == "error"


def test_sampler_is_judged_with_the_course_softmax():
    """ex7: a temperature bug costs the softmax task only; the sampler that calls it still passes."""
    ns = {"np": np}
    exec(
        "def temperature_softmax(scores, tau):\n"
        "    s = scores * tau                    # BUG: multiplied\n"
        "    e = np.exp(s - s.max(axis=1, keepdims=True))\n"
        "    return e / e.sum(axis=1, keepdims=True)\n"
        "def sample_with_temperature(scores, tau, u):\n"
        "    cdf = np.cumsum(temperature_softmax(scores, tau), axis=1)\n"
        "    return np.minimum((cdf <= u[:, None]).sum(axis=1), scores.shape[1] - 1)\n",
        ns,
    )
    soft = check("ex7.temperature_softmax", ns["temperature_softmax"], quiet=True).result
    assert soft.points == 0 and "DIVIDE" in " ".join(soft.diagnosis)
    assert check("ex7.sample_with_temperature", ns["sample_with_temperature"], quiet=True).passed


def test_strict_mode_raises_on_a_failing_check(monkeypatch, capsys):
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(CheckFailed, match="rnn_step_forward"):
        check("ex1.rnn_step_forward", lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh), None))
    assert "FAIL" in capsys.readouterr().out
    assert check("ex1.rnn_step_forward", nn.rnn_step_forward, quiet=True).passed  # passing: no raise
    monkeypatch.setenv(STRICT_ENV, "0")
    assert not check("ex1.rnn_step_forward", lambda *a: (a[0], None), quiet=True)


def test_registry():
    assert [s.id for s in tasks_of("ex5")] == [
        "ex5.lstm_step_forward",
        "ex5.lstm_step_backward",
        "ex5.lstm_backward",
    ]
    assert GRADED_FUNCTIONS["lstm_backward"] == "rnncourse.nn.lstm"
    assert GRADED_FUNCTIONS["embedding_backward"] == "rnncourse.nn.layers"
    assert {"lstm_backward", "print"} & GRADED_FUNCTIONS == {"lstm_backward"}
    with pytest.raises(KeyError, match="unknown task"):
        get_task("ex9.nothing")
