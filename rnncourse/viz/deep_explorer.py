"""Lesson 8's explorer: which input steps can move the decision at step t, one-way vs bidirectional.

Thin, like every explorer: the numbers come from ``rnncourse.deep_lessons.influence`` (how far the
decision at t moves when the bit at s is flipped; computed once, for every t, when the explorer is
built), ``draw_influence`` / ``update_influence`` draw on a
given Axes, and ``InfluenceExplorer`` is the ipywidgets glue on the course's ``Explorer`` base class.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import Patch

from .. import deep_lessons as dl
from .explorer import Explorer
from .explorer import slider as _slider
from .explorer import text_box as _text

__all__ = ["draw_influence", "update_influence", "InfluenceExplorer", "influence_explorer"]

DIRECTIONS = ("one-way", "bidirectional")
_COLORS = {"past": "tab:blue", "now": "black", "future": "tab:red"}


def _shares(row):
    total = row.sum()
    return row / total if total > 0 else np.zeros_like(row)


def _colors(T, t):
    """Bar colours: steps before t, step t itself, steps after t (t is 1-based)."""
    s = np.arange(1, T + 1)
    return [_COLORS["past"] if k < t else _COLORS["now"] if k == t else _COLORS["future"] for k in s]


def draw_influence(ax, row, t, labels=None):
    """Bars of the share of ``row`` (the change of the decision at t for each flipped input s = 1..T)
    on ``ax``; step t marked.

    Pure drawing: returns ``{"bars", "marker"}``; nothing is shown. ``labels`` (T strings) name
    the inputs under the axis."""
    T = len(row)
    s = np.arange(1, T + 1)
    bars = ax.bar(s, _shares(row), color=_colors(T, t), width=0.8)
    for b in bars:
        b.set_animated(True)
    marker = ax.axvline(t, color="0.3", ls=":", lw=1)
    marker.set_animated(True)
    ax.set_xlim(0.4, T + 0.6)
    ax.set_ylim(0, 1.0)
    ax.set_xticks(s, [f"{k}\n{b}" for k, b in zip(s, labels)] if labels is not None else [str(k) for k in s])
    ax.set_xlabel("input step s" + (" (under each step: its input bit)" if labels is not None else ""))
    ax.set_ylabel("share of the change at t")
    handles = [
        Patch(color=c, label=k)
        for k, c in (
            ("before t", _COLORS["past"]),
            ("step t", _COLORS["now"]),
            ("after t", _COLORS["future"]),
        )
    ]
    ax.legend(handles=handles, loc="upper right", fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return {"bars": bars, "marker": marker}


def update_influence(artists, row, t):
    """Change the bars' heights and colours and move the marker (no new artists)."""
    for b, h, c in zip(artists["bars"], _shares(row), _colors(len(row), t)):
        b.set_height(h)
        b.set_color(c)
    artists["marker"].set_xdata([t, t])


class InfluenceExplorer(Explorer):
    """Slider ``t`` (output step) and toggle ``direction``; the bars show which inputs can move
    the decision at t. ``defaults``: the controls' first values. ``state``: ``t``, ``direction``,
    ``row (T,)``, ``future_share``, ``past_share``."""

    def __init__(self, cell, models, x, T_default=None):
        if set(models) != set(DIRECTIONS):
            raise ValueError(f"models must have the keys {DIRECTIONS}, got {sorted(models)}")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"x must be one sequence of shape (T, D), got shape {x.shape}")
        self.x = x
        self.T = T = x.shape[0]
        # everything the sliders can show, computed once: I[direction][t - 1, s - 1]
        self.influence = {d: dl.influence(cell, models[d], x) for d in DIRECTIONS}
        self.labels = [str(int(v)) for v in x.argmax(-1)]
        controls = {
            "t": _slider("int", T_default or T // 2, 1, T, 1, "output step t"),
            "direction": widgets.ToggleButtons(
                options=list(DIRECTIONS), value="one-way", description="model"
            ),
        }

        def layout(fig):
            return {"bars": fig.add_subplot(1, 1, 1)}

        super().__init__(controls, (8.5, 3.4), layout)
        self.defaults = self.values()  # what a check cell puts back after moving the controls

    def compute(self, t, direction):
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        row = self.influence[direction][t - 1]
        share = _shares(row)
        return {
            "t": t,
            "direction": direction,
            "row": row,
            "past_share": float(share[: t - 1].sum()),
            "future_share": float(share[t:].sum()),
        }

    def draw(self, s):
        ax = self.axes["bars"]
        self.artists.update(draw_influence(ax, s["row"], s["t"], self.labels))
        self.fig.subplots_adjust(left=0.09, right=0.98, bottom=0.22, top=0.95)
        self.artists["text"] = _text(ax, 0.02, 0.96)
        self._set_text(s)

    def _set_text(self, s):
        self.artists["text"].set_text(
            f"{s['direction']}, output step t = {s['t']}\n"
            f"from before t: {100 * s['past_share']:.0f} %\n"
            f"from after t: {100 * s['future_share']:.0f} %"
        )

    def key_numbers(self, s):
        return [
            f"model: {s['direction']}",
            f"output step t = {s['t']}",
            f"from before t: {100 * s['past_share']:.0f} %",
            f"from after t: {100 * s['future_share']:.0f} %",
        ]

    def update(self, s):
        update_influence(self.artists, s["row"], s["t"])
        self._set_text(s)
        return False


def influence_explorer(cell, models, x, t=None):
    """Lesson 8: how much flipping the input bit at step ``s`` moves a tagger's decision at step ``t``.

    ``models``: ``{"one-way": params, "bidirectional": params}``, trained taggers
    (``rnncourse.deep_lessons.init_tagger``'s layout); ``x (T, 2)`` one sequence of one-hot bits.
    Controls ``t`` and ``direction``."""
    return InfluenceExplorer(cell, models, x, t)
