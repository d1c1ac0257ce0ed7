"""Plots and interactive explorers for the lessons.

* ``rnncourse.viz.plots``: pure matplotlib functions that draw on a given ``Axes`` and return the
  artists (and ``update_*`` partners that change those artists' data in place).
* ``rnncourse.viz.widgets``: one function per explorer (``hidden_state_explorer``,
  ``jacobian_explorer``, ...), each returning a widget built from a compute function
  (``rnncourse.diagnostics``), a plot function (``plots``) and a little ipywidgets glue.

Nothing heavy is imported here: matplotlib and ipywidgets load on first use, so ``import
rnncourse`` stays silent and cheap. ``from rnncourse.viz import jacobian_explorer`` works too.
"""
import importlib

__all__ = ["plots", "widgets"]

_WIDGET_NAMES = {
    "Explorer", "LiveLossPlot", "hidden_state_explorer", "training_explorer", "bptt_explorer",
    "jacobian_explorer", "clipping_explorer", "lstm_gate_explorer", "gru_memory_explorer",
    "reber_lag_explorer",
}


def __getattr__(name):
    if name in ("plots", "widgets"):
        return importlib.import_module(f".{name}", __name__)
    if name in _WIDGET_NAMES:
        return getattr(importlib.import_module(".widgets", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"plots", "widgets"} | _WIDGET_NAMES)
