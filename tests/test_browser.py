"""The course as a student and an instructor meet it: JupyterLab in a real (headless) browser.

One JupyterLab server from the project's environment serves a temporary copy of the course
(lectures/, exercises/, solutions/, nbgrader_config.py) on a free loopback port with a random
token, with the default workspace that Binder installs (binder/workspace.json). Headless Chromium,
driven by Playwright, then

1. opens JupyterLab and finds the course map open (what Binder shows first);
2. follows the course map's link to the first lecture that has a slider, runs it with
   Run ▸ Run All Cells, waits until every code cell has run and the kernel is idle, and checks
   that no cell shows an error, that figures and sliders render, and that dragging a slider
   redraws its figure (the image's data changes);
3. follows the course map's link to the first graded exercise, presses nbgrader's Validate
   button and sees the unanswered exercise reported (NotImplementedError), as a student would;
4. opens nbgrader's formgrader and finds every assignment of solutions/ listed.

Screenshots of every step go to results/browser/ (ignored by git), with the server's log.
Everything is shut down afterwards: the server is asked to stop (it stops its kernels), its
process group is killed, and any process still referring to the temporary folder is killed and
reported.

Needs Chromium from the system (never downloaded): /usr/bin/chromium or `chromium` on PATH.
Without it the tests are skipped; install it with `apt-get install chromium` (Debian/Ubuntu).
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "results" / "browser"
COURSE_MAP = "lectures/00_course_map.ipynb"
EXERCISE = "exercises/ex01_neurons/ex01_neurons.ipynb"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Bounded waits (milliseconds): generous for a loaded 2-core machine, far below the test's budget.
START_SERVER_S = 60
PAGE_MS = 30_000
KERNEL_MS = 60_000  # a kernel starting on a busy machine
RUN_ALL_MS = 60_000
VALIDATE_MS = 60_000
REDRAW_MS = 20_000


def find_chromium():
    """Path of the system's Chromium, or None."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = find_chromium()
if CHROMIUM is None:
    pytest.skip("Chromium is not installed (looked for /usr/bin/chromium and `chromium` on PATH); "
                "install it with `apt-get install chromium` to run the browser tests",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                               "(it is pinned in requirements.txt: run `make setup`)")


# ----------------------------------------------------------------------------- the course on disk

def notebook_links(path):
    """Targets of the markdown links to notebooks in `path`, resolved from the repository root,
    in the order they appear."""
    nb = nbformat.read(REPO / path, as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for target in re.findall(r"\]\(([^)\s#]+\.ipynb)\)", cell.source):
                resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
                if resolved not in found:
                    found.append(resolved)
    return found


def has_slider(path):
    """Whether a notebook has an ipywidgets slider: a stored widget view output, or a slider or
    interact call in its code."""
    nb = nbformat.read(REPO / path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if any("application/vnd.jupyter.widget-view+json" in out.get("data", {})
               for out in cell.get("outputs", [])):
            return True
        if re.search(r"Slider\(|interact(ive)?\(|explorer\(", cell.source):
            return True
    return False


def lecture_with_slider():
    """The first lecture the course map links to that has a slider."""
    lectures = [p for p in notebook_links(COURSE_MAP)
                if p.startswith("lectures/") and p != COURSE_MAP and (REPO / p).exists()]
    for path in lectures:
        if has_slider(path):
            return path
    pytest.fail(f"none of the lectures the course map links to ({', '.join(lectures) or 'none'}) "
                "has an ipywidgets slider")


def assignments(course):
    """Names of the nbgrader assignments (folders of solutions/ holding a notebook)."""
    return sorted(p.name for p in (course / "solutions").iterdir()
                  if p.is_dir() and any(p.glob("*.ipynb")))


# ------------------------------------------------------------------------------------ the server

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base, token, path, method="GET"):
    request = urllib.request.Request(base + path, method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read() or b"null")


def processes_mentioning(text):
    """PIDs of processes whose command line contains `text` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


class Lab:
    """A JupyterLab server on a copy of the course; `url(path)` gives an address with the token."""

    def __init__(self, root):
        self.root = root
        self.course = root / "course"
        self.token = secrets.token_hex(16)
        self.log = root / "jupyter-server.log"
        self.proc = None
        self.base = None
        for name in ("lectures", "exercises", "solutions"):
            shutil.copytree(REPO / name, self.course / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        shutil.copy2(REPO / "nbgrader_config.py", self.course / "nbgrader_config.py")
        self.env = self._environment()
        # the default workspace exactly as binder/postBuild installs it
        subprocess.run([sys.executable, "-m", "jupyterlab", "workspaces", "import",
                        str(REPO / "binder" / "workspace.json")],
                       cwd=self.course, env=self.env, check=True, capture_output=True, timeout=60)

    def _environment(self):
        env = dict(os.environ)
        env.pop("MPLBACKEND", None)  # the kernel must use the inline backend, as for a student
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                         ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("IPYTHONDIR", "ipython")]:
            (self.root / sub).mkdir(exist_ok=True)
            env[var] = str(self.root / sub)
        # no "get Jupyter news?" pop-up over the screenshots
        notify = self.root / "settings" / "@jupyterlab" / "apputils-extension"
        notify.mkdir(parents=True)
        (notify / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        return env

    def start(self):
        for _attempt in range(3):  # a port taken between choosing and binding: try another
            port = free_port()
            self.base = f"http://127.0.0.1:{port}"
            command = [sys.executable, "-m", "jupyterlab", "--no-browser",
                       "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                       "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                       f"--ServerApp.root_dir={self.course}"]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                command.append("--allow-root")
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(command, cwd=self.course, env=self.env, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + START_SERVER_S
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    api(self.base, self.token, "/api/status")
                    return self
                except (OSError, urllib.error.URLError):
                    time.sleep(0.2)
            if self.proc.poll() is None:
                self.stop()
                break
        raise RuntimeError(f"JupyterLab did not start; its log ends:\n{self.log_tail()}")

    def log_tail(self, lines=30):
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def url(self, path):
        sep = "&" if "?" in path else "?"
        return f"{self.base}{path}{sep}token={self.token}"

    def stop(self):
        """Stop the server and its kernels; return the PIDs that had to be killed afterwards."""
        if self.proc is not None:
            if self.proc.poll() is None:
                try:  # a clean shutdown also shuts down every kernel it started
                    api(self.base, self.token, "/api/shutdown", method="POST")
                    self.proc.wait(timeout=15)
                except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
                    pass
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    continue
            self.proc = None
        stray = processes_mentioning(str(self.root) + os.sep)  # kernels live in their own sessions
        for pid in stray:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return stray


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("jupyterlab")).start()
    try:
        yield server
    finally:
        stray = server.stop()
        RESULTS.mkdir(parents=True, exist_ok=True)
        shutil.copy2(server.log, RESULTS / "jupyter-server.log")
        assert not stray, f"processes left behind after the server stopped (killed): {stray}"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(PAGE_MS)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    try:
        yield page
    finally:
        try:  # the last state of every test, to see where a failure stopped
            shot(page, f"last-{request.node.name}")
        finally:
            context.close()


# ------------------------------------------------------------------------------ in the browser

def shot(page, name):
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"))


def open_lab(page, lab, path="/lab"):
    page.goto(lab.url(path))
    page.wait_for_selector("#jp-main-dock-panel .lm-TabBar-tab", timeout=PAGE_MS)


def notebook_panel(page, filename):
    """Wait until the notebook `filename` is the current tab; return its panel and the panel's
    kernel indicator."""
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current",
                       has=page.locator(".lm-TabBar-tabLabel", has_text=filename))
    tab.wait_for()
    panel = page.locator(f"[id='{tab.get_attribute('data-id')}']")
    panel.locator(".jp-Notebook .jp-Cell").first.wait_for()
    return panel


def accept_kernel_dialog(page):
    dialog = page.locator(".jp-Dialog button.jp-mod-accept")
    if dialog.count():
        dialog.first.click()


def wait_idle(page, panel, timeout):
    accept_kernel_dialog(page)
    panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=timeout)


def follow_link(page, panel, target):
    """Click the course map's rendered link to `target` (a path from the course root)."""
    link = panel.locator(f".jp-RenderedMarkdown a[href*='/files/{target}']").first
    link.scroll_into_view_if_needed()
    link.click()
    return notebook_panel(page, Path(target).name)


def run_all(page, panel):
    """Run ▸ Run All Cells, then wait until the run is over: no cell queued or running and the
    kernel idle. A run stops at the first error, so cells may stay unnumbered; `unrun_cells`
    and `error_outputs` tell."""
    wait_idle(page, panel, KERNEL_MS)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled)",
                 has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))
                 ).click()
    started = time.monotonic()
    page.wait_for_function(  # the run has begun: some cell queued or running
        """panel => Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'))
                        .some(p => p.textContent.includes('*'))""",
        arg=panel.element_handle(), timeout=PAGE_MS)
    page.wait_for_function(  # ... and it is over
        """panel => {
            const prompts = Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'));
            const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
            return prompts.length > 0
                && !prompts.some(p => p.textContent.includes('*'))
                && (!indicator || indicator.dataset.status === 'idle');
        }""", arg=panel.element_handle(), timeout=RUN_ALL_MS, polling=250)
    return time.monotonic() - started


def unrun_cells(panel):
    """Execution prompts of the code cells that show no execution count."""
    return [p for p in panel.locator(".jp-CodeCell .jp-InputArea-prompt").all_text_contents()
            if not re.fullmatch(r"\[\d+\]:", p.strip())]


def error_outputs(panel):
    """Text of every error shown in the panel: error outputs, and stderr naming an error."""
    errors = panel.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    stderr = panel.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")
    return errors.all_text_contents() + [text for text in stderr.all_text_contents()
                                       if "Error" in text or "Traceback" in text]


# ------------------------------------------------------------------------------------- the tests

def test_lab_opens_on_the_course_map(lab, page):
    """The default workspace from binder/ opens the course map, as on Binder."""
    open_lab(page, lab)
    panel = notebook_panel(page, Path(COURSE_MAP).name)
    panel.locator(".jp-RenderedMarkdown h1").first.wait_for()
    page.locator(".jp-FileBrowser .jp-DirListing-item").first.wait_for()
    wait_idle(page, panel, KERNEL_MS)
    shot(page, "01_course_map")
    assert "Course map" in panel.locator(".jp-RenderedMarkdown h1").first.inner_text()


def test_lecture_runs_and_its_slider_redraws_the_figure(lab, page):
    lecture = lecture_with_slider()
    open_lab(page, lab, f"/lab/workspaces/lecture/tree/{COURSE_MAP}")
    course_map = notebook_panel(page, Path(COURSE_MAP).name)
    panel = follow_link(page, course_map, lecture)
    seconds = run_all(page, panel)
    shot(page, "02_lecture_after_run_all")
    print(f"{lecture}: Run All took {seconds:.1f} s")

    errors = error_outputs(panel)
    assert not errors, f"{lecture}: cells show errors after Run All:\n" + "\n---\n".join(errors)
    assert not unrun_cells(panel), f"{lecture}: cells not run by Run All: {unrun_cells(panel)}"
    figures = panel.locator(".jp-RenderedImage img")
    sliders = panel.locator(".widget-slider")
    assert figures.count() >= 1, f"{lecture}: no matplotlib figure rendered"
    assert sliders.count() >= 1, f"{lecture}: no ipywidgets slider rendered"

    # the first slider whose cell also shows a figure: drag it and wait for a new image
    cell = panel.locator(".jp-CodeCell", has=page.locator(".widget-slider")).filter(
        has=page.locator(".jp-OutputArea img")).first
    assert cell.count() == 1, f"{lecture}: no cell shows a slider together with its figure"
    handle = cell.locator(".widget-slider .noUi-handle").first
    cell.locator(".jp-OutputArea").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    before = cell.locator(".jp-OutputArea img").first.get_attribute("src")
    readout_before = cell.locator(".widget-readout").first.inner_text()
    shot(page, "03_slider_before")
    box = handle.bounding_box()
    track = cell.locator(".widget-slider .noUi-target").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # drag a third of the track towards whichever end is further away
    distance = track["width"] / 3 * (1 if x < track["x"] + track["width"] / 2 else -1)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + distance, y, steps=8)
    page.mouse.up()
    page.wait_for_function(
        """([cell, before]) => {
            const img = cell.querySelector('.jp-OutputArea img');
            return img && img.complete && img.getAttribute('src') !== before;
        }""", arg=[cell.element_handle(), before], timeout=REDRAW_MS)
    wait_idle(page, panel, KERNEL_MS)
    shot(page, "04_slider_after")
    readout_after = cell.locator(".widget-readout").first.inner_text()
    assert readout_after != readout_before, "the slider's value did not change"
    assert not error_outputs(panel), "moving the slider produced an error"
    assert not page.errors, f"JavaScript errors in the page: {page.errors}"


def test_exercise_validate_reports_unanswered_questions(lab, page):
    assert EXERCISE in notebook_links(COURSE_MAP), f"the course map does not link to {EXERCISE}"
    open_lab(page, lab, f"/lab/workspaces/exercise/tree/{COURSE_MAP}")
    course_map = notebook_panel(page, Path(COURSE_MAP).name)
    panel = follow_link(page, course_map, EXERCISE)
    wait_idle(page, panel, KERNEL_MS)
    panel.locator(".jp-Toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=VALIDATE_MS)
    page.wait_for_function(
        """() => { const d = document.querySelector('.jp-Dialog');
                   return d && !/validating/i.test(d.innerText); }""", timeout=VALIDATE_MS)
    shot(page, "05_exercise_validate")
    text = dialog.inner_text()
    assert "NotImplementedError" in text, f"Validate did not report NotImplementedError:\n{text}"


def test_formgrader_lists_the_assignments(lab, page):
    expected = assignments(lab.course)
    assert expected, "solutions/ has no assignments"
    page.goto(lab.url("/formgrader"))
    for name in expected:
        page.get_by_text(name, exact=True).first.wait_for(timeout=PAGE_MS)
    shot(page, "06_formgrader")
