"""Plots, diagrams and interactive explorers for the lessons.

* ``rnncourse.viz.plots``: pure matplotlib functions that draw on a given ``Axes`` and return the
  artists (and ``update_*`` partners that change those artists' data in place).
* ``rnncourse.viz.diagrams``: the RNN, LSTM and GRU cells drawn by code, arrows labelled with
  what they carry and its shape.
* ``rnncourse.viz.explorer``: the explorer framework; ``rnncourse.viz.widgets``: every explorer
  (``hidden_state_explorer``, ``jacobian_explorer``, ...), one module per lesson behind it.
* ``rnncourse.viz.style``: the colour-blind safe palette and ``demo_mode(True)`` (large figures
  and fonts for a projector; or set ``RNNCOURSE_DEMO=1`` before starting Jupyter).

Nothing heavy is imported here: matplotlib and ipywidgets load on first use, so ``import
rnncourse`` stays silent and cheap. ``from rnncourse.viz import jacobian_explorer`` works too.
"""

import importlib

from .style import demo_mode

__all__ = ["plots", "widgets", "diagrams", "explorer", "style", "demo_mode"]

_MODULES = {
    "plots",
    "widgets",
    "diagrams",
    "explorer",
    "style",
    "recurrence",
    "training",
    "bptt",
    "gradients",
    "gates",
    "long_range",
}
_WIDGET_NAMES = {
    "Explorer",
    "LiveLossPlot",
    "hidden_state_explorer",
    "training_explorer",
    "bptt_explorer",
    "jacobian_explorer",
    "clipping_explorer",
    "lstm_gate_explorer",
    "gru_memory_explorer",
    "reber_lag_explorer",
}
_DIAGRAM_NAMES = {"draw_rnn_folded", "draw_rnn_unrolled", "draw_lstm_cell", "draw_gru_cell"}


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _WIDGET_NAMES:
        return getattr(importlib.import_module(".widgets", __name__), name)
    if name in _DIAGRAM_NAMES:
        return getattr(importlib.import_module(".diagrams", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _MODULES | _WIDGET_NAMES | _DIAGRAM_NAMES)
