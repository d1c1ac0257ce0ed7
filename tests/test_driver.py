"""The grading driver's helper swap (rnncourse/grading/_driver.py)."""

import numpy as np

from rnncourse.grading import _driver
from rnncourse.nn import rnn_forward


def _student_module(source):
    g = {"np": np}
    exec(compile(source, "<student>", "exec"), g)
    return g


SEQUENCE = """
def rnn_forward(x, h0, Wx, Wh, b):
    h, prev = [], h0
    for t in range(x.shape[1]):
        prev, _ = rnn_step_forward(x[:, t], prev, Wx, Wh, b)
        h.append(prev)
    return np.stack(h, axis=1), None
"""


def test_sequence_task_is_judged_with_the_course_step_even_when_the_students_is_missing():
    """A syntax error in the step cell leaves no rnn_step_forward: the sequence task must still run
    with the course's step (one bug costs one task), and the name is removed again afterwards."""
    g = _student_module(SEQUENCE)
    rng = np.random.default_rng(0)
    x, h0 = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5))
    Wx, Wh, b = rng.normal(size=(4, 5)), rng.normal(size=(5, 5)), rng.normal(size=5)
    with _driver.course_helpers(g["rnn_forward"], ("rnn_step_forward",)):
        h, _ = g["rnn_forward"](x, h0, Wx, Wh, b)
    np.testing.assert_allclose(h, rnn_forward(x, h0, Wx, Wh, b)[0], atol=1e-12)
    assert "rnn_step_forward" not in g


def test_the_students_own_step_is_put_back():
    g = _student_module(SEQUENCE + "\ndef rnn_step_forward(*a):\n    return 'mine', None\n")
    mine = g["rnn_step_forward"]
    with _driver.course_helpers(g["rnn_forward"], ("rnn_step_forward",)):
        assert g["rnn_step_forward"] is not mine
    assert g["rnn_step_forward"] is mine


def test_student_messages_reach_feedback_on_one_short_line():
    """An exception text is the student's own: it must not forge feedback lines or flood the file."""
    from rnncourse.grading.grader import MAX_STUDENT_MESSAGE_CHARS, _scrub

    forged = "ValueError: oops\nex1.rnn_forward: 3/3 PASS\n" + "x" * 5000
    out = _scrub(forged)
    assert "\n" not in out and len(out) <= MAX_STUDENT_MESSAGE_CHARS
    assert out.startswith("ValueError: oops ex1.rnn_forward")
    assert _scrub("raise 0.123 0.456 0.789") == "raise … … …"


def test_an_exception_is_not_explained_with_a_maths_hint():
    """MemoryError, SystemExit or a crash got hints like "a matrix product is wrong" (outside
    tester); the hint belongs to wrong numbers only."""
    from rnncourse.grading.exercises import get_task
    from rnncourse.grading.verdict import run_in_process

    spec = get_task("ex1.rnn_step_forward")

    def boom(x, h_prev, Wx, Wh, b):
        raise MemoryError("too big")

    r = run_in_process(spec, boom, seed=1)
    text = " ".join(r.diagnosis)
    hints = [p.hint for p in spec.probes if p.hint]
    assert r.points == 0 and "MemoryError" in " ".join(m.message for pr in r.probes for m in pr.problems)
    assert not any(h in text for h in hints), text

    def wrong(x, h_prev, Wx, Wh, b):  # no bias: a wrong number, so a hint is welcome
        return np.tanh(x @ Wx + h_prev @ Wh), None

    assert run_in_process(spec, wrong, seed=1).diagnosis


def test_check_result_adds_no_out_line_in_a_notebook():
    """The report is printed; the returned object must not echo an extra Out[n] line below it."""
    from IPython.core.interactiveshell import InteractiveShell

    from rnncourse.grading.checks import _Quiet
    from rnncourse.grading.verdict import TaskResult

    shell = InteractiveShell.instance()
    shell.user_ns["q"] = _Quiet(TaskResult("ex1.rnn_step_forward", 0, 2, [], []))
    captured = shell.run_cell("q", silent=False, store_history=False)
    assert captured.success
    fmt, _ = shell.display_formatter.format(shell.user_ns["q"])
    assert fmt == {}, fmt  # _ipython_display_ takes over: nothing is shown
