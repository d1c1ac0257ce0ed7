"""Train the character language models that ship with the course (lesson 9), offline.

One model per cell (``rnn``, ``lstm``, ``gru``) is trained on the first 90 % of
``devils_dictionary.txt`` as a sequential stream (``char_stream``, the state carried from batch to
batch, truncated BPTT of ``T`` characters) with Adam and gradient clipping, and saved as
``charlm_<cell>.npz``: the parameters in float32, the vocabulary, and how it was made (steps,
seconds, the validation loss on the last 10 % of the text). Everything is seeded, so a rerun gives
the same files on the same machine (BLAS may change the last bits elsewhere).

    OPENBLAS_NUM_THREADS=1 python -m rnncourse.data.make_charlm        # all three cells
    OPENBLAS_NUM_THREADS=1 python -m rnncourse.data.make_charlm lstm   # one cell

On an idle 2-core machine the RNN takes about 1.5 minutes and the LSTM and GRU about 4 minutes
each. Use one BLAS thread: these matrices are small, and on a busy machine OpenBLAS's spinning
worker threads made training several times slower.

Nothing here runs when a student opens a lesson: lessons load the shipped ``.npz`` files with
``rnncourse.lm.pretrained``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

CORPUS = "devil"
HIDDEN = 128
EMBED = 32
T = 64
BATCH = 32
SCHEDULE = ((3000, 3e-3), (2000, 1e-3))  # (steps, learning rate), run one after the other
CLIP = 5.0
SEED = 9
VALID_FRACTION = 0.1


def valid_loss(model, ids, T_eval=256):
    """Mean cross-entropy (nats per character) over ``ids``, state carried across windows."""
    from rnncourse.nn.model import forward_loss

    n = (len(ids) - 1) // T_eval
    x = ids[: n * T_eval].reshape(1, n * T_eval)
    y = ids[1 : n * T_eval + 1].reshape(1, n * T_eval)
    h0 = c0 = None
    total = 0.0
    for k in range(n):
        sl = slice(k * T_eval, (k + 1) * T_eval)
        loss, _, (h0, c0), _ = forward_loss(model, x[:, sl], y[:, sl], np.ones((1, T_eval)), h0, c0)
        total += loss
    return total / (n * T_eval)


def train_one(cell: str) -> Path:
    from rnncourse.lm import split_text
    from rnncourse.nn.model import SequenceModel, train
    from rnncourse.tasks import CharVocab, char_stream, load_corpus

    text = load_corpus(CORPUS)
    vocab = CharVocab.from_text(text)
    train_text, valid_text = split_text(text, VALID_FRACTION)
    task = char_stream(T=T, batch_size=BATCH, text=train_text)
    # the vocabulary of the whole text, so that validation characters all have ids
    model = SequenceModel.create(
        cell, vocab.size, HIDDEN, vocab.size, vocab_size=vocab.size, embed_dim=EMBED, rng=SEED
    )
    stream_vocab = task.extra["vocab"]
    assert stream_vocab.chars == vocab.chars, "the training part must contain every character"
    t0 = time.perf_counter()
    steps = 0
    for n_steps, lr in SCHEDULE:
        hist = train(
            model, task, steps=n_steps, batch_size=BATCH, lr=lr, clip=CLIP, carry_state=True, rng=SEED
        )
        model = hist.model
        steps += n_steps
        print(f"{cell}: {steps} steps, lr {lr}, last train loss {np.mean(hist.loss[-50:]) / T:.3f} nats/char")
    seconds = time.perf_counter() - t0
    vl = valid_loss(model, vocab.encode(valid_text))
    meta = {
        "cell": cell,
        "corpus": CORPUS,
        "hidden": HIDDEN,
        "embed": EMBED,
        "T": T,
        "batch": BATCH,
        "schedule": SCHEDULE,
        "clip": CLIP,
        "seed": SEED,
        "steps": steps,
        "train_seconds": round(seconds, 1),
        "valid_fraction": VALID_FRACTION,
        "valid_nats_per_char": vl,
        "valid_bits_per_char": vl / np.log(2),
        "numpy": np.__version__,
    }
    print(json.dumps(meta))
    out = HERE / f"charlm_{cell}.npz"
    arrays = {k: v.astype(np.float32) for k, v in model.params.items()}
    np.savez_compressed(
        out,
        chars=np.array([ord(c) for c in vocab.chars], dtype=np.int32),
        meta=np.array(json.dumps(meta)),
        **arrays,
    )
    return out


def main(argv: list[str]) -> int:
    cells = argv or ["rnn", "lstm", "gru"]
    for cell in cells:
        print("wrote", train_one(cell))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
