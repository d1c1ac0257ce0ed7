"""Lesson 7's explorer: the embedded Reber grammar with a lag, RNN vs LSTM vs GRU.

Nothing is trained here: the sweep was trained offline (``rnncourse/data/make_reber_lags.py``) and
the slider only looks results up. Given a sweep the student has just trained
(``rnncourse.sweeps.reber_lag_sweep``) as ``fresh``, a second control switches between the shipped
results and the fresh ones.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import diagnostics as dg
from . import plots
from .explorer import CONTROL_WIDTH, Explorer
from .style import CELL_COLORS, COLORS

__all__ = ["ReberLagExplorer", "reber_lag_explorer"]

_MARKERS = {"rnn": "s", "lstm": "o", "gru": "^"}  # shapes as well as colours tell the cells apart


def _cell_name(cell):
    return "vanilla RNN" if cell == "rnn" else cell.upper()


class ReberLagExplorer(Explorer):
    """Lesson 7: critical-symbol accuracy of RNN, LSTM and GRU on the embedded Reber grammar, by lag."""

    def __init__(self, sweep=None, fresh=None):
        self.sweeps = {"shipped": dg.reber_lag_sweep() if sweep is None else sweep}
        if fresh is not None:
            _check_same_grid(self.sweeps["shipped"], fresh)
            self.sweeps["yours"] = fresh
        self._use("shipped")
        sw = self.sweep
        controls = {
            "lag": widgets.SelectionSlider(
                options=[(str(v), int(v)) for v in sw.lags],
                value=int(sw.lags[len(sw.lags) // 2]),
                description="lag",
                continuous_update=True,
                layout=widgets.Layout(width=f"{CONTROL_WIDTH}px"),
            )
        }
        if fresh is not None:
            controls["results"] = widgets.ToggleButtons(
                options=[("shipped", "shipped"), ("yours (just trained)", "yours")],
                value="shipped",
                description="results",
                tooltip="the results that ship with the course, or the sweep you trained",
            )

        def layout(fig):
            a1, a2 = fig.subplots(1, 2)
            fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.22)
            return {"lags": a1, "curves": a2}

        super().__init__(controls, (10, 3.9), layout)

    def _use(self, which):
        self.shown = which
        self.sweep = self.sweeps[which]
        self.final = self.sweep.critical_accuracy[..., -1]  # (C, S, L)

    def compute(self, lag, results="shipped"):
        sw = self.sweeps[results]
        final = sw.critical_accuracy[..., -1]
        li = int(np.nonzero(sw.lags == lag)[0][0])
        acc = sw.critical_accuracy[:, :, li]  # (C, S, E)
        return {
            "results": results,
            "lag": int(lag),
            "index": li,
            "curves": acc,
            "final": {c: float(final[ci, :, li].mean()) for ci, c in enumerate(sw.cells)},
            "final_per_seed": {c: final[ci, :, li].copy() for ci, c in enumerate(sw.cells)},
        }

    def draw(self, s):
        self._use(s["results"])
        sw, ax = self.sweep, self.axes
        for ci, cell in enumerate(sw.cells):
            ax["lags"].plot(
                sw.lags,
                self.final[ci].mean(axis=0),
                "-",
                marker=_MARKERS.get(cell, "o"),
                color=CELL_COLORS[cell],
                lw=2,
                label=_cell_name(cell),
            )
            for si in range(len(sw.seeds)):
                ax["lags"].plot(sw.lags, self.final[ci, si], "x", color=CELL_COLORS[cell], alpha=0.6, ms=5)
        ax["lags"].axhline(0.5, color=COLORS["ref"], ls="--", lw=1, label="guessing T or P")
        ax["lags"].set(
            ylim=(0.3, 1.03),
            xlabel="lag (filler steps between the symbol and its recall)",
            ylabel="accuracy on the critical symbol",
        )
        ax["lags"].set_title(
            f"after {sw.steps[-1]} training steps (line: mean of {len(sw.seeds)} seeds, x: each)", fontsize=10
        )
        ax["lags"].grid(alpha=0.3)
        ax["lags"].legend(loc="center right", fontsize="small")
        self.artists["marker"] = plots.draw_marker(ax["lags"], s["lag"])
        styles, ys = {}, {}
        for ci, cell in enumerate(sw.cells):
            for si in range(len(sw.seeds)):
                key = f"{cell}/{si}"
                styles[key] = dict(color=CELL_COLORS[cell], lw=1.8, ls="-" if si == 0 else "--")
                if si == 0:
                    styles[key]["label"] = _cell_name(cell)
                ys[key] = s["curves"][ci, si]
        self.artists["curves"] = plots.draw_curves(
            ax["curves"],
            sw.steps,
            ys,
            styles,
            ylim=(0.3, 1.03),
            xlabel="training step",
            ylabel="accuracy on the critical symbol",
            legend="center right",
        )
        ax["curves"].set_xlim(0, sw.steps[-1])
        self.artists["title"] = ax["curves"].set_title("", fontsize=10)
        self.artists["title"].set_animated(True)
        self._set_title(s)

    def key_numbers(self, s):
        head = f"lag {s['lag']}: accuracy after training"
        if len(self.sweeps) > 1:
            head += f" ({'your sweep' if s['results'] == 'yours' else 'shipped results'})"
        return [head] + [
            f"{_cell_name(c)}: {v:.2f} (seeds: {', '.join(f'{x:.2f}' for x in s['final_per_seed'][c])})"
            for c, v in s["final"].items()
        ]

    def _set_title(self, s):
        self.artists["title"].set_text(f"lag {s['lag']}: during training (solid: seed 0, dashed: seed 1)")

    def update(self, s):
        if s["results"] != self.shown:  # other results: both panels drawn again
            for ax in self.axes.values():
                ax.cla()
            self.draw(s)
            return True
        plots.update_marker(self.artists["marker"], s["lag"])
        sw = self.sweep
        plots.update_curves(
            self.artists["curves"],
            {
                f"{c}/{si}": s["curves"][ci, si]
                for ci, c in enumerate(sw.cells)
                for si in range(len(sw.seeds))
            },
        )
        self._set_title(s)
        return False


def _check_same_grid(shipped, fresh):
    if not isinstance(fresh, dg.ReberSweep):
        raise TypeError(
            f"fresh must be a ReberSweep (from rnncourse.sweeps.reber_lag_sweep), got {type(fresh).__name__}"
        )
    if list(fresh.lags) != list(shipped.lags) or tuple(fresh.cells) != tuple(shipped.cells):
        raise ValueError(
            f"fresh must cover the same lags {list(shipped.lags)} and cells {list(shipped.cells)} as the "
            f"shipped sweep to switch between them, got lags {list(fresh.lags)} and cells {list(fresh.cells)}"
        )


def reber_lag_explorer(sweep=None, fresh=None):
    """Lesson 7: the embedded Reber grammar with a lag. Control: ``lag`` (one of the trained lags).
    Left: accuracy on the critical symbol after training against the lag, for the vanilla RNN, the
    LSTM and the GRU (mean over seeds, and each seed). Right: that accuracy during training at the
    chosen lag. State: ``lag``, ``curves (C, S, E)``, ``final`` (cell -> mean over seeds),
    ``final_per_seed``, ``results``. ``sweep`` defaults to ``diagnostics.reber_lag_sweep()``;
    ``fresh``, a sweep with the same lags and cells (e.g. ``rnncourse.sweeps.reber_lag_sweep()``),
    adds the control ``results`` ("shipped" / "yours") that switches between the two."""
    return ReberLagExplorer(sweep, fresh)
