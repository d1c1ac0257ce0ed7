"""Lesson 1's explorer: feed a sequence one step at a time and watch the hidden state evolve."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import diagnostics as dg
from . import plots
from .explorer import Explorer, slider, text_box

__all__ = ["HiddenStateExplorer", "hidden_state_explorer"]


class HiddenStateExplorer(Explorer):
    """Lesson 1: ``h_t = tanh(x_t Wx + h_{t-1} Wh + b)`` fed one step at a time."""

    def __init__(self, H=12, T=30, seed=0):
        self.H, self.T = H, T
        rng = np.random.default_rng(seed)
        self.Wx = rng.normal(size=(1, H))  # one input feature -> H units
        self.b = np.zeros(H)
        self._Wh_unit = dg.recurrent_matrix(H, 1.0, "gaussian", rng)  # rescaled by the slider
        self._noise = rng.normal(size=T)
        controls = {
            "radius": slider("float", 0.9, 0.0, 2.0, 0.05, "spectral radius of Wh"),
            "input_scale": slider("float", 1.0, 0.0, 3.0, 0.1, "input scale"),
            "pattern": widgets.Dropdown(
                options=["pulse", "sine", "noise"],
                value="pulse",
                description="input",
                layout=widgets.Layout(width="200px"),
            ),
            "t": slider("int", T, 1, T, 1, "steps fed t"),
        }
        self.play = widgets.Play(value=T, min=1, max=T, step=1, interval=250, description="play")
        widgets.jslink((self.play, "value"), (controls["t"], "value"))

        def layout(fig):
            gs = fig.add_gridspec(
                2,
                4,
                width_ratios=(2.1, 0.05, 0.5, 1),
                height_ratios=(1, 2.4),
                left=0.07,
                right=0.97,
                bottom=0.13,
                top=0.93,
                wspace=0.05,
                hspace=0.12,
            )
            ax_in = fig.add_subplot(gs[0, 0])
            ax_heat = fig.add_subplot(gs[1, 0], sharex=ax_in)
            cax = fig.add_subplot(gs[1, 1])
            ax_norm = fig.add_subplot(gs[:, 3])
            return {"input": ax_in, "heatmap": ax_heat, "colorbar": cax, "norm": ax_norm}

        super().__init__(controls, (10, 4.2), layout, extra=[self.play])

    def inputs(self, pattern, input_scale):
        t = np.arange(1, self.T + 1)
        if pattern == "pulse":
            x = np.where(t <= 3, 1.0, 0.0)
        elif pattern == "sine":
            x = np.sin(2 * np.pi * t / 12)
        elif pattern == "noise":
            x = self._noise
        else:
            raise ValueError(f"pattern must be 'pulse', 'sine' or 'noise', got {pattern!r}")
        return (input_scale * x)[:, None]  # (T, 1)

    def _states(self, radius, input_scale, pattern):
        x = self.inputs(pattern, input_scale)
        Wh = self._Wh_unit * radius
        h = dg.run_rnn(x, self.Wx, Wh, self.b)
        h.setflags(write=False)
        return x, Wh, h

    def compute(self, radius, input_scale, pattern, t):
        x, Wh, h = self.cached(self._states, radius, input_scale, pattern)
        norms = np.linalg.norm(h, axis=1)
        return {
            "x": x,
            "Wh": Wh,
            "h": h,
            "t": t,
            "h_t": h[t - 1],
            "state_norms": norms,
            "radius": dg.spectral_radius(Wh),
            "saturation": dg.saturation_fraction(h[:t]),
        }

    def draw(self, s):
        ax = self.axes
        self.artists["input"] = plots.draw_input_trace(ax["input"], s["x"], s["t"])
        ax["input"].set_ylim(-3.3, 3.3)
        ax["input"].tick_params(labelbottom=False)
        ax["input"].set_title("input sequence (faint: not fed yet)", fontsize=10)
        self.artists["heatmap"] = plots.draw_hidden_heatmap(ax["heatmap"], s["h"], s["t"])
        self.fig.colorbar(self.artists["heatmap"]["image"], cax=ax["colorbar"], label="unit value")
        self.artists["norm"] = plots.draw_state_norm(ax["norm"], s["state_norms"], s["t"])
        ax["norm"].set_ylim(0, np.sqrt(self.H) * 1.02)
        ax["norm"].set_title(r"size of the state $\|h_t\|$", fontsize=10)
        self.artists["text"] = text_box(ax["norm"], 0.03, 0.97)
        self._set_text(s)

    def key_numbers(self, s):
        return [
            f"t = {s['t']}",
            f"‖h_t‖ = {s['state_norms'][s['t'] - 1]:.3f}",
            f"ρ(Wh) = {s['radius']:.2f}",
            f"saturated: {100 * s['saturation']:.0f}%",
        ]

    def _set_text(self, s):
        self.artists["text"].set_text("\n".join(self.key_numbers(s)[:2] + self.key_numbers(s)[3:]))

    def update(self, s):
        plots.update_input_trace(self.artists["input"], s["x"], s["t"])
        plots.update_hidden_heatmap(self.artists["heatmap"], s["h"], s["t"])
        plots.update_state_norm(self.artists["norm"], s["state_norms"], s["t"])
        self._set_text(s)
        return False

    def reset(self):
        self.play.value = self.T
        return super().reset()


def hidden_state_explorer(H=12, T=30, seed=0):
    """Lesson 1: ``h_t = tanh(x_t Wx + h_{t-1} Wh + b)`` fed one step at a time.

    Controls: ``radius`` (spectral radius of ``Wh``; 0 switches the recurrence off),
    ``input_scale``, ``pattern`` ("pulse": three steps of input then silence, "sine", "noise") and
    ``t`` (how many steps have been fed). State: ``x (T, 1)``, ``h (T, H)``, ``h_t``,
    ``state_norms (T,)``, ``radius``, ``saturation``.
    """
    return HiddenStateExplorer(H, T, seed)
