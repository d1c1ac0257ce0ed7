"""The Chinese edition in a real browser (issue 12): ``rnncourse init --lang zh``, then Run All in
every lesson and every exercise in JupyterLab (Debian chromium driven by Playwright), one test per
notebook, all served by one JupyterLab on 127.0.0.1.

For each notebook the rendered page must show:
* every code cell run (each input prompt shows an execution count);
* no error output, except in cells tagged ``raises-exception`` (lessons 4 and 7 show an error on
  purpose); ``test_the_error_check_fires_on_an_injected_error`` proves this check is not blind;
* Chinese prose: the rendered markdown holds at least 90 % of the Chinese characters of the
  notebook's markdown, and no ``**`` left over from broken emphasis;
* no plot drawing characters its font lacks (matplotlib's "Glyph ... missing from font" warning:
  the plots' text stays in English and math, so no CJK font is needed);
* in an exercise, Chinese ``check()`` feedback under every check cell. The exercises are run as a
  student who has solved them (solution cells filled in from ``solutions/``): an unsolved exercise
  stops at its first ``raise NotImplementedError`` by design.

New lessons and exercises (``notebooks/*.ipynb``, ``exercises/ex*.ipynb``) are picked up as they
are merged. Whether the glyphs show depends on a CJK system font (Debian ``fonts-noto-cjk`` or
``fonts-wqy-microhei``): a DOM test cannot see whether the browser draws them.
"""

import json
import re
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from rnncourse import cli

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
EXERCISES = sorted(p.name for p in (ROOT / "exercises").glob("ex*.ipynb"))
NOTEBOOKS = [f"notebooks/{n}" for n in LESSONS] + [f"exercises/{n}" for n in EXERCISES]
INJECTED = "notebooks/zz_injected_error.ipynb"
CJK = re.compile(r"[\u4e00-\u9fff]")
RAISES = "raises-exception"
TOFU = re.compile(r"Glyph \d+ .*missing from (current )?font")
IDLE = '.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status="idle"]'
RUN_TIMEOUT_S = 240  # one notebook's Run All, generous for a shared 2-core machine

pytestmark = pytest.mark.browser

# what each rendered cell shows: its kind, prompt, error outputs, all output text and its markdown
CELLS_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  return Array.from(panel.querySelectorAll('.jp-Notebook .jp-Cell')).map(c => ({
    code: c.classList.contains('jp-CodeCell'),
    prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
    // JupyterLab 4.6 renders a traceback as a stderr output: look at the text too
    errors: Array.from(c.querySelectorAll('.jp-OutputArea-output')).filter(e =>
      e.dataset.mimeType === 'application/vnd.jupyter.error' ||
      e.textContent.includes('Traceback (most recent call last)')
    ).map(e => e.textContent.slice(0, 1500)),
    output: Array.from(c.querySelectorAll('.jp-OutputArea-output')).map(e => e.textContent).join('\\n'),
    markdown: (c.querySelector('.jp-MarkdownOutput') || {}).textContent || '',
    // the prose without code and math (where `h**2` is right), for the broken-emphasis check
    prose: (() => {
      const md = c.querySelector('.jp-MarkdownOutput');
      if (!md) return '';
      const copy = md.cloneNode(true);
      copy.querySelectorAll('code, pre, mjx-container, .MathJax, script').forEach(e => e.remove());
      return copy.textContent;
    })(),
  }));
}"""


def _solve(nb, solution_path):
    """Fill every solution cell of an exercise from the solution notebook (a student who has done it)."""
    solved = {
        c.id: c.source for c in nbformat.read(solution_path, as_version=4).cells if c.cell_type == "code"
    }
    for c in nb.cells:
        if c.cell_type == "code" and "solution" in c.metadata.get("tags", []) and c.id in solved:
            c.source = solved[c.id]
    return nb


def _injected_notebook():
    """A notebook with one cell meant to raise (tagged) and one that raises by mistake (not tagged)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = nbformat.read(ROOT / "notebooks" / LESSONS[0], as_version=4).metadata  # its kernel
    nb.cells = [
        nbformat.v4.new_markdown_cell("这个笔记本用来检查测试本身。\n\n**没有闭合的强调，必须被发现。"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell(  # Chinese text in a plot: tofu without a CJK font in matplotlib
            "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.set_title('中文标题')\nfig.canvas.draw()"
        ),
        nbformat.v4.new_code_cell("raise ValueError('meant to raise')", metadata={"tags": [RAISES]}),
        nbformat.v4.new_code_cell("raise RuntimeError('an injected error')"),
    ]
    return nb


@pytest.fixture(scope="module")
def zh_lab(tmp_path_factory):
    from lab_server import CHROMIUM, CHROMIUM_ARGS, jupyter_lab

    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    tmp = tmp_path_factory.mktemp("zh-lab")
    ws = tmp / "ws"
    assert cli.main(["init", "--lang", "zh", str(ws)]) == 0
    for name in EXERCISES:
        if (ROOT / "solutions" / name).exists():
            path = ws / "exercises" / name
            nbformat.write(_solve(nbformat.read(path, as_version=4), ROOT / "solutions" / name), path)
    nbformat.write(_injected_notebook(), ws / INJECTED)
    # render every cell, not only the visible ones; Run All must not stop at a cell meant to raise
    settings = {"@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"}}
    with jupyter_lab(ws, tmp, settings=settings, token="rnncourse-zh-lab") as (base, token):
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            yield page, base, token, ws
            browser.close()


def _stop_kernels(base, token):
    """Shut down every session, so one kernel at a time holds memory."""
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=10) as r:
        sessions = json.load(r)
    for s in sessions:
        req = urllib.request.Request(f"{base}/api/sessions/{s['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(req, timeout=30).read()


def _run_all(zh_lab, rel):
    """Open ``rel``, Run All, wait until every code cell ran; the rendered cells (``CELLS_JS``)."""
    page, base, token, ws = zh_lab
    page.goto(f"{base}/lab/tree/{rel}?reset&token={token}")
    page.wait_for_selector('.jp-DebuggerBugButton[aria-disabled="false"]', timeout=90_000)
    page.wait_for_selector(IDLE, timeout=90_000)
    page.locator(".lm-MenuBar-item", has_text="Run").click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    deadline = time.time() + RUN_TIMEOUT_S
    cells = []
    while time.time() < deadline:
        cells = page.evaluate(CELLS_JS)
        prompts = [c["prompt"] for c in cells if c["code"]]
        if prompts and all(any(ch.isdigit() for ch in t) for t in prompts):
            break
        if any(c["errors"] for c in cells) and "*" not in "".join(prompts):
            break  # Run All stopped at an error: nothing is queued any more
        time.sleep(0.5)
    page.wait_for_selector(IDLE, timeout=60_000)
    cells = page.evaluate(CELLS_JS)
    try:
        _stop_kernels(base, token)
    finally:
        page.goto("about:blank")
    nb = nbformat.read(ws / rel, as_version=4)
    assert len(cells) == len(nb.cells), f"{rel}: {len(cells)} cells on the page, {len(nb.cells)} in the file"
    return nb, cells


def unexpected_errors(nb, cells):
    """Error outputs of cells that are not tagged ``raises-exception``: ``[(cell index, text)]``."""
    return [
        (i, " | ".join(shown["errors"]))
        for i, (cell, shown) in enumerate(zip(nb.cells, cells))
        if shown["errors"] and RAISES not in cell.metadata.get("tags", [])
    ]


def tofu(cells):
    """Cells whose output has matplotlib's warning for a character its font cannot draw (a box)."""
    return [i for i, shown in enumerate(cells) if TOFU.search(shown["output"])]


def broken_emphasis(cells):
    """Prose lines (code and math left out) that still show ``**``: emphasis that did not render."""
    return [line for c in cells for line in c["prose"].splitlines() if "**" in line]


def not_run(nb, cells):
    return [i for i, (cell, shown) in enumerate(zip(nb.cells, cells)) if shown["code"] and not any(
        ch.isdigit() for ch in shown["prompt"])]  # fmt: skip


@pytest.mark.parametrize("rel", NOTEBOOKS)
def test_run_all_in_chinese(zh_lab, rel):
    nb, cells = _run_all(zh_lab, rel)
    assert not unexpected_errors(nb, cells), f"{rel}: error output: {unexpected_errors(nb, cells)}"
    assert not not_run(nb, cells), f"{rel}: cells that did not run: {not_run(nb, cells)}"
    assert not tofu(cells), f"{rel}: a plot draws characters its font does not have: cells {tofu(cells)}"
    tagged = [i for i, c in enumerate(nb.cells) if RAISES in c.metadata.get("tags", [])]
    assert all(cells[i]["errors"] for i in tagged), f"{rel}: a cell meant to raise did not: {tagged}"
    # Chinese prose, rendered (hints inside closed <details> count: textContent, not innerText)
    source = sum(len(CJK.findall(c.source)) for c in nb.cells if c.cell_type == "markdown")
    shown = sum(len(CJK.findall(c["markdown"])) for c in cells)
    assert source > 100 and shown >= 0.9 * source, f"{rel}: {shown} Chinese characters shown of {source}"
    assert not broken_emphasis(cells), f"{rel}: unrendered emphasis: {broken_emphasis(cells)[:3]}"
    if rel.startswith("exercises/"):
        checks = [
            i for i, c in enumerate(nb.cells) if c.cell_type == "code" and re.search(r"\bcheck\(", c.source)
        ]
        assert checks, f"{rel}: no check() cell found"
        for i in checks:
            out = cells[i]["output"]
            assert re.search(r"通过  ex\d+\.\w+：", out), (
                f"{rel} cell {i}: no Chinese check() feedback: {out[:300]}"
            )
            assert not re.search(r"\b(PASS|FAIL)\b|points", out), (
                f"{rel} cell {i}: English feedback: {out[:300]}"
            )


def test_the_error_check_fires_on_an_injected_error(zh_lab):
    """The checks of ``test_run_all_in_chinese`` on a notebook with one error meant to happen
    (tagged), one that is not, a plot with a Chinese title and an unclosed ``**``: the error check
    reports exactly the untagged error (Run All went past the tagged cell: JupyterLab honours the
    tag), the tofu check the plot and the emphasis check the markdown."""
    nb, cells = _run_all(zh_lab, INJECTED)
    assert cells[3]["errors"] and "meant to raise" in cells[3]["errors"][0]
    assert [i for i, _ in unexpected_errors(nb, cells)] == [4], unexpected_errors(nb, cells)
    assert "an injected error" in unexpected_errors(nb, cells)[0][1]
    assert not_run(nb, cells) == []
    assert tofu(cells) == [2], [c["output"][:300] for c in cells]  # the tofu check fires too
    assert broken_emphasis(cells) == ["**没有闭合的强调，必须被发现。"], broken_emphasis(cells)
