"""Shared by the widget tests: build any explorer, move one control from code and report whether
the picture changed, and list the values a control can take."""

import numpy as np

PNG = b"\x89PNG\r\n\x1a\n"


def redraws(ex, control, value):
    """Set ``ex.controls[control]`` to ``value``; assert exactly one update produced a PNG in the
    explorer's Image widget; return whether the PNG differs from the one before."""
    before = (len(ex.timings), ex.png)
    ex.controls[control].value = value
    assert len(ex.timings) == before[0] + 1, "the control did not trigger an update"
    assert ex.image.value == ex.png and ex.png.startswith(PNG)
    return ex.png != before[1]


def small_training_run():
    from rnncourse import diagnostics as dg
    from rnncourse import tasks
    from rnncourse.nn import SequenceModel

    task = tasks.sine(T=20)
    model = SequenceModel.for_task("rnn", task, 8, rng=0)
    hist, snaps = dg.train_with_snapshots(model, task, steps=60, every=20, batch_size=16, rng=0)
    return hist, snaps, task


def build(name):
    """A fresh explorer by builder name (the training explorer on a 60-step run of the sine task)."""
    from rnncourse.viz import widgets as W

    if name == "training_explorer":
        return W.training_explorer(*small_training_run(), n_examples=4)
    return getattr(W, name)()


def extremes(w):
    """The values of control ``w`` to visit: min and max of a slider, every option otherwise."""
    if hasattr(w, "options"):
        opts = [o[1] if isinstance(o, tuple) else o for o in w.options]
        return [opts[0], opts[-1]] if len(opts) > 2 else opts
    return [w.min, w.max]


def lines(artists):
    """Every Line2D in an explorer's (nested) artist dict."""
    from matplotlib.lines import Line2D

    out = []
    for a in artists.values():
        if isinstance(a, dict):
            out += lines(a)
        elif isinstance(a, Line2D):
            out.append(a)
    return out


def finite_state(state):
    """Names of the state entries holding inf or an unexpected NaN (``direct`` is NaN before the
    pulse by design)."""
    bad = []
    for k, v in state.items():
        if isinstance(v, dict):
            v = np.concatenate([np.ravel(x) for x in v.values()])
        if isinstance(v, (float, np.ndarray)) and np.asarray(v).dtype.kind == "f":
            v = np.asarray(v)
            if np.isinf(v).any() or (k != "direct" and np.isnan(v).any()):
                bad.append(k)
    return bad
