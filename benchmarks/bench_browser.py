"""Browser latency: slider key press -> new picture shown, for every explorer of every lesson.

``bench_widgets.py`` times the kernel side only. This script measures what a learner sees, in a
real browser: JupyterLab serves a fresh student workspace (``rnncourse init DIR``), headless
Debian chromium (driven by Playwright, as in ``tests/test_browser.py``) opens a lesson and runs
all its cells; then, for each explorer (the ``.widget-image`` nearest above a slider handle), its
first slider handle is focused and ArrowRight is pressed ``--n/2`` times, then ArrowLeft as many
times to come back (turning early at either end of the slider). Each press is timed from the
handle's ``keydown`` event to the moment the explorer's ``img.src`` changes (a MutationObserver in
the page, both on ``performance.now()``); Playwright waits for the change with
``page.wait_for_function`` (bounded by ``--timeout``). The wall-clock time seen by Python (key
press sent -> change seen) is kept in the JSON too. Between presses the script waits until the
kernel is idle and the picture has stopped changing, so every press is measured alone.

Prints one row per explorer: lesson, explorer (the slider's description), n, median and max ms,
and the 1-minute load average when the lesson started (the numbers depend on how busy the
machine is). ``--out FILE`` also saves everything as JSON. Every wait is bounded; the server
(its whole process group, kernels included) and the browser are stopped at the end.

    .venv/bin/python benchmarks/bench_browser.py [--lessons 01,04] [--n 10] [--out bench.json]

Needs ``playwright`` (the ``test`` extra) and ``/usr/bin/chromium`` (``apt-get install chromium``;
``RNNCOURSE_CHROMIUM`` or ``--chromium`` for another path).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from lab_server import CHROMIUM_ARGS  # noqa: E402  (the browser tests' flags: quiet offline)

IDLE = '.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status="idle"]'

# JS helpers. READOUT: the value shown beside the slider. FIND_IMG: the explorer picture that owns
# a slider handle. As ``_image_bytes`` in tests/test_browser.py, walk up to the nearest ancestor
# holding a ``.widget-image``, but take the *last* one there: lessons 5 and 6 put a static cell
# diagram (also an Image widget, in the explorer's ``extra`` row) above the plot, which
# ``Explorer`` always puts in its last row.
READOUT = "h => h.closest('.widget-slider')?.querySelector('.widget-readout')?.textContent?.trim() ?? null"
FIND_IMG = """h => {
    for (let el = h.parentElement; el; el = el.parentElement) {
        const imgs = el.querySelectorAll('.widget-image');
        if (imgs.length) return imgs[imgs.length - 1];
    }
    return null;
}"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load():
    return os.getloadavg()[0]


class Lab:
    """A JupyterLab server on 127.0.0.1 for a fresh workspace in ``tmp`` (own process group)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.root = tmp / "rnncourse-workspace"
        subprocess.run(
            [sys.executable, "-m", "rnncourse", "init", str(self.root)],
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=120,
        )
        env = dict(os.environ)
        for var in (
            "JUPYTER_CONFIG_DIR",
            "JUPYTER_RUNTIME_DIR",
            "JUPYTERLAB_SETTINGS_DIR",
            "JUPYTERLAB_WORKSPACES_DIR",
            "IPYTHONDIR",
        ):
            (tmp / var.lower()).mkdir()
            env[var] = str(tmp / var.lower())
        env["MPLCONFIGDIR"] = str(tmp / "mpl")
        settings = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab"
        (settings / "apputils-extension").mkdir(parents=True)
        (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        # every cell in the DOM (no virtual scrolling), so every explorer can be found and focused
        (settings / "notebook-extension").mkdir(parents=True)
        (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
            json.dumps({"windowingMode": "none"})
        )
        self.port, self.token = _free_port(), "rnncourse-bench-browser"
        self.log_path = tmp / "lab.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                "--allow-root",
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kernels are stopped with it
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2).read()
                return
            except OSError:
                if time.time() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(
                        "JupyterLab did not start:\n" + self.log_path.read_text()[-3000:]
                    ) from None
                time.sleep(0.3)

    def url(self, path):
        return f"{self.base}/lab/tree/{path}?reset&token={self.token}"

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
        # kernels run in sessions of their own: stop any still running from this run's folder
        for pid in _pids_using(self.tmp):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.log.close()


def _pids_using(folder: Path):
    """Processes whose command line names ``folder`` (this run's unique temp folder)."""
    out = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if str(folder) in (entry / "cmdline").read_bytes().decode(errors="replace"):
                out.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in out if pid != os.getpid()]


def _wait_idle(page, timeout_s):
    """Kernel idle and no cell queued or running (``[*]``), seen twice 0.3 s apart."""
    deadline = time.time() + timeout_s
    calm = 0
    while time.time() < deadline:
        busy = page.evaluate(
            """sel => !document.querySelector(sel) ||
                [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt')]
                    .some(p => p.textContent.includes('*'))""",
            IDLE,
        )
        calm = 0 if busy else calm + 1
        if calm >= 2:
            return True
        page.wait_for_timeout(300)
    return False


def _settle(page, handle, timeout_s, quiet_ms=300):
    """Wait until the kernel is idle and the explorer's picture has not changed for ``quiet_ms``.
    Returns how many further src changes were seen meanwhile."""
    deadline = time.time() + timeout_s
    extra = 0
    last = handle.evaluate(f"h => ({FIND_IMG})(h)?.src ?? null")
    stable_since = time.time()
    while time.time() < deadline:
        page.wait_for_timeout(100)
        src = handle.evaluate(f"h => ({FIND_IMG})(h)?.src ?? null")
        if src != last:
            extra += 1
            last, stable_since = src, time.time()
            continue
        idle = page.query_selector(IDLE) is not None
        if idle and (time.time() - stable_since) * 1e3 >= quiet_ms:
            return extra
    return extra


ARM = """h => {
    const img = (FIND)(h);
    const rec = {src: img ? img.src : null, t0: null, t1: null, value0: (READOUT)(h)};
    window.__bench = rec;
    h.addEventListener('keydown', () => { if (rec.t0 === null) rec.t0 = performance.now(); },
                       {once: true, capture: true});
    if (img) {
        const mo = new MutationObserver(() => {
            if (rec.t1 === null && img.src !== rec.src) { rec.t1 = performance.now(); mo.disconnect(); }
        });
        mo.observe(img, {attributes: true, attributeFilter: ['src']});
    }
    return rec.src;
}""".replace("FIND", FIND_IMG).replace("READOUT", READOUT)

CHANGED = """h => { const img = (FIND)(h); return !!img && img.src !== window.__bench.src; }""".replace(
    "FIND", FIND_IMG
)


def _explorers(page):
    """The first slider handle of each explorer: marks it with ``data-bench-handle=k`` and returns
    ``[{k, description}]`` in page order."""
    return page.evaluate(
        """() => {
        const find = FIND;
        const seen = new Map(), out = [];
        for (const h of document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .widget-slider .noUi-handle')) {
            const img = find(h);
            if (!img || seen.has(img)) continue;
            const k = out.length;
            seen.set(img, k);
            h.setAttribute('data-bench-handle', String(k));
            const box = h.closest('.widget-slider');
            const label = box && box.querySelector('.widget-label');
            out.push({k, description: label ? label.textContent.trim() : '?',
                      min: h.getAttribute('aria-valuemin'), max: h.getAttribute('aria-valuemax'),
                      value: h.getAttribute('aria-valuenow')});
        }
        return out;
    }""".replace("FIND", FIND_IMG)
    )


def bench_lesson(pw_browser, lesson, args, log):
    result = {"lesson": lesson, "load1_start": _load(), "explorers": [], "errors": []}
    tmp = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    lab = None
    context = None
    try:
        t_start = time.time()
        lab = Lab(tmp)
        context = pw_browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(lab.url(f"notebooks/{lesson}"), timeout=90_000)
        # the kernel indicator reads idle before the kernel exists: wait for the debugger button
        page.wait_for_selector('.jp-DebuggerBugButton[aria-disabled="false"]', timeout=120_000)
        page.wait_for_selector(IDLE, timeout=60_000)
        page.click(".lm-MenuBar-item:has-text('Run')")
        page.click('.lm-Menu-item[data-command="runmenu:run-all"]')
        page.wait_for_timeout(1000)
        if not _wait_idle(page, args.run_timeout):
            result["errors"].append(f"Run All not finished after {args.run_timeout} s")
        result["run_all_s"] = round(time.time() - t_start, 1)
        # tracebacks, except from the cells the lesson tags ``raises-exception`` (deliberate demos)
        cells = json.loads((lab.root / "notebooks" / lesson).read_text())["cells"]
        expected = {
            i for i, c in enumerate(cells) if "raises-exception" in c.get("metadata", {}).get("tags", [])
        }
        for index, text in page.evaluate(
            """() => {
            const cells = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell')];
            const sel = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']";
            return cells.flatMap((c, i) => [...c.querySelectorAll(sel)].map(o => [i, o.innerText]));
        }"""
        ):
            if ("Traceback" in text or "Error" in text) and index not in expected:
                result["errors"].append(f"cell {index}: " + text.strip().splitlines()[-1][:200])
        found = _explorers(page)
        if not found:
            result["errors"].append("no explorer with a slider found")
        for ex in found:
            handle = page.query_selector(f'[data-bench-handle="{ex["k"]}"]')
            row = {"description": ex["description"], "browser_ms": [], "wall_ms": [], "presses": []}
            result["explorers"].append(row)
            handle.scroll_into_view_if_needed()
            _settle(page, handle, 30)
            # n/2 presses one way, then back; turn early at either end of the slider (a press there
            # would change nothing)
            half, key = max(1, args.n // 2), "ArrowRight"
            for i in range(args.n):
                handle = page.query_selector(f'[data-bench-handle="{ex["k"]}"]')
                if i == half:
                    key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
                now, lo, hi = (
                    float(v)
                    for v in handle.evaluate(
                        "h => ['now', 'min', 'max'].map(a => h.getAttribute('aria-value' + a))"
                    )
                )
                if key == "ArrowRight" and now >= hi:
                    key = "ArrowLeft"
                elif key == "ArrowLeft" and now <= lo:
                    key = "ArrowRight"
                handle.focus()
                handle.evaluate(ARM)
                t0 = time.perf_counter()
                page.keyboard.press(key)
                press = {"key": key}
                try:
                    page.wait_for_function(CHANGED, arg=handle, timeout=args.timeout * 1000, polling="raf")
                    wall = 1e3 * (time.perf_counter() - t0)
                except Exception as err:  # playwright TimeoutError
                    press["timeout"] = True
                    press["value"] = handle.evaluate(READOUT)
                    row["presses"].append(press)
                    log(f"    {key}: no new picture within {args.timeout} s ({type(err).__name__})")
                    _settle(page, handle, 30)
                    continue
                rec = page.evaluate("() => window.__bench")
                press["value"] = [rec["value0"], handle.evaluate(READOUT)]
                press["wall_ms"] = round(wall, 1)
                if rec["t0"] is not None and rec["t1"] is not None:
                    press["browser_ms"] = round(rec["t1"] - rec["t0"], 1)
                else:  # the picture element was replaced: only the wall clock is known
                    press["browser_ms"] = press["wall_ms"]
                press["extra_redraws"] = _settle(page, handle, 30)
                row["presses"].append(press)
                row["browser_ms"].append(press["browser_ms"])
                row["wall_ms"].append(press["wall_ms"])
            ms = row["browser_ms"]
            row["n"] = len(ms)
            row["timeouts"] = sum(1 for p in row["presses"] if p.get("timeout"))
            row["median_ms"] = round(statistics.median(ms), 1) if ms else None
            row["max_ms"] = round(max(ms), 1) if ms else None
            row["wall_median_ms"] = round(statistics.median(row["wall_ms"]), 1) if ms else None
            log(f"  {lesson} {ex['description']}: n={row['n']} median={row['median_ms']} max={row['max_ms']}")
    except Exception as err:
        result["errors"].append(f"{type(err).__name__}: {str(err).splitlines()[0][:300]}")
    finally:
        if context is not None:
            try:
                context.close()
            except Exception:
                pass
        if lab is not None:
            lab.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        result["load1_end"] = _load()
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lessons", default="", help="comma-separated prefixes, e.g. 01,04 (default: all)")
    ap.add_argument("--n", type=int, default=10, help="key presses per explorer (default 10)")
    ap.add_argument("--timeout", type=float, default=30, help="seconds to wait for one new picture")
    ap.add_argument("--run-timeout", type=float, default=600, help="seconds to wait for Run All")
    ap.add_argument("--chromium", default=os.environ.get("RNNCOURSE_CHROMIUM", "/usr/bin/chromium"))
    ap.add_argument("--out", help="save the results as JSON here")
    args = ap.parse_args(argv)

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("playwright is not installed: pip install -e '.[test]'", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(f"no chromium at {args.chromium} (apt-get install -y chromium)", file=sys.stderr)
        return 2
    lessons = sorted(p.name for p in (ROOT / "notebooks").glob("0*.ipynb"))
    if args.lessons:
        wanted = [w.strip() for w in args.lessons.split(",") if w.strip()]
        lessons = [name for name in lessons if any(name.startswith(w) for w in wanted)]

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    started = time.time()
    results = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            version = browser.version
            for lesson in lessons:
                log(f"{lesson} (load {_load():.2f})")
                results.append(bench_lesson(browser, lesson, args, log))
        finally:
            browser.close()

    load = os.getloadavg()
    print(
        f"slider key press -> new picture (keydown -> img.src change, in the page), "
        f"{args.n} presses per explorer; chromium {version}, {os.cpu_count()} CPUs, "
        f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"{time.time() - started:.0f} s in all"
    )
    print(f"{'lesson':<28} {'explorer':<26} {'n':>3} {'median ms':>10} {'max ms':>8} {'load1':>6}")
    for r in results:
        for row in r["explorers"]:
            med = "-" if row["median_ms"] is None else f"{row['median_ms']:.0f}"
            mx = "-" if row["max_ms"] is None else f"{row['max_ms']:.0f}"
            note = f"  ({row['timeouts']} timed out)" if row["timeouts"] else ""
            print(
                f"{r['lesson']:<28} {row['description'][:26]:<26} {row['n']:>3} {med:>10} {mx:>8} "
                f"{r['load1_start']:>6.2f}{note}"
            )
        for err in r["errors"]:
            print(f"{r['lesson']:<28} ERROR: {err}")
    if args.out:
        meta = {
            "chromium": version,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "n": args.n,
            "loadavg_end": load,
            "seconds": round(time.time() - started, 1),
        }
        Path(args.out).write_text(json.dumps({"meta": meta, "lessons": results}, indent=1))
    failed = any(r["errors"] for r in results) or any(
        row["timeouts"] or not row["n"] for r in results for row in r["explorers"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
