"""Grading a whole class: discover submissions, grade them in parallel, record each as it finishes.

Stages: ``discover`` (nbgrader's layout, ``<root>/<student_id>/<assignment_id>/``
holding ``.py`` or ``.ipynb`` files) -> ``secure``: read (or create) the
course secret the cases are drawn from, and check the sandbox's protections,
refusing to go on without the kernel-level ones unless told to -> ``skip``
what the gradebook already holds for the same content, rubric version,
secret and grader fingerprint (:mod:`autograder.engine.fingerprint`: a changed
Hypothesis, NumPy, Python, rubric or package version regrades) -> ``grade``
in a process pool or on a Dask cluster -> ``record`` each result in the
gradebook, one transaction per submission, as it arrives -> ``date`` every
submission: its ``timestamp.txt``, due date, seconds late and late penalty
(:mod:`autograder.classroom.lateness`) -> ``export`` and ``report``, with a ``missing``
entry for each student of the roster without a submission.

The secret reaches the workers through the pool's initializer (or the Dask
task), never a command line or the environment, which other users of the
machine can read.

A run killed at any moment can be started again with the same command: it
grades only what is missing, and ends with the gradebook an uninterrupted
run would have written.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import multiprocessing
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from .. import rubrics
from ..engine.fingerprint import FINGERPRINT_KEYS, grader_fingerprint
from ..engine.grading import failed_result
from ..engine.results import Status, SubmissionResult
from ..engine.secret import (
    CLASS_SECRET_FILE,
    SecretError,
    current_secret,
    fingerprint_of,
    keep_from_students,
    read_or_create_secret,
    use_secret,
)
from ..engine.submission import SubmissionError, content_hash
from .gradebook import Gradebook, GradebookEntry, Student
from .lateness import LatePolicy, PenaltyPolicy, iso, late_penalty, parse_timestamp, read_timestamp

__all__ = [
    "BatchError",
    "WeakSandboxError",
    "Job",
    "BatchSummary",
    "discover",
    "grade_job",
    "machine_protections",
    "grade_class",
]


class BatchError(ValueError):
    """The batch cannot start: a wrong folder, no submissions, an unknown assignment."""


class WeakSandboxError(BatchError):
    """The sandbox lacks kernel-level protections on a grading machine; ``missing`` maps machine to names."""

    def __init__(self, message: str, missing: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class Job:
    """One submission to grade: a student's folder for one assignment."""

    student: str
    assignment: str
    path: str
    problem: str = ""  # set by discover when the folder itself cannot be graded


@dataclass
class BatchSummary:
    """What a batch run did, and where the results went."""

    jobs: int = 0
    graded: int = 0  # graded in this run, whatever the score
    skipped: int = 0  # already in the gradebook with the same content, rubric version, secret and grader fingerprint
    ungradable: int = 0
    internal_errors: int = 0
    ignored: list[str] = field(default_factory=list)  # folders of assignments without a rubric
    db_url: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    entries: list[GradebookEntry] = field(default_factory=list)  # the whole gradebook at the end
    secret_fingerprint: str = ""  # of the course secret the cases were drawn from ("" for public cases)
    secret_file: str = ""  # where that secret is kept ("" when given as bytes)
    protections: dict[str, dict[str, str]] = field(default_factory=dict)  # machine -> Sandbox.protections
    weak_sandbox: dict[str, list[str]] = field(default_factory=dict)  # machine -> kernel protections missing (allowed)
    missing: int = 0  # (student, assignment) of the class without a submission
    late: int = 0  # submissions after their due date
    timestamp_problems: list[str] = field(default_factory=list)  # "student/assignment: why its timestamp.txt was not read"
    grader_fingerprints: dict[str, dict] = field(default_factory=dict)  # assignment -> this machine's grader_fingerprint
    grader_mismatches: list[str] = field(default_factory=list)  # workers whose grader fingerprint is not this machine's

    @property
    def exit_code(self) -> int:
        """0 when every submission was graded (whatever the scores), 3 when the grader itself failed somewhere."""
        return 3 if self.internal_errors else 0


# --------------------------------------------------------------------------- discover


def discover(root: str | Path, *, assignment: str | None = None, student: str | None = None) -> tuple[list[Job], list[str]]:
    """Find ``<root>/<student_id>/<assignment_id>/`` folders; returns ``(jobs, ignored folders)``.

    Folders of assignments that have no rubric are returned as ignored
    (an nbgrader course may hold assignments graded otherwise).

    A submission is the student's own folder's content, never what a
    symbolic link leads to elsewhere: a student folder that is a symbolic
    link (it is always someone else's folder, or somewhere outside), and an
    assignment folder that leads outside its student's folder (to a
    classmate's, say), are ungradable jobs whose ``problem`` says so, as
    are files linking out of the assignment folder
    (`autograder.engine.submission.submission_files`). A link that stays inside the
    student's own folder (``alice/conv_layers -> alice/drafts/conv_layers``)
    is the student's own work and is graded. This holds for any root: a
    folder of submissions or nbgrader's ``submitted/``.
    """
    root = Path(root)
    if not root.exists():
        raise BatchError(f"{root}: no such folder; pass the folder that holds <student_id>/<assignment_id>/ submissions")
    if not root.is_dir():
        raise BatchError(f"{root}: expected a folder of submissions (<student_id>/<assignment_id>/), found a file")
    if assignment is not None:
        rubrics.get(assignment)  # a KeyError naming the known assignments
    jobs, ignored = [], []
    real_root = root.resolve()
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if student is not None and student_dir.name != student:
            continue
        own = real_root / student_dir.name  # where the student's folder really is, unless it is a link
        for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if assignment is not None and assignment_dir.name != assignment:
                continue
            if assignment_dir.name not in rubrics.ASSIGNMENTS:
                ignored.append(str(assignment_dir))
                continue
            jobs.append(Job(student_dir.name, assignment_dir.name, str(assignment_dir),
                            _linked_out(student_dir, assignment_dir, own)))
    if not jobs:
        narrowed = " ".join(f for f in (f"--assignment {assignment}" if assignment else "", f"--student {student}" if student else "") if f)
        raise BatchError(
            f"{root}: no submissions found{' for ' + narrowed if narrowed else ''}; expected folders "
            f"<student_id>/<assignment_id>/ holding .py or .ipynb files, with assignment_id one of "
            f"{', '.join(sorted(rubrics.ASSIGNMENTS))}"
        )
    return jobs, ignored


def _linked_out(student_dir: Path, assignment_dir: Path, own: Path) -> str:
    """Why a submission folder is not the student's own (a symbolic link leading out of it), or ``""``."""
    if student_dir.is_symlink():
        return (f"{student_dir}: the student's folder is a symbolic link, to {student_dir.resolve()}; "
                "a student's folder must hold the submission itself, not lead to another folder")
    try:
        target = assignment_dir.resolve(strict=True)
    except (OSError, RuntimeError):  # vanished, or a loop of links
        return f"{assignment_dir}: the folder cannot be followed to a real folder; submit the files themselves"
    if not target.is_relative_to(own):
        return (f"{assignment_dir}: a symbolic link that leads outside the student's folder, to {target}; "
                "submit the files themselves")
    return ""


# --------------------------------------------------------------------------- grade one


def _failed_result(job: Job, status: str, reason: str) -> SubmissionResult:
    return failed_result(job.path, rubrics.get(job.assignment), status, reason)


def fingerprint(path: str | Path, problem: str = "") -> str:
    """The content hash of a submission, or, where it cannot be read, a hash of its folder listing.

    Either way the same folder gives the same value, so a rerun can skip an
    unreadable submission it already recorded, and grades it again once it changes.
    A folder with a ``problem`` (see `discover`) is not read at all: its
    hash is the problem's, which names where its links lead.
    """
    if problem:
        return "ungradable:" + hashlib.sha256(problem.encode()).hexdigest()
    try:
        return content_hash(path)
    except SubmissionError:
        digest = hashlib.sha256(b"unreadable\0")
        for entry in sorted(Path(path).iterdir()) if Path(path).is_dir() else [Path(path)]:
            target = os.readlink(entry) if entry.is_symlink() else ""
            size = entry.lstat().st_size if entry.exists() or entry.is_symlink() else -1
            digest.update(f"{entry.name}\0{target}\0{size}\0".encode())
        return "unreadable:" + digest.hexdigest()


@functools.cache
def machine_protections() -> dict[str, str]:
    """This machine's ``Sandbox.protections`` (one sandbox started, once per process)."""
    from ..sandbox import probe_protections

    return probe_protections()


def _probe() -> dict[str, str]:
    """A Dask task: the worker's machine and protections (``client.run`` names the worker)."""
    return {"machine": socket.gethostname(), **machine_protections()}


def grade_job(job: Job, examples: int | None = None, secret: bytes | None = None) -> dict:
    """Grade one submission; never raises. Returns a :class:`GradebookEntry` as a dict (it crosses processes).

    ``secret`` is the course secret to draw the cases from; by default the
    one this process was given (the pool's initializer calls :func:`use_secret`).
    """
    from ..engine.grading import grade  # imported here: a worker pays for torch once, the parent not at all

    spec = rubrics.get(job.assignment)
    secret = current_secret() if secret is None else secret
    start = time.perf_counter()
    try:
        digest = fingerprint(job.path, job.problem)
        if job.problem:
            raise SubmissionError(job.problem)
        content_hash(job.path)  # unreadable: a SubmissionError with the reason, before any grading
        result = grade(job.path, assignment=job.assignment, examples=examples, secret=secret)
    except SubmissionError as error:
        result = _failed_result(job, Status.UNGRADABLE, str(error))
    except Exception as error:  # a bug of ours: recorded as such, and the batch goes on
        digest = locals().get("digest", "unknown")
        result = _failed_result(job, Status.INTERNAL_ERROR, f"{type(error).__name__}: {error}")
        result.traceback = traceback.format_exc(limit=8)
    result.path = job.path
    grader = _grader_record(spec, examples)
    return GradebookEntry(
        student=job.student,
        assignment=job.assignment,
        content_hash=digest,
        rubric_version=spec.version,
        status=result.status,
        points=result.points,
        max_points=result.max_points,
        seconds=round(time.perf_counter() - start, 3),
        error=result.error,
        result=result.to_dict(),
        secret_fingerprint=fingerprint_of(secret),
        grader=grader,
        grader_fingerprint=grader.get("digest", ""),
    ).to_dict()


def _grader_record(spec, examples: int | None) -> dict:
    """What graded an entry, for ``GradebookEntry.grader``: this process's grader fingerprint, machine and sandbox protections."""
    try:
        protections = machine_protections()
    except Exception as error:  # the sandbox does not start here: the entry says so, the grading itself did
        protections = {"sandbox": f"unavailable ({type(error).__name__}: {error})"}
    try:
        fingerprint = grader_fingerprint(spec, examples=examples)
    except Exception as error:  # no digest: the row is graded again by the next run, and says why
        fingerprint = {"fingerprint": f"unavailable ({type(error).__name__}: {error})"}
    return {**fingerprint, "machine": socket.gethostname(), "protections": protections}


# --------------------------------------------------------------------------- run many


def _start_worker(secret: bytes, kept: tuple[str, ...]) -> None:
    """A pool worker's initializer: the run's course secret, and its file kept from every sandbox."""
    use_secret(secret)
    keep_from_students(*kept)


def _pool_results(jobs: list[Job], workers: int, examples: int | None, *, secret: bytes = b"",
                  kept: tuple[str, ...] = (), run: Callable[[Job, int | None], dict] | None = None) -> Iterator[dict]:
    """Grade ``jobs`` in a process pool, yielding entries as they finish.

    Each worker receives the course ``secret`` once, through the pool's
    initializer (pickled down a pipe, not on a command line), with the
    files to keep from the sandboxes (``kept``: the secret's file).

    At most ``workers`` jobs are handed to the pool at once, so the jobs in
    flight are exactly the ones running. A worker that dies (killed by the
    OS, say) breaks the pool: it is started again, and only the jobs that
    were running can be to blame. If one job alone was running, it gets a
    strike; if several were, none can be told from the others, so each is
    run again alone before anything else. A job with two strikes is
    recorded as an internal error; every other job is graded as if nothing
    had happened: a submission that kills its worker never costs the
    students queued behind it.

    ``run`` grades one job (default :func:`grade_job`; tests pass one that
    kills its worker). It must be importable by the workers.
    """
    run = run or grade_job
    waiting = collections.deque(jobs)  # not yet handed to a pool
    suspects: collections.deque[Job] = collections.deque()  # running when a pool broke with others: run alone
    strikes: dict[Job, int] = {}
    context = multiprocessing.get_context("forkserver")
    while waiting or suspects:
        running: dict = {}  # future -> job
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                                 initargs=(secret, kept)) as pool:
            try:
                while waiting or suspects or running:
                    if suspects and not running:  # a suspect runs with nothing beside it
                        _submit(pool, run, suspects, examples, running)
                    while not suspects and waiting and len(running) < workers:
                        _submit(pool, run, waiting, examples, running)
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    finished = [future for future in done if not isinstance(future.exception(), BrokenProcessPool)]
                    for future in finished:
                        del running[future]
                        yield future.result()
                    if len(finished) < len(done):
                        break  # the pool is broken: what still runs is lost
            except BrokenProcessPool:  # from submit: it broke between two jobs
                pass
        if len(running) > 1:  # which one killed its worker cannot be told: each runs again alone
            suspects.extend(running.values())
            continue
        for job in running.values():
            strikes[job] = strikes.get(job, 0) + 1
            if strikes[job] >= 2:
                failed = _failed_result(job, Status.INTERNAL_ERROR, "the grading worker died twice on this submission")
                yield _entry_for(job, failed)
            else:
                suspects.appendleft(job)


def _submit(pool: ProcessPoolExecutor, run: Callable, queue: collections.deque, examples: int | None,
            running: dict) -> None:
    """Hand the first job of ``queue`` to ``pool``; taken from the queue only once the pool has it."""
    future = pool.submit(run, queue[0], examples)
    running[future] = queue.popleft()


def _entry_for(job: Job, result: SubmissionResult) -> dict:
    return GradebookEntry(
        student=job.student,
        assignment=job.assignment,
        content_hash="unknown",
        rubric_version=rubrics.get(job.assignment).version,
        status=result.status,
        points=result.points,
        max_points=result.max_points,
        error=result.error,
        result=result.to_dict(),
    ).to_dict()


def _dask_results(jobs: list[Job], address: str, examples: int | None, *, secret: bytes = b"",
                  run: Callable[..., dict] | None = None) -> Iterator[dict]:
    """Grade ``jobs`` on an existing Dask distributed cluster, yielding entries as they finish.

    The secret travels with each task, over the cluster's own connections.
    Dask runs again the tasks a dying worker was running, and gives up on
    one after the scheduler's ``allowed-failures`` deaths (``KilledWorker``):
    that job alone is recorded as an internal error, the others go on.
    """
    from distributed import Client, as_completed

    with Client(address, set_as_default=False) as client:
        futures = client.map(run or grade_job, jobs, examples=examples, secret=secret, pure=False)
        job_of = dict(zip(futures, jobs))
        for future in as_completed(futures, loop=client.loop):
            if future.status == "error":
                job, error = job_of[future], future.exception()
                failed = _failed_result(job, Status.INTERNAL_ERROR, f"the grading worker failed on this submission "
                                                               f"({type(error).__name__}: {error})")
                yield _entry_for(job, failed)
            else:
                yield future.result()


def grade_class(
    root: str | Path,
    *,
    out: str | Path = "grades",
    db: str | None = None,
    assignment: str | None = None,
    student: str | None = None,
    workers: int | None = None,
    dask: str | None = None,
    regrade: bool = False,
    examples: int | None = None,
    export: bool = True,
    progress: Callable[[str, GradebookEntry | None], None] | None = None,
    secret: bytes | None = None,
    secret_file: str | Path | None = None,
    allow_weak_sandbox: bool = False,
    due_dates: dict[str, datetime | None] | None = None,
    extensions: dict[tuple[str, str], timedelta] | None = None,
    late_policy: PenaltyPolicy = LatePolicy(),
    roster: list[Student] | None = None,
) -> BatchSummary:
    """Grade every submission under ``root`` into a gradebook, then export and report.

    Parameters
    ----------
    root : str or Path
        nbgrader's layout: ``<root>/<student_id>/<assignment_id>/`` with ``.py`` or ``.ipynb`` files.
    out : str or Path
        Folder for the gradebook (``gradebook.db``), exports and the report.
    db : str, optional
        Another gradebook: a path, or an SQLAlchemy URL.
    assignment, student : str, optional
        Grade only this assignment / this student.
    workers : int, optional
        Processes grading at once; default: the number of cores.
    dask : str, optional
        Address of a Dask distributed scheduler to grade on instead of the local pool.
    regrade : bool
        Grade again what the gradebook already holds for the same content, rubric, secret and grader
        fingerprint (without it, only what differs in one of them is graded again).
    examples : int, optional
        Cases per check (default: the rubric's).
    export : bool
        Write the exports (CSV, JSON, Gradescope, feedback) and the HTML report at the end.
    progress : callable, optional
        Called as ``progress("start", None)`` once the jobs are known, with
        ``progress.total`` set on the callable if it has such an attribute,
        then ``progress("graded"|"skipped", entry)`` for each submission.
    secret : bytes, optional
        The course secret the graded cases are drawn from; ``b""`` draws the
        public cases of ``autograder check``. By default it is read from
        ``secret_file``, created there at first use.
    secret_file : str or Path, optional
        Where the course secret is kept; default ``out/.secret`` (:data:`autograder.engine.secret.CLASS_SECRET_FILE`).
    allow_weak_sandbox : bool
        Grade even where the sandbox lacks kernel-level protections
        (:data:`autograder.sandbox.KERNEL_PROTECTIONS`); the summary records which.
    due_dates : dict, optional
        ``{assignment: due date}`` (naive UTC, as nbgrader keeps them; a string
        is read as nbgrader reads timestamps). An assignment left out keeps the
        due date the gradebook holds from an earlier run; one without any
        submission yet is not part of the class (no one is missing it).
    extensions : dict, optional
        ``{(assignment, student): extension}`` added to that student's due date (nbgrader's extensions).
    late_policy : LatePolicy or nbgrader late-submission plugin
        The penalty of a late submission (default: none, lateness only recorded).
    roster : list of Student, optional
        The class; replaces the roster the gradebook holds. Students of the
        roster (and anyone who submitted some assignment) without a
        submission get a ``missing`` entry in the exports and the report.

    Raises
    ------
    BatchError
        Nothing to grade, a wrong folder, an unreadable secret file.
    WeakSandboxError
        A grading machine lacks kernel-level protections and ``allow_weak_sandbox`` is false.
    """
    start = time.perf_counter()
    out = Path(out)
    jobs, ignored = discover(root, assignment=assignment, student=student)
    summary = BatchSummary(jobs=len(jobs), ignored=ignored)
    if secret is None:
        summary.secret_file = str(secret_file or out / CLASS_SECRET_FILE)
        try:
            secret = read_or_create_secret(summary.secret_file)
        except SecretError as error:
            raise BatchError(str(error)) from None

    summary.secret_fingerprint = fingerprint_of(secret)
    summary.grader_fingerprints = {name: grader_fingerprint(rubrics.get(name), examples=examples)
                                   for name in sorted({job.assignment for job in jobs})}
    due_dates = _due_dates(due_dates or {})
    with Gradebook(db or out / "gradebook.db") as book:
        summary.db_url = book.url
        if roster is not None:
            book.set_roster(roster)
        known = book.assignments()
        for name in sorted({job.assignment for job in jobs} | (set(due_dates) & set(known))):
            # An assignment joins the class with its first submission: one released but not yet
            # handed in (nbgrader knows it) would otherwise show every student as missing.
            book.set_assignment(name, iso(due_dates[name]) if name in due_dates else known.get(name, ""))
        todo = []
        for job in jobs:
            if not regrade and _already_graded(book, job, summary.secret_fingerprint,
                                               summary.grader_fingerprints[job.assignment]["digest"]):
                summary.skipped += 1
                if progress:
                    progress("skipped", None)
            else:
                todo.append(job)
        if todo:
            summary.protections = _protections(dask)
            _refuse_weak_sandbox(summary, allow_weak_sandbox)
        if progress:
            progress("start", len(todo))
        source: Iterable[dict]
        if dask:
            source = _dask_results(todo, dask, examples, secret=secret)
        else:
            kept = (summary.secret_file,) if summary.secret_file else ()
            source = _pool_results(todo, workers or os.cpu_count() or 1, examples, secret=secret, kept=kept) if todo else ()
        for data in source:
            entry = GradebookEntry.from_dict(data)
            book.record(entry)
            _note_mismatch(summary, entry)
            summary.graded += 1
            summary.ungradable += entry.status == Status.UNGRADABLE
            summary.internal_errors += entry.status == Status.INTERNAL_ERROR
            if progress:
                progress("graded", entry)
        _date(book, jobs, late_policy, extensions or {}, summary)
        summary.entries = book.entries(missing=True)
        summary.missing = sum(entry.status == Status.MISSING for entry in summary.entries)
    if export:
        summary.outputs = write_outputs(summary.entries, out)
    summary.seconds = time.perf_counter() - start
    return summary


def _due_dates(given: dict[str, datetime | str | None]) -> dict[str, datetime | None]:
    """Due dates as naive UTC, for assignments that have a rubric."""
    dates = {}
    for name, due in given.items():
        rubrics.get(name)  # a KeyError naming the known assignments
        try:
            dates[name] = None if due is None or due == "" else parse_timestamp(due)
        except ValueError as error:
            raise BatchError(f"due date of {name}: {error}; write it as 2024-03-01 23:59 (UTC) or with a zone, "
                             "2024-03-01 23:59:00 America/New_York") from None
    return dates


def _date(book: Gradebook, jobs: list[Job], policy: PenaltyPolicy, extensions: dict[tuple[str, str], timedelta],
          summary: BatchSummary) -> None:
    """Record each submission's timestamp, due date, seconds late and penalty, as nbgrader's autograde does.

    Done for every submission of the run, graded now or before, so a due
    date, extension or policy changed since is applied on the next run.
    An internal error gets no penalty: its score is not the student's.
    """
    recorded = {(entry.student, entry.assignment): entry for entry in book.entries()}
    due_dates = book.assignments()
    for job in jobs:
        entry = recorded.get((job.student, job.assignment))
        if entry is None:
            continue
        stamp, problem = read_timestamp(job.path) if not job.problem else (None, "")
        if problem:
            summary.timestamp_problems.append(f"{job.student}/{job.assignment}: {problem}")
        due = parse_timestamp(due_dates[job.assignment]) if due_dates.get(job.assignment) else None
        if due is not None and (job.assignment, job.student) in extensions:
            due += extensions[job.assignment, job.student]
        score = entry.points if entry.status != Status.INTERNAL_ERROR else 0.0
        seconds_late, penalty = late_penalty(policy, job.student, score, stamp, due)
        summary.late += seconds_late > 0
        values = {"timestamp": iso(stamp), "due_date": iso(due), "seconds_late": seconds_late, "late_penalty": penalty}
        if any(getattr(entry, name) != value for name, value in values.items()):
            book.set_lateness(job.student, job.assignment, **values)


def _already_graded(book: Gradebook, job: Job, secret_fingerprint: str, grader_digest: str) -> bool:
    version = rubrics.get(job.assignment).version
    return book.is_graded(job.student, job.assignment, fingerprint(job.path, job.problem), version, secret_fingerprint,
                          grader_fingerprint=grader_digest)


def _note_mismatch(summary: BatchSummary, entry: GradebookEntry) -> None:
    """Note, once per machine and fingerprint, a worker that graded with another grader fingerprint than this machine's.

    The row keeps the worker's fingerprint (what really drew its cases), so
    the next run, which compares with this machine's, grades it again: a
    cluster with mixed versions never passes for a consistent one.
    """
    expected = summary.grader_fingerprints.get(entry.assignment, {})
    machine = entry.grader.get("machine", "a worker")
    if not entry.grader_fingerprint:
        if entry.grader.get("fingerprint"):  # the worker could not compute it: say so, or it would regrade silently
            line = (f"{machine} could not compute its grader fingerprint for {entry.assignment} "
                    f"({entry.grader['fingerprint']}): its submissions are graded again by every run")
            if line not in summary.grader_mismatches:
                summary.grader_mismatches.append(line)
        return  # else a stand-in made here (the worker died): graded again anyway
    if entry.grader_fingerprint == expected.get("digest"):
        return
    differences = ", ".join(f"{key} {entry.grader.get(key)} there, {expected.get(key)} here"
                            for key in FINGERPRINT_KEYS[:-1] if entry.grader.get(key) != expected.get(key))
    line = (f"{machine} graded {entry.assignment} with grader fingerprint {entry.grader_fingerprint}, this machine's is "
            f"{expected.get('digest')} ({differences}): its cases may differ, and every run grades its submissions again "
            f"until the workers have this machine's versions")
    if line not in summary.grader_mismatches:
        summary.grader_mismatches.append(line)


def _protections(dask: str | None) -> dict[str, dict[str, str]]:
    """Each grading machine's ``Sandbox.protections``: this one, or every worker of the Dask cluster."""
    if not dask:
        try:
            return {socket.gethostname(): machine_protections()}
        except Exception as error:  # no sandbox starts here at all: every protection is missing
            return {socket.gethostname(): {"sandbox": f"unavailable ({type(error).__name__}: {error})"}}
    from distributed import Client

    with Client(dask, set_as_default=False) as client:
        reported = client.run(_probe)
    machines: dict[str, dict[str, str]] = {}
    for _worker, protections in sorted(reported.items()):
        machine = protections.pop("machine")
        machines.setdefault(machine, protections)  # per machine: its workers share its kernel
    return machines


def _refuse_weak_sandbox(summary: BatchSummary, allowed: bool) -> None:
    """Stop before grading where a machine lacks a kernel-level protection, unless ``allowed``."""
    from ..sandbox.protections import missing_kernel_protections, weak_sandbox_message

    missing = {machine: missing_kernel_protections(protections) for machine, protections in summary.protections.items()}
    missing = {machine: names for machine, names in missing.items() if names}
    if missing and not allowed:
        raise WeakSandboxError(weak_sandbox_message(missing, summary.protections), missing)
    summary.weak_sandbox = missing


def write_outputs(entries: list[GradebookEntry], out: Path) -> dict[str, str]:
    """Every output of :data:`autograder.outputs.exports.WRITERS` (the exports, the class report) from the gradebook; ``{what: path}``."""
    from ..outputs.exports import WRITERS, export_all

    return {name: str(path) for name, path in export_all(entries, out, formats=tuple(WRITERS)).items()}
