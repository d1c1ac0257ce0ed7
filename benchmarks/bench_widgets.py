"""Widget latency: kernel-side time from a control change to the new PNG in the Image widget.

For every explorer at its default settings, set one control programmatically ``--n`` times
(cycling through a few values, as a learner dragging a slider would) and time each assignment.
The observer runs synchronously, so the time of ``control.value = v`` covers the whole update:
compute, artist updates, drawing, PNG encoding and handing the bytes to the ``Image`` widget.
Prints p50 / p95 / max in milliseconds per explorer and control; exits 1 if any p95 exceeds
``--budget`` ms (100 by default). This is where widget speed is checked: the test suite has no
timed assertions (a loaded machine would make them fail for no bug). ``--demo`` measures in demo
mode (larger figures for a projector: more pixels to draw and encode).

    MPLBACKEND=Agg .venv/bin/python benchmarks/bench_widgets.py [--n 60] [--budget 100] [--demo]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402


def build_all():
    from rnncourse import diagnostics as dg
    from rnncourse import tasks
    from rnncourse.nn import SequenceModel
    from rnncourse.viz import widgets as W

    task = tasks.sine(T=30)
    hist, snaps = dg.train_with_snapshots(
        SequenceModel.for_task("rnn", task, 16, rng=0), task, steps=200, every=20, rng=0
    )
    return {
        "hidden_state (L1)": (W.hidden_state_explorer(), ["radius", "input_scale", "t", "pattern"]),
        "training (L0, L2)": (W.training_explorer(hist, snaps, task), ["snapshot", "example"]),
        "bptt (L3)": (W.bptt_explorer(), ["k", "radius", "loss_at"]),
        "jacobian (L4)": (W.jacobian_explorer(), ["radius", "input_scale", "init"]),
        "clipping (L4)": (W.clipping_explorer(), ["angle", "length", "threshold"]),
        "lstm_gate (L5)": (W.lstm_gate_explorer(), ["forget_bias", "input_bias", "recurrent"]),
        "gru_memory (L6)": (W.gru_memory_explorer(), ["update_bias", "reset_bias"]),
        **_reber(W),
        **_lm(),
        **_inside(),
    }


def _reber(W):
    """The lesson-7 explorer reads the shipped sweep; skipped (with a note) if it is not there."""
    try:
        return {"reber_lag (L7)": (W.reber_lag_explorer(), ["lag"])}
    except FileNotFoundError as err:
        print(f"reber_lag (L7) skipped: {err}")
        return {}


def _lm():
    """Lesson 9's decoding explorer on the shipped character models (a new setting generates 80
    characters; the step slider only redraws)."""
    from rnncourse import lm
    from rnncourse.viz.lm import decoding_explorer

    models = {cell: lm.pretrained(cell) for cell in lm.PRETRAINED_CELLS}
    return {"decoding (L9)": (decoding_explorer(models), ["step", "temperature", "width", "seed"])}


def _inside():
    """Lesson 10's explorers on the shipped character models (4000 held-out characters each)."""
    from rnncourse import interpret as I
    from rnncourse.lm import pretrained
    from rnncourse.viz import inside as V

    try:
        lm = {cell: pretrained(cell) for cell in ("rnn", "lstm", "gru")}
    except FileNotFoundError as err:
        print(f"lesson 10 explorers skipped: {err}")
        return {}
    traces = {
        c: (
            I.trace(pt.model, pt.vocab, pt.train_text[-4000:]),
            I.trace(pt.model, pt.vocab, pt.valid_text[:4000]),
        )
        for c, pt in lm.items()
    }
    links = {c: (pt.model, pt.vocab, traces[c][1]) for c, pt in lm.items()}
    return {
        "units (L10)": (V.unit_explorer(traces, (2000, 3300)), ["unit", "quantity", "model", "best_for"]),
        "links (L10)": (V.connectivity_explorer(links, (2000, 3300)), ["t", "model"]),
    }


def slider_walk(w, n):
    """``n`` values a learner dragging ``w`` would produce: every value of the control in order,
    then back, and so on (the first pass visits values no cache has seen)."""
    if hasattr(w, "options"):
        opts = [o[1] if isinstance(o, tuple) else o for o in w.options]
    else:
        opts = list(np.round(np.arange(w.min, w.max + w.step / 2, w.step), 6))
        opts = [type(w.value)(v) for v in opts]
    start = opts.index(w.value) if w.value in opts else 0
    path = opts[start + 1 :] + opts[::-1] + opts[1:]
    while len(path) < n:
        path += path
    return path[:n]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60, help="updates per control (default 60)")
    ap.add_argument("--budget", type=float, default=100.0, help="p95 budget in ms (default 100)")
    ap.add_argument("--demo", action="store_true", help="measure in demo mode (projector size)")
    args = ap.parse_args(argv)
    if args.demo:
        from rnncourse.viz import demo_mode

        demo_mode(True)
    explorers = build_all()
    rows = []
    for name, (ex, sweeps) in explorers.items():
        all_ms = []
        for control in sweeps:
            w = ex.controls[control]
            default = w.value
            ms = []
            for v in slider_walk(w, args.n):
                if v == w.value:  # an unchanged value fires no callback
                    continue
                before = len(ex.timings)
                t0 = time.perf_counter()
                w.value = v
                ms.append(1e3 * (time.perf_counter() - t0))
                assert len(ex.timings) == before + 1 and ex.image.value == ex.png, "no redraw happened"
            w.value = default
            all_ms += ms
            rows.append((name, control, ms))
        rows.append((name, "all controls", all_ms))
    print(f"{'explorer':<20} {'control':<14} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    worst = 0.0
    for name, control, ms in rows:
        p50, p95 = np.percentile(ms, [50, 95])
        worst = max(worst, p95)
        print(f"{name:<20} {control:<14} {len(ms):>4} {p50:>8.1f} {p95:>8.1f} {max(ms):>8.1f}")
    print(f"worst p95: {worst:.1f} ms (budget {args.budget:.0f} ms)")
    return 0 if worst <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
