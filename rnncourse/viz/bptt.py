"""Lesson 3's explorer: full vs truncated backpropagation through time, step by step."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import diagnostics as dg
from . import plots
from .explorer import Explorer, slider, text_box

__all__ = ["BPTTExplorer", "bptt_explorer"]


class BPTTExplorer(Explorer):
    """Lesson 3: full vs truncated BPTT on one random sequence."""

    def __init__(self, T=30, H=10, D=3, seed=0):
        self.T, self.H, self.D = T, H, D
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(1, T, D))
        self.Wx = rng.normal(scale=0.5, size=(D, H))
        self.b = np.zeros(H)
        self._Wh_unit = dg.recurrent_matrix(H, 1.0, "gaussian", rng)
        self._dh_every = rng.normal(size=(1, T, H))
        controls = {
            "k": slider("int", T, 1, T, 1, "truncation window k"),
            "radius": slider("float", 1.0, 0.3, 1.8, 0.05, "spectral radius of Wh"),
            "loss_at": widgets.ToggleButtons(
                options=["last step", "every step"], value="last step", description="loss at"
            ),
        }
        super().__init__(controls, (10, 3.8), self._layout)

    def _layout(self, fig):
        # Fixed y-ranges (so curves can be compared while a slider moves): the extremes of full BPTT
        # over every radius the slider offers, computed once here (this also fills the cache).
        r = self.controls["radius"]
        g, terms = [], []
        for loss_at in self.controls["loss_at"].options:
            for radius in np.arange(r.min, r.max + r.step / 2, r.step):
                tr = self.cached(self._trace, r.snap(radius), loss_at, self.T)
                g.append(np.linalg.norm(tr.dh_total[:, 0], axis=-1))
                terms.append(np.linalg.norm(tr.dWh_terms, axis=(1, 2)))
        a1, a2 = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.3)
        for ax, v in zip((a1, a2), (np.concatenate(g), np.concatenate(terms))):
            ax.set_yscale("log")
            ax.set_ylim(1e-300, 1e300)  # so that set_log_ylim fits from scratch
            plots.set_log_ylim(ax, v, lo_floor=1e-16, pad_decades=0)
        return {"grad": a1, "terms": a2}

    def dh(self, loss_at):
        if loss_at == "last step":
            dh = np.zeros((1, self.T, self.H))
            dh[0, -1] = self._dh_every[0, -1]
            return dh
        return self._dh_every

    def _trace(self, radius, loss_at, k):
        return dg.bptt_trace(self.x, self.Wx, self._Wh_unit * radius, self.b, self.dh(loss_at), k=k)

    def compute(self, k, radius, loss_at):
        full = self.cached(self._trace, radius, loss_at, self.T)
        trunc = self.cached(self._trace, radius, loss_at, int(k))
        return {
            "k": int(k),
            "radius": radius,
            "grad_full": np.linalg.norm(full.dh_total[:, 0], axis=-1),
            "grad_trunc": np.linalg.norm(trunc.dh_total[:, 0], axis=-1),
            "terms_full": np.linalg.norm(full.dWh_terms, axis=(1, 2)),
            "terms_trunc": np.linalg.norm(trunc.dWh_terms, axis=(1, 2)),
            "dWh_full": full.dWh,
            "dWh_trunc": trunc.dWh,
            "rel_error": dg.truncation_error(trunc.dWh, full.dWh),
            "memory_ratio": dg.bptt_cache_floats(1, self.T, self.D, self.H, int(k))
            / dg.bptt_cache_floats(1, self.T, self.D, self.H),
        }

    def draw(self, s):
        ax = self.axes
        self.artists["grad"] = plots.draw_bptt_gradients(
            ax["grad"], s["grad_full"], s["grad_trunc"], s["k"], ylim=ax["grad"].get_ylim()
        )
        ax["grad"].set_title("gradient reaching each hidden state", fontsize=10)
        self.artists["terms"] = plots.draw_dWh_terms(
            ax["terms"], s["terms_full"], s["terms_trunc"], ylim=ax["terms"].get_ylim()
        )
        ax["terms"].set_title(r"each step's term of $dW_h = \sum_t h_{t-1}^\top da_t$", fontsize=10)
        self.artists["text"] = text_box(ax["terms"], 0.02, 0.97)
        self._set_text(s)

    def key_numbers(self, s):
        return [
            f"k = {s['k']}, ρ(Wh) = {s['radius']:.2f}",
            f"relative error of dWh: {s['rel_error']:.2g}",
            f"forward states kept: {100 * s['memory_ratio']:.0f}% of full BPTT",
        ]

    def _set_text(self, s):
        self.artists["text"].set_text(
            f"k = {s['k']}: relative error of $dW_h$ = {s['rel_error']:.2g}\n"
            f"forward states kept: {100 * s['memory_ratio']:.0f}% of full BPTT"
        )

    def update(self, s):
        plots.update_bptt_gradients(self.artists["grad"], s["grad_full"], s["grad_trunc"], s["k"])
        plots.update_dWh_terms(self.artists["terms"], s["terms_full"], s["terms_trunc"])
        self._set_text(s)
        return False


def bptt_explorer(T=30, H=10, D=3, seed=0):
    """Lesson 3: full vs truncated backpropagation through time on one random sequence.

    Controls: ``k`` (truncation window; ``k = T`` is full BPTT), ``radius`` (spectral radius of
    ``Wh``), ``loss_at`` ("last step" or "every step"). State: ``grad_full``, ``grad_trunc`` (norm of
    the gradient reaching ``h_t``, ``(T,)``), ``terms_full``, ``terms_trunc`` (norm of each step's
    term of ``dWh``), ``dWh_full``, ``dWh_trunc``, ``rel_error``, ``memory_ratio``."""
    return BPTTExplorer(T, H, D, seed)
