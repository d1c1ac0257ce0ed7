"""Train the lesson-7 lag sweep offline and save it as ``reber_lags_seed{S}.npz`` (then merged by
``--merge`` into ``reber_lags.npz``, the file the lesson reads).

For every lag and every cell ("rnn", "lstm", "gru"), a small model (16 hidden units) learns
next-symbol prediction on ``tasks.embedded_reber(lag)`` with Adam (lr 0.01, batch 32, clipping at
global norm 1) for 4000 steps. Every 200 steps it is evaluated on one fixed batch of 512 strings:
the accuracy on the *critical* steps (where the second symbol, T or P, must be recalled; see
``tasks.reber_critical_positions``) and the masked mean loss. The sweep takes about 10 minutes
per seed on one core, model by model; the lesson looks the results up, and its optional rerun cell
trains the same grid live on the ensemble trainer (``rnncourse.sweeps.reber_lag_sweep``).

    python -m rnncourse.data.make_reber_lags --seed 0
    python -m rnncourse.data.make_reber_lags --seed 1
    python -m rnncourse.data.make_reber_lags --merge 0 1
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from rnncourse import tasks
from rnncourse.nn import SequenceModel, evaluate, predict, train

LAGS = (0, 5, 10, 15, 20, 30)
CELLS = ("rnn", "lstm", "gru")
HIDDEN, STEPS, EVERY, BATCH, LR, CLIP = 16, 4000, 200, 32, 1e-2, 1.0
HERE = Path(__file__).resolve().parent


def critical_accuracy(model, batch):
    rows, cols = tasks.reber_critical_positions(batch)
    scores = predict(model, batch.x)
    return float(np.mean(scores[rows, cols].argmax(-1) == batch.y[rows, cols]))


def sweep(seed):
    acc = np.zeros((len(CELLS), len(LAGS), STEPS // EVERY + 1))
    loss = np.zeros_like(acc)
    for li, lag in enumerate(LAGS):
        task = tasks.embedded_reber(lag=lag)
        test = task.sample(512, np.random.default_rng(10_000 + lag))
        n_scored = test.mask.sum(axis=1).mean()
        for ci, cell in enumerate(CELLS):
            t0 = time.perf_counter()
            model = SequenceModel.for_task(cell, task, HIDDEN, rng=seed)
            log = []

            def measure(m):
                log.append((critical_accuracy(m, test), evaluate(m, test)["loss"] / n_scored))

            measure(model)
            train(
                model,
                task,
                steps=STEPS,
                batch_size=BATCH,
                lr=LR,
                clip=CLIP,
                rng=seed,
                callback=lambda hist: measure(hist.model),
                callback_every=EVERY,
            )
            acc[ci, li], loss[ci, li] = np.array(log).T
            print(
                f"seed {seed} lag {lag:2d} {cell:4s}: critical accuracy {acc[ci, li, -1]:.2f} "
                f"({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    np.savez(HERE / f"reber_lags_seed{seed}.npz", acc=acc, loss=loss)


def merge(seeds):
    parts = [np.load(HERE / f"reber_lags_seed{s}.npz") for s in seeds]
    np.savez_compressed(
        HERE / "reber_lags.npz",
        lags=np.array(LAGS),
        cells=np.array(CELLS),
        seeds=np.array(seeds),
        steps=np.arange(0, STEPS + 1, EVERY),
        hidden=HIDDEN,
        # (cell, seed, lag, evaluation)
        critical_accuracy=np.stack([p["acc"] for p in parts], axis=1).astype(np.float32),
        loss=np.stack([p["loss"] for p in parts], axis=1).astype(np.float32),
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int)
    ap.add_argument("--merge", type=int, nargs="+")
    args = ap.parse_args()
    if args.merge:
        merge(args.merge)
    else:
        sweep(args.seed)
