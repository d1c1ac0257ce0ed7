"""Cell diagrams drawn by code (lessons 1, 5 and 6): every arrow says what it carries and its shape.

Each ``draw_*`` function draws on the ``Axes`` it is given (it turns the axis frame off and sets
equal scaling) and returns a dict ``name -> list of artists``, where ``name`` is a part of the
picture: a path such as ``"c_prev"`` or a gate such as ``"f"``. ``highlight`` colours one path of
the cell and greys the rest, so an explorer can show where the quantity it plots flows.

One-line use in a lesson::

    fig, ax = plt.subplots(figsize=(11, 3.4)); draw_rnn_unrolled(ax, T=4)     # lesson 1
    fig, ax = plt.subplots(figsize=(8, 5)); draw_lstm_cell(ax)                   # lesson 5
    fig, ax = plt.subplots(figsize=(8, 5)); draw_gru_cell(ax)                    # lesson 6

Shapes follow the course (batch-first): ``x_t (N, D)``, ``h_t (N, H)``, ``c_t (N, H)``, every gate
``(N, H)``; ``N`` examples in the batch, ``D`` input features, ``H`` hidden units. The equations
drawn are those of ``rnncourse.nn``: ``h_t = tanh(x_t W_x + h_{t-1} W_h + b)``; the LSTM's
``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)``; the GRU's ``h_t = (1 - z) * n + z * h_{t-1}``
with ``n = tanh(x_t W_xn + b_xn + r * (h_{t-1} W_hn + b_hn))`` (``z = 1`` keeps the old state).
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .style import OKABE_ITO

__all__ = [
    "draw_rnn_folded",
    "draw_rnn_unrolled",
    "draw_lstm_cell",
    "draw_gru_cell",
    "cell_png",
    "LSTM_PATHS",
    "GRU_PATHS",
]

INK = "0.15"  # normal lines and text
FADED = "0.72"  # the parts that are not highlighted
HIGHLIGHT = OKABE_ITO["vermillion"]
GATE_FILL = {"sigmoid": "#DCEBF7", "tanh": "#FBE9D0", "cell": "#E8F4EE", "op": "white"}
FONT = 10

# Which named parts belong to each path a caller may highlight.
LSTM_PATHS = {
    "carousel": ("c_prev", "times_f", "plus", "c_out"),  # the cell-state path
    "forget": ("f", "f_arrow", "times_f"),
    "input": ("i", "i_arrow", "g", "g_arrow", "times_i", "ig_arrow", "plus"),
    "output": ("o", "o_arrow", "tanh_c", "c_down", "times_o", "h_out"),
    "hidden": ("h_prev", "x_in", "affine", "h_out", "times_o", "h_up"),
}
GRU_PATHS = {
    "keep": ("h_prev", "times_z", "zh_arrow", "plus", "h_out"),  # z * h_{t-1}: the direct path
    "update": ("z", "z_arrow", "one_minus", "omz_arrow", "times_z", "times_n"),
    "reset": ("r", "r_arrow", "n"),
    "candidate": ("n", "n_arrow", "times_n", "nz_arrow", "plus"),
}


class _Canvas:
    """Collects artists by part name while drawing, and colours them for a highlight."""

    def __init__(self, ax, xlim, ylim):
        self.ax = ax
        self.parts = {}
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_aspect("equal")
        ax.axis("off")
        # Text is sized in points but the drawing in data units: scale the fonts with the inches one
        # data unit gets on this Axes (equal aspect: the tighter direction), so labels fit their
        # boxes on any figure size. The pictures were laid out at about 0.67 inch per unit.
        fig_w, fig_h = ax.figure.get_size_inches()
        pos = ax.get_position()
        inch_per_unit = min(pos.width * fig_w / (xlim[1] - xlim[0]), pos.height * fig_h / (ylim[1] - ylim[0]))
        self.k = float(np.clip(inch_per_unit / 0.67, 0.45, 1.6))

    def fs(self, size):
        return size * self.k

    def _add(self, part, artist):
        self.parts.setdefault(part, []).append(artist)
        return artist

    def box(self, part, x, y, w, h, text, fill="white", fontsize=FONT):
        p = FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            fc=fill,
            ec=INK,
            lw=1.4,
            zorder=3,
        )
        self._add(part, self.ax.add_patch(p))
        self._add(
            part,
            self.ax.text(
                x, y, text, ha="center", va="center", fontsize=self.fs(fontsize), zorder=4, color=INK
            ),
        )

    def op(self, part, x, y, symbol, r=0.22):
        c = Circle((x, y), r, fc=GATE_FILL["op"], ec=INK, lw=1.4, zorder=3)
        self._add(part, self.ax.add_patch(c))
        self._add(
            part,
            self.ax.text(
                x, y, symbol, ha="center", va="center", fontsize=self.fs(FONT + 1), zorder=4, color=INK
            ),
        )

    def arrow(
        self,
        part,
        points,
        label=None,
        at=0.5,
        offset=(0, 0.18),
        ha="center",
        va="bottom",
        shrink_end=0.24,
        shrink_start=0.0,
        seg=None,
    ):
        """A polyline through ``points`` with an arrow head at the end. The label sits at fraction
        ``at`` along segment ``seg`` (default: the longest), moved by ``offset``."""
        pts = np.asarray(points, dtype=float)
        start = pts[0] + shrink_start * _unit(pts[1] - pts[0])
        end = pts[-1] - shrink_end * _unit(pts[-1] - pts[-2])
        body = np.vstack([start, pts[1:-1], end])
        if len(body) > 2:
            line = Line2D(body[:-1, 0], body[:-1, 1], color=INK, lw=1.5, zorder=2, solid_capstyle="butt")
            self._add(part, self.ax.add_line(line))
        head = FancyArrowPatch(
            tuple(body[-2]),
            tuple(body[-1]),
            arrowstyle="-|>",
            mutation_scale=13 * self.k,
            color=INK,
            lw=1.5,
            shrinkA=0,
            shrinkB=0,
            zorder=2,
        )
        self._add(part, self.ax.add_patch(head))
        if label:
            if seg is None:
                seg = int(np.argmax(np.linalg.norm(np.diff(body, axis=0), axis=1)))
            p = body[seg] + at * (body[seg + 1] - body[seg]) + np.asarray(offset)
            self._add(
                part,
                self.ax.text(
                    p[0],
                    p[1],
                    label,
                    ha=ha,
                    va=va,
                    fontsize=self.fs(FONT - 1),
                    zorder=5,
                    color=INK,
                    bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none", alpha=0.85),
                ),
            )

    def text(self, part, x, y, s, **kw):
        kw = dict(ha="center", va="center", fontsize=FONT, color=INK, zorder=5) | kw
        kw["fontsize"] = self.fs(kw["fontsize"])
        return self._add(part, self.ax.text(x, y, s, **kw))

    def apply_highlight(self, highlight, paths):
        if highlight is None:
            return
        if highlight not in paths:
            raise ValueError(f"highlight must be None or one of {sorted(paths)}, got {highlight!r}")
        on = set(paths[highlight])
        for part, artists in self.parts.items():
            for a in artists:
                _recolour(a, HIGHLIGHT if part in on else FADED, strong=part in on)


def _unit(v):
    n = np.linalg.norm(v)
    return v / n if n else v


def _recolour(a, color, strong):
    if isinstance(a, FancyArrowPatch):
        a.set_color(color)
        a.set_linewidth(2.6 if strong else 1.3)
    elif isinstance(a, Line2D):
        a.set_color(color)
        a.set_linewidth(2.6 if strong else 1.3)
    elif isinstance(a, (Circle, FancyBboxPatch)):
        a.set_edgecolor(color)
        a.set_linewidth(2.2 if strong else 1.2)
    elif hasattr(a, "set_color"):  # text: keep it readable, only dim it
        a.set_color(INK if strong else "0.45")
        if strong:
            a.set_fontweight("bold")


def _check_ax(ax):
    if not hasattr(ax, "add_patch"):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")


# --------------------------------------------------------------------------- lesson 1: the RNN


def draw_rnn_folded(ax):
    """The folded RNN alone: one cell with its self-loop (the state fed back one step later).
    Returns ``{part: [artists]}`` with parts ``"cell"``, ``"loop"``, ``"x_in"``, ``"h_out"``."""
    _check_ax(ax)
    cv = _Canvas(ax, (-0.2, 4.2), (-0.5, 4.1))
    _rnn_folded(cv, 0.0)
    return cv.parts


def _rnn_folded(cv, x0):
    cx = x0 + 1.3
    cv.box(
        "cell",
        cx,
        2.0,
        1.5,
        0.9,
        "$h_t = \\tanh(x_t W_x$\n$+\\ h_{t-1} W_h + b)$",
        GATE_FILL["cell"],
        fontsize=FONT - 1,
    )
    cv.arrow(
        "x_in",
        [(cx, 0.45), (cx, 1.55)],
        label="$x_t$ (N, D)",
        offset=(0.12, -0.05),
        ha="left",
        va="center",
        shrink_end=0.0,
    )
    cv.arrow(
        "h_out",
        [(cx - 0.35, 2.45), (cx - 0.35, 3.7)],
        label="$h_t$ (N, H)",
        at=1.0,
        offset=(0, 0.05),
        shrink_end=0.0,
    )
    # the self-loop: out of the top, round to the right and back into the right side one step later
    cv.arrow(
        "loop",
        [(cx + 0.35, 2.45), (cx + 0.35, 3.0), (cx + 1.2, 3.0), (cx + 1.2, 2.0), (cx + 0.75, 2.0)],
        shrink_end=0.0,
    )
    cv.text("loop", cx + 1.32, 2.5, "$h_{t-1}$ (N, H)\nnext step", ha="left", fontsize=FONT - 1)
    cv.text("title", cx, -0.1, "folded: one cell, a loop", fontsize=FONT, style="italic")


def draw_rnn_unrolled(ax, T=4, folded=True):
    """Lesson 1: the RNN unrolled over ``T`` steps (``1 <= T <= 8``; give the figure about 1.6 inches
    of width per step plus 4 for the folded cell), with the folded cell and its
    self-loop on the left when ``folded``. Every step is the same cell with the same ``W_x, W_h, b``.
    Returns ``{part: [artists]}`` with parts ``"step1".. "stepT"``, ``"x1".."xT"``, ``"h1".."hT"``,
    ``"h0"`` and, with ``folded``, ``"cell"``, ``"loop"``, ``"x_in"``, ``"h_out"``."""
    _check_ax(ax)
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)):
        raise TypeError(f"T must be an integer number of steps, got {type(T).__name__}")
    if not 1 <= T <= 8:
        raise ValueError(f"T must be between 1 and 8 to fit the picture, got {T}")
    left = 5.0 if folded else 0.0
    width = left + 0.9 + 2.3 * T + 0.6
    cv = _Canvas(ax, (-0.2, width), (-0.5, 4.1))
    if folded:
        _rnn_folded(cv, 0.0)
        cv.text("equals", 4.55, 2.0, "=", fontsize=FONT + 8)
    x = left + 0.9
    cv.text("h0", left + 0.25, 2.0, "$h_0$", fontsize=FONT + 1)
    prev = (left + 0.55, 2.0)
    for t in range(1, T + 1):
        cx = x + 1.15
        cv.box(f"step{t}", cx, 2.0, 1.1, 0.8, "tanh", GATE_FILL["cell"])
        label = f"$h_{{{t - 1}}}$ (N, H)" if t <= 2 else f"$h_{{{t - 1}}}$"
        cv.arrow(
            f"h{t - 1}" if t > 1 else "h0",
            [prev, (cx - 0.55, 2.0)],
            label=label,
            offset=(0, 0.14),
            shrink_end=0.0,
        )
        xl = f"$x_{{{t}}}$ (N, D)" if t == 1 else f"$x_{{{t}}}$"
        cv.arrow(
            f"x{t}", [(cx, 0.55), (cx, 1.6)], label=xl, at=0.0, offset=(0, -0.1), va="top", shrink_end=0.0
        )
        hl = f"$h_{{{t}}}$ (N, H)" if t == 1 else f"$h_{{{t}}}$"
        cv.arrow(f"h{t}", [(cx, 2.4), (cx, 3.45)], label=hl, at=1.0, offset=(0, 0.05), shrink_end=0.0)
        prev = (cx + 0.55, 2.0)
        x += 2.3
    cv.text(
        "shared",
        left + 0.9 + 2.3 * T / 2,
        -0.15,
        f"unrolled over T = {T} steps: the same $W_x$ (D, H), $W_h$ (H, H), $b$ (H,) at every step",
        fontsize=FONT,
        style="italic",
    )
    return cv.parts


# --------------------------------------------------------------------------- lesson 5: the LSTM


def draw_lstm_cell(ax, highlight=None):
    """Lesson 5: one LSTM step. ``c_{t-1}`` runs along the top (the cell state: a forget product
    and an addition, nothing else), ``h_{t-1}`` and ``x_t`` enter at the bottom, the four gates
    ``i, f, g, o`` (each ``(N, H)``) come out of one affine map ``a = x_t W_x + h_{t-1} W_h + b``
    ``(N, 4H)``. ``highlight``: None or one of ``LSTM_PATHS`` ("carousel", "forget", "input",
    "output", "hidden"). Returns ``{part: [artists]}``."""
    _check_ax(ax)
    cv = _Canvas(ax, (-0.3, 12.3), (-0.9, 7.4))
    yc, yg, ya, yh = 6.0, 3.6, 1.6, 0.4
    xf, xi, xg, xo, xadd, xout = 3.4, 5.2, 6.6, 7.9, 6.6, 9.6
    # the cell state line
    cv.arrow("c_prev", [(0.0, yc), (xf, yc)], label="$c_{t-1}$ (N, H)", at=0.35, offset=(0, 0.2))
    cv.op("times_f", xf, yc, "×")
    cv.arrow("c_mid", [(xf, yc), (xadd, yc)], shrink_start=0.22)
    cv.parts["carousel_mid"] = cv.parts.pop("c_mid")
    cv.op("plus", xadd, yc, "+")
    cv.arrow(
        "c_out",
        [(xadd, yc), (12.0, yc)],
        label="$c_t$ (N, H)",
        at=0.72,
        offset=(0, 0.2),
        shrink_start=0.22,
        shrink_end=0.0,
    )
    # inputs and the affine map
    cv.box("affine", 5.7, ya, 6.2, 0.8, "$a = x_t W_x + h_{t-1} W_h + b$   (N, 4H)", "white")
    cv.arrow(
        "h_prev",
        [(0.0, yh), (1.5, yh), (1.5, ya), (2.6, ya)],
        label="$h_{t-1}$ (N, H)",
        at=0.5,
        offset=(0, 0.12),
        shrink_end=0.0,
    )
    cv.arrow(
        "x_in",
        [(5.7, -0.75), (5.7, ya - 0.4)],
        label="$x_t$ (N, D)",
        at=0.3,
        offset=(0.15, 0),
        ha="left",
        va="center",
        shrink_end=0.0,
    )
    # the four gates
    for name, xx, fn, fill in (
        ("f", xf, "σ", "sigmoid"),
        ("i", xi, "σ", "sigmoid"),
        ("g", xg, "tanh", "tanh"),
        ("o", xo, "σ", "sigmoid"),
    ):
        cv.box(name, xx, yg, 0.95 if fn == "tanh" else 0.7, 0.62, fn, GATE_FILL[fill])
        cv.arrow(f"a_{name}", [(xx, ya + 0.4), (xx, yg - 0.31)], shrink_end=0.0)
    cv.arrow(
        "f_arrow",
        [(xf, yg + 0.31), (xf, yc)],
        label="f (N, H)",
        at=0.45,
        offset=(-0.12, 0),
        ha="right",
        va="center",
    )
    cv.op("times_i", xi + 0.7, 4.75, "×")
    cv.arrow(
        "i_arrow",
        [(xi, yg + 0.31), (xi, 4.75), (xi + 0.7, 4.75)],
        label="i (N, H)",
        at=0.5,
        offset=(-0.12, 0),
        ha="right",
        va="center",
    )
    cv.arrow(
        "g_arrow",
        [(xg, yg + 0.31), (xg, 4.75), (xi + 0.7, 4.75)],
        label="g (N, H)",
        at=0.5,
        offset=(0.12, 0),
        ha="left",
        va="center",
    )
    cv.arrow("ig_arrow", [(xi + 0.7, 4.75), (xi + 0.7, 5.25), (xadd, 5.25), (xadd, yc)], shrink_start=0.22)
    # output: tanh(c_t) times o
    cv.box("tanh_c", xout, 4.75, 0.95, 0.55, "tanh", GATE_FILL["tanh"])
    cv.arrow("c_down", [(xout, yc), (xout, 4.75 + 0.28)], shrink_end=0.0)
    cv.op("times_o", xout, yg, "×")
    cv.arrow(
        "tc_arrow",
        [(xout, 4.75 - 0.28), (xout, yg)],
        label="tanh($c_t$) (N, H)",
        at=0.5,
        offset=(0.12, 0),
        ha="left",
        va="center",
    )
    cv.parts["c_down"] += cv.parts.pop("tc_arrow")
    cv.arrow("o_arrow", [(xo + 0.35, yg), (xout, yg)], label="o (N, H)", at=0.45, offset=(0, 0.12))
    cv.arrow(
        "h_out",
        [(xout, yg), (xout, ya), (12.0, ya)],
        label="$h_t$ (N, H)",
        at=0.55,
        offset=(0, 0.12),
        shrink_start=0.22,
        shrink_end=0.0,
        seg=1,
    )
    cv.text(
        "legend",
        6.0,
        6.95,
        "LSTM step: $c_t = f \\odot c_{t-1} + i \\odot g$,   "
        "$h_t = o \\odot \\tanh(c_t)$;   gates i, f, g, o: each (N, H)",
        fontsize=FONT,
    )
    cv.parts["times_f"] += cv.parts.pop("carousel_mid")
    cv.apply_highlight(highlight, LSTM_PATHS)
    return cv.parts


# --------------------------------------------------------------------------- lesson 6: the GRU


def draw_gru_cell(ax, highlight=None):
    """Lesson 6: one GRU step (the course's and PyTorch's convention). ``h_{t-1}`` runs along the
    top and is kept in proportion ``z``; the candidate ``n`` enters in proportion ``1 - z``; the
    reset gate ``r`` scales the recurrent part inside ``n``. ``highlight``: None or one of
    ``GRU_PATHS`` ("keep", "update", "reset", "candidate"). Returns ``{part: [artists]}``."""
    _check_ax(ax)
    cv = _Canvas(ax, (-0.3, 12.3), (-0.9, 7.4))
    yh, yg, ya = 6.0, 3.6, 1.6
    xz, xr, xn, xkeep, xadd = 2.8, 5.0, 7.4, 2.8, 9.4
    cv.arrow("h_prev", [(0.0, yh), (xkeep, yh)], label="$h_{t-1}$ (N, H)", at=0.62, offset=(0, 0.2))
    cv.op("times_z", xkeep, yh, "×")
    cv.arrow(
        "zh_arrow",
        [(xkeep, yh), (xadd, yh)],
        label="$z \\odot h_{t-1}$ (N, H)",
        at=0.5,
        offset=(0, 0.2),
        shrink_start=0.22,
    )
    cv.op("plus", xadd, yh, "+")
    cv.arrow(
        "h_out",
        [(xadd, yh), (12.0, yh)],
        label="$h_t$ (N, H)",
        at=0.6,
        offset=(0, 0.2),
        shrink_start=0.22,
        shrink_end=0.0,
    )
    # h_{t-1} also goes down into the gates
    cv.arrow("h_down", [(1.0, yh), (1.0, ya), (1.55, ya)], shrink_end=0.0)
    cv.box("affine", 5.3, ya, 7.5, 0.8, "$x_t W_x + b_x$,  $h_{t-1} W_h + b_h$   (N, 3H) each", "white")
    cv.arrow(
        "x_in",
        [(5.3, -0.75), (5.3, ya - 0.4)],
        label="$x_t$ (N, D)",
        at=0.3,
        offset=(0.15, 0),
        ha="left",
        va="center",
        shrink_end=0.0,
    )
    for name, xx, fn, fill in (
        ("r", xr, "σ", "sigmoid"),
        ("z", xz, "σ", "sigmoid"),
        ("n", xn, "tanh", "tanh"),
    ):
        cv.box(name, xx, yg, 0.95 if fn == "tanh" else 0.7, 0.62, fn, GATE_FILL[fill])
        cv.arrow(f"a_{name}", [(xx, ya + 0.4), (xx, yg - 0.31)], shrink_end=0.0)
    cv.arrow(
        "r_arrow",
        [(xr + 0.35, yg), (xn - 0.48, yg)],
        label="r (N, H)",
        at=0.5,
        offset=(0, 0.12),
        shrink_end=0.0,
    )
    cv.text("r_arrow", (xr + xn) / 2 + 0.1, yg - 0.45, "scales $h_{t-1} W_{hn} + b_{hn}$", fontsize=FONT - 2)
    cv.arrow(
        "z_arrow",
        [(xz, yg + 0.31), (xz, yh)],
        label="z (N, H)",
        at=0.45,
        offset=(-0.12, 0),
        ha="right",
        va="center",
    )
    cv.box("one_minus", 6.2, 4.75, 0.8, 0.5, "1 − z", "white", fontsize=FONT - 1)
    cv.arrow("omz_arrow", [(xz, 4.75), (6.2 - 0.4, 4.75)], shrink_end=0.0)
    cv.op("times_n", xadd, 4.75, "×")
    cv.arrow("omz_arrow2", [(6.6, 4.75), (xadd, 4.75)], label="1 − z", at=0.5, offset=(0, 0.1))
    cv.parts["omz_arrow"] += cv.parts.pop("omz_arrow2")
    cv.arrow(
        "n_arrow", [(xn + 0.48, yg), (xadd, yg), (xadd, 4.75)], label="n (N, H)", at=0.5, offset=(0, 0.12)
    )
    cv.arrow(
        "nz_arrow",
        [(xadd, 4.75), (xadd, yh)],
        label="$(1 - z) \\odot n$",
        at=0.5,
        offset=(0.12, 0),
        ha="left",
        va="center",
        shrink_start=0.22,
    )
    cv.text(
        "legend",
        6.0,
        6.95,
        "GRU step: $h_t = (1 - z) \\odot n + z \\odot h_{t-1}$,  "
        "$n = \\tanh(x_t W_{xn} + b_{xn} + r \\odot (h_{t-1} W_{hn} + b_{hn}))$",
        fontsize=FONT,
    )
    cv.apply_highlight(highlight, GRU_PATHS)
    return cv.parts


# --------------------------------------------------------------------------- as pictures


@lru_cache(maxsize=16)
def cell_png(kind, highlight=None, width_inches=8.0, dpi=90):
    """PNG bytes of ``draw_lstm_cell`` (``kind="lstm"``), ``draw_gru_cell`` ("gru") or
    ``draw_rnn_unrolled`` ("rnn"), for an ``ipywidgets.Image`` beside an explorer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    draw = {"lstm": draw_lstm_cell, "gru": draw_gru_cell, "rnn": None}
    if kind not in draw:
        raise ValueError(f"kind must be 'rnn', 'lstm' or 'gru', got {kind!r}")
    aspect = 3.3 / 11 if kind == "rnn" else 8.3 / 12.6
    fig = Figure(figsize=(width_inches, width_inches * aspect), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    if kind == "rnn":
        draw_rnn_unrolled(ax)
    else:
        draw[kind](ax, highlight=highlight)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
