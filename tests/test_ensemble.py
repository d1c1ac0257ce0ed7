"""Ensemble training: the model axis changes nothing but speed.

Proven three ways: forward/backward of every model equals the single-model functions; float64
gradient checks; and training M models together gives the same parameters after k steps as
training them one by one with ``rnncourse.nn.train`` (same seeds, 1e-10).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from rnncourse import tasks
from rnncourse.nn import (
    SequenceModel,
    check_gradients,
    init_cell_params,
    sequence_backward,
    sequence_forward,
    train,
)
from rnncourse.nn.ensemble import (
    ensemble_backward,
    ensemble_forward,
    ensemble_loss,
    ensemble_predict,
    ensemble_train,
    pad_batches,
    padded_sampler,
    stack_params,
    unstack_params,
)

CELLS = ("rnn", "lstm", "gru")


def _ensemble(cell, M=3, N=2, T=4, D=3, H=2, seed=0):
    rng = np.random.default_rng(seed)
    ps = []
    for _ in range(M):
        p = init_cell_params(cell, D, H, rng)
        ps.append({k: v + rng.uniform(-0.5, 0.5, size=v.shape) for k, v in p.items()})
    x = rng.standard_normal((M, N, T, D))
    h0 = 0.5 * rng.standard_normal((M, N, H))
    c0 = 0.5 * rng.standard_normal((M, N, H)) if cell == "lstm" else None
    dh = rng.standard_normal((M, N, T, H))
    return ps, x, h0, c0, dh


@pytest.mark.parametrize("cell", CELLS)
def test_each_model_equals_the_single_model_functions(cell):
    ps, x, h0, c0, dh = _ensemble(cell)
    h, cache = ensemble_forward(cell, x, h0, stack_params(ps), c0=c0)
    dx, dh0, dc0, grads = ensemble_backward(dh, cache)
    for m, p in enumerate(ps):
        h_m, cache_m = sequence_forward(cell, x[m], h0[m], p, None if c0 is None else c0[m])
        np.testing.assert_allclose(h[m], h_m, rtol=0, atol=1e-13)
        dx_m, dh0_m, dc0_m, g_m = sequence_backward(cell, dh[m], cache_m)
        np.testing.assert_allclose(dx[m], dx_m, rtol=0, atol=1e-12)
        np.testing.assert_allclose(dh0[m], dh0_m, rtol=0, atol=1e-12)
        if c0 is not None:
            np.testing.assert_allclose(dc0[m], dc0_m, rtol=0, atol=1e-12)
        for k in g_m:
            np.testing.assert_allclose(grads[k][m], g_m[k], rtol=0, atol=1e-12)


def _check(cell, swap_models=False):
    ps, x, h0, c0, dh = _ensemble(cell, M=2, T=3)
    params = stack_params(ps)
    inputs = {"x": x, "h0": h0, **params}
    if c0 is not None:
        inputs["c0"] = c0

    def f(x, h0, c0=None, **p):
        return ensemble_forward(cell, x, h0, p, c0=c0)[0]

    _, cache = ensemble_forward(cell, x, h0, params, c0=c0)
    dx, dh0, dc0, grads = ensemble_backward(dh, cache)
    analytic = {"x": dx, "h0": dh0, **grads}
    if c0 is not None:
        analytic["c0"] = dc0
    if swap_models:  # a backward that mixes up the model axis
        analytic["Wh"] = grads["Wh"][::-1]
    return check_gradients(f, inputs, analytic, dout=dh)


@pytest.mark.parametrize("cell", CELLS)
def test_ensemble_backward_gradient_check(cell):
    errors = _check(cell)
    worst = max(errors, key=errors.get)
    assert errors[worst] < 1e-7, f"{worst}: {errors[worst]:.2e}"


def test_gradient_check_catches_mixed_up_models():
    assert _check("gru", swap_models=True)["Wh"] > 1e-2


@pytest.mark.parametrize("cell", CELLS)
def test_ensemble_loss_gradient_check(cell):
    ps, x, _, _, _ = _ensemble(cell, M=2, T=3, N=3)
    rng = np.random.default_rng(5)
    params = stack_params(
        [{**p, "Wy": rng.standard_normal((2, 4)), "by": rng.standard_normal(4)} for p in ps]
    )
    y = rng.integers(0, 4, size=(2, 3, 3))
    mask = (rng.random((2, 3, 3)) < 0.7).astype(float)
    losses, grads, _ = ensemble_loss(cell, params, x, y, mask)
    errors = check_gradients(lambda **p: ensemble_loss(cell, p, x, y, mask)[0].sum(), params, grads)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize(
    "cell, lags, seeds",
    [(c, (0, 3, 0, 3), (0, 0, 1, 1)) for c in CELLS]
    # sorted by length, as the live sweep orders them: the ended models are skipped step by step
    + [(c, (0, 0, 3, 3), (0, 1, 0, 1)) for c in CELLS],
)
def test_training_together_equals_training_one_by_one(cell, lags, seeds):
    # two lags (different sequence lengths, so the padding is exercised) x two seeds
    steps = 6
    task_of = {lag: tasks.embedded_reber(lag=lag, stats_samples=10) for lag in set(lags)}
    models = [SequenceModel.for_task(cell, task_of[lag], 5, rng=seed) for lag, seed in zip(lags, seeds)]
    kw = dict(steps=steps, lr=0.02, clip=0.5)
    alone = [
        train(m, task_of[lag], batch_size=4, rng=seed, **kw).model.params
        for m, lag, seed in zip(models, lags, seeds)
    ]
    sample = padded_sampler([task_of[lag] for lag in lags], list(seeds), 4)
    hist = ensemble_train(cell, stack_params([m.params for m in models]), sample, **kw)
    together = unstack_params(hist.params)
    assert np.array(hist.loss).shape == (steps, 4)
    assert np.max(np.array(hist.grad_norm)) > 0.5  # clipping was active, so it is tested too
    for m, (a, b) in enumerate(zip(alone, together)):
        assert sorted(a) == sorted(b)
        for k in a:
            np.testing.assert_allclose(b[k], a[k], rtol=0, atol=1e-10, err_msg=f"model {m} {k}")
        # and training really moved them
        assert np.abs(b["Wh"] - models[m].params["Wh"]).max() > 1e-3


def test_padding_does_not_change_predictions():
    task = tasks.embedded_reber(lag=2, stats_samples=10)
    rng = np.random.default_rng(0)
    models = [SequenceModel.for_task("lstm", task, 4, rng=s) for s in (0, 1)]
    params = stack_params([m.params for m in models])
    b = task.sample(3, rng)
    x, _, _ = pad_batches([b, b])
    xp = np.concatenate([x, np.zeros_like(x[:, :, :5])], axis=2)
    np.testing.assert_allclose(
        ensemble_predict("lstm", params, xp)[:, :, : x.shape[2]],
        ensemble_predict("lstm", params, x),
        rtol=0,
        atol=1e-14,
    )


def test_clear_errors():
    ps, x, h0, c0, dh = _ensemble("lstm")
    params = stack_params(ps)
    with pytest.raises(ValueError, match=r"x must have shape \(M, N, T, D\)"):
        ensemble_forward("lstm", x[0], h0, params)
    with pytest.raises(ValueError, match=r"Wx must have shape \(M, D, 4H\) = \(3, 5, 8\)"):
        ensemble_forward("lstm", np.zeros((3, 2, 4, 5)), h0, params)
    with pytest.raises(ValueError, match=r"h0 must have shape \(M, N, H\) = \(3, 2, 2\)"):
        ensemble_forward("lstm", x, h0[:2], params)
    with pytest.raises(ValueError, match="no cell state"):
        ensemble_forward("rnn", x, h0, stack_params(_ensemble("rnn")[0]), c0=c0)
    with pytest.raises(ValueError, match="param_dicts\\[1\\]\\['Wh'\\] has shape"):
        stack_params([ps[0], {**ps[1], "Wh": np.zeros((3, 8))}])
    with pytest.raises(TypeError, match="EnsembleCache"):
        ensemble_backward(dh, None)
    with pytest.raises(ValueError, match="clip must be"):
        ensemble_train("lstm", params, lambda: None, clip=0)


# ---------------------------------------------------------------- lesson 7's sweep, live

from rnncourse.diagnostics import ReberSweep  # noqa: E402
from rnncourse.diagnostics import reber_lag_sweep as shipped_sweep  # noqa: E402
from rnncourse.sweeps import TextProgress, reber_batches, reber_lag_sweep, save_sweep  # noqa: E402


def test_reber_batches_are_embedded_reber_strings_of_each_lag():
    lags = (0, 3, 12)
    x, y, mask = reber_batches(lags, 300, np.random.default_rng(0))
    assert x.shape == (3, 300, 36, 8) and y.shape == mask.shape == (3, 300, 36)
    S = tasks.REBER_SYMBOLS
    for m, lag in enumerate(lags):
        n = mask[m].sum(axis=1).astype(int)
        assert n.max() <= lag + 24 and np.all(mask[m, :, lag + 24 :] == 0)
        for r in range(300):
            s = S[x[m, r, 0].argmax()] + "".join(S[i] for i in y[m, r, : n[r]])
            assert tasks.is_embedded_reber(s, lag), s
        # inputs are the targets shifted by one step, and zero where masked
        on = mask[m, :, 1:] > 0
        assert np.array_equal(x[m, :, 1:].argmax(-1)[on], y[m, :, :-1][on])
        assert np.all(x[m][mask[m] == 0] == 0)
        # same distribution as the task's own sampler (mean length within 3 standard errors)
        ref = tasks.embedded_reber(lag, stats_samples=1).sample(2000, np.random.default_rng(1))
        ref = ref.mask.sum(axis=1)
        assert abs(n.mean() - ref.mean()) < 3 * ref.std() * np.sqrt(1 / 300 + 1 / 2000)
        # the second symbol is T or P about equally often
        assert 0.4 < np.mean(y[m, :, 0] == S.index("T")) < 0.6


def test_live_sweep_structure_and_first_evaluation_match_the_shipped_sweep():
    calls = []
    sw = reber_lag_sweep(
        cells=("rnn", "gru"),
        lags=(5, 0),
        seeds=(1,),
        steps=4,
        every=2,
        progress=lambda done, total, msg: calls.append((done, total)),
        dtype=np.float64,
    )
    assert isinstance(sw, ReberSweep) and sw.cells == ("rnn", "gru") and list(sw.steps) == [0, 2, 4]
    assert sw.critical_accuracy.shape == sw.loss.shape == (2, 1, 2, 3)
    assert calls[0] == (0, 8) and calls[-1] == (8, 8) and len(calls) == 2 * 2 + 2
    # before training the models are exactly the offline script's (same initialisation, same test
    # strings, same measures), so evaluation 0 equals the shipped file's
    ref = shipped_sweep()
    for ci, cell in enumerate(sw.cells):
        for li, lag in enumerate(sw.lags):
            want = ref.critical_accuracy[ref.cells.index(cell), 1, list(ref.lags).index(lag), 0]
            assert sw.critical_accuracy[ci, 0, li, 0] == pytest.approx(want, abs=1e-6)
            want = ref.loss[ref.cells.index(cell), 1, list(ref.lags).index(lag), 0]
            assert sw.loss[ci, 0, li, 0] == pytest.approx(want, rel=1e-5)
    assert np.all(sw.loss[..., -1] < sw.loss[..., 0])  # four Adam steps already lower the loss


def test_saved_sweep_loads_like_the_shipped_file(tmp_path):
    sw = reber_lag_sweep(cells=("lstm",), lags=(0,), seeds=(0, 1), steps=2, every=1, progress=False)
    save_sweep(sw, tmp_path / "s.npz")
    with np.load(tmp_path / "s.npz", allow_pickle=False) as d:
        with np.load(shipped_path(), allow_pickle=False) as ref:
            assert sorted(d.files) == sorted(ref.files)
            for k in d.files:
                assert d[k].dtype.kind == ref[k].dtype.kind and d[k].ndim == ref[k].ndim, k
        np.testing.assert_allclose(d["critical_accuracy"], sw.critical_accuracy, rtol=1e-6)


def shipped_path():
    from importlib import resources

    return resources.files("rnncourse").joinpath("data", "reber_lags.npz")


def test_text_progress_bar():
    import io

    out = io.StringIO()
    bar = TextProgress(out, width=10)
    bar(3, 10, "lstm step 3")
    bar(10, 10, "done")
    text = out.getvalue()
    assert "[###-------]   30%  lstm step 3" in text and text.endswith("\n") and "100%" in text


@pytest.mark.parametrize(
    "kw, exc, words",
    [
        (dict(cells=("elman",)), ValueError, "cells must hold cell names"),
        (dict(cells="rnn"), TypeError, "cells must be a list"),
        (dict(lags=(0, -1)), ValueError, "lags must hold non-negative integers, got [-1]"),
        (dict(seeds=(0, 0)), ValueError, "must not repeat"),
        (dict(steps=10, every=3), ValueError, "multiple of every"),
        (dict(progress="bar"), ValueError, "progress must be"),
        (dict(dtype=np.float16), ValueError, "dtype must be float32 or float64"),
    ],
)
def test_sweep_clear_errors(kw, exc, words):
    with pytest.raises(exc) as info:
        reber_lag_sweep(**{"progress": False, **kw})
    assert words in str(info.value)


def test_float32_training_stays_float32():
    task = tasks.embedded_reber(lag=0, stats_samples=1)
    params = stack_params([SequenceModel.for_task("gru", task, 4, rng=s).params for s in (0, 1)])
    params = {k: v.astype(np.float32) for k, v in params.items()}
    rng = np.random.default_rng(0)
    hist = ensemble_train(
        "gru", params, lambda: reber_batches((0, 0), 8, rng, dtype=np.float32), steps=3, clip=1.0
    )
    assert all(v.dtype == np.float32 for v in hist.params.values())
    assert np.all(np.isfinite(np.array(hist.loss)))


def test_loss_clear_errors():
    ps, x, _, _, _ = _ensemble("rnn", M=2)
    params = stack_params([{**p, "Wy": np.zeros((2, 3)), "by": np.zeros(3)} for p in ps])
    y = np.zeros((2, 2, 4), np.int64)
    with pytest.raises(ValueError, match=r"class ids in \[0, 3\)"):
        ensemble_loss("rnn", params, x, y + 3)
    with pytest.raises(TypeError, match="integer class ids"):
        ensemble_loss("rnn", params, x, y.astype(float))
    with pytest.raises(ValueError, match=r"mask must have shape \(M, N, T\)"):
        ensemble_loss("rnn", params, x, y, mask=np.ones((2, 4)))


def test_lesson_7_explorer_shows_a_fresh_sweep():
    from rnncourse.viz import reber_lag_explorer

    sw = reber_lag_sweep(lags=(0, 10), seeds=(0, 1), steps=2, every=1, progress=False)
    ex = reber_lag_explorer(sw)
    ex.controls["lag"].value = 10
    assert ex.state["curves"].shape == (3, 2, 3)
    np.testing.assert_array_equal(ex.state["curves"], sw.critical_accuracy[:, :, 1])


def test_widget_progress_bar_reaches_the_end(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda w: shown.append(w))
    reber_lag_sweep(cells=("rnn",), lags=(0,), seeds=(0,), steps=2, every=1, progress="widget")
    bar, label = shown[0].children
    assert (bar.value, bar.max) == (2, 2) and label.value.startswith("done: 1 model in")


def test_ended_models_are_skipped_exactly():
    # the skipping ("first active model" per step, from the mask) gives the loss and gradients of
    # the full computation, and really skips: models 0, 1 end at step 3, model 2 at step 7
    from rnncourse.nn.ensemble import _first_active

    ps, x, _, _, _ = _ensemble("lstm", M=3, T=7, N=2)
    rng = np.random.default_rng(1)
    params = stack_params(
        [{**p, "Wy": rng.standard_normal((2, 4)), "by": rng.standard_normal(4)} for p in ps]
    )
    mask = np.ones((3, 2, 7))
    mask[:2, :, 3:] = 0
    x[:2, :, 3:] = 0
    y = rng.integers(0, 4, size=(3, 2, 7))
    assert list(_first_active(mask)) == [0, 0, 0, 2, 2, 2, 2]
    losses, grads, _ = ensemble_loss("lstm", params, x, y, mask)
    full_x = np.concatenate([x, np.zeros_like(x[:, :, :1])], axis=2)  # padding changes nothing
    full_mask = np.concatenate([mask, np.zeros_like(mask[:, :, :1])], axis=2)
    full_y = np.concatenate([y, np.zeros_like(y[:, :, :1])], axis=2)
    for m in range(3):  # each model alone, never skipped
        one = {k: v[m : m + 1] for k, v in params.items()}
        loss_m, grads_m, _ = ensemble_loss(
            "lstm", one, full_x[m : m + 1], full_y[m : m + 1], full_mask[m : m + 1]
        )
        assert loss_m[0] == pytest.approx(losses[m], rel=1e-12)
        for k in grads:
            np.testing.assert_allclose(grads[k][m], grads_m[k][0], rtol=0, atol=1e-12, err_msg=k)


# ------------------------------------------------------- the story lesson 7 tells, fresh or shipped

from rnncourse.sweeps import REBER_EDGE, REBER_STORY, reber_story  # noqa: E402


def test_the_shipped_sweep_tells_lesson_7s_story():
    story = reber_story(shipped_sweep(), edge=True)
    assert story == {claim: True for claim in {**REBER_STORY, **REBER_EDGE}}, story


def _doctored(**swap):
    """The shipped sweep with cells relabelled, e.g. rnn <-> lstm."""
    ref = shipped_sweep()
    order = [ref.cells.index(swap.get(c, c)) for c in ref.cells]
    return ReberSweep(
        ref.lags, ref.cells, ref.seeds, ref.steps, ref.critical_accuracy[order], ref.loss[order], ref.hidden
    )


def _edited(cell, lag, value):
    """The shipped sweep with one cell's accuracy at one lag set to ``value`` (all seeds, all steps)."""
    ref = shipped_sweep()
    acc = ref.critical_accuracy.copy()
    acc[ref.cells.index(cell), :, list(ref.lags).index(lag)] = value
    return ReberSweep(ref.lags, ref.cells, ref.seeds, ref.steps, acc, ref.loss, ref.hidden)


def test_each_story_check_can_fail():
    claims = list(REBER_STORY)
    # an RNN that did as well as the LSTM
    story = reber_story(_doctored(rnn="lstm"))
    assert not story[claims[1]]
    # one GRU run that learned lag 30
    assert not reber_story(_edited("gru", 30, 1.0))[claims[4]]
    # an RNN that learned nothing, even at lag 5
    assert not reber_story(_edited("rnn", 5, 0.5))[claims[0]]
    # gated cells that never learn lags 15 and 20: nothing found there, so no "longer search" either
    ref = shipped_sweep()
    acc = ref.critical_accuracy.copy()
    for c in ("lstm", "gru"):
        acc[ref.cells.index(c), :, 3:5] = 0.5
    story = reber_story(ReberSweep(ref.lags, ref.cells, ref.seeds, ref.steps, acc, ref.loss, ref.hidden))
    assert not story[claims[2]] and not story[claims[3]]
    # gated cells that learn lag 20 at once (step 0): no longer search
    assert not reber_story(_edited("gru", 20, 1.0))[claims[3]]
    # the edge results
    story = reber_story(_doctored(gru="lstm", lstm="gru"), edge=True)
    assert not story["at lags 5 to 20 the LSTM succeeds in more runs than the GRU"]
    assert not story["the LSTM learns lag 20 (in at least one run)"]
    assert all(story[c] for c in claims)
    with pytest.raises(ValueError, match="the sweep has no lag 30"):
        reber_story(reber_lag_sweep(lags=(0, 5, 10, 20), seeds=(0,), steps=1, every=1, progress=False))


@pytest.mark.skipif(
    os.environ.get("RNNCOURSE_FULL_SWEEP") != "1",
    reason="trains the whole lag sweep (about a minute or more); set RNNCOURSE_FULL_SWEEP=1 to run",
)
def test_a_fresh_full_sweep_tells_the_same_story():
    fresh = reber_lag_sweep(progress=False)
    assert reber_story(fresh) == reber_story(shipped_sweep())


def test_explorer_switches_between_shipped_and_fresh_results():
    from rnncourse.viz import reber_lag_explorer

    ref = shipped_sweep()
    # any ReberSweep on the same grid will do (training one is tested above): here the mirror image
    fresh = ReberSweep(
        ref.lags, ref.cells, ref.seeds, ref.steps, 1.0 - ref.critical_accuracy, ref.loss, ref.hidden
    )
    ex = reber_lag_explorer(fresh=fresh)
    ex.controls["lag"].value = 20
    np.testing.assert_array_equal(ex.state["curves"], ref.critical_accuracy[:, :, 4])
    png = ex.png
    ex.controls["results"].value = "yours"
    np.testing.assert_array_equal(ex.state["curves"], fresh.critical_accuracy[:, :, 4])
    left = ex.axes["lags"].lines[0].get_ydata()  # the RNN's mean final accuracy, now the fresh one
    np.testing.assert_allclose(left, fresh.critical_accuracy[0, :, :, -1].mean(axis=0))
    assert ex.png != png and "your sweep" in ex.key_numbers(ex.state)[0]
    ex.controls["results"].value = "shipped"
    np.testing.assert_allclose(
        ex.axes["lags"].lines[0].get_ydata(), ref.critical_accuracy[0, :, :, -1].mean(axis=0)
    )
    with pytest.raises(ValueError, match="fresh must cover the same lags"):
        reber_lag_explorer(
            fresh=ReberSweep(
                ref.lags[:2], ref.cells, ref.seeds, ref.steps, fresh.critical_accuracy[:, :, :2], ref.loss, 16
            )
        )
    with pytest.raises(TypeError, match="fresh must be a ReberSweep"):
        reber_lag_explorer(fresh={})


def test_story_table_in_both_languages():
    from rnncourse.messages import using
    from rnncourse.sweeps import story_table

    ref = shipped_sweep()
    doctored = _edited("lstm", 20, 0.5)
    text = story_table(ref, doctored)
    assert "the LSTM learns lag 20 (in at least one run)  (edge of the budget)" in text
    row = [r for r in text.splitlines() if "learns lag 20 (in" in r][0]
    assert row.split()[:2] == ["yes", "no"]
    with using("zh"):
        zh = story_table(ref, doctored)
    assert "LSTM 能学会间隔 20" in zh and "否" in zh and "the LSTM" not in zh
