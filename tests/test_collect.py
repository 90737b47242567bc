"""Submissions in and grades out: what a student puts in the exchange, in an uploaded folder or in
a name is data.

A submission is taken only from the student it is named for, holds only files and folders, and
is copied without following a link (coursetools.exchange). Tested on the copy itself, on
`nbgrader collect` run with the course's configuration against an exchange holding honest and
hostile submissions, on the import of a downloaded folder (`make collect FROM=folder`) and on the
grading step's own check of what is in submitted/; and on the grade table, whose cells a
spreadsheet must show as text even where a student chose them.
"""
from __future__ import annotations

import datetime
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from coursetools import exchange, grading

A = "ex01_neurons"
NB = f"{A}.ipynb"
SECRET = "THE INSTRUCTOR'S SOLUTION"


def _tree(folder):
    """{relative path: text} of every file under ``folder`` (links are not followed)."""
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(Path(folder).rglob("*"))
            if p.is_file() and not p.is_symlink()}


def _notebook(text):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(text, id="only-cell"))
    return nbformat.writes(nb)


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "instructor" / "solution.ipynb"
    path.parent.mkdir()
    path.write_text(_notebook(SECRET))
    return path


# ------------------------------------------------------------------------------- the copy itself

def test_a_folder_of_files_and_folders_is_copied_whole(tmp_path):
    src = tmp_path / "src"
    (src / "data" / "deep").mkdir(parents=True)
    (src / NB).write_text("notebook")
    (src / "data" / "deep" / "x.csv").write_text("1,2")
    (src / ".ipynb_checkpoints").mkdir()
    (src / ".ipynb_checkpoints" / "old.ipynb").write_text("old")
    (src / "big.bin").write_bytes(b"0" * 5000)
    n = exchange.copy_folder(src, tmp_path / "dest", exclude=[".ipynb_checkpoints"],
                             max_file_bytes=4000)
    assert _tree(tmp_path / "dest") == {NB: "notebook", "data/deep/x.csv": "1,2"}
    assert n.bytes == len("notebook") + len("1,2")


@pytest.mark.parametrize("where", ["top", "nested", "folder"])
def test_a_link_anywhere_refuses_the_whole_folder(tmp_path, secret, where):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "honest.txt").write_text("mine")
    if where == "top":
        (src / NB).symlink_to(secret)
    elif where == "nested":
        (src / "sub" / NB).symlink_to(secret)
    else:
        (src / "sub" / "instructor").symlink_to(secret.parent, target_is_directory=True)
    with pytest.raises(exchange.Refused, match="is a link: a submission holds only files"):
        exchange.copy_folder(src, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()          # nothing half-copied is left behind


def test_a_hard_link_is_refused(tmp_path, secret):
    """Where users may hard-link files they cannot read (fs.protected_hardlinks = 0), a second name
    of the solutions inside a submission would be copied as the student's: refused."""
    src = tmp_path / "src"
    src.mkdir()
    os.link(secret, src / NB)
    with pytest.raises(exchange.Refused, match=f"{NB} is a hard link"):
        exchange.copy_folder(src, tmp_path / "dest")
    assert exchange.refusal(src, "ana") == f"{NB} is {exchange._HARD_LINK}"
    assert not (tmp_path / "dest").exists()


def test_a_folder_that_is_a_link_is_refused(tmp_path, secret):
    (tmp_path / "src").symlink_to(secret.parent, target_is_directory=True)
    with pytest.raises(exchange.Refused, match="without following a link"):
        exchange.copy_folder(tmp_path / "src", tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_a_pipe_is_refused_without_waiting_on_it(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / NB)                              # reading it would wait for a writer forever
    with pytest.raises(exchange.Refused, match=f"{NB} is a pipe"):
        exchange.copy_folder(src, tmp_path / "dest")
    with pytest.raises(exchange.Refused, match="is a pipe, not a file"):
        exchange.copy_file(src / NB, tmp_path / "one.ipynb")
    assert not (tmp_path / "one.ipynb").exists()


def test_a_single_file_is_copied_but_never_through_a_link(tmp_path, secret):
    (tmp_path / "ana.ipynb").write_text("ana's")
    assert exchange.copy_file(tmp_path / "ana.ipynb", tmp_path / "copy.ipynb") == 5
    assert (tmp_path / "copy.ipynb").read_text() == "ana's"
    (tmp_path / "ben.ipynb").symlink_to(secret)
    with pytest.raises(exchange.Refused, match="without following a link"):
        exchange.copy_file(tmp_path / "ben.ipynb", tmp_path / "copy2.ipynb")
    assert not (tmp_path / "copy2.ipynb").exists()


def test_a_folder_the_collector_cannot_read_is_refused_not_a_crash(tmp_path, monkeypatch):
    """A student may make a folder that the instructor cannot list (mode 000; only root could):
    that submission is refused, the collection of the others goes on."""
    src = tmp_path / "src"
    (src / "closed").mkdir(parents=True)
    (src / NB).write_text("x")
    listdir = os.listdir
    calls = []

    def listdir_denied_below_the_top(fd):
        calls.append(fd)
        if len(calls) > 1:
            raise PermissionError(13, "Permission denied", "closed")
        return listdir(fd)
    monkeypatch.setattr(exchange.os, "listdir", listdir_denied_below_the_top)
    with pytest.raises(exchange.Refused, match=r"closed could not be copied \(Permission denied\)"):
        exchange.copy_folder(src, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_too_much_in_all_is_refused(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}").write_bytes(b"x" * 600)
    with pytest.raises(exchange.Refused, match="larger than 1 kB together"):
        exchange.copy_folder(src, tmp_path / "dest", max_total_bytes=1000)
    assert not (tmp_path / "dest").exists()


def test_refusal_names_what_is_wrong(tmp_path, secret):
    ok = tmp_path / "ok"
    ok.mkdir()
    (ok / NB).write_text("x")
    assert exchange.refusal(ok, "ana") == ("it has no timestamp.txt and no submission_secret.txt "
                                           "(what nbgrader submit writes): a submission cut short")
    (ok / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    (ok / "submission_secret.txt").write_text("")
    assert exchange.refusal(ok, "ana") == ("its submission_secret.txt is not the secret nbgrader "
                                           "submit writes")
    (ok / "submission_secret.txt").write_text(secrets.token_hex(64))
    assert exchange.refusal(ok, "ana") is None          # made by the user collecting
    assert "not a student's name" in exchange.refusal(ok, "..")
    assert "not a student's name" in exchange.refusal(ok, "")
    (ok / "sub").mkdir()
    (ok / "sub" / "link").symlink_to(secret)
    assert exchange.refusal(ok, "ana") == "sub/link is a link: a submission holds only files and folders"
    (tmp_path / "linked").symlink_to(ok, target_is_directory=True)
    assert exchange.refusal(tmp_path / "linked", "ana") == "it is a link, not a folder"


# ------------------------------------------------------------- nbgrader collect, with the course

def _submission(inbound, student, time, files=None, link=None, make=None):
    """An exchange folder as `nbgrader submit` names it: <student>+<assignment>+<time>+<random>."""
    path = inbound / f"{student}+{A}+{time}+{abs(hash((student, time))) % 10 ** 8:08d}"
    if make:
        make(path)
        return path
    path.mkdir()
    (path / "timestamp.txt").write_text(time)
    (path / "submission_secret.txt").write_text(secrets.token_hex(64))    # as nbgrader submit
    for name, text in (files or {}).items():
        (path / name).write_text(text)
    if link:
        (path / NB).symlink_to(link)
    return path


@pytest.fixture
def collected(course_copy, tmp_path, secret):
    """`nbgrader collect` of a class whose exchange holds honest and hostile submissions."""
    root = tmp_path / "course"
    shutil.copytree(course_copy, root, ignore=shutil.ignore_patterns("submitted", "reports"))
    inbound = tmp_path / "exchange" / "nn-from-scratch" / "inbound"
    inbound.mkdir(parents=True)
    day = "2026-12-01 10:00:00.000000 UTC"
    later = "2026-12-02 10:00:00.000000 UTC"
    _submission(inbound, "ana", day, {NB: _notebook("ANA")})           # claims a day before now
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    _submission(inbound, "gil", now, {NB: _notebook("GIL")})
    _submission(inbound, "ben", day, {NB: _notebook("BEN, ON TIME")})
    _submission(inbound, "ben", later, {"timestamp.txt": later}, link=secret)      # newer, a link
    _submission(inbound, "cat", day, make=lambda p: p.symlink_to(secret.parent, target_is_directory=True))
    _submission(inbound, "dan", day, make=lambda p: (p.mkdir(), os.mkfifo(p / NB)))
    _submission(inbound, "..", day, {NB: _notebook("ESCAPES")})      # would land in the course root
    (inbound / f"eve+{A}+not a time+123").mkdir()                                   # unreadable name
    # a submit cut short (a full disk): an empty notebook, no secret; the complete one before it counts
    _submission(inbound, "hal", day, {NB: _notebook("HAL, COMPLETE")})
    cut = _submission(inbound, "hal", later, {NB: ""})
    (cut / "submission_secret.txt").unlink()
    # two students with one secret: one feedback page would be released for both
    shared = secrets.token_hex(64)
    for student in ("ivy", "jon"):
        path = _submission(inbound, student, day, {NB: _notebook(student.upper())})
        (path / "submission_secret.txt").write_text(shared)
    # folders nested far deeper than any submission: Python's recursive walks stopped there
    deep = _submission(inbound, "kit", day, {NB: _notebook("KIT")})
    os.makedirs(deep.joinpath(*["d"] * 200))
    # timestamps that are not what nbgrader submit writes: nbgrader's collect stopped, for the
    # rest of the class, at a collected copy whose time it could not read; escapes reached the
    # instructor's terminal through release_feedback
    _submission(inbound, "max", day, {NB: _notebook("MAX"), "timestamp.txt": "not a time"})
    _submission(inbound, "ned", day, {NB: _notebook("NED"),
                                      "timestamp.txt": day + "\x1b]0;TITLE\x07\x1b[2K"})
    # a copy collected before timestamps were checked (nbgrader's collect stopped there), and a
    # newer submission of the same student
    planted = root / "submitted" / "oli" / A
    planted.mkdir(parents=True)
    (planted / NB).write_text(_notebook("OLI, EARLIER"))
    (planted / "timestamp.txt").write_text("99999999999999999999")
    _submission(inbound, "oli", later, {NB: _notebook("OLI, NEWER")})
    _submission(inbound, "pia", day, {NB: _notebook("PIA")})                 # after them all
    owned = {}
    if os.geteuid() == 0:   # only root can make a folder that another user owns
        import pwd
        nobody = pwd.getpwnam("nobody")
        for student in ("fay", "nobody"):
            path = _submission(inbound, student, later, {NB: _notebook(f"BY NOBODY AS {student}")})
            for p in [path, *path.iterdir()]:
                os.chown(p, nobody.pw_uid, nobody.pw_gid)
        owned = {"fay": None, "nobody": _notebook("BY NOBODY AS nobody")}
        # another user's file in a student's newest submission (nbgrader leaves it writable by all)
        _submission(inbound, "lea", day, {NB: _notebook("LEA, HER OWN")})
        planted = _submission(inbound, "lea", later, {NB: _notebook("LEA, BY SOMEONE ELSE")})
        os.chown(planted / NB, nobody.pw_uid, nobody.pw_gid)
        owned["lea"] = _notebook("LEA, HER OWN")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "collect", A], cwd=root,
                          env=dict(os.environ, NBGRADER_EXCHANGE=str(tmp_path / "exchange"),
                                   # nbgrader's gradebook runs the environment's alembic
                                   PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                                         os.environ.get("PATH", "")])),
                          capture_output=True, text=True, timeout=600)
    return root, proc, owned


def test_collect_takes_only_what_each_student_made_and_never_follows_a_link(collected):
    root, proc, owned = collected
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = proc.stdout + proc.stderr
    submitted = root / "submitted"
    expected = {"ana": _notebook("ANA"), "ben": _notebook("BEN, ON TIME"), "gil": _notebook("GIL"),
                "hal": _notebook("HAL, COMPLETE"), "oli": _notebook("OLI, EARLIER"), "pia": _notebook("PIA")}
    expected.update({s: text for s, text in owned.items() if text})
    assert sorted(p.name for p in submitted.iterdir()) == sorted(expected), log
    for student, text in expected.items():
        assert (submitted / student / A / NB).read_text() == text, (student, log)
    everything = "".join(_tree(submitted).values())
    assert SECRET not in everything and "ESCAPES" not in everything
    assert not (root / A).exists()                   # "..": nothing outside submitted/
    assert not any(p.is_symlink() for p in submitted.rglob("*"))
    # every submission passed over is named, with the reason
    assert "not collected: ben+" in log and f"{NB} is a link" in log
    assert "not collected: cat+" in log and "it is a link, not a folder" in log
    assert "not collected: dan+" in log and f"{NB} is a pipe" in log
    assert f"not collected: eve+{A}+not a time+123: its name is not" in log
    assert "not collected: hal+" in log and "it has no submission_secret.txt" in log
    assert "not collected: ivy+" in log and "the same submission secret as the submission of jon" in log
    assert "not collected: jon+" in log and "the same submission secret as the submission of ivy" in log
    assert "not collected: kit+" in log and "is nested more than 32 folders deep" in log
    assert "not collected: max+" in log and "its timestamp.txt is 'not a time', not a time" in log
    assert "not collected: ned+" in log and "\\x1b]0;TITLE\\x07" in log and "\x1b" not in log
    # the copy collected before, whose time cannot be read, counts as having none: collect goes on
    assert f"Submission already exists, use --update to update: oli {A}" in log
    if owned:
        assert "not collected: fay+" in log and "handed in as 'fay' but was made by 'nobody'" in log
        assert "not collected: lea+" in log and f"{NB} was put there by 'nobody', not by 'root'" in log


def test_the_time_a_submission_counts_is_when_it_was_received_not_what_it_claims(collected):
    """ana's submission says it was made a day before the collection; the files' change times
    (which no user can set back) say it was made now: now is recorded, and a note says why. gil's
    timestamp is true and is kept as it is."""
    root, proc, _ = collected
    assert proc.returncode == 0, proc.stdout + proc.stderr
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    when, note = grading.submission_time(A, "ana", root)
    assert abs((when - now).total_seconds()) < 600, when
    assert note == (f"its timestamp says 2026-12-01 10:00:00 UTC, but the exchange received it at "
                    f"{when:%Y-%m-%d %H:%M:%S} UTC; that time is recorded")
    assert note in grading.precheck(A, "ana", root=root)[1]
    when, note = grading.submission_time(A, "gil", root)
    claimed = (root / "submitted" / "gil" / A / "timestamp.txt").read_text()
    assert note is None and when.strftime("%Y-%m-%d %H:%M:%S") == claimed[:19]
    # imported from a folder afterwards: what collect recorded no longer applies to it
    inbox = root.parent / "inbox"
    inbox.mkdir()
    (inbox / "ana.ipynb").write_text(_notebook("ANA, BY HAND"))
    assert grading.import_folder(A, inbox, root=root) == ["ana"]
    assert grading.submission_time(A, "ana", root) == (None, None)
    # a folder that carries a timestamp.txt: its time counts, but nothing checked it, and the
    # grade table's notes say so
    (inbox / "ana.ipynb").unlink()
    (inbox / "ana" / A).mkdir(parents=True)
    (inbox / "ana" / A / NB).write_text(_notebook("ANA, LATE"))
    (inbox / "ana" / A / "timestamp.txt").write_text("2000-01-01 00:00:00.000000 UTC")
    assert grading.import_folder(A, inbox, root=root) == ["ana"]
    when, note = grading.submission_time(A, "ana", root)
    assert when == datetime.datetime(2000, 1, 1)
    assert note == ("its timestamp says 2000-01-01 00:00:00 UTC; it was imported from a folder, "
                    "where nothing checks that time")
    assert note in grading.precheck(A, "ana", root=root)[1]


# ------------------------------------------------------------ make collect FROM=folder (import)

def test_import_refuses_links_and_pipes_and_keeps_an_earlier_import(tmp_path, course_copy, secret):
    root = course_copy
    inbox = tmp_path / "inbox"
    (inbox / "gus" / A).mkdir(parents=True)
    (inbox / "gus" / A / NB).write_text(_notebook("GUS"))
    (inbox / "gus" / A / ".ipynb_checkpoints").mkdir()
    (inbox / "hal.ipynb").write_text(_notebook("HAL"))
    (inbox / "ida.ipynb").symlink_to(secret)                          # one notebook: a link
    (inbox / "jo").mkdir()
    (inbox / "jo" / NB).symlink_to(secret)                           # in a folder: a link
    (inbox / "kim").symlink_to(secret.parent, target_is_directory=True)  # the folder: a link
    (inbox / "lu").mkdir()
    (inbox / "lu" / A).symlink_to(secret.parent, target_is_directory=True)
    os.mkfifo(inbox / "mo.ipynb")
    (inbox / "nat\nadmin.ipynb").write_text(_notebook("NAT"))            # a line break in a name
    (inbox / "<img src=x onerror=alert(1)>.ipynb").write_text(_notebook("OLA"))   # markup in a name
    # jo had a submission imported before: a refused import leaves it as it was
    (root / "submitted" / "jo" / A).mkdir(parents=True)
    (root / "submitted" / "jo" / A / NB).write_text(_notebook("JO, EARLIER"))
    refused = {}
    imported = grading.import_folder(A, inbox, root=root, refused=refused)
    assert imported == ["gus", "hal"]
    assert sorted(refused) == ["<img src=x onerror=alert(1)>", "ida", "jo", "kim", "lu", "mo",
                               "nat\nadmin"]
    assert "holds a control character" in refused["nat\nadmin"]
    assert "one of < > &" in refused["<img src=x onerror=alert(1)>"]
    assert "ida.ipynb is a link, not a file or a folder" == refused["ida"]
    assert f"{NB} is a link: a submission holds only files and folders" == refused["jo"]
    assert refused["kim"] == "kim is a link, not a file or a folder"
    assert "without following a link" in refused["lu"]
    assert refused["mo"] == "mo.ipynb is a pipe, not a file or a folder"
    assert _tree(root / "submitted" / "gus") == {f"{A}/{NB}": _notebook("GUS")}
    assert (root / "submitted" / "hal" / A / NB).read_text() == _notebook("HAL")
    assert (root / "submitted" / "jo" / A / NB).read_text() == _notebook("JO, EARLIER")
    for student in ("ida", "kim", "lu", "mo"):
        assert not (root / "submitted" / student).exists()
    assert SECRET not in "".join(_tree(root / "submitted").values())


def test_the_import_command_says_who_was_not_imported_and_why(tmp_path, course_copy, secret):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ana.ipynb").write_text((course_copy / "exercises" / A / NB).read_text())
    (inbox / "ben.ipynb").symlink_to(secret)
    proc = subprocess.run([sys.executable, "-m", "coursetools.grading", "import", A, str(inbox)],
                          cwd=course_copy, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "imported: ana" in proc.stdout
    assert "not imported: ben: ben.ipynb is a link, not a file or a folder" in proc.stdout


def test_import_refuses_names_that_are_patterns_and_names_given_twice(tmp_path, course_copy):
    """nbgrader reads a student's name as a file pattern ([ab] would match a and b, and its own
    feedback never be found); a download folder holding both bob/ and bob.ipynb has two
    submissions of bob, and taking one silently could keep the wrong one."""
    root = course_copy
    inbox = tmp_path / "inbox"
    (inbox / "bob").mkdir(parents=True)
    (inbox / "bob" / NB).write_text(_notebook("BOB, IN A FOLDER"))
    (inbox / "bob.ipynb").write_text(_notebook("BOB, ALONE"))
    (inbox / "[ab].ipynb").write_text(_notebook("AB"))
    (inbox / "st*r.ipynb").write_text(_notebook("STAR"))
    (inbox / "eve\x1b]0;pwned\x07.ipynb").write_text(_notebook("EVE"))   # a terminal's title
    (inbox / "rtl\u202egnp.ipynb").write_text(_notebook("RTL"))            # right-to-left override
    (inbox / "cy.ipynb").write_text(_notebook("CY"))
    refused = {}
    assert grading.import_folder(A, inbox, root=root, refused=refused) == ["cy"]
    assert sorted(refused) == sorted(["bob", "[ab]", "st*r", "eve\x1b]0;pwned\x07", "rtl\u202egnp"])
    assert refused["bob"] == "bob and bob.ipynb are both bob's: keep the one to grade and import again"
    assert "* ? [ ]" in refused["[ab]"] and "* ? [ ]" in refused["st*r"]
    assert "\\x1b" in refused["eve\x1b]0;pwned\x07"] and "\x1b" not in refused["eve\x1b]0;pwned\x07"]
    assert "\\u202e" in refused["rtl\u202egnp"]
    assert not (root / "submitted" / "bob").exists()


def test_names_a_student_chose_reach_the_terminal_and_the_table_made_visible(tmp_path, course_copy):
    """A file name can hold a terminal's control sequences (retitle the window, rewrite the line
    above): the grader's notes, the refusals and the grade table show them as escapes."""
    from coursetools import safe_display
    assert safe_display.printable("a\x1b[2Kb\rc\u202ed\nline") == "a\\x1b[2Kb\\rc\\u202ed\nline"
    root = course_copy
    folder = root / "submitted" / "dee" / A
    folder.mkdir(parents=True)
    (folder / NB).write_text((root / "exercises" / A / NB).read_text())
    (folder / "x\x1b]52;c;ZWNobyBwd25lZA==\x07.txt").write_text("clipboard")
    problem, notes = grading.precheck(A, "dee", root=root)
    assert problem is None and any("extra files ignored" in n for n in notes)
    assert grading._as_text("\x1b[1A\x1b[2Kgood1 graded 20 / 20") == "\\x1b[1A\\x1b[2Kgood1 graded 20 / 20"
    shown = [safe_display.printable(n) for n in notes]
    assert all("\x1b" not in n and "\x07" not in n for n in shown)
    assert any("\\x1b]52" in n for n in shown)
    assert str(exchange.Refused("bad\x1b[31m name")) == "bad\\x1b[31m name"


# ---------------------------------------------------- what grading itself accepts in submitted/

def test_grading_does_not_read_a_submitted_notebook_through_a_link(tmp_path, course_copy, secret):
    """submitted/ filled by hand (cp -a, rsync -a keep links): the grading step says what it found
    instead of reading through it."""
    root = course_copy
    folder = root / "submitted" / "nia" / A
    folder.mkdir(parents=True)
    (folder / NB).symlink_to(secret)
    problem, _ = grading.precheck(A, "nia", root=root)
    assert problem == f"{NB} is a link, not a file: links in a submission are not followed"
    assert grading._submission_files(A, "nia", root) == {}
    (root / "submitted" / "oz").mkdir()
    (root / "submitted" / "oz" / A).symlink_to(secret.parent, target_is_directory=True)
    problem, _ = grading.precheck(A, "oz", root=root)
    assert problem == f"{A} is a link, not a folder: links in a submission are not followed"
    folder = root / "submitted" / "pat" / A
    folder.mkdir(parents=True)
    os.mkfifo(folder / NB)
    problem, _ = grading.precheck(A, "pat", root=root)     # returns at once: the pipe is not opened
    assert problem == f"{NB} is a pipe, not a file"
    (root / "submitted" / "quin" / A / NB).mkdir(parents=True)
    assert grading.precheck(A, "quin", root=root)[0] == f"{NB} is a folder, not a file"


# ------------------------------------------------------------------------ what goes out: grades

def test_a_cell_that_starts_a_formula_after_spaces_is_text_too():
    assert grading._as_text(" =1+1") == "' =1+1" and grading._as_text("  @cmd") == "'  @cmd"
    assert grading._as_text(" ana") == " ana" and grading._as_text("-") == "'-"


def test_the_grade_table_shows_what_a_student_chose_as_text_not_as_a_formula(tmp_path, course_copy,
                                                                            monkeypatch):
    import csv
    import json
    root = tmp_path / "course"
    shutil.copytree(course_copy, root, ignore=shutil.ignore_patterns("submitted", "reports"))
    (root / "reports").mkdir()
    report = {"=HYPERLINK(\"http://x\")": {"status": "not graded", "notes": [],
                                            "reason": "missing notebook ex01_neurons.ipynb"},
              "ana": {"status": "not graded", "reason": "-1+2 is not a notebook",
                      "notes": ["@SUM(A1)", "+cmd"]}}
    (root / "reports" / f"{A}.json").write_text(json.dumps(report))
    # nbgrader's gradebook runs the environment's alembic
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent),
                                                os.environ.get("PATH", "")]))
    rows = grading.grade_table(A, root=root)
    assert {r["student"] for r in rows} == set(report)           # the rows keep the names as they are
    with open(root / f"grades-{A}.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    cells = {r["student"]: r for r in table}
    assert set(cells) == {"'=HYPERLINK(\"http://x\")", "ana"}
    assert cells["ana"]["reason"] == "'-1+2 is not a notebook"
    assert cells["ana"]["notes"] == "'@SUM(A1); +cmd"
    assert cells["'=HYPERLINK(\"http://x\")"]["reason"] == "missing notebook ex01_neurons.ipynb"


def test_a_notebook_of_endless_cells_is_refused_before_grading(course_copy):
    """Each cell costs the grading process (outside the sandbox's limits) time and memory."""
    root = course_copy
    nb = nbformat.read(root / "exercises" / A / NB, as_version=4)
    nb.cells += [nbformat.v4.new_markdown_cell("") for _ in range(grading.MAX_CELLS)]
    folder = root / "submitted" / "max" / A
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / NB)
    problem, _ = grading.precheck(A, "max", root=root)
    assert problem == f"{NB} has {len(nb.cells):,} cells; a submitted notebook may have at most 2,000"


def test_the_student_s_own_cells_keep_no_metadata_that_changes_what_is_shown(course_copy):
    released = nbformat.read(course_copy / "exercises" / A / NB, as_version=4)
    submitted = nbformat.reads(nbformat.writes(released), as_version=4)
    mine = nbformat.v4.new_code_cell("print('hidden work')",
                                     metadata={"transient": {"remove_source": True},
                                               "tags": ["remove_input"], "jupyter": {"source_hidden": True}})
    submitted.cells.insert(3, mine)
    graded, _ = grading.rebuild(released, submitted)
    cell = next(c for c in graded.cells if c.source == "print('hidden work')")
    assert dict(cell.metadata) == {}


def test_an_answer_cell_turned_into_markdown_says_so_and_how_to_undo_it(course_copy):
    """Pressing M on an answer cell in JupyterLab: the reason names what changed."""
    released = nbformat.read(course_copy / "exercises" / A / NB, as_version=4)
    submitted = nbformat.reads(nbformat.writes(released), as_version=4)
    cell = next(c for c in submitted.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax")
    cell.cell_type = "markdown"
    del cell["outputs"], cell["execution_count"]
    with pytest.raises(grading.MetadataAltered) as info:
        grading.rebuild(released, submitted)
    assert str(info.value) == ("the answer cell softmax was changed from code to markdown: change it "
                               "back (in JupyterLab, select it and press Y)")


# ------------------------------------------------------------- one submission, changed while copied

class _Log:
    def __init__(self):
        self.lines = []

    def error(self, text):
        self.lines.append(text)


def _collector(root):
    from types import SimpleNamespace
    cd = SimpleNamespace(ignore=[".ipynb_checkpoints"], include=["*"], max_file_size=100000,
                         max_dir_size=100000, root=str(root), assignment_id=A, groupshared=False)
    return SimpleNamespace(coursedir=cd, log=_Log())


def _honest(folder, text, time="2026-12-01 10:00:00.000000 UTC"):
    folder.mkdir(parents=True)
    (folder / NB).write_text(text)
    (folder / "timestamp.txt").write_text(time)
    (folder / "submission_secret.txt").write_text(secrets.token_hex(64))


def test_a_submission_renamed_while_it_is_copied_is_collected_with_the_time_of_what_was_copied(
        tmp_path, monkeypatch):
    """The student renames the folder once the copy has read it: the copy is complete, and the
    time kept is that of the files copied (collect stopped here for the whole class, and left
    the time of the student's earlier, on-time submission in place)."""
    root, src = tmp_path / "course", tmp_path / "inbound" / "ana+x"
    dest = root / "submitted" / "ana" / A
    _honest(dest, "EARLIER")
    exchange.record_received(root, A, "ana", datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc))
    _honest(src, "LATE")
    real_copy = exchange.copy_folder

    def copy_then_rename(source, *args, **kwargs):
        copied = real_copy(source, *args, **kwargs)
        os.rename(source, str(source) + "-gone")
        return copied
    monkeypatch.setattr(exchange, "copy_folder", copy_then_rename)
    collector = _collector(root)
    exchange.CollectOwnSubmissions.do_copy(collector, str(src), str(dest))
    assert collector.log.lines == []
    assert (dest / NB).read_text() == "LATE" and not Path(str(dest) + ".collecting").exists()
    when = exchange.received(root, A, "ana")
    assert abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) < 600


def test_a_refused_copy_leaves_the_submission_collected_before_and_its_time(tmp_path):
    root, src = tmp_path / "course", tmp_path / "inbound" / "ana+x"
    dest = root / "submitted" / "ana" / A
    _honest(dest, "EARLIER")
    before = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    exchange.record_received(root, A, "ana", before)
    _honest(src, "NEWER", time="not a time")          # changed after collect's first look
    collector = _collector(root)
    exchange.CollectOwnSubmissions.do_copy(collector, str(src), str(dest))
    assert len(collector.log.lines) == 1 and "its timestamp.txt is 'not a time'" in collector.log.lines[0]
    assert (dest / NB).read_text() == "EARLIER" and exchange.received(root, A, "ana") == before
    assert sorted(p.name for p in dest.parent.iterdir()) == [A]


def test_a_timestamp_is_taken_only_as_nbgrader_submit_writes_it(tmp_path):
    path = tmp_path / "timestamp.txt"
    path.write_text("2026-12-03 18:18:47.346413 UTC\n")
    assert exchange.submission_timestamp(path) == datetime.datetime(2026, 12, 3, 18, 18, 47, 346413)
    for text in ("", "not a time", "99999999999999999999", "1066-10-14 09:00:00 UTC", "x" * 65,
                 "2026-12-03 18:18:47 UTC\x1b[2K", "2026-12-03 18:18:47 UTC\u200b"):
        path.write_text(text)
        with pytest.raises(exchange.Refused, match="timestamp.txt"):
            exchange.submission_timestamp(path)


def test_a_write_made_while_a_file_is_copied_counts_in_the_time_received(tmp_path, monkeypatch):
    """A student watching their own notebook rewrote its tail once collect had opened it (and
    read its change time) but before it read that far: the late work was collected with the
    on-time change time. The time is read again once each file is read."""
    src = tmp_path / "src"
    _honest(src, "x" * 1000 + "OLD")
    before = datetime.datetime.now(datetime.timezone.utc)
    real = exchange._copy_open_file

    def rewrite_then_copy(fd, dest, limit):
        if os.path.basename(dest) == NB:
            time.sleep(0.05)
            with open(src / NB, "r+") as f:       # the student's write, after collect's open
                f.seek(1000)
                f.write("NEW")
        return real(fd, dest, limit)
    monkeypatch.setattr(exchange, "_copy_open_file", rewrite_then_copy)
    copied = exchange.copy_folder(src, tmp_path / "dest")
    written = datetime.datetime.fromtimestamp(os.stat(src / NB).st_ctime, datetime.timezone.utc)
    assert (tmp_path / "dest" / NB).read_text().endswith("NEW")
    assert copied.changed >= written > before
