"""JupyterHub's configuration for running the course for a class on one machine.

Start the hub as root (it starts each user's server as that unix user), with the settings that
deploy/setup-hub.sh wrote to hub.env:

    set -a; . /opt/nn-from-scratch/hub.env; set +a
    /opt/nn-from-scratch/env/bin/jupyterhub -f /opt/nn-from-scratch/jupyterhub_config.py

Settings (environment variables; defaults in brackets):

COURSE_ENV          the environment every user's JupyterLab runs from [/opt/nn-from-scratch/env]
COURSE_INSTRUCTORS  unix users who teach: hub admins, with nbgrader's instructor tools
COURSE_STUDENTS     unix users allowed to log in besides the instructors
HUB_ALLOW_ALL       1: anyone the authenticator accepts may log in (no list of students) [0]
HUB_AUTHENTICATOR   "pam" (the machine's own users and passwords), or any JupyterHub
                    authenticator by its short name or class ("dummy", "shared-password",
                    "nativeauthenticator.NativeAuthenticator", ...) [pam]
HUB_IP, HUB_PORT    where the hub is reached (put it behind HTTPS for a real class) [0.0.0.0, 8000]
HUB_INTERNAL_PORT   the hub's own API, on 127.0.0.1 [8081]
PROXY_API_PORT      the proxy's API, on 127.0.0.1 [8001]
HUB_STATE_DIR       the hub's database and cookie secret [/opt/nn-from-scratch/hub]
HUB_EXTRA_CONFIG    a further configuration file loaded at the end (optional)
"""
import os

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)


def _setting(name, default=""):
    return os.environ.get(name, default).strip()


def _users(name):
    """A list of user names from a variable, separated by spaces or commas."""
    return {u for u in _setting(name).replace(",", " ").split() if u}


course = _setting("COURSE", "nn-from-scratch")
env = _setting("COURSE_ENV", f"/opt/{course}/env")
state = _setting("HUB_STATE_DIR", f"/opt/{course}/hub")
instructors = _users("COURSE_INSTRUCTORS")
students = _users("COURSE_STUDENTS")
if not os.path.isfile(os.path.join(env, "bin", "jupyterhub-singleuser")):
    raise SystemExit(f"no course environment at {env} (COURSE_ENV): run deploy/setup-hub.sh first")
if not instructors:
    raise SystemExit("COURSE_INSTRUCTORS names no instructor: source the hub.env that "
                     "deploy/setup-hub.sh wrote, or set it")

# -- where the hub is reached, and its own files
c.JupyterHub.bind_url = f"http://{_setting('HUB_IP', '0.0.0.0')}:{int(_setting('HUB_PORT', '8000'))}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{int(_setting('HUB_INTERNAL_PORT', '8081'))}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(_setting('PROXY_API_PORT', '8001'))}"
c.ConfigurableHTTPProxy.command = [os.path.join(env, "bin", "configurable-http-proxy")]
os.makedirs(state, mode=0o700, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{os.path.join(state, 'jupyterhub.sqlite')}"
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(state, "jupyterhub.pid")

# -- who may log in: the machine's users (PAM) by default
c.JupyterHub.authenticator_class = _setting("HUB_AUTHENTICATOR", "pam")
c.Authenticator.admin_users = instructors
c.Authenticator.allowed_users = instructors | students
c.Authenticator.allow_all = _setting("HUB_ALLOW_ALL", "0") == "1"
# no PAM session per server: containers and minimal systems often have no session modules
c.PAMAuthenticator.open_sessions = False

# -- each user's JupyterLab, as that unix user, from the one shared environment
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(env, "bin", "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
# the environment's commands (python, jupyter, nbgrader, alembic) come first in terminals and for
# nbgrader, which calls some of them by name
# (terminals run a login shell, which resets PATH: /etc/profile.d/jupyterhub-course-env.sh, written
# by setup-hub.sh, puts COURSE_ENV's bin/ back in front)
c.Spawner.environment = {"PATH": f"{env}/bin:/usr/local/bin:/usr/bin:/bin", "COURSE_ENV": env}
# a busy machine starting a whole class's servers at once: these only catch hangs
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300

extra = _setting("HUB_EXTRA_CONFIG")
if extra:
    load_subconfig(extra)  # noqa: F821  (provided by traitlets)
