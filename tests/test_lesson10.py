"""Lesson 10 (inside a trained network): the coloured-text HTML, the two explorers driven without a
browser, and the lesson run with every control moved to its minimum and to its maximum."""

import re
from pathlib import Path

import numpy as np
import pytest

from rnncourse import interpret as I
from rnncourse.nn.model import SequenceModel
from rnncourse.viz import inside as V

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "10_inside.ipynb"
SPAN = re.compile(r'<span style="([^"]*)" title="[^"]*" data-v="([^"]*)">(.*?)</span>', re.S)


def _spans(html):
    return SPAN.findall(html)


# ----------------------------------------------------------------------------------- drawing


def test_colored_text_has_one_span_per_character_in_its_colour():
    text = 'a <b>\n"q"'
    values = np.linspace(-1, 1, len(text))
    out = V.colored_text_html(text, values, -1.0, 1.0, mark=3)
    spans = _spans(out)
    assert len(spans) == len(text)
    shown = "".join(s[2] for s in spans).replace(" \n", "\n")
    assert shown == "a &lt;b&gt;\n&quot;q&quot;"  # escaped, line break kept
    assert np.allclose([float(s[1]) for s in spans], values, atol=1e-3)
    colors = [re.search(r"background:(#[0-9a-f]{6})", s[0]).group(1) for s in spans]
    assert colors[0] == V.value_colors([-1.0], -1, 1)[0] and colors[-1] == V.value_colors([1.0], -1, 1)[0]
    assert V.value_colors([0.0], -1, 1) == ["#ffffff"]  # the middle is white
    assert "outline" in spans[3][0] and sum("outline" in s[0] for s in spans) == 1
    # a deliberately wrong input: fewer values than characters is refused, naming both sizes
    with pytest.raises(
        ValueError, match=r"values must have one entry per character, shape \(9,\), got \(8,\)"
    ):
        V.colored_text_html(text, values[:-1], -1.0, 1.0)
    with pytest.raises(ValueError, match="kind must be 'diverging', 'sequential' or 'strength'"):
        V.value_colors([0.5], 0, 1, kind="rainbow")


def test_connectivity_html_frames_the_predicted_character():
    text = "abcdefgh"
    row = np.array([4.0, 2.0, 1.0])  # d = 0 (the character t itself), 1, 2
    out = V.connectivity_html(text, 5, row, next_char="g")
    spans = _spans(out)
    assert "".join(s[2] for s in spans) == "defg"
    assert [float(s[1]) for s in spans] == [0.25, 0.5, 1.0, 0.0]  # scaled by the largest, in text order
    assert "outline" in spans[-1][0]
    with pytest.raises(
        ValueError, match=r"t must lie in \[len\(row\) - 1, len\(text\) - 1\] = \[2, 7\], got 1"
    ):
        V.connectivity_html(text, 1, row)


# --------------------------------------------------------------------------------- explorers


@pytest.fixture(scope="module")
def setup():
    """The shipped RNN, and small untrained LSTM and GRU on its vocabulary (enough for the glue)."""
    from rnncourse.lm import pretrained

    pt = pretrained("rnn")
    fit_text, test_text = pt.train_text[-3000:], pt.valid_text[:3000]
    models = {"rnn": pt.model}
    for k, cell in enumerate(("lstm", "gru")):
        models[cell] = SequenceModel.create(
            cell, pt.vocab.size, 128, pt.vocab.size, vocab_size=pt.vocab.size, embed_dim=32, rng=k
        )
    traces = {c: (I.trace(m, pt.vocab, fit_text), I.trace(m, pt.vocab, test_text)) for c, m in models.items()}
    return pt, models, traces


def _html_values(html):
    return np.array([float(s[1]) for s in _spans(html)])


def test_unit_explorer_follows_its_controls(setup):
    pt, models, traces = setup
    e = V.unit_explorer(traces, (100, 700), model="lstm")
    s = e.state
    assert (s["model"], s["quantity"], s["unit"]) == ("lstm", "h", 0)
    assert np.allclose(_html_values(e.html.value), traces["lstm"][1].values["h"][100:700, 0], atol=1e-3)
    html, png = e.html.value, e.png
    e.controls["unit"].value = 7
    assert e.html.value != html and e.png != png
    assert np.allclose(_html_values(e.html.value), traces["lstm"][1].values["h"][100:700, 7], atol=1e-3)
    widths = np.array([b.get_width() for b in e.artists["bars"]])
    assert np.allclose(widths, e.state["r"])
    r_ref = I.correlations(
        traces["lstm"][1].values["h"][:, 7:8], I.text_features(traces["lstm"][1].text)["verse"]
    )
    assert np.isclose(e.state["r"][I.FEATURES.index("verse")], r_ref[0])
    e.controls["quantity"].value = "f"
    assert np.allclose(_html_values(e.html.value), traces["lstm"][1].values["f"][100:700, 7], atol=1e-3)
    # the GRU has no cell state: the quantity list follows the model, and a missing one falls back to h
    e.controls["quantity"].value = "c"
    e.controls["model"].value = "gru"
    assert [v for _, v in e.controls["quantity"].options] == ["h", "r", "z", "n"]
    assert e.state["quantity"] == "h" and e.state["model"] == "gru"
    # "best unit for" moves the slider to the unit chosen on the fit text
    e.controls["model"].value = "rnn"
    e.controls["best_for"].value = "word_start"
    b = I.best_units(*traces["rnn"])["word_start"]
    assert e.state["unit"] == b.unit and any(
        "best unit for: first letter of a word" in k for k in e.key_numbers(e.state)
    )
    e.reset()
    assert e.values() == e.defaults and e.state["model"] == "lstm"
    with pytest.raises(ValueError, match="quantity must be one of"):
        e.compute("rnn", "c", 0, "")


def test_connectivity_explorer_follows_its_controls(setup):
    pt, models, traces = setup
    conn = {c: (m, pt.vocab, traces[c][1]) for c, m in models.items()}
    e = V.connectivity_explorer(conn, (100, 700), window=32, model="rnn")
    assert e.controls["t"].min == 100 and e.controls["t"].max == 698
    t = 400
    e.controls["t"].value = t
    row = I.connectivity(pt.model, pt.vocab, traces["rnn"][1], [t], 32)[0]
    assert np.allclose(e.state["row"], row)
    vals = _html_values(e.html.value)
    assert len(vals) == 33 and np.isclose(vals[:-1].max(), 1.0, atol=1e-3)
    assert (
        "".join(s[2] for s in _spans(e.html.value)).replace(" \n", "\n")
        == traces["rnn"][1].text[t - 31 : t + 2]
    )
    assert np.isclose(e.state["p_next"], np.exp(traces["rnn"][1].log_prob[t]))
    line = e.artists["row"].get_ydata()
    assert np.allclose(line, np.maximum(row / row.max(), 1e-12))
    html = e.html.value
    e.controls["model"].value = "lstm"
    assert e.html.value != html
    e.controls["t"].value = e.controls["t"].max
    e.reset()
    assert e.values() == e.defaults
    with pytest.raises(ValueError, match="excerpt \\(0, 10\\) leaves no position for a window of 32"):
        V.connectivity_explorer(conn, (0, 10), window=32)
    with pytest.raises(
        ValueError, match=r"models keys must be among \['rnn', 'lstm', 'gru'\], got \['cnn'\]"
    ):
        V.connectivity_explorer({"cnn": conn["rnn"]}, (100, 700))


# -------------------------------------------------------------------------------- the lesson


@pytest.mark.skipif(not LESSON.exists(), reason="lesson 10 notebook not written yet")
def test_lesson_checks_pass_whatever_the_controls(monkeypatch):
    from test_lessons_first_hour_B import run_moved

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for end, (names, errors) in run_moved(LESSON).items():
        assert names == ["units", "links"], f"explorers not found: {names}"
        assert not errors, f"lesson 10 with every control at its {end}:\n" + "\n".join(errors)


@pytest.mark.skipif(not LESSON.exists(), reason="lesson 10 notebook not written yet")
def test_objectives_and_further_reading():
    import nbformat

    nb = nbformat.read(LESSON, as_version=4)
    last = nb.cells[-1].source
    # its Chinese key terms are checked against the glossary for every lesson (test_lessons_first_hour_A)
    assert "glossary.md" in nb.cells[0].source and "objectives" in nb.cells[0].source
    for name in ("Karpathy", "Madsen", "colah.github.io"):
        assert name in last, f"further reading lacks {name}"


# ------------------------------------------------------------------------------- in a browser

_COLORED_TEXT = """h => {
    for (let el = h.parentElement; el; el = el.parentElement) {
        const t = el.querySelector('.rnncourse-colored-text');
        if (t) return t.innerHTML;
    }
    return null;
}"""


@pytest.mark.browser
@pytest.mark.skipif(not LESSON.exists(), reason="lesson 10 notebook not written yet")
def test_in_a_browser_the_unit_slider_recolours_the_text(tmp_path):
    """JupyterLab on 127.0.0.1 serves a student workspace; Chromium runs lesson 10, presses the
    right-arrow key on the unit explorer's slider and sees the coloured text change."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    from lab_server import CHROMIUM, CHROMIUM_ARGS, jupyter_lab
    from rnncourse.workspace import sync

    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium)")
    root = tmp_path / "rnncourse-workspace"
    sync(root, log=lambda message: None)
    idle = '.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status="idle"]'
    with jupyter_lab(root, tmp_path, token="rnncourse-lesson10", start_timeout=60) as (base, token):
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base}/lab/tree/notebooks/10_inside.ipynb?reset&token={token}")
                page.wait_for_selector('.jp-DebuggerBugButton[aria-disabled="false"]', timeout=90_000)
                page.wait_for_selector(idle, timeout=60_000)
                page.click(".lm-MenuBar-item:has-text('Run')")
                page.click('.lm-Menu-item[data-command="runmenu:run-all"]')
                handle = page.wait_for_selector(".widget-slider .noUi-handle", timeout=120_000)
                page.wait_for_selector(".rnncourse-colored-text", timeout=60_000)
                page.wait_for_timeout(1000)
                page.wait_for_selector(idle, timeout=120_000)
                errors = page.query_selector_all(
                    ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                )
                tracebacks = [e.inner_text() for e in errors if "Error" in e.inner_text()]
                assert not tracebacks, tracebacks[:1]
                handle.scroll_into_view_if_needed()
                before_value = handle.get_attribute("aria-valuenow")
                before = handle.evaluate(_COLORED_TEXT)
                assert before and before.count("<span") > 500, "no coloured text beside the unit slider"
                handle.focus()
                for _ in range(3):
                    page.keyboard.press("ArrowRight")
                after = before
                for _ in range(100):  # at most 30 s
                    page.wait_for_timeout(300)
                    after = handle.evaluate(_COLORED_TEXT)
                    if after != before:
                        break
                assert handle.get_attribute("aria-valuenow") != before_value, "the slider did not move"
                assert after != before, "moving the unit slider did not recolour the text"
                assert after.count("<span") == before.count("<span"), "the same excerpt, other colours"
            finally:
                browser.close()
