"""All the lessons' explorers under one name (``from rnncourse.viz import widgets as W``).

The framework is ``rnncourse.viz.explorer``; each lesson's explorers live in their own module:

=============================  ===========================================  ======
``training_explorer``,         ``rnncourse.viz.training``                   0, 2
``LiveLossPlot``
``hidden_state_explorer``      ``rnncourse.viz.recurrence``                 1
``bptt_explorer``              ``rnncourse.viz.bptt``                       3
``jacobian_explorer``,         ``rnncourse.viz.gradients``                  4
``clipping_explorer``
``lstm_gate_explorer``,        ``rnncourse.viz.gates``                      5, 6
``gru_memory_explorer``
``reber_lag_explorer``         ``rnncourse.viz.long_range``                 7
=============================  ===========================================  ======

Each builder returns an ``Explorer`` (an ``ipywidgets.VBox``): display it as the last expression of
a cell. ``explorer.controls["radius"].value = 1.2`` runs the same update a slider does;
``explorer.reset()`` puts every control back to its default; ``explorer.state`` holds the numbers
shown. ``rnncourse.viz.demo_mode(True)`` enlarges every explorer for a projector.
"""

from .bptt import BPTTExplorer, bptt_explorer
from .explorer import Explorer, png_bytes
from .gates import GRUMemoryExplorer, LSTMGateExplorer, gru_memory_explorer, lstm_gate_explorer
from .gradients import ClippingExplorer, JacobianExplorer, clipping_explorer, jacobian_explorer
from .long_range import ReberLagExplorer, reber_lag_explorer
from .recurrence import HiddenStateExplorer, hidden_state_explorer
from .training import LiveLossPlot, TrainingExplorer, training_explorer

__all__ = [
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
    "png_bytes",
    "HiddenStateExplorer",
    "TrainingExplorer",
    "BPTTExplorer",
    "JacobianExplorer",
    "ClippingExplorer",
    "LSTMGateExplorer",
    "GRUMemoryExplorer",
    "ReberLagExplorer",
]

# Every explorer builder, for tests and benchmarks that go through all of them.
BUILDERS = (
    "hidden_state_explorer",
    "training_explorer",
    "bptt_explorer",
    "jacobian_explorer",
    "clipping_explorer",
    "lstm_gate_explorer",
    "gru_memory_explorer",
    "reber_lag_explorer",
)
