"""The instructor's grading steps, one command each, that never lose a submission or a grade.

    python -m coursetools.grading import     ASSIGNMENT FOLDER   # a folder of submissions
    python -m coursetools.grading autograde  ASSIGNMENT
    python -m coursetools.grading feedback   ASSIGNMENT
    python -m coursetools.grading grades     ASSIGNMENT          # writes grades-ASSIGNMENT.csv

(`make collect|autograde|feedback|grades A=ASSIGNMENT` run the same.) Every submission is checked
before nbgrader sees it: a notebook that is missing, renamed or not readable is reported by name
with the reason. Each student is then autograded by nbgrader in a process of its own, with a time
limit and a memory limit, so a submission that hangs, exhausts memory or kills its kernel affects
only its own grade. The outcome of every student is written to reports/ASSIGNMENT.json and
reports/ASSIGNMENT.log, and the grade table marks a submission that could not be graded as
"not graded" with the reason, never as a plain 0.
"""
from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import nbformat

from coursetools import course

#: Limits of one student's autograding; override with environment variables of the same names.
LIMITS = {
    "GRADING_SECONDS_PER_STUDENT": 600,   # wall time of the whole notebook
    "GRADING_MEMORY_MB": 4096,            # address space of nbgrader and its kernel (Linux)
    "GRADING_CELL_SECONDS": 60,           # one cell (nbgrader's Execute.timeout)
}


def limit(name):
    return int(os.environ.get(name, LIMITS[name]))


# ----------------------------------------------------------------------------------------------
# Bringing submissions in
# ----------------------------------------------------------------------------------------------
def expected_notebooks(assignment, root=course.ROOT):
    return sorted(p.name for p in (Path(root) / "solutions" / assignment).glob("*.ipynb"))


def import_folder(assignment, folder, root=course.ROOT):
    """Copy a folder of submissions into submitted/<student>/<assignment>/.

    Accepted layouts: FOLDER/<student>/<assignment>/*, FOLDER/<student>/* (one folder per student)
    and FOLDER/<student>.ipynb (one notebook per student). Returns the students imported.
    The originals are only read, never changed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"no folder of submissions at {folder}")
    students = []
    for entry in sorted(folder.iterdir()):
        student = entry.stem if entry.is_file() else entry.name
        if entry.name.startswith("."):
            continue
        target = Path(root) / "submitted" / student / assignment
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        if entry.is_file():
            shutil.copy2(entry, target / entry.name)
        else:
            source = entry / assignment if (entry / assignment).is_dir() else entry
            for item in source.iterdir():
                if item.is_file():
                    shutil.copy2(item, target / item.name)
        students.append(student)
    return students


def precheck(assignment, student, root=course.ROOT):
    """Check a submission before grading. Returns (problem or None, notes)."""
    folder = Path(root) / "submitted" / student / assignment
    notes = []
    wanted = expected_notebooks(assignment, root)
    present = sorted(p.name for p in folder.glob("*.ipynb"))
    missing = [n for n in wanted if n not in present]
    if missing:
        found = ", ".join(present) or "no notebook"
        return f"missing notebook {', '.join(missing)} (found: {found})", notes
    for name in wanted:
        try:
            nb = nbformat.read(folder / name, as_version=4)
        except Exception as exc:  # invalid JSON, not a notebook, unreadable bytes
            detail = " ".join(str(exc).split(": '")[0].split())[:80]
            return f"{name} is not a readable notebook ({type(exc).__name__}: {detail})", notes
        kernel = nb.metadata.get("kernelspec", {}).get("name")
        if kernel not in (None, "python3"):
            notes.append(f"{name} asked for kernel {kernel!r}; graded with python3")
    extra = sorted(p.name for p in folder.iterdir() if p.name not in wanted and p.name != "timestamp.txt")
    if extra:
        notes.append(f"extra files ignored: {', '.join(extra)}")
    return None, notes


# ----------------------------------------------------------------------------------------------
# Autograding, one student at a time
# ----------------------------------------------------------------------------------------------
_REASONS = [  # (pattern in nbgrader's log, reason given to the instructor)
    (r"DeadKernelError|Kernel died|kernel died", "the notebook's kernel died (the code crashed it "
                                                "or ran out of memory)"),
    (r"CellTimeoutError|Timeout waiting for|timed out|UnresponsiveKernelError",
     "a cell ran past the time limit"),
    (r"MemoryError", "the notebook ran out of memory"),
    (r"failed to validate|metadata may be corrupted", "the notebook's grading metadata was altered"),
]


def _limits():
    memory = limit("GRADING_MEMORY_MB") * 1024 * 1024

    def apply():  # runs in the child before nbgrader starts (POSIX only)
        try:
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        except (ImportError, ValueError, OSError):
            pass
    return apply if os.name == "posix" else None


def _ensure_in_gradebook(assignment, root):
    """nbgrader needs the assignment's source cells in the gradebook: regenerate if missing."""
    from nbgrader.api import Gradebook, MissingEntry
    config = course.load_config(root)
    try:
        with Gradebook(config.CourseDirectory.db_url) as gb:
            gb.find_assignment(assignment)
            return
    except MissingEntry:
        pass
    course.generate(assignment, root=root)


def _scratch_course(assignment, student, root):
    """A private copy of what grading one student needs: config, source, gradebook, submission."""
    scratch = Path(tempfile.mkdtemp(prefix=f"grading-{student}-"))
    shutil.copy2(Path(root) / "nbgrader_config.py", scratch / "nbgrader_config.py")
    shutil.copytree(Path(root) / "solutions" / assignment, scratch / "solutions" / assignment)
    shutil.copy2(Path(root) / "gradebook.db", scratch / "gradebook.db")
    shutil.copytree(Path(root) / "submitted" / student / assignment,
                    scratch / "submitted" / student / assignment)
    return scratch


def _merge_grades(assignment, student, scratch, root):
    """Copy one student's automatic grades from the scratch gradebook into the course's."""
    from nbgrader.api import Gradebook
    source_db = course.load_config(scratch).CourseDirectory.db_url
    target_db = course.load_config(root).CourseDirectory.db_url
    with Gradebook(source_db) as src:
        sub = src.find_submission(assignment, student)
        timestamp = sub.timestamp
        grades = [(nb.name, g.name, g.auto_score) for nb in sub.notebooks for g in nb.grades]
        comments = [(nb.name, c.name, c.auto_comment) for nb in sub.notebooks for c in nb.comments]
    with Gradebook(target_db) as gb, warnings.catch_warnings():
        # nbgrader's own add_submission triggers SQLAlchemy autoflush notices; they are harmless
        warnings.simplefilter("ignore")
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student, timestamp=timestamp)
        for notebook, name, score in grades:
            grade = gb.find_grade(name, notebook, assignment, student)
            grade.auto_score, grade.manual_score = score, None
        for notebook, name, text in comments:
            gb.find_comment(name, notebook, assignment, student).auto_comment = text
        gb.db.commit()


def _kill_tagged(tag):
    """Kill every process that still carries this grading run's tag in its environment (Linux)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return 0
    killed = 0
    needle = f"NNLIB_GRADING_TAG={tag}".encode()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        except (OSError, PermissionError):
            continue
    return killed


def salvage(assignment, student, root=course.ROOT):
    """After a failed grading: run the submission with the instructor's test cells, stopping where
    it breaks, and say which tests passed before that. Returns a sentence (informational only)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbgrader import utils
    notes = []
    for name in expected_notebooks(assignment, root):
        source = nbformat.read(Path(root) / "solutions" / assignment / name, as_version=4)
        tests = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                 if c.metadata.get("nbgrader", {}).get("grade")}
        nb = nbformat.read(Path(root) / "submitted" / student / assignment / name, as_version=4)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in tests:
                cell.source = tests[gid]
        scratch = Path(tempfile.mkdtemp(prefix=f"salvage-{student}-"))
        client = NotebookClient(nb, timeout=limit("GRADING_CELL_SECONDS"), allow_errors=True,
                                kernel_name="python3", resources={"metadata": {"path": str(scratch)}})
        try:
            client.execute()
        except (DeadKernelError, CellTimeoutError, RuntimeError) as exc:
            notes.append(f"{name}: stopped by {type(exc).__name__}")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        passed = []
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in tests and cell.get("outputs") is not None and cell.get("execution_count"):
                score, max_score = utils.determine_grade(cell)
                passed.append(f"{gid} {score:g}/{max_score:g}")
        notes.append(f"{name}: tests that ran before it stopped: {', '.join(passed) or 'none'}")
    return "; ".join(notes)


def grade_student(assignment, student, root=course.ROOT):
    """Autograde one student's submission in a private copy of the course.

    The student's code runs with a time and a memory limit and cannot reach the course's
    gradebook or other students' files through relative paths; every process it started is
    killed afterwards. Returns a dict: status, reason, notes, seconds.
    """
    problem, notes = precheck(assignment, student, root)
    if problem:
        return {"status": "not graded", "reason": problem, "notes": notes, "seconds": 0.0}
    scratch = _scratch_course(assignment, student, root)
    tag = secrets.token_hex(8)
    env = dict(os.environ, PATH=f"{course.BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               NNLIB_GRADING_TAG=tag)
    env.pop("MPLBACKEND", None)
    start = time.perf_counter()
    # nbgrader's output goes to a file, not a pipe: a process the submission leaves behind could
    # hold a pipe open for ever
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as out:
        proc = subprocess.Popen([str(course.BIN / "nbgrader"), "autograde", assignment,
                                 "--student", student, "--force",
                                 f"--Execute.timeout={limit('GRADING_CELL_SECONDS')}"],
                                cwd=scratch, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_limits())
        try:
            proc.wait(timeout=limit("GRADING_SECONDS_PER_STUDENT"))
            timed_out = False
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # nbgrader and its process group
            except ProcessLookupError:
                pass
            proc.wait()
            timed_out = True
        out.seek(0)
        log = out.read()
    leftovers = _kill_tagged(tag)  # the kernel and anything the student's code started
    seconds = time.perf_counter() - start
    autograded = scratch / "autograded" / student / assignment
    result = {"status": "graded", "reason": "", "notes": notes, "seconds": round(seconds, 1),
              "log": log[-20000:]}
    if leftovers:
        notes.append(f"{leftovers} process(es) left running by the submission were stopped")
    if "Interrupting kernel" in log:
        notes.append(f"a cell ran past {limit('GRADING_CELL_SECONDS')} s, was interrupted and "
                     f"counts as an error")
    if timed_out:
        result.update(status="not graded", reason=f"grading took longer than "
                      f"{limit('GRADING_SECONDS_PER_STUDENT')} s and was stopped")
    elif proc.returncode != 0 or "There was an error processing" in log or not autograded.exists():
        reason = next((text for pattern, text in _REASONS if re.search(pattern, log)),
                      "nbgrader could not grade it (see the log)")
        result.update(status="not graded", reason=reason)
    if result["status"] == "graded":
        target = Path(root) / "autograded" / student / assignment
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(autograded, target)
        _merge_grades(assignment, student, scratch, root)
    else:
        notes.append(_salvage_isolated(assignment, student, root, env))
        _kill_tagged(tag)
    shutil.rmtree(scratch, ignore_errors=True)
    return result


def _salvage_isolated(assignment, student, root, env):
    """Run ``salvage`` in a child process under the same limits; return its one-line note."""
    try:
        with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as out:
            subprocess.run([sys.executable, "-m", "coursetools.grading", "salvage", assignment,
                            student], cwd=root, env=env, stdout=out, stderr=subprocess.DEVNULL,
                           timeout=limit("GRADING_SECONDS_PER_STUDENT"), preexec_fn=_limits(),
                           start_new_session=True)
            out.seek(0)
            lines = [l for l in out.read().splitlines() if l.startswith("partly run:")]
        return lines[-1] if lines else "could not run it partly"
    except subprocess.TimeoutExpired:
        return "could not run it partly (time limit)"


def autograde(assignment, root=course.ROOT, students=None):
    """Autograde every submission of ``assignment``; write reports/ASSIGNMENT.json and .log."""
    root = Path(root)
    _ensure_in_gradebook(assignment, root)
    submitted = root / "submitted"
    students = students or sorted(p.name for p in submitted.iterdir()
                                  if (p / assignment).is_dir()) if submitted.exists() else []
    report = {}
    for student in students:
        report[student] = grade_student(assignment, student, root)
        r = report[student]
        print(f"{student:20s} {r['status']:11s} {r['seconds']:6.1f} s  {r['reason']}", flush=True)
    reports = root / "reports"
    reports.mkdir(exist_ok=True)
    with open(reports / f"{assignment}.log", "w", encoding="utf-8") as log:
        for student, r in report.items():
            log.write(f"===== {student}: {r['status']} {r['reason']}\n{r.pop('log', '')}\n")
    (reports / f"{assignment}.json").write_text(json.dumps(report, indent=1))
    return report


# ----------------------------------------------------------------------------------------------
# Feedback and the grade table
# ----------------------------------------------------------------------------------------------
def feedback(assignment, root=course.ROOT):
    """HTML feedback for every graded submission (hidden tests removed), in feedback/."""
    return course.nbgrader("generate_feedback", assignment, "--force", root=root, check=False)


def grade_table(assignment, root=course.ROOT, path=None):
    """Write the grade table as CSV and return its rows.

    One row per student who submitted: status "graded" with the score, or "not graded" with an
    empty score and the reason. Per-test-cell points follow, for graded submissions.
    """
    root = Path(root)
    report_file = root / "reports" / f"{assignment}.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    scores = course.scores(assignment, root=root)
    cells = sorted({c for s in scores.values() for c in s["cells"]})
    students = sorted(set(report) | set(scores))
    rows = []
    for student in students:
        r = report.get(student, {"status": "graded" if student in scores else "not graded",
                                 "reason": "" if student in scores else "not autograded yet",
                                 "notes": []})
        graded = r["status"] == "graded" and student in scores
        row = {"student": student, "assignment": assignment,
               "status": "graded" if graded else "not graded",
               "score": f"{scores[student]['total']:g}" if graded else "",
               "max_score": f"{scores[student]['max']:g}" if student in scores else "",
               "reason": r.get("reason", ""), "notes": "; ".join(r.get("notes", []))}
        for c in cells:
            row[c] = f"{scores[student]['cells'].get(c, 0):g}" if graded else ""
        rows.append(row)
    path = Path(path) if path else root / f"grades-{assignment}.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["student", "assignment", "status", "score",
                                               "max_score", "reason", "notes", *cells])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[0] not in {"import", "autograde", "feedback", "grades", "salvage"}:
        print(__doc__)
        return 2
    step, assignment = argv[0], argv[1]
    # the course is the current folder when it holds an nbgrader_config.py, else this repository
    root = Path.cwd() if (Path.cwd() / "nbgrader_config.py").exists() else course.ROOT
    if assignment not in course.assignments(root):
        print(f"unknown assignment {assignment!r}; the assignments are: "
              f"{', '.join(course.assignments(root))}")
        return 2
    if step == "salvage":  # used by grade_student, in a child process under the limits
        print("partly run: " + salvage(assignment, argv[2], root))
    elif step == "import":
        if len(argv) < 3:
            print("give the folder of submissions: import ASSIGNMENT FOLDER")
            return 2
        print("imported:", ", ".join(import_folder(assignment, argv[2], root)))
    elif step == "autograde":
        autograde(assignment, root)
    elif step == "feedback":
        proc = feedback(assignment, root)
        print(proc.stdout[-2000:], proc.stderr[-2000:])
    elif step == "grades":
        rows = grade_table(assignment, root)
        for row in rows:
            print(f"{row['student']:20s} {row['status']:11s} {row['score']:>6s} / "
                  f"{row['max_score']:>4s}  {row['reason']}")
        print(f"written: grades-{assignment}.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
