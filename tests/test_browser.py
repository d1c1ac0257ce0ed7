"""End to end in a real browser: JupyterLab serves a lesson, Chromium runs it, a slider moves and
the explorer's picture changes.

Needs Debian's chromium (``/usr/bin/chromium``; ``.ci/run`` installs it) and the ``playwright``
Python package; skipped with the reason otherwise. The server listens on 127.0.0.1 only and serves
a student workspace made by ``rnncourse.workspace.sync`` (the layout ``rnncourse init`` gives:
``notebooks/`` beside ``exercises/``), with every Jupyter config/runtime directory inside the test's
temp folder, so nothing is written back into the repository or the user's home. The lesson's closing
"Exercise:" link must open the exercise notebook.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from rnncourse.workspace import sync

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("RNNCOURSE_CHROMIUM", "/usr/bin/chromium")
LESSON = "notebooks/01_recurrence.ipynb"
EXERCISE = "ex1_recurrence.ipynb"

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"no chromium at {CHROMIUM} (apt-get install -y chromium); browser test skipped",
        allow_module_level=True,
    )

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    root = tmp_path / "rnncourse-workspace"
    sync(root, log=lambda message: None)
    env = dict(os.environ)
    for var in (
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_RUNTIME_DIR",
        "JUPYTERLAB_SETTINGS_DIR",
        "JUPYTERLAB_WORKSPACES_DIR",
        "IPYTHONDIR",
        "JUPYTER_DATA_DIR_UNUSED",
    ):
        (tmp_path / var.lower()).mkdir()
        env[var] = str(tmp_path / var.lower())
    env["MPLCONFIGDIR"] = str(tmp_path / "mpl")
    settings = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    port, token = _free_port(), "rnncourse-browser-test"
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--allow-root",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError(
                        "JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.3)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
