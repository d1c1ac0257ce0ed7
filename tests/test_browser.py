"""End to end in a real browser: JupyterLab serves a lesson, Chromium runs it, a slider moves and
the explorer's picture changes.

Needs Debian's chromium (``/usr/bin/chromium``; ``.ci/run`` installs it) and the ``playwright``
Python package; skipped with the reason otherwise. The server listens on 127.0.0.1 only and serves
a student workspace made by ``rnncourse.workspace.sync`` (the layout ``rnncourse init`` gives:
``notebooks/`` beside ``exercises/``), with every Jupyter config/runtime directory inside the test's
temp folder, so nothing is written back into the repository or the user's home. The lesson's closing
"Exercise:" link must open the exercise notebook.
"""

import os
import time
from pathlib import Path

import pytest

from lab_server import CHROMIUM, CHROMIUM_ARGS, jupyter_lab
from rnncourse.workspace import sync

ROOT = Path(__file__).resolve().parents[1]
LESSON = "notebooks/01_recurrence.ipynb"
EXERCISE = "ex1_recurrence.ipynb"

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"no chromium at {CHROMIUM} (apt-get install -y chromium); browser test skipped",
        allow_module_level=True,
    )


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "rnncourse-workspace"
    sync(root, log=lambda message: None)
    with jupyter_lab(root, tmp_path, token="rnncourse-browser-test", start_timeout=60) as served:
        yield served


def _image_bytes(handle):
    """The picture of the explorer that owns this slider handle (a lesson also shows static figures,
    e.g. a diagram above the explorer, so the first image on the page is not necessarily it)."""
    return handle.evaluate("""h => {
        for (let el = h.parentElement; el; el = el.parentElement) {
            const img = el.querySelector('.widget-image');
            if (img) return img.src;
        }
        return null;
    }""")


def test_lesson_runs_and_slider_redraws_the_plot(lab):
    base, token = lab
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/{LESSON}?reset&token={token}")
            # the kernel indicator reads idle before the kernel exists: wait for the debugger button
            page.wait_for_selector('.jp-DebuggerBugButton[aria-disabled="false"]', timeout=90_000)
            page.wait_for_selector(
                '.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status="idle"]',
                timeout=60_000,
            )
            page.click(".lm-MenuBar-item:has-text('Run')")
            page.click('.lm-Menu-item[data-command="runmenu:run-all"]')
            handle = page.wait_for_selector(".widget-slider .noUi-handle", timeout=120_000)
            page.wait_for_selector(".widget-image", timeout=60_000)
            page.wait_for_selector(
                '.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status="idle"]',
                timeout=120_000,
            )
            errors = page.query_selector_all(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
            )
            tracebacks = [
                e.inner_text() for e in errors if "Traceback" in e.inner_text() or "Error" in e.inner_text()
            ]
            assert not tracebacks, tracebacks[:1]
            handle.scroll_into_view_if_needed()
            before_value = handle.get_attribute("aria-valuenow")
            assert _image_bytes(handle), "no explorer picture found beside the slider"
            before = _image_bytes(handle)
            handle.focus()
            for _ in range(3):
                page.keyboard.press("ArrowRight")
            deadline = time.time() + 30
            after = before
            while time.time() < deadline:
                page.wait_for_timeout(300)
                after = _image_bytes(handle)
                if after != before:
                    break
            assert handle.get_attribute("aria-valuenow") != before_value, "the slider did not move"
            assert after != before, "moving the slider did not redraw the explorer's picture"
            assert after.startswith("data:image/png") or after.startswith("blob:")
            if os.environ.get("RNNCOURSE_SCREENSHOT"):  # for a human look: where the explorer is
                handle.scroll_into_view_if_needed()
                page.screenshot(path=os.environ["RNNCOURSE_SCREENSHOT"])
            # the closing "Exercise:" link opens the exercise notebook (it did nothing when Jupyter was
            # rooted at notebooks/)
            link = page.locator(f'.jp-RenderedMarkdown a[href*="{EXERCISE}"]').first
            link.scroll_into_view_if_needed()
            link.click()
            page.wait_for_selector(
                f'.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current:has-text("{EXERCISE}")', timeout=60_000
            )
            page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=60_000)
        finally:
            browser.close()
