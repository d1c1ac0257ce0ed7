"""Feedback that names one mistake, not several (rnncourse/grading/verdict.py, _driver.py).

Each case is a submission an outside instructor graded, worded as an exception the student's code
never raised.
"""

from rnncourse import messages, nn
from rnncourse.grading.checks import PUBLIC_SEED, format_result
from rnncourse.grading.exercises import get_task
from rnncourse.grading.verdict import run_in_process


def _judge(task, func, seed=PUBLIC_SEED):
    result = run_in_process(get_task(task), func, seed)
    return result, format_result(result)


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
