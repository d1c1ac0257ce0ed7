"""Exercise 9's feedback names the real mistake. Each test feeds a deliberately wrong function
through ``verdict.run_in_process`` (what ``check`` prints in the notebook and what the grader's
``judge`` decides on), asserts the diagnosis a student needs, and asserts that the old, misleading
text is gone. The integer-id and error messages live in ``verdict.py``, so ex7 is checked too."""

import math
import re

import numpy as np
import pytest

from rnncourse import messages
from rnncourse.grading.checks import format_result
from rnncourse.grading.exercises import TASKS, ex9, make_inputs
from rnncourse.grading.exercises.ex9 import _loop, _sample, lstm_step, rnn_step
from rnncourse.grading.verdict import run_in_process
from rnncourse.nn import log_softmax

SEEDS = [0, 7, 2024]


def _run(task, func, seed=2024):
    result = run_in_process(TASKS[task], func, seed)
    return result, format_result(result)


def _bug_messages(task):
    return {messages._(b.message) for b in TASKS[task].bugs}


def _hints(task):
    return {messages._(p.hint) for p in TASKS[task].probes}


# ----------------------------------------------------------- 1. per-row bits: ONE number is wanted


def bits_per_row(params, x, y, h0):
    """The mean over T only: one number per row, shape (N,)."""
    h, total = h0, np.zeros(x.shape[0])
    for t in range(x.shape[1]):
        h = rnn_step(params["We"][x[:, t]], h, params)
        logp = log_softmax(h @ params["Wy"] + params["by"], axis=1)
        total -= logp[np.arange(x.shape[0]), y[:, t]]
    return total / (x.shape[1] * math.log(2.0)), h


def bits_per_row_in_nats(params, x, y, h0):
    """Per-row AND in nats: no bug model reproduces it, the shape message alone must say it."""
    bits, h = bits_per_row(params, x, y, h0)
    return bits * math.log(2.0), h


@pytest.mark.parametrize("seed", SEEDS)
def test_per_row_bits_are_told_to_be_one_mean_over_all_characters(seed):
    r, text = _run("ex9.heldout_bits", bits_per_row, seed)
    assert r.points == 0
    assert "not summed" not in text and "axis 0" not in text, text
    first = r.diagnosis[0]
    assert first.startswith("`bits` has shape (") and "one value per row" in first, text
    assert "ONE number" in first and "sum" not in first, text
    assert any("mean over all N * T characters" in d for d in r.diagnosis), text


def test_per_row_bits_without_a_bug_model_still_get_the_one_number_message():
    r, text = _run("ex9.heldout_bits", bits_per_row_in_nats)
    assert "not summed" not in text and "ONE number" in r.diagnosis[0], text
    assert not _bug_messages("ex9.heldout_bits") & set(r.diagnosis), text


def test_a_per_row_loss_in_ex2_is_not_told_to_sum_either():
    """The generic message: ex2's loss is a MEAN over the batch, a sum would be wrong advice."""
    from rnncourse.nn import temporal_softmax_loss

    def per_row(scores, y, mask):
        rows = [
            temporal_softmax_loss(scores[i : i + 1], y[i : i + 1], mask[i : i + 1])[0] for i in range(len(y))
        ]
        return np.array(rows), temporal_softmax_loss(scores, y, mask)[1]

    r, text = _run("ex2.temporal_softmax_loss", per_row)
    assert "not summed" not in text and "ONE number" in text, text


# --------------------------------------------------------- 2. integer ids: how many differ, where


def generate_with_flipped_u(params, prompt, u, tau):
    """Samples with 1 - u: a valid id everywhere, wrong in many places."""
    return _loop(params, prompt, 1.0 - u, tau)


ID_LINE = re.compile(
    r"`ids`: (\d+) of (\d+) values differ; the first at row (\d+), step (\d+): got (\d+), expected (\d+)"
)


@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_ids_say_how_many_differ_and_where_the_first_is(seed):
    spec = TASKS["ex9.generate_rnn"]
    r, text = _run("ex9.generate_rnn", generate_with_flipped_u, seed)
    assert "largest difference" not in text, text
    inputs = make_inputs(spec, seed)
    shown = 0
    for probe in r.probes:
        if probe.passed:
            continue
        args = {k[len("params.") :]: v for k, v in inputs[probe.probe].items() if k.startswith("params.")}
        inp = inputs[probe.probe]
        got = generate_with_flipped_u(args, inp["prompt"], inp["u"], float(inp["tau"]))
        want = ex9.generate_rnn(args, inp["prompt"], inp["u"], float(inp["tau"]))
        (line,) = [p.message for p in probe.problems]
        m = ID_LINE.fullmatch(line)
        assert m, line
        wrong = np.argwhere(got != want)
        row, step = wrong[0]
        assert [int(g) for g in m.groups()] == [
            len(wrong), want.size, row, step, got[row, step], want[row, step]
        ], line  # fmt: skip
        shown += 1
    assert shown >= 2, text


def test_wrong_ids_of_ex7_name_the_first_wrong_row():
    from rnncourse.grading import reference

    def flipped(scores, tau, u):
        return reference.sample_with_temperature(scores, tau, 1.0 - u)

    r, text = _run("ex7.sample_with_temperature", flipped)
    assert not r.passed and "largest difference" not in text, text
    assert re.search(
        r"`ids`: \d+ of \d+ values differs?; the first at row \d+: got \d+, expected \d+", text
    ), text


def test_float_outputs_keep_the_largest_difference():
    from rnncourse.nn import softmax

    r, text = _run("ex7.temperature_softmax", lambda s, t: softmax(s * 1.01, axis=-1))
    assert "largest difference" in text and "values differ" not in text, text


# ------------------------------------------- 3. a wrong type or shape comes first, and alone


def ids_flat(params, prompt, u, tau):
    return _loop(params, prompt, u, tau)[:, 0]  # (N,), not (N, n)


def ids_as_text(params, prompt, u, tau):
    return np.array(["".join(chr(97 + int(i)) for i in row) for row in _loop(params, prompt, u, tau)])


def ids_as_characters(params, prompt, u, tau):
    return np.array([[chr(97 + int(i)) for i in row] for row in _loop(params, prompt, u, tau)])


def ids_as_floats_greedy(params, prompt, u, tau):
    return ex9.bug_rnn_argmax(params, prompt, u, tau).astype(np.float64)


@pytest.mark.parametrize(
    ("func", "start"),
    [
        (ids_flat, "`ids` has shape ("),
        (ids_as_text, "`ids` has dtype <U"),
        (ids_as_characters, "`ids` has dtype <U1"),
        (ids_as_floats_greedy, "`ids` has dtype float64, expected integers"),
    ],
)
def test_a_wrong_form_comes_first_and_no_unrelated_hint_follows(func, start):
    task = "ex9.generate_rnn"
    r, text = _run(task, func)
    assert r.points == 0 and r.diagnosis, text
    assert r.diagnosis[0].startswith(start), text
    assert not _hints(task) & set(r.diagnosis), text  # e.g. the prompt warm-up hint
    named = _bug_messages(task) & set(r.diagnosis)
    if func is ids_as_floats_greedy:  # the values are exactly the arg max: that one is no guess
        assert named == {messages._(ex9._ARGMAX)}, text
    else:
        assert not named, text


def test_a_wrong_shape_beside_a_wrong_value_still_brings_no_hint():
    """bits per row AND hT = h0: the shape comes first; the hint about the maths waits."""

    def per_row_and_h0(params, x, y, h0):
        return bits_per_row(params, x, y, h0)[0], h0

    task = "ex9.heldout_bits"
    r, text = _run(task, per_row_and_h0)
    assert r.diagnosis[0].startswith("`bits` has shape ("), text
    assert any("`hT` is wrong" in p.message for p in r.probes[0].problems), text
    assert not _hints(task) & set(r.diagnosis), text


def test_a_wrong_shape_comes_before_an_in_place_change():
    def mutates_and_flat(params, prompt, u, tau):
        ids = _loop(params, prompt, u, tau)
        u *= 0.5
        return ids[:, 0]

    r, text = _run("ex9.generate_rnn", mutates_and_flat)
    assert r.diagnosis[0].startswith("`ids` has shape ("), text
    assert any("modifies its argument `u`" in d for d in r.diagnosis[1:]), text


# ------------------------------------------------------------- 4. `h, _ = lstm_step(...)`


def generate_lstm_c_dropped(params, prompt, u, tau):
    """`h, _ = lstm_step(...)` everywhere: c stays zero for the whole generation."""
    We, Wy, by = params["We"], params["Wy"], params["by"]
    N, H = prompt.shape[0], params["Wh"].shape[0]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(prompt.shape[1]):
        h, _ = lstm_step(We[prompt[:, t]], h, c, params)
    out = []
    for j in range(u.shape[1]):
        ids = _sample(h @ Wy + by, tau, u[:, j])
        out.append(ids)
        h, _ = lstm_step(We[ids], h, c, params)
    return np.stack(out, axis=1)


def generate_lstm_c_dropped_in_loop(params, prompt, u, tau):
    """`h, c =` in the warm-up, `h, _ =` in the generation loop: c stays at what the prompt left."""
    We, Wy, by = params["We"], params["Wy"], params["by"]
    N, H = prompt.shape[0], params["Wh"].shape[0]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    for t in range(prompt.shape[1]):
        h, c = lstm_step(We[prompt[:, t]], h, c, params)
    out = []
    for j in range(u.shape[1]):
        ids = _sample(h @ Wy + by, tau, u[:, j])
        out.append(ids)
        h, _ = lstm_step(We[ids], h, c, params)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("seed", SEEDS)
def test_dropping_the_new_c_is_named(seed):
    task = "ex9.generate_lstm"
    r, text = _run(task, generate_lstm_c_dropped, seed)
    assert r.points == 0
    named = _bug_messages(task) & set(r.diagnosis)
    assert named == {messages._(ex9._C_DROPPED)}, text
    assert "returns the new h AND the new c" in text and "you kept c from the start" in text, text
    r, text = _run(task, generate_lstm_c_dropped_in_loop, seed)
    assert _bug_messages(task) & set(r.diagnosis) == {messages._(ex9._C_DROPPED_LOOP)}, text
    assert "returns the new h AND the new c" in text, text


# at seeds 42 and 100 "c reset at every generated step" and "c never updated" sample the same ids
# once the prompt is read: only the first probe, passed by the first bug, tells them apart
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5, 6, 7, 42, 100, 2024, 12345])
def test_each_lstm_bug_model_is_told_apart_from_the_others(seed):
    """Fed as the student's answer, every bug model is named alone: the probes tell them apart."""
    task = "ex9.generate_lstm"
    for bug in TASKS[task].bugs:
        r, text = _run(task, bug.impl, seed)
        assert _bug_messages(task) & set(r.diagnosis) == {messages._(bug.message)}, (bug.impl.__name__, text)


# ------------------------------------------------------- 5. an exception is shown once, with where


def raises_everywhere(params, prompt, u, tau):
    return params["We"][prompt] @ params["Wh"]  # (N, P, E) @ (H, H): the sizes never fit


OUT_OF_BOUNDS = "index 99 is out of bounds for axis 0"


def raises_after_the_first_step(params, prompt, u, tau):
    if u.shape[1] > 1:
        raise IndexError(OUT_OF_BOUNDS)  # the line shown names the constant, not its text
    return _loop(params, prompt, u, tau)


def test_an_error_on_every_probe_is_shown_once():
    task = "ex9.generate_rnn"
    r, text = _run(task, raises_everywhere)
    assert text.count("matmul") == 1 and text.count("raised ValueError") == 4, text
    assert text.count("raised ValueError (see below)") == 3, text
    (line,) = [d for d in r.diagnosis if "matmul" in d]
    assert line.endswith("(in all 3 tests above)"), text
    assert r.diagnosis == [line], text  # no hint about the maths
    # the wrong matrix was used here (Wh for the input), not a transposed one: the hint asks both
    assert "or the wrong one used?" in line and "probably transposed" not in line, line


def test_an_error_on_some_probes_names_them():
    task = "ex9.generate_rnn"
    r, text = _run(task, raises_after_the_first_step)
    assert text.count("index 99 is out of bounds") == 1, text
    (line,) = [d for d in r.diagnosis if "index 99" in d]
    titles = [p.title for p in r.probes if not p.passed]
    assert len(titles) == 2 and line.endswith("(in: " + "; ".join(titles) + ")"), text
    assert [p.passed for p in r.probes] == [True, False, False], text


def test_the_new_messages_are_chinese_in_a_chinese_check():
    with messages.using("zh"):
        _r, rows = _run("ex9.heldout_bits", bits_per_row)
        _r, ids = _run("ex9.generate_rnn", generate_with_flipped_u)
        _r, lstm = _run("ex9.generate_lstm", generate_lstm_c_dropped)
        _r, error = _run("ex9.generate_rnn", raises_everywhere)
    assert "必须是整个批量的“一个”数" in rows and "全部 N * T 个字符的平均值" in rows, rows
    assert re.search(
        r"`ids`：\d+ 个值中有 \d+ 个不同；第一个在第 \d+ 行、第 \d+ 步：得到 \d+，应为 \d+", ids
    ), ids
    assert "你一直用的是开始时的 c" in lstm, lstm
    assert "抛出了 ValueError（见下文）" in error and "（上面 3 项测试都出现了这个错误）" in error, error
    for english in ("ONE number", "values differ", "you kept c from the start", "see below", "tests above"):
        assert english not in rows + ids + lstm + error, english


@pytest.mark.parametrize("bug", ["bug_lstm_not_fed_back", "bug_lstm_c_dropped_in_loop"])
def test_a_loop_that_does_not_feed_back_fails_at_every_seed_tried(bug):
    """At grading seed 221 both probes of generate_lstm sampled the same few characters whatever the
    loop fed back, so these two wrong loops scored full marks there; the 20-character probe at
    tau = 1 tells them apart (a sweep of 600 seeds found no other miss)."""
    from rnncourse.grading.exercises import ex9, get_task
    from rnncourse.grading.verdict import run_in_process

    spec = get_task("ex9.generate_lstm")
    for seed in (221, 0, 1):
        assert not run_in_process(spec, getattr(ex9, bug), seed).passed, seed
