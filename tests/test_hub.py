"""A class on a real JupyterHub, on 127.0.0.1: two students log in, nbgitpuller pulls the course
into each one's home from a local git repository, each runs a lesson and an exercise check in a
real browser (Debian chromium + Playwright), and after the instructor updates the course a second
pull brings the update while a student's edited exercise survives.

Pieces (``.ci/run`` installs them; the test is skipped with the reason when one is missing):
``pip install -e '.[hub]'`` (jupyterhub, nbgitpuller), ``npm install --prefix .ci/node
configurable-http-proxy`` (or RNNCOURSE_CHP=path), git, /usr/bin/chromium and playwright.

The hub uses the built-in dummy authenticator and the simple local-process spawner with each
home under the test's temporary folder; the single-user servers run this venv's
``jupyterhub-singleuser``. Nothing is written outside the temporary folder.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from lab_server import CHROMIUM_ARGS
from rnncourse import workspace as ws

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("RNNCOURSE_CHROMIUM", "/usr/bin/chromium")
CHP = Path(
    os.environ.get(
        "RNNCOURSE_CHP", ROOT / ".ci" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    )
)
PASSWORD = "rnncourse-hub-test"
STUDENTS = ("alice", "bob")

pytest.importorskip("jupyterhub", reason="jupyterhub is not installed (pip install -e '.[hub]')")
pytest.importorskip("nbgitpuller", reason="nbgitpuller is not installed (pip install -e '.[hub]')")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
for what, ok in (
    (
        f"configurable-http-proxy at {CHP} (npm install --prefix .ci/node configurable-http-proxy)",
        CHP.exists() and shutil.which("node"),
    ),
    (f"chromium at {CHROMIUM} (apt-get install -y chromium)", Path(CHROMIUM).exists()),
    ("git", shutil.which("git")),
    ("jupyterhub-singleuser in this venv", (BIN / "jupyterhub-singleuser").exists()),
):
    if not ok:
        pytest.skip(f"JupyterHub test skipped: no {what}", allow_module_level=True)

pytestmark = pytest.mark.browser


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _git(repo, *args):
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="Instructor",
        GIT_AUTHOR_EMAIL="instructor@example.edu",
        GIT_COMMITTER_NAME="Instructor",
        GIT_COMMITTER_EMAIL="instructor@example.edu",
    )
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env, timeout=60
    ).stdout


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hub")
    # the instructor's course repository: the student bundle (no solutions), committed
    repo = tmp / "rnncourse-class"
    ws.sync(repo, log=lambda m: None)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "course release 1")
    homes = tmp / "homes"
    for user in STUDENTS:
        settings = homes / user / ".jupyter" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
    port, hub_port, api_port = _free_port(), _free_port(), _free_port()
    config = tmp / "jupyterhub_config.py"
    config.write_text(f"""
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{str(CHP)!r}]
c.ConfigurableHTTPProxy.pid_file = {str(tmp / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{tmp / "hub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(tmp / "cookie_secret")!r}
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(homes)!r} + "/{{username}}"
c.Spawner.default_url = "/lab"
c.Spawner.cmd = [{str(BIN / "jupyterhub-singleuser")!r}]
c.Spawner.args = ["--allow-root", "--LabApp.news_url=",
                  "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
c.Spawner.environment = {{"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}}
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    log = open(tmp / "hub.log", "w")
    proc = subprocess.Popen(
        [str(BIN / "python"), "-m", "jupyterhub", "-f", str(config)],
        cwd=tmp,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/hub/api/", timeout=3).read()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError(
                        "JupyterHub did not start:\n" + (tmp / "hub.log").read_text()[-4000:]
                    ) from None
                time.sleep(0.5)
        yield {"base": base, "repo": repo, "homes": homes, "log": tmp / "hub.log"}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the hub stops its proxy and the students' servers
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        log.close()


def _login(page, base, user):
    page.goto(f"{base}/hub/login", wait_until="domcontentloaded")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(lambda url: "/hub/login" not in url, timeout=120_000)


def _pull(page, link, expect_path):
    """Open the nbgitpuller link; it clones or merges, then opens JupyterLab on ``expect_path``."""
    page.goto(link, wait_until="domcontentloaded", timeout=180_000)
    page.wait_for_url(lambda url: "/lab/tree/" in url and expect_path in url, timeout=180_000)
    page.wait_for_selector(".jp-NotebookPanel", timeout=120_000)


def _kernel_ready(page):
    page.wait_for_selector('.jp-DebuggerBugButton[aria-disabled="false"]', timeout=120_000)
    page.wait_for_selector(
        '.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=120_000
    )


def _run_all_and_save(page):
    _kernel_ready(page)
    page.click('.lm-MenuBar-item:has-text("Run")')
    page.click('.lm-Menu-item[data-command="runmenu:run-all"]')
    # every code cell gets an execution count ("[n]:"), then the kernel goes idle
    page.wait_for_function(
        """() => { const p = [...document.querySelectorAll('.jp-NotebookPanel')].find(
                     x => !x.classList.contains('lm-mod-hidden'));
                   const prompts = [...p.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                   return prompts.length > 0 && prompts.every(e => /\\[\\d+\\]/.test(e.textContent)); }""",
        timeout=180_000,
    )
    page.wait_for_selector(
        '.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=180_000
    )
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.jp-NotebookPanel .jp-mod-dirty, .lm-TabBar-tab.jp-mod-dirty')",
        timeout=60_000,
    )


def _saved(home, rel):
    return json.loads((home / rel).read_text())


def _errors(nb):
    return [
        o
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if o["output_type"] == "error"
    ]


def _with_my_solution(exercise_text):
    """The student's work on ex1: the solution cells filled in (from the instructor's solutions)."""
    mine, sol = (
        json.loads(exercise_text),
        json.loads((ROOT / "solutions" / "ex1_recurrence.ipynb").read_text()),
    )
    by_id = {c["id"]: c for c in sol["cells"]}
    for c in mine["cells"]:
        if "solution" in c["metadata"].get("tags", []):
            lines = "".join(by_id[c["id"]]["source"]).split("\n")
            c["source"] = "\n".join(
                x for x in lines if x.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
            )
            c["source"] += "\n# my own work\n"
    return json.dumps(mine, indent=1) + "\n"


def test_two_students_pull_run_and_keep_their_work_across_an_update(hub):
    base, repo, homes = hub["base"], hub["repo"], hub["homes"]
    name = repo.name
    link = dict(ws.links(repo.as_uri(), hub=base))["nbgitpuller"]
    lesson = "notebooks/00_welcome.ipynb"
    ex1 = "exercises/ex1_recurrence.ipynb"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = {}
        try:
            for user in STUDENTS:
                ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                page = pages[user] = ctx.new_page()
                page.set_default_timeout(120_000)
                _login(page, base, user)
                _pull(page, link, f"{name}/{lesson}")
                home = homes / user / name
                assert (home / lesson).is_file() and (home / ex1).is_file()
                assert not (home / "solutions").exists()
                # the lesson runs top to bottom in the student's own kernel on the hub
                _run_all_and_save(page)
                nb = _saved(home, lesson)
                assert not _errors(nb), _errors(nb)
                assert all(c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code")
                # the student solves the exercise (as if typed and saved), opens and runs it
                (home / ex1).write_text(_with_my_solution((home / ex1).read_text()))
                page.goto(f"{base}/user/{user}/lab/tree/{name}/{ex1}?reset", wait_until="domcontentloaded")
                page.wait_for_selector(".jp-NotebookPanel")
                _run_all_and_save(page)
                nb = _saved(home, ex1)
                checks = [
                    "".join("".join(o["text"]) for o in c.get("outputs", []) if o["output_type"] == "stream")
                    for c in nb["cells"]
                    if "check" in c["metadata"].get("tags", [])
                ]
                assert not _errors(nb) and len(checks) == 2 and all("PASS" in t for t in checks), checks
            # the instructor updates the course: the lesson and the same exercise change upstream
            upstream_lesson = (repo / lesson).read_text().replace("Welcome", "Welcome (updated)", 1)
            assert upstream_lesson != (repo / lesson).read_text()
            (repo / lesson).write_text(upstream_lesson)
            up_ex = json.loads((repo / ex1).read_text())
            up_ex["cells"][0]["source"] = (
                "".join(up_ex["cells"][0]["source"]) + "\n\n(updated by the instructor)"
            )
            (repo / ex1).write_text(json.dumps(up_ex, indent=1) + "\n")
            _git(repo, "commit", "-q", "-am", "course release 2")
            for user in STUDENTS:
                home = homes / user / name
                my_work = (home / ex1).read_text()
                assert "# my own work" in my_work
                _pull(pages[user], link, f"{name}/{lesson}")
                deadline = time.time() + 60
                while "Welcome (updated)" not in (home / lesson).read_text() and time.time() < deadline:
                    time.sleep(0.5)
                assert "Welcome (updated)" in (home / lesson).read_text(), f"{user} did not get the update"
                assert "# my own work" in (home / ex1).read_text(), f"{user}'s exercise was overwritten"
        except Exception:
            for user, page in pages.items():
                try:
                    page.screenshot(path=str(hub["log"].parent / f"{user}.png"))
                    print(f"--- {user} at {page.url}:\n{page.inner_text('body')[-2000:]}")
                except Exception as exc:  # the page itself may be gone
                    print(f"--- {user}: no screenshot ({exc})")
            print("--- hub log:\n" + hub["log"].read_text()[-3000:])
            raise
        finally:
            browser.close()
