"""The explorer framework: controls -> ``compute`` -> ``draw``/``update`` -> one PNG in an Image.

An explorer is three parts, kept apart on purpose:

1. **compute**: pure functions from ``rnncourse.diagnostics`` (or the core) turn the control values
   into numbers, kept in ``explorer.state`` (a dict) so tests and notebook cells can assert on
   exactly what is shown. Work that does not depend on a control is done once in ``__init__``;
   work that is slow goes through ``self.cached(fn, *args)`` (one LRU cache per explorer).
2. **draw/update**: functions from ``rnncourse.viz.plots`` draw on the explorer's axes once
   (``draw``), and their ``update_*`` partners change the artists' data afterwards (``update``).
3. **glue** (this module): the controls, one ``matplotlib.figure.Figure`` (``Figure()`` with an Agg
   canvas, never pyplot, so nothing leaks into a cell's output), an ``ipywidgets.Image`` that
   receives the PNG bytes, and a text panel beside it with the key numbers (``key_numbers``), which
   screen readers can read and which stays sharp on any screen.

Writing an explorer: subclass ``Explorer``; in ``__init__`` set your attributes and call
``super().__init__(controls, figsize, layout)`` in any order: the first ``compute``/``draw`` runs
only after your ``__init__`` has returned. Implement ``compute(**values) -> dict``, ``draw(state)``
(first drawing; fills ``self.artists``), ``update(state) -> bool`` (change artists; True asks for a
full redraw, e.g. when an axis range changed) and ``key_numbers(state) -> list of str``.

Why it is fast and does not flicker: the figure is never rebuilt. The static parts (axes, ticks,
labels, legends) are drawn once and kept as a bitmap; on a control change only the *animated*
artists are painted over a copy of it (blitting), the pixels are PNG-encoded and swapped into the
``Image`` widget in one go. ``explorer.timings`` keeps the seconds of every update (compute + draw
+ encode); ``benchmarks/bench_widgets.py`` reports them.

Controls. Every slider comes with a number box beside it that carries the same name as a real
HTML label (a slider handle has no accessible name of its own in ipywidgets 8, a labelled input
does), so screen readers announce "spectral radius of Wh, 0.9". Float sliders keep their value on
their grid ``min + k * step`` (see ``GridFloatSlider``), so no label ever shows float noise.
``explorer.reset()`` puts every control back to its default with one redraw.
"""

from __future__ import annotations

import html
import io
import time
from collections import OrderedDict, deque

import ipywidgets as widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage
from traitlets import observe, validate

from . import style

__all__ = ["Explorer", "GridFloatSlider", "slider", "text_box", "png_bytes", "DPI"]

DPI = 90
CONTROL_WIDTH = 380  # pixels of one slider (times the demo-mode scale)


def png_bytes(canvas):
    """The canvas' current pixels as PNG bytes (fast zlib level: speed over a few KB)."""
    w, h = canvas.get_width_height(physical=True)
    img = PILImage.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


# --------------------------------------------------------------------------- controls


class GridFloatSlider(widgets.FloatSlider):
    """A ``FloatSlider`` whose value is always a point of its grid ``min + k * step``.

    Why: the browser's slider (noUiSlider) computes its positions through percentages, so when
    the kernel sets ``0.0`` on a slider from -3 to 6 it lands on ``-4.44e-16`` and, with
    ``continuous_update``, sends that value back; a label printed from it reads ``-4.44089e-16``.
    Worse, when a notebook cell sets several values quickly (1.0, then 1.1, then 6.0), the echo of
    an early one (``1.0000000000000002``) arrives after the last and silently moves the control
    back. This slider (1) rounds every value it receives to its grid, so a value off the grid by
    rounding noise is the grid value itself and fires no update, and (2) drops a noisy value from
    the browser that equals a value the kernel itself set *earlier* (a late echo), and re-sends its
    current value so the browser shows it again. A learner's own moves are never dropped: they
    only look like an echo if they land, with noise, on a value the kernel set within its last
    ``len(_sent)`` changes and the browser never echoed (possible only if the slider was not on
    screen at the time); then one move is ignored.
    """

    def __init__(self, *args, **kwargs):
        self._sent = deque(maxlen=8)  # values the kernel set whose echo has not come back
        self._from_browser = False
        super().__init__(*args, **kwargs)

    def snap(self, v):
        """``v`` moved to the nearest grid point in ``[min, max]`` (rounded to 10 decimals)."""
        k = round((float(v) - self.min) / self.step)
        g = round(self.min + k * self.step, 10)
        return min(max(g, self.min), self.max)

    @validate("value")
    def _validate_value(self, proposal):
        return self.snap(proposal["value"])

    @observe("value")
    def _remember_kernel_values(self, change):
        if not self._from_browser:
            self._sent.append(change["new"])

    def set_state(self, sync_data):
        if "value" in sync_data:
            v = float(sync_data["value"])
            g = self.snap(v)
            sync_data = dict(sync_data)
            if g == self.value:  # noise around the current value: no change
                if g in self._sent:
                    self._sent.remove(g)
                del sync_data["value"]
            elif v != g and g in self._sent:  # a late echo of an earlier kernel value
                self._sent.remove(g)
                del sync_data["value"]
                self.send_state("value")  # show the current value in the browser again
            else:
                sync_data["value"] = g
            if not sync_data:
                return
        self._from_browser = True
        try:
            super().set_state(sync_data)
        finally:
            self._from_browser = False


def slider(kind, value, lo, hi, step, description, fmt=None, tooltip=None):
    """A float (``GridFloatSlider``) or int slider with the course's look. ``fmt`` is the readout
    format (by default as many decimals as ``step`` has)."""
    if kind not in ("float", "int"):
        raise ValueError(f"kind must be 'float' or 'int', got {kind!r}")
    cls = GridFloatSlider if kind == "float" else widgets.IntSlider
    kw = dict(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=description,
        continuous_update=True,
        style={"description_width": "initial"},
        layout=widgets.Layout(width=f"{CONTROL_WIDTH}px"),
    )
    if kind == "float":
        kw["readout_format"] = fmt or f".{_decimals(step)}f"
    if tooltip:
        kw["tooltip"] = tooltip
    return cls(**kw)


def _decimals(step):
    s = f"{step:.10f}".rstrip("0")
    return max(1, len(s.split(".")[1])) if "." in s else 1


def _number_box(w):
    """A labelled input paired with slider ``w`` (kept in sync both ways), or None if ``w`` is not
    a slider. Its label is the slider's description, hidden visually (zero width) but read aloud."""
    label = dict(
        description=w.description, style={"description_width": "0px"}, layout=widgets.Layout(width="80px")
    )
    if isinstance(w, widgets.FloatSlider):
        box = widgets.BoundedFloatText(value=w.value, min=w.min, max=w.max, step=w.step, **label)
    elif isinstance(w, widgets.IntSlider):
        box = widgets.BoundedIntText(value=w.value, min=w.min, max=w.max, step=w.step, **label)
    elif isinstance(w, widgets.SelectionSlider):
        box = widgets.Dropdown(options=w.options, value=w.value, **label)
    else:
        return None
    widgets.link((w, "value"), (box, "value"))
    return box


def text_box(ax, x=0.02, y=0.97, ha="left", va="top", fontsize=9):
    """An empty animated text box in axes coordinates, for the key numbers inside the figure."""
    t = ax.text(
        x,
        y,
        "",
        transform=ax.transAxes,
        va=va,
        ha=ha,
        fontsize=fontsize,
        bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="0.7", alpha=0.9),
    )
    t.set_animated(True)
    return t


# --------------------------------------------------------------------------- the framework


class _StartAfterInit(type(widgets.VBox)):
    """Runs ``Explorer._start`` (first compute and draw) after the whole ``__init__`` chain, so a
    subclass may call ``super().__init__()`` before or after setting its own attributes."""

    def __call__(cls, *args, **kwargs):
        obj = super().__call__(*args, **kwargs)
        obj._start()
        return obj


class Explorer(widgets.VBox, metaclass=_StartAfterInit):
    """Base class: controls on top, the figure with its key numbers below, one update path.

    Attributes: ``controls`` (name -> widget; setting ``.value`` from code runs the same update as
    the slider), ``defaults`` (name -> the value each control started at), ``state`` (the numbers
    last computed), ``fig``, ``axes`` (name -> Axes), ``artists``, ``image`` (the Image widget),
    ``png`` (its bytes), ``numbers`` (the HTML panel of key numbers), ``timings`` (seconds per
    update).
    """

    cache_size = 512

    def __init__(self, controls, figsize, layout_fn, title=None, extra=None):
        self.controls = dict(controls)
        self.defaults = {name: w.value for name, w in self.controls.items()}
        self.state = {}
        self.artists = {}
        self.timings = []
        self.png = b""
        self._cache = OrderedDict()
        self._muted = False
        self._figsize = tuple(figsize)
        self.fig = Figure(figsize=self._figsize, dpi=DPI * style.scale())
        FigureCanvasAgg(self.fig)
        self.axes = layout_fn(self.fig)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.numbers = widgets.HTML(layout=widgets.Layout(min_width="170px", margin="0 0 0 8px"))
        self._background = None
        self.boxes = {}
        rows = []
        for name, w in self.controls.items():
            box = _number_box(w)
            if box is not None:
                self.boxes[name] = box
            rows.append(widgets.HBox([w] + ([box] if box is not None else [])))
        pairs = [widgets.HBox(rows[i : i + 2]) for i in range(0, len(rows), 2)]
        header = [widgets.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        # the key numbers wrap below the picture on a narrow screen instead of being cut off
        picture = widgets.HBox([self.image, self.numbers], layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__(header + pairs + list(extra or []) + [picture])

    def _start(self):
        self.state = self.compute(**self.values())
        self.draw(self.state)
        self._render(full=True)
        self._show_numbers(self.state)
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        style._register(self)

    # -- to implement -------------------------------------------------------------------------
    def compute(self, **values):
        raise NotImplementedError

    def draw(self, state):
        raise NotImplementedError

    def update(self, state):
        raise NotImplementedError

    def key_numbers(self, state):
        """The numbers a learner should read off the picture, one short line each (plain text)."""
        return []

    # -- machinery -----------------------------------------------------------------------------
    def values(self):
        return {name: w.value for name, w in self.controls.items()}

    def cached(self, fn, *args):
        """``fn(*args)``, remembered per explorer (least recently used first out, ``cache_size``
        entries). Float arguments are rounded to 9 decimals for the key, so 0.30000000000000004
        and 0.3 share one entry; ``fn`` receives the rounded values."""
        args = tuple(round(a, 9) if isinstance(a, float) else a for a in args)
        key = (fn.__name__,) + args
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        out = fn(*args)
        self._cache[key] = out
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out

    def _on_change(self, change):
        if not self._muted:
            self.refresh()

    def refresh(self):
        """Recompute from the current control values and redraw (what every control change does)."""
        t0 = time.perf_counter()
        self.state = self.compute(**self.values())
        full = bool(self.update(self.state))
        self._render(full)
        self._show_numbers(self.state)
        self.timings.append(time.perf_counter() - t0)

    def reset(self):
        """Every control back to its default value, then one redraw. Returns the explorer."""
        self._muted = True
        try:
            for name, w in self.controls.items():
                w.value = self.defaults[name]
        finally:
            self._muted = False
        self.refresh()
        return self

    def _show_numbers(self, state):
        size = 100 * style.scale()
        lines = "".join(f"<div>{html.escape(s)}</div>" for s in self.key_numbers(state))
        self.numbers.value = f'<div style="font-size:{size:.0f}%; line-height:1.5">{lines}</div>'

    def _apply_scale(self):
        """Demo mode changed: same figure at the new pixel density, text panel at the new size."""
        self.fig.set_dpi(DPI * style.scale())
        self._render(full=True)
        self._show_numbers(self.state)

    def _animated(self):
        return [a for a in self.fig.findobj(lambda a: a.get_animated()) if a is not self.fig]

    def _render(self, full=False):
        canvas = self.fig.canvas
        if full or self._background is None:
            canvas.draw()  # static parts only (animated excluded)
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._anim = self._animated()
        else:
            canvas.restore_region(self._background)
        for a in self._anim:
            if a.get_visible():
                (a.axes or self.fig).draw_artist(a)
        self.png = png_bytes(canvas)
        self.image.value = self.png
