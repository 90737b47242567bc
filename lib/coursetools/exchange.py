"""Bringing submissions in without trusting what students put in the exchange.

On a shared machine (a JupyterHub) nbgrader's exchange is a folder every student can write into:
``nbgrader submit``, run by the student, makes ``inbound/<student>+<assignment>+<time>+<random>/``
and copies the student's files there. ``nbgrader collect``, run by the instructor with the
instructor's rights, then copies the newest such folder of each student to ``submitted/``. As
nbgrader ships it, collect believes the folder's name and follows links, so a student could

* hand in under another student's name (collect only warns): the newest folder named for that
  student replaces their work;
* put links in a submission to files only the instructor can read (``solutions/``, another
  student's work), which collect copies as the student's own;
* leave a pipe, a folder named so that its time cannot be read, or folders nested a thousand
  deep, and stop the collection of the whole class;
* put a file of their own into another student's submission (nbgrader makes each submission's
  folder writable by all), or hand in with another student's submission secret (which names the
  feedback page ``release_feedback`` puts in the exchange: one page for both);
* and a submit cut short (a full disk) leaves a submission without its secret, on which
  ``release_feedback`` stops for the whole class.

``CollectOwnSubmissions`` (``nbgrader_config.py`` makes it nbgrader's collector, so ``make
collect``, ``nbgrader collect`` and the Formgrader's Collect button all use it) takes a submission
only when its folder and everything in it belong to the student it names (or to the instructor
collecting: a course whose exchange is the instructor's own folder), it holds nothing but files
and folders, within ``MAX_DEPTH`` and ``MAX_ENTRIES``, and the files ``nbgrader submit`` writes, with
a secret no other student's submission carries; it copies without ever following a link. Each submission it passes over is named in collect's log with the
reason, and that student's newest submission that passes is collected instead. It also keeps,
out of the students' reach, when each collected submission was really received (the file
system's change times of what it copied, which no user can set back); the grading step records
that time in the gradebook when the submission's own timestamp claims an earlier one. A new
submission is copied beside the one collected before and takes its place only when complete, and
one student's submission, whatever it holds or however it changes while it is copied, never
stops the collection of the others.
``copy_folder`` is the copy itself; ``import_folder`` in ``coursetools.grading`` uses it too for
submissions downloaded from elsewhere.
"""
from __future__ import annotations

import datetime
import fnmatch
import glob
import json
import os
import shutil
import stat
from typing import NamedTuple

from nbgrader.exchange.default.collect import ExchangeCollect, groupby
from nbgrader.utils import check_mode

from coursetools.safe_display import printable

try:
    import pwd
except ImportError:  # Windows: no unix owners to compare
    pwd = None

__all__ = ["Refused", "Copied", "copy_folder", "copy_file", "kind_of", "refusal",
           "submission_timestamp", "record_received", "received", "CollectOwnSubmissions"]

# open without following a link (ELOOP instead), without waiting on a pipe, not inherited
_OPEN = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
         | getattr(os, "O_CLOEXEC", 0))
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CHUNK = 1 << 20


#: what one submission may hold: folders nested this deep, entries in all (a tree 1,000 folders
#: deep stopped Python's recursive walks, and with them the collection of the whole class)
MAX_DEPTH = 32
MAX_ENTRIES = 10_000
#: what ``nbgrader submit`` writes beside the notebooks; ``release_feedback`` names a student's
#: feedback after the secret (128 hex digits) and stops, for the whole class, where one is missing
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")
_SECRET_DIGITS = frozenset("0123456789abcdef")


def _walk(path):
    """(name relative to ``path``, ``os.lstat`` result) of everything in the folder ``path``,
    without following links and without recursion; raises ``Refused`` past ``MAX_DEPTH`` or
    ``MAX_ENTRIES`` (and ``OSError`` for an entry that cannot be read)."""
    stack, count = [("", 0)], 0
    while stack:
        relative, depth = stack.pop()
        for name in sorted(os.listdir(os.path.join(path, relative) if relative else path)):
            shown = os.path.join(relative, name) if relative else name
            st = os.lstat(os.path.join(path, shown))
            count += 1
            if count > MAX_ENTRIES:
                raise Refused(f"it holds more than {MAX_ENTRIES:,} files and folders")
            yield shown, st
            if stat.S_ISDIR(st.st_mode):
                if depth + 1 >= MAX_DEPTH:
                    raise Refused(f"{shown} is nested more than {MAX_DEPTH} folders deep")
                stack.append((shown, depth + 1))


def submission_secret(path):
    """The secret ``nbgrader submit`` wrote in the submission folder ``path``, or None when it is
    missing or not what nbgrader writes (128 hexadecimal digits)."""
    try:
        fd = os.open(os.path.join(path, "submission_secret.txt"), _OPEN)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        text = os.read(fd, 1024).decode("ascii", errors="replace").strip()
    finally:
        os.close(fd)
    return text if len(text) == 128 and set(text) <= _SECRET_DIGITS else None


# a file with a second name elsewhere: where the system lets users link files they cannot read
# (fs.protected_hardlinks = 0), it could be the solutions under a student's name
_HARD_LINK = "a hard link (the same file has another name elsewhere): a submission holds its own files"


def _not_plain(shown, st, hard_links=False):
    """Why the entry ``shown`` (its ``os.stat_result``) has no place in a submission, or None:
    anything but a file or a folder, or (unless ``hard_links``) a file with a second name."""
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return f"{shown} is {kind_of(st.st_mode)}: a submission holds only files and folders"
    if not hard_links and stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
        return f"{shown} is {_HARD_LINK}"
    return None


class Refused(Exception):
    """A submission that is not taken, with the reason (said to the instructor, with the names in
    it made printable: ``safe_display.printable``)."""

    def __str__(self):
        return printable(super().__str__())


def kind_of(mode):
    """What a file system entry is, in words, from its ``st_mode`` (for messages)."""
    return ("a link" if stat.S_ISLNK(mode) else "a folder" if stat.S_ISDIR(mode) else
            "a pipe" if stat.S_ISFIFO(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or
            stat.S_ISBLK(mode) else "not a file")


def _copy_open_file(fd, dest, limit):
    """Copy the open regular file ``fd`` to the new file ``dest``; returns its size."""
    size = 0
    with open(dest, "xb") as out:
        while True:
            block = os.read(fd, _CHUNK)
            if not block:
                return size
            size += len(block)
            if limit is not None and size > limit:
                raise Refused(f"it is larger than {limit // 1000:,} kB")
            out.write(block)


def copy_file(src, dest, max_bytes=None):
    """Copy the regular file ``src`` to ``dest`` (which must not exist) without following a link.

    Raises ``Refused`` when ``src`` is a link, a pipe, a device or a socket, or has more than
    ``max_bytes`` bytes. Returns the number of bytes copied.
    """
    try:
        fd = os.open(src, _OPEN)
    except OSError as exc:
        raise Refused(f"{os.path.basename(src)} could not be opened without following a link "
                      f"({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise Refused(f"{os.path.basename(src)} is {kind_of(mode)}, not a file")
        return _copy_open_file(fd, dest, max_bytes)
    finally:
        os.close(fd)


class Copied(NamedTuple):
    """What ``copy_folder`` copied: ``bytes`` in all, and when the latest of it ``changed``."""
    bytes: int
    changed: datetime.datetime


def copy_folder(src, dest, exclude=(), include=("*",), max_file_bytes=None, max_total_bytes=None,
                hard_links=False):
    """Copy the folder ``src`` to ``dest`` (which must not exist), never following a link.

    Every entry is opened relative to its already opened folder with O_NOFOLLOW, so a link put in
    place while the copy runs is refused too; so is a file with more than one name (a hard link),
    unless ``hard_links`` (for a folder the instructor made, e.g. with ``cp -al``). Names matching a glob of ``exclude`` are left out
    (files and folders), files matching no glob of ``include`` too, and files over
    ``max_file_bytes`` (as nbgrader's ``CourseDirectory.ignore``, ``include`` and
    ``max_file_size`` do). Raises ``Refused`` (and removes what was copied) when ``src`` or
    anything in it is a link, a pipe, a socket or a device, or all files together exceed
    ``max_total_bytes``. Returns ``Copied(bytes, changed)``: the number of bytes copied, and the
    latest status-change time (ctime, UTC) of the folders and files copied, read from each one
    as it was opened and again once it was read (no user can set a ctime back: what was copied
    was not written after it, whatever the submission's name or timestamp.txt claims).
    """
    try:
        top = os.open(src, _OPEN | _DIRECTORY)
    except OSError as exc:
        raise Refused(f"the folder could not be opened without following a link "
                      f"({exc.strerror})") from None
    total = [0]
    latest = [os.fstat(top).st_ctime]

    def copy_dir(fd, target, where):
        if where.count("/") >= MAX_DEPTH:
            raise Refused(f"{where.rstrip('/')} is nested more than {MAX_DEPTH} folders deep")
        os.mkdir(target)
        for name in sorted(os.listdir(fd)):
            before = os.stat(name, dir_fd=fd, follow_symlinks=False)
            mode, shown = before.st_mode, f"{where}{name}"
            why = _not_plain(shown, before, hard_links=True)    # hard links: checked once opened
            if why:
                raise Refused(why)
            if any(fnmatch.fnmatch(name, g) for g in exclude):
                continue
            try:
                child = os.open(name, _OPEN | (_DIRECTORY if stat.S_ISDIR(mode) else 0),
                                dir_fd=fd)
            except OSError as exc:   # swapped for a link (ELOOP) or something else since stat
                raise Refused(f"{shown} could not be opened without following a link "
                              f"({exc.strerror})") from None
            try:
                opened = os.fstat(child)
                latest[0] = max(latest[0], opened.st_ctime)
                if stat.S_ISDIR(opened.st_mode):
                    copy_dir(child, os.path.join(target, name), shown + "/")
                    latest[0] = max(latest[0], os.fstat(child).st_ctime)
                    continue
                why = _not_plain(shown, opened, hard_links)
                if why:
                    raise Refused(why)
                size = opened.st_size
                if (not any(fnmatch.fnmatch(name, g) for g in include)
                        or (max_file_bytes is not None and size > max_file_bytes)):
                    continue
                try:
                    total[0] += _copy_open_file(child, os.path.join(target, name), max_file_bytes)
                except Refused as exc:
                    raise Refused(f"{shown}: {exc}") from None
                # and again once read: a write made while the copy ran changed what was read
                latest[0] = max(latest[0], os.fstat(child).st_ctime)
                if max_total_bytes is not None and total[0] > max_total_bytes:
                    raise Refused(f"its files are larger than {max_total_bytes // 1000:,} kB together")
            finally:
                os.close(child)

    try:
        copy_dir(top, dest, "")
        latest[0] = max(latest[0], os.fstat(top).st_ctime)
    except OSError as exc:   # a folder or file the collecting user may not read, one that vanished
        shutil.rmtree(dest, ignore_errors=True)
        raise Refused(f"{exc.filename or 'an entry'} could not be copied ({exc.strerror})") from None
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    finally:
        os.close(top)
    return Copied(total[0], datetime.datetime.fromtimestamp(latest[0], datetime.timezone.utc))


def _owner_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"user id {uid}"


#: the longest timestamp.txt collect takes ("2026-12-03 18:18:47.346413 UTC", as nbgrader submit
#: writes it, has 30 characters); and the years a submission's time may name
MAX_TIMESTAMP = 64
YEARS = (2000, 2199)


def submission_timestamp(path):
    """The time written in the timestamp.txt at ``path``, as nbgrader reads it (naive UTC).

    Raises ``Refused`` when it is not what ``nbgrader submit`` writes: more than
    ``MAX_TIMESTAMP`` characters or any but printable ASCII ones (they would reach the
    instructor's terminal through nbgrader's own messages), a text nbgrader cannot read as a
    time (it then stops every later collect of the class, reading the collected copy), or a year
    outside ``YEARS``."""
    from nbgrader.utils import parse_utc
    with open(path, "rb") as f:
        raw = f.read(MAX_TIMESTAMP + 2)
    text = raw.strip()
    if len(text) > MAX_TIMESTAMP or len(raw) > MAX_TIMESTAMP + 1:
        raise Refused(f"its timestamp.txt is longer than {MAX_TIMESTAMP} characters, not a time "
                      f"nbgrader submit writes")
    if any(not 32 <= byte < 127 for byte in text) or not text:
        raise Refused(f"its timestamp.txt is '{printable(text.decode('latin-1'))}', not a time "
                      f"nbgrader submit writes")
    try:
        when = parse_utc(text.decode("ascii"))
    except Exception:            # ValueError, OverflowError, dateutil's own errors
        when = None
    if when is None or not YEARS[0] <= when.year <= YEARS[1]:
        raise Refused(f"its timestamp.txt is {text.decode('ascii')!r}, not a time nbgrader "
                      f"submit writes")
    return when


def refusal(path, student):
    """Why the exchange folder ``path``, handed in as ``student``'s, must not be collected, or None.

    Refused: a name that is not a student's (empty, "." or ".."); a folder that is a link, or that
    another user made (unless the user collecting made it); anything inside that is not a file or
    a folder (a link, a pipe, ...) or that another user put there (nbgrader leaves a submission's
    folder writable by all); more than ``MAX_ENTRIES`` entries or ``MAX_DEPTH`` levels; a
    submission without the files ``nbgrader submit`` writes beside the notebooks (a submit cut
    short, by a full disk say: its secret names the student's feedback, and nbgrader's
    ``release_feedback`` stops for the whole class where it is missing), or with a timestamp.txt
    that is not a time (``submission_timestamp``). Never raises.
    """
    if student in ("", ".", "..") or student.startswith("."):
        return f"{student!r} is not a student's name"
    try:
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            return f"it is {kind_of(st.st_mode)}, not a folder"
        if pwd is not None and st.st_uid != os.getuid():
            owner = _owner_name(st.st_uid)
            if owner != student:
                return f"it is handed in as {student!r} but was made by {owner!r}"
        for shown, entry in _walk(path):
            why = _not_plain(shown, entry)
            if why:
                return why
            if pwd is not None and entry.st_uid != st.st_uid:
                return (f"{shown} was put there by {_owner_name(entry.st_uid)!r}, not by "
                        f"{_owner_name(st.st_uid)!r}")
        missing = [name for name in NBGRADER_FILES if not os.path.isfile(os.path.join(path, name))]
        if missing:
            return (f"it has no {' and no '.join(missing)} (what nbgrader submit writes): a "
                    f"submission cut short")
        if submission_secret(path) is None:
            return "its submission_secret.txt is not the secret nbgrader submit writes"
        submission_timestamp(os.path.join(path, "timestamp.txt"))
    except Refused as exc:
        return str(exc)
    except (OSError, RecursionError, ValueError) as exc:
        return f"it could not be read ({getattr(exc, 'strerror', None) or type(exc).__name__})"
    return None


RECEIVED = "received-{assignment}.json"
#: what ``record_received`` keeps for a submission imported from a folder: no time it could check
IMPORTED = "imported from a folder"


def record_received(root, assignment, student, when):
    """Keep ``when`` as the time ``student``'s submission of ``assignment`` was received, in
    ``reports/received-<assignment>.json`` of the course (out of every student's reach); None
    forgets it (a submission brought in some other way), ``IMPORTED`` says it came from a folder
    (``make collect FROM=…``), where no time can be checked."""
    path = os.path.join(root, "reports", RECEIVED.format(assignment=assignment))
    try:
        with open(path, encoding="utf-8") as f:
            times = json.load(f)
    except (OSError, ValueError):
        times = {}
    if when is None:
        if student not in times:
            return
        times.pop(student)
    else:
        times[student] = when if when == IMPORTED else when.isoformat()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(times, f, indent=1, sort_keys=True)


def imported(root, assignment, student):
    """Whether ``student``'s submission of ``assignment`` was imported from a folder."""
    path = os.path.join(root, "reports", RECEIVED.format(assignment=assignment))
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get(student) == IMPORTED
    except (OSError, ValueError, AttributeError):
        return False


def received(root, assignment, student):
    """The time ``record_received`` kept for ``student``'s submission (aware UTC), or None."""
    path = os.path.join(root, "reports", RECEIVED.format(assignment=assignment))
    try:
        with open(path, encoding="utf-8") as f:
            return datetime.datetime.fromisoformat(json.load(f)[student])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class CollectOwnSubmissions(ExchangeCollect):
    """nbgrader's collect, taking only submissions their student made, copied without links.

    ``init_src`` is nbgrader's (the newest submission of each student, or the newest before the
    due date with ``--before-duedate``) with every submission first checked by ``refusal``;
    ``do_copy`` copies with ``copy_folder``. Refusals are logged as errors, one line each, and
    never stop the collection of the others.
    """

    def init_src(self):
        if self.coursedir.course_id == '':
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, 'inbound')
        if not os.path.isdir(self.inbound_path):
            self.fail("Course not found: {}".format(self.inbound_path))
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail("You don't have read permissions for the directory: {}".format(self.inbound_path))
        student_id = self.coursedir.student_id if self.coursedir.student_id else '*'
        pattern = os.path.join(self.inbound_path, '{}+{}+*'.format(student_id, self.coursedir.assignment_id))
        records = []
        for path in sorted(glob.glob(pattern)):
            name = os.path.basename(path)
            try:
                record = self._path_to_record(path)
            except (Exception, SystemExit):   # nbgrader's fail() exits; a bad name is one student's
                self.log.error(printable(f"not collected: {name}: its name is not "
                                         f"<student>+<assignment>+<time>+<random>"))
                continue
            why = refusal(path, record['username'])
            if why:
                self.log.error(printable(f"not collected: {name}: {why}"))
                continue
            records.append(record)
        usergroups = groupby(records, lambda item: item['username'])
        self.duedate = self._duedate()
        if self.duedate is None or not self.before_duedate:
            self.src_records = [self._sort_by_timestamp(v)[0] for v in usergroups.values()]
        else:
            self.src_records = []
            for v in usergroups.values():
                ordered = self._sort_by_timestamp(v)
                on_time = [r for r in ordered if r['timestamp'] <= self.duedate]
                self.src_records.append(on_time[0] if on_time else ordered[0])
        self.src_records = self._without_shared_secrets(self.src_records)

    def _without_shared_secrets(self, chosen):
        """The submissions to collect, without those whose secret another student's submission
        carries too: ``release_feedback`` names a feedback page after the secret alone, so one
        student's page would overwrite the other's, and be fetched by both. Said for each."""
        secrets = [submission_secret(os.path.join(self.inbound_path, r['filename'])) for r in chosen]
        holders = {}
        for record, secret in zip(chosen, secrets):
            holders.setdefault(secret, []).append(record['username'])
        kept = []
        for record, secret in zip(chosen, secrets):
            others = sorted(set(holders[secret]) - {record['username']})
            if others:
                self.log.error(printable(
                    f"not collected: {record['filename']}: it carries the same submission secret as "
                    f"the submission of {', '.join(others)} (one feedback page would be released "
                    f"for both): ask each of them to submit again"))
            else:
                kept.append(record)
        return kept

    def _duedate(self):
        from nbgrader.api import Gradebook, MissingEntry
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                return gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                return None

    def copy_files(self):
        """nbgrader's loop over the chosen submissions (the same messages), one student at a
        time: anything that goes wrong with one is logged, named, and the others are collected.
        The collected copy's timestamp.txt, read to see whether a submission is newer, counts as
        none when it is not a time (a copy collected before it was checked)."""
        cd = self.coursedir
        if not self.src_records:
            self.log.warning(f"No submissions of '{cd.assignment_id}' for course "
                             f"'{cd.course_id}' to collect")
            return
        self.log.info(f"Processing {len(self.src_records)} submissions of '{cd.assignment_id}' "
                      f"for course '{cd.course_id}'")
        for record in self.src_records:
            try:
                self._collect(record)
            except Exception as exc:     # one student's: never the class's
                self.log.error(printable(f"not collected: {record['filename']}: "
                                         f"{type(exc).__name__}: {exc}"))

    def _collect(self, record):
        cd, student = self.coursedir, record["username"]
        src = os.path.join(self.inbound_path, record["filename"])
        dest = cd.format_path(cd.submitted_directory, student, cd.assignment_id)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shown = printable(f"{student} {cd.assignment_id}")
        if os.path.isdir(dest):
            try:
                existing = submission_timestamp(os.path.join(dest, "timestamp.txt"))
            except (Refused, OSError):
                existing = None
            newer = existing is None or record["timestamp"] > existing
            if not ((self.update and newer)
                    or (self.before_duedate and existing != record["timestamp"])):
                self.log.info(f"No newer submission to collect: {shown}" if self.update else
                              f"Submission already exists, use --update to update: {shown}")
                return
            self.log.info(f"Updating submission: {shown}")
        else:
            self.log.info(f"Collecting submission: {shown}")
        self.do_copy(src, dest)

    def do_copy(self, src, dest, log=None):
        """Copy one submission with ``copy_folder`` under nbgrader's ignore, include and size
        settings, beside ``dest``; checked again once copied (the student may change it while it
        is copied), it then replaces what ``dest`` held, and the time it was received is kept.
        A refusal is logged, and leaves ``dest`` and the time kept for it as they were."""
        cd = self.coursedir
        incoming = dest.rstrip(os.sep) + ".collecting"
        shutil.rmtree(incoming, ignore_errors=True)
        try:
            copied = copy_folder(src, incoming, exclude=cd.ignore, include=cd.include,
                                 max_file_bytes=1000 * cd.max_file_size,
                                 max_total_bytes=1000 * cd.max_dir_size)
            if (any(not os.path.isfile(os.path.join(incoming, n)) for n in NBGRADER_FILES)
                    or submission_secret(incoming) is None):   # changed since ``refusal`` read it
                raise Refused("its timestamp.txt or submission_secret.txt went missing or changed "
                              "while it was collected")
            submission_timestamp(os.path.join(incoming, "timestamp.txt"))
        except (Refused, OSError, RecursionError) as exc:   # one student's: never the class's
            shutil.rmtree(incoming, ignore_errors=True)
            self.log.error(printable(f"not collected: {os.path.basename(src)}: {exc}"))
            return
        if cd.groupshared:                     # as nbgrader's own copy: the group may write too
            for folder, _, files in os.walk(incoming):
                os.chmod(folder, os.stat(folder).st_mode | 0o2770)
                for name in files:
                    path = os.path.join(folder, name)
                    os.chmod(path, os.stat(path).st_mode | 0o660)
        student = os.path.basename(os.path.dirname(os.path.normpath(dest)))
        # the later time first: should the swap below fail, the copy kept counts as received later
        record_received(cd.root, cd.assignment_id, student, copied.changed)
        if os.path.isdir(dest):
            replaced = incoming + "-replaced"
            shutil.rmtree(replaced, ignore_errors=True)
            os.rename(dest, replaced)
            os.rename(incoming, dest)
            shutil.rmtree(replaced, ignore_errors=True)
        else:
            os.rename(incoming, dest)
