"""Lessons 0 and 2: scrub through a training run (``training_explorer``) and watch the loss while a
model trains (``LiveLossPlot``)."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import diagnostics as dg
from . import plots, style
from .explorer import CONTROL_WIDTH, DPI, Explorer, png_bytes, slider, text_box

__all__ = ["TrainingExplorer", "training_explorer", "LiveLossPlot"]


class TrainingExplorer(Explorer):
    """Lessons 0 and 2: scrub through a training run and see the predictions improve."""

    def __init__(self, history, snapshots, task, n_examples=8, seed=123):
        self.history = history
        self.snapshots = list(snapshots)
        self.task = task
        self.batch = task.sample(n_examples, np.random.default_rng(seed))
        self.steps = np.asarray(history.step) + 1  # updates made after each logged step
        self.loss = np.asarray(history.loss)
        # Predictions of every snapshot on the fixed batch, computed once: the slider only picks one.
        self.predictions = [
            dg.readout_values(m, self.batch.x, self.batch.y, task.loss) for _, m in self.snapshots
        ]
        snap_steps = [s for s, _ in self.snapshots]
        controls = {
            "snapshot": widgets.SelectionSlider(
                options=[(str(s), i) for i, s in enumerate(snap_steps)],
                value=len(snap_steps) - 1,
                description="after step",
                continuous_update=True,
                layout=widgets.Layout(width=f"{CONTROL_WIDTH}px"),
            ),
            "example": slider("int", 0, 0, n_examples - 1, 1, "example sequence"),
        }

        def layout(fig):
            a1, a2 = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=(1, 1.5)))
            fig.subplots_adjust(left=0.09, right=0.98, bottom=0.14, top=0.9, wspace=0.22)
            return {"loss": a1, "pred": a2}

        super().__init__(controls, (10, 3.8), layout)

    def _target(self, example):
        y = self.batch.y[example]
        if self.task.loss == "mse":
            return y[:, 0]
        return y.astype(float) if self.task.output_dim == 2 else np.ones(len(y))

    def compute(self, snapshot, example):
        step, _ = self.snapshots[snapshot]
        pred = self.predictions[snapshot][example]
        target = self._target(example)
        mask = self.batch.mask[example]
        err = dg.readout_error(pred, target, mask, self.task.loss, self.task.output_dim)
        return {"step": step, "example": example, "pred": pred, "target": target, "mask": mask, "error": err}

    def draw(self, s):
        ax = self.axes
        self.artists["loss"] = plots.draw_loss_curve(ax["loss"], self.steps, self.loss, at=max(s["step"], 1))
        ax["loss"].set_title("loss summed over time (batch mean)", fontsize=10)
        mse = self.task.loss == "mse"
        ylabel = "value" if mse else ("P(class 1)" if self.task.output_dim == 2 else "P(correct)")
        self.artists["pred"] = plots.draw_predictions(
            ax["pred"], s["target"], s["pred"], s["mask"], ylabel=ylabel
        )
        if mse:
            lo = min(np.nanmin(self.batch.y), np.nanmin([p.min() for p in self.predictions]))
            hi = max(np.nanmax(self.batch.y), np.nanmax([p.max() for p in self.predictions]))
            pad = 0.1 * (hi - lo + 1e-9)
            ax["pred"].set_ylim(max(lo - pad, -3), min(hi + pad, 3))
        else:
            ax["pred"].set_ylim(-0.05, 1.15)
        ax["pred"].set_title(f"task '{self.task.name}': one sequence, target vs model", fontsize=10)
        self.artists["text"] = text_box(ax["pred"], 0.02, 0.04, va="bottom")
        self._set_text(s)

    def key_numbers(self, s):
        what = "mean squared error" if self.task.loss == "mse" else "wrong steps"
        i = min(int(np.searchsorted(self.steps, max(s["step"], 1))), len(self.loss) - 1)
        return [
            f"after {s['step']} steps",
            f"{what}: {s['error']:.3f}",
            f"batch loss: {self.loss[i]:.3g}",
            f"example {s['example']}",
        ]

    def _set_text(self, s):
        k = self.key_numbers(s)
        self.artists["text"].set_text(f"{k[0]}: {k[1]}")

    def update(self, s):
        plots.update_loss_curve(self.artists["loss"], self.steps, self.loss, at=max(s["step"], 1))
        plots.update_predictions(self.artists["pred"], s["target"], s["pred"], s["mask"])
        self._set_text(s)
        return False


def training_explorer(history, snapshots, task, n_examples=8, seed=123):
    """Lessons 0 and 2: a slider over the ``snapshots`` of a training run (from
    ``rnncourse.diagnostics.train_with_snapshots``) and one over example sequences. Left: the loss
    curve with the chosen step marked; right: target and prediction of one sequence.
    State: ``step``, ``pred (T,)``, ``target (T,)``, ``mask (T,)``, ``error``. ``predictions[i]`` holds
    snapshot ``i``'s readout on the fixed ``batch`` (value, P(class 1) or P(correct class))."""
    return TrainingExplorer(history, snapshots, task, n_examples, seed)


class LiveLossPlot(widgets.VBox):
    """A loss curve that redraws while ``train`` runs: pass it as ``callback``.

    ``live = LiveLossPlot(steps=300, chance=...)``; display ``live``; then
    ``train(model, task, steps=300, callback=live, callback_every=20)``. The x-axis spans the whole
    run from the start, so each update only moves the curve (and the y-range when needed). The
    label above it says the step and the loss as text.
    """

    def __init__(self, steps, chance=None, title="training loss (live)", ylabel="loss"):
        self.fig = Figure(figsize=(7, 3.2), dpi=DPI * style.scale())
        FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_subplot(1, 1, 1)
        self.fig.subplots_adjust(left=0.11, right=0.97, bottom=0.16, top=0.89)
        self.artists = plots.draw_loss_curve(self.ax, [], [], chance=chance)
        self.ax.set_xlim(0, steps)
        self.ax.set_ylim(0.1, 10)
        self.ax.set_title(title, fontsize=10)
        self.ax.set_ylabel(ylabel)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.label = widgets.HTML("waiting for the first steps...")
        self.updates = 0
        self.png = b""
        self._render()
        super().__init__([self.label, self.image])
        style._register(self)

    def __call__(self, history):
        steps = np.asarray(history.step) + 1
        loss = np.asarray(history.loss)
        plots.update_loss_curve(self.artists, steps, loss, at=steps[-1])
        vals = loss if "chance" not in self.artists else np.r_[loss, self.artists["chance"].get_ydata()]
        plots.set_log_ylim(self.ax, vals, pad_decades=0)
        self.label.value = f"step {steps[-1]}: loss {loss[-1]:.4g}"
        self.updates += 1
        self._render()

    def _apply_scale(self):
        self.fig.set_dpi(DPI * style.scale())
        self._render()

    def _render(self):
        self.fig.canvas.draw()
        for a in self.fig.findobj(lambda a: a.get_animated()):
            if a is not self.fig and a.get_visible():
                a.axes.draw_artist(a)
        self.png = png_bytes(self.fig.canvas)
        self.image.value = self.png
