#!/usr/bin/env bash
# Set up one machine to run the course for a class on JupyterHub (see deploy/README.md).
#
# Run as root from the course repository (the instructor's, with solutions/):
#
#   sudo INSTRUCTORS="alice" deploy/setup-hub.sh
#
# What it does, each step safe to repeat:
#  1. builds ONE environment for everybody at $COURSE_ENV from requirements.txt and
#     deploy/requirements-hub.txt (JupyterHub), with the course library installed in it (not
#     linked to the instructor's folder, which students cannot read); the proxy
#     (configurable-http-proxy, pinned by deploy/package.json and its lock) goes to $PREFIX/proxy;
#  2. makes nbgrader's exchange at $EXCHANGE, world-writable with the sticky bit, with the course's
#     folder in it owned by the first instructor (so that no student can make it first), and tells
#     every user's nbgrader about it and about the course ($COURSE_ENV/etc/jupyter/nbgrader_config.py);
#  3. turns nbgrader's instructor tools (Formgrader, Create Assignment, the course list) off for
#     everyone in the environment and on again for each instructor, in the instructor's own
#     Jupyter configuration (--user level), as nbgrader's documentation describes;
#  4. gives the first instructor the course folder $COURSE_DIR (a clone of this repository if it
#     does not exist yet), readable by that instructor only, and points the instructor's nbgrader
#     at it (~/.jupyter/nbgrader_config.py);
#  5. copies jupyterhub_config.py to $PREFIX and writes $PREFIX/hub.env, the settings the hub
#     reads (source it, or use it as systemd's EnvironmentFile).
#
# Settings (environment variables; defaults in brackets):
#   INSTRUCTORS   unix users who teach, separated by spaces or commas (required)
#   STUDENTS      unix users allowed to log in as students [empty: set HUB_ALLOW_ALL=1 or list them]
#   COURSE        the course's name [nn-from-scratch]
#   PREFIX        where the environment, proxy and hub's files go [/opt/$COURSE]
#   COURSE_ENV    the shared environment [$PREFIX/env]
#   EXCHANGE      nbgrader's exchange [/srv/nbgrader/exchange]
#   COURSE_DIR    the instructor's course folder [/home/<first instructor>/$COURSE]
#   PYTHON        Python 3.11 or newer that every user can read [the system's python3.1x]
#   HUB_AUTHENTICATOR  pam (the machine's own passwords), or any JupyterHub authenticator [pam]
#   HUB_IP, HUB_PORT   where the hub listens [0.0.0.0, 8000]
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
COURSE=${COURSE:-nn-from-scratch}
PREFIX=${PREFIX:-/opt/$COURSE}
COURSE_ENV=${COURSE_ENV:-$PREFIX/env}
EXCHANGE=${EXCHANGE:-/srv/nbgrader/exchange}
INSTRUCTORS=$(echo "${INSTRUCTORS:-}" | tr ',' ' ')
STUDENTS=$(echo "${STUDENTS:-}" | tr ',' ' ')

say() { echo "setup-hub: $*"; }
die() { echo "setup-hub: $*" >&2; exit 1; }
# run a command quietly; if it fails, show what it said and stop
quietly() { local out; out=$("$@" 2>&1) || { echo "$out" >&2; die "this failed: $*"; }; }

[ "$(id -u)" = 0 ] || die "run me as root (sudo): I create the shared environment, the exchange and set folder permissions"
[ -n "$INSTRUCTORS" ] || die "say who teaches: INSTRUCTORS=\"alice\" $0 (unix user names)"
for user in $INSTRUCTORS $STUDENTS; do
  id "$user" >/dev/null 2>&1 || die "no unix user '$user' on this machine: create it first (useradd -m $user)"
done
FIRST_INSTRUCTOR=${INSTRUCTORS%% *}
# the course's folder in the exchange must be the instructor's (step 2): said before anything is built
course_exchange="$EXCHANGE/$COURSE"
[ ! -L "$course_exchange" ] || die "$course_exchange is a link: remove it and run me again"
if [ -e "$course_exchange" ]; then
  made_by=$(stat -c %U "$course_exchange")
  case "$made_by" in
    "$FIRST_INSTRUCTOR"|root) ;;
    *) die "$course_exchange belongs to $made_by, not to the instructor $FIRST_INSTRUCTOR: look at what it holds, remove it and run me again" ;;
  esac
fi
COURSE_DIR=${COURSE_DIR:-$(getent passwd "$FIRST_INSTRUCTOR" | cut -d: -f6)/$COURSE}

if [ -z "${PYTHON:-}" ]; then
  # the system's own Python first: a per-user installation (pyenv, conda) is often unreadable to others
  for candidate in /usr/bin/python3.13 /usr/bin/python3.12 /usr/bin/python3.11 /usr/bin/python3 \
                   python3.13 python3.12 python3.11 python3; do
    path=$(command -v "$candidate" || true)
    if [ -n "$path" ] && "$path" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON=$path; break
    fi
  done
fi
[ -n "${PYTHON:-}" ] || die "no Python 3.11 or newer found: install one (apt-get install python3 python3-venv) or set PYTHON="
# every user's server runs from this environment: its Python must be readable by all of them
# (a Python under /root, such as a pyenv one, is not)
real_python=$("$PYTHON" -c 'import os, sys; print(os.path.realpath(sys.executable))')
setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c '"$1" -c pass' _ "$real_python" 2>/dev/null \
  || die "$real_python cannot be run by other users (is it under /root?): set PYTHON= to a system-wide Python 3.11+, e.g. /usr/bin/python3.11"
command -v npm >/dev/null || die "npm is needed for the proxy: apt-get install nodejs npm"
command -v bwrap >/dev/null || say "warning: bubblewrap is not installed; grading refuses without it (apt-get install bubblewrap)"

# ---- 1. the shared environment and the proxy -----------------------------------------------------
mkdir -p "$PREFIX"
chmod 755 "$PREFIX"
if [ ! -x "$COURSE_ENV/bin/python" ]; then
  say "creating $COURSE_ENV with $real_python"
  "$real_python" -m venv "$COURSE_ENV" || die "could not create a virtual environment: apt-get install python3-venv"
fi
pins=$(cat "$REPO/requirements.txt" "$REPO/deploy/requirements-hub.txt" | sha256sum | cut -c1-16)
if [ "$(cat "$COURSE_ENV/.pins" 2>/dev/null)" != "$pins" ]; then
  say "installing the pinned packages into $COURSE_ENV"
  quietly "$COURSE_ENV/bin/python" -m pip install --disable-pip-version-check \
    -r "$REPO/requirements.txt" -r "$REPO/deploy/requirements-hub.txt"
  echo "$pins" > "$COURSE_ENV/.pins"
fi
say "installing the course library (nnlib, selfcheck, coursetools) into $COURSE_ENV"
# (built from a copy, so that no build/ folder is left in the repository)
build=$(mktemp -d)
cp -r "$REPO/pyproject.toml" "$REPO/README.md" "$REPO/lib" "$build/"
quietly "$COURSE_ENV/bin/python" -m pip install --disable-pip-version-check --no-deps --force-reinstall "$build"
rm -rf "$build"

mkdir -p "$PREFIX/proxy"
cp "$REPO/deploy/package.json" "$REPO/deploy/package-lock.json" "$PREFIX/proxy/"
if ! cmp -s "$PREFIX/proxy/package-lock.json" "$PREFIX/proxy/node_modules/.package-lock.json" 2>/dev/null \
   || [ ! -x "$PREFIX/proxy/node_modules/.bin/configurable-http-proxy" ]; then
  say "installing configurable-http-proxy (pinned by deploy/package-lock.json) into $PREFIX/proxy"
  (cd "$PREFIX/proxy" && quietly npm ci --omit=dev --no-audit --no-fund --loglevel=error)
  cp "$PREFIX/proxy/package-lock.json" "$PREFIX/proxy/node_modules/.package-lock.json"
fi
ln -sf "$PREFIX/proxy/node_modules/.bin/configurable-http-proxy" "$COURSE_ENV/bin/configurable-http-proxy"
chmod -R a+rX "$PREFIX"

# Terminals in JupyterLab run a login shell, whose /etc/profile resets PATH: put the course
# environment (the hub tells each server where it is, in COURSE_ENV) back in front.
mkdir -p /etc/profile.d
cat > /etc/profile.d/jupyterhub-course-env.sh <<'EOF'
# Written by deploy/setup-hub.sh: in a course server's terminal, the course's commands come first.
if [ -n "${COURSE_ENV:-}" ] && [ -d "$COURSE_ENV/bin" ]; then
  case ":$PATH:" in *":$COURSE_ENV/bin:"*) ;; *) PATH="$COURSE_ENV/bin:$PATH"; export PATH ;; esac
fi
EOF
chmod 644 /etc/profile.d/jupyterhub-course-env.sh

# ---- 2. nbgrader's exchange, hub-wide -------------------------------------------------------------
mkdir -p "$EXCHANGE"
chmod 1777 "$EXCHANGE"
# The course's own folder in it belongs to the first instructor from the start: in a folder every
# user can write to, a student who made it first would own the course's inbound (and could list and
# read every submission) and outbound (and could change what the class fetches).
install -d -o "$FIRST_INSTRUCTOR" -g "$(id -g "$FIRST_INSTRUCTOR")" -m 755 "$course_exchange"
say "exchange $EXCHANGE (everyone may write), its course folder $course_exchange: owner $FIRST_INSTRUCTOR"
mkdir -p "$COURSE_ENV/etc/jupyter"
cat > "$COURSE_ENV/etc/jupyter/nbgrader_config.py" <<EOF
# Written by deploy/setup-hub.sh: every user of this environment shares one exchange and course.
c = get_config()  # noqa: F821
c.Exchange.root = "$EXCHANGE"
c.CourseDirectory.course_id = "$COURSE"
EOF
chmod 644 "$COURSE_ENV/etc/jupyter/nbgrader_config.py"

# ---- 3. instructor tools: off for everyone, on for each instructor --------------------------------
# Hiding them is a convenience, not the protection: a student who turned them back on would see
# only an empty course of their own. What protects the course is step 4's permissions.
JUPYTER="$COURSE_ENV/bin/jupyter"
INSTRUCTOR_ONLY_SERVER="nbgrader.server_extensions.formgrader nbgrader.server_extensions.course_list"
INSTRUCTOR_ONLY_LAB="@jupyter/nbgrader:formgrader @jupyter/nbgrader:create-assignment @jupyter/nbgrader:course-list"
for ext in $INSTRUCTOR_ONLY_SERVER; do
  quietly "$JUPYTER" server extension disable --sys-prefix "$ext"
done
for ext in $INSTRUCTOR_ONLY_LAB; do
  quietly "$JUPYTER" labextension disable --level=sys_prefix "$ext"
done
# JupyterLab locks plugins disabled before (so that users cannot re-enable them): unlock, so that
# an instructor's own (user level) setting can turn them on
# shellcheck disable=SC2086
quietly "$JUPYTER" labextension unlock --level=sys_prefix $INSTRUCTOR_ONLY_LAB
for user in $INSTRUCTORS; do
  home=$(getent passwd "$user" | cut -d: -f6)
  group=$(id -g "$user")
  as_user=(setpriv --reuid="$user" --regid="$group" --init-groups
           env -i HOME="$home" USER="$user" PATH="$COURSE_ENV/bin:/usr/bin:/bin")
  # the server extensions, in the instructor's own configuration (what `jupyter server extension
  # enable --user` would write, were it able to enable one that the user level does not list)
  install -d -o "$user" -g "$group" -m 755 "$home/.jupyter" "$home/.jupyter/jupyter_server_config.d"
  config="$home/.jupyter/jupyter_server_config.d/nbgrader-instructor.json"
  {
    echo '{"ServerApp": {"jpserver_extensions": {'
    sep=""
    for ext in $INSTRUCTOR_ONLY_SERVER; do printf '%s  "%s": true' "$sep" "$ext"; sep=$',\n'; done
    printf '\n}}}\n'
  } > "$config"
  chown "$user:$group" "$config"
  for ext in $INSTRUCTOR_ONLY_LAB; do
    quietly "${as_user[@]}" "$JUPYTER" labextension enable --level=user "$ext"
  done
  say "Formgrader and Create Assignment enabled for $user"
done

# ---- every home its user's alone -------------------------------------------------------------------
# useradd -m makes homes others may read (mode 755 on Debian): a student could read another's work
# in progress and the secret nbgrader submit keeps in the home, which names that student's feedback
# in the exchange. Users admitted without being listed (HUB_ALLOW_ALL) need the same: set HOME_MODE
# 0700 in /etc/login.defs before creating them.
for user in $INSTRUCTORS $STUDENTS; do
  home=$(getent passwd "$user" | cut -d: -f6)
  if [ -d "$home" ] && [ ! -L "$home" ]; then
    chmod go-rwx "$home"
  fi
done
say "homes of $(echo $INSTRUCTORS $STUDENTS | wc -w) users: readable by their owner only"

# ---- 4. the course folder: the first instructor's alone ----------------------------------------
owner_group=$(id -g "$FIRST_INSTRUCTOR")
if [ ! -e "$COURSE_DIR" ]; then
  say "cloning the course into $COURSE_DIR"
  if [ -d "$REPO/.git" ]; then
    git clone --quiet "$REPO" "$COURSE_DIR"
  else
    cp -a "$REPO" "$COURSE_DIR"
  fi
fi
chown -R "$FIRST_INSTRUCTOR:$owner_group" "$COURSE_DIR"
chmod 700 "$COURSE_DIR"
home=$(getent passwd "$FIRST_INSTRUCTOR" | cut -d: -f6)
install -d -o "$FIRST_INSTRUCTOR" -g "$owner_group" -m 755 "$home/.jupyter"
cat > "$home/.jupyter/nbgrader_config.py" <<EOF
# Written by deploy/setup-hub.sh: this instructor's course folder (Formgrader finds it here), and
# the course's own settings, which Formgrader (started in the home folder) would not read otherwise.
c = get_config()  # noqa: F821
c.CourseDirectory.root = "$COURSE_DIR"
load_subconfig("$COURSE_DIR/nbgrader_config.py")  # noqa: F821
EOF
chown "$FIRST_INSTRUCTOR:$owner_group" "$home/.jupyter/nbgrader_config.py"
say "course folder $COURSE_DIR: owner $FIRST_INSTRUCTOR, mode 700 (students cannot read it)"

# ---- 5. the hub's configuration and settings ------------------------------------------------------
install -m 644 "$REPO/deploy/jupyterhub_config.py" "$PREFIX/jupyterhub_config.py"
mkdir -p "$PREFIX/hub"
chmod 700 "$PREFIX/hub"
cat > "$PREFIX/hub.env" <<EOF
COURSE=$COURSE
COURSE_ENV=$COURSE_ENV
COURSE_INSTRUCTORS=$INSTRUCTORS
COURSE_STUDENTS=$STUDENTS
HUB_STATE_DIR=$PREFIX/hub
HUB_AUTHENTICATOR=${HUB_AUTHENTICATOR:-pam}
HUB_IP=${HUB_IP:-0.0.0.0}
HUB_PORT=${HUB_PORT:-8000}
HUB_ALLOW_ALL=${HUB_ALLOW_ALL:-0}
EOF
chmod 600 "$PREFIX/hub.env"
say "done. Start the hub with:"
say "  set -a; . $PREFIX/hub.env; set +a; $COURSE_ENV/bin/jupyterhub -f $PREFIX/jupyterhub_config.py"
