"""Ensemble training against training the same models one by one (and against torch, if present).

Workload: ``M`` small models (``H = 16`` units, readout over the 8 Reber symbols) each train
``steps`` Adam steps (lr 0.01, clipping at global norm 1, batch 32) on embedded-Reber batches of
lag 10 (``T = 34``), the shape of one column of lesson 7's lag sweep. The batches are drawn once
before timing and replayed, so the timings measure training, not the data generator:

* **one by one**: ``rnncourse.nn.train`` for each model in turn, exactly as a student would train
  one model (the course's own trainer as it is, float64), fed the pre-drawn batches through a
  replaying task;
* **ensemble**: ``rnncourse.nn.ensemble.ensemble_train`` on all ``M`` models at once, in float64
  (same results as one by one, to 1e-10) and in float32;
* **torch** (if importable): ``torch.nn.{RNN,LSTM,GRU}`` + ``Linear`` + ``Adam`` for each model in
  turn, float32, with clipping, on the same batches.

Every variant is run ``--repeats`` times, interleaved, and the minimum wall time is reported, with
the minimum process CPU time beside it (CPU time is less disturbed when other processes share the
cores; on a busy machine compare the CPU columns). The speed-ups are against "one by one".
BLAS threads are pinned with threadpoolctl (default 1). Run from the repository root::

    .venv/bin/python benchmarks/bench_ensemble.py                 # M=32, 20 steps, 3 repeats
    .venv/bin/python benchmarks/bench_ensemble.py --quick         # a short smoke run
    /tmp/torchvenv/bin/python benchmarks/bench_ensemble.py        # with the torch column
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import numpy as np  # noqa: E402

from rnncourse import tasks  # noqa: E402
from rnncourse.nn import SequenceModel, train  # noqa: E402
from rnncourse.nn.ensemble import ensemble_train, stack_params  # noqa: E402

HIDDEN, BATCH, LR, CLIP, LAG = 16, 32, 1e-2, 1.0, 10


class _Replay:
    """A task whose ``sample`` hands out pre-drawn batches in order (the model's own stream)."""

    def __init__(self, task, batches):
        self.task, self.batches, self.i = task, batches, 0
        self.input_dim, self.output_dim, self.loss, self.vocab_size = (
            task.input_dim,
            task.output_dim,
            task.loss,
            task.vocab_size,
        )

    def sample(self, n, rng):
        b = self.batches[self.i]
        self.i += 1
        return b


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def _torch_one_by_one(torch, cell, models, batches):
    mods = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}
    K = tasks.embedded_reber(LAG, stats_samples=1).output_dim
    for m, _ in enumerate(models):
        rnn = mods[cell](8, HIDDEN, batch_first=True)
        lin = torch.nn.Linear(HIDDEN, K)
        params = list(rnn.parameters()) + list(lin.parameters())
        opt = torch.optim.Adam(params, lr=LR)
        for b in batches[m]:
            x = torch.from_numpy(b.x.astype(np.float32))
            y = torch.from_numpy(b.y)
            mask = torch.from_numpy(b.mask.astype(np.float32))
            h, _ = rnn(x)
            logp = torch.log_softmax(lin(h), dim=-1)
            loss = -(logp.gather(-1, y[..., None])[..., 0] * mask).sum() / x.shape[0]
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, CLIP)
            opt.step()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=int, default=32)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cells", default="rnn,lstm,gru")
    ap.add_argument("--quick", action="store_true", help="8 models, 5 steps, 1 repeat")
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.models, args.steps, args.repeats = 8, 5, 1
    try:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=args.threads)
    except ImportError:  # pragma: no cover
        limiter = None
        os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    torch = None
    if not args.no_torch:
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            print("torch not installed: pip install torch==2.13.0 in a separate venv to compare")
    M, S = args.models, args.steps
    print(
        f"# ensemble vs one by one: M={M} models, {S} steps, H={HIDDEN}, batch {BATCH}, lag {LAG}; "
        f"{args.threads} BLAS thread(s); numpy {np.__version__}"
        + (f", torch {torch.__version__}" if torch else "")
        + f"; {platform.processor() or platform.machine()}"
    )
    print("# minimum over repeats; wall seconds (CPU seconds); the machine may be shared, so expect noise")
    task = tasks.embedded_reber(lag=LAG)
    batches = [[task.sample(BATCH, np.random.default_rng([m, s])) for s in range(S)] for m in range(M)]
    x = np.stack([np.stack([b.x for b in bs]) for bs in batches], axis=1)  # (S, M, N, T, D)
    y = np.stack([np.stack([b.y for b in bs]) for bs in batches], axis=1)
    mask = np.stack([np.stack([b.mask for b in bs]) for bs in batches], axis=1)
    rows = []
    for cell in args.cells.split(","):
        models = [SequenceModel.for_task(cell, task, HIDDEN, rng=m) for m in range(M)]
        stacked = stack_params([mo.params for mo in models])

        def one_by_one():
            for m, mo in enumerate(models):
                train(mo, _Replay(task, batches[m]), steps=S, batch_size=BATCH, lr=LR, clip=CLIP)

        def ensemble(dtype):
            p = {k: v.astype(dtype) for k, v in stacked.items()}
            xs = x.astype(dtype)

            def run():
                it = iter(range(S))

                def sample():
                    s = next(it)
                    return xs[s], y[s], mask[s]

                return ensemble_train(cell, p, sample, steps=S, lr=LR, clip=CLIP)

            return run

        variants = {
            "one by one (float64)": one_by_one,
            "ensemble float64": ensemble(np.float64),
            "ensemble float32": ensemble(np.float32),
        }
        if torch is not None:
            variants["torch one by one (float32)"] = lambda: _torch_one_by_one(torch, cell, models, batches)
        best = {k: (np.inf, np.inf) for k in variants}
        for _ in range(args.repeats):
            for name, fn in variants.items():
                _, w, c = _timed(fn)
                best[name] = (min(best[name][0], w), min(best[name][1], c))
        base = best["one by one (float64)"]
        for name, (w, c) in best.items():
            rows.append((cell, name, w, c, base[0] / w, base[1] / c))
    print("\n| cell | variant | wall s | CPU s | speed-up (wall) | speed-up (CPU) |")
    print("|---|---|---|---|---|---|")
    for cell, name, w, c, sw, sc in rows:
        print(f"| {cell} | {name} | {w:.2f} | {c:.2f} | {sw:.1f}x | {sc:.1f}x |")
    if limiter is not None:
        limiter.unregister() if hasattr(limiter, "unregister") else None


if __name__ == "__main__":
    main()
