"""Widget tests without a browser: build every explorer, move its controls from code, and check
that the computed state and the plotted data change as the lesson says they should."""

import html
import os
import subprocess
import sys

import ipywidgets
import numpy as np
import pytest
import traitlets

from rnncourse import diagnostics as dg
from rnncourse import tasks
from rnncourse.nn import SequenceModel
from rnncourse.viz import widgets as W
from widget_helpers import PNG, build, extremes, finite_state, lines, small_training_run
from widget_helpers import redraws as _redraws


def test_import_rnncourse_is_cheap_and_silent():
    code = (
        "import sys, rnncourse, rnncourse.viz, rnncourse.diagnostics; "
        "assert 'ipywidgets' not in sys.modules and 'matplotlib.pyplot' not in sys.modules"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == ""


def test_lazy_names():
    import rnncourse.viz as viz

    assert viz.jacobian_explorer is W.jacobian_explorer
    with pytest.raises(AttributeError):
        _ = viz.no_such_explorer


def test_explorers_do_not_load_pyplot():
    """Figures come from Figure() + Agg, so nothing can leak into a notebook cell's output."""
    code = (
        "import sys; from rnncourse.viz import widgets as W; W.clipping_explorer(); "
        "assert 'matplotlib.pyplot' not in sys.modules"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


# Explorers are built once per module (building some takes a moment) and reset to their defaults
# before every test, so each test passes alone and in any order.


@pytest.fixture(scope="module")
def _hidden():
    return W.hidden_state_explorer()


@pytest.fixture
def hidden(_hidden):
    return _hidden.reset()


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


@pytest.fixture(scope="module")
def _training():
    return W.training_explorer(*small_training_run(), n_examples=4)


@pytest.fixture
def training(_training):
    return _training.reset()


def test_training_explorer(training):
    ex = training
    assert ex.state["step"] == 60
    err_end = ex.state["error"]
    pred_end = ex.artists["pred"]["pred"].get_ydata().copy()
    assert _redraws(ex, "snapshot", 0)
    assert ex.state["step"] == 0
    assert ex.state["error"] > err_end  # training helped
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
    assert np.all((ex.state["pred"] >= 0) & (ex.state["pred"] <= 1))  # P(class 1)
    np.testing.assert_array_equal(ex.state["target"], ex.batch.y[0])


@pytest.fixture(scope="module")
def _bptt():
    return W.bptt_explorer()


@pytest.fixture
def bptt(_bptt):
    return _bptt.reset()


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
    assert np.isnan(y[:last_chunk_start]).all()  # zeros cannot be drawn on a log axis
    # a longer window is closer to the full gradient
    err5 = s["rel_error"]
    ex.controls["k"].value = 20
    assert ex.state["rel_error"] < err5


def test_bptt_explorer_radius_changes_decay(bptt):
    ex = bptt
    ex.controls["radius"].value = 0.6
    early_small = ex.state["grad_full"][0]
    ex.controls["radius"].value = 1.4
    assert ex.state["grad_full"][0] > 100 * early_small
    np.testing.assert_allclose(ex.artists["grad"]["full"].get_ydata(), ex.state["grad_full"])
    ex.controls["loss_at"].value = "every step"
    assert np.all(ex.state["grad_full"] > 0)


@pytest.fixture(scope="module")
def _jac():
    return W.jacobian_explorer()


@pytest.fixture
def jac(_jac):
    return _jac.reset()


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


def test_clipping_explorer():
    ex = W.clipping_explorer()
    s = ex.state
    assert s["angle_norm"] == pytest.approx(0.0, abs=1e-6)
    assert s["angle_value"] == pytest.approx(25.0, abs=0.01)  # 45 - 20 degrees
    np.testing.assert_allclose(s["by_value"], [1.0, 1.0])
    assert _redraws(ex, "length", 1.0)  # inside the square: no turn
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

    hist = train(
        SequenceModel.for_task("rnn", task, 6, rng=0),
        task,
        steps=30,
        batch_size=8,
        callback=live,
        callback_every=10,
    )
    assert live.updates == 3 and live.png.startswith(PNG)
    np.testing.assert_allclose(live.artists["line"].get_ydata(), hist.loss)
    assert "step 30" in live.label.value


def test_explorer_png_is_deterministic():
    a, b = W.clipping_explorer(), W.clipping_explorer()
    assert a.png == b.png


# ---------------------------------------------------------------------------- every explorer

ALL = list(W.BUILDERS)


@pytest.fixture(scope="module")
def explorers():
    return {}


def _get(explorers, name):
    """One explorer per builder for this module, reset to its defaults."""
    if name not in explorers:
        explorers[name] = build(name)
    return explorers[name].reset()


@pytest.mark.parametrize("name", ALL)
def test_every_control_at_its_extremes_gives_a_finite_consistent_picture(explorers, name):
    """Each control of each explorer at its minimum and maximum (every option of a toggle): the
    update runs, the numbers stay finite, the plotted lines hold no inf, the text panel shows the
    explorer's key numbers, and the control's value is the value the state was computed from."""
    ex = _get(explorers, name)
    for cname, w in ex.controls.items():
        for v in extremes(w):
            if w.value == v:
                continue
            _redraws(ex, cname, v)
            assert ex.values()[cname] == v
            assert finite_state(ex.state) == [], (cname, v)
            for line in lines(ex.artists):
                y = np.asarray(line.get_ydata(), dtype=float)
                assert not np.isinf(y).any(), (cname, v, line.get_label())
            numbers = ex.key_numbers(ex.state)
            assert numbers and all(html.escape(n) in ex.numbers.value for n in numbers)
            assert not any("nan" in n or "inf" in n or "e-16" in n for n in numbers), numbers
        ex.reset()


@pytest.mark.parametrize("name", ALL)
def test_reset_restores_the_default_picture(explorers, name):
    fresh = build(name)
    ex = _get(explorers, name)
    for _cname, w in ex.controls.items():
        v = extremes(w)[-1] if extremes(w)[-1] != w.value else extremes(w)[0]
        w.value = v
    n = len(ex.timings)
    assert ex.reset() is ex and len(ex.timings) == n + 1  # one redraw, not one per control
    assert ex.values() == fresh.values() == ex.defaults
    assert ex.png == fresh.png
    assert ex.numbers.value == fresh.numbers.value


@pytest.mark.parametrize("name", ALL)
def test_every_slider_has_a_labelled_number_box(explorers, name):
    """A slider handle has no accessible name in ipywidgets 8; the number box beside it does (its
    description is rendered as a <label for=...>). Typing in the box moves the slider."""
    ex = _get(explorers, name)
    for cname, w in ex.controls.items():
        assert w.description, f"{name}.{cname} has no description"
        if isinstance(w, (ipywidgets.FloatSlider, ipywidgets.IntSlider, ipywidgets.SelectionSlider)):
            box = ex.boxes[cname]
            assert box.description == w.description and box.value == w.value
            v = extremes(w)[0] if w.value != extremes(w)[0] else extremes(w)[-1]
            n = len(ex.timings)
            box.value = v
            assert w.value == v and len(ex.timings) == n + 1
            assert box.layout.width and box.style.description_width == "0px"


def test_float_sliders_never_show_float_noise(explorers):
    """The browser's slider lands on grid values with rounding noise and sends them back: the
    explorer must keep the grid value and not redraw (the GRU box used to read b_z = -4.44089e-16)."""
    ex = _get(explorers, "gru_memory_explorer")
    w = ex.controls["update_bias"]
    n = len(ex.timings)
    w.set_state({"value": -4.440892098500626e-16})  # what the browser sends for 0.0
    assert w.value == 0.0 and len(ex.timings) == n
    assert "b_z = 0.00" in ex.numbers.value and "e-16" not in ex.numbers.value
    w.set_state({"value": 2.5000000000000004})  # a learner's move, with noise
    assert w.value == 2.5 and len(ex.timings) == n + 1 and ex.state["update_bias"] == 2.5


def test_a_late_echo_does_not_move_the_slider_back(explorers):
    """A check cell sets 1.0, 1.1 then 6.0; the browser's noisy echo of 1.0 arrives last. The
    clipping explorer used to end at length 1.00 after Run All while its default is 6.0."""
    ex = _get(explorers, "clipping_explorer")
    w = ex.controls["length"]
    for v in (1.0, 1.1, 6.0):
        w.value = v
    w.set_state({"value": 1.0000000000000002})  # stale echo of the first value
    assert w.value == 6.0 and ex.state["norm"] == pytest.approx(6.0)
    w.set_state({"value": 6.000000000000001})  # echo of the current value
    assert w.value == 6.0
    w.set_state({"value": 1.0000000000000002})  # now a learner really moves it
    assert w.value == 1.0 and ex.state["norm"] == pytest.approx(1.0)


def test_key_numbers_are_text_beside_the_figure(explorers):
    ex = _get(explorers, "jacobian_explorer")
    before = ex.numbers.value
    assert "ρ(Wh) = 1.00" in before
    ex.controls["radius"].value = 1.5
    assert "ρ(Wh) = 1.50" in ex.numbers.value and ex.numbers.value != before
    assert ex.children[-1].children == (ex.image, ex.numbers)


def test_jacobian_shapes_are_named_and_non_normal_is_defined(explorers):
    ex = _get(explorers, "jacobian_explorer")
    w = ex.controls["init"]
    assert [label for label, _ in w.options] == ["Gaussian", "orthogonal", "identity"]
    assert "non-normal" in w.tooltips[0] and "non-normal" in ex.shape_help.value
    w.value = "normal"  # the old name still works
    assert w.value == "gaussian" and ex.state["init"] == "gaussian"
    with pytest.raises(traitlets.TraitError):
        w.value = "nonsense"


def test_all_line_colours_come_from_the_palette(explorers):
    from matplotlib.colors import to_hex, to_rgb

    from rnncourse.viz.style import OKABE_ITO

    palette = {c.lower() for c in OKABE_ITO.values()}
    for name in ALL:
        ex = _get(explorers, name)
        for ax in ex.fig.axes:
            for line in ax.get_lines():
                r, g, b = to_rgb(line.get_color())
                assert to_hex(line.get_color()) in palette or r == g == b, (
                    name,
                    line.get_label(),
                    line.get_color(),
                )


def test_gru_legend_names_the_first_update_gate_after_the_pulse():
    ex = W.gru_memory_explorer(T=30, pulse_at=9)
    labels = [t.get_text() for t in ex.axes["memory"].get_legend().get_texts()]
    assert any("z_{10}" in t for t in labels), labels
    # and the curve is the product of those gates: at t = 10 it is memory[8] * z_10 (best unit)
    s = ex.state
    np.testing.assert_allclose(s["direct"][9], s["memory"][8] * s["z"][9].max())


def test_subclass_may_set_attributes_after_super_init():
    from rnncourse.viz.explorer import Explorer, slider

    class Late(Explorer):
        def __init__(self):
            super().__init__(
                {"a": slider("float", 0.5, 0.0, 1.0, 0.1, "a")},
                (3, 2),
                lambda fig: {"main": fig.add_subplot(1, 1, 1)},
            )
            self.offset = 10.0  # set after super().__init__()

        def compute(self, a):
            return {"y": self.cached(self._slow, a) + self.offset}

        def _slow(self, a):
            self.calls = getattr(self, "calls", 0) + 1
            return a

        def draw(self, s):
            (self.artists["line"],) = self.axes["main"].plot([0, 1], [s["y"], s["y"]], animated=True)

        def update(self, s):
            self.artists["line"].set_ydata([s["y"], s["y"]])
            return False

    ex = Late()
    assert ex.state["y"] == 10.5
    ex.controls["a"].value = 0.7
    ex.controls["a"].value = 0.5
    assert ex.calls == 2  # 0.5 came from the cache
    assert ex.state["y"] == 10.5


def test_demo_mode_enlarges_explorers(explorers):
    import io

    from PIL import Image

    from rnncourse.viz import demo_mode, style

    def width(png):
        return Image.open(io.BytesIO(png)).size[0]

    ex = _get(explorers, "clipping_explorer")
    assert demo_mode() is False
    w0 = width(ex.png)
    try:
        assert demo_mode(True) is True
        assert width(ex.png) == pytest.approx(w0 * style.DEMO_SCALE, abs=2)  # redrawn at once
        assert width(W.clipping_explorer().png) == width(ex.png)  # new ones start large
        assert "font-size:160%" in ex.numbers.value
    finally:
        demo_mode(False)
    assert width(ex.png) == w0
    with pytest.raises(TypeError, match="demo_mode"):
        demo_mode("yes")


def test_demo_mode_from_the_environment():
    code = "from rnncourse.viz import demo_mode; print(demo_mode())"
    env = dict(os.environ, RNNCOURSE_DEMO="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.stdout.strip() == "True", out.stderr


def test_dead_code_is_gone():
    from rnncourse.viz import plots

    assert not hasattr(W.Explorer, "render_png")
    assert not hasattr(plots, "draw_probability_bars") and not hasattr(plots, "update_probability_bars")


def test_key_numbers_wrap_below_the_picture_on_a_narrow_screen(hidden):
    """At 1280 px the key-numbers column beside the picture was cut off (outside tester): the row
    that holds them wraps."""
    row = hidden.children[-1]
    assert hidden.image in row.children and hidden.numbers in row.children
    assert row.layout.flex_flow == "row wrap"
