"""The real texts and trained character models shipped with the course (lessons 9 and 10)."""

import hashlib

import numpy as np
import pytest

from rnncourse import lm
from rnncourse.data import make_charlm, make_real_corpora
from rnncourse.tasks import list_corpora, load_corpus


@pytest.mark.parametrize("name", sorted(make_real_corpora.SHA256))
def test_shipped_text_is_the_packaged_one(name):
    """The files equal what ``make_real_corpora.py`` makes from the Debian packages (recorded sums)."""
    path = make_real_corpora.HERE / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == make_real_corpora.SHA256[name]


def test_corpora_load_and_are_documented():
    assert {"default", "devil", "tang300"} <= set(list_corpora())
    devil, tang = load_corpus("devil"), load_corpus("tang300")
    assert "THE DEVIL'S DICTIONARY" in devil and "A Public Domain Text, Copyright Expired" in devil
    assert "00-database" not in devil and "\x1b" not in tang and "\n%\n" not in tang
    assert 300_000 < len(devil) < 400_000 and tang.count("\n\n") + 1 == 319
    doc = (make_real_corpora.HERE / "CORPORA.md").read_text(encoding="utf-8")
    for word in ("devils_dictionary.txt", "tang300.txt", "public domain", "dict-devil", "fortunes-zh"):
        assert word in doc


def test_clean_devil_drops_dictd_records():
    raw = "00-database-short\n  x\n   The Internet Wiretap 1st Online Edition of  \n\nA, n.  b  \n\n abcdefghijklmnopqrstuvwxyz\n"
    assert make_real_corpora.clean_devil(raw) == "   The Internet Wiretap 1st Online Edition of\n\nA, n.  b\n"


def test_split_text_cuts_at_a_line_break():
    train, valid = lm.split_text("ab\ncd\nef\ngh\n", 0.5)
    assert train + valid == "ab\ncd\nef\ngh\n" and train.endswith("\n") and train == "ab\ncd\nef\n"
    with pytest.raises(ValueError, match="valid_fraction"):
        lm.split_text("abc", 1.5)


@pytest.mark.parametrize("cell", lm.PRETRAINED_CELLS)
def test_pretrained_model_loads_and_predicts_held_out_text(cell):
    p = lm.pretrained(cell)
    assert p.model.cell == cell and p.vocab.chars == "".join(sorted(set(load_corpus("devil"))))
    assert p.train_text + p.valid_text == load_corpus("devil")
    # the recorded held-out loss is reproduced from the shipped (float32) weights
    nats = make_charlm.valid_loss(p.model, p.vocab.encode(p.valid_text[:20_000]))
    assert abs(nats - p.meta["valid_nats_per_char"]) < 0.15
    uniform = np.log(p.vocab.size)
    assert nats < 0.5 * uniform  # far better than guessing uniformly
    with pytest.raises(ValueError, match="cell must be one of"):
        lm.pretrained("transformer")
