"""Lesson 9 (language models on real text): the decoding explorer driven without a browser, the
lesson run with every control moved to its minimum and to its maximum, and its key terms and
exercise link."""

from pathlib import Path

import numpy as np
import pytest

from rnncourse import lm

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def models():
    return {cell: lm.pretrained(cell) for cell in lm.PRETRAINED_CELLS}


def test_explorer_follows_its_controls(models):
    from rnncourse.viz.lm import decoding_explorer

    e = decoding_explorer(models, n=40)
    s = e.state
    assert s["method"] == "sample" and len(s["text"]) == 40 and s["step"] == 1
    pre = models[s["cell"]]
    # what the explorer shows is lm.decode's result
    want = lm.decode(pre.model, pre.vocab, s["prompt"], 40, "sample", 1.0, seed=0)
    assert s["text"] == want["text"] and np.allclose(s["logp"], want["logp"])
    png = e.png
    e.controls["step"].value = 20
    assert e.state["text"] == s["text"] and e.state["step"] == 20 and e.png != png
    assert e.state["top_chars"][0] == pre.vocab.chars[int(np.argmax(want["probs"][19]))]
    heights = [b.get_width() for b in e.artists["bars"]["model"]]
    assert np.allclose(heights, e.state["top_p"])
    e.controls["method"].value = "greedy"
    greedy = lm.generate(pre.model, pre.vocab, s["prompt"], 40, temperature=0)
    assert e.state["text"] == greedy.text
    assert np.isclose(e.state["top_p_sampled"][0], 1.0), "greedy: all the mass on the arg max"
    e.controls["method"].value = "beam"
    e.controls["width"].value = 1
    assert e.state["text"] == greedy.text, "beam search with B = 1 is greedy decoding"
    e.controls["width"].value = 3
    assert e.state["text"] == lm.beam_search(pre.model, pre.vocab, s["prompt"], 40, 3)[0][0]
    e.controls["temperature"].value = 2.0  # not used by beam search: same text, no recompute
    assert e.state["text"] == lm.beam_search(pre.model, pre.vocab, s["prompt"], 40, 3)[0][0]
    e.reset()
    assert e.state["method"] == "sample" and e.state["text"] == s["text"]
    assert len(e.timings) == 7
    with pytest.raises(ValueError, match="method must be one of"):
        e.compute(cell="rnn", prompt="The ", method="top-p", temperature=1.0, width=2, seed=0, step=1)
    with pytest.raises(ValueError, match="models must be a non-empty dict"):
        decoding_explorer({})


def test_lesson_checks_pass_whatever_the_controls(monkeypatch):
    from test_lessons_first_hour_B import run_moved

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for end, (names, errors) in run_moved(ROOT / "notebooks" / "09_language_model.ipynb").items():
        assert names == ["decoding"], f"explorer not found: {names}"
        assert not errors, f"lesson 9 with every control at its {end}:\n" + "\n".join(errors)


def test_the_exercise_is_linked():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "09_language_model.ipynb", as_version=4)
    last = nb.cells[-1].source
    # its Chinese key terms are checked against the glossary for every lesson (test_lessons_first_hour_A)
    assert "../exercises/ex9_sampling.ipynb" in last and (ROOT / "exercises" / "ex9_sampling.ipynb").exists()
    assert "glossary.md" in nb.cells[0].source and "objectives" in nb.cells[0].source
