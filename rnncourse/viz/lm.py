"""Lesson 9's explorer: decoding a trained character model (greedy, temperature sampling, beam
search) and the next-character probabilities at one chosen step.

Compute is ``rnncourse.lm.decode`` (cached per setting); this module only draws on two Axes and
wires the controls. Nothing is trained here: the models are the shipped ones (``lm.pretrained``).
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import lm
from ..textgen import temperature_probs
from .explorer import CONTROL_WIDTH, Explorer, slider, text_box
from .style import COLORS

__all__ = ["DecodingExplorer", "decoding_explorer", "PROMPTS", "show_char"]

#: the prompts offered (every character is in the vocabulary of The Devil's Dictionary)
PROMPTS = ("A man who ", "The King of ", "LOVE, n. ", "The ")
N_CHARS = 80  # characters generated per setting
TOP = 8  # bars in the probability plot


def show_char(ch):
    """A character made visible: a space as ``␣``, a line break as ``↵``."""
    return {" ": "␣", "\n": "↵"}.get(ch, ch)


def draw_topk_bars(ax, k):
    """``k`` empty horizontal bar pairs (the model's p, and p at the sampling temperature) with a
    label each; all animated. Returns the artists."""
    y = np.arange(k)
    model = ax.barh(y + 0.2, np.zeros(k), height=0.4, color=COLORS["main"], label="model, τ = 1")
    tempered = ax.barh(y - 0.2, np.zeros(k), height=0.4, color=COLORS["alt"], label="what is sampled from")
    labels = [
        ax.text(-0.02, yi, "", ha="right", va="center", fontsize=11, transform=ax.get_yaxis_transform())
        for yi in y
    ]
    ax.set(xlim=(0, 1), ylim=(k - 0.5, -0.6), yticks=[], xlabel="probability of the next character")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    title = ax.set_title("", fontsize=10)
    arts = {"model": list(model), "tempered": list(tempered), "labels": labels, "title": title}
    for a in arts["model"] + arts["tempered"] + labels + [title]:
        a.set_animated(True)
    return arts


def update_topk_bars(arts, chars, p_model, p_tempered, chosen, title):
    for bar, v in zip(arts["model"], p_model, strict=True):
        bar.set_width(float(v))
    for bar, v in zip(arts["tempered"], p_tempered, strict=True):
        bar.set_width(float(v))
    for t, ch in zip(arts["labels"], chars, strict=True):
        t.set_text(show_char(ch))
        t.set_fontweight("bold" if ch == chosen else "normal")
    arts["title"].set_text(title)


def draw_logp_trace(ax, n):
    """The log-probability of each generated character (animated line) and a marker for the step."""
    (line,) = ax.plot(np.arange(1, n + 1), np.zeros(n), "-", color=COLORS["main"], lw=1.5)
    (dot,) = ax.plot([1], [0], "o", color=COLORS["ref"], ms=7)
    mean = ax.axhline(0, color=COLORS["full"], ls="--", lw=1)
    ax.set(xlim=(0.5, n + 0.5), ylim=(-8, 0.3), xlabel="generated character", ylabel="log p (nats)")
    ax.grid(alpha=0.3)
    box = text_box(ax, y=0.05, va="bottom")
    for a in (line, dot, mean):
        a.set_animated(True)
    return {"line": line, "dot": dot, "mean": mean, "box": box}


def update_logp_trace(arts, logp, step):
    arts["line"].set_ydata(np.maximum(logp, -8))
    arts["dot"].set_data([step], [max(float(logp[step - 1]), -8)])
    arts["mean"].set_ydata([logp.mean(), logp.mean()])
    arts["box"].set_text(f"dashed: mean {logp.mean():.2f} nats per character")


class DecodingExplorer(Explorer):
    """Lesson 9: one trained model, one prompt, one decoding method -> the text it writes, how
    likely the model finds each character, and the top next-character probabilities at one step."""

    def __init__(self, models, n=N_CHARS):
        if not isinstance(models, dict) or not models:
            raise ValueError(
                f"models must be a non-empty dict {{cell: Pretrained}}, got {type(models).__name__}"
            )
        self.models = models
        self.n = int(n)
        W = f"{CONTROL_WIDTH}px"
        controls = {
            "cell": widgets.Dropdown(
                options=list(models),
                value="lstm" if "lstm" in models else list(models)[0],
                description="model",
                layout=widgets.Layout(width=W),
            ),
            "prompt": widgets.Dropdown(
                options=list(PROMPTS), value=PROMPTS[0], description="prompt", layout=widgets.Layout(width=W)
            ),
            "method": widgets.Dropdown(
                options=list(lm.DECODING_METHODS),
                value="sample",
                description="decoding",
                layout=widgets.Layout(width=W),
            ),
            "temperature": slider("float", 1.0, 0.1, 2.0, 0.1, "temperature τ (sample)"),
            "width": slider("int", 4, 1, 8, 1, "beam width B (beam)"),
            "seed": slider("int", 0, 0, 9, 1, "seed (sample)"),
            "step": slider("int", 1, 1, self.n, 1, "show step"),
        }

        def layout(fig):
            a1, a2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
            fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
            return {"trace": a1, "bars": a2}

        super().__init__(controls, (10, 3.6), layout)

    def _decode(self, cell, prompt, method, temperature, width, seed):
        pre = self.models[cell]
        return lm.decode(pre.model, pre.vocab, prompt, self.n, method, temperature, width, seed)

    def compute(self, cell, prompt, method, temperature, width, seed, step):
        if cell not in self.models:
            raise ValueError(f"cell must be one of {list(self.models)}, got {cell!r}")
        if method not in lm.DECODING_METHODS:
            raise ValueError(f"method must be one of {list(lm.DECODING_METHODS)}, got {method!r}")
        # settings a method does not use do not change its result (and do not recompute it)
        t = float(temperature) if method == "sample" else 1.0
        w = int(width) if method == "beam" else 1
        s = int(seed) if method == "sample" else 0
        out = self.cached(self._decode, cell, prompt, method, t, w, s)
        vocab = self.models[cell].vocab
        step = int(min(max(step, 1), self.n))
        p = out["probs"][step - 1]
        ids, p_top = lm.top_k(p, TOP)
        tau = 0.0 if method != "sample" else t
        p_tau = (
            temperature_probs(np.log(np.maximum(p, 1e-300)), tau)[ids] if method != "beam" else p_top * np.nan
        )
        text = out["text"]
        return {
            **out,
            "cell": cell,
            "prompt": prompt,
            "method": method,
            "step": step,
            "chosen": text[step - 1],
            "top_chars": [vocab.chars[i] for i in ids],
            "top_p": p_top,
            "top_p_sampled": np.nan_to_num(p_tau),
            "p_chosen": float(np.exp(out["logp"][step - 1])),
        }

    def draw(self, s):
        self.artists["trace"] = draw_logp_trace(self.axes["trace"], self.n)
        self.artists["bars"] = draw_topk_bars(self.axes["bars"], TOP)
        self.update(s)

    def update(self, s):
        update_logp_trace(self.artists["trace"], s["logp"], s["step"])
        before = s["text"][max(0, s["step"] - 12) : s["step"] - 1]
        title = f'step {s["step"]}: after "{"".join(show_char(c) for c in before)}"'
        update_topk_bars(
            self.artists["bars"], s["top_chars"], s["top_p"], s["top_p_sampled"], s["chosen"], title
        )
        return False

    def key_numbers(self, s):
        how = {
            "greedy": "greedy (arg max)",
            "sample": "sampling, τ = {:.1f}".format(self.controls["temperature"].value),
            "beam": "beam search, B = {}".format(self.controls["width"].value),
        }[s["method"]]
        return [
            f"{s['cell'].upper()} · {how}",
            f"text: {s['prompt']}|{s['text']}",
            f"log p per character: {s['logp_per_char']:.2f} nats",
            f"repeated 4-character pieces: {100 * s['repeated']:.0f} %",
            f"step {s['step']}: chose '{show_char(s['chosen'])}' (model p = {s['p_chosen']:.2f})",
        ]


def decoding_explorer(models, n=N_CHARS):
    """Lesson 9: ``models`` is ``{cell: lm.Pretrained}``. Controls: ``cell``, ``prompt`` (one of
    ``PROMPTS``), ``method`` ("greedy", "sample", "beam"), ``temperature`` (sampling only),
    ``width`` (beam only), ``seed`` (sampling only), ``step`` (which generated character to look at).
    Left: the model's log-probability of each generated character. Right: the ``TOP`` most likely
    next characters at that step, under the model (τ = 1) and in the distribution actually sampled
    from. State: ``text``, ``logp``, ``logp_per_char``, ``repeated``, ``top_chars``, ``top_p``, ..."""
    return DecodingExplorer(models, n)
