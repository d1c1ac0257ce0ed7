"""Lesson 10's pictures and explorers: text coloured by a unit (Karpathy-style), the connectivity of one
prediction as coloured text, and the distance curves of the three cells.

Thin, like every explorer: the numbers come from ``rnncourse.interpret`` (computed once when an
explorer is built, or cached per control value); the coloured text is HTML built by pure functions
here (``colored_text_html``; readable in JupyterLab, testable as a string); the plots are pure
drawing on a given Axes; ``UnitExplorer`` and ``ConnectivityExplorer`` are the ipywidgets glue on the
course's ``Explorer``.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from .. import interpret as I
from .explorer import Explorer
from .explorer import slider as _slider

__all__ = [
    "value_colors",
    "color_range",
    "colored_text_html",
    "connectivity_html",
    "draw_feature_bars",
    "update_feature_bars",
    "draw_distance_curves",
    "draw_best_r_hist",
    "draw_connectivity_row",
    "UnitExplorer",
    "unit_explorer",
    "ConnectivityExplorer",
    "connectivity_explorer",
    "CELL_NAMES",
]

CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
CELL_COLORS = {"rnn": "tab:blue", "lstm": "tab:orange", "gru": "tab:green"}
QUANTITY_NAMES = {
    "h": "h: hidden state",
    "c": "c: cell state",
    "i": "i: input gate",
    "f": "f: forget gate",
    "g": "g: candidate",
    "o": "o: output gate",
    "r": "r: reset gate",
    "z": "z: update gate",
    "n": "n: candidate",
}
# quantities in [0, 1] (gates) are drawn white -> green; the others (tanh range or unbounded) blue-white-red
GATES = ("i", "f", "o", "r", "z")

# the end colours are light enough for black text on top of them to stay readable
_BLUE = np.array([80, 140, 215]) / 255
_RED = np.array([235, 95, 80]) / 255
_GREEN = np.array([70, 180, 90]) / 255
_PURPLE = np.array([170, 110, 200]) / 255
_WHITE = np.ones(3)


def _hex(rgb):
    """``(n, 3)`` floats in [0, 1] -> n strings ``#rrggbb``."""
    b = np.clip(np.round(np.asarray(rgb) * 255), 0, 255).astype(int)
    return [f"#{r:02x}{g:02x}{bl:02x}" for r, g, bl in b]


def value_colors(values, lo, hi, kind="diverging"):
    """Background colours (``#rrggbb``) for ``values (L,)``.

    ``kind="diverging"``: ``lo`` (blue) .. the middle (white) .. ``hi`` (red), for ``h``, ``c`` and
    candidates; ``"sequential"``: ``lo`` white .. ``hi`` green, for gates in [0, 1]; ``"strength"``:
    white .. ``hi`` purple, for gradient norms. Values outside ``[lo, hi]`` get the end colour."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"values must be 1-D (one value per character), got shape {v.shape}")
    if not hi > lo:
        raise ValueError(f"hi must be larger than lo, got lo={lo!r}, hi={hi!r}")
    u = np.clip((v - lo) / (hi - lo), 0.0, 1.0)[:, None]  # 0 .. 1
    if kind == "diverging":
        s = 2 * u - 1  # -1 .. 1
        rgb = np.where(s < 0, _WHITE + (-s) * (_BLUE - _WHITE), _WHITE + s * (_RED - _WHITE))
    elif kind == "sequential":
        rgb = _WHITE + u * (_GREEN - _WHITE)
    elif kind == "strength":
        rgb = _WHITE + u * (_PURPLE - _WHITE)
    else:
        raise ValueError(f"kind must be 'diverging', 'sequential' or 'strength', got {kind!r}")
    return _hex(rgb)


def color_range(quantity, values):
    """``(lo, hi, kind)`` for ``colored_text_html``: gates in [0, 1] white to green; ``h`` and the
    candidates ``g``, ``n`` in [-1, 1] blue-white-red; the unbounded cell state ``c`` blue-white-red
    from the 1st to the 99th percentile of ``values`` (one unit's values over a text), so one
    outlier does not wash out the rest."""
    if quantity in GATES:
        return 0.0, 1.0, "sequential"
    if quantity == "c":
        lo, hi = (float(v) for v in np.percentile(values, [1, 99]))
        return (lo, hi, "diverging") if hi > lo else (lo - 1.0, lo + 1.0, "diverging")
    return -1.0, 1.0, "diverging"


_STYLE = (
    "font-family: ui-monospace, 'DejaVu Sans Mono', monospace; font-size: 13px; line-height: 1.45; "
    "white-space: pre-wrap; color: #111; background: #fff; padding: 6px; border: 1px solid #ddd; "
    "max-height: 420px; overflow-y: auto"
)


def colored_text_html(text, values, lo, hi, kind="diverging", mark=None, label=None):
    """``text`` as HTML, each character on the background colour of its value (``value_colors``).

    One ``<span>`` per character with its value in ``title`` (shown when the mouse rests on it) and
    in ``data-v``; line breaks kept. ``mark``: index of a character to draw with a black frame (the
    character being predicted). ``label``: a one-line caption above the text."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (len(text),):
        raise ValueError(f"values must have one entry per character, shape ({len(text)},), got {v.shape}")
    colors = value_colors(v, lo, hi, kind)
    parts = []
    for k, (ch, col, x) in enumerate(zip(text, colors, v)):
        frame = "outline: 2px solid #000; " if k == mark else ""
        shown = html.escape(ch) if ch != "\n" else " \n"  # a visible cell for the line break's value
        parts.append(f'<span style="{frame}background:{col}" title="{x:.3g}" data-v="{x:.4g}">{shown}</span>')
    caption = f'<div style="font-size: 12px; margin: 2px 0">{html.escape(label)}</div>' if label else ""
    return f'{caption}<div class="rnncourse-colored-text" style="{_STYLE}">{"".join(parts)}</div>'


def connectivity_html(text, t, row, next_char=None):
    """The characters ``text[t - len(row) + 1 : t + 1]`` coloured by ``row`` (``row[d]``: the strength
    for the character ``d`` places back from ``t``), scaled by its maximum, and the character to be
    predicted (``next_char``) framed after them."""
    row = np.asarray(row, dtype=np.float64)
    L = len(row)
    if not (0 <= t - L + 1 and t < len(text)):
        raise ValueError(f"t must lie in [len(row) - 1, len(text) - 1] = [{L - 1}, {len(text) - 1}], got {t}")
    piece = text[t - L + 1 : t + 1]
    vals = row[::-1]  # by position in the piece
    top = float(vals.max()) if vals.max() > 0 else 1.0
    if next_char is not None:
        piece = piece + next_char
        vals = np.append(vals, 0.0)
    return colored_text_html(
        piece, vals / top, 0.0, 1.0, kind="strength", mark=len(piece) - 1 if next_char is not None else None
    )


# ------------------------------------------------------------------------------------- plots


def draw_feature_bars(ax, r, features=I.FEATURES):
    """Horizontal bars of the correlation ``r[k]`` of one unit with each feature; returns
    ``{"bars"}`` (animated, so an explorer can change their widths)."""
    y = np.arange(len(features))
    bars = ax.barh(y, r, color=["tab:red" if v >= 0 else "tab:blue" for v in r], height=0.6)
    for b in bars:
        b.set_animated(True)
    ax.set_yticks(y, [I.FEATURE_NAMES[f] for f in features])
    ax.invert_yaxis()
    ax.set_xlim(-1, 1)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("correlation r with the feature (held-out text)")
    ax.grid(axis="x", alpha=0.3)
    return {"bars": bars}


def update_feature_bars(artists, r):
    for b, v in zip(artists["bars"], r):
        b.set_width(v)
        b.set_color("tab:red" if v >= 0 else "tab:blue")


def draw_distance_curves(ax, profiles, normalise=True):
    """``profiles``: ``{cell: (window,)}`` mean gradient norms by distance. One line per cell on a
    log scale, each divided by its largest value when ``normalise``; returns ``{cell: Line2D}``."""
    lines = {}
    for cell, prof in profiles.items():
        prof = np.asarray(prof, dtype=np.float64)
        y = prof / prof.max() if normalise else prof
        (lines[cell],) = ax.semilogy(
            np.arange(len(prof)), y, color=CELL_COLORS.get(cell), label=CELL_NAMES.get(cell, cell), lw=2
        )
    ax.set_xlabel("distance d (characters back from the prediction)")
    ax.set_ylabel("mean gradient norm" + (" / its largest" if normalise else ""))
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return lines


def draw_best_r_hist(ax, best_r, bins=None):
    """``best_r``: ``{cell: (H,)}`` each unit's largest |correlation| with any feature. Step histograms
    side by side; returns the artists."""
    bins = np.linspace(0, 1, 21) if bins is None else bins
    out = {}
    for cell, r in best_r.items():
        out[cell] = ax.hist(
            r, bins=bins, histtype="step", lw=2, color=CELL_COLORS.get(cell), label=CELL_NAMES.get(cell, cell)
        )[2]
    ax.set_xlabel("largest |r| of a unit with any of the features")
    ax.set_ylabel("number of units")
    ax.legend()
    ax.grid(alpha=0.3)
    return out


def draw_connectivity_row(ax, row, mean_row=None):
    """One prediction's gradient norms by distance (scaled by their largest), on a log scale, with the
    model's average (scaled the same way) dashed; returns ``{"row", "mean"}`` (animated)."""
    d = np.arange(len(row))
    (line,) = ax.semilogy(d, _scaled(row), color="tab:purple", lw=2, label="this prediction")
    line.set_animated(True)
    out = {"row": line}
    if mean_row is not None:
        (m,) = ax.semilogy(
            d, _scaled(mean_row), color="0.4", ls="--", lw=1.5, label="average of 200 predictions"
        )
        m.set_animated(True)
        out["mean"] = m
    ax.set_ylim(1e-5, 1.5)
    ax.set_xlim(0, len(row) - 1)
    ax.set_xlabel("distance d (characters back)")
    ax.set_ylabel("gradient norm / its largest")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper right", fontsize="small")
    return out


def _scaled(row):
    row = np.asarray(row, dtype=np.float64)
    top = row.max()
    return np.maximum(row / top if top > 0 else row, 1e-12)


# ------------------------------------------------------------------------------- explorers

_NO_FEATURE = "(the slider chooses)"


def _check_models(models, what):
    if not isinstance(models, dict) or not models:
        raise TypeError(f"{what} must be a non-empty dict {{cell: ...}}, got {type(models).__name__}")
    bad = [c for c in models if c not in CELL_NAMES]
    if bad:
        raise ValueError(f"{what} keys must be among {list(CELL_NAMES)}, got {bad}")


class UnitExplorer(Explorer):
    """Pick a model, a quantity (``h``, ``c`` or a gate) and a unit, or let "best unit for" pick the
    unit: the excerpt coloured by that unit, and bars of its correlation with every feature.

    ``state``: ``model``, ``quantity``, ``unit``, ``values (L,)`` on the excerpt, ``r (7,)`` with
    each feature on the whole held-out text, ``top_feature`` (largest ``|r|``) and ``auc`` (its AUC,
    sign-corrected; None for the position in the line), ``html``,
    ``best`` (the ``BestUnit`` of each feature for this model and quantity)."""

    def __init__(self, traces, excerpt, model="lstm", quantity="h", unit=None):
        _check_models(traces, "traces")
        for cell, pair in traces.items():
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(t, I.Trace) for t in pair)):
                raise TypeError(f"traces[{cell!r}] must be a pair (fit Trace, test Trace)")
        self.traces = traces
        self.start, self.stop = excerpt
        test = next(iter(traces.values()))[1]
        if not 0 <= self.start < self.stop <= len(test):
            raise ValueError(f"excerpt must be (start, stop) within [0, {len(test)}], got {excerpt}")
        self.text = test.text[self.start : self.stop]
        self.features = I.text_features(test.text)
        self.best = {}  # (cell, quantity) -> {feature: BestUnit}
        self.tables = {}  # (cell, quantity) -> (7, H) correlations on the test text
        for cell, (fit, test) in traces.items():  # all at once, so that no redraw waits for them
            for q in test.values:
                self.best[cell, q] = I.best_units(fit, test, q)
                self.tables[cell, q] = np.array(
                    [I.correlations(test.values[q], self.features[f]) for f in I.FEATURES]
                )
        model = model if model in traces else next(iter(traces))
        H = traces[model][1].hidden_dim
        feature_options = [(_NO_FEATURE, "")] + [(I.FEATURE_NAMES[f], f) for f in I.FEATURES]
        controls = {
            "model": widgets.ToggleButtons(
                options=[(CELL_NAMES[c], c) for c in traces], value=model, description="model"
            ),
            "quantity": widgets.Dropdown(
                options=self._quantity_options(model), value=quantity, description="quantity"
            ),
            "unit": _slider("int", 0 if unit is None else unit, 0, H - 1, 1, "unit"),
            "best_for": widgets.Dropdown(options=feature_options, value="", description="best unit for"),
        }
        # these two observers run before the explorer's own (registered after __init__)
        controls["model"].observe(self._model_changed, names="value")
        controls["best_for"].observe(self._best_for_changed, names="value")
        self.html = widgets.HTML(layout=widgets.Layout(width="100%"))

        def layout(fig):
            return {"bars": fig.add_subplot(1, 1, 1)}

        super().__init__(controls, (6.4, 2.8), layout, extra=[self.html])
        self.defaults = self.values()

    @staticmethod
    def _quantity_options(cell):
        return [(QUANTITY_NAMES[q], q) for q in I.QUANTITIES[cell]]

    # The two observers below change another control; the explorer's own observer (which runs after
    # them) then redraws once, so they mute the redraws their own changes would cause.
    def _model_changed(self, change):
        q = self.controls["quantity"]
        keep = q.value if q.value in I.QUANTITIES[change["new"]] else "h"
        muted, self._muted = self._muted, True
        try:
            q.options = self._quantity_options(change["new"])
            q.value = keep
        finally:
            self._muted = muted

    def _best_for_changed(self, change):
        f = change["new"]
        if f:
            b = self.best_for(self.controls["model"].value, self.controls["quantity"].value)[f]
            muted, self._muted = self._muted, True
            try:
                self.controls["unit"].value = b.unit
            finally:
                self._muted = muted

    def best_for(self, cell, quantity):
        return self.best[cell, quantity]

    def _range(self, cell, quantity, unit):
        return color_range(quantity, self.traces[cell][1].values[quantity][:, unit])

    def _auc(self, cell, quantity, unit, feature, sign):
        x = self.traces[cell][1].values[quantity][:, unit]
        return I.auc(sign * x, self.features[feature])

    def compute(self, model, quantity, unit, best_for):
        if model not in self.traces:
            raise ValueError(f"model must be one of {list(self.traces)}, got {model!r}")
        test = self.traces[model][1]
        if quantity not in test.values:
            raise ValueError(f"quantity must be one of {list(test.values)} for a {model}, got {quantity!r}")
        values = test.values[quantity][self.start : self.stop, unit]
        r = self.tables[model, quantity][:, unit]
        k = int(np.argmax(np.abs(r)))
        top = I.FEATURES[k]
        y = self.features[top]
        a = None
        if y.dtype == bool and 0 < y.sum() < len(y):
            a = self.cached(self._auc, model, quantity, unit, top, 1 if r[k] >= 0 else -1)
        lo, hi, kind = self.cached(self._range, model, quantity, unit)
        label = f"{CELL_NAMES[model]}, {QUANTITY_NAMES[quantity]}, unit {unit}: " + (
            "white 0 .. green 1" if kind == "sequential" else f"blue {lo:.2g} .. white .. red {hi:.2g}"
        )
        return {
            "model": model,
            "quantity": quantity,
            "unit": unit,
            "values": values,
            "r": r,
            "auc": a,
            "top_feature": top,
            "html": colored_text_html(self.text, values, lo, hi, kind, label=label),
            "best": self.best_for(model, quantity),
        }

    def draw(self, s):
        ax = self.axes["bars"]
        self.artists.update(draw_feature_bars(ax, s["r"]))
        self.fig.subplots_adjust(left=0.36, right=0.97, bottom=0.2, top=0.95)
        self.html.value = s["html"]

    def update(self, s):
        update_feature_bars(self.artists, s["r"])
        self.html.value = s["html"]
        return False

    def key_numbers(self, s):
        f = s["top_feature"]
        lines = [
            f"{CELL_NAMES[s['model']]}, {s['quantity']}, unit {s['unit']}",
            f"closest feature: {I.FEATURE_NAMES[f]}",
            f"r = {s['r'][I.FEATURES.index(f)]:+.2f}",
        ]
        if s["auc"] is not None:
            lines.append(f"AUC = {s['auc']:.2f}")
        best = [I.FEATURE_NAMES[g] for g, b in s["best"].items() if b.unit == s["unit"]]
        if best:
            lines.append("best unit for: " + ", ".join(best))
        return lines


def unit_explorer(traces, excerpt, model="lstm", quantity="h", unit=None):
    """Lesson 10: what one unit of a trained character model does over real text.

    ``traces``: ``{cell: (fit, test)}``, two ``rnncourse.interpret.Trace`` of each model (units are
    chosen on ``fit`` and measured on ``test``); ``excerpt``: ``(start, stop)``, the part of the test
    text to colour. Controls ``model``, ``quantity``, ``unit``, ``best_for``."""
    return UnitExplorer(traces, excerpt, model, quantity, unit)


class ConnectivityExplorer(Explorer):
    """Pick a model and a position ``t``: the characters before ``t`` coloured by how strongly the
    prediction of ``text[t + 1]`` reacts to them (gradient norm), and the same numbers by distance.

    ``state``: ``model``, ``t``, ``row (window,)``, ``p_next`` (the model's probability of the true
    next character), ``half_within`` (the smallest d such that distances 0..d hold half of the row's
    sum), ``html``."""

    def __init__(self, models, excerpt, window=64, model="lstm", t=None, mean_rows=None):
        _check_models(models, "models")
        self.models = models  # {cell: (SequenceModel, vocab, test Trace)}
        self.window = int(window)
        self.start, self.stop = excerpt
        tr = next(iter(models.values()))[2]
        self.text = tr.text
        lo, hi = max(self.start, self.window - 1), min(self.stop, len(tr.text)) - 2
        if lo > hi:
            raise ValueError(f"excerpt {excerpt} leaves no position for a window of {self.window}")
        model = model if model in models else next(iter(models))
        self.mean_rows = mean_rows or {}
        controls = {
            "model": widgets.ToggleButtons(
                options=[(CELL_NAMES[c], c) for c in models], value=model, description="model"
            ),
            "t": _slider("int", hi if t is None else t, lo, hi, 1, "position t"),
        }
        self.html = widgets.HTML(layout=widgets.Layout(width="100%"))

        def layout(fig):
            return {"row": fig.add_subplot(1, 1, 1)}

        super().__init__(controls, (6.4, 2.6), layout, extra=[self.html])
        self.defaults = self.values()

    def _row(self, cell, t):
        m, vocab, tr = self.models[cell]
        return I.connectivity(m, vocab, tr, np.array([t]), self.window)[0]

    def compute(self, model, t):
        if model not in self.models:
            raise ValueError(f"model must be one of {list(self.models)}, got {model!r}")
        row = self.cached(self._row, model, t)
        tr = self.models[model][2]
        nxt = self.text[t + 1]
        csum = np.cumsum(row)
        return {
            "model": model,
            "t": t,
            "row": row,
            "next_char": nxt,
            "p_next": float(np.exp(tr.log_prob[t])),
            "half_within": int(np.searchsorted(csum, 0.5 * csum[-1])),
            "html": connectivity_html(self.text, t, row, nxt),
        }

    def draw(self, s):
        ax = self.axes["row"]
        mean = self.mean_rows.get(s["model"])
        self.artists.update(draw_connectivity_row(ax, s["row"], mean))
        self.fig.subplots_adjust(left=0.13, right=0.97, bottom=0.2, top=0.95)
        self.html.value = s["html"]

    def update(self, s):
        self.artists["row"].set_ydata(_scaled(s["row"]))
        if "mean" in self.artists and s["model"] in self.mean_rows:
            self.artists["mean"].set_ydata(_scaled(self.mean_rows[s["model"]]))
        self.html.value = s["html"]
        return False

    def key_numbers(self, s):
        return [
            f"{CELL_NAMES[s['model']]}, position t = {s['t']}",
            f"next character: {s['next_char']!r}",
            f"its probability: {s['p_next']:.2f}",
            f"half the gradient within d <= {s['half_within']}",
        ]


def connectivity_explorer(models, excerpt, window=64, model="lstm", t=None, mean_rows=None):
    """Lesson 10: which earlier characters a prediction of a trained model reacts to.

    ``models``: ``{cell: (SequenceModel, CharVocab, Trace of the text)}``; ``excerpt``: ``(start,
    stop)``, the positions the slider ``t`` can take; ``mean_rows``: ``{cell: (window,)}`` averages
    drawn dashed (e.g. from ``rnncourse.interpret.distance_profile``). Controls ``model``, ``t``."""
    return ConnectivityExplorer(models, excerpt, window, model, t, mean_rows)
