"""Character language models on real text (lesson 9): the shipped trained models and the text split.

``pretrained(cell)`` loads a character-level model trained offline by
``python -m rnncourse.data.make_charlm`` on the first 90 % of *The Devil's Dictionary* (Ambrose
Bierce, 1911, public domain; see ``rnncourse/data/CORPORA.md``). The last 10 % is held out:
``split_text`` gives both parts, so a lesson measures the model on text it never trained on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

from .nn.model import SequenceModel
from .tasks import CharVocab, load_corpus

__all__ = ["Pretrained", "pretrained", "split_text", "PRETRAINED_CELLS"]

PRETRAINED_CELLS = ("rnn", "lstm", "gru")


@dataclass(frozen=True)
class Pretrained:
    """A trained character model: ``model`` (float64 parameters), its ``vocab``, the ``text`` it
    was trained on (``train_text``) and held out (``valid_text``), and ``meta`` (how it was made)."""

    model: SequenceModel
    vocab: CharVocab
    train_text: str
    valid_text: str
    meta: dict


def split_text(text, valid_fraction=0.1):
    """``(train, valid)``: the first ``1 - valid_fraction`` of ``text`` and the rest, cut at a
    line break so no line is split between them."""
    if not isinstance(text, str) or len(text) < 2:
        raise ValueError(f"text must be a string of at least 2 characters, got {text!r:.40}")
    if not (0.0 < valid_fraction < 1.0):
        raise ValueError(f"valid_fraction must be between 0 and 1 (exclusive), got {valid_fraction!r}")
    cut = int(len(text) * (1.0 - valid_fraction))
    nl = text.find("\n", cut)
    cut = cut if nl < 0 else nl + 1
    return text[:cut], text[cut:]


def pretrained(cell="lstm"):
    """The shipped character model for ``cell`` ("rnn", "lstm" or "gru"), as a ``Pretrained``."""
    if cell not in PRETRAINED_CELLS:
        raise ValueError(f"cell must be one of {list(PRETRAINED_CELLS)}, got {cell!r}")
    ref = resources.files("rnncourse").joinpath("data", f"charlm_{cell}.npz")
    with resources.as_file(ref) as path, np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        chars = "".join(chr(int(c)) for c in data["chars"])
        params = {k: data[k].astype(np.float64) for k in data.files if k not in ("chars", "meta")}
    vocab = CharVocab(chars)
    model = SequenceModel(cell, params, "softmax", vocab.size)
    train_text, valid_text = split_text(load_corpus(meta["corpus"]), meta["valid_fraction"])
    return Pretrained(model, vocab, train_text, valid_text, meta)
