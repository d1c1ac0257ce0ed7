"""Lesson 4's explorers: ``||dh_T/dh_k||`` against spectral radius and saturation
(``jacobian_explorer``), and clipping by norm vs by value (``clipping_explorer``)."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
from traitlets import validate

from .. import diagnostics as dg
from . import plots
from .explorer import Explorer, slider, text_box

__all__ = ["JacobianExplorer", "jacobian_explorer", "ClippingExplorer", "clipping_explorer"]

WH_SHAPES = ("gaussian", "orthogonal", "identity")
WH_SHAPE_HELP = (
    "Gaussian: independent random entries, rescaled to the chosen spectral radius. Such a matrix "
    "is non-normal: its eigenvectors are not at right angles, so it can stretch a vector by more "
    "than its spectral radius for a few steps.",
    "Orthogonal: rotates without stretching; every singular value equals the spectral radius.",
    "Identity: the radius times I; each unit only feeds itself.",
)


class _ShapeButtons(widgets.ToggleButtons):
    """The ``Wh`` shape buttons. Also accepts "normal", the old name of "gaussian"."""

    @validate("value")
    def _validate_value(self, proposal):
        if proposal["value"] == "normal":
            proposal["value"] = "gaussian"
        return super()._validate_value(proposal)


class JacobianExplorer(Explorer):
    """Lesson 4: ``||dh_T/dh_k||`` for every k, against spectral radius and saturation."""

    def __init__(self, T=100, H=32, seed=0):
        self.T, self.H = T, H
        rng = np.random.default_rng(seed)
        self.D = 4
        self.Wx = rng.normal(size=(self.D, H)) / np.sqrt(self.D)
        self.b = np.zeros(H)
        self._noise = rng.normal(size=(T, self.D))
        self._unit = {
            kind: dg.recurrent_matrix(H, 1.0, kind, np.random.default_rng(seed + 1)) for kind in WH_SHAPES
        }
        controls = {
            "radius": slider("float", 1.0, 0.5, 2.0, 0.05, "spectral radius of Wh"),
            "input_scale": slider("float", 0.0, 0.0, 2.0, 0.05, "input scale"),
            "init": _ShapeButtons(
                options=[("Gaussian", "gaussian"), ("orthogonal", "orthogonal"), ("identity", "identity")],
                value="gaussian",
                description="Wh shape",
                tooltips=list(WH_SHAPE_HELP),
            ),
        }
        self.shape_help = widgets.HTML(
            "<small>" + "<br>".join(WH_SHAPE_HELP) + "</small>", layout=widgets.Layout(max_width="760px")
        )

        def layout(fig):
            a1, a2 = fig.subplots(1, 2, gridspec_kw=dict(width_ratios=(1.5, 1)))
            fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.25)
            return {"norms": a1, "saturation": a2}

        super().__init__(controls, (10, 3.9), layout, extra=[self.shape_help])

    def _run(self, radius, input_scale, init):
        Wh = self._unit[init] * radius
        # h0 = 0: with zero input the state stays exactly 0, every tanh' is 1 (the linear regime)
        h = dg.run_rnn(input_scale * self._noise, self.Wx, Wh, self.b)
        rho = dg.spectral_radius(Wh)
        return {
            "h": h,
            "Wh": Wh,
            "norms": dg.jacobian_norms(h, Wh),
            "reference": dg.linear_regime_norms(rho, self.T),
            "spectral_radius": rho,
            "spectral_norm": dg.spectral_norm(Wh),
            "saturated": dg.saturation_per_step(h),
            "deriv": dg.mean_tanh_derivative(h),
            "saturation": dg.saturation_fraction(h),
        }

    def compute(self, radius, input_scale, init):
        s = dict(self.cached(self._run, radius, input_scale, init))
        s.update(radius=radius, input_scale=input_scale, init=init)
        return s

    def draw(self, s):
        ax = self.axes
        self.artists["norms"] = plots.draw_jacobian_norms(
            ax["norms"], s["norms"], s["reference"], ylim=(1e-40, 1e40)
        )
        ax["norms"].set_title(f"how much of step k reaches step T = {self.T}", fontsize=10)
        self.artists["saturation"] = plots.draw_saturation(ax["saturation"], s["saturated"], s["deriv"])
        ax["saturation"].set_title("tanh saturation along the sequence", fontsize=10)
        self.artists["text"] = text_box(ax["norms"], 0.02, 0.97)
        self._set_text(s)

    def key_numbers(self, s):
        return [
            f"ρ(Wh) = {s['spectral_radius']:.2f}",
            f"‖Wh‖₂ = {s['spectral_norm']:.2f}",
            f"‖∂h_T/∂h_0‖ = {s['norms'][0]:.2g}",
            f"saturated units: {100 * s['saturation']:.0f}%",
        ]

    def _set_text(self, s):
        self.artists["text"].set_text(
            f"$\\rho(W_h)$ = {s['spectral_radius']:.2f},  $\\|W_h\\|_2$ = {s['spectral_norm']:.2f}\n"
            f"$\\|\\partial h_T/\\partial h_0\\|$ = {s['norms'][0]:.2g}\n"
            f"saturated units: {100 * s['saturation']:.0f}%"
        )

    def update(self, s):
        plots.update_jacobian_norms(self.artists["norms"], s["norms"], s["reference"])
        plots.update_saturation(self.artists["saturation"], s["saturated"], s["deriv"])
        self._set_text(s)
        return False


def jacobian_explorer(T=100, H=32, seed=0):
    """Lesson 4: ``||dh_T/dh_k||_2`` for ``k = 0..T`` on a log scale, next to the saturation of the
    hidden units. Controls: ``radius`` (spectral radius of ``Wh``), ``input_scale`` (size of the
    random inputs, which drive the units into saturation), ``init`` ("gaussian": a rescaled matrix
    of Gaussian entries, non-normal; "orthogonal"; "identity"; the old value "normal" still means
    "gaussian"). State: ``norms (T+1,)``, ``reference`` (``rho**(T-k)``), ``spectral_radius``,
    ``spectral_norm``, ``saturated``, ``deriv`` (per step), ``saturation``."""
    return JacobianExplorer(T, H, seed)


class ClippingExplorer(Explorer):
    """Lesson 4: clipping by global norm keeps the direction, clipping by value turns it."""

    def __init__(self):
        controls = {
            "angle": slider("float", 20.0, 0.0, 90.0, 1.0, "direction of g (degrees)", fmt=".0f"),
            "length": slider("float", 6.0, 0.2, 10.0, 0.1, "length of g"),
            "threshold": slider("float", 1.0, 0.2, 3.0, 0.1, "clipping threshold"),
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
        return {
            "g": g,
            "by_norm": c.by_norm,
            "by_value": c.by_value,
            "norm": c.norm,
            "angle_norm": c.angle_norm,
            "angle_value": c.angle_value,
            "threshold": threshold,
        }

    def draw(self, s):
        ax = self.axes
        self.artists["full"] = plots.draw_clipping(
            ax["full"], s["g"], s["by_norm"], s["by_value"], s["threshold"], lim=(-0.5, 10.5)
        )
        ax["full"].set_title("the whole gradient", fontsize=10)
        self.artists["zoom"] = plots.draw_clipping(
            ax["zoom"], s["g"], s["by_norm"], s["by_value"], s["threshold"], lim=(-0.2, 3.4)
        )
        ax["zoom"].set_title("zoom on the clipped gradients", fontsize=10)
        self.artists["text"] = text_box(ax["zoom"], 0.97, 0.03, ha="right", va="bottom")
        self._set_text(s)

    def key_numbers(self, s):
        return [
            f"‖g‖ = {s['norm']:.2f}, threshold {s['threshold']:.1f}",
            f"turned by norm clipping: {s['angle_norm']:.1f}°",
            f"turned by value clipping: {s['angle_value']:.1f}°",
        ]

    def _set_text(self, s):
        self.artists["text"].set_text(
            f"$\\|g\\|$ = {s['norm']:.2f}\n"
            f"turned by norm clipping: {s['angle_norm']:.1f}°\n"
            f"turned by value clipping: {s['angle_value']:.1f}°"
        )

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
