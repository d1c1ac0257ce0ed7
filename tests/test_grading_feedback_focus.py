"""Feedback that names one mistake, not several (rnncourse/grading/verdict.py, _driver.py).

Each case is a submission an outside instructor graded: the right diagnosis was there, but next to
hints about other mistakes, repeated once per output, or worded as an exception the student's
code never raised.
"""

import numpy as np
import pytest

from rnncourse import messages, nn
from rnncourse.grading.checks import PUBLIC_SEED, format_result
from rnncourse.grading.exercises import get_task
from rnncourse.grading.exercises.ex3 import bug_overwritten
from rnncourse.grading.exercises.ex5 import bug_step_no_dc_next
from rnncourse.grading.verdict import run_in_process


def _judge(task, func, seed=PUBLIC_SEED):
    result = run_in_process(get_task(task), func, seed)
    return result, format_result(result)


# ----------------------------------------------------------------- a named bug stands alone


def rnn_backward_overwritten(dh, cache):
    """Student hank: ``dWx = ...`` instead of ``dWx += ...`` in the loop over time."""
    N, T, _D = cache.x.shape
    dx = np.zeros_like(cache.x)
    dh_next = np.zeros_like(cache.h0)
    for t in reversed(range(T)):
        h_prev = cache.h0 if t == 0 else cache.h[:, t - 1]
        step = nn.RNNStepCache(cache.x[:, t], h_prev, cache.Wx, cache.Wh, cache.h[:, t])
        dx[:, t], dh_next, dWx, dWh, db = nn.rnn_step_backward(dh[:, t] + dh_next, step)
    return dx, dh_next, dWx, dWh, db


@pytest.mark.parametrize("seed", [PUBLIC_SEED, 7])
def test_overwritten_weight_gradients_get_only_their_own_diagnosis(seed):
    result, text = _judge("ex3.rnn_backward", rnn_backward_overwritten, seed)
    assert result.points == 0, text
    assert len(result.diagnosis) == 1, text
    assert "overwritten (=) in the loop instead of summed over time (+=)" in result.diagnosis[0], text
    # the last-step probe's hint is about a missing dh_next, which hank's loop has
    assert "what came back from step t + 1" not in text, text
    assert "dh_next" not in " ".join(result.diagnosis), text


def test_lstm_step_without_dc_next_is_one_line_not_six_zeros():
    """Student kim: six "is all zeros" bullets came before the line that named the bug."""
    result, text = _judge("ex5.lstm_step_backward", bug_step_no_dc_next)
    assert result.points == 0, text
    look = text.split("What to look at:")[1]
    assert "all zeros" not in look, text
    assert "ignores dc_next" in look, text
    assert "did you miss the dc_next path" not in look, text  # the probe's hint, now redundant
    assert len(result.diagnosis) <= 3, text


def test_the_same_finding_about_several_outputs_is_one_line():
    """Without a bug model that matches, "all zeros" for every gradient is still said once."""

    def zeros(dh_out, dc_next, cache):
        N, D = cache.x.shape
        H = dh_out.shape[1]
        return (np.zeros((N, D)), np.zeros((N, H)), np.zeros((N, H))) + (
            np.zeros_like(cache.Wx),
            np.zeros_like(cache.Wh),
            np.zeros(4 * H),
        )

    result, text = _judge("ex5.lstm_step_backward", zeros)
    zero_lines = [d for d in result.diagnosis if "all zeros" in d]
    assert len(zero_lines) == 1, text
    assert all(f"`{n}`" in zero_lines[0] for n in ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")), text
    assert len(result.diagnosis) <= 3, text


# ------------------------------------------------------------------------------ float32 and dtype


def rnn_step_float32(x, h_prev, Wx, Wh, b):
    h, cache = nn.rnn_step_forward(x, h_prev, Wx, Wh, b)
    return h.astype(np.float32), cache


def test_right_values_in_float32_pass_with_a_note():
    result, text = _judge("ex1.rnn_step_forward", rnn_step_float32)
    assert result.passed and result.points == 2, text
    assert result.diagnosis == [], text
    assert any("`h_next` came back as float32" in n for n in result.notes), text
    assert "x @ Wx" not in text and "keep float64" not in text, text


def test_float32_computed_throughout_passes_a_sequence_gradient():
    """Rounding in every step of a float32 backward pass stays inside float32's tolerance."""

    def rnn_backward_float32(dh, cache):
        c32 = nn.RNNCache(*(np.asarray(v, dtype=np.float32) for v in cache))
        return nn.rnn_backward(dh.astype(np.float32), c32)

    result, text = _judge("ex3.rnn_backward", rnn_backward_float32)
    assert result.passed, text
    assert "`dx`, `dh0`, `dWx`, `dWh`, `db` came back as float32" in " ".join(result.notes), text


def test_a_bug_in_float32_is_still_named():
    def overwritten_float32(dh, cache):  # computed in float32 from the start, not just rounded
        c32 = nn.RNNCache(*(np.asarray(v, dtype=np.float32) for v in cache))
        return bug_overwritten(dh.astype(np.float32), c32)

    result, text = _judge("ex3.rnn_backward", overwritten_float32)
    assert result.points == 0, text
    assert len(result.diagnosis) == 1 and "overwritten (=)" in result.diagnosis[0], text


def test_a_wrong_dtype_stands_alone():
    def rnn_step_float16(x, h_prev, Wx, Wh, b):
        h, cache = nn.rnn_step_forward(x, h_prev, Wx, Wh, b)
        return h.astype(np.float16), cache

    result, text = _judge("ex1.rnn_step_forward", rnn_step_float16)
    assert result.points == 0, text
    assert len(result.diagnosis) == 1 and "dtype float16" in result.diagnosis[0], text
    assert "x @ Wx" not in text, text


# --------------------------------------------------------------------- a wrong kind of return value


def rnn_step_swapped(x, h_prev, Wx, Wh, b):
    h, cache = nn.rnn_step_forward(x, h_prev, Wx, Wh, b)
    return cache, h


def test_a_swapped_return_order_is_not_called_an_exception():
    result, text = _judge("ex1.rnn_step_forward", rnn_step_swapped)
    assert result.points == 0, text
    assert len(result.diagnosis) == 1, text
    assert result.diagnosis[0].startswith(
        "returned the wrong kind of value: `h_next` must be a NumPy array, got RNNStepCache "
        "(is the return order `h_next, cache`?)"
    ), text
    assert "raised" not in text and "TypeError" not in text, text


def test_a_wrong_number_of_values_names_the_return_order():
    def forgot_the_cache(x, h_prev, Wx, Wh, b):
        return nn.rnn_step_forward(x, h_prev, Wx, Wh, b)[0]

    result, text = _judge("ex1.rnn_step_forward", forgot_the_cache)
    assert result.diagnosis[0].startswith(
        "returned the wrong kind of value: it must return a tuple of 2 values (`h_next, cache`), got ndarray"
    ), text
    assert "raised" not in text, text


def test_the_wrong_kind_of_value_reads_in_chinese():
    with messages.using("zh"):
        result, text = _judge("ex1.rnn_step_forward", rnn_step_swapped)
    assert result.diagnosis[0].startswith(
        "返回值的类型不对：`h_next` 必须是 NumPy 数组，得到的却是 RNNStepCache（返回顺序是 `h_next, cache` 吗？）"
    ), text
    assert "返回值的类型不对（见下文）" in text and "抛出" not in text, text


def test_different_findings_are_not_merged():
    """Twice the answer and three times the answer are two findings, even if both are factors."""

    def scaled(dh_out, cache):
        dx, dh_prev, dWx, dWh, db = nn.rnn_step_backward(dh_out, cache)
        return 2 * dx, 2 * dh_prev, 2 * dWx, 2 * dWh, 3 * db

    result, text = _judge("ex3.rnn_step_backward", scaled)
    twice = [d for d in result.diagnosis if "2 times the right answer" in d]
    thrice = [d for d in result.diagnosis if "3 times the right answer" in d]
    assert len(twice) == 1 and len(thrice) == 1, text
    assert "`db`" in thrice[0] and "`db`" not in twice[0], text
    assert all(f"`{n}`" in twice[0] for n in ("dx", "dh_prev", "dWx", "dWh")), text
