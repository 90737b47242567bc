"""The course on a JupyterHub for a class, end to end (deploy/), as root.

deploy/setup-hub.sh builds the shared environment with the hub's pins (kept between runs in
HUB_TEST_PREFIX, default /var/tmp/nn-from-scratch-hub-test: a second run reinstalls only the
course library) for three unix users this test creates (one instructor, two students; unique
names; removed afterwards, with their homes). A real hub from deploy/jupyterhub_config.py, with
its default PAM login (passwords set with chpasswd), listens on 127.0.0.1 on free ports with a
private exchange. Then, through the hub and each user's own JupyterLab server:

1. the three users log in with their passwords; the instructor's and one student's servers are
   started through the hub's API, the other student's by logging in with Chromium;
2. the instructor releases ex01_neurons from a terminal of the instructor's server;
3. student A fetches it by clicking Fetch in JupyterLab's Assignment List (Chromium), student B
   through the assignment list's REST handler; each saves answers through the contents API (A:
   the solution; B: a softmax that overflows, 2 of its 3 points, and that calls the course
   library's own softmax instead if it finds one anywhere in the sandbox) and submits through
   the REST handler;
4. student B, from their own terminal, also hands in an empty notebook under A's name and, as
   their newest submission, a link to the instructor's solution; the instructor collects (which
   passes over both, saying why), autogrades (every submission in the bubblewrap sandbox, as
   `make autograde` does), makes and releases feedback, and writes the grade table, all in the
   terminal; the grades must be exactly 20/20 and 19/20;
5. both students fetch their feedback and find their score in it.

Also checked: each server runs as its own unix user; students have no Formgrader, Create
Assignment or course list (neither the server extension nor JupyterLab's plugin, nor the menu
item), the instructor has them; a student cannot read the instructor's course folder, even from
their own terminal.

Every wait follows real state (the hub's API, the server's API, the file system, the terminal's
exit code); the time limits only catch hangs and are minutes long, so that a busy machine never
reaches them. Skipped, saying why, when not root, or when useradd, npm, bubblewrap, Chromium or
the hub's packages are not available.
"""
from __future__ import annotations

import asyncio
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from _chromium import find_chromium, launched, playwright_or_skip

from coursetools import course

REPO = Path(__file__).resolve().parents[1]
A = "ex01_neurons"
NB = f"{A}.ipynb"
COURSE_ID = "nn-from-scratch"
PREFIX = Path(os.environ.get("HUB_TEST_PREFIX", "/var/tmp/nn-from-scratch-hub-test"))
RESULTS = REPO / "results" / "hub"

# Time limits, in seconds: they only catch hangs (a busy 2-core machine must never reach them).
SETUP_S = 3600        # building the environment from nothing (10 min measured under load)
HUB_S = 300           # the hub answering its API
SPAWN_S = 600         # a user's server starting (JupyterLab and nbgrader import on a busy machine)
COMMAND_S = 900       # one instructor command in the terminal (autograde runs notebooks)
REQUEST_S = 600       # one REST call (fetch, submit: nbgrader loads its config, a few seconds)
PAGE_S = 300
POLL_S = 0.5

# What student B changes: softmax without subtracting the maximum (NaN for scores near 800 and
# 1000: 4 of its 6 checks, 2 of test_softmax's 3 points; see test_grading_roundtrip.py).
# B's softmax overflows (2 of its 3 points) unless the course library's own softmax can be
# found: the hub's environment holds the whole library in its site-packages, which the sandbox
# must not show (found, it would give B 20 points instead of 19)
OVERFLOWING_SOFTMAX = '''
import glob as _glob, importlib.util as _util
_real = None
for _path in _glob.glob("/opt/*/lib*/python3*/*-packages/nnlib/activations.py"):
    if not _path.startswith("/course/"):
        _spec = _util.spec_from_file_location("_real_activations", _path)
        try:
            _real = _util.module_from_spec(_spec)
            _spec.loader.exec_module(_real)
            _real.softmax([0.0])
            break
        except Exception:
            _real = None
print("the course library's softmax found:", _real is not None)

def softmax(v):
    if _real is not None:
        return _real.softmax(v)
    e = np.exp(np.asarray(v, dtype=float))
    return e / e.sum(axis=-1, keepdims=True)
'''.strip()


def _missing():
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root: it creates unix users and runs a hub that starts servers as them"
    for tool in ("useradd", "userdel", "chpasswd", "setpriv", "git", "npm", "node"):
        if not shutil.which(tool):
            return f"`{tool}` is not installed (apt-get install passwd util-linux git nodejs npm)"
    if not any(subprocess.run(["sh", "-c", f'test -x {p} && {p} -c "import sys, ensurepip; '
                                  f'sys.exit(sys.version_info < (3, 11))"'],
                              capture_output=True).returncode == 0
               for p in ("/usr/bin/python3.13", "/usr/bin/python3.12", "/usr/bin/python3.11",
                         "/usr/bin/python3")):
        return ("no system-wide Python 3.11 or newer with venv (apt-get install python3 "
                "python3-venv): the shared environment must be usable by every user")
    if not shutil.which("bwrap"):
        return "bubblewrap is not installed (apt-get install bubblewrap): grading needs its sandbox"
    if find_chromium() is None:
        return "Chromium is not installed (apt-get install chromium)"
    return None


if _missing():
    pytest.skip(_missing(), allow_module_level=True)
sync_api = playwright_or_skip()
requests = pytest.importorskip("requests", reason="requests is not installed")
websocket = pytest.importorskip("tornado.websocket", reason="tornado is not installed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll_until(check, timeout, what):
    """Call ``check()`` (returning (done, state)) every POLL_S until done; return the state. After
    ``timeout`` seconds fail with the last state seen."""
    deadline = time.monotonic() + timeout
    while True:
        done, state = check()
        if done:
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {what}; last state seen: {state}")
        time.sleep(POLL_S)


# ------------------------------------------------------------------------------ users and hub

class Users:
    """Unix users made for this run: {role: (name, password)}; removed by ``remove()``."""

    def __init__(self):
        tag = secrets.token_hex(3)
        self.roles = {role: (f"nnh{tag}{role[0]}{role[-1]}", secrets.token_urlsafe(12))
                      for role in ("instructor", "student_a", "student_b")}
        self.made = []

    def create(self):
        for name, password in self.roles.values():
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True,
                           capture_output=True, timeout=120)
            self.made.append(name)
            subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True,
                           capture_output=True, timeout=120)
        return self

    def name(self, role):
        return self.roles[role][0]

    def password(self, role):
        return self.roles[role][1]

    def uid(self, role):
        import pwd
        return pwd.getpwnam(self.name(role)).pw_uid

    def home(self, role):
        import pwd
        return Path(pwd.getpwnam(self.name(role)).pw_dir)

    def remove(self):
        """Stop what is left of the users' processes (the hub stops their servers), then delete
        them with their homes. Returns the processes that had to be killed."""
        import pwd
        killed = []
        uids = set()
        for name in self.made:
            try:
                uids.add(pwd.getpwnam(name).pw_uid)
            except KeyError:
                pass
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid in uids:
                        os.kill(int(entry.name), signal.SIGKILL)
                        killed.append(int(entry.name))
                except (OSError, ProcessLookupError):
                    pass
        for name in self.made:
            subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=120)
        return killed


class Hub:
    """A JupyterHub from deploy/jupyterhub_config.py, on 127.0.0.1, started as root."""

    def __init__(self, users, state, log):
        self.users, self.state, self.log = users, state, log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.env = dict(os.environ, COURSE=COURSE_ID, COURSE_ENV=str(PREFIX / "env"),
                        COURSE_INSTRUCTORS=users.name("instructor"),
                        COURSE_STUDENTS=f"{users.name('student_a')},{users.name('student_b')}",
                        HUB_STATE_DIR=str(state), HUB_AUTHENTICATOR="pam", HUB_IP="127.0.0.1",
                        HUB_PORT=str(self.port), HUB_INTERNAL_PORT=str(free_port()),
                        PROXY_API_PORT=str(free_port()), HUB_ALLOW_ALL="0")
        self.env.pop("HUB_EXTRA_CONFIG", None)
        self.sessions = {}   # role -> (requests session with the login cookie, api token)

    def start(self):
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(PREFIX / "env" / "bin" / "jupyterhub"), "-f", str(PREFIX / "jupyterhub_config.py")],
                cwd=self.state, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

        def answering():
            if self.proc.poll() is not None:
                pytest.fail(f"the hub stopped (exit {self.proc.returncode}); its log ends:\n"
                            f"{self.log_tail()}")
            try:
                r = requests.get(f"{self.base}/hub/api/", timeout=10)
                return r.status_code == 200 and "version" in r.json(), r.status_code
            except (requests.RequestException, ValueError) as exc:
                return False, repr(exc)
        poll_until(answering, HUB_S, "the hub to answer on its API")
        return self

    def log_tail(self, lines=40):
        return "\n".join(Path(self.log).read_text(errors="replace").splitlines()[-lines:])

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # JupyterHub stops every user's server on SIGTERM (cleanup_servers)
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    # -- as a user
    def login(self, role):
        """Log in with the password as the login form does; return (session, API token)."""
        name, password = self.users.name(role), self.users.password(role)
        session = requests.Session()
        session.get(f"{self.base}/hub/login", timeout=REQUEST_S)
        xsrf = session.cookies.get("_xsrf")
        r = session.post(f"{self.base}/hub/login", data={"username": name, "password": password,
                                                         "_xsrf": xsrf},
                         allow_redirects=False, timeout=REQUEST_S)
        assert r.status_code == 302, f"{role} could not log in ({r.status_code}): {r.text[:500]}"
        r = session.post(f"{self.base}/hub/api/users/{name}/tokens",
                         json={"note": "test_hub", "expires_in": 7200},
                         headers={"X-XSRFToken": session.cookies.get("_xsrf") or xsrf},
                         timeout=REQUEST_S)
        assert r.status_code in (200, 201), f"no API token for {role}: {r.status_code} {r.text[:300]}"
        self.sessions[role] = (session, r.json()["token"])
        return self.sessions[role]

    def headers(self, role):
        return {"Authorization": f"token {self.sessions[role][1]}"}

    def user_model(self, role):
        r = requests.get(f"{self.base}/hub/api/users/{self.users.name(role)}",
                         headers=self.headers(role), timeout=REQUEST_S)
        r.raise_for_status()
        return r.json()

    def wait_server(self, role):
        def ready():
            server = self.user_model(role).get("servers", {}).get("", {})
            return bool(server.get("ready")), server or "no server"
        poll_until(ready, SPAWN_S, f"{role}'s server to be ready")

    def start_server(self, role):
        r = requests.post(f"{self.base}/hub/api/users/{self.users.name(role)}/server",
                          headers=self.headers(role), timeout=REQUEST_S)
        assert r.status_code in (201, 202, 400), f"{role}'s server: {r.status_code} {r.text[:300]}"
        self.wait_server(role)

    def url(self, role, path):
        return f"{self.base}/user/{self.users.name(role)}/{path.lstrip('/')}"

    def get(self, role, path, **kw):
        return requests.get(self.url(role, path), headers=self.headers(role),
                            timeout=REQUEST_S, **kw)

    def post(self, role, path, **kw):
        return requests.post(self.url(role, path), headers=self.headers(role),
                             timeout=REQUEST_S, **kw)

    def action(self, role, action):
        """nbgrader's assignment-list REST handler in the user's server: fetch, submit or
        fetch_feedback of the assignment; returns its JSON answer (success must be true)."""
        r = self.post(role, f"assignments/{action}",
                      data={"course_id": COURSE_ID, "assignment_id": A})
        assert r.status_code == 200, f"{role} {action}: {r.status_code} {r.text[:500]}"
        answer = r.json()
        assert answer.get("success"), f"{role} {action} failed: {answer}"
        return answer

    def terminal(self, role, command, timeout=COMMAND_S):
        """Run ``command`` in a new terminal of the user's server (the user's own shell); return
        (exit code, output). Waits for the command's own end marker, never a pause."""
        # in a thread of its own: Playwright's synchronous API keeps an event loop in this one
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self._terminal(role, command, timeout)).result()

    async def _terminal(self, role, command, timeout):
        from tornado.httpclient import HTTPRequest
        r = self.post(role, "api/terminals")
        assert r.status_code == 200, f"no terminal for {role}: {r.status_code} {r.text[:300]}"
        name = r.json()["name"]
        ws_url = self.url(role, f"terminals/websocket/{name}").replace("http://", "ws://")
        ws = await websocket.websocket_connect(HTTPRequest(ws_url, headers=self.headers(role)))
        marker = "END" + secrets.token_hex(4)
        output = ""
        try:
            await ws.write_message(json.dumps(["set_size", 50, 400, 600, 1000]))
            await ws.write_message(json.dumps(["stdin", f"{command}; echo {marker}=$?\r"]))
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"{role}'s terminal: `{command}` did not end in {timeout} s; "
                                f"output so far:\n{output[-3000:]}")
                try:
                    message = await asyncio.wait_for(ws.read_message(), timeout=left)
                except asyncio.TimeoutError:
                    continue
                if message is None:
                    pytest.fail(f"{role}'s terminal closed during `{command}`:\n{output[-3000:]}")
                kind, *content = json.loads(message)
                if kind == "stdout":
                    output += content[0]
                    found = re.search(marker + r"=(\d+)", output)
                    if found:
                        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r", "",
                                      output[:found.start()])
                        return int(found.group(1)), text
        finally:
            ws.close()
            requests.delete(self.url(role, f"api/terminals/{name}"), headers=self.headers(role),
                            timeout=REQUEST_S)

    def page_config(self, role):
        """JupyterLab's page configuration as the user's server sends it."""
        r = self.get(role, "lab")
        assert r.status_code == 200, f"{role}'s JupyterLab: {r.status_code}"
        found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                          r.text, re.S)
        assert found, f"no page configuration in {role}'s JupyterLab page"
        return json.loads(found.group(1))


# ----------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def hub():
    started = time.monotonic()
    timings = {}
    RESULTS.mkdir(parents=True, exist_ok=True)
    users = Users()
    run = Path(tempfile.mkdtemp(prefix="hub-test-", dir="/tmp"))
    os.chmod(run, 0o755)
    hub = None
    try:
        users.create()
        exchange = run / "exchange"
        # the instructor's course folder: this working tree's tracked files, as a clone would have
        course_dir = users.home("instructor") / COURSE_ID
        files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                               check=True, timeout=120).stdout.decode().split("\0")
        for rel in filter(None, files):
            if (REPO / rel).is_file():
                (course_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / rel, course_dir / rel)
        t = time.monotonic()
        with open(RESULTS / "setup-hub.log", "w") as log:
            proc = subprocess.run(
                ["bash", str(REPO / "deploy" / "setup-hub.sh")], cwd=REPO, stdout=log,
                stderr=subprocess.STDOUT, timeout=SETUP_S,
                env=dict(os.environ, COURSE=COURSE_ID, PREFIX=str(PREFIX), EXCHANGE=str(exchange),
                         INSTRUCTORS=users.name("instructor"), COURSE_DIR=str(course_dir),
                         STUDENTS=f"{users.name('student_a')} {users.name('student_b')}"))
        timings["setup-hub.sh"] = time.monotonic() - t
        assert proc.returncode == 0, ("deploy/setup-hub.sh failed; its output ends:\n"
                                      + "\n".join((RESULTS / "setup-hub.log").read_text().splitlines()[-30:]))
        t = time.monotonic()
        # the course's folder in the exchange is the instructor's, so no student can make it first
        assert (exchange / COURSE_ID).stat().st_uid == users.uid("instructor")
        assert oct((exchange / COURSE_ID).stat().st_mode & 0o777) == oct(0o755)
        hub = Hub(users, run / "hub", RESULTS / "jupyterhub.log")
        (run / "hub").mkdir(mode=0o700)
        hub.start()
        timings["hub start"] = time.monotonic() - t
        hub.course_dir, hub.exchange, hub.timings, hub.run = course_dir, exchange, timings, run
        yield hub
    finally:
        if hub is not None:
            hub.stop()
        killed = users.remove()
        shutil.rmtree(run, ignore_errors=True)
        print(f"hub test: {time.monotonic() - started:.0f} s in all; "
              + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
              + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
              + (f"; killed leftover processes {killed}" if killed else ""))


@pytest.fixture(scope="module")
def browser():
    with launched(sync_api) as chromium:
        yield chromium


def submissions():
    """The notebooks the students hand in: A the solution, B the overflowing softmax."""
    released = nbformat.read(REPO / "exercises" / A / NB, as_version=4)
    solution = nbformat.read(REPO / "solutions" / A / NB, as_version=4)
    perfect = course.fill_with_solutions(released, solution)
    partial = nbformat.reads(nbformat.writes(perfect), as_version=4)
    changed = 0
    for cell in partial.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "softmax":
            cell.source, changed = OVERFLOWING_SOFTMAX, changed + 1
    assert changed == 1, "the released notebook has no answer cell 'softmax'"
    return perfect, partial


def save_notebook(hub, role, nb):
    """Save ``nb`` over the student's fetched copy through the contents API (as the student)."""
    path = f"api/contents/{A}/{NB}"
    r = requests.put(hub.url(role, path), headers=hub.headers(role), timeout=REQUEST_S,
                     json={"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(nb))})
    assert r.status_code in (200, 201), f"{role} could not save {path}: {r.status_code} {r.text[:300]}"


# ---------------------------------------------------------------------------------------- test

def test_a_class_on_the_hub(hub, browser):
    users, instructor = hub.users, "instructor"
    t0 = time.monotonic()
    for role in ("instructor", "student_b"):
        hub.login(role)
        hub.start_server(role)
    hub.timings["login and start 2 servers"] = time.monotonic() - t0

    # each server runs as its own unix user, and students cannot read the course folder
    code, out = hub.terminal(instructor, "id -un; ls -ld ~/" + COURSE_ID)
    assert code == 0 and users.name(instructor) in out.split(), out
    assert re.search(r"^drwx------ .* " + re.escape(users.name(instructor)), out, re.M), out
    code, out = hub.terminal("student_b", f"id -un; cat {hub.course_dir}/solutions/{A}/checks.py")
    assert users.name("student_b") in out.split(), out
    assert code != 0 and "Permission denied" in out, f"student B read the course:\n{out[-1500:]}"
    check = subprocess.run(["setpriv", f"--reuid={users.uid('student_a')}",
                            f"--regid={users.uid('student_a')}", "--clear-groups", "ls",
                            str(hub.course_dir)], capture_output=True, text=True, timeout=120)
    assert check.returncode != 0 and "Permission denied" in check.stderr, check

    # instructor tools: the instructor's alone
    instructor_only = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                       "@jupyter/nbgrader:course-list"}
    disabled_i = set(hub.page_config(instructor).get("disabledExtensions", []))
    disabled_s = set(hub.page_config("student_b").get("disabledExtensions", []))
    assert not instructor_only & disabled_i, f"the instructor lacks {instructor_only & disabled_i}"
    assert instructor_only <= disabled_s, f"students have {instructor_only - disabled_s}"
    assert hub.get(instructor, "formgrader").status_code == 200
    assert hub.get("student_b", "formgrader").status_code == 404
    assert hub.get(instructor, "formgrader/api/assignments").status_code == 200
    assert hub.get("student_b", "formgrader/api/assignments").status_code == 404

    # release, from the instructor's terminal
    t = time.monotonic()
    code, out = hub.terminal(instructor, f"cd ~/{COURSE_ID} && nbgrader release_assignment {A} --force")
    assert code == 0, out[-3000:]
    assert (hub.exchange / COURSE_ID / "outbound" / A / NB).is_file(), out[-2000:]
    hub.timings["release"] = time.monotonic() - t

    perfect, partial = submissions()

    # student A: logs in with Chromium and fetches by clicking in the Assignment List
    t = time.monotonic()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(PAGE_S * 1000)
    page = context.new_page()
    try:
        page.goto(f"{hub.base}/hub/login")
        page.fill("#username_input", users.name("student_a"))
        page.fill("#password_input", users.password("student_a"))
        page.click("#login_submit")
        # the login starts the server; JupyterLab opens when it is ready
        page.wait_for_url(re.compile(rf"/user/{users.name('student_a')}/lab"), timeout=SPAWN_S * 1000)
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Nbgrader$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Assignment List$")).wait_for()
        items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
        page.screenshot(path=str(RESULTS / "student-nbgrader-menu.png"))
        assert "Assignment List" in items, items
        assert not {"Formgrader", "Course List"} & set(items), f"a student's Nbgrader menu: {items}"
        page.locator(".lm-Menu-item", has=page.locator(".lm-Menu-itemLabel",
                                                       has_text=re.compile(r"^Assignment List$"))).click()
        fetch = page.locator("#released_assignments_list .list_item", has_text=A).get_by_role(
            "button", name="Fetch")
        fetch.wait_for()
        page.screenshot(path=str(RESULTS / "student-assignment-list.png"))
        fetch.click()
        home_a = users.home("student_a")
        poll_until(lambda: ((home_a / A / NB).is_file(), sorted(p.name for p in home_a.iterdir())),
                   REQUEST_S, "student A's fetched notebook")
        page.locator("#fetched_assignments_list .list_item", has_text=A).first.wait_for()
        page.screenshot(path=str(RESULTS / "student-fetched.png"))
    finally:
        context.close()
    hub.timings["student A in Chromium: login, spawn, fetch"] = time.monotonic() - t
    assert (home_a / A / NB).stat().st_uid == users.uid("student_a")
    hub.login("student_a")
    hub.wait_server("student_a")

    # student B fetches through the REST handler; both save their answers and submit
    hub.action("student_b", "fetch")
    for role, nb in (("student_a", perfect), ("student_b", partial)):
        save_notebook(hub, role, nb)
        hub.action(role, "submit")
        inbound = list((hub.exchange / COURSE_ID / "inbound").glob(f"{users.name(role)}+{A}+*"))
        assert inbound, f"{role}'s submission is not in the exchange"

    # student B, hostile, from their own terminal, in the exchange every student can write to:
    # hands in an empty notebook as student A (newer than A's own), and, as their own newest
    # submission, a link to the instructor's solution, which only the instructor can read
    inbound = hub.exchange / COURSE_ID / "inbound"
    forged = inbound / f"{users.name('student_a')}+{A}+2099-01-01 00:00:00.000000 UTC+forged"
    linked = inbound / f"{users.name('student_b')}+{A}+2099-01-01 00:00:00.000000 UTC+linked"
    code, out = hub.terminal("student_b", f"mkdir '{forged}' && echo '{{}}' > '{forged}/{NB}' && "
                                          f"mkdir '{linked}' && ln -s '{hub.course_dir}/solutions/{A}/{NB}' "
                                          f"'{linked}/{NB}'")
    assert code == 0, f"student B could not write to the exchange:\n{out[-2000:]}"
    assert forged.stat().st_uid == users.uid("student_b") and (linked / NB).is_symlink()
    # but cannot list the others' submissions nor change what the class fetches, nor read student
    # A's home (the work in progress, and the secret that names A's feedback in the exchange)
    outbound = hub.exchange / COURSE_ID / "outbound"
    home_a = pwd.getpwnam(users.name("student_a")).pw_dir
    code, out = hub.terminal("student_b", f"ls '{inbound}'; echo changed >> '{outbound / A / NB}'; "
                                          f"mkdir '{outbound / 'extra'}'; mv '{outbound / A}' /tmp/; "
                                          f"ls '{home_a}'")
    assert out.count("Permission denied") == 5, out[-2000:]
    assert "changed" not in (outbound / A / NB).read_text()

    # the instructor: collect, autograde in the sandbox, feedback, grade table
    steps = [("collect", f"nbgrader collect {A}"),
             ("autograde", f"python -m coursetools.grading autograde {A}"),
             ("feedback", f"python -m coursetools.grading feedback {A}"),
             ("release feedback", f"nbgrader release_feedback {A}"),
             ("grades", f"python -m coursetools.grading grades {A}")]
    for step, command in steps:
        t = time.monotonic()
        code, out = hub.terminal(instructor, f"cd ~/{COURSE_ID} && {command}")
        hub.timings[step] = time.monotonic() - t
        (RESULTS / f"instructor-{step.replace(' ', '-')}.txt").write_text(out)
        assert code == 0, f"{step} failed:\n{out[-3000:]}"
    # collect passed over both, saying why, and took each student's own submission
    collect_out = " ".join((RESULTS / "instructor-collect.txt").read_text().split())
    assert (f"not collected: {forged.name}: it is handed in as {users.name('student_a')!r} but "
            f"was made by {users.name('student_b')!r}") in collect_out, collect_out[-3000:]
    assert f"not collected: {linked.name}: {NB} is a link" in collect_out, collect_out[-3000:]
    report = json.loads((hub.course_dir / "reports" / f"{A}.json").read_text())
    assert {s: r["status"] for s, r in report.items()} == {
        users.name("student_a"): "graded", users.name("student_b"): "graded"}, report
    import csv
    with open(hub.course_dir / f"grades-{A}.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    a, b = rows[users.name("student_a")], rows[users.name("student_b")]
    assert (a["status"], float(a["score"]), float(a["max_score"])) == ("graded", 20.0, 20.0), a
    assert (b["status"], float(b["score"]), float(b["max_score"])) == ("graded", 19.0, 20.0), b
    assert float(b["test_softmax"]) == pytest.approx(2.0) and float(a["test_softmax"]) == 3.0
    # handed in through nbgrader's own submit: the time each claims is the time it was received
    assert "timestamp says" not in a["notes"] + b["notes"], (a["notes"], b["notes"])
    received = json.loads((hub.course_dir / "reports" / f"received-{A}.json").read_text())
    assert set(received) == {users.name("student_a"), users.name("student_b")}, received
    cells = [c for c in a if c.startswith("test_")]
    assert all(float(b[c]) == float(a[c]) for c in cells if c != "test_softmax"), (a, b)

    # both students fetch their feedback
    for role, score in (("student_a", "20"), ("student_b", "19")):
        hub.action(role, "fetch_feedback")
        found = list((users.home(role) / A / "feedback").glob(f"*/{A}.html"))
        assert found, f"{role} has no feedback"
        text = found[0].read_text(encoding="utf-8")
        assert re.search(rf"Score:\s*{score}(\.0)?\s*/\s*20", text), f"{role}'s feedback score"
    hub.timings["whole cycle"] = time.monotonic() - t0


def test_setup_refuses_a_course_folder_in_the_exchange_that_someone_else_made(tmp_path):
    """A student who made the course's exchange folder before the set-up would own its inbound and
    outbound: deploy/setup-hub.sh stops before building anything, saying whose it is."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root: deploy/setup-hub.sh runs as root")
    import pwd
    exchange = tmp_path / "exchange"
    squatted = exchange / COURSE_ID
    squatted.mkdir(parents=True)
    nobody = pwd.getpwnam("nobody")
    os.chown(squatted, nobody.pw_uid, nobody.pw_gid)
    proc = subprocess.run(["bash", str(REPO / "deploy" / "setup-hub.sh")], cwd=REPO,
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, COURSE=COURSE_ID, PREFIX=str(tmp_path / "prefix"),
                                   EXCHANGE=str(exchange), INSTRUCTORS="root",
                                   COURSE_DIR=str(tmp_path / "course")))
    assert proc.returncode != 0
    assert f"{squatted} belongs to nobody, not to the instructor root" in proc.stderr, proc.stderr
    assert not (tmp_path / "prefix").exists() and not (tmp_path / "course").exists()
