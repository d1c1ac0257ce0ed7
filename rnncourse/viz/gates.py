"""Lessons 5 and 6: the gated cells. ``lstm_gate_explorer`` (gates, cell state and the gradient
along the cell path) and ``gru_memory_explorer`` (how long a GRU remembers one pulse)."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import diagnostics as dg
from . import plots
from .explorer import Explorer, slider, text_box
from .style import GATE_COLORS

__all__ = ["LSTMGateExplorer", "lstm_gate_explorer", "GRUMemoryExplorer", "gru_memory_explorer"]


def _traces_and_side(names):
    """Layout of the gated-cell explorers: three time traces stacked on the left (input, gates, a
    state; sharing the time axis) and one tall panel on the right. ``names`` keys the four Axes."""

    def layout(fig):
        gs = fig.add_gridspec(
            3,
            2,
            width_ratios=(1.25, 1),
            height_ratios=(0.6, 1, 1.2),
            left=0.07,
            right=0.98,
            bottom=0.11,
            top=0.93,
            wspace=0.25,
            hspace=0.12,
        )
        a_in = fig.add_subplot(gs[0, 0])
        axes = (
            a_in,
            fig.add_subplot(gs[1, 0], sharex=a_in),
            fig.add_subplot(gs[2, 0], sharex=a_in),
            fig.add_subplot(gs[:, 1]),
        )
        return dict(zip(names, axes))

    return layout


def _cell_diagram(kind, highlight, width="330px"):
    """A small picture of the cell with the path the explorer shows highlighted (PNG in an Image)."""
    from . import diagrams

    png = diagrams.cell_png(kind, highlight=highlight, width_inches=4.2)
    return widgets.Image(value=png, format="png", layout=widgets.Layout(width=width))


class LSTMGateExplorer(Explorer):
    """Lesson 5: gate and cell traces of one LSTM, and the gradient along the cell path."""

    def __init__(self, T=60, H=8, seed=0, pulse_at=5):
        from ..nn import init_cell_params

        self.T, self.H, self.pulse_at = T, H, pulse_at
        rng = np.random.default_rng(seed)
        p = init_cell_params("lstm", 1, H, rng, forget_bias=0.0)
        self.Wx, self.Wh, self._b0 = 3.0 * p["Wx"], p["Wh"], p["b"]  # b without the two slider biases
        x = 0.3 * rng.normal(size=(T, 1))
        x[pulse_at - 1] = 3.0  # one strong input at step `pulse_at`
        self.x = x
        # The vanilla RNN of lesson 4 on the same inputs, orthogonal Wh with rho = 1: a fixed reference.
        q = init_cell_params("rnn", 1, H, np.random.default_rng(seed))
        self.rnn_norms = dg.jacobian_norms(dg.run_rnn(x, 3.0 * q["Wx"], q["Wh"], q["b"]), q["Wh"])
        controls = {
            "forget_bias": slider("float", 1.0, -2.0, 6.0, 0.25, "forget-gate bias b_f", fmt=".2f"),
            "input_bias": slider("float", 0.0, -4.0, 4.0, 0.25, "input-gate bias b_i", fmt=".2f"),
            "recurrent": widgets.ToggleButtons(
                options=["as initialised", "zero"], value="as initialised", description="Wh"
            ),
        }
        self.diagram = _cell_diagram("lstm", "carousel")
        super().__init__(
            controls, (10.5, 5.2), _traces_and_side(("input", "gates", "cell", "grad")), extra=[self.diagram]
        )

    def bias(self, forget_bias, input_bias):
        """The full bias ``b (4H,)``: the ``b_i`` and ``b_f`` blocks set by the sliders (gates i, f, g, o)."""
        b = self._b0.copy()
        b[: self.H] = input_bias
        b[self.H : 2 * self.H] = forget_bias
        return b

    def _run(self, forget_bias, input_bias, recurrent):
        b = self.bias(forget_bias, input_bias)
        # Wh = 0 removes every path from h back into the gates: only the carousel is left
        Wh = self.Wh if recurrent == "as initialised" else np.zeros_like(self.Wh)
        run = dg.run_lstm(self.x, self.Wx, Wh, b)
        carousel = dg.forget_products(run.f)  # (T+1, H)
        P = dg.lstm_cell_jacobians(self.x, self.Wx, Wh, b)
        return {
            "b": b,
            "h": run.h,
            "c": run.c,
            "i": run.i,
            "f": run.f,
            "g": run.g,
            "o": run.o,
            "carousel": carousel.max(axis=1),
            "carousel_units": carousel,
            "cell_norms": dg.matrix_norms(P),
            "mean_f": float(run.f.mean()),
            "mean_i": float(run.i.mean()),
        }

    def compute(self, forget_bias, input_bias, recurrent):
        s = dict(self.cached(self._run, forget_bias, input_bias, recurrent))
        s.update(
            forget_bias=forget_bias, input_bias=input_bias, recurrent=recurrent, rnn_norms=self.rnn_norms
        )
        return s

    def _gate_means(self, s):
        return {g: s[g].mean(axis=1) for g in ("i", "f", "o")}

    def draw(self, s):
        ax = self.axes
        t = np.arange(1, self.T + 1)
        self.artists["input"] = plots.draw_input_trace(ax["input"], self.x)
        ax["input"].set_ylim(-1.5, 3.5)
        ax["input"].set_title(f"input: noise, and one strong pulse at t = {self.pulse_at}", fontsize=10)
        styles = {
            "i": dict(color=GATE_COLORS["i"], lw=1.8, ls="-", label="input gate i"),
            "f": dict(color=GATE_COLORS["f"], lw=2.2, ls="-", label="forget gate f"),
            "o": dict(color=GATE_COLORS["o"], lw=1.8, ls="--", label="output gate o"),
        }
        self.artists["gates"] = plots.draw_curves(
            ax["gates"],
            t,
            self._gate_means(s),
            styles,
            ylim=(-0.03, 1.03),
            ylabel="gate (mean of units)",
            legend=None,
        )
        ax["gates"].legend(loc="lower left", ncol=3, fontsize="small")
        self.artists["cell"] = plots.draw_unit_traces(
            ax["cell"], s["c"], ylim=(-self._c_lim, self._c_lim), ylabel="cell state $c_t$ (each unit)"
        )
        ax["cell"].set_xlabel("time step t")
        for a in (ax["input"], ax["gates"]):
            a.tick_params(labelbottom=False)
        k = np.arange(self.T + 1)
        styles = {
            "rnn": dict(color="0.45", lw=2, ls=":", label=r"vanilla RNN $\|\partial h_T/\partial h_k\|$"),
            "cell": dict(color=GATE_COLORS["f"], lw=2, label=r"LSTM $\|\partial c_T/\partial c_k\|$"),
            "carousel": dict(
                color="k", lw=1.2, ls="--", label=r"carousel: $f_{k+1} \cdots f_T$ (largest unit)"
            ),
        }
        self.artists["grad"] = plots.draw_curves(
            ax["grad"],
            k,
            {"rnn": s["rnn_norms"], "cell": s["cell_norms"], "carousel": s["carousel"]},
            styles,
            log=True,
            ylim=(1e-30, 10),
            xlabel="k (the step the gradient travels back to)",
            ylabel="gradient from step T back to step k",
            legend="lower right",
        )
        ax["grad"].set_title(f"how much reaches step k from T = {self.T}", fontsize=10)
        self.artists["text"] = text_box(ax["grad"], 0.03, 0.5)
        self._set_text(s)

    def key_numbers(self, s):
        return [
            f"Wh {s['recurrent']}",
            f"b_f = {s['forget_bias']:.2f}: mean f = {s['mean_f']:.3f}",
            f"b_i = {s['input_bias']:.2f}: mean i = {s['mean_i']:.3f}",
            f"‖∂c_T/∂c_0‖ = {s['cell_norms'][0]:.1e}",
            f"carousel f_1⋯f_T = {s['carousel'][0]:.1e}",
            f"vanilla RNN ‖∂h_T/∂h_0‖ = {s['rnn_norms'][0]:.1e}",
        ]

    def _set_text(self, s):
        self.artists["text"].set_text(
            f"Wh {s['recurrent']}\n$b_f$ = {s['forget_bias']:.2f}: mean f = {s['mean_f']:.3f}\n"
            f"$b_i$ = {s['input_bias']:.2f}: mean i = {s['mean_i']:.3f}\n"
            f"$\\|\\partial c_T/\\partial c_0\\|$ = {s['cell_norms'][0]:.1e}\n"
            f"vanilla RNN: {s['rnn_norms'][0]:.1e}"
        )

    def update(self, s):
        plots.update_curves(self.artists["gates"], self._gate_means(s))
        plots.update_unit_traces(self.artists["cell"], s["c"])
        plots.update_curves(self.artists["grad"], {"cell": s["cell_norms"], "carousel": s["carousel"]})
        self._set_text(s)
        lim = self._cell_limit(s["c"])
        if lim != self._c_lim:  # a new axis range: redraw the static parts too
            self._c_lim = lim
            self.axes["cell"].set_ylim(-lim, lim)
            return True
        return False

    @staticmethod
    def _cell_limit(c):
        """The cell-state axis fits the states shown: one range for every setting (the largest |c|,
        about 30, at a corner of the sliders) left every setting the questions ask about as flat
        lines at 0. The limit moves in steps of 2x so small slider moves keep the same axis."""
        cmax = max(float(np.abs(c).max()), 0.25)
        return 1.1 * 2.0 ** np.ceil(np.log2(cmax))

    def _start(self):
        self._c_lim = self._cell_limit(self.compute(**self.values())["c"])
        super()._start()


def lstm_gate_explorer(T=60, H=8, seed=0, pulse_at=5):
    """Lesson 5: one LSTM with ``H`` units reads ``T`` steps of small noise with one strong pulse at
    step ``pulse_at``. Controls: ``forget_bias`` (``b_f``, the same for every unit),
    ``input_bias`` (``b_i``) and ``recurrent`` ("as initialised" or "zero": ``Wh = 0`` leaves only
    the direct cell path). Left: the input, the mean input/forget/output gates, the cell state of
    every unit. Right, on a log scale for ``k = 0..T``: ``||dc_T/dc_k||`` of the LSTM (all paths,
    ``diagnostics.lstm_cell_jacobians``), the carousel ``max_j prod_{t>k} f_t`` and, fixed, the
    vanilla RNN's ``||dh_T/dh_k||`` on the same inputs. Beside it, the LSTM cell with the carousel
    path highlighted. State: ``b``, ``h, c, i, f, g, o (T, H)``, ``cell_norms``, ``carousel``,
    ``carousel_units``, ``rnn_norms (T+1,)``, ``mean_f``, ``mean_i``."""
    return LSTMGateExplorer(T, H, seed, pulse_at)


class GRUMemoryExplorer(Explorer):
    """Lesson 6: how long a GRU's state remembers one pulse, against the update-gate bias."""

    def __init__(self, T=60, H=8, seed=0, pulse_at=5):
        from ..nn import init_cell_params

        self.T, self.H, self.pulse_at = T, H, pulse_at
        rng = np.random.default_rng(seed)
        p = init_cell_params("gru", 1, H, rng)
        self.Wx, self.Wh = 2.0 * p["Wx"], p["Wh"]
        noise = 0.3 * rng.normal(size=(T, 1))
        self.x_without = noise  # the same noise in both runs ...
        self.x = noise.copy()
        self.x[pulse_at - 1] += 3.0  # ... plus one pulse in this one
        controls = {
            "update_bias": slider("float", 0.0, -3.0, 6.0, 0.25, "update-gate bias b_z", fmt=".2f"),
            "reset_bias": slider("float", 0.0, -4.0, 4.0, 0.25, "reset-gate bias b_r", fmt=".2f"),
        }
        self.diagram = _cell_diagram("gru", "keep")
        super().__init__(
            controls,
            (10.5, 5.2),
            _traces_and_side(("input", "gates", "hidden", "memory")),
            extra=[self.diagram],
        )

    def biases(self, update_bias, reset_bias):
        """``bx (3H,)`` with the r and z blocks set by the sliders (gate order r, z, n), ``bh = 0``."""
        bx = np.zeros(3 * self.H)
        bx[: self.H] = reset_bias
        bx[self.H : 2 * self.H] = update_bias
        return bx, np.zeros(3 * self.H)

    def _run(self, update_bias, reset_bias):
        bx, bh = self.biases(update_bias, reset_bias)
        run = dg.run_gru(self.x, self.Wx, self.Wh, bx, bh)
        base = dg.run_gru(self.x_without, self.Wx, self.Wh, bx, bh)
        memory = dg.pulse_memory(run.h, base.h)  # (T,), zero before the pulse
        start = self.pulse_at - 1
        return {
            "bx": bx,
            "bh": bh,
            "h": run.h,
            "r": run.r,
            "z": run.z,
            "n": run.n,
            "h_without": base.h,
            "memory": memory,
            "direct": dg.gru_direct_path(memory, run.z, start),
            "half_life": dg.half_life(memory, start),
            "mean_z": float(run.z.mean()),
            "mean_r": float(run.r.mean()),
        }

    def compute(self, update_bias, reset_bias):
        s = dict(self.cached(self._run, update_bias, reset_bias))
        s.update(update_bias=update_bias, reset_bias=reset_bias)
        return s

    def draw(self, s):
        ax = self.axes
        t = np.arange(1, self.T + 1)
        self.artists["input"] = plots.draw_input_trace(ax["input"], self.x)
        ax["input"].set_ylim(-1.5, 3.5)
        ax["input"].set_title(f"input: noise, and one pulse at t = {self.pulse_at}", fontsize=10)
        styles = {
            "z": dict(color=GATE_COLORS["z"], lw=2, ls="-", label="update gate z (1 = keep)"),
            "r": dict(color=GATE_COLORS["r"], lw=1.8, ls="--", label="reset gate r"),
        }
        gates = {"z": s["z"].mean(axis=1), "r": s["r"].mean(axis=1)}
        self.artists["gates"] = plots.draw_curves(
            ax["gates"], t, gates, styles, ylim=(-0.03, 1.03), ylabel="gate (mean of units)", legend=None
        )
        ax["gates"].legend(loc="lower left", ncol=2, fontsize="small")
        self.artists["hidden"] = plots.draw_unit_traces(
            ax["hidden"], s["h"], ylim=(-1.05, 1.05), ylabel="hidden state $h_t$ (each unit)"
        )
        ax["hidden"].set_xlabel("time step t")
        for a in (ax["input"], ax["gates"]):
            a.tick_params(labelbottom=False)
        first = self.pulse_at + 1  # the first update gate the pulse passes through
        styles = {
            "memory": dict(color=plots.COLORS["main"], lw=2, label=r"$\|h_t - h_t^{\mathrm{no\ pulse}}\|$"),
            "direct": dict(
                color="k", lw=1.2, ls="--", label=f"carried by z alone: $z_{{{first}}} \\cdots z_t$"
            ),
        }
        curves = {"memory": s["memory"], "direct": s["direct"]}
        self.artists["memory"] = plots.draw_curves(
            ax["memory"],
            t,
            curves,
            styles,
            log=True,
            ylim=(1e-10, 10),
            xlabel="time step t",
            ylabel="what is left of the pulse",
            legend="lower left",
        )
        self.artists["marker"] = plots.draw_marker(ax["memory"], self.pulse_at)
        ax["memory"].set_title("memory of the pulse (log scale)", fontsize=10)
        self.artists["text"] = text_box(ax["memory"], 0.97, 0.97, ha="right")
        self._set_text(s)

    def _half_life_text(self, s):
        hl = s["half_life"]
        if hl is None:
            return f"> {self.T - self.pulse_at} steps"
        return f"{hl} step{'' if hl == 1 else 's'}"

    def key_numbers(self, s):
        return [
            f"b_z = {s['update_bias']:.2f}: mean z = {s['mean_z']:.3f}",
            f"b_r = {s['reset_bias']:.2f}: mean r = {s['mean_r']:.3f}",
            f"half-life: {self._half_life_text(s)}",
            f"left at t = {self.T}: {s['memory'][-1]:.1e}",
        ]

    def _set_text(self, s):
        self.artists["text"].set_text(
            f"$b_z$ = {s['update_bias']:.2f}: mean z = {s['mean_z']:.3f}\n"
            f"$b_r$ = {s['reset_bias']:.2f}: mean r = {s['mean_r']:.3f}\n"
            f"half-life: {self._half_life_text(s)}"
        )

    def update(self, s):
        plots.update_curves(self.artists["gates"], {"z": s["z"].mean(axis=1), "r": s["r"].mean(axis=1)})
        plots.update_unit_traces(self.artists["hidden"], s["h"])
        plots.update_curves(self.artists["memory"], {"memory": s["memory"], "direct": s["direct"]})
        self._set_text(s)
        return False


def gru_memory_explorer(T=60, H=8, seed=0, pulse_at=5):
    """Lesson 6: a GRU with ``H`` units reads ``T`` steps of noise, once with and once without a
    pulse at step ``pulse_at``; the difference of the two hidden states is what the state remembers
    of the pulse. Controls: ``update_bias`` (``b_z``; large means z near 1, keep the old state) and
    ``reset_bias`` (``b_r``). Beside it, the GRU cell with the keep path highlighted. State: ``bx``,
    ``bh``, ``h``, ``h_without``, ``r``, ``z``, ``n`` ``(T, H)``, ``memory (T,)``, ``direct (T,)``
    (the memory at the pulse times the product of the update gates after it, best unit,
    ``diagnostics.gru_direct_path``), ``half_life`` (steps, or None), ``mean_z``, ``mean_r``."""
    return GRUMemoryExplorer(T, H, seed, pulse_at)
