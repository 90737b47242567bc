"""The course as a student and an instructor meet it: JupyterLab in a real (headless) browser.

One JupyterLab server from the project's environment serves a temporary copy of the course
(lectures/, exercises/, solutions/, nbgrader_config.py) on a free loopback port with a random
token, with the default workspace that Binder installs (binder/workspace.json). Headless Chromium,
driven by Playwright, then

1. opens JupyterLab and finds the course map open (what Binder shows first);
2. follows the course map's link to the first lecture that has a slider, clears its stored
   outputs and runs it with Run ▸ Run All Cells, waits until every code cell has an execution
   count (or an error stopped the run) and the kernel is idle, and checks that no cell shows an
   error, that figures and sliders render, and that dragging a slider redraws its figure (the
   image's data changes);
3. follows the course map's link to the first graded exercise, presses nbgrader's Validate
   button and sees the unanswered exercise reported (NotImplementedError), as a student would;
4. opens nbgrader's formgrader and finds every assignment of solutions/ listed.

Every wait follows the real state, never a fixed pause or a transient sight: the notebook's
kernel as JupyterLab's front end holds it (the server runs with --expose-app-in-browser, as
JupyterLab's own browser tests do, so the page's `window.jupyterapp` can be read) and as the
server reports it (/api/sessions, /api/kernels: execution_state, connections). A click that
leaves no trace (Run All that starts no cell, Validate that sends no request, a link that opens
no tab, a drag that moves no slider) is repeated; Run All's repeat goes through JupyterLab's
command `notebook:run-all-cells`. The time limits only catch hangs: they are minutes long, so
that a busy 2-core machine never reaches them.

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
from _chromium import MISSING_CHROMIUM, find_chromium, launched, playwright_or_skip

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "results" / "browser"
COURSE_MAP = "lectures/00_course_map.ipynb"
EXERCISE = "exercises/ex01_neurons/ex01_neurons.ipynb"

# Time limits, in seconds. They only catch hangs: a whole run takes 10-60 s, and a busy 2-core
# machine must never reach them.
START_SERVER_S = 180
PAGE_S = 180          # a page, a tab, a rendered element
KERNEL_S = 300        # a kernel starting and connecting
RUN_ALL_S = 600       # Run All on one lecture, from the click to the last cell
VALIDATE_S = 600      # nbgrader's Validate runs the whole exercise on the server
REDRAW_S = 300        # a slider's new figure
# How long a click may leave no trace at all before it counts as lost and is repeated. A lost click
# never shows anything; repeating one that was merely slow does no harm (Run All twice, Validate
# twice, a tab opened twice all end in the same state).
NO_TRACE_S = 45
POLL_S = 0.5


if find_chromium() is None:
    pytest.skip(MISSING_CHROMIUM, allow_module_level=True)
sync_api = playwright_or_skip()


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


def api(base, token, path, method="GET", timeout=30):
    request = urllib.request.Request(base + path, method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
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
                       cwd=self.course, env=self.env, check=True, capture_output=True,
                       timeout=START_SERVER_S)

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
                       f"--ServerApp.root_dir={self.course}",
                       # window.jupyterapp: the test reads the notebook's kernel state and can
                       # run JupyterLab's commands (JupyterLab's own Galata tests do the same)
                       "--LabApp.expose_app_in_browser=True"]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                command.append("--allow-root")
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(command, cwd=self.course, env=self.env, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + START_SERVER_S
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    api(self.base, self.token, "/api/status", timeout=5)
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

    def kernel_of(self, path):
        """The server's view of the kernel of the notebook `path` (its session's kernel model from
        /api/kernels: id, execution_state, connections, ...), or None when it has none yet."""
        try:
            for session in api(self.base, self.token, "/api/sessions"):
                if session.get("path") == path and session.get("kernel"):
                    return api(self.base, self.token, f"/api/kernels/{session['kernel']['id']}")
        except (OSError, urllib.error.URLError, ValueError):
            return None  # a server too busy to answer now: asked again at the next poll
        return None

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
    with launched(sync_api) as chromium:
        yield chromium


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(PAGE_S * 1000)
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

class Timeout(AssertionError):
    pass


def poll_until(check, timeout, what, stable=1):
    """Call `check()` (returning (done, state)) every POLL_S until it has said done `stable` times
    in a row; return the last state. After `timeout` seconds fail with the last state seen."""
    deadline = time.monotonic() + timeout
    in_a_row, state = 0, None
    while True:
        done, state = check()
        in_a_row = in_a_row + 1 if done else 0
        if in_a_row >= stable:
            return state
        if time.monotonic() > deadline:
            raise Timeout(f"waited {timeout} s for {what}; last state seen: {state}")
        time.sleep(POLL_S)


def shot(page, name):
    RESULTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RESULTS / f"{name}.png"))


def open_lab(page, lab, path="/lab"):
    """Load JupyterLab and wait until it has restored its layout (the app's own promise)."""
    page.goto(lab.url(path))
    page.wait_for_function("() => window.jupyterapp !== undefined")
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")
    page.wait_for_selector("#jp-main-dock-panel .lm-TabBar-tab")


# The notebook `path` as JupyterLab's front end holds it: its panel, its kernel and its code cells.
NOTEBOOK_STATE = """path => {
    const app = window.jupyterapp;
    const widget = app && Array.from(app.shell.widgets('main')).find(
        w => w.context && w.context.path === path && w.content && w.content.widgets);
    if (!widget) return null;
    const session = widget.sessionContext;
    const kernel = session.session ? session.session.kernel : null;
    const cells = widget.content.widgets.filter(c => c.model.type === 'code');
    return {
        id: widget.id,
        current: app.shell.currentWidget === widget,
        contextReady: widget.context.isReady,
        sessionReady: session.isReady,
        hasNoKernel: session.hasNoKernel,
        kernelId: kernel ? kernel.id : null,
        connection: kernel ? kernel.connectionStatus : null,
        status: kernel ? kernel.status : null,
        counts: cells.map(c => c.model.executionCount),
        running: cells.filter(c => c.model.executionState === 'running').length,
        errors: cells.map((c, i) => c.model.outputs.toJSON()
            .filter(o => o.output_type === 'error')
            .map(o => `code cell ${i + 1}: ${o.ename}: ${o.evalue}`)).flat(),
    };
}"""


def notebook_state(page, path):
    return page.evaluate(NOTEBOOK_STATE, path)


def summary(state, server):
    """The state in a line, for waits' failure messages."""
    if state is None:
        return "notebook not open"
    counts = state["counts"]
    front = (f"front end: kernel {state['status']}/{state['connection']} "
             f"(ready={state['sessionReady']}, no kernel={state['hasNoKernel']}), "
             f"{sum(c is not None for c in counts)}/{len(counts)} code cells numbered, "
             f"{state['running']} queued or running, {len(state['errors'])} errors")
    back = (f"server: kernel {server['execution_state']}, {server['connections']} connections"
            if server else "server: no kernel")
    return f"{front}; {back}"


def kernel_idle(state, server):
    """Both the front end and the server see the notebook's kernel connected and idle."""
    return bool(state and state["sessionReady"] and not state["hasNoKernel"]
                and state["connection"] == "connected" and state["status"] == "idle"
                and server and server["id"] == state["kernelId"]
                and server["execution_state"] == "idle" and server["connections"] >= 1)


def accept_kernel_dialog(page):
    """Accept a dialog about the kernel (e.g. "Select Kernel"), if one is open."""
    dialog = page.locator(".jp-Dialog", has=page.locator(".jp-Dialog-header",
                                                         has_text=re.compile("kernel", re.I)))
    if dialog.count():
        dialog.locator("button.jp-mod-accept").first.click()


def wait_kernel_idle(page, lab, path, timeout=KERNEL_S, stable=2):
    """Wait until the kernel of `path` is connected and idle, as both the front end and the
    server see it, twice in a row; return the front end's state of the notebook."""
    def check():
        accept_kernel_dialog(page)
        state = notebook_state(page, path)
        server = lab.kernel_of(path)
        return kernel_idle(state, server), summary(state, server)
    poll_until(check, timeout, f"the kernel of {path} to be connected and idle", stable=stable)
    return notebook_state(page, path)


def open_notebook(page, lab, path, timeout=PAGE_S):
    """Wait until the notebook `path` is open and current and its kernel connected and idle;
    return its panel."""
    def check():
        state = notebook_state(page, path)
        return bool(state and state["current"] and state["contextReady"]), state
    state = poll_until(check, timeout, f"{path} to be open and current")
    panel = page.locator(f"[id='{state['id']}']")
    panel.locator(".jp-Notebook .jp-Cell").first.wait_for()
    wait_kernel_idle(page, lab, path)
    return panel


def follow_link(page, lab, panel, target):
    """Click the course map's rendered link to `target` (a path from the course root); click
    again if no tab opened (opening an open notebook only brings its tab forward)."""
    link = panel.locator(f".jp-RenderedMarkdown a[href*='/files/{target}']").first
    for attempt in range(3):
        link.scroll_into_view_if_needed()
        link.click()
        try:
            poll_until(lambda: (bool(notebook_state(page, target)), None), NO_TRACE_S,
                       f"a tab for {target}")
            break
        except Timeout:
            if attempt == 2:
                raise
    return open_notebook(page, lab, target)


def run_command(page, path, command):
    """Make `path` the current notebook and execute one of JupyterLab's commands on it."""
    page.evaluate("""([path, command]) => {
        const app = window.jupyterapp;
        const widget = Array.from(app.shell.widgets('main')).find(
            w => w.context && w.context.path === path);
        app.shell.activateById(widget.id);
        // not awaited: Run All's promise ends with the run, and the waits follow the run instead
        app.commands.execute(command).catch(error => console.error(command, error));
        return true;
    }""", [path, command])


def click_run_all_in_menu(page, path):
    """Run ▸ Run All Cells, as a student does."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled)",
                 has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))
                 ).click()


def run_all_command(page, path):
    """The command behind Run All Cells, for when the menu click was lost."""
    page.keyboard.press("Escape")  # close a menu the lost click may have left open
    run_command(page, path, "notebook:run-all-cells")


def run_all(page, lab, path):
    """Clear every output, Run All Cells, and wait until the run is over: every code cell has an
    execution count, or an error stopped the run, with nothing queued or running and the kernel
    idle. Return (seconds, how Run All was triggered)."""
    wait_kernel_idle(page, lab, path)
    # Stored outputs carry execution counts: clear them, so that a count means "ran now".
    run_command(page, path, "notebook:clear-all-cell-outputs")

    def check_cleared():
        state = notebook_state(page, path)
        return all(c is None for c in state["counts"]) and not state["errors"], state["counts"]
    poll_until(check_cleared, PAGE_S, f"{path}'s outputs to be cleared")

    def check_started():
        state = notebook_state(page, path)
        started = (state["running"] or state["errors"]
                   or any(c is not None for c in state["counts"]))
        return bool(started), state

    started = time.monotonic()
    triggers = []
    for trigger in (click_run_all_in_menu, run_all_command, run_all_command):
        triggers.append(trigger.__name__)
        trigger(page, path)
        try:
            poll_until(check_started, NO_TRACE_S, "Run All to start a cell")
            break
        except Timeout:
            # no cell started: the click was lost (or came before the kernel was there);
            # the kernel must still be connected and idle before trying again
            wait_kernel_idle(page, lab, path)
    else:
        raise Timeout(f"Run All started no cell of {path} after {len(triggers)} attempts "
                      f"({', '.join(triggers)}); "
                      + summary(notebook_state(page, path), lab.kernel_of(path)))

    def check_done():
        state = notebook_state(page, path)
        server = lab.kernel_of(path)
        over = (not state["running"] and kernel_idle(state, server)
                and (all(c is not None for c in state["counts"]) or state["errors"]))
        return bool(over), summary(state, server)

    poll_until(check_done, RUN_ALL_S, f"Run All on {path} to finish", stable=3)
    return time.monotonic() - started, triggers


def unrun_cells(page, path):
    """1-based numbers of the code cells without an execution count."""
    return [i + 1 for i, count in enumerate(notebook_state(page, path)["counts"]) if count is None]


def error_outputs(panel):
    """Text of every error shown in the panel: error outputs, and stderr naming an error."""
    errors = panel.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    stderr = panel.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")
    return errors.all_text_contents() + [text for text in stderr.all_text_contents()
                                       if "Error" in text or "Traceback" in text]


def wait_rendered(locator, what, timeout=PAGE_S):
    try:
        locator.first.wait_for(state="attached", timeout=timeout * 1000)
    except sync_api.TimeoutError:
        pytest.fail(f"no {what} rendered within {timeout} s")


# ------------------------------------------------------------------------------------- the tests

def test_lab_opens_on_the_course_map(lab, page):
    """The default workspace from binder/ opens the course map, as on Binder."""
    open_lab(page, lab)
    panel = open_notebook(page, lab, COURSE_MAP)
    panel.locator(".jp-RenderedMarkdown h1").first.wait_for()
    page.locator(".jp-FileBrowser .jp-DirListing-item").first.wait_for()
    shot(page, "01_course_map")
    assert "Course map" in panel.locator(".jp-RenderedMarkdown h1").first.inner_text()


def drag_slider(page, cell):
    """Drag the cell's first slider a third of its track towards its further end; repeat if the
    value did not change (a drag that missed the handle). Return the readout before and after."""
    readout = cell.locator(".widget-readout").first
    before = readout.inner_text()
    for _attempt in range(3):
        handle = cell.locator(".widget-slider .noUi-handle").first
        handle.scroll_into_view_if_needed()
        box = handle.bounding_box()
        track = cell.locator(".widget-slider .noUi-target").first.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        distance = track["width"] / 3 * (1 if x < track["x"] + track["width"] / 2 else -1)
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + distance, y, steps=8)
        page.mouse.up()
        try:
            poll_until(lambda: (readout.inner_text() != before, readout.inner_text()), NO_TRACE_S,
                       "the slider's value to change")
            break
        except Timeout:
            continue
    return before, readout.inner_text()


def test_lecture_runs_and_its_slider_redraws_the_figure(lab, page):
    lecture = lecture_with_slider()
    open_lab(page, lab, f"/lab/workspaces/lecture/tree/{COURSE_MAP}")
    course_map = open_notebook(page, lab, COURSE_MAP)
    panel = follow_link(page, lab, course_map, lecture)
    seconds, triggers = run_all(page, lab, lecture)
    shot(page, "02_lecture_after_run_all")
    print(f"{lecture}: Run All took {seconds:.1f} s ({' then '.join(triggers)})")

    state = notebook_state(page, lecture)
    assert not state["errors"], f"{lecture}: cells show errors after Run All:\n" + "\n".join(
        state["errors"] + error_outputs(panel))
    assert not unrun_cells(page, lecture), \
        f"{lecture}: code cells not run by Run All: {unrun_cells(page, lecture)}"
    wait_rendered(panel.locator(".jp-RenderedImage img"), f"{lecture}: matplotlib figure")
    wait_rendered(panel.locator(".widget-slider"), f"{lecture}: ipywidgets slider")
    assert not error_outputs(panel), f"{lecture}: errors shown: {error_outputs(panel)}"

    # the first slider whose cell also shows a figure: drag it and wait for a new image
    cell = panel.locator(".jp-CodeCell", has=page.locator(".widget-slider")).filter(
        has=page.locator(".jp-OutputArea img")).first
    wait_rendered(cell, f"{lecture}: cell showing a slider together with its figure")
    cell.locator(".jp-OutputArea").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    before = cell.locator(".jp-OutputArea img").first.get_attribute("src")
    shot(page, "03_slider_before")
    readout_before, readout_after = drag_slider(page, cell)
    assert readout_after != readout_before, "the slider's value did not change after three drags"
    page.wait_for_function(
        """([cell, before]) => {
            const img = cell.querySelector('.jp-OutputArea img');
            return img && img.complete && img.getAttribute('src') !== before;
        }""", arg=[cell.element_handle(), before], timeout=REDRAW_S * 1000, polling=250)
    wait_kernel_idle(page, lab, lecture)
    shot(page, "04_slider_after")
    assert not error_outputs(panel), "moving the slider produced an error"
    assert not notebook_state(page, lecture)["errors"], "moving the slider produced an error"
    assert not page.errors, f"JavaScript errors in the page: {page.errors}"


def test_exercise_validate_reports_unanswered_questions(lab, page):
    assert EXERCISE in notebook_links(COURSE_MAP), f"the course map does not link to {EXERCISE}"
    requests = []  # what the Validate button sends: a version check, then the validation
    page.on("request", lambda request: requests.append(request.url))
    open_lab(page, lab, f"/lab/workspaces/exercise/tree/{COURSE_MAP}")
    course_map = open_notebook(page, lab, COURSE_MAP)
    panel = follow_link(page, lab, course_map, EXERCISE)
    button = panel.locator(".jp-Toolbar .validate-button")
    for attempt in range(3):
        button.click()
        try:
            poll_until(lambda: (any("nbgrader_version" in url for url in requests), None),
                       NO_TRACE_S, "the Validate button to ask the server")
            break
        except Timeout:
            if attempt == 2:
                raise
    # the result's dialog, or nbgrader's dialog saying why there is none
    result = page.locator(".jp-Dialog", has=page.locator("#validation-message"))
    failed = page.locator(".jp-Dialog", has=page.locator(
        ".jp-Dialog-header", has_text=re.compile("Validation failed|Version Mismatch")))
    try:
        result.or_(failed).first.wait_for(timeout=VALIDATE_S * 1000)
    except sync_api.TimeoutError:
        pytest.fail(f"Validate showed no result within {VALIDATE_S} s (requests sent: "
                    f"{[u for u in requests if 'nbgrader' in u or 'validate' in u]}; "
                    f"dialogs: {page.locator('.jp-Dialog').all_inner_texts()})")
    shot(page, "05_exercise_validate")
    assert not failed.count(), f"Validate failed: {failed.first.inner_text()}"
    text = result.inner_text()
    assert "NotImplementedError" in text, f"Validate did not report NotImplementedError:\n{text}"


def test_formgrader_lists_the_assignments(lab, page):
    expected = assignments(lab.course)
    assert expected, "solutions/ has no assignments"
    page.goto(lab.url("/formgrader"))
    for name in expected:
        page.get_by_text(name, exact=True).first.wait_for()
    shot(page, "06_formgrader")
