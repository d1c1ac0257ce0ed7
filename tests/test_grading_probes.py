"""The probes in-process: references pass for any seed, not-implemented fails, and every classic bug
loses its task's points with the right diagnosis (what ``check`` prints in the notebook)."""
import numpy as np
import pytest

from rnncourse import nn
from rnncourse.grading import check
from rnncourse.grading.checks import format_result
from rnncourse.grading.probes import TASKS, run_in_process

from grading_fixtures.wrong import WRONG

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
    ns = {"np": np, "sigmoid": nn.sigmoid, "GRUStepCache": nn.GRUStepCache, "RNNStepCache": nn.RNNStepCache,
          "LSTMStepCache": nn.LSTMStepCache}
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
        return np.tanh(x @ Wx + h_prev @ Wh.T + b), None      # transposed Wh: silent for square Wh
    r = check("ex1.rnn_step_forward", no_recurrence, quiet=True).result
    assert [p.passed for p in r.probes] == [True, False, True, False]
    assert "h_prev @ Wh" in " ".join(r.diagnosis)


def test_wrong_dtype_and_shape_are_reported():
    def f32(x, h_prev, Wx, Wh, b):
        return np.tanh(x @ Wx + h_prev @ Wh + b).astype(np.float32), None
    r = check("ex1.rnn_step_forward", f32, quiet=True).result
    assert r.points == 0 and "float32" in " ".join(r.diagnosis)


def test_jacobian_norm_bugs():
    r = check("ex4.jacobian_norms", lambda h, Wh: np.array([np.linalg.norm(np.eye(2))] * h.shape[0]), quiet=True)
    assert not r.passed
    from rnncourse.grading.probes import _bug_jac_frobenius
    r = check("ex4.jacobian_norms", _bug_jac_frobenius, quiet=True).result
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
        "    return np.stack(h, axis=1), None\n", ns)
    wrong_step = ns["rnn_step_forward"]
    assert not check("ex1.rnn_step_forward", ns["rnn_step_forward"], quiet=True).result.passed
    assert check("ex1.rnn_forward", ns["rnn_forward"], quiet=True).result.passed
    assert ns["rnn_step_forward"] is wrong_step, "the student's own function must be put back"
