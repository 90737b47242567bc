"""A sandbox for one student's code: bubblewrap (bwrap), limits, and nothing else to see.

``Sandbox(library)`` prepares the mounts once per class run; ``sandbox.run(argv, scratch)`` runs
one command inside it. What the command sees:

* the operating system's /usr (read only), a minimal /etc, the Python installation and the course's
  environment (read only, at /opt/env, so no grading path shows in ``sys.prefix``);
* the course library prepared for grading at /course/lib (read only): the graded functions' bodies
  are removed from it (see ``coursetools.judge.build_library``);
* its scratch folder at /home/student, the only place it can write (besides a small /tmp);
* its own process, network (loopback only), IPC and host-name namespaces: it cannot see or
  signal the grader or other students, reach the network, or outlive the sandbox (when the
  command ends, every process it left is killed with the namespace).

Run as root, the command runs under an unprivileged uid of its own (``uid``; one per concurrent
sandbox, so the process limit counts that sandbox alone; see ``uid_of``) with no capabilities. Run as another
user, bwrap makes a user namespace instead (then the process limit is not applied).

Limits (``Limits``): wall time (the whole sandbox is killed), memory (the address space of each
process, and the memory all of them hold together, pages they share counted once, looked at five
times a second: above it the whole sandbox is killed), number of processes, size of any file
written, CPU seconds.

``available()`` says whether a sandbox can be made here, and if not, what is missing.
"""
from __future__ import annotations

import contextlib
import functools
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ENV_MOUNT = "/opt/env"
PYTHON_MOUNT = "/opt/python"
LIB_MOUNT = "/course/lib"
HOME = "/home/student"
FIRST_UID = 61000
SLOTS = 64
#: the course's own packages (the repository's lib/): the sandbox shows only the prepared copy
COURSE_PACKAGES = ("nnlib", "selfcheck", "coursetools")


def uid_of(slot):
    """The user id of a sandbox: one per concurrent slot of this grading process, and apart from
    other grading processes' (their process ids differ), so no two sandboxes that run at the same
    time share a process limit."""
    return FIRST_UID + (os.getpid() % 1000) * SLOTS + slot % SLOTS


@dataclass
class Limits:
    seconds: int = 600          # wall time of the whole run
    memory_mb: int = 4096       # address space of each process, and memory of all together
    processes: int = 256        # processes and threads of the sandbox's uid
    file_mb: int = 64           # any one file written
    cell_seconds: int = 60      # one cell (passed to the runner)

    @classmethod
    def from_environment(cls):
        """Defaults, overridden by GRADING_SECONDS_PER_STUDENT, GRADING_MEMORY_MB,
        GRADING_PROCESSES, GRADING_FILE_MB and GRADING_CELL_SECONDS."""
        names = {"seconds": "GRADING_SECONDS_PER_STUDENT", "memory_mb": "GRADING_MEMORY_MB",
                 "processes": "GRADING_PROCESSES", "file_mb": "GRADING_FILE_MB",
                 "cell_seconds": "GRADING_CELL_SECONDS"}
        return cls(**{k: int(os.environ[v]) for k, v in names.items() if v in os.environ})


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made on this machine; the message says what is missing."""


@dataclass
class Result:
    returncode: int
    timed_out: bool
    seconds: float
    output: str
    channel: bytes = b""
    out_of_memory: bool = False   # its processes together held more than the limit: stopped


#: open files of each process in the sandbox (soft and hard limit)
OPEN_FILES = 1024
#: how often the memory the sandbox's processes hold together is looked at (seconds)
MEMORY_POLL = 0.2
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _processes_under(root):
    """The process ids of ``root`` and all its descendants (read from /proc: each process's
    parent), whatever sessions or groups they made for themselves."""
    children = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack += children.get(pid, [])
    return found


def resident_bytes(pids):
    """The resident memory of the processes ``pids`` together, in bytes, with each page shared
    between them counted once for each: an upper bound, read cheaply (/proc/PID/statm)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * _PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def proportional_bytes(pids):
    """The memory the processes ``pids`` hold together, in bytes: each one's proportional set
    size (a page shared by k processes counts 1/k for each), so that the pages forked children
    share with their parent count once (/proc/PID/smaps_rollup; where a kernel has none, the
    resident size stands in)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) << 10
                        break
        except FileNotFoundError:
            total += resident_bytes([pid])
        except (OSError, ValueError, IndexError):
            continue
    return total


def memory_bytes(root, limit):
    """The memory ``root`` and its descendants hold together (bytes), exact enough to compare
    with ``limit``: the cheap upper bound when it is below, else the proportional count."""
    pids = _processes_under(root)
    upper = resident_bytes(pids)
    return upper if upper <= limit else proportional_bytes(pids)


@functools.lru_cache(maxsize=None)
def memory_cgroup_root():
    """(the folder of the memory controller's cgroup hierarchy, its version 1 or 2), or None.

    A cgroup counts all the memory its processes hold, pages shared between them once, and also
    what no process's size shows (shared memory, files in memory file systems, memory file
    descriptors): the kernel stops it at its limit. Making one needs root."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return None
    try:
        with open("/proc/self/mounts", encoding="utf-8") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    for fields in mounts:
        if len(fields) > 3 and fields[2] == "cgroup2":
            try:
                with open(os.path.join(fields[1], "cgroup.controllers"), encoding="utf-8") as f:
                    if "memory" in f.read().split():
                        return fields[1], 2
            except OSError:
                continue
    for fields in mounts:
        if len(fields) > 3 and fields[2] == "cgroup" and "memory" in fields[3].split(","):
            return fields[1], 1
    return None


class MemoryGroup:
    """A cgroup of its own for one sandbox run, limited to ``limit`` bytes (no swap).

    ``MemoryGroup.make(limit)`` returns None where none can be made (then the sandbox polls its
    processes' sizes instead). ``join()`` puts the calling process in it (the sandbox's first
    process calls it before bwrap starts, so everything started inside is in it); after the run,
    ``out_of_memory()`` says whether the kernel had to kill in it, and ``remove()`` removes it."""

    def __init__(self, path, version):
        self.path, self.version = path, version

    @classmethod
    def make(cls, limit, name):
        found = memory_cgroup_root()
        if found is None:
            return None
        root, version = found
        path = os.path.join(root, name)
        try:
            if version == 2:
                with open(os.path.join(root, "cgroup.subtree_control"), encoding="utf-8") as f:
                    enabled = "memory" in f.read().split()
                if not enabled:
                    with open(os.path.join(root, "cgroup.subtree_control"), "w") as f:
                        f.write("+memory")
            os.mkdir(path)
        except OSError:
            return None
        group = cls(path, version)
        try:
            if version == 2:
                group._write("memory.max", limit)
                with contextlib.suppress(OSError):
                    group._write("memory.swap.max", 0)
            else:
                group._write("memory.limit_in_bytes", limit)
                with contextlib.suppress(OSError):
                    group._write("memory.memsw.limit_in_bytes", limit)
        except OSError:
            group.remove()
            return None
        return group

    def _write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(str(value))

    def join(self):
        self._write("cgroup.procs", os.getpid())

    def out_of_memory(self):
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            with open(os.path.join(self.path, name), encoding="utf-8") as f:
                counts = dict(line.split()[:2] for line in f if len(line.split()) >= 2)
        except OSError:
            return False
        return int(counts.get("oom_kill", 0)) > 0

    def remove(self, wait=30.0):
        """Remove the cgroup once the processes in it are gone (waits up to ``wait`` s)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)


# A seccomp filter for the sandbox (bwrap --seccomp).
# * The kernel's key store (add_key, request_key, keyctl) keeps what a process puts there after
#   the process and its namespaces are gone, readable by other users when it says so: a note one
#   student's code leaves for another's, in the same class run or in any later one.
# * A file whose set-user-ID or set-group-ID bit the student's code sets runs, for whoever starts
#   it, as the sandbox's user: outside the sandbox that is the instructor (grading as a normal
#   user) or the uid every later student of the slot is graded as (grading as root). So chmod,
#   fchmod, fchmodat, fchmodat2, and open, openat, creat, mknod and mknodat with such a mode fail,
#   and so do openat2 and io_uring, whose arguments a filter cannot read.
# * Memory that no process's size shows, held through a memory file descriptor (memfd_create)
#   or a System V shared-memory segment (shmget), would escape the memory limit where it is
#   counted from the processes' sizes (no cgroup): both calls are refused.
# Those calls fail with EPERM in the sandbox, and so does every call of another ABI than the
# machine's own (32-bit, x32), whose numbers differ.
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_KEY_CALLS = {"x86_64": (248, 249, 250), "aarch64": (217, 218, 219)}   # add_key, request_key, keyctl
_MEMORY_CALLS = {"x86_64": (319, 29), "aarch64": (279, 194)}            # memfd_create, shmget
#: calls refused whatever their arguments: openat2 (437) and io_uring_setup (425), the same on both
_UNREADABLE_CALLS = (437, 425)
#: {call number: the argument holding a file mode}: open 2, creat 85, chmod 90, fchmod 91,
#: mknod 133, openat 257, mknodat 259, fchmodat 268, fchmodat2 452 (x86_64); openat 56, fchmod 52,
#: fchmodat 53, mknodat 33, fchmodat2 452 (aarch64, which has no open, creat, chmod or mknod)
_MODE_CALLS = {"x86_64": {2: 2, 85: 1, 90: 1, 91: 1, 133: 1, 257: 3, 259: 2, 268: 2, 452: 2},
               "aarch64": {56: 3, 52: 1, 53: 2, 33: 2, 452: 2}}
_SET_ID_BITS = 0o6000
_X32_BIT = 0x40000000


def seccomp_filter(machine=None):
    """The filter as bwrap reads it (struct sock_filter[]: code u16, jt u8, jf u8, k u32), or
    None on a machine whose system call numbers are not listed here (no filter: said by
    ``available``'s caller in the instructor guide)."""
    machine = machine or os.uname().machine
    if machine not in _AUDIT_ARCH:
        return None
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06  # LD|W|ABS, JMP|JEQ|K, JGE|K, JSET|K, RET|K
    allow, refuse = 0x7FFF0000, 0x00050000 | 1          # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    # (code, k, jump-if-true label, jump-if-false label) with labels resolved below; a label is
    # "allow", "refuse", an argument's check ("arg N"), or None for the next instruction
    prog = [(ld, 4, None, None), (jeq, _AUDIT_ARCH[machine], None, "refuse"), (ld, 0, None, None)]
    if machine == "x86_64":
        prog.append((jge, _X32_BIT, "refuse", None))
    for number in _KEY_CALLS[machine] + _MEMORY_CALLS[machine] + _UNREADABLE_CALLS:
        prog.append((jeq, number, "refuse", None))
    for number, arg in sorted(_MODE_CALLS[machine].items()):
        prog.append((jeq, number, f"arg {arg}", None))
    prog.append((ret, allow, None, None))
    labels = {}
    for arg in sorted(set(_MODE_CALLS[machine].values())):   # (a filter jumps forward only)
        labels[f"arg {arg}"] = len(prog)
        prog += [(ld, 16 + 8 * arg, None, None),        # the low 32 bits of args[arg] (a mode_t)
                 (jset, _SET_ID_BITS, "refuse", "allow")]
    labels["allow"] = len(prog)
    prog.append((ret, allow, None, None))
    labels["refuse"] = len(prog)
    prog.append((ret, refuse, None, None))
    code = b""
    for i, (op, k, yes, no) in enumerate(prog):
        jt = labels[yes] - i - 1 if yes else 0
        jf = labels[no] - i - 1 if no else 0
        code += struct.pack("HBBI", op, jt, jf, k)
    return code


def _base_command(privileged):
    cmd = ["bwrap", "--die-with-parent", "--unshare-ipc", "--unshare-pid", "--unshare-net",
           "--unshare-uts", "--unshare-cgroup-try", "--hostname", "grading", "--clearenv"]
    if not privileged:
        cmd += ["--unshare-user", "--uid", "1000", "--gid", "1000", "--cap-drop", "ALL"]
    return cmd


@functools.lru_cache(maxsize=None)
def available():
    """(True, "") if a sandbox works here, else (False, what is missing and how to get it)."""
    if sys.platform != "linux":
        return False, (f"sandboxed grading needs Linux (bubblewrap and its namespaces); this is "
                       f"{sys.platform}. Grade on a Linux machine or server.")
    if not shutil.which("bwrap"):
        return False, ("bubblewrap is not installed (no `bwrap` on PATH): install it with "
                       "`sudo apt-get install bubblewrap` (Debian/Ubuntu) or `sudo dnf install "
                       "bubblewrap` (Fedora).")
    privileged = os.geteuid() == 0
    cmd = _base_command(privileged) + ["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"]
    cmd += (["setpriv", f"--reuid={FIRST_UID}", f"--regid={FIRST_UID}", "--clear-groups",
             "--no-new-privs", "true"] if privileged else ["true"])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bubblewrap could not be started: {exc}"
    if proc.returncode != 0:
        return False, ("bubblewrap is installed but cannot make a sandbox here (this machine or "
                       "container does not allow the namespaces it needs): "
                       + proc.stderr.strip()[:300])
    return True, ""


def _site_packages():
    import site
    return [Path(p) for p in site.getsitepackages() if Path(p).is_dir()]


def _feed(pipe, data):
    """Write ``data`` to ``pipe`` and close it; a reader that went away costs nothing here."""
    try:
        with pipe:
            pipe.write(data)
    except OSError:
        pass


class Sandbox:
    """Mounts for one class run. ``library``: the folder prepared for /course/lib."""

    def __init__(self, library, limits=None, unsafe=False):
        self.library = Path(library)
        self.limits = limits or Limits.from_environment()
        self.unsafe = unsafe
        if not unsafe:
            ok, why = available()
            if not ok:
                raise SandboxUnavailable(why)
        self.privileged = os.geteuid() == 0 and not unsafe
        self.prefix = Path(sys.prefix).resolve()
        self.base = Path(sys.base_prefix).resolve()
        self._hiding = None

    # -- the bwrap command ------------------------------------------------------------------------
    def _mounts(self, fds):
        """bwrap's mount options; ``fds``: pipes holding /etc/passwd, /etc/group, pyvenv.cfg."""
        m = ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "lib", "lib64", "sbin", "lib32", "libx32"):
            p = Path("/") / name
            if p.is_symlink():
                m += ["--symlink", os.readlink(p), str(p)]
            elif p.is_dir():
                m += ["--ro-bind", str(p), str(p)]
        m += ["--perms", "0755", "--dir", "/etc"]
        for name in ("ld.so.cache", "ld.so.conf", "localtime", "nsswitch.conf", "fonts", "mime.types"):
            p = Path("/etc") / name
            if p.exists():
                m += ["--ro-bind", str(p), str(p)]
        m += ["--perms", "0644", "--ro-bind-data", str(fds[0]), "/etc/passwd",
              "--perms", "0644", "--ro-bind-data", str(fds[1]), "/etc/group"]
        # /tmp and /dev/shm are memory: each gets a small tmpfs of its own (bwrap's /dev would
        # otherwise give the sandbox's user, when not run as root, a /dev/shm of half the RAM)
        m += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(256 << 20),
              "--tmpfs", "/tmp", "--perms", "1777", "--size", str(16 << 20), "--tmpfs", "/dev/shm"]
        # the Python installation and the environment at neutral paths (no path of the grading
        # machine shows in sys.path or sys.prefix): /opt/python, and /opt/env made of the
        # environment's lib/ and share/ with a python of its own that points to /opt/python
        m += ["--perms", "0755", "--dir", "/opt", "--ro-bind", str(self.base), PYTHON_MOUNT,
              "--perms", "0755", "--dir", ENV_MOUNT, "--perms", "0755", "--dir", f"{ENV_MOUNT}/bin",
              "--symlink", f"{PYTHON_MOUNT}/bin/python{sys.version_info[0]}.{sys.version_info[1]}",
              f"{ENV_MOUNT}/bin/python", "--symlink", "python", f"{ENV_MOUNT}/bin/python3"]
        if self.base != self.prefix:
            for name in ("lib", "share"):
                if (self.prefix / name).is_dir():
                    m += ["--ro-bind", str(self.prefix / name), f"{ENV_MOUNT}/{name}"]
            if (self.prefix / "lib64").exists():
                m += ["--symlink", "lib", f"{ENV_MOUNT}/lib64"]
            m += ["--perms", "0644", "--ro-bind-data", str(fds[2]), f"{ENV_MOUNT}/pyvenv.cfg"]
        if self._hiding is None:                     # the same for every run of this sandbox
            self._hiding = self._hide_installed_library()
        m += self._hiding
        m += ["--perms", "0755", "--dir", "/course", "--ro-bind", str(self.library), LIB_MOUNT]
        m += ["--perms", "0755", "--dir", "/home"]
        return m

    def _inside(self, host):
        """Every path at which the host path ``host`` shows in the sandbox (through /usr, /lib…,
        the Python installation at /opt/python or the environment at /opt/env)."""
        host = Path(host).resolve()
        found = []
        roots = [(Path("/usr"), Path("/usr"))]
        for name in ("lib", "lib64", "lib32", "libx32"):
            p = Path("/") / name
            if p.is_dir() and not p.is_symlink():
                roots.append((p, p))
        roots.append((self.base, Path(PYTHON_MOUNT)))
        if self.base != self.prefix:
            roots += [(self.prefix / "lib", Path(ENV_MOUNT) / "lib"),
                      (self.prefix / "share", Path(ENV_MOUNT) / "share")]
        for root, mount in roots:
            try:
                rel = host.relative_to(root.resolve())
            except (ValueError, OSError):
                continue
            found.append(str(mount / rel))
        return list(dict.fromkeys(found))

    def _site_dirs(self):
        """The package folders of every Python the sandbox shows: the environment's, the
        installation's and the system's (site-packages, dist-packages)."""
        dirs = set(_site_packages())
        for root in {self.prefix, self.base, Path("/usr"), Path("/usr/local")}:
            for pattern in ("lib*/python3*/site-packages", "lib*/python3*/dist-packages",
                            "lib*/python3/dist-packages"):
                dirs.update(p for p in root.glob(pattern) if p.is_dir())
        return sorted({d.resolve() for d in dirs})

    def _hide_installed_library(self):
        """bwrap options that hide every installed copy of the course's own packages.

        The sandbox's library is the prepared copy at /course/lib. An environment made with
        ``pip install -e`` points at the repository through a ``.pth`` or ``.egg-link`` file; one
        made with a plain ``pip install`` (as the hub's set-up does) holds the whole library,
        every implementation included, in its site-packages. Both are covered: a package folder
        of the course's (``COURSE_PACKAGES``) gets an empty folder over it, a module file of that
        name and every ``.pth`` or ``.egg-link`` file that adds a folder holding one become empty
        files, and the course's packages in such a folder, where the sandbox shows it, are emptied
        too (off the import path, their source could still be read and run).
        """
        m = []

        def holds_course(folder):
            return any((Path(folder) / name).exists() or (Path(folder) / f"{name}.py").exists()
                       for name in COURSE_PACKAGES)

        for site_dir in self._site_dirs():
            empty, folders = [], []
            for name in COURSE_PACKAGES:
                if (site_dir / name).is_dir():
                    folders.append(site_dir / name)
                if (site_dir / f"{name}.py").is_file():
                    empty.append(site_dir / f"{name}.py")
            for link in list(site_dir.glob("*.pth")) + list(site_dir.glob("*.egg-link")):
                if link.name.startswith("__editable__") or link.suffix == ".egg-link":
                    empty.append(link)
                    continue
                try:
                    lines = link.read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    continue
                targets = [site_dir / line.strip() for line in lines
                           if line.strip() and not line.startswith(("#", "import ", "import\t"))]
                for target in filter(holds_course, targets):
                    empty.append(link)
                    folders += [target / n for n in COURSE_PACKAGES if (target / n).is_dir()]
                    empty += [target / f"{n}.py" for n in COURSE_PACKAGES
                              if (target / f"{n}.py").is_file()]
            for path in empty:
                for inside in self._inside(path):
                    m += ["--ro-bind", "/dev/null", inside]
            for path in folders:
                for inside in self._inside(path):
                    m += ["--perms", "0555", "--tmpfs", inside, "--remount-ro", inside]
        return m

    def _environment(self):
        env = {"HOME": HOME, "USER": "student", "LOGNAME": "student", "LANG": "C.UTF-8",
               "PATH": f"{ENV_MOUNT}/bin:/usr/bin:/bin", "PYTHONPATH": LIB_MOUNT,
               "LD_LIBRARY_PATH": f"{PYTHON_MOUNT}/lib",
               "PYTHONDONTWRITEBYTECODE": "1", "MPLCONFIGDIR": f"{HOME}/.config/matplotlib",
               "IPYTHONDIR": f"{HOME}/.ipython", "JUPYTER_CONFIG_DIR": f"{HOME}/.jupyter",
               "JUPYTER_DATA_DIR": f"{HOME}/.local/share/jupyter",
               "JUPYTER_RUNTIME_DIR": f"{HOME}/.local/share/jupyter/runtime",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # machine-specific BLAS settings
            if name in os.environ:
                env[name] = os.environ[name]
        return env

    def command(self, argv, scratch, slot, fds):
        """The full command line that runs ``argv`` in the sandbox with ``scratch`` as home."""
        if self.unsafe:
            return list(argv)
        privileged = self.privileged
        cmd = _base_command(privileged)
        cmd += self._mounts(fds)
        cmd += ["--bind", str(scratch), HOME, "--chdir", HOME]
        if len(fds) > 3:
            cmd += ["--seccomp", str(fds[3])]
        for k, v in self._environment().items():
            cmd += ["--setenv", k, v]
        if privileged:
            uid = uid_of(slot)
            cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        return cmd + [str(a) for a in argv]

    def _data_files(self, slot):
        uid = uid_of(slot) if self.privileged else 1000
        passwd = f"root:x:0:0:root:/root:/usr/sbin/nologin\nstudent:x:{uid}:{uid}:student:{HOME}:/bin/sh\n"
        group = f"root:x:0:\nstudent:x:{uid}:\n"
        cfg = (f"home = {PYTHON_MOUNT}/bin\ninclude-system-site-packages = false\n"
               f"version = {sys.version.split()[0]}\n")
        return [passwd, group, cfg]

    def _preexec(self, group=None):
        lim = self.limits

        def apply():
            os.setsid()
            if group is not None:
                group.join()
            # open files: the usual soft limit made the hard one too, so that the pipes and
            # sockets a process can fill (kernel memory no process's size shows) stay few
            for which, value in ((resource.RLIMIT_AS, lim.memory_mb << 20),
                                 (resource.RLIMIT_FSIZE, lim.file_mb << 20),
                                 (resource.RLIMIT_CPU, lim.seconds + 5),
                                 (resource.RLIMIT_CORE, 0),
                                 (resource.RLIMIT_NPROC, lim.processes),
                                 (resource.RLIMIT_NOFILE, OPEN_FILES)):
                try:
                    resource.setrlimit(which, (value, value))
                except (ValueError, OSError):
                    pass
        return apply

    def prepare_scratch(self, scratch, slot=0):
        """Make ``scratch`` (a host folder) the sandbox's home, owned by the sandbox's uid."""
        scratch = Path(scratch)
        scratch.mkdir(parents=True, exist_ok=True)
        if self.privileged:
            uid = uid_of(slot)
            for path in [scratch, *scratch.rglob("*")]:
                os.chown(path, uid, uid)
        os.chmod(scratch, 0o700)     # the grader's (or the slot's) alone: no other user reaches it
        return scratch

    def run(self, argv, scratch, slot=0, extra_env=None, channel=0, stdin=None):
        """Run ``argv`` in the sandbox; kill everything it started after ``limits.seconds``.

        ``channel``: if not 0, a pipe is opened for the command to write at most that many bytes
        to; "{fd}" in ``argv`` is replaced by its file descriptor, and what was written comes back
        as ``Result.channel``. ``stdin``: bytes the command reads from its standard input (else
        it reads nothing)."""
        received = bytearray()
        reader = None
        channel_fds = ()
        if channel:
            r_end, w_end = os.pipe()
            os.set_inheritable(w_end, True)
            argv = [str(a).replace("{fd}", str(w_end)) for a in argv]
            channel_fds = (w_end,)

            def read():
                with os.fdopen(r_end, "rb") as pipe:
                    while True:
                        chunk = pipe.read(1 << 16)
                        if not chunk:
                            break
                        if len(received) < channel:
                            received.extend(chunk[:channel - len(received)])
            reader = threading.Thread(target=read, daemon=True)
            reader.start()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        if self.unsafe:
            env = dict(self._environment(), PATH=f"{Path(sys.executable).parent}{os.pathsep}"
                       f"{os.environ.get('PATH', '')}", PYTHONPATH=str(self.library),
                       HOME=str(scratch))
            for key in ("MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR",
                        "JUPYTER_RUNTIME_DIR"):
                env[key] = env[key].replace(HOME, str(scratch))
        env.update(extra_env or {})
        start = time.perf_counter()
        fds, group = [], None
        try:
            if not self.unsafe:
                data = [text.encode() for text in self._data_files(slot)]
                data += [f for f in (seccomp_filter(),) if f is not None]
                for blob in data:
                    r, w = os.pipe()
                    os.write(w, blob)  # small: fits in the pipe's buffer
                    os.close(w)
                    fds.append(r)
            cmd = self.command(argv, scratch, slot, fds)
            group = MemoryGroup.make(self.limits.memory_mb << 20,
                                     f"nn-grading-{os.getpid()}-{slot}-{time.monotonic_ns()}")
            with open(Path(scratch).parent / f".{Path(scratch).name}.out", "w+",
                      encoding="utf-8", errors="replace") as out:
                proc = subprocess.Popen(
                    cmd, cwd=scratch if self.unsafe else "/", env=env,
                    stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                    stdout=out, stderr=subprocess.STDOUT, preexec_fn=self._preexec(group),
                    pass_fds=tuple(fds) + channel_fds, close_fds=True)
                for fd in fds + list(channel_fds):
                    os.close(fd)
                fds, channel_fds = [], ()
                if stdin is not None:
                    threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True).start()
                ended, out_of_memory = threading.Event(), threading.Event()
                watch = threading.Thread(target=self._watch_memory,
                                         args=(proc, ended, out_of_memory), daemon=True)
                if group is None:              # no cgroup here: the processes' sizes, polled
                    watch.start()
                try:
                    proc.wait(timeout=self.limits.seconds)
                    timed_out = False
                except subprocess.TimeoutExpired:
                    timed_out = True
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    proc.wait()
                ended.set()
                if group is None:
                    watch.join()
                elif group.out_of_memory():
                    out_of_memory.set()
                out.seek(0)
                output = out.read()[-20000:]
        finally:
            for fd in fds + list(channel_fds):
                os.close(fd)
            if group is not None:
                group.remove()
        if reader is not None:
            reader.join(timeout=60)
        return Result(proc.returncode, timed_out, time.perf_counter() - start, output,
                      bytes(received), out_of_memory.is_set())

    def _watch_memory(self, proc, ended, out_of_memory):
        """Where no cgroup can be made: until ``ended``, every ``MEMORY_POLL`` s (or less often
        when a look takes long), the memory all the sandbox's processes hold together
        (``memory_bytes``); above ``limits.memory_mb`` the whole sandbox is killed. (The limit on
        each process's address space alone lets a submission hold it many times over, in as
        many processes as it may start.) Memory no process's size shows is closed to the
        sandbox here by its seccomp filter (memory file descriptors, System V shared memory)
        and its small /tmp and /dev/shm."""
        limit = self.limits.memory_mb << 20
        pause = MEMORY_POLL
        while not ended.wait(pause):
            began = time.perf_counter()
            held = memory_bytes(proc.pid, limit)
            # a look that took long (hundreds of processes above the cheap bound) is taken less
            # often: the watch never costs the grading process more than a quarter of a core
            pause = max(MEMORY_POLL, 3 * (time.perf_counter() - began))
            if held > limit:
                out_of_memory.set()
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return
