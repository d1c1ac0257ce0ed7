"""Tests for rnncourse.viz.diagrams: the cells drawn by code are complete, labelled and readable."""

import itertools

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rnncourse.viz import diagrams as dg
from widget_helpers import PNG


def _ax(size=(9, 5.6), subplot=False):
    """A full-figure Axes, or (``subplot``) one with the default margins of ``plt.subplots``."""
    fig = Figure(figsize=size, dpi=90)
    FigureCanvasAgg(fig)
    return fig.add_subplot(1, 1, 1) if subplot else fig.add_axes((0, 0, 1, 1))


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def _overlaps(ax):
    """Pairs of text labels whose drawn boxes overlap (unreadable), after a real draw."""
    ax.figure.canvas.draw()
    r = ax.figure.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(r)) for t in ax.texts if t.get_text().strip()]
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]


def _inside(ax):
    """Every text label lies inside the figure (nothing cut off at an edge)."""
    ax.figure.canvas.draw()
    r = ax.figure.canvas.get_renderer()
    fig_box = ax.figure.bbox
    out = []
    for t in ax.texts:
        box = t.get_window_extent(r)
        if t.get_text().strip() and not (fig_box.contains(*box.p0) and fig_box.contains(*box.p1)):
            out.append(t.get_text())
    return out


def test_rnn_unrolled_with_its_folded_cell():
    ax = _ax((11, 3.4))
    parts = dg.draw_rnn_unrolled(ax, T=4)
    texts = " | ".join(_texts(ax))
    for label in (
        "$x_t$ (N, D)",
        "$h_t$ (N, H)",
        "$h_{t-1}$ (N, H)",
        "$x_{1}$ (N, D)",
        "$h_{1}$ (N, H)",
        "$h_0$",
        "$x_{4}$",
        "$h_{4}$",
        "T = 4",
    ):
        assert label in texts, label
    assert {"loop", "cell", "step1", "step4"} <= set(parts) and "step5" not in parts
    assert _overlaps(ax) == [] and _inside(ax) == []
    ax2 = _ax((8, 3.4))
    parts2 = dg.draw_rnn_unrolled(ax2, T=2, folded=False)
    assert "loop" not in parts2 and "step2" in parts2


@pytest.mark.parametrize("T,err", [(0, ValueError), (9, ValueError), (2.5, TypeError), ("4", TypeError)])
def test_rnn_unrolled_rejects_bad_T(T, err):
    with pytest.raises(err, match="T must"):
        dg.draw_rnn_unrolled(_ax(), T=T)


def test_lstm_cell_labels_every_arrow_with_its_shape():
    ax = _ax()
    parts = dg.draw_lstm_cell(ax)
    texts = _texts(ax)
    for label in (
        "$c_{t-1}$ (N, H)",
        "$c_t$ (N, H)",
        "$h_{t-1}$ (N, H)",
        "$h_t$ (N, H)",
        "$x_t$ (N, D)",
        "f (N, H)",
        "i (N, H)",
        "g (N, H)",
        "o (N, H)",
    ):
        assert label in texts, label
    assert any("(N, 4H)" in t for t in texts)
    for name in ("i", "f", "g", "o", "times_f", "plus", "c_prev", "c_out"):
        assert name in parts
    assert _overlaps(ax) == [] and _inside(ax) == []


def test_gru_cell_labels_every_arrow_with_its_shape():
    ax = _ax()
    parts = dg.draw_gru_cell(ax)
    texts = _texts(ax)
    for label in ("$h_{t-1}$ (N, H)", "$h_t$ (N, H)", "$x_t$ (N, D)", "r (N, H)", "z (N, H)", "n (N, H)"):
        assert label in texts, label
    assert any("(N, 3H)" in t for t in texts) and any("1 − z" in t for t in texts)
    assert {"r", "z", "n", "times_z", "plus", "one_minus"} <= set(parts)
    assert _overlaps(ax) == [] and _inside(ax) == []


@pytest.mark.parametrize("draw,paths", [(dg.draw_lstm_cell, dg.LSTM_PATHS), (dg.draw_gru_cell, dg.GRU_PATHS)])
def test_highlight_colours_exactly_its_path(draw, paths):
    from matplotlib.colors import to_hex

    for name, members in paths.items():
        ax = _ax()
        parts = draw(ax, highlight=name)
        for part, artists in parts.items():
            for a in artists:
                if hasattr(a, "get_edgecolor") and not hasattr(a, "get_text"):
                    hot = to_hex(a.get_edgecolor()) == to_hex(dg.HIGHLIGHT)
                    assert hot == (part in members), (name, part)
    with pytest.raises(ValueError, match="highlight must be None or one of"):
        draw(_ax(), highlight="nonsense")


def test_diagrams_reject_a_non_axes():
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        dg.draw_lstm_cell("not an axes")


def test_cell_png():
    png = dg.cell_png("gru", highlight="keep", width_inches=4.0)
    assert png.startswith(PNG) and png != dg.cell_png("gru", width_inches=4.0)
    with pytest.raises(ValueError, match="kind"):
        dg.cell_png("transformer")


def test_explorers_show_the_path_they_plot():
    from rnncourse.viz import widgets as W

    ex = W.gru_memory_explorer(T=20)
    assert ex.diagram.value == dg.cell_png("gru", highlight="keep", width_inches=4.2)


@pytest.mark.parametrize(
    "draw,size",
    [
        (dg.draw_rnn_unrolled, (11, 3.4)),
        (dg.draw_rnn_unrolled, (7, 2.4)),
        (dg.draw_lstm_cell, (8.5, 5.6)),
        (dg.draw_lstm_cell, (5, 3.4)),
        (dg.draw_gru_cell, (8.5, 5.6)),
        (dg.draw_gru_cell, (5, 3.4)),
        (dg.draw_rnn_folded, (4, 3.5)),
    ],
)
def test_labels_stay_readable_on_the_figures_lessons_use(draw, size):
    """The one-line calls of the lessons (``plt.subplots(figsize=...)``, default margins) and a small
    figure: fonts follow the drawing's scale, so no two labels overlap and none is cut off."""
    ax = _ax(size, subplot=True)
    draw(ax)
    assert _overlaps(ax) == [] and _inside(ax) == []
