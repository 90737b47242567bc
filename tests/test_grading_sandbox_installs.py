"""The sandbox shows the course library only as the prepared copy, however it was installed.

The grading environment may hold the course's packages itself: ``pip install -e .`` (the
development set-up) points at the repository, while a plain ``pip install`` (the hub's set-up)
copies every implementation into site-packages, and a ``.pth`` file may add a folder holding
them. A throwaway environment is made with all three here, and a program in its sandbox looks
for the course's packages everywhere it can read. Also: /dev/shm, like /tmp, is a small tmpfs.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from coursetools import judge, sandbox

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib"

pytestmark = pytest.mark.skipif(not sandbox.available()[0],
                                reason=f"no grading sandbox here: {sandbox.available()[1]}")

# What the student's program reports: every folder named like a course package that holds
# something, outside the prepared copy; where `import nnlib` comes from; what /dev/shm holds.
PROBE = r"""
import json, os, sys
names = set(NAMES)
found = []
for top in ("/opt", "/usr", "/lib", "/lib64", "/etc", "/home", "/tmp"):
    for folder, dirs, files in os.walk(top, followlinks=False):
        for d in dirs:
            path = os.path.join(folder, d)
            if d in names and not path.startswith("/course/") and os.listdir(path):
                found.append(path)
        found += [os.path.join(folder, f) for f in files if f[:-3] in names and f.endswith(".py")
                  and os.path.getsize(os.path.join(folder, f))]
import nnlib
shm = os.statvfs("/dev/shm")
print(json.dumps({"found": found, "nnlib": nnlib.__file__, "path": sys.path,
                  "shm_bytes": shm.f_blocks * shm.f_frsize}))
"""

RUN = r"""
import json, sys
from pathlib import Path
from coursetools.sandbox import Sandbox
box = Sandbox(sys.argv[1])
scratch = box.prepare_scratch(Path(sys.argv[2]))
result = box.run(["/opt/env/bin/python", "-c", sys.argv[3]], scratch)
print(json.dumps({"code": result.returncode, "output": result.output}))
"""


def _site_packages(env):
    purelib = sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)})
    return Path(purelib)


@pytest.fixture(scope="module")
def installed_env(tmp_path_factory):
    """An environment holding the course's packages three ways, and the prepared library."""
    work = tmp_path_factory.mktemp("installs")
    env = work / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = _site_packages(env)
    assert site.is_dir(), site
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in sandbox.COURSE_PACKAGES:                      # a plain `pip install .`
        shutil.copytree(LIB / name, site / name, ignore=ignore)
    extra = env / "lib" / "course-src"                          # a folder added by a .pth file
    shutil.copytree(LIB / "nnlib", extra / "nnlib", ignore=ignore)
    (site / "course.pth").write_text(f"{extra}\n")
    (site / "__editable__.nnlib-0.1.0.pth").write_text(f"{LIB}\n")   # `pip install -e .`
    library = judge.build_library(LIB, work / "prepared")
    return env, library, work


def test_no_installed_copy_of_the_course_shows_in_the_sandbox(installed_env):
    env, library, work = installed_env
    probe = PROBE.replace("NAMES", repr(list(sandbox.COURSE_PACKAGES)))
    proc = subprocess.run([str(env / "bin" / "python"), "-c", RUN, str(library), str(work / "home"),
                           probe], capture_output=True, text=True, timeout=300,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    outer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outer["code"] == 0, outer["output"][-3000:]
    seen = json.loads(outer["output"].strip().splitlines()[-1])
    assert seen["found"] == [], ("the course's packages can be read in the sandbox outside its "
                                 f"prepared copy: {seen['found']}")
    assert seen["nnlib"].startswith(sandbox.LIB_MOUNT + "/"), seen
    assert 0 < seen["shm_bytes"] <= 16 << 20, seen


def test_without_the_hiding_the_probe_finds_the_installed_copies(installed_env):
    """The probe above is not blind: the same environment, seen without the hiding, shows the
    copies it must find (the plain install's three packages and the .pth folder's nnlib)."""
    env, _, _ = installed_env
    site = _site_packages(env)
    for name in sandbox.COURSE_PACKAGES:
        assert (site / name / "__init__.py").is_file()
    assert (env / "lib" / "course-src" / "nnlib" / "activations.py").read_text().count("def sigmoid")


# N forked children sleep for two seconds; WHO ("children" or "parent") holds MB megabytes
# (touched) each. Held by the parent, the pages are shared with the children and count once.
HOLDERS = r"""
import os, sys, time
who, n, mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def hold():
    block = bytearray(mb << 20)
    block[::4096] = b"x" * len(block[::4096])
    return block

held = hold() if who == "parent" else None
children = []
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        mine = hold() if who == "children" else None
        time.sleep(2)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
print("all children done", flush=True)
"""

# Memory no process's size shows: memory file descriptors written to, never mapped.
UNSEEN = r"""
import os, sys
held = []
try:
    for _ in range(int(sys.argv[1])):
        fd = os.memfd_create("held")
        for _ in range(int(sys.argv[2])):
            os.write(fd, b"x" * (1 << 20))
        held.append(fd)
    print("held", len(held), flush=True)
except PermissionError:
    print("memfd_create refused", flush=True)
"""


@pytest.fixture(params=["cgroup", "polled"])
def memory_box(request, tmp_path, monkeypatch):
    """A sandbox limited to 400 MB, counted by a cgroup of its own (where one can be made: as
    root) or by polling its processes' sizes (as when grading as an ordinary user)."""
    if request.param == "cgroup" and sandbox.memory_cgroup_root() is None:
        pytest.skip("no memory cgroup can be made here (not root, or no memory controller)")
    if request.param == "polled":
        monkeypatch.setattr(sandbox.MemoryGroup, "make", classmethod(lambda cls, *a: None))
    library = judge.build_library(LIB, tmp_path / "prepared")
    box = sandbox.Sandbox(library, limits=sandbox.Limits(seconds=120, memory_mb=400))
    return box, box.prepare_scratch(tmp_path / "home"), request.param


def _run(box, scratch, program, *args):
    return box.run(["/opt/env/bin/python", "-c", program, *map(str, args)], scratch)


def test_the_memory_limit_counts_all_the_sandbox_s_processes_together(memory_box):
    """Each child stays far below the per-process limit (400 MB of address space); four of them
    together (600 MB) pass the limit, two smaller ones do not."""
    box, scratch, _ = memory_box
    result = _run(box, scratch, HOLDERS, "children", 4, 150)
    assert result.out_of_memory and not result.timed_out, result
    result = _run(box, scratch, HOLDERS, "children", 2, 60)
    assert not result.out_of_memory and "all children done" in result.output, result


def test_pages_forked_children_share_with_their_parent_count_once(memory_box):
    """Eight children of a parent holding 250 MB: 2.25 GB by the sum of their resident sizes,
    250 MB in fact, under the 400 MB limit."""
    box, scratch, _ = memory_box
    result = _run(box, scratch, HOLDERS, "parent", 8, 250)
    assert not result.out_of_memory and "all children done" in result.output, result


def test_memory_file_descriptors_are_refused(memory_box):
    """Memory in a memory file descriptor shows in no process's size: the call is refused."""
    box, scratch, _ = memory_box
    result = _run(box, scratch, UNSEEN, 1, 50)
    assert "memfd_create refused" in result.output, result


# 250 MB written to files in /tmp (a memory file system; 50 MB each, under the file-size
# limit), then 200 MB held by the process.
IN_FILES = r"""
for i in range(5):
    with open(f"/tmp/held{i}", "wb") as f:
        for _ in range(50):
            f.write(b"x" * (1 << 20))
block = bytearray(200 << 20)
block[::4096] = b"x" * len(block[::4096])
print("held both", flush=True)
"""


def test_a_cgroup_counts_files_in_memory_too(memory_box):
    """The 250 MB of files in /tmp show in no process's size; a cgroup counts it with the 200 MB the
    process holds and stops the run (where sizes are polled, /tmp's own 256 MB bound it)."""
    box, scratch, mode = memory_box
    if mode != "cgroup":
        pytest.skip("counted only by a cgroup")
    result = _run(box, scratch, IN_FILES)
    assert result.out_of_memory and "held both" not in result.output, result


def test_a_process_in_the_sandbox_cannot_raise_its_open_files_limit(tmp_path):
    """Each open pipe or socket can hold kernel memory that no process's size shows: the number
    of open files is held at its usual soft limit, as the hard limit too."""
    library = judge.build_library(LIB, tmp_path / "prepared")
    box = sandbox.Sandbox(library, limits=sandbox.Limits(seconds=60))
    scratch = box.prepare_scratch(tmp_path / "home")
    program = ("import resource\n"
               "print('limits', resource.getrlimit(resource.RLIMIT_NOFILE))\n"
               "try:\n"
               "    resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20))\n"
               "    print('raised')\n"
               "except (ValueError, OSError):\n"
               "    print('refused')\n")
    result = box.run(["/opt/env/bin/python", "-c", program], scratch)
    limit = sandbox.OPEN_FILES
    assert f"limits ({limit}, {limit})" in result.output and "refused" in result.output, result
