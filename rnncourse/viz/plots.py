"""Pure matplotlib drawing for the lessons: every ``draw_*`` function draws on the ``Axes`` it is
given and returns a dict of the artists it made; the matching ``update_*`` function changes those
artists' data in place (no new artists, no rescaling unless asked).

That split is what makes the explorers fast: a widget draws once, then only updates. Static
notebook figures call the ``draw_*`` functions once and are done. Nothing here computes model
quantities (that is ``rnncourse.diagnostics``), creates figures, or calls pyplot's show.

Artists that change on every update are marked *animated*, so a figure can be drawn once without
them, cached, and the animated artists painted over the cached background (blitting).
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from . import style

__all__ = [
    "COLORS",
    "set_log_ylim",
    "plain_log_labels",
    "marker_segments",
    "draw_hidden_heatmap",
    "update_hidden_heatmap",
    "draw_input_trace",
    "update_input_trace",
    "draw_state_norm",
    "update_state_norm",
    "draw_loss_curve",
    "update_loss_curve",
    "draw_predictions",
    "update_predictions",
    "draw_jacobian_norms",
    "update_jacobian_norms",
    "draw_saturation",
    "update_saturation",
    "draw_bptt_gradients",
    "update_bptt_gradients",
    "draw_dWh_terms",
    "update_dWh_terms",
    "draw_clipping",
    "update_clipping",
]

# One palette for the whole course (Okabe-Ito, colour-blind safe): see ``rnncourse.viz.style``.
COLORS = style.COLORS


def _animate(artists):
    for a in artists.values():
        if hasattr(a, "set_animated"):
            a.set_animated(True)
    return artists


def set_log_ylim(ax, values, lo_floor=1e-30, hi_ceiling=1e30, pad_decades=1):
    """Fit a log y-axis to ``values`` (snapped to whole decades, with a margin). Returns True when
    the limits changed (the caller then needs a full redraw); keeps them if ``values`` already fit
    and fill at least a third of the range (so slider moves do not make the axis jump)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return False
    lo = np.floor(np.log10(max(v.min(), lo_floor))) - pad_decades
    hi = np.ceil(np.log10(min(v.max(), hi_ceiling))) + pad_decades
    cur_lo, cur_hi = np.log10(ax.get_ylim())
    if cur_lo <= lo and hi <= cur_hi and (hi - lo) >= (cur_hi - cur_lo) / 3:
        return False
    ax.set_ylim(10.0**lo, 10.0**hi)
    return True


def _decade_ticks(ax, every=None):
    """Readable log ticks: labelled decades (every ``every`` decades on a tall range), no clutter."""
    lo, hi = np.log10(ax.get_ylim())
    span = hi - lo
    step = every or max(1, int(np.ceil(span / 8)))
    ax.yaxis.set_major_locator(LogLocator(base=10.0**step, numticks=12))
    ax.yaxis.set_minor_locator(
        LogLocator(base=10.0, subs=(1.0,), numticks=60)
        if step > 1
        else LogLocator(base=10.0, subs=(2.0, 5.0), numticks=60)
    )
    ax.yaxis.set_minor_formatter(NullFormatter())


def plain_log_labels(ax):
    """Log y-axis labelled 0.1, 0.2, 0.5, 1, 2, 5, ... (readable when the range spans few decades)."""
    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_locator(LogLocator(base=10.0, numticks=12))
    ax.yaxis.set_major_formatter(fmt)
    ax.yaxis.set_minor_locator(LogLocator(base=10.0, subs=(2.0, 5.0), numticks=12))
    ax.yaxis.set_minor_formatter(fmt)


def marker_segments(xs, y0, y1):
    """x, y arrays for one Line2D that draws vertical marks at every ``xs`` (NaN-separated)."""
    xs = np.asarray(xs, dtype=np.float64)
    x = np.repeat(xs, 3)
    y = np.tile([y0, y1, np.nan], len(xs))
    x[2::3] = np.nan
    return x, y


# --------------------------------------------------------------------------- lesson 1


def draw_hidden_heatmap(ax, h, upto=None, cmap="RdBu_r"):
    """Hidden states over time as an image: rows are units, columns are steps ``t = 1..T``.

    ``h (T, H)``; steps after ``upto`` are blank (not fed yet). Returns ``{"image", "cursor"}``.
    """
    T, H = h.shape
    import matplotlib as mpl

    cm = mpl.colormaps[cmap].with_extremes(bad="0.93")
    im = ax.imshow(
        _masked_states(h, upto),
        cmap=cm,
        vmin=-1,
        vmax=1,
        aspect="auto",
        interpolation="nearest",
        origin="lower",
        extent=(0.5, T + 0.5, -0.5, H - 0.5),
    )
    cursor = ax.axvline(T + 0.5 if upto is None else upto + 0.5, color="k", lw=1.5)
    ax.set_xlabel("time step t")
    ax.set_ylabel("hidden unit")
    ax.set_xlim(0.5, T + 0.5)
    return _animate({"image": im, "cursor": cursor})


def _masked_states(h, upto):
    img = np.array(h, dtype=np.float64).T.copy()  # (H, T): units as rows
    if upto is not None:
        img[:, upto:] = np.nan
    return np.ma.masked_invalid(img)


def update_hidden_heatmap(artists, h, upto=None):
    artists["image"].set_data(_masked_states(h, upto))
    x = h.shape[0] + 0.5 if upto is None else upto + 0.5
    artists["cursor"].set_xdata([x, x])


def draw_input_trace(ax, x, upto=None):
    """The input sequence ``x (T, D)`` as lines over ``t = 1..T``; the part not fed yet is faint."""
    T = x.shape[0]
    t = np.arange(1, T + 1)
    (fed,) = ax.plot(t, _head(x[:, 0], upto), color=COLORS["main"], lw=1.8, marker="o", ms=3)
    (rest,) = ax.plot(t, x[:, 0], color=COLORS["main"], lw=1, alpha=0.3)
    ax.set_xlim(0.5, T + 0.5)
    ax.set_ylabel("input $x_t$")
    return _animate({"fed": fed, "rest": rest})


def _head(v, upto):
    v = np.array(v, dtype=np.float64)
    if upto is not None:
        v[upto:] = np.nan
    return v


def update_input_trace(artists, x, upto=None):
    artists["fed"].set_ydata(_head(x[:, 0], upto))
    artists["rest"].set_ydata(x[:, 0])


def draw_state_norm(ax, norms, upto=None, log=False):
    """``||h_t||`` over ``t = 1..T``. Returns ``{"line", "dot"}``."""
    T = len(norms)
    t = np.arange(1, T + 1)
    (line,) = ax.plot(t, _head(norms, upto), color=COLORS["main"], lw=1.8)
    i = (T if upto is None else upto) - 1
    (dot,) = ax.plot([i + 1], [norms[i]], "o", color=COLORS["ref"], ms=6)
    ax.set_xlim(0.5, T + 0.5)
    ax.set_xlabel("time step t")
    ax.set_ylabel(r"$\|h_t\|$")
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    return _animate({"line": line, "dot": dot})


def update_state_norm(artists, norms, upto=None):
    T = len(norms)
    artists["line"].set_ydata(_head(norms, upto))
    i = (T if upto is None else upto) - 1
    artists["dot"].set_data([i + 1], [norms[i]])


# --------------------------------------------------------------------------- lesson 0 / 2


def draw_loss_curve(ax, steps, loss, chance=None, at=None, log=True, label="training loss"):
    """Loss per optimisation step; optional dashed chance level and a marker at step ``at``."""
    (line,) = ax.plot(steps, loss, color=COLORS["main"], lw=1.5, label=label)
    out = {"line": line}
    if chance is not None:
        out["chance"] = ax.axhline(chance, color=COLORS["ref"], ls="--", lw=1, label="no learning (chance)")
    if log:
        ax.set_yscale("log")
        plain_log_labels(ax)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3, which="major")
    ax.legend(loc="upper right", fontsize="small")
    (marker,) = ax.plot([], [], "o", color=COLORS["ref"], ms=7, zorder=5)
    marker.set_animated(True)
    out["marker"] = marker
    if at is not None:
        update_loss_curve(out, steps, loss, at=at)
    return out


def update_loss_curve(artists, steps, loss, at=None):
    artists["line"].set_data(steps, loss)
    if at is None:
        artists["marker"].set_data([], [])
    else:
        i = int(np.searchsorted(np.asarray(steps), at))
        i = min(i, len(loss) - 1)
        artists["marker"].set_data([steps[i]], [loss[i]])


def draw_predictions(ax, target, pred, mask=None, ylabel="value", pred_label="prediction"):
    """Targets and predictions of one sequence over ``t = 1..T``; masked steps (no target) greyed.

    ``target, pred (T,)``. Returns ``{"target", "pred"}`` (the prediction line is animated).
    """
    T = len(target)
    t = np.arange(1, T + 1)
    tgt = np.where(mask > 0, target, np.nan) if mask is not None else np.asarray(target, float)
    (tline,) = ax.plot(t, tgt, color=COLORS["target"], lw=2.2, marker="o", ms=3.5, label="target")
    (pline,) = ax.plot(t, pred, color=COLORS["alt"], lw=1.8, marker="s", ms=3, label=pred_label)
    ax.set_xlim(0.5, T + 0.5)
    ax.set_xlabel("time step t")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    return _animate({"target": tline, "pred": pline})


def update_predictions(artists, target, pred, mask=None):
    tgt = np.where(mask > 0, target, np.nan) if mask is not None else target
    artists["target"].set_ydata(tgt)
    artists["pred"].set_ydata(pred)


# --------------------------------------------------------------------------- lesson 4


def draw_jacobian_norms(ax, norms, reference=None, ylim=None):
    """``||dh_T/dh_k||`` for ``k = 0..T`` on a log scale, with an optional reference curve (for
    example ``rho**(T - k)``) and the level 1 marked. Returns ``{"norms", "reference"}``."""
    T = len(norms) - 1
    k = np.arange(T + 1)
    (line,) = ax.semilogy(
        k,
        _positive(norms),
        color=COLORS["main"],
        lw=2,
        marker="o",
        ms=2.5,
        label=r"$\|\partial h_T / \partial h_k\|$ (measured)",
    )
    (ref,) = ax.semilogy(
        k,
        _positive(norms if reference is None else reference),
        color=COLORS["ref"],
        ls="--",
        lw=1.2,
        label=r"$\rho(W_h)^{T-k}$ (linear regime)",
    )
    ref.set_visible(reference is not None)
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_xlim(-0.5, T + 0.5)
    ax.set_ylim(*(ylim or (1e-12, 1e12)))
    _decade_ticks(ax)
    ax.set_xlabel("k (the step the gradient travels back to)")
    ax.set_ylabel(r"$\|\partial h_T / \partial h_k\|_2$")
    ax.grid(alpha=0.3, which="major")
    ax.legend(loc="lower right", fontsize="small")
    return _animate({"norms": line, "reference": ref})


def _positive(v):
    v = np.array(v, dtype=np.float64)
    v[~(v > 0)] = np.nan  # zeros and NaN cannot be drawn on a log axis
    return np.minimum(v, 1e300)


def update_jacobian_norms(artists, norms, reference=None):
    artists["norms"].set_ydata(_positive(norms))
    if reference is not None:
        artists["reference"].set_ydata(_positive(reference))
    artists["reference"].set_visible(reference is not None)


def draw_saturation(ax, saturated, deriv):
    """Per step: fraction of saturated units (``|h| > 0.95``) and the mean of ``tanh' = 1 - h^2``."""
    T = len(saturated)
    t = np.arange(1, T + 1)
    (sat,) = ax.plot(t, saturated, color=COLORS["ref"], lw=1.8, label=r"saturated units ($|h|>0.95$)")
    (der,) = ax.plot(t, deriv, color=COLORS["third"], lw=1.8, label=r"mean of $1 - h_t^2$")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlim(0.5, T + 0.5)
    ax.set_xlabel("time step t")
    ax.set_ylabel("fraction / derivative")
    ax.grid(alpha=0.3)
    ax.legend(loc="center right", fontsize="small")
    return _animate({"saturated": sat, "deriv": der})


def update_saturation(artists, saturated, deriv):
    artists["saturated"].set_ydata(saturated)
    artists["deriv"].set_ydata(deriv)


# --------------------------------------------------------------------------- lesson 3


def draw_bptt_gradients(ax, full, truncated, k, ylim=(1e-4, 1e2)):
    """``||gradient reaching h_t||`` per step for full and truncated BPTT (log scale), with the
    chunk borders of window ``k`` marked. ``full, truncated (T,)``."""
    T = len(full)
    t = np.arange(1, T + 1)
    (fl,) = ax.semilogy(t, _positive(full), color=COLORS["full"], lw=2.5, alpha=0.6, label="full BPTT")
    (tr,) = ax.semilogy(
        t, _positive(truncated), color=COLORS["alt"], lw=1.6, marker="o", ms=3, label=f"truncated, k = {k}"
    )
    ax.set_ylim(*ylim)
    ax.set_xlim(0.5, T + 0.5)
    bx, by = marker_segments(_borders(T, k), *ax.get_ylim())
    (borders,) = ax.plot(bx, by, color="0.4", ls=":", lw=1.2)
    _decade_ticks(ax)
    ax.set_xlabel("time step t")
    ax.set_ylabel(r"$\|$gradient reaching $h_t\|$")
    ax.grid(alpha=0.3, which="major")
    leg = ax.legend(loc="lower right", fontsize="small")
    return _animate({"full": fl, "truncated": tr, "borders": borders, "legend": leg})


def _borders(T, k):
    # a chunk border sits between step s and s + 1 for s = k, 2k, ... (gradient cut there)
    return np.arange(k, T, k) + 0.5


def update_bptt_gradients(artists, full, truncated, k):
    ax = artists["full"].axes
    artists["full"].set_ydata(_positive(full))
    artists["truncated"].set_ydata(_positive(truncated))
    artists["truncated"].set_label(f"truncated, k = {k}")
    artists["legend"].get_texts()[1].set_text(f"truncated, k = {k}")
    bx, by = marker_segments(_borders(len(full), k), *ax.get_ylim())
    artists["borders"].set_data(bx, by)


def draw_dWh_terms(ax, full, truncated, ylim=(1e-6, 1e1)):
    """Norm of each step's contribution ``h_{t-1}^T da_t`` to ``dWh``: full vs truncated BPTT.
    (``dWh`` is the sum of these ``T`` terms.)"""
    T = len(full)
    t = np.arange(1, T + 1)
    (fl,) = ax.semilogy(
        t, _positive(full), color=COLORS["full"], lw=2.5, alpha=0.6, drawstyle="steps-mid", label="full BPTT"
    )
    (tr,) = ax.semilogy(
        t, _positive(truncated), color=COLORS["alt"], lw=1.6, drawstyle="steps-mid", label="truncated"
    )
    ax.set_ylim(*ylim)
    ax.set_xlim(0.5, T + 0.5)
    _decade_ticks(ax)
    ax.set_xlabel("time step t")
    ax.set_ylabel(r"$\|h_{t-1}^\top da_t\|$ (term of $dW_h$)")
    ax.grid(alpha=0.3, which="major")
    ax.legend(loc="lower right", fontsize="small")
    return _animate({"full": fl, "truncated": tr})


def update_dWh_terms(artists, full, truncated):
    artists["full"].set_ydata(_positive(full))
    artists["truncated"].set_ydata(_positive(truncated))


# --------------------------------------------------------------------------- clipping (lesson 4)


def draw_clipping(ax, g, by_norm, by_value, threshold, lim=None):
    """A 2-D gradient ``g`` and its two clipped versions as arrows, with the clipping regions: the
    circle ``||g|| <= threshold`` (norm clipping) and the square ``|g_i| <= threshold`` (value
    clipping). The dotted ray continues ``g``'s direction."""
    lim = lim or (-0.3, 1.15 * max(np.max(np.abs(g)), threshold) + 0.3)
    circle = Circle((0, 0), threshold, fill=False, color=COLORS["main"], ls="--", lw=1.2)
    square = Rectangle(
        (-threshold, -threshold),
        2 * threshold,
        2 * threshold,
        fill=False,
        color=COLORS["alt"],
        ls="--",
        lw=1.2,
    )
    ax.add_patch(circle)
    ax.add_patch(square)
    (ray,) = ax.plot([0, 100 * g[0]], [0, 100 * g[1]], ":", color="0.5", lw=1)
    arrows = {}
    for name, v, color, lw in (
        ("g", g, COLORS["target"], 2.0),
        ("by_norm", by_norm, COLORS["main"], 2.5),
        ("by_value", by_value, COLORS["alt"], 2.5),
    ):
        arrows[name] = FancyArrowPatch(
            (0, 0), tuple(v), arrowstyle="-|>", mutation_scale=16, color=color, lw=lw, shrinkA=0, shrinkB=0
        )
        ax.add_patch(arrows[name])
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.set_aspect("equal")
    ax.set_xlabel("$g_1$")
    ax.set_ylabel("$g_2$")
    ax.grid(alpha=0.3)
    handles = [
        Line2D([], [], color=COLORS["target"], lw=2, label="gradient g"),
        Line2D([], [], color=COLORS["main"], lw=2.5, label="clipped by norm"),
        Line2D([], [], color=COLORS["alt"], lw=2.5, label="clipped by value"),
    ]
    ax.legend(handles=handles, loc="upper left", fontsize="small")
    return _animate({"circle": circle, "square": square, "ray": ray, **arrows})


def update_clipping(artists, g, by_norm, by_value, threshold):
    artists["circle"].set_radius(threshold)
    artists["square"].set_xy((-threshold, -threshold))
    artists["square"].set_width(2 * threshold)
    artists["square"].set_height(2 * threshold)
    artists["ray"].set_data([0, 100 * g[0]], [0, 100 * g[1]])
    for name, v in (("g", g), ("by_norm", by_norm), ("by_value", by_value)):
        artists[name].set_positions((0, 0), tuple(v))


# --------------------------------------------------------------------------- lessons 5 to 7


def draw_curves(ax, x, ys, styles=None, log=False, ylim=None, xlabel=None, ylabel=None, legend="upper right"):
    """Several named curves over the same ``x`` (one ``Line2D`` each, animated).

    ``ys`` maps a name to its ``(len(x),)`` values; ``styles`` maps the same names to keyword
    arguments of ``ax.plot`` (``label`` among them). On a log axis values <= 0 are not drawn.
    Returns ``{name: line}``; ``update_curves`` changes the values.
    """
    styles = styles or {}
    out = {}
    for name, y in ys.items():
        (out[name],) = ax.plot(x, _positive(y) if log else y, **styles.get(name, {}))
    if log:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    if log:
        _decade_ticks(ax)
    ax.set_xlim(x[0] - 0.5, x[-1] + 0.5)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="major")
    if legend and any("label" in s for s in styles.values()):
        ax.legend(loc=legend, fontsize="small")
    return _animate(out)


def update_curves(artists, ys):
    for name, y in ys.items():
        line = artists[name]
        line.set_ydata(_positive(y) if line.axes.get_yscale() == "log" else y)


def draw_unit_traces(ax, v, ylim=None, ylabel="value"):
    """One line per unit: ``v (T, H)`` over ``t = 1..T`` (for cell states and hidden states)."""
    T, H = v.shape
    t = np.arange(1, T + 1)
    colors = style.unit_colors(H)
    lines = {}
    for j in range(H):
        (lines[j],) = ax.plot(t, v[:, j], color=colors[j], lw=1.2, alpha=0.85)
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xlim(0.5, T + 0.5)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return _animate(lines)


def update_unit_traces(artists, v):
    for j, line in artists.items():
        line.set_ydata(v[:, j])


def draw_marker(ax, x, color="0.3"):
    """A vertical line at ``x`` (e.g. the slider's current value), animated; move it with
    ``update_marker``."""
    line = ax.axvline(x, color=color, lw=1.5, ls=":")
    line.set_animated(True)
    return {"marker": line}


def update_marker(artists, x):
    artists["marker"].set_xdata([x, x])


__all__ += [
    "draw_curves",
    "update_curves",
    "draw_unit_traces",
    "update_unit_traces",
    "draw_marker",
    "update_marker",
]
