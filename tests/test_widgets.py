"""Widget tests without a browser: build every explorer, move its controls from code, and check
that the computed state and the plotted data change as the lesson says they should."""
import subprocess
import sys

import numpy as np
import pytest

from rnncourse import diagnostics as dg
from rnncourse import tasks
from rnncourse.nn import SequenceModel
from rnncourse.viz import widgets as W

from widget_helpers import PNG, redraws as _redraws


def test_import_rnncourse_is_cheap_and_silent():
    code = ("import sys, rnncourse, rnncourse.viz, rnncourse.diagnostics; "
            "assert 'ipywidgets' not in sys.modules and 'matplotlib.pyplot' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == ""


def test_lazy_names():
    import rnncourse.viz as viz
    assert viz.jacobian_explorer is W.jacobian_explorer
    with pytest.raises(AttributeError):
        viz.no_such_explorer


def test_explorers_do_not_load_pyplot():
    """Figures come from Figure() + Agg, so nothing can leak into a notebook cell's output."""
    code = ("import sys; from rnncourse.viz import widgets as W; W.clipping_explorer(); "
            "assert 'matplotlib.pyplot' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


@pytest.fixture(scope="module")
def hidden():
    return W.hidden_state_explorer()


def test_hidden_state_explorer(hidden):
    ex = hidden
    assert set(ex.controls) == {"radius", "input_scale", "pattern", "t"}
    assert ex.state["h"].shape == (ex.T, ex.H)
    # radius 0: no recurrence, so after the 3-step pulse the state is exactly 0 (feed-forward)
    assert _redraws(ex, "radius", 0.0)
    np.testing.assert_allclose(ex.state["h"][3:], 0.0)
    assert ex.state["radius"] == 0.0
    # a larger radius keeps the pulse alive longer
    ex.controls["radius"].value = 0.5
    late_small = ex.state["state_norms"][-1]
    ex.controls["radius"].value = 1.5
    late_big = ex.state["state_norms"][-1]
    assert late_big > 10 * late_small
    assert ex.state["radius"] == pytest.approx(1.5)


def test_hidden_state_time_slider_masks_the_heatmap(hidden):
    ex = hidden
    ex.controls["t"].value = 5
    img = ex.artists["heatmap"]["image"].get_array()
    assert img.mask[:, 5:].all() and not img.mask[:, :5].any()
    np.testing.assert_allclose(ex.state["h_t"], ex.state["h"][4])
    ex.controls["input_scale"].value = 2.0
    np.testing.assert_allclose(ex.state["x"][:3, 0], 2.0)
    np.testing.assert_allclose(ex.artists["input"]["rest"].get_ydata()[:3], 2.0)
    ex.controls["pattern"].value = "sine"
    assert np.ptp(ex.state["x"]) > 3
    ex.controls["t"].value = ex.T


@pytest.fixture(scope="module")
def training():
    task = tasks.sine(T=20)
    model = SequenceModel.for_task("rnn", task, 8, rng=0)
    hist, snaps = dg.train_with_snapshots(model, task, steps=60, every=20, batch_size=16, rng=0)
    return W.training_explorer(hist, snaps, task, n_examples=4)


def test_training_explorer(training):
    ex = training
    assert ex.state["step"] == 60
    err_end = ex.state["error"]
    pred_end = ex.artists["pred"]["pred"].get_ydata().copy()
    assert _redraws(ex, "snapshot", 0)
    assert ex.state["step"] == 0
    assert ex.state["error"] > err_end                       # training helped
    assert not np.allclose(ex.artists["pred"]["pred"].get_ydata(), pred_end)
    assert ex.artists["loss"]["marker"].get_xdata()[0] == 1
    ex.controls["example"].value = 2
    np.testing.assert_allclose(ex.state["target"], ex.batch.y[2, :, 0])
    np.testing.assert_allclose(ex.artists["pred"]["target"].get_ydata(), ex.batch.y[2, :, 0])


def test_training_explorer_softmax_task():
    task = tasks.parity(T=6)
    model = SequenceModel.for_task("rnn", task, 8, rng=0)
    hist, snaps = dg.train_with_snapshots(model, task, steps=20, every=10, batch_size=8, rng=0)
    ex = W.training_explorer(hist, snaps, task, n_examples=3)
    assert np.all((ex.state["pred"] >= 0) & (ex.state["pred"] <= 1))   # P(class 1)
    np.testing.assert_array_equal(ex.state["target"], ex.batch.y[0])


@pytest.fixture(scope="module")
def bptt():
    return W.bptt_explorer()


def test_bptt_explorer_full_equals_truncated_at_k_T(bptt):
    ex = bptt
    assert ex.state["k"] == ex.T and ex.state["rel_error"] == 0.0
    np.testing.assert_allclose(ex.state["grad_trunc"], ex.state["grad_full"])


def test_bptt_explorer_truncation(bptt):
    ex = bptt
    assert _redraws(ex, "k", 5)
    s = ex.state
    assert s["rel_error"] > 0 and s["memory_ratio"] == pytest.approx(5 / ex.T)
    # loss only at the last step: with k = 5 nothing reaches the steps before the last chunk
    last_chunk_start = (ex.T - 1) // 5 * 5
    assert np.all(s["grad_trunc"][:last_chunk_start] == 0)
    assert np.all(s["grad_full"][:last_chunk_start] > 0)
    y = ex.artists["grad"]["truncated"].get_ydata()
    assert np.isnan(y[:last_chunk_start]).all()              # zeros cannot be drawn on a log axis
    # a longer window is closer to the full gradient
    err5 = s["rel_error"]
    ex.controls["k"].value = 20
    assert ex.state["rel_error"] < err5
    ex.controls["k"].value = ex.T


def test_bptt_explorer_radius_changes_decay(bptt):
    ex = bptt
    ex.controls["radius"].value = 0.6
    early_small = ex.state["grad_full"][0]
    ex.controls["radius"].value = 1.4
    assert ex.state["grad_full"][0] > 100 * early_small
    np.testing.assert_allclose(ex.artists["grad"]["full"].get_ydata(), ex.state["grad_full"])
    ex.controls["loss_at"].value = "every step"
    assert np.all(ex.state["grad_full"] > 0)
    ex.controls["loss_at"].value = "last step"
    ex.controls["radius"].value = 1.0


@pytest.fixture(scope="module")
def jac():
    return W.jacobian_explorer()


def test_jacobian_explorer_larger_radius_larger_early_norms(jac):
    ex = jac
    ex.controls["radius"].value = 0.8
    early_small = ex.state["norms"][:10].copy()
    plotted = ex.artists["norms"]["norms"].get_ydata().copy()
    assert _redraws(ex, "radius", 1.2)
    assert np.all(ex.state["norms"][:10] > 1e6 * early_small)
    assert ex.state["spectral_radius"] == pytest.approx(1.2)
    assert not np.allclose(ex.artists["norms"]["norms"].get_ydata(), plotted)


def test_jacobian_explorer_linear_regime_and_saturation(jac):
    ex = jac
    ex.controls["init"].value = "orthogonal"
    ex.controls["radius"].value = 1.2
    ex.controls["input_scale"].value = 0.0
    s = ex.state
    assert s["saturation"] == 0.0
    np.testing.assert_allclose(s["norms"], s["reference"], rtol=1e-8)  # exactly rho^(T-k)
    # the question beside the explorer: the last k with ||dh_T/dh_k|| > 1e6 is 24
    assert np.nonzero(s["norms"] > 1e6)[0].max() == 24
    # inputs push the units into saturation, and the same matrix now makes the gradient vanish
    ex.controls["input_scale"].value = 1.0
    assert ex.state["saturation"] > 0.05 and ex.state["norms"][0] < 1e-6
    assert np.all(ex.artists["saturation"]["saturated"].get_ydata() == ex.state["saturated"])
    ex.controls["init"].value = "normal"
    ex.controls["input_scale"].value = 0.0
    ex.controls["radius"].value = 1.0


def test_clipping_explorer():
    ex = W.clipping_explorer()
    s = ex.state
    assert s["angle_norm"] == pytest.approx(0.0, abs=1e-6)
    assert s["angle_value"] == pytest.approx(25.0, abs=0.01)          # 45 - 20 degrees
    np.testing.assert_allclose(s["by_value"], [1.0, 1.0])
    assert _redraws(ex, "length", 1.0)                                  # inside the square: no turn
    assert ex.state["angle_value"] == pytest.approx(0.0, abs=1e-6)
    ex.controls["threshold"].value = 2.0
    np.testing.assert_allclose(ex.artists["full"]["circle"].get_radius(), 2.0)
    ex.controls["length"].value = 9.0
    _, end = ex.artists["zoom"]["by_value"]._posA_posB
    np.testing.assert_allclose(end, [2.0, 2.0])


def test_live_loss_plot():
    task = tasks.parity(T=5)
    live = W.LiveLossPlot(steps=30, chance=task.chance_loss * task.T)
    from rnncourse.nn import train
    hist = train(SequenceModel.for_task("rnn", task, 6, rng=0), task, steps=30, batch_size=8,
                 callback=live, callback_every=10)
    assert live.updates == 3 and live.png.startswith(PNG)
    np.testing.assert_allclose(live.artists["line"].get_ydata(), hist.loss)
    assert "step 30" in live.label.value


def test_explorer_png_is_deterministic():
    a, b = W.clipping_explorer(), W.clipping_explorer()
    assert a.png == b.png


def test_update_is_fast(hidden):
    ex = hidden
    for v in (0.3, 0.6, 0.9, 1.2, 1.5, 0.3, 0.6):
        ex.controls["radius"].value = v
    assert np.median(ex.timings[-7:]) < 0.25         # generous: the benchmark measures properly
