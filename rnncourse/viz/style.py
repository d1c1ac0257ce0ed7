"""One colour palette and one size setting for every picture of the course.

**Palette.** The eight colours of Okabe and Ito ("Color Universal Design", 2008), chosen so that
people with the common forms of colour blindness (red-green, and blue-yellow) can still tell them
apart. Plots and explorers use the *names* below, never a matplotlib default colour cycle, and a
line that must be told apart from another also differs in line style or marker where it matters.

**Demo mode.** For a projector in a lecture, ``rnncourse.viz.demo_mode(True)`` makes every
explorer's figure, its fonts and its text larger (explorers already on screen redraw at the new
size; new ones start at it). The environment variable ``RNNCOURSE_DEMO=1`` switches it on before
the kernel starts. ``demo_mode(False)`` switches it off again; ``demo_mode()`` only reports it.
"""

from __future__ import annotations

import os
import weakref

__all__ = [
    "OKABE_ITO",
    "COLORS",
    "GATE_COLORS",
    "CELL_COLORS",
    "unit_colors",
    "demo_mode",
    "scale",
    "DEMO_SCALE",
]

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

# What each colour means in the plots (the same meaning in every lesson).
COLORS = {
    "main": OKABE_ITO["blue"],  # the quantity the plot is about
    "alt": OKABE_ITO["orange"],  # the thing it is compared with (truncated, prediction)
    "third": OKABE_ITO["bluish_green"],
    "ref": OKABE_ITO["vermillion"],  # reference lines, chance levels, the current position
    "full": "0.35",  # the complete / untouched version (grey)
    "target": "0.15",
}

GATE_COLORS = {
    "i": OKABE_ITO["bluish_green"],
    "f": OKABE_ITO["blue"],
    "o": OKABE_ITO["reddish_purple"],
    "g": OKABE_ITO["orange"],
    "z": OKABE_ITO["blue"],
    "r": OKABE_ITO["vermillion"],
    "n": OKABE_ITO["orange"],
}

CELL_COLORS = {"rnn": "0.35", "lstm": OKABE_ITO["blue"], "gru": OKABE_ITO["orange"]}

_UNIT_CYCLE = [
    OKABE_ITO[k]
    for k in ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue", "black", "yellow")
]


def unit_colors(n):
    """``n`` colours for ``n`` hidden units (the Okabe-Ito cycle, repeated if ``n > 8``)."""
    return [_UNIT_CYCLE[j % len(_UNIT_CYCLE)] for j in range(n)]


# --------------------------------------------------------------------------- demo mode

DEMO_SCALE = 1.6
_demo = os.environ.get("RNNCOURSE_DEMO", "").strip().lower() in ("1", "true", "yes", "on")
_listeners = weakref.WeakSet()  # explorers on screen, redrawn when the setting changes


def scale():
    """The size factor every explorer applies to its figure and text (1 normally)."""
    return DEMO_SCALE if _demo else 1.0


def demo_mode(on=None):
    """Switch demo mode (large figures and fonts, for a projector) on or off; return the setting.

    ``demo_mode()`` returns whether it is on without changing it. Explorers already displayed
    redraw at the new size at once.
    """
    global _demo
    if on is not None:
        if not isinstance(on, bool):
            raise TypeError(f"demo_mode(on) expects True, False or nothing, got {type(on).__name__}")
        changed = on != _demo
        _demo = on
        if changed:
            for listener in list(_listeners):
                listener._apply_scale()
    return _demo


def _register(explorer):
    _listeners.add(explorer)
