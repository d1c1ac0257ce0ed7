"""Tests for rnncourse.viz.plots: draw on a given Axes, return artists, update them in place."""

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rnncourse.viz import plots


@pytest.fixture
def ax():
    fig = Figure()
    FigureCanvasAgg(fig)
    return fig.add_subplot(1, 1, 1)


def _draws(ax):
    ax.figure.canvas.draw()  # must not raise


def test_hidden_heatmap_blanks_future_steps(ax):
    h = np.tanh(np.random.default_rng(0).normal(size=(10, 4)))
    art = plots.draw_hidden_heatmap(ax, h, upto=3)
    img = art["image"].get_array()
    assert img.shape == (4, 10)
    assert not img.mask[:, :3].any() and img.mask[:, 3:].all()
    plots.update_hidden_heatmap(art, h, upto=7)
    assert art["image"].get_array().mask[:, 7:].all() and not art["image"].get_array().mask[:, :7].any()
    assert art["cursor"].get_xdata()[0] == 7.5
    _draws(ax)


def test_input_trace_and_state_norm(ax):
    x = np.arange(6.0)[:, None]
    art = plots.draw_input_trace(ax, x, upto=2)
    assert np.isnan(art["fed"].get_ydata()[2:]).all()
    plots.update_input_trace(art, 2 * x, upto=None)
    np.testing.assert_array_equal(art["fed"].get_ydata(), 2 * x[:, 0])
    art2 = plots.draw_state_norm(ax, np.linspace(1, 2, 6), upto=3)
    assert art2["dot"].get_xdata()[0] == 3
    plots.update_state_norm(art2, np.linspace(1, 2, 6), upto=6)
    assert art2["dot"].get_ydata()[0] == 2.0
    _draws(ax)


def test_loss_curve_marker_and_chance(ax):
    steps, loss = np.arange(1, 11), np.linspace(2, 0.1, 10)
    art = plots.draw_loss_curve(ax, steps, loss, chance=0.7, at=4)
    assert art["chance"].get_ydata()[0] == 0.7
    assert art["marker"].get_xdata()[0] == 4 and art["marker"].get_ydata()[0] == loss[3]
    assert ax.get_yscale() == "log"
    plots.update_loss_curve(art, steps, loss, at=None)
    assert len(art["marker"].get_xdata()) == 0
    _draws(ax)


def test_predictions_hide_masked_targets(ax):
    art = plots.draw_predictions(ax, np.ones(5), np.zeros(5), mask=np.array([0, 0, 1, 1, 1.0]))
    assert np.isnan(art["target"].get_ydata()[:2]).all()
    plots.update_predictions(art, np.ones(5), np.full(5, 0.5))
    np.testing.assert_array_equal(art["pred"].get_ydata(), 0.5)
    _draws(ax)


def test_jacobian_norms_log_scale_and_reference(ax):
    norms = 2.0 ** -np.arange(11)[::-1]
    art = plots.draw_jacobian_norms(ax, norms, reference=None)
    assert ax.get_yscale() == "log" and not art["reference"].get_visible()
    np.testing.assert_allclose(art["norms"].get_ydata(), norms)
    plots.update_jacobian_norms(art, np.r_[0.0, np.inf, norms[2:]], reference=norms)
    y = art["norms"].get_ydata()
    assert np.isnan(y[0]) and np.isfinite(y[1])  # zero hidden, inf capped
    assert art["reference"].get_visible()
    assert "partial h_T" in ax.get_ylabel()
    _draws(ax)


def test_saturation_plot(ax):
    art = plots.draw_saturation(ax, np.zeros(5), np.ones(5))
    plots.update_saturation(art, np.full(5, 0.5), np.full(5, 0.2))
    np.testing.assert_array_equal(art["deriv"].get_ydata(), 0.2)
    _draws(ax)


def test_bptt_plots_mark_chunk_borders(ax):
    full, trunc = np.logspace(-3, 0, 9), np.logspace(-1, 0, 9)
    art = plots.draw_bptt_gradients(ax, full, trunc, k=3)
    xs = art["borders"].get_xdata()
    np.testing.assert_array_equal(xs[~np.isnan(xs)], [3.5, 3.5, 6.5, 6.5])
    plots.update_bptt_gradients(art, full, full, k=4)
    xs = art["borders"].get_xdata()
    np.testing.assert_array_equal(xs[~np.isnan(xs)], [4.5, 4.5, 8.5, 8.5])
    assert art["legend"].get_texts()[1].get_text() == "truncated, k = 4"
    art2 = plots.draw_dWh_terms(ax, full, trunc)
    plots.update_dWh_terms(art2, trunc, full)
    np.testing.assert_allclose(art2["full"].get_ydata(), trunc)
    _draws(ax)


def test_clipping_drawing(ax):
    g = np.array([6.0, 2.0])
    art = plots.draw_clipping(ax, g, g / np.linalg.norm(g), np.array([1.0, 1.0]), 1.0)
    assert art["circle"].get_radius() == 1.0
    plots.update_clipping(art, g, g / np.linalg.norm(g) * 2, np.array([2.0, 2.0]), 2.0)
    assert art["circle"].get_radius() == 2.0 and art["square"].get_width() == 4.0
    _draws(ax)


def test_set_log_ylim_is_sticky(ax):
    ax.set_yscale("log")
    ax.set_ylim(1e-300, 1e300)
    assert plots.set_log_ylim(ax, [1e-3, 10], pad_decades=0)
    assert ax.get_ylim() == pytest.approx((1e-3, 10))
    assert not plots.set_log_ylim(ax, [1e-2, 1], pad_decades=0)  # still fits: no change
    assert plots.set_log_ylim(ax, [1e-6, 1], pad_decades=0)
    assert not plots.set_log_ylim(ax, [np.nan, 0, -1])


def test_plots_module_never_shows():
    import inspect

    src = inspect.getsource(plots)
    assert "plt.show(" not in src and "import matplotlib.pyplot" not in src
