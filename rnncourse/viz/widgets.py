"""The lessons' interactive explorers: one builder function per explorer.

Every explorer is three parts, kept apart on purpose:

1. a **compute** step: pure functions from ``rnncourse.diagnostics`` (or the core) turn the
   control values into numbers, stored in ``explorer.state`` (a dict) so tests and notebook cells
   can assert on exactly what is shown; anything that does not depend on a control is computed
   once when the explorer is built, and results that are expensive are cached per control value;
2. a **plot** step: functions from ``rnncourse.viz.plots`` draw on the explorer's axes once, and
   their ``update_*`` partners change the artists' data afterwards;
3. the **glue** here: sliders, one ``matplotlib.figure.Figure`` per explorer (created with
   ``Figure()`` and an Agg canvas, never pyplot, so nothing leaks into the cell output), and an
   ``ipywidgets.Image`` that receives the rendered PNG bytes.

Why it is fast and does not flicker: the figure is never rebuilt. The static parts (axes, ticks,
labels, legends) are drawn once and cached as a bitmap; on a slider change only the *animated*
artists are painted over a copy of that bitmap (blitting), then the pixels are PNG-encoded and
swapped into the ``Image`` widget, which replaces its picture in one go. A full redraw happens only
when an axis range must change. ``explorer.timings`` keeps the seconds each update took (compute +
draw + encode), which ``benchmarks/bench_widgets.py`` reports.

Each builder returns an ``Explorer`` (an ``ipywidgets.VBox``): display it as the last expression of
a cell. Its attributes: ``controls`` (name -> widget), ``state`` (last computed numbers), ``fig``,
``axes`` (name -> Axes), ``artists``, ``image`` (the ``Image`` widget), ``png`` (last bytes).
Setting ``explorer.controls["radius"].value = 1.2`` from code runs the same callback a slider does.
"""
from __future__ import annotations

import io
import time
from functools import lru_cache

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from .. import diagnostics as dg
from ..nn import predict, softmax
from . import plots

__all__ = ["Explorer", "LiveLossPlot", "hidden_state_explorer", "training_explorer", "bptt_explorer",
           "jacobian_explorer", "clipping_explorer", "png_bytes"]

DPI = 90


def png_bytes(canvas):
    """The canvas' current pixels as PNG bytes (fast zlib level: speed over a few KB)."""
    w, h = canvas.get_width_height(physical=True)
    img = PILImage.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()


def _slider(kind, value, lo, hi, step, description, continuous=True, fmt=None):
    cls = {"float": widgets.FloatSlider, "int": widgets.IntSlider}[kind]
    kw = dict(value=value, min=lo, max=hi, step=step, description=description,
              continuous_update=continuous, style={"description_width": "initial"},
              layout=widgets.Layout(width="420px"))
    if fmt:
        kw["readout_format"] = fmt
    return cls(**kw)


class Explorer(widgets.VBox):
    """Base class: controls on top, the figure below, one update path for every control.

    Subclasses implement ``compute(**values) -> dict``, ``draw(state)`` (first drawing; fills
    ``self.artists``) and ``update(state) -> bool`` (change artists; return True when a full redraw
    is needed, e.g. because an axis range changed).
    """

    def __init__(self, controls, figsize, layout_fn, title=None, extra=None):
        self.controls = dict(controls)
        self.state = {}
        self.artists = {}
        self.timings = []
        self.png = b""
        self.fig = Figure(figsize=figsize, dpi=DPI)
        FigureCanvasAgg(self.fig)
        self.axes = layout_fn(self.fig)
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self._background = None
        rows = [widgets.HBox(list(self.controls.values())[i:i + 2]) for i in range(0, len(self.controls), 2)]
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        super().__init__(header + rows + list(extra or []) + [self.image])
        self.state = self.compute(**self.values())
        self.draw(self.state)
        self._render(full=True)
        for w in self.controls.values():
            w.observe(self._on_change, names="value")

    # -- to implement -------------------------------------------------------------------------
    def compute(self, **values):
        raise NotImplementedError

    def draw(self, state):
        raise NotImplementedError

    def update(self, state):
        raise NotImplementedError

    # -- machinery -----------------------------------------------------------------------------
    def values(self):
        return {name: w.value for name, w in self.controls.items()}

    def _on_change(self, change):
        self.refresh()

    def refresh(self):
        """Recompute from the current control values and redraw (what every slider change does)."""
        t0 = time.perf_counter()
        self.state = self.compute(**self.values())
        full = bool(self.update(self.state))
        self._render(full)
        self.timings.append(time.perf_counter() - t0)

    def _animated(self):
        return [a for a in self.fig.findobj(lambda a: a.get_animated()) if a is not self.fig]

    def _render(self, full=False):
        canvas = self.fig.canvas
        if full or self._background is None:
            canvas.draw()                                  # static parts only (animated excluded)
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._anim = self._animated()
        else:
            canvas.restore_region(self._background)
        for a in self._anim:
            if a.get_visible():
                (a.axes or self.fig).draw_artist(a)
        self.png = png_bytes(canvas)
        self.image.value = self.png

    def render_png(self, path=None):
        """The current picture as PNG bytes (also written to ``path`` if given)."""
        if path is not None:
            with open(path, "wb") as f:
                f.write(self.png)
        return self.png


def _text(ax, x=0.02, y=0.97, ha="left", **kw):
    t = ax.text(x, y, "", transform=ax.transAxes, va="top", ha=ha, fontsize=9,
                bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="0.7", alpha=0.9), **kw)
    t.set_animated(True)
    return t


# ============================================================================ lesson 1

class HiddenStateExplorer(Explorer):
    """Lesson 1: feed a sequence one step at a time and watch ``h_t`` evolve."""

    def __init__(self, H=12, T=30, seed=0):
        self.H, self.T = H, T
        rng = np.random.default_rng(seed)
        self.Wx = rng.normal(size=(1, H))                   # one input feature -> H units
        self.b = np.zeros(H)
        self._Wh_unit = dg.recurrent_matrix(H, 1.0, "normal", rng)   # rescaled by the slider
        self._noise = rng.normal(size=T)
        self._compute_states = lru_cache(maxsize=256)(self._states)
        controls = {
            "radius": _slider("float", 0.9, 0.0, 2.0, 0.05, "spectral radius of Wh"),
            "input_scale": _slider("float", 1.0, 0.0, 3.0, 0.1, "input scale"),
            "pattern": widgets.Dropdown(options=["pulse", "sine", "noise"], value="pulse",
                                        description="input", layout=widgets.Layout(width="200px")),
            "t": _slider("int", T, 1, T, 1, "steps fed t"),
        }
        self.play = widgets.Play(value=T, min=1, max=T, step=1, interval=250, description="play")
        widgets.jslink((self.play, "value"), (controls["t"], "value"))

        def layout(fig):
            gs = fig.add_gridspec(2, 4, width_ratios=(2.1, 0.05, 0.5, 1), height_ratios=(1, 2.4),
                                  left=0.07, right=0.97, bottom=0.13, top=0.93, wspace=0.05, hspace=0.12)
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
        return (input_scale * x)[:, None]                    # (T, 1)

    def _states(self, radius, input_scale, pattern):
        x = self.inputs(pattern, input_scale)
        Wh = self._Wh_unit * radius
        h = dg.run_rnn(x, self.Wx, Wh, self.b)
        h.setflags(write=False)
        return x, Wh, h

    def compute(self, radius, input_scale, pattern, t):
        x, Wh, h = self._compute_states(round(radius, 6), round(input_scale, 6), pattern)
        norms = np.linalg.norm(h, axis=1)
        return {"x": x, "Wh": Wh, "h": h, "t": t, "h_t": h[t - 1], "state_norms": norms,
                "radius": dg.spectral_radius(Wh), "saturation": dg.saturation_fraction(h[:t])}

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
        self.artists["text"] = _text(ax["norm"], 0.03, 0.97)
        self._set_text(s)

    def _set_text(self, s):
        self.artists["text"].set_text(f"t = {s['t']}\n$\\|h_t\\|$ = {s['state_norms'][s['t'] - 1]:.3f}\n"
                                      f"saturated: {100 * s['saturation']:.0f}%")

    def update(self, s):
        plots.update_input_trace(self.artists["input"], s["x"], s["t"])
        plots.update_hidden_heatmap(self.artists["heatmap"], s["h"], s["t"])
        plots.update_state_norm(self.artists["norm"], s["state_norms"], s["t"])
        self._set_text(s)
        return False


def hidden_state_explorer(H=12, T=30, seed=0):
    """Lesson 1: ``h_t = tanh(x_t Wx + h_{t-1} Wh + b)`` fed one step at a time.

    Controls: ``radius`` (spectral radius of ``Wh``; 0 switches the recurrence off),
    ``input_scale``, ``pattern`` ("pulse": three steps of input then silence, "sine", "noise") and
    ``t`` (how many steps have been fed). State: ``x (T, 1)``, ``h (T, H)``, ``h_t``,
    ``state_norms (T,)``, ``radius``, ``saturation``.
    """
    return HiddenStateExplorer(H, T, seed)


# ============================================================================ lessons 0 and 2

class TrainingExplorer(Explorer):
    """Lessons 0 and 2: scrub through a training run and see the predictions improve."""

    def __init__(self, history, snapshots, task, n_examples=8, seed=123):
        self.history = history
        self.snapshots = list(snapshots)
        self.task = task
        self.batch = task.sample(n_examples, np.random.default_rng(seed))
        self.steps = np.asarray(history.step) + 1                # updates made after each logged step
        self.loss = np.asarray(history.loss)
        # Predictions of every snapshot on the fixed batch, computed once: the slider only picks one.
        self.predictions = [self._readout(m) for _, m in self.snapshots]
        snap_steps = [s for s, _ in self.snapshots]
        controls = {
            "snapshot": widgets.SelectionSlider(options=[(str(s), i) for i, s in enumerate(snap_steps)],
                                                value=len(snap_steps) - 1, description="after step",
                                                continuous_update=True, layout=widgets.Layout(width="420px")),
            "example": _slider("int", 0, 0, n_examples - 1, 1, "example sequence"),
        }

        def layout(fig):
            a1, a2 = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=(1, 1.5)))
            fig.subplots_adjust(left=0.09, right=0.98, bottom=0.14, top=0.9, wspace=0.22)
            return {"loss": a1, "pred": a2}

        super().__init__(controls, (10, 3.8), layout)

    def _readout(self, model):
        scores = predict(model, self.batch.x)
        if self.task.loss == "mse":
            return scores[..., 0]
        p = softmax(scores, axis=-1)
        if p.shape[-1] == 2:
            return p[..., 1]                                   # probability of class 1
        return np.take_along_axis(p, self.batch.y[..., None], axis=-1)[..., 0]

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
        on = mask > 0
        if self.task.loss == "mse":
            err = float(np.mean((pred[on] - target[on]) ** 2))
        else:
            err = float(np.mean(np.abs(pred[on] - target[on]) > 0.5)) if self.task.output_dim == 2 \
                else float(np.mean(pred[on] < 0.5))
        return {"step": step, "example": example, "pred": pred, "target": target, "mask": mask,
                "error": err}

    def draw(self, s):
        ax = self.axes
        chance = None
        self.artists["loss"] = plots.draw_loss_curve(ax["loss"], self.steps, self.loss, chance=chance,
                                                     at=max(s["step"], 1))
        ax["loss"].set_title("loss summed over time (batch mean)", fontsize=10)
        mse = self.task.loss == "mse"
        ylabel = "value" if mse else ("P(class 1)" if self.task.output_dim == 2 else "P(correct)")
        self.artists["pred"] = plots.draw_predictions(ax["pred"], s["target"], s["pred"], s["mask"],
                                                      ylabel=ylabel)
        if mse:
            lo = min(np.nanmin(self.batch.y), np.nanmin([p.min() for p in self.predictions]))
            hi = max(np.nanmax(self.batch.y), np.nanmax([p.max() for p in self.predictions]))
            pad = 0.1 * (hi - lo + 1e-9)
            ax["pred"].set_ylim(max(lo - pad, -3), min(hi + pad, 3))
        else:
            ax["pred"].set_ylim(-0.05, 1.15)
        ax["pred"].set_title(f"task '{self.task.name}': one sequence, target vs model", fontsize=10)
        self.artists["text"] = _text(ax["pred"], 0.02, 0.04)
        self.artists["text"].set_va("bottom")
        self._set_text(s)

    def _set_text(self, s):
        what = "mean squared error" if self.task.loss == "mse" else "wrong steps"
        self.artists["text"].set_text(f"after {s['step']} steps: {what} {s['error']:.3f}")

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


# ============================================================================ lesson 3

class BPTTExplorer(Explorer):
    """Lesson 3: full vs truncated BPTT, step by step."""

    def __init__(self, T=30, H=10, D=3, seed=0):
        self.T, self.H, self.D = T, H, D
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(1, T, D))
        self.Wx = rng.normal(scale=0.5, size=(D, H))
        self.b = np.zeros(H)
        self._Wh_unit = dg.recurrent_matrix(H, 1.0, "normal", rng)
        self._dh_every = rng.normal(size=(1, T, H))
        self._trace = lru_cache(maxsize=512)(self._trace_uncached)
        controls = {
            "k": _slider("int", T, 1, T, 1, "truncation window k"),
            "radius": _slider("float", 1.0, 0.3, 1.8, 0.05, "spectral radius of Wh"),
            "loss_at": widgets.ToggleButtons(options=["last step", "every step"], value="last step",
                                             description="loss at"),
        }

        # Fixed y-ranges (so curves can be compared while a slider moves): the extremes of full BPTT
        # over every radius the slider offers, computed once here; this also fills the cache.
        r = controls["radius"]
        radii = np.round(np.arange(r.min, r.max + r.step / 2, r.step), 6)
        g, terms = [], []
        for loss_at in controls["loss_at"].options:
            for radius in radii:
                tr = self._trace(float(radius), loss_at, T)
                g.append(np.linalg.norm(tr.dh_total[:, 0], axis=-1))
                terms.append(np.linalg.norm(tr.dWh_terms, axis=(1, 2)))
        self._ranges = (np.concatenate(g), np.concatenate(terms))

        def layout(fig):
            a1, a2 = fig.subplots(1, 2)
            fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.3)
            for ax, v in zip((a1, a2), self._ranges):
                ax.set_yscale("log")
                ax.set_ylim(1e-300, 1e300)            # so that set_log_ylim fits from scratch
                plots.set_log_ylim(ax, v, lo_floor=1e-16, pad_decades=0)
            return {"grad": a1, "terms": a2}

        super().__init__(controls, (10, 3.8), layout)

    def dh(self, loss_at):
        if loss_at == "last step":
            dh = np.zeros((1, self.T, self.H))
            dh[0, -1] = self._dh_every[0, -1]
            return dh
        return self._dh_every

    def _trace_uncached(self, radius, loss_at, k):
        return dg.bptt_trace(self.x, self.Wx, self._Wh_unit * radius, self.b, self.dh(loss_at), k=k)

    def compute(self, k, radius, loss_at):
        radius = round(radius, 6)
        full = self._trace(radius, loss_at, self.T)
        trunc = self._trace(radius, loss_at, int(k))
        g_full = np.linalg.norm(full.dh_total[:, 0], axis=-1)
        g_trunc = np.linalg.norm(trunc.dh_total[:, 0], axis=-1)
        err = float(np.linalg.norm(trunc.dWh - full.dWh) / max(np.linalg.norm(full.dWh), 1e-300))
        return {"k": int(k), "radius": radius, "grad_full": g_full, "grad_trunc": g_trunc,
                "terms_full": np.linalg.norm(full.dWh_terms, axis=(1, 2)),
                "terms_trunc": np.linalg.norm(trunc.dWh_terms, axis=(1, 2)),
                "dWh_full": full.dWh, "dWh_trunc": trunc.dWh, "rel_error": err,
                "memory_ratio": dg.bptt_cache_floats(1, self.T, self.D, self.H, int(k))
                / dg.bptt_cache_floats(1, self.T, self.D, self.H)}

    def draw(self, s):
        ax = self.axes
        self.artists["grad"] = plots.draw_bptt_gradients(ax["grad"], s["grad_full"], s["grad_trunc"], s["k"],
                                                         ylim=ax["grad"].get_ylim())
        ax["grad"].set_title("gradient reaching each hidden state", fontsize=10)
        self.artists["terms"] = plots.draw_dWh_terms(ax["terms"], s["terms_full"], s["terms_trunc"],
                                                     ylim=ax["terms"].get_ylim())
        ax["terms"].set_title(r"each step's term of $dW_h = \sum_t h_{t-1}^\top da_t$", fontsize=10)
        self.artists["text"] = _text(ax["terms"], 0.02, 0.97)
        self._set_text(s)

    def _set_text(self, s):
        self.artists["text"].set_text(
            f"k = {s['k']}: relative error of $dW_h$ = {s['rel_error']:.2g}\n"
            f"forward states kept: {100 * s['memory_ratio']:.0f}% of full BPTT")

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


# ============================================================================ lesson 4

class JacobianExplorer(Explorer):
    """Lesson 4: ``||dh_T/dh_k||`` for every k, against spectral radius and saturation."""

    def __init__(self, T=100, H=32, seed=0):
        self.T, self.H = T, H
        rng = np.random.default_rng(seed)
        self.D = 4
        self.Wx = rng.normal(size=(self.D, H)) / np.sqrt(self.D)
        self.b = np.zeros(H)
        self._noise = rng.normal(size=(T, self.D))
        self._unit = {kind: dg.recurrent_matrix(H, 1.0, kind, np.random.default_rng(seed + 1))
                      for kind in ("normal", "orthogonal", "identity")}
        self._cached = lru_cache(maxsize=512)(self._compute_uncached)
        controls = {
            "radius": _slider("float", 1.0, 0.5, 2.0, 0.05, "spectral radius of Wh"),
            "input_scale": _slider("float", 0.0, 0.0, 2.0, 0.05, "input scale"),
            "init": widgets.ToggleButtons(options=["normal", "orthogonal", "identity"], value="normal",
                                          description="Wh shape"),
        }

        def layout(fig):
            a1, a2 = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=(1.5, 1)))
            fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.25)
            return {"norms": a1, "saturation": a2}

        super().__init__(controls, (10, 3.9), layout)

    def _compute_uncached(self, radius, input_scale, init):
        Wh = self._unit[init] * radius
        x = input_scale * self._noise
        # h0 = 0: with zero input the state stays exactly 0, every tanh' is 1 (the linear regime)
        h = dg.run_rnn(x, self.Wx, Wh, self.b)
        norms = dg.jacobian_norms(h, Wh)
        k = np.arange(self.T + 1)
        with np.errstate(over="ignore"):
            ref = dg.spectral_radius(Wh) ** (self.T - k).astype(float)
        return {"h": h, "Wh": Wh, "norms": norms, "reference": ref,
                "spectral_radius": dg.spectral_radius(Wh), "spectral_norm": dg.spectral_norm(Wh),
                "saturated": dg.saturation_per_step(h), "deriv": dg.mean_tanh_derivative(h),
                "saturation": dg.saturation_fraction(h)}

    def compute(self, radius, input_scale, init):
        s = dict(self._cached(round(radius, 6), round(input_scale, 6), init))
        s.update(radius=radius, input_scale=input_scale, init=init)
        return s

    def draw(self, s):
        ax = self.axes
        self.artists["norms"] = plots.draw_jacobian_norms(ax["norms"], s["norms"], s["reference"],
                                                          ylim=(1e-40, 1e40))
        ax["norms"].set_title(f"how much of step k reaches step T = {self.T}", fontsize=10)
        self.artists["saturation"] = plots.draw_saturation(ax["saturation"], s["saturated"], s["deriv"])
        ax["saturation"].set_title("tanh saturation along the sequence", fontsize=10)
        self.artists["text"] = _text(ax["norms"], 0.02, 0.97)
        self._set_text(s)

    def _set_text(self, s):
        self.artists["text"].set_text(
            f"$\\rho(W_h)$ = {s['spectral_radius']:.2f},  $\\|W_h\\|_2$ = {s['spectral_norm']:.2f}\n"
            f"$\\|\\partial h_T/\\partial h_0\\|$ = {s['norms'][0]:.2g}\n"
            f"saturated units: {100 * s['saturation']:.0f}%")

    def update(self, s):
        plots.update_jacobian_norms(self.artists["norms"], s["norms"], s["reference"])
        plots.update_saturation(self.artists["saturation"], s["saturated"], s["deriv"])
        self._set_text(s)
        return False


def jacobian_explorer(T=100, H=32, seed=0):
    """Lesson 4: ``||dh_T/dh_k||_2`` for ``k = 0..T`` on a log scale, next to the saturation of the
    hidden units. Controls: ``radius`` (spectral radius of ``Wh``), ``input_scale`` (size of the
    random inputs, which drive the units into saturation), ``init`` ("normal": a rescaled Gaussian
    matrix, "orthogonal", "identity"). State: ``norms (T+1,)``, ``reference`` (``rho**(T-k)``),
    ``spectral_radius``, ``spectral_norm``, ``saturated``, ``deriv`` (per step), ``saturation``."""
    return JacobianExplorer(T, H, seed)


class ClippingExplorer(Explorer):
    """Lesson 4: clipping by global norm keeps the direction, clipping by value turns it."""

    def __init__(self):
        controls = {
            "angle": _slider("float", 20.0, 0.0, 90.0, 1.0, "direction of g (degrees)"),
            "length": _slider("float", 6.0, 0.2, 10.0, 0.1, "length of g"),
            "threshold": _slider("float", 1.0, 0.2, 3.0, 0.1, "clipping threshold"),
        }

        def layout(fig):
            a1, a2 = fig.subplots(1, 2)
            fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.2)
            return {"full": a1, "zoom": a2}

        super().__init__(controls, (10, 4.6), layout)

    def compute(self, angle, length, threshold):
        a = np.radians(angle)
        g = length * np.array([np.cos(a), np.sin(a)])
        c = dg.compare_clipping(g, threshold)
        return {"g": g, "by_norm": c.by_norm, "by_value": c.by_value, "norm": c.norm,
                "angle_norm": c.angle_norm, "angle_value": c.angle_value, "threshold": threshold}

    def draw(self, s):
        ax = self.axes
        self.artists["full"] = plots.draw_clipping(ax["full"], s["g"], s["by_norm"], s["by_value"],
                                                   s["threshold"], lim=(-0.5, 10.5))
        ax["full"].set_title("the whole gradient", fontsize=10)
        self.artists["zoom"] = plots.draw_clipping(ax["zoom"], s["g"], s["by_norm"], s["by_value"],
                                                   s["threshold"], lim=(-0.2, 3.4))
        ax["zoom"].set_title("zoom on the clipped gradients", fontsize=10)
        self.artists["text"] = _text(ax["zoom"], 0.97, 0.03, ha="right")
        self.artists["text"].set_va("bottom")
        self._set_text(s)

    def _set_text(self, s):
        self.artists["text"].set_text(
            f"$\\|g\\|$ = {s['norm']:.2f}\n"
            f"turned by norm clipping: {s['angle_norm']:.1f}°\n"
            f"turned by value clipping: {s['angle_value']:.1f}°")

    def update(self, s):
        for name in ("full", "zoom"):
            plots.update_clipping(self.artists[name], s["g"], s["by_norm"], s["by_value"], s["threshold"])
        self._set_text(s)
        return False


def clipping_explorer():
    """Lesson 4: a 2-D gradient ``g`` (direction, length) clipped by global norm and by value at
    one threshold. State: ``g``, ``by_norm``, ``by_value``, ``norm``, ``angle_norm``,
    ``angle_value`` (degrees between ``g`` and each clipped version)."""
    return ClippingExplorer()


# ============================================================================ live loss plot

class LiveLossPlot(widgets.VBox):
    """A loss curve that redraws while ``train`` runs: pass it as ``callback``.

    ``live = LiveLossPlot(steps=300, chance=...)``; display ``live``; then
    ``train(model, task, steps=300, callback=live, callback_every=20)``. The x-axis spans the whole
    run from the start, so each update only moves the curve (and the y-range when needed).
    """

    def __init__(self, steps, chance=None, title="training loss (live)", ylabel="loss"):
        self.fig = Figure(figsize=(7, 3.2), dpi=DPI)
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

    def __call__(self, history):
        steps = np.asarray(history.step) + 1
        loss = np.asarray(history.loss)
        plots.update_loss_curve(self.artists, steps, loss, at=steps[-1])
        vals = loss if "chance" not in self.artists else np.r_[loss, self.artists["chance"].get_ydata()]
        plots.set_log_ylim(self.ax, vals, pad_decades=0)
        self.label.value = f"step {steps[-1]}: loss {loss[-1]:.4g}"
        self.updates += 1
        self._render()

    def _render(self):
        self.fig.canvas.draw()
        for a in self.fig.findobj(lambda a: a.get_animated()):
            if a is not self.fig and a.get_visible():
                a.axes.draw_artist(a)
        self.png = png_bytes(self.fig.canvas)
        self.image.value = self.png


# ============================================================================ lesson 5

def _traces_and_side(names):
    """Layout of the gated-cell explorers: three time traces stacked on the left (input, gates, a
    state; sharing the time axis) and one tall panel on the right. ``names`` keys the four Axes."""
    def layout(fig):
        gs = fig.add_gridspec(3, 2, width_ratios=(1.25, 1), height_ratios=(0.6, 1, 1.2), left=0.07,
                              right=0.98, bottom=0.11, top=0.93, wspace=0.25, hspace=0.12)
        a_in = fig.add_subplot(gs[0, 0])
        axes = (a_in, fig.add_subplot(gs[1, 0], sharex=a_in), fig.add_subplot(gs[2, 0], sharex=a_in),
                fig.add_subplot(gs[:, 1]))
        return dict(zip(names, axes))
    return layout


class LSTMGateExplorer(Explorer):
    """Lesson 5: gate and cell traces of one LSTM, and the gradient along the cell path."""

    def __init__(self, T=60, H=8, seed=0, pulse_at=5):
        from ..nn import init_cell_params

        self.T, self.H, self.pulse_at = T, H, pulse_at
        rng = np.random.default_rng(seed)
        p = init_cell_params("lstm", 1, H, rng, forget_bias=0.0)
        self.Wx, self.Wh, self._b0 = 3.0 * p["Wx"], p["Wh"], p["b"]   # b without the two slider biases
        x = 0.3 * rng.normal(size=(T, 1))
        x[pulse_at - 1] = 3.0                             # one strong input at step `pulse_at`
        self.x = x
        # The vanilla RNN of lesson 4 on the same inputs, orthogonal Wh with rho = 1: a fixed reference.
        q = init_cell_params("rnn", 1, H, np.random.default_rng(seed))
        self.rnn_norms = dg.jacobian_norms(dg.run_rnn(x, 3.0 * q["Wx"], q["Wh"], q["b"]), q["Wh"])
        self._cached = lru_cache(maxsize=512)(self._compute_uncached)
        controls = {
            "forget_bias": _slider("float", 1.0, -2.0, 6.0, 0.25, "forget-gate bias b_f"),
            "input_bias": _slider("float", 0.0, -4.0, 4.0, 0.25, "input-gate bias b_i"),
            "recurrent": widgets.ToggleButtons(options=["as initialised", "zero"], value="as initialised",
                                               description="Wh"),
        }
        # Fixed y-range for the cell states: the largest |c| the sliders can produce is at the corners.
        cmax = max(np.abs(self._cached(bf, bi, "as initialised")["c"]).max()
                   for bf in (-2.0, 6.0) for bi in (-4.0, 4.0))
        self._c_lim = 1.1 * max(cmax, 1.0)

        super().__init__(controls, (10.5, 5.2), _traces_and_side(("input", "gates", "cell", "grad")))

    def bias(self, forget_bias, input_bias):
        """The full bias ``b (4H,)``: the ``b_i`` and ``b_f`` blocks set by the sliders (gates i, f, g, o)."""
        b = self._b0.copy()
        b[:self.H] = input_bias
        b[self.H:2 * self.H] = forget_bias
        return b

    def _compute_uncached(self, forget_bias, input_bias, recurrent):
        b = self.bias(forget_bias, input_bias)
        # Wh = 0 removes every path from h back into the gates: only the carousel is left
        Wh = self.Wh if recurrent == "as initialised" else np.zeros_like(self.Wh)
        run = dg.run_lstm(self.x, self.Wx, Wh, b)
        carousel = dg.forget_products(run.f)                       # (T+1, H)
        P = dg.lstm_cell_jacobians(self.x, self.Wx, Wh, b)
        return {"b": b, "h": run.h, "c": run.c, "i": run.i, "f": run.f, "g": run.g, "o": run.o,
                "carousel": carousel.max(axis=1), "carousel_units": carousel,
                "cell_norms": dg.matrix_norms(P), "mean_f": float(run.f.mean()),
                "mean_i": float(run.i.mean())}

    def compute(self, forget_bias, input_bias, recurrent):
        s = dict(self._cached(round(forget_bias, 6), round(input_bias, 6), recurrent))
        s.update(forget_bias=forget_bias, input_bias=input_bias, recurrent=recurrent,
                 rnn_norms=self.rnn_norms)
        return s

    def _gate_means(self, s):
        return {g: s[g].mean(axis=1) for g in ("i", "f", "o")}

    def draw(self, s):
        ax = self.axes
        t = np.arange(1, self.T + 1)
        self.artists["input"] = plots.draw_input_trace(ax["input"], self.x)
        ax["input"].set_ylim(-1.5, 3.5)
        ax["input"].set_title(f"input: noise, and one strong pulse at t = {self.pulse_at}", fontsize=10)
        styles = {"i": dict(color=COLORS_GATES["i"], lw=1.8, label="input gate i"),
                  "f": dict(color=COLORS_GATES["f"], lw=1.8, label="forget gate f"),
                  "o": dict(color=COLORS_GATES["o"], lw=1.8, label="output gate o")}
        self.artists["gates"] = plots.draw_curves(ax["gates"], t, self._gate_means(s), styles,
                                                  ylim=(-0.03, 1.03), ylabel="gate (mean of units)",
                                                  legend=None)
        ax["gates"].legend(loc="lower left", ncol=3, fontsize="small")
        self.artists["cell"] = plots.draw_unit_traces(ax["cell"], s["c"], ylim=(-self._c_lim, self._c_lim),
                                                      ylabel="cell state $c_t$ (each unit)")
        ax["cell"].set_xlabel("time step t")
        for a in (ax["input"], ax["gates"]):
            a.tick_params(labelbottom=False)
        k = np.arange(self.T + 1)
        styles = {"rnn": dict(color="0.45", lw=2, label=r"vanilla RNN $\|\partial h_T/\partial h_k\|$"),
                  "cell": dict(color=COLORS_GATES["f"], lw=2, label=r"LSTM $\|\partial c_T/\partial c_k\|$"),
                  "carousel": dict(color="k", lw=1.2, ls="--",
                                   label=r"carousel: $f_{k+1} \cdots f_T$ (largest unit)")}
        self.artists["grad"] = plots.draw_curves(
            ax["grad"], k, {"rnn": s["rnn_norms"], "cell": s["cell_norms"], "carousel": s["carousel"]},
            styles, log=True, ylim=(1e-30, 10), xlabel="k (the step the gradient travels back to)",
            ylabel="gradient from step T back to step k", legend="lower right")
        ax["grad"].set_title(f"how much reaches step k from T = {self.T}", fontsize=10)
        self.artists["text"] = _text(ax["grad"], 0.03, 0.5)
        self._set_text(s)

    def _set_text(self, s):
        self.artists["text"].set_text(
            f"Wh {s['recurrent']}\n$b_f$ = {s['forget_bias']:g}: mean f = {s['mean_f']:.3f}\n"
            f"$b_i$ = {s['input_bias']:g}: mean i = {s['mean_i']:.3f}\n"
            f"$\\|\\partial c_T/\\partial c_0\\|$ = {s['cell_norms'][0]:.1e}\n"
            f"vanilla RNN: {s['rnn_norms'][0]:.1e}")

    def update(self, s):
        plots.update_curves(self.artists["gates"], self._gate_means(s))
        plots.update_unit_traces(self.artists["cell"], s["c"])
        plots.update_curves(self.artists["grad"], {"cell": s["cell_norms"], "carousel": s["carousel"]})
        self._set_text(s)
        return False


COLORS_GATES = {"i": "tab:green", "f": "tab:blue", "o": "tab:purple", "z": "tab:blue", "r": "tab:red"}


def lstm_gate_explorer(T=60, H=8, seed=0, pulse_at=5):
    """Lesson 5: one LSTM with ``H`` units reads ``T`` steps of small noise with one strong pulse at
    step ``pulse_at``. Controls: ``forget_bias`` (``b_f``, the same for every unit),
    ``input_bias`` (``b_i``) and ``recurrent`` ("as initialised" or "zero": ``Wh = 0`` leaves only
    the direct cell path). Left: the input, the mean input/forget/output gates, the cell state of
    every unit. Right, on a log scale for ``k = 0..T``: ``||dc_T/dc_k||`` of the LSTM (all paths,
    ``diagnostics.lstm_cell_jacobians``), the carousel ``max_j prod_{t>k} f_t`` and, fixed, the
    vanilla RNN's ``||dh_T/dh_k||`` on the same inputs. State: ``b``, ``h, c, i, f, g, o (T, H)``,
    ``cell_norms``, ``carousel``, ``carousel_units``, ``rnn_norms (T+1,)``, ``mean_f``, ``mean_i``."""
    return LSTMGateExplorer(T, H, seed, pulse_at)


__all__ += ["lstm_gate_explorer"]


# ============================================================================ lesson 6

class GRUMemoryExplorer(Explorer):
    """Lesson 6: how long a GRU's state remembers one pulse, against the update-gate bias."""

    def __init__(self, T=60, H=8, seed=0, pulse_at=5):
        from ..nn import init_cell_params

        self.T, self.H, self.pulse_at = T, H, pulse_at
        rng = np.random.default_rng(seed)
        p = init_cell_params("gru", 1, H, rng)
        self.Wx, self.Wh = 2.0 * p["Wx"], p["Wh"]
        noise = 0.3 * rng.normal(size=(T, 1))
        self.x_without = noise                              # the same noise in both runs ...
        self.x = noise.copy()
        self.x[pulse_at - 1] += 3.0                         # ... plus one pulse in this one
        self._cached = lru_cache(maxsize=512)(self._compute_uncached)
        controls = {
            "update_bias": _slider("float", 0.0, -3.0, 6.0, 0.25, "update-gate bias b_z"),
            "reset_bias": _slider("float", 0.0, -4.0, 4.0, 0.25, "reset-gate bias b_r"),
        }

        super().__init__(controls, (10.5, 5.2), _traces_and_side(("input", "gates", "hidden", "memory")))

    def biases(self, update_bias, reset_bias):
        """``bx (3H,)`` with the r and z blocks set by the sliders (gate order r, z, n), ``bh = 0``."""
        bx = np.zeros(3 * self.H)
        bx[:self.H] = reset_bias
        bx[self.H:2 * self.H] = update_bias
        return bx, np.zeros(3 * self.H)

    def _compute_uncached(self, update_bias, reset_bias):
        bx, bh = self.biases(update_bias, reset_bias)
        run = dg.run_gru(self.x, self.Wx, self.Wh, bx, bh)
        base = dg.run_gru(self.x_without, self.Wx, self.Wh, bx, bh)
        memory = dg.pulse_memory(run.h, base.h)                    # (T,), zero before the pulse
        start = self.pulse_at - 1
        # direct path of h_t = (1 - z) n + z h_{t-1}: the difference is carried by z, step after step
        direct = np.full(self.T, np.nan)
        direct[start:] = memory[start] * np.r_[1.0, np.cumprod(run.z[start + 1:], axis=0).max(axis=1)]
        return {"bx": bx, "bh": bh, "h": run.h, "r": run.r, "z": run.z, "n": run.n, "h_without": base.h,
                "memory": memory, "direct": direct, "half_life": dg.half_life(memory, start),
                "mean_z": float(run.z.mean()), "mean_r": float(run.r.mean())}

    def compute(self, update_bias, reset_bias):
        s = dict(self._cached(round(update_bias, 6), round(reset_bias, 6)))
        s.update(update_bias=update_bias, reset_bias=reset_bias)
        return s

    def draw(self, s):
        ax = self.axes
        t = np.arange(1, self.T + 1)
        self.artists["input"] = plots.draw_input_trace(ax["input"], self.x)
        ax["input"].set_ylim(-1.5, 3.5)
        ax["input"].set_title(f"input: noise, and one pulse at t = {self.pulse_at}", fontsize=10)
        styles = {"z": dict(color=COLORS_GATES["z"], lw=1.8, label="update gate z (1 = keep)"),
                  "r": dict(color=COLORS_GATES["r"], lw=1.8, label="reset gate r")}
        gates = {"z": s["z"].mean(axis=1), "r": s["r"].mean(axis=1)}
        self.artists["gates"] = plots.draw_curves(ax["gates"], t, gates, styles, ylim=(-0.03, 1.03),
                                                  ylabel="gate (mean of units)", legend=None)
        ax["gates"].legend(loc="lower left", ncol=2, fontsize="small")
        self.artists["hidden"] = plots.draw_unit_traces(ax["hidden"], s["h"], ylim=(-1.05, 1.05),
                                                        ylabel="hidden state $h_t$ (each unit)")
        ax["hidden"].set_xlabel("time step t")
        for a in (ax["input"], ax["gates"]):
            a.tick_params(labelbottom=False)
        styles = {"memory": dict(color=plots.COLORS["main"], lw=2,
                                 label=r"$\|h_t - h_t^{\mathrm{no\ pulse}}\|$"),
                  "direct": dict(color="k", lw=1.2, ls="--", label=r"carried by z alone: $z_{6} \cdots z_t$")}
        curves = {"memory": s["memory"], "direct": s["direct"]}
        self.artists["memory"] = plots.draw_curves(ax["memory"], t, curves, styles, log=True,
                                                   ylim=(1e-10, 10),
                                                   xlabel="time step t", ylabel="what is left of the pulse",
                                                   legend="lower left")
        self.artists["marker"] = plots.draw_marker(ax["memory"], self.pulse_at)
        ax["memory"].set_title("memory of the pulse (log scale)", fontsize=10)
        self.artists["text"] = _text(ax["memory"], 0.97, 0.97, ha="right")
        self._set_text(s)

    def _set_text(self, s):
        hl = s["half_life"]
        self.artists["text"].set_text(
            f"$b_z$ = {s['update_bias']:g}: mean z = {s['mean_z']:.3f}\n"
            f"$b_r$ = {s['reset_bias']:g}: mean r = {s['mean_r']:.3f}\n"
            f"half-life: {'> ' + str(self.T - self.pulse_at) if hl is None else hl} step{'' if hl == 1 else 's'}")

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
    ``reset_bias`` (``b_r``). State: ``bx``, ``bh``, ``h``, ``h_without``, ``r``, ``z``, ``n``
    ``(T, H)``, ``memory (T,)``, ``direct (T,)`` (the memory at the pulse times the product of the
    update gates after it, best unit), ``half_life`` (steps, or None), ``mean_z``, ``mean_r``."""
    return GRUMemoryExplorer(T, H, seed, pulse_at)


__all__ += ["gru_memory_explorer"]


# ============================================================================ lesson 7

CELL_COLORS = {"rnn": "0.4", "lstm": "tab:blue", "gru": "tab:orange"}


class ReberLagExplorer(Explorer):
    """Lesson 7: critical-symbol accuracy of RNN, LSTM and GRU on the embedded Reber grammar, by lag.

    Nothing is trained here: the sweep was trained offline (``rnncourse/data/make_reber_lags.py``)
    and the slider only looks results up.
    """

    def __init__(self, sweep=None):
        self.sweep = dg.reber_lag_sweep() if sweep is None else sweep
        sw = self.sweep
        self.final = sw.critical_accuracy[..., -1]                 # (C, S, L)
        controls = {"lag": widgets.SelectionSlider(
            options=[(str(v), int(v)) for v in sw.lags], value=int(sw.lags[len(sw.lags) // 2]),
            description="lag", continuous_update=True, layout=widgets.Layout(width="420px"))}

        def layout(fig):
            a1, a2 = fig.subplots(1, 2)
            fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.22)
            return {"lags": a1, "curves": a2}

        super().__init__(controls, (10, 3.9), layout)

    def compute(self, lag):
        sw = self.sweep
        li = int(np.nonzero(sw.lags == lag)[0][0])
        acc = sw.critical_accuracy[:, :, li]                       # (C, S, E)
        return {"lag": int(lag), "index": li, "curves": acc,
                "final": {c: float(self.final[ci, :, li].mean()) for ci, c in enumerate(sw.cells)},
                "final_per_seed": {c: self.final[ci, :, li].copy() for ci, c in enumerate(sw.cells)}}

    def draw(self, s):
        sw, ax = self.sweep, self.axes
        for ci, cell in enumerate(sw.cells):
            ax["lags"].plot(sw.lags, self.final[ci].mean(axis=0), "o-", color=CELL_COLORS[cell], lw=2,
                            label=cell.upper() if cell != "rnn" else "vanilla RNN")
            for si in range(len(sw.seeds)):
                ax["lags"].plot(sw.lags, self.final[ci, si], "x", color=CELL_COLORS[cell], alpha=0.6, ms=5)
        ax["lags"].axhline(0.5, color="tab:red", ls="--", lw=1, label="guessing T or P")
        ax["lags"].set(ylim=(0.3, 1.03), xlabel="lag (filler steps between the symbol and its recall)",
                       ylabel="accuracy on the critical symbol")
        ax["lags"].set_title(f"after {sw.steps[-1]} training steps "
                             f"(line: mean of {len(sw.seeds)} seeds, x: each)", fontsize=10)
        ax["lags"].grid(alpha=0.3)
        ax["lags"].legend(loc="center right", fontsize="small")
        self.artists["marker"] = plots.draw_marker(ax["lags"], s["lag"])
        styles, ys = {}, {}
        for ci, cell in enumerate(sw.cells):
            for si in range(len(sw.seeds)):
                key = f"{cell}/{si}"
                styles[key] = dict(color=CELL_COLORS[cell], lw=1.8, ls="-" if si == 0 else "--")
                if si == 0:
                    styles[key]["label"] = cell.upper() if cell != "rnn" else "vanilla RNN"
                ys[key] = s["curves"][ci, si]
        self.artists["curves"] = plots.draw_curves(
            ax["curves"], sw.steps, ys, styles, ylim=(0.3, 1.03), xlabel="training step",
            ylabel="accuracy on the critical symbol", legend="center right")
        ax["curves"].set_xlim(0, sw.steps[-1])
        self.artists["title"] = ax["curves"].set_title("", fontsize=10)
        self.artists["title"].set_animated(True)
        self._set_title(s)

    def _set_title(self, s):
        self.artists["title"].set_text(f"lag {s['lag']}: during training (solid: seed 0, dashed: seed 1)")

    def update(self, s):
        plots.update_marker(self.artists["marker"], s["lag"])
        sw = self.sweep
        plots.update_curves(self.artists["curves"], {
            f"{c}/{si}": s["curves"][ci, si] for ci, c in enumerate(sw.cells) for si in range(len(sw.seeds))})
        self._set_title(s)
        return False


def reber_lag_explorer(sweep=None):
    """Lesson 7: the embedded Reber grammar with a lag. Control: ``lag`` (one of the trained lags).
    Left: accuracy on the critical symbol after training against the lag, for the vanilla RNN, the
    LSTM and the GRU (mean over seeds, and each seed). Right: that accuracy during training at the
    chosen lag. State: ``lag``, ``curves (C, S, E)``, ``final`` (cell -> mean over seeds),
    ``final_per_seed``. ``sweep`` defaults to ``diagnostics.reber_lag_sweep()``."""
    return ReberLagExplorer(sweep)


__all__ += ["reber_lag_explorer"]
